# Mercator's build. `make run` boots it, `make test` runs every test tier.
# Both first install what is missing (tools/setup.sh) on a Debian machine.

ARCH    ?= x86_64
BUILD   := build
CC      := clang
LD      := ld.lld
HOSTCC  := clang
QEMU_MEM ?= 256M

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
INC     := -Ikernel/include -Ikernel

# --- the kernel: flags, linker script and sources from mk/x86_64.mk --------
# Every architecture has its fragment (mk/<arch>.mk). x86-64's kernel is the
# one `make run` and `make test` boot; `make ARCH=i386 run|test` (or
# riscv64) runs the other ports' run-<arch> and test-<arch> instead.
# `make` alone builds everything (the included files define targets first)
.DEFAULT_GOAL := all
include mk/x86_64.mk
KOBJ := $(patsubst %,$(BUILD)/kernel/%.o,$(KSRC))
KERNEL := $(BUILD)/mercator.elf

# --- the host build: the core over simulated RAM, under ASan + UBSan --------
# The host is a platform (kernel/arch/host: simulated RAM, console, panic)
# plus one page-table format, PMAP (mk/pmap-<format>.mk: the format's table
# code, its software MMU, its machine/ headers). Each format builds into
# build/host/<format>/; `make test` runs the host tier for every format.
PMAP    ?= x86_64
PMAPS   := $(patsubst mk/pmap-%.mk,%,$(wildcard mk/pmap-*.mk))
include mk/pmap-$(PMAP).mk
HBUILD  := $(BUILD)/host/$(PMAP)
HCFLAGS := -std=c17 -g -O1 -fsanitize=address,undefined \
           -fno-sanitize-recover=all -fno-omit-frame-pointer $(WARN) $(INC) \
           $(PMAP_INC) -Ikernel/arch/host/include -Itests/host -DHOST_BUILD \
           -MMD -MP
include mk/core.mk
HSRC := $(HOST_CORE) \
        kernel/proc/cred.c kernel/proc/rlimit.c kernel/proc/ktimer_arith.c \
        $(wildcard kernel/arch/host/*.c) $(PMAP_SRC) \
        tests/host/check.c tests/host/vm_fixture.c \
        tests/host/vm_model.c
HOBJ := $(patsubst %,$(HBUILD)/%.o,$(HSRC))
# The machine-independent host tests, then the format's own (tests/host/<format>/).
HTESTS := $(patsubst tests/host/%.c,$(HBUILD)/bin/%,$(wildcard tests/host/test_*.c)) \
          $(patsubst tests/host/$(PMAP)/%.c,$(HBUILD)/bin/%,\
                     $(wildcard tests/host/$(PMAP)/test_*.c))

# --- user programs: static musl binaries that run on Linux and Mercator ---
UCC     := musl-gcc
UCFLAGS := -static -O2 -Wall -Wextra -Werror -Wno-unused-function
UTESTS  := $(patsubst tests/user/%.c,$(BUILD)/user/%,$(wildcard tests/user/*.c))
# The same programs again as static PIEs (ET_DYN, loaded at a bias).
UTESTS  += $(BUILD)/user/mmap_anon_pie $(BUILD)/user/stack_brk_pie
# GLIBC_TESTS: user tests also built with glibc (`gcc -static`) as
# build/user/NAME_glibc, run by tools/test.py like the others. glibc's ABI
# habits differ from musl's (fork is clone with CHILD_SETTID, int
# arguments arrive zero-extended, fstat is newfstatat): add a test here
# when those habits matter to it.
GLIBC_TESTS := clone_fork cpu_count fd_links fs_calls fs_pagecache futex identity poll_select \
               mlock pthreads threads rlimits signals signals_fault thp vdso \
               signals_proc time_clock timers clock_set \
               tty_canon tty_jobs
GLIBC_CC    := gcc
UTESTS  += $(patsubst %,$(BUILD)/user/%_glibc,$(GLIBC_TESTS))
# Dynamically linked tests (tests/user/dyn/NAME.c), built twice: by plain
# gcc (glibc's ld-linux-x86-64.so.2) as NAME_gcc and by musl-gcc (musl's
# ld-musl-x86_64.so.1) as NAME_musl. tools/run puts the interpreter and
# libraries ldd lists into their initramfs.
DYN_TESTS := $(patsubst tests/user/dyn/%.c,%,$(wildcard tests/user/dyn/*.c))
UTESTS  += $(patsubst %,$(BUILD)/user/%_gcc,$(DYN_TESTS)) \
           $(patsubst %,$(BUILD)/user/%_musl,$(DYN_TESTS))

# --- the root file system of `make run`: the shell as /init, tools in /bin
ROOTBIN := $(patsubst user/%.c,$(BUILD)/rootfs/bin/%,$(wildcard user/*.c))
ROOTFS  := $(BUILD)/rootfs.cpio

.PHONY: all kernel host-tests host-tests-all user-tests run test test-host test-kernel \
        test-user test-outside soak debug setup clean runfs
all: kernel host-tests-all user-tests $(ROOTFS)

setup:
	@bash tools/setup.sh

kernel: $(KERNEL)
host-tests: $(HTESTS)
# The host tier once per page-table format.
host-tests-all:
	@for p in $(PMAPS); do \
		$(MAKE) --no-print-directory host-tests PMAP=$$p || exit 1; done

$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@
$(BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

# The kernel is linked twice: the second time with a table of its own
# function names (for symbolized backtraces), made from the first link.
$(BUILD)/mercator.nosyms.elf: $(KOBJ) $(KLDSCRIPT) $(BUILD)/kernel/ksyms_empty.o
	$(LD) $(KLDFLAGS) -o $@ $(KOBJ) $(BUILD)/kernel/ksyms_empty.o
$(BUILD)/kernel/ksyms.S: $(BUILD)/mercator.nosyms.elf tools/ksyms.py
	python3 tools/ksyms.py $< > $@
$(BUILD)/kernel/ksyms_empty.S: tools/ksyms.py
	@mkdir -p $(dir $@)
	python3 tools/ksyms.py --empty > $@
$(BUILD)/kernel/ksyms%.o: $(BUILD)/kernel/ksyms%.S
	$(CC) $(KCFLAGS) -c $< -o $@
$(KERNEL): $(KOBJ) $(BUILD)/kernel/ksyms.o $(KLDSCRIPT)
	$(LD) $(KLDFLAGS) -o $@ $(KOBJ) $(BUILD)/kernel/ksyms.o
	python3 tools/ksyms.py --verify $(BUILD)/mercator.nosyms.elf $@

$(HBUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HCFLAGS) -c $< -o $@
$(HBUILD)/bin/%: $(HBUILD)/tests/host/%.c.o $(HOBJ)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HCFLAGS) -o $@ $^
$(HBUILD)/bin/%: $(HBUILD)/tests/host/$(PMAP)/%.c.o $(HOBJ)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HCFLAGS) -o $@ $^
# The path walker's test also links the walker and tmpfs (the rest of
# kernel/fs needs a process).
$(HBUILD)/bin/test_vfs_walk: $(HBUILD)/kernel/fs/vfs.c.o \
                             $(HBUILD)/kernel/fs/tmpfs.c.o

# The first process of the x86-64 referee (Linux in QEMU) for the user
# tests tools/test.py also runs there (USER_ON_LINUX_VM).
user-tests: $(UTESTS) $(BUILD)/referee_init $(BUILD)/trinity_init
$(BUILD)/referee_init: tools/referee_init.c tools/load_modules.h
	$(UCC) $(UCFLAGS) -o $@ $<
# The first process of a trinity run (tools/test.py run_trinity).
$(BUILD)/trinity_init: tests/debian/trinity_init.c
	$(UCC) $(UCFLAGS) -o $@ $<
$(BUILD)/user/%: tests/user/%.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(UCC) $(UCFLAGS) -o $@ $<
$(BUILD)/user/%_glibc: tests/user/%.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(GLIBC_CC) $(UCFLAGS) -o $@ $<
$(BUILD)/user/%_gcc: tests/user/dyn/%.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(GLIBC_CC) $(filter-out -static,$(UCFLAGS)) -o $@ $<
$(BUILD)/user/%_musl: tests/user/dyn/%.c tests/user/utest.h
	@mkdir -p $(dir $@)
	$(UCC) $(filter-out -static,$(UCFLAGS)) -o $@ $<
$(BUILD)/user/%_pie: tests/user/%.c tests/user/utest.h tools/static-pie-cc
	@mkdir -p $(dir $@)
	bash tools/static-pie-cc $@ $< $(filter-out -static,$(UCFLAGS))

$(BUILD)/rootfs/bin/%: user/%.c
	@mkdir -p $(dir $@)
	$(UCC) $(UCFLAGS) -o $@ $<
# What `make run` boots: Debian's busybox sh with Mercator's tools when
# busybox-static could be fetched, else the toy shell (tools/mkrunfs.py).
$(ROOTFS): $(ROOTBIN) tools/mkinitramfs.py tools/mkrunfs.py $(wildcard user/etc/*)
	python3 tools/mkrunfs.py $@ $(ROOTBIN)
runfs: setup
	@bash tools/fetch-outside.sh || echo "make run: busybox-static not fetched; booting the toy shell"
	@$(MAKE) --no-print-directory -j2 kernel $(ROOTBIN)
	@python3 tools/mkrunfs.py $(ROOTFS) $(ROOTBIN)

ifeq ($(ARCH),x86_64)
run: runfs
	python3 tools/qemu.py --arch x86_64 --mem $(QEMU_MEM) --interactive --initrd $(ROOTFS) $(KERNEL)
else
run: run-$(ARCH)
endif

debug: runfs
	python3 tools/qemu.py --mem $(QEMU_MEM) --interactive --gdb --initrd $(ROOTFS) $(KERNEL)

ifeq ($(ARCH),x86_64)
test: setup
	@$(MAKE) --no-print-directory -j2 all
	python3 tools/test.py
else
test: test-$(ARCH)
endif

test-host: host-tests
	python3 tools/test.py --tier host --pmap $(PMAP)
test-kernel: kernel
	python3 tools/test.py --tier kernel
test-user: kernel user-tests
	python3 tools/test.py --tier user
test-outside: kernel
	python3 tools/test.py --tier outside

# Longer than make test: 40 seeds of the randomized programs on both
# kernels and ten minutes of each fuzzer.
soak: setup
	@$(MAKE) --no-print-directory -j2 all
	python3 tools/test.py --soak

clean:
	rm -rf $(BUILD)

include tests/host/fixtures.mk
include mk/i386.mk
include mk/riscv64.mk

-include $(KOBJ:.o=.d) $(HOBJ:.o=.d)
# test_vfs_walk's own objects (not in HOBJ): rebuilt when vfs.h changes.
-include $(HBUILD)/kernel/fs/vfs.c.d $(HBUILD)/kernel/fs/tmpfs.c.d
# The host tests' own objects: their headers too (struct layouts change).
-include $(wildcard $(HBUILD)/tests/host/*.d $(HBUILD)/tests/host/*/*.d)

# --- make pictures: the README's picture from a real run ---------------------
# tools/vmview draws user/vmdemo (fork; the child writes 4 of 16 pages);
# the fork view of the third snapshot (after the child's writes) is kept.
# make view: the shell in this terminal and a live page on
# http://127.0.0.1:8018/ that redraws as commands exit (tools/vmview --live);
# make ARCH=riscv64 view, make ARCH=i386 view: the same on riscv64 and
# i386 (mk/riscv64.mk, mk/i386.mk).
.PHONY: pictures view
ifneq ($(ARCH),x86_64)
view: view-$(ARCH)
else
view: runfs
	python3 tools/vmview --live --mem $(QEMU_MEM) --out $(BUILD)/view.html \
		--initrd $(ROOTFS)
endif

pictures: kernel $(BUILD)/rootfs/bin/vmdemo
	python3 tools/vmview --out $(BUILD)/vmdemo.html --svg $(BUILD)/pictures \
		$(BUILD)/rootfs/bin/vmdemo
	@mkdir -p docs/pictures
	cp $(BUILD)/pictures/s3-fork-1-2.svg docs/pictures/vmdemo-fork.svg

# --- make bench: Mercator against Debian's stock Linux in the same QEMU ------
# One static benchmark (user/bench/vmbench.c) booted as /init on both
# kernels; tools/bench.py fetches the Linux kernel, boots, and writes
# results/. A measurement, not a test: it is not part of `make test`.
# x86-64 first, then riscv64 (mk/riscv64.mk's bench-riscv64, results/riscv64/),
# then i386 (mk/i386.mk's bench-i386, results/i386/); `make ARCH=riscv64
# bench` or `make ARCH=i386 bench` runs only that architecture.
.PHONY: bench bench-x86_64
BENCH_BINS := $(BUILD)/bench/vmbench $(BUILD)/bench/true

# vmbench's entry point reads the clock before musl's start-up runs.
$(BUILD)/bench/vmbench: user/bench/vmbench.c tools/load_modules.h
	@mkdir -p $(dir $@)
	$(UCC) $(UCFLAGS) -Wl,-e,vmbench_entry -o $@ $<
$(BUILD)/bench/true: user/bench/true.c
	@mkdir -p $(dir $@)
	$(UCC) $(UCFLAGS) -o $@ $<

ifeq ($(ARCH),x86_64)
bench: bench-x86_64 bench-riscv64 bench-i386
else
bench: bench-$(ARCH)
endif
bench-x86_64:
	@MERCATOR_SETUP_BENCH=1 bash tools/setup.sh
	@$(MAKE) --no-print-directory -j2 kernel $(BENCH_BINS)
	python3 tools/bench.py
