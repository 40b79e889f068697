/*
 * test_tlb_colour.c (every architecture) - pages that every system call or
 * every clock_gettime touches together get different TLB colours
 * (vm/pmap.h): a process's kernel stack top against its struct proc
 * (proc.c: a clash made i386's getppid 44% slower), and [vvar] and [vdso]
 * against the top pages of the user stack (vdso.c: the code page and the
 * stack's top page had agreed in 15 bits on x86-64).
 */
#include <mercator/ktest.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/vdso.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>

#define PROCS 12

/* Twelve processes at once, so several stacks are fresh and several come
 * from the cache of freed ones; by chance alone about a third would
 * clash. */
KTEST(kstack_colour_differs_from_its_proc)
{
        struct proc *p[PROCS];
        int n = 0;

        for (int round = 0; round < 2; round++) {
                for (n = 0; n < PROCS && (p[n] = proc_alloc()); n++)
                        KCHECK(!proc_kstack_clashes(p[n], p[n]->kstack));
                KCHECK_EQ(n, PROCS);
                while (n > 0)           /* the second round takes these */
                        proc_free(p[--n]);
        }
}

KTEST(vdso_colour_differs_from_the_stack_top)
{
        struct vm_space *sp;
        vaddr_t ehdr = 0;

        if (!KCHECK_EQ(vm_space_create(&sp), VM_OK))
                return;
        KCHECK_EQ(vm_space_stack_init(sp, USER_MAX, 128 * KiB), VM_OK);
        KCHECK_EQ(vdso_map(sp, NULL, &ehdr), VM_OK);
        const struct vm_area *code = vm_space_lookup(sp, ehdr);
        if (ehdr && KCHECK(code)) {
                vaddr_t first = ehdr - VDSO_VVAR_PAGES * PAGE_SIZE;
                KCHECK(vm_space_lookup(sp, first) != NULL);     /* [vvar] */
                for (vaddr_t v = first; v < code->end; v += PAGE_SIZE)
                        for (unsigned k = 1; k <= 8; k++)
                                KCHECK(tlb_colour(v) !=
                                       tlb_colour(USER_MAX - k * PAGE_SIZE));
                /* the slack below and above went back */
                KCHECK(!vm_space_lookup(sp, first - PAGE_SIZE));
                KCHECK(!vm_space_lookup(sp, code->end));
        }
        vm_space_destroy(sp);
}
