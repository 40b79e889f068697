/*
 * abi_stat.h (generic64) - struct stat and struct statfs as 64-bit Linux
 * lays them out through asm-generic (include/uapi/asm-generic/stat.h,
 * statfs.h): riscv64's (and arm64's). x86-64 has its own, older struct
 * stat (kernel/arch/x86_64/include/machine/abi_stat.h), found first.
 */
#ifndef MACHINE_ABI_STAT_H
#define MACHINE_ABI_STAT_H

#include <mercator/types.h>

struct linux_stat {                     /* 128 bytes */
        uint64_t st_dev;
        uint64_t st_ino;
        uint32_t st_mode;
        uint32_t st_nlink;
        uint32_t st_uid;
        uint32_t st_gid;
        uint64_t st_rdev;
        uint64_t pad1;
        int64_t  st_size;
        int32_t  st_blksize;
        int32_t  pad2;
        int64_t  st_blocks;
        int64_t  st_atime, st_atime_nsec;
        int64_t  st_mtime, st_mtime_nsec;
        int64_t  st_ctime, st_ctime_nsec;
        uint32_t unused4, unused5;
};
_Static_assert(sizeof(struct linux_stat) == 128, "asm-generic struct stat");

struct linux_statfs {                   /* 120 bytes, as x86-64's */
        int64_t  f_type;
        int64_t  f_bsize;
        uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
        int32_t  f_fsid[2];
        int64_t  f_namelen;
        int64_t  f_frsize;
        int64_t  f_flags;
        int64_t  f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "asm-generic struct statfs");

#endif
