/*
 * nl_prove_cmsg.c - the syscalls that carry more than bytes: recvmsg and sendmsg with their
 * msghdr (each iovec its own buffer, msg_flags, control messages: TCP_CM_INQ's int, the error
 * queue's sock_extended_err of MSG_ZEROCOPY and SO_TIMESTAMPING, SCM_TIMESTAMPING's times), and
 * the file calls scripts use around a socket (pipe, open, splice, sendfile). Compares as packetdrill does: msg_flags exactly, control messages in order (level,
 * type, then the data: an int, each ee_ field, or a time within the run's tolerance of the
 * script time). Decides nothing about segments or when a line runs (nl_prove_run.c does).
 */
#include "nl_prove_int.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IOV 1024
#define MAX_IO (16u << 20)
#define CTRL_CAP 4096

/* The iovecs of msg_iov=[{..., N}, ...]: each its own zero-filled buffer, as packetdrill gives one
 * allocation per iovec (MSG_ZEROCOPY counts the fragments). */
static int iovs_of(const struct pv_expr *list, struct iovec **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!list || list->kind != PV_E_LIST)
        return 0;
    if (list->nkids > MAX_IOV)
        return -1;
    struct iovec *v = calloc((size_t)(list->nkids ? list->nkids : 1), sizeof *v);
    if (!v)
        return -1;
    int64_t total = 0;
    for (int i = 0; i < list->nkids; i++) {
        const struct pv_expr *it = list->kids[i];
        const struct pv_expr *l = pv_expr_field(it, "iov_len");
        int64_t len = l ? pv_expr_num(l, 0) : (it->kind == PV_E_STRUCT && it->nkids > 0 ? pv_expr_num(it->kids[it->nkids - 1], 0) : 0);
        total += len;
        if (len < 0 || total > MAX_IO || !(v[i].iov_base = calloc(1, (size_t)(len ? len : 1)))) {
            for (int k = 0; k < i; k++)
                free(v[k].iov_base);
            free(v);
            return -1;
        }
        v[i].iov_len = (size_t)len;
    }
    *out = v;
    *n = list->nkids;
    return 0;
}

static void iovs_free(struct iovec *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].iov_base);
    free(v);
}

/* One expected control message against the one received. */
static void cmsg_check(struct pv_io_ctx *x, int i, const struct pv_expr *want, const struct cmsghdr *got)
{
    int64_t level = pv_expr_num(pv_expr_field(want, "cmsg_level"), -1), type = pv_expr_num(pv_expr_field(want, "cmsg_type"), -1);
    const struct pv_expr *data = pv_expr_field(want, "cmsg_data");
    char fname[48];
    if (got->cmsg_level != level) {
        snprintf(fname, sizeof fname, "cmsg %d level", i + 1);
        pv_io_mismatch(x, fname, "recvmsg: control message %d has level %d, the script expects %lld", i + 1,
                 got->cmsg_level, (long long)level);
        return;
    }
    if (got->cmsg_type != type) {
        snprintf(fname, sizeof fname, "cmsg %d type", i + 1);
        pv_io_mismatch(x, fname, "recvmsg: control message %d has type %d, the script expects %lld", i + 1, got->cmsg_type,
                 (long long)type);
        return;
    }
    if (pv_expr_any(data))
        return;
    size_t dlen = got->cmsg_len - CMSG_LEN(0);
    const unsigned char *d = CMSG_DATA(got);
    if (data->kind == PV_E_STRUCT && pv_expr_field(data, "ee_errno")) {
        struct sock_extended_err ee;
        if (dlen < sizeof ee) {
            snprintf(fname, sizeof fname, "cmsg %d data", i + 1);
            pv_io_mismatch(x, fname, "recvmsg: control message %d holds %zu bytes, not a sock_extended_err", i + 1, dlen);
            return;
        }
        memcpy(&ee, d, sizeof ee);
        static const char *const names[] = {"ee_errno", "ee_origin", "ee_type", "ee_code", "ee_info", "ee_data"};
        const int64_t vals[] = {ee.ee_errno, ee.ee_origin, ee.ee_type, ee.ee_code, ee.ee_info, ee.ee_data};
        for (int k = 0; k < 6; k++) {
            const struct pv_expr *w = pv_expr_field(data, names[k]);
            if (!w || pv_expr_any(w) || pv_expr_num(w, 0) == vals[k])
                continue;
            snprintf(fname, sizeof fname, "%s", names[k]);
            pv_io_mismatch(x, fname, "recvmsg: control message %d's %s is %lld, the script expects %lld", i + 1, names[k],
                     (long long)vals[k], (long long)pv_expr_num(w, 0));
            return;
        }
        return;
    }
    if (data->kind == PV_E_STRUCT && (pv_expr_field(data, "scm_sec") || pv_expr_field(data, "scm_nsec"))) {
        struct timespec ts;
        if (dlen < sizeof ts) {
            snprintf(fname, sizeof fname, "cmsg %d data", i + 1);
            pv_io_mismatch(x, fname, "recvmsg: control message %d holds %zu bytes, not a scm_timestamping", i + 1, dlen);
            return;
        }
        memcpy(&ts, d, sizeof ts);   /* ts[0], the software time */
        int64_t want_script_us = pv_expr_num(pv_expr_field(data, "scm_sec"), 0) * 1000000 + pv_expr_num(pv_expr_field(data, "scm_nsec"), 0) / 1000;
        if (want_script_us == 0)   /* packetdrill: a zero time is not compared */
            return;
        /* the kernel's CLOCK_REALTIME time on the script's clock */
        int64_t got_us = ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - x->r->rt_off_ns - x->r->t0_ns) / 1000;
        int64_t tol = x->r->tol_us;
        if (got_us < want_script_us - tol || got_us > want_script_us + tol)
            pv_io_mismatch(x, "scm_timestamping", "recvmsg: control message %d's time is %.6f s, the script expects "
                     "%.6f s (tolerance %.3f ms)", i + 1, got_us / 1e6, want_script_us / 1e6, tol / 1e3);
        return;
    }
    int64_t w = pv_expr_num(data, 0);
    int v = 0;
    if (dlen >= sizeof v)
        memcpy(&v, d, sizeof v);
    if (dlen < sizeof v || v != w) {
        snprintf(fname, sizeof fname, "cmsg %d data", i + 1);
        pv_io_mismatch(x, fname, "recvmsg: control message %d (level %d type %d) holds %d, the script expects %lld", i + 1,
                 got->cmsg_level, got->cmsg_type, v, (long long)w);
    }
}

int64_t pv_io_recvmsg(struct pv_io_ctx *x)
{
    const struct pv_syscall *sc = x->sc;
    const struct pv_expr *m = pv_arg(sc, 1);
    struct iovec *iov;
    int niov;
    if (iovs_of(pv_expr_field(m, "msg_iov"), &iov, &niov) < 0) {
        errno = ENOMEM;
        return -1;
    }
    const struct pv_expr *ctl = pv_expr_field(m, "msg_control");
    unsigned char *cbuf = NULL;
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)niov;
    if (ctl && !pv_expr_any(ctl)) {
        if (!(cbuf = calloc(1, CTRL_CAP))) {
            iovs_free(iov, niov);
            errno = ENOMEM;
            return -1;
        }
        mh.msg_control = cbuf;
        mh.msg_controllen = CTRL_CAP;
    }
    ssize_t got = recvmsg(pv_fd_live(x->r, pv_expr_num(pv_arg(sc, 0), -1)), &mh, (int)pv_expr_num(pv_arg(sc, 2), 0));
    int e = errno;
    if (got >= 0) {
        const struct pv_expr *fl = pv_expr_field(m, "msg_flags");
        int64_t wantfl = fl ? pv_expr_num(fl, 0) : 0;
        if (!(fl && pv_expr_any(fl)) && mh.msg_flags != wantfl) {
            pv_io_mismatch(x, "msg_flags", "recvmsg: msg_flags is 0x%x, the script expects 0x%llx", (unsigned)mh.msg_flags,
                     (unsigned long long)wantfl);
        } else if (ctl && ctl->kind == PV_E_LIST) {
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            int i = 0;
            for (; i < ctl->nkids && c && !x->mismatch; i++, c = CMSG_NXTHDR(&mh, c))
                cmsg_check(x, i, ctl->kids[i], c);
            if (!x->mismatch && (i < ctl->nkids || c))
                pv_io_mismatch(x, "cmsg count", "recvmsg: %s control messages than the script's %d", c ? "more" : "fewer",
                         ctl->nkids);
        }
    }
    free(cbuf);
    iovs_free(iov, niov);
    errno = e;
    return got;
}

int64_t pv_io_sendmsg(struct pv_io_ctx *x)
{
    const struct pv_syscall *sc = x->sc;
    struct iovec *iov;
    int niov;
    if (iovs_of(pv_expr_field(pv_arg(sc, 1), "msg_iov"), &iov, &niov) < 0) {
        errno = ENOMEM;
        return -1;
    }
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)niov;
    ssize_t w = sendmsg(pv_fd_live(x->r, pv_expr_num(pv_arg(sc, 0), -1)), &mh, (int)pv_expr_num(pv_arg(sc, 2), 0));
    int e = errno;
    iovs_free(iov, niov);
    errno = e;
    return w;
}

/* pipe([R, W]) = 0: the script's two numbers become the pipe's ends. */
int64_t pv_io_pipe(struct pv_io_ctx *x)
{
    const struct pv_expr *l = pv_arg(x->sc, 0);
    int p[2];
    if (!l || l->kind != PV_E_LIST || l->nkids != 2) {
        errno = EINVAL;
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pv_fd_map(x->r, pv_expr_num(l->kids[0], -1), p[0]);
    pv_fd_map(x->r, pv_expr_num(l->kids[1], -1), p[1]);
    return 0;
}

/* open("path", FLAGS) = N */
int64_t pv_io_open(struct pv_io_ctx *x)
{
    const struct pv_expr *p = pv_arg(x->sc, 0);
    if (!p || p->kind != PV_E_STR) {
        errno = EINVAL;
        return -1;
    }
    int fd = open(p->name, (int)pv_expr_num(pv_arg(x->sc, 1), O_RDONLY) | O_CLOEXEC, (mode_t)pv_expr_num(pv_arg(x->sc, 2), 0600));
    if (fd >= 0 && !x->sc->result_any && x->sc->result >= 0)
        pv_fd_map(x->r, x->sc->result, fd);
    return fd;
}

/* splice(IN, NULL, OUT, NULL, LEN, FLAGS) */
int64_t pv_io_splice(struct pv_io_ctx *x)
{
    const struct pv_syscall *sc = x->sc;
    loff_t off_in = pv_expr_num(pv_arg(sc, 1), 0), off_out = pv_expr_num(pv_arg(sc, 3), 0);
    const struct pv_expr *oi = pv_arg(sc, 1), *oo = pv_arg(sc, 3);
    return splice(pv_fd_live(x->r, pv_expr_num(pv_arg(sc, 0), -1)), oi && oi->kind == PV_E_LIST ? &off_in : NULL,
                  pv_fd_live(x->r, pv_expr_num(pv_arg(sc, 2), -1)), oo && oo->kind == PV_E_LIST ? &off_out : NULL,
                  (size_t)pv_expr_num(pv_arg(sc, 4), 0), (unsigned)pv_expr_num(pv_arg(sc, 5), 0));
}

/* sendfile(OUT, IN, [OFFSET], COUNT) */
int64_t pv_io_sendfile(struct pv_io_ctx *x)
{
    const struct pv_syscall *sc = x->sc;
    const struct pv_expr *o = pv_arg(sc, 2);
    off_t off = (off_t)pv_expr_num(o, 0);
    return sendfile(pv_fd_live(x->r, pv_expr_num(pv_arg(sc, 0), -1)), pv_fd_live(x->r, pv_expr_num(pv_arg(sc, 1), -1)),
                    o && o->kind == PV_E_LIST ? &off : NULL, (size_t)pv_expr_num(pv_arg(sc, 3), 0));
}
