/*
 * vdso.c - the vDSO's two areas in every process, and the [vvar] page the
 * kernel publishes its clock in (proc/vdso.h, mercator/vdso_data.h).
 *
 * [vvar] is a two-page shared anonymous object that the kernel keeps (and
 * so its pages) for its lifetime: page 0 the clock, page 1 the slot a time
 * namespace uses (zeroes here). Each process maps it shared and read-only,
 * without MAYWRITE, so mprotect cannot make it writable, and MADV_REMOVE
 * (which needs a writable shared area) cannot free it. The kernel writes
 * the clock through its own address of the frame: pmap_quick_enter_page()
 * is the linear map on x86-64 and riscv64; i386, whose page may be in
 * HIGHMEM, keeps it in the persistent kmap window (machine/vdso.h's
 * vdso_vvar_kva).
 *
 * A time namespace, once entered, has its own [vvar] object
 * (vdso_ns_create): its offsets page first, then a copy of the clock page
 * that vdso_publish keeps current; processes in it map that one instead
 * (vdso_map at exec, vdso_vvar_switch at fork and setns).
 *
 * The image is a read-only "file" object over the bytes the kernel image
 * carries (vdso_image[]): one frame per page for the whole machine, shared
 * by every process; a write (a debugger's breakpoint) copies the page into
 * the process, as for any private file mapping.
 */
#include <mercator/panic.h>
#include <mercator/spinlock.h>
#include <mercator/string.h>
#include <machine/vdso.h>
#include <proc/vdso.h>
#include <vm/kmalloc.h>
#include <vm/pmap.h>
#include <vm/pmm.h>
#include <vm/vm_object.h>
#include <vm/vm_space.h>

#if MACHINE_VDSO

#ifndef vdso_vvar_kva
#define vdso_vvar_kva(pa)       pmap_quick_enter_page(pa)
#endif
#ifndef MACHINE_VDSO_ANCHOR
#define MACHINE_VDSO_ANCHOR     0
#endif

static struct vm_object *vvar_obj, *image_obj;
static volatile struct vdso_data *vvar;
/* Orders the writers of the machine's clock page: vdso_publish (a system
 * call on any CPU) and vdso_tick (the timer interrupt, which only tries
 * it and leaves the refresh to the next tick if it is taken). */
static struct spinlock vvar_lock = SPINLOCK_INIT("vvar", LOCK_RANK_VVAR);
static int32_t tz_minuteswest, tz_dsttime;

/* The [vvar] objects of the time namespaces: their page 1 is a copy of
 * the clock page that vdso_publish keeps current. */
struct vvar_ns {
        struct vm_object *obj;
        struct vvar_ns   *next;
};
static struct vvar_ns *ns_list;

/* The anchor's clocks (vdso_data.h), inside a write of the page. */
static void anchor_write(volatile struct vdso_data *v, const struct vdso_data *d)
{
        v->anchor = d->anchor;
        v->mono_sec = d->mono_sec;
        v->real_sec = d->real_sec;
        v->mono_nsec = d->mono_nsec;
        v->real_nsec = d->real_nsec;
        v->anchor_frac = d->anchor_frac;
}

/* Write d into a clock page, under its sequence counter. */
static void vvar_write(volatile struct vdso_data *v, const struct vdso_data *d)
{
        v->seq++;                               /* odd: being written */
        __asm__ volatile("" : : : "memory");
        v->mode = d->mode;
        v->counter_base = d->counter_base;
        v->mult = d->mult;
        v->realtime_offset = d->realtime_offset;
        v->tz_minuteswest = d->tz_minuteswest;
        v->tz_dsttime = d->tz_dsttime;
        v->mono_offset = d->mono_offset;
        v->boot_offset = d->boot_offset;
        anchor_write(v, d);
        v->anchor_mult = d->anchor_mult;
        __asm__ volatile("" : : : "memory");
        v->seq++;                               /* even: consistent */
}

/* The clock as the kernel has it now. */
static void vvar_snapshot(struct vdso_data *d)
{
        *d = (struct vdso_data){ 0 };
        machine_vdso_clock(d);
#if MACHINE_VDSO_ANCHOR
        vdso_anchor_set(d, machine_vdso_counter());
#endif
        d->tz_minuteswest = tz_minuteswest;
        d->tz_dsttime = tz_dsttime;
}

/* Write d into page `index` of a namespace's [vvar] object (through a
 * short-lived kernel mapping: on i386 the page may be in HIGHMEM). */
static void ns_page_write(struct vm_object *obj, uint64_t index,
                          const struct vdso_data *d)
{
        struct vm_page *pg = vm_object_lookup(obj, index);
        volatile struct vdso_data *v;

        if (!pg)
                return;
        v = pmap_quick_enter_page(pmm_page_to_pa(pg));
        vvar_write(v, d);
        pmap_quick_remove_page((void *)v);
}

void vdso_publish(void)
{
        struct vdso_data d;

        if (!vvar)
                return;
        spin_lock(&vvar_lock);
        vvar_snapshot(&d);
        vvar_write(vvar, &d);
        spin_unlock(&vvar_lock);
        for (struct vvar_ns *n = ns_list; n; n = n->next)
                ns_page_write(n->obj, 1, &d);
}

/* Move the clock page's anchor to now (each tick, from the timer
 * interrupt of the CPU that keeps the system's time): only the anchor
 * fields change, under the sequence counter, so a reader sees the old
 * anchor or the new one, and both give the same clock. */
void vdso_tick(void)
{
#if MACHINE_VDSO_ANCHOR
        struct vdso_data d;

        if (!vvar || !vvar->anchor_mult || !spin_trylock(&vvar_lock))
                return;
        d.counter_base = vvar->counter_base;
        d.mult = vvar->mult;
        d.realtime_offset = vvar->realtime_offset;
        vdso_anchor_set(&d, machine_vdso_counter());
        vvar->seq++;                            /* odd: being written */
        __asm__ volatile("" : : : "memory");
        anchor_write(vvar, &d);
        __asm__ volatile("" : : : "memory");
        vvar->seq++;                            /* even: consistent */
        spin_unlock(&vvar_lock);
#endif
}

void vdso_init(void)
{
        uint64_t bytes = (uint64_t)(vdso_image_end - vdso_image);
        struct vm_page *pg, *img, *spare;

        /* Page 1, the time namespace slot, is zeroes outside a namespace;
         * made now so that no leak check sees it come later. */
        if (vm_object_create_anon(VDSO_VVAR_PAGES, &vvar_obj) != VM_OK ||
            (vvar_obj->unevictable = true, false) ||
            vm_object_set_name(vvar_obj, "[vvar]") != VM_OK ||
            vm_object_get_page(vvar_obj, 0, &pg) != VM_OK ||
            vm_object_get_page(vvar_obj, 1, &spare) != VM_OK ||
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

vm_status_t vdso_ns_create(int64_t mono_ns, int64_t boot_ns,
                           struct vm_object **out)
{
        struct vvar_ns *n = kzalloc(sizeof *n);
        struct vm_object *obj = NULL;
        struct vm_page *pg;
        struct vdso_data d;
        vm_status_t st;

        if (!n)
                return VM_ENOMEM;
        st = vm_object_create_anon(VDSO_VVAR_PAGES, &obj);
        if (st == VM_OK) {
                obj->unevictable = true;
                st = vm_object_set_name(obj, "[vvar]");
        }
        for (uint64_t i = 0; st == VM_OK && i < VDSO_VVAR_PAGES; i++)
                st = vm_object_get_page(obj, i, &pg);
        if (st != VM_OK) {
                if (obj)
                        vm_object_unref(obj);
                kfree(n);
                return st;
        }
        /* Page 0, what the vDSO reads first: "the clock is on the next
         * page, add these"; written once, before anyone maps it. */
        d = (struct vdso_data){ .mode = VDSO_MODE_TIMENS,
                                .mono_offset = (uint64_t)mono_ns,
                                .boot_offset = (uint64_t)boot_ns };
        ns_page_write(obj, 0, &d);
        vvar_snapshot(&d);
        ns_page_write(obj, 1, &d);
        n->obj = obj;
        n->next = ns_list;
        ns_list = n;
        *out = obj;
        return VM_OK;
}

void vdso_ns_destroy(struct vm_object *obj)
{
        for (struct vvar_ns **pp = &ns_list; *pp; pp = &(*pp)->next) {
                if ((*pp)->obj == obj) {
                        struct vvar_ns *n = *pp;
                        *pp = n->next;
                        kfree(n);
                        break;
                }
        }
        vm_object_unref(obj);
}

/* Map a [vvar] object (NULL: the initial one) at va, over what is there. */
static vm_status_t vvar_map_at(struct vm_space *sp, vaddr_t va,
                               struct vm_object *obj)
{
        vaddr_t got;

        return vm_space_map_object(sp, va, VDSO_VVAR_PAGES * PAGE_SIZE,
                                   VM_PROT_READ,
                                   VM_MAP_SHARED | VM_MAP_FIXED | VM_MAP_SPECIAL,
                                   obj ? obj : vvar_obj, &got);
}

/*
 * [vvar] and [vdso] go as high under the mmap base as the allocator puts
 * them, moved down at most TLB_COLOURS - 1 pages until none of their pages
 * shares a TLB colour (pmap.h) with the top VDSO_STACK_HOT pages of the
 * user stack, where the callers of clock_gettime keep their frames. The
 * mmap base lies a power of two under the stack top, so without this the
 * code page and the stack's top page agreed in their low 15 bits: on
 * x86-64, clock_gettime took 134 ns called from the stack's top page and
 * 75 ns from one 4 KiB deeper (both evicting each other in QEMU's TLB).
 */
#define VDSO_STACK_HOT  8u

static bool vdso_clashes(vaddr_t start, uint64_t len, vaddr_t stack_top)
{
        for (vaddr_t v = start; v < start + len; v += PAGE_SIZE)
                for (unsigned k = 1; k <= VDSO_STACK_HOT; k++)
                        if (tlb_colour(v) == tlb_colour(stack_top - k * PAGE_SIZE))
                                return true;
        return false;
}

vm_status_t vdso_map(struct vm_space *sp, struct vm_object *vvar_ns,
                     vaddr_t *ehdr)
{
        uint64_t len = page_round((uint64_t)(vdso_image_end - vdso_image));
        uint64_t vlen = VDSO_VVAR_PAGES * PAGE_SIZE;
        uint64_t slack = (TLB_COLOURS - 1) * PAGE_SIZE;
        vaddr_t at, got, s;
        vm_status_t st;

        /* A place for both and the slack, the colour picked inside it, the
         * rest given back, then each part over the place. */
        st = vm_space_map(sp, 0, vlen + len + slack, VM_PROT_NONE,
                          VM_MAP_PRIVATE, &at);
        if (st != VM_OK)
                return st;
        for (s = at + slack; s > at; s -= PAGE_SIZE)
                if (!sp->stack_top || !vdso_clashes(s, vlen + len, sp->stack_top))
                        break;
        if (s > at)
                st = vm_space_unmap(sp, at, s - at);
        if (st == VM_OK && s < at + slack)
                st = vm_space_unmap(sp, s + vlen + len, at + slack - s);
        if (st == VM_OK)
                st = vvar_map_at(sp, s, vvar_ns);
        if (st == VM_OK)
                st = vm_space_map_file(sp, s + vlen, len,
                                       VM_PROT_READ | VM_PROT_EXEC,
                                       VM_MAP_PRIVATE | VM_MAP_FIXED | VM_MAP_SPECIAL,
                                       image_obj, 0, &got);
        if (st != VM_OK) {
                vm_space_unmap(sp, at, vlen + len + slack);
                return st;
        }
        *ehdr = s + vlen;
        sp->vdso_base = *ehdr;
        return VM_OK;
}

vm_status_t vdso_vvar_switch(struct vm_space *sp, struct vm_object *vvar_ns)
{
        vaddr_t at = sp->vdso_base - VDSO_VVAR_PAGES * PAGE_SIZE;
        const struct vm_area *a;

        if (!sp->vdso_base)
                return VM_OK;
        a = vm_space_lookup(sp, at);
        /* Only [vvar] where exec put it: one the program moved or unmapped
         * stays as it is. */
        if (!a || a->start != at || a->end != sp->vdso_base ||
            !(a->flags & VM_AREA_SPECIAL))
                return VM_OK;
        return vvar_map_at(sp, at, vvar_ns);
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

void vdso_tick(void)
{
}

vm_status_t vdso_map(struct vm_space *sp, struct vm_object *vvar_ns,
                     vaddr_t *ehdr)
{
        (void)sp, (void)vvar_ns;
        *ehdr = 0;
        return VM_OK;
}

vm_status_t vdso_ns_create(int64_t mono_ns, int64_t boot_ns,
                           struct vm_object **out)
{
        (void)mono_ns, (void)boot_ns;
        *out = NULL;
        return VM_OK;
}

void vdso_ns_destroy(struct vm_object *obj)
{
        (void)obj;
}

vm_status_t vdso_vvar_switch(struct vm_space *sp, struct vm_object *vvar_ns)
{
        (void)sp, (void)vvar_ns;
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
