/*
 * swapon_errors.c - what swapon(2) and swapoff(2) refuse, and how, as
 * Linux answers: a missing path, a character device, a block device
 * node with no disk behind it (254:240), a regular file with no swap
 * signature, unknown flags, a bad pointer, and a caller without
 * CAP_SYS_ADMIN; swapoff of something that is not an active area; the
 * header line of /proc/swaps. Up to there nothing names a real swap
 * area, so it is safe on the host that referees it. (Turning a disk on
 * and off is tests/kernel/test_swap.c's, with a disk mkswap prepared.)
 *
 * Then, only where tools/run booted it with a swap disk on (Mercator's
 * swap=, Linux in QEMU through tools/referee_init): swapoff asks the
 * commit policy, as Linux's does (mm/swapfile.c: the area's pages must
 * fit once more under the limit, security_vm_enough_memory_mm), so in
 * mode 2 with more committed than the limit allows without the area it
 * is ENOMEM and the area stays on; once the memory is let go it goes
 * off, and comes back with swapon.
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

static void vm_knob(const char *name, long v)
{
        char path[96], text[32];

        snprintf(path, sizeof path, "/proc/sys/vm/%s", name);
        snprintf(text, sizeof text, "%ld", v);
        if (write_text(path, text) != 0)
                printf("NOTE swapon_errors: %s not set\n", path);
}

/* The first area of /proc/swaps (its path in dev), or 0 if none. */
static int first_area(char *dev, size_t size)
{
        char line[256];
        int found = 0;
        FILE *f = fopen("/proc/swaps", "r");

        if (!f)
                return 0;
        if (fgets(line, sizeof line, f) && fgets(line, sizeof line, f)) {
                line[strcspn(line, " \t")] = '\0';
                snprintf(dev, size, "%.100s", line);
                found = 1;
        }
        fclose(f);
        return found;
}

/*
 * swapoff under the strict policy. The limit is set with
 * overcommit_kbytes to what is committed now plus 4 MiB (plus the swap,
 * as CommitLimit always has it); a 16 MiB private writable mapping then
 * fits only thanks to the swap, so swapoff must say ENOMEM and leave the
 * area on. Unmapped, everything fits without it: swapoff succeeds, and
 * swapon turns the area on again. The 12 MiB margins are far wider than
 * Linux's per-CPU batch of its commit counter.
 */
static void swapoff_commit(void)
{
        char dev[128];
        size_t len = 16UL << 20;

        if (access("/.mercator-args", F_OK) != 0 || !first_area(dev, sizeof dev)) {
                printf("NOTE swapon_errors: no swap area where tools/run "
                       "booted it: swapoff's commit check not run\n");
                return;
        }
        long committed = proc_field("/proc/meminfo", "Committed_AS");
        long swap_kb = proc_field("/proc/meminfo", "SwapTotal");
        CHECK("area_has_swap", committed >= 0 && swap_kb >= 32 * 1024);
        vm_knob("overcommit_kbytes", committed + 4096);
        vm_knob("overcommit_memory", 2);
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("strict_map_fits_with_swap", p != MAP_FAILED);
        CHECK_ERR("swapoff_over_commit_limit", swapoff_(dev), ENOMEM);
        CHECK("area_still_on", proc_field("/proc/meminfo", "SwapTotal") ==
              swap_kb);
        if (p != MAP_FAILED)
                munmap(p, len);
        long off = swapoff_(dev);
        CHECK("swapoff_when_it_fits", off == 0);
        if (off == 0) {
                CHECK("swap_gone", proc_field("/proc/meminfo", "SwapTotal") == 0);
                CHECK("swapon_again", swapon_(dev, 0) == 0);
        }
        vm_knob("overcommit_memory", 0);
        vm_knob("overcommit_ratio", 50);        /* clears overcommit_kbytes */
        CHECK("swap_back", proc_field("/proc/meminfo", "SwapTotal") == swap_kb);
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
        swapoff_commit();
        return utest_done();
}
