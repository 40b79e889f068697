/*
 * swap.h - swap areas: mkswap's header, the allocation of the slots that
 * hold evicted pages, the active areas and their page I/O
 * (kernel/vm/swap.c). Machine-neutral, over any disk of
 * mercator/blkdev.h (the host tests use a RAM disk); the system calls
 * are kernel/proc/sys_swap.c.
 *
 * An area is a run of 4 KiB pages on a disk. Page 0 is mkswap's header;
 * every other page not listed bad is a slot. Each slot has a count of
 * its users (0: free), so a page shared by forked processes needs one
 * slot. Slots are handed out in clusters of SWAP_CLUSTER_PAGES: an
 * allocation continues the current cluster and, when it is used up,
 * moves to a cluster with no slot in use, so pages evicted one after
 * another land next to each other on the disk (Linux's swap clusters,
 * without the per-CPU part); only when no cluster is wholly free does it
 * take the free slots of partly used ones.
 */
#ifndef VM_SWAP_H
#define VM_SWAP_H

#include <mercator/types.h>

#define SWAP_CLUSTER_PAGES      256
#define SWAP_MAP_BAD            0xffff  /* the header and bad pages */
#define SWAP_MAP_MAX            0xfffe  /* most users of one slot */

/* mkswap's version-1 header, in the area's first 4 KiB page (Linux's
 * union swap_header): "SWAPSPACE2" in the page's last 10 bytes. */
#define SWAP_HEADER_VERSION_OFF 1024
#define SWAP_HEADER_LAST_OFF    1028
#define SWAP_HEADER_NBAD_OFF    1032
#define SWAP_HEADER_UUID_OFF    1036
#define SWAP_HEADER_LABEL_OFF   1052
#define SWAP_HEADER_BAD_OFF     1536
#define SWAP_HEADER_MAGIC_OFF   (4096 - 10)
#define SWAP_HEADER_MAX_BAD     ((4096 - SWAP_HEADER_BAD_OFF - 10) / 4)

struct swap_header_info {
        uint32_t version;
        uint32_t last_page;             /* the area is pages 0..last_page */
        uint32_t nr_badpages;
        uint32_t badpages[SWAP_HEADER_MAX_BAD];
        uint8_t  uuid[16];
        char     label[17];             /* NUL-terminated */
};

/* Check the first 4 KiB of a would-be swap area whose device holds
 * device_pages 4 KiB pages. => NULL with *out filled if mkswap made it and
 * it fits; otherwise a message saying what is wrong. */
const char *swap_header_parse(const uint8_t page[4096], uint64_t device_pages,
                              struct swap_header_info *out);

struct swap_area {
        uint32_t  pages;                /* last_page + 1, header included */
        uint32_t  usable;               /* slots: pages - header - bad */
        uint32_t  free;                 /* usable slots with no user */
        uint16_t *map;                  /* per page: users or SWAP_MAP_BAD */
        uint16_t *memcg;                /* per page: the control group its
                                         * page was charged to (memcg.h's
                                         * id; 0: none), uncharged when the
                                         * slot is free again */
        uint32_t  nclusters;
        uint16_t *cluster_free;         /* per cluster: its free slots */
        uint16_t *cluster_good;         /* per cluster: its usable slots */
        uint32_t  cur, cur_end;         /* the current cluster's rest */
        uint32_t  next_cluster;         /* where the next search begins */
        uint64_t  sequential;           /* allocations right after the last */
        uint32_t  last;                 /* the last slot allocated (0: none) */
};

/* Set up a's slots from a parsed header. => 0 or -ENOMEM (nothing kept). */
int  swap_area_init(struct swap_area *a, const struct swap_header_info *h);
/* Free what swap_area_init() took (the slots' users are the caller's). */
void swap_area_fini(struct swap_area *a);

/* A free slot, with one user. => false if none is free. */
bool swap_slot_alloc(struct swap_area *a, uint32_t *slot);
/* One more user of a slot in use. => false at SWAP_MAP_MAX users. */
bool swap_slot_dup(struct swap_area *a, uint32_t slot);
/* One user fewer; the slot is free at none. Panics on a free slot. */
void swap_slot_free(struct swap_area *a, uint32_t slot);
/* Users of a slot (SWAP_MAP_BAD for the header and bad pages). */
unsigned swap_slot_count(const struct swap_area *a, uint32_t slot);

/* Every count and cluster total agrees with the map; prints why not. */
bool swap_area_check(const struct swap_area *a);

/* ---- the active areas and their I/O ---------------------------------- */

#define SWAP_MAX_AREAS          8

struct blkdev;

struct swap_dev {
        bool             on;
        bool             draining;      /* swapoff is reading it back */
        struct blkdev   *dev;           /* the whole disk is the area */
        int              prio;
        char             name[64];      /* as /proc/swaps shows it */
        struct swap_area area;
};

/* Area i if it is on, else NULL. */
struct swap_dev *swap_dev_get(unsigned i);
/* Slots in every area, and the free ones. */
void swap_totals(uint64_t *total, uint64_t *free);
/* Make disk d an area (its first page must be mkswap's header; a bad one
 * is refused with a console line saying why). => 0, -EBUSY (already on),
 * -EPERM (every area taken), -EROFS, -EIO, -EINVAL (bad header), -ENOMEM. */
long swap_on(struct blkdev *d, int prio, const char *name);
/* Stop using disk d, reading every page in it back into memory first
 * (vm_swap_unuse). => 0, -EINVAL (not an area), -ENOMEM (no memory to
 * hold them), -EIO (a slot could not be read), -EBUSY (slots still in
 * use: a bug, reported). */
long swap_off(struct blkdev *d);
/*
 * A page in swap: area << 32 | slot (0: none; slot 0 is never a slot).
 * What holds an entry holds one user of its slot.
 */
typedef uint64_t swp_entry_t;
#define SWP_ENTRY(area, slot)   ((uint64_t)(area) << 32 | (uint32_t)(slot))
#define SWP_AREA(e)             ((unsigned)((e) >> 32))
#define SWP_SLOT(e)             ((uint32_t)(e))

/* /proc/vmstat's pswpin and pswpout: pages read from and written to
 * swap; and the requests that failed. */
struct swap_events {
        uint64_t pswpin, pswpout;
        uint64_t read_errors, write_errors;
};
extern struct swap_events swap_events;

/*
 * Write the n (1..SWAP_WRITE_MAX) pages at pa[] to n new slots of one
 * area (the highest priority with room), every request in flight at
 * once: consecutive slots, so consecutive sectors, within a cluster.
 * => 0 with out[] holding one user each; -ENOSPC if no area has n free
 *    slots; -EIO if a write failed (no slot kept). Nothing changes on
 *    failure, so the caller keeps its pages.
 */
#define SWAP_WRITE_MAX          16
long swap_write_pages(const paddr_t *pa, unsigned n, swp_entry_t *out);
/* Read the page in e into pa. => 0 or -EIO. */
long swap_read_page(swp_entry_t e, paddr_t pa);
/*
 * Read the n (0..SWAP_READ_MAX) pages in e[] into pa[], every request in
 * flight at once (read-around: one disk round trip instead of n).
 * => how many were read; ok[i] says which (a failed one is counted in
 *    read_errors and its frame holds nothing).
 */
#define SWAP_READ_MAX           8
unsigned swap_read_pages(const swp_entry_t *e, const paddr_t *pa, unsigned n,
                         bool *ok);
/* One user more / fewer of e (swap_slot_dup / swap_slot_free). */
bool swap_entry_dup(swp_entry_t e);
unsigned swap_entry_count(swp_entry_t e);
void swap_entry_free(swp_entry_t e);
/* The page written to e was charged to control group memcg_id (0: none):
 * the slot is charged to it until it is free (memory.swap.current). */
void swap_entry_charge(swp_entry_t e, uint16_t memcg_id);

/* swap=NAME[,NAME]... on the kernel command line: turn those disks on
 * before /init starts (tools/run --swap); what fails is reported. */
void swap_boot_option(const char *cmdline);

#endif
