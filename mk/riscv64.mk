# riscv64.mk - the RISC-V Sv39 kernel (issue 13), built beside the x86-64
# one: build/riscv64/mercator.elf, for QEMU's virt board through OpenSBI.
# (Its own fragment until the per-architecture build of issue 10 lands.)
#
#   make riscv64        the kernel, build/riscv64/mercator.elf
#   make riscv64-user   the riscv64 user tests, referee init and root fs
#   make run-riscv64    boot it to the shell (QEMU_MEM, default 256M)
#                       (also `make ARCH=riscv64 run`)
#   make test-riscv64   its kernel tests at -m 64M and -m 3G, and the
#                       riscv64 user tier (referee Linux, then Mercator)
#
# -march=rv64imac: the kernel never touches the FPU (sstatus.FS stays Off
# in S-mode), so it is built without F/D; user programs are rv64gc.
# -mno-relax: lld 14 rejects R_RISCV_ALIGN from relaxable assembly.

RV_BUILD  := $(BUILD)/riscv64
RV_KERNEL := $(RV_BUILD)/mercator.elf
RV_CFLAGS := --target=riscv64-unknown-elf -march=rv64imac -mabi=lp64 \
             -mcmodel=medany -mno-relax -std=c17 -ffreestanding -nostdlib \
             -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
             -O2 -g $(WARN) $(INC) -Ikernel/arch/riscv64/include \
             -Ikernel/arch/generic64/include -MMD -MP
RV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
              --no-relax -T kernel/arch/riscv64/kernel.ld

# The whole machine-independent kernel, as x86-64 links it: the VM core,
# processes, exec, the file systems, SysV shared memory.
RV_CORE := $(wildcard kernel/kern/*.c kernel/lib/*.c kernel/vm/*.c \
                      kernel/fs/*.c kernel/exec/*.c kernel/ipc/*.c \
                      kernel/proc/*.c)
RV_SRC := $(RV_CORE) \
          $(wildcard kernel/arch/riscv64/*.c kernel/arch/riscv64/*.S \
                     tests/kernel/riscv64/*.c tests/kernel/riscv64/*.S \
                     tests/kernel/common/*.c) \
          kernel/arch/riscv64/vdso/image.S
RV_OBJ := $(patsubst %,$(RV_BUILD)/%.o,$(RV_SRC))

# The vDSO (as x86-64's, mk/x86_64.mk): kernel/arch/riscv64/vdso/vdso.c is
# user code, position independent, linked as a small shared object with
# vdso.lds (its symbols, version LINUX_4.15) and put into the kernel as
# bytes (image.S). It must need no relocation: the build refuses one.
RV_VDSO_SO := $(RV_BUILD)/vdso/vdso.so
RV_VDSO_CFLAGS := --target=riscv64-unknown-linux-gnu -march=rv64imac \
                  -mabi=lp64 -mno-relax -std=c17 -O2 -fPIC -ffreestanding \
                  -fno-builtin -fno-stack-protector -fno-jump-tables \
                  -fno-asynchronous-unwind-tables -fno-unwind-tables \
                  $(WARN) $(INC) -Ikernel/arch/riscv64/include -MMD -MP
$(RV_BUILD)/vdso/vdso.o: kernel/arch/riscv64/vdso/vdso.c
	@mkdir -p $(dir $@)
	$(CC) $(RV_VDSO_CFLAGS) -c $< -o $@
$(RV_VDSO_SO): $(RV_BUILD)/vdso/vdso.o kernel/arch/riscv64/vdso/vdso.lds
	$(LD) -shared -soname=linux-vdso.so.1 --hash-style=both --build-id=none \
		-Bsymbolic -z max-page-size=4096 -z noexecstack \
		-T kernel/arch/riscv64/vdso/vdso.lds $< -o $@
	@if readelf -r $@ | grep -q R_RISCV; then \
		echo "$@: the vDSO must not need relocations"; rm -f $@; exit 1; fi
$(RV_BUILD)/kernel/arch/riscv64/vdso/image.S.o: $(RV_VDSO_SO)
$(RV_BUILD)/kernel/arch/riscv64/vdso/image.S.o: \
        RV_CFLAGS += -DVDSO_IMAGE='"$(RV_VDSO_SO)"'

# User programs: tests/user built as static glibc riscv64 binaries
# (Debian's gcc-riscv64-linux-gnu and libc6-dev-riscv64-cross), run first
# on the referee, Debian's riscv64 Linux in the same QEMU (tools/run
# --linux, fetched by tools/linux-kernel.sh --arch riscv64), then on
# Mercator. RV_USER_TESTS: the tests/user programs that are so far part of
# the riscv64 tier. Left out: clone_fork, signals, signals_fault (x86-64
# assembly or mcontext), poll_select (select), and those that fail on the
# referee as built: stack_brk, time_clock, mlock, proc_maps, random_vm
# (x86-64 layout or fault rules), tty_jobs (hangs under the referee's
# /dev/console), bad_pointers (glibc's nonnull warning). vmview checks
# /proc/vmview's JSON against smaps and meminfo (ENOENT on the referee).
RV_UCC := riscv64-linux-gnu-gcc
RV_USER_TESTS := die_exec_data die_kernel_read die_null_write \
        die_stack_overflow die_write_readonly fd_table fork_wait fs_locks \
        fs_pagecache futex identity ltp_errnos mincore mmap_anon \
        process_vm remap_advise_file rlimits rlimit_cpu signals_proc sysv_shm timers \
        syscall_log prctl_random proc_files exec_fd fs_calls tty_canon \
        threads pthreads vmview vdso time_ns userfaultfd overcommit oom_alloc \
        madvise_free cow_reuse shm_thp \
        smp_spread tlb_shootdown signal_ipi cpu_count smp_faultrace smp_storm \
        tick_alone leftover_procs sleepers nolock_faults lockfree_calls \
        nolock_file_faults
RV_UTESTS := $(patsubst %,$(RV_BUILD)/user/%,$(RV_USER_TESTS)) \
             $(RV_BUILD)/user/abi_riscv64 $(RV_BUILD)/user/dynlink
RV_REFEREE_INIT := $(RV_BUILD)/referee_init

$(RV_BUILD)/user/%: tests/user/%.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(RV_UCC) -static $(filter-out -static,$(UCFLAGS)) -o $@ $<
$(RV_BUILD)/user/abi_riscv64: tests/user/riscv64/abi_riscv64.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(RV_UCC) -static $(filter-out -static,$(UCFLAGS)) -o $@ $<
# tests/user/dyn/dynlink dynamically linked against the cross toolchain's
# glibc; tools/run (tools/hostlibs.py) puts its ld.so and libc.so.6 from
# /usr/riscv64-linux-gnu/lib into /lib of both kernels' initramfs.
$(RV_BUILD)/user/dynlink: tests/user/dyn/dynlink.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(RV_UCC) $(filter-out -static,$(UCFLAGS)) -o $@ $<
$(RV_REFEREE_INIT): tools/referee_init.c tools/load_modules.h
	@mkdir -p $(dir $@)
	$(RV_UCC) -static $(filter-out -static,$(UCFLAGS)) -o $@ $<

# The root file system of `make ARCH=riscv64 run`: user/'s shell and tools
# built for riscv64, the shell as /init (as x86-64's $(ROOTFS)).
RV_ROOTBIN := $(patsubst user/%.c,$(RV_BUILD)/rootfs/bin/%,$(wildcard user/*.c))
RV_ROOTFS  := $(RV_BUILD)/rootfs.cpio
$(RV_BUILD)/rootfs/bin/%: user/%.c
	@mkdir -p $(dir $@)
	$(RV_UCC) -static $(filter-out -static,$(UCFLAGS)) -o $@ $<
$(RV_ROOTFS): $(RV_ROOTBIN) tools/mkinitramfs.py
	python3 tools/mkinitramfs.py $@ /init=$(RV_BUILD)/rootfs/bin/sh \
		$(foreach p,$(RV_ROOTBIN),/bin/$(notdir $(p))=$(p))

.PHONY: riscv64 riscv64-user run-riscv64 test-riscv64
all: riscv64 riscv64-user
riscv64: $(RV_KERNEL)
riscv64-user: $(RV_UTESTS) $(RV_REFEREE_INIT) $(RV_ROOTFS)

$(RV_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(RV_CFLAGS) -c $< -o $@
$(RV_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(RV_CFLAGS) -c $< -o $@
# The user's floating-point registers are saved by the one file that may
# use F and D instructions.
$(RV_BUILD)/kernel/arch/riscv64/fpu.S.o: kernel/arch/riscv64/fpu.S
	@mkdir -p $(dir $@)
	$(CC) $(subst -march=rv64imac,-march=rv64imafdc,$(RV_CFLAGS)) -c $< -o $@

# No symbol table for backtraces yet (x86-64 links twice for one): an
# empty one.
$(RV_BUILD)/ksyms_empty.S: tools/ksyms.py
	@mkdir -p $(dir $@)
	python3 tools/ksyms.py --empty > $@
$(RV_BUILD)/ksyms_empty.o: $(RV_BUILD)/ksyms_empty.S
	$(CC) $(RV_CFLAGS) -c $< -o $@

$(RV_KERNEL): $(RV_OBJ) $(RV_BUILD)/ksyms_empty.o kernel/arch/riscv64/kernel.ld
	$(LD) $(RV_LDFLAGS) -error-limit=0 -o $@ $(RV_OBJ) $(RV_BUILD)/ksyms_empty.o

run-riscv64: setup
	@$(MAKE) --no-print-directory -j2 riscv64 $(RV_ROOTFS)
	python3 tools/qemu.py --arch riscv64 --mem $(QEMU_MEM) --interactive \
		--initrd $(RV_ROOTFS) $(RV_KERNEL)

test-riscv64: riscv64 riscv64-user
	python3 tools/test.py --tier riscv64

# make bench's riscv64 half (also `make ARCH=riscv64 bench`): the same
# benchmark, user/bench/vmbench.c, as a static glibc riscv64 binary, on
# Mercator and on the riscv64 tier's referee, Debian 13's Linux (Sv39), in
# the same QEMU (tools/bench.py --arch riscv64; results/riscv64/).
# Its entry point reads the clock before glibc's start-up runs.
RV_BENCH_BINS := $(RV_BUILD)/bench/vmbench $(RV_BUILD)/bench/true
$(RV_BUILD)/bench/vmbench: user/bench/vmbench.c tools/load_modules.h
	@mkdir -p $(dir $@)
	$(RV_UCC) -static $(filter-out -static,$(UCFLAGS)) \
		-Wl,-e,vmbench_entry -o $@ $< -lpthread
$(RV_BUILD)/bench/true: user/bench/true.c
	@mkdir -p $(dir $@)
	$(RV_UCC) -static $(filter-out -static,$(UCFLAGS)) -o $@ $<

# make ARCH=riscv64 view: the riscv64 shell in this terminal and the live
# picture page on http://127.0.0.1:8018/ (the feed comes on the console,
# taken out by tools/vmview; docs/design.md "The picture feed").
.PHONY: view-riscv64
view-riscv64: setup
	@$(MAKE) --no-print-directory -j2 riscv64 $(RV_ROOTFS)
	python3 tools/vmview --arch riscv64 --live --mem $(QEMU_MEM) \
		--out $(RV_BUILD)/view.html --initrd $(RV_ROOTFS)

.PHONY: bench-riscv64
bench-riscv64:
	@MERCATOR_SETUP_BENCH=1 bash tools/setup.sh
	@$(MAKE) --no-print-directory -j2 riscv64 $(RV_BENCH_BINS)
	python3 tools/bench.py --arch riscv64 --boots $(RV_BENCH_BOOTS)
RV_BENCH_BOOTS ?= 3

-include $(RV_OBJ:.o=.d)
