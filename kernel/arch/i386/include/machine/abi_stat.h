/*
 * abi_stat.h (i386) - struct stat and struct statfs as the core fills
 * them: i386 Linux's 64-bit-clean struct stat64 (stat64, lstat64,
 * fstat64, fstatat64; arch/x86/include/uapi/asm/stat.h) and struct
 * statfs64 (statfs64, fstatfs64: packed to 4 bytes on x86). C libraries
 * use these, or statx; the old 32-bit struct stat calls are not offered
 * (glibc and musl never make them).
 *
 * The field names are the ones the core assigns (st_ino, st_size, ...);
 * stat64 keeps the inode twice, its low half in __st_ino as well
 * (arch/i386/sys_i386.c fills it).
 */
#ifndef MACHINE_ABI_STAT_H
#define MACHINE_ABI_STAT_H

#include <mercator/types.h>

struct linux_stat {                     /* 96 bytes */
        uint64_t st_dev;
        uint32_t pad0;
        uint32_t st_ino32;              /* __st_ino: the low 32 bits */
        uint32_t st_mode;
        uint32_t st_nlink;
        uint32_t st_uid;
        uint32_t st_gid;
        uint64_t st_rdev;
        uint32_t pad3;
        int64_t  st_size;
        uint32_t st_blksize;
        uint64_t st_blocks;
        uint32_t st_atime, st_atime_nsec;
        uint32_t st_mtime, st_mtime_nsec;
        uint32_t st_ctime, st_ctime_nsec;
        uint64_t st_ino;
} __attribute__((packed, aligned(4)));
_Static_assert(sizeof(struct linux_stat) == 96, "i386 struct stat64");

struct linux_statfs {                   /* 84 bytes */
        uint32_t f_type;
        uint32_t f_bsize;
        uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
        int32_t  f_fsid[2];
        uint32_t f_namelen;
        uint32_t f_frsize;
        uint32_t f_flags;
        uint32_t f_spare[4];
} __attribute__((packed, aligned(4)));
_Static_assert(sizeof(struct linux_statfs) == 84, "i386 struct statfs64");

#endif
