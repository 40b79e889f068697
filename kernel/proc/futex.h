/*
 * futex.h - the futex system call's helpers for the rest of the process
 * code (futex.c): the robust-list walk and the CLEARTID wake at exit.
 */
#ifndef PROC_FUTEX_H
#define PROC_FUTEX_H

#include <mercator/types.h>

struct proc;

/*
 * The robust-list protocol at exit: every lock word on p's robust list
 * (set_robust_list) that p's tid owns gets FUTEX_OWNER_DIED, and one of
 * its waiters is woken. At most 2048 entries are walked, as Linux does.
 * => p == current, its space still active; bad list memory ends the walk.
 */
void futex_exit_robust(struct proc *p);

/* Wake one waiter of the futex word at uaddr in the current space (the
 * CLONE_CHILD_CLEARTID word at exit). Nothing happens for a bad address. */
void futex_wake_address(uint64_t uaddr);

#endif
