/*
 * printk.h - leveled kernel messages.
 *
 * Messages at a level numerically above the console level are dropped.
 * The kernel prints to the serial console; the host build prints to stderr.
 */
#ifndef MERCATOR_PRINTK_H
#define MERCATOR_PRINTK_H

#include <mercator/types.h>

enum log_level {
        LOG_EMERG = 0, LOG_ERR = 3, LOG_WARN = 4, LOG_NOTICE = 5,
        LOG_INFO = 6, LOG_DEBUG = 7,
};

extern int console_loglevel;

/*
 * Format a message (kvsnprintf's conversions) and write it to the console
 * if level (LOG_*) is at most console_loglevel; dropped otherwise. Safe
 * from any context that may write the console; never allocates. Messages
 * longer than 511 bytes are cut.
 */
__attribute__((format(printf, 2, 3)))
void printk(int level, const char *fmt, ...);
/* printk() with the arguments already in a va_list (ap is consumed). */
void vprintk(int level, const char *fmt, va_list ap);

#define pr_emerg(...)   printk(LOG_EMERG, __VA_ARGS__)
#define pr_err(...)     printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)    printk(LOG_WARN, __VA_ARGS__)
#define pr_notice(...)  printk(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...)    printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)   printk(LOG_DEBUG, __VA_ARGS__)

/* Format into buf (always NUL-terminated when size > 0); returns the length
 * the full output would have had. Supports %d %i %u %x %X %p %s %c %% with
 * flags '-', '0', width, precision for %s, and the l, ll, z length modifiers. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* kvsnprintf() with its arguments inline; same result. */
__attribute__((format(printf, 3, 4)))
int ksnprintf(char *buf, size_t size, const char *fmt, ...);

#endif
