/*
 * cpio.h - the cpio "newc" parser (cpio.c) under the initramfs namespace
 * (initramfs.c). Private to the two: the rest of the kernel sees the
 * archive through initramfs.h.
 */
#ifndef FS_CPIO_H
#define FS_CPIO_H

#include <fs/initramfs.h>

/* A position in the walk over all members of all archives. */
struct cpio_cursor {
        size_t          off;
        uint32_t        archive;
        size_t          index;          /* members returned so far */
};

/*
 * Check every archive of fs's image (base, len set; the rest zero) with
 * the NUL padding between them: every header, name, type and trailer.
 * Counts fs->nmembers and fs->narchives; fs->bad_offset is where a bad
 * member starts (the end when all is valid).
 * => INITRAMFS_VALID, or the first reason the image is refused.
 */
enum initramfs_reason cpio_validate(struct initramfs *fs);

/*
 * The next member after c that is not a trailer, as a node (its archive
 * number set); c moves past it. Start with a zeroed cursor.
 * => false at the end, or at a member that does not parse (which a
 *    validated image does not have).
 */
bool cpio_next(const struct initramfs *fs, struct cpio_cursor *c,
               struct initramfs_node *node);

#endif
