/*
 * grade.c - a class graded from plain C (nl_rubric.h, nl_classgrade.h), linked
 * through pkg-config:
 *
 *   cc -o grade grade.c $(pkg-config --cflags --libs netlab)
 *   ./grade CLASS_DIR RUBRIC_FILE
 *
 * One line per submission (its verdict and points), then each check that failed
 * with its reason: the verdicts and reasons `netlab grade` prints.
 */
#include <netlab.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CLASS_DIR RUBRIC_FILE\n", argv[0]);
        return 64;
    }
    char err[NL_ERRBUF_SIZE];
    struct nl_rubric *r;
    if (nl_rubric_new(&r, err) < 0 || nl_rubric_load(r, argv[2], err) < 0 || nl_rubric_finish(r, err) < 0) {
        fprintf(stderr, "grade: %s\n", err);
        nl_rubric_free(r);
        return 65;
    }
    struct nl_class *c;
    if (nl_class_grade(argv[1], r, &c, err) < 0) {
        fprintf(stderr, "grade: %s\n", err);
        nl_rubric_free(r);
        return 2;
    }
    for (size_t i = 0; i < nl_class_count(c); i++) {
        struct nl_submission_result s;
        nl_class_submission(c, i, &s);
        printf("%s %s %u/%u\n", s.name, s.pass ? "PASS" : "FAIL", s.milli / 1000, s.max_milli / 1000);
        for (size_t k = 0; k < nl_rubric_check_count(r); k++) {
            struct nl_check_result x;
            nl_class_check(c, i, k, &x);
            if (!x.pass)
                printf("  %s: %s\n", x.id, x.reason);
        }
    }
    nl_class_free(c);
    nl_rubric_free(r);
    return 0;
}
