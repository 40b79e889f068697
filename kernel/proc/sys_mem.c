/*
 * sys_mem.c - mmap, munmap, mprotect, brk, msync, mincore and mlock:
 * Linux's argument rules and numbers around the address-space core
 * (vm/vm_space.c), which holds the semantics. The errno for each bad
 * argument is the one Linux gives.
 */
#include <mercator/errno.h>
#include <mercator/printk.h>
#include <mercator/uaccess.h>
#include <machine/cpu_local.h>
#include <machine/vmparam.h>
#include <fs/file.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <fs/vfs.h>
#include <vm/hugetlb.h>
#include <vm/pmap.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#define PROT_READ       0x1
#define PROT_WRITE      0x2
#define PROT_EXEC       0x4
#define PROT_GROWSDOWN  0x01000000
#define PROT_GROWSUP    0x02000000

#define MAP_SHARED              0x01
#define MAP_PRIVATE             0x02
#define MAP_SHARED_VALIDATE     0x03
#define MAP_DROPPABLE           0x08    /* Linux 6.11 */
#define MAP_TYPE                0x0f
#define MAP_FIXED               0x10
#define MAP_ANONYMOUS           0x20
#define MAP_GROWSDOWN           0x0100
#define MAP_LOCKED              0x2000
#define MAP_NORESERVE           0x4000
#define MAP_POPULATE            0x8000
#define MAP_FIXED_NOREPLACE     0x100000
#define MAP_HUGETLB             0x40000
#define MAP_STACK               0x20000
#define MAP_HUGE_SHIFT          26
#define MAP_HUGE_MASK           0x3f
/* Flags MAP_SHARED_VALIDATE accepts, as Linux 6.18 on x86-64 does (its
 * LEGACY_MAP_MASK with MAP_32BIT and MAP_ABOVE4G); anything else, MAP_SYNC
 * and MAP_FIXED_NOREPLACE included, is EOPNOTSUPP. */
#define MAP_KNOWN               0x407f9ff

#define TASK_SIZE               (USER_MAX + 0)

#define PROT_SEM        0x8     /* accepted and meaningless on x86 */

/* mprotect's rule (Linux's arch_validate_prot): known bits only, and not
 * both growth directions. mmap ignores unknown bits instead. */
static bool prot_valid(long prot)
{
        return !(prot & ~(long)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM |
                                PROT_GROWSDOWN | PROT_GROWSUP)) &&
               (prot & (PROT_GROWSDOWN | PROT_GROWSUP)) !=
               (PROT_GROWSDOWN | PROT_GROWSUP);
}

/* PROT_* -> VM_PROT_*, bit for bit: the area keeps what the user asked
 * for (/proc/PID/maps shows PROT_WRITE alone as -w-, as Linux); what the
 * MMU makes of it (x86: write and exec imply read) is the pmap's affair. */
static vm_prot_t prot_to_vm(long prot)
{
        vm_prot_t p = VM_PROT_NONE;

        if (prot & PROT_READ)
                p |= VM_PROT_READ;
        if (prot & PROT_WRITE)
                p |= VM_PROT_WRITE;
        if (prot & PROT_EXEC)
                p |= VM_PROT_EXEC;
        return p;
}

static unsigned flags_to_vm(long flags)
{
        unsigned f = (flags & MAP_TYPE) == MAP_PRIVATE ? VM_MAP_PRIVATE
                   : (flags & MAP_TYPE) == MAP_DROPPABLE
                   ? VM_MAP_PRIVATE | VM_MAP_DROPPABLE : VM_MAP_SHARED;

        if (flags & MAP_FIXED)
                f |= VM_MAP_FIXED;
        else if (flags & MAP_FIXED_NOREPLACE)
                f |= VM_MAP_FIXED_NOREPLACE;
        if (flags & MAP_NORESERVE)
                f |= VM_MAP_NORESERVE;
        if (flags & MAP_POPULATE)
                f |= VM_MAP_POPULATE;
        if (flags & MAP_GROWSDOWN)
                f |= VM_MAP_GROWSDOWN;
        return f;
}

#define O_ACCMODE 3
#define O_WRONLY  1
#define O_RDWR    2

bool file_is_dev_zero(const struct file *f);

/*
 * Map the file open at fd: its page-cache object (CONCEPTS E23), shared by
 * every mapping of the file and by read()/write(). MAP_PRIVATE writes
 * copy; a writable MAP_SHARED mapping needs the file open read-write
 * (EACCES otherwise, as Linux), and may be made writable later by
 * mprotect only then. /dev/zero maps anonymous memory.
 */
/*
 * A file of huge pages (a MFD_HUGETLB memfd): the offset must be
 * huge-aligned (EINVAL), the length is rounded up, the huge pages of the
 * range the file has neither resident nor reserved are reserved first
 * (ENOMEM), and a writable mapping past the end grows the file, as
 * Linux's hugetlbfs_file_mmap. MAP_PRIVATE maps the file's pages shared
 * as well (Linux copies them on write; not done here).
 */
static vm_status_t hugetlb_place(vaddr_t *addr, uint64_t len, long flags,
                                 unsigned *vmflags);

static long map_hugetlb_file(struct file *f, struct vnode *vn, vaddr_t hint,
                             uint64_t len, long prot, long flags, uint64_t off,
                             vaddr_t *out)
{
        struct vm_object *obj = vn->obj;
        uint64_t huge = pmap_huge_size(), n = huge >> PAGE_SHIFT, need = 0;
        unsigned vmflags = VM_MAP_SHARED;
        vm_status_t st;

        if (off & (huge - 1))
                return -EINVAL;
        len = (len + huge - 1) & ~(huge - 1);
        if ((flags & MAP_TYPE) == MAP_PRIVATE || (f->flags & O_ACCMODE) == O_RDWR)
                vmflags |= VM_MAP_MAYWRITE;
        else if (prot & PROT_WRITE)
                return -EACCES;
        if ((st = hugetlb_place(&hint, len, flags, &vmflags)) != VM_OK)
                return status_to_errno(st);
        for (uint64_t i = off >> PAGE_SHIFT; i < (off + len) >> PAGE_SHIFT; i += n)
                need += !vm_object_lookup(obj, i);
        need = need > obj->hugetlb_resv ? need - obj->hugetlb_resv : 0;
        if (flags & MAP_NORESERVE)
                need = 0;
        if (need && hugetlb_reserve(need) != VM_OK)
                return -ENOMEM;
        obj->hugetlb_resv += need;
        st = vm_space_map_file(current->space, hint, len, prot_to_vm(prot),
                               vmflags, obj, off, out);
        if (st != VM_OK) {
                obj->hugetlb_resv -= need;
                hugetlb_unreserve(need);
                return status_to_errno(st);
        }
        if ((prot & PROT_WRITE) && vn->size < off + len)
                vn->size = off + len;
        return 0;
}

static long map_file(long fd, vaddr_t hint, uint64_t len, long prot,
                     long flags, uint64_t off, vaddr_t *out)
{
        struct file *f = fd_get((int)fd);
        struct vnode *vn = f ? file_vnode(f) : NULL;
        unsigned vmflags = flags_to_vm(flags);

        if (!f || (f->flags & 010000000))       /* O_PATH */
                return -EBADF;
        if ((f->flags & O_ACCMODE) == O_WRONLY)
                return -EACCES;
        if (file_is_dev_zero(f) && (flags & MAP_TYPE) != MAP_PRIVATE &&
            (f->flags & O_ACCMODE) != O_RDWR) {
                /* Shared, from a descriptor not open for writing: never
                 * writable, not even by mprotect (Linux: no VM_MAYWRITE). */
                struct vm_object *obj;
                if (prot & PROT_WRITE)
                        return -EACCES;
                if ((len >> PAGE_SHIFT) > VM_OBJECT_MAX_PAGES)
                        return -ENOMEM;
                vm_status_t st = vm_object_create_anon(len >> PAGE_SHIFT, &obj);
                if (st != VM_OK)
                        return -ENOMEM;
                obj->huge_policy = &vm_shmem_internal_huge;
                st = vm_space_map_object(current->space, hint, len,
                                         prot_to_vm(prot), vmflags, obj, out);
                vm_object_unref(obj);
                return status_to_errno(st);
        }
        if (file_is_dev_zero(f)) {
                vm_status_t st = vm_space_map(current->space, hint, len,
                                              prot_to_vm(prot), vmflags, out);
                return status_to_errno(st);
        }
        if (!vn || !S_ISREG(vn->mode) || !vn->obj)
                return -ENODEV;                 /* console, pipe, directory */
        if (vn->obj->hugetlb)
                return map_hugetlb_file(f, vn, hint, len, prot, flags, off, out);
        if ((off >> PAGE_SHIFT) + (len >> PAGE_SHIFT) < (off >> PAGE_SHIFT))
                return -EOVERFLOW;
        if ((flags & MAP_TYPE) != MAP_PRIVATE && (f->flags & O_ACCMODE) == O_RDWR &&
            !(vn->seals & 0x8))                 /* F_SEAL_WRITE */
                vmflags |= VM_MAP_MAYWRITE;
        if ((flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_WRITE) &&
            (vn->seals & 0x8))
                return -EPERM;
        vm_status_t st = VM_ENOMEM;
        vaddr_t at;

        /* A tmpfs or memfd file that may get huge pages: at an address
         * whose offset in a huge page is the file offset's (Linux's
         * shmem_get_unmapped_area, for shared and private mappings). */
        if (!hint && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) &&
            vm_shmem_huge_possible(vn->obj->huge_policy) &&
            (at = vm_space_huge_place(current->space, len, off >> PAGE_SHIFT)))
                st = vm_space_map_file(current->space, at, len,
                                       prot_to_vm(prot),
                                       vmflags | VM_MAP_FIXED_NOREPLACE,
                                       vn->obj, off, out);
        if (st != VM_OK)
                st = vm_space_map_file(current->space, hint, len,
                                       prot_to_vm(prot), vmflags, vn->obj,
                                       off, out);
        if (st == VM_OK)
                vfs_name_object(vn, false);     /* for /proc/PID/maps */
        return status_to_errno(st);
}

/*
 * An anonymous private mapping whose length is a multiple of the huge page
 * size, with no address asked for, starts on a huge-page boundary so that
 * it can use huge pages (Linux's thp_get_unmapped_area for anonymous
 * memory): a place for len plus one huge page is found, then the mapping
 * goes at its first aligned address, or, if the place is aligned already,
 * one huge page up, as Linux does top-down. Where there is no such place,
 * the ordinary placement.
 */
static vm_status_t map_anon(vaddr_t addr, uint64_t len, long prot, long flags,
                            vaddr_t *out)
{
        struct vm_space *sp = current->space;
        uint64_t huge = pmap_huge_size();
        vaddr_t at;

        if (!addr && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN)) &&
            (flags & MAP_TYPE) == MAP_PRIVATE && vm_thp_policy != VM_THP_NEVER &&
            len % huge == 0 &&
            vm_space_map(sp, 0, len + huge, VM_PROT_NONE,
                         VM_MAP_PRIVATE | VM_MAP_NORESERVE, &at) == VM_OK) {
                (void)vm_space_unmap(sp, at, len + huge);  /* just mapped */
                /* Top-down, a place already aligned takes the upper end,
                 * next to the mapping above (Linux's
                 * thp_get_unmapped_area_vmflags), so that consecutive
                 * mappings meet and merge. */
                addr = (at & (huge - 1)) ? (at + huge - 1) & ~(vaddr_t)(huge - 1)
                                         : at + huge;
                return vm_space_map(sp, addr, len, prot_to_vm(prot),
                                    flags_to_vm(flags) | VM_MAP_FIXED_NOREPLACE,
                                    out);
        }
        /* Shared anonymous memory that may get huge pages: aligned as
         * shmem's (vm_space_huge_place), when len is at least a huge
         * page. */
        if (!addr && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN)) &&
            (flags & MAP_TYPE) != MAP_PRIVATE &&
            vm_shmem_huge_possible(&vm_shmem_internal_huge) &&
            (at = vm_space_huge_place(sp, len, 0)) &&
            vm_space_map(sp, at, len, prot_to_vm(prot),
                         flags_to_vm(flags) | VM_MAP_FIXED_NOREPLACE,
                         out) == VM_OK)
                return VM_OK;
        return vm_space_map(sp, addr, len, prot_to_vm(prot), flags_to_vm(flags), out);
}

/*
 * MAP_HUGETLB anonymous memory (vm/hugetlb.h): an object of pool pages,
 * its length rounded up to the huge size, at a huge-aligned address (a
 * MAP_FIXED address that is not: EINVAL), every huge page of it reserved
 * in the pool first unless MAP_NORESERVE (ENOMEM if the pool cannot), as
 * Linux's hugetlb_file_setup. A MAP_PRIVATE one is one object of its own
 * too: a fork shares its pages with the child instead of copying them on
 * write (Linux copies; not done here).
 */
/*
 * Where a hugetlb mapping of len (a multiple of the huge size) goes: a
 * MAP_FIXED address must be huge-aligned (VM_EINVAL); otherwise the first
 * aligned address of a place for len plus one huge page. *vmflags gets
 * the placement flags for vm_space_map_*.
 */
static vm_status_t hugetlb_place(vaddr_t *addr, uint64_t len, long flags,
                                 unsigned *vmflags)
{
        struct vm_space *sp = current->space;
        uint64_t huge = pmap_huge_size();
        vm_status_t st;
        vaddr_t at;

        if (flags & MAP_POPULATE)
                *vmflags |= VM_MAP_POPULATE;
        if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
                if (*addr & (huge - 1))
                        return VM_EINVAL;
                *vmflags |= flags & MAP_FIXED ? VM_MAP_FIXED : VM_MAP_FIXED_NOREPLACE;
                return VM_OK;
        }
        st = vm_space_map(sp, 0, len + huge, VM_PROT_NONE,
                          VM_MAP_PRIVATE | VM_MAP_NORESERVE, &at);
        if (st != VM_OK)
                return st;
        (void)vm_space_unmap(sp, at, len + huge);
        *addr = (at + huge - 1) & ~(vaddr_t)(huge - 1);
        *vmflags |= VM_MAP_FIXED_NOREPLACE;
        return VM_OK;
}

static vm_status_t map_hugetlb(vaddr_t addr, uint64_t len, long prot,
                               long flags, vaddr_t *out)
{
        struct vm_space *sp = current->space;
        uint64_t huge = pmap_huge_size();
        unsigned vmflags = VM_MAP_SHARED | VM_MAP_MAYWRITE;
        struct vm_object *obj;
        vm_status_t st;

        len = (len + huge - 1) & ~(huge - 1);
        if ((st = hugetlb_place(&addr, len, flags, &vmflags)) != VM_OK)
                return st;
        /* MAP_FIXED: what it replaces goes first, its reservations with
         * it, before the new mapping reserves (as Linux's mmap_region). */
        if ((flags & MAP_FIXED) && (st = vm_space_unmap(sp, addr, len)) != VM_OK)
                return st;
        st = hugetlb_object_create(len, !(flags & MAP_NORESERVE), &obj);
        if (st != VM_OK)
                return st;
        obj->hugetlb_private = (flags & MAP_TYPE) == MAP_PRIVATE;
        st = vm_space_map_object(sp, addr, len, prot_to_vm(prot), vmflags, obj,
                                 out);
        vm_object_unref(obj);           /* the area holds it now, or none */
        return st;
}

/* mmap(addr, len, prot, flags, fd, off). */
#define LOCK_FLAGS      (VM_AREA_LOCKED | VM_AREA_LOCKONFAULT)
static long lock_populate(uint64_t start, uint64_t len, unsigned lock);
static bool may_lock(void);
static bool lock_fits(uint64_t pages);
static void lock_new_range(uint64_t start, uint64_t len, unsigned lock);

#ifdef MACHINE_CPU_LOCAL
/*
 * The common mmap without the big lock (vm_space_map_nolock): private
 * anonymous memory, no flag but MAP_NORESERVE and MAP_STACK, nothing the
 * checks below would refuse (a length from a page to TASK_SIZE, known
 * protection bits), no finite RLIMIT_AS or RLIMIT_DATA (their measure
 * walks the areas), and no huge-page alignment to find (map_anon's
 * placement for lengths in huge pages). => false: the lock's path.
 */
static bool map_anon_nolock(uint64_t addr, uint64_t len, long prot,
                            long flags, long off, vaddr_t *out)
{
        const struct rlimits *r = &current->rlim;
        uint64_t rlen = page_round(len);

        if ((flags & ~(long)(MAP_NORESERVE | MAP_STACK)) !=
                    (MAP_PRIVATE | MAP_ANONYMOUS) ||
            (prot & ~(long)(PROT_READ | PROT_WRITE | PROT_EXEC)) || off ||
            len == 0 || len > TASK_SIZE || rlen > TASK_SIZE ||
            r->lim[RLIMIT_AS].cur != RLIM_INFINITY ||
            r->lim[RLIMIT_DATA].cur != RLIM_INFINITY ||
            (vm_thp_policy != VM_THP_NEVER && rlen % pmap_huge_size() == 0))
                return false;
        return vm_space_map_nolock(current->space, page_trunc(addr), rlen,
                                   prot_to_vm(prot), flags_to_vm(flags), out);
}
#endif

SYSCALL_DECL(mmap)
{
        uint64_t addr = (uint64_t)a0, len = (uint64_t)a1;
        long prot = a2, flags = a3, fd = a4, off = a5;
        vaddr_t out;

#ifdef MACHINE_CPU_LOCAL
        /* As munmap and mprotect: without the big lock where it may. */
        if (map_anon_nolock(addr, len, prot, flags, off, &out))
                return (long)out;
        proc_kernel_lock_entered();
#endif

        if (off & PAGE_MASK)
                return -EINVAL;
        /* Linux looks the descriptor up before the other checks. */
        if (!(flags & MAP_ANONYMOUS)) {
                struct file *f = fd_get((int)fd);
                if (!f || (f->flags & 010000000))       /* O_PATH */
                        return -EBADF;
        }
        if (len == 0)
                return -EINVAL;
        switch (flags & MAP_TYPE) {
        case MAP_SHARED: case MAP_PRIVATE: break;
        case MAP_SHARED_VALIDATE:
                if (flags & MAP_ANONYMOUS)      /* Linux: anonymous has none */
                        return -EINVAL;
                if (flags & ~(long)MAP_KNOWN)
                        return -EOPNOTSUPP;
                break;
        case MAP_DROPPABLE:
                /* Anonymous only; neither locked nor a stack (Linux). */
                if (!(flags & MAP_ANONYMOUS) ||
                    (flags & (MAP_LOCKED | MAP_GROWSDOWN)))
                        return -EINVAL;
                break;
        default: return -EINVAL;
        }
        if (len > TASK_SIZE || page_round(len) > TASK_SIZE)
                return -ENOMEM;
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && (addr & PAGE_MASK))
                return -EINVAL;
        if ((flags & MAP_FIXED) && addr > TASK_SIZE - page_round(len))
                return -ENOMEM;
        /* Below mmap_min_addr: what Linux tells a program without
         * CAP_SYS_RAWIO (root may map there on Linux; nobody may here). */
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && addr < USER_MIN)
                return -EPERM;
        /* RLIMIT_AS and RLIMIT_DATA (private writable memory). A
         * MAP_FIXED over existing areas is charged in full. */
        bool data = (prot & PROT_WRITE) && ((flags & MAP_TYPE) == MAP_PRIVATE ||
                                            (flags & MAP_TYPE) == MAP_DROPPABLE);
        long lerr = rlimit_vm_grow(page_round(len), data ? page_round(len) : 0);
        if (lerr)
                return lerr;
        /* MAP_LOCKED, or mlockall(MCL_FUTURE): Linux's mlock_future_ok. */
        unsigned lock = flags & MAP_LOCKED ? VM_AREA_LOCKED : current->space->lock_future;
        if ((flags & MAP_LOCKED) && !may_lock())
                return -EPERM;
        if (lock && !lock_fits(page_round(len) >> PAGE_SHIFT))
                return -EAGAIN;
        vm_status_t st;
        if ((flags & (MAP_ANONYMOUS | MAP_HUGETLB)) == (MAP_ANONYMOUS | MAP_HUGETLB)) {
                if (!hugetlb_size_log_ok((flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK))
                        return -EINVAL;
                st = map_hugetlb(addr, len, prot, flags, &out);
        } else if (flags & MAP_ANONYMOUS)
                st = map_anon(page_trunc(addr), page_round(len), prot, flags, &out);
        else {
                long err = map_file(fd, page_trunc(addr), page_round(len),
                                    prot, flags, (uint64_t)off, &out);
                if (err)
                        return err;
                st = VM_OK;
        }
        if (st != VM_OK)
                return status_to_errno(st);
        lock_new_range(out, page_round(len), lock);
        return (long)out;
}

/* Would a cut at va split an area of explicit huge pages inside a huge
 * page? Linux refuses such splits (hugetlb_vm_op_split): munmap and
 * mprotect are EINVAL. */
static bool hugetlb_cut_inside(vaddr_t va)
{
        const struct vm_area *a = vm_space_lookup(current->space, va);

        return a && a->start < va && a->object && a->object->hugetlb &&
               (va & (pmap_huge_size() - 1));
}

SYSCALL_DECL(munmap)
{
        uint64_t addr = (uint64_t)a0, len = page_round((uint64_t)a1);

        if ((addr & PAGE_MASK) || a1 == 0 || len > TASK_SIZE ||
            addr > TASK_SIZE - len)
                return -EINVAL;
#ifdef MACHINE_CPU_LOCAL
        /* As mprotect: without the big lock where the unmap allows. */
        if (vm_space_unmap_nolock(current->space, addr, len))
                return 0;
        proc_kernel_lock_entered();
#endif
        if (hugetlb_cut_inside(addr) || hugetlb_cut_inside(addr + len))
                return -EINVAL;
        return status_to_errno(vm_space_unmap(current->space, addr, len));
}

SYSCALL_DECL(mprotect)
{
        uint64_t addr = (uint64_t)a0, len = page_round((uint64_t)a1);

        if ((addr & PAGE_MASK) || !prot_valid(a2))
                return -EINVAL;
        if (a1 == 0)
                return 0;
        if (len < (uint64_t)a1 || addr + len < addr)
                return -ENOMEM;
        if (addr + len > TASK_SIZE)
                return -ENOMEM;
#ifdef MACHINE_CPU_LOCAL
        /* Without the big lock (SYSCALL_NO_LOCK) where the change allows
         * (vm_space.h); else under it, the thread's space entered. */
        if (vm_space_protect_nolock(current->space, addr, len, prot_to_vm(a2)))
                return 0;
        proc_kernel_lock_entered();
#endif
        if (hugetlb_cut_inside(addr) || hugetlb_cut_inside(addr + len))
                return -EINVAL;
        vm_status_t st = vm_space_protect(current->space, addr, len, prot_to_vm(a2));
        if (st != VM_OK)
                return status_to_errno(st);
        /* Locked private memory made writable gets its own pages now, as
         * Linux's mprotect_fixup populates it (no write fault later). */
        for (uint64_t va = addr; (a2 & PROT_WRITE) && va < addr + len;) {
                const struct vm_area *a = vm_space_lookup(current->space, va);
                if (!a)
                        break;
                uint64_t end = MIN(a->end, addr + len);
                if (!(a->flags & VM_AREA_SHARED))
                        (void)lock_populate(va, end - va, a->flags & LOCK_FLAGS);
                va = end;
        }
        return 0;
}

/* brk returns the new break, or the old one if it could not move. */
SYSCALL_DECL(brk)
{
        vaddr_t result;

        struct vm_space *sp = current->space;
        uint64_t want = page_round((uint64_t)a0), have = page_round(sp->brk);

        /* Growing the heap counts against RLIMIT_AS and RLIMIT_DATA;
         * refused, brk stays where it was (Linux's answer). */
        if (a0 && (uint64_t)a0 > sp->brk && want > have &&
            rlimit_vm_grow(want - have, want - have))
                return (long)sp->brk;
        if (a0 && want > have && sp->lock_future &&
            !lock_fits((want - have) >> PAGE_SHIFT))
                return (long)sp->brk;
        vm_space_brk(sp, (vaddr_t)a0, &result);
        if (sp->lock_future && page_round(result) > have)
                lock_new_range(have, page_round(result) - have, sp->lock_future);
        return (long)result;
}

#define MREMAP_MAYMOVE  1
#define MREMAP_FIXED    2
#define MREMAP_DONTUNMAP 4

/* mremap(old, old_len, new_len, flags, new_addr). */
SYSCALL_DECL(mremap)
{
        uint64_t old = (uint64_t)a0, old_len = (uint64_t)a1, new_len = (uint64_t)a2;
        unsigned flags = 0;
        vaddr_t out;

        if ((old & PAGE_MASK) ||
            (a3 & ~(long)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)))
                return -EINVAL;
        if ((a3 & MREMAP_FIXED) && !(a3 & MREMAP_MAYMOVE))
                return -EINVAL;
        if (page_round(old_len) < old_len || page_round(new_len) < new_len ||
            new_len == 0)
                return -EINVAL;
        if (page_round(new_len) > page_round(old_len) &&
            rlimit_vm_grow(page_round(new_len) - page_round(old_len), 0))
                return -ENOMEM;         /* RLIMIT_AS */
        if ((a3 & MREMAP_DONTUNMAP) && page_round(new_len) == page_round(old_len) &&
            rlimit_vm_grow(page_round(new_len), 0))
                return -ENOMEM;         /* the old range stays mapped */
        if (a3 & MREMAP_MAYMOVE)
                flags |= VM_REMAP_MAYMOVE;
        if (a3 & MREMAP_FIXED)
                flags |= VM_REMAP_FIXED;
        if (a3 & MREMAP_DONTUNMAP)
                flags |= VM_REMAP_DONTUNMAP;
        /* A locked area grows locked: within RLIMIT_MEMLOCK (EAGAIN, as
         * Linux), and its new part is brought in. */
        const struct vm_area *a = vm_space_lookup(current->space, old);
        unsigned lock = a ? a->flags & LOCK_FLAGS : 0;
        uint64_t grow = page_round(new_len) > page_round(old_len)
                        ? page_round(new_len) - page_round(old_len) : 0;
        if (grow && lock && !lock_fits(grow >> PAGE_SHIFT))
                return -EAGAIN;
        vm_status_t st = vm_space_remap(current->space, old, page_round(old_len),
                                        page_round(new_len), flags,
                                        (vaddr_t)a4, &out);
        if (st != VM_OK)
                return status_to_errno(st);
        if (grow)
                (void)lock_populate(out + page_round(old_len), grow, lock);
        return (long)out;
}

/* madvise: the advice the VM really honours (vm_advice_supported);
 * anything else is EINVAL, as Linux says for advice it does not know. */
SYSCALL_DECL(madvise)
{
        uint64_t addr = (uint64_t)a0, len = page_round((uint64_t)a1);

        if ((addr & PAGE_MASK) || len < (uint64_t)a1 || !vm_advice_supported((int)a2))
                return -EINVAL;
        if (a1 == 0)
                return 0;
        if (addr + len < addr || addr + len > TASK_SIZE)
                return -ENOMEM;
        return status_to_errno(vm_space_advise(current->space, addr, len,
                                                 (int)a2));
}

/* mseal (Linux 6.10): vm_space_seal. */
SYSCALL_DECL(mseal)
{
        return status_to_errno(vm_space_seal(current->space, (uint64_t)a0,
                                             (uint64_t)a1, (unsigned long)a2));
}

/*
 * mincore(start, len, vec): a byte per page of [start, start + len), bit 0
 * set if the page is resident (vm_space_residency). Linux's order:
 * EINVAL for a misaligned start, ENOMEM for a range outside user space,
 * EFAULT for a vector outside it; then, chunk by chunk, ENOMEM at the
 * first unmapped page (the bytes before it are written) and EFAULT if the
 * vector cannot be written.
 */
SYSCALL_DECL(mincore)
{
        uint64_t start = (uint64_t)a0, len = (uint64_t)a1, vec = (uint64_t)a2;
        uint8_t buf[256];

        if (start & PAGE_MASK)
                return -EINVAL;
        if (!user_range_ok(start, len))
                return -ENOMEM;
        uint64_t pages = (len >> PAGE_SHIFT) + ((len & PAGE_MASK) != 0);
        if (!user_range_ok(vec, pages))
                return -EFAULT;
        while (pages) {
                uint64_t n = vm_space_residency(current->space, start,
                                                pages < sizeof buf ? pages
                                                                   : sizeof buf,
                                                buf);
                if (n == 0)
                        return -ENOMEM;
                if (copy_to_user(vec, buf, n))
                        return -EFAULT;
                vec += n;
                start += n << PAGE_SHIFT;
                pages -= n;
        }
        return 0;
}

#define MLOCK_ONFAULT   1
#define MCL_CURRENT     1
#define MCL_FUTURE      2
#define MCL_ONFAULT     4

/* Is every page of [start, start + len) in some area? How many of its
 * pages are locked already (*locked, if not NULL)? */
static bool range_mapped(uint64_t start, uint64_t len, uint64_t *locked)
{
        uint64_t n = 0;

        for (uint64_t va = start; va < start + len;) {
                const struct vm_area *a = vm_space_lookup(current->space, va);
                if (!a || a->start > va)
                        return false;
                uint64_t end = MIN(a->end, start + len);
                if (a->flags & VM_AREA_LOCKED)
                        n += (end - va) >> PAGE_SHIFT;
                va = end;
        }
        if (locked)
                *locked = n;
        return true;
}

/* Linux's can_do_mlock: a limit of 0 forbids locking without CAP_IPC_LOCK. */
static bool may_lock(void)
{
        return current->rlim.lim[RLIMIT_MEMLOCK].cur != 0 ||
               current_capable(CAP_IPC_LOCK);
}

/* Would pages more locked pages stay within RLIMIT_MEMLOCK? */
static bool lock_fits(uint64_t pages)
{
        uint64_t limit = current->rlim.lim[RLIMIT_MEMLOCK].cur;

        if (current_capable(CAP_IPC_LOCK) || limit == RLIM_INFINITY)
                return true;
        return vm_space_locked_pages(current->space) + pages <= limit >> PAGE_SHIFT;
}

/* Bring a locked range in, unless it locks on fault. => 0 or an errno. */
static long lock_populate(uint64_t start, uint64_t len, unsigned lock)
{
        if (!(lock & VM_AREA_LOCKED) || (lock & VM_AREA_LOCKONFAULT))
                return 0;
        switch (vm_space_populate(current->space, start, len)) {
        case VM_OK:     return 0;
        case VM_ENOMEM: return -EAGAIN;         /* Linux: memory short */
        default:        return -ENOMEM;         /* a hole, or past EOF */
        }
}

/*
 * mlock, mlock2, munlock: the areas of the range are marked locked
 * (vm_space_set_lock: VmLck, smaps' Locked and "lo", madvise and msync
 * refusals) and, unless MLOCK_ONFAULT, faulted in. RLIMIT_MEMLOCK bounds
 * the pages locked in the whole space, as Linux's locked_vm, for a
 * process without CAP_IPC_LOCK. Reclaim goes through the reverse map,
 * which never unmaps a page a locked area maps (vm/vm_rmap.h).
 */
static long do_mlock(uint64_t addr, uint64_t len, unsigned lock)
{
        uint64_t start = page_trunc(addr);
        uint64_t rlen = page_round(len + (addr & PAGE_MASK));
        uint64_t already = 0;

        if (start + rlen < start)
                return -EINVAL;
        if (lock && !may_lock())
                return -EPERM;
        if (rlen == 0)
                return 0;
        if (!range_mapped(start, rlen, &already))
                return -ENOMEM;
        if (lock && !lock_fits((rlen >> PAGE_SHIFT) - already))
                return -ENOMEM;
        vm_status_t st = vm_space_set_lock(current->space, start, rlen, lock);
        if (st != VM_OK)
                return status_to_errno(st);
        return lock_populate(start, rlen, lock);
}

SYSCALL_DECL(mlock)
{
        return do_mlock((uint64_t)a0, (uint64_t)a1, VM_AREA_LOCKED);
}

SYSCALL_DECL(mlock2)
{
        if ((unsigned)a2 & ~(unsigned)MLOCK_ONFAULT)
                return -EINVAL;
        return do_mlock((uint64_t)a0, (uint64_t)a1, VM_AREA_LOCKED |
                        ((unsigned)a2 & MLOCK_ONFAULT ? VM_AREA_LOCKONFAULT : 0));
}

SYSCALL_DECL(munlock)
{
        return do_mlock((uint64_t)a0, (uint64_t)a1, 0);
}

/*
 * mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): MCL_CURRENT locks every
 * area now (bounded by RLIMIT_MEMLOCK against the whole space's size, as
 * Linux's total_vm check), MCL_FUTURE every area mapped from now on (mmap,
 * brk: see lock_new_range); MCL_ONFAULT makes either lock on fault.
 */
SYSCALL_DECL(mlockall)
{
        unsigned flags = (unsigned)a0;
        struct vm_space *sp = current->space;
        unsigned lock = VM_AREA_LOCKED | (flags & MCL_ONFAULT ? VM_AREA_LOCKONFAULT : 0);

        if (!flags || (flags & ~(unsigned)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) ||
            flags == MCL_ONFAULT)
                return -EINVAL;
        if (!may_lock())
                return -EPERM;
        if ((flags & MCL_CURRENT) && !current_capable(CAP_IPC_LOCK) &&
            current->rlim.lim[RLIMIT_MEMLOCK].cur != RLIM_INFINITY &&
            sp->areas.pages > current->rlim.lim[RLIMIT_MEMLOCK].cur >> PAGE_SHIFT)
                return -ENOMEM;
        sp->lock_future = flags & MCL_FUTURE ? lock : 0;
        if (flags & MCL_CURRENT) {
                vm_space_set_lock_all(sp, lock);
                vm_space_populate_locked(sp);
        }
        return 0;
}

SYSCALL_DECL(munlockall)
{
        current->space->lock_future = 0;
        vm_space_set_lock_all(current->space, 0);
        return 0;
}

/*
 * A range just mapped (mmap, brk) under MAP_LOCKED or mlockall's
 * MCL_FUTURE: lock it and bring it in; a failure to bring pages in is
 * not the mapping's failure (Linux ignores mm_populate's result there).
 */
static void lock_new_range(uint64_t start, uint64_t len, unsigned lock)
{
        if (!lock || vm_space_set_lock(current->space, start, len, lock) != VM_OK)
                return;
        (void)lock_populate(start, len, lock);
}

#define MS_ASYNC        1
#define MS_INVALIDATE   2
#define MS_SYNC         4

/*
 * msync: the call checks its arguments and the range as Linux does.
 * EINVAL: misaligned start, unknown flags, MS_SYNC with MS_ASYNC; ENOMEM:
 * part of the range is not mapped; EBUSY: MS_INVALIDATE over a locked
 * area. A shared mapping of a disk file (ext2) is written back with
 * MS_SYNC; tmpfs has nothing to write, the cache being the file.
 */
SYSCALL_DECL(msync)
{
        uint64_t addr = (uint64_t)a0, len = page_round((uint64_t)a1);
        int flags = (int)a2;

        if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
                return -EINVAL;
        if ((addr & PAGE_MASK) || ((flags & MS_ASYNC) && (flags & MS_SYNC)))
                return -EINVAL;
        if (len < (uint64_t)a1 || addr + len < addr)
                return -ENOMEM;
        for (uint64_t va = addr; va < addr + len;) {
                const struct vm_area *a = vm_space_lookup(current->space, va);
                if (!a)
                        return -ENOMEM;
                if ((flags & MS_INVALIDATE) && (a->flags & VM_AREA_LOCKED))
                        return -EBUSY;
                va = a->end;
        }
        if (!(flags & MS_SYNC))
                return 0;
        for (uint64_t va = addr; va < addr + len;) {
                const struct vm_area *a = vm_space_lookup(current->space, va);
                struct vm_object *o = a ? a->object : NULL;
                if (!a)
                        break;
                if (o && o->pager_ops) {      /* shared: private ones own anonymous objects */
                        long err = o->pager_ops->sync(o);
                        if (err)
                                return err == -ENOSPC ? -ENOSPC : -EIO;
                }
                va = a->end;
        }
        return 0;
}
