/*
 * satp_bench.c (riscv64) - what the trampoline's satp switch costs, timed
 * by the kernel itself: `satpbench` on the command line (make bench) runs
 * it once at boot, before /init, and prints each figure on the console as
 * the benchmark program prints its own ("@vmbench NAME NS"), so
 * tools/bench.py reads both from the same boot.
 *
 * Every trap from user mode passes through trampoline.S: uservec writes
 * the process's kernel table into satp between two sfence.vma, userret
 * the user table, again between two. Linux keeps the kernel in every
 * process's table and has nothing of the sort. The figures split the
 * cost into its parts:
 *
 *   satp_switch_fenced_ns  satp to another table and back, each write
 *                          between two sfence.vma (the trampoline's four)
 *   satp_switch_bare_ns    the same two writes without any fence
 *   sfence_all_ns          one sfence.vma zero, zero
 *   tlb_refill_16_ns       reading 16 vmalloc'd pages right after a full
 *                          sfence.vma, less the fence alone and less
 *                          reading them with the TLB warm: the refill a
 *                          flush costs the accesses that follow it
 *
 *   null_ecall_ns          a bare user context (usermode.c) making
 *                          system calls in a loop (getpid, which the bare
 *                          context answers ENOSYS: the trap, the
 *                          trampoline and back), through both tables
 *   null_ecall_one_table_ns  the same with the user on the kernel table
 *                          too (uctx.one_table), as Linux runs: uservec
 *                          and userret write the satp that is already
 *                          there
 *   trampoline_switch_ns   the difference: what the two satp switches of
 *                          one system call cost where they happen
 *
 * The two tables are the kernel's and a fresh user pmap's kernel table
 * (pmap_create: its kernel half is the kernel's), so every write keeps
 * the kernel where it runs. Each figure is the median of 5 rounds of
 * ROUND operations timed with rdtime (10 MHz on QEMU's virt board: 100 ns
 * ticks, well under a round's length). Interrupts stay off throughout.
 */
#include <mercator/console.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <vm/pmap.h>
#include <vm/vmalloc.h>
#include "pmap_md.h"
#include "riscv.h"
#include "satp_bench.h"
#include "usermode.h"

#define ROUND   4000
#define ECALLS  2000
#define CODE_VA 0x10000UL
#define STACK_VA 0x20000UL

/* The user program: a0 system calls, then exit(0). */
__asm__(".section .rodata\n"
        ".balign 8\n"
        "satp_bench_prog:\n"
        "       mv      s0, a0\n"
        "1:     li      a7, 172\n"             /* getpid */
        "       ecall\n"
        "       addi    s0, s0, -1\n"
        "       bnez    s0, 1b\n"
        "       li      a7, 93\n"              /* exit(0) */
        "       li      a0, 0\n"
        "       ecall\n"
        "satp_bench_prog_end:\n"
        ".text\n");
extern const char satp_bench_prog[], satp_bench_prog_end[];
#define ROUNDS  5
#define PAGES   16

extern uint64_t timebase_hz;

static uint64_t ticks_to_ns(uint64_t t)
{
        return t / timebase_hz * 1000000000 +
               t % timebase_hz * 1000000000 / timebase_hz;
}

static void sort(uint64_t *v, int n)
{
        for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
                        uint64_t t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
}

enum job { SWITCH_FENCED, SWITCH_BARE, SFENCE, SFENCE_READ, READ_WARM };

struct ctx {
        uint64_t mine, other;           /* satp values */
        volatile const uint8_t *pages;
};

static inline void sfence_all(void)
{
        __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

static inline void satp_set(uint64_t v)
{
        __asm__ volatile("csrw satp, %0" :: "r"(v) : "memory");
}

static uint64_t read_pages(const struct ctx *c)
{
        uint64_t sum = 0;

        for (int p = 0; p < PAGES; p++)
                sum += c->pages[p * PAGE_SIZE];
        return sum;
}

/* One round of ROUND operations of `job`, in rdtime ticks. */
static uint64_t one_round(const struct ctx *c, enum job job)
{
        uint64_t sink = 0;
        uint64_t t0 = rdtime();

        for (int i = 0; i < ROUND; i++) {
                switch (job) {
                case SWITCH_FENCED:
                        sfence_all();
                        satp_set(c->other);
                        sfence_all();
                        sfence_all();
                        satp_set(c->mine);
                        sfence_all();
                        break;
                case SWITCH_BARE:
                        satp_set(c->other);
                        satp_set(c->mine);
                        break;
                case SFENCE:
                        sfence_all();
                        break;
                case SFENCE_READ:
                        sfence_all();
                        sink += read_pages(c);
                        break;
                case READ_WARM:
                        sink += read_pages(c);
                        break;
                }
        }
        uint64_t t = rdtime() - t0;
        __asm__ volatile("" :: "r"(sink));
        return t;
}

/* Median over ROUNDS rounds, in tenths of a nanosecond per operation. */
static uint64_t figure(const struct ctx *c, enum job job)
{
        uint64_t v[ROUNDS];

        for (int r = 0; r < ROUNDS; r++)
                v[r] = ticks_to_ns(one_round(c, job) * 10) / ROUND;
        sort(v, ROUNDS);
        return v[ROUNDS / 2];
}

static void say(const char *name, uint64_t tenths)
{
        char line[96];
        int n = ksnprintf(line, sizeof line, "@vmbench %s %lu.%lu\n", name,
                          (unsigned long)(tenths / 10),
                          (unsigned long)(tenths % 10));

        console_write(line, (size_t)n);
}

static void say_na(const char *name, const char *why)
{
        char line[128];
        int n = ksnprintf(line, sizeof line, "@vmbench %s n/a %s\n", name, why);

        console_write(line, (size_t)n);
}

/* ECALLS system calls from user mode, per call in tenths of a ns, median
 * of ROUNDS; 0 if the context could not be made or did not exit 0. */
static uint64_t ecall_figure(bool one_table)
{
        struct uctx u;
        uint64_t v[ROUNDS];

        if (uctx_create(&u) != 0)
                return 0;
        void *code = uctx_map_page(&u, CODE_VA, VM_PROT_READ | VM_PROT_EXEC);
        void *stack = uctx_map_page(&u, STACK_VA, VM_PROT_RW);
        if (!code || !stack) {
                uctx_destroy(&u);
                return 0;
        }
        memcpy(code, satp_bench_prog,
               (size_t)(satp_bench_prog_end - satp_bench_prog));
        pmap_update(u.pm);
        __asm__ volatile("fence.i" ::: "memory");  /* the code just written */
        u.one_table = one_table;
        for (int r = 0; r < ROUNDS; r++) {
                uint64_t t0 = rdtime();
                int how = uctx_run(&u, CODE_VA, STACK_VA + PAGE_SIZE, ECALLS);
                uint64_t t = rdtime() - t0;
                if (how != 0 || u.status != 0) {
                        uctx_destroy(&u);
                        return 0;
                }
                v[r] = ticks_to_ns(t * 10) / ECALLS;
        }
        uctx_destroy(&u);
        sort(v, ROUNDS);
        return v[ROUNDS / 2];
}

void satp_bench(void)
{
        static const char *const names[] = {
                "satp_switch_fenced_ns", "satp_switch_bare_ns",
                "sfence_all_ns", "tlb_refill_16_ns" };
        struct pmap *pm;
        uint8_t *buf;

        if (pmap_create(&pm) != VM_OK) {
                for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                        say_na(names[i], "pmap_create: no memory");
                return;
        }
        buf = vmalloc(PAGES * PAGE_SIZE);
        if (!buf) {
                pmap_destroy(pm);
                for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                        say_na(names[i], "vmalloc: no memory");
                return;
        }
        memset(buf, 1, PAGES * PAGE_SIZE);

        uint64_t sie = csr_read(sstatus) & SSTATUS_SIE;
        csr_clear(sstatus, SSTATUS_SIE);
        struct ctx c = { .mine = csr_read(satp),
                         .other = satp_make(pm->kroot, 0), .pages = buf };
        uint64_t fenced = figure(&c, SWITCH_FENCED);
        uint64_t bare = figure(&c, SWITCH_BARE);
        uint64_t fence = figure(&c, SFENCE);
        uint64_t fence_read = figure(&c, SFENCE_READ);
        uint64_t warm = figure(&c, READ_WARM);
        sfence_all();
        csr_set(sstatus, sie);

        say(names[0], fenced);
        say(names[1], bare);
        say(names[2], fence);
        say(names[3], fence_read > fence + warm ? fence_read - fence - warm : 0);

        uint64_t two = ecall_figure(false), one = ecall_figure(true);
        if (two && one) {
                say("null_ecall_ns", two);
                say("null_ecall_one_table_ns", one);
                say("trampoline_switch_ns", two > one ? two - one : 0);
        } else {
                say_na("null_ecall_ns", "the bare user context failed");
                say_na("null_ecall_one_table_ns", "the bare user context failed");
                say_na("trampoline_switch_ns", "the bare user context failed");
        }
        vfree(buf);
        pmap_destroy(pm);
}
