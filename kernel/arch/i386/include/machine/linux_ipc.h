/*
 * linux_ipc.h (i386) - SysV shared memory's layouts on i386 Linux
 * (asm-generic ipcbuf.h and shmbuf.h with a 32-bit long): the times are
 * split into a low and a high word, which on a little-endian machine is
 * one unaligned 64-bit field; the mode is a 16-bit mode_t padded to 32.
 * glibc passes shmctl's cmd with IPC_64 (0x100), which sys_ipc strips.
 */
#ifndef MACHINE_LINUX_IPC_H
#define MACHINE_LINUX_IPC_H

#include <mercator/types.h>

struct linux_ipc64_perm {
        int32_t  key;
        uint32_t uid, gid, cuid, cgid;
        uint32_t mode;                  /* mode_t (16 bits) and its pad */
        uint16_t seq;
        uint16_t pad2;
        uint32_t unused1, unused2;
} __attribute__((packed, aligned(4)));

struct linux_shmid64_ds {
        struct linux_ipc64_perm shm_perm;
        uint32_t shm_segsz;
        int64_t  shm_atime, shm_dtime, shm_ctime;       /* low, high */
        int32_t  shm_cpid, shm_lpid;
        uint32_t shm_nattch;
        uint32_t unused4, unused5;
} __attribute__((packed, aligned(4)));

struct linux_shminfo64 {
        uint32_t shmmax, shmmin, shmmni, shmseg, shmall;
        uint32_t unused1, unused2, unused3, unused4;
};

struct linux_shm_info {
        int32_t  used_ids;
        uint32_t shm_tot, shm_rss, shm_swp;
        uint32_t swap_attempts, swap_successes;
};

_Static_assert(sizeof(struct linux_ipc64_perm) == 36, "i386 ipc64_perm");
_Static_assert(sizeof(struct linux_shmid64_ds) == 84, "i386 shmid64_ds");
_Static_assert(sizeof(struct linux_shminfo64) == 36, "i386 shminfo64");
_Static_assert(sizeof(struct linux_shm_info) == 24, "i386 shm_info");

#endif
