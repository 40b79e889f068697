/*
 * cpu_tables.c - the descriptor tables of the (single) CPU: GDT with the
 * kernel and user segments and the TSS, and the IDT.
 *
 * Long mode ignores segment bases and limits except for FS/GS; the GDT
 * mostly says "64-bit code, privilege 0 or 3". The TSS matters for its
 * stack pointers: rsp0 (stack for traps from user mode, set per thread
 * later) and the IST stacks that double faults and NMIs always switch to,
 * so a kernel stack overflow can still be reported.
 */
#include <mercator/string.h>
#include "cpu.h"
#include "trap.h"

struct tss {
        uint32_t reserved0;
        uint64_t rsp[3];
        uint64_t reserved1;
        uint64_t ist[7];        /* IST1..IST7: ist[n - 1] is slot n */
        uint64_t reserved2;
        uint16_t reserved3;
        uint16_t iomap_base;
} __attribute__((packed));

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

static uint64_t gdt[8] __attribute__((aligned(16)));
_Static_assert(sizeof(struct tss) == 104, "the hardware TSS is 104 bytes");
static struct tss tss __attribute__((aligned(16)));
static struct idt_gate idt[NR_VECTORS] __attribute__((aligned(16)));

extern const uint64_t trap_stubs[NR_VECTORS];
extern char df_stack_top[], nmi_stack_top[];

/* The 16-byte TSS descriptor occupies gdt[6] and gdt[7]. */
static void gdt_set_tss(void)
{
        uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;

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

static void load_segments(void)
{
        struct table_ptr gp = { sizeof gdt - 1, (uint64_t)gdt };

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

void cpu_tables_init(void)
{
        struct table_ptr ip = { sizeof idt - 1, (uint64_t)idt };

        gdt[1] = SEG_KCODE;
        gdt[2] = SEG_KDATA;
        gdt[3] = SEG_UCODE32;
        gdt[4] = SEG_UDATA;
        gdt[5] = SEG_UCODE;
        tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)df_stack_top;
        tss.ist[IST_NMI - 1] = (uint64_t)nmi_stack_top;
        tss.iomap_base = sizeof tss;
        gdt_set_tss();
        load_segments();

        for (unsigned v = 0; v < NR_VECTORS; v++)
                idt_set(v, trap_stubs[v], v == 8 ? IST_DOUBLE_FAULT :
                                          v == 2 ? IST_NMI : 0);
        __asm__ volatile("lidt %0" : : "m"(ip));
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

void tss_set_kernel_stack(uint64_t top)
{
        tss.rsp[0] = top;
}
