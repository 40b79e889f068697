# /proc/config.gz read by Debian's python3 (its gzip module: zlib checks
# the CRC-32 and the length) on Linux and on Mercator: a Linux .config in
# which features both kernels have are "=y", every line a comment, a
# blank or NAME=value, and some features "is not set". The referee is
# this machine's Linux, whose kernel must have CONFIG_IKCONFIG_PROC (this
# host's has).
# dir: /usr/lib/python3.11
import gzip
import re

with gzip.open("/proc/config.gz", "rt") as f:
    lines = f.read().splitlines()
both = ["CONFIG_MMU", "CONFIG_64BIT", "CONFIG_X86_64", "CONFIG_PROC_FS",
        "CONFIG_TMPFS", "CONFIG_SHMEM", "CONFIG_FUTEX", "CONFIG_IKCONFIG",
        "CONFIG_IKCONFIG_PROC", "CONFIG_SYSVIPC", "CONFIG_ADVISE_SYSCALLS",
        "CONFIG_MEMFD_CREATE", "CONFIG_COREDUMP", "CONFIG_ELF_CORE",
        "CONFIG_SWAP", "CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_POSIX_TIMERS",
        "CONFIG_MULTIUSER", "CONFIG_CROSS_MEMORY_ATTACH",
        "CONFIG_PROC_PAGE_MONITOR", "CONFIG_BINFMT_ELF"]
values = dict(l.split("=", 1) for l in lines if l and not l.startswith("#"))
for name in both:
    print(name, values.get(name, "missing"))
odd = [l for l in lines if l and not l.startswith("#")
       and not re.match(r"^CONFIG_[A-Z0-9_]+=", l)]
print("lines not comment, blank or NAME=value:", len(odd))
print("some features not set:",
      any(re.match(r"^# CONFIG_[A-Z0-9_]+ is not set$", l) for l in lines))
