/*
 * fuzz_questions.c - libFuzzer target: arbitrary bytes as a `netlab report --questions` file
 * (nl_report_questions_parse), then every question read back. Nothing may crash, leak or read
 * out of bounds; a file either parses into questions with a number, a known key and a text, or
 * is refused saying why.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    err[0] = 0;
    struct nl_report_questions *q = NULL;
    int rc = nl_report_questions_parse(data, size, "fuzz/questions.txt", &q, err);
    if (rc < 0) {
        if (!err[0] || q)
            abort(); /* every refusal says why, and leaves nothing */
        return 0;
    }
    size_t n = nl_report_questions_count(q);
    if (n == 0 || n > NL_REPORT_QUESTION_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        struct nl_report_question r;
        if (nl_report_questions_get(q, i, &r) != 0 || !r.number || !r.key || !r.key[0] || !r.text || !r.section)
            abort();
    }
    struct nl_report_question r;
    if (nl_report_questions_get(q, n, &r) == 0)
        abort();
    nl_report_questions_free(q);
    return 0;
}
