/*
 * nl_wheel.h - deadlines of many connections in a hashed timing wheel
 * (Varghese & Lauck), internal; never installed. An entry waits in the slot
 * of its due time; expiring visits only the slots passed since the last time,
 * so a connection with nothing due costs nothing, however many there are.
 */
#ifndef NL_WHEEL_H
#define NL_WHEEL_H

#include <stddef.h>
#include <stdint.h>

struct nl_wheel_entry {
    struct nl_wheel_entry *next, **pprev; /* pprev NULL: not scheduled */
    uint64_t due;                         /* ms */
};

struct nl_wheel {
    struct nl_wheel_entry **slots;
    size_t mask;      /* slots - 1 (a power of two) */
    uint32_t grain;   /* ms a slot spans */
    uint64_t done;    /* the last slot expired (in grains since the clock's zero) */
    size_t count;     /* entries scheduled */
};

/* Slots of grain ms each (rounded up to a power of two); now is the current time. NL_ENOMEM or NL_OK. */
int nl_wheel_init(struct nl_wheel *w, size_t slots, uint32_t grain, uint64_t now);
void nl_wheel_free(struct nl_wheel *w);

/* (Re)schedule e at due (ms). */
void nl_wheel_set(struct nl_wheel *w, struct nl_wheel_entry *e, uint64_t due);
/* Schedule e at due unless it is scheduled sooner already. */
void nl_wheel_set_before(struct nl_wheel *w, struct nl_wheel_entry *e, uint64_t due);
void nl_wheel_cancel(struct nl_wheel *w, struct nl_wheel_entry *e);

/* Call fn for every entry due by now (unscheduled before the call; fn may schedule it again, or cancel
 * and set others). Entries a whole turn or more away stay where they are. */
void nl_wheel_expire(struct nl_wheel *w, uint64_t now, void (*fn)(struct nl_wheel_entry *e, void *ud), void *ud);

#endif
