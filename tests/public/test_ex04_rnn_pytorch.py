"""Public tests for Exercise 4: recurrent networks in PyTorch.

What is checked, in the order of the points table (points in brackets):

  Part 1, data         select_device (0.5); SequenceDataset (0.25); validation of the
                       device, dataset, loaders and models (0.25); make_loader (0.5);
                       stream_loader (0.5)
  Part 2, the model    RNNModel shapes (0.5), values and h0 (1); load_numpy_params agrees
                       with Exercise 1 (1), holds copies (0.25), validation (0.25);
                       torch_loss_and_grads (1)
  Part 3, loops        train_epoch SGD (1), clipping (0.5); to_model (0.5); evaluate (1);
                       tbptt_step (1); train_stateful_epoch (0.5)
  Part 4, comparison   compare_numpy_torch (0.5); plot_comparison (0.5)
  Part 5, characters   CharRNN (0.5); train_char_model(epochs=0) (0.25), learns (0.75)

Expected values come from the NumPy forward formulas of `nn.RNN` and `nn.Linear` as
PyTorch documents them (column vectors, two biases; support_ex04.py), and Exercise 1's
states, scores, loss and gradients from fixtures/ex04.npz (the reference's, saved).
Expected gradients and optimizer steps come from centered differences, never a backward
pass. When a result is wrong, the message says which output, how, the idea involved and
the section of guides/rnn_guide.md about it ("RNNs in PyTorch").

The tensors, optimizers and loaders a test hands to your functions are made with the
`torch` your file imports, where your code runs (the `tt` fixture); what the test judges
is read back as NumPy arrays.

Rerun one test with details:  make check T='tests/public/test_ex04_rnn_pytorch.py::NAME'
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.public import support_ex04 as s  # torch where your code runs, formulas, checks
from tests.public.harness import (
    assert_close,
    assert_png,
    check_array,
    close_scalar,
    figure_info,
    raises_naming,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.support_ex04 import KEYS, D, H, N, T, V


@pytest.fixture
def tt(ex04):
    """torch as seen by your code (support_ex04.torch_of)."""
    return s.torch_of(ex04)


# ---------------------------------------------------------------------------------------
# Part 1: devices, datasets and loaders
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex04_select_device(ex04, tt):
    """select_device: CUDA when PyTorch sees a GPU, else the CPU"""
    want = "cuda" if tt.cuda.is_available() else "cpu"
    device = ex04.select_device()
    if s.kind(device) != "device":
        raise AssertionError(f"select_device(): expected a torch.device, got {s.kind(device)}.")
    if device.type != want:
        raise AssertionError(f"select_device(): gave {device.type!r}; PyTorch here "
                             f"{'sees' if want == 'cuda' else 'sees no'} GPU, so expected "
                             f"{want!r} (guide: \"Datasets, loaders and devices\").")
    if ex04.select_device("cpu").type != "cpu":
        raise AssertionError("select_device('cpu') must give the CPU.")


@pytest.mark.points(0.25)
def test_ex04_sequence_dataset(ex04, tt):
    """SequenceDataset: len and (X[i], y[i]) as tensors of the data's dtype, copied"""
    rng = s.rng(401)
    X, y = rng.standard_normal((5, T, D)), rng.integers(0, V, 5)
    X_keep = X.copy()
    with s.named("SequenceDataset"):
        dataset = ex04.SequenceDataset(X, y)
        X[...] = 0.0  # the dataset kept its own copy
        n = s.builtins_of(tt).len(dataset)
        item = unpack(s.builtins_of(tt).getattr(dataset, "__getitem__")(3), ("x_i", "y_i"),
                      "SequenceDataset[3]")
    s.check_dataset_item(n, item, X_keep, y)


@pytest.mark.points(0.25)
def test_ex04_data_validation(ex04, tt):
    """validation of select_device, SequenceDataset, the loaders, CharRNN: bad input refused"""
    bad = ["not-a-device"] + ([] if tt.cuda.is_available() else ["cuda"])
    for name in bad:
        raises_naming(lambda name=name: ex04.select_device(name), "device",
                      f"select_device({name!r})")
    rng = s.rng(401)
    X, y = rng.standard_normal((5, T, D)), rng.integers(0, V, 5)
    with pytest.raises(ValueError), s.named("SequenceDataset"):
        ex04.SequenceDataset(X, y[:4])
    with s.named("SequenceDataset"):
        raises_naming(lambda: ex04.SequenceDataset(X[:0], y[:0]), "X",
                      "SequenceDataset (X with no example)")
        raises_naming(lambda: ex04.make_loader(X, y, 0), "batch_size",
                      "make_loader(batch_size=0)")
        with pytest.raises(ValueError):
            ex04.stream_loader(np.arange(10), 4, 3)
    with s.named("CharRNN"):
        model = s.call("CharRNN(...)", lambda: ex04.CharRNN(7, 3, 5, num_layers=2))
        raises_naming(lambda: model(tt.randn(N, T)), "x", "CharRNN forward (float x)")
    # RNNModel.forward refuses an x or h0 that does not fit (its docstring), as CharRNN does
    model = s.new_model(ex04, D, H, V)
    with s.named("RNNModel"):
        raises_naming(lambda: model(tt.randn(N, T, D + 1)), "x",
                      "RNNModel.forward (x with 4 features for input_size=3)")
        raises_naming(lambda: model(tt.randn(N, T, D), tt.randn(1, N + 1, H)), "h0",
                      "RNNModel.forward (h0 for a batch of 3, x a batch of 2)")


@pytest.mark.points(0.5)
def test_ex04_make_loader(ex04, tt):
    """make_loader: batches cover every example once; order kept or shuffled by its seed alone"""
    X, y = np.arange(7 * 2, dtype=np.float64).reshape(7, 1, 2), np.arange(7)
    with s.named("SequenceDataset"):
        plain = s.loader_batches(tt, ex04.make_loader(X, y, 3, shuffle=False),
                                 "make_loader(shuffle=False)")
    s.check_plain_batches(plain, X)
    loader = ex04.make_loader(X, y, 3, shuffle=True, seed=5)
    first = s.order_of(tt, loader, "make_loader(shuffle=True)")
    second = s.order_of(tt, loader, "make_loader, second epoch")
    tt.rand(3)  # whatever else draws from torch's global generator must not matter
    again = s.order_of(tt, ex04.make_loader(X, y, 3, seed=5), "make_loader(seed=5) again")
    s.check_shuffled(first, second, again)


@pytest.mark.points(0.5)
def test_ex04_stream_loader(ex04, tt):
    """stream_loader: batch k continues batch k-1 row by row; targets are the next values"""
    L, seq_len, B = 53, 4, 3
    with s.named("SequenceDataset"):
        got = s.loader_batches(tt, ex04.stream_loader(np.arange(L), seq_len, B), "stream_loader")
    s.check_stream(got, L, seq_len, B)


# ---------------------------------------------------------------------------------------
# Part 2: the model and agreement with Exercise 1
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex04_rnn_model_shapes(ex04, tt):
    """RNNModel: out (N, T, output_size) and h_n (num_layers, N, H) for 1-3 layers"""
    for layers, n, t in ((1, 2, 5), (2, 3, 4), (3, 4, 2)):
        model = s.new_model(ex04, D, H, V, num_layers=layers)
        out, h_n = s.run(model, "RNNModel", tt.randn(n, t, D))
        s.check_model_shapes(out, h_n, layers, n, t)
    if not model.rnn.batch_first:
        raise AssertionError("RNNModel.rnn reads (T, N, D) inputs." + explain("batch-first"))


@pytest.mark.points(1)
def test_ex04_rnn_model_values_and_h0(ex04, tt):
    """RNNModel: values follow nn.RNN's formula, a readout at every step, h0 honoured"""
    rng = s.rng(402)
    layers = 3  # not N = 2: (num_layers, N, H) and (N, num_layers, H) must differ
    model = s.new_model(ex04, D, H, V, num_layers=layers).double()
    x, h0 = rng.standard_normal((N, T, D)), 0.5 * rng.standard_normal((layers, N, H))
    expected = s.expected_outputs(model, layers, x, h0)  # nn.RNN's formulas, its parameters
    out, h_n = s.run(model, "RNNModel", s.as_tensor(tt, x), s.as_tensor(tt, h0))
    s.check_model_values(out, h_n, expected)


@pytest.mark.points(1)
def test_ex04_load_numpy_params_agrees_with_exercise1(ex04, tt):
    """load_numpy_params: the model then gives Exercise 1's states and scores to 1e-10"""
    params, x, h0 = s.model_case(403)
    keep = s.copy(params)
    model = s.new_model(ex04, D, H, V)
    s.load(ex04, params, model)
    s.check_loaded(model, params, keep)
    out, h_n = s.run(model, "RNNModel", s.as_tensor(tt, x), s.as_tensor(tt, h0[None]))
    out, h_n = s.as_numpy(out, "scores after load_numpy_params"), s.as_numpy(h_n, "h_n")
    hint = s.load_hint(ex04, tt, model, out, keep, x, h0)
    assert_close(out, s.saved("load403_scores"), what="RNNModel scores after load_numpy_params",
                 atol=1e-10, rtol=1e-8, hint=hint)
    assert_close(h_n[0] if h_n.ndim == 3 else h_n, s.saved("load403_h_last"), what="h_n after "
                 "load_numpy_params", atol=1e-10, rtol=1e-8)


@pytest.mark.points(0.25)
def test_ex04_load_numpy_params_copies(ex04, tt):
    """load_numpy_params: the model holds copies; a later change to params does not reach it"""
    model = s.new_model(ex04, D, H, V)
    probe = s.probe(tt, s.ex01_params(s.rng(405)))
    s.call("load_numpy_params", lambda: probe.load_into(model))
    before = s.model_params(model)
    for key in KEYS:
        probe.shift(key, 1.0)
    changed = [name for name, value in s.model_params(model).items()
               if not np.array_equal(value, before[name])]
    if changed:
        raise AssertionError(f"load_numpy_params: after 1 was added to every array of params, "
                             f"the model's {', '.join(changed)} changed too: the model shares "
                             "memory with params." + explain("torch-shared-memory"))


@pytest.mark.points(0.25)
def test_ex04_load_numpy_params_refuses_bad_arguments(ex04):
    """validation of load_numpy_params: a bad model or params raise ValueError naming it"""
    keep = s.ex01_params(s.rng(403))
    two_layers = s.new_model(ex04, D, H, V, num_layers=2)
    raises_naming(lambda: ex04.load_numpy_params(two_layers, s.copy(keep)), "model",
                  "load_numpy_params (a model of two layers)")
    one_layer = s.new_model(ex04, D, H, V)
    raises_naming(lambda: ex04.load_numpy_params(one_layer, {k: keep[k] for k in KEYS
                                                             if k != "by"}),
                  "params", "load_numpy_params (params without 'by')")


@pytest.mark.points(1)
def test_ex04_torch_loss_and_grads(ex04):
    """torch_loss_and_grads: loss, gradients in Exercise 1's layout and h_last agree with NumPy"""
    params, x, h0, y = s.model_case(404, with_targets=True)
    keep = s.copy(params)
    result = s.call("torch_loss_and_grads", lambda: ex04.torch_loss_and_grads(
        s.copy(params), x.copy(), y.copy(), h0.copy()))
    loss, grads, h_last = unpack(result, ("loss", "grads", "h_last"), "torch_loss_and_grads")
    want = float(s.saved("loss404_loss"))  # Exercise 1's reference, saved
    value = scalar(loss, "torch_loss_and_grads loss")
    close_scalar(value, want, what="torch_loss_and_grads loss", hint=s.loss_hint(value, want))
    assert_close(h_last, s.saved("loss404_h_last"), what="torch_loss_and_grads h_last",
                 atol=1e-10, rtol=1e-8, hint="The state after the last step, (N, H).")
    s.check_ex01_grads(grads, keep)


# ---------------------------------------------------------------------------------------
# Part 3: training and evaluation loops
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_ex04_train_epoch_exact_sgd(ex04, tt):
    """train_epoch: one SGD step per batch from its own gradient; mean loss per example"""
    s.check_epoch(ex04, tt, None, "(SGD, batches of 3, 2, 1)")


@pytest.mark.points(0.5)
def test_ex04_train_epoch_clipping(ex04, tt):
    """train_epoch: clip limits the global gradient norm of each step"""
    s.check_epoch(ex04, tt, 0.05, "with clip=0.05")


@pytest.mark.points(0.5)
def test_ex04_to_model_casts_batches(ex04, tt):
    """to_model: floats take the model's dtype, integers stay; loops cast float32 batches"""
    model = s.own_rnn(tt, 2, 3)
    x32 = s.as_tensor(tt, np.arange(6, dtype=np.float32).reshape(1, 3, 2))
    got = s.call("to_model", lambda: ex04.to_model(model, x32))
    if s.kind(got) != "Tensor" or got.element_size() != 8 or not got.is_floating_point():
        raise AssertionError("to_model(float64 model, float32 tensor): expected a float64 "
                             "tensor." + explain("dtype-cast"))
    assert_close(s.as_numpy(got, "to_model result"), np.arange(6.0).reshape(1, 3, 2),
                 what="to_model values", atol=0, rtol=0)
    if x32.element_size() != 4:
        raise AssertionError("to_model changed the tensor it was given; return a new one.")
    ints = s.call("to_model", lambda: ex04.to_model(model, s.as_tensor(tt, np.arange(3))))
    if ints.is_floating_point():
        raise AssertionError("to_model turned integer indices into floats; class and character "
                             "indices must stay integers." + explain("dtype-cast"))
    _, batches, loader = s.train_case(tt, 407, sizes=(2,), dtype=np.float32)
    for fn in ("train_epoch", "evaluate"):
        extra = (tt.optim.SGD(model.parameters(), lr=0.1),) if fn == "train_epoch" else ()
        scalar(s.call(fn, lambda fn=fn, extra=extra: getattr(ex04, fn)(
            model, loader, *extra, tt.nn.MSELoss())), f"{fn} with float32 batches")


@pytest.mark.points(1)
def test_ex04_evaluate(ex04, tt):
    """evaluate: eval mode, no autograd, mean loss per example, parameters untouched"""
    rng = s.rng(408)
    d, h = 2, 3
    model = s.own_rnn(tt, d, h, layers=2, dropout=0.5)  # dropout is active in training mode
    batches = [(rng.standard_normal((n, 4, d)), rng.standard_normal((n, 4, h))) for n in (3, 1)]
    xs, ys = s.inference_tensors(tt, [x for x, _ in batches]), s.inference_tensors(
        tt, [y for _, y in batches])
    layers = s.rnn_layers(model, 2, "the test's nn.RNN")
    losses = [s.rnn_loss(layers, x, y)[0] for x, y in batches]
    first = scalar(s.call("evaluate", lambda: ex04.evaluate(
        model, list(zip(xs, ys, strict=True)), tt.nn.MSELoss())), "evaluate")
    second = scalar(ex04.evaluate(model, list(zip(xs, ys, strict=True)), tt.nn.MSELoss()),
                    "evaluate (second call)")
    s.check_evaluate(first, second, losses, model, layers)


@pytest.mark.points(1)
def test_ex04_tbptt_step_detaches_and_carries(ex04, tt):
    """tbptt_step: two stateful steps in a row run; the carried state has no grad_fn and is used"""
    rng = s.rng(409)
    d, h, layers, lr = 2, 3, 2, 0.3
    model = s.own_rnn(tt, d, h, layers=layers)
    data = [(rng.standard_normal((2, 3, d)), 0.5 * rng.standard_normal((2, 3, h)))
            for _ in range(2)]
    theta0 = s.rnn_layers(model, layers, "the test's nn.RNN")
    optimizer, loss_fn = tt.optim.SGD(model.parameters(), lr=lr), tt.nn.MSELoss()
    (x1, y1), (x2, y2) = data
    result = s.call("tbptt_step", lambda: ex04.tbptt_step(
        model, s.as_tensor(tt, x1), s.as_tensor(tt, y1), None, optimizer, loss_fn))
    loss1, h1 = unpack(result, ("loss", "h_next"), "tbptt_step")
    want1, finals1 = s.rnn_loss(theta0, x1, y1)
    theta1 = s.check_first_tbptt_step(loss1, h1, (want1, finals1), model, theta0, layers)
    result = s.call("tbptt_step (second batch, with the carried state)", lambda: ex04.tbptt_step(
        model, s.as_tensor(tt, x2), s.as_tensor(tt, y2), h1, optimizer, loss_fn))
    loss2, _ = unpack(result, ("loss", "h_next"), "tbptt_step")
    s.check_second_tbptt_step(loss2, model, theta1, (x2, y2), finals1, lr, layers)


@pytest.mark.points(0.5)
def test_ex04_train_stateful_epoch(ex04, tt):
    """train_stateful_epoch: state carried from batch to batch, zero at the epoch's start"""
    rng = s.rng(410)
    d, h, lr = 2, 3, 0.2
    model = s.own_rnn(tt, d, h)
    batches = [(rng.standard_normal((2, 3, d)), 0.5 * rng.standard_normal((2, 3, h)))
               for _ in range(3)]
    loader = [(s.as_tensor(tt, x), s.as_tensor(tt, y)) for x, y in batches]
    layers = s.rnn_layers(model, 1, "the test's nn.RNN")
    theta1, want1 = s.stateful_epoch(layers, batches, lr, carry=True)
    _, reset = s.stateful_epoch(layers, batches, lr, carry=False)
    optimizer, loss_fn = tt.optim.SGD(model.parameters(), lr=lr), tt.nn.MSELoss()
    got = scalar(s.call("train_stateful_epoch", lambda: ex04.train_stateful_epoch(
        model, loader, optimizer, loss_fn)), "train_stateful_epoch")
    if np.isclose(got, reset, rtol=1e-9):
        raise AssertionError("train_stateful_epoch: the losses are those of batches that each "
                             "start from a zero state." + explain("tbptt-carry"))
    close_scalar(got, want1, what="train_stateful_epoch: mean loss (state carried)",
                 hint=explain("tbptt-carry"))
    _, want2 = s.stateful_epoch(theta1, batches, lr, carry=True)
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
    rows = s.call("compare_numpy_torch", lambda: ex04.with_timeout(30).compare_numpy_torch(
        sizes=sizes, repeats=2, seed=1))
    s.check_comparison(rows, sizes)


@pytest.mark.points(0.5)
def test_ex04_plot_comparison(ex04, student_tmp):
    """plot_comparison: NumPy and PyTorch times, one labelled line each, log scale"""
    rows = s.comparison_rows()
    path = student_tmp / "numpy_vs_torch.png"
    info = figure_info(ex04.plot_comparison(rows, str(path)), what="plot_comparison")
    assert_png(path, what="plot_comparison")
    s.check_comparison_axes(info)


# ---------------------------------------------------------------------------------------
# Part 5: the character model
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex04_char_rnn(ex04, tt):
    """CharRNN: embedding, stacked batch-first RNN, readout at every step"""
    vocab, embed, hidden, layers = 7, 3, 5, 2
    rng = s.rng(411)
    with s.named("CharRNN"):
        model = s.call("CharRNN(...)", lambda: ex04.CharRNN(vocab, embed, hidden,
                                                            num_layers=layers))
    model = model.double()
    table = s.as_numpy(model.embed.weight, "CharRNN.embed.weight")
    check_array(table, (vocab, embed), what="CharRNN.embed.weight")
    ids = rng.integers(0, vocab, (N, T))
    logits, h_n = s.run(model, "CharRNN", s.as_tensor(tt, ids))
    top, finals = s.torch_rnn_forward(s.rnn_layers(model.rnn, layers, "CharRNN.rnn"), table[ids])
    want = s.linear(s.as_numpy(model.fc.weight, "CharRNN.fc.weight"),
                    s.as_numpy(model.fc.bias, "fc.bias"), top)
    assert_close(s.as_numpy(logits, "CharRNN logits"), want, what="CharRNN logits", atol=1e-10,
                 rtol=1e-8, hint="The embedding turns each index into a row of its table; the "
                 "RNN reads those rows." + explain("embedding-indices"))
    assert_close(s.as_numpy(h_n, "CharRNN h_n"), finals, what="CharRNN h_n", atol=1e-10,
                 rtol=1e-8)


@pytest.mark.points(0.25)
def test_ex04_train_char_model_zero_epochs(ex04):
    """train_char_model(epochs=0): no epoch run, empty loss lists"""
    text = s.grammar_text(s.rng(413), 600)
    result = s.call("train_char_model", lambda: ex04.with_timeout(60).train_char_model(
        text, seq_len=16, batch_size=16, embed_dim=4, hidden_size=8, num_layers=2, epochs=0,
        seed=0, device="cpu", print_every=0))
    _, history = unpack(result, ("model", "history"), "train_char_model(epochs=0)")
    s.check_no_epochs(history)


@pytest.mark.slow
@pytest.mark.points(0.75)
def test_ex04_train_char_model_learns(ex04, tt):
    """train_char_model: within a small CPU budget, beats the unigram baseline on held-out text"""
    rng = s.rng(412)
    text = s.grammar_text(rng, 3000)
    heldout = s.grammar_text(rng, 400)
    result = s.call("train_char_model", lambda: ex04.with_timeout(60).train_char_model(
        text, seq_len=16, batch_size=16, embed_dim=8, hidden_size=32, num_layers=2, epochs=6,
        lr=0.01, seed=0, device="cpu", print_every=0))
    model, history = unpack(result, ("model", "history"), "train_char_model")
    s.check_char_history(history, text, model)
    vocab = history["vocab"]
    unigram = s.unigram_loss(text, vocab, heldout)
    got = s.heldout_loss(tt, model, vocab, heldout)
    s.check_beats_unigram(got, unigram, history)
