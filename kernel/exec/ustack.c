/*
 * ustack.c - building the initial user stack (layout in ustack.h).
 *
 * Owns: the bytes of the caller's buffer from the final rsp to its top.
 * Must not touch: anything else; it reads the argument strings only up to
 * what the limits allow, so an over-long string costs no more than that.
 *
 * Three steps: measure the strings against the limits, place everything
 * as depths below stack_top (a depth never wraps, unlike an address near
 * the bottom of the user range), then, once all of it fits, write. A
 * failure therefore leaves the buffer as it was.
 */
#include <exec/ustack.h>
#include <machine/vmparam.h>
#include <mercator/string.h>

/* A word of the user's stack (argc, a pointer, an auxv half): the
 * kernel's long, which is the user's on every machine built (8 bytes on
 * x86-64 and riscv64, 4 on i386). */
#define USTACK_WORD     sizeof(unsigned long)

struct ustack_ctx {
        const struct ustack_args *a;
        struct ustack_layout     *out;
        const char *const        *argv;         /* a->argv, or {""} */
        size_t                    argc;
        uint64_t                  argv_bytes;   /* strings with NULs */
        uint64_t                  envp_bytes;
        uint64_t                  execfn_bytes;
        uint64_t                  depth;        /* bytes from rsp to top */
        uint64_t                  auxv[USTACK_AUXV_MAX][2];
        size_t                    nauxv;
};

static const char *const empty_argv[] = { "" };

/* --- measuring ---------------------------------------------------------- */

/* Bytes of s with its NUL, or budget + 1 if that is more than budget. */
static uint64_t str_bytes(const char *s, uint64_t budget)
{
        uint64_t n = 0;

        while (n < budget && s[n] != '\0')
                n++;
        return n < budget ? n + 1 : budget + 1;
}

/* Charge n strings to *budget; their total goes to *total. */
static vm_status_t charge_strings(const char *const *v, size_t n,
                                  uint64_t *budget, uint64_t *total)
{
        for (size_t i = 0; i < n; i++) {
                if (!v[i])
                        return VM_EINVAL;
                uint64_t len = str_bytes(v[i], *budget);
                if (len > *budget)
                        return VM_E2BIG;
                *budget -= len;
                *total += len;
        }
        return VM_OK;
}

static vm_status_t check_args(const struct ustack_args *a)
{
        if (!a->buf || !a->execfn || !a->random ||
            (a->argc && !a->argv) || (a->envc && !a->envp))
                return VM_EINVAL;
        if (!is_aligned(a->stack_top, 16) || a->stack_top <= USER_MIN ||
            a->stack_top > USER_MAX || a->buf_len > a->stack_top - USER_MIN)
                return VM_EINVAL;
        return VM_OK;
}

/* Linux's bprm_stack_limits(): pointers first, then every string. */
static vm_status_t measure(struct ustack_ctx *c)
{
        const struct ustack_args *a = c->a;
        uint64_t budget = USTACK_ARG_MAX;
        uint64_t ptrs;
        vm_status_t st;

        if (a->argc > USTACK_ARG_MAX / USTACK_WORD ||
            a->envc > USTACK_ARG_MAX / USTACK_WORD)
                return VM_E2BIG;
        ptrs = (c->argc + a->envc) * USTACK_WORD;
        if (ptrs >= budget)
                return VM_E2BIG;
        budget -= ptrs;
        st = charge_strings(&a->execfn, 1, &budget, &c->execfn_bytes);
        if (st == VM_OK)
                st = charge_strings(a->envp, a->envc, &budget, &c->envp_bytes);
        if (st == VM_OK)
                st = charge_strings(c->argv, c->argc, &budget, &c->argv_bytes);
        return st;
}

/* --- placing ------------------------------------------------------------ */

static void aux(struct ustack_ctx *c, uint64_t type, uint64_t val)
{
        c->auxv[c->nauxv][0] = type;
        c->auxv[c->nauxv][1] = val;
        c->nauxv++;
}

/* create_elf_tables()'s order; optional entries where Linux puts them. */
static void fill_auxv(struct ustack_ctx *c)
{
        const struct ustack_args *a = c->a;
        const struct ustack_layout *o = c->out;

        if (a->sysinfo)
                aux(c, AT_SYSINFO, a->sysinfo);
        if (a->sysinfo_ehdr)
                aux(c, AT_SYSINFO_EHDR, a->sysinfo_ehdr);
        if (a->minsigstksz)
                aux(c, AT_MINSIGSTKSZ, a->minsigstksz);
        aux(c, AT_HWCAP, a->hwcap);
        aux(c, AT_PAGESZ, PAGE_SIZE);
        aux(c, AT_CLKTCK, USTACK_CLKTCK);
        aux(c, AT_PHDR, a->phdr);
        aux(c, AT_PHENT, a->phent);
        aux(c, AT_PHNUM, a->phnum);
        aux(c, AT_BASE, a->base);
        aux(c, AT_FLAGS, 0);
        aux(c, AT_ENTRY, a->entry);
        aux(c, AT_UID, a->uid);
        aux(c, AT_EUID, a->euid);
        aux(c, AT_GID, a->gid);
        aux(c, AT_EGID, a->egid);
        aux(c, AT_SECURE, a->secure);
        aux(c, AT_RANDOM, o->random);
        if (ELF_AUXV_HWCAP2)
                aux(c, AT_HWCAP2, a->hwcap2);
        aux(c, AT_EXECFN, o->execfn);
        if (ELF_AUXV_PLATFORM)
                aux(c, AT_PLATFORM, o->platform);
        if (a->rseq_feature_size)
                aux(c, AT_RSEQ_FEATURE_SIZE, a->rseq_feature_size);
        if (a->rseq_align)
                aux(c, AT_RSEQ_ALIGN, a->rseq_align);
        aux(c, AT_NULL, 0);
}

/* Everything as depths below top; addresses may wrap until fit is known. */
static vm_status_t place(struct ustack_ctx *c)
{
        const struct ustack_args *a = c->a;
        struct ustack_layout *o = c->out;
        vaddr_t top = a->stack_top;
        uint64_t d = USTACK_WORD;          /* Linux's zero word */

        o->env_end = o->execfn = top - (d += c->execfn_bytes);
        o->arg_end = o->env_start = top - (d += c->envp_bytes);
        o->arg_start = top - (d += c->argv_bytes);
        d = align_up(d + a->align_rnd % USTACK_ALIGN_RND_MAX, 16);
        o->platform = ELF_AUXV_PLATFORM ? top - (d += sizeof USTACK_PLATFORM)
                                        : 0;
        o->random = top - (d += 16);
        fill_auxv(c);
        d += c->nauxv * 2 * USTACK_WORD;
        d += (c->argc + 1 + a->envc + 1 + 1) * USTACK_WORD;
        d = align_up(d, 16);
        if (d > a->buf_len)
                return VM_E2BIG;
        c->depth = d;
        o->rsp = top - d;
        o->argv = o->rsp + USTACK_WORD;
        o->envp = o->argv + (c->argc + 1) * USTACK_WORD;
        o->auxv = o->envp + (a->envc + 1) * USTACK_WORD;
        o->argc = c->argc;
        o->nauxv = c->nauxv;
        return VM_OK;
}

/* --- writing ------------------------------------------------------------ */

static uint8_t *at(const struct ustack_ctx *c, vaddr_t va)
{
        return c->a->buf + c->a->buf_len - (c->a->stack_top - va);
}

static void put_word(const struct ustack_ctx *c, vaddr_t va, uint64_t v)
{
        unsigned long w = (unsigned long)v;     /* the user's word */

        memcpy(at(c, va), &w, sizeof w);        /* buf may be unaligned */
}

/* Strings from va upward, their addresses into the array at vec. */
static void put_strings(const struct ustack_ctx *c, const char *const *v,
                        size_t n, vaddr_t va, vaddr_t vec)
{
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(v[i]) + 1;  /* measured: bounded */

                memcpy(at(c, va), v[i], len);
                put_word(c, vec + i * USTACK_WORD, va);
                va += len;
        }
        put_word(c, vec + n * USTACK_WORD, 0);
}

static void write_stack(const struct ustack_ctx *c)
{
        const struct ustack_args *a = c->a;
        const struct ustack_layout *o = c->out;

        memset(at(c, o->rsp), 0, c->depth);
        memcpy(at(c, o->execfn), a->execfn, c->execfn_bytes);
        if (ELF_AUXV_PLATFORM)
                memcpy(at(c, o->platform), USTACK_PLATFORM,
                       sizeof USTACK_PLATFORM);
        memcpy(at(c, o->random), a->random, 16);
        put_word(c, o->rsp, c->argc);
        put_strings(c, c->argv, c->argc, o->arg_start, o->argv);
        put_strings(c, a->envp, a->envc, o->env_start, o->envp);
        for (size_t i = 0; i < c->nauxv; i++) {
                put_word(c, o->auxv + 2 * USTACK_WORD * i, c->auxv[i][0]);
                put_word(c, o->auxv + 2 * USTACK_WORD * i + USTACK_WORD,
                         c->auxv[i][1]);
        }
}

vm_status_t ustack_build(const struct ustack_args *a, struct ustack_layout *out)
{
        struct ustack_layout layout = { 0 };
        struct ustack_ctx c = { .a = a, .out = &layout,
                                .argv = a->argc ? a->argv : empty_argv,
                                .argc = a->argc ? a->argc : 1 };
        vm_status_t st;

        st = check_args(a);
        if (st == VM_OK)
                st = measure(&c);
        if (st == VM_OK)
                st = place(&c);
        if (st != VM_OK)
                return st;
        write_stack(&c);
        *out = layout;
        return VM_OK;
}
