/*
 * nl_analyze.h - what an engineer asks of a capture, answered in one pass:
 * the capture itself (format, link types, interfaces, span, bytes), TCP
 * conversations and UDP flows (client, server, packets and payload each way,
 * handshake, end, retransmissions, largest payload), checksum verdicts with
 * offload recognition, duplicate copies, kernel resets, text search across
 * segment boundaries, Follow TCP Stream, and --expect of CSV messages.
 * Every networking decision is made here; callers only render the results.
 */
#ifndef NL_ANALYZE_H
#define NL_ANALYZE_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default cap on payload bytes kept for --follow and --expect. */
#define NL_ANALYZE_STREAM_CAP (256ull << 20)
/** Default cap on listed items of each kind (bad packets, problems, matches, duplicates). */
#define NL_ANALYZE_LIST_CAP 10000u
/** Copies of one packet closer together than this may be duplicate captures. */
#define NL_ANALYZE_DUP_WINDOW_NS 1000000

struct nl_analyze_opts {
    const char *const *find;   /* texts to search for (byte strings, NUL-terminated), or NULL */
    size_t nfind;
    uint32_t follow;           /* conversation id to reassemble (Follow TCP Stream), 0 = none */
    const char *expect;        /* messages CSV (nl_csv.h) to find in the payloads, or NULL */
    uint64_t max_stream_bytes; /* 0: NL_ANALYZE_STREAM_CAP */
    uint32_t max_listed;       /* 0: NL_ANALYZE_LIST_CAP */
    const char *expect_echo;   /* echo grading: a text file of lines (in-proj.txt); each line must travel
                                  client -> server and its echo (nl_echo_transform) back, in order.
                                  Not with expect. */
    int packets;               /* keep one record per TCP segment (nl_tcpanalysis.h): memory grows with packets */
    const struct nl_messages *expect_lines; /* echo grading with expectations already made (nl_expect_lines_parse),
                                  borrowed: they must outlive the analysis. Not with expect or expect_echo. */
    int keep_streams;          /* keep every TCP stream's reassembled bytes (within max_stream_bytes) */
    int answers;               /* answer the capture's questions in the same pass (nl_analysis_answers);
                                  conversations answered in detail: at most max_listed */
};

struct nl_analysis; /* opaque */
struct nl_answers;  /* nl_answers.h */

/**
 * Analyse a capture file. Returns 0 and *out, or a negative code when nothing
 * could be analysed (the file is missing or not a capture, --expect's CSV is
 * invalid, a find text is empty). A file damaged part-way is still analysed up
 * to the damage: see nl_summary.read_error. errbuf names the file.
 */
NL_API int nl_analyze_file(const char *path, const struct nl_analyze_opts *o, struct nl_analysis **out, char *errbuf);

/** As nl_analyze_file over a capture held in memory (buf must outlive the analysis). */
NL_API int nl_analyze_mem(const void *buf, size_t len, const char *name, const struct nl_analyze_opts *o,
                   struct nl_analysis **out, char *errbuf);

NL_API void nl_analysis_free(struct nl_analysis *a);

/**
 * The answer sheet (nl_answers.h) of an analysis made with nl_analyze_opts.answers, read in
 * the same pass as everything else; NULL without that option. Owned by the analysis: valid
 * until nl_analysis_free, never passed to nl_answers_free.
 */
NL_API const struct nl_answers *nl_analysis_answers(const struct nl_analysis *a);

/* ---- the capture ---- */

struct nl_ck_counts {
    uint64_t good, bad, offload, unverified, none; /* none: UDP over IPv4 sent without a checksum */
};

struct nl_summary {
    const char *file;
    const char *format;           /* "pcap" or "pcapng" */
    int swapped;                  /* written in the other byte order */
    int nanosecond;               /* nanosecond timestamps */
    int linktype;                 /* LINKTYPE_* of every packet, or -1 when mixed (0 packets: the file's first) */
    uint64_t packets;             /* frames read */
    uint64_t bytes;               /* sum of wire lengths */
    uint64_t captured_bytes;      /* sum of captured lengths */
    int64_t first_ns, last_ns;    /* time span (packets > 0) */
    uint64_t ipv4, ipv6, non_ip;  /* by network layer */
    uint64_t tcp, udp, icmp, icmpv6, other_ip; /* by transport */
    uint64_t truncated;           /* a header was cut by the capture */
    uint64_t malformed;           /* a header field was impossible */
    uint64_t snapped;             /* captured length below wire length (snap length) */
    uint64_t fragments;           /* IP fragments (not reassembled) */
    uint64_t duplicates;          /* second copies of a packet, not counted again */
    uint64_t unsupported_link;    /* frames of a link type netlab does not decode */
    uint64_t tcp_conversations, udp_flows;
    uint64_t retransmissions;     /* tcp.analysis.retransmission frames (nl_tcpanalysis.h) */
    uint64_t largest_packet;      /* frame with the largest TCP payload (0: none) */
    uint32_t largest_bytes;
    uint32_t largest_conversation;
    struct nl_ck_counts ck_ipv4, ck_tcp, ck_udp;
    uint64_t bad_packets;         /* frames with at least one bad checksum */
    uint64_t matches;             /* --find results (may exceed what is listed) */
    int read_error;               /* 0, or the NL_E* code that stopped reading part-way */
    const char *read_error_text;  /* "FILE: packet N at byte offset O: what", or NULL */
};

NL_API void nl_analysis_summary(const struct nl_analysis *a, struct nl_summary *s);

/* Interfaces that carried packets: from the file (pcapng IDBs, the pcap header)
 * and, for Linux cooked v2, the interface index each frame records. */
enum nl_iface_kind { NL_IFACE_FILE = 0, NL_IFACE_INDEX = 1 };

struct nl_iface_seen {
    int kind;             /* enum nl_iface_kind */
    uint32_t index;       /* file interface number (0-based) or SLL2 interface index */
    const char *name;     /* the pcapng if_name, or NULL */
    const char *description;
    int linktype;
    uint64_t packets;
    int loopback;         /* frames showed a loopback interface */
};

NL_API size_t nl_analysis_iface_count(const struct nl_analysis *a);
NL_API void nl_analysis_iface(const struct nl_analysis *a, size_t i, struct nl_iface_seen *out);

/* Non-fatal findings of the file reader. */
NL_API size_t nl_analysis_warning_count(const struct nl_analysis *a);
NL_API const char *nl_analysis_warning(const struct nl_analysis *a, size_t i);

/* ---- conversations (TCP) and flows (UDP), in order of their first packet ---- */

/* The application of a TCP conversation (nl_appid.c): netlab's chat protocol
 * (the server's first line "HELLO netlab-chat") or Redis's RESP (a command
 * "*<n>\r\n$..." from the client; port 6379 only when no payload was seen). */
enum nl_app { NL_APP_NONE = 0, NL_APP_CHAT = 1, NL_APP_REDIS = 2 };
enum nl_app_basis { NL_APP_BASIS_NONE = 0, NL_APP_BASIS_PAYLOAD = 1, NL_APP_BASIS_PORT = 2 };
/* The part a conversation plays: a user at a chat server, a chat server at Redis
 * (its client is the server of chat conversations in the same capture), or
 * another Redis client. */
enum nl_app_role { NL_APP_ROLE_NONE = 0, NL_APP_ROLE_USER_SERVER = 1, NL_APP_ROLE_SERVER_REDIS = 2,
                   NL_APP_ROLE_CLIENT_REDIS = 3 };
NL_API const char *nl_app_name(int app);
NL_API const char *nl_app_basis_name(int basis);
NL_API const char *nl_app_role_name(int role);

enum nl_conv_end { NL_END_OPEN = 0, NL_END_FIN = 1, NL_END_RST = 2 };

struct nl_conversation {
    uint32_t id;                  /* 1-based */
    uint8_t protocol;             /* 6 TCP, 17 UDP */
    uint8_t ipver;
    char client[64], server[64];  /* "ip:port", "[v6]:port" */
    char client_addr[46], server_addr[46];
    uint16_t client_port, server_port;
    uint8_t server_guessed;       /* no SYN or SYN-ACK said which side is the server */
    const char *server_basis;     /* "syn", "syn-ack", "well-known port", "lower port", "first destination" */
    uint64_t packets_c2s, packets_s2c;
    uint64_t payload_c2s, payload_s2c;   /* TCP: sum of tcp.len; UDP: datagram payloads */
    uint64_t bytes_c2s, bytes_s2c;       /* frame (wire) lengths */
    uint64_t first_packet, last_packet;
    int64_t first_ns, last_ns;
    uint8_t handshake;            /* SYN, SYN-ACK and the ACK of it all captured */
    uint8_t syn_seen, synack_seen;
    uint8_t end;                  /* enum nl_conv_end (TCP) */
    uint8_t fin_c2s, fin_s2c, rst_c2s, rst_s2c;
    uint8_t started_before_capture; /* its first captured packet was not a SYN */
    uint8_t refused;              /* the SYN was answered by a kernel RST: nothing listened */
    uint8_t kernel_reset;         /* an RST came from a kernel with no socket for the segment */
    uint64_t reset_packet;        /* first RST, 0 if none */
    uint32_t retransmissions;     /* frames tshark marks tcp.analysis.retransmission (fast and spurious too) */
    uint32_t duplicates;
    uint64_t largest_packet;      /* 0 when no payload */
    uint32_t largest_bytes;
    uint32_t checksum_bad, checksum_offload;  /* TCP/UDP checksums of this conversation */
    uint8_t app;                  /* enum nl_app: what the first payload bytes say (TCP) */
    uint8_t app_role;             /* enum nl_app_role */
    const char *app_name;         /* "chat", "redis" or "" */
    const char *app_basis;        /* "payload", "port 6379" or "" */
    const char *role;             /* "client <-> chat server", "chat server <-> Redis", "client <-> Redis" or "" */
};

NL_API size_t nl_analysis_conv_count(const struct nl_analysis *a);
/** At most how many items of each list to show (--max-listed: the conversation list too; the others are kept only that far). */
NL_API size_t nl_analysis_listed_cap(const struct nl_analysis *a);
/** Its protocol (6 or 17) without filling a record; 0 when i is out of range. */
NL_API uint8_t nl_analysis_conv_protocol(const struct nl_analysis *a, size_t i);
/** Its application role (enum nl_app_role; nl_app_role_name words it) without filling a record; 0 when out of range. */
NL_API uint8_t nl_analysis_conv_app_role(const struct nl_analysis *a, size_t i);
/** Conversation at position i (0-based; its id is i + 1). Returns 0 or NL_EINVAL. */
NL_API int nl_analysis_conv(const struct nl_analysis *a, size_t i, struct nl_conversation *out);

/* ---- packets worth listing ---- */

struct nl_badck {
    uint64_t packet;
    uint8_t layer;            /* 4: IPv4 header, 6: TCP, 17: UDP */
    uint16_t found, expected;
    uint32_t conversation;    /* 0 if none */
};
NL_API size_t nl_analysis_bad_count(const struct nl_analysis *a);
NL_API void nl_analysis_bad(const struct nl_analysis *a, size_t i, struct nl_badck *out);

struct nl_problem {
    uint64_t packet;
    const char *status;       /* "truncated" or "malformed" */
    const char *layer;        /* "link", "network", "transport" */
    const char *reason;
};
NL_API size_t nl_analysis_problem_count(const struct nl_analysis *a);
NL_API void nl_analysis_problem(const struct nl_analysis *a, size_t i, struct nl_problem *out);

struct nl_dup {
    uint64_t packet;          /* the second copy */
    uint64_t original;
    uint32_t conversation;
    int64_t delta_ns;
};
NL_API size_t nl_analysis_dup_count(const struct nl_analysis *a);
NL_API void nl_analysis_dup(const struct nl_analysis *a, size_t i, struct nl_dup *out);

/* ---- plain-language notes on what confuses newcomers ---- */

struct nl_note {
    const char *kind;         /* "duplicate", "kernel-reset", "refused", "handshake-not-captured", "offload", ... */
    uint64_t packet;          /* 0 if about the capture as a whole */
    uint32_t conversation;    /* 0 if none */
    const char *text;
};
NL_API size_t nl_analysis_note_count(const struct nl_analysis *a);
NL_API void nl_analysis_note(const struct nl_analysis *a, size_t i, struct nl_note *out);

/* ---- --find ---- */

struct nl_match {
    uint32_t text;            /* index into nl_analyze_opts.find */
    uint64_t packet;          /* where the text starts */
    uint64_t last_packet;     /* where it ends (== packet unless across) */
    uint32_t conversation;
    uint8_t protocol;
    uint8_t from_client;
    uint8_t across;           /* found only in the reassembled stream: spans segments */
    uint32_t payload_bytes;   /* payload length of packet */
    uint32_t offset;          /* where in packet's payload the text starts */
};
NL_API size_t nl_analysis_match_count(const struct nl_analysis *a);
NL_API void nl_analysis_match(const struct nl_analysis *a, size_t i, struct nl_match *out);

/* ---- --follow ---- */

struct nl_chunk {
    uint8_t from_client;
    uint64_t packet;          /* the packet whose payload delivered it */
    const uint8_t *data;      /* NULL for bytes missing from the capture */
    size_t len;
};
/** Id of the followed conversation, 0 if none was asked for or it does not exist. */
NL_API uint32_t nl_analysis_follow_conv(const struct nl_analysis *a);
NL_API size_t nl_analysis_chunk_count(const struct nl_analysis *a);
NL_API void nl_analysis_chunk(const struct nl_analysis *a, size_t i, struct nl_chunk *out);

/* ---- --expect ---- */

enum nl_expect_status {
    NL_EXPECT_FOUND = 0,      /* intact and in order */
    NL_EXPECT_OUT_OF_ORDER = 1, /* intact, but before an earlier message */
    NL_EXPECT_ALTERED = 2,    /* where it belongs, bytes differ */
    NL_EXPECT_MISSING = 3
};

struct nl_expect_result {
    const char *msg_id;
    unsigned line;            /* CSV line of the message */
    int status;               /* enum nl_expect_status */
    const char *status_name;  /* "found", "out-of-order", "altered", "missing" */
    uint32_t conversation;    /* 0 when no conversation carried its group */
    uint8_t from_client;
    uint64_t packet, last_packet;  /* where it starts and ends (found/out-of-order/altered) */
    uint64_t stream_offset;   /* in its direction's reassembled stream */
    uint32_t length;          /* message bytes */
    uint32_t differing;       /* altered: bytes that differ */
    uint32_t first_difference;/* altered: offset of the first */
    const char *detail;       /* one line for people */
};
NL_API size_t nl_analysis_expect_count(const struct nl_analysis *a);
NL_API void nl_analysis_expect(const struct nl_analysis *a, size_t i, struct nl_expect_result *out);

/* Payload of a stream the expected messages were matched to (in a direction they
 * travel) that none of them accounts for; line terminators alone are not listed.
 * With expect_echo, what the server sent before the first reply is "greeting". */
struct nl_unexpected {
    const char *kind;         /* "unexpected" (a failure) or "greeting" */
    uint32_t conversation;
    uint8_t from_client;
    uint64_t packet, last_packet;
    uint64_t stream_offset;
    uint32_t length;
    const uint8_t *data;      /* the first data_len (<= 64) bytes */
    size_t data_len;
};
NL_API size_t nl_analysis_unexpected_count(const struct nl_analysis *a);
NL_API void nl_analysis_unexpected(const struct nl_analysis *a, size_t i, struct nl_unexpected *out);

/**
 * The expectations of echo grading as messages: for each line of the text file at
 * path (LF or CRLF ends a line), the line + LF from "client" to "server" and its
 * echo + LF back. Returns 0, or a negative code when the file cannot be read or
 * holds no line (errbuf names it).
 */
struct nl_messages;
NL_API int nl_expect_echo_load(const char *path, struct nl_messages **out, char *errbuf);

/**
 * As nl_expect_echo_load over lines held in memory (name is used in errors), each
 * echo made with transform (enum nl_transform, nl_text.h). Made once, the
 * expectations serve any number of analyses (nl_analyze_opts.expect_lines).
 */
NL_API int nl_expect_lines_parse(const void *buf, size_t len, const char *name, int transform,
                                 struct nl_messages **out, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
