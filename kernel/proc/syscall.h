/*
 * syscall.h - Linux x86-64 system calls: numbers (the ABI's), and the
 * handlers. A handler takes the six argument registers and returns a
 * result or a negated errno; numbers without one return -ENOSYS.
 */
#ifndef PROC_SYSCALL_H
#define PROC_SYSCALL_H

#include <mercator/types.h>

enum {
        SYS_read = 0, SYS_write = 1, SYS_open = 2, SYS_close = 3,
        SYS_fstat = 5, SYS_poll = 7, SYS_lseek = 8, SYS_mmap = 9, SYS_mprotect = 10,
        SYS_munmap = 11, SYS_brk = 12, SYS_rt_sigaction = 13,
        SYS_rt_sigprocmask = 14, SYS_ioctl = 16, SYS_pread64 = 17, SYS_readv = 19,
        SYS_writev = 20, SYS_pipe = 22, SYS_select = 23, SYS_sched_yield = 24,
        SYS_mremap = 25, SYS_mincore = 27, SYS_madvise = 28, SYS_shmget = 29,
        SYS_shmat = 30,
        SYS_shmctl = 31, SYS_dup = 32,
        SYS_dup2 = 33, SYS_nanosleep = 35, SYS_getpid = 39, SYS_clone = 56,
        SYS_fork = 57, SYS_vfork = 58, SYS_clone3 = 435, SYS_execve = 59, SYS_wait4 = 61,
        SYS_exit = 60, SYS_kill = 62, SYS_uname = 63, SYS_shmdt = 67,
        SYS_fcntl = 72,
        SYS_getcwd = 79, SYS_chdir = 80, SYS_getppid = 110,
        SYS_arch_prctl = 158, SYS_reboot = 169, SYS_gettid = 186,
        SYS_getdents64 = 217, SYS_set_tid_address = 218,
        SYS_restart_syscall = 219,
        SYS_clock_gettime = 228, SYS_exit_group = 231, SYS_openat = 257,
        SYS_pselect6 = 270, SYS_ppoll = 271,
        SYS_dup3 = 292, SYS_pipe2 = 293,
        /* time, identity, limits, accounting */
        SYS_getrlimit = 97, SYS_getuid = 102, SYS_getgid = 104,
        SYS_setuid = 105, SYS_setgid = 106, SYS_geteuid = 107,
        SYS_getegid = 108, SYS_setreuid = 113, SYS_setregid = 114,
        SYS_getgroups = 115, SYS_setgroups = 116, SYS_setresuid = 117,
        SYS_getresuid = 118, SYS_setresgid = 119, SYS_getresgid = 120,
        SYS_setfsuid = 122, SYS_setfsgid = 123, SYS_capget = 125,
        SYS_capset = 126, SYS_getpriority = 140, SYS_setpriority = 141,
        SYS_sched_setparam = 142, SYS_sched_getparam = 143,
        SYS_sched_setscheduler = 144, SYS_sched_getscheduler = 145,
        SYS_sched_get_priority_max = 146, SYS_sched_get_priority_min = 147,
        SYS_sched_rr_get_interval = 148, SYS_mlock = 149, SYS_munlock = 150,
        SYS_mlockall = 151, SYS_munlockall = 152,
        SYS_setrlimit = 160, SYS_mlock2 = 325,
        SYS_sched_setaffinity = 203, SYS_sched_getaffinity = 204,
        SYS_prlimit64 = 302, SYS_getcpu = 309,
        SYS_process_vm_readv = 310,
        SYS_process_vm_writev = 311,
        /* signals, process groups and sessions, waitid */
        SYS_rt_sigreturn = 15, SYS_setpgid = 109, SYS_getpgrp = 111,
        SYS_setsid = 112, SYS_getpgid = 121, SYS_getsid = 124,
        SYS_rt_sigpending = 127, SYS_rt_sigtimedwait = 128,
        SYS_rt_sigqueueinfo = 129, SYS_rt_sigsuspend = 130,
        SYS_sigaltstack = 131, SYS_tkill = 200, SYS_tgkill = 234,
        SYS_waitid = 247, SYS_rt_tgsigqueueinfo = 297,
        SYS_gettimeofday = 96, SYS_getrusage = 98, SYS_sysinfo = 99,
        SYS_times = 100, SYS_settimeofday = 164, SYS_time = 201,
        SYS_clock_settime = 227, SYS_clock_getres = 229,
        SYS_clock_nanosleep = 230,
        /* the VFS */
        SYS_stat = 4, SYS_lstat = 6, SYS_pwrite64 = 18, SYS_access = 21,
        SYS_msync = 26, SYS_fsync = 74, SYS_fdatasync = 75, SYS_truncate = 76,
        SYS_ftruncate = 77, SYS_fchdir = 81, SYS_rename = 82, SYS_mkdir = 83,
        SYS_rmdir = 84, SYS_creat = 85, SYS_link = 86, SYS_unlink = 87,
        SYS_symlink = 88, SYS_readlink = 89, SYS_chmod = 90, SYS_fchmod = 91,
        SYS_chown = 92, SYS_fchown = 93, SYS_lchown = 94, SYS_umask = 95,
        SYS_mknod = 133, SYS_statfs = 137, SYS_fstatfs = 138,
        SYS_chroot = 161, SYS_sync = 162, SYS_mount = 165, SYS_umount2 = 166,
        SYS_mkdirat = 258, SYS_mknodat = 259, SYS_fchownat = 260,
        SYS_newfstatat = 262, SYS_unlinkat = 263, SYS_renameat = 264,
        SYS_linkat = 265, SYS_symlinkat = 266, SYS_readlinkat = 267,
        SYS_fchmodat = 268, SYS_faccessat = 269, SYS_utimensat = 280,
        SYS_fallocate = 285, SYS_syncfs = 306, SYS_renameat2 = 316,
        SYS_memfd_create = 319, SYS_statx = 332, SYS_openat2 = 437,
        SYS_faccessat2 = 439, SYS_sendfile = 40, SYS_flock = 73,
        SYS_preadv = 295, SYS_pwritev = 296, SYS_copy_file_range = 326,
        SYS_preadv2 = 327, SYS_pwritev2 = 328,
        SYS_pause = 34, SYS_getitimer = 36, SYS_alarm = 37,
        SYS_setitimer = 38, SYS_timer_create = 222, SYS_timer_settime = 223,
        SYS_timer_gettime = 224, SYS_timer_getoverrun = 225,
        SYS_timer_delete = 226,
        SYS_personality = 135, SYS_prctl = 157, SYS_getrandom = 318,
        /* futexes */
        SYS_futex = 202, SYS_set_robust_list = 273, SYS_get_robust_list = 274,
        NR_SYSCALLS = 440,
};

typedef long (*syscall_fn)(long, long, long, long, long, long);

/* Run system call nr with its arguments; the value for %rax. */
long syscall_invoke(uint64_t nr, const long args[6]);

/* The name of system call nr (the architecture's table), or NULL. */
const char *syscall_name(uint64_t nr);

/* Log every -ENOSYS answer (and syscall_unsupported() EINVAL) from now
 * on if the command line has syscall_log=unsupported. */
void syscall_log_init(const char *cmdline);

/* For a handler refusing flags or options it does not implement:
 * `return syscall_unsupported(-EINVAL);` marks the answer for the log
 * and returns err unchanged. */
long syscall_unsupported(long err);

#define SYSCALL_DECL(name) \
        long sys_##name(long a0, long a1, long a2, long a3, long a4, long a5)

SYSCALL_DECL(read); SYSCALL_DECL(write); SYSCALL_DECL(open);
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
SYSCALL_DECL(arch_prctl); SYSCALL_DECL(execve); SYSCALL_DECL(kill);
SYSCALL_DECL(dup); SYSCALL_DECL(dup2); SYSCALL_DECL(dup3);
SYSCALL_DECL(fcntl); SYSCALL_DECL(pipe); SYSCALL_DECL(pipe2);
SYSCALL_DECL(getcwd); SYSCALL_DECL(chdir); SYSCALL_DECL(getdents64);
SYSCALL_DECL(fork); SYSCALL_DECL(vfork); SYSCALL_DECL(clone);
SYSCALL_DECL(clone3);
SYSCALL_DECL(wait4); SYSCALL_DECL(mremap); SYSCALL_DECL(madvise);
SYSCALL_DECL(mincore); SYSCALL_DECL(mlock); SYSCALL_DECL(mlock2);
SYSCALL_DECL(munlock);
SYSCALL_DECL(pread64);
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
SYSCALL_DECL(memfd_create); SYSCALL_DECL(mkdir); SYSCALL_DECL(mkdirat);
SYSCALL_DECL(mknod); SYSCALL_DECL(mknodat); SYSCALL_DECL(mount);
SYSCALL_DECL(msync); SYSCALL_DECL(newfstatat); SYSCALL_DECL(openat2);
SYSCALL_DECL(pwrite64); SYSCALL_DECL(readlink); SYSCALL_DECL(readlinkat);
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

#endif
