# pmap-riscv64.mk - the Sv39 page-table format in the host build
# (`make test-host PMAP=riscv64`): the riscv64 port's real table code, its
# software MMU, and the layout and protection rules of riscv64's machine/
# headers (issue 13).
PMAP_SRC := kernel/arch/riscv64/pmap.c kernel/arch/riscv64/user_fault.c \
            kernel/arch/host/riscv64/softmmu.c
PMAP_INC := -Ikernel/arch/host/riscv64/include

# Host tests that still assume x86-64 are listed, with the reason, in
# tests/host/riscv64/x86_assumptions.txt: tools/test.py counts their
# failures over Sv39 as expected (and fails if one of them passes).
