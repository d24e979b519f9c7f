/*
 * nl_lineedit.h - the chat client's terminal line editor (internal; never
 * installed): raw mode on and off, and one typed key at a time into a bounded line.
 */
#ifndef NL_LINEEDIT_H
#define NL_LINEEDIT_H

#include "netlab/nl_chat.h"

#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#define NL_EDIT_MAX NL_CHAT_MAX_LINE

struct nl_edit {
    char buf[NL_EDIT_MAX + 8];
    size_t len;
    int esc;              /* inside a terminal escape sequence typed by the user */
    int fd;               /* the terminal, while raw */
    int term_saved;
    struct termios saved;
};

enum nl_edit_event {
    NL_EDIT_NONE = 0,     /* nothing to show (inside an escape sequence, a control key) */
    NL_EDIT_CHANGED,      /* the line changed: show it again */
    NL_EDIT_LINE,         /* Enter: the line (NL_EDIT_MAX + 8 bytes room) is in out, the editor empty */
    NL_EDIT_EOF           /* ^D on an empty line */
};

/* One key (or byte of one). */
enum nl_edit_event nl_edit_key(struct nl_edit *e, uint8_t k, char *out, size_t *n);
/* The terminal fd without echo and line buffering (ISIG stays: Ctrl-C still interrupts). */
void nl_edit_raw(struct nl_edit *e, int fd);
/* The terminal's mode as it was (nothing if nl_edit_raw did not change it). */
void nl_edit_restore(struct nl_edit *e);

#endif
