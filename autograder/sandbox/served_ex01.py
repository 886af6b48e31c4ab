"""The student process's `ex_01_basic_rnn` when Exercise 1 is served (untrusted side).

Under the course policy EXERCISE1_POLICY = "reference" (autograder/settings.py), the
worker of Exercise 2, 3 or 4 installs this stand-in before the student's file is
imported: `import ex_01_basic_rnn` and `exercise1()` then give a module whose served
functions send their arguments to the reference Exercise 1, which runs in a trusted
process of its own (autograder/sandbox/reference_ex01.py), and return its plain-data
answers. This file holds no reference code, and nothing of the reference reaches it but
those answers. Any other name (not a served function) comes from the student's own
ex_01_basic_rnn.py, imported on first use.

Runs from the worker's private copy, beside wire.py; imports nothing from the project.
"""

from __future__ import annotations

import builtins
import importlib.util
import os
import sys
import threading
import types

import wire

NAME = "ex_01_basic_rnn"
# Served by the reference process (reference_ex01.SERVED; the two lists are checked equal
# by tests/project/test_exercise1_policy.py).
SERVED = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
          "affine_forward", "affine_backward", "softmax_cross_entropy", "clip_grad_norm",
          "init_params", "model_loss", "adam_step", "accuracy",
          "check_shape", "mask_weights", "rel_error", "random_orthogonal", "make_echo_data")


def _only_data(value):
    raise TypeError(f"the reference Exercise 1 (this course's policy for Exercises 2-4) "
                    f"takes plain data: arrays, numbers, lists, dicts, a NumPy Generator; "
                    f"not a {type(value).__name__}")


class ForwardCache:
    """The cache rnn_forward or affine_forward returns here: the cache itself stays in
    the reference process, this names it by an opaque token. Pass it to the matching
    backward function once; it holds no data."""

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    def __repr__(self):
        return "<a forward cache, held by the reference Exercise 1 in another process>"

    def _opaque(self, *_):
        raise TypeError("under this course's policy for Exercises 2-4 a forward cache is "
                        "held by the reference Exercise 1 in another process: pass it to "
                        "the backward function unchanged, do not read it")

    __iter__ = __getitem__ = _opaque


def _keep(value):
    """The Encoder's hook: a ForwardCache crosses as its token, nothing else that is not
    plain data crosses."""
    if isinstance(value, ForwardCache):
        return {"token": value.token}
    return _only_data(value)


def _resolve(tag: str, payload):
    if not isinstance(payload, str):
        raise wire.WireError("malformed cache token")
    return ForwardCache(payload)


class _Channel:
    """The pipe pair to the reference process; one call at a time."""

    def __init__(self, req_fd: int, resp_fd: int):
        self.req, self.resp = req_fd, resp_fd
        self.lock = threading.Lock()

    def call(self, func: str, args: tuple, kwargs: dict):
        enc = wire.Encoder(keep=_keep)
        request = {"func": func, "args": enc.encode(tuple(args)), "kwargs": enc.encode(kwargs)}
        with self.lock:
            wire.write_message(self.req, request, enc.arrays)
            header, arrays = wire.read_message(self.resp)
        if not header.get("ok"):
            base = getattr(builtins, str(header.get("etype")), None)
            if not (isinstance(base, type) and issubclass(base, Exception)):
                base = RuntimeError
            raise base(str(header.get("msg", "")))
        for gen, state in zip(wire.generators([list(args), kwargs]), header.get("rngs", []),
                              strict=False):
            gen.bit_generator.state = state  # drawn from, as in one process
        return wire.Decoder(arrays, _resolve, ("token",)).decode(header["result"])


def _served(channel: _Channel, name: str):
    def call(*args, **kwargs):
        return channel.call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{name} of the reference Exercise 1, run in another process."
    return call


def install(req_fd: int, resp_fd: int, submission_dir: str) -> types.ModuleType:
    """Put the stand-in into sys.modules under the name the student's files import."""
    channel = _Channel(req_fd, resp_fd)
    module = types.ModuleType(NAME, "Exercise 1 as this course grades Exercises 2-4: the "
                                    "reference's functions, run in another process.")
    module.__all__ = list(SERVED)
    for name in SERVED:
        setattr(module, name, _served(channel, name))
    own: list = []

    def own_module():
        if not own:
            path = os.path.join(submission_dir, NAME + ".py")
            if not os.path.isfile(path):
                own.append(None)
            else:
                spec = importlib.util.spec_from_file_location("_own_" + NAME, path)
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                own.append(mod)
        return own[0]

    def __getattr__(name):  # noqa: N807 - PEP 562: names that are not served
        if name.startswith("__"):
            raise AttributeError(name)
        mod = own_module()
        if mod is None or not hasattr(mod, name):
            raise AttributeError(
                f"{NAME} has no {name!r}: this course grades Exercises 2-4 with the reference "
                f"Exercise 1, which serves {', '.join(SERVED[:12])} and the given helpers")
        return getattr(mod, name)

    module.__getattr__ = __getattr__
    sys.modules[NAME] = module
    return module
