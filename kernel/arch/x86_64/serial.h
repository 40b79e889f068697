/* serial.h - the COM1 console (serial.c). */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include <mercator/types.h>

void serial_init(void);
void serial_write(const char *s, size_t len);
int serial_getc(void);          /* a received byte, or -1 if none waits */

#endif
