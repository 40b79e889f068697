/*
 * test_initramfs.c - the cpio newc reader: a real archive written by GNU
 * cpio (tests/host/mkfixtures.sh, tree listed there), archives written
 * member by member here, malformed ones, and random mutation under ASan
 * with the bytes past the archive's end poisoned.
 */
#define _DEFAULT_SOURCE                 /* readlink, fork: fixture.h */
#include "check.h"
#include "fixtures/fixture.h"

#include <fs/initramfs.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define HAVE_ASAN 1
#endif
#endif
#ifndef HAVE_ASAN
#define ASAN_POISON_MEMORY_REGION(p, n)   ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#define MTIME   1700000000u             /* mkfixtures.sh's */
#define NMEMBERS 25                     /* `find .` of its tree */

struct blob {
        uint8_t *p;
        size_t   len;
};

static struct blob real_archive(void)
{
        struct blob b;

        b.p = fixture_load("initramfs.cpio", &b.len);
        return b;
}

static void open_ok(struct initramfs *fs, const struct blob *b)
{
        vm_status_t st = initramfs_open(fs, b->p, b->len);

        if (st != VM_OK)
                check_fail(__FILE__, __LINE__, "open: %s at %#zx",
                           initramfs_reason_message(fs->bad_reason),
                           fs->bad_offset);
        CHECK(initramfs_check(fs));
}

static struct initramfs_node lookup_ok(const struct initramfs *fs,
                                       const char *path, unsigned flags)
{
        struct initramfs_node n;
        vm_status_t st = initramfs_lookup(fs, NULL, path, flags, &n);

        if (st != VM_OK)
                check_fail(__FILE__, __LINE__, "lookup %s: %s", path,
                           vm_status_name(st));
        return n;
}

static vm_status_t lookup_st(const struct initramfs *fs, const char *path,
                             unsigned flags)
{
        struct initramfs_node n;

        return initramfs_lookup(fs, NULL, path, flags, &n);
}

static bool node_is(const struct initramfs_node *n, const char *path)
{
        return n->pathlen == strlen(path) &&
               memcmp(n->path, path, n->pathlen) == 0;
}

static bool same_node(const struct initramfs_node *a,
                      const struct initramfs_node *b)
{
        return a->hdr_off == b->hdr_off && a->pathlen == b->pathlen &&
               a->path == b->path;
}

/* --- the real archive ---------------------------------------------------- */

TEST(open_real_archive)
{
        struct blob b = real_archive();
        struct initramfs fs;

        open_ok(&fs, &b);
        CHECK_EQ(fs.nmembers, NMEMBERS);
        CHECK_EQ(fs.narchives, 1);
        CHECK(initramfs_is_dir(&fs.root));
        CHECK(fs.root.hdr_off == 0);    /* GNU cpio wrote "." first */
        free(b.p);
}

TEST(lookup_files)
{
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node n;
        size_t hlen;
        uint8_t *hello = fixture_load("hello-static", &hlen);

        open_ok(&fs, &b);
        n = lookup_ok(&fs, "/etc/motd", 0);
        CHECK(initramfs_is_reg(&n) && node_is(&n, "etc/motd"));
        CHECK_EQ(n.size, 21);
        CHECK(memcmp(n.data, "Welcome to Mercator!\n", 21) == 0);
        CHECK_EQ(n.mode, INITRAMFS_S_IFREG | 0644);
        CHECK_EQ(n.mtime, MTIME);
        CHECK(n.ino != 0);
        n = lookup_ok(&fs, "/bin/hello", 0);
        CHECK_EQ(n.size, hlen);         /* the very bytes cpio was given */
        CHECK(memcmp(n.data, hello, hlen) == 0);
        CHECK_EQ(n.mode, INITRAMFS_S_IFREG | 0755);
        n = lookup_ok(&fs, "/etc/big", 0);
        CHECK_EQ(n.mode, INITRAMFS_S_IFREG | 0600);
        CHECK_EQ(n.size, 10000);
        n = lookup_ok(&fs, "/etc/empty", 0);
        CHECK(initramfs_is_reg(&n) && n.size == 0);
        n = lookup_ok(&fs, "/usr/lib/libx.txt", 0);
        CHECK_EQ(n.uid, 1000);
        CHECK_EQ(n.gid, 1000);
        n = lookup_ok(&fs, "/deep/a/b/c/d/file", 0);
        CHECK(memcmp(n.data, "deep\n", 5) == 0);
        n = lookup_ok(&fs, "/mnt", 0);
        CHECK(initramfs_is_dir(&n) && n.size == 0);
        CHECK_EQ(lookup_st(&fs, "/etc/nothing", 0), VM_ENOENT);
        CHECK_EQ(lookup_st(&fs, "/nothing/at/all", 0), VM_ENOENT);
        free(hello);
        free(b.p);
}

/* cpio stores a hard-linked file's data once; both names see it. */
TEST(hard_links)
{
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node a, l;

        open_ok(&fs, &b);
        a = lookup_ok(&fs, "/etc/motd", 0);
        l = lookup_ok(&fs, "/etc/motd.link", 0);
        CHECK(a.hdr_off != l.hdr_off);
        CHECK_EQ(a.ino, l.ino);
        CHECK_EQ(a.nlink, 2);
        CHECK(a.data == l.data && a.size == 21 && l.size == 21);
        free(b.p);
}

TEST(path_normalization)
{
        static const char *const same[] = {
                "/etc/motd", "etc/motd", "//etc///motd", "/./etc/./motd",
                "./etc/motd", "/etc/../etc/motd", "/../../etc/motd",
                "bin/../etc/motd", "/deep/a/b/c/d/../../../../../etc/motd",
        };
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node motd, n;

        open_ok(&fs, &b);
        motd = lookup_ok(&fs, "/etc/motd", 0);
        for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
                n = lookup_ok(&fs, same[i], 0);
                if (!same_node(&n, &motd))
                        check_fail(__FILE__, __LINE__, "%s", same[i]);
        }
        static const char *const roots[] = { "/", "//", ".", "..", "/..",
                                             "/./../.", "etc/.." };
        for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
                n = lookup_ok(&fs, roots[i], 0);
                CHECK(same_node(&n, &fs.root));
        }
        n = lookup_ok(&fs, "/deep/a/b/../b/c/./d/file", 0);
        CHECK(node_is(&n, "deep/a/b/c/d/file"));
        /* a file is no directory, whatever follows it */
        CHECK_EQ(lookup_st(&fs, "/etc/motd/", 0), VM_ENOTDIR);
        CHECK_EQ(lookup_st(&fs, "/etc/motd/.", 0), VM_ENOTDIR);
        CHECK_EQ(lookup_st(&fs, "/etc/motd/..", 0), VM_ENOTDIR);
        CHECK_EQ(lookup_st(&fs, "/etc/motd/x", 0), VM_ENOTDIR);
        /* ".." needs what it climbs out of to exist */
        CHECK_EQ(lookup_st(&fs, "/nothing/../etc/motd", 0), VM_ENOENT);
        CHECK_EQ(lookup_st(&fs, "", 0), VM_ENOENT);
        n = lookup_ok(&fs, "/mnt/", 0);
        CHECK(node_is(&n, "mnt"));
        free(b.p);
}

TEST(symlinks)
{
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node hello, n;

        open_ok(&fs, &b);
        hello = lookup_ok(&fs, "/bin/hello", 0);
        n = lookup_ok(&fs, "/bin/sh", 0);
        CHECK(same_node(&n, &hello));
        n = lookup_ok(&fs, "/bin/abs", 0);
        CHECK(same_node(&n, &hello));
        n = lookup_ok(&fs, "/bin/sh", INITRAMFS_NOFOLLOW);
        CHECK(initramfs_is_symlink(&n));
        CHECK_EQ(n.size, 5);
        CHECK(memcmp(n.data, "hello", 5) == 0);
        /* through a symlink to a directory, physically (as Linux) */
        n = lookup_ok(&fs, "/lib/libx.txt", 0);
        CHECK(node_is(&n, "usr/lib/libx.txt"));
        n = lookup_ok(&fs, "/lib/../lib/libx.txt", 0);
        CHECK(node_is(&n, "usr/lib/libx.txt"));
        CHECK_EQ(lookup_st(&fs, "/lib/../etc/motd", 0), VM_ENOENT);
        n = lookup_ok(&fs, "/lib", INITRAMFS_NOFOLLOW);
        CHECK(initramfs_is_symlink(&n));
        n = lookup_ok(&fs, "/lib/", INITRAMFS_NOFOLLOW);
        CHECK(initramfs_is_dir(&n) && node_is(&n, "usr/lib"));
        CHECK_EQ(lookup_st(&fs, "/bin/loop1", 0), VM_ELOOP);
        CHECK_EQ(lookup_st(&fs, "/bin/loop1/x", INITRAMFS_NOFOLLOW),
                 VM_ELOOP);
        n = lookup_ok(&fs, "/bin/loop1", INITRAMFS_NOFOLLOW);
        CHECK(initramfs_is_symlink(&n));
        CHECK_EQ(lookup_st(&fs, "/bin/dangling", 0), VM_ENOENT);
        n = lookup_ok(&fs, "/bin/dangling", INITRAMFS_NOFOLLOW);
        CHECK(initramfs_is_symlink(&n));
        CHECK_EQ(lookup_st(&fs, "/bin/sh/", 0), VM_ENOTDIR);
        free(b.p);
}

TEST(lookup_relative)
{
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node at, n, file;

        open_ok(&fs, &b);
        at = lookup_ok(&fs, "/deep/a", 0);
        file = lookup_ok(&fs, "/deep/a/b/c/d/file", 0);
        CHECK_EQ(initramfs_lookup(&fs, &at, "b/c/d/file", 0, &n), VM_OK);
        CHECK(same_node(&n, &file));
        CHECK_EQ(initramfs_lookup(&fs, &at, "../a/./b/c/d/file", 0, &n), VM_OK);
        CHECK(same_node(&n, &file));
        CHECK_EQ(initramfs_lookup(&fs, &at, "/etc/motd", 0, &n), VM_OK);
        CHECK(node_is(&n, "etc/motd"));
        CHECK_EQ(initramfs_lookup(&fs, &at, "motd", 0, &n), VM_ENOENT);
        CHECK_EQ(initramfs_lookup(&fs, &file, "x", 0, &n), VM_EINVAL);
        free(b.p);
}

TEST(name_too_long)
{
        struct blob b = real_archive();
        struct initramfs fs;
        char *p = malloc(INITRAMFS_PATH_MAX + 1);

        open_ok(&fs, &b);
        memset(p, '/', INITRAMFS_PATH_MAX);
        p[INITRAMFS_PATH_MAX] = '\0';
        CHECK_EQ(lookup_st(&fs, p, 0), VM_ENAMETOOLONG);
        p[INITRAMFS_PATH_MAX - 1] = '\0';       /* 4095 slashes: the root */
        CHECK_EQ(lookup_st(&fs, p, 0), VM_OK);
        p[0] = '/';
        memset(p + 1, 'x', 256);
        p[257] = '\0';
        CHECK_EQ(lookup_st(&fs, p, 0), VM_ENAMETOOLONG);
        p[256] = '\0';                          /* 255 bytes: just absent */
        CHECK_EQ(lookup_st(&fs, p, 0), VM_ENOENT);
        CHECK(strcmp(vm_status_name(VM_ENAMETOOLONG),
                     "ENAMETOOLONG") == 0);
        free(p);
        free(b.p);
}

TEST(read_at_offsets)
{
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node n;
        uint8_t buf[12000];
        size_t done;
        static const struct { uint64_t off; size_t len, want; } reads[] = {
                { 0, 10000, 10000 }, { 0, 12000, 10000 }, { 1, 1, 1 },
                { 4095, 2, 2 }, { 4096, 4096, 4096 }, { 9999, 100, 1 },
                { 10000, 10, 0 }, { 20000, 10, 0 }, { 5, 0, 0 },
                { UINT64_MAX, 10, 0 },
        };

        open_ok(&fs, &b);
        n = lookup_ok(&fs, "/etc/big", 0);
        for (size_t i = 0; i < ARRAY_SIZE(reads); i++) {
                memset(buf, 0x5a, sizeof buf);
                CHECK_EQ(initramfs_read(&n, reads[i].off, buf, reads[i].len,
                                        &done), VM_OK);
                CHECK_EQ(done, reads[i].want);
                for (size_t k = 0; k < done; k++)
                        CHECK_EQ(buf[k], (uint8_t)((reads[i].off + k) * 7 + 3));
                CHECK_EQ(buf[done], 0x5a);
        }
        n = lookup_ok(&fs, "/etc", 0);
        CHECK_EQ(initramfs_read(&n, 0, buf, 10, &done), VM_EISDIR);
        n = lookup_ok(&fs, "/bin/sh", INITRAMFS_NOFOLLOW);
        CHECK_EQ(initramfs_read(&n, 0, buf, 10, &done), VM_EINVAL);
        n = lookup_ok(&fs, "/etc/motd.link", 0);
        CHECK_EQ(initramfs_read(&n, 11, buf, 100, &done), VM_OK);
        CHECK(done == 10 && memcmp(buf, "Mercator!\n", 10) == 0);
        free(b.p);
}

/* Collect a directory's names, "a b c", checking cookies resume. */
static void list_dir(const struct initramfs *fs, const char *path,
                     char *out, size_t size)
{
        struct initramfs_node dir = lookup_ok(fs, path, 0);
        struct initramfs_dirent e, again;
        uint64_t cookie = 0;
        size_t n = 0;

        out[0] = '\0';
        for (int guard = 0; guard < 1000; guard++) {
                vm_status_t st = initramfs_readdir(fs, &dir, cookie, &e);
                if (st == VM_ENOENT)
                        return;
                CHECK_EQ(st, VM_OK);
                CHECK(e.next > cookie);
                CHECK_EQ(e.type, initramfs_dtype(e.node.mode));
                /* the same cookie gives the same entry */
                CHECK_EQ(initramfs_readdir(fs, &dir, cookie, &again), VM_OK);
                CHECK(again.namelen == e.namelen &&
                      memcmp(again.name, e.name, e.namelen) == 0);
                n += (size_t)snprintf(out + n, size - n, "%s%.*s",
                                      n ? " " : "", (int)e.namelen, e.name);
                CHECK(n < size);
                cookie = e.next;
        }
        CHECK(!"directory never ended");
}

TEST(readdir_real)
{
        struct blob b = real_archive();
        struct initramfs fs;
        struct initramfs_node dir, n;
        struct initramfs_dirent e;
        char names[512];

        open_ok(&fs, &b);
        list_dir(&fs, "/", names, sizeof names);
        CHECK(strcmp(names, ". .. bin deep etc lib mnt usr") == 0);
        list_dir(&fs, "/bin", names, sizeof names);
        CHECK(strcmp(names, ". .. abs dangling hello hello-pie loop1 loop2 sh")
              == 0);
        list_dir(&fs, "/mnt", names, sizeof names);
        CHECK(strcmp(names, ". ..") == 0);
        list_dir(&fs, "/lib", names, sizeof names);     /* followed */
        CHECK(strcmp(names, ". .. libx.txt") == 0);
        /* types and the ".." entry */
        dir = lookup_ok(&fs, "/deep/a", 0);
        CHECK_EQ(initramfs_readdir(&fs, &dir, 1, &e), VM_OK);
        n = lookup_ok(&fs, "/deep", 0);
        CHECK(same_node(&e.node, &n) && e.type == 4);   /* DT_DIR */
        dir = fs.root;
        uint64_t c = 2;
        while (initramfs_readdir(&fs, &dir, c, &e) == VM_OK) {
                if (e.namelen == 3 && memcmp(e.name, "lib", 3) == 0)
                        CHECK_EQ(e.type, 10);           /* DT_LNK */
                c = e.next;
        }
        /* any cookie is safe */
        CHECK_EQ(initramfs_readdir(&fs, &dir, UINT64_MAX, &e), VM_ENOENT);
        CHECK_EQ(initramfs_readdir(&fs, &dir, 123456, &e), VM_ENOENT);
        n = lookup_ok(&fs, "/etc/motd", 0);
        CHECK_EQ(initramfs_readdir(&fs, &n, 0, &e), VM_ENOTDIR);
        free(b.p);
}

/* Two archives back to back (cpio pads the first with NULs): the later
 * member of a name wins, and listings show each name once. */
TEST(concatenated_archives)
{
        struct blob a = real_archive(), x, both;
        struct initramfs fs;
        struct initramfs_node n;
        char names[512];

        x.p = fixture_load("extra.cpio", &x.len);
        both.len = a.len + x.len;
        both.p = malloc(both.len);
        memcpy(both.p, a.p, a.len);
        memcpy(both.p + a.len, x.p, x.len);
        open_ok(&fs, &both);
        CHECK_EQ(fs.narchives, 2);
        n = lookup_ok(&fs, "/etc/motd", 0);
        CHECK(n.size == 15 && memcmp(n.data, "Second archive\n", 15) == 0);
        CHECK_EQ(n.archive, 1);
        n = lookup_ok(&fs, "/etc/motd.link", 0);        /* its own archive's */
        CHECK(n.size == 21 && memcmp(n.data, "Welcome", 7) == 0);
        n = lookup_ok(&fs, "/extra.txt", 0);
        CHECK_EQ(n.size, 6);
        list_dir(&fs, "/", names, sizeof names);
        CHECK(strcmp(names, ". .. bin deep lib mnt usr etc extra.txt") == 0);
        list_dir(&fs, "/etc", names, sizeof names);
        CHECK(strcmp(names, ". .. big empty motd.link motd") == 0);
        /* the second archive off a 4-byte boundary is junk */
        free(both.p);
        both.len = a.len + 1 + x.len;
        both.p = calloc(1, both.len);
        memcpy(both.p, a.p, a.len);
        memcpy(both.p + a.len + 1, x.p, x.len);
        CHECK_EQ(initramfs_open(&fs, both.p, both.len), VM_EINVAL);
        CHECK_EQ(fs.bad_reason, INITRAMFS_MISALIGNED);
        CHECK_EQ(fs.bad_offset, a.len + 1);
        free(both.p);
        free(x.p);
        free(a.p);
}

/* --- archives written member by member ---------------------------------- */

struct cpio {
        uint8_t *p;
        size_t   len, cap;
        uint32_t ino;
};

static void cpio_put(struct cpio *c, const void *src, size_t n)
{
        if (n == 0)
                return;
        if (c->len + n > c->cap) {
                c->cap = (c->len + n) * 2 + 64;
                c->p = realloc(c->p, c->cap);
                CHECK(c->p != NULL);
        }
        memcpy(c->p + c->len, src, n);
        c->len += n;
}

static void cpio_pad(struct cpio *c)
{
        static const uint8_t zero[4];

        cpio_put(c, zero, (4 - c->len % 4) % 4);
}

/* One member with every field given: f[] in archive order (namesize too). */
static void cpio_raw(struct cpio *c, const char *magic, const uint32_t f[13],
                     const char *name, size_t name_bytes, const void *data,
                     size_t len)
{
        char hdr[111];

        snprintf(hdr, sizeof hdr, "%s", magic);
        for (int i = 0; i < 13; i++)
                snprintf(hdr + 6 + 8 * i, 9, "%08X", f[i]);
        cpio_put(c, hdr, 110);
        cpio_put(c, name, name_bytes);
        cpio_pad(c);
        cpio_put(c, data, len);
        cpio_pad(c);
}

static void cpio_add(struct cpio *c, const char *name, uint32_t mode,
                     const char *data)
{
        size_t len = data ? strlen(data) : 0;
        uint32_t f[13] = { ++c->ino, mode, 0, 0, 1, MTIME, (uint32_t)len,
                           0, 0, 0, 0, (uint32_t)strlen(name) + 1, 0 };

        cpio_raw(c, "070701", f, name, strlen(name) + 1, data, len);
}

static void cpio_trailer(struct cpio *c)
{
        uint32_t f[13] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0 };

        cpio_raw(c, "070701", f, "TRAILER!!!", 11, NULL, 0);
}

/* Open c's bytes from an exactly-sized copy; the status. */
static vm_status_t cpio_open(const struct cpio *c, struct initramfs *fs,
                             uint8_t **copy)
{
        *copy = malloc(c->len ? c->len : 1);
        memcpy(*copy, c->p, c->len);
        return initramfs_open(fs, *copy, c->len);
}

#define DIR_    (INITRAMFS_S_IFDIR | 0755)
#define REG_    (INITRAMFS_S_IFREG | 0644)
#define LNK_    (INITRAMFS_S_IFLNK | 0777)

/* tools/mkinitramfs.py's shape: no root member, "/"-less names, a trailer
 * with mode 0; plus "./" and "/" prefixes and special files. */
TEST(synthetic_archive)
{
        struct cpio c = { 0 };
        struct initramfs fs;
        struct initramfs_node n;
        uint8_t *copy;
        char names[256];

        cpio_add(&c, "bin", DIR_, NULL);
        cpio_add(&c, "./bin/init", REG_, "#!init");
        cpio_add(&c, "/dev", DIR_, NULL);
        cpio_add(&c, "dev/console", INITRAMFS_S_IFCHR | 0600, NULL);
        cpio_add(&c, "dev/fifo", INITRAMFS_S_IFIFO | 0600, NULL);
        cpio_add(&c, "bin/init", REG_, "#!second");     /* later one wins */
        cpio_add(&c, "dev/tty", LNK_, "console");
        cpio_trailer(&c);
        CHECK_EQ(cpio_open(&c, &fs, &copy), VM_OK);
        CHECK(initramfs_check(&fs));
        CHECK_EQ(fs.nmembers, 7);
        CHECK_EQ(fs.root.hdr_off, SIZE_MAX);            /* made up */
        CHECK_EQ(fs.root.ino, INITRAMFS_ROOT_INO);
        n = lookup_ok(&fs, "/bin/init", 0);
        CHECK(n.size == 8 && memcmp(n.data, "#!second", 8) == 0);
        n = lookup_ok(&fs, "/dev/tty", 0);
        CHECK_EQ(n.mode & INITRAMFS_S_IFMT, INITRAMFS_S_IFCHR);
        CHECK_EQ(initramfs_dtype(n.mode), 2);           /* DT_CHR */
        list_dir(&fs, "/dev", names, sizeof names);
        CHECK(strcmp(names, ". .. console fifo tty") == 0);
        list_dir(&fs, "/bin", names, sizeof names);
        CHECK(strcmp(names, ". .. init") == 0);
        CHECK_EQ(lookup_st(&fs, "/dev/console/x", 0), VM_ENOTDIR);
        free(copy);
        free(c.p);
}

/* A member whose parent has no member does not exist (Linux could not
 * have created it either). */
TEST(orphan_member)
{
        struct cpio c = { 0 };
        struct initramfs fs;
        uint8_t *copy;

        cpio_add(&c, "a/b", REG_, "x");
        cpio_trailer(&c);
        CHECK_EQ(cpio_open(&c, &fs, &copy), VM_OK);
        CHECK_EQ(lookup_st(&fs, "/a/b", 0), VM_ENOENT);
        free(copy);
        free(c.p);
}

/* "070702": the data checksum (sum of bytes) is checked. */
TEST(crc_format)
{
        struct cpio c = { 0 };
        struct initramfs fs;
        uint8_t *copy;
        uint32_t f[13] = { 1, REG_, 0, 0, 1, 0, 3, 0, 0, 0, 0, 2,
                           'a' + 'b' + 'c' };

        cpio_raw(&c, "070702", f, "f", 2, "abc", 3);
        cpio_trailer(&c);
        CHECK_EQ(cpio_open(&c, &fs, &copy), VM_OK);
        free(copy);
        c.p[6 + 8 * 12 + 7] ^= 1;       /* the checksum's last digit */
        CHECK_EQ(cpio_open(&c, &fs, &copy), VM_EINVAL);
        CHECK_EQ(fs.bad_reason, INITRAMFS_BAD_CHECKSUM);
        free(copy);
        free(c.p);
}

/* One bad member after a good one: its reason, at its offset. */
struct bad_member {
        const char            *what;
        const char            *magic;
        uint32_t               f[13];
        const char            *name;
        size_t                 name_bytes;
        const char            *data;
        enum initramfs_reason  want;
};

static const struct bad_member bad_members[] = {
        { "unknown type", "070701", { 2, 0170644, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0 },
          "f", 2, "", INITRAMFS_BAD_MODE },
        { "mode over 16 bits", "070701", { 2, 0x10000 | REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0 },
          "f", 2, "", INITRAMFS_BAD_MODE },
        { "directory with data", "070701", { 2, DIR_, 0, 0, 1, 0, 2, 0, 0, 0, 0, 2, 0 },
          "d", 2, "xx", INITRAMFS_UNEXPECTED_DATA },
        { "empty symlink", "070701", { 2, LNK_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0 },
          "l", 2, "", INITRAMFS_BAD_SYMLINK },
        { "symlink to NUL", "070701", { 2, LNK_, 0, 0, 1, 0, 1, 0, 0, 0, 0, 2, 0 },
          "l", 2, "", INITRAMFS_BAD_SYMLINK },
        { "root is a file", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0 },
          ".", 2, "", INITRAMFS_BAD_ROOT },
        { "a//b", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0 },
          "a//b", 5, "", INITRAMFS_BAD_NAME },
        { "a/./b", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 6, 0 },
          "a/./b", 6, "", INITRAMFS_BAD_NAME },
        { "../etc", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 0 },
          "../etc", 7, "", INITRAMFS_BAD_NAME },
        { "trailing slash", "070701", { 2, DIR_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0 },
          "a/", 3, "", INITRAMFS_BAD_NAME },
        { "NUL inside the name", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 0 },
          "a\0b", 4, "", INITRAMFS_NAME_UNTERMINATED },
        { "no NUL at the end", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0 },
          "abc", 3, "", INITRAMFS_NAME_UNTERMINATED },
        { "namesize 0", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 },
          "", 0, "", INITRAMFS_BAD_NAMESIZE },
        { "namesize > PATH_MAX", "070701", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5000, 0 },
          "a", 2, "", INITRAMFS_BAD_NAMESIZE },
        { "bad magic", "070707", { 2, REG_, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0 },
          "a", 2, "", INITRAMFS_BAD_MAGIC },
};

TEST(malformed_members)
{
        for (size_t i = 0; i < ARRAY_SIZE(bad_members); i++) {
                const struct bad_member *m = &bad_members[i];
                struct cpio c = { 0 };
                struct initramfs fs;
                uint8_t *copy;
                size_t at;

                cpio_add(&c, "ok", REG_, "fine");
                at = c.len;
                cpio_raw(&c, m->magic, m->f, m->name, m->name_bytes, m->data,
                         m->f[6]);
                cpio_trailer(&c);
                CHECK_EQ(cpio_open(&c, &fs, &copy), VM_EINVAL);
                if (fs.bad_reason != m->want || fs.bad_offset != at)
                        check_fail(__FILE__, __LINE__, "%s: %s at %zu", m->what,
                                   initramfs_reason_message(fs.bad_reason),
                                   fs.bad_offset);
                free(copy);
                free(c.p);
        }
}

TEST(malformed_whole)
{
        struct initramfs fs;
        static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0 };
        static const uint8_t zeros[64];

        CHECK_EQ(initramfs_open(&fs, NULL, 0), VM_EINVAL);
        CHECK_EQ(fs.bad_reason, INITRAMFS_NO_TRAILER);
        CHECK_EQ(initramfs_open(&fs, zeros, sizeof zeros), VM_EINVAL);
        CHECK_EQ(fs.bad_reason, INITRAMFS_NO_TRAILER);
        CHECK_EQ(initramfs_open(&fs, gz, sizeof gz), VM_EINVAL);
        CHECK_EQ(fs.bad_reason, INITRAMFS_COMPRESSED);
        CHECK_EQ(initramfs_open(&fs, "070701", 6), VM_EINVAL);
        CHECK_EQ(fs.bad_reason, INITRAMFS_TRUNCATED_HEADER);
        for (int r = 0; r < INITRAMFS_NR_REASONS; r++)
                CHECK(strlen(initramfs_reason_message(r)) > 5);
}

/* --- the real archive, damaged ------------------------------------------- */

/* Offset of the member whose (raw) name is `name`. */
static size_t member_at(const struct blob *b, const char *name)
{
        size_t n = strlen(name) + 1;

        for (size_t off = 0; off + 110 + n <= b->len; off += 4)
                if (memcmp(b->p + off, "070701", 6) == 0 &&
                    memcmp(b->p + off + 110, name, n) == 0)
                        return off;
        check_fail(__FILE__, __LINE__, "no member %s", name);
}

static void set_field(struct blob *b, size_t member, int field, const char *hex8)
{
        memcpy(b->p + member + 6 + 8 * field, hex8, 8);
}

TEST(damaged_real_archive)
{
        struct blob b = real_archive();
        struct initramfs fs;
        size_t hello = member_at(&b, "bin/hello");
        size_t trailer = member_at(&b, "TRAILER!!!");
        uint8_t save[110];

        memcpy(save, b.p + hello, 110);
        b.p[hello + 3] = '8';
        CHECK_EQ(initramfs_open(&fs, b.p, b.len), VM_EINVAL);
        CHECK(fs.bad_reason == INITRAMFS_BAD_MAGIC && fs.bad_offset == hello);
        memcpy(b.p + hello, save, 110);
        set_field(&b, hello, 6, "0000g000");
        CHECK_EQ(initramfs_open(&fs, b.p, b.len), VM_EINVAL);
        CHECK(fs.bad_reason == INITRAMFS_BAD_HEX && fs.bad_offset == hello);
        set_field(&b, hello, 6, "7FFFFFFF");            /* size past the end */
        CHECK_EQ(initramfs_open(&fs, b.p, b.len), VM_EINVAL);
        CHECK(fs.bad_reason == INITRAMFS_DATA_PAST_END &&
              fs.bad_offset == hello);
        memcpy(b.p + hello, save, 110);
        set_field(&b, trailer, 11, "00000FFF");         /* name past the end */
        CHECK_EQ(initramfs_open(&fs, b.p, b.len), VM_EINVAL);
        CHECK(fs.bad_reason == INITRAMFS_NAME_PAST_END &&
              fs.bad_offset == trailer);
        set_field(&b, trailer, 11, "0000000B");
        CHECK_EQ(initramfs_open(&fs, b.p, trailer), VM_EINVAL);   /* cut */
        CHECK_EQ(fs.bad_reason, INITRAMFS_NO_TRAILER);
        CHECK_EQ(initramfs_open(&fs, b.p, b.len), VM_OK);
        free(b.p);
}

/*
 * Every prefix of the real archive, with the rest poisoned so that ASan
 * traps any read past the prefix: rejected until the trailer's name is
 * complete, accepted from there on.
 */
TEST(every_truncation)
{
        struct blob b = real_archive();
        struct initramfs fs;
        size_t end = member_at(&b, "TRAILER!!!") + 110 + 11;

        for (size_t len = 0; len <= b.len; len++) {
                ASAN_POISON_MEMORY_REGION(b.p + len, b.len - len);
                vm_status_t st = initramfs_open(&fs, b.p, len);
                ASAN_UNPOISON_MEMORY_REGION(b.p + len, b.len - len);
                if ((st == VM_OK) != (len >= end))
                        check_fail(__FILE__, __LINE__, "prefix %zu: %s", len,
                                   initramfs_reason_message(fs.bad_reason));
        }
        free(b.p);
}

/* --- random damage -------------------------------------------------------- */

/* Exercise everything an accepted archive offers. */
static void use_archive(const struct initramfs *fs)
{
        static const char *const paths[] = {
                "/", "/bin/sh", "/bin/hello", "/etc/motd", "/etc/big",
                "/lib/libx.txt", "/bin/loop1", "/deep/a/b/c/d/file",
                "/etc/../bin/./abs", "/mnt/", "/etc/motd.link", "x/../..",
        };
        uint8_t buf[64];
        size_t done;

        CHECK(initramfs_check(fs));
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                struct initramfs_node n;
                struct initramfs_dirent e;

                for (unsigned fl = 0; fl < 2; fl++) {
                        if (initramfs_lookup(fs, NULL, paths[i], fl, &n) != VM_OK)
                                continue;
                        initramfs_read(&n, n.size > 10 ? n.size - 10 : 0, buf,
                                       sizeof buf, &done);
                        uint64_t c = 0;
                        for (int k = 0; k < 64 && initramfs_readdir(fs, &n, c,
                                                &e) == VM_OK; k++)
                                c = e.next;
                }
        }
}

/* Change some bytes, mostly in headers: digits, magic, names, NULs. */
static void damage(struct rng *r, struct blob *b, const size_t *members,
                   size_t nmembers)
{
        unsigned hits = 1 + (unsigned)rng_below(r, 4);
        static const char alphabet[] = "0123456789abcdefABCDEFgG/.!\0\xff";

        for (unsigned i = 0; i < hits; i++) {
                size_t at = rng_below(r, 4)
                        ? members[rng_below(r, nmembers)] + rng_below(r, 140)
                        : rng_below(r, b->len);
                if (at < b->len)
                        b->p[at] = (uint8_t)alphabet[rng_below(r,
                                                     sizeof alphabet - 1)];
        }
}

TEST(random_mutations)
{
        struct blob base = real_archive();
        struct rng r;
        size_t members[64], n = 0;
        unsigned accepted = 0;

        for (size_t off = 0; off + 6 <= base.len && n < 64; off += 4)
                if (memcmp(base.p + off, "070701", 6) == 0)
                        members[n++] = off;
        CHECK(n >= NMEMBERS);
        rng_seed(&r, check_seed(0xc910));
        for (int iter = 0; iter < 3000; iter++) {
                size_t len = rng_below(&r, 8) ? base.len
                                              : rng_below(&r, base.len + 1);
                struct blob b = { malloc(len ? len : 1), len };
                struct initramfs fs;

                memcpy(b.p, base.p, len);
                damage(&r, &b, members, n);
                if (initramfs_open(&fs, b.p, b.len) == VM_OK) {
                        use_archive(&fs);
                        accepted++;
                } else {
                        CHECK(fs.bad_reason > INITRAMFS_VALID &&
                              fs.bad_reason < INITRAMFS_NR_REASONS);
                        CHECK(fs.bad_offset <= b.len);
                }
                free(b.p);
        }
        CHECK(accepted > 50);
        free(base.p);
}
