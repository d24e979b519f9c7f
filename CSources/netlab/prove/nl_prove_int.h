/*
 * nl_prove_int.h - what the prove half's files share: the parsed script (events with their times,
 * segments, syscalls and shell lines), the lexer's tokens and the run's records. Not installed.
 * Owns no behaviour: each file named below owns one concern.
 */
#ifndef NL_PROVE_INT_H
#define NL_PROVE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "netlab/nl_prove.h"

/* ---- the lexer (nl_prove_lex.c) ---- */
enum pv_tok {
    PV_EOF = 0, PV_INT, PV_FLOAT, PV_WORD, PV_STR, PV_SHELL, PV_CODE, PV_ELLIPSIS, PV_OPTION, PV_PUNCT, PV_BAD
};
struct pv_token {
    int kind;
    int line, col;
    int64_t i;          /* PV_INT */
    double f;           /* PV_FLOAT (PV_INT too) */
    char c;             /* PV_PUNCT */
    const char *text;   /* start in the source */
    size_t len;         /* its length */
};
struct pv_lexer {
    const char *src, *p, *end;
    int line, col;
    struct pv_token peeked;
    int has_peek;
    const char *defs;   /* -D definitions, "NAME=VALUE\n...", or NULL */
};
void pv_lex_init(struct pv_lexer *lx, const char *src, size_t len);
/* The next token; PV_BAD for a character no token starts with or an unterminated string. */
struct pv_token pv_lex_next(struct pv_lexer *lx);
struct pv_token pv_lex_peek(struct pv_lexer *lx);
/* A run of letters, digits and '_' as written ("3021b9d889017eeb", "TFO_COOKIE"), for the
 * Fast Open cookie; kind PV_EOF and len 0 when the next token is something else. */
struct pv_token pv_lex_blob(struct pv_lexer *lx);

/* ---- the script model (nl_prove_parse.c builds it) ---- */
enum pv_time_kind { PV_T_ABS, PV_T_REL, PV_T_ANY, PV_T_ABS_RANGE, PV_T_REL_RANGE };
enum pv_ev_kind { PV_EV_PACKET, PV_EV_SYSCALL, PV_EV_SHELL, PV_EV_CODE };

/* TCP flags as in the header's byte 13 (RFC 9293 3.1). */
#define PV_FIN 0x01
#define PV_SYN 0x02
#define PV_RST 0x04
#define PV_PSH 0x08
#define PV_ACK 0x10
#define PV_URG 0x20
#define PV_ECE 0x40
#define PV_CWR 0x80

#define PV_MAX_OPTS 12
struct pv_opt {
    uint8_t kind;       /* 0 eol, 1 nop, 2 mss, 3 wscale, 4 sackOK, 5 sack, 8 TS */
    uint8_t len;        /* bytes on the wire */
    uint32_t a, b;      /* mss/wscale: a; TS: val a, ecr b */
    int nsack;
    uint32_t sack[4][2];
    uint8_t ncookie;    /* FO/FOEXP: the Fast Open cookie's bytes */
    uint8_t cookie[38];
};

/* ---- TCP Fast Open, RFC 7413 (nl_prove_tfo.c) ---- */
#define PV_OPT_FO 34            /* RFC 7413 4.1.1 */
#define PV_OPT_FOEXP 254        /* RFC 6994's experimental option; a = the magic */
#define PV_TFO_MAGIC 0xF989u
#define PV_TFO_MAX 38           /* cookie bytes: 40 option bytes less kind and length */
#define PV_TFO_EXP_MAX 36       /* less the magic too */
/* An FO (exp 0) or FOEXP option from n hex digits (n 0: a cookie request); -1 with why. */
int pv_tfo_option(int exp, const char *cookie, size_t n, struct pv_opt *o, char *why, size_t wcap);
/* Bytes written at p (0: no room). */
size_t pv_tfo_encode(const struct pv_opt *o, uint8_t *p, size_t cap);
/* An option of kind 34/254, n bytes at p (n = its length byte); -1 when malformed. */
int pv_tfo_decode(const uint8_t *p, size_t n, struct pv_opt *o);
/* The first field of want that got does not hold ("kind", "magic", "length", "cookie"), or NULL. */
const char *pv_tfo_mismatch(const struct pv_opt *want, const struct pv_opt *got);
/* "FO abcd1234" after sep; snprintf's count. */
int pv_tfo_format(char *buf, size_t cap, const char *sep, const struct pv_opt *o);
/* --explain: the option in a segment with these flags ("\nIt offers TCP Fast Open ..."). */
void pv_tfo_explain_opt(char *buf, size_t cap, const struct pv_opt *o, uint8_t flags, const char *who);
struct pv_syscall;
/* --explain: 1 with buf worded when the call is a Fast Open one (MSG_FASTOPEN, TCP_FASTOPEN*), else 0. */
int pv_tfo_explain_call(const struct pv_syscall *sc, char *buf, size_t cap);

struct pv_seg {
    char dir;                   /* '<' injected into the kernel, '>' sent by it */
    uint8_t flags;
    uint32_t seq, end;
    uint32_t len;
    int has_ack;                /* "ack N" given */
    uint32_t ack;
    int win;                    /* -1: not given (not checked for '>') */
    int urg;                    /* -1: not given */
    int opts_any;               /* <...>: options not checked */
    int ecn;                    /* -1 not given; 0 noecn, 1 ect1, 2 ect0, 3 ce ([ce] ...); 4 ect0 or ect1 */
    int tos;                    /* -1 not given; (tos 0x10): the whole byte */
    int opts_given;
    int nopts;
    struct pv_opt opts[PV_MAX_OPTS];
};

enum pv_expr_kind { PV_E_INT, PV_E_ELLIPSIS, PV_E_STR, PV_E_LIST, PV_E_STRUCT, PV_E_FIELD, PV_E_CALL, PV_E_SYM };
struct pv_expr {
    int kind;
    int64_t num;                 /* PV_E_INT, PV_E_SYM's value */
    char *name;                  /* PV_E_FIELD, PV_E_CALL, PV_E_SYM; PV_E_STR's text */
    struct pv_expr **kids;       /* LIST/STRUCT items; CALL args; FIELD: [0] value, [1..] index args */
    int nkids;
    int line, col;
};

struct pv_syscall {
    char name[24];
    struct pv_expr **args;
    int nargs;
    int64_t result;             /* the expected return value */
    int result_any;             /* "= ..." */
    int err;                    /* expected errno (0: none) */
    char errname[24];
    int blocking;               /* "...END" given */
    int64_t end_us;             /* its end time (relative like the start) */
};

struct pv_event {
    int kind;
    int line, col;
    int tkind;
    int64_t t_us, t_end_us;      /* script time (relative to the previous event for the relative kinds) */
    struct pv_seg seg;           /* PV_EV_PACKET */
    struct pv_syscall sc;        /* PV_EV_SYSCALL */
    char *text;                  /* PV_EV_SHELL command, PV_EV_CODE text */
    char *src;                   /* the script line as written (trimmed), for verdicts and comments */
};

struct pv_script {
    char path[1024];
    char dir[1024];
    char *source;
    size_t source_len;
    char *init_command;          /* a backtick line before the first event */
    char *cleanup_command;       /* a backtick line after the last event: run at the end, pass or fail */
    int64_t tolerance_us;        /* --tolerance_usecs=, 0 if not given */
    int64_t ts_tick_us;          /* --tcp_ts_tick_usecs=: the kernel's TS val tick; 0: TS val not checked (packetdrill) */
    int mss;                     /* --mss=: injected segments go in as GSO of this size (0: not) */
    int mapped;                  /* --ip_version=ipv4-mapped-ipv6: AF_INET6 sockets, IPv4 on the wire */
    int ipv6;                    /* --ip_version=ipv6: AF_INET6 sockets, IPv6 on the wire */
    int ipv4_only;               /* always 1 for now */
    int has_local_ip;            /* --local_ip=A.B.C.D (IPv4 in 192.168.0.0/16): tun0's address instead of .0.2 */
    uint8_t local_ip[4];
    char *defines;               /* -D NAME=VALUE definitions, one a line (the lexer substitutes them) */
    struct pv_event *ev;
    int nev;
    size_t cap;
};
/* Parse a whole script. NL_EMALFORMED with errbuf "file:line:col: what was expected". */
int pv_parse(struct pv_script *s, const char *path, char *errbuf);
/* As pv_parse, from len bytes of text in memory named path (the fuzz target's way in). */
int pv_parse_text(struct pv_script *s, const char *path, const char *text, size_t len, char *errbuf);
/* As pv_parse with -D definitions ("NAME=VALUE\n...", NULL for none). */
int pv_parse_defs(struct pv_script *s, const char *path, const char *defines, char *errbuf);
void pv_script_free(struct pv_script *s);
/* A script expression read as a number (an int, a symbol, [N], htons(N)), or def for "..."/none;
 * a struct's field by name (NULL if none); whether it is "..." or absent (nl_prove_args.c). */
int64_t pv_expr_num(const struct pv_expr *e, int64_t def);
const struct pv_expr *pv_expr_field(const struct pv_expr *st, const char *name);
int pv_expr_any(const struct pv_expr *e);
/* The symbol table (AF_INET, SOL_SOCKET, ...), errno names; 0 if known. */
int pv_symbol(const char *name, size_t len, int64_t *value);
int pv_errno_value(const char *name, int *value);
const char *pv_errno_name(int value);

/* ---- segments on the wire (nl_prove_seg.c) ---- */
struct pv_wire {                 /* a decoded IPv4/TCP segment */
    uint8_t src[4], dst[4];
    uint16_t sport, dport;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t win, urg;
    uint32_t len;                /* payload bytes */
    int nopts;
    struct pv_opt opts[PV_MAX_OPTS];
    uint8_t ttl, tos;            /* IPv6: hop limit and traffic class */
    int v6;                      /* an IPv6 packet (src6/dst6), else IPv4 (src/dst) */
    uint8_t src6[16], dst6[16];
};
/* Build an IPv4/TCP packet of seg (addresses and ports given, seq/ack already live). Bytes written, or <0. */
int pv_seg_build(const struct pv_seg *seg, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
                 uint16_t dport, uint32_t seq, uint32_t ack, const uint32_t *ts_ecr, uint8_t *out, size_t cap);
/* As pv_seg_build over IPv6 (40-byte header, the checksum over RFC 8200 8.1's pseudo-header). */
int pv_seg_build6(const struct pv_seg *seg, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
                  uint16_t dport, uint32_t seq, uint32_t ack, const uint32_t *ts_ecr, uint8_t *out, size_t cap);
/* Decode an IPv4/TCP or IPv6/TCP packet (bounds-checked). 0, or NL_ETRUNC/NL_EMALFORMED (not TCP: NL_ENOTFOUND). */
int pv_seg_decode(const uint8_t *p, size_t n, struct pv_wire *w);
/* Words for a segment in packetdrill's notation: "S. 0:0(0) ack 1 win 65535 <mss 1460,...>". */
void pv_seg_format(char *buf, size_t cap, uint8_t flags, uint32_t seq, uint32_t len, int has_ack, uint32_t ack,
                   int win, const struct pv_opt *opts, int nopts, int opts_any);
void pv_flags_format(char *buf, size_t cap, uint8_t flags);
void pv_opts_format(char *buf, size_t cap, const struct pv_opt *opts, int nopts);

#endif

/* ---- a run (nl_prove_run.c drives it; nl_prove_net.c, nl_prove_sys.c, nl_prove_record.c,
 *      nl_prove_explain.c and nl_prove_verdict.c each own one part) ---- */
#include "nl_prove_tcpinfo.h"
#include <pthread.h>
#include <time.h>

enum pv_fail_kind { PV_F_NONE, PV_F_FIELD, PV_F_TIME, PV_F_TIMEOUT, PV_F_SYSCALL, PV_F_BLOCKED, PV_F_SHELL, PV_F_CODE,
                    PV_F_SETUP, PV_F_STOPPED };

struct pv_rec {
    int reached, ok;
    int64_t live_us, live_end_us;       /* when it happened, from the run's start */
    int64_t want_us, want_end_us;       /* the window the script allowed (script time made live) */
    int64_t tol_us;
    int has_actual;                     /* '>': what the kernel sent, in script numbers */
    struct pv_wire actual;
    int64_t sys_ret;
    int sys_errno;
    struct pv_tcpinfo ti;               /* TCP_INFO after the line */
    /* what the runner decided about the line, for the verdict and --explain */
    unsigned diff;                      /* PV_D_* fields of a '>' line that differed */
    int diff_opt;                       /* the first differing option's index */
    int retx;                           /* PV_RETX_*: a '>' that resends what was sent before */
    int dupacks;                        /* duplicate ACKs injected before it */
    int sacked;                         /* a SACK block was injected before it */
    double gap_ms;                      /* since the previous transmission of the same data */
    double rtt_ms;                      /* '<' ACK: the RTT sample it gave (-1 none) */
    double srtt_ms, rttvar_ms, rto_ms;  /* RFC 6298 from the samples so far (rto_ms 0: none yet) */
    int nsamples, backoff;
    char note[320];                     /* a shell line's or code block's output, the blocked call */
};
#define PV_D_FLAGS 1u
#define PV_D_SEQ 2u
#define PV_D_ACK 4u
#define PV_D_LEN 8u
#define PV_D_WIN 16u
#define PV_D_URG 32u
#define PV_D_OPTS 64u
#define PV_D_TOS 128u
enum { PV_RETX_NONE, PV_RETX_TIMEOUT, PV_RETX_DUPACK, PV_RETX_SACK, PV_RETX_SYN, PV_RETX_PROBE, PV_RETX_TLP };

struct pv_fail {
    int ev;                             /* index into the events, -1 for the setup */
    int kind;
    char field[48];                     /* the first differing field ("ack", "win", "option 3 (wscale)") */
    char msg[1536];
};

struct pv_pkt {                          /* one packet of the capture */
    int64_t t_ns;                        /* wall clock */
    int ev;                              /* the line that sent or expected it, -1 none */
    char dir;                            /* '<' injected, '>' sent by the kernel */
    uint32_t len, caplen;
    uint8_t *data;
};

#define PV_MAX_FDS 64
struct pv_run {
    struct pv_script *s;
    const struct nl_prove_opts *o;
    int tun, psock;
    uint8_t lip[4], rip[4], gw[4];
    uint8_t lip6[16], rip6[16];          /* --ip_version=ipv6: fd3d:fa7b:d17d::2 and 2001:db8::1 */
    int64_t t0_ns;                       /* CLOCK_MONOTONIC at the script's time 0 */
    int64_t rt_off_ns;                   /* CLOCK_REALTIME - CLOCK_MONOTONIC */
    int64_t tol_us, jitter_us;
    double tol_pct;
    /* the connection under test */
    int have_ports;
    int fresh_socket;                    /* socket() called since the ports were learned */
    int syn_sent_open;                   /* the kernel's SYN is out and nothing was injected since */
    uint16_t lport, rport, next_rport;
    uint16_t bound_port;                 /* the port the script's last bind() chose (0: 8080) */
    int have_lisn;
    uint32_t lisn_live, lisn_script;     /* the kernel's ISN, live and as the script wrote it */
    uint32_t remote_isn;                 /* the remote end's, from its SYN (script and live alike) */
    int have_ts;
    uint32_t ts_script0, ts_live0;
    /* script fd -> live fd */
    pthread_mutex_t mu;
    int fd_script[PV_MAX_FDS], fd_live[PV_MAX_FDS], nfds;
    int cur_live_fd;                     /* the socket TCP_INFO is read from */
    /* events */
    struct pv_rec *rec;
    int last_ev;                         /* the previous event, -1 */
    int64_t last_script_us;
    /* kernel packets read but not yet matched */
    struct pv_pkt *queue;
    size_t qhead, qlen, qcap;
    /* the capture */
    struct pv_pkt *pk;
    size_t npk, cappk;
    size_t pk_bytes;
    /* the blocking syscall in flight */
    pthread_t th;
    int th_started;
    int sc_busy, sc_done, sc_ev;
    pthread_cond_t cv;
    /* the outcome */
    int failed;
    struct pv_fail fail;
    int64_t end_us;
    /* what the runner tracks for --explain (RFC 6298, RFC 5681) */
    uint32_t snd_max;                    /* script numbers: highest sequence the kernel sent + 1 */
    int have_snd;
    uint32_t last_in_ack;
    int last_in_ack_valid, dupacks, sack_seen;
    struct { uint32_t end; int64_t t_us; int retx; } sent[256];
    int nsent;
    double srtt_ms, rttvar_ms, rto_ms;
    int nsamples, backoff;
    int64_t last_tx_us;                  /* the kernel's last data/SYN transmission */
    int64_t late_us;                     /* how late this runner made the last injection or call */
};

/* CLOCK_MONOTONIC in nanoseconds, and the run's time (microseconds since its time 0): inline, so
 * the runner and the tun device's reader share the clock without calling each other. */
static inline int64_t pv_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
static inline int64_t pv_now_us(const struct pv_run *r) { return (pv_mono_ns() - r->t0_ns) / 1000; }

/* nl_prove_net.c: inside the fresh namespaces: loopback up, tun0 with packetdrill's addresses and
 * offloads, the route to the remote net, a packet socket on tun0. */
int pv_net_setup(struct pv_run *r, char *errbuf);
void pv_net_close(struct pv_run *r);
int pv_net_inject(struct pv_run *r, const uint8_t *pkt, size_t len, char *errbuf);
/* Wait until deadline_us (run time) for the next outbound IPv4 packet: 1 with *pkt (malloc'd data),
 * 0 on timeout, <0 on error. Drains the tun device's queue as it goes. */
int pv_net_next_out(struct pv_run *r, int64_t deadline_us, struct pv_pkt *pkt, char *errbuf);
/* Until until_us (run time): take what the kernel sends off tun0 as it comes (a card transmitting
 * it); the packet socket keeps its copy for the next '>' line. */
void pv_net_idle(struct pv_run *r, int64_t until_us);

/* nl_prove_sys.c: the syscalls. Runs event e's call; fills rec->sys_ret/sys_errno; 0 when the
 * result is what the script expects, else fills msg (and field) and returns -1. */
int pv_sys_run(struct pv_run *r, int ev, char *field, size_t fcap, char *msg, size_t mcap);
int pv_syscall_known(const char *name);
const char *pv_syscall_list(void);
int pv_sys_is_blocking_name(const char *name);

/* nl_prove_cmsg.c: recvmsg/sendmsg with their msghdr and control messages, pipe, open, splice,
 * sendfile; each returns the call's result (errno set) and on an out-argument that differs sets
 * mismatch with field and msg. */
struct pv_io_ctx {
    struct pv_run *r;
    const struct pv_syscall *sc;
    struct pv_rec *rec;  /* what the run records of the call */
    char *field;
    size_t fcap;
    char *msg;
    size_t mcap;
    int mismatch;        /* an out-argument was compared and differed: field and msg say how */
};
/* nl_prove_args.c: a call's argument i (NULL past the last); the live fd of a script's fd number
 * (-1 none), a new pair, a pair gone (under the run's lock); an out-argument that differs (sets
 * mismatch, field and msg; returns 0). */
static inline const struct pv_expr *pv_arg(const struct pv_syscall *sc, int i) { return i < sc->nargs ? sc->args[i] : NULL; }
int pv_fd_live(struct pv_run *r, int64_t script_fd);
void pv_fd_map(struct pv_run *r, int64_t script_fd, int live);
void pv_fd_unmap(struct pv_run *r, int64_t script_fd);
int pv_io_mismatch(struct pv_io_ctx *x, const char *fieldname, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int64_t pv_io_recvmsg(struct pv_io_ctx *x);
int64_t pv_io_sendmsg(struct pv_io_ctx *x);
int64_t pv_io_pipe(struct pv_io_ctx *x);
int64_t pv_io_open(struct pv_io_ctx *x);
int64_t pv_io_splice(struct pv_io_ctx *x);
int64_t pv_io_sendfile(struct pv_io_ctx *x);
/* Their constants (SOF_TIMESTAMPING_*, SO_EE_*, SCM_TSTAMP_*, TCP_CM_INQ, IP_RECVERR): 0 if known. */

/* nl_prove_record.c: the capture (pcapng, one comment per packet naming its line) and the
 * TCP_INFO timeline (CSV), both under opts->out_dir. */
int pv_record_packet(struct pv_run *r, char dir, int ev, int64_t t_ns, const uint8_t *p, size_t n);
int pv_record_write(struct pv_run *r, char *pcap_path, size_t pcap_cap, char *csv_path, size_t csv_cap, char *errbuf);

/* nl_prove_html.c: the experiment on one page: the script beside its time-sequence graph, the
 * TCP_INFO timeline under it. */
int pv_html_write(const struct pv_run *r, const char *path, const char *pcap, const char *csv, char *errbuf);

/* nl_prove_explain.c: each line in plain words with its RFC clause. */
void pv_explain_line(const struct pv_run *r, int ev, char *buf, size_t cap);

/* nl_prove_verdict.c: the report for people and the JSON of the run. */
struct pv_out { char *p; size_t len, cap; int oom; };
void pv_out_printf(struct pv_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pv_out_json_str(struct pv_out *o, const char *s);
void pv_verdict_text(const struct pv_run *r, const char *pcap, const char *csv, struct pv_out *o);
void pv_verdict_json(const struct pv_run *r, const char *pcap, const char *csv, struct pv_out *o);
