# i386.mk - the 32-bit x86 port (issue 14): a Multiboot v1 ELF32 kernel
# for qemu-system-i386, built beside the x86-64 one into build/i386/.
# (Its own fragment until the per-architecture build of issue 10 lands.)
#
#   make i386          the kernel, build/i386/mercator.elf
#   make run-i386      boot it (QEMU_MEM, default 256M)
#   make test-i386     its kernel tests at -m 64M and -m 3G

I386_BUILD  := $(BUILD)/i386
I386_KERNEL := $(I386_BUILD)/mercator.elf
I386_RTLIB  := $(shell $(CC) --target=i386-linux-gnu -m32 --rtlib=compiler-rt \
                       -print-libgcc-file-name 2>/dev/null)
I386_CFLAGS := --target=i386-unknown-none-elf -march=i686 -std=c17 \
               -ffreestanding -nostdlib -mno-mmx -mno-sse -mno-sse2 \
               -mno-80387 -fno-pic -fno-pie -fno-stack-protector \
               -fno-omit-frame-pointer -O2 -g $(WARN) $(INC) \
               -Ikernel/arch/i386/include -MMD -MP
I386_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
                -T kernel/arch/i386/kernel.ld

# The core files the port runs so far (more as issue 10 makes them neutral).
I386_SRC := $(wildcard kernel/arch/i386/*.c kernel/arch/i386/*.S \
                       kernel/lib/*.c tests/kernel/i386/*.c) \
            kernel/kern/printk.c kernel/kern/panic.c kernel/kern/ktest.c \
            kernel/kern/memstat.c kernel/vm/memmap.c kernel/vm/bootmem.c \
            kernel/vm/pmm.c kernel/vm/kmalloc.c kernel/vm/vmstat.c \
            kernel/vm/vmalloc.c
I386_OBJ := $(patsubst %,$(I386_BUILD)/%.o,$(I386_SRC))

.PHONY: i386 run-i386 test-i386
all: i386
i386: $(I386_KERNEL)

$(I386_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -c $< -o $@
$(I386_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -c $< -o $@

$(I386_KERNEL): $(I386_OBJ) kernel/arch/i386/kernel.ld
	$(LD) $(I386_LDFLAGS) -o $@ $(I386_OBJ) $(I386_RTLIB)

run-i386: setup
	@$(MAKE) --no-print-directory -j2 i386
	python3 tools/qemu.py --arch i386 --mem $(QEMU_MEM) --interactive $(I386_KERNEL)

test-i386: i386
	python3 tools/test.py --tier i386

-include $(I386_OBJ:.o=.d)
