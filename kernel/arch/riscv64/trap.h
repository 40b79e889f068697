/*
 * trap.h (riscv64) - the registers a trap saves (trap.S) and the handler.
 */
#ifndef ARCH_RISCV64_TRAP_H
#define ARCH_RISCV64_TRAP_H

#include <mercator/types.h>

struct trap_frame {
        uint64_t x[32];         /* x[0] unused; x[2] is sp before the trap */
        uint64_t sepc, sstatus, scause, stval;
};

_Static_assert(sizeof(struct trap_frame) == 36 * 8, "trap.S's FRAME_SIZE");

/* Called by trap.S for every trap taken in S-mode. */
void trap_kernel(struct trap_frame *f);

/* Handle an interrupt (scause with its top bit set), from either mode. */
void trap_interrupt(uint64_t cause);
void trap_interrupt_from(uint64_t cause, bool from_user);

/* Install stvec and enable the interrupts the kernel uses. */
void trap_init(void);

/* Timer ticks since trap_init() (one per TICK_HZ-th of a second). */
extern volatile uint64_t timer_ticks;
#define TICK_HZ 100

/* Set by boot.c from the device tree: time CSR ticks per second. */
extern uint64_t timebase_hz;

/*
 * The lowest address of the running kernel stack is the hart's
 * kstack_limit (percpu.h): trap.S switches to the hart's overflow stack
 * and calls trap_stack_overflow() when a trap frame would go below it
 * (into the guard page under every kernel stack).
 */
__attribute__((noreturn)) void trap_stack_overflow(uint64_t sp, uint64_t pc,
                                                   uint64_t addr, uint64_t cause);

int rv_setjmp(uint64_t jb[14]);
__attribute__((noreturn)) void rv_longjmp(uint64_t jb[14], int v);

#endif
