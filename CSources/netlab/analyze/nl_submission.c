/*
 * nl_submission.c - where a class's submissions come from (see nl_submission.h):
 * the class folder listed, a submission folder walked without following a link
 * or opening anything but regular files, a submission zip read in memory through
 * nl_zip. Nothing is extracted, written or run; a submission that holds a link,
 * a special file, too many files or a hostile zip is refused with its reason.
 * Knows nothing of captures or grades.
 */
#include "nl_submission.h"
#include "netlab/nl_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct nl_class_entry *)a)->name, ((const struct nl_class_entry *)b)->name);
}

static int ends_with_zip(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".zip") == 0;
}

static void classify(int dfd, struct nl_class_entry *e)
{
    struct stat st;
    if (fstatat(dfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        e->kind = NL_ENTRY_OTHER;
        snprintf(e->why, sizeof e->why, "cannot be examined: %s", strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        e->kind = NL_ENTRY_FOLDER;
    } else if (S_ISREG(st.st_mode) && ends_with_zip(e->name)) {
        e->kind = NL_ENTRY_ZIP;
    } else {
        e->kind = NL_ENTRY_OTHER;
        snprintf(e->why, sizeof e->why, "%s",
                 S_ISLNK(st.st_mode) ? "a symbolic link: not followed"
                 : S_ISREG(st.st_mode) ? "neither a folder nor a .zip"
                                       : "a special file, neither a folder nor a .zip");
    }
}

int nl_class_list(const char *dir, struct nl_class_entry **out, size_t *n, char *errbuf)
{
    *out = NULL;
    *n = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return nl_err_sys(errbuf, errno, "%s: cannot open the class folder", dir);
    DIR *d = fdopendir(dfd);
    if (!d) {
        int e = errno;
        close(dfd);
        return nl_err_sys(errbuf, e, "%s: cannot read the class folder", dir);
    }
    struct nl_class_entry *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (cnt == NL_CLASS_MAX_SUBMISSIONS) {
            rc = nl_err(errbuf, NL_ELIMIT, "%s: more than %u entries in the class folder", dir,
                        NL_CLASS_MAX_SUBMISSIONS);
            break;
        }
        if (NL_GROW(v, cnt, cap, 64) < 0 || !(v[cnt].name = strdup(de->d_name))) {
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
            break;
        }
        v[cnt].why[0] = 0;
        classify(dirfd(d), &v[cnt++]);
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = nl_err_sys(errbuf, errno, "%s: cannot read the class folder", dir);
    closedir(d);
    if (rc < 0) {
        nl_class_list_free(v, cnt);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_entry);
    *out = v;
    *n = cnt;
    return 0;
}

void nl_class_list_free(struct nl_class_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    free(e);
}

/* ---- one submission's files ---- */

/* Folders and files a person did not mean to hand in: hidden ones and macOS's __MACOSX. */
static int ignored(const char *component)
{
    return component[0] == '.' || strcmp(component, "__MACOSX") == 0;
}

static int add_file(struct nl_subfiles *s, const char *path, uint64_t size, size_t zip_index)
{
    if (s->n == NL_SUBMISSION_MAX_FILES) {
        snprintf(s->refused, sizeof s->refused, "more than %u files", NL_SUBMISSION_MAX_FILES);
        return 1;
    }
    if (NL_GROW(s->f, s->n, s->cap, 16) < 0)
        return NL_ENOMEM;
    struct nl_subfile *f = &s->f[s->n];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        return NL_ENOMEM;
    const char *slash = strrchr(f->path, '/');
    f->base = slash ? slash + 1 : f->path;
    f->size = size;
    f->zip_index = zip_index;
    s->n++;
    return 0;
}

/* Walk dir (path rel inside the submission) at the given depth. 0, 1 (refused: s->refused), or NL_ENOMEM. */
static int walk(struct nl_subfiles *s, int dfd, const char *rel, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        snprintf(s->refused, sizeof s->refused, "cannot read the folder %s: %s", rel[0] ? rel : ".", strerror(errno));
        close(dfd);
        return 1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (ignored(de->d_name))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        char shown[256];
        nl_text_sanitize((const uint8_t *)path, strlen(path), shown, sizeof shown);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            snprintf(s->refused, sizeof s->refused, "cannot examine %s: %s", shown, strerror(errno));
            rc = 1;
        } else if (S_ISLNK(st.st_mode)) {
            snprintf(s->refused, sizeof s->refused, "%s is a symbolic link: refused (hand in files, not links)", shown);
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (depth >= NL_SUBMISSION_MAX_DEPTH) {
                snprintf(s->refused, sizeof s->refused, "folders nested deeper than %d (at %s)",
                         NL_SUBMISSION_MAX_DEPTH, shown);
                rc = 1;
                continue;
            }
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                snprintf(s->refused, sizeof s->refused, "cannot open the folder %s: %s", shown, strerror(errno));
                rc = 1;
            } else {
                rc = walk(s, sub, path, depth + 1);
            }
        } else if (!S_ISREG(st.st_mode)) {
            snprintf(s->refused, sizeof s->refused, "%s is a special file (a FIFO, device or socket): refused", shown);
            rc = 1;
        } else {
            rc = add_file(s, path, (uint64_t)st.st_size, 0);
        }
    }
    closedir(d);
    return rc;
}

static int open_folder(struct nl_subfiles *s)
{
    int dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(s->refused, sizeof s->refused, "cannot open the folder: %s", strerror(errno));
        return 0;
    }
    int rc = walk(s, dfd, "", 0);
    return rc < 0 ? rc : 0;
}

/* An entry's name outside the ignored folders. */
static int zip_wanted(const char *name)
{
    for (const char *p = name; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char comp[256];
        snprintf(comp, sizeof comp, "%.*s", (int)(n < 255 ? n : 255), p);
        if (n && ignored(comp))
            return 0;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 1;
}

static int open_zip(struct nl_subfiles *s)
{
    char eb[NL_ERRBUF_SIZE];
    if (nl_file_load(&s->zipfile, s->root, "the zip", "a zip file", NL_SUBMISSION_MAX_ZIP, eb) < 0) {
        snprintf(s->refused, sizeof s->refused, "%s", eb);
        return 0;
    }
    const char *shown = strrchr(s->root, '/') ? strrchr(s->root, '/') + 1 : s->root;
    int rc = nl_zip_open_mem(s->zipfile.data, s->zipfile.size, shown, NULL, &s->zip, eb);
    if (rc == NL_ENOMEM)
        return rc;
    if (rc < 0) {
        snprintf(s->refused, sizeof s->refused, "refused: %.480s", eb);
        return 0;
    }
    for (size_t i = 0; i < nl_zip_count(s->zip); i++) {
        struct nl_zip_entry e;
        nl_zip_entry(s->zip, i, &e);
        if (e.is_dir || !zip_wanted(e.name))
            continue;
        rc = add_file(s, e.name, e.size, i);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct nl_subfile *)a)->path, ((const struct nl_subfile *)b)->path);
}

int nl_subfiles_open(struct nl_subfiles *s, const char *class_dir, const struct nl_class_entry *e)
{
    memset(s, 0, sizeof *s);
    s->is_zip = e->kind == NL_ENTRY_ZIP;
    size_t n = strlen(class_dir) + strlen(e->name) + 2;
    if (!(s->root = malloc(n)))
        return NL_ENOMEM;
    snprintf(s->root, n, "%s/%s", class_dir, e->name);
    int rc = s->is_zip ? open_zip(s) : open_folder(s);
    if (rc == 0 && s->n > 1) { /* in order of path, whatever order the folder or zip lists them in */
        qsort(s->f, s->n, sizeof *s->f, by_path);
        for (size_t i = 0; i < s->n; i++) { /* base points into path: still right after the move */
            const char *slash = strrchr(s->f[i].path, '/');
            s->f[i].base = slash ? slash + 1 : s->f[i].path;
        }
    }
    return rc;
}

int nl_subfiles_read(struct nl_subfiles *s, size_t i)
{
    struct nl_subfile *f = &s->f[i];
    if (f->read)
        return f->read > 0 ? 0 : NL_EMALFORMED;
    int rc;
    if (s->is_zip) {
        rc = nl_zip_read(s->zip, f->zip_index, &f->data, &f->len, f->error);
    } else {
        size_t n = strlen(s->root) + strlen(f->path) + 2;
        char *full = malloc(n);
        if (!full)
            return nl_err(f->error, NL_ENOMEM, "out of memory");
        snprintf(full, n, "%s/%s", s->root, f->path);
        rc = nl_file_load(&f->file, full, "the file", "a file", NL_SUBMISSION_MAX_FILE, f->error);
        free(full);
        f->data = f->file.data;
        f->len = f->file.size;
    }
    f->read = rc < 0 ? -1 : 1;
    return rc;
}

void nl_subfiles_close(struct nl_subfiles *s)
{
    for (size_t i = 0; i < s->n; i++) {
        nl_file_release(&s->f[i].file);
        free(s->f[i].path);
    }
    free(s->f);
    nl_zip_free(s->zip);
    nl_file_release(&s->zipfile);
    free(s->root);
    memset(s, 0, sizeof *s);
}
