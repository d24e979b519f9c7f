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

/* ---- the words for --explain (nl_prove_explain.c asks) ---- */

void pv_tfo_explain_opt(char *buf, size_t cap, const struct pv_opt *o, uint8_t flags, const char *who)
{
    char c[80] = "";
    for (int i = 0, n = 0; i < o->ncookie && n + 3 < (int)sizeof c; i++)
        n += snprintf(c + n, sizeof c - (size_t)n, "%02x", o->cookie[i]);
    const char *form = o->kind == PV_OPT_FOEXP ? " (in the experimental option, kind 254 with magic 0xF989, "
                                                  "that Linux used before kind 34 was assigned, RFC 6994)" : "";
    if (o->kind == PV_OPT_FOEXP && (o->len < 4 || o->a != PV_TFO_MAGIC))
        snprintf(buf, cap, "\n%s an experimental option (kind 254) that is not Fast Open's (RFC 6994).", who);
    else if (o->ncookie == 0 && !(flags & PV_ACK))
        snprintf(buf, cap, "\n%s TCP Fast Open with an empty cookie%s: a cookie request (RFC 7413 4.1.1); the "
                 "server answers with a cookie in its SYN-ACK, for the next connection's SYN to carry data.", who, form);
    else if (o->ncookie == 0)
        snprintf(buf, cap, "\n%s an empty Fast Open option%s: no cookie given (RFC 7413 4.1.1).", who, form);
    else if (flags & PV_ACK)
        snprintf(buf, cap, "\n%s Fast Open cookie %s%s: the server's cookie for this client's address, which the "
                 "client caches and sends in the SYN of later connections (RFC 7413 4.1.2, 4.1.3).", who, c, form);
    else
        snprintf(buf, cap, "\n%s Fast Open cookie %s%s: with a valid cookie the server may take the data in this SYN "
                 "before the handshake completes (RFC 7413 3, 4.2).", who, c, form);
}

static int sym_is(const struct pv_expr *e, const char *name)
{
    return e && e->kind == PV_E_SYM && e->name && strcmp(e->name, name) == 0;
}

static int has_flag(const struct pv_expr *e, int64_t flag)
{
    return e && (e->kind == PV_E_INT || e->kind == PV_E_SYM) && (e->num & flag);
}

int pv_tfo_explain_call(const struct pv_syscall *sc, char *buf, size_t cap)
{
    const struct pv_expr *opt = sc->nargs > 2 ? sc->args[2] : NULL;
    if (!strcmp(sc->name, "setsockopt") || !strcmp(sc->name, "getsockopt")) {
        const char *v = sc->name[0] == 's' ? "Sets" : "Reads";
        if (sym_is(opt, "TCP_FASTOPEN"))
            snprintf(buf, cap, "%s TCP_FASTOPEN: on a listener, the length of its queue of connections opened by a SYN "
                     "with data not yet accepted; nonzero lets the server take data in SYNs that carry a valid cookie "
                     "(RFC 7413 4.2, and 5.1 on limiting them).", v);
        else if (sym_is(opt, "TCP_FASTOPEN_CONNECT"))
            snprintf(buf, cap, "%s TCP_FASTOPEN_CONNECT: connect() returns at once and the first write's data goes in "
                     "the SYN with the cached cookie, or the SYN asks for one (RFC 7413 3).", v);
        else if (sym_is(opt, "TCP_FASTOPEN_KEY"))
            snprintf(buf, cap, "%s TCP_FASTOPEN_KEY: the secret the server makes cookies with, a MAC of the client's "
                     "address (RFC 7413 4.1.2); a new key makes old cookies invalid.", v);
        else if (sym_is(opt, "TCP_FASTOPEN_NO_COOKIE"))
            snprintf(buf, cap, "%s TCP_FASTOPEN_NO_COOKIE: data in a SYN is taken without a cookie, which RFC 7413 "
                     "allows only where spoofed SYNs cannot reach the server (RFC 7413 4.1.2, 5.1).", v);
        else
            return 0;
        return 1;
    }
    const struct pv_expr *flags = !strcmp(sc->name, "sendto") && sc->nargs > 3 ? sc->args[3]
                                : !strcmp(sc->name, "sendmsg") && sc->nargs > 2 ? sc->args[2] : NULL;
    if (!has_flag(flags, 0x20000000 /* MSG_FASTOPEN */))
        return 0;
    snprintf(buf, cap, "A Fast Open connect (RFC 7413 3): with MSG_FASTOPEN, %s() opens the connection itself. With a "
             "cookie for this server cached, the SYN carries the data (up to what fits in one segment) and the call "
             "returns the bytes queued; without one the SYN asks for a cookie, and the data waits for the handshake "
             "(a nonblocking socket gets EINPROGRESS). On a connected socket the flag does nothing.", sc->name);
    return 1;
}
