/*
 * vmalloc_test.c (i386) - the core's vmalloc and kernel stacks in i386's
 * vmalloc region (above low memory + 8 MiB), with guard pages; device pages
 * in the fixmap and in ioremap.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <machine/fixmap.h>
#include <machine/vmparam.h>
#include <vm/pmap.h>
#include <vm/vmalloc.h>
#include "../../../kernel/arch/i386/cpu.h"
#include "../../../kernel/arch/i386/trap.h"

KTEST(i386_vmalloc_guarded)
{
        struct fault_info fi;
        uint8_t *p = vmalloc(3 * PAGE_SIZE);
        paddr_t pa;

        if (!KCHECK(p))
                return;
        KCHECK((vaddr_t)p >= vmalloc_start && (vaddr_t)p + 3 * PAGE_SIZE <= VMALLOC_END);
        KCHECK(vmalloc_start >= PAGE_OFFSET + lowmem_end + VMALLOC_OFFSET);
        for (unsigned i = 0; i < 3 * PAGE_SIZE; i++)
                p[i] = (uint8_t)i;
        for (unsigned i = 0; i < 3 * PAGE_SIZE; i += 511)
                KCHECK_EQ(p[i], (uint8_t)i);
        KCHECK(pmap_extract(pmap_kernel(), (vaddr_t)p + PAGE_SIZE, &pa, NULL, NULL));
        KCHECK(pa < lowmem_end);
        KCHECK(probe_write((vaddr_t)p + 3 * PAGE_SIZE, &fi));   /* guard */
        KCHECK_EQ(fi.error & PF_PRESENT, 0);
        vfree(p);
        KCHECK(probe_read((vaddr_t)p, &fi));                    /* freed */
}

KTEST(i386_kstack_in_vmalloc)
{
        struct fault_info fi;
        void *s = kstack_alloc();

        if (!KCHECK(s))
                return;
        vaddr_t base = (vaddr_t)s, top = kstack_top(s);
        KCHECK(base >= vmalloc_start && top <= VMALLOC_END);
        KCHECK_EQ(top - base, KSTACK_SIZE);
        KCHECK(!probe_write(top - 4, &fi));
        KCHECK(!probe_write(base, &fi));
        KCHECK(probe_write(base - 4, &fi));             /* the guard below */
        KCHECK(kstack_guard_hit(base - 4));
        kstack_free(s);
}

KTEST_DEATH(i386_kstack_guard, "kernel stack overflow: a kernel stack")
{
        void *s = kstack_alloc();

        if (KCHECK(s))
                *(volatile uint32_t *)((vaddr_t)s - 4) = 1;
}

volatile unsigned i386_recurse_limit = ~0u;

__attribute__((noinline)) static void recurse(void *arg)
{
        volatile char pad[256];

        pad[0] = 1;
        if ((uintptr_t)arg < i386_recurse_limit)
                recurse((void *)((uintptr_t)arg + 1));
        pad[1] = 0;
}

/* A real overflow: recursion runs a kernel stack into its guard page; the
 * page fault cannot be delivered on that stack, the double fault's task
 * (its own TSS and stack) reports it. */
KTEST_DEATH(i386_kstack_overflow, "kernel stack overflow: a kernel stack")
{
        void *s = kstack_alloc();

        if (KCHECK(s))
                machine_call_on_stack((void *)kstack_top(s), recurse, NULL);
}

#define LAPIC_PA        0xfee00000u
#define LAPIC_VERSION   0x30

/* The local APIC through its fixmap slot and through ioremap: the same
 * version register, an integrated APIC's (0x10-0x15). */
KTEST(i386_fixmap_local_apic)
{
        uint32_t a, b, c, d;

        cpuid(1, 0, &a, &b, &c, &d);
        if (!(d & (1u << 9))) {         /* no APIC on this CPU model */
                KCHECK(fix_to_virt(FIX_APIC_BASE) == FIXADDR_TOP - PAGE_SIZE);
                return;
        }
        set_fixmap(FIX_APIC_BASE, LAPIC_PA, PMAP_NOCACHE);
        uint32_t v = *(volatile uint32_t *)(fix_to_virt(FIX_APIC_BASE) + LAPIC_VERSION);
        clear_fixmap(FIX_APIC_BASE);
        KCHECK((v & 0xff) >= 0x10 && (v & 0xff) <= 0x15);
        volatile uint32_t *io = ioremap(LAPIC_PA, PAGE_SIZE, 0);
        if (!KCHECK(io))
                return;
        KCHECK((vaddr_t)io >= IOREMAP_BASE && (vaddr_t)io < IOREMAP_END);
        KCHECK_EQ(io[LAPIC_VERSION / 4], v);
        iounmap((void *)io);
}
