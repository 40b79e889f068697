/*
 * ltp_errnos.c - the error numbers LTP's tests expect where Mercator
 * answered otherwise: the order of mmap's checks (a bad descriptor first),
 * O_NOATIME only for a file's owner (open and fcntl), and a shared mapping
 * of /dev/zero from a read-only descriptor that may never become writable.
 * Runs as root and drops to nobody's euid for the owner checks.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static void mmap_checks(void)
{
        char path[64];
        snprintf(path, sizeof path, "/tmp/ltp_errnos.%d", (int)getpid());
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        CHECK("mmap_file_created", fd >= 0);
        close(fd);
        /* closed descriptor, zero length: EBADF wins (LTP mmap08) */
        CHECK_MMAP_ERR("mmap_closed_fd_len0_ebadf",
                       mmap(NULL, 0, PROT_WRITE, MAP_SHARED, fd, 0), EBADF);
        CHECK_MMAP_ERR("mmap_closed_fd_ebadf",
                       mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0), EBADF);
        /* a misaligned offset is refused before the descriptor is looked at */
        CHECK_MMAP_ERR("mmap_closed_fd_bad_offset_einval",
                       mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 1), EINVAL);
        CHECK_MMAP_ERR("mmap_anon_len0_einval",
                       mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                       EINVAL);
        int pfd = open(path, O_PATH);
        CHECK("open_o_path", pfd >= 0);
        CHECK_MMAP_ERR("mmap_o_path_ebadf",
                       mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, pfd, 0), EBADF);
        /* LTP open13: an O_PATH descriptor is refused (the system calls
         * themselves: musl's wrappers retry through /proc/self/fd) */
        CHECK_ERR("fchmod_o_path_ebadf", syscall(SYS_fchmod, pfd, 0644), EBADF);
        CHECK_ERR("fchown_o_path_ebadf", syscall(SYS_fchown, pfd, 0, 0), EBADF);
        CHECK_ERR("ioctl_o_path_ebadf", ioctl(pfd, FIOCLEX), EBADF);
        struct stat st;
        CHECK("fstat_o_path_works", fstat(pfd, &st) == 0 && S_ISREG(st.st_mode));
        close(pfd);
        fd = open(path, O_RDWR);
        CHECK_MMAP_ERR("mmap_open_fd_len0_einval",
                       mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
        /* MAP_SHARED_VALIDATE: unknown bits are EOPNOTSUPP (LTP mmap20) */
        CHECK("ftruncate", ftruncate(fd, 4096) == 0);
        CHECK_MMAP_ERR("validate_bit_0x400_eopnotsupp",
                       mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE | 0x400, fd, 0),
                       EOPNOTSUPP);
        CHECK_MMAP_ERR("validate_map_sync_eopnotsupp",
                       mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE | 0x80000, fd, 0),
                       EOPNOTSUPP);
        void *v = mmap(NULL, 4096, PROT_READ,
                       MAP_SHARED_VALIDATE | MAP_NORESERVE | MAP_DENYWRITE, fd, 0);
        CHECK("validate_known_flags_map", v != MAP_FAILED);
        if (v != MAP_FAILED)
                munmap(v, 4096);
        close(fd);

        /* O_NOATIME: the owner's or CAP_FOWNER's (LTP open02) */
        fd = open(path, O_RDONLY | O_NOATIME);
        CHECK("noatime_root_may", fd >= 0);
        close(fd);
        CHECK("seteuid_nobody", seteuid(65534) == 0);
        CHECK_ERR("noatime_not_owner_eperm", open(path, O_RDONLY | O_NOATIME), EPERM);
        fd = open(path, O_RDONLY);
        CHECK("plain_open_not_owner", fd >= 0);
        CHECK_ERR("setfl_noatime_not_owner_eperm",
                  fcntl(fd, F_SETFL, O_NOATIME), EPERM);
        CHECK("setfl_other_flags_still", fcntl(fd, F_SETFL, O_NONBLOCK) == 0 &&
              (fcntl(fd, F_GETFL) & O_NONBLOCK));
        close(fd);
        CHECK("seteuid_root_back", seteuid(0) == 0);
        unlink(path);

        /* /dev/zero shared from a read-only descriptor (LTP mprotect01) */
        int z = open("/dev/zero", O_RDONLY);
        CHECK("open_dev_zero_rdonly", z >= 0);
        CHECK_MMAP_ERR("zero_shared_write_eacces",
                       mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0),
                       EACCES);
        char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, z, 0);
        CHECK("zero_shared_read_maps", p != MAP_FAILED);
        if (p != MAP_FAILED) {
                CHECK("zero_shared_reads_zero", p[0] == 0 && p[8191] == 0);
                CHECK_ERR("zero_shared_mprotect_write_eacces",
                          mprotect(p, 4096, PROT_WRITE), EACCES);
                CHECK("zero_shared_mprotect_read", mprotect(p, 8192, PROT_NONE) == 0 &&
                      mprotect(p, 8192, PROT_READ) == 0);
                munmap(p, 8192);
        }
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
        CHECK("zero_private_write_maps", p != MAP_FAILED);
        if (p != MAP_FAILED) {
                p[0] = 7;
                CHECK("zero_private_writes", p[0] == 7);
                munmap(p, 4096);
        }
        close(z);
        z = open("/dev/zero", O_RDWR);
        p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, z, 0);
        CHECK("zero_shared_rdwr_mprotect_write", p != MAP_FAILED &&
              mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0);
        if (p != MAP_FAILED) {
                p[1] = 3;
                CHECK("zero_shared_rdwr_writes", p[1] == 3);
                munmap(p, 4096);
        }
        close(z);
}

int main(void)
{
        utest_start("ltp_errnos");
        mmap_checks();
        return utest_done();
}
