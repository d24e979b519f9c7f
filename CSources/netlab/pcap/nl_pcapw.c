/*
 * nl_pcapw.c - capture file writing: pcap through libpcap's pcap_dump, pcapng
 * (which libpcap cannot write) through a small block writer. Where the bytes
 * go is nl_outfile's: a regular file appears whole on commit or not at all,
 * a device, FIFO or "-" is streamed in place.
 */
#include "netlab/nl_pcapw.h"
#include "netlab/nl_outfile.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct nl_pcapw {
    int ng;                 /* pcapng: blocks written with fwrite, no libpcap dumper */
    pcap_t *dead;
    pcap_dumper_t *dumper;
    FILE *fp;               /* on a dup() of the outfile's descriptor */
    struct nl_outfile *of;
    const char *path;       /* nl_outfile_name(of) */
    int nano;
    uint32_t snaplen;
    uint64_t bytes;
    char *iobuf;
};

static void pcapw_free(struct nl_pcapw *w)
{
    if (w->dumper)
        pcap_dump_close(w->dumper); /* closes fp */
    else if (w->fp)
        fclose(w->fp);
    if (w->dead)
        pcap_close(w->dead);
    nl_outfile_abort(w->of);
    free(w->iobuf);
    free(w);
}

static int open_temp(struct nl_pcapw **out, const char *path, uint32_t snaplen, int nano, char *errbuf)
{
    *out = NULL;
    struct nl_pcapw *w = calloc(1, sizeof *w);
    if (!w)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path ? path : "capture file");
    w->nano = nano;
    w->snaplen = snaplen ? snaplen : 262144;
    int rc = nl_outfile_open(&w->of, path, 0, errbuf);
    if (rc < 0) {
        free(w);
        return rc;
    }
    w->path = nl_outfile_name(w->of);
    int fd = fcntl(nl_outfile_fd(w->of), F_DUPFD_CLOEXEC, 3);
    w->fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!w->fp) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        pcapw_free(w);
        return nl_err_sys(errbuf, e, "%s: fdopen", path);
    }
    /* A stream (pipe, FIFO, device) gets packets as nl_pcapw_flush pushes them. */
    size_t bufsize = nl_outfile_is_stream(w->of) ? 64 << 10 : 1 << 20;
    w->iobuf = malloc(bufsize);
    if (w->iobuf)
        setvbuf(w->fp, w->iobuf, _IOFBF, bufsize);
    *out = w;
    return 0;
}

int nl_pcapw_open(struct nl_pcapw **out, const char *path, int linktype, uint32_t snaplen, int nano, char *errbuf)
{
    struct nl_pcapw *w;
    int rc = open_temp(&w, path, snaplen, nano, errbuf);
    if (rc < 0)
        return rc;
    /* libpcap wants a DLT_ value; the file records the LINKTYPE_ value. They
     * differ only for a few historical types, of which RAW matters here. */
    int dlt = linktype == NL_LINKTYPE_RAW ? DLT_RAW : linktype;
    w->dead = pcap_open_dead_with_tstamp_precision(dlt, (int)w->snaplen,
                                                   nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (!w->dead) {
        nl_pcapw_abort(w);
        return nl_err(errbuf, NL_ELIB, "%s: pcap_open_dead failed for link type %d", path, linktype);
    }
    w->dumper = pcap_dump_fopen(w->dead, w->fp);
    if (!w->dumper) {
        char msg[PCAP_ERRBUF_SIZE + 1];
        snprintf(msg, sizeof msg, "%s", pcap_geterr(w->dead));
        nl_pcapw_abort(w);
        return nl_err(errbuf, NL_ELIB, "%s: pcap_dump_fopen: %s", path, msg);
    }
    w->bytes = 24;
    *out = w;
    return 0;
}

/* pcapng blocks (draft-ietf-opsawg-pcapng), written in host byte order. */
static int ng_block(struct nl_pcapw *w, uint32_t type, const void *body, size_t body_len, const void *data,
                    size_t data_len)
{
    static const uint8_t zero[4] = {0};
    size_t pad = (4 - data_len % 4) % 4;
    uint32_t total = (uint32_t)(12 + body_len + data_len + pad);
    if (fwrite(&type, 4, 1, w->fp) != 1 || fwrite(&total, 4, 1, w->fp) != 1 ||
        (body_len && fwrite(body, body_len, 1, w->fp) != 1) || (data_len && fwrite(data, data_len, 1, w->fp) != 1) ||
        (pad && fwrite(zero, pad, 1, w->fp) != 1) || fwrite(&total, 4, 1, w->fp) != 1)
        return -1;
    w->bytes += total;
    return 0;
}

static size_t ng_option(uint8_t *p, uint16_t code, const void *v, uint16_t len)
{
    memcpy(p, &code, 2);
    memcpy(p + 2, &len, 2);
    memcpy(p + 4, v, len);
    size_t n = 4 + (size_t)len;
    while (n % 4)
        p[n++] = 0;
    return n;
}

int nl_pcapw_open_ng(struct nl_pcapw **out, const char *path, int linktype, uint32_t snaplen, const char *ifname,
                     char *errbuf)
{
    struct nl_pcapw *w;
    int rc = open_temp(&w, path, snaplen, 1, errbuf);
    if (rc < 0)
        return rc;
    w->ng = 1;
    w->bytes = 0;
    uint8_t shb[64], idb[200];
    size_t n = 0;
    uint32_t magic = 0x1a2b3c4d;
    uint16_t major = 1, minor = 0;
    uint64_t section_len = UINT64_MAX; /* not specified */
    memcpy(shb, &magic, 4);
    memcpy(shb + 4, &major, 2);
    memcpy(shb + 6, &minor, 2);
    memcpy(shb + 8, &section_len, 8);
    n = 16;
    n += ng_option(shb + n, 4 /* shb_userappl */, "netlab", 6);
    n += ng_option(shb + n, 0, NULL, 0);
    uint16_t lt = (uint16_t)linktype, reserved = 0;
    uint32_t snap = w->snaplen;
    memcpy(idb, &lt, 2);
    memcpy(idb + 2, &reserved, 2);
    memcpy(idb + 4, &snap, 4);
    size_t m = 8;
    if (ifname && *ifname)
        m += ng_option(idb + m, 2 /* if_name */, ifname, (uint16_t)strnlen(ifname, 100));
    uint8_t res = 9; /* if_tsresol: 10^-9 s */
    m += ng_option(idb + m, 9, &res, 1);
    m += ng_option(idb + m, 0, NULL, 0);
    if (ng_block(w, 0x0a0d0d0a, shb, n, NULL, 0) < 0 || ng_block(w, 1, idb, m, NULL, 0) < 0) {
        int e = errno;
        nl_pcapw_abort(w);
        return nl_err_sys(errbuf, e ? e : EIO, "%s: write failed", path);
    }
    *out = w;
    return 0;
}

/* An Enhanced Packet Block with an opt_comment (code 1) after the padded packet data. */
int nl_pcapw_write_comment(struct nl_pcapw *w, int64_t t_ns, const uint8_t *data, uint32_t caplen, uint32_t len,
                           const char *comment, char *errbuf)
{
    if (!w->ng || !comment || !*comment)
        return nl_pcapw_write(w, t_ns, data, caplen, len, errbuf);
    if (caplen > w->snaplen)
        caplen = w->snaplen;
    if (t_ns < 0)
        t_ns = 0;
    size_t clen = strnlen(comment, 4000);
    uint8_t body[20 + 4 + 4004 + 4];
    uint32_t ifid = 0, hi = (uint32_t)((uint64_t)t_ns >> 32), lo = (uint32_t)t_ns, cl = caplen;
    uint32_t ol = len < caplen ? caplen : len;
    memcpy(body, &ifid, 4);
    memcpy(body + 4, &hi, 4);
    memcpy(body + 8, &lo, 4);
    memcpy(body + 12, &cl, 4);
    memcpy(body + 16, &ol, 4);
    uint8_t opts[4 + 4004 + 4];
    size_t n = ng_option(opts, 1 /* opt_comment */, comment, (uint16_t)clen);
    n += ng_option(opts + n, 0, NULL, 0);
    static const uint8_t zero[4] = {0};
    size_t pad = (4 - caplen % 4) % 4;
    uint32_t type = 6, total = (uint32_t)(12 + 20 + caplen + pad + n);
    if (fwrite(&type, 4, 1, w->fp) != 1 || fwrite(&total, 4, 1, w->fp) != 1 || fwrite(body, 20, 1, w->fp) != 1 ||
        (caplen && fwrite(data, caplen, 1, w->fp) != 1) || (pad && fwrite(zero, pad, 1, w->fp) != 1) ||
        fwrite(opts, n, 1, w->fp) != 1 || fwrite(&total, 4, 1, w->fp) != 1)
        return nl_err_sys(errbuf, errno ? errno : EIO, "%s: write failed", w->path);
    w->bytes += total;
    return 0;
}

int nl_pcapw_write(struct nl_pcapw *w, int64_t t_ns, const uint8_t *data, uint32_t caplen, uint32_t len, char *errbuf)
{
    struct pcap_pkthdr h;
    if (caplen > w->snaplen)
        caplen = w->snaplen;
    if (t_ns < 0)
        t_ns = 0;
    if (w->ng) {
        uint8_t epb[20];
        uint32_t ifid = 0, hi = (uint32_t)((uint64_t)t_ns >> 32), lo = (uint32_t)t_ns, cl = caplen;
        uint32_t ol = len < caplen ? caplen : len;
        memcpy(epb, &ifid, 4);
        memcpy(epb + 4, &hi, 4);
        memcpy(epb + 8, &lo, 4);
        memcpy(epb + 12, &cl, 4);
        memcpy(epb + 16, &ol, 4);
        if (ng_block(w, 6, epb, sizeof epb, data, caplen) < 0)
            return nl_err_sys(errbuf, errno ? errno : EIO, "%s: write failed", w->path);
        return 0;
    }
    h.ts.tv_sec = (time_t)(t_ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(w->nano ? t_ns % 1000000000 : (t_ns % 1000000000) / 1000);
    h.caplen = caplen;
    h.len = len < caplen ? caplen : len;
    pcap_dump((u_char *)w->dumper, &h, data);
    w->bytes += 16 + caplen;
    if (ferror(w->fp))
        return nl_err_sys(errbuf, errno ? errno : EIO, "%s: write failed", w->path);
    return 0;
}

uint64_t nl_pcapw_bytes(const struct nl_pcapw *w) { return w ? w->bytes : 0; }

int nl_pcapw_flush(struct nl_pcapw *w, char *errbuf)
{
    if (!w || !nl_outfile_is_stream(w->of))
        return 0;
    if ((w->dumper ? pcap_dump_flush(w->dumper) != 0 : fflush(w->fp) != 0) || ferror(w->fp))
        return nl_err_sys(errbuf, errno ? errno : EIO, "%s: write failed", w->path);
    return 0;
}

int nl_pcapw_is_stream(const struct nl_pcapw *w) { return w && nl_outfile_is_stream(w->of); }

int nl_pcapw_commit(struct nl_pcapw *w, char *errbuf)
{
    int rc = 0;
    if ((w->dumper ? pcap_dump_flush(w->dumper) != 0 : fflush(w->fp) != 0) || ferror(w->fp))
        rc = nl_err_sys(errbuf, errno ? errno : EIO, "%s: flushing the capture failed", w->path);
    if (rc < 0) {
        nl_pcapw_abort(w);
        return rc;
    }
    int closed = w->dumper ? (pcap_dump_close(w->dumper), 0) /* closes fp */ : fclose(w->fp);
    int e = errno;
    w->dumper = NULL;
    w->fp = NULL;
    if (closed != 0) {
        nl_pcapw_abort(w);
        return nl_err_sys(errbuf, e, "%s: close failed", w->path);
    }
    struct nl_outfile *of = w->of;
    w->of = NULL;
    pcapw_free(w);
    return nl_outfile_commit(of, errbuf);
}

void nl_pcapw_abort(struct nl_pcapw *w)
{
    if (!w)
        return;
    pcapw_free(w); /* the outfile drops a regular file's bytes; a stream keeps what it got */
}
