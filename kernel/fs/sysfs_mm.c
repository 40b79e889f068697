/*
 * sysfs_mm.c - /sys/kernel/mm/transparent_hugepage: the huge-page policy
 * (vm_space.h's vm_thp_policy and vm_thp_defrag) in Linux's formats.
 *
 *   enabled         "always [madvise] never": which areas a fault may
 *                   give a huge page (root may write one of the words);
 *   defrag          "always defer defer+madvise [madvise] never": which
 *                   faults, finding no free huge block, first reclaim
 *                   memory and try again (the others fall back to 4 KiB
 *                   pages at once);
 *   hpage_pmd_size  the huge page's size in bytes (2 MiB; 4 MiB with
 *                   i386's 2-level tables);
 *   shmem_enabled   "always within_size advise [never] deny force": the
 *                   huge-page policy of shared anonymous memory, SysV
 *                   segments and memfds, deny/force overriding every
 *                   tmpfs mount's huge= (vm_object.h, vm_shmem_huge);
 *   use_zero_page   1 (default) or 0: may a read of an empty huge block
 *                   map the huge zero page (vm_object.h)?
 * and /sys/kernel/mm/hugepages/hugepages-<size>kB: the explicit huge-page
 * pool's counters (vm/hugetlb.h), nr_hugepages and nr_overcommit_hugepages
 * writable by root.
 */
#include <mercator/errno.h>
#include <fs/procfs.h>
#include <fs/sysfs.h>
#include <mercator/printk.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

/* In the order Linux lists them; the index is the enum's value. */
static const char *const enabled_words[] = {
        [VM_THP_ALWAYS] = "always", [VM_THP_MADVISE] = "madvise",
        [VM_THP_NEVER] = "never",
};

static const char *const defrag_words[] = {
        [VM_THP_DEFRAG_ALWAYS] = "always", [VM_THP_DEFRAG_DEFER] = "defer",
        [VM_THP_DEFRAG_DEFER_MADVISE] = "defer+madvise",
        [VM_THP_DEFRAG_MADVISE] = "madvise", [VM_THP_DEFRAG_NEVER] = "never",
};

#define NWORDS(a)       (sizeof(a) / sizeof((a)[0]))

static void enabled_show(struct text *t)
{
        sysfs_show_choice(t, enabled_words, NWORDS(enabled_words),
                          (size_t)vm_thp_policy);
}

static long enabled_store(const char *buf, size_t len)
{
        long i = sysfs_pick_choice(buf, len, enabled_words,
                                   NWORDS(enabled_words));

        if (i < 0)
                return -EINVAL;
        vm_thp_policy = (enum vm_thp_policy)i;
        return (long)len;
}

/* shmem_enabled: Linux's words in its order (vm_object.h's enum). */
static const char *const shmem_words[] = {
        [VM_SHMEM_HUGE_ALWAYS] = "always",
        [VM_SHMEM_HUGE_WITHIN_SIZE] = "within_size",
        [VM_SHMEM_HUGE_ADVISE] = "advise", [VM_SHMEM_HUGE_NEVER] = "never",
        [VM_SHMEM_HUGE_DENY] = "deny", [VM_SHMEM_HUGE_FORCE] = "force",
};

static void shmem_show(struct text *t)
{
        sysfs_show_choice(t, shmem_words, NWORDS(shmem_words),
                          (size_t)vm_shmem_enabled);
}

static long shmem_store(const char *buf, size_t len)
{
        long i = sysfs_pick_choice(buf, len, shmem_words, NWORDS(shmem_words));

        if (i < 0)
                return -EINVAL;
        vm_shmem_enabled_set((enum vm_shmem_huge)i);
        return (long)len;
}

static void defrag_show(struct text *t)
{
        sysfs_show_choice(t, defrag_words, NWORDS(defrag_words),
                          (size_t)vm_thp_defrag);
}

static long defrag_store(const char *buf, size_t len)
{
        long i = sysfs_pick_choice(buf, len, defrag_words,
                                   NWORDS(defrag_words));

        if (i < 0)
                return -EINVAL;
        vm_thp_defrag = (enum vm_thp_defrag)i;
        return (long)len;
}

static void pmd_size_show(struct text *t)
{
        text_add(t, "%" PRIu64 "\n", pmap_huge_size());
}

static void zero_page_show(struct text *t)
{
        text_add(t, "%d\n", vm_thp_use_zero_page);
}

/* Linux's kstrtoul: a decimal number, one newline allowed; 0 or 1. */
static long zero_page_store(const char *buf, size_t len)
{
        if (sysfs_streq(buf, len, "0"))
                vm_thp_use_zero_page = false;
        else if (sysfs_streq(buf, len, "1"))
                vm_thp_use_zero_page = true;
        else
                return -EINVAL;
        return (long)len;
}

const struct sysfs_node sysfs_thp_dir[] = {
        SYSFS_RW("defrag", defrag_show, defrag_store),
        SYSFS_RW("enabled", enabled_show, enabled_store),
        SYSFS_RO("hpage_pmd_size", pmd_size_show),
        SYSFS_RW("shmem_enabled", shmem_show, shmem_store),
        SYSFS_RW("use_zero_page", zero_page_show, zero_page_store),
        { 0 },
};

/* ---- kernel/mm/hugepages/hugepages-<size>kB: the pool (vm/hugetlb.h) ---- */

/* Linux's kstrtoul: decimal digits, one newline allowed. */
static long parse_count(const char *buf, size_t len, uint64_t *out)
{
        uint64_t v = 0;
        size_t i = 0;

        if (len && buf[len - 1] == '\n')
                len--;
        if (i < len && buf[i] == '+')
                i++;
        if (i == len)
                return -EINVAL;
        for (; i < len; i++) {
                if (buf[i] < '0' || buf[i] > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(buf[i] - '0');
        }
        *out = v;
        return 0;
}

/* The sysfs file shows every page the pool holds, surplus included;
 * the sysctl the persistent count (Linux's nr_hugepages_show and
 * hugetlb_sysctl_handler). */
static void nr_show(struct text *t)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.nr);
}

static long nr_store(const char *buf, size_t len)
{
        uint64_t v;
        long err = parse_count(buf, len, &v);

        if (err)
                return err;
        (void)hugetlb_set_count(v);
        return (long)len;
}

static void free_show(struct text *t)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.free);
}

static void resv_show(struct text *t)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.resv);
}

static void surplus_show(struct text *t)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.surplus);
}

static void overcommit_show(struct text *t)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.overcommit);
}

static long overcommit_store(const char *buf, size_t len)
{
        uint64_t v;
        long err = parse_count(buf, len, &v);

        if (err)
                return err;
        hugetlb_pool.overcommit = v;
        return (long)len;
}

static const struct sysfs_node hugepages_size_dir[] = {
        SYSFS_RO("free_hugepages", free_show),
        SYSFS_RW("nr_hugepages", nr_show, nr_store),
        SYSFS_RW("nr_hugepages_mempolicy", nr_show, nr_store),
        SYSFS_RW("nr_overcommit_hugepages", overcommit_show, overcommit_store),
        SYSFS_RO("resv_hugepages", resv_show),
        SYSFS_RO("surplus_hugepages", surplus_show),
        { 0 },
};

/* "hugepages-2048kB" (4096kB on i386's 2-level tables): named at boot. */
static char size_dir_name[32] = "hugepages-2048kB";

void sysfs_hugepages_init(void)
{
        ksnprintf(size_dir_name, sizeof size_dir_name, "hugepages-%" PRIu64 "kB",
                  pmap_huge_size() >> 10);
}

const struct sysfs_node sysfs_hugepages_dir[] = {
        SYSFS_DIR(size_dir_name, hugepages_size_dir),
        { 0 },
};
