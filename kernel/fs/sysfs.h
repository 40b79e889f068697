/*
 * sysfs.h - /sys: kernel settings as small text files, in Linux's formats.
 *
 * The tree is static: each directory is a table of struct sysfs_node
 * ending with an empty entry, each file an attribute with a show() (its
 * text, made when it is opened) and, if root may change it, a store()
 * (each write(2) handed over whole, as Linux's sysfs does: => bytes taken
 * or -errno, typically -EINVAL for a value it does not know). A subsystem
 * adds its files by putting a table of its own under a directory here
 * (sysfs.c's tables); today: kernel/mm/transparent_hugepage and
 * kernel/mm/hugepages (sysfs_mm.c), devices/system/cpu (sysfs_cpu.c).
 *
 * Opening a file for writing needs the file to have a store() and the
 * writer to pass the mode bits (0644, owned by root: EACCES otherwise, as
 * Linux's kernfs says for a file without a store even to root).
 */
#ifndef FS_SYSFS_H
#define FS_SYSFS_H

#include <mercator/types.h>

struct text;

struct sysfs_node {
        const char              *name;
        uint32_t                 mode;  /* S_IFDIR or S_IFREG | bits */
        const struct sysfs_node *sub;   /* a directory's entries */
        void (*show)(struct text *t);
        long (*store)(const char *buf, size_t len);
};

#define SYSFS_DIR(n, t)         { n, 0040755, t, NULL, NULL }
#define SYSFS_RO(n, show)       { n, 0100444, NULL, show, NULL }
#define SYSFS_RW(n, show, st)   { n, 0100644, NULL, show, st }

/* Does the written value (buf, len bytes) say word? Linux's sysfs_streq:
 * equal, but for one newline at the end of the value. */
bool sysfs_streq(const char *buf, size_t len, const char *word);

/* Format "a [b] c": the choices in order, the one at index cur in
 * brackets (Linux's style for a setting with named values). */
void sysfs_show_choice(struct text *t, const char *const *choices,
                       size_t n, size_t cur);

/* Which of the n choices the write names (sysfs_streq) => its index,
 * or -1. */
long sysfs_pick_choice(const char *buf, size_t len,
                       const char *const *choices, size_t n);

/* kernel/mm/transparent_hugepage (sysfs_mm.c). */
extern const struct sysfs_node sysfs_thp_dir[];
/* kernel/mm/hugepages (sysfs_mm.c); sysfs_hugepages_init() names its one
 * size directory after pmap_huge_size(), at boot. */
extern const struct sysfs_node sysfs_hugepages_dir[];
void sysfs_hugepages_init(void);

/* devices/system/cpu (sysfs_cpu.c); sysfs_cpu_init() adds a directory
 * per CPU online, at boot once they are all up. */
extern struct sysfs_node sysfs_cpu_dir[];
void sysfs_cpu_init(void);

/* The file system itself: vfs.h's sysfs_new_sb(). */

#endif
