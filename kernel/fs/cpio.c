/*
 * cpio.c - the cpio "newc" parser under initramfs.c (see cpio.h).
 *
 * Owns: the parsing and validation of newc headers, archive by archive.
 * Must not touch: the archive bytes (read only), any allocator, any
 * address space. Nothing here keeps state between calls.
 *
 * One parser, parse_member(), reads a header at an offset and checks it
 * against [base, base + len) with subtraction-only arithmetic (no sum can
 * wrap). cpio_validate() runs it over every member and adds the rules
 * that need context (names, types, trailers); cpio_next() walks the
 * members with the same parser, so a member it could not parse merely
 * ends a walk, it is never read out of bounds.
 *
 * Layout of one member (all offsets from the archive's start):
 *   off        "070701" + 13 fields of 8 hex digits      110 bytes
 *   off + 110  the name, namesize bytes with its NUL
 *   align4     the data, filesize bytes
 *   align4     the next member
 */
#include <fs/cpio.h>
#include <mercator/string.h>

#define HDR_LEN         110
#define TRAILER_NAME    "TRAILER!!!"

enum {  /* the 13 header fields, in archive order */
        F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE,
        F_DEVMAJOR, F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE,
        F_CHECK, NR_FIELDS
};

/* A parsed header: the node as the archive states it, plus what only the
 * parser and validator need. */
struct member {
        struct initramfs_node node;
        uint32_t        field[NR_FIELDS];
        const char     *rawname;        /* as stored, without its NUL */
        size_t          rawlen;
        bool            crc;            /* "070702": data checksum present */
        bool            trailer;
        size_t          next;           /* the next member; may exceed len */
};


static const char *const reason_msgs[INITRAMFS_NR_REASONS] = {
        [INITRAMFS_VALID]             = "valid archive",
        [INITRAMFS_COMPRESSED]        = "compressed archive (only plain cpio newc is read)",
        [INITRAMFS_MISALIGNED]        = "archive does not start on a 4-byte boundary",
        [INITRAMFS_TRUNCATED_HEADER]  = "truncated header (fewer than 110 bytes left)",
        [INITRAMFS_BAD_MAGIC]         = "bad magic (not cpio newc 070701/070702)",
        [INITRAMFS_BAD_HEX]           = "header field is not 8 hex digits",
        [INITRAMFS_BAD_NAMESIZE]      = "name size is 0 or over PATH_MAX",
        [INITRAMFS_NAME_PAST_END]     = "name runs past the end of the archive",
        [INITRAMFS_NAME_UNTERMINATED] = "name is not a NUL-terminated string of namesize bytes",
        [INITRAMFS_BAD_NAME]          = "name is not a clean path",
        [INITRAMFS_DATA_PAST_END]     = "file data runs past the end of the archive",
        [INITRAMFS_BAD_MODE]          = "unknown file type in mode",
        [INITRAMFS_UNEXPECTED_DATA]   = "data on a member that is not a file or symlink",
        [INITRAMFS_BAD_SYMLINK]       = "symlink target empty or too long",
        [INITRAMFS_BAD_ROOT]          = "the root member is not a directory",
        [INITRAMFS_BAD_CHECKSUM]      = "data checksum mismatch (070702)",
        [INITRAMFS_NO_TRAILER]        = "archive ends without TRAILER!!!",
};

const char *initramfs_reason_message(enum initramfs_reason reason)
{
        if ((unsigned)reason >= INITRAMFS_NR_REASONS)
                return "unknown reason";
        return reason_msgs[reason];
}

/* --- parsing one header ------------------------------------------------ */

static size_t align4(size_t x)
{
        return (x + 3) & ~(size_t)3;
}

/* Eight hex digits at s into *out; false if any is not a hex digit. */
static bool parse_hex8(const uint8_t *s, uint32_t *out)
{
        uint32_t v = 0;

        for (int i = 0; i < 8; i++) {
                uint8_t c = s[i];
                uint32_t d;

                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if (c >= 'a' && c <= 'f')
                        d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        d = c - 'A' + 10;
                else
                        return false;
                v = v << 4 | d;
        }
        *out = v;
        return true;
}

/* Magic and the 13 fields of the header at off. */
static enum initramfs_reason parse_fields(const uint8_t *base, size_t len,
                                          size_t off, struct member *m)
{
        const uint8_t *h = base + off;

        if (off > len || len - off < HDR_LEN)
                return INITRAMFS_TRUNCATED_HEADER;
        if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2'))
                return INITRAMFS_BAD_MAGIC;
        m->crc = h[5] == '2';
        for (int i = 0; i < NR_FIELDS; i++)
                if (!parse_hex8(h + 6 + 8 * i, &m->field[i]))
                        return INITRAMFS_BAD_HEX;
        return INITRAMFS_VALID;
}

/* Strip leading "/" and "./" (and a lone "."): what is left is the path
 * relative to the root. */
static size_t strip_prefix(const char *s, size_t len)
{
        size_t i = 0;

        for (;;) {
                if (i < len && s[i] == '/')
                        i++;
                else if (len - i >= 2 && s[i] == '.' && s[i + 1] == '/')
                        i += 2;
                else if (len - i == 1 && s[i] == '.')
                        i++;
                else
                        return i;
        }
}

/* The name after the header: in bounds, NUL-terminated, no NUL inside. */
static enum initramfs_reason parse_name(const uint8_t *base, size_t len,
                                        size_t off, struct member *m)
{
        uint32_t namesize = m->field[F_NAMESIZE];
        const char *name = (const char *)base + off + HDR_LEN;
        size_t skip;

        if (namesize == 0 || namesize > INITRAMFS_PATH_MAX)
                return INITRAMFS_BAD_NAMESIZE;
        if (len - off - HDR_LEN < namesize)
                return INITRAMFS_NAME_PAST_END;
        if (name[namesize - 1] != '\0' ||
            memchr(name, '\0', namesize - 1) != NULL)
                return INITRAMFS_NAME_UNTERMINATED;
        m->rawname = name;
        m->rawlen = namesize - 1;
        m->trailer = m->rawlen == sizeof(TRAILER_NAME) - 1 &&
                     memcmp(name, TRAILER_NAME, m->rawlen) == 0;
        skip = strip_prefix(name, m->rawlen);
        m->node.path = name + skip;
        m->node.pathlen = m->rawlen - skip;
        return INITRAMFS_VALID;
}

/* Where the data lies; a symlink's size becomes its target's length. */
static enum initramfs_reason parse_data(const uint8_t *base, size_t len,
                                        size_t off, struct member *m)
{
        size_t data_off = align4(off + HDR_LEN + m->field[F_NAMESIZE]);
        uint32_t filesize = m->field[F_FILESIZE];

        if (filesize > 0 && (data_off > len || len - data_off < filesize))
                return INITRAMFS_DATA_PAST_END;
        m->node.data = filesize > 0 ? base + data_off : NULL;
        m->node.size = filesize;
        if ((m->field[F_MODE] & INITRAMFS_S_IFMT) == INITRAMFS_S_IFLNK &&
            filesize > 0) {
                const void *nul = memchr(m->node.data, '\0', filesize);

                if (nul)        /* Linux stops the target at a NUL too */
                        m->node.size = (uint64_t)((const uint8_t *)nul -
                                                  m->node.data);
        }
        m->next = align4(data_off + filesize);
        return INITRAMFS_VALID;
}

static void fill_node(struct member *m, size_t off)
{
        struct initramfs_node *n = &m->node;

        n->ino = m->field[F_INO];
        n->mode = m->field[F_MODE];
        n->uid = m->field[F_UID];
        n->gid = m->field[F_GID];
        n->nlink = m->field[F_NLINK];
        n->mtime = m->field[F_MTIME];
        n->devmajor = m->field[F_DEVMAJOR];
        n->devminor = m->field[F_DEVMINOR];
        n->rdevmajor = m->field[F_RDEVMAJOR];
        n->rdevminor = m->field[F_RDEVMINOR];
        n->hdr_off = off;
}

/*
 * Parse the member at off: header, name, where its data is. Only bounds
 * and syntax; validate_member() adds the rules about content.
 */
static enum initramfs_reason parse_member(const uint8_t *base, size_t len,
                                          size_t off, struct member *m)
{
        enum initramfs_reason r;

        memset(m, 0, sizeof *m);
        r = parse_fields(base, len, off, m);
        if (r == INITRAMFS_VALID)
                r = parse_name(base, len, off, m);
        if (r == INITRAMFS_VALID)
                r = parse_data(base, len, off, m);
        if (r == INITRAMFS_VALID)
                fill_node(m, off);
        return r;
}

/* --- the rules initramfs_open() adds ----------------------------------- */

/* Rule 3: "" or components of 1..NAME_MAX bytes, none "." or "..". */
static bool path_is_clean(const char *p, size_t len)
{
        size_t start = 0;

        if (len == 0)
                return true;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && p[i] != '/')
                        continue;
                size_t clen = i - start;
                const char *c = p + start;

                if (clen == 0 || clen > INITRAMFS_NAME_MAX)
                        return false;
                if ((clen == 1 && c[0] == '.') ||
                    (clen == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                start = i + 1;
        }
        return true;
}

static bool mode_is_known(uint32_t mode)
{
        switch (mode & INITRAMFS_S_IFMT) {
        case INITRAMFS_S_IFREG: case INITRAMFS_S_IFDIR:
        case INITRAMFS_S_IFLNK: case INITRAMFS_S_IFCHR:
        case INITRAMFS_S_IFBLK: case INITRAMFS_S_IFIFO:
        case INITRAMFS_S_IFSOCK:
                return (mode & ~0177777u) == 0;
        default:
                return false;
        }
}

static bool checksum_ok(const struct member *m)
{
        uint32_t sum = 0;

        for (uint64_t i = 0; i < m->field[F_FILESIZE]; i++)
                sum += m->node.data[i];
        return sum == m->field[F_CHECK];
}

static enum initramfs_reason validate_member(const struct member *m)
{
        const struct initramfs_node *n = &m->node;
        uint32_t type = n->mode & INITRAMFS_S_IFMT;

        if (!path_is_clean(n->path, n->pathlen))
                return INITRAMFS_BAD_NAME;
        if (!mode_is_known(n->mode))
                return INITRAMFS_BAD_MODE;
        if (type == INITRAMFS_S_IFLNK &&
            (n->size == 0 || m->field[F_FILESIZE] >= INITRAMFS_PATH_MAX))
                return INITRAMFS_BAD_SYMLINK;
        if (type != INITRAMFS_S_IFREG && type != INITRAMFS_S_IFLNK &&
            m->field[F_FILESIZE] != 0)
                return INITRAMFS_UNEXPECTED_DATA;
        if (n->pathlen == 0 && type != INITRAMFS_S_IFDIR)
                return INITRAMFS_BAD_ROOT;
        if (m->crc && !checksum_ok(m))
                return INITRAMFS_BAD_CHECKSUM;
        return INITRAMFS_VALID;
}

static size_t skip_nuls(const uint8_t *base, size_t len, size_t off)
{
        while (off < len && base[off] == 0)
                off++;
        return off;
}

static bool looks_compressed(const uint8_t *p, size_t n)
{
        static const struct { uint8_t len, magic[4]; } magics[] = {
                { 2, { 0x1f, 0x8b } },                  /* gzip */
                { 4, { 0xfd, '7', 'z', 'X' } },         /* xz */
                { 4, { 0x28, 0xb5, 0x2f, 0xfd } },      /* zstd */
                { 3, { 'B', 'Z', 'h' } },               /* bzip2 */
                { 4, { 0x02, 0x21, 0x4c, 0x18 } },      /* lz4 legacy */
                { 4, { 0x89, 'L', 'Z', 'O' } },         /* lzo */
        };

        for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
                if (n >= magics[i].len &&
                    memcmp(p, magics[i].magic, magics[i].len) == 0)
                        return true;
        return false;
}

/* One archive, from *off through its trailer. */
static enum initramfs_reason validate_archive(struct initramfs *fs,
                                              size_t *off)
{
        for (;;) {
                struct member m;
                enum initramfs_reason r;

                if (*off >= fs->len)
                        return INITRAMFS_NO_TRAILER;
                fs->bad_offset = *off;
                r = parse_member(fs->base, fs->len, *off, &m);
                if (r == INITRAMFS_VALID && !m.trailer)
                        r = validate_member(&m);
                if (r != INITRAMFS_VALID)
                        return r;
                *off = m.next;
                if (m.trailer)
                        return INITRAMFS_VALID;
                fs->nmembers++;
        }
}

/* Every archive of the image, with the NUL padding between them. */
enum initramfs_reason cpio_validate(struct initramfs *fs)
{
        size_t off = 0;

        for (;;) {
                off = skip_nuls(fs->base, fs->len, off);
                if (off >= fs->len)
                        break;
                fs->bad_offset = off;
                if (looks_compressed(fs->base + off, fs->len - off))
                        return INITRAMFS_COMPRESSED;
                if (off & 3)
                        return INITRAMFS_MISALIGNED;
                enum initramfs_reason r = validate_archive(fs, &off);
                if (r != INITRAMFS_VALID)
                        return r;
                fs->narchives++;
        }
        fs->bad_offset = fs->len;
        return fs->narchives ? INITRAMFS_VALID : INITRAMFS_NO_TRAILER;
}

/* --- walking the members ----------------------------------------------- */

bool cpio_next(const struct initramfs *fs, struct cpio_cursor *c,
               struct initramfs_node *node)
{
        struct member mb, *m = &mb;

        for (;;) {
                c->off = skip_nuls(fs->base, fs->len, c->off);
                if (c->off >= fs->len ||
                    parse_member(fs->base, fs->len, c->off, m) !=
                    INITRAMFS_VALID)
                        return false;
                c->off = m->next;
                if (m->trailer) {
                        c->archive++;
                        continue;
                }
                m->node.archive = c->archive;
                c->index++;
                *node = m->node;
                return true;
        }
}
