/*
 * syscall_log.c - system calls Mercator does not have answer ENOSYS.
 * tools/test.py also runs this program with `tools/run --log-missing` and
 * checks that the kernel named each unsupported call in its log.
 */
#include "utest.h"

int main(void)
{
        utest_start("syscall_log");
        /* Beyond the last number: ENOSYS on every kernel. */
        CHECK_ERR("unknown_number_is_enosys", syscall(999), ENOSYS);
        /* io_setup(0, &ctx): EINVAL on Linux, ENOSYS (and logged) on Mercator. */
        unsigned long ctx = 0;
        errno = 0;
        CHECK("io_setup_refused", syscall(SYS_io_setup, 0, &ctx) == -1 &&
                                  (errno == EINVAL || errno == ENOSYS));
        return utest_done();
}
