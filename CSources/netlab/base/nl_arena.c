/*
 * nl_arena.c - chunked bump allocator (see nl_arena.h). Large requests get a
 * chunk of their own; nothing is freed before the whole arena is.
 */
#include "nl_arena.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NL_ARENA_CHUNK (256 * 1024)
#define NL_HUGE (2u * 1024 * 1024)

struct nl_arena_chunk {
    struct nl_arena_chunk *next;
    size_t pad; /* keeps data 16-aligned */
    unsigned char data[];
};

void nl_arena_init(struct nl_arena *a) { memset(a, 0, sizeof *a); }

void *nl_arena_alloc(struct nl_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;
    if (!a->head || a->cap - a->used < need) {
        /* Chunks grow with the arena (256 KiB up to 8 MiB); big ones are 2 MiB
         * aligned and offered to transparent huge pages: far fewer page faults
         * when an arena holds tens of megabytes of packets. */
        size_t grow = a->total / 4;
        size_t chunk = NL_ARENA_CHUNK;
        while (chunk < grow && chunk < 8 * NL_HUGE)
            chunk *= 2;
        size_t cap = need > chunk / 4 ? need : chunk;
        struct nl_arena_chunk *c = NULL;
        if (sizeof *c + cap >= NL_HUGE) {
            size_t bytes = (sizeof *c + cap + NL_HUGE - 1) & ~(size_t)(NL_HUGE - 1);
            void *mem = NULL;
            if (posix_memalign(&mem, NL_HUGE, bytes) == 0) {
                (void)madvise(mem, bytes, MADV_HUGEPAGE);
                c = mem;
                cap = bytes - sizeof *c;
            }
        } else {
            c = malloc(sizeof *c + cap);
        }
        if (!c)
            return NULL;
        if (a->head && cap == need && a->cap - a->used >= 64) {
            /* Oversized request: keep the current chunk open for small ones. */
            c->next = a->head->next;
            a->head->next = c;
            a->total += n;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->cap = cap;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    a->total += n;
    return p;
}

char *nl_arena_strndup(struct nl_arena *a, const void *s, size_t n)
{
    char *p = nl_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void nl_arena_free(struct nl_arena *a)
{
    struct nl_arena_chunk *c = a->head;
    while (c) {
        struct nl_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    memset(a, 0, sizeof *a);
}

void *nl_big_alloc(size_t bytes)
{
    if (bytes < NL_HUGE)
        return malloc(bytes ? bytes : 1);
    void *mem = NULL;
    size_t rounded = (bytes + NL_HUGE - 1) & ~(size_t)(NL_HUGE - 1);
    if (posix_memalign(&mem, NL_HUGE, rounded) != 0)
        return NULL;
    (void)madvise(mem, rounded, MADV_HUGEPAGE);
    return mem;
}

void nl_big_free(void *p) { free(p); }
