/*
 * satp_bench.h (riscv64) - the kernel's own timing of the trampoline's
 * satp switch (satp_bench.c), run at boot with `satpbench`.
 */
#ifndef ARCH_RISCV64_SATP_BENCH_H
#define ARCH_RISCV64_SATP_BENCH_H

/* Time the satp switch and its fences; print "@vmbench NAME NS" lines.
 * => the kernel pmap is loaded, vmalloc and kmalloc work. */
void satp_bench(void);

#endif
