/*
 * test_vfs_walk.c - the VFS path walker (kernel/fs/vfs.c) over tmpfs
 * (kernel/fs/tmpfs.c), fed hostile paths under ASan+UBSan: names and
 * paths too long (ENAMETOOLONG), symlink loops and chains (ELOOP at the
 * 41st link), non-directories used as directories (ENOTDIR), ".." past the
 * root and past a chroot-like root, ".." across a mount point, trailing
 * slashes, empty components; then random paths made of those pieces, with
 * every vnode reference and every page accounted for afterwards.
 *
 * The walker runs without a process (current is NULL: root's rights).
 */
#include "vm_fixture.h"

#include <mercator/errno.h>
#include <fs/file.h>
#include <fs/initramfs.h>
#include <fs/vfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/vmstat.h>

#include <string.h>

#define RAM             (16 * MiB)

/* What vfs.c needs from the process layer, which the host build lacks. */
struct proc *current;
struct proc *proc_table[NPROC];
int proc_slots;
struct initramfs rootfs;
struct file *fd_get(int fd) { return NULL; }
struct vnode *file_vnode(const struct file *f) { return NULL; }
long strncpy_from_user(char *dst, uint64_t src, size_t size) { return -14; }
uint64_t clock_realtime_ns(void) { return 1000000000ULL * 1700000000ULL; }
long procfs_new_sb(struct vfs_sb **out) { return -19; }
void procfs_destroy_sb(struct vfs_sb *sb) { }
long sysfs_new_sb(struct vfs_sb **out) { return -19; }
void sysfs_destroy_sb(struct vfs_sb *sb) { }
long devfs_populate(struct vnode *dev) { return 0; }

static struct vfs_sb *sb;
static struct vnode *root;

static struct vnode *mk(struct vnode *dir, const char *name, uint32_t mode)
{
        struct vnode *vn = NULL;

        if (S_ISDIR(mode))
                CHECK_EQ(dir->ops->mkdir(dir, name, strlen(name), mode & 07777, &vn), 0);
        else
                CHECK_EQ(dir->ops->create(dir, name, strlen(name), mode, 0, &vn), 0);
        return vn;
}

static void ln(struct vnode *dir, const char *name, const char *target)
{
        struct vnode *vn;

        CHECK_EQ(dir->ops->symlink(dir, name, strlen(name), target, &vn), 0);
        vnode_put(vn);
}

/* Resolve path from start (root: root); the errno, and the vnode in *out
 * (a reference the caller drops) when 0. */
static long walk(struct vnode *r, struct vnode *start, const char *path,
                 unsigned flags, struct vnode **out)
{
        struct vfs_path p;
        long err = vfs_resolve(r, start, path, flags, &p);

        if (err == 0) {
                *out = p.vn ? vnode_get(p.vn) : NULL;
                vfs_path_put(&p);
        }
        return err;
}

static void expect(const char *path, long err, struct vnode *want)
{
        struct vnode *vn = NULL;
        long got = walk(root, root, path, 0, &vn);

        if (got != err || (want && vn != want)) {
                printf("    path \"%.60s%s\": %ld (want %ld)\n", path,
                       strlen(path) > 60 ? "..." : "", got, err);
                CHECK_EQ(got, err);
                CHECK(!want || vn == want);
        }
        vnode_put(vn);
}

/* A tree: /a/b/c, /f, /a/up -> .., /loop1 <-> /loop2, /self -> self,
 * /l0 -> l1 -> ... -> l40 -> f (41 links), /abs -> /a/b, /df -> f/ . */
static struct vnode *a, *b, *c, *f;

static void build_tree(void)
{
        char name[8], target[8];

        CHECK_EQ(tmpfs_new_sb(NULL, &sb), 0);
        root = sb->root;
        a = mk(root, "a", S_IFDIR | 0755);
        b = mk(a, "b", S_IFDIR | 0755);
        c = mk(b, "c", S_IFDIR | 0755);
        f = mk(root, "f", S_IFREG | 0644);
        ln(a, "up", "..");
        ln(root, "loop1", "loop2");
        ln(root, "loop2", "loop1");
        ln(root, "self", "self");
        ln(root, "abs", "/a/b");
        ln(root, "df", "f/");
        for (int i = 0; i <= 40; i++) {
                snprintf(name, sizeof name, "l%d", i);
                snprintf(target, sizeof target, i == 40 ? "f" : "l%d", i + 1);
                ln(root, name, target);
        }
}

static void tear_down_tree(void)
{
        vnode_put(a), vnode_put(b), vnode_put(c), vnode_put(f);
        tmpfs_destroy_sb(sb);
}

TEST(hostile_paths)
{
        static char buf[VFS_PATH_MAX + 64];

        setup(RAM);
        build_tree();
        expect("/", 0, root);
        expect("", -ENOENT, NULL);
        expect("/a/b/c", 0, c);
        expect("a//b///c/", 0, c);
        expect("./a/./b/.", 0, b);
        expect("/..", 0, root);
        expect("/../../..", 0, root);
        expect("a/../../../a", 0, a);
        expect("a/b/c/../../..", 0, root);
        expect("a/up/a/up/a/b", 0, b);
        expect("abs/c", 0, c);
        expect("abs/../..", 0, root);
        expect("f/x", -ENOTDIR, NULL);
        expect("f/", -ENOTDIR, NULL);
        expect("f/.", -ENOTDIR, NULL);
        expect("f/..", -ENOTDIR, NULL);
        expect("df", -ENOTDIR, NULL);
        expect("nope/x", -ENOENT, NULL);
        expect("loop1", -ELOOP, NULL);
        expect("loop1/x", -ELOOP, NULL);
        expect("self", -ELOOP, NULL);
        expect("l1", 0, f);             /* 40 links: allowed */
        expect("l0", -ELOOP, NULL);     /* 41 links */
        /* A final symlink is the result with NOFOLLOW, not in the middle. */
        struct vnode *vn = NULL;
        CHECK_EQ(walk(root, root, "loop1", VFS_NOFOLLOW, &vn), 0);
        CHECK(vn && S_ISLNK(vn->mode));
        vnode_put(vn);
        CHECK_EQ(walk(root, root, "loop1/", VFS_NOFOLLOW, &vn), -ELOOP);
        /* Names: 255 bytes is a name, 256 is too long. */
        memset(buf, 'n', 255);
        buf[255] = 0;
        expect(buf, -ENOENT, NULL);
        buf[255] = 'n', buf[256] = 0;
        expect(buf, -ENAMETOOLONG, NULL);
        /* Paths: 4096 bytes (no room for the NUL in PATH_MAX) are too
         * long, 4095 are fine. */
        for (int i = 0; i < VFS_PATH_MAX + 10; i++)
                buf[i] = i % 2 ? '/' : '.';
        buf[VFS_PATH_MAX] = 0;
        expect(buf, -ENAMETOOLONG, NULL);
        buf[VFS_PATH_MAX - 1] = 0;
        expect(buf, 0, root);
        /* A symlink whose expansion passes PATH_MAX. */
        memset(buf, 'x', 3000);
        buf[3000] = 0;
        ln(root, "long", buf);
        uint32_t refs0 = root->refs;
        memset(buf, 0, sizeof buf);
        strcpy(buf, "long/");
        memset(buf + 5, 'y', 1200);
        expect(buf, -ENAMETOOLONG, NULL);
        /* A chroot-like root: ".." and absolute paths stop at it. */
        CHECK_EQ(walk(a, a, "/..", 0, &vn), 0);
        CHECK(vn == a);
        vnode_put(vn);
        CHECK_EQ(walk(a, b, "../../../b/c", 0, &vn), 0);
        CHECK(vn == c);
        vnode_put(vn);
        CHECK_EQ(walk(a, a, "/abs", 0, &vn), -ENOENT);  /* no /abs in a */
        /* VFS_PARENT: the directory and the last name. */
        struct vfs_path p;
        CHECK_EQ(vfs_resolve(root, root, "a/b/new", VFS_PARENT, &p), 0);
        CHECK(p.dir == b && !p.vn && p.namelen == 3 && !memcmp(p.name, "new", 3));
        vfs_path_put(&p);
        CHECK_EQ(vfs_resolve(root, root, "a/b/", VFS_PARENT, &p), 0);
        CHECK(p.dir == a && p.vn == b && p.trailing_slash);
        vfs_path_put(&p);
        CHECK_EQ(vfs_resolve(root, root, "/", VFS_PARENT, &p), 0);
        CHECK(p.namelen == 0 && p.vn == root);
        vfs_path_put(&p);
        /* A mount on a/b: inside is the new root, ".." crosses back. */
        CHECK_EQ(vfs_mount(b, "tmpfs", "size=16k", 0), 0);
        struct vnode *mroot = b->mounted->sb->root;
        expect("a/b", 0, mroot);
        expect("a/b/c", -ENOENT, NULL);
        expect("a/b/..", 0, a);
        expect("a/b/../b/..", 0, a);
        CHECK_EQ(vfs_umount(vnode_get(mroot)), 0);     /* takes the ref */
        expect("a/b/c", 0, c);
        /* Every reference came back. */
        CHECK_EQ(root->refs, refs0);
        tear_down_tree();
        CHECK_EQ(vmstat.shmem_pages, 0);
        check_baseline();
}

TEST(random_paths)
{
        static const char *const parts[] = {
                "a", "b", "c", "f", "..", ".", "", "loop1", "up", "l0", "l1",
                "abs", "df", "self", "nope",
        };
        char path[600];
        uint64_t x = check_seed(0x9a7b), counts[5] = { 0 };

        setup(RAM);
        build_tree();
        uint32_t refs = root->refs;
        uint64_t inodes = sb->nr_inodes;
        for (int i = 0; i < 20000; i++) {
                size_t n = 0;
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (x & 1)
                        path[n++] = '/';
                for (int k = (int)((x >> 8) % 12); k >= 0 && n < sizeof path - 20; k--) {
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        const char *part = parts[x % (sizeof parts / sizeof parts[0])];
                        size_t len = strlen(part);
                        memcpy(path + n, part, len);
                        n += len;
                        for (int s = (int)((x >> 20) % 3); s >= 0; s--)
                                path[n++] = '/';
                }
                path[n - ((x >> 40) & 1)] = 0;
                struct vnode *vn = NULL;
                unsigned flags = (unsigned)((x >> 30) & (VFS_NOFOLLOW | VFS_PARENT));
                long err = walk(root, (x >> 50) & 1 ? b : root, path, flags, &vn);
                switch (err) {
                case 0: counts[0]++; break;
                case -ENOENT: counts[1]++; break;
                case -ENOTDIR: counts[2]++; break;
                case -ELOOP: counts[3]++; break;
                default:
                        printf("    path \"%s\": %ld\n", path, err);
                        CHECK(false);
                }
                vnode_put(vn);
                CHECK_EQ(root->refs, refs);
                CHECK_EQ(sb->nr_inodes, inodes);
        }
        printf("    20000 paths: %lu found, %lu ENOENT, %lu ENOTDIR, %lu ELOOP\n",
               (unsigned long)counts[0], (unsigned long)counts[1],
               (unsigned long)counts[2], (unsigned long)counts[3]);
        for (int k = 0; k < 4; k++)
                CHECK(counts[k] > 100);
        tear_down_tree();
        check_baseline();
}
