/*
 * vm_view.h - read-only questions about the whole machine's memory, for
 * the picture feed (/proc/vmview, fs/proc_vmview.c; docs/design.md "The
 * picture feed"): which owner holds each physical frame, grouped into runs;
 * the state of a user area's pages, grouped into runs; and the machine's
 * own parts (page-table tree summary, kernel layout, a feed port), which
 * an architecture may supply.
 *
 * Nothing here changes the VM's state; a frame map is scratch memory of
 * one byte per frame (16 GiB of RAM: 4 MiB; kmalloc'd when the heap has it
 * in one block, else vmalloc'd; freed by the caller).
 * Locks: none yet (one CPU); callers run in one system call.
 */
#ifndef VM_VM_VIEW_H
#define VM_VM_VIEW_H

#include <mercator/types.h>

struct pmap;
struct vm_space;
struct vm_area;

/* Who holds a frame. VF_OTHER: allocated by the kernel for a use the
 * frame map was not told about (kmalloc'd pages, page cache that no space
 * maps, unattached shared memory). */
enum vm_frame_owner {
        VF_OTHER, VF_FREE, VF_RESERVED, VF_KERNEL_IMAGE, VF_PAGE_DESC,
        VF_PTABLE, VF_SLAB, VF_VMALLOC, VF_KSTACK, VF_ANON, VF_FILE,
        VF_SHMEM, VF_ZERO, VF_NR
};

/* The feed's name of an owner ("free", "kernel_image", ...). */
const char *vm_frame_owner_name(enum vm_frame_owner o);

/* Scratch: an owner byte per frame for what page flags cannot tell. */
struct vm_frame_map {
        uint8_t  *owner;
        uint64_t  npages;
        uint64_t  held_pages;   /* pages the scratch takes from the pmm */
        bool      vmalloced;    /* else kmalloc'd */
};

/*
 * Set up a frame map over every frame pmm_init() covers, all VF_OTHER,
 * with the zero page and the frames of kernel stacks already marked.
 * => true, or false when the scratch array cannot be had (-ENOMEM).
 */
bool vm_frame_map_init(struct vm_frame_map *m);
void vm_frame_map_free(struct vm_frame_map *m);

/* Say frame pa is held by o (out-of-range pa ignored). A later mark wins,
 * except that shared memory is never turned back into a file page. */
void vm_frame_map_mark(struct vm_frame_map *m, paddr_t pa,
                       enum vm_frame_owner o);

/* Mark the resident pages of every registered file (initramfs files). */
void vm_frame_map_mark_files(struct vm_frame_map *m);

/* A run of frames with one owner in one zone. Free frames come as runs
 * of whole buddy blocks of one order. */
struct vm_frame_run {
        paddr_t  pa;
        uint64_t npages;
        uint8_t  owner;         /* enum vm_frame_owner */
        uint8_t  zone;          /* enum zone_id */
        uint8_t  order;         /* free blocks' buddy order, else 0 */
};

/*
 * Call fn for the runs covering every frame, in address order: owner
 * from the page flags (free, page table, slab, vmalloc, reserved), the
 * machine (kernel image, page descriptors: vm_view_machine_owner()),
 * then the map. Cost: one look at each frame's descriptor (a free block
 * is one look), O(frames); no allocation. Stops when fn returns false.
 */
void vm_frame_runs(const struct vm_frame_map *m,
                   bool (*fn)(void *arg, const struct vm_frame_run *r),
                   void *arg);

/* The state of a user page, as the feed names it. */
enum vm_view_page {
        VV_NOT_PRESENT, VV_ZERO, VV_PRIVATE, VV_COW, VV_FILE, VV_SHMEM,
        VV_SWAPPED,             /* a private page in swap: no frame */
        VV_NR
};
const char *vm_view_page_name(enum vm_view_page s);

/* A run of pages of one area in one state; resident runs are physically
 * contiguous too (pa is the first page's frame). */
struct vm_page_run {
        vaddr_t  va;
        uint64_t npages;
        uint8_t  state;         /* enum vm_view_page */
        bool     mapped;        /* this space's pmap translates them */
        uint32_t refcount;      /* COW: objects sharing the frame */
        paddr_t  pa;            /* 0 when not resident */
};

/*
 * Call fn for the runs of a's pages (from vm_space_page_info(), as smaps
 * counts them), at most max_pages pages from a->start; the rest of a
 * larger area is one VV_NOT_PRESENT run flagged by *truncated. Marks each
 * resident page's frame in m (when m is not NULL). Cost: a page-table walk
 * and an object lookup per page. Stops when fn returns false.
 * => a is in s.
 */
void vm_area_page_runs(struct vm_space *s, const struct vm_area *a,
                       uint64_t max_pages, struct vm_frame_map *m,
                       bool (*fn)(void *arg, const struct vm_page_run *r),
                       void *arg, bool *truncated);

/*
 * Call fn for each stretch of a's pages that huge translations map (one
 * large leaf of pmap_huge_size() each, consecutive ones as one stretch):
 * its first address and its pages. What smaps counts as AnonHugePages.
 * Cost: one pmap_page_size() per huge-size block of the area. Stops when
 * fn returns false.
 * => a is in s.
 */
void vm_area_huge_runs(struct vm_space *s, const struct vm_area *a,
                       bool (*fn)(void *arg, vaddr_t va, uint64_t npages),
                       void *arg);

/* ---- what the architecture supplies (weak defaults in vm_view.c) -------- */

/* The page-table tree of a pmap's user half: per level (1 = the leaf
 * tables ... PT levels), the table pages, the present entries in them
 * and the leaves that end the walk above level 1 (large pages); per
 * level too, how many entries a table has (per_table: 512 at every
 * x86-64 and Sv39 level, 1024 in i386's 2-level tables, 4 in PAE's PDPT)
 * and the bytes one entry spans (1 << shift). entries_per_table is the
 * leaf tables' count (the feed's version 1 field). */
#define VM_VIEW_MAX_LEVELS      5
struct vm_pt_summary {
        unsigned levels;                        /* 0: not supplied */
        const char *level_name[VM_VIEW_MAX_LEVELS + 1];
        uint64_t tables[VM_VIEW_MAX_LEVELS + 1];
        uint64_t entries[VM_VIEW_MAX_LEVELS + 1];
        uint64_t large_leaves[VM_VIEW_MAX_LEVELS + 1];
        unsigned per_table[VM_VIEW_MAX_LEVELS + 1];
        unsigned shift[VM_VIEW_MAX_LEVELS + 1];
        unsigned entries_per_table;
};
/* One table page of the tree: its level, the first virtual address it
 * translates, its frame, and its present entries and large leaves. */
struct vm_pt_table {
        unsigned level;
        vaddr_t  va;
        paddr_t  pa;
        unsigned entries, large_leaves;
};

/* Fill *out for pm (user half only); when fn is not NULL, also call it
 * for each table page, parents before children, until it returns false
 * (the summary is still whole). Cost: one read of every present entry
 * of every table; a full 128 TiB space is bounded by its tables. */
void vm_view_pt_summary(struct pmap *pm, struct vm_pt_summary *out,
                        bool (*fn)(void *arg, const struct vm_pt_table *t),
                        void *arg);

/* One region of the kernel's virtual layout. 64 bits wide, so that a
 * 32-bit machine's last region can end at 4 GiB. */
struct vm_layout_region {
        const char *name;
        uint64_t    start, end;
};
/* Call fn for each region of the kernel's virtual layout, low to high. */
void vm_view_kernel_layout(void (*fn)(void *arg,
                                      const struct vm_layout_region *r),
                           void *arg);

/*
 * For the architectures' layouts: call fn for [base, end) as "vmalloc"
 * regions cut at each kernel stack (kstack_alloc) into a "guard" region
 * (the unmapped page under it) and a "kernel_stack" region, low to high,
 * never overlapping. At most 64 stacks are drawn apart; the rest stay
 * inside "vmalloc". Cost: one pass over vmalloc's areas. One caller at a
 * time (a static list; snapshots are made one at a time).
 */
void vm_view_layout_vmalloc(void (*fn)(void *arg,
                                       const struct vm_layout_region *r),
                            void *arg, vaddr_t base, vaddr_t end);

/* The owner of a frame that the machine knows (VF_KERNEL_IMAGE,
 * VF_PAGE_DESC), else VF_OTHER. */
enum vm_frame_owner vm_view_machine_owner(paddr_t pa);

/* Send bytes out of the feed port (x86-64: COM2), if the machine has one.
 * => false when there is none (the bytes go nowhere); with len 0, whether
 *    there is one. */
bool vm_view_feed_write(const char *s, size_t len);

#endif
