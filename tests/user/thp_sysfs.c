/*
 * thp_sysfs.c - /sys/kernel/mm/transparent_hugepage (issue 17).
 *
 * Everywhere: sysfs is mounted at /sys (statfs magic); enabled and defrag
 * name Linux's choices in Linux's order with exactly one in brackets;
 * hpage_pmd_size is 2 MiB; the files' modes and owner (0644 / 0444, root);
 * the directory lists them; nobody may open hpage_pmd_size for writing.
 *
 * Changing the policy is only done where tools/run booted the program
 * (Mercator, or Linux in QEMU as the referee: /.mercator-args exists) and
 * as root; on the host it would change the host, so there it prints a
 * NOTE. There: every word of each file is taken and shown in brackets
 * (with or without a newline), others get EINVAL and change nothing, a
 * non-root writer gets EACCES, and the fault path follows enabled: with
 * "always" an area without MADV_HUGEPAGE gets huge pages, with "madvise"
 * only a MADV_HUGEPAGE one does, with "never" not even that one (smaps
 * AnonHugePages). The first settings are put back at the end.
 */
#include "utest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define DIR_THP "/sys/kernel/mm/transparent_hugepage"
#define HUGE    (2UL << 20)
#define SYSFS_MAGIC 0x62656572

static const char *const enabled_words[] = { "always", "madvise", "never" };
static const char *const defrag_words[] = {
        "always", "defer", "defer+madvise", "madvise", "never",
};

/* The file's text (NUL-terminated) into buf; its length or -1. */
static long read_file(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY);
        long n;

        if (fd < 0)
                return -1;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n >= 0)
                buf[n] = '\0';
        return n;
}

/* Write the text to path in one write(2): 0, or -1 with errno. */
static int write_file(const char *path, const char *text)
{
        int e = write_text(path, text);

        if (e)
                errno = e;
        return e ? -1 : 0;
}

/*
 * Is text "w0 w1 ... wn\n" with exactly one word "[wi]"? => that i, or -1.
 */
static int choice_of(const char *text, const char *const *words, int n)
{
        char want[256];
        int cur = -1;

        for (int i = 0; i < n; i++) {
                size_t len = strlen(text);
                want[0] = '\0';
                for (int j = 0; j < n; j++) {
                        strcat(want, j ? " " : "");
                        strcat(want, j == i ? "[" : "");
                        strcat(want, words[j]);
                        strcat(want, j == i ? "]" : "");
                }
                strcat(want, "\n");
                if (len == strlen(want) && strcmp(text, want) == 0)
                        cur = i;
        }
        return cur;
}

static int current_choice(const char *file, const char *const *words, int n)
{
        char path[128], buf[256];

        snprintf(path, sizeof path, "%s/%s", DIR_THP, file);
        return read_file(path, buf, sizeof buf) > 0 ? choice_of(buf, words, n)
                                                    : -1;
}

/* Huge pages (kB) a fresh aligned 4 MiB region gets when written all
 * through, with or without MADV_HUGEPAGE. */
static long huge_kb_after_touch(int madv)
{
        size_t len = 2 * HUGE;
        char *p = (char *)anon(len + HUGE, PROT_READ | PROT_WRITE);
        char *a = (char *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));
        long kb;

        if (madv)
                madvise(a, len, MADV_HUGEPAGE);
        for (size_t off = 0; off < len; off += PAGE)
                a[off] = 1;
        kb = smaps_field(a, "AnonHugePages");
        munmap(p, len + HUGE);
        return kb;
}

static void read_checks(void)
{
        char buf[256];
        struct statfs sfs;
        struct stat st;

        CHECK("sysfs_mounted", statfs("/sys", &sfs) == 0 &&
                               (unsigned long)sfs.f_type == SYSFS_MAGIC);
        CHECK("enabled_format",
              current_choice("enabled", enabled_words, 3) >= 0);
        CHECK("defrag_format",
              current_choice("defrag", defrag_words, 5) >= 0);
        CHECK("hpage_pmd_size",
              read_file(DIR_THP "/hpage_pmd_size", buf, sizeof buf) > 0 &&
              strcmp(buf, "2097152\n") == 0);
        CHECK("enabled_mode", stat(DIR_THP "/enabled", &st) == 0 &&
                              st.st_mode == (S_IFREG | 0644) && st.st_uid == 0);
        CHECK("defrag_mode", stat(DIR_THP "/defrag", &st) == 0 &&
                             st.st_mode == (S_IFREG | 0644) && st.st_uid == 0);
        CHECK("pmd_size_mode", stat(DIR_THP "/hpage_pmd_size", &st) == 0 &&
                               st.st_mode == (S_IFREG | 0444));
        CHECK("use_zero_page_format",
              read_file(DIR_THP "/use_zero_page", buf, sizeof buf) > 0 &&
              (strcmp(buf, "0\n") == 0 || strcmp(buf, "1\n") == 0));
        CHECK("use_zero_page_mode", stat(DIR_THP "/use_zero_page", &st) == 0 &&
                                    st.st_mode == (S_IFREG | 0644));
        CHECK("dir_mode", stat(DIR_THP, &st) == 0 && S_ISDIR(st.st_mode));

        DIR *d = opendir(DIR_THP);
        int seen = 0;
        struct dirent *e;
        while (d && (e = readdir(d))) {
                seen |= strcmp(e->d_name, "enabled") == 0;
                seen |= (strcmp(e->d_name, "defrag") == 0) << 1;
                seen |= (strcmp(e->d_name, "hpage_pmd_size") == 0) << 2;
        }
        if (d)
                closedir(d);
        CHECK("dir_lists_files", seen == 7);
        CHECK_ERR("no_such_file", open(DIR_THP "/nosuch", O_RDONLY), ENOENT);
        CHECK_ERR("pmd_size_not_writable",
                  open(DIR_THP "/hpage_pmd_size", O_WRONLY), EACCES);
        CHECK_ERR("no_create", open(DIR_THP "/new", O_WRONLY | O_CREAT, 0644),
                  EACCES);
}

static void write_checks(void)
{
        int en0 = current_choice("enabled", enabled_words, 3);
        int df0 = current_choice("defrag", defrag_words, 5);
        int ok = 1;

        for (int i = 0; i < 5; i++)
                ok &= write_file(DIR_THP "/defrag", defrag_words[i]) == 0 &&
                      current_choice("defrag", defrag_words, 5) == i;
        CHECK("defrag_every_word", ok);
        CHECK("defrag_newline", write_file(DIR_THP "/defrag", "defer\n") == 0 &&
                                current_choice("defrag", defrag_words, 5) == 1);
        CHECK_ERR("defrag_bad_word", write_file(DIR_THP "/defrag", "sometimes"),
                  EINVAL);
        CHECK_ERR("defrag_bracketed",
                  write_file(DIR_THP "/defrag", "[madvise]"), EINVAL);
        CHECK("defrag_bad_changes_nothing",
              current_choice("defrag", defrag_words, 5) == 1);

        ok = 1;
        for (int i = 0; i < 3; i++)
                ok &= write_file(DIR_THP "/enabled", enabled_words[i]) == 0 &&
                      current_choice("enabled", enabled_words, 3) == i;
        CHECK("enabled_every_word", ok);
        CHECK_ERR("enabled_bad_word", write_file(DIR_THP "/enabled", "alwaysx"),
                  EINVAL);
        CHECK_ERR("enabled_two_newlines",
                  write_file(DIR_THP "/enabled", "always\n\n"), EINVAL);
        CHECK("enabled_bad_changes_nothing",
              current_choice("enabled", enabled_words, 3) == 2);

        char buf[16];
        read_file(DIR_THP "/use_zero_page", buf, sizeof buf);
        int zero0 = buf[0] == '1';
        CHECK("use_zero_page_off", write_file(DIR_THP "/use_zero_page", "0\n") == 0 &&
                                   read_file(DIR_THP "/use_zero_page", buf, sizeof buf) > 0 &&
                                   strcmp(buf, "0\n") == 0);
        CHECK_ERR("use_zero_page_two", write_file(DIR_THP "/use_zero_page", "2"),
                  EINVAL);
        write_file(DIR_THP "/use_zero_page", zero0 ? "1" : "0");
        CHECK("use_zero_page_restored",
              read_file(DIR_THP "/use_zero_page", buf, sizeof buf) > 0 &&
              buf[0] == (zero0 ? '1' : '0'));

        pid_t pid = fork();
        if (pid == 0) {
                if (setgid(65534) || setuid(65534))
                        _exit(3);
                int fd = open(DIR_THP "/enabled", O_WRONLY);
                _exit(fd < 0 && errno == EACCES ? 0 : 1);
        }
        int status = -1;
        waitpid(pid, &status, 0);
        CHECK("non_root_may_not_write", WIFEXITED(status) &&
                                        WEXITSTATUS(status) == 0);

        /* The fault path follows the setting. */
        write_file(DIR_THP "/enabled", "always\n");
        CHECK("always_without_madvise", huge_kb_after_touch(0) == 4096);
        write_file(DIR_THP "/enabled", "madvise\n");
        CHECK("madvise_without_madvise", huge_kb_after_touch(0) == 0);
        CHECK("madvise_with_madvise", huge_kb_after_touch(1) == 4096);
        write_file(DIR_THP "/enabled", "never\n");
        CHECK("never_with_madvise", huge_kb_after_touch(1) == 0);

        if (en0 >= 0)
                write_file(DIR_THP "/enabled", enabled_words[en0]);
        if (df0 >= 0)
                write_file(DIR_THP "/defrag", defrag_words[df0]);
        CHECK("settings_restored",
              current_choice("enabled", enabled_words, 3) == en0 &&
              current_choice("defrag", defrag_words, 5) == df0);
}

int main(void)
{
        utest_start("thp_sysfs");
        read_checks();
        if (access("/.mercator-args", F_OK) == 0 && geteuid() == 0)
                write_checks();
        else
                printf("NOTE thp_sysfs: not booted by tools/run as root, so "
                       "the settings are only read\n");
        return utest_done();
}
