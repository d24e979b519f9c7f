/*
 * nl_readahead.c - the analysis' packet source (see nl_readahead.h): reads the
 * capture and decodes each packet (headers, both checksums, the conversation key's
 * hash) in blocks, ahead of the packet loop that accounts them. With a second CPU
 * and a capture worth it, the blocks are filled by a thread of their own while the
 * loop accounts the previous ones: reading and checksumming (the bytes of every
 * packet) and the accounting (conversation state) then run side by side. Decoding
 * is pure, the accounting stays in packet order on the caller's thread, so the
 * results are those of one thread. Owns the thread and the blocks; no other state.
 */
#include "nl_readahead.h"
#include "netlab/nl_link.h"
#include "nl_flow.h"
#include "nl_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RA_BLOCK 512       /* packets per block, at most */
#define RA_BLOCK_BYTES (512u << 10) /* a block ends early past this many bytes of the file: with
                                     * large frames the blocks in flight stay a few MiB */
#define RA_NBLOCKS 8       /* blocks in the ring: at most this many decoded and not yet accounted */
#define RA_THREAD_MIN_BYTES (4u << 20) /* smaller captures are read on the caller's thread */

struct ra_block {
    struct nl_ahead pkt[RA_BLOCK];
    uint32_t n;
    int end;                   /* the last block: the capture ended (or failed) after its n packets */
    int rc;                    /* 0 at the end of the file, else the reader's error */
    char err[NL_ERRBUF_SIZE];
};

struct nl_readahead {
    struct nl_pcapr *rd;
    struct ra_block *blocks;
    uint32_t nblocks;          /* RA_NBLOCKS with the thread, else 1 */
    _Atomic uint64_t filled;   /* blocks filled so far (the producer's count) */
    uint64_t released;         /* blocks the consumer is done with (under mu) */
    uint64_t cur;              /* the block the consumer is in */
    struct ra_block *b;        /* that block, once there */
    int threaded, started, stop, done;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void fill(struct nl_readahead *ra, struct ra_block *b)
{
    b->n = 0;
    b->end = 0;
    b->rc = 0;
    uint64_t first = 0;
    while (b->n < RA_BLOCK && (!b->n || b->pkt[b->n - 1].pkt.offset - first < RA_BLOCK_BYTES)) {
        struct nl_ahead *w = &b->pkt[b->n];
        int rc = nl_pcapr_next(ra->rd, &w->pkt, b->err);
        if (rc <= 0) {
            b->end = 1;
            b->rc = rc;
            return;
        }
        w->decoded = (uint8_t)nl_linktype_supported(w->pkt.linktype);
        w->keyed = 0;
        w->flow = 0;
        if (w->decoded) {
            nl_decode_packet(&w->pkt, NL_DECODE_CHECKSUMS, &w->d);
            if (w->d.has_l4 && (w->d.proto == 6 || w->d.proto == 17) && w->d.ipver) {
                w->hash = nl_flow_hash(&w->d, &w->dir);
                w->keyed = 1;
            }
        }
        if (!b->n)
            first = w->pkt.offset;
        b->n++;
    }
}

static void *producer(void *arg)
{
    struct nl_readahead *ra = arg;
    for (uint64_t i = 0;; i++) {
        pthread_mutex_lock(&ra->mu);
        while (!ra->stop && i - ra->released >= RA_NBLOCKS)
            pthread_cond_wait(&ra->cv, &ra->mu);
        int stop = ra->stop;
        pthread_mutex_unlock(&ra->mu);
        if (stop)
            return NULL;
        struct ra_block *b = &ra->blocks[i % ra->nblocks];
        fill(ra, b);
        pthread_mutex_lock(&ra->mu);
        atomic_store_explicit(&ra->filled, i + 1, memory_order_release);
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        if (b->end)
            return NULL;
    }
}

/* Whether a second thread pays: NETLAB_ANALYZE_THREADS=1 never, =2 always; else with two
 * CPUs to run on and a capture of a few megabytes. */
static int want_thread(const struct nl_pcapr *rd)
{
    const char *e = getenv("NETLAB_ANALYZE_THREADS");
    if (e && *e)
        return atoi(e) >= 2;
#ifdef __linux__
    cpu_set_t set; /* the CPUs this process may run on, not the machine's */
    if (sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) < 2 : sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0; /* (a machine of more than 1,024 CPUs fails the call: then the online count) */
#else
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0;
#endif
    return nl_pcapr_size(rd) >= RA_THREAD_MIN_BYTES;
}

int nl_readahead_open(struct nl_readahead **out, struct nl_pcapr *rd, char *errbuf)
{
    *out = NULL;
    int threaded = want_thread(rd);
    struct nl_readahead *ra = calloc(1, sizeof *ra);
    /* One thread needs one block: filled when the loop has finished the one before. */
    struct ra_block *b = ra ? malloc((threaded ? RA_NBLOCKS : 1) * sizeof *b) : NULL;
    if (!b) {
        free(ra);
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory for the read-ahead blocks", nl_pcapr_name(rd));
    }
    ra->rd = rd;
    ra->blocks = b;
    ra->nblocks = threaded ? RA_NBLOCKS : 1;
    atomic_init(&ra->filled, 0);
    nl_pcapr_release_before(rd, 0); /* the pages behind the packet being accounted go, not behind the reader */
    ra->threaded = threaded;
    if (ra->threaded) {
        pthread_mutex_init(&ra->mu, NULL);
        pthread_cond_init(&ra->cv, NULL);
        if (pthread_create(&ra->th, NULL, producer, ra) == 0) {
            ra->started = 1;
        } else { /* no thread to be had: read on this one (in the ring's first block) */
            pthread_mutex_destroy(&ra->mu);
            pthread_cond_destroy(&ra->cv);
            ra->threaded = 0;
            ra->nblocks = 1;
        }
    }
    if (!ra->threaded) {
        fill(ra, &b[0]);
        atomic_store_explicit(&ra->filled, 1, memory_order_relaxed);
    }
    *out = ra;
    return 0;
}

/* Wait (threaded) or fill (not) until block i is there. */
static struct ra_block *block(struct nl_readahead *ra, uint64_t i)
{
    if (atomic_load_explicit(&ra->filled, memory_order_acquire) <= i) {
        if (ra->threaded) {
            pthread_mutex_lock(&ra->mu);
            while (atomic_load_explicit(&ra->filled, memory_order_acquire) <= i)
                pthread_cond_wait(&ra->cv, &ra->mu);
            pthread_mutex_unlock(&ra->mu);
        } else {
            fill(ra, &ra->blocks[i % ra->nblocks]);
            atomic_store_explicit(&ra->filled, i + 1, memory_order_relaxed);
        }
    }
    return &ra->blocks[i % ra->nblocks];
}

/* The capture is over after block b: its reader's verdict. */
static struct nl_ahead *finished(struct nl_readahead *ra, const struct ra_block *b, int *rc, char *errbuf)
{
    ra->done = 1;
    *rc = b->rc;
    if (b->rc < 0)
        snprintf(errbuf, NL_ERRBUF_SIZE, "%s", b->err);
    return NULL;
}

struct nl_ahead *nl_readahead_block(struct nl_readahead *ra, uint32_t *n, int *rc, char *errbuf)
{
    *n = 0;
    *rc = 0;
    if (ra->done)
        return NULL;
    if (ra->b) { /* done with the previous block */
        if (ra->b->end)
            return finished(ra, ra->b, rc, errbuf);
        /* The mapped pages behind its last packet go before the next block is read. */
        nl_pcapr_release_before(ra->rd, ra->b->pkt[ra->b->n - 1].pkt.offset);
        ra->cur++; /* give it back */
        if (ra->threaded) {
            pthread_mutex_lock(&ra->mu);
            ra->released = ra->cur;
            pthread_cond_broadcast(&ra->cv);
            pthread_mutex_unlock(&ra->mu);
        }
    }
    struct ra_block *b = block(ra, ra->cur);
    ra->b = b;
    if (!b->n) /* a last block with no packet */
        return finished(ra, b, rc, errbuf);
    *n = b->n;
    return b->pkt;
}

void nl_readahead_close(struct nl_readahead *ra)
{
    if (!ra)
        return;
    if (ra->started) {
        pthread_mutex_lock(&ra->mu);
        ra->stop = 1;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        pthread_join(ra->th, NULL);
        pthread_mutex_destroy(&ra->mu);
        pthread_cond_destroy(&ra->cv);
    }
    free(ra->blocks);
    free(ra);
}
