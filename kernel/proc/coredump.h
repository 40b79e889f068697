/*
 * coredump.h - core files: what a process killed by a "core" signal
 * (SIGQUIT, SIGILL, SIGABRT, SIGSEGV, ...) leaves behind, as Linux's
 * fs/coredump.c and binfmt_elf.c write it.
 *
 * The file is an ELF core (ET_CORE, the architecture's class and machine)
 * with one PT_NOTE segment - NT_PRSTATUS (the dying thread's registers),
 * NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE - and a PT_LOAD per area in
 * address order, whose contents are in the file where Linux's
 * vma_dump_size() says: private anonymous memory and private pages of
 * file mappings, shared anonymous memory, the first page of a mapped ELF
 * file, with /proc/PID/coredump_filter's bits (default 0x33); never an
 * area with MADV_DONTDUMP (VM_AREA_DONTDUMP); always [vdso] and [vvar]
 * (Linux dumps named special mappings whole). Pages that
 * cannot be read (guard pages) and pages never touched are holes.
 *
 * Where it goes: /proc/sys/kernel/core_pattern (default "core"), with
 * Linux's %-specifiers (%p %P %i %I %u %g %s %t %h %e %E %c %d %%),
 * relative to the dying process's working directory, mode 0600; with
 * kernel.core_uses_pid and no %p, ".PID" is appended. A pattern starting
 * with '|' (a pipe to a helper program) is refused: no core, and the
 * kernel log says why. No core either when the process is not dumpable
 * (PR_SET_DUMPABLE 0, set-id), when RLIMIT_CORE is below one page, or
 * when the file cannot be made. RLIMIT_CORE counts the bytes written
 * (holes are free): a core that would pass it stops there, and still
 * counts as dumped, as Linux's (measured: limit 4096, a 3862-byte core
 * and WCOREDUMP).
 */
#ifndef PROC_COREDUMP_H
#define PROC_COREDUMP_H

#include <mercator/types.h>

struct ksiginfo;
struct proc;
struct text;

#define CORE_PATTERN_MAX        128     /* Linux's CORENAME_MAX_SIZE */
#define CORE_FILTER_DEFAULT     0x33    /* Linux's default coredump_filter */

/*
 * Write the current process's core for signal sig (info: the siginfo, or
 * NULL). => true if a core file was made and its notes written as far as
 * RLIMIT_CORE lets: the wait status then carries WCOREDUMP (0x80).
 */
bool coredump_write(int sig, const struct ksiginfo *info);

/* /proc/PID/coredump_filter (hex), /proc/sys/kernel/core_pattern and
 * core_uses_pid. */
void proc_pid_coredump_filter(struct text *t, struct proc *p);
long proc_pid_coredump_filter_set(struct proc *p, const char *buf, size_t len);
void proc_sys_core_pattern(struct text *t, struct proc *p);
long proc_sys_core_pattern_set(struct proc *p, const char *buf, size_t len);
void proc_sys_core_uses_pid(struct text *t, struct proc *p);
long proc_sys_core_uses_pid_set(struct proc *p, const char *buf, size_t len);

#endif
