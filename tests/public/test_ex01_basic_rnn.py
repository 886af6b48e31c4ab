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
  float32 inputs         the layers, their backward passes and the loss return float64 (0.5)

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
    if failures:
        s.report("affine_backward", failures, s.affine_backward_hint(failures))


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
    s.check_mask_count_loss(loss, expected, mask)  # divided by N*T instead of sum(mask)?
    close_scalar(loss, expected, what="softmax_cross_entropy loss with a mask",
                 hint="loss = -sum(mask * log p[target]) / sum(mask).")
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores with a mask")
    s.check_masked_positions_zero(dscores, mask)
    numeric = s.saved("ce114_numeric")
    s.check_mask_count_grad(dscores, numeric, mask)
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
    result = ex01.clip_grad_norm({k: g.copy() for k, g in grads.items()}, max_norm)
    s.check_clipped_global(result, grads, total, max_norm)


@pytest.mark.points(0.25)
def test_ex01_clip_small_and_errors(ex01):
    """clip_grad_norm: small gradients come back unchanged in new arrays; float32 in float64"""
    grads = s.grads_for_clipping(s.rng(116), 0.01)
    kept = {k: g.copy() for k, g in grads.items()}
    s.check_clipped_small(ex01.clip_grad_norm(grads, 5.0), grads, kept)
    clipped, total_norm = ex01.clip_grad_norm({k: g.astype(np.float32) for k, g in kept.items()},
                                              5.0)
    s.check_clipped_float32(clipped, total_norm, kept)


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
    s.check_init_params(params, d, hh, v)  # keys, shapes, float64, the scale of the weights
    s.check_same_seed(ex01.init_params(d, hh, v, s.rng(117)), params)
    s.check_other_seed(ex01.init_params(d, hh, v, s.rng(118)), params)


@pytest.mark.points(1.5)
def test_ex01_model_loss_gradients(ex01):
    """model_loss: the gradient of every parameter matches centered differences"""
    params, x, y, h0 = s.model_case(119)
    loss, grads, _ = unpack(ex01.model_loss(s.copy_params(params), x.copy(), y.copy(),
                                            h0.copy()), ("loss", "grads", "h_last"), "model_loss")
    s.check_grad_keys(grads, "model_loss grads")
    pairs = [(k, grads[k], s.saved(f"model119_numeric_{k}")) for k in KEYS]
    failures = s.grad_failures("model_loss", pairs, tol=1e-6)
    if failures:
        s.report("model_loss", failures, s.model_loss_hint(loss, failures))


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
    params, grads = s.adam_inputs(121)  # one gradient entry is 0: that parameter stays put
    p_keep, g_keep = s.copy_params(params), s.copy_params(grads)
    lr = 0.01
    new_params, state = unpack(ex01.adam_step(params, grads, None, lr), ("new_params", "state"),
                               "adam_step")
    s.check_adam_first_step(new_params, params, grads, p_keep, g_keep, lr)
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
    s.check_untrained(params, history, ex01.init_params(4, 32, 4, s.rng(125)))


@pytest.mark.slow
@pytest.mark.points(1.75)
def test_ex01_train_echo(ex01):
    """train_echo: learns the echo task (delay 2) to >= 90% accuracy on fresh sequences"""
    params, history = unpack(
        ex01.with_timeout(60).train_echo(rng=s.rng(123), print_every=0),
        ("params", "history"), "train_echo")
    losses = s.trained_losses(params, history, n_symbols=4, hidden=32)
    x, y, mask = s.echo_data(s.rng(124), 400, 12, 4, 2)
    s.check_echo_accuracy(s.echo_accuracy(ex01, params, x, y, mask), losses, need=0.9)


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
    s.check_heatmap(info, s.saved("hidden125_h"))  # states of x[:1] from 0, (time steps, units)


@pytest.mark.points(1)
def test_ex01_plot_gradient_norms(ex01, student_tmp):
    """plot_gradient_norms: one labelled line per radius, log scale, with a legend"""
    lags = np.arange(30, dtype=np.float64)
    norms = {0.5: 0.5**lags, 1.0: np.ones(30), 1.5: 1.5**lags}
    path = student_tmp / "gradient_norms.png"
    info = figure_info(ex01.plot_gradient_norms(norms, str(path)), what="plot_gradient_norms")
    assert_png(path, what="plot_gradient_norms")
    s.check_norm_lines(info, norms)  # one set of axes, labelled, log scale, a line per radius


@pytest.mark.points(1)
def test_ex01_gradient_norm_vs_lag(ex01):
    """gradient_norm_vs_lag: vanishes for spectral radius 0.5, explodes for 1.5"""
    radii = (0.5, 0.9, 1.0, 1.5)
    norms = ex01.gradient_norm_vs_lag(hidden_size=32, seq_len=40, radii=radii, rng=s.rng(126))
    s.check_norm_curves(norms, radii, seq_len=40)  # one per radius, from 1 at lag 0, positive
    s.check_vanish_explode(norms, lag=20)  # < 1e-3 for 0.5, > 1 for 1.5, growing with rho


# ---------------------------------------------------------------------------------------
# float32 inputs (the Conventions: every function returns float64 arrays, whatever float
# dtype it is given). Added by issue 20: the hidden tests required it without a public test.
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex01_float32_inputs_give_float64(ex01):
    """float32 inputs: the layers, their backward passes and the loss return float64"""
    rng = s.rng(127)
    f32 = s.float32_draws(rng)  # f32(*shape): standard normal values as float32
    h_next, cache = ex01.rnn_step_forward(f32(N, D), f32(N, H), f32(D, H), f32(H, H), f32(H))
    check_array(h_next, (N, H), what="rnn_step_forward h_next (float32 inputs)")
    s.check_float64("rnn_step_backward", STEP_GRADS, ex01.rnn_step_backward(f32(N, H), cache),
                    ((N, D), (N, H), (D, H), (H, H), (H,)))
    h, cache = ex01.rnn_forward(f32(N, T, D), f32(N, H), f32(D, H), f32(H, H), f32(H))
    check_array(h, (N, T, H), what="rnn_forward h (float32 inputs)")
    s.check_float64("rnn_backward", SEQ_GRADS, ex01.rnn_backward(f32(N, T, H), cache),
                    ((N, T, D), (N, H), (D, H), (H, H), (H,)))
    scores, cache = ex01.affine_forward(f32(N, T, H), f32(H, V), f32(V))
    check_array(scores, (N, T, V), what="affine_forward scores (float32 inputs)")
    s.check_float64("affine_backward", ("dh", "dWy", "dby"),
                    ex01.affine_backward(f32(N, T, V), cache), ((N, T, H), (H, V), (V,)))
    _, dscores = ex01.softmax_cross_entropy(f32(N, T, V), rng.integers(0, V, (N, T)))
    check_array(dscores, (N, T, V), what="softmax_cross_entropy dscores (float32 scores)")
