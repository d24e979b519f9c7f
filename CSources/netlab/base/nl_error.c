/*
 * nl_error.c - status code names and errbuf formatting.
 * Owns the text of every NL_E* code. Must not print, exit or keep errno.
 */
#include "nl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *nl_strerror(int code)
{
    switch (code) {
    case NL_OK: return "success";
    case NL_EINVAL: return "invalid argument";
    case NL_ETRUNC: return "truncated";
    case NL_EMALFORMED: return "malformed";
    case NL_ELIMIT: return "over limit";
    case NL_ESYS: return "system error";
    case NL_EPERM: return "permission denied";
    case NL_ENOMEM: return "out of memory";
    case NL_EMISMATCH: return "mismatch";
    case NL_ENOTFOUND: return "not found";
    case NL_ELIB: return "library error";
    case NL_EEXIST: return "already exists";
    case NL_EINTR: return "interrupted";
    default: return "unknown error";
    }
}

const char *nl_errname(int code)
{
    switch (code) {
    case NL_OK: return "NL_OK";
    case NL_EINVAL: return "NL_EINVAL";
    case NL_ETRUNC: return "NL_ETRUNC";
    case NL_EMALFORMED: return "NL_EMALFORMED";
    case NL_ELIMIT: return "NL_ELIMIT";
    case NL_ESYS: return "NL_ESYS";
    case NL_EPERM: return "NL_EPERM";
    case NL_ENOMEM: return "NL_ENOMEM";
    case NL_EMISMATCH: return "NL_EMISMATCH";
    case NL_ENOTFOUND: return "NL_ENOTFOUND";
    case NL_ELIB: return "NL_ELIB";
    case NL_EEXIST: return "NL_EEXIST";
    case NL_EINTR: return "NL_EINTR";
    default: return "NL_E?";
    }
}

int nl_err(char *errbuf, int code, const char *fmt, ...)
{
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, NL_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

int nl_err_sys(char *errbuf, int errnum, const char *fmt, ...)
{
    int code = (errnum == EPERM || errnum == EACCES) ? NL_EPERM
             : (errnum == ENOMEM) ? NL_ENOMEM
             : (errnum == ENOENT) ? NL_ENOTFOUND : NL_ESYS;
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(errbuf, NL_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
        if (n >= 0 && n < NL_ERRBUF_SIZE)
            snprintf(errbuf + n, NL_ERRBUF_SIZE - (size_t)n, ": %s", strerror(errnum));
    }
    return code;
}
