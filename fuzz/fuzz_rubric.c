/*
 * fuzz_rubric.c - libFuzzer target: arbitrary bytes as a rubric file
 * (nl_rubric_parse), then, when it names no input file (which would be read from
 * disk), the checks decided (nl_rubric_finish) and every setting read back.
 * Nothing may crash, leak or read out of bounds; a rubric either parses or says why.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    struct nl_rubric *r = NULL;
    if (nl_rubric_new(&r, err) < 0)
        return 0;
    err[0] = 0;
    int rc = nl_rubric_parse(r, data, size, "fuzz/rubric.txt", err);
    if (rc < 0 && !err[0])
        abort(); /* every refusal says why */
    struct nl_rubric_info info;
    nl_rubric_info(r, &info);
    if (rc == 0 && !info.input && nl_rubric_finish(r, err) == 0) {
        for (size_t i = 0; i < nl_rubric_check_count(r); i++) {
            uint32_t milli;
            const char *id = nl_rubric_check(r, i, &milli);
            if (!id || !id[0] || milli > 1000u * NL_RUBRIC_MAX_POINTS)
                abort();
        }
        for (size_t i = 0; i < info.parts; i++)
            if (!nl_rubric_part(r, i, NULL))
                abort();
        for (size_t i = 0; i < info.references; i++)
            if (!nl_rubric_reference(r, i, NULL))
                abort();
    }
    nl_rubric_free(r);
    return 0;
}
