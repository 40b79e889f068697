/*
 * harness.h - what the libFuzzer targets (tests/fuzz/fuzz_*.c) share: the
 * host build's RAM (kernel/arch/host/host.c) and a way to report a
 * violation. They link the core the host tests use, but not the host test
 * harness (tests/host/check.c): a finding must abort(), which is what
 * libFuzzer records as a crash and saves the input of.
 */
#ifndef TESTS_FUZZ_HARNESS_H
#define TESTS_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* kernel/arch/host/host.c: RAM plus page descriptors, every page but
 * frame 0 free, counters zeroed; and freeing all of it. */
void host_memory_setup(uint64_t bytes);
void host_ram_teardown(void);

/* Print "fuzz: <what>" to stderr and abort(). */
_Noreturn void fuzz_fail(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

/* libFuzzer's entry points: each target defines the first, and may
 * define the second (called once, before any input). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
