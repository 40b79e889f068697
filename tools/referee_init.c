/*
 * referee_init - the first process when a user test runs on a real Linux
 * kernel booted in QEMU (the referee for an architecture whose programs
 * this machine cannot run natively: riscv64, issue 13, and i386; and on
 * x86-64 for tests that change the machine, as clock_set sets the wall
 * clock, which the host's Linux must not see). tools/run --linux
 * puts it at /init, with the test at /bin/NAME and its argv in
 * /.mercator-args (NUL-separated), as for Mercator.
 *
 * It gives the test what it would find on a Linux system: /dev (devtmpfs),
 * /dev/shm, /dev/fd and /dev/std*, /proc, /tmp (tmpfs, as Mercator's);
 * with /.mercator-swap (tools/run --swap), loads the virtio disk's
 * modules from /modules (finit_module, in passes until none more loads:
 * one whose dependencies are not in yet fails and is tried again) and
 * turns the disk that file names on as swap, as Mercator's swap= does;
 * runs it as its child, leading a session whose controlling terminal is
 * the console (as the first process on Mercator does); reaps orphans as an init does; prints the marker tools/run
 * reads the exit status from (MERCATOR-EXIT n, 128 + n for a signal) and
 * powers the machine off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "load_modules.h"

#define MAX_ARGS 64

static char store[8192];

/* argv from /.mercator-args; argc, or -1. */
static int read_args(char **argv)
{
        int fd = open("/.mercator-args", O_RDONLY), argc = 0;
        ssize_t n = fd < 0 ? -1 : read(fd, store, sizeof store - 1);

        if (n <= 0)
                return -1;
        store[n] = '\0';
        for (ssize_t i = 0; i < n && argc < MAX_ARGS - 1;
             i += (ssize_t)strlen(store + i) + 1)
                argv[argc++] = store + i;
        argv[argc] = NULL;
        close(fd);
        return argc;
}

static void console(void)
{
        int fd;

        mkdir("/dev", 0755);
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
        /* what udev adds on a Linux system */
        symlink("/proc/self/fd", "/dev/fd");
        symlink("/proc/self/fd/0", "/dev/stdin");
        symlink("/proc/self/fd/1", "/dev/stdout");
        symlink("/proc/self/fd/2", "/dev/stderr");
        mkdir("/dev/shm", 01777);
        mount("tmpfs", "/dev/shm", "tmpfs", 0, NULL);
        mkdir("/proc", 0555);
        mount("proc", "/proc", "proc", 0, NULL);
        mkdir("/sys", 0555);
        mount("sysfs", "/sys", "sysfs", 0, NULL);
        mkdir("/tmp", 01777);
        mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
        fd = open("/dev/console", O_RDWR | O_NOCTTY);
        if (fd >= 0) {
                dup2(fd, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                if (fd > 2)
                        close(fd);
        }
}

/* tools/run --swap: the disk named in /.mercator-swap on as swap. */
static void swap_on(void)
{
        char disk[64];
        int fd = open("/.mercator-swap", O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, disk, sizeof disk - 1);

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return;
        disk[n] = '\0';
        disk[strcspn(disk, "\n")] = '\0';
        load_modules();
        for (int i = 0; i < 500 && access(disk, F_OK) != 0; i++)
                usleep(10000);
        if (swapon(disk, 0) != 0)
                fprintf(stderr, "referee_init: swapon %s: %s\n", disk,
                        strerror(errno));
}

int main(void)
{
        char *argv[MAX_ARGS];
        int status = 0, code;
        pid_t child, pid;

        console();
        swap_on();
        if (read_args(argv) < 1) {
                fprintf(stderr, "referee_init: no /.mercator-args\n");
                code = 2;
                goto out;
        }
        child = fork();
        if (child == 0) {
                /* The test leads its session, the console its terminal,
                 * as the first process on Mercator does. */
                setsid();
                ioctl(0, TIOCSCTTY, 0);
                execv(argv[0], argv);
                perror("referee_init: execv");
                _exit(127);
        }
        do
                pid = wait(&status);
        while (pid > 0 && pid != child);
        code = WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                   : WEXITSTATUS(status);
out:
        printf("MERCATOR-EXIT %d\n", code);
        fflush(stdout);
        /* Power off only once the UART has sent the marker: the serial
         * driver transmits from its buffer under interrupts, and what is
         * still there at power-off is lost (tools/run then finds no
         * status). */
        tcdrain(STDOUT_FILENO);
        sync();
        reboot(RB_POWER_OFF);
        return code;
}
