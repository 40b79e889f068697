/*
 * ap_tramp.S - where another CPU starts: a STARTUP IPI leaves it in real
 * mode at CS:IP = 0x0800:0000, i.e. physical AP_TRAMP_PA. smp.c copies
 * this code there (below 1 MiB, as STARTUP requires) and fills its
 * parameter block before each start; the code is assembled for that
 * address (T() turns a label into its address in the copy).
 *
 * Real mode -> 32-bit protected mode (its own small GDT) -> long mode on
 * the tables at ap_param_cr3 (below 4 GiB: CR3 is loaded in 32-bit mode),
 * which map the trampoline's 2 MiB one to one and the kernel half as the
 * kernel's own tables do; then a jump to ap_param_entry(ap_param_cpu) on
 * the stack ap_param_stack, at the kernel's high addresses, which loads
 * the kernel's real tables.
 */
#define AP_TRAMP_PA     0x8000
#define T(sym)          ((sym) - ap_tramp_start + AP_TRAMP_PA)
#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xc0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

        .section .rodata
        .balign 16
        .globl ap_tramp_start, ap_tramp_end
        .globl ap_param_cr3, ap_param_stack, ap_param_cpu, ap_param_entry
        .code16
ap_tramp_start:
        cli
        cld
        movw %cs, %ax
        movw %ax, %ds
        lgdtl ap_gdt_ptr - ap_tramp_start
        movl %cr0, %eax
        orl $CR0_PE, %eax
        movl %eax, %cr0
        ljmpl $0x18, $T(ap_pm32)

        .code32
ap_pm32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl %cr4, %eax
        orl $CR4_PAE, %eax
        movl %eax, %cr4
        movl T(ap_param_cr3), %eax
        movl %eax, %cr3
        movl $MSR_EFER, %ecx
        rdmsr
        orl $(EFER_LME + EFER_NXE), %eax
        wrmsr
        movl %cr0, %eax
        orl $(CR0_PG + CR0_WP), %eax
        movl %eax, %cr0
        ljmp $0x08, $T(ap_lm64)

        .code64
ap_lm64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorl %eax, %eax
        movw %ax, %fs
        movw %ax, %gs
        movq T(ap_param_stack), %rsp
        movq T(ap_param_cpu), %rdi
        movq T(ap_param_entry), %rax
        xorl %ebp, %ebp
        jmp *%rax

        .balign 8
ap_gdt:
        .quad 0                         /* null */
        .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
        .quad 0x00cf9a000000ffff        /* 0x18: 32-bit code */
ap_gdt_ptr:
        .word ap_gdt_ptr - ap_gdt - 1
        .long T(ap_gdt)
        .balign 8
ap_param_cr3:   .quad 0
ap_param_stack: .quad 0
ap_param_cpu:   .quad 0
ap_param_entry: .quad 0
ap_tramp_end:
