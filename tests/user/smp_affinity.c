/*
 * smp_affinity.c - sched_setaffinity is kept and honoured: pinned to one
 * CPU, a thread runs only there (getcpu, sampled while it spins) from
 * the moment the call returns, a fork's child keeps the mask,
 * sched_getaffinity and /proc/self/status's Cpus_allowed_list say it, and
 * bad calls get Linux's errors. Every CPU of the starting mask is tried
 * in turn (one on -smp 1, four on -smp 4).
 */
#define _GNU_SOURCE
#include "utest.h"
#include <sched.h>

static unsigned long get_mask(pid_t pid)
{
        unsigned long m = 0;

        return syscall(SYS_sched_getaffinity, pid, sizeof m, &m) == sizeof m ? m : 0;
}

static int set_mask(pid_t pid, unsigned long m)
{
        return syscall(SYS_sched_setaffinity, pid, sizeof m, &m);
}

/* Linux's list form of a mask: "0-2,5". */
static void mask_list(unsigned long m, char *out, size_t size)
{
        size_t len = 0;

        out[0] = '\0';
        for (int i = 0; i < 64; i++) {
                if (!(m >> i & 1))
                        continue;
                int j = i;
                while (j < 63 && (m >> (j + 1) & 1))
                        j++;
                len += snprintf(out + len, size - len, j > i ? "%s%d-%d" : "%s%d",
                                len ? "," : "", i, j);
                i = j;
        }
}

/* Cpus_allowed_list of /proc/self/status, or "". */
static void status_list(char *out, size_t size)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");

        out[0] = '\0';
        while (f && fgets(line, sizeof line, f))
                if (!strncmp(line, "Cpus_allowed_list:", 18)) {
                        snprintf(out, size, "%s", line + 18 + strspn(line + 18, " \t"));
                        out[strcspn(out, "\n")] = '\0';
                }
        if (f)
                fclose(f);
}

/* Spin a while, sampling getcpu: the CPUs seen, as a mask. */
static unsigned long cpus_seen(void)
{
        unsigned long seen = 0;

        for (int i = 0; i < 2000; i++) {
                unsigned cpu = 0;
                if (syscall(SYS_getcpu, &cpu, NULL, NULL) != 0 || cpu >= 64)
                        return ~0UL;
                seen |= 1UL << cpu;
                for (volatile int k = 0; k < 2000; k++)
                        ;
        }
        return seen;
}

int main(void)
{
        unsigned long all = get_mask(0), bad = 0;
        char want[128], got[128];
        int ok_runs = 1, ok_masks = 1, ok_lists = 1, ok_kids = 1, tried = 0;

        utest_start("smp_affinity");
        if (!CHECK("getaffinity_some_cpu", all != 0))
                return utest_done();
        mask_list(all, want, sizeof want);
        status_list(got, sizeof got);
        CHECK("status_lists_the_mask", !strcmp(want, got));
        for (int c = 0; c < 64 && tried < 4; c++) {
                unsigned long one = 1UL << c;
                if (!(all & one))
                        continue;
                tried++;
                if (set_mask(0, one) != 0) {
                        ok_runs = 0;
                        continue;
                }
                ok_runs &= cpus_seen() == one;
                ok_masks &= get_mask(0) == one;
                mask_list(one, want, sizeof want);
                status_list(got, sizeof got);
                ok_lists &= !strcmp(want, got);
                pid_t pid = fork();
                if (pid == 0)
                        _exit(get_mask(0) == one && cpus_seen() == one ? 0 : 1);
                int st = -1;
                ok_kids &= pid > 0 && waitpid(pid, &st, 0) == pid &&
                           WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        CHECK("pinned_thread_runs_only_there", ok_runs);
        CHECK("getaffinity_returns_the_pin", ok_masks);
        CHECK("status_lists_the_pin", ok_lists);
        CHECK("fork_child_keeps_the_pin", ok_kids);
        CHECK("set_back_to_all", set_mask(0, all) == 0 && get_mask(0) == all);
        printf("smp_affinity: mask %#lx, %d CPUs pinned in turn\n", all, tried);

        CHECK_ERR("empty_mask_einval", set_mask(0, 0), EINVAL);
        for (int c = 63; c >= 0 && !bad; c--)
                if (!(all >> c & 1) && c >= 8)
                        bad = 1UL << c;         /* a CPU neither machine has */
        CHECK_ERR("offline_cpus_only_einval", set_mask(0, bad), EINVAL);
        CHECK_ERR("set_bad_pointer_efault",
                  syscall(SYS_sched_setaffinity, 0, 8, (void *)8), EFAULT);
        unsigned long m;
        CHECK_ERR("get_short_length_einval",
                  syscall(SYS_sched_getaffinity, 0, 4, &m), EINVAL);
        pid_t gone = fork();
        if (gone == 0)
                _exit(0);
        waitpid(gone, NULL, 0);
        CHECK_ERR("set_no_such_thread_esrch", set_mask(gone, all), ESRCH);
        CHECK_ERR("get_no_such_thread_esrch",
                  syscall(SYS_sched_getaffinity, gone, 8, &m), ESRCH);
        CHECK("mask_unchanged_by_errors", get_mask(0) == all);
        return utest_done();
}
