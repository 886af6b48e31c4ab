"""Public tests for Exercise 1: a NumPy RNN trained with backpropagation through time.

Each test's docstring starts with the name shown in the points table. Gradients are
checked against centered differences of this file's own NumPy forward formulas, so a
test tells you which output is wrong even when your forward pass is wrong too.

Rerun one test with details:  make check T='tests/public/test_ex01_basic_rnn.py::NAME'
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.public.harness import (
    assert_close,
    assert_grad,
    assert_png,
    check_array,
    numerical_gradient,
)

KEYS = ("Wx", "Wh", "b", "Wy", "by")

# Distinct, non-square sizes: a missing transpose cannot hide behind a square matrix.
N, T, D, H, V = 2, 10, 3, 5, 4


# ---------------------------------------------------------------------------------------
# This file's own NumPy model (the expected values)
# ---------------------------------------------------------------------------------------


def _step(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh + b)


def _forward(x, h0, Wx, Wh, b):
    h = np.zeros(x.shape[:2] + (Wh.shape[0],))
    prev = h0
    for t in range(x.shape[1]):
        prev = _step(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
    return h


def _log_softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _ce(scores, y, mask=None):
    """Mean cross-entropy over the unmasked positions."""
    w = np.ones(y.shape) if mask is None else np.asarray(mask, dtype=np.float64)
    picked = np.take_along_axis(_log_softmax(scores), y[..., None], axis=-1)[..., 0]
    return -np.sum(w * picked) / np.sum(w)


def _ce_grad(scores, y, mask=None):
    w = np.ones(y.shape) if mask is None else np.asarray(mask, dtype=np.float64)
    p = np.exp(_log_softmax(scores))
    p[np.arange(y.shape[0])[:, None], np.arange(y.shape[1])[None, :], y] -= 1.0
    return p * (w / w.sum())[..., None]


def _model_loss(params, x, y, h0=None, mask=None):
    if h0 is None:
        h0 = np.zeros((x.shape[0], params["Wh"].shape[0]))
    h = _forward(x, h0, params["Wx"], params["Wh"], params["b"])
    return _ce(h @ params["Wy"] + params["by"], y, mask)


def _bptt_steps(x, h0, Wx, Wh, b, dh, carry=True):
    """Analytic BPTT with per-step weight contributions (used only to name likely bugs)."""
    h = _forward(x, h0, Wx, Wh, b)
    n_steps = x.shape[1]
    dx = np.zeros_like(x)
    steps = []
    dnext = np.zeros_like(h0)
    for t in reversed(range(n_steps)):
        prev = h0 if t == 0 else h[:, t - 1]
        dz = (dh[:, t] + (dnext if carry else 0.0)) * (1 - h[:, t] ** 2)
        dx[:, t] = dz @ Wx.T
        dnext = dz @ Wh.T
        steps.append({"dWx": x[:, t].T @ dz, "dWh": prev.T @ dz, "db": dz.sum(axis=0)})
    steps.reverse()
    totals = {k: sum(s[k] for s in steps) for k in ("dWx", "dWh", "db")}
    return dx, dnext, totals, steps


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _rng(seed):
    return np.random.default_rng(seed)


def _unpack(result, names, fn):
    """A function that returns several things must return a tuple of that length."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = (f"a {type(result).__name__} of length {len(result)}"
               if isinstance(result, (tuple, list)) else type(result).__name__)
        raise AssertionError(f"{fn} must return a tuple ({', '.join(names)}); got {got}.")
    return tuple(result)


def _scalar(value, what) -> float:
    """A loss or norm: a Python/NumPy float (or 0-d array), finite."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
        value = value.reshape(())[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise AssertionError(f"{what}: expected a float, got {type(value).__name__}. "
                             "Return float(...) of the scalar.")
    value = float(value)
    if not np.isfinite(value):
        raise AssertionError(f"{what}: got {value}; it must be finite.")
    return value


def _close_scalar(got, expected, *, what, hint="", atol=1e-10, rtol=1e-8):
    """Compare a scalar result (loss, norm) after checking it is a finite float."""
    value = _scalar(got, what)
    assert_close(np.asarray(value), np.asarray(float(expected)), what=what, atol=atol, rtol=rtol,
                 hint=hint)
    return value


def _same(a, b, tol=1e-10):
    return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol)


def _report(fn, failures, hint):
    """One message: the hint first (the points table shows the first line), then details."""
    names = ", ".join(name for name, _ in failures)
    details = "\n".join(f"  - {msg}" for _, msg in failures)
    raise AssertionError(f"{fn}: wrong {names}. {hint}\n{details}")


def _grad_failures(fn, pairs, tol):
    failures = []
    for name, got, numeric in pairs:
        try:
            assert_grad(got, numeric, what=f"{fn} {name}", tol=tol)
        except AssertionError as exc:
            failures.append((name, str(exc)))
    return failures


def _step_params(rng, n=N, d=D, hh=H):
    return (rng.standard_normal((n, d)), 0.6 * rng.standard_normal((n, hh)),
            0.5 * rng.standard_normal((d, hh)), 0.4 * rng.standard_normal((hh, hh)),
            0.1 * rng.standard_normal(hh))


def _seq_params(rng, n=N, t=T, d=D, hh=H):
    return (rng.standard_normal((n, t, d)), 0.6 * rng.standard_normal((n, hh)),
            0.5 * rng.standard_normal((d, hh)), 0.4 * rng.standard_normal((hh, hh)),
            0.1 * rng.standard_normal(hh))


def _model_params(rng, d=D, hh=H, v=V):
    return {"Wx": 0.6 * rng.standard_normal((d, hh)), "Wh": 0.4 * rng.standard_normal((hh, hh)),
            "b": 0.1 * rng.standard_normal(hh), "Wy": 0.6 * rng.standard_normal((hh, v)),
            "by": 0.1 * rng.standard_normal(v)}


def _copies(arrays):
    return [np.array(a, copy=True) for a in arrays]


def _numeric_rnn_grads(forward, args, upstream):
    """Centered differences of sum(forward(*args) * upstream) for every argument."""
    grads = []
    for i in range(len(args)):
        def f(a, i=i):
            return forward(*(args[:i] + [a] + args[i + 1:]))
        grads.append(numerical_gradient(f, args[i], upstream))
    return grads


# ---------------------------------------------------------------------------------------
# Part 1: one step
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_step_forward_values(ex01):
    """rnn_step_forward: values match tanh(x Wx + h_prev Wh + b)"""
    args = _step_params(_rng(101))
    out = _unpack(ex01.rnn_step_forward(*_copies(args)), ("h_next", "cache"), "rnn_step_forward")
    assert_close(out[0], _step(*args), what="rnn_step_forward h_next", atol=1e-10, rtol=1e-8,
                 hint="h_next = tanh(x @ Wx + h_prev @ Wh + b): row vectors, weights on the right.")


@pytest.mark.points(0.5)
def test_ex01_step_forward_terms(ex01):
    """rnn_step_forward: the x term and the h_prev term, each on its own"""
    x, h_prev, Wx, Wh, b = _step_params(_rng(102))
    zero_wh = np.zeros_like(Wh)
    h_next = ex01.rnn_step_forward(x.copy(), h_prev.copy(), Wx.copy(), zero_wh.copy(),
                                   b.copy())[0]
    assert_close(h_next, np.tanh(x @ Wx + b), what="rnn_step_forward h_next with Wh = 0",
                 atol=1e-10, rtol=1e-8,
                 hint="x term wrong (only x @ Wx + b is left when Wh = 0): check x @ Wx and b.")
    zx, zwx = np.zeros_like(x), np.zeros_like(Wx)
    h_next = ex01.rnn_step_forward(zx.copy(), h_prev.copy(), zwx.copy(), Wh.copy(), b.copy())[0]
    assert_close(h_next, np.tanh(h_prev @ Wh + b),
                 what="rnn_step_forward h_next with x = 0 and Wx = 0", atol=1e-10, rtol=1e-8,
                 hint="h_prev term wrong: use h_prev @ Wh (not Wh.T, not h_prev * Wh).")


@pytest.mark.points(1.5)
def test_ex01_step_backward_gradients(ex01):
    """rnn_step_backward: every gradient matches centered differences"""
    rng = _rng(103)
    args = list(_step_params(rng))
    dh_next = rng.standard_normal((N, H))
    _, cache = _unpack(ex01.rnn_step_forward(*_copies(args)), ("h_next", "cache"),
                       "rnn_step_forward")
    got = _unpack(ex01.rnn_step_backward(dh_next.copy(), cache),
                  ("dx", "dh_prev", "dWx", "dWh", "db"), "rnn_step_backward")
    numeric = _numeric_rnn_grads(_step, args, dh_next)
    names = ("dx", "dh_prev", "dWx", "dWh", "db")
    failures = _grad_failures("rnn_step_backward", zip(names, got, numeric, strict=True), tol=1e-7)
    if not failures:
        return
    wrong = {name for name, _ in failures}
    x, h_prev, Wx, Wh, b = args
    h_next = _step(*args)
    if not _forward_ok(ex01, step_only=True):
        hint = ("rnn_step_forward is wrong (see its tests): fix it first, the backward pass "
                "uses what it cached.")
    elif isinstance(got[3], np.ndarray) and _same(got[3], h_next.T @ (dh_next * (1 - h_next**2))):
        hint = "dWh uses h_next: it must use h_prev (h_{t-1}), the state that was multiplied by Wh."
    elif isinstance(got[0], np.ndarray) and _same(got[0], dh_next @ Wx.T):
        hint = "dx wrong: did you forget the tanh derivative 1 - h_next**2?"
    elif len(wrong) == 1:
        only = next(iter(wrong))
        hint = {
            "dx": "only dx is wrong: bring the gradient at the tanh input back through Wx's "
                  "transpose.",
            "dh_prev": "only dh_prev is wrong: bring the gradient at the tanh input back through "
                       "Wh's transpose.",
            "dWx": "only dWx is wrong: it pairs x (transposed) with the gradient at the tanh "
                   "input.",
            "dWh": "only dWh is wrong: use h_prev (h_{t-1}), not h_next, in dWh.",
            "db": "only db is wrong: sum the gradient at the tanh input over the batch (axis 0).",
        }[only]
    elif len(wrong) == len(names):
        hint = ("every gradient is wrong: start from dz = dh_next * (1 - h_next**2), the "
                "gradient at the tanh input (tanh' = 1 - tanh**2).")
    else:
        hint = "start from dz = dh_next * (1 - h_next**2) and follow each product back."
    _report("rnn_step_backward", failures, hint)


# ---------------------------------------------------------------------------------------
# Part 2: a sequence
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_rnn_forward_values(ex01):
    """rnn_forward: values match running the step T times"""
    args = _seq_params(_rng(104))
    h, _ = _unpack(ex01.rnn_forward(*_copies(args)), ("h", "cache"), "rnn_forward")
    check_array(h, (N, T, H), what="rnn_forward h")
    expected = _forward(*args)
    first_ok = np.allclose(h[:, 0], expected[:, 0], atol=1e-10, rtol=1e-8)
    hint = ("h[:, 0] is right but later steps are not: feed each new state into the next step."
            if first_ok else
            "h[:, t] must be the state after reading x[:, t]; h holds h_1..h_T, not h0.")
    assert_close(h, expected, what="rnn_forward h", atol=1e-10, rtol=1e-8, hint=hint)


@pytest.mark.points(0.5)
def test_ex01_rnn_forward_uses_h0(ex01):
    """rnn_forward: the initial state h0 is used"""
    x, h0, Wx, Wh, b = _seq_params(_rng(105))
    h = ex01.rnn_forward(x.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())[0]
    check_array(h, (N, T, H), what="rnn_forward h")
    if np.allclose(h[:, 0], _step(x[:, 0], np.zeros_like(h0), Wx, Wh, b), atol=1e-10):
        raise AssertionError("rnn_forward h[:, 0]: equals the result for h0 = 0, but h0 is not "
                             "zero. Start the recurrence from the h0 argument.")
    assert_close(h[:, 0], _step(x[:, 0], h0, Wx, Wh, b), what="rnn_forward h[:, 0] (h_1)",
                 atol=1e-10, rtol=1e-8, hint="h_1 = tanh(x_1 @ Wx + h0 @ Wh + b).")


def _rnn_backward_case(ex01, seed, dh_builder, n_steps, tol):
    rng = _rng(seed)
    args = list(_seq_params(rng, t=n_steps))
    dh = dh_builder(rng, n_steps)
    _, cache = _unpack(ex01.rnn_forward(*_copies(args)), ("h", "cache"), "rnn_forward")
    got = _unpack(ex01.rnn_backward(dh.copy(), cache), ("dx", "dh0", "dWx", "dWh", "db"),
                  "rnn_backward")
    numeric = _numeric_rnn_grads(_forward, args, dh)
    names = ("dx", "dh0", "dWx", "dWh", "db")
    failures = _grad_failures("rnn_backward", zip(names, got, numeric, strict=True), tol=tol)
    return args, dh, got, numeric, failures


def _step_backward_ok(ex01) -> bool:
    """Does the student's step backward agree with this file's formulas on a small case?"""
    rng = _rng(99)
    x, h_prev, Wx, Wh, b = _step_params(rng)
    dh_next = rng.standard_normal((N, H))
    h_next = _step(x, h_prev, Wx, Wh, b)
    dz = dh_next * (1 - h_next**2)
    want = (dz @ Wx.T, dz @ Wh.T, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0))
    try:
        cache = ex01.rnn_step_forward(*_copies([x, h_prev, Wx, Wh, b]))[1]
        got = ex01.rnn_step_backward(dh_next.copy(), cache)
        pairs = zip(got, want, strict=True)
        return all(isinstance(g, np.ndarray) and _same(g, w, 1e-8) for g, w in pairs)
    except Exception:  # noqa: BLE001 - any failure there means "fix the step first"
        return False


def _forward_ok(ex01, step_only=False) -> bool:
    """Does the student's forward pass (one step, or the sequence) give this file's values?"""
    rng = _rng(98)
    try:
        if step_only:
            args = _step_params(rng)
            return _same(ex01.rnn_step_forward(*_copies(args))[0], _step(*args), 1e-8)
        args = _seq_params(rng, t=4)
        return _same(ex01.rnn_forward(*_copies(args))[0], _forward(*args), 1e-8)
    except Exception:  # noqa: BLE001 - any failure there means "fix the forward pass first"
        return False


def _prerequisite_hint(ex01) -> str:
    """'' when the pieces rnn_backward builds on are right, else which one to fix first."""
    if not _forward_ok(ex01):
        return ("rnn_forward is wrong (see its tests): fix it first, the backward pass uses "
                "its cache.")
    if not _step_backward_ok(ex01):
        return ("rnn_step_backward is wrong (see its test): fix it first, rnn_backward is "
                "built on it.")
    return ""


def _diagnose_rnn_backward(ex01, args, dh, got, numeric, failures) -> str:
    """Name the most likely bug behind a failing rnn_backward."""
    wrong = {name for name, _ in failures}
    arrays = all(isinstance(g, np.ndarray) for g in got)
    dx_no_carry = _bptt_steps(*args, dh, carry=False)[0]
    _, _, totals, steps = _bptt_steps(*args, dh)
    first = _prerequisite_hint(ex01)
    if first:
        return first
    if arrays and got[0].shape == dx_no_carry.shape and _same(got[0], dx_no_carry) \
            and not _same(numeric[0], dx_no_carry, 1e-6):
        return ("no gradient arrives through the recurrent path: the total gradient on h_t "
                "is dh[:, t] PLUS the dh_prev sent back by step t+1; carry it to every "
                "earlier step (dh_next is not optional).")
    if arrays:
        for i, name in ((2, "dWx"), (3, "dWh"), (4, "db")):
            for t in (0, len(steps) - 1):
                if got[i].shape == steps[t][name].shape and _same(got[i], steps[t][name], 1e-9) \
                        and not _same(totals[name], steps[t][name], 1e-6):
                    return (f"{name} holds one step's contribution only: the weights are "
                            "shared by all steps, so add (+=) every step's gradient.")
    if "dh0" in wrong and arrays and np.allclose(got[1], 0.0):
        return "dh0 is zero: carry dh_prev back through every step and return it as dh0."
    if wrong == {"dh0"}:
        return "only dh0 is wrong: it is the dh_prev that the first step (t = 0) sends back."
    if wrong == {"dWh"}:
        return ("only dWh is wrong: each step pairs its gradient with h_{t-1}, the state that "
                "entered it (h0 at the first step).")
    return ("walk t = T-1..0: total gradient on h_t = dh[:, t] + dh_prev from step t+1; call "
            "the step backward with it; add up the weight gradients.")


def _all_steps(rng, n_steps):
    return rng.standard_normal((N, n_steps, H))


def _last_step_only(rng, n_steps):
    dh = np.zeros((N, n_steps, H))
    dh[:, -1] = rng.standard_normal((N, H))
    return dh


@pytest.mark.points(1.5)
def test_ex01_rnn_backward_gradients(ex01):
    """rnn_backward: every gradient (dx, dh0, dWx, dWh, db) matches centered differences"""
    args, dh, got, numeric, failures = _rnn_backward_case(ex01, 106, _all_steps, T, 1e-6)
    if not failures:
        return
    hint = _diagnose_rnn_backward(ex01, args, dh, got, numeric, failures)
    _report("rnn_backward", failures, hint)


@pytest.mark.points(1)
def test_ex01_rnn_backward_last_step_only(ex01):
    """rnn_backward: a gradient on the last state alone reaches every earlier step and h0"""
    n_steps = 6
    args, dh, got, numeric, failures = _rnn_backward_case(ex01, 107, _last_step_only, n_steps,
                                                           1e-5)
    if not failures:
        return
    hint = _diagnose_rnn_backward(ex01, args, dh, got, numeric, failures)
    _report("rnn_backward", failures, hint)


@pytest.mark.points(0.5)
def test_ex01_rnn_backward_accumulates(ex01):
    """rnn_backward: weight gradients add up over all time steps (+=, not =)"""
    n_steps = 4
    rng = _rng(108)
    x, h0, Wx, _, b = _seq_params(rng, t=n_steps)
    Wh = np.zeros((H, H))  # no recurrence: each step's contribution stands alone
    dh = rng.standard_normal((N, n_steps, H))
    _, cache = ex01.rnn_forward(x.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())
    got = _unpack(ex01.rnn_backward(dh.copy(), cache), ("dx", "dh0", "dWx", "dWh", "db"),
                  "rnn_backward")
    _, _, totals, steps = _bptt_steps(x, h0, Wx, Wh, b, dh)
    first = _prerequisite_hint(ex01)
    first = " " + first if first else ""
    for i, name in ((2, "dWx"), (3, "dWh"), (4, "db")):
        value = got[i]
        check_array(value, totals[name].shape, what=f"rnn_backward {name}")
        for t, step in enumerate(steps):
            if _same(value, step[name], 1e-9) and not _same(totals[name], step[name], 1e-6):
                raise AssertionError(
                    f"rnn_backward {name}: equals the contribution of step {t} alone. The "
                    f"weights are shared by all {n_steps} steps: add (+=) every step's gradient "
                    "instead of overwriting it (=).")
        assert_close(value, totals[name], what=f"rnn_backward {name} (Wh = 0)", atol=1e-9,
                     rtol=1e-7, hint="with Wh = 0 the steps are independent: the weight "
                     "gradient is the sum of the per-step gradients." + first)


# ---------------------------------------------------------------------------------------
# Part 3: output layer and loss
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_affine_forward_values(ex01):
    """affine_forward: scores = h Wy + by at every time step"""
    rng = _rng(109)
    h, Wy, by = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    scores, _ = _unpack(ex01.affine_forward(h.copy(), Wy.copy(), by.copy()),
                        ("scores", "cache"), "affine_forward")
    assert_close(scores, h @ Wy + by, what="affine_forward scores", atol=1e-10, rtol=1e-8,
                 hint="scores[n, t] = h[n, t] @ Wy + by for every n and t.")


@pytest.mark.points(0.5)
def test_ex01_affine_backward_gradients(ex01):
    """affine_backward: dh, dWy and dby match centered differences"""
    rng = _rng(110)
    h, Wy, by = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    dscores = rng.standard_normal((N, T, V))
    _, cache = ex01.affine_forward(h.copy(), Wy.copy(), by.copy())
    got = _unpack(ex01.affine_backward(dscores.copy(), cache), ("dh", "dWy", "dby"),
                  "affine_backward")

    def fwd(a, w, c):
        return a @ w + c

    numeric = _numeric_rnn_grads(fwd, [h, Wy, by], dscores)
    names = ("dh", "dWy", "dby")
    failures = _grad_failures("affine_backward", zip(names, got, numeric, strict=True), 1e-6)
    if failures:
        _report("affine_backward", failures,
                "Wy and by serve every (n, t): dWy and dby sum over both the batch and the "
                "time axes (reshape to (N*T, H) and (N*T, V)).")


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_value(ex01):
    """softmax_cross_entropy: loss is the mean negative log-probability of the targets"""
    rng = _rng(111)
    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    loss, _ = _unpack(ex01.softmax_cross_entropy(scores.copy(), y.copy()), ("loss", "dscores"),
                      "softmax_cross_entropy")
    loss = _scalar(loss, "softmax_cross_entropy loss")
    expected = _ce(scores, y)
    if np.isclose(loss, expected * N * T, rtol=1e-6):
        raise AssertionError("softmax_cross_entropy loss: you return the sum over positions; "
                             f"return the mean (divide by N*T = {N * T}).")
    if np.isclose(loss, expected * T, rtol=1e-6):
        raise AssertionError("softmax_cross_entropy loss: divided by N only; the mean is over "
                             "all N*T positions.")
    _close_scalar(loss, expected, what="softmax_cross_entropy loss",
                  hint="loss = -mean over (n, t) of log softmax(scores[n, t])[y[n, t]].")


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_gradient(ex01):
    """softmax_cross_entropy: dscores matches centered differences"""
    rng = _rng(112)
    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    _, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy())
    numeric = numerical_gradient(lambda s: _ce(s, y), scores, 1.0)
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores")
    if _same(dscores, numeric * N * T, 1e-6):
        raise AssertionError("softmax_cross_entropy dscores: N*T times too large. The loss is "
                             "a mean, so its gradient is (p - onehot(y)) / (N*T).")
    assert_grad(dscores, numeric, what="softmax_cross_entropy dscores", tol=1e-6,
                hint="dscores = (softmax(scores) - onehot(y)) / (N*T).")


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_stable(ex01):
    """softmax_cross_entropy: finite and correct for logits around +-1e4"""
    rng = _rng(113)
    y = rng.integers(0, V, (N, T))
    cases = {
        "scores of size 1e4": 1e4 * rng.standard_normal((N, T, V)),
        "scores all near +1e4": 1e4 + rng.standard_normal((N, T, V)),
        "scores all near -1e4": -1e4 + rng.standard_normal((N, T, V)),
    }
    hint = ("exp overflows (or log(0) appears) at large logits: subtract the row maximum "
            "before exp and compute log-probabilities as shifted - log(sum(exp(shifted))).")
    ordinary = rng.standard_normal((N, T, V))
    try:
        loss, dscores = ex01.softmax_cross_entropy(ordinary.copy(), y.copy())
        ordinary_ok = (np.isclose(float(loss), _ce(ordinary, y), rtol=1e-8)
                       and _same(np.asarray(dscores), _ce_grad(ordinary, y), 1e-8))
    except (TypeError, ValueError):
        ordinary_ok = False
    if not ordinary_ok:
        hint = ("the result is wrong already for ordinary scores: make the other "
                "softmax_cross_entropy tests pass first.")
    for label, scores in cases.items():
        with np.errstate(all="ignore"):
            loss, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy())
        try:
            loss = _scalar(loss, f"softmax_cross_entropy loss ({label})")
        except AssertionError as exc:
            raise AssertionError(f"{exc} {hint}") from None
        _close_scalar(loss, _ce(scores, y), what=f"softmax_cross_entropy loss ({label})",
                      atol=1e-8, rtol=1e-8, hint=hint)
        assert_close(dscores, _ce_grad(scores, y), what=f"softmax_cross_entropy dscores ({label})",
                     atol=1e-10, rtol=1e-6, hint=hint)


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_mask(ex01):
    """softmax_cross_entropy: masked positions add nothing to the loss or the gradient"""
    rng = _rng(114)
    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = np.ones((N, T))
    mask[:, :3] = 0.0
    mask[1, 7] = 0.0
    loss, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy(), mask.copy())
    loss = _scalar(loss, "softmax_cross_entropy loss with a mask")
    expected = _ce(scores, y, mask)
    if np.isclose(loss, expected * mask.sum() / mask.size, rtol=1e-7):
        raise AssertionError("softmax_cross_entropy loss with a mask: divided by N*T; the mean "
                             "is over the unmasked positions only (divide by sum(mask)).")
    _close_scalar(loss, expected, what="softmax_cross_entropy loss with a mask",
                  hint="loss = -sum(mask * log p[target]) / sum(mask).")
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores with a mask")
    masked = mask == 0
    if not np.all(dscores[masked] == 0):
        raise AssertionError("softmax_cross_entropy dscores with a mask: nonzero gradient at "
                             "masked positions; multiply by the mask.")
    numeric = numerical_gradient(lambda s: _ce(s, y, mask), scores, 1.0)
    assert_grad(dscores, numeric, what="softmax_cross_entropy dscores with a mask", tol=1e-6,
                hint="dscores = mask * (p - onehot(y)) / sum(mask).")


# ---------------------------------------------------------------------------------------
# Part 4: clipping, parameters, the model, Adam
# ---------------------------------------------------------------------------------------


def _grads_for_clipping(rng, scale):
    return {k: scale * rng.standard_normal(s) for k, s in
            (("Wx", (D, H)), ("Wh", (H, H)), ("b", (H,)), ("Wy", (H, V)), ("by", (V,)))}


@pytest.mark.points(0.5)
def test_ex01_clip_global_norm(ex01):
    """clip_grad_norm: scales all arrays together to the global norm; returns the norm before"""
    grads = _grads_for_clipping(_rng(115), 1.0)
    per_array = {k: np.linalg.norm(g) for k, g in grads.items()}
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    max_norm = 0.5 * (total + max(per_array.values()))  # every array alone is below it
    clipped, total_norm = _unpack(ex01.clip_grad_norm({k: g.copy() for k, g in grads.items()},
                                                      max_norm), ("clipped", "total_norm"),
                                  "clip_grad_norm")
    total_norm = _scalar(total_norm, "clip_grad_norm total_norm")
    if not isinstance(clipped, dict) or set(clipped) != set(grads):
        raise AssertionError(f"clip_grad_norm clipped: expected a dict with keys {sorted(grads)}, "
                             f"got {type(clipped).__name__}.")
    if np.isclose(total_norm, max_norm, rtol=1e-6):
        raise AssertionError("clip_grad_norm total_norm: equals max_norm; return the norm "
                             "measured before clipping.")
    _close_scalar(total_norm, total, what="clip_grad_norm total_norm",
                  hint="total_norm = sqrt(sum over all arrays of sum(g**2)): one norm for the "
                      "whole dict.")
    unchanged = [k for k in grads
                 if isinstance(clipped[k], np.ndarray) and _same(clipped[k], grads[k], 1e-12)]
    if len(unchanged) == len(grads):
        raise AssertionError("clip_grad_norm clipped: nothing was scaled, but the global norm "
                             f"{total:.4g} is above max_norm {max_norm:.4g} (each array alone is "
                             "below it: clip the global norm, not each array's).")
    for k in KEYS:
        assert_close(clipped[k], grads[k] * (max_norm / total), what=f"clip_grad_norm "
                     f"clipped[{k!r}]", atol=1e-12, rtol=1e-5,
                     hint="multiply every array by the same factor max_norm / total_norm "
                          "(not per array, not np.clip per element).")


@pytest.mark.points(0.5)
def test_ex01_clip_small_and_errors(ex01):
    """clip_grad_norm: small gradients come back unchanged in new arrays; max_norm <= 0 fails"""
    grads = _grads_for_clipping(_rng(116), 0.01)
    kept = {k: g.copy() for k, g in grads.items()}
    clipped, total_norm = _unpack(ex01.clip_grad_norm(grads, 5.0), ("clipped", "total_norm"),
                                  "clip_grad_norm")
    _close_scalar(total_norm, np.sqrt(sum(np.sum(g**2) for g in kept.values())),
                  what="clip_grad_norm total_norm", atol=1e-12, rtol=1e-8)
    if not isinstance(clipped, dict) or set(clipped) != set(kept):
        raise AssertionError(f"clip_grad_norm clipped: expected a dict with keys {sorted(kept)}.")
    for k in KEYS:
        if clipped[k] is grads[k] or (isinstance(clipped[k], np.ndarray)
                                      and np.shares_memory(clipped[k], grads[k])):
            raise AssertionError(f"clip_grad_norm clipped[{k!r}] is the input array itself: "
                                 "return new arrays (e.g. g.copy() or g * scale).")
        assert_close(clipped[k], kept[k], what=f"clip_grad_norm clipped[{k!r}] (norm below "
                     "max_norm)", atol=0, rtol=1e-12,
                     hint="scale only when total_norm > max_norm.")
        assert_close(grads[k], kept[k], what=f"clip_grad_norm changed its input grads[{k!r}]",
                     atol=0, rtol=0, hint="never modify the arguments.")
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError):
            ex01.clip_grad_norm({k: g.copy() for k, g in kept.items()}, bad)


@pytest.mark.points(0.5)
def test_ex01_init_params(ex01):
    """init_params: shapes, float64, sensible scale, reproducible from the rng"""
    d, hh, v = 7, 6, 5
    params = ex01.init_params(d, hh, v, _rng(117))
    if not isinstance(params, dict) or not set(KEYS) <= set(params):
        raise AssertionError(f"init_params: expected a dict with keys {list(KEYS)}, got "
                             f"{sorted(params) if isinstance(params, dict) else type(params)}.")
    shapes = {"Wx": (d, hh), "Wh": (hh, hh), "b": (hh,), "Wy": (hh, v), "by": (v,)}
    for k, shape in shapes.items():
        check_array(params[k], shape, what=f"init_params {k}")
    for k in ("Wx", "Wh", "Wy"):
        std = float(np.std(params[k]))
        if not 1e-3 < std < 2.0:
            raise AssertionError(f"init_params {k}: standard deviation {std:.3g}; use random "
                                 "values of size about 1/sqrt(fan_in) (all-zero weights never "
                                 "learn, large ones saturate tanh).")
    again = ex01.init_params(d, hh, v, _rng(117))
    for k in KEYS:
        assert_close(again[k], params[k], what=f"init_params {k} (same seed again)", atol=0,
                     rtol=0, hint="draw every random number from the rng argument "
                     "(never np.random.* or a new default_rng).")
    other = ex01.init_params(d, hh, v, _rng(118))
    if np.array_equal(other["Wx"], params["Wx"]):
        raise AssertionError("init_params Wx: identical for two different rng seeds; draw from "
                             "the rng argument.")


def _model_case(seed, n=N, t=4):
    rng = _rng(seed)
    params = _model_params(rng)
    x = rng.standard_normal((n, t, D))
    y = rng.integers(0, V, (n, t))
    h0 = 0.5 * rng.standard_normal((n, H))
    return params, x, y, h0


def _copy_params(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


@pytest.mark.points(1.5)
def test_ex01_model_loss_gradients(ex01):
    """model_loss: the gradient of every parameter matches centered differences"""
    params, x, y, h0 = _model_case(119)
    out = _unpack(ex01.model_loss(_copy_params(params), x.copy(), y.copy(), h0.copy()),
                  ("loss", "grads", "h_last"), "model_loss")
    grads = out[1]
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        found = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise AssertionError(f"model_loss grads: expected a dict with exactly the keys "
                             f"{list(KEYS)}, got {found}.")
    pairs = []
    for k in KEYS:
        def f(p, k=k):
            return _model_loss({**params, k: p}, x, y, h0)
        pairs.append((k, grads[k], numerical_gradient(f, params[k], 1.0)))
    failures = _grad_failures("model_loss", pairs, tol=1e-6)
    if not failures:
        return
    wrong = {name for name, _ in failures}
    try:
        loss_ok = np.isclose(float(out[0]), _model_loss(params, x, y, h0), rtol=1e-8)
    except (TypeError, ValueError):
        loss_ok = False
    if not loss_ok:
        hint = ("the loss value is wrong too: fix the forward pass first (rnn_forward, "
                "affine_forward, softmax_cross_entropy; start from h0).")
    elif wrong <= {"Wx", "Wh", "b"}:
        hint = ("the output layer is right, the RNN weights are not: if the rnn_backward tests "
                "fail, fix those first; else pass dh from affine_backward (the gradient on "
                "every hidden state) into rnn_backward, with the h0 you used in the forward "
                "pass.")
    elif wrong <= {"Wy", "by"}:
        hint = "only the output layer is wrong: check affine_backward and dscores."
    else:
        hint = ("chain: scores = affine(rnn_forward(x, h0)); loss, dscores = softmax CE; "
                "affine_backward(dscores); rnn_backward(dh).")
    _report("model_loss", failures, hint)


@pytest.mark.points(0.5)
def test_ex01_model_loss_values(ex01):
    """model_loss: loss value, h_last = h at the last step, h0 and mask honoured"""
    params, x, y, h0 = _model_case(120, t=5)
    for label, kwargs, start in (("h0 given", {"h0": h0}, h0),
                                 ("h0=None", {}, np.zeros((N, H)))):
        out = _unpack(ex01.model_loss(_copy_params(params), x.copy(), y.copy(),
                                      **{k: v.copy() for k, v in kwargs.items()}),
                      ("loss", "grads", "h_last"), "model_loss")
        _close_scalar(out[0], _model_loss(params, x, y, start), what=f"model_loss loss ({label})",
                      hint="None for h0 means zeros; otherwise start the RNN from h0.")
        h_last = _forward(x, start, params["Wx"], params["Wh"], params["b"])[:, -1]
        assert_close(out[2], h_last, what=f"model_loss h_last ({label})", atol=1e-10, rtol=1e-8,
                     hint="h_last is the hidden state after the last step, h[:, -1], (N, H).")
    mask = np.ones((N, 5))
    mask[:, :2] = 0.0
    loss = ex01.model_loss(_copy_params(params), x.copy(), y.copy(), h0.copy(), mask.copy())[0]
    _close_scalar(loss, _model_loss(params, x, y, h0, mask), what="model_loss loss with a mask",
                  hint="pass mask on to softmax_cross_entropy.")


@pytest.mark.points(0.5)
def test_ex01_adam_step(ex01):
    """adam_step: first step moves each parameter by about lr against its gradient"""
    rng = _rng(121)
    params = _model_params(rng)
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    grads["Wx"][0, 0] = 0.0  # stays put: m = 0
    p_keep, g_keep = _copy_params(params), _copy_params(grads)
    lr = 0.01
    new_params, state = _unpack(ex01.adam_step(params, grads, None, lr), ("new_params", "state"),
                                "adam_step")
    if not isinstance(new_params, dict) or set(new_params) != set(KEYS):
        raise AssertionError(f"adam_step new_params: expected a dict with keys {list(KEYS)}.")
    for k in KEYS:
        for label, arg, keep in (("params", params, p_keep), ("grads", grads, g_keep)):
            if not np.array_equal(arg[k], keep[k]):
                raise AssertionError(f"adam_step modified its argument {label}[{k!r}]: build new "
                                     "arrays (p - step), never update in place.")
        step = check_array(new_params[k], params[k].shape, what=f"adam_step new_params[{k!r}]") \
            - p_keep[k]
        expected = -lr * np.sign(g_keep[k])
        assert_close(step, expected, what=f"adam_step update of {k!r} (first step)", atol=1e-8,
                     rtol=1e-4, hint="with bias correction the first Adam step is "
                     "-lr * g / (|g| + eps), about lr against the gradient: divide m by "
                     "(1 - beta1**t) and v by (1 - beta2**t), t counted from 1.")
    second, _ = _unpack(ex01.adam_step(new_params, g_keep, state, lr), ("new_params", "state"),
                        "adam_step (second call, with the returned state)")
    check_array(second["Wh"], (H, H), what="adam_step new_params['Wh'] (second call)")


@pytest.mark.points(0.5)
def test_ex01_no_input_mutation(ex01):
    """every function: leaves its input arrays unchanged"""
    rng = _rng(122)
    x, h0, Wx, Wh, b = _seq_params(rng, t=4)
    params = _model_params(rng)
    y = rng.integers(0, V, (N, 4))
    mask = np.ones((N, 4))
    mask[:, 0] = 0
    scores = rng.standard_normal((N, 4, V))
    calls = []

    def run(name, *args, cache_at=None):
        # Only arrays and dicts of arrays are ours to compare; a cache is opaque.
        kept = [None if i == cache_at else _copy_params(a) if isinstance(a, dict)
                else np.array(a, copy=True) if isinstance(a, np.ndarray) else None
                for i, a in enumerate(args)]
        result = getattr(ex01, name)(*args)
        first = result[0] if isinstance(result, (tuple, list)) and result else result
        if not isinstance(first, (np.ndarray, dict, float, np.floating)):
            # Stubs that return nothing change nothing; they earn nothing here either.
            raise AssertionError(f"{name} returned {type(first).__name__} as its first "
                                 "result; implement it first, then this test checks that it "
                                 "leaves its inputs unchanged.")
        for i, (a, k) in enumerate(zip(args, kept, strict=True)):
            if k is None:
                continue
            pairs = a.items() if isinstance(a, dict) else [(None, a)]
            for key, arr in pairs:
                ref = k[key] if key is not None else k
                if not (isinstance(arr, np.ndarray) and arr.shape == ref.shape
                        and np.array_equal(arr, ref)):
                    where = f"[{key!r}]" if key is not None else ""
                    calls.append(f"{name} argument {i + 1}{where}")
        return result

    _, cache = run("rnn_step_forward", x[:, 0].copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())
    run("rnn_step_backward", rng.standard_normal((N, H)), cache, cache_at=1)
    h, cache = run("rnn_forward", x.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())
    run("rnn_backward", rng.standard_normal((N, 4, H)), cache, cache_at=1)
    _, cache = run("affine_forward", rng.standard_normal((N, 4, H)), params["Wy"].copy(),
                   params["by"].copy())
    run("affine_backward", rng.standard_normal((N, 4, V)), cache, cache_at=1)
    run("softmax_cross_entropy", scores.copy(), y.copy(), mask.copy())
    run("clip_grad_norm", _grads_for_clipping(rng, 10.0), 1.0)
    run("model_loss", _copy_params(params), x.copy(), y.copy(), h0.copy(), mask.copy())
    if calls:
        raise AssertionError("these calls changed an input array: " + ", ".join(calls) + ". "
                             "Never modify arguments in place (x += ..., x[...] = ...); work on "
                             "a copy or build a new array.")


# ---------------------------------------------------------------------------------------
# Part 5: training, plots and the gradient experiment
# ---------------------------------------------------------------------------------------


def _echo_data(rng, n, seq_len, n_symbols, delay):
    """This file's own echo batch: y[:, t] = symbol at t - delay, mask 0 for t < delay."""
    symbols = rng.integers(0, n_symbols, (n, seq_len))
    x = np.eye(n_symbols)[symbols]
    y = np.zeros((n, seq_len), dtype=np.int64)
    y[:, delay:] = symbols[:, : seq_len - delay]
    mask = np.zeros((n, seq_len))
    mask[:, delay:] = 1.0
    return x, y, mask


def _echo_accuracy(params, x, y, mask):
    """This file's own forward pass and argmax, from a zero state."""
    h = _forward(x, np.zeros((x.shape[0], params["Wh"].shape[0])), params["Wx"], params["Wh"],
                 params["b"])
    pred = np.argmax(h @ params["Wy"] + params["by"], axis=-1)
    return float(np.sum((pred == y) * mask) / np.sum(mask))


@pytest.mark.slow
@pytest.mark.points(2)
def test_ex01_train_echo(ex01):
    """train_echo: learns the echo task (delay 2) to >= 90% accuracy on fresh sequences"""
    params, history = _unpack(
        ex01.with_timeout(60).train_echo(rng=_rng(123), print_every=0),
        ("params", "history"), "train_echo")
    n_symbols, hidden = 4, 32
    if not isinstance(params, dict):
        raise AssertionError(f"train_echo params: expected a dict, got {type(params).__name__}.")
    shapes = {"Wx": (n_symbols, hidden), "Wh": (hidden, hidden), "b": (hidden,),
              "Wy": (hidden, n_symbols), "by": (n_symbols,)}
    for k, shape in shapes.items():
        if k not in params:
            raise AssertionError(f"train_echo params: missing key {k!r}.")
        check_array(params[k], shape, what=f"train_echo params[{k!r}]")
    losses = history.get("loss") if isinstance(history, dict) else None
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) < 2:
        raise AssertionError("train_echo history: expected a dict with 'loss': a list with one "
                             "float per training step.")
    losses = [_scalar(v, "train_echo history['loss'] entry") for v in losses]
    x, y, mask = _echo_data(_rng(124), 400, 12, n_symbols, 2)
    acc = _echo_accuracy(params, x, y, mask)
    if acc < 0.9:
        k = max(1, len(losses) // 10)
        raise AssertionError(
            f"train_echo: accuracy {acc:.3f} on 400 fresh sequences, need >= 0.9 (loss: first "
            f"steps {np.mean(losses[:k]):.3f}, last steps {np.mean(losses[-k:]):.3f}). Check "
            "that each step uses the batch's mask, clips, and applies adam_step to the "
            "parameters it then keeps; that the gradient checks pass; and the defaults "
            "(num_steps, lr).")


@pytest.mark.points(1)
def test_ex01_plot_hidden_states(ex01, student_tmp):
    """plot_hidden_states: writes a PNG heatmap"""
    rng = _rng(125)
    params = _model_params(rng, d=4, hh=16, v=4)
    x, _, _ = _echo_data(rng, 3, 12, 4, 2)
    path = student_tmp / "hidden_states.png"
    returned = ex01.plot_hidden_states(params, x, str(path))
    if not isinstance(returned, str):
        raise AssertionError(f"plot_hidden_states: return the path as a str, got "
                             f"{type(returned).__name__}.")
    assert_png(path, what="plot_hidden_states")


@pytest.mark.points(1)
def test_ex01_plot_gradient_norms(ex01, student_tmp):
    """plot_gradient_norms: writes a PNG plot of norm against lag"""
    lags = np.arange(30, dtype=np.float64)
    norms = {0.5: 0.5**lags, 1.0: np.ones(30), 1.5: 1.5**lags}
    path = student_tmp / "gradient_norms.png"
    returned = ex01.plot_gradient_norms(norms, str(path))
    if not isinstance(returned, str):
        raise AssertionError(f"plot_gradient_norms: return the path as a str, got "
                             f"{type(returned).__name__}.")
    assert_png(path, what="plot_gradient_norms")


@pytest.mark.points(1)
def test_ex01_gradient_norm_vs_lag(ex01):
    """gradient_norm_vs_lag: vanishes for spectral radius 0.5, explodes for 1.5"""
    radii = (0.5, 0.9, 1.0, 1.5)
    norms = ex01.gradient_norm_vs_lag(hidden_size=32, seq_len=40, radii=radii, rng=_rng(126))
    if not isinstance(norms, dict):
        raise AssertionError(f"gradient_norm_vs_lag: expected a dict rho -> norms, got "
                             f"{type(norms).__name__}.")
    for rho in radii:
        if rho not in norms:
            raise AssertionError(f"gradient_norm_vs_lag: no entry for rho = {rho}; the keys "
                                 f"must be the radii as floats, got {list(norms)}.")
        n = check_array(norms[rho], (40,), what=f"gradient_norm_vs_lag norms[{rho}]")
        if not np.isclose(n[0], 1.0, rtol=1e-6):
            raise AssertionError(f"gradient_norm_vs_lag norms[{rho}][0] = {n[0]:.4g}: start from "
                                 "a unit-norm gradient on h_T, so the norm at lag 0 is 1.")
        if np.any(n <= 0):
            raise AssertionError(f"gradient_norm_vs_lag norms[{rho}]: norms must be positive.")
    small, big = norms[0.5][20], norms[1.5][20]
    if not small < 1e-3:
        raise AssertionError(f"gradient_norm_vs_lag: for rho = 0.5 the norm at lag 20 is "
                             f"{small:.3g}; it should vanish (about 0.5**20 ~ 1e-6). Scale Wh to "
                             "spectral radius rho and step back with the step backward.")
    if not big > 1.0:
        raise AssertionError(f"gradient_norm_vs_lag: for rho = 1.5 the norm at lag 20 is "
                             f"{big:.3g}; it should grow. Keep the inputs tiny so tanh stays in "
                             "its linear range (saturated units hide the growth).")
    if not norms[0.5][20] < norms[0.9][20] < norms[1.5][20]:
        raise AssertionError("gradient_norm_vs_lag: at lag 20 the norm should grow with rho "
                             "(0.5 < 0.9 < 1.5).")
