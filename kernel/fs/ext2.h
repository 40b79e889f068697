/*
 * ext2.h - the second extended file system on a disk: its on-disk layout
 * (revision 0 and 1 as mke2fs makes them) and the operations the VFS
 * glue (fs/ext2_vfs.c) builds files and directories from.
 *
 * This part knows nothing of vnodes or processes: it reads and writes
 * blocks through an I/O function (a disk in the kernel, a RAM image in
 * the host test tests/host/test_ext2.c), so it is tested against images
 * made by Linux's mke2fs and checked afterwards by Linux's e2fsck.
 *
 * What is supported: block sizes 1, 2 and 4 KiB; 128- and 256-byte
 * inodes; the features sparse_super, large_file, filetype (read and
 * write), and every compatible feature (dir_index directories are read
 * linearly; one that is changed loses its index flag, which e2fsck
 * accepts, as Linux's ext2 leaves it to e2fsck -D). Anything else in the
 * incompatible set refuses the mount (EINVAL), anything else in the
 * read-only-compatible set refuses a read-write mount (EINVAL), and a
 * journal needing recovery refuses it too, as Linux's ext2 does.
 *
 * Mounted as ext4 it also takes what Debian's mkfs.ext4 makes: extent
 * trees (read at any depth; written by rebuilding the file's tree from
 * its extent list, packed full), unwritten extents (fallocate), 64-bit
 * group descriptors (block numbers below 2^32 only), flex_bg,
 * metadata_csum (crc32c of the super block, descriptors, bitmaps,
 * inodes, extent blocks and directory blocks, all kept right on every
 * write), huge_file, dir_nlink and extra_isize. A journal must be clean
 * and is never written: ext4 here is ext2 with ext4's layout, and a
 * crash leaves what e2fsck repairs (the super block says "not clean").
 * Groups whose block bitmap is not initialised (BLOCK_UNINIT) are not
 * allocated from; one whose inode bitmap is not (INODE_UNINIT) gets it
 * initialised at its first inode.
 *
 * Metadata is written as it changes (bitmaps, inode table blocks,
 * directory and indirect blocks); the super block and group descriptors
 * are kept in memory and written by ext2_sync() (and at unmount).
 */
#ifndef FS_EXT2_H
#define FS_EXT2_H

#include <mercator/types.h>

#define EXT2_SUPER_MAGIC        0xEF53
#define EXT2_ROOT_INO           2
#define EXT2_NDIR_BLOCKS        12
#define EXT2_N_BLOCKS           15
#define EXT2_NAME_LEN           255
#define EXT2_FAST_LINK_MAX      60      /* bytes in i_block */

/* Feature bits. */
#define EXT2_FEATURE_COMPAT_HAS_JOURNAL         0x0004
#define EXT2_FEATURE_INCOMPAT_FILETYPE          0x0002
#define EXT2_FEATURE_INCOMPAT_RECOVER           0x0004
#define EXT4_FEATURE_INCOMPAT_EXTENTS           0x0040
#define EXT4_FEATURE_INCOMPAT_64BIT             0x0080
#define EXT4_FEATURE_INCOMPAT_FLEX_BG           0x0200
#define EXT4_FEATURE_INCOMPAT_CSUM_SEED         0x2000
#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER     0x0001
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE       0x0002
#define EXT4_FEATURE_RO_COMPAT_HUGE_FILE        0x0008
#define EXT4_FEATURE_RO_COMPAT_GDT_CSUM         0x0010
#define EXT4_FEATURE_RO_COMPAT_DIR_NLINK        0x0020
#define EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE      0x0040
#define EXT4_FEATURE_RO_COMPAT_METADATA_CSUM    0x0400
#define EXT2_INCOMPAT_SUPP      EXT2_FEATURE_INCOMPAT_FILETYPE
#define EXT2_RO_COMPAT_SUPP     (EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | \
                                 EXT2_FEATURE_RO_COMPAT_LARGE_FILE)
/* What a mount as ext4 takes: Debian's `mkfs.ext4` defaults. */
#define EXT4_INCOMPAT_SUPP      (EXT2_FEATURE_INCOMPAT_FILETYPE | \
                                 EXT4_FEATURE_INCOMPAT_EXTENTS | \
                                 EXT4_FEATURE_INCOMPAT_64BIT | \
                                 EXT4_FEATURE_INCOMPAT_FLEX_BG | \
                                 EXT4_FEATURE_INCOMPAT_CSUM_SEED)
#define EXT4_RO_COMPAT_SUPP     (EXT2_RO_COMPAT_SUPP | \
                                 EXT4_FEATURE_RO_COMPAT_HUGE_FILE | \
                                 EXT4_FEATURE_RO_COMPAT_DIR_NLINK | \
                                 EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | \
                                 EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)

#define EXT2_INDEX_FL           0x00001000      /* hash-indexed directory */
#define EXT4_HUGE_FILE_FL       0x00040000      /* i_blocks in fs blocks */
#define EXT4_EXTENTS_FL         0x00080000      /* i_block: an extent tree */

/* Which driver a mount stands for (mount(2)'s type): the features each
 * takes are Linux's for that name. */
enum ext2_kind { EXT2_KIND_EXT2, EXT2_KIND_EXT3, EXT2_KIND_EXT4 };

/* Directory entry file types (filetype feature). */
#define EXT2_FT_UNKNOWN 0
#define EXT2_FT_REG     1
#define EXT2_FT_DIR     2
#define EXT2_FT_CHR     3
#define EXT2_FT_BLK     4
#define EXT2_FT_FIFO    5
#define EXT2_FT_SOCK    6
#define EXT2_FT_LNK     7

/* Move len bytes at byte offset off of the disk to or from buf.
 * => 0 or -errno (-EIO). */
typedef long (*ext2_io_fn)(void *dev, bool write, uint64_t off, void *buf,
                           size_t len);

/* One inode in memory: the fields the file system uses, decoded. */
struct ext2_inode {
        uint32_t ino;
        uint16_t mode;
        uint32_t uid, gid;
        uint64_t size;
        uint32_t atime, ctime, mtime, dtime, crtime;
        uint16_t links;
        uint64_t blocks;                /* 512-byte units */
        uint32_t flags;
        uint32_t block[EXT2_N_BLOCKS];  /* or a fast symlink's bytes */
        uint32_t generation;
        uint32_t file_acl;
        uint16_t extra_isize;
};

struct ext2_fs {
        ext2_io_fn io;
        void      *dev;
        bool       rdonly;
        bool       use_reserved;        /* may take the root-reserved blocks */
        uint32_t   block_size;          /* 1024, 2048, 4096 */
        uint32_t   blocks_count, r_blocks_count, free_blocks;
        uint32_t   inodes_count, free_inodes;
        uint32_t   first_data_block;
        uint32_t   blocks_per_group, inodes_per_group;
        uint32_t   groups;
        uint32_t   inode_size, first_ino;
        uint32_t   rev;
        uint32_t   feature_compat, feature_incompat, feature_ro_compat;
        uint32_t   gdt_block;           /* first block of the descriptors */
        uint32_t   gdt_blocks;
        uint8_t   *sb_raw;              /* the 1024-byte super block */
        uint8_t   *gdt;                 /* groups * desc_size bytes */
        uint32_t   desc_size;           /* 32, or s_desc_size (64bit) */
        bool       csum;                /* metadata_csum */
        uint32_t   csum_seed;           /* crc32c of the UUID, or stored */
        uint32_t   overhead;            /* s_overhead_clusters (0: count) */
        bool       dirty;               /* sb_raw/gdt differ from the disk */
        uint16_t   state_at_mount;
        uint8_t   *scratch;             /* one block for bitmaps */
        uint8_t   *scratch2;            /* one block for indirect chains */
};

/* Read the super block and the group descriptors of the disk and check
 * that this code can handle them: => 0 and *out; -EINVAL (not ext2, or a
 * feature refused: see above), -EIO, -ENOMEM. A read-write mount marks
 * the file system not clean until ext2_unmount. */
long ext2_mount(ext2_io_fn io, void *dev, uint64_t dev_bytes, bool rdonly,
                struct ext2_fs **out);
/* The same for a mount of type kind: ext4 also takes extents, 64-bit
 * group descriptors, flex_bg, metadata_csum (and csum_seed), huge_file,
 * dir_nlink and extra_isize; ext3 what ext2 takes. */
long ext2_mount_as(ext2_io_fn io, void *dev, uint64_t dev_bytes, bool rdonly,
                   enum ext2_kind kind, struct ext2_fs **out);
/* Write the super block and the group descriptors. => 0 or -EIO. */
long ext2_sync(struct ext2_fs *fs);
/* Sync, mark clean (read-write), free. => 0 or -EIO (freed anyway). */
long ext2_unmount(struct ext2_fs *fs);

/* Inodes. */
long ext2_read_inode(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
long ext2_write_inode(struct ext2_fs *fs, const struct ext2_inode *in);
/* A new inode near directory dir's (0: anywhere) with mode; links 0,
 * every other field zero except times (now) and extra_isize.
 * => 0, -ENOSPC, -EIO, -EROFS. */
long ext2_new_inode(struct ext2_fs *fs, uint32_t dir, uint16_t mode,
                    uint32_t now, struct ext2_inode *in);
/* Free every block of in and the inode itself (dtime = now). */
long ext2_free_inode(struct ext2_fs *fs, struct ext2_inode *in, uint32_t now);

/* The disk block of file block lblk of in: 0 for a hole (alloc false);
 * with alloc, one is allocated (and the indirect blocks on the way),
 * in->blocks grows and in is written. => 0, -ENOSPC, -EIO, -EFBIG. */
long ext2_bmap(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk,
               bool alloc, uint32_t *pblk);
/* Free the blocks past byte `size` and set in->size (in written).
 * The tail of the last block past size is zeroed on disk. */
long ext2_truncate(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size);

/* fallocate of file blocks [first, end) of an extent-mapped file: holes
 * get blocks in unwritten extents (read as zeroes until written), the
 * size is left alone. => 0, -EOPNOTSUPP (block-mapped), -ENOSPC (the
 * blocks taken so far stay, as Linux's), -EIO. */
long ext2_fallocate(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first,
                    uint64_t end);
/* Free the blocks of file blocks [first, end) (a hole; PUNCH_HOLE). */
long ext2_punch(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first,
                uint64_t end);

/* Byte I/O on a file's blocks (directories, symlinks; the host test):
 * reads give zeroes in holes and stop at the size; writes allocate and
 * grow the size. => bytes, or -errno. */
long ext2_read(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off,
               void *buf, size_t len);
long ext2_write(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off,
                const void *buf, size_t len);

/* Directories. */
long ext2_lookup(struct ext2_fs *fs, struct ext2_inode *dir,
                 const char *name, size_t len, uint32_t *ino, uint8_t *type);
/* The entry at byte offset *pos (skipping empty ones), *pos advanced
 * past it: 0; 1 at the end. name gets a NUL. */
long ext2_readdir(struct ext2_fs *fs, struct ext2_inode *dir, uint64_t *pos,
                  char *name, size_t *len, uint32_t *ino, uint8_t *type);
long ext2_add_entry(struct ext2_fs *fs, struct ext2_inode *dir,
                    const char *name, size_t len, uint32_t ino, uint8_t type);
long ext2_remove_entry(struct ext2_fs *fs, struct ext2_inode *dir,
                       const char *name, size_t len);
/* Point the existing entry name at ino (rename over, "..").
 * => 0, -ENOENT. */
long ext2_set_entry(struct ext2_fs *fs, struct ext2_inode *dir,
                    const char *name, size_t len, uint32_t ino, uint8_t type);
/* Has dir no entries but "." and ".."? => 1, 0, -errno. */
long ext2_dir_empty(struct ext2_fs *fs, struct ext2_inode *dir);
/* Make the first block of new directory dir ("." and ".." to parent). */
long ext2_init_dir(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t parent);

/* Symlinks: the target (fast or in a block). */
long ext2_readlink(struct ext2_fs *fs, struct ext2_inode *in, char *buf,
                   size_t size);
long ext2_write_symlink(struct ext2_fs *fs, struct ext2_inode *in,
                        const char *target, size_t len);

/* statfs figures. */
void ext2_statfs(const struct ext2_fs *fs, uint64_t *blocks, uint64_t *bfree,
                 uint64_t *bavail, uint64_t *files, uint64_t *ffree);

/* The directory entry type of a mode. */
uint8_t ext2_mode_type(uint16_t mode);

#endif
