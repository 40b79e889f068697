/*
 * poll.h - readiness of open files, for poll, select and their kin
 * (sys_poll.c), and how a file says that its readiness changed.
 *
 * A file's `poll` operation (file.h) answers what the file is ready for
 * right now. A process waiting in poll or select sleeps on one channel,
 * poll_channel; every file whose readiness can change (a pipe, the
 * terminal) calls poll_wake() when it does, and the waiters look again.
 * One channel for all files keeps files free of per-waiter bookkeeping; a
 * wakeup that concerns another file costs a waiter one more look.
 */
#ifndef FS_POLL_H
#define FS_POLL_H

#include <mercator/types.h>

/* Linux's poll event bits (asm-generic/poll.h). */
#define POLLIN          0x0001
#define POLLPRI         0x0002
#define POLLOUT         0x0004
#define POLLERR         0x0008
#define POLLHUP         0x0010
#define POLLNVAL        0x0020
#define POLLRDNORM      0x0040
#define POLLRDBAND      0x0080
#define POLLWRNORM      0x0100
#define POLLWRBAND      0x0200
#define POLLMSG         0x0400
#define POLLRDHUP       0x2000

/* What a file without a poll operation is ready for (a regular file). */
#define POLL_DEFAULT_MASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/* Wake every process waiting in poll or select; they look again. */
void poll_wake(void);

#endif
