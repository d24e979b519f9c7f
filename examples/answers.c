/*
 * answers.c - the answer sheet of a capture from plain C (nl_answers.h), linked
 * through pkg-config:
 *
 *   cc -o answers answers.c $(pkg-config --cflags --libs netlab)
 *   ./answers capture.pcap
 *
 * Per TCP conversation: server, client, the greeting, each request with its
 * reply, bytes each way and the largest payload: what `analyze --answers` prints.
 */
#include <netlab.h>
#include <stdio.h>

static void text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && i < 40; i++)
        putchar(p[i] == '\n' ? '|' : p[i]);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 64;
    }
    char err[NL_ERRBUF_SIZE];
    struct nl_answers *a;
    if (nl_answers_file(argv[1], &a, err) < 0) {
        fprintf(stderr, "answers: %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < nl_answers_count(a); i++) {
        struct nl_answer r;
        nl_answers_get(a, i, &r);
        printf("conversation %u: %s %s -> %s server port %u client port %u\n", r.conversation, r.transport, r.client,
               r.server, r.server_port, r.client_port);
        if (r.greeting_packet) {
            printf("  greeting packet %llu, %u bytes: ", (unsigned long long)r.greeting_packet, r.greeting_bytes);
            text(r.greeting_text, r.greeting_text_len);
            putchar('\n');
        } else {
            printf("  no greeting\n");
        }
        for (size_t k = 0; k < r.exchanges && k < 3; k++) {
            struct nl_exchange x;
            nl_answers_exchange(a, i, k, &x);
            printf("  request packet %llu (%s) -> reply packet %llu\n", (unsigned long long)x.request_packet, x.field,
                   (unsigned long long)x.reply_packet);
        }
        printf("  bytes c2s payload %llu frames %llu; s2c payload %llu frames %llu\n",
               (unsigned long long)r.payload_c2s, (unsigned long long)r.frame_bytes_c2s,
               (unsigned long long)r.payload_s2c, (unsigned long long)r.frame_bytes_s2c);
        printf("  largest %u bytes in", r.largest_bytes);
        for (size_t k = 0; k < r.largest_count; k++)
            printf(" %llu", (unsigned long long)nl_answers_largest(a, i, k));
        putchar('\n');
    }
    nl_answers_free(a);
    return 0;
}
