/*
 * maps.c - print a process's address space as /proc/PID/maps has it
 * (default: this process, after making a few areas worth seeing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
        char path[64], line[512];

        if (argc > 1) {
                snprintf(path, sizeof path, "/proc/%s/maps", argv[1]);
        } else {
                char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                mprotect(p + 4096, 4096, PROT_READ);    /* splits the area */
                mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                printf("this process mapped 3 pages at %p and made the middle one "
                       "read-only, then mapped a shared page:\n", (void *)p);
                snprintf(path, sizeof path, "/proc/self/maps");
        }
        FILE *f = fopen(path, "r");
        if (!f) {
                perror(path);
                return 1;
        }
        while (fgets(line, sizeof line, f))
                fputs(line, stdout);
        fclose(f);
        return 0;
}
