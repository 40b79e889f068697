/*
 * abi_i386 - the pieces of the i386 Linux ABI a static glibc program does
 * not exercise by itself, as i386 Linux answers them: int $0x80 directly,
 * set_thread_area and get_thread_area (the TLS descriptor behind %gs,
 * a second one loaded into %fs), the old signal frame and sigreturn of a
 * handler without SA_SIGINFO, the rt frame's sigcontext for a fault,
 * 64-bit values split over two registers (_llseek, pread64/pwrite64 past
 * 4 GiB, ftruncate64), mmap2's page offset, stat64 against statx, the
 * auxiliary vector and where the stack and mmap go (3G/1G split).
 */
#include "../utest.h"
#include <asm/ldt.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ucontext.h>

static long raw3(long nr, long a, long b, long c)
{
        long r;

        __asm__ volatile("int $0x80" : "=a"(r) : "0"(nr), "b"(a), "c"(b),
                         "d"(c) : "memory");
        return r;
}

static unsigned gs_sel(void)
{
        unsigned v;

        __asm__ volatile("movl %%gs, %0" : "=r"(v));
        return v;
}

static void tls(void)
{
        struct user_desc d = { .entry_number = gs_sel() >> 3 };
        uintptr_t self;
        static uint32_t block[4] = { 0x11223344, 0x55667788, 0, 0 };

        __asm__ volatile("movl %%gs:0, %0" : "=r"(self));
        CHECK("gs_is_a_tls_entry", (gs_sel() & 3) == 3 &&
              d.entry_number >= 6 && d.entry_number <= 8);
        CHECK("get_thread_area_of_gs",
              syscall(SYS_get_thread_area, &d) == 0 && d.base_addr == self &&
              d.seg_32bit && d.limit_in_pages && !d.seg_not_present);
        /* a second entry, chosen by the kernel, loaded into %fs */
        struct user_desc n = { .entry_number = -1, .base_addr = (uintptr_t)block,
                               .limit = 0xfffff, .seg_32bit = 1,
                               .limit_in_pages = 1, .useable = 1 };
        CHECK("set_thread_area_any_entry",
              syscall(SYS_set_thread_area, &n) == 0 &&
              n.entry_number >= 6 && n.entry_number <= 8 &&
              n.entry_number != d.entry_number);
        unsigned sel = n.entry_number << 3 | 3, got;
        __asm__ volatile("movl %1, %%fs; movl %%fs:4, %0; movl %2, %%fs"
                         : "=&r"(got) : "r"(sel), "r"(0) : "memory");
        CHECK("fs_reads_through_new_entry", got == 0x55667788);
        /* survives a fork: the child reads through the same entry */
        pid_t pid = fork();
        if (pid == 0) {
                __asm__ volatile("movl %1, %%fs; movl %%fs:0, %0"
                                 : "=&r"(got) : "r"(sel) : "memory");
                _exit(got == 0x11223344 ? 0 : 1);
        }
        int st;
        CHECK("entry_inherited_by_fork", waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* Linux refuses 16-bit, code and absent segments */
        struct user_desc bad = n;
        bad.seg_32bit = 0;
        CHECK_ERR("16_bit_segment_einval", syscall(SYS_set_thread_area, &bad), EINVAL);
        bad = n;
        bad.contents = 2;
        CHECK_ERR("code_segment_einval", syscall(SYS_set_thread_area, &bad), EINVAL);
        bad = n;
        bad.entry_number = 5;
        CHECK_ERR("entry_outside_tls_einval", syscall(SYS_set_thread_area, &bad), EINVAL);
        CHECK_ERR("bad_pointer_efault", syscall(SYS_set_thread_area, (void *)8), EFAULT);
        /* an empty descriptor clears the entry */
        struct user_desc clear = { .entry_number = n.entry_number,
                                   .read_exec_only = 1, .seg_not_present = 1 };
        struct user_desc back = { .entry_number = n.entry_number };
        CHECK("clear_entry", syscall(SYS_set_thread_area, &clear) == 0 &&
              syscall(SYS_get_thread_area, &back) == 0 &&
              back.base_addr == 0 && back.seg_not_present);
}

static volatile int old_sig, usr2_blocked_inside;

static void old_handler(int sig)
{
        sigset_t now;

        old_sig = sig;
        sigprocmask(SIG_BLOCK, NULL, &now);
        usr2_blocked_inside = sigismember(&now, SIGUSR2);
}

static volatile uintptr_t fault_addr, fault_cr2;
static volatile int fault_trapno;
static char *volatile ro_page;

static void segv_handler(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;

        (void)sig;

        fault_addr = (uintptr_t)si->si_addr;
        fault_cr2 = uc->uc_mcontext.cr2;
        fault_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
        mprotect(ro_page, 4096, PROT_READ | PROT_WRITE);
}

static void signals(void)
{
        struct sigaction sa = { .sa_handler = old_handler };
        sigset_t now;

        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGUSR2);
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        sigprocmask(SIG_BLOCK, NULL, &now);
        CHECK("old_frame_handler_ran", old_sig == SIGUSR1);
        CHECK("sa_mask_blocked_inside", usr2_blocked_inside == 1);
        CHECK("sigreturn_restores_mask", !sigismember(&now, SIGUSR2) &&
              !sigismember(&now, SIGUSR1));

        struct sigaction sv = { .sa_sigaction = segv_handler,
                                .sa_flags = SA_SIGINFO };
        sigemptyset(&sv.sa_mask);
        sigaction(SIGSEGV, &sv, NULL);
        ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ro_page[100] = 7;               /* faults once; the handler fixes it */
        CHECK("fault_si_addr", fault_addr == (uintptr_t)ro_page + 100);
        CHECK("fault_sigcontext_cr2_trapno",
              fault_cr2 == (uintptr_t)ro_page + 100 && fault_trapno == 14);
        CHECK("write_retried_after_handler", ro_page[100] == 7);
        signal(SIGSEGV, SIG_DFL);
}

static void split64(void)
{
        char path[] = "/tmp/abi_i386_XXXXXX";
        int fd = mkstemp(path);
        long long pos = -1;
        const long long four_g = 1LL << 32;

        unlink(path);
        CHECK("direct_int80_getpid", raw3(SYS_getpid, 0, 0, 0) == getpid());
        CHECK("llseek_past_4g",
              syscall(SYS__llseek, fd, (long)(four_g >> 32) + 1, 5L, &pos,
                      SEEK_SET) == 0 && pos == 2 * four_g + 5);
        CHECK("llseek_cur_back",
              syscall(SYS__llseek, fd, -1L, (long)(-four_g & 0xffffffff), &pos,
                      SEEK_CUR) == 0 && pos == four_g + 5);
        /* glibc's 64-bit lseek is _llseek */
        CHECK("lseek64_reports_it", lseek64(fd, 0, SEEK_CUR) == four_g + 5);
        CHECK("pread64_past_eof_is_0", pread64(fd, path, 1, four_g + 5) == 0);
        CHECK("pwrite64_small", pwrite64(fd, "abc", 3, 4096 + 7) == 3);
        char buf[4] = { 0 };
        CHECK("pread64_small", pread64(fd, buf, 3, 4096 + 7) == 3 &&
              memcmp(buf, "abc", 3) == 0);
        CHECK("file_offset_untouched", lseek64(fd, 0, SEEK_CUR) == four_g + 5);
        struct stat64 st64;
        CHECK("ftruncate64", ftruncate64(fd, 3 * 4096) == 0 &&
              fstat64(fd, &st64) == 0 && st64.st_size == 3 * 4096);
        CHECK_ERR("ftruncate64_negative", ftruncate64(fd, -1), EINVAL);
        /* mmap2: glibc passes the offset in pages */
        pwrite64(fd, "third", 5, 2 * 4096);
        char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 2 * 4096);
        CHECK("mmap2_page_offset", m != MAP_FAILED && memcmp(m, "third", 5) == 0);
        struct stat64 s;
        struct statx sx;
        CHECK("stat64_matches_statx",
              syscall(SYS_fstat64, fd, &s) == 0 &&
              statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0 &&
              s.st_size == (long long)sx.stx_size && s.st_ino == sx.stx_ino &&
              s.st_nlink == 0 && S_ISREG(s.st_mode));
        close(fd);
}

static void layout(void)
{
        int local;
        void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        const char *plat = (const char *)getauxval(AT_PLATFORM);

        CHECK("stack_below_3g", (uintptr_t)&local < 0xc0000000u &&
              (uintptr_t)&local > 0xb0000000u);
        CHECK("mmap_top_down_below_stack", (uintptr_t)m < (uintptr_t)&local &&
              (uintptr_t)m > 0x80000000u);
        CHECK("auxv_pagesz", getauxval(AT_PAGESZ) == 4096);
        CHECK("auxv_platform_i686", plat && strcmp(plat, "i686") == 0);
        CHECK("auxv_hwcap_has_fpu", getauxval(AT_HWCAP) & 1);
        CHECK_ERR("kernel_address_efault",
                  write(1, (void *)0xc0000000u, 1), EFAULT);
}

int main(void)
{
        utest_start("abi_i386");
        tls();
        signals();
        split64();
        layout();
        return utest_failures != 0;
}
