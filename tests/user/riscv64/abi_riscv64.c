/*
 * abi_riscv64 - the parts of Linux's riscv64 process ABI that a glibc
 * static program leans on, checked from inside one: the name the kernel
 * gives the machine, the auxiliary vector, TLS through tp, the
 * floating-point registers across system calls, context switches and
 * fork, and signal delivery (the handler's arguments, its ucontext's pc
 * and registers, the way back through rt_sigreturn, a fault that the
 * handler repairs). Runs on riscv64 Linux (the referee) and on Mercator.
 */
#include "../utest.h"
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <ucontext.h>

#define PAGE 4096UL

static __thread int tls_counter = 41;
static __thread char tls_name[16] = "thread-local";

static volatile int got_sig;
static volatile uint64_t got_pc, got_addr, got_a0;
static volatile void *got_uc;

static volatile int usr2_blocked_in_handler;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;
        sigset_t now;

        sigprocmask(SIG_BLOCK, NULL, &now);
        usr2_blocked_in_handler = sigismember(&now, SIGUSR2);

        got_sig = sig;
        got_uc = ucv;
        got_pc = uc->uc_mcontext.__gregs[REG_PC];
        got_a0 = uc->uc_mcontext.__gregs[REG_A0];
        (void)si;
}

static char *fault_page;

/* A write to a read-only page: make it writable and return to retry. */
static void on_segv(int sig, siginfo_t *si, void *ucv)
{
        got_sig = sig;
        got_addr = (uint64_t)si->si_addr;
        got_pc = ((ucontext_t *)ucv)->uc_mcontext.__gregs[REG_PC];
        mprotect(fault_page, PAGE, PROT_READ | PROT_WRITE);
}

/* FP work whose result is known, with a system call in the middle. */
static double fp_work(double x)
{
        double acc = 0;

        for (int i = 1; i <= 20; i++) {
                acc += x / i;
                if (i == 10)
                        getppid();      /* registers survive the trap */
        }
        return acc;
}

int main(void)
{
        struct utsname u;
        struct sigaction sa;
        unsigned long hwcap = getauxval(AT_HWCAP);

        utest_start("abi_riscv64");

        CHECK("uname_machine_riscv64", uname(&u) == 0 &&
              strcmp(u.sysname, "Linux") == 0 &&
              strcmp(u.machine, "riscv64") == 0);
        /* Linux: bit (letter - 'a') per single-letter extension. */
        CHECK("hwcap_imafdc", (hwcap & 0x1129) == 0x1129 &&
              (hwcap & (1UL << ('c' - 'a'))));
        CHECK("auxv_pagesz", getauxval(AT_PAGESZ) == PAGE);
        CHECK("auxv_phdr_and_entry", getauxval(AT_PHDR) != 0 &&
              getauxval(AT_ENTRY) != 0 && getauxval(AT_PHENT) == 56);
        CHECK("auxv_random", getauxval(AT_RANDOM) != 0);

        /* TLS: the initial values came from PT_TLS, tp points at them. */
        uint64_t tp;
        __asm__ volatile("mv %0, tp" : "=r"(tp));
        CHECK("tls_initial_values", tls_counter == 41 &&
              strcmp(tls_name, "thread-local") == 0);
        tls_counter++;
        CHECK("tls_through_tp", tp != 0 && tls_counter == 42 &&
              (uint64_t)&tls_counter - tp < 4096);

        /* FP across a system call, and then across fork + a switch. */
        double want = 0;
        for (int i = 1; i <= 20; i++)
                want += 3.0 / i;
        CHECK("fp_across_syscall", fp_work(3.0) == want);
        double keep = 1.0 / 3.0;
        pid_t pid = fork();
        if (pid == 0) {
                double mine = 2.0 / 7.0;
                sched_yield();
                /* glibc's fork is clone(CHILD_SETTID, ..., &tid) in
                 * riscv64's argument order (tls before child_tid): the
                 * child's cached tid must be its own for raise() */
                signal(SIGUSR2, SIG_IGN);
                _exit(mine == 2.0 / 7.0 && keep == 1.0 / 3.0 &&
                      fp_work(3.0) == want && raise(SIGUSR2) == 0 ? 0 : 1);
        }
        volatile double other = 5.0 / 9.0;
        sched_yield();
        int status = -1;
        CHECK("fp_across_fork_and_switch", pid > 0 &&
              waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0 && other == 5.0 / 9.0 &&
              keep == 1.0 / 3.0);

        /* A signal: handler(sig, info, uc), uc's pc is where it hit, the
         * handler returns through rt_sigreturn to right after kill. */
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_usr1;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGUSR2);
        CHECK("sigaction", sigaction(SIGUSR1, &sa, NULL) == 0);
        int before = 7;
        CHECK("signal_delivered_and_returned", raise(SIGUSR1) == 0 &&
              got_sig == SIGUSR1 && before == 7);
        CHECK("signal_ucontext_pc_in_text", got_pc >= 0x10000 &&
              got_pc < getauxval(AT_ENTRY) + (8 << 20));
        CHECK("signal_ucontext_16_aligned",
              ((uint64_t)got_uc & 15) == 0);
        CHECK("sa_mask_blocked_in_handler", usr2_blocked_in_handler == 1);
        /* The kernel's struct sigaction is riscv64's (no sa_restorer):
         * what it writes back ends where that struct ends. */
        struct {
                uint64_t handler, flags, mask;
                uint64_t guard;
        } raw;
        memset(&raw, 0x5a, sizeof raw);
        CHECK("rt_sigaction_layout", syscall(SYS_rt_sigaction, SIGUSR1, NULL,
                                             &raw, 8) == 0 &&
              raw.handler == (uint64_t)on_usr1 &&
              (raw.flags & SA_SIGINFO) &&
              raw.mask == 1UL << (SIGUSR2 - 1) &&
              raw.guard == 0x5a5a5a5a5a5a5a5aUL);

        /* A fault the handler repairs: the store is retried. */
        fault_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0);
        sa.sa_sigaction = on_segv;
        got_sig = 0;
        CHECK("sigaction_segv", fault_page != MAP_FAILED &&
              sigaction(SIGSEGV, &sa, NULL) == 0);
        /* volatile: the compiler must not move the store past the reads
         * of what the handler wrote */
        *(volatile char *)&fault_page[100] = 'x';
        CHECK("fault_repaired_and_retried", got_sig == SIGSEGV &&
              got_addr == (uint64_t)fault_page + 100 &&
              fault_page[100] == 'x');
        return utest_done();
}
