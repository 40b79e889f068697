/*
 * shm_limits.c - /proc/sys/kernel/shmmni, shmmax and shmall (ipc/shm.h):
 * Linux's defaults at boot (4096 segments; ULONG_MAX - 2^24 bytes and
 * pages), what IPC_INFO reports, and, where root may change the machine,
 * that each limit is enforced at shmget (ENOSPC past shmmni and shmall,
 * EINVAL past shmmax) and that shmmni takes 0..32768 (IPCMNI) only. The
 * writes run only where tools/run booted the program (Mercator, and
 * Debian's Linux in QEMU, which test.py runs it on first); on the shared
 * host only the reading is checked. LTP's hugeshmget03 needs the first.
 */
#include "utest.h"
#include <sys/ipc.h>
#include <sys/shm.h>

#define MNI     "/proc/sys/kernel/shmmni"
#define MAX     "/proc/sys/kernel/shmmax"
#define ALL     "/proc/sys/kernel/shmall"
#define DEFAULT_WIDE    (~0UL - (1UL << 24))

static unsigned long knob(const char *path)
{
        char buf[32];

        return read_text(path, buf, sizeof buf) > 0 ? strtoul(buf, NULL, 10) : 0;
}

static int set_knob(const char *path, unsigned long v)
{
        char buf[32];

        snprintf(buf, sizeof buf, "%lu", v);
        return write_text(path, buf);
}

/* Segments of `size` bytes made until shmget fails (at most 16); their
 * ids in ids[], the errno of the failure in *err. */
static int make_until_refused(size_t size, int *ids, int *err)
{
        int n = 0;

        *err = 0;
        while (n < 16) {
                int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
                if (id < 0) {
                        *err = errno;
                        break;
                }
                ids[n++] = id;
        }
        return n;
}

static void remove_all(int *ids, int n)
{
        while (n > 0)
                shmctl(ids[--n], IPC_RMID, NULL);
}

int main(void)
{
        struct shminfo si;
        int ids[16], n, err;

        utest_start("shm_limits");
        unsigned long mni = knob(MNI), max = knob(MAX), all = knob(ALL);
        CHECK("defaults", mni == 4096 && max == DEFAULT_WIDE && all == DEFAULT_WIDE);
        CHECK("ipc_info_agrees", shmctl(0, IPC_INFO, (struct shmid_ds *)&si) >= 0 &&
              si.shmmni == mni && si.shmmax == max && si.shmall == all);
        if (access("/.mercator-args", F_OK) != 0 || geteuid() != 0) {
                printf("shm_limits: not booted by tools/run: writes skipped\n");
                return utest_done();
        }
        CHECK("shmmni_3", set_knob(MNI, 3) == 0 && knob(MNI) == 3);
        n = make_until_refused(4096, ids, &err);
        CHECK("three_then_enospc", n == 3 && err == ENOSPC);
        CHECK("ipc_info_follows", shmctl(0, IPC_INFO, (struct shmid_ds *)&si) >= 0 &&
              si.shmmni == 3);
        remove_all(ids, n);
        CHECK("shmmni_ipcmni", set_knob(MNI, 32768) == 0 && knob(MNI) == 32768);
        CHECK("shmmni_over_ipcmni_einval", set_knob(MNI, 32769) == EINVAL &&
              knob(MNI) == 32768);
        CHECK("shmmni_negative_einval", write_text(MNI, "-1") == EINVAL);
        CHECK("shmmni_restored", set_knob(MNI, mni) == 0 && knob(MNI) == mni);

        CHECK("shmmax_8192", set_knob(MAX, 8192) == 0 && knob(MAX) == 8192);
        CHECK_ERR("past_shmmax_einval", shmget(IPC_PRIVATE, 8193, IPC_CREAT | 0600), EINVAL);
        int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
        CHECK("at_shmmax_ok", id >= 0);
        if (id >= 0)
                shmctl(id, IPC_RMID, NULL);
        CHECK("shmmax_restored", set_knob(MAX, max) == 0 && knob(MAX) == max);

        CHECK("shmall_3_pages", set_knob(ALL, 3) == 0 && knob(ALL) == 3);
        n = make_until_refused(2 * 4096, ids, &err);
        CHECK("shmall_enospc", n == 1 && err == ENOSPC);
        remove_all(ids, n);
        CHECK("shmall_restored", set_knob(ALL, all) == 0 && knob(ALL) == all);
        return utest_done();
}
