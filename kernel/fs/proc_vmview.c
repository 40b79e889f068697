/*
 * proc_vmview.c - /proc/vmview, the picture feed (docs/design.md, "The
 * picture feed"; tools/vmview draws it): one JSON object describing the
 * machine's memory at one moment - the kernel's virtual layout, physical
 * memory as runs of frames by owner and zone, and every process's areas
 * with their pages as runs of one state, and its page-table tree. A
 * process is listed once per address space (its threads share it).
 *
 * Reading /proc/vmview gives the snapshot made when it was opened.
 * Writing a label (up to 63 bytes) to it makes a snapshot with that label
 * and sends it, as one line, out of the machine's feed port (x86-64: the
 * second serial port), where tools/vmview collects it; without a feed port
 * the write does nothing else. With `vmview=exit` on the kernel command
 * line every process's exit sends one too, labelled "exit PID".
 *
 * Cost bound: the frame walk is one look per frame descriptor (free blocks
 * one look per block); the page walk is a table walk per page of every
 * area, at most VMVIEW_SCAN_PAGES pages per snapshot (the rest of an area
 * reported unscanned); the text is at most VMVIEW_MAX_BYTES (runs past it
 * are dropped and "truncated" is set); the frame map is a byte per frame.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <fs/procfs.h>
#include <proc/proc.h>
#include <vm/kmalloc.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>
#include <vm/vm_view.h>
#include <vm/vmalloc.h>
#include <vm/vmstat.h>


#define VMVIEW_VERSION          1
#define VMVIEW_MAX_BYTES        (4UL << 20)
#define VMVIEW_SCAN_PAGES       (4ULL << 20)    /* 16 GiB of user pages */
#define VMVIEW_RESERVE          4096            /* room to close the JSON */

static char last_label[64] = "read";
static uint64_t snapshot_seq;

struct vv {
        struct text        *t;
        struct vm_frame_map map;
        bool                have_map;
        bool                truncated;
        bool                first;
        uint64_t            scan_left;
        uint64_t            pages_scanned, frame_runs, page_runs;
        uint64_t            resident;           /* of the current area */
        vaddr_t             area_start;
};

static bool room(struct vv *v)
{
        if (v->t->len + VMVIEW_RESERVE < v->t->size)
                return true;
        v->truncated = true;
        return false;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(struct text *t, const char *s)
{
        text_add(t, "\"");
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        text_add(t, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        text_add(t, "\\u%04x", c);
                else
                        text_add(t, "%c", c);
        }
        text_add(t, "\"");
}

static void comma(struct vv *v)
{
        if (!v->first)
                text_add(v->t, ",");
        v->first = false;
}

static void layout_one(void *arg, const struct vm_layout_region *r)
{
        struct vv *v = arg;

        comma(v);
        text_add(v->t, "{\"name\":");
        json_str(v->t, r->name);
        text_add(v->t, ",\"start\":\"%#" PRIx64 "\",\"end\":\"%#" PRIx64
                 "\"}", r->start, r->end);
}

static bool frame_run(void *arg, const struct vm_frame_run *r)
{
        struct vv *v = arg;

        if (!room(v))
                return false;
        comma(v);
        text_add(v->t, "[%lu,%lu,\"%s\",%u,%u]",
                 (unsigned long)(r->pa >> PAGE_SHIFT),
                 (unsigned long)r->npages, vm_frame_owner_name(r->owner),
                 r->zone, r->order);
        v->frame_runs++;
        return true;
}

static bool page_run(void *arg, const struct vm_page_run *r)
{
        struct vv *v = arg;

        if (!room(v))
                return false;
        comma(v);
        /* [first page (from the area's start), pages, state, mapped,
         *  refcount, first frame] */
        text_add(v->t, "[%lu,%lu,\"%s\",%d,%u,%lu]",
                 (unsigned long)((r->va - v->area_start) >> PAGE_SHIFT),
                 (unsigned long)r->npages, vm_view_page_name(r->state),
                 r->mapped ? 1 : 0, r->refcount,
                 (unsigned long)(r->pa >> PAGE_SHIFT));
        if (r->state != VV_NOT_PRESENT && r->state != VV_ZERO &&
            r->state != VV_SWAPPED)
                v->resident += r->npages;
        v->page_runs++;
        return true;
}

static const char *area_kind(const struct vm_area_info *a)
{
        if (!(a->prot & (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXEC)))
                return "guard";
        if (a->is_stack)
                return "stack";
        if (a->is_heap)
                return "heap";
        if (a->shared)
                return a->is_file ? "file" : "shared";
        if (a->is_file)
                return a->prot & VM_PROT_EXEC ? "text"
                     : a->prot & VM_PROT_WRITE ? "data" : "file";
        return "anon";
}

/* [first page (from the area's start), pages] under huge translations */
static bool huge_run(void *arg, vaddr_t va, uint64_t npages)
{
        struct vv *v = arg;

        if (!room(v))
                return false;
        comma(v);
        text_add(v->t, "[%lu,%lu]",
                 (unsigned long)((va - v->area_start) >> PAGE_SHIFT),
                 (unsigned long)npages);
        return true;
}

struct area_walk {
        struct vv       *v;
        struct vm_space *s;
        bool             first;
};

static bool area_one(void *arg, const struct vm_area_info *info)
{
        struct area_walk *w = arg;
        struct vv *v = w->v;
        struct text *t = v->t;
        const struct vm_area *a = vm_space_lookup(w->s, info->start);
        bool cut = false;

        if (!room(v))
                return false;
        if (!w->first)
                text_add(t, ",");
        w->first = false;
        text_add(t, "{\"start\":\"%#lx\",\"end\":\"%#lx\",\"prot\":\"%c%c%c\","
                 "\"kind\":\"%s\",\"shared\":%s,\"locked\":%s,\"object\":%lu,"
                 "\"offset\":%lu,\"name\":",
                 (unsigned long)info->start, (unsigned long)info->end,
                 info->prot & VM_PROT_READ ? 'r' : '-',
                 info->prot & VM_PROT_WRITE ? 'w' : '-',
                 info->prot & VM_PROT_EXEC ? 'x' : '-', area_kind(info),
                 info->shared ? "true" : "false",
                 a->flags & VM_AREA_LOCKED ? "true" : "false",
                 (unsigned long)info->object_id,
                 (unsigned long)info->offset);
        json_str(t, info->name ? info->name : info->is_heap ? "[heap]"
                                          : info->is_stack ? "[stack]" : "");
        text_add(t, ",\"runs\":[");
        v->first = true;
        v->resident = 0;
        v->area_start = info->start;
        uint64_t want = vm_area_npages(a);
        uint64_t scan = MIN(want, v->scan_left);
        vm_area_page_runs(w->s, a, scan, v->have_map ? &v->map : NULL,
                          page_run, v, &cut);
        v->scan_left -= scan;
        v->pages_scanned += scan;
        text_add(t, "],\"resident\":%lu,\"unscanned\":%lu,\"huge\":[",
                 (unsigned long)v->resident,
                 (unsigned long)(cut ? want - scan : 0));
        v->first = true;
        vm_area_huge_runs(w->s, a, huge_run, v);
        text_add(t, "]}");
        return true;
}

#define VMVIEW_MAX_TABLES       512     /* table pages listed per space */

struct table_list {
        struct vv *v;
        unsigned   n;
        bool       cut;
};

static bool table_one(void *arg, const struct vm_pt_table *pt)
{
        struct table_list *l = arg;

        if (l->n >= VMVIEW_MAX_TABLES || !room(l->v)) {
                l->cut = true;
                return false;
        }
        /* [level, first va, frame, present entries, large leaves] */
        text_add(l->v->t, "%s[%u,\"%#lx\",%lu,%u,%u]", l->n ? "," : "",
                 pt->level, (unsigned long)pt->va,
                 (unsigned long)(pt->pa >> PAGE_SHIFT), pt->entries,
                 pt->large_leaves);
        l->n++;
        return true;
}

static void pt_summary(struct vv *v, struct vm_space *s)
{
        struct text *t = v->t;
        struct vm_pt_summary pt;
        struct table_list l = { .v = v };

        text_add(t, ",\"page_tables\":{\"tables\":[");
        vm_view_pt_summary(vm_space_pmap(s), &pt, table_one, &l);
        text_add(t, "],\"tables_cut\":%s,\"entries_per_table\":%u,"
                 "\"levels\":[", l.cut ? "true" : "false",
                 pt.entries_per_table);
        for (unsigned lv = pt.levels; lv >= 1; lv--)
                text_add(t, "%s{\"level\":%u,\"name\":\"%s\",\"tables\":%lu,"
                         "\"entries\":%lu,\"large_leaves\":%lu,"
                         "\"entries_per_table\":%u,\"shift\":%u}",
                         lv == pt.levels ? "" : ",", lv, pt.level_name[lv],
                         (unsigned long)pt.tables[lv],
                         (unsigned long)pt.entries[lv],
                         (unsigned long)pt.large_leaves[lv],
                         pt.per_table[lv], pt.shift[lv]);
        text_add(t, "]}");
}

static void one_process(struct vv *v, struct proc *p, bool *first)
{
        struct text *t = v->t;

        if (!room(v))
                return;
        struct proc *g = p->leader ? p->leader : p;
        text_add(t, "%s{\"pid\":%d,\"ppid\":%d,\"threads\":%d,\"name\":",
                 *first ? "" : ",", p->pid, g->parent ? g->parent->pid : 0,
                 p->space_borrowed ? 1 : space_users(p->space));
        *first = false;
        json_str(t, p->name);
        if (p->space_borrowed) {        /* a vfork child on its parent's */
                text_add(t, ",\"borrowed_space\":true,\"areas\":[]}");
                return;
        }
        struct area_walk w = { .v = v, .s = p->space, .first = true };
        text_add(t, ",\"brk\":\"%#lx\",\"stack_top\":\"%#lx\",\"areas\":[",
                 (unsigned long)p->space->brk,
                 (unsigned long)p->space->stack_top);
        vm_space_for_each_area(p->space, area_one, &w);
        text_add(t, "]");
        pt_summary(v, p->space);
        text_add(t, "}");
}

/* Is p (at index i) the one entry of its address space: live, and no
 * earlier thread of it listed? A vfork child on its parent's space is
 * listed too, with no areas. */
static bool listed(const struct proc *p, int i)
{
        if (p->state == PROC_FREE || p->state == PROC_ZOMBIE || !p->space)
                return false;
        if (p->space_borrowed)
                return true;
        for (int j = 0; j < i; j++) {
                const struct proc *q = proc_table[j];
                if (q->state != PROC_FREE && q->state != PROC_ZOMBIE &&
                    q->space == p->space && !q->space_borrowed)
                        return false;
        }
        return true;
}

/* The snapshot, into t (whose size bounds it). only: the one process of
 * an exit snapshot, else every live one. */
static void vmview_make(struct text *t, const char *label, struct proc *only)
{
        struct vv v = { .t = t, .scan_left = VMVIEW_SCAN_PAGES };
        uint64_t t0 = clock_monotonic_ns();
        bool first = true;

        v.have_map = vm_frame_map_init(&v.map);
        text_add(t, "{\"vmview\":%d,\"label\":", VMVIEW_VERSION);
        json_str(t, label);
        text_add(t, ",\"seq\":%lu,\"time_ns\":%lu,\"page_size\":%lu,"
                 "\"managed_pages\":%lu,\"free_pages\":%lu,\"frames_total\":%lu,"
                 "\"ram_base\":\"%#lx\",\"self_pages\":%lu",
                 (unsigned long)++snapshot_seq, (unsigned long)t0,
                 (unsigned long)PAGE_SIZE,
                 (unsigned long)vmstat.managed_pages,
                 (unsigned long)pmm_free_count(),
                 (unsigned long)pmm_npages(),
                 (unsigned long)pmm_ram_base(),
                 /* what this snapshot holds while free_pages is read */
                 (unsigned long)((t->size >> PAGE_SHIFT) +
                                 (v.have_map ? v.map.held_pages : 0)));
        text_add(t, ",\"kernel_layout\":[");
        v.first = true;
        vm_view_kernel_layout(layout_one, &v);
        text_add(t, "],\"zones\":[");
        for (int z = 0; z < NR_ZONES; z++) {
                struct pmm_zone_stats st;
                pmm_zone_stats(z, &st);
                paddr_t lo = z ? pmm_machine_zones[z - 1].end : 0;
                paddr_t hi = pmm_machine_zones[z].end;
                text_add(t, "%s{\"id\":%d,\"name\":\"%s\",\"start_pfn\":%lu,"
                         "\"end_pfn\":%lu,\"present\":%lu,"
                         "\"free\":%lu,\"free_blocks\":[", z ? "," : "", z,
                         pmm_zone_name(z), (unsigned long)(lo >> PAGE_SHIFT),
                         (unsigned long)(hi >> PAGE_SHIFT),
                         (unsigned long)st.present,
                         (unsigned long)st.free);
                for (int o = 0; o <= PMM_MAX_ORDER; o++)
                        text_add(t, "%s%lu", o ? "," : "",
                                 (unsigned long)st.nr_free[o]);
                text_add(t, "]}");
        }
        /* Processes first: their walk marks the frame map the physical
         * runs are classified by. */
        text_add(t, "],\"processes\":[");
        for (int i = 0; i < proc_slots; i++) {
                struct proc *p = proc_table[i];
                if (!listed(p, i) || (only && p != only))
                        continue;
                one_process(&v, p, &first);
        }
        if (v.have_map)
                vm_frame_map_mark_files(&v.map);
        text_add(t, "],\"frame_map\":%s,\"frames\":[",
                 v.have_map ? "true" : "false");
        v.first = true;
        vm_frame_runs(v.have_map ? &v.map : NULL, frame_run, &v);
        if (v.have_map)
                vm_frame_map_free(&v.map);
        text_add(t, "],\"cost\":{\"pages_scanned\":%lu,\"frames\":%lu,"
                 "\"frame_runs\":%lu,\"page_runs\":%lu,\"ns\":%lu,"
                 "\"max_bytes\":%lu},\"truncated\":%s}\n",
                 (unsigned long)v.pages_scanned,
                 (unsigned long)pmm_npages(), (unsigned long)v.frame_runs,
                 (unsigned long)v.page_runs,
                 (unsigned long)(clock_monotonic_ns() - t0),
                 (unsigned long)t->size, v.truncated ? "true" : "false");
}

/* Buffer for one snapshot: grows with the machine, capped. */
static size_t vmview_size(void)
{
        uint64_t s = 256 * 1024 + pmm_npages() / 8;

        return page_round(MIN(s, VMVIEW_MAX_BYTES));
}

void proc_vmview(struct text *t, struct proc *p)
{
        vmview_make(t, last_label, NULL);
}

size_t proc_vmview_text_size(void)
{
        return vmview_size();
}

/* Make a snapshot and send it out of the feed port. */
static long vmview_send(const char *label, struct proc *only)
{
        struct text t = { .size = vmview_size() };

        if (!vm_view_feed_write("", 0))
                return 0;               /* no feed port: nothing to make */
        t.buf = vmalloc(t.size);
        if (!t.buf)
                return -ENOMEM;
        t.buf[0] = 0;
        vmview_make(&t, label, only);
        vm_view_feed_write(t.buf, t.len);
        vfree(t.buf);
        return 0;
}

long proc_vmview_mark(uint64_t ubuf, size_t len)
{
        char label[sizeof last_label];
        size_t n = MIN(len, sizeof label - 1);

        if (copy_from_user(label, ubuf, n))
                return -EFAULT;
        label[n] = 0;
        while (n && (label[n - 1] == '\n' || label[n - 1] == 0))
                label[--n] = 0;
        memcpy(last_label, label, sizeof label);
        long err = vmview_send(label, NULL);
        return err ? err : (long)len;
}

void proc_vmview_exit(struct proc *p)
{
        static int enabled = -1;
        char label[32];

        if (enabled < 0)
                enabled = strstr(machine_cmdline(), "vmview=exit") != NULL;
        /* A thread's exit leaves the space to the others: only the
         * last user's exit is the process's. */
        if (!enabled || !p->space || p->space_borrowed ||
            space_users(p->space) > 1)
                return;
        ksnprintf(label, sizeof label, "exit %d", p->pid);
        vmview_send(label, NULL);
}
