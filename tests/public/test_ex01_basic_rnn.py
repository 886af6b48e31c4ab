"""Public tests for Exercise 1: a NumPy RNN trained with backpropagation through time.

What is checked, in the order of the points table (points in brackets):

  Part 1, one step       rnn_step_forward values (0.5) and its two terms (0.5);
                         rnn_step_backward: every gradient (1.5)
  Part 2, a sequence     rnn_forward values (0.5), uses h0 (0.5); rnn_backward: every
                         gradient (1.5), from the last state only (1), accumulates (0.5)
  Part 3, output, loss   affine_forward (0.5), affine_backward (0.5); softmax_cross_entropy:
                         value (0.5), gradient (0.5), stable at +-1e4 (0.5), mask (0.5)
  Part 4, the model      clip_grad_norm: global norm (0.5), small and float32 (0.25),
                         validation (0.25); init_params (0.5); model_loss gradients (1.5)
                         and values (0.5); adam_step (0.5); no input changed (0.5)
  Part 5, training       train_echo(num_steps=0) (0.25), train_echo (1.75); accuracy (0.5);
                         plot_hidden_states (1), plot_gradient_norms (1);
                         gradient_norm_vs_lag (1)

Expected values are the reference's outputs on these inputs, saved in fixtures/ex01.npz;
expected gradients are centered differences of the reference's forward pass, never a
backward pass, so deriving the backward pass stays your work. A failure says which output
is wrong and how, the idea involved and the section of guides/rnn_guide.md that explains
it (the diagnoses are in support_ex01.py).

Rerun one test with details:  make check T='tests/public/test_ex01_basic_rnn.py::NAME'
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.public import support_ex01 as s  # inputs, saved values, diagnoses
from tests.public.harness import (
    assert_close,
    assert_grad,
    assert_png,
    check_array,
    check_labels,
    close_scalar,
    figure_info,
    raises_naming,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.support_ex01 import KEYS, SEQ_GRADS, STEP_GRADS, D, H, N, T, V

# ---------------------------------------------------------------------------------------
# Part 1: one step
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_step_forward_values(ex01):
    """rnn_step_forward: values match tanh(x Wx + h_prev Wh + b)"""
    args = s.step_params(s.rng(101))
    out = unpack(ex01.rnn_step_forward(*s.copies(args)), ("h_next", "cache"), "rnn_step_forward")
    assert_close(out[0], s.saved("step101_h"), what="rnn_step_forward h_next", atol=1e-10,
                 rtol=1e-8,
                 hint="h_next = tanh(x @ Wx + h_prev @ Wh + b)." + explain("forward-row-vectors"))


@pytest.mark.points(0.5)
def test_ex01_step_forward_terms(ex01):
    """rnn_step_forward: the x term and the h_prev term, each on its own"""
    x, h_prev, Wx, Wh, b = s.step_params(s.rng(102))
    h_next = ex01.rnn_step_forward(x.copy(), h_prev.copy(), Wx.copy(), np.zeros_like(Wh),
                                   b.copy())[0]
    assert_close(h_next, s.saved("step102_h_no_wh"), what="rnn_step_forward h_next with Wh = 0",
                 atol=1e-10, rtol=1e-8, hint="With Wh = 0 only the x term and b are left, so "
                 "one of those is wrong." + explain("forward-row-vectors"))
    h_next = ex01.rnn_step_forward(np.zeros_like(x), h_prev.copy(), np.zeros_like(Wx),
                                   Wh.copy(), b.copy())[0]
    assert_close(h_next, s.saved("step102_h_no_x"),
                 what="rnn_step_forward h_next with x = 0 and Wx = 0", atol=1e-10, rtol=1e-8,
                 hint="With x = 0 only the h_prev term and b are left: the h_prev term is "
                 "wrong." + explain("forward-row-vectors"))


@pytest.mark.points(1.5)
def test_ex01_step_backward_gradients(ex01):
    """rnn_step_backward: every gradient matches centered differences"""
    args, dh_next = s.step_backward_case(103)
    _, cache = unpack(ex01.rnn_step_forward(*s.copies(args)), ("h_next", "cache"),
                      "rnn_step_forward")
    got = unpack(ex01.rnn_step_backward(dh_next.copy(), cache), STEP_GRADS,
                 "rnn_step_backward")
    numeric = s.saved_list("step103_numeric", STEP_GRADS)
    failures = s.grad_failures("rnn_step_backward", zip(STEP_GRADS, got, numeric, strict=True),
                             tol=1e-7)
    if failures:
        s.report("rnn_step_backward", failures, s.diagnose_step(ex01, args, got, numeric, failures))


# ---------------------------------------------------------------------------------------
# Part 2: a sequence
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_rnn_forward_values(ex01):
    """rnn_forward: values match running the step T times"""
    args = s.seq_params(s.rng(104))
    h, _ = unpack(ex01.rnn_forward(*s.copies(args)), ("h", "cache"), "rnn_forward")
    check_array(h, (N, T, H), what="rnn_forward h")
    expected = s.saved("rnn104_h")
    assert_close(h, expected, what="rnn_forward h", atol=1e-10, rtol=1e-8,
                 hint=s.forward_hint(h, expected))


@pytest.mark.points(0.5)
def test_ex01_rnn_forward_uses_h0(ex01):
    """rnn_forward: the initial state h0 is used"""
    args = s.seq_params(s.rng(105))
    h = ex01.rnn_forward(*s.copies(args))[0]
    check_array(h, (N, T, H), what="rnn_forward h")
    if np.allclose(h[:, 0], s.saved("rnn105_h1_from_zero"), atol=1e-10):
        raise AssertionError("rnn_forward h[:, 0]: equals the result for h0 = 0, but h0 is not "
                             "zero." + explain("forward-h0-ignored"))
    assert_close(h[:, 0], s.saved("rnn105_h1"), what="rnn_forward h[:, 0] (h_1)",
                 atol=1e-10, rtol=1e-8, hint="h_1 = tanh(x_1 @ Wx + h0 @ Wh + b).")


@pytest.mark.points(1.5)
def test_ex01_rnn_backward_gradients(ex01):
    """rnn_backward: every gradient (dx, dh0, dWx, dWh, db) matches centered differences"""
    got, numeric, failures = s.rnn_backward_case(ex01, 106)  # dh on every state, T = 10
    if failures:
        s.report("rnn_backward", failures, s.diagnose_rnn_backward(ex01, 106, got, numeric,
                                                               failures))


@pytest.mark.points(1)
def test_ex01_rnn_backward_last_step_only(ex01):
    """rnn_backward: a gradient on the last state alone reaches every earlier step and h0"""
    got, numeric, failures = s.rnn_backward_case(ex01, 107)  # dh on h_T only, T = 6
    if failures:
        s.report("rnn_backward", failures, s.diagnose_rnn_backward(ex01, 107, got, numeric,
                                                               failures))


@pytest.mark.points(0.5)
def test_ex01_rnn_backward_accumulates(ex01):
    """rnn_backward: weight gradients gather every time step's contribution"""
    # Wh = 0 (T = 4): no recurrence, so each step's contribution stands alone and the
    # total is their sum; what the weight gradients miss is then easy to see.
    got, numeric, failures = s.rnn_backward_case(ex01, 108)
    failures = [(name, msg) for name, msg in failures if name in ("dWx", "dWh", "db")]
    if not failures:
        return
    hint = s.one_step_only(108, got, numeric)
    s.report("rnn_backward (Wh = 0)", failures, hint or s.prerequisite_hint(ex01) or
           "With Wh = 0 the steps are independent: each weight's gradient gathers the "
           "contribution of every step." + explain("bptt-no-accumulate"))


# ---------------------------------------------------------------------------------------
# Part 3: output layer and loss
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_affine_forward_values(ex01):
    """affine_forward: scores = h Wy + by at every time step"""
    h, Wy, by = s.affine_inputs(109)
    scores, _ = unpack(ex01.affine_forward(h.copy(), Wy.copy(), by.copy()),
                       ("scores", "cache"), "affine_forward")
    assert_close(scores, s.saved("affine109_scores"), what="affine_forward scores", atol=1e-10,
                 rtol=1e-8, hint="scores[n, t] = h[n, t] @ Wy + by for every n and t." +
                 explain("forward-row-vectors"))


@pytest.mark.points(0.5)
def test_ex01_affine_backward_gradients(ex01):
    """affine_backward: dh, dWy and dby match centered differences"""
    h, Wy, by, dscores = s.affine_backward_inputs()
    _, cache = ex01.affine_forward(h.copy(), Wy.copy(), by.copy())
    names = ("dh", "dWy", "dby")
    got = unpack(ex01.affine_backward(dscores.copy(), cache), names, "affine_backward")
    numeric = s.saved_list("affine110_numeric", names)
    failures = s.grad_failures("affine_backward", zip(names, got, numeric, strict=True), 1e-6)
    if not failures:
        return
    if {name for name, _ in failures} <= {"dWy", "dby"}:
        hint = "dh is right; the shared output weights are not." + explain("shared-readout-sum")
    else:
        hint = ("dh is wrong: follow the gradient back through the product h @ Wy." +
                explain("backward-transpose"))
    s.report("affine_backward", failures, hint)


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_value(ex01):
    """softmax_cross_entropy: loss is the mean negative log-probability of the targets"""
    scores, y = s.ce_inputs(111)
    loss, _ = unpack(ex01.softmax_cross_entropy(scores.copy(), y.copy()), ("loss", "dscores"),
                     "softmax_cross_entropy")
    loss = scalar(loss, "softmax_cross_entropy loss")
    expected = float(s.saved("ce111_loss"))
    s.check_ce_scale(loss, expected)  # the sum, or divided by N only?
    close_scalar(loss, expected, what="softmax_cross_entropy loss",
                 hint="loss = -mean over (n, t) of log softmax(scores[n, t])[y[n, t]].")


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_gradient(ex01):
    """softmax_cross_entropy: dscores matches centered differences"""
    scores, y = s.ce_inputs(112)
    _, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy())
    numeric = s.saved("ce112_numeric")
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores")
    if s.same(dscores, numeric * N * T, 1e-6):
        raise AssertionError("softmax_cross_entropy dscores: N*T times too large." +
                             explain("ce-grad-scale"))
    assert_grad(dscores, numeric, what="softmax_cross_entropy dscores", tol=1e-6,
                hint="Derive the gradient of -log softmax(s)[y] for one position, then "
                "account for the mean (guide: \"4. Output layer and loss\").")


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_stable(ex01):
    """softmax_cross_entropy: finite and correct for logits around +-1e4"""
    y, cases, ordinary = s.ce_stable_inputs()
    hint = s.stable_hint(ex01, y, ordinary)  # overflow, unless ordinary scores fail already
    for k, (label, scores) in enumerate(cases.items()):
        with np.errstate(all="ignore"):
            loss, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy())
        try:
            loss = scalar(loss, f"softmax_cross_entropy loss ({label})")
        except AssertionError as exc:
            raise AssertionError(f"{exc} {hint}") from None
        close_scalar(loss, s.saved(f"ce113_case{k}_loss"),
                     what=f"softmax_cross_entropy loss ({label})", atol=1e-8, rtol=1e-8,
                     hint=hint)
        assert_close(dscores, s.saved(f"ce113_case{k}_numeric"),
                     what=f"softmax_cross_entropy dscores ({label})", atol=1e-8, rtol=1e-5,
                     hint=hint)


@pytest.mark.points(0.5)
def test_ex01_softmax_ce_mask(ex01):
    """softmax_cross_entropy: masked positions add nothing to the loss or the gradient"""
    scores, y = s.ce_inputs(114)
    mask = s.ce_mask()  # the first 3 steps and position (1, 7) are masked
    loss, dscores = ex01.softmax_cross_entropy(scores.copy(), y.copy(), mask.copy())
    loss = scalar(loss, "softmax_cross_entropy loss with a mask")
    expected = float(s.saved("ce114_loss"))
    if np.isclose(loss, expected * mask.sum() / mask.size, rtol=1e-7):
        raise AssertionError("softmax_cross_entropy loss with a mask: the masked sum divided "
                             f"by N*T = {mask.size} instead of the {int(mask.sum())} unmasked "
                             "positions." + explain("mask-count"))
    close_scalar(loss, expected, what="softmax_cross_entropy loss with a mask",
                 hint="loss = -sum(mask * log p[target]) / sum(mask).")
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores with a mask")
    s.check_masked_positions_zero(dscores, mask)
    numeric = s.saved("ce114_numeric")
    if s.same(dscores, numeric * mask.sum() / mask.size, 1e-6):
        raise AssertionError("softmax_cross_entropy dscores with a mask: scaled by 1/(N*T) "
                             "instead of 1/sum(mask)." + explain("mask-count"))
    assert_grad(dscores, numeric, what="softmax_cross_entropy dscores with a mask", tol=1e-6,
                hint="The mask changes which positions count and the count you divide by." +
                explain("mask-count"))


# ---------------------------------------------------------------------------------------
# Part 4: clipping, parameters, the model, Adam
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_clip_global_norm(ex01):
    """clip_grad_norm: scales all arrays together to the global norm; returns the norm before"""
    grads = s.grads_for_clipping(s.rng(115), 1.0)
    total = float(s.saved("clip115_total"))
    max_norm = float(s.saved("clip115_max_norm"))  # below the total; every array alone is below
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
                 if isinstance(clipped[k], np.ndarray) and s.same(clipped[k], grads[k], 1e-12)]
    if len(unchanged) == len(grads):
        raise AssertionError("clip_grad_norm clipped: nothing was scaled, but the global norm "
                             f"{total:.4g} is above max_norm {max_norm:.4g} (each array alone is "
                             "below it)." + explain("clip-not-global"))
    for k in KEYS:
        assert_close(clipped[k], s.saved(f"clip115_clipped_{k}"), what=f"clip_grad_norm "
                     f"clipped[{k!r}]", atol=1e-12, rtol=1e-5,
                     hint="After clipping the global norm is max_norm and the direction is "
                          "unchanged." + explain("clip-not-global"))


@pytest.mark.points(0.25)
def test_ex01_clip_small_and_errors(ex01):
    """clip_grad_norm: small gradients come back unchanged in new arrays; float32 in float64"""
    grads = s.grads_for_clipping(s.rng(116), 0.01)
    kept = {k: g.copy() for k, g in grads.items()}
    clipped, total_norm = unpack(ex01.clip_grad_norm(grads, 5.0), ("clipped", "total_norm"),
                                 "clip_grad_norm")
    close_scalar(total_norm, s.saved("clip116_total"), what="clip_grad_norm total_norm",
                 atol=1e-12, rtol=1e-8)
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
    close_scalar(total_norm, s.saved("clip116_total_float32"),
                 what="clip_grad_norm total_norm (float32 grads, summed in float64)", atol=0,
                 rtol=1e-12, hint=explain("float32-precision"))
    for k in KEYS:
        check_array(clipped[k], kept[k].shape, what=f"clip_grad_norm clipped[{k!r}] (float32 "
                    "grads)", dtype=np.float64)


@pytest.mark.points(0.25)
def test_ex01_clip_validation(ex01):
    """validation of clip_grad_norm: max_norm <= 0 raises a ValueError naming max_norm"""
    grads = s.grads_for_clipping(s.rng(116), 0.01)
    for bad in (0.0, -1.0):
        raises_naming(lambda bad=bad: ex01.clip_grad_norm({k: g.copy() for k, g in grads.items()},
                                                          bad),
                      "max_norm", f"clip_grad_norm(max_norm={bad})")


@pytest.mark.points(0.5)
def test_ex01_init_params(ex01):
    """init_params: shapes, float64, sensible scale, reproducible from the rng"""
    d, hh, v = 7, 6, 5
    params = ex01.init_params(d, hh, v, s.rng(117))
    if not isinstance(params, dict) or not set(KEYS) <= set(params):
        raise AssertionError(f"init_params: expected a dict with keys {list(KEYS)}, got "
                             f"{sorted(params) if isinstance(params, dict) else type(params)}.")
    shapes = {"Wx": (d, hh), "Wh": (hh, hh), "b": (hh,), "Wy": (hh, v), "by": (v,)}
    for k, shape in shapes.items():
        check_array(params[k], shape, what=f"init_params {k}")
    s.check_init_scale(params)
    again = ex01.init_params(d, hh, v, s.rng(117))
    for k in KEYS:
        assert_close(again[k], params[k], what=f"init_params {k} (same seed again)", atol=0,
                     rtol=0, hint="The same seed gave other values." +
                     explain("rng-not-threaded"))
    other = ex01.init_params(d, hh, v, s.rng(118))
    if np.array_equal(other["Wx"], params["Wx"]):
        raise AssertionError("init_params Wx: identical for two different rng seeds." +
                             explain("rng-not-threaded"))


@pytest.mark.points(1.5)
def test_ex01_model_loss_gradients(ex01):
    """model_loss: the gradient of every parameter matches centered differences"""
    params, x, y, h0 = s.model_case(119)
    out = unpack(ex01.model_loss(s.copy_params(params), x.copy(), y.copy(), h0.copy()),
                 ("loss", "grads", "h_last"), "model_loss")
    grads = out[1]
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        found = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise AssertionError(f"model_loss grads: expected a dict with exactly the keys "
                             f"{list(KEYS)}, got {found}.")
    pairs = [(k, grads[k], s.saved(f"model119_numeric_{k}")) for k in KEYS]
    failures = s.grad_failures("model_loss", pairs, tol=1e-6)
    if not failures:
        return
    try:
        loss_ok = np.isclose(float(out[0]), s.saved("model119_loss"), rtol=1e-8)
    except (TypeError, ValueError):
        loss_ok = False
    s.report("model_loss", failures, s.model_loss_hint(loss_ok, {name for name, _ in failures}))


@pytest.mark.points(0.5)
def test_ex01_model_loss_values(ex01):
    """model_loss: loss value, h_last = h at the last step, h0 and mask honoured"""
    params, x, y, h0 = s.model_case(120, t=5)
    for label, key, kwargs in (("h0 given", "h0", {"h0": h0}), ("h0=None", "zero", {})):
        out = unpack(ex01.model_loss(s.copy_params(params), x.copy(), y.copy(),
                                     **{k: v.copy() for k, v in kwargs.items()}),
                     ("loss", "grads", "h_last"), "model_loss")
        close_scalar(out[0], s.saved(f"model120_loss_{key}"), what=f"model_loss loss ({label})",
                     hint="h0=None means a zero state; otherwise the RNN starts from h0." +
                     explain("forward-h0-ignored"))
        assert_close(out[2], s.saved(f"model120_h_last_{key}"), what=f"model_loss h_last ({label})",
                     atol=1e-10, rtol=1e-8, hint="h_last is the state after the last step, (N, H).")
    loss = ex01.model_loss(s.copy_params(params), x.copy(), y.copy(), h0.copy(), s.model_mask())[0]
    close_scalar(loss, s.saved("model120_loss_mask"), what="model_loss loss with a mask",
                 hint="The loss ignores masked positions." + explain("mask-count"))


@pytest.mark.points(0.5)
def test_ex01_adam_step(ex01):
    """adam_step: first step moves each parameter by about lr against its gradient"""
    gen = s.rng(121)
    params = s.model_params(gen)
    grads = {k: gen.standard_normal(v.shape) for k, v in params.items()}
    grads["Wx"][0, 0] = 0.0  # stays put: m = 0
    p_keep, g_keep = s.copy_params(params), s.copy_params(grads)
    lr = 0.01
    new_params, state = unpack(ex01.adam_step(params, grads, None, lr), ("new_params", "state"),
                               "adam_step")
    if not isinstance(new_params, dict) or set(new_params) != set(KEYS):
        raise AssertionError(f"adam_step new_params: expected a dict with keys {list(KEYS)}.")
    for k in KEYS:
        s.check_adam_inputs_kept(k, params, grads, p_keep, g_keep)
        step = check_array(new_params[k], params[k].shape, what=f"adam_step new_params[{k!r}]") \
            - p_keep[k]
        # the property: bias-corrected, the first step is about lr against the gradient's sign
        assert_close(step, -lr * np.sign(g_keep[k]), what=f"adam_step update of {k!r} (first "
                     "step)", atol=1e-8, rtol=1e-4, hint="With bias correction the first Adam "
                     "step moves every parameter by about lr against the sign of its "
                     "gradient." + explain("adam-bias-correction"))
    second, _ = unpack(ex01.adam_step(new_params, g_keep, state, lr), ("new_params", "state"),
                       "adam_step (second call, with the returned state)")
    check_array(second["Wh"], (H, H), what="adam_step new_params['Wh'] (second call)")


@pytest.mark.points(0.5)
def test_ex01_no_input_mutation(ex01):
    """every function: leaves its input arrays unchanged"""
    gen = s.rng(122)
    x, h0, Wx, Wh, b = s.seq_params(gen, t=4)
    params = s.model_params(gen)
    y = gen.integers(0, V, (N, 4))
    mask = np.ones((N, 4))
    mask[:, 0] = 0
    scores = gen.standard_normal((N, 4, V))
    calls = []
    run = s.mutation_runner(ex01, calls)
    _, cache = run("rnn_step_forward", x[:, 0].copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())
    run("rnn_step_backward", gen.standard_normal((N, H)), cache, cache_at=1)
    h, cache = run("rnn_forward", x.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())
    run("rnn_backward", gen.standard_normal((N, 4, H)), cache, cache_at=1)
    _, cache = run("affine_forward", gen.standard_normal((N, 4, H)), params["Wy"].copy(),
                   params["by"].copy())
    run("affine_backward", gen.standard_normal((N, 4, V)), cache, cache_at=1)
    run("softmax_cross_entropy", scores.copy(), y.copy(), mask.copy())
    run("clip_grad_norm", s.grads_for_clipping(gen, 10.0), 1.0)
    run("model_loss", s.copy_params(params), x.copy(), y.copy(), h0.copy(), mask.copy())
    if calls:
        raise AssertionError("these calls changed an input array: " + ", ".join(calls) + "." +
                             explain("mutates-input"))


# ---------------------------------------------------------------------------------------
# Part 5: training, plots and the gradient experiment
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex01_train_echo_zero_steps(ex01):
    """train_echo(num_steps=0): the initial parameters and empty histories"""
    params, history = unpack(ex01.train_echo(num_steps=0, rng=s.rng(125), print_every=0),
                             ("params", "history"), "train_echo(num_steps=0)")
    want = ex01.init_params(4, 32, 4, s.rng(125))
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
        ex01.with_timeout(60).train_echo(rng=s.rng(123), print_every=0),
        ("params", "history"), "train_echo")
    losses = s.trained_losses(params, history, n_symbols=4, hidden=32)
    x, y, mask = s.echo_data(s.rng(124), 400, 12, 4, 2)
    acc = s.echo_accuracy(ex01, params, x, y, mask)
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
    params, x, mask, _ = s.accuracy_inputs()
    y = s.saved("accuracy127_y")  # the model's own predictions, 40% of them changed
    plain, masked = float(s.saved("accuracy127_plain")), float(s.saved("accuracy127_masked"))
    got = ex01.accuracy(s.copy_params(params), x.copy(), y.copy())
    close_scalar(got, plain, what="accuracy (no mask)", atol=1e-12, rtol=1e-9,
                 hint="Run the model from a zero state and compare the highest score with "
                      "the target at every position.")
    got = ex01.accuracy(s.copy_params(params), x.copy(), y.copy(), mask.copy())
    if np.isclose(scalar(got, "accuracy (with a mask)"), plain, rtol=1e-9) \
            and not np.isclose(plain, masked):
        raise AssertionError("accuracy (with a mask): equals the accuracy over all positions; "
                             "the mask was not used." + explain("accuracy-mask"))
    close_scalar(got, masked, what="accuracy (with a mask)", atol=1e-12, rtol=1e-9,
                 hint=explain("accuracy-mask"))


@pytest.mark.points(1)
def test_ex01_plot_hidden_states(ex01, student_tmp):
    """plot_hidden_states: a labelled heatmap of h (units by time steps) with a colour bar"""
    params, x = s.hidden_states_inputs()
    path = student_tmp / "hidden_states.png"
    info = figure_info(ex01.plot_hidden_states(params, x, str(path)), what="plot_hidden_states")
    assert_png(path, what="plot_hidden_states")
    if len(info["axes"]) != 1 or len(info["axes"][0]["images"]) != 1:
        raise AssertionError("plot_hidden_states: draw one image (imshow) on one set of axes; "
                             f"found {len(info['axes'])} axes.")
    ax = info["axes"][0]
    check_labels(ax, what="plot_hidden_states", colorbar=True)
    h = s.saved("hidden125_h")  # the states of x[:1] from a zero state, (time steps, units)
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
    norms = ex01.gradient_norm_vs_lag(hidden_size=32, seq_len=40, radii=radii, rng=s.rng(126))
    if not isinstance(norms, dict):
        raise AssertionError(f"gradient_norm_vs_lag: expected a dict rho -> norms, got "
                             f"{type(norms).__name__}.")
    s.check_norm_curves(norms, radii, seq_len=40)  # one per radius, from 1 at lag 0, positive
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
    rng = s.rng(127)

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
