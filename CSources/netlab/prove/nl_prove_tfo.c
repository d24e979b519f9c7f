/*
 * nl_prove_tfo.c - TCP Fast Open (RFC 7413) in a script: the Fast Open option, kind 34 ("FO",
 * "FO abcd1234") and the experimental kind 254 with magic 0xF989 ("FOEXP", RFC 6994's shared
 * experimental option as Linux sends it when a route asks for it); its cookie read from the
 * script as hex, written to and read from the wire, compared field by field (kind, length,
 * magic, cookie) and worded back in packetdrill's notation. Runs no syscall and keeps no
 * connection state: nl_prove_sys.c passes MSG_FASTOPEN and the TCP_FASTOPEN* options through.
 */
#include "nl_prove_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int hexval(int c) { return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10; }

int pv_tfo_option(int exp, const char *cookie, size_t n, struct pv_opt *o, char *why, size_t wcap)
{
    memset(o, 0, sizeof *o);
    o->kind = exp ? PV_OPT_FOEXP : PV_OPT_FO;
    size_t max = exp ? PV_TFO_EXP_MAX : PV_TFO_MAX;
    if (n % 2) {
        snprintf(why, wcap, "the Fast Open cookie '%.*s' has an odd number of hex digits (two per byte: FO abcd1234)",
                 (int)(n > 40 ? 40 : n), cookie);
        return -1;
    }
    if (n / 2 > max) {
        snprintf(why, wcap, "a Fast Open cookie of %zu bytes: at most %zu fit in the %s option (40 option bytes)",
                 n / 2, max, exp ? "FOEXP" : "FO");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)cookie[i])) {
            snprintf(why, wcap, "the Fast Open cookie '%.*s' is not hex digits (FO abcd1234, or FO alone to ask for one)",
                     (int)(n > 40 ? 40 : n), cookie);
            return -1;
        }
    o->ncookie = (uint8_t)(n / 2);
    for (size_t i = 0; i < o->ncookie; i++)
        o->cookie[i] = (uint8_t)(hexval((unsigned char)cookie[2 * i]) << 4 | hexval((unsigned char)cookie[2 * i + 1]));
    o->a = exp ? PV_TFO_MAGIC : 0;
    o->len = (uint8_t)((exp ? 4 : 2) + o->ncookie);
    return 0;
}

size_t pv_tfo_encode(const struct pv_opt *o, uint8_t *p, size_t cap)
{
    if (o->len > cap)
        return 0;
    size_t n = 0;
    p[n++] = o->kind;
    p[n++] = o->len;
    if (o->kind == PV_OPT_FOEXP) {
        p[n++] = (uint8_t)(o->a >> 8);
        p[n++] = (uint8_t)o->a;
    }
    memcpy(p + n, o->cookie, o->ncookie);
    return n + o->ncookie;
}

int pv_tfo_decode(const uint8_t *p, size_t n, struct pv_opt *o)
{
    if (n < 2 || p[1] != n)
        return -1;
    o->kind = p[0];
    o->len = p[1];
    size_t base = 2;
    if (p[0] == PV_OPT_FOEXP) {
        if (n < 4)
            return 0;    /* another experiment's option: kind and length only */
        o->a = (uint32_t)(p[2] << 8 | p[3]);
        base = 4;
    }
    size_t c = n - base;
    if (c > sizeof o->cookie)
        c = sizeof o->cookie;
    memcpy(o->cookie, p + base, c);
    o->ncookie = (uint8_t)c;
    return 0;
}

const char *pv_tfo_mismatch(const struct pv_opt *want, const struct pv_opt *got)
{
    if (want->kind != got->kind)
        return "kind";
    if (want->kind == PV_OPT_FOEXP && want->a != got->a)
        return "magic";
    if (want->len != got->len)
        return "length";
    if (want->ncookie != got->ncookie || memcmp(want->cookie, got->cookie, want->ncookie) != 0)
        return "cookie";
    return NULL;
}

int pv_tfo_format(char *buf, size_t cap, const char *sep, const struct pv_opt *o)
{
    if (o->kind == PV_OPT_FOEXP && (o->len < 4 || o->a != PV_TFO_MAGIC))
        return snprintf(buf, cap, "%sexperimental option magic 0x%04x (%u bytes)", sep, o->a, o->len);
    int w = snprintf(buf, cap, "%s%s%s", sep, o->kind == PV_OPT_FOEXP ? "FOEXP" : "FO", o->ncookie ? " " : "");
    for (int i = 0; i < o->ncookie && w >= 0 && (size_t)w + 2 < cap; i++)
        w += snprintf(buf + w, cap - (size_t)w, "%02x", o->cookie[i]);
    return w;
}
