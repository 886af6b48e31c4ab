"""Exercise 1: a vanilla RNN in NumPy, trained with backpropagation through time (BPTT).

You build a one-layer tanh RNN from scratch, check its gradients numerically, train it on
an "echo" task (output the symbol seen `delay` steps ago) and measure how gradients vanish
or explode as they travel back in time.

Conventions used everywhere in this file:

* float64 arrays only: every function returns float64 arrays, float32 inputs included
  (float32 is too coarse for the numerical gradient checks);
* batch-first row vectors: inputs ``x`` are ``(N, T, D)``, hidden states ``(N, T, H)``,
  scores ``(N, T, V)``; one step is ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``;
* parameters live in a dict with keys ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``,
  ``Wy (H, V)``, ``by (V,)``; gradient dicts use the same keys;
* randomness comes only from an ``rng: np.random.Generator`` argument;
* no function modifies its input arrays (copy before any in-place operation);
* a bad argument raises ``ValueError`` with a message naming the argument
  (``check_shape`` below does this for shapes).

Run ``python ex_01_basic_rnn.py`` for the demo: gradient checks, training with progress,
and two figures written to ``figures/`` in the current folder (``--out DIR`` for another).
``make check`` runs the tests. The guide (``guides/rnn_guide.md``) explains every idea used
here; the docstrings name the section to read.
"""

import sys
from pathlib import Path

import numpy as np

PARAM_KEYS = ("Wx", "Wh", "b", "Wy", "by")


# ---------------------------------------------------------------------------------------
# Given helpers (already complete)
# ---------------------------------------------------------------------------------------


def check_shape(name, array, shape, dims=""):
    """Raise ``ValueError`` unless ``array`` has ``shape``; ``None`` in ``shape`` matches any size.

    ``dims`` names the expected axes for the message, e.g. ``check_shape("Wx", Wx, (D, H),
    "(D, H)")`` fails with ``"Wx has shape (5, 3), expected (D, H) = (3, 5)"``.
    """
    got = np.shape(array)
    ok = len(got) == len(shape) and all(
        w is None or g == w for g, w in zip(got, shape, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("?" if w is None else str(w) for w in shape)
        want += ",)" if len(shape) == 1 else ")"
        prefix = f"{dims} = " if dims else ""
        raise ValueError(f"{name} has shape {got}, expected {prefix}{want}")


def mask_weights(mask, N, T):
    """Per-position loss weights ``mask / sum(mask)``, float64 ``(N, T)``; ``None`` means all 1.

    Raises ``ValueError`` when ``mask`` has the wrong shape, holds values other than 0/1
    (bool masks are fine) or selects no position at all.
    """
    if mask is None:
        return np.full((N, T), 1.0 / (N * T))
    check_shape("mask", mask, (N, T), "(N, T)")
    mask = np.asarray(mask, dtype=np.float64)
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must contain only 0/1 (or False/True) values")
    count = mask.sum()
    if count == 0:
        raise ValueError("mask selects no position (it is all zeros)")
    return mask / count


def rel_error(x, y):
    """Largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)`` as a float."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, h=1e-5):
    """Centered-difference gradient of the scalar function ``f(x)`` with respect to ``x``.

    ``x`` is perturbed in place one entry at a time and restored afterwards, so ``f`` must
    read ``x`` (not a copy made before the call).
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        f_plus = float(f(x))
        x[ix] = old - h
        f_minus = float(f(x))
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Centered-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    Use it for array-valued functions: ``df`` plays the role of the upstream gradient.
    """
    return eval_numerical_gradient(lambda a: np.sum(f(a) * df), x, h)


def random_orthogonal(n, rng):
    """A random ``(n, n)`` orthogonal matrix (all singular values and |eigenvalues| are 1)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    # Fixing the signs by diag(r) makes the distribution uniform over orthogonal matrices.
    return q * np.sign(np.diag(r))


def make_echo_data(n, seq_len, n_symbols, delay, rng):
    """A batch of the echo task: at step t the target is the input symbol from step t - delay.

    Returns ``(x, y, mask)``:

    * ``x``: one-hot inputs, float64 ``(n, seq_len, n_symbols)``;
    * ``y``: int64 ``(n, seq_len)`` with ``y[:, t] = symbol[:, t - delay]`` (0 for t < delay);
    * ``mask``: float64 ``(n, seq_len)``, 0 where ``t < delay`` (nothing to echo yet), else 1.
    """
    if n < 1 or seq_len < 1 or n_symbols < 2:
        raise ValueError("n and seq_len must be >= 1 and n_symbols >= 2")
    if not 0 <= delay < seq_len:
        raise ValueError(f"delay must be in [0, seq_len) = [0, {seq_len}), got {delay}")
    symbols = rng.integers(0, n_symbols, size=(n, seq_len))
    x = np.eye(n_symbols, dtype=np.float64)[symbols]
    y = np.zeros((n, seq_len), dtype=np.int64)
    y[:, delay:] = symbols[:, : seq_len - delay]
    mask = np.zeros((n, seq_len), dtype=np.float64)
    mask[:, delay:] = 1.0
    return x, y, mask


# ---------------------------------------------------------------------------------------
# Part 1: one RNN step, forward and backward
# ---------------------------------------------------------------------------------------


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of a tanh RNN: ``h_next = tanh(x @ Wx + h_prev @ Wh + b)``.

    Args:
        x: inputs at this step, ``(N, D)``.
        h_prev: previous hidden state, ``(N, H)``.
        Wx: input-to-hidden weights, ``(D, H)``.
        Wh: hidden-to-hidden weights, ``(H, H)``.
        b: bias, ``(H,)``.

    Returns:
        ``(h_next, cache)``: ``h_next`` is float64 ``(N, H)``; ``cache`` is whatever
        ``rnn_step_backward`` needs (any Python object you like, e.g. a tuple).

    Raise ``ValueError`` naming the argument when a shape does not fit (``check_shape``).
    # BEGIN CONCEPT
    Keep in the cache everything the backward pass will need (guide: "One step").
    # END CONCEPT
    # BEGIN FULL
    Hint: keep ``h_next`` in the cache; tanh's derivative is ``1 - h_next**2``.
    # END FULL
    """
    # BEGIN SOLUTION
    x, h_prev, Wx, Wh, b = (np.asarray(a, dtype=np.float64) for a in (x, h_prev, Wx, Wh, b))
    check_shape("x", x, (None, None), "(N, D)")
    N, D = x.shape
    check_shape("h_prev", h_prev, (N, None), "(N, H)")
    H = h_prev.shape[1]
    check_shape("Wx", Wx, (D, H), "(D, H)")
    check_shape("Wh", Wh, (H, H), "(H, H)")
    check_shape("b", b, (H,), "(H,)")
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, (x, h_prev, Wx, Wh, h_next)
    # END SOLUTION


def rnn_step_backward(dh_next, cache):
    """Backward pass of ``rnn_step_forward``.

    Args:
        dh_next: upstream gradient dL/dh_next, ``(N, H)``.
        cache: the cache returned by ``rnn_step_forward`` (use nothing else).

    Returns:
        ``(dx, dh_prev, dWx, dWh, db)`` with the shapes of ``x, h_prev, Wx, Wh, b``.

    # BEGIN CONCEPT
    Idea: the chain rule through one step, from the output back. First through tanh (its
    derivative can be written with its output, which you cached), which gives the gradient
    at the tanh input; then through the sum into its three terms; then through each
    product ``A @ W`` to both ``A`` and ``W``, as for a dense layer in Module 2. Let the
    shapes tell you how factors pair up, and remember that ``b`` is added to every row of
    the batch. Derive it on paper first (guide: "One step"); ``make check`` compares every
    output with centered differences. Do not modify ``dh_next``.
    # END CONCEPT
    # BEGIN FULL
    With ``dz = dh_next * (1 - h_next**2)`` (the gradient at the tanh input):
    ``dx = dz @ Wx.T``, ``dh_prev = dz @ Wh.T``, ``dWx = x.T @ dz``, ``dWh = h_prev.T @ dz``,
    ``db = dz.sum(axis=0)``. Do not modify ``dh_next``.
    # END FULL
    """
    # BEGIN SOLUTION
    x, h_prev, Wx, Wh, h_next = cache
    check_shape("dh_next", dh_next, h_next.shape, "(N, H)")
    dz = np.asarray(dh_next, dtype=np.float64) * (1.0 - h_next**2)
    dx = dz @ Wx.T
    dh_prev = dz @ Wh.T
    dWx = x.T @ dz
    dWh = h_prev.T @ dz
    db = dz.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 2: a whole sequence, forward and backpropagation through time
# ---------------------------------------------------------------------------------------


def rnn_forward(x, h0, Wx, Wh, b):
    """Run the RNN over a whole sequence by calling ``rnn_step_forward`` for t = 1..T.

    Args:
        x: inputs, ``(N, T, D)`` with ``T >= 1``.
        h0: initial hidden state, ``(N, H)``.
        Wx, Wh, b: as in ``rnn_step_forward``.

    Returns:
        ``(h, cache)``: ``h`` is float64 ``(N, T, H)`` with ``h[:, t]`` the state after
        reading ``x[:, t]`` (so ``h`` holds h_1..h_T, not h0); ``cache`` is for
        ``rnn_backward``.

    Raise ``ValueError`` naming the argument when a shape does not fit.
    """
    # BEGIN SOLUTION
    check_shape("x", x, (None, None, None), "(N, T, D)")
    N, T, _ = np.shape(x)
    if T < 1:
        raise ValueError("x must have at least one time step (T >= 1)")
    check_shape("h0", h0, (N, None), "(N, H)")
    h = np.empty((N, T, np.shape(h0)[1]), dtype=np.float64)
    step_caches = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        step_caches.append(step_cache)
    return h, step_caches
    # END SOLUTION


def rnn_backward(dh, cache):
    """Backpropagation through time for ``rnn_forward``.

    Args:
        dh: upstream gradients on every hidden state, ``(N, T, H)`` (``dh[:, t]`` comes from
            whatever used ``h[:, t]`` directly, e.g. the output layer).
        cache: the cache returned by ``rnn_forward``.

    Returns:
        ``(dx, dh0, dWx, dWh, db)`` with the shapes of ``x, h0, Wx, Wh, b``.

    # BEGIN CONCEPT
    Ideas (guide: "The whole sequence"): h_t is used twice, by the output at step t and
    by step t+1, so the gradient on h_t has two sources; the same weights act at every
    step, so their gradient gathers something from every step; and what leaves the first
    step is the gradient on h0. Work out in which order the steps must be visited so that
    each step's full upstream gradient is known when you need it, then build on
    ``rnn_step_backward``. Do not modify ``dh``.
    # END CONCEPT
    # BEGIN FULL
    h_t also feeds h_{t+1}, so its total gradient is ``dh[:, t]`` plus the ``dh_prev`` that
    step t+1 sends back. Walk t = T-1..0 calling ``rnn_step_backward``, carry ``dh_prev``
    from one step to the next, and accumulate (``+=``) the weight gradients because the
    weights are shared by all steps. The ``dh_prev`` of the first step is ``dh0``.
    Do not modify ``dh`` (build a new array for the sum).
    # END FULL
    """
    # BEGIN SOLUTION
    step_caches = cache
    x0, h_prev0, Wx, Wh, _ = step_caches[0]
    N, D = x0.shape
    T, H = len(step_caches), h_prev0.shape[1]
    check_shape("dh", dh, (N, T, H), "(N, T, H)")
    dh = np.asarray(dh, dtype=np.float64)
    dx = np.empty((N, T, D), dtype=np.float64)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dh_carry = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dh_carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_carry, step_caches[t])
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_carry, dWx, dWh, db
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 3: output layer and loss
# ---------------------------------------------------------------------------------------


def affine_forward(h, Wy, by):
    """Scores for every time step: ``scores = h @ Wy + by``.

    Args:
        h: hidden states, ``(N, T, H)``.
        Wy: ``(H, V)``.
        by: ``(V,)``.

    Returns:
        ``(scores, cache)`` with ``scores`` float64 ``(N, T, V)``.

    Raise ``ValueError`` naming the argument when a shape does not fit.
    """
    # BEGIN SOLUTION
    h, Wy, by = (np.asarray(a, dtype=np.float64) for a in (h, Wy, by))
    check_shape("h", h, (None, None, None), "(N, T, H)")
    check_shape("Wy", Wy, (h.shape[2], None), "(H, V)")
    check_shape("by", by, (Wy.shape[1],), "(V,)")
    return h @ Wy + by, (h, Wy)
    # END SOLUTION


def affine_backward(dscores, cache):
    """Backward pass of ``affine_forward``.

    Args:
        dscores: upstream gradient, ``(N, T, V)``.
        cache: from ``affine_forward``.

    Returns:
        ``(dh, dWy, dby)`` with shapes ``(N, T, H)``, ``(H, V)``, ``(V,)``.

    The same ``Wy`` and ``by`` serve every (n, t) position (guide: "4. Output layer and
    loss"): what does that mean for their gradients?
    # BEGIN FULL
    ``dWy`` and ``dby`` sum over both the batch and the time axes. Hint: reshape to
    ``(N*T, H)`` and ``(N*T, V)``; ``dh = dscores @ Wy.T``.
    # END FULL
    """
    # BEGIN SOLUTION
    h, Wy = cache
    N, T, H = h.shape
    V = Wy.shape[1]
    check_shape("dscores", dscores, (N, T, V), "(N, T, V)")
    dscores = np.asarray(dscores, dtype=np.float64)
    dh = dscores @ Wy.T
    dWy = h.reshape(N * T, H).T @ dscores.reshape(N * T, V)
    dby = dscores.sum(axis=(0, 1))
    return dh, dWy, dby
    # END SOLUTION


def softmax_cross_entropy(scores, y, mask=None):
    """Mean softmax cross-entropy over all unmasked positions, and its gradient.

    Args:
        scores: unnormalised log-probabilities, ``(N, T, V)``.
        y: integer targets ``(N, T)``, every entry in ``[0, V)`` (masked ones too).
        mask: ``None`` (every position counts) or ``(N, T)`` of 0/1 values (bool or float);
            positions with 0 add nothing to the loss and get zero gradient.

    Returns:
        ``(loss, dscores)``: ``loss = -sum(mask * log p[n, t, y[n, t]]) / sum(mask)`` as a
        float, with ``p = softmax(scores)`` over the last axis, and ``dscores``, the
        gradient of ``loss`` with respect to ``scores``, ``(N, T, V)``.

    # BEGIN CONCEPT
    Derive ``dscores`` for one position first (the derivative of ``-log softmax(s)[y]``
    with respect to each ``s_j``), then account for the mean and the mask (guide: "4.
    Output layer and loss"). Logits of 1e4 must not overflow: softmax does not change when
    the same constant is subtracted from every logit of a row; work with log-probabilities
    rather than ``log(p)``.
    # END CONCEPT
    # BEGIN FULL
    ``dscores = mask * (p - onehot(y)) / sum(mask)``. Subtract the row maximum before
    ``exp`` so logits of 1e4 do not overflow, and compute log-probabilities as
    ``shifted - log(sum(exp(shifted)))`` rather than ``log(p)``.
    # END FULL
    Raise ``ValueError`` for wrong shapes, non-integer ``y`` and ``y`` out of range; the
    given ``mask_weights(mask, N, T)`` turns ``mask`` into the weights ``mask / sum(mask)``
    and rejects bad masks for you.
    """
    # BEGIN SOLUTION
    scores = np.asarray(scores, dtype=np.float64)
    check_shape("scores", scores, (None, None, None), "(N, T, V)")
    N, T, V = scores.shape
    y = np.asarray(y)
    check_shape("y", y, (N, T), "(N, T)")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= V):
        raise ValueError(f"y must be in [0, V) = [0, {V}), got values in [{y.min()}, {y.max()}]")
    weights = mask_weights(mask, N, T)
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    picked = np.take_along_axis(log_probs, y[:, :, None], axis=2)[:, :, 0]
    loss = -np.sum(weights * picked)
    dscores = (np.exp(log_probs) - np.eye(V)[y]) * weights[:, :, None]
    return float(loss), dscores
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 4: gradient clipping, parameters, the full model and Adam
# ---------------------------------------------------------------------------------------


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

    Args:
        grads: dict name -> array.
        max_norm: positive float.

    Returns:
        ``(clipped, total_norm)``: ``total_norm = sqrt(sum over arrays of sum(g**2))``
        measured before clipping (a float); ``clipped`` is a NEW dict of NEW arrays: every
        array times ``max_norm / total_norm`` when ``total_norm > max_norm``, otherwise plain
        copies. Clipping the global norm keeps the direction of the whole update.

    Raise ``ValueError`` naming ``max_norm`` when ``max_norm <= 0``. Do not modify
    ``grads``. Gradients of any float dtype give float64 ``clipped`` arrays, and the norm
    is summed in float64 (float32 gradients included: their squares summed in float32 lose
    digits).
    """
    # BEGIN SOLUTION
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    total_norm = float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads.values())))
    scale = max_norm / total_norm if total_norm > max_norm else 1.0
    clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}
    return clipped, total_norm
    # END SOLUTION


def init_params(D, H, V, rng):
    """Random initial parameters for input size D, hidden size H and V output classes.

    Returns a dict of float64 arrays: ``Wx (D, H)`` drawn from a normal distribution with
    mean 0 and variance 1/D (standard deviation ``1/sqrt(D)``); ``Wh (H, H)`` a random
    orthogonal matrix (``random_orthogonal``), so the recurrence neither shrinks nor blows
    up the state at the start; ``b (H,)`` zeros; ``Wy (H, V)`` normal with variance 1/H;
    ``by (V,)`` zeros. Draw everything from ``rng``.
    """
    # BEGIN SOLUTION
    for name, value in (("D", D), ("H", H), ("V", V)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    return {
        "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
        "Wh": random_orthogonal(H, rng),
        "b": np.zeros(H),
        "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
        "by": np.zeros(V),
    }
    # END SOLUTION


def model_loss(params, x, y, h0=None, mask=None):
    """Loss and gradients of the whole model: RNN -> affine -> softmax cross-entropy.

    Args:
        params: dict with ``Wx, Wh, b, Wy, by``.
        x: inputs ``(N, T, D)``.
        y: integer targets ``(N, T)``.
        h0: initial state ``(N, H)``; ``None`` means zeros.
        mask: optional ``(N, T)`` 0/1 mask for the loss (see ``softmax_cross_entropy``).

    Returns:
        ``(loss, grads, h_last)``: the mean loss (float), a dict of gradients with the
        same five keys as ``params``, and the final hidden state ``h_T`` ``(N, H)`` (to
        carry into the next chunk of a longer sequence).

    Chain the pieces you wrote, forward then backward (guide: "4. Output layer and loss").
    # BEGIN FULL
    Forward: ``rnn_forward`` from ``h0``, ``affine_forward``, ``softmax_cross_entropy``.
    Backward: ``affine_backward(dscores)`` gives ``dh`` on every state, the upstream
    gradient of ``rnn_backward``.
    # END FULL
    """
    # BEGIN SOLUTION
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}")
    check_shape("x", x, (None, None, None), "(N, T, D)")
    if h0 is None:
        h0 = np.zeros((np.shape(x)[0], np.shape(params["Wh"])[0]))
    h, rnn_cache = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    scores, affine_cache = affine_forward(h, params["Wy"], params["by"])
    loss, dscores = softmax_cross_entropy(scores, y, mask)
    dh, dWy, dby = affine_backward(dscores, affine_cache)
    _, _, dWx, dWh, db = rnn_backward(dh, rnn_cache)
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}
    return loss, grads, h[:, -1].copy()
    # END SOLUTION


def adam_step(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update, without modifying ``params``, ``grads`` or ``state``.

    ``state`` is ``None`` on the first call; afterwards pass back the state this function
    returned. It holds the step count ``t`` and, per parameter, the running means ``m`` of
    the gradients and ``v`` of their squares. With ``t`` counted from 1::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    Returns ``(new_params, new_state)``: ``new_params`` is a new dict of new arrays;
    ``new_state`` is whatever your next call needs (for example
    ``{"t": t, "m": {name: array}, "v": {name: array}}``); callers treat it as opaque.
    """
    # BEGIN SOLUTION
    if set(grads) != set(params):
        raise ValueError(f"grads keys {sorted(grads)} differ from params keys {sorted(params)}")
    if state is None:
        state = {"t": 0, "m": {}, "v": {}}
    t = state["t"] + 1
    new_params, new_m, new_v = {}, {}, {}
    for k, p in params.items():
        g = np.asarray(grads[k], dtype=np.float64)
        new_m[k] = beta1 * state["m"].get(k, 0.0) + (1 - beta1) * g
        new_v[k] = beta2 * state["v"].get(k, 0.0) + (1 - beta2) * g**2
        m_hat = new_m[k] / (1 - beta1**t)
        v_hat = new_v[k] / (1 - beta2**t)
        new_params[k] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_params, {"t": t, "m": new_m, "v": new_v}
    # END SOLUTION


def accuracy(params, x, y, mask=None):
    """Fraction of (unmasked) positions where the highest score is the target class.

    Runs the model from a zero initial state; ``mask`` is as in ``softmax_cross_entropy``:
    positions where it is 0 do not count (``mask_weights`` gives the weight of each
    position). Returns a float in [0, 1].
    """
    # BEGIN SOLUTION
    check_shape("x", x, (None, None, None), "(N, T, D)")
    N, T, _ = np.shape(x)
    h0 = np.zeros((N, np.shape(params["Wh"])[0]))
    h, _ = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    scores, _ = affine_forward(h, params["Wy"], params["by"])
    check_shape("y", y, (N, T), "(N, T)")
    correct = (scores.argmax(axis=2) == np.asarray(y)).astype(np.float64)
    return float(np.sum(mask_weights(mask, N, T) * correct))
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 5: training on the echo task
# ---------------------------------------------------------------------------------------


def train_echo(
    delay=2,
    n_symbols=4,
    hidden_size=32,
    seq_len=12,
    batch_size=32,
    num_steps=300,
    lr=0.01,
    clip=5.0,
    rng=None,
    print_every=100,
):
    """Train an RNN on fresh echo batches (``make_echo_data``) with Adam and clipping.

    Each step: draw a new batch, ``model_loss`` with the batch's mask, ``clip_grad_norm``
    to ``clip`` (``None`` skips clipping), ``adam_step``. The inputs are one-hot, so
    ``D = V = n_symbols``. ``rng=None`` means ``np.random.default_rng(0)``; all randomness
    (initialisation and data) comes from ``rng``.

    Prints the step, loss and accuracy at step 1, every ``print_every`` steps and at the
    end (``print_every=0`` prints nothing).

    Returns:
        ``(params, history)`` where ``history = {"loss": [...], "accuracy": [...]}`` holds
        one float per step: the training batch's loss and (masked) accuracy, both measured
        with the parameters before that step's update. ``num_steps >= 0``: 0 returns the
        initial parameters and empty lists (the convention of every training function
        of this module).
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(0) if rng is None else rng
    params = init_params(n_symbols, hidden_size, n_symbols, rng)
    history = {"loss": [], "accuracy": []}
    state = None
    for step in range(1, num_steps + 1):
        x, y, mask = make_echo_data(batch_size, seq_len, n_symbols, delay, rng)
        acc = accuracy(params, x, y, mask)
        loss, grads, _ = model_loss(params, x, y, mask=mask)
        if clip is not None:
            grads, _ = clip_grad_norm(grads, clip)
        params, state = adam_step(params, grads, state, lr)
        history["loss"].append(loss)
        history["accuracy"].append(acc)
        if print_every and (step == 1 or step % print_every == 0 or step == num_steps):
            print(f"step {step:5d}/{num_steps}  loss {loss:.4f}  accuracy {acc:.3f}")
    return params, history
    # END SOLUTION


def plot_hidden_states(params, x, path):
    """Save a heatmap of the hidden states of the first sequence in ``x`` as a PNG.

    Run the RNN from a zero state on ``x[:1]`` and draw ``h`` as an image with hidden units
    as rows (H) and time steps as columns (T), values in [-1, 1]; label both axes, add a
    colorbar and a title. Save it to ``path`` and return the ``Figure``.

    Hint: ``from matplotlib.figure import Figure``; ``fig = Figure()``,
    ``ax = fig.subplots()``, ``ax.imshow(...)``, ``fig.colorbar(image, ax=ax)``,
    ``fig.savefig(path)``. A ``Figure`` made this way needs no pyplot, no display and no
    closing.
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    check_shape("x", x, (None, None, None), "(N, T, D)")
    h0 = np.zeros((1, np.shape(params["Wh"])[0]))
    h, _ = rnn_forward(np.asarray(x)[:1], h0, params["Wx"], params["Wh"], params["b"])
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(
        h[0].T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest"
    )
    ax.set_xlabel("time step t")
    ax.set_ylabel("hidden unit")
    ax.set_title("RNN hidden states h_t for one sequence")
    fig.colorbar(image, ax=ax, label="activation")
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 6: vanishing and exploding gradients
# ---------------------------------------------------------------------------------------


def gradient_norm_vs_lag(
    hidden_size=32, seq_len=40, radii=(0.5, 0.9, 1.0, 1.5), rng=None, input_scale=1e-8
):
    """How the gradient norm changes as it flows back in time, for several spectral radii.

    Backpropagating one step multiplies the gradient by the Jacobian of that step
    (``rnn_step_backward`` applies it), so after k steps it has been multiplied by k such
    matrices. When tanh is in its linear range (``h`` near 0) each one is about ``Wh``
    (transposed), so the product behaves like ``rho**k`` with ``rho`` the spectral radius of
    ``Wh``: it vanishes for ``rho < 1`` and explodes for ``rho > 1`` (guide: "7. Vanishing
    and exploding gradients"). Saturated units (``|h|`` near 1) shrink the gradient further;
    try a large ``input_scale`` to see that.

    For each ``rho`` in ``radii`` (one batch row, ``N = 1``, a few input features, zero
    ``h0`` and ``b``):

    1. ``Wh = rho * random_orthogonal(hidden_size, rng)``: its spectral radius is exactly
       ``rho``; ``Wx`` from N(0, 1/D); inputs ``x = input_scale * N(0, 1)``, tiny so that
       even ``1.5**40`` growth of the state keeps tanh near its linear range;
    2. run ``rnn_forward`` over ``seq_len`` steps;
    3. start from a random unit-norm gradient on ``h_T`` only and walk back with
       ``rnn_step_backward``, recording ``norms[k] = ||dL/dh_{T-k}||`` for
       ``k = 0..seq_len-1`` (so ``norms[0] == 1``).

    Returns:
        dict ``float(rho) -> norms`` with ``norms`` a float64 array ``(seq_len,)``.
        ``rng=None`` means ``np.random.default_rng(0)``.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(0) if rng is None else rng
    D = 4
    results = {}
    for rho in radii:
        Wh = float(rho) * random_orthogonal(hidden_size, rng)
        Wx = rng.standard_normal((D, hidden_size)) / np.sqrt(D)
        x = input_scale * rng.standard_normal((1, seq_len, D))
        h0, b = np.zeros((1, hidden_size)), np.zeros(hidden_size)
        _, step_caches = rnn_forward(x, h0, Wx, Wh, b)
        grad = rng.standard_normal((1, hidden_size))
        grad /= np.linalg.norm(grad)
        norms = np.empty(seq_len)
        for k in range(seq_len):
            norms[k] = np.linalg.norm(grad)
            grad = rnn_step_backward(grad, step_caches[seq_len - 1 - k])[1]
        results[float(rho)] = norms
    return results
    # END SOLUTION


def plot_gradient_norms(norms_by_radius, path):
    """Save a semilog-y plot of gradient norm against lag k, one line per spectral radius.

    ``norms_by_radius`` is what ``gradient_norm_vs_lag`` returns. Label the axes, add a
    legend (e.g. ``"rho = 0.5"``) and a title; save a PNG to ``path`` and return the
    ``Figure``. See ``plot_hidden_states`` for the matplotlib hint.
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for rho, norms in norms_by_radius.items():
        ax.semilogy(np.arange(len(norms)), norms, marker=".", label=f"rho = {rho:g}")
    ax.set_xlabel("lag k (steps back from the last hidden state)")
    ax.set_ylabel("||dL/dh_{T-k}||")
    ax.set_title("Gradient norm against time lag")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Demo (given)
# ---------------------------------------------------------------------------------------


def _check_gradients(rng):
    """Compare the analytic step and sequence gradients with centered differences."""
    N, T, D, H = 2, 5, 3, 4
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh = rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H)
    b = 0.1 * rng.standard_normal(H)

    dh_next = rng.standard_normal((N, H))
    _, cache = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    analytic = rnn_step_backward(dh_next.copy(), cache)
    args = [x[:, 0].copy(), h0, Wx, Wh, b]
    print("gradient check, rnn_step_backward (expect < 1e-7):")
    _report(lambda a: rnn_step_forward(*a)[0], args, dh_next, analytic)

    dh = rng.standard_normal((N, T, H))
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    analytic = rnn_backward(dh.copy(), cache)
    print("gradient check, rnn_backward (expect < 1e-6):")
    _report(lambda a: rnn_forward(*a)[0], [x, h0, Wx, Wh, b], dh, analytic)


def _report(forward, args, upstream, analytic):
    """Print the relative error of each analytic gradient against a numerical one."""
    names = ("dx", "dh_prev/dh0", "dWx", "dWh", "db")
    for i, name in enumerate(names):
        numeric = eval_numerical_gradient_array(_vary(forward, args, i), args[i].copy(), upstream)
        print(f"  {name:12s} rel error {rel_error(numeric, analytic[i]):.2e}")


def _vary(forward, args, i):
    """The function ``a -> forward(args with args[i] replaced by a)``."""
    return lambda a: forward(args[:i] + [a] + args[i + 1 :])


def _demo(out_dir):
    rng = np.random.default_rng(0)
    _check_gradients(rng)

    print("\ntraining on the echo task (delay 2, 4 symbols):")
    params, _ = train_echo(rng=np.random.default_rng(0))
    x, y, mask = make_echo_data(500, 12, 4, 2, rng)
    print(f"accuracy on 500 fresh sequences: {accuracy(params, x, y, mask):.4f}")

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "hidden_states.png"
    plot_hidden_states(params, x, path)
    print("saved", path)

    norms = gradient_norm_vs_lag(rng=np.random.default_rng(0))
    print("\ngradient norm ||dL/dh_{T-k}|| at lag k:")
    for rho, values in norms.items():
        print(f"  rho = {rho:4.2f}:  k=10 {values[10]:9.2e}   k=20 {values[20]:9.2e}")
    path = out_dir / "gradient_norms.png"
    plot_gradient_norms(norms, path)
    print("saved", path)


def main(argv=None):
    """Run the demo; an unimplemented function ends it with one line instead of a traceback.

    Figures go to ``figures/`` in the current folder, or to ``--out DIR``.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Exercise 1 demo")
    parser.add_argument("--out", type=Path, default=Path("figures"),
                        help="folder for the figures (default: ./figures)")
    args = parser.parse_args(argv)
    try:
        _demo(args.out)
    except NotImplementedError as exc:
        name = exc.args[0] if exc.args else "a function"
        here = Path(__file__).resolve()
        where = here.relative_to(here.parent.parent)
        print(
            f"not implemented yet: {name}  (implement it in {where}; run `make check` to test it)"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
