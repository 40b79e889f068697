/*
 * proc_maps.c - /proc/self/maps shows areas split by partial munmap and
 * mprotect exactly as Linux prints them, and /proc/meminfo has Linux's
 * MemTotal/MemFree lines (CONCEPTS A5, E21).
 */
#include "utest.h"

/* The maps line for the area starting at addr, copied into line. */
static int maps_line(void *addr, char *line, size_t size)
{
        char want[32], buf[512];
        FILE *f = fopen("/proc/self/maps", "r");
        int found = 0;

        snprintf(want, sizeof want, "%08lx-", (unsigned long)addr);
        while (f && !found && fgets(buf, sizeof buf, f)) {
                if (strncmp(buf, want, strlen(want)) == 0) {
                        snprintf(line, size, "%s", buf);
                        found = 1;
                }
        }
        if (f)
                fclose(f);
        return found;
}

static void splits(void)
{
        uint8_t *p = mmap((void *)0x250000000UL, 4 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        char line[512], want[256];

        if (!CHECK("map_four_pages", p == (void *)0x250000000UL))
                return;
        snprintf(want, sizeof want, "%08lx-%08lx rw-p 00000000 00:00 0 \n",
                 (unsigned long)p, (unsigned long)(p + 4 * PAGE));
        CHECK("one_line_for_one_area", maps_line(p, line, sizeof line) &&
              strcmp(line, want) == 0);
        munmap(p + PAGE, PAGE);
        mprotect(p + 2 * PAGE, PAGE, PROT_READ);
        snprintf(want, sizeof want, "%08lx-%08lx rw-p 00000000 00:00 0 \n",
                 (unsigned long)p, (unsigned long)(p + PAGE));
        CHECK("munmap_split_left_part", maps_line(p, line, sizeof line) &&
              strcmp(line, want) == 0);
        snprintf(want, sizeof want, "%08lx-%08lx r--p 00000000 00:00 0 \n",
                 (unsigned long)(p + 2 * PAGE), (unsigned long)(p + 3 * PAGE));
        CHECK("mprotect_split_middle_part", maps_line(p + 2 * PAGE, line, sizeof line) &&
              strcmp(line, want) == 0);
        snprintf(want, sizeof want, "%08lx-%08lx rw-p 00000000 00:00 0 \n",
                 (unsigned long)(p + 3 * PAGE), (unsigned long)(p + 4 * PAGE));
        CHECK("mprotect_split_right_part", maps_line(p + 3 * PAGE, line, sizeof line) &&
              strcmp(line, want) == 0);
        CHECK("hole_has_no_line", !maps_line(p + PAGE, line, sizeof line));
        mprotect(p + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE);
        snprintf(want, sizeof want, "%08lx-%08lx rw-p 00000000 00:00 0 \n",
                 (unsigned long)(p + 2 * PAGE), (unsigned long)(p + 4 * PAGE));
        CHECK("equal_neighbours_merge_again", maps_line(p + 2 * PAGE, line, sizeof line) &&
              strcmp(line, want) == 0);
        munmap(p, 4 * PAGE);
}

static void stack_line(void)
{
        char buf[512];
        int found = 0;
        FILE *f = fopen("/proc/self/maps", "r");

        while (f && fgets(buf, sizeof buf, f))
                if (strstr(buf, "[stack]") && strlen(buf) > 73 &&
                    strcmp(buf + 73, "[stack]\n") == 0 && strstr(buf, " rw-p "))
                        found = 1;
        if (f)
                fclose(f);
        CHECK("stack_named_at_column_73", found);
}

static void meminfo(void)
{
        FILE *f = fopen("/proc/meminfo", "r");
        unsigned long total = 0, freemem = 0;
        char line[256];

        if (!CHECK("meminfo_opens", f != NULL))
                return;
        while (fgets(line, sizeof line, f)) {
                sscanf(line, "MemTotal: %lu kB", &total);
                sscanf(line, "MemFree: %lu kB", &freemem);
        }
        fclose(f);
        CHECK("meminfo_total_and_free", total > 0 && freemem > 0 && freemem <= total);
}

/* The area keeps the protection the user asked for: PROT_WRITE alone shows
 * as -w- and PROT_EXEC alone as --x, even though x86 cannot map a page it
 * will not also let you read (and Linux lets you read it). */
static void user_protection_kept(void)
{
        volatile uint8_t *p = mmap((void *)0x260000000UL, 2 * PAGE, PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS |
                                   MAP_FIXED_NOREPLACE, -1, 0);
        char line[512], want[256];

        if (!CHECK("map_write_only", p == (void *)0x260000000UL))
                return;
        snprintf(want, sizeof want, "%08lx-%08lx -w-p 00000000 00:00 0 \n",
                 (unsigned long)p, (unsigned long)(p + 2 * PAGE));
        CHECK("write_only_shows_-w-", maps_line((void *)p, line, sizeof line) &&
              strcmp(line, want) == 0);
        p[0] = 42;
        CHECK("write_only_is_readable_on_x86", p[0] == 42 && p[PAGE] == 0);
        mprotect((void *)p, PAGE, PROT_EXEC);
        snprintf(want, sizeof want, "%08lx-%08lx --xp 00000000 00:00 0 \n",
                 (unsigned long)p, (unsigned long)(p + PAGE));
        CHECK("exec_only_shows_--x", maps_line((void *)p, line, sizeof line) &&
              strcmp(line, want) == 0);
        CHECK("exec_only_is_readable_on_x86", p[0] == 42);
        mprotect((void *)p, PAGE, PROT_WRITE);
        snprintf(want, sizeof want, "%08lx-%08lx -w-p 00000000 00:00 0 \n",
                 (unsigned long)p, (unsigned long)(p + 2 * PAGE));
        CHECK("write_only_again_merges", maps_line((void *)p, line, sizeof line) &&
              strcmp(line, want) == 0);
        munmap((void *)p, 2 * PAGE);
}

int main(void)
{
        utest_start("proc_maps");
        splits();
        user_protection_kept();
        stack_line();
        meminfo();
        return utest_done();
}
