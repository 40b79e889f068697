/*
 * pagewalk.c - how the MMU translates an address: each level's table,
 * index and entry, then the physical address (Mercator's
 * /proc/PID/pagewalk/ADDR). Without an address, walks a few of its own:
 * code, data, stack, fresh heap, and memory not touched yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int walk(const char *pid, unsigned long va, const char *what)
{
        char path[96], line[256];

        snprintf(path, sizeof path, "/proc/%s/pagewalk/%lx", pid, va);
        FILE *f = fopen(path, "r");
        if (!f) {
                perror(path);
                return 1;
        }
        printf("--- %s\n", what);
        while (fgets(line, sizeof line, f))
                fputs(line, stdout);
        fclose(f);
        return 0;
}

static int data_word = 1;

/* An address in the kernel's linear map: x86-64's first byte of RAM at
 * 0xffff800000000000; riscv64 (Sv39) maps RAM, which starts at 0x80000000
 * on QEMU's virt board, from 0xffffffc000000000; its first 2 MiB hold
 * OpenSBI's reserved range (not mapped), so the walk takes pa 0x80400000,
 * which the kernel maps with a 2 MiB megapage. */
#if defined(__riscv)
#define LINEAR_MAP_VA   0xffffffc080400000UL
#else
#define LINEAR_MAP_VA   0xffff800000000000UL
#endif

int main(int argc, char **argv)
{
        int local = 0;

        if (argc > 1)
                return walk(argc > 2 ? argv[2] : "self", strtoul(argv[1], NULL, 16),
                            argv[1]);
        char *heap = malloc(64), *lazy = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        heap[0] = 1;
        walk("self", (unsigned long)main, "code (main): read-only, executable");
        walk("self", (unsigned long)&data_word, "data: writable, not executable");
        walk("self", (unsigned long)&local, "stack");
        walk("self", (unsigned long)heap, "heap (malloc)");
        walk("self", (unsigned long)lazy, "mmap'd, never touched: no page yet");
        (void)*(volatile char *)lazy;
        walk("self", (unsigned long)lazy, "the same after a read: the shared zero page, read-only");
        lazy[0] = 1;
        walk("self", (unsigned long)lazy, "after a write: a page of its own");
        walk("self", LINEAR_MAP_VA, "the kernel's linear map (not USER)");
        return 0;
}
