/*
 * nl_signal.c - the process-wide stop flag and its SIGINT/SIGTERM handlers,
 * plus SIGPIPE ignored. The handlers only store to sig_atomic_t variables (and,
 * on a request the program does not hold, give the signal its default action).
 */
#include "netlab/nl_signal.h"
#include "nl_internal.h"

#include <errno.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t requests;  /* SIGINT/SIGTERM received since the flag was last reset */
static volatile sig_atomic_t hold;      /* nl_signals_hold: requests that pass before the default action */

static void on_stop(int sig)
{
    if (requests < 1000)
        requests++;
    if (stop_flag && requests > (hold ? NL_SIGNALS_HELD : 1)) {
        /* One request too many: give the signal its default action back. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    if (!stop_flag)
        stop_sig = sig;
    stop_flag = 1;
}

void nl_signals_hold(int on) { hold = on != 0; }

int nl_stop_requests(void) { return requests; }

int nl_signals_install(char *errbuf)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() and friends return EINTR */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return nl_err_sys(errbuf, errno, "sigaction");
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &ign, NULL) != 0)
        return nl_err_sys(errbuf, errno, "sigaction(SIGPIPE)");
    return 0;
}

volatile sig_atomic_t *nl_stop_flag(void) { return &stop_flag; }

int nl_stop_signal(void) { return stop_sig; }

void nl_stop_request(void) { stop_flag = 1; }

void nl_stop_reset(void)
{
    stop_flag = 0;
    stop_sig = 0;
    requests = 0;
}
