/*
 * nl_chatusers.c - the users of this chat server: registering, leaving, and
 * the room. A name is given here only after the directory (nl_chatnet.h) has
 * said it is this server's and looks like no other user's; a user who leaves
 * is forgotten at once, sessions (nl_chatsession.c) and name alike.
 */
#include "nl_chat_int.h"
#include "nl_app.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- registering and leaving ---- */

void chat_say_taken(struct nl_conn *c, const char *asked, size_t an, const char *holder, size_t hn)
{
    if (nl_name_same(asked, an, holder, hn))
        chat_say(c, "ERR 409 name taken: %.*s\n", (int)hn, holder);
    else
        chat_say(c, "ERR 409 name taken: %.*s looks like %.*s, who is online (I, l, 1 and i look alike; so do O, o "
                 "and 0, rn and m, vv and w)\n", (int)an, asked, (int)hn, holder);
}

int chat_name_refused(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len)

{
    struct chat_user *other = chat_find(s, (const uint8_t *)name, len);
    if (!other)
        other = chat_find_alike(s, (const uint8_t *)name, len);
    if (!other)
        return 0;
    chat_say_taken(c, name, len, other->e.name, other->e.len);
    return 1;
}

/* The name is this server's (the directory said so): c becomes its user and is told OK NICK. */
int chat_register(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len)
{
    if (nl_conn_data(c))
        return NL_EEXIST;
    if (chat_name_refused(s, c, name, len))
        return NL_EEXIST;
    struct chat_user *u = calloc(1, sizeof *u);
    if (!u) {
        chat_say(c, "ERR 503 server out of memory\n");
        return NL_ENOMEM;
    }
    u->conn = c;
    nl_nament_set(&u->e, name, len);
    u->skel.len = (uint8_t)nl_name_skeleton(name, len, u->skel.name);
    u->room_index = NOT_LISTED;
    u->remote_index = NOT_LISTED;
    u->since = nl_loop_now(s->svc.loop);
    int rc = nl_nametab_add(&s->names, &u->e);
    if (rc == NL_OK && (rc = nl_nametab_add(&s->skels, &u->skel)) < 0)
        nl_nametab_del(&s->names, &u->e);
    if (rc < 0) {
        free(u);
        chat_say(c, "ERR 503 server out of memory\n");
        return NL_ENOMEM;
    }
    nl_conn_set_data(c, u);
    nl_conn_set_ready(c);
    chat_say(c, "OK NICK %s\n", u->e.name);
    char addr[NL_ADDR_STRLEN];
    logc_(s, "join %s %s", u->e.name, nl_conn_peer_text(c, addr));
    return NL_OK;
}

/* Forget u entirely: every peer hears GONE, room members PARTED, and the name is free at once. */
void chat_user_gone(struct nl_chat_server *s, struct chat_user *u, const char *why, int notify)
{
    char addr[NL_ADDR_STRLEN];
    logc_(s, "gone %s %s: %s", u->e.name, nl_conn_peer_text(u->conn, addr), why);
    chat_sess_end_all(s, u, notify);
    chat_room_remove(s, u, notify);
    s->net->ops->release(s->net, u->e.name, u->e.len);
    nl_nametab_del(&s->names, &u->e);
    nl_nametab_del(&s->skels, &u->skel);
    nl_conn_set_data(u->conn, NULL);
    free(u);
}

void chat_users_free(struct nl_chat_server *s)
{
    nl_nametab_free(&s->names);
    nl_nametab_free(&s->skels);
    free(s->room);
    free(s->remote_users);
    s->room = s->remote_users = NULL;
}

/* ---- the room ---- */

int chat_room_add(struct nl_chat_server *s, struct chat_user *u)
{
    if (NL_GROW(s->room, s->nroom, s->caproom, 64) < 0)
        return NL_ENOMEM;
    u->room_index = (uint32_t)s->nroom;
    s->room[s->nroom++] = u;
    return NL_OK;
}

void chat_room_remove(struct nl_chat_server *s, struct chat_user *u, int announce)
{
    if (u->room_index == NOT_LISTED)
        return;
    s->room[u->room_index] = s->room[--s->nroom];
    s->room[u->room_index]->room_index = u->room_index;
    u->room_index = NOT_LISTED;
    if (!announce)
        return;
    for (size_t i = 0; i < s->nroom; i++)
        chat_say(s->room[i]->conn, "PARTED %s\n", u->e.name);
    s->net->ops->room(s->net, NL_CHATNET_PARTED, u->e.name, u->e.len, NULL, 0);
}

/* A room line from another node, for every member here. */
void chat_room_line(struct nl_chat_server *s, const char *line, size_t n)
{
    for (size_t i = 0; i < s->nroom; i++)
        nl_conn_write(s->room[i]->conn, line, n);
}
