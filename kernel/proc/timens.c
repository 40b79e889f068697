/*
 * timens.c - time namespaces (proc/timens.h): their offsets, who is in
 * which, and /proc/PID/timens_offsets.
 *
 * Owns struct time_ns and the proc fields time_ns, time_ns_children; the
 * [vvar] object of a namespace is made and kept current by proc/vdso.c.
 * Invariants: a namespace with a member that reads its clocks in it is
 * frozen (its offsets are final and it has its [vvar] object); a
 * namespace lives while a proc names it in either slot.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <fs/procfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <proc/vdso.h>
#include <vm/kmalloc.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#define NSEC            1000000000LL
#define KTIME_SEC_MAX   9223372036LL    /* Linux's: KTIME_MAX / NSEC */

static uint32_t next_inum = 4026532000u;

static int64_t ts_ns(const struct linux_timespec *ts)
{
        return ts->sec * NSEC + ts->nsec;
}

int64_t timens_offset_ns(const struct time_ns *ns, clockid_t id)
{
        if (!ns)
                return 0;
        switch (id) {
        case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
        case CLOCK_MONOTONIC_COARSE:
                return ts_ns(&ns->mono);
        case CLOCK_BOOTTIME:
                return ts_ns(&ns->boot);
        default:
                return 0;
        }
}

uint64_t timens_from_host(clockid_t id, uint64_t ns)
{
        return ns + (uint64_t)timens_offset_ns(current ? current->time_ns : NULL, id);
}

uint64_t timens_to_host(clockid_t id, uint64_t ns)
{
        return ns - (uint64_t)timens_offset_ns(current ? current->time_ns : NULL, id);
}

uint32_t timens_inum(const struct time_ns *ns)
{
        return ns ? ns->inum : TIMENS_INIT_INUM;
}

struct time_ns *timens_get(struct time_ns *ns)
{
        if (ns)
                ns->refcount++;
        return ns;
}

void timens_put(struct time_ns *ns)
{
        if (!ns || --ns->refcount)
                return;
        if (ns->vvar)
                vdso_ns_destroy(ns->vvar);
        kfree(ns);
}

/* A new namespace with the offsets of `from` (NULL: zero), not frozen. */
static struct time_ns *ns_clone(const struct time_ns *from)
{
        struct time_ns *ns = kzalloc(sizeof *ns);

        if (!ns)
                return NULL;
        ns->refcount = 1;
        ns->inum = next_inum++;
        if (from) {
                ns->mono = from->mono;
                ns->boot = from->boot;
        }
        return ns;
}

/* A process is about to read its clocks in ns: its offsets become final
 * and it gets its [vvar]. => 0 or -ENOMEM (nothing changed). */
static long ns_freeze(struct time_ns *ns)
{
        if (!ns || ns->frozen)
                return 0;
        if (vdso_ns_create(ts_ns(&ns->mono), ts_ns(&ns->boot), &ns->vvar) != VM_OK)
                return -ENOMEM;
        ns->frozen = true;
        return 0;
}

long timens_unshare(void)
{
        struct time_ns *ns = ns_clone(current->time_ns_children);

        if (!ns)
                return -ENOMEM;
        timens_put(current->time_ns_children);
        current->time_ns_children = ns;
        return 0;
}

long timens_fork_begin(bool newtime, bool same_vm, struct timens_fork *tf)
{
        struct time_ns *kids = current->time_ns_children;

        tf->children = newtime ? ns_clone(kids) : timens_get(kids);
        if (newtime && !tf->children)
                return -ENOMEM;
        /* Sharing the parent's memory, the child shares its [vvar] and so
         * its namespace (Linux: no timens_on_fork with CLONE_VM). */
        tf->ns = timens_get(same_vm ? current->time_ns : tf->children);
        tf->enter = tf->ns != current->time_ns;
        if (tf->enter && ns_freeze(tf->ns)) {
                timens_fork_abort(tf);
                return -ENOMEM;
        }
        return 0;
}

long timens_fork_vvar(const struct timens_fork *tf, struct vm_space *child)
{
        if (!tf->enter)
                return 0;
        return vdso_vvar_switch(child, tf->ns ? tf->ns->vvar : NULL) == VM_OK
               ? 0 : -ENOMEM;
}

void timens_fork_end(struct proc *child, struct timens_fork *tf)
{
        child->time_ns = tf->ns;
        child->time_ns_children = tf->children;
        tf->ns = tf->children = NULL;
}

void timens_fork_abort(struct timens_fork *tf)
{
        timens_put(tf->ns);
        timens_put(tf->children);
        tf->ns = tf->children = NULL;
}

long timens_exec_vvar(struct vm_object **vvar)
{
        struct time_ns *ns = current ? current->time_ns_children : NULL;
        long err = ns_freeze(ns);

        *vvar = ns ? ns->vvar : NULL;
        return err;
}

void timens_exec_commit(void)
{
        if (current->time_ns == current->time_ns_children)
                return;
        timens_put(current->time_ns);
        current->time_ns = timens_get(current->time_ns_children);
}

long timens_setns(struct time_ns *ns)
{
        long err;

        if (proc_group_others(current))
                return -EUSERS;
        if (!cred_capable(&current->cred, CAP_SYS_ADMIN))
                return -EPERM;
        if (ns == current->time_ns && ns == current->time_ns_children)
                return 0;
        if ((err = ns_freeze(ns)))
                return err;
        if (current->space && vdso_vvar_switch(current->space,
                                               ns ? ns->vvar : NULL) != VM_OK)
                return -ENOMEM;
        timens_get(ns);
        timens_put(current->time_ns);
        current->time_ns = ns;
        timens_get(ns);
        timens_put(current->time_ns_children);
        current->time_ns_children = ns;
        return 0;
}

void timens_proc_free(struct proc *p)
{
        timens_put(p->time_ns);
        timens_put(p->time_ns_children);
        p->time_ns = p->time_ns_children = NULL;
}

/* ---- /proc/PID/timens_offsets ------------------------------------------ */

/* Linux shows the namespace the process's children get. */
void timens_offsets_show(struct text *t, struct proc *p)
{
        const struct time_ns *ns = p->time_ns_children;
        struct linux_timespec zero = { 0, 0 };
        const struct linux_timespec *m = ns ? &ns->mono : &zero;
        const struct linux_timespec *b = ns ? &ns->boot : &zero;

        text_add(t, "%-10s %10" PRId64 " %9" PRId64 "\n", "monotonic",
                 m->sec, m->nsec);
        text_add(t, "%-10s %10" PRId64 " %9" PRId64 "\n", "boottime",
                 b->sec, b->nsec);
}

struct offset_line {
        clockid_t id;
        struct linux_timespec val;
};

/* A decimal number, optionally signed, then blanks; false if none. */
static bool parse_ll(const char **sp, bool sign, long long *out)
{
        const char *s = *sp;
        bool neg = false, digits = false;
        unsigned long long v = 0;

        while (*s == ' ' || *s == '\t')
                s++;
        if (sign && (*s == '-' || *s == '+'))
                neg = *s++ == '-';
        for (; *s >= '0' && *s <= '9'; s++, digits = true) {
                if (v > (~0ULL >> 1) / 10)
                        return false;           /* Linux's sscanf: ERANGE */
                v = v * 10 + (unsigned long long)(*s - '0');
        }
        if (!digits)
                return false;
        *out = neg ? -(long long)v : (long long)v;
        *sp = s;
        return true;
}

/* One line: "<clock> <sec> <nsec>", clock a name or its number (Linux's
 * "%9s %lld %lu" and its rules). => 0 or -EINVAL. */
static long parse_line(const char *s, struct offset_line *o)
{
        char name[10];
        size_t n = 0;
        long long sec, nsec;

        while (*s == ' ' || *s == '\t')
                s++;
        while (*s && *s != ' ' && *s != '\t' && n < sizeof name - 1)
                name[n++] = *s++;
        name[n] = '\0';
        if (n == 0 || !parse_ll(&s, true, &sec) || !parse_ll(&s, false, &nsec) ||
            nsec >= NSEC)
                return -EINVAL;
        if (strcmp(name, "monotonic") == 0 || strcmp(name, "1") == 0)
                o->id = CLOCK_MONOTONIC;
        else if (strcmp(name, "boottime") == 0 || strcmp(name, "7") == 0)
                o->id = CLOCK_BOOTTIME;
        else
                return -EINVAL;
        o->val = (struct linux_timespec){ sec, nsec };
        return 0;
}

/* Each offset keeps the clock it moves in [0, KTIME_SEC_MAX / 2] s now. */
static long check_range(const struct offset_line *o)
{
        uint64_t now = clock_monotonic_ns();
        long long sec = (long long)(now / NSEC) + o->val.sec;
        long long nsec = (long long)(now % NSEC) + o->val.nsec;

        if (o->val.sec > KTIME_SEC_MAX || o->val.sec < -KTIME_SEC_MAX)
                return -ERANGE;
        if (nsec >= NSEC)
                sec++;
        return sec < 0 || sec > KTIME_SEC_MAX / 2 ? -ERANGE : 0;
}

long timens_offsets_write(struct proc *p, const char *buf, size_t len)
{
        struct offset_line lines[2];
        int n = 0;
        char *copy, *s, *nl;
        long err = 0;

        if (len >= PAGE_SIZE)
                return -EINVAL;
        if (!(copy = kmalloc(len + 1)))
                return -ENOMEM;
        memcpy(copy, buf, len);
        copy[len] = '\0';
        for (s = copy; s && n < 2 && !err; s = nl) {
                if ((nl = strchr(s, '\n'))) {
                        *nl++ = '\0';
                        if (!*nl)
                                nl = NULL;
                }
                err = parse_line(s, &lines[n++]);
        }
        kfree(copy);
        if (err)
                return err;
        struct time_ns *ns = p->time_ns_children;
        if (!cred_capable(&current->cred, CAP_SYS_TIME))
                return -EPERM;
        for (int i = 0; i < n; i++)
                if ((err = check_range(&lines[i])))
                        return err;
        if (!ns || ns->frozen)
                return -EACCES;         /* entered already: frozen */
        for (int i = 0; i < n; i++)
                *(lines[i].id == CLOCK_MONOTONIC ? &ns->mono : &ns->boot) =
                        lines[i].val;
        return 0;
}
