/*
 * nl_pdf.h - printing an HTML file to PDF with headless Chromium and leaving
 * nothing behind: Chromium's profile folder ($TMPDIR/netlab-pdf-<pid>) is removed
 * after the print, and the folders of earlier runs that were killed (no process
 * has their pid any more) are removed before it; the PDF is printed to a hidden
 * name beside it and renamed into place, so an existing FIFO or device is never
 * replaced; a Chromium that has not finished at the deadline is stopped with its
 * whole process group (SIGTERM, then SIGKILL for whatever ignores it).
 */
#ifndef NL_PDF_H
#define NL_PDF_H

#include "nl_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Remove $TMPDIR/netlab-pdf-<pid> folders (TMPDIR unset: /tmp) whose pid no process has; *removed (may be NULL) counts them. */
NL_API int nl_pdf_clean_stale(int *removed, char *errbuf);

/**
 * Print html (a file path) to pdf with the Chromium at chrome, at most timeout_s seconds.
 * Returns 0; NL_EINVAL when pdf exists and is not a regular file; NL_ELIMIT when Chromium
 * did not finish in time (it and its process group are stopped); NL_ESYS when it failed
 * (errbuf holds the end of its output).
 */
NL_API int nl_pdf_print(const char *chrome, const char *html, const char *pdf, double timeout_s, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
