/*
 * ext2.c - the second extended file system's structures (fs/ext2.h).
 *
 * Every on-disk field is read and written at its byte offset,
 * little-endian, so nothing depends on the compiler's struct layout.
 * Offsets are the documented ext2 layout (super block at byte 1024,
 * 32-byte group descriptors after it, inodes in per-group tables,
 * 12 direct + single, double and triple indirect block pointers).
 * ext4's additions (extent trees, 64-byte descriptors, crc32c metadata
 * checksums) are the layout of Linux's Documentation/filesystems/ext4
 * and e2fsprogs' lib/ext2fs, as facts; the code is this file's own.
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

/* crc32c (Castagnoli, reflected, polynomial 0x82F63B78) without the
 * pre- and post-inversion: ext4 seeds it and keeps the raw value, as
 * Linux's ext4_chksum and e2fsprogs' ext2fs_crc32c_le. */
static uint32_t crc_table[256];
static bool crc_ready;

static uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
        const uint8_t *p = buf;

        if (!crc_ready) {               /* racing CPUs write the same */
                for (uint32_t i = 0; i < 256; i++) {
                        uint32_t c = i;
                        for (int k = 0; k < 8; k++)
                                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
                        crc_table[i] = c;
                }
                crc_ready = true;
        }
        while (len--)
                crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
        return crc;
}

static uint32_t crc32c_u32(uint32_t crc, uint32_t v)
{
        uint8_t b[4];

        put32(b, 0, v);
        return crc32c(crc, b, 4);
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
#define SB_UUID                 104
#define SB_RESERVED_GDT         206
#define SB_DESC_SIZE            254
#define SB_BLOCKS_COUNT_HI      0x150
#define SB_FREE_BLOCKS_HI       0x158
#define SB_CHECKSUM_TYPE        0x175
#define SB_OVERHEAD             0x248
#define SB_CHECKSUM_SEED        0x270
#define SB_CHECKSUM             0x3FC
#define EXT2_VALID_FS           1

/* Group descriptor offsets. */
#define GD_BLOCK_BITMAP         0
#define GD_INODE_BITMAP         4
#define GD_INODE_TABLE          8
#define GD_FREE_BLOCKS          12
#define GD_FREE_INODES          14
#define GD_USED_DIRS            16
#define GD_FLAGS                18
#define GD_BB_CSUM              24
#define GD_IB_CSUM              26
#define GD_ITABLE_UNUSED        28
#define GD_CHECKSUM             30
#define GD_BLOCK_BITMAP_HI      32      /* 64-byte descriptors from here */
#define GD_INODE_BITMAP_HI      36
#define GD_INODE_TABLE_HI       40
#define GD_BB_CSUM_HI           56
#define GD_IB_CSUM_HI           58
#define BG_INODE_UNINIT         0x0001
#define BG_BLOCK_UNINIT         0x0002

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
#define I_CSUM_LO       124
#define I_CSUM_HI       130
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
static void ext_init(struct ext2_inode *in);

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
        return fs->gdt + (size_t)g * fs->desc_size;
}

/* --- metadata checksums (metadata_csum) -------------------------------- */

static void sb_csum_set(struct ext2_fs *fs)
{
        if (fs->csum)
                put32(fs->sb_raw, SB_CHECKSUM,
                      crc32c(~0u, fs->sb_raw, SB_CHECKSUM));
}

static uint16_t gd_csum(struct ext2_fs *fs, uint32_t g)
{
        uint8_t *d = gd(fs, g);
        uint32_t c = crc32c_u32(fs->csum_seed, g);
        static const uint8_t zero[2];

        c = crc32c(c, d, GD_CHECKSUM);
        c = crc32c(c, zero, 2);
        c = crc32c(c, d + GD_CHECKSUM + 2, fs->desc_size - GD_CHECKSUM - 2);
        return (uint16_t)c;
}

/* A bitmap block of group g is about to be written: its checksum (over
 * the group's bits only) into the descriptor. */
static void bitmap_csum_set(struct ext2_fs *fs, uint32_t g, bool inodes,
                            const uint8_t *map)
{
        if (!fs->csum)
                return;
        uint32_t bits = inodes ? fs->inodes_per_group : fs->blocks_per_group;
        uint32_t c = crc32c(fs->csum_seed, map, bits / 8);
        uint8_t *d = gd(fs, g);
        put16(d, inodes ? GD_IB_CSUM : GD_BB_CSUM, c & 0xffff);
        if (fs->desc_size >= 64)
                put16(d, inodes ? GD_IB_CSUM_HI : GD_BB_CSUM_HI, c >> 16);
        fs->dirty = true;
}

/* The seed of an inode's checksums (inode, extent and directory blocks). */
static uint32_t inode_seed(const struct ext2_fs *fs, uint32_t ino, uint32_t gen)
{
        return crc32c_u32(crc32c_u32(fs->csum_seed, ino), gen);
}

/* The checksum of raw inode p, with its checksum fields as zeroes. */
static void inode_csum_set(struct ext2_fs *fs, uint8_t *p, uint32_t ino)
{
        if (!fs->csum)
                return;
        bool hi = fs->inode_size > 128 && get16(p, I_EXTRA_ISIZE) >= 4;
        put16(p, I_CSUM_LO, 0);
        if (hi)
                put16(p, I_CSUM_HI, 0);
        uint32_t c = crc32c(inode_seed(fs, ino, get32(p, I_GENERATION)), p,
                            fs->inode_size);
        put16(p, I_CSUM_LO, c & 0xffff);
        if (hi)
                put16(p, I_CSUM_HI, c >> 16);
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
        return ext2_mount_as(io, dev, dev_bytes, rdonly, EXT2_KIND_EXT2, out);
}

long ext2_mount_as(ext2_io_fn io, void *dev, uint64_t dev_bytes, bool rdonly,
                   enum ext2_kind kind, struct ext2_fs **out)
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
        bool ext4 = kind == EXT2_KIND_EXT4;
        uint32_t incompat_ok = ext4 ? EXT4_INCOMPAT_SUPP : EXT2_INCOMPAT_SUPP;
        uint32_t ro_ok = ext4 ? EXT4_RO_COMPAT_SUPP : EXT2_RO_COMPAT_SUPP;
        if (fs->feature_incompat & ~incompat_ok)
                goto fail;
        if (!rdonly && (fs->feature_ro_compat & ~ro_ok))
                goto fail;
        fs->desc_size = 32;
        if (fs->feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT) {
                fs->desc_size = get16(sb, SB_DESC_SIZE);
                if (fs->desc_size < 64 || fs->desc_size > 1024 ||
                    (fs->desc_size & (fs->desc_size - 1)) ||
                    get32(sb, SB_BLOCKS_COUNT_HI) != 0)
                        goto fail;      /* no block numbers past 2^32 */
        }
        if (fs->feature_ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM) {
                fs->csum = true;
                if (sb[SB_CHECKSUM_TYPE] != 1 ||        /* crc32c */
                    get32(sb, SB_CHECKSUM) != crc32c(~0u, sb, SB_CHECKSUM))
                        goto fail;
                if (fs->feature_incompat & EXT4_FEATURE_INCOMPAT_CSUM_SEED)
                        fs->csum_seed = get32(sb, SB_CHECKSUM_SEED);
                else
                        fs->csum_seed = crc32c(~0u, sb + SB_UUID, 16);
        }
        if (ext4)
                fs->overhead = get32(sb, SB_OVERHEAD);
        fs->groups = (fs->blocks_count - fs->first_data_block +
                      fs->blocks_per_group - 1) / fs->blocks_per_group;
        if ((uint64_t)fs->groups * fs->inodes_per_group != fs->inodes_count)
                goto fail;
        fs->gdt_block = fs->first_data_block + 1;
        fs->gdt_blocks = (fs->groups * fs->desc_size + fs->block_size - 1) /
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
                if (fs->desc_size >= 64 &&
                    (get32(d, GD_BLOCK_BITMAP_HI) || get32(d, GD_INODE_BITMAP_HI) ||
                     get32(d, GD_INODE_TABLE_HI)))
                        goto fail;
                if (fs->csum && get16(d, GD_CHECKSUM) != gd_csum(fs, g))
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
        if (fs->desc_size >= 64)
                put32(fs->sb_raw, SB_FREE_BLOCKS_HI, 0);
        sb_csum_set(fs);
        if (fs->csum)
                for (uint32_t g = 0; g < fs->groups; g++)
                        put16(gd(fs, g), GD_CHECKSUM, gd_csum(fs, g));
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
                                    get16(fs->sb_raw, SB_RESERVED_GDT);
                overhead += 2 + itb;
        }
        if (fs->overhead && fs->overhead < fs->blocks_count)
                overhead = fs->overhead;        /* ext4: mke2fs's count */
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

/* A block, the free one at or after goal in its group if any, else the
 * first free one of the groups after it. Groups whose block bitmap was
 * never initialised (BLOCK_UNINIT) are left alone (see ext2.h). */
static long alloc_block(struct ext2_fs *fs, uint32_t goal, uint32_t *out)
{
        uint8_t *map = fs->scratch;
        long err;

        if (fs->rdonly)
                return -EROFS;
        if (fs->free_blocks == 0 ||
            (!fs->use_reserved && fs->free_blocks <= fs->r_blocks_count))
                return -ENOSPC;
        if (goal < fs->first_data_block || goal >= fs->blocks_count)
                goal = fs->first_data_block;
        uint32_t goal_group = (goal - fs->first_data_block) / fs->blocks_per_group;
        uint32_t goal_bit = (goal - fs->first_data_block) % fs->blocks_per_group;
        for (uint32_t k = 0; k <= fs->groups; k++) {
                uint32_t g = (goal_group + k) % fs->groups;
                uint8_t *d = gd(fs, g);
                if (get16(d, GD_FREE_BLOCKS) == 0)
                        continue;
                if (fs->csum && (get16(d, GD_FLAGS) & BG_BLOCK_UNINIT))
                        continue;
                if ((err = bread(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                        return err;
                int bit = -1;
                if (k == 0)
                        bit = find_zero(map, goal_bit, group_blocks(fs, g));
                if (bit < 0 && (k > 0 || goal_bit > 0))
                        bit = find_zero(map, 0, group_blocks(fs, g));
                if (bit < 0)
                        continue;       /* the count was wrong: go on */
                map[bit >> 3] |= (uint8_t)(1u << (bit & 7));
                bitmap_csum_set(fs, g, false, map);
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

/* Free count blocks from blk on, a bitmap block write per group. */
static long free_blocks(struct ext2_fs *fs, uint32_t blk, uint32_t count)
{
        uint8_t *map = fs->scratch;
        long err;

        if (blk < fs->first_data_block || blk >= fs->blocks_count ||
            count > fs->blocks_count - blk)
                return -EIO;
        while (count) {
                uint32_t g = (blk - fs->first_data_block) / fs->blocks_per_group;
                uint32_t bit = (blk - fs->first_data_block) % fs->blocks_per_group;
                uint32_t n = MIN(count, fs->blocks_per_group - bit);
                uint8_t *d = gd(fs, g);
                if ((err = bread(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                        return err;
                for (uint32_t i = bit; i < bit + n; i++)
                        if (!(map[i >> 3] & (1u << (i & 7))))
                                return -EIO;    /* freeing a free block */
                for (uint32_t i = bit; i < bit + n; i++)
                        map[i >> 3] &= (uint8_t)~(1u << (i & 7));
                bitmap_csum_set(fs, g, false, map);
                if ((err = bwrite(fs, get32(d, GD_BLOCK_BITMAP), map)) != 0)
                        return err;
                put16(d, GD_FREE_BLOCKS, get16(d, GD_FREE_BLOCKS) + n);
                fs->free_blocks += n;
                fs->dirty = true;
                blk += n;
                count -= n;
        }
        return 0;
}

static long free_block(struct ext2_fs *fs, uint32_t blk)
{
        return free_blocks(fs, blk, 1);
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
        in->flags = get32(p, I_FLAGS);
        in->blocks = get32(p, I_BLOCKS);
        if (fs->feature_ro_compat & EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
                in->blocks |= (uint64_t)get16(p, I_BLOCKS_HI) << 32;
                if (in->flags & EXT4_HUGE_FILE_FL)      /* in fs blocks */
                        in->blocks *= fs->block_size / 512;
        }
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
        /* Counted in 512-byte units (never HUGE_FILE_FL's fs blocks):
         * 48 bits with huge_file, else 32 (a file system of < 2 TiB). */
        put32(p, I_BLOCKS, (uint32_t)in->blocks);
        if (fs->feature_ro_compat & EXT4_FEATURE_RO_COMPAT_HUGE_FILE)
                put16(p, I_BLOCKS_HI, (uint32_t)(in->blocks >> 32));
        put32(p, I_FLAGS, in->flags & ~(uint32_t)EXT4_HUGE_FILE_FL);
        for (int i = 0; i < EXT2_N_BLOCKS; i++)
                put32(p, I_BLOCK + 4 * (size_t)i, in->block[i]);
        put32(p, I_GENERATION, in->generation);
        put32(p, I_FILE_ACL, in->file_acl);
        if (fs->inode_size > 128) {
                put16(p, I_EXTRA_ISIZE, in->extra_isize);
                if (in->extra_isize >= I_CRTIME + 4 - 128)
                        put32(p, I_CRTIME, in->crtime);
        }
        inode_csum_set(fs, p, in->ino);
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
                bool uninit = fs->csum && (get16(d, GD_FLAGS) & BG_INODE_UNINIT);
                if (uninit) {
                        /* Its first inode: the bitmap starts empty, the
                         * bits past the group's inodes set (mke2fs's). */
                        memset(map, 0, fs->block_size);
                        for (uint32_t i = fs->inodes_per_group;
                             i < fs->block_size * 8; i++)
                                map[i >> 3] |= (uint8_t)(1u << (i & 7));
                } else if ((err = bread(fs, get32(d, GD_INODE_BITMAP), map)) != 0) {
                        return err;
                }
                uint32_t from = g == 0 ? fs->first_ino - 1 : 0;
                int bit = find_zero(map, from, fs->inodes_per_group);
                if (bit < 0)
                        continue;
                map[bit >> 3] |= (uint8_t)(1u << (bit & 7));
                bitmap_csum_set(fs, g, true, map);
                if ((err = bwrite(fs, get32(d, GD_INODE_BITMAP), map)) != 0)
                        return err;
                if (uninit)
                        put16(d, GD_FLAGS, get16(d, GD_FLAGS) & ~BG_INODE_UNINIT);
                /* Checksummed groups say how many inodes at the table's
                 * end were never used; e2fsck holds them to it. */
                if (fs->csum) {
                        uint32_t used = fs->inodes_per_group -
                                        get16(d, GD_ITABLE_UNUSED);
                        if ((uint32_t)bit + 1 > used)
                                put16(d, GD_ITABLE_UNUSED,
                                      fs->inodes_per_group - (uint32_t)bit - 1);
                }
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
                put32(map + off, I_GENERATION, gen);
                inode_csum_set(fs, map + off, ino);
                if ((err = bwrite(fs, blk, map)) != 0)
                        return err;
                memset(in, 0, sizeof *in);
                in->ino = ino;
                in->mode = mode;
                in->atime = in->ctime = in->mtime = in->crtime = now;
                in->generation = gen;
                if (fs->inode_size > 128)
                        in->extra_isize = 32;
                /* ext4 maps files, directories and symlinks by extents
                 * (a fast symlink drops the flag again). */
                uint16_t type = mode & S_IFMT_;
                if ((fs->feature_incompat & EXT4_FEATURE_INCOMPAT_EXTENTS) &&
                    (type == S_IFREG_ || type == S_IFDIR_ || type == S_IFLNK_))
                        ext_init(in);
                return 0;
        }
        return -ENOSPC;
}

/* --- extent trees (ext4) ------------------------------------------------ */

/*
 * i_block holds a node: a 12-byte header (magic, entries, max, depth)
 * and up to 4 entries of 12 bytes. Depth 0 nodes hold extents (first
 * file block, length, disk block: a length over 32768 marks an unwritten
 * extent of length - 32768); deeper ones index entries (first file block,
 * the child node's disk block). A node in a block has room for
 * (block size - 12) / 12 entries and, with metadata_csum, a crc32c of
 * what precedes it right after them.
 *
 * Reads walk down the tree. A change loads the file's whole extent list,
 * edits it and writes the tree anew from it (ext_store): simple to get
 * right, and cheap for the short lists contiguous allocation makes.
 */
#define EH_MAGIC                0xF30A
#define EH_SIZE                 12
#define EXT_INIT_MAX            32768   /* blocks of a written extent */
#define EXT_UNWRITTEN_MAX       32767
#define EXT_MAX_DEPTH           5
#define EXT_MAX_ENTRIES         65536   /* a list this long is refused */

struct xent {
        uint32_t lblk, len, pblk;
        bool     unwritten;
};

/* A file's extents in order, and the disk blocks its tree nodes use. */
struct xlist {
        struct xent *e;
        uint32_t     n, cap;
        uint32_t    *tb;
        uint32_t     ntb, captb;
};

static void iblock_get(const struct ext2_inode *in, uint8_t raw[60])
{
        for (int i = 0; i < EXT2_N_BLOCKS; i++)
                put32(raw, 4 * (size_t)i, in->block[i]);
}

static void iblock_set(struct ext2_inode *in, const uint8_t raw[60])
{
        for (int i = 0; i < EXT2_N_BLOCKS; i++)
                in->block[i] = get32(raw, 4 * (size_t)i);
}

static void eh_put(uint8_t *h, uint32_t entries, uint32_t max, uint32_t depth)
{
        put16(h, 0, EH_MAGIC);
        put16(h, 2, entries);
        put16(h, 4, max);
        put16(h, 6, depth);
        put32(h, 8, 0);
}

static void ext_init(struct ext2_inode *in)
{
        uint8_t raw[60];

        memset(raw, 0, sizeof raw);
        eh_put(raw, 0, 4, 0);
        iblock_set(in, raw);
        in->flags |= EXT4_EXTENTS_FL;
}

static uint32_t node_cap(const struct ext2_fs *fs)
{
        return (fs->block_size - EH_SIZE) / 12;
}

/* A node's header is sane: magic, entries <= max <= room, depth. */
static bool node_ok(const uint8_t *h, uint32_t room, uint32_t depth)
{
        return get16(h, 0) == EH_MAGIC && get16(h, 2) <= get16(h, 4) &&
               get16(h, 4) <= room && get16(h, 6) == depth;
}

static uint32_t node_tail(const uint8_t *h)
{
        return EH_SIZE + 12 * (uint32_t)get16(h, 4);
}

static void node_csum_set(struct ext2_fs *fs, const struct ext2_inode *in,
                          uint8_t *b)
{
        if (fs->csum)
                put32(b, node_tail(b),
                      crc32c(inode_seed(fs, in->ino, in->generation), b,
                             node_tail(b)));
}

static bool node_csum_ok(struct ext2_fs *fs, const struct ext2_inode *in,
                         const uint8_t *b)
{
        return !fs->csum ||
               get32(b, node_tail(b)) ==
               crc32c(inode_seed(fs, in->ino, in->generation), b, node_tail(b));
}

/* Read the child node blk of depth `depth` into b, checked. */
static long node_read(struct ext2_fs *fs, const struct ext2_inode *in,
                      uint32_t blk, uint32_t depth, uint8_t *b)
{
        long err = bread(fs, blk, b);

        if (err)
                return err;
        if (!node_ok(b, node_cap(fs), depth) || !node_csum_ok(fs, in, b))
                return -EIO;
        return 0;
}

static void xent_get(const uint8_t *e, struct xent *x)
{
        uint32_t len = get16(e, 4);

        x->lblk = get32(e, 0);
        x->unwritten = len > EXT_INIT_MAX;
        x->len = x->unwritten ? len - EXT_INIT_MAX : len;
        x->pblk = get32(e, 8);
}

/* The disk block of file block lblk (0: a hole); *unwritten. */
static long ext_find(struct ext2_fs *fs, struct ext2_inode *in, uint32_t lblk,
                     uint32_t *pblk, bool *unwritten)
{
        uint8_t root[60];
        const uint8_t *h = root;
        uint8_t *b = fs->scratch2;
        uint32_t room = 4;

        iblock_get(in, root);
        uint32_t depth = get16(root, 6);
        *pblk = 0;
        *unwritten = false;
        if (depth > EXT_MAX_DEPTH)
                return -EIO;
        for (;;) {
                if (!node_ok(h, room, depth))
                        return -EIO;
                uint32_t n = get16(h, 2);
                if (depth == 0) {
                        for (uint32_t i = 0; i < n; i++) {
                                struct xent x;
                                const uint8_t *e = h + EH_SIZE + 12 * i;
                                xent_get(e, &x);
                                if (lblk >= x.lblk && lblk - x.lblk < x.len) {
                                        if (get16(e, 6))
                                                return -EIO;    /* >= 2^32 */
                                        *pblk = x.pblk + (lblk - x.lblk);
                                        *unwritten = x.unwritten;
                                        return 0;
                                }
                        }
                        return 0;
                }
                int k = -1;
                for (uint32_t i = 0; i < n; i++) {
                        if (get32(h, EH_SIZE + 12 * i) > lblk)
                                break;
                        k = (int)i;
                }
                if (k < 0)
                        return 0;
                const uint8_t *ix = h + EH_SIZE + 12 * (uint32_t)k;
                if (get16(ix, 8))
                        return -EIO;
                depth--;
                long err = node_read(fs, in, get32(ix, 4), depth, b);
                if (err)
                        return err;
                h = b;
                room = node_cap(fs);
        }
}

static void xl_free(struct xlist *xl)
{
        kfree(xl->e);
        kfree(xl->tb);
}

/* Room for `more` entries (or tree blocks). */
static long xl_grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
        if (need <= *cap)
                return 0;
        if (need > EXT_MAX_ENTRIES)
                return -ENOSPC;
        uint32_t ncap = MAX(need, MAX(*cap * 2, 16u));
        void *n = kmalloc((size_t)ncap * size);
        if (!n)
                return -ENOMEM;
        if (*arr)
                memcpy(n, *arr, (size_t)*cap * size);
        kfree(*arr);
        *arr = n;
        *cap = ncap;
        return 0;
}

static long xl_insert(struct xlist *xl, uint32_t pos, const struct xent *x)
{
        long err = xl_grow((void **)&xl->e, &xl->cap, xl->n + 1, sizeof *x);

        if (err)
                return err;
        memmove(&xl->e[pos + 1], &xl->e[pos], (xl->n - pos) * sizeof *x);
        xl->e[pos] = *x;
        xl->n++;
        return 0;
}

static long collect(struct ext2_fs *fs, const struct ext2_inode *in,
                    const uint8_t *h, uint32_t depth, struct xlist *xl)
{
        uint32_t n = get16(h, 2);
        long err = 0;

        if (depth == 0) {
                for (uint32_t i = 0; i < n; i++) {
                        struct xent x;
                        xent_get(h + EH_SIZE + 12 * i, &x);
                        if (get16(h, EH_SIZE + 12 * i + 6) || x.len == 0 ||
                            (xl->n && xl->e[xl->n - 1].lblk +
                                      xl->e[xl->n - 1].len > x.lblk))
                                return -EIO;    /* out of order */
                        if ((err = xl_insert(xl, xl->n, &x)) != 0)
                                return err;
                }
                return 0;
        }
        uint8_t *b = kmalloc(fs->block_size);
        if (!b)
                return -ENOMEM;
        for (uint32_t i = 0; i < n && !err; i++) {
                const uint8_t *ix = h + EH_SIZE + 12 * i;
                uint32_t child = get32(ix, 4);
                if (get16(ix, 8)) {
                        err = -EIO;
                        break;
                }
                if ((err = xl_grow((void **)&xl->tb, &xl->captb, xl->ntb + 1,
                                   sizeof *xl->tb)) != 0 ||
                    (err = node_read(fs, in, child, depth - 1, b)) != 0)
                        break;
                xl->tb[xl->ntb++] = child;
                err = collect(fs, in, b, depth - 1, xl);
        }
        kfree(b);
        return err;
}

/* in's extents and tree blocks into *xl (zeroed first). */
static long ext_load(struct ext2_fs *fs, struct ext2_inode *in, struct xlist *xl)
{
        uint8_t root[60];

        memset(xl, 0, sizeof *xl);
        iblock_get(in, root);
        if (get16(root, 6) > EXT_MAX_DEPTH ||
            !node_ok(root, 4, get16(root, 6)))
                return -EIO;
        long err = collect(fs, in, root, get16(root, 6), xl);
        if (err)
                xl_free(xl);
        return err;
}

/* Join neighbours that continue each other on the disk too. */
static void xl_normalize(struct xlist *xl)
{
        uint32_t out = 0;

        for (uint32_t i = 0; i < xl->n; i++) {
                struct xent *x = &xl->e[i];
                if (x->len == 0)
                        continue;
                if (out) {
                        struct xent *p = &xl->e[out - 1];
                        uint32_t max = p->unwritten ? EXT_UNWRITTEN_MAX
                                                    : EXT_INIT_MAX;
                        if (p->unwritten == x->unwritten &&
                            p->lblk + p->len == x->lblk &&
                            p->pblk + p->len == x->pblk &&
                            p->len + x->len <= max) {
                                p->len += x->len;
                                continue;
                        }
                }
                xl->e[out++] = *x;
        }
        xl->n = out;
}

static uint32_t group_start(const struct ext2_fs *fs, uint32_t ino)
{
        return fs->first_data_block +
               (ino - 1) / fs->inodes_per_group * fs->blocks_per_group;
}

/*
 * Write in's tree for the list xl: in i_block alone up to 4 extents,
 * else leaves packed full under as many index levels as needed. The
 * tree blocks xl had are used again, more are allocated first (so that
 * -ENOSPC leaves the disk as it was), those left over are freed. The
 * inode is written.
 */
static long ext_store(struct ext2_fs *fs, struct ext2_inode *in, struct xlist *xl)
{
        uint32_t cap = node_cap(fs), bs = fs->block_size;
        uint32_t need = 0, depth = 0, have = xl->ntb;
        long err = 0;

        xl_normalize(xl);
        for (uint32_t c = xl->n; c > 4; c = (c + cap - 1) / cap) {
                need += (c + cap - 1) / cap;
                depth++;
        }
        if (depth > EXT_MAX_DEPTH)
                return -ENOSPC;
        if ((err = xl_grow((void **)&xl->tb, &xl->captb, MAX(need, 1u),
                           sizeof *xl->tb)) != 0)
                return err;
        while (xl->ntb < need) {
                if ((err = alloc_block(fs, group_start(fs, in->ino),
                                       &xl->tb[xl->ntb])) != 0) {
                        while (xl->ntb > have)
                                (void)free_block(fs, xl->tb[--xl->ntb]);
                        return err;
                }
                xl->ntb++;
                in->blocks += bs / 512;
        }
        /* Level by level: keys[] are (first file block, node block) of
         * the nodes just written, which the next level indexes. */
        uint32_t count = xl->n, next = 0, level = 0;
        uint32_t *keys = NULL;
        uint8_t *b = NULL, root[60];
        if (depth && (!(keys = kmalloc(2 * sizeof *keys * ((count + cap - 1) / cap))) ||
                      !(b = kmalloc(bs)))) {
                err = -ENOMEM;
                goto out;
        }
        for (; count > 4; level++) {
                uint32_t nodes = (count + cap - 1) / cap;
                for (uint32_t j = 0; j < nodes; j++) {
                        uint32_t first = j * cap, k = MIN(cap, count - first);
                        memset(b, 0, bs);
                        eh_put(b, k, cap, level);
                        for (uint32_t i = 0; i < k; i++) {
                                uint8_t *e = b + EH_SIZE + 12 * i;
                                if (level == 0) {
                                        struct xent *x = &xl->e[first + i];
                                        put32(e, 0, x->lblk);
                                        put16(e, 4, x->len + (x->unwritten ? EXT_INIT_MAX : 0));
                                        put32(e, 8, x->pblk);
                                } else {
                                        put32(e, 0, keys[2 * (first + i)]);
                                        put32(e, 4, keys[2 * (first + i) + 1]);
                                }
                        }
                        uint32_t blk = xl->tb[next++];
                        uint32_t key = level == 0 ? xl->e[first].lblk
                                                  : keys[2 * first];
                        node_csum_set(fs, in, b);
                        if ((err = bwrite(fs, blk, b)) != 0)
                                goto out;
                        keys[2 * j] = key;      /* j <= first: no overlap */
                        keys[2 * j + 1] = blk;
                }
                count = nodes;
        }
        memset(root, 0, sizeof root);
        eh_put(root, count, 4, level);
        for (uint32_t i = 0; i < count; i++) {
                uint8_t *e = root + EH_SIZE + 12 * i;
                if (level == 0) {
                        struct xent *x = &xl->e[i];
                        put32(e, 0, x->lblk);
                        put16(e, 4, x->len + (x->unwritten ? EXT_INIT_MAX : 0));
                        put32(e, 8, x->pblk);
                } else {
                        put32(e, 0, keys[2 * i]);
                        put32(e, 4, keys[2 * i + 1]);
                }
        }
        iblock_set(in, root);
        while (xl->ntb > need) {
                if ((err = free_block(fs, xl->tb[--xl->ntb])) != 0)
                        goto out;
                in->blocks -= bs / 512;
        }
        err = ext2_write_inode(fs, in);
out:
        kfree(b);
        kfree(keys);
        return err;
}

/* ext2_bmap of an extent-mapped file. A block of an unwritten extent
 * reads as a hole; alloc makes it written (the caller writes it all). */
static long ext_map(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk,
                    bool alloc, uint32_t *pblk)
{
        struct xlist xl;
        bool unwritten;
        long err;

        if (lblk >= 0xffffffffu)
                return -EFBIG;
        if ((err = ext_find(fs, in, (uint32_t)lblk, pblk, &unwritten)) != 0)
                return err;
        if (*pblk && !unwritten)
                return 0;
        if (!alloc) {
                *pblk = 0;
                return 0;
        }
        if (fs->rdonly)
                return -EROFS;
        if ((err = ext_load(fs, in, &xl)) != 0)
                return err;
        uint32_t lb = (uint32_t)lblk, pos = 0;
        while (pos < xl.n && xl.e[pos].lblk + xl.e[pos].len <= lb)
                pos++;
        if (*pblk) {                    /* split out of an unwritten one */
                struct xent x = xl.e[pos], mid = { lb, 1, *pblk, false };
                struct xent tail = { lb + 1, x.lblk + x.len - lb - 1,
                                     *pblk + 1, true };
                xl.e[pos].len = lb - x.lblk;
                if ((err = xl_insert(&xl, pos + 1, &mid)) == 0 &&
                    (err = xl_insert(&xl, pos + 2, &tail)) == 0)
                        err = ext_store(fs, in, &xl);
                xl_free(&xl);
                return err;
        }
        uint32_t goal = group_start(fs, in->ino), nb;
        if (pos > 0)
                goal = xl.e[pos - 1].pblk + (lb - xl.e[pos - 1].lblk);
        if ((err = alloc_block(fs, goal, &nb)) != 0) {
                xl_free(&xl);
                return err;
        }
        in->blocks += fs->block_size / 512;
        struct xent x = { lb, 1, nb, false };
        if ((err = xl_insert(&xl, pos, &x)) == 0)
                err = ext_store(fs, in, &xl);
        if (err) {
                (void)free_block(fs, nb);
                in->blocks -= fs->block_size / 512;
        } else {
                *pblk = nb;
        }
        xl_free(&xl);
        return err;
}

long ext2_punch(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first,
                uint64_t end)
{
        struct xlist xl, gone = { 0 };
        long err;

        if (fs->rdonly)
                return -EROFS;
        if (!(in->flags & EXT4_EXTENTS_FL))
                return -EOPNOTSUPP;
        if (first >= end)
                return 0;
        if ((err = ext_load(fs, in, &xl)) != 0)
                return err;
        /* The new list first, what goes aside; the blocks are freed once
         * the tree no longer names them. */
        uint32_t n = xl.n;
        for (uint32_t i = 0; i < n && !err; i++) {
                struct xent x = xl.e[i];
                uint64_t s = x.lblk, t = s + x.len;
                if (t <= first || s >= end)
                        continue;
                uint64_t a = MAX(s, first), z = MIN(t, end);
                struct xent g = { (uint32_t)a, (uint32_t)(z - a),
                                  x.pblk + (uint32_t)(a - s), false };
                if ((err = xl_insert(&gone, gone.n, &g)) != 0)
                        break;
                xl.e[i].len = (uint32_t)(a - s);        /* the head */
                if (t > end) {                          /* the tail */
                        struct xent tail = { (uint32_t)end, (uint32_t)(t - end),
                                             x.pblk + (uint32_t)(end - s),
                                             x.unwritten };
                        err = xl_insert(&xl, xl.n, &tail);
                }
        }
        if (!err) {
                /* Tails went to the end: put the list in order again. */
                for (uint32_t i = 1; i < xl.n; i++)
                        for (uint32_t j = i; j > 0 &&
                             xl.e[j - 1].lblk > xl.e[j].lblk; j--) {
                                struct xent t = xl.e[j];
                                xl.e[j] = xl.e[j - 1];
                                xl.e[j - 1] = t;
                        }
                err = ext_store(fs, in, &xl);
        }
        for (uint32_t i = 0; !err && i < gone.n; i++) {
                err = free_blocks(fs, gone.e[i].pblk, gone.e[i].len);
                if (!err)
                        in->blocks -= (uint64_t)gone.e[i].len *
                                      (fs->block_size / 512);
        }
        if (!err && gone.n)
                err = ext2_write_inode(fs, in);
        xl_free(&xl);
        xl_free(&gone);
        return err;
}

long ext2_fallocate(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first,
                    uint64_t end)
{
        struct xlist xl;
        long err, err2;

        if (fs->rdonly)
                return -EROFS;
        if (!(in->flags & EXT4_EXTENTS_FL))
                return -EOPNOTSUPP;
        if (end > 0xffffffffu)
                return -EFBIG;
        if ((err = ext_load(fs, in, &xl)) != 0)
                return err;
        uint32_t i = 0, lb = (uint32_t)first, last = 0;
        while (lb < end && !err) {
                while (i < xl.n && xl.e[i].lblk + xl.e[i].len <= lb)
                        i++;
                if (i < xl.n && xl.e[i].lblk <= lb) {   /* mapped */
                        lb = xl.e[i].lblk + xl.e[i].len;
                        continue;
                }
                uint32_t hole_end = i < xl.n ? MIN((uint32_t)end, xl.e[i].lblk)
                                             : (uint32_t)end;
                for (; lb < hole_end; lb++) {
                        uint32_t goal = group_start(fs, in->ino), nb;
                        struct xent *p = i ? &xl.e[i - 1] : NULL;
                        if (last)
                                goal = last + 1;
                        else if (p)
                                goal = p->pblk + (lb - p->lblk);
                        if ((err = alloc_block(fs, goal, &nb)) != 0)
                                break;
                        in->blocks += fs->block_size / 512;
                        last = nb;
                        if (p && p->unwritten && p->lblk + p->len == lb &&
                            p->pblk + p->len == nb && p->len < EXT_UNWRITTEN_MAX) {
                                p->len++;
                                continue;
                        }
                        struct xent x = { lb, 1, nb, true };
                        if ((err = xl_insert(&xl, i, &x)) != 0) {
                                (void)free_block(fs, nb);
                                in->blocks -= fs->block_size / 512;
                                break;
                        }
                        i++;
                }
        }
        /* What was taken stays (ENOSPC half way: Linux's too). */
        err2 = ext_store(fs, in, &xl);
        xl_free(&xl);
        return err ? err : err2;
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
        long err = alloc_block(fs, fs->first_data_block + group_of_inode(fs, in->ino) *
                                       fs->blocks_per_group, out);

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

        if (in->flags & EXT4_EXTENTS_FL)
                return ext_map(fs, in, lblk, alloc, pblk);
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
        if (in->flags & EXT4_EXTENTS_FL) {
                if ((err = ext2_punch(fs, in, keep, (uint64_t)1 << 32)) != 0)
                        return err;
                in->size = size;
                return ext2_write_inode(fs, in);
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
        bitmap_csum_set(fs, g, true, map);
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

/* metadata_csum: a directory block ends in a 12-byte entry of inode 0
 * whose file type 0xDE marks the crc32c of the block before it. */
#define DIR_TAIL        12

static uint32_t dir_end(const struct ext2_fs *fs)
{
        return fs->block_size - (fs->csum ? DIR_TAIL : 0);
}

static bool dir_tail_ok(const struct ext2_fs *fs, const uint8_t *b)
{
        const uint8_t *t = b + fs->block_size - DIR_TAIL;

        return get32(t, DE_INODE) == 0 && get16(t, DE_REC_LEN) == DIR_TAIL &&
               t[DE_NAME_LEN] == 0 && t[DE_FILE_TYPE] == 0xDE;
}

static void dir_tail_set(struct ext2_fs *fs, const struct ext2_inode *dir,
                         uint8_t *b)
{
        uint8_t *t = b + fs->block_size - DIR_TAIL;

        if (!fs->csum)
                return;
        memset(t, 0, DIR_TAIL);
        put16(t, DE_REC_LEN, DIR_TAIL);
        t[DE_FILE_TYPE] = 0xDE;
        put32(t, 8, crc32c(inode_seed(fs, dir->ino, dir->generation), b,
                           fs->block_size - DIR_TAIL));
}

static long dir_bwrite(struct ext2_fs *fs, const struct ext2_inode *dir,
                       uint32_t blk, uint8_t *b)
{
        dir_tail_set(fs, dir, b);
        return bwrite(fs, blk, b);
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
                /* A block without its checksum tail is only read. */
                bool tail = fs->csum && dir_tail_ok(fs, b);
                uint32_t end = tail ? dir_end(fs) : bs;
                int prev = -1;
                for (uint32_t off = 0; off < end;) {
                        uint32_t rec = get16(b, off + DE_REC_LEN);
                        if (rec < 8 || (rec & 3) || off + rec > end ||
                            (get32(b, off) && de_size(b[off + DE_NAME_LEN]) > rec)) {
                                err = -EIO;
                                goto out;
                        }
                        bool dirty = false;
                        err = fn(fs, arg, b, off, prev, &dirty);
                        if (dirty && fs->csum && !tail) {
                                err = -EIO;
                                goto out;
                        }
                        if (dirty) {
                                long e2 = dir_bwrite(fs, dir, blk, b);
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

/* A directory that changes loses its hash index (see ext2.h). With
 * metadata_csum its index blocks (the root's ".." spans the block, an
 * inner node is one empty entry spanning it) become plain blocks with a
 * checksum tail: the index bytes stay, unused, inside those entries. */
static long unindex(struct ext2_fs *fs, struct ext2_inode *dir)
{
        uint32_t bs = fs->block_size;
        long err = 0;

        if (!(dir->flags & EXT2_INDEX_FL))
                return 0;
        if (fs->csum) {
                uint8_t *b = kmalloc(bs);
                if (!b)
                        return -ENOMEM;
                for (uint64_t lb = 0; !err && lb < dir->size / bs; lb++) {
                        uint32_t blk, at;
                        if ((err = ext2_bmap(fs, dir, lb, false, &blk)) != 0 ||
                            !blk || (err = bread(fs, blk, b)) != 0)
                                continue;
                        if (dir_tail_ok(fs, b))
                                continue;
                        at = lb == 0 ? 12 : 0;
                        if (lb == 0 && get16(b, DE_REC_LEN) != 12)
                                err = -EIO;
                        else if (get16(b, at + DE_REC_LEN) != bs - at ||
                                 (lb && get32(b, 0)))
                                err = -EIO;     /* not an index block */
                        else {
                                put16(b, at + DE_REC_LEN, bs - at - DIR_TAIL);
                                err = dir_bwrite(fs, dir, blk, b);
                        }
                }
                kfree(b);
                if (err)
                        return err;
        }
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
                put16(b, DE_REC_LEN, dir_end(fs));
                b[DE_NAME_LEN] = (uint8_t)len;
                b[DE_FILE_TYPE] = has_filetype(fs) ? type : 0;
                memcpy(b + DE_NAME, name, len);
                err = dir_bwrite(fs, dir, blk, b);
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
                put16(b, 12 + DE_REC_LEN, dir_end(fs) - 12);
                b[12 + DE_NAME_LEN] = 2;
                b[12 + DE_FILE_TYPE] = has_filetype(fs) ? EXT2_FT_DIR : 0;
                b[12 + DE_NAME] = '.';
                b[12 + DE_NAME + 1] = '.';
                err = dir_bwrite(fs, dir, blk, b);
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
                in->flags &= ~(uint32_t)EXT4_EXTENTS_FL;
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
