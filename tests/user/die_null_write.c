/* die_null_write.c - writing through NULL kills the process (SIGSEGV). */
int main(void) { *(volatile int *)0 = 1; return 0; }
