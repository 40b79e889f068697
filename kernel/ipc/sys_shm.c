/*
 * sys_shm.c - shmget, shmat, shmdt and shmctl: Linux's x86-64 argument
 * rules and layouts around the SysV shared memory core (ipc/shm.c).
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <machine/linux_ipc.h>
#include <ipc/shm.h>
#include <proc/proc.h>
#include <proc/syscall.h>

/* The caller as shm sees it: effective ids; CAP_IPC_OWNER bypasses the
 * mode and CAP_SYS_ADMIN the owner check (one flag: root has both). */
static struct shm_caller caller(void)
{
        const struct cred *cr = &current->cred;

        return (struct shm_caller){
                .uid = cr->euid, .gid = cr->egid, .pid = current->pid,
                .admin = cred_capable(cr, CAP_IPC_OWNER) ||
                         cred_capable(cr, CAP_SYS_ADMIN),
                .huge_ok = cred_capable(cr, CAP_IPC_LOCK) || cred_in_group(cr, 0),
                .now = (int64_t)(clock_realtime_ns() / 1000000000ULL),
                .space = current->space,
        };
}

SYSCALL_DECL(shmget)
{
        struct shm_caller c = caller();

        return shm_get(&c, (int32_t)a0, (uint64_t)a1, (int)a2);
}

SYSCALL_DECL(shmat)
{
        struct shm_caller c = caller();
        uint64_t addr;
        long r = shm_attach(&c, current->space, (int)a0, (uint64_t)a1,
                            (int)a2, &addr);

        return r ? r : (long)addr;
}

SYSCALL_DECL(shmdt)
{
        struct shm_caller c = caller();

        return shm_detach(&c, current->space, (uint64_t)a0);
}

static void ds_from(struct linux_shmid64_ds *ds, const struct shm_stat *st)
{
        memset(ds, 0, sizeof *ds);
        ds->shm_perm = (struct linux_ipc64_perm){
                .key = st->key, .uid = st->uid, .gid = st->gid,
                .cuid = st->cuid, .cgid = st->cgid, .mode = st->mode,
                .seq = st->seq,
        };
        ds->shm_segsz = st->segsz;
        ds->shm_atime = st->atime;
        ds->shm_dtime = st->dtime;
        ds->shm_ctime = st->ctime;
        ds->shm_cpid = st->cpid;
        ds->shm_lpid = st->lpid;
        ds->shm_nattch = st->nattch;
}

/* shmctl(id, cmd, buf). Linux reads IPC_SET's buffer before looking the
 * segment up and writes the STAT/INFO buffers after. */
SYSCALL_DECL(shmctl)
{
        struct shm_caller c = caller();
        int id = (int)a0, cmd = (int)a1;
        uint64_t ubuf = (uint64_t)a2;
        struct linux_shmid64_ds ds;
        struct shm_stat st = { 0 };
        struct shm_info info;
        long r;

        if (cmd == SHM_IPC_SET) {
                if (copy_from_user(&ds, ubuf, sizeof ds))
                        return -EFAULT;
                st.uid = ds.shm_perm.uid;
                st.gid = ds.shm_perm.gid;
                st.mode = ds.shm_perm.mode;
        }
        r = shm_ctl(&c, id, cmd, &st, &info);
        if (r < 0)
                return r;
        switch (cmd) {
        case SHM_IPC_STAT: case SHM_STAT: case SHM_STAT_ANY:
                ds_from(&ds, &st);
                if (copy_to_user(ubuf, &ds, sizeof ds))
                        return -EFAULT;
                break;
        case SHM_IPC_INFO: {
                struct linux_shminfo64 si = {
                        .shmmax = info.shmmax, .shmmin = info.shmmin,
                        .shmmni = info.shmmni, .shmseg = info.shmseg,
                        .shmall = info.shmall,
                };
                if (copy_to_user(ubuf, &si, sizeof si))
                        return -EFAULT;
                break;
        }
        case SHM_INFO: {
                struct linux_shm_info si;
                memset(&si, 0, sizeof si);
                si.used_ids = info.used_ids;
                si.shm_tot = info.shm_tot;
                si.shm_rss = info.shm_rss;
                si.shm_swp = info.shm_swp;
                if (copy_to_user(ubuf, &si, sizeof si))
                        return -EFAULT;
                break;
        }
        }
        return r;
}
