/*
 * version.h - what Mercator says it is (uname, /proc/version,
 * /proc/sys/kernel/osrelease).
 *
 * The release names the Linux whose system-call interface Mercator
 * follows: programs and test suites (LTP's min_kver) decide by it
 * whether to expect a feature. 6.13 is the newest one Mercator
 * implements (MADV_GUARD_INSTALL); the numbers of the system-call
 * tables are those of 6.1, which later releases only extend.
 */
#ifndef MERCATOR_VERSION_H
#define MERCATOR_VERSION_H

#define MERCATOR_RELEASE        "6.13.0-mercator"

#endif
