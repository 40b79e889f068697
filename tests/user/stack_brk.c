/*
 * stack_brk.c - the stack grows down on demand, and brk moves the heap
 * with Linux's rules (CONCEPTS E20, E22).
 */
#include "utest.h"

/* Touch `depth` KiB of stack, one frame per KiB; returns depth + 1. The
 * frame is read after the recursive call, so the call cannot become a
 * jump (a tail call would reuse one frame and grow nothing). */
__attribute__((noinline)) static unsigned deep(unsigned depth)
{
        volatile uint8_t frame[1024];

        frame[0] = (uint8_t)depth;
        frame[1023] = 1;
        unsigned below = depth ? deep(depth - 1) : 0;
        return below + frame[1023];
}

static void stack(void)
{
        CHECK("stack_grows_1_MiB", deep(1024) == 1025);
        CHECK("stack_grows_6_MiB", deep(6 * 1024) == 6 * 1024 + 1);
        uint8_t *big = __builtin_alloca(512 * 1024);
        memset(big, 3, 512 * 1024);
        CHECK("alloca_half_mib", big[0] == 3 && big[512 * 1024 - 1] == 3);
}

#include <sys/wait.h>

/* In a child: a mapping 2 MiB below the stack pointer, then `kib` KiB of
 * recursion. Its wait status. */
static int grow_towards_mapping(unsigned kib)
{
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
                void *at = (void *)((sp & ~(PAGE - 1)) - 2 * 1024 * 1024);
                if (mmap(at, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                         MAP_FIXED_NOREPLACE, -1, 0) != at)
                        _exit(3);
                _exit(deep(kib) == kib + 1 ? 0 : 4);
        }
        waitpid(pid, &status, 0);
        return status;
}

/* The stack may not grow to within 256 pages (1 MiB) of the mapping below
 * it, Linux's stack_guard_gap: 0.5 MiB of recursion is fine, 1.5 MiB is
 * SIGSEGV although the 8 MiB limit is far. (Linux and Mercator agree from
 * 1 MiB of recursion on, where the frames' overhead passes the gap.) */
static void guard_gap(void)
{
        int st = grow_towards_mapping(512);

        CHECK("stack_grows_while_outside_guard_gap", WIFEXITED(st) && WEXITSTATUS(st) == 0);
        st = grow_towards_mapping(1536);
        CHECK("stack_stops_at_guard_gap", WIFSIGNALED(st) && WTERMSIG(st) == 11);
}

static void heap(void)
{
        uintptr_t start = (uintptr_t)sbrk(0);

        CHECK("brk_query", start != (uintptr_t)-1 && start == (uintptr_t)syscall(SYS_brk, 0));
        CHECK("brk_grow", syscall(SYS_brk, start + 3 * PAGE) == (long)(start + 3 * PAGE));
        memset((void *)start, 9, 3 * PAGE);
        CHECK("brk_memory_usable", ((uint8_t *)start)[3 * PAGE - 1] == 9);
        CHECK("brk_unaligned_grow", syscall(SYS_brk, start + 3 * PAGE + 10) ==
              (long)(start + 3 * PAGE + 10));
        CHECK("brk_shrink", syscall(SYS_brk, start + PAGE) == (long)(start + PAGE));
        CHECK("brk_regrow_reads_zero",
              syscall(SYS_brk, start + 2 * PAGE) == (long)(start + 2 * PAGE) &&
              ((uint8_t *)start)[PAGE + 5] == 0 && ((uint8_t *)start)[5] == 9);
        CHECK("brk_below_start_refused", syscall(SYS_brk, start - PAGE) == (long)(start + 2 * PAGE));
        CHECK("brk_into_kernel_refused",
              syscall(SYS_brk, 0xffff800000000000UL) == (long)(start + 2 * PAGE));
        void *blocker = mmap((void *)(start + 64 * PAGE), PAGE, PROT_READ,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        CHECK("brk_collision_refused", blocker != MAP_FAILED &&
              syscall(SYS_brk, start + 128 * PAGE) == (long)(start + 2 * PAGE));
        munmap(blocker, PAGE);
        CHECK("brk_back_to_start", syscall(SYS_brk, start) == (long)start);
}

int main(void)
{
        utest_start("stack_brk");
        guard_gap();    /* first: before stack() has grown the stack by MiBs */
        stack();
        heap();
        return utest_done();
}
