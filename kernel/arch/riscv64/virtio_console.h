/*
 * virtio_console.h (riscv64) - the picture feed's port on QEMU's virt
 * board: a transmit-only virtio console (virtio_console.c).
 */
#ifndef ARCH_RISCV64_VIRTIO_CONSOLE_H
#define ARCH_RISCV64_VIRTIO_CONSOLE_H

#include <mercator/types.h>

/*
 * Write len bytes to the first virtio console the device tree's virtio-mmio
 * transports hold (probed at the first call), waiting until the device has
 * taken them.
 * => false if the machine has none (nothing is written).
 */
bool virtio_console_write(const char *s, size_t len);

#endif
