/*
 * chatload - a many-client load and correctness harness for chat servers,
 * speaking netlab's chat protocol or IRC (for ngircd in bench/). Written
 * against the protocol text, not libnetlab, with epoll, in a process apart
 * from the server. Every mode ends with one "result ..." line of key=value
 * pairs and exits 0 only if everything checked out.
 *
 *   chatload pairs --port P --clients 1000 --messages 100 --window 4
 *       N/2 pairs open sessions and exchange messages (W in flight each way);
 *       every message must arrive exactly once, in order, from the right sender.
 *   chatload hold --port P --clients 10000 --hold 2 [--server-pid PID]
 *       connect and register N clients, time it, measure the server's resident
 *       memory per connection, hold them, then check every one still answers.
 *   chatload flood --port P --clients 500 --rounds 4
 *       waves of connects dropped in every way (FIN, RST mid-line, unread
 *       output), then check that the server still serves a new pair.
 *   chatload nick --port P --clients 50
 *       N clients send NICK with the same name at the same moment: exactly one
 *       may get it.
 * A cluster of servers: --ports P1,P2,... instead of --port. Clients go round
 * the servers; in pairs mode pair k starts on server k mod N and its second
 * client is on the next server for --cross PCT percent of the pairs (default
 * 100), on the same server for the others.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../bench/procstat.h"

enum proto { NETLAB, IRC };
enum phase { P_CONNECTING, P_GREET, P_GREETED, P_REGISTERING, P_REGISTERED, P_READY, P_DONE, P_CLOSED };

struct client {
    int fd;
    int idx;
    int srv;                  /* index into the servers (--ports) */
    enum phase phase;
    char name[24];
    int peer;                 /* index of the partner (pairs) */
    char *in;                 /* receive buffer */
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_cap, out_off;
    uint32_t sent, recvd;     /* messages */
    uint32_t expect;          /* next sequence number expected from the peer */
    int want_out;
    int pongs;
};

static struct {
    const char *host;
    int port;
    enum proto proto;
    int clients, messages, window, rounds, inflight;
    double hold, timeout;
    int server_pid;
    int payload;
    const char *prefix;
} opt = {.host = "127.0.0.1", .port = 0, .proto = NETLAB, .clients = 100, .messages = 100, .window = 1,
         .rounds = 3, .inflight = 256, .hold = 1, .timeout = 120, .payload = 64, .prefix = "u"};

#define MAX_SRV 16

/* The state of one run: the clients, the servers, the counts and the latency samples. */
struct run {
    int ep;
    int wait_greeting; /* nick mode: every client greeted before the race */
    struct client *cl;
    struct sockaddr_storage srv_addr[MAX_SRV];
    socklen_t srv_len[MAX_SRV];
    int srv_port[MAX_SRV], nsrv, cross_pct;
    uint64_t errors, lost, dups, reorders, wrong_sender, delivered;
    uint32_t *lat_us;
    size_t nlat, lat_cap;
    char first_error[512];
    int nick_ok, nick_taken; /* nick mode: the answers */
};
static struct run run = {.cross_pct = 100};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void fail(struct client *c, const char *fmt, ...)
{
    run.errors++;
    if (!run.first_error[0]) {
        char m[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        snprintf(run.first_error, sizeof run.first_error, "client %s: %s", c ? c->name : "-", m);
    }
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "chatload: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void resolve(void)
{
    if (!run.nsrv)
        run.srv_port[run.nsrv++] = opt.port;
    for (int i = 0; i < run.nsrv; i++) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
        char port[16];
        snprintf(port, sizeof port, "%d", run.srv_port[i]);
        int g = getaddrinfo(opt.host, port, &hints, &ai);
        if (g != 0)
            die("cannot resolve %s: %s", opt.host, gai_strerror(g));
        memcpy(&run.srv_addr[i], ai->ai_addr, ai->ai_addrlen);
        run.srv_len[i] = ai->ai_addrlen;
        freeaddrinfo(ai);
    }
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void set_events(struct client *c)
{
    struct epoll_event ev = {.events = EPOLLIN | (c->out_len > c->out_off ? EPOLLOUT : 0), .data.ptr = c};
    int want = c->out_len > c->out_off;
    if (want != c->want_out) {
        c->want_out = want;
        epoll_ctl(run.ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

static void flush(struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        fail(c, "send: %s", strerror(errno));
        c->phase = P_CLOSED;
        return;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    set_events(c);
}

static void sendf(struct client *c, const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        die("line too long");
    if (c->out_len + (size_t)n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 256;
        while (cap < c->out_len + (size_t)n)
            cap *= 2;
        c->out = realloc(c->out, cap);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, line, (size_t)n);
    c->out_len += (size_t)n;
}

static int open_socket(struct client *c)
{
    c->fd = socket(run.srv_addr[c->srv].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s (is the open-file limit high enough?)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&run.srv_addr[c->srv], run.srv_len[c->srv]) != 0 && errno != EINPROGRESS) {
        fail(c, "connect: %s", strerror(errno));
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->phase = P_CONNECTING;
    c->want_out = 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(run.ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void close_client(struct client *c, int rst)
{
    if (c->fd < 0)
        return;
    if (rst) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    epoll_ctl(run.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->phase = P_CLOSED;
}

static void register_client(struct client *c)
{
    if (opt.proto == IRC)
        sendf(c, "NICK %s\r\nUSER %s 0 * :chatload\r\n", c->name, c->name);
    else
        sendf(c, "NICK %s\n", c->name);
    c->phase = P_REGISTERING;
    flush(c);
}

/* One message: "<seq> <send time us> <padding>", padded so the protocol line is opt.payload bytes. */
static void send_msg(struct client *c)
{
    const char *peer = run.cl[c->peer].name;
    char body[4096];
    int n = snprintf(body, sizeof body, "%u %llu ", c->sent, (unsigned long long)now_us());
    int overhead = opt.proto == IRC ? (int)(strlen("PRIVMSG  :\r\n") + strlen(peer))
                                    : (int)(strlen("MSG  \n") + strlen(peer));
    int pad = opt.payload - overhead - n;
    while (pad-- > 0 && n < (int)sizeof body - 1)
        body[n++] = 'x';
    body[n] = 0;
    if (opt.proto == IRC)
        sendf(c, "PRIVMSG %s :%s\r\n", peer, body);
    else
        sendf(c, "MSG %s %s\n", peer, body);
    c->sent++;
}

static void record_latency(uint64_t sent_us)
{
    uint64_t d = now_us() - sent_us;
    if (run.nlat == run.lat_cap) {
        run.lat_cap = run.lat_cap ? run.lat_cap * 2 : 65536;
        run.lat_us = realloc(run.lat_us, run.lat_cap * sizeof *run.lat_us);
    }
    run.lat_us[run.nlat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* A message body arrived for c from `from`. */
static void on_message(struct client *c, const char *from, size_t from_len, const char *body)
{
    const char *pn = run.cl[c->peer].name;
    if (strlen(pn) != from_len || memcmp(pn, from, from_len) != 0) {
        run.wrong_sender++;
        fail(c, "message from %.*s, expected %s", (int)from_len, from, pn);
        return;
    }
    char *end;
    unsigned long seq = strtoul(body, &end, 10);
    unsigned long long ts = strtoull(end, NULL, 10);
    if (seq == c->expect) {
        c->expect++;
    } else if (seq < c->expect) {
        run.dups++;
        fail(c, "message %lu again (expected %u)", seq, c->expect);
        return;
    } else {
        run.reorders++;
        run.lost += seq - c->expect;
        fail(c, "message %lu arrived, expected %u", seq, c->expect);
        c->expect = (uint32_t)seq + 1;
    }
    c->recvd++;
    run.delivered++;
    record_latency(ts);
    if (c->sent < (uint32_t)opt.messages)
        send_msg(c); /* sent with whatever else this read produced, in one write */
    if (c->recvd >= (uint32_t)opt.messages && c->sent >= (uint32_t)opt.messages)
        c->phase = P_DONE;
}

static int starts(const char *line, const char *w)
{
    size_t k = strlen(w);
    return strncmp(line, w, k) == 0 && (line[k] == ' ' || line[k] == 0);
}

/* One line from the server. */
static void on_line(struct client *c, char *line)
{
    if (opt.proto == IRC) {
        if (starts(line, "PING")) {
            sendf(c, "PONG %s\r\n", line + 5);
            flush(c);
            return;
        }
        /* ":prefix CMD params" */
        char *sp = strchr(line, ' ');
        if (line[0] != ':' || !sp)
            return;
        char *cmd = sp + 1;
        if (starts(cmd, "001")) {
            c->phase = P_REGISTERED;
        } else if (starts(cmd, "433") || starts(cmd, "432")) {
            fail(c, "nick refused: %s", line);
        } else if (starts(cmd, "PONG")) {
            c->pongs++;
        } else if (starts(cmd, "PRIVMSG")) {
            char *bang = strchr(line, '!');
            char *body = strstr(cmd, " :");
            if (!bang || !body)
                return;
            on_message(c, line + 1, (size_t)(bang - line - 1), body + 2);
        } else if (starts(cmd, "ERROR") || starts(line, "ERROR")) {
            fail(c, "%s", line);
        }
        return;
    }
    if (starts(line, "FROM")) {
        char *from = line + 5;
        char *sp = strchr(from, ' ');
        if (!sp) {
            fail(c, "bad FROM line: %s", line);
            return;
        }
        on_message(c, from, (size_t)(sp - from), sp + 1);
    } else if (starts(line, "HELLO")) {
        if (c->phase == P_GREET)
            c->phase = P_GREETED; /* greeted: ready to register */
    } else if (starts(line, "OK")) {
        if (starts(line + 3, "NICK"))
            c->phase = P_REGISTERED;
        else if (starts(line + 3, "ACCEPT"))
            c->phase = P_READY;
    } else if (starts(line, "REQUEST")) {
        sendf(c, "ACCEPT %s\n", line + 8);
        flush(c);
    } else if (starts(line, "ACCEPTED")) {
        c->phase = P_READY;
    } else if (starts(line, "PONG")) {
        c->pongs++;
    } else if (starts(line, "ERR")) {
        fail(c, "%s", line);
    } else if (starts(line, "GONE") || starts(line, "LEFT")) {
        fail(c, "%s", line);
    }
}

/* Read what is there; returns -1 if the connection ended. */
static int on_readable(struct client *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 4096) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 8192;
            c->in = realloc(c->in, c->in_cap);
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (r <= 0) {
            if (c->phase != P_CLOSED)
                fail(c, "server closed the connection%s%s", r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
            close_client(c, 0);
            return -1;
        }
        c->in_len += (size_t)r;
        size_t off = 0;
        char *nl;
        while ((nl = memchr(c->in + off, '\n', c->in_len - off))) {
            *nl = 0;
            if (nl > c->in + off && nl[-1] == '\r')
                nl[-1] = 0;
            on_line(c, c->in + off);
            off = (size_t)(nl - c->in) + 1;
            if (c->fd < 0)
                return -1;
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
        if ((size_t)r < 4096)
            break;
    }
    if (c->out_len > c->out_off)
        flush(c);
    return 0;
}

static void on_event(struct client *c, uint32_t ev)
{
    if (c->fd < 0)
        return;
    if (c->phase == P_CONNECTING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t sl = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        if (err) {
            fail(c, "connect: %s", strerror(err));
            close_client(c, 0);
            return;
        }
        /* Register at once, without waiting for the greeting (as IRC clients do); the nick race waits. */
        c->phase = (opt.proto == IRC || !run.wait_greeting) ? P_GREETED : P_GREET;
    }
    if (ev & EPOLLOUT)
        flush(c);
    if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        on_readable(c);
}

/* Run the event loop until done() or the deadline; returns 0 when done. */
static int run_until(int (*done)(void), double deadline)
{
    struct epoll_event evs[512];
    while (!done()) {
        if (now_s() > deadline)
            return -1;
        int n = epoll_wait(run.ep, evs, 512, 100);
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
    }
    return 0;
}

static int count_phase(enum phase p)
{
    int n = 0;
    for (int i = 0; i < opt.clients; i++)
        n += run.cl[i].phase == p;
    return n;
}

static int connected_count(void)
{
    int n = 0;
    for (int i = 0; i < opt.clients; i++)
        n += run.cl[i].phase != P_CONNECTING && run.cl[i].phase != P_CLOSED;
    return n;
}

/* Connect and register every client, at most opt.inflight handshakes at once. */
static int connect_all(double deadline)
{
    const int inflight = opt.inflight;
    int next = 0, pending = 0;
    struct epoll_event evs[512];
    int registered = 0;
    while (registered < opt.clients) {
        while (next < opt.clients && pending < inflight) {
            open_socket(&run.cl[next]);
            next++;
            pending++;
        }
        if (now_s() > deadline || run.errors)
            return -1;
        int n = epoll_wait(run.ep, evs, 512, 100);
        for (int i = 0; i < n; i++) {
            struct client *c = evs[i].data.ptr;
            enum phase before = c->phase;
            on_event(c, evs[i].events);
            if (c->phase == P_GREETED && c->fd >= 0)
                register_client(c);
            if (before != P_REGISTERED && c->phase == P_REGISTERED) {
                registered++;
                pending--;
            }
            if (c->phase == P_CLOSED && before != P_CLOSED)
                return -1;
        }
    }
    return 0;
}

static int all_ready(void) { return count_phase(P_READY) + count_phase(P_DONE) == opt.clients || run.errors > 0; }
static int all_done(void) { return count_phase(P_DONE) == opt.clients || run.errors > 0; }


static uint32_t pct(double p)
{
    if (!run.nlat)
        return 0;
    size_t i = (size_t)(p * (double)(run.nlat - 1));
    return run.lat_us[i];
}




static void init_clients(const char *prefix)
{
    run.cl = calloc((size_t)opt.clients, sizeof *run.cl);
    for (int i = 0; i < opt.clients; i++) {
        run.cl[i].fd = -1;
        run.cl[i].idx = i;
        run.cl[i].phase = P_CLOSED;
        run.cl[i].peer = i ^ 1;
        /* Pair k = i/2: its first client on server k mod N; the second on the next one for cross_pct% of pairs. */
        int k = i / 2;
        run.cl[i].srv = (i & 1) && (k % 100) < run.cross_pct ? (k + 1) % run.nsrv : k % run.nsrv;
        snprintf(run.cl[i].name, sizeof run.cl[i].name, "%s%d", prefix, i);
    }
}

static void close_all(void)
{
    for (int i = 0; i < opt.clients; i++)
        close_client(&run.cl[i], 0);
}

static int mode_pairs(void)
{
    if (opt.clients % 2)
        opt.clients++;
    init_clients(opt.prefix);
    double t0 = now_s();
    double deadline = t0 + opt.timeout;
    if (connect_all(deadline) < 0) {
        fprintf(stderr, "chatload: could not connect and register %d clients: %s\n", opt.clients,
                run.first_error[0] ? run.first_error : "timed out");
        return 1;
    }
    double t_reg = now_s() - t0;
    if (opt.proto == NETLAB) {
        for (int i = 0; i < opt.clients; i += 2) {
            sendf(&run.cl[i], "CHAT %s\n", run.cl[i + 1].name);
            flush(&run.cl[i]);
        }
        if (run_until(all_ready, deadline) < 0 || run.errors) {
            fprintf(stderr, "chatload: sessions did not all open: %s\n", run.first_error[0] ? run.first_error : "timed out");
            return 1;
        }
    } else {
        for (int i = 0; i < opt.clients; i++)
            run.cl[i].phase = P_READY;
    }
    double t1 = now_s();
    double srv0 = proc_cpu_us(opt.server_pid), me0 = self_cpu_us();
    for (int i = 0; i < opt.clients; i++) {
        for (int k = 0; k < opt.window && run.cl[i].sent < (uint32_t)opt.messages; k++)
            send_msg(&run.cl[i]);
        flush(&run.cl[i]);
    }
    int rc = run_until(all_done, deadline);
    double secs = now_s() - t1;
    double srv1 = proc_cpu_us(opt.server_pid), me1 = self_cpu_us();
    double srv_per = (srv0 >= 0 && srv1 >= 0 && run.delivered) ? (srv1 - srv0) / (double)run.delivered : -1;
    double harness_pct = 100.0 * (me1 - me0) / 1e6 / secs;
    uint64_t expected = (uint64_t)opt.clients * (uint64_t)opt.messages;
    if (rc < 0)
        run.lost += expected - run.delivered;
    qsort(run.lat_us, run.nlat, sizeof *run.lat_us, cmp_u32);
    printf("result mode=pairs proto=%s clients=%d window=%d messages=%llu delivered=%llu lost=%llu dup=%llu "
           "reordered=%llu wrong_sender=%llu errors=%llu seconds=%.3f msgs_per_s=%.0f p50_us=%u p99_us=%u "
           "register_s=%.3f server_cpu_us_per_msg=%.2f harness_cpu_pct=%.0f\n",
           opt.proto == IRC ? "irc" : "netlab", opt.clients, opt.window, (unsigned long long)expected,
           (unsigned long long)run.delivered, (unsigned long long)run.lost, (unsigned long long)run.dups,
           (unsigned long long)run.reorders, (unsigned long long)run.wrong_sender, (unsigned long long)run.errors, secs,
           (double)run.delivered / secs, pct(0.50), pct(0.99), t_reg, srv_per, harness_pct);
    if (run.first_error[0])
        fprintf(stderr, "chatload: first error: %s\n", run.first_error);
    close_all();
    return (rc == 0 && !run.errors && run.delivered == expected) ? 0 : 1;
}

static int all_ponged(void)
{
    for (int i = 0; i < opt.clients; i++)
        if (run.cl[i].pongs < 1)
            return run.errors > 0;
    return 1;
}

static int mode_hold(void)
{
    init_clients(opt.prefix);
    long before = proc_rss_kib(opt.server_pid);
    double t0 = now_s();
    if (connect_all(t0 + opt.timeout) < 0) {
        fprintf(stderr, "chatload: could not connect and register %d clients (%d connected): %s\n", opt.clients,
                connected_count(), run.first_error[0] ? run.first_error : "timed out");
        return 1;
    }
    double t_reg = now_s() - t0;
    /* Hold: keep answering the server (IRC PINGs) while idle. */
    double until = now_s() + opt.hold;
    struct epoll_event evs[512];
    while (now_s() < until) {
        int n = epoll_wait(run.ep, evs, 512, 100);
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
    }
    long after = proc_rss_kib(opt.server_pid);
    int alive = connected_count();
    /* Every one must still answer. */
    for (int i = 0; i < opt.clients; i++) {
        if (run.cl[i].fd < 0)
            continue;
        if (opt.proto == IRC)
            sendf(&run.cl[i], "PING :k%d\r\n", i);
        else
            sendf(&run.cl[i], "PING k%d\n", i);
        flush(&run.cl[i]);
    }
    int ok = run_until(all_ponged, now_s() + opt.timeout) == 0 && !run.errors;
    double per = (before >= 0 && after >= 0) ? (double)(after - before) * 1024.0 / opt.clients : -1;
    printf("result mode=hold proto=%s clients=%d alive=%d register_s=%.3f clients_per_s=%.0f rss_before_kib=%ld "
           "rss_after_kib=%ld rss_per_client_bytes=%.0f errors=%llu\n",
           opt.proto == IRC ? "irc" : "netlab", opt.clients, alive, t_reg, opt.clients / t_reg, before, after, per,
           (unsigned long long)run.errors);
    if (run.first_error[0])
        fprintf(stderr, "chatload: first error: %s\n", run.first_error);
    close_all();
    return ok && alive == opt.clients ? 0 : 1;
}

static int flood_connected(void)
{
    for (int i = 0; i < opt.clients; i++)
        if (run.cl[i].phase == P_CONNECTING)
            return 0;
    return 1;
}

static int mode_flood(void)
{
    init_clients("f");
    uint64_t dropped = 0;
    for (int round = 0; round < opt.rounds; round++) {
        for (int i = 0; i < opt.clients; i++)
            open_socket(&run.cl[i]);
        if (run_until(flood_connected, now_s() + opt.timeout) < 0) {
            fprintf(stderr, "chatload: flood round %d: connects did not complete\n", round);
            return 1;
        }
        for (int i = 0; i < opt.clients; i++) {
            struct client *c = &run.cl[i];
            if (c->fd < 0)
                continue;
            switch ((i + round) % 5) {
            case 0: /* connect and leave at once */
                close_client(c, 0);
                break;
            case 1: /* register, then FIN */
                sendf(c, "NICK f%d_%d\n", round, i);
                flush(c);
                close_client(c, 0);
                break;
            case 2: /* register, half a message, then RST */
                sendf(c, "NICK f%d_%d\nMSG nobody half a mess", round, i);
                flush(c);
                close_client(c, 1);
                break;
            case 3: /* ask for output and never read it, then RST */
                sendf(c, "NICK f%d_%d\nLIST\nHELP\nPING x\n", round, i);
                flush(c);
                close_client(c, 1);
                break;
            default: /* RST before saying anything */
                close_client(c, 1);
                break;
            }
            c->out_len = c->out_off = 0;
            c->in_len = 0;
            dropped++;
        }
        run.errors = 0; /* connects refused mid-flood are not failures; the check below is */
        run.first_error[0] = 0;
    }
    free(run.cl);
    /* The server must still work: a fresh pair registers, opens a session and talks. */
    opt.clients = 2;
    opt.messages = 10;
    opt.window = 1;
    init_clients("after");
    run.delivered = 0;
    double deadline = now_s() + opt.timeout;
    int ok = connect_all(deadline) == 0;
    if (ok) {
        sendf(&run.cl[0], "CHAT %s\n", run.cl[1].name);
        flush(&run.cl[0]);
        ok = run_until(all_ready, deadline) == 0 && !run.errors;
    }
    if (ok) {
        for (int i = 0; i < 2; i++) {
            send_msg(&run.cl[i]);
            flush(&run.cl[i]);
        }
        ok = run_until(all_done, deadline) == 0 && !run.errors && run.delivered == 20;
    }
    printf("result mode=flood rounds=%d dropped=%llu served_after=%s errors=%llu\n", opt.rounds,
           (unsigned long long)dropped, ok ? "yes" : "no", (unsigned long long)run.errors);
    if (!ok && run.first_error[0])
        fprintf(stderr, "chatload: %s\n", run.first_error);
    close_all();
    return ok ? 0 : 1;
}

static int all_answered_nick(void)
{
    for (int i = 0; i < opt.clients; i++)
        if (run.cl[i].pongs == 0)
            return 0;
    return 1;
}

/* Count the answers to a NICK raced by everyone: OK NICK or ERR 409. */

static int mode_nick(void)
{
    run.wait_greeting = 1;
    init_clients("n");
    for (int i = 0; i < opt.clients; i++)
        open_socket(&run.cl[i]);
    if (run_until(flood_connected, now_s() + opt.timeout) < 0)
        return 1;
    /* Wait for every greeting so the NICKs are all sent in one burst. */
    struct epoll_event evs[512];
    double deadline = now_s() + opt.timeout;
    while (count_phase(P_GREETED) < opt.clients && now_s() < deadline) {
        int n = epoll_wait(run.ep, evs, 512, 100);
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
    }
    for (int i = 0; i < opt.clients; i++) {
        sendf(&run.cl[i], "NICK racer\nPING done\n");
        run.cl[i].phase = P_REGISTERING;
    }
    for (int i = 0; i < opt.clients; i++)
        flush(&run.cl[i]);
    int ok = run_until(all_answered_nick, now_s() + opt.timeout) == 0;
    run.nick_ok = count_phase(P_REGISTERED);
    run.nick_taken = (int)run.errors; /* every ERR line counted as an error by on_line */
    printf("result mode=nick clients=%d got_name=%d refused=%d\n", opt.clients, run.nick_ok, run.nick_taken);
    if (run.first_error[0])
        fprintf(stderr, "chatload: e.g. %s\n", run.first_error);
    close_all();
    return ok && run.nick_ok == 1 && run.nick_taken == opt.clients - 1 ? 0 : 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: chatload pairs|hold|flood|nick --port PORT [--host H] [--proto netlab|irc] [--clients N]\n"
            "       [--messages M] [--window W] [--payload BYTES] [--rounds R] [--hold SECONDS]\n"
            "       [--timeout SECONDS] [--server-pid PID] [--prefix NAME] [--inflight N (connects at once, 256)]\n"
            "       [--ports P1,P2,... (a cluster, instead of --port)] [--cross PCT (pairs across servers, 100)]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--host"))
            opt.host = v;
        else if (!strcmp(a, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(a, "--proto"))
            opt.proto = !strcmp(v, "irc") ? IRC : NETLAB;
        else if (!strcmp(a, "--clients"))
            opt.clients = atoi(v);
        else if (!strcmp(a, "--messages"))
            opt.messages = atoi(v);
        else if (!strcmp(a, "--window"))
            opt.window = atoi(v);
        else if (!strcmp(a, "--payload"))
            opt.payload = atoi(v);
        else if (!strcmp(a, "--rounds"))
            opt.rounds = atoi(v);
        else if (!strcmp(a, "--hold"))
            opt.hold = atof(v);
        else if (!strcmp(a, "--timeout"))
            opt.timeout = atof(v);
        else if (!strcmp(a, "--server-pid"))
            opt.server_pid = atoi(v);
        else if (!strcmp(a, "--inflight"))
            opt.inflight = atoi(v);
        else if (!strcmp(a, "--prefix"))
            opt.prefix = v;
        else if (!strcmp(a, "--cross"))
            run.cross_pct = atoi(v);
        else if (!strcmp(a, "--ports")) {
            for (char *p = (char *)v; *p && run.nsrv < MAX_SRV;) {
                run.srv_port[run.nsrv++] = atoi(p);
                char *comma = strchr(p, ',');
                if (!comma)
                    break;
                p = comma + 1;
            }
            opt.port = run.srv_port[0];
        }
        else
            usage();
        i++;
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.clients < 1 || opt.window < 1 || opt.messages < 1 || opt.inflight < 1)
        usage();
    raise_nofile();
    resolve();
    run.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!strcmp(mode, "pairs"))
        return mode_pairs();
    if (!strcmp(mode, "hold"))
        return mode_hold();
    if (!strcmp(mode, "flood"))
        return mode_flood();
    if (!strcmp(mode, "nick"))
        return mode_nick();
    usage();
    return 64;
}
