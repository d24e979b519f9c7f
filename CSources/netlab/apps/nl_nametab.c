/*
 * nl_nametab.c - a table of names that ignores case (nl_nametab.h): chained
 * buckets, doubled as the table fills, and the skeleton under which names that
 * look alike are one. Finds, links and unlinks entries it does not own; decides
 * nothing about who may have a name.
 */
#include "nl_nametab.h"
#include "netlab/nl_error.h"

#include <stdlib.h>
#include <string.h>

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

uint32_t nl_name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ lower((uint8_t)p[i])) * 16777619u;
    return h;
}

int nl_name_same(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]))
            return 0;
    return 1;
}

size_t nl_name_skeleton(const char *p, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)lower((uint8_t)p[i]);
        if (c == 'i' || c == '1')
            c = 'l';
        else if (c == '0')
            c = 'o';
        if (k && out[k - 1] == 'r' && c == 'n')
            out[k - 1] = 'm';
        else if (k && out[k - 1] == 'v' && c == 'v')
            out[k - 1] = 'w';
        else
            out[k++] = c;
    }
    out[k] = 0;
    return k;
}

void nl_nament_set(struct nl_nament *e, const char *p, size_t n)
{
    e->len = (uint8_t)n;
    memcpy(e->name, p, n);
    e->name[n] = 0;
}

struct nl_nament *nl_nametab_find(const struct nl_nametab *t, const char *p, size_t n)
{
    if (!t->nb || n == 0 || n > NL_NAMETAB_MAX)
        return NULL;
    uint32_t h = nl_name_hash(p, n);
    for (struct nl_nament *e = t->b[h & (t->nb - 1)]; e; e = e->next)
        if (e->hash == h && nl_name_same(e->name, e->len, p, n))
            return e;
    return NULL;
}

int nl_nametab_add(struct nl_nametab *t, struct nl_nament *e)
{
    if (t->n + 1 > t->nb) {
        size_t nb = t->nb ? t->nb * 2 : (t->first ? t->first : 256);
        struct nl_nament **b = calloc(nb, sizeof *b);
        if (!b)
            return NL_ENOMEM;
        for (size_t i = 0; i < t->nb; i++)
            for (struct nl_nament *x = t->b[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        free(t->b);
        t->b = b;
        t->nb = nb;
    }
    e->hash = nl_name_hash(e->name, e->len);
    struct nl_nament **bk = &t->b[e->hash & (t->nb - 1)];
    e->next = *bk;
    *bk = e;
    t->n++;
    return NL_OK;
}

void nl_nametab_del(struct nl_nametab *t, struct nl_nament *e)
{
    for (struct nl_nament **pp = &t->b[e->hash & (t->nb - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            t->n--;
            return;
        }
}

void nl_nametab_clear(struct nl_nametab *t, void (*drop)(struct nl_nament *e))
{
    for (size_t i = 0; i < t->nb; i++) {
        struct nl_nament *e = t->b[i];
        t->b[i] = NULL;
        while (e) {
            struct nl_nament *next = e->next;
            if (drop)
                drop(e);
            e = next;
        }
    }
    t->n = 0;
}

void nl_nametab_free(struct nl_nametab *t)
{
    free(t->b);
    t->b = NULL;
    t->nb = t->n = 0;
}
