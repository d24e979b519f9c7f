/*
 * nl_prove_run.c - runs a parsed script inside the experiment's namespaces: the clock (script time
 * to live time as packetdrill anchors it), the timing tolerance (measured scheduling jitter, the
 * script's --tolerance_usecs, or the caller's), each event in turn (inject, expect and compare field
 * by field, syscall on a worker thread so a blocking call can run beside later lines, shell lines,
 * %{ }% code with the line's TCP_INFO), and what --explain needs (RTT samples, RFC 6298's RTO,
 * duplicate ACKs, retransmissions). Sets up nothing outside the namespaces it is given.
 */
#include "nl_prove_int.h"
#include "nl_internal.h"
#include "netlab/nl_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static void sleep_until_us(struct pv_run *r, int64_t us)
{
    if (r->tun >= 0)
        pv_net_idle(r, us);
    int64_t target = r->t0_ns + us * 1000;
    struct timespec t = {(time_t)(target / 1000000000), (long)(target % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

static int fail(struct pv_run *r, int ev, int kind, const char *fieldname, const char *fmt, ...) NL_PRINTF(5, 6);
static int fail(struct pv_run *r, int ev, int kind, const char *fieldname, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = 1;
    r->fail.ev = ev;
    r->fail.kind = kind;
    snprintf(r->fail.field, sizeof r->fail.field, "%s", fieldname ? fieldname : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->fail.msg, sizeof r->fail.msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* The scheduling jitter of this machine now: how late 100 short sleeps wake, the 99th percentile
 * (the second latest). About 15 ms. */
static int64_t measure_jitter_us(void)
{
    enum { N = 100 };
    int64_t late[N];
    for (int i = 0; i < N; i++) {
        int64_t t = pv_mono_ns() + 100000;
        struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        late[i] = (pv_mono_ns() - t) / 1000;
    }
    for (int i = 1; i < N; i++)   /* insertion sort: 200 numbers */
        for (int j = i; j > 0 && late[j] < late[j - 1]; j--) {
            int64_t x = late[j];
            late[j] = late[j - 1];
            late[j - 1] = x;
        }
    return late[N * 99 / 100];
}

/* ---- shell lines and code blocks ---- */

static void reap_orphans(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* Run argv in the script's folder with a deadline; its output (first bytes) in out. */
static int run_prog_in(struct pv_run *r, const char *const argv[], int in_fd, double timeout_s, char *out, size_t cap,
                       int *status)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    /* packetdrill's environment for its shell lines: PACKETDRILL_PID is the runner's PID, which is
     * the shell's $PPID (gtests' set_sysctls.py writes /tmp/sysctl_restore_$PACKETDRILL_PID.sh for
     * the script's last line, `/tmp/sysctl_restore_${PPID}.sh`, to run). Set before fork: setenv
     * is not async-signal-safe. */
    char pdpid[24];
    snprintf(pdpid, sizeof pdpid, "%d", (int)getpid());
    setenv("PACKETDRILL_PID", pdpid, 1);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        int devnull = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (chdir(r->s->dir) < 0)
            _exit(126);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    int64_t deadline = pv_mono_ns() + (int64_t)(timeout_s * 1e9);
    int done = 0;
    *status = -1;
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    while (!done) {
        char buf[512];
        ssize_t k;
        while ((k = read(pfd[0], buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < k; i++)
                if (n + 1 < cap)
                    out[n++] = buf[i];
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            *status = st;
            done = 1;
            break;
        }
        if (pv_mono_ns() > deadline || nl_stop_requests()) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            *status = -2;
            done = 1;
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        poll(&p, 1, 10);
    }
    kill(-pid, SIGKILL);   /* anything it left running in the background */
    close(pfd[0]);
    if (cap)
        out[n < cap ? n : cap - 1] = 0;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = 0;
    reap_orphans();
    return 0;
}

static int run_prog(struct pv_run *r, const char *const argv[], double timeout_s, char *out, size_t cap, int *status)
{
    return run_prog_in(r, argv, -1, timeout_s, out, cap, status);
}

static int run_shell(struct pv_run *r, int ev, const char *cmd)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    char out[1024];
    int st;
    struct pv_rec *rec = ev >= 0 ? &r->rec[ev] : NULL;
    if (run_prog(r, argv, 60.0, out, sizeof out, &st) < 0)
        return fail(r, ev, PV_F_SHELL, "command", "could not start /bin/sh: %s", strerror(errno));
    if (rec)
        snprintf(rec->note, sizeof rec->note, "%.300s", out);
    if (st == -2)
        return fail(r, ev, PV_F_SHELL, "command", "the shell line did not finish within 60 s and was stopped: `%s`", cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return fail(r, ev, PV_F_SHELL, "command", "the shell line exited with status %d: `%s`%s%s",
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), cmd, out[0] ? "\n  its output: " : "", out);
    return 0;
}

/* %{ }% blocks, as packetdrill runs them: one Python program at the end of the script, each block
 * seeing the TCP_INFO of its own moment and the names earlier blocks defined. The blocks and their
 * numbers go to Python as JSON on standard input (a memfd), never spliced into Python source. */
static const char py_prog[] =
    "import sys, json\n"
    "TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2 = 1, 2, 3, 4, 5\n"
    "TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_LISTEN, TCP_CLOSING = 6, 7, 8, 9, 10, 11\n"
    "TCP_CA_Open, TCP_CA_Disorder, TCP_CA_CWR, TCP_CA_Recovery, TCP_CA_Loss = 0, 1, 2, 3, 4\n"
    "TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE, TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN = 1, 2, 4, 8, 16\n"
    "TCPI_OPT_SYN_DATA, TCPI_OPT_USEC_TS, TCPI_OPT_TFO_CHILD = 32, 64, 128\n"
    "for _blk in json.load(sys.stdin):\n"
    "    _line = _blk['line']\n"
    "    globals().update(_blk['vars'])\n"
    "    try:\n"
    "        _c = _blk['code'].rstrip()\n"
    "        exec(_c[:-1] if _c.endswith('\\\\') else _c, globals())\n"
    "    except Exception as _e:\n"
    "        sys.stdout.write('%d\\t%s: %s' % (_blk['index'], type(_e).__name__, _e))\n"
    "        sys.exit(1)\n";

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static int run_code_blocks(struct pv_run *r)
{
    int any = 0;
    for (int i = 0; i < r->s->nev; i++)
        any |= r->s->ev[i].kind == PV_EV_CODE && r->rec[i].reached;
    if (!any)
        return 0;
    int mfd = memfd_create("prove-code", 0);
    FILE *f = mfd >= 0 ? fdopen(dup(mfd), "w") : NULL;
    if (!f) {
        if (mfd >= 0)
            close(mfd);
        return fail(r, -1, PV_F_CODE, "code", "could not hand the %%{ }%% blocks to python3: %s", strerror(errno));
    }
    fputc('[', f);
    int n = 0;
    for (int i = 0; i < r->s->nev; i++) {
        const struct pv_event *e = &r->s->ev[i];
        if (e->kind != PV_EV_CODE || !r->rec[i].reached)
            continue;
        fprintf(f, "%s{\"index\":%d,\"line\":%d,\"code\":", n++ ? "," : "", i, e->line);
        json_str(f, e->text);
        fprintf(f, ",\"vars\":{");
        const struct pv_tcpinfo *t = &r->rec[i].ti;
        for (int k = 0; t->valid && k < pv_tcpinfo_count(); k++)
            fprintf(f, "%s\"%s\":%llu", k ? "," : "", pv_tcpinfo_name(k), (unsigned long long)t->v[k]);
        fprintf(f, "}}");
    }
    fputc(']', f);
    fclose(f);
    lseek(mfd, 0, SEEK_SET);
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    const char *argv[] = {py, "-c", py_prog, NULL};
    char out[1024];
    int st;
    int rc = run_prog_in(r, argv, mfd, 60.0, out, sizeof out, &st);
    close(mfd);
    if (rc < 0)
        return fail(r, -1, PV_F_CODE, "code", "could not start python3: %s", strerror(errno));
    if (st == -2)
        return fail(r, -1, PV_F_CODE, "code", "python3 did not finish the %%{ }%% blocks within 60 s");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        /* the last line is "INDEX<TAB>Error: text"; lines before it are what the blocks printed */
        char *tab = strrchr(out, '\t');
        char *start = tab;
        while (start && start > out && start[-1] != '\n')
            start--;
        int ev = tab ? atoi(start) : -1;
        if (ev < 0 || ev >= r->s->nev)
            return fail(r, -1, PV_F_CODE, "code", "python3 failed on the %%{ }%% blocks: %s", out);
        snprintf(r->rec[ev].note, sizeof r->rec[ev].note, "%s", tab + 1);
        r->rec[ev].ok = 0;
        return fail(r, ev, PV_F_CODE, "assertion", "the %%{ }%% code did not hold with this line's TCP_INFO: %s",
                    tab + 1);
    }
    return 0;
}

/* ---- the syscall worker ---- */

struct job_out { int rc; char field[48]; char msg[1024]; int64_t end_us; };
static struct job_out job;

static int worker_stat_fd = -1;   /* the worker's /proc/thread-self/stat, opened by the worker itself */

/* 1 when the worker thread sleeps in the kernel (a blocking call waiting), as packetdrill checks. */
static int worker_blocked(void)
{
    char buf[256];
    if (worker_stat_fd < 0)
        return 0;
    ssize_t n = pread(worker_stat_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')');   /* "tid (comm) S ..." */
    return p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

static void *worker(void *arg)
{
    struct pv_run *r = arg;
    worker_stat_fd = open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC);
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!(r->sc_busy && !r->sc_done))
            pthread_cond_wait(&r->cv, &r->mu);
        int ev = r->sc_ev;
        if (ev < 0)
            break;
        pthread_mutex_unlock(&r->mu);
        struct job_out o;
        memset(&o, 0, sizeof o);
        o.rc = pv_sys_run(r, ev, o.field, sizeof o.field, o.msg, sizeof o.msg);
        o.end_us = pv_now_us(r);
        pthread_mutex_lock(&r->mu);
        job = o;
        r->sc_done = 1;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void start_call(struct pv_run *r, int ev)
{
    pthread_mutex_lock(&r->mu);
    r->sc_ev = ev;
    r->sc_done = 0;
    r->sc_busy = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Wait until the call in flight returns or deadline_us passes: 1 returned, 0 still blocked. */
static int wait_call(struct pv_run *r, int64_t deadline_us)
{
    pthread_mutex_lock(&r->mu);
    while (r->sc_busy && !r->sc_done) {
        int64_t left = deadline_us - pv_now_us(r);
        if (left <= 0 || nl_stop_requests())
            break;
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        int64_t ns = (int64_t)t.tv_nsec + (left < 20000 ? left : 20000) * 1000;
        t.tv_sec += (time_t)(ns / 1000000000);
        t.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&r->cv, &r->mu, &t);
    }
    int done = !r->sc_busy || r->sc_done;
    pthread_mutex_unlock(&r->mu);
    return done;
}

/* The call of event ev returned: check its result and, for a start...end call, its end time. */
static int finish_call(struct pv_run *r, int ev)
{
    pthread_mutex_lock(&r->mu);
    struct job_out o = job;
    r->sc_busy = 0;
    r->sc_done = 0;
    pthread_mutex_unlock(&r->mu);
    struct pv_rec *rec = &r->rec[ev];
    const struct pv_event *e = &r->s->ev[ev];
    rec->live_end_us = o.end_us;
    rec->ti.valid = 0;
    if (o.rc < 0)
        return fail(r, ev, PV_F_SYSCALL, o.field, "%s", o.msg);
    if (e->sc.blocking) {
        int64_t want = rec->want_end_us;
        if (o.end_us < want - rec->tol_us || o.end_us > want + rec->tol_us)
            return fail(r, ev, PV_F_TIME, "end time",
                        "%s() returned at %.6f s; the script allows %.6f s +- %.3f ms for its end", e->sc.name,
                        o.end_us / 1e6, want / 1e6, rec->tol_us / 1e3);
    }
    return 0;
}

static int settle_blocking(struct pv_run *r, int *pending)
{
    if (*pending < 0)
        return 0;
    int ev = *pending;
    *pending = -1;
    int64_t deadline = r->rec[ev].want_end_us + r->rec[ev].tol_us + 2000000;
    if (!wait_call(r, deadline))
        return fail(r, ev, PV_F_BLOCKED, "end time",
                    "%s() started here was still blocked at %.3f s, past the end the script gave it (%.6f s)",
                    r->s->ev[ev].sc.name, pv_now_us(r) / 1e6, r->rec[ev].want_end_us / 1e6);
    return finish_call(r, ev);
}

/* ---- segments ---- */

/* Sequence numbers as packetdrill maps them: a SYN's are absolute (the kernel's shifted by its live
 * ISN minus the script's), every other segment's count from the ISN of the side that sends them, as
 * tcpdump's relative numbers do. */
static uint32_t local_offset(const struct pv_run *r, int syn)
{
    if (!r->have_lisn)
        return 0;
    return syn ? r->lisn_live - r->lisn_script : r->lisn_live;
}
static uint32_t remote_offset(const struct pv_run *r, int syn) { return syn ? 0 : r->remote_isn; }

static void note_inbound(struct pv_run *r, int ev, const struct pv_seg *g)
{
    struct pv_rec *rec = &r->rec[ev];
    rec->rtt_ms = -1;
    if (!(g->flags & PV_ACK))
        return;
    for (int i = 0; i < g->nopts; i++)
        if (g->opts[i].kind == 5)
            r->sack_seen = 1;
    if (r->last_in_ack_valid && g->ack == r->last_in_ack && g->len == 0 && !(g->flags & (PV_SYN | PV_FIN)) &&
        r->have_snd && g->ack != r->snd_max)
        r->dupacks++;
    else if (!r->last_in_ack_valid || g->ack != r->last_in_ack) {
        /* new data acknowledged: an RTT sample from the oldest segment it covers that was sent once (Karn) */
        int64_t now = rec->live_us;
        for (int i = 0; i < r->nsent; i++)
            if ((int32_t)(r->sent[i].end - g->ack) <= 0 && (int32_t)(r->sent[i].end - r->last_in_ack) > 0) {
                if (!r->sent[i].retx && rec->rtt_ms < 0) {
                    double rtt = (now - r->sent[i].t_us) / 1e3;
                    rec->rtt_ms = rtt;
                    /* RFC 6298 2.2 and 2.3 */
                    if (r->nsamples == 0) {
                        r->srtt_ms = rtt;
                        r->rttvar_ms = rtt / 2;
                    } else {
                        r->rttvar_ms = 0.75 * r->rttvar_ms + 0.25 * fabs(r->srtt_ms - rtt);
                        r->srtt_ms = 0.875 * r->srtt_ms + 0.125 * rtt;
                    }
                    r->nsamples++;
                    double k = 4 * r->rttvar_ms;
                    r->rto_ms = r->srtt_ms + (k > 1 ? k : 1); /* G: 1 ms; 2.4's 1 s floor is worded apart */
                    r->backoff = 0;
                }
            }
        r->dupacks = 0;
        r->sack_seen = 0;
    }
    r->last_in_ack = g->ack;
    r->last_in_ack_valid = 1;
    rec->dupacks = r->dupacks;
    rec->srtt_ms = r->srtt_ms;
    rec->rttvar_ms = r->rttvar_ms;
    rec->rto_ms = r->rto_ms;
    rec->nsamples = r->nsamples;
}

static void note_outbound(struct pv_run *r, int ev, const struct pv_wire *w, uint32_t seq)
{
    struct pv_rec *rec = &r->rec[ev];
    uint32_t span = w->len + ((w->flags & PV_SYN) ? 1 : 0) + ((w->flags & PV_FIN) ? 1 : 0);
    rec->dupacks = r->dupacks;
    rec->sacked = r->sack_seen;
    rec->srtt_ms = r->srtt_ms;
    rec->rttvar_ms = r->rttvar_ms;
    rec->rto_ms = r->rto_ms;
    rec->nsamples = r->nsamples;
    if (span == 0) {
        if (r->have_snd && w->len == 0 && (int32_t)(seq - r->snd_max) < 0 && !(w->flags & PV_RST))
            rec->retx = PV_RETX_PROBE;   /* seq below snd.nxt with nothing in it: a keep-alive or window probe */
        return;
    }
    uint32_t end = seq + span;
    if (r->have_snd && (int32_t)(seq - r->snd_max) < 0) {
        rec->gap_ms = (rec->live_us - r->last_tx_us) / 1e3;
        for (int i = 0; i < r->nsent; i++)
            if (r->sent[i].end == end || ((int32_t)(r->sent[i].end - seq) > 0 && (int32_t)(r->sent[i].end - end) <= 0)) {
                rec->gap_ms = (rec->live_us - r->sent[i].t_us) / 1e3;
                r->sent[i].retx = 1;
                r->sent[i].t_us = rec->live_us;
            }
        if (w->flags & PV_SYN)
            rec->retx = PV_RETX_SYN;
        else if (r->dupacks >= 3)
            rec->retx = PV_RETX_DUPACK;
        else if (r->sack_seen)
            rec->retx = PV_RETX_SACK;
        else
            rec->retx = PV_RETX_TIMEOUT;
        if (rec->retx == PV_RETX_TIMEOUT || rec->retx == PV_RETX_SYN)
            r->backoff++;
        rec->backoff = r->backoff;
    } else {
        if (r->nsent < (int)(sizeof r->sent / sizeof r->sent[0])) {
            r->sent[r->nsent].end = end;
            r->sent[r->nsent].t_us = rec->live_us;
            r->sent[r->nsent].retx = 0;
            r->nsent++;
        }
        r->snd_max = end;
        r->have_snd = 1;
    }
    r->last_tx_us = rec->live_us;
}

static int do_inbound(struct pv_run *r, int ev)
{
    const struct pv_event *e = &r->s->ev[ev];
    const struct pv_seg *g = &e->seg;
    struct pv_rec *rec = &r->rec[ev];
    char errbuf[NL_ERRBUF_SIZE];
    int syn_only = (g->flags & PV_SYN) && !(g->flags & PV_ACK);
    if (!r->have_ports || (syn_only && r->have_lisn)) {
        /* a new connection to the listener: a new remote port (packetdrill's rule) */
        r->rport = r->next_rport++;
        r->lport = r->bound_port ? r->bound_port : 8080;
        r->have_ports = 1;
        if (syn_only) {
            r->have_lisn = 0;
            r->have_snd = 0;
            r->nsent = 0;
            r->last_in_ack_valid = 0;
            r->dupacks = 0;
        }
    }
    /* Before any '>' SYN or SYN-ACK the kernel's initial sequence number is unknown: numbers are
     * then taken as they are (packetdrill's rule, local ISN 0), e.g. a stray ACK to a closed port. */
    int syn = (g->flags & PV_SYN) != 0;
    if (syn)
        r->remote_isn = g->seq;
    uint32_t ack = g->ack + local_offset(r, syn), seq = g->seq + remote_offset(r, syn);
    uint32_t ecr = 0, *ecrp = NULL;
    for (int i = 0; i < g->nopts; i++)
        if (g->opts[i].kind == 8) {
            ecr = r->have_ts ? g->opts[i].b - r->ts_script0 + r->ts_live0 : g->opts[i].b;
            ecrp = &ecr;
        }
    /* SACK blocks name the kernel's sequence numbers: to live numbers */
    struct pv_seg live = *g;
    for (int i = 0; i < live.nopts; i++)
        if (live.opts[i].kind == 5)
            for (int k = 0; k < live.opts[i].nsack; k++) {
                live.opts[i].sack[k][0] += local_offset(r, syn);
                live.opts[i].sack[k][1] += local_offset(r, syn);
            }
    static uint8_t pkt[65600];
    int n = r->s->ipv6 ? pv_seg_build6(&live, r->rip6, r->lip6, r->rport, r->lport, seq, ack, ecrp, pkt, sizeof pkt)
                       : pv_seg_build(&live, r->rip, r->lip, r->rport, r->lport, seq, ack, ecrp, pkt, sizeof pkt);
    if (n < 0)
        return fail(r, ev, PV_F_SETUP, "length", "the segment does not fit in one IP packet");
    sleep_until_us(r, rec->want_us);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    rec->live_us = pv_now_us(r);
    if (pv_net_inject(r, pkt, (size_t)n, errbuf) < 0)
        return fail(r, ev, PV_F_SETUP, "inject", "%s", errbuf);
    pv_record_packet(r, '<', ev, (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec, pkt, (size_t)n);
    note_inbound(r, ev, g);
    return 0;
}

static int opt_matches(const struct pv_run *r, const struct pv_opt *want, const struct pv_opt *got, int64_t tol_us)
{
    if (want->kind != got->kind)
        return 0;
    switch (want->kind) {
    case 2: case 3: return want->a == got->a && want->len == got->len;
    case 5:
        if (want->nsack != got->nsack)
            return 0;
        for (int k = 0; k < want->nsack; k++)
            if (want->sack[k][0] != got->sack[k][0] || want->sack[k][1] != got->sack[k][1])
                return 0;
        return 1;
    case 8: {
        if (want->b != got->b)
            return 0;
        /* packetdrill checks an outbound TS val only when the script gives the kernel's tick
         * (--tcp_ts_tick_usecs=1000): then within the tolerance, counted in ticks */
        if (!r->have_ts || r->s->ts_tick_us <= 0)
            return 1;
        int32_t d = (int32_t)(got->a - want->a);   /* got already in script numbers */
        return (int64_t)(d < 0 ? -d : d) * r->s->ts_tick_us <= tol_us;
    }
    default: return want->len == got->len;
    }
}

/* The next packet the kernel sent: the one put back first, else from tun0. */
static int next_packet(struct pv_run *r, int64_t deadline_us, struct pv_pkt *p, char *errbuf)
{
    if (r->qlen > 0) {
        *p = r->queue[0];
        r->qlen = 0;
        return 1;
    }
    return pv_net_next_out(r, deadline_us, p, errbuf);
}

static void push_back(struct pv_run *r, struct pv_pkt *p)
{
    if (r->qlen > 0) {   /* one slot: a second put-back cannot happen, but never leak */
        free(r->queue[0].data);
        r->qlen = 0;
    }
    if (!r->queue) {
        r->queue = calloc(1, sizeof *r->queue);
        if (!r->queue) {
            free(p->data);
            return;
        }
        r->qcap = 1;
    }
    r->queue[0] = *p;
    r->qlen = 1;
}

static int do_outbound(struct pv_run *r, int ev)
{
    const struct pv_event *e = &r->s->ev[ev];
    const struct pv_seg *g = &e->seg;
    struct pv_rec *rec = &r->rec[ev];
    char errbuf[NL_ERRBUF_SIZE];
    int64_t deadline = e->tkind == PV_T_ANY ? pv_now_us(r) + 10000000 : rec->want_end_us + rec->tol_us + 2000000;
    struct pv_pkt p;
    struct pv_wire w;
    for (;;) {
        int got = next_packet(r, deadline, &p, errbuf);
        if (got < 0)
            return fail(r, ev, PV_F_SETUP, "capture", "%s", errbuf);
        if (got == 0 || nl_stop_requests()) {
            if (nl_stop_requests())
                return fail(r, ev, PV_F_STOPPED, "", "stopped on request");
            return fail(r, ev, PV_F_TIMEOUT, "segment",
                        "the kernel sent nothing by %.3f s; the script expects this segment %s%.6f s",
                        pv_now_us(r) / 1e6, e->tkind == PV_T_ANY ? "at any time, from " : "at ", rec->want_us / 1e6);
        }
        int rc = pv_seg_decode(p.data, p.caplen, &w);
        if (rc < 0 || (r->have_ports && !(g->flags & PV_SYN && !(g->flags & PV_ACK)) &&
                       (w.sport != r->lport || w.dport != r->rport))) {
            pv_record_packet(r, '>', -1, p.t_ns, p.data, p.caplen);   /* not the connection under test */
            free(p.data);
            continue;
        }
        break;
    }
    /* A TSO/GSO burst may leave as several segments where the script names one: packetdrill joins
     * them while each continues the previous one (same ports, ack and window, flags but PSH, FIN and
     * CWR alike, the next sequence number, every piece but the last as long as the first) into one
     * with the first's sequence number and CWR and the last's other fields and time. */
    int64_t t_ns = p.t_ns;
    pv_record_packet(r, '>', ev, p.t_ns, p.data, p.caplen);
    free(p.data);
    uint32_t first_seq = w.seq, total = w.len, piece = w.len;
    uint8_t cwr = w.flags & PV_CWR;
    const uint8_t loose = PV_PSH | PV_FIN | PV_CWR;
    while (total > 0 && total < g->len && !(w.flags & (PV_SYN | PV_FIN | PV_RST))) {
        struct pv_pkt q;
        struct pv_wire x;
        int got = next_packet(r, rec->want_end_us + rec->tol_us + 200000, &q, errbuf);
        if (got <= 0)
            break;
        if (pv_seg_decode(q.data, q.caplen, &x) < 0 || x.sport != w.sport || x.dport != w.dport ||
            x.seq != first_seq + total || x.len == 0 || x.ack != w.ack || x.win != w.win ||
            (x.flags & ~loose) != (w.flags & ~loose) || total + x.len > g->len ||
            (total + x.len < g->len && x.len != piece)) {
            push_back(r, &q);
            break;
        }
        pv_record_packet(r, '>', ev, q.t_ns, q.data, q.caplen);
        free(q.data);
        total += x.len;
        w = x;
        t_ns = q.t_ns;
    }
    w.seq = first_seq;
    w.len = total;
    w.flags = (uint8_t)((w.flags & ~PV_CWR) | cwr);
    rec->live_us = (t_ns - r->rt_off_ns - r->t0_ns) / 1000;
    /* learn the connection from the kernel's SYN (active open) or SYN-ACK (passive) */
    if (w.flags & PV_SYN) {
        if (!(w.flags & PV_ACK)) {
            r->lport = w.sport;
            r->rport = w.dport;
            r->have_ports = 1;
        }
        r->lisn_live = w.seq;
        r->lisn_script = g->seq;
        r->have_lisn = 1;
    }
    /* to script numbers */
    int syn = (w.flags & PV_SYN) != 0;
    uint32_t seq = w.seq - local_offset(r, syn);
    rec->actual = w;
    rec->actual.seq = seq;
    rec->actual.ack = w.ack - remote_offset(r, syn);
    for (int i = 0; i < w.nopts; i++) {
        struct pv_opt *o = &rec->actual.opts[i];
        if (o->kind == 5)
            for (int k = 0; k < o->nsack; k++) {
                o->sack[k][0] -= remote_offset(r, syn);
                o->sack[k][1] -= remote_offset(r, syn);
            }
        if (o->kind == 8) {
            if (!r->have_ts) {
                for (int k = 0; k < g->nopts; k++)
                    if (g->opts[k].kind == 8) {
                        r->have_ts = 1;
                        r->ts_script0 = g->opts[k].a;
                        r->ts_live0 = o->a;
                    }
            }
            if (r->have_ts)
                o->a = o->a - r->ts_live0 + r->ts_script0;
        }
    }
    rec->has_actual = 1;
    /* field by field, as packetdrill: flags, seq, ack, length, window, urgent pointer, options */
    unsigned d = 0;
    if (w.flags != g->flags)
        d |= PV_D_FLAGS;
    if (seq != g->seq)
        d |= PV_D_SEQ;
    if ((g->flags & PV_ACK) && rec->actual.ack != g->ack)
        d |= PV_D_ACK;
    if (w.len != g->len)
        d |= PV_D_LEN;
    if (g->win >= 0 && w.win != g->win)
        d |= PV_D_WIN;
    if (g->urg >= 0 && w.urg != g->urg)
        d |= PV_D_URG;
    int ecn = w.tos & 3;
    if ((g->ecn >= 0 && g->ecn <= 3 && ecn != g->ecn) || (g->ecn == 4 && ecn != 1 && ecn != 2) ||
        (g->tos >= 0 && w.tos != g->tos))
        d |= PV_D_TOS;
    rec->diff_opt = -1;
    /* TS val: packetdrill's tolerance grows with the time since the script's start, not the last line */
    int64_t ts_tol = rec->tol_us;
    if (!(r->o && r->o->tolerance_ms > 0) && (int64_t)(r->tol_pct / 100.0 * (double)rec->live_us) > ts_tol)
        ts_tol = (int64_t)(r->tol_pct / 100.0 * (double)rec->live_us);
    if (!g->opts_any) {
        int n = g->nopts > w.nopts ? g->nopts : w.nopts;
        for (int i = 0; i < n; i++)
            if (i >= g->nopts || i >= w.nopts || !opt_matches(r, &g->opts[i], &rec->actual.opts[i], ts_tol)) {
                d |= PV_D_OPTS;
                rec->diff_opt = i;
                break;
            }
    }
    rec->diff = d;
    note_outbound(r, ev, &w, seq);
    if (d) {
        static const char *const names[] = {"flags", "seq", "ack", "length", "win", "urg", "options", "tos/ecn"};
        const char *first = "";
        for (int b = 0; b < 8; b++)
            if (d & (1u << b)) {
                first = names[b];
                break;
            }
        char fname[48];
        if (d == PV_D_OPTS || (strcmp(first, "options") == 0)) {
            static const char *const kinds[] = {"eol", "nop", "mss", "wscale", "sackOK", "sack", "?", "?", "TS"};
            int k = rec->diff_opt;
            const struct pv_opt *o = k < g->nopts ? &g->opts[k] : &rec->actual.opts[k];
            snprintf(fname, sizeof fname, "option %d (%s)", k + 1, o->kind < 9 ? kinds[o->kind] : "?");
            first = fname;
        }
        return fail(r, ev, PV_F_FIELD, first, "the kernel's segment differs from the expected one");
    }
    if (e->tkind != PV_T_ANY) {
        /* what this runner did late (a busy machine), the kernel answers late: not the kernel's fault */
        int64_t slack = r->late_us > 0 ? r->late_us : 0;
        if (rec->live_us < rec->want_us - rec->tol_us || rec->live_us > rec->want_end_us + rec->tol_us + slack)
            return fail(r, ev, PV_F_TIME, "time",
                        "the segment came at %.6f s; the script allows %.6f s to %.6f s (tolerance %.3f ms%s)",
                        rec->live_us / 1e6, (rec->want_us - rec->tol_us) / 1e6,
                        (rec->want_end_us + rec->tol_us + slack) / 1e6, rec->tol_us / 1e3,
                        slack > 0 ? ", and this runner's own lateness on the line before" : "");
    }
    return 0;
}

static int is_inbound(const struct pv_event *e) { return e->kind == PV_EV_PACKET && e->seg.dir == '<'; }

int pv_run_events(struct pv_run *r, char *errbuf);
int pv_run_events(struct pv_run *r, char *errbuf)
{
    struct timespec rt;
    r->last_ev = -1;
    r->cur_live_fd = -1;
    r->next_rport = (uint16_t)(40000 + (getpid() % 20000));
    r->fail.ev = -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->sc_ev = 0;
    if (pthread_create(&r->th, NULL, worker, r) != 0)
        return nl_err_sys(errbuf, errno, "starting the syscall thread");
    r->th_started = 1;
    r->jitter_us = measure_jitter_us();
    if (r->o && r->o->tolerance_ms > 0) {
        r->tol_us = (int64_t)(r->o->tolerance_ms * 1000);
    } else {
        int64_t auto_us = 2000 + 4 * r->jitter_us;
        if (auto_us < 4000)
            auto_us = 4000;   /* packetdrill's default */
        if (auto_us > 50000)
            auto_us = 50000;
        r->tol_us = r->s->tolerance_us > auto_us ? r->s->tolerance_us : auto_us;
    }
    r->tol_pct = 12.5;
    if (r->s->init_command && run_shell(r, -1, r->s->init_command) < 0)
        return 0;
    r->t0_ns = pv_mono_ns();
    clock_gettime(CLOCK_REALTIME, &rt);
    r->rt_off_ns = ((int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec) - pv_mono_ns();
    int pending = -1;   /* a start...end syscall in flight */
    for (int i = 0; i < r->s->nev && !r->failed; i++) {
        const struct pv_event *e = &r->s->ev[i];
        struct pv_rec *rec = &r->rec[i];
        if (nl_stop_requests()) {
            fail(r, i, PV_F_STOPPED, "", "stopped on request");
            break;
        }
        /* script time to live time (packetdrill: relative times start from now, except that an
         * injected segment after an injected segment is anchored on the previous one's script time) */
        int64_t offset = 0;
        if (e->tkind == PV_T_REL || e->tkind == PV_T_REL_RANGE || e->tkind == PV_T_ANY) {
            if (r->last_ev >= 0 && is_inbound(&r->s->ev[r->last_ev]) && is_inbound(e))
                offset = r->last_script_us;
            else
                offset = pv_now_us(r);
        }
        rec->want_us = offset + (e->tkind == PV_T_ANY ? 0 : e->t_us);
        rec->want_end_us = (e->tkind == PV_T_ABS_RANGE || e->tkind == PV_T_REL_RANGE) ? offset + e->t_end_us : rec->want_us;
        if (e->kind == PV_EV_SYSCALL && e->sc.blocking)
            rec->want_end_us = (e->tkind == PV_T_REL ? offset : 0) + e->sc.end_us;
        int64_t tol = r->tol_us;
        if (r->last_ev >= 0 && !(r->o && r->o->tolerance_ms > 0)) {
            int64_t dyn = (int64_t)(r->tol_pct / 100.0 * (double)(rec->want_us - r->last_script_us));
            if (dyn > tol)
                tol = dyn;
        }
        rec->tol_us = tol;
        rec->reached = 1;
        rec->rtt_ms = -1;
        switch (e->kind) {
        case PV_EV_PACKET:
            if (e->seg.dir == '<')
                do_inbound(r, i);
            else
                do_outbound(r, i);
            break;
        case PV_EV_SYSCALL:
            if (settle_blocking(r, &pending) < 0)
                break;
            sleep_until_us(r, rec->want_us);
            rec->live_us = pv_now_us(r);
            start_call(r, i);
            if (e->sc.blocking) {
                pending = i;
                /* let it reach the kernel and block there (or return at once): packetdrill's rule */
                int64_t until = pv_now_us(r) + 5000;
                while (pv_now_us(r) < until && !wait_call(r, pv_now_us(r) + 50) && !worker_blocked())
                    ;
                break;
            }
            if (!wait_call(r, pv_now_us(r) + 1000000 + tol)) {
                fail(r, i, PV_F_BLOCKED, "blocked",
                     "%s() blocked and had not returned after 1 s; a call that waits for the network needs a "
                     "start...end time (0.100...0.200 %s(...)) or a nonblocking socket", e->sc.name, e->sc.name);
                break;
            }
            finish_call(r, i);
            break;
        case PV_EV_SHELL:
            sleep_until_us(r, rec->want_us);
            rec->live_us = pv_now_us(r);
            run_shell(r, i, e->text);
            break;
        case PV_EV_CODE:
            sleep_until_us(r, rec->want_us);
            rec->live_us = pv_now_us(r);
            pv_tcpinfo_sample(r->cur_live_fd, &rec->ti);   /* its moment's values; run at the end */
            break;
        }
        if (e->kind == PV_EV_SYSCALL && pending == i && r->sc_done) {
            /* returned within its first moments */
        }
        rec->ok = !r->failed;
        if (!(e->kind == PV_EV_PACKET && e->seg.dir == '>'))
            r->late_us = rec->live_us - rec->want_us;
        pv_tcpinfo_sample(r->cur_live_fd, &rec->ti);
        /* A resend "on timeout" that left the sender out of Loss state with its window was a tail loss
         * probe (RFC 8985 7), sent at 2*SRTT, not the RTO: it neither backs off nor shrinks cwnd. */
        if (rec->retx == PV_RETX_TIMEOUT && rec->ti.valid && pv_tcpinfo_get(&rec->ti, "tcpi_ca_state") != 4 &&
            pv_tcpinfo_get(&rec->ti, "tcpi_backoff") == 0) {
            rec->retx = PV_RETX_TLP;
            if (r->backoff > 0)
                r->backoff--;
            rec->backoff = r->backoff;
        }
        if (rec->live_end_us == 0)
            rec->live_end_us = rec->live_us;
        r->last_script_us = rec->want_us;
        r->last_ev = i;
        reap_orphans();
    }
    if (!r->failed)
        settle_blocking(r, &pending);
    if (!r->failed)
        run_code_blocks(r);
    else if (pending >= 0)
        r->rec[pending].ok = 0;
    if (r->failed && r->fail.ev >= 0) {
        r->rec[r->fail.ev].ok = 0;
        pv_tcpinfo_sample(r->cur_live_fd, &r->rec[r->fail.ev].ti);
    }
    r->end_us = pv_now_us(r);
    if (r->s->cleanup_command) {   /* packetdrill's cleanup line: always run, its status not judged */
        const char *argv[] = {"/bin/sh", "-c", r->s->cleanup_command, NULL};
        char out[256];
        int st;
        run_prog(r, argv, 30.0, out, sizeof out, &st);
    }
    return 0;
}
