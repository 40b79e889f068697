/* meminfo.c - the kernel's memory counters (/proc/meminfo). */
#include <stdio.h>

int main(void)
{
        char line[256];
        FILE *f = fopen("/proc/meminfo", "r");

        if (!f) {
                perror("/proc/meminfo");
                return 1;
        }
        while (fgets(line, sizeof line, f))
                fputs(line, stdout);
        fclose(f);
        return 0;
}
