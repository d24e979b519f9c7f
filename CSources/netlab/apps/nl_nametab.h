/*
 * nl_nametab.h - a table of names that ignores case (internal; never
 * installed): the chat server's users and the Redis mechanism's copies of
 * other servers' users are both kept in one. Entries are intrusive: a struct
 * begins with struct nl_nament and the table links it; it owns no entry.
 */
#ifndef NL_NAMETAB_H
#define NL_NAMETAB_H

#include <stddef.h>
#include <stdint.h>

#define NL_NAMETAB_MAX 32 /* longest name (the chat protocol's) */

struct nl_nament {
    struct nl_nament *next;
    uint32_t hash;
    uint8_t len;
    char name[NL_NAMETAB_MAX + 1];
};

struct nl_nametab {
    struct nl_nament **b;
    size_t nb, n;
    size_t first; /* buckets at the first add (0: 256); doubled whenever n would pass nb */
};

/* FNV-1a over the lower-cased name. */
uint32_t nl_name_hash(const char *p, size_t n);
/* 1 if the two names are equal ignoring the case of A-Z. */
int nl_name_same(const char *a, size_t an, const char *b, size_t bn);
/*
 * The skeleton of a name of A-Z a-z 0-9 _ - (UTS #39's skeleton, within those characters and ignoring
 * case as chat names do): letters folded to lower case; I, i, l and 1 as l; O, o and 0 as o; then, left
 * to right, rn as m and vv as w. Names that look alike in some spelling ("aIice", "alice") share one.
 * out holds n + 1 bytes; returns the skeleton's length (at most n).
 */
size_t nl_name_skeleton(const char *p, size_t n, char *out);
/* Set e's name (at most NL_NAMETAB_MAX bytes; the caller checked). */
void nl_nament_set(struct nl_nament *e, const char *p, size_t n);

struct nl_nament *nl_nametab_find(const struct nl_nametab *t, const char *p, size_t n);
/* Link e (its name set); NL_ENOMEM when the buckets cannot grow (e is not linked). */
int nl_nametab_add(struct nl_nametab *t, struct nl_nament *e);
void nl_nametab_del(struct nl_nametab *t, struct nl_nament *e);
/* Unlink every entry, calling drop (may be NULL) on each; the buckets stay. */
void nl_nametab_clear(struct nl_nametab *t, void (*drop)(struct nl_nament *e));
/* Free the buckets (the entries are the caller's). */
void nl_nametab_free(struct nl_nametab *t);

#endif
