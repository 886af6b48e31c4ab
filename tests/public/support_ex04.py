"""The machinery of tests/public/test_ex04_rnn_pytorch.py: reaching torch where your code
runs and reading tensors back, the NumPy forward formulas of `nn.RNN` and `nn.Linear` as
PyTorch documents them (column vectors, two biases), centered differences and optimizer
steps of those, the saved Exercise 1 values, twins that name a mistake, and the checks.

The tensors, optimizers and loaders a test hands to your functions are made with the
`torch` your file imports, where your code runs (`torch_of`); what the test judges is
read back as NumPy arrays.
"""

from __future__ import annotations

import contextlib
import types

import numpy as np

from tests.public.harness import (
    assert_close,
    check_array,
    check_labels,
    close_scalar,
    numerical_gradient,
    saved_array,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.predictors import ParamsProbe
from tests.public.support_ex02 import mean_squared  # the public tests' one squared error

KEYS = ("Wx", "Wh", "b", "Wy", "by")
# Functions whose model comes from load_numpy_params: a dtype clash there is the model's.
MODEL_BUILDERS = ("torch_loss_and_grads", "compare_numpy_torch")
# Distinct sizes everywhere: a wrong orientation or axis cannot hide behind equal sizes.
N, T, D, H, V = 2, 6, 3, 5, 4

def saved(name: str) -> np.ndarray:
    """The saved array `name` of fixtures/ex04.npz: the reference's Exercise 1 values on
    model_case's cases (tools/fixtures_ex04.py), read, not computed here."""
    return saved_array("ex04", name)


def rng(seed):
    """A NumPy generator: every test draws its inputs from its own seed."""
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# Reaching torch where your code runs, and reading tensors back
# ---------------------------------------------------------------------------------------


def torch_of(ex04):
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


def builtins_of(tt):
    """Python's builtins as seen by your code (len, list): torch keeps a reference to them."""
    return tt.builtins


def kind(value) -> str:
    """The type name of a value, or of what a handle to the student process holds."""
    return getattr(value, "type_name", None) or type(value).__name__


def as_numpy(value, what):
    """A tensor your code returned, as a NumPy array (a copy)."""
    if kind(value) not in ("Tensor", "Parameter"):
        raise AssertionError(f"{what}: expected a torch tensor, got {kind(value)}.")
    return np.array(value.detach().cpu().numpy(), copy=True)


def as_tensor(tt, array):
    """A tensor made where your code runs, with the array's dtype."""
    return tt.tensor(np.asarray(array))


@contextlib.contextmanager
def named(owner):
    """A method left as in the skeleton is named with its class: `RNNModel.forward`."""
    try:
        yield
    except NotImplementedError as exc:
        name = str(exc).removeprefix("not implemented yet:").strip() or "?"
        if name.startswith("__") or name == "forward":
            raise AssertionError(f"not implemented yet: {owner}.{name}") from None
        raise


def diagnose_error(fn, exc):
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


def call(fn, thunk):
    """Run a call of your code; its exceptions become messages with a diagnosis."""
    try:
        return thunk()
    except NotImplementedError:
        raise
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever your code raised is reported
        diagnose_error(fn, exc)


# ---------------------------------------------------------------------------------------
# The forward formulas of nn.RNN and nn.Linear, and Exercise 1's cases
# ---------------------------------------------------------------------------------------


def column_step(W_ih, W_hh, b_ih, b_hh, x_t, h):
    """One step of `nn.RNN` as PyTorch documents it, for each example's column vectors:
    h' = tanh(W_ih x + b_ih + W_hh h + b_hh); rows of `x_t (N, in)` and `h (N, H)` are the
    examples."""
    return np.tanh(np.einsum("ij,nj->ni", W_ih, x_t) + b_ih + np.einsum("ij,nj->ni", W_hh, h)
                   + b_hh)


def torch_rnn_forward(layers, x, h0=None):
    """A stacked `nn.RNN(batch_first=True)`: `layers` is one (W_ih, W_hh, b_ih, b_hh) per
    layer, `x (N, T, in)`, `h0 (num_layers, N, H)` or None. Returns (outputs of the top
    layer (N, T, H), h_n (num_layers, N, H))."""
    inputs, finals = x, []
    for k, (W_ih, W_hh, b_ih, b_hh) in enumerate(layers):
        h = np.zeros((x.shape[0], W_hh.shape[0])) if h0 is None else h0[k]
        outs = []
        for t in range(x.shape[1]):
            h = column_step(W_ih, W_hh, b_ih, b_hh, inputs[:, t], h)
            outs.append(h)
        inputs = np.stack(outs, axis=1)
        finals.append(h)
    return inputs, np.stack(finals)


def linear(W, b, h):
    """`nn.Linear` as documented: y = W h + b for each vector h (the last axis)."""
    return np.einsum("ij,...j->...i", W, h) + b


def ex01_params(rng, d=D, h=H, v=V):
    return {"Wx": 0.6 * rng.standard_normal((d, h)), "Wh": 0.4 * rng.standard_normal((h, h)),
            "b": 0.2 * rng.standard_normal(h), "Wy": 0.6 * rng.standard_normal((h, v)),
            "by": 0.2 * rng.standard_normal(v)}


def copy(params):
    """A copy of a params dict, so no call can change the test's arrays."""
    return {k: np.array(v, copy=True) for k, v in params.items()}


def model_case(seed, with_targets=False):
    """Exercise 1's parameters, x (N, T, D) and h0 (N, H), drawn in this order from
    rng(seed); with_targets adds y (N, T) (the torch_loss_and_grads case)."""
    gen = rng(seed)
    params = ex01_params(gen)
    x, h0 = gen.standard_normal((N, T, D)), 0.5 * gen.standard_normal((N, H))
    return (params, x, h0, gen.integers(0, V, (N, T))) if with_targets else (params, x, h0)


# ---------------------------------------------------------------------------------------
# Models, loaders and the loops' expected values
# ---------------------------------------------------------------------------------------


def rnn_layers(rnn, num_layers, what="model"):
    """The parameters of an `nn.RNN` (a test's own, or your model's `.rnn`) as NumPy arrays."""
    names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")
    return [tuple(as_numpy(getattr(rnn, n.format(k)), f"{what} {n.format(k)}") for n in names)
            for k in range(num_layers)]


def loader_batches(tt, loader, what):
    """Every (x, y) batch of a loader, as NumPy arrays."""
    got = builtins_of(tt).list(loader)
    out = []
    for k, batch in enumerate(got):
        pair = unpack(batch, ("x", "y"), f"{what}: batch {k}")
        out.append((as_numpy(pair[0], f"{what} batch {k} x"),
                    as_numpy(pair[1], f"{what} batch {k} y")))
    return out


def new_model(ex04, *args, **kwargs):
    """Your RNNModel(*args, **kwargs); a skeleton or an error is named."""
    with named("RNNModel"):
        return call("RNNModel(...)", lambda: ex04.RNNModel(*args, **kwargs))


def run(model, owner, *args):
    """(out, h_n) of model(*args): your forward, its errors diagnosed."""
    with named(owner):
        return unpack(call(f"{owner}.forward", lambda: model(*args)), ("out", "h_n"),
                       f"{owner}.forward")


def load(ex04, params, model):
    """Your load_numpy_params(model, params), its errors diagnosed."""
    return call("load_numpy_params", lambda: ex04.load_numpy_params(model, params))


def model_params(model) -> dict:
    """The five tensors load_numpy_params fills, as NumPy arrays (copies)."""
    rnn = model.rnn
    return {name: as_numpy(t, name) for name, t in (
        ("rnn.weight_ih_l0", rnn.weight_ih_l0), ("rnn.weight_hh_l0", rnn.weight_hh_l0),
        ("rnn.bias_ih_l0", rnn.bias_ih_l0), ("fc.weight", model.fc.weight),
        ("fc.bias", model.fc.bias))}


def probe(tt, params):
    """`params` as a ParamsProbe (tests/public/predictors.py) that lives where your code
    runs: it calls your load_numpy_params with its own dict, and changes that dict's arrays
    there afterwards, as a later change to `params` in your program would."""
    (probe,) = builtins_of(tt).tuple([ParamsProbe(params)])
    return probe


def own_rnn(tt, d, h, layers=1, dropout=0.0):
    """A model of the test's own: a batch-first float64 nn.RNN, whose outputs are (N, T, h)."""
    return tt.nn.RNN(d, h, num_layers=layers, batch_first=True, dropout=dropout,
                     dtype=tt.float64)


def rnn_loss(layers, x, y, h0=None):
    """MSE of a stacked nn.RNN's outputs against y, and h_n."""
    top, finals = torch_rnn_forward(layers, x, h0)
    return mean_squared(top, y), finals


def layer_grads(loss, layers):
    """Centered differences of loss(layers) for every parameter of every layer."""
    out = []
    for k, layer in enumerate(layers):
        row = []
        for i, p in enumerate(layer):
            def f(a, k=k, i=i):
                changed = [list(lay) for lay in layers]
                changed[k][i] = a
                return loss(changed)
            row.append(numerical_gradient(f, p, 1.0))
        out.append(tuple(row))
    return out


def rnn_grads(layers, x, y, h0=None):
    """Centered differences of the MSE with respect to every parameter of every layer."""
    return layer_grads(lambda changed: rnn_loss(changed, x, y, h0)[0], layers)


def sgd(layers, grads, lr):
    """One SGD step p - lr * g for every parameter of every layer."""
    return [tuple(p - lr * g for p, g in zip(lay, gl, strict=True))
            for lay, gl in zip(layers, grads, strict=True)]


def clipped(grads, max_norm):
    """`grads` (one tuple of arrays per layer) as torch.nn.utils.clip_grad_norm_ leaves
    them: one factor max_norm / (norm + 1e-6), at most 1, from the global norm. Written
    with NumPy: the grader's own pytest never imports torch (its memory budget is 512 MB,
    and a CUDA build maps gigabytes at import)."""
    flat = np.concatenate([np.ravel(g) for gl in grads for g in gl]).astype(np.float64)
    factor = min(1.0, max_norm / (float(np.linalg.norm(flat)) + 1e-6))
    return [tuple(np.asarray(g, dtype=np.float64) * factor for g in gl) for gl in grads]


def epoch_twins(layers, batches, lr, clip=None):
    """(final parameters, mean loss) of one SGD epoch, done right and with classic slips."""
    right, stale, acc = list(layers), list(layers), None
    losses, sizes = [], []
    for x, y in batches:
        losses.append(rnn_loss(right, x, y)[0])
        sizes.append(len(x))
        g = rnn_grads(right, x, y)
        g = clipped(g, clip) if clip is not None else g
        right = sgd(right, g, lr)
        g_stale = rnn_grads(stale, x, y)
        acc = g_stale if acc is None else [tuple(a + b for a, b in zip(ga, gb, strict=True))
                                           for ga, gb in zip(acc, g_stale, strict=True)]
        stale = sgd(stale, acc, lr)
    weighted = float(np.dot(losses, sizes) / np.sum(sizes))
    return {"right": right, "no_zero_grad": stale, "mean": weighted,
            "unweighted": float(np.mean(losses)), "losses": losses}


def same_layers(a, b, tol=1e-8):
    """Do two lists of per-layer parameter tuples agree to `tol`?"""
    return all(np.allclose(p, q, atol=tol, rtol=0) for la, lb in zip(a, b, strict=True)
               for p, q in zip(la, lb, strict=True))


def train_case(tt, seed, sizes=(3, 2, 1), d=2, h=3, t=4, dtype=np.float64):
    """A test's nn.RNN, batches (n, t, d) -> (n, t, h) of the given sizes as NumPy
    arrays, and the same as a loader of tensors in `dtype`."""
    gen = rng(seed)
    batches = [(gen.standard_normal((n, t, d)), 0.5 * gen.standard_normal((n, t, h)))
               for n in sizes]
    model = own_rnn(tt, d, h)
    loader = [(as_tensor(tt, x.astype(dtype)), as_tensor(tt, y.astype(dtype))) for x, y in batches]
    return model, batches, loader


def check_epoch(ex04, tt, clip, what):
    """One train_epoch over batches of 3, 2, 1 against SGD done right (and with the
    classic slips, to name one): the parameters, the returned mean loss, train mode."""
    model, batches, loader = train_case(tt, 405 if clip is None else 406)
    start = rnn_layers(model, 1, "the test's nn.RNN")
    lr = 0.5
    twins = epoch_twins(start, batches, lr, clip)
    optimizer = tt.optim.SGD(model.parameters(), lr=lr)
    kwargs = {} if clip is None else {"clip": clip}
    got = call("train_epoch", lambda: ex04.train_epoch(model, loader, optimizer,
                                                        tt.nn.MSELoss(), **kwargs))
    loss = scalar(got, f"train_epoch {what} (its return value)")
    after = rnn_layers(model, 1, "the test's nn.RNN")
    if same_layers(after, start, 1e-12):
        raise AssertionError(f"train_epoch {what}: the parameters did not change. backward() "
                             "only computes gradients." + explain("optimizer-step"))
    if not same_layers(after, twins["right"]):
        if same_layers(after, twins["no_zero_grad"]):
            hint = ("The parameters match steps whose gradients kept every earlier batch's "
                    "too." + explain("zero-grad"))
        elif clip is not None and same_layers(after, epoch_twins(start, batches, lr)["right"]):
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


def inference_tensors(tt, arrays):
    """Tensors made in inference mode: autograd refuses to keep them for a backward pass,
    so they show whether a computation that uses them runs with gradient tracking on."""
    make = tt.inference_mode()(tt.tensor)
    return [make(np.asarray(a)) for a in arrays]


def grammar_text(rng, n_chars):
    """Text with structure a small model learns fast: words from a little grammar."""
    subjects, verbs, things = ["the cat", "a dog", "my bird"], ["sees", "eats", "wants"], [
        "the fish", "a bone", "some seed"]
    parts = []
    while sum(map(len, parts)) < n_chars:
        parts.append(f"{subjects[rng.integers(3)]} {verbs[rng.integers(3)]} "
                     f"{things[rng.integers(3)]}.\n")
    return "".join(parts)


def heldout_loss(tt, model, vocab, text):
    """The test's own measure: mean cross-entropy of the model on `text`, from a zero state."""
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text])
    logits, _ = run(model, "CharRNN", as_tensor(tt, ids[None, :-1]))
    # Computed here, from the logits alone: no function of the student's process (which
    # could patch torch's) measures the model it trained.
    z = as_numpy(logits, "CharRNN logits")[0].astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(ids) - 1), ids[1:]].mean())


# ---------------------------------------------------------------------------------------
# The checks of the tests, in the order of the points table
# ---------------------------------------------------------------------------------------


def check_dataset_item(n, item, X, y):
    """len(dataset) = 5 and dataset[3] = (X[3] in its dtype, y[3] as a 0-d integer)."""
    if n != 5:
        raise AssertionError(f"len(SequenceDataset(X, y)) = {n}, expected 5 (one per example)."
                             + explain("dataset-protocol"))
    x3, y3 = as_numpy(item[0], "dataset[3][0]"), as_numpy(item[1], "dataset[3][1]")
    assert_close(x3, X[3], what="SequenceDataset[3][0] (X[3], float64)", atol=0, rtol=0,
                 hint="Keep your own copy of the data, in its dtype: later changes to X must "
                 "not reach the dataset." + explain("dataset-protocol"))
    if y3.shape != () or int(y3) != int(y[3]) or not np.issubdtype(y3.dtype, np.integer):
        raise AssertionError(f"SequenceDataset[3][1]: expected y[3] = {int(y[3])} as a 0-d "
                             f"integer tensor, got dtype {y3.dtype} shape {y3.shape}."
                             + explain("dataset-protocol"))


def check_plain_batches(plain, X):
    """make_loader(7 examples, batch_size=3, shuffle=False): sizes 3, 3, 1, in X's order."""
    sizes = [len(b[1]) for b in plain]
    if sizes != [3, 3, 1]:
        raise AssertionError(f"make_loader(7 examples, batch_size=3): batch sizes {sizes}, "
                             "expected [3, 3, 1] (the last batch holds what is left).")
    if np.concatenate([b[1] for b in plain]).tolist() != list(range(7)):
        raise AssertionError("make_loader(shuffle=False): the examples must come in the order "
                             "of X.")
    assert_close(plain[1][0], X[3:6], what="make_loader batch 1 x", atol=0, rtol=0)


def order_of(tt, loader, what):
    """The example indices (y = arange) one pass over `loader` gives, in order."""
    return np.concatenate([b[1] for b in loader_batches(tt, loader, what)])


def check_shuffled(first, second, again):
    """Two epochs of a shuffling loader and a fresh one with the same seed: each epoch a
    permutation, not always the identity, the same for the same seed."""
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


def check_stream(got, L, seq_len, B):
    """stream_loader over arange(L): K = S // seq_len batches (B, seq_len) with S = (L-1)//B,
    targets one step on, row b of batch k continuing row b of batch k-1 from b * S."""
    S = (L - 1) // B
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


def check_model_shapes(out, h_n, layers, n, t):
    """out (n, t, V) and h_n (layers, n, H), with the two classic wrong layouts named."""
    out, h_n = as_numpy(out, "RNNModel out"), as_numpy(h_n, "RNNModel h_n")
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


def expected_outputs(model, layers, x, h0):
    """What nn.RNN's and nn.Linear's formulas give on the model's own parameters: the
    readout W, b, the top layer's outputs (N, T, H) and h_n from h0 and from zeros."""
    rnn_params = rnn_layers(model.rnn, layers, "RNNModel.rnn")
    W, b = as_numpy(model.fc.weight, "RNNModel.fc.weight"), as_numpy(model.fc.bias,
                                                                     "RNNModel.fc.bias")
    top, finals = torch_rnn_forward(rnn_params, x, h0)
    return W, b, top, finals, torch_rnn_forward(rnn_params, x)[0]


def check_model_values(out, h_n, expected):
    """out = fc(top layer's outputs) at every step and h_n = every layer's last state,
    from h0 (`expected` from expected_outputs)."""
    W, b, top, finals, zero_top = expected
    out, h_n = as_numpy(out, "RNNModel out"), as_numpy(h_n, "RNNModel h_n")
    check_array(out, (N, T, V), what="RNNModel out (float64 model)")
    if np.allclose(out, linear(W, b, zero_top), atol=1e-10):
        raise AssertionError("RNNModel out: equals the output from a zero initial state; the "
                             "h0 you were given was not used." + explain("h0-layout"))
    if out.shape == (N, T, V) and np.allclose(out[:, -1], linear(W, b, finals[-1]), atol=1e-10) \
            and not np.allclose(out, linear(W, b, top), atol=1e-10):
        hint = "Only the last step is right: the readout applies at every step."
    else:
        hint = ("out = fc(outputs of the top layer at every step); the outputs of layer k are "
                "the inputs of layer k+1 (guide: \"nn.RNN in its own notation\").")
    assert_close(out, linear(W, b, top), what="RNNModel out", atol=1e-10, rtol=1e-8, hint=hint)
    assert_close(h_n, finals, what="RNNModel h_n", atol=1e-10, rtol=1e-8,
                 hint="h_n holds every layer's state after the last step." + explain("h0-layout"))


def check_loaded(model, params, keep):
    """load_numpy_params left `params` as it was and made the model float64."""
    for k in KEYS:
        if not np.array_equal(params[k], keep[k]):
            raise AssertionError(f"load_numpy_params changed params[{k!r}]."
                                 + explain("mutates-input"))
    sizes = {name: p.element_size() for name, p in
             (("rnn.weight_ih_l0", model.rnn.weight_ih_l0), ("fc.weight", model.fc.weight))}
    if any(size != 8 for size in sizes.values()):
        raise AssertionError(f"load_numpy_params: the model's parameters are not float64 "
                             f"(bytes per entry: {sizes})." + explain("torch-default-float32"))


def _agrees_without_wh(ex04, tt, params, x, h0) -> bool:
    """Does a model loaded with Wh = 0 give Exercise 1's scores (saved)? (Isolates the h
    term.)"""
    zero = dict(copy(params), Wh=np.zeros_like(params["Wh"]))
    try:
        model = ex04.RNNModel(*params["Wx"].shape, params["Wy"].shape[1])
        ex04.load_numpy_params(model, copy(zero))
        out = as_numpy(model(as_tensor(tt, x), as_tensor(tt, h0[None]))[0], "scores")
    except Exception:  # noqa: BLE001 - a diagnosis only; the main check reports errors
        return False
    return out.shape == (x.shape[0], x.shape[1], params["Wy"].shape[1]) and np.allclose(
        out, saved("load403_scores_no_wh"), atol=1e-10)


def load_hint(ex04, tt, model, out, keep, x, h0):
    """Why the scores after load_numpy_params differ from Exercise 1's: the two biases, the
    h term (a model loaded with Wh = 0 agrees) or the weights' layout."""
    scores = saved("load403_scores")
    if out.shape != scores.shape or np.allclose(out, scores, atol=1e-10):
        return ""
    rnn = rnn_layers(model.rnn, 1, "RNNModel.rnn")[0]
    if not np.allclose(rnn[2] + rnn[3], keep["b"], atol=1e-12):
        return ("Your model adds the biases bias_ih_l0 + bias_hh_l0, which do not add up "
                "to b." + explain("torch-two-biases"))
    if _agrees_without_wh(ex04, tt, keep, x, h0):
        return ("With Wh = 0 your model agrees with Exercise 1, so the x term, the biases "
                "and the readout are right: the h_{t-1} term is not."
                + explain("torch-weight-layout"))
    return explain("torch-weight-layout")


def loss_hint(value, want):
    """The loss of torch_loss_and_grads a sum instead of a mean, or another cause."""
    if any(np.isclose(value, want * k, rtol=1e-9) for k in (N, T, N * T)):
        return ("It is the mean cross-entropy times N, T or N*T: average over every one of "
                "the N*T positions." + explain("ce-class-axis"))
    return ("The model comes from load_numpy_params: if its test fails, fix that first; "
            "the loss is the mean cross-entropy over all N*T positions.")


def check_ex01_grads(grads, keep):
    """Each gradient equals the saved centered differences of Exercise 1's loss, in the
    layout of its parameter; twice db (both biases) and a transpose are named."""
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        raise AssertionError(f"torch_loss_and_grads grads: expected a dict with keys {list(KEYS)}"
                             f", got {sorted(grads) if isinstance(grads, dict) else kind(grads)}.")
    for k in KEYS:
        numeric = saved(f"loss404_numeric_{k}")
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


def check_evaluate(first, second, losses, model, layers):
    """Two calls agree (eval mode), the loss is the per-example mean of `losses` (batches
    of 3 and 1), and the model is untouched, with no gradients left."""
    if first != second:
        raise AssertionError(f"evaluate: two calls on the same data gave {first:.6g} and "
                             f"{second:.6g}: dropout was active." + explain("eval-mode"))
    hint = explain("eval-mode")
    if np.isclose(first, np.mean(losses), rtol=1e-9):
        hint = "This is the plain mean of the batch losses." + explain("loss-batch-weighting")
    close_scalar(first, (3 * losses[0] + losses[1]) / 4, what="evaluate: mean loss", hint=hint)
    if not same_layers(rnn_layers(model, 2, "the test's nn.RNN"), layers, 0.0):
        raise AssertionError("evaluate changed the model's parameters.")
    if model.weight_ih_l0.grad is not None:
        raise AssertionError("evaluate left gradients in the parameters' .grad: it ran "
                             "backward()." + explain("no-grad-eval"))


def check_first_tbptt_step(loss1, h1, want, model, theta0, layers):
    """tbptt_step from a zero state: its loss and h_n (`want` = rnn_loss of theta0), h_next
    detached, the parameters stepped. Returns them, as NumPy arrays."""
    want1, finals1 = want
    close_scalar(loss1, want1, what="tbptt_step loss (first batch, zero state)")
    assert_close(as_numpy(h1, "tbptt_step h_next"), finals1, what="tbptt_step h_next", atol=1e-10,
                 rtol=1e-8, hint="The state to carry is h_n, (num_layers, N, H), computed "
                 "before the step." + explain("tbptt-carry"))
    if h1.grad_fn is not None or h1.requires_grad:
        raise AssertionError("tbptt_step h_next: it still has a grad_fn, so it is part of the "
                             "first batch's graph." + explain("tbptt-detach"))
    theta1 = rnn_layers(model, layers, "the test's nn.RNN")
    if same_layers(theta1, theta0, 1e-12):
        raise AssertionError("tbptt_step: the parameters did not change." +
                             explain("optimizer-step"))
    return theta1


def check_second_tbptt_step(loss2, model, theta1, batch, finals1, lr, layers):
    """tbptt_step from the carried state finals1: not the zero-state loss, the loss from
    finals1, and one SGD step from that batch's gradient alone."""
    x2, y2 = batch
    want2, _ = rnn_loss(theta1, x2, y2, finals1)
    if np.isclose(scalar(loss2, "tbptt_step loss"), rnn_loss(theta1, x2, y2)[0], rtol=1e-9):
        raise AssertionError("tbptt_step (second batch): the loss is that of a zero initial "
                             "state; run the model from the h you are given."
                             + explain("tbptt-carry"))
    close_scalar(loss2, want2, what="tbptt_step loss (second batch, carried state)")
    theta2 = sgd(theta1, rnn_grads(theta1, x2, y2, finals1), lr)
    if not same_layers(rnn_layers(model, layers, "the test's nn.RNN"), theta2):
        raise AssertionError("tbptt_step (second batch): the parameters after the step differ "
                             "from one SGD step with this batch's gradient, from the carried "
                             "state (gradients of earlier batches left in .grad?)."
                             + explain("zero-grad"))


def stateful_epoch(theta, batches, lr, carry):
    """(parameters, mean loss) after one SGD epoch over `batches`, the state carried from
    batch to batch (carry) or zero at each."""
    state, losses = None, []
    for x, y in batches:
        loss, finals = rnn_loss(theta, x, y, state)
        losses.append(loss)
        theta = sgd(theta, rnn_grads(theta, x, y, state), lr)
        state = finals if carry else None
    return theta, float(np.mean(losses))


def check_comparison(rows, sizes):
    """compare_numpy_torch: one dict per size, its keys, positive times, speedup =
    numpy_ms / torch_ms, both sides agreeing to float64 precision."""
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


def comparison_rows():
    """Three rows as compare_numpy_torch returns them, with made-up times."""
    rows = [{"N": 8, "T": 16, "D": 32, "H": 32, "numpy_ms": 1.5, "torch_ms": 3.0},
            {"N": 32, "T": 64, "D": 64, "H": 64, "numpy_ms": 9.0, "torch_ms": 6.0},
            {"N": 32, "T": 64, "D": 128, "H": 128, "numpy_ms": 30.0, "torch_ms": 12.0}]
    for r in rows:
        r.update(speedup=r["numpy_ms"] / r["torch_ms"], loss_diff=0.0, grad_diff=0.0, threads=1)
    return rows


def check_comparison_axes(info):
    """An axes of the figure shows both lines (y = numpy_ms and torch_ms of the rows of
    comparison_rows), labelled, with a legend of two, on a log scale."""
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


def check_no_epochs(history):
    """train_char_model(epochs=0): history with epochs 0 and empty loss lists."""
    if not isinstance(history, dict) or [len(history.get(k, [None])) for k in
                                         ("train_loss", "val_loss")] != [0, 0] \
            or history.get("epochs") != 0:
        raise AssertionError("train_char_model(epochs=0): expected history with epochs 0 and "
                             "empty train_loss and val_loss (one entry per epoch, none run).")


def check_char_history(history, text, model):
    """train_char_model's history has its keys and the text's vocabulary; the model is a
    two-layer CharRNN with one embedding row per character."""
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


def unigram_loss(text, vocab, heldout):
    """Nats per character on `heldout` of the character frequencies of `text`."""
    counts = np.array([text.count(c) for c in vocab], dtype=np.float64)
    p = counts / counts.sum()
    return float(-np.mean(np.log(p[[vocab.index(c) for c in heldout[1:]]])))


def check_beats_unigram(got, unigram, history):
    """The trained model's held-out loss `got` is at least 0.5 below the unigram's."""
    if not got < unigram - 0.5:
        raise AssertionError(
            f"train_char_model: on held-out text of the same kind the model scores {got:.3f} "
            f"nats per character; the unigram baseline scores {unigram:.3f}, and a model that "
            f"learned should be at least 0.5 below it (your history: train "
            f"{[round(float(v), 3) for v in history['train_loss']]}). Check train_epoch's "
            "test first, then that each epoch trains on shuffled windows with Adam.")
