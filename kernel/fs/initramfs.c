/*
 * initramfs.c - reading a cpio "newc" archive in place (see initramfs.h).
 *
 * Owns: the parsing of newc headers and path look-up over them.
 * Must not touch: the archive bytes (read only), any allocator, any
 * address space. Nothing here keeps state between calls.
 *
 * One parser, parse_member(), reads a header at an offset and checks it
 * against [base, base + len) with subtraction-only arithmetic (no sum can
 * wrap). initramfs_open() runs it over every member and adds the rules
 * that need context (names, types, trailers); every later call walks the
 * members with the same parser, so a member it could not parse merely ends
 * a walk, it is never read out of bounds.
 *
 * Layout of one member (all offsets from the archive's start):
 *   off        "070701" + 13 fields of 8 hex digits      110 bytes
 *   off + 110  the name, namesize bytes with its NUL
 *   align4     the data, filesize bytes
 *   align4     the next member
 * Look-ups scan the archive: O(members) per path component, fine for a
 * boot archive of a few hundred files.
 */
#include <fs/initramfs.h>
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

/* A position in the walk over all members of all archives. */
struct cursor {
        size_t          off;
        uint32_t        archive;
        size_t          index;          /* members returned so far */
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

/* The first byte c in p[0..n), or NULL (the kernel has no memchr). */
static const void *find_byte(const void *p, uint8_t c, size_t n)
{
        const uint8_t *s = p;

        for (size_t i = 0; i < n; i++)
                if (s[i] == c)
                        return s + i;
        return NULL;
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
            find_byte(name, '\0', namesize - 1) != NULL)
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
                const void *nul = find_byte(m->node.data, '\0', filesize);

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
static enum initramfs_reason validate_all(struct initramfs *fs)
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

/* The next member that is not a trailer; false at the end. */
static bool member_next(const struct initramfs *fs, struct cursor *c,
                        struct member *m)
{
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
                return true;
        }
}

/* Is n's path exactly a "/" b (or just b, or just a, when one is "")? */
static bool path_equals(const struct initramfs_node *n, const char *a,
                        size_t alen, const char *b, size_t blen)
{
        size_t sep = alen && blen ? 1 : 0;

        if (n->pathlen != alen + sep + blen)
                return false;
        if (memcmp(n->path, a, alen) != 0)
                return false;
        if (sep && n->path[alen] != '/')
                return false;
        return memcmp(n->path + alen + sep, b, blen) == 0;
}

/* A hard-linked file's data: that of the last member of its archive with
 * the same identity and some data (cpio stores it once, usually last). */
static void node_link_data(const struct initramfs *fs,
                           struct initramfs_node *n)
{
        struct cursor c = { 0 };
        struct member m;

        if (!initramfs_is_reg(n) || n->nlink < 2)
                return;
        while (member_next(fs, &c, &m)) {
                const struct initramfs_node *o = &m.node;

                if (o->archive == n->archive && initramfs_is_reg(o) &&
                    o->ino == n->ino && o->devmajor == n->devmajor &&
                    o->devminor == n->devminor && o->size > 0) {
                        n->data = o->data;
                        n->size = o->size;
                }
        }
}

/* The last member whose path is a "/" b; false if there is none. */
static bool find_path(const struct initramfs *fs, const char *a, size_t alen,
                      const char *b, size_t blen, struct initramfs_node *out)
{
        struct cursor c = { 0 };
        struct member m;
        bool found = false;

        while (member_next(fs, &c, &m)) {
                if (path_equals(&m.node, a, alen, b, blen)) {
                        *out = m.node;
                        found = true;
                }
        }
        if (found)
                node_link_data(fs, out);
        return found;
}

static void make_root(struct initramfs *fs)
{
        struct initramfs_node *r = &fs->root;

        if (find_path(fs, "", 0, "", 0, r))
                return;
        memset(r, 0, sizeof *r);
        r->path = "";
        r->mode = INITRAMFS_S_IFDIR | 0755;
        r->nlink = 2;
        r->ino = INITRAMFS_ROOT_INO;
        r->hdr_off = SIZE_MAX;
}

vm_status_t initramfs_open(struct initramfs *fs, const void *base, size_t len)
{
        enum initramfs_reason r;

        memset(fs, 0, sizeof *fs);
        fs->base = base;
        fs->len = len;
        r = validate_all(fs);
        fs->bad_reason = r;
        if (r != INITRAMFS_VALID)
                return VM_EINVAL;
        fs->bad_offset = 0;
        make_root(fs);
        return VM_OK;
}

bool initramfs_check(const struct initramfs *fs)
{
        struct initramfs again;

        if (fs->bad_reason != INITRAMFS_VALID ||
            initramfs_open(&again, fs->base, fs->len) != VM_OK)
                return false;
        return again.nmembers == fs->nmembers &&
               again.narchives == fs->narchives &&
               initramfs_is_dir(&fs->root) &&
               fs->root.pathlen == 0;
}

/* --- look-up ----------------------------------------------------------- */

/* The directory holding n (the root for the root). */
static vm_status_t node_parent(const struct initramfs *fs,
                               struct initramfs_node *n)
{
        size_t k = n->pathlen;

        while (k > 0 && n->path[k - 1] != '/')
                k--;
        if (k == 0) {
                *n = fs->root;
                return VM_OK;
        }
        /* the parent was walked through to reach n, so it exists */
        return find_path(fs, n->path, k - 1, "", 0, n) ? VM_OK : VM_ENOENT;
}

struct walk {
        const struct initramfs *fs;
        unsigned                links;  /* symlinks followed so far */
};

static vm_status_t walk_path(struct walk *w, struct initramfs_node *cur,
                             const char *p, size_t len, bool follow_last,
                             unsigned depth);

/* Go from directory *cur to its entry c, following a symlink if asked. */
static vm_status_t walk_step(struct walk *w, struct initramfs_node *cur,
                             const char *c, size_t clen, bool follow,
                             unsigned depth)
{
        struct initramfs_node child, dir;
        vm_status_t st;

        if (clen == 1 && c[0] == '.')
                return VM_OK;
        if (clen == 2 && c[0] == '.' && c[1] == '.')
                return node_parent(w->fs, cur);
        if (clen > INITRAMFS_NAME_MAX)
                return VM_ENAMETOOLONG;
        if (!find_path(w->fs, cur->path, cur->pathlen, c, clen, &child))
                return VM_ENOENT;
        if (follow && initramfs_is_symlink(&child)) {
                if (++w->links > INITRAMFS_LINKS_MAX ||
                    depth >= INITRAMFS_NEST_MAX)
                        return VM_ELOOP;
                dir = *cur;     /* a relative target starts beside the link */
                st = walk_path(w, &dir, (const char *)child.data,
                               (size_t)child.size, true, depth + 1);
                if (st != VM_OK)
                        return st;
                child = dir;
        }
        *cur = child;
        return VM_OK;
}

/*
 * Walk p[0..len) from *cur, leaving the result in *cur. Components are
 * found one at a time, so "a/.." needs "a" to exist and be a directory,
 * as on Linux.
 */
static vm_status_t walk_path(struct walk *w, struct initramfs_node *cur,
                             const char *p, size_t len, bool follow_last,
                             unsigned depth)
{
        bool slash_end = len > 0 && p[len - 1] == '/';
        size_t i = 0;

        if (len > 0 && p[0] == '/')
                *cur = w->fs->root;
        for (;;) {
                while (i < len && p[i] == '/')
                        i++;
                if (i == len)
                        break;
                size_t start = i;
                while (i < len && p[i] != '/')
                        i++;
                size_t rest = i;
                while (rest < len && p[rest] == '/')
                        rest++;
                bool last = rest == len;
                if (!initramfs_is_dir(cur))
                        return VM_ENOTDIR;
                vm_status_t st = walk_step(w, cur, p + start, i - start,
                                           !last || follow_last || slash_end,
                                           depth);
                if (st != VM_OK)
                        return st;
        }
        if (slash_end && !initramfs_is_dir(cur))
                return VM_ENOTDIR;
        return VM_OK;
}

static size_t str_len_max(const char *s, size_t max)
{
        size_t n = 0;

        while (n < max && s[n] != '\0')
                n++;
        return n;
}

vm_status_t initramfs_lookup(const struct initramfs *fs,
                             const struct initramfs_node *at,
                             const char *path, unsigned flags,
                             struct initramfs_node *out)
{
        struct walk w = { .fs = fs };
        struct initramfs_node cur = at ? *at : fs->root;
        size_t len = str_len_max(path, INITRAMFS_PATH_MAX);
        vm_status_t st;

        if (len == INITRAMFS_PATH_MAX)
                return VM_ENAMETOOLONG;
        if (len == 0)
                return VM_ENOENT;
        if (!initramfs_is_dir(&cur))
                return VM_EINVAL;
        st = walk_path(&w, &cur, path, len,
                       !(flags & INITRAMFS_NOFOLLOW), 0);
        if (st == VM_OK)
                *out = cur;
        return st;
}

/* --- reading files and directories ------------------------------------- */

vm_status_t initramfs_read(const struct initramfs_node *node, uint64_t off,
                           void *buf, size_t len, size_t *done)
{
        *done = 0;
        if (initramfs_is_dir(node))
                return VM_EISDIR;
        if (!initramfs_is_reg(node))
                return VM_EINVAL;
        if (off >= node->size)
                return VM_OK;
        *done = (size_t)MIN((uint64_t)len, node->size - off);
        memcpy(buf, node->data + off, *done);
        return VM_OK;
}

/* If n is an entry of dir, the offset of its name in n->path; else 0. */
static size_t child_name_at(const struct initramfs_node *dir,
                            const struct initramfs_node *n)
{
        size_t at = dir->pathlen ? dir->pathlen + 1 : 0;

        if (n->pathlen <= at)
                return 0;
        if (dir->pathlen && (memcmp(n->path, dir->path, dir->pathlen) != 0 ||
                             n->path[dir->pathlen] != '/'))
                return 0;
        if (find_byte(n->path + at, '/', n->pathlen - at) != NULL)
                return 0;
        return at ? at : SIZE_MAX;      /* SIZE_MAX: "at 0", for the root */
}

/* Does a later member than the one c just returned have n's path? */
static bool superseded(const struct initramfs *fs, struct cursor c,
                       const struct initramfs_node *n)
{
        struct member m;

        while (member_next(fs, &c, &m))
                if (path_equals(&m.node, n->path, n->pathlen, "", 0))
                        return true;
        return false;
}

static void dirent_dot(struct initramfs_dirent *out,
                       const struct initramfs_node *n, const char *name,
                       uint64_t next)
{
        out->node = *n;
        out->name = name;
        out->namelen = strlen(name);
        out->type = initramfs_dtype(n->mode);
        out->next = next;
}

/* Children: cookie 2 + k resumes the walk at the k-th member. */
static vm_status_t readdir_children(const struct initramfs *fs,
                                    const struct initramfs_node *dir,
                                    uint64_t k, struct initramfs_dirent *out)
{
        struct cursor c = { 0 };
        struct member m;

        while (member_next(fs, &c, &m)) {
                if (c.index <= k)
                        continue;
                size_t at = child_name_at(dir, &m.node);
                if (at == 0 || superseded(fs, c, &m.node))
                        continue;
                at = at == SIZE_MAX ? 0 : at;
                node_link_data(fs, &m.node);
                out->node = m.node;
                out->name = m.node.path + at;
                out->namelen = m.node.pathlen - at;
                out->type = initramfs_dtype(m.node.mode);
                out->next = 2 + c.index;
                return VM_OK;
        }
        return VM_ENOENT;
}

vm_status_t initramfs_readdir(const struct initramfs *fs,
                              const struct initramfs_node *dir,
                              uint64_t cookie, struct initramfs_dirent *out)
{
        struct initramfs_node parent = *dir;
        vm_status_t st;

        if (!initramfs_is_dir(dir))
                return VM_ENOTDIR;
        if (cookie == 0) {
                dirent_dot(out, dir, ".", 1);
                return VM_OK;
        }
        if (cookie == 1) {
                st = node_parent(fs, &parent);
                if (st != VM_OK)
                        return st;
                dirent_dot(out, &parent, "..", 2);
                return VM_OK;
        }
        return readdir_children(fs, dir, cookie - 2, out);
}
