/*
 * tty.h - the terminal: the console behind a line discipline (tty.c).
 *
 * Mercator has one terminal, the console (COM1 on x86-64). /dev/console
 * and /dev/tty open it; it is the controlling terminal of the first
 * process's session. The line discipline is Linux's n_tty in behaviour:
 * canonical mode with line editing, echo, signal characters, raw mode with
 * VMIN/VTIME, output processing, termios ioctls and job control.
 */
#ifndef FS_TTY_H
#define FS_TTY_H

#include <mercator/types.h>

struct file;
struct proc;

/*
 * A new open file of the console terminal (what opening /dev/console
 * gives), read-write unless flags (O_ACCMODE of open's flags) say
 * otherwise. => a new reference, or NULL if memory ran out.
 */
struct file *tty_open(unsigned flags);

/*
 * What opening /dev/tty gives: the caller's controlling terminal.
 * => 0 and a new reference in *out, -ENXIO if the caller has none, or
 *    -ENOMEM.
 */
long tty_open_controlling(unsigned flags, struct file **out);

/* Make the console the controlling terminal of p's session, with p's
 * process group in the foreground (for the first process). */
void tty_attach_session(struct proc *p);

/* p is exiting: if it leads the session that the console belongs to, the
 * foreground group gets SIGHUP and the session loses the terminal. */
void tty_session_leader_exit(struct proc *p);

/* Write len bytes of kernel memory to the terminal f (sendfile), as
 * write() would: output processing, job control. => bytes or -errno. */
long tty_write_kernel(struct file *f, const void *buf, size_t len);

/* Whether f is a terminal (isatty's question, asked by the kernel). */
bool file_is_tty(const struct file *f);

#endif
