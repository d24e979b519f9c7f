/*
 * nl_error.h - error codes and the caller-provided error buffer.
 * Every libnetlab call that can fail returns >= 0 on success or a negative NL_E*
 * code, and writes "what: detail" into errbuf (may be NULL) at the failure site.
 */
#ifndef NL_ERROR_H
#define NL_ERROR_H

#include "nl_api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the buffer every failing call may fill (libpcap's PCAP_ERRBUF_SIZE style). */
#define NL_ERRBUF_SIZE 512

enum nl_status {
    NL_OK         = 0,
    NL_EINVAL     = -1,  /* a bad argument or option value */
    NL_ETRUNC     = -2,  /* input ends before the structure it holds does */
    NL_EMALFORMED = -3,  /* input is present but not valid */
    NL_ELIMIT     = -4,  /* over a built-in or configured limit */
    NL_ESYS       = -5,  /* a system call failed (its strerror is in errbuf) */
    NL_EPERM      = -6,  /* a privilege (CAP_NET_RAW, CAP_NET_ADMIN, root) is missing */
    NL_ENOMEM     = -7,  /* out of memory */
    NL_EMISMATCH  = -8,  /* two independent computations disagree */
    NL_ENOTFOUND  = -9,  /* a named thing (file, interface, column, conversation) does not exist */
    NL_ELIB       = -10, /* libnet, libpcap or libcsv reported a failure */
    NL_EEXIST     = -11, /* a unique name or key is already taken */
    NL_EINTR      = -12  /* stopped on request (SIGINT/SIGTERM through nl_signal.h) */
};

/** A short name for a status code ("truncated", "malformed", ...). Never NULL. */
NL_API const char *nl_strerror(int code);

/** The symbolic name of a status code ("NL_ETRUNC", ...). Never NULL. */
NL_API const char *nl_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
