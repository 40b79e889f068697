/* die_kernel_read.c - reading a kernel address from user mode kills the
 * process (SIGSEGV), though the kernel half is mapped in every space. */
int main(void) { return *(volatile int *)0xffff800000100000UL; }
