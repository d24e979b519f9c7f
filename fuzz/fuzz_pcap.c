/*
 * fuzz_pcap.c - libFuzzer target: arbitrary bytes as a capture file. The pcap /
 * pcapng reader (nl_pcapr_*) over every packet, then the whole analysis
 * (nl_analyze_mem) with --find, --follow and --expect switched on, and every
 * accessor read back; and echo grading's lines (nl_analyze_opts.expect_lines)
 * over it. Nothing may crash, leak or read out of bounds.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char csv_path[64];
static struct nl_messages *echo_lines; /* echo grading's expectations (nl_expect's lines mode) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* --expect needs a CSV file: one small file for the whole run. */
    snprintf(csv_path, sizeof csv_path, "/tmp/fuzz_pcap_expect.XXXXXX");
    int fd = mkstemp(csv_path);
    if (fd >= 0) {
        const char csv[] = "msg_id,app_protocol,src_app,dst_app,message,timestamp\n"
                           "1,CHAT,server,client,Welcome,\n2,CHAT,client,server,HELLO,\n3,CHAT,server,client,Bye,\n";
        if (write(fd, csv, sizeof csv - 1) < 0)
            csv_path[0] = 0;
        close(fd);
    }
    const char lines[] = "HELLO\nWelcome\n\nab\r\nlast line";
    if (nl_expect_lines_parse(lines, sizeof lines - 1, "lines.txt", NL_TRANSFORM_REVERSE_SWAPCASE, &echo_lines, NULL) < 0)
        echo_lines = NULL;
    return 0;
}

/* Echo grading over the same bytes: lines in the reassembled streams, every stream kept. */
static void grade_lines(const uint8_t *data, size_t size)
{
    struct nl_analyze_opts o;
    memset(&o, 0, sizeof o);
    o.expect_lines = echo_lines;
    o.keep_streams = 1;
    o.max_stream_bytes = 1 << 20;
    struct nl_analysis *a;
    if (!echo_lines || nl_analyze_mem(data, size, "fuzz.pcap", &o, &a, NULL) != 0)
        return;
    struct nl_expect_result e;
    for (size_t i = 0; i < nl_analysis_expect_count(a); i++) {
        nl_analysis_expect(a, i, &e);
        if (e.status < NL_EXPECT_FOUND || e.status > NL_EXPECT_MISSING || (e.status != NL_EXPECT_MISSING && !e.packet))
            abort();
    }
    struct nl_unexpected u;
    for (size_t i = 0; i < nl_analysis_unexpected_count(a); i++) {
        nl_analysis_unexpected(a, i, &u);
        if (u.data_len > 64 || u.data_len > u.length)
            abort();
    }
    nl_analysis_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    struct nl_pcapr *r;
    if (nl_pcapr_open_mem(&r, data, size, "fuzz.pcap", err) == 0) {
        struct nl_frame f;
        uint64_t sum = 0;
        while (nl_pcapr_next(r, &f, err) == 1)
            for (uint32_t i = 0; i < f.caplen; i += 64)
                sum += f.data[i]; /* every byte the reader hands out must be readable */
        for (size_t i = 0; i < nl_pcapr_iface_count(r); i++)
            sum += nl_pcapr_iface(r, i)->snaplen;
        (void)sum;
        nl_pcapr_close(r);
    }

    grade_lines(data, size);
    const char *find[] = {"Welcome", "ab", "HELLO"};
    struct nl_analyze_opts o = {find, 3, 1, csv_path[0] ? csv_path : NULL, 1 << 20, 64};
    struct nl_analysis *a;
    if (nl_analyze_mem(data, size, "fuzz.pcap", &o, &a, err) != 0)
        return 0;
    struct nl_summary s;
    nl_analysis_summary(a, &s);
    for (size_t i = 0; i < nl_analysis_conv_count(a); i++) {
        struct nl_conversation c;
        nl_analysis_conv(a, i, &c);
    }
    struct nl_iface_seen fs;
    for (size_t i = 0; i < nl_analysis_iface_count(a); i++)
        nl_analysis_iface(a, i, &fs);
    struct nl_note n;
    for (size_t i = 0; i < nl_analysis_note_count(a); i++)
        nl_analysis_note(a, i, &n);
    struct nl_match m;
    for (size_t i = 0; i < nl_analysis_match_count(a); i++)
        nl_analysis_match(a, i, &m);
    struct nl_chunk ch;
    size_t total = 0;
    for (size_t i = 0; i < nl_analysis_chunk_count(a); i++) {
        nl_analysis_chunk(a, i, &ch);
        if (ch.data && ch.len)
            total += ch.data[ch.len - 1];
    }
    struct nl_expect_result e;
    for (size_t i = 0; i < nl_analysis_expect_count(a); i++)
        nl_analysis_expect(a, i, &e);
    struct nl_badck b;
    for (size_t i = 0; i < nl_analysis_bad_count(a); i++)
        nl_analysis_bad(a, i, &b);
    struct nl_problem p;
    for (size_t i = 0; i < nl_analysis_problem_count(a); i++)
        nl_analysis_problem(a, i, &p);
    struct nl_dup d;
    for (size_t i = 0; i < nl_analysis_dup_count(a); i++)
        nl_analysis_dup(a, i, &d);
    (void)total;
    nl_analysis_free(a);
    return 0;
}
