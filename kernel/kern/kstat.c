/*
 * kstat.c - CPU time per CPU and context switches for /proc/stat
 * (Linux's kernel_cpustat, in USER_HZ ticks). Per-process time and the
 * load averages are proc/acct.c's.
 */
#include <mercator/kstat.h>
#include <machine/intr.h>
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

/* current is this CPU's thread: NULL while its scheduler loop idles. */
void kstat_tick(bool from_user)
{
        struct kstat_cpu *c = &kstat.cpu[machine_cpu_id()];

        if (!current || current->state != PROC_RUNNING)
                c->idle++;
        else if (from_user)
                c->user++;
        else
                c->system++;
}

struct kstat_cpu kstat_total(void)
{
        struct kstat_cpu sum = { 0 };

        for (unsigned i = 0; i < KSTAT_MAX_CPUS; i++) {
                sum.user += kstat.cpu[i].user;
                sum.system += kstat.cpu[i].system;
                sum.idle += kstat.cpu[i].idle;
        }
        return sum;
}
