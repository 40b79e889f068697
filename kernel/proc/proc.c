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
#include <mercator/uaccess.h>
#include <fs/initramfs.h>
#include <machine/vmparam.h>
#include <fs/file.h>
#include <fs/tty.h>
#include <proc/acct.h>
#include <proc/coredump.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <mercator/kstat.h>
#include <proc/ktimer.h>
#include <proc/futex.h>
#include <ipc/shm.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <proc/signal.h>
#include <vm/kmalloc.h>
#include <vm/memcg.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>

struct proc *proc_table[NPROC];
int proc_slots;
struct initramfs rootfs;
static int next_pid = 1;

/* Counters when init had only its kernel stack: its exit must get back
 * to them (everything its address space and files held is freed). */
static struct mem_snapshot init_baseline;
static struct proc *init_proc;          /* its end is the machine's end */

#define RESERVED_PIDS   300     /* wrapping skips these, as Linux */
/* kernel.pid_max: Linux's default, and its bounds (a 32-bit Linux keeps
 * 32768 as the limit too). */
#define PID_MAX_DEFAULT 32768
#define PID_MAX_LIMIT   (sizeof(long) > 4 ? 4 * 1024 * 1024 : PID_MAX_DEFAULT)
static int pid_max = PID_MAX_DEFAULT;
static int last_pid;

int proc_pid_max(void)
{
        return pid_max;
}

long proc_pid_max_set(uint64_t value)
{
        if (value < RESERVED_PIDS + 1 || value > PID_MAX_LIMIT)
                return -EINVAL;
        pid_max = (int)value;
        return 0;
}

/* The next id no slot holds as a thread or process id, counting up and
 * wrapping at pid_max to RESERVED_PIDS; -1 when every id is taken. */
static int pid_alloc(void)
{
        for (int tries = 0; tries < pid_max; tries++) {
                int pid = next_pid++;
                bool used = false;

                if (next_pid >= pid_max)
                        next_pid = RESERVED_PIDS;
                if (pid >= pid_max)
                        continue;               /* pid_max was lowered */
                for (int i = 0; i < proc_slots && !used; i++)
                        used = proc_table[i]->state != PROC_FREE &&
                               (proc_table[i]->pid == pid ||
                                proc_table[i]->tid == pid);
                if (!used)
                        return last_pid = pid;
        }
        return -1;
}

/* The lowest free slot, appending one while the table has room; NULL if
 * every slot is taken or no memory is left for a new one. */
static struct proc *slot_take(void)
{
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state == PROC_FREE)
                        return proc_table[i];
        if (proc_slots == NPROC)
                return NULL;
        struct proc *p = kmalloc(sizeof *p);
        if (!p)
                return NULL;
        p->state = PROC_FREE;
        proc_table[proc_slots++] = p;
        return p;
}

/* Give back the memory of the free slots at the top of the table. */
static void slots_trim(void)
{
        while (proc_slots > 0 && proc_table[proc_slots - 1]->state == PROC_FREE) {
                kfree(proc_table[--proc_slots]);
                proc_table[proc_slots] = NULL;
        }
}

/*
 * Kernel stacks of threads that ended, kept mapped for the next
 * proc_alloc() (Linux keeps two per CPU for the same reason): freeing one
 * unmaps it from the kernel half, and with several CPUs that is a
 * shootdown round to every other CPU, idle ones included (each woken from
 * hlt), for every thread that ends. A stack is zeroed when reused, as a
 * fresh one is. mem_snapshot() empties the cache first
 * (proc_kstack_shrink), so the leak checks count only stacks in use.
 * [kernel lock]
 */
#define KSTACK_CACHE    8
static void *kstack_cache[KSTACK_CACHE];
static unsigned kstack_cached;

static void proc_kstack_free(void *stack)
{
        if (stack && kstack_cached < KSTACK_CACHE) {
                kstack_cache[kstack_cached++] = stack;
                return;
        }
        kstack_free(stack);
}

/*
 * Every system call touches the top of its thread's kernel stack and its
 * struct proc: pages of one TLB colour (pmap.h) evict each other on every
 * call. On i386 at -m 3G init's stack top and its struct proc both had
 * colour 4 and getppid took 595 ns; 414 ns once the stack moved one page
 * up. So a process gets a stack whose top STACK_HOT_PAGES pages differ in
 * colour from every page of its struct proc: a cached stack that fits,
 * else a fresh one, STACK_TRIES at most (a clash costs time, never
 * correctness, so the last try is taken if none fits).
 */
#define STACK_HOT_PAGES 2u
#define STACK_TRIES     4u

bool proc_kstack_clashes(const struct proc *p, const void *stack)
{
        vaddr_t top = kstack_top((void *)stack);
        vaddr_t first = (vaddr_t)p & ~(vaddr_t)(PAGE_SIZE - 1);

        for (vaddr_t s = top - STACK_HOT_PAGES * PAGE_SIZE; s < top; s += PAGE_SIZE)
                for (vaddr_t q = first; q < (vaddr_t)(p + 1); q += PAGE_SIZE)
                        if (tlb_colour(s) == tlb_colour(q))
                                return true;
        return false;
}

/* Cached stack i, zeroed as a fresh one is, out of the cache. */
static void *kstack_uncache(unsigned i)
{
        void *stack = kstack_cache[i];

        kstack_cache[i] = kstack_cache[--kstack_cached];
        memset(stack, 0, KSTACK_SIZE);
        return stack;
}

static void *proc_kstack_alloc(const struct proc *p)
{
        void *tried[STACK_TRIES], *stack = NULL;
        unsigned n = 0;

        for (unsigned i = 0; i < kstack_cached; i++)
                if (!proc_kstack_clashes(p, kstack_cache[i]))
                        return kstack_uncache(i);
        /* Fresh stacks; those that clash are held until the end, so the
         * next kstack_alloc() cannot hand the same range back. */
        while (n < STACK_TRIES && (stack = kstack_alloc()) &&
               proc_kstack_clashes(p, stack)) {
                tried[n++] = stack;
                stack = NULL;
        }
        if (!stack && n)
                stack = tried[--n];     /* none fitted: one that clashes */
        if (!stack && kstack_cached)
                stack = kstack_uncache(kstack_cached - 1);  /* memory ran out */
        while (n)
                proc_kstack_free(tried[--n]);
        return stack;
}

void proc_kstack_shrink(void)
{
        while (kstack_cached)
                kstack_free(kstack_cache[--kstack_cached]);
}

struct proc *proc_alloc(void)
{
        struct proc *p = slot_take();

        if (!p)
                return NULL;
        memset(p, 0, sizeof *p);
        p->state = PROC_FREE;
        p->kstack = proc_kstack_alloc(p);
        if (!p->kstack) {
                slots_trim();
                return NULL;
        }
        if ((p->pid = p->tid = pid_alloc()) < 0) {
                proc_kstack_free(p->kstack);
                p->kstack = NULL;
                slots_trim();
                return NULL;                    /* fork: EAGAIN, as Linux */
        }
        p->leader = p;
        p->fs_id = proc_share_id();
        p->sighand_id = proc_share_id();
        kstat.forks++;
        p->usage.start_ns = clock_monotonic_ns();
        p->usage.cpus_allowed = ~0ULL;  /* fork copies its parent's */
        cred_init_root(&p->cred);       /* fork copies its parent's */
        rlimits_init(&p->rlim, INR_OPEN_CUR, INR_OPEN_MAX, NPROC);
        p->pgid = p->sid = p->pid;
        p->exit_signal = SIGCHLD;
        p->sig.altstack.ss_flags = SS_DISABLE;
        p->state = PROC_SLEEPING;       /* not runnable until set up */
        p->wait_channel = p;
        return p;
}

#define CAP_SYS_PTRACE  19

bool proc_may_access(const struct proc *target)
{
        const struct cred *c = &current->cred, *t = &target->cred;

        if (target->pid == current->pid)        /* itself, or a thread of it */
                return true;
        if (cred_capable(c, CAP_SYS_PTRACE))
                return true;
        return c->uid == t->uid && c->uid == t->euid && c->uid == t->suid &&
               c->gid == t->gid && c->gid == t->egid && c->gid == t->sgid &&
               target->usage.dumpable;
}

int proc_last_pid(void)
{
        return last_pid;
}

uint64_t proc_share_id(void)
{
        static uint64_t next_id;

        return ++next_id;
}

struct proc *proc_find_tid(int tid)
{
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE && proc_table[i]->tid == tid)
                        return proc_table[i];
        return NULL;
}

int proc_group_others(const struct proc *p)
{
        int n = 0;

        for (int i = 0; i < proc_slots; i++) {
                const struct proc *t = proc_table[i];
                n += t != p && t->pid == p->pid && proc_alive(t);
        }
        return n;
}

int proc_thread_count(const struct proc *p)
{
        return proc_group_others(p) + proc_alive(p);
}

int space_users(const struct vm_space *sp)
{
        int n = 0;

        for (int i = 0; sp && i < proc_slots; i++)
                n += proc_table[i]->state != PROC_FREE && proc_table[i]->space == sp;
        return n;
}

vm_status_t proc_fdt_new(struct proc *p)
{
        return proc_fdt_copy(p, NULL);
}

vm_status_t proc_fdt_copy(struct proc *p, const struct fdtable *src)
{
        struct fdtable *t = kzalloc(sizeof *t);
        int last = src ? fdt_last_open(src) : -1;

        if (!t)
                return VM_ENOMEM;
        if (fdt_init(t, last)) {
                kfree(t);
                return VM_ENOMEM;
        }
        t->refs = 1;
        for (int fd = 0; fd <= last; fd++) {
                if (src->files[fd])
                        t->files[fd] = file_get(src->files[fd]);
                t->fd_flags[fd] = src->fd_flags[fd];
        }
        p->fdt = t;
        return VM_OK;
}

void proc_fdt_share(struct proc *p, struct proc *src)
{
        src->fdt->refs++;
        p->fdt = src->fdt;
}

void proc_fdt_put(struct proc *p)
{
        struct fdtable *t = p->fdt;

        if (!t)
                return;
        p->fdt = NULL;
        if (--t->refs > 0)
                return;
        for (int fd = 0; fd < t->size; fd++) {
                if (t->files[fd]) {
                        vfs_locks_on_close(t->files[fd], p->pid);
                        file_put(t->files[fd]);
                }
        }
        fdt_release(t);
        kfree(t);
}

void proc_fs_changed(struct proc *p)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *q = proc_table[i];
                if (q == p || q->state == PROC_FREE || q->fs_id != p->fs_id ||
                    !q->cwd)
                        continue;
                if (q->cwd != p->cwd) {
                        vnode_put(q->cwd);
                        q->cwd = vnode_get(p->cwd);
                }
                if (q->root != p->root) {
                        vnode_put(q->root);
                        q->root = p->root ? vnode_get(p->root) : NULL;
                }
                q->umask = p->umask;
        }
}

void proc_leader_replaced(struct proc *old, struct proc *p)
{
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE && proc_table[i]->parent == old)
                        proc_set_parent(proc_table[i], p);
        if (init_proc == old)
                init_proc = p;
        p->memcg = old->memcg;          /* the process's group goes along */
        old->memcg = NULL;
}

void proc_free(struct proc *p)
{
        /* Waited for: its usage becomes the parent's children's (Linux
         * does not count children reaped automatically). */
        if (p->state == PROC_ZOMBIE && p->parent && !p->autoreap)
                acct_reap(p->parent, p);
        proc_fdt_put(p);                /* a fork that failed half way */
        timens_proc_free(p);            /* a fork that failed half way */
        proc_kstack_free(p->kstack);
        ASSERT(!p->timed_slot && !p->wq_pprev); /* no sleeper is freed */
        p->state = PROC_FREE;
        slots_trim();
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
                uint8_t *d = pmap_quick_enter_page(page_trunc(pa));

                memcpy(d + (pa & PAGE_MASK), s, n);
                pmap_quick_remove_page(d);
                va += n, s += n, len -= n;
        }
        return VM_OK;
}

void proc_vfork_release(struct proc *p)
{
        if (p->vfork_parent) {
                p->vfork_parent = NULL;
                sched_wakeup(&p->vfork_parent);
        }
}

/* Children of an exiting process (its leader p) are adopted by init,
 * which reaps them; those that asked (PR_SET_PDEATHSIG) get their signal. */
static void proc_reparent_children(struct proc *p)
{
        struct ksiginfo info = { .code = SI_USER, .pid = p->pid };

        for (int i = 0; i < proc_slots; i++) {
                struct proc *c = proc_table[i];
                if (c->state == PROC_FREE || c->parent != p)
                        continue;
                proc_set_parent(c, init_proc);
                if (!proc_is_leader(c))
                        continue;               /* a thread of a child */
                if (c->state == PROC_ZOMBIE && init_proc) {
                        sched_wakeup(init_proc);
                        continue;
                }
                if (c->usage.pdeath_signal)
                        signal_send(c, c->usage.pdeath_signal, &info);
                signal_orphan_check(c, p, NULL);
        }
}

/* A process is named after the file it runs (its last path component). */
void proc_set_name(struct proc *p, const char *path)
{
        const char *base = path;

        for (const char *c = path; *c; c++)
                if (*c == '/' && c[1])
                        base = c + 1;
        ksnprintf(p->name, sizeof p->name, "%s", base);
        /* The program's absolute path, for /proc/PID/exe (a regular
         * file's vnode does not know its name). */
        while (path[0] == '.' && path[1] == '/')
                path += 2;
        if (path[0] == '/' || !p->cwd ||
            vfs_path_of(p->root ? p->root : vfs_root, p->cwd, p->exe_path,
                        sizeof p->exe_path) < 0)
                ksnprintf(p->exe_path, sizeof p->exe_path, "%s", path);
        else {
                size_t n = strlen(p->exe_path);
                ksnprintf(p->exe_path + n, sizeof p->exe_path - n, "%s%s",
                          n > 1 ? "/" : "", path);
        }
}

/* Give p the console as descriptors 0, 1 and 2, and as its session's
 * controlling terminal. */
static vm_status_t proc_open_console(struct proc *p)
{
        struct file *con = file_console();

        if (!con)
                return VM_ENOMEM;
        if (proc_fdt_new(p) != VM_OK) {
                file_put(con);
                return VM_ENOMEM;
        }
        for (int fd = 0; fd < 3; fd++)
                p->fdt->files[fd] = fd ? file_get(con) : con;
        tty_attach_session(p);
        return VM_OK;
}

/* The control group the current process charges its pages to. */
static struct memcg *proc_memcg_current(void)
{
        return current ? group_of(current)->memcg : NULL;
}

long proc_start_init(const char *path, int argc, const char *const *argv)
{
        static const char *const envp[] = { "HOME=/", "TERM=linux", NULL };
        struct exec_image img;
        struct proc *p;
        long err;

        if (!(p = proc_alloc()))
                return -ENOMEM;
        /* The baseline comes before the file systems: at init's exit they
         * are torn down (vfs_shutdown), so every file's page must be back. */
        mem_snapshot(&init_baseline);
        vfs_cgroupfs_new_sb = cgroupfs_new_sb;
        vfs_cgroupfs_destroy_sb = cgroupfs_destroy_sb;
        err = vfs_init();
        if (err) {
                proc_free(p);
                return err;
        }
        p->cwd = vnode_get(vfs_root);
        p->root = vnode_get(vfs_root);
        p->umask = 022;
        struct exec_name name = { EXEC_AT_FDCWD, path, 0, path };
        err = exec_load(&name, argv, (size_t)argc, envp, 2, &img);
        if (!err && proc_open_console(p) != VM_OK) {
                vm_space_destroy(img.space);
                err = -ENOMEM;
        }
        if (err) {
                vnode_put(p->cwd), vnode_put(p->root);
                p->cwd = p->root = NULL;
                proc_free(p);
                return err;
        }
        p->space = img.space;
        p->exe = img.exe;
        p->exe->running++;
        proc_set_name(p, path);
        cred_init_root(&p->cred);
        rlimits_init(&p->rlim, INR_OPEN_CUR, INR_OPEN_MAX, NPROC);
        p->usage.dumpable = true;
        p->usage.coredump_filter = CORE_FILTER_DEFAULT;
        init_proc = p;
        memcg_init();
        memcg_current_hook = proc_memcg_current;
        p->memcg = &memcg_root;
        memcg_attach(p->memcg);
        machine_thread_init_user(p, img.entry, img.sp);
        sched_make_runnable(p);
        return VM_OK;
}

/* Release what a thread holds while it still runs: its references to
 * the descriptor table and the memory (freed by the last user), the
 * process's timers with its last thread. */
static void proc_release(struct proc *p, bool last)
{
        if (last)
                ktimer_exit(group_of(p));
        ktimer_exit(p);
        proc_fdt_put(p);
        if (p->space) {
                proc_vmview_exit(p);    /* with vmview=exit: the last picture */
                proc_space_leave(p);    /* before the space may go */
                pmap_activate(pmap_kernel());
                /* a vfork child's is its parent's; threads share theirs */
                if (!p->space_borrowed && space_users(p->space) == 1) {
                        oom_space_released(p->space);
                        vm_space_destroy(p->space);
                }
                p->space = NULL;
                p->space_borrowed = false;
        }
        if (p->exe)
                p->exe->running--;
        vnode_put(p->exe);
        vnode_put(p->cwd);
        vnode_put(p->root);
        p->exe = p->cwd = p->root = NULL;
        timens_proc_free(p);    /* a zombie reads no clock (and init's
                                 * exit checks that every page is back) */
}

/* Shell convention: an exit code, or 128 + the signal that killed it. */
static int status_code(int wait_status)
{
        return (wait_status & 0x7f) ? 128 + (wait_status & 0x7f)
                                    : (wait_status >> 8) & 0xff;
}

/* How a wait status reads in SIGCHLD's siginfo: CLD_* and si_status. */
static int exit_why(int wait_status, int *status)
{
        int sig = wait_status & 0x7f;

        *status = sig ? sig : (wait_status >> 8) & 0xff;
        if (!sig)
                return CLD_EXITED;
        return wait_status & WAIT_STATUS_CORE ? CLD_DUMPED : CLD_KILLED;
}

void proc_kill_thread(struct proc *t, int wait_status)
{
        t->pending_kill = wait_status;
        sched_wake_sleeper(t, false);   /* sleepers loop on their
                                         * condition: they see it */
        if (t->state == PROC_RUNNING && t != current)
                machine_kick_running(t);        /* in user mode */
}

void proc_group_kill(struct proc *p, struct proc *except, int wait_status)
{
        struct proc *g = group_of(p);

        if (!g->group.exiting) {
                g->group.exiting = true;
                g->group.exit_status = wait_status;
        }
        for (int i = 0; i < proc_slots; i++) {
                struct proc *t = proc_table[i];
                if (t == except || t->pid != p->pid || !proc_alive(t) ||
                    t->pending_kill)
                        continue;
                proc_kill_thread(t, wait_status);
        }
        if (g->sig.stopped) {
                g->sig.stopped = false;
                g->sig.report_stop = false;
                sched_wakeup(&g->sig.stopped);
        }
}

void proc_exit_group(int wait_status)
{
        proc_group_kill(current, current, wait_status);
        proc_exit(wait_status);
}

/* p is the last thread of its group to exit: the process is gone. What
 * only the process had ends; its leader g (p or a zombie already) becomes
 * the zombie its parent waits for, or goes if nobody will. */
static void group_exit_done(struct proc *p, int wait_status)
{
        struct proc *g = group_of(p);
        char line[32];
        int why, status;

        /* exit_group's status, or the last thread's exit (as Linux) */
        if (g->group.exiting)
                wait_status = g->group.exit_status;
        tty_session_leader_exit(g);
        proc_reparent_children(g);
        if (g->memcg) {                 /* it leaves cgroup.procs */
                memcg_detach(g->memcg);
                g->memcg = NULL;
        }
        signal_orphan_check(g, g->parent, g);
        g->wait_status = wait_status;
        if (g == init_proc) {
                vfs_shutdown();
                shm_shutdown();
                mem_snapshot_compare(&init_baseline, "mercator: init's exit");
                /* tools/run reads this line for the program's status. */
                int n = ksnprintf(line, sizeof line, "%sMERCATOR-EXIT %d\n",
                                  console_at_line_start() ? "" : "\n",
                                  status_code(wait_status));
                console_write(line, (size_t)n);
                machine_poweroff(status_code(wait_status) ? 1 : 0);
        }
        g->state = PROC_ZOMBIE;
        why = exit_why(wait_status, &status);
        g->autoreap = signal_notify_parent(g, why, status);
        if (g != p && g->autoreap)
                proc_free(g);           /* not running: free it now */
}

/* Whether slot t holds a process or thread still on its way out: alive,
 * or a zombie that will be freed once it is off its CPU. */
static bool proc_going(const struct proc *t)
{
        return proc_alive(t) || (t->state == PROC_ZOMBIE && t->autoreap);
}

/*
 * init (group g) is about to exit, and the machine to power off with it.
 * Processes still running then (a watcher that `timeout` left, a job a
 * script put in the background) are ended first, as a system's shutdown
 * ends them with SIGKILL, and the zombies nobody will wait for are freed:
 * the leak check at init's exit then sees only pages that a process
 * which is gone kept. Linux would panic at init's exit; its harness here
 * (the referee's init) powers off and the leftovers go silently, as here
 * (a count at LOG_INFO).
 */
static void proc_end_the_others(struct proc *g)
{
        uint64_t give_up = clock_monotonic_ns() + 10000000000ull;
        unsigned killed = 0;

        for (;;) {
                bool going = false, late = clock_monotonic_ns() >= give_up;

                for (int i = 0; i < proc_slots; i++) {
                        struct proc *t = proc_table[i];
                        if (group_of(t) == g || !proc_going(t))
                                continue;
                        going = true;
                        if (late)       /* a kernel bug: say who, go on */
                                pr_err("mercator: init's exit: pid %d "
                                       "(%s) did not end in 10 s\n",
                                       t->tid, t->name);
                        else if (proc_alive(t) && !t->pending_kill &&
                                 !group_of(t)->group.exiting) {
                                proc_group_kill(t, NULL,
                                                wait_status_signaled(SIGKILL));
                                killed++;
                        }
                }
                if (!going || late)
                        break;
                sched_sleep_until(clock_monotonic_ns() + 1000000);
        }
        for (int i = 0; i < proc_slots; i++) {
                struct proc *t = proc_table[i];
                /* not one that frees itself once off a CPU (the late
                 * case can leave one still on it) */
                if (t->state == PROC_ZOMBIE && !t->autoreap &&
                    group_of(t) != g && !proc_group_others(t)) {
                        t->autoreap = true;     /* nobody takes its usage */
                        proc_free(t);
                }
        }
        if (killed)
                pr_info("mercator: init's exit: %u processes still running "
                        "were killed\n", killed);
}

void proc_exit(int wait_status)
{
        struct proc *p = current;
        bool last = proc_group_others(p) == 0;

        if (last && group_of(p) == init_proc)
                proc_end_the_others(group_of(p));

        /* CLONE_CHILD_CLEARTID: as Linux, only when another thread or
         * process shares the memory */
        if (p->clear_child_tid && space_users(p->space) > 1) {
                uint32_t zero = 0;
                if (!copy_to_user(p->clear_child_tid, &zero, sizeof zero))
                        futex_wake_address(p->clear_child_tid);
        }
        futex_exit_robust(p);
        proc_vfork_release(p);
        acct_sample_rss(p);
        proc_release(p, last);
        p->wait_status = wait_status;
        if (p != group_of(p))
                acct_thread_exit(p);    /* its time stays the process's */
        if (group_of(p)->group.exec_thread)
                sched_wakeup(&group_of(p)->group.exec_thread);
        if (last)
                group_exit_done(p, wait_status);
        if (p != group_of(p)) {
                /* a thread that is not the leader goes once off the CPU */
                p->state = PROC_ZOMBIE;
                p->autoreap = true;
        } else if (!last) {
                p->state = PROC_ZOMBIE; /* the process waits for its threads */
        }
        sched_switch();                 /* never comes back */
        panic("a zombie ran again");
}

void proc_kill_current(int signal, const char *why, vaddr_t addr, uint64_t ip)
{
        struct vm_space *sp = current->space;
        const char *reason = sp && page_trunc(sp->last_fault.va) == page_trunc(addr) &&
                             sp->last_fault.result != FAULT_RESOLVED &&
                             sp->last_fault.reason != FAULT_REASON_NONE
                             ? vm_fault_reason_name(sp->last_fault.reason) : NULL;

        /* The siginfo of the core file: a page fault's code as the trap
         * code gives it; other traps' codes are not passed down here. */
        struct ksiginfo info = {
                .signo = signal, .addr = addr,
                .code = signal == SIGBUS ? BUS_ADRERR
                      : signal != SIGSEGV ? SI_KERNEL
                      : sp && sp->last_fault.reason == FAULT_REASON_PROT
                              ? SEGV_ACCERR : SEGV_MAPERR,
        };
        bool core = signal_default_action(signal) == SIGDFL_CORE &&
                    coredump_write(signal, &info);

        pr_err("mercator: pid %d (%s) killed by signal %d at %#" PRIxPTR " ip %#" PRIx64 ": "
               "%s%s%s%s\n", current->pid, current->name, signal, addr, ip, why,
               reason ? ", " : "", reason ? reason : "",
               core ? " (core dumped)" : "");
        proc_exit_group(wait_status_signaled(signal) |
                        (core ? WAIT_STATUS_CORE : 0));
}
