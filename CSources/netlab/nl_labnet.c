/*
 * nl_labnet.c - the lab's namespace pair through iproute2 (`ip netns`, `ip link
 * add ... type veth`), its removal, and the sweep of pairs left by crashed runs.
 * Runs `ip` through nl_proc; signals only processes inside its own namespaces.
 * A third namespace can hang off the client one (the cluster lab).
 */
#include "netlab/nl_labnet.h"
#include "netlab/nl_proc.h"
#include "nl_internal.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP_TIMEOUT 20.0

/* Run `ip ARGS...`; on failure errbuf gets "what: ip's message". */
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
    char out[1024];
    int status = 0;
    int rc = nl_proc_run(argv, NULL, IP_TIMEOUT, out, sizeof out, &status, errbuf);
    if (rc < 0)
        return rc;
    if (status != 0) {
        size_t l = strlen(out);
        while (l && (out[l - 1] == '\n' || out[l - 1] == ' '))
            out[--l] = 0;
        int code = strstr(out, "Operation not permitted") ? NL_EPERM : NL_ESYS;
        return nl_err(errbuf, code, "%s: ip: %s", what, out[0] ? out : "failed");
    }
    return 0;
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
    if (nl_proc_run(argv, NULL, IP_TIMEOUT, out, sizeof out, &status, NULL) < 0 || status != 0)
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
