/*
 * nl_pdf.c - an HTML file printed to PDF by headless Chromium (see nl_pdf.h): the
 * profile folder per run and the removal of those of killed runs, the print to a
 * hidden name renamed into place, the deadline (nl_proc stops the process group).
 * Knows nothing of what the page says.
 */
#include "netlab/nl_pdf.h"
#include "netlab/nl_proc.h"
#include "nl_internal.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROFILE_PREFIX "netlab-pdf-"

static const char *tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

static void rm_tree(const char *p) { nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

int nl_pdf_clean_stale(int *removed, char *errbuf)
{
    if (removed)
        *removed = 0;
    DIR *d = opendir(tmpdir());
    if (!d)
        return nl_err_sys(errbuf, errno, "%s", tmpdir());
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, PROFILE_PREFIX, strlen(PROFILE_PREFIX)) != 0)
            continue;
        char *end;
        const char *num = e->d_name + strlen(PROFILE_PREFIX);
        long pid = strtol(num, &end, 10);
        if (end == num || *end || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its run may still be printing */
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", tmpdir(), e->d_name);
        rm_tree(p);
        if (removed)
            (*removed)++;
    }
    closedir(d);
    return 0;
}

/* file:// URL of dir/path (dir "" when path is absolute), every byte but unreserved ones and '/'
 * percent-encoded (RFC 3986 section 2), so a space, '#', '?' or a newline in a name is a name. */
static void file_url(char *url, size_t cap, const char *dir, const char *path)
{
    size_t o = (size_t)snprintf(url, cap, "file://");
    for (int part = 0; part < 2; part++) {
        const char *s = part == 0 ? dir : path;
        if (part == 1 && *dir && o + 1 < cap)
            url[o++] = '/';
        for (; *s && o + 4 < cap; s++) {
            unsigned char c = (unsigned char)*s;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
                url[o++] = (char)c;
            else
                o += (size_t)snprintf(url + o, cap - o, "%%%02X", c);
        }
    }
    url[o < cap ? o : cap - 1] = 0;
}

int nl_pdf_print(const char *chrome, const char *html, const char *pdf, double timeout_s, char *errbuf)
{
    struct stat sb;
    if (stat(pdf, &sb) == 0 && !S_ISREG(sb.st_mode))
        return nl_err(errbuf, NL_EINVAL, "%s exists and is not a regular file: it is not replaced; move it away", pdf);
    nl_pdf_clean_stale(NULL, NULL);
    char profile[4096], tmp[4200], arg_profile[4200], arg_pdf[4300], url[4200];
    snprintf(profile, sizeof profile, "%s/" PROFILE_PREFIX "%ld", tmpdir(), (long)getpid());
    const char *slash = strrchr(pdf, '/');
    if (slash)
        snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp-%ld", (int)(slash - pdf), pdf, slash + 1, (long)getpid());
    else
        snprintf(tmp, sizeof tmp, ".%s.tmp-%ld", pdf, (long)getpid());
    snprintf(arg_profile, sizeof arg_profile, "--user-data-dir=%s", profile);
    snprintf(arg_pdf, sizeof arg_pdf, "--print-to-pdf=%s", tmp);
    char cwd[2048] = "";
    if (html[0] != '/' && !getcwd(cwd, sizeof cwd))
        return nl_err_sys(errbuf, errno, "printing %s: the current folder", html);
    file_url(url, sizeof url, cwd, html);
    const char *argv[] = {chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                          arg_profile, arg_pdf, url, NULL};
    char out[8192];
    int status = 0;
    unlink(tmp);
    int rc = nl_proc_run(argv, NULL, timeout_s, out, sizeof out, &status, errbuf);
    rm_tree(profile);
    if (rc == NL_ELIMIT) {
        unlink(tmp);
        return nl_err(errbuf, NL_ELIMIT, "Chromium did not print %s within %.0f s and was stopped (its whole process "
                      "group); report.html is written: print it from a browser, or give more --pdf-timeout", pdf, timeout_s);
    }
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    if (status != 0 || stat(tmp, &sb) < 0 || sb.st_size == 0) {
        unlink(tmp);
        size_t n = strlen(out);
        return nl_err(errbuf, NL_ESYS, "Chromium could not print %s (status %d): %s", pdf, status,
                      n > 400 ? out + n - 400 : out);
    }
    if (rename(tmp, pdf) < 0) {
        int e = errno;
        unlink(tmp);
        return nl_err_sys(errbuf, e, "%s", pdf);
    }
    return 0;
}
