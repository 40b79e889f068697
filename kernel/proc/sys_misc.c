/*
 * sys_misc.c - prctl (the process's name, parent-death signal, dumpable
 * flag, keep-capabilities flag), personality, getrandom.
 *
 * getrandom's source: the CPU's RDSEED/RDRAND when it has them, mixed
 * into a generator (SplitMix64 over a 64-bit state); without them, the
 * generator alone, seeded from the TSC and the CMOS clock's time at its
 * first use and stirred with the TSC at every call. That fallback is not
 * a cryptographic source: it is as good as the timing it starts from.
 */
#include <mercator/clock.h>
#include <mercator/errno.h>
#include <mercator/machine.h>
#include <mercator/string.h>
#include <mercator/uaccess.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <proc/syscall.h>
#include <vm/vm_space.h>

#define PR_SET_PDEATHSIG        1
#define PR_GET_PDEATHSIG        2
#define PR_GET_DUMPABLE         3
#define PR_SET_DUMPABLE         4
#define PR_GET_KEEPCAPS         7
#define PR_SET_KEEPCAPS         8
#define PR_SET_NAME             15
#define PR_GET_NAME             16
#define PR_SET_NO_NEW_PRIVS     38
#define PR_GET_NO_NEW_PRIVS     39
#define PR_SET_THP_DISABLE      41
#define PR_GET_THP_DISABLE      42

SYSCALL_DECL(prctl)
{
        int option = (int)a0, v;
        char name[PROC_NAME_LEN];

        switch (option) {
        case PR_SET_PDEATHSIG:
                if (a1 < 0 || a1 > NSIG)
                        return -EINVAL;
                current->usage.pdeath_signal = (int)a1;
                return 0;
        case PR_GET_PDEATHSIG:
                v = current->usage.pdeath_signal;
                return copy_to_user((uint64_t)a1, &v, sizeof v) ? -EFAULT : 0;
        case PR_SET_THP_DISABLE:        /* the space's, as Linux's mm flag */
                if (a2 || a3 || a4)
                        return -EINVAL;
                current->space->thp_disabled = a1 != 0;
                return 0;
        case PR_GET_THP_DISABLE:
                if (a1 || a2 || a3 || a4)
                        return -EINVAL;
                return current->space->thp_disabled ? 1 : 0;
        case PR_GET_DUMPABLE:
                return current->usage.dumpable ? 1 : 0;
        case PR_SET_DUMPABLE:
                if (a1 != 0 && a1 != 1)
                        return -EINVAL;
                current->usage.dumpable = a1 == 1;
                return 0;
        case PR_GET_KEEPCAPS:
                return current->cred.keep_caps ? 1 : 0;
        case PR_SET_KEEPCAPS:
                if (a1 != 0 && a1 != 1)
                        return -EINVAL;
                current->cred.keep_caps = a1 == 1;
                return 0;
        case PR_SET_NAME: {
                long n = strncpy_from_user(name, (uint64_t)a1, sizeof name);
                if (n == -EFAULT)
                        return -EFAULT;
                name[sizeof name - 1] = '\0';   /* longer names are cut */
                memcpy(current->name, name, sizeof name);
                return 0;
        }
        case PR_GET_NAME:
                memcpy(name, current->name, sizeof name);
                name[sizeof name - 1] = '\0';
                return copy_to_user((uint64_t)a1, name, sizeof name) ? -EFAULT : 0;
        case PR_SET_NO_NEW_PRIVS:
                /* Only ever set (Linux: arg2 1, the rest 0); kept across
                 * fork and execve. Mercator has no set-id execs or file
                 * capabilities for it to refuse: it is recorded, as
                 * sandboxes (and stress-ng) ask for it. */
                if (a1 != 1 || a2 || a3 || a4)
                        return -EINVAL;
                current->cred.no_new_privs = true;
                return 0;
        case PR_GET_NO_NEW_PRIVS:
                if (a1 || a2 || a3 || a4)
                        return -EINVAL;
                return current->cred.no_new_privs ? 1 : 0;
        default:
                /* Linux has many more; Mercator none of them yet. */
                return syscall_unsupported(-EINVAL);
        }
}

/* personality(0xffffffff) asks; anything else sets. The old value. */
SYSCALL_DECL(personality)
{
        uint32_t old = current->usage.personality;

        if ((uint32_t)a0 != 0xffffffffu)
                current->usage.personality = (uint32_t)a0;
        return old;
}

/* ---- getrandom ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t splitmix(void)
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* 64 bits: the CPU's, mixed into the generator's, or the generator's. */
static uint64_t random_u64(void)
{
        uint64_t hw;

        if (!rng_state)
                rng_state = clock_monotonic_ns() ^ (clock_realtime_ns() << 17) ^ 1;
        rng_state ^= clock_monotonic_ns();
        if (machine_random_u64(&hw))
                rng_state ^= hw;
        return splitmix();
}

#define GRND_NONBLOCK   1
#define GRND_RANDOM     2
#define GRND_INSECURE   4

/* getrandom(buf, len, flags): never blocks (the pool is always ready). */
SYSCALL_DECL(getrandom)
{
        uint64_t ubuf = (uint64_t)a0, len = (uint64_t)a1, done = 0;
        unsigned flags = (unsigned)a2;
        uint64_t chunk[32];

        if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
                return -EINVAL;
        if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM))
                return -EINVAL;
        len = MIN(len, 0x1ffffffULL);           /* Linux's per-call most */
        while (done < len) {
                size_t n = MIN(len - done, sizeof chunk);
                for (size_t i = 0; i < (n + 7) / 8; i++)
                        chunk[i] = random_u64();
                if (copy_to_user(ubuf + done, chunk, n))
                        return done ? (long)done : -EFAULT;
                done += n;
                if (done < len && signal_pending())
                        return (long)done;
        }
        return (long)done;
}
