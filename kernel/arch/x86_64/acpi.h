/*
 * acpi.h - what the kernel learns from ACPI (acpi.c).
 */
#ifndef ARCH_X86_64_ACPI_H
#define ARCH_X86_64_ACPI_H

#include <mercator/types.h>

/* The local APIC ids of the CPUs the MADT lists as usable, in its order
 * (the boot CPU is among them), at most max. => their count; 0 if there
 * is no valid RSDP, RSDT/XSDT or MADT. */
unsigned acpi_find_cpus(unsigned *ids, unsigned max);

#endif
