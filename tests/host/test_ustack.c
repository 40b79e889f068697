/*
 * test_ustack.c - the initial user stack, byte by byte: its layout read
 * back through the user addresses it holds, its limits, and a comparison
 * with the stack Linux built for a real program given the same inputs.
 */
#define _DEFAULT_SOURCE                 /* readlink, fork: fixture.h */
#include "check.h"
#include "fixtures/fixture.h"

#include <exec/ustack.h>
#include <machine/vmparam.h>

/* A page-aligned stack top: x86-64 Linux's 0x7ffffffde000, and as far
 * below USER_MAX on every format. */
#define TOP     (USER_MAX - 0x21000UL)
#define BUFLEN  (64 * 1024)

static const uint8_t rnd16[16] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
        0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

/* A buffer for a stack, and the translation of its user VAs. */
struct stackbuf {
        uint8_t *buf;
        size_t   len;
        uint64_t top;
};

static void sb_init(struct stackbuf *sb, struct ustack_args *a, uint64_t top,
                    size_t len)
{
        sb->buf = malloc(len);
        CHECK(sb->buf != NULL);
        memset(sb->buf, 0xa5, len);     /* not zero: padding must be written */
        sb->len = len;
        sb->top = top;
        a->stack_top = top;
        a->buf = sb->buf;
        a->buf_len = len;
}

static const uint8_t *sb_at(const struct stackbuf *sb, uint64_t va, size_t n)
{
        if (va > sb->top || n > sb->top - va || sb->top - va > sb->len)
                check_fail(__FILE__, __LINE__, "VA %#llx+%zu off the buffer",
                           (unsigned long long)va, n);
        return sb->buf + sb->len - (sb->top - va);
}

static uint64_t sb_word(const struct stackbuf *sb, uint64_t va)
{
        uint64_t v;

        memcpy(&v, sb_at(sb, va, 8), 8);
        return v;
}

/* The NUL-terminated string at va, checked to end inside the buffer. */
static const char *sb_str(const struct stackbuf *sb, uint64_t va)
{
        const char *s = (const char *)sb_at(sb, va, 1);

        CHECK(memchr(s, '\0', sb->top - va) != NULL);
        return s;
}

static void default_args(struct ustack_args *a, const char *const *argv,
                         size_t argc, const char *const *envp, size_t envc)
{
        memset(a, 0, sizeof *a);
        a->argv = argv;
        a->argc = argc;
        a->envp = envp;
        a->envc = envc;
        a->execfn = "/bin/prog";
        a->random = rnd16;
        a->phdr = 0x400040;
        a->phent = 56;
        a->phnum = 6;
        a->entry = 0x401067;
        a->hwcap = 0x178bfbff;
        a->hwcap2 = 0x2;
}

/*
 * An array of n string pointers at vec, NULL-terminated, pointing at
 * contiguous strings from *s on that equal want[]; *s ends past them.
 */
static void check_vector(const struct stackbuf *sb, uint64_t vec,
                         const char *const *want, size_t n, uint64_t *s)
{
        for (size_t i = 0; i < n; i++) {
                CHECK_EQ(sb_word(sb, vec + 8 * i), *s);
                CHECK(strcmp(sb_str(sb, *s), want[i]) == 0);
                *s += strlen(want[i]) + 1;
        }
        CHECK_EQ(sb_word(sb, vec + 8 * n), 0);
}

/*
 * Read the stack back from rsp, the way a C runtime does, and hold every
 * part to the layout in ustack.h and to what `a` asked for.
 */
static void check_layout(const struct stackbuf *sb, const struct ustack_args *a,
                         const struct ustack_layout *l)
{
        static const char *const empty[] = { "" };
        const char *const *argv = a->argc ? a->argv : empty;
        size_t argc = a->argc ? a->argc : 1;
        uint64_t va, s = l->arg_start;

        CHECK_EQ(l->rsp % 16, 0);
        CHECK(sb->top - l->rsp <= sb->len);
        CHECK_EQ(sb_word(sb, l->rsp), argc);
        CHECK_EQ(l->argc, argc);
        CHECK_EQ(l->argv, l->rsp + 8);
        check_vector(sb, l->argv, argv, argc, &s);      /* argv[0] lowest */
        CHECK_EQ(s, l->arg_end);
        CHECK_EQ(l->envp, l->argv + 8 * (argc + 1));
        CHECK_EQ(l->env_start, l->arg_end);
        check_vector(sb, l->envp, a->envp, a->envc, &s);
        CHECK_EQ(s, l->env_end);
        /* the file name, then the zero word, at the very top */
        CHECK_EQ(l->execfn, l->env_end);
        CHECK(strcmp(sb_str(sb, l->execfn), a->execfn) == 0);
        CHECK_EQ(l->execfn + strlen(a->execfn) + 1 + 8, sb->top);
        CHECK_EQ(sb_word(sb, sb->top - 8), 0);
        /* platform on a 16-byte boundary below the strings, random below */
        CHECK_EQ((l->platform + 7) % 16, 0);
        CHECK(l->platform + 7 <= l->arg_start);
        CHECK(memcmp(sb_at(sb, l->platform, 7), "x86_64", 7) == 0);
        CHECK_EQ(l->random, l->platform - 16);
        CHECK(memcmp(sb_at(sb, l->random, 16), a->random, 16) == 0);
        /* auxv right after envp's NULL; zero padding up to the random bytes */
        CHECK_EQ(l->auxv, l->envp + 8 * (a->envc + 1));
        va = l->auxv + 16 * l->nauxv;
        CHECK(va <= l->random);
        CHECK(l->random - va < 16 + 16);        /* rsp rounding, at most */
        for (; va < l->random; va++)
                CHECK_EQ(*sb_at(sb, va, 1), 0);
        CHECK_EQ(sb_word(sb, l->auxv + 16 * (l->nauxv - 1)), AT_NULL);
}

/* The auxv as a list of pairs, from the buffer. */
static size_t read_auxv(const struct stackbuf *sb, const struct ustack_layout *l,
                        uint64_t out[][2], size_t max)
{
        size_t n = 0;

        for (uint64_t va = l->auxv; n < max; va += 16) {
                out[n][0] = sb_word(sb, va);
                out[n][1] = sb_word(sb, va + 8);
                if (out[n++][0] == AT_NULL)
                        break;
        }
        return n;
}

TEST(layout_basic)
{
        static const char *const argv[] = { "prog", "-x", "hello world" };
        static const char *const envp[] = { "A=1", "PATH=/bin:/usr/bin" };
        struct ustack_args a;
        struct ustack_layout l;
        struct stackbuf sb;
        uint64_t aux[USTACK_AUXV_MAX][2];

        default_args(&a, argv, 3, envp, 2);
        sb_init(&sb, &a, TOP, BUFLEN);
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        check_layout(&sb, &a, &l);
        const uint64_t want[][2] = {
                { AT_HWCAP, 0x178bfbff }, { AT_PAGESZ, 4096 },
                { AT_CLKTCK, 100 }, { AT_PHDR, 0x400040 }, { AT_PHENT, 56 },
                { AT_PHNUM, 6 }, { AT_BASE, 0 }, { AT_FLAGS, 0 },
                { AT_ENTRY, 0x401067 }, { AT_UID, 0 }, { AT_EUID, 0 },
                { AT_GID, 0 }, { AT_EGID, 0 }, { AT_SECURE, 0 },
                { AT_RANDOM, l.random }, { AT_HWCAP2, 2 },
                { AT_EXECFN, l.execfn }, { AT_PLATFORM, l.platform },
                { AT_NULL, 0 },
        };
        CHECK_EQ(read_auxv(&sb, &l, aux, USTACK_AUXV_MAX), ARRAY_SIZE(want));
        CHECK_EQ(l.nauxv, ARRAY_SIZE(want));
        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                CHECK_EQ(aux[i][0], want[i][0]);
                CHECK_EQ(aux[i][1], want[i][1]);
        }
        /* the exact arithmetic: strings, 16-align, 7 + 16, vectors, align */
        uint64_t p = TOP - 8 - 10 - (4 + 19) - (5 + 3 + 12);
        p &= ~15UL;
        CHECK_EQ(l.platform, p - 7);
        uint64_t sp = p - 7 - 16 - 19 * 16 - (4 + 3 + 1) * 8;
        CHECK_EQ(l.rsp, sp & ~15UL);
        /* nothing below rsp was written */
        for (uint64_t va = TOP - BUFLEN; va < l.rsp; va++)
                CHECK_EQ(*sb_at(&sb, va, 1), 0xa5);
        free(sb.buf);
}

/* The optional entries go where Linux 6.x puts them. */
TEST(optional_auxv)
{
        static const char *const argv[] = { "prog" };
        struct ustack_args a;
        struct ustack_layout l;
        struct stackbuf sb;
        uint64_t aux[USTACK_AUXV_MAX][2];

        default_args(&a, argv, 1, NULL, 0);
        a.sysinfo_ehdr = 0x7fff12340000;
        a.minsigstksz = 3632;
        a.rseq_feature_size = 28;
        a.rseq_align = 32;
        a.uid = 1000; a.euid = 1001; a.gid = 100; a.egid = 101;
        a.secure = true;
        a.base = 0x7f0000000000;
        sb_init(&sb, &a, TOP, BUFLEN);
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        check_layout(&sb, &a, &l);
        size_t n = read_auxv(&sb, &l, aux, USTACK_AUXV_MAX);
        CHECK_EQ(n, 23);
        CHECK_EQ(aux[0][0], AT_SYSINFO_EHDR);
        CHECK_EQ(aux[0][1], 0x7fff12340000);
        CHECK_EQ(aux[1][0], AT_MINSIGSTKSZ);
        CHECK_EQ(aux[2][0], AT_HWCAP);
        CHECK_EQ(aux[8][0], AT_BASE);
        CHECK_EQ(aux[8][1], 0x7f0000000000);
        CHECK_EQ(aux[11][1], 1000);
        CHECK_EQ(aux[12][1], 1001);
        CHECK_EQ(aux[13][1], 100);
        CHECK_EQ(aux[14][1], 101);
        CHECK_EQ(aux[15][0], AT_SECURE);
        CHECK_EQ(aux[15][1], 1);
        CHECK_EQ(aux[19][0], AT_PLATFORM);
        CHECK_EQ(aux[20][0], AT_RSEQ_FEATURE_SIZE);
        CHECK_EQ(aux[20][1], 28);
        CHECK_EQ(aux[21][0], AT_RSEQ_ALIGN);
        CHECK_EQ(aux[21][1], 32);
        CHECK_EQ(aux[22][0], AT_NULL);
        free(sb.buf);
}

/* execve(path, {NULL}, ...): Linux gives the program argc 1, argv {""}. */
TEST(empty_argv)
{
        struct ustack_args a;
        struct ustack_layout l;
        struct stackbuf sb;

        default_args(&a, NULL, 0, NULL, 0);
        sb_init(&sb, &a, TOP, BUFLEN);
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        check_layout(&sb, &a, &l);
        CHECK_EQ(sb_word(&sb, l.rsp), 1);
        CHECK_EQ(*sb_str(&sb, sb_word(&sb, l.argv)), '\0');
        free(sb.buf);
}

/* The jitter moves the tables down but keeps every rule. */
TEST(align_rnd)
{
        static const char *const argv[] = { "a", "bb", "ccc" };
        struct ustack_args a;
        struct ustack_layout l0, l;
        struct stackbuf sb;

        default_args(&a, argv, 3, NULL, 0);
        sb_init(&sb, &a, TOP, BUFLEN);
        CHECK_EQ(ustack_build(&a, &l0), VM_OK);
        for (uint32_t r = 1; r < 40; r++) {
                a.align_rnd = r * 211;
                CHECK_EQ(ustack_build(&a, &l), VM_OK);
                check_layout(&sb, &a, &l);
                CHECK_EQ(l.platform + 7,
                         (l0.arg_start - (r * 211) % 8192) & ~15UL);
        }
        a.align_rnd = 8192;             /* taken modulo 8192, like Linux */
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        CHECK_EQ(l.rsp, l0.rsp);
        free(sb.buf);
}

/* --- limits -------------------------------------------------------------- */

/* Build with n_env strings of len bytes each (plus NUL); the status. */
static vm_status_t build_env(size_t n_env, size_t len, size_t buflen)
{
        static const char *const argv[] = { "p" };
        const char **envp = calloc(n_env ? n_env : 1, sizeof *envp);
        char *s = malloc(len + 1);
        struct ustack_args a;
        struct ustack_layout l;
        struct stackbuf sb;
        vm_status_t st;

        CHECK(envp && s);
        memset(s, 'e', len);
        s[len] = '\0';
        for (size_t i = 0; i < n_env; i++)
                envp[i] = s;
        default_args(&a, argv, 1, envp, n_env);
        a.execfn = "x";
        sb_init(&sb, &a, TOP, buflen);
        uint8_t *copy = malloc(buflen);
        memcpy(copy, sb.buf, buflen);
        st = ustack_build(&a, &l);
        if (st == VM_OK)
                check_layout(&sb, &a, &l);
        else            /* a failure leaves the buffer untouched */
                CHECK(memcmp(copy, sb.buf, buflen) == 0);
        free(copy);
        free(sb.buf);
        free(s);
        free(envp);
        return st;
}

/*
 * USTACK_ARG_MAX counts the pointers (argc + envc words) and the strings
 * (argv, envp, file name, with NULs): with argv {"p"} (2) and file name
 * "x" (2), one env string of 128 KiB - 16 - 4 - 1 bytes fills it exactly.
 */
TEST(e2big_boundary)
{
        size_t exact = USTACK_ARG_MAX - 2 * 8 - 2 - 2 - 1;

        CHECK_EQ(build_env(1, exact, 256 * 1024), VM_OK);
        CHECK_EQ(build_env(1, exact + 1, 256 * 1024), VM_E2BIG);
        CHECK_EQ(build_env(1, 10 * 1024 * 1024, 256 * 1024), VM_E2BIG);
        /* many small strings: the pointers count too */
        CHECK_EQ(build_env(USTACK_ARG_MAX / 8, 0, 256 * 1024), VM_E2BIG);
        CHECK_EQ(build_env(20000, 1, 512 * 1024), VM_E2BIG);
        CHECK_EQ(build_env(10000, 1, 512 * 1024), VM_OK);
        CHECK(strcmp(vm_status_name(VM_E2BIG), "E2BIG") == 0);
}

/* The layout must also fit the buffer the caller has. */
TEST(e2big_buffer)
{
        CHECK_EQ(build_env(2, 100, 4096), VM_OK);
        CHECK_EQ(build_env(2, 3000, 4096), VM_E2BIG);
        CHECK_EQ(build_env(0, 0, 64), VM_E2BIG);
}

TEST(invalid_args)
{
        static const char *const argv[] = { "p", NULL };
        struct ustack_args a;
        struct ustack_layout l;
        struct stackbuf sb;

        default_args(&a, argv, 1, NULL, 0);
        sb_init(&sb, &a, TOP, BUFLEN);
        a.stack_top = TOP - 8;
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.stack_top = 0xffff800000000000UL;
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.stack_top = TOP;
        a.execfn = NULL;
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.execfn = "x";
        a.argc = 2;                     /* argv[1] is NULL */
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.argc = 1;
        a.envc = 1;                     /* envp is NULL */
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.envc = 0;
        a.random = NULL;
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.random = rnd16;
        a.stack_top = 0x18000;          /* buffer would reach below USER_MIN */
        CHECK_EQ(ustack_build(&a, &l), VM_EINVAL);
        a.stack_top = 0x10000 + BUFLEN; /* ... and now just fits */
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        a.stack_top = TOP;
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        free(sb.buf);
}

/* A misaligned buffer is fine: only user VAs need alignment. */
TEST(unaligned_buffer)
{
        static const char *const argv[] = { "p", "q" };
        struct ustack_args a;
        struct ustack_layout l;
        struct stackbuf sb;
        uint8_t *mem = malloc(BUFLEN + 3);

        default_args(&a, argv, 2, NULL, 0);
        sb.buf = mem + 3;
        sb.len = BUFLEN;
        sb.top = TOP;
        a.stack_top = TOP;
        a.buf = sb.buf;
        a.buf_len = BUFLEN;
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        check_layout(&sb, &a, &l);
        free(mem);
}

/* Random argument sets, jitter and buffer sizes: the layout always holds. */
TEST(random_layouts)
{
        struct rng r;
        char pool[600];

        rng_seed(&r, check_seed(0x57ac));
        for (size_t i = 0; i < sizeof pool; i++)
                pool[i] = (char)('!' + rng_below(&r, 90));
        for (int iter = 0; iter < 3000; iter++) {
                size_t argc = rng_below(&r, 20), envc = rng_below(&r, 20);
                const char *v[40];
                char *strs[40];
                struct ustack_args a;
                struct ustack_layout l;
                struct stackbuf sb;

                for (size_t i = 0; i < argc + envc; i++) {
                        size_t len = rng_below(&r, 300);
                        strs[i] = malloc(len + 1);
                        memcpy(strs[i], pool + rng_below(&r, 300), len);
                        strs[i][len] = '\0';
                        v[i] = strs[i];
                }
                default_args(&a, v, argc, v + argc, envc);
                a.align_rnd = (uint32_t)rng_next(&r);
                sb_init(&sb, &a, TOP - 16 * rng_below(&r, 1000),
                        64 + rng_below(&r, 20000));
                vm_status_t st = ustack_build(&a, &l);
                CHECK(st == VM_OK || st == VM_E2BIG);
                if (st == VM_OK)
                        check_layout(&sb, &a, &l);
                for (size_t i = 0; i < argc + envc; i++)
                        free(strs[i]);
                free(sb.buf);
        }
}

/* --- Linux ---------------------------------------------------------------- */

/* Pick the jitter that puts the platform string where Linux put it. */
static uint32_t jitter_for(uint64_t arg_start, uint64_t platform)
{
        uint64_t d = arg_start - (platform + 7);

        return (uint32_t)(d >= 15 ? d - 15 : 0);
}

/* The auxv values only Linux knows (hwcaps, vDSO...), copied into a. */
static void args_from_linux(const struct stackdump *d, struct ustack_args *a)
{
        static const struct { uint64_t type; size_t off; } from_linux[] = {
                { AT_PHDR, offsetof(struct ustack_args, phdr) },
                { AT_PHENT, offsetof(struct ustack_args, phent) },
                { AT_PHNUM, offsetof(struct ustack_args, phnum) },
                { AT_ENTRY, offsetof(struct ustack_args, entry) },
                { AT_HWCAP, offsetof(struct ustack_args, hwcap) },
                { AT_HWCAP2, offsetof(struct ustack_args, hwcap2) },
                { AT_SYSINFO_EHDR, offsetof(struct ustack_args, sysinfo_ehdr) },
                { AT_MINSIGSTKSZ, offsetof(struct ustack_args, minsigstksz) },
                { AT_RSEQ_FEATURE_SIZE,
                  offsetof(struct ustack_args, rseq_feature_size) },
                { AT_RSEQ_ALIGN, offsetof(struct ustack_args, rseq_align) },
        };
        uint64_t v;

        for (size_t i = 0; i < ARRAY_SIZE(from_linux); i++)
                if (stackdump_auxv(d, from_linux[i].type, &v))
                        memcpy((char *)a + from_linux[i].off, &v, 8);
        CHECK(stackdump_auxv(d, AT_UID, &v) && v == getuid());
        a->uid = a->euid = (uint32_t)getuid();
        a->gid = a->egid = (uint32_t)getgid();
}

/*
 * Run stackdump under Linux with known argv and envp, then build a stack
 * with the same inputs (and the values only Linux knows: random bytes,
 * hwcaps, vDSO, jitter) at the same top: every byte from rsp to the top
 * must be the same.
 */
TEST(linux_identical)
{
        char *argv[] = { "stackdump", "one", "two three", "", "fourth=4",
                         NULL };
        char *envp[] = { "HOME=/", "TERM=dumb", "", "X=" "yyyyyyyyyyyyyyyy",
                         NULL };
        struct stackdump d;
        struct ustack_args a = { 0 };
        struct ustack_layout l;
        uint64_t plat, random;

        stackdump_run("stackdump-static", argv, envp, &d);
        CHECK_EQ(d.top % PAGE_SIZE, 0);
        CHECK(stackdump_auxv(&d, AT_PLATFORM, &plat));
        CHECK(stackdump_auxv(&d, AT_RANDOM, &random));
        a.stack_top = d.top;
        a.buf_len = d.top - d.rsp + 4096;
        a.buf = calloc(1, a.buf_len);
        a.argv = (const char *const *)argv;
        a.argc = 5;
        a.envp = (const char *const *)envp;
        a.envc = 4;
        a.execfn = d.execfn;
        a.random = d.stack + (random - d.rsp);
        a.align_rnd = jitter_for(stackdump_word(&d, d.rsp + 8), plat);
        args_from_linux(&d, &a);
        CHECK_EQ(ustack_build(&a, &l), VM_OK);
        CHECK_EQ(l.platform, plat);
        CHECK_EQ(l.random, random);
        CHECK_EQ(l.rsp, d.rsp);
        const uint8_t *ours = a.buf + a.buf_len - (d.top - d.rsp);
        for (uint64_t i = 0; i < d.top - d.rsp; i++)
                if (ours[i] != d.stack[i])
                        check_fail(__FILE__, __LINE__, "byte at rsp+%#llx "
                                   "(VA %#llx): ours %#x, Linux %#x",
                                   (unsigned long long)i,
                                   (unsigned long long)(d.rsp + i), ours[i],
                                   d.stack[i]);
        free(a.buf);
        free(d.raw);
}
