/*
 * remap_advise_file.c - mremap in every mode keeps contents, madvise
 * DONTNEED really drops pages, unknown advice is EINVAL, what a fork's
 * child gets of DONTFORK and WIPEONFORK memory, and file mappings
 * of a read-only file: private ones copy on write, shared ones read, a
 * writable shared one is EACCES (CONCEPTS E23). argv[1]: a data file.
 */
#include "utest.h"
#include <fcntl.h>

static uint8_t *filled(size_t pages)
{
        uint8_t *p = anon(pages * PAGE, PROT_READ | PROT_WRITE);

        for (size_t i = 0; i < pages * PAGE; i++)
                p[i] = (uint8_t)(i * 7 + 1);
        return p;
}

static int intact(const uint8_t *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != (uint8_t)(i * 7 + 1))
                        return 0;
        return 1;
}

static void remaps(void)
{
        uint8_t *p = filled(4);

        /* grow in place: make room after it first */
        munmap(p + 4 * PAGE, 4 * PAGE);
        uint8_t *q = mremap(p, 4 * PAGE, 2 * PAGE, 0);
        CHECK("mremap_shrink_in_place", q == p && intact(q, 2 * PAGE));
        q = mremap(p, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
        CHECK("mremap_grow_keeps_contents", q != MAP_FAILED && intact(q, 2 * PAGE) &&
              q[8 * PAGE - 1] == 0);
        void *target = (void *)0x260000000UL;
        uint8_t *r = mremap(q, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
        CHECK("mremap_fixed_moves_there", r == target && intact(r, 2 * PAGE));
        CHECK("mremap_fixed_leaves_old_range_unmapped",
              mprotect(q, PAGE, PROT_READ) == -1 && errno == ENOMEM);
        uint8_t *blocker = mmap(r + 8 * PAGE, PAGE, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        CHECK_MMAP_ERR("mremap_grow_blocked_without_maymove",
                       mremap(r, 8 * PAGE, 9 * PAGE, 0), ENOMEM);
        CHECK_MMAP_ERR("mremap_unaligned", mremap(r + 1, PAGE, PAGE, 0), EINVAL);
        CHECK_MMAP_ERR("mremap_fixed_without_maymove",
                       mremap(r, PAGE, PAGE, MREMAP_FIXED, target), EINVAL);
        CHECK_MMAP_ERR("mremap_zero_new_length", mremap(r, PAGE, 0, MREMAP_MAYMOVE), EINVAL);
        CHECK_MMAP_ERR("mremap_bad_flags", mremap(r, PAGE, PAGE, 0x80), EINVAL);
        CHECK_MMAP_ERR("mremap_unmapped_old", mremap((void *)0x270000000UL, PAGE, 2 * PAGE,
                       MREMAP_MAYMOVE), EFAULT);
        CHECK_MMAP_ERR("mremap_overlapping_fixed",
                       mremap(r, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, r + PAGE),
                       EINVAL);
        munmap(blocker, PAGE);
        munmap(r, 8 * PAGE);
}

static void advice(void)
{
        uint8_t *p = filled(4);

        CHECK("madvise_dontneed", madvise(p + PAGE, 2 * PAGE, MADV_DONTNEED) == 0);
        CHECK("dontneed_pages_read_zero_after", p[PAGE] == 0 && p[3 * PAGE - 1] == 0);
        CHECK("other_pages_untouched", intact(p, PAGE) && p[3 * PAGE] == (uint8_t)(3 * PAGE * 7 + 1));
        CHECK("madvise_sequential", madvise(p, 4 * PAGE, MADV_SEQUENTIAL) == 0);
        CHECK("madvise_willneed", madvise(p, 4 * PAGE, MADV_WILLNEED) == 0);
        CHECK_ERR("madvise_unknown_advice", madvise(p, PAGE, 12345), EINVAL);
        CHECK_ERR("madvise_unaligned", madvise(p + 1, PAGE, MADV_NORMAL), EINVAL);
        CHECK("madvise_zero_length", madvise(p, 0, MADV_DONTNEED) == 0);
        munmap(p + PAGE, PAGE);
        CHECK_ERR("madvise_over_a_hole", madvise(p, 4 * PAGE, MADV_NORMAL), ENOMEM);
        munmap(p, 4 * PAGE);
}

/* What a fork's child sees of p's first two pages: 0 both as the parent
 * filled them, 1 unmapped, 2 zeroes; +10 if the child's grandchild does
 * not see zeroes after the child wrote (wipe-on-fork is inherited). */
static int child_view(const uint8_t *p)
{
        unsigned char vec[2];
        pid_t pid = fork();
        int status = -1;

        if (pid == 0) {
                if (mincore((void *)p, 2 * PAGE, vec) == -1 && errno == ENOMEM)
                        _exit(1);
                if (p[0] == 0 && p[2 * PAGE - 1] == 0) {
                        ((uint8_t *)p)[0] = 5;
                        pid_t g = fork();
                        if (g == 0)
                                _exit(p[0] == 0 ? 0 : 1);
                        waitpid(g, &status, 0);
                        _exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 2 : 12);
                }
                _exit(intact(p, 2 * PAGE) ? 0 : 3);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

static void fork_advice(void)
{
        uint8_t *p = filled(2), *q = filled(2);
        uint8_t *sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        CHECK("madvise_dontfork", madvise(p, 2 * PAGE, MADV_DONTFORK) == 0);
        CHECK("dontfork_in_smaps_as_dc", smaps_vm_flag(p, " dc"));
        CHECK("dontfork_area_not_in_child", child_view(p) == 1);
        CHECK("dontfork_parent_keeps_contents", intact(p, 2 * PAGE));
        CHECK("madvise_dofork", madvise(p, 2 * PAGE, MADV_DOFORK) == 0);
        CHECK("dofork_child_sees_contents", child_view(p) == 0);
        CHECK("dofork_clears_dc", !smaps_vm_flag(p, " dc"));
        CHECK("madvise_wipeonfork", madvise(q, 2 * PAGE, MADV_WIPEONFORK) == 0);
        CHECK("wipeonfork_in_smaps_as_wf", smaps_vm_flag(q, " wf"));
        CHECK("wipeonfork_child_and_grandchild_read_zeroes", child_view(q) == 2);
        CHECK("wipeonfork_parent_keeps_contents", intact(q, 2 * PAGE));
        CHECK("madvise_keeponfork", madvise(q, 2 * PAGE, MADV_KEEPONFORK) == 0);
        CHECK("keeponfork_child_sees_contents", child_view(q) == 0);
        CHECK_ERR("wipeonfork_shared_memory_is_einval",
                  madvise(sh, PAGE, MADV_WIPEONFORK), EINVAL);
        CHECK("dontfork_shared_memory", madvise(sh, PAGE, MADV_DONTFORK) == 0);
        munmap(p, 2 * PAGE);
        munmap(q, 2 * PAGE);
        munmap(sh, PAGE);
}

static void files(const char *path)
{
        int fd = open(path, O_RDONLY);
        char head[6] = { 0 };

        if (!CHECK("open_data_file", fd >= 0))
                return;
        uint8_t *s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
        CHECK("shared_read_only_file_mapping", s != MAP_FAILED && memcmp(s, "hello", 5) == 0);
        CHECK("tail_of_last_page_is_zero", s != MAP_FAILED && s[PAGE - 1] == 0);
        uint8_t *pr = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK("private_file_mapping", pr != MAP_FAILED && memcmp(pr, "hello", 5) == 0);
        pr[0] = 'J';
        CHECK("private_write_is_private", pr[0] == 'J' && s[0] == 'h');
        CHECK("file_unchanged_by_private_write", pread(fd, head, 5, 0) == 5 &&
              memcmp(head, "hello", 5) == 0);
        CHECK_ERR("wipeonfork_file_mapping_is_einval",
                  madvise(pr, PAGE, MADV_WIPEONFORK), EINVAL);
        CHECK_MMAP_ERR("writable_shared_map_of_read_only_file",
                       mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
        munmap(s, PAGE);
        munmap(pr, PAGE);
        close(fd);
}

int main(int argc, char **argv)
{
        utest_start("remap_advise_file");
        if (argc < 2)
                return printf("FAIL remap_advise_file/usage\n"), 2;
        remaps();
        advice();
        fork_advice();
        files(argv[1]);
        return utest_done();
}
