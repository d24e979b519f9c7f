/*
 * nl_proc_int.h - what the lab half's own files use of nl_proc.c beyond its public API:
 * running a program for clean-up, which a stop request must not cut short.
 */
#ifndef NL_PROC_INT_H
#define NL_PROC_INT_H

#include <stddef.h>

/**
 * As nl_proc_run, but a stop request (nl_signal.h) does not end the program: for clean-up
 * that must finish (removing namespaces, qdiscs, rules). timeout_s still bounds it.
 */
int nl_proc_run_to_end(const char *const argv[], const char *netns, double timeout_s, char *out, size_t outcap,
                       int *status, char *errbuf);

#endif
