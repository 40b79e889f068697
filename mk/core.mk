# core.mk - the machine-independent sources that the host build and the
# fuzzers link (included by the Makefile and tests/fuzz/fuzz.mk).
#
# The parts of fs/ that are the system-call layer need a process (current,
# copy_to_user), and lib/string.c is the host C library's job: the host
# build leaves them out. The disk registry (kern/blkdev.c) comes in: swap
# (vm/swap.c) writes to disks, RAM disks in the host tests; and the
# drain's call on every CPU (kern/smp_call.c), between host threads.
FS_SYSCALL := $(filter-out kernel/fs/initramfs.c kernel/fs/cpio.c kernel/fs/ext2.c,$(wildcard kernel/fs/*.c))
HOST_CORE := $(filter-out kernel/lib/string.c $(FS_SYSCALL),\
                 $(wildcard kernel/vm/*.c kernel/lib/*.c kernel/fs/*.c \
                            kernel/exec/*.c kernel/ipc/shm.c)) \
             kernel/kern/blkdev.c kernel/kern/smp_call.c
