/*
 * boot.S (riscv64) - the first instructions, entered from OpenSBI in
 * S-mode at physical 0x80200000 with paging off, a0 = hart id and
 * a1 = the device tree's physical address.
 *
 * Everything here before the jump to boot_high runs at physical addresses:
 * it uses only PC-relative addressing. It zeroes .bss, builds one boot
 * table of 1 GiB leaves and turns Sv39 on:
 *   - the gigapage holding the kernel, at its own physical address (so the
 *     instruction after the satp write is still mapped),
 *   - the same gigapage at KERNEL_BASE (slot 510: 0xffffffff80000000),
 *   - physical 0-4 GiB at LINEAR_BASE (slots 256-259), for the device tree,
 *     the UART and boot memory until boot.c builds the real tables.
 * Then it jumps to the linked (high) address, points tp at cpus[0] (the
 * boot hart's struct cpu, percpu.h) and calls rv_boot(hart, dtb).
 *
 * _ap_start is where SBI's hart_start sends every other hart (smp.c),
 * also in S-mode with paging off, a0 = hart id, a1 = its struct cpu (a
 * kernel address). It turns on the same boot table (still intact: only
 * the boot hart wrote it, before anything else ran), jumps high, loads
 * the kernel's own table (ap_satp), and calls ap_main(cpu) on the idle
 * stack smp.c gave it (cpu->start_sp).
 */
#define PTE_V   0x01
#define PTE_R   0x02
#define PTE_W   0x04
#define PTE_X   0x08
#define PTE_G   0x20
#define PTE_A   0x40
#define PTE_D   0x80
#define BOOT_RWX  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D)
#define BOOT_RW   (PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D)
#define SATP_SV39 (8 << 60)

        .section .text.boot, "ax"
        .globl _start
_start:
        csrw    sie, zero
        csrw    sip, zero
        mv      s0, a0                  /* hart id */
        mv      s1, a1                  /* device tree (physical) */

        /* Zero .bss (physical addresses, since PC is physical). */
        lla     t0, _bss_start
        lla     t1, _bss_end
1:      bgeu    t0, t1, 2f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       1b
2:
        lla     t0, boot_pgtbl
        /* Identity gigapage for the kernel's own physical address. */
        lla     t1, _start
        srli    t1, t1, 30              /* gigapage number */
        slli    t2, t1, 28              /* PPN << 10 */
        ori     t2, t2, BOOT_RWX
        andi    t3, t1, 511
        slli    t3, t3, 3
        add     t3, t3, t0
        sd      t2, 0(t3)
        /* The same gigapage at KERNEL_BASE: root slot 510. */
        li      t3, 510 * 8
        add     t3, t3, t0
        sd      t2, 0(t3)
        /* Physical 0-4 GiB at LINEAR_BASE: slots 256-259, no X. */
        li      t3, 0
        li      t4, 256 * 8
        add     t4, t4, t0
3:      slli    t2, t3, 28
        ori     t2, t2, BOOT_RW
        sd      t2, 0(t4)
        addi    t3, t3, 1
        addi    t4, t4, 8
        li      t5, 4
        bltu    t3, t5, 3b

        srli    t0, t0, 12
        li      t1, SATP_SV39
        or      t0, t0, t1
        sfence.vma zero, zero
        csrw    satp, t0
        sfence.vma zero, zero

        /* To the linked address: an absolute address from a literal. */
        ld      t0, .Lhigh
        jr      t0

        .balign 8
.Lhigh: .quad   boot_high

        .globl  _ap_start
_ap_start:
        csrw    sie, zero
        csrw    sip, zero
        lla     t0, boot_pgtbl
        srli    t0, t0, 12
        li      t1, SATP_SV39
        or      t0, t0, t1
        sfence.vma zero, zero
        csrw    satp, t0
        sfence.vma zero, zero
        ld      t0, .Lap_high
        jr      t0

        .balign 8
.Lap_high:
        .quad   ap_high

        .text
ap_high:
        mv      tp, a1                  /* this hart's struct cpu */
        ld      t0, ap_satp
        csrw    satp, t0
        sfence.vma zero, zero
        ld      sp, 48(tp)              /* start_sp: its idle stack's top */
        lla     t0, trap_kernel_entry
        csrw    stvec, t0
        mv      fp, zero
        mv      a0, tp
        call    ap_main
5:      wfi
        j       5b

boot_high:
        lla     sp, boot_stack_top      /* PC-relative: now the high VA */
        lla     tp, cpus                /* cpus[0]: the boot hart's */
        lla     t0, trap_kernel_entry
        csrw    stvec, t0
        mv      a0, s0                  /* before fp (s0) is cleared */
        mv      a1, s1
        mv      fp, zero
        call    rv_boot
4:      wfi
        j       4b

        .section .bss.pagealigned, "aw", @nobits
        .balign 4096
        .globl  boot_pgtbl
boot_pgtbl:
        .skip   4096
        /* The boot stack, with an unmapped guard page below it. */
        .globl  boot_stack_guard, boot_stack, boot_stack_top
boot_stack_guard:
        .skip   4096
boot_stack:
        .skip   16384
boot_stack_top:
