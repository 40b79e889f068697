/*
 * vdso.c - the vDSO's two areas in every process, and the [vvar] page the
 * kernel publishes its clock in (proc/vdso.h, mercator/vdso_data.h).
 *
 * The [vvar] page is page 0 of a one-page shared anonymous object that the
 * kernel keeps (and so the page) for its lifetime; each process maps it
 * shared and read-only, without MAYWRITE, so mprotect cannot make it
 * writable, and MADV_REMOVE (which needs a writable shared area) cannot
 * free it. The kernel writes it through its own address of the frame:
 * pmap_quick_enter_page() is the linear map on x86-64 and riscv64, the
 * ports with a vDSO (one with HIGHMEM must take the page from low memory).
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
        vvar = pmap_quick_enter_page(pmm_page_to_pa(pg));
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

/* ELF64's section header and symbol (the image is the kernel's own
 * object, 64-bit on every port with a vDSO today). */
struct vdso_shdr {
        uint32_t name, type;
        uint64_t flags, addr, offset, size;
        uint32_t link, info;
        uint64_t addralign, entsize;
};
struct vdso_sym {
        uint32_t name;
        uint8_t  info, other;
        uint16_t shndx;
        uint64_t value, size;
};
#define SHT_DYNSYM      11

uint64_t vdso_symbol(const char *name)
{
        const uint8_t *img = vdso_image;
        uint64_t bytes = (uint64_t)(vdso_image_end - vdso_image);
        uint64_t shoff, shnum;

        _Static_assert(sizeof(struct vdso_shdr) == 64, "Elf64_Shdr");
        _Static_assert(sizeof(struct vdso_sym) == 24, "Elf64_Sym");
        memcpy(&shoff, img + 0x28, 8);                  /* e_shoff */
        shnum = (uint64_t)img[0x3c] | (uint64_t)img[0x3d] << 8;
        if (shoff + shnum * sizeof(struct vdso_shdr) > bytes)
                return 0;
        for (uint64_t i = 0; i < shnum; i++) {
                struct vdso_shdr sh, str;
                memcpy(&sh, img + shoff + i * sizeof sh, sizeof sh);
                if (sh.type != SHT_DYNSYM || sh.link >= shnum)
                        continue;
                memcpy(&str, img + shoff + sh.link * sizeof str, sizeof str);
                for (uint64_t o = 0; o + sizeof(struct vdso_sym) <= sh.size;
                     o += sizeof(struct vdso_sym)) {
                        struct vdso_sym sym;
                        if (sh.offset + o + sizeof sym > bytes)
                                return 0;
                        memcpy(&sym, img + sh.offset + o, sizeof sym);
                        size_t len = strlen(name);
                        if (str.offset + sym.name + len + 1 <= bytes &&
                            memcmp(img + str.offset + sym.name, name, len + 1) == 0)
                                return sym.value;
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
