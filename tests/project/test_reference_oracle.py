"""The ex01 reference solution against torch autograd (float64), and the alternative
solution in tests/fixtures/alt_ex01 against the reference.

Shapes are small, distinct and non-square so that a missing transpose cannot hide.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from solutions import ex_01_basic_rnn as ref

ALT_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "alt_ex01" / "ex_01_basic_rnn.py"

# (seed, N, T, D, H, V)
CASES = [
    (0, 1, 1, 2, 3, 4),
    (1, 2, 3, 3, 5, 4),
    (2, 3, 7, 4, 6, 5),
    (3, 4, 5, 5, 2, 3),
]
GRAD_KEYS = ("Wx", "Wh", "b", "Wy", "by")


def close(actual, expected, what=""):
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=1e-10, atol=1e-12, err_msg=what
    )


def tensors(*arrays):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def grads_of(ts):
    return [t.grad.numpy() for t in ts]


def make_problem(seed, N, T, D, H, V):
    """Random inputs and parameters; targets and a mask with at least one position kept."""
    rng = np.random.default_rng(seed)
    params = {
        "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, H)) / np.sqrt(H),
        "b": 0.1 * rng.standard_normal(H),
        "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
        "by": 0.1 * rng.standard_normal(V),
    }
    mask = (rng.random((N, T)) < 0.6).astype(np.float64)
    mask[0, -1] = 1.0
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "y": rng.integers(0, V, size=(N, T)),
        "mask": mask,
        "dh": rng.standard_normal((N, T, H)),
        "dscores": rng.standard_normal((N, T, V)),
        "params": params,
    }


def torch_rnn(x, h0, Wx, Wh, b):
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    return torch.stack(hs, dim=1)


def torch_ce(scores, y, mask=None):
    logp = torch.log_softmax(scores, dim=2)
    nll = -logp.gather(2, torch.as_tensor(y)[:, :, None])[:, :, 0]
    if mask is None:
        return nll.mean()
    m = torch.as_tensor(mask, dtype=torch.float64)
    return (nll * m).sum() / m.sum()


@pytest.fixture(scope="module")
def alt():
    spec = importlib.util.spec_from_file_location("alt_ex01_basic_rnn", ALT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------
# Reference against torch autograd
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_step_forward_and_backward(case):
    p = make_problem(*case)
    x, h0, pr = p["x"][:, 0], p["h0"], p["params"]
    dh_next = p["dh"][:, 0]
    h_next, cache = ref.rnn_step_forward(x, h0, pr["Wx"], pr["Wh"], pr["b"])
    got = ref.rnn_step_backward(dh_next, cache)

    ts = tensors(x, h0, pr["Wx"], pr["Wh"], pr["b"])
    out = torch.tanh(ts[0] @ ts[2] + ts[1] @ ts[3] + ts[4])
    out.backward(torch.tensor(dh_next))
    close(h_next, out.detach().numpy(), "h_next")
    for name, g, want in zip(("dx", "dh_prev", "dWx", "dWh", "db"), got, grads_of(ts), strict=True):
        close(g, want, name)


@pytest.mark.parametrize("case", CASES)
def test_sequence_forward_and_bptt(case):
    p = make_problem(*case)
    pr = p["params"]
    h, cache = ref.rnn_forward(p["x"], p["h0"], pr["Wx"], pr["Wh"], pr["b"])
    got = ref.rnn_backward(p["dh"], cache)

    ts = tensors(p["x"], p["h0"], pr["Wx"], pr["Wh"], pr["b"])
    out = torch_rnn(*ts)
    out.backward(torch.tensor(p["dh"]))
    close(h, out.detach().numpy(), "h")
    for name, g, want in zip(("dx", "dh0", "dWx", "dWh", "db"), got, grads_of(ts), strict=True):
        close(g, want, name)


@pytest.mark.parametrize("case", CASES)
def test_affine(case):
    p = make_problem(*case)
    h = np.tanh(p["dh"])
    Wy, by = p["params"]["Wy"], p["params"]["by"]
    scores, cache = ref.affine_forward(h, Wy, by)
    got = ref.affine_backward(p["dscores"], cache)

    ts = tensors(h, Wy, by)
    out = ts[0] @ ts[1] + ts[2]
    out.backward(torch.tensor(p["dscores"]))
    close(scores, out.detach().numpy(), "scores")
    for name, g, want in zip(("dh", "dWy", "dby"), got, grads_of(ts), strict=True):
        close(g, want, name)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mask_kind", ["none", "float", "bool"])
def test_softmax_cross_entropy(case, mask_kind):
    p = make_problem(*case)
    scores = 3.0 * p["dscores"]
    mask = {"none": None, "float": p["mask"], "bool": p["mask"].astype(bool)}[mask_kind]
    loss, dscores = ref.softmax_cross_entropy(scores, p["y"], mask)

    (s,) = tensors(scores)
    want = torch_ce(s, p["y"], None if mask is None else p["mask"])
    want.backward()
    close(loss, want.item(), "loss")
    close(dscores, s.grad.numpy(), "dscores")


def test_softmax_cross_entropy_large_logits():
    p = make_problem(4, 2, 3, 2, 3, 5)
    scores = 1e4 * p["dscores"]
    loss, dscores = ref.softmax_cross_entropy(scores, p["y"], p["mask"])
    (s,) = tensors(scores)
    want = torch_ce(s, p["y"], p["mask"])
    want.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    close(loss, want.item(), "loss")
    close(dscores, s.grad.numpy(), "dscores")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("use_mask", [False, True])
def test_model_loss(case, use_mask):
    p = make_problem(*case)
    mask = p["mask"] if use_mask else None
    loss, grads, h_last = ref.model_loss(p["params"], p["x"], p["y"], h0=p["h0"], mask=mask)

    named = dict(zip(GRAD_KEYS, tensors(*(p["params"][k] for k in GRAD_KEYS)), strict=True))
    x, h0 = torch.tensor(p["x"]), torch.tensor(p["h0"])
    h = torch_rnn(x, h0, named["Wx"], named["Wh"], named["b"])
    want = torch_ce(h @ named["Wy"] + named["by"], p["y"], mask)
    want.backward()
    close(loss, want.item(), "loss")
    close(h_last, h[:, -1].detach().numpy(), "h_last")
    assert sorted(grads) == sorted(GRAD_KEYS)
    for k in GRAD_KEYS:
        close(grads[k], named[k].grad.numpy(), f"d{k}")


def test_model_loss_default_h0_is_zeros():
    p = make_problem(5, 2, 4, 3, 5, 4)
    N, H = p["h0"].shape
    with_none = ref.model_loss(p["params"], p["x"], p["y"])
    with_zeros = ref.model_loss(p["params"], p["x"], p["y"], h0=np.zeros((N, H)))
    close(with_none[0], with_zeros[0])
    for k in GRAD_KEYS:
        close(with_none[1][k], with_zeros[1][k], k)


def test_adam_matches_torch_adam():
    p = make_problem(6, 2, 3, 3, 5, 4)
    params, state = dict(p["params"]), None
    named = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.Adam(named.values(), lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    rng = np.random.default_rng(7)
    for _ in range(4):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        params, state = ref.adam_step(params, grads, state, 0.05, beta1=0.8, beta2=0.99, eps=1e-6)
        for k, t in named.items():
            t.grad = torch.tensor(grads[k])
        opt.step()
    for k in GRAD_KEYS:
        close(params[k], named[k].detach().numpy(), k)


def test_clip_grad_norm_values():
    rng = np.random.default_rng(8)
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    clipped, norm = ref.clip_grad_norm(grads, total / 2)
    close(norm, total)
    for k in grads:
        close(clipped[k], grads[k] / 2, k)
    kept, _ = ref.clip_grad_norm(grads, total * 2)
    for k in grads:
        close(kept[k], grads[k], k)
        assert kept[k] is not grads[k] and not np.shares_memory(kept[k], grads[k])


# ---------------------------------------------------------------------------------------
# The alternative solution agrees with the reference
# ---------------------------------------------------------------------------------------


def snapshot(p):
    return {
        k: (v.copy() if isinstance(v, np.ndarray) else {a: b.copy() for a, b in v.items()})
        for k, v in p.items()
    }


def assert_unchanged(p, before):
    for k, v in before.items():
        if isinstance(v, dict):
            for a in v:
                np.testing.assert_array_equal(p[k][a], v[a], err_msg=f"{k}[{a}] was modified")
        else:
            np.testing.assert_array_equal(p[k], v, err_msg=f"{k} was modified")


def run_all(module, p):
    """Every deterministic graded function of one implementation, on the inputs of ``p``."""
    pr, out = p["params"], {}
    args = (pr["Wx"], pr["Wh"], pr["b"])
    out["h_next"], c = module.rnn_step_forward(p["x"][:, 0], p["h0"], *args)
    out["step_grads"] = module.rnn_step_backward(p["dh"][:, 0], c)
    out["h"], c = module.rnn_forward(p["x"], p["h0"], *args)
    out["seq_grads"] = module.rnn_backward(p["dh"], c)
    out["scores"], c = module.affine_forward(out["h"], pr["Wy"], pr["by"])
    out["affine_grads"] = module.affine_backward(p["dscores"], c)
    out["ce"] = module.softmax_cross_entropy(out["scores"], p["y"])
    out["ce_masked"] = module.softmax_cross_entropy(out["scores"], p["y"], p["mask"])
    loss, grads, h_last = module.model_loss(pr, p["x"], p["y"], h0=p["h0"], mask=p["mask"])
    out["model"] = (loss, [grads[k] for k in GRAD_KEYS], h_last)
    for name, max_norm in (("clip_small", 0.1), ("clip_big", 1e6)):
        clipped, norm = module.clip_grad_norm(grads, max_norm)
        out[name] = ([clipped[k] for k in GRAD_KEYS], norm)
    new, state = module.adam_step(pr, grads, None, 0.01)
    new, _ = module.adam_step(new, grads, state, 0.01)
    out["adam"] = [new[k] for k in GRAD_KEYS]
    out["accuracy"] = module.accuracy(pr, p["x"], p["y"], p["mask"])
    return out


def assert_same(a, b, path="out"):
    if isinstance(a, dict):
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, f"{path}[{i}]")
    else:
        close(b, a, path)


@pytest.mark.parametrize("case", CASES)
def test_alternative_agrees_and_nobody_mutates_inputs(case, alt):
    p = make_problem(*case)
    before = snapshot(p)
    expected = run_all(ref, p)
    assert_unchanged(p, before)
    got = run_all(alt, p)
    assert_unchanged(p, before)
    assert_same(expected, got)


BAD_CALLS = {
    "step x not 2-D": lambda m: m.rnn_step_forward(
        np.zeros(3), np.zeros((1, 2)), np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2)
    ),
    "step Wx transposed": lambda m: m.rnn_step_forward(
        np.zeros((1, 3)), np.zeros((1, 2)), np.zeros((2, 3)), np.zeros((2, 2)), np.zeros(2)
    ),
    "h0 wrong batch": lambda m: m.rnn_forward(
        np.zeros((2, 4, 3)), np.zeros((1, 2)), np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2)
    ),
    "by wrong size": lambda m: m.affine_forward(np.zeros((1, 2, 3)), np.zeros((3, 4)), np.zeros(5)),
    "y out of range": lambda m: m.softmax_cross_entropy(
        np.zeros((1, 2, 3)), np.array([[0, 3]]), None
    ),
    "y wrong shape": lambda m: m.softmax_cross_entropy(np.zeros((1, 2, 3)), np.array([0, 1]), None),
    "mask wrong shape": lambda m: m.softmax_cross_entropy(
        np.zeros((1, 2, 3)), np.array([[0, 1]]), np.ones(2)
    ),
    "mask all zero": lambda m: m.softmax_cross_entropy(
        np.zeros((1, 2, 3)), np.array([[0, 1]]), np.zeros((1, 2))
    ),
    "max_norm zero": lambda m: m.clip_grad_norm({"a": np.ones(2)}, 0.0),
    "max_norm negative": lambda m: m.clip_grad_norm({"a": np.ones(2)}, -1.0),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_both_reject_bad_arguments(name, alt):
    for module in (ref, alt):
        with pytest.raises(ValueError):
            BAD_CALLS[name](module)
