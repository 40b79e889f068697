/*
 * shm.c - System V shared memory on the VM's shared anonymous objects
 * (see shm.h for the model: attachments are object references).
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <ipc/shm.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/kmalloc.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#define SEQ_MULTIPLIER  32768           /* Linux's IPCMNI: id = idx + seq*this */
#define SEQ_MAX         (0x7fffffff / SEQ_MULTIPLIER)
#define MIN_CYCLE       64              /* Linux's ipc_min_cycle */

struct shm_seg {
        int32_t           key;          /* IPC_PRIVATE after IPC_RMID */
        uint32_t          uid, gid, cuid, cgid, mode;
        uint16_t          seq;
        int               idx;
        uint64_t          segsz;        /* bytes asked for */
        int64_t           atime, dtime, ctime;
        int32_t           cpid, lpid;
        struct vm_object *obj;
        bool              holds_ref;    /* the segment's own reference */
};

/* The index table: segs_cap slots, a power of two from MIN_CYCLE up to
 * SEQ_MULTIPLIER (Linux's IPCMNI), grown when the allocation window needs
 * more and freed with the last segment. */
static struct shm_seg **segs;
static uint64_t segs_cap;
static uint64_t in_use;                 /* segments alive */
static uint64_t tot_pages;              /* Linux's shm_tot */
static int last_idx = -1;
static int max_idx = -1;                /* highest index in use */
static uint16_t seq;

/* The limits /proc/sys/kernel/shm{mni,max,all} show and set. */
uint64_t shm_mni = SHM_MNI, shm_max = SHM_MAX, shm_all = SHM_ALL;

void shm_init(void)
{
        kfree(segs);
        segs = NULL;
        segs_cap = 0;
        shm_mni = SHM_MNI;
        shm_max = SHM_MAX;
        shm_all = SHM_ALL;
        in_use = tot_pages = 0;
        last_idx = max_idx = -1;
        seq = 0;
}

uint64_t shm_count(void)
{
        return in_use;
}

static inline int seg_id(const struct shm_seg *s)
{
        return s->idx + SEQ_MULTIPLIER * s->seq;
}

/* Its pages: whole huge pages for a SHM_HUGETLB segment. */
static uint64_t seg_pages(const struct shm_seg *s)
{
        uint64_t huge = pmap_huge_size();

        if (s->obj && s->obj->hugetlb)
                return ((s->segsz + huge - 1) & ~(huge - 1)) >> PAGE_SHIFT;
        return page_round(s->segsz) >> PAGE_SHIFT;
}

static uint64_t seg_nattch(const struct shm_seg *s)
{
        return s->obj->refcount - (s->holds_ref ? 1 : 0);
}

/* The segment an id names, or NULL (bad index or stale sequence). */
static struct shm_seg *seg_of_id(int id)
{
        struct shm_seg *s;

        if (id < 0 || (uint64_t)(id % SEQ_MULTIPLIER) >= segs_cap)
                return NULL;
        s = segs[id % SEQ_MULTIPLIER];
        return s && s->seq == id / SEQ_MULTIPLIER ? s : NULL;
}

/* Linux's ipcperms(): may the caller have the rights flag's low bits ask? */
static bool perms_ok(const struct shm_caller *c, const struct shm_seg *s,
                     int flag)
{
        unsigned want = ((unsigned)flag >> 6 | (unsigned)flag >> 3 |
                         (unsigned)flag) & 7;
        unsigned granted = s->mode;

        if (c->uid == s->cuid || c->uid == s->uid)
                granted >>= 6;
        else if (c->gid == s->cgid || c->gid == s->gid)
                granted >>= 3;
        return !(want & ~granted & 7) || c->admin;
}

/* Owner, creator or admin: may change or remove it. */
static bool owner_ok(const struct shm_caller *c, const struct shm_seg *s)
{
        return c->uid == s->uid || c->uid == s->cuid || c->admin;
}

static void max_idx_update(void)
{
        while (max_idx >= 0 && !segs[max_idx])
                max_idx--;
}

/* Drop the descriptor (the object is gone or going). */
static void seg_forget(struct shm_seg *s)
{
        segs[s->idx] = NULL;
        in_use--;
        tot_pages -= seg_pages(s);
        max_idx_update();
        kfree(s);
        if (!in_use) {                  /* the table goes with the last */
                kfree(segs);
                segs = NULL;
                segs_cap = 0;
        }
}

/* on_free of a removed segment's object: its last attachment went. */
static void shm_object_freed(struct vm_object *obj)
{
        struct shm_seg *s = obj->owner;

        obj->on_free = NULL;
        obj->owner = NULL;
        seg_forget(s);
}

bool shm_object_id(const struct vm_object *obj, int *id)
{
        if (!obj || obj->on_free != shm_object_freed)
                return false;
        *id = seg_id(obj->owner);
        return true;
}

/* IPC_RMID: key gone; freed now without attachments, else at the last. */
static void seg_remove(struct shm_seg *s)
{
        s->mode |= SHM_DEST;
        s->key = SHM_IPC_PRIVATE;
        if (s->holds_ref) {
                s->holds_ref = false;
                vm_object_unref(s->obj);        /* may call seg_forget */
        }
}

void shm_shutdown(void)
{
        for (int i = 0; i <= max_idx; i++)
                if (segs[i] && !(segs[i]->mode & SHM_DEST))
                        seg_remove(segs[i]);
}

/* The table covers at least want slots; false if memory ran out. */
static bool segs_cover(uint64_t want)
{
        uint64_t cap = segs_cap ? segs_cap : MIN_CYCLE;
        struct shm_seg **n;

        while (cap < want)
                cap *= 2;
        if (cap == segs_cap)
                return true;
        n = kzalloc(cap * sizeof *n);
        if (!n)
                return false;
        if (segs)
                memcpy(n, segs, segs_cap * sizeof *n);
        kfree(segs);
        segs = n;
        segs_cap = cap;
        return true;
}

/* Linux's cyclic index choice: a window of max(in_use * 3 / 2, 64)
 * indices (at most IPCMNI, whatever shmmni says), searched from just
 * after the last one given; wrapping steps the sequence. -1 if memory for
 * the table ran out. */
static int idx_alloc(void)
{
        uint64_t window = MAX(in_use * 3 / 2, (uint64_t)MIN_CYCLE);

        window = MIN(window, (uint64_t)SEQ_MULTIPLIER);
        if (!segs_cover(window))
                return -1;
        for (uint64_t n = 0; n < window; n++) {
                int idx = (int)((uint64_t)(last_idx + 1 + n) % window);
                if (!segs[idx]) {
                        if (idx <= last_idx && ++seq > SEQ_MAX)
                                seq = 0;
                        last_idx = idx;
                        return idx;
                }
        }
        return -1;
}

static long seg_new(const struct shm_caller *c, int32_t key, uint64_t size,
                    int flags)
{
        uint64_t pages = page_round(size) >> PAGE_SHIFT;
        struct shm_seg *s;
        int idx;

        if (size < SHM_MIN || size > shm_max)
                return -EINVAL;
        if ((pages << PAGE_SHIFT) < size)
                return -ENOSPC;
        if (tot_pages + pages < tot_pages || tot_pages + pages > shm_all)
                return -ENOSPC;
        if (in_use >= shm_mni)
                return -ENOSPC;
        if (pages > VM_OBJECT_MAX_PAGES)
                return -ENOMEM;
        s = kzalloc(sizeof *s);
        if (!s)
                return -ENOMEM;
        /* SHM_HUGETLB: pool pages, each reserved now unless SHM_NORESERVE
         * (vm/hugetlb.h); a size the machine lacks is EINVAL. */
        if (flags & SHM_HUGETLB) {
                uint64_t huge = pmap_huge_size();
                enum vm_status st = VM_EINVAL;

                if (!c->huge_ok) {      /* Linux's can_do_hugetlb_shm() */
                        kfree(s);
                        return -EPERM;
                }

                if (hugetlb_size_log_ok(((unsigned)flags >> 26) & 0x3f))
                        st = hugetlb_object_create((size + huge - 1) & ~(huge - 1),
                                                   !(flags & SHM_NORESERVE),
                                                   &s->obj);
                if (st != VM_OK) {
                        kfree(s);
                        return st == VM_EINVAL ? -EINVAL : -ENOMEM;
                }
                pages = s->obj->size;
        } else
        /* Linux charges the segment whole at creation (shmem_acct_size),
         * unless SHM_NORESERVE outside the strict policy. */
        if (vm_commit_shared_object(c->space, pages,
                                    (flags & SHM_NORESERVE) &&
                                    vm_commit_noreserve_ok(),
                                    &s->obj) != VM_OK) {
                kfree(s);
                return -ENOMEM;
        }
        idx = idx_alloc();      /* in_use < shmmni <= IPCMNI: one is free */
        if (idx < 0) {
                vm_object_unref(s->obj);
                kfree(s);
                return -ENOMEM;         /* no memory for the index table */
        }
        *s = (struct shm_seg){
                .key = key, .uid = c->uid, .gid = c->gid, .cuid = c->uid,
                .cgid = c->gid, .mode = (uint32_t)flags & 0777, .seq = seq,
                .idx = idx, .segsz = size, .ctime = c->now, .cpid = c->pid,
                .obj = s->obj, .holds_ref = true,
        };
        /* Linux's shm files are unlinked at birth: "(deleted)" in maps. */
        char name[40];
        ksnprintf(name, sizeof name, "/SYSV%08x (deleted)", (uint32_t)key);
        if (vm_object_set_name(s->obj, name) != VM_OK) {
                vm_object_unref(s->obj);
                kfree(s);
                return -ENOMEM;
        }
        s->obj->on_free = shm_object_freed;
        s->obj->owner = s;
        segs[idx] = s;
        in_use++;
        tot_pages += pages;
        max_idx = MAX(max_idx, idx);
        return seg_id(s);
}

long shm_get(const struct shm_caller *c, int32_t key, uint64_t size,
             int flags)
{
        struct shm_seg *s = NULL;

        if (key != SHM_IPC_PRIVATE)
                for (int i = 0; i <= max_idx && !s; i++)
                        if (segs[i] && segs[i]->key == key)
                                s = segs[i];
        if (!s) {
                if (key != SHM_IPC_PRIVATE && !(flags & SHM_IPC_CREAT))
                        return -ENOENT;
                return seg_new(c, key, size, flags);
        }
        if ((flags & SHM_IPC_CREAT) && (flags & SHM_IPC_EXCL))
                return -EEXIST;
        if (s->segsz < size)
                return -EINVAL;
        if (!perms_ok(c, s, flags))
                return -EACCES;
        return seg_id(s);
}

long shm_attach(const struct shm_caller *c, struct vm_space *space, int id,
                uint64_t addr, int flags, uint64_t *out)
{
        unsigned mflags = VM_MAP_SHARED;
        vm_prot_t prot = VM_PROT_READ;
        int acc = 0444;
        struct shm_seg *s;
        vaddr_t va;
        uint64_t len;

        if (id < 0)
                return -EINVAL;
        if (addr) {
                if (addr & PAGE_MASK) {
                        if (!(flags & SHM_RND))
                                return -EINVAL;
                        addr = page_trunc(addr);
                        if (!addr && (flags & SHM_REMAP))
                                return -EINVAL;
                }
                mflags |= (flags & SHM_REMAP) ? VM_MAP_FIXED
                                              : VM_MAP_FIXED_NOREPLACE;
        } else if (flags & SHM_REMAP) {
                return -EINVAL;
        }
        s = seg_of_id(id);
        /* Huge pages need a huge-aligned address: a given one that is not
         * is EINVAL, a chosen one is aligned. */
        if (s && s->obj->hugetlb) {
                uint64_t huge = pmap_huge_size(), span = seg_pages(s) << PAGE_SHIFT;
                vaddr_t at;

                if (addr & (huge - 1))
                        return -EINVAL;
                if (!addr && vm_space_map(space, 0, span + huge, VM_PROT_NONE,
                                          VM_MAP_PRIVATE | VM_MAP_NORESERVE,
                                          &at) == VM_OK) {
                        (void)vm_space_unmap(space, at, span + huge);
                        addr = (at + huge - 1) & ~(vaddr_t)(huge - 1);
                        mflags |= VM_MAP_FIXED_NOREPLACE;
                }
        }
        if (!(flags & SHM_RDONLY)) {
                prot |= VM_PROT_WRITE;
                mflags |= VM_MAP_MAYWRITE;      /* mprotect may add write */
                acc |= 0222;
        }
        if (flags & SHM_EXEC) {
                prot |= VM_PROT_EXEC;
                acc |= 0111;
        }
        s = seg_of_id(id);
        if (!s)
                return -EINVAL;
        if (!perms_ok(c, s, acc))
                return -EACCES;
        len = seg_pages(s) << PAGE_SHIFT;
        if (addr && addr + len < addr)
                return -EINVAL;
        /* Keep the object alive across the map, even if it is removed and
         * unattached: the map may fail. */
        vm_object_ref(s->obj);
        vm_status_t st = VM_ENOMEM;
        vaddr_t at;

        /* A segment that may get huge pages goes huge-aligned (Linux's
         * shm_get_unmapped_area is shmem's). */
        if (!addr && vm_shmem_huge_possible(s->obj->huge_policy) &&
            (at = vm_space_huge_place(space, len, 0)))
                st = vm_space_map_object(space, at, len, prot,
                                         mflags | VM_MAP_FIXED_NOREPLACE,
                                         s->obj, &va);
        if (st != VM_OK)
                st = vm_space_map_object(space, addr, len, prot, mflags,
                                         s->obj, &va);
        if (st == VM_OK) {
                s->atime = c->now;
                s->lpid = c->pid;
                *out = va;
        }
        vm_object_unref(s->obj);        /* may forget a removed segment */
        switch (st) {
        case VM_OK:     return 0;
        case VM_EEXIST: return -EINVAL; /* overlap without SHM_REMAP */
        case VM_EACCES: return -EPERM;  /* below mmap_min_addr */
        case VM_EINVAL: return -EINVAL;
        default:        return -ENOMEM;
        }
}

/* Is a a piece of an attachment of obj (any segment if NULL) made at
 * addr: it maps the segment from the page addr would hold? */
static bool attach_piece(const struct vm_area *a, uint64_t addr,
                         const struct vm_object *obj)
{
        return a->object && (a->flags & VM_AREA_SHARED) &&
               a->object->on_free == shm_object_freed &&
               (!obj || a->object == obj) && a->start >= addr &&
               (a->start - addr) >> PAGE_SHIFT == a->pgoff;
}

long shm_detach(const struct shm_caller *c, struct vm_space *space,
                uint64_t addr)
{
        const struct vm_area *a;
        struct vm_object *obj = NULL;
        struct shm_seg *s;
        uint64_t size;

        if (addr & PAGE_MASK)
                return -EINVAL;
        for (a = vm_area_lookup_next(&space->areas, addr); a; a = a->next)
                if (attach_piece(a, addr, NULL))
                        break;
        if (!a)
                return -EINVAL;
        obj = a->object;
        s = obj->owner;
        size = seg_pages(s) << PAGE_SHIFT;
        /* The object outlives the unmapping of its last piece here only
         * through this reference; the segment may go with it. */
        vm_object_ref(obj);
        s->dtime = c->now;
        s->lpid = c->pid;
        while (a) {
                vaddr_t start = a->start, end = a->end;

                vm_space_unmap(space, start, end - start);
                a = vm_area_lookup_next(&space->areas, end);
                while (a && a->end - addr <= size &&
                       !attach_piece(a, addr, obj))
                        a = a->next;
                if (a && a->end - addr > size)
                        a = NULL;
        }
        vm_object_unref(obj);
        return 0;
}

static void stat_fill(const struct shm_seg *s, struct shm_stat *st)
{
        *st = (struct shm_stat){
                .key = s->key, .uid = s->uid, .gid = s->gid, .cuid = s->cuid,
                .cgid = s->cgid, .mode = s->mode, .seq = s->seq,
                .segsz = s->segsz, .atime = s->atime, .dtime = s->dtime,
                .ctime = s->ctime, .cpid = s->cpid, .lpid = s->lpid,
                .nattch = seg_nattch(s),
        };
}

uint64_t shm_hugetlb_resident(void)
{
        uint64_t n = 0;

        for (int i = 0; i <= max_idx; i++)
                if (segs[i] && segs[i]->obj->hugetlb)
                        n += segs[i]->obj->npages;
        return n;
}

static void info_fill(struct shm_info *info)
{
        *info = (struct shm_info){
                .shmmax = shm_max, .shmmin = SHM_MIN, .shmmni = shm_mni,
                .shmseg = shm_mni, .shmall = shm_all,
                .used_ids = (int32_t)in_use, .shm_tot = tot_pages,
        };
        for (int i = 0; i <= max_idx; i++)
                if (segs[i]) {
                        info->shm_rss += segs[i]->obj->npages;
                        info->shm_swp += segs[i]->obj->nswapped;
                }
}

long shm_ctl(const struct shm_caller *c, int id, int cmd, struct shm_stat *st,
             struct shm_info *info)
{
        struct shm_seg *s;

        if (cmd < 0 || id < 0)
                return -EINVAL;
        switch (cmd) {
        case SHM_IPC_INFO:
        case SHM_INFO:
                info_fill(info);
                return max_idx < 0 ? 0 : max_idx;
        case SHM_STAT:
        case SHM_STAT_ANY:
                s = (uint64_t)id < segs_cap ? segs[id] : NULL;
                if (!s)
                        return -EINVAL;
                if (cmd == SHM_STAT && !perms_ok(c, s, 0444))
                        return -EACCES;
                stat_fill(s, st);
                return seg_id(s);
        case SHM_IPC_STAT:
                s = seg_of_id(id);
                if (!s)
                        return -EINVAL;
                if (!perms_ok(c, s, 0444))
                        return -EACCES;
                stat_fill(s, st);
                return 0;
        case SHM_IPC_SET:
        case SHM_IPC_RMID:
        case SHM_LOCK:
        case SHM_UNLOCK:
                break;
        default:
                return -EINVAL;
        }
        s = seg_of_id(id);
        if (!s)
                return -EINVAL;
        if (cmd == SHM_LOCK || cmd == SHM_UNLOCK) {
                /* Linux: the owner may lock within RLIMIT_MEMLOCK; here
                 * only root. A locked segment's pages stay resident
                 * (unevictable); those on swap already come back when
                 * touched, as Linux's. */
                if (!c->admin)
                        return -EPERM;
                s->mode = cmd == SHM_LOCK ? s->mode | SHM_LOCKED
                                          : s->mode & ~(uint32_t)SHM_LOCKED;
                s->obj->unevictable = cmd == SHM_LOCK;
                return 0;
        }
        if (!owner_ok(c, s))
                return -EPERM;
        if (cmd == SHM_IPC_SET) {
                s->uid = st->uid;
                s->gid = st->gid;
                s->mode = (s->mode & ~0777u) | (st->mode & 0777);
                s->ctime = c->now;
                return 0;
        }
        seg_remove(s);
        return 0;
}

size_t shm_proc_show(char *buf, size_t size)
{
        size_t len = 0;

#define SHOW(...) do {                                                  \
                int n_ = ksnprintf(buf + len, size - len, __VA_ARGS__); \
                len = MIN(len + (size_t)n_, size - 1);                  \
        } while (0)
        if (size == 0)
                return 0;
        buf[0] = 0;
        SHOW("       key      shmid perms                  size  cpid  lpid "
             "nattch   uid   gid  cuid  cgid      atime      dtime      "
             "ctime                   rss                  swap\n");
        for (int i = 0; i <= max_idx; i++) {
                const struct shm_seg *s = segs[i];
                if (!s)
                        continue;
                SHOW("%10d %10d  %4o %21" PRIu64 " %5d %5d  %5" PRIu64
                     " %5u %5u %5u %5u %10" PRId64 " %10" PRId64 " %10"
                     PRId64 " %21" PRIu64 " %21" PRIu64 "\n", s->key, seg_id(s),
                     s->mode, (uint64_t)s->segsz, s->cpid, s->lpid,
                     (uint64_t)seg_nattch(s), s->uid, s->gid, s->cuid,
                     s->cgid, (int64_t)s->atime, (int64_t)s->dtime,
                     (int64_t)s->ctime,
                     (uint64_t)s->obj->npages * PAGE_SIZE,
                     (uint64_t)s->obj->nswapped * PAGE_SIZE);
        }
#undef SHOW
        return len;
}
