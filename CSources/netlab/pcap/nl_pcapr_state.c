/*
 * nl_pcapr_state.c - what both capture formats write into the reader (see
 * nl_pcapr_int.h): warnings, the sticky error, the interface list. Knows nothing of any
 * format's records nor of how the file is opened or mapped.
 */
#include "nl_pcapr_int.h"
#include "nl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nl_pcapr_warn(struct nl_pcapr *r, const char *fmt, ...)
{
    if (r->nwarnings >= MAX_WARNINGS)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (s)
        r->warnings[r->nwarnings++] = s;
}

int nl_pcapr_fail(struct nl_pcapr *r, char *errbuf, int code, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->errmsg, sizeof r->errmsg, "%s: packet %llu at byte offset %zu: %s", r->name,
             (unsigned long long)r->number + 1, r->pos, what);
    r->err = code;
    return nl_err(errbuf, code, "%s", r->errmsg);
}

int nl_pcapr_add_iface(struct nl_pcapr *r, int linktype, uint32_t snaplen)
{
    if (r->nifaces >= NL_PCAPR_MAX_IFACES)
        return NL_ELIMIT;
    if (NL_GROW(r->ifaces, r->nifaces, r->cap_ifaces, 4) < 0)
        return NL_ENOMEM;
    struct iface_rec *f = &r->ifaces[r->nifaces++];
    memset(f, 0, sizeof *f);
    f->pub.linktype = linktype;
    f->pub.snaplen = snaplen;
    f->pub.section = r->section;
    f->tsresol = 6;
    return 0;
}
