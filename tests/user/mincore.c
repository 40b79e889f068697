/*
 * mincore.c - mincore(2): a byte per page, bit 0 set when the page is
 * resident (mapped here, or held by the object behind it: a private copy,
 * a shared object, the file's page cache); Linux's EINVAL, ENOMEM and
 * EFAULT. And mlock, which brings a range in (what mincore then sees).
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define PG 4096

static int resident(const unsigned char *v, int n)
{
        int r = 0;
        for (int i = 0; i < n; i++)
                r |= (v[i] & 1) << i;
        return r;
}

int main(void)
{
        unsigned char vec[8];

        utest_start("mincore");
        char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("anon_untouched", mincore(p, 4 * PG, vec) == 0 &&
              resident(vec, 4) == 0);
        p[PG] = 1;                              /* a private page */
        volatile char c = p[2 * PG];            /* the zero page, mapped */
        (void)c;
        CHECK("anon_touched", mincore(p, 4 * PG, vec) == 0 &&
              resident(vec, 4) == 0x6);
        CHECK("partial_page_length", mincore(p + PG, 1, vec) == 0 &&
              resident(vec, 1) == 1);
        CHECK("dontneed_drops", madvise(p, 4 * PG, MADV_DONTNEED) == 0 &&
              mincore(p, 4 * PG, vec) == 0 && resident(vec, 4) == 0);
        CHECK_ERR("unaligned_einval", mincore(p + 1, PG, vec), EINVAL);
        CHECK("zero_length_anywhere", mincore(p, 0, vec) == 0);
        CHECK_ERR("beyond_user_space_enomem",
                  mincore((void *)0x800000000000UL, PG, vec), ENOMEM);
        CHECK_ERR("vector_kernel_efault",
                  mincore(p, PG, (unsigned char *)0xffff800000000000UL), EFAULT);
        unsigned char *gone = mmap(NULL, PG, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(gone, PG);
        CHECK_ERR("vector_unmapped_efault", mincore(p, PG, gone), EFAULT);

        /* a hole: the bytes before it are written, then ENOMEM */
        p[0] = 1;
        munmap(p + 2 * PG, PG);
        memset(vec, 0xee, sizeof vec);
        CHECK_ERR("hole_enomem", mincore(p, 4 * PG, vec), ENOMEM);
        CHECK("before_hole_written", vec[0] == 1 && vec[1] == 0);
        munmap(p, 4 * PG);
        CHECK_ERR("unmapped_enomem", mincore(p, PG, vec), ENOMEM);

        /* files: the page cache answers, touched here or not */
        char path[64];
        snprintf(path, sizeof path, "/tmp/mincore.%d", (int)getpid());
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        char buf[2 * PG];
        memset(buf, 'x', sizeof buf);
        CHECK("file_written", fd >= 0 && write(fd, buf, sizeof buf) == (long)sizeof buf);
        char *s = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
        CHECK("shared_file_cached", s != MAP_FAILED &&
              mincore(s, 2 * PG, vec) == 0 && resident(vec, 2) == 3);
        char *q = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK("private_file_cached", q != MAP_FAILED &&
              mincore(q, 2 * PG, vec) == 0 && resident(vec, 2) == 3);
        q[0] = 'y';
        CHECK("private_file_copy", mincore(q, 2 * PG, vec) == 0 &&
              resident(vec, 2) == 3 && s[0] == 'x');
        munmap(s, 2 * PG);
        munmap(q, 2 * PG);
        close(fd);
        unlink(path);

        /* shared anonymous memory: a page the child touched is resident
         * for the parent too */
        char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t pid = fork();
        if (pid == 0) {
                sh[PG] = 5;
                _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK("shared_anon_child_touch", mincore(sh, 2 * PG, vec) == 0 &&
              resident(vec, 2) == 2 && sh[PG] == 5);
        munmap(sh, 2 * PG);

        /* mlock faults the range in; munlock; their errors */
        p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("mlock2_onfault_no_fault",
              syscall(SYS_mlock2, p, 4 * PG, 1) == 0 &&
              mincore(p, 4 * PG, vec) == 0 && resident(vec, 4) == 0);
        CHECK_ERR("mlock2_bad_flags_einval", syscall(SYS_mlock2, p, PG, 2), EINVAL);
        CHECK("mlock_unaligned_rounds", mlock(p + PG + 10, PG) == 0 &&
              mincore(p, 4 * PG, vec) == 0 && resident(vec, 4) == 0x6);
        CHECK("mlock_brings_in", mlock(p, 4 * PG) == 0 &&
              mincore(p, 4 * PG, vec) == 0 && resident(vec, 4) == 0xf);
        CHECK("munlock_ok", munlock(p, 4 * PG) == 0);
        CHECK("mlock_len0", mlock(p, 0) == 0);
        munmap(p + 2 * PG, PG);
        CHECK_ERR("mlock_hole_enomem", mlock(p, 4 * PG), ENOMEM);
        CHECK_ERR("munlock_hole_enomem", munlock(p, 4 * PG), ENOMEM);
        struct rlimit old, lim;
        getrlimit(RLIMIT_MEMLOCK, &old);
        lim = old;
        lim.rlim_cur = 2 * PG;
        CHECK("memlock_limit_set", setrlimit(RLIMIT_MEMLOCK, &lim) == 0 &&
              seteuid(65534) == 0);
        CHECK_ERR("mlock_over_limit_enomem", mlock(p, 2 * PG + 1), ENOMEM);
        seteuid(0);
        lim.rlim_cur = 0;
        CHECK("memlock_zero_set", setrlimit(RLIMIT_MEMLOCK, &lim) == 0 &&
              seteuid(65534) == 0);
        CHECK_ERR("mlock_no_limit_eperm", mlock(p, PG), EPERM);
        lim.rlim_cur = PG;
        CHECK("root_back", seteuid(0) == 0 && setrlimit(RLIMIT_MEMLOCK, &lim) == 0);
        CHECK("root_mlock_beyond_limit", mlock(p, 2 * PG) == 0);  /* CAP_IPC_LOCK */
        CHECK("limit_restored", setrlimit(RLIMIT_MEMLOCK, &old) == 0);
        munmap(p, 4 * PG);
        return utest_done();
}
