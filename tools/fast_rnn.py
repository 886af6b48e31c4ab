"""The benchmark path: Exercise 1's `rnn_forward` / `rnn_backward` written for speed.

Same contract and results as the reference (solutions/ex_01_basic_rnn.py, to float64
rounding; tests/project/test_fast_rnn.py checks it), never shipped to students and never
used by grading: `make bench` times it beside the reference and `torch.nn.RNN`. The
reference stays the readable step-by-step form students can compare with; this one keeps
the time-step loops, which the recurrence makes inherent, and takes out of them what
need not be there:

* states and step gradients live time-major in arrays allocated once per call, (T+1, N, H)
  and (T, N, H), written in place, instead of a list of per-step caches;
* the backward loop only carries the gradient through `Wh`; the weight gradients are then
  one product each over all N*T rows (`x^T dz`, `h_prev^T dz`) instead of T products of
  N rows each plus T accumulations, `dx` one batched product `dz @ Wx^T`, `db` one sum.

The forward pass keeps the reference's per-step `x_t @ Wx`: measured here, one product over
all steps first was slower (it streams the (T, N, H) block through memory twice), while
N-row products keep the working set in cache.
"""

from __future__ import annotations

import numpy as np


def rnn_forward(x, h0, Wx, Wh, b):
    """(h (N, T, H), cache), as the reference's rnn_forward."""
    x = np.asarray(x, dtype=np.float64)
    N, T, _ = x.shape
    H = Wh.shape[0]
    states = np.empty((T + 1, N, H))  # time-major: states[0] = h0, states[t + 1] = h_{t+1}
    states[0] = h0
    for t in range(T):
        z = x[:, t] @ Wx
        z += states[t] @ Wh
        z += b
        np.tanh(z, out=states[t + 1])
    return states[1:].transpose(1, 0, 2), (x, states, Wx, Wh)


def rnn_backward(dh, cache):
    """(dx, dh0, dWx, dWh, db), as the reference's rnn_backward."""
    x, states, Wx, Wh = cache
    N, T, D = x.shape
    H = Wh.shape[0]
    dh = np.asarray(dh, dtype=np.float64)
    dz = np.empty((T, N, H))  # the gradient at each step's tanh input, kept for the products
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        carry += dh[:, t]
        h, out = states[t + 1], dz[t]
        np.multiply(h, h, out=out)
        np.subtract(1.0, out, out=out)
        out *= carry  # dz_t = (dh_t + carried) * (1 - h_t^2)
        carry = out @ Wh.T
    flat = dz.reshape(T * N, H)
    dWx = x.transpose(1, 0, 2).reshape(T * N, D).T @ flat
    dWh = states[:-1].reshape(T * N, H).T @ flat
    db = flat.sum(axis=0)
    dx = np.matmul(dz.transpose(1, 0, 2), Wx.T)
    return dx, carry, dWx, dWh, db
