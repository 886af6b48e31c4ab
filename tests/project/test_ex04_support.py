"""What Exercise 4's tests stand on.

* The NumPy formulas the public and hidden tests compute expected values with (nn.RNN and
  nn.Linear as PyTorch documents them, centered differences, clipping) agree with PyTorch
  itself, so the grading process can judge without importing torch.
* The worker hands the tests a module the student's file imports (torch) as a handle, and
  only that: no other attribute, no arguments.
* torch keeps a reference to Python's builtins, which the tests use to take len() and
  list() of student objects in the student process.
* Nothing that ships to students states how Exercise 1's parameters map onto nn.RNN's:
  working that out is the exercise (the `full` scaffolding level does state it).
"""

from __future__ import annotations

import builtins
import re
import textwrap

import numpy as np
import pytest
import torch

from autograder.sandbox.client import Limits, RemoteLoader, stage
from autograder.skeleton import REPO, make_skeleton
from solutions import ex_01_basic_rnn as ref01
from solutions import ex_04_rnn_pytorch as ref04
from tests.public import support_ex04 as pub

SOLUTION = REPO / "solutions" / "ex_04_rnn_pytorch.py"


def _layers(rnn, num_layers):
    return [tuple(getattr(rnn, f"{n}_l{k}").detach().numpy().copy()
                  for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for k in range(num_layers)]


@pytest.mark.parametrize("layers, n, t, d, h, v", [(1, 2, 5, 3, 4, 2), (3, 1, 4, 2, 5, 6),
                                                   (2, 4, 1, 6, 3, 3)])
def test_the_numpy_forward_formulas_agree_with_pytorch(layers, n, t, d, h, v):
    torch.manual_seed(7)
    model = ref04.RNNModel(d, h, v, num_layers=layers).double()
    rng = np.random.default_rng(7)
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((layers, n, h))
    out, h_n = model(torch.tensor(x), torch.tensor(h0))
    top, finals = pub.torch_rnn_forward(_layers(model.rnn, layers), x, h0)
    want = pub.linear(model.fc.weight.detach().numpy(), model.fc.bias.detach().numpy(), top)
    np.testing.assert_allclose(out.detach().numpy(), want, atol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy(), finals, atol=1e-12)


def test_the_numerical_gradients_and_clipping_agree_with_autograd():
    torch.manual_seed(8)
    rnn = torch.nn.RNN(2, 3, num_layers=2, batch_first=True, dtype=torch.float64)
    rng = np.random.default_rng(8)
    x, y, h0 = (rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 3)),
                rng.standard_normal((2, 3, 3)))
    out, _ = rnn(torch.tensor(x), torch.tensor(h0))
    torch.nn.functional.mse_loss(out, torch.tensor(y)).backward()
    numeric = pub.rnn_grads(_layers(rnn, 2), x, y, h0)
    auto = [tuple(getattr(rnn, f"{n}_l{k}").grad.numpy().copy()
                  for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")) for k in range(2)]
    assert pub.same_layers(numeric, auto, 1e-8)
    torch.nn.utils.clip_grad_norm_(rnn.parameters(), 0.01)
    clipped = [tuple(getattr(rnn, f"{n}_l{k}").grad.numpy().copy()
                     for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
               for k in range(2)]
    assert pub.same_layers(pub.clipped(auto, 0.01), clipped, 1e-12)


def test_the_saved_exercise1_values_agree_with_pytorch():
    """fixtures/ex04.npz (Exercise 1's reference) is what the PyTorch reference gives."""
    params, x, h0 = pub.model_case(403)
    model = ref04.RNNModel(3, 5, 4)
    ref04.load_numpy_params(model, pub.copy(params))
    out, h_n = model(torch.tensor(x), torch.tensor(h0[None]))
    np.testing.assert_allclose(out.detach().numpy(), pub.saved("load403_scores"), atol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy()[0], pub.saved("load403_h_last"), atol=1e-12)
    ref04.load_numpy_params(model, dict(pub.copy(params), Wh=np.zeros((5, 5))))
    np.testing.assert_allclose(model(torch.tensor(x), torch.tensor(h0[None]))[0].detach().numpy(),
                               pub.saved("load403_scores_no_wh"), atol=1e-12)
    params, x, h0, y = pub.model_case(404, with_targets=True)
    loss, grads, h_last = ref04.torch_loss_and_grads(params, x, y, h0)
    assert abs(loss - float(pub.saved("loss404_loss"))) < 1e-12
    np.testing.assert_allclose(h_last, pub.saved("loss404_h_last"), atol=1e-12)
    for k in pub.KEYS:
        np.testing.assert_allclose(grads[k], pub.saved(f"loss404_numeric_{k}"), atol=1e-8)


def test_the_heldout_measure_is_the_mean_cross_entropy():
    """heldout_loss (computed on the test's side from the logits alone) is Exercise 1's
    mean cross-entropy of the model's scores on the text."""
    torch.manual_seed(9)
    vocab, text = "abc", "abcabbacab"
    model = ref04.CharRNN(len(vocab), 2, 4, num_layers=2)
    ids = np.array([vocab.index(c) for c in text])
    scores = model(torch.tensor(ids[None, :-1]))[0].detach().numpy().astype(np.float64)
    want, _ = ref01.softmax_cross_entropy(scores, ids[None, 1:])
    assert abs(pub.heldout_loss(torch, model, vocab, text) - want) < 1e-12


def test_torch_keeps_pythons_builtins_for_the_tests():
    assert torch.builtins is builtins


@pytest.fixture
def worker(tmp_path):
    """A student process running a small ex_04 file; closed afterwards."""
    loaders = []

    def make(source: str):
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        (src / "ex_04_rnn_pytorch.py").write_text(textwrap.dedent(source))
        staging = stage({"ex_04_rnn_pytorch.py": src / "ex_04_rnn_pytorch.py"},
                        tmp_path / f"staging{len(loaders)}", None, Limits())
        loader = RemoteLoader(staging, Limits())
        loaders.append(loader)
        return loader.module("ex04")

    yield make
    for loader in loaders:
        loader.close()


def test_the_worker_hands_over_an_imported_module_as_a_handle_and_nothing_else(worker):
    module = worker("""
        import math
        RATE = 0.5
        def twice(x):
            return 2 * x
    """)
    handle = module.math()
    assert handle.type_name == "module"
    assert handle.sqrt(16.0) == 4.0  # attribute reads and calls run in the student process
    with pytest.raises(AttributeError):
        module.math(1)  # with arguments it is a call, and a module is no function
    with pytest.raises(AttributeError):
        module.RATE()  # plain values are not handed over this way
    assert module.twice(3) == 6


def test_the_tests_reach_torch_in_the_student_process(worker):
    module = worker("""
        import torch
    """)
    tt = pub.torch_of(module)
    t = tt.tensor(np.arange(3.0))
    assert t.type_name == "Tensor"
    np.testing.assert_array_equal(pub.as_numpy(t.add(1.0), "t"), [1.0, 2.0, 3.0])
    assert pub.builtins_of(tt).len(t) == 3
    assert tt.get_num_threads() == 1


# What would give the mapping away: a PyTorch parameter set from an Exercise 1 weight, a
# transposed Exercise 1 weight next to one, the second bias set to zero.
_MAPPING = [
    re.compile(r"weight_[ih]h(_l0)?\s*(=|:|<-|->|is)\s*\(?\s*W[xhy]\b"),
    re.compile(r"\bW[xhy]\s*\.\s*T\b"),
    re.compile(r"bias_hh(_l0)?\s*(=|:|is)\s*0"),
    re.compile(r"fc\.weight\s*(=|:|is)\s*W"),
]


def _mapping_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in _MAPPING)]


def _guide_ex04_parts() -> str:
    """The guide's PyTorch section and what the guide says of Exercise 4 elsewhere."""
    guide = (REPO / "guides" / "rnn_guide.md").read_text(encoding="utf-8")
    parts = re.split(r"(?m)^## ", guide)
    keep = [p for p in parts if p.split("\n", 1)[0].endswith("RNNs in PyTorch")]
    keep += [line for line in guide.splitlines() if "Exercise 4" in line]
    return "\n".join(keep)


@pytest.mark.parametrize("what", ["concept skeleton", "public tests", "misconceptions",
                                  "guide"])
def test_nothing_shipped_states_the_parameter_mapping(what):
    if what == "concept skeleton":
        text = make_skeleton(SOLUTION.read_text(encoding="utf-8"), SOLUTION.name, "concept")
    elif what == "public tests":
        text = "\n".join((REPO / "tests" / "public" / name).read_text(encoding="utf-8")
                         for name in ("test_ex04_rnn_pytorch.py", "support_ex04.py"))
    elif what == "misconceptions":
        text = (REPO / "tests" / "public" / "misconceptions.py").read_text(encoding="utf-8")
    else:
        text = _guide_ex04_parts()
        assert "nn.RNN in its own notation" in text
    assert not _mapping_lines(text)


def test_the_mapping_check_has_teeth():
    """The full level states the mapping, so the same scan finds it there."""
    full = make_skeleton(SOLUTION.read_text(encoding="utf-8"), SOLUTION.name, "full")
    assert len(_mapping_lines(full)) >= 2
    assert _mapping_lines("To load: set `weight_ih_l0 = Wx.T` and `bias_hh_l0 = 0`.")
