/*
 * trans_count.c - a QEMU TCG plugin that counts translations: every time
 * QEMU translates a block of guest code (the first run of that code, or a
 * run after its translation was flushed), and, each time the guest runs
 * the block at address mark=ADDR (a marker function the program calls
 * between the rounds of a measurement), one line on QEMU's stderr:
 *
 *   trans_count: translations N (kernel K) guest insns translated I  dt T ms
 *
 * with T the host time since the previous marker. A round that is slow
 * while later rounds of the same work are not, and that translated blocks
 * the later ones did not, pays QEMU's translation rather than the guest's
 * work (session 12: the copy-on-write reuse figure's first round).
 *
 * Build and use (no QEMU source needed, as for insn_count.c):
 *   gcc -O2 -shared -fPIC -o build/kprof/trans_count.so tools/kprof/trans_count.c
 *   nm PROGRAM | grep ' mark$'                   # the marker's address
 *   mkdir -p /tmp/tq && printf '#!/bin/sh\nexec /usr/bin/qemu-system-x86_64 \
 *     -plugin "%s/build/kprof/trans_count.so,mark=0xADDR" "$@"\n' "$PWD" \
 *     > /tmp/tq/qemu-system-x86_64 && chmod +x /tmp/tq/qemu-system-x86_64
 *   PATH=/tmp/tq:$PATH tools/run PROGRAM
 * Kernel blocks are those at or above kernel=ADDR (default: the x86-64
 * kernel half, 0xffff800000000000).
 *
 * Only the plugin API of QEMU 7.2 (version 1), declared here from its
 * documented signatures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_info;
enum qemu_plugin_cb_flags {
        QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS
};

void qemu_plugin_register_vcpu_tb_trans_cb(
        qemu_plugin_id_t id,
        void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_cb(
        struct qemu_plugin_tb *tb, void (*cb)(unsigned int vcpu, void *data),
        enum qemu_plugin_cb_flags flags, void *data);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t mark, kernel_base = 0xffff800000000000ull;
static uint64_t translations, kernel_translations, insns;
static double last;

static double now(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void on_mark(unsigned int vcpu, void *data)
{
        double t = now();

        (void)vcpu, (void)data;
        fprintf(stderr, "trans_count: translations %llu (kernel %llu) guest "
                "insns translated %llu  dt %.3f ms\n",
                (unsigned long long)translations,
                (unsigned long long)kernel_translations,
                (unsigned long long)insns, last ? (t - last) * 1e3 : 0.0);
        last = t;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
        uint64_t va = qemu_plugin_tb_vaddr(tb);

        (void)id;
        translations++;
        insns += qemu_plugin_tb_n_insns(tb);
        if (va >= kernel_base)
                kernel_translations++;
        if (mark && va == mark)
                qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark,
                                                     QEMU_PLUGIN_CB_NO_REGS, NULL);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info *info,
                        int argc, char **argv)
{
        (void)info;
        for (int i = 0; i < argc; i++) {
                if (strncmp(argv[i], "mark=", 5) == 0)
                        mark = strtoull(argv[i] + 5, NULL, 0);
                else if (strncmp(argv[i], "kernel=", 7) == 0)
                        kernel_base = strtoull(argv[i] + 7, NULL, 0);
        }
        qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
        return 0;
}
