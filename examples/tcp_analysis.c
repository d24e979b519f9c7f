/*
 * tcp_analysis.c - libnetlab's TCP analysis from C: the frames Wireshark would
 * flag in a capture (tshark's tcp.analysis.* field names) and each TCP
 * conversation's RTT, options and throughput.
 *
 *   cc tcp_analysis.c $(pkg-config --cflags --libs netlab) -o tcp_analysis
 *   ./tcp_analysis capture.pcap
 */
#include <netlab.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 64;
    }
    char errbuf[NL_ERRBUF_SIZE];
    struct nl_analysis *a;
    if (nl_analyze_file(argv[1], NULL, &a, errbuf) < 0) {
        fprintf(stderr, "tcp_analysis: %s\n", errbuf);
        return 1;
    }
    for (int k = 0; k < NL_TA_NKINDS; k++) {
        uint64_t n = nl_analysis_ta_total(a, k);
        if (!n)
            continue;
        printf("%-8s %-24s %6llu  first frame %llu\n", nl_ta_severity_name(nl_ta_severity(k)), nl_ta_field(k),
               (unsigned long long)n, (unsigned long long)nl_analysis_ta_frame(a, k, 0));
    }
    for (size_t i = 0; i < nl_analysis_conv_count(a); i++) {
        struct nl_tcp_figures f;
        if (nl_analysis_tcp_figures(a, i, &f) < 0)
            continue; /* UDP */
        printf("conversation %u: mss %u/%u, rtt %llu samples median %.3f ms, %.0f bit/s c>s, %llu retransmissions\n",
               f.conversation, f.mss_c2s, f.mss_s2c, (unsigned long long)f.rtt_samples, f.rtt_median_ms,
               f.throughput_bps_c2s, (unsigned long long)f.count[NL_TA_RETRANSMISSION]);
    }
    nl_analysis_free(a);
    return 0;
}
