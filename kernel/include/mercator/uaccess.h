/*
 * uaccess.h - the only way the kernel touches user memory (CONCEPTS E26).
 *
 * Every function checks that the whole user range lies in the user half
 * before touching it, and survives any bad pointer: unmapped, kernel,
 * non-canonical, wrapping, or read-only for a write gives -EFAULT. Memory
 * that is merely not faulted in yet is faulted in, not refused.
 */
#ifndef MERCATOR_UACCESS_H
#define MERCATOR_UACCESS_H

#include <mercator/types.h>

/* Whether [uaddr, uaddr + len) lies inside the user half. */
bool user_range_ok(uint64_t uaddr, uint64_t len);

/*
 * Copy len bytes from the user address usrc into the kernel buffer dst.
 * => 0, or -EFAULT with an unspecified part of the range copied. May fault
 *    pages in (and so sleep once faults may).
 */
long copy_from_user(void *dst, uint64_t usrc, size_t len);
/*
 * copy_from_user for a caller that holds a spinlock: a fault is not
 * served (serving one may allocate, sleep or take the big lock) but ends
 * the copy with -EFAULT at once, as if nothing were mapped there. The
 * caller drops its lock, brings the page in with copy_from_user and tries
 * again (futex.c). => 0 or -EFAULT. For the current thread's own copies.
 */
long copy_from_user_nofault(void *dst, uint64_t usrc, size_t len);
/* Copy len bytes of src to the user address udst; results as above. */
long copy_to_user(uint64_t udst, const void *src, size_t len);
/* Fill len bytes at the user address udst with zeroes; results as above. */
long clear_user(uint64_t udst, size_t len);

/*
 * Atomically, against every CPU and user thread: if the aligned word at
 * uaddr holds *old, store new there. => 0 with *old set to the value
 * found (the store happened if it is the value asked for), or -EFAULT
 * (not aligned, not user memory, or not writable). For the futex words
 * the kernel changes while user code changes them with atomics too
 * (FUTEX_WAKE_OP, robust lists).
 */
long user_cmpxchg32(uint64_t uaddr, uint32_t *old, uint32_t new);

/*
 * Copy a NUL-terminated string of at most size - 1 bytes into dst
 * (always terminated). => its length, -EFAULT, or -ENAMETOOLONG if no NUL
 * came within size - 1 bytes.
 */
long strncpy_from_user(char *dst, uint64_t usrc, size_t size);

#endif
