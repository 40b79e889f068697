/*
 * main.c - the machine-independent start of the kernel, after the
 * architecture's boot code has set up paging and the page allocator:
 * run the kernel tests, or start /init from the initramfs, or fall back
 * to the monitor.
 */
#include <mercator/console.h>
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/panic.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/initramfs.h>
#include <fs/sysfs.h>
#include <fs/vfs.h>
#include <proc/cred.h>
#include <proc/proc.h>
#include <proc/syscall.h>
#include <proc/vdso.h>
#include <vm/hugetlb.h>
#include <vm/swap.h>
#include <vm/vm_commit.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

void monitor_run(void);
void machine_start_interrupts(void);
extern struct initramfs rootfs;

/* The value of `ktest=NAME` on the command line, copied into buf. */
static const char *ktest_selection(const char *cmdline, char *buf, size_t size)
{
        const char *p = strstr(cmdline, "ktest=");
        size_t n = 0;

        if (!p)
                return NULL;
        for (p += 6; p[n] && p[n] != ' ' && n + 1 < size; n++)
                buf[n] = p[n];
        buf[n] = '\0';
        return buf;
}

#define INIT_MAX_ARGS 64

/*
 * init's arguments: /.mercator-args holds them NUL-separated (tools/run
 * writes it); without it, init gets just its name.
 */
static int init_args(const char **argv, char *store, size_t size)
{
        struct initramfs_node node;
        size_t len = 0;
        int argc = 0;

        if (initramfs_lookup(&rootfs, NULL, "/.mercator-args", 0, &node) == VM_OK)
                initramfs_read(&node, 0, store, size - 1, &len);
        store[len] = '\0';
        for (size_t i = 0; i < len && argc < INIT_MAX_ARGS - 1; i += strlen(store + i) + 1)
                argv[argc++] = store + i;
        if (argc == 0)
                argv[argc++] = "init";
        argv[argc] = NULL;
        return argc;
}

/* The commit policy's question (vm_commit.h): may the caller use the
 * admin reserve? Linux: CAP_SYS_ADMIN. */
static bool commit_caller_is_admin(void)
{
        return !current || current_capable(CAP_SYS_ADMIN);
}

static void start_init(void)
{
        static char store[4096];
        const char *argv[INIT_MAX_ARGS];
        const void *base;
        size_t len;
        vm_status_t st;
        long err;

        if (!machine_initrd(&base, &len)) {
                pr_notice("No initramfs: starting the kernel monitor.\n");
                monitor_run();
        }
        st = initramfs_open(&rootfs, base, len);
        if (st != VM_OK) {
                pr_err("initramfs: %s\n", initramfs_reason_message(rootfs.bad_reason));
                monitor_run();
        }
        syscall_init(machine_cmdline());
        swap_boot_option(machine_cmdline());
        int argc = init_args(argv, store, sizeof store);
        err = proc_start_init("/init", argc, argv);
        if (err) {
                pr_err("cannot start /init: error %ld\n", -err);
                machine_poweroff(1);
        }
        machine_start_interrupts();
        sched_run();
}

void kmain(void)
{
        const char *cmdline = machine_cmdline();
        char name[64];

        /* The zero page lives forever: take it now, so that no leak check
         * sees it come and not go. */
        if (vm_zero_page_init() != VM_OK)
                panic("no memory for the zero page");
        vdso_init();                    /* likewise its pages */
        /* The huge zero page too, where 2-4 MiB are a small part of RAM
         * (under 128 MiB, reads of huge blocks map 4 KiB zero pages). */
        if (pmm_npages() >= (128 * MiB >> PAGE_SHIFT))
                (void)vm_huge_zero_init();
        if (strstr(cmdline, "transparent_hugepage=always"))
                vm_thp_policy = VM_THP_ALWAYS;
        else if (strstr(cmdline, "transparent_hugepage=never"))
                vm_thp_policy = VM_THP_NEVER;
        else if (strstr(cmdline, "transparent_hugepage=madvise"))
                vm_thp_policy = VM_THP_MADVISE;
        if (strstr(cmdline, "nolockfault=0"))   /* every fault under the big
                                                 * lock, as before (bench) */
                vm_fault_nolock_enabled = false;
        vm_commit_init(commit_caller_is_admin);
        sysfs_hugepages_init();
        sysfs_cpu_init();               /* every CPU is up by now */
        hugetlb_boot_option(cmdline);   /* before init's leak baseline */
        machine_print_memory();
        machine_print_layout();
        pr_notice("Mercator ready: %" PRIu64 " us from the first instruction\n",
                  machine_uptime_us());
        if (strstr(cmdline, "ktest"))
                ktest_main(ktest_selection(cmdline, name, sizeof name));
        start_init();
}
