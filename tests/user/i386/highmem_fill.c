/*
 * highmem_fill - an i386 process fills 2 GiB of anonymous memory and reads
 * every byte back, in a machine with 3 GiB of RAM: more than the kernel's
 * low memory (about 880 MiB on Mercator, 896 MiB on Linux), so most of
 * the pages must come from HIGHMEM and be zeroed there through a
 * temporary mapping (kmap_atomic). /proc/meminfo's HighTotal and
 * HighFree (Linux's CONFIG_HIGHMEM lines, which Mercator prints as Linux
 * does) show where the pages went. Issue 14's "2 GiB fill" test; it runs
 * in the PAE run of the i386 tier, on the referee and on Mercator.
 */
#include "../utest.h"

#define CHUNK   (64u << 20)
#define NCHUNKS 32                      /* 2 GiB */

/* A line of /proc/meminfo in kB, or -1. */
static long meminfo_kb(const char *field)
{
        char line[128];
        size_t n = strlen(field);
        long kb = -1;
        FILE *f = fopen("/proc/meminfo", "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, field, n) == 0 && line[n] == ':')
                        kb = strtol(line + n + 1, NULL, 10);
        fclose(f);
        return kb;
}

/* The word a given address holds: different in every word and chunk, so
 * that a page mapped twice or swapped with another shows. */
static uint32_t pattern(const uint32_t *p)
{
        uint32_t a = (uint32_t)(uintptr_t)p;

        return a * 2654435761u ^ 0x5a5aa5a5u;
}

int main(void)
{
        uint32_t *chunk[NCHUNKS];
        long high_total, high_free0, high_free1, low_total, free0, free1;
        int mapped = 0, zero = 1, bad = 0;

        utest_start("highmem_fill");
        high_total = meminfo_kb("HighTotal");
        high_free0 = meminfo_kb("HighFree");
        low_total = meminfo_kb("LowTotal");
        free0 = meminfo_kb("MemFree");
        CHECK("meminfo_has_high_lines", high_total > 0 && high_free0 > 0 &&
              low_total > 0 && high_free0 <= high_total);
        /* 3 GiB of RAM: more than 1 GiB of it above low memory */
        CHECK("most_ram_is_high", high_total > 1024 * 1024);

        for (int i = 0; i < NCHUNKS; i++) {
                chunk[i] = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (chunk[i] == MAP_FAILED)
                        break;
                mapped++;
        }
        CHECK("mapped_2_gib", mapped == NCHUNKS);
        /* every page arrives zeroed, then holds its own pattern */
        for (int i = 0; i < mapped; i++) {
                uint32_t *p = chunk[i], *end = p + CHUNK / 4;
                for (; p < end; p += 1024) {            /* a page at a time */
                        if (p[0] != 0 || p[1023] != 0)
                                zero = 0;
                        for (int k = 0; k < 1024; k++)
                                p[k] = pattern(p + k);
                }
        }
        CHECK("pages_arrive_zeroed", zero);
        high_free1 = meminfo_kb("HighFree");
        free1 = meminfo_kb("MemFree");
        for (int i = 0; i < mapped; i++) {
                const uint32_t *p = chunk[i], *end = p + CHUNK / 4;
                for (; p < end; p++)
                        if (*p != pattern(p))
                                bad++;
        }
        CHECK("every_byte_reads_back", mapped == NCHUNKS && bad == 0);
        /* 2 GiB came out of free memory, and whatever low memory could not
         * hold came from high memory: at least 2 GiB - LowTotal */
        CHECK("memfree_fell_by_2_gib", free0 - free1 >= 2 * 1024 * 1024 - 16 * 1024);
        CHECK("most_pages_from_highmem",
              high_free0 - high_free1 >= 2 * 1024 * 1024 - low_total);
        printf("highmem_fill: HighTotal %ld kB, HighFree %ld -> %ld kB, "
               "LowTotal %ld kB, MemFree %ld -> %ld kB\n", high_total,
               high_free0, high_free1, low_total, free0, free1);
        for (int i = 0; i < mapped; i++)
                munmap(chunk[i], CHUNK);
        long high_free2 = meminfo_kb("HighFree");
        printf("highmem_fill: HighFree after munmap %ld kB\n", high_free2);
        /* freed: all of it back, but for what the allocator keeps in its
         * per-CPU lists (Linux) */
        CHECK("highfree_back_after_munmap",
              high_free2 - high_free1 >= (high_free0 - high_free1) * 9 / 10);
        return utest_failures != 0;
}
