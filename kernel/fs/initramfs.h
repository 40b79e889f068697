/*
 * initramfs.h - the boot archive: a cpio "newc" image held in memory,
 * read in place.
 *
 * Owns: nothing but the struct initramfs the caller hands in; the archive
 * bytes belong to whoever loaded them and must stay put (and unchanged)
 * while any node taken from them is in use. No allocation, no VFS, no
 * address-space code: nodes are plain values pointing into the archive.
 *
 * initramfs_open() validates every byte it will ever look at, once; every
 * later call walks the same headers with the same bounds-checked parser,
 * so no input, however broken, makes this code read outside
 * [base, base + len).
 *
 * Archive rules (what initramfs_open() accepts):
 *   1. members start at 4-byte-aligned offsets with magic "070701" (or
 *      "070702", whose data checksum is then verified); the 13 fields are
 *      8 hex digits each; the name (namesize bytes, NUL-terminated, at
 *      most INITRAMFS_PATH_MAX) and the data lie inside the archive;
 *   2. each archive ends with a "TRAILER!!!" member; several archives may
 *      follow one another, separated by NUL padding (as Linux accepts);
 *   3. a member's name, once leading "/" and "./" are stripped, is "" (the
 *      root) or clean: components of 1..255 bytes split by single '/', none
 *      "." or "..", no trailing '/';
 *   4. the type is one Linux knows; only regular files and symlinks carry
 *      data; a symlink's target is 1..4095 bytes; the root is a directory.
 * Look-ups follow Linux: when a name occurs twice the later member wins; a
 * hard-linked file (nlink > 1) has the data of the last member of its
 * archive with the same ino/dev and a non-zero size (cpio stores the data
 * once); a path whose parent directory has no member does not exist.
 *
 * Locks: none needed: everything here is constant after initramfs_open().
 */
#ifndef FS_INITRAMFS_H
#define FS_INITRAMFS_H

#include <mercator/status.h>
#include <mercator/types.h>

#define INITRAMFS_PATH_MAX      4096    /* bytes with the NUL (PATH_MAX) */
#define INITRAMFS_NAME_MAX      255     /* bytes in one component */
#define INITRAMFS_LINKS_MAX     40      /* symlinks followed per look-up */
#define INITRAMFS_NEST_MAX      8       /* symlinks inside symlink targets */
#define INITRAMFS_ROOT_INO      1       /* ino of a root with no member */

/* Linux's st_mode file types, as cpio carries them. */
#define INITRAMFS_S_IFMT        0170000
#define INITRAMFS_S_IFSOCK      0140000
#define INITRAMFS_S_IFLNK       0120000
#define INITRAMFS_S_IFREG       0100000
#define INITRAMFS_S_IFBLK       0060000
#define INITRAMFS_S_IFDIR       0040000
#define INITRAMFS_S_IFCHR       0020000
#define INITRAMFS_S_IFIFO       0010000

/* Why initramfs_open() rejected an archive (initramfs.bad_reason). */
enum initramfs_reason {
        INITRAMFS_VALID = 0,
        INITRAMFS_COMPRESSED,           /* gzip/xz/zstd...: not supported */
        INITRAMFS_MISALIGNED,           /* archive starts off a 4-byte boundary */
        INITRAMFS_TRUNCATED_HEADER,     /* fewer than 110 bytes left */
        INITRAMFS_BAD_MAGIC,            /* not "070701" / "070702" */
        INITRAMFS_BAD_HEX,              /* a field is not 8 hex digits */
        INITRAMFS_BAD_NAMESIZE,         /* namesize 0, or over PATH_MAX */
        INITRAMFS_NAME_PAST_END,        /* the name runs off the archive */
        INITRAMFS_NAME_UNTERMINATED,    /* no NUL at namesize-1, or one before */
        INITRAMFS_BAD_NAME,             /* not clean (rule 3) */
        INITRAMFS_DATA_PAST_END,        /* the data (or its padding) runs off */
        INITRAMFS_BAD_MODE,             /* unknown file type */
        INITRAMFS_UNEXPECTED_DATA,      /* data on a dir, device, fifo... */
        INITRAMFS_BAD_SYMLINK,          /* empty or over-long target */
        INITRAMFS_BAD_ROOT,             /* the root member is no directory */
        INITRAMFS_BAD_CHECKSUM,         /* "070702" data sum mismatch */
        INITRAMFS_NO_TRAILER,           /* ends without "TRAILER!!!" */
        INITRAMFS_NR_REASONS
};

/*
 * One file of the archive, by value. Every field is a copy of (or points
 * into) the archive; [c] all of them.
 */
struct initramfs_node {
        const char     *path;           /* canonical, "" = root; no NUL */
        size_t          pathlen;
        const uint8_t  *data;           /* file bytes / symlink target */
        uint64_t        size;           /* bytes at data (target length) */
        uint32_t        mode;           /* type and permission bits */
        uint32_t        ino, nlink, uid, gid, mtime;
        uint32_t        devmajor, devminor, rdevmajor, rdevminor;
        uint32_t        archive;        /* which concatenated archive */
        size_t          hdr_off;        /* its header; SIZE_MAX = made up */
};

/* A directory entry, as getdents64 needs it. */
struct initramfs_dirent {
        const char            *name;    /* one component; no NUL */
        size_t                 namelen;
        uint8_t                type;    /* Linux DT_* */
        uint64_t               next;    /* cookie of the entry after it */
        struct initramfs_node  node;    /* the entry itself */
};

/*
 * An opened archive.
 * Invariants (initramfs_check()): [base, base + len) passed the rules
 * above; root is a directory; nmembers counts the non-trailer members.
 */
struct initramfs {
        const uint8_t          *base;           /* [c] */
        size_t                  len;            /* [c] bytes */
        size_t                  nmembers;       /* [c] trailers not counted */
        uint32_t                narchives;      /* [c] concatenated archives */
        struct initramfs_node   root;           /* [c] */
        enum initramfs_reason   bad_reason;     /* [c] why open failed */
        size_t                  bad_offset;     /* [c] the member at fault */
};

/* Lookup flags. */
#define INITRAMFS_NOFOLLOW      0x1     /* a final symlink is the result */

/*
 * Validate the archive at [base, base + len) and make fs describe it.
 * => VM_OK; or VM_EINVAL with fs->bad_reason and fs->bad_offset saying why
 *    and where (then fs may not be used for anything else).
 * => base need not be aligned; nothing is written to the archive.
 * => a single entry point over untrusted bytes: a fuzz target can call it.
 */
vm_status_t initramfs_open(struct initramfs *fs, const void *base, size_t len);

/* A sentence about `reason`, for boot messages and test failures. */
const char *initramfs_reason_message(enum initramfs_reason reason);

/* Re-walk the archive and verify the invariants above. */
bool initramfs_check(const struct initramfs *fs);

/*
 * Find `path` (NUL-terminated). An absolute path starts at the root; a
 * relative one at `at` (NULL = the root). Empty components and "." are
 * skipped, ".." goes to the parent (the root's parent is the root),
 * symlinks are followed (the last one too unless INITRAMFS_NOFOLLOW), and
 * a trailing '/' demands a directory.
 * => VM_OK with *out filled; VM_ENOENT (missing, or path ""),
 *    VM_ENOTDIR (a non-directory used as one), VM_ELOOP,
 *    VM_ENAMETOOLONG (path >= PATH_MAX, or a component > 255);
 *    VM_EINVAL if `at` is not a directory node of fs.
 */
vm_status_t initramfs_lookup(const struct initramfs *fs,
                             const struct initramfs_node *at,
                             const char *path, unsigned flags,
                             struct initramfs_node *out);

/*
 * Copy up to len bytes of a regular file, from byte `off`, into buf.
 * => VM_OK with *done = bytes copied (0 at or past the end);
 *    VM_EISDIR for a directory, VM_EINVAL for other types.
 */
vm_status_t initramfs_read(const struct initramfs_node *node, uint64_t off,
                           void *buf, size_t len, size_t *done);

/*
 * The directory entry at `cookie` of dir: "." (cookie 0), ".." (1), then
 * the children in archive order. Start at 0 and pass out->next back; any
 * value is safe to pass (unknown ones just end the listing).
 * => VM_OK with *out filled; VM_ENOENT when there is nothing more;
 *    VM_ENOTDIR if dir is not a directory.
 */
vm_status_t initramfs_readdir(const struct initramfs *fs,
                              const struct initramfs_node *dir,
                              uint64_t cookie, struct initramfs_dirent *out);

static inline bool initramfs_is_dir(const struct initramfs_node *n)
{
        return (n->mode & INITRAMFS_S_IFMT) == INITRAMFS_S_IFDIR;
}

static inline bool initramfs_is_reg(const struct initramfs_node *n)
{
        return (n->mode & INITRAMFS_S_IFMT) == INITRAMFS_S_IFREG;
}

static inline bool initramfs_is_symlink(const struct initramfs_node *n)
{
        return (n->mode & INITRAMFS_S_IFMT) == INITRAMFS_S_IFLNK;
}

/* Linux's d_type: DT_* are the st_mode type bits shifted down by 12. */
static inline uint8_t initramfs_dtype(uint32_t mode)
{
        return (uint8_t)((mode & INITRAMFS_S_IFMT) >> 12);
}

#endif
