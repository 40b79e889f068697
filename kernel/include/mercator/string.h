/*
 * string.h - the C string functions the kernel has.
 *
 * The kernel gets them from kernel/lib/string.c; the host build from libc
 * (so the sanitizers see every copy). Same prototypes and the same
 * contracts as ISO C's: memcpy's ranges must not overlap (memmove's may),
 * the str* functions need NUL-terminated arguments, memset returns dst.
 */
#ifndef MERCATOR_STRING_H
#define MERCATOR_STRING_H

#include <mercator/types.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);

#endif
