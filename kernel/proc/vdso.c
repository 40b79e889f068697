/*
 * vdso.c - the vDSO's two areas in every process, and the [vvar] page the
 * kernel publishes its clock in (proc/vdso.h, mercator/vdso_data.h).
 *
 * The [vvar] page is page 0 of a one-page shared anonymous object that the
 * kernel keeps (and so the page) for its lifetime; each process maps it
 * shared and read-only, without MAYWRITE, so mprotect cannot make it
 * writable, and MADV_REMOVE (which needs a writable shared area) cannot
 * free it. The kernel writes it through its own address of the frame:
 * pmap_quick_enter_page() is the linear map on x86-64 and riscv64; i386,
 * whose page may be in HIGHMEM, keeps it in the persistent kmap window
 * (machine/vdso.h's vdso_vvar_kva).
 *
 * The image is a read-only "file" object over the bytes the kernel image
 * carries (vdso_image[]): one frame per page for the whole machine, shared
 * by every process; a write (a debugger's breakpoint) copies the page into
 * the process, as for any private file mapping.
 */
#include <mercator/panic.h>
#include <mercator/string.h>
#include <machine/vdso.h>
#include <proc/vdso.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#if MACHINE_VDSO

#ifndef vdso_vvar_kva
#define vdso_vvar_kva(pa)       pmap_quick_enter_page(pa)
#endif

static struct vm_object *vvar_obj, *image_obj;
static volatile struct vdso_data *vvar;
static int32_t tz_minuteswest, tz_dsttime;

void vdso_publish(void)
{
        struct vdso_data d = { 0 };

        if (!vvar)
                return;
        machine_vdso_clock(&d);
        d.tz_minuteswest = tz_minuteswest;
        d.tz_dsttime = tz_dsttime;
        vvar->seq++;                            /* odd: being written */
        __asm__ volatile("" : : : "memory");
        vvar->mode = d.mode;
        vvar->counter_base = d.counter_base;
        vvar->mult = d.mult;
        vvar->realtime_offset = d.realtime_offset;
        vvar->tz_minuteswest = d.tz_minuteswest;
        vvar->tz_dsttime = d.tz_dsttime;
        __asm__ volatile("" : : : "memory");
        vvar->seq++;                            /* even: consistent */
}

void vdso_init(void)
{
        uint64_t bytes = (uint64_t)(vdso_image_end - vdso_image);
        struct vm_page *pg, *img;

        if (vm_object_create_anon(1, &vvar_obj) != VM_OK ||
            (vvar_obj->unevictable = true, false) ||
            vm_object_set_name(vvar_obj, "[vvar]") != VM_OK ||
            vm_object_get_page(vvar_obj, 0, &pg) != VM_OK ||
            vm_object_create_file(vdso_image, bytes, &image_obj) != VM_OK ||
            vm_object_set_name(image_obj, "[vdso]") != VM_OK)
                panic("vdso: no memory at boot");
        /* Every page of the image now, pinned so that page replacement
         * never drops one (it could read it again, but these are counted
         * from boot: no leak check may see them go or come). */
        for (uint64_t i = 0; i < page_round(bytes) >> PAGE_SHIFT; i++) {
                if (vm_object_get_page(image_obj, i, &img) != VM_OK)
                        panic("vdso: no memory at boot");
                img->flags |= PG_PINNED;
        }
        vvar = vdso_vvar_kva(pmm_page_to_pa(pg));
        if (!vvar)
                panic("vdso: no kernel address for [vvar]");
        vdso_publish();
}

vm_status_t vdso_map(struct vm_space *sp, vaddr_t *ehdr)
{
        uint64_t len = page_round((uint64_t)(vdso_image_end - vdso_image));
        vaddr_t at, got;
        vm_status_t st;

        /* A place for both, then each part over it. */
        st = vm_space_map(sp, 0, PAGE_SIZE + len, VM_PROT_NONE, VM_MAP_PRIVATE, &at);
        if (st != VM_OK)
                return st;
        st = vm_space_map_object(sp, at, PAGE_SIZE, VM_PROT_READ,
                                 VM_MAP_SHARED | VM_MAP_FIXED | VM_MAP_SPECIAL,
                                 vvar_obj, &got);
        if (st == VM_OK)
                st = vm_space_map_file(sp, at + PAGE_SIZE, len,
                                       VM_PROT_READ | VM_PROT_EXEC,
                                       VM_MAP_PRIVATE | VM_MAP_FIXED | VM_MAP_SPECIAL,
                                       image_obj, 0, &got);
        if (st != VM_OK) {
                vm_space_unmap(sp, at, PAGE_SIZE + len);
                return st;
        }
        *ehdr = at + PAGE_SIZE;
        sp->vdso_base = *ehdr;
        return VM_OK;
}

/*
 * The image's ELF class is the architecture's: ELF64 on x86-64 and riscv64,
 * ELF32 on i386. Where the fields of a section header, a symbol and the
 * ELF header lie in each (offset, size), so that one reader serves both.
 */
struct vdso_elf_layout {
        unsigned shoff_at, shoff_len, shnum_at;         /* ELF header */
        unsigned sh_size, sh_type, sh_offset, sh_len, sh_link, sh_word;
        unsigned sym_size, sym_value, sym_word;
};
static const struct vdso_elf_layout elf64 = {
        0x28, 8, 0x3c, 64, 4, 24, 32, 40, 8, 24, 8, 8,
};
static const struct vdso_elf_layout elf32 = {
        0x20, 4, 0x30, 40, 4, 16, 20, 24, 4, 16, 4, 4,
};
#define SHT_DYNSYM      11
#define EI_CLASS        4
#define ELFCLASS32      1

/* A little-endian field of `len` bytes at off, if it lies in the image. */
static uint64_t img_get(uint64_t off, unsigned len, bool *ok)
{
        uint64_t bytes = (uint64_t)(vdso_image_end - vdso_image), v = 0;

        if (off + len > bytes || off + len < off) {
                *ok = false;
                return 0;
        }
        for (unsigned i = 0; i < len; i++)
                v |= (uint64_t)vdso_image[off + i] << (8 * i);
        return v;
}

uint64_t vdso_symbol(const char *name)
{
        const struct vdso_elf_layout *L =
                vdso_image[EI_CLASS] == ELFCLASS32 ? &elf32 : &elf64;
        uint64_t bytes = (uint64_t)(vdso_image_end - vdso_image);
        size_t len = strlen(name);
        bool ok = true;
        uint64_t shoff = img_get(L->shoff_at, L->shoff_len, &ok);
        uint64_t shnum = img_get(L->shnum_at, 2, &ok);

        for (uint64_t i = 0; ok && i < shnum; i++) {
                uint64_t sh = shoff + i * L->sh_size;
                uint64_t link = img_get(sh + L->sh_link, 4, &ok);
                if (img_get(sh + L->sh_type, 4, &ok) != SHT_DYNSYM || link >= shnum)
                        continue;
                uint64_t sym0 = img_get(sh + L->sh_offset, L->sh_word, &ok);
                uint64_t size = img_get(sh + L->sh_len, L->sh_word, &ok);
                uint64_t str = img_get(shoff + link * L->sh_size + L->sh_offset,
                                       L->sh_word, &ok);
                for (uint64_t o = 0; ok && o + L->sym_size <= size; o += L->sym_size) {
                        uint64_t at = str + img_get(sym0 + o, 4, &ok);
                        if (ok && at + len + 1 <= bytes &&
                            memcmp(vdso_image + at, name, len + 1) == 0)
                                return img_get(sym0 + o + L->sym_value,
                                               L->sym_word, &ok);
                }
        }
        return 0;
}

#else   /* no vDSO on this architecture yet */

void vdso_init(void)
{
}

vm_status_t vdso_map(struct vm_space *sp, vaddr_t *ehdr)
{
        (void)sp;
        *ehdr = 0;
        return VM_OK;
}

uint64_t vdso_symbol(const char *name)
{
        (void)name;
        return 0;
}

void vdso_publish(void)
{
}

#endif

void vdso_set_timezone(int32_t minuteswest, int32_t dsttime)
{
#if MACHINE_VDSO
        tz_minuteswest = minuteswest;
        tz_dsttime = dsttime;
#else
        (void)minuteswest, (void)dsttime;
#endif
        vdso_publish();
}
