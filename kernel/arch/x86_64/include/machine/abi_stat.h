/*
 * abi_stat.h - Linux x86-64's struct stat (the layout newfstatat, fstat
 * and stat return; other architectures lay it out differently) and
 * struct statfs.
 */
#ifndef MACHINE_ABI_STAT_H
#define MACHINE_ABI_STAT_H

#include <mercator/types.h>

struct linux_stat {                     /* 144 bytes */
        uint64_t st_dev;
        uint64_t st_ino;
        uint64_t st_nlink;
        uint32_t st_mode;
        uint32_t st_uid;
        uint32_t st_gid;
        uint32_t pad0;
        uint64_t st_rdev;
        int64_t  st_size;
        int64_t  st_blksize;
        int64_t  st_blocks;
        int64_t  st_atime, st_atime_nsec;
        int64_t  st_mtime, st_mtime_nsec;
        int64_t  st_ctime, st_ctime_nsec;
        int64_t  reserved[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "x86-64 struct stat");

struct linux_statfs {                   /* 120 bytes */
        int64_t  f_type;
        int64_t  f_bsize;
        uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
        int32_t  f_fsid[2];
        int64_t  f_namelen;
        int64_t  f_frsize;
        int64_t  f_flags;
        int64_t  f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "x86-64 struct statfs");

#endif
