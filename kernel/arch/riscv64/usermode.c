/*
 * usermode.c (riscv64) - user contexts, usertrap() and usertrapret()
 * (usermode.h, trampoline.S).
 *
 * The two tables of a process are its pmap's (pmap_md.h): the user table
 * holds the user half, the trap frame and the trampoline and nothing of
 * the kernel; the kernel table's upper half is the kernel's and its lower
 * half the user table's (the same level-2 tables), so the user's pages,
 * the trap frame and the trampoline are at the same addresses in both,
 * and the kernel can touch user memory directly (with sstatus.SUM) while
 * it runs on its own table. satp holds the user table in user mode and
 * the kernel table in the kernel: uservec and userret switch it.
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>
#include "boot.h"
#include "percpu.h"
#include "riscv.h"
#include "pmap_md.h"
#include "pte.h"
#include "trap.h"
#include "usermode.h"

_Static_assert(offsetof(struct trapframe, x) == 48, "trampoline.S's TF_X");
_Static_assert(sizeof(struct trapframe) <= PAGE_SIZE, "one page");
_Static_assert(offsetof(struct trapframe, frame_va) == 48 + 8 * 31,
               "trampoline.S's TF_VA");

extern char trampoline_start[], uservec[], userret[];
extern char trap_kernel_entry[];

#define TRAMPOLINE_VA(sym) (TRAMPOLINE + (vaddr_t)((sym) - trampoline_start))

static struct uctx *running;            /* the context in user mode */
static uint64_t run_jb[14];             /* uctx_run()'s way back */
static uint64_t saved_kstack_limit;

int uctx_create(struct uctx *u)
{
        struct vm_page *tf;

        memset(u, 0, sizeof *u);
        if (pmap_create(&u->pm) != VM_OK)
                return -ENOMEM;
        tf = pmm_alloc_pages(0, PMM_ZERO);
        if (!tf)
                goto fail;
        u->tf_pa = pmm_page_to_pa(tf);
        u->tf = pmap_kmem_va(u->tf_pa);
        if (pmap_enter(u->pm, TRAPFRAME, u->tf_pa, VM_PROT_RW, 0) != VM_OK ||
            pmap_enter(u->pm, TRAMPOLINE, kimg_virt_to_phys(trampoline_start),
                       VM_PROT_READ | VM_PROT_EXEC, 0) != VM_OK)
                goto fail;
        u->kstack = kstack_alloc();
        if (!u->kstack)
                goto fail;
        return 0;
fail:
        uctx_destroy(u);
        return -ENOMEM;
}

void *uctx_map_page(struct uctx *u, vaddr_t va, unsigned prot)
{
        if (va < USER_MIN || va >= USER_MAX || !is_aligned(va, PAGE_SIZE) ||
            u->npages == UCTX_MAX_PAGES || pmap_extract(u->pm, va, NULL, NULL, NULL))
                return NULL;
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
        if (!pg)
                return NULL;
        paddr_t pa = pmm_page_to_pa(pg);
        if (pmap_enter(u->pm, va, pa, prot, PMAP_USER) != VM_OK) {
                pmm_free_pages(pg, 0);
                return NULL;
        }
        u->pages[u->npages++] = pa;
        return pmap_kmem_va(pa);
}

void uctx_destroy(struct uctx *u)
{
        kstack_free(u->kstack);
        if (u->pm) {
                pmap_remove(u->pm, 0, USER_HALF_END);
                pmap_update(u->pm);
                pmap_destroy(u->pm);
        }
        for (unsigned i = 0; i < u->npages; i++)
                pmm_free_pages(pmm_pa_to_page(u->pages[i]), 0);
        if (u->tf_pa)
                pmm_free_pages(pmm_pa_to_page(u->tf_pa), 0);
        memset(u, 0, sizeof *u);
}

/* Is [va, va + len) readable user memory in u's table? */
static bool user_readable(struct uctx *u, vaddr_t va, size_t len)
{
        vm_prot_t prot;
        unsigned flags;

        if (va >= USER_MAX || len > USER_MAX - va)
                return false;
        for (vaddr_t p = page_trunc(va); p < va + len; p += PAGE_SIZE)
                if (!pmap_extract(u->pm, p, NULL, &prot, &flags) ||
                    !(prot & VM_PROT_READ) || !(flags & PMAP_USER))
                        return false;
        return true;
}

static long sys_write(struct uctx *u, int fd, vaddr_t buf, size_t len)
{
        if (fd != 1 && fd != 2)
                return -EBADF;
        if (!user_readable(u, buf, len))
                return -EFAULT;
        size_t n = MIN(len, sizeof u->out - u->outlen);
        /* The kernel table holds the user half: a direct copy, with SUM
         * set only around it. */
        csr_set(sstatus, SSTATUS_SUM);
        memcpy(u->out + u->outlen, (const void *)buf, n);
        csr_clear(sstatus, SSTATUS_SUM);
        u->outlen += n;
        return (long)len;
}

/* Linux's riscv64 numbers (asm-generic): write 64, exit 93, exit_group 94. */
static void syscall(struct uctx *u)
{
        struct trapframe *tf = u->tf;
        long ret;

        switch (TF_REG(tf, REG_A7)) {
        case 64:
                ret = sys_write(u, (int)TF_REG(tf, REG_A0), TF_REG(tf, 11),
                                TF_REG(tf, 12));
                break;
        case 93:
        case 94:
                u->exited = true;
                u->status = (int)TF_REG(tf, REG_A0) & 0xff;
                return;
        default:
                ret = -ENOSYS;
        }
        TF_REG(tf, REG_A0) = (uint64_t)ret;
}

__attribute__((noreturn)) static void usertrapret(struct uctx *u);

/* Where uservec jumps, on u's kernel stack and kernel table. */
__attribute__((noreturn)) static void usertrap(void)
{
        struct uctx *u = running;
        uint64_t cause = csr_read(scause);

        csr_write(stvec, (uint64_t)trap_kernel_entry);
        u->traps++;
        u->satp_in_kernel = csr_read(satp);
        u->satp_in_user = u->tf->user_satp;
        u->tf->epc = csr_read(sepc);
        if (cause & SCAUSE_INTR) {
                u->interrupts++;
                trap_interrupt(cause);
        } else if (cause == EXC_ECALL_U) {
                u->tf->epc += 4;
                syscall(u);
        } else {
                u->fault_cause = cause;
                u->fault_addr = csr_read(stval);
                rv_longjmp(run_jb, 2);
        }
        if (u->exited)
                rv_longjmp(run_jb, 1);
        usertrapret(u);
}

static void usertrapret(struct uctx *u)
{
        struct trapframe *tf = u->tf;

        intr_off();
        csr_write(stvec, TRAMPOLINE_VA(uservec));
        tf->kernel_satp = satp_make(u->pm->kroot, 0);
        tf->kernel_sp = kstack_top(u->kstack);
        tf->kernel_trap = (uint64_t)usertrap;
        tf->kernel_tp = (uint64_t)this_cpu();
        this_cpu()->kstack_limit = (uint64_t)u->kstack;
        uint64_t st = csr_read(sstatus);
        st &= ~(SSTATUS_SPP | SSTATUS_SUM);
        st |= SSTATUS_SPIE;             /* interrupts on in user mode */
        csr_write(sstatus, st);
        csr_write(sepc, tf->epc);
        ((void (*)(uint64_t, uint64_t))TRAMPOLINE_VA(userret))(
                satp_make(u->one_table ? u->pm->kroot : u->pm->root, 0),
                TRAPFRAME);
        __builtin_unreachable();
}

int uctx_run(struct uctx *u, vaddr_t pc, vaddr_t sp, uint64_t a0)
{
        int how;

        u->exited = false;
        u->fault_cause = u->fault_addr = 0;
        u->tf->epc = pc;
        TF_REG(u->tf, REG_SP) = sp;
        TF_REG(u->tf, REG_A0) = a0;
        saved_kstack_limit = this_cpu()->kstack_limit;
        running = u;
        how = rv_setjmp(run_jb);
        if (how == 0)
                usertrapret(u);
        /* Back on the caller's stack and the kernel's own table. */
        running = NULL;
        pmap_activate(pmap_kernel());
        this_cpu()->kstack_limit = saved_kstack_limit;
        return how == 1 ? 0 : -1;
}
