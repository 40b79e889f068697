/*
 * exec.c - a new address space running a program from a file: the
 * ELF plan (exec/elf.c) becomes private anonymous areas filled from the
 * file, and the stack is built as Linux builds it (exec/ustack.c). Used by
 * execve and for init. Nothing of the calling process changes here: the
 * caller installs the result or destroys it.
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
        return st == VM_OK ? vm_space_brk_init(sp, plan->brk_start) : st;
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
                        const char *path, const char *const *argv, size_t argc,
                        const char *const *envp, size_t envc, vaddr_t *rsp)
{
        uint8_t random[16];
        struct ustack_layout lay;
        size_t buf_len = USTACK_ARG_MAX + 2 * PAGE_SIZE + USTACK_ALIGN_RND_MAX;
        uint8_t *buf = kmalloc(buf_len);
        vm_status_t st;

        if (!buf)
                return -ENOMEM;
        random_bytes(random);
        struct ustack_args a = {
                .stack_top = STACK_TOP, .buf = buf, .buf_len = buf_len,
                .argv = argv, .argc = argc, .envp = envp, .envc = envc,
                .execfn = path, .random = random, .align_rnd = random[0] * 16u,
                .phdr = plan->phdr_va, .phent = plan->phentsize,
                .phnum = plan->phnum, .entry = plan->entry,
                .hwcap = machine_hwcap(),
        };
        st = ustack_build(&a, &lay);
        if (st == VM_E2BIG)
                return kfree(buf), status_to_errno(st);
        if (st == VM_OK)
                st = vm_space_stack_init(sp, STACK_TOP, STACK_INITIAL);
        if (st == VM_OK) {
                *rsp = lay.rsp;
                sp->arg_start = lay.arg_start;
                sp->arg_end = lay.arg_end;
                sp->env_start = lay.env_start;
                sp->env_end = lay.env_end;
                sp->start_stack = lay.rsp;
                st = space_write(sp, lay.rsp, buf + buf_len - (STACK_TOP - lay.rsp),
                                 STACK_TOP - lay.rsp);
        }
        kfree(buf);
        return st == VM_OK ? 0 : st == VM_ENOMEM ? -ENOMEM : -EINVAL;
}

/* The file at path, if it is a regular file someone may execute. */
static long exec_find(const char *path, struct vnode **out)
{
        struct vnode *root = current ? current->root : vfs_root;
        struct vnode *cwd = current ? current->cwd : vfs_root;
        struct vfs_path p;
        long err = vfs_resolve(root, cwd, path, 0, &p);

        if (err)
                return err;
        if (!S_ISREG(p.vn->mode) || !p.vn->obj)
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

long exec_load(const char *path, const char *const *argv, size_t argc,
               const char *const *envp, size_t envc, struct exec_image *out)
{
        struct vnode *vn;
        struct elf_plan *plan;
        struct vm_space *sp = NULL;
        enum elf_error eerr;
        long err = exec_find(path, &vn);
        size_t head_len;
        uint8_t *head;

        if (err)
                return err;
        head_len = (size_t)MIN(vn->size, EXEC_HEAD_MAX);
        plan = kmalloc(sizeof *plan);
        head = kmalloc(MAX(head_len, 1));
        if (!plan || !head) {
                kfree(plan), kfree(head);
                vnode_put(vn);
                return -ENOMEM;
        }
        if (vnode_read(vn, 0, (uint64_t)head, head_len, false) != (long)head_len)
                err = -EIO;
        else if ((eerr = elf_plan_build_head(head, head_len, vn->size, 0, plan)) != 0) {
                pr_info("exec %s: %s\n", path, elf_error_message(eerr));
                err = -ENOEXEC;
        } else if (vm_space_create(&sp) != VM_OK) {
                err = -ENOMEM;
        } else if (vm_space_set_stack_limit(sp, rlimit_stack_bytes(current)),
                   vm_space_set_size_limit(sp, rlimit_as_bytes(current)),
                   load_segments(sp, plan, vn, path) != VM_OK) {
                err = -ENOMEM;
        } else {
                err = build_stack(sp, plan, path, argv, argc, envp, envc, &out->sp);
        }
        if (err && sp)
                vm_space_destroy(sp);
        if (!err) {
                out->space = sp;
                out->entry = plan->entry;
                out->exe = vn;          /* the caller's reference now */
        } else {
                vnode_put(vn);
        }
        kfree(head);
        kfree(plan);
        return err;
}
