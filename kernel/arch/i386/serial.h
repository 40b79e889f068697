/* serial.h (i386) - the COM1 console (serial.c). */
#ifndef ARCH_I386_SERIAL_H
#define ARCH_I386_SERIAL_H

void serial_init(void);

#endif
