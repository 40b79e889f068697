/* console.h - where kernel output goes (the architecture's serial port). */
#ifndef MERCATOR_CONSOLE_H
#define MERCATOR_CONSOLE_H

#include <mercator/types.h>

void console_write(const char *s, size_t len);
int console_getc(void);         /* a waiting input byte, or -1 */
bool console_at_line_start(void); /* nothing after the last newline */

#endif
