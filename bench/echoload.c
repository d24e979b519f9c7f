/*
 * echoload - load generator for echo servers: N connections, each keeping one
 * line of --size bytes in flight (send, wait for the whole answer line, send
 * the next), single-threaded on epoll. After --warmup seconds it counts
 * answers for --seconds and records each round trip's latency.
 *
 *   echoload --port P --conns 100 --seconds 5 [--warmup 1] [--size 64] [--greeting] [--server-pid PID]
 *
 * --greeting: the server sends one line on connect (netlab's echoserver);
 * it is read before the first message. Works with servers that echo bytes
 * unchanged (NIOEchoServer, bench/epoll_echo.c) or transform them in place
 * (netlab's echoserver answers with a line of the same length).
 * Prints: "result conns=N msgs=... msgs_per_s=... p50_us=... p99_us=... errors=...
 * server_cpu_us_per_msg=... loadgen_cpu_pct=..." (the server's CPU time, all threads, per
 * echo: the harness-independent cost; the load generator's own share of a core).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

struct conn {
    int fd;
    int greeted;
    size_t got;          /* bytes of the current answer received */
    uint64_t sent_at;    /* ns */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}




int main(int argc, char **argv)
{
    int port = 0, conns = 1, size = 64, greeting = 0, server_pid = 0;
    double seconds = 5, warmup = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--greeting")) {
            greeting = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "echoload: %s needs a value\n", argv[i]);
            return 64;
        }
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--port"))
            port = atoi(v);
        else if (!strcmp(argv[i - 1], "--conns"))
            conns = atoi(v);
        else if (!strcmp(argv[i - 1], "--seconds"))
            seconds = atof(v);
        else if (!strcmp(argv[i - 1], "--warmup"))
            warmup = atof(v);
        else if (!strcmp(argv[i - 1], "--size"))
            size = atoi(v);
        else if (!strcmp(argv[i - 1], "--server-pid"))
            server_pid = atoi(v);
        else {
            fprintf(stderr, "echoload: unknown option %s\n", argv[i - 1]);
            return 64;
        }
    }
    if (port <= 0 || conns < 1 || size < 2 || size > 4096) {
        fprintf(stderr, "usage: echoload --port P [--conns N] [--seconds S] [--warmup W] [--size BYTES] [--greeting]\n");
        return 64;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char msg[4096];
    memset(msg, 'a', (size_t)size - 1);
    for (int i = 0; i < size - 1; i += 7)
        msg[i] = 'A'; /* mixed case, so a case-swapping server does real work */
    msg[size - 1] = '\n';

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int ep = epoll_create1(0);
    struct conn *c = calloc((size_t)conns, sizeof *c);
    /* Connect in blocking mode, a few at a time: every server gets the same orderly start. */
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            fprintf(stderr, "echoload: connect %d: %s\n", i, strerror(errno));
            return 1;
        }
        c[i].fd = fd;
        c[i].greeted = !greeting;
    }
    char buf[65536];
    for (int i = 0; i < conns; i++) {
        /* Read the greeting (blocking) before the clock starts. */
        while (!c[i].greeted) {
            ssize_t r = recv(c[i].fd, buf, sizeof buf, 0);
            if (r <= 0) {
                fprintf(stderr, "echoload: no greeting on connection %d\n", i);
                return 1;
            }
            if (memchr(buf, '\n', (size_t)r))
                c[i].greeted = 1;
        }
        fcntl(c[i].fd, F_SETFL, fcntl(c[i].fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    size_t lat_cap = 1 << 20, nlat = 0;
    uint32_t *lat = malloc(lat_cap * sizeof *lat);
    uint64_t errors = 0, count = 0;
    uint64_t t0 = now_ns();
    uint64_t t_measure = t0 + (uint64_t)(warmup * 1e9);
    uint64_t t_end = t_measure + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < conns; i++) {
        c[i].sent_at = now_ns();
        if (send(c[i].fd, msg, (size_t)size, MSG_NOSIGNAL) != size)
            errors++;
    }
    struct epoll_event evs[1024];
    int measuring = 0;
    double srv0 = -1, me0 = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (!measuring && now >= t_measure) {
            measuring = 1;
            srv0 = proc_cpu_us(server_pid);
            me0 = self_cpu_us();
        }
        if (now >= t_end)
            break;
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int k = 0; k < n; k++) {
            struct conn *x = &c[evs[k].data.u32];
            ssize_t r = recv(x->fd, buf, sizeof buf, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                continue;
            }
            x->got += (size_t)r;
            if (x->got < (size_t)size)
                continue;
            if (x->got > (size_t)size)
                errors++; /* one line in flight: more than one answer's worth is wrong */
            uint64_t t = now_ns();
            if (measuring && t < t_end) {
                count++;
                if (nlat == lat_cap) {
                    lat_cap *= 2;
                    lat = realloc(lat, lat_cap * sizeof *lat);
                }
                uint64_t us = (t - x->sent_at) / 1000;
                lat[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
            }
            x->got = 0;
            x->sent_at = t;
            if (send(x->fd, msg, (size_t)size, MSG_NOSIGNAL) != size)
                errors++;
        }
    }
    double srv1 = proc_cpu_us(server_pid), me1 = self_cpu_us();
    double srv_per = (srv0 >= 0 && srv1 >= 0 && count) ? (srv1 - srv0) / (double)count : -1;
    qsort(lat, nlat, sizeof *lat, cmp_u32);
    uint32_t p50 = nlat ? lat[(nlat - 1) / 2] : 0, p99 = nlat ? lat[(size_t)((double)(nlat - 1) * 0.99)] : 0;
    printf("result conns=%d msgs=%llu msgs_per_s=%.0f p50_us=%u p99_us=%u errors=%llu server_cpu_us_per_msg=%.2f "
           "loadgen_cpu_pct=%.0f\n",
           conns, (unsigned long long)count, (double)count / seconds, p50, p99, (unsigned long long)errors, srv_per,
           100.0 * (me1 - me0) / 1e6 / seconds);
    for (int i = 0; i < conns; i++)
        close(c[i].fd);
    return errors ? 1 : 0;
}
