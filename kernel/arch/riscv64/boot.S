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
 * One hart only runs the boot path: the first to get here (boot_lottery,
 * in .data so that zeroing .bss leaves it). Another hart can arrive here
 * too: OpenSBI before 1.3 sets a hart's state to START_PENDING in
 * hart_start before it writes the start address and argument, and a hart
 * waiting in its warm boot that sees the state in that window leaves for
 * the address it had, the firmware's next stage, this entry (a0 = its id,
 * a1 = the device tree), instead of _ap_start (OpenSBI's e8e9ed37 fixed
 * it). Booting again on the boot hart's stack would zero .bss under the
 * running kernel and give two harts cpus[0] (the rare -smp 4 panics under
 * host load: "the big kernel lock taken again by CPU 0"). So a hart that
 * loses the lottery takes the AP path if smp.c is starting it
 * (ap_entry_hart), with the struct cpu smp.c made for it, and is counted
 * (boot_entry_strays, reported by smp.c); any other waits for ever.
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
        lla     t0, boot_lottery
        li      t1, 1
        amoadd.w.aqrl t1, t1, (t0)
        bnez    t1, .Lnot_boot_hart
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

        /* A hart that lost the lottery (see the top). The lottery's AMO
         * orders the loads below after it. */
.Lnot_boot_hart:
        lla     t0, ap_entry_hart
        ld      t1, 0(t0)
        bne     t1, a0, .Lstray_park
        lla     t0, boot_entry_strays
        li      t1, 1
        amoadd.d.aqrl zero, t1, (t0)
        lla     t0, ap_entry_cpu
        ld      a1, 0(t0)               /* its struct cpu, as hart_start's */
        j       _ap_start
.Lstray_park:
        wfi
        j       .Lstray_park

        /* Written before .bss is zeroed or by smp.c: in .data. */
        .section .data
        .balign 8
boot_lottery:
        .word   0
        .word   0
        .globl  ap_entry_hart, ap_entry_cpu, boot_entry_strays
ap_entry_hart:                          /* the hart smp.c is starting */
        .quad   -1
ap_entry_cpu:                           /* its struct cpu */
        .quad   0
boot_entry_strays:                      /* harts that came in here */
        .quad   0
        .section .text.boot, "ax"

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
