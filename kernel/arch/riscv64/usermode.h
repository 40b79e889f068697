/*
 * usermode.h (riscv64) - user mode as xv6 does it: a user table and a
 * kernel table per process, the trampoline switching satp between them on
 * every trap, a private trap frame at TRAPFRAME.
 *
 * struct uctx is the machine-dependent part of a process: its two tables,
 * its trap frame and its kernel stack. Until the riscv64 pmap and the
 * process layer exist (issue 13's next steps), its pages are mapped
 * directly with sv39.c, and uctx_run() runs it until it exits or faults,
 * serving write and exit itself; the kernel tests use that.
 */
#ifndef ARCH_RISCV64_USERMODE_H
#define ARCH_RISCV64_USERMODE_H

#include <mercator/types.h>

/* The trap frame page (trampoline.S's TF_* offsets). */
struct trapframe {
        uint64_t kernel_satp;   /* the process's kernel table (uservec loads) */
        uint64_t kernel_sp;     /* top of its kernel stack */
        uint64_t kernel_trap;   /* usertrap() */
        uint64_t epc;           /* user pc */
        uint64_t kernel_hartid; /* tp in the kernel */
        uint64_t user_satp;     /* satp as uservec found it */
        uint64_t x[31];         /* x[n - 1] is register xn */
};

#define TF_REG(tf, n)   ((tf)->x[(n) - 1])
#define REG_SP  2
#define REG_A0  10
#define REG_A7  17

struct uctx {
        paddr_t uroot;          /* user table: user half, trap frame, trampoline */
        paddr_t kroot;          /* kernel table: kernel half + the same user half */
        paddr_t tf_pa;
        struct trapframe *tf;   /* the trap frame, through the linear map */
        void   *kstack;         /* its kernel stack's bottom (guard below) */
        /* What the last uctx_run() saw. */
        bool     exited;        /* exit(status) or exit_group */
        int      status;
        uint64_t fault_cause, fault_addr;       /* if it faulted instead */
        uint64_t satp_in_kernel;        /* satp in usertrap() */
        uint64_t satp_in_user;          /* satp uservec found */
        uint64_t traps, interrupts;     /* traps from user mode, interrupts among them */
        char     out[256];      /* what it wrote to fd 1 and 2 */
        size_t   outlen;
};

/*
 * Make an empty user context: both tables (the kernel's copying the
 * kernel half of the boot table), the trap frame mapped at TRAPFRAME (R|W,
 * not U), the trampoline at TRAMPOLINE (R|X, not U), a kernel stack.
 * => 0, or -ENOMEM (nothing left allocated).
 */
int uctx_create(struct uctx *u);

/*
 * Map a new zeroed page at user address va with the given PTE_R/W/X bits
 * (U is added) and return its kernel address to fill, or NULL if memory
 * ran out or va is not a free page below USER_MAX.
 */
void *uctx_map_page(struct uctx *u, vaddr_t va, uint64_t bits);

/* Free everything uctx_create() and uctx_map_page() allocated. */
void uctx_destroy(struct uctx *u);

/*
 * Enter user mode at pc with sp and a0, and stay until the program calls
 * exit/exit_group or takes a fault that is not an interrupt.
 * => 0 when it exited (u->status), -1 when it faulted (u->fault_*).
 */
int uctx_run(struct uctx *u, vaddr_t pc, vaddr_t sp, uint64_t a0);

#endif
