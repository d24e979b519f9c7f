/*
 * nl_proc.c - fork/exec helpers for the lab: namespaces entered with setns()
 * in the child before exec, output to a pipe or a log file, stops by process
 * group, a child's input fed with a deadline. The child only makes
 * async-signal-safe calls between fork and exec. Every wait here has a deadline
 * and, but for clean-up, ends at a stop request (nl_signal.h).
 */
#include "netlab/nl_proc.h"
#include "netlab/nl_signal.h"
#include "nl_internal.h"
#include "nl_proc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int decode_status(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

/* Resolve argv[0] through PATH in the parent (no allocation in the child). */
static int resolve(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        snprintf(out, cap, "%.*s/%s", (int)n, path, name);
        if (n && access(out, X_OK) == 0)
            return 0;
        path += n + (end ? 1 : 0);
    }
    return -1;
}

/* fork + exec with stdout/stderr to out_fd and stdin from in_fd (-1: /dev/null). */
static int start(const char *const argv[], const char *netns, int out_fd, int in_fd, pid_t *pid, char *errbuf)
{
    char exe[4096];
    if (!argv || !argv[0])
        return nl_err(errbuf, NL_EINVAL, "run: no program given");
    if (resolve(argv[0], exe, sizeof exe) < 0)
        return nl_err(errbuf, NL_ENOTFOUND, "'%s' is not installed or not executable (scripts/install-deps.sh installs the tools)", argv[0]);
    int nsfd = -1;
    if (netns) {
        char p[256];
        snprintf(p, sizeof p, "/run/netns/%s", netns);
        nsfd = open(p, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
            return nl_err_sys(errbuf, errno, "network namespace '%s'", netns);
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    /* A pipe that closes on exec tells the parent whether exec failed, and why. */
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        int e = errno;
        if (nsfd >= 0)
            close(nsfd);
        if (devnull >= 0)
            close(devnull);
        return nl_err_sys(errbuf, e, "run %s: pipe", argv[0]);
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(errpipe[0]);
        close(errpipe[1]);
        if (nsfd >= 0)
            close(nsfd);
        if (devnull >= 0)
            close(devnull);
        return nl_err_sys(errbuf, e, "run %s: fork", argv[0]);
    }
    if (child == 0) {
        int e = 0;
        setpgid(0, 0);
        /* If the lab dies (even by SIGKILL), its programs get SIGTERM instead of running on. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
            e = errno;
        if (!e && (in_fd >= 0 || devnull >= 0))
            dup2(in_fd >= 0 ? in_fd : devnull, STDIN_FILENO);
        if (!e && out_fd >= 0) {
            dup2(out_fd, STDOUT_FILENO);
            dup2(out_fd, STDERR_FILENO);
        }
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (!e) {
            execv(exe, (char *const *)(uintptr_t)argv);
            e = errno;
        }
        ssize_t w = write(errpipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(errpipe[1]);
    if (nsfd >= 0)
        close(nsfd);
    if (devnull >= 0)
        close(devnull);
    setpgid(child, child); /* also from the parent: no race with an early kill */
    int e = 0;
    ssize_t r;
    do
        r = read(errpipe[0], &e, sizeof e);
    while (r < 0 && errno == EINTR);
    close(errpipe[0]);
    if (r == (ssize_t)sizeof e) {
        waitpid(child, NULL, 0);
        return nl_err_sys(errbuf, e, "run %s%s%s", argv[0], netns ? " in namespace " : "", netns ? netns : "");
    }
    *pid = child;
    return 0;
}

static int proc_wait(pid_t pid, double timeout_s, int honour_stop, int *status, char *errbuf);

static int proc_run(const char *const argv[], const char *netns, double timeout_s, int honour_stop, char *out,
                    size_t outcap, int *status, char *errbuf)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return nl_err_sys(errbuf, errno, "run: pipe");
    pid_t pid;
    int rc = start(argv, netns, pfd[1], -1, &pid, errbuf);
    close(pfd[1]);
    if (rc < 0) {
        close(pfd[0]);
        return rc;
    }
    size_t n = 0;
    double deadline = timeout_s > 0 ? now_s() + timeout_s : 0;
    int timed_out = 0;
    for (;;) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        int ms = 200;
        if (deadline) {
            double left = deadline - now_s();
            if (left <= 0) {
                timed_out = 1;
                break;
            }
            ms = left < 0.2 ? (int)(left * 1000) + 1 : 200;
        }
        int pr = poll(&p, 1, ms);
        if (honour_stop && *nl_stop_flag())
            break; /* the wait below stops the program */
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        char buf[4096];
        ssize_t r = read(pfd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (out && outcap > 1 && n < outcap - 1) {
            size_t take = NL_MIN((size_t)r, outcap - 1 - n);
            memcpy(out + n, buf, take);
            n += take;
        }
    }
    close(pfd[0]);
    if (out && outcap)
        out[n] = 0;
    int st = 0;
    /* The output may end before the program does: keep honouring the deadline and a stop request. */
    while (!timed_out) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            if (status)
                *status = decode_status(st);
            return 0;
        }
        if (w < 0 && errno != EINTR)
            return nl_err_sys(errbuf, errno, "waiting for %s", argv[0]);
        if (honour_stop && *nl_stop_flag()) {
            nl_proc_stop(pid, 1.0, &st, NULL);
            return nl_err(errbuf, NL_EINTR, "%s was stopped: interrupted", argv[0]);
        }
        if (deadline && now_s() >= deadline)
            timed_out = 1;
        else {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    nl_proc_stop(pid, 1.0, &st, NULL);
    return nl_err(errbuf, NL_ELIMIT, "%s did not finish within %.0f s and was stopped", argv[0], timeout_s);
}

int nl_proc_run(const char *const argv[], const char *netns, double timeout_s, char *out, size_t outcap, int *status,
                char *errbuf)
{
    return proc_run(argv, netns, timeout_s, 1, out, outcap, status, errbuf);
}

int nl_proc_run_to_end(const char *const argv[], const char *netns, double timeout_s, char *out, size_t outcap,
                       int *status, char *errbuf)
{
    return proc_run(argv, netns, timeout_s, 0, out, outcap, status, errbuf);
}

int nl_proc_spawn(const char *const argv[], const char *netns, const char *log_path, pid_t *pid, char *errbuf)
{
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return nl_err_sys(errbuf, errno, "log file %s", log_path ? log_path : "/dev/null");
    int rc = start(argv, netns, fd, -1, pid, errbuf);
    close(fd);
    return rc;
}

int nl_proc_spawn_input(const char *const argv[], const char *netns, const char *log_path, pid_t *pid, int *stdin_fd,
                        char *errbuf)
{
    int in[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return nl_err_sys(errbuf, errno, "run %s: pipe", argv && argv[0] ? argv[0] : "?");
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return nl_err_sys(errbuf, e, "log file %s", log_path ? log_path : "/dev/null");
    }
    int rc = start(argv, netns, fd, in[0], pid, errbuf);
    close(fd);
    close(in[0]);
    if (rc < 0) {
        close(in[1]);
        return rc;
    }
    *stdin_fd = in[1];
    return 0;
}

static int proc_wait(pid_t pid, double timeout_s, int honour_stop, int *status, char *errbuf)
{
    double deadline = now_s() + timeout_s;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (status)
                *status = decode_status(st);
            return 0;
        }
        if (r < 0 && errno != EINTR)
            return nl_err_sys(errbuf, errno, "waiting for process %d", (int)pid);
        if (honour_stop && *nl_stop_flag())
            return nl_err(errbuf, NL_EINTR, "waiting for process %d: interrupted", (int)pid);
        if (now_s() >= deadline)
            return nl_err(errbuf, NL_ELIMIT, "process %d still running after %.1f s", (int)pid, timeout_s);
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

int nl_proc_wait(pid_t pid, double timeout_s, int *status, char *errbuf)
{
    return proc_wait(pid, timeout_s, 1, status, errbuf);
}

int nl_proc_feed(int fd, const void *buf, size_t len, double timeout_s, size_t *written, char *errbuf)
{
    const uint8_t *p = buf;
    size_t done = 0;
    if (written)
        *written = 0;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
        return nl_err_sys(errbuf, errno, "feeding a program: descriptor %d", fd);
    double deadline = now_s() + timeout_s;
    int rc = 0;
    while (done < len) {
        if (*nl_stop_flag()) {
            rc = nl_err(errbuf, NL_EINTR, "feeding a program: interrupted after %zu of %zu bytes", done, len);
            break;
        }
        double left = deadline - now_s();
        if (left <= 0) {
            rc = nl_err(errbuf, NL_ELIMIT, "feeding a program: %zu of %zu bytes taken within %.0f s", done, len,
                        timeout_s);
            break;
        }
        ssize_t w = write(fd, p + done, len - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            rc = nl_err_sys(errbuf, errno, "feeding a program: after %zu of %zu bytes", done, len);
            break;
        }
        /* Full pipe: wait for room, at most 200 ms at a time (a signal also ends the wait: no SA_RESTART). */
        struct pollfd pf = {fd, POLLOUT, 0};
        int ms = left < 0.2 ? (int)(left * 1000) + 1 : 200;
        if (poll(&pf, 1, ms) < 0 && errno != EINTR) {
            rc = nl_err_sys(errbuf, errno, "feeding a program: poll");
            break;
        }
        if (pf.revents & (POLLERR | POLLHUP)) {
            rc = nl_err(errbuf, NL_ESYS, "feeding a program: it closed its input after %zu of %zu bytes", done, len);
            break;
        }
    }
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl);
    if (written)
        *written = done;
    return rc;
}

int nl_proc_stop(pid_t pid, double grace_s, int *status, char *errbuf)
{
    if (pid <= 0)
        return nl_err(errbuf, NL_EINVAL, "stop: no process");
    if (kill(-pid, SIGTERM) < 0 && kill(pid, SIGTERM) < 0 && errno == ESRCH) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid && status)
            *status = decode_status(st);
        return 0;
    }
    /* A stop is itself clean-up: its waits do not end at a stop request. The whole group gets the
     * grace: a child that ignores SIGTERM is killed even when the leader went at once (a hung
     * Chromium renderer under a Chromium that exited). */
    double deadline = now_s() + grace_s;
    if (proc_wait(pid, grace_s, 0, status, NULL) == 0) {
        while (kill(-pid, 0) == 0 && now_s() < deadline) {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
        kill(-pid, SIGKILL); /* the group id stays in use (not reused) while a member lives */
        return 0;
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    return proc_wait(pid, 5.0, 0, status, errbuf);
}

int nl_proc_alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }
