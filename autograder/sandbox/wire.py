"""The wire format between the grader and the student process: plain data only.

A message is a JSON header plus an .npz body read with allow_pickle=False. Values are
encoded as a tree of tagged JSON objects whose arrays live in the body, so nothing that
crosses the boundary can run code when it is decoded. Objects that are not plain data
(a student's cache class, a closure) never cross: they stay in the student process and
the grader holds a numbered handle to them.

This module is imported by both sides and imports nothing from the project, because the
student process runs it from a private copy.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import time
import zipfile

import numpy as np

MAX_HEADER = 16 * 2**20
MAX_BODY = 128 * 2**20
_LEN = struct.Struct("<Q")
_KEY_TYPES = (str, int, float, bool)


class WireError(Exception):
    """The peer sent something that is not a well-formed message."""


def _plain_key(k) -> bool:
    return type(k) in _KEY_TYPES or (isinstance(k, np.generic) and k.dtype.kind in "biuf")


class Encoder:
    """Turns a Python value into (tree, arrays). `keep` decides what to do with values
    that are not plain data: it returns a JSON-able tag (a handle) for them."""

    def __init__(self, keep=None, alias=None):
        self.arrays: dict[str, np.ndarray] = {}
        self.keep = keep
        # id(object) -> path of an argument: a result that *is* an argument is sent as a
        # reference to it, so the caller gets its own object back, as in one process.
        self.alias = alias or {}

    def _array(self, a: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return key

    def encode(self, v):
        if id(v) in self.alias and isinstance(v, (np.ndarray, list, dict)):
            return {"alias": self.alias[id(v)]}
        if v is None or isinstance(v, (bool, str)):
            return {"py": v}
        if isinstance(v, (int, float)) and type(v) in (int, float):
            return {"py": v}
        if isinstance(v, np.ndarray) and v.dtype.kind in "biufc" and not v.dtype.hasobject:
            return {"nd": self._array(np.ascontiguousarray(v))}
        if isinstance(v, np.generic) and v.dtype.kind in "biufc":
            return {"np": self._array(np.asarray(v))}
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            return {"tuple": [self.encode(x) for x in v]}
        if isinstance(v, list):
            return {"list": [self.encode(x) for x in v]}
        if type(v) is dict and all(_plain_key(k) for k in v):
            return {"dict": [[self.encode(k), self.encode(x)] for k, x in v.items()]}
        if isinstance(v, np.random.Generator):
            return {"rng": v.bit_generator.state}
        if self.keep is not None:
            return self.keep(v)
        raise WireError(f"cannot send a value of type {type(v).__name__}")


def decode(tree, arrays, resolve=None):
    """Inverse of Encoder.encode. `resolve` turns a handle tag back into its object."""
    if not isinstance(tree, dict) or len(tree) != 1:
        raise WireError("malformed value")
    (tag, v), = tree.items()
    if tag == "py":
        return v
    if tag == "nd":
        return arrays[v].copy()
    if tag == "np":
        return arrays[v][()]
    if tag == "tuple":
        return tuple(decode(x, arrays, resolve) for x in v)
    if tag == "list":
        return [decode(x, arrays, resolve) for x in v]
    if tag == "dict":
        return {decode(k, arrays, resolve): decode(x, arrays, resolve) for k, x in v}
    if tag == "rng":
        bitgen = getattr(np.random, str(v.get("bit_generator")), None)
        if not (isinstance(bitgen, type) and issubclass(bitgen, np.random.BitGenerator)):
            raise WireError("unknown bit generator")
        gen = bitgen()
        gen.state = v
        return np.random.Generator(gen)
    if resolve is not None:
        return resolve(tag, v)
    raise WireError(f"unknown tag {tag!r}")


def pack(header: dict, arrays: dict | None = None) -> bytes:
    head = json.dumps(header).encode()
    body = b""
    if arrays:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        body = buf.getvalue()
    if len(head) > MAX_HEADER or len(body) > MAX_BODY:
        raise WireError(f"message of {len(head) + len(body)} bytes is over the limit")
    return _LEN.pack(len(head)) + head + _LEN.pack(len(body)) + body


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, deadline: float | None = None) -> tuple[dict, dict]:
    """Read one message (by time.monotonic() `deadline`); arrays are loaded without pickle."""
    (n,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    if n > MAX_HEADER:
        raise WireError(f"header of {n} bytes is over the limit")
    header = json.loads(_read_exact(fd, n, deadline))
    (m,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    if m > MAX_BODY:
        raise WireError(f"body of {m} bytes is over the limit")
    arrays = {}
    if m:
        body = io.BytesIO(_read_exact(fd, m, deadline))
        _check_stored(body)
        with np.load(body, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    return header, arrays


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}


def _check_stored(body: io.BytesIO) -> None:
    """Only what np.savez writes: uncompressed members named aN.npy. A compressed member
    could unpack to far more memory than the message it came in."""
    try:
        with zipfile.ZipFile(body) as zf:
            for info in zf.infolist():
                if (info.compress_type != zipfile.ZIP_STORED
                        or not re.fullmatch(r"a\d+\.npy", info.filename)):
                    raise WireError(f"unexpected member {info.filename!r} in the answer")
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version not in _HEADER_READERS:
                        raise WireError(f"array {info.filename}: format {version}")
                    shape, _, dtype = _HEADER_READERS[version](fh)
                    data_bytes = info.file_size - fh.tell()
                if dtype.hasobject or int(np.prod(shape)) * dtype.itemsize != data_bytes:
                    raise WireError(f"array {info.filename} does not match its header")
    except (zipfile.BadZipFile, ValueError) as exc:
        raise WireError(f"the answer's arrays are not readable ({exc})") from None
    body.seek(0)


def write_message(fd: int, header: dict, arrays: dict | None = None,
                  deadline: float | None = None) -> None:
    write_bytes(fd, pack(header, arrays), deadline)


def write_bytes(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write all of `data`; with a deadline, `fd` must be non-blocking."""
    data = memoryview(data)
    while data:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise TimeoutError("the peer does not read")
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            continue
