/*
 * syscall_md.h (i386) - the handlers of i386's own system calls
 * (arch/i386/sys_i386.c, signal_frame.c, tls.c), and which core handler
 * runs each i386 call whose name is not the core's.
 */
#ifndef MACHINE_SYSCALL_MD_H
#define MACHINE_SYSCALL_MD_H

SYSCALL_DECL(i386_waitpid); SYSCALL_DECL(i386_llseek);
SYSCALL_DECL(i386_pread64); SYSCALL_DECL(i386_pwrite64);
SYSCALL_DECL(i386_fadvise64); SYSCALL_DECL(i386_fadvise64_64);
SYSCALL_DECL(i386_readahead);
SYSCALL_DECL(i386_truncate64); SYSCALL_DECL(i386_ftruncate64);
SYSCALL_DECL(i386_mmap2); SYSCALL_DECL(i386_fallocate);
SYSCALL_DECL(i386_preadv); SYSCALL_DECL(i386_pwritev);
SYSCALL_DECL(i386_preadv2); SYSCALL_DECL(i386_pwritev2);
SYSCALL_DECL(i386_statfs64); SYSCALL_DECL(i386_fstatfs64);
SYSCALL_DECL(i386_set_thread_area); SYSCALL_DECL(i386_get_thread_area);
SYSCALL_DECL(i386_sigreturn); SYSCALL_DECL(i386_ipc);
SYSCALL_DECL(i386_shmctl); SYSCALL_DECL(i386_fcntl64);
SYSCALL_DECL(i386_fcntl); SYSCALL_DECL(i386_old_select);
SYSCALL_DECL(i386_lchown16); SYSCALL_DECL(i386_chown16);
SYSCALL_DECL(i386_fchown16); SYSCALL_DECL(i386_setuid16);
SYSCALL_DECL(i386_setgid16); SYSCALL_DECL(i386_getuid16);
SYSCALL_DECL(i386_getgid16); SYSCALL_DECL(i386_geteuid16);
SYSCALL_DECL(i386_getegid16); SYSCALL_DECL(i386_setreuid16);
SYSCALL_DECL(i386_setregid16); SYSCALL_DECL(i386_setresuid16);
SYSCALL_DECL(i386_setresgid16); SYSCALL_DECL(i386_setfsuid16);
SYSCALL_DECL(i386_setfsgid16); SYSCALL_DECL(i386_getresuid16);
SYSCALL_DECL(i386_getresgid16); SYSCALL_DECL(i386_getgroups16);
SYSCALL_DECL(i386_setgroups16);

/* The core handler of each i386 name that is not its own
 * (machine/syscalls.h). */
#define sys__newselect               sys_select
#define sys_ugetrlimit               sys_getrlimit
#define sys_stat64                   sys_stat
#define sys_lstat64                  sys_lstat
#define sys_fstat64                  sys_fstat
#define sys_lchown32                 sys_lchown
#define sys_getuid32                 sys_getuid
#define sys_getgid32                 sys_getgid
#define sys_geteuid32                sys_geteuid
#define sys_getegid32                sys_getegid
#define sys_setreuid32               sys_setreuid
#define sys_setregid32               sys_setregid
#define sys_getgroups32              sys_getgroups
#define sys_setgroups32              sys_setgroups
#define sys_fchown32                 sys_fchown
#define sys_setresuid32              sys_setresuid
#define sys_getresuid32              sys_getresuid
#define sys_setresgid32              sys_setresgid
#define sys_getresgid32              sys_getresgid
#define sys_chown32                  sys_chown
#define sys_setuid32                 sys_setuid
#define sys_setgid32                 sys_setgid
#define sys_setfsuid32               sys_setfsuid
#define sys_setfsgid32               sys_setfsgid
#define sys_sendfile64               sys_sendfile
#define sys_timer_settime32          sys_timer_settime
#define sys_timer_gettime32          sys_timer_gettime
#define sys_timerfd_settime32        sys_timerfd_settime
#define sys_timerfd_gettime32        sys_timerfd_gettime
#define sys_timerfd_settime64        sys_timerfd_settime
#define sys_timerfd_gettime64        sys_timerfd_gettime
#define sys_clock_settime32          sys_clock_settime
#define sys_clock_gettime32          sys_clock_gettime
#define sys_clock_getres_time32      sys_clock_getres
#define sys_clock_nanosleep_time32   sys_clock_nanosleep
#define sys_fstatat64                sys_newfstatat
#define sys_pselect6_time32          sys_pselect6
#define sys_ppoll_time32             sys_ppoll
#define sys_clock_gettime64          sys_clock_gettime
#define sys_clock_settime64          sys_clock_settime
#define sys_clock_getres_time64      sys_clock_getres
#define sys_clock_nanosleep_time64   sys_clock_nanosleep
#define sys_timer_gettime64          sys_timer_gettime
#define sys_timer_settime64          sys_timer_settime
#define sys_utimensat_time64         sys_utimensat
#define sys_pselect6_time64          sys_pselect6
#define sys_ppoll_time64             sys_ppoll
#define sys_rt_sigtimedwait_time64   sys_rt_sigtimedwait
#define sys_futex_time64             sys_futex
#define sys_sched_rr_get_interval_time64 sys_sched_rr_get_interval

#endif
