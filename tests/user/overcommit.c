/*
 * overcommit - commit accounting and vm.overcommit_memory as Linux's
 * (issue 16): /proc/meminfo's Committed_AS moves by exactly the pages each
 * kind of mapping charges (private writable, read-only then mprotect,
 * MAP_NORESERVE, shared anonymous, SysV segments with and without
 * SHM_NORESERVE, brk, mremap, fork), CommitLimit follows overcommit_ratio
 * and overcommit_kbytes, and the three modes refuse what Linux refuses
 * with ENOMEM (mmap, brk, mprotect, mremap, fork, shmget). tmpfs and
 * memfd pages, and shared memory made with MAP_NORESERVE/SHM_NORESERVE,
 * are charged page by page as they come and go (Linux's shmem_acct_block);
 * in mode 2 such a page past the limit is ENOSPC for write() and
 * fallocate, SIGBUS for a fault (Linux's per-CPU count may let a few
 * hundred pages more through: the bounds allow it).
 *
 * The sysctls are the machine's: on the host (not booted by tools/run)
 * only the files are read; the rest runs where tools/run booted it as
 * /init - on Linux in QEMU first (the referee, USER_ON_LINUX_VM), then on
 * Mercator - where nothing else commits memory while it looks. meminfo is
 * read with read(2) into a static buffer, so reading it commits nothing.
 * Mercator reads a file of the initramfs from the archive as its pages
 * are first used and charges each then (Linux charged the whole file when
 * it unpacked it), so the program first reads every page of its own
 * file mappings: code it runs later would move Committed_AS under the
 * checks (seen with the bigger glibc binaries of the i386 and riscv64
 * tiers).
 */
#include "utest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define PG 4096L
#define KB(pages) ((pages) * (PG / 1024))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static char mbuf[8192];

/* A /proc/meminfo field in kB, read without allocating; -1 if absent. */
static long meminfo(const char *name)
{
        int fd = open("/proc/meminfo", O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, mbuf, sizeof mbuf - 1) : -1;
        size_t len = strlen(name);

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        mbuf[n] = '\0';
        for (char *p = mbuf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
                if (!strncmp(p, name, len) && p[len] == ':')
                        return strtol(p + len + 1, NULL, 10);
        return -1;
}

static long committed(void)
{
        return meminfo("Committed_AS");
}

static long sysctl_get(const char *name)
{
        char path[128], b[64];
        int fd;
        ssize_t n;

        snprintf(path, sizeof path, "/proc/sys/vm/%s", name);
        fd = open(path, O_RDONLY);
        n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        b[n] = '\0';
        return strtol(b, NULL, 10);
}

/* Write text to a sysctl: 0, or the errno. */
static int sysctl_write(const char *name, const char *text)
{
        char path[128];

        snprintf(path, sizeof path, "/proc/sys/vm/%s", name);
        return write_text(path, text);
}

static int sysctl_set(const char *name, long v)
{
        char b[32];

        snprintf(b, sizeof b, "%ld\n", v);
        return sysctl_write(name, b);
}

/* Is this Linux 6.1 or older (as its release says)? */
static int linux_before_6_2(void)
{
        struct utsname u;
        int major = 0, minor = 0;

        uname(&u);
        sscanf(u.release, "%d.%d", &major, &minor);
        return major < 6 || (major == 6 && minor < 2);
}

static void *map(long pages, int prot, int flags)
{
        return mmap(NULL, pages * PG, prot, flags | MAP_ANONYMOUS, -1, 0);
}

/* ---- everywhere: the files ------------------------------------------------- */

static void files(void)
{
        long mode = sysctl_get("overcommit_memory");

        CHECK("mode_readable", mode >= 0 && mode <= 2);
        CHECK("ratio_readable", sysctl_get("overcommit_ratio") >= 0);
        CHECK("kbytes_readable", sysctl_get("overcommit_kbytes") >= 0);
        CHECK("meminfo_commit_limit", meminfo("CommitLimit") > 0);
        CHECK("meminfo_committed_as", meminfo("Committed_AS") > 0);
}

/* Read one byte of every page of this process's file mappings (its own
 * binary), so that none is first read from the initramfs while the
 * counters are compared (see the top). */
static void own_file_pages_in(void)
{
        char line[512];
        FILE *f = fopen("/proc/self/maps", "r");
        volatile char sink = 0;

        if (!f)
                return;
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                char perms[8];

                if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
                    perms[0] != 'r' || !strchr(line, '/'))
                        continue;
                for (unsigned long a = lo; a < hi; a += PG)
                        sink += *(volatile char *)a;
        }
        fclose(f);
        (void)sink;
}

/* ---- booted: the counters ------------------------------------------------- */

static void charges(void)
{
        long c0 = committed(), c;
        char *p, *q;

        p = map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        CHECK("private_writable_charged", committed() - c0 == KB(64));
        munmap(p + 16 * PG, 16 * PG);
        CHECK("partial_munmap_uncharges", committed() - c0 == KB(48));
        munmap(p, 64 * PG);
        CHECK("munmap_uncharges", committed() == c0);

        p = map(64, PROT_READ, MAP_PRIVATE);
        CHECK("read_only_not_charged", committed() == c0);
        mprotect(p, 32 * PG, PROT_READ | PROT_WRITE);
        CHECK("mprotect_write_charges", committed() - c0 == KB(32));
        mprotect(p, 64 * PG, PROT_READ | PROT_WRITE);
        CHECK("mprotect_charges_once", committed() - c0 == KB(64));
        p[0] = 1;                               /* now it has a page */
        mprotect(p, 64 * PG, PROT_READ);
        CHECK("charge_stays_after_write_goes", committed() - c0 == KB(64));
        munmap(p, 64 * PG);
        CHECK("back_to_start", committed() == c0);

        /* Anonymous memory that never had a page gives its charge back
         * when it loses write in newer Linux (6.18 here: mprotect_fixup
         * drops VM_ACCOUNT without an anon_vma) and in Mercator; Linux
         * 6.1, the referee in QEMU, keeps it. */
        p = map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        mprotect(p, 64 * PG, PROT_READ);
        CHECK("untouched_write_loss_as_this_linux",
              committed() - c0 == (linux_before_6_2() ? KB(64) : 0));
        munmap(p, 64 * PG);

        p = map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
        CHECK("noreserve_not_charged", committed() == c0);
        munmap(p, 64 * PG);

        p = map(64, PROT_READ | PROT_WRITE, MAP_SHARED);
        q = map(64, PROT_READ, MAP_SHARED);
        CHECK("shared_anonymous_charged", committed() - c0 == KB(128));
        munmap(p, 64 * PG);
        munmap(q, 64 * PG);
        CHECK("shared_anonymous_uncharged", committed() == c0);

        int id = shmget(IPC_PRIVATE, 64 * PG, IPC_CREAT | 0600);
        CHECK("shmget_charged_at_creation", id >= 0 && committed() - c0 == KB(64));
        p = shmat(id, NULL, 0);
        CHECK("shmat_charges_nothing", committed() - c0 == KB(64));
        shmctl(id, IPC_RMID, NULL);
        CHECK("segment_kept_while_attached", committed() - c0 == KB(64));
        shmdt(p);
        CHECK("segment_gone_uncharged", committed() == c0);
        id = shmget(IPC_PRIVATE, 64 * PG, IPC_CREAT | SHM_NORESERVE | 0600);
        CHECK("shm_noreserve_not_charged", id >= 0 && committed() == c0);
        shmctl(id, IPC_RMID, NULL);

        long brk0 = syscall(SYS_brk, 0);
        long top = (brk0 + PG - 1) & ~(PG - 1);
        c = committed();
        CHECK("brk_grows", syscall(SYS_brk, top + 32 * PG) == top + 32 * PG);
        CHECK("brk_charged", committed() - c == KB(32));
        syscall(SYS_brk, top);
        CHECK("brk_shrink_uncharges", committed() == c);

        p = map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        q = mremap(p, 64 * PG, 128 * PG, MREMAP_MAYMOVE);
        CHECK("mremap_grow_charged", q != MAP_FAILED &&
              committed() - c0 == KB(128));
        q = mremap(q, 128 * PG, 32 * PG, 0);
        CHECK("mremap_shrink_uncharges", q != MAP_FAILED &&
              committed() - c0 == KB(32));
        munmap(q, 32 * PG);
}

static char one_page[PG];

/* tmpfs, memfd and noreserve shared memory: charged page by page. */
static void shmem_charges(void)
{
        long c0 = committed();
        int fd = (int)syscall(SYS_memfd_create, "overcommit", 0);
        int n = 0;
        char *p;

        memset(one_page, 1, PG);
        for (int i = 0; i < 32; i++)
                n += write(fd, one_page, PG) == PG;
        CHECK("memfd_pages_charged", n == 32 && committed() - c0 == KB(32));
        CHECK("memfd_truncate_uncharges", ftruncate(fd, 16 * PG) == 0 &&
              committed() - c0 == KB(16));
        CHECK("memfd_size_charges_nothing", ftruncate(fd, 64 * PG) == 0 &&
              committed() - c0 == KB(16));
        p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK("memfd_mapped", p != MAP_FAILED);
        if (p != MAP_FAILED) {
                p[40 * PG] = 1;
                CHECK("memfd_fault_charges_its_page",
                      committed() - c0 == KB(17));
                munmap(p, 64 * PG);
        }
        close(fd);
        CHECK("memfd_gone_uncharged", committed() == c0);

        fd = open("/dev/shm/overcommit_test", O_CREAT | O_RDWR | O_TRUNC, 0600);
        n = 0;
        for (int i = 0; i < 8; i++)
                n += write(fd, one_page, PG) == PG;
        CHECK("tmpfs_file_pages_charged", fd >= 0 && n == 8 &&
              committed() - c0 == KB(8));
        unlink("/dev/shm/overcommit_test");
        close(fd);
        CHECK("tmpfs_file_gone_uncharged", committed() == c0);

        p = map(64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE);
        CHECK("shared_noreserve_untouched_not_charged", committed() == c0);
        for (int i = 0; i < 8; i++)
                p[i * 2 * PG] = 1;
        CHECK("shared_noreserve_charged_per_page", committed() - c0 == KB(8));
        munmap(p, 64 * PG);
        CHECK("shared_noreserve_unmapped_uncharged", committed() == c0);

        int id = shmget(IPC_PRIVATE, 64 * PG, IPC_CREAT | SHM_NORESERVE | 0600);
        p = id >= 0 ? shmat(id, NULL, 0) : (void *)-1;
        if (id >= 0)
                shmctl(id, IPC_RMID, NULL);
        CHECK("shm_noreserve_attached", p != (void *)-1);
        if (p != (void *)-1) {
                for (int i = 0; i < 4; i++)
                        p[i * PG] = 1;
                CHECK("shm_noreserve_charged_per_page",
                      committed() - c0 == KB(4));
                shmdt(p);
        }
        CHECK("shm_noreserve_gone_uncharged", committed() == c0);
}

/* The pages of the caller's areas that Linux marks "ac" (VM_ACCOUNT) in
 * smaps: what fork charges again for the child. Read with read(2). */
static long charged_areas_kb(void)
{
        static char sbuf[1 << 17];
        int fd = open("/proc/self/smaps", O_RDONLY);
        long total = 0, size = 0, n = 0, r;

        while (fd >= 0 && (r = read(fd, sbuf + n, sizeof sbuf - 1 - n)) > 0)
                n += r;
        if (fd >= 0)
                close(fd);
        sbuf[n] = '\0';
        for (char *l = sbuf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
                if (!strncmp(l, "Size:", 5))
                        size = strtol(l + 5, NULL, 10);
                if (!strncmp(l, "VmFlags:", 8)) {
                        char *e = strchr(l, '\n');
                        char *ac = strstr(l, " ac");
                        if (ac && (!e || ac < e))
                                total += size;
                }
        }
        return total;
}

static void fork_charges(void)
{
        int fds[2];
        long before, after = -1, own;
        char *p = map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        pid_t pid;
        int status;

        p[0] = 1;
        if (pipe(fds))
                return;
        own = charged_areas_kb();
        before = committed();
        pid = fork();
        if (pid == 0) {
                long c = committed();
                if (write(fds[1], &c, sizeof c) != sizeof c)
                        _exit(2);
                _exit(0);
        }
        if (read(fds[0], &after, sizeof after) != sizeof after)
                after = -1;
        waitpid(pid, &status, 0);
        close(fds[0]);
        close(fds[1]);
        CHECK("smaps_ac_sum_known", own >= KB(64));
        CHECK("fork_charges_the_childs_copies", after - before == own);
        if (after - before != own)
                printf("NOTE overcommit: fork charged %ld kB, ac areas %ld kB\n",
                       after - before, own);
        CHECK("exit_uncharges_the_child", committed() == before);
        munmap(p, 64 * PG);
}

/* ---- booted: the sysctls --------------------------------------------------- */

static void sysctls(void)
{
        long mem = meminfo("MemTotal"), swap = meminfo("SwapTotal");

        CHECK("mode_3_einval", sysctl_write("overcommit_memory", "3\n") == EINVAL);
        CHECK("mode_minus_einval", sysctl_write("overcommit_memory", "-1\n") == EINVAL);
        CHECK("mode_text_einval", sysctl_write("overcommit_memory", "x\n") == EINVAL);
        CHECK("mode_unchanged", sysctl_get("overcommit_memory") == 0);
        CHECK("ratio_set", sysctl_set("overcommit_ratio", 60) == 0 &&
              sysctl_get("overcommit_ratio") == 60);
        CHECK("commit_limit_ratio", meminfo("CommitLimit") ==
              KB(mem / KB(1) * 60 / 100 + swap / KB(1)));
        CHECK("kbytes_set", sysctl_set("overcommit_kbytes", 100000) == 0 &&
              sysctl_get("overcommit_kbytes") == 100000);
        CHECK("kbytes_clears_ratio", sysctl_get("overcommit_ratio") == 0);
        CHECK("commit_limit_kbytes", meminfo("CommitLimit") ==
              KB(100000 / KB(1) + swap / KB(1)));
        CHECK("ratio_clears_kbytes", sysctl_set("overcommit_ratio", 50) == 0 &&
              sysctl_get("overcommit_kbytes") == 0);
        CHECK("commit_limit_default", meminfo("CommitLimit") ==
              KB(mem / KB(1) * 50 / 100 + swap / KB(1)));
}

/* ---- booted: the modes ------------------------------------------------------ */

/*
 * Mode 2 with L pages left below CommitLimit (the user reserve off). Linux
 * checks its per-CPU commit counter's global part, which may lag the sum
 * by a batch (max(RAM pages / CPUs / 256, 32) in mode 2) but takes in a
 * CPU's part whenever a charge reaches the batch: with L at least twice
 * the batch every request here is judged on the exact sum, as LTP's
 * overcommit_memory allows for (TotalBatchSize). Mercator has one counter.
 */
static long L;

static long strict(void)
{
        long swap = meminfo("SwapTotal");

        sysctl_set("user_reserve_kbytes", 0);
        sysctl_set("overcommit_kbytes", committed() + KB(L) - swap);
        sysctl_set("overcommit_memory", 2);
        return meminfo("CommitLimit") - committed();
}

static void relaxed(void)
{
        sysctl_set("overcommit_kbytes", committed() + KB(16 * L));
}

static void mode_never(void)
{
        long left, br;
        void *a, *b, *n, *s;
        char *p;
        int e1, e2, e3, e4, id, id2, ok;
        pid_t pid;

        L = MAX(4 * MAX(meminfo("MemTotal") / KB(1) / 256, 32), 1024);
        left = strict();
        a = map(L, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        e1 = errno;
        b = map(L - 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        relaxed();
        CHECK("never_left_as_set", left == KB(L));
        CHECK("never_refuses_at_limit", a == MAP_FAILED && e1 == ENOMEM);
        CHECK("never_accepts_below", b != MAP_FAILED);
        if (b != MAP_FAILED)
                munmap(b, (L - 1) * PG);

        strict();
        n = map(L, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
        e1 = errno;
        s = map(L, PROT_READ | PROT_WRITE, MAP_SHARED);
        e2 = errno;
        id = shmget(IPC_PRIVATE, L * PG, IPC_CREAT | 0600);
        e3 = errno;
        id2 = shmget(IPC_PRIVATE, L * PG, IPC_CREAT | SHM_NORESERVE | 0600);
        e4 = errno;
        relaxed();
        CHECK("never_ignores_noreserve", n == MAP_FAILED && e1 == ENOMEM);
        CHECK("never_refuses_shared", s == MAP_FAILED && e2 == ENOMEM);
        CHECK("never_refuses_shmget", id == -1 && e3 == ENOMEM);
        CHECK("never_ignores_shm_noreserve", id2 == -1 && e4 == ENOMEM);

        p = map(L, PROT_READ, MAP_PRIVATE);
        strict();
        e1 = mprotect(p, L * PG, PROT_READ | PROT_WRITE) ? errno : 0;
        e2 = mprotect(p, (L - 1) * PG, PROT_READ | PROT_WRITE) ? errno : 0;
        relaxed();
        CHECK("never_refuses_mprotect", e1 == ENOMEM);
        CHECK("never_accepts_mprotect_below", e2 == 0);
        munmap(p, L * PG);

        p = map(100, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        strict();
        a = mremap(p, 100 * PG, (L + 100) * PG, MREMAP_MAYMOVE);
        e1 = errno;
        relaxed();
        CHECK("never_refuses_mremap_grow", a == MAP_FAILED && e1 == ENOMEM);
        munmap(p, 100 * PG);

        br = syscall(SYS_brk, 0);
        strict();
        ok = syscall(SYS_brk, ((br + PG - 1) & ~(PG - 1)) + L * PG) == br;
        relaxed();
        CHECK("never_refuses_brk", ok);

        p = map(L + 100, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        strict();                               /* L left: the copy needs */
        pid = fork();                           /* more */
        if (pid == 0)
                _exit(0);
        e1 = errno;
        relaxed();
        CHECK("never_refuses_fork", pid == -1 && e1 == ENOMEM);
        if (pid > 0)
                waitpid(pid, NULL, 0);
        munmap(p, (L + 100) * PG);
}

/* Mode 2 and pages charged one by one: write() stops with ENOSPC about
 * L pages in (exactly L - 1 on Mercator; Linux's approximate per-CPU
 * count may pass up to a batch, 512 pages at 512 MiB, more), fallocate
 * past the limit is ENOSPC, a fault past it SIGBUS. */
static void never_shmem(void)
{
        int fd = (int)syscall(SYS_memfd_create, "overcommit_never", 0);
        long n = 0;
        int e = 0, fds[2], st = 0;
        char c = 0;
        pid_t pid;

        memset(one_page, 2, PG);
        strict();
        for (; n < 2 * L; n++)
                if (write(fd, one_page, PG) != PG) {
                        e = errno;
                        break;
                }
        relaxed();
        if (!CHECK("never_tmpfs_write_enospc_near_limit",
                   e == ENOSPC && n >= L - 2 && n <= L + 600))
                printf("NOTE overcommit: %ld pages of %ld written, errno %d\n",
                       n, L, e);
        close(fd);

        fd = (int)syscall(SYS_memfd_create, "overcommit_never", 0);
        strict();
        e = fallocate(fd, 0, 0, 2 * L * PG) ? errno : 0;
        relaxed();
        CHECK("never_tmpfs_fallocate_enospc", e == ENOSPC);
        close(fd);

        fd = (int)syscall(SYS_memfd_create, "overcommit_never", 0);
        char *p = mmap(NULL, 2 * L * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
                       fd, 0);
        if (ftruncate(fd, 2 * L * PG) || p == MAP_FAILED || pipe(fds)) {
                CHECK("never_fault_setup", 0);
                return;
        }
        pid = fork();
        if (pid == 0) {
                close(fds[1]);
                if (read(fds[0], &c, 1) != 1)
                        _exit(3);
                for (long i = 0; i < 2 * L; i++)
                        p[i * PG] = 1;
                _exit(0);
        }
        close(fds[0]);
        strict();
        (void)!write(fds[1], "g", 1);
        waitpid(pid, &st, 0);
        relaxed();
        close(fds[1]);
        CHECK("never_tmpfs_fault_sigbus", pid > 0 && WIFSIGNALED(st) &&
              WTERMSIG(st) == SIGBUS);
        munmap(p, 2 * L * PG);
        close(fd);
}

static void mode_guess_and_always(void)
{
        long all = meminfo("MemTotal") + meminfo("SwapTotal");
        void *a, *b;
        int e;

        sysctl_set("overcommit_memory", 0);
        a = map(all / KB(1) + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        e = errno;
        CHECK("guess_refuses_more_than_ram_and_swap", a == MAP_FAILED &&
              e == ENOMEM);
        a = map(all / KB(1) / 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        b = map(all / KB(1) / 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        CHECK("guess_accepts_each_alone", a != MAP_FAILED && b != MAP_FAILED);
        if (a != MAP_FAILED)
                munmap(a, all / KB(1) / 2 * PG);
        if (b != MAP_FAILED)
                munmap(b, all / KB(1) / 2 * PG);
        a = map(all / KB(1) + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
        CHECK("guess_noreserve_not_checked", a != MAP_FAILED);
        if (a != MAP_FAILED)
                munmap(a, (all / KB(1) + 1) * PG);
        sysctl_set("overcommit_memory", 1);
        a = map(all / KB(1) * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        CHECK("always_accepts_anything", a != MAP_FAILED);
        if (a != MAP_FAILED)
                munmap(a, all / KB(1) * 2 * PG);
        sysctl_set("overcommit_memory", 0);
}

int main(void)
{
        long mode, ratio, kbytes, ureserve;

        utest_start("overcommit");
        files();
        if (access("/.mercator-args", F_OK) != 0 || geteuid() != 0) {
                printf("NOTE overcommit: not booted by tools/run as root: the "
                       "sysctls are the host's, not changed here\n");
                return utest_done();
        }
        own_file_pages_in();
        mode = sysctl_get("overcommit_memory");
        ratio = sysctl_get("overcommit_ratio");
        kbytes = sysctl_get("overcommit_kbytes");
        ureserve = sysctl_get("user_reserve_kbytes");
        CHECK("default_mode_0", mode == 0);
        CHECK("default_ratio_50", ratio == 50 && kbytes == 0);
        charges();
        shmem_charges();
        fork_charges();
        sysctls();
        mode_never();
        never_shmem();
        mode_guess_and_always();
        sysctl_set("overcommit_memory", mode);
        sysctl_set("user_reserve_kbytes", ureserve);
        sysctl_set("overcommit_ratio", ratio);
        if (kbytes)
                sysctl_set("overcommit_kbytes", kbytes);
        return utest_done();
}
