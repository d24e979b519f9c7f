/*
 * nl_chatwords.h - the words of a server line as the chat client reads them
 * (internal; never installed): shared by its renderer (nl_chatrender.c) and its
 * protocol side (nl_chatclient.c).
 */
#ifndef NL_CHATWORDS_H
#define NL_CHATWORDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 1 if the line starts with the word w (then a space or its end). */
static inline int word_is(const uint8_t *p, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && memcmp(p, w, k) == 0 && (n == k || p[k] == ' ');
}

/* Split "WORD a rest": a = first token after WORD, rest = after the space that follows it. */
static inline void split(const uint8_t *line, size_t len, size_t wlen, const uint8_t **a, size_t *alen,
                  const uint8_t **rest, size_t *rlen)
{
    size_t i = wlen < len ? wlen + 1 : len;
    size_t a0 = i;
    while (i < len && line[i] != ' ')
        i++;
    *a = line + a0;
    *alen = i - a0;
    *rest = i < len ? line + i + 1 : line + len;
    *rlen = i < len ? len - i - 1 : 0;
}

#endif
