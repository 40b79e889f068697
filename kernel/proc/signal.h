/* signal.h - Linux's signal numbers (x86-64) and wait-status encoding. */
#ifndef PROC_SIGNAL_H
#define PROC_SIGNAL_H

#define SIGILL          4
#define SIGTRAP         5
#define SIGABRT         6
#define SIGBUS          7
#define SIGFPE          8
#define SIGKILL         9
#define SIGSEGV         11
#define SIGPIPE         13
#define SIGTERM         15
#define SIGCHLD         17
#define NSIG            64

/* Linux wait statuses: exited with a code, or killed by a signal. */
static inline int wait_status_exited(int code) { return (code & 0xff) << 8; }
static inline int wait_status_signaled(int sig) { return sig & 0x7f; }

#endif
