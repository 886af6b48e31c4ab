"""The saved expected values of tests/public/test_ex04_rnn_pytorch.py (fixtures/ex04.npz):
Exercise 1's states, scores, loss and gradients on the cases of the load_numpy_params and
torch_loss_and_grads tests, computed from the reference of Exercise 1 (maintainer-side:
only the numbers ship).

Inputs come from tests/public/support_ex04.py (`model_case`), the tests' own generator.
Gradients are centered differences of the reference's loss, never its backward pass, as
the test has always compared them. `python -m tools.fixtures` writes them;
tests/project/test_fixtures.py fails when they drift from the reference.
"""

from __future__ import annotations

import numpy as np

from tests.public import support_ex04 as s
from tests.public.harness import numerical_gradient


def _scores(ref, params, x, h0):
    """Exercise 1's model: h_T (N, H) and the scores (N, T, V), by the reference."""
    h = ref.rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])[0]
    return h[:, -1], ref.affine_forward(h, params["Wy"], params["by"])[0]


def arrays(ref) -> dict[str, np.ndarray]:
    """Every saved value of the Exercise 4 public tests, from Exercise 1's reference `ref`."""
    out = {}
    params, x, h0 = s.model_case(403)
    out["load403_h_last"], out["load403_scores"] = _scores(ref, params, x, h0)
    out["load403_scores_no_wh"] = _scores(ref, dict(params, Wh=np.zeros_like(params["Wh"])),
                                          x, h0)[1]
    params, x, h0, y = s.model_case(404, with_targets=True)
    loss, _, h_last = ref.model_loss(params, x, y, h0)
    out["loss404_loss"], out["loss404_h_last"] = np.float64(loss), h_last
    for k in s.KEYS:
        out[f"loss404_numeric_{k}"] = numerical_gradient(
            lambda p, k=k: ref.model_loss({**params, k: p}, x, y, h0)[0], params[k], 1.0)
    return out
