/*
 * proc.c - creating and ending processes.
 *
 * The first process comes from the initramfs: its ELF plan (exec/elf.c) is
 * turned into private anonymous areas whose pages are filled from the file
 * (file-backed mappings come with a later issue), then the stack is built
 * exactly as Linux builds it (exec/ustack.c). Writing into the new space
 * goes through vm_fault() and the pmap, never through user pointers, so it
 * works whichever address space is active.
 */
#include <mercator/clock.h>
#include <mercator/console.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/memstat.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <exec/elf.h>
#include <exec/ustack.h>
#include <fs/initramfs.h>
#include <machine/vmparam.h>
#include <proc/file.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>

extern struct proc proc_table[NPROC];
struct initramfs rootfs;
static int next_pid = 1;

/* Counters when init had only its kernel stack: its exit must get back
 * to them (everything its address space and files held is freed). */
static struct mem_snapshot init_baseline;
static struct proc *init_proc;          /* its end is the machine's end */

#define STACK_TOP       USER_MAX                /* below the hole, as Linux */
#define STACK_INITIAL   (128 * KiB)

struct proc *proc_alloc(void)
{
        for (int i = 0; i < NPROC; i++) {
                struct proc *p = &proc_table[i];
                if (p->state != PROC_FREE)
                        continue;
                memset(p, 0, sizeof *p);
                p->kstack = kstack_alloc();
                if (!p->kstack)
                        return NULL;
                p->pid = next_pid++;
                p->state = PROC_SLEEPING;       /* not runnable until set up */
                p->wait_channel = p;
                return p;
        }
        return NULL;
}

void proc_free(struct proc *p)
{
        kstack_free(p->kstack);
        p->state = PROC_FREE;
}

vm_status_t space_write(struct vm_space *sp, vaddr_t va, const void *src,
                        size_t len)
{
        const uint8_t *s = src;

        while (len) {
                vaddr_t page = page_trunc(va);
                size_t n = MIN(len, page + PAGE_SIZE - va);
                paddr_t pa;

                if (vm_fault(sp, page, VM_PROT_WRITE) != FAULT_RESOLVED ||
                    !pmap_extract(vm_space_pmap(sp), va, &pa, NULL, NULL))
                        return VM_ENOMEM;
                memcpy(phys_to_virt(pa), s, n);
                va += n, s += n, len -= n;
        }
        return VM_OK;
}

/* Map each segment read-write, fill it from the file, then protect it. */
static vm_status_t load_segments(struct vm_space *sp, const struct elf_plan *plan,
                                 const uint8_t *file)
{
        for (unsigned i = 0; i < plan->nsegs; i++) {
                const struct elf_segment *s = &plan->segs[i];
                uint64_t len = s->map_end - s->map_start;
                vaddr_t at;
                vm_status_t st = vm_space_map(sp, s->map_start, len, VM_PROT_RW,
                                              VM_MAP_PRIVATE | VM_MAP_FIXED, &at);
                if (st == VM_OK)
                        st = space_write(sp, s->map_start, file + s->file_off,
                                         s->file_len);
                if (st == VM_OK)
                        st = vm_space_protect(sp, s->map_start, len, s->prot);
                if (st != VM_OK)
                        return st;
        }
        return vm_space_brk_init(sp, plan->brk_start);
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

/* Build the initial stack and copy it in; *sp gets the initial rsp. */
static vm_status_t build_stack(struct vm_space *sp, const struct elf_plan *plan,
                               const char *path, int argc,
                               const char *const *argv, vaddr_t *rsp)
{
        static const char *const envp[] = { "HOME=/", "TERM=linux" };
        uint8_t random[16];
        struct ustack_layout lay;
        size_t buf_len = USTACK_ARG_MAX + 2 * PAGE_SIZE + USTACK_ALIGN_RND_MAX;
        uint8_t *buf = kmalloc(buf_len);
        vm_status_t st;

        if (!buf)
                return VM_ENOMEM;
        random_bytes(random);
        struct ustack_args a = {
                .stack_top = STACK_TOP, .buf = buf, .buf_len = buf_len,
                .argv = argv, .argc = (size_t)argc, .envp = envp, .envc = 2,
                .execfn = path, .random = random, .align_rnd = random[0] * 16u,
                .phdr = plan->phdr_va, .phent = plan->phentsize,
                .phnum = plan->phnum, .entry = plan->entry,
                .hwcap = machine_hwcap(),
        };
        st = ustack_build(&a, &lay);
        if (st == VM_OK)
                st = vm_space_stack_init(sp, STACK_TOP, STACK_INITIAL);
        if (st == VM_OK)
                st = space_write(sp, lay.rsp, buf + buf_len - (STACK_TOP - lay.rsp),
                                 STACK_TOP - lay.rsp);
        *rsp = lay.rsp;
        kfree(buf);
        return st;
}

/* A new address space running `node` (an ELF file) with these arguments. */
static vm_status_t space_from_elf(const struct initramfs_node *node,
                                  const char *path, int argc,
                                  const char *const *argv,
                                  struct vm_space **out, vaddr_t *entry,
                                  vaddr_t *rsp)
{
        struct elf_plan *plan = kmalloc(sizeof *plan);
        struct vm_space *sp = NULL;
        vm_status_t st = plan ? VM_OK : VM_ENOMEM;
        enum elf_error err;

        if (st == VM_OK && (err = elf_plan_build(node->data, node->size, 0, plan))) {
                pr_err("exec %s: %s\n", path, elf_error_message(err));
                st = VM_EINVAL;
        }
        if (st == VM_OK)
                st = vm_space_create(&sp);
        if (st == VM_OK)
                st = load_segments(sp, plan, node->data);
        if (st == VM_OK)
                st = build_stack(sp, plan, path, argc, argv, rsp);
        if (st == VM_OK)
                *entry = plan->entry;
        if (st != VM_OK && sp)
                vm_space_destroy(sp);
        *out = st == VM_OK ? sp : NULL;
        kfree(plan);
        return st;
}

/* Give p the console as descriptors 0, 1 and 2. */
static vm_status_t proc_open_console(struct proc *p)
{
        struct file *con = file_console();

        if (!con)
                return VM_ENOMEM;
        for (int fd = 0; fd < 3; fd++)
                p->files[fd] = fd ? file_get(con) : con;
        return VM_OK;
}

vm_status_t proc_start_init(const char *path, int argc, const char *const *argv)
{
        struct initramfs_node node;
        struct proc *p;
        vaddr_t entry, rsp;
        vm_status_t st = initramfs_lookup(&rootfs, NULL, path, 0, &node);

        if (st != VM_OK)
                return st;
        if (!(p = proc_alloc()))
                return VM_ENOMEM;
        mem_snapshot(&init_baseline);
        st = space_from_elf(&node, path, argc, argv, &p->space, &entry, &rsp);
        if (st == VM_OK)
                st = proc_open_console(p);
        if (st != VM_OK) {
                if (p->space)
                        vm_space_destroy(p->space);
                proc_free(p);
                return st;
        }
        ksnprintf(p->name, sizeof p->name, "%s", argv[0]);
        init_proc = p;
        md_thread_init_user(p, entry, rsp);
        sched_make_runnable(p);
        return VM_OK;
}

/* Release what a process holds while it still runs: files and memory. */
static void proc_release(struct proc *p)
{
        for (int fd = 0; fd < NOFILE; fd++) {
                if (p->files[fd]) {
                        file_put(p->files[fd]);
                        p->files[fd] = NULL;
                }
        }
        if (p->space) {
                pmap_activate(pmap_kernel());
                vm_space_destroy(p->space);
                p->space = NULL;
        }
}

/* Shell convention: an exit code, or 128 + the signal that killed it. */
static int status_code(int wait_status)
{
        return (wait_status & 0x7f) ? 128 + (wait_status & 0x7f)
                                    : (wait_status >> 8) & 0xff;
}

void proc_exit(int wait_status)
{
        struct proc *p = current;
        char line[32];

        proc_release(p);
        p->wait_status = wait_status;
        if (p == init_proc) {
                mem_snapshot_compare(&init_baseline, "mercator: init's exit");
                /* tools/run reads this line for the program's status. */
                int n = ksnprintf(line, sizeof line, "%sMERCATOR-EXIT %d\n",
                                  console_at_line_start() ? "" : "\n",
                                  status_code(wait_status));
                console_write(line, (size_t)n);
                machine_poweroff(status_code(wait_status) ? 1 : 0);
        }
        p->state = PROC_ZOMBIE;
        if (p->parent)
                sched_wakeup(p->parent);
        sched_switch();                 /* never comes back */
        panic("a zombie ran again");
}

void proc_kill_current(int signal, const char *why, vaddr_t addr, uint64_t ip)
{
        struct vm_space *sp = current->space;
        const char *reason = sp && page_trunc(sp->last_fault.va) == page_trunc(addr) &&
                             sp->last_fault.result != FAULT_RESOLVED
                             ? vm_fault_reason_name(sp->last_fault.reason) : NULL;

        pr_err("mercator: pid %d (%s) killed by signal %d at %#lx ip %#lx: "
               "%s%s%s\n", current->pid, current->name, signal, addr, ip, why,
               reason ? ", " : "", reason ? reason : "");
        proc_exit(wait_status_signaled(signal));
}
