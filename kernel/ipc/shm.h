/*
 * shm.h - System V shared memory (CONCEPTS E23): segments named by a key
 * or private, each one shared anonymous object of the VM (vm_object.h),
 * attached into address spaces as shared areas (vm_space_map_object()).
 *
 * A segment is the object plus its IPC bookkeeping (owner, mode, times,
 * pids). Its attachment count is not kept by hand: every area that maps
 * the object holds one reference to it, so shm_nattch is the object's
 * reference count less the segment's own - and fork (whose child areas
 * take references), munmap, mremap, exec and exit (which drop areas) keep
 * it right without telling this module. Linux counts areas too (shm_open
 * on every vma copy), so a split attachment counts twice on both.
 *
 * Removal (IPC_RMID): without attachments the segment goes at once.
 * Otherwise it is marked (SHM_DEST), loses its key, and gives up its own
 * reference; the object's on_free hook forgets the segment when the last
 * area goes. Until then shmat by id still works, as on Linux.
 *
 * Identifiers are Linux's: index + 32768 * sequence, indices handed out
 * cyclically over a window that grows with use, the sequence stepping
 * each time the indices wrap (ipc_idr_alloc's rule), so a stale id is
 * refused (EINVAL) rather than naming a new segment.
 *
 * Limits: shm_mni segments, shm_max bytes each, shm_all pages in all,
 * Linux's defaults until root writes /proc/sys/kernel/shm{mni,max,all}.
 *
 * The calls return what the system calls return: a value >= 0 or -errno,
 * Linux's for each case. The caller's identity comes in shm_caller, so the
 * core runs in the host tests over simulated RAM.
 * Locks: module state under the big kernel rule (one CPU, no preemption).
 */
#ifndef IPC_SHM_H
#define IPC_SHM_H

#include <mercator/types.h>

struct vm_space;
struct vm_object;

#define SHM_IPC_PRIVATE 0
#define SHM_IPC_CREAT   01000
#define SHM_IPC_EXCL    02000
#define SHM_HUGETLB     04000   /* pool pages (vm/hugetlb.h); the size
                                 * as log2 in bits 26-31, 0: default */
#define SHM_NORESERVE   010000  /* no commit charge (not in mode 2) */
#define SHM_IPC_RMID    0
#define SHM_IPC_SET     1
#define SHM_IPC_STAT    2
#define SHM_IPC_INFO    3
#define SHM_LOCK        11
#define SHM_UNLOCK      12
#define SHM_STAT        13
#define SHM_INFO        14
#define SHM_STAT_ANY    15

/* shmat flags and mode bits (Linux's). */
#define SHM_RDONLY      010000
#define SHM_RND         020000
#define SHM_REMAP       040000
#define SHM_EXEC        0100000
#define SHM_DEST        01000   /* in mode: marked for removal */
#define SHM_LOCKED      02000   /* in mode: SHM_LOCK */

#define SHM_MNI         4096UL                          /* SHMMNI */
#define SHM_MAX         (~0UL - (1UL << 24))            /* SHMMAX, bytes */
#define SHM_ALL         (~0UL - (1UL << 24))            /* SHMALL, pages */
#define SHM_MIN         1UL                             /* SHMMIN */
#define SHM_MNI_LIMIT   32768UL         /* kernel.shmmni at most: IPCMNI */

extern uint64_t shm_mni, shm_max, shm_all;      /* the limits in force */

/* Who is asking, and when. */
struct shm_caller {
        uint32_t uid, gid;      /* effective ids */
        int      pid;
        int64_t  now;           /* seconds since 1970 */
        bool     admin;         /* CAP_SYS_ADMIN / CAP_IPC_OWNER (root) */
        bool     huge_ok;       /* may make SHM_HUGETLB segments: Linux's
                                 * CAP_IPC_LOCK or a member of
                                 * vm.hugetlb_shm_group (group 0) */
        const struct vm_space *space;   /* the caller's, for the commit
                                         * policy (vm_commit.h); or NULL */
};

/* What IPC_STAT and SHM_STAT report (Linux's shmid64_ds, flattened). */
struct shm_stat {
        int32_t  key;
        uint32_t uid, gid, cuid, cgid, mode;
        uint16_t seq;
        uint64_t segsz;
        int64_t  atime, dtime, ctime;
        int32_t  cpid, lpid;
        uint64_t nattch;
};

/* What IPC_INFO and SHM_INFO report. */
struct shm_info {
        uint64_t shmmax, shmmin, shmmni, shmseg, shmall;  /* IPC_INFO */
        int32_t  used_ids;                                /* SHM_INFO */
        uint64_t shm_tot, shm_rss, shm_swp;               /* pages */
};

/*
 * shmget(key, size, flags): the id of the segment with key (or a new one,
 * IPC_CREAT; always new for IPC_PRIVATE). New segments take mode from
 * flags' low nine bits and are zero-filled; nothing is allocated per page
 * until a page is touched.
 * => -ENOENT no such key and no IPC_CREAT; -EEXIST IPC_CREAT|IPC_EXCL and
 *    the key exists; -EINVAL size < SHMMIN or > SHMMAX for a new segment,
 *    or larger than an existing one; -EACCES mode forbids flags' rights;
 *    -ENOSPC SHMMNI segments exist or SHMALL pages would be passed;
 *    -ENOMEM no memory for the descriptor or the object.
 */
long shm_get(const struct shm_caller *c, int32_t key, uint64_t size,
             int flags);

/*
 * shmat(id, addr, flags) into space: the whole segment (rounded up to
 * pages), read-write or read-only (SHM_RDONLY), at addr (SHM_RND rounds it
 * down to a page; SHM_REMAP replaces what is there, else an overlap is
 * -EINVAL) or where mmap(NULL) would put it. *out: the address.
 * => -EINVAL bad or stale id, misaligned addr without SHM_RND, SHM_REMAP
 *    without addr, overlap; -EACCES mode forbids it; -ENOMEM no room or
 *    memory; -EPERM below the lowest user address.
 */
long shm_attach(const struct shm_caller *c, struct vm_space *space, int id,
                uint64_t addr, int flags, uint64_t *out);

/*
 * shmdt(addr): unmap the attachment of a segment made at addr (the area
 * starting at addr that maps a segment from its page 0, and the other
 * pieces of the same attachment within the segment's size).
 * => 0, or -EINVAL if addr is misaligned or no attachment starts there.
 */
long shm_detach(const struct shm_caller *c, struct vm_space *space,
                uint64_t addr);

/*
 * shmctl for IPC_STAT, SHM_STAT, SHM_STAT_ANY (into *st; SHM_STAT* take an
 * index and return the id), IPC_SET (uid, gid, mode's low nine bits from
 * *st), IPC_RMID, SHM_LOCK, SHM_UNLOCK, IPC_INFO and SHM_INFO (into *info;
 * they return the highest index in use, or 0).
 * => -EINVAL bad id or index, unknown cmd; -EACCES read denied for STAT;
 *    -EPERM not owner, creator or admin for SET/RMID/(UN)LOCK.
 */
long shm_ctl(const struct shm_caller *c, int id, int cmd, struct shm_stat *st,
             struct shm_info *info);

/* Is obj a segment's object? If so, *id gets the segment's id. */
bool shm_object_id(const struct vm_object *obj, int *id);

/* Segment descriptors alive (for leak checks). */
uint64_t shm_count(void);
/* Pages of SHM_HUGETLB segments (in SHM_INFO's shm_rss, as Linux's;
 * not shmem in /proc/meminfo). */
uint64_t shm_hugetlb_resident(void);

/*
 * /proc/sysvipc/shm: the header line and one line per segment into buf,
 * Linux's format. => the length (truncated at size - 1).
 */
size_t shm_proc_show(char *buf, size_t size);

/* Forget every segment (host tests, after re-creating simulated RAM). */
void shm_init(void);

/* The system is going down (init exits): every segment is removed, as by
 * IPC_RMID, so what no process maps any more is freed and the memory
 * check at init's exit counts it back. */
void shm_shutdown(void);

#endif
