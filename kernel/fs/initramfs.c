/*
 * initramfs.c - the initramfs as a tree of paths (see initramfs.h), read
 * in place over the archive through cpio.c's parser.
 *
 * Owns: path look-up, reading and listing over the members.
 * Must not touch: the archive bytes (read only), any allocator, any
 * address space. Nothing here keeps state between calls.
 *
 * A path's node is the last member naming it (a later archive overrides
 * an earlier one); a hard-linked file takes the data of its linked member
 * that has some. Look-ups scan the archive: O(members) per path
 * component, fine for a boot archive of a few hundred files.
 */
#include <fs/cpio.h>
#include <fs/initramfs.h>
#include <mercator/string.h>

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
        struct cpio_cursor c = { 0 };
        struct initramfs_node o_;
        const struct initramfs_node *o = &o_;

        if (!initramfs_is_reg(n) || n->nlink < 2)
                return;
        while (cpio_next(fs, &c, &o_)) {

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
        struct cpio_cursor c = { 0 };
        struct initramfs_node m;
        bool found = false;

        while (cpio_next(fs, &c, &m)) {
                if (path_equals(&m, a, alen, b, blen)) {
                        *out = m;
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
        r = cpio_validate(fs);
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
        if (memchr(n->path + at, '/', n->pathlen - at) != NULL)
                return 0;
        return at ? at : SIZE_MAX;      /* SIZE_MAX: "at 0", for the root */
}

/* Does a later member than the one c just returned have n's path? */
static bool superseded(const struct initramfs *fs, struct cpio_cursor c,
                       const struct initramfs_node *n)
{
        struct initramfs_node m;

        while (cpio_next(fs, &c, &m))
                if (path_equals(&m, n->path, n->pathlen, "", 0))
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
        struct cpio_cursor c = { 0 };
        struct initramfs_node m;

        while (cpio_next(fs, &c, &m)) {
                if (c.index <= k)
                        continue;
                size_t at = child_name_at(dir, &m);
                if (at == 0 || superseded(fs, c, &m))
                        continue;
                at = at == SIZE_MAX ? 0 : at;
                node_link_data(fs, &m);
                out->node = m;
                out->name = m.path + at;
                out->namelen = m.pathlen - at;
                out->type = initramfs_dtype(m.mode);
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
