/*
 * proc_sys.c - the system-wide files of /proc in Linux's formats:
 * meminfo, vmstat, buddyinfo, zoneinfo, stat, uptime, loadavg, version,
 * sysvipc/shm and the sys/kernel and sys/vm values (CONCEPTS A5).
 * Every number is a kernel counter; what Mercator does not have (swap,
 * huge pages, NUMA, writeback) is shown as Linux shows it without it.
 */
#include <mercator/blkdev.h>
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/kstat.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <mercator/version.h>
#include <machine/cpu_local.h>
#include <machine/intr.h>
#include <machine/vmparam.h>
#include <fs/pipe.h>
#include <fs/procfs.h>
#include <fs/vfs.h>
#include <ipc/shm.h>
#include <proc/acct.h>
#include <proc/oom.h>
#include <proc/proc.h>
#include <proc/timens.h>
#include <vm/hugetlb.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_rmap.h>
#include <vm/vm_space.h>
#include <vm/vmalloc.h>
#include <vm/vm_reclaim.h>
#include <vm/swap.h>
#include <vm/vm_swap.h>
#include <vm/vmstat.h>

#define KB(pages)       ((pages) << (PAGE_SHIFT - 10))


void text_kb(struct text *t, const char *name, uint64_t kb)
{
        char label[24];

        ksnprintf(label, sizeof label, "%s:", name);
        text_add(t, "%-16s%8" PRIu64 " kB\n", label, kb);
}

/* Pages of shared anonymous memory: SysV segments (attached or not) and
 * MAP_SHARED|MAP_ANONYMOUS objects, each counted once however many areas
 * map it. They are anonymous objects (vmstat.anon_pages); Linux counts
 * them as shmem. */
static uint64_t shm_resident(void)
{
        struct shm_info info;
        struct shm_caller c = { .admin = true };
        const struct vm_object *seen[256];
        unsigned nseen = 0;
        uint64_t pages;
        int id;

        shm_ctl(&c, 0, SHM_INFO, NULL, &info);
        pages = info.shm_rss - shm_hugetlb_resident();  /* pool pages */
        for (int i = 0; i < proc_slots; i++) {
                struct proc *q = proc_table[i];
                if (q->state == PROC_FREE || !q->space)
                        continue;
                vm_space_enter(q->space);       /* its areas hold still */
                for (const struct vm_area *a = q->space->areas.first; a;
                     a = a->next) {
                        const struct vm_object *o = a->object;
                        unsigned k;
                        if (!(a->flags & VM_AREA_SHARED) ||
                            o->type != VM_OBJECT_ANON || o->hugetlb ||
                            shm_object_id(o, &id))
                                continue;
                        for (k = 0; k < nseen && seen[k] != o; k++)
                                ;
                        if (k < nseen)
                                continue;
                        if (nseen < 256)
                                seen[nseen++] = o;
                        pages += o->npages;
                }
                vm_space_leave(q->space);
        }
        return pages;
}

/* /proc/swaps, in Linux's columns (mm/swapfile.c's swap_show): sizes in
 * KiB, the header and bad pages not counted. */
void proc_swaps(struct text *t, struct proc *p)
{
        text_add(t, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
                struct swap_dev *sd = swap_dev_get(i);

                if (!sd)
                        continue;
                size_t len = strlen(sd->name);
                uint64_t size = KB(sd->area.usable);
                uint64_t used = KB(sd->area.usable - sd->area.free);
                text_add(t, "%s%*s%s\t%" PRIu64 "\t%s%" PRIu64 "\t%s%d\n",
                         sd->name, len < 40 ? (int)(40 - len) : 1, " ",
                         "partition", size, size < 10000000 ? "\t" : "",
                         used, used < 10000000 ? "\t" : "", sd->prio);
        }
}

void proc_meminfo(struct text *t, struct proc *p)
{
        uint64_t free = pmm_free_count();
        uint64_t sysv = shm_resident();
        uint64_t shmem = vmstat.shmem_pages + sysv;
        uint64_t slab = vmstat.slab_pages + vmstat.kmalloc_large;
        uint64_t aa = vm_lru_pages(PMM_LRU_ACTIVE_ANON);
        uint64_t ia = vm_lru_pages(PMM_LRU_INACTIVE_ANON);
        uint64_t af = vm_lru_pages(PMM_LRU_ACTIVE_FILE);
        uint64_t inf = vm_lru_pages(PMM_LRU_INACTIVE_FILE);
        uint64_t swap_total, swap_free;

        swap_totals(&swap_total, &swap_free);

        text_kb(t, "MemTotal", KB(vmstat.managed_pages));
        text_kb(t, "MemFree", KB(free));
        /* Free memory and the clean file pages reclaim could drop, as
         * Linux estimates it (vm_available_pages). */
        text_kb(t, "MemAvailable", KB(vm_available_pages()));
        text_kb(t, "Buffers", 0);
        text_kb(t, "Cached", KB(vmstat.file_pages + shmem));
        text_kb(t, "SwapCached", KB(vm_swap_cached_pages()));
        /* The reclaim lists (vm_reclaim.h). Unlike Linux, which keeps
         * tmpfs pages on its anonymous lists, page-cache objects' pages are
         * on the file lists: reclaim drops them clean, as file pages. */
        text_kb(t, "Active", KB(aa + af));
        text_kb(t, "Inactive", KB(ia + inf));
        text_kb(t, "Active(anon)", KB(aa));
        text_kb(t, "Inactive(anon)", KB(ia));
        text_kb(t, "Active(file)", KB(af));
        text_kb(t, "Inactive(file)", KB(inf));
        text_kb(t, "Unevictable", 0);
        text_kb(t, "Mlocked", 0);
#ifdef PMM_ZONE_HIGHMEM
        /* A machine with high memory (i386): Linux's CONFIG_HIGHMEM lines,
         * the high zone's pages and the rest (low memory). */
        struct pmm_zone_stats high;
        pmm_zone_stats(PMM_ZONE_HIGHMEM, &high);
        text_kb(t, "HighTotal", KB(high.present));
        text_kb(t, "HighFree", KB(high.free));
        text_kb(t, "LowTotal", KB(vmstat.managed_pages - MIN(high.present,
                                                      vmstat.managed_pages)));
        text_kb(t, "LowFree", KB(free - MIN(high.free, free)));
#endif
        text_kb(t, "SwapTotal", KB(swap_total));
        text_kb(t, "SwapFree", KB(swap_free));
        text_kb(t, "Dirty", KB(vm_dirty_file_pages()));
        text_kb(t, "Writeback", KB(vm_writeback_pages));
        text_kb(t, "AnonPages", KB(vmstat.anon_pages - MIN(sysv, vmstat.anon_pages)));
        text_kb(t, "Mapped", KB(vmstat.file_pages));
        text_kb(t, "Shmem", KB(shmem));
        text_kb(t, "KReclaimable", 0);
        text_kb(t, "Slab", KB(slab));
        text_kb(t, "SReclaimable", 0);
        text_kb(t, "SUnreclaim", KB(slab));
        text_kb(t, "KernelStack", KB(vmstat.kstack_pages));
        text_kb(t, "PageTables", KB(vmstat.pt_pages));
        text_kb(t, "NFS_Unstable", 0);
        text_kb(t, "Bounce", 0);
        text_kb(t, "WritebackTmp", 0);
        /* The commit count and mode 2's limit, whatever the mode
         * (vm_commit.h), as Linux shows them. */
        text_kb(t, "CommitLimit", KB(vm_commit_limit()));
        text_kb(t, "Committed_AS", KB(vm_committed_pages()));
        text_kb(t, "VmallocTotal", (VMALLOC_END - VMALLOC_BASE) >> 10);
        text_kb(t, "VmallocUsed", KB(vmstat.vmalloc_pages));
        text_kb(t, "VmallocChunk", 0);
        text_kb(t, "Percpu", 0);
        text_kb(t, "HardwareCorrupted", 0);
        text_kb(t, "AnonHugePages", vm_spaces_huge_pages() * pmap_huge_size() >> 10);
        text_kb(t, "ShmemHugePages", vmstat.shmem_thp * pmap_huge_size() >> 10);
        text_kb(t, "ShmemPmdMapped", !vmstat.shmem_thp ? 0 :
                vm_spaces_shmem_pmd_mapped() * pmap_huge_size() >> 10);
        text_kb(t, "FileHugePages", 0);
        text_kb(t, "FilePmdMapped", 0);
        text_add(t, "HugePages_Total:   %5" PRIu64 "\nHugePages_Free:    %5"
                 PRIu64 "\nHugePages_Rsvd:    %5" PRIu64 "\nHugePages_Surp:    %5"
                 PRIu64 "\n", hugetlb_pool.nr, hugetlb_pool.free,
                 hugetlb_pool.resv, hugetlb_pool.surplus);
        text_kb(t, "Hugepagesize", pmap_huge_size() >> 10);
        text_kb(t, "Hugetlb", hugetlb_pool.nr * (pmap_huge_size() >> 10));
        /* Mercator's own: the vm_page array, and its cost per page. */
        text_kb(t, "PageDescriptors",
                KB(pmm_npages() * sizeof(struct vm_page) / PAGE_SIZE));
        text_add(t, "%-16s%8zu B\n", "DescriptorSize:", sizeof(struct vm_page));
        /* The reverse map's own kmalloc'd records (vm_rmap.h): what it
         * costs beyond the descriptors' record fields. */
        text_add(t, "%-16s%8" PRIu64 " B\n", "ReverseMap:",
                 __atomic_load_n(&rmap_bytes, __ATOMIC_RELAXED));
}

/* Linux's nr_* and event counters that Mercator keeps or knows to be 0. */
void proc_vmstat(struct text *t, struct proc *p)
{
        uint64_t sysv = shm_resident();
        uint64_t shmem = vmstat.shmem_pages + sysv;
        uint64_t faults = 0;

        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE)
                        faults += proc_table[i]->usage.minflt +
                                  proc_table[i]->usage.majflt;
        uint64_t aa = vm_lru_pages(PMM_LRU_ACTIVE_ANON);
        uint64_t ia = vm_lru_pages(PMM_LRU_INACTIVE_ANON);
        uint64_t af = vm_lru_pages(PMM_LRU_ACTIVE_FILE);
        uint64_t inf = vm_lru_pages(PMM_LRU_INACTIVE_FILE);

        text_add(t, "nr_free_pages %" PRIu64 "\n", pmm_free_count());
        text_add(t, "nr_zone_inactive_anon %" PRIu64 "\nnr_zone_active_anon %" PRIu64 "\n",
                 ia, aa);
        text_add(t, "nr_zone_inactive_file %" PRIu64 "\nnr_zone_active_file %" PRIu64 "\n",
                 inf, af);
        text_add(t, "nr_zone_unevictable 0\nnr_zone_write_pending 0\n"
                 "nr_mlock 0\nnr_bounce 0\nnr_free_cma 0\n");
        text_add(t, "nr_inactive_anon %" PRIu64 "\nnr_active_anon %" PRIu64 "\n", ia, aa);
        text_add(t, "nr_inactive_file %" PRIu64 "\nnr_active_file %" PRIu64 "\n", inf, af);
        text_add(t, "nr_unevictable 0\nnr_slab_reclaimable 0\n"
                 "nr_slab_unreclaimable %" PRIu64 "\n",
                 vmstat.slab_pages + vmstat.kmalloc_large);
        text_add(t, "nr_isolated_anon 0\nnr_isolated_file 0\n");
        text_add(t, "nr_anon_pages %" PRIu64 "\n", vmstat.anon_pages - MIN(sysv, vmstat.anon_pages));
        text_add(t, "nr_mapped %" PRIu64 "\n", vmstat.file_pages);
        text_add(t, "nr_file_pages %" PRIu64 "\n", vmstat.file_pages + shmem);
        text_add(t, "nr_dirty %" PRIu64 "\nnr_writeback %" PRIu64
                 "\nnr_writeback_temp 0\n", vm_dirty_file_pages(),
                 vm_writeback_pages);
        text_add(t, "nr_vmscan_write %" PRIu64 "\n",
                 vm_events.nr_vmscan_write);
        text_add(t, "nr_shmem %" PRIu64 "\n", shmem);
        /* In huge pages, as Linux 6.1 prints its THP items here
         * (vmstat_item_print_in_thp), and nr_anon_transparent_hugepages. */
        text_add(t, "nr_shmem_hugepages %" PRIu64 "\nnr_shmem_pmdmapped %"
                 PRIu64 "\n", vmstat.shmem_thp,
                 vmstat.shmem_thp ? vm_spaces_shmem_pmd_mapped() : 0);
        text_add(t, "nr_file_hugepages 0\nnr_file_pmdmapped 0\n"
                 "nr_anon_transparent_hugepages %" PRIu64 "\n", vm_spaces_huge_pages());
        text_add(t, "nr_kernel_stack %" PRIu64 "\n", KB(vmstat.kstack_pages));
        text_add(t, "nr_page_table_pages %" PRIu64 "\n", vmstat.pt_pages);
        text_add(t, "nr_swapcached %" PRIu64 "\n", vm_swap_cached_pages());
        /* pgpgin/pgpgout count KiB moved to and from disks (Linux):
         * swap, file systems, block device files, loop devices. */
        text_add(t, "pgpgin %" PRIu64 "\npgpgout %" PRIu64 "\n"
                 "pswpin %" PRIu64 "\npswpout %" PRIu64 "\n",
                 blkdev_bytes_read >> 10, blkdev_bytes_written >> 10,
                 swap_events.pswpin, swap_events.pswpout);
        text_add(t, "pgactivate %" PRIu64 "\npgdeactivate %" PRIu64 "\n"
                 "pglazyfree %" PRIu64 "\n", vm_events.pgactivate,
                 vm_events.pgdeactivate, vm_events.pglazyfree);
        text_add(t, "pgfault %" PRIu64 "\npgmajfault %" PRIu64 "\n"
                 "pglazyfreed %" PRIu64 "\npgfault_nolock %" PRIu64 "\n"
                 "pgfault_nolock_file %" PRIu64 "\n"
                 "pgfault_nolock_copy %" PRIu64 "\n"
                 "pgfault_nolock_attach %" PRIu64 "\n",
                 faults, vm_events.pgmajfault, vm_events.pglazyfreed,
                 vm_events.pgfault_nolock, vm_events.pgfault_nolock_file,
                 vm_events.pgfault_nolock_copy,
                 vm_events.pgfault_nolock_attach);
        /* The page allocator's per-CPU lists (vm/pmm.h), Mercator's. */
        text_add(t, "pcp_refill %" PRIu64 "\npcp_spill %" PRIu64 "\n"
                 "pcp_drain_all %" PRIu64 "\npcp_drain_retry %" PRIu64 "\n"
                 "pmm_split_huge %" PRIu64 "\n", pmm_events.pcp_refill,
                 pmm_events.pcp_spill, pmm_events.drain_all,
                 pmm_events.drain_retry, pmm_events.split_huge);
        /* Reclaim (vm_reclaim.h): the background reclaimer stands for
         * Linux's kswapd. */
        text_add(t, "pgsteal_kswapd %" PRIu64 "\npgsteal_direct %" PRIu64 "\n",
                 vm_events.pgsteal - vm_events.pgsteal_direct,
                 vm_events.pgsteal_direct);
        text_add(t, "pgscan_kswapd %" PRIu64 "\npgscan_direct %" PRIu64 "\n",
                 vm_events.pgscan - vm_events.pgscan_direct,
                 vm_events.pgscan_direct);
        text_add(t, "pgscan_anon %" PRIu64 "\npgscan_file %" PRIu64 "\n",
                 vm_events.pgscan_anon,
                 vm_events.pgscan - vm_events.pgscan_anon);
        text_add(t, "pgsteal_anon %" PRIu64 "\npgsteal_file %" PRIu64 "\n",
                 vm_events.pgsteal_anon,
                 vm_events.pgsteal - vm_events.pgsteal_anon);
        text_add(t, "pgrotated %" PRIu64 "\nallocstall_normal %" PRIu64 "\n",
                 vm_events.pgrotated, vm_events.direct_reclaims);
        text_add(t, "oom_kill %" PRIu64 "\n", oom_kills);
        /* Huge pages (vm_fault.c): Mercator's objects keep 4 KiB pages, so
         * a split only ever splits a translation (thp_split_pmd). */
        text_add(t, "thp_fault_alloc %" PRIu64 "\nthp_fault_fallback %" PRIu64 "\n"
                 "thp_file_alloc %" PRIu64 "\nthp_file_fallback %" PRIu64 "\n"
                 "thp_file_mapped %" PRIu64 "\n"
                 "thp_split_page 0\nthp_split_pmd %" PRIu64 "\n"
                 "thp_zero_page_alloc %d\n",
                 vmstat.thp_fault_alloc, vmstat.thp_fault_fallback,
                 vmstat.thp_file_alloc, vmstat.thp_file_fallback,
                 vmstat.thp_file_mapped,
                 vmstat.thp_split_pmd, vm_huge_zero_pa() != 0);
}

void proc_buddyinfo(struct text *t, struct proc *p)
{
        for (int z = 0; z < NR_ZONES; z++) {
                struct pmm_zone_stats st;

                pmm_zone_stats((enum zone_id)z, &st);
                if (!st.present)
                        continue;       /* Linux skips unpopulated zones */
                text_add(t, "Node 0, zone %8s ", pmm_zone_name((enum zone_id)z));
                for (int o = 0; o <= PMM_MAX_ORDER; o++)
                        text_add(t, "%6" PRIu64 " ", st.nr_free[o]);
                text_add(t, "\n");
        }
}

/* /proc/lock_stat: Mercator's own format (Linux's file of the name exists
 * only with CONFIG_LOCK_STAT, in another): per lock rank with any use,
 * acquisitions, how many found the lock held, how long those waited in
 * all and the longest wait (spinlock.h, lock_stat_sum). Counters since
 * boot; read twice and subtract to see one run (the longest wait is
 * since boot). Then how often each CPU took the big lock, and on the
 * ports whose big-lock waiters halt, how often each CPU halted waiting
 * for it (biglock.c, bkl_halt). */
static void lock_per_cpu(struct text *t)
{
#ifdef MACHINE_CPU_LOCAL
        if (LOCK_DEBUG) {
                text_add(t, "big-kernel-lock takes by cpu:");
                for (unsigned c = 0; c < machine_cpus_online(); c++)
                        text_add(t, " %" PRIu64,
                                 lock_stat_cpu(c, LOCK_RANK_BIG).acquired);
                text_add(t, "\n");
        }
#endif
#ifdef MACHINE_LOCK_HALT
        text_add(t, "big-kernel-lock halts by cpu:");
        for (unsigned c = 0; c < machine_cpus_online(); c++)
                text_add(t, " %" PRIu64, machine_kernel_lock_halts(c));
        text_add(t, "\n");
#else
        (void)t;
#endif
}

void proc_lock_stat(struct text *t, struct proc *p)
{
        (void)p;
        if (!LOCK_DEBUG) {
                text_add(t, "lock_stat: not counted (LOCK_DEBUG=0)\n");
                lock_per_cpu(t);
                return;
        }
        text_add(t, "%4s %-16s %12s %10s %12s %10s\n", "rank", "class",
                 "acquired", "contended", "wait_us", "max_us");
        for (unsigned r = 0; r < LOCK_STAT_RANKS; r++) {
                struct lock_stat st = lock_stat_sum(r);
                const char *name = lock_rank_name(r);

                if (!name || !st.acquired)
                        continue;
                text_add(t, "%4u %-16s %12" PRIu64 " %10" PRIu64 " %12" PRIu64
                         " %10" PRIu64 "\n", r, name, st.acquired,
                         st.contended, st.wait_ns / 1000,
                         st.wait_max_ns / 1000);
        }
        lock_per_cpu(t);
}

/* The part of Linux's zoneinfo Mercator has numbers for: per zone, the
 * free, present and managed pages and each CPU's page list. */
void proc_zoneinfo(struct text *t, struct proc *p)
{
        for (int z = 0; z < NR_ZONES; z++) {
                struct pmm_zone_stats st;

                pmm_zone_stats((enum zone_id)z, &st);
                text_add(t, "Node 0, zone %8s\n", pmm_zone_name((enum zone_id)z));
                text_add(t, "  pages free     %" PRIu64 "\n", st.free);
                text_add(t, "        present  %" PRIu64 "\n", st.present);
                text_add(t, "        managed  %" PRIu64 "\n", st.present);
                text_add(t, "      nr_free_pages %" PRIu64 "\n", st.free);
                /* the per-CPU lists (vm/pmm.h), as Linux's pagesets;
                 * their pages are counted free above */
                text_add(t, "  pagesets\n");
                for (unsigned c = 0; c < machine_cpus_online(); c++)
                        text_add(t, "    cpu: %u\n              count: %u\n"
                                 "              high:  %u\n"
                                 "              batch: %u\n", c,
                                 pmm_pcp_count(c, (enum zone_id)z),
                                 PMM_PCP_HIGH, PMM_PCP_BATCH);
        }
}

static uint64_t uptime_ns(void)
{
        return clock_monotonic_ns();
}

/* One line of CPU time: user nice system idle, then iowait irq softirq
 * steal guest guest_nice, which Mercator does not count. */
static void stat_cpu_line(struct text *t, const char *name,
                          struct kstat_cpu c)
{
        text_add(t, "%s %" PRIu64 " 0 %" PRIu64 " %" PRIu64 " 0 0 0 0 0 0\n",
                 name, c.user, c.system, c.idle);
}

/* The machine's line, then one per online CPU (glibc's get_nprocs
 * counts them when /sys/devices/system/cpu/online cannot be read). */
void proc_stat(struct text *t, struct proc *p)
{
        struct kstat_cpu all = kstat_total();
        uint64_t ticks = all.user + all.system + all.idle;
        unsigned running = kstat_nr_running();
        char name[16];

        stat_cpu_line(t, "cpu ", all);
        for (unsigned i = 0; i < machine_cpus_online(); i++) {
                ksnprintf(name, sizeof name, "cpu%u", i);
                stat_cpu_line(t, name, kstat.cpu[i]);
        }
        text_add(t, "intr %" PRIu64 " %" PRIu64 "\n", ticks, ticks);    /* IRQ 0: the timers */
        text_add(t, "ctxt %" PRIu64 "\n", kstat.ctxt);
        text_add(t, "btime %" PRIu64 "\n",
                 (clock_realtime_ns() - uptime_ns()) / 1000000000UL);
        text_add(t, "processes %" PRIu64 "\n", kstat.forks);
        text_add(t, "procs_running %u\nprocs_blocked 0\n", running);
        text_add(t, "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
}

void proc_uptime(struct text *t, struct proc *p)
{
        /* as the reader's time namespace has it (Linux's uptime_proc_show) */
        uint64_t cs = timens_from_host(CLOCK_BOOTTIME, uptime_ns()) / 10000000UL;
        uint64_t idle = kstat_total().idle;     /* every CPU's, as Linux's */

        text_add(t, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n", cs / 100, cs % 100,
                 idle / HZ, idle % HZ * (100 / HZ));
}

#define LOAD_INT(x)     ((x) >> 11)
#define LOAD_FRAC(x)    LOAD_INT(((x) & 2047) * 100)

void proc_loadavg(struct text *t, struct proc *p)
{
        uint64_t a[3];
        int threads = 0;

        for (int i = 0; i < 3; i++)
                a[i] = acct_loadavg[i] + 2048 / 200;    /* round, as Linux */
        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state != PROC_FREE &&
                    proc_table[i]->state != PROC_ZOMBIE)
                        threads++;
        text_add(t, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %u/%d %d\n",
                 LOAD_INT(a[0]), LOAD_FRAC(a[0]), LOAD_INT(a[1]),
                 LOAD_FRAC(a[1]), LOAD_INT(a[2]), LOAD_FRAC(a[2]),
                 kstat_nr_running(), threads, proc_last_pid());
}

void proc_version(struct text *t, struct proc *p)
{
        text_add(t, "Linux version " MERCATOR_RELEASE " (mercator@mercator) "
                 "(clang, ld.lld) #1 Mercator\n");
}

void proc_sysvipc_shm(struct text *t, struct proc *p)
{
        t->len += shm_proc_show(t->buf + t->len, t->size - t->len);
}

/* Where pids wrap (proc.c). */
void proc_sys_pid_max(struct text *t, struct proc *p)
{
        text_add(t, "%d\n", proc_pid_max());
}

void proc_sys_tainted(struct text *t, struct proc *p)
{
        text_add(t, "0\n");
}

void proc_sys_ostype(struct text *t, struct proc *p)
{
        text_add(t, "Linux\n");
}

void proc_sys_osrelease(struct text *t, struct proc *p)
{
        text_add(t, MERCATOR_RELEASE "\n");     /* as uname(2) says */
}

/* vm.overcommit_memory and its tunables (vm_commit.h), with Linux's
 * ranges: the mode is 0, 1 or 2 (else EINVAL); writing the ratio clears
 * overcommit_kbytes and writing overcommit_kbytes clears the ratio, as
 * Linux's overcommit_ratio_handler and overcommit_kbytes_handler do. */
void proc_sys_overcommit_memory(struct text *t, struct proc *p)
{
        text_add(t, "%d\n", vm_commit_policy.overcommit_memory);
}

long proc_sys_set_overcommit_memory(uint64_t value)
{
        if (value > VM_OVERCOMMIT_NEVER)
                return -EINVAL;
        vm_commit_policy.overcommit_memory = (int)value;
        return 0;
}

void proc_sys_overcommit_ratio(struct text *t, struct proc *p)
{
        text_add(t, "%d\n", vm_commit_policy.overcommit_ratio);
}

long proc_sys_set_overcommit_ratio(uint64_t value)
{
        vm_commit_policy.overcommit_ratio = (int)value; /* <= INT_MAX */
        vm_commit_policy.overcommit_kbytes = 0;
        return 0;
}

void proc_sys_overcommit_kbytes(struct text *t, struct proc *p)
{
        text_add(t, "%" PRIu64 "\n", vm_commit_policy.overcommit_kbytes);
}

long proc_sys_set_overcommit_kbytes(uint64_t value)
{
        vm_commit_policy.overcommit_kbytes = value;
        vm_commit_policy.overcommit_ratio = 0;
        return 0;
}

void proc_sys_admin_reserve_kbytes(struct text *t, struct proc *p)
{
        text_add(t, "%" PRIu64 "\n", vm_commit_policy.admin_reserve_kbytes);
}

long proc_sys_set_admin_reserve_kbytes(uint64_t value)
{
        vm_commit_policy.admin_reserve_kbytes = value;
        return 0;
}

void proc_sys_user_reserve_kbytes(struct text *t, struct proc *p)
{
        text_add(t, "%" PRIu64 "\n", vm_commit_policy.user_reserve_kbytes);
}

long proc_sys_set_user_reserve_kbytes(uint64_t value)
{
        vm_commit_policy.user_reserve_kbytes = value;
        return 0;
}

void proc_sys_max_map_count(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", (unsigned long)vm_max_map_count());
}

/* vm.max_map_count: the area limit of every space, now and later. */
long proc_sys_set_max_map_count(uint64_t value)
{
        vm_set_max_map_count(value);
        return 0;
}

/* vm.nr_hugepages and vm.nr_overcommit_hugepages (vm/hugetlb.h): the
 * persistent count is set as far as memory allows (reading back says
 * how far), as Linux's. */
void proc_sys_nr_hugepages(struct text *t, struct proc *p)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.max);
}

long proc_sys_set_nr_hugepages(uint64_t value)
{
        (void)hugetlb_set_count(value);
        return 0;
}

void proc_sys_nr_overcommit_hugepages(struct text *t, struct proc *p)
{
        text_add(t, "%" PRIu64 "\n", hugetlb_pool.overcommit);
}

long proc_sys_set_nr_overcommit_hugepages(uint64_t value)
{
        hugetlb_pool.overcommit = value;
        return 0;
}

/* kernel.shmall, shmmax, shmmni: SysV shared memory's limits
 * (ipc/shm.h), which root may change, as on Linux: shmmni 0..32768
 * (IPCMNI, EINVAL outside), shmmax and shmall any unsigned long. Lowering
 * one leaves existing segments alone; new ones are refused past it. */
void proc_sys_shmall(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", (unsigned long)shm_all);
}

long proc_sys_set_shmall(uint64_t value)
{
        shm_all = value;
        return 0;
}

void proc_sys_shmmax(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", (unsigned long)shm_max);
}

long proc_sys_set_shmmax(uint64_t value)
{
        shm_max = value;
        return 0;
}

void proc_sys_shmmni(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", (unsigned long)shm_mni);
}

long proc_sys_set_shmmni(uint64_t value)
{
        if (value > SHM_MNI_LIMIT)
                return -EINVAL;
        shm_mni = value;
        return 0;
}

/* vm.swappiness (vm_reclaim.h): 0..200, EINVAL outside, as Linux 5.8+. */
void proc_sys_swappiness(struct text *t, struct proc *p)
{
        text_add(t, "%u\n", vm_swappiness);
}

long proc_sys_set_swappiness(uint64_t value)
{
        if (value > VM_SWAPPINESS_MAX)
                return -EINVAL;
        vm_swappiness = (unsigned)value;
        return 0;
}

/* vm.drop_caches: Linux's values 1-4 are taken (EINVAL otherwise) but
 * nothing is dropped: reclaim (vm_reclaim.c) would also push anonymous
 * pages to swap, which drop_caches never does. LTP's huge-page set-up
 * writes 3 before growing the pool. Reads 0. */
void proc_sys_drop_caches(struct text *t, struct proc *p)
{
        text_add(t, "0\n");
}

long proc_sys_set_drop_caches(uint64_t value)
{
        if (value < 1 || value > 4)
                return -EINVAL;
        return 0;
}

void proc_sys_nr_open(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", (unsigned long)fs_nr_open);
}

void proc_sys_pipe_max_size(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", pipe_max_size_get());
}

void proc_sys_pipe_user_pages_soft(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", pipe_user_pages_get(false));
}

long proc_sys_set_pipe_user_pages_soft(uint64_t value)
{
        return pipe_user_pages_set(false, value);
}

void proc_sys_pipe_user_pages_hard(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", pipe_user_pages_get(true));
}

long proc_sys_set_pipe_user_pages_hard(uint64_t value)
{
        return pipe_user_pages_set(true, value);
}

void proc_sys_mmap_min_addr(struct text *t, struct proc *p)
{
        text_add(t, "%lu\n", (unsigned long)USER_MIN);
}

struct mount *vfs_mounts(void);         /* fs/vfs.c: newest first */

/* One line of mounts (Linux's show_vfsmnt): source, mount point, type,
 * options, "0 0"; the root file system is Linux's "rootfs". */
static void mount_line(struct text *t, struct proc *p, struct mount *m)
{
        struct vfs_sb *sb = m->sb;
        char where[256];
        bool root = !m->covered;

        if (root)
                ksnprintf(where, sizeof where, "/");
        else if (vfs_path_of(p && p->root ? p->root : vfs_root, m->covered,
                             where, sizeof where) < 0)
                return;                 /* outside the caller's root */
        text_add(t, "%s %s %s %s", root ? "rootfs" : sb->fstype, where,
                 root ? "rootfs" : sb->fstype, sb->rdonly ? "ro" : "rw");
        if (strcmp(sb->fstype, "tmpfs") == 0 && sb->quota.limit)
                text_add(t, ",size=%" PRIu64 "k", KB(sb->quota.limit));
        if (strcmp(sb->fstype, "tmpfs") == 0 && tmpfs_huge_option(sb))
                text_add(t, ",huge=%s", tmpfs_huge_option(sb));
        text_add(t, " 0 0\n");
}

static void mounts_oldest_first(struct text *t, struct proc *p, struct mount *m)
{
        if (!m)
                return;
        mounts_oldest_first(t, p, m->next);
        mount_line(t, p, m);
}

void proc_mounts(struct text *t, struct proc *p)
{
        mounts_oldest_first(t, p, vfs_mounts());
}

/*
 * mountinfo (Linux's show_mountinfo): "ID PARENT MAJOR:MINOR ROOT
 * MOUNT-POINT OPTIONS - TYPE SOURCE SUPER-OPTIONS", oldest first. IDs
 * count from 21 in mount order (the root's parent is 1, as the hidden
 * rootfs is on Linux); the device is the one stat gives its files, so
 * df finds a file's mount by st_dev.
 */
static unsigned mount_id(struct mount *list, struct mount *m)
{
        unsigned newer = 0, n = 0;

        for (struct mount *x = list; x; x = x->next, n++)
                if (x == m)
                        newer = n;
        return m ? 20 + (n - newer) : 1;
}

static void mountinfo_line(struct text *t, struct proc *p, struct mount *list,
                           struct mount *m)
{
        struct vfs_sb *sb = m->sb;
        char where[256];
        bool root = !m->covered;
        uint64_t dev = sb->dev;

        if (root)
                ksnprintf(where, sizeof where, "/");
        else if (vfs_path_of(p && p->root ? p->root : vfs_root, m->covered,
                             where, sizeof where) < 0)
                return;
        text_add(t, "%u %u %" PRIu64 ":%" PRIu64 " / %s %s - %s %s %s", mount_id(list, m),
                 root ? 1 : mount_id(list, m->parent),
                 (dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00),
                 where, sb->rdonly ? "ro" : "rw",
                 root ? "rootfs" : sb->fstype, root ? "rootfs" : sb->fstype,
                 sb->rdonly ? "ro" : "rw");
        if (strcmp(sb->fstype, "tmpfs") == 0 && sb->quota.limit)
                text_add(t, ",size=%" PRIu64 "k", KB(sb->quota.limit));
        if (strcmp(sb->fstype, "tmpfs") == 0 && tmpfs_huge_option(sb))
                text_add(t, ",huge=%s", tmpfs_huge_option(sb));
        text_add(t, "\n");
}

static void mountinfo_oldest_first(struct text *t, struct proc *p,
                                   struct mount *list, struct mount *m)
{
        if (!m)
                return;
        mountinfo_oldest_first(t, p, list, m->next);
        mountinfo_line(t, p, list, m);
}

void proc_mountinfo(struct text *t, struct proc *p)
{
        mountinfo_oldest_first(t, p, vfs_mounts(), vfs_mounts());
}

/* The file-system types vfs_mount() knows (fs/vfs.c). */
void proc_filesystems(struct text *t, struct proc *p)
{
        text_add(t, "nodev\tsysfs\nnodev\trootfs\nnodev\ttmpfs\nnodev\tproc\n\text2\n\text3\n\text4\n"
                 "nodev\thugetlbfs\nnodev\tcgroup2\n");
}
