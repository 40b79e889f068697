/*
 * signals.c - signal handlers with Linux's semantics: delivery, siginfo,
 * masks during and after handlers, SA_NODEFER/SA_RESETHAND/SA_RESTART,
 * pending and blocked signals, real-time queueing (sigqueue), sigsuspend,
 * sigtimedwait, the alternate stack, registers and SSE state a handler
 * changes, EINTR against restart on a pipe read, fork and exec
 * inheritance, process groups, and bad arguments.
 * Built with musl and with glibc (signals_glibc).
 */
#include "utest.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)        /* Linux's; musl does not name it */
#endif

static volatile sig_atomic_t hits;
static volatile int last_sig, last_code, last_pid, last_value;
static volatile int blocked_inside;     /* was the signal blocked in its handler */
static volatile int other_blocked_inside;

static void on_signal(int sig)
{
        hits++;
        last_sig = sig;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
        sigset_t now;

        (void)uc;
        hits++;
        last_sig = sig;
        last_code = si->si_code;
        last_pid = si->si_pid;
        last_value = si->si_value.sival_int;
        sigprocmask(SIG_BLOCK, NULL, &now);
        blocked_inside = sigismember(&now, sig);
        other_blocked_inside = sigismember(&now, SIGUSR2);
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = fn;
        sa.sa_flags = flags;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
}

static void set_info_handler(int sig, int flags, int also_block)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_info;
        sa.sa_flags = SA_SIGINFO | flags;
        sigemptyset(&sa.sa_mask);
        if (also_block)
                sigaddset(&sa.sa_mask, also_block);
        sigaction(sig, &sa, NULL);
}

static void reset(void) { hits = 0; last_sig = last_code = last_pid = 0; }

static void delivery(void)
{
        sigset_t none, now;

        reset();
        set_handler(SIGUSR1, on_signal, 0);
        CHECK("kill_self_runs_handler", kill(getpid(), SIGUSR1) == 0 &&
              hits == 1 && last_sig == SIGUSR1);
        reset();
        raise(SIGUSR1);
        CHECK("raise_runs_handler", hits == 1);

        reset();
        set_info_handler(SIGUSR1, 0, SIGUSR2);
        kill(getpid(), SIGUSR1);
        CHECK("siginfo_from_kill", hits == 1 && last_code == SI_USER &&
              last_pid == getpid());
        CHECK("signal_blocked_in_its_handler", blocked_inside == 1);
        CHECK("sa_mask_blocked_in_handler", other_blocked_inside == 1);
        sigemptyset(&none);
        sigprocmask(SIG_BLOCK, NULL, &now);
        CHECK("mask_restored_after_handler", !sigismember(&now, SIGUSR1) &&
              !sigismember(&now, SIGUSR2));

        reset();
        set_info_handler(SIGUSR1, SA_NODEFER, 0);
        kill(getpid(), SIGUSR1);
        CHECK("sa_nodefer_leaves_it_unblocked", hits == 1 && blocked_inside == 0);

        struct sigaction old;
        reset();
        set_info_handler(SIGUSR1, SA_RESETHAND, 0);
        kill(getpid(), SIGUSR1);
        sigaction(SIGUSR1, NULL, &old);
        CHECK("sa_resethand_resets", hits == 1 && old.sa_handler == SIG_DFL);

        reset();
        set_handler(SIGUSR2, SIG_IGN, 0);
        kill(getpid(), SIGUSR2);
        sigpending(&now);
        CHECK("ignored_signal_is_dropped", !sigismember(&now, SIGUSR2));
        set_handler(SIGUSR2, SIG_DFL, 0);

        /* many signals, one at a time: none lost, the kernel survives */
        reset();
        set_handler(SIGUSR1, on_signal, 0);
        for (int i = 0; i < 5000; i++)
                kill(getpid(), SIGUSR1);
        CHECK("storm_of_5000_delivered", hits == 5000);
}

static void masks(void)
{
        sigset_t set, pend, old;

        reset();
        set_handler(SIGUSR1, on_signal, 0);
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, &old);
        kill(getpid(), SIGUSR1);
        kill(getpid(), SIGUSR1);
        sigpending(&pend);
        CHECK("blocked_signal_pends", hits == 0 && sigismember(&pend, SIGUSR1));
        sigprocmask(SIG_SETMASK, &old, NULL);
        CHECK("unblock_delivers_once", hits == 1);
        sigpending(&pend);
        CHECK("nothing_pending_after", !sigismember(&pend, SIGUSR1));

        sigfillset(&set);
        sigprocmask(SIG_SETMASK, &set, &old);
        sigprocmask(SIG_SETMASK, NULL, &set);
        CHECK("sigkill_sigstop_never_blocked", !sigismember(&set, SIGKILL) &&
              !sigismember(&set, SIGSTOP) && sigismember(&set, SIGTERM));
        sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile int rt_order[8], rt_n;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)uc;
        if (rt_n < 8)
                rt_order[rt_n++] = si->si_value.sival_int;
}

static void queueing(void)
{
        struct sigaction sa;
        sigset_t set, old;
        union sigval v;

        reset();
        set_info_handler(SIGRTMIN, 0, 0);
        v.sival_int = 42;
        CHECK("sigqueue_delivers", sigqueue(getpid(), SIGRTMIN, v) == 0 &&
              hits == 1 && last_code == SI_QUEUE && last_value == 42 &&
              last_pid == getpid());

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_rt;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGRTMIN + 1, &sa, NULL);
        sigemptyset(&set);
        sigaddset(&set, SIGRTMIN + 1);
        sigprocmask(SIG_BLOCK, &set, &old);
        for (int i = 1; i <= 3; i++) {
                v.sival_int = i;
                sigqueue(getpid(), SIGRTMIN + 1, v);
        }
        rt_n = 0;
        sigprocmask(SIG_SETMASK, &old, NULL);
        CHECK("realtime_signals_queue_in_order", rt_n == 3 && rt_order[0] == 1 &&
              rt_order[1] == 2 && rt_order[2] == 3);
        /* sigqueueinfo with a kernel si_code to another process: EPERM */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_code = SI_USER;
        pid_t pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        CHECK_ERR("sigqueueinfo_kernel_code_to_other_eperm",
                  syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si), EPERM);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void suspend_and_wait(void)
{
        sigset_t set, old, empty;
        siginfo_t si;
        struct timespec ts = { 0, 20 * 1000 * 1000 };

        reset();
        set_handler(SIGUSR1, on_signal, 0);
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, &old);
        pid_t parent = getpid(), pid = fork();
        if (pid == 0) {
                usleep(30 * 1000);
                kill(parent, SIGUSR1);
                _exit(0);
        }
        sigemptyset(&empty);
        int r = sigsuspend(&empty);
        CHECK("sigsuspend_returns_eintr_after_handler", r == -1 && errno == EINTR &&
              hits == 1);
        sigprocmask(SIG_BLOCK, NULL, &set);
        CHECK("sigsuspend_restores_mask", sigismember(&set, SIGUSR1));
        waitpid(pid, NULL, 0);

        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        sigprocmask(SIG_BLOCK, &set, NULL);
        kill(getpid(), SIGUSR2);
        CHECK("sigtimedwait_takes_pending", sigtimedwait(&set, &si, &ts) == SIGUSR2 &&
              si.si_signo == SIGUSR2 && si.si_code == SI_USER &&
              si.si_pid == getpid());
        CHECK_ERR("sigtimedwait_times_out", sigtimedwait(&set, &si, &ts), EAGAIN);
        pid = fork();
        if (pid == 0) {
                usleep(30 * 1000);
                kill(parent, SIGUSR2);
                _exit(0);
        }
        CHECK("sigwaitinfo_sleeps_until_sent", sigwaitinfo(&set, &si) == SIGUSR2 &&
              si.si_pid == pid);
        waitpid(pid, NULL, 0);

        /* SIGCHLD's default is to ignore it, yet a sigtimedwait that began
         * with it blocked takes one sent while it waits (trinity's main
         * loop waits for its children so) */
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        pid = fork();
        if (pid == 0) {
                usleep(100 * 1000);
                _exit(0);
        }
        struct timespec five = { 5, 0 };
        CHECK("sigtimedwait_takes_default_ignored_sent_while_waiting",
              sigtimedwait(&set, &si, &five) == SIGCHLD && si.si_pid == pid &&
              si.si_code == CLD_EXITED);
        waitpid(pid, NULL, 0);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        sigprocmask(SIG_SETMASK, &old, NULL);
}

static char altstack[64 * 1024];
static volatile int on_alt, alt_eperm, alt_flags;

static void on_alt_handler(int sig)
{
        char here;
        stack_t ss, now;

        (void)sig;
        on_alt = &here >= altstack && &here < altstack + sizeof altstack;
        sigaltstack(NULL, &now);
        alt_flags = now.ss_flags;
        memset(&ss, 0, sizeof ss);
        ss.ss_flags = SS_DISABLE;
        alt_eperm = sigaltstack(&ss, NULL) == -1 && errno == EPERM;
}

static void alternate_stack(void)
{
        stack_t ss, old;

        memset(&ss, 0, sizeof ss);
        ss.ss_sp = altstack;
        ss.ss_size = sizeof altstack;
        CHECK("sigaltstack_set", sigaltstack(&ss, &old) == 0 &&
              old.ss_flags == SS_DISABLE);
        set_handler(SIGUSR1, on_alt_handler, SA_ONSTACK);
        raise(SIGUSR1);
        CHECK("sa_onstack_runs_on_altstack", on_alt == 1);
        CHECK("sigaltstack_reports_onstack_inside", alt_flags == SS_ONSTACK);
        CHECK("sigaltstack_change_on_it_eperm", alt_eperm == 1);
        set_handler(SIGUSR1, on_alt_handler, 0);
        raise(SIGUSR1);
        CHECK("without_sa_onstack_stays_put", on_alt == 0);
        sigaltstack(NULL, &old);
        CHECK("sigaltstack_query", old.ss_sp == altstack &&
              old.ss_size == sizeof altstack && old.ss_flags == 0);
        ss.ss_size = 100;
        CHECK_ERR("sigaltstack_too_small_enomem", sigaltstack(&ss, NULL), ENOMEM);
        ss.ss_size = sizeof altstack;
        ss.ss_flags = 12345;
        CHECK_ERR("sigaltstack_bad_flags_einval", sigaltstack(&ss, NULL), EINVAL);
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, NULL);
        sigaltstack(NULL, &old);
        CHECK("sigaltstack_disable", old.ss_flags == SS_DISABLE);

        /* SS_AUTODISARM: no alternate stack inside the handler, back after */
        ss.ss_flags = (int)SS_AUTODISARM;
        ss.ss_size = sizeof altstack;
        CHECK("sigaltstack_autodisarm_set", sigaltstack(&ss, NULL) == 0);
        set_handler(SIGUSR1, on_alt_handler, SA_ONSTACK);
        alt_flags = -1;
        raise(SIGUSR1);
        CHECK("autodisarm_handler_on_altstack_sees_it_disabled",
              on_alt == 1 && alt_flags == SS_DISABLE && alt_eperm == 0);
        sigaltstack(NULL, &old);
        CHECK("autodisarm_rearmed_after_return", old.ss_sp == altstack &&
              (old.ss_flags & SS_AUTODISARM));
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, NULL);
        set_handler(SIGUSR1, SIG_DFL, 0);
}

/* The handler changes saved registers; rt_sigreturn must install them. */
static void on_change_regs(int sig, siginfo_t *si, void *ucv)
{
        ucontext_t *uc = ucv;

        (void)sig, (void)si;
        uc->uc_mcontext.gregs[REG_R12] = 0x5678;
        uc->uc_mcontext.gregs[REG_RBX] = 0x9abc;
        /* xmm1's low quadword in the fxsave image (xmm area at 160) */
        uint64_t *xmm1 = (uint64_t *)((char *)uc->uc_mcontext.fpregs + 160 + 16);
        *xmm1 = 0x1122334455667788ULL;
        __asm__ volatile("pxor %%xmm1, %%xmm1" ::: "xmm1");     /* handler's own */
}

static void registers(void)
{
        struct sigaction sa;
        uint64_t r12, rbx, xmm, r13;

        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_change_regs;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGUSR1, &sa, NULL);
        __asm__ volatile(
                "movq $0x1234, %%r12\n\t"
                "movq $0x4321, %%rbx\n\t"
                "movq $0x7777, %%r13\n\t"
                "movq $0x1, %%rax\n\t"
                "movq %%rax, %%xmm1\n\t"
                "movl %[nr], %%eax\n\t"
                "movq %[pid], %%rdi\n\t"
                "movq %[sig], %%rsi\n\t"
                "syscall\n\t"
                "movq %%r12, %[r12]\n\t"
                "movq %%rbx, %[rbx]\n\t"
                "movq %%r13, %[r13]\n\t"
                "movq %%xmm1, %[xmm]\n\t"
                : [r12] "=m"(r12), [rbx] "=m"(rbx), [r13] "=m"(r13), [xmm] "=m"(xmm)
                : [nr] "i"(SYS_kill), [pid] "r"((long)getpid()), [sig] "i"((long)SIGUSR1)
                : "rax", "rdi", "rsi", "rcx", "r11", "r12", "rbx", "r13", "xmm1",
                  "memory");
        CHECK("handler_changes_general_registers", r12 == 0x5678 && rbx == 0x9abc);
        CHECK("untouched_registers_survive", r13 == 0x7777);
        CHECK("handler_changes_sse_registers", xmm == 0x1122334455667788ULL);
}

/* EINTR or restart for a read on an empty pipe, as SA_RESTART says. */
static void restart(void)
{
        int fds[2];
        char buf[8];

        for (int restart = 0; restart <= 1; restart++) {
                set_handler(SIGUSR1, on_signal, restart ? SA_RESTART : 0);
                pipe(fds);
                pid_t parent = getpid(), pid = fork();
                if (pid == 0) {         /* the parent is in read() by then */
                        usleep(100 * 1000);
                        kill(parent, SIGUSR1);
                        usleep(100 * 1000);
                        write(fds[1], "x", 1);
                        _exit(0);
                }
                reset();
                long n = read(fds[0], buf, sizeof buf);
                if (restart)
                        CHECK("sa_restart_restarts_pipe_read", n == 1 && hits == 1);
                else
                        CHECK("pipe_read_interrupted_eintr", n == -1 && errno == EINTR &&
                              hits == 1);
                waitpid(pid, NULL, 0);
                close(fds[0]);
                close(fds[1]);
        }
}

static void sigpipe(void)
{
        int fds[2];

        reset();
        set_handler(SIGPIPE, on_signal, 0);
        pipe(fds);
        close(fds[0]);
        CHECK("write_to_closed_pipe_epipe_and_sigpipe",
              write(fds[1], "x", 1) == -1 && errno == EPIPE && hits == 1 &&
              last_sig == SIGPIPE);
        close(fds[1]);
        set_handler(SIGPIPE, SIG_DFL, 0);
}

static void inheritance(const char *self)
{
        sigset_t set, pend;
        int st;

        set_handler(SIGUSR1, on_signal, 0);
        set_handler(SIGUSR2, SIG_IGN, 0);
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        kill(getpid(), SIGINT);                 /* pending in the parent */
        pid_t pid = fork();
        if (pid == 0) {
                struct sigaction sa;
                sigprocmask(SIG_BLOCK, NULL, &set);
                sigpending(&pend);
                sigaction(SIGUSR1, NULL, &sa);
                _exit(sigismember(&set, SIGINT) && !sigismember(&pend, SIGINT) &&
                      sa.sa_handler == on_signal ? 0 : 1);
        }
        CHECK("fork_inherits_mask_and_handlers_not_pending",
              waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        pid = fork();
        if (pid == 0) {
                execl(self, self, "--after-exec", (char *)NULL);
                _exit(9);
        }
        waitpid(pid, &st, 0);
        CHECK("exec_resets_handlers_keeps_ignored_and_mask",
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        sigset_t take;
        sigemptyset(&take);
        sigaddset(&take, SIGINT);
        struct timespec zero = { 0, 0 };
        sigtimedwait(&take, NULL, &zero);       /* drop the pending SIGINT */
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        set_handler(SIGUSR2, SIG_DFL, 0);
}

/* After execve: what survived? (exit status 0: as Linux) */
static int after_exec(void)
{
        struct sigaction a1, a2;
        sigset_t set, pend;

        sigaction(SIGUSR1, NULL, &a1);
        sigaction(SIGUSR2, NULL, &a2);
        sigprocmask(SIG_BLOCK, NULL, &set);
        sigpending(&pend);
        if (a1.sa_handler != SIG_DFL)
                return 1;
        if (a2.sa_handler != SIG_IGN)
                return 2;
        if (!sigismember(&set, SIGINT))
                return 3;
        return 0;
}

static void bad_input(void)
{
        struct sigaction sa;
        sigset_t set;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        CHECK_ERR("sigaction_signal_0_einval", sigaction(0, &sa, NULL), EINVAL);
        CHECK_ERR("sigaction_signal_65_einval", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
        CHECK_ERR("sigaction_sigkill_einval", sigaction(SIGKILL, &sa, NULL), EINVAL);
        CHECK_ERR("sigaction_sigstop_einval", sigaction(SIGSTOP, &sa, NULL), EINVAL);
        CHECK("sigaction_query_sigkill_ok", sigaction(SIGKILL, NULL, &sa) == 0);
        CHECK_ERR("rt_sigaction_bad_size_einval",
                  syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4), EINVAL);
        CHECK_ERR("rt_sigaction_bad_pointer_efault",
                  syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 8), EFAULT);
        CHECK_ERR("rt_sigaction_bad_old_pointer_efault",
                  syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)8, 8), EFAULT);
        sigemptyset(&set);
        CHECK_ERR("sigprocmask_bad_how_einval",
                  syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8), EINVAL);
        CHECK_ERR("sigprocmask_bad_size_einval",
                  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16), EINVAL);
        CHECK_ERR("sigprocmask_bad_pointer_efault",
                  syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8), EFAULT);
        CHECK_ERR("kill_bad_signal_einval", kill(getpid(), 65), EINVAL);
        CHECK_ERR("kill_negative_signal_einval", kill(getpid(), -1), EINVAL);
        CHECK_ERR("kill_int_min_esrch", kill(-2147483647 - 1, SIGUSR1), ESRCH);
        CHECK("kill_signal_0_checks_existence", kill(getpid(), 0) == 0);
        CHECK("kill_all_signal_0", kill(-1, 0) == 0 || errno == ESRCH);
        CHECK_ERR("tkill_bad_tid_einval", syscall(SYS_tkill, 0, SIGUSR1), EINVAL);
        CHECK_ERR("tgkill_wrong_group_esrch",
                  syscall(SYS_tgkill, getpid() + 100000, getpid(), SIGUSR1), ESRCH);
        CHECK_ERR("sigsuspend_bad_pointer_efault",
                  syscall(SYS_rt_sigsuspend, (void *)8, 8), EFAULT);
        CHECK_ERR("sigpending_bad_pointer_efault",
                  syscall(SYS_rt_sigpending, (void *)8, 8), EFAULT);
        CHECK_ERR("sigtimedwait_bad_timeout_einval",
                  sigtimedwait(&set, NULL, &(struct timespec){ 0, 2000000000 }), EINVAL);
        CHECK_ERR("sigaltstack_bad_pointer_efault",
                  syscall(SYS_sigaltstack, (void *)8, NULL), EFAULT);
        /* int arguments use only their low 32 bits */
        reset();
        set_handler(SIGUSR1, on_signal, 0);
        CHECK("kill_int_args_truncated",
              syscall(SYS_kill, (long)getpid() | (1L << 32),
                      (long)SIGUSR1 | (7L << 32)) == 0 && hits == 1);
}

/* A child floods us with signals while we go about our business. */
static void storm_from_child(void)
{
        sigset_t set;
        int st;

        reset();
        set_handler(SIGUSR1, on_signal, SA_RESTART);
        set_info_handler(SIGRTMIN + 3, SA_RESTART, 0);
        pid_t parent = getpid(), pid = fork();
        if (pid == 0) {
                union sigval v = { .sival_int = 1 };
                for (int i = 0; i < 3000; i++) {
                        kill(parent, SIGUSR1);
                        sigqueue(parent, SIGRTMIN + 3, v);
                }
                _exit(0);
        }
        long sum = 0;
        for (int i = 0; i < 20000; i++)
                sum += getppid() + i;
        int r = waitpid(pid, &st, 0);
        sigemptyset(&set);
        CHECK("storm_from_another_process_survived", r == pid && WIFEXITED(st) &&
              hits >= 1 && sum != 0);
        set_handler(SIGUSR1, SIG_DFL, 0);
        set_handler(SIGRTMIN + 3, SIG_DFL, 0);
}

static void tkill_tgkill(void)
{
        reset();
        set_info_handler(SIGUSR1, 0, 0);
        CHECK("tkill_delivers_si_tkill", syscall(SYS_tkill, getpid(), SIGUSR1) == 0 &&
              hits == 1 && last_code == SI_TKILL);
        CHECK("tgkill_delivers", syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1) == 0 &&
              hits == 2);
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "--after-exec") == 0)
                return after_exec();
        utest_start("signals");
        delivery();
        masks();
        queueing();
        suspend_and_wait();
        alternate_stack();
        registers();
        restart();
        sigpipe();
        tkill_tgkill();
        storm_from_child();
        inheritance(argv[0]);
        bad_input();
        return utest_done();
}
