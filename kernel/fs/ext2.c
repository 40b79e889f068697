/*
 * ext2.c - the second extended file system's structures (fs/ext2.h).
 *
 * Every on-disk field is read and written at its byte offset,
 * little-endian, so nothing depends on the compiler's struct layout.
 * Offsets are the documented ext2 layout (super block at byte 1024,
 * 32-byte group descriptors after it, inodes in per-group tables,
 * 12 direct + single, double and triple indirect block pointers).
 */
#include <mercator/errno.h>
#include <mercator/string.h>
#include <fs/ext2.h>
#include <vm/kmalloc.h>

/* --- little-endian fields ------------------------------------------- */

static uint16_t get16(const uint8_t *p, size_t off)
{
        return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t get32(const uint8_t *p, size_t off)
{
        return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
               (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

static void put16(uint8_t *p, size_t off, uint32_t v)
{
        p[off] = (uint8_t)v;
        p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
        p[off] = (uint8_t)v;
        p[off + 1] = (uint8_t)(v >> 8);
        p[off + 2] = (uint8_t)(v >> 16);
        p[off + 3] = (uint8_t)(v >> 24);
}

/* Super block offsets. */
#define SB_INODES_COUNT         0
#define SB_BLOCKS_COUNT         4
#define SB_R_BLOCKS_COUNT       8
#define SB_FREE_BLOCKS          12
#define SB_FREE_INODES          16
#define SB_FIRST_DATA_BLOCK     20
#define SB_LOG_BLOCK_SIZE       24
#define SB_LOG_FRAG_SIZE        28
#define SB_BLOCKS_PER_GROUP     32
#define SB_INODES_PER_GROUP     40
#define SB_MTIME                44
#define SB_WTIME                48
#define SB_MNT_COUNT            52
#define SB_MAGIC                56
#define SB_STATE                58
#define SB_REV_LEVEL            76
#define SB_FIRST_INO            84
#define SB_INODE_SIZE           88
#define SB_FEATURE_COMPAT       92
#define SB_FEATURE_INCOMPAT     96
#define SB_FEATURE_RO_COMPAT    100
#define EXT2_VALID_FS           1

/* Group descriptor offsets. */
#define GD_SIZE                 32
#define GD_BLOCK_BITMAP         0
#define GD_INODE_BITMAP         4
#define GD_INODE_TABLE          8
#define GD_FREE_BLOCKS          12
#define GD_FREE_INODES          14
#define GD_USED_DIRS            16

/* Inode offsets. */
#define I_MODE          0
#define I_UID           2
#define I_SIZE          4
#define I_ATIME         8
#define I_CTIME         12
#define I_MTIME         16
#define I_DTIME         20
#define I_GID           24
#define I_LINKS         26
#define I_BLOCKS        28
#define I_FLAGS         32
#define I_BLOCK         40
#define I_GENERATION    100
#define I_FILE_ACL      104
#define I_SIZE_HIGH     108
#define I_BLOCKS_HI     116
#define I_UID_HIGH      120
#define I_GID_HIGH      122
#define I_EXTRA_ISIZE   128
#define I_CRTIME        144

#define S_IFMT_  0170000
#define S_IFDIR_ 0040000
#define S_IFREG_ 0100000
#define S_IFLNK_ 0120000

uint8_t ext2_mode_type(uint16_t mode)
{
        switch (mode & S_IFMT_) {
        case 0100000: return EXT2_FT_REG;
        case 0040000: return EXT2_FT_DIR;
        case 0020000: return EXT2_FT_CHR;
        case 0060000: return EXT2_FT_BLK;
        case 0010000: return EXT2_FT_FIFO;
        case 0140000: return EXT2_FT_SOCK;
        case 0120000: return EXT2_FT_LNK;
        }
        return EXT2_FT_UNKNOWN;
}

static bool fast_symlink(const struct ext2_fs *fs, const struct ext2_inode *in);

/* --- blocks ------------------------------------------------------------ */

static long bread(struct ext2_fs *fs, uint32_t blk, void *buf)
{
        if (blk == 0 || blk >= fs->blocks_count)
                return -EIO;
        return fs->io(fs->dev, false, (uint64_t)blk * fs->block_size, buf,
                      fs->block_size);
}

static long bwrite(struct ext2_fs *fs, uint32_t blk, const void *buf)
{
        if (blk == 0 || blk >= fs->blocks_count)
                return -EIO;
        if (fs->rdonly)
                return -EROFS;
        return fs->io(fs->dev, true, (uint64_t)blk * fs->block_size,
                      (void *)(uintptr_t)buf, fs->block_size);
}

static uint8_t *gd(struct ext2_fs *fs, uint32_t g)
{
        return fs->gdt + (size_t)g * GD_SIZE;
}

/* Does group g hold a copy of the super block (sparse_super: 0, 1 and
 * powers of 3, 5, 7)? */
static bool group_has_super(const struct ext2_fs *fs, uint32_t g)
{
        if (g <= 1 || !(fs->feature_ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER))
                return true;
        for (uint32_t b = 3; b <= 7; b += 2) {
                uint32_t p = b;
                while (p < g)
                        p *= b;
                if (p == g)
                        return true;
        }
        return false;
}

/* --- mount ------------------------------------------------------------- */

long ext2_mount(ext2_io_fn io, void *dev, uint64_t dev_bytes, bool rdonly,
                struct ext2_fs **out)
{
        struct ext2_fs *fs;
        uint8_t *sb;
        long err;

        if (dev_bytes < 2048)
                return -EINVAL;
        if (!(fs = kzalloc(sizeof *fs)))
                return -ENOMEM;
        if (!(sb = fs->sb_raw = kmalloc(1024))) {
                kfree(fs);
                return -ENOMEM;
        }
        fs->io = io;
        fs->dev = dev;
        fs->rdonly = rdonly;
        err = io(dev, false, 1024, sb, 1024);
        if (err)
                goto fail;
        err = -EINVAL;
        if (get16(sb, SB_MAGIC) != EXT2_SUPER_MAGIC)
                goto fail;
        uint32_t log = get32(sb, SB_LOG_BLOCK_SIZE);
        if (log > 2)
                goto fail;
        fs->block_size = 1024u << log;
        fs->blocks_count = get32(sb, SB_BLOCKS_COUNT);
        fs->r_blocks_count = get32(sb, SB_R_BLOCKS_COUNT);
        fs->free_blocks = get32(sb, SB_FREE_BLOCKS);
        fs->inodes_count = get32(sb, SB_INODES_COUNT);
        fs->free_inodes = get32(sb, SB_FREE_INODES);
        fs->first_data_block = get32(sb, SB_FIRST_DATA_BLOCK);
        fs->blocks_per_group = get32(sb, SB_BLOCKS_PER_GROUP);
        fs->inodes_per_group = get32(sb, SB_INODES_PER_GROUP);
        fs->rev = get32(sb, SB_REV_LEVEL);
        if (fs->rev == 0) {
                fs->inode_size = 128;
                fs->first_ino = 11;
        } else {
                fs->inode_size = get16(sb, SB_INODE_SIZE);
                fs->first_ino = get32(sb, SB_FIRST_INO);
                fs->feature_compat = get32(sb, SB_FEATURE_COMPAT);
                fs->feature_incompat = get32(sb, SB_FEATURE_INCOMPAT);
                fs->feature_ro_compat = get32(sb, SB_FEATURE_RO_COMPAT);
        }
        if (fs->rev > 1 || fs->inode_size < 128 ||
            fs->inode_size > fs->block_size ||
            (fs->inode_size & (fs->inode_size - 1)) ||
            fs->blocks_per_group == 0 || fs->inodes_per_group == 0 ||
            fs->blocks_per_group > fs->block_size * 8 ||
            fs->inodes_per_group > fs->block_size * 8 ||
            fs->first_data_block >= fs->blocks_count ||
            fs->first_data_block != (fs->block_size == 1024 ? 1u : 0u) ||
            (uint64_t)fs->blocks_count * fs->block_size > dev_bytes ||
            fs->first_ino < 11 || fs->first_ino >= fs->inodes_count)
                goto fail;
        /* Features: incompatible ones we lack refuse the mount; a journal
         * to replay too; read-only-compatible ones a read-write mount. */
        if (fs->feature_incompat & ~(uint32_t)EXT2_INCOMPAT_SUPP)
                goto fail;
        if (!rdonly && (fs->feature_ro_compat & ~(uint32_t)EXT2_RO_COMPAT_SUPP))
                goto fail;
        fs->groups = (fs->blocks_count - fs->first_data_block +
                      fs->blocks_per_group - 1) / fs->blocks_per_group;
        if ((uint64_t)fs->groups * fs->inodes_per_group != fs->inodes_count)
                goto fail;
        fs->gdt_block = fs->first_data_block + 1;
        fs->gdt_blocks = (fs->groups * GD_SIZE + fs->block_size - 1) /
                         fs->block_size;
        err = -ENOMEM;
        if (!(fs->gdt = kmalloc((size_t)fs->gdt_blocks * fs->block_size)) ||
            !(fs->scratch = kmalloc(fs->block_size)) ||
            !(fs->scratch2 = kmalloc(fs->block_size)))
                goto fail;
        for (uint32_t i = 0; i < fs->gdt_blocks; i++)
                if ((err = bread(fs, fs->gdt_block + i,
                                 fs->gdt + (size_t)i * fs->block_size)) != 0)
                        goto fail;
        err = -EINVAL;
        for (uint32_t g = 0; g < fs->groups; g++) {
                uint8_t *d = gd(fs, g);
                uint32_t it = get32(d, GD_INODE_TABLE);
                uint32_t itb = (fs->inodes_per_group * fs->inode_size +
                                fs->block_size - 1) / fs->block_size;
                if (get32(d, GD_BLOCK_BITMAP) >= fs->blocks_count ||
                    get32(d, GD_INODE_BITMAP) >= fs->blocks_count ||
                    it < fs->first_data_block || it + itb > fs->blocks_count)
                        goto fail;
        }
        fs->state_at_mount = get16(sb, SB_STATE);
        if (!rdonly) {
                put16(sb, SB_STATE, fs->state_at_mount & ~EXT2_VALID_FS);
                put16(sb, SB_MNT_COUNT, get16(sb, SB_MNT_COUNT) + 1u);
                fs->dirty = true;
                if ((err = ext2_sync(fs)) != 0)
                        goto fail;
        }
        *out = fs;
        return 0;
fail:
        kfree(fs->scratch2);
        kfree(fs->scratch);
        kfree(fs->gdt);
        kfree(fs->sb_raw);
        kfree(fs);
        return err;
}

long ext2_sync(struct ext2_fs *fs)
{
        long err;

        if (fs->rdonly || !fs->dirty)
                return 0;
        put32(fs->sb_raw, SB_FREE_BLOCKS, fs->free_blocks);
        put32(fs->sb_raw, SB_FREE_INODES, fs->free_inodes);
        if ((err = fs->io(fs->dev, true, 1024, fs->sb_raw, 1024)) != 0)
                return err;
        for (uint32_t i = 0; i < fs->gdt_blocks; i++)
                if ((err = bwrite(fs, fs->gdt_block + i,
                                  fs->gdt + (size_t)i * fs->block_size)) != 0)
                        return err;
        fs->dirty = false;
        return 0;
}

long ext2_unmount(struct ext2_fs *fs)
{
        long err = 0;

        if (!fs->rdonly) {
                put16(fs->sb_raw, SB_STATE, fs->state_at_mount);
                fs->dirty = true;
                err = ext2_sync(fs);
        }
        kfree(fs->scratch2);
        kfree(fs->scratch);
        kfree(fs->gdt);
        kfree(fs->sb_raw);
        kfree(fs);
        return err;
}

void ext2_statfs(const struct ext2_fs *fs, uint64_t *blocks, uint64_t *bfree,
                 uint64_t *bavail, uint64_t *files, uint64_t *ffree)
{
        /* Linux's ext2 (minixdf off) subtracts the overhead: the metadata
         * blocks of every group. Counted as mke2fs lays them out. */
        uint64_t overhead = fs->first_data_block;
        uint32_t itb = (fs->inodes_per_group * fs->inode_size +
                        fs->block_size - 1) / fs->block_size;
        for (uint32_t g = 0; g < fs->groups; g++) {
                if (group_has_super(fs, g))
                        overhead += 1 + fs->gdt_blocks +
                                    get16(fs->sb_raw, 206); /* reserved GDT */
                overhead += 2 + itb;
        }
        *blocks = fs->blocks_count - overhead;
        *bfree = fs->free_blocks;
        *bavail = fs->free_blocks > fs->r_blocks_count
                  ? fs->free_blocks - fs->r_blocks_count : 0;
        *files = fs->inodes_count;
        *ffree = fs->free_inodes;
}

/* --- bitmaps ------------------------------------------------------------ */

static int find_zero(const uint8_t *map, uint32_t from, uint32_t bits)
{
        for (uint32_t i = from; i < bits; i++)
                if (!(map[i >> 3] & (1u << (i & 7))))
                        return (int)i;
        return -1;
}

/* Blocks in group g (the last may be short). */
static uint32_t group_blocks(const struct ext2_fs *fs, uint32_t g)
{
        uint32_t start = fs->first_data_block + g * fs->blocks_per_group;
        return MIN(fs->blocks_per_group, fs->blocks_count - start);
}

static long alloc_block(struct ext2_fs *fs, uint32_t goal_group, uint32_t *out)
{
        uint8_t *map = fs->scratch;
        long err;

        if (fs->rdonly)
                return -EROFS;
        if (fs->free_blocks == 0 ||
            (!fs->use_reserved && fs->free_blocks <= fs->r_blocks_count))
                return -ENOSPC;
        for (uint32_t k = 0; k < fs->groups; k++) {
                uint32_t g = (goal_group + k) % fs->groups;
                uint8_t *d = gd(fs, g);
                if (get16(d, GD_FREE_BLOCKS) == 0)
                        continue;
                if ((err = bread(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                        return err;
                int bit = find_zero(map, 0, group_blocks(fs, g));
                if (bit < 0)
                        continue;       /* the count was wrong: go on */
                map[bit >> 3] |= (uint8_t)(1u << (bit & 7));
                if ((err = bwrite(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                        return err;
                put16(d, GD_FREE_BLOCKS, get16(d, GD_FREE_BLOCKS) - 1u);
                fs->free_blocks--;
                fs->dirty = true;
                *out = fs->first_data_block + g * fs->blocks_per_group +
                       (uint32_t)bit;
                return 0;
        }
        return -ENOSPC;
}

static long free_block(struct ext2_fs *fs, uint32_t blk)
{
        uint8_t *map = fs->scratch;
        long err;

        if (blk < fs->first_data_block || blk >= fs->blocks_count)
                return -EIO;
        uint32_t g = (blk - fs->first_data_block) / fs->blocks_per_group;
        uint32_t bit = (blk - fs->first_data_block) % fs->blocks_per_group;
        uint8_t *d = gd(fs, g);
        if ((err = bread(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                return err;
        if (!(map[bit >> 3] & (1u << (bit & 7))))
                return -EIO;            /* freeing a free block */
        map[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
        if ((err = bwrite(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                return err;
        put16(d, GD_FREE_BLOCKS, get16(d, GD_FREE_BLOCKS) + 1u);
        fs->free_blocks++;
        fs->dirty = true;
        return 0;
}

/* --- inodes ---------------------------------------------------------------- */

static long inode_pos(struct ext2_fs *fs, uint32_t ino, uint32_t *blk,
                      uint32_t *off)
{
        if (ino == 0 || ino > fs->inodes_count)
                return -EIO;
        uint32_t g = (ino - 1) / fs->inodes_per_group;
        uint32_t i = (ino - 1) % fs->inodes_per_group;
        uint64_t byte = (uint64_t)i * fs->inode_size;
        *blk = get32(gd(fs, g), GD_INODE_TABLE) + (uint32_t)(byte / fs->block_size);
        *off = (uint32_t)(byte % fs->block_size);
        return 0;
}

long ext2_read_inode(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
        uint8_t *b = fs->scratch;
        uint32_t blk, off;
        long err;

        if ((err = inode_pos(fs, ino, &blk, &off)) != 0 ||
            (err = bread(fs, blk, b)) != 0)
                return err;
        const uint8_t *p = b + off;
        memset(in, 0, sizeof *in);
        in->ino = ino;
        in->mode = get16(p, I_MODE);
        in->uid = get16(p, I_UID) | (uint32_t)get16(p, I_UID_HIGH) << 16;
        in->gid = get16(p, I_GID) | (uint32_t)get16(p, I_GID_HIGH) << 16;
        in->size = get32(p, I_SIZE);
        if ((in->mode & S_IFMT_) == S_IFREG_)
                in->size |= (uint64_t)get32(p, I_SIZE_HIGH) << 32;
        in->atime = get32(p, I_ATIME);
        in->ctime = get32(p, I_CTIME);
        in->mtime = get32(p, I_MTIME);
        in->dtime = get32(p, I_DTIME);
        in->links = get16(p, I_LINKS);
        in->blocks = get32(p, I_BLOCKS) | (uint64_t)get16(p, I_BLOCKS_HI) << 32;
        in->flags = get32(p, I_FLAGS);
        for (int i = 0; i < EXT2_N_BLOCKS; i++)
                in->block[i] = get32(p, I_BLOCK + 4 * (size_t)i);
        in->generation = get32(p, I_GENERATION);
        in->file_acl = get32(p, I_FILE_ACL);
        if (fs->inode_size > 128) {
                in->extra_isize = get16(p, I_EXTRA_ISIZE);
                if (in->extra_isize >= I_CRTIME + 4 - 128)
                        in->crtime = get32(p, I_CRTIME);
        }
        return 0;
}

long ext2_write_inode(struct ext2_fs *fs, const struct ext2_inode *in)
{
        uint8_t *b = fs->scratch;
        uint32_t blk, off;
        long err;

        if (fs->rdonly)
                return -EROFS;
        if ((err = inode_pos(fs, in->ino, &blk, &off)) != 0 ||
            (err = bread(fs, blk, b)) != 0)
                return err;
        uint8_t *p = b + off;
        put16(p, I_MODE, in->mode);
        put16(p, I_UID, in->uid & 0xffff);
        put16(p, I_UID_HIGH, in->uid >> 16);
        put16(p, I_GID, in->gid & 0xffff);
        put16(p, I_GID_HIGH, in->gid >> 16);
        put32(p, I_SIZE, (uint32_t)in->size);
        if ((in->mode & S_IFMT_) == S_IFREG_)
                put32(p, I_SIZE_HIGH, (uint32_t)(in->size >> 32));
        put32(p, I_ATIME, in->atime);
        put32(p, I_CTIME, in->ctime);
        put32(p, I_MTIME, in->mtime);
        put32(p, I_DTIME, in->dtime);
        put16(p, I_LINKS, in->links);
        put32(p, I_BLOCKS, (uint32_t)in->blocks);
        put16(p, I_BLOCKS_HI, (uint32_t)(in->blocks >> 32));
        put32(p, I_FLAGS, in->flags);
        for (int i = 0; i < EXT2_N_BLOCKS; i++)
                put32(p, I_BLOCK + 4 * (size_t)i, in->block[i]);
        put32(p, I_GENERATION, in->generation);
        put32(p, I_FILE_ACL, in->file_acl);
        if (fs->inode_size > 128) {
                put16(p, I_EXTRA_ISIZE, in->extra_isize);
                if (in->extra_isize >= I_CRTIME + 4 - 128)
                        put32(p, I_CRTIME, in->crtime);
        }
        return bwrite(fs, blk, b);
}

/* A large file (>= 2 GiB) needs the large_file feature in the super
 * block, which Linux sets when the first one appears. */
static void note_large_file(struct ext2_fs *fs, uint64_t size)
{
        if (size > 0x7fffffffu &&
            !(fs->feature_ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE) &&
            fs->rev >= 1) {
                fs->feature_ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
                put32(fs->sb_raw, SB_FEATURE_RO_COMPAT, fs->feature_ro_compat);
                fs->dirty = true;
        }
}

long ext2_new_inode(struct ext2_fs *fs, uint32_t dir, uint16_t mode,
                    uint32_t now, struct ext2_inode *in)
{
        uint8_t *map = fs->scratch;
        bool isdir = (mode & S_IFMT_) == S_IFDIR_;
        uint32_t goal = dir ? (dir - 1) / fs->inodes_per_group : 0;
        long err;

        if (fs->rdonly)
                return -EROFS;
        if (fs->free_inodes == 0)
                return -ENOSPC;
        /* A directory goes to the group with the most free inodes (a
         * simple spread); a file near its directory. */
        if (isdir) {
                uint32_t best = 0;
                for (uint32_t g = 0; g < fs->groups; g++)
                        if (get16(gd(fs, g), GD_FREE_INODES) >
                            get16(gd(fs, best), GD_FREE_INODES))
                                best = g;
                goal = best;
        }
        for (uint32_t k = 0; k < fs->groups; k++) {
                uint32_t g = (goal + k) % fs->groups;
                uint8_t *d = gd(fs, g);
                if (get16(d, GD_FREE_INODES) == 0)
                        continue;
                if ((err = bread(fs, get32(d, GD_INODE_BITMAP), map)) != 0)
                        return err;
                uint32_t from = g == 0 ? fs->first_ino - 1 : 0;
                int bit = find_zero(map, from, fs->inodes_per_group);
                if (bit < 0)
                        continue;
                map[bit >> 3] |= (uint8_t)(1u << (bit & 7));
                if ((err = bwrite(fs, get32(d, GD_INODE_BITMAP), map)) != 0)
                        return err;
                put16(d, GD_FREE_INODES, get16(d, GD_FREE_INODES) - 1u);
                if (isdir)
                        put16(d, GD_USED_DIRS, get16(d, GD_USED_DIRS) + 1u);
                fs->free_inodes--;
                fs->dirty = true;
                uint32_t ino = g * fs->inodes_per_group + (uint32_t)bit + 1;
                /* Start from the old bytes so fields we do not know stay
                 * as mke2fs left them, then clear the whole inode. */
                uint32_t blk, off;
                if ((err = inode_pos(fs, ino, &blk, &off)) != 0 ||
                    (err = bread(fs, blk, map)) != 0)
                        return err;
                uint32_t gen = get32(map + off, I_GENERATION) + 1;
                memset(map + off, 0, fs->inode_size);
                if ((err = bwrite(fs, blk, map)) != 0)
                        return err;
                memset(in, 0, sizeof *in);
                in->ino = ino;
                in->mode = mode;
                in->atime = in->ctime = in->mtime = in->crtime = now;
                in->generation = gen;
                if (fs->inode_size > 128)
                        in->extra_isize = 32;
                return 0;
        }
        return -ENOSPC;
}

/* --- the block map ----------------------------------------------------- */

static uint32_t ptrs_per_block(const struct ext2_fs *fs)
{
        return fs->block_size / 4;
}

static uint32_t group_of_inode(const struct ext2_fs *fs, uint32_t ino)
{
        return (ino - 1) / fs->inodes_per_group;
}

/* A new block, zeroed on disk if zero (indirect blocks). */
static long new_block(struct ext2_fs *fs, struct ext2_inode *in, bool zero,
                      uint32_t *out)
{
        long err = alloc_block(fs, group_of_inode(fs, in->ino), out);

        if (err)
                return err;
        in->blocks += fs->block_size / 512;
        if (zero) {
                uint8_t *z = kzalloc(fs->block_size);
                if (!z)
                        return -ENOMEM;
                err = bwrite(fs, *out, z);
                kfree(z);
        }
        return err;
}

long ext2_bmap(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk,
               bool alloc, uint32_t *pblk)
{
        uint32_t ppb = ptrs_per_block(fs);
        uint32_t idx[4];
        int depth;
        uint32_t *slot, blk;
        bool changed = false;
        long err;

        /* The path: i_block slot, then an index per indirect level. */
        if (lblk < EXT2_NDIR_BLOCKS) {
                idx[0] = (uint32_t)lblk;
                depth = 0;
        } else if ((lblk -= EXT2_NDIR_BLOCKS) < ppb) {
                idx[0] = 12;
                idx[1] = (uint32_t)lblk;
                depth = 1;
        } else if ((lblk -= ppb) < (uint64_t)ppb * ppb) {
                idx[0] = 13;
                idx[1] = (uint32_t)(lblk / ppb);
                idx[2] = (uint32_t)(lblk % ppb);
                depth = 2;
        } else if ((lblk -= (uint64_t)ppb * ppb) < (uint64_t)ppb * ppb * ppb) {
                idx[0] = 14;
                idx[1] = (uint32_t)(lblk / ((uint64_t)ppb * ppb));
                idx[2] = (uint32_t)(lblk / ppb % ppb);
                idx[3] = (uint32_t)(lblk % ppb);
                depth = 3;
        } else {
                return -EFBIG;
        }
        slot = &in->block[idx[0]];
        blk = *slot;
        if (!blk) {
                if (!alloc) {
                        *pblk = 0;
                        return 0;
                }
                if ((err = new_block(fs, in, depth > 0, &blk)) != 0)
                        return err;
                *slot = blk;
                changed = true;
        }
        uint8_t *ib = fs->scratch2;
        for (int level = 1; level <= depth; level++) {
                uint32_t parent = blk;
                if ((err = bread(fs, parent, ib)) != 0)
                        goto out;
                blk = get32(ib, 4 * (size_t)idx[level]);
                if (!blk) {
                        if (!alloc)
                                break;
                        if ((err = new_block(fs, in, level < depth, &blk)) != 0)
                                goto out;
                        /* new_block may have used scratch2? no: it zeroes
                         * from its own buffer. Re-read to be safe. */
                        if ((err = bread(fs, parent, ib)) != 0)
                                goto out;
                        put32(ib, 4 * (size_t)idx[level], blk);
                        if ((err = bwrite(fs, parent, ib)) != 0)
                                goto out;
                        changed = true;
                }
        }
        *pblk = blk;
        err = 0;
out:
        if (changed) {
                long e2 = ext2_write_inode(fs, in);
                if (!err)
                        err = e2;
        }
        return err;
}

/*
 * Free the blocks of the subtree under indirect block blk (depth levels
 * of pointers below it) whose file-block number within the subtree is
 * >= from; free blk itself when nothing below it is left.
 * => 0 or -errno; *empty: blk was freed.
 */
static long free_tree(struct ext2_fs *fs, struct ext2_inode *in, uint32_t blk,
                      int depth, uint64_t from, bool *empty)
{
        uint32_t ppb = ptrs_per_block(fs);
        uint64_t span = 1;              /* file blocks per pointer */
        uint8_t *b;
        bool any = false, changed = false;
        long err = 0;

        for (int i = 1; i < depth; i++)
                span *= ppb;
        if (!(b = kmalloc(fs->block_size)))
                return -ENOMEM;
        if ((err = bread(fs, blk, b)) != 0)
                goto out;
        for (uint32_t i = 0; i < ppb; i++) {
                uint32_t child = get32(b, 4 * (size_t)i);
                uint64_t first = (uint64_t)i * span;
                if (!child)
                        continue;
                if (first + span <= from) {
                        any = true;
                        continue;
                }
                if (depth == 1) {
                        if ((err = free_block(fs, child)) != 0)
                                goto out;
                        in->blocks -= fs->block_size / 512;
                        put32(b, 4 * (size_t)i, 0);
                        changed = true;
                } else {
                        bool gone;
                        uint64_t sub = from > first ? from - first : 0;
                        if ((err = free_tree(fs, in, child, depth - 1, sub,
                                             &gone)) != 0)
                                goto out;
                        if (gone) {
                                put32(b, 4 * (size_t)i, 0);
                                changed = true;
                        } else {
                                any = true;
                        }
                }
        }
        if (!any) {
                if ((err = free_block(fs, blk)) != 0)
                        goto out;
                in->blocks -= fs->block_size / 512;
                *empty = true;
        } else {
                *empty = false;
                if (changed)
                        err = bwrite(fs, blk, b);
        }
out:
        kfree(b);
        return err;
}

long ext2_truncate(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size)
{
        uint32_t bs = fs->block_size, ppb = ptrs_per_block(fs);
        uint64_t keep = (size + bs - 1) / bs;   /* blocks kept */
        long err;

        if (fs->rdonly)
                return -EROFS;
        /* Zero the tail of the last kept block, so that growing the file
         * again reads zeroes there. */
        if (size % bs) {
                uint32_t blk;
                if ((err = ext2_bmap(fs, in, size / bs, false, &blk)) != 0)
                        return err;
                if (blk) {
                        uint8_t *b = kmalloc(bs);
                        if (!b)
                                return -ENOMEM;
                        err = bread(fs, blk, b);
                        if (!err) {
                                memset(b + size % bs, 0, bs - size % bs);
                                err = bwrite(fs, blk, b);
                        }
                        kfree(b);
                        if (err)
                                return err;
                }
        }
        for (uint64_t i = keep; i < EXT2_NDIR_BLOCKS; i++) {
                if (!in->block[i])
                        continue;
                if ((err = free_block(fs, in->block[i])) != 0)
                        return err;
                in->block[i] = 0;
                in->blocks -= bs / 512;
        }
        uint64_t base = EXT2_NDIR_BLOCKS, span = ppb;
        for (int d = 1; d <= 3; d++) {
                uint32_t *slot = &in->block[11 + d];
                if (*slot && keep < base + span) {
                        bool gone;
                        uint64_t from = keep > base ? keep - base : 0;
                        if ((err = free_tree(fs, in, *slot, d, from, &gone)) != 0)
                                return err;
                        if (gone)
                                *slot = 0;
                }
                base += span;
                span *= ppb;
        }
        in->size = size;
        return ext2_write_inode(fs, in);
}

long ext2_free_inode(struct ext2_fs *fs, struct ext2_inode *in, uint32_t now)
{
        uint8_t *map = fs->scratch;
        long err;

        if (fs->rdonly)
                return -EROFS;
        bool fast_link = (in->mode & S_IFMT_) == S_IFLNK_ && fast_symlink(fs, in);
        if (!fast_link && (err = ext2_truncate(fs, in, 0)) != 0)
                return err;
        in->links = 0;
        in->dtime = now;
        if ((err = ext2_write_inode(fs, in)) != 0)
                return err;
        uint32_t g = (in->ino - 1) / fs->inodes_per_group;
        uint32_t bit = (in->ino - 1) % fs->inodes_per_group;
        uint8_t *d = gd(fs, g);
        if ((err = bread(fs, get32(d, GD_INODE_BITMAP), map)) != 0)
                return err;
        map[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
        if ((err = bwrite(fs, get32(d, GD_INODE_BITMAP), map)) != 0)
                return err;
        put16(d, GD_FREE_INODES, get16(d, GD_FREE_INODES) + 1u);
        if ((in->mode & S_IFMT_) == S_IFDIR_)
                put16(d, GD_USED_DIRS, get16(d, GD_USED_DIRS) - 1u);
        fs->free_inodes++;
        fs->dirty = true;
        return 0;
}

/* --- byte I/O on a file's blocks --------------------------------------- */

long ext2_read(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off,
               void *buf, size_t len)
{
        uint32_t bs = fs->block_size;
        uint8_t *b, *dst = buf;
        size_t done = 0;
        long err = 0;

        if (off >= in->size)
                return 0;
        len = (size_t)MIN((uint64_t)len, in->size - off);
        if (!(b = kmalloc(bs)))
                return -ENOMEM;
        while (done < len) {
                uint64_t pos = off + done;
                uint32_t in_blk = (uint32_t)(pos % bs);
                size_t n = MIN((size_t)(bs - in_blk), len - done);
                uint32_t blk;
                if ((err = ext2_bmap(fs, in, pos / bs, false, &blk)) != 0)
                        break;
                if (!blk) {
                        memset(dst + done, 0, n);
                } else {
                        if ((err = bread(fs, blk, b)) != 0)
                                break;
                        memcpy(dst + done, b + in_blk, n);
                }
                done += n;
        }
        kfree(b);
        return done ? (long)done : err;
}

long ext2_write(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off,
                const void *buf, size_t len)
{
        uint32_t bs = fs->block_size;
        const uint8_t *src = buf;
        uint8_t *b;
        size_t done = 0;
        long err = 0;

        if (fs->rdonly)
                return -EROFS;
        if (!(b = kmalloc(bs)))
                return -ENOMEM;
        while (done < len) {
                uint64_t pos = off + done;
                uint32_t in_blk = (uint32_t)(pos % bs);
                size_t n = MIN((size_t)(bs - in_blk), len - done);
                uint32_t blk;
                bool fresh = false;
                if ((err = ext2_bmap(fs, in, pos / bs, false, &blk)) != 0)
                        break;
                if (!blk) {
                        if ((err = ext2_bmap(fs, in, pos / bs, true, &blk)) != 0)
                                break;
                        fresh = true;
                }
                if (n < bs) {
                        if (fresh)
                                memset(b, 0, bs);
                        else if ((err = bread(fs, blk, b)) != 0)
                                break;
                }
                memcpy(b + in_blk, src + done, n);
                if ((err = bwrite(fs, blk, b)) != 0)
                        break;
                done += n;
        }
        kfree(b);
        if (off + done > in->size) {
                in->size = off + done;
                note_large_file(fs, in->size);
                long e2 = ext2_write_inode(fs, in);
                if (!err)
                        err = e2;
        }
        return done ? (long)done : err;
}

/* --- directories ------------------------------------------------------- */

#define DE_INODE        0
#define DE_REC_LEN      4
#define DE_NAME_LEN     6
#define DE_FILE_TYPE    7
#define DE_NAME         8

static uint32_t de_size(size_t namelen)
{
        return (uint32_t)((DE_NAME + namelen + 3) & ~(size_t)3);
}

static bool has_filetype(const struct ext2_fs *fs)
{
        return fs->feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
}

/* Walk every entry of dir, block by block: fn(arg, block buffer, offset
 * of the entry, previous entry's offset or -1) returns 0 to go on, 1 to
 * stop (the block is written back if *dirty), or -errno. A damaged entry
 * is -EIO. */
typedef long (*de_fn)(struct ext2_fs *fs, void *arg, uint8_t *b,
                      uint32_t off, int prev, bool *dirty);

static long dir_walk(struct ext2_fs *fs, struct ext2_inode *dir, de_fn fn,
                     void *arg, uint64_t *where)
{
        uint32_t bs = fs->block_size;
        uint64_t nblocks = (dir->size + bs - 1) / bs;
        uint8_t *b = kmalloc(bs);
        long err = 0;

        if (!b)
                return -ENOMEM;
        for (uint64_t lb = 0; lb < nblocks; lb++) {
                uint32_t blk;
                if ((err = ext2_bmap(fs, dir, lb, false, &blk)) != 0)
                        break;
                if (!blk)
                        continue;
                if ((err = bread(fs, blk, b)) != 0)
                        break;
                int prev = -1;
                for (uint32_t off = 0; off < bs;) {
                        uint32_t rec = get16(b, off + DE_REC_LEN);
                        if (rec < 8 || (rec & 3) || off + rec > bs ||
                            (get32(b, off) && de_size(b[off + DE_NAME_LEN]) > rec)) {
                                err = -EIO;
                                goto out;
                        }
                        bool dirty = false;
                        err = fn(fs, arg, b, off, prev, &dirty);
                        if (dirty) {
                                long e2 = bwrite(fs, blk, b);
                                if (!err || err == 1)
                                        err = e2 ? e2 : err;
                        }
                        if (err) {
                                if (where)
                                        *where = lb * bs + off;
                                goto out;
                        }
                        prev = (int)off;
                        off += rec;
                }
        }
out:
        kfree(b);
        return err;
}

struct find_arg {
        const char *name;
        size_t      len;
        uint32_t    ino;
        uint8_t     type;
        int         mode;               /* 0 find, 1 remove, 2 set */
};

static long find_fn(struct ext2_fs *fs, void *arg, uint8_t *b, uint32_t off,
                    int prev, bool *dirty)
{
        struct find_arg *a = arg;
        uint8_t *e = b + off;

        if (!get32(e, DE_INODE) || e[DE_NAME_LEN] != a->len ||
            memcmp(e + DE_NAME, a->name, a->len) != 0)
                return 0;
        if (a->mode == 0) {
                a->ino = get32(e, DE_INODE);
                a->type = has_filetype(fs) ? e[DE_FILE_TYPE] : EXT2_FT_UNKNOWN;
        } else if (a->mode == 1) {
                if (prev >= 0)
                        put16(b, (uint32_t)prev + DE_REC_LEN,
                              get16(b, (uint32_t)prev + DE_REC_LEN) +
                              get16(e, DE_REC_LEN));
                else
                        put32(e, DE_INODE, 0);
                *dirty = true;
        } else {
                put32(e, DE_INODE, a->ino);
                e[DE_FILE_TYPE] = has_filetype(fs) ? a->type : 0;
                *dirty = true;
        }
        return 1;
}

long ext2_lookup(struct ext2_fs *fs, struct ext2_inode *dir,
                 const char *name, size_t len, uint32_t *ino, uint8_t *type)
{
        struct find_arg a = { .name = name, .len = len };
        long err = dir_walk(fs, dir, find_fn, &a, NULL);

        if (err < 0)
                return err;
        if (err == 0)
                return -ENOENT;
        *ino = a.ino;
        if (type)
                *type = a.type;
        return 0;
}

/* A directory that changes loses its hash index (see ext2.h). */
static long unindex(struct ext2_fs *fs, struct ext2_inode *dir)
{
        if (!(dir->flags & EXT2_INDEX_FL))
                return 0;
        dir->flags &= ~(uint32_t)EXT2_INDEX_FL;
        return ext2_write_inode(fs, dir);
}

long ext2_remove_entry(struct ext2_fs *fs, struct ext2_inode *dir,
                       const char *name, size_t len)
{
        struct find_arg a = { .name = name, .len = len, .mode = 1 };
        long err = unindex(fs, dir);

        if (!err)
                err = dir_walk(fs, dir, find_fn, &a, NULL);
        return err < 0 ? err : err == 0 ? -ENOENT : 0;
}

long ext2_set_entry(struct ext2_fs *fs, struct ext2_inode *dir,
                    const char *name, size_t len, uint32_t ino, uint8_t type)
{
        struct find_arg a = { .name = name, .len = len, .ino = ino,
                              .type = type, .mode = 2 };
        long err = unindex(fs, dir);

        if (!err)
                err = dir_walk(fs, dir, find_fn, &a, NULL);
        return err < 0 ? err : err == 0 ? -ENOENT : 0;
}

struct add_arg {
        const char *name;
        size_t      len;
        uint32_t    ino;
        uint8_t     type;
};

static long add_fn(struct ext2_fs *fs, void *arg, uint8_t *b, uint32_t off,
                   int prev, bool *dirty)
{
        struct add_arg *a = arg;
        uint8_t *e = b + off;
        uint32_t rec = get16(e, DE_REC_LEN);
        uint32_t need = de_size(a->len);
        uint32_t used = get32(e, DE_INODE) ? de_size(e[DE_NAME_LEN]) : 0;

        if (rec - used < need)
                return 0;
        if (used) {                     /* split: the new one follows */
                put16(e, DE_REC_LEN, used);
                e += used;
                rec -= used;
        }
        put32(e, DE_INODE, a->ino);
        put16(e, DE_REC_LEN, rec);
        e[DE_NAME_LEN] = (uint8_t)a->len;
        e[DE_FILE_TYPE] = has_filetype(fs) ? a->type : 0;
        memcpy(e + DE_NAME, a->name, a->len);
        *dirty = true;
        return 1;
}

long ext2_add_entry(struct ext2_fs *fs, struct ext2_inode *dir,
                    const char *name, size_t len, uint32_t ino, uint8_t type)
{
        struct add_arg a = { .name = name, .len = len, .ino = ino, .type = type };
        uint32_t bs = fs->block_size;
        long err;

        if (len == 0 || len > EXT2_NAME_LEN)
                return -EINVAL;
        if ((err = unindex(fs, dir)) != 0)
                return err;
        err = dir_walk(fs, dir, add_fn, &a, NULL);
        if (err < 0)
                return err;
        if (err == 1)
                return 0;
        /* No room: a new block at the end, the entry spanning it. */
        uint8_t *b = kzalloc(bs);
        uint32_t blk;
        if (!b)
                return -ENOMEM;
        err = ext2_bmap(fs, dir, dir->size / bs, true, &blk);
        if (!err) {
                put32(b, DE_INODE, ino);
                put16(b, DE_REC_LEN, bs);
                b[DE_NAME_LEN] = (uint8_t)len;
                b[DE_FILE_TYPE] = has_filetype(fs) ? type : 0;
                memcpy(b + DE_NAME, name, len);
                err = bwrite(fs, blk, b);
        }
        kfree(b);
        if (!err) {
                dir->size += bs;
                err = ext2_write_inode(fs, dir);
        }
        return err;
}

long ext2_readdir(struct ext2_fs *fs, struct ext2_inode *dir, uint64_t *pos,
                  char *name, size_t *len, uint32_t *ino, uint8_t *type)
{
        uint32_t bs = fs->block_size;
        uint8_t *b = kmalloc(bs);
        long err = 0;

        if (!b)
                return -ENOMEM;
        while (*pos < dir->size) {
                uint64_t lb = *pos / bs;
                uint32_t off = (uint32_t)(*pos % bs), blk;
                if ((err = ext2_bmap(fs, dir, lb, false, &blk)) != 0)
                        break;
                if (!blk) {
                        *pos = (lb + 1) * bs;
                        continue;
                }
                if ((err = bread(fs, blk, b)) != 0)
                        break;
                /* A cookie inside a block is always an entry's start:
                 * it is one this function returned. */
                while (off < bs) {
                        uint32_t rec = get16(b, off + DE_REC_LEN);
                        if (rec < 8 || (rec & 3) || off + rec > bs) {
                                err = -EIO;
                                goto out;
                        }
                        uint8_t *e = b + off;
                        off += rec;
                        *pos = lb * bs + off;
                        if (!get32(e, DE_INODE))
                                continue;
                        *len = e[DE_NAME_LEN];
                        memcpy(name, e + DE_NAME, *len);
                        name[*len] = '\0';
                        *ino = get32(e, DE_INODE);
                        *type = has_filetype(fs) ? e[DE_FILE_TYPE] : EXT2_FT_UNKNOWN;
                        goto out;
                }
                *pos = (lb + 1) * bs;
        }
        err = 1;
out:
        kfree(b);
        return err;
}

struct empty_arg { bool empty; };

static long empty_fn(struct ext2_fs *fs, void *arg, uint8_t *b, uint32_t off,
                     int prev, bool *dirty)
{
        struct empty_arg *a = arg;
        uint8_t *e = b + off;
        size_t n = e[DE_NAME_LEN];

        (void)fs; (void)prev; (void)dirty;
        if (!get32(e, DE_INODE))
                return 0;
        if ((n == 1 && e[DE_NAME] == '.') ||
            (n == 2 && e[DE_NAME] == '.' && e[DE_NAME + 1] == '.'))
                return 0;
        a->empty = false;
        return 1;
}

long ext2_dir_empty(struct ext2_fs *fs, struct ext2_inode *dir)
{
        struct empty_arg a = { true };
        long err = dir_walk(fs, dir, empty_fn, &a, NULL);

        return err < 0 ? err : a.empty;
}

long ext2_init_dir(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t parent)
{
        uint32_t bs = fs->block_size, blk;
        uint8_t *b = kzalloc(bs);
        long err;

        if (!b)
                return -ENOMEM;
        err = ext2_bmap(fs, dir, 0, true, &blk);
        if (!err) {
                put32(b, DE_INODE, dir->ino);
                put16(b, DE_REC_LEN, 12);
                b[DE_NAME_LEN] = 1;
                b[DE_FILE_TYPE] = has_filetype(fs) ? EXT2_FT_DIR : 0;
                b[DE_NAME] = '.';
                put32(b, 12 + DE_INODE, parent);
                put16(b, 12 + DE_REC_LEN, bs - 12);
                b[12 + DE_NAME_LEN] = 2;
                b[12 + DE_FILE_TYPE] = has_filetype(fs) ? EXT2_FT_DIR : 0;
                b[12 + DE_NAME] = '.';
                b[12 + DE_NAME + 1] = '.';
                err = bwrite(fs, blk, b);
        }
        kfree(b);
        if (!err) {
                dir->size = bs;
                err = ext2_write_inode(fs, dir);
        }
        return err;
}

/* --- symlinks ---------------------------------------------------------- */

/* Linux's rule: a fast symlink has no blocks but an extended
 * attribute block, if any. */
static bool fast_symlink(const struct ext2_fs *fs, const struct ext2_inode *in)
{
        uint64_t ea = in->file_acl ? fs->block_size / 512 : 0;

        return in->blocks == ea;
}

long ext2_readlink(struct ext2_fs *fs, struct ext2_inode *in, char *buf,
                   size_t size)
{
        size_t n = (size_t)MIN((uint64_t)size, in->size);

        if (fast_symlink(fs, in) && in->size < EXT2_FAST_LINK_MAX) {
                uint8_t raw[EXT2_FAST_LINK_MAX];
                for (int i = 0; i < EXT2_N_BLOCKS; i++)
                        put32(raw, 4 * (size_t)i, in->block[i]);
                memcpy(buf, raw, n);
                return (long)n;
        }
        return ext2_read(fs, in, 0, buf, n);
}

long ext2_write_symlink(struct ext2_fs *fs, struct ext2_inode *in,
                        const char *target, size_t len)
{
        if (len < EXT2_FAST_LINK_MAX) {
                uint8_t raw[EXT2_FAST_LINK_MAX];
                memset(raw, 0, sizeof raw);
                memcpy(raw, target, len);
                for (int i = 0; i < EXT2_N_BLOCKS; i++)
                        in->block[i] = get32(raw, 4 * (size_t)i);
                in->size = len;
                return ext2_write_inode(fs, in);
        }
        long n = ext2_write(fs, in, 0, target, len);
        return n < 0 ? n : (size_t)n == len ? 0 : -EIO;
}
