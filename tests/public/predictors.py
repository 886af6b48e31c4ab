"""Known one-step predictors, for testing a function that takes a predictor as argument.

`recursive_forecast(predict_one, context, steps)` (Exercise 2) calls `predict_one` on
windows. The tests hand it a `LinearPredictor`: its answer is known exactly, so the test
can work out what a forecast that feeds its own predictions back must return.

When grading, student code runs in another process and functions cannot be sent there.
A `LinearPredictor` is plain data (weights, a bias, an optional squashing), so it crosses
as such and the grader's student process rebuilds it from this same file: the student's
code never receives grader code, and the grader never runs student code.

A `ParamsProbe` is the same idea for arrays a test must change after a function took
them (does `load_numpy_params` copy its `params`?): the probe is rebuilt in the process
that runs the student's code, calls the function there with its own dict of arrays, and
changes those arrays there when the test asks, so the test sees what the student's
program would see, whether it runs in one process or two.

This module imports nothing but NumPy: it also runs inside the grader's student process.
"""

from __future__ import annotations

import sys

import numpy as np

SQUASHES = ("none", "tanh")
MAX_WEIGHTS = 10_000


class LinearPredictor:
    """`window -> scale * squash(sum(weights * window) + bias)` as a Python float.

    `weights` has the shape of the windows it accepts, e.g. `(window,)` or `(window, 1)`;
    a window of another shape raises ValueError. `squash` is "none" or "tanh".
    """

    def __init__(self, weights, bias=0.0, squash="none", scale=1.0):
        self.weights = np.array(weights, dtype=np.float64)
        self.bias = float(bias)
        self.scale = float(scale)
        if squash not in SQUASHES:
            raise ValueError(f"squash must be one of {SQUASHES}, got {squash!r}")
        if self.weights.ndim == 0 or self.weights.size > MAX_WEIGHTS:
            raise ValueError("weights must be an array of at most 10,000 numbers")
        self.squash = squash

    def __call__(self, window) -> float:
        window = np.asarray(window, dtype=np.float64)
        if window.shape != self.weights.shape:
            raise ValueError(f"LinearPredictor: the window has shape {window.shape}, expected "
                             f"{self.weights.shape} (the shape of the context)")
        value = float(np.sum(self.weights * window)) + self.bias
        if self.squash == "tanh":
            value = float(np.tanh(value))
        return self.scale * value

    def __repr__(self):
        return (f"LinearPredictor(weights shape {self.weights.shape}, bias {self.bias:g}, "
                f"squash {self.squash!r}, scale {self.scale:g})")

    def to_plain(self) -> dict:
        """JSON-able data that `from_plain` turns back into an equal predictor."""
        return {"weights": self.weights.tolist(), "shape": list(self.weights.shape),
                "bias": self.bias, "squash": self.squash, "scale": self.scale}


class ParamsProbe:
    """A dict of float64 arrays (`arrays`) that a test hands to a function of the
    student's module, then changes in place, then looks at what the function made.

    `load_into(model)` calls `load_numpy_params(model, arrays)` of the module that
    defines `model`'s class, where that module runs; `shift(key, amount)` adds `amount`
    to `arrays[key]` in place, there too."""

    MAX_KEYS = 16

    def __init__(self, arrays):
        self.arrays = {str(k): np.array(v, dtype=np.float64) for k, v in arrays.items()}

    def load_into(self, model, function="load_numpy_params") -> None:
        module = sys.modules[type(model).__module__]
        getattr(module, function)(model, self.arrays)

    def shift(self, key, amount) -> None:
        self.arrays[key] += float(amount)

    def __repr__(self):
        return f"ParamsProbe({sorted(self.arrays)})"

    def to_plain(self) -> dict:
        """JSON-able data that `from_plain` turns back into an equal probe."""
        return {"probe": {k: {"values": v.ravel().tolist(), "shape": list(v.shape)}
                          for k, v in self.arrays.items()}}


def is_predictor(obj) -> bool:
    """A test object that crosses to the student's process as plain data."""
    return type(obj).__name__ in ("LinearPredictor", "ParamsProbe") and hasattr(obj,
                                                                                "to_plain")


def _probe_from_plain(data) -> ParamsProbe:
    if not isinstance(data, dict) or not 0 < len(data) <= ParamsProbe.MAX_KEYS:
        raise ValueError("bad ParamsProbe arrays")
    arrays = {}
    for key, item in data.items():
        shape = item.get("shape") if isinstance(item, dict) else None
        if not (type(key) is str and isinstance(shape, list) and len(shape) <= 3
                and all(type(n) is int and 0 < n <= MAX_WEIGHTS for n in shape)
                and int(np.prod(shape)) <= MAX_WEIGHTS):
            raise ValueError("bad ParamsProbe array")
        values = np.array(item.get("values"), dtype=np.float64)
        if values.shape != (int(np.prod(shape)),):
            raise ValueError("ParamsProbe values do not match their shape")
        arrays[key] = values.reshape(shape)
    return ParamsProbe(arrays)


def from_plain(data) -> LinearPredictor | ParamsProbe:
    """The predictor or probe `to_plain` described; ValueError for anything else."""
    if isinstance(data, dict) and set(data) == {"probe"}:
        return _probe_from_plain(data["probe"])
    if not isinstance(data, dict) or set(data) != {"weights", "shape", "bias", "squash",
                                                   "scale"}:
        raise ValueError("not a LinearPredictor description")
    shape = data["shape"]
    if not (isinstance(shape, list) and 1 <= len(shape) <= 3
            and all(type(n) is int and 0 < n <= MAX_WEIGHTS for n in shape)):
        raise ValueError("bad LinearPredictor shape")
    weights = np.array(data["weights"], dtype=np.float64)
    if weights.shape != tuple(shape):
        raise ValueError("LinearPredictor weights do not match their shape")
    for key in ("bias", "scale"):
        if type(data[key]) not in (int, float):
            raise ValueError(f"bad LinearPredictor {key}")
    return LinearPredictor(weights, data["bias"], data["squash"], data["scale"])
