/*
 * procfs.c - /proc/meminfo and /proc/PID/maps (and /proc/self/maps), in
 * exactly Linux's format (CONCEPTS A5).
 *
 * A file's text is made when it is opened and then read like a regular
 * file, so a reader sees one consistent snapshot.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/file.h>
#include <ipc/shm.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>

struct text {
        char  *buf;
        size_t len, size;
};

static void text_add(struct text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        int n = kvsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
        t->len = MIN(t->len + (size_t)n, t->size - 1);
}

/* One "Name:   value kB" line, as Linux's show_val_kb. */
static void meminfo_line(struct text *t, const char *name, uint64_t pages)
{
        char label[20];

        ksnprintf(label, sizeof label, "%s:", name);
        text_add(t, "%-16s%8lu kB\n", label, pages * (PAGE_SIZE / 1024));
}

static void meminfo(struct text *t)
{
        uint64_t free = pmm_free_count();

        meminfo_line(t, "MemTotal", vmstat.managed_pages);
        meminfo_line(t, "MemFree", free);
        meminfo_line(t, "MemAvailable", free);
        meminfo_line(t, "Buffers", 0);
        meminfo_line(t, "Cached", vmstat.file_pages + vmstat.shmem_pages);
        meminfo_line(t, "AnonPages", vmstat.anon_pages);
        meminfo_line(t, "Shmem", vmstat.shmem_pages);
        meminfo_line(t, "Slab", vmstat.slab_pages + vmstat.kmalloc_large);
        meminfo_line(t, "KernelStack", vmstat.kstack_pages);
        meminfo_line(t, "PageTables", vmstat.pt_pages);
        meminfo_line(t, "VmallocUsed", vmstat.vmalloc_pages);
        /* Mercator's own: the vm_page array, and its cost per page. */
        meminfo_line(t, "PageDescriptors",
                     pmm_npages() * sizeof(struct vm_page) / PAGE_SIZE);
        text_add(t, "%-16s%8lu B\n", "DescriptorSize:", sizeof(struct vm_page));
}

/* One line of maps: "start-end perms offset dev inode", then the name
 * from column 73, as Linux's show_map_vma. Files are on device 00:02 (the
 * initramfs), shared anonymous memory on 00:01 as a deleted /dev/zero. */
static bool maps_line(void *arg, const struct vm_area_info *a)
{
        struct text *t = arg;
        const char *name = a->is_file || (a->shared && a->name) ? a->name
                         : a->shared ? "/dev/zero (deleted)"
                         : a->is_heap ? "[heap]" : a->is_stack ? "[stack]" : NULL;
        size_t start = t->len;
        int shmid;
        /* A SysV segment's inode number is its id, as Linux's shm files. */
        uint64_t ino = shm_object_id(a->object, &shmid) ? (uint64_t)shmid
                     : a->object ? a->object_id : 0UL;

        text_add(t, "%08lx-%08lx %c%c%c%c %08lx %s %lu ", a->start, a->end,
                 a->prot & VM_PROT_READ ? 'r' : '-',
                 a->prot & VM_PROT_WRITE ? 'w' : '-',
                 a->prot & VM_PROT_EXEC ? 'x' : '-', a->shared ? 's' : 'p',
                 a->offset, a->is_file ? "00:02" : a->shared ? "00:01" : "00:00",
                 ino);
        if (name) {
                while (t->len - start < 72 && t->len + 1 < t->size)
                        t->buf[t->len++] = ' ';
                text_add(t, " %s", name);
        }
        text_add(t, "\n");
        return true;
}

static void maps(struct text *t, struct vm_space *sp)
{
        vm_space_for_each_area(sp, maps_line, t);
}

static long text_read(struct file *f, uint64_t ubuf, size_t len)
{
        const struct text *t = f->node;

        if (f->offset >= t->len)
                return 0;
        len = MIN(len, t->len - f->offset);
        if (copy_to_user(ubuf, t->buf + f->offset, len))
                return -EFAULT;
        f->offset += len;
        return (long)len;
}

static void text_stat(struct file *f, void *st)
{
        memset(st, 0, 144);
        ((uint64_t *)st)[2] = 1;                        /* st_nlink */
        ((uint32_t *)st)[6] = 0100444;                  /* regular, r--r--r-- */
        ((uint64_t *)st)[7] = PAGE_SIZE;                /* st_blksize */
}

static void text_release(struct file *f)
{
        struct text *t = (struct text *)f->node;

        vfree(t->buf);
        kfree(t);
}

static const struct file_ops text_ops = {
        .read = text_read, .stat = text_stat, .release = text_release,
        .seekable = true,
};

/* The process a /proc/<pid|self>/ path names, and the rest of the path. */
static struct proc *proc_of_path(const char *p, const char **rest)
{
        long pid = 0;

        if (strncmp(p, "self", 4) == 0) {
                *rest = p + 4;
                return current;
        }
        for (*rest = p; **rest >= '0' && **rest <= '9'; (*rest)++)
                pid = pid * 10 + (**rest - '0');
        return *rest == p ? NULL : proc_find((int)pid);
}

/* Mercator's own: /proc/PID/pagewalk/ADDR (hex), the MMU's walk. */
static bool pagewalk_addr(const char *rest, vaddr_t *va)
{
        if (strncmp(rest, "/pagewalk/", 10) != 0)
                return false;
        rest += 10;
        if (rest[0] == '0' && rest[1] == 'x')
                rest += 2;
        *va = 0;
        for (int n = 0; *rest; rest++, n++) {
                char c = *rest;
                unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
                             c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
                if (d == 16 || n == 16)
                        return false;
                *va = *va << 4 | d;
        }
        return true;
}

long procfs_open(const char *path, unsigned flags, struct file **out)
{
        const char *rest = "";
        struct proc *p = NULL;
        bool is_meminfo = strcmp(path, "/proc/meminfo") == 0;
        bool is_shm = strcmp(path, "/proc/sysvipc/shm") == 0;
        vaddr_t va = 0;
        bool walk = false;

        if (!is_meminfo && !is_shm) {
                p = proc_of_path(path + 6, &rest);
                walk = p && pagewalk_addr(rest, &va);
                if (!p || p->state == PROC_ZOMBIE ||
                    (!walk && strcmp(rest, "/maps") != 0))
                        return -ENOENT;
        }
        if (flags & 3)
                return -EACCES;
        size_t size = is_shm ? page_round((shm_count() + 1) * 200)
                    : is_meminfo || walk ? PAGE_SIZE
                    : page_round((p->space->areas.count + 1) * 128);
        struct text *t = kzalloc(sizeof *t);
        struct file *f = kzalloc(sizeof *f);
        char *buf = vmalloc(size);
        if (!t || !f || !buf) {
                kfree(t), kfree(f), vfree(buf);
                return -ENOMEM;
        }
        *t = (struct text){ .buf = buf, .size = size };
        if (is_meminfo)
                meminfo(t);
        else if (is_shm)
                t->len = shm_proc_show(buf, size);
        else if (walk)
                t->len = pmap_walk_describe(vm_space_pmap(p->space), va, buf, size);
        else
                maps(t, p->space);
        *f = (struct file){ .ops = &text_ops, .refs = 1, .flags = flags,
                            .node = t, .size = t->len };
        *out = f;
        return 0;
}
