/*
 * sh.c - Mercator's shell: reads a line (with backspace), runs builtins
 * (cd, pwd, exit, help) or a program from /bin with fork + execve + wait.
 * It is /init when `make run` boots. It also runs on Linux.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_ARGS 32

extern char **environ;
static int own_echo;            /* no terminal driver echoes for us */

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
        put("builtins: cd DIR, pwd, exit [N], help\n"
            "programs in /bin (ls /bin): maps [PID], meminfo, pagewalk [ADDR [PID]],\n"
            "  cowdemo, ls [DIR], cat FILE..., echo ARGS...\n");
}

static void run(char **argv)
{
        char path[256];
        int status;

        snprintf(path, sizeof path, "%s%s", strchr(argv[0], '/') ? "" : "/bin/", argv[0]);
        pid_t pid = fork();
        if (pid == 0) {
                execve(path, argv, environ);
                fprintf(stderr, "sh: %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0) {
                fprintf(stderr, "sh: fork: %s\n", strerror(errno));
                return;
        }
        if (WIFSIGNALED(status))
                fprintf(stderr, "sh: %s: killed by signal %d\n", argv[0], WTERMSIG(status));
}

static int builtin(int argc, char **argv)
{
        char cwd[256];

        if (!strcmp(argv[0], "exit"))
                exit(argc > 1 ? atoi(argv[1]) : 0);
        if (!strcmp(argv[0], "help"))
                help();
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
