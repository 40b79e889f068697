"""Typed input for a program on a terminal, timed by what it prints.

A user test NAME may come with tests/user/NAME.input, a script that plays
the person at the keyboard. tools/run plays it into Mercator's serial
console; tools/test.py plays it into a pseudo-terminal on Linux, so the
same program meets the same input on both. One command per line:

  wait TEXT          wait until TEXT appears in the output (after what the
                     last wait or check matched); 30 s, then the test fails
  send TEXT          type TEXT
  repeat N TEXT      type TEXT N times (in one go)
  sleep SECONDS      pause
  check NAME TEXT    like wait, but reports PASS/FAIL PROG/NAME itself
  absent NAME TEXT   TEXT must not appear between here and what the next
                     wait or check matches (echo that must not happen)

TEXT runs to the end of the line; escapes: \\n \\r \\t \\e \\\\ \\xHH and
\\s (a space, for one at the end). The output is matched as the terminal
sent it: a newline the program wrote is "\\r\\n" there (ONLCR). Lines
starting with # are comments.
"""
import re
import threading
import time

WAIT_TIMEOUT = 30.0


def unescape(text):
    names = {"n": b"\n", "r": b"\r", "t": b"\t", "e": b"\x1b", "\\": b"\\",
             "s": b" "}

    def one(m):
        s = m.group(1)
        if s[0] == "x":
            return bytes([int(s[1:], 16)])
        return names[s]
    out, pos = b"", 0
    for m in re.finditer(r"\\(x[0-9a-fA-F]{2}|[nrte\\s])", text):
        out += text[pos:m.start()].encode() + one(m)
        pos = m.end()
    return out + text[pos:].encode()


def parse(path):
    steps = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cmd, _, rest = line.partition(" ")
            if cmd in ("check", "absent", "repeat"):
                name, _, text = rest.partition(" ")
                steps.append((cmd, name, unescape(text)))
            elif cmd in ("wait", "send"):
                steps.append((cmd, None, unescape(rest)))
            elif cmd == "sleep":
                steps.append((cmd, None, float(rest)))
            else:
                raise ValueError(f"{path}:{number}: unknown command {cmd!r}")
    return steps


class Player:
    """Plays a script: send(bytes) types, report(line) prints a PASS or
    FAIL line, abort() ends the program; output(bytes) must be called
    with everything the program prints, and closed() when it is done.
    The program's output and the reports share one stream, so report()
    is given a line that starts with a newline: a report never lands in
    the middle of a line the program has not finished (where a PASS
    would go uncounted)."""

    def __init__(self, path, prog, send, report, abort):
        self.steps = parse(path)
        self.prog, self.send, self.report, self.abort = prog, send, report, abort
        self.out, self.pos, self.done = b"", 0, False
        self.aborted = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self.play, daemon=True)

    def start(self):
        self.thread.start()

    def output(self, chunk):
        with self.cond:
            self.out += chunk
            self.cond.notify_all()

    def closed(self):
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def find(self, text, timeout):
        """Where text ends in the output after pos, or None."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                i = self.out.find(text, self.pos)
                if i >= 0:
                    return i, i + len(text)
                left = end - time.monotonic()
                if self.done or left <= 0:
                    return None
                self.cond.wait(left)

    def play(self):
        absent = []
        for cmd, name, arg in self.steps:
            if cmd == "send":
                self.send(arg)
            elif cmd == "repeat":
                self.send(arg * int(name))
            elif cmd == "sleep":
                time.sleep(arg)
            elif cmd == "absent":
                absent.append((name, arg))
            else:
                found = self.find(arg, WAIT_TIMEOUT)
                if found:
                    between = self.out[self.pos:found[0]]
                    for aname, text in absent:
                        ok = text not in between
                        self.report("\n" f"{'PASS' if ok else 'FAIL'} "
                                    f"{self.prog}/{aname}"
                                    f"{'' if ok else f': {text!r} was shown'}")
                    absent = []
                    self.pos = found[1]
                if cmd == "check":
                    self.report("\n" f"{'PASS' if found else 'FAIL'} "
                                f"{self.prog}/{name}"
                                f"{'' if found else f': {arg!r} never came'}")
                if not found:
                    if cmd == "wait":
                        self.report("\n" f"FAIL {self.prog}/input_script: "
                                    f"{arg!r} never came")
                    self.aborted = True
                    self.abort()
                    return
