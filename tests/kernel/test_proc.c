/*
 * test_proc.c - processes on the real machine (CONCEPTS A1, A3, E24, E25):
 * two address spaces give one virtual address two values, the timer takes
 * the CPU from a process that never gives it up, a killed process is
 * ended, fork/exit/wait cycles, threads made and ended (one by one, then
 * by exit_group), and everything they held comes back (the runner's leak
 * check).
 *
 * The processes run hand-assembled code, so this needs no initramfs.
 */
#include <mercator/ktest.h>
#include <mercator/machine.h>
#include <mercator/printk.h>
#include <mercator/string.h>
#include <proc/proc.h>
#include <proc/signal.h>
#include <vm/vm_space.h>

#define CODE_VA 0x400000UL
#define DATA_VA 0x500000UL

/* Store 1 at DATA_VA, again and again, forever. */
static const uint8_t spinner[] = {
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x50, 0x00,       /* mov $0x500000, %rdi */
        0x48, 0xc7, 0x07, 0x01, 0x00, 0x00, 0x00,       /* 1: movq $1, (%rdi) */
        0xeb, 0xf7,                                     /* jmp 1b */
};

/* movq $2, DATA_VA; spin long enough to be preempted (the spinner then
 * stores 1 at the same address in its space); exit(*DATA_VA). */
static const uint8_t checker[] = {
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x50, 0x00,       /* mov $0x500000, %rdi */
        0x48, 0xc7, 0x07, 0x02, 0x00, 0x00, 0x00,       /* movq $2, (%rdi) */
        0x48, 0xc7, 0xc1, 0x00, 0x2d, 0x31, 0x01,       /* mov $20000000, %rcx */
        0x48, 0xff, 0xc9,                               /* 1: dec %rcx */
        0x75, 0xfb,                                     /* jnz 1b */
        0x48, 0x8b, 0x3f,                               /* mov (%rdi), %rdi */
        0xb8, 0x3c, 0x00, 0x00, 0x00,                   /* mov $60, %eax */
        0x0f, 0x05,                                     /* syscall: exit */
};

/* A runnable process executing `code` at CODE_VA, with one data page. */
static struct proc *spawn(const uint8_t *code, size_t len)
{
        struct proc *p = proc_alloc();
        vaddr_t at;

        if (!p)
                return NULL;
        if (vm_space_create(&p->space) != VM_OK ||
            vm_space_map(p->space, CODE_VA, PAGE_SIZE, VM_PROT_RW,
                         VM_MAP_PRIVATE | VM_MAP_FIXED, &at) != VM_OK ||
            space_write(p->space, CODE_VA, code, len) != VM_OK ||
            vm_space_protect(p->space, CODE_VA, PAGE_SIZE,
                             VM_PROT_READ | VM_PROT_EXEC) != VM_OK ||
            vm_space_map(p->space, DATA_VA, PAGE_SIZE, VM_PROT_RW,
                         VM_MAP_PRIVATE | VM_MAP_FIXED, &at) != VM_OK) {
                if (p->space)
                        vm_space_destroy(p->space);
                proc_free(p);
                return NULL;
        }
        ksnprintf(p->name, sizeof p->name, "ktest");
        machine_thread_init_user(p, CODE_VA, DATA_VA + PAGE_SIZE);
        sched_make_runnable(p);
        return p;
}

static bool is_zombie(void *arg)
{
        return ((struct proc *)arg)->state == PROC_ZOMBIE;
}

KTEST(two_processes_private_and_preempted)
{
        struct proc *a = spawn(spinner, sizeof spinner);
        struct proc *b = spawn(checker, sizeof checker);

        if (!KCHECK(a && b))
                return;
        machine_start_interrupts();
        /* b can only finish if the timer takes the CPU from a. */
        sched_run_until(is_zombie, b);
        KCHECK_EQ(b->wait_status, wait_status_exited(2));  /* not a's 1 */
        a->pending_kill = wait_status_signaled(SIGKILL);
        sched_run_until(is_zombie, a);
        KCHECK_EQ(a->wait_status, wait_status_signaled(SIGKILL));
        KCHECK(a->space == NULL && b->space == NULL);
        proc_free(a);
        proc_free(b);
}

/* for (rbx = 1000; rbx; rbx--) { if (fork() == 0) exit(0); wait4(-1, 0, 0, 0); }
 * exit(0). */
static const uint8_t forker[] = {
        0xbb, 0xe8, 0x03, 0x00, 0x00,                   /* mov $1000, %ebx */
        0xb8, 0x39, 0x00, 0x00, 0x00,                   /* 1: mov $57, %eax */
        0x0f, 0x05,                                     /* syscall: fork */
        0x48, 0x85, 0xc0,                               /* test %rax, %rax */
        0x75, 0x09,                                     /* jnz 2f */
        0xb8, 0x3c, 0x00, 0x00, 0x00,                   /* mov $60, %eax */
        0x31, 0xff,                                     /* xor %edi, %edi */
        0x0f, 0x05,                                     /* syscall: exit(0) */
        0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff,       /* 2: mov $-1, %rdi */
        0x31, 0xf6,                                     /* xor %esi, %esi */
        0x31, 0xd2,                                     /* xor %edx, %edx */
        0x45, 0x31, 0xd2,                               /* xor %r10d, %r10d */
        0xb8, 0x3d, 0x00, 0x00, 0x00,                   /* mov $61, %eax */
        0x0f, 0x05,                                     /* syscall: wait4 */
        0x48, 0xff, 0xcb,                               /* dec %rbx */
        0x75, 0xd1,                                     /* jnz 1b */
        0xb8, 0x3c, 0x00, 0x00, 0x00,                   /* mov $60, %eax */
        0x31, 0xff,                                     /* xor %edi, %edi */
        0x0f, 0x05,                                     /* syscall: exit(0) */
};

/* 1000 fork/exit/wait cycles; the runner's leak check then finds every
 * memory counter (pages, page tables, slab, kernel stacks, anonymous
 * pages) back at its value from before. */
KTEST(fork_exit_1000_cycles_leak_nothing)
{
        struct proc *p = spawn(forker, sizeof forker);
        int first_pid = p ? p->pid : 0;

        if (!KCHECK(p))
                return;
        machine_start_interrupts();
        sched_run_until(is_zombie, p);
        KCHECK_EQ(p->wait_status, wait_status_exited(0));
        proc_free(p);
        struct proc *after = proc_alloc();
        if (KCHECK(after)) {
                KCHECK(after->pid > first_pid + 1000);  /* 1000 children ran */
                proc_free(after);
        }
}

/*
 * for (rbx = 300; rbx; rbx--) {
 *         if (clone(VM|FS|FILES|SIGHAND|THREAD|SYSVSEM, 0, 0, 0, 0) == 0)
 *                 exit(0);                   -- the thread ends itself
 *         sched_yield();
 * }
 * if (clone(same) == 0) for (;;);            -- a thread that never ends
 * exit_group(7);
 * The threads run on the caller's stack pointer: they touch no memory.
 */
static const uint8_t threader[] = {
        0xbb, 0x2c, 0x01, 0x00, 0x00,                   /* mov $300, %ebx */
        0xb8, 0x38, 0x00, 0x00, 0x00,                   /* 1: mov $56, %eax */
        0xbf, 0x00, 0x0f, 0x05, 0x00,                   /* mov $0x50f00, %edi */
        0x31, 0xf6,                                     /* xor %esi, %esi */
        0x31, 0xd2,                                     /* xor %edx, %edx */
        0x45, 0x31, 0xd2,                               /* xor %r10d, %r10d */
        0x45, 0x31, 0xc0,                               /* xor %r8d, %r8d */
        0x0f, 0x05,                                     /* syscall: clone */
        0x48, 0x85, 0xc0,                               /* test %rax, %rax */
        0x75, 0x09,                                     /* jnz 2f */
        0xb8, 0x3c, 0x00, 0x00, 0x00,                   /* mov $60, %eax */
        0x31, 0xff,                                     /* xor %edi, %edi */
        0x0f, 0x05,                                     /* syscall: exit(0) */
        0xb8, 0x18, 0x00, 0x00, 0x00,                   /* 2: mov $24, %eax */
        0x0f, 0x05,                                     /* syscall: sched_yield */
        0x48, 0xff, 0xcb,                               /* dec %rbx */
        0x75, 0xd0,                                     /* jnz 1b */
        0xb8, 0x38, 0x00, 0x00, 0x00,                   /* mov $56, %eax */
        0xbf, 0x00, 0x0f, 0x05, 0x00,                   /* mov $0x50f00, %edi */
        0x31, 0xf6,                                     /* xor %esi, %esi */
        0x31, 0xd2,                                     /* xor %edx, %edx */
        0x45, 0x31, 0xd2,                               /* xor %r10d, %r10d */
        0x45, 0x31, 0xc0,                               /* xor %r8d, %r8d */
        0x0f, 0x05,                                     /* syscall: clone */
        0x48, 0x85, 0xc0,                               /* test %rax, %rax */
        0x75, 0x02,                                     /* jnz 3f */
        0xeb, 0xfe,                                     /* jmp . (the thread) */
        0xb8, 0xe7, 0x00, 0x00, 0x00,                   /* 3: mov $231, %eax */
        0xbf, 0x07, 0x00, 0x00, 0x00,                   /* mov $7, %edi */
        0x0f, 0x05,                                     /* syscall: exit_group */
};

/* The process is gone: its leader a zombie, no thread of it left. */
static bool group_gone(void *arg)
{
        struct proc *p = arg;

        return p->state == PROC_ZOMBIE && proc_group_others(p) == 0;
}

/* 300 threads made and ended one by one, then one killed by exit_group:
 * the leader reports exit_group's status once the last thread is gone,
 * and the leak check finds every kernel stack, descriptor table and page
 * back (the space is destroyed once, by its last user). */
KTEST(threads_made_and_ended_leak_nothing)
{
        struct proc *p = spawn(threader, sizeof threader);
        int first_pid = p ? p->pid : 0;

        if (!KCHECK(p))
                return;
        machine_start_interrupts();
        sched_run_until(group_gone, p);
        KCHECK_EQ(p->wait_status, wait_status_exited(7));
        KCHECK(p->space == NULL);
        proc_free(p);
        struct proc *after = proc_alloc();
        if (KCHECK(after)) {
                KCHECK(after->pid > first_pid + 300);   /* 301 threads ran */
                proc_free(after);
        }
}
