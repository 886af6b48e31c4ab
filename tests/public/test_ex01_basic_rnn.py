"""Public tests for Exercise 1: a NumPy RNN trained with backpropagation through time.

Each test's docstring starts with the name shown in the points table. Expected values come
from this file's own forward formulas; expected gradients come from centered differences
of those formulas, never from a backward pass, so deriving the backward pass stays your
work. A failure says which output is wrong and how, the idea involved and the section of
guides/rnn_guide.md that explains it.

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
    check_labels,
    close_scalar,
    figure_info,
    numerical_gradient,
    raises_naming,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain

KEYS = ("Wx", "Wh", "b", "Wy", "by")
STEP_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")

# Distinct, non-square sizes: a missing transpose cannot hide behind a square matrix.
N, T, D, H, V = 2, 10, 3, 5, 4


# ---------------------------------------------------------------------------------------
# This file's own NumPy model: forward formulas only (the expected values)
# ---------------------------------------------------------------------------------------


def _step(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh + b)


def _forward(x, h0, Wx, Wh, b, step_weights=None):
    """All states h_1..h_T. `step_weights = (t, i, w)` runs step t with argument i
    (2: Wx, 3: Wh, 4: b) replaced by w: how much of a shared weight's gradient comes
    from one step is the gradient with respect to such a copy."""
    h = np.zeros(x.shape[:2] + (Wh.shape[0],))
    prev = h0
    for t in range(x.shape[1]):
        weights = [Wx, Wh, b]
        if step_weights is not None and step_weights[0] == t:
            weights[step_weights[1] - 2] = step_weights[2]
        prev = _step(x[:, t], prev, *weights)
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


def _ce_numeric_grad(scores, y, mask=None):
    """Centered differences of the loss. Softmax is unchanged by subtracting each row's
    maximum, so differentiate there, where the values are small and exact."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return numerical_gradient(lambda s: _ce(s, y, mask), shifted, 1.0)


def _model_loss(params, x, y, h0=None, mask=None):
    if h0 is None:
        h0 = np.zeros((x.shape[0], params["Wh"].shape[0]))
    h = _forward(x, h0, params["Wx"], params["Wh"], params["b"])
    return _ce(h @ params["Wy"] + params["by"], y, mask)


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _rng(seed):
    return np.random.default_rng(seed)


def _same(a, b, tol=1e-10):
    return isinstance(a, np.ndarray) and a.shape == np.shape(b) and np.allclose(a, b, rtol=tol,
                                                                               atol=tol)


def _report(fn, failures, hint):
    """One message: the diagnosis first (the points table shows the first line), then
    the details of every wrong output."""
    names = ", ".join(name for name, _ in failures)
    details = "\n".join(f"  - {msg}" for _, msg in failures)
    raise AssertionError(f"{fn}: wrong {names}. {hint.strip()}\n{details}")


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


def _numeric_grads(forward, args, upstream):
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
    out = unpack(ex01.rnn_step_forward(*_copies(args)), ("h_next", "cache"), "rnn_step_forward")
    assert_close(out[0], _step(*args), what="rnn_step_forward h_next", atol=1e-10, rtol=1e-8,
                 hint="h_next = tanh(x @ Wx + h_prev @ Wh + b)." + explain("forward-row-vectors"))


@pytest.mark.points(0.5)
def test_ex01_step_forward_terms(ex01):
    """rnn_step_forward: the x term and the h_prev term, each on its own"""
    x, h_prev, Wx, Wh, b = _step_params(_rng(102))
    zero_wh = np.zeros_like(Wh)
    h_next = ex01.rnn_step_forward(x.copy(), h_prev.copy(), Wx.copy(), zero_wh.copy(),
                                   b.copy())[0]
    assert_close(h_next, np.tanh(x @ Wx + b), what="rnn_step_forward h_next with Wh = 0",
                 atol=1e-10, rtol=1e-8, hint="With Wh = 0 only the x term and b are left, so "
                 "one of those is wrong." + explain("forward-row-vectors"))
    zx, zwx = np.zeros_like(x), np.zeros_like(Wx)
    h_next = ex01.rnn_step_forward(zx.copy(), h_prev.copy(), zwx.copy(), Wh.copy(), b.copy())[0]
    assert_close(h_next, np.tanh(h_prev @ Wh + b),
                 what="rnn_step_forward h_next with x = 0 and Wx = 0", atol=1e-10, rtol=1e-8,
                 hint="With x = 0 only the h_prev term and b are left: the h_prev term is "
                 "wrong." + explain("forward-row-vectors"))


def _step_twins(args, dh_next):
    """What the step's gradients would be for three classic slips, each computed by
    centered differences of a forward pass that has the slip built in."""
    x, h_prev, Wx, Wh, b = args
    z0 = x @ Wx + h_prev @ Wh + b
    h_next = np.tanh(z0)
    return {
        # the step without its tanh: the gradient never passes through tanh
        "no_tanh": _numeric_grads(lambda *a: a[0] @ a[2] + a[1] @ a[3] + a[4], list(args),
                                  dh_next),
        # tanh's slope read at h_next (as if h_next were tanh's input)
        "slope_at_output": numerical_gradient(lambda a: np.tanh(h_next + (a - x) @ Wx), x,
                                              dh_next),
        # Wh multiplying h_next instead of h_prev
        "dWh_from_h_next": numerical_gradient(lambda w: np.tanh(z0 + h_next @ (w - Wh)), Wh,
                                              dh_next),
        # the recurrence read as h_prev @ Wh.T (a square Wh hides the orientation)
        "dh_prev_other_side": numerical_gradient(
            lambda a: np.tanh(z0 + (a - h_prev) @ Wh.T), h_prev, dh_next),
    }


def _diagnose_step(ex01, args, dh_next, got, numeric, failures) -> str:
    """Name the most likely slip behind a failing rnn_step_backward."""
    wrong = [name for name, _ in failures]
    if not _forward_ok(ex01, step_only=True):
        return ("rnn_step_forward is wrong (see its tests): fix it first; the backward pass "
                "uses what it cached.")
    twins = _step_twins(args, dh_next)
    if any(_same(g, t, 1e-6) for g, t in zip(got, twins["no_tanh"], strict=True)):
        return ("Some gradients equal those of the step without its tanh." +
                explain("tanh-derivative-missing"))
    if _same(got[0], twins["slope_at_output"], 1e-6):
        return ("dx equals the gradient you would get if tanh's slope were read at h_next "
                "instead of at tanh's input." + explain("tanh-derivative-at-output"))
    if _same(got[3], twins["dWh_from_h_next"], 1e-6):
        return ("dWh equals the gradient you would get if Wh multiplied h_next rather than "
                "h_prev." + explain("dwh-wrong-state"))
    if _same(got[4], numeric[4] / args[0].shape[0], 1e-6):
        return f"db is the true gradient divided by N = {args[0].shape[0]}." + explain(
            "bias-grad-sum")
    if _same(got[1], twins["dh_prev_other_side"], 1e-6):
        return ("dh_prev equals the gradient of a step that multiplied h_prev by Wh's "
                "transpose." + explain("backward-transpose"))
    if wrong == ["dh_prev"] or wrong == ["dx"]:
        weight = "Wh" if wrong == ["dh_prev"] else "Wx"
        return (f"Only {wrong[0]} is wrong: follow the gradient from tanh's input back "
                f"through the product with {weight}." + explain("backward-transpose"))
    if len(wrong) == 1:
        return (f"Only {wrong[0]} is wrong: the path through tanh is right; check the last "
                "link of the chain, from tanh's input to this one." +
                explain("backward-transpose"))
    if len(wrong) == len(STEP_GRADS):
        return ("Every gradient is wrong, so the first link of the chain is: the gradient at "
                "tanh's input (guide: \"One step\").")
    return ("Apply the chain rule one link at a time: through tanh, through the sum, through "
            "each product (guide: \"One step\").")


@pytest.mark.points(1.5)
def test_ex01_step_backward_gradients(ex01):
    """rnn_step_backward: every gradient matches centered differences"""
    rng = _rng(103)
    args = list(_step_params(rng))
    dh_next = rng.standard_normal((N, H))
    _, cache = unpack(ex01.rnn_step_forward(*_copies(args)), ("h_next", "cache"),
                       "rnn_step_forward")
    got = unpack(ex01.rnn_step_backward(dh_next.copy(), cache), STEP_GRADS,
                  "rnn_step_backward")
    numeric = _numeric_grads(_step, args, dh_next)
    failures = _grad_failures("rnn_step_backward", zip(STEP_GRADS, got, numeric, strict=True),
                              tol=1e-7)
    if failures:
        _report("rnn_step_backward", failures,
                _diagnose_step(ex01, args, dh_next, got, numeric, failures))


# ---------------------------------------------------------------------------------------
# Part 2: a sequence
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_rnn_forward_values(ex01):
    """rnn_forward: values match running the step T times"""
    args = _seq_params(_rng(104))
    h, _ = unpack(ex01.rnn_forward(*_copies(args)), ("h", "cache"), "rnn_forward")
    check_array(h, (N, T, H), what="rnn_forward h")
    expected = _forward(*args)
    if np.allclose(h[:, 1:], expected[:, :-1], atol=1e-10):
        hint = "h[:, t] holds the state before step t, not after it." + explain(
            "forward-h-offset")
    elif np.allclose(h[:, 0], expected[:, 0], atol=1e-10, rtol=1e-8):
        hint = "h[:, 0] is right but later steps are not." + explain("forward-no-recurrence")
    else:
        hint = "Already h[:, 0], the state after x[:, 0], is wrong." + explain(
            "forward-h-offset")
    assert_close(h, expected, what="rnn_forward h", atol=1e-10, rtol=1e-8, hint=hint)


@pytest.mark.points(0.5)
def test_ex01_rnn_forward_uses_h0(ex01):
    """rnn_forward: the initial state h0 is used"""
    x, h0, Wx, Wh, b = _seq_params(_rng(105))
    h = ex01.rnn_forward(x.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())[0]
    check_array(h, (N, T, H), what="rnn_forward h")
    if np.allclose(h[:, 0], _step(x[:, 0], np.zeros_like(h0), Wx, Wh, b), atol=1e-10):
        raise AssertionError("rnn_forward h[:, 0]: equals the result for h0 = 0, but h0 is not "
                             "zero." + explain("forward-h0-ignored"))
    assert_close(h[:, 0], _step(x[:, 0], h0, Wx, Wh, b), what="rnn_forward h[:, 0] (h_1)",
                 atol=1e-10, rtol=1e-8, hint="h_1 = tanh(x_1 @ Wx + h0 @ Wh + b).")


def _rnn_backward_case(ex01, seed, dh_builder, n_steps, tol, Wh=None):
    rng = _rng(seed)
    args = list(_seq_params(rng, t=n_steps))
    if Wh is not None:
        args[3] = Wh
    dh = dh_builder(rng, n_steps)
    _, cache = unpack(ex01.rnn_forward(*_copies(args)), ("h", "cache"), "rnn_forward")
    got = unpack(ex01.rnn_backward(dh.copy(), cache), SEQ_GRADS, "rnn_backward")
    numeric = _numeric_grads(_forward, args, dh)
    failures = _grad_failures("rnn_backward", zip(SEQ_GRADS, got, numeric, strict=True), tol=tol)
    return args, dh, got, numeric, failures


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


def _step_backward_ok(ex01) -> bool:
    """Does the student's step backward pass its gradient check on a small case?"""
    rng = _rng(99)
    args = list(_step_params(rng))
    dh_next = rng.standard_normal((N, H))
    try:
        cache = ex01.rnn_step_forward(*_copies(args))[1]
        got = ex01.rnn_step_backward(dh_next.copy(), cache)
        numeric = _numeric_grads(_step, args, dh_next)
        return len(got) == 5 and all(_same(g, w, 1e-7) for g, w in zip(got, numeric,
                                                                         strict=True))
    except Exception:  # noqa: BLE001 - any failure there means "fix the step first"
        return False


def _prerequisite_hint(ex01) -> str:
    """'' when the pieces rnn_backward builds on are right, else which one to fix first."""
    if not _forward_ok(ex01):
        return ("rnn_forward is wrong (see its tests): fix it first; the backward pass uses "
                "its cache.")
    if not _step_backward_ok(ex01):
        return ("rnn_step_backward is wrong (see its test): fix it first; rnn_backward is "
                "built on it.")
    return ""


def _dx_without_recurrent_path(args, dh):
    """dx if each h_t received only dh[:, t]: every step differentiated on its own, with
    the state that entered it held fixed."""
    x, h0, Wx, Wh, b = args
    h = _forward(*args)
    dx = np.zeros_like(x)
    for t in range(x.shape[1]):
        prev = h0 if t == 0 else h[:, t - 1]
        dx[:, t] = numerical_gradient(lambda a, prev=prev: _step(a, prev, Wx, Wh, b),
                                      x[:, t], dh[:, t])
    return dx


def _per_step_contributions(args, dh):
    """{"dWx": [...], "dWh": [...], "db": [...]}: for each step t, the part of the shared
    weight's gradient that step t contributes (the gradient with respect to a copy of the
    weight that only step t uses)."""
    contributions = {}
    for i, name in ((2, "dWx"), (3, "dWh"), (4, "db")):
        contributions[name] = [
            numerical_gradient(lambda w, t=t, i=i: _forward(*args, step_weights=(t, i, w)),
                               args[i], dh)
            for t in range(args[0].shape[1])]
    return contributions


def _one_step_only(got, contributions, totals) -> str:
    """'' unless a weight gradient equals a single step's contribution."""
    for i, name in ((2, "dWx"), (3, "dWh"), (4, "db")):
        for t, part in enumerate(contributions[name]):
            if _same(got[i], part, 1e-7) and not _same(totals[i], part, 1e-6):
                return (f"{name} equals the contribution of step {t} alone." +
                        explain("bptt-no-accumulate"))
    return ""


def _diagnose_rnn_backward(ex01, args, dh, got, numeric, failures) -> str:
    """Name the most likely bug behind a failing rnn_backward."""
    wrong = {name for name, _ in failures}
    first = _prerequisite_hint(ex01)
    if first:
        return first
    no_carry = _dx_without_recurrent_path(args, dh)
    if _same(got[0], no_carry, 1e-7) and not _same(numeric[0], no_carry, 1e-6):
        return ("dx is what you would get if each h_t's gradient came only from dh[:, t]: "
                "no gradient arrives through the recurrent path." + explain("bptt-no-carry"))
    found = _one_step_only(got, _per_step_contributions(args, dh), numeric)
    if found:
        return found
    if "dh0" in wrong and isinstance(got[1], np.ndarray) and np.allclose(got[1], 0.0):
        return "dh0 is zero although the loss depends on h0." + explain("bptt-dh0")
    if wrong == {"dh0"}:
        return "Only dh0 is wrong." + explain("bptt-dh0")
    if wrong == {"dWh"}:
        return ("Only dWh is wrong: at every step, which state did Wh multiply?" +
                explain("dwh-wrong-state"))
    return ("The step backward is right, so the error is in how the steps are combined: the "
            "two sources of each h_t's gradient, the order of the steps, the shared weights "
            "(guide: \"The whole sequence\").")


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
    if failures:
        _report("rnn_backward", failures,
                _diagnose_rnn_backward(ex01, args, dh, got, numeric, failures))


@pytest.mark.points(1)
def test_ex01_rnn_backward_last_step_only(ex01):
    """rnn_backward: a gradient on the last state alone reaches every earlier step and h0"""
    args, dh, got, numeric, failures = _rnn_backward_case(ex01, 107, _last_step_only, 6, 1e-5)
    if failures:
        _report("rnn_backward", failures,
                _diagnose_rnn_backward(ex01, args, dh, got, numeric, failures))


@pytest.mark.points(0.5)
def test_ex01_rnn_backward_accumulates(ex01):
    """rnn_backward: weight gradients gather every time step's contribution"""
    # Wh = 0: no recurrence, so each step's contribution stands alone and the total is
    # their sum; what the weight gradients miss is then easy to see.
    args, dh, got, numeric, failures = _rnn_backward_case(ex01, 108, _all_steps, 4, 1e-6,
                                                          Wh=np.zeros((H, H)))
    failures = [(name, msg) for name, msg in failures if name in ("dWx", "dWh", "db")]
    if not failures:
        return
    hint = _one_step_only(got, _per_step_contributions(args, dh), numeric)
    _report("rnn_backward (Wh = 0)", failures, hint or _prerequisite_hint(ex01) or
            "With Wh = 0 the steps are independent: each weight's gradient gathers the "
            "contribution of every step." + explain("bptt-no-accumulate"))


# ---------------------------------------------------------------------------------------
# Part 3: output layer and loss
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_affine_forward_values(ex01):
    """affine_forward: scores = h Wy + by at every time step"""
    rng = _rng(109)
    h, Wy, by = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    scores, _ = unpack(ex01.affine_forward(h.copy(), Wy.copy(), by.copy()),
                        ("scores", "cache"), "affine_forward")
    assert_close(scores, h @ Wy + by, what="affine_forward scores", atol=1e-10, rtol=1e-8,
                 hint="scores[n, t] = h[n, t] @ Wy + by for every n and t." +
                 explain("forward-row-vectors"))


@pytest.mark.points(0.5)
def test_ex01_affine_backward_gradients(ex01):
    """affine_backward: dh, dWy and dby match centered differences"""
    rng = _rng(110)
    h, Wy, by = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    dscores = rng.standard_normal((N, T, V))
    _, cache = ex01.affine_forward(h.copy(), Wy.copy(), by.copy())
    got = unpack(ex01.affine_backward(dscores.copy(), cache), ("dh", "dWy", "dby"),
                  "affine_backward")

    def fwd(a, w, c):
        return a @ w + c

    numeric = _numeric_grads(fwd, [h, Wy, by], dscores)
    names = ("dh", "dWy", "dby")
    failures = _grad_failures("affine_backward", zip(names, got, numeric, strict=True), 1e-6)
    if not failures:
        return
    wrong = {name for name, _ in failures}
    if wrong <= {"dWy", "dby"}:
        hint = "dh is right; the shared output weights are not." + explain("shared-readout-sum")
    else:
        hint = ("dh is wrong: follow the gradient back through the product h @ Wy." +
                explain("backward-transpose"))
    _report("affine_backward", failures, hint)


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_value(ex01):
    """softmax_cross_entropy: loss is the mean negative log-probability of the targets"""
    rng = _rng(111)
    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    loss, _ = unpack(ex01.softmax_cross_entropy(scores.copy(), y.copy()), ("loss", "dscores"),
                      "softmax_cross_entropy")
    loss = scalar(loss, "softmax_cross_entropy loss")
    expected = _ce(scores, y)
    if np.isclose(loss, expected * N * T, rtol=1e-6):
        raise AssertionError("softmax_cross_entropy loss: N*T times the mean, the sum over "
                             "positions." + explain("ce-not-mean"))
    if np.isclose(loss, expected * T, rtol=1e-6):
        raise AssertionError(f"softmax_cross_entropy loss: T = {T} times the mean, divided by "
                             "N only." + explain("ce-not-mean"))
    close_scalar(loss, expected, what="softmax_cross_entropy loss",
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
        raise AssertionError("softmax_cross_entropy dscores: N*T times too large." +
                             explain("ce-grad-scale"))
    assert_grad(dscores, numeric, what="softmax_cross_entropy dscores", tol=1e-6,
                hint="Derive the gradient of -log softmax(s)[y] for one position, then "
                "account for the mean (guide: \"4. Output layer and loss\").")


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
    hint = "exp overflows, or log(0) appears, at large logits." + explain("softmax-overflow")
    ordinary = rng.standard_normal((N, T, V))
    try:
        loss, dscores = ex01.softmax_cross_entropy(ordinary.copy(), y.copy())
        ordinary_ok = (np.isclose(float(loss), _ce(ordinary, y), rtol=1e-8)
                       and _same(np.asarray(dscores), _ce_numeric_grad(ordinary, y), 1e-7))
    except (TypeError, ValueError):
        ordinary_ok = False
    if not ordinary_ok:
        hint = ("the result is wrong already for ordinary scores: make the other "
                "softmax_cross_entropy tests pass first.")
    for label, scores in cases.items():
        with np.errstate(all="ignore"):
            loss, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy())
        try:
            loss = scalar(loss, f"softmax_cross_entropy loss ({label})")
        except AssertionError as exc:
            raise AssertionError(f"{exc} {hint}") from None
        close_scalar(loss, _ce(scores, y), what=f"softmax_cross_entropy loss ({label})",
                      atol=1e-8, rtol=1e-8, hint=hint)
        assert_close(dscores, _ce_numeric_grad(scores, y),
                     what=f"softmax_cross_entropy dscores ({label})", atol=1e-8, rtol=1e-5,
                     hint=hint)


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_mask(ex01):
    """softmax_cross_entropy: masked positions add nothing to the loss or the gradient"""
    rng = _rng(114)
    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = np.ones((N, T))
    mask[:, :3] = 0.0
    mask[1, 7] = 0.0
    loss, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy(), mask.copy())
    loss = scalar(loss, "softmax_cross_entropy loss with a mask")
    expected = _ce(scores, y, mask)
    if np.isclose(loss, expected * mask.sum() / mask.size, rtol=1e-7):
        raise AssertionError("softmax_cross_entropy loss with a mask: the masked sum divided "
                             f"by N*T = {mask.size} instead of the {int(mask.sum())} unmasked "
                             "positions." + explain("mask-count"))
    close_scalar(loss, expected, what="softmax_cross_entropy loss with a mask",
                  hint="loss = -sum(mask * log p[target]) / sum(mask).")
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores with a mask")
    masked = mask == 0
    if not np.all(dscores[masked] == 0):
        where = tuple(int(i) for i in np.argwhere(masked & np.any(dscores != 0, axis=-1))[0])
        raise AssertionError("softmax_cross_entropy dscores with a mask: nonzero gradient at "
                             f"the masked position {where}." + explain("mask-gradient-leak"))
    numeric = numerical_gradient(lambda s: _ce(s, y, mask), scores, 1.0)
    if _same(dscores, numeric * mask.sum() / mask.size, 1e-6):
        raise AssertionError("softmax_cross_entropy dscores with a mask: scaled by 1/(N*T) "
                             "instead of 1/sum(mask)." + explain("mask-count"))
    assert_grad(dscores, numeric, what="softmax_cross_entropy dscores with a mask", tol=1e-6,
                hint="The mask changes which positions count and the count you divide by." +
                explain("mask-count"))


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
    clipped, total_norm = unpack(ex01.clip_grad_norm({k: g.copy() for k, g in grads.items()},
                                                      max_norm), ("clipped", "total_norm"),
                                  "clip_grad_norm")
    total_norm = scalar(total_norm, "clip_grad_norm total_norm")
    if not isinstance(clipped, dict) or set(clipped) != set(grads):
        raise AssertionError(f"clip_grad_norm clipped: expected a dict with keys {sorted(grads)}, "
                             f"got {type(clipped).__name__}.")
    if np.isclose(total_norm, max_norm, rtol=1e-6):
        raise AssertionError("clip_grad_norm total_norm: equals max_norm, the norm after "
                             "clipping." + explain("clip-norm-reported"))
    close_scalar(total_norm, total, what="clip_grad_norm total_norm",
                  hint="total_norm is one norm for the whole dict, as if all arrays were "
                       "one long vector." + explain("clip-not-global"))
    unchanged = [k for k in grads
                 if isinstance(clipped[k], np.ndarray) and _same(clipped[k], grads[k], 1e-12)]
    if len(unchanged) == len(grads):
        raise AssertionError("clip_grad_norm clipped: nothing was scaled, but the global norm "
                             f"{total:.4g} is above max_norm {max_norm:.4g} (each array alone is "
                             "below it)." + explain("clip-not-global"))
    for k in KEYS:
        assert_close(clipped[k], grads[k] * (max_norm / total), what=f"clip_grad_norm "
                     f"clipped[{k!r}]", atol=1e-12, rtol=1e-5,
                     hint="After clipping the global norm is max_norm and the direction is "
                          "unchanged." + explain("clip-not-global"))


@pytest.mark.points(0.25)
def test_ex01_clip_small_and_errors(ex01):
    """clip_grad_norm: small gradients come back unchanged in new arrays; float32 in float64"""
    grads = _grads_for_clipping(_rng(116), 0.01)
    kept = {k: g.copy() for k, g in grads.items()}
    clipped, total_norm = unpack(ex01.clip_grad_norm(grads, 5.0), ("clipped", "total_norm"),
                                  "clip_grad_norm")
    close_scalar(total_norm, np.sqrt(sum(np.sum(g**2) for g in kept.values())),
                  what="clip_grad_norm total_norm", atol=1e-12, rtol=1e-8)
    if not isinstance(clipped, dict) or set(clipped) != set(kept):
        raise AssertionError(f"clip_grad_norm clipped: expected a dict with keys {sorted(kept)}.")
    for k in KEYS:
        if clipped[k] is grads[k] or (isinstance(clipped[k], np.ndarray)
                                      and np.shares_memory(clipped[k], grads[k])):
            raise AssertionError(f"clip_grad_norm clipped[{k!r}] is the input array itself "
                                 "(or shares its memory): return new arrays." +
                                 explain("mutates-input"))
        assert_close(clipped[k], kept[k], what=f"clip_grad_norm clipped[{k!r}] (norm below "
                     "max_norm)", atol=0, rtol=1e-12,
                     hint="scale only when total_norm > max_norm.")
        assert_close(grads[k], kept[k], what=f"clip_grad_norm changed its input grads[{k!r}]",
                     atol=0, rtol=0, hint=explain("mutates-input"))
    clipped, total_norm = ex01.clip_grad_norm({k: g.astype(np.float32) for k, g in kept.items()},
                                              5.0)
    close_scalar(total_norm, np.sqrt(sum(np.sum(g.astype(np.float32).astype(np.float64)**2)
                                         for g in kept.values())),
                 what="clip_grad_norm total_norm (float32 grads, summed in float64)", atol=0,
                 rtol=1e-12, hint=explain("float32-precision"))
    for k in KEYS:
        check_array(clipped[k], kept[k].shape, what=f"clip_grad_norm clipped[{k!r}] (float32 "
                    "grads)", dtype=np.float64)


@pytest.mark.points(0.25)
def test_ex01_clip_validation(ex01):
    """validation of clip_grad_norm: max_norm <= 0 raises a ValueError naming max_norm"""
    grads = _grads_for_clipping(_rng(116), 0.01)
    for bad in (0.0, -1.0):
        raises_naming(lambda bad=bad: ex01.clip_grad_norm({k: g.copy() for k, g in grads.items()},
                                                          bad),
                      "max_norm", f"clip_grad_norm(max_norm={bad})")


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
                     rtol=0, hint="The same seed gave other values." +
                     explain("rng-not-threaded"))
    other = ex01.init_params(d, hh, v, _rng(118))
    if np.array_equal(other["Wx"], params["Wx"]):
        raise AssertionError("init_params Wx: identical for two different rng seeds." +
                             explain("rng-not-threaded"))


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
    out = unpack(ex01.model_loss(_copy_params(params), x.copy(), y.copy(), h0.copy()),
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
        hint = ("The loss value is wrong too: fix the forward chain first (rnn_forward, "
                "affine_forward, softmax_cross_entropy, from h0).")
    elif wrong <= {"Wx", "Wh", "b"}:
        hint = ("The output layer's gradients are right, the RNN's are not: if the "
                "rnn_backward tests fail, fix those first." + explain("model-chain"))
    elif wrong <= {"Wy", "by"}:
        hint = "Only the output layer's gradients are wrong (see the affine_backward test)."
    else:
        hint = "Gradients of both layers are wrong." + explain("model-chain")
    _report("model_loss", failures, hint)


@pytest.mark.points(0.5)
def test_ex01_model_loss_values(ex01):
    """model_loss: loss value, h_last = h at the last step, h0 and mask honoured"""
    params, x, y, h0 = _model_case(120, t=5)
    for label, kwargs, start in (("h0 given", {"h0": h0}, h0),
                                 ("h0=None", {}, np.zeros((N, H)))):
        out = unpack(ex01.model_loss(_copy_params(params), x.copy(), y.copy(),
                                      **{k: v.copy() for k, v in kwargs.items()}),
                      ("loss", "grads", "h_last"), "model_loss")
        close_scalar(out[0], _model_loss(params, x, y, start), what=f"model_loss loss ({label})",
                      hint="h0=None means a zero state; otherwise the RNN starts from h0." +
                      explain("forward-h0-ignored"))
        h_last = _forward(x, start, params["Wx"], params["Wh"], params["b"])[:, -1]
        assert_close(out[2], h_last, what=f"model_loss h_last ({label})", atol=1e-10, rtol=1e-8,
                     hint="h_last is the state after the last step, (N, H).")
    mask = np.ones((N, 5))
    mask[:, :2] = 0.0
    loss = ex01.model_loss(_copy_params(params), x.copy(), y.copy(), h0.copy(), mask.copy())[0]
    close_scalar(loss, _model_loss(params, x, y, h0, mask), what="model_loss loss with a mask",
                  hint="The loss ignores masked positions." + explain("mask-count"))


@pytest.mark.points(0.5)
def test_ex01_adam_step(ex01):
    """adam_step: first step moves each parameter by about lr against its gradient"""
    rng = _rng(121)
    params = _model_params(rng)
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    grads["Wx"][0, 0] = 0.0  # stays put: m = 0
    p_keep, g_keep = _copy_params(params), _copy_params(grads)
    lr = 0.01
    new_params, state = unpack(ex01.adam_step(params, grads, None, lr), ("new_params", "state"),
                                "adam_step")
    if not isinstance(new_params, dict) or set(new_params) != set(KEYS):
        raise AssertionError(f"adam_step new_params: expected a dict with keys {list(KEYS)}.")
    for k in KEYS:
        for label, arg, keep in (("params", params, p_keep), ("grads", grads, g_keep)):
            if not np.array_equal(arg[k], keep[k]):
                raise AssertionError(f"adam_step modified its argument {label}[{k!r}]." +
                                     explain("mutates-input"))
        step = check_array(new_params[k], params[k].shape, what=f"adam_step new_params[{k!r}]") \
            - p_keep[k]
        expected = -lr * np.sign(g_keep[k])
        assert_close(step, expected, what=f"adam_step update of {k!r} (first step)", atol=1e-8,
                     rtol=1e-4, hint="With bias correction the first Adam step moves every "
                     "parameter by about lr against the sign of its gradient." +
                     explain("adam-bias-correction"))
    second, _ = unpack(ex01.adam_step(new_params, g_keep, state, lr), ("new_params", "state"),
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
        raise AssertionError("these calls changed an input array: " + ", ".join(calls) + "." +
                             explain("mutates-input"))


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


@pytest.mark.points(0.25)
def test_ex01_train_echo_zero_steps(ex01):
    """train_echo(num_steps=0): the initial parameters and empty histories"""
    params, history = unpack(ex01.train_echo(num_steps=0, rng=_rng(125), print_every=0),
                             ("params", "history"), "train_echo(num_steps=0)")
    want = ex01.init_params(4, 32, 4, _rng(125))
    if not isinstance(params, dict) or set(params) != set(want):
        raise AssertionError("train_echo(num_steps=0): params must be the dict init_params "
                             "makes.")
    for k in want:
        assert_close(params[k], want[k], what=f"train_echo(num_steps=0) params[{k!r}]",
                     hint="With no step to take, the parameters are the initial ones: "
                     "init_params(n_symbols, hidden_size, n_symbols, rng) with the rng given.")
    if not isinstance(history, dict) or [len(history.get(k, [None])) for k in
                                         ("loss", "accuracy")] != [0, 0]:
        raise AssertionError("train_echo(num_steps=0): history must be {'loss': [], "
                             "'accuracy': []} (one entry per step, and there is none).")


@pytest.mark.slow
@pytest.mark.points(1.75)
def test_ex01_train_echo(ex01):
    """train_echo: learns the echo task (delay 2) to >= 90% accuracy on fresh sequences"""
    params, history = unpack(
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
    losses = [scalar(v, "train_echo history['loss'] entry") for v in losses]
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


@pytest.mark.points(0.5)
def test_ex01_accuracy(ex01):
    """accuracy: fraction of correct positions, from a zero state, counting unmasked ones"""
    rng = _rng(127)
    params = _model_params(rng)
    x = rng.standard_normal((3, 6, D))
    h = _forward(x, np.zeros((3, H)), params["Wx"], params["Wh"], params["b"])
    y = np.argmax(h @ params["Wy"] + params["by"], axis=-1)
    y = np.where(rng.random(y.shape) < 0.4, (y + 1) % V, y)
    mask = np.ones((3, 6))
    mask[0] = 0.0
    mask[:, :2] = 0.0
    plain = float(np.mean(np.argmax(h @ params["Wy"] + params["by"], axis=-1) == y))
    masked = _echo_accuracy(params, x, y, mask)
    got = ex01.accuracy(_copy_params(params), x.copy(), y.copy())
    close_scalar(got, plain, what="accuracy (no mask)", atol=1e-12, rtol=1e-9,
                  hint="Run the model from a zero state and compare the highest score with "
                       "the target at every position.")
    got = ex01.accuracy(_copy_params(params), x.copy(), y.copy(), mask.copy())
    if np.isclose(scalar(got, "accuracy (with a mask)"), plain, rtol=1e-9) \
            and not np.isclose(plain, masked):
        raise AssertionError("accuracy (with a mask): equals the accuracy over all positions; "
                             "the mask was not used." + explain("accuracy-mask"))
    close_scalar(got, masked, what="accuracy (with a mask)", atol=1e-12, rtol=1e-9,
                  hint=explain("accuracy-mask"))


@pytest.mark.points(1)
def test_ex01_plot_hidden_states(ex01, student_tmp):
    """plot_hidden_states: a labelled heatmap of h (units by time steps) with a colour bar"""
    rng = _rng(125)
    params = _model_params(rng, d=4, hh=16, v=4)
    x, _, _ = _echo_data(rng, 3, 12, 4, 2)
    path = student_tmp / "hidden_states.png"
    info = figure_info(ex01.plot_hidden_states(params, x, str(path)), what="plot_hidden_states")
    assert_png(path, what="plot_hidden_states")
    if len(info["axes"]) != 1 or len(info["axes"][0]["images"]) != 1:
        raise AssertionError("plot_hidden_states: draw one image (imshow) on one set of axes; "
                             f"found {len(info['axes'])} axes.")
    ax = info["axes"][0]
    check_labels(ax, what="plot_hidden_states", colorbar=True)
    h = _forward(x[:1], np.zeros((1, 16)), params["Wx"], params["Wh"], params["b"])[0]
    image = np.asarray(ax["images"][0])
    if image.shape == h.shape and image.shape != h.T.shape:
        raise AssertionError(f"plot_hidden_states: the image is {image.shape}, time steps as "
                             "rows; draw hidden units as rows and time steps as columns.")
    assert_close(image, h.T, what="plot_hidden_states image (hidden units x time steps)",
                 atol=1e-8, rtol=1e-6, hint="Draw the states of the first sequence, x[:1], "
                 "run from a zero state.")


@pytest.mark.points(1)
def test_ex01_plot_gradient_norms(ex01, student_tmp):
    """plot_gradient_norms: one labelled line per radius, log scale, with a legend"""
    lags = np.arange(30, dtype=np.float64)
    norms = {0.5: 0.5**lags, 1.0: np.ones(30), 1.5: 1.5**lags}
    path = student_tmp / "gradient_norms.png"
    info = figure_info(ex01.plot_gradient_norms(norms, str(path)), what="plot_gradient_norms")
    assert_png(path, what="plot_gradient_norms")
    if len(info["axes"]) != 1:
        raise AssertionError(f"plot_gradient_norms: draw on one set of axes; found "
                             f"{len(info['axes'])}.")
    ax = info["axes"][0]
    check_labels(ax, what="plot_gradient_norms", legend=len(norms))
    if ax["yscale"] != "log":
        raise AssertionError(f"plot_gradient_norms: the y axis is {ax['yscale']}; norms span "
                             "many orders of magnitude, use a log scale (semilogy).")
    lines = [np.asarray(line["y"]) for line in ax["lines"]]
    for rho, values in norms.items():
        if not any(y.shape == values.shape and np.allclose(y, values) for y in lines):
            raise AssertionError(f"plot_gradient_norms: no line shows the norms for rho = {rho} "
                                 "(one line per radius, y = the norms, x = the lag).")


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


# ---------------------------------------------------------------------------------------
# float32 inputs (the Conventions: every function returns float64 arrays, whatever float
# dtype it is given). Added by issue 20: the hidden tests required it without a public test.
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_float32_inputs_give_float64(ex01):
    """float32 inputs: the layers, their backward passes and the loss return float64"""
    rng = _rng(127)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    h_next, cache = ex01.rnn_step_forward(f32(N, D), f32(N, H), f32(D, H), f32(H, H), f32(H))
    check_array(h_next, (N, H), what="rnn_step_forward h_next (float32 inputs)")
    for name, g, shape in zip(STEP_GRADS, ex01.rnn_step_backward(f32(N, H), cache),
                              ((N, D), (N, H), (D, H), (H, H), (H,)), strict=True):
        check_array(g, shape, what=f"rnn_step_backward {name} (float32 inputs)")
    h, cache = ex01.rnn_forward(f32(N, T, D), f32(N, H), f32(D, H), f32(H, H), f32(H))
    check_array(h, (N, T, H), what="rnn_forward h (float32 inputs)")
    for name, g, shape in zip(SEQ_GRADS, ex01.rnn_backward(f32(N, T, H), cache),
                              ((N, T, D), (N, H), (D, H), (H, H), (H,)), strict=True):
        check_array(g, shape, what=f"rnn_backward {name} (float32 inputs)")
    scores, cache = ex01.affine_forward(f32(N, T, H), f32(H, V), f32(V))
    check_array(scores, (N, T, V), what="affine_forward scores (float32 inputs)")
    for name, g, shape in zip(("dh", "dWy", "dby"), ex01.affine_backward(f32(N, T, V), cache),
                              ((N, T, H), (H, V), (V,)), strict=True):
        check_array(g, shape, what=f"affine_backward {name} (float32 inputs)")
    _, dscores = ex01.softmax_cross_entropy(f32(N, T, V), rng.integers(0, V, (N, T)))
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores (float32 scores)")
