/*
 * nl_arena.h - a chunked bump allocator for many small, same-lifetime objects
 * (CSV strings, crafted packets). Pointers stay valid until nl_arena_free.
 * Internal to libnetlab.
 */
#ifndef NL_ARENA_H
#define NL_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct nl_arena_chunk;

struct nl_arena {
    struct nl_arena_chunk *head;
    size_t used;      /* bytes used in head */
    size_t cap;       /* capacity of head */
    size_t total;     /* bytes handed out, for limits and reports */
};

void nl_arena_init(struct nl_arena *a);
/* n bytes aligned to 16, or NULL when out of memory. */
void *nl_arena_alloc(struct nl_arena *a, size_t n);
/* Copy of s[0..n) plus a NUL terminator, or NULL. */
char *nl_arena_strndup(struct nl_arena *a, const void *s, size_t n);
void nl_arena_free(struct nl_arena *a);

/* A large array (2 MiB aligned, offered to transparent huge pages when it is at
 * least that big) and its matching free. For vectors sized up front. */
void *nl_big_alloc(size_t bytes);
void nl_big_free(void *p);

#endif
