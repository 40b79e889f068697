/*
 * tlb_shootdown.c - a translation cached by one CPU goes when another CPU
 * takes the mapping away (issue 15's classic checks). A reader thread
 * keeps reading a page while the main thread unmaps it: the reader must
 * get SIGSEGV, soon. A writer thread keeps writing a page while the main
 * thread makes it read-only: the writer must get SIGSEGV, soon. Each is
 * repeated ROUNDS times; "soon" is 5 s, far above what any CPU needs but
 * finite (a CPU whose TLB kept the old entry would read or write on
 * forever, into a frame that may already be someone else's).
 *
 * On one CPU this tests only signals and threads; on several (tools/test.py
 * runs it again at -smp 4) the two threads run at the same time.
 */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>

#define ROUNDS  200
#define SOON_S  5.0

static struct {
        volatile int go;                /* round number to start, 0 none */
        volatile int touched;           /* round whose page was touched */
        volatile int faulted;           /* round that faulted */
        volatile char *page;
        int write;                      /* writer instead of reader */
} shared;

static __thread sigjmp_buf escape;
static __thread volatile int in_round;

static void on_segv(int sig)
{
        (void)sig;
        if (in_round)
                siglongjmp(escape, 1);
        _exit(99);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Touch the page until it faults. */
static void touch_until_fault(const int round)
{
        in_round = 1;
        if (sigsetjmp(escape, 1) == 0) {
                for (;;) {
                        if (shared.write)
                                shared.page[64] = (char)round;
                        else
                                (void)shared.page[64];
                        shared.touched = round;
                }
        }
        in_round = 0;
        shared.faulted = round;
}

/* Each round: wait for go, then touch until the fault. */
static void *toucher(void *arg)
{
        (void)arg;
        for (int round = 1; round <= ROUNDS; round++) {
                while (shared.go != round)
                        ;
                touch_until_fault(round);
        }
        return NULL;
}

/* => the worst time from the change to the fault, or -1 if a round
 * failed (no fault within SOON_S, or a call failed). */
static double run(int write)
{
        pthread_t t;
        double worst = 0;

        shared.write = write;
        shared.go = shared.touched = shared.faulted = 0;
        if (pthread_create(&t, NULL, toucher, NULL) != 0)
                return -1;
        for (int round = 1; round <= ROUNDS && worst >= 0; round++) {
                char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        return -1;
                p[64] = 1;
                shared.page = p;
                shared.go = round;
                while (shared.touched != round)
                        ;
                double t0 = now_s();
                int rc = write ? mprotect(p, 4096, PROT_READ)
                               : munmap(p, 4096);
                while (rc == 0 && shared.faulted != round &&
                       now_s() - t0 < SOON_S)
                        ;
                double dt = now_s() - t0;
                if (rc != 0 || shared.faulted != round)
                        worst = -1;
                else if (dt > worst)
                        worst = dt;
                if (write)
                        munmap(p, 4096);
        }
        if (worst < 0)
                pthread_cancel(t);
        else
                pthread_join(t, NULL);
        return worst;
}

int main(void)
{
        struct sigaction sa = { .sa_handler = on_segv };

        utest_start("tlb_shootdown");
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
        double r = run(0);
        CHECK("reader_faults_after_munmap", r >= 0);
        double w = run(1);
        CHECK("writer_faults_after_mprotect", w >= 0);
        printf("tlb_shootdown: %d rounds each, worst munmap->fault %.0f us, "
               "mprotect->fault %.0f us\n", ROUNDS, r * 1e6, w * 1e6);
        return utest_done();
}
