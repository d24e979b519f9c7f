/*
 * nl_prove.h - netlab prove: TCP experiments against the running kernel, written in packetdrill's
 * script language. Each script runs in a network namespace and PID namespace of its own with a
 * tun device named tun0 (local 192.168.0.2/16, gateway 192.168.0.1, remote 192.0.2.1 as
 * packetdrill's defaults); segments are injected ('<') and the kernel's are checked ('>') field by
 * field and against the time the script allows. Nothing outlives a run, even a SIGKILL of the caller:
 * the namespaces die with the run's process (PR_SET_PDEATHSIG on the namespace's first process).
 */
#ifndef NL_PROVE_H
#define NL_PROVE_H

#include "nl_api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Exit statuses `netlab prove` uses (sysexits.h for usage and data errors). */
#define NL_PROVE_EXIT_HELD    0   /* every line held */
#define NL_PROVE_EXIT_FAILED  1   /* a line did not hold (or the run itself failed) */
#define NL_PROVE_EXIT_NOPRIV  2   /* CAP_NET_ADMIN / CAP_NET_RAW / CAP_SYS_ADMIN missing */
#define NL_PROVE_EXIT_USAGE   64
#define NL_PROVE_EXIT_SYNTAX  65

struct nl_prove_opts {
    int explain;           /* word every line: what it does, why the kernel answered so, the RFC clause */
    double tolerance_ms;   /* > 0: the timing tolerance; 0: measured from this machine's scheduling jitter */
    const char *out_dir;   /* where NAME.pcapng and NAME.timeline.csv go (created); NULL: nothing written */
    const char *defines;   /* packetdrill's -D: "NAME=VALUE" lines; a word NAME in a script reads as VALUE; NULL none */
    int mtu;               /* packetdrill's --mtu: tun0's MTU (so the MSS the kernel announces); 0: 1500 */
    int ip_version;        /* packetdrill's --ip_version, over the script's: NL_PROVE_IPV4.., 0: the script's */
};
#define NL_PROVE_IPV4        1
#define NL_PROVE_IPV4_MAPPED 2
#define NL_PROVE_IPV6        3

struct nl_prove_result;   /* opaque */

/**
 * NL_EPERM, errbuf saying which capabilities are missing (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN
 * for the namespaces), when this process cannot run experiments; 0 when it can.
 */
NL_API int nl_prove_privileged(char *errbuf);

/** Parse only: 0, or NL_EMALFORMED with errbuf "file:line:column: expected ..., found ...". */
NL_API int nl_prove_check_syntax(const char *path, char *errbuf);
/** As nl_prove_check_syntax with -D definitions ("NAME=VALUE" lines, NULL for none). */
NL_API int nl_prove_check_syntax_defs(const char *path, const char *defines, char *errbuf);

/**
 * The scripts a path names: the file itself, or a folder's *.pkt files (sorted, not recursive).
 * NL_ENOTFOUND when the path is missing or the folder holds none. Free with nl_prove_list_free.
 */
NL_API int nl_prove_list(const char *path, char ***paths, size_t *count, char *errbuf);
NL_API void nl_prove_list_free(char **paths, size_t count);

/**
 * Run one script. Returns 0 with *out set whether or not the lines held (see
 * nl_prove_result_passed); NL_EMALFORMED for a syntax error (nothing run), NL_EPERM without
 * the privileges, NL_ESYS/NL_ENOMEM when the run could not be made. Free with nl_prove_result_free.
 */
NL_API int nl_prove_run(const char *path, const struct nl_prove_opts *opts, struct nl_prove_result **out,
                        char *errbuf);

NL_API int nl_prove_result_passed(const struct nl_prove_result *r);
/** The script line that did not hold (1-based), or 0. */
NL_API int nl_prove_result_line(const struct nl_prove_result *r);
/** The report for people: each line with its outcome, the verdict, the explanation if asked. */
NL_API const char *nl_prove_result_text(const struct nl_prove_result *r);
/** The whole run as one JSON object (events, packets, TCP_INFO timeline, verdict). */
NL_API const char *nl_prove_result_json(const struct nl_prove_result *r);
/** Seconds the experiment took. */
NL_API double nl_prove_result_seconds(const struct nl_prove_result *r);
NL_API void nl_prove_result_free(struct nl_prove_result *r);

#ifdef __cplusplus
}
#endif
#endif
