/*
 * nl_submission.h - the files of a class's submissions (internal): the class
 * folder's entries, and one submission's files from its folder or its zip,
 * read into memory on demand and bounded. Knows nothing of what the files hold.
 */
#ifndef NL_SUBMISSION_H
#define NL_SUBMISSION_H

#include "netlab/nl_zip.h"
#include "nl_internal.h"

#include <stddef.h>
#include <stdint.h>

#define NL_SUBMISSION_MAX_FILES 2000u
#define NL_SUBMISSION_MAX_DEPTH 8
#define NL_SUBMISSION_MAX_FILE (256ull << 20)   /* one file of a folder */
#define NL_SUBMISSION_MAX_ZIP (1024ull << 20)   /* a submission's zip */
#define NL_CLASS_MAX_SUBMISSIONS 20000u

enum nl_entry_kind { NL_ENTRY_FOLDER = 1, NL_ENTRY_ZIP = 2, NL_ENTRY_OTHER = 3 };

struct nl_class_entry {
    char *name;                 /* as in the class folder */
    int kind;                   /* enum nl_entry_kind */
    char why[160];              /* NL_ENTRY_OTHER: why it is not a submission */
};

/** The class folder's entries, sorted by name (hidden ones left out). 0, or a negative code with errbuf. */
int nl_class_list(const char *dir, struct nl_class_entry **out, size_t *n, char *errbuf);
void nl_class_list_free(struct nl_class_entry *e, size_t n);

struct nl_subfile {
    char *path;                 /* inside the submission, '/' between folders */
    const char *base;           /* its last component */
    uint64_t size;
    size_t zip_index;
    struct nl_file file;        /* a folder's file, once read */
    const uint8_t *data;        /* its bytes, once read */
    size_t len;
    int read;                   /* 1 read, -1 could not be read (error) */
    char error[NL_ERRBUF_SIZE];
};

struct nl_subfiles {
    int is_zip;
    char *root;                 /* the submission's folder or zip */
    struct nl_file zipfile;
    struct nl_zip *zip;
    struct nl_subfile *f;
    size_t n, cap;
    char refused[NL_ERRBUF_SIZE]; /* non-empty: the submission could not be read, and why */
};

/**
 * List a submission's files (folder: walked without following links; zip: its
 * entries). A hostile or unreadable submission is not an error of the call: its
 * reason is in s->refused. Returns 0, or NL_ENOMEM.
 */
int nl_subfiles_open(struct nl_subfiles *s, const char *class_dir, const struct nl_class_entry *e);
/** The bytes of file i (read once, kept until close). 0, or a negative code (its reason in f[i].error). */
int nl_subfiles_read(struct nl_subfiles *s, size_t i);
void nl_subfiles_close(struct nl_subfiles *s);

#endif
