/*
 * cowdemo.c - copy-on-write after fork, seen through the page tables.
 * Mercator's child starts with empty page tables; reading a page maps the
 * parent's frame, read-only; a write gives the writer its own copy of that
 * one page, and the other pages stay shared. When only one sharer is
 * left, its write just makes the page writable again: no copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 4

/* The physical address and RW/RO of va, from /proc/self/pagewalk. */
static void frame(unsigned long va, unsigned long *pa, char rw[3])
{
        char path[64], line[256];
        FILE *f;

        *pa = 0;
        strcpy(rw, "--");
        snprintf(path, sizeof path, "/proc/self/pagewalk/%lx", va);
        if (!(f = fopen(path, "r")))
                return;
        while (fgets(line, sizeof line, f)) {
                if (!strncmp(line, "PT ", 3) && !strstr(line, "not present"))
                        memcpy(rw, strstr(line, " RW") ? "RW" : "RO", 3);
                sscanf(line, "pa %lx", pa);
        }
        fclose(f);
}

static void show(const char *who, char *m)
{
        printf("%-28s", who);
        for (int i = 0; i < PAGES; i++) {
                unsigned long pa;
                char rw[3];
                frame((unsigned long)(m + i * 4096), &pa, rw);
                printf("  %#9lx %s", pa, rw);
        }
        printf("\n");
}

int main(void)
{
        char *m = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        setvbuf(stdout, NULL, _IONBF, 0);      /* the child leaves by _exit */
        memset(m, 'x', PAGES * 4096);
        printf("physical frame of each of %d pages at %p:\n", PAGES, (void *)m);
        show("parent before fork", m);
        pid_t pid = fork();
        if (pid == 0) {
                show("child after fork", m);    /* no translations yet */
                for (int i = 0; i < PAGES; i++)
                        (void)*(volatile char *)(m + i * 4096);
                show("child after reading them", m);
                m[4096] = 'c';
                show("child after writing page 1", m);
                _exit(0);
        }
        waitpid(pid, NULL, 0);
        show("parent after the child quit", m);
        m[0] = 'p';
        show("parent after writing page 0", m);
        return 0;
}
