/*
 * swapon_errors.c - what swapon(2) and swapoff(2) refuse, and how, as
 * Linux answers: a missing path, a character device, a block device
 * node with no disk behind it (254:240), a regular file with no swap
 * signature, unknown flags, a bad pointer, and a caller without
 * CAP_SYS_ADMIN; swapoff of something that is not an active area; the
 * header line of /proc/swaps. Nothing here ever names a real swap area,
 * so it is safe on the host that referees it. (Turning a disk on and off
 * is tests/kernel/test_swap.c's, with a disk mkswap prepared.)
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define SWAP_FLAG_PREFER        0x8000

static long swapon_(const char *path, int flags)
{
        return syscall(SYS_swapon, path, flags);
}

static long swapoff_(const char *path)
{
        return syscall(SYS_swapoff, path);
}

int main(void)
{
        char path[] = "/tmp/swapon_errors.XXXXXX";
        char buf[256];
        int fd, status;
        FILE *f;

        utest_start("swapon_errors");
        if (geteuid() != 0) {
                printf("NOTE swapon_errors: not root; nothing checked\n");
                return 0;
        }
        CHECK_ERR("missing_path", swapon_("/nonexistent/swap", 0), ENOENT);
        CHECK_ERR("char_device", swapon_("/dev/null", 0), EINVAL);
        CHECK_ERR("unknown_flags", swapon_("/dev/null", 0x80000), EINVAL);
        CHECK_ERR("bad_pointer", swapon_((const char *)8, 0), EFAULT);
        CHECK_ERR("prefer_char_device",
                  swapon_("/dev/null", SWAP_FLAG_PREFER | 5), EINVAL);

        fd = mkstemp(path);
        CHECK("mkstemp", fd >= 0);
        memset(buf, 'x', sizeof buf);
        for (int i = 0; i < 64; i++)            /* 16 KiB, no signature */
                if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                        break;
        close(fd);
        CHECK_ERR("file_without_signature", swapon_(path, 0), EINVAL);
        CHECK_ERR("swapoff_not_swap", swapoff_(path), EINVAL);
        CHECK_ERR("swapoff_char_device", swapoff_("/dev/null"), EINVAL);
        CHECK_ERR("swapoff_missing", swapoff_("/nonexistent/swap"), ENOENT);
        CHECK_ERR("swapoff_bad_pointer", swapoff_((const char *)8), EFAULT);

        char blk[] = "/tmp/swapon_errors.blk";
        unlink(blk);
        CHECK("mknod_block", mknod(blk, S_IFBLK | 0600, makedev(254, 240)) == 0);
        CHECK_ERR("block_node_without_disk", swapon_(blk, 0), ENXIO);
        CHECK_ERR("swapoff_block_node_without_disk", swapoff_(blk), ENXIO);
        unlink(blk);

        /* Without CAP_SYS_ADMIN both say EPERM before looking at the path. */
        pid_t pid = fork();
        if (pid == 0) {
                if (setuid(65534) != 0)
                        _exit(2);
                if (swapon_("/nonexistent/swap", 0) != -1 || errno != EPERM)
                        _exit(3);
                if (swapoff_(path) != -1 || errno != EPERM)
                        _exit(4);
                _exit(0);
        }
        CHECK("unprivileged_eperm", waitpid(pid, &status, 0) == pid &&
              WIFEXITED(status) && WEXITSTATUS(status) == 0);
        unlink(path);

        f = fopen("/proc/swaps", "r");
        CHECK("proc_swaps_opens", f != NULL);
        if (f) {
                CHECK("proc_swaps_header", fgets(buf, sizeof buf, f) &&
                      strcmp(buf, "Filename\t\t\t\tType\t\tSize\t\t"
                             "Used\t\tPriority\n") == 0);
                fclose(f);
        }
        return utest_done();
}
