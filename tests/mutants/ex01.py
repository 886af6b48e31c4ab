"""Exercise 1 (NumPy RNN and BPTT): catalogued student mistakes and correct alternatives."""

from __future__ import annotations

from tests.mutants.catalogue import alternative, mutant

MUTANTS = [
    mutant(
        "drop_dh_next",
        "ex01",
        "BPTT ignores the gradient carried back from later steps",
        "bptt-accumulation",
        "bptt-no-carry",
        (
            "rnn_step_backward(dh[:, t] + dh_carry, step_caches[t])",
            "rnn_step_backward(dh[:, t], step_caches[t])",
        ),
    ),
    mutant(
        "tanh_of_h_in_derivative",
        "ex01",
        "tanh derivative written as 1 - tanh(h)^2 with h already tanh'ed",
        "derivative",
        "tanh-derivative-at-output",
        ("(1.0 - h_next**2)", "(1.0 - np.tanh(h_next) ** 2)"),
    ),
    mutant(
        "no_transpose_Wh",
        "ex01",
        "dh_prev = dz @ Wh (missing transpose)",
        "transpose",
        "backward-transpose",
        ("    dh_prev = dz @ Wh.T\n", "    dh_prev = dz @ Wh\n"),
    ),
    mutant(
        "dWh_uses_h_next",
        "ex01",
        "dWh built from h_t instead of h_{t-1}",
        "index-shift",
        "dwh-wrong-state",
        ("    dWh = h_prev.T @ dz\n", "    dWh = h_next.T @ dz\n"),
    ),
    mutant(
        "assign_not_accumulate",
        "ex01",
        "dWh = dWh_t instead of += across time steps",
        "bptt-accumulation",
        "bptt-no-accumulate",
        ("dWh += dWh_t", "dWh = dWh_t"),
    ),
    mutant(
        "ignores_h0",
        "ex01",
        "the sequence always starts from zeros",
        "hidden-carry",
        "forward-h0-ignored",
        ("h_t = h0\n", "h_t = np.zeros_like(h0)\n"),
    ),
    mutant(
        "unstable_softmax",
        "ex01",
        "softmax without subtracting the maximum",
        "dtype",
        "softmax-overflow",
        ("shifted = scores - scores.max(axis=2, keepdims=True)", "shifted = scores"),
    ),
    mutant(
        "clip_per_element",
        "ex01",
        "clipping each entry to [-max_norm, max_norm]",
        "clipping",
        "clip-not-global",
        (
            "clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}",
            "clipped = {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}",
        ),
    ),
    mutant(
        "clip_in_place",
        "ex01",
        "clipping the caller's arrays in place and returning them",
        "mutation",
        "mutates-input",
        (
            "clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}",
            "for g in grads.values():\n        g *= scale\n    clipped = grads",
        ),
    ),
    mutant(
        "clip_per_array",
        "ex01",
        "each array clipped by its own norm, not the global one",
        "clipping",
        "clip-not-global",
        (
            "clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}",
            "clipped = {k: g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-12))\n"
            "               for k, g in grads.items()}",
        ),
    ),
    mutant(
        "mask_mean_over_all",
        "ex01",
        "masked loss divided by N*T instead of the number of unmasked positions",
        "reduction",
        "mask-count",
        (
            "weights = mask_weights(mask, N, T)",
            "weights = (np.ones((N, T)) if mask is None else np.asarray(mask, float)) / (N * T)",
        ),
    ),
    mutant(
        "db_mean_not_sum",
        "ex01",
        "db averaged over the batch instead of summed",
        "reduction",
        "bias-grad-sum",
        ("    db = dz.sum(axis=0)\n", "    db = dz.mean(axis=0)\n"),
    ),
    mutant(
        "float32_state",
        "ex01",
        "hidden state computed in float32",
        "dtype",
        "float32-precision",
        (
            "h_next = np.tanh(x @ Wx + h_prev @ Wh + b)",
            "h_next = np.tanh((x @ Wx + h_prev @ Wh + b).astype(np.float32))",
        ),
    ),
    mutant(
        "mutates_dh",
        "ex01",
        "BPTT adds the carried gradient into the caller's dh in place",
        "mutation",
        "mutates-input",
        (
            "        dx_t, dh_carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] +"
            " dh_carry, step_caches[t])",
            "        dh[:, t] += dh_carry\n"
            "        dx_t, dh_carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t],"
            " step_caches[t])",
        ),
    ),
    mutant(
        "softmax_grad_not_averaged",
        "ex01",
        "dscores not divided by the number of positions",
        "reduction",
        "ce-grad-scale",
        (
            "dscores = (np.exp(log_probs) - np.eye(V)[y]) * weights[:, :, None]",
            "dscores = (np.exp(log_probs) - np.eye(V)[y]) * (weights[:, :, None] > 0)",
        ),
    ),
    mutant(
        "h_last_is_first",
        "ex01",
        "model_loss returns h_1 as the last state",
        "index-shift",
        None,
        ("return loss, grads, h[:, -1].copy()", "return loss, grads, h[:, 0].copy()"),
        no_id_because=(
            "a wrong h_last only shows as model_loss disagreeing with the reference,"
            " which names no single idea"
        ),
    ),
    mutant(
        "adam_no_bias_correction",
        "ex01",
        "Adam without bias correction",
        "optimizer",
        "adam-bias-correction",
        ("m_hat = new_m[k] / (1 - beta1**t)", "m_hat = new_m[k]"),
    ),
    mutant(
        "dh0_dropped",
        "ex01",
        "rnn_backward returns zeros for the gradient of h0",
        "bptt-accumulation",
        "bptt-dh0",
        (
            "    return dx, dh_carry, dWx, dWh, db\n",
            "    return dx, np.zeros_like(dh_carry), dWx, dWh, db\n",
        ),
    ),
    mutant(
        "clip_reports_clipped_norm",
        "ex01",
        "clip_grad_norm returns the norm after clipping, not before",
        "clipping",
        "clip-norm-reported",
        ("    return clipped, total_norm\n", "    return clipped, min(total_norm, max_norm)\n"),
    ),
    mutant(
        "mask_ignored_in_gradient",
        "ex01",
        "the loss is masked but its gradient flows from every position",
        "reduction",
        "mask-gradient-leak",
        (
            "dscores = (np.exp(log_probs) - np.eye(V)[y]) * weights[:, :, None]",
            "dscores = (np.exp(log_probs) - np.eye(V)[y]) / (N * T)",
        ),
    ),
    mutant(
        "forward_without_input_casts",
        "ex01",
        "the step and the read-out compute in the inputs' dtype: float32 in, float32 out",
        "dtype",
        "float32-precision",
        (
            "    x, h_prev, Wx, Wh, b = (np.asarray(a, dtype=np.float64) for a in (x, h_prev, "
            "Wx, Wh, b))\n",
            "    x, h_prev, Wx, Wh, b = (np.asarray(a) for a in (x, h_prev, Wx, Wh, b))\n",
        ),
        (
            "    h, Wy, by = (np.asarray(a, dtype=np.float64) for a in (h, Wy, by))\n",
            "    h, Wy, by = (np.asarray(a) for a in (h, Wy, by))\n",
        ),
    ),
]

ALTERNATIVES = [
    alternative(
        "independent_rewrite",
        "ex01",
        "written from scratch: stacked [Wx; Wh], dict caches, inline BPTT, Xavier "
        "initialisation, momentum SGD",
        fixture="alt_ex01",
    ),
    alternative(
        "concatenated_weights",
        "ex01",
        "one product of [x, h_prev] with the stacked [Wx; Wh]",
        (
            "h_next = np.tanh(x @ Wx + h_prev @ Wh + b)",
            "h_next = np.tanh(np.concatenate([x, h_prev], axis=1)\n"
            "                     @ np.concatenate([Wx, Wh], axis=0) + b)",
        ),
    ),
    alternative(
        "einsum_readout",
        "ex01",
        "the read-out and its gradient with einsum",
        ("return h @ Wy + by, (h, Wy)", 'return np.einsum("nth,hv->ntv", h, Wy) + by, (h, Wy)'),
        (
            "dWy = h.reshape(N * T, H).T @ dscores.reshape(N * T, V)",
            'dWy = np.einsum("nth,ntv->hv", h, dscores)',
        ),
    ),
    alternative(
        "cache_as_dict",
        "ex01",
        "the step cache is a dict, not a tuple",
        (
            "    return h_next, (x, h_prev, Wx, Wh, h_next)\n",
            '    return h_next, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h": h_next}\n',
        ),
        (
            "    x, h_prev, Wx, Wh, h_next = cache\n",
            '    x, h_prev, Wx, Wh, h_next = (cache[k] for k in ("x", "h_prev", "Wx", '
            '"Wh", "h"))\n',
        ),
        (
            "    x0, h_prev0, Wx, Wh, _ = step_caches[0]\n",
            '    x0, h_prev0, Wx, Wh = (step_caches[0][k] for k in ("x", "h_prev", "Wx", "Wh"))\n',
        ),
    ),
    alternative(
        "gradients_summed_after_the_loop",
        "ex01",
        "each step's weight gradients kept, then summed in forward time order",
        (
            "    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)\n",
            "    per_step = []\n",
        ),
        (
            "        dWx += dWx_t\n        dWh += dWh_t\n        db += db_t\n",
            "        per_step.append((dWx_t, dWh_t, db_t))\n"
            "    dWx, dWh, db = (sum(g[i] for g in reversed(per_step)) for i in range(3))\n",
        ),
    ),
    alternative(
        "xavier_uniform_init",
        "ex01",
        "Glorot-uniform weights instead of scaled Gaussians and an orthogonal Wh",
        (
            '        "Wx": rng.standard_normal((D, H)) / np.sqrt(D),\n'
            '        "Wh": random_orthogonal(H, rng),\n',
            '        "Wx": rng.uniform(-1, 1, (D, H)) * np.sqrt(6 / (D + H)),\n'
            '        "Wh": rng.uniform(-1, 1, (H, H)) * np.sqrt(3 / H),\n',
        ),
        (
            '        "Wy": rng.standard_normal((H, V)) / np.sqrt(H),\n',
            '        "Wy": rng.uniform(-1, 1, (H, V)) * np.sqrt(6 / (H + V)),\n',
        ),
    ),
    alternative(
        "clip_with_one_norm_call",
        "ex01",
        "the global norm from one np.linalg.norm of all entries, scale by min(1, .)",
        (
            "    scale = max_norm / total_norm if total_norm > max_norm else 1.0\n",
            "    total_norm = float(np.linalg.norm(np.concatenate(\n"
            "        [np.ravel(np.asarray(g, dtype=np.float64)) for g in grads.values()])))\n"
            "    scale = min(1.0, max_norm / total_norm) if total_norm else 1.0\n",
        ),
    ),
    alternative(
        "adam_state_as_a_tuple",
        "ex01",
        "the Adam state kept as a tuple (t, m, v): the docstring calls it opaque",
        (
            "    if state is None:\n"
            '        state = {"t": 0, "m": {}, "v": {}}\n'
            '    t = state["t"] + 1\n',
            "    t_before, m_before, v_before = (0, {}, {}) if state is None else state\n"
            '    state = {"t": t_before, "m": m_before, "v": v_before}\n'
            '    t = state["t"] + 1\n',
        ),
        (
            '    return new_params, {"t": t, "m": new_m, "v": new_v}\n',
            "    return new_params, (t, new_m, new_v)\n",
        ),
    ),
]
