/*
 * nl_text.h - UTF-8 (RFC 3629) decoding and validation, and making untrusted
 * text safe to show on a terminal: control characters, escape sequences and
 * bidirectional overrides become visible, inert notation.
 */
#ifndef NL_TEXT_H
#define NL_TEXT_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Length (1-4) of the well-formed UTF-8 sequence at the start of p[0..n), or 0
 * if none starts there (a stray continuation byte, a truncated sequence, an
 * overlong form, a surrogate, or a value above U+10FFFF). *cp gets the code
 * point when cp is not NULL.
 */
NL_API size_t nl_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp);

/** 1 if p[0..n) is entirely well-formed UTF-8 (the empty string is). */
NL_API int nl_utf8_valid(const uint8_t *p, size_t n);

/**
 * Write p[0..n) to out (at most cap bytes, always NUL-terminated when cap > 0)
 * so that a terminal shows it and interprets nothing: printable ASCII, TAB and
 * printable non-ASCII characters pass; other C0 controls and DEL become caret
 * notation (ESC is "^["), C1 controls, bidirectional controls and line/paragraph
 * separators become "<U+XXXX>", and bytes that are not UTF-8 become "\xNN".
 * Returns the length the full result needs (without the NUL), like snprintf.
 */
NL_API size_t nl_text_sanitize(const uint8_t *p, size_t n, char *out, size_t cap);

/**
 * 1 if p[0..n) is UTF-8 with nothing a terminal or a bidi-aware viewer would act on: no C0
 * control (TAB and LF included), DEL, C1 control, bidirectional control or line/paragraph
 * separator (what nl_text_sanitize masks). For names and ids that are shown as they are.
 */
NL_API int nl_text_plain(const uint8_t *p, size_t n);

/* nl_text_escape flags */
#define NL_TEXT_KEEP_LINES 1u  /* LF and TAB pass as they are (a stream shown as sent) */

/**
 * The escaped notation of previews and followed streams (what the packet tools print):
 * printable ASCII and printable non-ASCII characters pass; without NL_TEXT_KEEP_LINES, LF,
 * CR, TAB and backslash become "\n", "\r", "\t", "\\" (one line); other C0 controls,
 * DEL and C1 controls become "\xNN" (lower-case hex); bidirectional controls and
 * line/paragraph separators become "<U+XXXX>" exactly as nl_text_sanitize masks them; a byte
 * that is not UTF-8 becomes U+FFFD. max_chars > 0 stops after that many characters of input
 * (an escape counts as one) and appends "..." as U+2026 when input remains. Writes like
 * nl_text_sanitize (NUL-terminated, at most cap bytes) and returns the full length needed.
 */
NL_API size_t nl_text_escape(const uint8_t *p, size_t n, unsigned flags, size_t max_chars, char *out, size_t cap);

/**
 * The inside of a JSON string (RFC 8259 section 7, no quotes around it) for untrusted bytes:
 * as safe on a terminal as nl_text_escape, and a JSON reader decodes the same characters: '"' and '\\'
 * escaped; BS, FF, LF, CR, TAB as \b \f \n \r \t; every other C0 control, DEL and the C1
 * controls as \u00xx; bidirectional controls and line/paragraph separators (what
 * nl_text_sanitize masks) as \uxxxx, so no byte a terminal or a bidi-aware viewer acts on is
 * written raw; a byte that is not UTF-8 becomes U+FFFD (JSON text is UTF-8, section 8.1).
 * At most NL_TEXT_JSON_MAX bytes of output per input byte. Writes like nl_text_sanitize
 * (NUL-terminated, at most cap bytes) and returns the full length needed.
 */
#define NL_TEXT_JSON_MAX 6
NL_API size_t nl_text_json(const uint8_t *p, size_t n, char *out, size_t cap);

/**
 * Untrusted bytes as inert Markdown inline text (CommonMark and GitHub's dialect), safe in a
 * paragraph, a heading, a list item or a table cell, and inside HTML too: '<', '>' and '&'
 * become entities; \ ` * _ [ ] # | ~ are backslash-escaped, and so are the ':' of "://"
 * and the '.' of "www.", so no code span, emphasis, link, image, URL autolink, heading,
 * table cell, strikethrough or raw HTML can start (an e-mail address may still show as a
 * mailto: link: GitHub's renderer links it whatever is escaped); LF, CR
 * and TAB become a visible "\n", "\r", "\t" and other C0 controls and DEL "\xNN" (one line:
 * a file name with a newline starts no block); bidirectional controls and line/paragraph
 * separators become "&lt;U+XXXX&gt;"; a byte that is not UTF-8 becomes U+FFFD. Not for code
 * spans or code blocks, where Markdown decodes no escape. Writes like nl_text_sanitize
 * (NUL-terminated, at most cap bytes) and returns the full length needed: at most
 * NL_TEXT_MARKDOWN_MAX bytes per input byte.
 */
#define NL_TEXT_MARKDOWN_MAX 14
NL_API size_t nl_text_markdown(const uint8_t *p, size_t n, char *out, size_t cap);

/**
 * out = in reversed by character, ASCII letters' case swapped ("HELLO" ->
 * "olleh", "héllo" -> "OLLéH"). A character is a well-formed UTF-8 sequence
 * (RFC 3629) or, failing that, one byte, so no multi-byte character is ever
 * split. out must have room for n bytes and may not overlap in. Returns n.
 * For well-formed UTF-8 the transform is its own inverse.
 */
NL_API size_t nl_echo_transform(const uint8_t *in, size_t n, uint8_t *out);

/* The transforms an echo exercise may ask of its server (netlab grade --transform). Case
 * changes touch ASCII letters only; reversing keeps each UTF-8 character whole. */
enum nl_transform {
    NL_TRANSFORM_REVERSE_SWAPCASE = 0, /* "reverse-swapcase": nl_echo_transform, netlab's echo server */
    NL_TRANSFORM_IDENTITY,             /* "identity": the line as sent */
    NL_TRANSFORM_UPPER,                /* "upper" */
    NL_TRANSFORM_LOWER,                /* "lower" */
    NL_TRANSFORM_SWAPCASE,             /* "swapcase" */
    NL_TRANSFORM_REVERSE,              /* "reverse" */
    NL_TRANSFORM_COUNT
};

/** The transform named name ("reverse-swapcase", "identity", ...), or -1. */
NL_API int nl_transform_from_name(const char *name);
/** The name of transform t ("?" when out of range). */
NL_API const char *nl_transform_name(int t);
/** out = transform t of in (n bytes; out has room for n and does not overlap in). Returns n. */
NL_API size_t nl_text_transform(int t, const uint8_t *in, size_t n, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif
