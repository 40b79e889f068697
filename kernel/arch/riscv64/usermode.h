/*
 * usermode.h (riscv64) - user mode as xv6 does it: a user table and a
 * kernel table per process, the trampoline switching satp between them on
 * every trap, a private trap frame at TRAPFRAME.
 *
 * struct uctx is the machine-dependent part of a process: its pmap (two
 * tables, pmap_md.h), its trap frame and its kernel stack. Until the
 * process layer runs on riscv64 (issue 13's next step), uctx_map_page()
 * gives it pages directly and uctx_run() runs it until it exits or
 * faults, serving write and exit itself; the kernel tests use that.
 */
#ifndef ARCH_RISCV64_USERMODE_H
#define ARCH_RISCV64_USERMODE_H

#include <mercator/types.h>
#include <vm/pmap.h>

/* The trap frame page (trampoline.S's TF_* offsets). */
struct trapframe {
        uint64_t kernel_satp;   /* the process's kernel table (uservec loads) */
        uint64_t kernel_sp;     /* top of its kernel stack */
        uint64_t kernel_trap;   /* usertrap() */
        uint64_t epc;           /* user pc */
        uint64_t kernel_tp;     /* tp in the kernel: the hart's struct cpu */
        uint64_t user_satp;     /* satp as uservec found it */
        uint64_t x[31];         /* x[n - 1] is register xn */
        uint64_t frame_va;      /* where uservec found it (sscratch) */
};

#define TF_REG(tf, n)   ((tf)->x[(n) - 1])
#define REG_RA  1
#define REG_SP  2
#define REG_TP  4
#define REG_A0  10
#define REG_A7  17

#define UCTX_MAX_PAGES  8

struct uctx {
        struct pmap *pm;        /* pm->root: user table, pm->kroot: kernel table */
        paddr_t tf_pa;
        struct trapframe *tf;   /* the trap frame, through the linear map */
        void   *kstack;         /* kstack_alloc(): guard page below */
        paddr_t pages[UCTX_MAX_PAGES];  /* what uctx_map_page() gave it */
        unsigned npages;
        /* What the last uctx_run() saw. */
        bool     exited;        /* exit(status) or exit_group */
        int      status;
        uint64_t fault_cause, fault_addr;       /* if it faulted instead */
        uint64_t satp_in_kernel;        /* satp in usertrap() */
        uint64_t satp_in_user;          /* satp uservec found */
        uint64_t traps, interrupts;     /* traps from user mode, interrupts among them */
        /* Set by satp_bench.c only: user mode runs on the kernel table too,
         * as on Linux, so the trampoline's satp writes change nothing. */
        bool     one_table;
        char     out[256];      /* what it wrote to fd 1 and 2 */
        size_t   outlen;
};

/*
 * Make an empty user context: a pmap (pmap_create: both tables), the trap
 * frame mapped at TRAPFRAME (R|W, not U), the trampoline at TRAMPOLINE
 * (R|X, not U), a kernel stack (kstack_alloc).
 * => 0, or -ENOMEM (nothing left allocated).
 */
int uctx_create(struct uctx *u);

/*
 * Map a new zeroed page at user address va with protection prot
 * (VM_PROT_*, as a user page) and return its kernel address to fill, or
 * NULL if memory ran out, UCTX_MAX_PAGES are in use, or va is not a free
 * page below USER_MAX.
 */
void *uctx_map_page(struct uctx *u, vaddr_t va, unsigned prot);

/* Free everything uctx_create() and uctx_map_page() allocated. */
void uctx_destroy(struct uctx *u);

/*
 * Enter user mode at pc with sp and a0, and stay until the program calls
 * exit/exit_group or takes a fault that is not an interrupt.
 * => 0 when it exited (u->status), -1 when it faulted (u->fault_*).
 */
int uctx_run(struct uctx *u, vaddr_t pc, vaddr_t sp, uint64_t a0);

#endif
