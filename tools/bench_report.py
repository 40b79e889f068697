#!/usr/bin/env python3
"""The report half of `make bench` (tools/bench.py runs the boots): from the
boots' records, the summary (median and spread per figure), the tables
(DIR/bench.md, README.md's bench table) and the charts (DIR/*.png, with
Debian's python3-matplotlib). What the runs were (kernels, memory sizes,
command lines) is described here too, since the tables name it.

  bench_report.py DIR/bench.json     tables and charts again, no boots
                                     (the same as bench.py --redraw)
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")

# The kernels' command lines. Linux: serial console, quiet, and a panic
# ends the boot at once; otherwise Debian's defaults (THP "always",
# init_on_alloc=1), the bench madvises its mappings out of THP itself.
# riscv64: Linux in Sv39 (no4lvl; its default is Sv57), Mercator with
# satpbench, which makes it time its own satp switch before /init
# (kernel/arch/riscv64/satp_bench.c) and print the figures as vmbench does.
ARCHES = {
    "x86_64": {"append": {"mercator": "loglevel=3",
                          "linux": "console=ttyS0 quiet panic=-1"},
               "cpu": "qemu64",
               "ram_sizes": ["64M", "128M", "256M", "1G", "4G", "16G"],
               "libc": "musl", "results": "results",
               "bench_dir": "build/bench", "main_mem": "1G"},
    "riscv64": {"append": {"mercator": "loglevel=3 satpbench",
                           "linux": "console=ttyS0 quiet panic=-1 no4lvl"},
                "cpu": "rv64",
                "ram_sizes": ["128M", "256M", "1G", "4G", "16G"],
                "libc": "glibc", "results": "results/riscv64",
                "bench_dir": "build/riscv64/bench", "main_mem": "1G"},
    # i386: Mercator's 2-level kernel and Debian 12's 686-pae Linux (the
    # i386 tier's referee; no_timer_check: a loaded host made its IO-APIC
    # timer check panic) on qemu32 with an AMD vendor string (with Intel's
    # Linux turns on page-table isolation, a CR3 reload per system call);
    # the main and areas boots at -m 3G, where most RAM is HIGHMEM, so the
    # fault figures include zeroing and copying through kmap_atomic.
    "i386": {"append": {"mercator": "loglevel=3",
                        "linux": "console=ttyS0 quiet panic=-1 "
                                 "no_timer_check"},
             "cpu": "qemu32,vendor=AuthenticAMD",
             "ram_sizes": ["128M", "256M", "1G", "3G"],
             "libc": "glibc", "results": "results/i386",
             "bench_dir": "build/i386/bench", "main_mem": "3G"},
}
ARCH = "x86_64"
APPEND = ARCHES[ARCH]["append"]
KERNELS = ["mercator", "linux"]
CPU = ARCHES[ARCH]["cpu"]
# The main and areas boots' -m is the architecture's main_mem; rows name
# it by this marker, summarize() resolves it.
MAIN_MEM = "main"
RAM_SIZES = ARCHES[ARCH]["ram_sizes"]
AREA_STEPS = [1, 100, 10000, 60000]
SMP_CPUS = [1, 2, 3, 4]                 # "smp" boots: -smp 1 .. 4 (x86-64)
SWAP_MEM = "128M"                       # "swap" boots (x86-64), with a
                                        # 512 MiB mkswap'd virtio disk


def use_arch(arch):
    """Make this module describe arch's runs (bench.py --arch; a redraw
    takes the arch from the run's environment)."""
    global ARCH, APPEND, CPU, RAM_SIZES
    ARCH = arch
    APPEND = ARCHES[arch]["append"]
    CPU = ARCHES[arch]["cpu"]
    RAM_SIZES = ARCHES[arch]["ram_sizes"]


def main_mem():
    """The -m of the main and areas boots on this architecture."""
    return ARCHES[ARCH]["main_mem"]


def mem_kib(mem):
    units = {"M": 1024, "G": 1024 * 1024}
    return float(mem[:-1]) * units[mem[-1]]


# ---------------------------------------------------------------------------
# Charts need matplotlib, which Debian installs for its own python3.


def ensure_matplotlib():
    """Import matplotlib, re-running this script under Debian's python3
    (where python3-matplotlib lives) if the python3 on PATH lacks it."""
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if os.path.exists(system) and os.path.realpath(sys.executable) != \
            os.path.realpath(system):
        os.execv(system, [system] + sys.argv)
    sys.exit("bench: matplotlib is missing: apt-get install python3-matplotlib "
             "(make setup installs it)")


# ---------------------------------------------------------------------------
# Summaries: medians over boots, boot-to-boot spread


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def summarize(records, kernel, mode, mem, name, smp=1):
    """One figure over the boots of (kernel, mode, mem) at -smp smp; mode
    None: every boot at that -m (boot figures come before the mode is
    read). Runs from before the smp field were all -smp 1."""
    if mem == MAIN_MEM:
        mem = main_mem()
    boots = [r for r in records if r["kernel"] == kernel and
             r["mem"] == mem and mode in (None, r["mode"]) and
             r.get("smp", 1) == smp]
    values = [r["figures"][name] for r in boots
              if isinstance(r["figures"].get(name), float)]
    if values:
        med = median(values)
        spread = (max(values) - min(values)) / med if med else 0.0
        return {"median": med, "spread": spread, "min": min(values),
                "max": max(values), "boots": len(values), "of": len(boots)}
    reasons = [r["figures"][name]["na"] for r in boots
               if isinstance(r["figures"].get(name), dict)]
    if reasons:
        why = max(set(reasons), key=reasons.count)
    elif boots:
        why = no_figure_reason(boots)
    else:
        why = "not run"
    return {"na": why, "of": len(boots)}


def no_figure_reason(boots):
    r = boots[0]
    last = r["console_tail"][-1].strip()[:100] if r["console_tail"] else ""
    console = f"last console line: {last!r}" if last else "no console output"
    if r.get("skipped"):
        return "not booted: two earlier boots of it timed out"
    if r.get("timed_out"):
        return f"the boot timed out after {r['wall_s']:.0f} s ({console})"
    if "boot_ns" not in r["figures"]:
        return (f"the kernel did not reach /init at -m {r['mem']} (QEMU "
                f"exited with {r['qemu_rc']} after {r['wall_s']:.1f} s, "
                f"{console})")
    return f"the benchmark stopped before this figure ({console})"


# The main table: (id, what, mode, mem, vmbench figure, unit); mode None:
# boots of any mode at that -m.
ROWS = [
    ("fault", "anonymous page fault (write; touch 64 MiB, 1 byte per page), "
     "per page", "main", MAIN_MEM, "fault_write_ns", "ns"),
    ("fault_read", "read fault on untouched anonymous memory (the zero page), "
     "per page", "main", MAIN_MEM, "fault_read_ns", "ns"),
    ("mmap", "mmap + munmap of one page", "main", MAIN_MEM,
     "mmap_munmap_ns", "ns"),
    ("mprotect", "mprotect of 1 MiB (populated), read-only and back, per call",
     "main", MAIN_MEM, "mprotect_1m_ns", "ns"),
    ("brk", "brk grow + shrink (64 KiB)", "main", MAIN_MEM, "brk_ns", "ns"),
    ("fork", "fork + exit + wait, parent has touched 16 MiB", "main",
     MAIN_MEM, "fork_exit_wait_16m_ns", "ns"),
    ("fork_write", "fork + child writes all 16 MiB + exit + wait", "main",
     MAIN_MEM, "fork_write_wait_16m_ns", "ns"),
    ("fork_read", "fork + child reads all 16 MiB + exit + wait", "main",
     MAIN_MEM, "fork_read_wait_16m_ns", "ns"),
    ("cow", "copy-on-write break after fork, per page", "main", MAIN_MEM,
     "cow_break_ns", "ns"),
    ("cow_reuse", "copy-on-write reuse after fork: the child exits at once, "
     "then the parent writes each page it holds alone again, per page",
     "main", MAIN_MEM, "cow_reuse_ns", "ns"),
    ("thp_fill", "fill of a huge-page-aligned 64 MiB MADV_HUGEPAGE region "
     "(huge pages on both kernels), per 4 KiB", "main", MAIN_MEM,
     "thp_fill_64m_ns", "ns"),
    ("shm_thp_fill", "fill of a 64 MiB shared anonymous region with "
     "shmem_enabled=always (huge pages on both kernels), per 4 KiB", "main",
     MAIN_MEM, "shm_thp_fill_64m_ns", "ns"),
    ("thp_cow", "copy-on-write break of a huge-page region after fork, "
     "per 4 KiB", "main", MAIN_MEM, "thp_cow_break_ns", "ns"),
    ("thp_reuse", "copy-on-write reuse of a huge-page region (child "
     "gone), per 4 KiB", "main", MAIN_MEM, "thp_cow_reuse_ns", "ns"),
    ("getppid", "null system call (getppid; Mercator answers it without "
     "the big lock)", "main", MAIN_MEM, "getppid_ns", "ns"),
    ("getpgid", "null system call under Mercator's big lock (getpgid(0))",
     "main", MAIN_MEM, "getpgid_ns", "ns"),
    ("clock_gettime", "clock_gettime(CLOCK_MONOTONIC) through the C library "
     "(the vDSO on both kernels), per call", "main", MAIN_MEM,
     "clock_gettime_ns", "ns"),
    ("gettimeofday", "gettimeofday through the C library (the vDSO), per call",
     "main", MAIN_MEM, "gettimeofday_ns", "ns"),
    ("exec", "fork + execve + wait of a small static binary", "main",
     MAIN_MEM, "fork_exec_wait_ns", "ns"),
    ("exec_dyn", "fork + execve + wait of Debian's /usr/bin/true "
     "(dynamically linked: ld.so maps libc)", "main", MAIN_MEM,
     "fork_exec_dyn_wait_ns", "ns"),
    ("python", "start-up of Debian's `python3 -c pass` (fork + execve + "
     "wait)", "main", MAIN_MEM, "python_start_ns", "ns"),
    ("munmap", "munmap of 64 MiB populated (and one getpgid(0), under "
     "which Mercator frees what its munmap left parked), per page", "main",
     MAIN_MEM,
     "munmap_populated_ns", "ns"),
    ("signal", "signal round trip: kill(getpid(), SIGUSR1), the handler "
     "runs and returns (rt_sigreturn)", "main", MAIN_MEM,
     "signal_roundtrip_ns", "ns"),
    ("user_fault", "user-handled fault: write to a PROT_NONE page, the "
     "SIGSEGV handler mprotects it read-write, the write runs again "
     "(mprotect back to PROT_NONE included)", "main", MAIN_MEM,
     "user_fault_ns", "ns"),
    ("thread", "pthread_create + pthread_join of a thread that returns at "
     "once", "main", MAIN_MEM, "thread_create_join_ns", "ns"),
    ("futex", "futex hand-over between two threads (wait until the word is "
     "mine, set the other's, FUTEX_WAKE), per hand-over", "main", MAIN_MEM,
     "futex_handover_ns", "ns"),
    ("pipe", "pipe round trip between two processes (a byte there and "
     "back: two switches on one CPU)", "main", MAIN_MEM, "pipe_roundtrip_ns",
     "ns"),
    ("pipe_sleepers", "the same pipe round trip beside 1000 processes "
     "sleeping in read()", "main", MAIN_MEM, "pipe_roundtrip_sleepers_ns",
     "ns"),
    ("pipe_timed_sleepers", "the same pipe round trip beside 1000 processes "
     "each sleeping 100 ms at a time (10 000 deadlines a second)", "main",
     MAIN_MEM, "pipe_roundtrip_timed_sleepers_ns", "ns"),
    ("file_read", "read() of a cached 16 MiB tmpfs file, per 4 KiB call",
     "main", MAIN_MEM, "file_read_16m_ns", "ns"),
    ("file_write", "write() of 16 MiB to an emptied tmpfs file, per 4 KiB "
     "call", "main", MAIN_MEM, "file_write_16m_ns", "ns"),
    ("shared_fault", "first touch of a MAP_SHARED mapping of a cached tmpfs "
     "file, per page", "main", MAIN_MEM, "shared_fault_ns", "ns"),
    ("msync", "msync(MS_SYNC) of 16 MiB of dirty shared file pages, per call",
     "main", MAIN_MEM, "msync_16m_ns", "ns"),
    ("create_unlink", "open(O_CREAT|O_EXCL) + close + unlink of an empty "
     "tmpfs file", "main", MAIN_MEM, "create_unlink_ns", "ns"),
    ("boot_1g", "boot: CLOCK_MONOTONIC at /init's first instruction, -m 1G",
     None, "1G", "boot_ns", "ns"),
    ("boot_16g", "boot: CLOCK_MONOTONIC at /init's first instruction, -m 16G",
     None, "16G", "boot_ns", "ns"),
    ("host_boot_1g", "boot seen from the host: QEMU start to /init's first "
     "line (firmware included), -m 1G", None, "1G", "host_first_line_ns",
     "ns"),
    ("host_boot_16g", "boot seen from the host, -m 16G", None, "16G",
     "host_first_line_ns", "ns"),
    ("kused_1g", "kernel memory in use at /init (MemTotal - MemFree), -m 1G",
     None, "1G", "kernel_used_kb", "kb"),
    ("kused_16g", "kernel memory in use at /init (MemTotal - MemFree), -m 16G",
     None, "16G", "kernel_used_kb", "kb"),
    ("outside_1g", "RAM outside MemTotal (kernel image, page descriptors, "
     "firmware), -m 1G", None, "1G", "outside_memtotal_kb", "kb"),
    ("outside_16g", "RAM outside MemTotal, -m 16G", None, "16G",
     "outside_memtotal_kb", "kb"),
    ("desc", "kernel bytes per 4 KiB page of RAM for page descriptors",
     None, MAIN_MEM, "page_desc_bytes", "B"),
]


# riscv64 only: what the trampoline's satp switch costs, timed by the kernel
# itself (Linux has no such switch: it keeps one table with the kernel in it).
RISCV64_ROWS = [
    ("satp_pair", "kernel: satp to another table and back, each write between "
     "two sfence.vma (the trampoline's sequence, per trap)", "main",
     MAIN_MEM, "satp_switch_fenced_ns", "ns"),
    ("satp_pair_bare", "kernel: the same two satp writes without the fences",
     "main", MAIN_MEM, "satp_switch_bare_ns", "ns"),
    ("sfence", "kernel: one sfence.vma zero, zero", "main", MAIN_MEM,
     "sfence_all_ns", "ns"),
    ("refill", "kernel: reading 16 pages after a full sfence.vma, over "
     "reading them with the TLB warm", "main", MAIN_MEM,
     "tlb_refill_16_ns", "ns"),
    ("null_ecall", "kernel: a bare user context's system call (ecall, "
     "trampoline both ways, ENOSYS)", "main", MAIN_MEM, "null_ecall_ns", "ns"),
    ("null_ecall_one", "kernel: the same with user mode on the kernel table "
     "too (no satp change: Linux's way)", "main", MAIN_MEM,
     "null_ecall_one_table_ns", "ns"),
    ("trampoline_pair", "kernel: the trampoline's two satp switches per "
     "system call (the difference of the two above)", "main", MAIN_MEM,
     "trampoline_switch_ns", "ns"),
]
MERCATOR_ONLY = {r[0] for r in RISCV64_ROWS}


# Swap (issue 16's figures; mode "swap", x86-64): the same swap image on
# a virtio disk for both kernels at -m 128M. Each page-in figure is the
# region's read time over its pages (the pages read-around brought in
# count too); vmbench also prints the major faults (getrusage) of each.
SWAP_ROWS = [
    ("swap_seq", "sequential page-in from swap (32 MiB pushed out, read "
     "back in order), per page, -m 128M", "swap", SWAP_MEM,
     "swap.seq_pagein_ns", "ns"),
    ("swap_rand", "random page-in from swap (the same 32 MiB read back in a "
     "fixed random order), per page", "swap", SWAP_MEM,
     "swap.rand_pagein_ns", "ns"),
    ("swap_ws", "a 256 MiB working set through a 128 MiB machine: written, "
     "then read and checked twice, page by page (total)", "swap", SWAP_MEM,
     "swap.ws_256m_ns", "ns"),
    ("rmap_fork", "reverse-map memory beyond the page descriptor, per page "
     "of a 32 MiB region shared by fork (Mercator: measured; Linux: its "
     "anon_vma and anon_vma_chain sizes from BTF)", "swap", SWAP_MEM,
     "swap.rmap_fork_bytes", "B"),
    ("rmap_mremap", "the same after the parent mremaps the region elsewhere",
     "swap", SWAP_MEM, "swap.rmap_mremap_bytes", "B"),
]
# The disk side of each swap time: (figure, what) for the counts table.
SWAP_COUNTS = [("swap.seq_pagein_ns", "sequential page-in (32 MiB)"),
               ("swap.rand_pagein_ns", "random page-in (32 MiB)"),
               ("swap.ws_256m_ns", "256 MiB working set")]


def all_rows():
    return ROWS + (RISCV64_ROWS if ARCH == "riscv64" else []) + \
        (SWAP_ROWS if ARCH == "x86_64" else [])


def summary_rows(records):
    rows = []
    for rid, what, mode, mem, name, unit in all_rows():
        row = {"id": rid, "what": what, "mode": mode,
               "mem": main_mem() if mem == MAIN_MEM else mem,
               "figure": name, "unit": unit}
        for k in KERNELS:
            row[k] = summarize(records, k, mode, mem, name)
        if rid in MERCATOR_ONLY:
            row["linux"] = {"na": "Linux keeps one table: no satp switch "
                            "on a trap", "of": 0, "none": True}
        m, lx = row["mercator"], row["linux"]
        if m.get("na") == "not run" and lx.get("na") == "not run":
            continue            # a configuration this run left out
        row["ratio"] = m["median"] / lx["median"] \
            if "median" in m and "median" in lx and lx["median"] else None
        rows.append(row)
    return rows


def curve(records, mode, mems, names, smp=None):
    """Scale curve points: for each x, each kernel, each figure; smp:
    the -smp of each x (default 1)."""
    points = []
    for i, (x, mem, tmpl) in enumerate(mems):
        p = {"x": x, "mem": mem}
        for k in KERNELS:
            p[k] = {n: summarize(records, k, mode, mem, tmpl.format(n),
                                 smp[i] if smp else 1)
                    for n in names}
        points.append(p)
    return points


# Several CPUs (mode "smp", x86-64): (id, what, vmbench figure, unit), at
# the largest -smp booted.
SMP_ROWS = [
    ("smp_munmap", "munmap of one populated page while the process's other "
     "threads spin on every other CPU (one shootdown round per call)",
     "smp.munmap_page_ns", "ns"),
    ("smp_mprotect", "mprotect of 1 MiB (populated) between read-only and "
     "read+execute, per call, the other threads spinning likewise (every "
     "call changes every entry: one shootdown round)", "smp.mprotect_1m_ns",
     "ns"),
    ("smp_storm", "fault storm: one thread per CPU writes fresh pages of one "
     "mapping (4 MiB each), wall time per page", "smp.fault_storm_ns", "ns"),
    ("smp_thread", "pthread_create + pthread_join of a thread that returns "
     "at once", "smp.thread_create_join_ns", "ns"),
    ("smp_futex", "futex hand-over between two threads asked to stay on "
     "CPUs 0 and 1, per hand-over", "smp.futex_xcpu_ns", "ns"),
]


def smp_rows(records):
    """The SMP figures at the largest -smp any boot had."""
    n = max([r.get("smp", 1) for r in records if r["mode"] == "smp"],
            default=SMP_CPUS[-1])
    rows = []
    for rid, what, name, unit in SMP_ROWS:
        row = {"id": rid, "what": what, "mode": "smp", "mem": main_mem(),
               "smp": n, "figure": name, "unit": unit}
        for k in KERNELS:
            row[k] = summarize(records, k, "smp", MAIN_MEM, name, n)
        m, lx = row["mercator"], row["linux"]
        row["ratio"] = m["median"] / lx["median"] \
            if "median" in m and "median" in lx and lx["median"] else None
        rows.append(row)
    return rows


def smp_curve(records):
    """The fault storm and the futex hand-over at each -smp booted, with
    the CPUs the benchmark saw and how often the hand-over's two threads
    were on different CPUs."""
    ns = sorted({r.get("smp", 1) for r in records if r["mode"] == "smp"})
    return curve(records, "smp", [(n, MAIN_MEM, "{}") for n in ns],
                 ["smp.cpus", "smp.fault_storm_ns", "smp.futex_xcpu_ns",
                  "smp.futex_split_pct", "smp.munmap_page_ns"], smp=ns)


def area_curve(records):
    steps = [(n, MAIN_MEM, f"areas.{n}.{{}}") for n in AREA_STEPS]
    return curve(records, "areas", steps,
                 ["count", "fault_ns", "mmap_munmap_ns"])


def ram_curve(records):
    sizes = [(m, m, "{}") for m in RAM_SIZES]
    return curve(records, "ram", sizes,
                 ["ram.fault_ns", "ram.mmap_munmap_ns", "boot_ns",
                  "kernel_used_kb", "page_desc_bytes"])


# ---------------------------------------------------------------------------
# Text: the markdown tables


def digits3(v):
    """Three significant digits, never in exponent form."""
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def fmt(value, unit):
    if unit == "ns":
        for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
            if value >= scale:
                return f"{digits3(value / scale)} {name}"
        return f"{digits3(value)} ns"
    if unit == "kb":
        return f"{digits3(value / 1024)} MiB" if value >= 1024 \
            else f"{digits3(value)} KiB"
    if unit == "B":
        return f"{value:.3g} B" if 0 < value < 1 else f"{digits3(value)} B"
    return f"{value:.0f}"


def cell(s, unit):
    if s.get("none"):
        return "-"
    if "median" not in s:
        return "n/a"
    partial = f", {s['boots']} of {s['of']} boots" if s["boots"] < s["of"] \
        else ""
    return f"{fmt(s['median'], unit)} [{s['spread'] * 100:.0f}%{partial}]"


def ratio_cell(r):
    if r is None:
        return "n/a"
    note = " (noise)" if abs(r - 1) < 0.15 else ""
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}{note}"


def main_table(rows):
    out = ["| figure | Mercator | Linux | Mercator/Linux |",
           "| --- | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['what']} | {cell(r['mercator'], r['unit'])} | "
                   f"{cell(r['linux'], r['unit'])} | {ratio_cell(r['ratio'])} |")
    return out


def na_notes(rows, points_sets):
    """One line per kernel, place and reason: why a figure is n/a."""
    seen = {}
    for r in rows:
        for k in KERNELS:
            if "na" in r[k] and not r[k].get("none"):
                seen.setdefault((k, r["what"], r[k]["na"]), None)
    for title, points in points_sets:
        for p in points:
            for k in KERNELS:
                for name, s in p[k].items():
                    if "na" in s:
                        seen.setdefault((k, f"{title} at {p['x']}", s["na"]),
                                        []).append(name)
    out = []
    for (k, where, why), names in seen.items():
        what = f"{where} ({', '.join(names)})" if names else where
        out.append(f"- {k.capitalize()}, {what}: {why}")
    return out


def curve_table(points, cols, xlabel):
    head = f"| {xlabel} |" + "".join(
        f" {label}: Mercator | Linux | ratio |" for label, _, _ in cols)
    out = [head, "| ---: |" + " ---: | ---: | ---: |" * len(cols)]
    for p in points:
        line = f"| {p['x']} |"
        for _, name, unit in cols:
            m, lx = p["mercator"][name], p["linux"][name]
            r = m["median"] / lx["median"] if "median" in m and \
                "median" in lx and lx["median"] else None
            line += f" {cell(m, unit)} | {cell(lx, unit)} | {ratio_cell(r)} |"
        out.append(line)
    return out


def growth(points, name):
    """Cost at the last point over cost at the first, per kernel."""
    parts = []
    for k in KERNELS:
        a, b = points[0][k][name], points[-1][k][name]
        if "median" in a and "median" in b and a["median"]:
            parts.append(f"{k.capitalize()} x{b['median'] / a['median']:.2f}")
        else:
            parts.append(f"{k.capitalize()} n/a")
    return ", ".join(parts)


# The figures whose every run the report lists, boot by boot.
RUN_FIGURES = ["fork_exit_wait_16m_ns", "fork_write_wait_16m_ns",
               "fork_read_wait_16m_ns",
               "cow_break_ns", "cow_reuse_ns", "thp_fill_64m_ns",
               "thp_cow_break_ns", "clock_gettime_ns", "gettimeofday_ns"]


def runs_table(records):
    """Markdown rows: figure, kernel, boot, its runs and their spread."""
    out = []
    for name in RUN_FIGURES:
        for k in KERNELS:
            for i, r in enumerate(b for b in records if b["kernel"] == k):
                v = r.get("runs", {}).get(name)
                if not v:
                    continue
                med = median(sorted(v))
                spread = (max(v) - min(v)) / med if med else 0.0
                out.append(f"| {name} | {k} | {i + 1} | "
                           f"{', '.join(digits3(x) for x in v)} | "
                           f"{spread * 100:.0f}% |")
    if out:
        out = ["| figure | kernel | boot | runs (ns) | spread |",
               "|---|---|---|---|---|", *out]
    return out


def swap_text(records):
    """The disk behind the swap times: per kernel, the major faults
    (getrusage) and, for the working set, pages read and written
    (/proc/vmstat pswpin/pswpout); medians over boots."""
    def med(k, name):
        s = summarize(records, k, "swap", SWAP_MEM, name)
        return f"{s['median']:.0f}" if "median" in s else "n/a"
    out = ["## Swap: what went to the disk (x86-64, -m 128M, 512 MiB swap)",
           "", "Both kernels boot with the same image (Debian's mkswap, "
           "made afresh before each boot) as a virtio disk; vmbench turns "
           "it on with swapon(2) (on Linux after loading Debian's virtio "
           "modules). A page-in round first pushes the region out the same "
           "way on both: MADV_PAGEOUT, then a region somewhat larger than "
           "the free memory is written and unmapped (Linux keeps pages "
           "it has just written in its swap cache until reclaim passes "
           "again). Major faults are the process's ru_majflt over the "
           "timed part; fewer disk reads is the honest win.", "",
           "| figure | Mercator major faults | Linux major faults | "
           "Mercator resident before | Linux resident before |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for name, what in SWAP_COUNTS:
        out.append(f"| {what} | {med('mercator', name + '.majflt')} | "
                   f"{med('linux', name + '.majflt')} | "
                   f"{med('mercator', name + '.resident_before')} | "
                   f"{med('linux', name + '.resident_before')} |")
    out += ["", "Working set, pages read from / written to swap "
            f"(pswpin / pswpout): Mercator "
            f"{med('mercator', 'swap.ws_256m_ns.pswpin')} / "
            f"{med('mercator', 'swap.ws_256m_ns.pswpout')}, Linux "
            f"{med('linux', 'swap.ws_256m_ns.pswpin')} / "
            f"{med('linux', 'swap.ws_256m_ns.pswpout')}. \"Resident "
            "before\": pages of the 32 MiB region (8192) mincore called "
            "resident when the timed read began (the swap cache counts as "
            "resident on both).", ""]
    sizes = f" ({med('linux', 'swap.rmap_anon_vma_size')} and " \
        f"{med('linux', 'swap.rmap_anon_vma_chain_size')} bytes here)"
    out += ["Reverse-map memory: Mercator's own records (fork families, "
            "16 B each, and chain records, 32 B each, counted by the "
            "kernel: /proc/meminfo ReverseMap) that the region added, over "
            "its 8192 pages. Linux's: two anon_vma and three "
            "anon_vma_chain for one area forked once (mremap clones the "
            "links and frees the old ones: the same count), with the "
            f"sizes its BTF gives{sizes}, slab rounding not counted. Both also "
            "keep a per-page record inside the page descriptor, counted "
            "in the descriptor row (Linux: mapping, index and _mapcount in "
            "struct page; Mercator: private, spare and count16 in its 32 "
            "bytes).", ""]
    return "\n".join(out)


def smp_text(env, srows, scurve):
    """The several-CPU section: the figures at the largest -smp, and the
    fault rate from 1 CPU up."""
    n = srows[0]["smp"] if srows else SMP_CPUS[-1]
    xs = ", ".join(str(p["x"]) for p in scurve)
    out = [f"## Several CPUs (x86-64, -smp {n})", "",
           f"Both kernels booted with `-smp N` (N = {xs}), -m 1G, the rest "
           "as above. **The host has "
           f"{env['host_cpus']} cores** (shared with the machine's other "
           "work): from 3 vCPUs on, QEMU's vCPU threads take turns on them, "
           "so a spinning thread slows the one being measured and an IPI "
           "may wait for its target's host thread to be scheduled. These "
           "figures compare the two kernels on the same overcommitted "
           "host; they are not what 4 real CPUs would show.", "",
           *main_table(srows), ""]
    out += ["### Page faults per second from 1 CPU up (the fault storm: "
            "one thread per CPU)", "",
            "| CPUs (seen) | Mercator faults/s | Linux faults/s | "
            "Mercator/Linux | futex hand-over on 2 CPUs: Mercator | Linux |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in scurve:
        rate, seen, split = {}, [], {}
        for k in KERNELS:
            f = p[k]["smp.fault_storm_ns"]
            rate[k] = 1e9 / f["median"] if "median" in f else None
            c = p[k]["smp.cpus"]
            seen.append(f"{c['median']:.0f}" if "median" in c else "?")
            sp = p[k]["smp.futex_split_pct"]
            split[k] = f"{fmt(p[k]['smp.futex_xcpu_ns']['median'], 'ns')} " \
                f"({sp['median']:.0f}% apart)" if "median" in sp and \
                "median" in p[k]["smp.futex_xcpu_ns"] else "n/a"
        cells = [f"{rate[k]:,.0f}" if rate[k] else "n/a" for k in KERNELS]
        ratio = rate["mercator"] / rate["linux"] \
            if rate["mercator"] and rate["linux"] else None
        out.append(f"| {p['x']} ({' / '.join(seen)}) | {cells[0]} | "
                   f"{cells[1]} | {ratio_cell(ratio)} | {split['mercator']} "
                   f"| {split['linux']} |")
    out += ["", "Faults per second: 1e9 over the storm's wall time per page "
            "(median over boots), timed from a start line the workers spin "
            "at in user mode, so that every worker is on a CPU when the "
            "clock starts (since session 24; before, the clock also ran "
            "while the kernel woke halted CPUs for them, 2-4 ms in about "
            "half the rounds at -smp 2 on either kernel). Above 1 in the "
            "ratio column: Mercator "
            "faults faster. \"apart\": of 64 hand-overs sampled with "
            "getcpu, how many found the two threads on different CPUs "
            "(both kernels pin them; Mercator's results before session 13 "
            "were taken when it ignored sched_setaffinity).", "", "![smp](scale-smp.png)", ""]
    return "\n".join(out)


def markdown(env, rows, areas, ram, records=(), srows=None,
             scurve=None):
    title = "" if ARCH == "x86_64" else f" ({ARCH})"
    lines = [f"# Mercator vs Linux{title}: `make bench`, {env['date']}", "",
             setup_text(env), "", "## Per-operation figures", "",
             *main_table(rows), "",
             "Median over boots, [boot-to-boot spread: (max - min) / median]. "
             "Ratio < 1: Mercator is faster (or smaller). Differences under "
             "15% are marked (noise). Under TCG fork + exit + wait is noisy "
             "on Linux (its spread can pass 30%); fork + child writes + wait "
             "is measured alongside as the steadier figure. The boot and "
             "memory rows pool every boot at that -m, whatever it then "
             f"measured (at {main_mem()}: the main and areas boots, and the ram "
             "boot there). Times are the "
             "guest's CLOCK_MONOTONIC, which follows the host's clock: load "
             "on the host slows both kernels alike, boot by boot.", "",
             "![ratios](bench.png)", ""]
    if ARCH == "riscv64":
        lines += [satp_text(rows), ""]
    if areas:
        lines += [f"## Scale: areas in the process (-m {main_mem()})", "",
                  "The benchmark cuts one mapping of 60 000 pages into about "
                  "N areas (every other page read-only); `areas` is the "
                  "count /proc/self/maps showed on Mercator / Linux.", "",
                  *curve_table(area_rows(areas), [
                      ("page fault, per page", "fault_ns", "ns"),
                      ("mmap+munmap", "mmap_munmap_ns", "ns")], "areas"), "",
                  f"Growth from 1 to 60 000 areas: page fault "
                  f"{growth(areas, 'fault_ns')}; mmap+munmap "
                  f"{growth(areas, 'mmap_munmap_ns')}.", "",
                  "![areas](scale-areas.png)", ""]
    if ram:
        lines += ["## Scale: RAM", "",
                  *curve_table(ram, [
                      ("page fault, per page", "ram.fault_ns", "ns"),
                      ("mmap+munmap", "ram.mmap_munmap_ns", "ns"),
                      ("boot", "boot_ns", "ns"),
                      ("kernel memory in use", "kernel_used_kb", "kb")],
                      "-m"), "",
                  f"Growth from {RAM_SIZES[0]} to {RAM_SIZES[-1]} (first and "
                  f"last sizes each kernel booted at): page fault "
                  f"{growth(booted(ram, 'ram.fault_ns'), 'ram.fault_ns')}; "
                  f"mmap+munmap "
                  f"{growth(booted(ram, 'ram.mmap_munmap_ns'), 'ram.mmap_munmap_ns')}.",
                  "", "![ram](scale-ram.png)", ""]
    runs = runs_table(records)
    if runs:
        lines += ["## Within one boot: every run", "",
                  "Each round's value in the order measured (a round of fork "
                  "figures is 40 forks, 4 for fork_write), and the spread "
                  "(max - min) / median within that boot.", "", *runs, ""]
    if srows:
        lines += [smp_text(env, srows, scurve or []), ""]
    if any(r["mode"] == "swap" for r in records):
        lines += [swap_text(records), ""]
    notes = na_notes(rows + (srows or []), [("areas", areas), ("RAM", ram),
                                            ("-smp", scurve or [])])
    if notes:
        lines += ["## Not available (n/a), and why", "", *notes, ""]
    return "\n".join(lines)


def area_rows(points):
    """Area points labelled with the counts each kernel showed."""
    out = []
    for p in points:
        counts = [p[k]["count"] for k in KERNELS]
        shown = " / ".join(f"{c['median']:.0f}" if "median" in c else "?"
                           for c in counts)
        out.append({**p, "x": f"{p['x']} ({shown})"})
    return out


def booted(points, name):
    """Points where both kernels have the figure (for growth figures)."""
    ok = [p for p in points
          if all("median" in p[k][name] for k in KERNELS)]
    return ok or points


def setup_text(env):
    return "\n".join([
        f"Same QEMU for both: `{env['qemu']}`, `-accel tcg -cpu {CPU} -smp 1`, "
        f"the same `-m`, boots one after another, "
        f"{env['boots']} boots of each kernel per configuration, "
        f"{env.get('duration_s', 0) / 60:.1f} minutes in all. "
        f"Machine: {env['host_cpus']} CPUs, load average "
        f"{env['load_before']:.2f} before and {env['load_after']:.2f} after.",
        f"Mercator: `{env['mercator']}`, command line `{APPEND['mercator']}`.",
        f"Linux: Debian's `{env['linux_package']}`, command line "
        f"`{APPEND['linux']}`; its defaults kept: {env['linux_config']}. "
        "The benchmark madvises its big mappings MADV_NOHUGEPAGE, so page "
        "faults are 4 KiB faults on both, except the huge-page figures "
        "(thp_*), which madvise MADV_HUGEPAGE: huge pages on both kernels "
        "(Mercator's default policy is madvise, Linux's here always). " + (
            "Its bzImage asks for memory up to "
            f"{env.get('linux_needs_mib', 0):.0f} MiB (load address + "
            "init_size) to decompress itself, so it cannot boot with less."
            if ARCH == "x86_64" else
            "Both boot through the same OpenSBI (-bios default) on the virt "
            "board; Linux in Sv39 (no4lvl), as Mercator."
            if ARCH == "riscv64" else
            "Both are 32-bit kernels with Linux's 3G/1G split on "
            "qemu-system-i386 (Mercator 2-level tables, Linux PAE): at "
            f"-m {main_mem()} the user pages come from HIGHMEM on both, "
            "zeroed and copied through kmap_atomic."),
        f"Benchmark: one static {ARCHES[ARCH]['libc']} binary "
        "(`user/bench/vmbench.c`) as /init "
        "on both kernels. Boot time is CLOCK_MONOTONIC read by its first "
        "instruction; each kernel counts from its own start (Mercator: its "
        "first instruction; Linux: its timekeeping, after decompression). "
        "Page descriptors: Mercator's PageDescriptors (/proc/meminfo) over "
        "MemTotal pages; Linux's sizeof(struct page) read from its BTF."])


def satp_text(rows):
    """What the trampoline's satp switch costs a system call (riscv64)."""
    by = {r["id"]: r for r in rows}

    def med(rid, k="mercator"):
        s = by.get(rid, {}).get(k, {})
        return s.get("median")
    out = ["## The trampoline's satp switch (riscv64)", "",
           "Every trap from user mode goes through the trampoline, which "
           "writes satp twice (the process's kernel table on the way in, "
           "its user table on the way out); Linux keeps the kernel in every "
           "process's table and writes satp only when it changes process. "
           "The kernel times the switch itself at boot (`satpbench`, "
           "rdtime over many rounds; `kernel/arch/riscv64/satp_bench.c`)."]
    g, lg = med("getppid"), med("getppid", "linux")
    tp, pair, bare, sf, rf = (med(r) for r in ("trampoline_pair", "satp_pair",
                                               "satp_pair_bare", "sfence",
                                               "refill"))
    if g and lg:
        out.append(f"A null system call costs {fmt(g, 'ns')} on Mercator and "
                   f"{fmt(lg, 'ns')} on Linux; the difference is "
                   f"{fmt(abs(g - lg), 'ns')}.")
    if tp is not None and g:
        out.append(f"In a bare user context's system call the trampoline's "
                   f"switch (its two satp writes and the TLB refills they "
                   f"cause) costs {fmt(tp, 'ns')}, {tp / g * 100:.0f}% of "
                   f"Mercator's getppid; a real system call touches more "
                   f"pages after each write (the process, the system-call "
                   f"table, the C library's wrapper), and each is walked "
                   f"again, so the switch's share there is larger.")
    if pair is not None and bare is not None:
        out.append(f"Two satp writes cost {fmt(bare, 'ns')} bare and "
                   f"{fmt(pair, 'ns')} with the fences around each; one "
                   f"sfence.vma costs {fmt(sf, 'ns') if sf else 'n/a'}, and "
                   f"touching 16 pages again after one costs "
                   f"{fmt(rf, 'ns') if rf else 'n/a'} more than with a warm "
                   "TLB. Under QEMU's TCG a satp write that changes the "
                   "table empties QEMU's whole software TLB, as every "
                   "sfence.vma does"
                   + (f" (two bare writes cost {bare / sf:.1f} fences)"
                      if sf else "") +
                   ", and every page touched after it is walked again. On "
                   "hardware a satp write that keeps the ASID invalidates "
                   "nothing: what is left of the switch there is the write "
                   "itself, since the trampoline no longer fences (xv6's "
                   "four sfence.vma per trap would empty the TLB twice).")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Charts


def charts(out, rows, areas, ram, scurve=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ratio_chart(plt, os.path.join(out, "bench.png"), rows)
    if scurve:
        smp_chart(plt, os.path.join(out, "scale-smp.png"), scurve)
    if areas:
        scale_chart(plt, os.path.join(out, "scale-areas.png"), areas,
                    [p["x"] for p in areas], 10,
                    [("page fault, per page", "fault_ns", 1e3, "µs"),
                     ("mmap + munmap of one page", "mmap_munmap_ns", 1e3,
                      "µs")],
                    "areas cut into the benchmark's region (log scale)",
                    "Cost as the process's areas grow (-m 1G); "
                    "bars: min..max over boots")
    if ram:
        scale_chart(plt, os.path.join(out, "scale-ram.png"), ram,
                    [mem_kib(p["mem"]) / 1024 for p in ram], 2,
                    [("page fault, per page", "ram.fault_ns", 1e3, "µs"),
                     ("mmap + munmap of one page", "ram.mmap_munmap_ns", 1e3,
                      "µs"),
                     ("boot to /init (CLOCK_MONOTONIC)", "boot_ns", 1e6, "ms"),
                     ("kernel memory in use at /init", "kernel_used_kb",
                      1024, "MiB")],
                    "guest RAM, -m (log scale)",
                    "Cost as RAM grows; bars: min..max over boots")


def smp_chart(plt, path, points):
    """Faults per second of the fault storm against CPUs, both kernels."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, color in (("mercator", "tab:blue"), ("linux", "tab:orange")):
        pts = [(p["x"], p[k]["smp.fault_storm_ns"]) for p in points
               if "median" in p[k]["smp.fault_storm_ns"]]
        if not pts:
            continue
        med = [1e9 / s["median"] for _, s in pts]
        err = [[m - 1e9 / s["max"] for m, (_, s) in zip(med, pts)],
               [1e9 / s["min"] - m for m, (_, s) in zip(med, pts)]]
        ax.errorbar([x for x, _ in pts], med, yerr=err, marker="o",
                    capsize=3, color=color, label=k.capitalize())
    ax.set_xticks([p["x"] for p in points])
    ax.set_xlabel("vCPUs (-smp); the host has 2 cores")
    ax.set_ylabel("page faults per second")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Fault storm, one thread per CPU (TCG on a 2-core host); "
                 "bars: min..max", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ratio_chart(plt, path, rows):
    shown = [r for r in rows if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(11, 0.42 * max(len(shown), 1) + 1.8))
    y = list(range(len(shown)))[::-1]
    ratios = [r["ratio"] for r in shown]
    lo = [max(0, r["ratio"] - r["mercator"]["min"] / r["linux"]["max"])
          for r in shown]
    hi = [max(0, r["mercator"]["max"] / r["linux"]["min"] - r["ratio"])
          for r in shown]
    colors = ["tab:green" if q < 0.85 else "tab:red" if q > 1.15 else "tab:gray"
              for q in ratios]
    ax.barh(y, ratios, xerr=[lo, hi], color=colors, capsize=3)
    for yi, q, h in zip(y, ratios, hi):
        ax.text((q + h) * 1.08, yi, f"{q:.3g}", va="center", fontsize=8)
    ax.axvline(1, color="black", linewidth=1)
    ax.axvspan(0.85, 1.15, color="gray", alpha=0.15)
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels([short(r["what"]) for r in shown], fontsize=8)
    ax.set_xlabel("Mercator / Linux (log scale). Below 1: Mercator faster or "
                  "smaller. Grey band: within 15%, noise.")
    ax.set_title("Mercator / Linux in the same QEMU (TCG): medians over "
                 "boots, bars min..max", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def short(text, n=75):
    return text if len(text) <= n else text[:n - 1] + "…"


def scale_chart(plt, path, points, xs, base, panels, xlabel, title):
    """One panel per figure; x on a log scale (base 10 or 2), the points'
    own labels as ticks."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4))
    for ax, (label, name, scale, unit) in zip(axes, panels):
        for k, color in (("mercator", "tab:blue"), ("linux", "tab:orange")):
            pts = [(x, p[k][name]) for x, p in zip(xs, points)
                   if "median" in p[k][name]]
            if not pts:
                continue
            med = [s["median"] / scale for _, s in pts]
            err = [[(s["median"] - s["min"]) / scale for _, s in pts],
                   [(s["max"] - s["median"]) / scale for _, s in pts]]
            ax.errorbar([x for x, _ in pts], med, yerr=err, marker="o",
                        capsize=3, color=color, label=k.capitalize())
        ax.set_xscale("log", base=base)
        ax.set_xticks(xs)
        ax.set_xticklabels([str(p["x"]) for p in points], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_readme(rows, env):
    begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
    with open(README) as f:
        text = f.read()
    if begin not in text or end not in text:
        print("bench: README.md has no bench-table markers; left alone")
        return
    block = "\n".join([begin, "",
                       f"Measured {env['date']} ({env['boots']} boots per "
                       f"kernel; Linux: `{env['linux_package']}`; "
                       "[details and curves](results/bench.md)):", "",
                       *main_table(rows), "", end])
    head, rest = text.split(begin, 1)
    with open(README, "w") as f:
        f.write(head + block + rest.split(end, 1)[1])


def report(args, env, records):
    """The summary, tables and charts of one run's boots."""
    only = set(env["only"])
    rows = summary_rows(records)
    areas = area_curve(records) if "areas" in only else []
    ram = ram_curve(records) if "ram" in only else []
    smp = any(r["mode"] == "smp" for r in records)
    srows = smp_rows(records) if smp else []
    scurve = smp_curve(records) if smp else []
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"environment": env, "table": rows, "areas": areas,
                   "ram": ram, "smp_table": srows, "smp": scurve,
                   "boots": records}, f, indent=1)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(markdown(env, rows, areas, ram, records, srows, scurve))
    charts(args.out, rows, areas, ram, scurve)
    if not args.no_readme and ARCH == "x86_64":
        update_readme(rows, env)
    print("\n".join(main_table(rows)))
    if srows:
        print("\n".join(main_table(srows)))
    print(f"bench: {len(records)} boots in {env['duration_s']:.0f} s; "
          f"results in {os.path.relpath(args.out, ROOT)}/")


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    redraw(sys.argv[1])


def redraw(path, out=None):
    """Tables and charts of an earlier run's bench.json, without booting."""
    ensure_matplotlib()
    with open(path) as f:
        old = json.load(f)

    class Args:
        pass
    args = Args()
    args.out = out or os.path.dirname(os.path.abspath(path))
    args.no_readme = True               # the README shows runs, not redraws
    use_arch(old["environment"].get("arch", "x86_64"))
    report(args, old["environment"], old["boots"])


if __name__ == "__main__":
    main()
