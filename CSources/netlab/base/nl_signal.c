/*
 * nl_signal.c - the process-wide stop flag and its SIGINT/SIGTERM handlers,
 * plus SIGPIPE ignored. The handlers only store to sig_atomic_t variables.
 */
#include "netlab/nl_signal.h"
#include "nl_internal.h"

#include <errno.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
    if (stop_flag) {
        /* Second request: give the signal its default action back. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_sig = sig;
    stop_flag = 1;
}

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
}
