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
import time

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


def reap_strays(keep: set[int], time_limit: float = 10.0) -> int:
    """Kill and reap every child of this process not in `keep`, again and again as their
    own children are adopted, until none is left. Returns how many were killed."""
    killed, deadline = 0, time.monotonic() + time_limit
    while time.monotonic() < deadline:
        strays = children() - keep
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        for pid in strays:
            while time.monotonic() < deadline:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:  # not ours to wait for (reaped elsewhere)
                    break
                time.sleep(0.01)
    return killed
