/*
 * vmdemo.c - a program to be drawn (tools/vmview): 16 pages mapped, 12
 * touched; fork; the child reads them all (sharing the parent's frames
 * copy-on-write) and writes 4, getting its own copies. At each step it
 * writes a label to /proc/vmview, which on Mercator asks for a snapshot on
 * the feed port (where tools/vmview collects it); elsewhere the writes
 * fail and the program goes on.
 *
 *   tools/vmview build/rootfs/bin/vmdemo     (or: make view-demo)
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES   16
#define TOUCHED 12
#define WRITTEN 4

static void mark(const char *label)
{
        int fd = open("/proc/vmview", O_WRONLY);

        if (fd >= 0) {
                if (write(fd, label, strlen(label)) < 0)
                        perror("vmdemo: /proc/vmview");
                close(fd);
        }
        printf("vmdemo: %s\n", label);
}

int main(void)
{
        long page = sysconf(_SC_PAGESIZE);
        char *m = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int go[2], done[2];
        char c = 0;
        volatile char sum = 0;

        if (m == MAP_FAILED || pipe(go) || pipe(done))
                return 1;
        setvbuf(stdout, NULL, _IONBF, 0);
        for (int i = 0; i < TOUCHED; i++)
                m[i * page] = (char)i;
        mark("touched 12 of 16 pages");
        pid_t pid = fork();
        if (pid == 0) {
                for (int i = 0; i < PAGES; i++)
                        sum += m[i * page];
                mark("child read all 16 pages");
                for (int i = 0; i < WRITTEN; i++)
                        m[i * page] = 'c';
                mark("child wrote 4 pages");
                if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
                        return 1;
                return 0;
        }
        if (read(done[0], &c, 1) != 1)
                return 1;
        if (write(go[1], &c, 1) != 1)
                return 1;
        waitpid(pid, NULL, 0);
        mark("child exited");
        return 0;
}
