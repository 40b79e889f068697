/*
 * coredump.c - the ELF core file of a process killed by a core signal
 * (coredump.h): where it goes (core_pattern), what is in it (notes, one
 * PT_LOAD per area), and the /proc files that steer it.
 *
 * The file is built in three passes over the areas, all from the same
 * snapshot of the space (the dying thread holds the kernel; the other
 * threads of the group are not stopped first as Linux does, so their
 * registers are not in it: one NT_PRSTATUS, the dying thread's):
 * count and size the segments, write headers and notes, write the
 * contents. Words are the architecture's (ELFCLASS64 or 32: i386).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <machine/elf.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/coredump.h>
#include <proc/machine_hooks.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

static char core_pattern[CORE_PATTERN_MAX] = "core";
static bool core_uses_pid;

#define CLASS64         (ELF_MACHINE_CLASS == 2)
#define WORD            (CLASS64 ? 8u : 4u)     /* an ELF "long" */
#define EHDR_SIZE       (CLASS64 ? 64u : 52u)
#define PHDR_SIZE       (CLASS64 ? 56u : 32u)

#define ET_CORE         4
#define PT_LOAD         1
#define PT_NOTE         4
#define PF_X            1
#define PF_W            2
#define PF_R            4
#define NT_PRSTATUS     1
#define NT_PRPSINFO     3
#define NT_AUXV         6
#define NT_SIGINFO      0x53494749
#define NT_FILE         0x46494c45

/* coredump_filter bits (Linux's MMF_DUMP_*). */
#define FILTER_ANON_PRIVATE     0x01
#define FILTER_ANON_SHARED      0x02
#define FILTER_MAPPED_PRIVATE   0x04
#define FILTER_MAPPED_SHARED    0x08
#define FILTER_ELF_HEADERS      0x10
#define FILTER_MASK             0x1ff

/* ---- little-endian records of the class's word size ---------------------- */

/* A growing byte buffer (kmalloc'ed); on failure `bad` sticks. */
struct rec {
        uint8_t *b;
        size_t   len, cap;
        bool     bad;
};

static void rec_room(struct rec *r, size_t n)
{
        size_t cap = r->cap ? r->cap : 1024;
        uint8_t *nb;

        if (r->bad || r->len + n <= r->cap)
                return;
        while (cap < r->len + n)
                cap *= 2;
        if (!(nb = kmalloc(cap))) {
                r->bad = true;
                return;
        }
        if (r->len)
                memcpy(nb, r->b, r->len);
        kfree(r->b);
        r->b = nb;
        r->cap = cap;
}

static void put(struct rec *r, const void *src, size_t n)
{
        rec_room(r, n);
        if (r->bad)
                return;
        if (src)
                memcpy(r->b + r->len, src, n);
        else
                memset(r->b + r->len, 0, n);
        r->len += n;
}

static void put_le(struct rec *r, uint64_t v, unsigned n)
{
        uint8_t b[8];

        for (unsigned i = 0; i < n; i++)
                b[i] = (uint8_t)(v >> (8 * i));
        put(r, b, n);
}

#define put16(r, v)     put_le(r, v, 2)
#define put32(r, v)     put_le(r, v, 4)
#define putw(r, v)      put_le(r, v, WORD)

static void pad4(struct rec *r)
{
        put(r, NULL, (4 - r->len % 4) % 4);
}

/* ---- what each area contributes -------------------------------------------- */

struct seg {
        vaddr_t  start, end;
        uint64_t filesz;        /* bytes of contents in the file */
        unsigned pflags;
};

/* Linux's vma_dump_size(): how much of area a goes into the file. */
static uint64_t dump_size(struct vm_space *s, const struct vm_area *a,
                          uint32_t filter)
{
        uint64_t whole = a->end - a->start;
        bool shared = a->flags & VM_AREA_SHARED;
        const struct vm_object *file = shared ? a->object : a->backing;
        bool is_file = file && file->type == VM_OBJECT_FILE;
        uint8_t magic[4];
        size_t done;

        if (a->flags & VM_AREA_SPECIAL)
                return whole;   /* [vdso], [vvar]: always (named special
                                 * mappings, Linux's always_dump_vma) */
        if (a->flags & VM_AREA_DONTDUMP)
                return 0;
        if (shared)
                return (filter & (is_file ? FILTER_MAPPED_SHARED
                                          : FILTER_ANON_SHARED)) ? whole : 0;
        if (a->object && (filter & FILTER_ANON_PRIVATE))
                return whole;                   /* written to: anon_vma */
        if (!is_file)
                return 0;
        if (filter & FILTER_MAPPED_PRIVATE)
                return whole;
        if ((filter & FILTER_ELF_HEADERS) && a->backing_pgoff == 0 &&
            (a->prot & VM_PROT_READ) &&
            vm_space_access(s, a->start, magic, 4, false, true, &done) == VM_OK &&
            done == 4 && !memcmp(magic, "\177ELF", 4))
                return PAGE_SIZE;
        return 0;
}

/* The segments, in address order: *n of them in a kmalloc'ed array. */
static struct seg *collect(struct vm_space *s, uint32_t filter, size_t *n)
{
        const struct vm_area *a;
        struct seg *v;
        size_t i = 0, count = 0;

        for (a = vm_area_first(&s->areas); a; a = a->next)
                count++;
        v = kmalloc(MAX(count, 1) * sizeof *v);
        if (!v)
                return NULL;
        for (a = vm_area_first(&s->areas); a; a = a->next, i++)
                v[i] = (struct seg){
                        .start = a->start, .end = a->end,
                        .filesz = dump_size(s, a, filter),
                        .pflags = ((a->prot & VM_PROT_READ) ? PF_R : 0) |
                                  ((a->prot & VM_PROT_WRITE) ? PF_W : 0) |
                                  ((a->prot & VM_PROT_EXEC) ? PF_X : 0),
                };
        *n = count;
        return v;
}

/* ---- notes ---------------------------------------------------------------- */

static void note(struct rec *r, uint32_t type, const void *desc, size_t len)
{
        put32(r, 5);                    /* "CORE" and its NUL */
        put32(r, len);
        put32(r, type);
        put(r, "CORE\0\0\0", 8);
        put(r, desc, len);
        pad4(r);
}

static void put_timeval(struct rec *r, uint64_t ns)
{
        putw(r, ns / 1000000000u);
        putw(r, ns % 1000000000u / 1000u);
}

/* struct elf_prstatus of the dying thread. */
static void note_prstatus(struct rec *r, struct proc *p, int sig)
{
        struct rec d = { 0 };
        uint8_t regs[MACHINE_CORE_GREGS_SIZE];

        put32(&d, sig), put32(&d, 0), put32(&d, 0);     /* pr_info */
        put16(&d, sig), put16(&d, 0);                   /* pr_cursig */
        putw(&d, p->sig.own.pending);                   /* pr_sigpend */
        putw(&d, p->sig.blocked);                       /* pr_sighold */
        put32(&d, p->tid);
        put32(&d, p->parent ? p->parent->pid : 0);
        put32(&d, p->pgid);
        put32(&d, p->sid);
        put_timeval(&d, p->usage.utick_ns);
        put_timeval(&d, p->usage.stick_ns);
        put_timeval(&d, p->usage.c_utime_ns);
        put_timeval(&d, p->usage.c_stime_ns);
        machine_core_gregs(p, regs);
        put(&d, regs, sizeof regs);
        put32(&d, 0);                                   /* pr_fpvalid */
        put(&d, NULL, (WORD - d.len % WORD) % WORD);
        if (d.bad)
                r->bad = true;
        else
                note(r, NT_PRSTATUS, d.b, d.len);
        kfree(d.b);
}

/* struct elf_prpsinfo: state, name, the start of the command line. */
static void note_prpsinfo(struct rec *r, struct proc *p)
{
        struct rec d = { 0 };
        char fname[16] = { 0 }, args[80] = { 0 };
        struct vm_space *s = p->space;
        size_t n = MIN(sizeof args - 1, s->arg_end - s->arg_start), done = 0;

        memcpy(fname, p->name, MIN(strlen(p->name), sizeof fname - 1));
        if (s->arg_end > s->arg_start)
                (void)vm_space_access(s, s->arg_start, args, n, false, true, &done);
        for (size_t i = 0; i + 1 < done; i++)
                if (args[i] == '\0')
                        args[i] = ' ';
        put(&d, "\0R\0", 3);                    /* pr_state 0 "R", zomb */
        put(&d, &(int8_t){ (int8_t)p->usage.nice }, 1);
        put(&d, NULL, (WORD - d.len % WORD) % WORD);
        putw(&d, 0);                            /* pr_flag */
        if (CLASS64) {
                put32(&d, p->cred.uid), put32(&d, p->cred.gid);
        } else {                                /* i386: 16-bit ids */
                put16(&d, p->cred.uid), put16(&d, p->cred.gid);
        }
        put32(&d, p->pid);
        put32(&d, p->parent ? p->parent->pid : 0);
        put32(&d, p->pgid);
        put32(&d, p->sid);
        put(&d, fname, sizeof fname);
        put(&d, args, sizeof args);
        if (d.bad)
                r->bad = true;
        else
                note(r, NT_PRPSINFO, d.b, d.len);
        kfree(d.b);
}

static void note_siginfo(struct rec *r, int sig, const struct ksiginfo *info)
{
        struct ksiginfo k = { .signo = sig, .code = 0x80 /* SI_KERNEL */ };
        uint8_t si[LINUX_SIGINFO_SIZE];

        siginfo_to_linux(si, info && info->signo == sig ? info : &k);
        note(r, NT_SIGINFO, si, sizeof si);
}

/* The auxiliary vector exec put on the stack, up to AT_NULL. */
static void note_auxv(struct rec *r, struct vm_space *s)
{
        uint8_t buf[64 * 16];
        size_t done = 0, len = 0;

        if (!s->auxv_start || vm_space_access(s, s->auxv_start, buf,
                                              MIN(sizeof buf, s->nauxv * 2 * WORD),
                                              false, true, &done) != VM_OK)
                done = 0;
        for (; len + 2 * WORD <= done; len += 2 * WORD) {
                uint64_t type = 0;
                memcpy(&type, buf + len, WORD);
                if (type == 0) {
                        len += 2 * WORD;
                        break;
                }
        }
        note(r, NT_AUXV, buf, len);
}

struct file_walk {
        struct rec *hdr, *names;
        uint64_t    count;
};

static bool file_one(void *arg, const struct vm_area_info *info)
{
        struct file_walk *w = arg;

        if (!info->is_file || (info->flags & VM_AREA_SPECIAL) || !info->name)
                return true;
        putw(w->hdr, info->start);
        putw(w->hdr, info->end);
        putw(w->hdr, info->offset / PAGE_SIZE);
        put(w->names, info->name, strlen(info->name) + 1);
        w->count++;
        return true;
}

/* NT_FILE: count, page size, (start, end, page offset) per mapped file,
 * then their names. */
static void note_file(struct rec *r, struct vm_space *s)
{
        struct rec hdr = { 0 }, names = { 0 }, d = { 0 };
        struct file_walk w = { &hdr, &names, 0 };

        vm_space_for_each_area(s, file_one, &w);
        putw(&d, w.count);
        putw(&d, PAGE_SIZE);
        put(&d, hdr.b, hdr.len);
        put(&d, names.b, names.len);
        if (hdr.bad || names.bad || d.bad)
                r->bad = true;
        else
                note(r, NT_FILE, d.b, d.len);
        kfree(hdr.b), kfree(names.b), kfree(d.b);
}

/* ---- headers -------------------------------------------------------------- */

static void put_ehdr(struct rec *r, size_t nphdr)
{
        static const uint8_t ident[16] = {
                0x7f, 'E', 'L', 'F', ELF_MACHINE_CLASS, ELF_MACHINE_DATA, 1,
        };

        put(r, ident, sizeof ident);
        put16(r, ET_CORE);
        put16(r, ELF_MACHINE);
        put32(r, 1);                            /* EV_CURRENT */
        putw(r, 0);                             /* e_entry */
        putw(r, EHDR_SIZE);                     /* e_phoff */
        putw(r, 0);                             /* e_shoff */
        put32(r, 0);                            /* e_flags */
        put16(r, EHDR_SIZE);
        put16(r, PHDR_SIZE);
        put16(r, nphdr);
        put16(r, 0), put16(r, 0), put16(r, 0);  /* no sections */
}

static void put_phdr(struct rec *r, uint32_t type, uint32_t flags,
                     uint64_t off, uint64_t va, uint64_t filesz,
                     uint64_t memsz, uint64_t align)
{
        put32(r, type);
        if (CLASS64)
                put32(r, flags);
        putw(r, off);
        putw(r, va);
        putw(r, 0);                             /* p_paddr */
        putw(r, filesz);
        putw(r, memsz);
        if (!CLASS64)
                put32(r, flags);
        putw(r, align);
}

/* ---- the file --------------------------------------------------------------- */

struct out {
        struct vnode *vn;
        uint64_t      off;              /* where the next bytes go */
        uint64_t      written, limit;   /* bytes written; RLIMIT_CORE */
        bool          failed;
};

/* Linux's dump_emit: all of it, or nothing more from here on; RLIMIT_CORE
 * counts the bytes written (holes are free, as Linux's dump_skip). */
static void emit(struct out *o, const void *buf, size_t len)
{
        if (o->failed || len > o->limit - o->written) {
                o->failed = true;
                return;
        }
        if (vnode_write(o->vn, o->off, (uint64_t)(uintptr_t)buf, len, false) !=
            (long)len)
                o->failed = true;
        o->off += len;
        o->written += len;
}

/* A segment's contents page by page; pages that cannot be read (guard
 * pages, past a file's end) stay holes, as Linux's dump_skip. */
static void emit_segment(struct out *o, struct vm_space *s,
                         const struct seg *g, uint8_t *page)
{
        for (vaddr_t va = g->start; va < g->start + g->filesz && !o->failed;
             va += PAGE_SIZE) {
                size_t done = 0;
                if (vm_space_access(s, va, page, PAGE_SIZE, false, true, &done) == VM_OK &&
                    done == PAGE_SIZE)
                        emit(o, page, PAGE_SIZE);
                else
                        o->off += PAGE_SIZE;
        }
}

/* Create or truncate the core file (mode 0600, a regular file only). */
static long open_core(struct proc *p, const char *path, struct vnode **out)
{
        struct vfs_path fp;
        struct vnode *vn = NULL;
        long err = vfs_resolve(p->root, p->cwd, path, VFS_PARENT | VFS_NOFOLLOW, &fp);

        if (err)
                return err;
        if (!fp.namelen || fp.trailing_slash) {
                err = -EISDIR;
        } else if (fp.vn) {
                vn = vnode_get(fp.vn);
                err = !S_ISREG(vn->mode) ? -EINVAL
                    : vn->uid != p->cred.fsuid ? -EPERM
                    : vnode_truncate(vn, 0);
        } else if (!(err = vfs_permission(fp.dir, VFS_MAY_WRITE | VFS_MAY_EXEC))) {
                err = fp.dir->ops->create
                        ? fp.dir->ops->create(fp.dir, fp.name, fp.namelen,
                                              S_IFREG | 0600, 0, &vn)
                        : -EACCES;
        }
        vfs_path_put(&fp);
        if (err && vn)
                vnode_put(vn);
        if (!err)
                *out = vn;
        return err;
}

/* core_pattern with its %-specifiers filled in; false if it does not fit. */
static bool expand_pattern(struct proc *p, int sig, char *out, size_t size)
{
        size_t n = 0;
        bool has_pid = false;

        for (const char *c = core_pattern; *c && n + 1 < size; c++) {
                char tmp[64];
                const char *add = tmp;
                tmp[0] = '\0';
                if (*c != '%') {
                        tmp[0] = *c, tmp[1] = '\0';
                } else {
                        switch (*++c) {
                        case '%': add = "%"; break;
                        case 'p': case 'P': has_pid = true;
                                ksnprintf(tmp, sizeof tmp, "%d", p->pid); break;
                        case 'i': case 'I':
                                ksnprintf(tmp, sizeof tmp, "%d", p->tid); break;
                        case 'u': ksnprintf(tmp, sizeof tmp, "%u", p->cred.uid); break;
                        case 'g': ksnprintf(tmp, sizeof tmp, "%u", p->cred.gid); break;
                        case 'd': add = "1"; break;     /* suid_dumpable 1 */
                        case 's': ksnprintf(tmp, sizeof tmp, "%d", sig); break;
                        case 't': ksnprintf(tmp, sizeof tmp, "%lu", (unsigned long)
                                            (clock_realtime_ns() / 1000000000u)); break;
                        case 'h': add = "mercator"; break;
                        case 'e': add = p->name; break;
                        case 'E':
                                ksnprintf(tmp, sizeof tmp, "%s", p->exe_path);
                                for (char *q = tmp; *q; q++)
                                        if (*q == '/')
                                                *q = '!';
                                break;
                        case 'c': ksnprintf(tmp, sizeof tmp, "%lu", (unsigned long)
                                            p->rlim.lim[RLIMIT_CORE].cur); break;
                        case '\0': c--; add = ""; break;
                        default: add = ""; break;       /* Linux drops it */
                        }
                }
                size_t len = strlen(add);
                if (n + len >= size)
                        return false;
                memcpy(out + n, add, len);
                n += len;
        }
        if (core_uses_pid && !has_pid)
                n += (size_t)ksnprintf(out + n, size - n, ".%d", p->pid);
        out[MIN(n, size - 1)] = '\0';
        return n < size;
}

/* Headers, notes (page-aligned after), then every segment. => true once
 * the notes are made: as Linux's elf_core_dump (has_dumped), a core that
 * RLIMIT_CORE or a full disk cut short still counts as dumped. */
static bool write_core(struct proc *p, struct out *o, int sig,
                       const struct ksiginfo *info)
{
        struct vm_space *s = p->space;
        struct rec notes = { 0 }, head = { 0 };
        size_t nseg = 0;
        struct seg *seg = collect(s, group_of(p)->usage.coredump_filter, &nseg);
        uint8_t *page = kmalloc(PAGE_SIZE);
        bool ok = false;

        if (!seg || !page)
                goto out;
        note_prstatus(&notes, p, sig);
        note_prpsinfo(&notes, p);
        note_siginfo(&notes, sig, info);
        note_auxv(&notes, s);
        note_file(&notes, s);
        uint64_t notes_off = EHDR_SIZE + PHDR_SIZE * (nseg + 1);
        uint64_t data = page_round(notes_off + notes.len);
        put_ehdr(&head, nseg + 1);
        put_phdr(&head, PT_NOTE, 0, notes_off, 0, notes.len, 0, 4);
        for (size_t i = 0, off = data; i < nseg; off += seg[i].filesz, i++)
                put_phdr(&head, PT_LOAD, seg[i].pflags, off, seg[i].start,
                         seg[i].filesz, seg[i].end - seg[i].start, PAGE_SIZE);
        if (notes.bad || head.bad)
                goto out;
        ok = true;
        emit(o, head.b, head.len);
        emit(o, notes.b, notes.len);
        o->off = data;                  /* a hole up to the page */
        for (size_t i = 0; i < nseg && !o->failed; i++)
                emit_segment(o, s, &seg[i], page);
        if (!o->failed && o->off > o->vn->size)
                (void)vnode_truncate(o->vn, o->off);    /* trailing hole */
out:
        kfree(seg), kfree(page), kfree(notes.b), kfree(head.b);
        return ok;
}

bool coredump_write(int sig, const struct ksiginfo *info)
{
        struct proc *p = current;
        uint64_t limit = p->rlim.lim[RLIMIT_CORE].cur;
        char path[CORE_PATTERN_MAX + 64];
        struct out o = { .limit = limit };
        long err;
        bool ok;

        if (!p->space || !group_of(p)->usage.dumpable || limit < PAGE_SIZE)
                return false;
        if (core_pattern[0] == '|') {
                pr_info("mercator: pid %d (%s): no core: core_pattern pipes "
                        "to a program, which Mercator does not run\n",
                        p->pid, p->name);
                return false;
        }
        if (!core_pattern[0] || !expand_pattern(p, sig, path, sizeof path))
                return false;
        if ((err = open_core(p, path, &o.vn)) != 0) {
                pr_info("mercator: pid %d (%s): no core: %s: error %ld\n",
                        p->pid, p->name, path, -err);
                return false;
        }
        ok = write_core(p, &o, sig, info);
        vnode_put(o.vn);
        return ok;
}

/* ---- /proc files ---------------------------------------------------------- */

void proc_pid_coredump_filter(struct text *t, struct proc *p)
{
        text_add(t, "%08x\n", group_of(p)->usage.coredump_filter);
}

/* A number as C writes it (0x: hex, 0: octal, else decimal) and an
 * optional newline, as Linux's kstrtouint(buf, 0); the low 9 bits count. */
long proc_pid_coredump_filter_set(struct proc *p, const char *buf, size_t len)
{
        uint64_t v = 0;
        unsigned base = 10;
        size_t i = 0;

        if (len && buf[len - 1] == '\n')
                len--;
        if (len > 1 && buf[0] == '0') {
                base = (buf[1] == 'x' || buf[1] == 'X') ? 16 : 8;
                i = base == 16 ? 2 : 1;
        }
        if (i >= len)
                return -EINVAL;         /* empty, or "0x" alone */
        for (; i < len; i++) {
                char c = buf[i];
                unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                           : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                           : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
                if (d >= base)
                        return -EINVAL;
                v = v * base + d;
                if (v > 0xffffffffu)
                        return -ERANGE;
        }
        group_of(p)->usage.coredump_filter = (uint32_t)(v & FILTER_MASK);
        return 0;
}

void proc_sys_core_pattern(struct text *t, struct proc *p)
{
        text_add(t, "%s\n", core_pattern);
}

/* The pattern up to the first newline; too long: EINVAL (Linux's
 * proc_dostring keeps CORENAME_MAX_SIZE - 1 bytes). */
long proc_sys_core_pattern_set(struct proc *p, const char *buf, size_t len)
{
        size_t n = 0;

        while (n < len && buf[n] != '\n' && buf[n] != '\0')
                n++;
        if (n >= sizeof core_pattern)
                n = sizeof core_pattern - 1;
        memcpy(core_pattern, buf, n);
        core_pattern[n] = '\0';
        return 0;
}

void proc_sys_core_uses_pid(struct text *t, struct proc *p)
{
        text_add(t, "%d\n", core_uses_pid);
}

long proc_sys_core_uses_pid_set(struct proc *p, const char *buf, size_t len)
{
        if (len == 0 || buf[0] < '0' || buf[0] > '9')
                return -EINVAL;
        core_uses_pid = buf[0] != '0';
        return 0;
}
