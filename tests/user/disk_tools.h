/*
 * disk_tools.h - what the user tests of disk file systems share (ext2_loop,
 * ext4_loop, ext2_writeback): the loop-device ioctls, finding Debian's
 * mkfs and e2fsck, running one quietly, and a byte pattern to write and
 * check. Included after utest.h by one test program each (static
 * functions).
 */
#ifndef TESTS_USER_DISK_TOOLS_H
#define TESTS_USER_DISK_TOOLS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOOP_SET_FD             0x4C00
#define LOOP_CLR_FD             0x4C01
#define LOOP_CTL_GET_FREE       0x4C82

/* The path of a system tool (mkfs.ext2, e2fsck, ...), or NULL. */
static const char *tool(const char *name)
{
        char path[64];
        const char *dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

        for (unsigned i = 0; i < 4; i++) {
                snprintf(path, sizeof path, "%s/%s", dirs[i], name);
                if (access(path, X_OK) == 0)
                        return strdup(path);
        }
        return NULL;
}

/* Run argv quietly; its exit status (128 + the signal that killed it). */
static int run(char *const argv[])
{
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The pattern with this seed, and whether b holds it. */
static inline void fill_pattern(char *b, size_t n, unsigned seed)
{
        for (size_t i = 0; i < n; i++)
                b[i] = (char)((i * 13 + seed) & 0xff);
}

static inline int same_pattern(const char *b, size_t n, unsigned seed)
{
        for (size_t i = 0; i < n; i++)
                if (b[i] != (char)((i * 13 + seed) & 0xff))
                        return 0;
        return 1;
}

#endif
