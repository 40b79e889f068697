/*
 * sh.c - Mercator's shell: reads a line, runs builtins (cd, pwd, exit,
 * fg, help) or a program from /bin with fork + execve + wait. It is /init
 * when `make run` boots. It also runs on Linux.
 *
 * On a terminal it does job control as real shells do: each command runs
 * in a process group of its own that gets the terminal, so ^C and ^\ go
 * to the command and not to the shell, and ^Z stops it (fg continues
 * it). Without a terminal it echoes and edits the line itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_ARGS 32

extern char **environ;
static int own_echo;            /* no terminal driver echoes for us */
static int job_control;         /* on a terminal: commands get it in turn */
static pid_t stopped_job;       /* a job ^Z stopped, for fg (0: none) */

static void put(const char *s) { write(1, s, strlen(s)); }

/* Read one line into buf; -1 at end of input. */
static int read_line(char *buf, size_t size)
{
        size_t n = 0;
        char c;

        for (;;) {
                if (read(0, &c, 1) != 1)
                        return n ? (int)n : -1;
                if (c == '\r' || c == '\n') {
                        if (own_echo)
                                put("\n");
                        buf[n] = '\0';
                        return (int)n;
                }
                if (c == 0x7f || c == 0x08) {
                        if (n > 0) {
                                n--;
                                if (own_echo)
                                        put("\b \b");
                        }
                } else if (c == 0x04 && n == 0) {
                        return -1;                      /* Ctrl-D */
                } else if (c >= ' ' && n + 1 < size) {
                        buf[n++] = c;
                        if (own_echo)
                                write(1, &c, 1);
                }
        }
}

static int split(char *line, char **argv)
{
        int argc = 0;

        for (char *t = strtok(line, " \t"); t && argc < MAX_ARGS - 1; t = strtok(NULL, " \t"))
                argv[argc++] = t;
        argv[argc] = NULL;
        return argc;
}

static void help(void)
{
        put("builtins: cd DIR, pwd, exit [N], fg, help\n"
            "programs in /bin (ls /bin): maps [PID], meminfo, pagewalk [ADDR [PID]],\n"
            "  cowdemo, ls [DIR], cat FILE..., echo ARGS...\n");
}

/* Give the terminal to job (a process group) and wait for it to exit or
 * stop; then take the terminal back. */
static void wait_job(const char *name, pid_t job)
{
        int status;

        if (job_control)
                tcsetpgrp(0, job);
        while (waitpid(job, &status, WUNTRACED) < 0 && errno == EINTR)
                ;
        if (job_control)
                tcsetpgrp(0, getpgrp());
        if (WIFSTOPPED(status)) {
                stopped_job = job;
                fprintf(stderr, "\nsh: %s: stopped (fg continues it)\n", name);
        } else if (WIFSIGNALED(status)) {
                fprintf(stderr, "%ssh: %s: killed by signal %d\n",
                        WTERMSIG(status) == SIGINT ? "\n" : "", name,
                        WTERMSIG(status));
        }
}

static void run(char **argv)
{
        char path[256];

        snprintf(path, sizeof path, "%s%s", strchr(argv[0], '/') ? "" : "/bin/", argv[0]);
        pid_t pid = fork();
        if (pid == 0) {
                if (job_control) {
                        setpgid(0, 0);
                        tcsetpgrp(0, getpid());
                        signal(SIGINT, SIG_DFL);
                        signal(SIGQUIT, SIG_DFL);
                        signal(SIGTSTP, SIG_DFL);
                        signal(SIGTTOU, SIG_DFL);
                }
                execve(path, argv, environ);
                fprintf(stderr, "sh: %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        if (pid < 0) {
                fprintf(stderr, "sh: fork: %s\n", strerror(errno));
                return;
        }
        if (job_control)
                setpgid(pid, pid);      /* both sides: whoever runs first */
        wait_job(argv[0], pid);
}

static void fg(void)
{
        pid_t job = stopped_job;

        if (!job) {
                put("fg: no stopped job\n");
                return;
        }
        stopped_job = 0;
        if (job_control)
                tcsetpgrp(0, job);
        kill(-job, SIGCONT);
        wait_job("job", job);
}

static int builtin(int argc, char **argv)
{
        char cwd[256];

        if (!strcmp(argv[0], "exit"))
                exit(argc > 1 ? atoi(argv[1]) : 0);
        if (!strcmp(argv[0], "help"))
                help();
        else if (!strcmp(argv[0], "fg"))
                fg();
        else if (!strcmp(argv[0], "pwd"))
                printf("%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
        else if (!strcmp(argv[0], "cd")) {
                if (chdir(argc > 1 ? argv[1] : "/") != 0)
                        fprintf(stderr, "cd: %s\n", strerror(errno));
        } else
                return 0;
        return 1;
}

int main(void)
{
        struct termios t;
        char line[512], cwd[256], *argv[MAX_ARGS];

        setvbuf(stdout, NULL, _IONBF, 0);
        own_echo = tcgetattr(0, &t) != 0;
        /* Job control needs a terminal that is ours, with our group in
         * the foreground; the shell itself ignores what ^C, ^\ and ^Z
         * send, and SIGTTOU when it takes the terminal back. */
        job_control = !own_echo && tcgetpgrp(0) == getpgrp();
        if (job_control) {
                signal(SIGINT, SIG_IGN);
                signal(SIGQUIT, SIG_IGN);
                signal(SIGTSTP, SIG_IGN);
                signal(SIGTTOU, SIG_IGN);
        }
        put("Mercator shell. Type help.\n");
        for (;;) {
                printf("mercator:%s$ ", getcwd(cwd, sizeof cwd) ? cwd : "?");
                if (read_line(line, sizeof line) < 0)
                        break;
                int argc = split(line, argv);
                if (argc && !builtin(argc, argv))
                        run(argv);
        }
        put("\n");
        return 0;
}
