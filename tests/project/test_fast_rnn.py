"""tools/fast_rnn.py, the benchmark path of `make bench`, computes what the reference
Exercise 1 computes (to float64 rounding), so its timings compare like with like."""

from __future__ import annotations

import numpy as np
import pytest

from solutions import ex_01_basic_rnn as ref
from tools import fast_rnn


@pytest.mark.parametrize("N,T,D,H", [(1, 1, 1, 1), (3, 1, 4, 5), (2, 7, 3, 4), (5, 12, 6, 2),
                                     (32, 64, 16, 24)])
def test_fast_rnn_equals_reference(N, T, D, H):
    rng = np.random.default_rng(N * 1000 + T * 10 + D + H)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh = rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H)
    b, dh = rng.standard_normal(H), rng.standard_normal((N, T, H))
    inputs = [a.copy() for a in (x, h0, Wx, Wh, b, dh)]

    h_ref, cache_ref = ref.rnn_forward(x, h0, Wx, Wh, b)
    h_fast, cache_fast = fast_rnn.rnn_forward(x, h0, Wx, Wh, b)
    assert h_fast.shape == (N, T, H) and h_fast.dtype == np.float64
    np.testing.assert_allclose(h_fast, h_ref, rtol=1e-12, atol=1e-13)

    got = fast_rnn.rnn_backward(dh, cache_fast)
    want = ref.rnn_backward(dh, cache_ref)
    for name, g, w in zip(("dx", "dh0", "dWx", "dWh", "db"), got, want, strict=True):
        assert g.shape == w.shape, name
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=name)
    for before, after in zip(inputs, (x, h0, Wx, Wh, b, dh), strict=True):
        assert np.array_equal(before, after), "an input was changed"
