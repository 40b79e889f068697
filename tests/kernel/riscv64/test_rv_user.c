/*
 * test_rv_user.c - user mode on riscv64 as xv6 lays it out (issue 13):
 * the trampoline at the same address in the kernel's table and in two
 * processes' tables, a private trap frame in each, satp holding the
 * process's user table in user mode and its kernel table in the kernel,
 * a guard page under every kernel stack, and U-less pages refused to the
 * user. The programs are user_prog.S.
 */
#include <mercator/errno.h>
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/vmalloc.h>
#include "arch/riscv64/boot.h"
#include "arch/riscv64/pmap_md.h"
#include "arch/riscv64/riscv.h"
#include "arch/riscv64/sv39.h"
#include "arch/riscv64/trap.h"
#include "arch/riscv64/usermode.h"

extern char user_prog_start[], user_prog_end[];
extern char trampoline_start[];

#define CODE_VA         0x10000UL
#define STACK_VA        0x7fff0000UL    /* one page; sp at its top */

/* A context with the program at CODE_VA (R|X) and a stack page (R|W). */
static bool make_proc(struct uctx *u)
{
        if (!KCHECK_EQ(uctx_create(u), 0))
                return false;
        void *code = uctx_map_page(u, CODE_VA, VM_PROT_READ | VM_PROT_EXEC);
        void *stack = uctx_map_page(u, STACK_VA, VM_PROT_RW);
        if (!KCHECK(code && stack)) {
                uctx_destroy(u);
                return false;
        }
        memcpy(code, user_prog_start, (size_t)(user_prog_end - user_prog_start));
        __asm__ volatile("fence.i" ::: "memory");
        return true;
}

static int run(struct uctx *u, uint64_t a0)
{
        return uctx_run(u, CODE_VA, STACK_VA + PAGE_SIZE, a0);
}

KTEST(rv_user_write_and_exit)
{
        struct uctx u;

        if (!make_proc(&u))
                return;
        KCHECK_EQ(run(&u, 1), 0);
        KCHECK(u.exited);
        KCHECK_EQ(u.status, 0);
        KCHECK_EQ(u.outlen, 18);
        KCHECK(memcmp(u.out, "hello from U-mode\n", 18) == 0);
        KCHECK_EQ(run(&u, 20), 0);
        KCHECK_EQ(u.status, 41);
        /* Back in the kernel on its own table. */
        KCHECK_EQ(satp_root(csr_read(satp)), boot_info.kernel_root);
        uctx_destroy(&u);
}

KTEST(rv_trampoline_same_va_everywhere)
{
        struct uctx a, b;
        int level;

        if (!make_proc(&a))
                return;
        if (!make_proc(&b)) {
                uctx_destroy(&a);
                return;
        }
        paddr_t tramp = kimg_virt_to_phys(trampoline_start);
        const paddr_t roots[] = { boot_info.kernel_root, a.pm->root, a.pm->kroot,
                                  b.pm->root, b.pm->kroot };
        for (unsigned i = 0; i < ARRAY_SIZE(roots); i++) {
                pte_t e = sv39_walk(roots[i], TRAMPOLINE, &level);
                KCHECK_EQ(pte_pa(e), tramp);
                KCHECK_EQ(level, 0);
                KCHECK((e & (PTE_R | PTE_X)) == (PTE_R | PTE_X));
                KCHECK(!(e & (PTE_W | PTE_U)));
        }
        /* The trap frames: same address, private frames, not U. */
        pte_t ea = sv39_walk(a.pm->root, TRAPFRAME, &level);
        pte_t eb = sv39_walk(b.pm->root, TRAPFRAME, &level);
        KCHECK_EQ(pte_pa(ea), a.tf_pa);
        KCHECK_EQ(pte_pa(eb), b.tf_pa);
        KCHECK(a.tf_pa != b.tf_pa);
        KCHECK(!(ea & PTE_U) && !(eb & PTE_U));
        KCHECK_EQ(pte_pa(sv39_walk(a.pm->kroot, TRAPFRAME, &level)), a.tf_pa);
        KCHECK_EQ(sv39_walk(boot_info.kernel_root, TRAPFRAME, &level), 0);
        KCHECK(pmap_check(a.pm) && pmap_check(b.pm) && pmap_check(pmap_kernel()));
        /* The user table holds nothing of the kernel; the kernel table
         * holds all of it. */
        const pte_t *ut = pmap_kmem_va(a.pm->root), *kt = pmap_kmem_va(a.pm->kroot);
        const pte_t *boot = pmap_kmem_va(boot_info.kernel_root);
        for (unsigned i = SV39_ENTRIES / 2; i < SV39_ENTRIES; i++) {
                KCHECK_EQ(ut[i], 0);
                KCHECK_EQ(kt[i], boot[i]);
        }
        KCHECK_EQ(sv39_walk(a.pm->root, (vaddr_t)_text_start, &level), 0);
        /* Each runs with its own registers in its own frame. */
        KCHECK_EQ(run(&a, 5 + 1000), 0);
        KCHECK_EQ(run(&b, 7 + 1000), 0);
        KCHECK_EQ(a.status, (2 * 1005 + 1) & 0xff);
        KCHECK_EQ(b.status, (2 * 1007 + 1) & 0xff);
        KCHECK_EQ(TF_REG(a.tf, REG_A0), 2 * 1005 + 1);
        KCHECK_EQ(TF_REG(b.tf, REG_A0), 2 * 1007 + 1);
        uctx_destroy(&a);
        uctx_destroy(&b);
}

KTEST(rv_satp_switched_by_trampoline)
{
        struct uctx a, b;

        if (!make_proc(&a))
                return;
        if (!make_proc(&b)) {
                uctx_destroy(&a);
                return;
        }
        KCHECK_EQ(run(&a, 9), 0);
        KCHECK_EQ(a.satp_in_user, satp_make(a.pm->root, 0));
        KCHECK_EQ(a.satp_in_kernel, satp_make(a.pm->kroot, 0));
        KCHECK_EQ(run(&b, 9), 0);
        KCHECK_EQ(b.satp_in_user, satp_make(b.pm->root, 0));
        KCHECK_EQ(b.satp_in_kernel, satp_make(b.pm->kroot, 0));
        KCHECK(a.pm->root != b.pm->root && a.pm->kroot != b.pm->kroot);
        uctx_destroy(&a);
        uctx_destroy(&b);
}

KTEST(rv_user_cannot_touch_kernel_pages)
{
        struct uctx u;

        if (!make_proc(&u))
                return;
        KCHECK_EQ(run(&u, 2), -1);
        KCHECK_EQ(u.fault_cause, EXC_LOAD_PAGE_FAULT);
        KCHECK_EQ(u.fault_addr, TRAPFRAME);
        KCHECK_EQ(run(&u, 3), -1);
        KCHECK_EQ(u.fault_cause, EXC_INSN_PAGE_FAULT);
        KCHECK_EQ(u.fault_addr, TRAMPOLINE);
        /* A system call given a U-less buffer gets EFAULT, not the data. */
        KCHECK_EQ(run(&u, 5), 0);
        KCHECK_EQ(u.status, EFAULT);
        KCHECK_EQ(u.outlen, 0);
        uctx_destroy(&u);
}

KTEST(rv_timer_interrupts_user_mode)
{
        struct uctx u;

        if (!make_proc(&u))
                return;
        uint64_t t0 = timer_ticks;
        KCHECK_EQ(run(&u, 4), 0);
        KCHECK_EQ(u.status, 4);
        /* The spin takes well over a tick under TCG; each interrupt came
         * through uservec and went back through userret. */
        if (!KCHECK(u.interrupts >= 1 && timer_ticks > t0))
                pr_emerg("  %lu interrupts, %lu ticks\n", u.interrupts, timer_ticks - t0);
        uctx_destroy(&u);
}

KTEST(rv_kernel_stack_guards)
{
        struct uctx a, b;
        struct fault_info fi;
        int level;

        if (!make_proc(&a))
                return;
        if (!make_proc(&b)) {
                uctx_destroy(&a);
                return;
        }
        const struct uctx *us[] = { &a, &b };
        for (unsigned i = 0; i < 2; i++) {
                vaddr_t bottom = (vaddr_t)us[i]->kstack;
                KCHECK(probe_read(bottom - 8, &fi));
                KCHECK_EQ(fi.vector, EXC_LOAD_PAGE_FAULT);
                KCHECK_EQ(sv39_walk(boot_info.kernel_root, bottom - PAGE_SIZE, &level), 0);
                KCHECK(!probe_write(bottom, &fi));
                KCHECK(!probe_write(bottom + KSTACK_SIZE - 8, &fi));
                /* Seen through the process's kernel table too. */
                KCHECK(pte_leaf(sv39_walk(us[i]->pm->kroot, bottom, &level)));
        }
        KCHECK((vaddr_t)a.kstack != (vaddr_t)b.kstack);
        uctx_destroy(&a);
        uctx_destroy(&b);
}
