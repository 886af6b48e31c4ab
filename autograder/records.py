"""Outcome records from the grading pytest to the grader, authenticated.

Each line the grading pytest writes is `<HMAC-SHA256 in hex> <JSON record>`, under a key
that this grader process made and hands only to its own pytest processes. The key is in
no environment and on no command line (both are readable in /proc by processes of the
same user): it goes through a pipe the pytest inherits, and the grader writes it there
only once that pytest has made itself undumpable (its /proc/PID/fd then belongs to root,
so no process of the grader's user can open its pipes or read its memory) and no process
but the grader's own is alive under it. The pytest reads it and closes the pipe before
any student process exists. The grader accepts only whole lines whose MAC matches: a
forged or damaged record fails the whole run closed (no results but "could not grade"),
instead of being skipped or counted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time

_KEY = secrets.token_bytes(32)  # this grader process's; one `grade` run per process
KEY_OPTION = "--outcome-key-fd"


class ForgedRecord(RuntimeError):
    """An outcome line that the grader's own pytest did not write."""


def undumpable(pid: int) -> bool:
    """Whether process `pid` made itself undumpable (Linux shows it as root's /proc/PID/fd).
    A root grader cannot tell (all is root's), and needs not: student code runs as
    another user, or as root, at which point nothing of this holds."""
    try:
        return os.stat(f"/proc/{pid}/fd").st_uid == 0
    except OSError:
        return False


def hand_key(pid: int, fd: int, others, timeout: float = 60.0) -> bool:
    """Write the key into pipe `fd` (then closed) for the pytest `pid`, once it is
    undumpable (not waited for by a root grader, or where there is no /proc) and
    `others()` (processes that must not exist then, e.g. strays) is empty. Returns False,
    writing nothing, when that does not happen within `timeout`: the pytest then has no
    key and stops, and its exercise is not graded."""
    try:
        wait = os.geteuid() != 0 and os.path.isdir("/proc")
        deadline = time.monotonic() + timeout
        while wait and not undumpable(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        if others():
            return False
        os.write(fd, _KEY.hex().encode() + b"\n")  # 65 bytes: far below a pipe's buffer
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def read_key(fd: int) -> bytes | None:
    """The key, in the grading pytest: read from the inherited pipe, which is closed."""
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = os.read(fd, 65 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except ValueError:
        return None
    return key if len(key) == 32 else None


def _mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def sign(key: bytes, record: dict) -> str:
    """One signed line (newline included)."""
    payload = json.dumps(record, separators=(",", ":"))
    return f"{_mac(key, payload.encode())} {payload}\n"


def complete_lines(text: str) -> str:
    """`text` without a last line cut short (a pytest killed while writing it), so that
    texts of several runs can be joined line by line."""
    return text if text.endswith("\n") or not text else text[:text.rfind("\n") + 1]


def verified(text: str, key: bytes = _KEY) -> list[dict]:
    """The records of `text`, every complete line checked; raises ForgedRecord."""
    out = []
    for number, line in enumerate(complete_lines(text).splitlines(), 1):
        mac, _, payload = line.partition(" ")
        if not hmac.compare_digest(mac.encode(), _mac(key, payload.encode()).encode()):
            raise ForgedRecord(
                f"outcome record {number} was not written by the grader's tests "
                "(forged or damaged): the run is not graded")
        record = json.loads(payload)
        if not isinstance(record, dict):
            raise ForgedRecord(f"outcome record {number} is not an object")
        out.append(record)
    return out
