"""Processes that student code leaves behind: adopted, found and killed.

A student process can fork and start a session of its own (a daemon), escaping the
process group the grader kills. Linux re-parents such an orphan to its nearest ancestor
that is a "child subreaper" instead of init, so the grader and the trusted pytest mark
themselves as subreapers: every process student code starts then ends up as one of their
children, where `reap_strays` finds it and kills it, whichever way the run ended. (In the
bubblewrap sandbox a PID namespace does the same; at the student-user level so does a
kill of every process of that user. This covers all levels, the same-user one included.)
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading

_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


def set_subreaper(on: bool) -> bool:
    """Make this process adopt its orphaned descendants (Linux). Returns the previous
    setting, False where there is no such thing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        previous = ctypes.c_int(0)
        libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(previous), 0, 0, 0)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)
        return bool(previous.value)
    except (OSError, AttributeError):
        return False


def children() -> set[int]:
    """Process ids whose parent is this process (zombies included)."""
    me, found = str(os.getpid()).encode(), set()
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return found
    for entry in entries:
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if len(fields) > 1 and fields[1] == me:
                found.add(int(entry.name))
    return found


def reap_strays(keep: set[int]) -> int:
    """Kill and reap every child of this process not in `keep`, with every process below
    them (a chain of any depth dies in one round, not one generation per round), again
    as the children of those that forked meanwhile are adopted, until none is left: no
    time limit, since a process left here could attack the next trusted process. Returns
    how many were killed."""
    killed = 0
    while True:
        strays = children() - keep
        if not strays:
            return killed
        tree = descendants(strays)
        kill_all(tree)
        killed += len(tree)
        for pid in strays:
            try:
                os.waitpid(pid, 0)  # SIGKILLed: it ends, and its children come to us
            except ChildProcessError:  # not ours to wait for (reaped elsewhere)
                pass


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process visible in /proc."""
    out: dict[int, int] = {}
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return out
    for entry in entries:
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    out[int(entry.name)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def descendants(roots: set[int]) -> set[int]:
    """`roots` and every process below them."""
    below: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        below.setdefault(parent, []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += below.get(pid, [])
    return found


def resident_bytes(pids: set[int]) -> int:
    """Memory the processes use: their anonymous and shared-memory resident pages
    (RssAnon + RssShmem), not the files they map (libraries: page cache, shared)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith((b"RssAnon:", b"RssShmem:")):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Watchdog:
    """A thread that calls `trip()` every `period` s until it returns True (it has
    stopped what it watches), or until stop()."""

    def __init__(self, trip, name: str, period: float = 0.05):
        self.trip, self.period = trip, period
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            if self.trip():
                self.tripped = True
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
