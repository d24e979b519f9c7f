/*
 * nl_labnet.c - the lab's namespace pair through iproute2 (`ip netns`, `ip link
 * add ... type veth`), its removal, and the sweep of pairs left by crashed runs.
 * Runs `ip` through nl_proc; signals only processes inside its own namespaces.
 * Also impairs the pair (loss, rate, delay) with netem, or tbf + nftables where
 * the kernel has no netem, and removes the impairment again. A third namespace
 * can hang off the client one (the cluster lab).
 */
#include "netlab/nl_labnet.h"
#include "netlab/nl_proc.h"
#include "nl_internal.h"
#include "nl_proc_int.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each tool run has this deadline, and runs to its end even after a stop request (Ctrl-C): a
 * namespace, qdisc or rule is never left half made or half removed. */
#define IP_TIMEOUT 20.0

static int run_tool(char *errbuf, const char *what, const char *netns, const char *const argv[], char *out, size_t cap);

/* Run `ip ARGS...`; on failure errbuf gets "what: ip: ip's message". */
static int ip(char *errbuf, const char *what, ...)
{
    const char *argv[24];
    int n = 0;
    argv[n++] = "ip";
    va_list ap;
    va_start(ap, what);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 23)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return run_tool(errbuf, what, NULL, argv, NULL, 0);
}

int nl_can_create_netns(void) { return geteuid() == 0; }

int nl_labnet_create(struct nl_labnet *n, int tag, char *errbuf)
{
    memset(n, 0, sizeof *n);
    if (!nl_can_create_netns())
        return nl_err(errbuf, NL_EPERM, "creating network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run with sudo");
    int pid = (int)getpid();
    snprintf(n->ns_client, sizeof n->ns_client, NL_LABNET_PREFIX "%d-%d-c", pid, tag);
    snprintf(n->ns_server, sizeof n->ns_server, NL_LABNET_PREFIX "%d-%d-s", pid, tag);
    snprintf(n->if_client, sizeof n->if_client, "nlc%d%d", pid % 1000000, tag % 10);
    snprintf(n->if_server, sizeof n->if_server, "nls%d%d", pid % 1000000, tag % 10);
    static const uint8_t c[4] = {10, 99, 0, 1}, s[4] = {10, 99, 0, 2};
    memcpy(n->ip_client, c, 4);
    memcpy(n->ip_server, s, 4);
    int rc;
    if ((rc = ip(errbuf, "creating the client namespace", "netns", "add", n->ns_client, NULL)) < 0)
        goto fail;
    n->created = 1;
    if ((rc = ip(errbuf, "creating the server namespace", "netns", "add", n->ns_server, NULL)) < 0)
        goto fail;
    n->created = 2;
    if ((rc = ip(errbuf, "creating the veth pair", "link", "add", n->if_client, "netns", n->ns_client, "type", "veth",
                 "peer", "name", n->if_server, "netns", n->ns_server, NULL)) < 0 ||
        (rc = ip(errbuf, "addressing the client", "-n", n->ns_client, "addr", "add", "10.99.0.1/24", "dev", n->if_client,
                 NULL)) < 0 ||
        (rc = ip(errbuf, "addressing the server", "-n", n->ns_server, "addr", "add", "10.99.0.2/24", "dev", n->if_server,
                 NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up loopback", "-n", n->ns_client, "link", "set", "lo", "up", NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up loopback", "-n", n->ns_server, "link", "set", "lo", "up", NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up the client's veth", "-n", n->ns_client, "link", "set", n->if_client, "up", NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up the server's veth", "-n", n->ns_server, "link", "set", n->if_server, "up", NULL)) < 0)
        goto fail;
    return 0;
fail:
    nl_labnet_destroy(n, NULL);
    return rc;
}

static void kill_inside(const char *name);

int nl_labnet_add_third(struct nl_labnet *n, int tag, char *errbuf)
{
    if (n->created < 2)
        return nl_err(errbuf, NL_EINVAL, "adding a third host: create the pair first");
    if (n->created >= 3)
        return 0;
    int pid = (int)getpid();
    snprintf(n->ns_third, sizeof n->ns_third, NL_LABNET_PREFIX "%d-%d-t", pid, tag);
    snprintf(n->if_client2, sizeof n->if_client2, "nlx%d%d", pid % 1000000, tag % 10);
    snprintf(n->if_third, sizeof n->if_third, "nlt%d%d", pid % 1000000, tag % 10);
    static const uint8_t c[4] = {10, 99, 2, 1}, t[4] = {10, 99, 2, 2};
    memcpy(n->ip_client2, c, 4);
    memcpy(n->ip_third, t, 4);
    int rc;
    if ((rc = ip(errbuf, "creating the third namespace", "netns", "add", n->ns_third, NULL)) < 0)
        return rc;
    n->created = 3;
    if ((rc = ip(errbuf, "creating the second veth pair", "link", "add", n->if_client2, "netns", n->ns_client, "type",
                 "veth", "peer", "name", n->if_third, "netns", n->ns_third, NULL)) < 0 ||
        (rc = ip(errbuf, "addressing the client's second veth", "-n", n->ns_client, "addr", "add", "10.99.2.1/24", "dev",
                 n->if_client2, NULL)) < 0 ||
        (rc = ip(errbuf, "addressing the third host", "-n", n->ns_third, "addr", "add", "10.99.2.2/24", "dev",
                 n->if_third, NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up loopback", "-n", n->ns_third, "link", "set", "lo", "up", NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up the client's second veth", "-n", n->ns_client, "link", "set", n->if_client2, "up",
                 NULL)) < 0 ||
        (rc = ip(errbuf, "bringing up the third host's veth", "-n", n->ns_third, "link", "set", n->if_third, "up",
                 NULL)) < 0) {
        kill_inside(n->ns_third);
        ip(NULL, "deleting the third namespace", "netns", "del", n->ns_third, NULL);
        n->created = 2;
        return rc;
    }
    return 0;
}

/* SIGKILL every process whose network namespace is /run/netns/name (`ip netns pids`). */
static void kill_inside(const char *name)
{
    const char *argv[] = {"ip", "netns", "pids", name, NULL};
    char out[8192];
    int status;
    if (nl_proc_run_to_end(argv, NULL, IP_TIMEOUT, out, sizeof out, &status, NULL) < 0 || status != 0)
        return;
    for (char *p = strtok(out, " \n"); p; p = strtok(NULL, " \n")) {
        long pid = strtol(p, NULL, 10);
        if (pid > 1 && pid != getpid())
            kill((pid_t)pid, SIGKILL);
    }
}

int nl_labnet_destroy(struct nl_labnet *n, char *errbuf)
{
    int rc = 0;
    if (n->created >= 3) {
        kill_inside(n->ns_third);
        rc = ip(errbuf, "deleting the third namespace", "netns", "del", n->ns_third, NULL);
        if (rc > 0)
            rc = 0;
    }
    if (n->created >= 2) {
        kill_inside(n->ns_server);
        int r = ip(rc < 0 ? NULL : errbuf, "deleting the server namespace", "netns", "del", n->ns_server, NULL);
        if (r < 0 && rc == 0)
            rc = r;
    }
    if (n->created >= 1) {
        kill_inside(n->ns_client);
        int r = ip(rc < 0 ? NULL : errbuf, "deleting the client namespace", "netns", "del", n->ns_client, NULL);
        if (r < 0 && rc == 0)
            rc = r;
    }
    n->created = 0;
    return rc;
}

int nl_labnet_cleanup_stale(int *removed, char *errbuf)
{
    *removed = 0;
    DIR *d = opendir("/run/netns");
    if (!d)
        return errno == ENOENT ? 0 : nl_err_sys(errbuf, errno, "reading /run/netns");
    char names[64][256];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 64) {
        if (strncmp(e->d_name, NL_LABNET_PREFIX, strlen(NL_LABNET_PREFIX)) != 0)
            continue;
        long owner = strtol(e->d_name + strlen(NL_LABNET_PREFIX), NULL, 10);
        if (owner > 0 && (owner == getpid() || (kill((pid_t)owner, 0) == 0 || errno == EPERM)))
            continue; /* its creator still runs */
        snprintf(names[count++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    int rc = 0;
    for (int i = 0; i < count; i++) {
        kill_inside(names[i]);
        int r = ip(errbuf, "removing a namespace left by a crashed run", "netns", "del", names[i], NULL);
        if (r < 0)
            rc = r;
        else
            (*removed)++;
    }
    return rc;
}

/* ---- impairment ---- */

/* Length of the plain decimal number at the start of v ("2", "2.5", ".5", "1e-3"; no sign, no hex,
 * no inf or nan, no spaces), or 0 if none starts there. */
static size_t decimal_len(const char *v)
{
    size_t i = 0, digits = 0;
    while (isdigit((unsigned char)v[i]))
        i++, digits++;
    if (v[i] == '.')
        for (i++; isdigit((unsigned char)v[i]); i++)
            digits++;
    if (!digits)
        return 0;
    if (v[i] == 'e' || v[i] == 'E') {
        size_t j = i + 1;
        if (v[j] == '+' || v[j] == '-')
            j++;
        if (isdigit((unsigned char)v[j])) {
            while (isdigit((unsigned char)v[j]))
                j++;
            i = j;
        }
    }
    return i;
}

/* A number with a unit from units[] (name, factor); the unit is required. -1: not a plain decimal
 * number above 0 (or out of double's range); -2: the unit is missing or unknown. */
static int parse_quantity(const char *v, const char *const names[], const double factors[], double *out)
{
    size_t n = decimal_len(v);
    if (!n)
        return -1;
    char num[64];
    if (n >= sizeof num)
        return -1;
    memcpy(num, v, n);
    num[n] = 0;
    errno = 0;
    double x = strtod(num, NULL);
    if (errno || !isfinite(x) || x <= 0)
        return -1;
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(v + n, names[i])) {
            *out = x * factors[i];
            return 0;
        }
    return -2;
}

/* Loss is applied as netem's probability (a 32-bit fraction) or, without netem, as nftables'
 * `numgen random mod N == 0` (1 packet in N): both must be able to apply what is asked. */
#define LOSS_MIN 0.000001 /* percent: 1 in 100,000,000 (netem's fraction is 0.1% off, N fits 32 bits) */
#define LOSS_MAX 50.0     /* 1 in 2 */
#define LOSS_FIT 0.05     /* above 10%, 100/N within 5% of the asked loss */

static int loss_error(char *errbuf, const char *v, double x)
{
    if (!(x >= LOSS_MIN && x <= LOSS_MAX))
        return nl_err(errbuf, NL_EINVAL, "--impair: loss '%s': a percentage above 0 and at most 50, from 0.000001%% to 50%% (loss=2%%)", v);
    double n = 100.0 / x, r = (double)(uint64_t)(n + 0.5);
    if (fabs(100.0 / r - x) > LOSS_FIT * x)
        return nl_err(errbuf, NL_EINVAL,
                      "--impair: loss '%s': without netem the loss is applied as 1 packet in N, so above 10%% it "
                      "must be within 5%% of 100/N: 50%%, 33.3%%, 25%%, 20%%, 16.7%%, 14.3%%, 12.5%% or 11.1%% "
                      "(nearest here: %.3g%% or %.3g%%); any value from 0.000001%% to 10%% is applied", v,
                      100.0 / (double)(uint64_t)n, 100.0 / ((double)(uint64_t)n + 1));
    return 0;
}

int nl_impair_parse(const char *spec, struct nl_impair *out, char *errbuf)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return nl_err(errbuf, NL_EINVAL, "--impair: empty; give loss=2%%, rate=8mbit and/or delay=20ms, comma-separated");
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return nl_err(errbuf, NL_EINVAL, "--impair: longer than %zu characters", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            return nl_err(errbuf, NL_EINVAL, "--impair: '%s' is not KEY=VALUE (keys: loss, rate, delay)", item);
        *eq = 0;
        const char *k = item, *v = eq + 1;
        unsigned bit = !strcmp(k, "loss") ? NL_IMPAIR_LOSS : !strcmp(k, "rate") ? NL_IMPAIR_RATE
                     : !strcmp(k, "delay") ? NL_IMPAIR_DELAY : 0;
        if (!bit)
            return nl_err(errbuf, NL_EINVAL, "--impair: unknown key '%s' (keys: loss, rate, delay)", k);
        if (out->set & bit)
            return nl_err(errbuf, NL_EINVAL, "--impair: '%s' given twice", k);
        out->set |= bit;
        double x;
        if (bit == NL_IMPAIR_LOSS) {
            static const char *const n[] = {"%", "", NULL};
            static const double f[] = {1, 1};
            if (parse_quantity(v, n, f, &x) < 0)
                return nl_err(errbuf, NL_EINVAL, "--impair: loss '%s': a percentage above 0 and at most 50, from 0.000001%% to 50%% (loss=2%%)", v);
            int rc = loss_error(errbuf, v, x);
            if (rc < 0)
                return rc;
            out->loss_pct = x;
        } else if (bit == NL_IMPAIR_RATE) {
            static const char *const n[] = {"bit", "kbit", "mbit", "gbit", "bps", "kbps", "mbps", "gbps", NULL};
            static const double f[] = {1, 1e3, 1e6, 1e9, 8, 8e3, 8e6, 8e9};
            int r = parse_quantity(v, n, f, &x);
            if (r == -2)
                return nl_err(errbuf, NL_EINVAL, "--impair: rate '%s': unit missing or unknown (bit, kbit, mbit, gbit; bps, kbps, mbps, gbps are bytes per second)", v);
            if (r < 0 || x < 8e3 || x > 10e9)
                return nl_err(errbuf, NL_EINVAL, "--impair: rate '%s': between 8kbit and 10gbit (rate=8mbit)", v);
            out->rate_bps = (uint64_t)(x + 0.5); /* no libm: libnetlab links without -lm */
        } else {
            static const char *const n[] = {"us", "ms", "s", NULL};
            static const double f[] = {1, 1e3, 1e6};
            int r = parse_quantity(v, n, f, &x);
            if (r == -2)
                return nl_err(errbuf, NL_EINVAL, "--impair: delay '%s': unit missing or unknown (us, ms, s)", v);
            if (r < 0 || x < 1 || x > 10e6)
                return nl_err(errbuf, NL_EINVAL, "--impair: delay '%s': between 1us and 10s (delay=20ms)", v);
            out->delay_us = (uint32_t)(x + 0.5);
        }
    }
    if (!out->set)
        return nl_err(errbuf, NL_EINVAL, "--impair: nothing given; loss=2%%, rate=8mbit and/or delay=20ms");
    return 0;
}

#define NFT_TABLE "netlab_impair"

/* Run a tool (tc, nft) inside netns; *output gets its words (may be NULL). */
static int run_tool(char *errbuf, const char *what, const char *netns, const char *const argv[], char *out, size_t cap)
{
    char local[1024];
    if (!out) {
        out = local;
        cap = sizeof local;
    }
    int status = 0;
    int rc = nl_proc_run_to_end(argv, netns, IP_TIMEOUT, out, cap, &status, errbuf);
    if (rc < 0)
        return rc;
    if (status != 0) {
        size_t l = strlen(out);
        while (l && (out[l - 1] == '\n' || out[l - 1] == ' '))
            out[--l] = 0;
        int code = strstr(out, "Operation not permitted") ? NL_EPERM : NL_ESYS;
        return nl_err(errbuf, code, "%s: %s: %s", what, argv[0], out[0] ? out : "failed");
    }
    return 0;
}

static void fmt_rate(char *b, size_t cap, uint64_t bps)
{
    if (bps % 1000000000 == 0)
        snprintf(b, cap, "%llugbit", (unsigned long long)(bps / 1000000000));
    else if (bps % 1000000 == 0)
        snprintf(b, cap, "%llumbit", (unsigned long long)(bps / 1000000));
    else if (bps % 1000 == 0)
        snprintf(b, cap, "%llukbit", (unsigned long long)(bps / 1000));
    else
        snprintf(b, cap, "%llubit", (unsigned long long)bps);
}

int nl_labnet_unimpair(struct nl_labnet *n, char *errbuf)
{
    (void)errbuf; /* best effort: a qdisc or table that is not there is not an error */
    const char *ns[2] = {n->ns_client, n->ns_server}, *dev[2] = {n->if_client, n->if_server};
    for (int i = 0; i < 2; i++) {
        const char *tc[] = {"tc", "qdisc", "del", "dev", dev[i], "root", NULL};
        run_tool(NULL, "removing the qdisc", ns[i], tc, NULL, 0);
        const char *nft[] = {"nft", "delete", "table", "ip", NFT_TABLE, NULL};
        run_tool(NULL, "removing the nftables table", ns[i], nft, NULL, 0);
    }
    return 0;
}

/* netem, where the kernel has it: one qdisc on each egress does all three. 1 when applied, 0 when
 * this kernel has no netem (nothing left behind), or a negative code. */
static int try_netem(struct nl_labnet *n, const struct nl_impair *im, const char *rate, const char *delay,
                     const char *loss, struct nl_impair_applied *out, char *errbuf)
{
    const char *ns[2] = {n->ns_client, n->ns_server}, *dev[2] = {n->if_client, n->if_server};
    char msg[1024];
    for (int i = 0; i < 2; i++) {
        const char *argv[16];
        int k = 0;
        argv[k++] = "tc"; argv[k++] = "qdisc"; argv[k++] = "add"; argv[k++] = "dev"; argv[k++] = dev[i];
        argv[k++] = "root"; argv[k++] = "netem";
        if (im->set & NL_IMPAIR_DELAY) { argv[k++] = "delay"; argv[k++] = delay; }
        if (im->set & NL_IMPAIR_LOSS) { argv[k++] = "loss"; argv[k++] = loss; }
        if (im->set & NL_IMPAIR_RATE) { argv[k++] = "rate"; argv[k++] = rate; }
        argv[k] = NULL;
        int rc = run_tool(msg, "adding netem", ns[i], argv, msg, sizeof msg);
        if (rc < 0) {
            if (i == 0 && (strstr(msg, "unknown") || strstr(msg, "Unknown")))
                return 0; /* no netem in this kernel: tbf + nftables */
            nl_labnet_unimpair(n, NULL);
            return nl_err(errbuf, rc, "%s", msg);
        }
    }
    out->mechanism = NL_IMPAIR_NETEM;
    out->mechanism_name = "netem";
    out->applied = im->set;
    out->loss_pct = im->loss_pct;
    out->rate_bps = im->rate_bps;
    out->delay_us = im->delay_us;
    snprintf(out->detail, sizeof out->detail,
             "netem on both veth ends (%s and %s), each direction:%s%s%s%s%s%s", dev[0], dev[1],
             im->set & NL_IMPAIR_LOSS ? " loss " : "", im->set & NL_IMPAIR_LOSS ? loss : "",
             im->set & NL_IMPAIR_RATE ? " rate " : "", im->set & NL_IMPAIR_RATE ? rate : "",
             im->set & NL_IMPAIR_DELAY ? " delay " : "", im->set & NL_IMPAIR_DELAY ? delay : "");
    return 1;
}

int nl_labnet_impair(struct nl_labnet *n, const struct nl_impair *im, struct nl_impair_applied *out, char *errbuf)
{
    memset(out, 0, sizeof *out);
    if (!im->set)
        return nl_err(errbuf, NL_EINVAL, "impair: nothing asked for");
    /* The same limits as nl_impair_parse, for a caller that filled im itself. */
    char loss[32] = "";
    snprintf(loss, sizeof loss, "%g%%", im->loss_pct);
    int rc;
    if ((im->set & NL_IMPAIR_LOSS) && (rc = loss_error(errbuf, loss, im->loss_pct)) < 0)
        return rc;
    if (((im->set & NL_IMPAIR_RATE) && (im->rate_bps < 8000 || im->rate_bps > 10000000000ull)) ||
        ((im->set & NL_IMPAIR_DELAY) && (im->delay_us < 1 || im->delay_us > 10000000)))
        return nl_err(errbuf, NL_EINVAL, "impair: rate (8 kbit/s to 10 Gbit/s) or delay (1 us to 10 s) out of range");
    const char *ns[2] = {n->ns_client, n->ns_server}, *dev[2] = {n->if_client, n->if_server};
    char rate[32] = "", delay[32] = "";
    fmt_rate(rate, sizeof rate, im->rate_bps);
    if (im->delay_us % 1000 == 0)
        snprintf(delay, sizeof delay, "%ums", im->delay_us / 1000);
    else
        snprintf(delay, sizeof delay, "%uus", im->delay_us);
    if ((rc = try_netem(n, im, rate, delay, loss, out, errbuf)) != 0)
        return rc < 0 ? rc : 0;

    /* No netem: tbf for the rate, nftables for the loss; delay has no mechanism here. */
    if (!(im->set & (NL_IMPAIR_LOSS | NL_IMPAIR_RATE)))
        return nl_err(errbuf, NL_ENOTFOUND,
                      "impair: delay needs netem, which this kernel lacks (CONFIG_NET_SCH_NETEM), and no other "
                      "qdisc here can hold packets back; add loss= or rate= to impair the link without delay");
    out->mechanism = NL_IMPAIR_TBF_NFT;
    out->mechanism_name = im->set & NL_IMPAIR_RATE ? (im->set & NL_IMPAIR_LOSS ? "tbf + nftables" : "tbf") : "nftables";
    size_t dl = 0;
    if (im->set & NL_IMPAIR_RATE) {
        /* The bucket holds a few full frames (and at least one timer tick at HZ=100);
         * the queue about 25 ms at the rate: beyond it, tbf drops the arriving packet. */
        uint64_t burst = im->rate_bps / 8 / 100, limit = im->rate_bps / 8 / 40;
        if (burst < 4 * 1514)
            burst = 4 * 1514;
        if (limit < 16 * 1514)
            limit = 16 * 1514;
        if (burst > (1u << 24))
            burst = 1u << 24;
        if (limit > (1u << 26))
            limit = 1u << 26;
        char b[24], l[24];
        snprintf(b, sizeof b, "%llu", (unsigned long long)burst);
        snprintf(l, sizeof l, "%llu", (unsigned long long)limit);
        for (int i = 0; i < 2; i++) {
            const char *argv[] = {"tc", "qdisc", "add", "dev", dev[i], "root", "tbf", "rate", rate, "burst", b,
                                  "limit", l, NULL};
            if ((rc = run_tool(errbuf, "adding the tbf rate limit", ns[i], argv, NULL, 0)) < 0) {
                nl_labnet_unimpair(n, NULL);
                return rc;
            }
        }
        out->applied |= NL_IMPAIR_RATE;
        out->rate_bps = im->rate_bps;
        out->tbf_burst = (uint32_t)burst;
        out->tbf_limit = (uint32_t)limit;
        dl += (size_t)snprintf(out->detail + dl, sizeof out->detail - dl,
                               "tbf on both veth egresses: rate %s, bucket %llu bytes, queue %llu bytes "
                               "(about %.0f ms; a packet arriving at a full queue is dropped)",
                               rate, (unsigned long long)burst, (unsigned long long)limit,
                               (double)limit * 8e3 / (double)im->rate_bps);
    }
    if (im->set & NL_IMPAIR_LOSS) {
        uint32_t mod = (uint32_t)(100.0 / im->loss_pct + 0.5);
        if (mod < 2)
            mod = 2;
        char m[16], chain[160];
        snprintf(m, sizeof m, "%u", mod);
        for (int i = 0; i < 2; i++) {
            snprintf(chain, sizeof chain, "{ type filter hook prerouting priority -300; }");
            const char *t[] = {"nft", "add", "table", "ip", NFT_TABLE, NULL};
            const char *c[] = {"nft", "add", "chain", "ip", NFT_TABLE, "in", chain, NULL};
            const char *r[] = {"nft", "add", "rule", "ip", NFT_TABLE, "in", "iifname", dev[i], "numgen", "random",
                               "mod", m, "==", "0", "counter", "drop", NULL};
            if ((rc = run_tool(errbuf, "adding the nftables loss rule", ns[i], t, NULL, 0)) < 0 ||
                (rc = run_tool(errbuf, "adding the nftables loss rule", ns[i], c, NULL, 0)) < 0 ||
                (rc = run_tool(errbuf, "adding the nftables loss rule", ns[i], r, NULL, 0)) < 0) {
                nl_labnet_unimpair(n, NULL);
                return rc;
            }
        }
        out->applied |= NL_IMPAIR_LOSS;
        out->loss_modulus = mod;
        out->loss_pct = 100.0 / mod;
        dl += (size_t)snprintf(out->detail + dl, sizeof out->detail - dl,
                               "%snftables in each namespace drops arriving IP packets on its veth with "
                               "`numgen random mod %u == 0 drop`: %.3g%% loss each way%s",
                               dl ? "; " : "", mod, out->loss_pct,
                               fabs(out->loss_pct - im->loss_pct) > 1e-9 ? " (the nearest 1-in-N to the asked loss)" : "");
    }
    if (im->set & NL_IMPAIR_DELAY)
        snprintf(out->detail + dl, sizeof out->detail - dl,
                 "; delay=%s NOT applied: this kernel has no netem (CONFIG_NET_SCH_NETEM) and no other qdisc "
                 "here can hold packets back (no fq for timed departures)", delay);
    return 0;
}

/* The first number after `key` in text, or -1. */
static int64_t number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return -1;
    p += strlen(key);
    while (*p == ' ')
        p++;
    return isdigit((unsigned char)*p) ? strtoll(p, NULL, 10) : -1;
}

int nl_labnet_impair_stats(struct nl_labnet *n, struct nl_impair_stats *st, char *errbuf)
{
    (void)errbuf;
    const char *ns[2] = {n->ns_client, n->ns_server}, *dev[2] = {n->if_client, n->if_server};
    char out[4096];
    for (int i = 0; i < 2; i++) {
        const char *nft[] = {"nft", "list", "table", "ip", NFT_TABLE, NULL};
        st->loss_dropped[i] = run_tool(NULL, "", ns[i], nft, out, sizeof out) < 0 ? -1 : number_after(out, "counter packets");
        const char *tc[] = {"tc", "-s", "qdisc", "show", "dev", dev[i], NULL};
        st->queue_dropped[i] = run_tool(NULL, "", ns[i], tc, out, sizeof out) < 0 ? -1 : number_after(out, "dropped");
        st->sent_packets[i] = run_tool(NULL, "", ns[i], tc, out, sizeof out) < 0 ? -1 : number_after(out, "bytes");
    }
    return 0;
}
