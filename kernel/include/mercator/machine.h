/*
 * machine.h - what machine-independent kernel code asks of the machine
 * underneath: time, stopping, probing memory, describing addresses.
 * Each architecture implements it.
 */
#ifndef MERCATOR_MACHINE_H
#define MERCATOR_MACHINE_H

#include <mercator/types.h>

/* End the machine (QEMU exits with a status derived from `status`). */
__attribute__((noreturn)) void machine_poweroff(int status);

/* Microseconds since the kernel's first instruction. */
uint64_t machine_uptime_us(void);

/* The kernel command line ("" if none). */
const char *machine_cmdline(void);

/* A fault caught by fault_probe(). */
struct fault_info {
        vaddr_t  addr;          /* the faulting address (page faults) */
        unsigned vector;        /* the exception number */
        uint64_t error;         /* its error code */
};

/*
 * Run fn(arg) expecting that it may fault. If it does, the fault is
 * recorded in *fi and fault_probe returns true; otherwise false. Only for
 * kernel tests and diagnostics: a fault that nobody expects is a panic.
 */
bool fault_probe(void (*fn)(void *), void *arg, struct fault_info *fi);
/* fault_probe() of a one-byte read (a write of the byte already there)
 * at va: true, with *fi filled, if it faulted. */
bool probe_read(vaddr_t va, struct fault_info *fi);
bool probe_write(vaddr_t va, struct fault_info *fi);

/* Print the kernel's virtual layout, region by region. */
void machine_print_layout(void);

/* Print a symbolized backtrace of the caller. */
void machine_backtrace(void);

/* Print the boot memory summary (total, reserved, free, kernel image). */
void machine_print_memory(void);

/* Run fn(arg) on another stack (top = its highest address, 16-aligned). */
void machine_call_on_stack(void *top, void (*fn)(void *), void *arg);

/* What AT_HWCAP tells user programs (x86: CPUID leaf 1, EDX). */
uint64_t machine_hwcap(void);

/* The initramfs the boot loader passed, if any. */
bool machine_initrd(const void **base, size_t *len);

/* Start the timer interrupt (they stay masked until user mode or idle). */
void machine_start_interrupts(void);

/* 64 random bits from the CPU (x86: RDSEED or RDRAND); false if it has
 * no such instruction or it failed. */
bool machine_random_u64(uint64_t *out);

#endif
