# pmap-i386.mk - the i386 2-level page-table format (4 KiB pages, 4 MiB
# pages with PSE) in the host build (`make test-host PMAP=i386`): the i386
# port's real table code on the shared engine, its software MMU, and the
# 3G/1G layout (kernel/arch/i386/layout.h) in the host's machine/ headers.
#
# Host tests that still assume x86-64 are listed, with the reason, in
# tests/host/i386/x86_assumptions.txt (counted as expected failures).
PMAP_SRC := kernel/arch/i386/pmap.c kernel/arch/x86/user_fault.c \
            kernel/arch/host/i386/softmmu.c
PMAP_INC := -Ikernel/arch/host/i386/include
