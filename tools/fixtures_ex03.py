"""The saved expected values of tests/public/test_ex03_char_language_model.py
(fixtures/ex03.npz), computed from the reference (maintainer-side: only the numbers ship).

Inputs come from tests/public/support_ex03.py, the tests' own generators. Gradients are
centered differences of the reference's loss, never its backward pass; a "twin" is what
a forward pass with a classic slip built in gives, which a diagnosis compares a failing
result with. `python -m tools.fixtures` writes them; tests/project/test_fixtures.py fails
when they drift from the reference.
"""

from __future__ import annotations

import numpy as np

from tests.public import support_ex03 as s
from tests.public.harness import numerical_gradient


def _loss(ref, params, inputs, targets, h0=None):
    """The reference's (loss, h_last) of one chunk."""
    loss, _, h_last = ref.char_rnn_loss(s.copy_params(params), inputs, targets, h0)
    return np.float64(loss), h_last


def _numeric(ref, params, inputs, targets, h0, k):
    """Centered differences of the reference's loss with respect to params[k]."""
    return numerical_gradient(
        lambda a: _loss(ref, {**params, k: a}, inputs, targets, h0)[0], params[k], 1.0)


def _exercise1(ref, out):
    params, inputs, targets, h0 = s.exercise1_case()
    out["e1_loss"], out["e1_h_last"] = _loss(ref, params, inputs, targets, h0)
    for k in s.KEYS:
        out[f"e1_numeric_{k}"] = _numeric(ref, params, inputs, targets, h0, k)


def _losses(ref, out):
    params, inputs, targets, h0 = s.loss_case(310)
    for key, start in (("h0", h0), ("none", None)):
        out[f"loss310_{key}_loss"], out[f"loss310_{key}_h_last"] = _loss(
            ref, params, inputs, targets, start)
        out[f"loss310_{key}_swapped"] = _loss(ref, params, targets, inputs, start)[0]
    params, inputs, targets, h0 = s.loss_case(311)
    for k in s.KEYS:
        out[f"grad311_numeric_{k}"] = _numeric(ref, params, inputs, targets, h0, k)
        out[f"grad311_zero_start_{k}"] = _numeric(ref, params, inputs, targets, None, k)
    params, inputs, targets, h0 = s.loss_case(312, t=8)
    out["carry312_whole"] = _loss(ref, params, inputs, targets, h0)[0]
    out["carry312_second_from_zero"] = _loss(ref, params, inputs[:, 5:], targets[:, 5:])[0]


def _softmax(ref, out):
    """The softmax test's values, and its twins: the temperature applied after the
    softmax (divided; a power, not renormalised) or multiplied; at T = 1 they are the
    softmax itself, so none is saved there."""
    soft = ref.softmax_with_temperature
    for k, temperature in enumerate(s.SOFTMAX_TEMPS):
        p = soft(s.LOGITS, 1.0)
        out[f"softmax{k}"] = soft(s.LOGITS, temperature)
        if temperature == 1.0:
            continue
        out[f"softmax{k}_divided"] = p / temperature
        out[f"softmax{k}_power"] = p ** (1.0 / temperature)
        out[f"softmax{k}_times"] = soft(s.LOGITS * temperature, 1.0)
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    out["softmax_rows"], out["softmax_rows_at_one"] = soft(rows, 0.7), soft(rows, 1.0)
    out["softmax_large"] = soft(np.array([1e4, -1e4, 9990.0, 0.0]), 0.05)
    out["probe_softmax"] = soft(np.array([2.0, -1.0, 0.5, 3.0]), 0.6)


def _next_char(ref, out):
    """next_char_probs at the test's cases, and twins: the prediction from the old state,
    the temperature unused."""
    params, h = s.next_char_case(320)
    for k, (ix, temperature) in enumerate(s.NEXT_CHAR_CASES):
        out[f"next{k}_probs"], out[f"next{k}_h_next"] = ref.next_char_probs(
            s.copy_params(params), h, ix, temperature)
        out[f"next{k}_old_state"] = ref.softmax_with_temperature(
            h @ params["Wy"] + params["by"], temperature)
        if temperature != 1.0:
            out[f"next{k}_at_one"] = ref.next_char_probs(s.copy_params(params), h, ix,
                                                         1.0)[0]
    params, h = s.next_char_case(329)
    out["probe_probs"], out["probe_h_next"] = ref.next_char_probs(s.copy_params(params), h, 3,
                                                                  0.6)
    for k, (_, temperature) in enumerate(s.IID_CASES):
        out[f"iid{k}_probs"] = ref.softmax_with_temperature(np.log(s.IID_P0), temperature)


def _batches_and_experiment(ref, out):
    out["batch_cases"] = np.array([
        (length, seq_len, batch, len(ref.make_batches(np.arange(length), seq_len, batch)[0])
         // batch) for length, seq_len, batch in s.BATCH_CASES], dtype=np.int64)
    params, context = s.experiment_case()
    rows = ref.temperature_experiment(s.copy_params(params), context, s.EXPERIMENT_TEMPS, 200,
                                      s.rng(361), ngram=3)
    for k, row in enumerate(rows):
        out[f"entropy{k}"] = np.float64(row["entropy"])


def arrays(ref) -> dict[str, np.ndarray]:
    """Every saved value of the Exercise 3 public tests, from the reference module `ref`."""
    out = {}
    _exercise1(ref, out)
    _losses(ref, out)
    _softmax(ref, out)
    _next_char(ref, out)
    _batches_and_experiment(ref, out)
    return {k: np.asarray(v) for k, v in out.items()}
