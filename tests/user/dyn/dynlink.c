/*
 * dynlink.c - a dynamically linked program, as plain `gcc` (glibc) and
 * `musl-gcc` build it (Makefile: build/user/dynlink_gcc, dynlink_musl):
 * what the kernel's ELF loader owes it and its dynamic linker.
 *
 *   - auxv as Linux gives it: AT_BASE the interpreter's load address,
 *     AT_PHDR/AT_PHNUM the program's headers, AT_ENTRY its _start,
 *     AT_EXECFN the path given to execve, AT_SECURE 0, AT_PAGESZ;
 *   - the program is ET_DYN, placed at a page-aligned, non-zero bias;
 *   - the libraries the interpreter mapped from their files: text at its
 *     file offset and r-x, RELRO made read-only by mprotect, named in
 *     /proc/self/maps;
 *   - text pages shared between processes: a freshly exec'd copy of this
 *     program sees its C library's text as shared in smaps (Shared_Clean,
 *     or Shared_Dirty from a RAM file system), with no anonymous page;
 *   - the interpreter run as a program (`ld.so PROG`) loads PROG itself.
 *
 * The first run (no arguments, or the test runner's data file) checks in
 * this process and re-executes itself by the path in argv[0] to check a
 * program started by execve from a dynamically linked parent.
 */
#define _GNU_SOURCE
#include "../utest.h"

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/wait.h>

extern char _start[];

struct object {
        const char *name;               /* as dl_iterate_phdr names it */
        uintptr_t addr;                 /* load bias */
        const ElfW(Phdr) *phdr;
        int phnum;
};

static struct object objects[16];
static int nobjects;

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
        (void)size, (void)arg;
        if (nobjects < 16)
                objects[nobjects++] = (struct object){
                        info->dlpi_name, info->dlpi_addr, info->dlpi_phdr,
                        info->dlpi_phnum };
        return 0;
}

/* The object holding address a (its PT_LOADs), or NULL. */
static const struct object *object_at(uintptr_t a)
{
        for (int i = 0; i < nobjects; i++)
                for (int k = 0; k < objects[i].phnum; k++) {
                        const ElfW(Phdr) *ph = &objects[i].phdr[k];
                        uintptr_t s = objects[i].addr + ph->p_vaddr;
                        if (ph->p_type == PT_LOAD && a >= s && a < s + ph->p_memsz)
                                return &objects[i];
                }
        return NULL;
}

/* The /proc/self/maps line of the area holding address a. */
static int maps_line(uintptr_t a, char *line, size_t size)
{
        FILE *f = fopen("/proc/self/maps", "r");
        int found = 0;

        if (!f)
                return 0;
        while (!found && fgets(line, (int)size, f)) {
                unsigned long s, e;
                if (sscanf(line, "%lx-%lx", &s, &e) == 2 && a >= s && a < e)
                        found = 1;
        }
        fclose(f);
        return found;
}

/* The C library: glibc's libc.so.6, or musl's, which is its interpreter. */
static const struct object *libc_object(void)
{
        const struct object *o = object_at((uintptr_t)&printf);

        return o && o->addr ? o : NULL;
}

static const ElfW(Phdr) *find_phdr(const struct object *o, uint32_t type,
                                   uint32_t flags)
{
        for (int k = 0; k < o->phnum; k++)
                if (o->phdr[k].p_type == type &&
                    (o->phdr[k].p_flags & flags) == flags)
                        return &o->phdr[k];
        return NULL;
}

static void check_auxv(const char *argv0, int reexec)
{
        const struct object *prog = &objects[0];
        const char *execfn = (const char *)getauxval(AT_EXECFN);
        uintptr_t base = getauxval(AT_BASE);
        const struct object *interp = object_at(base);

        CHECK("at_base_is_the_interpreter", base != 0 && interp &&
              interp->addr == base && interp != prog);
        CHECK("at_base_holds_an_elf_header",
              base && memcmp((void *)base, ELFMAG, SELFMAG) == 0 &&
              ((ElfW(Ehdr) *)base)->e_type == ET_DYN);
        CHECK("at_phdr_is_the_programs",
              getauxval(AT_PHDR) == (uintptr_t)prog->phdr &&
              getauxval(AT_PHNUM) == (unsigned long)prog->phnum &&
              getauxval(AT_PHENT) == sizeof(ElfW(Phdr)));
        CHECK("at_entry_is_start", getauxval(AT_ENTRY) == (uintptr_t)_start);
        CHECK("program_is_pie_at_a_page_bias",
              prog->addr != 0 && prog->addr % 4096 == 0 &&
              ((ElfW(Ehdr) *)prog->addr)->e_type == ET_DYN);
        CHECK("at_secure_0", getauxval(AT_SECURE) == 0);
        CHECK("at_pagesz", getauxval(AT_PAGESZ) == 4096);
        CHECK("at_random", getauxval(AT_RANDOM) != 0);
        if (reexec)
                CHECK("at_execfn_is_the_execve_path",
                      execfn && strcmp(execfn, argv0) == 0);
}

static void check_libc_mapping(void)
{
        const struct object *libc = libc_object();
        const ElfW(Phdr) *text, *relro;
        char line[512];
        unsigned long s, e, off;
        char perms[8];

        if (!CHECK("libc_found", libc != NULL))
                return;
        text = find_phdr(libc, PT_LOAD, PF_X);
        if (CHECK("libc_text_mapped", text != NULL &&
                  maps_line(libc->addr + text->p_vaddr, line, sizeof line) &&
                  sscanf(line, "%lx-%lx %7s %lx", &s, &e, perms, &off) == 4)) {
                /* the area's offset is its first page's place in the file */
                CHECK("libc_text_at_its_file_offset",
                      off + (libc->addr + text->p_vaddr - s) == text->p_offset);
                CHECK("libc_text_r_x_private", strcmp(perms, "r-xp") == 0);
                CHECK("libc_text_named", strstr(line, "/lib") != NULL &&
                      (strstr(line, "libc.so") || strstr(line, "ld-musl")));
        }
        relro = find_phdr(libc, PT_GNU_RELRO, 0);
        if (relro && relro->p_memsz >= 4096 + (relro->p_vaddr & 4095)) {
                /* a page wholly inside RELRO: made read-only after
                 * relocation (glibc's _dl_protect_relro) */
                uintptr_t pg = (libc->addr + relro->p_vaddr + 4095) & ~4095UL;
                CHECK("libc_relro_read_only",
                      maps_line(pg, line, sizeof line) &&
                      sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 &&
                      strcmp(perms, "r--p") == 0);
        }
        const ElfW(Phdr) *data = find_phdr(libc, PT_LOAD, PF_W);
        if (data) {
                uintptr_t end = libc->addr + data->p_vaddr + data->p_memsz - 1;
                CHECK("libc_bss_writable",
                      maps_line(end, line, sizeof line) &&
                      sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 &&
                      perms[1] == 'w');
        }
}

/* In a freshly exec'd process: the C library's text pages that the parent
 * also maps are shared clean pages of the file, none copied. */
static void check_text_shared(void)
{
        const struct object *libc = libc_object();
        const ElfW(Phdr) *text = libc ? find_phdr(libc, PT_LOAD, PF_X) : NULL;
        uintptr_t a = text ? libc->addr + text->p_vaddr : 0;

        if (!CHECK("shared_text_found", text != NULL))
                return;
        /* Shared_Clean from a disk file system; from a RAM one (the
         * initramfs of a Linux referee) its page-cache pages count as dirty
         * (Shared_Dirty, and Private_Dirty for pages only this process
         * touched), though none is a private copy: that is Anonymous. */
        CHECK("libc_text_shared", smaps_field((const void *)a, "Shared_Clean") +
                                  smaps_field((const void *)a, "Shared_Dirty") > 0);
        CHECK("libc_text_no_anonymous", smaps_field((const void *)a, "Anonymous") == 0);
}

/* Run argv and return its exit status (or 128 + signal). */
static int run(char *const argv[])
{
        pid_t pid = fork();
        int status;

        if (pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
        int child = argc > 1 && strcmp(argv[1], "child") == 0;
        int direct = argc > 1 && strcmp(argv[1], "direct") == 0;

        utest_start(child ? "dynlink_child" : direct ? "dynlink_direct"
                                                     : "dynlink");
        dl_iterate_phdr(collect, NULL);
        if (direct) {
                /* started as `ld.so PROG direct`: the interpreter was the
                 * program, and it loaded this one itself */
                CHECK("ran", nobjects >= 2);
                return utest_done();
        }
        check_auxv(argv[0], child);
        check_libc_mapping();
        if (child) {
                check_text_shared();
                return utest_done();
        }
        /* the children's lines interleave with ours: stdout is unbuffered */
        char *again[] = { argv[0], "child", NULL };
        CHECK("exec_of_a_dynamic_program", run(again) == 0);
        const ElfW(Phdr) *interp = find_phdr(&objects[0], PT_INTERP, 0);
        const char *ip = interp ? (const char *)(objects[0].addr +
                                                 interp->p_vaddr) : "";
        char *direct_argv[] = { (char *)ip, argv[0], "direct", NULL };
        CHECK("interpreter_run_as_a_program", run(direct_argv) == 0);
        return utest_done();
}
