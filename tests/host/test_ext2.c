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
static enum ext2_kind kind = EXT2_KIND_EXT2;    /* what mounts mount as */
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

static long mount_img(bool rdonly, struct ext2_fs **fs)
{
        return ext2_mount_as(ram_io, NULL, img_len, rdonly, kind, fs);
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

/* start() and finish() for a test of images mounted as ext4: false (the
 * test has nothing to do) without mke2fs and e2fsck. */
static bool ext4_start(void)
{
        if (!have_tools())
                return false;
        kind = EXT2_KIND_EXT4;
        start();
        return true;
}

static void ext4_finish(void)
{
        finish();
        kind = EXT2_KIND_EXT2;
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
        CHECK_EQ(mount_img(false, &fs), 0);
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
        CHECK_EQ(mount_img(false, &fs), 0);
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
/*
 * Fill a new image (mke2fs opts, kb) with one file until ENOSPC, check it
 * and every block it took back after deleting it. At most `slack` blocks
 * may stay free (ext4 keeps some an extent tree could not use); with none,
 * one more byte must be ENOSPC too.
 */
static void fill_then_free(const char *opts, unsigned kb, uint32_t slack)
{
        struct ext2_fs *fs;
        struct ext2_inode in;
        static uint8_t chunk[4096];
        uint64_t off = 0;
        long n;

        make_image(opts, kb);
        CHECK_EQ(mount_img(false, &fs), 0);
        uint32_t free0 = fs->free_blocks;
        uint32_t ino = make(fs, EXT2_ROOT_INO, "filler", 0100644);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        memset(chunk, 0xab, sizeof chunk);
        while ((n = ext2_write(fs, &in, off, chunk, sizeof chunk)) == (long)sizeof chunk)
                off += (uint64_t)n;
        CHECK(n == -ENOSPC || (n > 0 && n < (long)sizeof chunk));
        if (n > 0)
                off += (uint64_t)n;
        CHECK(fs->free_blocks <= slack);
        CHECK_EQ(in.size, off);
        if (!slack)
                CHECK_EQ(ext2_write(fs, &in, off, chunk, 1), -ENOSPC);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        /* Deleting it gives every block back. */
        CHECK_EQ(mount_img(false, &fs), 0);
        remove_name(fs, EXT2_ROOT_INO, "filler");
        CHECK_EQ(fs->free_blocks, free0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
}

TEST(full_disk_is_enospc_and_consistent)
{
        if (!have_tools())
                return;
        start();
        fill_then_free("-t ext2 -b 1024 -m 0", 1024, 0);
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
        CHECK_EQ(mount_img(false, &fs), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        finish();
}

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* --- ext4 (mounted as ext4: extents, 64-bit descriptors, checksums) --- */

/* Debian's mkfs.ext4 -b 1024 on 10 MiB (LTP's mmap16 device): extents,
 * 64bit, flex_bg, metadata_csum, a clean journal, huge_file, dir_nlink,
 * extra_isize. The same session as ext2's, every change e2fsck'd. */
TEST(ext4_images_read_and_written_1k_blocks)
{
        if (!ext4_start())
                return;
        write_session("-t ext4 -b 1024", 10240);
        ext4_finish();
}

TEST(ext4_images_read_and_written_4k_blocks_csum_seed)
{
        if (!ext4_start())
                return;
        write_session("-t ext4 -b 4096 -O metadata_csum_seed", 16384);
        ext4_finish();
}

/* ext4's layout without checksums (and 32-byte descriptors), and an
 * ext2 image mounted as ext4 (block-mapped files stay so). */
TEST(ext4_without_csum_and_ext2_as_ext4)
{
        if (!ext4_start())
                return;
        write_session("-t ext4 -b 2048 -O ^metadata_csum,^64bit", 12288);
        finish();
        start();
        write_session("-t ext2 -b 1024", 8192);
        ext4_finish();
}

/* Directories Linux indexed (e2fsck -D makes the hash trees): changed,
 * they lose the index and their index blocks become checksummed plain
 * blocks, which e2fsck accepts. */
TEST(ext4_indexed_directories_changed)
{
        struct ext2_fs *fs;
        struct ext2_inode in;
        char cmd[256];

        if (!ext4_start())
                return;
        make_image("-t ext4 -b 1024", 10240);
        snprintf(cmd, sizeof cmd, "PATH=$PATH:/sbin:/usr/sbin e2fsck -fyD %s "
                 ">/dev/null 2>&1; PATH=$PATH:/sbin:/usr/sbin debugfs -R "
                 "'stat /sub' %s 2>/dev/null | grep -q 'Flags: 0x81000'",
                 image, image);
        CHECK_EQ(system(cmd), 0);               /* indexed now */
        FILE *f = fopen(image, "r");
        CHECK(f != NULL);
        CHECK_EQ(fread(img, 1, img_len, f), img_len);
        fclose(f);
        CHECK_EQ(mount_img(false, &fs), 0);
        check_reads(fs);
        uint32_t sub = walk(fs, "sub");
        CHECK_EQ(ext2_read_inode(fs, sub, &in), 0);
        CHECK(in.flags & EXT2_INDEX_FL);
        remove_name(fs, sub, "a-rather-long-file-name-number-050");
        make(fs, sub, "one-more", 0100644);
        CHECK_EQ(ext2_read_inode(fs, sub, &in), 0);
        CHECK(!(in.flags & EXT2_INDEX_FL));
        CHECK(walk(fs, "sub/one-more") != 0);
        CHECK(walk(fs, "sub/a-rather-long-file-name-number-051") != 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        ext4_finish();
}

/* A file of many extents (two files written a block each in turn):
 * a tree two index levels deep at 1 KiB blocks (over 4 * 84 extents),
 * read back, shrunk level by level, freed: e2fsck after each step. */
TEST(ext4_deep_extent_trees)
{
        struct ext2_fs *fs;
        struct ext2_inode a, b;
        static uint8_t blk[1024], got[1024];

        if (!ext4_start())
                return;
        make_image("-t ext4 -b 1024", 10240);
        CHECK_EQ(mount_img(false, &fs), 0);
        uint32_t ia = make(fs, EXT2_ROOT_INO, "a", 0100644);
        uint32_t ib = make(fs, EXT2_ROOT_INO, "b", 0100644);
        CHECK_EQ(ext2_read_inode(fs, ia, &a), 0);
        CHECK_EQ(ext2_read_inode(fs, ib, &b), 0);
        const uint32_t n = 800;
        for (uint32_t i = 0; i < n; i++) {
                memset(blk, (int)(i & 0xff), sizeof blk);
                put_le32(blk, i);
                CHECK_EQ(ext2_write(fs, &a, (uint64_t)i * 1024, blk, 1024), 1024);
                CHECK_EQ(ext2_write(fs, &b, (uint64_t)i * 1024, blk, 1024), 1024);
        }
        CHECK_EQ(a.block[1] >> 16, 2);          /* eh_depth: two levels */
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        CHECK_EQ(mount_img(false, &fs), 0);
        CHECK_EQ(ext2_read_inode(fs, ia, &a), 0);
        for (uint32_t i = 0; i < n; i++) {
                memset(blk, (int)(i & 0xff), sizeof blk);
                put_le32(blk, i);
                CHECK_EQ(ext2_read(fs, &a, (uint64_t)i * 1024, got, 1024), 1024);
                CHECK(memcmp(blk, got, 1024) == 0);
        }
        CHECK_EQ(ext2_truncate(fs, &a, 200 * 1024 + 7), 0);     /* depth 1 */
        CHECK_EQ(a.block[1] >> 16, 1);
        CHECK_EQ(ext2_read_inode(fs, ib, &b), 0);
        CHECK_EQ(ext2_punch(fs, &b, 100, 700), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        CHECK_EQ(mount_img(false, &fs), 0);
        CHECK_EQ(ext2_read_inode(fs, ia, &a), 0);
        CHECK_EQ(ext2_truncate(fs, &a, 3000), 0);               /* depth 0 */
        CHECK_EQ(a.block[1] >> 16, 0);
        remove_name(fs, EXT2_ROOT_INO, "b");
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        ext4_finish();
}

/* fallocate: unwritten extents read as zeroes, a write converts only
 * the blocks it writes, KEEP_SIZE past the end; then punch. */
TEST(ext4_fallocate_unwritten)
{
        struct ext2_fs *fs;
        struct ext2_inode in;
        static uint8_t buf[64 * 1024];

        if (!ext4_start())
                return;
        make_image("-t ext4 -b 1024", 10240);
        CHECK_EQ(mount_img(false, &fs), 0);
        uint32_t free0 = fs->free_blocks;
        uint32_t ino = make(fs, EXT2_ROOT_INO, "f", 0100644);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        /* Old bytes on the disk where the blocks will go. */
        memset(buf, 0x5a, sizeof buf);
        CHECK_EQ(ext2_write(fs, &in, 0, buf, sizeof buf), (long)sizeof buf);
        CHECK_EQ(ext2_truncate(fs, &in, 0), 0);
        CHECK_EQ(ext2_fallocate(fs, &in, 0, 64), 0);
        CHECK_EQ(in.blocks, 128);
        CHECK_EQ(fs->free_blocks, free0 - 64);
        in.size = 64 * 1024;                    /* mode 0 sets the size */
        CHECK_EQ(ext2_write_inode(fs, &in), 0);
        CHECK_EQ(ext2_read(fs, &in, 0, buf, sizeof buf), (long)sizeof buf);
        for (size_t i = 0; i < sizeof buf; i++)
                if (buf[i])
                        CHECK(!"unwritten reads zeroes");
        CHECK_EQ(ext2_write(fs, &in, 10 * 1024 + 100, "hello", 5), 5);
        CHECK_EQ(ext2_read(fs, &in, 10 * 1024, buf, 1024), 1024);
        CHECK(memcmp(buf + 100, "hello", 5) == 0 && buf[0] == 0 && buf[1023] == 0);
        CHECK_EQ(ext2_fallocate(fs, &in, 60, 100), 0);  /* KEEP_SIZE past */
        CHECK_EQ(in.size, 64 * 1024);
        CHECK_EQ(fs->free_blocks, free0 - 100);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        CHECK_EQ(mount_img(false, &fs), 0);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(ext2_read(fs, &in, 10 * 1024 + 100, buf, 5), 5);
        CHECK(memcmp(buf, "hello", 5) == 0);
        CHECK_EQ(ext2_punch(fs, &in, 5, 20), 0);
        CHECK_EQ(ext2_read(fs, &in, 10 * 1024 + 100, buf, 5), 5);
        CHECK(buf[0] == 0);
        CHECK_EQ(fs->free_blocks, free0 - 85);
        CHECK_EQ(ext2_truncate(fs, &in, 0), 0);         /* past-end ones too */
        CHECK_EQ(fs->free_blocks, free0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        /* Block-mapped files have no fallocate (Linux's EOPNOTSUPP). */
        kind = EXT2_KIND_EXT2;
        make_image("-t ext2 -b 1024", 4096);
        CHECK_EQ(mount_img(false, &fs), 0);
        ino = make(fs, EXT2_ROOT_INO, "g", 0100644);
        CHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        CHECK_EQ(ext2_fallocate(fs, &in, 0, 4), -EOPNOTSUPP);
        CHECK_EQ(ext2_unmount(fs), 0);
        finish();
}

/* Random sequences of create, write, truncate, fallocate, punch and
 * unlink on six files against a model of their bytes; e2fsck -fn every
 * 40 steps must find nothing, and the files read as the model says. */
static uint32_t rnd_state;

static uint32_t rnd(uint32_t n)
{
        rnd_state = rnd_state * 1103515245u + 12345u;
        return (rnd_state >> 8) % n;
}

#define NFILES  6
#define MAXF    (192 * 1024)

static void random_session(const char *opts, unsigned kib, uint32_t seed)
{
        struct ext2_fs *fs;
        static uint8_t model[NFILES][MAXF], buf[MAXF];
        size_t size[NFILES] = { 0 };
        uint32_t ino[NFILES] = { 0 };
        char name[16];

        rnd_state = seed;
        make_image(opts, kib);
        CHECK_EQ(mount_img(false, &fs), 0);
        uint32_t bs = fs->block_size;
        memset(model, 0, sizeof model);
        for (int step = 1; step <= 400; step++) {
                int f = (int)rnd(NFILES);
                struct ext2_inode in;
                snprintf(name, sizeof name, "r%d", f);
                if (!ino[f]) {
                        ino[f] = make(fs, EXT2_ROOT_INO, name, 0100644);
                        size[f] = 0;
                        memset(model[f], 0, MAXF);
                }
                CHECK_EQ(ext2_read_inode(fs, ino[f], &in), 0);
                uint32_t op = rnd(10);
                if (op < 4) {                           /* write */
                        size_t off = rnd(MAXF - 1), len = 1 + rnd(16 * 1024);
                        len = MIN(len, MAXF - off);
                        for (size_t i = 0; i < len; i++)
                                buf[i] = (uint8_t)rnd(256);
                        CHECK_EQ(ext2_write(fs, &in, off, buf, len), (long)len);
                        memcpy(model[f] + off, buf, len);
                        size[f] = MAX(size[f], off + len);
                } else if (op < 6) {                    /* truncate */
                        size_t ns = rnd(MAXF);
                        CHECK_EQ(ext2_truncate(fs, &in, ns), 0);
                        if (ns < size[f])
                                memset(model[f] + ns, 0, MAXF - ns);
                        size[f] = ns;
                } else if (op < 8) {                    /* fallocate */
                        uint32_t first = rnd(MAXF / bs), n = 1 + rnd(40);
                        n = MIN(n, MAXF / bs - first);
                        CHECK_EQ(ext2_fallocate(fs, &in, first, first + n), 0);
                        if (op == 7 && (first + n) * bs > size[f]) {
                                in.size = size[f] = (first + n) * bs;   /* mode 0 */
                                CHECK_EQ(ext2_write_inode(fs, &in), 0);
                        }
                } else if (op < 9) {                    /* punch */
                        uint32_t first = rnd(MAXF / bs), n = 1 + rnd(60);
                        n = MIN(n, MAXF / bs - first);
                        CHECK_EQ(ext2_punch(fs, &in, first, first + n), 0);
                        memset(model[f] + first * bs, 0, (size_t)n * bs);
                } else {                                /* unlink */
                        remove_name(fs, EXT2_ROOT_INO, name);
                        ino[f] = 0;
                        continue;
                }
                CHECK_EQ(in.size, size[f]);
                CHECK_EQ(ext2_read(fs, &in, 0, buf, MAXF), (long)size[f]);
                if (memcmp(buf, model[f], size[f]) != 0) {
                        printf("seed %u step %d file %d differs\n", seed, step, f);
                        CHECK(!"file reads as the model");
                }
                if (step % 40 == 0) {
                        CHECK_EQ(ext2_unmount(fs), 0);
                        fsck_clean();
                        CHECK_EQ(mount_img(false, &fs), 0);
                }
        }
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
}

TEST(ext4_random_sequences_fsck_clean)
{
        if (!ext4_start())
                return;
        random_session("-t ext4 -b 1024", 10240, 1);
        random_session("-t ext4 -b 1024", 10240, 2);
        random_session("-t ext4 -b 4096", 16384, 3);
        ext4_finish();
}

/* A full ext4: ENOSPC, consistent; deleting gives every block back. */
TEST(ext4_full_disk_is_enospc_and_consistent)
{
        if (!ext4_start())
                return;
        fill_then_free("-t ext4 -b 1024 -m 0", 10240, 3);
        ext4_finish();
}

/* What ext4 refuses: what Linux's ext4 would and this code lacks. */
TEST(ext4_refusals)
{
        struct ext2_fs *fs;

        if (!ext4_start())
                return;
        make_image("-t ext4 -b 1024", 10240);
        CHECK_EQ(mount_img(false, &fs), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        fsck_clean();
        img[1024 + 0x3FC] ^= 1;                 /* the super block's crc */
        CHECK_EQ(mount_img(true, &fs), -EINVAL);
        img[1024 + 0x3FC] ^= 1;
        img[2048 + 0x1E] ^= 1;                  /* group 0's descriptor crc */
        CHECK_EQ(mount_img(true, &fs), -EINVAL);
        img[2048 + 0x1E] ^= 1;
        CHECK_EQ(mount_img(true, &fs), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        make_image("-t ext4 -b 1024 -O inline_data", 10240);    /* incompat */
        CHECK_EQ(mount_img(true, &fs), -EINVAL);
        make_image("-t ext4 -b 1024 -O quota", 10240);          /* ro_compat */
        CHECK_EQ(mount_img(false, &fs), -EINVAL);
        CHECK_EQ(mount_img(true, &fs), 0);
        CHECK_EQ(ext2_unmount(fs), 0);
        ext4_finish();
}
