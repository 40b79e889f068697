/*
 * syscall.c - the system-call table. Unknown numbers get -ENOSYS (never a
 * pretended success), so programs see honestly what is missing; with
 * `syscall_log=unsupported` on the command line each such answer, and each
 * EINVAL a handler gives for flags it does not support, is logged in one
 * line with the call's name and the caller's pid. `int` arguments are
 * narrowed to their 32 bits here, once for every call. Which numbers exist
 * and what they mean is the architecture's (machine/syscalls.h); the
 * handlers are machine-independent (syscall.h).
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <proc/proc.h>
#include <proc/syscall.h>

/*
 * The architecture's system calls, from its one description
 * (machine/syscalls.h): number -> handler, name and argument narrowing.
 */
struct syscall_desc {
        syscall_fn  fn;         /* NULL: -ENOSYS */
        const char *name;       /* Linux's name of the number */
        const char *narrow;     /* see machine/syscalls.h */
};

#define SYSCALL(nr, name, narrow) [nr] = { sys_##name, #name, narrow },
#define NOSYS(nr, name)           [nr] = { NULL, #name, "" },
static const struct syscall_desc syscalls[] = {
#include <machine/syscalls.h>
};
#undef SYSCALL
#undef NOSYS

#define NR_SYSCALLS (sizeof syscalls / sizeof syscalls[0])

const char *syscall_name(uint64_t nr)
{
        return nr < NR_SYSCALLS ? syscalls[nr].name : NULL;
}

/*
 * The calls of threads that wait for each other and come and go: a
 * thread's exit (and, before they needed no lock, the futex hand-overs,
 * sleeps, yields and the signal mask musl blocks around an exit). With the door
 * shut for each, a sibling's fault beside them waited at the door or went
 * through the big lock (and where a host runs more virtual CPUs than it
 * has cores, waited for the holder's vCPU to be scheduled again: a
 * four-thread fault storm at -smp 4 lost milliseconds a round there,
 * docs/design.md).
 */
static bool call_outside(syscall_fn fn)
{
        return fn == sys_exit;
}

/*
 * The calls that need no lock: each reads one word of the calling
 * thread's own that no other CPU changes, or changes with one store (its
 * process's and its own ids, fixed; its credentials' ids, which only the
 * thread itself sets, sys_cred.c; its parent's pid, which the big lock's
 * holder stores whole, proc_set_parent). A thread asking for its ids in a
 * loop (the null-system-call benchmark, a logging library's gettid) then
 * waits for no other CPU, and the lock's holder for none of them.
 *
 * And the calls that only give the CPU up: sched_yield, and the sleeps,
 * which read and write the caller's own time and restart fields, its
 * user memory (whose faults take the big lock if the lock-free fault
 * path declines: oom_kernel_fault's callers), and sleep under the run
 * queue's lock (sched.c: the interruptible sleeps see a signal sent
 * meanwhile, under that lock). Threads that pace themselves with short
 * sleeps or yields then take the big lock only when a signal or a
 * reschedule waits on the way out.
 *
 * And futex, whose table has its own lock (futex.c): a private futex's
 * waits and wakes take no other; a shared one's key takes the big lock.
 * And rt_sigprocmask: only the thread writes its mask; a signal it now
 * blocks that was meant for it is passed on under the big lock
 * (signal.c:signal_set_mask).
 *
 * And mprotect, which changes its space's areas as the door's writer
 * without the big lock when the change only rewrites whole areas'
 * protection (vm_space_protect_nolock), and otherwise takes the lock and
 * enters as the other memory calls do (sys_mem.c); munmap likewise, when
 * it takes whole private anonymous areas away (vm_space_unmap_nolock),
 * and mmap, when it makes one (vm_space_map_nolock).
 */
static bool call_lock_free(syscall_fn fn)
{
        return fn == sys_getpid || fn == sys_gettid || fn == sys_getppid ||
               fn == sys_getuid || fn == sys_geteuid || fn == sys_getgid ||
               fn == sys_getegid || fn == sys_sched_yield ||
               fn == sys_nanosleep || fn == sys_clock_nanosleep ||
               fn == sys_futex || fn == sys_rt_sigprocmask ||
               fn == sys_mprotect || fn == sys_munmap || fn == sys_mmap;
}

static uint8_t lock_of[NR_SYSCALLS];    /* enum syscall_lock, made at boot */

enum syscall_lock syscall_lock_of(uint64_t nr)
{
        return nr < NR_SYSCALLS ? (enum syscall_lock)lock_of[nr]
                                : SYSCALL_ENTERS;
}

static bool log_unsupported;            /* syscall_log=unsupported */

void syscall_init(const char *cmdline)
{
        const char *opt = strstr(cmdline, "syscall_log=");

        for (size_t nr = 0; nr < NR_SYSCALLS; nr++) {
                syscall_fn fn = syscalls[nr].fn;

                lock_of[nr] = !fn                ? SYSCALL_ENTERS :
                              call_lock_free(fn) ? SYSCALL_NO_LOCK :
                              call_outside(fn)   ? SYSCALL_OUTSIDE :
                                                   SYSCALL_ENTERS;
        }

        if (opt && strncmp(opt + 12, "unsupported", 11) == 0)
                log_unsupported = true;
}

long syscall_unsupported(long err)
{
        if (current)            /* the thread's own: calls run at once */
                current->flags_unsupported = true;
        return err;
}

/* One line: who asked, what, with which first arguments, and the answer. */
static void log_call(uint64_t nr, const long a[6], long ret)
{
        const char *name = syscall_name(nr);

        pr_err("mercator: pid %d (%s): %s%s[%" PRIu64 "](%#lx, %#lx, %#lx) -> %s\n",
               current ? current->pid : 0, current ? current->name : "-",
               name ? name : "syscall", name ? "" : " ", nr,
               (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2],
               ret == -ENOSYS ? "ENOSYS" : "EINVAL (unsupported flags)");
}

/*
 * A call's narrowing string as bits, made from the table the first time
 * the call is made (reading the string at every call cost about 50
 * instructions, a seventh of a getppid): bit i sign-extends argument i
 * from 32 bits ('i'), bit 6 + i zero-extends it ('u'), NARROW_T says its
 * timespecs are 32-bit ('T' first), NARROW_DONE that the entry is made.
 */
#define NARROW_T        (1u << 12)
#define NARROW_DONE     (1u << 15)
static uint16_t narrow_bits[NR_SYSCALLS];

static unsigned narrow_of(uint64_t nr)
{
        const char *t = syscalls[nr].narrow;
        unsigned b = narrow_bits[nr];

        if (b)
                return b;
        b = NARROW_DONE;
        if (t[0] == 'T') {
                b |= NARROW_T;
                t++;
        }
        for (unsigned i = 0; i < 6 && t[i]; i++)
                b |= t[i] == 'i' ? 1u << i : t[i] == 'u' ? 1u << (6 + i) : 0;
        narrow_bits[nr] = (uint16_t)b;
        return b;
}

/* The arguments as the handler must see them: the 32-bit ones narrowed
 * (machine/syscalls.h says which), the rest as unsigned registers (which
 * changes nothing where sysarg_t is the register's long). */
static void narrow_args(uint64_t nr, const long in[6], sysarg_t out[6])
{
        unsigned b = narrow_of(nr);

        current->time32 = b & NARROW_T;         /* proc/time.h */
        if (!(b & 0xfffu)) {                    /* most calls */
                for (unsigned i = 0; i < 6; i++)
                        out[i] = (sysarg_t)(unsigned long)in[i];
                return;
        }
        for (unsigned i = 0; i < 6; i++)
                out[i] = b >> i & 1        ? (sysarg_t)(int32_t)in[i] :
                         b >> (6 + i) & 1  ? (sysarg_t)(uint32_t)in[i] :
                                             (sysarg_t)(unsigned long)in[i];
}

long syscall_invoke(uint64_t nr, const long args[6])
{
        sysarg_t a[6];
        long ret;

        if (current)
                current->flags_unsupported = false;
        if (nr >= NR_SYSCALLS || !syscalls[nr].fn) {
                ret = -ENOSYS;
        } else {
                narrow_args(nr, args, a);
                ret = syscalls[nr].fn(a[0], a[1], a[2], a[3], a[4], a[5]);
        }
        if (log_unsupported &&
            (ret == -ENOSYS ||
             (ret == -EINVAL && current && current->flags_unsupported)))
                log_call(nr, args, ret);
        return ret;
}
