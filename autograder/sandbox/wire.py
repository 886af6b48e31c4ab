"""The wire format between the grader and the student process: plain data only.

A message is a JSON header plus an .npz body (stored, uncompressed members). Values are
encoded as a tree of tagged JSON objects whose arrays live in the body, so nothing that
crosses the boundary can run code when it is decoded. Objects that are not plain data
(a student's cache class, a closure) never cross: they stay in the student process and
the grader holds a numbered handle to them.

The grader reads what a student process sends, so every message is checked before any
work in proportion to what it claims: the header's size, the number of arrays, each
array's dtype (numbers and booleans only), shape and byte count, the number of values in
the tree and its depth. Arrays are views into the message until decoded, and each one may
be used once, so a small message cannot turn into a large amount of memory or time.

This module is imported by both sides and imports nothing from the project, because the
student process runs it from a private copy.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import select
import struct
import time
import zipfile

import numpy as np

MAX_HEADER = 2**20  # bytes of JSON: a tree of tags, not data (arrays go in the body)
MAX_BODY = 32 * 2**20  # bytes of arrays in one message
MAX_ARRAYS = 4096  # arrays in one message
MAX_NODES = 200_000  # tagged values in one message
MAX_DEPTH = 64  # nesting of lists, tuples and dicts
MAX_DIMS = 32
SEQ_MIN = 16  # lists of numbers at least this long cross as one array (see _seq)
_LEN = struct.Struct("<Q")
_LOCAL = struct.Struct("<4s22xHH")  # a zip member's local header: signature ... name, extra
_END = struct.Struct("<4s6xHI4xH")  # the end record: signature, members, directory size, comment
_KEY_TYPES = (str, int, float, bool)
_MEMBER = re.compile(r"a\d{1,6}\.npy")
# NumPy scalars cross as JSON numbers (exact for all of these): no array member each.
SCALAR_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64", "longdouble", "complex64", "complex128"])


class WireError(Exception):
    """The peer sent something that is not a well-formed message."""


def _plain_key(k) -> bool:
    if isinstance(k, np.generic):
        return k.dtype.name in SCALAR_DTYPES or isinstance(k, np.str_)
    return isinstance(k, _KEY_TYPES)


def _plain_array_dtype(dtype: np.dtype) -> bool:
    """Numbers and booleans in native byte order: nothing void, structured, object,
    string, date or zero-sized, whose size arithmetic or copying could be abused."""
    return (dtype.kind in "biufc" and dtype.fields is None and dtype.subdtype is None
            and not dtype.hasobject and dtype.itemsize > 0 and dtype.isnative)


class Encoder:
    """Turns a Python value into (tree, arrays). `keep` decides what to do with values
    that are not plain data: it returns a JSON-able tag (a handle) for them.

    Subclasses of tuple, list, dict, int, float and str (a namedtuple, an OrderedDict)
    cross as their plain base, as a test in one process would use them."""

    def __init__(self, keep=None, alias=None):
        self.arrays: dict[str, np.ndarray] = {}
        self.keep = keep
        # id(object) -> path of an argument: a result that *is* an argument is sent as a
        # reference to it, so the caller gets its own object back, as in one process.
        self.alias = alias or {}
        self.nodes = 0

    def _array(self, a: np.ndarray) -> str:
        if len(self.arrays) >= MAX_ARRAYS:
            raise WireError(f"more than {MAX_ARRAYS} arrays in one answer")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return key

    def encode(self, v, depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError(f"the value is too large to send (more than {MAX_NODES} values "
                            f"or nested more than {MAX_DEPTH} deep)")
        if id(v) in self.alias and isinstance(v, (np.ndarray, list, dict)):
            return {"alias": self.alias[id(v)]}
        if v is None:
            return {"py": v}
        if isinstance(v, np.ndarray) and _plain_array_dtype(v.dtype):
            # reshape: ascontiguousarray makes a 0-d array 1-d.
            return {"nd": self._array(np.ascontiguousarray(v).reshape(v.shape))}
        if isinstance(v, np.generic) and v.dtype.name in SCALAR_DTYPES:
            return {"np": [v.dtype.name, _scalar_json(v)]}
        if isinstance(v, np.str_):
            return {"py": str(v)}
        if isinstance(v, np.generic):
            return self.keep(v) if self.keep is not None else self._refuse(v)
        if isinstance(v, bool):
            return {"py": bool(v)}
        if isinstance(v, int):
            return {"py": int(v)}
        if isinstance(v, float):
            return {"py": float(v)}
        if isinstance(v, str):
            return {"py": str(v)}
        if isinstance(v, (tuple, list)):
            container = "tuple" if isinstance(v, tuple) else "list"
            seq = self._seq(v, container)
            if seq is not None:
                return seq
            return {container: [self.encode(x, depth + 1) for x in v]}
        if isinstance(v, dict) and all(_plain_key(k) for k in v):
            return {"dict": [[self.encode(k, depth + 1), self.encode(x, depth + 1)]
                             for k, x in v.items()]}
        if isinstance(v, np.random.Generator):
            return {"rng": v.bit_generator.state}
        if self.keep is not None:
            return self.keep(v)
        return self._refuse(v)

    def _seq(self, v, container: str):
        """A long list of Python floats, Python ints or NumPy scalars of one dtype (a loss
        history) as one array: 8 bytes an item instead of a JSON value each."""
        if len(v) < SEQ_MIN or self.nodes + len(v) > MAX_NODES:
            return None
        first = type(v[0])
        if first in (float, int):
            if any(type(x) is not first for x in v):
                return None
            try:
                values = np.array(v, dtype=np.float64 if first is float else np.int64)
            except OverflowError:
                return None
            kind = first.__name__
        elif isinstance(v[0], np.generic) and v[0].dtype.name in SCALAR_DTYPES:
            if any(type(x) is not first for x in v):
                return None
            values, kind = np.array(v, dtype=v[0].dtype), "np"
        else:
            return None
        self.nodes += len(v)
        return {"seq": [container, kind, self._array(values)]}

    @staticmethod
    def _refuse(v):
        raise WireError(f"cannot send a value of type {type(v).__name__}")


def _scalar_json(v: np.generic):
    if v.dtype.kind == "c":
        return [float(v.real), float(v.imag)]
    if v.dtype.kind == "f":
        return float(v)
    return bool(v) if v.dtype.kind == "b" else int(v)


def _scalar(payload) -> np.generic:
    if not (isinstance(payload, list) and len(payload) == 2
            and payload[0] in SCALAR_DTYPES):
        raise WireError("malformed scalar")
    name, value = payload
    kind = np.dtype(name).kind
    if kind == "c":
        if not (isinstance(value, list) and len(value) == 2
                and all(type(x) in (int, float) for x in value)):
            raise WireError("malformed complex scalar")
        return np.dtype(name).type(complex(*value))
    if type(value) not in ((bool,) if kind == "b" else (int,) if kind in "iu" else (int, float)):
        raise WireError(f"malformed {name} scalar")
    try:
        return np.dtype(name).type(value)
    except (OverflowError, ValueError):
        raise WireError(f"{name} scalar out of range") from None


_SEQ_DTYPES = {"float": np.dtype(np.float64), "int": np.dtype(np.int64), "np": None}


class Decoder:
    """Inverse of Encoder.encode, for one message: checks a whole tree (values, depth,
    tags, each array used once) before building anything from it.

    `resolve(tag, payload)` turns the caller's own tags (handles, references) into
    objects; `tags` names them."""

    def __init__(self, arrays: dict, resolve=None, tags=(), max_nodes=MAX_NODES,
                 deadline: float | None = None):
        self.arrays, self.resolve, self.tags = arrays, resolve, frozenset(tags)
        self.nodes_left = max_nodes
        self.used: set[str] = set()
        self.deadline = deadline

    def decode(self, tree):
        self.check(tree)
        return self._build(tree)

    def check(self, tree) -> None:
        """Iterative, so a deep tree cannot exhaust the stack; counts every value."""
        todo = [(tree, 0)]
        while todo:
            node, depth = todo.pop()
            self.nodes_left -= 1
            if self.nodes_left < 0 or depth > MAX_DEPTH:
                raise WireError(f"the answer holds more than {MAX_NODES} values or is nested "
                                f"more than {MAX_DEPTH} deep")
            if self.deadline is not None and self.nodes_left % 4096 == 0 \
                    and time.monotonic() > self.deadline:
                raise TimeoutError("the answer took too long to read")
            if not isinstance(node, dict) or len(node) != 1:
                raise WireError("malformed value")
            (tag, v), = node.items()
            if tag == "py":
                if v is not None and type(v) not in (bool, int, float, str):
                    raise WireError("malformed plain value")
            elif tag == "nd":
                if not isinstance(v, str) or v not in self.arrays or v in self.used:
                    raise WireError("a reference to an array that is missing or used twice")
                self.used.add(v)
            elif tag == "np":
                _scalar(v)
            elif tag in ("tuple", "list"):
                if not isinstance(v, list):
                    raise WireError(f"malformed {tag}")
                todo.extend((x, depth + 1) for x in v)
            elif tag == "dict":
                if not (isinstance(v, list) and all(
                        isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], dict)
                        and len(kv[0]) == 1 and next(iter(kv[0])) in ("py", "np")
                        for kv in v)):
                    raise WireError("malformed dict")
                for k, x in v:
                    todo.extend(((k, depth + 1), (x, depth + 1)))
            elif tag == "seq":
                self._check_seq(v)
            elif tag == "rng":
                if not isinstance(v, dict):
                    raise WireError("malformed generator state")
            elif tag not in self.tags:
                raise WireError(f"unknown tag {str(tag)[:40]!r}")

    def _check_seq(self, v) -> None:
        if not (isinstance(v, list) and len(v) == 3 and v[0] in ("list", "tuple")
                and v[1] in _SEQ_DTYPES and isinstance(v[2], str) and v[2] in self.arrays
                and v[2] not in self.used):
            raise WireError("malformed sequence")
        values = self.arrays[v[2]]
        wanted = _SEQ_DTYPES[v[1]]
        if values.ndim != 1 or (wanted is not None and values.dtype != wanted) or (
                wanted is None and values.dtype.name not in SCALAR_DTYPES):
            raise WireError("malformed sequence")
        self.used.add(v[2])
        self.nodes_left -= values.size  # each item becomes a Python object
        if self.nodes_left < 0:
            raise WireError(f"the answer holds more than {MAX_NODES} values")

    def _build(self, tree):
        (tag, v), = tree.items()
        if tag == "py":
            return v
        if tag == "nd":
            return self.arrays[v].copy()  # owned and writable, not a view of the message
        if tag == "np":
            return _scalar(v)
        if tag == "tuple":
            return tuple(self._build(x) for x in v)
        if tag == "list":
            return [self._build(x) for x in v]
        if tag == "dict":
            return {self._build(k): self._build(x) for k, x in v}
        if tag == "seq":
            values = self.arrays[v[2]]
            items = values.tolist() if v[1] != "np" else list(values)
            return items if v[0] == "list" else tuple(items)
        if tag == "rng":
            return _generator(v)
        if self.resolve is None:
            raise WireError(f"unknown tag {tag!r}")
        return self.resolve(tag, v)


def _generator(state: dict) -> np.random.Generator:
    bitgen = getattr(np.random, str(state.get("bit_generator")), None)
    if not (isinstance(bitgen, type) and issubclass(bitgen, np.random.BitGenerator)):
        raise WireError("unknown bit generator")
    gen = bitgen()
    try:
        gen.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise WireError(f"malformed generator state ({exc})") from None
    return np.random.Generator(gen)


def decode(tree, arrays, resolve=None, tags=("handle", "alias", "ref")):
    """Decode one tree on its own (see Decoder)."""
    return Decoder(arrays, resolve, tags).decode(tree)


def pack(header: dict, arrays: dict | None = None) -> bytes:
    head = json.dumps(header).encode()
    body = b""
    if arrays:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        body = buf.getvalue()
    if len(head) > MAX_HEADER or len(body) > MAX_BODY:
        raise WireError(f"an answer of {len(head) + len(body)} bytes is over the limit "
                        f"({MAX_BODY // 2**20} MB of arrays, {MAX_HEADER // 2**20} MB of "
                        "other values)")
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
    """Read one message (by time.monotonic() `deadline`): its sizes are checked before it
    is read, its arrays before they are used. Arrays are read-only views of the message."""
    (n,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    if n > MAX_HEADER:
        raise WireError(f"header of {n} bytes is over the limit")
    head = _read_exact(fd, n, deadline)
    (m,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    if m > MAX_BODY:
        raise WireError(f"body of {m} bytes is over the limit")
    arrays = arrays_in(_read_exact(fd, m, deadline), deadline) if m else {}
    try:
        header = json.loads(head)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"the header is not readable ({str(exc)[:100]})") from None
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    return header, arrays


def arrays_in(body: bytes, deadline: float | None = None) -> dict[str, np.ndarray]:
    """The arrays of an .npz body as read-only views into it, after checking each one:
    only what np.savez writes (uncompressed members named aN.npy), at most MAX_ARRAYS of
    them, numeric dtypes, and headers whose shapes match their byte counts. A compressed
    member could unpack to far more memory than the message it came in; a zero-sized dtype
    could claim any shape."""
    try:
        _check_directory(body)
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            arrays, claimed = {}, 0
            for i, info in enumerate(zf.infolist()):
                if deadline is not None and i % 256 == 0 and time.monotonic() > deadline:
                    raise TimeoutError("the answer took too long to read")
                name = info.filename[:-4]
                array = _member(body, info)
                # Members may not share bytes: what is decoded never exceeds the message.
                claimed += info.file_size
                if name in arrays or claimed > len(body):
                    raise WireError(f"array {name[:20]} appears twice or overlaps another")
                arrays[name] = array
            return arrays
    except (zipfile.BadZipFile, ValueError, struct.error, EOFError) as exc:
        raise WireError(f"the answer's arrays are not readable ({str(exc)[:200]})") from None


def _check_directory(body: bytes) -> None:
    """The member count and directory size, from the end record, before the directory is
    parsed: a message with hundreds of thousands of tiny members is refused unread."""
    if len(body) < _END.size:
        raise WireError("the answer's arrays are not an archive")
    signature, members, directory, comment = _END.unpack_from(body, len(body) - _END.size)
    if signature != b"PK\x05\x06" or comment != 0:
        raise WireError("the answer's arrays are not an archive written by numpy")
    if members > MAX_ARRAYS or directory > members * 128:
        raise WireError(f"{members} arrays in one answer (at most {MAX_ARRAYS})")


_NPY_HEADER = re.compile(
    rb"\{'descr': '([<>|=][biufc]\d{1,2})', 'fortran_order': (True|False), "
    rb"'shape': \((\d{1,19},|\d{1,19}(?:, \d{1,19}){1,31}|)\), \} *\n")


def _member(body: bytes, info: zipfile.ZipInfo) -> np.ndarray:
    """One member as a read-only view, after its header is read strictly: the exact form
    np.save writes, numeric dtypes only, a shape that matches the byte count."""
    if (info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1
            or not _MEMBER.fullmatch(info.filename)
            or info.compress_size != info.file_size):
        raise WireError(f"unexpected member {info.filename[:60]!r} in the answer")
    signature, name_len, extra_len = _LOCAL.unpack_from(body, info.header_offset)
    start = info.header_offset + _LOCAL.size + name_len + extra_len
    end = start + info.file_size
    if signature != b"PK\x03\x04" or end > len(body) or body[start:start + 6] != b"\x93NUMPY":
        raise WireError(f"array {info.filename} is not where its entry says")
    version = body[start + 6]
    size = struct.Struct("<H" if version == 1 else "<I")
    text = start + 8 + size.size
    length = size.unpack_from(body, start + 8)[0] if version in (1, 2) else 0
    match = _NPY_HEADER.fullmatch(body, text, min(text + length, end)) if length else None
    if match is None:
        descr = re.search(rb"'descr': '([^']{0,40})'", body[text:min(text + length, end)])
        if descr is not None and not re.fullmatch(rb"[<>|=][biufc]\d{1,2}", descr.group(1)):
            raise WireError(f"array {info.filename} has dtype {descr.group(1).decode('latin-1')}"
                            ": only numbers and booleans cross")
        raise WireError(f"array {info.filename}: not a header np.save writes")
    dtype = np.dtype(match.group(1).decode())
    shape = tuple(int(d) for d in match.group(3).split(b",") if d.strip())
    if not _plain_array_dtype(dtype) or max(shape, default=0) > MAX_BODY:
        raise WireError(f"array {info.filename} has dtype {dtype} or a dimension over the limit")
    data = text + length
    count = math.prod(shape)  # Python integers: no overflow
    if count * dtype.itemsize != end - data:
        raise WireError(f"array {info.filename} does not match its header")
    if count == 0:
        return np.empty(shape, dtype)
    flat = np.frombuffer(body, dtype=dtype, count=count, offset=data)
    return flat.reshape(shape, order="F" if match.group(2) == b"True" else "C")


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


def generators(value, found=None) -> list:
    """Every np.random.Generator in `value` (tuples, lists, dict values), depth first: the
    served Exercise 1 lists them on both sides of its pipe with this one walk, so their
    states travel in the same order."""
    found = [] if found is None else found
    if isinstance(value, np.random.Generator):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            generators(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            generators(item, found)
    return found
