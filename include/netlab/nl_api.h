/*
 * nl_api.h - NL_API marks the functions of libnetlab's public API. libnetlab
 * is built with -fvisibility=hidden, so only what a header under include/
 * declares with NL_API is exported from libnetlab.so; everything else (the
 * internal helpers shared between its C files) stays inside the library.
 * scripts/test-c-library.sh checks the exported symbols against the headers.
 */
#ifndef NL_API_H
#define NL_API_H

#if defined(__GNUC__) || defined(__clang__)
#define NL_API __attribute__((visibility("default")))
#else
#define NL_API
#endif

#endif
