/*
 * kstat.c - system-wide CPU time and context switches for /proc/stat
 * (Linux's kernel_cpustat, in USER_HZ ticks). Per-process time and the
 * load averages are proc/acct.c's.
 */
#include <mercator/kstat.h>
#include <proc/proc.h>

struct kstat kstat;


unsigned kstat_nr_running(void)
{
        unsigned n = 0;

        for (int i = 0; i < proc_slots; i++)
                if (proc_table[i]->state == PROC_RUNNABLE ||
                    proc_table[i]->state == PROC_RUNNING)
                        n++;
        return n;
}

void kstat_tick(bool from_user)
{
        if (!current || current->state != PROC_RUNNING)
                kstat.idle++;
        else if (from_user)
                kstat.user++;
        else
                kstat.system++;
}
