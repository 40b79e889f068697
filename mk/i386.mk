# i386.mk - the 32-bit x86 port (issue 14): a Multiboot v1 ELF32 kernel,
# built beside the x86-64 one, twice: with 2-level tables into build/i386/
# (for qemu-system-i386) and with PAE (-DI386_PAE) into build/i386-pae/
# (for qemu-system-x86_64 -cpu max, which can give it RAM above 4 GiB).
# (Its own fragment until the per-architecture build of issue 10 lands.)
#
#   make i386          both kernels, build/i386{,-pae}/mercator.elf
#   make run-i386      boot the 2-level one (QEMU_MEM, default 256M)
#   make test-i386     their kernel tests: -m 64M, -m 3G, PAE at -m 6G

I386_BUILD  := $(BUILD)/i386
I386_KERNEL := $(I386_BUILD)/mercator.elf
I386P_BUILD := $(BUILD)/i386-pae
I386P_KERNEL := $(I386P_BUILD)/mercator.elf
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
                       kernel/lib/*.c kernel/vm/*.c tests/kernel/i386/*.c) \
            kernel/arch/x86/serial.c \
            kernel/kern/printk.c kernel/kern/panic.c kernel/kern/ktest.c \
            kernel/kern/memstat.c
I386_OBJ  := $(patsubst %,$(I386_BUILD)/%.o,$(I386_SRC))
# The rest of the machine-independent core (kernel/vm, kernel/kern,
# kernel/lib), compiled (not linked) for i386 with -Werror so that it stays
# 32-bit clean (issue 14 step 3): a 32-bit long, vaddr_t and size_t, a
# 64-bit paddr_t. kern/main.c and kern/kstat.c need the process layer and
# so the per-architecture ABI, which i386 does not have yet: left out.
I386_CORE_CHECK := $(filter-out $(I386_SRC) kernel/kern/main.c \
                       kernel/kern/kstat.c,$(wildcard kernel/vm/*.c \
                       kernel/kern/*.c kernel/lib/*.c))
I386_CORE_OBJ := $(patsubst %,$(I386_BUILD)/core-check/%.o,$(I386_CORE_CHECK))
I386P_OBJ := $(patsubst %,$(I386P_BUILD)/%.o,$(I386_SRC))

.PHONY: i386 run-i386 test-i386
all: i386
i386: $(I386_KERNEL) $(I386P_KERNEL) $(I386_CORE_OBJ)

$(I386_BUILD)/core-check/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -c $< -o $@

$(I386_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -c $< -o $@
$(I386_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -c $< -o $@
$(I386P_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -DI386_PAE -c $< -o $@
$(I386P_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(I386_CFLAGS) -DI386_PAE -c $< -o $@

$(I386_KERNEL): $(I386_OBJ) kernel/arch/i386/kernel.ld
	$(LD) $(I386_LDFLAGS) -o $@ $(I386_OBJ) $(I386_RTLIB)
$(I386P_KERNEL): $(I386P_OBJ) kernel/arch/i386/kernel.ld
	$(LD) $(I386_LDFLAGS) -o $@ $(I386P_OBJ) $(I386_RTLIB)

run-i386: setup
	@$(MAKE) --no-print-directory -j2 i386
	python3 tools/qemu.py --arch i386 --mem $(QEMU_MEM) --interactive $(I386_KERNEL)

test-i386: i386
	python3 tools/test.py --tier i386

-include $(I386_OBJ:.o=.d) $(I386P_OBJ:.o=.d) $(I386_CORE_OBJ:.o=.d)
