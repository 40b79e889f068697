/*
 * boot.S (i386) - from the Multiboot v1 entry (32-bit protected mode,
 * paging off, flat segments) to C at the kernel's high address.
 *
 * The loader put the image at 1 MiB (its physical addresses) and jumps to
 * multiboot_entry_phys with %eax = 0x2badb002 and %ebx = the physical
 * address of the Multiboot information (memory map, command line, modules).
 *
 * The boot page directory maps the first 64 MiB twice with 4 MiB (PSE)
 * pages, or 2 MiB pages with PAE (seed 004's recipe):
 *   identity           (entries 0-15):    the instruction after paging is
 *                                         turned on still has a mapping;
 *   at PAGE_OFFSET     (entries 768-783): where the kernel is linked, and
 *                                         phys_to_virt() for low memory;
 * and its last entry points at itself (the recursive slot). i386_boot()
 * replaces it with the kernel's directory, which has no identity map.
 */
#define KERNEL_BASE     0xc0000000
#define PHYS(sym)       ((sym) - KERNEL_BASE)

#define MB_MAGIC        0x1badb002
#define MB_FLAGS        0x00000003      /* modules page-aligned, memory map */
#define MB_BOOTED       0x2badb002

#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PSE         (1 << 4)
#define CR4_PAE         (1 << 5)
#define PDE_P           0x1
#define PDE_W           0x2
#define PDE_PS          0x80
#define BOOT_PDES       16              /* 16 x 4 MiB = 64 MiB */

        .section .multiboot, "a"
        .balign 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .text
        .globl multiboot_entry
multiboot_entry:
        cli
        cld
        movl %eax, %esi                 /* keep the loader's magic */
        /* Clear .bss first: the directory and the stack live in it. */
        movl $PHYS(_bss_start), %edi
        movl $PHYS(_bss_end), %ecx
        subl %edi, %ecx
        shrl $2, %ecx
        xorl %eax, %eax
        rep stosl
        /* The first instruction's time stamp: uptime counts from here. */
        rdtsc
        movl %eax, PHYS(boot_tsc)
        movl %edx, PHYS(boot_tsc) + 4
        movl %ebx, PHYS(boot_mbi_pa)
        movl %esi, PHYS(boot_mb_magic)

#ifdef I386_PAE
        /* PAE: the four directories as one array of 2048 8-byte entries
         * (pte.h): identity and high copies of 64 MiB in 2 MiB pages, the
         * last four entries the directories themselves, and the PDPT. */
        movl $PHYS(boot_pd), %edi
        movl $(PDE_P | PDE_W | PDE_PS), %eax
        xorl %ecx, %ecx
1:      movl %eax, (%edi, %ecx, 8)
        movl %eax, 1536*8(%edi, %ecx, 8)
        addl $0x200000, %eax
        incl %ecx
        cmpl $(2 * BOOT_PDES), %ecx
        jb 1b
        movl $PHYS(boot_pdpt), %esi
        movl %edi, %eax
        xorl %ecx, %ecx
2:      leal (PDE_P | PDE_W)(%eax), %edx
        movl %edx, 2044*8(%edi, %ecx, 8)
        leal PDE_P(%eax), %edx          /* a PDPT entry: P only */
        movl %edx, (%esi, %ecx, 8)
        addl $4096, %eax
        incl %ecx
        cmpl $4, %ecx
        jb 2b
        movl %cr4, %eax
        orl $CR4_PAE, %eax
        movl %eax, %cr4
        movl %esi, %cr3
#else
        /* Fill the directory: identity and high copies of 64 MiB. */
        movl $PHYS(boot_pd), %edi
        movl $(PDE_P | PDE_W | PDE_PS), %eax
        xorl %ecx, %ecx
1:      movl %eax, (%edi, %ecx, 4)
        movl %eax, 768*4(%edi, %ecx, 4)
        addl $0x400000, %eax
        incl %ecx
        cmpl $BOOT_PDES, %ecx
        jb 1b
        /* The recursive slot: the last entry is the directory itself. */
        movl %edi, %eax
        orl $(PDE_P | PDE_W), %eax
        movl %eax, 1023*4(%edi)

        movl %cr4, %eax
        orl $CR4_PSE, %eax
        movl %eax, %cr4
        movl %edi, %cr3
#endif
        movl %cr0, %eax
        orl $(CR0_PG | CR0_WP), %eax
        movl %eax, %cr0
        /* Paging is on, still at the identity address: jump high. */
        movl $high, %eax
        jmp *%eax
high:
        movl $boot_stack_top, %esp
        xorl %ebp, %ebp
        call i386_boot
2:      cli
        hlt
        jmp 2b

        .bss
        .balign 4096
        .globl boot_pd
boot_pd:
#ifdef I386_PAE
        .space 16384
        .globl boot_pdpt
boot_pdpt:
        .space 32
        .balign 16
#else
        .space 4096
#endif
        .globl boot_stack, boot_stack_top
boot_stack:
        .space 16384
boot_stack_top:
        .balign 8
        .globl boot_tsc, boot_mbi_pa, boot_mb_magic
boot_tsc:       .quad 0
boot_mbi_pa:    .long 0
boot_mb_magic:  .long 0
