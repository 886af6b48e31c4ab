"""The machinery of tests/public/test_ex01_basic_rnn.py: its inputs, its saved expected
values, and the diagnoses that name a mistake when a test fails.

Expected values are read from fixtures/ex01.npz: the reference's outputs on these inputs,
and centered differences of the reference's forward pass (never a backward pass), saved
by the maintainer command `python -m tools.fixtures`. A diagnosis compares your
result with saved "twins": what a classic mistake would give on the same inputs.
"""

from __future__ import annotations

import numpy as np

from tests.public.harness import (
    assert_close,
    assert_grad,
    check_array,
    check_labels,
    close_scalar,
    same,
    saved_array,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain

KEYS = ("Wx", "Wh", "b", "Wy", "by")
STEP_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")

# Distinct, non-square sizes: a missing transpose cannot hide behind a square matrix.
N, T, D, H, V = 2, 10, 3, 5, 4

def saved(name: str) -> np.ndarray:
    """The saved array `name` of fixtures/ex01.npz."""
    return saved_array("ex01", name)


def saved_list(prefix: str, names) -> list:
    """[saved(f"{prefix}_{name}") for each name]."""
    return [saved(f"{prefix}_{name}") for name in names]


# ---------------------------------------------------------------------------------------
# Inputs (the fixtures were computed on exactly these)
# ---------------------------------------------------------------------------------------


def rng(seed):
    return np.random.default_rng(seed)


def step_params(gen, n=N, d=D, hh=H):
    """(x, h_prev, Wx, Wh, b) of one step."""
    return (gen.standard_normal((n, d)), 0.6 * gen.standard_normal((n, hh)),
            0.5 * gen.standard_normal((d, hh)), 0.4 * gen.standard_normal((hh, hh)),
            0.1 * gen.standard_normal(hh))


def seq_params(gen, n=N, t=T, d=D, hh=H):
    """(x, h0, Wx, Wh, b) of a sequence."""
    return (gen.standard_normal((n, t, d)), 0.6 * gen.standard_normal((n, hh)),
            0.5 * gen.standard_normal((d, hh)), 0.4 * gen.standard_normal((hh, hh)),
            0.1 * gen.standard_normal(hh))


def model_params(gen, d=D, hh=H, v=V):
    return {"Wx": 0.6 * gen.standard_normal((d, hh)), "Wh": 0.4 * gen.standard_normal((hh, hh)),
            "b": 0.1 * gen.standard_normal(hh), "Wy": 0.6 * gen.standard_normal((hh, v)),
            "by": 0.1 * gen.standard_normal(v)}


def copies(arrays):
    return [np.array(a, copy=True) for a in arrays]


def copy_params(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def step_backward_case(seed):
    """(args, dh_next) of a step backward test."""
    gen = rng(seed)
    args = list(step_params(gen))
    return args, gen.standard_normal((N, H))


def all_steps(gen, n_steps):
    return gen.standard_normal((N, n_steps, H))


def last_step_only(gen, n_steps):
    dh = np.zeros((N, n_steps, H))
    dh[:, -1] = gen.standard_normal((N, H))
    return dh


# seed -> (upstream builder, T, tolerance, Wh = 0?) of the rnn_backward tests
RNN_BACKWARD_CASES = {106: (all_steps, T, 1e-6, False), 107: (last_step_only, 6, 1e-5, False),
                      108: (all_steps, 4, 1e-6, True)}


def rnn_backward_inputs(seed):
    """(args, dh) of the rnn_backward test with this seed."""
    builder, n_steps, _, zero_wh = RNN_BACKWARD_CASES[seed]
    gen = rng(seed)
    args = list(seq_params(gen, t=n_steps))
    if zero_wh:
        args[3] = np.zeros((H, H))
    return args, builder(gen, n_steps)


def affine_inputs(seed):
    gen = rng(seed)
    return gen.standard_normal((N, T, H)), gen.standard_normal((H, V)), gen.standard_normal(V)


def affine_backward_inputs():
    """(h, Wy, by, dscores)."""
    gen = rng(110)
    h, Wy, by = gen.standard_normal((N, T, H)), gen.standard_normal((H, V)), gen.standard_normal(V)
    return h, Wy, by, gen.standard_normal((N, T, V))


def ce_inputs(seed):
    gen = rng(seed)
    return gen.standard_normal((N, T, V)), gen.integers(0, V, (N, T))


def ce_mask():
    mask = np.ones((N, T))
    mask[:, :3] = 0.0
    mask[1, 7] = 0.0
    return mask


def ce_stable_inputs():
    """(y, {label: scores}, ordinary scores) of the stability test."""
    gen = rng(113)
    y = gen.integers(0, V, (N, T))
    cases = {
        "scores of size 1e4": 1e4 * gen.standard_normal((N, T, V)),
        "scores all near +1e4": 1e4 + gen.standard_normal((N, T, V)),
        "scores all near -1e4": -1e4 + gen.standard_normal((N, T, V)),
    }
    return y, cases, gen.standard_normal((N, T, V))


def grads_for_clipping(gen, scale):
    return {k: scale * gen.standard_normal(s) for k, s in
            (("Wx", (D, H)), ("Wh", (H, H)), ("b", (H,)), ("Wy", (H, V)), ("by", (V,)))}


def model_case(seed, n=N, t=4):
    gen = rng(seed)
    params = model_params(gen)
    x = gen.standard_normal((n, t, D))
    y = gen.integers(0, V, (n, t))
    h0 = 0.5 * gen.standard_normal((n, H))
    return params, x, y, h0


def adam_inputs(seed):
    """(params, grads) of the Adam test; grads["Wx"][0, 0] is 0 (m = 0: it stays put)."""
    gen = rng(seed)
    params = model_params(gen)
    grads = {k: gen.standard_normal(v.shape) for k, v in params.items()}
    grads["Wx"][0, 0] = 0.0
    return params, grads


def float32_draws(gen):
    """f32(*shape): standard normal draws from `gen`, as float32."""
    def f32(*shape):
        return gen.standard_normal(shape).astype(np.float32)
    return f32


def model_mask():
    mask = np.ones((N, 5))
    mask[:, :2] = 0.0
    return mask


def accuracy_inputs():
    """(params, x, mask, changed) of the accuracy test: its targets y (saved) are the
    model's own predictions, changed where `changed` is True (about 40% of them)."""
    gen = rng(127)
    params = model_params(gen)
    x = gen.standard_normal((3, 6, D))
    changed = gen.random((3, 6)) < 0.4
    mask = np.ones((3, 6))
    mask[0] = 0.0
    mask[:, :2] = 0.0
    return params, x, mask, changed


def echo_data(gen, n, seq_len, n_symbols, delay):
    """This file's own echo batch: y[:, t] = symbol at t - delay, mask 0 for t < delay."""
    symbols = gen.integers(0, n_symbols, (n, seq_len))
    x = np.eye(n_symbols)[symbols]
    y = np.zeros((n, seq_len), dtype=np.int64)
    y[:, delay:] = symbols[:, : seq_len - delay]
    mask = np.zeros((n, seq_len))
    mask[:, delay:] = 1.0
    return x, y, mask


def hidden_states_inputs():
    gen = rng(125)
    params = model_params(gen, d=4, hh=16, v=4)
    x, _, _ = echo_data(gen, 3, 12, 4, 2)
    return params, x


# ---------------------------------------------------------------------------------------
# Comparing and reporting
# ---------------------------------------------------------------------------------------


def report(fn, failures, hint):
    """One message: the diagnosis first (the points table shows the first line), then
    the details of every wrong output."""
    names = ", ".join(name for name, _ in failures)
    details = "\n".join(f"  - {msg}" for _, msg in failures)
    raise AssertionError(f"{fn}: wrong {names}. {hint.strip()}\n{details}")


def grad_failures(fn, pairs, tol):
    failures = []
    for name, got, numeric in pairs:
        try:
            assert_grad(got, numeric, what=f"{fn} {name}", tol=tol)
        except AssertionError as exc:
            failures.append((name, str(exc)))
    return failures


# ---------------------------------------------------------------------------------------
# Is what a function builds on right? (checked on saved values)
# ---------------------------------------------------------------------------------------


def forward_ok(ex01, step_only=False) -> bool:
    """Does the student's forward pass (one step, or the sequence) give the saved values?"""
    gen = rng(98)
    try:
        if step_only:
            args = step_params(gen)
            return same(ex01.rnn_step_forward(*copies(args))[0], saved("ok98_step_h"), 1e-8)
        args = seq_params(gen, t=4)
        return same(ex01.rnn_forward(*copies(args))[0], saved("ok98_seq_h"), 1e-8)
    except Exception:  # noqa: BLE001 - any failure there means "fix the forward pass first"
        return False


def step_backward_ok(ex01) -> bool:
    """Does the student's step backward pass its gradient check on a small case?"""
    args, dh_next = step_backward_case(99)
    try:
        cache = ex01.rnn_step_forward(*copies(args))[1]
        got = ex01.rnn_step_backward(dh_next.copy(), cache)
        numeric = saved_list("ok99_numeric", STEP_GRADS)
        return len(got) == 5 and all(same(g, w, 1e-7) for g, w in zip(got, numeric,
                                                                        strict=True))
    except Exception:  # noqa: BLE001 - any failure there means "fix the step first"
        return False


def prerequisite_hint(ex01) -> str:
    """'' when the pieces rnn_backward builds on are right, else which one to fix first."""
    if not forward_ok(ex01):
        return ("rnn_forward is wrong (see its tests): fix it first; the backward pass uses "
                "its cache.")
    if not step_backward_ok(ex01):
        return ("rnn_step_backward is wrong (see its test): fix it first; rnn_backward is "
                "built on it.")
    return ""


# ---------------------------------------------------------------------------------------
# Diagnoses of the backward passes
# ---------------------------------------------------------------------------------------


def diagnose_step(ex01, args, got, numeric, failures) -> str:
    """Name the most likely slip behind a failing rnn_step_backward (test seed 103): the
    saved twins are the gradients of a step with that slip built in."""
    wrong = [name for name, _ in failures]
    if not forward_ok(ex01, step_only=True):
        return ("rnn_step_forward is wrong (see its tests): fix it first; the backward pass "
                "uses what it cached.")
    no_tanh = saved_list("step103_no_tanh", STEP_GRADS)
    if any(same(g, t, 1e-6) for g, t in zip(got, no_tanh, strict=True)):
        return ("Some gradients equal those of the step without its tanh." +
                explain("tanh-derivative-missing"))
    if same(got[0], saved("step103_slope_at_output"), 1e-6):
        return ("dx equals the gradient you would get if tanh's slope were read at h_next "
                "instead of at tanh's input." + explain("tanh-derivative-at-output"))
    if same(got[3], saved("step103_dWh_from_h_next"), 1e-6):
        return ("dWh equals the gradient you would get if Wh multiplied h_next rather than "
                "h_prev." + explain("dwh-wrong-state"))
    if same(got[4], numeric[4] / args[0].shape[0], 1e-6):
        return f"db is the true gradient divided by N = {args[0].shape[0]}." + explain(
            "bias-grad-sum")
    if same(got[1], saved("step103_dh_prev_other_side"), 1e-6):
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


def rnn_backward_case(ex01, seed):
    """Run the student's rnn_forward and rnn_backward on the inputs of `seed`; returns
    (got, numeric, failures)."""
    args, dh = rnn_backward_inputs(seed)
    tol = RNN_BACKWARD_CASES[seed][2]
    _, cache = unpack(ex01.rnn_forward(*copies(args)), ("h", "cache"), "rnn_forward")
    got = unpack(ex01.rnn_backward(dh.copy(), cache), SEQ_GRADS, "rnn_backward")
    numeric = saved_list(f"rnn{seed}_numeric", SEQ_GRADS)
    failures = grad_failures("rnn_backward", zip(SEQ_GRADS, got, numeric, strict=True), tol=tol)
    return got, numeric, failures


def one_step_only(seed, got, totals) -> str:
    """'' unless a weight gradient equals a single step's contribution (saved: the
    gradient with respect to a copy of the weight that only step t uses)."""
    for i, name in ((2, "dWx"), (3, "dWh"), (4, "db")):
        for t, part in enumerate(saved(f"rnn{seed}_per_step_{name}")):
            if same(got[i], part, 1e-7) and not same(totals[i], part, 1e-6):
                return (f"{name} equals the contribution of step {t} alone." +
                        explain("bptt-no-accumulate"))
    return ""


def diagnose_rnn_backward(ex01, seed, got, numeric, failures) -> str:
    """Name the most likely bug behind a failing rnn_backward."""
    wrong = {name for name, _ in failures}
    first = prerequisite_hint(ex01)
    if first:
        return first
    # dx if each h_t received only dh[:, t] (every step differentiated on its own)
    no_carry = saved(f"rnn{seed}_dx_no_carry")
    if same(got[0], no_carry, 1e-7) and not same(numeric[0], no_carry, 1e-6):
        return ("dx is what you would get if each h_t's gradient came only from dh[:, t]: "
                "no gradient arrives through the recurrent path." + explain("bptt-no-carry"))
    found = one_step_only(seed, got, numeric)
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


def model_loss_hint(loss, failures) -> str:
    """Which layer of model_loss to look at (test seed 119), from its loss value and which
    gradients are wrong."""
    try:
        loss_ok = np.isclose(float(loss), saved("model119_loss"), rtol=1e-8)
    except (TypeError, ValueError):
        loss_ok = False
    wrong = {name for name, _ in failures}
    if not loss_ok:
        return ("The loss value is wrong too: fix the forward chain first (rnn_forward, "
                "affine_forward, softmax_cross_entropy, from h0).")
    if wrong <= {"Wx", "Wh", "b"}:
        return ("The output layer's gradients are right, the RNN's are not: if the "
                "rnn_backward tests fail, fix those first." + explain("model-chain"))
    if wrong <= {"Wy", "by"}:
        return "Only the output layer's gradients are wrong (see the affine_backward test)."
    return "Gradients of both layers are wrong." + explain("model-chain")


# ---------------------------------------------------------------------------------------
# Training: the accuracy of a trained model
# ---------------------------------------------------------------------------------------


def echo_accuracy(ex01, params, x, y, mask):
    """Accuracy of `params` on (x, y, mask) from a zero state, run with your rnn_forward
    and affine_forward (their tests check them; this test checks the training)."""
    h0 = np.zeros((x.shape[0], np.shape(params["Wh"])[0]))
    h = ex01.rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])[0]
    scores = ex01.affine_forward(h, params["Wy"], params["by"])[0]
    pred = np.argmax(np.asarray(scores), axis=-1)
    return float(np.sum((pred == y) * mask) / np.sum(mask))


# ---------------------------------------------------------------------------------------
# Inputs left unchanged
# ---------------------------------------------------------------------------------------


def mutation_runner(ex01, calls):
    """`run(name, *args, cache_at=None)`: call ex01.<name>(*args) and append to `calls`
    each argument array (or dict of arrays) it changed; a cache (`cache_at`) is opaque."""
    def run(name, *args, cache_at=None):
        kept = [None if i == cache_at else copy_params(a) if isinstance(a, dict)
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
    return run


# ---------------------------------------------------------------------------------------
# Checks of one output, each with the message that names the mistake
# ---------------------------------------------------------------------------------------


def forward_hint(h, expected) -> str:
    """Which part of rnn_forward's h is wrong: an offset, the recurrence, or the first step."""
    if np.allclose(h[:, 1:], expected[:, :-1], atol=1e-10):
        return "h[:, t] holds the state before step t, not after it." + explain(
            "forward-h-offset")
    if np.allclose(h[:, 0], expected[:, 0], atol=1e-10, rtol=1e-8):
        return "h[:, 0] is right but later steps are not." + explain("forward-no-recurrence")
    return "Already h[:, 0], the state after x[:, 0], is wrong." + explain("forward-h-offset")


def check_ce_scale(loss, expected):
    """The loss is not the sum over positions, nor the mean times T."""
    if np.isclose(loss, expected * N * T, rtol=1e-6):
        raise AssertionError("softmax_cross_entropy loss: N*T times the mean, the sum over "
                             "positions." + explain("ce-not-mean"))
    if np.isclose(loss, expected * T, rtol=1e-6):
        raise AssertionError(f"softmax_cross_entropy loss: T = {T} times the mean, divided by "
                             "N only." + explain("ce-not-mean"))


def stable_hint(ex01, y, ordinary) -> str:
    """The hint of the stability test: overflow, unless ordinary scores fail already."""
    try:
        loss, dscores = ex01.softmax_cross_entropy(ordinary.copy(), y.copy())
        ordinary_ok = (np.isclose(float(loss), saved("ce113_ordinary_loss"), rtol=1e-8)
                       and same(np.asarray(dscores), saved("ce113_ordinary_numeric"), 1e-7))
    except (TypeError, ValueError):
        ordinary_ok = False
    if not ordinary_ok:
        return ("the result is wrong already for ordinary scores: make the other "
                "softmax_cross_entropy tests pass first.")
    return "exp overflows, or log(0) appears, at large logits." + explain("softmax-overflow")


def affine_backward_hint(failures) -> str:
    if {name for name, _ in failures} <= {"dWy", "dby"}:
        return "dh is right; the shared output weights are not." + explain("shared-readout-sum")
    return ("dh is wrong: follow the gradient back through the product h @ Wy." +
            explain("backward-transpose"))


def check_mask_count_loss(loss, expected, mask):
    """The masked loss is not divided by N*T instead of the number of unmasked positions."""
    if np.isclose(loss, expected * mask.sum() / mask.size, rtol=1e-7):
        raise AssertionError("softmax_cross_entropy loss with a mask: the masked sum divided "
                             f"by N*T = {mask.size} instead of the {int(mask.sum())} unmasked "
                             "positions." + explain("mask-count"))


def check_mask_count_grad(dscores, numeric, mask):
    if same(dscores, numeric * mask.sum() / mask.size, 1e-6):
        raise AssertionError("softmax_cross_entropy dscores with a mask: scaled by 1/(N*T) "
                             "instead of 1/sum(mask)." + explain("mask-count"))


def check_masked_positions_zero(dscores, mask):
    masked = mask == 0
    if not np.all(dscores[masked] == 0):
        where = tuple(int(i) for i in np.argwhere(masked & np.any(dscores != 0, axis=-1))[0])
        raise AssertionError("softmax_cross_entropy dscores with a mask: nonzero gradient at "
                             f"the masked position {where}." + explain("mask-gradient-leak"))


def check_clipped_global(result, grads, total, max_norm):
    """clip_grad_norm's result on `grads`, whose global norm `total` is above max_norm
    while each array alone is below it, against the saved clipped arrays (seed 115)."""
    clipped, total_norm = unpack(result, ("clipped", "total_norm"), "clip_grad_norm")
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
                 if isinstance(clipped[k], np.ndarray) and same(clipped[k], grads[k], 1e-12)]
    if len(unchanged) == len(grads):
        raise AssertionError("clip_grad_norm clipped: nothing was scaled, but the global norm "
                             f"{total:.4g} is above max_norm {max_norm:.4g} (each array alone is "
                             "below it)." + explain("clip-not-global"))
    for k in KEYS:
        assert_close(clipped[k], saved(f"clip115_clipped_{k}"), what=f"clip_grad_norm "
                     f"clipped[{k!r}]", atol=1e-12, rtol=1e-5,
                     hint="After clipping the global norm is max_norm and the direction is "
                          "unchanged." + explain("clip-not-global"))


def check_clipped_small(result, grads, kept):
    """clip_grad_norm's result on `grads` (seed 116, norm below max_norm): new arrays equal
    to `kept`, the copies taken before the call, and `grads` unchanged."""
    clipped, total_norm = unpack(result, ("clipped", "total_norm"), "clip_grad_norm")
    close_scalar(total_norm, saved("clip116_total"), what="clip_grad_norm total_norm",
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


def check_clipped_float32(clipped, total_norm, kept):
    """The result for `kept` as float32 arrays: the norm summed in float64, float64 arrays."""
    close_scalar(total_norm, saved("clip116_total_float32"),
                 what="clip_grad_norm total_norm (float32 grads, summed in float64)", atol=0,
                 rtol=1e-12, hint=explain("float32-precision"))
    for k in KEYS:
        check_array(clipped[k], kept[k].shape, what=f"clip_grad_norm clipped[{k!r}] (float32 "
                    "grads)", dtype=np.float64)


def check_init_params(params, d, hh, v):
    """init_params(d, hh, v, rng): the keys, shapes and dtype, then the weights' scale."""
    if not isinstance(params, dict) or not set(KEYS) <= set(params):
        raise AssertionError(f"init_params: expected a dict with keys {list(KEYS)}, got "
                             f"{sorted(params) if isinstance(params, dict) else type(params)}.")
    shapes = {"Wx": (d, hh), "Wh": (hh, hh), "b": (hh,), "Wy": (hh, v), "by": (v,)}
    for k, shape in shapes.items():
        check_array(params[k], shape, what=f"init_params {k}")
    check_init_scale(params)


def check_same_seed(again, params):
    for k in KEYS:
        assert_close(again[k], params[k], what=f"init_params {k} (same seed again)", atol=0,
                     rtol=0, hint="The same seed gave other values." +
                     explain("rng-not-threaded"))


def check_other_seed(other, params):
    if np.array_equal(other["Wx"], params["Wx"]):
        raise AssertionError("init_params Wx: identical for two different rng seeds." +
                             explain("rng-not-threaded"))


def check_grad_keys(grads, what):
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        found = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise AssertionError(f"{what}: expected a dict with exactly the keys "
                             f"{list(KEYS)}, got {found}.")


def check_float64(fn, names, outputs, shapes):
    """Each output of `fn` (given float32 inputs) is a float64 array of its shape."""
    for name, g, shape in zip(names, outputs, shapes, strict=True):
        check_array(g, shape, what=f"{fn} {name} (float32 inputs)")


def check_init_scale(params):
    """Weights neither zero nor large (a standard deviation in (1e-3, 2))."""
    for k in ("Wx", "Wh", "Wy"):
        std = float(np.std(params[k]))
        if not 1e-3 < std < 2.0:
            raise AssertionError(f"init_params {k}: standard deviation {std:.3g}; use random "
                                 "values of size about 1/sqrt(fan_in) (all-zero weights never "
                                 "learn, large ones saturate tanh).")


def check_adam_first_step(new_params, params, grads, p_keep, g_keep, lr):
    """The first adam_step (state None): its arguments unchanged (`p_keep` and `g_keep` are
    copies), and each parameter moved by about lr against its gradient's sign."""
    if not isinstance(new_params, dict) or set(new_params) != set(KEYS):
        raise AssertionError(f"adam_step new_params: expected a dict with keys {list(KEYS)}.")
    for k in KEYS:
        for label, arg, keep in (("params", params, p_keep), ("grads", grads, g_keep)):
            if not np.array_equal(arg[k], keep[k]):
                raise AssertionError(f"adam_step modified its argument {label}[{k!r}]." +
                                     explain("mutates-input"))
        step = check_array(new_params[k], params[k].shape, what=f"adam_step new_params[{k!r}]") \
            - p_keep[k]
        # the property: bias-corrected, the first step is about lr against the gradient's sign
        assert_close(step, -lr * np.sign(g_keep[k]), what=f"adam_step update of {k!r} (first "
                     "step)", atol=1e-8, rtol=1e-4, hint="With bias correction the first Adam "
                     "step moves every parameter by about lr against the sign of its "
                     "gradient." + explain("adam-bias-correction"))


def check_untrained(params, history, want):
    """train_echo(num_steps=0): `want`, the parameters init_params makes, and no history."""
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


def trained_losses(params, history, n_symbols, hidden) -> list:
    """Check train_echo's params (keys, shapes) and history; returns the losses."""
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
    return [scalar(v, "train_echo history['loss'] entry") for v in losses]


def check_echo_accuracy(acc, losses, need):
    """The trained model's accuracy on 400 fresh echo sequences is at least `need`."""
    if acc < need:
        k = max(1, len(losses) // 10)
        raise AssertionError(
            f"train_echo: accuracy {acc:.3f} on 400 fresh sequences, need >= {need} (loss: "
            f"first steps {np.mean(losses[:k]):.3f}, last steps {np.mean(losses[-k:]):.3f}). "
            "Check that each step uses the batch's mask, clips, and applies adam_step to the "
            "parameters it then keeps; that the gradient checks pass; and the defaults "
            "(num_steps, lr).")


def check_heatmap(info, h):
    """plot_hidden_states' figure: one labelled image with a colour bar that shows h, the
    states (time steps, units), as hidden units by time steps."""
    if len(info["axes"]) != 1 or len(info["axes"][0]["images"]) != 1:
        raise AssertionError("plot_hidden_states: draw one image (imshow) on one set of axes; "
                             f"found {len(info['axes'])} axes.")
    ax = info["axes"][0]
    check_labels(ax, what="plot_hidden_states", colorbar=True)
    image = np.asarray(ax["images"][0])
    if image.shape == h.shape and image.shape != h.T.shape:
        raise AssertionError(f"plot_hidden_states: the image is {image.shape}, time steps as "
                             "rows; draw hidden units as rows and time steps as columns.")
    assert_close(image, h.T, what="plot_hidden_states image (hidden units x time steps)",
                 atol=1e-8, rtol=1e-6, hint="Draw the states of the first sequence, x[:1], "
                 "run from a zero state.")


def check_norm_lines(info, norms):
    """plot_gradient_norms' figure: one labelled log-scale axes with a line per radius."""
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


def check_norm_curves(norms, radii, seq_len):
    """A dict with one curve of seq_len positive norms per radius, starting at 1 (lag 0)."""
    if not isinstance(norms, dict):
        raise AssertionError(f"gradient_norm_vs_lag: expected a dict rho -> norms, got "
                             f"{type(norms).__name__}.")
    for rho in radii:
        if rho not in norms:
            raise AssertionError(f"gradient_norm_vs_lag: no entry for rho = {rho}; the keys "
                                 f"must be the radii as floats, got {list(norms)}.")
        n = check_array(norms[rho], (seq_len,), what=f"gradient_norm_vs_lag norms[{rho}]")
        if not np.isclose(n[0], 1.0, rtol=1e-6):
            raise AssertionError(f"gradient_norm_vs_lag norms[{rho}][0] = {n[0]:.4g}: start from "
                                 "a unit-norm gradient on h_T, so the norm at lag 0 is 1.")
        if np.any(n <= 0):
            raise AssertionError(f"gradient_norm_vs_lag norms[{rho}]: norms must be positive.")


def check_vanish_explode(norms, lag):
    """At `lag` the norm vanishes for rho = 0.5, grows for 1.5, and grows with rho."""
    small, big = norms[0.5][lag], norms[1.5][lag]
    if not small < 1e-3:
        raise AssertionError(f"gradient_norm_vs_lag: for rho = 0.5 the norm at lag {lag} is "
                             f"{small:.3g}; it should vanish (about 0.5**{lag} ~ 1e-6). Scale Wh "
                             "to spectral radius rho and step back with the step backward.")
    if not big > 1.0:
        raise AssertionError(f"gradient_norm_vs_lag: for rho = 1.5 the norm at lag {lag} is "
                             f"{big:.3g}; it should grow. Keep the inputs tiny so tanh stays in "
                             "its linear range (saturated units hide the growth).")
    if not norms[0.5][lag] < norms[0.9][lag] < norms[1.5][lag]:
        raise AssertionError(f"gradient_norm_vs_lag: at lag {lag} the norm should grow with "
                             "rho (0.5 < 0.9 < 1.5).")
