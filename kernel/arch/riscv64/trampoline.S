/*
 * trampoline.S (riscv64) - the one page mapped at TRAMPOLINE (MAXVA - 4 KiB,
 * R|X, not U) in the kernel's table and in every process's user table, as
 * in xv6: the code that switches satp between the two on every trap.
 *
 * It runs at TRAMPOLINE, not where it is linked, so it uses no PC-relative
 * reference outside itself; the offsets are constants.
 *
 * Where the trap frame is: sscratch holds its address while the hart is in
 * user mode: TRAPFRAME_HART(hart), each hart's own slot below TRAPFRAME
 * (mapped in both tables, not U), since threads of one address space may
 * trap on several harts at once (thread.c). usermode.c's bare contexts
 * use TRAPFRAME.
 *
 * uservec: stvec while in user mode. Swaps a0 with sscratch, saves the
 * user registers in the frame (the user's tp, its thread pointer, among
 * them; a0 from sscratch), records the user satp, loads the kernel stack,
 * the kernel's tp (the hart's struct cpu, percpu.h) and the process's
 * kernel table from it, and jumps to its kernel_trap with paging through
 * the kernel table.
 *
 * userret(user satp, frame): the way back. Switches to the user table,
 * puts the frame's address back in sscratch, restores the user registers
 * from the frame and returns to user mode with sret (sepc and sstatus
 * were set by usertrapret).
 *
 * No sfence.vma here (xv6 has one before and one after each satp write).
 * The privileged spec does not make a satp write flush anything; it asks
 * for a fence when translations cached under the old satp (same ASID)
 * could be wrong under the new one, or when table stores must be ordered
 * before the walk. Neither happens on this switch:
 *  - the two tables of one process translate every address both map
 *    alike: the kernel table's user half is the user table's (the same
 *    level-1 tables, pmap_md.h), and TRAMPOLINE and the frames are in both;
 *    what the kernel table has beyond that is not U, so an entry for it
 *    left cached in user mode can only fault, as the walk would;
 *  - every change the kernel makes to either table ends with pmap_update's
 *    sfence.vma before the kernel returns to user mode, and a switch to
 *    another process's tables goes through pmap_activate (satp write, then
 *    sfence.vma: the old process's entries go).
 * On hardware the fences would empty the TLB twice per trap for nothing;
 * under QEMU's TCG each one empties its software TLB (docs/design.md,
 * "What the satp switch costs"; make bench times it).
 */
#define TF_KSATP        0
#define TF_KSP          8
#define TF_KTRAP        16
#define TF_EPC          24
#define TF_KTP          32
#define TF_USATP        40
#define TF_X(n)         (48 + 8 * ((n) - 1))
#define TF_VA           (48 + 8 * 31)

        .section .text.trampoline, "ax"
        .balign 4096
        .globl  trampoline_start, uservec, userret
trampoline_start:
uservec:
        csrrw   a0, sscratch, a0        /* a0: the frame; sscratch: user a0 */
        sd      x1, TF_X(1)(a0)
        sd      x2, TF_X(2)(a0)
        sd      x3, TF_X(3)(a0)
        sd      x4, TF_X(4)(a0)
        sd      x5, TF_X(5)(a0)
        sd      x6, TF_X(6)(a0)
        sd      x7, TF_X(7)(a0)
        sd      x8, TF_X(8)(a0)
        sd      x9, TF_X(9)(a0)
        sd      x11, TF_X(11)(a0)
        sd      x12, TF_X(12)(a0)
        sd      x13, TF_X(13)(a0)
        sd      x14, TF_X(14)(a0)
        sd      x15, TF_X(15)(a0)
        sd      x16, TF_X(16)(a0)
        sd      x17, TF_X(17)(a0)
        sd      x18, TF_X(18)(a0)
        sd      x19, TF_X(19)(a0)
        sd      x20, TF_X(20)(a0)
        sd      x21, TF_X(21)(a0)
        sd      x22, TF_X(22)(a0)
        sd      x23, TF_X(23)(a0)
        sd      x24, TF_X(24)(a0)
        sd      x25, TF_X(25)(a0)
        sd      x26, TF_X(26)(a0)
        sd      x27, TF_X(27)(a0)
        sd      x28, TF_X(28)(a0)
        sd      x29, TF_X(29)(a0)
        sd      x30, TF_X(30)(a0)
        sd      x31, TF_X(31)(a0)
        csrr    t0, sscratch
        sd      t0, TF_X(10)(a0)
        csrr    t0, satp
        sd      t0, TF_USATP(a0)
        sd      a0, TF_VA(a0)

        ld      sp, TF_KSP(a0)
        ld      tp, TF_KTP(a0)
        ld      t0, TF_KTRAP(a0)
        ld      t1, TF_KSATP(a0)
        csrw    satp, t1
        jr      t0

userret:
        csrw    satp, a0
        csrw    sscratch, a1
        mv      a0, a1
        ld      x1, TF_X(1)(a0)
        ld      x2, TF_X(2)(a0)
        ld      x3, TF_X(3)(a0)
        ld      x4, TF_X(4)(a0)
        ld      x5, TF_X(5)(a0)
        ld      x6, TF_X(6)(a0)
        ld      x7, TF_X(7)(a0)
        ld      x8, TF_X(8)(a0)
        ld      x9, TF_X(9)(a0)
        ld      x11, TF_X(11)(a0)
        ld      x12, TF_X(12)(a0)
        ld      x13, TF_X(13)(a0)
        ld      x14, TF_X(14)(a0)
        ld      x15, TF_X(15)(a0)
        ld      x16, TF_X(16)(a0)
        ld      x17, TF_X(17)(a0)
        ld      x18, TF_X(18)(a0)
        ld      x19, TF_X(19)(a0)
        ld      x20, TF_X(20)(a0)
        ld      x21, TF_X(21)(a0)
        ld      x22, TF_X(22)(a0)
        ld      x23, TF_X(23)(a0)
        ld      x24, TF_X(24)(a0)
        ld      x25, TF_X(25)(a0)
        ld      x26, TF_X(26)(a0)
        ld      x27, TF_X(27)(a0)
        ld      x28, TF_X(28)(a0)
        ld      x29, TF_X(29)(a0)
        ld      x30, TF_X(30)(a0)
        ld      x31, TF_X(31)(a0)
        ld      a0, TF_X(10)(a0)
        sret
