/*
 * guard_pages.c - madvise MADV_GUARD_INSTALL / MADV_GUARD_REMOVE (Linux
 * 6.13; file mappings 6.15): guard pages inside an area, without a new
 * area. Any access is SIGSEGV with SEGV_MAPERR (SEGV_ACCERR where the
 * area's protection already forbids it), system calls touching them fail
 * with EFAULT; installing drops the pages (private memory reads zeroes
 * after removal, a shared file mapping the file); MADV_DONTNEED and
 * mprotect keep guards, munmap and MAP_FIXED clear them, mremap moves
 * them, fork copies them. EINVAL over a locked area and over [vdso],
 * ENOMEM over a hole (the mapped part is guarded). Needs Linux >= 6.15
 * as referee (the host kernel here is newer).
 */
#include "utest.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL      102
#define MADV_GUARD_REMOVE       103
#endif

#define N       8

static sigjmp_buf probe_env;
static volatile int probe_code;
static void *volatile probe_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)uc;
        probe_code = si->si_code;
        probe_addr = si->si_addr;
        siglongjmp(probe_env, 1);
}

/* Touch p (write or read): 0 if it worked, else the SIGSEGV si_code
 * (and the fault address must be p). */
static int probe(volatile uint8_t *p, int write)
{
        if (sigsetjmp(probe_env, 1)) {
                if (probe_addr != (void *)p)
                        return -1;
                return probe_code;
        }
        if (write)
                *p = 0x77;
        else
                (void)*p;
        return 0;
}

/* Lines of /proc/self/maps. */
static int maps_lines(void)
{
        char line[512];
        int n = 0;
        FILE *f = fopen("/proc/self/maps", "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                n++;
        fclose(f);
        return n;
}

/* The /proc/self/pagemap entry of p (bit 58: a guard page, Linux 6.15). */
static uint64_t pagemap(const void *p)
{
        uint64_t e = 0;
        int fd = open("/proc/self/pagemap", O_RDONLY);

        if (fd >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)p / PAGE * 8)) != 8)
                e = 0;
        if (fd >= 0)
                close(fd);
        return e;
}

static int all(const uint8_t *p, size_t len, uint8_t v)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != v)
                        return 0;
        return 1;
}

/* A child's exit status after probing p: 0 fine, 1 SIGSEGV MAPERR. */
static int child_probe(uint8_t *p)
{
        pid_t pid = fork();
        int st;

        if (pid == 0)
                _exit(probe(p, 1) == SEGV_MAPERR ? 1 : probe(p, 1) ? 2 : 0);
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
                return -1;
        return WEXITSTATUS(st);
}

static void anonymous(void)
{
        uint8_t *a = anon(N * PAGE, PROT_READ | PROT_WRITE);
        int lines;

        memset(a, 0x11, N * PAGE);
        (void)maps_lines();             /* stdio buffers settle first */
        lines = maps_lines();
        CHECK("install", madvise(a + 2 * PAGE, 2 * PAGE, MADV_GUARD_INSTALL) == 0);
        CHECK("install_no_new_area", maps_lines() == lines);
        CHECK("write_mapperr", probe(a + 2 * PAGE, 1) == SEGV_MAPERR);
        CHECK("read_mapperr", probe(a + 3 * PAGE + 100, 0) == SEGV_MAPERR);
        CHECK("neighbours_kept", probe(a + PAGE, 1) == 0 &&
                                 probe(a + 4 * PAGE, 0) == 0 &&
                                 a[4 * PAGE + 1] == 0x11);
        CHECK("install_twice", madvise(a + 2 * PAGE, PAGE, MADV_GUARD_INSTALL) == 0);
        CHECK("pagemap_guard_bit", pagemap(a + 2 * PAGE) >> 58 & 1 &&
                                   !(pagemap(a + 2 * PAGE) >> 63) &&
                                   !(pagemap(a + PAGE) >> 58 & 1));

        /* System calls see EFAULT. */
        int fds[2];
        CHECK("pipe", pipe(fds) == 0);
        CHECK_ERR("write_from_guard", write(fds[1], a + 2 * PAGE, 16), EFAULT);
        CHECK("pipe_fill", write(fds[1], "0123456789abcdef", 16) == 16);
        CHECK_ERR("read_into_guard", read(fds[0], a + 3 * PAGE, 16), EFAULT);
        char tmp[16];
        struct iovec l = { tmp, sizeof tmp }, r = { a + 2 * PAGE, sizeof tmp };
        CHECK_ERR("process_vm_readv", syscall(SYS_process_vm_readv, getpid(),
                                              &l, 1, &r, 1, 0), EFAULT);
        close(fds[0]);
        close(fds[1]);

        /* MADV_DONTNEED and mprotect keep the guard. */
        CHECK("dontneed", madvise(a, N * PAGE, MADV_DONTNEED) == 0);
        CHECK("dontneed_keeps", probe(a + 2 * PAGE, 1) == SEGV_MAPERR);
        CHECK("mprotect_ro", mprotect(a, N * PAGE, PROT_READ) == 0);
        CHECK("ro_read_mapperr", probe(a + 2 * PAGE, 0) == SEGV_MAPERR);
        CHECK("ro_write_accerr", probe(a + 2 * PAGE, 1) == SEGV_ACCERR);
        CHECK("mprotect_rw", mprotect(a, N * PAGE, PROT_READ | PROT_WRITE) == 0);
        CHECK("rw_keeps", probe(a + 3 * PAGE, 1) == SEGV_MAPERR);

        /* fork copies guards; the child's removal is its own. */
        CHECK("fork_child_segv", child_probe(a + 2 * PAGE) == 1);
        CHECK("fork_child_ok", child_probe(a + 5 * PAGE) == 0);

        /* Removal: installing dropped the contents. */
        memset(a, 0x22, 2 * PAGE);
        CHECK("remove", madvise(a, N * PAGE, MADV_GUARD_REMOVE) == 0);
        CHECK("removed_zero", all(a + 2 * PAGE, 2 * PAGE, 0));
        CHECK("removed_others_kept", all(a, 2 * PAGE, 0x22));
        CHECK("removed_writable", probe(a + 2 * PAGE, 1) == 0 &&
                                  a[2 * PAGE] == 0x77);
        CHECK("remove_twice", madvise(a, N * PAGE, MADV_GUARD_REMOVE) == 0);
        CHECK("fork_after_remove", child_probe(a + 2 * PAGE) == 0);

        /* munmap clears, a new mapping there is plain. */
        CHECK("install_again", madvise(a + 6 * PAGE, PAGE, MADV_GUARD_INSTALL) == 0);
        CHECK("munmap", munmap(a + 5 * PAGE, 3 * PAGE) == 0);
        uint8_t *b = mmap(a + 5 * PAGE, 3 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK("remap_fixed", b == a + 5 * PAGE);
        CHECK("unmap_clears", probe(a + 6 * PAGE, 1) == 0);
        CHECK("fixed_clears_install", madvise(a + 7 * PAGE, PAGE, MADV_GUARD_INSTALL) == 0);
        b = mmap(a + 7 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK("fixed_clears", b == a + 7 * PAGE && probe(a + 7 * PAGE, 1) == 0);

        /* mremap moves the guard with the pages. */
        memset(a, 0x33, N * PAGE);
        CHECK("install_move", madvise(a + 4 * PAGE, PAGE, MADV_GUARD_INSTALL) == 0);
        uint8_t *far = anon(2 * N * PAGE, PROT_NONE);
        uint8_t *m = mremap(a, N * PAGE, N * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, far);
        CHECK("mremap", m == far);
        CHECK("moved_guard", probe(m + 4 * PAGE, 0) == SEGV_MAPERR);
        CHECK("moved_data", all(m, 4 * PAGE, 0x33) && all(m + 5 * PAGE, 3 * PAGE, 0x33));
        CHECK("old_gone", probe(a + 4 * PAGE, 0) == SEGV_MAPERR &&
                          probe(a + 4 * PAGE, 0) == SEGV_MAPERR);
        /* Growing it moves it again (to where mmap would put it). */
        uint8_t *g = mremap(m, N * PAGE, 3 * N * PAGE, MREMAP_MAYMOVE);
        CHECK("mremap_grow", g != MAP_FAILED);
        if (g != MAP_FAILED) {
                CHECK("grown_guard", probe(g + 4 * PAGE, 1) == SEGV_MAPERR);
                CHECK("grown_tail_plain", probe(g + 2 * N * PAGE, 1) == 0);
                munmap(g, 3 * N * PAGE);
        }
        munmap(far, 2 * N * PAGE);
}

static void errors(void)
{
        uint8_t *a = anon(4 * PAGE, PROT_READ | PROT_WRITE);

        CHECK_ERR("misaligned", madvise(a + 1, PAGE, MADV_GUARD_INSTALL), EINVAL);
        CHECK("len0", madvise(a, 0, MADV_GUARD_INSTALL) == 0);
        CHECK("mlock", mlock(a, 2 * PAGE) == 0);
        CHECK_ERR("locked_install", madvise(a, 4 * PAGE, MADV_GUARD_INSTALL), EINVAL);
        CHECK("locked_not_guarded", probe(a + PAGE, 1) == 0);
        CHECK("locked_remove", madvise(a, 4 * PAGE, MADV_GUARD_REMOVE) == 0);
        CHECK("unlocked_part", madvise(a + 2 * PAGE, 2 * PAGE, MADV_GUARD_INSTALL) == 0 &&
                               probe(a + 3 * PAGE, 0) == SEGV_MAPERR);
        munlock(a, 2 * PAGE);

        /* A hole: the mapped part is guarded, then ENOMEM. */
        CHECK("unmap_hole", munmap(a + PAGE, PAGE) == 0);
        CHECK_ERR("hole", madvise(a, 4 * PAGE, MADV_GUARD_INSTALL), ENOMEM);
        CHECK("hole_first_guarded", probe(a, 0) == SEGV_MAPERR);
        CHECK_ERR("hole_remove", madvise(a, 4 * PAGE, MADV_GUARD_REMOVE), ENOMEM);
        CHECK("hole_first_removed", probe(a, 0) == 0);
        munmap(a, 4 * PAGE);

        uint8_t *vdso = (uint8_t *)getauxval(AT_SYSINFO_EHDR);
        if (vdso)
                CHECK_ERR("vdso", madvise(vdso, PAGE, MADV_GUARD_INSTALL), EINVAL);
}

/* A tmpfs file: shared and private mappings keep or lose what they
 * should. */
static void files(void)
{
        char path[] = "/tmp/guard_pagesXXXXXX";
        int fd = mkstemp(path);
        static uint8_t buf[N * PAGE];

        CHECK("file_made", fd >= 0);
        unlink(path);
        memset(buf, 0x44, sizeof buf);
        CHECK("file_written", write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
        uint8_t *sh = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        uint8_t *pr = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK("file_mapped", sh != MAP_FAILED && pr != MAP_FAILED);
        if (sh == MAP_FAILED || pr == MAP_FAILED)
                return;
        sh[PAGE] = 0x55;                /* into the file */
        pr[2 * PAGE] = 0x66;            /* a private copy */
        CHECK("shared_install", madvise(sh + PAGE, PAGE, MADV_GUARD_INSTALL) == 0);
        CHECK("private_install", madvise(pr + 2 * PAGE, PAGE, MADV_GUARD_INSTALL) == 0);
        CHECK("shared_segv", probe(sh + PAGE, 0) == SEGV_MAPERR);
        CHECK("private_segv", probe(pr + 2 * PAGE, 0) == SEGV_MAPERR);
        uint8_t c = 0;
        CHECK("file_still_there", pread(fd, &c, 1, PAGE) == 1 && c == 0x55);
        CHECK("shared_remove", madvise(sh, N * PAGE, MADV_GUARD_REMOVE) == 0);
        CHECK("private_remove", madvise(pr, N * PAGE, MADV_GUARD_REMOVE) == 0);
        CHECK("shared_back", sh[PAGE] == 0x55);
        CHECK("private_copy_dropped", pr[2 * PAGE] == 0x44);
        munmap(sh, N * PAGE);
        munmap(pr, N * PAGE);
        close(fd);
}

int main(void)
{
        struct sigaction sa;

        utest_start("guard_pages");
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigaction(SIGSEGV, &sa, NULL);
        anonymous();
        errors();
        files();
        return utest_done();
}
