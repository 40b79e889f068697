/*
 * vmbench.c - the one benchmark `make bench` boots as /init, on Mercator
 * and on a stock Linux, in the same QEMU configuration.
 *
 * It reads what to measure from /bench.conf (one word: main, areas, ram,
 * smp (the figures of several CPUs: tools/bench.py boots it at -smp 1 to
 * 4), swap (page-in and a working set bigger than RAM, booted at -m 128M
 * with a mkswap'd virtio disk), boot, files or threads: the file or
 * thread figures of main alone),
 * prints every figure as a line
 *
 *     @vmbench NAME VALUE [NOTE...]      VALUE is a number, or n/a
 *
 * and powers the machine off. It never invents a number: an operation a
 * kernel refuses (fork returning ENOSYS, say) makes that figure "n/a"
 * with the reason, and the other figures go on. Timed loops print
 * nothing; tools/bench.py reads the lines, takes medians over boots and
 * draws the tables.
 *
 * Figures are per operation, in nanoseconds, each the median of a few
 * rounds within this boot. Big mappings are madvise(MADV_NOHUGEPAGE)d, so
 * Linux's page-fault figures are 4 KiB faults, as Mercator's are
 * (Mercator refuses madvise; that is fine, it has no huge pages).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAGE            4096UL
#define MIB             (1024UL * 1024)
#define MAX_ROUNDS      9
#define ROUND_CAP_NS    3000000000ULL   /* a round stops early after 3 s */

/*
 * The boot-time figure: CLOCK_MONOTONIC read by the program's very first
 * instruction. The link makes vmbench_entry the ELF entry point; it asks
 * the kernel for the time (a raw system call, before the C library's
 * start-up has run) and then jumps to its _start with the registers as
 * the kernel left them, apart from those _start does not read:
 * x86-64 (musl): rax, rcx, rdi, rsi, r11;
 * riscv64 (glibc): a1, a7, t0, and a0, which _start passes to
 * __libc_start_main as rtld_fini and is 0 for a static program, as the
 * kernel left it; i386 (glibc): eax, ebx, ecx, and edx (rtld_fini, 0 as
 * the kernel left it). i386's clock_gettime is the time32 one, which is
 * what glibc's 32-bit struct timespec is.
 */
struct timespec first_insn_ts;
long first_insn_rc = -1;

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl vmbench_entry\n"
        ".type vmbench_entry, @function\n"
        "vmbench_entry:\n"
        "       mov $228, %eax\n"               /* SYS_clock_gettime */
        "       mov $1, %edi\n"                 /* CLOCK_MONOTONIC */
        "       lea first_insn_ts(%rip), %rsi\n"
        "       syscall\n"
        "       mov %rax, first_insn_rc(%rip)\n"
        "       jmp _start\n");
#elif defined(__riscv) && __riscv_xlen == 64
__asm__(".text\n"
        ".globl vmbench_entry\n"
        ".type vmbench_entry, @function\n"
        "vmbench_entry:\n"
        "       .option push\n"
        "       .option norelax\n"              /* gp is not set up yet */
        "       li      a7, 113\n"              /* SYS_clock_gettime */
        "       li      a0, 1\n"                /* CLOCK_MONOTONIC */
        "       lla     a1, first_insn_ts\n"
        "       ecall\n"
        "       lla     t0, first_insn_rc\n"
        "       sd      a0, 0(t0)\n"
        "       li      a0, 0\n"                /* no rtld_fini */
        "       j       _start\n"
        "       .option pop\n");
#elif defined(__i386__)
__asm__(".text\n"
        ".globl vmbench_entry\n"
        ".type vmbench_entry, @function\n"
        "vmbench_entry:\n"
        "       mov $265, %eax\n"              /* SYS_clock_gettime (time32) */
        "       mov $1, %ebx\n"                /* CLOCK_MONOTONIC */
        "       mov $first_insn_ts, %ecx\n"
        "       int $0x80\n"
        "       mov %eax, first_insn_rc\n"
        "       xor %edx, %edx\n"              /* no rtld_fini */
        "       jmp _start\n");
#else
#error "vmbench_entry: no entry for this architecture"
#endif

/* ---- output ------------------------------------------------------------ */

/* One line to the console with write(2): no stdio buffer that a forked
 * child could flush a second time. */
static void say(const char *fmt, ...)
{
        char line[512];
        va_list ap;

        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if (n > (int)sizeof line - 2)
                n = sizeof line - 2;
        line[n++] = '\n';
        for (int off = 0; off < n;) {
                ssize_t w = write(1, line + off, (size_t)(n - off));
                if (w <= 0)
                        return;
                off += (int)w;
        }
}

static const char *errno_name(int e)
{
        switch (e) {
        case ENOSYS: return "ENOSYS";
        case ENOMEM: return "ENOMEM";
        case EINVAL: return "EINVAL";
        case ENOENT: return "ENOENT";
        case EFAULT: return "EFAULT";
        case EPERM:  return "EPERM";
        case EACCES: return "EACCES";
        case ECHILD: return "ECHILD";
        case EAGAIN: return "EAGAIN";
        case ENODEV: return "ENODEV";
        case EBADF:  return "EBADF";
        default:     return "errno";
        }
}

/*
 * What one figure came to: ns per operation, or why there is none.
 * why is a short static string plus the errno of the call that failed.
 */
struct figure {
        double      ns;
        const char *why;        /* NULL: ns is valid */
        int         err;
};

static struct figure fig_ok(double ns) { return (struct figure){ .ns = ns }; }

static struct figure fig_fail(const char *why, int err)
{
        return (struct figure){ .why = why, .err = err };
}

/* The runs behind the last figure rounds_median() made (each round's
 * value, in the order measured), printed after its median so that the
 * spread within one boot stays visible. */
static double last_runs[MAX_ROUNDS];
static int last_nruns;

static void report(const char *name, struct figure f)
{
        char runs[MAX_ROUNDS * 24] = "";
        size_t len = 0;

        for (int i = 0; i < last_nruns && len + 24 < sizeof runs; i++)
                len += (size_t)snprintf(runs + len, sizeof runs - len, "%s%.1f",
                                        i ? "," : " runs=", last_runs[i]);
        last_nruns = 0;
        if (!f.why)
                say("@vmbench %s %.1f%s", name, f.ns, runs);
        else if (f.err)
                say("@vmbench %s n/a %s: %s (%d)", name, f.why,
                    errno_name(f.err), f.err);
        else
                say("@vmbench %s n/a %s", name, f.why);
}

/* ---- clocks and rounds --------------------------------------------------- */

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * A measurement: `rounds` calls of fn, each returning ns per operation
 * for one round (or a failure, which ends the figure). Result: the median.
 */
typedef struct figure (*round_fn)(void *arg);

static struct figure rounds_median(round_fn fn, void *arg, int rounds)
{
        double v[MAX_ROUNDS];

        if (rounds > MAX_ROUNDS)
                rounds = MAX_ROUNDS;
        for (int i = 0; i < rounds; i++) {
                struct figure f = fn(arg);
                if (f.why)
                        return f;
                v[i] = last_runs[i] = f.ns;
        }
        last_nruns = rounds;
        return fig_ok(median(v, rounds));
}

/* A loop stops early when a round has taken ROUND_CAP_NS; checked every
 * `every` operations, so the clock costs nothing measurable. */
static int over_budget(uint64_t t0, long i, long every)
{
        return i % every == every - 1 && now_ns() - t0 > ROUND_CAP_NS;
}

/* ---- memory helpers ------------------------------------------------------ */

/* An anonymous private mapping of len bytes, 4 KiB pages only (see top). */
static char *map_anon(size_t len, int prot)
{
        char *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        madvise(p, len, MADV_NOHUGEPAGE);       /* ENOSYS on Mercator: fine */
        return p;
}

static void touch_pages(char *p, size_t len)
{
        for (size_t off = 0; off < len; off += PAGE)
                p[off] = 1;
}

/* One byte of each page read, none written. */
static void read_pages(const char *p, size_t len)
{
        volatile char sink = 0;

        for (size_t off = 0; off < len; off += PAGE)
                sink += ((const volatile char *)p)[off];
        (void)sink;
}

/* ---- /proc/meminfo and the boot figures ---------------------------------- */

/* The value in kB of "Name:" in /proc/meminfo text, or -1. */
static long meminfo_kb(const char *text, const char *name)
{
        size_t n = strlen(name);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
                if (strncmp(l, name, n) == 0 && l[n] == ':')
                        return strtol(l + n + 1, NULL, 10);
        return -1;
}

/* Reads a whole small file into buf (NUL-terminated). -errno on failure. */
static long read_small_file(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY);
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return -errno;
        while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
                len += (size_t)n;
        buf[len] = '\0';
        close(fd);
        return (long)len;
}

static char meminfo_text[8192];
static long meminfo_err;

/* Boot time, then kernel memory in use as /init starts. */
static void report_boot(void)
{
        if (first_insn_rc == 0)
                say("@vmbench boot_ns %.1f",
                    first_insn_ts.tv_sec * 1e9 + first_insn_ts.tv_nsec);
        else
                report("boot_ns", fig_fail("clock_gettime", (int)-first_insn_rc));

        /* Linux needs proc mounted; Mercator has it always (mount: ENOSYS).
         * Only as init: run by hand on a host, the bench mounts nothing. */
        if (getpid() == 1)
                mount("proc", "/proc", "proc", 0, NULL);
        meminfo_err = read_small_file("/proc/meminfo", meminfo_text,
                                      sizeof meminfo_text);
        long total = meminfo_kb(meminfo_text, "MemTotal");
        long free = meminfo_kb(meminfo_text, "MemFree");
        if (meminfo_err < 0)
                report("kernel_used_kb", fig_fail("/proc/meminfo", (int)-meminfo_err));
        else if (total < 0 || free < 0)
                report("kernel_used_kb", fig_fail("no MemTotal/MemFree", 0));
        else {
                say("@vmbench mem_total_kb %ld", total);
                say("@vmbench kernel_used_kb %ld", total - free);
        }
}

/* ---- Linux's struct page, from the kernel's own BTF ----------------------- */

/*
 * BTF (the kernel's type information, /sys/kernel/btf/vmlinux) names
 * every struct with its size: the size of "struct page" is what Linux
 * spends per 4 KiB page of RAM on descriptors. The format: a header, then
 * a type section of records (btf_type: name_off, info, size_or_type) each
 * followed by kind-specific data, then a string section.
 */
struct btf_header {
        uint16_t magic;
        uint8_t  version, flags;
        uint32_t hdr_len, type_off, type_len, str_off, str_len;
};

struct btf_type { uint32_t name_off, info, size; };

/* Bytes of kind-specific data after a btf_type of this kind and vlen. */
static long btf_extra(unsigned kind, unsigned vlen)
{
        switch (kind) {
        case 1: case 14: case 17: return 4;     /* INT, VAR, DECL_TAG */
        case 3:  return 12;                     /* ARRAY */
        case 4: case 5: return 12L * vlen;      /* STRUCT, UNION: members */
        case 6:  return 8L * vlen;              /* ENUM */
        case 13: return 8L * vlen;              /* FUNC_PROTO: parameters */
        case 15: return 12L * vlen;             /* DATASEC */
        case 19: return 12L * vlen;             /* ENUM64 */
        case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16:
        case 18:        /* PTR FWD TYPEDEF VOLATILE CONST RESTRICT FUNC
                         * FLOAT TYPE_TAG: nothing more */
                return 0;
        default: return -1;
        }
}

/* sizeof(struct page) from BTF data, or -1. */
static long btf_struct_size(const char *data, size_t len, const char *want)
{
        const struct btf_header *h = (const void *)data;

        if (len < sizeof *h || h->magic != 0xeb9f ||
            (size_t)h->hdr_len + h->str_off + h->str_len > len ||
            (size_t)h->hdr_len + h->type_off + h->type_len > len)
                return -1;
        const char *types = data + h->hdr_len + h->type_off;
        const char *strs = data + h->hdr_len + h->str_off;
        for (size_t off = 0; off + sizeof(struct btf_type) <= h->type_len;) {
                const struct btf_type *t = (const void *)(types + off);
                unsigned kind = (t->info >> 24) & 0x1f, vlen = t->info & 0xffff;
                long extra = btf_extra(kind, vlen);
                if (extra < 0)
                        return -1;
                if (kind == 4 && t->name_off < h->str_len &&
                    strcmp(strs + t->name_off, want) == 0)
                        return t->size;
                off += sizeof *t + (size_t)extra;
        }
        return -1;
}

/* Reads a file of unknown size into a fresh mapping; *len its size. */
static char *read_big_file(const char *path, size_t cap, size_t *len)
{
        int fd = open(path, O_RDONLY);
        char *buf;
        ssize_t n;

        *len = 0;
        if (fd < 0)
                return NULL;
        buf = map_anon(cap, PROT_READ | PROT_WRITE);
        while (buf && *len < cap && (n = read(fd, buf + *len, cap - *len)) > 0)
                *len += (size_t)n;
        close(fd);
        return buf;
}

/*
 * Kernel bytes per 4 KiB page of RAM spent on page descriptors.
 * Mercator says it in /proc/meminfo (PageDescriptors, in kB), which is
 * divided by MemTotal's pages; Linux's is sizeof(struct page), read from
 * its BTF. Neither is ever assumed.
 */
static void report_page_descriptors(void)
{
        long desc = meminfo_kb(meminfo_text, "PageDescriptors");
        long total = meminfo_kb(meminfo_text, "MemTotal");
        size_t len, cap = 64 * MIB;

        if (desc >= 0 && total > 0) {
                say("@vmbench page_desc_bytes %.2f meminfo",
                    desc * 1024.0 / (total / 4.0));
                return;
        }
        if (getpid() == 1)
                mount("sysfs", "/sys", "sysfs", 0, NULL);
        char *btf = read_big_file("/sys/kernel/btf/vmlinux", cap, &len);
        long size = btf ? btf_struct_size(btf, len, "page") : -1;
        if (btf)
                munmap(btf, cap);
        if (size > 0)
                say("@vmbench page_desc_bytes %ld btf", size);
        else
                report("page_desc_bytes", fig_fail("neither PageDescriptors "
                       "in /proc/meminfo nor struct page in BTF", 0));
}

/* ---- page faults and munmap ---------------------------------------------- */

struct fault_arg {
        size_t len;             /* bytes mapped and touched per round */
        int    write;           /* write faults, else read faults */
        double munmap_ns[MAX_ROUNDS];   /* per page, one per round */
        int    rounds_done;
};

/* One round: map, touch one byte per page, unmap (timed separately,
 * with one getpgid after it: Mercator's munmap without the big lock
 * leaves the pages for the process's next call under the lock to free,
 * and the figure should hold that work, as Linux's munmap does). */
static struct figure fault_round(void *argp)
{
        struct fault_arg *a = argp;
        size_t pages = a->len / PAGE;
        char *p = map_anon(a->len, PROT_READ | PROT_WRITE);

        if (!p)
                return fig_fail("mmap", errno);
        uint64_t t0 = now_ns();
        if (a->write)
                touch_pages(p, a->len);
        else
                read_pages(p, a->len);
        uint64_t t1 = now_ns();
        if (munmap(p, a->len) != 0)
                return fig_fail("munmap", errno);
        syscall(SYS_getpgid, 0);
        uint64_t t2 = now_ns();
        if (a->rounds_done < MAX_ROUNDS)
                a->munmap_ns[a->rounds_done++] = (double)(t2 - t1) / pages;
        return fig_ok((double)(t1 - t0) / pages);
}

static struct figure fault_figure(size_t len, int write, int rounds,
                                  struct figure *munmap_out)
{
        struct fault_arg a = { .len = len, .write = write };
        struct figure f = rounds_median(fault_round, &a, rounds);

        if (munmap_out)
                *munmap_out = f.why ? f : fig_ok(median(a.munmap_ns, a.rounds_done));
        return f;
}

/* ---- mmap, mprotect, brk, a null system call ------------------------------ */

struct loop_arg { long n; char *region; size_t len; uintptr_t base; };

static struct figure mmap_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 64); i++) {
                void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        return fig_fail("mmap", errno);
                if (munmap(p, PAGE) != 0)
                        return fig_fail("munmap", errno);
        }
        return fig_ok((double)(now_ns() - t0) / i);
}

/* mprotect of a populated region, read-only and back: ns per call. */
static struct figure mprotect_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 64); i++) {
                if (mprotect(a->region, a->len, PROT_READ) != 0 ||
                    mprotect(a->region, a->len, PROT_READ | PROT_WRITE) != 0)
                        return fig_fail("mprotect", errno);
        }
        return fig_ok((double)(now_ns() - t0) / (2.0 * i));
}

/* brk up by len and back down (raw calls: musl's malloc is not involved). */
static struct figure brk_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 64); i++) {
                if ((uintptr_t)syscall(SYS_brk, a->base + a->len) != a->base + a->len)
                        return fig_fail("brk did not grow", 0);
                if ((uintptr_t)syscall(SYS_brk, a->base) != a->base)
                        return fig_fail("brk did not shrink", 0);
        }
        return fig_ok((double)(now_ns() - t0) / i);
}

/* a->base is the call: getppid (Mercator answers it without the big
 * lock) or getpgid(0) (under it: the floor of every other call). */
static struct figure null_call_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 4096); i++)
                if (syscall((long)a->base, 0) < 0)
                        return fig_fail("null system call", errno);
        return fig_ok((double)(now_ns() - t0) / i);
}

static struct figure mmap_figure(long n, int rounds)
{
        struct loop_arg a = { .n = n };

        return rounds_median(mmap_round, &a, rounds);
}

static struct figure mprotect_figure(long n, int rounds)
{
        struct loop_arg a = { .n = n, .len = MIB };

        a.region = map_anon(a.len, PROT_READ | PROT_WRITE);
        if (!a.region)
                return fig_fail("mmap", errno);
        touch_pages(a.region, a.len);
        struct figure f = rounds_median(mprotect_round, &a, rounds);
        munmap(a.region, a.len);
        return f;
}

static struct figure brk_figure(long n, int rounds)
{
        struct loop_arg a = { .n = n, .len = 64 * 1024 };

        a.base = (uintptr_t)syscall(SYS_brk, 0);
        if ((long)a.base <= 0)
                return fig_fail("brk(0)", errno);
        return rounds_median(brk_round, &a, rounds);
}

/* The C library's clock_gettime(CLOCK_MONOTONIC) and gettimeofday: a
 * vDSO call where the kernel offers one (both do now), per call. */
static struct figure clock_round(void *argp)
{
        struct loop_arg *a = argp;
        struct timespec ts;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 4096); i++)
                if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
                        return fig_fail("clock_gettime", errno);
        return fig_ok((double)(now_ns() - t0) / i);
}

static struct figure gettimeofday_round(void *argp)
{
        struct loop_arg *a = argp;
        struct timeval tv;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 4096); i++)
                if (gettimeofday(&tv, NULL) != 0)
                        return fig_fail("gettimeofday", errno);
        return fig_ok((double)(now_ns() - t0) / i);
}

static struct figure null_call_figure(long nr, long n, int rounds)
{
        struct loop_arg a = { .n = n, .base = (uintptr_t)nr };

        return rounds_median(null_call_round, &a, rounds);
}

/* ---- signals -------------------------------------------------------------- */

static volatile long sig_count;
static char *volatile sig_page;

static void on_usr1(int sig)
{
        (void)sig;
        sig_count++;
}

/* A signal round trip: kill(getpid(), SIGUSR1), the handler runs, returns
 * through rt_sigreturn. */
static struct figure signal_round(void *argp)
{
        struct loop_arg *a = argp;
        pid_t self = getpid();
        uint64_t t0 = now_ns();
        long i;

        sig_count = 0;
        for (i = 0; i < a->n && !over_budget(t0, i, 1024); i++)
                if (kill(self, SIGUSR1) != 0)
                        return fig_fail("kill", errno);
        if (sig_count != i)
                return fig_fail("handler did not run each time", 0);
        return fig_ok((double)(now_ns() - t0) / i);
}

static struct figure signal_figure(long n, int rounds)
{
        struct loop_arg a = { .n = n };
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        if (sigaction(SIGUSR1, &sa, NULL) != 0)
                return fig_fail("sigaction", errno);
        struct figure f = rounds_median(signal_round, &a, rounds);
        signal(SIGUSR1, SIG_DFL);
        return f;
}

/* The SIGSEGV handler of a user-handled fault: make the page writable
 * again, so the write runs again and succeeds. */
static void on_segv_fix(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)uc;
        sig_count++;
        if (mprotect((void *)((uintptr_t)si->si_addr & ~(PAGE - 1)), PAGE,
                     PROT_READ | PROT_WRITE) != 0)
                _exit(3);
}

/* A user-handled fault: a PROT_NONE page is written, the handler
 * mprotects it, the write is retried; then the page is protected again
 * for the next round. Per operation: the fault, the signal, the two
 * mprotects and the return. */
static struct figure user_fault_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        sig_count = 0;
        for (i = 0; i < a->n && !over_budget(t0, i, 256); i++) {
                if (mprotect(sig_page, PAGE, PROT_NONE) != 0)
                        return fig_fail("mprotect", errno);
                sig_page[8] = (char)i;
        }
        if (sig_count != i)
                return fig_fail("handler did not run each time", 0);
        return fig_ok((double)(now_ns() - t0) / i);
}

static struct figure user_fault_figure(long n, int rounds)
{
        struct loop_arg a = { .n = n };
        struct sigaction sa, old;

        sig_page = map_anon(PAGE, PROT_READ | PROT_WRITE);
        if (!sig_page)
                return fig_fail("mmap", errno);
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv_fix;
        sa.sa_flags = SA_SIGINFO;
        if (sigaction(SIGSEGV, &sa, &old) != 0)
                return fig_fail("sigaction", errno);
        struct figure f = rounds_median(user_fault_round, &a, rounds);
        sigaction(SIGSEGV, &old, NULL);
        munmap(sig_page, PAGE);
        return f;
}

/* ---- processes ------------------------------------------------------------ */

/* fork as the raw system call: the kernel's cost, not libc's bookkeeping.
 * The children only write memory, write(2), execve and _exit. */
static long raw_fork(void)
{
#ifdef SYS_fork
        return syscall(SYS_fork);
#else
        /* asm-generic (riscv64) has no fork: clone with only SIGCHLD. */
        return syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

/* Waits for pid; 0 if it exited with status 0, else why not. */
static struct figure reap(long pid)
{
        int status = 0;

        if (syscall(SYS_wait4, pid, &status, 0, NULL) != pid)
                return fig_fail("wait4", errno);
        if (status != 0)
                return fig_fail("child did not exit 0", 0);
        return fig_ok(0);
}

enum child_job { CHILD_EXIT, CHILD_WRITE_ALL, CHILD_READ_ALL, CHILD_EXEC };

struct proc_arg {
        long   n;
        enum child_job job;
        char  *region;          /* populated, shared copy-on-write by fork */
        size_t len;
        char *const *argv;      /* CHILD_EXEC: the program; NULL: /bin/true */
        char *const *envp;      /* its environment; NULL: empty */
};

static void child_run(const struct proc_arg *a)
{
        static char *const true_argv[] = { "/bin/true", NULL };
        static char *const envp[] = { NULL };
        char *const *argv = a->argv ? a->argv : true_argv;
        char *const *env = a->envp ? a->envp : envp;

        if (a->job == CHILD_WRITE_ALL)
                touch_pages(a->region, a->len);
        if (a->job == CHILD_READ_ALL)
                read_pages(a->region, a->len);
        if (a->job == CHILD_EXEC)
                execve(argv[0], argv, env);
        _exit(a->job == CHILD_EXEC ? 127 : 0);
}

/* One round of fork + child's job + exit + wait: ns per fork. */
static struct figure fork_round(void *argp)
{
        struct proc_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 1); i++) {
                long pid = raw_fork();
                if (pid < 0)
                        return fig_fail("fork", errno);
                if (pid == 0)
                        child_run(a);
                struct figure f = reap(pid);
                if (f.why)
                        return f;
        }
        return fig_ok((double)(now_ns() - t0) / i);
}

static struct figure fork_figure(struct proc_arg *a, int rounds)
{
        long n = a->n;

        a->n = 1;                       /* one untimed try shows n/a early */
        struct figure f = fork_round(a);
        a->n = n;
        return f.why ? f : rounds_median(fork_round, a, rounds);
}

/*
 * Copy-on-write break: the child writes one byte to each page it shares
 * with its parent, times that itself and sends ns per page over a pipe;
 * the parent stays alive (in wait4) so every page is still shared.
 */
static struct figure cow_round(void *argp)
{
        struct proc_arg *a = argp;
        int fds[2];
        double ns = 0;

        if (pipe(fds) != 0)
                return fig_fail("pipe", errno);
        long pid = raw_fork();
        if (pid < 0) {
                int e = errno;
                close(fds[0]), close(fds[1]);
                return fig_fail("fork", e);
        }
        if (pid == 0) {
                uint64_t t0 = now_ns();
                touch_pages(a->region, a->len);
                ns = (double)(now_ns() - t0) / (a->len / PAGE);
                _exit(write(fds[1], &ns, sizeof ns) == sizeof ns ? 0 : 1);
        }
        close(fds[1]);
        ssize_t got = read(fds[0], &ns, sizeof ns);
        close(fds[0]);
        struct figure f = reap(pid);
        if (f.why)
                return f;
        return got == sizeof ns ? fig_ok(ns) : fig_fail("pipe read", errno);
}

/*
 * The copy-on-write reuse path: fork, the child exits at once, the parent
 * waits, then writes one byte to each page, each a write fault on a page it
 * again holds alone (made writable in place, nothing copied): ns per page.
 */
static struct figure cow_reuse_round(void *argp)
{
        struct proc_arg *a = argp;
        long pid = raw_fork();

        if (pid < 0)
                return fig_fail("fork", errno);
        if (pid == 0)
                _exit(0);
        struct figure f = reap(pid);
        if (f.why)
                return f;
        uint64_t t0 = now_ns();
        touch_pages(a->region, a->len);
        return fig_ok((double)(now_ns() - t0) / (a->len / PAGE));
}

/* ---- transparent huge pages ------------------------------------------------ */

/* The kernel's huge page: 2 MiB on x86-64, riscv64 and i386 with PAE,
 * 4 MiB on 2-level i386 (Mercator's non-PAE kernel), as each kernel says
 * in sysfs (2 MiB if it does not say). */
static size_t huge_size = 2 * MIB;

static void huge_size_init(void)
{
        char buf[32];

        if (getpid() == 1)
                mount("sysfs", "/sys", "sysfs", 0, NULL);  /* EBUSY: it is */
        if (read_small_file("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
                            buf, sizeof buf) > 0 && strtoul(buf, NULL, 10) >= 2 * MIB)
                huge_size = strtoul(buf, NULL, 10);
}

#define HUGE_SIZE       huge_size

/* len bytes of anonymous memory on a huge-page boundary, MADV_HUGEPAGE
 * (both kernels' default policy is then to use huge pages: madvise or
 * always), so that every part of it can be a huge page. */
static char *map_huge(size_t len)
{
        char *p = mmap(NULL, len + HUGE_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *a;

        if (p == MAP_FAILED)
                return NULL;
        a = (char *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
        if (a > p)
                munmap(p, (size_t)(a - p));
        munmap(a + len, (size_t)(p + HUGE_SIZE - a));
        if (madvise(a, len, MADV_HUGEPAGE) != 0) {
                munmap(a, len);
                return NULL;
        }
        return a;
}

/* Fill a fresh huge-page-aligned 64 MiB MADV_HUGEPAGE region, one byte per
 * 4 KiB: ns per 4 KiB filled. */
static struct figure huge_fill_round(void *argp)
{
        size_t len = 64 * MIB;
        char *p = map_huge(len);

        (void)argp;
        if (!p)
                return fig_fail("mmap/madvise(MADV_HUGEPAGE)", errno);
        uint64_t t0 = now_ns();
        touch_pages(p, len);
        uint64_t t1 = now_ns();
        munmap(p, len);
        return fig_ok((double)(t1 - t0) / (len / PAGE));
}

/* Fill a fresh 64 MiB shared anonymous region, one byte per 4 KiB, with
 * shmem_enabled=always (huge_figures sets it on both kernels; both then
 * place the region huge-aligned): ns per 4 KiB filled. A round whose
 * region did not end up in huge pages (meminfo ShmemPmdMapped) fails. */
static struct figure shm_huge_fill_round(void *argp)
{
        size_t len = 64 * MIB;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        char text[8192];
        long pmd;

        (void)argp;
        if (p == MAP_FAILED)
                return fig_fail("mmap(MAP_SHARED|MAP_ANONYMOUS)", errno);
        uint64_t t0 = now_ns();
        touch_pages(p, len);
        uint64_t t1 = now_ns();
        pmd = read_small_file("/proc/meminfo", text, sizeof text) > 0
                      ? meminfo_kb(text, "ShmemPmdMapped") : -1;
        munmap(p, len);
        if (pmd < (long)(len >> 10))
                return fig_fail("no huge pages (ShmemPmdMapped)", 0);
        return fig_ok((double)(t1 - t0) / (len / PAGE));
}

/* The shared-memory fill at shmem_enabled=always, the setting put back
 * after (it is root's: vmbench runs as init on both kernels). */
static struct figure shm_huge_fill_figure(void)
{
        static const char path[] =
                "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
        static const char *const words[] = {
                "[always]", "[within_size]", "[advise]", "[never]",
                "[deny]", "[force]",
        };
        char was[128] = "", *word = NULL;
        struct figure f;
        int fd;

        if (read_small_file(path, was, sizeof was) <= 0)
                return fig_fail("no shmem_enabled", errno);
        for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
                if (strstr(was, words[i]))
                        word = (char *)words[i];
        if ((fd = open(path, O_WRONLY)) < 0 || write(fd, "always", 6) != 6) {
                if (fd >= 0)
                        close(fd);
                return fig_fail("cannot set shmem_enabled", errno);
        }
        close(fd);
        f = rounds_median(shm_huge_fill_round, NULL, 5);
        if (word && (fd = open(path, O_WRONLY)) >= 0) {
                (void)!write(fd, word + 1, strlen(word) - 2);
                close(fd);
        }
        return f;
}

static void huge_figures(void)
{
        huge_size_init();
        report("thp_fill_64m_ns", rounds_median(huge_fill_round, NULL, 5));
        report("shm_thp_fill_64m_ns", shm_huge_fill_figure());

        /* Copy-on-write of a huge-page region: the child writes one byte
         * per 4 KiB of 16 MiB it shares with its parent. */
        struct proc_arg a = { .len = 16 * MIB };
        a.region = map_huge(a.len);
        if (!a.region) {
                report("thp_cow_break_ns", fig_fail("mmap/madvise", errno));
                return;
        }
        touch_pages(a.region, a.len);
        report("thp_cow_break_ns", rounds_median(cow_round, &a, 5));
        /* Two uncounted rounds first, as for cow_reuse_ns below: in
         * results/i386 of session 12 the five counted rounds fell on both
         * kernels from 220-320 ns a page in the first to 95-120 by the
         * fourth (the emulator translating the reuse path, then its TLB
         * settling), so the median was the third round's, still falling. */
        (void)cow_reuse_round(&a);
        (void)cow_reuse_round(&a);
        report("thp_cow_reuse_ns", rounds_median(cow_reuse_round, &a, 5));
        munmap(a.region, a.len);
}

static void process_figures(void)
{
        struct proc_arg a = { .len = 16 * MIB };

        a.region = map_anon(a.len, PROT_READ | PROT_WRITE);
        if (!a.region) {
                report("fork_exit_wait_16m_ns", fig_fail("mmap", errno));
                return;
        }
        touch_pages(a.region, a.len);
        a.job = CHILD_EXIT, a.n = 40;
        report("fork_exit_wait_16m_ns", fork_figure(&a, 5));
        a.job = CHILD_WRITE_ALL, a.n = 4;
        report("fork_write_wait_16m_ns", fork_figure(&a, 5));
        a.job = CHILD_READ_ALL, a.n = 10;
        report("fork_read_wait_16m_ns", fork_figure(&a, 5));
        report("cow_break_ns", rounds_median(cow_round, &a, 5));
        /* Two rounds first, not counted: the first write faults of this
         * kind make QEMU translate the kernel's reuse path (measured on
         * Mercator x86-64 with a QEMU plugin counting translations: 30
         * new blocks during the first round's writes, none later, that
         * round 40-60% slower with the same guest instructions), and the
         * second round still ran 10-25% slow with no translation (cause
         * not shown; the third and later are within 10%). A round is 1.2
         * ms on Mercator, so a one-time cost of the emulator's is half a
         * round's value. Both kernels get the same warm-up. */
        (void)cow_reuse_round(&a);
        (void)cow_reuse_round(&a);
        report("cow_reuse_ns", rounds_median(cow_reuse_round, &a, 9));
        munmap(a.region, a.len);

        /* fork+execve from a small process, as a shell would. */
        struct proc_arg e = { .job = CHILD_EXEC, .n = 20 };
        report("fork_exec_wait_ns", fork_figure(&e, 5));

        /* Debian's own dynamically linked programs (tools/bench.py puts
         * them and their libraries in the archive when this machine has
         * them): /usr/bin/true, and python3's start-up. */
        static char *const dyn_true[] = { "/usr/bin/true", NULL };
        static char *const python[] = { "/usr/bin/python3", "-c", "pass", NULL };
        struct proc_arg d = { .job = CHILD_EXEC, .n = 10, .argv = dyn_true };
        report("fork_exec_dyn_wait_ns", access(dyn_true[0], X_OK) != 0
               ? fig_fail("no /usr/bin/true in the archive", errno)
               : fork_figure(&d, 5));
        /* A fixed hash seed: Linux's archive has no /dev/urandom for
         * python's fallback when getrandom would block early in boot. */
        static char *const py_env[] = { "PYTHONHASHSEED=0", NULL };
        struct proc_arg py = { .job = CHILD_EXEC, .n = 2, .argv = python,
                               .envp = py_env };
        report("python_start_ns", access(python[0], X_OK) != 0
               ? fig_fail("no /usr/bin/python3 in the archive", errno)
               : fork_figure(&py, 3));
}

/* ---- files on tmpfs: the page cache under read, write and mmap ----------- */

#define FILE_LEN        (16 * MIB)

struct file_arg { int fd; char *buf; long n; };

/* read() of the whole cached file, 4 KiB per call: ns per call. */
static struct figure file_read_round(void *argp)
{
        struct file_arg *a = argp;
        uint64_t t0 = now_ns();

        if (lseek(a->fd, 0, SEEK_SET) != 0)
                return fig_fail("lseek", errno);
        for (size_t off = 0; off < FILE_LEN; off += PAGE)
                if (read(a->fd, a->buf, PAGE) != (ssize_t)PAGE)
                        return fig_fail("read", errno);
        return fig_ok((double)(now_ns() - t0) / (FILE_LEN / PAGE));
}

/* write() of 16 MiB into an emptied file, 4 KiB per call (every call
 * allocates its page): ns per call. */
static struct figure file_write_round(void *argp)
{
        struct file_arg *a = argp;

        if (ftruncate(a->fd, 0) != 0 || lseek(a->fd, 0, SEEK_SET) != 0)
                return fig_fail("ftruncate", errno);
        uint64_t t0 = now_ns();
        for (size_t off = 0; off < FILE_LEN; off += PAGE)
                if (write(a->fd, a->buf, PAGE) != (ssize_t)PAGE)
                        return fig_fail("write", errno);
        return fig_ok((double)(now_ns() - t0) / (FILE_LEN / PAGE));
}

/* First touch (a read) of each page of a MAP_SHARED mapping of the
 * cached file: ns per page. */
static struct figure shared_fault_round(void *argp)
{
        struct file_arg *a = argp;
        char *p = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);

        if (p == MAP_FAILED)
                return fig_fail("mmap", errno);
        uint64_t t0 = now_ns();
        read_pages(p, FILE_LEN);
        uint64_t t1 = now_ns();
        munmap(p, FILE_LEN);
        return fig_ok((double)(t1 - t0) / (FILE_LEN / PAGE));
}

/* msync(MS_SYNC) of 16 MiB of dirty shared pages: ns per call. */
static struct figure msync_round(void *argp)
{
        struct file_arg *a = argp;
        char *p = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);

        if (p == MAP_FAILED)
                return fig_fail("mmap", errno);
        for (size_t off = 0; off < FILE_LEN; off += PAGE)
                p[off]++;
        uint64_t t0 = now_ns();
        int rc = msync(p, FILE_LEN, MS_SYNC);
        uint64_t t1 = now_ns();
        munmap(p, FILE_LEN);
        return rc ? fig_fail("msync", errno) : fig_ok((double)(t1 - t0));
}

/* open(O_CREAT|O_EXCL) + close + unlink of an empty file: ns per file. */
static struct figure create_unlink_round(void *argp)
{
        struct file_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 64); i++) {
                int fd = open("/tmp/vmbench.empty", O_CREAT | O_EXCL | O_WRONLY, 0600);
                if (fd < 0)
                        return fig_fail("open", errno);
                close(fd);
                if (unlink("/tmp/vmbench.empty") != 0)
                        return fig_fail("unlink", errno);
        }
        return fig_ok((double)(now_ns() - t0) / i);
}

static void file_figures(void)
{
        static char buf[PAGE];
        struct file_arg a = { .buf = buf, .n = 20000 };
        const char *names[] = { "file_read_16m_ns", "file_write_16m_ns",
                                "shared_fault_ns", "msync_16m_ns",
                                "create_unlink_ns" };

        /* Both kernels on tmpfs: Linux's /tmp of an initramfs boot is the
         * rootfs, so mount one (Mercator's /tmp is one already). */
        if (getpid() == 1) {
                mkdir("/tmp", 01777);
                mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
        }
        memset(buf, 'v', sizeof buf);
        a.fd = open("/tmp/vmbench.data", O_CREAT | O_TRUNC | O_RDWR, 0600);
        if (a.fd < 0) {
                for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
                        report(names[i], fig_fail("open /tmp/vmbench.data", errno));
                return;
        }
        report("file_write_16m_ns", rounds_median(file_write_round, &a, 5));
        report("file_read_16m_ns", rounds_median(file_read_round, &a, 5));
        report("shared_fault_ns", rounds_median(shared_fault_round, &a, 5));
        report("msync_16m_ns", rounds_median(msync_round, &a, 5));
        report("create_unlink_ns", rounds_median(create_unlink_round, &a, 3));
        close(a.fd);
        unlink("/tmp/vmbench.data");
}

/* ---- threads --------------------------------------------------------------- */

static void *thread_nothing(void *arg)
{
        return arg;
}

/* pthread_create + pthread_join of a thread that returns at once: clone,
 * the first switch to it, its exit and the CLEARTID wake join waits for
 * (and the C library's stack cache). */
static struct figure thread_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 16); i++) {
                pthread_t th;
                void *ret;
                int err = pthread_create(&th, NULL, thread_nothing, (void *)1);
                if (err)
                        return fig_fail("pthread_create", err);
                if ((err = pthread_join(th, &ret)) || ret != (void *)1)
                        return fig_fail("pthread_join", err);
        }
        return fig_ok((double)(now_ns() - t0) / i);
}

/* Two threads pass a token through a private futex word: each waits
 * until the word is its number, then sets the other's and wakes it. One
 * operation is one hand-over (a wake and a switch). */
static volatile uint32_t token;
static volatile long pingpong_n;

static long futex_op(volatile uint32_t *w, int op, uint32_t val)
{
        return syscall(SYS_futex, w, op | 128 /* PRIVATE */, val, NULL, NULL, 0);
}

static void pass_token(uint32_t me, long n)
{
        for (long i = 0; i < n; i++) {
                while (token != me)
                        futex_op(&token, 0 /* WAIT while the other has it */, 1 - me);
                token = 1 - me;
                futex_op(&token, 1 /* WAKE */, 1);
        }
}

static void *pong(void *arg)
{
        (void)arg;
        pass_token(1, pingpong_n);
        return NULL;
}

static struct figure futex_round(void *argp)
{
        struct loop_arg *a = argp;
        pthread_t th;
        int err;

        token = 0;
        pingpong_n = a->n;
        uint64_t t0 = now_ns();
        if ((err = pthread_create(&th, NULL, pong, NULL)))
                return fig_fail("pthread_create", err);
        pass_token(0, a->n);
        pthread_join(th, NULL);
        return fig_ok((double)(now_ns() - t0) / (2.0 * a->n));
}

/* ---- switches between processes ----------------------------------------- */

/* One round of pipe ping-pong between this process and a child: a byte
 * there and back, a->n times; ns per round trip (two switches on one
 * CPU). */
static struct figure pipe_round(void *argp)
{
        struct loop_arg *a = argp;
        int there[2], back[2];
        char c = 0;

        if (pipe(there) || pipe(back))
                return fig_fail("pipe", errno);
        pid_t pid = fork();
        if (pid < 0)
                return fig_fail("fork", errno);
        if (pid == 0) {
                for (long i = 0; i < a->n; i++)
                        if (read(there[0], &c, 1) != 1 ||
                            write(back[1], &c, 1) != 1)
                                _exit(1);
                _exit(0);
        }
        uint64_t t0 = now_ns();
        long i;
        for (i = 0; i < a->n; i++)
                if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
                        break;
        uint64_t t = now_ns() - t0;
        int st = 1;
        if (i < a->n)
                kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        close(there[0]), close(there[1]), close(back[0]), close(back[1]);
        if (i < a->n || !WIFEXITED(st) || WEXITSTATUS(st))
                return fig_fail("ping-pong", 0);
        return fig_ok((double)t / (double)a->n);
}

/*
 * The pipe round trip alone, then beside SLEEPERS children that sleep in
 * read() on a pipe of their own: what a switch costs when many processes
 * exist but few run (a scheduler that looks at every process on every
 * switch slows down with their number).
 */
#define SLEEPERS 1000

/*
 * The round trip beside SLEEPERS children that each sleep 100 ms at a
 * time (nanosleep, each a microsecond longer than the one before: their
 * deadlines spread out), ten thousand deadlines a second: a scheduler
 * that walks every process when a deadline comes pays a thousand steps
 * for each (Mercator's did until session 21: 430 ms a round trip).
 */
static void timed_sleepers_figure(void)
{
        static pid_t pids[SLEEPERS];
        struct loop_arg a = { .n = 2000 };
        int made = 0;

        for (; made < SLEEPERS; made++) {
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        struct timespec ts = { 0, 100000000L + made * 1000L };

                        for (;;)
                                nanosleep(&ts, NULL);
                }
                pids[made] = pid;
        }
        if (made < SLEEPERS)
                report("pipe_roundtrip_timed_sleepers_ns",
                       fig_fail("fork", errno));
        else
                report("pipe_roundtrip_timed_sleepers_ns",
                       rounds_median(pipe_round, &a, 5));
        for (int i = 0; i < made; i++)
                kill(pids[i], SIGKILL);
        for (int i = 0; i < made; i++)
                waitpid(pids[i], NULL, 0);
}

static void switch_figures(void)
{
        struct loop_arg a = { .n = 2000 };
        int hold[2], made = 0;

        report("pipe_roundtrip_ns", rounds_median(pipe_round, &a, 5));
        if (pipe(hold)) {
                report("pipe_roundtrip_sleepers_ns", fig_fail("pipe", errno));
                return;
        }
        for (; made < SLEEPERS; made++) {
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        char c;
                        close(hold[1]);
                        _exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
                }
        }
        if (made < SLEEPERS)
                report("pipe_roundtrip_sleepers_ns", fig_fail("fork", errno));
        else
                report("pipe_roundtrip_sleepers_ns",
                       rounds_median(pipe_round, &a, 5));
        close(hold[0]);
        close(hold[1]);                 /* each sleeper reads EOF, exits */
        while (made-- > 0)
                wait(NULL);
        timed_sleepers_figure();
}

static void thread_figures(void)
{
        struct loop_arg a = { .n = 2000 };

        report("thread_create_join_ns", rounds_median(thread_round, &a, 5));
        a.n = 5000;
        report("futex_handover_ns", rounds_median(futex_round, &a, 5));
}

/* ---- several CPUs (mode smp, booted at -smp 1 .. 4) ------------------------ */

/* CPUs this process may run on (sched_getaffinity), at least 1. */
static int cpus_online(void)
{
        cpu_set_t set;

        if (sched_getaffinity(0, sizeof set, &set) != 0)
                return 1;
        int n = CPU_COUNT(&set);
        return n > 0 ? n : 1;
}

/* Threads that spin in user mode until told to stop: they keep the
 * address space live on the other CPUs, so every change to it must reach
 * them (a shootdown), as in a process whose threads run everywhere. */
static atomic_int spin_stop;
static atomic_int spinning;

static void *spinner(void *arg)
{
        (void)arg;
        atomic_fetch_add(&spinning, 1);
        while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
                ;
        return NULL;
}

/* n spinners, started and seen running (up to 2 s); => how many run. */
static int spinners_start(pthread_t *th, int n)
{
        int made = 0;

        atomic_store(&spin_stop, 0);
        atomic_store(&spinning, 0);
        for (int i = 0; i < n; i++)
                if (pthread_create(&th[i], NULL, spinner, NULL) == 0)
                        made++;
        uint64_t t0 = now_ns();
        while (atomic_load(&spinning) < made && now_ns() - t0 < 2000000000ULL)
                sched_yield();
        return made;
}

static void spinners_stop(pthread_t *th, int n)
{
        atomic_store(&spin_stop, 1);
        for (int i = 0; i < n; i++)
                pthread_join(th[i], NULL);
}

/* munmap of one populated page at a time, ns per call: each one is a
 * shootdown round to the CPUs where the spinners run. */
static struct figure munmap_page_round(void *argp)
{
        struct loop_arg *a = argp;
        char *p = map_anon(a->len, PROT_READ | PROT_WRITE);

        if (!p)
                return fig_fail("mmap", errno);
        touch_pages(p, a->len);
        long pages = (long)(a->len / PAGE);
        uint64_t t0 = now_ns();
        for (long i = 0; i < pages; i++)
                if (munmap(p + i * PAGE, PAGE) != 0)
                        return fig_fail("munmap", errno);
        return fig_ok((double)(now_ns() - t0) / pages);
}

/* mprotect of the whole region between read-only and read+execute, ns
 * per call: each call changes every entry (the no-execute bit) on both
 * kernels, so each is one shootdown round to the CPUs where the spinners
 * run. (Read-only and back to read-write, as the main figure does, is no
 * round on Mercator after the first: it maps private memory writable
 * only at the next write fault, so read-only finds nothing to change;
 * Linux 6.1 makes exclusive anonymous pages writable again at once.) */
static struct figure mprotect_exec_round(void *argp)
{
        struct loop_arg *a = argp;
        uint64_t t0 = now_ns();
        long i;

        for (i = 0; i < a->n && !over_budget(t0, i, 64); i++) {
                if (mprotect(a->region, a->len, PROT_READ | PROT_EXEC) != 0 ||
                    mprotect(a->region, a->len, PROT_READ) != 0)
                        return fig_fail("mprotect", errno);
        }
        return fig_ok((double)(now_ns() - t0) / (2.0 * i));
}

/* The fault storm: `threads` threads each write one byte to every page
 * of its own slice of one fresh mapping. One figure: wall time from the
 * start to the last thread's end, per page faulted (so 1e9 / it is the
 * faults per second of the whole process).
 *
 * The start line: each worker spins in user mode until all are there,
 * and the last to arrive starts the clock and lets them go. So every
 * worker is on a CPU of its own when the clock starts, and the figure
 * counts faults. Released from a futex instead (before session 24), the
 * clock also ran while the kernel woke halted CPUs for the workers:
 * under TCG on the busy 2-core host that took 2-4 ms in about half the
 * rounds at -smp 2 (a 1024-page slice faults in 3.4 ms), on either
 * kernel. The spin is a plain load (no pause, no sched_yield): a
 * worker that shares a CPU with another waits for the tick, before the
 * clock starts. */
struct storm {
        char *region;
        size_t slice;
        unsigned n;
        atomic_uint ready;              /* workers at the start line */
        atomic_uint go;                 /* 1: start */
        uint64_t t0;
        uint64_t end_ns[64];
};

struct storm_arg { struct storm *s; int i; };

static void *storm_worker(void *argp)
{
        struct storm_arg *a = argp;
        struct storm *s = a->s;

        if (atomic_fetch_add(&s->ready, 1) + 1 == s->n) {
                s->t0 = now_ns();
                atomic_store(&s->go, 1);
        }
        while (!atomic_load_explicit(&s->go, memory_order_acquire))
                ;
        touch_pages(s->region + (size_t)a->i * s->slice, s->slice);
        s->end_ns[a->i] = now_ns();
        return NULL;
}

static struct figure storm_round(void *argp)
{
        struct loop_arg *a = argp;
        int n = (int)a->n;
        static struct storm s;
        struct storm_arg args[64];
        pthread_t th[64];
        int made = 0;

        s.slice = a->len;
        s.n = (unsigned)n;
        s.region = map_anon(s.slice * (size_t)n, PROT_READ | PROT_WRITE);
        if (!s.region)
                return fig_fail("mmap", errno);
        atomic_store(&s.ready, 0);
        atomic_store(&s.go, 0);
        for (int i = 0; i < n; i++) {
                args[i] = (struct storm_arg){ &s, i };
                if (pthread_create(&th[i], NULL, storm_worker, &args[i]))
                        break;
                made++;
        }
        if (made < n) {                 /* the others would wait for ever */
                s.t0 = now_ns();
                atomic_store(&s.go, 1);
        }
        uint64_t end = 0;
        for (int i = 0; i < made; i++) {
                pthread_join(th[i], NULL);
                if (s.end_ns[i] > end)
                        end = s.end_ns[i];
        }
        munmap(s.region, s.slice * (size_t)n);
        if (made < n)
                return fig_fail("pthread_create", EAGAIN);
        return fig_ok((double)(end - s.t0) / ((double)n * (s.slice / PAGE)));
}

/* The futex hand-over of thread_figures, each thread asked to stay on
 * its own CPU (0 and 1; a kernel that keeps no affinity refuses or
 * ignores it), sampling with getcpu how often the two really were on
 * different CPUs at a hand-over. */
#define XCPU_SAMPLES 64
static int xcpu_at[2][XCPU_SAMPLES];

static void pin_to(int cpu)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof set, &set);         /* best effort */
}

static void pass_token_sampled(uint32_t me, long n)
{
        long every = n / XCPU_SAMPLES > 0 ? n / XCPU_SAMPLES : 1;

        for (long i = 0; i < n; i++) {
                while (token != me)
                        futex_op(&token, 0, 1 - me);
                if (i % every == 0 && i / every < XCPU_SAMPLES) {
                        unsigned cpu = 0;
                        syscall(SYS_getcpu, &cpu, NULL, NULL);
                        xcpu_at[me][i / every] = (int)cpu;
                }
                token = 1 - me;
                futex_op(&token, 1, 1);
        }
}

static void *pong_pinned(void *arg)
{
        (void)arg;
        pin_to(1);
        pass_token_sampled(1, pingpong_n);
        return NULL;
}

static struct figure futex_xcpu_round(void *argp)
{
        struct loop_arg *a = argp;
        pthread_t th;
        int err;

        token = 0;
        pingpong_n = a->n;
        memset(xcpu_at, 0xff, sizeof xcpu_at);
        uint64_t t0 = now_ns();
        if ((err = pthread_create(&th, NULL, pong_pinned, NULL)))
                return fig_fail("pthread_create", err);
        pass_token_sampled(0, a->n);
        pthread_join(th, NULL);
        return fig_ok((double)(now_ns() - t0) / (2.0 * a->n));
}

static void mode_smp(void)
{
        int n = cpus_online();
        pthread_t th[64];
        struct loop_arg a = { 0 };

        if (n > 64)
                n = 64;
        say("@vmbench smp.cpus %d", n);

        /* munmap and mprotect with the other CPUs running our threads */
        int spin = spinners_start(th, n - 1);
        say("@vmbench smp.spinners %d", spin);
        a.len = 256 * PAGE;
        report("smp.munmap_page_ns", rounds_median(munmap_page_round, &a, 5));
        a.n = 1000;
        a.len = MIB;
        a.region = map_anon(a.len, PROT_READ | PROT_WRITE);
        if (a.region) {
                touch_pages(a.region, a.len);
                report("smp.mprotect_1m_ns",
                       rounds_median(mprotect_exec_round, &a, 3));
                munmap(a.region, a.len);
        } else {
                report("smp.mprotect_1m_ns", fig_fail("mmap", errno));
        }
        spinners_stop(th, spin);

        a.n = n;
        a.len = 4 * MIB;
        report("smp.fault_storm_ns", rounds_median(storm_round, &a, 5));

        a.n = 500;
        report("smp.thread_create_join_ns", rounds_median(thread_round, &a, 3));

        pin_to(0);
        a.n = 2000;
        struct figure f = rounds_median(futex_xcpu_round, &a, 3);
        report("smp.futex_xcpu_ns", f);
        int split = 0, seen = 0;
        for (int i = 0; i < XCPU_SAMPLES; i++)
                if (xcpu_at[0][i] >= 0 && xcpu_at[1][i] >= 0) {
                        seen++;
                        split += xcpu_at[0][i] != xcpu_at[1][i];
                }
        if (seen)
                say("@vmbench smp.futex_split_pct %.1f", 100.0 * split / seen);
}

/* ---- swap (mode swap: -m 128M, a mkswap'd virtio disk as /dev/vda) -------- */

#define SWAP_DISK       "/dev/vda"
#include "../../tools/load_modules.h"     /* load_modules() */

/* Turn the disk on as swap (Linux: after its modules, with devtmpfs on
 * /dev for the node; Mercator has /dev/vda itself). 0 or -errno. */
static int swap_start(void)
{
        say("@vmbench swap.modules %d", load_modules());
        if (getpid() == 1) {
                mkdir("/dev", 0755);
                mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
        }
        for (int i = 0; i < 500 && access(SWAP_DISK, F_OK) != 0; i++)
                usleep(10000);          /* a node may come a little later */
        if (swapon(SWAP_DISK, 0) != 0)
                return -errno;
        return 0;
}

/* "name value" of /proc/vmstat, or -1. */
static long vmstat_value(const char *name)
{
        static char text[16384];
        size_t n = strlen(name);

        if (read_small_file("/proc/vmstat", text, sizeof text) < 0)
                return -1;
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
                if (strncmp(l, name, n) == 0 && l[n] == ' ')
                        return strtol(l + n + 1, NULL, 10);
        return -1;
}

static long majflt_now(void)
{
        struct rusage ru;

        return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_majflt : -1;
}

/* Every page written whole-word-wise with a pattern of its index and
 * seed, so no page is all zeros and each can be checked. */
static void fill_pages(char *p, size_t pages, uint64_t seed)
{
        for (size_t i = 0; i < pages; i++) {
                uint64_t *w = (uint64_t *)(p + i * PAGE);
                for (size_t k = 0; k < PAGE / 8; k += 8)
                        w[k] = (i << 20 | k) ^ seed;
        }
}

/* Read and check one page; 0 if its first and last word are right. */
static int check_page(const char *p, size_t i, uint64_t seed)
{
        const volatile uint64_t *w = (const volatile uint64_t *)(p + i * PAGE);

        return w[0] != ((i << 20) ^ seed) ||
               w[PAGE / 8 - 8] != ((i << 20 | (PAGE / 8 - 8)) ^ seed);
}

/* Pages of [p, p + len) resident now (mincore; pages in the swap cache
 * count as resident on both kernels), or -1. */
static long resident_pages(char *p, size_t len)
{
        static unsigned char vec[65536];
        size_t pages = len / PAGE;
        long n = 0;

        if (pages > sizeof vec || mincore(p, len, vec) != 0)
                return -1;
        for (size_t i = 0; i < pages; i++)
                n += vec[i] & 1;
        return n;
}

/*
 * Put region p (written) out to swap, the same way on both kernels:
 * MADV_PAGEOUT writes it out; Linux keeps pages under writeback in its
 * swap cache until reclaim passes again, so a second region somewhat
 * larger than the free memory is then written and unmapped, which makes
 * reclaim take them (and gives the memory back).
 */
static int push_out(char *p, size_t len)
{
        char *q;
        long free_kb;

        madvise(p, len, MADV_PAGEOUT);
        if (read_small_file("/proc/meminfo", meminfo_text, sizeof meminfo_text) < 0 ||
            (free_kb = meminfo_kb(meminfo_text, "MemFree")) < 0)
                return -EIO;
        size_t qlen = (size_t)free_kb * 1024 + 16 * MIB;
        if (!(q = map_anon(qlen, PROT_READ | PROT_WRITE)))
                return -errno;
        touch_pages(q, qlen);
        munmap(q, qlen);
        return 0;
}

struct swap_arg {
        char    *region;
        size_t   len;
        int      random;        /* page-in order: a fixed permutation */
        uint64_t seed;
        double   majflt[MAX_ROUNDS], resident[MAX_ROUNDS];
        int      done;
};

/* One round of page-in: the region out to swap, then read back page by
 * page (in order, or in a permutation), each page checked. */
static struct figure pagein_round(void *argp)
{
        struct swap_arg *a = argp;
        size_t pages = a->len / PAGE;
        static uint32_t order[65536];
        int err;

        if (pages > sizeof order / sizeof order[0])
                return fig_fail("region too large", 0);
        for (size_t i = 0; i < pages; i++)
                order[i] = (uint32_t)i;
        if (a->random) {
                uint64_t x = 0x9e3779b97f4a7c15ULL;
                for (size_t i = pages - 1; i > 0; i--) {
                        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                        size_t j = (size_t)((x >> 33) % (i + 1));
                        uint32_t t = order[i];
                        order[i] = order[j];
                        order[j] = t;
                }
        }
        if ((err = push_out(a->region, a->len)) != 0)
                return fig_fail("pushing the region out", -err);
        long res = resident_pages(a->region, a->len);
        long maj0 = majflt_now();
        int bad = 0;
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < pages; i++)
                bad |= check_page(a->region, order[i], a->seed);
        uint64_t t = now_ns() - t0;
        if (bad)
                return fig_fail("a page read back wrong", 0);
        if (a->done < MAX_ROUNDS) {
                a->majflt[a->done] = (double)(majflt_now() - maj0);
                a->resident[a->done++] = (double)res;
        }
        return fig_ok((double)t / (double)pages);
}

static void pagein_figure(const char *name, struct swap_arg *a, int rounds)
{
        char key[64];

        a->done = 0;
        report(name, rounds_median(pagein_round, a, rounds));
        if (a->done) {
                snprintf(key, sizeof key, "%s.majflt", name);
                say("@vmbench %s %.1f", key, median(a->majflt, a->done));
                snprintf(key, sizeof key, "%s.resident_before", name);
                say("@vmbench %s %.1f", key, median(a->resident, a->done));
        }
}

/*
 * The working set: WS_BYTES written page by page, then read and checked
 * page by page twice, on a machine with half as much RAM: every pass
 * pushes the region through swap. Total time, the major faults of the
 * whole run and the disk traffic (/proc/vmstat pswpin, pswpout).
 */
#define WS_BYTES        (256 * MIB)

static void working_set_figure(void)
{
        size_t pages = WS_BYTES / PAGE;
        char *p = map_anon(WS_BYTES, PROT_READ | PROT_WRITE);
        uint64_t seed = 0x5157a9e5ULL;
        int bad = 0;

        if (!p) {
                report("swap.ws_256m_ns", fig_fail("mmap", errno));
                return;
        }
        long maj0 = majflt_now(), in0 = vmstat_value("pswpin"),
             out0 = vmstat_value("pswpout");
        uint64_t t0 = now_ns();
        fill_pages(p, pages, seed);
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < pages; i++)
                        bad |= check_page(p, i, seed);
        uint64_t t = now_ns() - t0;
        long maj = majflt_now() - maj0, in = vmstat_value("pswpin") - in0,
             out = vmstat_value("pswpout") - out0;
        munmap(p, WS_BYTES);
        if (bad) {
                report("swap.ws_256m_ns", fig_fail("a page read back wrong", 0));
                return;
        }
        say("@vmbench swap.ws_256m_ns %.1f", (double)t);
        say("@vmbench swap.ws_256m_ns.majflt %ld", maj);
        say("@vmbench swap.ws_256m_ns.pswpin %ld", in);
        say("@vmbench swap.ws_256m_ns.pswpout %ld", out);
}

/*
 * Reverse-map memory per page: a 32 MiB region written, then shared with
 * a child by fork (the child waits on a pipe), and again after the
 * parent has moved the region with mremap. Mercator counts its map's
 * own records (/proc/meminfo ReverseMap, bytes: fork families and chain
 * records); the delta from before the mapping, over the region's pages.
 * Linux's cost is its structures: for one area with pages, forked once,
 * two anon_vmas (parent's, child's) and three anon_vma_chains (the
 * parent's link, the child's to its own and to the parent's); mremap
 * clones the moved area's links and frees the old ones, the same count.
 * Their sizes come from Linux's BTF. Both kernels also keep per-page
 * fields inside the page descriptor (counted in page_desc_bytes).
 */
#define RMAP_BYTES      (32 * MIB)

static long rmap_bytes_now(void)
{
        if (read_small_file("/proc/meminfo", meminfo_text, sizeof meminfo_text) < 0)
                return -1;
        const char *l = strstr(meminfo_text, "\nReverseMap:");
        return l ? strtol(l + 12, NULL, 10) : -1;
}

static void rmap_figures(void)
{
        size_t pages = RMAP_BYTES / PAGE;
        long before = rmap_bytes_now();

        if (before < 0) {               /* Linux: from its structures */
                size_t len, cap = 64 * MIB;
                if (getpid() == 1)
                        mount("sysfs", "/sys", "sysfs", 0, NULL);
                char *btf = read_big_file("/sys/kernel/btf/vmlinux", cap, &len);
                long av = btf ? btf_struct_size(btf, len, "anon_vma") : -1;
                long avc = btf ? btf_struct_size(btf, len, "anon_vma_chain") : -1;
                if (btf)
                        munmap(btf, cap);
                if (av <= 0 || avc <= 0) {
                        report("swap.rmap_fork_bytes", fig_fail("neither "
                               "ReverseMap in /proc/meminfo nor anon_vma in BTF", 0));
                        return;
                }
                say("@vmbench swap.rmap_anon_vma_size %ld btf", av);
                say("@vmbench swap.rmap_anon_vma_chain_size %ld btf", avc);
                say("@vmbench swap.rmap_fork_bytes %.5f btf",
                    (2.0 * av + 3.0 * avc) / pages);
                say("@vmbench swap.rmap_mremap_bytes %.5f btf",
                    (2.0 * av + 3.0 * avc) / pages);
                return;
        }
        char *p = map_anon(RMAP_BYTES, PROT_READ | PROT_WRITE);
        int fds[2];
        if (!p || pipe(fds) != 0) {
                report("swap.rmap_fork_bytes", fig_fail("mmap or pipe", errno));
                return;
        }
        touch_pages(p, RMAP_BYTES);
        long pid = raw_fork();
        if (pid == 0) {
                char c;
                close(fds[1]);
                while (read(fds[0], &c, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        close(fds[0]);
        if (pid < 0) {
                report("swap.rmap_fork_bytes", fig_fail("fork", errno));
                return;
        }
        say("@vmbench swap.rmap_fork_bytes %.5f meminfo",
            (double)(rmap_bytes_now() - before) / pages);
        char *q = mremap(p, RMAP_BYTES, RMAP_BYTES, MREMAP_MAYMOVE | MREMAP_FIXED,
                         p + 2 * RMAP_BYTES);
        /* (the place past the region: mmap gave it top-down, so it is
         * most likely free; MREMAP_FIXED replaces whatever is there) */
        if (q == MAP_FAILED)
                report("swap.rmap_mremap_bytes", fig_fail("mremap", errno));
        else
                say("@vmbench swap.rmap_mremap_bytes %.5f meminfo",
                    (double)(rmap_bytes_now() - before) / pages);
        close(fds[1]);
        reap(pid);
        munmap(q == MAP_FAILED ? p : q, RMAP_BYTES);
}

static void mode_swap(void)
{
        int err = swap_start();

        if (read_small_file("/proc/meminfo", meminfo_text, sizeof meminfo_text) >= 0) {
                say("@vmbench swap.mem_free_kb %ld", meminfo_kb(meminfo_text, "MemFree"));
                say("@vmbench swap.swap_total_kb %ld", meminfo_kb(meminfo_text, "SwapTotal"));
        }
        rmap_figures();
        if (err) {
                report("swap.seq_pagein_ns", fig_fail("swapon " SWAP_DISK, -err));
                return;
        }
        struct swap_arg a = { .len = 32 * MIB, .seed = 0x5eedULL };
        a.region = map_anon(a.len, PROT_READ | PROT_WRITE);
        if (!a.region) {
                report("swap.seq_pagein_ns", fig_fail("mmap", errno));
                return;
        }
        fill_pages(a.region, a.len / PAGE, a.seed);
        pagein_figure("swap.seq_pagein_ns", &a, 3);
        a.random = 1;
        pagein_figure("swap.rand_pagein_ns", &a, 3);
        munmap(a.region, a.len);
        working_set_figure();
}

/* ---- the modes ------------------------------------------------------------ */

static void mode_main(void)
{
        struct figure munmap_f;

        report("getppid_ns", null_call_figure(SYS_getppid, 200000, 3));
        report("getpgid_ns", null_call_figure(SYS_getpgid, 200000, 3));
        struct loop_arg clk = { .n = 200000 };
        report("clock_gettime_ns", rounds_median(clock_round, &clk, 5));
        report("gettimeofday_ns", rounds_median(gettimeofday_round, &clk, 5));
        report("fault_write_ns", fault_figure(64 * MIB, 1, 5, &munmap_f));
        report("munmap_populated_ns", munmap_f);
        report("fault_read_ns", fault_figure(64 * MIB, 0, 5, NULL));
        report("mmap_munmap_ns", mmap_figure(10000, 3));
        report("mprotect_1m_ns", mprotect_figure(4000, 3));
        report("brk_ns", brk_figure(10000, 3));
        report("signal_roundtrip_ns", signal_figure(20000, 3));
        report("user_fault_ns", user_fault_figure(5000, 3));
        thread_figures();
        switch_figures();
        process_figures();
        huge_figures();
        file_figures();
}

/* Areas in this process now: the lines of /proc/self/maps, or -1. */
static long count_areas(void)
{
        int fd = open("/proc/self/maps", O_RDONLY);
        char buf[65536];
        long lines = 0;
        ssize_t n;

        if (fd < 0)
                return -1;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                for (ssize_t i = 0; i < n; i++)
                        lines += buf[i] == '\n';
        close(fd);
        return lines;
}

/*
 * Scale with the number of areas: one region of AREAS_MAX pages, cut into
 * separate areas by making every other page read-only (no holes, so a new
 * mapping never lands inside the region). At each step the region has
 * about `n` areas; fault and mmap+munmap costs are measured there.
 */
#define AREAS_MAX 60000

static void mode_areas(void)
{
        static const long steps[] = { 1, 100, 10000, AREAS_MAX };
        size_t len = AREAS_MAX * PAGE;
        char *r = map_anon(len, PROT_READ | PROT_WRITE);
        long cut = 1;                   /* next page to make read-only */
        char name[64];

        for (unsigned s = 0; s < sizeof steps / sizeof steps[0]; s++) {
                long n = steps[s];
                struct figure bad = fig_ok(0);
                if (!r)
                        bad = fig_fail("mmap of the region", errno);
                for (; !bad.why && cut < n; cut += 2)
                        if (mprotect(r + cut * PAGE, PAGE, PROT_READ) != 0)
                                bad = fig_fail("mprotect (split)", errno);
                say("@vmbench areas.%ld.count %ld", n, count_areas());
                snprintf(name, sizeof name, "areas.%ld.fault_ns", n);
                report(name, bad.why ? bad : fault_figure(4 * MIB, 1, 5, NULL));
                snprintf(name, sizeof name, "areas.%ld.mmap_munmap_ns", n);
                report(name, bad.why ? bad : mmap_figure(4000, 3));
        }
        if (r)
                munmap(r, len);
}

/* Scale with RAM: the same two figures at whatever -m this boot has. */
static void mode_ram(void)
{
        report("ram.fault_ns", fault_figure(8 * MIB, 1, 9, NULL));
        report("ram.mmap_munmap_ns", mmap_figure(4000, 3));
}

/* Only as the first process: run by hand on a host, it just exits. */
static void power_off(void)
{
        if (getpid() == 1) {
                fflush(stdout);
                tcdrain(STDOUT_FILENO);     /* the last figures reach the host */
                sync();
                reboot(RB_POWER_OFF);
        }
        _exit(0);               /* Mercator powers off when init exits too */
}

int main(void)
{
        char conf[256] = "main";

        report_boot();
        long n = read_small_file("/bench.conf", conf, sizeof conf);
        conf[strcspn(conf, " \n")] = '\0';
        say("@vmbench mode %s%s", conf, n < 0 ? " (no /bench.conf)" : "");
        if (strcmp(conf, "main") == 0)
                mode_main();
        else if (strcmp(conf, "files") == 0)
                file_figures();         /* the file figures alone */
        else if (strcmp(conf, "areas") == 0)
                mode_areas();
        else if (strcmp(conf, "ram") == 0)
                mode_ram();
        else if (strcmp(conf, "smp") == 0)
                mode_smp();
        else if (strcmp(conf, "swap") == 0)
                mode_swap();
        else if (strcmp(conf, "threads") == 0)
                thread_figures();       /* the thread figures of main alone */
        report_page_descriptors();
        say("@vmbench end");
        power_off();
}
