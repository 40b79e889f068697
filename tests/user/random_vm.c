/*
 * random_vm.c - seeded random sequences of mmap (anonymous private and
 * shared, private and shared file), munmap, mprotect, mremap (shrink, grow
 * in place, move with MAYMOVE|FIXED, move where the kernel likes and back,
 * duplicate a shared mapping), madvise(DONTNEED), writes, fork and
 * read()/write() system calls with buffers in a fixed window of pages,
 * checked against a model of what Linux does (CONCEPTS E21-E24, E26, E27).
 *
 *   random_vm [SEED [STEPS]] [DATAFILE] [-v]
 *
 * Numbers are the seed, then the number of steps; any other argument is the
 * data file (tools/test.py passes it; else /data.txt or tests/user/data.txt
 * is tried; without one there are no file mappings and no read() checks).
 * -v prints every step. A mismatch names the seed, the step, the operation
 * and the page: rerun with that seed (and -v) to reproduce it.
 *
 * The model, per page of the window: mapped or not and how (kind), prot,
 * the shared object and page offset it shows (shared anonymous memory, the
 * file), its private contents, and a region id: pages with one rid form one
 * contiguous run that certainly lies inside one VMA (mremap needs that;
 * merging only ever makes VMAs larger, so the model never assumes a merge).
 * Shared anonymous objects keep their pages and their size (a shmem file's
 * size: pages past it, reached by mremap growth or duplication, are SIGBUS
 * on Linux), so the same shared page seen through several addresses, or
 * by a child, stays consistent.
 *
 * After each step the pages the step touched and a few random ones are
 * read and compared; every SWEEP_EVERY steps all of them, and whether each
 * page is mapped (madvise(MADV_NORMAL): 0 or ENOMEM). Accesses that must
 * fault (or must not) are tried in a child, which must die with SIGSEGV
 * (SIGBUS past an object's end) or exit normally. The cost is mostly those
 * children: about 0.35 fork+exit+wait per step.
 */
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define NPG             48
#define BASE            0x500000000000UL
#define SWEEP_EVERY     25
#define MAXOBJ          128
#define DEFAULT_SEED    1
#define DEFAULT_STEPS   15000
#define MAX_DETAILS     12      /* mismatch lines printed in all */

enum kind { K_NONE, K_ANON, K_SHM, K_FILE, K_SFILE };
static const char *const kind_name[] = {
        "unmapped", "anon-private", "anon-shared", "file-private", "file-shared"
};

/* What last changed a page's contents (for the reports). */
enum origin { O_NONE, O_MMAP, O_WRITE, O_MREMAP, O_DONTNEED, O_READSYS,
              O_CHILD, O_RESYNC };
static const char *const origin_name[] = {
        "-", "mmap", "write", "mremap", "madvise(DONTNEED)", "read()",
        "a fork child's write", "resync after a mismatch"
};

struct page {
        uint8_t         kind;
        uint8_t         prot;
        uint8_t         priv;           /* K_FILE: has its own copy (data) */
        uint8_t         origin;
        int             obj;            /* K_SHM: object */
        long            off;            /* K_SHM, K_FILE, K_SFILE: page index */
        unsigned        rid;            /* region id, see above */
        int             when;           /* step of origin */
        uint8_t         data[PAGE];     /* K_ANON, K_FILE with priv */
};

struct obj {
        int             npages;         /* the shmem size */
        int             refs;           /* model pages showing it */
        uint8_t        *data;
};

static struct page M[NPG];
static struct page T[NPG];              /* scratch for moves */
static struct obj O[MAXOBJ];
static unsigned next_rid = 1;

static uint8_t *filedata;               /* the data file, whole pages */
static long fsize, fpages;
static int datafd = -1;
static int spipe[2];                    /* write() checks go through it */

static unsigned long long seed;
static int step, verbose, stop_run;
static char opdesc[200];
static uint32_t counter;
static uint8_t tmark[NPG];              /* pages to check after this step */

/* ---- checks and their reports --------------------------------------------- */

enum { C_CONTENTS, C_MAPPED, C_CALLS, C_FAULT, C_ALLOWED, C_BUS, C_MUNMAP,
       C_MREMAP, C_DONTNEED, C_FORK, C_SHARED, C_SYSBUF, NCLS };
static const char *const cls_name[NCLS] = {
        "contents_match_model", "mapped_pages_match_model",
        "vm_calls_return_as_modelled", "forbidden_accesses_fault",
        "allowed_accesses_work", "sigbus_past_object_end", "munmap_splits",
        "mremap_keeps_contents", "madvise_dontneed", "fork_isolation",
        "shared_stays_shared", "syscall_buffers"
};
#define B(c)    (1u << (c))
static int cls_fails[NCLS];
static long cls_runs[NCLS];
static char cls_first[NCLS][600];
static int details;

static void ran(unsigned mask)
{
        for (int c = 0; c < NCLS; c++)
                if (mask & B(c))
                        cls_runs[c]++;
}

/* A mismatch of every class in mask, at page (-1: none). */
__attribute__((format(printf, 3, 4)))
static void fail(unsigned mask, int page, const char *fmt, ...)
{
        char why[300], line[600];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        snprintf(line, sizeof line, "seed %llu step %d op %s page %d: %s",
                 seed, step, opdesc, page, why);
        for (int c = 0; c < NCLS; c++)
                if ((mask & B(c)) && cls_fails[c]++ == 0)
                        memcpy(cls_first[c], line, sizeof line);
        if (details++ < MAX_DETAILS)
                printf("MISMATCH %s\n", line);
}

__attribute__((format(printf, 1, 2)))
static void desc(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(opdesc, sizeof opdesc, fmt, ap);
        va_end(ap);
        if (verbose)
                printf("step %d: %s\n", step, opdesc);
}

/* ---- randomness ----------------------------------------------------------- */

static uint64_t rs;

static uint64_t rnd(void)
{
        rs ^= rs >> 12;
        rs ^= rs << 25;
        rs ^= rs >> 27;
        return rs * 2685821657736338717ULL;
}

static int rn(int n)
{
        return n <= 1 ? 0 : (int)(rnd() % (uint64_t)n);
}

/* ---- the window and the model --------------------------------------------- */

/* The address of window page p, hidden from the compiler's bounds
 * reasoning (it is no object the compiler knows). */
static uint8_t *va(long p)
{
        uintptr_t a = BASE + (uintptr_t)p * PAGE;

        __asm__("" : "+r"(a));
        return (uint8_t *)a;
}

static const char *prot_name(int prot)
{
        static const char *const n[] = { "---", "r--", "rw-", "rw-",
                                         "r-x", "r-x", "rwx", "rwx" };
        return n[prot & 7];
}

/* The contents a page must show, or NULL if it has none (unmapped, or
 * past the end of its object: SIGBUS). */
static const uint8_t *expect(const struct page *m)
{
        switch (m->kind) {
        case K_ANON:
                return m->data;
        case K_FILE:
                if (m->priv)
                        return m->data;
                /* fall through */
        case K_SFILE:
                return m->off < fpages ? filedata + m->off * PAGE : NULL;
        case K_SHM:
                return m->off < O[m->obj].npages ? O[m->obj].data + m->off * PAGE
                                                 : NULL;
        }
        return NULL;
}

static int mapped(int p) { return M[p].kind != K_NONE; }
static int unmapped(int p) { return M[p].kind == K_NONE; }
static int rvalid(int p) { return mapped(p) && M[p].prot && expect(&M[p]); }
static int wvalid(int p)
{
        return mapped(p) && (M[p].prot & PROT_WRITE) && expect(&M[p]);
}

static int obj_new(int npages)
{
        for (int i = 0; i < MAXOBJ; i++)
                if (!O[i].data) {
                        O[i].data = calloc((size_t)npages, PAGE);
                        if (!O[i].data) {
                                printf("FAIL random_vm/setup: out of memory\n");
                                exit(2);
                        }
                        O[i].npages = npages;
                        O[i].refs = 0;
                        return i;
                }
        printf("FAIL random_vm/setup: more than %d shared objects\n", MAXOBJ);
        exit(2);
}

static void obj_put(int o)
{
        if (--O[o].refs == 0) {
                free(O[o].data);
                O[o].data = NULL;
        }
}

static void drop(int p)
{
        if (M[p].kind == K_SHM)
                obj_put(M[p].obj);
        M[p].kind = K_NONE;
}

/* Place page description *src at p (p must be dropped already). */
static void place(int p, const struct page *src)
{
        memcpy(&M[p], src, sizeof *src);
        if (M[p].kind == K_SHM)
                O[M[p].obj].refs++;
}

static void origin(int p, int why)
{
        if (M[p].kind == K_SHM) {               /* every alias shows it */
                for (int q = 0; q < NPG; q++)
                        if (M[q].kind == K_SHM && M[q].obj == M[p].obj &&
                            M[q].off == M[p].off)
                                M[q].origin = (uint8_t)why, M[q].when = step;
        } else {
                M[p].origin = (uint8_t)why, M[p].when = step;
        }
}

/* The modelled bytes a write to p changes (p must be wvalid). */
static uint8_t *model_for_write(int p)
{
        struct page *m = &M[p];

        if (m->kind == K_FILE && !m->priv) {
                memcpy(m->data, filedata + m->off * PAGE, PAGE);
                m->priv = 1;                    /* copy on write */
        }
        if (m->kind == K_SHM)
                return O[m->obj].data + m->off * PAGE;
        return m->data;
}

static void pattern(uint8_t *dst, int off, int len, uint32_t c)
{
        for (int i = 0; i < len; i++) {
                unsigned x = (unsigned)(off + i);
                dst[i] = (uint8_t)(c * 37u + x * 7u + (x >> 7) * 11u + (c >> 8));
        }
}

static void model_write(int p, int off, int len, uint32_t c, int why)
{
        pattern(model_for_write(p) + off, off, len, c);
        origin(p, why);
}

static void do_write(int p, int off, int len, uint32_t c, int why)
{
        static uint8_t buf[PAGE];

        pattern(buf, off, len, c);
        memcpy(va(p) + off, buf, (size_t)len);
        model_write(p, off, len, c, why);
}

/* Keep "one rid, one contiguous run": a run whose rid an earlier run has
 * (a VMA cut in two) gets a fresh one. */
static void renumber(void)
{
        unsigned seen[NPG];
        int nseen = 0;

        for (int p = 0; p < NPG; ) {
                if (!mapped(p)) {
                        p++;
                        continue;
                }
                unsigned r = M[p].rid;
                int e = p;
                while (e < NPG && mapped(e) && M[e].rid == r)
                        e++;
                int dup = 0;
                for (int i = 0; i < nseen; i++)
                        dup |= seen[i] == r;
                if (dup) {
                        r = next_rid++;
                        for (int q = p; q < e; q++)
                                M[q].rid = r;
                }
                seen[nseen++] = r;
                p = e;
        }
}

static void run_of(int p, int *s, int *e)
{
        *s = p;
        while (*s > 0 && mapped(*s - 1) && M[*s - 1].rid == M[p].rid)
                (*s)--;
        *e = p + 1;
        while (*e < NPG && mapped(*e) && M[*e].rid == M[p].rid)
                (*e)++;
}

static void mark(int s, int n)
{
        for (int p = s; p < s + n; p++)
                if (p >= 0 && p < NPG)
                        tmark[p] = 1;
}

static int range_free(int s, int n)
{
        for (int p = s; p < s + n; p++)
                if (mapped(p))
                        return 0;
        return 1;
}

static int range_all_mapped(int s, int n)
{
        for (int p = s; p < s + n; p++)
                if (!mapped(p))
                        return 0;
        return 1;
}

static int range_has_file(int s, int n)
{
        for (int p = s; p < s + n; p++)
                if (M[p].kind == K_FILE || M[p].kind == K_SFILE)
                        return 1;
        return 0;
}

/* ---- verification ----------------------------------------------------------- */

/* Does readable page p show what the model says? Classes in extra are
 * charged too. A mismatch is reported once and the model takes the real
 * contents, so one fault is not reported at every later step. */
static int check_page(int p, unsigned extra)
{
        struct page *m = &M[p];
        const uint8_t *e;

        if (p < 0 || p >= NPG || !m->kind || !m->prot || !(e = expect(m)))
                return 1;
        const uint8_t *a = va(p);
        unsigned mask = B(C_CONTENTS) | extra;

        if (m->kind == K_SHM)
                mask |= B(C_SHARED);
        ran(mask);
        if (memcmp(a, e, PAGE) == 0)
                return 1;
        if (m->origin == O_MREMAP)
                mask |= B(C_MREMAP);
        if (m->origin == O_DONTNEED)
                mask |= B(C_DONTNEED);
        if (m->origin == O_READSYS)
                mask |= B(C_SYSBUF);
        if (m->origin == O_CHILD)
                mask |= B(C_FORK);
        int i = 0, n = 0;
        while (a[i] == e[i])
                i++;
        for (int j = 0; j < (int)PAGE; j++)
                n += a[j] != e[j];
        fail(mask, p, "%s page (%s, rid %u, off %ld): byte %d is %#x, model "
             "says %#x (%d bytes differ); contents last set at step %d by %s",
             kind_name[m->kind], prot_name(m->prot), m->rid, m->off, i, a[i],
             e[i], n, m->when, origin_name[m->origin]);
        if (m->kind != K_SFILE) {                /* take the real contents */
                memcpy(model_for_write(p), a, PAGE);
                origin(p, O_RESYNC);
        }
        return 0;
}

/* Is page p mapped, as the model says? madvise(MADV_NORMAL) changes
 * nothing and fails with ENOMEM on a hole. */
static int check_mapped(int p, unsigned extra)
{
        if (p < 0 || p >= NPG)
                return 1;
        errno = 0;
        int r = madvise(va(p), PAGE, MADV_NORMAL);
        int got = r == 0 ? 1 : errno == ENOMEM ? 0 : -1;

        ran(B(C_MAPPED) | extra);
        if (got == mapped(p))
                return 1;
        fail(B(C_MAPPED) | extra, p, "madvise(MADV_NORMAL) says %s (%d, errno "
             "%d), model: %s %s", got == 1 ? "mapped" : "not mapped", r, errno,
             kind_name[M[p].kind], prot_name(M[p].prot));
        stop_run = 1;                   /* the model cannot follow any more */
        return 0;
}

/* A system call returned other than modelled: the real state is unknown,
 * so the run stops after this step. */
static void call_fail(int page, long r, int err, const char *want)
{
        fail(B(C_CALLS), page, "returned %#lx (errno %d %s), model expects %s",
             (unsigned long)r, err, strerror(err), want);
        stop_run = 1;
}

static int check_ret(int page, long r, long want_ok, int want_err)
{
        int err = errno;

        ran(B(C_CALLS));
        if (want_err == 0 && r == want_ok)
                return 1;
        if (want_err && r == -1 && err == want_err)
                return 1;
        char w[64];
        if (want_err)
                snprintf(w, sizeof w, "failure with %s", strerror(want_err));
        else
                snprintf(w, sizeof w, "%#lx", (unsigned long)want_ok);
        call_fail(page, r, err, w);
        return 0;
}

/* mmap/mremap return pointers; MAP_FAILED is -1 as a long here. */
static long L(void *p) { return p == MAP_FAILED ? -1L : (long)(uintptr_t)p; }

enum { ACC_READ, ACC_WRITE, ACC_EXEC };
static const char *const acc_name[] = { "read", "write", "exec" };

/* Access page p in a child: read a byte, write the byte the model says is
 * there (so a write that wrongly goes through changes nothing), or call a
 * `ret` in it. The model says whether the child dies with SIGSEGV, with
 * SIGBUS (a page past the end of its file or shared object), or exits 0.
 *
 * Linux (x86) decides a fault on a page not present by the area's read
 * and write rights only: an instruction fetch from a readable area
 * without PROT_EXEC first faults the page in as a read would, and only a
 * present page then fails the NX check. So exec past the end of an
 * object is SIGBUS even without PROT_EXEC. */
static void fault_test(int p, int acc, unsigned extra)
{
        const struct page *m = &M[p];
        const uint8_t *e = m->kind ? expect(m) : NULL;
        int want, off = rn(PAGE);

        if (!m->kind || !m->prot)
                want = SIGSEGV;
        else if (acc == ACC_EXEC) {
                if (!e)
                        want = SIGBUS;
                else if (!(m->prot & PROT_EXEC))
                        want = SIGSEGV;
                else {
                        const uint8_t *ret = memchr(e, 0xc3, PAGE);
                        if (!ret)
                                return;         /* no `ret` to call */
                        off = (int)(ret - e);
                        want = 0;
                }
        } else if (acc == ACC_WRITE && !(m->prot & PROT_WRITE))
                want = SIGSEGV;                 /* even past the end */
        else if (!e)
                want = SIGBUS;
        else
                want = 0;

        unsigned mask = (want == SIGSEGV ? B(C_FAULT) : want == SIGBUS ? B(C_BUS)
                                                                      : B(C_ALLOWED)) | extra;
        uint8_t byte = e ? e[off] : 0;
        volatile uint8_t *q = va(p) + off;

        ran(mask);
        pid_t pid = fork();
        if (pid == 0) {
                if (acc == ACC_EXEC)
                        ((void (*)(void))(uintptr_t)q)();
                else if (acc == ACC_WRITE)
                        *q = byte;
                else
                        (void)*q;
                _exit(0);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid) {
                fail(mask, p, "fork/waitpid for a %s test failed (errno %d)",
                     acc_name[acc], errno);
                return;
        }
        int got = WIFSIGNALED(st) ? WTERMSIG(st) : WIFEXITED(st) && !WEXITSTATUS(st)
                                                   ? 0 : -1;
        if (got == want)
                return;
        char why[300];
        snprintf(why, sizeof why, "a child's %s at offset %d of a %s %s page %s; "
                 "Linux: %s", acc_name[acc], off, kind_name[m->kind],
                 prot_name(m->prot),
                 got == 0 ? "went through" : got == SIGSEGV ? "died with SIGSEGV"
                 : got == SIGBUS ? "died with SIGBUS" : "ended otherwise",
                 want == 0 ? "allowed" : want == SIGSEGV ? "SIGSEGV" : "SIGBUS");
        fail(mask, p, "%s", why);
}

/* A page whose access would fault, with the access; or a random one. */
static void random_fault_test(void)
{
        int p = rn(NPG), acc = rn(100) < 45 ? ACC_READ : rn(100) < 75 ? ACC_WRITE
                                                                     : ACC_EXEC;

        if (rn(2)) {
                int cand[NPG], n = 0;
                for (int q = 0; q < NPG; q++)
                        if (!mapped(q) || !M[q].prot || !expect(&M[q]) ||
                            (acc == ACC_WRITE && !(M[q].prot & PROT_WRITE)))
                                cand[n++] = q;
                if (n)
                        p = cand[rn(n)];
        }
        fault_test(p, acc, 0);
}

/* ---- operations --------------------------------------------------------------- */

static void pick_range(int *s, int *n)
{
        *s = rn(NPG);
        int max = NPG - *s, lim = rn(4) == 0 ? 16 : 6;
        *n = 1 + rn(max < lim ? max : lim);
}

static int pick(int (*ok)(int))
{
        int cand[NPG], n = 0;

        for (int p = 0; p < NPG; p++)
                if (ok(p))
                        cand[n++] = p;
        return n ? cand[rn(n)] : -1;
}

static int pick_prot(int exec_ok)
{
        int r = rn(100);

        if (r < 12)
                return PROT_NONE;
        if (r < 40)
                return PROT_READ;
        if (r < 96 || !exec_ok)
                return PROT_READ | PROT_WRITE;
        return PROT_READ | PROT_WRITE | PROT_EXEC;
}

enum { MAP_ANON_PRIVATE, MAP_ANON_SHARED, MAP_FILE_PRIVATE, MAP_FILE_SHARED };

static void op_mmap(int which)
{
        int s, n, prot, flags, fd = -1, kind;
        long foff = 0;

        pick_range(&s, &n);
        if (which >= MAP_FILE_PRIVATE && datafd < 0)
                which = which - MAP_FILE_PRIVATE;
        if (which >= MAP_FILE_PRIVATE) {
                n = 1 + rn(fpages + 2);         /* often past the end */
                if (s + n > NPG)
                        s = NPG - n;
                foff = rn(5) == 0;
                fd = datafd;
        }
        switch (which) {
        case MAP_ANON_PRIVATE:
                kind = K_ANON, prot = pick_prot(1);
                flags = MAP_PRIVATE | MAP_ANONYMOUS;
                break;
        case MAP_ANON_SHARED:
                kind = K_SHM, prot = pick_prot(1);
                flags = MAP_SHARED | MAP_ANONYMOUS;
                break;
        case MAP_FILE_PRIVATE:
                kind = K_FILE;
                prot = rn(10) < 5 ? PROT_READ : rn(5) ? PROT_READ | PROT_WRITE : PROT_NONE;
                flags = MAP_PRIVATE;
                break;
        default:
                kind = K_SFILE, prot = rn(5) ? PROT_READ : PROT_NONE;
                flags = MAP_SHARED;
                break;
        }
        int noreplace = rn(4) == 0, ok = !noreplace || range_free(s, n);
        flags |= noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED;
        desc("mmap(p%d, %d pages, %s, %s, %s, file page %ld)", s, n,
             prot_name(prot), kind_name[kind],
             noreplace ? "FIXED_NOREPLACE" : "FIXED", foff);
        errno = 0;
        long r = L(mmap(va(s), (size_t)n * PAGE, prot, flags, fd, foff * (long)PAGE));
        mark(s - 1, n + 2);
        if (!check_ret(s, r, (long)(uintptr_t)va(s), ok ? 0 : EEXIST) || !ok)
                return;
        int o = kind == K_SHM ? obj_new(n) : -1;
        unsigned rid = next_rid++;
        for (int j = 0; j < n; j++) {
                struct page *m = &M[s + j];
                drop(s + j);
                m->kind = (uint8_t)kind;
                m->prot = (uint8_t)prot;
                m->priv = 0;
                m->rid = rid;
                m->obj = o;
                m->off = kind == K_SHM ? j : foff + j;
                if (kind == K_SHM)
                        O[o].refs++;
                if (kind == K_ANON)
                        memset(m->data, 0, PAGE);
                m->origin = O_MMAP, m->when = step;
        }
}

static void op_munmap(void)
{
        int s, n;

        pick_range(&s, &n);
        desc("munmap(p%d, %d pages)", s, n);
        errno = 0;
        long r = munmap(va(s), (size_t)n * PAGE);
        if (!check_ret(s, r, 0, 0))
                return;
        for (int j = 0; j < n; j++)
                drop(s + j);
        /* the pieces either side are intact, the range is a hole */
        ran(B(C_MUNMAP));
        for (int j = 0; j < n; j++)
                check_mapped(s + j, B(C_MUNMAP));
        check_mapped(s - 1, B(C_MUNMAP));
        check_mapped(s + n, B(C_MUNMAP));
        check_page(s - 1, B(C_MUNMAP));
        check_page(s + n, B(C_MUNMAP));
        if (rn(4) == 0)
                fault_test(s + rn(n), ACC_READ, B(C_MUNMAP));
        mark(s - 2, n + 4);
}

static void op_mprotect(void)
{
        int s, n;

        pick_range(&s, &n);
        int prot = pick_prot(!range_has_file(s, n)), want = 0, at = s;
        for (int p = s; p < s + n && !want; p++, at++) {
                if (!mapped(p))
                        want = ENOMEM;
                else if ((prot & PROT_WRITE) && M[p].kind == K_SFILE)
                        want = EACCES;          /* a file opened read-only */
        }
        desc("mprotect(p%d, %d pages, %s)", s, n, prot_name(prot));
        errno = 0;
        long r = mprotect(va(s), (size_t)n * PAGE, prot);
        mark(s - 1, n + 2);
        if (!check_ret(want ? at - 1 : s, r, 0, want))
                return;
        if (!want) {
                /* pages that change leave their VMA: one per old run */
                unsigned last_old = 0, cur = 0;
                for (int p = s; p < s + n; p++) {
                        if (M[p].prot == prot) {
                                last_old = 0;
                                continue;
                        }
                        if (!last_old || M[p].rid != last_old) {
                                last_old = M[p].rid;
                                cur = next_rid++;
                        }
                        M[p].rid = cur;
                        M[p].prot = (uint8_t)prot;
                }
                return;
        }
        /* Linux changed the VMAs before the problem and then failed;
         * Mercator changes nothing. Put back the model's protections so
         * both agree again, and trust no VMA in the range any more. */
        for (int p = s; p < s + n; ) {
                if (!mapped(p)) {
                        p++;
                        continue;
                }
                int e = p;
                while (e < s + n && mapped(e) && M[e].prot == M[p].prot)
                        e++;
                errno = 0;
                r = mprotect(va(p), (size_t)(e - p) * PAGE, M[p].prot);
                if (!check_ret(p, r, 0, 0))
                        return;
                for (int q = p; q < e; q++)
                        if (M[q].prot != prot)
                                M[q].rid = next_rid++;
                p = e;
        }
}

/* Page j of growth after page *last (same area): zeroes, or the next
 * page of its object or file. */
static void grown_page(struct page *d, const struct page *last, int j)
{
        memset(d, 0, offsetof(struct page, data));
        d->kind = last->kind;
        d->prot = last->prot;
        d->obj = last->obj;
        d->off = last->off + j;
        d->rid = last->rid;
        d->origin = O_MREMAP;
        d->when = step;
        if (d->kind == K_ANON)
                memset(d->data, 0, PAGE);
}

/* Two neighbouring pages that surely are not in one VMA. */
static int surely_apart(int x, int y)
{
        const struct page *a = &M[x], *b = &M[y];

        if (!b->kind || a->kind != b->kind || a->prot != b->prot)
                return 1;
        if (a->kind == K_SHM)
                return a->obj != b->obj || b->off != a->off + 1;
        if (a->kind == K_FILE || a->kind == K_SFILE)
                return b->off != a->off + 1;
        return 0;
}

static void remap_shrink(int a, int re)
{
        int new_len = 1 + rn(re - a - 1);       /* re - a >= 2 */
        int old_len = new_len + 1 + rn(re - a - new_len);
        if (rn(4) == 0)                 /* the unmapped tail may go further */
                old_len = new_len + 1 + rn(NPG - a - new_len);
        desc("mremap(p%d, %d -> %d pages) shrink", a, old_len, new_len);
        errno = 0;
        long r = L(mremap(va(a), (size_t)old_len * PAGE, (size_t)new_len * PAGE, 0));
        mark(a - 1, old_len + 2);
        if (!check_ret(a, r, (long)(uintptr_t)va(a), 0))
                return;
        for (int p = a + new_len; p < a + old_len; p++)
                drop(p);
        for (int p = a + new_len; p < a + old_len; p++)
                check_mapped(p, 0);
}

/* T[0, new_len) := the pages of [a, a + old_len) (as many as new_len
 * keeps) and growth after them; T holds a reference on shared objects.
 * The source range is left to the caller. */
static void take(int a, int old_len, int new_len)
{
        int moved = old_len < new_len ? old_len : new_len;
        struct page last;

        memcpy(&last, &M[a + old_len - 1], offsetof(struct page, data));
        for (int j = 0; j < new_len; j++) {
                if (j < moved)
                        memcpy(&T[j], &M[a + j], sizeof T[j]);
                else
                        grown_page(&T[j], &last, j - old_len + 1);
                if (T[j].kind == K_SHM)
                        O[T[j].obj].refs++;
        }
}

/* Put T[0, n) at t (what was there is unmapped), as one new area. */
static void put_back(int t, int n)
{
        unsigned rid = next_rid++;

        for (int j = 0; j < n; j++) {
                drop(t + j);
                T[j].rid = rid;
                place(t + j, &T[j]);
                if (T[j].kind == K_SHM)
                        O[T[j].obj].refs--;             /* T's reference */
                origin(t + j, O_MREMAP);
        }
}

static void remap_move(int a, int re)
{
        int old_len = 1 + rn(re - a);
        int new_len = old_len + rn(5) - 2, t = -1;

        if (new_len < 1)
                new_len = 1;
        for (int tries = 0; tries < 20 && t < 0; tries++) {
                int c = rn(NPG - new_len + 1);
                if (c + new_len <= a || c >= a + old_len)
                        t = c;
        }
        if (t < 0)
                return;
        desc("mremap(p%d, %d pages -> p%d, %d pages) MAYMOVE|FIXED (%s)", a,
             old_len, t, new_len, kind_name[M[a].kind]);
        errno = 0;
        long r = L(mremap(va(a), (size_t)old_len * PAGE, (size_t)new_len * PAGE,
                          MREMAP_MAYMOVE | MREMAP_FIXED, va(t)));
        mark(a - 1, old_len + 2);
        mark(t - 1, new_len + 2);
        if (!check_ret(a, r, (long)(uintptr_t)va(t), 0))
                return;
        take(a, old_len, new_len);
        for (int j = 0; j < old_len; j++)
                drop(a + j);
        put_back(t, new_len);
        for (int j = 0; j < old_len; j++)
                check_mapped(a + j, 0);
        for (int j = 0; j < new_len; j++)
                check_page(t + j, B(C_MREMAP));
}

/* Growth that cannot happen in place, with MAYMOVE: the kernel moves the
 * range where mmap(NULL) would put it (outside the window); check it
 * there, then move it back into the window with MAYMOVE|FIXED. */
static void remap_elsewhere(int a, int old_len, int new_len)
{
        desc("mremap(p%d, %d -> %d pages, MAYMOVE) moves it away (%s)", a,
             old_len, new_len, kind_name[M[a].kind]);
        errno = 0;
        long r = L(mremap(va(a), (size_t)old_len * PAGE, (size_t)new_len * PAGE,
                          MREMAP_MAYMOVE));
        int err = errno;
        mark(a - 1, old_len + 2);
        ran(B(C_CALLS));
        if (r == -1 || (r + new_len * (long)PAGE > (long)BASE &&
                        r < (long)(BASE + NPG * PAGE))) {
                call_fail(a, r, err, "a new place outside the window");
                return;
        }
        take(a, old_len, new_len);
        for (int j = 0; j < old_len; j++)
                drop(a + j);
        for (int j = 0; j < new_len; j++) {
                const uint8_t *e = T[j].prot ? expect(&T[j]) : NULL;
                const uint8_t *got = (const uint8_t *)(uintptr_t)(r + j * (long)PAGE);
                ran(B(C_CONTENTS) | B(C_MREMAP));
                if (e && memcmp(got, e, PAGE))
                        fail(B(C_CONTENTS) | B(C_MREMAP), a + j, "moved to %#lx: "
                             "page %d there differs from the model", r, j);
        }
        int t = rn(NPG - new_len + 1);
        desc("mremap(%#lx, %d pages -> p%d) MAYMOVE|FIXED back", r, new_len, t);
        errno = 0;
        long r2 = L(mremap((void *)(uintptr_t)r, (size_t)new_len * PAGE,
                           (size_t)new_len * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                           va(t)));
        mark(t - 1, new_len + 2);
        if (!check_ret(t, r2, (long)(uintptr_t)va(t), 0)) {
                munmap((void *)(uintptr_t)r, (size_t)new_len * PAGE);
                return;
        }
        put_back(t, new_len);
        for (int j = 0; j < new_len; j++)
                check_page(t + j, B(C_MREMAP));
}

static void remap_grow(int a, int re)
{
        int old_len = rn(3) ? re - a : 1 + rn(re - a);
        int delta = 1 + rn(4);

        if (a + old_len + delta > NPG)
                delta = NPG - a - old_len;
        if (delta < 1)
                return;
        int ok = range_free(a + old_len, delta);
        if (!ok && rn(2)) {
                remap_elsewhere(a, old_len, old_len + delta);
                return;
        }
        desc("mremap(p%d, %d -> %d pages) grow in place (%s)", a, old_len,
             old_len + delta, kind_name[M[a].kind]);
        errno = 0;
        long r = L(mremap(va(a), (size_t)old_len * PAGE,
                          (size_t)(old_len + delta) * PAGE, 0));
        mark(a - 1, old_len + delta + 2);
        if (!check_ret(a, r, (long)(uintptr_t)va(a), ok ? 0 : ENOMEM) || !ok)
                return;
        struct page last;
        memcpy(&last, &M[a + old_len - 1], offsetof(struct page, data));
        for (int j = 0; j < delta; j++) {
                grown_page(&T[0], &last, j + 1);
                place(a + old_len + j, &T[0]);
        }
}

/* old_len 0 on a shared area: the same pages again at t. */
static void remap_dup(int a)
{
        int new_len = 1 + rn(4), t = -1;

        for (int tries = 0; tries < 20 && t < 0; tries++) {
                int c = rn(NPG - new_len + 1);
                if (a < c || a >= c + new_len)
                        t = c;
        }
        if (t < 0)
                return;
        desc("mremap(p%d, 0 -> p%d, %d pages) duplicate (%s)", a, t, new_len,
             kind_name[M[a].kind]);
        errno = 0;
        long r = L(mremap(va(a), 0, (size_t)new_len * PAGE,
                          MREMAP_MAYMOVE | MREMAP_FIXED, va(t)));
        mark(t - 1, new_len + 2);
        if (!check_ret(a, r, (long)(uintptr_t)va(t), 0))
                return;
        unsigned rid = next_rid++;
        struct page src;
        memcpy(&src, &M[a], offsetof(struct page, data));
        src.priv = 0;
        for (int j = 0; j < new_len; j++) {
                grown_page(&T[0], &src, j);
                T[0].rid = rid;
                drop(t + j);
                place(t + j, &T[0]);
        }
        for (int j = 0; j < new_len; j++)
                check_page(t + j, B(C_MREMAP) | B(C_SHARED));
}

/* Calls that must fail and change nothing. */
static void remap_errors(int a, int re)
{
        int v = rn(3);

        if (v == 0) {           /* growing across a VMA's end: EFAULT */
                int q = a + 1;
                while (q < NPG && !surely_apart(q - 1, q))
                        q++;
                if (q < NPG) {
                        int old_len = q - a + 1;
                        desc("mremap(p%d, %d -> %d pages) across a VMA's end", a,
                             old_len, old_len + 1);
                        errno = 0;
                        long r = L(mremap(va(a), (size_t)old_len * PAGE,
                                          (size_t)(old_len + 1) * PAGE, 0));
                        check_ret(a, r, 0, EFAULT);
                        return;
                }
                v = 1;
        }
        if (v == 1) {           /* nothing mapped at old: EFAULT */
                int u = pick(unmapped);
                if (u < 0)
                        return;
                desc("mremap(p%d, 1 -> 2 pages, MAYMOVE) of a hole", u);
                errno = 0;
                long r = L(mremap(va(u), PAGE, 2 * PAGE, MREMAP_MAYMOVE));
                check_ret(u, r, 0, EFAULT);
                return;
        }
        /* overlapping FIXED ranges: EINVAL, checked before anything */
        int old_len = 1 + rn(re - a), new_len = 1 + rn(4);
        int lo = a - new_len + 1, hi = a + old_len - 1;
        if (lo < 0)
                lo = 0;
        if (hi > NPG - new_len)
                hi = NPG - new_len;
        if (hi < lo)
                return;
        int t = lo + rn(hi - lo + 1);
        desc("mremap(p%d, %d pages -> p%d, %d pages) overlapping", a, old_len,
             t, new_len);
        errno = 0;
        long r = L(mremap(va(a), (size_t)old_len * PAGE, (size_t)new_len * PAGE,
                          MREMAP_MAYMOVE | MREMAP_FIXED, va(t)));
        check_ret(a, r, 0, EINVAL);
}

static void op_mremap(void)
{
        int p = pick(mapped), rs, re;

        if (p < 0) {
                op_mmap(MAP_ANON_PRIVATE);
                return;
        }
        run_of(p, &rs, &re);
        int a = rs + rn(re - rs), v = rn(100), k = M[a].kind;

        if (v < 18 && re - a >= 2)
                remap_shrink(a, re);
        else if (v < 42)
                remap_grow(a, re);
        else if (v < 72 || (v < 86 && k != K_SHM && k != K_SFILE))
                remap_move(a, re);
        else if (v < 86)
                remap_dup(a);
        else
                remap_errors(a, re);
}

static void op_dontneed(void)
{
        int s, n;

        pick_range(&s, &n);
        int ok = range_all_mapped(s, n);
        desc("madvise(p%d, %d pages, DONTNEED)", s, n);
        errno = 0;
        long r = madvise(va(s), (size_t)n * PAGE, MADV_DONTNEED);
        mark(s - 1, n + 2);
        if (!check_ret(s, r, 0, ok ? 0 : ENOMEM))
                return;
        /* applied to the mapped parts even over a hole */
        for (int p = s; p < s + n; p++) {
                if (M[p].kind == K_ANON) {
                        memset(M[p].data, 0, PAGE);
                        origin(p, O_DONTNEED);
                } else if (M[p].kind == K_FILE && M[p].priv) {
                        M[p].priv = 0;
                        origin(p, O_DONTNEED);
                }
        }
        for (int p = s; p < s + n; p++)
                check_page(p, B(C_DONTNEED));
}

static void op_write(void)
{
        int p = pick(wvalid);

        if (p < 0) {
                op_mmap(MAP_ANON_PRIVATE);
                return;
        }
        int off = 0, len = PAGE;
        if (rn(10) >= 3) {
                off = rn(PAGE);
                len = 1 + rn((int)PAGE - off < 512 ? (int)PAGE - off : 512);
        }
        desc("write p%d [%d, +%d) (%s %s)", p, off, len, kind_name[M[p].kind],
             prot_name(M[p].prot));
        do_write(p, off, len, ++counter, O_WRITE);
        mark(p, 1);
}

/* read() into the window from the data file, write() from the window into
 * a pipe: EFAULT unless every page of the buffer allows the copy. */
static void op_syscall(void)
{
        int rd = datafd >= 0 && rn(2);
        int (*ok)(int) = rd ? wvalid : rvalid;
        int p = rn(2) ? pick(ok) : rn(NPG);
        int n = rd ? 1 + rn((int)fsize) : 1 + rn(300);

        if (p < 0)
                p = rn(NPG);
        int o = rn((int)PAGE - n + 1), two = 0;
        if (n >= 2 && p + 1 < NPG && rn(4) == 0) {
                o = (int)PAGE - 1 - rn(n - 1);  /* spans p and p + 1 */
                two = 1;
        }
        int good = ok(p) && (!two || ok(p + 1));
        if (ok(p) && two && !good)
                return;         /* a short copy: how short is not defined */
        uint8_t *buf = va(p) + o;
        static uint8_t got[PAGE];
        long r;

        mark(p, 2);
        ran(B(C_SYSBUF));
        if (rd) {
                long foff = rn((int)fsize - n + 1);
                desc("pread(data, p%d+%d, %d, %ld) into %s %s", p, o, n, foff,
                     kind_name[M[p].kind], prot_name(M[p].prot));
                errno = 0;
                if (rn(2))
                        r = pread(datafd, buf, (size_t)n, foff);
                else
                        r = lseek(datafd, foff, SEEK_SET) == foff
                            ? read(datafd, buf, (size_t)n) : -2;
                if (good ? r != n : r != -1 || errno != EFAULT) {
                        fail(B(C_SYSBUF), p, "read() returned %ld (errno %d), "
                             "model: %s", r, errno, good ? "all bytes" : "EFAULT");
                        return;
                }
                if (!good)
                        return;
                for (int i = 0; i < n; i++) {
                        int pg = p + (o + i) / (int)PAGE, at = (o + i) % (int)PAGE;
                        model_for_write(pg)[at] = filedata[foff + i];
                        origin(pg, O_READSYS);
                }
                check_page(p, B(C_SYSBUF));
                if (two)
                        check_page(p + 1, B(C_SYSBUF));
                return;
        }
        desc("write(pipe, p%d+%d, %d) from %s %s", p, o, n, kind_name[M[p].kind],
             prot_name(M[p].prot));
        errno = 0;
        r = write(spipe[1], buf, (size_t)n);
        int err = errno;
        if (r > 0 && read(spipe[0], got, (size_t)r) != r) {
                fail(B(C_SYSBUF), p, "the pipe lost bytes");
                return;
        }
        if (good ? r != n : r != -1 || err != EFAULT) {
                fail(B(C_SYSBUF), p, "write() returned %ld (errno %d), model: %s",
                     r, err, good ? "all bytes" : "EFAULT");
                return;
        }
        for (int i = 0; good && i < n; i++) {
                int pg = p + (o + i) / (int)PAGE, at = (o + i) % (int)PAGE;
                if (got[i] != expect(&M[pg])[at]) {
                        fail(B(C_SYSBUF), pg, "write() sent byte %d as %#x, model "
                             "says %#x", i, got[i], expect(&M[pg])[at]);
                        return;
                }
        }
}

struct wplan { int page, off, len; uint32_t c; };

static int plan_writes(struct wplan *w, int max)
{
        int n = rn(max + 1);

        for (int i = 0; i < n; i++) {
                int p = pick(wvalid);
                if (p < 0)
                        return i;
                w[i].page = p;
                w[i].off = rn(2) ? 0 : rn(PAGE);
                w[i].len = 1 + rn((int)PAGE - w[i].off);
                w[i].c = ++counter;
        }
        return n;
}

/* The child checks pages, writes its own, lets the parent check and
 * write, and checks again: private pages stay each side's own, shared ones
 * show both sides' writes. Exit status: bits of what went wrong. */
static void op_fork(void)
{
        struct wplan cw[4], pw[4];
        int checks[6], nc = 0, c2p[2], p2c[2];

        for (int i = 0; i < 6; i++) {
                int p = pick(rvalid);
                if (p >= 0)
                        checks[nc++] = p;
        }
        int ncw = plan_writes(cw, 4), npw = plan_writes(pw, 4);
        desc("fork (child checks %d pages, writes %d, parent writes %d)", nc,
             ncw, npw);
        if (pipe(c2p) || pipe(p2c)) {
                fail(B(C_FORK), -1, "pipe: errno %d", errno);
                return;
        }
        ran(B(C_FORK));
        pid_t pid = fork();
        if (pid == 0) {
                int bad = 0;
                char ch = 'c';

                close(c2p[0]);
                close(p2c[1]);
                stop_run = 0;
                details = MAX_DETAILS - 3;      /* a few lines at most */
                for (int i = 0; i < nc; i++)
                        if (!check_page(checks[i], 0))
                                bad |= 1;
                for (int i = 0; i < ncw; i++)
                        do_write(cw[i].page, cw[i].off, cw[i].len, cw[i].c, O_CHILD);
                if (write(c2p[1], &ch, 1) != 1 || read(p2c[0], &ch, 1) != 1)
                        _exit(64);
                for (int i = 0; i < npw; i++)
                        if (M[pw[i].page].kind == K_SHM)
                                model_write(pw[i].page, pw[i].off, pw[i].len,
                                            pw[i].c, O_WRITE);
                for (int i = 0; i < ncw; i++)
                        if (!check_page(cw[i].page, 0))
                                bad |= M[cw[i].page].kind == K_SHM ? 4 : 2;
                for (int i = 0; i < npw; i++)
                        if (!check_page(pw[i].page, 0))
                                bad |= M[pw[i].page].kind == K_SHM ? 4 : 2;
                for (int i = 0; i < nc; i++)
                        if (!check_page(checks[i], 0))
                                bad |= 2;
                _exit(bad);
        }
        close(c2p[1]);
        close(p2c[0]);
        if (pid < 0) {
                fail(B(C_FORK), -1, "fork: errno %d", errno);
                close(c2p[0]);
                close(p2c[1]);
                return;
        }
        char ch;
        int synced = read(c2p[0], &ch, 1) == 1;
        if (synced) {
                /* the child's shared writes are ours too, its private ones not */
                for (int i = 0; i < ncw; i++)
                        if (M[cw[i].page].kind == K_SHM)
                                model_write(cw[i].page, cw[i].off, cw[i].len,
                                            cw[i].c, O_CHILD);
                for (int i = 0; i < ncw; i++) {
                        int p = cw[i].page;
                        check_page(p, M[p].kind == K_SHM ? B(C_SHARED) : B(C_FORK));
                }
                for (int i = 0; i < npw; i++)
                        do_write(pw[i].page, pw[i].off, pw[i].len, pw[i].c, O_WRITE);
                ch = 'p';
                synced = write(p2c[1], &ch, 1) == 1;
        }
        close(c2p[0]);
        close(p2c[1]);
        int st = 0;
        if (waitpid(pid, &st, 0) != pid) {
                fail(B(C_FORK), -1, "waitpid: errno %d", errno);
                return;
        }
        if (!synced || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                unsigned mask = B(C_FORK);
                if (code > 0 && code < 64 && (code & 4))
                        mask |= B(C_SHARED);
                if (code > 0 && code < 64 && (code & 1))
                        mask |= B(C_CONTENTS);
                fail(mask, -1, "the child %s %d (1: its pages differed from the "
                     "model at fork, 2: a private page changed under it, 4: a "
                     "shared page missed the parent's write)",
                     WIFSIGNALED(st) ? "was killed by signal" : "exited with",
                     WIFSIGNALED(st) ? WTERMSIG(st) : code);
        }
        for (int i = 0; i < npw; i++)
                mark(pw[i].page, 1);
        for (int i = 0; i < ncw; i++)
                mark(cw[i].page, 1);
}

/* ---- the run ------------------------------------------------------------------ */

static struct {
        const char *name;
        long n;
} stats[] = {
        { "mmap", 0 }, { "munmap", 0 }, { "mprotect", 0 }, { "mremap", 0 },
        { "madvise", 0 }, { "write", 0 }, { "syscall", 0 }, { "fork", 0 },
};

static void one_step(void)
{
        int v = rn(100), k;

        if (v < 11)
                k = 0, op_mmap(MAP_ANON_PRIVATE);
        else if (v < 17)
                k = 0, op_mmap(MAP_ANON_SHARED);
        else if (v < 21)
                k = 0, op_mmap(MAP_FILE_PRIVATE);
        else if (v < 23)
                k = 0, op_mmap(MAP_FILE_SHARED);
        else if (v < 31)
                k = 1, op_munmap();
        else if (v < 43)
                k = 2, op_mprotect();
        else if (v < 57)
                k = 3, op_mremap();
        else if (v < 63)
                k = 4, op_dontneed();
        else if (v < 87)
                k = 5, op_write();
        else if (v < 97)
                k = 6, op_syscall();
        else
                k = 7, op_fork();
        stats[k].n++;
        renumber();
        if (stop_run)
                return;
        for (int i = 0; i < 3; i++)
                tmark[rn(NPG)] = 1;
        for (int p = 0; p < NPG; p++)
                if (tmark[p] || step % SWEEP_EVERY == 0)
                        check_page(p, 0);
        memset(tmark, 0, sizeof tmark);
        if (step % SWEEP_EVERY == 0)
                for (int p = 0; p < NPG && !stop_run; p++)
                        check_mapped(p, 0);
        if (!stop_run && rn(100) < 30)
                random_fault_test();
}

static int is_number(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return 0;
        return 1;
}

static void open_data(const char *path)
{
        const char *tries[] = { path, "/data.txt", "tests/user/data.txt" };
        struct stat sb;

        for (int i = 0; i < 3 && datafd < 0; i++) {
                if (!tries[i])
                        continue;
                int fd = open(tries[i], O_RDONLY);
                if (fd < 0)
                        continue;
                if (fstat(fd, &sb) || sb.st_size <= 0 || sb.st_size > 64 * 1024) {
                        close(fd);
                        continue;
                }
                fsize = sb.st_size;
                fpages = (fsize + (long)PAGE - 1) / (long)PAGE;
                filedata = calloc((size_t)fpages, PAGE);
                if (filedata && pread(fd, filedata, (size_t)fsize, 0) == fsize) {
                        datafd = fd;
                        printf("random_vm: data file %s, %ld bytes\n", tries[i], fsize);
                        return;
                }
                free(filedata);
                filedata = NULL;
                close(fd);
        }
        printf("random_vm: no data file: no file mappings, no read() checks\n");
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
        unsigned long long nums[2] = { DEFAULT_SEED, DEFAULT_STEPS };
        const char *path = NULL;
        int nnum = 0;

        utest_start("random_vm");
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "-v"))
                        verbose = 1;
                else if (is_number(argv[i]) && nnum < 2)
                        nums[nnum++] = strtoull(argv[i], NULL, 10);
                else
                        path = argv[i];
        }
        seed = nums[0];
        int steps = (int)nums[1];
        rs = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
        for (int i = 0; i < 4; i++)
                rnd();
        printf("random_vm: seed %llu, %d steps, window %#lx, %d pages\n", seed,
               steps, BASE, NPG);
        open_data(path);
        if (pipe(spipe)) {
                printf("FAIL random_vm/setup: pipe: %s\n", strerror(errno));
                return 2;
        }
        if (munmap(va(0), NPG * PAGE)) {
                printf("FAIL random_vm/setup: munmap: %s\n", strerror(errno));
                return 2;
        }
        struct rlimit nocore = { 0, 0 };
        setrlimit(RLIMIT_CORE, &nocore);        /* thousands of children die */
        long t0 = now_ms();

        /* step 0: the whole window, private and writable, some pages written */
        desc("mmap(p0, %d pages, rw-, anon-private, FIXED)", NPG);
        long r = L(mmap(va(0), NPG * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
        if (check_ret(0, r, (long)(uintptr_t)va(0), 0)) {
                unsigned rid = next_rid++;
                for (int p = 0; p < NPG; p++) {
                        M[p].kind = K_ANON;
                        M[p].prot = PROT_READ | PROT_WRITE;
                        M[p].rid = rid;
                        M[p].origin = O_MMAP;
                }
                for (int p = 0; p < NPG; p += 2)
                        do_write(p, 0, PAGE, ++counter, O_WRITE);
        }
        for (step = 1; step <= steps && !stop_run; step++) {
                one_step();
                if (step % 2500 == 0)
                        printf("random_vm: step %d\n", step);
        }
        step--;
        if (!stop_run) {
                snprintf(opdesc, sizeof opdesc, "final sweep");
                for (int p = 0; p < NPG; p++)
                        check_page(p, 0), check_mapped(p, 0);
        }
        long ms = now_ms() - t0;
        munmap(va(0), NPG * PAGE);

        printf("random_vm: seed %llu: %d steps in %ld ms;", seed, step, ms);
        for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
                printf(" %s %ld", stats[i].name, stats[i].n);
        printf("\nrandom_vm: checks:");
        for (int c = 0; c < NCLS; c++)
                printf(" %s %ld", cls_name[c], cls_runs[c]);
        printf("\n");
        for (int c = 0; c < NCLS; c++) {
                if (cls_fails[c]) {
                        printf("FAIL random_vm/%s: %d mismatches, first: %s\n",
                               cls_name[c], cls_fails[c], cls_first[c]);
                        utest_failures++;
                } else {
                        printf("PASS random_vm/%s\n", cls_name[c]);
                }
        }
        if (stop_run && !utest_failures) {
                printf("FAIL random_vm/run_completes: stopped at step %d\n", step);
                utest_failures++;
        }
        return utest_done();
}
