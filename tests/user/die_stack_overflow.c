/* die_stack_overflow.c - recursing past the 8 MiB stack limit kills the
 * process (SIGSEGV) instead of running into other mappings. */
volatile int forever = 1;

__attribute__((noinline)) static int down(volatile char *prev)
{
        volatile char frame[4096];

        frame[0] = prev ? prev[0] + 1 : 0;
        return forever ? down(frame) + frame[1] : 0;
}
int main(void) { return down(0); }
