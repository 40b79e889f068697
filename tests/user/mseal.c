/*
 * mseal.c - mseal(2) (Linux 6.10): a sealed range can no longer be
 * unmapped, moved, resized, reprotected or mapped over, and its
 * read-only private anonymous pages not discarded by madvise; what is
 * outside the seal still can; a fork's child keeps the seal; bad calls
 * get Linux's errors. On a Linux without mseal (ENOSYS: the i386 and
 * riscv64 referees' 6.1) it says so and checks nothing else.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <sys/utsname.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

static long seal(void *p, size_t len, unsigned long flags)
{
        return syscall(SYS_mseal, p, len, flags);
}

int main(void)
{
        utest_start("mseal");
        uint8_t *p = anon(4 * PAGE, PROT_READ | PROT_WRITE);

        if (seal(p, PAGE, 0) != 0 && errno == ENOSYS) {
                struct utsname u;
                printf("NOTE mseal: no mseal here (ENOSYS)\n");
                /* Mercator has it on every architecture */
                CHECK("mseal_on_mercator", uname(&u) == 0 &&
                      !strstr(u.release, "mercator"));
                return utest_done();
        }
        /* the call above sealed p's first page; now pages 1-2 too */
        p[PAGE] = 'a';
        CHECK("seal_two_more_pages", seal(p + PAGE, 2 * PAGE, 0) == 0);
        CHECK("smaps_says_sl", smaps_vm_flag(p, " sl") && !smaps_vm_flag(p + 3 * PAGE, " sl"));
        CHECK_ERR("munmap_sealed_eperm", munmap(p + PAGE, PAGE), EPERM);
        CHECK_ERR("mprotect_sealed_eperm", mprotect(p, PAGE, PROT_READ), EPERM);
        CHECK_MMAP_ERR("mremap_sealed_eperm", mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE),
                       EPERM);
        CHECK_MMAP_ERR("map_fixed_over_sealed_eperm",
                       mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                            -1, 0), EPERM);
        CHECK("writable_sealed_dontneed_allowed",
              madvise(p + PAGE, PAGE, MADV_DONTNEED) == 0 && p[PAGE] == 0);
        CHECK("unsealed_page_still_unmaps", munmap(p + 3 * PAGE, PAGE) == 0);
        CHECK("sealed_pages_still_written", (p[2 * PAGE] = 'w') == 'w');
        /* read-only sealed private memory: its contents are kept */
        uint8_t *r = anon(2 * PAGE, PROT_READ | PROT_WRITE);
        r[0] = 'r';
        CHECK("readonly_then_seal", mprotect(r, 2 * PAGE, PROT_READ) == 0 &&
              seal(r, 2 * PAGE, 0) == 0);
        CHECK_ERR("readonly_sealed_dontneed_eperm", madvise(r, PAGE, MADV_DONTNEED), EPERM);
        CHECK("readonly_sealed_kept", r[0] == 'r');
        CHECK("readonly_sealed_willneed_allowed", madvise(r, PAGE, MADV_WILLNEED) == 0);
        /* a fork's child keeps the seal */
        pid_t pid = fork();
        if (pid == 0)
                _exit(munmap(p, PAGE) == -1 && errno == EPERM ? 0 : 1);
        int st = -1;
        CHECK("fork_child_keeps_seal", pid > 0 && waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* errors */
        CHECK_ERR("flags_einval", seal(p, PAGE, 1), EINVAL);
        CHECK_ERR("unaligned_einval", seal(p + 1, PAGE, 0), EINVAL);
        uint8_t *q = anon(3 * PAGE, PROT_READ | PROT_WRITE);
        munmap(q + PAGE, PAGE);
        CHECK_ERR("hole_enomem", seal(q, 3 * PAGE, 0), ENOMEM);
        CHECK("hole_seals_nothing", munmap(q, PAGE) == 0 && munmap(q + 2 * PAGE, PAGE) == 0);
        CHECK("len_zero_ok", seal(p, 0, 0) == 0);
        return utest_done();
}
