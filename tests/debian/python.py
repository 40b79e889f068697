# Debian's python3 (dynamically linked, with its standard library from
# this machine) runs the script of issue 19 on Linux and on Mercator and
# prints the same: million-element dicts and lists, files in /tmp, a file
# changed through the mmap module, a child by subprocess, and
# multiprocessing with 4 workers (fork, pipes, shared memory and
# semaphores in /dev/shm).
# dir: /usr/lib/python3.11
# with: true
# The extension modules the script loads whose libraries python's own
# ldd list lacks (multiprocessing.sharedctypes imports ctypes: libffi):
# with: /usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so
import hashlib
import mmap
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile

N = 1_000_000

# dicts and lists of a million elements
d = {i: i * i for i in range(N)}
lst = [str(i) for i in range(N)]
lst.sort()
print("dict", len(d), sum(d.values()) % 1_000_007, d[N - 1])
print("list", len(lst), lst[:3], lst[-1])
del d, lst

# files in /tmp
with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
    path = os.path.join(tmp, "data")
    with open(path, "wb") as f:
        for i in range(20000):
            f.write(b"%08d\n" % i)
    with open(path, "rb") as f:
        data = f.read()
    print("file", len(data), hashlib.sha256(data).hexdigest()[:16])

    # a file mapped with mmap, changed through the mapping
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        m[0:8] = b"MERCATOR"
        m[-9:-1] = b"LASTLINE"
        m.flush()
        found = m.find(b"00010000")
        m.close()
    with open(path, "rb") as f:
        data = f.read()
    print("mmap", found, data[:9], data[-9:], hashlib.sha256(data).hexdigest()[:16])
    os.listdir(tmp) and print("listdir", sorted(os.listdir(tmp)))

# a child by subprocess: python itself, and a program by its path
out = subprocess.run([sys.executable, "-c", "import sys; print(sum(range(1000)), sys.argv)", "x"],
                     capture_output=True, text=True)
print("subprocess", out.returncode, out.stdout.strip())
print("true", subprocess.run(["true"]).returncode)


# multiprocessing: 4 workers, a queue, shared memory, a lock
def work(args):
    k, n = args
    return k, sum(i * i for i in range(k, n, 4))


def add(counter, lock, arr, k):
    for _ in range(500):
        with lock:
            counter.value += 1
    arr[k] = k * 10


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    with ctx.Pool(4) as pool:
        parts = pool.map(work, [(k, 200000) for k in range(4)])
    print("pool", parts, sum(p for _, p in parts))
    counter = ctx.Value("i", 0)
    lock = ctx.Lock()
    arr = ctx.Array("i", 4)
    procs = [ctx.Process(target=add, args=(counter, lock, arr, k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print("shared", counter.value, list(arr), [p.exitcode for p in procs])
    q = ctx.Queue()
    p = ctx.Process(target=lambda q: q.put(sorted(os.listdir("/dev/shm")) == sorted(os.listdir("/dev/shm")) and "queue ok"), args=(q,))
    p.start()
    print(q.get())
    p.join()
    print("done")
