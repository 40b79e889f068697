/*
 * true.c - the small static program vmbench's fork+execve figure runs:
 * it does nothing and exits 0, so the figure is the kernel's exec cost.
 */
int main(void)
{
        return 0;
}
