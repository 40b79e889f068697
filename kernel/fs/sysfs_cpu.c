/*
 * sysfs_cpu.c - /sys/devices/system/cpu: the CPUs, in Linux's formats.
 *
 *   online, possible, present   the CPUs as a list ("0-3"): Mercator
 *                               has no CPU hotplug, so the three are the
 *                               CPUs that came up at boot;
 *   offline                     none (an empty line);
 *   cpuN/                       one directory per CPU (glibc's
 *                               get_nprocs_conf counts them), each but
 *                               cpu0's with `online` ("1"), read-only.
 *
 * glibc's get_nprocs (sysconf(_SC_NPROCESSORS_ONLN)) reads `online`
 * first; musl's asks sched_getaffinity.
 */
#include <mercator/kstat.h>
#include <mercator/printk.h>
#include <machine/intr.h>
#include <fs/procfs.h>
#include <fs/sysfs.h>

static unsigned cpus_up;                /* at boot: sysfs_cpu_init() */

static void list_show(struct text *t)
{
        if (cpus_up > 1)
                text_add(t, "0-%u\n", cpus_up - 1);
        else
                text_add(t, "0\n");
}

static void offline_show(struct text *t)
{
        text_add(t, "\n");
}

static void one_show(struct text *t)
{
        text_add(t, "1\n");
}

static const struct sysfs_node cpu_files[] = {
        SYSFS_RO("online", one_show),
        { 0 },
};

static const struct sysfs_node empty_dir[] = {
        { 0 },
};

static char names[KSTAT_MAX_CPUS][8];

/* The four files, a directory per CPU (sysfs_cpu_init), the end. */
struct sysfs_node sysfs_cpu_dir[4 + KSTAT_MAX_CPUS + 1] = {
        SYSFS_RO("online", list_show),
        SYSFS_RO("possible", list_show),
        SYSFS_RO("present", list_show),
        SYSFS_RO("offline", offline_show),
};

void sysfs_cpu_init(void)
{
        cpus_up = machine_cpus_online();
        for (unsigned i = 0; i < cpus_up && i < KSTAT_MAX_CPUS; i++) {
                ksnprintf(names[i], sizeof names[i], "cpu%u", i);
                sysfs_cpu_dir[4 + i] = (struct sysfs_node)SYSFS_DIR(
                        names[i], i ? cpu_files : empty_dir);
        }
}
