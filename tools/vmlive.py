"""The live page of `make view` (tools/vmview --live): Mercator's shell in
this terminal, and on http://127.0.0.1:PORT/ a page that redraws as the
feed brings snapshots.

The kernel boots with `vmview=exit`, so every command that exits sends a
snapshot (a shell command is a process); `echo LABEL > /proc/vmview`
sends one at will. The feed port (COM2; on riscv64 a virtio console)
goes to a file; a thread reads
each complete line as it arrives. The page polls /count once a second and,
when it changed, reloads its frame from /latest: the newest snapshots
drawn by tools/vmview's render(), newest first. Standard library only.
"""
import http.server
import json
import os
import subprocess
import threading
import time


class Feed:
    """The snapshots read so far from a growing feed file."""

    def __init__(self, path):
        self.path, self.pos, self.snaps = path, 0, []
        self.lock = threading.Lock()

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.pos += end + 1
        for raw in data[:end].split(b"\n"):
            raw = raw.strip()
            if raw.startswith(b"{"):
                try:
                    snap = json.loads(raw.decode("utf-8", "replace"))
                except ValueError:
                    continue
                with self.lock:
                    self.snaps.append(snap)

    def latest(self, n):
        with self.lock:
            return len(self.snaps), list(reversed(self.snaps[-n:]))


SHELL_PAGE = """<!DOCTYPE html><html><head><meta charset='utf-8'>
<title>Mercator memory, live</title><style>body{font-family:sans-serif;
margin:0}#bar{padding:.4em 1em;background:#eef}iframe{border:0;width:100%;
height:calc(100vh - 2.2em)}</style></head><body><div id="bar">Mercator,
live: <span id="count">0</span> snapshots (each command's exit, and
<code>echo LABEL &gt; /proc/vmview</code>)</div><iframe id="view"></iframe>
<script>
let seen = -1;
async function tick() {
  try {
    const n = parseInt(await (await fetch('/count')).text());
    if (n !== seen) {
      seen = n;
      document.getElementById('count').textContent = n;
      document.getElementById('view').src = '/latest?' + n;
    }
  } catch (e) {}
  setTimeout(tick, 1000);
}
tick();
</script></body></html>
"""


def serve(feed, render, port, keep=3):
    """Serve the live page on 127.0.0.1:port in a thread; returns the
    server (shutdown() stops it)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, body, ctype):
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            feed.poll()
            path = self.path.split("?")[0]
            if path == "/":
                self.reply(SHELL_PAGE, "text/html; charset=utf-8")
            elif path == "/count":
                self.reply(str(feed.latest(0)[0]), "text/plain")
            elif path == "/latest":
                count, snaps = feed.latest(keep)
                self.reply(render(snaps) if snaps else
                           "<p>No snapshot yet: type a command.</p>",
                           "text/html; charset=utf-8")
            else:
                self.send_error(404)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_live(cmd, feed_path, render, port):
    """Boot (cmd: QEMU, interactive) with the feed going to feed_path and
    serve the page while it runs; the page keeps serving the last
    snapshots until Enter is pressed after QEMU ends."""
    feed = Feed(feed_path)
    server = serve(feed, render, port)
    print(f"vmview: the live page is http://127.0.0.1:{port}/ "
          "(Ctrl-A X quits QEMU)", flush=True)
    time.sleep(0.5)
    rc = subprocess.call(cmd)
    feed.poll()
    server.shutdown()
    return rc, feed
