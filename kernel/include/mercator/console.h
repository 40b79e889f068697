/*
 * console.h - the console: where kernel output goes (the architecture's
 * serial port), and the device under the terminal (kernel/fs/tty.c).
 */
#ifndef MERCATOR_CONSOLE_H
#define MERCATOR_CONSOLE_H

#include <mercator/types.h>

/* Kernel messages: '\n' goes out as "\r\n". */
void console_write(const char *s, size_t len);
/* The terminal's output, already processed (OPOST): bytes as they are. */
void console_write_raw(const char *s, size_t len);
int console_getc(void);         /* a waiting input byte, or -1 (polled) */
bool console_at_line_start(void); /* nothing after the last newline */
/* Hold the line in the break state (TCSBRK), or release it. */
void console_set_break(bool on);

/*
 * Input, machine-independent side (tty.c), called by the machine's receive
 * interrupt at a safe point only: never in the middle of a system call.
 * => console_input_room(): whether console_receive may be called now; if
 *    not, the machine holds input back and asks again at its next safe
 *    point (the terminal's buffer is full).
 * => console_receive(c): one byte as typed; runs the line discipline.
 */
bool console_input_room(void);
void console_receive(uint8_t c);

#endif
