/*
 * vmview.c - the picture feed /proc/vmview (docs/design.md, "The picture
 * feed"): well-formed JSON of the version this test knows; every area of
 * this process as /proc/self/smaps lists it, with as many resident pages
 * as smaps' Rss; a known mapping (7 of 10 pages touched) drawn as its
 * runs; after fork both processes' copies shared copy-on-write with a
 * reference count of 2, and after the child writes 2 pages those two
 * private in each; the physical runs covering every frame, their free
 * frames what the zones and /proc/meminfo count; a process with two
 * threads listed once, with its thread count; pages under huge
 * translations as smaps' AnonHugePages counts them.
 *
 * Linux has no /proc/vmview: there (a /proc/version without "mercator")
 * the test checks only that the file is absent (ENOENT). The feed is
 * Mercator's own; its numbers are held against Linux-format files
 * (smaps, meminfo) that the user tier already checks against Linux.
 */
#include "utest.h"
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>

#define FEED_MAX        (4 << 20)
static char feed[FEED_MAX];
static char text[1 << 17];

static long slurp(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY);
        long n = 0, r;

        if (fd < 0)
                return -1;
        while ((r = read(fd, buf + n, size - 1 - n)) > 0)
                n += r;
        close(fd);
        buf[n] = 0;
        return n;
}

/* ---- a minimal JSON checker: is the text one well-formed value? ------- */

static const char *ws(const char *p)
{
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
                p++;
        return p;
}

static const char *value(const char *p, int depth);

static const char *string(const char *p)
{
        if (*p++ != '"')
                return NULL;
        for (; *p && *p != '"'; p++) {
                if ((unsigned char)*p < 0x20)
                        return NULL;
                if (*p == '\\' && !*++p)
                        return NULL;
        }
        return *p == '"' ? p + 1 : NULL;
}

static const char *value(const char *p, int depth)
{
        p = ws(p);
        if (depth > 16)
                return NULL;
        if (*p == '{' || *p == '[') {
                char close = *p == '{' ? '}' : ']';
                p = ws(p + 1);
                if (*p == close)
                        return p + 1;
                for (;;) {
                        if (close == '}') {
                                p = string(ws(p));
                                if (!p || *(p = ws(p)) != ':')
                                        return NULL;
                                p++;
                        }
                        p = value(p, depth + 1);
                        if (!p)
                                return NULL;
                        p = ws(p);
                        if (*p == close)
                                return p + 1;
                        if (*p++ != ',')
                                return NULL;
                }
        }
        if (*p == '"')
                return string(p);
        if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
                return p + 4;
        if (!strncmp(p, "false", 5))
                return p + 5;
        if (*p == '-' || isdigit((unsigned char)*p)) {
                char *end;
                strtod(p, &end);
                return end;
        }
        return NULL;
}

/* ---- reading fields ----------------------------------------------------- */

/* The number (or "0x..." string) after "key": at or after p, before end. */
static long num(const char *p, const char *end, const char *key)
{
        char want[64];
        snprintf(want, sizeof want, "\"%s\":", key);
        const char *q = strstr(p, want);
        if (!q || (end && q >= end))
                return -1;
        q += strlen(want);
        if (*q == '"')
                return (long)strtoul(q + 1, NULL, 16);
        return strtol(q, NULL, 10);
}

/* This process's object in the feed: [*from, *to). */
static int find_proc(const char *f, int pid, const char **from,
                     const char **to)
{
        char want[32];
        snprintf(want, sizeof want, "{\"pid\":%d,", pid);
        *from = strstr(f, want);
        if (!*from)
                return 0;
        *to = strstr(*from + 1, "{\"pid\":");
        if (!*to)
                *to = strstr(*from, "\"frame_map\"");
        return *to != NULL;
}

/* The area starting at va inside [from, to), or NULL. */
static const char *find_area(const char *from, const char *to,
                             unsigned long va)
{
        char want[64];
        snprintf(want, sizeof want, "{\"start\":\"%#lx\"", va);
        const char *a = strstr(from, want);
        return a && a < to ? a : NULL;
}

/* Pages of the area at a in state st (all states: NULL), and their
 * refcount if one is given. */
static long pages_in(const char *a, const char *st, int refcount)
{
        const char *r = strstr(a, "\"runs\":[");
        const char *end = strstr(a, "],\"resident\"");
        long n = 0;

        if (!r || !end)
                return -1;
        for (r += 8; r < end && *r == '['; ) {
                long first, count;
                char state[16];
                int mapped, ref;
                unsigned long pfn;
                if (sscanf(r, "[%ld,%ld,\"%15[a-z_]\",%d,%d,%lu]", &first,
                           &count, state, &mapped, &ref, &pfn) != 6)
                        return -1;
                if ((!st || !strcmp(st, state)) &&
                    (refcount < 0 || ref == refcount))
                        n += count;
                r = strchr(r, ']') + 1;
                if (*r == ',')
                        r++;
        }
        return n;
}

static long feed_read(void)
{
        long n = slurp("/proc/vmview", feed, sizeof feed);
        const char *end = n > 0 ? value(feed, 0) : NULL;

        CHECK("feed_is_json", end && *ws(end) == 0);
        CHECK("feed_version_1", num(feed, NULL, "vmview") == 1);
        return n;
}

/* Every area of smaps in the feed's process pid with the same Rss. */
static void against_smaps(void)
{
        const char *from, *to, *line = text;
        int areas = 0, agree = 0;

        if (!CHECK("self_in_feed", find_proc(feed, getpid(), &from, &to)))
                return;
        while ((line = strchr(line, '\n') ? line : NULL) && *line) {
                unsigned long s, e;
                if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
                        const char *rss = strstr(line, "\nRss:");
                        long kb = rss ? strtol(rss + 5, NULL, 10) : -1;
                        const char *a = find_area(from, to, s);
                        areas++;
                        if (a && (unsigned long)num(a, to, "end") == e &&
                            num(a, to, "resident") * 4 == kb &&
                            pages_in(a, NULL, -1) == (long)((e - s) / PAGE))
                                agree++;
                        else
                                printf("  area %lx-%lx: smaps Rss %ld kB, "
                                       "feed %.300s\n", s, e, kb,
                                       a ? a : "missing");
                }
                line = strchr(line, '\n');
                line = line ? line + 1 : NULL;
                if (!line)
                        break;
        }
        const char *p = from;
        int feed_areas = 0;
        while ((p = strstr(p, "{\"start\":")) && p < to)
                feed_areas++, p++;
        CHECK("areas_as_smaps", areas > 3 && feed_areas == areas);
        CHECK("rss_as_smaps", areas > 3 && agree == areas);
}

/* Huge pages: an aligned stretch of MADV_HUGEPAGE memory written a byte
 * per page; the pages the feed lists under huge translations ("huge") of
 * that area are smaps' AnonHugePages of it, and there are some. */
static void huge_check(void)
{
        const unsigned long huge = 4UL << 20;   /* the largest: i386's */
        uint8_t *raw = anon(3 * huge, PROT_READ | PROT_WRITE);
        uint8_t *h = (uint8_t *)(((uintptr_t)raw + huge - 1) &
                                 ~(uintptr_t)(huge - 1));
        const char *from, *to, *a, *line, *next;
        long kb = -1, pages = 0;

        if (!CHECK("huge_madvise", madvise(raw, 3 * huge, MADV_HUGEPAGE) == 0))
                return;
        for (unsigned long i = 0; i < 2 * huge; i += PAGE)
                h[i] = 1;
        slurp("/proc/vmview", feed, sizeof feed);
        slurp("/proc/self/smaps", text, sizeof text);
        char want[32];
        snprintf(want, sizeof want, "%lx-", (unsigned long)raw);
        line = strstr(text, want);
        next = line ? strstr(line + 1, "\nVmFlags:") : NULL;
        const char *ah = line ? strstr(line, "\nAnonHugePages:") : NULL;
        if (ah && (!next || ah < next))
                kb = strtol(ah + 15, NULL, 10);
        if (find_proc(feed, getpid(), &from, &to) &&
            (a = find_area(from, to, (unsigned long)raw))) {
                const char *r = strstr(a, "\"huge\":[");
                const char *end = r ? strstr(r, "]}") : NULL;
                for (r = r ? r + 8 : NULL; r && r < end && *r == '['; ) {
                        long first, n;
                        if (sscanf(r, "[%ld,%ld]", &first, &n) != 2)
                                break;
                        pages += n;
                        r = strchr(r, ']') + 1;
                        if (*r == ',')
                                r++;
                }
                if (!r || r != end)
                        pages = -1;
        } else {
                pages = -1;
        }
        if (!CHECK("huge_as_smaps", kb > 0 && pages * 4 == kb))
                printf("  AnonHugePages %ld kB, feed %ld huge pages\n", kb,
                       pages);
        munmap(raw, 3 * huge);
}

/* The physical runs: every frame once, the free ones as counted. */
static void frames_check(void)
{
        const char *r = strstr(feed, "\"frames\":[");
        long total = 0, free_runs = 0, zone_free = 0, runs = 0;
        int order_ok = 1;

        if (!CHECK("frames_present", r))
                return;
        for (r += 10; *r == '['; runs++) {
                long pfn, n;
                char owner[24];
                int zone, order;
                if (sscanf(r, "[%ld,%ld,\"%23[a-z_]\",%d,%d]", &pfn, &n, owner,
                           &zone, &order) != 5)
                        break;
                total += n;
                if (!strcmp(owner, "free")) {
                        free_runs += n;
                        order_ok &= n % (1L << order) == 0;
                }
                r = strchr(r, ']') + 1;
                if (*r == ',')
                        r++;
        }
        for (const char *z = strstr(feed, "\"zones\":["); z &&
             (z = strstr(z, "\"free\":")) && z < strstr(feed, "\"processes\"");
             z++)
                zone_free += strtol(z + 7, NULL, 10);
        CHECK("frames_cover_ram", runs > 3 && total == num(feed, NULL,
                                                           "frames_total"));
        CHECK("free_runs_as_counted", free_runs == num(feed, NULL, "free_pages"));
        CHECK("free_runs_as_zones", free_runs == zone_free);
        CHECK("free_runs_whole_blocks", order_ok);
        CHECK("frames_not_truncated", strstr(feed, "\"truncated\":false"));
}

static void meminfo_check(void)
{
        long total = -1, free = -1;
        const char *p;

        slurp("/proc/meminfo", text, sizeof text);
        if ((p = strstr(text, "MemTotal:")))
                total = strtol(p + 9, NULL, 10);
        if ((p = strstr(text, "MemFree:")))
                free = strtol(p + 8, NULL, 10);
        CHECK("memtotal_as_meminfo", total == num(feed, NULL, "managed_pages") * 4);
        /* The feed held its buffer and frame map (self_pages) when it
         * counted; meminfo's own buffer and a table or slab page may come
         * and go between the two. */
        long gap = free / 4 - (num(feed, NULL, "free_pages") +
                               num(feed, NULL, "self_pages"));
        if (gap < -8 || gap > 8)
                printf("  meminfo MemFree %ld kB, feed free %ld + own %ld "
                       "pages\n", free, num(feed, NULL, "free_pages"),
                       num(feed, NULL, "self_pages"));
        CHECK("memfree_as_meminfo", gap >= -8 && gap <= 8);
}

static void *thread_wait(void *fd)
{
        char c;
        read((int)(long)fd, &c, 1);
        return NULL;
}

int main(void)
{
        char version[256];
        uint8_t *m;
        int to_child[2], to_parent[2];
        char c = 0;

        utest_start("vmview");
        memset(feed, 1, sizeof feed);           /* no faults while reading */
        memset(text, 1, sizeof text);
        if (slurp("/proc/version", version, sizeof version) < 0 ||
            !strstr(version, "mercator")) {
                CHECK_ERR("linux_has_no_feed", open("/proc/vmview", O_RDONLY),
                          ENOENT);
                return utest_done();
        }

        m = anon(10 * PAGE, PROT_READ | PROT_WRITE);
        for (int i = 0; i < 7; i++)
                m[i * PAGE] = 1;
        /* Twice: the first time, unchecked and unseen, faults in the code
         * and stack pages that reading and parsing use, so that the
         * feed's snapshot and smaps' come from the same address space. */
        for (int pass = 0; pass < 2; pass++) {
                int out = dup(1), null = open("/dev/null", O_WRONLY);
                if (pass == 0)
                        dup2(null, 1);
                feed_read();
                slurp("/proc/self/smaps", text, sizeof text);
                against_smaps();
                frames_check();
                meminfo_check();
                dup2(out, 1);
                close(out);
                close(null);
                if (pass == 0)
                        utest_failures = 0;
        }

        huge_check();
        const char *from, *to, *a;
        if (find_proc(feed, getpid(), &from, &to) &&
            (a = find_area(from, to, (unsigned long)m))) {
                CHECK("touched_private", pages_in(a, "private", -1) == 7);
                CHECK("untouched_not_present",
                      pages_in(a, "not_present", -1) == 3);
                const char *k = strstr(a, "\"kind\":\"anon\"");
                CHECK("kind_anon", k && k < strstr(a, "\"runs\""));
        } else {
                CHECK("known_area_in_feed", 0);
        }
        const char *lv = strstr(from, "\"levels\":[");
        CHECK("page_tables_listed", strstr(from, "\"page_tables\"") < to &&
                                    lv && lv < to &&
                                    num(lv, to, "tables") == 1 &&
                                    strstr(from, "\"tables\":[[4,") < to);

        if (pipe(to_child) || pipe(to_parent))
                return 2;
        pid_t pid = fork();
        if (pid == 0) {
                read(to_child[0], &c, 1);
                m[0] = 2;
                m[PAGE] = 2;
                write(to_parent[1], &c, 1);
                read(to_child[0], &c, 1);
                _exit(0);
        }
        feed_read();
        const char *cf, *ct, *ca;
        if (find_proc(feed, getpid(), &from, &to) &&
            (a = find_area(from, to, (unsigned long)m)) &&
            find_proc(feed, pid, &cf, &ct) &&
            (ca = find_area(cf, ct, (unsigned long)m))) {
                CHECK("fork_parent_cow", pages_in(a, "cow", 2) == 7);
                CHECK("fork_child_cow", pages_in(ca, "cow", 2) == 7);
                CHECK("fork_child_ppid", num(cf, ct, "ppid") == getpid());
        } else {
                CHECK("fork_both_in_feed", 0);
        }
        write(to_child[1], &c, 1);
        read(to_parent[0], &c, 1);
        feed_read();
        if (find_proc(feed, getpid(), &from, &to) &&
            (a = find_area(from, to, (unsigned long)m)) &&
            find_proc(feed, pid, &cf, &ct) &&
            (ca = find_area(cf, ct, (unsigned long)m))) {
                CHECK("written_parent", pages_in(a, "cow", 2) == 5 &&
                                        pages_in(a, "private", -1) == 2);
                CHECK("written_child", pages_in(ca, "cow", 2) == 5 &&
                                       pages_in(ca, "private", -1) == 2);
        } else {
                CHECK("written_both_in_feed", 0);
        }
        write(to_child[1], &c, 1);
        waitpid(pid, NULL, 0);

        /* A process with two threads is one entry, with its count. */
        pthread_t th;
        if (pipe(to_child) == 0 &&
            pthread_create(&th, NULL, thread_wait, (void *)(long)to_child[0])
            == 0) {
                char want[48];
                feed_read();
                snprintf(want, sizeof want, "{\"pid\":%d,", getpid());
                const char *first = strstr(feed, want);
                CHECK("threads_one_entry", first && !strstr(first + 1, want));
                CHECK("threads_counted", first &&
                      num(first, NULL, "threads") == 2);
                write(to_child[1], &c, 1);
                pthread_join(th, NULL);
        } else {
                CHECK("thread_started", 0);
        }

        /* A label written asks for a snapshot on the feed port. */
        int fd = open("/proc/vmview", O_WRONLY);
        CHECK("label_write", fd >= 0 && write(fd, "test", 4) == 4);
        close(fd);
        return utest_done();
}
