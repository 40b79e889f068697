/*
 * test_vmview.c - the picture feed (/proc/vmview, fs/proc_vmview.c) on
 * the real machine at each memory size the kernel tier boots (64 MiB to
 * 16 GiB): one snapshot is whole JSON that fits its buffer, is not cut,
 * counts every frame, and leaves nothing behind; its cost is printed as
 * "vmview cost:" (tools/test.py notes it) - measured, not asserted, since
 * time under TCG on a shared host is no bound.
 */
#include <mercator/clock.h>
#include <mercator/ktest.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <fs/procfs.h>
#include <vm/pmm.h>
#include <vm/vmalloc.h>

KTEST(vmview_snapshot_bounded)
{
        struct text t = { .size = proc_vmview_text_size() };
        char want[48];
        uint64_t t0, ns;

        t.buf = vmalloc(t.size);
        if (!KCHECK(t.buf))
                return;
        t.buf[0] = 0;
        t0 = clock_monotonic_ns();
        proc_vmview(&t, NULL);
        ns = clock_monotonic_ns() - t0;
        KCHECK(t.len > 2 && t.len < t.size);
        KCHECK(t.len > 2 && !strcmp(t.buf + t.len - 2, "}\n"));
        KCHECK(strstr(t.buf, "\"truncated\":false") != NULL);
        ksnprintf(want, sizeof want, "\"frames_total\":%lu,",
                  (unsigned long)pmm_npages());
        KCHECK(strstr(t.buf, want) != NULL);
        printk(LOG_EMERG, "vmview cost: %lu frames, %lu bytes of JSON, "
               "%lu us\n", (unsigned long)pmm_npages(), (unsigned long)t.len,
               (unsigned long)(ns / 1000));
        vfree(t.buf);
}
