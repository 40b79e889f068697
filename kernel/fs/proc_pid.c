/*
 * proc_pid.c - the per-process files of /proc in Linux's formats: maps,
 * smaps, smaps_rollup, status, stat, statm, cmdline, environ (text), and
 * mem and pagemap (binary, at an offset) (CONCEPTS A5).
 *
 * Resident-set rules (what Rss counts), from the VM's model in which the
 * objects are the truth and a pmap only caches translations:
 *   - a private area's own page counts wherever it is, even where this
 *     space's pmap has no translation yet (a fork child: Linux copies the
 *     parent's anonymous PTEs at fork, Mercator lets them fault back);
 *   - a file's page or a shared object's page counts where the pmap maps
 *     it (Linux: a present PTE);
 *   - the zero page never counts (Linux's vm_normal_page() skips it).
 * A page's map count - shared (>= 2) or private, and its Pss share - is,
 * for a private page, the number of objects holding it (one per space);
 * for a file or shared page, the number of translations of it in every
 * live space.
 */
#include <mercator/errno.h>
#include <mercator/clock.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/procfs.h>
#include <ipc/shm.h>
#include <proc/acct.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <proc/rlimit.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vm_swap.h>


#define PSS_SHIFT       12
#define KB(pages)       ((pages) << (PAGE_SHIFT - 10))

size_t proc_pid_text_size(struct proc *p, size_t per_area)
{
        return page_round((p->space->areas.count + 2) * per_area);
}

/* ---- page accounting --------------------------------------------------- */

/* Translations of the frame pa (index of obj) in every live space. */
static unsigned mapcount_everywhere(const struct vm_object *obj,
                                    uint64_t index, paddr_t pa)
{
        unsigned n = 0;

        for (int i = 0; i < proc_slots; i++) {
                struct proc *q = proc_table[i];
                if (q->state == PROC_FREE || q->state == PROC_ZOMBIE ||
                    !q->space)
                        continue;
                vm_space_enter(q->space);       /* its areas hold still */
                for (const struct vm_area *a = q->space->areas.first; a;
                     a = a->next) {
                        const struct vm_object *o =
                                (a->flags & VM_AREA_SHARED) ? a->object
                                                            : a->backing;
                        uint64_t first = (a->flags & VM_AREA_SHARED)
                                                 ? a->pgoff : a->backing_pgoff;
                        paddr_t got;
                        if (o != obj || index < first ||
                            index - first >= vm_area_npages(a))
                                continue;
                        vaddr_t va = a->start + ((index - first) << PAGE_SHIFT);
                        if (pmap_extract(q->space->pmap, va, &got, NULL, NULL) &&
                            page_trunc(got) == pa)
                                n++;
                }
                vm_space_leave(q->space);
        }
        return n ? n : 1;
}

/* What smaps sums for an area (or all of them: smaps_rollup). */
struct mss {
        uint64_t resident, pss, pss_dirty, pss_anon, pss_file, pss_shmem;
        uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
        uint64_t referenced, anonymous, lazyfree;
        uint64_t pss_locked;                            /* Locked */
        uint64_t rss_anon, rss_file, rss_shmem;         /* for status */
        uint64_t anon_huge;             /* bytes under huge translations */
        uint64_t shmem_pmd;             /* bytes under shared memory's huge
                                         * translations (ShmemPmdMapped) */
        uint64_t swap, swap_pss;        /* bytes in swap (pss << PSS_SHIFT) */
        uint64_t shared_hugetlb, private_hugetlb; /* bytes of pool pages */
};

/*
 * An area of explicit huge pages (vm/hugetlb.h), as Linux's
 * smaps_hugetlb_range: each huge page this space maps counts whole in
 * Shared_Hugetlb (mapped by another space too) or Private_Hugetlb, and
 * in nothing else (not Rss).
 */
static void account_hugetlb(struct vm_space *s, const struct vm_area *a,
                            struct mss *m)
{
        uint64_t huge = pmap_huge_size();
        paddr_t pa;

        for (vaddr_t va = a->start; va < a->end; va += huge) {
                uint64_t idx = a->pgoff + ((va - a->start) >> PAGE_SHIFT);

                if (!vm_object_lookup(a->object, idx) ||
                    !pmap_extract(s->pmap, va, &pa, NULL, NULL))
                        continue;
                if (mapcount_everywhere(a->object, idx, pa) > 1)
                        m->shared_hugetlb += huge;
                else
                        m->private_hugetlb += huge;
        }
}

/* A swapped page: Swap, and SwapPss shared among the slot's holders
 * (its users less the swap cache's, as Linux's swap count). */
static void account_swapped(const struct vm_page_info *pi, struct mss *m)
{
        unsigned users = swap_entry_count(pi->swap) -
                         (vm_swap_entry_cached(pi->swap) ? 1 : 0);

        m->swap += PAGE_SIZE;
        m->swap_pss += ((uint64_t)PAGE_SIZE << PSS_SHIFT) / (users ? users : 1);
}

static bool count_shared_entry(void *arg, uint64_t index, swp_entry_t e)
{
        *(uint64_t *)arg += PAGE_SIZE;
        return true;
}

static void account_area(struct vm_space *s, const struct vm_area *a,
                         struct mss *m)
{
        struct vm_page_info pi;

        if (a->object && a->object->hugetlb) {
                account_hugetlb(s, a, m);
                return;
        }
        if (!(a->flags & VM_AREA_SHARED))
                m->anon_huge += vm_space_huge_pages(s, a->start, a->end) *
                                pmap_huge_size();
        else
                m->shmem_pmd += vm_area_shmem_pmd_mapped(s, a) *
                                pmap_huge_size();
        if ((a->flags & VM_AREA_SHARED) && a->object)
                /* Shared memory's pages on swap under the area (Linux's
                 * shmem_swap_usage: Swap, not SwapPss; no translation
                 * names them). */
                vm_object_for_each_entry(a->object, a->pgoff,
                                         a->pgoff + vm_area_npages(a),
                                         count_shared_entry, &m->swap);
        for (vaddr_t va = a->start; va < a->end; va += PAGE_SIZE) {
                vm_space_page_info(s, a, va, &pi);
                if (pi.kind == VM_PAGE_SWAPPED)
                        account_swapped(&pi, m);
                if (pi.kind == VM_PAGE_NONE || pi.kind == VM_PAGE_ZERO ||
                    pi.kind == VM_PAGE_SWAPPED)
                        continue;
                unsigned count = pi.kind == VM_PAGE_ANON
                                         ? pi.page->refcount
                                         : mapcount_everywhere(pi.object,
                                                               pi.index, pi.pa);
                bool lazy = pi.kind == VM_PAGE_ANON &&
                            (pi.page->flags & PG_LAZYFREE);
                /* A lazy page is clean until written (Linux: LazyFree) */
                bool dirty = (pi.kind == VM_PAGE_ANON && !lazy) ||
                             (pi.ad & PMAP_AD_DIRTY);
                uint64_t share = ((uint64_t)PAGE_SIZE << PSS_SHIFT) / count;

                m->resident += PAGE_SIZE;
                m->pss += share;
                if (a->flags & VM_AREA_LOCKED)
                        m->pss_locked += share;
                if (dirty)
                        m->pss_dirty += share;
                if (pi.kind == VM_PAGE_ANON) {
                        m->pss_anon += share;
                        m->anonymous += PAGE_SIZE;
                        m->lazyfree += lazy ? PAGE_SIZE : 0;
                        m->rss_anon++;
                } else if (pi.kind == VM_PAGE_SHMEM) {
                        m->pss_shmem += share;
                        m->rss_shmem++;
                } else {
                        m->pss_file += share;
                        m->rss_file++;
                }
                if (pi.ad & PMAP_AD_ACCESSED)
                        m->referenced += PAGE_SIZE;
                if (count >= 2) {
                        if (dirty)
                                m->shared_dirty += PAGE_SIZE;
                        else
                                m->shared_clean += PAGE_SIZE;
                } else if (dirty) {
                        m->private_dirty += PAGE_SIZE;
                } else {
                        m->private_clean += PAGE_SIZE;
                }
        }
}

/* The sizes status and statm report, in pages. */
struct vm_sizes {
        uint64_t total, data, stack, exec, text;
        struct mss mss;
};

static void space_sizes(struct vm_space *s, struct vm_sizes *z)
{
        memset(z, 0, sizeof *z);
        for (const struct vm_area *a = s->areas.first; a; a = a->next) {
                uint64_t n = vm_area_npages(a);
                bool shared = a->flags & VM_AREA_SHARED;

                z->total += n;
                if (a->flags & VM_AREA_GROWSDOWN)
                        z->stack += n;          /* Linux's stack_vm */
                else if ((a->prot & VM_PROT_WRITE) && !shared)
                        z->data += n;           /* data_vm */
                else if ((a->prot & VM_PROT_EXEC) && !(a->prot & VM_PROT_WRITE))
                        z->exec += n;           /* exec_vm */
                if ((a->prot & VM_PROT_EXEC) && a->backing &&
                    a->backing->type == VM_OBJECT_FILE)
                        z->text += n;           /* the program's text */
                account_area(s, a, &z->mss);
        }
        uint64_t rss = z->mss.rss_anon + z->mss.rss_file + z->mss.rss_shmem;
        s->hiwater_rss = MAX(s->hiwater_rss, rss);
        s->hiwater_vm = MAX(s->hiwater_vm, z->total);
}

void proc_space_footprint(struct vm_space *s, struct proc_footprint *f)
{
        struct vm_sizes z;

        space_sizes(s, &z);
        f->total_vm = z.total;
        f->rss_anon = z.mss.rss_anon;
        f->rss_file = z.mss.rss_file;
        f->rss_shmem = z.mss.rss_shmem;
        f->swap = z.mss.swap >> PAGE_SHIFT;
        f->pgtables = pmap_table_pages(s->pmap);
}

/* ---- maps and smaps ---------------------------------------------------- */

/* The maps line of area a (Linux's show_map_vma): "start-end perms offset
 * dev inode", then the name from column 74. */
static void maps_line(struct text *t, const struct vm_area_info *a)
{
        bool special = a->flags & VM_AREA_SPECIAL;
        const char *name = a->is_file || (a->shared && a->name) || special ? a->name
                         : a->shared ? "/dev/zero (deleted)"
                         : a->is_heap ? "[heap]" : a->is_stack ? "[stack]" : NULL;
        size_t start = t->len;
        int shmid;
        /* A SysV segment's inode number is its id, as Linux's shm files;
         * the kernel's own pages ([vdso], [vvar]) have none, as Linux's. */
        uint64_t ino = special ? 0UL
                     : shm_object_id(a->object, &shmid) ? (uint64_t)shmid
                     : a->object ? a->object_id : 0UL;

        text_add(t, "%08" PRIxPTR "-%08" PRIxPTR " %c%c%c%c %08" PRIx64 " %s %" PRIu64 " ", a->start, a->end,
                 a->prot & VM_PROT_READ ? 'r' : '-',
                 a->prot & VM_PROT_WRITE ? 'w' : '-',
                 a->prot & VM_PROT_EXEC ? 'x' : '-',
                 a->shared && !special ? 's' : 'p', special ? 0UL : a->offset,
                 special ? "00:00" : a->is_file ? "00:02"
                 : a->shared ? "00:01" : "00:00", ino);
        if (name) {
                while (t->len - start < 72 && t->len + 1 < t->size)
                        t->buf[t->len++] = ' ';
                text_add(t, " %s", name);
        }
        text_add(t, "\n");
}

static bool maps_one(void *arg, const struct vm_area_info *a)
{
        maps_line(arg, a);
        return true;
}

void proc_pid_maps(struct text *t, struct proc *p)
{
        vm_space_for_each_area(p->space, maps_one, t);
}

/* One "Name:   N kB" line of smaps (the label padded to 16 columns). */
static void smaps_kb(struct text *t, const char *name, uint64_t bytes)
{
        char label[24];

        ksnprintf(label, sizeof label, "%s:", name);
        text_add(t, "%-16s%8" PRIu64 " kB\n", label, bytes >> 10);
}

/* Rss through Locked, shared by smaps and smaps_rollup (which adds the
 * Pss_Anon/File/Shmem split). */
static void smaps_counts(struct text *t, const struct mss *m, bool rollup)
{
        smaps_kb(t, "Rss", m->resident);
        smaps_kb(t, "Pss", m->pss >> PSS_SHIFT);
        smaps_kb(t, "Pss_Dirty", m->pss_dirty >> PSS_SHIFT);
        if (rollup) {
                smaps_kb(t, "Pss_Anon", m->pss_anon >> PSS_SHIFT);
                smaps_kb(t, "Pss_File", m->pss_file >> PSS_SHIFT);
                smaps_kb(t, "Pss_Shmem", m->pss_shmem >> PSS_SHIFT);
        }
        smaps_kb(t, "Shared_Clean", m->shared_clean);
        smaps_kb(t, "Shared_Dirty", m->shared_dirty);
        smaps_kb(t, "Private_Clean", m->private_clean);
        smaps_kb(t, "Private_Dirty", m->private_dirty);
        smaps_kb(t, "Referenced", m->referenced);
        smaps_kb(t, "Anonymous", m->anonymous);
        smaps_kb(t, "LazyFree", m->lazyfree);
        smaps_kb(t, "AnonHugePages", m->anon_huge);
        smaps_kb(t, "ShmemPmdMapped", m->shmem_pmd);
        smaps_kb(t, "FilePmdMapped", 0);
        smaps_kb(t, "Shared_Hugetlb", m->shared_hugetlb);
        smaps_kb(t, "Private_Hugetlb", m->private_hugetlb);
        smaps_kb(t, "Swap", m->swap);
        smaps_kb(t, "SwapPss", m->swap_pss >> PSS_SHIFT);
        smaps_kb(t, "Locked", m->pss_locked >> PSS_SHIFT);
}

/* Linux's VmFlags letters for what Mercator's areas can be. A shared
 * mapping without MAYWRITE (a file opened read-only, a SHM_RDONLY
 * attachment) is not VM_SHARED and not VM_MAYWRITE, as Linux's; "ac"
 * is VM_ACCOUNT: the area's pages are committed (vm_commit.h). In
 * Linux's order (its flag bits'). */
static void vm_flags(struct text *t, const struct vm_area *a)
{
        bool shared = a->flags & VM_AREA_SHARED;
        bool ro_file = shared && !(a->flags & VM_AREA_MAYWRITE);

        text_add(t, "VmFlags:");
        if (a->prot & VM_PROT_READ)
                text_add(t, " rd");
        if (a->prot & VM_PROT_WRITE)
                text_add(t, " wr");
        if (a->prot & VM_PROT_EXEC)
                text_add(t, " ex");
        if (shared && !ro_file)
                text_add(t, " sh");
        text_add(t, " mr");
        if (!ro_file)
                text_add(t, " mw");
        text_add(t, " me");
        if (shared)
                text_add(t, " ms");
        if (a->flags & VM_AREA_GROWSDOWN)
                text_add(t, " gd");
        if (a->flags & VM_AREA_LOCKED)
                text_add(t, " lo");
        if (a->flags & VM_AREA_SEQUENTIAL)
                text_add(t, " sr");
        if (a->flags & VM_AREA_RANDOM)
                text_add(t, " rr");
        if (a->flags & VM_AREA_DONTFORK)
                text_add(t, " dc");
        if (a->flags & VM_AREA_ACCOUNT)
                text_add(t, " ac");
        if (a->flags & VM_AREA_NORESERVE)
                text_add(t, " nr");
        if (a->object && a->object->hugetlb)
                text_add(t, " ht");
        if (a->flags & VM_AREA_WIPEONFORK)
                text_add(t, " wf");
        if (a->flags & VM_AREA_DONTDUMP)
                text_add(t, " dd");
        if (a->flags & VM_AREA_HUGEPAGE)
                text_add(t, " hg");
        if (a->flags & VM_AREA_NOHUGEPAGE)
                text_add(t, " nh");
        if (a->flags & VM_AREA_SEALED)
                text_add(t, " sl");
        text_add(t, " \n");
}

struct smaps_walk {
        struct text     *t;
        struct vm_space *s;
};

static bool smaps_one(void *arg, const struct vm_area_info *info)
{
        struct smaps_walk *w = arg;
        const struct vm_area *a = vm_space_lookup(w->s, info->start);
        struct mss m = { 0 };

        maps_line(w->t, info);
        account_area(w->s, a, &m);
        smaps_kb(w->t, "Size", info->end - info->start);
        uint64_t psize = a->object && a->object->hugetlb ? pmap_huge_size()
                                                          : PAGE_SIZE;
        smaps_kb(w->t, "KernelPageSize", psize);
        smaps_kb(w->t, "MMUPageSize", psize);
        smaps_counts(w->t, &m, false);
        text_add(w->t, "THPeligible:    %d\n",
                 (a->flags & VM_AREA_SHARED)
                         ? vm_area_shmem_thp_eligible(w->s, a)
                         : vm_area_thp_eligible(w->s, a) &&
                           a->end - a->start >= pmap_huge_size());
        vm_flags(w->t, a);
        return true;
}

void proc_pid_smaps(struct text *t, struct proc *p)
{
        struct smaps_walk w = { .t = t, .s = p->space };

        vm_space_for_each_area(p->space, smaps_one, &w);
}

void proc_pid_smaps_rollup(struct text *t, struct proc *p)
{
        struct vm_space *s = p->space;
        struct mss m = { 0 };
        size_t start = t->len;

        if (!s->areas.first)
                return;
        for (const struct vm_area *a = s->areas.first; a; a = a->next)
                account_area(s, a, &m);
        text_add(t, "%08" PRIxPTR "-%08" PRIxPTR " ---p 00000000 00:00 0", s->areas.first->start,
                 s->areas.last->end);
        while (t->len - start < 72 && t->len + 1 < t->size)
                t->buf[t->len++] = ' ';
        text_add(t, " [rollup]\n");
        smaps_counts(t, &m, true);
}

/* ---- status, stat, statm ---------------------------------------------- */

static char state_letter(const struct proc *p)
{
        if (group_of(p)->sig.stopped && p->state != PROC_ZOMBIE)
                return 'T';
        switch (p->state) {
        case PROC_RUNNABLE: case PROC_RUNNING: return 'R';
        case PROC_SLEEPING: return 'S';
        case PROC_ZOMBIE:   return 'Z';
        default:            return 'X';
        }
}

static const char *state_name(const struct proc *p)
{
        switch (state_letter(p)) {
        case 'R': return "R (running)";
        case 'S': return "S (sleeping)";
        case 'Z': return "Z (zombie)";
        case 'T': return "T (stopped)";
        default:  return "X (dead)";
        }
}

static void status_kb(struct text *t, const char *name, uint64_t pages)
{
        text_add(t, "%s:\t%8" PRIu64 " kB\n", name, KB(pages));
}

/* Cpus_allowed as Linux prints a CPU mask (a hex digit per four CPUs
 * the machine has, no more) and Cpus_allowed_list as its ranges
 * ("0-2,5"). */
static void status_cpus(struct text *t, uint64_t allowed)
{
        unsigned n = MIN(machine_cpus_online(), 64u);
        uint64_t mask = allowed & (n >= 64 ? ~0ULL : (1ULL << n) - 1);
        const char *sep = "";

        text_add(t, "Cpus_allowed:\t");
        for (int d = (int)(n + 3) / 4 - 1; d >= 0; d--)
                text_add(t, "%x", (unsigned)(mask >> (4 * d)) & 0xf);
        text_add(t, "\nCpus_allowed_list:\t");
        for (unsigned i = 0; i < n; i++) {
                if (!(mask >> i & 1))
                        continue;
                unsigned j = i;
                while (j + 1 < n && (mask >> (j + 1) & 1))
                        j++;
                text_add(t, j > i ? "%s%u-%u" : "%s%u", sep, i, j);
                sep = ",";
                i = j;
        }
        text_add(t, "\n");
}

void proc_pid_status(struct text *t, struct proc *p)
{
        const struct cred *c = &p->cred;
        struct vm_sizes z;
        const struct proc *g = group_of(p);
        int ppid = g->parent ? g->parent->pid : 0;

        text_add(t, "Name:\t%s\n", p->name);
        text_add(t, "Umask:\t%04o\n", p->umask & 0777);
        text_add(t, "State:\t%s\n", state_name(p));
        text_add(t, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
                 p->pid, p->tid, ppid);
        text_add(t, "Uid:\t%u\t%u\t%u\t%u\n", c->uid, c->euid, c->suid, c->fsuid);
        text_add(t, "Gid:\t%u\t%u\t%u\t%u\n", c->gid, c->egid, c->sgid, c->fsgid);
        text_add(t, "FDSize:\t%d\n", p->fdt ? p->fdt->size : 0);
        text_add(t, "Groups:\t");
        for (uint32_t i = 0; i < c->ngroups; i++)
                text_add(t, i ? " %u" : "%u", c->groups[i]);
        text_add(t, " \n");
        text_add(t, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n",
                 p->pid, p->tid, p->pgid, p->sid);
        if (p->space) {
                space_sizes(p->space, &z);
                uint64_t rss = z.mss.rss_anon + z.mss.rss_file +
                               z.mss.rss_shmem;
                status_kb(t, "VmPeak", p->space->hiwater_vm);
                status_kb(t, "VmSize", z.total);
                status_kb(t, "VmLck", vm_space_locked_pages(p->space));
                status_kb(t, "VmPin", 0);
                status_kb(t, "VmHWM", p->space->hiwater_rss);
                status_kb(t, "VmRSS", rss);
                status_kb(t, "RssAnon", z.mss.rss_anon);
                status_kb(t, "RssFile", z.mss.rss_file);
                status_kb(t, "RssShmem", z.mss.rss_shmem);
                status_kb(t, "VmData", z.data);
                status_kb(t, "VmStk", z.stack);
                status_kb(t, "VmExe", z.text);
                status_kb(t, "VmLib", z.exec > z.text ? z.exec - z.text : 0);
                status_kb(t, "VmPTE", pmap_table_pages(p->space->pmap));
                status_kb(t, "VmSwap", z.mss.swap >> PAGE_SHIFT);
                status_kb(t, "HugetlbPages", (z.mss.shared_hugetlb +
                                              z.mss.private_hugetlb) >> PAGE_SHIFT);
        }
        text_add(t, "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t%d\n",
                 proc_thread_count(p));
        uint64_t ign = 0, cgt = 0;
        for (int sig = 1; sig <= NSIG; sig++) {
                uint64_t h = p->sig.action[sig - 1].handler;
                if (h == SIG_IGN)
                        ign |= sigmask_of(sig);
                else if (h != SIG_DFL)
                        cgt |= sigmask_of(sig);
        }
        const struct sigpend *own = &p->sig.own, *shd = &g->group.shared;
        unsigned queued = (unsigned)__builtin_popcountll(
                                  (own->pending | shd->pending) &
                                  (sigmask_of(SIGRTMIN) - 1)) +
                          (unsigned)(own->nqueued + shd->nqueued);
        text_add(t, "SigQ:\t%u/%" PRIu64 "\n", queued,
                 p->rlim.lim[RLIMIT_SIGPENDING].cur);
        /* SigPnd: sent to this thread (tkill); ShdPnd: to the process */
        text_add(t, "SigPnd:\t%016" PRIx64 "\nShdPnd:\t%016" PRIx64 "\nSigBlk:\t%016" PRIx64 "\n"
                 "SigIgn:\t%016" PRIx64 "\nSigCgt:\t%016" PRIx64 "\n", own->pending,
                 shd->pending, p->sig.blocked, ign, cgt);
        text_add(t, "CapInh:\t%016" PRIx64 "\nCapPrm:\t%016" PRIx64 "\nCapEff:\t%016" PRIx64 "\n"
                 "CapBnd:\t%016" PRIx64 "\nCapAmb:\t%016x\n", c->cap_inheritable,
                 c->cap_permitted, c->cap_effective, (uint64_t)CAP_FULL_SET, 0);
        text_add(t, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
        status_cpus(t, p->usage.cpus_allowed);
        text_add(t, "Mems_allowed:\t");
        for (int i = 0; i < 31; i++)
                text_add(t, "00000000,");
        text_add(t, "00000001\nMems_allowed_list:\t0\n");
        text_add(t, "voluntary_ctxt_switches:\t0\n"
                 "nonvoluntary_ctxt_switches:\t0\n");
}

#define TICKS(ns)       ((uint64_t)((ns) / 10000000UL))  /* USER_HZ = 100 */

/* The program's text and data areas (Linux's start_code... end_data):
 * the first executable file-backed area and the writable one after it. */
static void code_data(struct vm_space *s, vaddr_t cd[4])
{
        memset(cd, 0, 4 * sizeof *cd);
        for (const struct vm_area *a = s->areas.first; a; a = a->next) {
                if (!cd[0] && (a->prot & VM_PROT_EXEC) && a->backing) {
                        cd[0] = a->start;
                        cd[1] = a->end;
                } else if (cd[0] && !cd[2] && (a->prot & VM_PROT_WRITE)) {
                        cd[2] = a->start;
                        cd[3] = a->end;
                }
        }
}

void proc_pid_stat(struct text *t, struct proc *p)
{
        const struct proc_usage *u = &p->usage;
        struct vm_space *s = p->space;
        struct vm_sizes z = { 0 };
        vaddr_t cd[4] = { 0 };
        const struct proc *g = group_of(p);
        int ppid = g->parent ? g->parent->pid : 0;

        if (s) {
                space_sizes(s, &z);
                code_data(s, cd);
        }
        uint64_t rss = z.mss.rss_anon + z.mss.rss_file + z.mss.rss_shmem;
        uint64_t utime, stime;
        proc_cputime(p, &utime, &stime);
        uint64_t ign = 0, cgt = 0;
        for (int sig = 1; sig <= NSIG; sig++) {
                uint64_t h = p->sig.action[sig - 1].handler;
                if (h == SIG_IGN)
                        ign |= sigmask_of(sig);
                else if (h != SIG_DFL)
                        cgt |= sigmask_of(sig);
        }
        /* tty_nr 0 and tpgid -1: no controlling terminal is tracked. */
        text_add(t, "%d (%s) %c %d %d %d %d %d %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " "
                 "%" PRIu64 " %" PRIu64 " %d %d %d %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIuPTR " %" PRIuPTR " %lu %lu %lu "
                 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %lu %lu %lu %d %d %u %u %lu %lu %ld "
                 "%" PRIuPTR " %" PRIuPTR " %lu %lu %lu %lu %lu %d\n",
                 p->tid, p->name, state_letter(p), ppid, p->pgid, p->sid, 0,
                 -1, 0u,
                 u->minflt, u->c_minflt, u->majflt, u->c_majflt,
                 TICKS(utime), TICKS(stime),
                 TICKS(u->c_utime_ns), TICKS(u->c_stime_ns),
                 20 + u->nice, u->nice, proc_thread_count(p), 0,
                 TICKS(timens_from_host(CLOCK_BOOTTIME, u->start_ns)),
                 z.total << PAGE_SHIFT, rss,
                 p->rlim.lim[RLIMIT_RSS].cur, cd[0], cd[1],
                 s ? s->start_stack : 0UL, 0UL, 0UL,
                 /* Linux shows only the 32 classic signals here. */
                 signal_pending_set(p) & 0xffffffffUL,
                 p->sig.blocked & 0xffffffffUL,
                 ign & 0xffffffffUL, cgt & 0xffffffffUL,
                 p->state == PROC_SLEEPING ? 1UL : 0UL, 0UL, 0UL,
                 p->exit_signal, 0, 0u, 0u, 0UL, 0UL, 0L,
                 cd[2], cd[3], s ? s->start_brk : 0UL,
                 s ? s->arg_start : 0UL, s ? s->arg_end : 0UL,
                 s ? s->env_start : 0UL, s ? s->env_end : 0UL,
                 p->state == PROC_ZOMBIE ? p->wait_status : 0);
}

void proc_pid_statm(struct text *t, struct proc *p)
{
        struct vm_sizes z;

        space_sizes(p->space, &z);
        text_add(t, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 %" PRIu64 " 0\n", z.total,
                 z.mss.rss_anon + z.mss.rss_file + z.mss.rss_shmem,
                 z.mss.rss_file + z.mss.rss_shmem, z.text, z.data + z.stack);
}

/* The thread's name (what exec or PR_SET_NAME gave it), as Linux's comm. */
void proc_pid_comm(struct text *t, struct proc *p)
{
        text_add(t, "%s\n", p->name);
}

/* ---- cmdline, environ --------------------------------------------------- */

/* The bytes [start, end) of p's memory, as far as they can be read. */
static void copy_strings(struct text *t, struct proc *p, vaddr_t start,
                         vaddr_t end)
{
        size_t done;

        if (!p->space || start >= end)
                return;
        size_t n = MIN((size_t)(end - start), t->size - 1 - t->len);
        vm_space_access(p->space, start, t->buf + t->len, n, false, false,
                        &done);
        t->len += done;
}

void proc_pid_cmdline(struct text *t, struct proc *p)
{
        if (p->space)
                copy_strings(t, p, p->space->arg_start, p->space->arg_end);
}

void proc_pid_environ(struct text *t, struct proc *p)
{
        if (p->space)
                copy_strings(t, p, p->space->env_start, p->space->env_end);
}

/* ---- mem and pagemap ------------------------------------------------------- */

long proc_mem_rw(struct proc *p, uint64_t off, uint64_t ubuf, size_t len,
                 bool write)
{
        uint8_t *bounce;
        size_t moved = 0;
        long err = 0;

        if (!p->space || p->state == PROC_ZOMBIE)
                return 0;               /* Linux: no mm, nothing to read */
        bounce = kmalloc(PAGE_SIZE);
        if (!bounce)
                return -ENOMEM;
        while (moved < len) {
                size_t n = MIN(len - moved, PAGE_SIZE), done = 0;
                uint64_t va = off + moved;

                if (write && copy_from_user(bounce, ubuf + moved, n)) {
                        err = -EFAULT;
                        break;
                }
                vm_space_access(p->space, va, bounce, n, write, true, &done);
                if (!write && done && copy_to_user(ubuf + moved, bounce, done)) {
                        err = -EFAULT;
                        break;
                }
                moved += done;
                if (done < n)
                        break;
        }
        kfree(bounce);
        return moved ? (long)moved : err ? err : -EIO;
}

#define PM_PFN_MASK             ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY           (1ULL << 55)
#define PM_MMAP_EXCLUSIVE       (1ULL << 56)
#define PM_GUARD_REGION         (1ULL << 58)
#define PM_FILE                 (1ULL << 61)
#define PM_SWAP                 (1ULL << 62)
#define PM_PRESENT              (1ULL << 63)

/* The pagemap entry of va (Linux's pte_to_pagemap_entry). */
static uint64_t pagemap_entry(struct vm_space *s, const struct vm_area *a,
                              vaddr_t va, bool show_pfn)
{
        struct vm_page_info pi;
        uint64_t e;

        if (!a)
                return 0;
        /* A guard page (Linux 6.15): Linux's entry is its PTE marker, a
         * swap entry, so it has PM_SWAP too; the marker's swap type and
         * offset bits are Linux's encoding and stay 0 here. */
        if (vm_guards_has(&s->guards, va))
                return PM_GUARD_REGION | PM_SWAP;
        vm_space_page_info(s, a, va, &pi);
        if (pi.kind == VM_PAGE_NONE)
                return 0;
        if (pi.kind == VM_PAGE_SWAPPED)         /* type, then offset << 5 */
                return PM_SWAP | (show_pfn ? (SWP_AREA(pi.swap) |
                                              (uint64_t)SWP_SLOT(pi.swap) << 5) &
                                             PM_PFN_MASK : 0);
        e = PM_PRESENT | (show_pfn ? (pi.pa >> PAGE_SHIFT) & PM_PFN_MASK : 0);
        if (pi.kind == VM_PAGE_FILE || pi.kind == VM_PAGE_SHMEM)
                e |= PM_FILE;
        if (pi.kind != VM_PAGE_ZERO) {
                unsigned count = pi.kind == VM_PAGE_ANON
                                         ? pi.page->refcount
                                         : mapcount_everywhere(pi.object,
                                                               pi.index, pi.pa);
                if (count == 1)
                        e |= PM_MMAP_EXCLUSIVE;
        }
        return e;
}

long proc_pagemap_read(struct proc *p, uint64_t off, uint64_t ubuf,
                       size_t len, bool show_pfn)
{
        uint64_t entries[64];
        size_t moved = 0;

        if ((off & 7) || (len & 7))
                return -EINVAL;
        if (!p->space || p->state == PROC_ZOMBIE)
                return 0;
        vaddr_t va = (off / 8) << PAGE_SHIFT;
        while (moved < len && va < USER_MAX) {
                size_t n = 0;

                vm_space_enter(p->space);       /* its areas hold still */
                while (n < 64 && moved + n * 8 < len && va < USER_MAX) {
                        entries[n++] = pagemap_entry(p->space,
                                                     vm_space_lookup(p->space, va),
                                                     va, show_pfn);
                        va += PAGE_SIZE;
                }
                vm_space_leave(p->space);
                if (copy_to_user(ubuf + moved, entries, n * 8))
                        return moved ? (long)moved : -EFAULT;
                moved += n * 8;
        }
        return (long)moved;
}
