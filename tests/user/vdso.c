/*
 * vdso.c - the vDSO: found through getauxval(AT_SYSINFO_EHDR), an ELF
 * shared object whose dynamic symbols carry version LINUX_2.6 (x86-64;
 * LINUX_4.15 on riscv64), mapped as [vdso] with [vvar] below it; its
 * clocks agree with the system calls and stay monotonic while several
 * processes hammer them and the wall clock is set under them. On riscv64
 * (no time(2) there, so no __vdso_time) a signal handler returns through
 * its __vdso_rt_sigreturn. On i386 (an ELF32 object) the entry
 * __kernel_vsyscall is AT_SYSINFO (version LINUX_2.5): a call through it
 * passes six arguments and keeps every register but eax, glibc makes its
 * system calls there (a signal that interrupts a blocking read finds the
 * program inside the vDSO, and SA_RESTART restarts the read), handlers
 * without SA_RESTORER return through __kernel_sigreturn and
 * __kernel_rt_sigreturn, and __vdso_clock_gettime64 (64-bit time_t, which
 * glibc tries first) agrees with the other clocks.
 *
 * The wall clock is only set when the program is init (pid 1: on Mercator
 * and in a QEMU referee): run on the host's Linux it leaves the host's
 * clock alone and checks monotonicity without the adjustments.
 */
#include "utest.h"
#include <elf.h>
#include <inttypes.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define NSEC 1000000000LL

#if defined(__riscv)
#define VERSION "LINUX_4.15"
#else
#define VERSION "LINUX_2.6"
#define HAS_TIME 1
#endif

typedef int (*cgt_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, struct timezone *);
typedef time_t (*time_fn)(time_t *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);
typedef int (*getres_fn)(clockid_t, struct timespec *);

/* The ELF class of the vDSO is the program's. */
#if defined(__LP64__)
#define ELFW(t)         Elf64_##t
#define ELF_CLASS       ELFCLASS64
#define ELFW_ST_TYPE    ELF64_ST_TYPE
#else
#define ELFW(t)         Elf32_##t
#define ELF_CLASS       ELFCLASS32
#define ELFW_ST_TYPE    ELF32_ST_TYPE
#endif

/* What the dynamic section says, with the load bias. */
struct dso {
        uintptr_t bias;
        const ELFW(Sym) *sym;
        const char *str;
        const uint32_t *hash;           /* DT_HASH */
        const uint16_t *versym;
        const ELFW(Verdef) *verdef;
};

static int dso_open(uintptr_t base, struct dso *d)
{
        const ELFW(Ehdr) *eh = (const void *)base;
        const ELFW(Phdr) *ph;
        const ELFW(Dyn) *dyn = NULL;
        int loads = 0;

        memset(d, 0, sizeof *d);
        if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELF_CLASS ||
            eh->e_type != ET_DYN || eh->e_phentsize != sizeof(ELFW(Phdr)))
                return 0;
        ph = (const void *)(base + eh->e_phoff);
        for (int i = 0; i < eh->e_phnum; i++) {
                if (ph[i].p_type == PT_LOAD && loads++ == 0)
                        d->bias = base + ph[i].p_offset - ph[i].p_vaddr;
                if (ph[i].p_type == PT_DYNAMIC)
                        dyn = (const void *)(base + ph[i].p_offset);
        }
        if (!loads || !dyn)
                return 0;
        for (; dyn->d_tag != DT_NULL; dyn++) {
                const void *p = (const void *)(d->bias + dyn->d_un.d_ptr);
                switch (dyn->d_tag) {
                case DT_SYMTAB: d->sym = p; break;
                case DT_STRTAB: d->str = p; break;
                case DT_HASH: d->hash = p; break;
                case DT_VERSYM: d->versym = p; break;
                case DT_VERDEF: d->verdef = p; break;
                }
        }
        return d->sym && d->str && d->hash;
}

/* The name of the version with index ndx, or NULL. */
static const char *version_name(const struct dso *d, unsigned ndx)
{
        const ELFW(Verdef) *v = d->verdef;

        while (v) {
                if ((v->vd_ndx & 0x7fff) == ndx) {
                        const ELFW(Verdaux) *a = (const void *)((const char *)v + v->vd_aux);
                        return d->str + a->vda_name;
                }
                v = v->vd_next ? (const void *)((const char *)v + v->vd_next) : NULL;
        }
        return NULL;
}

/* A defined function symbol `name` of version `ver`, or NULL. */
static void *dso_sym(const struct dso *d, const char *name, const char *ver)
{
        uint32_t nsyms = d->hash[1];

        for (uint32_t i = 1; i < nsyms; i++) {
                const ELFW(Sym) *s = &d->sym[i];
                if (s->st_shndx == SHN_UNDEF || ELFW_ST_TYPE(s->st_info) != STT_FUNC ||
                    strcmp(d->str + s->st_name, name))
                        continue;
                if (d->versym) {
                        const char *vn = version_name(d, d->versym[i] & 0x7fff);
                        if (!vn || strcmp(vn, ver))
                                continue;
                }
                return (void *)(d->bias + s->st_value);
        }
        return NULL;
}

/* The [name] line of /proc/self/maps: its range and permissions. */
static int maps_find(const char *name, uintptr_t *lo, uintptr_t *hi, char perms[5])
{
        FILE *f = fopen("/proc/self/maps", "r");
        char line[512], want[64];
        int found = 0;

        snprintf(want, sizeof want, " %s\n", name);
        while (f && fgets(line, sizeof line, f)) {
                size_t n = strlen(line);
                if (n >= strlen(want) && strcmp(line + n - strlen(want), want) == 0 &&
                    sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", lo, hi, perms) == 3) {
                        found = 1;
                        break;
                }
        }
        if (f)
                fclose(f);
        return found;
}

static int64_t ts_ns(const struct timespec *ts)
{
        return ts->tv_sec * NSEC + ts->tv_nsec;
}

static int64_t sys_ns(clockid_t c)
{
        struct timespec ts;

        syscall(SYS_clock_gettime, c, &ts);
        return ts_ns(&ts);
}

static cgt_fn cgt;
static gtod_fn gtod;
#ifdef HAS_TIME
static time_fn vtime;
#endif
static getcpu_fn vgetcpu;
static getres_fn getres;
#if defined(__riscv)
static void *sigreturn_at;
#include <signal.h>
static void *volatile handler_ra;

static void __attribute__((noinline)) on_usr1(int sig)
{
        (void)sig;
        handler_ra = __builtin_return_address(0);
}

/* riscv64 has no SA_RESTORER: a handler's ra is the vDSO's
 * __vdso_rt_sigreturn, and returning there resumes the program. */
static void sigreturn_through_vdso(void)
{
        struct sigaction sa = { .sa_handler = on_usr1 };
        volatile int after = 0;

        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        after = 1;
        CHECK("handler_returns_to_vdso_sigreturn",
              sigreturn_at && handler_ra == sigreturn_at && after == 1);
}
#endif

#if defined(__i386__)
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

static void *vsyscall_at, *sigreturn_at, *rt_sigreturn_at;
static int (*cgt64)(clockid_t, int64_t ts[2]);
static uintptr_t vdso_lo, vdso_hi;

/*
 * long vsys_call(const long in[7], long out[7], void *entry): eax, ebx,
 * ecx, edx, esi, edi, ebp from in[0..6], call entry (the system call
 * through __kernel_vsyscall), then every one of them into out[0..6].
 */
long vsys_call(const long *in, long *out, void *entry);
__asm__(".text\n"
        ".globl vsys_call\n"
        "vsys_call:\n"
        "       pushl %ebp\n"
        "       pushl %ebx\n"
        "       pushl %esi\n"
        "       pushl %edi\n"
        "       pushl 28(%esp)\n"               /* entry, at 0(%esp) */
        "       movl 24(%esp), %eax\n"          /* in */
        "       movl 4(%eax), %ebx\n"
        "       movl 8(%eax), %ecx\n"
        "       movl 12(%eax), %edx\n"
        "       movl 16(%eax), %esi\n"
        "       movl 20(%eax), %edi\n"
        "       movl 24(%eax), %ebp\n"
        "       movl 0(%eax), %eax\n"
        "       call *(%esp)\n"
        "       pushl %eax\n"
        "       movl 32(%esp), %eax\n"          /* out */
        "       popl 0(%eax)\n"
        "       movl %ebx, 4(%eax)\n"
        "       movl %ecx, 8(%eax)\n"
        "       movl %edx, 12(%eax)\n"
        "       movl %esi, 16(%eax)\n"
        "       movl %edi, 20(%eax)\n"
        "       movl %ebp, 24(%eax)\n"
        "       addl $4, %esp\n"
        "       popl %edi\n"
        "       popl %esi\n"
        "       popl %ebx\n"
        "       popl %ebp\n"
        "       ret\n");

static int regs_kept(const long in[7], const long out[7])
{
        for (int i = 1; i < 7; i++)
                if (in[i] != out[i])
                        return 0;
        return 1;
}

/* Calls through AT_SYSINFO: six arguments arrive (mmap2's page offset is
 * the sixth, in ebp), every register but eax comes back as it went in,
 * and an error is -errno in eax. */
static void vsyscall_calls(void)
{
        char page[PAGE];
        long in[7], out[7];
        int fd = open("vdso_mmap2", O_RDWR | O_CREAT | O_TRUNC, 0600);
        int ok = fd >= 0;

        unlink("vdso_mmap2");
        memset(page, 'A', sizeof page);
        ok &= write(fd, page, sizeof page) == PAGE;
        memset(page, 'B', sizeof page);
        ok &= write(fd, page, sizeof page) == PAGE;
        long mm[7] = { SYS_mmap2, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 1 };
        memset(out, 0, sizeof out);
        vsys_call(mm, out, vsyscall_at);
        CHECK("vsyscall_six_arguments", ok && (unsigned long)out[0] < -4096UL &&
                                        *(const char *)out[0] == 'B');
        CHECK("vsyscall_keeps_registers_mmap2", regs_kept(mm, out));
        if ((unsigned long)out[0] < -4096UL)
                munmap((void *)out[0], PAGE);
        close(fd);

        long pp[7] = { SYS_getppid, 0x11111111, 0x22222222, 0x33333333,
                       0x44444444, 0x55555555, 0x66666666 };
        vsys_call(pp, out, vsyscall_at);
        CHECK("vsyscall_result", out[0] == getppid());
        CHECK("vsyscall_keeps_registers", regs_kept(pp, out));
        memcpy(in, pp, sizeof in);
        in[0] = SYS_close, in[1] = -1;
        vsys_call(in, out, vsyscall_at);
        CHECK("vsyscall_error_is_negative_errno", out[0] == -EBADF && regs_kept(in, out));
}

static int sig_pipe[2];
static volatile uintptr_t interrupted_at;

static void on_usr2(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;

        (void)sig, (void)si;
        interrupted_at = (uintptr_t)uc->uc_mcontext.gregs[REG_EIP];
        (void)!write(sig_pipe[1], "h", 1);
}

static char proc_state(pid_t pid)
{
        char p[64], buf[256];
        FILE *f;
        size_t n;
        char *rp;

        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        if (!(f = fopen(p, "r")))
                return 0;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        rp = strrchr(buf, ')');
        return rp && rp[1] == ' ' ? rp[2] : 0;
}

/* glibc's read() blocks in the kernel; a child signals the parent once it
 * sleeps, waits for the handler to have run, then writes. The handler
 * finds the parent inside the vDSO (glibc entered through AT_SYSINFO),
 * and SA_RESTART restarts the read, which gets the byte. */
static void glibc_through_vdso(void)
{
        struct sigaction sa = { .sa_sigaction = on_usr2,
                                .sa_flags = SA_SIGINFO | SA_RESTART };
        int data[2];
        char c = 0, h;
        pid_t parent = getpid(), kid;

        if (pipe(data) || pipe(sig_pipe))
                return (void)CHECK("pipes", 0);
        sigaction(SIGUSR2, &sa, NULL);
        if ((kid = fork()) == 0) {
                while (proc_state(parent) != 'S')
                        sched_yield();
                kill(parent, SIGUSR2);
                if (read(sig_pipe[0], &h, 1) != 1)
                        _exit(1);
                _exit(write(data[1], "x", 1) != 1);
        }
        ssize_t n = read(data[0], &c, 1);
        int st = -1;
        waitpid(kid, &st, 0);
        CHECK("glibc_syscall_enters_through_vdso",
              interrupted_at >= vdso_lo && interrupted_at < vdso_hi);
        CHECK("restarted_read_through_vdso", n == 1 && c == 'x' &&
                                             WIFEXITED(st) && WEXITSTATUS(st) == 0);
        signal(SIGUSR2, SIG_DFL);
        close(data[0]), close(data[1]), close(sig_pipe[0]), close(sig_pipe[1]);
}

/* The kernel's struct sigaction on i386, for a handler without
 * SA_RESTORER (glibc's sigaction always adds one). */
struct ksigaction {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint32_t mask[2];
};
static void *volatile handler_ra;
static volatile int handled;

static void __attribute__((noinline)) on_plain(int sig)
{
        (void)sig;
        handler_ra = __builtin_return_address(0);
        handled++;
}

static void __attribute__((noinline)) on_rt(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)si, (void)uc;
        handler_ra = __builtin_return_address(0);
        handled++;
}

static int returns_through(void *handler, unsigned long flags, void *want)
{
        struct ksigaction ka = { .handler = handler, .flags = flags };
        volatile int after = 0;

        handler_ra = NULL;
        handled = 0;
        if (syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8) != 0)
                return 0;
        syscall(SYS_kill, getpid(), SIGUSR1);
        after = 1;
        signal(SIGUSR1, SIG_DFL);
        if (!(want && handled == 1 && handler_ra == want && after == 1))
                printf("NOTE vdso: handled %d, returned to %p, want %p\n",
                       handled, handler_ra, want);
        return want && handled == 1 && handler_ra == want && after == 1;
}

static void i386_checks(const struct dso *d)
{
        vsyscall_at = dso_sym(d, "__kernel_vsyscall", "LINUX_2.5");
        sigreturn_at = dso_sym(d, "__kernel_sigreturn", "LINUX_2.5");
        rt_sigreturn_at = dso_sym(d, "__kernel_rt_sigreturn", "LINUX_2.5");
        cgt64 = (int (*)(clockid_t, int64_t *))dso_sym(d, "__vdso_clock_gettime64", VERSION);
        CHECK("has_kernel_vsyscall", vsyscall_at);
        CHECK("has_sigreturns", sigreturn_at && rt_sigreturn_at);
        CHECK("at_sysinfo_is_kernel_vsyscall",
              vsyscall_at && getauxval(AT_SYSINFO) == (uintptr_t)vsyscall_at);
        if (vsyscall_at)
                vsyscall_calls();
        glibc_through_vdso();
        CHECK("handler_returns_to_kernel_sigreturn",
              returns_through((void *)on_plain, 0, sigreturn_at));
        CHECK("handler_returns_to_kernel_rt_sigreturn",
              returns_through((void *)on_rt, SA_SIGINFO, rt_sigreturn_at));
        int ok = cgt64 != NULL;
        for (int n = 0; ok && n < 200; n++) {
                int64_t a[2], c[2];
                ok &= cgt64(CLOCK_MONOTONIC, a) == 0;
                int64_t b = sys_ns(CLOCK_MONOTONIC);
                ok &= cgt64(CLOCK_MONOTONIC, c) == 0;
                ok &= a[0] * NSEC + a[1] <= b && b <= c[0] * NSEC + c[1] &&
                      a[1] >= 0 && a[1] < NSEC;
        }
        CHECK("clock_gettime64_agrees", ok);
        int64_t r[2] = { 0, 0 };
        CHECK("clock_gettime64_realtime", cgt64 && cgt64(CLOCK_REALTIME, r) == 0 &&
                                          llabs(r[0] - (int64_t)time(NULL)) <= 1);
}
#endif

static int64_t vdso_ns(clockid_t c)
{
        struct timespec ts;

        cgt(c, &ts);
        return ts_ns(&ts);
}

static void find(void)
{
        uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR), lo, hi, vlo, vhi;
        char perms[5], vperms[5];
        struct dso d;

        if (!CHECK("auxv_has_sysinfo_ehdr", ehdr != 0))
                exit(utest_done());
        CHECK("maps_names_vdso", maps_find("[vdso]", &lo, &hi, perms) &&
                                 lo == ehdr && strcmp(perms, "r-xp") == 0);
#if defined(__i386__)
        vdso_lo = lo, vdso_hi = hi;
#endif
        CHECK("maps_names_vvar_below", maps_find("[vvar]", &vlo, &vhi, vperms) &&
                                       vhi <= lo && lo - vhi <= 64 * 1024 &&
                                       strcmp(vperms, "r--p") == 0);
        CHECK("vvar_not_writable", mprotect((void *)vlo, PAGE, PROT_READ | PROT_WRITE) != 0);
        if (!CHECK("elf_shared_object_with_dynamic", dso_open(ehdr, &d)))
                exit(utest_done());
        CHECK("symbols_versioned", d.versym && d.verdef);
        cgt = (cgt_fn)dso_sym(&d, "__vdso_clock_gettime", VERSION);
        gtod = (gtod_fn)dso_sym(&d, "__vdso_gettimeofday", VERSION);
#ifdef HAS_TIME
        vtime = (time_fn)dso_sym(&d, "__vdso_time", VERSION);
        CHECK("has_time", vtime);
#endif
        vgetcpu = (getcpu_fn)dso_sym(&d, "__vdso_getcpu", VERSION);
        getres = (getres_fn)dso_sym(&d, "__vdso_clock_getres", VERSION);
        CHECK("has_clock_gettime", cgt);
        CHECK("has_gettimeofday", gtod);
#if defined(__i386__)
        CHECK("no_getcpu_on_i386", !vgetcpu);   /* Linux's vdso32 has none */
#else
        CHECK("has_getcpu", vgetcpu);
#endif
        CHECK("has_clock_getres", getres);
        CHECK("no_such_version", !dso_sym(&d, "__vdso_clock_gettime", "LINUX_9.9"));
#if defined(__riscv)
        sigreturn_at = dso_sym(&d, "__vdso_rt_sigreturn", VERSION);
        CHECK("has_rt_sigreturn", sigreturn_at);
#endif
#if defined(__i386__)
        i386_checks(&d);
#endif
#if defined(__i386__)
        if (!cgt || !gtod || !getres)
#else
        if (!cgt || !gtod || !vgetcpu || !getres)
#endif
                exit(utest_done());
}

/* vdso, then system call, then vdso: in order, for the fine clocks. */
static void agree(void)
{
        static const clockid_t fine[] = { CLOCK_REALTIME, CLOCK_MONOTONIC,
                                          CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW };
        static const clockid_t coarse[] = { CLOCK_REALTIME_COARSE,
                                            CLOCK_MONOTONIC_COARSE };
        static const clockid_t all[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
        int ok = 1;

        for (unsigned i = 0; i < sizeof fine / sizeof fine[0]; i++)
                for (int n = 0; n < 200; n++) {
                        int64_t a = vdso_ns(fine[i]), b = sys_ns(fine[i]), c = vdso_ns(fine[i]);
                        ok &= a <= b && b <= c && c - a < NSEC;
                }
        CHECK("fine_clocks_agree_with_syscall", ok);
        ok = 1;
        for (unsigned i = 0; i < sizeof coarse / sizeof coarse[0]; i++)
                for (int n = 0; n < 200; n++) {
                        int64_t a = vdso_ns(coarse[i]), b = sys_ns(coarse[i]), c = vdso_ns(coarse[i]);
                        ok &= a <= b && b <= c && c - a < NSEC;
                }
        CHECK("coarse_clocks_agree_with_syscall", ok);

        /* Clocks the vDSO passes to the kernel still work, and a bad id is
         * the kernel's EINVAL, returned negated as Linux's vDSO does. */
        struct timespec ts, r1, r2;
        CHECK("cputime_through_vdso", cgt(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 &&
                                      ts_ns(&ts) > 0);
        CHECK("bad_clock_is_einval", cgt(12345, &ts) == -EINVAL);
        ok = 1;
        for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++) {
                memset(&r1, 0x55, sizeof r1), memset(&r2, 0x55, sizeof r2);
                ok &= getres(all[i], &r1) == 0 &&
                      syscall(SYS_clock_getres, all[i], &r2) == 0 &&
                      r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec;
        }
        CHECK("getres_as_syscall", ok);
        CHECK("getres_null", getres(CLOCK_MONOTONIC, NULL) == 0);
        CHECK("getres_bad_clock", getres(12345, &r1) == -EINVAL);

        struct timeval t1, t3, tv2;
        struct timezone z1 = { -1, -1 }, z2 = { -2, -2 };
        ok = 1;
        for (int n = 0; n < 200; n++) {
                gtod(&t1, NULL);
                syscall(SYS_gettimeofday, &tv2, NULL);
                gtod(&t3, NULL);
                int64_t a = t1.tv_sec * 1000000LL + t1.tv_usec;
                int64_t b = tv2.tv_sec * 1000000LL + tv2.tv_usec;
                int64_t c = t3.tv_sec * 1000000LL + t3.tv_usec;
                ok &= a <= b && b <= c && t1.tv_usec < 1000000;
        }
        CHECK("gettimeofday_agrees", ok);
        CHECK("gettimeofday_timezone", gtod(NULL, &z1) == 0 &&
                                       syscall(SYS_gettimeofday, NULL, &z2) == 0 &&
                                       z1.tz_minuteswest == z2.tz_minuteswest &&
                                       z1.tz_dsttime == z2.tz_dsttime);
#ifdef HAS_TIME
        time_t s1 = vtime(NULL), s2 = syscall(SYS_time, NULL), out = 0, s3 = vtime(&out);
        CHECK("time_agrees", s1 <= s2 && s2 <= s3 && s3 - s1 <= 1 && out == s3);
#endif

#if !defined(__i386__)
        /* getcpu: the CPU the system call says, pinned so it cannot move. */
        cpu_set_t set;
        unsigned c1 = 99, n1 = 99, c2 = 98, n2 = 98;
        CPU_ZERO(&set);
        CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &set);
        sched_setaffinity(0, sizeof set, &set);
        CHECK("getcpu_agrees", vgetcpu(&c1, &n1, NULL) == 0 &&
                               syscall(SYS_getcpu, &c2, &n2, NULL) == 0 &&
                               c1 == c2 && n1 == n2);
        CHECK("getcpu_null_ok", vgetcpu(NULL, NULL, NULL) == 0);
#endif

        /* The C library found it as well: its clock_gettime agrees. */
        ok = 1;
        for (int n = 0; n < 200; n++) {
                struct timespec a, c;
                clock_gettime(CLOCK_MONOTONIC, &a);
                int64_t b = vdso_ns(CLOCK_MONOTONIC);
                clock_gettime(CLOCK_MONOTONIC, &c);
                ok &= ts_ns(&a) <= b && b <= ts_ns(&c);
        }
        CHECK("libc_clock_gettime_agrees", ok);
}

#define HAMMERS 3
#define ROUNDS  20000
#define STEP    (1000 * NSEC)   /* the wall clock jumps by 1000 s */

/*
 * Each child reads MONOTONIC and REALTIME through the vDSO ROUNDS times:
 * MONOTONIC never goes back, and REALTIME - MONOTONIC is always one of the
 * offsets the parent sets (base or base + STEP, within 1 s), never a mix.
 */
static int hammer(int64_t base_off)
{
        int64_t prev = 0;

        for (int i = 0; i < ROUNDS; i++) {
                int64_t m = vdso_ns(CLOCK_MONOTONIC);
                int64_t r = vdso_ns(CLOCK_REALTIME);
                int64_t m2 = vdso_ns(CLOCK_MONOTONIC);
                int64_t off = r - m;
                if (m < prev || m2 < m)
                        return 1;
                if (!(llabs(off - base_off) < NSEC || llabs(off - base_off - STEP) < NSEC))
                        return 2;
                prev = m2;
                if (i % 64 == 0)
                        sched_yield();
        }
        return 0;
}

static void hammered(void)
{
        int adjust = getpid() == 1;
        int64_t base_off = vdso_ns(CLOCK_REALTIME) - vdso_ns(CLOCK_MONOTONIC);
        pid_t kids[HAMMERS];
        int ok = 1, sets = 0;

        if (!adjust)
                printf("NOTE vdso: not init, so the wall clock is not set under the hammer\n");
        for (int i = 0; i < HAMMERS; i++)
                if ((kids[i] = fork()) == 0)
                        _exit(hammer(base_off));
        for (int n = 0; adjust && n < 200; n++) {
                struct timespec ts;
                int64_t t = vdso_ns(CLOCK_MONOTONIC) + base_off + (n % 2 ? 0 : STEP);
                ts.tv_sec = t / NSEC, ts.tv_nsec = t % NSEC;
                sets += clock_settime(CLOCK_REALTIME, &ts) == 0;
                sched_yield();
        }
        for (int i = 0; i < HAMMERS; i++) {
                int st = -1;
                waitpid(kids[i], &st, 0);
                ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        if (adjust) {
                struct timespec ts;
                int64_t t = vdso_ns(CLOCK_MONOTONIC) + base_off;
                ts.tv_sec = t / NSEC, ts.tv_nsec = t % NSEC;
                clock_settime(CLOCK_REALTIME, &ts);
                CHECK("clock_was_set", sets == 200);
                CHECK("set_seen_by_vdso", llabs(vdso_ns(CLOCK_REALTIME) -
                                                vdso_ns(CLOCK_MONOTONIC) - base_off) < NSEC);
        }
        CHECK("monotonic_under_hammer", ok);
}

int main(void)
{
        utest_start("vdso");
        find();
        agree();
#if defined(__riscv)
        sigreturn_through_vdso();
#endif
        hammered();
        return utest_done();
}
