/*
 * harness.c - the host build's panic hook for the fuzz targets, in place
 * of the test harness's (tests/host/check.c): any panic is a finding.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void host_panic_hook(const char *msg);  /* called by host.c's panic() */

void host_panic_hook(const char *msg)
{
        fprintf(stderr, "fuzz: panic: %s\n", msg);
        abort();
}

void fuzz_fail(const char *fmt, ...)
{
        va_list ap;

        fputs("fuzz: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}
