# i386.mk - the 32-bit x86 port (issue 14): a Multiboot v1 ELF32 kernel,
# built beside the x86-64 one, twice: with 2-level tables into build/i386/
# (for qemu-system-i386) and with PAE (-DI386_PAE) into build/i386-pae/
# (for qemu-system-x86_64 -cpu max, which can give it RAM above 4 GiB).
# (Its own fragment until the per-architecture build of issue 10 lands.)
#
#   make i386          both kernels, build/i386{,-pae}/mercator.elf
#   make run-i386      boot the 2-level one (QEMU_MEM, default 256M)
#   make test-i386     their kernel tests: -m 64M, -m 3G, PAE at -m 6G,
#                      and the i386 user tier (referee Linux, then Mercator)
#   make i386-user     the i386 user tests and the referee's init

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

# The whole machine-independent kernel, as x86-64 and riscv64 link it:
# the VM core, processes, exec, the file systems, SysV shared memory.
I386_CORE := $(wildcard kernel/kern/*.c kernel/lib/*.c kernel/vm/*.c \
                        kernel/fs/*.c kernel/exec/*.c kernel/ipc/*.c \
                        kernel/proc/*.c)
I386_SRC := $(I386_CORE) \
            $(wildcard kernel/arch/i386/*.c kernel/arch/i386/*.S \
                       tests/kernel/i386/*.c tests/kernel/common/*.c) \
            kernel/arch/x86/serial.c kernel/arch/x86/user_fault.c \
            kernel/arch/x86/vmview_com2.c kernel/arch/x86/tsc.c \
            kernel/arch/i386/vdso/image.S
I386_OBJ  := $(patsubst %,$(I386_BUILD)/%.o,$(I386_SRC))
I386P_OBJ := $(patsubst %,$(I386P_BUILD)/%.o,$(I386_SRC))

# The vDSO (as x86-64's, mk/x86_64.mk): kernel/arch/i386/vdso/vdso.c (the
# clocks), clock.S (clock_gettime64's REALTIME and MONOTONIC) and entry.S
# (__kernel_vsyscall, the signal returns) are user code,
# linked as an ELF32 shared object with vdso.lds (Linux's LINUX_2.5 and
# LINUX_2.6 versions) and put into both kernels as bytes (image.S). It
# must need no relocation: the build refuses one.
I386_VDSO_SO := $(I386_BUILD)/vdso/vdso.so
I386_VDSO_CFLAGS := --target=i386-unknown-linux-gnu -march=i686 -std=c17 -O2 \
               -fPIC -ffreestanding -fno-builtin -fno-stack-protector \
               -fno-jump-tables \
               -mno-sse -mno-mmx -fno-asynchronous-unwind-tables \
               -fno-unwind-tables $(WARN) $(INC) -Ikernel/arch/i386/include \
               -MMD -MP
$(I386_BUILD)/vdso/vdso.o: kernel/arch/i386/vdso/vdso.c
	@mkdir -p $(dir $@)
	$(CC) $(I386_VDSO_CFLAGS) -c $< -o $@
$(I386_BUILD)/vdso/%.o: kernel/arch/i386/vdso/%.S
	@mkdir -p $(dir $@)
	$(CC) $(I386_VDSO_CFLAGS) -c $< -o $@
I386_VDSO_OBJS := $(I386_BUILD)/vdso/vdso.o $(I386_BUILD)/vdso/entry.o \
                  $(I386_BUILD)/vdso/clock.o
$(I386_VDSO_SO): $(I386_VDSO_OBJS) kernel/arch/i386/vdso/vdso.lds
	$(LD) -m elf_i386 -shared -soname=linux-gate.so.1 --hash-style=both \
		--build-id=none -Bsymbolic -z max-page-size=4096 -z noexecstack \
		-T kernel/arch/i386/vdso/vdso.lds $(I386_VDSO_OBJS) -o $@
	@if readelf -r $@ | grep -q R_386; then \
		echo "$@: the vDSO must not need relocations"; rm -f $@; exit 1; fi
$(I386_BUILD)/kernel/arch/i386/vdso/image.S.o \
$(I386P_BUILD)/kernel/arch/i386/vdso/image.S.o: $(I386_VDSO_SO)
$(I386_BUILD)/kernel/arch/i386/vdso/image.S.o \
$(I386P_BUILD)/kernel/arch/i386/vdso/image.S.o: \
        I386_CFLAGS += -DVDSO_IMAGE='"$(I386_VDSO_SO)"'
-include $(I386_BUILD)/vdso/vdso.d $(I386_BUILD)/vdso/entry.d $(I386_BUILD)/vdso/clock.d

# User programs: tests/user built as static glibc i386 binaries (gcc -m32
# with Debian's libc6-dev-i386 and lib32gcc-12-dev; tools/setup.sh
# installs them), run first on the referee, Debian 12's 686-pae Linux in
# the same QEMU (tools/run --linux, fetched by tools/linux-kernel.sh
# --arch i386), then on Mercator. Without gcc-multilib (it conflicts with
# the riscv64 cross compiler) <asm/...> is not on -m32's path: a private
# include directory points at the x86 one (the same headers serve both).
# I386_USER_TESTS: those in the tier, each passing on the referee as
# built. Left out: bad_pointers, clone_fork, fs_calls, mmap_anon,
# random_vm, signals, signals_fault (they do not build for i386: x86-64
# registers, 64-bit constants or formats); and those that fail on i386
# Linux too: exec_fd (bad-pointer execve), mlock (areas not merged back),
# prctl_random (uname's machine), proc_files and proc_maps (negative
# /proc/self/mem offsets, column widths), remap_advise_file, stack_brk
# (x86-64 addresses), sysv_shm and timers (glibc's i386 wrappers copy
# through their own structures and fault on the bad pointers the tests
# pass), time_clock, poll_select, tty_canon (the referee's console),
# die_exec_data and fork_wait (NX: the 686-pae referee executes data
# pages even with -cpu max; Mercator's PAE kernel does not); fs_locks
# (its locks pass on both, but glibc's i386 sendfile and pwritev2 fail
# its other checks on Linux too);
# oom_alloc (its third round fills memory with the page tables of a
# 512 GiB sparse mapping; 3 GiB of user space holds 3 MiB of them);
# init_signals, tty_jobs (not tried yet). vmview checks /proc/vmview's
# JSON against smaps and meminfo (ENOENT on the referee), in both runs.
I386_UCC := gcc -m32
I386_UINC := $(I386_BUILD)/uinc
I386_USER_TESTS := die_kernel_read die_null_write die_stack_overflow \
        die_write_readonly fd_table fs_pagecache futex identity ltp_errnos mincore \
        process_vm pthreads rlimits rlimit_cpu signals_proc syscall_log threads coredump \
        vmview abi_i386 vdso time_ns userfaultfd overcommit madvise_free \
        cow_reuse shm_thp cpu_count leftover_procs sleepers
# The PAE run, at -m 3G, where user pages and the page cache come from
# HIGHMEM: tests/user/i386/highmem_fill (2 GiB filled and read back) and
# a few of the others.
I386P_USER_TESTS := fs_pagecache process_vm vmview vdso cow_reuse
I386_UTESTS := $(patsubst %,$(I386_BUILD)/user/%,$(I386_USER_TESTS)) \
               $(I386_BUILD)/user/dynlink \
               $(patsubst %,$(I386_BUILD)/user-pae/%,$(I386P_USER_TESTS)) \
               $(I386_BUILD)/user-pae/highmem_fill
I386_REFEREE_INIT := $(I386_BUILD)/referee_init

$(I386_UINC)/asm:
	@mkdir -p $(I386_UINC)
	ln -sfn /usr/include/x86_64-linux-gnu/asm $@
# tests/user/i386/: abi_i386 in the 2-level run, highmem_fill in the PAE one.
$(I386_BUILD)/user/abi_i386: tests/user/i386/abi_i386.c tests/user/utest.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $< -lpthread
$(I386_BUILD)/user/%: tests/user/%.c tests/user/utest.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $< -lpthread
$(I386_BUILD)/user-pae/%: tests/user/i386/%.c tests/user/utest.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $< -lpthread
$(I386_BUILD)/user-pae/%: tests/user/%.c tests/user/utest.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $< -lpthread
# tests/user/dyn/dynlink dynamically linked against Debian's i386 glibc
# (libc6-i386: /lib/ld-linux.so.2, /lib32/libc.so.6, as ldd lists them).
$(I386_BUILD)/user/dynlink: tests/user/dyn/dynlink.c tests/user/utest.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(filter-out -static,$(UCFLAGS)) -o $@ $<
$(I386_REFEREE_INIT): tools/referee_init.c tools/load_modules.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $<

.PHONY: i386 i386-user run-i386 test-i386
all: i386 i386-user $(I386_BUILD)/rootfs/bin/vmdemo
i386: $(I386_KERNEL) $(I386P_KERNEL)
i386-user: $(I386_UTESTS) $(I386_REFEREE_INIT)

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

# No symbol table for backtraces yet (x86-64 links twice for one): an
# empty one, as riscv64's.
$(I386_BUILD)/ksyms_empty.S: tools/ksyms.py
	@mkdir -p $(dir $@)
	python3 tools/ksyms.py --empty > $@
$(I386_BUILD)/ksyms_empty.o: $(I386_BUILD)/ksyms_empty.S
	$(CC) $(I386_CFLAGS) -c $< -o $@

$(I386_KERNEL): $(I386_OBJ) $(I386_BUILD)/ksyms_empty.o kernel/arch/i386/kernel.ld
	$(LD) $(I386_LDFLAGS) -o $@ $(I386_OBJ) $(I386_BUILD)/ksyms_empty.o $(I386_RTLIB)
$(I386P_KERNEL): $(I386P_OBJ) $(I386_BUILD)/ksyms_empty.o kernel/arch/i386/kernel.ld
	$(LD) $(I386_LDFLAGS) -o $@ $(I386P_OBJ) $(I386_BUILD)/ksyms_empty.o $(I386_RTLIB)

# The root file system of `make ARCH=i386 run` (as x86-64's make run):
# Debian 12's i386 busybox-static with a login shell as /init when it
# could be fetched (tools/fetch-outside.sh --arch i386), else user/'s toy
# shell; user/'s tools built for i386 in /bin either way. It boots with
# 3 GiB of RAM (I386_RUN_MEM), so that most of it is HIGHMEM.
# (user/pagewalk.c reads x86-64's four-level tables: not built.)
I386_ROOTBIN := $(patsubst user/%.c,$(I386_BUILD)/rootfs/bin/%,\
                  $(filter-out user/pagewalk.c,$(wildcard user/*.c)))
I386_ROOTFS  := $(I386_BUILD)/rootfs.cpio
I386_RUN_MEM ?= 3G
$(I386_BUILD)/rootfs/bin/%: user/%.c | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $<

run-i386: setup
	@bash tools/fetch-outside.sh --arch i386 || echo "make ARCH=i386 run: busybox-static not fetched; booting the toy shell"
	@$(MAKE) --no-print-directory -j2 i386 $(I386_ROOTBIN)
	python3 tools/mkrunfs.py --outside $(BUILD)/outside-i386 $(I386_ROOTFS) $(I386_ROOTBIN)
	python3 tools/qemu.py --arch i386 --mem $(I386_RUN_MEM) --interactive \
		--initrd $(I386_ROOTFS) $(I386_KERNEL)

# make ARCH=i386 view: make ARCH=i386 run's shell in this terminal and the
# live picture page on http://127.0.0.1:8018/ (tools/vmview --live; the feed
# on COM2 as on x86-64; docs/design.md "The picture feed"), at 3 GiB so
# that the physical view has a HIGHMEM zone. I386_VIEW_ARCH=i386-pae: the
# PAE kernel (qemu-system-x86_64 -cpu max).
I386_VIEW_ARCH ?= i386
.PHONY: view-i386
view-i386: setup
	@bash tools/fetch-outside.sh --arch i386 || echo "make ARCH=i386 view: busybox-static not fetched; booting the toy shell"
	@$(MAKE) --no-print-directory -j2 i386 $(I386_ROOTBIN)
	python3 tools/mkrunfs.py --outside $(BUILD)/outside-i386 $(I386_ROOTFS) $(I386_ROOTBIN)
	python3 tools/vmview --arch $(I386_VIEW_ARCH) --live --mem $(I386_RUN_MEM) \
		--out $(I386_BUILD)/view.html --initrd $(I386_ROOTFS)

# make bench's i386 part (also `make ARCH=i386 bench`): the same
# benchmark, user/bench/vmbench.c, as a static glibc i386 binary (gcc -m32),
# on Mercator's 2-level kernel and on the i386 tier's referee, Debian 12's
# 686-pae Linux, in the same QEMU, the main and areas boots at -m 3G where
# most RAM is HIGHMEM (tools/bench.py --arch i386; results/i386/). Its
# entry point reads the clock before glibc's start-up runs.
I386_BENCH_BINS := $(I386_BUILD)/bench/vmbench $(I386_BUILD)/bench/true
I386_BENCH_BOOTS ?= 3
$(I386_BUILD)/bench/vmbench: user/bench/vmbench.c tools/load_modules.h | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -Wl,-e,vmbench_entry \
		-o $@ $< -lpthread
$(I386_BUILD)/bench/true: user/bench/true.c | $(I386_UINC)/asm
	@mkdir -p $(dir $@)
	$(I386_UCC) -isystem $(I386_UINC) $(UCFLAGS) -o $@ $<

.PHONY: bench-i386
bench-i386:
	@MERCATOR_SETUP_BENCH=1 bash tools/setup.sh
	@$(MAKE) --no-print-directory -j2 i386 $(I386_BENCH_BINS)
	python3 tools/bench.py --arch i386 --boots $(I386_BENCH_BOOTS)

test-i386: i386 i386-user
	python3 tools/test.py --tier i386

-include $(I386_OBJ:.o=.d) $(I386P_OBJ:.o=.d)
