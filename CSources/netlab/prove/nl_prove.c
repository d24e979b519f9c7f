/*
 * nl_prove.c - the public face of netlab prove: privileges, the list of scripts a path names, and
 * one run in a process of its own inside fresh network and PID namespaces. The run's first process
 * dies with its parent (PR_SET_PDEATHSIG), and with it the namespaces, tun0, its qdisc and every
 * process a shell line started: nothing outlives a run, even a SIGKILL of the caller. The verdict
 * comes back through shared memory. Decides nothing about segments or time (nl_prove_run.c does).
 */
#include "netlab/nl_prove.h"
#include "netlab/nl_signal.h"
#include "nl_prove_int.h"
#include "nl_internal.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int pv_run_events(struct pv_run *r, char *errbuf);

#define TEXT_CAP (2u << 20)
#define JSON_CAP (8u << 20)
struct shared {
    int done, failed, fail_line, setup_failed;
    double seconds;
    char errbuf[NL_ERRBUF_SIZE];
    size_t text_len, json_len;
    char text[TEXT_CAP];
    char json[JSON_CAP];
};

struct nl_prove_result {
    int passed, line;
    double seconds;
    char *text, *json;
};

int nl_prove_privileged(char *errbuf)
{
    FILE *f = fopen("/proc/self/status", "r");
    unsigned long long eff = 0;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "CapEff:", 7) == 0)
                eff = strtoull(line + 7, NULL, 16);
        fclose(f);
    }
    const char *missing[3];
    int n = 0;
    if (!(eff & (1ull << 12)))
        missing[n++] = "CAP_NET_ADMIN (tun0, its address and route)";
    if (!(eff & (1ull << 13)))
        missing[n++] = "CAP_NET_RAW (seeing the kernel's segments on tun0)";
    if (!(eff & (1ull << 21)))
        missing[n++] = "CAP_SYS_ADMIN (the experiment's own network and PID namespaces)";
    if (n == 0)
        return 0;
    return nl_err(errbuf, NL_EPERM, "netlab prove needs %s%s%s%s%s: run it as root (sudo netlab prove ...)", missing[0],
                  n > 1 ? ", " : "", n > 1 ? missing[1] : "", n > 2 ? ", " : "", n > 2 ? missing[2] : "");
}

int nl_prove_check_syntax(const char *path, char *errbuf) { return nl_prove_check_syntax_defs(path, NULL, errbuf); }

int nl_prove_check_syntax_defs(const char *path, const char *defines, char *errbuf)
{
    struct pv_script s;
    int rc = pv_parse_defs(&s, path, defines, errbuf);
    pv_script_free(&s);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int nl_prove_list(const char *path, char ***paths, size_t *count, char *errbuf)
{
    *paths = NULL;
    *count = 0;
    struct stat st;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? nl_err(errbuf, NL_ENOTFOUND, "%s: no such script or folder", path)
                               : nl_err_sys(errbuf, errno, "%s", path);
    if (!S_ISDIR(st.st_mode)) {
        char **v = malloc(sizeof *v);
        if (!v || !(v[0] = strdup(path))) {
            free(v);
            return nl_err(errbuf, NL_ENOMEM, "out of memory");
        }
        *paths = v;
        *count = 1;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return nl_err_sys(errbuf, errno, "%s: reading the folder", path);
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".pkt") != 0)
            continue;
        if (NL_GROW(v, n, cap, 16) < 0)
            break;
        size_t need = strlen(path) + l + 2;
        if (!(v[n] = malloc(need)))
            break;
        snprintf(v[n], need, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
        n++;
    }
    closedir(d);
    if (n == 0) {
        free(v);
        return nl_err(errbuf, NL_ENOTFOUND, "%s: no .pkt scripts in this folder", path);
    }
    qsort(v, n, sizeof *v, cmp_str);
    *paths = v;
    *count = n;
    return 0;
}

void nl_prove_list_free(char **paths, size_t count)
{
    for (size_t i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
}

/* The namespace's first process: run, then hand the verdict back. */
static void experiment(struct pv_script *s, const struct nl_prove_opts *o, struct shared *sh)
{
    struct pv_run r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.o = o;
    r.rec = calloc((size_t)s->nev, sizeof *r.rec);
    char errbuf[NL_ERRBUF_SIZE] = "";
    if (!r.rec || pv_net_setup(&r, errbuf) < 0 || pv_run_events(&r, errbuf) < 0) {
        snprintf(sh->errbuf, sizeof sh->errbuf, "%s", r.rec ? errbuf : "out of memory");
        sh->setup_failed = 1;
        __atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
        return;
    }
    char pcap[1200], csv[1200];
    char rerr[NL_ERRBUF_SIZE] = "";
    if (pv_record_write(&r, pcap, sizeof pcap, csv, sizeof csv, rerr) < 0)
        snprintf(sh->errbuf, sizeof sh->errbuf, "recording: %.480s", rerr);
    if (pcap[0] && o && o->out_dir) {   /* the page beside the capture: NAME.html */
        char html[1200];
        snprintf(html, sizeof html, "%.*s.html", (int)(strlen(pcap) - strlen(".pcapng")), pcap);
        if (pv_html_write(&r, html, pcap, csv, rerr) < 0)
            snprintf(sh->errbuf, sizeof sh->errbuf, "drawing: %.480s", rerr);
    }
    struct pv_out t = {0}, j = {0};
    pv_verdict_text(&r, pcap, csv, &t);
    pv_verdict_json(&r, pcap, csv, &j);
    sh->text_len = t.p ? (t.len < TEXT_CAP ? t.len : TEXT_CAP - 1) : 0;
    if (t.p)
        memcpy(sh->text, t.p, sh->text_len);
    sh->json_len = j.p ? (j.len < JSON_CAP ? j.len : JSON_CAP - 1) : 0;
    if (j.p)
        memcpy(sh->json, j.p, sh->json_len);
    sh->failed = r.failed;
    sh->fail_line = r.failed && r.fail.ev >= 0 ? s->ev[r.fail.ev].line : 0;
    sh->seconds = r.end_us / 1e6;
    __atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
    /* tun0 and the namespaces go with this process's exit (which waits for the kernel's teardown,
     * tens of ms); the caller already has the verdict and need not wait for it. */
}

/* Runs whose verdict came back but whose process was still tearing its namespace down: reaped
 * later, so a run's teardown overlaps the next script instead of adding to it. */
static pid_t tearing[64];
static int ntearing;

static void reap_teardowns(int block_if_full)
{
    for (int i = 0; i < ntearing;) {
        if (waitpid(tearing[i], NULL, WNOHANG) != 0) {
            tearing[i] = tearing[--ntearing];
            continue;
        }
        i++;
    }
    if (block_if_full && ntearing == (int)(sizeof tearing / sizeof tearing[0])) {
        waitpid(tearing[0], NULL, 0);
        tearing[0] = tearing[--ntearing];
    }
}

int nl_prove_run(const char *path, const struct nl_prove_opts *opts, struct nl_prove_result **out, char *errbuf)
{
    *out = NULL;
    struct pv_script s;
    reap_teardowns(1);
    int rc = pv_parse_defs(&s, path, opts ? opts->defines : NULL, errbuf);
    if (rc < 0) {
        pv_script_free(&s);
        return rc;
    }
    if (opts && opts->ip_version) {   /* the command line's address mode wins over the script's */
        s.mapped = opts->ip_version == NL_PROVE_IPV4_MAPPED;
        s.ipv6 = opts->ip_version == NL_PROVE_IPV6;
    }
    if ((rc = nl_prove_privileged(errbuf)) < 0) {
        pv_script_free(&s);
        return rc;
    }
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (sh == MAP_FAILED) {
        pv_script_free(&s);
        return nl_err_sys(errbuf, errno, "shared memory for the verdict");
    }
    pid_t parent = getpid();
    pid_t a = fork();
    if (a < 0) {
        int e = errno;
        munmap(sh, sizeof *sh);
        pv_script_free(&s);
        return nl_err_sys(errbuf, e, "starting the experiment's process");
    }
    if (a == 0) {
        /* A: its own process group (a terminal's Ctrl-C reaches the caller, which ends us), dies with
         * the caller, makes the namespaces and their first process B, and waits for it. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(3);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (unshare(CLONE_NEWNET | CLONE_NEWPID) < 0) {
            snprintf(sh->errbuf, sizeof sh->errbuf, "creating the experiment's namespaces: %s", strerror(errno));
            sh->setup_failed = 1;
            __atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
            _exit(4);
        }
        pid_t b = fork();
        if (b < 0)
            _exit(5);
        if (b == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            signal(SIGPIPE, SIG_IGN);
            experiment(&s, opts, sh);
            _exit(0);
        }
        int st;
        while (waitpid(b, &st, 0) < 0 && errno == EINTR)
            ;
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    int st = 0, stopped = 0, exited = 0;
    for (;;) {
        if (__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE))
            break;
        pid_t w = waitpid(a, &st, WNOHANG);
        if (w == a) {
            exited = 1;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (nl_stop_requests() && !stopped) {
            kill(a, SIGKILL);
            stopped = 1;
        }
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    if (!exited && ntearing < (int)(sizeof tearing / sizeof tearing[0]))
        tearing[ntearing++] = a;
    else if (!exited)
        waitpid(a, &st, 0);
    pv_script_free(&s);
    if (!sh->done || sh->setup_failed) {
        if (stopped)
            rc = nl_err(errbuf, NL_EINTR, "%s: stopped on request", path);
        else if (sh->setup_failed)
            rc = nl_err(errbuf, NL_ESYS, "%s: %s", path, sh->errbuf);
        else
            rc = nl_err(errbuf, NL_ESYS, "%s: the experiment's process ended without a verdict (status %d)", path,
                        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        munmap(sh, sizeof *sh);
        return rc;
    }
    struct nl_prove_result *r = calloc(1, sizeof *r);
    if (r) {
        r->text = strndup(sh->text, sh->text_len);
        r->json = strndup(sh->json, sh->json_len);
    }
    if (!r || !r->text || !r->json) {
        nl_prove_result_free(r);
        munmap(sh, sizeof *sh);
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    r->passed = !sh->failed;
    r->line = sh->fail_line;
    r->seconds = sh->seconds;
    munmap(sh, sizeof *sh);
    *out = r;
    return 0;
}

int nl_prove_result_passed(const struct nl_prove_result *r) { return r && r->passed; }
int nl_prove_result_line(const struct nl_prove_result *r) { return r ? r->line : 0; }
const char *nl_prove_result_text(const struct nl_prove_result *r) { return r && r->text ? r->text : ""; }
const char *nl_prove_result_json(const struct nl_prove_result *r) { return r && r->json ? r->json : "{}"; }
double nl_prove_result_seconds(const struct nl_prove_result *r) { return r ? r->seconds : 0; }

void nl_prove_result_free(struct nl_prove_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->json);
    free(r);
}
