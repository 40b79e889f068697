/*
 * tty_canon.c - the terminal's line discipline, fed by tty_canon.input:
 * canonical line editing (erase, word erase, kill, literal next, ^D),
 * echo and its flags, input and output mapping, raw mode with VMIN and
 * VTIME, flushing, FIONREAD, the window size, poll and select on the
 * terminal, and ENOTTY/isatty on pipes and files.
 *
 * The program prints "@name" when it is ready for a piece of input; the
 * script waits for that, types, and checks the echo on the terminal's
 * side. On Linux, tools/test.py runs it on a pseudo-terminal.
 */
#include "utest.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <termios.h>
#include <time.h>

static struct termios saved;

static void ready(const char *name)
{
        printf("@%s\n", name);
}

/* A line ended by the terminal's echo may not end in a newline: start
 * the next PASS/FAIL line on a line of its own. */
static void nl(void)
{
        write(1, "\n", 1);
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* nanosleep itself (glibc's usleep is clock_nanosleep). */
static void sleep_ms(int ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        syscall(SYS_nanosleep, &ts, NULL);
}

static ssize_t rd(char *buf, size_t len)
{
        ssize_t n = read(0, buf, len);

        if (n >= 0 && (size_t)n < len)
                buf[n] = '\0';
        return n;
}

static void set(struct termios *t)
{
        if (tcsetattr(0, TCSANOW, t) != 0)
                printf("FAIL tty_canon/tcsetattr: %s\n", strerror(errno));
}

static void not_a_terminal(const char *file)
{
        struct termios t;
        struct winsize ws;
        int p[2];

        CHECK("isatty_stdin", isatty(0) == 1);
        if (pipe(p) != 0)
                return;
        errno = 0;
        CHECK("isatty_pipe_false", isatty(p[0]) == 0 && errno == ENOTTY);
        CHECK_ERR("tcgetattr_pipe_enotty", tcgetattr(p[1], &t), ENOTTY);
        CHECK_ERR("tiocgwinsz_pipe_enotty", ioctl(p[0], TIOCGWINSZ, &ws), ENOTTY);
        close(p[0]);
        close(p[1]);
        int fd = open(file, O_RDONLY);
        errno = 0;
        CHECK("isatty_file_false", fd >= 0 && isatty(fd) == 0 && errno == ENOTTY);
        CHECK_ERR("tcgetattr_file_enotty", tcgetattr(fd, &t), ENOTTY);
        CHECK_ERR("tcsetattr_file_enotty", tcsetattr(fd, TCSANOW, &t), ENOTTY);
        close(fd);
        CHECK_ERR("ioctl_bad_fd", ioctl(99, TCGETS, &t), EBADF);
}

static void defaults(void)
{
        struct termios t;

        CHECK("tcgetattr", tcgetattr(0, &t) == 0);
        CHECK("default_lflag", (t.c_lflag & (ICANON | ECHO | ISIG | ECHOE | ECHOK)) ==
                               (ICANON | ECHO | ISIG | ECHOE | ECHOK));
        CHECK("default_iflag_icrnl", t.c_iflag & ICRNL);
        CHECK("default_oflag", (t.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR));
        CHECK("default_cc", t.c_cc[VERASE] == 0x7f && t.c_cc[VKILL] == 0x15 &&
                            t.c_cc[VEOF] == 4 && t.c_cc[VINTR] == 3 &&
                            t.c_cc[VMIN] == 1 && t.c_cc[VTIME] == 0);
        CHECK_ERR("tcgetattr_efault", ioctl(0, TCGETS, (void *)8), EFAULT);
        CHECK_ERR("tcsetattr_efault", ioctl(0, TCSETS, (void *)8), EFAULT);
}

static void line_editing(void)
{
        char buf[256];

        ready("erase");
        CHECK("erase", rd(buf, sizeof buf) == 4 && !strcmp(buf, "abc\n"));
        ready("kill");
        CHECK("kill", rd(buf, sizeof buf) == 5 && !strcmp(buf, "line\n"));
        ready("werase");
        CHECK("werase", rd(buf, sizeof buf) == 10 && !strcmp(buf, "one three\n"));
        ready("lnext");
        CHECK("lnext_literal_erase", rd(buf, sizeof buf) == 4 &&
                                     !memcmp(buf, "a\x7f" "b\n", 4));
        ready("eof");
        ssize_t n = rd(buf, sizeof buf);
        nl();
        CHECK("eof_ends_line_without_newline", n == 7 && !memcmp(buf, "partial", 7));
        CHECK("eof_alone_reads_zero", rd(buf, sizeof buf) == 0);
        ready("short");
        CHECK("short_read_takes_part", rd(buf, 3) == 3 && !memcmp(buf, "abc", 3));
        CHECK("short_read_rest", rd(buf, sizeof buf) == 4 && !strcmp(buf, "def\n"));
        /* Both lines are read before either result is printed: the
         * first read may return while "l2" is still being typed, and its
         * echo would land in front of a result printed then ("l2PASS
         * ...", a line the harness cannot count; seen about 1 run in 20
         * on riscv64). The second read returns only after l2's newline,
         * whose echo comes before the line is readable. */
        ready("twolines");
        ssize_t n1 = rd(buf, sizeof buf);
        int first_ok = n1 == 3 && !strcmp(buf, "l1\n");
        ssize_t n2 = rd(buf, sizeof buf);
        CHECK("one_line_per_read", first_ok);
        CHECK("second_line", n2 == 3 && !strcmp(buf, "l2\n"));
        ready("ctl");
        CHECK("control_char_read", rd(buf, sizeof buf) == 2 && !strcmp(buf, "\x01\n"));
}

static void echo_flags(void)
{
        struct termios t = saved;
        char buf[256];

        t.c_lflag &= ~(tcflag_t)ECHO;
        set(&t);
        ready("noecho");
        CHECK("noecho_read", rd(buf, sizeof buf) == 7 && !strcmp(buf, "secret\n"));
        t.c_lflag |= ECHONL;
        set(&t);
        ready("echonl");
        CHECK("echonl_read", rd(buf, sizeof buf) == 4 && !strcmp(buf, "pin\n"));
        t = saved;
        t.c_lflag &= ~(tcflag_t)ECHOCTL;
        set(&t);
        ready("noechoctl");
        CHECK("noechoctl_read", rd(buf, sizeof buf) == 3 && !strcmp(buf, "q\x02\n"));
        set(&saved);
}

static void input_mapping(void)
{
        struct termios t = saved;
        char buf[256];

        ready("icrnl");
        CHECK("icrnl", rd(buf, sizeof buf) == 3 && !strcmp(buf, "cr\n"));
        t.c_iflag |= IGNCR;
        set(&t);
        ready("igncr");
        CHECK("igncr", rd(buf, sizeof buf) == 3 && !strcmp(buf, "ab\n"));
        t.c_iflag &= ~(tcflag_t)(IGNCR | ICRNL);
        set(&t);
        ready("nocrnl");
        CHECK("cr_is_ordinary_without_icrnl", rd(buf, sizeof buf) == 4 &&
                                              !strcmp(buf, "c\rd\n"));
        t.c_lflag &= ~(tcflag_t)ICANON;
        t.c_iflag |= INLCR;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        set(&t);
        ready("inlcr");
        CHECK("inlcr", rd(buf, 1) == 1 && buf[0] == '\r' && (nl(), 1));
        set(&saved);
}

static void output_processing(void)
{
        struct termios t = saved;

        printf("o1\no2\n");
        t.c_oflag &= ~(tcflag_t)OPOST;
        set(&t);
        printf("o3\no4\n");
        t.c_oflag |= OPOST;
        t.c_oflag &= ~(tcflag_t)ONLCR;
        set(&t);
        printf("o5\no6\n");
        set(&saved);
        ready("output");
}

static void raw_mode(void)
{
        struct termios t = saved;
        char buf[8192];
        double t0;
        ssize_t n;

        t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        set(&t);
        t0 = now();
        CHECK("min0_time0_returns_at_once", rd(buf, sizeof buf) == 0 && now() - t0 < 1);
        t.c_cc[VTIME] = 3;
        set(&t);
        t0 = now();
        n = rd(buf, sizeof buf);
        CHECK("min0_time3_times_out", n == 0 && now() - t0 >= 0.25 && now() - t0 < 5);
        t.c_cc[VTIME] = 100;
        set(&t);
        ready("min0time");
        CHECK("min0_time_takes_a_byte", rd(buf, sizeof buf) >= 1 && buf[0] == 'z');
        t.c_cc[VMIN] = 3;
        t.c_cc[VTIME] = 0;
        set(&t);
        ready("min3");
        n = rd(buf, sizeof buf);
        CHECK("min3_waits_for_three", n == 3 && !memcmp(buf, "abc", 3));
        t.c_cc[VMIN] = 5;
        t.c_cc[VTIME] = 5;
        set(&t);
        ready("min5time");
        t0 = now();
        n = rd(buf, sizeof buf);
        CHECK("min5_time5_interbyte_timeout", n == 2 && !memcmp(buf, "xy", 2));
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        set(&t);
        ready("rawerase");
        /* A serial line delivers byte by byte: VMIN 1 may see one. */
        n = rd(buf, sizeof buf);
        if (n == 1 && rd(buf + 1, sizeof buf - 1) == 1)
                n = 2;
        CHECK("raw_erase_is_data", n == 2 && !memcmp(buf, "\x7f\x15", 2));
        /* More input than the terminal's buffer holds, arriving while
         * nobody reads: none of it may be lost. */
        ready("flood");
        sleep_ms(500);
        size_t total = 0;
        int bad = 0;
        while (total < 6000 && (n = rd(buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < n; i++)
                        bad += buf[i] != "0123456789"[(total + i) % 10];
                total += (size_t)n;
        }
        CHECK("flood_nothing_lost", total == 6000 && bad == 0);
        set(&saved);
}

static void flush_and_inq(void)
{
        struct pollfd p = { .fd = 0, .events = POLLIN };
        struct termios t = saved;
        char buf[256];
        int n = -1;

        t.c_lflag &= ~(tcflag_t)ECHO;           /* no echo among the checks */
        set(&t);
        /* "abc\nde" is typed: one complete line and the start of the
         * next; FIONREAD counts the complete line only. */
        ready("inq");
        CHECK("inq_poll_line", poll(&p, 1, 20000) == 1 && (p.revents & POLLIN));
        sleep_ms(200);
        CHECK("fionread_complete_lines_only", ioctl(0, FIONREAD, &n) == 0 && n == 4);
        CHECK("tcflush_input", tcflush(0, TCIFLUSH) == 0 &&
                               ioctl(0, FIONREAD, &n) == 0 && n == 0);
        ready("afterflush");
        CHECK("after_flush_reads_new_line", rd(buf, sizeof buf) == 3 && !strcmp(buf, "ok\n"));
        CHECK_ERR("tcflush_bad_queue", tcflush(0, 7), EINVAL);
        CHECK("tcflow_ooff_oon", tcflow(0, TCOOFF) == 0 && tcflow(0, TCOON) == 0);
        CHECK_ERR("tcflow_bad", tcflow(0, 9), EINVAL);
        CHECK("tcdrain", tcdrain(0) == 0);
        set(&saved);
}

static void window_size(void)
{
        struct winsize ws = { .ws_row = 33, .ws_col = 101 }, got;

        CHECK("tiocswinsz", ioctl(0, TIOCSWINSZ, &ws) == 0);
        CHECK("tiocgwinsz", ioctl(0, TIOCGWINSZ, &got) == 0 &&
                            got.ws_row == 33 && got.ws_col == 101);
        CHECK_ERR("tiocgwinsz_efault", ioctl(0, TIOCGWINSZ, (void *)8), EFAULT);
}

static void poll_select(void)
{
        struct pollfd p = { .fd = 0, .events = POLLIN | POLLOUT };
        struct timeval tv = { 0, 200000 };
        char buf[256];
        fd_set rs;
        double t0 = now();

        p.events = POLLIN;
        CHECK("poll_tty_times_out", poll(&p, 1, 200) == 0 && now() - t0 >= 0.15);
        p.events = POLLOUT;
        CHECK("poll_tty_writable", poll(&p, 1, 0) == 1 && p.revents == POLLOUT);
        FD_ZERO(&rs);
        FD_SET(0, &rs);
        t0 = now();
        CHECK("select_tty_times_out", select(1, &rs, NULL, NULL, &tv) == 0 &&
                                      !FD_ISSET(0, &rs) && now() - t0 >= 0.15);
        ready("pollin");
        p.events = POLLIN;
        CHECK("poll_tty_wakes_on_line", poll(&p, 1, 20000) == 1 && p.revents == POLLIN);
        CHECK("poll_line_read", rd(buf, sizeof buf) == 2 && !strcmp(buf, "p\n"));
        ready("selectin");
        FD_ZERO(&rs);
        FD_SET(0, &rs);
        tv = (struct timeval){ 20, 0 };
        CHECK("select_tty_wakes_on_line", select(1, &rs, NULL, NULL, &tv) == 1 &&
                                          FD_ISSET(0, &rs));
        CHECK("select_line_read", rd(buf, sizeof buf) == 2 && !strcmp(buf, "s\n"));
}

int main(int argc, char **argv)
{
        utest_start("tty_canon");
        if (tcgetattr(0, &saved) != 0) {
                printf("FAIL tty_canon/setup: stdin is not a terminal\n");
                return 1;
        }
        not_a_terminal(argc > 1 ? argv[1] : "/proc/self/maps");
        defaults();
        line_editing();
        echo_flags();
        input_mapping();
        output_processing();
        raw_mode();
        flush_and_inq();
        window_size();
        poll_select();
        set(&saved);
        ready("done");
        return utest_done();
}
