/*
 * nl_doctor.c - preflight checks: raw-socket and capture privilege, interfaces
 * (MTU, checksum/segmentation offloads through the SIOCETHTOOL ioctl), the
 * ephemeral port range, network namespace creation, tools on PATH. Reads and
 * tries; changes nothing on the host.
 */
#include "netlab/nl_doctor.h"
#include "netlab/nl_capture.h"
#include "netlab/nl_inject.h"
#include "nl_internal.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct list {
    struct nl_check *v;
    size_t n, cap;
};

static void add(struct list *l, const char *topic, int status, const char *fix, const char *fmt, ...) NL_PRINTF(5, 6);
static void add(struct list *l, const char *topic, int status, const char *fix, const char *fmt, ...)
{
    if (NL_GROW(l->v, l->n, l->cap, 32) < 0)
        return;
    struct nl_check *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->topic, sizeof c->topic, "%s", topic);
    c->status = status;
    snprintf(c->fix, sizeof c->fix, "%s", fix ? fix : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

const char *nl_check_status_name(int status)
{
    switch (status) {
    case NL_CHECK_OK: return "OK";
    case NL_CHECK_INFO: return "INFO";
    case NL_CHECK_WARN: return "WARN";
    default: return "FAIL";
    }
}

static int ethtool_value(int fd, const char *ifname, uint32_t cmd, uint32_t *value)
{
    struct ethtool_value ev = {.cmd = cmd};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = (void *)&ev;
    if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
        return -1;
    *value = ev.data;
    return 0;
}

static int on_path(const char *tool)
{
    const char *path = getenv("PATH");
    char buf[512];
    if (!path)
        path = "/usr/bin:/bin";
    const char *extra[] = {"/usr/sbin", "/sbin"};
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, tool);
        if (access(buf, X_OK) == 0)
            return 1;
        path += n + (end ? 1 : 0);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(buf, sizeof buf, "%s/%s", extra[i], tool);
        if (access(buf, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* Can this process make a network namespace? Try in a child, which exits at once. */
static int can_unshare_net(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0)
        _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int nl_doctor_run(const char *exe, struct nl_check **out, size_t *n, char *errbuf)
{
    struct list l = {0};
    char fix[256];
    const char *prog = exe && *exe ? exe : "PROGRAM";

    /* Privileges. */
    snprintf(fix, sizeof fix, "run as root, or: sudo setcap cap_net_raw,cap_net_admin+ep %s", prog);
    if (nl_can_inject())
        add(&l, "raw sockets", NL_CHECK_OK, NULL, "this process can open raw IPv4 sockets (CAP_NET_RAW): injection works");
    else
        add(&l, "raw sockets", NL_CHECK_FAIL, fix, "no CAP_NET_RAW: injection will fail; --write works without it");
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_create("any", perr);
    int act = p ? pcap_activate(p) : PCAP_ERROR;
    if (act >= 0)
        add(&l, "capture", NL_CHECK_OK, NULL, "libpcap can capture on 'any' (%s)", pcap_lib_version());
    else if (act == PCAP_ERROR_PERM_DENIED)
        add(&l, "capture", NL_CHECK_FAIL, fix, "libpcap may not capture: CAP_NET_RAW and CAP_NET_ADMIN are missing");
    else
        add(&l, "capture", NL_CHECK_FAIL, "check that libpcap is installed (libpcap0.8)", "libpcap cannot open 'any': %s",
            p ? pcap_geterr(p) : perr);
    if (p)
        pcap_close(p);

    /* Interfaces: MTU and offloads. */
    struct nl_iface *ifs = NULL;
    size_t nifs = 0;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (nl_capture_interfaces(&ifs, &nifs, NULL) == 0) {
        for (size_t i = 0; i < nifs; i++) {
            const char *name = ifs[i].name;
            if (strcmp(name, "any") == 0 || !if_nametoindex(name))
                continue; /* libpcap's pseudo devices (nflog, nfqueue, dbus-*, bluetooth-monitor) are no netdevs */
            struct ifreq ifr;
            memset(&ifr, 0, sizeof ifr);
            snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%.15s", name);
            int mtu = sock >= 0 && ioctl(sock, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : -1;
            uint32_t tx = 0, rx = 0, tso = 0, gso = 0, gro = 0;
            int have_tx = sock >= 0 && ethtool_value(sock, name, ETHTOOL_GTXCSUM, &tx) == 0;
            int have_rx = sock >= 0 && ethtool_value(sock, name, ETHTOOL_GRXCSUM, &rx) == 0;
            int have_tso = sock >= 0 && ethtool_value(sock, name, ETHTOOL_GTSO, &tso) == 0;
            int have_gso = sock >= 0 && ethtool_value(sock, name, ETHTOOL_GGSO, &gso) == 0;
            int have_gro = sock >= 0 && ethtool_value(sock, name, ETHTOOL_GGRO, &gro) == 0;
            char topic[32], offl[160] = "";
            snprintf(topic, sizeof topic, "interface %.15s", name);
            size_t k = 0;
#define OFF(have, v, label) \
    if (have && k < sizeof offl) k += (size_t)snprintf(offl + k, sizeof offl - k, "%s%s %s", k ? ", " : "", label, v ? "on" : "off")
            OFF(have_tx, tx, "tx-checksum");
            OFF(have_rx, rx, "rx-checksum");
            OFF(have_tso, tso, "TSO");
            OFF(have_gso, gso, "GSO");
            OFF(have_gro, gro, "GRO");
#undef OFF
            char f2[200], f3[160];
            snprintf(f2, sizeof f2, "to see finished checksums in captures of sent packets: sudo ethtool -K %.15s tx off "
                     "(netlab analyze reports offload, not corruption, either way)", name);
            snprintf(f3, sizeof f3, "to see wire-sized segments: sudo ethtool -K %.15s tso off gso off gro off", name);
            if (!ifs[i].up) {
                add(&l, topic, NL_CHECK_INFO, NULL, "down, MTU %d (not used unless you bring it up)", mtu);
                continue;
            }
            add(&l, topic, NL_CHECK_OK, NULL,
                "up, MTU %d, addresses: %s; offloads: %s", mtu,
                ifs[i].addresses[0] ? ifs[i].addresses : "none", offl[0] ? offl : "not reported");
            if (have_tx && tx)
                add(&l, topic, NL_CHECK_INFO, f2,
                    "checksum offload is on: captures taken on this host show outgoing TCP/UDP checksums unfinished");
            if ((have_tso && tso) || (have_gro && gro))
                add(&l, topic, NL_CHECK_INFO, f3,
                    "segmentation offload is on: captures may show segments larger than the MTU");
        }
        free(ifs);
    } else {
        add(&l, "interfaces", NL_CHECK_WARN, "install libpcap and run as root", "libpcap could not list interfaces");
    }
    if (sock >= 0)
        close(sock);

    /* Ephemeral ports. */
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 0, hi = 0;
    if (f && fscanf(f, "%d %d", &lo, &hi) == 2)
        add(&l, "ephemeral ports", NL_CHECK_OK, NULL,
            "clients get source ports %d-%d (net.ipv4.ip_local_port_range): %d ports", lo, hi, hi - lo + 1);
    else
        add(&l, "ephemeral ports", NL_CHECK_WARN, NULL, "could not read /proc/sys/net/ipv4/ip_local_port_range");
    if (f)
        fclose(f);

    /* Namespaces. */
    if (can_unshare_net() && on_path("ip") && geteuid() == 0)
        add(&l, "namespaces", NL_CHECK_OK, NULL, "network namespaces can be created (netlab lab can build two hosts)");
    else if (can_unshare_net() && on_path("ip"))
        add(&l, "namespaces", NL_CHECK_WARN, "run netlab lab with sudo",
            "this process may make namespaces, but netlab lab also names them under /run/netns: it needs root");
    else if (!on_path("ip"))
        add(&l, "namespaces", NL_CHECK_FAIL, "install iproute2", "the ip command is missing");
    else
        add(&l, "namespaces", NL_CHECK_FAIL, "run netlab lab as root (sudo)",
            "creating a network namespace failed: needs CAP_SYS_ADMIN");

    /* Tools. */
    static const struct { const char *tool, *pkg, *why; } tools[] = {
        {"tshark", "tshark", "the independent checker of captures"},
        {"tcpdump", "tcpdump", "a second capture tool"},
        {"nft", "nftables", "netlab lab suppresses the kernel's resets in its namespace"},
        {"ncat", "ncat", "a plain client for the servers"},
        {"nc", "netcat-openbsd", "a plain client for the servers"},
        {"chromium", "chromium", "renders the lab report in the tests"},
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        char topic[32], tfix[128];
        snprintf(topic, sizeof topic, "tool %s", tools[i].tool);
        snprintf(tfix, sizeof tfix, "sudo apt-get install %s (or scripts/install-deps.sh)", tools[i].pkg);
        if (on_path(tools[i].tool))
            add(&l, topic, NL_CHECK_OK, NULL, "installed (%s)", tools[i].why);
        else
            add(&l, topic, NL_CHECK_WARN, tfix, "not installed (%s)", tools[i].why);
    }
    if (!l.v)
        return nl_err(errbuf, NL_ENOMEM, "doctor: out of memory");
    *out = l.v;
    *n = l.n;
    return (int)l.n;
}
