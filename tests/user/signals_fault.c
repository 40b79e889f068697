/*
 * signals_fault.c - faults as signals (CONCEPTS E27): SIGSEGV with si_addr
 * and SEGV_MAPERR or SEGV_ACCERR, SIGBUS BUS_ADRERR past a file's end,
 * SIGILL, SIGFPE, SIGTRAP and #GP's SIGSEGV with Linux's si_code; the
 * fault's registers in the ucontext (trapno, cr2); a handler that fixes
 * the cause with mprotect and returns re-runs the instruction; a stack
 * overflow caught on the alternate stack; a frame that cannot be written
 * kills; hostile handler addresses and rt_sigreturn frames (non-canonical
 * %rip, kernel selectors, garbage fpstate, reserved MXCSR bits) kill only
 * the process, and reserved RFLAGS bits are dropped, as Linux does.
 * Built with musl and with glibc (signals_fault_glibc).
 */
#include "utest.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <ucontext.h>

static sigjmp_buf env;
static volatile int got_sig, got_code, fixes;
static volatile uintptr_t got_addr;
static volatile long got_trapno, got_cr2, got_rip;

static void on_fault_jump(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;

        got_sig = sig;
        got_code = si->si_code;
        got_addr = (uintptr_t)si->si_addr;
        got_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
        got_cr2 = uc->uc_mcontext.gregs[REG_CR2];
        got_rip = uc->uc_mcontext.gregs[REG_RIP];
        siglongjmp(env, 1);
}

static void catch_with(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fn;
        sa.sa_flags = SA_SIGINFO | flags;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
}

/* Run fn(arg) expecting a fault; 1 if it came (and was caught). */
static int faults(void (*fn)(void *), void *arg)
{
        got_sig = got_code = 0;
        got_addr = 0;
        if (sigsetjmp(env, 1) == 0) {
                fn(arg);
                return 0;
        }
        return 1;
}

static void do_write(void *p) { *(volatile char *)p = 1; }
static void do_read(void *p) { (void)*(volatile char *)p; }

static void segv(void)
{
        uint8_t *m = anon(2 * PAGE, PROT_READ | PROT_WRITE);

        catch_with(SIGSEGV, on_fault_jump, 0);
        munmap(m + PAGE, PAGE);
        CHECK("unmapped_read_segv_maperr", faults(do_read, m + PAGE + 5) &&
              got_sig == SIGSEGV && got_code == SEGV_MAPERR &&
              got_addr == (uintptr_t)(m + PAGE + 5));
        CHECK("fault_context_trapno_and_cr2", got_trapno == 14 &&
              got_cr2 == (long)(m + PAGE + 5));
        mprotect(m, PAGE, PROT_READ);
        CHECK("readonly_write_segv_accerr", faults(do_write, m + 9) &&
              got_sig == SIGSEGV && got_code == SEGV_ACCERR &&
              got_addr == (uintptr_t)(m + 9));
        CHECK("null_read_segv_maperr", faults(do_read, NULL) &&
              got_code == SEGV_MAPERR && got_addr == 0);
        CHECK("kernel_address_segv", faults(do_read, (void *)0xffff800000001000UL) &&
              got_sig == SIGSEGV);
        /* the handler stays installed: a second fault is caught again */
        CHECK("second_fault_caught_again", faults(do_write, m) &&
              got_code == SEGV_ACCERR);
        munmap(m, PAGE);
}

static volatile uint8_t *fix_page;

static void on_fault_fix(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)uc;
        fixes++;
        mprotect((void *)((uintptr_t)si->si_addr & ~(PAGE - 1)), PAGE,
                 PROT_READ | PROT_WRITE);
}

static void fix_and_retry(void)
{
        fix_page = anon(PAGE, PROT_NONE);      /* volatile: the stores happen
                                                 * before the checks */
        catch_with(SIGSEGV, on_fault_fix, 0);
        fixes = 0;
        fix_page[100] = 42;                     /* faults, fixed, runs again */
        CHECK("handler_fixes_with_mprotect_and_retries",
              fixes == 1 && fix_page[100] == 42);
        mprotect((void *)fix_page, PAGE, PROT_READ);
        fix_page[200] = 7;
        CHECK("retry_after_readonly", fixes == 2 && fix_page[200] == 7);
        munmap((void *)fix_page, PAGE);
        signal(SIGSEGV, SIG_DFL);
}

static void sigbus(const char *path)
{
        int fd = open(path, O_RDONLY);
        char *m = fd < 0 ? MAP_FAILED :
                  mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);

        if (m == MAP_FAILED) {
                CHECK("map_data_file", 0);
                return;
        }
        catch_with(SIGBUS, on_fault_jump, 0);
        CHECK("read_past_file_end_sigbus_adrerr", faults(do_read, m + PAGE + 1) &&
              got_sig == SIGBUS && got_code == BUS_ADRERR &&
              got_addr == (uintptr_t)(m + PAGE + 1));
        munmap(m, 2 * PAGE);
        close(fd);
        signal(SIGBUS, SIG_DFL);
}

static void do_ud2(void *p) { (void)p; __asm__ volatile("ud2"); }
static void do_div0(void *p)
{
        volatile int zero = (int)(uintptr_t)p;
        int r;

        __asm__ volatile("cltd; idivl %2" : "=a"(r) : "a"(1), "r"(zero) : "rdx");
        (void)r;
}
static void do_hlt(void *p) { (void)p; __asm__ volatile("hlt"); }

static void on_trap_count(int sig, siginfo_t *si, void *uc)
{
        (void)uc;
        got_sig = sig;
        got_code = si->si_code;
        fixes++;
}

/* SIGILL skips the ud2 by moving %rip in the saved context. */
static void on_ill_skip(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;

        got_sig = sig;
        got_code = si->si_code;
        got_addr = (uintptr_t)si->si_addr;
        got_rip = uc->uc_mcontext.gregs[REG_RIP];
        uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void other_exceptions(void)
{
        catch_with(SIGILL, on_fault_jump, 0);
        CHECK("ud2_sigill_illopn", faults(do_ud2, NULL) && got_sig == SIGILL &&
              got_code == ILL_ILLOPN && got_addr == (uintptr_t)got_rip &&
              got_trapno == 6);
        catch_with(SIGILL, on_ill_skip, 0);
        got_sig = 0;
        __asm__ volatile("ud2");
        CHECK("handler_moves_rip_past_ud2", got_sig == SIGILL &&
              got_addr == (uintptr_t)got_rip);
        catch_with(SIGFPE, on_fault_jump, 0);
        CHECK("divide_by_zero_sigfpe_intdiv", faults(do_div0, NULL) &&
              got_sig == SIGFPE && got_code == FPE_INTDIV && got_trapno == 0);
        catch_with(SIGSEGV, on_fault_jump, 0);
        CHECK("hlt_general_protection_segv_si_kernel", faults(do_hlt, NULL) &&
              got_sig == SIGSEGV && got_code == SI_KERNEL && got_addr == 0 &&
              got_trapno == 13);
        signal(SIGSEGV, SIG_DFL);
        catch_with(SIGTRAP, on_trap_count, 0);
        fixes = 0;
        __asm__ volatile("int3");
        CHECK("int3_sigtrap_then_continues", fixes == 1 && got_sig == SIGTRAP &&
              got_code == SI_KERNEL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        signal(SIGTRAP, SIG_DFL);
}

/* What a child's end looks like. */
static int child_status(void (*fn)(void))
{
        int st = -1;
        pid_t pid = fork();

        if (pid == 0) {
                fn();
                _exit(0);
        }
        waitpid(pid, &st, 0);
        return st;
}

static int depth(int n)
{
        volatile char pad[512];

        pad[0] = (char)n;
        return n > 0 ? depth(n + 1) + pad[0] : 0;
}

static void on_overflow(int sig)
{
        (void)sig;
        _exit(42);
}

static void overflow_on_altstack(void)
{
        static char alt[64 * 1024];
        stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
        struct sigaction sa;

        sigaltstack(&ss, NULL);
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_overflow;
        sa.sa_flags = SA_ONSTACK;
        sigaction(SIGSEGV, &sa, NULL);
        depth(1);
}

static void overflow_without_altstack(void)
{
        signal(SIGSEGV, on_overflow);
        depth(1);
}

static void on_usr1_noop(int sig) { (void)sig; }

/* The stack pointer is garbage when a signal comes: no frame, SIGSEGV. */
static void unwritable_frame(void)
{
        signal(SIGUSR1, on_usr1_noop);
        __asm__ volatile(
                "movq %%rsp, %%r12\n\t"
                "movq $0x1000, %%rsp\n\t"
                "movl %[nr], %%eax\n\t"
                "syscall\n\t"
                "movq %%r12, %%rsp\n\t"
                : : [nr] "i"(SYS_kill), "D"((long)getpid()), "S"((long)SIGUSR1)
                : "rax", "rcx", "r11", "r12", "memory");
}

static void hostile_handler(void *addr)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = (void (*)(int))addr;
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
}
static void handler_unmapped(void) { hostile_handler((void *)0x100000000UL); }
static void handler_kernel(void) { hostile_handler((void *)0xffffffff81000000UL); }
static void handler_noncanonical(void) { hostile_handler((void *)0x0000800000000000UL); }

/* No SA_RESTORER: on x86-64 the frame has no return address. */
static void handler_without_restorer(void)
{
        uint64_t act[4] = { (uint64_t)on_usr1_noop, 0, 0, 0 };

        syscall(SYS_rt_sigaction, SIGUSR1, act, NULL, 8);
        raise(SIGUSR1);
}

static volatile int sabotage;

/* A handler that corrupts the context rt_sigreturn will read. */
static void on_usr1_sabotage(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;

        (void)sig, (void)si;
        switch (sabotage) {
        case 1: uc->uc_mcontext.gregs[REG_RIP] = 0x0000800000000000L; break;
        case 2: uc->uc_mcontext.gregs[REG_RIP] = (long)0xffff800000000000UL; break;
        case 3: /* a kernel code selector (cs is the low 16 bits of CSGSFS) */
                uc->uc_mcontext.gregs[REG_CSGSFS] =
                        (uc->uc_mcontext.gregs[REG_CSGSFS] & ~0xffffL) | 0x10;
                break;
        case 4: /* a kernel stack selector (ss is bits 48-63) */
                uc->uc_mcontext.gregs[REG_CSGSFS] =
                        (uc->uc_mcontext.gregs[REG_CSGSFS] & ~(0xffffL << 48)) |
                        (0x10L << 48);
                break;
        case 5: uc->uc_mcontext.fpregs = (void *)0x10; break;
        case 6: /* IOPL 3, VM, VIF and a reserved bit: dropped */
                uc->uc_mcontext.gregs[REG_EFL] |= 0x3000 | 0x20000 | 0x80000 | 0x8000;
                break;
        case 7: uc->uc_mcontext.fpregs->mxcsr = 0xffffffff; break;
        }
}

static void sigreturn_with(int how)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_usr1_sabotage;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGUSR1, &sa, NULL);
        sabotage = how;
        raise(SIGUSR1);
}
static void bad_rip_noncanonical(void) { sigreturn_with(1); }
static void bad_rip_kernel(void) { sigreturn_with(2); }
static void bad_cs(void) { sigreturn_with(3); }
static void bad_ss(void) { sigreturn_with(4); }
static void bad_fpstate(void) { sigreturn_with(5); }
static void bad_mxcsr(void) { sigreturn_with(7); }

/* rt_sigreturn called with nothing like a frame under the stack. */
static void garbage_frame(void)
{
        static uint64_t junk[128];

        memset(junk, 0xa5, sizeof junk);
        __asm__ volatile("movq %0, %%rsp\n\tmovl $15, %%eax\n\tsyscall"
                         : : "r"(junk + 64) : "rax", "memory");
}

static int killed_by_segv(int st)
{
        return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static void hostile(void)
{
        int st;

        st = child_status(overflow_on_altstack);
        CHECK("stack_overflow_caught_on_altstack", WIFEXITED(st) && WEXITSTATUS(st) == 42);
        st = child_status(overflow_without_altstack);
        CHECK("stack_overflow_without_altstack_kills", killed_by_segv(st));
        st = child_status(unwritable_frame);
        CHECK("unwritable_signal_frame_kills_segv", killed_by_segv(st));
        st = child_status(handler_unmapped);
        CHECK("handler_at_unmapped_address_segv", killed_by_segv(st));
        st = child_status(handler_kernel);
        CHECK("handler_at_kernel_address_segv", killed_by_segv(st));
        st = child_status(handler_noncanonical);
        CHECK("handler_at_noncanonical_address_segv", killed_by_segv(st));
        st = child_status(handler_without_restorer);
        CHECK("handler_without_sa_restorer_segv", killed_by_segv(st));
        st = child_status(bad_rip_noncanonical);
        CHECK("sigreturn_noncanonical_rip_segv", killed_by_segv(st));
        st = child_status(bad_rip_kernel);
        CHECK("sigreturn_kernel_rip_segv", killed_by_segv(st));
        st = child_status(bad_cs);
        CHECK("sigreturn_kernel_cs_segv", killed_by_segv(st));
        st = child_status(bad_ss);
        CHECK("sigreturn_kernel_ss_segv", killed_by_segv(st));
        st = child_status(bad_fpstate);
        CHECK("sigreturn_bad_fpstate_segv", killed_by_segv(st));
        st = child_status(garbage_frame);
        CHECK("sigreturn_garbage_frame_segv", killed_by_segv(st));

        uint64_t flags;
        sigreturn_with(6);
        __asm__ volatile("pushfq; popq %0" : "=r"(flags));
        CHECK("sigreturn_reserved_rflags_dropped",
              (flags & (0x3000 | 0x20000 | 0x80000 | 0x8000)) == 0 && (flags & 0x200));
        st = child_status(bad_mxcsr);
        CHECK("sigreturn_reserved_mxcsr_bits_segv", killed_by_segv(st));
        signal(SIGUSR1, SIG_DFL);
}

int main(int argc, char **argv)
{
        utest_start("signals_fault");
        segv();
        fix_and_retry();
        sigbus(argc > 1 ? argv[argc - 1] : "tests/user/data.txt");
        other_exceptions();
        hostile();
        return utest_done();
}
