"""The saved expected values of tests/public/test_ex01_basic_rnn.py (fixtures/ex01.npz),
computed from the reference (maintainer-side: only the numbers ship).

Inputs come from tests/public/support_ex01.py, the tests' own generators. Gradients are
centered differences of the reference's forward pass, never its backward pass, as the
tests have always compared them; a "twin" is the centered-difference gradient of a
forward pass with a classic slip built in, which a diagnosis compares a failing result
with. `python -m tools.fixtures` writes them; tests/project/test_fixtures.py fails
when they drift from the reference.
"""

from __future__ import annotations

import numpy as np

from tests.public import support_ex01 as s
from tests.public.harness import numerical_gradient


def _numeric_grads(forward, args, upstream):
    """Centered differences of sum(forward(*args) * upstream) for every argument."""
    grads = []
    for i in range(len(args)):
        def f(a, i=i):
            return forward(*(args[:i] + [a] + args[i + 1:]))
        grads.append(numerical_gradient(f, args[i], upstream))
    return grads


def _put(out, prefix, names, arrays):
    out.update({f"{prefix}_{name}": a for name, a in zip(names, arrays, strict=True)})


def _step_twins(args, dh_next):
    """The step's gradients under three classic slips (and a fourth, the transpose a
    square Wh hides), each by centered differences of a forward pass with the slip."""
    x, h_prev, Wx, Wh, b = args
    z0 = x @ Wx + h_prev @ Wh + b
    h_next = np.tanh(z0)
    return {
        "no_tanh": _numeric_grads(lambda *a: a[0] @ a[2] + a[1] @ a[3] + a[4], list(args),
                                  dh_next),
        "slope_at_output": numerical_gradient(lambda a: np.tanh(h_next + (a - x) @ Wx), x,
                                              dh_next),
        "dWh_from_h_next": numerical_gradient(lambda w: np.tanh(z0 + h_next @ (w - Wh)), Wh,
                                              dh_next),
        "dh_prev_other_side": numerical_gradient(
            lambda a: np.tanh(z0 + (a - h_prev) @ Wh.T), h_prev, dh_next),
    }


def _states(ref, x, h0, Wx, Wh, b, step_weights=None):
    """h_1..h_T by the reference's step; `step_weights = (t, i, w)` gives step t the
    weight w in place of argument i (2: Wx, 3: Wh, 4: b)."""
    h, prev = [], h0
    for t in range(x.shape[1]):
        weights = [Wx, Wh, b]
        if step_weights is not None and step_weights[0] == t:
            weights[step_weights[1] - 2] = step_weights[2]
        prev = ref.rnn_step_forward(x[:, t], prev, *weights)[0]
        h.append(prev)
    return np.stack(h, axis=1)


def _rnn_backward(ref, out, seed):
    args, dh = s.rnn_backward_inputs(seed)
    x, h0, Wx, Wh, b = args
    _put(out, f"rnn{seed}_numeric", s.SEQ_GRADS,
         _numeric_grads(lambda *a: ref.rnn_forward(*a)[0], args, dh))
    h = ref.rnn_forward(*args)[0]
    dx = np.zeros_like(x)  # every step on its own, the state entering it held fixed
    for t in range(x.shape[1]):
        prev = h0 if t == 0 else h[:, t - 1]
        dx[:, t] = numerical_gradient(
            lambda a, prev=prev: ref.rnn_step_forward(a, prev, Wx, Wh, b)[0], x[:, t], dh[:, t])
    out[f"rnn{seed}_dx_no_carry"] = dx
    for i, name in ((2, "dWx"), (3, "dWh"), (4, "db")):
        out[f"rnn{seed}_per_step_{name}"] = np.stack([
            numerical_gradient(lambda w, t=t, i=i: _states(ref, *args, step_weights=(t, i, w)),
                               args[i], dh) for t in range(x.shape[1])])


def _ce(ref, scores, y, mask=None):
    return ref.softmax_cross_entropy(scores, y, mask)[0]


def _ce_numeric(ref, scores, y, mask=None, shift=False):
    """Centered differences of the loss; with `shift`, at the scores less each row's
    maximum (softmax is unchanged there, and the values are small and exact)."""
    at = scores - scores.max(axis=-1, keepdims=True) if shift else scores
    return numerical_gradient(lambda z: _ce(ref, z, y, mask), at, 1.0)


def arrays(ref) -> dict[str, np.ndarray]:
    """Every saved value of the Exercise 1 public tests, from the reference module `ref`."""
    out = {}
    out["step101_h"] = ref.rnn_step_forward(*s.step_params(s.rng(101)))[0]
    x, h_prev, Wx, Wh, b = s.step_params(s.rng(102))
    out["step102_h_no_wh"] = ref.rnn_step_forward(x, h_prev, Wx, np.zeros_like(Wh), b)[0]
    out["step102_h_no_x"] = ref.rnn_step_forward(np.zeros_like(x), h_prev, np.zeros_like(Wx),
                                                 Wh, b)[0]
    for seed in (103, 99):
        args, dh_next = s.step_backward_case(seed)
        prefix = "step103" if seed == 103 else "ok99"
        _put(out, f"{prefix}_numeric", s.STEP_GRADS,
             _numeric_grads(lambda *a: ref.rnn_step_forward(*a)[0], args, dh_next))
    twins = _step_twins(*s.step_backward_case(103))
    _put(out, "step103_no_tanh", s.STEP_GRADS, twins.pop("no_tanh"))
    out.update({f"step103_{k}": v for k, v in twins.items()})
    gen = s.rng(98)  # forward_ok: one step, then (fresh) a sequence of 4
    out["ok98_step_h"] = ref.rnn_step_forward(*s.step_params(gen))[0]
    out["ok98_seq_h"] = ref.rnn_forward(*s.seq_params(s.rng(98), t=4))[0]
    out["rnn104_h"] = ref.rnn_forward(*s.seq_params(s.rng(104)))[0]
    x, h0, Wx, Wh, b = s.seq_params(s.rng(105))
    out["rnn105_h1_from_zero"] = ref.rnn_step_forward(x[:, 0], np.zeros_like(h0), Wx, Wh, b)[0]
    out["rnn105_h1"] = ref.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)[0]
    for seed in s.RNN_BACKWARD_CASES:
        _rnn_backward(ref, out, seed)
    out["affine109_scores"] = ref.affine_forward(*s.affine_inputs(109))[0]
    h, Wy, by, dscores = s.affine_backward_inputs()
    _put(out, "affine110_numeric", ("dh", "dWy", "dby"),
         _numeric_grads(lambda *a: ref.affine_forward(*a)[0], [h, Wy, by], dscores))
    scores, y = s.ce_inputs(111)
    out["ce111_loss"] = np.float64(_ce(ref, scores, y))
    scores, y = s.ce_inputs(112)
    out["ce112_numeric"] = _ce_numeric(ref, scores, y)
    y, cases, ordinary = s.ce_stable_inputs()
    out["ce113_ordinary_loss"] = np.float64(_ce(ref, ordinary, y))
    out["ce113_ordinary_numeric"] = _ce_numeric(ref, ordinary, y, shift=True)
    for k, scores in enumerate(cases.values()):
        out[f"ce113_case{k}_loss"] = np.float64(_ce(ref, scores, y))
        out[f"ce113_case{k}_numeric"] = _ce_numeric(ref, scores, y, shift=True)
    scores, y = s.ce_inputs(114)
    out["ce114_loss"] = np.float64(_ce(ref, scores, y, s.ce_mask()))
    out["ce114_numeric"] = _ce_numeric(ref, scores, y, s.ce_mask())
    grads = s.grads_for_clipping(s.rng(115), 1.0)
    total = ref.clip_grad_norm(grads, np.inf)[1]
    max_norm = 0.5 * (total + max(np.linalg.norm(g) for g in grads.values()))
    clipped, _ = ref.clip_grad_norm(grads, max_norm)
    out.update(clip115_total=np.float64(total), clip115_max_norm=np.float64(max_norm))
    _put(out, "clip115_clipped", s.KEYS, [clipped[k] for k in s.KEYS])
    grads = s.grads_for_clipping(s.rng(116), 0.01)
    out["clip116_total"] = np.float64(ref.clip_grad_norm(grads, 5.0)[1])
    out["clip116_total_float32"] = np.float64(ref.clip_grad_norm(
        {k: g.astype(np.float32) for k, g in grads.items()}, 5.0)[1])
    params, x, y, h0 = s.model_case(119)
    out["model119_loss"] = np.float64(ref.model_loss(params, x, y, h0)[0])
    for k in s.KEYS:
        out[f"model119_numeric_{k}"] = numerical_gradient(
            lambda p, k=k: ref.model_loss({**params, k: p}, x, y, h0)[0], params[k], 1.0)
    params, x, y, h0 = s.model_case(120, t=5)
    for label, start in (("h0", h0), ("zero", None)):
        loss, _, h_last = ref.model_loss(params, x, y, start)
        out[f"model120_loss_{label}"], out[f"model120_h_last_{label}"] = np.float64(loss), h_last
    out["model120_loss_mask"] = np.float64(ref.model_loss(params, x, y, h0, s.model_mask())[0])
    params, x, mask, changed = s.accuracy_inputs()
    h = ref.rnn_forward(x, np.zeros((3, s.H)), params["Wx"], params["Wh"], params["b"])[0]
    pred = np.argmax(ref.affine_forward(h, params["Wy"], params["by"])[0], axis=-1)
    y = np.where(changed, (pred + 1) % s.V, pred)
    out.update(accuracy127_y=y, accuracy127_plain=np.float64(ref.accuracy(params, x, y)),
               accuracy127_masked=np.float64(ref.accuracy(params, x, y, mask)))
    params, x = s.hidden_states_inputs()
    out["hidden125_h"] = ref.rnn_forward(x[:1], np.zeros((1, 16)), params["Wx"], params["Wh"],
                                         params["b"])[0][0]
    return out
