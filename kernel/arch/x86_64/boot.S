/*
 * boot.S - from the PVH entry (32-bit protected mode, paging off) to C in
 * long mode at the kernel's high address.
 *
 * QEMU loads the ELF image at its physical addresses and, finding the Xen
 * PVH note below, jumps to pvh_start32 with %ebx = physical address of the
 * hvm_start_info block (memory map, command line, modules).
 *
 * The boot page tables map the first 1 GiB three times with 2 MiB pages:
 *   identity           (slot 0):   so the next instruction after paging
 *                                  is turned on still has a mapping;
 *   linear map         (slot 256): phys_to_virt() works for low memory;
 *   kernel image       (slot 511): where the kernel is linked.
 * machine_boot() replaces them with the real kernel tables, without the
 * identity map, as soon as it can (CONCEPTS B8).
 */
#define KERNEL_BASE     0xffffffff80000000
#define PHYS(sym)       ((sym) - KERNEL_BASE)

#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xc0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)
#define PTE_P           0x1
#define PTE_W           0x2
#define PTE_PS          0x80

/* The PVH entry note: type 18 = XEN_ELFNOTE_PHYS32_ENTRY. */
        .section .note.Xen, "a", @note
        .balign 4
        .long 4, 4, 18
        .asciz "Xen"
        .long pvh_start32

        .section .boot.text, "ax"
        .code32
        .globl pvh_start32
pvh_start32:
        cli
        /* First instruction's time stamp: boot time counts from here. */
        rdtsc
        movl %eax, PHYS(boot_tsc)
        movl %edx, PHYS(boot_tsc) + 4
        movl %ebx, PHYS(boot_start_info)
        movl $boot_stack32_top, %esp

        /* Long mode needs CPUID 80000001h:EDX bit 29; stop if absent. */
        movl $0x80000000, %eax
        cpuid
        cmpl $0x80000001, %eax
        jb no_long_mode
        movl $0x80000001, %eax
        cpuid
        btl $29, %edx
        jnc no_long_mode

        /* Zero the four boot tables, then fill them. */
        movl $boot_pml4, %edi
        xorl %eax, %eax
        movl $(4 * 4096 / 4), %ecx
        rep stosl

        movl $(boot_pdpt_low + PTE_P + PTE_W), boot_pml4
        movl $(boot_pdpt_low + PTE_P + PTE_W), boot_pml4 + 256 * 8
        movl $(boot_pdpt_high + PTE_P + PTE_W), boot_pml4 + 511 * 8
        movl $(boot_pd + PTE_P + PTE_W), boot_pdpt_low
        movl $(boot_pd + PTE_P + PTE_W), boot_pdpt_high + 510 * 8

        /* boot_pd[i] = i * 2 MiB, present, writable, large. */
        movl $boot_pd, %edi
        movl $(PTE_P + PTE_W + PTE_PS), %eax
        movl $512, %ecx
1:      movl %eax, (%edi)
        addl $0x200000, %eax
        addl $8, %edi
        loop 1b

        /* PAE on, tables in, long mode and NX on, then paging on. */
        movl %cr4, %eax
        orl $CR4_PAE, %eax
        movl %eax, %cr4
        movl $boot_pml4, %eax
        movl %eax, %cr3
        movl $MSR_EFER, %ecx
        rdmsr
        orl $(EFER_LME + EFER_NXE), %eax
        wrmsr
        movl %cr0, %eax
        orl $(CR0_PE + CR0_WP + CR0_PG), %eax
        movl %eax, %cr0

        lgdt boot_gdt_ptr
        ljmp $0x08, $long_mode

no_long_mode:
        /* Say so on COM1, then stop. */
        movl $no_lm_msg, %esi
        movw $0x3f8, %dx
2:      lodsb
        testb %al, %al
        jz 3f
        outb %al, %dx
        jmp 2b
3:      hlt
        jmp 3b

        .code64
long_mode:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs

        /* Zero .bss (QEMU zero-fills it, but the PVH ABI does not promise
         * it), then run C on the boot stack at the high address. */
        movabsq $_bss_start, %rdi
        movabsq $_bss_end, %rcx
        subq %rdi, %rcx
        shrq $3, %rcx
        xorl %eax, %eax
        rep stosq

        movabsq $boot_stack_top, %rsp
        xorl %ebp, %ebp
        movl PHYS(boot_start_info), %edi
        movabsq $machine_boot, %rax
        call *%rax
4:      hlt
        jmp 4b

        .section .boot.data, "aw"
        .balign 8
boot_gdt:
        .quad 0                         /* null */
        .quad 0x00af9a000000ffff        /* 0x08: 64-bit code, DPL 0 */
        .quad 0x00cf92000000ffff        /* 0x10: data, DPL 0 */
boot_gdt_ptr:
        .word boot_gdt_ptr - boot_gdt - 1
        .long boot_gdt
no_lm_msg:
        .asciz "mercator: this CPU has no long mode (x86-64); stopping\r\n"

        .section .boot.bss, "aw", @nobits
        .balign 4096
        .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
boot_stack32:   .skip 1024
boot_stack32_top:

/*
 * Stacks of the kernel image, each with a guard page below it that the
 * kernel's final tables leave unmapped (listed in kimage_guard_pages).
 */
        .section .bss.stacks, "aw", @nobits
        .balign 4096
        .globl boot_stack_guard, boot_stack_top
        .globl df_stack_guard, df_stack_top, nmi_stack_guard, nmi_stack_top
boot_stack_guard:       .skip 4096
                        .skip 16384
boot_stack_top:
df_stack_guard:         .skip 4096
                        .skip 8192
df_stack_top:
nmi_stack_guard:        .skip 4096
                        .skip 8192
nmi_stack_top:

        .data
        .balign 8
        .globl boot_tsc, boot_start_info
boot_tsc:        .quad 0
boot_start_info: .quad 0
