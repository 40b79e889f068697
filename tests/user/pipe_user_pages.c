/*
 * pipe_user_pages.c - fs.pipe-user-pages-soft as Linux applies it: the
 * pages of pipe rings a user's pipes hold are charged to that user, and
 * an unprivileged user over the soft limit gets new pipes of two pages
 * and may not grow a ring. A child running as an otherwise unused uid
 * grows pipes to 1 MiB (pipe-max-size) until the soft limit refuses one;
 * root is not limited; closing the pipes gives the pages back.
 */
#include "utest.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define UID     54321           /* nobody else's pipes are charged to it */
#define BIG     (1 << 20)
#define MAXP    200

/* A /proc/sys number, or -1. */
static long sysctl_value(const char *path)
{
        FILE *f = fopen(path, "r");
        long v = -1;

        if (f && fscanf(f, "%ld", &v) != 1)
                v = -1;
        if (f)
                fclose(f);
        return v;
}

/* What can go wrong in the child: a bit each in its exit status. */
enum {
        GROWN_WRONG = 1, NO_EPERM = 2, NOT_SMALL = 4, SMALL_GREW = 8,
        SMALL_NOT_8K = 16, NOT_BACK = 32,
        SETUP_FAILED = 200,             /* setuid or pipe failed */
};

static int as_user(long soft)
{
        int fds[MAXP][2], n, grown = 0, bad = 0, small[2];
        static char buf[8193];

        if (setgid(UID) || setuid(UID))
                return SETUP_FAILED;
        /* Grow pipes to 1 MiB until the soft limit says no. */
        for (n = 0; n < MAXP; n++) {
                if (pipe(fds[n]))
                        return SETUP_FAILED;
                if (fcntl(fds[n][1], F_SETPIPE_SZ, BIG) != BIG)
                        break;
                grown++;
        }
        if (grown != soft / (BIG / 4096))
                bad |= GROWN_WRONG;     /* 64 at Linux's default 16384 */
        if (n == MAXP || errno != EPERM)
                bad |= NO_EPERM;
        /* Over the limit now: a new pipe has two pages and cannot grow. */
        if (pipe(small))
                return SETUP_FAILED;
        if (fcntl(small[1], F_GETPIPE_SZ) != 8192)
                bad |= NOT_SMALL;
        errno = 0;
        if (fcntl(small[1], F_SETPIPE_SZ, 65536) != -1 || errno != EPERM)
                bad |= SMALL_GREW;
        /* It holds exactly 8 KiB. */
        fcntl(small[1], F_SETFL, O_NONBLOCK);
        if (write(small[1], buf, sizeof buf) != 8192)
                bad |= SMALL_NOT_8K;
        close(small[0]);
        close(small[1]);
        for (int i = 0; i <= n && i < MAXP; i++)
                close(fds[i][0]), close(fds[i][1]);
        /* The pages are back: a new pipe has 64 KiB and may grow. */
        if (pipe(small) || fcntl(small[1], F_GETPIPE_SZ) != 65536 ||
            fcntl(small[1], F_SETPIPE_SZ, BIG) != BIG)
                bad |= NOT_BACK;
        return bad;
}

int main(void)
{
        utest_start("pipe_user_pages");
        long soft = sysctl_value("/proc/sys/fs/pipe-user-pages-soft");
        long hard = sysctl_value("/proc/sys/fs/pipe-user-pages-hard");
        long max = sysctl_value("/proc/sys/fs/pipe-max-size");
        CHECK("soft_limit_readable", soft > 0);
        CHECK("hard_limit_readable", hard >= 0);
        if (!CHECK("max_size_is_1m", max == BIG) ||
            !CHECK("soft_limit_fits_the_test", soft / 256 < MAXP - 2))
                return utest_done();
        int p[2];
        CHECK("root_pipe_64k", pipe(p) == 0 && fcntl(p[1], F_GETPIPE_SZ) == 65536);
        pid_t pid = fork();
        if (pid == 0)
                _exit(as_user(soft));
        int st = -1;
        waitpid(pid, &st, 0);
        int bad = WIFEXITED(st) ? WEXITSTATUS(st) : SETUP_FAILED;
        CHECK("child_ran_as_the_user", WIFEXITED(st) && bad != SETUP_FAILED);
        if (bad == SETUP_FAILED)
                bad = 0xff;
        CHECK("grows_to_the_soft_limit_exactly", !(bad & GROWN_WRONG));
        CHECK("growth_past_it_eperm", !(bad & NO_EPERM));
        CHECK("new_pipe_over_it_has_two_pages", !(bad & NOT_SMALL));
        CHECK("small_pipe_cannot_grow", !(bad & SMALL_GREW));
        CHECK("small_pipe_holds_8k", !(bad & SMALL_NOT_8K));
        CHECK("pages_back_after_close", !(bad & NOT_BACK));
        /* Root, meanwhile, is not limited. */
        CHECK("root_grows_past_it", fcntl(p[1], F_SETPIPE_SZ, BIG) == BIG);
        close(p[0]);
        close(p[1]);
        return utest_done();
}
