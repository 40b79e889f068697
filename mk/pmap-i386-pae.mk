# pmap-i386-pae.mk - the i386 PAE format (3 levels from a 4-entry PDPT,
# 8-byte entries, 2 MiB large pages, NX) in the host build (`make
# test-host PMAP=i386-pae`): the same sources as PMAP=i386, built with
# -DI386_PAE, and the same machine/ headers.
#
# Host tests that still assume x86-64: tests/host/i386-pae/x86_assumptions.txt.
PMAP_SRC := kernel/arch/i386/pmap.c kernel/arch/x86/user_fault.c \
            kernel/arch/host/i386/softmmu.c
PMAP_INC := -DI386_PAE -Ikernel/arch/host/i386/include
