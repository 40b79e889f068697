/*
 * ksyms.c - address -> function name, by binary search of the table that
 * tools/ksyms.py generates (sorted by address).
 */
#include <mercator/ksyms.h>

extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addr[];
extern const uint32_t ksyms_name_off[];
extern const char ksyms_names[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
        uint64_t lo = 0, hi = ksyms_count;

        *offset = 0;
        if (ksyms_count == 0 || addr < ksyms_addr[0])
                return "?";
        while (hi - lo > 1) {           /* ksyms_addr[lo] <= addr */
                uint64_t mid = lo + (hi - lo) / 2;
                if (ksyms_addr[mid] <= addr)
                        lo = mid;
                else
                        hi = mid;
        }
        *offset = addr - ksyms_addr[lo];
        return ksyms_names + ksyms_name_off[lo];
}
