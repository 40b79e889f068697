/*
 * futex.c - the futex system call between processes: wait and wake on
 * shared memory across fork, keys of private memory, errors, timeouts,
 * requeue, wake_op, bitsets, signals, and the robust list at exit.
 */
#include "utest.h"
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Linux's futex ABI (musl has no <linux/futex.h>). */
#define FUTEX_WAIT              0
#define FUTEX_WAKE              1
#define FUTEX_CMP_REQUEUE       4
#define FUTEX_WAKE_OP           5
#define FUTEX_WAIT_BITSET       9
#define FUTEX_WAKE_BITSET       10
#define FUTEX_PRIVATE_FLAG      128
#define FUTEX_WAIT_PRIVATE      (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE      (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY  0xffffffffu
#define FUTEX_OP_ADD            1
#define FUTEX_OP_CMP_EQ         0
#define FUTEX_OP(op, oparg, cmp, cmparg) \
        (((op) & 0xf) << 28 | ((cmp) & 0xf) << 24 | ((oparg) & 0xfff) << 12 | \
         ((cmparg) & 0xfff))
#define FUTEX_WAITERS           0x80000000u
#define FUTEX_OWNER_DIED        0x40000000u
#define FUTEX_TID_MASK          0x3fffffffu

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout,
                  uint32_t *uaddr2, uint32_t val3)
{
        return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The shared page: futex words and a count of children that are waiting. */
struct shared {
        uint32_t word, word2, ready, pad;
};

static struct shared *shared_page(void)
{
        return mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

/* Children that wait on s->word (or word2) until woken; exit 0 if woken. */
static pid_t waiter(struct shared *s, uint32_t *word, int op, uint32_t bits)
{
        pid_t pid = fork();
        if (pid == 0) {
                __atomic_add_fetch(&s->ready, 1, __ATOMIC_SEQ_CST);
                long r;
                do
                        r = futex(word, op, 0, NULL, NULL, bits);
                while (r < 0 && errno == EINTR);
                _exit(r == 0 ? 0 : 10 + errno);
        }
        return pid;
}

/* Wait until n children are waiting (they announced it, then slept). */
static void settle(struct shared *s, uint32_t n)
{
        while (__atomic_load_n(&s->ready, __ATOMIC_SEQ_CST) < n)
                usleep(1000);
        usleep(50000);          /* they announce just before sleeping */
}

static int reap(pid_t pid)
{
        int st;
        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void wait_wake_shared(void)
{
        struct shared *s = shared_page();
        pid_t a = waiter(s, &s->word, FUTEX_WAIT, 0);
        pid_t b = waiter(s, &s->word, FUTEX_WAIT, 0);

        settle(s, 2);
        CHECK("wake_one_of_two", futex(&s->word, FUTEX_WAKE, 1, NULL, NULL, 0) == 1);
        usleep(20000);
        CHECK("wake_the_rest", futex(&s->word, FUTEX_WAKE, 10, NULL, NULL, 0) == 1);
        CHECK("woken_children_return_0", reap(a) == 0 && reap(b) == 0);
        CHECK("wake_with_no_waiters", futex(&s->word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0);
        munmap(s, PAGE);
}

/* Private memory: after fork the child's word is its own copy, so a wake
 * from the parent at the same address does not reach it. */
static void private_keys(void)
{
        static uint32_t word;
        struct shared *s = shared_page();
        pid_t pid = fork();

        if (pid == 0) {
                __atomic_add_fetch(&s->ready, 1, __ATOMIC_SEQ_CST);
                struct timespec t = { 0, 300000000 };
                long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
                _exit(r < 0 && errno == ETIMEDOUT ? 0 : 1);
        }
        settle(s, 1);
        CHECK("private_wake_misses_child",
              futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0);
        CHECK("private_child_timed_out", reap(pid) == 0);
        munmap(s, PAGE);
}

static void errors_and_timeouts(void)
{
        uint32_t word = 5;
        struct timespec t = { 0, 100000000 }, bad = { 0, 1000000000 };

        CHECK_ERR("value_differs_eagain",
                  futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0), EAGAIN);
        uint64_t t0 = now_ns();
        CHECK_ERR("timeout_etimedout",
                  futex(&word, FUTEX_WAIT_PRIVATE, 5, &t, NULL, 0), ETIMEDOUT);
        CHECK("timeout_waited_long_enough", now_ns() - t0 >= 100000000ull);
        CHECK_ERR("bad_timespec_einval",
                  futex(&word, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0), EINVAL);
        CHECK_ERR("bad_address_efault",
                  futex((uint32_t *)8, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
        CHECK_ERR("misaligned_einval",
                  futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT, 0, NULL,
                        NULL, 0), EINVAL);
        CHECK_ERR("unknown_op_enosys",
                  futex(&word, 99, 0, NULL, NULL, 0), ENOSYS);
        CHECK_ERR("bitset_zero_einval",
                  futex(&word, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0), EINVAL);
        /* WAIT_BITSET takes an absolute time on CLOCK_MONOTONIC. */
        struct timespec abs;
        clock_gettime(CLOCK_MONOTONIC, &abs);
        abs.tv_nsec += 50000000;
        if (abs.tv_nsec >= 1000000000) {
                abs.tv_sec++;
                abs.tv_nsec -= 1000000000;
        }
        t0 = now_ns();
        CHECK_ERR("absolute_timeout_etimedout",
                  futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs, NULL,
                        FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
        CHECK("absolute_timeout_waited", now_ns() - t0 >= 40000000ull);
}

static void requeue(void)
{
        struct shared *s = shared_page();
        pid_t p[3];

        for (int i = 0; i < 3; i++)
                p[i] = waiter(s, &s->word, FUTEX_WAIT, 0);
        settle(s, 3);
        CHECK_ERR("cmp_requeue_value_differs",
                  futex(&s->word, FUTEX_CMP_REQUEUE, 1, (void *)2, &s->word2, 7),
                  EAGAIN);
        /* Wake one, move two to word2. */
        CHECK("cmp_requeue_counts",
              futex(&s->word, FUTEX_CMP_REQUEUE, 1, (void *)2, &s->word2, 0) == 3);
        usleep(20000);
        CHECK("requeued_not_on_first", futex(&s->word, FUTEX_WAKE, 10, NULL, NULL, 0) == 0);
        CHECK("requeued_on_second", futex(&s->word2, FUTEX_WAKE, 10, NULL, NULL, 0) == 2);
        int ok = 1;
        for (int i = 0; i < 3; i++)
                ok &= reap(p[i]) == 0;
        CHECK("requeued_children_woken", ok);
        munmap(s, PAGE);
}

static void wake_op(void)
{
        struct shared *s = shared_page();
        pid_t a = waiter(s, &s->word, FUTEX_WAIT, 0);
        pid_t b = waiter(s, &s->word2, FUTEX_WAIT, 0);

        settle(s, 2);
        s->word2 = 0;
        /* word2 += 1, then wake word2's waiter if the old value was 0. */
        uint32_t op = FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0);
        CHECK("wake_op_wakes_both",
              futex(&s->word, FUTEX_WAKE_OP, 1, (void *)1, &s->word2, op) == 2);
        CHECK("wake_op_changed_word", s->word2 == 1);
        CHECK("wake_op_children", reap(a) == 0 && reap(b) == 0);
        /* An unknown operation changes nothing; an unknown comparison is
         * found after the operation, as on Linux: the word has changed
         * (and nobody is woken). */
        s->word2 = 5;
        CHECK_ERR("wake_op_unknown_op_enosys",
                  futex(&s->word, FUTEX_WAKE_OP, 1, (void *)1, &s->word2,
                        FUTEX_OP(6, 1, FUTEX_OP_CMP_EQ, 0)), ENOSYS);
        CHECK("wake_op_unknown_op_leaves_the_word", s->word2 == 5);
        CHECK_ERR("wake_op_unknown_cmp_enosys",
                  futex(&s->word, FUTEX_WAKE_OP, 1, (void *)1, &s->word2,
                        FUTEX_OP(FUTEX_OP_ADD, 1, 9, 0)), ENOSYS);
        CHECK("wake_op_unknown_cmp_after_the_op", s->word2 == 6);
        munmap(s, PAGE);
}

static void bitsets(void)
{
        struct shared *s = shared_page();
        pid_t a = waiter(s, &s->word, FUTEX_WAIT_BITSET, 0x1);
        pid_t b = waiter(s, &s->word, FUTEX_WAIT_BITSET, 0x2);

        settle(s, 2);
        CHECK("bitset_wakes_match_only",
              futex(&s->word, FUTEX_WAKE_BITSET, 10, NULL, NULL, 0x2) == 1);
        CHECK("bitset_match_was_b", reap(b) == 0);
        CHECK("bitset_other_still_waits",
              futex(&s->word, FUTEX_WAKE_BITSET, 10, NULL, NULL, 0x1) == 1);
        CHECK("bitset_a_woken", reap(a) == 0);
        munmap(s, PAGE);
}

static void on_usr1(int sig) { (void)sig; }

static void interrupted(void)
{
        struct shared *s = shared_page();
        pid_t pid = fork();

        if (pid == 0) {
                struct sigaction sa = { .sa_handler = on_usr1 };
                sigaction(SIGUSR1, &sa, NULL);          /* no SA_RESTART */
                __atomic_add_fetch(&s->ready, 1, __ATOMIC_SEQ_CST);
                long r = futex(&s->word, FUTEX_WAIT, 0, NULL, NULL, 0);
                _exit(r < 0 && errno == EINTR ? 0 : 1);
        }
        settle(s, 1);
        kill(pid, SIGUSR1);
        CHECK("signal_interrupts_wait_eintr", reap(pid) == 0);
        munmap(s, PAGE);
}

struct robust_head {
        void *next;
        long futex_offset;
        void *list_op_pending;
};

/* A child takes a robust "lock" (its tid in the word) and exits holding
 * it: the kernel marks the word FUTEX_OWNER_DIED and wakes a waiter. */
static void robust_list(void)
{
        struct shared *s = shared_page();
        /* The entry: a list link, then the lock word 8 bytes later. */
        struct entry { void *next; uint32_t lock; } *e = (void *)((char *)s + 64);
        pid_t pid = fork();

        if (pid == 0) {
                static struct robust_head head;
                head.next = e;
                head.futex_offset = offsetof(struct entry, lock);
                head.list_op_pending = NULL;
                e->next = &head;
                e->lock = (uint32_t)syscall(SYS_gettid) | FUTEX_WAITERS;
                if (syscall(SYS_set_robust_list, &head, sizeof head) != 0)
                        _exit(2);
                _exit(0);
        }
        CHECK("robust_child_exits", reap(pid) == 0);
        CHECK("robust_owner_died", (e->lock & FUTEX_OWNER_DIED) &&
                                   (e->lock & FUTEX_TID_MASK) == 0);
        struct robust_head *h;
        size_t len;
        CHECK("get_robust_list", syscall(SYS_get_robust_list, 0, &h, &len) == 0 &&
                                 len == sizeof(struct robust_head));
        CHECK_ERR("set_robust_list_bad_len",
                  syscall(SYS_set_robust_list, h, 7), EINVAL);
        munmap(s, PAGE);
}

int main(void)
{
        utest_start("futex");
        wait_wake_shared();
        private_keys();
        errors_and_timeouts();
        requeue();
        wake_op();
        bitsets();
        interrupted();
        robust_list();
        return utest_done();
}
