"""Known one-step predictors, for testing a function that takes a predictor as argument.

`recursive_forecast(predict_one, context, steps)` (Exercise 2) calls `predict_one` on
windows. The tests hand it a `LinearPredictor`: its answer is known exactly, so the test
can work out what a forecast that feeds its own predictions back must return.

When grading, student code runs in another process and functions cannot be sent there.
A `LinearPredictor` is plain data (weights, a bias, an optional squashing), so it crosses
as such and the grader's student process rebuilds it from this same file: the student's
code never receives grader code, and the grader never runs student code.

This module imports nothing but NumPy: it also runs inside the grader's student process.
"""

from __future__ import annotations

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


def is_predictor(obj) -> bool:
    return type(obj).__name__ == "LinearPredictor" and hasattr(obj, "to_plain")


def from_plain(data) -> LinearPredictor:
    """The predictor `to_plain` described; ValueError for anything else."""
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
