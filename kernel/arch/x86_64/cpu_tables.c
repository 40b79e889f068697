/*
 * cpu_tables.c - the descriptor tables: each CPU's own GDT (kernel and
 * user segments, and its TSS) in its struct cpu (percpu.h), and the one
 * IDT every CPU loads.
 *
 * Long mode ignores segment bases and limits except for FS/GS; the GDT
 * mostly says "64-bit code, privilege 0 or 3". The TSS matters for its
 * stack pointers: rsp0 (stack for traps from user mode, set per thread
 * later) and the IST stacks that double faults and NMIs always switch to,
 * so a kernel stack overflow can still be reported.
 */
#include <mercator/string.h>
#include <machine/vdso.h>
#include "cpu.h"
#include "percpu.h"
#include "trap.h"

struct idt_gate {
        uint16_t offset_lo;
        uint16_t selector;
        uint8_t  ist;
        uint8_t  type_attr;     /* P | DPL | type (0xe: interrupt gate) */
        uint16_t offset_mid;
        uint32_t offset_hi;
        uint32_t reserved;
} __attribute__((packed));

struct table_ptr {
        uint16_t limit;
        uint64_t base;
} __attribute__((packed));

/* Access byte | flags, as 64-bit descriptors (base and limit ignored). */
#define SEG_KCODE       0x00af9a000000ffffULL   /* P, DPL0, code, L */
#define SEG_KDATA       0x00cf92000000ffffULL   /* P, DPL0, data, RW */
#define SEG_UCODE32     0x00cffa000000ffffULL   /* P, DPL3, 32-bit code */
#define SEG_UDATA       0x00cff2000000ffffULL   /* P, DPL3, data, RW */
#define SEG_UCODE       0x00affa000000ffffULL   /* P, DPL3, code, L */

/* P, DPL3, data, read-only, accessed; the limit (byte granular) carries
 * the CPU and node numbers for the vDSO's getcpu (machine/vdso.h). */
#define SEG_CPUNODE(cpu, node)  (0x00f1ULL << 40 | ((node) << 12 | (cpu)))

_Static_assert(sizeof(struct tss) == 104, "the hardware TSS is 104 bytes");
static struct idt_gate idt[NR_VECTORS] __attribute__((aligned(16)));
static bool idt_built;

extern const uint64_t trap_stubs[NR_TRAP_STUBS];
extern const uint64_t apic_stubs[NR_APIC_VECTORS];

/* The 16-byte TSS descriptor occupies gdt[6] and gdt[7]. */
static void gdt_set_tss(uint64_t *gdt, const struct tss *tss)
{
        uint64_t base = (uint64_t)tss, limit = sizeof *tss - 1;

        gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                 (0x89ULL << 40) |              /* P, available 64-bit TSS */
                 (((limit >> 16) & 0xf) << 48) |
                 (((base >> 24) & 0xff) << 56);
        gdt[7] = base >> 32;
}

static void idt_set(unsigned vec, uint64_t handler, unsigned ist)
{
        idt[vec] = (struct idt_gate){
                .offset_lo = handler & 0xffff,
                .selector = SEL_KCODE,
                .ist = (uint8_t)ist,
                /* present, interrupt gate; DPL 3 lets user code raise
                 * int3 and into (SIGTRAP, SIGSEGV), DPL 0 makes any
                 * other `int n` from user mode a #GP */
                .type_attr = vec == 3 || vec == 4 ? 0xee : 0x8e,
                .offset_mid = (handler >> 16) & 0xffff,
                .offset_hi = handler >> 32,
        };
}

static void load_segments(const uint64_t *gdt)
{
        struct table_ptr gp = { (VDSO_GDT_CPUNODE + 1) * sizeof *gdt - 1, (uint64_t)gdt };

        __asm__ volatile(
                "lgdt %0\n\t"
                "pushq %1\n\t"
                "leaq 1f(%%rip), %%rax\n\t"
                "pushq %%rax\n\t"
                "lretq\n"
                "1:\n\t"
                "movw %w2, %%ax\n\t"
                "movw %%ax, %%ds\n\t"
                "movw %%ax, %%es\n\t"
                "movw %%ax, %%ss\n\t"
                "ltr %w3"
                : : "m"(gp), "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS)
                : "rax", "memory");
}

/* The one IDT: exceptions and PIC lines, then the local APIC's vectors;
 * the rest stay not present (a stray vector is a #GP, a kernel bug). */
static void idt_build(void)
{
        for (unsigned v = 0; v < NR_TRAP_STUBS; v++)
                idt_set(v, trap_stubs[v], v == 8 ? IST_DOUBLE_FAULT :
                                          v == 2 ? IST_NMI : 0);
        for (unsigned i = 0; i < NR_APIC_VECTORS; i++)
                idt_set(APIC_VECTOR_BASE + i, apic_stubs[i], 0);
        idt_built = true;
}

/*
 * Give the running CPU c's GDT and TSS (with its double-fault and NMI
 * stacks, tops df_top and nmi_top) and the shared IDT; c becomes this
 * CPU's per-CPU data.
 */
void cpu_tables_init(struct cpu *c, uint64_t df_top, uint64_t nmi_top)
{
        struct table_ptr ip = { sizeof idt - 1, (uint64_t)idt };

        c->gdt[1] = SEG_KCODE;
        c->gdt[2] = SEG_KDATA;
        c->gdt[3] = SEG_UCODE32;
        c->gdt[4] = SEG_UDATA;
        c->gdt[5] = SEG_UCODE;
        c->gdt[VDSO_GDT_CPUNODE] = SEG_CPUNODE((uint64_t)c->id, 0ULL);
        c->tss.ist[IST_DOUBLE_FAULT - 1] = df_top;
        c->tss.ist[IST_NMI - 1] = nmi_top;
        c->tss.iomap_base = sizeof c->tss;
        gdt_set_tss(c->gdt, &c->tss);
        load_segments(c->gdt);
        percpu_load(c);

        if (!idt_built)
                idt_build();
        __asm__ volatile("lidt %0" : : "m"(ip));
}

bool machine_percpu_loaded;     /* the boot CPU's GS base is set */

void percpu_load(struct cpu *c)
{
        c->self = c;
        wrmsr(MSR_GS_BASE, (uint64_t)c);
        wrmsr(MSR_KERNEL_GS_BASE, 0);
        machine_percpu_loaded = true;
}


/* The MSRs of the `syscall` instruction. */
#define MSR_STAR        0xc0000081u
#define MSR_LSTAR       0xc0000082u
#define MSR_SFMASK      0xc0000084u
#define EFER_SCE        (1UL << 0)
/* RFLAGS bits cleared on entry: TF, IF, DF, IOPL, NT, AC. */
#define SYSCALL_FLAGS_MASK 0x47700UL

void syscall_entry(void);
bool smap_enabled;

/*
 * Enable `syscall` (kernel CS from STAR[47:32]; sysret would take user SS
 * = STAR[63:48] + 8 and CS = + 16, matching SEL_UDATA and SEL_UCODE), and
 * SMEP/SMAP where CPUID leaf 7 reports them.
 */
void cpu_features_init(void)
{
        uint32_t a, b, c, d;

        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
        wrmsr(MSR_STAR, ((uint64_t)SEL_KCODE << 32) |
                        ((uint64_t)(SEL_UDATA - 8) << 48));
        wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
        wrmsr(MSR_SFMASK, SYSCALL_FLAGS_MASK);

        cpuid(0, 0, &a, &b, &c, &d);
        if (a < 7)
                return;
        cpuid(7, 0, &a, &b, &c, &d);
        if (b & (1u << 7))
                write_cr4(read_cr4() | CR4_SMEP);
        if (b & (1u << 20)) {
                write_cr4(read_cr4() | CR4_SMAP);
                smap_enabled = true;
        }
}

/* The running CPU's entry stack: the TSS's rsp0 for traps from user
 * mode, and entry.S's %gs:8 for syscall_entry. */
void tss_set_kernel_stack(uint64_t top)
{
        struct cpu *c = this_cpu();

        c->tss.rsp[0] = top;
        c->kstack_top = top;
}
