/*
 * tty_rx_storm.c - typed input taken while other threads keep entering
 * and leaving the kernel (tty_rx_storm.input types the lines).
 *
 * Three threads make system calls in a loop (each return to user mode
 * passes the console's re-arm point, serial_rx_arm on x86-64) while the
 * main thread reads the lines typed at the terminal, with a time limit
 * for each. At -smp 4 the console's interrupt then often arrives on a
 * CPU that is in the kernel without the big lock (waiting for it, or
 * idle while another CPU holds it), which masks the UART's receive
 * interrupt until a re-arm, at the same moment as other CPUs' re-arms:
 * a mask and an unmask racing (the x86-64 `make run` session that
 * stalled, session 15). A lost unmask leaves the typed bytes in the UART
 * and the read waits for ever: here the read's time limit ends the
 * program with a FAIL instead. It also fails when input only crawls: a
 * round that takes longer than the input script's 30 s wait (session
 * 16: an unmask alone sent the interrupt back to CPU 0, most often still
 * in the kernel, and rounds took up to 36 s under load; the re-arm now
 * takes the waiting bytes itself). On Linux it runs on a pseudo-terminal.
 */
#include "utest.h"
#include <poll.h>
#include <pthread.h>

#define THREADS 3
#define ROUNDS  6
#define LINES   10              /* per round, as the .input types them */
#define LINE    "pack my box with five dozen jugs\n"
#define WAIT_MS 20000           /* for each line: no typed byte is that slow */

static volatile int stop;
static volatile unsigned long calls[THREADS];

static void *storm(void *arg)
{
        long i = (long)arg;

        while (!stop) {
                syscall(SYS_getppid);
                calls[i]++;
        }
        return NULL;
}

/* One line from the terminal (canonical mode), or -1 if none came in
 * WAIT_MS. */
static ssize_t read_line(char *buf, size_t len)
{
        struct pollfd pfd = { .fd = 0, .events = POLLIN };

        if (poll(&pfd, 1, WAIT_MS) != 1)
                return -1;
        return read(0, buf, len);
}

int main(void)
{
        pthread_t th[THREADS];
        char buf[256];
        int made = 0, good = 0, lost = 0;

        utest_start("tty_rx_storm");
        for (long i = 0; i < THREADS; i++)
                if (pthread_create(&th[made], NULL, storm, (void *)i) == 0)
                        made++;
        CHECK("threads", made == THREADS);
        for (int r = 0; r < ROUNDS && !lost; r++) {
                printf("@round%d\n", r);
                for (int n = 0; n < LINES; n++) {
                        ssize_t got = read_line(buf, sizeof buf - 1);
                        if (got < 0) {
                                lost = 1;
                                printf("\nround %d: line %d never came "
                                       "(%d good lines before)\n", r, n,
                                       good);
                                break;
                        }
                        buf[got] = '\0';
                        good += !strcmp(buf, LINE);
                }
        }
        stop = 1;
        for (int i = 0; i < made; i++)
                pthread_join(th[i], NULL);
        printf("\n");
        CHECK("every_line_came", !lost);
        CHECK("lines_intact", good == ROUNDS * LINES);
        CHECK("storm_ran", made == 0 || calls[0] > 0);
        return utest_done();
}
