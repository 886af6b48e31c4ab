"""Hidden tests for Exercise 4: the student's PyTorch code at sizes, seeds, layer counts and
loaders the public tests never use.

Expected values come from trusted NumPy: Exercise 1's reference (`solutions/ex_01`) and the
forward formulas of `nn.RNN` and `nn.Linear` (the public tests' own, support_ex04.py, which
tests/project/test_ex04_support.py checks against PyTorch itself). So the grading process
never imports torch: only the student's process does. Failure messages do not reveal
expected values (`reveal=False`).
"""

from __future__ import annotations

import numpy as np
import pytest

from solutions import ex_01_basic_rnn as ref01
from tests.public import support_ex04 as pub
from tests.public.harness import (
    assert_close,
    check_array,
    raises_naming,
    raises_value_error,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.support_ex04 import KEYS

# The public tests' machinery (support_ex04.py) under the names this file has always used.
_call, _clip, _copy, _kind, _linear, _named = (pub.call, pub.clipped, pub.copy, pub.kind,
                                               pub.linear, pub.named)
_model, _np, _py, _t, _test_rnn, _torch = (pub.new_model, pub.as_numpy, pub.builtins_of,
                                           pub.as_tensor, pub.own_rnn, pub.torch_of)
_rnn_layers, _run, _same_layers, _sgd = pub.rnn_layers, pub.run, pub.same_layers, pub.sgd
_grads_of = pub.layer_grads
_grammar_text, _heldout_loss, _torch_rnn_forward = (pub.grammar_text, pub.heldout_loss,
                                                    pub.torch_rnn_forward)


@pytest.fixture
def tt(ex04):
    return _torch(ex04)


def _rng(seed):
    return np.random.default_rng(seed)


def _ex01_forward(params, x, h0):
    """Exercise 1's reference model: states (N, T, H) and scores (N, T, V)."""
    h = ref01.rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])[0]
    return h, ref01.affine_forward(h, params["Wy"], params["by"])[0]


def _log_softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _ce(scores, y):
    """Mean cross-entropy over every position."""
    return -np.mean(np.take_along_axis(_log_softmax(scores), y[..., None], axis=-1))


def _mse(pred, y):
    return float(np.mean((pred - y) ** 2))


def _close(got, expected, what, hint="", atol=1e-10, rtol=1e-8):
    assert_close(got, expected, what=what, atol=atol, rtol=rtol, hint=hint, reveal=False)


def _close_scalar(got, expected, what, hint="", atol=1e-10, rtol=1e-8):
    _close(np.asarray(scalar(got, what)), np.asarray(float(expected)), what, hint, atol, rtol)


# ---------------------------------------------------------------------------------------
# The model and Exercise 1
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_ex04_hidden_rnn_model_new_sizes(ex04, tt):
    """RNNModel: nn.RNN's formula at new sizes, three layers, N=1 and T=1, with and without h0"""
    rng = _rng(9401)
    for layers, n, t, d, h, v in ((3, 3, 4, 2, 6, 5), (1, 1, 7, 4, 3, 2), (2, 5, 1, 3, 4, 6)):
        label = f"num_layers={layers}, N={n}, T={t}, D={d}, H={h}, output_size={v}"
        model = _model(ex04, d, h, v, num_layers=layers).double()
        rnn = _rnn_layers(model.rnn, layers, "RNNModel.rnn")
        W, b = _np(model.fc.weight, "fc.weight"), _np(model.fc.bias, "fc.bias")
        x = rng.standard_normal((n, t, d))
        for h0 in (None, 0.5 * rng.standard_normal((layers, n, h))):
            args = (_t(tt, x),) if h0 is None else (_t(tt, x), _t(tt, h0))
            out, h_n = _run(model, "RNNModel", *args)
            top, finals = _torch_rnn_forward(rnn, x, h0)
            which = "h0=None" if h0 is None else "h0 given"
            _close(_np(out, "out"), _linear(W, b, top), f"RNNModel out ({label}, {which})",
                   hint="No size may be built in: batch of one, one step, several layers.")
            _close(_np(h_n, "h_n"), finals, f"RNNModel h_n ({label}, {which})",
                   hint=explain("h0-layout"))


@pytest.mark.points(0.75)
def test_ex04_hidden_load_numpy_params(ex04, tt):
    """load_numpy_params: Exercise 1's function at new sizes and seeds"""
    rng = _rng(9402)
    for d, h, v in ((1, 7, 3), (6, 2, 5), (4, 4, 4)):
        params = {"Wx": rng.standard_normal((d, h)), "Wh": 0.5 * rng.standard_normal((h, h)),
                  "b": rng.standard_normal(h), "Wy": rng.standard_normal((h, v)),
                  "by": rng.standard_normal(v)}
        label = f"D={d}, H={h}, V={v}"
        model = _model(ex04, d, h, v)
        _call("load_numpy_params", lambda model=model, params=params:
              ex04.load_numpy_params(model, _copy(params)))
        rnn = _rnn_layers(model.rnn, 1, "RNNModel.rnn")[0]
        if any(p.dtype != np.float64 for p in rnn):
            raise AssertionError(f"load_numpy_params ({label}): the model is not float64."
                                 + explain("torch-default-float32"))
        _close(rnn[2] + rnn[3], params["b"], f"load_numpy_params ({label}): the two biases "
               "together", hint=explain("torch-two-biases"))
        x, h0 = rng.standard_normal((3, 5, d)), rng.standard_normal((3, h))
        out, h_n = _run(model, "RNNModel", _t(tt, x), _t(tt, h0[None]))
        states, scores = _ex01_forward(params, x, h0)
        _close(_np(out, "scores"), scores, f"scores after load_numpy_params ({label})",
               hint=explain("torch-weight-layout"))
        _close(_np(h_n, "h_n")[0], states[:, -1], f"h_n after load_numpy_params ({label})")


@pytest.mark.points(1)
def test_ex04_hidden_torch_loss_and_grads(ex04):
    """torch_loss_and_grads: Exercise 1's reference model_loss at new sizes, with and without h0"""
    rng = _rng(9403)
    for n, t, d, h, v in ((1, 9, 2, 6, 3), (4, 3, 5, 2, 7), (3, 5, 3, 3, 3)):
        params = {"Wx": 0.7 * rng.standard_normal((d, h)), "Wh": 0.5 * rng.standard_normal((h, h)),
                  "b": 0.2 * rng.standard_normal(h), "Wy": 0.7 * rng.standard_normal((h, v)),
                  "by": 0.2 * rng.standard_normal(v)}
        x, y = rng.standard_normal((n, t, d)), rng.integers(0, v, (n, t))
        for h0 in (None, 0.5 * rng.standard_normal((n, h))):
            label = f"N={n}, T={t}, D={d}, H={h}, V={v}, h0 {'None' if h0 is None else 'given'}"
            args = (_copy(params), x.copy(), y.copy()) + (() if h0 is None else (h0.copy(),))
            got = unpack(_call("torch_loss_and_grads",
                                lambda args=args: ex04.torch_loss_and_grads(*args)),
                          ("loss", "grads", "h_last"), "torch_loss_and_grads")
            want = ref01.model_loss(_copy(params), x.copy(), y.copy(),
                                    None if h0 is None else h0.copy())
            _close_scalar(got[0], want[0], f"torch_loss_and_grads loss ({label})")
            if not isinstance(got[1], dict) or set(got[1]) != set(KEYS):
                raise AssertionError(f"torch_loss_and_grads grads ({label}): a dict with "
                                     f"the keys {list(KEYS)}.")
            for k in KEYS:
                _close(got[1][k], want[1][k], f"torch_loss_and_grads grads[{k!r}] ({label})",
                       atol=1e-9, rtol=1e-7, hint=explain(
                           "torch-two-biases" if k == "b" else "torch-weight-layout"))
            _close(got[2], want[2], f"torch_loss_and_grads h_last ({label})")


# ---------------------------------------------------------------------------------------
# Loops
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_ex04_hidden_train_epoch_cross_entropy(ex04, tt):
    """train_epoch: class targets through a DataLoader with a short last batch, clipping on"""
    rng = _rng(9404)
    d, v, n, t, lr, clip = 3, 4, 7, 3, 0.4, 0.3
    X, Y = rng.standard_normal((n, t, d)), rng.integers(0, v, (n, t))
    model = _test_rnn(tt, d, v)  # its outputs (N, T, V) are the scores
    layers = _rnn_layers(model, 1, "the test's nn.RNN")
    data = tt.utils.data
    loader = data.DataLoader(data.TensorDataset(_t(tt, X), _t(tt, Y)), batch_size=3,
                             shuffle=False)
    theta, losses = layers, []
    for s in range(0, n, 3):
        xb, yb = X[s:s + 3], Y[s:s + 3]

        def loss(lay, xb=xb, yb=yb):
            return _ce(_torch_rnn_forward(lay, xb)[0], yb)
        losses.append((loss(theta), len(xb)))
        theta = _sgd(theta, _clip(_grads_of(loss, theta), clip), lr)
    want = sum(a * b for a, b in losses) / n
    got = _call("train_epoch", lambda: ex04.train_epoch(
        model, loader, tt.optim.SGD(model.parameters(), lr=lr), tt.nn.CrossEntropyLoss(),
        clip=clip))
    if not _same_layers(_rnn_layers(model, 1, "the test's nn.RNN"), theta):
        raise AssertionError("train_epoch (cross-entropy, DataLoader, clip=0.3): the parameters "
                             "after the epoch differ from one SGD step per batch on that "
                             "batch's clipped gradient; the public train_epoch tests name the "
                             "usual causes.")
    plain = float(np.mean([a for a, _ in losses]))
    _close_scalar(got, want, "train_epoch mean loss (batches of 3, 3, 1, cross-entropy)",
                  hint=explain("loss-batch-weighting") if np.isclose(
                      scalar(got, "train_epoch"), plain, rtol=1e-9) else "")


@pytest.mark.points(0.75)
def test_ex04_hidden_evaluate_and_stateful(ex04, tt):
    """evaluate on a DataLoader (one target per sequence); stateful epoch resets when N changes"""
    rng = _rng(9405)
    d, h = 2, 4
    model = _test_rnn(tt, d, h, layers=2)
    layers = _rnn_layers(model, 2, "the test's nn.RNN")
    X, Y = rng.standard_normal((5, 3, d)), rng.standard_normal((5, h))
    data = tt.utils.data
    loader = data.DataLoader(data.TensorDataset(_t(tt, X), _t(tt, Y)), batch_size=2)
    want = sum(_mse(_torch_rnn_forward(layers, X[s:s + 2])[0][:, -1], Y[s:s + 2])
               * len(X[s:s + 2]) for s in range(0, 5, 2)) / 5
    model.train()
    got = _call("evaluate", lambda: ex04.evaluate(model, loader, tt.nn.MSELoss()))
    _close_scalar(got, want, "evaluate (many-to-one targets, batches of 2, 2, 1)",
                  hint=explain("loss-batch-weighting"))
    whole = data.DataLoader(data.TensorDataset(_t(tt, X), _t(tt, Y)), batch_size=5)
    got = _call("evaluate", lambda: ex04.evaluate(model, whole, tt.nn.MSELoss()))
    _close_scalar(got, want, "evaluate (a loader of one batch)")
    got = _call("train_epoch", lambda: ex04.train_epoch(
        model, whole, tt.optim.SGD(model.parameters(), lr=0.0), tt.nn.MSELoss()))
    _close_scalar(got, want, "train_epoch (a loader of one batch, lr=0)")
    one = data.DataLoader(data.TensorDataset(_t(tt, X[:1]), _t(tt, Y[:1])), batch_size=1)
    want_one = _mse(_torch_rnn_forward(layers, X[:1])[0][:, -1], Y[:1])
    got = _call("evaluate", lambda: ex04.evaluate(model, one, tt.nn.MSELoss()))
    _close_scalar(got, want_one, "evaluate (a loader of one example)")
    got = _call("train_epoch", lambda: ex04.train_epoch(
        model, one, tt.optim.SGD(model.parameters(), lr=0.0), tt.nn.MSELoss()))
    _close_scalar(got, want_one, "train_epoch (a loader of one example, lr=0)")

    batches = [(rng.standard_normal((m, 3, d)), 0.5 * rng.standard_normal((m, 3, h)))
               for m in (2, 2, 1)]
    lr, theta, state, total = 0.2, layers, None, 0.0
    for x, y in batches:
        if state is not None and state.shape[1] != len(x):
            state = None
        top, finals = _torch_rnn_forward(theta, x, state)
        total += _mse(top, y) * len(x)

        def loss(lay, x=x, y=y, state=state):
            return _mse(_torch_rnn_forward(lay, x, state)[0], y)
        theta = _sgd(theta, _grads_of(loss, theta), lr)
        state = finals
    optimizer = tt.optim.SGD(model.parameters(), lr=lr)
    got = _call("train_stateful_epoch", lambda: ex04.train_stateful_epoch(
        model, [(_t(tt, x), _t(tt, y)) for x, y in batches], optimizer, tt.nn.MSELoss()))
    _close_scalar(got, total / 5, "train_stateful_epoch (batches of 2, 2, 1: the state "
                  "starts again when the batch size changes)", hint=explain("tbptt-carry"))
    if not _same_layers(_rnn_layers(model, 2, "the test's nn.RNN"), theta):
        raise AssertionError("train_stateful_epoch: the parameters after the epoch differ from "
                             "one SGD step per batch from its carried state."
                             + explain("tbptt-carry"))


# ---------------------------------------------------------------------------------------
# Validation: bad arguments raise a ValueError naming the argument (the docstrings). Apart
# from the tests of the values, so a different message costs these points only.
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex04_hidden_model_validation(ex04, tt):
    """validation of load_numpy_params and RNNModel.forward: a bad argument raises naming it"""
    rng = _rng(9407)
    good = {"Wx": rng.standard_normal((4, 4)), "Wh": 0.5 * rng.standard_normal((4, 4)),
            "b": rng.standard_normal(4), "Wy": rng.standard_normal((4, 4)),
            "by": rng.standard_normal(4)}
    three = _model(ex04, 4, 4, 4, num_layers=3)
    raises_value_error(lambda: ex04.load_numpy_params(three, _copy(good)),
                       "load_numpy_params (a model of three layers)",
                       silent="raise a ValueError (Exercise 1's model has one layer).")
    raises_naming(lambda: ex04.load_numpy_params(_model(ex04, 4, 5, 4), _copy(good)), "params",
                  "load_numpy_params (params of a model with H=4 into one with H=5)")
    # Bad inputs to forward name their argument (gaps found by the automatic mutants).
    model = _model(ex04, 4, 4, 4)
    raises_naming(lambda: model(_t(tt, np.ones((2, 3, 5)))), "x",
                  "RNNModel.forward (x with 5 features for input_size=4)")
    raises_naming(lambda: model(_t(tt, np.ones((2, 3, 4))), _t(tt, np.ones((1, 3, 4)))), "h0",
                  "RNNModel.forward (h0 for a batch of 3, x a batch of 2)")


@pytest.mark.points(0.25)
def test_ex04_hidden_loop_validation(ex04, tt):
    """validation of the loops and SequenceDataset: a bad argument raises naming it"""
    rng = _rng(9408)
    d, h = 2, 4
    model = _test_rnn(tt, d, h, layers=2)
    X, Y = rng.standard_normal((5, 3, d)), rng.standard_normal((5, h))
    data = tt.utils.data
    whole = data.DataLoader(data.TensorDataset(_t(tt, X), _t(tt, Y)), batch_size=5)
    raises_naming(lambda: ex04.train_epoch(model, whole, tt.optim.SGD(model.parameters(), lr=0.1),
                                           tt.nn.MSELoss(), clip=-1.0), "clip",
                  "train_epoch(clip=-1.0)")
    none = data.DataLoader(data.TensorDataset(_t(tt, X[:0]), _t(tt, Y[:0])), batch_size=2)
    raises_naming(lambda: ex04.evaluate(model, none, tt.nn.MSELoss()), "loader",
                  "evaluate (an empty loader)")
    raises_naming(lambda: ex04.train_epoch(model, none, tt.optim.SGD(model.parameters(), lr=0.1),
                                           tt.nn.MSELoss()), "loader",
                  "train_epoch (an empty loader)")
    Xs, ys = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 5))
    with _named("SequenceDataset"):
        raises_naming(lambda: ex04.SequenceDataset(_t(tt, Xs[:0]), _t(tt, ys[:0])), "X",
                      "SequenceDataset (X with no example)")
        raises_naming(lambda: ex04.SequenceDataset(_t(tt, Xs), _t(tt, ys[:3])), "y",
                      "SequenceDataset (4 examples in X, 3 in y)")


# ---------------------------------------------------------------------------------------
# Data and the character model
# ---------------------------------------------------------------------------------------


def _all(tt, loader, what):
    out = []
    for k, batch in enumerate(_py(tt).list(loader)):
        x, y = unpack(batch, ("x", "y"), f"{what} batch {k}")
        out.append((_np(x, what), _np(y, what)))
    return out


@pytest.mark.points(1)
def test_ex04_hidden_data(ex04, tt):
    """SequenceDataset, make_loader and stream_loader at new sizes, from tensors, batch of one"""
    rng = _rng(9406)
    X = rng.standard_normal((4, 2, 3)).astype(np.float32)
    y = rng.standard_normal((4, 5))
    with _named("SequenceDataset"):
        dataset = ex04.SequenceDataset(_t(tt, X), _t(tt, y))
        if _py(tt).len(dataset) != 4:
            raise AssertionError("SequenceDataset from tensors: len must be 4."
                                 + explain("dataset-protocol"))
        x2, y2 = unpack(_py(tt).getattr(dataset, "__getitem__")(2), ("x", "y"),
                         "SequenceDataset[2]")
    _close(_np(x2, "x"), X[2], "SequenceDataset (from float32 tensors)[2][0]", atol=0, rtol=0)
    with _named("SequenceDataset"):
        if _py(tt).len(ex04.SequenceDataset(_t(tt, X[:1]), _t(tt, y[:1]))) != 1:
            raise AssertionError("SequenceDataset of one example: len must be 1.")
    _close(_np(y2, "y"), y[2], "SequenceDataset (from tensors)[2][1]", atol=0, rtol=0)
    ids = np.arange(11)
    with _named("SequenceDataset"):
        ones = _all(tt, ex04.make_loader(ids[:, None], ids, 1, shuffle=True, seed=3), "loader")
        again = _all(tt, ex04.make_loader(ids[:, None], ids, 1, shuffle=True, seed=3), "loader")
        other = _all(tt, ex04.make_loader(ids[:, None], ids, 1, shuffle=True, seed=4), "loader")
    order = [int(b[1][0]) for b in ones]
    if sorted(order) != list(range(11)) or any(len(b[1]) != 1 for b in ones):
        raise AssertionError("make_loader(batch_size=1, shuffle=True): one example per batch, "
                             "each exactly once.")
    if order != [int(b[1][0]) for b in again] or order == [int(b[1][0]) for b in other]:
        raise AssertionError("make_loader: the seed alone decides the order."
                             + explain("shuffle-generator"))
    L, seq_len, B = 101, 5, 4
    S = (L - 1) // B
    data = rng.integers(0, 50, L)
    with _named("SequenceDataset"):
        got = _all(tt, ex04.stream_loader(data, seq_len, B), "stream_loader")
    if len(got) != S // seq_len:
        raise AssertionError(f"stream_loader(101 values, seq_len=5, batch_size=4): {len(got)} "
                             "batches.")
    for k, (xb, yb) in enumerate(got):
        want = np.stack([data[b * S + k * seq_len: b * S + (k + 1) * seq_len] for b in range(B)])
        check_array(xb, (B, seq_len), what=f"stream_loader batch {k} inputs", dtype=np.int64)
        _close(xb, want, f"stream_loader batch {k} inputs", atol=0, rtol=0,
               hint=explain("stream-continuity"))
        _close(yb, np.stack([data[b * S + k * seq_len + 1: b * S + (k + 1) * seq_len + 1]
                             for b in range(B)]), f"stream_loader batch {k} targets", atol=0,
               rtol=0)


@pytest.mark.slow
@pytest.mark.points(1)
def test_ex04_hidden_char_model(ex04, tt):
    """CharRNN at new sizes; train_char_model with a carried state beats both count baselines"""
    rng = _rng(9407)
    with _named("CharRNN"):
        model = _call("CharRNN", lambda: ex04.CharRNN(11, 4, 6, num_layers=3)).double()
    ids = rng.integers(0, 11, (3, 5))
    logits, h_n = _run(model, "CharRNN", _t(tt, ids))
    table = _np(model.embed.weight, "embed.weight")
    top, finals = _torch_rnn_forward(_rnn_layers(model.rnn, 3, "CharRNN.rnn"), table[ids])
    _close(_np(logits, "logits"), _linear(_np(model.fc.weight, "w"), _np(model.fc.bias, "b"),
                                          top), "CharRNN logits (V=11, E=4, H=6, 3 layers)",
           hint=explain("embedding-indices"))
    _close(_np(h_n, "h_n"), finals, "CharRNN h_n (3 layers)")

    text, heldout = _grammar_text(rng, 3200), _grammar_text(rng, 400)
    result = _call("train_char_model", lambda: ex04.with_timeout(60).train_char_model(
        text, seq_len=12, batch_size=8, embed_dim=6, hidden_size=32, num_layers=2, epochs=4,
        lr=0.01, seed=1, device="cpu", stateful=True, print_every=0))
    trained, history = unpack(result, ("model", "history"), "train_char_model")
    if _kind(trained) != "CharRNN" and not hasattr(trained, "embed"):
        raise AssertionError("train_char_model: the model it returns must be a CharRNN.")
    vocab = history["vocab"]
    got = _heldout_loss(tt, trained, vocab, heldout)
    index = {c: i for i, c in enumerate(vocab)}
    t_ids, h_ids = [index[c] for c in text], [index[c] for c in heldout]
    pairs = np.ones((len(vocab), len(vocab)))
    np.add.at(pairs, (t_ids[:-1], t_ids[1:]), 1.0)
    bigram = float(-np.mean(np.log((pairs / pairs.sum(1, keepdims=True))[h_ids[:-1], h_ids[1:]])))
    if not got < bigram:
        raise AssertionError("train_char_model(stateful=True): on held-out text the model does "
                             "not beat the bigram baseline; see the public test of "
                             "train_char_model and the stateful tests." + explain("tbptt-carry"))
