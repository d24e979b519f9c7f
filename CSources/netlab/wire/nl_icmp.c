/*
 * nl_icmp.c - ICMP and ICMPv6 header decode and type names (RFC 792, RFC 4443,
 * RFC 4861). Reads only through nl_cursor; counting and naming only.
 */
#include "netlab/nl_icmp.h"
#include "netlab/nl_error.h"

int nl_icmp_decode(struct nl_cursor *c, struct nl_icmp *h)
{
    const uint8_t *b = nl_cur_bytes(c, NL_ICMP_HDR_LEN);
    if (!b)
        return NL_ETRUNC;
    h->type = b[0];
    h->code = b[1];
    h->checksum = nl_get_be16(b + 2);
    h->id = nl_get_be16(b + 4);
    h->seq = nl_get_be16(b + 6);
    return 0;
}

const char *nl_icmp_type_name(int v6, uint8_t type)
{
    if (!v6) {
        switch (type) {
        case 0: return "echo reply";
        case 3: return "destination unreachable";
        case 4: return "source quench";
        case 5: return "redirect";
        case 8: return "echo request";
        case 9: return "router advertisement";
        case 10: return "router solicitation";
        case 11: return "time exceeded";
        case 12: return "parameter problem";
        case 13: return "timestamp request";
        case 14: return "timestamp reply";
        default: return "other";
        }
    }
    switch (type) {
    case 1: return "destination unreachable";
    case 2: return "packet too big";
    case 3: return "time exceeded";
    case 4: return "parameter problem";
    case 128: return "echo request";
    case 129: return "echo reply";
    case 133: return "router solicitation";
    case 134: return "router advertisement";
    case 135: return "neighbor solicitation";
    case 136: return "neighbor advertisement";
    case 137: return "redirect";
    case 143: return "multicast listener report v2";
    default: return "other";
    }
}

const char *nl_icmp_unreach_name(int v6, uint8_t code)
{
    if (!v6) {
        switch (code) {
        case 0: return "network unreachable";
        case 1: return "host unreachable";
        case 2: return "protocol unreachable";
        case 3: return "port unreachable";
        case 4: return "fragmentation needed";
        case 13: return "administratively prohibited";
        default: return NULL;
        }
    }
    switch (code) {
    case 0: return "no route";
    case 1: return "administratively prohibited";
    case 3: return "address unreachable";
    case 4: return "port unreachable";
    default: return NULL;
    }
}
