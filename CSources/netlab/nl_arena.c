/*
 * nl_arena.c - chunked bump allocator (see nl_arena.h). Large requests get a
 * chunk of their own; nothing is freed before the whole arena is.
 */
#include "nl_arena.h"

#include <stdlib.h>
#include <string.h>

#define NL_ARENA_CHUNK (256 * 1024)

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
        size_t cap = need > NL_ARENA_CHUNK / 4 ? need : NL_ARENA_CHUNK;
        struct nl_arena_chunk *c = malloc(sizeof *c + cap);
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
