/*
 * nl_chatcap.c - chatserver --capture: a live capture of the chat server's own
 * port pumped on the server's loop (descriptor and a 200 ms timer), finished
 * after the connections are closed. Owns only the capture; the chat server
 * sees it as cfg.attach/cfg.detach and nothing more.
 */
#include "netlab/nl_chatcap.h"
#include "netlab/nl_capture.h"
#include "netlab/nl_loop.h"
#include "nl_internal.h"
#include <poll.h>
#include <stdio.h>

struct chatcap {
    const struct nl_chat_config *cfg;  /* for its log */
    const char *path, *interface;
    struct nl_capture *cap;
    struct nl_chat_server *server;
};

static void capture_pump(struct chatcap *c)
{
    int done = 0;
    char err[NL_ERRBUF_SIZE];
    int rc = nl_capture_dispatch(c->cap, &done, err);
    if (rc < 0)
        nl_chat_server_fail(c->server, rc, err);
}

static void on_capture_fd(struct nl_loop *loop, int fd, int revents, void *ud) { capture_pump(ud); }
static void on_capture_tick(struct nl_loop *loop, void *ud) { capture_pump(ud); }

static int capture_attach(struct nl_chat_server *s, void *ud, char *errbuf)
{
    struct chatcap *c = ud;
    struct nl_loop *loop = nl_chat_server_loop(s);
    struct nl_capture_opts o;
    nl_capture_opts_init(&o);
    char filter[64];
    snprintf(filter, sizeof filter, "tcp port %u", nl_chat_server_port(s));
    o.interface = c->interface ? c->interface : "any";
    o.filter = filter;
    o.path = c->path;
    c->server = s;
    int rc = nl_capture_open(&c->cap, &o, errbuf);
    if (rc < 0)
        return rc;
    int fd = nl_capture_fd(c->cap);
    if (fd >= 0)
        rc = nl_loop_add(loop, fd, POLLIN, on_capture_fd, c, errbuf);
    /* Also drain on a timer: a quiet link still gets its packets written within 200 ms. */
    if (rc >= 0) {
        int64_t timer = nl_loop_timer(loop, 200, 200, on_capture_tick, c, errbuf);
        rc = timer < 0 ? (int)timer : 0;
    }
    if (rc < 0) {
        nl_capture_abort(c->cap);
        c->cap = NULL;
        return rc;
    }
    nl_log(c->cfg->log, c->cfg->log_ud, "capturing '%s' on %s to %s (written when the server stops)", filter,
           o.interface, o.path);
    return NL_OK;
}

static int capture_detach(struct nl_chat_server *s, void *ud, int failed, char *errbuf)
{
    struct chatcap *c = ud;
    if (!c->cap)
        return NL_OK;
    struct nl_capture *cap = c->cap;
    c->cap = NULL;
    if (failed) {
        nl_capture_abort(cap);
        return NL_OK;
    }
    struct nl_capture_stats cs;
    int rc = nl_capture_close(cap, &cs, errbuf);
    if (rc >= 0)
        nl_log(c->cfg->log, c->cfg->log_ud, "capture: %llu packets written to %s (%llu dropped by the kernel)",
               (unsigned long long)cs.packets, c->path, (unsigned long long)cs.kernel_dropped);
    return rc;
}

int nl_chatcap_run(const struct nl_chat_config *cfg, const char *path, const char *interface, char *errbuf)
{
    if (!path)
        return nl_chat_server_run(cfg, errbuf);
    if (cfg->attach)
        return nl_err(errbuf, NL_EINVAL, "chat server capture: the configuration already has an attach hook");
    struct chatcap c = {.cfg = cfg, .path = path, .interface = interface};
    struct nl_chat_config withcap = *cfg;
    withcap.attach = capture_attach;
    withcap.detach = capture_detach;
    withcap.attach_ud = &c;
    return nl_chat_server_run(&withcap, errbuf);
}
