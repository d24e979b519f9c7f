/*
 * nl_analysis_read.c - the read side of an analysis: copies of its summary,
 * conversations (client/server resolved), lists and notes for callers.
 * Computes nothing new.
 */
#include "nl_analysis.h"
#include "netlab/nl_tcp.h"

#include <stdio.h>
#include <string.h>

/* ---- accessors ---- */

void nl_analysis_summary(const struct nl_analysis *a, struct nl_summary *s) { *s = a->sum; }

size_t nl_analysis_iface_count(const struct nl_analysis *a) { return a->nifaces; }
void nl_analysis_iface(const struct nl_analysis *a, size_t i, struct nl_iface_seen *out)
{
    if (i < a->nifaces)
        *out = a->ifaces[i];
    else
        memset(out, 0, sizeof *out);
}

size_t nl_analysis_warning_count(const struct nl_analysis *a) { return nl_pcapr_warning_count(a->rd); }
const char *nl_analysis_warning(const struct nl_analysis *a, size_t i) { return nl_pcapr_warning(a->rd, i); }

size_t nl_analysis_conv_count(const struct nl_analysis *a) { return a->ft.nflows; }
size_t nl_analysis_listed_cap(const struct nl_analysis *a) { return a->listed_cap; }

uint8_t nl_analysis_conv_protocol(const struct nl_analysis *a, size_t i)
{
    return i < a->ft.nflows ? a->ft.flows[i].proto : 0;
}

uint8_t nl_analysis_conv_app_role(const struct nl_analysis *a, size_t i)
{
    return i < a->ft.nflows ? a->ft.flows[i].app_role : 0;
}

int nl_analysis_conv(const struct nl_analysis *a, size_t i, struct nl_conversation *o)
{
    if (i >= a->ft.nflows)
        return NL_EINVAL;
    const struct nl_flow *f = &a->ft.flows[i];
    int srv = f->server < 0 ? 1 : f->server, cli = !srv;
    const struct nl_flow_dir *C = &f->d[cli], *S = &f->d[srv];
    o->id = f->id;
    o->protocol = f->proto;
    o->ipver = f->ipver;
    nl_endpoint_format(f->ipver, f->addr[cli], f->port[cli], o->client);
    nl_endpoint_format(f->ipver, f->addr[srv], f->port[srv], o->server);
    /* The address is the endpoint text without ":port" (and without brackets for IPv6). */
    size_t cl = strrchr(o->client, ':') - o->client, sl = strrchr(o->server, ':') - o->server;
    int br = f->ipver == 6;
    memcpy(o->client_addr, o->client + br, cl - 2 * br);
    o->client_addr[cl - 2 * br] = 0;
    memcpy(o->server_addr, o->server + br, sl - 2 * br);
    o->server_addr[sl - 2 * br] = 0;
    o->client_port = f->port[cli];
    o->server_port = f->port[srv];
    o->server_guessed = f->basis != NL_SERVER_SYN && f->basis != NL_SERVER_SYNACK;
    o->server_basis = nl_server_basis_name(f->basis);
    o->packets_c2s = C->packets;
    o->packets_s2c = S->packets;
    o->payload_c2s = C->payload;
    o->payload_s2c = S->payload;
    o->bytes_c2s = C->bytes;
    o->bytes_s2c = S->bytes;
    o->first_packet = f->first_pkt;
    o->last_packet = f->last_pkt;
    o->first_ns = f->first_ns;
    o->last_ns = f->last_ns;
    o->handshake = (f->hs & 7) == 7;
    o->syn_seen = C->syn || S->syn;
    o->synack_seen = C->synack || S->synack;
    o->fin_c2s = C->fin;
    o->fin_s2c = S->fin;
    o->rst_c2s = C->rst;
    o->rst_s2c = S->rst;
    o->end = (C->rst || S->rst) ? NL_END_RST : (C->fin && S->fin) ? NL_END_FIN : NL_END_OPEN;
    o->started_before_capture = f->proto == 6 && !(f->first_flags & NL_TCP_SYN);
    o->refused = f->refused;
    o->kernel_reset = f->kernel_rst;
    o->reset_packet = f->rst_pkt;
    o->retransmissions = (uint32_t)nl_ta_retransmissions(f);
    o->duplicates = C->dups + S->dups;
    const struct nl_flow_dir *L = C->largest_bytes >= S->largest_bytes ? C : S;
    if (C->largest_bytes == S->largest_bytes && C->largest_bytes && S->largest_pkt < C->largest_pkt)
        L = S; /* a tie: the earlier packet */
    o->largest_packet = L->largest_bytes ? L->largest_pkt : 0;
    o->largest_bytes = L->largest_bytes;
    o->checksum_bad = C->ck_bad + S->ck_bad;
    o->checksum_offload = C->ck_offload + S->ck_offload;
    o->app = f->app;
    o->app_role = f->app_role;
    o->app_name = nl_app_name(f->app);
    o->app_basis = nl_app_basis_name(f->app_basis);
    o->role = nl_app_role_name(f->app_role);
    return 0;
}

size_t nl_analysis_bad_count(const struct nl_analysis *a) { return a->nbad; }
void nl_analysis_bad(const struct nl_analysis *a, size_t i, struct nl_badck *out)
{
    if (i < a->nbad)
        *out = a->bad[i];
    else
        memset(out, 0, sizeof *out);
}

size_t nl_analysis_problem_count(const struct nl_analysis *a) { return a->nprobs; }
void nl_analysis_problem(const struct nl_analysis *a, size_t i, struct nl_problem *out)
{
    if (i < a->nprobs)
        *out = a->probs[i];
    else
        memset(out, 0, sizeof *out);
}

size_t nl_analysis_dup_count(const struct nl_analysis *a) { return a->ndups; }
void nl_analysis_dup(const struct nl_analysis *a, size_t i, struct nl_dup *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->ndups)
        return;
    out->packet = a->dups[i].packet;
    out->original = a->dups[i].original;
    out->conversation = a->dups[i].flow;
    out->delta_ns = a->dups[i].delta_ns;
}

size_t nl_analysis_note_count(const struct nl_analysis *a) { return a->nnotes; }
void nl_analysis_note(const struct nl_analysis *a, size_t i, struct nl_note *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nnotes)
        return;
    out->kind = a->notes[i].kind;
    out->packet = a->notes[i].packet;
    out->conversation = a->notes[i].conversation;
    out->text = a->notes[i].text;
}

size_t nl_analysis_match_count(const struct nl_analysis *a) { return a->nmatches; }
void nl_analysis_match(const struct nl_analysis *a, size_t i, struct nl_match *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nmatches)
        return;
    const struct match_rec *m = &a->matches[i];
    out->text = m->text;
    out->packet = m->packet;
    out->last_packet = m->last_packet;
    out->conversation = m->flow;
    out->protocol = m->protocol;
    out->across = m->across;
    out->payload_bytes = m->payload_bytes;
    out->offset = m->offset;
    if (m->flow)
        out->from_client = (uint8_t)from_client(&a->ft.flows[m->flow - 1], m->dir);
}

uint32_t nl_analysis_follow_conv(const struct nl_analysis *a) { return a->follow_flow; }
size_t nl_analysis_chunk_count(const struct nl_analysis *a) { return a->nchunks; }
void nl_analysis_chunk(const struct nl_analysis *a, size_t i, struct nl_chunk *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nchunks)
        return;
    const struct chunk_rec *c = &a->chunks[i];
    out->from_client = (uint8_t)from_client(&a->ft.flows[a->follow_flow - 1], c->dir);
    out->packet = c->packet;
    out->data = c->is_gap ? NULL : a->fbuf + c->off;
    out->len = c->len;
}

size_t nl_analysis_expect_count(const struct nl_analysis *a) { return a->nexp; }
void nl_analysis_expect(const struct nl_analysis *a, size_t i, struct nl_expect_result *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nexp)
        return;
    *out = a->exp[i].pub;
    out->detail = a->exp[i].detail;
}

size_t nl_analysis_unexpected_count(const struct nl_analysis *a) { return a->nunexp; }
void nl_analysis_unexpected(const struct nl_analysis *a, size_t i, struct nl_unexpected *out)
{
    *out = a->unexp[i].pub;
}

const struct nl_stream_store *nl_analysis_stream(const struct nl_analysis *a, uint32_t conv, int from_client)
{
    if (conv == 0 || conv > a->ft.nflows || !a->ft.flows[conv - 1].ext)
        return NULL;
    const struct nl_flow *f = &a->ft.flows[conv - 1];
    return nl_flow_ext_store(f->ext, from_client ? !f->server : f->server);
}
