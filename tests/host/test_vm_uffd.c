/*
 * test_vm_uffd.c - the VM core's side of userfaultfd (userfaultfd.h): which
 * areas register in which mode, which faults reach the context and as
 * which kind (MISSING, MINOR, WP), and what a fill (UFFDIO_COPY/ZEROPAGE),
 * a continue (UFFDIO_CONTINUE) and write protection (UFFDIO_WRITEPROTECT)
 * do - on private anonymous memory, shared
 * anonymous memory and a tmpfs-like page-cache object made from a source.
 * The context here is a test double whose fault() records the fault and
 * resolves it at once with vm_uffd_fill or vm_uffd_continue, as a handler
 * thread would. Every test ends with no page or descriptor leaked.
 */
#include "check.h"
#include "vm_fixture.h"

#include <string.h>

#include <vm/userfaultfd.h>
#include <vm/vm_object.h>

#define VA      0x40000000UL

/* The test double: what the last fault was, and how to answer it. */
struct fake_uffd {
        struct vm_uffd vm;              /* first: the core's view */
        unsigned       faults;          /* calls of fault() */
        unsigned       kind;            /* of the last one */
        vaddr_t        va;
        enum { ANSWER_FILL, ANSWER_CONTINUE, ANSWER_BUS,
               ANSWER_UNPROTECT } answer;
        uint8_t        byte;            /* ANSWER_FILL's page contents */
        vm_status_t    st;              /* what the answer returned */
};

static enum fault_result fake_fault(struct vm_uffd *u, struct vm_space *s,
                                    vaddr_t va, vm_prot_t access,
                                    unsigned kind, bool user)
{
        struct fake_uffd *f = (struct fake_uffd *)u;
        static uint8_t buf[PAGE_SIZE];

        f->faults++;
        f->kind = kind;
        f->va = va;
        if (f->answer == ANSWER_BUS)
                return FAULT_BUS;
        memset(buf, f->byte, sizeof buf);
        f->st = f->answer == ANSWER_FILL ? vm_uffd_fill(s, page_trunc(va), buf)
              : f->answer == ANSWER_UNPROTECT
                ? vm_uffd_writeprotect(s, page_trunc(va),
                                       page_trunc(va) + PAGE_SIZE, u, false)
                : vm_uffd_continue(s, page_trunc(va));
        return FAULT_RESOLVED;
}

static void fake_init(struct fake_uffd *f)
{
        memset(f, 0, sizeof *f);
        f->vm.fault = fake_fault;
}

TEST(registration_modes_follow_the_kind_of_memory)
{
        struct vm_space *s;
        struct fake_uffd f, g;
        struct vm_object *file;
        vaddr_t out;

        setup(16 * MiB);
        fake_init(&f);
        fake_init(&g);
        s = new_space();
        map_at(s, VA, 4 * P, RW, PRIV);
        map_at(s, VA + 8 * P, 4 * P, RW, SHARED);
        CHECK_EQ(vm_object_create_file("0123", 4, &file), VM_OK);
        CHECK_EQ(vm_space_map_file(s, VA + 16 * P, P, R, SHARED | FIXED, file,
                                   0, &out), VM_OK);
        vm_object_unref(file);

        /* private: MISSING and WP; shmem: MISSING and MINOR */
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_MINOR), VM_EINVAL);
        CHECK_EQ(vm_uffd_register(s, VA + 8 * P, VA + 12 * P, &f.vm, VM_UFFD_WP),
                 VM_EINVAL);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_WP), VM_OK);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, 0), VM_EINVAL);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_MISSING), VM_OK);
        CHECK_EQ(vm_uffd_register(s, VA + 8 * P, VA + 12 * P, &f.vm,
                                  VM_UFFD_MISSING | VM_UFFD_MINOR), VM_OK);
        /* a read-only file that is not shmem: refused; areas are checked
         * in order (Linux: another context's area first is EBUSY) */
        CHECK_EQ(vm_uffd_register(s, VA + 12 * P, VA + 17 * P, &g.vm,
                                  VM_UFFD_MISSING), VM_EINVAL);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 17 * P, &g.vm, VM_UFFD_MISSING),
                 VM_EBUSY);
        CHECK_EQ(vm_uffd_register(s, VA + 8 * P, VA + 9 * P, &g.vm, VM_UFFD_MISSING),
                 VM_EBUSY);
        CHECK(vm_space_lookup(s, VA + 16 * P)->uffd == NULL);
        /* a new mode on part of an area splits it; the same mode merges */
        CHECK_EQ(vm_uffd_register(s, VA + 9 * P, VA + 10 * P, &f.vm,
                                  VM_UFFD_MISSING), VM_OK);
        CHECK_EQ(vm_space_lookup(s, VA + 9 * P)->uffd_mode, VM_UFFD_MISSING);
        CHECK_EQ(vm_space_lookup(s, VA + 8 * P)->end, VA + 9 * P);
        CHECK_EQ(vm_uffd_register(s, VA + 9 * P, VA + 10 * P, &f.vm,
                                  VM_UFFD_MISSING | VM_UFFD_MINOR), VM_OK);
        CHECK_EQ(vm_space_lookup(s, VA + 8 * P)->end, VA + 12 * P);
        CHECK(vm_space_check(s));
        vm_uffd_forget(s, &f.vm);
        CHECK(vm_space_lookup(s, VA + 8 * P)->uffd == NULL &&
              vm_space_lookup(s, VA + 8 * P)->uffd_mode == 0);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(private_missing_faults_once_and_fills_its_own_page)
{
        struct vm_space *s;
        struct fake_uffd f;
        uint8_t src[PAGE_SIZE];

        setup(16 * MiB);
        fake_init(&f);
        f.byte = 0x5a;
        s = new_space();
        map_at(s, VA, 4 * P, RW, PRIV);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_MISSING), VM_OK);
        CHECK_EQ(user_access(s, VA + P + 8, R, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        CHECK_EQ(f.kind, VM_UFFD_MISSING);
        CHECK_EQ(f.va, VA + P + 8);
        CHECK_EQ(f.st, VM_OK);
        CHECK(page_is(frame(s, VA + P), 0x5a));
        CHECK(can(s, VA + P, W));               /* the area is writable */
        /* filled: no second fault, a second fill is EEXIST */
        CHECK_EQ(user_access(s, VA + P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        memset(src, 1, sizeof src);
        CHECK_EQ(vm_uffd_fill(s, VA + P, src), VM_EEXIST);
        CHECK_EQ(vm_uffd_continue(s, VA + 2 * P), VM_EINVAL);  /* private */
        /* the handler says no: SIGBUS, nothing mapped */
        f.answer = ANSWER_BUS;
        CHECK_EQ(user_access(s, VA + 2 * P, R, NULL), FAULT_BUS);
        CHECK(!present(s, VA + 2 * P));
        /* a page dropped by MADV_DONTNEED is missing again */
        CHECK_EQ(vm_space_advise(s, VA, 4 * P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(vm_uffd_fill(s, VA + P, NULL), VM_OK);
        CHECK(page_is(frame(s, VA + P), 0));
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

/*
 * UFFDIO_WRITEPROTECT on private memory: the pages the area has are
 * marked and lose their translations; a read maps them read-only without
 * the handler; a write is a WP fault, which the handler answers by
 * unprotecting, and the write then lands; a page with none when marked
 * is not protected; DONTNEED and munmap clear the marks; registering WP
 * again clears what an unregistered area kept.
 */
TEST(writeprotect_sends_writes_to_the_handler)
{
        struct vm_space *s;
        struct fake_uffd f;

        setup(16 * MiB);
        fake_init(&f);
        f.answer = ANSWER_UNPROTECT;
        s = new_space();
        map_at(s, VA, 8 * P, RW, PRIV);
        for (unsigned i = 0; i < 4; i++)        /* pages 0-3; 4-7 none */
                CHECK_EQ(user_access(s, VA + i * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(vm_uffd_writeprotect(s, VA, VA + P, &f.vm, true), VM_ENOENT);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 8 * P, &f.vm, VM_UFFD_WP), VM_OK);
        CHECK_EQ(vm_uffd_writeprotect(s, VA, VA + 9 * P, &f.vm, true), VM_ENOENT);
        CHECK_EQ(vm_uffd_writeprotect(s, VA, VA + 8 * P, &f.vm, true), VM_OK);
        CHECK(!present(s, VA) && !present(s, VA + 3 * P));
        CHECK(vm_space_check(s));
        /* a read: no handler, read-only */
        CHECK_EQ(user_access(s, VA + P, R, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 0u);
        CHECK(present(s, VA + P) && !can(s, VA + P, W));
        CHECK(vm_space_check(s));
        /* a write: the handler, once, as WP; the write retried lands */
        CHECK_EQ(vm_fault_user(s, VA + P, W), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        CHECK_EQ(f.kind, VM_UFFD_WP);
        CHECK_EQ(f.st, VM_OK);
        CHECK_EQ(user_access(s, VA + P, W, NULL), FAULT_RESOLVED);
        CHECK(can(s, VA + P, W));
        CHECK_EQ(f.faults, 1u);
        /* no page when marked: not protected */
        CHECK_EQ(user_access(s, VA + 5 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        /* DONTNEED drops page 2 and its mark: its next write is free */
        CHECK_EQ(vm_space_advise(s, VA + 2 * P, P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_access(s, VA + 2 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        /* page 3 is still marked: unregistered and registered again, its
         * old mark is gone */
        CHECK_EQ(vm_uffd_unregister(s, VA, VA + 8 * P), VM_OK);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 8 * P, &f.vm, VM_UFFD_WP), VM_OK);
        CHECK_EQ(user_access(s, VA + 3 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        /* page 0: still protected until munmap clears it */
        CHECK_EQ(vm_uffd_writeprotect(s, VA, VA + P, &f.vm, true), VM_OK);
        CHECK(vm_space_check(s));
        CHECK_EQ(vm_space_unmap(s, VA, P), VM_OK);
        CHECK_EQ(s->uffd_wp.n, 0u);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(shared_missing_fill_goes_to_the_object_for_every_mapping)
{
        struct vm_space *s, *c;
        struct fake_uffd f;

        setup(16 * MiB);
        fake_init(&f);
        f.byte = 0xc3;
        s = new_space();
        map_at(s, VA, 4 * P, RW, SHARED);
        user_fill(s, VA, 0x11);                 /* the object has page 0 */
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);  /* maps the same object */
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_MISSING), VM_OK);
        /* page 0 is the object's, only unmapped here: not missing */
        CHECK_EQ(vm_space_advise(s, VA, P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_read(s, VA), 0x11);
        CHECK_EQ(f.faults, 0u);
        /* page 2 the object lacks: a MISSING fault, filled in the object */
        CHECK_EQ(user_access(s, VA + 2 * P, W, NULL), FAULT_RESOLVED);
        CHECK_EQ(f.faults, 1u);
        CHECK_EQ(f.kind, VM_UFFD_MISSING);
        CHECK_EQ(f.st, VM_OK);
        CHECK_EQ(user_read(c, VA + 2 * P), 0xc3);       /* the child sees it */
        CHECK_EQ(frame(c, VA + 2 * P), frame(s, VA + 2 * P));
        CHECK_EQ(f.faults, 1u);                 /* c is not registered */
        /* the child filled page 3 itself: EEXIST for the handler */
        user_fill(c, VA + 3 * P, 0x33);
        CHECK_EQ(vm_uffd_fill(s, VA + 3 * P, NULL), VM_EEXIST);
        CHECK_EQ(vm_uffd_continue(s, VA + 3 * P), VM_OK);
        CHECK_EQ(user_read(s, VA + 3 * P), 0x33);
        CHECK_EQ(vm_uffd_continue(s, VA + 3 * P), VM_EEXIST);   /* mapped */
        CHECK_EQ(vm_uffd_continue(s, VA + P), VM_EFAULT);       /* no page */
        CHECK(vm_space_check(s) && vm_space_check(c));
        destroy(c);
        destroy(s);
        check_baseline();
}

TEST(minor_faults_reach_the_handler_and_continue_maps_the_cache_page)
{
        static uint8_t source[2 * PAGE_SIZE];
        struct vm_space *s, *t;
        struct vm_object *obj;
        struct fake_uffd f;
        vaddr_t out;

        setup(16 * MiB);
        fake_init(&f);
        memset(source, 'S', sizeof source);
        CHECK_EQ(vm_object_create_cache(source, sizeof source, &obj), VM_OK);
        CHECK_EQ(vm_object_resize(obj, 4 * P), VM_OK);  /* pages 2, 3: none */
        s = new_space();
        t = new_space();
        CHECK_EQ(vm_space_map_file(s, VA, 4 * P, RW, SHARED | FIXED | VM_MAP_MAYWRITE,
                                   obj, 0, &out), VM_OK);
        CHECK_EQ(vm_space_map_file(t, VA, 4 * P, RW, SHARED | FIXED | VM_MAP_MAYWRITE,
                                   obj, 0, &out), VM_OK);
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_MINOR), VM_OK);
        /* page 1 comes from the source: the object has it, a MINOR fault */
        f.answer = ANSWER_CONTINUE;
        CHECK_EQ(user_read(s, VA + P), 'S');
        CHECK_EQ(f.faults, 1u);
        CHECK_EQ(f.kind, VM_UFFD_MINOR);
        CHECK_EQ(f.st, VM_OK);
        CHECK(!present(s, VA));
        /* written through t, seen after the next MINOR fault in s */
        user_fill(t, VA, 'T');
        CHECK_EQ(user_read(s, VA), 'T');
        CHECK_EQ(f.faults, 2u);
        CHECK_EQ(frame(s, VA), frame(t, VA));
        /* page 2 the object lacks: MINOR-only area, an ordinary fault,
         * but no fault-around: page 0, the cache's, stays for its MINOR
         * fault (Linux's uffd_disable_fault_around) */
        CHECK_EQ(vm_space_advise(s, VA, P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_read(s, VA + 2 * P), 0);
        CHECK_EQ(f.faults, 2u);
        CHECK(!present(s, VA));
        /* MISSING too: page 3 goes to the handler as MISSING */
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm,
                                  VM_UFFD_MISSING | VM_UFFD_MINOR), VM_OK);
        f.answer = ANSWER_FILL;
        f.byte = 'F';
        CHECK_EQ(user_read(s, VA + 3 * P), 'F');
        CHECK_EQ(f.kind, VM_UFFD_MISSING);
        CHECK_EQ(user_read(t, VA + 3 * P), 'F');        /* in the cache */
        CHECK(vm_object_lookup(obj, 3) != NULL);
        /* past the object's end: fill is EFAULT, a fault is SIGBUS */
        vm_spaces_unmap_object(obj, 3, 4, true);        /* a truncate */
        CHECK_EQ(vm_object_resize(obj, 3 * P), VM_OK);
        CHECK_EQ(vm_uffd_fill(s, VA + 3 * P, NULL), VM_EFAULT);
        CHECK_EQ(user_access(s, VA + 3 * P, R, NULL), FAULT_BUS);
        CHECK_EQ(f.faults, 3u);
        CHECK(vm_space_check(s) && vm_space_check(t));
        destroy(t);
        destroy(s);
        vm_object_unref(obj);
        check_baseline();
}

TEST(poison_is_sigbus_and_follows_the_page_table_rules)
{
        struct vm_space *s, *c;
        struct fake_uffd f;
        vaddr_t out;

        setup(16 * MiB);
        fake_init(&f);
        s = new_space();
        map_at(s, VA, 8 * P, RW, PRIV);
        user_fill(s, VA, 0x61);
        CHECK_EQ(vm_uffd_poison(s, VA + P), VM_ENOENT);         /* unregistered */
        CHECK_EQ(vm_uffd_register(s, VA, VA + 8 * P, &f.vm, VM_UFFD_MISSING), VM_OK);
        CHECK_EQ(vm_uffd_poison(s, VA), VM_EEXIST);             /* a page there */
        CHECK_EQ(vm_uffd_poison(s, VA + P), VM_OK);
        CHECK_EQ(vm_uffd_poison(s, VA + P), VM_EEXIST);
        CHECK_EQ(vm_uffd_poison(s, VA + 3 * P), VM_OK);
        /* SIGBUS before the handler is asked; nothing mapped there */
        CHECK_EQ(user_access(s, VA + P, R, NULL), FAULT_BUS);
        CHECK_EQ(s->last_fault.reason, FAULT_REASON_POISON);
        CHECK_EQ(f.faults, 0u);
        CHECK(vm_space_check(s));
        /* fork copies it; the child is not registered */
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        CHECK_EQ(user_access(c, VA + P, W, NULL), FAULT_BUS);
        CHECK_EQ(user_read(c, VA + 2 * P), 0);
        destroy(c);
        /* mprotect keeps it, unregistering keeps it */
        CHECK_EQ(vm_space_protect(s, VA, 8 * P, R), VM_OK);
        CHECK_EQ(vm_uffd_unregister(s, VA, VA + 8 * P), VM_OK);
        CHECK_EQ(user_access(s, VA + P, R, NULL), FAULT_BUS);
        CHECK_EQ(vm_space_protect(s, VA, 8 * P, RW), VM_OK);
        /* mremap moves it with the pages */
        CHECK_EQ(vm_space_remap(s, VA, 8 * P, 8 * P, VM_REMAP_MAYMOVE | VM_REMAP_FIXED,
                                VA + 32 * P, &out), VM_OK);
        CHECK_EQ(user_access(s, VA + 33 * P, R, NULL), FAULT_BUS);
        CHECK_EQ(user_read(s, VA + 32 * P), 0x61);
        CHECK(vm_space_check(s));
        /* MADV_DONTNEED clears it; a fill replaces it */
        CHECK_EQ(vm_space_advise(s, VA + 33 * P, P, VM_MADV_DONTNEED), VM_OK);
        CHECK_EQ(user_read(s, VA + 33 * P), 0);
        CHECK_EQ(vm_uffd_register(s, VA + 32 * P, VA + 40 * P, &f.vm, VM_UFFD_MISSING), VM_OK);
        CHECK_EQ(vm_uffd_fill(s, VA + 35 * P, NULL), VM_OK);
        CHECK_EQ(user_read(s, VA + 35 * P), 0);
        CHECK(!vm_guards_meet(&s->poison, VA, VA + 64 * P));
        /* munmap clears it */
        CHECK_EQ(vm_uffd_poison(s, VA + 36 * P), VM_OK);
        CHECK_EQ(vm_space_unmap(s, VA + 32 * P, 8 * P), VM_OK);
        CHECK(!vm_guards_meet(&s->poison, VA, VA + 64 * P));
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}

TEST(move_takes_the_frame_and_leaves_the_source_missing)
{
        struct vm_space *s, *c;
        struct fake_uffd f;
        paddr_t pa;

        setup(16 * MiB);
        fake_init(&f);
        s = new_space();
        map_at(s, VA, 4 * P, RW, PRIV);                 /* dst, registered */
        map_at(s, VA + 16 * P, 4 * P, RW, PRIV);        /* src */
        map_at(s, VA + 32 * P, P, R, PRIV);             /* read-only */
        CHECK_EQ(vm_uffd_register(s, VA, VA + 4 * P, &f.vm, VM_UFFD_MISSING), VM_OK);
        user_fill(s, VA + 16 * P, 0x77);
        pa = frame(s, VA + 16 * P);
        CHECK_EQ(vm_uffd_move_check(s, VA, VA + 16 * P, 2 * P, &f.vm), VM_OK);
        CHECK_EQ(vm_uffd_move_check(s, VA + 16 * P, VA, P, &f.vm), VM_EINVAL);
        CHECK_EQ(vm_uffd_move_check(s, VA, VA + 32 * P, P, &f.vm), VM_EINVAL);
        CHECK_EQ(vm_uffd_move_check(s, VA, VA + 8 * P, P, &f.vm), VM_ENOENT);
        CHECK_EQ(vm_uffd_move_check(s, VA + 3 * P, VA + 16 * P, 2 * P, &f.vm), VM_EINVAL);
        CHECK_EQ(vm_uffd_move(s, VA, VA + 16 * P, false), VM_OK);
        CHECK_EQ(frame(s, VA), pa);                     /* no copy */
        CHECK(can(s, VA, W));
        CHECK(!present(s, VA + 16 * P));
        CHECK_EQ(user_read(s, VA + 16 * P), 0);         /* missing there */
        CHECK_EQ(vm_uffd_move(s, VA, VA + 17 * P, false), VM_EEXIST);
        CHECK_EQ(vm_uffd_move(s, VA + P, VA + 17 * P, false), VM_ENOENT);
        CHECK_EQ(vm_uffd_move(s, VA + P, VA + 17 * P, true), VM_OK);
        CHECK(!present(s, VA + P));
        /* shared with a fork's child: EBUSY, nothing moved */
        user_fill(s, VA + 18 * P, 0x12);
        CHECK_EQ(vm_space_fork(s, &c), VM_OK);
        CHECK_EQ(vm_uffd_move(s, VA + 2 * P, VA + 18 * P, false), VM_EBUSY);
        CHECK_EQ(user_read(s, VA + 18 * P), 0x12);
        destroy(c);
        CHECK_EQ(vm_uffd_move(s, VA + 2 * P, VA + 18 * P, false), VM_OK);
        CHECK_EQ(user_read(s, VA + 2 * P), 0x12);
        CHECK(vm_space_check(s));
        destroy(s);
        check_baseline();
}
