/*
 * nl_answers_read.c - the answer sheet of a capture file or buffer (nl_answers_file, _mem,
 * _file_listed): an analysis made asking for answers (nl_analyze.c's one loop, with
 * nl_answers.c as a consumer), whose answers the caller holds and frees (nl_answers_free
 * frees the analysis that owns them). Only the wrappers live here, so the answers consumer
 * never calls back into the loop that feeds it.
 */
#include "nl_analysis.h"
#include "nl_answers_int.h"
#include "netlab/nl_answers.h"

static int answer(struct nl_analysis *an, int rc, struct nl_answers **out)
{
    if (rc < 0)
        return rc;
    nl_answers_owned_by(an->ans, an);
    *out = an->ans;
    return 0;
}

int nl_answers_file_listed(const char *path, uint32_t max_listed, struct nl_answers **out, char *errbuf)
{
    *out = NULL;
    struct nl_analyze_opts o = {0};
    o.answers = 1;
    o.max_listed = max_listed;
    struct nl_analysis *an = NULL;
    int rc = nl_analyze_file(path, &o, &an, errbuf);
    return answer(an, rc, out);
}

int nl_answers_file(const char *path, struct nl_answers **out, char *errbuf)
{
    return nl_answers_file_listed(path, 0, out, errbuf);
}

int nl_answers_mem(const void *buf, size_t len, const char *name, struct nl_answers **out, char *errbuf)
{
    *out = NULL;
    struct nl_analyze_opts o = {0};
    o.answers = 1;
    struct nl_analysis *an = NULL;
    int rc = nl_analyze_mem(buf ? buf : "", len, name, &o, &an, errbuf);
    return answer(an, rc, out);
}

void nl_answers_free(struct nl_answers *a)
{
    struct nl_analysis *owner = a ? nl_answers_let_go(a) : NULL;
    if (owner)
        nl_analysis_free(owner); /* frees a (nl_answers_destroy) */
}

