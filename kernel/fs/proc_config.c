/*
 * proc_config.c - /proc/config.gz (Linux's CONFIG_IKCONFIG_PROC): the
 * kernel's configuration in Linux's .config syntax, gzip-compressed, for
 * programs that decide by it what to expect (LTP's needs_kconfigs).
 *
 * Mercator has no build-time configuration, so the file says which Linux
 * features this kernel has. So that it cannot claim what is not there,
 * every "=y" line names the function that implements the feature: the
 * table does not link without it. Features LTP asks about that Mercator
 * lacks are listed as "is not set" (any other is absent, which Linux's
 * tools read the same way).
 *
 * The gzip stream (RFC 1952) holds one deflate block of the stored kind
 * (RFC 1951, BTYPE 00): no compression, which every inflater reads.
 */
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/version.h>
#include <machine/elf.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/coredump.h>
#include <proc/syscall.h>
#include <vm/memcg.h>
#include <vm/userfaultfd.h>
#include <vm/vm_space.h>

typedef void (*impl_fn)(void);

struct kconfig_line {
        const char *name;
        impl_fn     impl;       /* what implements it; NULL: not set */
};

#define Y(name, fn)     { name, (impl_fn)(fn) }
#define N(name)         { name, NULL }

static const struct kconfig_line lines[] = {
        Y("CONFIG_MMU", vm_fault),
        Y("CONFIG_ADVISE_SYSCALLS", vm_space_advise),
        Y("CONFIG_TRANSPARENT_HUGEPAGE", vm_area_thp_eligible),
        Y("CONFIG_SWAP", sys_swapon),
        Y("CONFIG_SHMEM", sys_memfd_create),
        Y("CONFIG_TMPFS", tmpfs_new_sb),
        Y("CONFIG_MEMFD_CREATE", sys_memfd_create),
        Y("CONFIG_SYSVIPC", sys_shmget),
        Y("CONFIG_FUTEX", sys_futex),
        Y("CONFIG_POSIX_TIMERS", sys_timer_create),
        Y("CONFIG_MULTIUSER", sys_setuid),
        Y("CONFIG_CROSS_MEMORY_ATTACH", sys_process_vm_readv),
        Y("CONFIG_PROC_FS", procfs_new_sb),
        Y("CONFIG_PROC_PAGE_MONITOR", proc_pid_smaps),
        Y("CONFIG_IKCONFIG", proc_config_gz),
        Y("CONFIG_IKCONFIG_PROC", proc_config_gz),
        Y("CONFIG_BINFMT_ELF", sys_execve),
        Y("CONFIG_COREDUMP", coredump_write),
        Y("CONFIG_ELF_CORE", coredump_write),
        Y("CONFIG_USERFAULTFD", sys_userfaultfd),
        Y("CONFIG_HAVE_ARCH_USERFAULTFD_WP", vm_uffd_writeprotect),
        Y("CONFIG_TIME_NS", sys_unshare),
        Y("CONFIG_TIMERFD", sys_timerfd_create),
        Y("CONFIG_HUGETLBFS", hugetlbfs_new_sb),
        Y("CONFIG_HUGETLB_PAGE", hugetlbfs_new_sb),
        N("CONFIG_MEMORY_FAILURE"),
        N("CONFIG_USER_NS"),
        Y("CONFIG_CGROUPS", cgroupfs_new_sb),
        Y("CONFIG_MEMCG", memcg_init),
        N("CONFIG_MODULES"),
        N("CONFIG_NET"),
        N("CONFIG_EPOLL"),
        N("CONFIG_SIGNALFD"),
        N("CONFIG_EVENTFD"),
};

/* The architecture's own line. */
static const char *arch_line(void)
{
        switch (ELF_MACHINE) {
        case 62:  return "CONFIG_X86_64=y\nCONFIG_64BIT=y\n";
        case 3:   return "CONFIG_X86_32=y\n";
        case 243: return "CONFIG_RISCV=y\nCONFIG_64BIT=y\n";
        default:  return "";
        }
}

/* The .config text into buf; its length. */
static size_t config_text(char *buf, size_t size)
{
        size_t n = (size_t)ksnprintf(buf, size,
                "#\n# Linux/Mercator " MERCATOR_RELEASE " Kernel Configuration\n#\n%s",
                arch_line());

        for (size_t i = 0; i < ARRAY_SIZE(lines) && n < size; i++)
                n += (size_t)ksnprintf(buf + n, size - n,
                                       lines[i].impl ? "%s=y\n" : "# %s is not set\n",
                                       lines[i].name);
        return MIN(n, size - 1);
}

/* CRC-32 (ISO 3309, reflected 0xedb88320), as gzip's trailer wants. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
        uint32_t c = 0xffffffffu;

        while (n--) {
                c ^= *p++;
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xedb88320u & -(c & 1));
        }
        return ~c;
}

static void put_le32(struct text *t, uint32_t v)
{
        uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                         (uint8_t)(v >> 24) };

        text_put(t, b, 4);
}

void proc_config_gz(struct text *t, struct proc *p)
{
        static char text[3072];
        size_t n = config_text(text, sizeof text);
        /* gzip member: magic, deflate, no flags, no time, max
         * compression flag 0, OS 3 (Unix). */
        static const uint8_t header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
        /* one final stored block: BFINAL 1, BTYPE 00; LEN and ~LEN. */
        uint8_t block[5] = { 1, (uint8_t)n, (uint8_t)(n >> 8),
                             (uint8_t)~n, (uint8_t)(~n >> 8) };

        text_put(t, header, sizeof header);
        text_put(t, block, sizeof block);
        text_put(t, text, n);
        put_le32(t, crc32((const uint8_t *)text, n));
        put_le32(t, (uint32_t)n);
}
