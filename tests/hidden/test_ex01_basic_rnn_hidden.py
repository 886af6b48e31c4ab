"""Hidden tests for Exercise 1: the student's functions against the reference solution at
sizes, seeds and edge cases the public tests never use.

Expected values come from the reference (imported in the grading process, never from the
student's process); failure messages do not reveal them (`reveal=False`).
"""

from __future__ import annotations

import numpy as np
import pytest

from solutions import ex_01_basic_rnn as ref
from tests.public.harness import assert_close, check_array, raises_naming
from tests.public.misconceptions import explain

KEYS = ("Wx", "Wh", "b", "Wy", "by")
STEP_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def _rng(seed):
    return np.random.default_rng(seed)


def _unpack(result, names, fn):
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise AssertionError(f"{fn} must return a tuple ({', '.join(names)}); got "
                             f"{type(result).__name__}.")
    return tuple(result)


def _close(got, expected, what, hint="", atol=1e-10, rtol=1e-7):
    assert_close(got, expected, what=what, atol=atol, rtol=rtol, hint=hint, reveal=False)


def _close_scalar(got, expected, what, hint="", atol=1e-10, rtol=1e-8):
    if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1:
        got = got.reshape(())[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
        raise AssertionError(f"{what}: expected a float, got {type(got).__name__}.")
    _close(np.asarray(float(got)), np.asarray(float(expected)), what, hint, atol, rtol)


def _cp(arrays):
    return [np.array(a, copy=True) for a in arrays]


def _cp_dict(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


def _step_args(rng, n, d, h):
    return [rng.standard_normal((n, d)), 0.7 * rng.standard_normal((n, h)),
            0.6 * rng.standard_normal((d, h)), 0.5 * rng.standard_normal((h, h)),
            0.2 * rng.standard_normal(h)]


def _seq_args(rng, n, t, d, h):
    return [rng.standard_normal((n, t, d)), 0.7 * rng.standard_normal((n, h)),
            0.6 * rng.standard_normal((d, h)), (0.9 / np.sqrt(h)) * rng.standard_normal((h, h)),
            0.2 * rng.standard_normal(h)]


def _params(rng, d, h, v):
    return {"Wx": 0.6 * rng.standard_normal((d, h)), "Wh": 0.5 * rng.standard_normal((h, h)),
            "b": 0.2 * rng.standard_normal(h), "Wy": 0.6 * rng.standard_normal((h, v)),
            "by": 0.2 * rng.standard_normal(v)}


def _compare_seq(ex01, args, dh, label):
    """rnn_forward and rnn_backward against the reference for one case."""
    h, cache = _unpack(ex01.rnn_forward(*_cp(args)), ("h", "cache"), "rnn_forward")
    h_ref, cache_ref = ref.rnn_forward(*_cp(args))
    _close(h, h_ref, f"rnn_forward h ({label})")
    got = _unpack(ex01.rnn_backward(dh.copy(), cache), SEQ_GRADS, "rnn_backward")
    want = ref.rnn_backward(dh.copy(), cache_ref)
    for name, g, w in zip(SEQ_GRADS, got, want, strict=True):
        _close(g, w, f"rnn_backward {name} ({label})",
               hint="see the public rnn_backward tests' hints.")


# ---------------------------------------------------------------------------------------
# Bad arguments and float32 gradients (the contract: a ValueError that names the argument;
# clip_grad_norm sums in float64). Found missing by the automatic mutants
# (tests/mutants/automatic). float32 layer inputs: the public
# test_ex01_float32_inputs_give_float64.
# ---------------------------------------------------------------------------------------


def _float64(value, what):
    if not isinstance(value, np.ndarray) or value.dtype != np.float64:
        got = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise AssertionError(f"{what}: float32 inputs must give float64 results, got {got}."
                             + explain("float32-precision"))


# ---------------------------------------------------------------------------------------
# Steps and sequences against the reference
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex01_hidden_step_vs_reference(ex01):
    """rnn_step_forward/backward: match the reference at new sizes, batch of one included"""
    rng = _rng(9001)
    for n, d, h in ((3, 4, 6), (1, 2, 7), (5, 1, 3)):
        args = _step_args(rng, n, d, h)
        dh_next = rng.standard_normal((n, h))
        label = f"N={n}, D={d}, H={h}"
        h_next, cache = _unpack(ex01.rnn_step_forward(*_cp(args)), ("h_next", "cache"),
                                "rnn_step_forward")
        h_ref, cache_ref = ref.rnn_step_forward(*_cp(args))
        _close(h_next, h_ref, f"rnn_step_forward h_next ({label})")
        got = _unpack(ex01.rnn_step_backward(dh_next.copy(), cache), STEP_GRADS,
                      "rnn_step_backward")
        want = ref.rnn_step_backward(dh_next.copy(), cache_ref)
        for name, g, w in zip(STEP_GRADS, got, want, strict=True):
            _close(g, w, f"rnn_step_backward {name} ({label})",
                   hint="a batch of one must keep its (1, ...) axis (no squeeze)." if n == 1
                   else "other sizes than the public tests: no hard-coded sizes, weights on "
                        "the right of row vectors, transposes in the backward pass.")


@pytest.mark.points(1)
def test_ex01_hidden_sequence_vs_reference(ex01):
    """rnn_forward/rnn_backward: match the reference (N=3, T=7, D=4, H=6 and T=25)"""
    rng = _rng(9002)
    args = _seq_args(rng, 3, 7, 4, 6)
    _compare_seq(ex01, args, rng.standard_normal((3, 7, 6)), "N=3, T=7, D=4, H=6")
    args = _seq_args(rng, 2, 25, 3, 8)
    _compare_seq(ex01, args, rng.standard_normal((2, 25, 8)), "N=2, T=25, D=3, H=8")
    dh = np.zeros((2, 25, 8))
    dh[:, -1] = rng.standard_normal((2, 8))
    _compare_seq(ex01, args, dh, "T=25, gradient on the last state only")


def _timed(call, what):
    """Run `call`; a call stopped by its time limit becomes a failure about speed."""
    try:
        return call()
    except Exception as exc:
        if "did not return within" not in str(exc):
            raise
        raise AssertionError(f"{what}: not finished within 5 s; the reference needs "
                             "milliseconds." + explain("numerical-gradient-training")) from None


def _large_cases(rng):
    """(label, function name, student call, reference result) at sizes where numerical
    differentiation needs minutes."""
    step_args = _step_args(rng, 128, 256, 256)
    dh_next = rng.standard_normal((128, 256))
    seq_args = _seq_args(rng, 32, 50, 64, 64)
    dh = rng.standard_normal((32, 50, 64))
    # Scaled like a trained model (no exploding gradients), so the comparison is sharp.
    params = {"Wx": rng.standard_normal((20, 128)) / np.sqrt(20),
              "Wh": 0.9 * rng.standard_normal((128, 128)) / np.sqrt(128),
              "b": 0.2 * rng.standard_normal(128),
              "Wy": rng.standard_normal((128, 20)) / np.sqrt(128),
              "by": 0.2 * rng.standard_normal(20)}
    x = np.eye(20)[rng.integers(0, 20, (16, 50))]
    y = rng.integers(0, 20, (16, 50))
    return [
        ("rnn_step_backward (N=128, D=H=256)", "rnn_step_backward", step_args, dh_next,
         ref.rnn_step_backward(dh_next.copy(), ref.rnn_step_forward(*_cp(step_args))[1])),
        ("rnn_backward (N=32, T=50, D=H=64)", "rnn_backward", seq_args, dh,
         ref.rnn_backward(dh.copy(), ref.rnn_forward(*_cp(seq_args))[1])),
        ("model_loss grads (N=16, T=50, H=128)", "model_loss", (params, x, y), None,
         ref.model_loss(_cp_dict(params), x.copy(), y.copy())[1]),
    ]


def _run_large(fast, name, args, upstream):
    if name == "rnn_step_backward":
        cache = fast.rnn_step_forward(*_cp(args))[1]
        return fast.rnn_step_backward(upstream.copy(), cache)
    if name == "rnn_backward":
        cache = fast.rnn_forward(*_cp(args))[1]
        return fast.rnn_backward(upstream.copy(), cache)
    params, x, y = args
    grads = fast.model_loss(_cp_dict(params), x.copy(), y.copy())[1]
    return tuple(grads[k] for k in KEYS) if isinstance(grads, dict) and set(grads) == set(KEYS) \
        else grads


def _matches(got, want) -> bool:
    want = tuple(want[k] for k in KEYS) if isinstance(want, dict) else want
    try:
        for g, w in zip(got, want, strict=True):
            _close(g, w, "")
    except (AssertionError, TypeError, ValueError):
        return False
    return True


def _small_result_ok(ex01, name, rng) -> bool:
    """Does the same function match the reference at a small size?"""
    if name == "model_loss":
        params = _params(rng, 3, 4, 3)
        x, y = rng.standard_normal((2, 5, 3)), rng.integers(0, 3, (2, 5))
        got = _run_large(ex01, name, (params, x, y), None)
        return _matches(got, ref.model_loss(_cp_dict(params), x.copy(), y.copy())[1])
    if name == "rnn_step_backward":
        args, up = _step_args(rng, 2, 3, 4), rng.standard_normal((2, 4))
        want = ref.rnn_step_backward(up.copy(), ref.rnn_step_forward(*_cp(args))[1])
    else:
        args, up = _seq_args(rng, 2, 5, 3, 4), rng.standard_normal((2, 5, 4))
        want = ref.rnn_backward(up.copy(), ref.rnn_forward(*_cp(args))[1])
    try:
        return _matches(_run_large(ex01, name, args, up), want)
    except Exception:  # noqa: BLE001 - an error at a small size is judged by other tests
        return False


@pytest.mark.points(1.5)
def test_ex01_hidden_backward_large_and_fast(ex01):
    """backward passes: large sizes within 5 s each (speed only; other tests judge values)"""
    # The reference needs milliseconds here. Differentiating the forward pass numerically
    # needs one or two forward passes per entry: 10^5 and more, minutes. A backward pass
    # that is wrong at small sizes too loses its points in the tests of its values, not
    # here again; one that is right at small sizes must be right here as well.
    fast = ex01.with_timeout(5)
    rng = _rng(9003)
    for label, name, args, upstream, want in _large_cases(rng):
        got = _timed(lambda name=name, args=args, upstream=upstream:
                     _run_large(fast, name, args, upstream), label)
        if _matches(got, want):
            continue
        arrays = [g for g in (got if isinstance(got, (tuple, list)) else ())
                  if isinstance(g, np.ndarray)]
        if not arrays or all(not np.any(g) for g in arrays):
            raise AssertionError(f"{label}: finished, but returned no gradients (nothing or "
                                 "only zeros), so its speed cannot be judged.")
        if _small_result_ok(ex01, name, _rng(9013)):
            raise AssertionError(f"{label}: right at small sizes but wrong at this size. "
                                 "Nothing may depend on particular sizes; every array stays "
                                 "float64." + explain("float32-precision"))


@pytest.mark.points(0.25)
def test_ex01_hidden_sequence_edge_sizes(ex01):
    """rnn_forward/rnn_backward: a single time step, a batch of one"""
    rng = _rng(9003)
    for n, t, d, h in ((1, 1, 2, 3), (4, 1, 3, 2), (1, 6, 5, 4)):
        args = _seq_args(rng, n, t, d, h)
        _compare_seq(ex01, args, rng.standard_normal((n, t, h)), f"N={n}, T={t}, D={d}, H={h}")


@pytest.mark.points(0.5)
def test_ex01_hidden_backward_repeatable(ex01):
    """rnn_backward: same answer twice from one cache, after another forward pass in between"""
    rng = _rng(9004)
    args_a = _seq_args(rng, 3, 5, 4, 6)
    args_b = _seq_args(rng, 3, 5, 4, 6)
    dh = rng.standard_normal((3, 5, 6))
    _, cache_a = _unpack(ex01.rnn_forward(*_cp(args_a)), ("h", "cache"), "rnn_forward")
    first = _unpack(ex01.rnn_backward(dh.copy(), cache_a), SEQ_GRADS, "rnn_backward")
    ex01.rnn_forward(*_cp(args_b))  # a second forward pass must not disturb cache_a
    second = _unpack(ex01.rnn_backward(dh.copy(), cache_a), SEQ_GRADS, "rnn_backward")
    want = ref.rnn_backward(dh.copy(), ref.rnn_forward(*_cp(args_a))[1])
    hint = ("keep everything backward needs in the cache returned by the forward pass (no "
            "globals), and never modify the cache (or accumulate into arrays stored in it).")
    plain = "the first call is already wrong: make the public rnn_backward tests pass first."
    for name, g1, g2, w in zip(SEQ_GRADS, first, second, want, strict=True):
        _close(g1, w, f"rnn_backward {name} (first call)", hint=plain)
        _close(g2, w, f"rnn_backward {name} (second call on the same cache)", hint=hint)
    step_args = _step_args(rng, 2, 3, 4)
    dh_next = rng.standard_normal((2, 4))
    _, step_cache = ex01.rnn_step_forward(*_cp(step_args))
    once = _unpack(ex01.rnn_step_backward(dh_next.copy(), step_cache), STEP_GRADS,
                   "rnn_step_backward")
    twice = _unpack(ex01.rnn_step_backward(dh_next.copy(), step_cache), STEP_GRADS,
                    "rnn_step_backward")
    want = ref.rnn_step_backward(dh_next.copy(), ref.rnn_step_forward(*_cp(step_args))[1])
    for name, g1, g2, w in zip(STEP_GRADS, once, twice, want, strict=True):
        _close(g1, w, f"rnn_step_backward {name} (first call)",
               hint="make the public rnn_step_backward test pass first.")
        _close(g2, w, f"rnn_step_backward {name} (second call on the same cache)", hint=hint)


# ---------------------------------------------------------------------------------------
# Output layer and loss against the reference
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex01_hidden_affine_vs_reference(ex01):
    """affine_forward/backward: match the reference (N=3, T=7, H=6, V=5 and N=T=1)"""
    rng = _rng(9005)
    for n, t, h, v in ((3, 7, 6, 5), (1, 1, 4, 2)):
        hs, Wy, by = rng.standard_normal((n, t, h)), rng.standard_normal((h, v)), \
            rng.standard_normal(v)
        dscores = rng.standard_normal((n, t, v))
        label = f"N={n}, T={t}, H={h}, V={v}"
        scores, cache = _unpack(ex01.affine_forward(*_cp([hs, Wy, by])), ("scores", "cache"),
                                "affine_forward")
        s_ref, cache_ref = ref.affine_forward(*_cp([hs, Wy, by]))
        _close(scores, s_ref, f"affine_forward scores ({label})")
        got = _unpack(ex01.affine_backward(dscores.copy(), cache), ("dh", "dWy", "dby"),
                      "affine_backward")
        want = ref.affine_backward(dscores.copy(), cache_ref)
        for name, g, w in zip(("dh", "dWy", "dby"), got, want, strict=True):
            _close(g, w, f"affine_backward {name} ({label})",
                   hint="dWy and dby sum over both the batch and the time axes.")


@pytest.mark.points(0.75)
def test_ex01_hidden_softmax_vs_reference(ex01):
    """softmax_cross_entropy: extreme logits, whole rows masked, N=T=1, against the reference"""
    rng = _rng(9006)
    n, t, v = 3, 7, 5
    y = rng.integers(0, v, (n, t))
    extreme = rng.standard_normal((n, t, v))
    extreme[0] *= 1e5
    extreme[1] += 3e4
    extreme[2, :, 0] = -5e4
    extreme[2, :, 1] = 5e4
    mask_rows = np.ones((n, t))
    mask_rows[1] = 0.0
    mask_rows[2, ::2] = 0.0
    one = rng.standard_normal((1, 1, 3))
    cases = [
        ("extreme logits", extreme, y, None),
        ("extreme logits with a mask", extreme, y, mask_rows),
        ("a whole row masked", rng.standard_normal((n, t, v)), y, mask_rows),
        ("N=T=1", one, np.array([[2]]), None),
    ]
    for label, scores, targets, mask in cases:
        extra = () if mask is None else (mask.copy(),)
        with np.errstate(all="ignore"):
            loss, dscores = _unpack(ex01.softmax_cross_entropy(scores.copy(), targets.copy(),
                                                               *extra),
                                    ("loss", "dscores"), "softmax_cross_entropy")
        loss_ref, d_ref = ref.softmax_cross_entropy(scores.copy(), targets.copy(), *extra)
        hint = ("Large logits must not overflow; the mean is over the unmasked positions, "
                "which get no gradient." + explain("softmax-overflow"))
        _close_scalar(loss, loss_ref, f"softmax_cross_entropy loss ({label})", hint=hint)
        _close(dscores, d_ref, f"softmax_cross_entropy dscores ({label})", hint=hint,
               atol=1e-12, rtol=1e-7)


@pytest.mark.points(0.5)
def test_ex01_hidden_clip_vs_reference(ex01):
    """clip_grad_norm: any dict of arrays, exactly at the threshold, and far above it"""
    rng = _rng(9007)
    grads = {"W1": rng.standard_normal((2, 3, 4)), "a": rng.standard_normal(7),
             "z": np.array([[3.0]])}
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    for label, max_norm in (("max_norm equal to the norm", total),
                            ("max_norm far below the norm", total / 40.0),
                            ("integer max_norm", 100)):
        clipped, total_norm = _unpack(ex01.clip_grad_norm(_cp_dict(grads), max_norm),
                                      ("clipped", "total_norm"), "clip_grad_norm")
        want, want_norm = ref.clip_grad_norm(_cp_dict(grads), max_norm)
        _close_scalar(total_norm, want_norm, f"clip_grad_norm total_norm ({label})",
                      hint="the norm before clipping, over every array of the dict.")
        if not isinstance(clipped, dict) or set(clipped) != set(grads):
            raise AssertionError(f"clip_grad_norm ({label}): clipped must be a dict with the "
                                 "same keys as grads (any keys, not only the model's five).")
        for k in grads:
            _close(clipped[k], want[k], f"clip_grad_norm clipped[{k!r}] ({label})",
                   atol=1e-12, rtol=1e-6,
                   hint="scale every array by max_norm / total_norm only when total_norm > "
                        "max_norm; keep each array's shape.")
    grads32 = {k: g.astype(np.float32) for k, g in grads.items()}
    clipped, total_norm = ex01.clip_grad_norm(grads32, total / 40.0)
    want, want_norm = ref.clip_grad_norm({k: g.astype(np.float64) for k, g in grads32.items()},
                                         total / 40.0)
    _close_scalar(total_norm, want_norm, "clip_grad_norm total_norm (float32 grads)",
                  atol=0, rtol=1e-12, hint="accumulate the norm in float64.")
    for k in grads32:
        _float64(clipped[k], f"clip_grad_norm clipped[{k!r}]")


@pytest.mark.points(1)
def test_ex01_hidden_model_loss_vs_reference(ex01):
    """model_loss: loss, all gradients and h_last match the reference, with/without h0 and mask"""
    rng = _rng(9008)
    n, t, d, h, v = 3, 7, 4, 6, 5
    params = _params(rng, d, h, v)
    x = np.eye(d)[rng.integers(0, d, (n, t))]
    y = rng.integers(0, v, (n, t))
    h0 = 0.5 * rng.standard_normal((n, h))
    mask = np.ones((n, t))
    mask[0] = 0.0
    mask[:, :2] = 0.0
    small = _params(rng, 2, 3, 2)
    cases = [
        ("h0 given", params, x, y, {"h0": h0}),
        ("h0=None", params, x, y, {}),
        ("h0 and a mask with a whole row masked", params, x, y, {"h0": h0, "mask": mask}),
        ("mask, h0=None", params, x, y, {"mask": mask}),
        ("N=T=1", small, rng.standard_normal((1, 1, 2)), np.array([[1]]), {}),
    ]
    for label, p, xs, ys, kwargs in cases:
        out = _unpack(ex01.model_loss(_cp_dict(p), xs.copy(), ys.copy(),
                                      **{k: val.copy() for k, val in kwargs.items()}),
                      ("loss", "grads", "h_last"), "model_loss")
        loss_ref, grads_ref, h_ref = ref.model_loss(_cp_dict(p), xs.copy(), ys.copy(),
                                                    **{k: val.copy() for k, val in kwargs.items()})
        _close_scalar(out[0], loss_ref, f"model_loss loss ({label})",
                      hint="h0=None means zeros; pass the mask on to the loss.")
        grads = out[1]
        if not isinstance(grads, dict) or set(grads) != set(KEYS):
            raise AssertionError(f"model_loss grads ({label}): expected a dict with exactly "
                                 f"the keys {list(KEYS)}.")
        for k in KEYS:
            _close(grads[k], grads_ref[k], f"model_loss grads[{k!r}] ({label})",
                   hint="make the public model_loss tests pass first; then: the backward pass "
                        "runs from the same h0 as the forward pass, and masked positions add "
                        "nothing.")
        _close(out[2], h_ref, f"model_loss h_last ({label})",
               hint="h_last is h[:, -1], shape (N, H).")
    check_array(ex01.init_params(1, 1, 1, _rng(9009))["Wx"], (1, 1),
                what="init_params(1, 1, 1) Wx")


@pytest.mark.points(0.5)
def test_ex01_hidden_accuracy_vs_reference(ex01):
    """accuracy: fraction of correct (unmasked) positions matches the reference"""
    rng = _rng(9009)
    n, t, d, h, v = 4, 9, 3, 5, 4
    params = _params(rng, d, h, v)
    x = rng.standard_normal((n, t, d))
    scores, _ = ref.affine_forward(ref.rnn_forward(x, np.zeros((n, h)), params["Wx"],
                                                   params["Wh"], params["b"])[0],
                                   params["Wy"], params["by"])
    y = scores.argmax(axis=2)
    flip = rng.random((n, t)) < 0.4
    y[flip] = (y[flip] + 1) % v  # about 60% correct
    mask = np.ones((n, t))
    mask[0] = 0.0
    mask[:, :3] = 0.0
    for label, extra in (("no mask", ()), ("with a mask", (mask,))):
        got = ex01.accuracy(_cp_dict(params), x.copy(), y.copy(), *_cp(extra))
        want = ref.accuracy(_cp_dict(params), x.copy(), y.copy(), *_cp(extra))
        _close_scalar(got, want, f"accuracy ({label})", atol=1e-12, rtol=1e-9,
                      hint="run from a zero state, take the argmax over V, and count only "
                           "positions where the mask is 1 (divide by sum(mask)).")


@pytest.mark.points(0.5)
def test_ex01_hidden_adam_vs_reference(ex01):
    """adam_step: three steps with the returned state, custom betas, match the reference"""
    rng = _rng(9010)
    params = _params(rng, 3, 4, 2)
    grads_seq = [{k: rng.standard_normal(val.shape) for k, val in params.items()}
                 for _ in range(3)]
    mine, theirs = _cp_dict(params), _cp_dict(params)
    state, state_ref = None, None
    for i, grads in enumerate(grads_seq, start=1):
        before = _cp_dict(mine)
        mine, state = _unpack(ex01.adam_step(mine, _cp_dict(grads), state, 0.05, 0.8, 0.99),
                              ("new_params", "state"), "adam_step")
        theirs_before = _cp_dict(theirs)
        theirs, state_ref = ref.adam_step(theirs, _cp_dict(grads), state_ref, 0.05, 0.8, 0.99)
        if not isinstance(mine, dict) or set(mine) != set(KEYS):
            raise AssertionError("adam_step new_params: expected a dict with the parameter keys.")
        for k in KEYS:
            update = check_array(mine[k], params[k].shape, what=f"adam_step new_params[{k!r}]")
            _close(update - before[k], theirs[k] - theirs_before[k],
                   f"adam_step update of {k!r} at step {i}", atol=1e-9, rtol=1e-5,
                   hint="use the beta1/beta2 arguments, count t from 1 across calls (it lives "
                        "in the state), and bias-correct m and v.")


# ---------------------------------------------------------------------------------------
# Validation: bad arguments raise a ValueError naming the argument (Conventions). Apart from
# the tests of the values, so a different message costs these points only.
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex01_hidden_layers_validation(ex01):
    """validation of the layers: a wrong shape in the steps, sequences, affine raises naming it"""
    rng = _rng(9014)
    x, h_prev, Wx, Wh, b = _step_args(rng, 3, 4, 6)
    for name, bad in (("x", [x[0], h_prev, Wx, Wh, b]), ("h_prev", [x, h_prev[:2], Wx, Wh, b]),
                      ("Wx", [x, h_prev, Wx[:, :5], Wh, b]), ("Wh", [x, h_prev, Wx, Wh[:5], b]),
                      ("b", [x, h_prev, Wx, Wh, b[:5]])):
        raises_naming(lambda bad=bad: ex01.rnn_step_forward(*bad), name,
                      f"rnn_step_forward with {name} of the wrong shape")
    _, cache = _unpack(ex01.rnn_step_forward(x, h_prev, Wx, Wh, b), ("h_next", "cache"),
                       "rnn_step_forward")
    raises_naming(lambda: ex01.rnn_step_backward(np.ones((3, 5)), cache), "dh_next",
                  "rnn_step_backward with dh_next of the wrong shape")
    x, h0, Wx, Wh, b = _seq_args(rng, 2, 3, 4, 5)
    for name, bad in (("x", [x[0], h0, Wx, Wh, b]), ("x", [x[:, :0], h0, Wx, Wh, b]),
                      ("h0", [x, h0[:1], Wx, Wh, b])):
        raises_naming(lambda bad=bad: ex01.rnn_forward(*bad), name,
                      f"rnn_forward with {name} of shape {np.shape(bad[0 if name == 'x' else 1])}")
    _, cache = _unpack(ex01.rnn_forward(x, h0, Wx, Wh, b), ("h", "cache"), "rnn_forward")
    raises_naming(lambda: ex01.rnn_backward(np.ones((2, 3, 4)), cache), "dh",
                  "rnn_backward with dh of the wrong shape")
    hs, Wy, by = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), \
        rng.standard_normal(5)
    for name, bad in (("h", [hs[0], Wy, by]), ("Wy", [hs, Wy[:3], by]), ("by", [hs, Wy, by[:4]])):
        raises_naming(lambda bad=bad: ex01.affine_forward(*bad), name,
                      f"affine_forward with {name} of the wrong shape")
    _, cache = _unpack(ex01.affine_forward(hs, Wy, by), ("scores", "cache"), "affine_forward")
    raises_naming(lambda: ex01.affine_backward(np.ones((2, 3, 4)), cache), "dscores",
                  "affine_backward with dscores of the wrong shape")


@pytest.mark.points(0.25)
def test_ex01_hidden_loss_validation(ex01):
    """validation of the loss, clipping, model_loss: a bad argument raises naming it"""
    rng = _rng(9015)
    n, t, v = 3, 7, 5
    y = rng.integers(0, v, (n, t))
    scores = rng.standard_normal((n, t, v))
    for label, bad in (("scores of shape (N, V)", (scores[0], y)),
                       ("y of the wrong shape", (scores, y[:, :2])),
                       ("float labels y", (scores, y + 0.5)),
                       ("a label y equal to V", (scores, np.where(y == 0, v, y))),
                       ("a negative label y", (scores, np.where(y == 0, -1, y)))):
        raises_naming(lambda bad=bad: ex01.softmax_cross_entropy(*bad),
                      "scores" if label.startswith("scores") else "y",
                      f"softmax_cross_entropy with {label}")
    grads = {"W1": rng.standard_normal((2, 3, 4)), "a": rng.standard_normal(7)}
    raises_naming(lambda: ex01.clip_grad_norm(_cp_dict(grads), 0.0), "max_norm",
                  "clip_grad_norm(max_norm=0)")
    params = _params(rng, 4, 6, 5)
    x = np.eye(4)[rng.integers(0, 4, (n, t))]
    raises_naming(lambda: ex01.model_loss(_cp_dict(params), x[0], y), "x",
                  "model_loss with x of shape (T, D)")


# ---------------------------------------------------------------------------------------
# Training and the gradient experiment
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.points(1.5)
def test_ex01_hidden_train_echo(ex01):
    """train_echo: learns delay 3, and 5 symbols with other sizes, to >= 90% accuracy"""
    cases = [
        ({"delay": 3, "rng": _rng(2024)}, 3, 12, 4),
        ({"delay": 3, "n_symbols": 5, "hidden_size": 24, "seq_len": 15, "rng": _rng(31)},
         3, 15, 5),
    ]
    for kwargs, delay, seq_len, n_symbols in cases:
        label = ", ".join(f"{k}={val}" for k, val in kwargs.items() if k != "rng")
        params, _ = _unpack(ex01.with_timeout(60).train_echo(print_every=0, **kwargs),
                            ("params", "history"), "train_echo")
        if not isinstance(params, dict) or not set(KEYS) <= set(params):
            raise AssertionError(f"train_echo ({label}): params must be a dict with {KEYS}.")
        hidden = kwargs.get("hidden_size", 32)
        shapes = {"Wx": (n_symbols, hidden), "Wh": (hidden, hidden), "b": (hidden,),
                  "Wy": (hidden, n_symbols), "by": (n_symbols,)}
        for k, shape in shapes.items():
            check_array(params[k], shape, what=f"train_echo params[{k!r}] ({label})")
        x, y, mask = ref.make_echo_data(500, seq_len, n_symbols, delay, _rng(777))
        acc = ref.accuracy({k: params[k] for k in KEYS}, x, y, mask)
        if acc < 0.9:
            raise AssertionError(f"train_echo ({label}): accuracy {acc:.3f} on fresh sequences, "
                                 "need >= 0.9. Use every argument (delay, n_symbols, "
                                 "hidden_size, seq_len) and the rng you are given.")


@pytest.mark.points(0.5)
def test_ex01_hidden_train_echo_trains(ex01):
    """train_echo: learns step by step (one step does not solve the task, 150 steps beat chance)"""
    fit = ex01.with_timeout(60).train_echo
    x, y, mask = ref.make_echo_data(500, 12, 4, 2, _rng(778))

    def accuracy_of(params, label):
        if not isinstance(params, dict) or not set(KEYS) <= set(params):
            raise AssertionError(f"train_echo ({label}): params must be a dict with {KEYS}.")
        shapes = {"Wx": (4, 32), "Wh": (32, 32), "b": (32,), "Wy": (32, 4), "by": (4,)}
        for k, shape in shapes.items():
            check_array(params[k], shape, what=f"train_echo params[{k!r}] ({label})")
        return ref.accuracy({k: params[k] for k in KEYS}, x, y, mask)

    params, history = _unpack(fit(num_steps=1, print_every=0, rng=_rng(4321)),
                              ("params", "history"), "train_echo")
    if not isinstance(history, dict) or len(history.get("loss", ())) != 1:
        raise AssertionError("train_echo(num_steps=1): history['loss'] must hold one loss per "
                             "training step, so exactly 1 here.")
    acc = accuracy_of(params, "num_steps=1")
    if acc >= 0.8:
        raise AssertionError(f"train_echo(num_steps=1): accuracy {acc:.2f} after a single "
                             "step; parameters must come from init_params and num_steps "
                             "updates, not be set by hand.")
    params, _ = _unpack(fit(num_steps=150, print_every=0, rng=_rng(4322)),
                        ("params", "history"), "train_echo")
    acc = accuracy_of(params, "num_steps=150")
    if acc < 0.5:
        raise AssertionError(f"train_echo(num_steps=150): accuracy {acc:.2f} on fresh "
                             "sequences, where guessing gives 0.25; the parameters it returns "
                             "must be the trained ones.")


@pytest.mark.points(0.5)
def test_ex01_hidden_gradient_norm_vs_lag(ex01):
    """gradient_norm_vs_lag: other radii, sizes and seed"""
    radii = (0.3, 1.25)
    norms = ex01.gradient_norm_vs_lag(hidden_size=20, seq_len=25, radii=radii, rng=_rng(9011))
    if not isinstance(norms, dict):
        raise AssertionError("gradient_norm_vs_lag: expected a dict rho -> norms.")
    for rho in radii:
        if rho not in norms:
            raise AssertionError(f"gradient_norm_vs_lag: no entry for rho = {rho}; use the "
                                 "radii argument as the keys.")
        n = check_array(norms[rho], (25,), what=f"gradient_norm_vs_lag norms[{rho}]")
        if not np.isclose(n[0], 1.0, rtol=1e-6):
            raise AssertionError(f"gradient_norm_vs_lag norms[{rho}][0] must be 1 (a unit "
                                 "gradient on h_T).")
    if not norms[0.3][15] < 1e-4:
        raise AssertionError("gradient_norm_vs_lag: for rho = 0.3 the norm at lag 15 should "
                             "have vanished (< 1e-4); use the spectral radius you are given.")
    if not norms[1.25][15] > 1.0:
        raise AssertionError("gradient_norm_vs_lag: for rho = 1.25 the norm at lag 15 should "
                             "have grown above 1 (keep the inputs tiny, tanh near linear).")
    saturated = ex01.gradient_norm_vs_lag(hidden_size=20, seq_len=25, radii=(1.5,),
                                          rng=_rng(9012), input_scale=1.0)
    n = check_array(saturated.get(1.5) if isinstance(saturated, dict) else saturated, (25,),
                    what="gradient_norm_vs_lag norms[1.5] with input_scale=1.0")
    if not n[20] < 0.01 * 1.5**20:
        raise AssertionError("gradient_norm_vs_lag: with input_scale=1.0 the states saturate "
                             "and the norm must fall far below rho**k; run the real RNN "
                             "forward and backward, with the input_scale you are given.")
