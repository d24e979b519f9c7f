/*
 * nl_answers.h - the answer sheet of a capture: for each TCP conversation the
 * questions of the packet-capture exercise answered from the packets (transport,
 * server and client, ports, interfaces, the server's greeting, each request with
 * the reply that answers it, bytes each way as payload and as frames, the largest
 * payload with every tie, and the chat users with their client ports).
 *
 * The rules (Wireshark's frame numbers throughout):
 * - conversations are numbered as nl_analyze numbers them (TCP and UDP share one
 *   sequence); only TCP conversations are answered. The server is the side that
 *   received the SYN (else sent the SYN-ACK, else the port rules of nl_analyze).
 * - greeting: the server's first payload segment, when the server sent it before it
 *   had any of the client's bytes: it comes before any payload from the client, or
 *   its acknowledgment number covers none of it (the two crossed on the wire). Sent
 *   after the client's bytes reached the server, it is the greeting only if it is
 *   netlab chat's "HELLO netlab-chat" line, or if it is not the echo (reversed, case
 *   swapped) of the client's first line and a later server payload is (netlab's echo
 *   server greets on accepting, which may come after the first line arrived).
 *   Otherwise the client spoke first and the server only replied: no greeting (its
 *   first payload is a reply, listed among the exchanges). The text plays no other
 *   part: a client line holding "Welcome" is never the greeting.
 * - messages: one per line. A line ends at its line feed; one left open continues in the same
 *   side's next segment when that segment holds a line feed or the open one was full-sized (cut
 *   by the MSS), never once the other side has spoken (a protocol without line feeds: one
 *   message per write). A greeting spans segments likewise.
 * - exchanges: each client line (several in one segment are several requests) paired with the
 *   server line that is its reply, and only then: its echo (nl_echo_transform, or the same
 *   bytes), or for netlab's chat protocol (the greeting begins "HELLO netlab-chat") the next
 *   server line that is not an event (FROM, REQUEST, ACCEPTED, ...; MSG/SAY expect none).
 *   Otherwise no reply, and no_reply says why.
 * - interfaces: what the file proves and how (nl_answers_if.c): a Linux cooked header's ARPHRD
 *   type and SLL2 ifindex, a pcapng if_name, an Ethernet header's all-zero addresses (lo).
 * - what cannot be answered (no TCP, an unknown link type, a file cut short, one direction
 *   only, conversations past max_listed) is said in words (cannot), never guessed.
 * - bytes: `frames` sums the wire length of every frame of the conversation, as
 *   tshark's `-z conv,tcp` table does; `payload` sums tcp.len of the segments that
 *   carry new data (retransmissions and duplicate copies of a packet counted once).
 * - largest payload: the largest tcp.len, and every packet carrying that many bytes
 *   (duplicate copies excluded, retransmissions included: they are sent packets).
 * - chat users: a name the server confirmed with "OK NICK <name>", with that
 *   connection's client port.
 */
#ifndef NL_ANSWERS_H
#define NL_ANSWERS_H

#include "nl_api.h"
#include "nl_analyze.h"
#include "nl_explain.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of each text (greeting, request, reply) kept; the byte counts are whole. */
#define NL_ANSWERS_TEXT_CAP 2048u
/** Exchanges listed per conversation (the count is whole). */
#define NL_ANSWERS_EXCHANGE_CAP 10000u
/** Tied largest-payload packets listed per conversation and per capture. */
#define NL_ANSWERS_TIE_CAP 1000u
/** Interfaces listed per conversation. */
#define NL_ANSWERS_IFACE_CAP 8u

struct nl_answers; /* opaque */

/**
 * Read a capture and answer its questions: a wrapper of nl_analyze_file with
 * nl_analyze_opts.answers (one pass; see nl_analysis_answers for the answers of an
 * analysis the caller makes itself). Returns 0 and *out, or a negative
 * NL_E* code when the file cannot be read at all (errbuf names it). A file
 * damaged part-way is answered up to the damage (nl_answers_capture.read_error).
 */
NL_API int nl_answers_file(const char *path, struct nl_answers **out, char *errbuf);
/** As nl_answers_file over a capture held in memory (buf must outlive the answers; name names it). */
NL_API int nl_answers_mem(const void *buf, size_t len, const char *name, struct nl_answers **out, char *errbuf);
/** As nl_answers_file, answering at most max_listed conversations in detail (0: NL_ANALYZE_LIST_CAP). */
NL_API int nl_answers_file_listed(const char *path, uint32_t max_listed, struct nl_answers **out, char *errbuf);
/** The capture's bytes are about to go (answers of nl_answers_file/mem only): the answers stay, nl_answers_packet returns NL_ENOTFOUND from now on. */
NL_API void nl_answers_release_capture(struct nl_answers *a);
/** Frees answers of nl_answers_file/mem and nl_analysis_take_answers (those of nl_analysis_answers
 * belong to their analysis). */
NL_API void nl_answers_free(struct nl_answers *a);
/**
 * The answers of an analysis made with nl_analyze_opts.answers, taken from it: they keep their own copy
 * of the answered conversations and counts, outlive the analysis and are freed with nl_answers_free
 * (the analysis has none left). NULL when it has none, or out of memory (the analysis keeps them).
 */
NL_API struct nl_answers *nl_analysis_take_answers(struct nl_analysis *a);

struct nl_answers_capture {
    const char *file;
    uint64_t packets;
    size_t conversations;         /* TCP conversations answered */
    uint32_t largest_bytes;       /* largest tcp.len in the capture (0: no payload) */
    size_t largest_count;         /* packets carrying it (listed: up to NL_ANSWERS_TIE_CAP) */
    size_t users;                 /* chat users seen */
    int read_error;               /* 0, or the NL_E* code that stopped reading part-way */
    const char *read_error_text;
    size_t conversations_total;   /* TCP conversations in the capture (conversations: those answered, the
                                     first max_listed) */
    uint32_t listed_cap;          /* the max_listed in force */
    uint64_t undecoded;           /* packets of a link type netlab does not read */
    int linktype;                 /* the capture's link type (-1: several) */
    const char *cannot;           /* what the capture cannot answer and why (no TCP, unknown link type,
                                     cut short), or NULL */
};
NL_API void nl_answers_capture(const struct nl_answers *a, struct nl_answers_capture *out);
/** The k-th packet tied for the capture's largest payload (0 when k is past the list). */
NL_API uint64_t nl_answers_capture_largest(const struct nl_answers *a, size_t k);

struct nl_answer {
    uint32_t conversation;        /* as analyze numbers it */
    const char *transport;        /* "TCP" */
    char server[64], client[64];  /* "ip:port" ("[v6]:port") */
    uint16_t server_port, client_port;
    const char *server_basis;     /* "syn", "syn-ack", "well-known port", "lower port", "first destination" */
    uint64_t first_packet, last_packet;
    uint64_t frames_c2s, frames_s2c;          /* frames each way */
    uint64_t frame_bytes_c2s, frame_bytes_s2c;/* their wire bytes (tshark -z conv,tcp) */
    uint64_t payload_c2s, payload_s2c;        /* new payload bytes each way */
    /* greeting (packet 0: none) */
    uint64_t greeting_packet;
    uint32_t greeting_bytes;      /* tcp.len of that packet */
    const uint8_t *greeting_text; /* its captured payload, greeting_text_len bytes */
    size_t greeting_text_len;
    uint32_t largest_bytes;       /* 0: no payload */
    size_t largest_count;
    size_t exchanges;             /* all of them (listed: up to NL_ANSWERS_EXCHANGE_CAP) */
    size_t interfaces;
    int chat;                     /* the server speaks netlab's chat protocol */
    const char *user;             /* chat: the name this client registered, or NULL */
    /* greeting spanning segments: greeting_bytes is its whole payload, greeting_packet_bytes the
     * tcp.len of greeting_packet alone */
    uint64_t greeting_last_packet;
    uint32_t greeting_segments;
    uint32_t greeting_packet_bytes;
    const char *no_greeting;      /* greeting_packet 0: why ("the client spoke first, in packet 4") */
    uint64_t client_first_packet; /* first payload packet of each side (0: none) */
    uint64_t server_first_packet;
    int echo;                     /* the server echoes the client's lines (replies are their echoes) */
    const char *cannot;           /* what this conversation cannot answer and why (one direction only,
                                     payload not captured, ...), or NULL */
};

/** TCP conversations answered. */
NL_API size_t nl_answers_count(const struct nl_answers *a);
/** The i-th (0-based, in order of first packet). Returns 0 or NL_EINVAL. */
NL_API int nl_answers_get(const struct nl_answers *a, size_t i, struct nl_answer *out);
/** The k-th packet tied for conversation i's largest payload (0 past the list). */
NL_API uint64_t nl_answers_largest(const struct nl_answers *a, size_t i, size_t k);

struct nl_exchange {
    uint64_t request_packet, request_last_packet;
    uint32_t request_bytes;       /* tcp.len summed over its segments */
    const uint8_t *request_text;  /* captured bytes (up to NL_ANSWERS_TEXT_CAP) */
    size_t request_text_len;
    uint64_t reply_packet, reply_last_packet;  /* 0: no reply */
    uint32_t reply_bytes;
    const uint8_t *reply_text;
    size_t reply_text_len;
    int reply_expected;           /* 0 for chat MSG/SAY */
    uint32_t reply_shared;        /* requests whose replies share the reply packet (its lines in order;
                                     reply_text is this request's line, reply_bytes the packet's tcp.len) */
    const char *field;            /* where the data is: "tcp.payload" */
    /* A request or reply is one line (up to its line feed), which may span segments:
     * *_bytes is the whole line's payload bytes; *_packet_bytes the tcp.len of its first packet. */
    uint32_t request_segments, request_packet_bytes;
    uint32_t request_line, request_lines;  /* it is line request_line (1-based) of the request_lines
                                              lines that begin in request_packet */
    uint32_t reply_segments, reply_packet_bytes;
    const char *reply_match;      /* why the reply is this request's: "echo (reversed, case swapped)",
                                     "echo (identical)", "chat reply"; NULL when none */
    const char *no_reply;         /* reply_packet 0: why there is none */
    uint64_t next_server_packet;  /* reply_packet 0: the server line that came next and is not its reply (0: none) */
};
/** Conversation i's k-th exchange. Returns 0 or NL_EINVAL. */
NL_API int nl_answers_exchange(const struct nl_answers *a, size_t i, size_t k, struct nl_exchange *out);

enum nl_answer_iface_kind { NL_ANSWER_IFACE_FILE = 0, NL_ANSWER_IFACE_INDEX = 1 };
struct nl_answer_iface {
    int kind;                     /* FILE: the capture file's interface; INDEX: the SLL2 ifindex */
    uint32_t index;
    const char *name;             /* the interface's name when the file holds it (pcapng if_name of a
                                     capture on that interface; not "any"), or NULL */
    const char *description;      /* pcapng if_description, or NULL */
    uint64_t packets;             /* of this conversation */
    int loopback;
    int linktype;                 /* the link type its packets were captured with */
    uint16_t hatype;              /* Linux cooked (SLL, SLL2) ARPHRD type; 0 for other link types */
    uint32_t file_iface;          /* the capture file's interface the packets are on */
    const char *capture_name;     /* that file interface's if_name ("any", "lo"), or NULL */
    char what[48];                /* its kind: "loopback", "Ethernet", "IP tunnel (no link header)", ... */
    char how[200];                /* how the file shows it: "Linux cooked v2 header: ARPHRD_LOOPBACK (772),
                                     ifindex 1" */
};
/** Conversation i's k-th interface. Returns 0 or NL_EINVAL. */
NL_API int nl_answers_iface(const struct nl_answers *a, size_t i, size_t k, struct nl_answer_iface *out);

struct nl_chat_user {
    const char *name;
    uint32_t conversation;
    char client[64];
    uint16_t client_port;
    uint64_t packet;              /* the server's "OK NICK" */
};
/** The k-th chat user of the capture, in order of registration. Returns 0 or NL_EINVAL. */
NL_API int nl_answers_user(const struct nl_answers *a, size_t k, struct nl_chat_user *out);

/* ---- one packet of the capture, for explaining it byte by byte ---- */

struct nl_packet_copy {
    uint8_t *frame;               /* the captured bytes of the frame (owned) */
    size_t frame_len;
    uint32_t wire_len;
    int linktype;
    uint32_t l3_offset, l3_len;   /* the IP packet inside frame (clipped to its total length) */
    int ipver;
    int ck_ip, ck_l4;             /* nl_decode's verdicts (enum nl_ckv) */
    int offload_l4;               /* enum nl_offload_kind: the sender left the TCP checksum to its NIC */
    struct nl_explain_ctx ctx;    /* for nl_explain_packet: ISNs, window scale, checksum offload */
    int from_client;              /* sent by the conversation's client */
    uint32_t conversation;        /* 0 if the packet is in none */
};
/**
 * Copy packet `number` (Wireshark's frame number) of the capture the answers were
 * read from, with what is needed to explain it (nl_explain_packet on
 * frame + l3_offset). Returns 0, NL_ENOTFOUND (no such frame), NL_ESYS/NL_EMALFORMED
 * (the file), NL_ENOMEM. Free with nl_packet_copy_free.
 */
NL_API int nl_answers_packet(const struct nl_answers *a, uint64_t number, struct nl_packet_copy *out, char *errbuf);
NL_API void nl_packet_copy_free(struct nl_packet_copy *p);

#ifdef __cplusplus
}
#endif
#endif
