/*
 * test_pmap_i386.c (i386 PAE format) - the i386 format's test
 * (tests/host/i386/test_pmap_i386.c), built with -DI386_PAE by
 * PMAP=i386-pae: the same checks over three-level tables.
 */
#include "../i386/test_pmap_i386.c"
