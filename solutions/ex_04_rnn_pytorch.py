"""Exercise 4: recurrent networks in PyTorch.

You rebuild Exercise 1's RNN with ``torch.nn``, show that the two compute the same function
(forward pass and gradients, to float64 precision), write the training and evaluation loops
PyTorch code is made of (datasets, loaders, ``zero_grad``/``backward``/``step``, clipping,
evaluation mode, truncated BPTT with a carried state), time NumPy against PyTorch, and train
a task harder than Exercises 1-3: a two-layer character model with an embedding, on the
corpus in ``data/``.

Conventions used everywhere in this file:

* batch-first tensors: inputs ``x`` are ``(N, T, D)`` (or ``(N, T)`` integer indices for the
  character model), model outputs ``(N, T, output_size)``; hidden states ``h0`` and ``h_n``
  are ``(num_layers, N, H)``, as ``nn.RNN`` wants them;
* NumPy parameter dicts are Exercise 1's: ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``,
  ``Wy (H, V)``, ``by (V,)`` for row vectors, ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``;
* modules start from PyTorch's default initialisation; randomness that a function uses
  comes from its ``seed`` argument (a ``torch.Generator``), not the global generator;
* no function modifies its input arrays or tensors;
* a bad argument raises ``ValueError`` with a message naming the argument.

Run ``python ex_04_rnn_pytorch.py`` for the demo: the NumPy-vs-PyTorch table (agreement and
speed) and its plot, then the character model trained for a bounded time against two count
baselines, with samples; figures go to ``figures/`` in the current folder (``--out DIR``
for another). ``make check`` runs the tests. The guide (``guides/rnn_guide.md``, section "RNNs
in PyTorch") explains every idea used here; the docstrings name the part to read.
"""

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

PARAM_KEYS = ("Wx", "Wh", "b", "Wy", "by")
CORPUS = Path(__file__).resolve().parent.parent / "data" / "sonnets.txt"


# ---------------------------------------------------------------------------------------
# Given helpers (already complete)
# ---------------------------------------------------------------------------------------


def check_shape(name, array, shape, dims=""):
    """Raise ``ValueError`` unless ``array`` has ``shape``; ``None`` in ``shape`` matches any size.

    Works for NumPy arrays and tensors. ``dims`` names the expected axes for the message,
    e.g. ``check_shape("h0", h0, (L, N, H), "(num_layers, N, H)")``.
    """
    got = tuple(np.shape(array)) if not isinstance(array, torch.Tensor) else tuple(array.shape)
    ok = len(got) == len(shape) and all(
        w is None or g == w for g, w in zip(got, shape, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("?" if w is None else str(w) for w in shape)
        want += ",)" if len(shape) == 1 else ")"
        prefix = f"{dims} = " if dims else ""
        raise ValueError(f"{name} has shape {got}, expected {prefix}{want}")


def check_int(name, value, minimum=1):
    """``value`` as an int; ``ValueError`` naming ``name`` unless it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def to_numpy(tensor):
    """A NumPy copy of ``tensor`` (detached from autograd, moved to the CPU)."""
    return tensor.detach().cpu().numpy().copy()


def outputs_for_targets(out, y):
    """Pair a model's outputs ``out (N, T, K)`` with a batch's targets ``y`` for ``loss_fn``.

    * integer ``y (N, T)``: a class at every step (character model). PyTorch's
      cross-entropy wants the classes on axis 1, so both are flattened over the positions:
      ``out (N*T, K)`` and ``y (N*T,)``; the mean is then over all N*T positions;
    * floating ``y (N, T, K)``, shaped like ``out``: a target at every step;
    * floating ``y (N, K)``: one target per sequence (many-to-one), compared with the
      output of the last step, ``out[:, -1]``.

    Returns ``(prediction, target)``; raises ``ValueError`` when ``y`` fits none of these.
    """
    if y.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8) and y.dim() == 2 \
            and tuple(y.shape) == tuple(out.shape[:2]):
        return out.reshape(-1, out.shape[-1]), y.reshape(-1).long()
    if torch.is_floating_point(y) and tuple(y.shape) == tuple(out.shape):
        return out, y
    if torch.is_floating_point(y) and y.dim() == 2 and tuple(y.shape) == (
            out.shape[0], out.shape[-1]):
        return out[:, -1], y
    raise ValueError(f"y of shape {tuple(y.shape)} and dtype {y.dtype} fits no use of outputs "
                     f"of shape {tuple(out.shape)}: integer (N, T), or float (N, T, K) or (N, K)")


def char_vocab(text):
    """``(chars, char_to_ix)``: the sorted distinct characters of ``text`` as one string, and
    the index of each (Exercise 3's vocabulary)."""
    chars = "".join(sorted(set(text)))
    return chars, {c: i for i, c in enumerate(chars)}


def baseline_losses(train_ids, val_ids, vocab_size):
    """Cross-entropy in nats per character on ``val_ids`` of two count models fitted on
    ``train_ids`` with add-one smoothing: ``{"unigram": ..., "bigram": ...}``.

    The unigram model ignores context; the bigram model sees the previous character only.
    A sequence model is worth its cost when it beats both.
    """
    train_ids, val_ids = np.asarray(train_ids), np.asarray(val_ids)
    V = int(vocab_size)
    uni = np.bincount(train_ids, minlength=V) + 1.0
    uni_logp = np.log(uni / uni.sum())
    big = np.ones((V, V))
    np.add.at(big, (train_ids[:-1], train_ids[1:]), 1.0)
    big_logp = np.log(big / big.sum(axis=1, keepdims=True))
    return {"unigram": float(-uni_logp[val_ids].mean()),
            "bigram": float(-big_logp[val_ids[:-1], val_ids[1:]].mean())}


def sample_text(model, chars, prompt, n, temperature=1.0, seed=0):
    """``n`` characters drawn from ``model`` (a ``CharRNN``) after reading ``prompt``.

    Each step feeds the last character and the carried state, divides the logits by
    ``temperature`` and draws from the softmax with a ``torch.Generator`` seeded by ``seed``
    (Exercise 3 explains temperature). Returns the sampled text, prompt not included.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    index = {c: i for i, c in enumerate(chars)}
    unknown = sorted(set(prompt) - set(index))
    if not prompt or unknown:
        raise ValueError(f"prompt must be non-empty and use the model's characters; unknown: "
                         f"{unknown}")
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(int(seed))
    was_training = model.training
    model.eval()
    out_chars = []
    with torch.no_grad():
        x = torch.tensor([[index[c] for c in prompt]], device=device)
        logits, h = model(x)
        for _ in range(n):
            probs = torch.softmax(logits[0, -1].double().cpu() / temperature, dim=0)
            ix = int(torch.multinomial(probs, 1, generator=gen))
            out_chars.append(chars[ix])
            logits, h = model(torch.tensor([[ix]], device=device), h)
    model.train(was_training)
    return "".join(out_chars)


def plot_char_training(history, path):
    """Save the character model's training and validation losses per epoch, with the two
    baselines as horizontal lines; returns the ``Figure``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    ax.plot(epochs, history["train_loss"], marker=".", label="training windows")
    ax.plot(epochs, history["val_loss"], marker=".", label="validation text")
    ax.axhline(history["unigram"], color="grey", linestyle="--", label="unigram baseline")
    ax.axhline(history["bigram"], color="black", linestyle=":", label="bigram baseline")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Two-layer character RNN with an embedding")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return fig


# ---------------------------------------------------------------------------------------
# Part 1: devices, datasets and loaders
# ---------------------------------------------------------------------------------------


def select_device(device=None):
    """The ``torch.device`` to compute on.

    ``device=None`` picks CUDA when PyTorch can use a GPU here, otherwise the CPU; a name
    (``"cpu"``, ``"cuda"``, ``"cuda:0"``) or a ``torch.device`` asks for that device.
    Raise ``ValueError`` naming ``device`` for a name PyTorch does not know, for a device
    other than a CPU or a CUDA GPU, and for CUDA when none is available.
    # BEGIN CONCEPT
    PyTorch can tell you whether it sees a GPU (guide: "Datasets, loaders and devices").
    # END CONCEPT
    # BEGIN FULL
    ``torch.cuda.is_available()``; ``torch.device(name)`` raises ``RuntimeError`` for an
    unknown name.
    # END FULL
    """
    # BEGIN SOLUTION
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        found = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device {device!r} is not a device name such as 'cpu' or 'cuda'"
                         ) from None
    if found.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: only 'cpu' and 'cuda' are supported")
    if found.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA was asked for, but PyTorch sees no GPU here")
    return found
    # END SOLUTION


def _copied_tensor(a):
    """``a`` (array, list or tensor) as a new tensor that shares no memory with it."""
    if isinstance(a, torch.Tensor):
        return a.detach().clone()
    return torch.tensor(np.asarray(a))


class SequenceDataset(Dataset):
    """Examples ``(X[i], y[i])`` for a ``DataLoader``: a map-style ``torch`` dataset.

    ``X`` and ``y`` are arrays or tensors with the same first size ``N >= 1`` (e.g. windows
    ``X (N, T, D)`` and targets ``y (N, K)``, or character indices ``X (N, T)`` and
    ``y (N, T)``). The dataset keeps its own tensor copies (the dtype of the data: float64
    arrays give float64 tensors, integer arrays int64 ones), so later changes to ``X`` or
    ``y`` do not reach it. ``len(ds)`` is ``N`` and ``ds[i]`` is the pair of tensors
    ``(X[i], y[i])``. Raise ``ValueError`` naming ``X`` or ``y`` when their first sizes
    differ or ``X`` holds no example.
    # BEGIN CONCEPT
    A ``DataLoader`` needs two things from a dataset: its length and the i-th example
    (guide: "Datasets, loaders and devices").
    # END CONCEPT
    """

    def __init__(self, X, y):
        # BEGIN SOLUTION
        X, y = _copied_tensor(X), _copied_tensor(y)
        if X.dim() == 0 or X.shape[0] == 0:
            raise ValueError("X holds no example (its first size must be N >= 1)")
        if y.dim() == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have one entry per example of X: X has {X.shape[0]}, "
                             f"y has shape {tuple(y.shape)}")
        self.X, self.y = X, y
        # END SOLUTION

    def __len__(self):
        # BEGIN SOLUTION
        return self.X.shape[0]
        # END SOLUTION

    def __getitem__(self, i):
        # BEGIN SOLUTION
        return self.X[i], self.y[i]
        # END SOLUTION


def make_loader(X, y, batch_size, shuffle=True, seed=0):
    """A ``DataLoader`` over ``SequenceDataset(X, y)`` in batches of ``batch_size``.

    Independent examples (windows of a series, windows of text trained from a zero state)
    are best seen in a new order every epoch: with ``shuffle=True`` the order is drawn from a
    ``torch.Generator`` seeded by ``seed``, never from torch's global generator, so the same
    seed gives the same epochs whatever else draws random numbers. ``shuffle=False`` keeps the
    order of ``X``. The last batch holds what is left (it may be smaller). Raise
    ``ValueError`` naming ``batch_size`` unless it is an integer >= 1.
    # BEGIN CONCEPT
    (guide: "Datasets, loaders and devices").
    # END CONCEPT
    # BEGIN FULL
    ``DataLoader(dataset, batch_size=..., shuffle=..., generator=...)`` with
    ``torch.Generator().manual_seed(seed)``.
    # END FULL
    """
    # BEGIN SOLUTION
    batch_size = check_int("batch_size", batch_size)
    generator = torch.Generator().manual_seed(int(seed)) if shuffle else None
    return DataLoader(SequenceDataset(X, y), batch_size=batch_size, shuffle=bool(shuffle),
                      generator=generator)
    # END SOLUTION


def stream_loader(data, seq_len, batch_size):
    """An ordered loader for stateful training: batch k continues batch k-1, row by row.

    ``data`` is a 1-D sequence of ``L`` values (e.g. character indices). Cut it into
    ``batch_size`` contiguous streams of ``S = (L - 1) // batch_size`` steps each (stream
    ``b`` starts at ``b * S``), and each stream into ``K = S // seq_len`` chunks of
    ``seq_len`` steps. Batch ``k`` is ``(inputs, targets)``, both ``(batch_size, seq_len)``:
    row ``b`` holds chunk ``k`` of stream ``b``, and the targets are the values one step
    later (``targets[b, j]`` follows ``inputs[b, j]`` in ``data``). So row ``b`` of batch
    ``k`` continues row ``b`` of batch ``k - 1``, and a hidden state carried from batch to
    batch makes sense. Returns a ``DataLoader`` of the ``K`` batches, in order (integer
    data gives int64 tensors). Raise ``ValueError`` naming the argument when ``data`` is
    not 1-D, when ``seq_len`` or ``batch_size`` is not an integer >= 1, or when ``data`` is
    too short for one batch (it needs ``batch_size * seq_len + 1`` values).
    # BEGIN CONCEPT
    Think of which example must come where so that a loader that does not shuffle hands
    out the chunks in this order (guide: "Truncated BPTT in PyTorch").
    # END CONCEPT
    # BEGIN FULL
    Build ``(batch_size, K * seq_len)`` inputs and targets, split them into ``K`` chunks and
    order the examples chunk-major: example ``k * batch_size + b`` is row ``b`` of chunk
    ``k``; then ``make_loader(..., shuffle=False)`` with ``batch_size``.
    # END FULL
    """
    # BEGIN SOLUTION
    data = np.asarray(data)
    if data.ndim != 1:
        raise ValueError(f"data must be 1-D (a sequence of values), got shape {data.shape}")
    seq_len = check_int("seq_len", seq_len)
    batch_size = check_int("batch_size", batch_size)
    S = (len(data) - 1) // batch_size
    K = S // seq_len
    if K < 1:
        raise ValueError(f"data has {len(data)} values; one batch of {batch_size} x {seq_len} "
                         f"needs at least {batch_size * seq_len + 1}")
    starts = np.arange(batch_size) * S
    steps = np.arange(K * seq_len)
    inputs = data[starts[:, None] + steps]
    targets = data[starts[:, None] + steps + 1]

    def chunk_major(a):
        return a.reshape(batch_size, K, seq_len).transpose(1, 0, 2).reshape(K * batch_size,
                                                                             seq_len)

    return make_loader(chunk_major(inputs), chunk_major(targets), batch_size, shuffle=False)
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 2: the model, and agreement with Exercise 1
# ---------------------------------------------------------------------------------------


class RNNModel(nn.Module):
    """A tanh RNN (``nn.RNN``) with a linear readout (``nn.Linear``) at every step.

    ``RNNModel(input_size, hidden_size, output_size, num_layers=1, dropout=0.0)`` has two
    parts, under these names: ``self.rnn``, an ``nn.RNN`` with ``num_layers`` stacked layers
    (``dropout`` between layers, as ``nn.RNN`` applies it) that reads batch-first inputs
    ``(N, T, input_size)``, and ``self.fc``, an ``nn.Linear(hidden_size, output_size)``.
    Raise ``ValueError`` naming the size that is not an integer >= 1.

    ``forward(x, h0=None)`` returns ``(out, h_n)``: ``out (N, T, output_size)``, the readout
    of the top layer's state at every step, and ``h_n (num_layers, N, hidden_size)``, every
    layer's state after the last step. ``h0`` is ``None`` (zeros) or
    ``(num_layers, N, hidden_size)``. Raise ``ValueError`` naming ``x`` or ``h0`` when its
    shape does not fit.
    # BEGIN CONCEPT
    Read the shapes ``nn.RNN`` expects and returns in its documentation (or guide: "nn.RNN
    in its own notation"): which axis is time by default, and which arguments change that?
    Are ``h0`` and ``h_n`` affected too?
    # END CONCEPT
    # BEGIN FULL
    ``nn.RNN(input_size, hidden_size, num_layers=..., batch_first=True, dropout=...)``:
    ``batch_first`` makes ``x`` and the outputs ``(N, T, .)``, but ``h0`` and ``h_n`` stay
    ``(num_layers, N, H)``. ``nn.Linear`` acts on the last axis, so it applies to every step.
    # END FULL
    """

    def __init__(self, input_size, hidden_size, output_size, num_layers=1, dropout=0.0):
        super().__init__()
        # BEGIN SOLUTION
        sizes = {"input_size": input_size, "hidden_size": hidden_size,
                 "output_size": output_size, "num_layers": num_layers}
        sizes = {name: check_int(name, value) for name, value in sizes.items()}
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.rnn = nn.RNN(sizes["input_size"], sizes["hidden_size"],
                          num_layers=sizes["num_layers"], nonlinearity="tanh",
                          batch_first=True, dropout=float(dropout) if num_layers > 1 else 0.0)
        self.fc = nn.Linear(sizes["hidden_size"], sizes["output_size"])
        # END SOLUTION

    def forward(self, x, h0=None):
        # BEGIN SOLUTION
        check_shape("x", x, (None, None, self.rnn.input_size), "(N, T, input_size)")
        if h0 is not None:
            check_shape("h0", h0, (self.rnn.num_layers, x.shape[0], self.rnn.hidden_size),
                        "(num_layers, N, hidden_size)")
        out, h_n = self.rnn(x, h0)
        return self.fc(out), h_n
        # END SOLUTION


def load_numpy_params(model, params):
    """Copy Exercise 1's parameters into a one-layer ``RNNModel`` so that both compute the
    same function, and return ``model``.

    ``params`` holds ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``, ``Wy (H, V)``, ``by (V,)`` for
    Exercise 1's row-vector model ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``,
    ``s_t = h_t @ Wy + by``; ``model`` is an ``RNNModel(D, H, V)`` with one layer. Afterwards
    the model is float64 and, from the same ``x`` and initial state, gives Exercise 1's
    states and scores to float64 precision (about 1e-12). The model's parameters must be
    copies: later changes to ``params`` do not reach the model, nor the other way round.
    Do not modify ``params``. Raise ``ValueError`` naming ``params`` when a key is missing
    or a shape does not fit the model, and naming ``model`` when it has more than one layer.
    # BEGIN CONCEPT
    Write ``nn.RNN``'s step and ``nn.Linear`` in PyTorch's notation (guide: "nn.RNN in its
    own notation") next to Exercise 1's and work out, weight by weight and bias by bias,
    what each PyTorch parameter must hold; mind that PyTorch has one more bias than
    Exercise 1. Change parameters in place under ``torch.no_grad()``.
    # END CONCEPT
    # BEGIN FULL
    PyTorch multiplies column vectors: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``
    with ``W_ih (H, D)``. So ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``,
    ``bias_ih_l0 = b``, ``bias_hh_l0 = 0`` (the two biases add up), ``fc.weight = Wy.T``,
    ``fc.bias = by``; first ``model.double()``, then ``param.copy_(torch.from_numpy(...))``
    inside ``with torch.no_grad():``.
    # END FULL
    """
    # BEGIN SOLUTION
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}")
    rnn = model.rnn
    if rnn.num_layers != 1:
        raise ValueError(f"model must have one layer to take Exercise 1's parameters, it has "
                         f"{rnn.num_layers}")
    D, H, V = rnn.input_size, rnn.hidden_size, model.fc.out_features
    expected = {"Wx": (D, H), "Wh": (H, H), "b": (H,), "Wy": (H, V), "by": (V,)}
    for key, shape in expected.items():
        check_shape(f"params[{key!r}]", params[key], shape, f"the model's {shape}")
    model.double()
    device = rnn.weight_ih_l0.device
    with torch.no_grad():
        for param, value in ((rnn.weight_ih_l0, params["Wx"].T), (rnn.weight_hh_l0, params["Wh"].T),
                             (rnn.bias_ih_l0, params["b"]), (model.fc.weight, params["Wy"].T),
                             (model.fc.bias, params["by"])):
            param.copy_(torch.tensor(np.asarray(value, dtype=np.float64), device=device))
        rnn.bias_hh_l0.zero_()
    return model
    # END SOLUTION


def torch_loss_and_grads(params, x, y, h0=None):
    """Exercise 1's ``model_loss`` computed by PyTorch: ``(loss, grads, h_last)``.

    Build a one-layer ``RNNModel``, load ``params`` into it (``load_numpy_params``), run it
    on ``x (N, T, D)`` from ``h0 (N, H)`` (``None``: zeros) on the CPU in float64, take the
    mean softmax cross-entropy over all ``N*T`` positions against ``y`` (integers
    ``(N, T)``) and let autograd compute the gradients. Returns the loss as a float, a dict
    of float64 NumPy gradients with Exercise 1's keys AND shapes (``grads["Wx"]`` is
    ``(D, H)``, like ``params["Wx"]``), and the last hidden state ``(N, H)`` as a NumPy
    array, so each can be compared entry by entry with Exercise 1's ``model_loss``.
    Raise ``ValueError`` naming the argument whose shape does not fit.
    # BEGIN CONCEPT
    Two layouts meet here: Exercise 1's (``h0 (N, H)``, scores ``(N, T, V)``, weights for
    row vectors) and PyTorch's (``h0 (num_layers, N, H)``, cross-entropy with the classes on
    axis 1, weights for column vectors). A gradient has the layout of its parameter
    (guide: "nn.RNN in its own notation").
    # END CONCEPT
    # BEGIN FULL
    ``h0`` goes in as ``(1, N, H)``; ``F.cross_entropy(scores.reshape(N*T, V),
    y.reshape(N*T))``; after ``loss.backward()``, ``grads["Wx"] = weight_ih_l0.grad.T``,
    ``grads["Wh"] = weight_hh_l0.grad.T``, ``grads["b"] = bias_ih_l0.grad`` (not the sum of
    both biases' gradients: ``b`` is loaded into one of them), ``grads["Wy"] =
    fc.weight.grad.T``, ``grads["by"] = fc.bias.grad``, each converted with ``to_numpy``.
    # END FULL
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    check_shape("x", x, (None, None, None), "(N, T, D)")
    N, T, D = x.shape
    H, V = np.shape(params["Wh"])[0], np.shape(params["Wy"])[1]
    y = np.asarray(y)
    check_shape("y", y, (N, T), "(N, T)")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
    model = load_numpy_params(RNNModel(D, H, V), params)
    h_init = None
    if h0 is not None:
        check_shape("h0", h0, (N, H), "(N, H)")
        h_init = torch.tensor(np.asarray(h0, dtype=np.float64))[None]
    scores, h_n = model(torch.tensor(x), h_init)
    loss = nn.functional.cross_entropy(scores.reshape(N * T, V),
                                       torch.tensor(y, dtype=torch.int64).reshape(N * T))
    loss.backward()
    rnn = model.rnn
    grads = {"Wx": to_numpy(rnn.weight_ih_l0.grad).T, "Wh": to_numpy(rnn.weight_hh_l0.grad).T,
             "b": to_numpy(rnn.bias_ih_l0.grad), "Wy": to_numpy(model.fc.weight.grad).T,
             "by": to_numpy(model.fc.bias.grad)}
    return loss.item(), {k: np.ascontiguousarray(g) for k, g in grads.items()}, to_numpy(h_n[0])
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 3: training and evaluation loops
# ---------------------------------------------------------------------------------------


def to_model(model, tensor):
    """``tensor`` on ``model``'s device; floating tensors also take the model's dtype.

    Integer tensors (class or character indices) keep their integer dtype. The model's
    device and dtype are those of its first parameter. Returns a tensor (``tensor`` itself
    when nothing changes); ``tensor`` is not modified.
    # BEGIN CONCEPT
    A float64 model cannot multiply float32 inputs, and a GPU model cannot read a CPU tensor
    (guide: "A training epoch").
    # END CONCEPT
    # BEGIN FULL
    ``p = next(model.parameters())``; ``tensor.to(device=p.device, dtype=p.dtype)`` when
    ``torch.is_floating_point(tensor)``, else ``tensor.to(p.device)``.
    # END FULL
    """
    # BEGIN SOLUTION
    first = next(model.parameters())
    if torch.is_floating_point(tensor):
        return tensor.to(device=first.device, dtype=first.dtype)
    return tensor.to(first.device)
    # END SOLUTION


def _check_clip(clip):
    if clip is not None and not (isinstance(clip, (int, float, np.floating)) and clip > 0):
        raise ValueError(f"clip must be None or a number > 0, got {clip!r}")


def train_epoch(model, loader, optimizer, loss_fn, clip=None):
    """One pass over ``loader``, one optimizer step per batch; returns the epoch's mean loss.

    ``model(x)`` returns ``(out, h_n)`` (an ``RNNModel``, a ``CharRNN``, or any model that
    does); ``loader`` is any iterable of ``(x, y)`` batches (a ``DataLoader``, or a list of
    pairs); ``loss_fn(prediction, target)`` is a mean loss such as ``nn.MSELoss()``, applied
    to ``outputs_for_targets(out, y)``; ``clip`` is ``None`` or a limit on the global norm of
    all gradients (``nn.utils.clip_grad_norm_``). Every batch runs from a zero initial state
    and is first moved to the model's device and dtype (``to_model``).

    Returns the mean loss per example over the epoch, as a float: each batch's loss,
    measured before its step, weighted by the batch's number of examples. The model is left
    in training mode. Raise ``ValueError`` naming ``clip`` unless it is ``None`` or > 0, and
    naming ``loader`` when it yields no batch.
    # BEGIN CONCEPT
    What must happen to the gradients that the previous batch's ``backward()`` left in
    ``.grad`` before this batch's? Which of ``backward()``, clipping and ``step()`` reads
    what another one wrote, and so in which order must they come? What does a mean of
    batch means weigh wrongly when the last batch is smaller? (guide: "A training epoch").
    # END CONCEPT
    # BEGIN FULL
    ``model.train()``; per batch: ``optimizer.zero_grad()``, ``out, _ = model(x)``,
    ``loss = loss_fn(*outputs_for_targets(out, y))``, ``loss.backward()``, then (if
    ``clip``) ``nn.utils.clip_grad_norm_(model.parameters(), clip)``, then
    ``optimizer.step()``; add ``loss.item() * len(x)`` and ``len(x)``.
    # END FULL
    """
    # BEGIN SOLUTION
    _check_clip(clip)
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = to_model(model, x), to_model(model, y)
        optimizer.zero_grad()
        out, _ = model(x)
        loss = loss_fn(*outputs_for_targets(out, y))
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += loss.item() * x.shape[0]
        count += x.shape[0]
    if count == 0:
        raise ValueError("loader yielded no batch")
    return total / count
    # END SOLUTION


def evaluate(model, loader, loss_fn):
    """The mean loss per example over ``loader``, without training: a float.

    Same batches, casting and weighting as ``train_epoch``, but in evaluation mode (dropout
    off) and without recording anything for autograd; no parameter and no gradient changes.
    Afterwards the model may stay in evaluation mode, but it is kinder to its caller to put
    it back in the mode it was in. Raise ``ValueError`` naming ``loader`` when it yields no
    batch.
    # BEGIN CONCEPT
    Two switches, which do different things: one changes how some layers behave, the other
    what autograd records (guide: "Evaluation").
    # END CONCEPT
    # BEGIN FULL
    ``was = model.training``; ``model.eval()``; the loop inside ``with torch.no_grad():``;
    ``model.train(was)`` at the end.
    # END FULL
    """
    # BEGIN SOLUTION
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for x, y in loader:
                x, y = to_model(model, x), to_model(model, y)
                out, _ = model(x)
                loss = loss_fn(*outputs_for_targets(out, y))
                total += loss.item() * x.shape[0]
                count += x.shape[0]
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("loader yielded no batch")
    return total / count
    # END SOLUTION


def tbptt_step(model, x, y, h, optimizer, loss_fn, clip=None):
    """One step of truncated BPTT that carries the hidden state: ``(loss, h_next)``.

    Runs ``model(x, h)`` from the state ``h`` (``(num_layers, N, H)``, or ``None`` for
    zeros) and makes one optimizer step as ``train_epoch`` does for one batch (training
    mode, the batch and ``h`` moved to the model's device and dtype, ``zero_grad``,
    backward, optional clipping, step). Returns the batch's loss (a float, measured before
    the step) and the state to carry into the next batch: the model's ``h_n``, cut from the
    graph of this batch, so that the next batch's ``backward()`` stops at it.
    # BEGIN CONCEPT
    Gradients stop where the truncation is: what does the next ``backward()`` try to reach
    through ``h_n`` if nothing cuts it? (guide: "Truncated BPTT in PyTorch").
    # END CONCEPT
    # BEGIN FULL
    Return ``h_n.detach()``: the same values, no ``grad_fn``. Without it the second batch's
    ``backward()`` fails with "Trying to backward through the graph a second time".
    # END FULL
    """
    # BEGIN SOLUTION
    _check_clip(clip)
    model.train()
    x, y = to_model(model, x), to_model(model, y)
    h = None if h is None else to_model(model, h)
    optimizer.zero_grad()
    out, h_n = model(x, h)
    loss = loss_fn(*outputs_for_targets(out, y))
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item(), h_n.detach()
    # END SOLUTION


def train_stateful_epoch(model, loader, optimizer, loss_fn, clip=None):
    """One epoch of stateful training over an ordered loader (``stream_loader``).

    The first batch starts from a zero state; each later batch starts from the state the
    previous one ended in (``tbptt_step``), except when the batch size changes, where the
    state starts from zeros again. Returns the mean loss per example (weighted as in
    ``train_epoch``). Raise ``ValueError`` naming ``loader`` when it yields no batch.
    # BEGIN CONCEPT
    (guide: "Truncated BPTT in PyTorch").
    # END CONCEPT
    """
    # BEGIN SOLUTION
    _check_clip(clip)
    h, total, count = None, 0.0, 0
    for x, y in loader:
        if h is not None and h.shape[1] != x.shape[0]:
            h = None
        loss, h = tbptt_step(model, x, y, h, optimizer, loss_fn, clip)
        total += loss * x.shape[0]
        count += x.shape[0]
    if count == 0:
        raise ValueError("loader yielded no batch")
    return total / count
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 4: NumPy against PyTorch, agreement and speed
# ---------------------------------------------------------------------------------------


def _comparison_case(N, T, D, H, rng):
    """Parameters, inputs and targets for one size of the comparison (V = D classes)."""
    V = D
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    params = {"Wx": rng.standard_normal((D, H)) / np.sqrt(D), "Wh": 0.9 * q * np.sign(np.diag(r)),
              "b": 0.1 * rng.standard_normal(H), "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
              "by": 0.1 * rng.standard_normal(V)}
    x = rng.standard_normal((N, T, D))
    y = rng.integers(0, V, size=(N, T))
    return params, x, y


def _exercise1_model_loss():
    try:
        import ex_01_basic_rnn
    except ImportError as exc:
        raise ImportError("compare_numpy_torch uses your Exercise 1 (ex_01_basic_rnn.py, in "
                          f"the same folder as this file) for the NumPy side: {exc}") from None
    return ex_01_basic_rnn.model_loss


def compare_numpy_torch(sizes=((8, 16, 32, 32), (32, 64, 128, 128)), repeats=5, seed=0,
                        numpy_loss=None):
    """Time the same forward and backward pass in NumPy and in PyTorch, and check agreement.

    For each ``(N, T, D, H)`` in ``sizes`` (``V = D`` classes), draw parameters, inputs and
    targets from ``np.random.default_rng(seed)`` and run the whole model (RNN, readout, mean
    cross-entropy, all gradients) in float64 on the CPU:

    * NumPy: ``numpy_loss(params, x, y)``, Exercise 1's ``model_loss`` signature
      (``None``: your Exercise 1's ``model_loss``, imported from the same folder);
    * PyTorch: a one-layer ``RNNModel`` loaded with the same ``params``, forward, loss and
      ``backward()`` (build and load it once, outside the timed part).

    Each side runs once untimed (warm-up), then ``repeats`` times; its time is the median,
    in milliseconds. Agreement compares ``numpy_loss`` with ``torch_loss_and_grads``.

    Returns one dict per size with keys ``N, T, D, H``, ``numpy_ms``, ``torch_ms``,
    ``speedup`` (``numpy_ms / torch_ms``: above 1 means PyTorch is faster), ``loss_diff``
    (absolute difference of the losses), ``grad_diff`` (largest absolute difference over
    all gradient entries) and ``threads`` (``torch.get_num_threads()``). Raise
    ``ValueError`` naming ``sizes`` or ``repeats`` when they do not fit.
    # BEGIN CONCEPT
    Time only the work being compared, and the same work on both sides; the first call of
    anything pays one-off costs (guide: "NumPy against PyTorch").
    # END CONCEPT
    # BEGIN FULL
    ``time.perf_counter()`` around each repeat; ``statistics.median`` or ``np.median``. In
    the PyTorch repeats: ``model.zero_grad()``, forward, ``cross_entropy``, ``backward()``.
    # END FULL
    """
    # BEGIN SOLUTION
    repeats = check_int("repeats", repeats)
    try:
        sizes = [tuple(check_int("sizes", v) for v in size) for size in sizes]
    except TypeError:
        raise ValueError("sizes must be a list of (N, T, D, H) tuples") from None
    if not sizes or any(len(size) != 4 for size in sizes):
        raise ValueError(f"sizes must be a non-empty list of (N, T, D, H) tuples, got {sizes}")
    numpy_loss = _exercise1_model_loss() if numpy_loss is None else numpy_loss
    rng = np.random.default_rng(seed)
    rows = []
    for N, T, D, H in sizes:
        params, x, y = _comparison_case(N, T, D, H, rng)
        loss_np, grads_np, _ = numpy_loss(params, x, y)
        loss_t, grads_t, _ = torch_loss_and_grads(params, x, y)
        grad_diff = max(float(np.max(np.abs(np.asarray(grads_np[k]) - grads_t[k])))
                        for k in PARAM_KEYS)

        model = load_numpy_params(RNNModel(D, H, D), params)
        xt, yt = torch.tensor(x), torch.tensor(y).reshape(N * T)

        def torch_pass(model=model, xt=xt, yt=yt, N=N, T=T, D=D):
            model.zero_grad()
            scores, _ = model(xt)
            nn.functional.cross_entropy(scores.reshape(N * T, D), yt).backward()

        def median_ms(run):
            run()  # warm-up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
            return 1000.0 * float(np.median(times))

        numpy_ms = median_ms(lambda params=params, x=x, y=y: numpy_loss(params, x, y))
        torch_ms = median_ms(torch_pass)
        rows.append({"N": N, "T": T, "D": D, "H": H, "numpy_ms": numpy_ms,
                     "torch_ms": torch_ms, "speedup": numpy_ms / torch_ms,
                     "loss_diff": abs(float(loss_np) - loss_t), "grad_diff": grad_diff,
                     "threads": torch.get_num_threads()})
    return rows
    # END SOLUTION


def format_comparison(rows):
    """The rows of ``compare_numpy_torch`` as a printable table (given)."""
    lines = [f"{'N':>4} {'T':>4} {'D':>4} {'H':>4} {'NumPy ms':>10} {'PyTorch ms':>11} "
             f"{'speedup':>8} {'|loss diff|':>12} {'max |grad diff|':>16}"]
    for r in rows:
        lines.append(f"{r['N']:>4} {r['T']:>4} {r['D']:>4} {r['H']:>4} {r['numpy_ms']:>10.2f} "
                     f"{r['torch_ms']:>11.2f} {r['speedup']:>7.2f}x {r['loss_diff']:>12.1e} "
                     f"{r['grad_diff']:>16.1e}")
    return "\n".join(lines)


def plot_comparison(rows, path):
    """Save a plot of the comparison and return the ``Figure``.

    One set of axes, one line per side: x is the position of the size in ``rows`` (0, 1,
    ...; label the ticks with the sizes, e.g. ``"32x64, H=128"``), y the time in
    milliseconds on a log scale. Label the lines ``"NumPy"`` and ``"PyTorch"``, add a legend,
    axis labels and a title. Save a PNG to ``path``.
    # BEGIN CONCEPT
    See Exercise 1's ``plot_gradient_norms`` for the matplotlib calls.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(rows))
    ax.semilogy(pos, [r["numpy_ms"] for r in rows], marker="o", label="NumPy")
    ax.semilogy(pos, [r["torch_ms"] for r in rows], marker="s", label="PyTorch")
    ax.set_xticks(pos, [f"{r['N']}x{r['T']}, H={r['H']}" for r in rows])
    ax.set_xlabel("batch x time steps, hidden size (D = H)")
    ax.set_ylabel("forward + backward time (ms)")
    ax.set_title("Same RNN, float64 on the CPU: NumPy against PyTorch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 5: a harder task, a two-layer character model with an embedding
# ---------------------------------------------------------------------------------------


class CharRNN(nn.Module):
    """A character model: embedding, stacked tanh RNN, readout to the vocabulary.

    ``CharRNN(vocab_size, embed_dim, hidden_size, num_layers=2, dropout=0.0)`` has, under
    these names, ``self.embed`` (an ``nn.Embedding(vocab_size, embed_dim)``), ``self.rnn``
    (a batch-first ``nn.RNN(embed_dim, hidden_size, num_layers)``, ``dropout`` between
    layers) and ``self.fc`` (an ``nn.Linear(hidden_size, vocab_size)``). Raise
    ``ValueError`` naming the size that is not an integer >= 1.

    ``forward(x, h0=None)`` takes integer character indices ``x (N, T)`` and returns
    ``(logits (N, T, vocab_size), h_n (num_layers, N, hidden_size))``. Raise ``ValueError``
    naming ``x`` unless it is a 2-D integer tensor.
    # BEGIN CONCEPT
    An embedding replaces Exercise 3's one-hot input: what does it take, and what does it
    give back? (guide: "A harder task: a two-layer character model").
    # END CONCEPT
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers=2, dropout=0.0):
        super().__init__()
        # BEGIN SOLUTION
        sizes = {"vocab_size": vocab_size, "embed_dim": embed_dim,
                 "hidden_size": hidden_size, "num_layers": num_layers}
        sizes = {name: check_int(name, value) for name, value in sizes.items()}
        self.embed = nn.Embedding(sizes["vocab_size"], sizes["embed_dim"])
        self.rnn = nn.RNN(sizes["embed_dim"], sizes["hidden_size"],
                          num_layers=sizes["num_layers"], batch_first=True,
                          dropout=float(dropout) if num_layers > 1 else 0.0)
        self.fc = nn.Linear(sizes["hidden_size"], sizes["vocab_size"])
        # END SOLUTION

    def forward(self, x, h0=None):
        # BEGIN SOLUTION
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or torch.is_floating_point(x):
            raise ValueError("x must be a 2-D integer tensor of character indices (N, T), got "
                             f"{getattr(x, 'dtype', type(x).__name__)} of shape "
                             f"{tuple(getattr(x, 'shape', ()))}")
        out, h_n = self.rnn(self.embed(x), h0)
        return self.fc(out), h_n
        # END SOLUTION


def _windows(ids, seq_len, stride):
    """Inputs and next-character targets of every window ``ids[s : s + seq_len]``."""
    starts = np.arange(0, len(ids) - seq_len, stride)
    steps = np.arange(seq_len)
    return ids[starts[:, None] + steps], ids[starts[:, None] + steps + 1]


def train_char_model(text, seq_len=64, batch_size=32, embed_dim=32, hidden_size=192,
                     num_layers=2, epochs=40, lr=3e-3, clip=1.0, val_frac=0.1, seed=0,
                     device=None, max_seconds=None, stateful=False, print_every=1):
    """Train a ``CharRNN`` on ``text`` and measure it against count baselines.

    The vocabulary is ``char_vocab(text)``. The first ``1 - val_frac`` of the text trains,
    the rest validates. Training runs ``epochs`` epochs of Adam (``lr``) with cross-entropy
    and clipping at ``clip``, on ``device`` (``select_device(device)``), in float32:

    * ``stateful=False``: windows of ``seq_len + 1`` characters starting every ``seq_len``
      characters, each trained from a zero state, shuffled (``make_loader`` with ``seed``)
      into batches of ``batch_size``, one ``train_epoch`` per epoch;
    * ``stateful=True``: ``stream_loader`` and ``train_stateful_epoch`` (the state carried
      across batches).

    After each epoch ``evaluate`` measures the validation loss on the validation windows
    (zero state, no shuffling); every ``print_every`` epochs (0: never) a line reports the
    epoch, both losses and the seconds so far. Training stops early once ``max_seconds``
    have passed (``None``: no limit). The initial weights come from ``torch.manual_seed(seed)``
    inside ``torch.random.fork_rng``, which restores the global generator afterwards.

    Returns ``(model, history)``: the trained ``CharRNN`` (on ``device``) and a dict with
    ``train_loss`` and ``val_loss`` (one float per epoch, nats per character), ``unigram``
    and ``bigram`` (``baseline_losses`` on the validation part), ``seconds``, ``epochs``
    (the number run) and ``vocab`` (the ``chars`` string: ``vocab[i]`` is character ``i``).
    ``epochs >= 0``: 0 returns the model at its initial weights and empty loss lists.
    Raise ``ValueError`` naming ``text`` when it is too short for one training and one
    validation window, and naming ``val_frac`` unless ``0 < val_frac < 1``.
    # BEGIN CONCEPT
    Put together what the previous parts built (guide: "A harder task: a two-layer
    character model").
    # END CONCEPT
    """
    # BEGIN SOLUTION
    if not 0.0 < float(val_frac) < 1.0:
        raise ValueError(f"val_frac must be in (0, 1), got {val_frac}")
    seq_len, batch_size = check_int("seq_len", seq_len), check_int("batch_size", batch_size)
    chars, index = char_vocab(text)
    ids = np.array([index[c] for c in text], dtype=np.int64)
    split = int(round(len(ids) * (1.0 - float(val_frac))))
    train_ids, val_ids = ids[:split], ids[split:]
    if len(train_ids) <= seq_len or len(val_ids) <= seq_len:
        raise ValueError(f"text has {len(text)} characters: too short for training and "
                         f"validation windows of {seq_len + 1} characters (val_frac {val_frac})")
    device = select_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CharRNN(len(chars), embed_dim, hidden_size, num_layers)
    model = model.to(device=device, dtype=torch.float32)
    if stateful:
        loader = stream_loader(train_ids, seq_len, batch_size)
    else:
        loader = make_loader(*_windows(train_ids, seq_len, seq_len), batch_size, shuffle=True,
                             seed=seed)
    val_loader = make_loader(*_windows(val_ids, seq_len, seq_len), 256, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], **baseline_losses(train_ids, val_ids,
                                                                    len(chars)),
               "seconds": 0.0, "epochs": 0, "vocab": chars}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if stateful:
            train_loss = train_stateful_epoch(model, loader, optimizer, loss_fn, clip)
        else:
            train_loss = train_epoch(model, loader, optimizer, loss_fn, clip)
        val_loss = evaluate(model, val_loader, loss_fn)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["epochs"] = epoch
        history["seconds"] = time.perf_counter() - start
        if print_every and (epoch == 1 or epoch % print_every == 0):
            print(f"epoch {epoch:3d}  train {train_loss:.3f}  validation {val_loss:.3f} "
                  f"nats/char  ({history['seconds']:.0f} s)")
        if max_seconds is not None and history["seconds"] > max_seconds:
            break
    return model, history
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Demo (given)
# ---------------------------------------------------------------------------------------


def _agreement_check():
    """Exercise 1 and PyTorch on one small case: loss, gradients and last state."""
    rng = np.random.default_rng(0)
    params, x, y = _comparison_case(3, 7, 4, 5, rng)
    h0 = 0.5 * rng.standard_normal((3, 5))
    loss_np, grads_np, h_np = _exercise1_model_loss()(params, x, y, h0)
    loss_t, grads_t, h_t = torch_loss_and_grads(params, x, y, h0)
    print(f"Exercise 1 against PyTorch (N=3, T=7, D=4, H=5, float64): |loss diff| "
          f"{abs(loss_np - loss_t):.1e}, last state {np.max(np.abs(h_np - h_t)):.1e}")
    for k in PARAM_KEYS:
        print(f"  d{k:3s} max |diff| {np.max(np.abs(grads_np[k] - grads_t[k])):.1e}")


def _best_checkpoint(text, device, seconds):
    """``train_char_model`` for at most ``seconds``, reported at its best validation epoch.

    Once the validation loss rises while the training loss still falls, the model is
    learning the training text by heart (overfitting), and the best model is the one of the
    lowest validation loss. When that is not the last epoch, the same seed trains that many
    epochs again: the same epochs in the same order, so the same weights (early stopping
    with hindsight, at the cost of a second, shorter run). Returns ``(model, history)`` of
    the epochs kept and the ``history`` of the whole first run.
    """
    model, history = train_char_model(text, device=device, max_seconds=seconds, print_every=5)
    if not history["val_loss"]:
        raise ValueError("train_char_model returned no validation losses: see its docstring")
    best = int(np.argmin(history["val_loss"])) + 1
    print(f"validation after {history['epochs']} epochs in {history['seconds']:.0f} s: last "
          f"{history['val_loss'][-1]:.3f} nats/char, best {history['val_loss'][best - 1]:.3f} "
          f"at epoch {best}")
    if best == history["epochs"]:
        return model, history, history
    print(f"the validation loss rose after epoch {best} (overfitting): training {best} epochs "
          "again from the same seed keeps the best checkpoint")
    model, kept = train_char_model(text, device=device, epochs=best, print_every=0)
    return model, kept, history


def _demo(out_dir, seconds, quick):
    # Small matrices: one thread is fastest, and the guide's figures were measured so.
    torch.set_num_threads(1)
    device = select_device()
    threads = torch.get_num_threads()
    print(f"PyTorch {torch.__version__} on {device}, {threads} CPU thread"
          f"{'' if threads == 1 else 's'}\n")
    _agreement_check()

    sizes = [(8, 16, 32, 32), (32, 64, 64, 64), (32, 64, 128, 128)]
    print("\nNumPy (your Exercise 1) against PyTorch, forward + backward, float64, CPU "
          "(median of 5):")
    rows = compare_numpy_torch(sizes[:2] if quick else sizes, repeats=3 if quick else 5)
    print(format_comparison(rows))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "numpy_vs_torch.png"
    plot_comparison(rows, path)
    print("saved", path)

    if not CORPUS.is_file():
        print(f"\nno corpus at {CORPUS}: the character model needs it")
        return
    text = CORPUS.read_text(encoding="utf-8")
    print(f"\nTwo-layer character RNN on {CORPUS.name} ({len(text)} characters), at most "
          f"{seconds:.0f} s on {device}:")
    model, history, whole = _best_checkpoint(text, device, seconds)
    print("\n                                 nats/char  perplexity")
    for label, loss in (("unigram baseline", history["unigram"]),
                        ("bigram baseline", history["bigram"]),
                        (f"RNN, epoch {history['epochs']}, validation", history["val_loss"][-1])):
        print(f"  {label:30s} {loss:7.3f} {np.exp(loss):11.2f}")
    for temperature in (0.5, 1.0):
        sample = sample_text(model, history["vocab"], "Shall I ", 200, temperature)
        print(f"\nsample at temperature {temperature}:\nShall I {sample}")
    path = out_dir / "char_model_loss.png"
    plot_char_training(whole, path)
    print("\nsaved", path)


def _unimplemented_name(exc):
    """The function or Class.method that raised ``NotImplementedError``."""
    name = exc.args[0] if exc.args else "a function"
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    owner = tb.tb_frame.f_locals.get("self") if tb is not None else None
    return f"{type(owner).__name__}.{name}" if owner is not None else name


def main(argv=None):
    """Run the demo; an unimplemented function ends it with one line instead of a traceback.

    Figures go to ``figures/`` in the current folder, or to ``--out DIR``.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Exercise 4 demo")
    parser.add_argument("--out", type=Path, default=Path("figures"),
                        help="folder for the figures (default: ./figures)")
    parser.add_argument("--seconds", type=float, default=90.0,
                        help="training time of the character model (default: 90)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller comparison, 15 s of training")
    args = parser.parse_args(argv)
    try:
        _demo(args.out, 15.0 if args.quick else args.seconds, args.quick)
    except NotImplementedError as exc:
        here = Path(__file__).resolve()
        where = here.relative_to(here.parent.parent)
        print(f"not implemented yet: {_unimplemented_name(exc)}  (implement it in {where}; "
              "run `make check` to test it)")
        sys.exit(1)


if __name__ == "__main__":
    main()
