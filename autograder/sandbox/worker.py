"""The untrusted side: runs ONE student file and answers calls on it, nothing else.

Started by autograder.sandbox.client as
    python -I -B worker.py REQ_FD RESP_FD SUBMISSION_DIR MODULE_NAME [EX1_REQ EX1_RESP]
from a private copy of this file and wire.py, with only the student's files on sys.path,
limits on memory/CPU/files set by the parent and, when the grader is root, as an
unprivileged user. Nothing it returns is trusted: the grader only judges the data.
With EX1_REQ EX1_RESP (the course policy EXERCISE1_POLICY = "reference"), the student's
`import ex_01_basic_rnn` reaches the reference Exercise 1 in a trusted process of its own
through that pipe pair (served_ex01.py).

Per call it reports back (besides the result) which argument arrays or dicts the student
changed, so the grader can apply the change to its own arguments and tests see the same
thing as when the module is imported in one process.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import platform
import struct
import sys
import traceback
import types

# ---------------------------------------------------------------------------------------
# Confinement, before anything else is imported (one thread, no student code yet)
# ---------------------------------------------------------------------------------------

# Per architecture: the audit arch and the numbers of the system calls filtered below.
# keyctl, add_key, request_key: the kernel keyrings outlive the process and are shared by
# every process of a uid (a channel between submissions); unshare and clone with
# CLONE_NEWUSER: a user namespace of its own (more kernel surface); clone3's flags cannot
# be read by a filter, so it reports ENOSYS and the C library falls back to clone.
_SYSCALLS = {
    "x86_64": (0xC000003E, {"keyctl": 250, "add_key": 248, "request_key": 249,
                            "unshare": 272, "clone": 56, "clone3": 435}),
    "aarch64": (0xC00000B7, {"keyctl": 219, "add_key": 217, "request_key": 218,
                             "unshare": 97, "clone": 220, "clone3": 435}),
}
_CLONE_NEWUSER = 0x10000000
_EPERM, _ENOSYS = 1, 38
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_KEYCTL_JOIN_SESSION_KEYRING = 1


def _filter_program(arch: int, nr: dict[str, int]) -> bytes:
    """The classic-BPF seccomp program (struct sock_filter[]) for one architecture."""
    deny, nosys = _RET_ERRNO | _EPERM, _RET_ERRNO | _ENOSYS
    code = [(_LD_ABS, 0, 0, 4),                       # 0: the call's architecture
            (_JEQ, 1, 0, arch),                       # 1: native: go on to 3
            (_RET, 0, 0, nosys),                      # 2: another ABI: nothing works
            (_LD_ABS, 0, 0, 0),                       # 3: the call's number
            (_JGE, 0, 1, 0x40000000),                 # 4: x32 numbers: refused
            (_RET, 0, 0, nosys)]                      # 5
    for name in ("keyctl", "add_key", "request_key"):
        code += [(_JEQ, 0, 1, nr[name]), (_RET, 0, 0, deny)]
    code += [(_JEQ, 0, 1, nr["clone3"]), (_RET, 0, 0, nosys),
             (_JEQ, 1, 0, nr["unshare"]),             # unshare or clone: look at flags
             (_JEQ, 0, 3, nr["clone"]),
             (_LD_ABS, 0, 0, 16),                     # args[0], low 32 bits (little-endian)
             (_JSET, 0, 1, _CLONE_NEWUSER),
             (_RET, 0, 0, deny),
             (_RET, 0, 0, _RET_ALLOW)]
    return b"".join(struct.pack("<HBBI", *ins) for ins in code)


def confine() -> str | None:
    """A session keyring of this process's own (not the one its uid shares), then a
    seccomp filter that refuses the keyring calls and new user namespaces to this process
    and every process it starts. Returns why it could not, or None. Runs before any
    student code; a filter cannot be removed."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    machine = platform.machine()
    if machine not in _SYSCALLS or sys.byteorder != "little":
        return f"no seccomp filter for {machine}"
    arch, nr = _SYSCALLS[machine]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(ctypes.c_long(nr["keyctl"]), ctypes.c_long(_KEYCTL_JOIN_SESSION_KEYRING),
                 ctypes.c_void_p(None))  # fails harmlessly where keyctl is refused already
    program = _filter_program(arch, nr)

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    prog = Prog(len(program) // 8, program)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: needed without privileges
        return f"no_new_privs: {os.strerror(ctypes.get_errno())}"
    if libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # PR_SET_SECCOMP, MODE_FILTER
        return f"seccomp: {os.strerror(ctypes.get_errno())}"
    return None


_NOT_CONFINED = confine()
if _NOT_CONFINED:  # the grader's log (this process's output), never fatal
    print(f"worker: keyring and user-namespace filter not applied: {_NOT_CONFINED}",
          file=sys.stderr, flush=True)

# After confine(): numpy's import may start threads, which a filter would not cover.
import figures  # noqa: E402 - tests/public/figures.py: Figures become plain data
import numpy as np  # noqa: E402
import predictors  # noqa: E402 - tests/public/predictors.py: test predictors from plain data
import served_ex01  # noqa: E402 - the stand-in for Exercise 1 under the course policy
import wire  # noqa: E402

_objects: dict[int, object] = {}


def _keep(value) -> dict:
    key = len(_objects) + 1
    _objects[key] = value
    name = type(value).__name__
    if isinstance(value, np.ndarray):  # only object or string arrays stay behind
        name += f" of dtype {value.dtype}"
    return {"handle": [key, name]}


def _resolve(tag, value):
    if tag == "ref" and value in _objects:
        return _objects[value]
    raise wire.WireError(f"unknown reference {tag}:{value}")


# The runtime's own constructors of test objects from plain data (no student code).
RUNTIME_CALLS = {"predictor": predictors.from_plain}


def _callee(header, arrays):
    """What a call runs when it is not a function of the student's module: one of
    RUNTIME_CALLS, or the object a handle stands for ("target"), or a function that reads
    one of that object's public attributes ("get"), or a function that sets one ("put") to
    its one argument. None for a plain function call."""
    if "runtime" in header:
        if header["runtime"] not in RUNTIME_CALLS:
            raise wire.WireError(f"unknown runtime call {str(header['runtime'])[:40]!r}")
        return RUNTIME_CALLS[header["runtime"]]
    if "target" not in header:
        return None
    (obj,) = wire.decode(header["target"], arrays, _resolve)
    put = header.get("put")
    if put is not None:
        if not isinstance(put, str) or put.startswith("_"):
            raise AttributeError(f"cannot set the attribute {str(put)[:40]!r}")
        return lambda value: setattr(obj, put, value)
    name = header.get("get")
    if name is None:
        return obj
    if not isinstance(name, str) or name.startswith("_"):
        raise AttributeError(f"cannot read the attribute {str(name)[:40]!r}")
    return lambda: getattr(obj, name)


def _leaves(value, path=()):
    """(path, object) for every array, list and dict reachable from `value`."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (list, tuple)):
        if isinstance(value, list):
            yield path, value
        for i, item in enumerate(value):
            yield from _leaves(item, path + (["i", i],))
    elif isinstance(value, dict):
        yield path, value
        for k, item in value.items():
            if type(k) in (str, int, float, bool):
                yield from _leaves(item, path + (["k", k],))


def _snapshot(root):
    snap = []
    for path, obj in _leaves(root):
        if isinstance(obj, np.ndarray):
            snap.append((path, obj, obj.copy()))
        elif isinstance(obj, dict):
            snap.append((path, obj, [(k, id(v)) for k, v in obj.items()]))
        else:
            snap.append((path, obj, [id(v) for v in obj]))
    return snap


def _changed(obj, before) -> bool:
    if isinstance(obj, np.ndarray):
        return obj.shape != before.shape or not np.array_equal(obj, before, equal_nan=True)
    if isinstance(obj, dict):
        return [(k, id(v)) for k, v in obj.items()] != before
    return [id(v) for v in obj] != before


def _student_traceback(exc: BaseException, submission_dir: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(submission_dir)]
    text = "".join(traceback.format_list(frames[-8:]))
    return text.replace(submission_dir + os.sep, "")[-3000:]


def _builtin_base(exc: BaseException) -> str | None:
    """The nearest builtin Exception class of `exc` (ValueError for a student's
    `class ShapeError(ValueError)`), so the grader can raise one that tests catch alike."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins" and issubclass(cls, Exception):
            return cls.__name__
    return None


def _error(exc: BaseException, submission_dir: str) -> dict:
    return {
        "ok": False,
        "etype": type(exc).__name__,
        "builtin": type(exc).__module__ == "builtins",
        "base": _builtin_base(exc),
        "msg": str(exc)[:2000],
        "tb": _student_traceback(exc, submission_dir),
    }


def _returns(value):
    """A function of no arguments that returns `value`."""
    def get():
        return value
    return get


def _call(header, arrays, module, submission_dir):
    args = wire.decode(header["args"], arrays, _resolve)
    kwargs = wire.decode(header["kwargs"], arrays, _resolve)
    root = [list(args), kwargs]
    snap = _snapshot(root)
    func = _callee(header, arrays)
    if func is None:
        func = getattr(module, header["func"], None)
        if isinstance(func, types.ModuleType) and not root[0] and not root[1]:
            # A module the student's file imports (Exercise 4's `torch`), asked for with no
            # arguments: it comes back as a handle, so tests make tensors, optimizers and
            # loaders here, where the student's code runs, and read back plain arrays.
            func = _returns(func)
    if not callable(func):
        raise AttributeError(f"{module.__name__}.py defines no function '{header['func']}'")
    result = func(*root[0], **root[1])
    result = figures.plain(result)
    # Only objects the caller already had can be sent back as references to its own.
    alias = {id(obj): list(path) for path, obj, _ in snap}
    enc = wire.Encoder(keep=_keep, alias=alias)
    out = {"ok": True, "result": enc.encode(result), "mutations": []}
    for path, obj, before in snap:
        if _changed(obj, before):
            # Unchanged parts of a changed container come back as references to the
            # caller's own objects; the changed object itself must be sent as a value.
            enc.alias = {k: p for k, p in alias.items() if k != id(obj)}
            out["mutations"].append([list(path), enc.encode(obj)])
    return out, enc.arrays


def main(argv: list[str]) -> int:
    req_fd, resp_fd = int(argv[1]), int(argv[2])
    submission_dir, module_name = argv[3], argv[4]
    sys.path[:] = [submission_dir] + [p for p in sys.path if "site-packages" in p
                                      or p.startswith(sys.base_prefix)]
    path = os.path.join(submission_dir, module_name + ".py")
    if len(argv) > 6:  # the course serves the reference Exercise 1 (served_ex01.py)
        served_ex01.install(int(argv[5]), int(argv[6]), submission_dir)
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - whatever the import does is the student's
        err = _error(exc, submission_dir)
        if isinstance(exc, SyntaxError):
            err["msg"] = f"SyntaxError at line {exc.lineno}: {exc.msg}"
        wire.write_message(resp_fd, {"load_error": err})
        return 0
    wire.write_message(resp_fd, {"ready": True})
    while True:
        try:
            header, arrays = wire.read_message(req_fd)
        except EOFError:
            return 0
        try:
            reply, out_arrays = _call(header, arrays, module, submission_dir)
        except BaseException as exc:  # noqa: BLE001 - reported to the grader, which judges
            reply, out_arrays = _error(exc, submission_dir), {}
        try:
            message = wire.pack(reply, out_arrays)
        except Exception as exc:  # noqa: BLE001 - e.g. a result too large or not encodable
            message = wire.pack(_error(exc, submission_dir))
        wire.write_bytes(resp_fd, message)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
