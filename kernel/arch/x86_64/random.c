/*
 * random.c (x86-64) - the CPU's own random numbers: RDSEED or RDRAND when
 * CPUID says the CPU has them (QEMU's -cpu max does; qemu64 does not).
 */
#include <mercator/machine.h>
#include "cpu.h"

/* Has the CPU RDSEED (leaf 7, EBX bit 18) or RDRAND (leaf 1, ECX bit 30)?
 * 0 unknown yet, 1 neither, 2 RDRAND, 3 RDSEED. */
static int kind;

static void probe(void)
{
        uint32_t a, b, c, d;

        cpuid(0, 0, &a, &b, &c, &d);
        uint32_t max = a;
        cpuid(1, 0, &a, &b, &c, &d);
        kind = (c >> 30) & 1 ? 2 : 1;
        if (max >= 7) {
                cpuid(7, 0, &a, &b, &c, &d);
                if ((b >> 18) & 1)
                        kind = 3;
        }
}

bool machine_random_u64(uint64_t *out)
{
        uint8_t ok = 0;

        if (!kind)
                probe();
        for (int tries = 0; kind > 1 && tries < 10 && !ok; tries++) {
                if (kind == 3)
                        __asm__ volatile("rdseed %0; setc %1" : "=r"(*out), "=qm"(ok));
                else
                        __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
        }
        return ok;
}
