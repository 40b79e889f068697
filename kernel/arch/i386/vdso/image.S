/*
 * image.S - the i386 vDSO shared object (built from vdso.c and entry.S by
 * mk/i386.mk) as bytes of the kernel image: vdso_image .. vdso_image_end.
 * The kernel maps them into every process as [vdso] (kernel/proc/vdso.c).
 */
        .section .rodata
        .balign 4096
        .globl vdso_image, vdso_image_end
vdso_image:
        .incbin VDSO_IMAGE
vdso_image_end:
        .section .note.GNU-stack, "", @progbits
