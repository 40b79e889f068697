/*
 * test_ext2.c - the ext2 code (kernel/fs/ext2.c) over RAM images, with
 * Linux's own tools as referees: images made by the host's mke2fs
 * (-d fills them from a directory this test writes), and every image
 * this code changed checked by the host's `e2fsck -fn` (which must find
 * nothing to fix) and read back by debugfs where contents matter.
 * A host without mke2fs skips (prints a NOTE) rather than fails.
 */
#define _DEFAULT_SOURCE
#include "check.h"
#include "vm_fixture.h"

#include <mercator/errno.h>
#include <fs/ext2.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t *img;
static size_t img_len;
static char dir[64], image[96];

static long ram_io(void *dev, bool write, uint64_t off, void *buf, size_t len)
{
        (void)dev;
        if (off > img_len || len > img_len - off)
                return -EIO;
        if (write)
                memcpy(img + off, buf, len);
        else
                memcpy(buf, img + off, len);
        return 0;
}

static bool have_tools(void)
{
        return system("PATH=$PATH:/sbin:/usr/sbin command -v mke2fs >/dev/null 2>&1 && "
                      "PATH=$PATH:/sbin:/usr/sbin command -v e2fsck >/dev/null 2>&1") == 0;
}

static void write_file(const char *name, size_t bytes, unsigned seed)
{
        char path[160];
        snprintf(path, sizeof path, "%s/src/%s", dir, name);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        for (size_t i = 0; i < bytes; i++)
                fputc((int)((i * 31 + seed) & 0xff), f);
        fclose(f);
}

static bool pattern_ok(const uint8_t *b, size_t off, size_t n, unsigned seed)
{
        for (size_t i = 0; i < n; i++)
                if (b[i] != (uint8_t)(((off + i) * 31 + seed) & 0xff))
                        return false;
        return true;
}

/* mke2fs an image of kib KiB from dir/src with `opts`, load it. */
static void make_image(const char *opts, unsigned kib)
{
        char cmd[512];

        snprintf(cmd, sizeof cmd,
                 "PATH=$PATH:/sbin:/usr/sbin mke2fs -q -F -E root_owner=0:0 %s "
                 "-d %s/src %s %uk >/dev/null 2>&1", opts, dir, image, kib);
        CHECK_EQ(system(cmd), 0);
        FILE *f = fopen(image, "r");
        CHECK(f != NULL);
        img_len = (size_t)kib * 1024;
        free(img);
        img = malloc(img_len);
        CHECK(img != NULL);
        CHECK_EQ(fread(img, 1, img_len, f), img_len);
        fclose(f);
}

/* Save the image and have Linux's e2fsck look at it: nothing to fix. */
static void fsck_clean(void)
{
        char cmd[256];
        FILE *f = fopen(image, "w");

        CHECK(f != NULL);
        CHECK_EQ(fwrite(img, 1, img_len, f), img_len);
        fclose(f);
        snprintf(cmd, sizeof cmd,
                 "PATH=$PATH:/sbin:/usr/sbin e2fsck -fn %s >%s/fsck.log 2>&1",
                 image, dir);
        int rc = system(cmd);
        if (rc != 0) {
                snprintf(cmd, sizeof cmd, "cat %s/fsck.log", dir);
                (void)system(cmd);
        }
        CHECK_EQ(rc, 0);
}

/* debugfs's view of a file's bytes, compared with want. */
static bool debugfs_cat_is(const char *path, const uint8_t *want, size_t n)
{
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "PATH=$PATH:/sbin:/usr/sbin debugfs -R 'cat %s' %s 2>/dev/null",
                 path, image);
        FILE *p = popen(cmd, "r");
        uint8_t *got = malloc(n + 1);
        size_t len = fread(got, 1, n + 1, p);
        pclose(p);
        bool ok = len == n && memcmp(got, want, n) == 0;
        free(got);
        return ok;
}

static void start(void)
{
        setup(64 * MiB);
        snprintf(dir, sizeof dir, "/tmp/test_ext2.XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
        snprintf(image, sizeof image, "%s/img", dir);
        char path[160];
        snprintf(path, sizeof path, "%s/src", dir);
        CHECK_EQ(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/src/sub", dir);
        CHECK_EQ(mkdir(path, 0755), 0);
        write_file("small", 100, 1);
        write_file("big", 300 * 1024 + 77, 2);  /* double indirect at 1 KiB */
        write_file("sub/inner", 5000, 3);
        for (int i = 0; i < 100; i++) {         /* several directory blocks */
                char name[64];
                snprintf(name, sizeof name, "sub/a-rather-long-file-name-number-%03d", i);
                write_file(name, (size_t)i, 4);
        }
        snprintf(path, sizeof path, "%s/src/fast", dir);
        CHECK_EQ(symlink("small", path), 0);
        snprintf(path, sizeof path, "%s/src/slow", dir);
        CHECK_EQ(symlink("sub/../sub/../sub/../sub/../sub/../sub/../sub/../sub/inner-and-more", path), 0);
}

static void finish(void)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)system(cmd);
        free(img);
        img = NULL;
        check_baseline();
}

static uint32_t walk(struct ext2_fs *fs, const char *path)
{
        struct ext2_inode in;
        uint32_t ino = EXT2_ROOT_INO;
        const char *p = path;

        while (*p) {
                const char *e = strchr(p, '/');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
                if (ext2_lookup(fs, &in, p, len, &ino, NULL) != 0)
                        return 0;
                p += len + (e ? 1 : 0);
        }
        return ino;
}

static void check_reads(struct ext2_fs *fs)
{
        struct ext2_inode in;
        static uint8_t buf[400 * 1024];
        char link[128];

        uint32_t ino = walk(fs, "big");
        CHECK(ino != 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(in.size, 300 * 1024 + 77);
        CHECK_EQ(ext2_read(fs, &in, 0, buf, 400 * 1024), 300 * 1024 + 77);
        CHECK(pattern_ok(buf, 0, 300 * 1024 + 77, 2));
        CHECK_EQ(ext2_read(fs, &in, 123457, buf, 1000), 1000);
        CHECK(pattern_ok(buf, 123457, 1000, 2));
        CHECK((ino = walk(fs, "sub/inner")) != 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(ext2_read(fs, &in, 0, buf, 10000), 5000);
        CHECK(pattern_ok(buf, 0, 5000, 3));
        CHECK((ino = walk(fs, "fast")) != 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(ext2_readlink(fs, &in, link, sizeof link), 5);
        CHECK(memcmp(link, "small", 5) == 0);
        CHECK((ino = walk(fs, "slow")) != 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK(in.size >= 60);
        CHECK_EQ(ext2_readlink(fs, &in, link, sizeof link), (long)in.size);
        CHECK(memcmp(link, "sub/../sub/", 11) == 0);
        /* readdir sees ., .., inner and the 60 files, each once. */
        CHECK((ino = walk(fs, "sub")) != 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK(in.size > fs->block_size);
        uint64_t pos = 0;
        char name[256];
        size_t len;
        uint32_t eino;
        uint8_t type;
        int count = 0, dots = 0;
        while (ext2_readdir(fs, &in, &pos, name, &len, &eino, &type) == 0) {
                count++;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                        dots++;
                        CHECK_EQ(type, EXT2_FT_DIR);
                } else
                        CHECK_EQ(type, EXT2_FT_REG);
        }
        CHECK_EQ(count, 103);
        CHECK_EQ(dots, 2);
        CHECK(walk(fs, "sub/nonexistent") == 0);
}

/* Make a file, directory or symlink the way the VFS glue does. */
static uint32_t make(struct ext2_fs *fs, uint32_t parent, const char *name,
                     uint16_t mode)
{
        struct ext2_inode p, in;

        CHECK_EQ(ext2_read_inode(fs, parent, &p), 0);
        CHECK_EQ(ext2_new_inode(fs, parent, mode, 1700000000, &in), 0);
        in.links = (mode & 0170000) == 0040000 ? 2 : 1;
        CHECK_EQ(ext2_write_inode(fs, &in), 0);
        if ((mode & 0170000) == 0040000) {
                CHECK_EQ(ext2_init_dir(fs, &in, parent), 0);
                p.links++;
                CHECK_EQ(ext2_write_inode(fs, &p), 0);
        }
        CHECK_EQ(ext2_add_entry(fs, &p, name, strlen(name), in.ino,
                                ext2_mode_type(mode)), 0);
        return in.ino;
}

static void remove_name(struct ext2_fs *fs, uint32_t parent, const char *name)
{
        struct ext2_inode p, in;
        uint32_t ino;

        CHECK_EQ(ext2_read_inode(fs, parent, &p), 0);
        CHECK_EQ(ext2_lookup(fs, &p, name, strlen(name), &ino, NULL), 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(ext2_remove_entry(fs, &p, name, strlen(name)), 0);
        if ((in.mode & 0170000) == 0040000) {
                CHECK_EQ(ext2_dir_empty(fs, &in), 1);
                in.links = 0;
                p.links--;
                CHECK_EQ(ext2_write_inode(fs, &p), 0);
        } else {
                in.links--;
        }
        if (in.links == 0)
                CHECK_EQ(ext2_free_inode(fs, &in, 1700000001), 0);
        else
                CHECK_EQ(ext2_write_inode(fs, &in), 0);
}

static void write_session(const char *opts, unsigned kib)
{
        struct ext2_fs *fs;
        struct ext2_inode in;
        static uint8_t buf[600 * 1024];

        make_image(opts, kib);
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), 0);
        check_reads(fs);
        uint32_t free_before = fs->free_blocks;

        /* A new file through every level of the map. */
        uint32_t ino = make(fs, EXT2_ROOT_INO, "written", 0100644);
        for (size_t i = 0; i < 600 * 1024; i++)
                buf[i] = (uint8_t)((i * 31 + 9) & 0xff);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(ext2_write(fs, &in, 0, buf, 600 * 1024), 600 * 1024);
        /* A hole, then a byte far out (a sparse file). */
        uint32_t sparse = make(fs, EXT2_ROOT_INO, "sparse", 0100600);
        CHECK_EQ(ext2_read_inode(fs, sparse, &in), 0);
        CHECK_EQ(ext2_write(fs, &in, 5 * 1024 * 1024 + 3, "x", 1), 1);
        CHECK(in.blocks < 64);
        /* Truncate in the middle of the double-indirect tree. */
        uint32_t big = walk(fs, "big");
        CHECK_EQ(ext2_read_inode(fs, big, &in), 0);
        CHECK_EQ(ext2_truncate(fs, &in, 150 * 1024 + 5), 0);
        /* Directories: a new one with entries, one removed again. */
        uint32_t d = make(fs, EXT2_ROOT_INO, "newdir", 040755);
        for (int i = 0; i < 40; i++) {
                char name[64];
                snprintf(name, sizeof name, "entry-with-a-long-name-%02d", i);
                make(fs, d, name, 0100644);
        }
        for (int i = 0; i < 40; i += 3) {
                char name[64];
                snprintf(name, sizeof name, "entry-with-a-long-name-%02d", i);
                remove_name(fs, d, name);
        }
        uint32_t gone = make(fs, d, "subdir-to-go", 040700);
        (void)gone;
        remove_name(fs, d, "subdir-to-go");
        /* Symlinks, fast and slow. */
        uint32_t s = make(fs, d, "fastlink", 0120777);
        CHECK_EQ(ext2_read_inode(fs, s, &in), 0);
        CHECK_EQ(ext2_write_symlink(fs, &in, "../written", 10), 0);
        char target[200];
        memset(target, 't', sizeof target);
        s = make(fs, d, "slowlink", 0120777);
        CHECK_EQ(ext2_read_inode(fs, s, &in), 0);
        CHECK_EQ(ext2_write_symlink(fs, &in, target, sizeof target), 0);
        /* Remove files of the image: small, and a 60-file directory's
         * entries in the middle of its blocks. */
        remove_name(fs, EXT2_ROOT_INO, "small");
        uint32_t sub = walk(fs, "sub");
        remove_name(fs, sub, "a-rather-long-file-name-number-030");
        /* A hard link: two names, links 2. */
        struct ext2_inode p;
        CHECK_EQ(ext2_read_inode(fs, EXT2_ROOT_INO, &p), 0);
        CHECK_EQ(ext2_add_entry(fs, &p, "hardlink", 8, ino, EXT2_FT_REG), 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        in.links = 2;
        CHECK_EQ(ext2_write_inode(fs, &in), 0);
        CHECK(fs->free_blocks < free_before);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        CHECK(debugfs_cat_is("/written", buf, 600 * 1024));
        CHECK(debugfs_cat_is("/hardlink", buf, 600 * 1024));

        /* Mounted again: what was written reads back. */
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), 0);
        CHECK_EQ(walk(fs, "written"), ino);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        memset(buf, 0, 600 * 1024);
        CHECK_EQ(ext2_read(fs, &in, 0, buf, 600 * 1024), 600 * 1024);
        for (size_t i = 0; i < 600 * 1024; i++)
                if (buf[i] != (uint8_t)((i * 31 + 9) & 0xff))
                        CHECK(!"written file reads back");
        CHECK_EQ(ext2_read_inode(fs, walk(fs, "big"), &in), 0);
        CHECK_EQ(in.size, 150 * 1024 + 5);
        CHECK_EQ(ext2_read(fs, &in, 0, buf, 600 * 1024), 150 * 1024 + 5);
        CHECK(pattern_ok(buf, 0, 150 * 1024 + 5, 2));
        /* Grow it back: zeroes past the old end, not the old bytes. */
        CHECK_EQ(ext2_truncate(fs, &in, 200 * 1024), 0);
        CHECK_EQ(ext2_read(fs, &in, 150 * 1024, buf, 50 * 1024), 50 * 1024);
        for (size_t i = 5; i < 50 * 1024; i++)
                if (buf[i])
                        CHECK(!"grown file reads zeroes");
        CHECK_EQ(ext2_read_inode(fs, walk(fs, "sparse"), &in), 0);
        CHECK_EQ(in.size, 5 * 1024 * 1024 + 4);
        CHECK_EQ(ext2_read(fs, &in, 4096, buf, 4), 4);
        CHECK(buf[0] == 0 && buf[3] == 0);
        CHECK(walk(fs, "small") == 0);
        CHECK(walk(fs, "newdir/entry-with-a-long-name-01") != 0);
        CHECK(walk(fs, "newdir/entry-with-a-long-name-03") == 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
}

TEST(linux_images_read_and_written_1k_blocks)
{
        if (!have_tools()) {
                printf("NOTE test_ext2: no mke2fs/e2fsck; nothing checked\n");
                return;
        }
        start();
        write_session("-t ext2 -b 1024 -I 128", 8192);
        finish();
}

TEST(linux_images_read_and_written_4k_blocks)
{
        if (!have_tools()) {
                printf("NOTE test_ext2: no mke2fs/e2fsck; nothing checked\n");
                return;
        }
        start();
        write_session("-t ext2 -b 4096 -I 256", 16384);
        finish();
}

TEST(linux_images_read_and_written_2k_blocks_dir_index)
{
        if (!have_tools()) {
                printf("NOTE test_ext2: no mke2fs/e2fsck; nothing checked\n");
                return;
        }
        start();
        write_session("-t ext2 -b 2048 -O dir_index", 12288);
        finish();
}

/* A full disk: ENOSPC, nothing lost, e2fsck finds it consistent. */
TEST(full_disk_is_enospc_and_consistent)
{
        struct ext2_fs *fs;
        struct ext2_inode in;
        static uint8_t chunk[4096];

        if (!have_tools())
                return;
        start();
        make_image("-t ext2 -b 1024 -m 0", 1024);
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), 0);
        uint32_t free0 = fs->free_blocks;
        uint32_t ino = make(fs, EXT2_ROOT_INO, "filler", 0100644);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        long n;
        uint64_t off = 0;
        memset(chunk, 0xab, sizeof chunk);
        while ((n = ext2_write(fs, &in, off, chunk, sizeof chunk)) == (long)sizeof chunk)
                off += (uint64_t)n;
        CHECK(n == -ENOSPC || (n > 0 && n < (long)sizeof chunk));
        if (n > 0)
                off += (uint64_t)n;
        CHECK_EQ(fs->free_blocks, 0);
        CHECK_EQ(in.size, off);
        CHECK_EQ(ext2_write(fs, &in, off, chunk, 1), -ENOSPC);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        /* Deleting it gives every block back. */
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), 0);
        remove_name(fs, EXT2_ROOT_INO, "filler");
        CHECK_EQ(fs->free_blocks, free0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        finish();
}

/* What is refused, as Linux's ext2 refuses it. */
TEST(refusals)
{
        struct ext2_fs *fs;

        if (!have_tools())
                return;
        start();
        make_image("-t ext4", 8192);            /* extents, 64bit...: incompat */
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, true, &fs), -EINVAL);
        make_image("-t ext2 -O metadata_csum", 8192);   /* ro_compat */
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), -EINVAL);
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, true, &fs), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        make_image("-t ext2", 8192);
        img[1024 + 56] ^= 0xff;                 /* the magic */
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), -EINVAL);
        img[1024 + 56] ^= 0xff;
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len / 2, false, &fs), -EINVAL);
        img[1024 + 96] |= 0x04;                 /* a journal to recover */
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), -EINVAL);
        img[1024 + 96] &= (uint8_t)~0x04;
        CHECK_EQ(ext2_mount(ram_io, NULL, img_len, false, &fs), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        finish();
}
