/*
 * linux_ipc.h (generic64) - the layouts of SysV shared memory that 64-bit
 * Linux shares through asm-generic (ipcbuf.h, shmbuf.h; x86-64's and
 * riscv64's are these): what shmctl copies in and out. A 32-bit
 * architecture splits the times into halves, so it brings its own
 * machine/linux_ipc.h, found before this directory.
 */
#ifndef MACHINE_LINUX_IPC_H
#define MACHINE_LINUX_IPC_H

#include <mercator/types.h>

struct linux_ipc64_perm {
        int32_t  key;
        uint32_t uid, gid, cuid, cgid;
        uint32_t mode;
        uint16_t seq;
        uint16_t pad2;
        uint64_t unused1, unused2;
};

struct linux_shmid64_ds {
        struct linux_ipc64_perm shm_perm;
        uint64_t shm_segsz;
        int64_t  shm_atime, shm_dtime, shm_ctime;
        int32_t  shm_cpid, shm_lpid;
        uint64_t shm_nattch;
        uint64_t unused4, unused5;
};

struct linux_shminfo64 {
        uint64_t shmmax, shmmin, shmmni, shmseg, shmall;
        uint64_t unused1, unused2, unused3, unused4;
};

struct linux_shm_info {
        int32_t  used_ids;
        uint64_t shm_tot, shm_rss, shm_swp;
        uint64_t swap_attempts, swap_successes;
};

_Static_assert(sizeof(struct linux_shmid64_ds) == 112, "shmid64_ds");
_Static_assert(sizeof(struct linux_shminfo64) == 72, "shminfo64");
_Static_assert(sizeof(struct linux_shm_info) == 48, "shm_info");

#endif
