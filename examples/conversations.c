/*
 * conversations.c - libnetlab's capture analysis from plain C, linked through
 * pkg-config:
 *
 *   cc -o conversations conversations.c $(pkg-config --cflags --libs netlab)
 *   ./conversations capture.pcap
 *
 * One line per TCP conversation and UDP flow (client, server, packets and
 * payload each way, handshake, end), the checksum verdicts and the notes: the
 * same calls the Swift `analyze` makes.
 */
#include <netlab.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 64;
    }
    char err[NL_ERRBUF_SIZE];
    struct nl_analysis *a;
    if (nl_analyze_file(argv[1], NULL, &a, err) < 0) {
        fprintf(stderr, "conversations: %s\n", err);
        return 1;
    }
    struct nl_summary s;
    nl_analysis_summary(a, &s);
    printf("%s: %llu packets, %llu TCP conversations, %llu UDP flows\n", s.file, (unsigned long long)s.packets,
           (unsigned long long)s.tcp_conversations, (unsigned long long)s.udp_flows);
    for (size_t i = 0; i < nl_analysis_conv_count(a); i++) {
        struct nl_conversation c;
        nl_analysis_conv(a, i, &c);
        static const char *ends[] = {"open", "fin", "rst"};
        printf("%u %s %s -> %s%s packets %llu/%llu payload %llu/%llu", c.id, c.protocol == 6 ? "tcp" : "udp",
               c.client, c.server, c.server_guessed ? " (server guessed)" : "", (unsigned long long)c.packets_c2s,
               (unsigned long long)c.packets_s2c, (unsigned long long)c.payload_c2s,
               (unsigned long long)c.payload_s2c);
        if (c.protocol == 6)
            printf(" handshake %s end %s", c.handshake ? "yes" : "no", ends[c.end]);
        printf("\n");
    }
    printf("checksums: TCP good %llu bad %llu offload %llu; IPv4 good %llu bad %llu\n",
           (unsigned long long)s.ck_tcp.good, (unsigned long long)s.ck_tcp.bad, (unsigned long long)s.ck_tcp.offload,
           (unsigned long long)s.ck_ipv4.good, (unsigned long long)s.ck_ipv4.bad);
    for (size_t i = 0; i < nl_analysis_note_count(a); i++) {
        struct nl_note n;
        nl_analysis_note(a, i, &n);
        printf("note: %s\n", n.text);
    }
    int status = s.read_error ? 1 : 0;
    if (s.read_error)
        fprintf(stderr, "conversations: %s\n", s.read_error_text);
    nl_analysis_free(a);
    return status;
}
