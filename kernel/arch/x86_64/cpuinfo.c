/*
 * cpuinfo.c - /proc/cpuinfo for x86-64: Linux's fields from CPUID (vendor,
 * family, model, name, stepping, the feature flags Linux names from CPUID
 * leaves 1 and 0x80000001, address sizes). One CPU.
 */
#include <mercator/string.h>
#include <fs/procfs.h>
#include <arch/x86_64/cpu.h>
#include <arch/x86_64/percpu.h>

/* Linux's names for CPUID bits (arch/x86/include/asm/cpufeatures.h), in
 * its order; NULL: a bit Linux does not show. */
static const char *const leaf1_edx[32] = {
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic",
        NULL, "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn",
        "clflush", NULL, "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss",
        "ht", "tm", "ia64", "pbe",
};
static const char *const ext_edx[32] = {
        [11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext",
        [25] = "fxsr_opt", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
        [30] = "3dnowext", [31] = "3dnow",
};
static const char *const leaf1_ecx[32] = {
        "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx",
        "est", "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm",
        NULL, "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe",
        "popcnt", "tsc_deadline_timer", "aes", "xsave", NULL, "avx", "f16c",
        "rdrand", "hypervisor",
};
static const char *const ext_ecx[32] = {
        "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm",
        "sse4a", "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop",
        "skinit", "wdt", NULL, "lwp", "fma4", "tce", NULL, "nodeid_msr",
        NULL, "tbm", "topoext",
};

static void flags(struct text *t, const char *const names[32], uint32_t bits)
{
        for (int i = 0; i < 32; i++)
                if ((bits >> i) & 1 && names[i])
                        text_add(t, " %s", names[i]);
}

/* One CPU's entry: the CPUID of the CPU reading (QEMU gives every CPU
 * the same model) under that CPU's number and local APIC id. */
static void cpu_entry(struct text *t, unsigned n, unsigned apic,
                      unsigned count)
{
        uint32_t a, b, c, d, max_ext, v[12];
        char vendor[13], name[49];

        cpuid(0, 0, &a, &v[0], &v[2], &v[1]);
        uint32_t max_basic = a;
        memcpy(vendor, v, 12);
        vendor[12] = 0;
        cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
        name[0] = 0;
        if (max_ext >= 0x80000004) {
                for (uint32_t i = 0; i < 3; i++)
                        cpuid(0x80000002 + i, 0, &v[4 * i], &v[4 * i + 1],
                              &v[4 * i + 2], &v[4 * i + 3]);
                memcpy(name, v, 48);
                name[48] = 0;
        }
        cpuid(1, 0, &a, &b, &c, &d);
        unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
        if (family == 0xf)
                family += (a >> 20) & 0xff;
        if (family >= 6)
                model += ((a >> 16) & 0xf) << 4;
        text_add(t, "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\n"
                 "model\t\t: %u\nmodel name\t: %s\nstepping\t: %u\n",
                 n, vendor, family, model, name, a & 0xf);
        text_add(t, "physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\n"
                 "cpu cores\t: %u\napicid\t\t: %u\ninitial apicid\t: %u\n",
                 count, n, count, apic, apic);
        text_add(t, "fpu\t\t: %s\nfpu_exception\t: %s\ncpuid level\t: %u\n"
                 "wp\t\t: yes\nflags\t\t:", d & 1 ? "yes" : "no",
                 d & 1 ? "yes" : "no", max_basic);
        uint32_t ecx1 = c, edx1 = d;
        flags(t, leaf1_edx, edx1);
        uint32_t eecx = 0, eedx = 0;
        if (max_ext >= 0x80000001)
                cpuid(0x80000001, 0, &a, &b, &eecx, &eedx);
        flags(t, ext_edx, eedx);
        flags(t, leaf1_ecx, ecx1);
        flags(t, ext_ecx, eecx);
        text_add(t, "\n");
        unsigned phys = 36, virt = 48;
        if (max_ext >= 0x80000008) {
                cpuid(0x80000008, 0, &a, &b, &c, &d);
                phys = a & 0xff;
                virt = (a >> 8) & 0xff;
        }
        text_add(t, "clflush size\t: 64\ncache_alignment\t: 64\n"
                 "address sizes\t: %u bits physical, %u bits virtual\n"
                 "power management:\n\n", phys, virt);
}

/* Linux's x86 format, one entry per online CPU (glibc and others count
 * the "processor" lines). */
void proc_cpuinfo(struct text *t, struct proc *p)
{
        unsigned count = 0, n = 0;

        (void)p;
        for (unsigned i = 0; i < ncpus; i++)
                count += __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE);
        for (unsigned i = 0; i < ncpus; i++)
                if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
                        cpu_entry(t, n++, cpus[i].apic_id, count);
}
