/*
 * nl_pcap_classic.c - the classic pcap format of the capture reader (nl_pcapr.c's table):
 * the 24-byte file header (either byte order, micro- or nanosecond magic) and its 16-byte
 * records, read from the reader's mapped bytes with every length validated before use.
 * Knows nothing of pcapng, nor of how the file was opened.
 */
#include "nl_pcapr_int.h"
#include "netlab/nl_cursor.h"
#include "nl_internal.h"

#include <string.h>

static int open_pcap(struct nl_pcapr *r, char *errbuf)
{
    const uint8_t *b = r->base;
    uint32_t be = nl_get_be32(b);
    uint32_t le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    if (be != PCAP_MAGIC_US && be != PCAP_MAGIC_NS && le != PCAP_MAGIC_US && le != PCAP_MAGIC_NS)
        return NL_ENOTFOUND;
    r->format = NL_FMT_PCAP;
    r->le = (le == PCAP_MAGIC_US || le == PCAP_MAGIC_NS);
    r->pcap_nano = (be == PCAP_MAGIC_NS || le == PCAP_MAGIC_NS);
    r->nano = r->pcap_nano;
    if (r->size < 24)
        return nl_err(errbuf, NL_ETRUNC, "%s: file ends after %zu bytes, inside the 24-byte pcap file header", r->name,
                      r->size);
    const uint8_t *h = r->base;
    uint16_t major = rd16(r, h + 4), minor = rd16(r, h + 6);
    uint32_t snaplen = rd32(r, h + 16);
    uint32_t network = rd32(r, h + 20);
    if (major != 2)
        return nl_err(errbuf, NL_EMALFORMED, "%s: pcap version %u.%u is not supported (only 2.x)", r->name, major,
                      minor);
    /* Bits 26-31 of the link type field carry FCS information (pcap spec 4). */
    int linktype = (int)(network & 0x03ffffff);
    int rc = nl_pcapr_add_iface(r, linktype, snaplen);
    if (rc < 0)
        return nl_err(errbuf, rc, "%s: out of memory", r->name);
    r->pos = 24;
    return 0;
}

static int next_pcap(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf)
{
    size_t left = r->size - r->pos;
    if (left == 0)
        return 0;
    if (left < 16)
        return nl_pcapr_fail(r, errbuf, NL_ETRUNC, "the file ends %zu bytes into a 16-byte record header (the capture was cut short)",
                    left);
    const uint8_t *h = r->base + r->pos;
    uint32_t sec = rd32(r, h), frac = rd32(r, h + 4), incl = rd32(r, h + 8), orig = rd32(r, h + 12);
    if (incl > NL_PCAPR_MAX_CAPLEN)
        return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "record claims %u captured bytes, more than any capture holds (%u)", incl,
                    NL_PCAPR_MAX_CAPLEN);
    if (left - 16 < incl)
        return nl_pcapr_fail(r, errbuf, NL_ETRUNC,
                    "record claims %u captured bytes but the file ends after %zu (the capture was cut short)", incl,
                    left - 16);
    if (orig < incl) {
        if (r->overlong++ == 0)
            nl_pcapr_warn(r, "packet %llu: captured length %u exceeds its wire length %u; using %u",
                        (unsigned long long)r->number + 1, incl, orig, incl);
        orig = incl;
    }
    pkt->data = h + 16;
    pkt->caplen = incl;
    pkt->len = orig;
    pkt->ts_ns = (int64_t)sec * 1000000000 + (r->pcap_nano ? (int64_t)frac : (int64_t)frac * 1000);
    pkt->offset = r->pos;
    pkt->iface = 0;
    pkt->linktype = r->ifaces[0].pub.linktype;
    pkt->direction = NL_DIR_UNKNOWN;
    r->pos += 16 + (size_t)incl;
    pkt->number = ++r->number;
    return 1;
}

const struct nl_pcapr_format_ops nl_pcapr_classic = {open_pcap, next_pcap};
