/*
 * usermode.c (riscv64) - user contexts, usertrap() and usertrapret()
 * (usermode.h, trampoline.S).
 *
 * The two tables of a process. The user table holds the user half, the
 * trap frame and the trampoline and nothing of the kernel; the kernel
 * table's upper half is the kernel's (root entries 256-511 copied from
 * the boot-time table, whose kernel half never changes after boot) and its
 * lower half is the user table's: the same level-1 tables, so the user's
 * pages, the trap frame and the trampoline are at the same addresses in
 * both, and the kernel can touch user memory directly (with sstatus.SUM)
 * while it runs on its own table. satp holds the user table in user mode
 * and the kernel table in the kernel: uservec and userret switch it.
 */
#include <mercator/errno.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include "boot.h"
#include "kstack.h"
#include "riscv.h"
#include "sv39.h"
#include "trap.h"
#include "usermode.h"

_Static_assert(offsetof(struct trapframe, x) == 48, "trampoline.S's TF_X");
_Static_assert(sizeof(struct trapframe) <= PAGE_SIZE, "one page");

extern char trampoline_start[], uservec[], userret[];
extern char trap_kernel_entry[];

#define TRAMPOLINE_VA(sym) (TRAMPOLINE + (vaddr_t)((sym) - trampoline_start))

static struct uctx *running;            /* the context in user mode */
static uint64_t run_jb[14];             /* uctx_run()'s way back */
static uint64_t saved_kstack_limit;

/* Copy root entries 0-255 of the user table into the kernel table. */
static void sync_user_half(struct uctx *u)
{
        const pte_t *src = pmap_kmem_va(u->uroot);
        pte_t *dst = pmap_kmem_va(u->kroot);

        memcpy(dst, src, SV39_ENTRIES / 2 * sizeof(pte_t));
}

static void free_user_leaf(paddr_t pa, pte_t e)
{
        pmm_free_pages(pmm_pa_to_page(pa), 0);
}

int uctx_create(struct uctx *u)
{
        struct vm_page *tf;

        memset(u, 0, sizeof *u);
        if (vm_ptpage_alloc(&u->uroot) != VM_OK)
                return -ENOMEM;
        if (vm_ptpage_alloc(&u->kroot) != VM_OK)
                goto fail;
        tf = pmm_alloc_pages(0, PMM_ZERO);
        if (!tf)
                goto fail;
        u->tf_pa = pmm_page_to_pa(tf);
        u->tf = pmap_kmem_va(u->tf_pa);
        if (sv39_map(u->uroot, TRAPFRAME, u->tf_pa, PAGE_SIZE, PTE_R | PTE_W, true) != VM_OK ||
            sv39_map(u->uroot, TRAMPOLINE, kimg_virt_to_phys(trampoline_start),
                     PAGE_SIZE, PTE_R | PTE_X, true) != VM_OK)
                goto fail;
        u->kstack = rv_kstack_alloc();
        if (!u->kstack)
                goto fail;
        const pte_t *kernel = pmap_kmem_va(boot_info.kernel_root);
        pte_t *kt = pmap_kmem_va(u->kroot);
        memcpy(kt + SV39_ENTRIES / 2, kernel + SV39_ENTRIES / 2,
               SV39_ENTRIES / 2 * sizeof(pte_t));
        sync_user_half(u);
        return 0;
fail:
        uctx_destroy(u);
        return -ENOMEM;
}

void *uctx_map_page(struct uctx *u, vaddr_t va, uint64_t bits)
{
        int level;

        if (va >= USER_MAX || !is_aligned(va, PAGE_SIZE) ||
            sv39_walk(u->uroot, va, &level))
                return NULL;
        struct vm_page *pg = pmm_alloc_pages(0, PMM_ZERO);
        if (!pg)
                return NULL;
        if (sv39_map(u->uroot, va, pmm_page_to_pa(pg), PAGE_SIZE,
                     (bits & (PTE_R | PTE_W | PTE_X)) | PTE_U, true) != VM_OK) {
                pmm_free_pages(pg, 0);
                return NULL;
        }
        sync_user_half(u);
        return pmap_kmem_va(pmm_page_to_pa(pg));
}

void uctx_destroy(struct uctx *u)
{
        rv_kstack_free(u->kstack);
        if (u->uroot) {
                /* The trap frame and trampoline are not U: unmap them
                 * before the walk frees what is. */
                sv39_unmap_page(u->uroot, TRAPFRAME);
                sv39_unmap_page(u->uroot, TRAMPOLINE);
                sv39_destroy(u->uroot, free_user_leaf);
        }
        if (u->kroot)
                vm_ptpage_free(u->kroot);
        if (u->tf_pa)
                pmm_free_pages(pmm_pa_to_page(u->tf_pa), 0);
        u->uroot = u->kroot = u->tf_pa = 0;
        u->kstack = NULL;
        sfence_vma_all();
}

/* Is [va, va + len) readable user memory in u's table? */
static bool user_readable(struct uctx *u, vaddr_t va, size_t len)
{
        int level;

        if (va >= USER_MAX || len > USER_MAX - va)
                return false;
        for (vaddr_t p = page_trunc(va); p < va + len; p += PAGE_SIZE) {
                pte_t e = sv39_walk(u->uroot, p, &level);
                if ((e & (PTE_U | PTE_R)) != (PTE_U | PTE_R))
                        return false;
        }
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
        tf->kernel_satp = satp_make(u->kroot, 0);
        tf->kernel_sp = (uint64_t)u->kstack + KSTACK_SIZE;
        tf->kernel_trap = (uint64_t)usertrap;
        tf->kernel_hartid = boot_info.hartid;
        kstack_limit = (uint64_t)u->kstack;
        uint64_t st = csr_read(sstatus);
        st &= ~(SSTATUS_SPP | SSTATUS_SUM);
        st |= SSTATUS_SPIE;             /* interrupts on in user mode */
        csr_write(sstatus, st);
        csr_write(sepc, tf->epc);
        ((void (*)(uint64_t))TRAMPOLINE_VA(userret))(satp_make(u->uroot, 0));
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
        saved_kstack_limit = kstack_limit;
        running = u;
        how = rv_setjmp(run_jb);
        if (how == 0)
                usertrapret(u);
        /* Back on the caller's stack and the kernel's own table. */
        running = NULL;
        csr_write(satp, satp_make(boot_info.kernel_root, 0));
        sfence_vma_all();
        kstack_limit = saved_kstack_limit;
        return how == 1 ? 0 : -1;
}
