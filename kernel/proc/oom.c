/*
 * oom.c - the out-of-memory killer (see oom.h).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/memcg.h>
#include <vm/pmm.h>
#include <vm/swap.h>
#include <vm/vm_object.h>
#include <vm/vm_reclaim.h>
#include <vm/vm_space.h>
#include <vm/vmstat.h>

#define OOM_WAIT_NS     1000000000ull   /* a victim's time to give back */

uint64_t oom_kills;

/* The last victim: its pid and space while its memory is not back yet,
 * and the time after which it is passed over. */
static struct {
        int                     pid;
        const struct vm_space  *space;
        uint64_t                deadline;
} victim;
static int skipped_pid;                 /* a victim that never gave back */
static char oom_channel;                /* waiters for the victim's memory */

uint64_t oom_totalpages(void)
{
        uint64_t total, free;

        swap_totals(&total, &free);
        return vmstat.managed_pages + total;
}

int64_t oom_badness(struct proc *p, uint64_t totalpages)
{
        struct proc *g = group_of(p);
        struct proc_footprint f;
        int64_t adj = g->usage.oom_score_adj, points;

        if (g->pid == 1 || !g->space || g->space_borrowed ||
            g->state == PROC_FREE || g->state == PROC_ZOMBIE ||
            adj == OOM_SCORE_ADJ_MIN)
                return INT64_MIN;
        proc_space_footprint(g->space, &f);
        points = (int64_t)(f.rss_anon + f.rss_file + f.rss_shmem + f.swap +
                           f.pgtables);
        return points + adj * (int64_t)(totalpages / 1000);
}

/* The process the killer would take, or NULL; only processes of group g
 * and its descendants when g is not NULL (a group's OOM). */
static struct proc *choose_in(uint64_t totalpages, const struct memcg *g)
{
        struct proc *best = NULL;
        int64_t best_points = INT64_MIN;

        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                int64_t points;

                if (!proc_is_leader(p) || p->group.exiting ||
                    p->pid == skipped_pid ||
                    (g && !memcg_is_descendant(p->memcg, g)))
                        continue;
                points = oom_badness(p, totalpages);
                /* Ties go to the later slot, as Linux's walk of its
                 * task list gives them to the later task. */
                if (points != INT64_MIN && points >= best_points) {
                        best = p;
                        best_points = points;
                }
        }
        return best;
}

static struct proc *choose(uint64_t totalpages)
{
        return choose_in(totalpages, NULL);
}

static bool add_swapped(void *arg, struct vm_object *obj)
{
        *(uint64_t *)arg += obj->nswapped;
        return true;
}

/* Where memory is, in pages (Linux prints its Mem-Info at a kill). */
static void show_mem(void)
{
        uint64_t total, free, shared = 0;

        swap_totals(&total, &free);
        vm_object_for_each_swapped_shared(add_swapped, &shared);
        pr_err("mercator: oom: pages free %" PRIu64 " anon %" PRIu64
               " shmem %" PRIu64 " file %" PRIu64 " slab %" PRIu64
               " pt %" PRIu64 " kstack %" PRIu64 " vmalloc %" PRIu64
               " kmalloc_large %" PRIu64 "; swap %" PRIu64 " of %" PRIu64
               " used, %" PRIu64 " by shared memory\n", pmm_free_count(),
               vmstat.anon_pages, vmstat.shmem_pages, vmstat.file_pages,
               vmstat.slab_pages, vmstat.pt_pages, vmstat.kstack_pages,
               vmstat.vmalloc_pages, vmstat.kmalloc_large, total - free,
               total, shared);
        tmpfs_show_mem();
}

static void report(struct proc *v)
{
        struct proc_footprint f;

        show_mem();
        proc_space_footprint(v->space, &f);
        pr_err("mercator: out of memory: killed process %d (%s) "
               "total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64 "kB, "
               "file-rss:%" PRIu64 "kB, shmem-rss:%" PRIu64 "kB, "
               "swap:%" PRIu64 "kB, pgtables:%" PRIu64 "kB, "
               "oom_score_adj:%d\n", v->pid, v->name,
               f.total_vm << (PAGE_SHIFT - 10), f.rss_anon << (PAGE_SHIFT - 10),
               f.rss_file << (PAGE_SHIFT - 10), f.rss_shmem << (PAGE_SHIFT - 10),
               f.swap << (PAGE_SHIFT - 10), f.pgtables << (PAGE_SHIFT - 10),
               v->usage.oom_score_adj);
}

/* Wait (at most until the victim's deadline) for its memory. */
static void wait_for_victim(void)
{
        if (clock_monotonic_ns() >= victim.deadline) {
                skipped_pid = victim.pid;       /* it never gave back */
                victim.space = NULL;
                return;
        }
        (void)sched_sleep_on_until_intr(&oom_channel, victim.deadline);
}

/* The current process is being killed (SIGKILL sent, or exit_group). */
static bool caller_dying(void)
{
        return current->pending_kill || group_of(current)->group.exiting;
}

/* Kill v and every process on its memory (CLONE_VM without CLONE_THREAD),
 * else its memory would stay. */
static void kill_victim(struct proc *v)
{
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];

                if (proc_is_leader(p) && p != v && p->space == v->space &&
                    !p->group.exiting)
                        (void)signal_send(p, SIGKILL, NULL);
        }
        (void)signal_send(v, SIGKILL, NULL);
}

/*
 * memory.oom.group (Linux's mem_cgroup_get_oom_group): the highest group
 * with it set on the way from victim v's group up to the OOM's domain
 * (the group over its limit; the root for the machine's), or NULL.
 */
static struct memcg *oom_group_of(const struct proc *v,
                                  const struct memcg *domain)
{
        struct memcg *found = NULL;

        if (!v->memcg || (domain && !memcg_is_descendant(v->memcg, domain)))
                return NULL;
        for (struct memcg *g = v->memcg; g; g = g->parent) {
                if (g->oom_group)
                        found = g;
                if (g == domain)
                        break;
        }
        return found;
}

/*
 * The victim v is chosen: when its group (up to the domain) has
 * memory.oom.group, kill every other process of that group and its
 * children too, but init and those at oom_score_adj -1000 (Linux's
 * oom_kill_memcg_member): the workload that filled memory is one unit,
 * and its members may hold memory none of them maps (files, memfds)
 * that only the last one's death gives back.
 */
static void kill_group_of(struct proc *v, const struct memcg *domain)
{
        struct memcg *g = oom_group_of(v, domain);

        if (!g)
                return;
        memcg_event(g, MEMCG_EV_OOM_GROUP_KILL);
        pr_err("mercator: oom: killing the processes of memory group %s "
               "(memory.oom.group)\n", g->name);
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];

                if (!proc_is_leader(p) || p == v || p->pid == 1 ||
                    p->group.exiting || !p->memcg ||
                    !memcg_is_descendant(p->memcg, g) ||
                    p->usage.oom_score_adj == OOM_SCORE_ADJ_MIN ||
                    p->state == PROC_FREE || p->state == PROC_ZOMBIE)
                        continue;
                oom_kills++;
                memcg_event(p->memcg, MEMCG_EV_OOM_KILL);
                (void)signal_send(p, SIGKILL, NULL);
        }
}

/* Kill the chosen v (its memory, and its group under memory.oom.group up
 * to domain) and remember it, so that allocations wait for its memory.
 * => false if v was on the caller's memory: it dies on its way out, there
 *    is nothing to wait for. */
static bool kill_chosen(struct proc *v, const struct memcg *domain)
{
        oom_kills++;
        kill_victim(v);
        kill_group_of(v, domain);
        if (v->space == current->space)
                return false;
        victim.pid = v->pid;
        victim.space = v->space;
        victim.deadline = clock_monotonic_ns() + OOM_WAIT_NS;
        return true;
}

bool oom_fault(void)
{
        uint64_t totalpages = oom_totalpages();
        struct proc *v;

        if (victim.space) {             /* one victim at a time */
                wait_for_victim();
                return true;
        }
        v = choose(totalpages);
        if (!v)
                return false;
        report(v);
        if (v->space == current->space) {       /* the faulting process
                                                 * itself: the fault kills it */
                oom_kills++;
                kill_group_of(v, NULL); /* the rest of its memory group */
                return false;
        }
        (void)kill_chosen(v, NULL);
        wait_for_victim();
        return true;
}

/* Wait for the victim's memory inside a system call: as wait_for_victim,
 * but a pending signal other than SIGKILL must not make it a busy loop
 * (the interruptible sleep would end at once), so then it sleeps a tick
 * at a time; SIGKILL ends any sleep. */
static void alloc_wait_for_victim(void)
{
        uint64_t now = clock_monotonic_ns();

        if (now >= victim.deadline || !signal_pending()) {
                wait_for_victim();
                return;
        }
        sched_sleep_until(MIN(victim.deadline, now + 10000000ull));
}

bool oom_alloc_retry(void)
{
        uint64_t totalpages;
        struct proc *v;

        if (caller_dying())
                return false;
        if (vm_reclaim_direct() > 0)
                return true;
        if (victim.space) {             /* one victim at a time */
                alloc_wait_for_victim();
                return !caller_dying();
        }
        totalpages = oom_totalpages();
        v = choose(totalpages);
        if (!v)
                return false;
        report(v);
        if (!kill_chosen(v, NULL))
                return false;
        alloc_wait_for_victim();
        return !caller_dying();
}

enum fault_result oom_kernel_fault(struct vm_space *s, vaddr_t va,
                                   vm_prot_t access)
{
        enum fault_result r;

        if (current && current->uaccess_nofault)
                return FAULT_SEGV;      /* under a spinlock: not served */
#ifdef MACHINE_CPU_LOCAL
        /* A user copy of a call that runs without the big lock
         * (SYSCALL_NO_LOCK): the lock-free fault path first, as for the
         * thread's own faults in user mode; what it declines takes the
         * lock, which the call then keeps to its way out. */
        if (!machine_kernel_lock_held() && current &&
            s == current->space && vm_fault_nolock(s, va, access))
                return FAULT_RESOLVED;
        /* A thread that took the big lock without entering its space
         * (machine_kernel_lock_outside) enters before its first change:
         * the fault's (proc.h, proc_space_enter). */
        if (current && s == current->space)
                proc_kernel_lock_entered();
        else
                machine_kernel_lock_rest_of_call();
#endif
        r = vm_fault(s, va, access);

        while (r == FAULT_OOM && oom_alloc_retry())
                r = vm_fault(s, va, access);
        return r;
}

void oom_space_released(const struct vm_space *s)
{
        if (s && s == victim.space) {
                victim.space = NULL;
                sched_wakeup(&oom_channel);
        }
}

/* ---- a group over its limits -------------------------------------------- */

#define MEMCG_TRIES     16      /* reclaim passes before the group's OOM */
#define MEMCG_BATCH     32      /* pages a pass aims for beyond the excess,
                                 * so that a group at its limit does not
                                 * scan the lists at every fault */

/* Bring g's group at fault (over its max) back under it: reclaim its
 * pages, and if nothing more can go, kill its largest process. => false
 * when nothing more can be done now. */
static bool memcg_bring_down(struct memcg *over, unsigned *tries)
{
        struct proc *v;

        memcg_event(over, MEMCG_EV_MAX);
        if (*tries < MEMCG_TRIES) {     /* a pass may only age the pages */
                (*tries)++;
                (void)vm_reclaim_memcg(over, over->pages - over->max +
                                             MEMCG_BATCH);
                return true;
        }
        if (victim.space) {             /* one victim at a time */
                wait_for_victim();
                return !caller_dying();
        }
        memcg_event(over, MEMCG_EV_OOM);
        if (!(v = choose_in(oom_totalpages(), over)))
                return false;
        pr_err("mercator: memory cgroup out of memory: %s over memory.max "
               "(%" PRIu64 " > %" PRIu64 " pages)\n", over->name, over->pages,
               over->max);
        report(v);
        memcg_event(v->memcg, MEMCG_EV_OOM_KILL);
        if (!kill_chosen(v, over))
                return false;
        wait_for_victim();
        *tries = 0;
        return !caller_dying();
}

void oom_memcg_enforce(struct memcg *g)
{
        struct memcg *over;
        unsigned tries = 0;

        if (!g)
                return;
        if ((over = memcg_over_high(g))) {
                memcg_event(over, MEMCG_EV_HIGH);
                (void)vm_reclaim_memcg(over, over->pages - over->high +
                                             MEMCG_BATCH);
        }
        while ((over = memcg_over_max(g)) && !caller_dying())
                if (!memcg_bring_down(over, &tries))
                        break;
}

/* Every return to user mode asks: a process of the root group (all of
 * them until someone makes a group) answers with one test, since the
 * root has no memory.max or memory.high (cgroupfs.c, as Linux's). */
void oom_memcg_enforce_current(void)
{
        struct memcg *g = current ? group_of(current)->memcg : NULL;

        if (g && g->parent && (memcg_over_max(g) || memcg_over_high(g)))
                oom_memcg_enforce(g);
}

/* ---- /proc/PID/oom_score, oom_score_adj ------------------------------ */

void proc_pid_oom_score(struct text *t, struct proc *p)
{
        uint64_t totalpages = oom_totalpages();
        int64_t badness = oom_badness(p, totalpages), points = 0;

        /* Linux's scale: 0..2000, two thirds of 1000 plus the badness in
         * thousandths; 0 for a process never chosen. */
        if (badness != INT64_MIN && totalpages)
                points = (1000 + badness * 1000 / (int64_t)totalpages) * 2 / 3;
        text_add(t, "%" PRId64 "\n", points < 0 ? 0 : points);
}

void proc_pid_oom_score_adj(struct text *t, struct proc *p)
{
        text_add(t, "%d\n", group_of(p)->usage.oom_score_adj);
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
               c == '\v' || c == '\f';
}

/* Linux's kstrtoint(strstrip(buf), 0): an optional sign, then decimal,
 * 0x hexadecimal or 0 octal. */
static long parse_int(const char *buf, size_t len, long *out)
{
        size_t i = 0, end = len;
        unsigned base = 10;
        bool neg = false;
        long v = 0;

        while (i < end && is_space(buf[i]))
                i++;
        while (end > i && (is_space(buf[end - 1]) || buf[end - 1] == '\0'))
                end--;
        if (i < end && (buf[i] == '+' || buf[i] == '-'))
                neg = buf[i++] == '-';
        if (end - i > 1 && buf[i] == '0') {
                bool hex = buf[i + 1] == 'x' || buf[i + 1] == 'X';

                base = hex ? 16 : 8;
                i += hex ? 2 : 1;
        }
        if (i >= end)
                return -EINVAL;         /* empty, a sign or "0x" alone */
        for (; i < end; i++) {
                char c = buf[i];
                unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                           : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                           : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                           : 99;
                if (d >= base)
                        return -EINVAL;
                v = v * (long)base + (long)d;
                if (v > 0x7fffffffL)
                        return -ERANGE;
        }
        *out = neg ? -v : v;
        return 0;
}

long proc_pid_oom_score_adj_set(struct proc *p, const char *buf, size_t len)
{
        struct proc *g = group_of(p);
        bool privileged = cred_capable(&current->cred, CAP_SYS_RESOURCE);
        long v;
        long r = parse_int(buf, len, &v);

        if (r)
                return r == -ERANGE ? -EINVAL : r;
        if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX)
                return -EINVAL;
        /* Lower than the floor a privileged writer left: CAP_SYS_RESOURCE
         * (Linux's __set_oom_adj). */
        if (v < g->usage.oom_score_adj_min && !privileged)
                return -EACCES;
        g->usage.oom_score_adj = (int16_t)v;
        if (privileged)
                g->usage.oom_score_adj_min = (int16_t)v;
        return 0;
}
