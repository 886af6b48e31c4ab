"""The reference Exercise 1, served to the student processes of Exercises 2-4.

Used when the course setting EXERCISE1_POLICY is "reference" (autograder/settings.py):
Exercises 2-4 build on Exercise 1's functions, so one Exercise 1 mistake would otherwise
cost points in all four. With this policy they run on the reference Exercise 1 instead of
the student's, and no reference code ever enters a student process:

* Where the reference runs: a process of its own on the trusted side (`python -m
  autograder.sandbox.reference_ex01`, started by the grading pytest next to each
  Exercise 2-4 worker, as the grader's user, undumpable, with the student's memory and
  CPU limits), never inside the sandbox. It imports `solutions.ex_01_basic_rnn`; the
  student process cannot see it (its own PID namespace in the sandbox; another uid at the
  `user` level) nor read the file.
* What crosses: in the student process `ex_01_basic_rnn` is a stand-in (served_ex01.py,
  in the worker's runtime; it holds no reference code) whose functions send their
  arguments over a pipe pair in the wire format of every other call (wire.py: numbers,
  arrays, lists, dicts, generator states; nothing that runs code when decoded) and get
  back the same kind of plain data: the result, the final state of each generator
  argument (as if the call had drawn from the student's own generator), or an error's
  builtin type and message. Never a function, module, code object, source line or
  traceback of the reference. A forward function's cache (HELD) stays here and crosses
  as a random single-use token (Caches), so backward does not resend the forward's data.
* Only SERVED is served: the functions that Exercises 2-4 may reuse, each pure (no files,
  no callables). Other names of `ex_01_basic_rnn` come from the student's own file.

The trusted tests of Exercises 2-4 that consult Exercise 1 (to say "the cause is in
Exercise 1") get the reference too (`trusted_module`): under this policy it is not.
"""

from __future__ import annotations

import os
import resource
import secrets
import signal
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVED = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
          "affine_forward", "affine_backward", "softmax_cross_entropy", "clip_grad_norm",
          "init_params", "model_loss", "adam_step", "accuracy",
          # given helpers of the skeleton, complete in every student's file too
          "check_shape", "mask_weights", "rel_error", "random_orthogonal", "make_echo_data")
# Later exercises whose workers get the reference Exercise 1 under the policy.
LATER = ("ex02", "ex03", "ex04")
# Forward functions whose result is (output, cache): the cache stays in the reference
# process and the student gets a token for it (Caches), so a forward+backward pair does
# not send the cache (T tuples of arrays) there and back. Not rnn_step_forward: a loop of
# steps over a long text holds thousands of step caches, each with its own copy of the
# weights, which are the student process's to keep (as under `own`).
HELD = ("rnn_forward", "affine_forward")
MAX_CACHES, MAX_CACHE_BYTES = 1024, 256 * 2**20


def trusted_module():
    """The reference Exercise 1 in this (trusted) process, as the tests' `ex01` fixture
    hands it out (a harness.LocalModule)."""
    from solutions import ex_01_basic_rnn
    from tests.public.harness import LocalModule

    return LocalModule(ex_01_basic_rnn)


class Server:
    """One reference process serving one student process through a pipe pair.

    `student_fds` (request write end, answer read end) go to the worker, which passes
    them to served_ex01.install; the caller closes them here once the worker started
    (`close_student_fds`). `stop` kills the server; it also ends by itself when the
    student side closes its end."""

    def __init__(self, memory_mb: int, cpu_s: int):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [_in_repo(sys.executable), "-E", "-s", "-B", "-m",
                 "autograder.sandbox.reference_ex01", str(req_r), str(resp_w)],
                cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(req_r, resp_w), env=_env(),
                preexec_fn=_limits(memory_mb, cpu_s), start_new_session=True)
        except BaseException:
            for fd in (req_w, resp_r):
                os.close(fd)
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.student_fds = (req_w, resp_r)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def close_student_fds(self) -> None:
        for fd in self.student_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.student_fds = ()

    def stop(self) -> None:
        self.close_student_fds()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def _in_repo(path: str) -> str:
    """`path` relative to REPO when inside it: /proc/PID/cmdline is readable by all."""
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(str(REPO) + os.sep) else path


def _env() -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0"}


def _limits(memory_mb: int, cpu_s: int):
    """The server computes what student code asks for: the student's memory and CPU,
    and no files (it writes none)."""
    def apply():
        mem = memory_mb * 2**20
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        soft = mem if hard == resource.RLIM_INFINITY else min(mem, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


# ---------------------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------------------


def _builtin_base(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins" and issubclass(cls, Exception):
            return cls.__name__
    return "RuntimeError"


class UnknownCache(ValueError):
    """A token that names no cache held here: used already, evicted, or never issued."""


class Held:
    """A cache kept in Caches, as the encoder of an answer meets it: sent as its token."""

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token


def _nbytes(value) -> int:
    """Bytes of the arrays in a cache (nested tuples, lists and dicts of arrays), each
    array once: rnn_forward's step caches all hold the same weights."""
    import numpy as np

    total, todo, seen = 0, [value], set()
    while todo:
        v = todo.pop()
        if isinstance(v, np.ndarray):
            if id(v) not in seen:
                seen.add(id(v))
                total += v.nbytes
        elif isinstance(v, (tuple, list)):
            todo.extend(v)
        elif isinstance(v, dict):
            todo.extend(v.values())
    return total


class Caches:
    """Forward caches kept here behind single-use opaque tokens (random, 128 bits).

    `keep` stores a cache and returns its token; `take` gives a token's cache once and
    forgets it. At most `count` caches and `size` bytes are held: the oldest are evicted
    (a forward whose cache is never used, e.g. a predict, costs nothing for long). A
    token that is reused, forged or evicted fails the call that sends it (UnknownCache),
    nothing else."""

    def __init__(self, count: int = MAX_CACHES, size: int = MAX_CACHE_BYTES):
        self.count, self.size = count, size
        self.held: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self.bytes = 0

    def keep(self, cache) -> Held:
        nbytes = _nbytes(cache)
        if nbytes > self.size:
            raise ValueError(f"the forward cache ({nbytes / 2**20:.0f} MB) is over the "
                             f"{self.size // 2**20} MB the reference Exercise 1 keeps")
        while self.held and (len(self.held) >= self.count or self.bytes + nbytes > self.size):
            _, (_, old) = self.held.popitem(last=False)
            self.bytes -= old
        token = secrets.token_hex(16)
        self.held[token] = (cache, nbytes)
        self.bytes += nbytes
        return Held(token)

    def take(self, token) -> object:
        entry = self.held.pop(token, None) if isinstance(token, str) else None
        if entry is None:
            raise UnknownCache(
                f"this cache is not held by the reference Exercise 1 (this course's policy "
                f"for Exercises 2-4): each cache a forward function returns can be passed to "
                f"one backward call, and only the {self.count} most recent are kept; call "
                f"the forward function again")
        self.bytes -= entry[1]
        return entry[0]

    def resolve(self, tag: str, payload) -> object:
        """wire.Decoder's hook for the tag "token"."""
        return self.take(payload)


def _encode_held(value):
    if isinstance(value, Held):
        return {"token": value.token}
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def answer(module, header: dict, arrays: dict, wire,
           caches: Caches | None = None) -> tuple[dict, dict]:
    """One call of a SERVED function on plain data: (reply header, its arrays). With
    `caches`, the cache of a HELD function's result stays there and a token goes back."""
    func = header.get("func")
    if not isinstance(func, str) or func not in SERVED:
        return {"ok": False, "etype": "AttributeError",
                "msg": f"the reference Exercise 1 serves no function {str(func)[:40]!r}"}, {}
    try:
        decoder = wire.Decoder(arrays, caches.resolve if caches else None,
                               ("token",) if caches else ())
        args, kwargs = decoder.decode(header.get("args")), decoder.decode(header.get("kwargs"))
        if not isinstance(args, tuple) or not isinstance(kwargs, dict) or \
                not all(isinstance(k, str) for k in kwargs):
            raise wire.WireError("malformed arguments")
    except UnknownCache as exc:
        return {"ok": False, "etype": "ValueError", "msg": f"{func}: {exc}"}, {}
    except (wire.WireError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return {"ok": False, "etype": "TypeError",
                "msg": f"{func}: arguments not readable ({str(exc)[:200]})"}, {}
    gens = wire.generators([args, kwargs])
    try:
        result = getattr(module, func)(*args, **kwargs)
        if caches is not None and func in HELD and isinstance(result, tuple) \
                and len(result) == 2:
            result = (result[0], caches.keep(result[1]))
    except Exception as exc:  # noqa: BLE001 - the student's arguments' fault: say what, not where
        return {"ok": False, "etype": _builtin_base(exc), "msg": str(exc)[:2000]}, {}
    enc = wire.Encoder(keep=_encode_held)
    try:
        tree = enc.encode(result)
    except (wire.WireError, TypeError) as exc:
        return {"ok": False, "etype": "ValueError", "msg": f"{func}: {exc}"}, {}
    return {"ok": True, "result": tree,
            "rngs": [g.bit_generator.state for g in gens]}, enc.arrays


def serve(req_fd: int, resp_fd: int) -> int:
    """Answer calls until the student side closes its end."""
    from autograder.sandbox import isolation, wire

    isolation.make_undumpable()  # same-uid student code: no ptrace, no /proc/PID/mem
    from solutions import ex_01_basic_rnn as module

    caches = Caches()
    while True:
        try:
            header, arrays = wire.read_message(req_fd)
        except EOFError:
            return 0
        except (wire.WireError, ValueError, OSError):
            return 1  # a malformed stream: nothing more can be read from it
        try:
            reply, out = answer(module, header, arrays, wire, caches)
            message = wire.pack(reply, out)
        except Exception as exc:  # noqa: BLE001 - e.g. a result over the size limit
            message = wire.pack({"ok": False, "etype": "ValueError",
                                 "msg": f"the reference's answer could not be sent: "
                                        f"{str(exc)[:200]}"})
        try:
            wire.write_bytes(resp_fd, message)
        except OSError:
            return 0


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), int(sys.argv[2])))
