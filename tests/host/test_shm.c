/*
 * test_shm.c - SysV shared memory (kernel/ipc/shm.c) and remote access
 * (vm_space_access) over simulated RAM: attach counts that follow areas
 * through fork, split, unmap and destroy; removal at the last reference;
 * identifiers that are never reused while stale; the segment limit; and
 * FOLL_FORCE writes that copy a private page without touching the file's
 * or a fork sibling's. Every test ends with every page and descriptor back.
 */
#include "check.h"
#include "vm_fixture.h"

#include <mercator/errno.h>
#include <ipc/shm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#include <string.h>

static const struct shm_caller root = { .uid = 0, .gid = 0, .pid = 1,
                                        .now = 1000, .admin = true,
                                        .huge_ok = true };
static const struct shm_caller user = { .uid = 1000, .gid = 1000, .pid = 2,
                                        .now = 2000 };

static void shm_setup(void)
{
        setup(16 * MiB);
        shm_init();
}

static uint64_t nattch(int id)
{
        struct shm_stat st;

        CHECK_EQ(shm_ctl(&root, id, SHM_IPC_STAT, &st, NULL), 0);
        return st.nattch;
}

static void end(void)
{
        CHECK_EQ(shm_count(), 0);
        check_baseline();
}

TEST(attach_counts_follow_areas)
{
        shm_setup();
        struct vm_space *a = new_space(), *b;
        int id = (int)shm_get(&root, SHM_IPC_PRIVATE, 3 * P, 0600);
        uint64_t va, va2;

        CHECK(id >= 0);
        CHECK_EQ(shm_attach(&root, a, id, 0, 0, &va), 0);
        CHECK_EQ(nattch(id), 1);
        user_fill(a, va + P, 0x5a);
        CHECK_EQ(shm_attach(&root, a, id, 0, SHM_RDONLY, &va2), 0);
        CHECK_EQ(nattch(id), 2);
        CHECK_EQ(user_read(a, va2 + P), 0x5a);
        CHECK_EQ(vm_space_fork(a, &b), VM_OK);
        CHECK_EQ(nattch(id), 4);
        CHECK_EQ(user_read(b, va + P), 0x5a);
        /* mprotect of the middle splits the area: Linux counts 3 areas. */
        CHECK_EQ(vm_space_protect(b, va + P, P, R), VM_OK);
        CHECK_EQ(nattch(id), 6);
        CHECK_EQ(shm_detach(&root, b, va), 0);  /* all three pieces */
        CHECK_EQ(nattch(id), 3);
        CHECK(vm_space_check(b));
        destroy(b);
        CHECK_EQ(nattch(id), 2);
        CHECK_EQ(shm_ctl(&root, id, SHM_IPC_RMID, NULL, NULL), 0);
        CHECK_EQ(shm_count(), 1);               /* still attached */
        CHECK_EQ(shm_detach(&root, a, va2), 0);
        CHECK_EQ(user_read(a, va + P), 0x5a);
        CHECK_EQ(shm_detach(&root, a, va), 0);
        CHECK_EQ(shm_count(), 0);               /* gone at the last */
        CHECK_EQ(shm_ctl(&root, id, SHM_IPC_STAT, &(struct shm_stat){ 0 },
                         NULL), -EINVAL);
        destroy(a);
        end();
}

TEST(destroyed_space_frees_removed_segment)
{
        shm_setup();
        struct vm_space *a = new_space();
        int id = (int)shm_get(&root, 77, 5 * P, SHM_IPC_CREAT | 0600);
        uint64_t va;

        CHECK_EQ(shm_attach(&root, a, id, 0, 0, &va), 0);
        for (int i = 0; i < 5; i++)
                user_fill(a, va + i * P, (uint8_t)i);
        CHECK_EQ(shm_ctl(&root, id, SHM_IPC_RMID, NULL, NULL), 0);
        CHECK_EQ(shm_get(&root, 77, P, 0), -ENOENT);    /* key gone */
        destroy(a);                             /* exit drops the last */
        end();
}

TEST(ids_and_limits)
{
        shm_setup();
        int first = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        CHECK_EQ(first, 0);
        CHECK_EQ(shm_ctl(&root, first, SHM_IPC_RMID, NULL, NULL), 0);
        int second = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        CHECK_EQ(second, 1);                    /* cyclic: not index 0 */
        CHECK_EQ(shm_attach(&root, NULL, first, 0, 0, &(uint64_t){ 0 }),
                 -EINVAL);
        CHECK_EQ(shm_ctl(&root, second, SHM_IPC_RMID, NULL, NULL), 0);

        static int ids[SHM_MNI];
        for (uint64_t i = 0; i < SHM_MNI; i++) {
                ids[i] = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
                CHECK(ids[i] >= 0);
        }
        CHECK_EQ(shm_get(&root, SHM_IPC_PRIVATE, P, 0600), -ENOSPC);
        for (uint64_t i = 0; i < SHM_MNI; i++)
                CHECK_EQ(shm_ctl(&root, ids[i], SHM_IPC_RMID, NULL, NULL), 0);
        /* Indices wrapped: the sequence moved on, old ids stay stale. */
        int again = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        CHECK(again >= 32768);
        CHECK_EQ(shm_ctl(&root, again, SHM_IPC_RMID, NULL, NULL), 0);
        CHECK_EQ(shm_get(&root, SHM_IPC_PRIVATE, 0, 0600), -EINVAL);
        CHECK_EQ(shm_get(&root, SHM_IPC_PRIVATE, SHM_MAX + 1, 0600), -EINVAL);
        /* The limits root sets through /proc/sys/kernel/shm*. */
        shm_mni = 2;
        ids[0] = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        ids[1] = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        CHECK(ids[0] >= 0 && ids[1] >= 0);
        CHECK_EQ(shm_get(&root, SHM_IPC_PRIVATE, P, 0600), -ENOSPC);
        shm_max = P;
        shm_mni = 3;
        CHECK_EQ(shm_get(&root, SHM_IPC_PRIVATE, P + 1, 0600), -EINVAL);
        shm_all = 3;                            /* pages; two in use */
        ids[2] = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        CHECK(ids[2] >= 0);
        CHECK_EQ(shm_get(&root, SHM_IPC_PRIVATE, P, 0600), -ENOSPC);
        for (int i = 0; i < 3; i++)
                CHECK_EQ(shm_ctl(&root, ids[i], SHM_IPC_RMID, NULL, NULL), 0);
        shm_mni = SHM_MNI;                      /* the defaults again */
        shm_max = SHM_MAX;
        shm_all = SHM_ALL;
        end();
}

TEST(permissions)
{
        shm_setup();
        struct vm_space *s = new_space();
        int id = (int)shm_get(&root, 5, P, SHM_IPC_CREAT | 0640);
        uint64_t va;
        struct shm_stat st = { 0 };

        CHECK_EQ(shm_get(&user, 5, P, 0600), -EACCES);
        /* SHM_HUGETLB without CAP_IPC_LOCK or group 0: EPERM, as Linux. */
        CHECK_EQ(shm_get(&user, SHM_IPC_PRIVATE, P,
                         SHM_IPC_CREAT | SHM_HUGETLB | 0600), -EPERM);
        CHECK_EQ(shm_get(&user, 5, P, 0), id);          /* asks for nothing */
        CHECK_EQ(shm_attach(&user, s, id, 0, SHM_RDONLY, &va), -EACCES);
        CHECK_EQ(shm_ctl(&user, id, SHM_IPC_STAT, &st, NULL), -EACCES);
        CHECK_EQ(shm_ctl(&user, id, SHM_IPC_RMID, NULL, NULL), -EPERM);
        st.uid = 1000;
        st.gid = 0;
        st.mode = 0604;
        CHECK_EQ(shm_ctl(&root, id, SHM_IPC_SET, &st, NULL), 0);
        CHECK_EQ(shm_attach(&user, s, id, 0, SHM_RDONLY, &va), 0); /* owner */
        CHECK_EQ(shm_attach(&user, s, id, 0, 0, &va), 0);
        CHECK_EQ(shm_ctl(&user, id, SHM_IPC_RMID, NULL, NULL), 0);
        destroy(s);
        end();
}

/* /proc/PID/mem's FOLL_FORCE write: the private page is copied; the file
 * and the fork sibling keep theirs; the translation stays read-only. */
TEST(force_write_copies_private_page)
{
        shm_setup();
        struct vm_space *a = new_space(), *b;
        vaddr_t va;
        size_t done;
        uint8_t byte = 0x77, got = 0;

        CHECK_EQ(vm_space_map(a, 0, 2 * P, RW, PRIV, &va), VM_OK);
        user_fill(a, va, 0x11);
        CHECK_EQ(vm_space_protect(a, va, 2 * P, R), VM_OK);
        CHECK_EQ(vm_space_fork(a, &b), VM_OK);
        CHECK_EQ(vm_space_access(b, va + 5, &byte, 1, true, false, &done),
                 VM_EFAULT);                    /* no force: refused */
        CHECK_EQ(vm_space_access(b, va + 5, &byte, 1, true, true, &done),
                 VM_OK);
        CHECK_EQ(done, 1);
        CHECK_EQ(user_read(b, va + 5), 0x77);
        CHECK_EQ(user_read(a, va + 5), 0x11);   /* the sibling's is kept */
        CHECK(!can(b, va, W));
        CHECK_EQ(vm_space_access(b, va + P, &byte, 1, true, true, &done),
                 VM_OK);                        /* the zero page: a new one */
        CHECK_EQ(user_read(b, va + P), 0x77);
        CHECK_EQ(user_read(a, va + P), 0);
        CHECK_EQ(vm_space_access(a, va + 5, &got, 1, false, false, &done),
                 VM_OK);
        CHECK_EQ(got, 0x11);
        CHECK_EQ(vm_space_access(a, va + 2 * P, &got, 1, false, true, &done),
                 VM_EFAULT);                    /* no area */
        CHECK(vm_space_check(a));
        CHECK(vm_space_check(b));
        destroy(b);
        destroy(a);
        end();
}

/* A shared area is never written against its protection, forced or not. */
TEST(force_write_refuses_readonly_shared)
{
        shm_setup();
        struct vm_space *a = new_space();
        int id = (int)shm_get(&root, SHM_IPC_PRIVATE, P, 0600);
        uint64_t va;
        size_t done;
        uint8_t byte = 1;

        CHECK_EQ(shm_attach(&root, a, id, 0, SHM_RDONLY, &va), 0);
        CHECK_EQ(vm_space_access(a, va, &byte, 1, true, true, &done),
                 VM_EFAULT);
        CHECK_EQ(vm_space_access(a, va, &byte, 1, false, false, &done), VM_OK);
        CHECK_EQ(byte, 0);
        CHECK_EQ(shm_ctl(&root, id, SHM_IPC_RMID, NULL, NULL), 0);
        destroy(a);
        end();
}
