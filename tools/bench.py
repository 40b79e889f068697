#!/usr/bin/env python3
"""Measure Mercator against a stock Linux in the same QEMU: `make bench`.

  bench.py [--arch x86_64|riscv64|i386] [--boots 5]
           [--only main,areas,ram,smp,swap]
           [--out DIR] [--no-readme] [--timeout 180] [--mercator KERNEL]
  bench.py --redraw DIR/bench.json      tables and charts again, no boots

One static benchmark (build/bench/vmbench, from user/bench/vmbench.c)
boots as /init, with this machine's Debian /usr/bin/true and python3
(dynamically linked, with their libraries and python's standard library:
tools/hostlibs.py) in the "main" archive, on Mercator (build/mercator.elf) and on Debian's stock
Linux (fetched by tools/linux-kernel.sh into build/linux/), with the same
QEMU settings (tools/qemu.py's: TCG, -cpu qemu64, one vCPU but in
"smp", the same -m).
--arch riscv64: the same program built for riscv64 with glibc
(build/riscv64/bench/), Mercator's riscv64 kernel and Debian 13's riscv64
Linux (the referee of the riscv64 tier, in Sv39), both through OpenSBI on
the virt board, -cpu rv64; Mercator also times its trampoline's satp
switch at boot (satpbench) and the report explains what it costs a
system call.
--arch i386: the program built with gcc -m32 -static (glibc; build/i386/bench/),
Mercator's 2-level i386 kernel and Debian 12's 686-pae Linux (the i386
tier's referee) on qemu-system-i386 -cpu qemu32 with an AMD vendor string
(Intel's makes Linux isolate its page tables), the main and areas boots at
-m 3G, where most RAM is HIGHMEM and pages are zeroed and copied through
kmap_atomic; results/i386/.
Every configuration boots --boots times on each kernel, one boot after
another (never in parallel), alternating the kernels so that a change in
the machine's load hits both. Per figure: the median over boots and the
boot-to-boot spread, (max - min) / median.

Configurations: "main" (every per-operation figure, -m 1G), "areas" (page
fault and mmap+munmap as the process's areas grow to 60 000, -m 1G),
"ram" (the same two figures, boot time and kernel memory at -m 64M .. 16G),
"smp" (x86-64: the figures of several CPUs, -m 1G at -smp 1, 2, 3
and 4; every other configuration boots one CPU) and "swap" (x86-64:
page-in, sequential and random, and a 256 MiB working set pushed through
-m 128M, with the major faults and disk traffic of each, and the reverse
map's memory per page; both kernels boot with the same 512 MiB image,
made by Debian's mkswap afresh before every boot, as a virtio disk; the
archive carries Debian's virtio modules, which vmbench loads on Linux
with finit_module before swapon).

Writes DIR/bench.json (every boot's figures and the summary), DIR/bench.md
(the tables), DIR/*.png (charts, with Debian's python3-matplotlib) and,
for a full run (every configuration, at least 3 boots), the table between
the bench-table markers of README.md (x86-64 only); DIR is results/ for a
full run (results/riscv64/ for riscv64), else build/bench-results/ (or
build/bench-results/riscv64/). Nothing is cached but the Linux package: every
number comes from this run.
"""
import argparse
import datetime
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import hostlibs  # noqa: E402
import mkinitramfs  # noqa: E402
import qemu  # noqa: E402

import bench_report as br  # noqa: E402
from bench_report import (KERNELS, mem_kib, redraw,  # noqa: E402
                          report, ensure_matplotlib)


def bench_bin(name):
    """A benchmark binary of the architecture being measured."""
    return os.path.join(ROOT, br.ARCHES[br.ARCH]["bench_dir"], name)


LINE = re.compile(r"@vmbench (\S+)(?: (.*?))?\s*$")
# After a median, "runs=v1,v2,...": every round of that boot, in order.
RUNS = re.compile(r"\bruns=([-0-9.,]+)")

# ---------------------------------------------------------------------------
# Booting


def initramfs(mode):
    """The same archive for both kernels: /init, /bin/true, /bench.conf and
    empty /proc and /sys for Linux to mount on."""
    def data(path):
        with open(path, "rb") as f:
            return f.read()
    exe = stat.S_IFREG | 0o755
    files = [("/init", data(bench_bin("vmbench")), exe),
             ("/bin/true", data(bench_bin("true")), exe),
             ("/bench.conf", f"{mode}\n".encode(), stat.S_IFREG | 0o644)]
    if mode == "main" and br.ARCH == "x86_64":
        files += debian_programs()      # this machine's: x86-64 binaries
    if mode == "swap":
        files += [(f"/modules/{os.path.basename(ko)}", data(ko),
                   stat.S_IFREG | 0o644) for ko in linux_modules()]
    archive = mkinitramfs.build(files)
    trailer = mkinitramfs.entry("TRAILER!!!", 0, b"", 0)
    assert archive.endswith(trailer)
    dirs = b"".join(mkinitramfs.entry(d, stat.S_IFDIR | 0o555, b"", 1000 + i)
                    for i, d in enumerate(["proc", "sys"]))
    return archive[:-len(trailer)] + dirs + trailer


PYLIB = "/usr/lib/python3.11"


def debian_programs():
    """This machine's /usr/bin/true and python3 (Debian's, dynamically
    linked) with their interpreter and libraries at the paths ldd names,
    and python's standard library: the same files for both kernels."""
    files = []
    for prog in ("/usr/bin/true", "/usr/bin/python3"):
        if os.path.exists(prog):
            files += hostlibs.program_files(prog)
    if os.path.exists("/usr/bin/python3") and os.path.isdir(PYLIB):
        files += hostlibs.tree_files(PYLIB, PYLIB)
    seen, out = set(), []
    for f in reversed(files):
        if f[0] not in seen:
            seen.add(f[0])
            out.append(f)
    return out[::-1]


# Debian's virtio disk modules, kept by tools/linux-kernel.sh beside the
# kernel it fetched (set by main()).
LINUX_MODULES = None
SWAP_SIZE = "512M"


def linux_modules():
    mods = sorted(os.path.join(LINUX_MODULES, f)
                  for f in os.listdir(LINUX_MODULES or ".")
                  if f.endswith(".ko")) if LINUX_MODULES and \
        os.path.isdir(LINUX_MODULES) else []
    if not mods:
        print("bench: no virtio modules for Linux (tools/linux-kernel.sh "
              "keeps them in build/linux/*/modules/): its swap figures "
              "will be n/a")
    return mods


def fresh_swap_image(path):
    """The swap disk both kernels boot with: SWAP_SIZE, sparse, made by
    Debian's mkswap again before each boot, so every boot starts from the
    same image."""
    with open(path, "wb"):
        pass
    subprocess.run(["truncate", "-s", SWAP_SIZE, path], check=True)
    mkswap = shutil.which("mkswap", path=os.environ.get("PATH", "") +
                          ":/usr/sbin:/sbin") or "mkswap"
    subprocess.run([mkswap, "-q", path], check=True, capture_output=True)


def qemu_cmd(kernel, image, mem, cpio, smp=1, drives=()):
    return qemu.build_command(br.ARCH, image, mem, br.CPU,
                              append=br.APPEND[kernel], initrd=cpio, smp=smp,
                              drives=drives)


def parse_value(text):
    """'123.4' -> 123.4; 'n/a why' -> {'na': why}; '32.29 meminfo' -> 32.29."""
    word, _, rest = text.partition(" ")
    if word == "n/a":
        return {"na": rest or "not available"}
    try:
        return float(word)
    except ValueError:
        return {"na": f"unreadable: {text}"}


def boot(kernel, image, mode, mem, cpio, timeout, smp=1, drives=()):
    """One boot; returns a record with every @vmbench figure it printed."""
    cmd = qemu_cmd(kernel, image, mem, cpio, smp, drives)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    fired = threading.Event()
    watchdog = threading.Timer(timeout, lambda: (fired.set(), proc.kill()))
    watchdog.start()
    figures, runs, tail, ended, first_line = {}, {}, [], False, None
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
            r = RUNS.search(m.group(2) or "")
            if r:
                runs[m.group(1)] = [float(v) for v in r.group(1).split(",")]
    proc.wait()
    watchdog.cancel()
    timed_out = fired.is_set()
    wall = time.monotonic() - t0
    if first_line is not None:
        figures["host_first_line_ns"] = first_line * 1e9
    if isinstance(figures.get("mem_total_kb"), float):
        figures["outside_memtotal_kb"] = \
            mem_kib(mem) - figures["mem_total_kb"]
    return {"kernel": kernel, "mode": mode, "mem": mem, "smp": smp,
            "complete": ended,
            "qemu_rc": proc.returncode, "timed_out": timed_out,
            "wall_s": round(wall, 3),
            "figures": figures, "runs": runs,
            "console_tail": [] if ended else tail}


def plan(only):
    """The configurations to boot, as (mode, mem, CPUs), in boot order.
    smp: x86-64 only (Mercator's riscv64 runs one CPU)."""
    runs = []
    if "main" in only:
        runs.append(("main", br.main_mem(), 1))
    if "areas" in only:
        runs.append(("areas", br.main_mem(), 1))
    if "ram" in only:
        runs += [("ram", m, 1) for m in br.RAM_SIZES]
    if "smp" in only and br.ARCH == "x86_64":
        runs += [("smp", br.main_mem(), n) for n in br.SMP_CPUS]
    if "swap" in only and br.ARCH == "x86_64":
        runs.append(("swap", br.SWAP_MEM, 1))
    return runs


def run_all(images, only, boots, timeout):
    """Every configuration, `boots` times on each kernel, one at a time.
    A configuration that timed out twice on a kernel is not booted again."""
    runs, records, hung = plan(only), [], {}
    with tempfile.TemporaryDirectory() as tmp:
        cpios = {}
        for mode, _, _ in runs:
            if mode not in cpios:
                cpios[mode] = os.path.join(tmp, f"{mode}.cpio")
                with open(cpios[mode], "wb") as f:
                    f.write(initramfs(mode))
        total = len(runs) * boots * len(KERNELS)
        for rep in range(boots):
            for mode, mem, smp in runs:
                for kernel in KERNELS:
                    key = (kernel, mode, mem, smp)
                    if hung.get(key, 0) >= 2:
                        r = {"kernel": kernel, "mode": mode, "mem": mem,
                             "smp": smp, "complete": False, "skipped": True,
                             "figures": {}, "console_tail": [], "wall_s": 0}
                    else:
                        drives = []
                        if mode == "swap":
                            drives = [os.path.join(tmp, "swap.img")]
                            fresh_swap_image(drives[0])
                        r = boot(kernel, images[kernel], mode, mem,
                                 cpios[mode], timeout, smp, drives)
                        hung[key] = hung.get(key, 0) + r["timed_out"]
                    r["boot"] = rep + 1
                    records.append(r)
                    state = "" if r["complete"] else \
                        "  (skipped)" if r.get("skipped") else \
                        "  (timed out)" if r["timed_out"] else "  (incomplete)"
                    print(f"bench: [{len(records)}/{total}] {kernel} {mode} "
                          f"-m {mem} -smp {smp}: {r['wall_s']:.1f} s{state}",
                          flush=True)
    return records


# ---------------------------------------------------------------------------
# The environment


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              cwd=ROOT).stdout.strip()
    except OSError:
        return ""


def linux_config(image):
    base = os.path.basename(image)
    cfg = os.path.join(os.path.dirname(image),
                       re.sub(r"^vmlinu[xz]-", "config-", base))
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
    p = subprocess.run(["bash", os.path.join(ROOT, "tools/linux-kernel.sh"),
                        "--arch", br.ARCH], stdout=subprocess.PIPE, text=True)
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
    version = command_output([qemu.ARCHES[br.ARCH][0], "--version"])
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "qemu": version.splitlines()[0] if version else "?",
            "mercator": f"{mercator}, tree at {commit or '?'}",
            "linux_package": linux_package,
            "linux_image": os.path.relpath(linux_image, ROOT),
            "linux_config": linux_config(linux_image),
            "linux_needs_mib": round(bzimage_needs_mib(linux_image), 1)
            if br.ARCH == "x86_64" else None,
            "arch": br.ARCH, "append": br.APPEND, "cpu": br.CPU,
            "boots": args.boots,
            "host_cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--arch", choices=sorted(br.ARCHES), default="x86_64")
    ap.add_argument("--boots", type=int, default=5)
    ap.add_argument("--only", default="main,areas,ram,smp,swap")
    ap.add_argument("--out", help="results/ for a full run (every "
                    "configuration, 3 boots or more), else build/bench-results/")
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument("--timeout", type=float, default=180,
                    help="seconds before one boot is stopped")
    ap.add_argument("--mercator", help="the Mercator kernel to boot "
                    "(default: the one make builds for --arch)")
    ap.add_argument("--redraw", metavar="JSON",
                    help="no boots: redraw the tables and charts of an "
                         "earlier run's bench.json")
    args = ap.parse_args()
    if args.redraw:
        return redraw(args.redraw, args.out)
    ensure_matplotlib()
    br.use_arch(args.arch)
    args.mercator = args.mercator or qemu.default_kernel(args.arch)
    only = set(args.only.split(","))
    full = only >= {"main", "areas", "ram"} and args.boots >= 3
    if not full:
        print("bench: a partial run (some configurations, or fewer than 3 "
              "boots): not the latest table; README.md is left alone")
        args.no_readme = True
    sub = "" if args.arch == "x86_64" else args.arch
    args.out = args.out or os.path.join(
        ROOT, br.ARCHES[args.arch]["results"] if full
        else os.path.join("build/bench-results", sub))
    for path in (args.mercator, bench_bin("vmbench"), bench_bin("true")):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing (make bench builds it)")
    linux_image, linux_package = fetch_linux()
    global LINUX_MODULES
    LINUX_MODULES = os.path.join(os.path.dirname(os.path.dirname(
        linux_image)), "modules")
    env = environment(args, linux_image, linux_package)
    started = time.monotonic()
    records = run_all({"mercator": args.mercator, "linux": linux_image}, only,
                      args.boots, args.timeout)
    env["load_after"] = os.getloadavg()[0]
    env["duration_s"] = round(time.monotonic() - started, 1)
    env["only"] = sorted(only)
    report(args, env, records)


if __name__ == "__main__":
    main()
