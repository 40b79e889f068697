/* die_exec_data.c - executing a non-executable page (NX) kills the
 * process (SIGSEGV). */
#include <string.h>
#include <sys/mman.h>
int main(void)
{
        unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        memset(p, 0xc3, 4096);          /* ret */
        ((void (*)(void))p)();
        return 0;
}
