/*
 * sysv_shm.c - System V shared memory: shmget's keys, flags and limits,
 * shmat at chosen and kernel-chosen addresses (SHM_RDONLY, SHM_RND,
 * SHM_REMAP), shmdt, shmctl's STAT/SET/RMID/INFO, attach counts across
 * fork and exit, removal at the last detach, and how /proc shows it
 * (/proc/sysvipc/shm, /proc/self/maps) (CONCEPTS E23).
 */
#include "utest.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define SHM_MAX_LINUX   (~0UL - (1UL << 24))

static unsigned long nattch(int id)
{
        struct shmid_ds ds;

        return shmctl(id, IPC_STAT, &ds) == 0 ? ds.shm_nattch : ~0UL;
}

/* The /proc/self/maps line of the area at addr. */
static int maps_line(void *addr, char *line, size_t size)
{
        char want[32], buf[512];
        FILE *f = fopen("/proc/self/maps", "r");
        int found = 0;

        snprintf(want, sizeof want, "%08lx-", (unsigned long)addr);
        while (f && !found && fgets(buf, sizeof buf, f))
                if (strncmp(buf, want, strlen(want)) == 0) {
                        snprintf(line, size, "%s", buf);
                        found = 1;
                }
        if (f)
                fclose(f);
        return found;
}

/* Fields of id's line in /proc/sysvipc/shm. */
struct procline {
        int key, id;
        unsigned perms;
        unsigned long size;
        int cpid, lpid;
        unsigned long nattch;
};

static int proc_shm(int id, struct procline *pl, int *header_ok)
{
        char buf[512];
        FILE *f = fopen("/proc/sysvipc/shm", "r");
        int found = 0;

        if (!f)
                return 0;
        if (fgets(buf, sizeof buf, f))
                *header_ok = strcmp(buf, "       key      shmid perms      "
                                    "            size  cpid  lpid nattch   uid"
                                    "   gid  cuid  cgid      atime      dtime  "
                                    "    ctime                   rss          "
                                    "        swap\n") == 0;
        while (!found && fgets(buf, sizeof buf, f)) {
                struct procline p;
                if (sscanf(buf, "%d %d %o %lu %d %d %lu", &p.key, &p.id,
                           &p.perms, &p.size, &p.cpid, &p.lpid,
                           &p.nattch) == 7 && p.id == id) {
                        *pl = p;
                        found = 1;
                }
        }
        fclose(f);
        return found;
}

static void private_segment(void)
{
        int id = shmget(IPC_PRIVATE, 3 * PAGE + 100, IPC_CREAT | 0640);
        struct shmid_ds ds;

        if (!CHECK("get_private", id >= 0))
                return;
        CHECK("stat", shmctl(id, IPC_STAT, &ds) == 0 &&
              ds.shm_segsz == 3 * PAGE + 100 && ds.shm_nattch == 0 &&
              (ds.shm_perm.mode & 0777) == 0640 && ds.shm_perm.__key == 0 &&
              ds.shm_cpid == getpid() && ds.shm_lpid == 0 &&
              ds.shm_atime == 0 && ds.shm_ctime > 0);
        int other = shmget(IPC_PRIVATE, PAGE, 0600);
        CHECK("private_key_always_new", other >= 0 && other != id);
        shmctl(other, IPC_RMID, NULL);

        uint8_t *a = shmat(id, NULL, 0);
        if (!CHECK("attach_anywhere", a != (void *)-1 &&
                   ((uintptr_t)a & (PAGE - 1)) == 0))
                return;
        CHECK("zero_filled", a[0] == 0 && a[3 * PAGE + 99] == 0);
        CHECK("nattch_1", nattch(id) == 1);
        CHECK("stat_after_attach", shmctl(id, IPC_STAT, &ds) == 0 &&
              ds.shm_lpid == getpid() && ds.shm_atime > 0);
        memset(a, 'x', 4 * PAGE);       /* the whole last page is usable */
        uint8_t *b = shmat(id, NULL, 0);
        CHECK("second_attach_elsewhere", b != (void *)-1 && b != a);
        CHECK("nattch_2", nattch(id) == 2);
        CHECK("same_pages", b[0] == 'x' && b[4 * PAGE - 1] == 'x');
        b[5] = 'y';
        CHECK("write_seen_by_other_attach", a[5] == 'y');

        char line[512], want[512];
        int n = snprintf(want, sizeof want, "%08lx-%08lx rw-s 00000000 00:01 %d ",
                         (unsigned long)a, (unsigned long)(a + 4 * PAGE), id);
        snprintf(want + n, sizeof want - n, "%*s/SYSV00000000 (deleted)\n",
                 n < 73 ? 73 - n : 0, "");
        if (!CHECK("maps_line", maps_line(a, line, sizeof line) &&
                   strcmp(line, want) == 0))
                printf("got  %swant %s", line, want);

        struct procline pl;
        int header_ok = 0;
        CHECK("proc_sysvipc_line", proc_shm(id, &pl, &header_ok) &&
              pl.key == 0 && pl.perms == 0640 && pl.size == 3 * PAGE + 100 &&
              pl.cpid == getpid() && pl.lpid == getpid() && pl.nattch == 2);
        CHECK("proc_sysvipc_header", header_ok);

        CHECK("detach", shmdt(b) == 0 && nattch(id) == 1);
        CHECK_ERR("detach_twice", shmdt(b), EINVAL);
        CHECK_ERR("detach_misaligned", shmdt(a + 1), EINVAL);
        CHECK_ERR("detach_inside", shmdt(a + PAGE), EINVAL);

        /* Removal with an attachment: marked, keyless, still attachable. */
        CHECK("rmid", shmctl(id, IPC_RMID, NULL) == 0);
        CHECK("marked_dest", shmctl(id, IPC_STAT, &ds) == 0 &&
              (ds.shm_perm.mode & SHM_DEST) && ds.shm_nattch == 1);
        b = shmat(id, NULL, SHM_RDONLY);
        CHECK("attach_after_rmid", b != (void *)-1 && b[5] == 'y');
        CHECK("still_there", a[5] == 'y' && nattch(id) == 2);
        shmdt(b);
        CHECK("last_detach", shmdt(a) == 0);
        CHECK_ERR("gone_after_last_detach", shmctl(id, IPC_STAT, &ds), EINVAL);
        CHECK_ERR("attach_gone", shmat(id, NULL, 0), EINVAL);
}

static void keys(void)
{
        key_t key = 0x4d455243 ^ getpid();      /* unlikely to exist */
        int id;

        shmctl(shmget(key, PAGE, 0), IPC_RMID, NULL);
        CHECK_ERR("no_key_no_creat", shmget(key, PAGE, 0600), ENOENT);
        id = shmget(key, 2 * PAGE, IPC_CREAT | 0600);
        CHECK("create_key", id >= 0);
        CHECK("same_key_same_id", shmget(key, 2 * PAGE, IPC_CREAT | 0600) == id &&
              shmget(key, 100, 0) == id && shmget(key, 0, 0) == id);
        CHECK_ERR("excl", shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
        CHECK_ERR("larger_than_existing", shmget(key, 3 * PAGE, 0600), EINVAL);
        CHECK_ERR("size_zero", shmget(IPC_PRIVATE, 0, 0600), EINVAL);
        CHECK_ERR("size_past_shmmax", shmget(IPC_PRIVATE, SHM_MAX_LINUX + 1, 0600),
                  EINVAL);
        CHECK_ERR("bad_id", shmat(-1, NULL, 0), EINVAL);
        CHECK_ERR("stale_id", shmat(id + 32768, NULL, 0), EINVAL);

        struct shmid_ds ds;
        CHECK("stat_key", shmctl(id, IPC_STAT, &ds) == 0 &&
              ds.shm_perm.__key == key);
        ds.shm_perm.mode = 0604;
        ds.shm_perm.uid = 0;
        CHECK("set_mode", shmctl(id, IPC_SET, &ds) == 0 &&
              shmctl(id, IPC_STAT, &ds) == 0 &&
              (ds.shm_perm.mode & 0777) == 0604);
        CHECK_ERR("stat_efault", shmctl(id, IPC_STAT, (void *)8), EFAULT);
        CHECK_ERR("unknown_cmd", shmctl(id, 99, &ds), EINVAL);
        CHECK("rmid_unattached", shmctl(id, IPC_RMID, NULL) == 0);
        CHECK_ERR("key_gone", shmget(key, PAGE, 0600), ENOENT);
        CHECK_ERR("id_gone", shmctl(id, IPC_STAT, &ds), EINVAL);
}

static void addresses(void)
{
        int id = shmget(IPC_PRIVATE, 2 * PAGE, 0600);
        uint8_t *fixed = (uint8_t *)0x260000000UL;
        uint8_t *p;

        CHECK_ERR("misaligned_addr", shmat(id, fixed + 10, 0), EINVAL);
        p = shmat(id, fixed + 10, SHM_RND);
        CHECK("shm_rnd_rounds_down", p == fixed);
        CHECK_ERR("overlap_without_remap", shmat(id, fixed + PAGE, 0), EINVAL);
        CHECK_ERR("remap_without_addr", shmat(id, NULL, SHM_REMAP), EINVAL);
        uint8_t *q = shmat(id, fixed + PAGE, SHM_REMAP);
        CHECK("remap_replaces", q == fixed + PAGE && nattch(id) == 2);
        fixed[0] = 'a';
        CHECK("remapped_page_shows_page_0", q[0] == 'a');
        shmdt(q);
        shmdt(p);
        CHECK("both_detached", nattch(id) == 0);

        /* SHM_RDONLY: readable, a write is SIGSEGV. */
        p = shmat(id, NULL, SHM_RDONLY);
        char line[512];
        CHECK("rdonly_maps", maps_line(p, line, sizeof line) &&
              strncmp(strchr(line, ' ') + 1, "r--s", 4) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                p[0] = 1;
                _exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK("rdonly_write_segv", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        CHECK("rdonly_reads", p[0] == 'a');
        CHECK_ERR("rdonly_mprotect_write_eacces",
                  mprotect(p, PAGE, PROT_READ | PROT_WRITE), EACCES);
        uint8_t *w = shmat(id, NULL, 0);
        CHECK("rw_attach_mprotect", mprotect(w, PAGE, PROT_READ) == 0 &&
              mprotect(w, PAGE, PROT_READ | PROT_WRITE) == 0);
        shmdt(w);
        shmdt(p);
        shmctl(id, IPC_RMID, NULL);
}

/* Mode bits against a process that gave up root. */
static void permissions(void)
{
        key_t key = 0x50455253 ^ getpid();
        int id = shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0640);
        int ro = shmget(IPC_PRIVATE, PAGE, 0604);

        if (!CHECK("perm_setup", id >= 0 && ro >= 0))
                return;
        pid_t pid = fork();
        if (pid == 0) {
                struct shmid_ds ds;
                int bad = 0;
                if (setgid(65534) || setuid(65534))
                        _exit(100);
                errno = 0;
                bad |= !(shmget(key, PAGE, 0600) == -1 && errno == EACCES) << 0;
                bad |= !(shmget(key, 0, 0) == id) << 1;
                errno = 0;
                bad |= !(shmat(id, NULL, SHM_RDONLY) == (void *)-1 &&
                         errno == EACCES) << 2;
                errno = 0;
                bad |= !(shmctl(id, IPC_STAT, &ds) == -1 && errno == EACCES) << 3;
                errno = 0;
                bad |= !(shmctl(id, IPC_RMID, NULL) == -1 && errno == EPERM) << 4;
                void *p = shmat(ro, NULL, SHM_RDONLY);
                bad |= (p == (void *)-1) << 5;
                errno = 0;
                bad |= !(shmat(ro, NULL, 0) == (void *)-1 && errno == EACCES) << 6;
                if (p != (void *)-1)
                        shmdt(p);
                _exit(bad);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (!CHECK("mode_bits_enforced", WIFEXITED(st) && WEXITSTATUS(st) == 0))
                printf("child status %#x\n", st);
        shmctl(id, IPC_RMID, NULL);
        shmctl(ro, IPC_RMID, NULL);
}

static void fork_and_exit(void)
{
        int id = shmget(IPC_PRIVATE, PAGE, 0600);
        int go[2], done[2];
        volatile uint8_t *p = shmat(id, NULL, 0);

        if (pipe(go) || pipe(done))
                return;
        pid_t pid = fork();
        if (pid == 0) {
                char c;
                p[0] = 'c';                     /* shared, not copied */
                write(done[1], "x", 1);
                read(go[0], &c, 1);
                _exit(p[1] == 'p' ? 0 : 1);
        }
        char c;
        read(done[0], &c, 1);
        CHECK("fork_inherits_attach", nattch(id) == 2);
        CHECK("child_write_seen", p[0] == 'c');
        p[1] = 'p';
        write(go[1], "x", 1);
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK("parent_write_seen", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK("exit_drops_attach", nattch(id) == 1);

        /* Removed while the child holds it: goes when the child exits. */
        pid = fork();
        if (pid == 0) {
                read(go[0], &c, 1);
                _exit(p[0] == 'c' ? 0 : 1);
        }
        shmdt((void *)p);
        CHECK("rmid_child_attached", shmctl(id, IPC_RMID, NULL) == 0 &&
              nattch(id) == 1);
        write(go[1], "x", 1);
        waitpid(pid, &st, 0);
        CHECK("child_kept_pages", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        struct shmid_ds ds;
        CHECK_ERR("gone_after_child_exit", shmctl(id, IPC_STAT, &ds), EINVAL);
}

static void info_and_limits(void)
{
        struct shminfo si;
        struct shm_info sinfo;
        struct shmid_ds ds;
        int id = shmget(IPC_PRIVATE, PAGE, 0600);

        int maxidx = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
        CHECK("ipc_info", maxidx >= 0 && si.shmmni == 4096 &&
              si.shmmax == SHM_MAX_LINUX && si.shmall == SHM_MAX_LINUX &&
              si.shmmin == 1);
        CHECK("shm_info", shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo) == maxidx &&
              sinfo.used_ids >= 1);
        int found = 0;
        for (int i = 0; i <= maxidx; i++)
                if (shmctl(i, SHM_STAT, &ds) == id)
                        found = 1;
        CHECK("shm_stat_by_index", found);
        shmctl(id, IPC_RMID, NULL);

        /* SHMMNI: creation stops with ENOSPC, and everything comes back. */
        static int ids[4097];
        int n = 0;
        errno = 0;
        while (n < 4097 && (ids[n] = shmget(IPC_PRIVATE, PAGE, 0600)) >= 0)
                n++;
        CHECK("shmmni_enospc", n <= 4096 && errno == ENOSPC);
        for (int i = 0; i < n; i++)
                shmctl(ids[i], IPC_RMID, NULL);
        id = shmget(IPC_PRIVATE, PAGE, 0600);
        CHECK("after_limit_again", id >= 0);
        shmctl(id, IPC_RMID, NULL);
}

int main(void)
{
        utest_start("sysv_shm");
        private_segment();
        keys();
        addresses();
        permissions();
        fork_and_exit();
        info_and_limits();
        return utest_done();
}
