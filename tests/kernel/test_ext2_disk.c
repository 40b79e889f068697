/*
 * test_ext2_disk.c - ext2 on a real disk: tools/test.py gives the kernel
 * tier a third virtio disk (vdc, 4 MiB) that Debian's mke2fs made with
 * 1 KiB blocks and one file, /hello ("hello from the host\n"). The kernel
 * reads that file, writes a new one, /kernel (20 000 bytes through the
 * indirect blocks, byte i = i * 7 + 3), makes a directory /kdir with an
 * entry, removes /hello, and unmounts; test.py then has Debian's e2fsck
 * -fn check the image and debugfs read /kernel back.
 */
#include <mercator/blkdev.h>
#include <mercator/errno.h>
#include <mercator/ktest.h>
#include <mercator/string.h>
#include <fs/blockdev.h>
#include <fs/ext2.h>
#include <vm/kmalloc.h>

static long disk_io(void *dev, bool write, uint64_t off, void *buf, size_t len)
{
        return blockdev_rw_bytes(dev, write, off, buf, len);
}

KTEST(ext2_on_a_virtio_disk)
{
        struct blkdev *vdc = blkdev_find("vdc");
        struct ext2_fs *fs;
        struct ext2_inode root, in, dir, sub;
        uint32_t ino;
        char buf[64];
        uint8_t *data;

        KCHECK(vdc != NULL);
        if (!vdc || ext2_mount(disk_io, vdc, vdc->sectors << BLK_SECTOR_SHIFT,
                               false, &fs) != 0) {
                KCHECK(!"mounted");
                return;
        }
        KCHECK_EQ(fs->block_size, 1024);
        KCHECK_EQ(ext2_read_inode(fs, EXT2_ROOT_INO, &root), 0);
        KCHECK_EQ(ext2_lookup(fs, &root, "hello", 5, &ino, NULL), 0);
        KCHECK_EQ(ext2_read_inode(fs, ino, &in), 0);
        KCHECK_EQ(ext2_read(fs, &in, 0, buf, sizeof buf), 20);
        KCHECK(memcmp(buf, "hello from the host\n", 20) == 0);
        /* Remove it. */
        KCHECK_EQ(ext2_remove_entry(fs, &root, "hello", 5), 0);
        KCHECK_EQ(ext2_free_inode(fs, &in, 1700000000), 0);
        /* A new file through the first indirect block. */
        KCHECK_EQ(ext2_new_inode(fs, EXT2_ROOT_INO, 0100644, 1700000000, &in), 0);
        in.links = 1;
        KCHECK_EQ(ext2_write_inode(fs, &in), 0);
        KCHECK_EQ(ext2_add_entry(fs, &root, "kernel", 6, in.ino, EXT2_FT_REG), 0);
        data = kmalloc(20000);
        KCHECK(data != NULL);
        if (data) {
                for (int i = 0; i < 20000; i++)
                        data[i] = (uint8_t)(i * 7 + 3);
                KCHECK_EQ(ext2_write(fs, &in, 0, data, 20000), 20000);
                kfree(data);
        }
        /* A directory with one entry. */
        KCHECK_EQ(ext2_new_inode(fs, EXT2_ROOT_INO, 040755, 1700000000, &dir), 0);
        dir.links = 2;
        KCHECK_EQ(ext2_write_inode(fs, &dir), 0);
        KCHECK_EQ(ext2_init_dir(fs, &dir, EXT2_ROOT_INO), 0);
        KCHECK_EQ(ext2_add_entry(fs, &root, "kdir", 4, dir.ino, EXT2_FT_DIR), 0);
        root.links++;
        KCHECK_EQ(ext2_write_inode(fs, &root), 0);
        KCHECK_EQ(ext2_new_inode(fs, dir.ino, 0100600, 1700000000, &sub), 0);
        sub.links = 1;
        KCHECK_EQ(ext2_write_inode(fs, &sub), 0);
        KCHECK_EQ(ext2_add_entry(fs, &dir, "inner", 5, sub.ino, EXT2_FT_REG), 0);
        KCHECK_EQ(ext2_unmount(fs), 0);
}
