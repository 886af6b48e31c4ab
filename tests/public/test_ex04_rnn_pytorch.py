"""Public tests for Exercise 4: recurrent networks in PyTorch.

Each test's docstring starts with the name shown in the points table. Expected values come
from this file's own NumPy forward formulas: Exercise 1's row-vector RNN, and `nn.RNN` and
`nn.Linear` as PyTorch documents them (column vectors, two biases). Expected gradients and
optimizer steps come from centered differences of those formulas. When a result is wrong,
the message says which output, how, the idea involved and the section of
guides/rnn_guide.md about it ("RNNs in PyTorch").

The tensors, optimizers and loaders a test hands to your functions are made with the
`torch` your file imports, where your code runs (`_torch` below); what the test judges is
read back as NumPy arrays.

Rerun one test with details:  make check T='tests/public/test_ex04_rnn_pytorch.py::NAME'
"""

from __future__ import annotations

import contextlib
import types

import numpy as np
import pytest

from tests.public.harness import (
    assert_close,
    assert_png,
    check_array,
    check_labels,
    close_scalar,
    figure_info,
    numerical_gradient,
    raises_naming,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.predictors import ParamsProbe

KEYS = ("Wx", "Wh", "b", "Wy", "by")
# Functions whose model comes from load_numpy_params: a dtype clash there is the model's.
MODEL_BUILDERS = ("torch_loss_and_grads", "compare_numpy_torch")
# Distinct sizes everywhere: a wrong orientation or axis cannot hide behind equal sizes.
N, T, D, H, V = 2, 6, 3, 5, 4


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# Reaching torch where your code runs, and reading tensors back
# ---------------------------------------------------------------------------------------


def _torch(ex04):
    """The `torch` your file imports. Under `make check` that is this process's torch;
    when grading, a handle to the torch of the process that runs your file, so that
    everything a test makes (tensors, optimizers, models of its own) lives next to your
    code. Small tensors: one thread is fastest, and fair on a shared machine."""
    try:
        found = ex04.torch
        found = found if isinstance(found, types.ModuleType) else found()
    except (AttributeError, TypeError) as exc:
        raise AssertionError(f"the tests make their tensors with the torch your file imports: "
                             f"keep `import torch` at the top of ex_04_rnn_pytorch.py ({exc})"
                             ) from None
    if isinstance(found, types.ModuleType):
        found.set_num_threads(1)
    found.manual_seed(1234)  # the models a test makes start from the same weights each run
    return found


@pytest.fixture
def tt(ex04):
    """torch as seen by your code (see _torch)."""
    return _torch(ex04)


def _py(tt):
    """Python's builtins as seen by your code (len, list): torch keeps a reference to them."""
    return tt.builtins


def _kind(value) -> str:
    return getattr(value, "type_name", None) or type(value).__name__


def _np(value, what):
    """A tensor your code returned, as a NumPy array (a copy)."""
    if _kind(value) not in ("Tensor", "Parameter"):
        raise AssertionError(f"{what}: expected a torch tensor, got {_kind(value)}.")
    return np.array(value.detach().cpu().numpy(), copy=True)


def _t(tt, array):
    """A tensor made where your code runs, with the array's dtype."""
    return tt.tensor(np.asarray(array))


@contextlib.contextmanager
def _named(owner):
    """A method left as in the skeleton is named with its class: `RNNModel.forward`."""
    try:
        yield
    except NotImplementedError as exc:
        name = str(exc).removeprefix("not implemented yet:").strip() or "?"
        if name.startswith("__") or name == "forward":
            raise AssertionError(f"not implemented yet: {owner}.{name}") from None
        raise


def _diagnose_error(fn, exc):
    """An exception your code raised, turned into a message that names the likely idea
    (read from the error itself, not from the lines of your code that the grader adds)."""
    head, _, where = str(exc).partition("\n--- where")
    if "Expected hidden size" in head or ("h0" in head and "shape" in head):
        hint = explain("h0-layout")
    elif "backward through the graph a second time" in head or "already been freed" in head:
        hint = explain("tbptt-detach")
    elif "Inference tensors cannot be saved for backward" in head:
        hint = ("It ran with gradient tracking on: autograd tried to keep tensors for a "
                "backward pass that never comes (the test's targets are made so that this "
                "shows)." + explain("no-grad-eval"))
    elif "Expected target size" in head or "expected target" in head.lower():
        hint = explain("ce-class-axis")
    elif "shapes cannot be multiplied" in head or "size mismatch" in head:
        hint = explain("torch-weight-layout")
    elif "weight dtype (torch.float32)" in head and fn in MODEL_BUILDERS:
        hint = ("The model's weights are float32 while the inputs are float64."
                + explain("torch-default-float32"))
    elif any(s in head for s in ("Double", "dtype", "scalar type", "Float")):
        hint = explain("dtype-cast")
    else:
        hint = ""
    if " raised " not in head[:80]:  # in-process: say who raised what
        head = f"{fn} raised {type(exc).__name__}: {head}"
    where = f"\n--- where{where}" if where else ""
    raise AssertionError(f"{head[:600].rstrip('.')}.{hint}{where}") from None


def _call(fn, thunk):
    """Run a call of your code; its exceptions become messages with a diagnosis."""
    try:
        return thunk()
    except NotImplementedError:
        raise
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever your code raised is reported
        _diagnose_error(fn, exc)


# ---------------------------------------------------------------------------------------
# This file's own forward formulas (the expected values), in NumPy
# ---------------------------------------------------------------------------------------


def _ex01_forward(params, x, h0):
    """Exercise 1's model, row vectors: h_t = tanh(x_t Wx + h_{t-1} Wh + b), s_t = h_t Wy + by.
    `x (N, T, D)`, `h0 (N, H)`: returns states (N, T, H) and scores (N, T, V)."""
    h, states = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        states.append(h)
    states = np.stack(states, axis=1)
    return states, states @ params["Wy"] + params["by"]


def _column_step(W_ih, W_hh, b_ih, b_hh, x_t, h):
    """One step of `nn.RNN` as PyTorch documents it, for each example's column vectors:
    h' = tanh(W_ih x + b_ih + W_hh h + b_hh); rows of `x_t (N, in)` and `h (N, H)` are the
    examples."""
    return np.tanh(np.einsum("ij,nj->ni", W_ih, x_t) + b_ih + np.einsum("ij,nj->ni", W_hh, h)
                   + b_hh)


def _torch_rnn_forward(layers, x, h0=None):
    """A stacked `nn.RNN(batch_first=True)`: `layers` is one (W_ih, W_hh, b_ih, b_hh) per
    layer, `x (N, T, in)`, `h0 (num_layers, N, H)` or None. Returns (outputs of the top
    layer (N, T, H), h_n (num_layers, N, H))."""
    inputs, finals = x, []
    for k, (W_ih, W_hh, b_ih, b_hh) in enumerate(layers):
        h = np.zeros((x.shape[0], W_hh.shape[0])) if h0 is None else h0[k]
        outs = []
        for t in range(x.shape[1]):
            h = _column_step(W_ih, W_hh, b_ih, b_hh, inputs[:, t], h)
            outs.append(h)
        inputs = np.stack(outs, axis=1)
        finals.append(h)
    return inputs, np.stack(finals)


def _linear(W, b, h):
    """`nn.Linear` as documented: y = W h + b for each vector h (the last axis)."""
    return np.einsum("ij,...j->...i", W, h) + b


def _log_softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _ce(scores, y):
    """Mean cross-entropy over every position."""
    return -np.mean(np.take_along_axis(_log_softmax(scores), y[..., None], axis=-1))


def _mse(pred, y):
    return float(np.mean((pred - y) ** 2))


def _ex01_loss(params, x, y, h0):
    return _ce(_ex01_forward(params, x, h0)[1], y)


def _ex01_params(rng, d=D, h=H, v=V):
    return {"Wx": 0.6 * rng.standard_normal((d, h)), "Wh": 0.4 * rng.standard_normal((h, h)),
            "b": 0.2 * rng.standard_normal(h), "Wy": 0.6 * rng.standard_normal((h, v)),
            "by": 0.2 * rng.standard_normal(v)}


def _copy(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def _rnn_layers(rnn, num_layers, what="model"):
    """The parameters of an `nn.RNN` (a test's own, or your model's `.rnn`) as NumPy arrays."""
    names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")
    return [tuple(_np(getattr(rnn, n.format(k)), f"{what} {n.format(k)}") for n in names)
            for k in range(num_layers)]


# ---------------------------------------------------------------------------------------
# Part 1: devices, datasets and loaders
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex04_select_device(ex04, tt):
    """select_device: CUDA when PyTorch sees a GPU, else the CPU"""
    want = "cuda" if tt.cuda.is_available() else "cpu"
    device = ex04.select_device()
    if _kind(device) != "device":
        raise AssertionError(f"select_device(): expected a torch.device, got {_kind(device)}.")
    if device.type != want:
        raise AssertionError(f"select_device(): gave {device.type!r}; PyTorch here "
                             f"{'sees' if want == 'cuda' else 'sees no'} GPU, so expected "
                             f"{want!r} (guide: \"Datasets, loaders and devices\").")
    if ex04.select_device("cpu").type != "cpu":
        raise AssertionError("select_device('cpu') must give the CPU.")


@pytest.mark.points(0.25)
def test_ex04_sequence_dataset(ex04, tt):
    """SequenceDataset: len and (X[i], y[i]) as tensors of the data's dtype, copied"""
    rng = _rng(401)
    X, y = rng.standard_normal((5, T, D)), rng.integers(0, V, 5)
    X_keep = X.copy()
    with _named("SequenceDataset"):
        dataset = ex04.SequenceDataset(X, y)
        X[...] = 0.0  # the dataset kept its own copy
        n = _py(tt).len(dataset)
        item = unpack(_py(tt).getattr(dataset, "__getitem__")(3), ("x_i", "y_i"),
                       "SequenceDataset[3]")
    if n != 5:
        raise AssertionError(f"len(SequenceDataset(X, y)) = {n}, expected 5 (one per example)."
                             + explain("dataset-protocol"))
    x3, y3 = _np(item[0], "dataset[3][0]"), _np(item[1], "dataset[3][1]")
    assert_close(x3, X_keep[3], what="SequenceDataset[3][0] (X[3], float64)", atol=0, rtol=0,
                 hint="Keep your own copy of the data, in its dtype: later changes to X must "
                 "not reach the dataset." + explain("dataset-protocol"))
    if y3.shape != () or int(y3) != int(y[3]) or not np.issubdtype(y3.dtype, np.integer):
        raise AssertionError(f"SequenceDataset[3][1]: expected y[3] = {int(y[3])} as a 0-d "
                             f"integer tensor, got dtype {y3.dtype} shape {y3.shape}."
                             + explain("dataset-protocol"))


@pytest.mark.points(0.25)
def test_ex04_data_validation(ex04, tt):
    """validation of select_device, SequenceDataset, the loaders, CharRNN: bad input refused"""
    bad = ["not-a-device"] + ([] if tt.cuda.is_available() else ["cuda"])
    for name in bad:
        raises_naming(lambda name=name: ex04.select_device(name), "device",
                      f"select_device({name!r})")
    rng = _rng(401)
    X, y = rng.standard_normal((5, T, D)), rng.integers(0, V, 5)
    with pytest.raises(ValueError), _named("SequenceDataset"):
        ex04.SequenceDataset(X, y[:4])
    with _named("SequenceDataset"):
        raises_naming(lambda: ex04.SequenceDataset(X[:0], y[:0]), "X",
                      "SequenceDataset (X with no example)")
        raises_naming(lambda: ex04.make_loader(X, y, 0), "batch_size",
                      "make_loader(batch_size=0)")
        with pytest.raises(ValueError):
            ex04.stream_loader(np.arange(10), 4, 3)
    with _named("CharRNN"):
        model = _call("CharRNN(...)", lambda: ex04.CharRNN(7, 3, 5, num_layers=2))
        raises_naming(lambda: model(tt.randn(N, T)), "x", "CharRNN forward (float x)")


def _batches(tt, loader, what):
    """Every (x, y) batch of a loader, as NumPy arrays."""
    got = _py(tt).list(loader)
    out = []
    for k, batch in enumerate(got):
        pair = unpack(batch, ("x", "y"), f"{what}: batch {k}")
        out.append((_np(pair[0], f"{what} batch {k} x"), _np(pair[1], f"{what} batch {k} y")))
    return out


@pytest.mark.points(0.5)
def test_ex04_make_loader(ex04, tt):
    """make_loader: batches cover every example once; order kept or shuffled by its seed alone"""
    X, y = np.arange(7 * 2, dtype=np.float64).reshape(7, 1, 2), np.arange(7)
    with _named("SequenceDataset"):
        plain = _batches(tt, ex04.make_loader(X, y, 3, shuffle=False), "make_loader(shuffle=False)")
    sizes = [len(b[1]) for b in plain]
    if sizes != [3, 3, 1]:
        raise AssertionError(f"make_loader(7 examples, batch_size=3): batch sizes {sizes}, "
                             "expected [3, 3, 1] (the last batch holds what is left).")
    if np.concatenate([b[1] for b in plain]).tolist() != list(range(7)):
        raise AssertionError("make_loader(shuffle=False): the examples must come in the order "
                             "of X.")
    assert_close(plain[1][0], X[3:6], what="make_loader batch 1 x", atol=0, rtol=0)
    loader = ex04.make_loader(X, y, 3, shuffle=True, seed=5)
    first = np.concatenate([b[1] for b in _batches(tt, loader, "make_loader(shuffle=True)")])
    second = np.concatenate([b[1] for b in _batches(tt, loader, "make_loader, second epoch")])
    tt.rand(3)  # whatever else draws from torch's global generator must not matter
    again = np.concatenate([b[1] for b in _batches(tt, ex04.make_loader(X, y, 3, seed=5),
                                                   "make_loader(seed=5) again")])
    for name, order in (("first epoch", first), ("second epoch", second)):
        if sorted(order.tolist()) != list(range(7)):
            raise AssertionError(f"make_loader(shuffle=True), {name}: examples {order.tolist()}; "
                                 "each of the 7 must come exactly once per epoch.")
    if first.tolist() == list(range(7)) and second.tolist() == list(range(7)):
        raise AssertionError("make_loader(shuffle=True): the order is never shuffled.")
    if first.tolist() != again.tolist():
        raise AssertionError("make_loader(shuffle=True, seed=5): two loaders made with the same "
                             f"seed gave the orders {first.tolist()} and {again.tolist()}."
                             + explain("shuffle-generator"))


@pytest.mark.points(0.5)
def test_ex04_stream_loader(ex04, tt):
    """stream_loader: batch k continues batch k-1 row by row; targets are the next values"""
    L, seq_len, B = 53, 4, 3
    S = (L - 1) // B
    with _named("SequenceDataset"):
        got = _batches(tt, ex04.stream_loader(np.arange(L), seq_len, B), "stream_loader")
    K = S // seq_len
    if len(got) != K:
        raise AssertionError(f"stream_loader(53 values, seq_len=4, batch_size=3): {len(got)} "
                             f"batches, expected {K} (streams of S = 52 // 3 = {S} steps, "
                             f"{K} chunks of 4 each).")
    for k, (xb, yb) in enumerate(got):
        check_array(xb, (B, seq_len), what=f"stream_loader batch {k} inputs", dtype=np.int64)
        check_array(yb, (B, seq_len), what=f"stream_loader batch {k} targets", dtype=np.int64)
        if not np.array_equal(yb, xb + 1):
            raise AssertionError(f"stream_loader batch {k}: the targets must be the values "
                                 "one step after the inputs (data = arange, so inputs + 1).")
        if k and not np.array_equal(xb[:, 0], got[k - 1][0][:, -1] + 1):
            raise AssertionError(
                f"stream_loader: row b of batch {k} does not continue row b of batch {k - 1} "
                f"(first inputs {xb[:, 0].tolist()}, previous last "
                f"{got[k - 1][0][:, -1].tolist()})."
                + explain("stream-continuity"))
    starts = got[0][0][:, 0].tolist()
    if starts != [b * S for b in range(B)]:
        raise AssertionError(f"stream_loader: the streams start at {starts}, expected "
                             f"{[b * S for b in range(B)]} (stream b starts at b * S)."
                             + explain("stream-continuity"))


# ---------------------------------------------------------------------------------------
# Part 2: the model and agreement with Exercise 1
# ---------------------------------------------------------------------------------------


def _model(ex04, *args, **kwargs):
    with _named("RNNModel"):
        return _call("RNNModel(...)", lambda: ex04.RNNModel(*args, **kwargs))


def _run(model, owner, *args):
    with _named(owner):
        return unpack(_call(f"{owner}.forward", lambda: model(*args)), ("out", "h_n"),
                       f"{owner}.forward")


@pytest.mark.points(0.5)
def test_ex04_rnn_model_shapes(ex04, tt):
    """RNNModel: out (N, T, output_size) and h_n (num_layers, N, H) for 1-3 layers"""
    for layers, n, t in ((1, 2, 5), (2, 3, 4), (3, 4, 2)):
        model = _model(ex04, D, H, V, num_layers=layers)
        out, h_n = _run(model, "RNNModel", tt.randn(n, t, D))
        out, h_n = _np(out, "RNNModel out"), _np(h_n, "RNNModel h_n")
        label = f"num_layers={layers}, N={n}, T={t}"
        if h_n.shape == (layers, t, H):
            raise AssertionError(f"RNNModel h_n ({label}): shape {h_n.shape}, that is "
                                 "(num_layers, T, H): the RNN read time as the batch axis."
                                 + explain("batch-first"))
        if h_n.shape == (n, layers, H) and layers != n:
            raise AssertionError(f"RNNModel h_n ({label}): shape {h_n.shape}, that is "
                                 "(N, num_layers, H)." + explain("h0-layout"))
        check_array(out, (n, t, V), what=f"RNNModel out ({label})", dtype=None)
        check_array(h_n, (layers, n, H), what=f"RNNModel h_n ({label})", dtype=None)
    if not model.rnn.batch_first:
        raise AssertionError("RNNModel.rnn reads (T, N, D) inputs." + explain("batch-first"))


@pytest.mark.points(1)
def test_ex04_rnn_model_values_and_h0(ex04, tt):
    """RNNModel: values follow nn.RNN's formula, a readout at every step, h0 honoured"""
    rng = _rng(402)
    layers = 3  # not N = 2: (num_layers, N, H) and (N, num_layers, H) must differ
    model = _model(ex04, D, H, V, num_layers=layers).double()
    x, h0 = rng.standard_normal((N, T, D)), 0.5 * rng.standard_normal((layers, N, H))
    rnn_params = _rnn_layers(model.rnn, layers, "RNNModel.rnn")
    W, b = _np(model.fc.weight, "RNNModel.fc.weight"), _np(model.fc.bias, "RNNModel.fc.bias")
    top, finals = _torch_rnn_forward(rnn_params, x, h0)
    out, h_n = _run(model, "RNNModel", _t(tt, x), _t(tt, h0))
    out, h_n = _np(out, "RNNModel out"), _np(h_n, "RNNModel h_n")
    check_array(out, (N, T, V), what="RNNModel out (float64 model)")
    zero_top, _ = _torch_rnn_forward(rnn_params, x)
    if np.allclose(out, _linear(W, b, zero_top), atol=1e-10):
        raise AssertionError("RNNModel out: equals the output from a zero initial state; the "
                             "h0 you were given was not used." + explain("h0-layout"))
    if out.shape == (N, T, V) and np.allclose(out[:, -1], _linear(W, b, finals[-1]), atol=1e-10) \
            and not np.allclose(out, _linear(W, b, top), atol=1e-10):
        hint = "Only the last step is right: the readout applies at every step."
    else:
        hint = ("out = fc(outputs of the top layer at every step); the outputs of layer k are "
                "the inputs of layer k+1 (guide: \"nn.RNN in its own notation\").")
    assert_close(out, _linear(W, b, top), what="RNNModel out", atol=1e-10, rtol=1e-8, hint=hint)
    assert_close(h_n, finals, what="RNNModel h_n", atol=1e-10, rtol=1e-8,
                 hint="h_n holds every layer's state after the last step." + explain("h0-layout"))


def _agrees_without_wh(ex04, tt, params, x, h0) -> bool:
    """Does a model loaded with Wh = 0 give Exercise 1's scores? (Isolates the h term.)"""
    zero = dict(_copy(params), Wh=np.zeros_like(params["Wh"]))
    try:
        model = ex04.RNNModel(*params["Wx"].shape, params["Wy"].shape[1])
        ex04.load_numpy_params(model, _copy(zero))
        out = _np(model(_t(tt, x), _t(tt, h0[None]))[0], "scores")
    except Exception:  # noqa: BLE001 - a diagnosis only; the main check reports errors
        return False
    return out.shape == (x.shape[0], x.shape[1], params["Wy"].shape[1]) and np.allclose(
        out, _ex01_forward(zero, x, h0)[1], atol=1e-10)


def _load(ex04, params, model):
    return _call("load_numpy_params", lambda: ex04.load_numpy_params(model, params))


@pytest.mark.points(1)
def test_ex04_load_numpy_params_agrees_with_exercise1(ex04, tt):
    """load_numpy_params: the model then gives Exercise 1's states and scores to 1e-10"""
    rng = _rng(403)
    params = _ex01_params(rng)
    keep = _copy(params)
    x, h0 = rng.standard_normal((N, T, D)), 0.5 * rng.standard_normal((N, H))
    model = _model(ex04, D, H, V)
    _load(ex04, params, model)
    for k in KEYS:
        if not np.array_equal(params[k], keep[k]):
            raise AssertionError(f"load_numpy_params changed params[{k!r}]."
                                 + explain("mutates-input"))
    sizes = {name: p.element_size() for name, p in
             (("rnn.weight_ih_l0", model.rnn.weight_ih_l0), ("fc.weight", model.fc.weight))}
    if any(s != 8 for s in sizes.values()):
        raise AssertionError(f"load_numpy_params: the model's parameters are not float64 "
                             f"(bytes per entry: {sizes})." + explain("torch-default-float32"))
    out, h_n = _run(model, "RNNModel", _t(tt, x), _t(tt, h0[None]))
    states, scores = _ex01_forward(keep, x, h0)
    out, h_n = _np(out, "scores after load_numpy_params"), _np(h_n, "h_n")
    hint = ""
    if out.shape == scores.shape and not np.allclose(out, scores, atol=1e-10):
        rnn = _rnn_layers(model.rnn, 1, "RNNModel.rnn")[0]
        if not np.allclose(rnn[2] + rnn[3], keep["b"], atol=1e-12):
            hint = ("Your model adds the biases bias_ih_l0 + bias_hh_l0, which do not add up "
                    "to b." + explain("torch-two-biases"))
        elif _agrees_without_wh(ex04, tt, keep, x, h0):
            hint = ("With Wh = 0 your model agrees with Exercise 1, so the x term, the biases "
                    "and the readout are right: the h_{t-1} term is not."
                    + explain("torch-weight-layout"))
        else:
            hint = explain("torch-weight-layout")
    assert_close(out, scores, what="RNNModel scores after load_numpy_params", atol=1e-10,
                 rtol=1e-8, hint=hint)
    assert_close(h_n[0] if h_n.ndim == 3 else h_n, states[:, -1], what="h_n after "
                 "load_numpy_params", atol=1e-10, rtol=1e-8)


def _model_params(model) -> dict:
    """The five tensors load_numpy_params fills, as NumPy arrays (copies)."""
    rnn = model.rnn
    return {name: _np(t, name) for name, t in (
        ("rnn.weight_ih_l0", rnn.weight_ih_l0), ("rnn.weight_hh_l0", rnn.weight_hh_l0),
        ("rnn.bias_ih_l0", rnn.bias_ih_l0), ("fc.weight", model.fc.weight),
        ("fc.bias", model.fc.bias))}


def _probe(tt, params):
    """`params` as a ParamsProbe (tests/public/predictors.py) that lives where your code
    runs: it calls your load_numpy_params with its own dict, and changes that dict's arrays
    there afterwards, as a later change to `params` in your program would."""
    (probe,) = _py(tt).tuple([ParamsProbe(params)])
    return probe


@pytest.mark.points(0.25)
def test_ex04_load_numpy_params_copies(ex04, tt):
    """load_numpy_params: the model holds copies; a later change to params does not reach it"""
    model = _model(ex04, D, H, V)
    probe = _probe(tt, _ex01_params(_rng(405)))
    _call("load_numpy_params", lambda: probe.load_into(model))
    before = _model_params(model)
    for key in KEYS:
        probe.shift(key, 1.0)
    changed = [name for name, value in _model_params(model).items()
               if not np.array_equal(value, before[name])]
    if changed:
        raise AssertionError(f"load_numpy_params: after 1 was added to every array of params, "
                             f"the model's {', '.join(changed)} changed too: the model shares "
                             "memory with params." + explain("torch-shared-memory"))


@pytest.mark.points(0.25)
def test_ex04_load_numpy_params_refuses_bad_arguments(ex04):
    """validation of load_numpy_params: a bad model or params raise ValueError naming it"""
    keep = _ex01_params(_rng(403))
    two_layers = _model(ex04, D, H, V, num_layers=2)
    raises_naming(lambda: ex04.load_numpy_params(two_layers, _copy(keep)), "model",
                  "load_numpy_params (a model of two layers)")
    one_layer = _model(ex04, D, H, V)
    raises_naming(lambda: ex04.load_numpy_params(one_layer, {k: keep[k] for k in KEYS
                                                             if k != "by"}),
                  "params", "load_numpy_params (params without 'by')")


@pytest.mark.points(1)
def test_ex04_torch_loss_and_grads(ex04):
    """torch_loss_and_grads: loss, gradients in Exercise 1's layout and h_last agree with NumPy"""
    rng = _rng(404)
    params = _ex01_params(rng)
    x, h0 = rng.standard_normal((N, T, D)), 0.5 * rng.standard_normal((N, H))
    y = rng.integers(0, V, (N, T))
    keep = _copy(params)
    result = _call("torch_loss_and_grads",
                   lambda: ex04.torch_loss_and_grads(_copy(params), x.copy(), y.copy(), h0.copy()))
    loss, grads, h_last = unpack(result, ("loss", "grads", "h_last"), "torch_loss_and_grads")
    want = _ex01_loss(keep, x, y, h0)
    value = scalar(loss, "torch_loss_and_grads loss")
    if any(np.isclose(value, want * k, rtol=1e-9) for k in (N, T, N * T)):
        hint = ("It is the mean cross-entropy times N, T or N*T: average over every one of "
                "the N*T positions." + explain("ce-class-axis"))
    else:
        hint = ("The model comes from load_numpy_params: if its test fails, fix that first; "
                "the loss is the mean cross-entropy over all N*T positions.")
    close_scalar(value, want, what="torch_loss_and_grads loss", hint=hint)
    assert_close(h_last, _ex01_forward(keep, x, h0)[0][:, -1], what="torch_loss_and_grads h_last",
                 atol=1e-10, rtol=1e-8, hint="The state after the last step, (N, H).")
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        raise AssertionError(f"torch_loss_and_grads grads: expected a dict with keys {list(KEYS)}"
                             f", got {sorted(grads) if isinstance(grads, dict) else _kind(grads)}.")
    for k in KEYS:
        numeric = numerical_gradient(lambda a, k=k: _ex01_loss(dict(keep, **{k: a}), x, y, h0),
                                     keep[k], 1.0)
        got = grads[k]
        hint = explain("torch-weight-layout")
        if isinstance(got, np.ndarray) and got.shape == numeric.shape:
            if k == "b" and np.allclose(got, 2 * numeric, atol=1e-8):
                hint = ("grads['b'] is twice the gradient: b is loaded into one bias (or "
                        "shared by two), not added twice." + explain("torch-two-biases"))
            elif got.ndim == 2 and got.shape[0] == got.shape[1] \
                    and np.allclose(got.T, numeric, atol=1e-8):
                hint = f"grads[{k!r}] is the transpose of the gradient." + hint
        assert_close(got, numeric, what=f"torch_loss_and_grads grads[{k!r}]", atol=1e-8,
                     rtol=1e-6, hint="Each gradient in the layout of its Exercise 1 "
                     f"parameter, params[{k!r}] {keep[k].shape}. " + hint)


# ---------------------------------------------------------------------------------------
# Part 3: training and evaluation loops
# ---------------------------------------------------------------------------------------


def _test_rnn(tt, d, h, layers=1, dropout=0.0):
    """A model of the test's own: a batch-first float64 nn.RNN, whose outputs are (N, T, h)."""
    return tt.nn.RNN(d, h, num_layers=layers, batch_first=True, dropout=dropout,
                     dtype=tt.float64)


def _rnn_loss(layers, x, y, h0=None):
    """MSE of a stacked nn.RNN's outputs against y, and h_n."""
    top, finals = _torch_rnn_forward(layers, x, h0)
    return _mse(top, y), finals


def _rnn_grads(layers, x, y, h0=None):
    """Centered differences of the MSE with respect to every parameter of every layer."""
    grads = []
    for k, layer in enumerate(layers):
        row = []
        for i, p in enumerate(layer):
            def f(a, k=k, i=i):
                changed = [list(lay) for lay in layers]
                changed[k][i] = a
                return _rnn_loss(changed, x, y, h0)[0]
            row.append(numerical_gradient(f, p, 1.0))
        grads.append(tuple(row))
    return grads


def _sgd(layers, grads, lr):
    return [tuple(p - lr * g for p, g in zip(lay, gl, strict=True))
            for lay, gl in zip(layers, grads, strict=True)]


def _clip(grads, max_norm):
    """`grads` (one tuple of arrays per layer) as torch.nn.utils.clip_grad_norm_ leaves
    them: one factor max_norm / (norm + 1e-6), at most 1, from the global norm. Written
    with NumPy: the grader's own pytest never imports torch (its memory budget is 512 MB,
    and a CUDA build maps gigabytes at import)."""
    flat = np.concatenate([np.ravel(g) for gl in grads for g in gl]).astype(np.float64)
    factor = min(1.0, max_norm / (float(np.linalg.norm(flat)) + 1e-6))
    return [tuple(np.asarray(g, dtype=np.float64) * factor for g in gl) for gl in grads]


def _epoch_twins(layers, batches, lr, clip=None):
    """(final parameters, mean loss) of one SGD epoch, done right and with classic slips."""
    right, stale, acc = list(layers), list(layers), None
    losses, sizes = [], []
    for x, y in batches:
        losses.append(_rnn_loss(right, x, y)[0])
        sizes.append(len(x))
        g = _rnn_grads(right, x, y)
        g = _clip(g, clip) if clip is not None else g
        right = _sgd(right, g, lr)
        g_stale = _rnn_grads(stale, x, y)
        acc = g_stale if acc is None else [tuple(a + b for a, b in zip(ga, gb, strict=True))
                                           for ga, gb in zip(acc, g_stale, strict=True)]
        stale = _sgd(stale, acc, lr)
    weighted = float(np.dot(losses, sizes) / np.sum(sizes))
    return {"right": right, "no_zero_grad": stale, "mean": weighted,
            "unweighted": float(np.mean(losses)), "losses": losses}


def _same_layers(a, b, tol=1e-8):
    return all(np.allclose(p, q, atol=tol, rtol=0) for la, lb in zip(a, b, strict=True)
               for p, q in zip(la, lb, strict=True))


def _train_case(tt, seed, sizes=(3, 2, 1), d=2, h=3, t=4, dtype=np.float64):
    rng = _rng(seed)
    batches = [(rng.standard_normal((n, t, d)), 0.5 * rng.standard_normal((n, t, h)))
               for n in sizes]
    model = _test_rnn(tt, d, h)
    loader = [(_t(tt, x.astype(dtype)), _t(tt, y.astype(dtype))) for x, y in batches]
    return model, batches, loader


def _check_epoch(ex04, tt, clip, what):
    model, batches, loader = _train_case(tt, 405 if clip is None else 406)
    start = _rnn_layers(model, 1, "the test's nn.RNN")
    lr = 0.5
    twins = _epoch_twins(start, batches, lr, clip)
    optimizer = tt.optim.SGD(model.parameters(), lr=lr)
    kwargs = {} if clip is None else {"clip": clip}
    got = _call("train_epoch", lambda: ex04.train_epoch(model, loader, optimizer,
                                                        tt.nn.MSELoss(), **kwargs))
    loss = scalar(got, f"train_epoch {what} (its return value)")
    after = _rnn_layers(model, 1, "the test's nn.RNN")
    if _same_layers(after, start, 1e-12):
        raise AssertionError(f"train_epoch {what}: the parameters did not change. backward() "
                             "only computes gradients." + explain("optimizer-step"))
    if not _same_layers(after, twins["right"]):
        if _same_layers(after, twins["no_zero_grad"]):
            hint = ("The parameters match steps whose gradients kept every earlier batch's "
                    "too." + explain("zero-grad"))
        elif clip is not None and _same_layers(after, _epoch_twins(start, batches, lr)["right"]):
            hint = ("The parameters match steps taken without clipping: the clipping had no "
                    "effect." + explain("clip-placement"))
        else:
            hint = ("Each batch: gradients from this batch alone, one SGD step p -= lr * grad"
                    + (", after clipping their global norm" if clip else "") + ".")
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        for name, p, q in zip(names, after[0], twins["right"][0], strict=True):
            assert_close(p, q, what=f"train_epoch {what}: {name} after the epoch", atol=1e-8,
                         rtol=1e-6, hint=hint)
    hint = explain("loss-batch-weighting")
    if np.isclose(loss, twins["unweighted"], rtol=1e-9) and not np.isclose(
            loss, twins["mean"], rtol=1e-9):
        hint = ("This is the plain mean of the 3 batch losses; the batches hold 3, 2 and 1 "
                "examples." + hint)
    close_scalar(loss, twins["mean"], what=f"train_epoch {what}: returned mean loss",
                  hint=hint)
    if not model.training:
        raise AssertionError(f"train_epoch {what}: the model is left in evaluation mode; "
                             "training needs model.train()." + explain("eval-mode"))


@pytest.mark.points(1)
def test_ex04_train_epoch_exact_sgd(ex04, tt):
    """train_epoch: one SGD step per batch from its own gradient; mean loss per example"""
    _check_epoch(ex04, tt, None, "(SGD, batches of 3, 2, 1)")


@pytest.mark.points(0.5)
def test_ex04_train_epoch_clipping(ex04, tt):
    """train_epoch: clip limits the global gradient norm of each step"""
    _check_epoch(ex04, tt, 0.05, "with clip=0.05")


@pytest.mark.points(0.5)
def test_ex04_to_model_casts_batches(ex04, tt):
    """to_model: floats take the model's dtype, integers stay; loops cast float32 batches"""
    model = _test_rnn(tt, 2, 3)
    x32 = _t(tt, np.arange(6, dtype=np.float32).reshape(1, 3, 2))
    got = _call("to_model", lambda: ex04.to_model(model, x32))
    if _kind(got) != "Tensor" or got.element_size() != 8 or not got.is_floating_point():
        raise AssertionError("to_model(float64 model, float32 tensor): expected a float64 "
                             "tensor." + explain("dtype-cast"))
    assert_close(_np(got, "to_model result"), np.arange(6.0).reshape(1, 3, 2),
                 what="to_model values", atol=0, rtol=0)
    if x32.element_size() != 4:
        raise AssertionError("to_model changed the tensor it was given; return a new one.")
    ints = _call("to_model", lambda: ex04.to_model(model, _t(tt, np.arange(3))))
    if ints.is_floating_point():
        raise AssertionError("to_model turned integer indices into floats; class and character "
                             "indices must stay integers." + explain("dtype-cast"))
    _, batches, loader = _train_case(tt, 407, sizes=(2,), dtype=np.float32)
    for fn in ("train_epoch", "evaluate"):
        extra = (tt.optim.SGD(model.parameters(), lr=0.1),) if fn == "train_epoch" else ()
        scalar(_call(fn, lambda fn=fn, extra=extra: getattr(ex04, fn)(
            model, loader, *extra, tt.nn.MSELoss())), f"{fn} with float32 batches")


def _inference_tensors(tt, arrays):
    """Tensors made in inference mode: autograd refuses to keep them for a backward pass,
    so they show whether a computation that uses them runs with gradient tracking on."""
    make = tt.inference_mode()(tt.tensor)
    return [make(np.asarray(a)) for a in arrays]


@pytest.mark.points(1)
def test_ex04_evaluate(ex04, tt):
    """evaluate: eval mode, no autograd, mean loss per example, parameters untouched"""
    rng = _rng(408)
    d, h = 2, 3
    model = _test_rnn(tt, d, h, layers=2, dropout=0.5)  # dropout is active in training mode
    batches = [(rng.standard_normal((n, 4, d)), rng.standard_normal((n, 4, h))) for n in (3, 1)]
    xs, ys = _inference_tensors(tt, [x for x, _ in batches]), _inference_tensors(
        tt, [y for _, y in batches])
    layers = _rnn_layers(model, 2, "the test's nn.RNN")
    losses = [_rnn_loss(layers, x, y)[0] for x, y in batches]
    expected = (3 * losses[0] + losses[1]) / 4
    first = scalar(_call("evaluate", lambda: ex04.evaluate(model, list(zip(xs, ys, strict=True)),
                                                            tt.nn.MSELoss())), "evaluate")
    second = scalar(ex04.evaluate(model, list(zip(xs, ys, strict=True)), tt.nn.MSELoss()),
                     "evaluate (second call)")
    if first != second:
        raise AssertionError(f"evaluate: two calls on the same data gave {first:.6g} and "
                             f"{second:.6g}: dropout was active." + explain("eval-mode"))
    hint = explain("eval-mode")
    if np.isclose(first, np.mean(losses), rtol=1e-9):
        hint = "This is the plain mean of the batch losses." + explain("loss-batch-weighting")
    close_scalar(first, expected, what="evaluate: mean loss", hint=hint)
    if not _same_layers(_rnn_layers(model, 2, "the test's nn.RNN"), layers, 0.0):
        raise AssertionError("evaluate changed the model's parameters.")
    if model.weight_ih_l0.grad is not None:
        raise AssertionError("evaluate left gradients in the parameters' .grad: it ran "
                             "backward()." + explain("no-grad-eval"))


@pytest.mark.points(1)
def test_ex04_tbptt_step_detaches_and_carries(ex04, tt):
    """tbptt_step: two stateful steps in a row run; the carried state has no grad_fn and is used"""
    rng = _rng(409)
    d, h, layers, lr = 2, 3, 2, 0.3
    model = _test_rnn(tt, d, h, layers=layers)
    data = [(rng.standard_normal((2, 3, d)), 0.5 * rng.standard_normal((2, 3, h)))
            for _ in range(2)]
    theta0 = _rnn_layers(model, layers, "the test's nn.RNN")
    optimizer, loss_fn = tt.optim.SGD(model.parameters(), lr=lr), tt.nn.MSELoss()
    (x1, y1), (x2, y2) = data
    result = _call("tbptt_step", lambda: ex04.tbptt_step(model, _t(tt, x1), _t(tt, y1), None,
                                                         optimizer, loss_fn))
    loss1, h1 = unpack(result, ("loss", "h_next"), "tbptt_step")
    want1, finals1 = _rnn_loss(theta0, x1, y1)
    close_scalar(loss1, want1, what="tbptt_step loss (first batch, zero state)")
    assert_close(_np(h1, "tbptt_step h_next"), finals1, what="tbptt_step h_next", atol=1e-10,
                 rtol=1e-8, hint="The state to carry is h_n, (num_layers, N, H), computed "
                 "before the step." + explain("tbptt-carry"))
    if h1.grad_fn is not None or h1.requires_grad:
        raise AssertionError("tbptt_step h_next: it still has a grad_fn, so it is part of the "
                             "first batch's graph." + explain("tbptt-detach"))
    theta1 = _rnn_layers(model, layers, "the test's nn.RNN")
    if _same_layers(theta1, theta0, 1e-12):
        raise AssertionError("tbptt_step: the parameters did not change." +
                             explain("optimizer-step"))
    result = _call("tbptt_step (second batch, with the carried state)", lambda: ex04.tbptt_step(
        model, _t(tt, x2), _t(tt, y2), h1, optimizer, loss_fn))
    loss2, _ = unpack(result, ("loss", "h_next"), "tbptt_step")
    want2, _ = _rnn_loss(theta1, x2, y2, finals1)
    if np.isclose(scalar(loss2, "tbptt_step loss"), _rnn_loss(theta1, x2, y2)[0], rtol=1e-9):
        raise AssertionError("tbptt_step (second batch): the loss is that of a zero initial "
                             "state; run the model from the h you are given."
                             + explain("tbptt-carry"))
    close_scalar(loss2, want2, what="tbptt_step loss (second batch, carried state)")
    theta2 = _sgd(theta1, _rnn_grads(theta1, x2, y2, finals1), lr)
    if not _same_layers(_rnn_layers(model, layers, "the test's nn.RNN"), theta2):
        raise AssertionError("tbptt_step (second batch): the parameters after the step differ "
                             "from one SGD step with this batch's gradient, from the carried "
                             "state (gradients of earlier batches left in .grad?)."
                             + explain("zero-grad"))


@pytest.mark.points(0.5)
def test_ex04_train_stateful_epoch(ex04, tt):
    """train_stateful_epoch: state carried from batch to batch, zero at the epoch's start"""
    rng = _rng(410)
    d, h = 2, 3
    model = _test_rnn(tt, d, h)
    batches = [(rng.standard_normal((2, 3, d)), 0.5 * rng.standard_normal((2, 3, h)))
               for _ in range(3)]
    loader = [(_t(tt, x), _t(tt, y)) for x, y in batches]
    layers = _rnn_layers(model, 1, "the test's nn.RNN")
    lr = 0.2

    def epoch(theta, carry):
        state, losses = None, []
        for x, y in batches:
            loss, finals = _rnn_loss(theta, x, y, state)
            losses.append(loss)
            theta = _sgd(theta, _rnn_grads(theta, x, y, state), lr)
            state = finals if carry else None
        return theta, float(np.mean(losses))

    theta1, want1 = epoch(layers, True)
    _, reset = epoch(layers, False)
    optimizer, loss_fn = tt.optim.SGD(model.parameters(), lr=lr), tt.nn.MSELoss()
    got = scalar(_call("train_stateful_epoch", lambda: ex04.train_stateful_epoch(
        model, loader, optimizer, loss_fn)), "train_stateful_epoch")
    if np.isclose(got, reset, rtol=1e-9):
        raise AssertionError("train_stateful_epoch: the losses are those of batches that each "
                             "start from a zero state." + explain("tbptt-carry"))
    close_scalar(got, want1, what="train_stateful_epoch: mean loss (state carried)",
                  hint=explain("tbptt-carry"))
    _, want2 = epoch(theta1, True)
    got2 = scalar(ex04.train_stateful_epoch(model, loader, optimizer, loss_fn),
                   "train_stateful_epoch (second epoch)")
    close_scalar(got2, want2, what="train_stateful_epoch: second epoch's mean loss",
                  hint="Each epoch starts again from a zero state." + explain("tbptt-carry"))


# ---------------------------------------------------------------------------------------
# Part 4: NumPy against PyTorch
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex04_compare_numpy_torch(ex04):
    """compare_numpy_torch: a row per size: times, speed ratio, agreement to float64"""
    sizes = [(2, 5, 3, 4), (3, 4, 5, 6)]
    rows = _call("compare_numpy_torch", lambda: ex04.with_timeout(30).compare_numpy_torch(
        sizes=sizes, repeats=2, seed=1))
    if not isinstance(rows, list) or len(rows) != 2 or not all(isinstance(r, dict) for r in rows):
        raise AssertionError("compare_numpy_torch: expected a list with one dict per size.")
    for size, row in zip(sizes, rows, strict=True):
        missing = {"N", "T", "D", "H", "numpy_ms", "torch_ms", "speedup", "loss_diff",
                   "grad_diff"} - set(row)
        if missing:
            raise AssertionError(f"compare_numpy_torch row for {size}: missing {sorted(missing)}.")
        if tuple(row[k] for k in "NTDH") != size:
            raise AssertionError(f"compare_numpy_torch: row {tuple(row[k] for k in 'NTDH')} "
                                 f"for the size {size}.")
        numpy_ms, torch_ms = (scalar(row[k], f"compare_numpy_torch {k}")
                              for k in ("numpy_ms", "torch_ms"))
        if not (numpy_ms > 0 and torch_ms > 0):
            raise AssertionError("compare_numpy_torch: times must be positive milliseconds.")
        close_scalar(row["speedup"], numpy_ms / torch_ms, what="compare_numpy_torch speedup",
                      hint="speedup = numpy_ms / torch_ms.", rtol=1e-6)
        for k in ("loss_diff", "grad_diff"):
            if not 0 <= scalar(row[k], f"compare_numpy_torch {k}") < 1e-9:
                raise AssertionError(
                    f"compare_numpy_torch {k} = {row[k]:.3g} for {size}: the two sides must "
                    "agree to float64 precision. The test of torch_loss_and_grads and "
                    "Exercise 1's tests show which side is off.")


@pytest.mark.points(0.5)
def test_ex04_plot_comparison(ex04, student_tmp):
    """plot_comparison: NumPy and PyTorch times, one labelled line each, log scale"""
    rows = [{"N": 8, "T": 16, "D": 32, "H": 32, "numpy_ms": 1.5, "torch_ms": 3.0},
            {"N": 32, "T": 64, "D": 64, "H": 64, "numpy_ms": 9.0, "torch_ms": 6.0},
            {"N": 32, "T": 64, "D": 128, "H": 128, "numpy_ms": 30.0, "torch_ms": 12.0}]
    for r in rows:
        r.update(speedup=r["numpy_ms"] / r["torch_ms"], loss_diff=0.0, grad_diff=0.0, threads=1)
    path = student_tmp / "numpy_vs_torch.png"
    info = figure_info(ex04.plot_comparison(rows, str(path)), what="plot_comparison")
    assert_png(path, what="plot_comparison")
    for ax in info["axes"]:
        ys = {line["label"]: np.asarray(line["y"]) for line in ax["lines"]}
        if any(np.allclose(y, [1.5, 9.0, 30.0]) for y in ys.values() if y.shape == (3,)) and \
                any(np.allclose(y, [3.0, 6.0, 12.0]) for y in ys.values() if y.shape == (3,)):
            check_labels(ax, what="plot_comparison", legend=2)
            if ax["yscale"] != "log":
                raise AssertionError("plot_comparison: use a log scale for the times "
                                     "(semilogy): they span orders of magnitude.")
            return
    raise AssertionError("plot_comparison: no axes shows both lines, y = numpy_ms and y = "
                         "torch_ms of the rows, in their order.")


# ---------------------------------------------------------------------------------------
# Part 5: the character model
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex04_char_rnn(ex04, tt):
    """CharRNN: embedding, stacked batch-first RNN, readout at every step"""
    vocab, embed, hidden, layers = 7, 3, 5, 2
    rng = _rng(411)
    with _named("CharRNN"):
        model = _call("CharRNN(...)", lambda: ex04.CharRNN(vocab, embed, hidden, num_layers=layers))
    model = model.double()
    table = _np(model.embed.weight, "CharRNN.embed.weight")
    check_array(table, (vocab, embed), what="CharRNN.embed.weight")
    ids = rng.integers(0, vocab, (N, T))
    logits, h_n = _run(model, "CharRNN", _t(tt, ids))
    top, finals = _torch_rnn_forward(_rnn_layers(model.rnn, layers, "CharRNN.rnn"), table[ids])
    want = _linear(_np(model.fc.weight, "CharRNN.fc.weight"), _np(model.fc.bias, "fc.bias"), top)
    assert_close(_np(logits, "CharRNN logits"), want, what="CharRNN logits", atol=1e-10,
                 rtol=1e-8, hint="The embedding turns each index into a row of its table; the "
                 "RNN reads those rows." + explain("embedding-indices"))
    assert_close(_np(h_n, "CharRNN h_n"), finals, what="CharRNN h_n", atol=1e-10, rtol=1e-8)


def _grammar_text(rng, n_chars):
    """Text with structure a small model learns fast: words from a little grammar."""
    subjects, verbs, things = ["the cat", "a dog", "my bird"], ["sees", "eats", "wants"], [
        "the fish", "a bone", "some seed"]
    parts = []
    while sum(map(len, parts)) < n_chars:
        parts.append(f"{subjects[rng.integers(3)]} {verbs[rng.integers(3)]} "
                     f"{things[rng.integers(3)]}.\n")
    return "".join(parts)


def _heldout_loss(tt, model, vocab, text):
    """The test's own measure: mean cross-entropy of the model on `text`, from a zero state."""
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text])
    logits, _ = _run(model, "CharRNN", _t(tt, ids[None, :-1]))
    logits = _np(logits, "CharRNN logits")[0].astype(np.float64)
    return _ce(logits[None], ids[None, 1:])


@pytest.mark.points(0.25)
def test_ex04_train_char_model_zero_epochs(ex04):
    """train_char_model(epochs=0): no epoch run, empty loss lists"""
    text = _grammar_text(_rng(413), 600)
    result = _call("train_char_model", lambda: ex04.with_timeout(60).train_char_model(
        text, seq_len=16, batch_size=16, embed_dim=4, hidden_size=8, num_layers=2, epochs=0,
        seed=0, device="cpu", print_every=0))
    _, history = unpack(result, ("model", "history"), "train_char_model(epochs=0)")
    if not isinstance(history, dict) or [len(history.get(k, [None])) for k in
                                         ("train_loss", "val_loss")] != [0, 0] \
            or history.get("epochs") != 0:
        raise AssertionError("train_char_model(epochs=0): expected history with epochs 0 and "
                             "empty train_loss and val_loss (one entry per epoch, none run).")


@pytest.mark.slow
@pytest.mark.points(0.75)
def test_ex04_train_char_model_learns(ex04, tt):
    """train_char_model: within a small CPU budget, beats the unigram baseline on held-out text"""
    rng = _rng(412)
    text = _grammar_text(rng, 3000)
    heldout = _grammar_text(rng, 400)
    result = _call("train_char_model", lambda: ex04.with_timeout(60).train_char_model(
        text, seq_len=16, batch_size=16, embed_dim=8, hidden_size=32, num_layers=2, epochs=6,
        lr=0.01, seed=0, device="cpu", print_every=0))
    model, history = unpack(result, ("model", "history"), "train_char_model")
    if not isinstance(history, dict) or not {"train_loss", "val_loss", "unigram", "bigram",
                                             "vocab"} <= set(history):
        raise AssertionError("train_char_model history: expected a dict with train_loss, "
                             "val_loss, unigram, bigram and vocab.")
    vocab = history["vocab"]
    if not isinstance(vocab, str) or sorted(vocab) != sorted(set(text)):
        raise AssertionError("train_char_model history['vocab']: the sorted characters of the "
                             "text, as one string.")
    if model.rnn.num_layers != 2 or model.embed.num_embeddings != len(vocab):
        raise AssertionError("train_char_model: the model must be a CharRNN with two layers and "
                             "one embedding row per character.")
    counts = np.array([text.count(c) for c in vocab], dtype=np.float64)
    p = counts / counts.sum()
    unigram = float(-np.mean(np.log(p[[vocab.index(c) for c in heldout[1:]]])))
    got = _heldout_loss(tt, model, vocab, heldout)
    if not got < unigram - 0.5:
        raise AssertionError(
            f"train_char_model: on held-out text of the same kind the model scores {got:.3f} "
            f"nats per character; the unigram baseline scores {unigram:.3f}, and a model that "
            f"learned should be at least 0.5 below it (your history: train "
            f"{[round(float(v), 3) for v in history['train_loss']]}). Check train_epoch's "
            "test first, then that each epoch trains on shuffled windows with Adam.")
