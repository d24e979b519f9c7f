/*
 * nl_lineedit.c - the chat client's terminal line editor: the typed line
 * (bounded), backspace over a whole UTF-8 character, ^U, ^W, ^D, escape
 * sequences (arrow keys and the like) swallowed, and the terminal's raw mode.
 * Shows nothing itself: the client draws the prompt and the line.
 */
#include "nl_lineedit.h"

#include <string.h>
#include <termios.h>

enum nl_edit_event nl_edit_key(struct nl_edit *e, uint8_t k, char *out, size_t *n)
{
    if (e->esc) {
        /* ESC [ params final, or ESC O x, or ESC x: arrow keys and the like, ignored. */
        if (e->esc == 1)
            e->esc = (k == '[' || k == 'O') ? 2 : 0;
        else if (k >= 0x40 && k <= 0x7E)
            e->esc = 0;
        return NL_EDIT_NONE;
    }
    switch (k) {
    case '\r':
    case '\n':
        memcpy(out, e->buf, e->len);
        *n = e->len;
        e->len = 0;
        return NL_EDIT_LINE;
    case 0x7F:
    case 0x08:
        /* Back over one whole UTF-8 character. */
        while (e->len > 0) {
            uint8_t b = (uint8_t)e->buf[--e->len];
            if ((b & 0xC0) != 0x80)
                break;
        }
        break;
    case 0x15: /* ^U */
        e->len = 0;
        break;
    case 0x17: /* ^W */
        while (e->len > 0 && e->buf[e->len - 1] == ' ')
            e->len--;
        while (e->len > 0 && e->buf[e->len - 1] != ' ')
            e->len--;
        break;
    case 0x04: /* ^D */
        if (e->len == 0)
            return NL_EDIT_EOF;
        break;
    case 0x1B:
        e->esc = 1;
        return NL_EDIT_NONE;
    default:
        if (k < 0x20)
            return NL_EDIT_NONE;
        if (e->len < NL_EDIT_MAX - 64)
            e->buf[e->len++] = (char)k;
        break;
    }
    return NL_EDIT_CHANGED;
}

void nl_edit_raw(struct nl_edit *e, int fd)
{
    struct termios t;
    if (tcgetattr(fd, &e->saved) != 0)
        return;
    e->fd = fd;
    e->term_saved = 1;
    t = e->saved;
    t.c_lflag &= (tcflag_t) ~(ICANON | ECHO); /* ISIG stays: Ctrl-C still interrupts */
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
}

void nl_edit_restore(struct nl_edit *e)
{
    if (e->term_saved)
        tcsetattr(e->fd, TCSANOW, &e->saved);
    e->term_saved = 0;
}
