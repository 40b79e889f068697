/*
 * vm_object.h - objects that supply the pages of areas, and the shared
 * zero page (CONCEPTS E22: pages arrive on first touch; E23: shared
 * memory and memory-mapped files; E24: copy-on-write).
 *
 * An object is a sparse array of pages indexed by page number, kept in a
 * radix tree of 64-way nodes (6 bits of the index per level). The tree
 * covers one aligned block of 64^height indices, those whose bits above
 * its height are `prefix`: from its size ([0, size), prefix 0) when the
 * object is made, or as little as the areas it is made for need
 * (vm_object_cover: a private object indexed by virtual page number spans
 * the address space, but its first area rarely spans more than one or two
 * levels' worth); an insert beyond it raises the tree (a node above the
 * root per level). A lookup or insert is a walk of `height` nodes; a range
 * is freed by visiting only the nodes that exist under it.
 *
 * Two kinds:
 *   - anonymous (VM_OBJECT_ANON): zero-filled on first touch.
 *       * private anonymous memory: one object per space serves one or
 *         several of its areas (after splits, and when a fault borrows a
 *         neighbour's object). Its index is the virtual page number (va >>
 *         PAGE_SHIFT, like Linux's anonymous vm_pgoff), so touching areas
 *         have consecutive indices and merge, and the page at an index
 *         belongs to whichever area covers that address: unmapping an
 *         address drops its page at once. Such an object belongs to one
 *         space: fork gives the child objects of its own.
 *       * shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS): one object
 *         per mmap, indices 0..size-1, referenced by every area (in every
 *         space) that maps it; pages live until the last reference goes, as
 *         in Linux's shmem. An index at or beyond size (after an mremap
 *         grew the mapping) has no page: SIGBUS, as Linux.
 *   - file (VM_OBJECT_FILE): the page cache of one read-only in-memory file
 *     (an initramfs member): page i holds bytes [i * 4096, (i + 1) * 4096)
 *     of the file, the part past its end zeroed, filled on first request.
 *     One object per file (a registry keyed by the file's data pointer and
 *     size), shared by every space that maps it, so every process reads the
 *     same frames. Nobody ever writes a file page: a private mapping copies
 *     it into the area's private object first (vm_fault.c).
 *
 * Copy-on-write: per-page reference counts, not shadow chains. A resident
 * page has vm_page.refcount = the number of objects holding it. fork links
 * every page of a parent's private object into a new object of the child
 * (refcount + 1) and write-protects the parent's translations; a write
 * fault on a page with refcount > 1 copies it into the faulting object
 * (vm_object_page_unshare), and on refcount 1 - the last sharer - simply
 * maps it writable. Why not the shadow chains the first plan had (BSD):
 * with a chain, a page stays in the shared backing object until that
 * object loses its last shadow, so after the child copies a page the
 * parent must still copy it too, and chains need collapsing; a per-page
 * count knows at once that the other side let go. What it costs: fork
 * touches every resident page (one radix insert each, no data copied),
 * which fork must do anyway to write-protect them. Linux makes the same
 * choice (page mapcount, anon_vma); ours is simpler because a private
 * object belongs to one space, so "who maps this page" is never asked.
 *
 * The object owns its references; a pmap translation is a cache and holds
 * none: a space removes its translations before its object drops a page.
 * Counters: frames of anonymous objects in vmstat.anon_pages (a frame
 * shared by several objects counts once), of file objects in
 * vmstat.file_pages.
 *
 * Locks: [m] the big kernel lock, with the spaces using the object
 * entered (vm_space.h, vm_space_enter); [f] also changed, beside readers
 * under the big lock, by the lock-free faults of the object's space
 * (vm_object_nolock_add: a slot by compare-and-swap, npages by atomic
 * add, new nodes under the space's fault_lock; each published whole). [c] constant after creation. The file
 * registry and the id counter are module state under [m].
 * An object that areas map shared or read as their file (mappers) is
 * read by lock-free faults in every space that maps it, and written by
 * those of shared areas (a first write of shared memory, vm_fault.c:
 * nolock_shared_write): [o] its lock (rank 24) orders every insertion
 * into it, the big lock's (radix_insert, vm_object_swap_to_page) and
 * theirs, and its npages; a page leaves it, and its tree changes shape,
 * only with every door shut (doors_shut_for).
 * Invariants (vm_object_check()):
 *   1. npages = resident pages in the radix tree, nswapped = swap
 *      entries in it (valid entries; private anonymous objects and
 *      shared ones, vm_object_swap_shared; a shared object holding
 *      entries is on the swapped list); all indices < size;
 *   2. no radix node is empty (removal frees nodes as they empty);
 *   3. every resident page is allocated (refcount >= 1, not free), counted
 *      in vmstat.anon_pages (anonymous) or vmstat.file_pages (file);
 *   4. refcount >= 1 for a live object;
 *   5. a file object is in the registry, size = its bytes in pages, and
 *      each resident page holds exactly the file's bytes, zeroes past the
 *      end, and belongs to it alone (refcount 1).
 */
#ifndef VM_VM_OBJECT_H
#define VM_VM_OBJECT_H

#include <mercator/spinlock.h>
#include <mercator/status.h>
#include <mercator/types.h>
#include <vm/vm_commit.h>
#include <vm/pmm.h>
#include <vm/swap.h>

struct rmap_family;
struct vm_area;
struct vm_object;
struct vm_space;

/*
 * Transparent huge pages for shared memory (vm_fault.c:fault_shared_huge;
 * Linux's shmem THP). The policy words are Linux's, in its order:
 *   never        4 KiB pages only;
 *   always       any huge-aligned block of the object a fault meets;
 *   within_size  a block that ends inside the object's end (a tmpfs file's
 *                size rounded up to pages; a shared anonymous object's
 *                length), else as advise;
 *   advise       only where the faulting area has MADV_HUGEPAGE;
 *   deny, force  shmem_enabled only, for tests: every object never /
 *                always (an area's MADV_NOHUGEPAGE and PR_SET_THP_DISABLE
 *                still win, as Linux's).
 * vm_shmem_enabled is /sys/kernel/mm/transparent_hugepage/shmem_enabled
 * (Mercator's default never, as Linux 6.1's); writing one of the first
 * four also sets vm_shmem_internal_huge, the policy of Linux's internal
 * shm mount, which shared anonymous memory, SysV segments and memfds
 * follow (vm_shmem_enabled_set). A tmpfs mount has its own huge= (default
 * never), which the objects of its files point to.
 */
enum vm_shmem_huge {
        VM_SHMEM_HUGE_ALWAYS, VM_SHMEM_HUGE_WITHIN_SIZE, VM_SHMEM_HUGE_ADVISE,
        VM_SHMEM_HUGE_NEVER, VM_SHMEM_HUGE_DENY, VM_SHMEM_HUGE_FORCE,
};
extern enum vm_shmem_huge vm_shmem_enabled;
extern enum vm_shmem_huge vm_shmem_internal_huge;
void vm_shmem_enabled_set(enum vm_shmem_huge h);

/*
 * May a fault through area a (of space s) give obj a huge page for its
 * huge-aligned block of indices [first, first + pmap_huge_size() pages)?
 * The policy above; the block's placement inside the area and the object
 * is the caller's business. a and s may be NULL (no mapping).
 */
bool vm_shmem_huge_allows(const struct vm_object *obj, const struct vm_space *s,
                          const struct vm_area *a, uint64_t first);

/* Could an object following policy (NULL: none) use huge pages at all
 * (neither never nor deny)? For placement: mmap and shmat align such
 * mappings (vm_space_huge_place; Linux's shmem_get_unmapped_area). */
bool vm_shmem_huge_possible(const enum vm_shmem_huge *policy);

/*
 * A page of a shared object's huge block (PG_SHMEM_HUGE) leaves the
 * object (truncation, a hole, swap-out, the object's end): the block is no
 * longer whole, so no fault maps it large again and it stops counting in
 * ShmemHugePages (vmstat.shmem_thp). The rmap calls this.
 */
void vm_page_shmem_huge_break(struct vm_page *pg);

/*
 * A disk file system's page cache (fs/ext2_vfs.c): a page that is not
 * resident is read from the disk, not taken from `data` or zeroes, so
 * reclaim may drop a clean page and have it read again.
 */
struct vm_pager_ops {
        /* Fill page `index` (kernel address kva, zeroed; linked into the
         * object only once filled, since lock-free faults map any page
         * they find there) with the file's bytes there, zeroes in holes
         * and past the end. => 0 or -errno. */
        long (*fill)(struct vm_object *obj, uint64_t index, void *kva);
        /* Write the object's changed pages to the disk (msync MS_SYNC).
         * => 0 or -errno. */
        long (*sync)(struct vm_object *obj);
        /* Page `index` is about to be written through a shared mapping:
         * find it room on the disk. => 0, -ENOSPC (the fault's SIGBUS),
         * -ENOMEM, -EIO. */
        long (*mkwrite)(struct vm_object *obj, uint64_t index);
        /* Write page `index`, frame pg (resident, its bytes the truth),
         * to its disk blocks, finding blocks for a hole first: reclaim's
         * write-back of one dirty page (vm_reclaim.c). It must not
         * reclaim or fault (docs/design.md, "Writing dirty file pages
         * home"); pg is PG_PINNED meanwhile. NULL: reclaim leaves the
         * object's dirty pages to sync. => 0, -ENOSPC, -EIO, -ENOMEM. */
        long (*writepage)(struct vm_object *obj, uint64_t index,
                          struct vm_page *pg);
};

enum vm_object_type {
        VM_OBJECT_ANON,                 /* zero-filled on first touch */
        VM_OBJECT_FILE,                 /* filled from a read-only file */
};

#define VM_OBJECT_MAX_PAGES     ((uint64_t)1 << 48)     /* radix height <= 8 */

/*
 * A budget of resident pages shared by a set of objects (a tmpfs mount's
 * size=): a page an object charged to it would add past the limit is
 * refused with VM_ENOSPC, whoever asks (write(), fallocate, a fault in a
 * shared mapping: SIGBUS there, as Linux's shmem).
 */
struct vm_quota {
        uint64_t used;                  /* [m] pages its objects hold */
        uint64_t limit;                 /* [m] */
        /* Its pages count in the commit count (Committed_AS) and a new
         * one is asked of the policy: Linux charges shmem page by page
         * (vm_commit.h, vm_commit_quota_register). */
        bool             commit;        /* [c] */
        struct vm_quota *commit_next;   /* [m] vm_commit.c's list */
};

static inline bool vm_quota_room(const struct vm_quota *q, uint64_t pages)
{
        return !q || (q->used <= q->limit && pages <= q->limit - q->used &&
                      (!q->commit || vm_commit_pages_room(pages)));
}

struct vm_object {
        uint32_t            refcount;   /* [m] areas and other holders */
        enum vm_object_type type;       /* [c] */
        unsigned            height;     /* [m] radix levels, >= 1; raised
                                         *     only where no lock-free
                                         *     fault reads the tree (its
                                         *     doors shut) */
        uint64_t            prefix;     /* [m] as height: the bits above
                                         *     the tree's levels of every
                                         *     index it covers */
        uint64_t            size;       /* [c] valid indices: [0, size) */
        uint64_t            npages;     /* [m,f,o] resident pages */
        uint64_t            nswapped;   /* [m] swap entries in the tree
                                         * (private anonymous objects and
                                         * the swap cache only, vm_swap.h) */
        void               *root;       /* [m,f,o] top radix node, NULL if
                                         *     empty (the nodes' slots too) */
        struct spinlock     lock;       /* insertions where lock-free faults
                                         *     of several spaces may insert
                                         *     too (mappers; rank 24) */
        void               *leaf;       /* [m] a cache: the level-1 node the
                                         *     last walk reached (faults and
                                         *     scans come in runs inside one
                                         *     node's 64 indices), or NULL */
        uint64_t            leaf_key;   /* [m] its indices >> 6 */
        uint64_t            id;         /* [c] serial number, never reused */
        char               *name;       /* [m] vm_object_set_name(), or NULL */
        struct vm_object   *twin;       /* [m] fork only: the child's copy */
        bool                forked;     /* [c] made by fork as a parent's
                                         * object's twin (vm_area_can_merge) */
        /* File objects only. */
        const uint8_t      *data;       /* [c] the file's bytes */
        uint64_t            bytes;      /* [c] the file's size */
        struct vm_object   *file_next;  /* [m] registry of live files */
        /* Called when the last reference goes, before anything is freed
         * (SysV shm forgets a segment marked for removal); or NULL. */
        void              (*on_free)(struct vm_object *obj);   /* [m] */
        void               *owner;      /* [m] on_free's business */
        /* Page-cache objects (vm_object_create_cache()) only. */
        bool                writable;   /* [c] pages are the truth */
        uint64_t            src_bytes;  /* [m] bytes of data still valid */
        struct vm_quota    *quota;      /* [m] charged for every resident
                                         * page; NULL: no budget */
        const struct vm_pager_ops *pager_ops; /* [m] a disk file's, or NULL */
        void               *pager;      /* [m] pager_ops' business */
        long                wb_error;   /* [m] -errno of a write-back by
                                         * reclaim that failed (the page
                                         * stayed dirty), for the next
                                         * sync to report once (Linux's
                                         * mapping error); or 0 */
        /* The reverse map (vm_rmap.h). */
        struct vm_space    *space;      /* [c] a private anonymous object:
                                         * the one space whose areas use
                                         * it; NULL for any other */
        struct rmap_family *family;     /* [c] a private anonymous object's
                                         * fork family; NULL for others */
        struct vm_object   *family_next, *family_prev; /* [m] its members */
        struct vm_area     *mappers;    /* [m] areas mapping it shared or
                                         * reading it as their backing file
                                         * (vm_area.rmap_next) */
        uint64_t            evicted;    /* [m] pages reclaim dropped clean
                                         * that stay charged to quota, as
                                         * Linux counts a tmpfs file's
                                         * swapped pages in size= */
        bool                droppable;  /* [c] a private anonymous object
                                         * of a VM_MAP_DROPPABLE area:
                                         * reclaim frees its pages that no
                                         * other object shares, unwritten */
        bool                mapped_writable; /* [m] some shared area over it
                                         * could write it (ever): its pages
                                         * may differ from their source */
        uint64_t            committed;  /* [m] pages charged to the commit
                                         * count while it lives: a shared
                                         * anonymous object's size, or 0
                                         * (vm_commit.h) */
        /* Explicit huge pages (vm/hugetlb.h): every page comes from the
         * pool, a huge page's worth at an aligned index at a time, and
         * goes back to it (page_release); hugetlb_resv pages of the pool
         * are reserved for its faults and given back when it ends. Such
         * an object is also unevictable. */
        bool                hugetlb;    /* [c] */
        /* MAP_PRIVATE|MAP_HUGETLB, never forked: pages and reservations
         * of a part unmapped go at once (Linux's private hugetlb VMA);
         * a fork clears it (the child shares the object). */
        bool                hugetlb_private; /* [m] */
        uint64_t            hugetlb_resv; /* [m] */
        /* Transparent huge pages of shared memory (below): the policy
         * this object's faults follow - its tmpfs mount's huge=, or
         * vm_shmem_internal_huge for shared anonymous memory, SysV
         * segments and memfds - or NULL: never (disk files, hugetlb,
         * [vvar], the initramfs' own files). */
        const enum vm_shmem_huge *huge_policy; /* [m] */
        /* Shared memory on swap (vm_swap.h). */
        bool                unevictable; /* [m] pages stay resident (SHM_LOCK,
                                         * the kernel's own [vvar]) */
        struct vm_object   *swap_next, *swap_prev; /* [m] shared objects
                                         * holding swap entries (nswapped
                                         * > 0): swapoff and checks find
                                         * them, mapped or not */
};

/*
 * Is obj shared memory whose pages may go to swap: a shared anonymous
 * object (MAP_SHARED|MAP_ANONYMOUS, /dev/zero, a SysV segment) or a
 * writable page cache without a disk (tmpfs, memfd)? Reclaim also asks
 * that it is not unevictable (entries it got before SHM_LOCK stay until
 * read). (Private anonymous objects go to swap by their own rule:
 * vm_swap.c.)
 */
static inline bool vm_object_swap_shared(const struct vm_object *obj)
{
        if (obj->type == VM_OBJECT_ANON)
                return !obj->space && !obj->family;
        return obj->writable && !obj->pager_ops;
}

/*
 * Charge obj's pages, now and from now on, to q (NULL: to none); the
 * pages it holds move from its old budget. A budget may end above its
 * limit this way; only new pages are refused.
 */
void vm_object_set_quota(struct vm_object *obj, struct vm_quota *q);

/*
 * Reclaim: drop obj's page at index, which is clean (vm_rmap.h's
 * rmap_clean_page) and mapped nowhere. With a quota, the page stays
 * charged (vm_object.evicted) until it is read again, its indices are
 * cut (truncation, a hole) or the object goes, so a dropped page always
 * fits again.
 */
void vm_object_drop_clean(struct vm_object *obj, uint64_t index);

/* Largest file a page-cache object holds (Linux's MAX_LFS_FILESIZE). */
#define VM_FILE_CACHE_MAX_BYTES ((VM_OBJECT_MAX_PAGES << 12) - 1)

/*
 * A new anonymous object of `size` pages, refcount 1, no pages. Touches
 * nothing the big lock guards (its serial is taken atomically), so a
 * lock-free fault may make one (vm_fault.c:nolock_attach).
 * => 0 < size <= VM_OBJECT_MAX_PAGES.
 * => VM_ENOMEM (heap exhausted) or VM_EINVAL (bad size); *out unchanged.
 */
vm_status_t vm_object_create_anon(uint64_t size, struct vm_object **out);

/*
 * Start a new object's tree as low as covering [first, end) allows: one
 * level for an area of up to 64 pages inside one aligned block, against
 * six for the whole of an address space's page numbers. Its first page
 * then costs one radix node, not six. An insert outside it later raises
 * the tree (under the big lock, the doors of whoever may read the tree
 * shut; a lock-free fault declines instead: vm_object_nolock_add).
 * => obj new and empty, nobody else seeing it yet (or its doors shut);
 *    first < end <= obj->size.
 */
void vm_object_cover(struct vm_object *obj, uint64_t first, uint64_t end);
/* The indices below obj's size its tree covers now: [*first, *end). */
void vm_object_covered(const struct vm_object *obj, uint64_t *first,
                       uint64_t *end);

/*
 * Free an object nobody else has seen: just made, its reverse-map family
 * its own or none, no page, no swap entry, nothing committed or charged
 * (a lock-free fault that lost the race to attach an area's object).
 * Unlike vm_object_unref's end it touches no count the big lock guards.
 */
void vm_object_discard(struct vm_object *obj);

/*
 * The object of the read-only in-memory file [data, data + bytes): the
 * live one for that (data, bytes) with one more reference, else a new one
 * (refcount 1, no pages yet). The bytes must stay put and unchanged while
 * the object lives (the initramfs does). Every mapping of the file should
 * use this object, so that its pages are shared; the caller drops its own
 * reference when it no longer needs the object (areas hold theirs).
 * => bytes may be 0 (every access is then beyond the end: SIGBUS).
 * => VM_EINVAL: data NULL with bytes > 0, or more than
 *    VM_OBJECT_MAX_PAGES pages. VM_ENOMEM: heap exhausted. *out unchanged.
 */
vm_status_t vm_object_create_file(const void *data, uint64_t bytes,
                                  struct vm_object **out);

/*
 * A page-cache object (CONCEPTS E23): the data of one writable file
 * (tmpfs, memfd), `bytes` long, whose pages are the truth. read() and
 * write() copy to and from them (through pmap_quick_enter_page()), every mapping
 * maps them: shared mappings directly, private ones until their first
 * write copies the page. A page not yet resident is filled from the
 * immutable source [data, data + src_bytes) (an initramfs member, or
 * nothing), zeroes past it. Not in the file registry: the file system
 * holds the only first reference. Its pages count in vmstat.shmem_pages.
 * => (!data && bytes) or bytes > VM_FILE_CACHE_MAX_BYTES: VM_EINVAL;
 *    VM_ENOMEM. *out unchanged on failure.
 */
vm_status_t vm_object_create_cache(const void *data, uint64_t bytes,
                                   struct vm_object **out);

/*
 * Set a page-cache object's length to `bytes` (truncate, write past the
 * end, fallocate). Shrinking frees the pages wholly past the new end and
 * zeroes the tail of the last page; growing adds no page (holes read as
 * zeroes). The source is cut to the new length, so growing again reads
 * zeroes, not the old bytes.
 * => obj->writable. The caller first removes every translation of the
 *    pages being freed (vm_spaces_unmap_object()); a shrink, or a growth
 *    that raises the tree, of an object with mappers then runs with every
 *    door shut and unmaps again inside (lock-free readers: vm_object.c,
 *    doors_shut_for), as vm_object_free_range() does.
 * => VM_EINVAL past VM_FILE_CACHE_MAX_BYTES; VM_ENOMEM if the radix tree
 *    could not grow (nothing changed).
 */
vm_status_t vm_object_resize(struct vm_object *obj, uint64_t bytes);

/*
 * Make pages [first, end) of page-cache object obj read as zeroes
 * (fallocate's PUNCH_HOLE, madvise's REMOVE): they are freed, except those
 * the immutable source still covers, which are zeroed in place (freeing
 * them would bring the source's bytes back).
 * => obj->writable; the caller has removed their translations from every
 *    space (vm_spaces_unmap_object()).
 * => VM_ENOMEM if a page to zero could not be had (the pages before it are
 *    done).
 */
vm_status_t vm_object_punch_hole(struct vm_object *obj, uint64_t first,
                                 uint64_t end);

/*
 * Attach a name (a copy of it), e.g. the file's path for /proc/PID/maps;
 * NULL removes it. => VM_ENOMEM (the old name stays).
 */
vm_status_t vm_object_set_name(struct vm_object *obj, const char *name);

/* The name attached, or NULL. */
static inline const char *vm_object_name(const struct vm_object *obj)
{
        return obj->name;
}

/* Live file objects (for leak checks). */
uint64_t vm_object_file_count(void);

/* Take one more reference. => obj is live (refcount >= 1). */
void vm_object_ref(struct vm_object *obj);

/*
 * Drop a reference; the last one calls on_free (if set), then frees every
 * page, every radix node, the name and the object (and takes a file object
 * out of the registry).
 * => obj may be NULL. => no pmap maps its pages any more.
 */
void vm_object_unref(struct vm_object *obj);

/* The page at index, or NULL if not resident. => O(height). */
struct vm_page *vm_object_lookup(const struct vm_object *obj, uint64_t index);

/* vm_object_lookup() of the n indices from first, into out[0..n): one
 * walk per 64 indices (a radix node's), not one per index. */
void vm_object_lookup_run(const struct vm_object *obj, uint64_t first,
                          unsigned n, struct vm_page **out);

/*
 * The page at index, made resident if it is not: zero-filled for an
 * anonymous object, filled from the file for a file object.
 * => VM_ENOENT if index >= size (for a file: at or past its end).
 * => VM_ENOSPC if the page would take obj's quota past its limit.
 * => VM_ENOMEM if no page or radix node could be had: nothing changed.
 */
vm_status_t vm_object_get_page(struct vm_object *obj, uint64_t index,
                               struct vm_page **out);

/*
 * Make a page resident at index (not there yet) of anonymous object obj,
 * holding a copy of src (NULL: zeroes), and return it. Counts it in
 * vmstat.anon_pages.
 * => VM_ENOMEM if no page or radix node could be had: nothing changed.
 * => VM_EINVAL if index >= size or obj is a file; VM_EEXIST if a page is
 *    there already.
 */
vm_status_t vm_object_page_alloc_copy(struct vm_object *obj, uint64_t index,
                                      const struct vm_page *src,
                                      struct vm_page **out);

/*
 * Put the fresh page pg (zeroed by the caller) at the free index of
 * anonymous obj, for the fault path's lock-free part (vm_space.h,
 * vm_fault_nolock): where the tree's path to index is whole, without a
 * lock (a compare-and-swap of the slot; sp NULL); else, with sp, under
 * the space's fault_lock, linking the missing nodes from sp (taken
 * before the lock: kmalloc is not called under it). No cache is written
 * (obj->leaf, which the big lock's readers write, is not used); each
 * node and then the page is published last, so a reader beside it finds
 * either nothing or the whole page.
 * => VM_EEXIST: the slot holds a page or a swap entry; VM_ENOENT: a node
 *    is missing and sp is NULL; VM_ENOMEM: sp has fewer nodes than the
 *    path misses (sp->want says how many); VM_ENOSPC: the tree does not
 *    reach index (vm_object_cover), and only the big lock's holder raises
 *    it. Nothing changed then. The nodes not used stay in sp.
 */
#define VM_OBJECT_NODES_MAX     8
struct vm_object_nodes {
        void     *node[VM_OBJECT_NODES_MAX];
        unsigned  n, want;
};
/* (The page's reclaim list and charge are the caller's, after its lock:
 * rmap_owner_first_lists.) */
vm_status_t vm_object_nolock_add(struct vm_object *obj, uint64_t index,
                                 struct vm_page *pg,
                                 struct vm_object_nodes *sp);
/*
 * The lock-free part's reads (vm_fault_nolock, inside its space's door:
 * beside it only other lock-free faults change obj, each publishing a
 * node or a slot whole): from the root with acquire loads, writing no
 * cache: the resident pages of the n indices from first into out[0..n)
 * (NULL: none, or on swap).
 */
void vm_object_nolock_lookup_run(const struct vm_object *obj, uint64_t first,
                                 unsigned n, struct vm_page **out);
/* ...and whether index, inside obj, holds nothing at all: no page and no
 * swap entry (a read there may map the zero page). */
bool vm_object_nolock_empty(const struct vm_object *obj, uint64_t index);
/*
 * A copy-on-write copy without the big lock (vm_fault.c:nolock_cow): the
 * fresh page pg (filled by the caller) takes old's place at index of the
 * space's own anonymous object obj, by compare-and-swap, recorded as its
 * first owner (its lists: the caller's). Nothing else changes: old keeps
 * its count, its record and its lists, obj's reference to it being let
 * go later under the big lock (vm_object_put_later). => VM_EEXIST: the
 * slot does not hold old; VM_ENOENT: no node holds the slot. Nothing
 * changed then.
 */
vm_status_t vm_object_nolock_replace(struct vm_object *obj, uint64_t index,
                                     struct vm_page *old, struct vm_page *pg);
/*
 * Deferred puts: obj's reference to pg at index (a page a lock-free copy
 * replaced), let go later by vm_object_puts_run() as the big lock's
 * page_release would, since only the big lock's holder changes a page's
 * count, record and lists. A fault first reserves room (=> false: none,
 * at most VM_OBJECT_PUTS_MAX wait; the fault takes the lock's path) and
 * gives it back if it does not put after all. Until it runs, pg's count
 * says obj holds it (another holder copies rather than reuses it, which
 * is safe), and nothing else about it is wrong: every walk from a page to
 * its owners looks in each owner's slot.
 * vm_object_puts_run: every put waiting; called by the big lock's holder
 * as it enters a space (vm_space_enter, after the faults inside have
 * left: while a space is entered, no put names its objects, so none
 * outlives its object), shuts every door (vm_space_enter_all: reclaim,
 * swap-out and the checkers then find every count as the owners say) and
 * destroys a space (vm_space_destroy: an exit takes the lock without
 * entering its space).
 * vm_object_puts_of: the puts waiting for pg (rmap_check's count).
 * Locks: [p] puts_lock (rank 23) around the list; the room by atomics.
 */
#define VM_OBJECT_PUTS_MAX      64
bool vm_object_put_reserve(void);
void vm_object_put_unreserve(void);
void vm_object_put_later(struct vm_object *obj, uint64_t index,
                         struct vm_page *pg);
void vm_object_puts_run(void);
unsigned vm_object_puts_of(const struct vm_page *pg);
/* Fill sp up to n zeroed nodes (=> VM_ENOMEM: fewer); give them back. */
vm_status_t vm_object_nodes_get(struct vm_object_nodes *sp, unsigned n);
void vm_object_nodes_put(struct vm_object_nodes *sp);

/* vm_object_page_alloc_copy() with zeroes. */
vm_status_t vm_object_page_alloc(struct vm_object *obj, uint64_t index,
                                 struct vm_page **out);

/*
 * Put n pages that are already allocated and filled (pages[0..n), separate
 * order-0 allocations with refcount 1, e.g. a split huge block) at indices
 * [first, first + n) of anonymous object obj, none of which holds a page.
 * Counts them in vmstat.anon_pages. All or nothing.
 * => VM_EINVAL if the range passes size, obj is not anonymous or an index
 *    holds a page; VM_ENOMEM if a radix node could not be had (nothing
 *    inserted; the pages stay the caller's).
 */
vm_status_t vm_object_insert_pages(struct vm_object *obj, uint64_t first,
                                   struct vm_page *pages, uint64_t n);

/* ---- swap entries (kernel/vm/vm_swap.c uses these) ---------------- */

/* The swap entry at index (0: none; a page or nothing is there). */
swp_entry_t vm_object_swap_entry(const struct vm_object *obj, uint64_t index);

/*
 * Evicted: obj's slot at index, which holds pg, holds entry e instead
 * (the caller gave obj one user of e); obj's reference to pg goes (the
 * last frees it). => pg is mapped nowhere through obj. A shared object
 * keeps the page charged to its quota while it is on swap (Linux counts
 * a tmpfs file's swapped pages in size=), and joins the list of shared
 * objects holding entries.
 */
void vm_object_page_to_swap(struct vm_object *obj, uint64_t index,
                            struct vm_page *pg, swp_entry_t e);

/*
 * Swapped in: obj's slot at index, which holds an entry, holds pg
 * instead; obj takes a reference (fresh: pg was just allocated, its
 * refcount 1 is obj's). The caller drops obj's user of the entry after.
 * A page-cache page read back is PG_DIRTY: its bytes are no longer its
 * source's, so reclaim must not drop it as clean.
 * => VM_ENOMEM (a reverse-map record; nothing changed).
 */
vm_status_t vm_object_swap_to_page(struct vm_object *obj, uint64_t index,
                                   struct vm_page *pg, bool fresh);

/* The swap cache: obj takes one more reference to the allocated page
 * pg at the free index. => VM_ENOMEM (nothing changed). */
vm_status_t vm_object_insert_cached(struct vm_object *obj, uint64_t index,
                                    struct vm_page *pg);

/* Call fn for every shared object (vm_object_swap_shared) that holds swap
 * entries; stops when fn returns false. fn may bring obj's entries back
 * (which takes obj off the list) and change no other object's. */
bool vm_object_for_each_swapped_shared(bool (*fn)(void *arg,
                                                  struct vm_object *obj),
                                       void *arg);

/* Call fn for every swap entry with index in [first, end); stops when
 * fn returns false. fn may replace the entry it is given by a page
 * (vm_object_swap_to_page) and nothing else of obj. */
bool vm_object_for_each_entry(struct vm_object *obj, uint64_t first,
                              uint64_t end,
                              bool (*fn)(void *arg, uint64_t index,
                                         swp_entry_t e),
                              void *arg);

/* Does obj hold no page and no swap entry in [first, end)?
 * => O(end - first). */
bool vm_object_range_empty(const struct vm_object *obj, uint64_t first,
                           uint64_t end);

/*
 * Copy-on-write: the page at index of anonymous object obj is shared with
 * other objects (refcount > 1); give obj a private copy in its place and
 * drop obj's reference to the shared one. *out: the copy.
 * => VM_ENOMEM if no page could be had: nothing changed.
 * => the caller removes or replaces obj's translations of the old page.
 */
vm_status_t vm_object_page_unshare(struct vm_object *obj, uint64_t index,
                                   struct vm_page **out);

/*
 * Link every resident page of src with index in [first, end) into dst at
 * index - first + dst_first, taking a reference to each (no data copied),
 * and copy each swap entry there (one more user of its slot):
 * fork, and mremap moving private pages to new indices.
 * => dst is anonymous and has no page at those indices.
 * => VM_ENOMEM if a radix node of dst could not be had: the pages linked
 *    so far stay linked (dst is then usually thrown away).
 */
vm_status_t vm_object_share_range(struct vm_object *src, uint64_t first,
                                  uint64_t end, struct vm_object *dst,
                                  uint64_t dst_first);

/*
 * Drop every resident page with index in [first, end) (freeing the frames
 * no other object holds), every swap entry there (its slot's user), and
 * the radix nodes that empty.
 * => the pages are mapped nowhere through obj (the TLB is flushed). An
 *    object with mappers is walked with every door shut, the range
 *    unmapped again inside (vm_object.c, doors_shut_for), unless the
 *    caller has shut them (and unmapped inside).
 * => returns the number of pages dropped.
 */
uint64_t vm_object_free_range(struct vm_object *obj, uint64_t first,
                              uint64_t end);

/*
 * Call fn(arg, index, page) for each resident page with index in
 * [first, end), in index order; stops early, returning false, when fn
 * returns false.
 */
bool vm_object_for_each(const struct vm_object *obj, uint64_t first,
                        uint64_t end,
                        bool (*fn)(void *arg, uint64_t index,
                                   struct vm_page *pg),
                        void *arg);

/* Call fn(arg, obj) for every object in the file registry (the files
 * of the initramfs that were ever mapped); stops when fn returns false.
 * Changes nothing (for the picture feed). */
void vm_object_for_each_file(bool (*fn)(void *arg,
                                        const struct vm_object *obj),
                             void *arg);

/* Verify invariants 1-5 above; prints the first violation.
 * => O(pages); a file object also compares every page with the file. */
bool vm_object_check(const struct vm_object *obj);

/* --- the shared zero page ----------------------------------------------- */

/*
 * Forget all module state (the zero page, the file registry): host tests
 * call this after re-creating simulated RAM, as with kmalloc_init().
 */
void vm_object_init(void);

/*
 * Have the zero page: one frame of zeroes, mapped read-only for reads of
 * private anonymous memory never written. It is never freed (like Linux's
 * empty_zero_page), so leak checks take their baseline after this.
 * => idempotent; VM_ENOMEM if the frame could not be had.
 */
vm_status_t vm_zero_page_init(void);

/* The zero page's frame. => vm_zero_page_init() succeeded. */
paddr_t vm_zero_page_pa(void);

/* True if the zero page exists and still holds only zeroes (and so does
 * the huge zero page, if there is one). */
bool vm_zero_page_check(void);

/*
 * The huge zero page (Linux's huge_zero_folio): one physically contiguous,
 * aligned block of pmap_huge_size() zeroes, mapped read-only with one
 * large translation for a read of an empty huge block of THP-eligible
 * memory (vm_fault.c). Never freed either; vm_huge_zero_init() takes it
 * (idempotent; VM_ENOMEM if no such block is free: then there is none).
 * vm_huge_zero_pa(): its first frame, 0 without one.
 */
vm_status_t vm_huge_zero_init(void);
paddr_t vm_huge_zero_pa(void);

/* Is pa a frame of zeroes that no object holds: the zero page or one of
 * the huge zero page's frames (a split huge zero translation leaves 4 KiB
 * translations to them)? */
bool vm_is_zero_pa(paddr_t pa);

#endif
