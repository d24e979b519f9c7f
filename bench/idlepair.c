/*
 * idlepair - an intermittent chat pair among many idle clients (issue 8,
 * item 6). Written against the protocol text (docs/PROTOCOL.md), not
 * libnetlab, in a process apart from the server (the open-file limit is per
 * process). First N idle clients connect and register (epoll, at most
 * --inflight handshakes at once; the time is printed), and stay connected
 * without a word; then two clients open a session and exchange one message
 * each way --rounds times, waiting a random 9-100 ms between round trips.
 * The round trip (MSG a->b, FROM at b, MSG b->a, FROM at a) is timed at a.
 *
 *   idlepair --port P --idle 10000 --rounds 300 [--gap-min 9 --gap-max 100] [--inflight 256]
 *
 * Ends with one "result ..." line of key=value pairs; exit 0 only if every
 * client registered and every message came back right.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, idle = 0, rounds = 300, gap_min = 9, gap_max = 100, inflight = 256;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "idlepair: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int open_socket(int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
        die("connect");
    return fd;
}

/* ---- idle clients: connect, NICK, wait for OK NICK ---- */

struct idle_client {
    int fd;
    int sent;
    char buf[512];
    size_t len;
};

static int register_idle(int n, double *secs)
{
    struct idle_client *cl = calloc((size_t)n + 1, sizeof *cl);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cl || ep < 0)
        die("setup");
    int next = 0, pending = 0, done = 0;
    double t0 = now_s(), deadline = t0 + 300;
    struct epoll_event evs[256];
    while (done < n) {
        while (next < n && pending < inflight) {
            cl[next].fd = open_socket(1);
            struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)next};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, cl[next].fd, &e) != 0)
                die("epoll_ctl");
            next++;
            pending++;
        }
        if (now_s() > deadline) {
            fprintf(stderr, "idlepair: only %d of %d registered after 300 s\n", done, n);
            return -1;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < k; i++) {
            struct idle_client *c = &cl[evs[i].data.u32];
            if ((evs[i].events & EPOLLOUT) && !c->sent) {
                char line[64];
                int m = snprintf(line, sizeof line, "NICK idle%u\n", evs[i].data.u32);
                if (send(c->fd, line, (size_t)m, MSG_NOSIGNAL) != m) {
                    fprintf(stderr, "idlepair: idle client %u could not send NICK\n", evs[i].data.u32);
                    return -1;
                }
                c->sent = 1;
                struct epoll_event e = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
                if (r <= 0) {
                    fprintf(stderr, "idlepair: idle client %u lost before registering\n", evs[i].data.u32);
                    return -1;
                }
                c->len += (size_t)r;
                c->buf[c->len] = 0;
                if (strstr(c->buf, "OK NICK")) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); /* stays open, silent */
                    pending--;
                    done++;
                } else if (strstr(c->buf, "ERR")) {
                    fprintf(stderr, "idlepair: idle client %u: %s", evs[i].data.u32, c->buf);
                    return -1;
                }
            }
        }
    }
    *secs = now_s() - t0;
    close(ep);
    return 0; /* the descriptors stay open until the process ends */
}

/* ---- the pair: blocking sockets, one line at a time ---- */

struct liner {
    int fd;
    char buf[8192];
    size_t len;
};

static int next_line(struct liner *l, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(l->buf, '\n', l->len);
        if (nl) {
            size_t n = (size_t)(nl - l->buf);
            size_t c = n < cap - 1 ? n : cap - 1;
            memcpy(out, l->buf, c);
            out[c] = 0;
            memmove(l->buf, nl + 1, l->len - n - 1);
            l->len -= n + 1;
            return 0;
        }
        ssize_t r = recv(l->fd, l->buf + l->len, sizeof l->buf - l->len, 0);
        if (r <= 0)
            return -1;
        l->len += (size_t)r;
    }
}

static void send_line(int fd, const char *s)
{
    size_t n = strlen(s);
    if (send(fd, s, n, MSG_NOSIGNAL) != (ssize_t)n)
        die("send");
}

static void expect_prefix(struct liner *l, const char *prefix)
{
    char line[512];
    do {
        if (next_line(l, line, sizeof line) < 0) {
            fprintf(stderr, "idlepair: connection lost waiting for '%s'\n", prefix);
            exit(1);
        }
    } while (strncmp(line, "HELLO", 5) == 0 && strncmp(prefix, "HELLO", 5) != 0);
    if (strncmp(line, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "idlepair: expected '%s', got '%s'\n", prefix, line);
        exit(1);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--port")) port = v;
        else if (!strcmp(argv[i], "--idle")) idle = v;
        else if (!strcmp(argv[i], "--rounds")) rounds = v;
        else if (!strcmp(argv[i], "--gap-min")) gap_min = v;
        else if (!strcmp(argv[i], "--gap-max")) gap_max = v;
        else if (!strcmp(argv[i], "--inflight")) inflight = v;
        else {
            fprintf(stderr, "usage: idlepair --port P [--idle N] [--rounds R] [--gap-min MS] [--gap-max MS] [--inflight N]\n");
            return 64;
        }
    }
    if (port <= 0 || rounds < 1 || idle < 0 || gap_max < gap_min || inflight < 1) {
        fprintf(stderr, "idlepair: bad arguments\n");
        return 64;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    double reg = 0;
    if (idle > 0 && register_idle(idle, &reg) < 0)
        return 1;

    struct liner a = {.fd = open_socket(0)}, b = {.fd = open_socket(0)};
    send_line(a.fd, "NICK pairA\n");
    expect_prefix(&a, "OK NICK pairA");
    send_line(b.fd, "NICK pairB\n");
    expect_prefix(&b, "OK NICK pairB");
    send_line(a.fd, "CHAT pairB\n");
    expect_prefix(&a, "OK CHAT pairB");
    expect_prefix(&b, "REQUEST pairA");
    send_line(b.fd, "ACCEPT pairA\n");
    expect_prefix(&b, "OK ACCEPT pairA");
    expect_prefix(&a, "ACCEPTED pairB");

    double *rtt = calloc((size_t)rounds, sizeof *rtt);
    srand(12345);
    for (int r = 0; r < rounds; r++) {
        int gap = gap_min + (gap_max > gap_min ? rand() % (gap_max - gap_min + 1) : 0);
        usleep((useconds_t)gap * 1000);
        char msg[64], want[64];
        double t0 = now_s();
        snprintf(msg, sizeof msg, "MSG pairB ping %d\n", r);
        send_line(a.fd, msg);
        snprintf(want, sizeof want, "FROM pairA ping %d", r);
        expect_prefix(&b, want);
        snprintf(msg, sizeof msg, "MSG pairA pong %d\n", r);
        send_line(b.fd, msg);
        snprintf(want, sizeof want, "FROM pairB pong %d", r);
        expect_prefix(&a, want);
        rtt[r] = (now_s() - t0) * 1e6;
    }
    qsort(rtt, (size_t)rounds, sizeof *rtt, cmp_double);
#define PCT(p) rtt[(size_t)((double)(rounds - 1) * (p) + 0.5)]
    printf("result idle=%d register_s=%.3f rounds=%d rtt_p50_us=%.0f rtt_p90_us=%.0f rtt_p99_us=%.0f rtt_max_us=%.0f\n",
           idle, reg, rounds, PCT(0.50), PCT(0.90), PCT(0.99), rtt[rounds - 1]);
    return 0;
}
