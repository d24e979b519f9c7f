/*
 * nl_wheel.c - a hashed timing wheel (nl_wheel.h): slot = due / grain,
 * masked; a slot's list is taken whole when its time has passed, its due
 * entries handed to the caller and the others (a turn or more away) put back.
 * Owns the slots, not the entries; knows nothing of connections.
 */
#include "nl_wheel.h"
#include "netlab/nl_error.h"

#include <stdlib.h>

int nl_wheel_init(struct nl_wheel *w, size_t slots, uint32_t grain, uint64_t now)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    w->slots = calloc(n, sizeof *w->slots);
    if (!w->slots)
        return NL_ENOMEM;
    w->mask = n - 1;
    w->grain = grain ? grain : 1;
    w->done = now / w->grain;
    w->count = 0;
    return NL_OK;
}

void nl_wheel_free(struct nl_wheel *w)
{
    free(w->slots);
    w->slots = NULL;
    w->count = 0;
}

static void link_in(struct nl_wheel_entry **head, struct nl_wheel_entry *e)
{
    e->next = *head;
    if (e->next)
        e->next->pprev = &e->next;
    e->pprev = head;
    *head = e;
}

static void unlink_e(struct nl_wheel_entry *e)
{
    *e->pprev = e->next;
    if (e->next)
        e->next->pprev = e->pprev;
    e->next = NULL;
    e->pprev = NULL;
}

void nl_wheel_cancel(struct nl_wheel *w, struct nl_wheel_entry *e)
{
    if (!e->pprev)
        return;
    unlink_e(e);
    w->count--;
}

void nl_wheel_set(struct nl_wheel *w, struct nl_wheel_entry *e, uint64_t due)
{
    nl_wheel_cancel(w, e);
    uint64_t slot = due / w->grain;
    if (slot <= w->done)
        slot = w->done + 1; /* already due: the next expiry takes it */
    e->due = due;
    link_in(&w->slots[slot & w->mask], e);
    w->count++;
}

void nl_wheel_set_before(struct nl_wheel *w, struct nl_wheel_entry *e, uint64_t due)
{
    if (!e->pprev || due < e->due)
        nl_wheel_set(w, e, due);
}

void nl_wheel_expire(struct nl_wheel *w, uint64_t now, void (*fn)(struct nl_wheel_entry *e, void *ud), void *ud)
{
    uint64_t last = now / w->grain;
    if (last > w->done + w->mask + 1)
        w->done = last - w->mask - 1; /* a whole turn (or more) passed: every slot once */
    while (w->done < last) {
        uint64_t slot = ++w->done;
        struct nl_wheel_entry *head = w->slots[slot & w->mask];
        w->slots[slot & w->mask] = NULL;
        if (head)
            head->pprev = &head;
        while (head) {
            struct nl_wheel_entry *e = head;
            unlink_e(e);
            w->count--;
            if (e->due <= now)
                fn(e, ud); /* may set e again, or cancel others (head follows) */
            else
                nl_wheel_set(w, e, e->due); /* a turn or more away */
        }
    }
}
