#!/usr/bin/env python3
"""Measure Mercator against a stock Linux in the same QEMU: `make bench`.

  bench.py [--boots 5] [--only main,areas,ram] [--out DIR] [--no-readme]
           [--timeout 180] [--mercator build/mercator.elf]
  bench.py --redraw DIR/bench.json      tables and charts again, no boots

One static benchmark (build/bench/vmbench, from user/bench/vmbench.c)
boots as /init on Mercator (build/mercator.elf) and on Debian's stock
Linux (fetched by tools/linux-kernel.sh into build/linux/), with the same
QEMU settings (tools/qemu.py's: TCG, -cpu qemu64, one vCPU, the same -m).
Every configuration boots --boots times on each kernel, one boot after
another (never in parallel), alternating the kernels so that a change in
the machine's load hits both. Per figure: the median over boots and the
boot-to-boot spread, (max - min) / median.

Configurations: "main" (every per-operation figure, -m 1G), "areas" (page
fault and mmap+munmap as the process's areas grow to 60 000, -m 1G) and
"ram" (the same two figures, boot time and kernel memory at -m 64M .. 16G).

Writes DIR/bench.json (every boot's figures and the summary), DIR/bench.md
(the tables), DIR/*.png (charts, with Debian's python3-matplotlib) and,
for a full run (every configuration, at least 3 boots), the table between
the bench-table markers of README.md; DIR is results/ for a full run, else
build/bench-results/. Nothing is cached but the Linux package: every
number comes from this run.
"""
import argparse
import datetime
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mkinitramfs  # noqa: E402
import qemu  # noqa: E402

MERCATOR = os.path.join(ROOT, "build", "mercator.elf")
VMBENCH = os.path.join(ROOT, "build", "bench", "vmbench")
TRUE = os.path.join(ROOT, "build", "bench", "true")
README = os.path.join(ROOT, "README.md")

# The kernels' command lines. Linux: serial console, quiet, and a panic
# ends the boot at once; otherwise Debian's defaults (THP "always",
# init_on_alloc=1), the bench madvises its mappings out of THP itself.
APPEND = {"mercator": "loglevel=3",
          "linux": "console=ttyS0 quiet panic=-1"}
KERNELS = ["mercator", "linux"]
CPU = "qemu64"
MAIN_MEM = "1G"
RAM_SIZES = ["64M", "128M", "256M", "1G", "4G", "16G"]
AREA_STEPS = [1, 100, 10000, 60000]
LINE = re.compile(r"@vmbench (\S+)(?: (.*?))?\s*$")

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
# Booting


def initramfs(mode):
    """The same archive for both kernels: /init, /bin/true, /bench.conf and
    empty /proc and /sys for Linux to mount on."""
    def data(path):
        with open(path, "rb") as f:
            return f.read()
    exe = stat.S_IFREG | 0o755
    files = [("/init", data(VMBENCH), exe), ("/bin/true", data(TRUE), exe),
             ("/bench.conf", f"{mode}\n".encode(), stat.S_IFREG | 0o644)]
    archive = mkinitramfs.build(files)
    trailer = mkinitramfs.entry("TRAILER!!!", 0, b"", 0)
    assert archive.endswith(trailer)
    dirs = b"".join(mkinitramfs.entry(d, stat.S_IFDIR | 0o555, b"", 1000 + i)
                    for i, d in enumerate(["proc", "sys"]))
    return archive[:-len(trailer)] + dirs + trailer


def qemu_cmd(kernel, image, mem, cpio):
    return qemu.build_command("x86_64", image, mem, CPU, append=APPEND[kernel],
                              initrd=cpio)


def parse_value(text):
    """'123.4' -> 123.4; 'n/a why' -> {'na': why}; '32.29 meminfo' -> 32.29."""
    word, _, rest = text.partition(" ")
    if word == "n/a":
        return {"na": rest or "not available"}
    try:
        return float(word)
    except ValueError:
        return {"na": f"unreadable: {text}"}


def boot(kernel, image, mode, mem, cpio, timeout):
    """One boot; returns a record with every @vmbench figure it printed."""
    cmd = qemu_cmd(kernel, image, mem, cpio)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    fired = threading.Event()
    watchdog = threading.Timer(timeout, lambda: (fired.set(), proc.kill()))
    watchdog.start()
    figures, tail, ended, first_line = {}, [], False, None
    for raw in proc.stdout:
        line = raw.decode(errors="replace").rstrip("\r\n")
        m = LINE.search(line)
        if not m:
            tail = (tail + [line])[-20:] if line.strip() else tail
            continue
        if first_line is None:
            first_line = time.monotonic() - t0
        if m.group(1) == "end":
            ended = True
        elif m.group(1) == "mode":
            pass
        else:
            figures[m.group(1)] = parse_value(m.group(2) or "")
    proc.wait()
    watchdog.cancel()
    timed_out = fired.is_set()
    wall = time.monotonic() - t0
    if first_line is not None:
        figures["host_first_line_ns"] = first_line * 1e9
    if isinstance(figures.get("mem_total_kb"), float):
        figures["outside_memtotal_kb"] = \
            mem_kib(mem) - figures["mem_total_kb"]
    return {"kernel": kernel, "mode": mode, "mem": mem, "complete": ended,
            "qemu_rc": proc.returncode, "timed_out": timed_out,
            "wall_s": round(wall, 3),
            "figures": figures,
            "console_tail": [] if ended else tail}


def mem_kib(mem):
    units = {"M": 1024, "G": 1024 * 1024}
    return float(mem[:-1]) * units[mem[-1]]


def plan(only):
    """The configurations to boot, as (mode, mem), in boot order."""
    runs = []
    if "main" in only:
        runs.append(("main", MAIN_MEM))
    if "areas" in only:
        runs.append(("areas", MAIN_MEM))
    if "ram" in only:
        runs += [("ram", m) for m in RAM_SIZES]
    return runs


def run_all(images, only, boots, timeout):
    """Every configuration, `boots` times on each kernel, one at a time.
    A configuration that timed out twice on a kernel is not booted again."""
    runs, records, hung = plan(only), [], {}
    with tempfile.TemporaryDirectory() as tmp:
        cpios = {}
        for mode, _ in runs:
            if mode not in cpios:
                cpios[mode] = os.path.join(tmp, f"{mode}.cpio")
                with open(cpios[mode], "wb") as f:
                    f.write(initramfs(mode))
        total = len(runs) * boots * len(KERNELS)
        for rep in range(boots):
            for mode, mem in runs:
                for kernel in KERNELS:
                    key = (kernel, mode, mem)
                    if hung.get(key, 0) >= 2:
                        r = {"kernel": kernel, "mode": mode, "mem": mem,
                             "complete": False, "skipped": True,
                             "figures": {}, "console_tail": [], "wall_s": 0}
                    else:
                        r = boot(kernel, images[kernel], mode, mem,
                                 cpios[mode], timeout)
                        hung[key] = hung.get(key, 0) + r["timed_out"]
                    r["boot"] = rep + 1
                    records.append(r)
                    state = "" if r["complete"] else \
                        "  (skipped)" if r.get("skipped") else \
                        "  (timed out)" if r["timed_out"] else "  (incomplete)"
                    print(f"bench: [{len(records)}/{total}] {kernel} {mode} "
                          f"-m {mem}: {r['wall_s']:.1f} s{state}", flush=True)
    return records


# ---------------------------------------------------------------------------
# Summaries: medians over boots, boot-to-boot spread


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def summarize(records, kernel, mode, mem, name):
    """One figure over the boots of (kernel, mode, mem); mode None: every
    boot at that -m (boot figures come before the mode is read)."""
    boots = [r for r in records if r["kernel"] == kernel and
             r["mem"] == mem and mode in (None, r["mode"])]
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
    ("cow", "copy-on-write break after fork, per page", "main", MAIN_MEM,
     "cow_break_ns", "ns"),
    ("getppid", "null system call (getppid)", "main", MAIN_MEM,
     "getppid_ns", "ns"),
    ("exec", "fork + execve + wait of a small static binary", "main",
     MAIN_MEM, "fork_exec_wait_ns", "ns"),
    ("munmap", "munmap of 64 MiB populated, per page", "main", MAIN_MEM,
     "munmap_populated_ns", "ns"),
    ("signal", "signal round trip: kill(getpid(), SIGUSR1), the handler "
     "runs and returns (rt_sigreturn)", "main", MAIN_MEM,
     "signal_roundtrip_ns", "ns"),
    ("user_fault", "user-handled fault: write to a PROT_NONE page, the "
     "SIGSEGV handler mprotects it read-write, the write runs again "
     "(mprotect back to PROT_NONE included)", "main", MAIN_MEM,
     "user_fault_ns", "ns"),
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


def summary_rows(records):
    rows = []
    for rid, what, mode, mem, name, unit in ROWS:
        row = {"id": rid, "what": what, "mode": mode, "mem": mem,
               "figure": name, "unit": unit}
        for k in KERNELS:
            row[k] = summarize(records, k, mode, mem, name)
        m, lx = row["mercator"], row["linux"]
        row["ratio"] = m["median"] / lx["median"] \
            if "median" in m and "median" in lx and lx["median"] else None
        rows.append(row)
    return rows


def curve(records, mode, mems, names):
    """Scale curve points: for each x, each kernel, each figure."""
    points = []
    for x, mem, tmpl in mems:
        p = {"x": x, "mem": mem}
        for k in KERNELS:
            p[k] = {n: summarize(records, k, mode, mem, tmpl.format(n))
                    for n in names}
        points.append(p)
    return points


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
        return f"{digits3(value)} B"
    return f"{value:.0f}"


def cell(s, unit):
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
            if "na" in r[k]:
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


def markdown(env, rows, areas, ram):
    lines = [f"# Mercator vs Linux: `make bench`, {env['date']}", "",
             setup_text(env), "", "## Per-operation figures", "",
             *main_table(rows), "",
             "Median over boots, [boot-to-boot spread: (max - min) / median]. "
             "Ratio < 1: Mercator is faster (or smaller). Differences under "
             "15% are marked (noise). Under TCG fork + exit + wait is noisy "
             "on Linux (its spread can pass 30%); fork + child writes + wait "
             "is measured alongside as the steadier figure. The boot and "
             "memory rows pool every boot at that -m, whatever it then "
             "measured (at 1G: the main, areas and ram boots). Times are the "
             "guest's CLOCK_MONOTONIC, which follows the host's clock: load "
             "on the host slows both kernels alike, boot by boot.", "",
             "![ratios](bench.png)", ""]
    if areas:
        lines += ["## Scale: areas in the process (-m 1G)", "",
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
    notes = na_notes(rows, [("areas", areas), ("RAM", ram)])
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
        "faults are 4 KiB faults on both (Mercator has no huge pages; the "
        "call changes nothing there). Its bzImage asks for memory up to "
        f"{env.get('linux_needs_mib', 0):.0f} MiB (load address + "
        "init_size) to decompress itself, so it cannot boot with less.",
        "Benchmark: one static musl binary (`user/bench/vmbench.c`) as /init "
        "on both kernels. Boot time is CLOCK_MONOTONIC read by its first "
        "instruction; each kernel counts from its own start (Mercator: its "
        "first instruction; Linux: its timekeeping, after decompression). "
        "Page descriptors: Mercator's PageDescriptors (/proc/meminfo) over "
        "MemTotal pages; Linux's sizeof(struct page) read from its BTF."])


# ---------------------------------------------------------------------------
# Charts


def charts(out, rows, areas, ram):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ratio_chart(plt, os.path.join(out, "bench.png"), rows)
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


# ---------------------------------------------------------------------------
# The environment, README


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              cwd=ROOT).stdout.strip()
    except OSError:
        return ""


def linux_config(image):
    cfg = image.replace("vmlinuz-", "config-")
    facts = []
    try:
        with open(cfg) as f:
            text = f.read()
    except OSError:
        return "config not found"
    for opt, say in (("CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS=y", "THP always"),
                     ("CONFIG_TRANSPARENT_HUGEPAGE_MADVISE=y", "THP madvise"),
                     ("CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y", "init_on_alloc=1"),
                     ("CONFIG_HZ=", "HZ=")):
        m = re.search(f"^{re.escape(opt)}(\\d*)$", text, re.M)
        if m:
            facts.append(say + m.group(1))
    return ", ".join(facts)


def bzimage_needs_mib(image):
    """Where a bzImage asks to be loaded plus the memory it needs there
    (boot protocol: pref_address at 0x258, init_size at 0x260), in MiB."""
    with open(image, "rb") as f:
        head = f.read(0x268)
    pref = int.from_bytes(head[0x258:0x260], "little")
    init = int.from_bytes(head[0x260:0x264], "little")
    return (pref + init) / 2**20


def fetch_linux():
    p = subprocess.run(["bash", os.path.join(ROOT, "tools/linux-kernel.sh")],
                       stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("bench: could not fetch Debian's kernel (tools/linux-kernel.sh)")
    image = p.stdout.strip().splitlines()[-1]
    with open(os.path.join(os.path.dirname(os.path.dirname(image)),
                           "package")) as f:
        package = f.read().strip()
    return image, package


def environment(args, linux_image, linux_package):
    commit = command_output(["git", "describe", "--always", "--dirty"])
    mercator = os.path.relpath(os.path.abspath(args.mercator), ROOT)
    version = command_output(["qemu-system-x86_64", "--version"])
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "qemu": version.splitlines()[0] if version else "?",
            "mercator": f"{mercator}, tree at {commit or '?'}",
            "linux_package": linux_package,
            "linux_image": os.path.relpath(linux_image, ROOT),
            "linux_config": linux_config(linux_image),
            "linux_needs_mib": round(bzimage_needs_mib(linux_image), 1),
            "append": APPEND, "cpu": CPU, "boots": args.boots,
            "host_cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}


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


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--boots", type=int, default=5)
    ap.add_argument("--only", default="main,areas,ram")
    ap.add_argument("--out", help="results/ for a full run (every "
                    "configuration, 3 boots or more), else build/bench-results/")
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument("--timeout", type=float, default=180,
                    help="seconds before one boot is stopped")
    ap.add_argument("--mercator", default=MERCATOR,
                    help="the Mercator kernel to boot")
    ap.add_argument("--redraw", metavar="JSON",
                    help="no boots: redraw the tables and charts of an "
                         "earlier run's bench.json")
    args = ap.parse_args()
    ensure_matplotlib()
    if args.redraw:
        with open(args.redraw) as f:
            old = json.load(f)
        args.out = args.out or os.path.dirname(os.path.abspath(args.redraw))
        args.no_readme = True           # the README shows runs, not redraws
        return report(args, old["environment"], old["boots"])
    only = set(args.only.split(","))
    full = only >= {"main", "areas", "ram"} and args.boots >= 3
    if not full:
        print("bench: a partial run (some configurations, or fewer than 3 "
              "boots): not the latest table; README.md is left alone")
        args.no_readme = True
    args.out = args.out or os.path.join(
        ROOT, "results" if full else "build/bench-results")
    for path in (args.mercator, VMBENCH, TRUE):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing (make bench builds it)")
    linux_image, linux_package = fetch_linux()
    env = environment(args, linux_image, linux_package)
    started = time.monotonic()
    records = run_all({"mercator": args.mercator, "linux": linux_image}, only,
                      args.boots, args.timeout)
    env["load_after"] = os.getloadavg()[0]
    env["duration_s"] = round(time.monotonic() - started, 1)
    env["only"] = sorted(only)
    report(args, env, records)


def report(args, env, records):
    """The summary, tables and charts of one run's boots."""
    only = set(env["only"])
    rows = summary_rows(records)
    areas = area_curve(records) if "areas" in only else []
    ram = ram_curve(records) if "ram" in only else []
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"environment": env, "table": rows, "areas": areas,
                   "ram": ram, "boots": records}, f, indent=1)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(markdown(env, rows, areas, ram))
    charts(args.out, rows, areas, ram)
    if not args.no_readme:
        update_readme(rows, env)
    print("\n".join(main_table(rows)))
    print(f"bench: {len(records)} boots in {env['duration_s']:.0f} s; "
          f"results in {os.path.relpath(args.out, ROOT)}/")


if __name__ == "__main__":
    main()
