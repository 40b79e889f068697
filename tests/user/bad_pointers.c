/*
 * bad_pointers.c - system calls given bad user pointers return EFAULT and
 * the process carries on (CONCEPTS E26); memory that is mapped but not yet
 * touched is faulted in, not refused. argv[1] names a readable data file.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>

#define KERNEL_ADDR     ((void *)0xffff800000000000UL)
#define NONCANONICAL    ((void *)0x0000800000000000UL)

static void writes(int fd)
{
        CHECK_ERR("write_from_null", write(fd, NULL, 10), EFAULT);
        CHECK_ERR("write_from_low_address", write(fd, (void *)1, 10), EFAULT);
        CHECK_ERR("write_from_kernel_address", write(fd, KERNEL_ADDR, 10), EFAULT);
        CHECK_ERR("write_from_noncanonical", write(fd, NONCANONICAL, 10), EFAULT);
        CHECK_ERR("write_wrapping_length", write(fd, "x", (size_t)-1), EFAULT);
        uint8_t *p = anon(2 * PAGE, PROT_READ | PROT_WRITE);
        munmap(p + PAGE, PAGE);
        CHECK_ERR("write_running_into_unmapped", write(fd, p + PAGE - 8, 16), EFAULT);
        munmap(p, PAGE);
        CHECK_ERR("write_to_bad_fd", write(99, "x", 1), EBADF);
}

static void reads(const char *path)
{
        char buf[16];
        int fd = open(path, O_RDONLY);

        if (!CHECK("open_data_file", fd >= 0))
                return;
        CHECK_ERR("read_into_null", read(fd, NULL, 8), EFAULT);
        CHECK_ERR("read_into_kernel", read(fd, KERNEL_ADDR, 8), EFAULT);
        CHECK_ERR("read_into_text", read(fd, (void *)reads, 8), EFAULT);
        uint8_t *ro = anon(PAGE, PROT_READ);
        CHECK_ERR("read_into_read_only_mapping", read(fd, ro, 8), EFAULT);
        uint8_t *lazy = anon(4 * PAGE, PROT_READ | PROT_WRITE);
        lseek(fd, 0, SEEK_SET);
        CHECK("read_into_untouched_memory", read(fd, lazy + 3 * PAGE, 5) == 5 &&
              memcmp(lazy + 3 * PAGE, "hello", 5) == 0);
        lseek(fd, 0, SEEK_SET);
        CHECK("read_into_stack", read(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
        struct iovec iov[2] = { { buf, 2 }, { NULL, 3 } };
        lseek(fd, 0, SEEK_SET);
        CHECK("readv_stops_at_bad_vector", readv(fd, iov, 2) == 2);
        CHECK_ERR("readv_bad_iovec_array", readv(fd, (struct iovec *)KERNEL_ADDR, 1), EFAULT);
        struct stat st;
        CHECK("fstat_data_file", fstat(fd, &st) == 0 && st.st_size > 5 && S_ISREG(st.st_mode));
        CHECK_ERR("fstat_to_null", syscall(SYS_fstat, fd, NULL), EFAULT);
        CHECK_ERR("write_to_read_only_fd", write(fd, "x", 1), EBADF);
        CHECK("lseek_end", lseek(fd, 0, SEEK_END) == st.st_size);
        CHECK_ERR("lseek_before_start", lseek(fd, -1, SEEK_SET), EINVAL);
        CHECK_ERR("lseek_bad_whence", lseek(fd, 0, 7), EINVAL);
        CHECK("close_data_file", close(fd) == 0);
        CHECK_ERR("close_twice", close(fd), EBADF);
        munmap(ro, PAGE);
        munmap(lazy, 4 * PAGE);
}

static void paths_and_structs(void)
{
        CHECK_ERR("open_null_path", open(NULL, O_RDONLY), EFAULT);
        CHECK_ERR("open_kernel_path", open(KERNEL_ADDR, O_RDONLY), EFAULT);
        CHECK_ERR("open_missing_file", open("/no/such/file", O_RDONLY), ENOENT);
        CHECK_ERR("open_empty_path", open("", O_RDONLY), ENOENT);
        CHECK_ERR("uname_null", syscall(SYS_uname, NULL), EFAULT);
        CHECK_ERR("clock_gettime_null", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL), EFAULT);
        CHECK_ERR("clock_gettime_bad_clock", syscall(SYS_clock_gettime, 99, KERNEL_ADDR), EINVAL);
        CHECK_ERR("nanosleep_null", syscall(SYS_nanosleep, NULL, NULL), EFAULT);
        struct utsname u;
        CHECK("uname_says_linux_x86_64", uname(&u) == 0 &&
              strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0);
        CHECK_ERR("arch_prctl_kernel_fs", syscall(SYS_arch_prctl, 0x1002, KERNEL_ADDR), EPERM);
        CHECK_ERR("arch_prctl_bad_code", syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
        CHECK_ERR("unknown_syscall_is_enosys", syscall(1000), ENOSYS);
}

static void time_calls(void)
{
        struct timespec a, b, d = { 0, 20 * 1000 * 1000 };

        CHECK("clock_monotonic", clock_gettime(CLOCK_MONOTONIC, &a) == 0);
        CHECK("nanosleep_20ms", nanosleep(&d, NULL) == 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
        CHECK("nanosleep_sleeps_at_least_its_time", ns >= 20 * 1000 * 1000);
        CHECK("clock_realtime_after_2020", clock_gettime(CLOCK_REALTIME, &a) == 0 &&
              a.tv_sec > 1577836800L);
        CHECK("getpid_positive", getpid() > 0);
}

int main(int argc, char **argv)
{
        utest_start("bad_pointers");
        if (argc < 2) {
                printf("FAIL bad_pointers/usage: give a data file\n");
                return 2;
        }
        writes(1);
        reads(argv[1]);
        paths_and_structs();
        time_calls();
        return utest_done();
}
