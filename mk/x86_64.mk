# x86_64.mk - the x86-64 kernel: the reference port, whose kernel runs
# every tier of `make test` (the Makefile's KERNEL, build/mercator.elf).
# What an architecture's fragment says (as mk/i386.mk and mk/riscv64.mk):
#
#   target triple and flags    KCFLAGS: freestanding, kernel code model
#                              (linked in the top 2 GiB), no red zone, no
#                              SIMD in the kernel
#   linker script              KLDSCRIPT
#   its sources                the core plus kernel/arch/x86 (shared with
#                              i386) and kernel/arch/x86_64
#   QEMU machine, how a test   tools/qemu.py's ARCHES table, the one place
#   exits                      QEMU command lines are built: pc with
#                              qemu64, isa-debug-exit at 0xf4 (status
#                              2n+1); tools/run --arch and tools/test.py
#                              use the same builder
KLDSCRIPT := kernel/arch/x86_64/kernel.ld
KCFLAGS := --target=x86_64-unknown-none-elf -std=c17 -ffreestanding -nostdlib \
           -mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -mno-sse2 \
           -mno-80387 -fno-pic -fno-pie -fno-stack-protector \
           -fno-omit-frame-pointer -O2 -g $(WARN) $(INC) \
           -Ikernel/arch/x86_64/include -Ikernel/arch/generic64/include \
           -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
            --no-relax -T $(KLDSCRIPT)
KSRC := $(wildcard kernel/kern/*.c kernel/lib/*.c kernel/vm/*.c \
                   kernel/fs/*.c kernel/exec/*.c kernel/ipc/*.c \
                   kernel/proc/*.c kernel/arch/x86/*.c \
                   kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S \
                   tests/kernel/*.c)
