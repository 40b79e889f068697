/*
 * mmap_anon.c - anonymous mmap, munmap and mprotect as a process sees them:
 * contents, splitting of partial ranges, MAP_FIXED, hints, and the errno
 * of every bad argument (CONCEPTS E20-E22).
 */
#include "utest.h"

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != v)
                        return 0;
        return 1;
}

static void contents(void)
{
        uint8_t *p = anon(16 * PAGE, PROT_READ | PROT_WRITE);

        CHECK("fresh_memory_reads_zero", all_bytes(p, 16 * PAGE, 0));
        memset(p, 0x5a, 16 * PAGE);
        CHECK("written_memory_reads_back", all_bytes(p, 16 * PAGE, 0x5a));
        CHECK("munmap_whole", munmap(p, 16 * PAGE) == 0);

        uint8_t *r = anon(4 * PAGE, PROT_READ);
        CHECK("read_only_memory_reads_zero", all_bytes(r, 4 * PAGE, 0));
        munmap(r, 4 * PAGE);

        uint8_t *s = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK("shared_anonymous_maps", s != MAP_FAILED);
        s[PAGE] = 7;
        CHECK("shared_anonymous_holds_data", s[PAGE] == 7 && s[0] == 0);
        munmap(s, 3 * PAGE);

        uint8_t *q = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        CHECK("populate_maps", q != MAP_FAILED && all_bytes(q, 8 * PAGE, 0));
        munmap(q, 8 * PAGE);
        q = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        CHECK("noreserve_maps", q != MAP_FAILED);
        q[(1 << 20) - 1] = 1;
        munmap(q, 1 << 20);
}

static void partial_unmap_and_protect(void)
{
        uint8_t *p = anon(4 * PAGE, PROT_READ | PROT_WRITE);

        for (int i = 0; i < 4; i++)
                memset(p + i * PAGE, 'a' + i, PAGE);
        CHECK("munmap_middle_page", munmap(p + PAGE, PAGE) == 0);
        CHECK("neighbours_keep_contents",
              all_bytes(p, PAGE, 'a') && all_bytes(p + 2 * PAGE, PAGE, 'c') &&
              all_bytes(p + 3 * PAGE, PAGE, 'd'));
        CHECK("hole_can_be_mapped_fixed_noreplace",
              mmap(p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                   MAP_FIXED_NOREPLACE, -1, 0) == p + PAGE);
        CHECK("refilled_hole_reads_zero", all_bytes(p + PAGE, PAGE, 0));
        CHECK("mprotect_middle", mprotect(p + 2 * PAGE, PAGE, PROT_READ) == 0);
        p[3 * PAGE] = 'x';
        CHECK("after_mprotect_split_others_writable", p[3 * PAGE] == 'x' && p[0] == 'a');
        CHECK("mprotect_across_split_areas",
              mprotect(p, 4 * PAGE, PROT_READ | PROT_WRITE) == 0);
        p[2 * PAGE] = 'y';
        CHECK("write_after_reprotect", p[2 * PAGE] == 'y');
        CHECK("munmap_across_areas", munmap(p, 4 * PAGE) == 0);
        CHECK("munmap_of_a_hole_is_fine", munmap(p, 4 * PAGE) == 0);
}

static void fixed_and_hints(void)
{
        uint8_t *p = anon(3 * PAGE, PROT_READ | PROT_WRITE);

        memset(p, 1, 3 * PAGE);
        uint8_t *f = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK("map_fixed_returns_address", f == p + PAGE);
        CHECK("map_fixed_replaces_with_zeroes", all_bytes(p + PAGE, PAGE, 0));
        CHECK("map_fixed_keeps_neighbours",
              all_bytes(p, PAGE, 1) && all_bytes(p + 2 * PAGE, PAGE, 1));
        CHECK_MMAP_ERR("fixed_noreplace_refuses_overlap",
                       mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                            MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
        munmap(p, 3 * PAGE);

        void *hint = (void *)0x200000000UL;
        void *h = mmap(hint, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("free_hint_is_honoured", h == hint);
        void *h2 = mmap(hint, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("busy_hint_goes_elsewhere", h2 != MAP_FAILED && h2 != hint);
        munmap(h, PAGE);
        munmap(h2, PAGE);
        void *u = mmap((void *)0x200000123UL, PAGE, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("unaligned_hint_is_rounded", u == (void *)0x200000000UL);
        munmap(u, PAGE);
}

static void bad_arguments(void)
{
        uint8_t *p = anon(2 * PAGE, PROT_READ);
        int ap = MAP_PRIVATE | MAP_ANONYMOUS;

        CHECK_MMAP_ERR("mmap_zero_length", mmap(NULL, 0, PROT_READ, ap, -1, 0), EINVAL);
        CHECK_MMAP_ERR("mmap_no_type", mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
        CHECK_MMAP_ERR("mmap_bad_type", mmap(NULL, PAGE, PROT_READ, 0xf | MAP_ANONYMOUS, -1, 0), EINVAL);
        CHECK_MMAP_ERR("mmap_unaligned_offset", mmap(NULL, PAGE, PROT_READ, ap, -1, 1), EINVAL);
        CHECK_MMAP_ERR("mmap_fixed_unaligned", mmap((void *)0x10001000UL + 1, PAGE, PROT_READ,
                       ap | MAP_FIXED, -1, 0), EINVAL);
        CHECK_MMAP_ERR("mmap_file_bad_fd", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
        CHECK_MMAP_ERR("mmap_file_unopened_fd", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
        CHECK_MMAP_ERR("mmap_huge_length", mmap(NULL, 1UL << 62, PROT_READ, ap, -1, 0), ENOMEM);
        CHECK_MMAP_ERR("mmap_fixed_past_user_half",
                       mmap((void *)0x7ffffffff000UL, 2 * PAGE, PROT_READ, ap | MAP_FIXED, -1, 0), ENOMEM);
        CHECK_MMAP_ERR("mmap_fixed_in_kernel_half",
                       mmap((void *)0xffff800000000000UL, PAGE, PROT_READ, ap | MAP_FIXED, -1, 0), ENOMEM);
        void *k = mmap((void *)0xffff800000000000UL, PAGE, PROT_READ, ap, -1, 0);
        CHECK("kernel_half_hint_is_ignored", k != MAP_FAILED && (uintptr_t)k < 0x800000000000UL);
        munmap(k, PAGE);
        CHECK_MMAP_ERR("shared_validate_anonymous",
                       mmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), EINVAL);

        CHECK_ERR("munmap_zero_length", munmap(p, 0), EINVAL);
        CHECK_ERR("munmap_unaligned", munmap(p + 1, PAGE), EINVAL);
        CHECK_ERR("munmap_past_user_half", munmap((void *)0x7ffffffff000UL, 2 * PAGE), EINVAL);
        CHECK_ERR("munmap_kernel_half", munmap((void *)0xffff800000000000UL, PAGE), EINVAL);

        CHECK_ERR("mprotect_unaligned", syscall(SYS_mprotect, p + 1, PAGE, PROT_READ), EINVAL);
        CHECK_ERR("mprotect_unknown_bits", mprotect(p, PAGE, 0x10), EINVAL);
        CHECK_ERR("mprotect_both_growth_bits",
                  mprotect(p, PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL);
        CHECK_ERR("mprotect_unmapped", mprotect((void *)0x10000000UL, PAGE, PROT_READ), ENOMEM);
        uint8_t *h = anon(3 * PAGE, PROT_READ);
        munmap(h + PAGE, PAGE);
        CHECK_ERR("mprotect_range_with_hole", mprotect(h, 3 * PAGE, PROT_READ), ENOMEM);
        munmap(h, 3 * PAGE);
        CHECK("mprotect_zero_length_succeeds", mprotect(p, 0, PROT_READ) == 0);
        CHECK("mprotect_prot_sem_accepted", mprotect(p, PAGE, PROT_READ | 0x8) == 0);
        munmap(p, 2 * PAGE);
}

int main(void)
{
        utest_start("mmap_anon");
        contents();
        partial_unmap_and_protect();
        fixed_and_hints();
        bad_arguments();
        return utest_done();
}
