/*
 * nl_grow.c - the one growth rule of libnetlab's arrays: room for one more
 * item, doubling from a first size, with the size computation checked for
 * overflow. Owns no array; the caller keeps the pointer, count and capacity.
 */
#include "nl_internal.h"

#include <stdint.h>
#include <stdlib.h>

int nl_grow_n(void **arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : first;
    if (nc <= n || nc > SIZE_MAX / elem)
        return NL_ENOMEM;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return NL_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

int nl_grow(void **arr, size_t n, size_t *cap, size_t elem)
{
    return nl_grow_n(arr, n, cap, elem, 16);
}
