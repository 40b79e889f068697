/*
 * trinity_init.c - the first process of a trinity run on Mercator
 * (tools/test.py run_trinity): trinity fuzzes system calls as the
 * unprivileged user nobody for a fixed time, then everything it left
 * running is killed and reaped, and this init exits, so the kernel's own
 * check at init's exit counts every page back.
 *
 *   trinity_init SECONDS TRINITY [ARGS...]
 *
 * Prints "trinity_init: ran S s, trinity status X, N processes reaped"
 * and exits 0 when trinity started; the verdict is the kernel's: no
 * panic, no hang, no "leak:" line at the end. Processes that SIGKILL has
 * not ended after a minute are listed (their /proc/PID/stat) and the run
 * ends with status 3.
 *
 * trinity runs in a memory group of its own with memory.oom.group set (a
 * cgroup2 hierarchy mounted at /cg), as a service manager runs a service
 * (systemd's OOMPolicy=kill): when memory and swap run out, the OOM
 * killer takes all of trinity at once. One process at a time frees
 * nothing: the memfds that fill memory are open in trinity's main process
 * and in every child it forks, and its children (oom_score_adj 500) are
 * chosen first, so without the group the killer went through child after
 * child while memory stayed full (issue 19's near-livelock, 2 GiB of
 * swap). The run then ends early, which make soak reports as a failure,
 * instead of hanging. Without cgroup2 it runs as before.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOBODY 65534

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
        (void)sig;
        alarmed = 1;
}

/* Each process's /proc/PID/stat line (its state is the third field). */
static void show_processes(void)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        char path[300], line[512];

        while (d && (e = readdir(d))) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
                FILE *f = fopen(path, "r");
                if (f && fgets(line, sizeof line, f))
                        printf("  %s", line);
                if (f)
                        fclose(f);
        }
        if (d)
                closedir(d);
}

#define CG      "/cg"
#define GROUP   CG "/trinity"

static int put(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY);
        ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

        if (fd >= 0)
                close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* trinity's memory group: 0 when made. */
static int make_group(void)
{
        if (mkdir(CG, 0755) && errno != EEXIST)
                return -1;
        if (mount("none", CG, "cgroup2", 0, NULL) ||
            put(CG "/cgroup.subtree_control", "+memory") ||
            (mkdir(GROUP, 0755) && errno != EEXIST) ||
            put(GROUP "/memory.oom.group", "1")) {
                perror("trinity_init: no memory group (runs without)");
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        int status = -1, st, reaped = 0;
        double start = now(), seconds;
        pid_t trinity, pid;

        if (argc < 3 || (seconds = atof(argv[1])) <= 0) {
                fprintf(stderr, "usage: trinity_init SECONDS TRINITY [ARGS...]\n");
                return 2;
        }
        int grouped = make_group() == 0;
        trinity = fork();
        if (trinity == 0) {
                if (grouped && put(GROUP "/cgroup.procs", "0\n"))
                        perror("trinity_init: into the memory group");
                if (chdir("/tmp") || setgroups(0, NULL) || setgid(NOBODY) ||
                    setuid(NOBODY)) {
                        perror("trinity_init: dropping to nobody");
                        _exit(126);
                }
                execv(argv[2], argv + 2);
                perror("trinity_init: exec");
                _exit(127);
        }
        if (trinity < 0) {
                perror("trinity_init: fork");
                return 1;
        }
        /* Reap whatever ends (trinity's children are re-parented here when
         * its main process dies) until the time is up or trinity is done. */
        while (now() - start < seconds) {
                pid = waitpid(-1, &st, WNOHANG);
                if (pid == trinity)
                        status = st;
                if (pid > 0) {
                        reaped++;
                        continue;
                }
                if (pid < 0 && errno == ECHILD)
                        break;
                usleep(200 * 1000);
        }
        kill(-1, SIGKILL);              /* every process but this one */
        signal(SIGALRM, on_alarm);
        alarm(60);
        while ((pid = wait(&st)) > 0 || (pid < 0 && errno == EINTR)) {
                if (pid == trinity)
                        status = st;
                if (pid > 0)
                        reaped++;
                if (pid < 0 && alarmed) {
                        /* SIGKILL has not ended them in a minute */
                        printf("trinity_init: processes left after SIGKILL:\n");
                        show_processes();
                        return 3;
                }
        }
        printf("trinity_init: ran %.0f s, trinity status %#x, %d processes reaped\n",
               now() - start, status, reaped);
        if (grouped && (rmdir(GROUP) || umount(CG)))
                perror("trinity_init: removing the memory group");
        return WIFEXITED(status) && WEXITSTATUS(status) >= 126 ? 1 : 0;
}
