# riscv64.mk - the RISC-V Sv39 kernel (issue 13), built beside the x86-64
# one: build/riscv64/mercator.elf, for QEMU's virt board through OpenSBI.
# (Its own fragment until the per-architecture build of issue 10 lands.)
#
#   make riscv64        the kernel, build/riscv64/mercator.elf
#   make run-riscv64    boot it (QEMU_MEM, default 256M)
#   make test-riscv64   its kernel tests at -m 64M and -m 3G
#
# -march=rv64imac: the kernel never touches the FPU (sstatus.FS stays Off
# in S-mode), so it is built without F/D; user programs are rv64gc.
# -mno-relax: lld 14 rejects R_RISCV_ALIGN from relaxable assembly.

RV_BUILD  := $(BUILD)/riscv64
RV_KERNEL := $(RV_BUILD)/mercator.elf
RV_CFLAGS := --target=riscv64-unknown-elf -march=rv64imac -mabi=lp64 \
             -mcmodel=medany -mno-relax -std=c17 -ffreestanding -nostdlib \
             -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
             -O2 -g $(WARN) $(INC) -Ikernel/arch/riscv64/include -MMD -MP
RV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
              --no-relax -T kernel/arch/riscv64/kernel.ld

# The machine-independent parts the port runs so far.
RV_CORE := kernel/lib/printf.c kernel/lib/string.c kernel/lib/status.c \
           kernel/kern/printk.c kernel/kern/panic.c kernel/kern/ktest.c \
           kernel/kern/memstat.c kernel/vm/memmap.c kernel/vm/bootmem.c \
           kernel/vm/pmm.c kernel/vm/kmalloc.c kernel/vm/vmstat.c \
           kernel/vm/ptpage.c kernel/vm/vmalloc.c
# (user_fault.c joins when the riscv64 kernel runs the core's vm_fault.)
RV_SRC := $(RV_CORE) $(filter-out kernel/arch/riscv64/user_fault.c,\
            $(wildcard kernel/arch/riscv64/*.c kernel/arch/riscv64/*.S \
                       tests/kernel/riscv64/*.c tests/kernel/riscv64/*.S))
RV_OBJ := $(patsubst %,$(RV_BUILD)/%.o,$(RV_SRC))

.PHONY: riscv64 run-riscv64 test-riscv64
all: riscv64
riscv64: $(RV_KERNEL)

$(RV_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(RV_CFLAGS) -c $< -o $@
$(RV_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(RV_CFLAGS) -c $< -o $@

$(RV_KERNEL): $(RV_OBJ) kernel/arch/riscv64/kernel.ld
	$(LD) $(RV_LDFLAGS) -o $@ $(RV_OBJ)

run-riscv64: setup
	@$(MAKE) --no-print-directory -j2 riscv64
	python3 tools/qemu.py --arch riscv64 --mem $(QEMU_MEM) --interactive $(RV_KERNEL)

test-riscv64: riscv64
	python3 tools/test.py --tier riscv64

-include $(RV_OBJ:.o=.d)
