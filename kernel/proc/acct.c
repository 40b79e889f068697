/*
 * acct.c - accounting: CPU time, page faults, resident-set high-water
 * marks, children's totals, load averages; and struct rusage.
 *
 * CPU time: sched.c adds the exact time between switch-in and switch-out
 * to run_ns; every timer tick adds up to one tick to utick_ns or stick_ns
 * of the process it interrupted (acct_tick). User and system time are run_ns split in the
 * ticks' proportion (Linux's cputime_adjust), so they add up to the exact
 * total even for processes that ran less than a tick.
 *
 * Faults: every page fault resolved for the current process (from user
 * mode, or from a kernel copy to or from user memory) is a minor fault,
 * or a major one when it read its page from swap (the fault handler says
 * so in space->last_fault.major), as Linux counts them: each fault once,
 * in ru_majflt or ru_minflt. Files are in memory (the initramfs, tmpfs),
 * so only swap makes major faults.
 *
 * Resident set: counted by walking the process's areas through the pmap
 * (a page is resident if mapped), at getrusage, execve and exit; the
 * largest count seen is ru_maxrss.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/acct.h>
#include <vm/pmap.h>
#include <vm/vm_space.h>

#define TICK_NS (1000000000ULL / HZ)

unsigned long acct_loadavg[3];

uint64_t proc_runtime_ns(const struct proc *p)
{
        uint64_t ns = p->usage.run_ns;

        if (p->state == PROC_RUNNING)
                ns += clock_monotonic_ns() - p->usage.on_cpu_since;
        return ns;
}

/* rtime * part / total (part <= total) without overflow: total and part
 * are first brought below 2^32, then r * part fits in 64 bits. */
static uint64_t scale(uint64_t rtime, uint64_t part, uint64_t total)
{
        while (total >> 32) {
                total >>= 1;
                part >>= 1;
        }
        if (total == 0)
                return rtime;
        return rtime / total * part + rtime % total * part / total;
}

void proc_cputime(const struct proc *p, uint64_t *utime_ns, uint64_t *stime_ns)
{
        uint64_t rtime = proc_runtime_ns(p);
        uint64_t u = p->usage.utick_ns, s = p->usage.stick_ns;

        if (s == 0) {                   /* Linux: all user time then */
                *utime_ns = rtime;
                *stime_ns = 0;
                return;
        }
        *utime_ns = scale(rtime, u, u + s);
        *stime_ns = rtime - *utime_ns;
}

void proc_group_cputime(const struct proc *p, uint64_t *utime_ns,
                        uint64_t *stime_ns)
{
        const struct proc *g = group_of(p);

        *utime_ns = g->usage.exited_utime_ns;
        *stime_ns = g->usage.exited_stime_ns;
        for (int i = 0; i < proc_slots; i++) {
                const struct proc *t = proc_table[i];
                uint64_t u, s;
                if (t->state == PROC_FREE || t->pid != p->pid)
                        continue;
                proc_cputime(t, &u, &s);
                *utime_ns += u;
                *stime_ns += s;
        }
}

uint64_t proc_group_runtime_ns(const struct proc *p)
{
        uint64_t ns = group_of(p)->usage.exited_run_ns;

        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE &&
                    proc_table[i]->pid == p->pid)
                        ns += proc_runtime_ns(proc_table[i]);
        return ns;
}

void acct_thread_exit(struct proc *p)
{
        struct proc_usage *gu = &group_of(p)->usage;
        uint64_t u, s;

        proc_cputime(p, &u, &s);
        gu->exited_utime_ns += u;
        gu->exited_stime_ns += s;
        gu->exited_run_ns += proc_runtime_ns(p);
        gu->exited_minflt += p->usage.minflt;
        gu->exited_majflt += p->usage.majflt;
        gu->maxrss_kb = MAX(gu->maxrss_kb, p->usage.maxrss_kb);
}

/* Linux's load average: an exponentially decaying count of runnable
 * processes, sampled every 5 s, fixed point with 11 fraction bits. */
#define FSHIFT          11
#define FIXED_1         (1UL << FSHIFT)
static const unsigned long load_exp[3] = { 1884, 2014, 2037 };

/*
 * The boot CPU's tick runs this, and with more than one CPU that tick
 * may land in its idle loop, which holds no big kernel lock, while
 * another CPU ends a process: proc_free() then shrinks the table from
 * its end (proc_slots down, the slot's struct freed, its pointer NULL).
 * So each slot is read once, a NULL one skipped (it had just gone); a
 * state read from a struct freed meanwhile is only a miscounted sample
 * (kmalloc's memory stays mapped). Before this, such a tick could
 * follow the NULL: a suspected cause of a rare -smp 4 panic on riscv64.
 */
static void loadavg_update(void)
{
        unsigned long active = 0;
        int slots = __atomic_load_n(&proc_slots, __ATOMIC_RELAXED);

        for (int i = 0; i < slots; i++) {
                const struct proc *p = __atomic_load_n(&proc_table[i],
                                                       __ATOMIC_RELAXED);
                if (p && (p->state == PROC_RUNNABLE ||
                          p->state == PROC_RUNNING))
                        active++;
        }
        active *= FIXED_1;
        for (int i = 0; i < 3; i++) {
                unsigned long l = acct_loadavg[i] * load_exp[i] +
                                  active * (FIXED_1 - load_exp[i]);
                if (active >= acct_loadavg[i])
                        l += FIXED_1 - 1;       /* round up while rising */
                acct_loadavg[i] = l / FIXED_1;
        }
}

/*
 * A tick charges the process it interrupted with the time since the
 * previous tick, but no more than a tick and no more than the process has
 * been on the CPU: QEMU may deliver late timer interrupts in a burst, and
 * counting each as a full tick would make CPU-time timers fire early.
 */
void acct_tick(bool from_user)
{
        static unsigned ticks;
        static uint64_t last_tick;
        uint64_t now = clock_monotonic_ns(), charge = MIN(now - last_tick, TICK_NS);

        last_tick = now;
        if (current) {
                charge = MIN(charge, now - current->usage.on_cpu_since);
                if (from_user)
                        current->usage.utick_ns += charge;
                else
                        current->usage.stick_ns += charge;
        }
        if (++ticks == 5 * HZ) {
                ticks = 0;
                loadavg_update();
        }
}

/* A tick of another CPU: charge its thread up to one tick since it
 * started running there (system-wide counters stay the boot CPU's). */
void acct_tick_other_cpu(bool from_user)
{
        struct proc *p = current;

        if (!p)
                return;
        uint64_t charge = MIN(clock_monotonic_ns() - p->usage.on_cpu_since,
                              TICK_NS);
        if (from_user)
                p->usage.utick_ns += charge;
        else
                p->usage.stick_ns += charge;
}

void acct_fault(void)
{
        if (!current)
                return;
        if (current->space && current->space->last_fault.major)
                current->usage.majflt++;
        else
                current->usage.minflt++;
}

/* Count the mapped pages of one area (PROT_NONE areas hold none that
 * the process can use, and may be huge reservations: skipped). One walk
 * over the area's tables: a thread's exit samples this, and glibc's
 * thread stacks are 8 MiB areas with a few pages in them. */
static bool count_area(void *arg, const struct vm_area_info *a)
{
        void **ctx = arg;
        struct pmap *pm = ctx[0];
        uint64_t *n = ctx[1];

        if (a->prot == VM_PROT_NONE)
                return true;
        *n += pmap_mapped_pages(pm, a->start, a->end);
        return true;
}

uint64_t acct_sample_rss(struct proc *p)
{
        uint64_t pages = 0;
        void *ctx[2] = { NULL, &pages };

        if (p->space) {
                ctx[0] = vm_space_pmap(p->space);
                vm_space_for_each_area(p->space, count_area, ctx);
        }
        uint64_t kb = pages * (PAGE_SIZE / 1024);
        p->usage.maxrss_kb = MAX(p->usage.maxrss_kb, kb);
        return kb;
}

void acct_reap(struct proc *parent, const struct proc *child)
{
        struct proc_usage *pu = &parent->usage;
        const struct proc_usage *cu = &child->usage;
        uint64_t ut, st;

        proc_group_cputime(child, &ut, &st);
        pu->c_utime_ns += ut + cu->c_utime_ns;
        pu->c_stime_ns += st + cu->c_stime_ns;
        pu->c_minflt += cu->minflt + cu->exited_minflt + cu->c_minflt;
        pu->c_majflt += cu->majflt + cu->exited_majflt + cu->c_majflt;
        pu->c_maxrss_kb = MAX(pu->c_maxrss_kb, MAX(cu->maxrss_kb, cu->c_maxrss_kb));
}

void acct_rusage(struct proc *p, int who, struct linux_rusage *out)
{
        struct linux_rusage ru;
        uint64_t ut = 0, st = 0;
        const struct proc_usage *u = &p->usage;

        memset(&ru, 0, sizeof ru);
        if (who == ACCT_THREAD) {
                proc_cputime(p, &ut, &st);
                acct_sample_rss(p);
                ru.maxrss = (int64_t)u->maxrss_kb;
                ru.minflt = (int64_t)u->minflt;
                ru.majflt = (int64_t)u->majflt;
        } else if (who != ACCT_CHILDREN) {
                /* the process: every thread, live or gone */
                const struct proc *g = group_of(p);
                proc_group_cputime(p, &ut, &st);
                acct_sample_rss(p);
                ru.maxrss = (int64_t)MAX(u->maxrss_kb, g->usage.maxrss_kb);
                ru.minflt = (int64_t)g->usage.exited_minflt;
                ru.majflt = (int64_t)g->usage.exited_majflt;
                for (int i = 0; i < proc_slots; i++) {
                        const struct proc *t = proc_table[i];
                        if (t->state == PROC_FREE || t->pid != p->pid)
                                continue;
                        ru.minflt += (int64_t)t->usage.minflt;
                        ru.majflt += (int64_t)t->usage.majflt;
                }
                u = &g->usage;          /* children's usage: the process's */
        }
        if (who == ACCT_CHILDREN)
                u = &group_of(p)->usage;
        if (who != ACCT_SELF && who != ACCT_THREAD) {
                ut += u->c_utime_ns;
                st += u->c_stime_ns;
                ru.maxrss = MAX(ru.maxrss, (int64_t)u->c_maxrss_kb);
                ru.minflt += (int64_t)u->c_minflt;
                ru.majflt += (int64_t)u->c_majflt;
        }
        ru.utime_sec = (int64_t)(ut / 1000000000);
        ru.utime_usec = (int64_t)(ut % 1000000000 / 1000);
        ru.stime_sec = (int64_t)(st / 1000000000);
        ru.stime_usec = (int64_t)(st % 1000000000 / 1000);
        *out = ru;
}

long acct_rusage_to_user(struct proc *p, int who, uint64_t uaddr)
{
        struct linux_rusage ru;

        acct_rusage(p, who, &ru);
        return copy_to_user(uaddr, &ru, sizeof ru) ? -EFAULT : 0;
}
