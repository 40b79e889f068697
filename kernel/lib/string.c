/*
 * string.c - the C string functions for the freestanding kernel.
 *
 * The compiler may emit calls to memset/memcpy/memmove/memcmp itself, so
 * these must exist under their standard names. The bulk loops use
 * `rep movsq`/`rep stosq` on x86-64; TCG runs those a quadword at a time.
 */
#include <mercator/string.h>

void *memset(void *dst, int c, size_t n)
{
        uint8_t *d = dst;
        uint64_t pattern = 0x0101010101010101ULL * (uint8_t)c;
        size_t words = n / 8;

        __asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern)
                         : "memory");
        for (n %= 8; n; n--)
                *d++ = (uint8_t)c;
        return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;
        size_t words = n / 8;

        __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words)
                         : : "memory");
        for (n %= 8; n; n--)
                *d++ = *s++;
        return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;

        if (d <= s || d >= s + n)
                return memcpy(dst, src, n);
        while (n--)
                d[n] = s[n];
        return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const uint8_t *x = a, *y = b;

        for (size_t i = 0; i < n; i++)
                if (x[i] != y[i])
                        return x[i] - y[i];
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;

        while (s[n])
                n++;
        return n;
}

int strcmp(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
        for (; n; n--, a++, b++) {
                if (*a != *b || !*a)
                        return (uint8_t)*a - (uint8_t)*b;
        }
        return 0;
}

char *strchr(const char *s, int c)
{
        for (;; s++) {
                if (*s == (char)c)
                        return (char *)s;
                if (!*s)
                        return NULL;
        }
}

char *strstr(const char *hay, const char *needle)
{
        size_t n = strlen(needle);

        for (; *hay; hay++)
                if (strncmp(hay, needle, n) == 0)
                        return (char *)hay;
        return n ? NULL : (char *)hay;
}
