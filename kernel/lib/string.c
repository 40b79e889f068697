/*
 * string.c - the C string functions for the freestanding kernel.
 *
 * The compiler may emit calls to memset/memcpy/memmove/memcmp itself, so
 * these must exist under their standard names. The bulk loops move a
 * machine word at a time with `rep movs`/`rep stos` (quadwords on x86-64,
 * doublewords on i386); TCG runs those a word per step. Elsewhere
 * (riscv64) they are plain loops of aligned machine words.
 */
#include <mercator/string.h>

#if defined(__x86_64__)
#define REP_STOS        "rep stosq"
#define REP_MOVS        "rep movsq"
#elif defined(__i386__)
#define REP_STOS        "rep stosl"
#define REP_MOVS        "rep movsl"
#endif
#define WORD            sizeof(unsigned long)

void *memset(void *dst, int c, size_t n)
{
        uint8_t *d = dst;
        unsigned long pattern = (unsigned long)0x0101010101010101ULL * (uint8_t)c;
        size_t words = n / WORD;

#ifdef REP_STOS
        __asm__ volatile(REP_STOS : "+D"(d), "+c"(words) : "a"(pattern)
                         : "memory");
        n %= WORD;
#else
        if ((uintptr_t)d % WORD)
                words = 0;
        n -= words * WORD;
        for (; words; words--, d += WORD)
                *(unsigned long *)(void *)d = pattern;
#endif
        for (; n; n--)
                *d++ = (uint8_t)c;
        return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;
        size_t words = n / WORD;

#ifdef REP_MOVS
        __asm__ volatile(REP_MOVS : "+D"(d), "+S"(s), "+c"(words)
                         : : "memory");
        n %= WORD;
#else
        if (((uintptr_t)d | (uintptr_t)s) % WORD)
                words = 0;
        n -= words * WORD;
        for (; words; words--, d += WORD, s += WORD)
                *(unsigned long *)(void *)d = *(const unsigned long *)(const void *)s;
#endif
        for (; n; n--)
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

void *memchr(const void *s, int c, size_t n)
{
        const uint8_t *p = s;

        for (size_t i = 0; i < n; i++)
                if (p[i] == (uint8_t)c)
                        return (void *)(p + i);
        return NULL;
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
