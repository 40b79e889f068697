/*
 * exec.c - a new address space running a program from a file: the
 * ELF plan (exec/elf.c) becomes private mappings of the file (and
 * anonymous bss), and the stack is built as Linux builds it
 * (exec/ustack.c). Used by execve and for init. Nothing of the calling
 * process changes here: the caller installs the result or destroys it.
 *
 * A program with PT_INTERP gets its interpreter (the dynamic linker,
 * e.g. /lib64/ld-linux-x86-64.so.2) loaded beside it, as Linux's
 * load_elf_binary does: the program at its plan's place (an ET_DYN one
 * at ELF_ET_DYN_BASE, Linux's documented base with ASLR off), the
 * interpreter where the top-down mmap search finds room for all of it,
 * below the stack's gap; the program starts at the interpreter's entry,
 * told the program's entry (AT_ENTRY), headers (AT_PHDR) and the
 * interpreter's bias (AT_BASE). brk follows the program, not the
 * interpreter. The interpreter's own PT_INTERP, if any, is ignored.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <exec/elf.h>
#include <exec/ustack.h>
#include <fs/vfs.h>
#include <machine/vmparam.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <proc/vdso.h>
#include <machine/vdso.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>


#define STACK_TOP       USER_MAX                /* below the hole, as Linux */
#define STACK_INITIAL   (128 * KiB)

/* Write zeroes into [va, va + len) of sp. */
static vm_status_t space_zero(struct vm_space *sp, vaddr_t va, uint64_t len)
{
        static const uint8_t zeroes[256];
        vm_status_t st = VM_OK;

        for (uint64_t done = 0; st == VM_OK && done < len; done += sizeof zeroes)
                st = space_write(sp, va + done, zeroes,
                                 MIN(sizeof zeroes, len - done));
        return st;
}

/*
 * One segment, as Linux maps it: the pages holding file bytes are a
 * private mapping of the file (so every process running the program shares
 * its text frames), the pages beyond are anonymous (bss), and the rest of
 * the last file page is zeroed when the segment has bss, which copies that
 * one page. Mapped writable first, then given the segment's protection.
 */
static vm_status_t load_segment(struct vm_space *sp, const struct elf_segment *s,
                                struct vm_object *file)
{
        vaddr_t file_end = page_round(s->zero_start), at;
        vm_status_t st = VM_OK;

        if (s->file_len)
                st = vm_space_map_file(sp, s->map_start, file_end - s->map_start,
                                       VM_PROT_RW, VM_MAP_PRIVATE | VM_MAP_FIXED,
                                       file, s->file_off, &at);
        else
                file_end = s->map_start;
        if (st == VM_OK && file_end < s->map_end)
                st = vm_space_map(sp, file_end, s->map_end - file_end, VM_PROT_RW,
                                  VM_MAP_PRIVATE | VM_MAP_FIXED, &at);
        if (st == VM_OK && s->zero_end > s->zero_start && s->zero_start < file_end)
                st = space_zero(sp, s->zero_start, file_end - s->zero_start);
        if (st == VM_OK)
                st = vm_space_protect(sp, s->map_start, s->map_end - s->map_start,
                                      s->prot);
        return st;
}

static vm_status_t load_segments(struct vm_space *sp, const struct elf_plan *plan,
                                 struct vnode *vn, const char *path)
{
        struct vm_object *file = vn->obj;
        vm_status_t st = VM_OK;

        vfs_name_object(vn, false);     /* maps: its path, as Linux */
        if (!vm_object_name(file))
                vm_object_set_name(file, path);
        for (unsigned i = 0; i < plan->nsegs && st == VM_OK; i++)
                st = load_segment(sp, &plan->segs[i], file);
        return st;
}

/* Fill 16 bytes for AT_RANDOM from the time-stamp counter, mixed. */
static void random_bytes(uint8_t out[16])
{
        uint64_t x = clock_monotonic_ns() ^ 0x9e3779b97f4a7c15ULL;

        for (int i = 0; i < 16; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                out[i] = (uint8_t)(x >> 24);
        }
}

/* Build the initial stack and copy it in; the initial rsp in *rsp. */
static long build_stack(struct vm_space *sp, const struct elf_plan *plan,
                        vaddr_t interp_base, const char *path, const char *const *argv, size_t argc,
                        const char *const *envp, size_t envc, vaddr_t *rsp)
{
        uint8_t random[16];
        struct ustack_layout lay;
        size_t buf_len = USTACK_ARG_MAX + 2 * PAGE_SIZE + USTACK_ALIGN_RND_MAX;
        uint8_t *buf = kmalloc(buf_len);
        struct vm_object *vvar_ns;
        vaddr_t vdso;
        vm_status_t st;

        if (!buf)
                return -ENOMEM;
        random_bytes(random);
        /* Linux's order: the stack, then the vDSO under it, then the
         * tables that point at both. */
        st = vm_space_stack_init(sp, STACK_TOP, STACK_INITIAL);
        /* The new image reads its clocks in the namespace current's
         * children get (Linux 5.18's exec_task_namespaces). */
        if (st == VM_OK && timens_exec_vvar(&vvar_ns))
                st = VM_ENOMEM;
        if (st == VM_OK)
                st = vdso_map(sp, vvar_ns, &vdso);
        if (st != VM_OK)
                return kfree(buf), st == VM_ENOMEM ? -ENOMEM : -EINVAL;
        struct ustack_args a = {
                .stack_top = STACK_TOP, .buf = buf, .buf_len = buf_len,
                .argv = argv, .argc = argc, .envp = envp, .envc = envc,
                .execfn = path, .random = random, .align_rnd = random[0] * 16u,
                .phdr = plan->phdr_va, .phent = plan->phentsize,
                .phnum = plan->phnum, .entry = plan->entry,
                .base = interp_base, .hwcap = machine_hwcap(),
                .sysinfo_ehdr = vdso,
        };
#ifdef MACHINE_VDSO_AT_SYSINFO
        a.sysinfo = vdso ? machine_vdso_sysinfo(vdso) : 0;
#endif
        st = ustack_build(&a, &lay);
        if (st == VM_E2BIG)
                return kfree(buf), status_to_errno(st);
        if (st == VM_OK) {
                *rsp = lay.rsp;
                sp->arg_start = lay.arg_start;
                sp->arg_end = lay.arg_end;
                sp->env_start = lay.env_start;
                sp->env_end = lay.env_end;
                sp->start_stack = lay.rsp;
                sp->auxv_start = lay.auxv;
                sp->nauxv = lay.nauxv;
                st = space_write(sp, lay.rsp, buf + buf_len - (STACK_TOP - lay.rsp),
                                 STACK_TOP - lay.rsp);
        }
        kfree(buf);
        return st == VM_OK ? 0 : st == VM_ENOMEM ? -ENOMEM : -EINVAL;
}

/* The file name names, if it is a regular file someone may execute. */
static long exec_find(const struct exec_name *name, struct vnode **out)
{
        struct vnode *root = current ? current->root : vfs_root;
        struct vnode *start;
        struct vfs_path p;
        long err;

        if (!current || name->dirfd == EXEC_AT_FDCWD)
                start = vnode_get(current ? current->cwd : vfs_root);
        else if ((err = vfs_at_dir(name->dirfd, name->path, &start)) != 0)
                return err;
        err = vfs_resolve(root, start, name->path, name->vfs_flags, &p);
        vnode_put(start);
        if (err)
                return err;
        if (S_ISLNK(p.vn->mode))        /* execveat's AT_SYMLINK_NOFOLLOW */
                err = -ELOOP;
        else if (!S_ISREG(p.vn->mode) || !p.vn->obj)
                err = -EACCES;
        else if ((err = vfs_permission(p.vn, VFS_MAY_EXEC)) == 0 &&
                 p.vn->writers)
                err = -ETXTBSY;
        if (err) {
                vfs_path_put(&p);
                return err;
        }
        *out = p.vn;
        return 0;
}

#define EXEC_HEAD_MAX   (64 * KiB)      /* ELF and program headers */

/* A file to load: the vnode (a reference), its head and its plan. */
struct exec_file {
        struct vnode    *vn;
        uint8_t         *head;
        size_t           head_len;
        struct elf_plan  plan;
};

static void exec_file_put(struct exec_file *f)
{
        if (f->vn)
                vnode_put(f->vn);
        kfree(f->head);
        kfree(f);
}

/*
 * Find, read and plan the file name names. => 0 with *out; the find's errno,
 * -ENOMEM, -EIO, or `bad` when it is not an ELF file we can load.
 */
static long exec_file_get(const struct exec_name *name, long bad,
                          struct exec_file **out)
{
        struct exec_file *f = kmalloc(sizeof *f);
        enum elf_error eerr;
        long err;

        if (!f)
                return -ENOMEM;
        memset(f, 0, sizeof *f);
        if ((err = exec_find(name, &f->vn)) != 0) {
                f->vn = NULL;
                exec_file_put(f);
                return err;
        }
        f->head_len = (size_t)MIN(f->vn->size, EXEC_HEAD_MAX);
        f->head = kmalloc(MAX(f->head_len, 1));
        if (!f->head)
                err = -ENOMEM;
        else if (vnode_read(f->vn, 0, (uint64_t)f->head, f->head_len, false) !=
                 (long)f->head_len)
                err = -EIO;
        else if ((eerr = elf_plan_build_head(f->head, f->head_len, f->vn->size,
                                             0, &f->plan)) != 0) {
                pr_info("exec %s: %s\n", name->path, elf_error_message(eerr));
                err = bad;
        }
        if (err) {
                exec_file_put(f);
                return err;
        }
        *out = f;
        return 0;
}

/*
 * Place and load the interpreter: an ET_DYN one where the mmap area has
 * room for its whole span (aligned as its segments ask), an ET_EXEC one
 * at its own addresses. => its load bias in *base (AT_BASE).
 */
static long load_interp(struct vm_space *sp, struct exec_file *in,
                        const char *path, vaddr_t *base)
{
        struct elf_plan *p = &in->plan;
        uint64_t span = p->segs[p->nsegs - 1].map_end - p->segs[0].map_start;
        vaddr_t first = p->segs[0].map_start - p->load_bias;  /* unbiased */
        vaddr_t at, bias;
        enum elf_error eerr;

        if (p->type == ET_DYN) {
                if (span > USER_MAX || p->align > USER_MAX ||
                    vm_space_map(sp, 0, span + p->align - PAGE_SIZE,
                                 VM_PROT_NONE, VM_MAP_PRIVATE, &at) != VM_OK)
                        return -ENOMEM;
                vm_space_unmap(sp, at, span + p->align - PAGE_SIZE);
                bias = align_up(at - first, p->align);
                eerr = elf_plan_build_head(in->head, in->head_len, in->vn->size,
                                           elf_plan_offset_for(p, bias), p);
                if (eerr != ELF_OK || p->load_bias != bias)
                        return -ENOMEM;
        }
        *base = p->load_bias;
        return load_segments(sp, p, in->vn, path) == VM_OK ? 0 : -ENOMEM;
}

/* The interpreter's path, from the program's head (a kernel string). */
static char *interp_path(const struct exec_file *f)
{
        char *path = kmalloc(f->plan.interp_len);

        if (path)
                memcpy(path, f->head + f->plan.interp_off, f->plan.interp_len);
        return path;
}

long exec_load(const struct exec_name *name, const char *const *argv,
               size_t argc, const char *const *envp, size_t envc,
               struct exec_image *out)
{
        struct exec_file *prog, *interp = NULL;
        struct vm_space *sp = NULL;
        char *ipath = NULL;
        const char *path = name->execfn;
        vaddr_t base = 0, entry;
        long err = exec_file_get(name, -ENOEXEC, &prog);

        if (err)
                return err;
        if (prog->plan.interp_len) {
                ipath = interp_path(prog);
                /* Linux: a missing interpreter is ENOENT, one it cannot
                 * load ELIBBAD. */
                struct exec_name in = { EXEC_AT_FDCWD, ipath, 0, ipath };
                err = ipath ? exec_file_get(&in, -ELIBBAD, &interp) : -ENOMEM;
        }
        if (err)
                ;
        else if (vm_space_create(&sp) != VM_OK)
                err = -ENOMEM;
        else if (sp->thp_disabled = current && current->space &&
                                    current->space->thp_disabled,
                 vm_space_set_stack_limit(sp, rlimit_stack_bytes(current)),
                 vm_space_set_size_limit(sp, rlimit_as_bytes(current)),
                 load_segments(sp, &prog->plan, prog->vn, path) != VM_OK ||
                 vm_space_brk_init(sp, prog->plan.brk_start) != VM_OK)
                err = -ENOMEM;
        else if (interp)
                err = load_interp(sp, interp, ipath, &base);
        if (!err)
                err = build_stack(sp, &prog->plan, base, path, argv, argc,
                                  envp, envc, &out->sp);
        entry = interp ? interp->plan.entry : prog->plan.entry;
        if (err && sp)
                vm_space_destroy(sp);
        if (!err) {
                out->space = sp;
                out->entry = entry;
                out->exe = prog->vn;    /* the caller's reference now */
                prog->vn = NULL;
        }
        exec_file_put(prog);
        if (interp)
                exec_file_put(interp);
        kfree(ipath);
        return err;
}
