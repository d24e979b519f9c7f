/*
 * nl_doctor.h - the preflight a new user runs first: may this process inject
 * and capture, which interfaces exist with their MTU and offloads, the
 * ephemeral port range, whether network namespaces can be made, which tools
 * are installed. Each finding says OK or what to do.
 */
#ifndef NL_DOCTOR_H
#define NL_DOCTOR_H

#include "nl_api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nl_check_status { NL_CHECK_OK = 0, NL_CHECK_INFO = 1, NL_CHECK_WARN = 2, NL_CHECK_FAIL = 3 };

struct nl_check {
    char topic[32];      /* "raw sockets", "capture", "interface lo", ... */
    int status;          /* enum nl_check_status */
    char detail[256];    /* what was found */
    char fix[256];       /* what to do ("" when nothing) */
};

/**
 * Run every check. exe is the path of the program to name in setcap advice
 * (NULL: a placeholder). Returns the number of checks in *out (free() it).
 */
NL_API int nl_doctor_run(const char *exe, struct nl_check **out, size_t *n, char *errbuf);

NL_API const char *nl_check_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif
