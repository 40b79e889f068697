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
                   tests/kernel/*.c tests/kernel/common/*.c)

# The vDSO: kernel/arch/x86_64/vdso/vdso.c is user code (position
# independent, no kernel flags), linked as a small shared object with
# vdso.lds (its symbols and LINUX_2.6 versions) and put into the kernel as
# bytes (image.S). It must need no relocation: the build refuses one.
VDSO_SO := $(BUILD)/vdso/vdso.so
VDSO_CFLAGS := --target=x86_64-unknown-linux-gnu -std=c17 -O2 -fPIC \
               -ffreestanding -fno-builtin -fno-stack-protector -mno-sse \
               -fno-jump-tables \
               -mno-mmx -fno-asynchronous-unwind-tables -fno-unwind-tables \
               $(WARN) $(INC) -Ikernel/arch/x86_64/include -MMD -MP
KSRC += kernel/arch/x86_64/vdso/image.S
$(BUILD)/vdso/vdso.o: kernel/arch/x86_64/vdso/vdso.c
	@mkdir -p $(dir $@)
	$(CC) $(VDSO_CFLAGS) -c $< -o $@
$(VDSO_SO): $(BUILD)/vdso/vdso.o kernel/arch/x86_64/vdso/vdso.lds
	$(LD) -shared -soname=linux-vdso.so.1 --hash-style=both --build-id=none \
		-Bsymbolic -z max-page-size=4096 -z noexecstack \
		-T kernel/arch/x86_64/vdso/vdso.lds $< -o $@
	@if readelf -r $@ | grep -q R_X86_64; then \
		echo "$@: the vDSO must not need relocations"; rm -f $@; exit 1; fi
$(BUILD)/kernel/kernel/arch/x86_64/vdso/image.S.o: $(VDSO_SO)
$(BUILD)/kernel/kernel/arch/x86_64/vdso/image.S.o: \
        KCFLAGS += -DVDSO_IMAGE='"$(VDSO_SO)"'
-include $(BUILD)/vdso/vdso.d
