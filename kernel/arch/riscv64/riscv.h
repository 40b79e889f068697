/*
 * riscv.h - the supervisor-mode registers (CSRs) and instructions the
 * riscv64 port uses, as inline functions; and the Sv39 entry bits.
 */
#ifndef ARCH_RISCV64_RISCV_H
#define ARCH_RISCV64_RISCV_H

#include <mercator/types.h>

#define csr_read(name) ({                                               \
        uint64_t v_;                                                    \
        __asm__ volatile("csrr %0, " #name : "=r"(v_));                 \
        v_; })
#define csr_write(name, v)                                              \
        __asm__ volatile("csrw " #name ", %0" :: "r"((uint64_t)(v)) : "memory")
#define csr_set(name, v)                                                \
        __asm__ volatile("csrs " #name ", %0" :: "r"((uint64_t)(v)) : "memory")
#define csr_clear(name, v)                                              \
        __asm__ volatile("csrc " #name ", %0" :: "r"((uint64_t)(v)) : "memory")

/* sstatus */
#define SSTATUS_SIE     (1UL << 1)      /* interrupts on in S-mode */
#define SSTATUS_SPIE    (1UL << 5)
#define SSTATUS_SPP     (1UL << 8)      /* trap came from S-mode */
#define SSTATUS_FS      (3UL << 13)     /* FPU state */
#define SSTATUS_FS_INITIAL (1UL << 13)
/* scounteren: which counters user mode may read */
#define SCOUNTEREN_TM   (1UL << 1)      /* time (rdtime) */
#define SSTATUS_SUM     (1UL << 18)     /* S-mode may touch U pages */
#define SSTATUS_MXR     (1UL << 19)

/* sie / sip */
#define SIE_SSIE        (1UL << 1)
#define SIE_STIE        (1UL << 5)
#define SIE_SEIE        (1UL << 9)

/* scause: interrupt bit and the codes Mercator handles */
#define SCAUSE_INTR             (1UL << 63)
#define IRQ_S_SOFT              1
#define IRQ_S_TIMER             5
#define IRQ_S_EXT               9
#define EXC_INSN_MISALIGNED     0
#define EXC_INSN_ACCESS         1
#define EXC_ILLEGAL             2
#define EXC_BREAKPOINT          3
#define EXC_LOAD_MISALIGNED     4
#define EXC_LOAD_ACCESS         5
#define EXC_STORE_MISALIGNED    6
#define EXC_STORE_ACCESS        7
#define EXC_ECALL_U             8
#define EXC_ECALL_S             9
#define EXC_INSN_PAGE_FAULT     12
#define EXC_LOAD_PAGE_FAULT     13
#define EXC_STORE_PAGE_FAULT    15

/* satp */
#define SATP_MODE_SV39  (8UL << 60)
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK  0xffffUL
#define SATP_PPN_MASK   ((1UL << 44) - 1)

static inline uint64_t satp_make(paddr_t root, unsigned asid)
{
        return SATP_MODE_SV39 | ((uint64_t)asid << SATP_ASID_SHIFT) |
               (root >> PAGE_SHIFT);
}

static inline paddr_t satp_root(uint64_t satp)
{
        return (satp & SATP_PPN_MASK) << PAGE_SHIFT;
}

/* Flush the TLB: everything, one address in every address space. */
static inline void sfence_vma_all(void)
{
        __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

static inline void sfence_vma_addr(vaddr_t va)
{
        __asm__ volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
}

static inline uint64_t rdtime(void)
{
        uint64_t t;

        __asm__ volatile("rdtime %0" : "=r"(t));
        return t;
}

static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline void intr_on(void)  { csr_set(sstatus, SSTATUS_SIE); }

static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif
