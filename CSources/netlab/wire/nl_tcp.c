/*
 * nl_tcp.c - TCP header decode/encode and option parsing (RFC 9293, RFC 7323,
 * RFC 2018). Reads only through nl_cursor or explicit lengths.
 */
#include "netlab/nl_tcp.h"
#include "nl_internal.h"

#include <stdio.h>
#include <string.h>

int nl_tcp_decode(struct nl_cursor *c, struct nl_tcp *h)
{
    const uint8_t *b = nl_cur_bytes(c, NL_TCP_HDR_MIN);
    if (!b)
        return NL_ETRUNC;
    h->sport = nl_get_be16(b);
    h->dport = nl_get_be16(b + 2);
    h->seq = nl_get_be32(b + 4);
    h->ack = nl_get_be32(b + 8);
    h->doff = b[12] >> 4;
    h->reserved = b[12] & 0x0f;
    h->flags = b[13];
    h->window = nl_get_be16(b + 14);
    h->checksum = nl_get_be16(b + 16);
    h->urgent = nl_get_be16(b + 18);
    h->options_len = 0;
    if (h->doff < 5)
        return NL_EMALFORMED;
    size_t olen = (size_t)h->doff * 4 - NL_TCP_HDR_MIN;
    if (olen && nl_cur_take(c, h->options, olen) < 0)
        return NL_ETRUNC;
    h->options_len = (uint8_t)olen;
    return 0;
}

size_t nl_tcp_encode(const struct nl_tcp *h, uint8_t *out)
{
    nl_put_be16(out, h->sport);
    nl_put_be16(out + 2, h->dport);
    nl_put_be32(out + 4, h->seq);
    nl_put_be32(out + 8, h->ack);
    out[12] = (uint8_t)(h->doff << 4 | (h->reserved & 0x0f));
    out[13] = h->flags;
    nl_put_be16(out + 14, h->window);
    nl_put_be16(out + 16, h->checksum);
    nl_put_be16(out + 18, h->urgent);
    memcpy(out + 20, h->options, h->options_len);
    return NL_TCP_HDR_MIN + (size_t)h->options_len;
}

int nl_tcp_options_parse(const uint8_t *opt, size_t len, struct nl_tcp_opts *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == 0) /* end of option list */
            break;
        if (kind == 1) { /* no-operation */
            i++;
            continue;
        }
        if (i + 1 >= len)
            return NL_ETRUNC;
        uint8_t olen = opt[i + 1];
        if (olen < 2)
            return NL_EMALFORMED;
        if (i + olen > len)
            return NL_ETRUNC;
        const uint8_t *v = opt + i + 2;
        switch (kind) {
        case 2:
            if (olen != 4) return NL_EMALFORMED;
            out->has_mss = 1;
            out->mss = nl_get_be16(v);
            break;
        case 3:
            if (olen != 3) return NL_EMALFORMED;
            out->has_wscale = 1;
            out->wscale = v[0];
            break;
        case 4:
            if (olen != 2) return NL_EMALFORMED;
            out->sack_permitted = 1;
            break;
        case 5:
            if ((olen - 2) % 8) return NL_EMALFORMED;
            for (int k = 0; k < (olen - 2) / 8 && out->nsack < 4; k++) {
                out->sack[out->nsack][0] = nl_get_be32(v + 8 * k);
                out->sack[out->nsack][1] = nl_get_be32(v + 8 * k + 4);
                out->nsack++;
            }
            break;
        case 8:
            if (olen != 10) return NL_EMALFORMED;
            out->has_ts = 1;
            out->ts_val = nl_get_be32(v);
            out->ts_ecr = nl_get_be32(v + 4);
            break;
        default:
            break; /* unknown kinds are skipped by their length */
        }
        i += olen;
    }
    return 0;
}

char *nl_tcp_flags_str(uint8_t flags, char *out, size_t out_len)
{
    static const char *names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    /* Wireshark's order: least significant first ("SYN, ACK"). */
    size_t n = 0;
    if (out_len)
        out[0] = 0;
    for (int bit = 0; bit < 8; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        int w = snprintf(out + n, out_len > n ? out_len - n : 0, "%s%s", n ? ", " : "", names[bit]);
        if (w > 0)
            n += (size_t)w;
        if (n >= out_len)
            break;
    }
    return out;
}

int nl_parse_port(const char *text, int allow_zero, const char *what, uint16_t *out, char *errbuf)
{
    unsigned long v = 0;
    const char *p = text;
    if (!text || !*text)
        return nl_err(errbuf, NL_EINVAL, "%s: a port number is required (%d-65535)", what, allow_zero ? 0 : 1);
    while (*p) {
        if (*p < '0' || *p > '9')
            return nl_err(errbuf, NL_EINVAL, "%s: '%s' is not a port number (%d-65535)", what, text, allow_zero ? 0 : 1);
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return nl_err(errbuf, NL_EINVAL, "%s: %s is over 65535, the largest TCP/UDP port", what, text);
        p++;
    }
    if (v == 0 && !allow_zero)
        return nl_err(errbuf, NL_EINVAL, "%s: port 0 is reserved; give 1-65535", what);
    *out = (uint16_t)v;
    return 0;
}
