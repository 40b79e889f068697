/*
 * insn_count.c - a QEMU TCG plugin that counts the guest instructions each
 * translated block runs, for tools/kprof (a per-function instruction
 * profile of a boot, kernel and user alike).
 *
 * Each block is counted by an inline add QEMU puts in the block's code (no
 * call per execution), into a counter per (address, length); a block
 * translated again (after a TLB or code flush) finds its old counter. At
 * exit the counters go to the file named by the argument out=PATH, one
 * line per block: "ADDRESS LENGTH EXECUTIONS" (hex, decimal, decimal).
 *
 * Only the plugin API of QEMU 7.2 (Debian 12's; plugin API version 1) is
 * used, declared here from its documented signatures, so the tool needs
 * no QEMU source: the functions are exported by the QEMU binary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_info;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(
        qemu_plugin_id_t id,
        void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
                                              enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    void (*cb)(qemu_plugin_id_t id, void *p),
                                    void *p);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct block {
        uint64_t vaddr, runs;
        size_t n;
        struct block *next;             /* the hash chain */
};

#define BUCKETS (1u << 20)
static struct block **table;
static char out_path[4096] = "insn_count.out";

static struct block *block_for(uint64_t vaddr, size_t n)
{
        uint64_t h = (vaddr * 0x9e3779b97f4a7c15ull) >> 44;     /* 20 bits */
        struct block *b;

        for (b = table[h]; b; b = b->next)
                if (b->vaddr == vaddr && b->n == n)
                        return b;
        b = calloc(1, sizeof *b);       /* never freed or moved: QEMU's code
                                         * adds into it */
        if (!b)
                abort();
        b->vaddr = vaddr, b->n = n, b->next = table[h];
        return table[h] = b;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
        struct block *b = block_for(qemu_plugin_tb_vaddr(tb),
                                    qemu_plugin_tb_n_insns(tb));

        (void)id;
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                                 &b->runs, 1);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
        FILE *f = fopen(out_path, "w");

        (void)id, (void)p;
        if (!f) {
                perror(out_path);
                return;
        }
        for (uint32_t h = 0; h < BUCKETS; h++)
                for (struct block *b = table[h]; b; b = b->next)
                        if (b->runs)
                                fprintf(f, "%llx %zu %llu\n",
                                        (unsigned long long)b->vaddr, b->n,
                                        (unsigned long long)b->runs);
        fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info *info,
                        int argc, char **argv)
{
        (void)info;
        for (int i = 0; i < argc; i++)
                if (strncmp(argv[i], "out=", 4) == 0)
                        snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        table = calloc(BUCKETS, sizeof *table);
        if (!table)
                return -1;
        qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
        qemu_plugin_register_atexit_cb(id, at_exit, NULL);
        return 0;
}
