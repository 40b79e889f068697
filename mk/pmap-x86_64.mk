# pmap-x86_64.mk - the x86-64 page-table format in the host build
# (`make test-host PMAP=x86_64`): the real table code of the x86-64 port,
# its software MMU, and the layout and protection rules the host's
# machine/ headers take from it. One such fragment per format; the
# Makefile runs the host tier once for each (make test).
PMAP_SRC := kernel/arch/x86_64/pmap.c kernel/arch/x86/user_fault.c \
            kernel/arch/host/x86_64/softmmu.c
PMAP_INC := -Ikernel/arch/host/x86_64/include
