/*
 * nl_prove_args.c - what the syscall files (nl_prove_sys.c, nl_prove_cmsg.c) share about a script's
 * call: its arguments read as numbers and struct fields, the script's fd numbers mapped onto the
 * live ones (under the run's lock), and the out-argument that differs from the script's. Makes no
 * call itself.
 */
#include "nl_prove_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pv_expr_any(const struct pv_expr *e) { return !e || e->kind == PV_E_ELLIPSIS; }

/* A number from an argument: N, CONST, A|B, [N] (a pointer to an int). def for "...". */
int64_t pv_expr_num(const struct pv_expr *e, int64_t def)
{
    if (!e || e->kind == PV_E_ELLIPSIS)
        return def;
    if (e->kind == PV_E_INT || e->kind == PV_E_SYM)
        return e->num;
    if (e->kind == PV_E_LIST && e->nkids == 1)
        return pv_expr_num(e->kids[0], def);
    if (e->kind == PV_E_CALL && strcmp(e->name, "htons") == 0 && e->nkids == 1)
        return pv_expr_num(e->kids[0], def);
    return def;
}

const struct pv_expr *pv_expr_field(const struct pv_expr *st, const char *name)
{
    if (!st || st->kind != PV_E_STRUCT)
        return NULL;
    for (int i = 0; i < st->nkids; i++)
        if (st->kids[i]->kind == PV_E_FIELD && strcmp(st->kids[i]->name, name) == 0 && st->kids[i]->nkids > 0)
            return st->kids[i]->kids[0];
    return NULL;
}

int pv_fd_live(struct pv_run *r, int64_t script_fd)
{
    int live = -1;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->nfds; i++)
        if (r->fd_script[i] == script_fd)
            live = r->fd_live[i];
    pthread_mutex_unlock(&r->mu);
    return live;
}

void pv_fd_map(struct pv_run *r, int64_t script_fd, int live)
{
    pthread_mutex_lock(&r->mu);
    int i;
    for (i = 0; i < r->nfds; i++)
        if (r->fd_script[i] == script_fd)
            break;
    if (i < PV_MAX_FDS) {
        r->fd_script[i] = (int)script_fd;
        r->fd_live[i] = live;
        if (i == r->nfds)
            r->nfds++;
    }
    pthread_mutex_unlock(&r->mu);
}

void pv_fd_unmap(struct pv_run *r, int64_t script_fd)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->nfds; i++)
        if (r->fd_script[i] == script_fd) {
            if (r->cur_live_fd == r->fd_live[i])
                r->cur_live_fd = -1;
            r->fd_script[i] = r->fd_script[r->nfds - 1];
            r->fd_live[i] = r->fd_live[r->nfds - 1];
            r->nfds--;
            break;
        }
    pthread_mutex_unlock(&r->mu);
}

/* An out-argument differs: field and msg say how (the call's verdict then fails). Returns 0. */
int pv_io_mismatch(struct pv_io_ctx *x, const char *fieldname, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, x->mcap, fmt, ap);
    va_end(ap);
    snprintf(x->field, x->fcap, "%s", fieldname);
    x->mismatch = 1;
    return 0;
}
