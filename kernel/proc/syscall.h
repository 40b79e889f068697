/*
 * syscall.h - Linux system calls: the machine-independent handlers. A
 * handler takes the six argument registers and returns a result or a
 * negated errno. Which number reaches which handler, and which arguments
 * are narrowed to 32 bits first, is each architecture's one description,
 * machine/syscalls.h (kernel/arch/<arch>/include/machine/); numbers
 * without a handler return -ENOSYS.
 */
#ifndef PROC_SYSCALL_H
#define PROC_SYSCALL_H

#include <mercator/types.h>
#include <machine/abi.h>

/*
 * A system-call argument as handlers see it: a long where a long is 64
 * bits. A 32-bit machine (ABI_SYSARG_64: i386) hands its 32-bit registers
 * over in 64 bits instead, zero-extended unless machine/syscalls.h
 * narrows them as signed ('i'), so that a handler's (uint64_t)a1 of a
 * user address above 2 GiB stays that address.
 */
#ifdef ABI_SYSARG_64
typedef int64_t sysarg_t;
#else
typedef long sysarg_t;
#endif

/* SYS_<name>: the architecture's number of each call it handles, from
 * its machine/syscalls.h (for the few places that need one, such as
 * restart_syscall's). */
enum {
#define SYSCALL(nr, name, narrow) SYS_##name = nr,
#define NOSYS(nr, name)
#include <machine/syscalls.h>
#undef SYSCALL
#undef NOSYS
};

typedef long (*syscall_fn)(sysarg_t, sysarg_t, sysarg_t, sysarg_t, sysarg_t,
                           sysarg_t);

/* Run system call nr (the architecture's number) with its six argument
 * registers; the value for the return register. */
long syscall_invoke(uint64_t nr, const long args[6]);

/*
 * How system call nr runs: under the big kernel lock entering its
 * thread's address space (SYSCALL_ENTERS: machine_kernel_lock), under it
 * with the door left open to its sibling threads' lock-free faults
 * (SYSCALL_OUTSIDE: machine_kernel_lock_outside; a call that changes no
 * address space and reaches user memory only through user copies, whose
 * faults enter: oom_kernel_fault), or without it (SYSCALL_NO_LOCK: the
 * calls that read a word of the caller's own, yield or sleep; the
 * architecture runs them with syscall_invoke and goes back to user mode
 * without the lock unless the way out has something to do, or a fault of
 * a user copy took the lock meanwhile: machine_kernel_lock_held() then
 * says so, and the way out is the locked one).
 */
enum syscall_lock { SYSCALL_ENTERS, SYSCALL_OUTSIDE, SYSCALL_NO_LOCK };
enum syscall_lock syscall_lock_of(uint64_t nr);

static inline bool syscall_enters_space(uint64_t nr)
{
        return syscall_lock_of(nr) == SYSCALL_ENTERS;
}

/* The name of system call nr (the architecture's table), or NULL. */
const char *syscall_name(uint64_t nr);

/* At boot: each call's syscall_lock_of, and from now on every -ENOSYS
 * answer (and syscall_unsupported() EINVAL) logged if the command line
 * has syscall_log=unsupported. */
void syscall_init(const char *cmdline);

/* For a handler refusing flags or options it does not implement:
 * `return syscall_unsupported(-EINVAL);` marks the answer for the log
 * and returns err unchanged. */
long syscall_unsupported(long err);

#define SYSCALL_DECL(name) \
        long sys_##name(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3, \
                        sysarg_t a4, sysarg_t a5)

SYSCALL_DECL(read); SYSCALL_DECL(write); SYSCALL_DECL(open);
SYSCALL_DECL(swapon); SYSCALL_DECL(swapoff);
SYSCALL_DECL(openat); SYSCALL_DECL(close); SYSCALL_DECL(fstat);
SYSCALL_DECL(lseek); SYSCALL_DECL(readv); SYSCALL_DECL(writev);
SYSCALL_DECL(ioctl);
SYSCALL_DECL(mmap); SYSCALL_DECL(munmap); SYSCALL_DECL(mprotect);
SYSCALL_DECL(brk);
SYSCALL_DECL(exit); SYSCALL_DECL(exit_group); SYSCALL_DECL(getpid);
SYSCALL_DECL(getppid); SYSCALL_DECL(gettid); SYSCALL_DECL(set_tid_address);
SYSCALL_DECL(sched_yield); SYSCALL_DECL(nanosleep);
SYSCALL_DECL(clock_gettime); SYSCALL_DECL(uname); SYSCALL_DECL(reboot);
SYSCALL_DECL(rt_sigaction); SYSCALL_DECL(rt_sigprocmask);
SYSCALL_DECL(arch_prctl); SYSCALL_DECL(execve); SYSCALL_DECL(execveat); SYSCALL_DECL(kill);
SYSCALL_DECL(dup); SYSCALL_DECL(dup2); SYSCALL_DECL(dup3);
SYSCALL_DECL(fcntl); SYSCALL_DECL(pipe); SYSCALL_DECL(pipe2);
SYSCALL_DECL(getcwd); SYSCALL_DECL(chdir); SYSCALL_DECL(getdents64);
SYSCALL_DECL(fork); SYSCALL_DECL(vfork); SYSCALL_DECL(clone);
SYSCALL_DECL(clone3);
SYSCALL_DECL(unshare);
SYSCALL_DECL(setns);
SYSCALL_DECL(timerfd_create);
SYSCALL_DECL(timerfd_settime);
SYSCALL_DECL(timerfd_gettime);
SYSCALL_DECL(wait4); SYSCALL_DECL(mremap); SYSCALL_DECL(madvise);
SYSCALL_DECL(mincore); SYSCALL_DECL(mlock); SYSCALL_DECL(mlock2);
SYSCALL_DECL(munlock);
SYSCALL_DECL(pread64);
SYSCALL_DECL(fadvise64);
SYSCALL_DECL(mseal);
SYSCALL_DECL(readahead);
/* time, identity, limits, accounting */
SYSCALL_DECL(getrlimit); SYSCALL_DECL(setrlimit); SYSCALL_DECL(prlimit64);
SYSCALL_DECL(getuid); SYSCALL_DECL(geteuid); SYSCALL_DECL(getgid);
SYSCALL_DECL(getegid); SYSCALL_DECL(setuid); SYSCALL_DECL(setgid);
SYSCALL_DECL(setreuid); SYSCALL_DECL(setregid); SYSCALL_DECL(setresuid);
SYSCALL_DECL(setresgid); SYSCALL_DECL(getresuid); SYSCALL_DECL(getresgid);
SYSCALL_DECL(getgroups); SYSCALL_DECL(setgroups); SYSCALL_DECL(setfsuid);
SYSCALL_DECL(setfsgid); SYSCALL_DECL(capget); SYSCALL_DECL(capset);
SYSCALL_DECL(getpriority); SYSCALL_DECL(setpriority);
SYSCALL_DECL(sched_setparam); SYSCALL_DECL(sched_getparam);
SYSCALL_DECL(sched_setscheduler); SYSCALL_DECL(sched_getscheduler);
SYSCALL_DECL(sched_get_priority_max); SYSCALL_DECL(sched_get_priority_min);
SYSCALL_DECL(sched_rr_get_interval); SYSCALL_DECL(sched_setaffinity);
SYSCALL_DECL(sched_getaffinity); SYSCALL_DECL(getcpu);
SYSCALL_DECL(shmget); SYSCALL_DECL(shmat); SYSCALL_DECL(shmdt);
SYSCALL_DECL(shmctl); SYSCALL_DECL(process_vm_readv);
SYSCALL_DECL(process_vm_writev);
SYSCALL_DECL(getpgid); SYSCALL_DECL(getpgrp); SYSCALL_DECL(getsid);
SYSCALL_DECL(rt_sigpending);
SYSCALL_DECL(rt_sigqueueinfo); SYSCALL_DECL(rt_sigreturn);
SYSCALL_DECL(rt_sigsuspend); SYSCALL_DECL(rt_sigtimedwait);
SYSCALL_DECL(rt_tgsigqueueinfo); SYSCALL_DECL(setpgid); SYSCALL_DECL(setsid);
SYSCALL_DECL(sigaltstack); SYSCALL_DECL(tgkill); SYSCALL_DECL(tkill);
SYSCALL_DECL(waitid);
SYSCALL_DECL(gettimeofday); SYSCALL_DECL(settimeofday); SYSCALL_DECL(time);
SYSCALL_DECL(clock_settime); SYSCALL_DECL(clock_getres);
SYSCALL_DECL(clock_nanosleep); SYSCALL_DECL(restart_syscall);
SYSCALL_DECL(mlockall); SYSCALL_DECL(munlockall); SYSCALL_DECL(times); SYSCALL_DECL(getrusage);
SYSCALL_DECL(sysinfo);
/* The VFS (fs/sys_vfs.c, fs/sys_file.c, proc/sys_mem.c). */
SYSCALL_DECL(access); SYSCALL_DECL(chmod); SYSCALL_DECL(chown);
SYSCALL_DECL(chroot); SYSCALL_DECL(creat); SYSCALL_DECL(faccessat);
SYSCALL_DECL(faccessat2); SYSCALL_DECL(fallocate); SYSCALL_DECL(fchdir);
SYSCALL_DECL(fchmod); SYSCALL_DECL(fchmodat); SYSCALL_DECL(fchown);
SYSCALL_DECL(fchownat); SYSCALL_DECL(fdatasync); SYSCALL_DECL(fstatfs);
SYSCALL_DECL(fsync); SYSCALL_DECL(ftruncate); SYSCALL_DECL(lchown);
SYSCALL_DECL(link); SYSCALL_DECL(linkat); SYSCALL_DECL(lstat);
SYSCALL_DECL(memfd_create); SYSCALL_DECL(userfaultfd); SYSCALL_DECL(mkdir); SYSCALL_DECL(mkdirat);
SYSCALL_DECL(mknod); SYSCALL_DECL(mknodat); SYSCALL_DECL(mount);
SYSCALL_DECL(msync); SYSCALL_DECL(newfstatat); SYSCALL_DECL(openat2);
SYSCALL_DECL(pwrite64); SYSCALL_DECL(readlink); SYSCALL_DECL(readlinkat);
SYSCALL_DECL(getxattr); SYSCALL_DECL(lgetxattr); SYSCALL_DECL(fgetxattr);
SYSCALL_DECL(setxattr); SYSCALL_DECL(lsetxattr); SYSCALL_DECL(fsetxattr);
SYSCALL_DECL(listxattr); SYSCALL_DECL(llistxattr); SYSCALL_DECL(flistxattr);
SYSCALL_DECL(removexattr); SYSCALL_DECL(lremovexattr); SYSCALL_DECL(fremovexattr);
SYSCALL_DECL(rename); SYSCALL_DECL(renameat); SYSCALL_DECL(renameat2);
SYSCALL_DECL(rmdir); SYSCALL_DECL(stat); SYSCALL_DECL(statfs);
SYSCALL_DECL(statx); SYSCALL_DECL(symlink); SYSCALL_DECL(symlinkat);
SYSCALL_DECL(sync); SYSCALL_DECL(syncfs); SYSCALL_DECL(truncate);
SYSCALL_DECL(umask); SYSCALL_DECL(umount2); SYSCALL_DECL(unlink);
SYSCALL_DECL(unlinkat); SYSCALL_DECL(utimensat); SYSCALL_DECL(sendfile);
SYSCALL_DECL(flock); SYSCALL_DECL(preadv); SYSCALL_DECL(pwritev);
SYSCALL_DECL(copy_file_range); SYSCALL_DECL(preadv2); SYSCALL_DECL(pwritev2);
SYSCALL_DECL(pause); SYSCALL_DECL(getitimer); SYSCALL_DECL(alarm);
SYSCALL_DECL(setitimer); SYSCALL_DECL(timer_create);
SYSCALL_DECL(timer_settime); SYSCALL_DECL(timer_gettime);
SYSCALL_DECL(timer_getoverrun); SYSCALL_DECL(timer_delete);
SYSCALL_DECL(personality); SYSCALL_DECL(prctl); SYSCALL_DECL(getrandom);
/* poll and select */
SYSCALL_DECL(poll); SYSCALL_DECL(ppoll); SYSCALL_DECL(select);
SYSCALL_DECL(pselect6);
/* Futexes (proc/futex.c). */
SYSCALL_DECL(futex); SYSCALL_DECL(set_robust_list);
SYSCALL_DECL(get_robust_list);

/* An architecture's own handlers, if it has any (i386's). */
#if __has_include(<machine/syscall_md.h>)
#include <machine/syscall_md.h>
#endif

#endif
