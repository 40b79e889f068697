/*
 * coredump.c - core files as Linux writes them: a child killed by
 * SIGABRT (and one by SIGSEGV) with RLIMIT_CORE unlimited leaves an ELF
 * core in its working directory, WCOREDUMP in its wait status. The file
 * is read back here: ET_CORE for this machine, a PT_NOTE with
 * NT_PRSTATUS (the child's pid and signal), NT_PRPSINFO (its name),
 * NT_SIGINFO (the signal, SEGV_MAPERR and the address for the fault),
 * NT_AUXV (AT_PAGESZ) and NT_FILE (this program mapped), and a PT_LOAD per
 * area of /proc/PID/maps: private memory the child wrote is in the file,
 * an area with MADV_DONTDUMP is there with nothing in the file (and
 * MADV_DODUMP puts it back), shared anonymous memory is left out when
 * /proc/self/coredump_filter (00000033 by default, inherited by fork)
 * says so. No core and no WCOREDUMP with RLIMIT_CORE 0 or below a page,
 * or after PR_SET_DUMPABLE 0; SIGTERM never dumps. A one-page limit cuts
 * the core short and still sets WCOREDUMP.
 * The core's name comes from kernel.core_pattern, which this test
 * does not change (it is the whole machine's): it needs "core" (Linux's
 * default, this host's) and prints a NOTE and checks nothing otherwise.
 */
#include "utest.h"
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef NT_SIGINFO
#define NT_SIGINFO      0x53494749
#endif
#ifndef NT_FILE
#define NT_FILE         0x46494c45
#endif
#ifndef MADV_DONTDUMP
#define MADV_DONTDUMP   16
#define MADV_DODUMP     17
#endif

#define MARK_LEN        (3 * PAGE)

static uint8_t *marked, *hidden, *shown, *shared;
static char self_name[16];

/* Fill p with a pattern that names it (tag) and appears nowhere else. */
static void mark(uint8_t *p, uint8_t tag)
{
        for (size_t i = 0; i < MARK_LEN; i++)
                p[i] = (uint8_t)(tag ^ (i * 131) ^ (i >> 9));
}

static int is_marked(const uint8_t *p, uint8_t tag)
{
        for (size_t i = 0; i < MARK_LEN; i++)
                if (p[i] != (uint8_t)(tag ^ (i * 131) ^ (i >> 9)))
                        return 0;
        return 1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
        struct stat st;
        int fd = open(path, O_RDONLY);
        uint8_t *b;

        if (fd < 0 || fstat(fd, &st) != 0) {
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        b = malloc((size_t)st.st_size + 1);
        *len = 0;
        while (b && *len < (size_t)st.st_size) {
                ssize_t n = read(fd, b + *len, (size_t)st.st_size - *len);
                if (n <= 0)
                        break;
                *len += (size_t)n;
        }
        close(fd);
        return b;
}

/* The child: how it dies. */
enum death { ABORT, SEGV, TERM };

static int areas_at_fork;

static int maps_lines(void);

static pid_t child(enum death how, rlim_t core_limit, int undumpable,
                   int *status)
{
        pid_t pid;

        areas_at_fork = maps_lines();
        pid = fork();

        if (pid == 0) {
                struct rlimit rl = { core_limit, core_limit };
                setrlimit(RLIMIT_CORE, &rl);
                if (undumpable)
                        prctl(PR_SET_DUMPABLE, 0);
                signal(SIGABRT, SIG_DFL);
                signal(SIGSEGV, SIG_DFL);
                if (how == SEGV) {
                        volatile uintptr_t bad = 0x10;
                        *(volatile int *)bad = 1;
                }
                if (how == TERM)
                        raise(SIGTERM);
                abort();
        }
        waitpid(pid, status, 0);
        return pid;
}

struct core {
        uint8_t   *b;
        size_t     len;
        ElfW(Ehdr) *eh;
};

static ElfW(Phdr) *phdr(struct core *c, int i)
{
        return (ElfW(Phdr) *)(c->b + c->eh->e_phoff + (size_t)i * c->eh->e_phentsize);
}

/* The note of this type: its descriptor and size, or NULL. */
static const uint8_t *find_note(struct core *c, uint32_t type, size_t *size)
{
        for (int i = 0; i < c->eh->e_phnum; i++) {
                ElfW(Phdr) *ph = phdr(c, i);
                if (ph->p_type != PT_NOTE || ph->p_offset + ph->p_filesz > c->len)
                        continue;
                size_t off = ph->p_offset, end = off + ph->p_filesz;
                while (off + 12 <= end) {
                        const uint32_t *n = (const uint32_t *)(c->b + off);
                        size_t name = (n[0] + 3) & ~3u, desc = (n[1] + 3) & ~3u;
                        if (n[2] == type && !memcmp(c->b + off + 12, "CORE", 4)) {
                                *size = n[1];
                                return c->b + off + 12 + name;
                        }
                        off += 12 + name + desc;
                }
        }
        return NULL;
}

/* The PT_LOAD at va, or NULL. */
static ElfW(Phdr) *load_at(struct core *c, const void *va)
{
        for (int i = 0; i < c->eh->e_phnum; i++) {
                ElfW(Phdr) *ph = phdr(c, i);
                if (ph->p_type == PT_LOAD && ph->p_vaddr <= (uintptr_t)va &&
                    (uintptr_t)va < ph->p_vaddr + ph->p_memsz)
                        return ph;
        }
        return NULL;
}

/* Does the file hold the bytes of va (tagged pattern) in its segment? */
static int holds(struct core *c, const uint8_t *va, uint8_t tag)
{
        ElfW(Phdr) *ph = load_at(c, va);
        size_t in = ph ? (size_t)((uintptr_t)va - ph->p_vaddr) : 0;

        return ph && in + MARK_LEN <= ph->p_filesz &&
               ph->p_offset + in + MARK_LEN <= c->len &&
               is_marked(c->b + ph->p_offset + in, tag);
}

static int maps_lines(void)
{
        static char buf[65536];
        int fd = open("/proc/self/maps", O_RDONLY), n = 0;
        ssize_t got;

        /* read(2) into a static buffer: stdio's would be an area itself */
        while (fd >= 0 && (got = read(fd, buf, sizeof buf)) > 0)
                for (ssize_t i = 0; i < got; i++)
                        n += buf[i] == '\n';
        if (fd >= 0)
                close(fd);
        return n;
}

static void check_abort_core(pid_t pid, int st)
{
        struct core c = { 0 };
        size_t n;

        CHECK("abort_core_bit", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
                                WCOREDUMP(st));
        c.b = slurp("core", &c.len);
        CHECK("abort_core_file", c.b != NULL && c.len >= sizeof(ElfW(Ehdr)));
        if (!c.b || c.len < sizeof(ElfW(Ehdr)))
                return;
        c.eh = (ElfW(Ehdr) *)c.b;
        CHECK("elf_core", !memcmp(c.b, ELFMAG, SELFMAG) && c.eh->e_type == ET_CORE &&
                          c.eh->e_ident[EI_CLASS] == (sizeof(long) == 8 ? ELFCLASS64 : ELFCLASS32) &&
                          c.eh->e_phentsize == sizeof(ElfW(Phdr)) &&
                          c.eh->e_phoff + (size_t)c.eh->e_phnum * sizeof(ElfW(Phdr)) <= c.len);
        CHECK("machine", c.eh->e_machine == (sizeof(long) == 8 ? EM_X86_64 : EM_386));
        int loads = 0;
        for (int i = 0; i < c.eh->e_phnum; i++)
                loads += phdr(&c, i)->p_type == PT_LOAD;
        /* The child's areas were the parent's (it only forked). */
        CHECK("a_load_per_area", loads == areas_at_fork);
        CHECK("first_is_note", c.eh->e_phnum > 0 && phdr(&c, 0)->p_type == PT_NOTE);

        const uint8_t *d = find_note(&c, NT_PRSTATUS, &n);
        /* elf_prstatus: pr_info (3 ints), pr_cursig, ..., pr_pid. */
        size_t pid_off = sizeof(long) == 8 ? 32 : 24;
        CHECK("prstatus", d && n > pid_off + 4 &&
                          *(const int32_t *)d == SIGABRT &&
                          *(const int16_t *)(d + 12) == SIGABRT &&
                          *(const int32_t *)(d + pid_off) == pid);
        d = find_note(&c, NT_PRPSINFO, &n);
        size_t fname_off = sizeof(long) == 8 ? 40 : 28;
        CHECK("prpsinfo", d && n >= fname_off + 16 &&
                          !strncmp((const char *)d + fname_off, self_name, 15));
        d = find_note(&c, NT_SIGINFO, &n);
        CHECK("siginfo", d && n == 128 && *(const int32_t *)d == SIGABRT);
        d = find_note(&c, NT_AUXV, &n);
        int pagesz = 0;
        for (size_t i = 0; d && i + 2 * sizeof(long) <= n; i += 2 * sizeof(long))
                if (*(const unsigned long *)(d + i) == AT_PAGESZ)
                        pagesz = *(const unsigned long *)(d + i + sizeof(long)) == PAGE;
        CHECK("auxv_pagesz", pagesz);
        d = find_note(&c, NT_FILE, &n);
        int self_mapped = 0;
        if (d && n > 2 * sizeof(long)) {
                unsigned long count = ((const unsigned long *)d)[0];
                const char *names = (const char *)d + (2 + 3 * count) * sizeof(long);
                for (unsigned long i = 0; i < count && names < (const char *)d + n; i++) {
                        const char *base = strrchr(names, '/');
                        if (base && !strncmp(base + 1, self_name, 15))
                                self_mapped = 1;
                        names += strlen(names) + 1;
                }
        }
        CHECK("nt_file_names_program", self_mapped);

        CHECK("written_memory_dumped", holds(&c, marked, 1));
        ElfW(Phdr) *ph = load_at(&c, hidden);
        CHECK("dontdump_left_out", ph && ph->p_filesz == 0 &&
                                   ph->p_memsz >= MARK_LEN);
        CHECK("dodump_put_back", holds(&c, shown, 3));
        ph = load_at(&c, shared);
        CHECK("shared_anon_dumped_by_default", ph && holds(&c, shared, 4));
        free(c.b);
        unlink("core");
}

static void check_segv_core(pid_t pid, int st)
{
        struct core c = { 0 };
        size_t n;

        CHECK("segv_core_bit", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV &&
                               WCOREDUMP(st));
        c.b = slurp("core", &c.len);
        CHECK("segv_core_file", c.b && c.len >= sizeof(ElfW(Ehdr)));
        if (!c.b || c.len < sizeof(ElfW(Ehdr)))
                return;
        c.eh = (ElfW(Ehdr) *)c.b;
        const uint8_t *d = find_note(&c, NT_SIGINFO, &n);
        const siginfo_t *si = (const siginfo_t *)d;
        CHECK("segv_siginfo", d && n == 128 && si->si_signo == SIGSEGV &&
                              si->si_code == SEGV_MAPERR &&
                              (uintptr_t)si->si_addr == 0x10);
        /* coredump_filter 1 (set before the fork): no shared memory. */
        ElfW(Phdr) *ph = load_at(&c, shared);
        CHECK("filter_leaves_out_shared", ph && ph->p_filesz == 0);
        CHECK("filter_keeps_private", holds(&c, marked, 1));
        (void)pid;
        free(c.b);
        unlink("core");
}

static int read_filter(void)
{
        char buf[32] = { 0 };
        int fd = open("/proc/self/coredump_filter", O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

        if (fd >= 0)
                close(fd);
        return n > 0 ? (int)strtol(buf, NULL, 16) : -1;
}

static int write_filter(const char *s)
{
        return write_text("/proc/self/coredump_filter", s) ? -1 : 0;
}

int main(int argc, char **argv)
{
        char pattern[256] = { 0 }, dir[] = "/tmp/coredumpXXXXXX";
        int fd, st, uses_pid = 0;
        pid_t pid;

        utest_start("coredump");
        (void)argc, (void)argv;
        /* The name the kernel gives the process (comm): the file exec'd. */
        char exe[256] = { 0 };
        CHECK("exe_link", readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
        const char *base = strrchr(exe, '/');
        snprintf(self_name, sizeof self_name, "%s", base ? base + 1 : exe);
        fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);
        CHECK("core_pattern_readable", fd >= 0 && read(fd, pattern, sizeof pattern - 1) > 0);
        close(fd);
        fd = open("/proc/sys/kernel/core_uses_pid", O_RDONLY);
        char c = '0';
        if (fd >= 0 && read(fd, &c, 1) == 1)
                uses_pid = c != '0';
        close(fd);
        if (strcmp(pattern, "core\n") != 0 || uses_pid) {
                printf("NOTE coredump: core_pattern is \"%.*s\", core_uses_pid %d: "
                       "the checks need \"core\" and 0\n",
                       (int)strcspn(pattern, "\n"), pattern, uses_pid);
                return utest_done();
        }
        CHECK("filter_default", read_filter() == 0x33);
        CHECK("mkdtemp", mkdtemp(dir) && chdir(dir) == 0);

        marked = anon(MARK_LEN, PROT_READ | PROT_WRITE);
        hidden = anon(MARK_LEN, PROT_READ | PROT_WRITE);
        shown = anon(MARK_LEN, PROT_READ | PROT_WRITE);
        shared = mmap(NULL, MARK_LEN, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK("shared_mapped", shared != MAP_FAILED);
        mark(marked, 1);
        mark(hidden, 2);
        mark(shown, 3);
        mark(shared, 4);
        /* Areas that stay apart: PROT_EXEC neighbours would not merge. */
        CHECK("dontdump", madvise(hidden, MARK_LEN, MADV_DONTDUMP) == 0);
        CHECK("dontdump_dodump", madvise(shown, MARK_LEN, MADV_DONTDUMP) == 0 &&
                                 madvise(shown, MARK_LEN, MADV_DODUMP) == 0);
        CHECK("madvise_still_reads", is_marked(hidden, 2) && is_marked(shown, 3));

        pid = child(ABORT, RLIM_INFINITY, 0, &st);
        check_abort_core(pid, st);

        pid = child(ABORT, 0, 0, &st);
        CHECK("no_limit_no_core", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
                                  !WCOREDUMP(st) && access("core", F_OK) != 0);
        pid = child(ABORT, PAGE - 1, 0, &st);
        CHECK("limit_below_page_no_core", WIFSIGNALED(st) && !WCOREDUMP(st) &&
                                          access("core", F_OK) != 0);
        /* One page: the core is cut short there, and counts (as LTP's
         * waitpid01 expects). */
        pid = child(ABORT, PAGE, 0, &st);
        struct stat cs;
        CHECK("one_page_limit_cut_short", WIFSIGNALED(st) && WCOREDUMP(st) &&
                                          stat("core", &cs) == 0 && cs.st_size > 0 &&
                                          cs.st_size <= (off_t)PAGE);
        unlink("core");
        pid = child(ABORT, RLIM_INFINITY, 1, &st);
        CHECK("undumpable_no_core", WIFSIGNALED(st) && !WCOREDUMP(st) &&
                                    access("core", F_OK) != 0);
        pid = child(TERM, RLIM_INFINITY, 0, &st);
        CHECK("sigterm_no_core", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM &&
                                 !WCOREDUMP(st) && access("core", F_OK) != 0);

        CHECK("filter_write", write_filter("0x1\n") == 0 && read_filter() == 1);
        pid = child(SEGV, RLIM_INFINITY, 0, &st);
        check_segv_core(pid, st);
        /* Linux reads it as C does a number: 0x hex, 0 octal, else decimal. */
        CHECK("filter_decimal", write_filter("17") == 0 && read_filter() == 0x11);
        CHECK("filter_restore", write_filter("0x33") == 0 && read_filter() == 0x33);
        chdir("/");
        rmdir(dir);
        return utest_done();
}
