/*
 * nl_chatusers.c - the users of this chat server: registering, leaving, and
 * the room. A name is given here only after the directory (nl_chatnet.h) has
 * said it is this server's; a user who leaves is forgotten at once, sessions
 * (nl_chatsession.c) and name (nl_chatnames.c) alike.
 */
#include "nl_chat_int.h"
#include "nl_app.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- registering and leaving ---- */

/* The name is this server's (the directory said so): c becomes its user and is told OK NICK. */
int chat_register(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len)
{
    if (nl_conn_data(c) || chat_find(s, (const uint8_t *)name, len)) {
        chat_say(c, "ERR 409 name taken: %.*s\n", (int)len, name);
        return NL_EEXIST;
    }
    struct chat_user *u = calloc(1, sizeof *u);
    if (!u) {
        chat_say(c, "ERR 503 server out of memory\n");
        return NL_ENOMEM;
    }
    u->conn = c;
    nl_nament_set(&u->e, name, len);
    u->room_index = NOT_LISTED;
    u->remote_index = NOT_LISTED;
    u->since = nl_loop_now(s->svc.loop);
    if (nl_nametab_add(&s->names, &u->e) < 0) {
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
    nl_conn_set_data(u->conn, NULL);
    free(u);
}

void chat_users_free(struct nl_chat_server *s)
{
    nl_nametab_free(&s->names);
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
