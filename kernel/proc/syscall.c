/*
 * syscall.c - the system-call table. Unknown numbers get -ENOSYS (never a
 * pretended success), so programs see honestly what is missing; with
 * `syscall_log=unsupported` on the command line each such answer, and each
 * EINVAL a handler gives for flags it does not support, is logged in one
 * line with the call's name and the caller's pid. `int` arguments are
 * narrowed to their 32 bits here, once for every call.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <proc/proc.h>
#include <proc/syscall.h>

#define ENTRY(name) [SYS_##name] = sys_##name

static const syscall_fn table[NR_SYSCALLS] = {
        ENTRY(read), ENTRY(write), ENTRY(open), ENTRY(openat), ENTRY(close),
        ENTRY(fstat), ENTRY(lseek), ENTRY(readv), ENTRY(writev),
        ENTRY(ioctl), ENTRY(mmap), ENTRY(munmap), ENTRY(mprotect),
        ENTRY(brk), ENTRY(exit), ENTRY(exit_group), ENTRY(getpid),
        ENTRY(getppid), ENTRY(gettid), ENTRY(set_tid_address),
        ENTRY(sched_yield), ENTRY(nanosleep), ENTRY(clock_gettime),
        ENTRY(uname), ENTRY(reboot), ENTRY(rt_sigaction),
        ENTRY(rt_sigprocmask), ENTRY(arch_prctl), ENTRY(execve),
        ENTRY(kill), ENTRY(dup), ENTRY(dup2), ENTRY(dup3), ENTRY(fcntl),
        ENTRY(pipe), ENTRY(pipe2), ENTRY(getcwd), ENTRY(chdir),
        ENTRY(getdents64), ENTRY(fork), ENTRY(vfork), ENTRY(clone),
        ENTRY(clone3),
        ENTRY(wait4), ENTRY(mremap), ENTRY(madvise), ENTRY(mincore),
        ENTRY(mlock), ENTRY(mlock2), ENTRY(munlock), ENTRY(mlockall),
        ENTRY(munlockall),
        ENTRY(pread64),
        ENTRY(getrlimit), ENTRY(getuid), ENTRY(getgid), ENTRY(setuid),
        ENTRY(setgid), ENTRY(geteuid), ENTRY(getegid), ENTRY(setreuid),
        ENTRY(setregid), ENTRY(getgroups), ENTRY(setgroups),
        ENTRY(setresuid), ENTRY(getresuid), ENTRY(setresgid),
        ENTRY(getresgid), ENTRY(setfsuid), ENTRY(setfsgid),
        ENTRY(capget), ENTRY(capset), ENTRY(getpriority),
        ENTRY(setpriority), ENTRY(sched_setparam),
        ENTRY(sched_getparam), ENTRY(sched_setscheduler),
        ENTRY(sched_getscheduler), ENTRY(sched_get_priority_max),
        ENTRY(sched_get_priority_min), ENTRY(sched_rr_get_interval),
        ENTRY(setrlimit), ENTRY(sched_setaffinity),
        ENTRY(sched_getaffinity), ENTRY(prlimit64), ENTRY(getcpu),
        ENTRY(process_vm_readv), ENTRY(process_vm_writev), ENTRY(shmat),
        ENTRY(shmctl), ENTRY(shmdt), ENTRY(shmget),
        ENTRY(getpgid), ENTRY(getpgrp), ENTRY(getsid),
        ENTRY(rt_sigpending), ENTRY(rt_sigqueueinfo), ENTRY(rt_sigreturn),
        ENTRY(rt_sigsuspend), ENTRY(rt_sigtimedwait), ENTRY(rt_tgsigqueueinfo),
        ENTRY(setpgid), ENTRY(setsid), ENTRY(sigaltstack), ENTRY(tgkill),
        ENTRY(tkill), ENTRY(waitid),
        ENTRY(gettimeofday), ENTRY(settimeofday), ENTRY(time),
        ENTRY(clock_settime), ENTRY(clock_getres), ENTRY(clock_nanosleep),
        ENTRY(restart_syscall),
        ENTRY(times), ENTRY(getrusage), ENTRY(sysinfo),
        ENTRY(access), ENTRY(chmod), ENTRY(chown), ENTRY(chroot),
        ENTRY(creat), ENTRY(faccessat), ENTRY(faccessat2), ENTRY(fallocate),
        ENTRY(fchdir), ENTRY(fchmod), ENTRY(fchmodat), ENTRY(fchown),
        ENTRY(fchownat), ENTRY(fdatasync), ENTRY(fstatfs), ENTRY(fsync),
        ENTRY(ftruncate), ENTRY(lchown), ENTRY(link), ENTRY(linkat),
        ENTRY(lstat), ENTRY(memfd_create), ENTRY(mkdir), ENTRY(mkdirat),
        ENTRY(mknod), ENTRY(mknodat), ENTRY(mount), ENTRY(msync),
        ENTRY(newfstatat), ENTRY(openat2), ENTRY(pwrite64), ENTRY(readlink),
        ENTRY(readlinkat), ENTRY(rename), ENTRY(renameat), ENTRY(renameat2),
        ENTRY(rmdir), ENTRY(stat), ENTRY(statfs), ENTRY(statx),
        ENTRY(symlink), ENTRY(symlinkat), ENTRY(sync), ENTRY(syncfs),
        ENTRY(truncate), ENTRY(umask), ENTRY(umount2), ENTRY(unlink),
        ENTRY(unlinkat), ENTRY(utimensat), ENTRY(sendfile), ENTRY(flock),
        ENTRY(preadv), ENTRY(pwritev), ENTRY(copy_file_range),
        ENTRY(preadv2), ENTRY(pwritev2),
        ENTRY(pause), ENTRY(getitimer), ENTRY(alarm), ENTRY(setitimer),
        ENTRY(timer_create), ENTRY(timer_settime), ENTRY(timer_gettime),
        ENTRY(timer_getoverrun), ENTRY(timer_delete),
        ENTRY(personality), ENTRY(prctl), ENTRY(getrandom),
        /* poll and select */
        ENTRY(poll), ENTRY(ppoll), ENTRY(pselect6), ENTRY(select),
        ENTRY(futex), ENTRY(set_robust_list), ENTRY(get_robust_list),
};

static bool log_unsupported;            /* syscall_log=unsupported */
static bool flags_unsupported;          /* set by syscall_unsupported() */

void syscall_log_init(const char *cmdline)
{
        const char *opt = strstr(cmdline, "syscall_log=");

        if (opt && strncmp(opt + 12, "unsupported", 11) == 0)
                log_unsupported = true;
}

long syscall_unsupported(long err)
{
        flags_unsupported = true;
        return err;
}

/* One line: who asked, what, with which first arguments, and the answer. */
static void log_call(uint64_t nr, const long a[6], long ret)
{
        const char *name = syscall_name(nr);

        pr_err("mercator: pid %d (%s): %s%s[%lu](%#lx, %#lx, %#lx) -> %s\n",
               current ? current->pid : 0, current ? current->name : "-",
               name ? name : "syscall", name ? "" : " ", nr,
               (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2],
               ret == -ENOSYS ? "ENOSYS" : "EINVAL (unsupported flags)");
}

/*
 * The arguments Linux's prototypes declare 32 bits wide: 'i' an int
 * (only the low 32 bits count, sign-extended), 'u' an unsigned int
 * (zero-extended), '.' a full register (pointer, size, long). Callers put
 * anything in the upper halves: glibc passes AT_FDCWD as
 * 0x00000000ffffff9c and -1 as 0x00000000ffffffff, and Linux ignores
 * them, so the handlers get the narrowed values. A call added to the
 * table above gets its line here too.
 */
#define ARGS(name, types) [SYS_##name] = types

static const char *const arg_types[NR_SYSCALLS] = {
        ARGS(read, "u.."), ARGS(write, "u.."), ARGS(open, ".iu"),
        ARGS(close, "u"), ARGS(fstat, "u."), ARGS(lseek, "u.u"),
        ARGS(mmap, "....u."), ARGS(rt_sigaction, "i..."),
        ARGS(rt_sigprocmask, "i..."), ARGS(ioctl, "uu."),
        ARGS(pread64, "u..."), ARGS(readv, "u.."), ARGS(writev, "u.."),
        ARGS(madvise, "..i"), ARGS(mincore, "..."), ARGS(mlock2, "..u"), ARGS(mlockall, "i"),
        ARGS(shmget, "i.i"), ARGS(shmat, "i.i"),
        ARGS(shmctl, "ii."), ARGS(dup, "u"), ARGS(dup2, "uu"),
        ARGS(clone, "u...."), ARGS(exit, "i"), ARGS(wait4, "i.i."),
        ARGS(kill, "ii"), ARGS(fcntl, "uu."), ARGS(getrlimit, "u."),
        ARGS(setuid, "u"), ARGS(setgid, "u"), ARGS(setpgid, "ii"),
        ARGS(setreuid, "uu"), ARGS(setregid, "uu"), ARGS(getgroups, "i."),
        ARGS(setgroups, "i."), ARGS(setresuid, "uuu"),
        ARGS(setresgid, "uuu"), ARGS(getpgid, "i"), ARGS(setfsuid, "u"),
        ARGS(setfsgid, "u"), ARGS(getsid, "i"),
        ARGS(rt_sigqueueinfo, "ii."), ARGS(getpriority, "ii"),
        ARGS(setpriority, "iii"), ARGS(sched_setparam, "i."),
        ARGS(sched_getparam, "i."), ARGS(sched_setscheduler, "ii."),
        ARGS(sched_getscheduler, "i"), ARGS(sched_get_priority_max, "i"),
        ARGS(sched_get_priority_min, "i"), ARGS(sched_rr_get_interval, "i."),
        ARGS(arch_prctl, "i."), ARGS(setrlimit, "u."), ARGS(reboot, "iiu."),
        ARGS(tkill, "ii"), ARGS(sched_setaffinity, "iu."),
        ARGS(sched_getaffinity, "iu."), ARGS(getdents64, "u.."),
        ARGS(clock_gettime, "i."), ARGS(exit_group, "i"),
        ARGS(tgkill, "iii"), ARGS(waitid, "ii.i."), ARGS(openat, "i.iu"),
        ARGS(dup3, "uui"), ARGS(pipe2, ".i"),
        ARGS(rt_tgsigqueueinfo, "iii."), ARGS(prlimit64, "iu.."),
        ARGS(process_vm_readv, "i....."), ARGS(process_vm_writev, "i....."),
        ARGS(clock_settime, "i."), ARGS(clock_getres, "i."),
        ARGS(clock_nanosleep, "ii.."), ARGS(getrusage, "i."),
        ARGS(access, ".i"), ARGS(chmod, ".u"), ARGS(chown, ".uu"),
        ARGS(creat, ".u"), ARGS(faccessat, "i.i"), ARGS(faccessat2, "i.ii"),
        ARGS(fallocate, "ii.."), ARGS(fchdir, "u"), ARGS(fchmod, "uu"),
        ARGS(fchmodat, "i.u"), ARGS(fchown, "uuu"), ARGS(fchownat, "i.uui"),
        ARGS(fdatasync, "u"), ARGS(fstatfs, "u."), ARGS(fsync, "u"),
        ARGS(ftruncate, "u."), ARGS(lchown, ".uu"), ARGS(linkat, "i.i.i"),
        ARGS(memfd_create, ".u"), ARGS(mkdir, ".u"), ARGS(mkdirat, "i.u"),
        ARGS(mknod, ".uu"), ARGS(mknodat, "i.uu"), ARGS(msync, "..i"),
        ARGS(newfstatat, "i..i"), ARGS(openat2, "i..."),
        ARGS(pwrite64, "u..."), ARGS(readlink, "..i"),
        ARGS(readlinkat, "i..i"), ARGS(renameat, "i.i."),
        ARGS(renameat2, "i.i.u"), ARGS(statx, "i.iu."),
        ARGS(symlinkat, ".i."), ARGS(syncfs, "i"), ARGS(umask, "i"),
        ARGS(umount2, ".i"), ARGS(unlinkat, "i.i"), ARGS(utimensat, "i..i"),
        ARGS(sendfile, "ii.."), ARGS(flock, "uu"), ARGS(preadv, "u...."),
        ARGS(pwritev, "u...."), ARGS(copy_file_range, "i.i..u"),
        ARGS(preadv2, "u....i"), ARGS(pwritev2, "u....i"),
        ARGS(alarm, "u"), ARGS(getitimer, "i."), ARGS(setitimer, "i.."),
        ARGS(timer_create, "i.."), ARGS(timer_settime, "ii.."),
        ARGS(timer_gettime, "i."), ARGS(timer_getoverrun, "i"),
        ARGS(timer_delete, "i"),
        ARGS(prctl, "i...."), ARGS(personality, "u"), ARGS(getrandom, "..u"),
        ARGS(futex, ".iu..u"), ARGS(get_robust_list, "i.."),
};

/* The arguments as the handler must see them (arg_types). */
static void narrow_args(uint64_t nr, const long in[6], long out[6])
{
        const char *t = arg_types[nr];
        size_t n = t ? strlen(t) : 0;

        for (size_t i = 0; i < 6; i++) {
                char c = i < n ? t[i] : '.';
                out[i] = c == 'i' ? (long)(int32_t)in[i] :
                         c == 'u' ? (long)(uint32_t)in[i] : in[i];
        }
}

long syscall_invoke(uint64_t nr, const long args[6])
{
        long a[6], ret;

        flags_unsupported = false;
        if (nr >= NR_SYSCALLS || !table[nr]) {
                ret = -ENOSYS;
        } else {
                narrow_args(nr, args, a);
                ret = table[nr](a[0], a[1], a[2], a[3], a[4], a[5]);
        }
        if (log_unsupported &&
            (ret == -ENOSYS || (ret == -EINVAL && flags_unsupported)))
                log_call(nr, args, ret);
        return ret;
}
