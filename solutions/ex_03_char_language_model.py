"""Exercise 3: a character-level language model, and sampling text from it at a temperature.

You turn a text into integer ids, cut it into batches of parallel streams, train the RNN of
Exercise 1 to predict every next character with truncated backpropagation through time
(the hidden state carried from one chunk of text to the next), and generate new text by
sampling one character at a time. A temperature controls how adventurous the samples are;
perplexity and a unigram baseline tell whether the model learned anything.

Conventions used everywhere in this file (as in Exercise 1):

* float64 arrays only; character ids are integer arrays;
* a model is Exercise 1's parameter dict ``Wx (V, H)``, ``Wh (H, H)``, ``b (H,)``,
  ``Wy (H, V)``, ``by (V,)``: inputs are one-hot characters, so ``D = V``;
* losses are in nats (natural logarithms), averaged over every predicted character;
* randomness comes only from an ``rng: np.random.Generator`` argument;
* no function modifies its input arrays or dicts;
* a bad argument raises ``ValueError`` with a message naming the argument.

``char_rnn_loss`` and ``train_char_lm`` reuse your Exercise 1 (``ex_01_basic_rnn.py`` in
the same folder): see ``exercise1`` below. Run ``python ex_03_char_language_model.py`` for
the demo: it trains on Shakespeare's sonnets (``data/sonnets.txt``) for about a minute
(``--seconds``), compares the model with the unigram baseline, prints samples at several
temperatures and writes two figures to ``figures/`` in the current folder (``--out DIR``
for another). ``--text FILE`` trains on any UTF-8 text file instead. ``make check`` runs
the tests. The guide (``guides/rnn_guide.md``, "Language modelling with characters")
explains every idea used here.
"""

import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    # The demo multiplies small matrices, which one BLAS thread does fastest; more threads
    # only wait for each other (set before NumPy starts its threads).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

PARAM_KEYS = ("Wx", "Wh", "b", "Wy", "by")
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------------------------------
# Given helpers (already complete)
# ---------------------------------------------------------------------------------------


def exercise1():
    """Your Exercise 1 module, ``ex_01_basic_rnn.py`` from this file's folder.

    A character model is Exercise 1's RNN with one-hot inputs, so reuse what you wrote
    there: ``ex1 = exercise1()``, then ``ex1.model_loss(...)``, ``ex1.init_params(...)``,
    ``ex1.clip_grad_norm(...)``, ``ex1.adam_step(...)``. Call it inside the functions that
    need it, not at the top of this file: then a problem in Exercise 1 costs only the tests
    that run the RNN (and they say so), not every test of this exercise. Writing the RNN
    again here yourself is fine too.
    """
    import importlib

    if __package__:  # imported as part of a package (e.g. solutions.ex_03_...): its sibling
        return importlib.import_module(f"{__package__}.ex_01_basic_rnn")
    return importlib.import_module("ex_01_basic_rnn")


def check_int(name, value, minimum):
    """``value`` as an int; ``ValueError`` naming it unless it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_ids(name, ids, V=None):
    """``ids`` as a new 1-D int64 array; ``ValueError`` naming it unless it holds integer
    character ids (in ``[0, V)`` when ``V`` is given)."""
    a = np.asarray(ids)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of character ids, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer character ids, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if V is not None and a.size and (a.min() < 0 or a.max() >= V):
        raise ValueError(f"{name} holds ids outside [0, V) = [0, {V}): "
                         f"values in [{a.min()}, {a.max()}]")
    return a


def check_params(params):
    """The five parameter arrays as float64, and ``(V, H)``; ``ValueError`` when keys are
    missing or shapes do not fit a character model (``Wx`` is ``(V, H)``, ``Wy`` ``(H, V)``)."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, got {type(params).__name__}")
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}")
    p = {k: np.asarray(params[k], dtype=np.float64) for k in PARAM_KEYS}
    if p["Wx"].ndim != 2:
        raise ValueError(f"params['Wx'] must be (V, H), got shape {p['Wx'].shape}")
    V, H = p["Wx"].shape
    want = {"Wh": (H, H), "b": (H,), "Wy": (H, V), "by": (V,)}
    for k, shape in want.items():
        if p[k].shape != shape:
            raise ValueError(f"params[{k!r}] has shape {p[k].shape}, expected {shape} "
                             f"(V = {V}, H = {H})")
    return p, V, H


def load_text(path=None):
    """The text of a UTF-8 file; by default Shakespeare's sonnets, ``data/sonnets.txt``
    (public domain, see ``data/README.md``). Windows line ends become ``\\n``."""
    path = Path(path) if path is not None else DATA_DIR / "sonnets.txt"
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    if len(text) < 2:
        raise ValueError(f"{path} holds fewer than two characters: nothing to predict")
    return text


def distinct_ngrams(ixs, n=3):
    """Fraction of the ``n``-grams of a sequence that are distinct: 1.0 when no ``n``
    consecutive characters ever repeat, near 0 for a text that loops. A simple measure of
    the diversity of a sample. ``ValueError`` when the sequence is shorter than ``n``."""
    ixs = [int(i) for i in ixs]
    n = check_int("n", n, 1)
    if len(ixs) < n:
        raise ValueError(f"ixs has {len(ixs)} characters, fewer than n = {n}")
    grams = [tuple(ixs[i:i + n]) for i in range(len(ixs) - n + 1)]
    return len(set(grams)) / len(grams)


def sequence_loss(params, ixs, h0=None):
    """Mean cross-entropy (nats per character) of predicting ``ixs[1:]`` from ``ixs[:-1]``,
    reading the whole sequence in one pass from ``h0`` (zeros by default): the state is
    carried through, so every prediction sees all of the text before it. Forward only, so
    it is fast enough for a validation text of many thousand characters."""
    p, V, H = check_params(params)
    ixs = check_ids("ixs", ixs, V)
    if len(ixs) < 2:
        raise ValueError("ixs needs at least two characters")
    h = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64)
    pre = p["Wx"][ixs[:-1]] + p["b"]  # one-hot @ Wx picks a row of Wx
    states = np.empty((len(ixs) - 1, H))
    for t in range(len(ixs) - 1):
        h = np.tanh(pre[t] + h @ p["Wh"])
        states[t] = h
    scores = states @ p["Wy"] + p["by"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(ixs) - 1), ixs[1:]].mean())


def progress_line(done, total, width=30, **values):
    """``[#######-------]  45%  loss 1.934  12 s``: one line of a progress bar."""
    frac = min(max(done / max(total, 1), 0.0), 1.0)
    bar = "#" * int(round(width * frac))
    extra = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in values.items())
    return f"[{bar:<{width}}] {100 * frac:3.0f}%  {extra}"


# ---------------------------------------------------------------------------------------
# Part 1: from text to integers, and batches of parallel streams
# ---------------------------------------------------------------------------------------


def build_vocab(text):
    """The vocabulary of a text: every distinct character, in sorted order.

    Returns ``(char_to_ix, ix_to_char)``: ``char_to_ix`` a dict character -> id, and
    ``ix_to_char`` the reverse (a list or a dict id -> character). Ids are
    ``0 .. V-1`` in the order of ``sorted(set(text))``, so the same text always gives the
    same ids, whatever order its characters first appear in.

    Raise ``ValueError`` when ``text`` is not a non-empty string.

    # BEGIN CONCEPT
    A model's outputs are numbered: id 7 must mean the same character in every run, or a
    saved model would decode to nonsense (guide: "Language modelling with characters").
    # END CONCEPT
    """
    # BEGIN SOLUTION
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    chars = sorted(set(text))
    return {ch: i for i, ch in enumerate(chars)}, list(chars)
    # END SOLUTION


def encode(text, char_to_ix):
    """The ids of the characters of ``text``, an int64 array ``(len(text),)``.

    Raise ``ValueError`` naming the first character that ``char_to_ix`` does not know (and
    its position), rather than a ``KeyError``.
    """
    # BEGIN SOLUTION
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    out = np.empty(len(text), dtype=np.int64)
    for i, ch in enumerate(text):
        if ch not in char_to_ix:
            raise ValueError(f"text holds the character {ch!r} (position {i}) that is not "
                             "in the vocabulary char_to_ix")
        out[i] = char_to_ix[ch]
    return out
    # END SOLUTION


def decode(ixs, ix_to_char):
    """The string whose characters have the ids ``ixs`` (any sequence of ints).

    Raise ``ValueError`` naming ``ixs`` for an id that ``ix_to_char`` does not have (or one
    that is not an integer).
    """
    # BEGIN SOLUTION
    chars = []
    for i in ixs:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise ValueError(f"ixs must hold integer ids, got {i!r}")
        try:
            if int(i) < 0:
                raise IndexError
            chars.append(ix_to_char[int(i)])
        except (IndexError, KeyError):
            raise ValueError(f"ixs holds the id {int(i)}, which ix_to_char does not have "
                             f"(V = {len(ix_to_char)})") from None
    return "".join(chars)
    # END SOLUTION


def make_batches(data, seq_len, batch_size):
    """Cut a long sequence of ids into training chunks of ``batch_size`` parallel streams.

    Args:
        data: 1-D integer ids, the whole text, length ``L``.
        seq_len: characters per chunk row, ``>= 1``.
        batch_size: ``B``, the number of parallel streams, ``>= 1``.

    Returns:
        ``(inputs, targets)``, integer arrays ``(K * B, seq_len)`` with
        ``K = (L - 1) // (B * seq_len)`` chunks (the most that fit; raise ``ValueError``
        naming ``data`` when ``K == 0``).

    Layout (guide: "Batches of parallel streams"): the first ``K * B * seq_len`` characters
    are cut into ``B`` contiguous streams of ``S = K * seq_len`` characters, stream ``b``
    starting at ``data[b * S]``. Chunk ``k`` is rows ``k*B .. k*B + B - 1``, and its row
    ``k*B + b`` holds the ``k``-th piece of stream ``b``:
    ``inputs[k*B + b] = data[b*S + k*seq_len : b*S + (k+1)*seq_len]``. So row ``k*B + b``
    continues row ``(k-1)*B + b``, which is what lets a hidden state carried from one chunk
    to the next make sense. ``targets[r]`` holds the characters that follow
    ``inputs[r]``: the same slice shifted one character to the right.

    Raise ``ValueError`` naming the argument for a bad ``data``, ``seq_len`` or
    ``batch_size``.

    # BEGIN CONCEPT
    The model reads ``inputs[r, t]`` and must predict the character that comes next in the
    text. Work out the start of every row from the layout above, then build both arrays.
    # END CONCEPT
    # BEGIN FULL
    With ``start[k, b] = b*S + k*seq_len``: ``inputs[k*B + b, t] = data[start + t]`` and
    ``targets[k*B + b, t] = data[start + t + 1]``. An index array of shape ``(K, B,
    seq_len)`` built with broadcasting, reshaped to ``(K*B, seq_len)``, does it in one step.
    # END FULL
    """
    # BEGIN SOLUTION
    data = check_ids("data", data)
    seq_len = check_int("seq_len", seq_len, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    n_chunks = (len(data) - 1) // (batch_size * seq_len)
    if n_chunks < 1:
        raise ValueError(f"data has {len(data)} characters: too few for one chunk of "
                         f"batch_size * seq_len = {batch_size * seq_len} inputs plus one target")
    stream = n_chunks * seq_len
    start = (np.arange(n_chunks)[:, None] * seq_len + np.arange(batch_size)[None, :] * stream)
    index = (start[:, :, None] + np.arange(seq_len)).reshape(n_chunks * batch_size, seq_len)
    return data[index], data[index + 1]
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 2: the loss of a chunk, and its gradients
# ---------------------------------------------------------------------------------------


def char_rnn_loss(params, inputs, targets, h0=None):
    """Loss, gradients and final state of the character model on one chunk.

    Args:
        params: dict ``Wx (V, H)``, ``Wh (H, H)``, ``b (H,)``, ``Wy (H, V)``, ``by (V,)``.
        inputs: integer ids ``(N, T)`` in ``[0, V)``: the characters read.
        targets: integer ids ``(N, T)``: the character to predict after each input.
        h0: the state to start from, ``(N, H)`` (the ``h_last`` of the previous chunk);
            ``None`` means zeros.

    Returns:
        ``(loss, grads, h_last)``: the mean cross-entropy over all ``N*T`` predictions in
        nats (a float), a dict of gradients with the keys of ``params``, and the state
        after the last step, ``(N, H)``.

    Raise ``ValueError`` naming the argument for ids out of range or shapes that do not fit.

    # BEGIN CONCEPT
    Idea: a character model is Exercise 1's model with one-hot inputs, ``D = V``: turn
    ``inputs`` into one-hot vectors and let what you wrote there (``exercise1()``) do the
    rest (guide: "Language modelling with characters"). The gradient with respect to the
    initial state is not needed: ``h0`` is a constant for this chunk (truncated BPTT).
    # END CONCEPT
    # BEGIN FULL
    ``x = np.eye(V)[inputs]`` is ``(N, T, V)``; then ``exercise1().model_loss(params, x,
    targets, h0)`` returns exactly ``(loss, grads, h_last)``.
    # END FULL
    """
    # BEGIN SOLUTION
    p, V, H = check_params(params)
    inputs = np.asarray(inputs)
    targets = np.asarray(targets)
    if inputs.ndim != 2 or not np.issubdtype(inputs.dtype, np.integer):
        raise ValueError(f"inputs must be integer ids (N, T), got {inputs.dtype} "
                         f"{inputs.shape}")
    if inputs.size and (inputs.min() < 0 or inputs.max() >= V):
        raise ValueError(f"inputs holds ids outside [0, V) = [0, {V})")
    if targets.shape != inputs.shape:
        raise ValueError(f"targets has shape {targets.shape}, expected inputs' {inputs.shape}")
    N = inputs.shape[0]
    h0 = np.zeros((N, H)) if h0 is None else np.asarray(h0, dtype=np.float64)
    if h0.shape != (N, H):
        raise ValueError(f"h0 has shape {h0.shape}, expected (N, H) = {(N, H)}")
    x = np.eye(V)[inputs]
    return exercise1().model_loss(p, x, targets, h0)
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 3: temperature, one step of the model, sampling
# ---------------------------------------------------------------------------------------


def softmax_with_temperature(logits, temperature=1.0):
    """Probabilities ``softmax(logits / temperature)`` over the last axis.

    Args:
        logits: scores, ``(V,)`` or any ``(..., V)``.
        temperature: a finite number ``> 0``. 1 gives the model's own distribution; below 1
            sharpens it towards the most likely character, above 1 flattens it towards
            uniform.

    Returns:
        float64 probabilities with the shape of ``logits``; every row sums to 1, and larger
        logits keep larger probabilities.

    Raise ``ValueError`` naming ``temperature`` when it is not a finite number ``> 0``.

    # BEGIN CONCEPT
    Divide first, then normalise; and keep it finite for logits of 1e4 and temperatures of
    0.01 (guide: "Temperature").
    # END CONCEPT
    # BEGIN FULL
    ``z = logits / temperature``; subtract ``z.max(axis=-1, keepdims=True)`` before
    ``exp`` (softmax does not change), then divide by the sum over the last axis.
    # END FULL
    """
    # BEGIN SOLUTION
    if isinstance(temperature, (bool, np.bool_)) or not isinstance(
            temperature, (int, float, np.integer, np.floating)):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have a last axis of size V >= 1, got shape {z.shape}")
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
    # END SOLUTION


def next_char_probs(params, h, ix, temperature=1.0):
    """One step of the model: read character ``ix`` in state ``h``, predict the next one.

    Args:
        params: the model's parameter dict.
        h: the current hidden state, ``(H,)`` (one sequence, no batch axis).
        ix: the id of the character read now, an int in ``[0, V)``.
        temperature: as in ``softmax_with_temperature``.

    Returns:
        ``(probs, h_next)``: the distribution of the next character ``(V,)`` at this
        temperature, and the new state ``(H,)``.

    This is the forward pass of Exercise 1 for a single step and a single sequence:
    ``h_next = tanh(x @ Wx + h @ Wh + b)`` with ``x`` the one-hot vector of ``ix``, then
    scores ``h_next @ Wy + by``. Raise ``ValueError`` naming ``h`` or ``ix`` when they do
    not fit.

    # BEGIN CONCEPT
    A one-hot vector times a matrix picks one of its rows: no need to build the vector.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    p, V, H = check_params(params)
    h = np.asarray(h, dtype=np.float64)
    if h.shape != (H,):
        raise ValueError(f"h has shape {h.shape}, expected (H,) = ({H},)")
    if isinstance(ix, (bool, np.bool_)) or not isinstance(ix, (int, np.integer)) \
            or not 0 <= ix < V:
        raise ValueError(f"ix must be an int in [0, V) = [0, {V}), got {ix!r}")
    h_next = np.tanh(p["Wx"][int(ix)] + h @ p["Wh"] + p["b"])
    probs = softmax_with_temperature(h_next @ p["Wy"] + p["by"], temperature)
    return probs, h_next
    # END SOLUTION


def sample(params, h0, seed_ix, n, temperature=1.0, rng=None):
    """Generate ``n`` characters, each drawn from the model and then fed back in.

    Args:
        params: the model's parameter dict.
        h0: the starting state ``(H,)``; ``None`` means zeros.
        seed_ix: the id of the first character to read.
        n: how many characters to generate, ``>= 0``.
        temperature: as in ``softmax_with_temperature``.
        rng: a ``np.random.Generator``, the only source of randomness. It must be given:
            the default ``None`` raises ``ValueError`` naming ``rng``.

    Returns:
        a list of ``n`` Python ints, the ids drawn, not including ``seed_ix``.

    Raise ``ValueError`` naming the argument when one does not fit (``rng`` must be a
    ``np.random.Generator``).

    # BEGIN CONCEPT
    Each draw is the input of the next step, and the state flows on from step to step:
    the model continues its own text (guide: "Sampling"). Draw from ``rng`` in whatever
    way you like (``rng.choice``, ``rng.random``, ...), never from ``np.random.*``.
    # END CONCEPT
    # BEGIN FULL
    Loop ``n`` times: ``probs, h = next_char_probs(params, h, ix, temperature)``; draw
    ``ix = rng.choice(V, p=probs)``; append ``int(ix)``.
    # END FULL
    """
    # BEGIN SOLUTION
    p, V, H = check_params(params)
    n = check_int("n", n, 0)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator, got {type(rng).__name__}")
    h = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64)
    ix = seed_ix
    out = []
    for _ in range(n):
        probs, h = next_char_probs(p, h, ix, temperature)
        ix = int(rng.choice(V, p=probs))
        out.append(ix)
    return out
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 4: measuring a language model
# ---------------------------------------------------------------------------------------


def perplexity(mean_loss):
    """The perplexity of a model whose mean cross-entropy is ``mean_loss`` nats per character.

    A model with perplexity ``k`` is as unsure as a uniform choice among ``k`` characters:
    uniform guessing over ``V`` characters has loss ``log(V)`` and perplexity ``V``. Returns
    a float; raise ``ValueError`` naming ``mean_loss`` when it is negative or not finite.

    # BEGIN CONCEPT
    The loss is in nats (natural logarithm): undo that logarithm (guide: "Perplexity and
    the unigram baseline").
    # END CONCEPT
    """
    # BEGIN SOLUTION
    try:
        value = float(mean_loss)
    except (TypeError, ValueError):
        raise ValueError(f"mean_loss must be a number, got {mean_loss!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"mean_loss must be a finite number >= 0, got {value}")
    return float(np.exp(value))
    # END SOLUTION


def unigram_loss(train_ixs, eval_ixs, V, smoothing=1.0):
    """The baseline: mean cross-entropy (nats per character) of the unigram model.

    The unigram model ignores context: it predicts every character with its frequency in
    ``train_ixs``, add-``smoothing`` smoothed, ``p[c] = (count[c] + smoothing) /
    (len(train_ixs) + V * smoothing)``, so characters never seen in training keep a small
    probability. Returns ``-mean(log p[eval_ixs])`` as a float. With ``eval_ixs`` the
    training text itself and ``smoothing=0`` this is the entropy of the character
    frequencies. A character model must beat it, or it has learned nothing about context.

    Raise ``ValueError`` naming the argument for ids outside ``[0, V)``, an empty
    ``train_ixs`` or ``eval_ixs``, or ``smoothing < 0``.
    """
    # BEGIN SOLUTION
    V = check_int("V", V, 1)
    train_ixs = check_ids("train_ixs", train_ixs, V)
    eval_ixs = check_ids("eval_ixs", eval_ixs, V)
    if len(train_ixs) == 0 or len(eval_ixs) == 0:
        raise ValueError("train_ixs and eval_ixs must not be empty")
    if not smoothing >= 0:
        raise ValueError(f"smoothing must be >= 0, got {smoothing}")
    counts = np.bincount(train_ixs, minlength=V) + float(smoothing)
    with np.errstate(divide="ignore"):
        log_p = np.log(counts / counts.sum())
    return float(-log_p[eval_ixs].mean())
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 5: training with truncated backpropagation through time
# ---------------------------------------------------------------------------------------


def train_char_lm(text, hidden_size=64, seq_len=25, batch_size=16, num_epochs=10, lr=3e-3,
                  clip=5.0, rng=None, char_to_ix=None, print_every=0, sample_every=0,
                  temperatures=(0.5, 1.0, 1.5), max_seconds=None):
    """Train a character model on ``text`` with truncated BPTT, Adam and clipping.

    Steps, with everything from your earlier functions and Exercise 1:

    1. the vocabulary ``char_to_ix`` (``build_vocab(text)`` when it is ``None``), the
       ids of the text and its chunks ``make_batches(ids, seq_len, batch_size)``;
    2. ``init_params(V, hidden_size, V, rng)`` (Exercise 1) and no optimizer state yet;
    3. for each epoch: the state starts at zeros ``(batch_size, hidden_size)``; then for
       each chunk ``k`` in order (rows ``k*B .. k*B + B - 1``): ``char_rnn_loss`` from the
       current state, clip the gradients' global norm to ``clip`` (``None``: no clipping),
       one ``adam_step`` with ``lr``, and carry the chunk's ``h_last`` into the next chunk.

    Args:
        text: the training text (a string).
        rng: the only source of randomness (the initial parameters); ``None`` means
            ``np.random.default_rng(0)``.
        print_every: print a progress bar line every so many steps (0: silent).
        sample_every: print samples at each of ``temperatures`` every so many steps (0: never).
        max_seconds: stop after the step during which this many seconds have passed
            (``None``: train all ``num_epochs``). The clock is checked after each step, so
            ``max_seconds=0`` trains exactly one step.

    Returns:
        ``(params, losses)``: the trained parameters and one float per training step, the
        loss of that step's chunk measured before the step's update. ``num_epochs >= 0``:
        0 returns the initial parameters (``init_params``) and no losses.

    # BEGIN CONCEPT
    Ideas (guide: "Truncated BPTT"): gradients stop at the chunk boundary, but the state
    does not: the next chunk continues the same streams of text, so it starts from where
    this one ended. A new epoch starts again from the beginning of every stream, with a
    state that has nothing to remember yet.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    ex1 = exercise1()
    rng = np.random.default_rng(0) if rng is None else rng
    if char_to_ix is None:
        char_to_ix, ix_to_char = build_vocab(text)
    else:
        ix_to_char = {i: ch for ch, i in char_to_ix.items()}
    hidden_size = check_int("hidden_size", hidden_size, 1)
    num_epochs = check_int("num_epochs", num_epochs, 0)
    data = encode(text, char_to_ix)
    V = len(char_to_ix)
    inputs, targets = make_batches(data, seq_len, batch_size)
    n_chunks = len(inputs) // batch_size
    params = ex1.init_params(V, hidden_size, V, rng)
    state, losses = None, []
    started = time.monotonic()
    total = num_epochs * n_chunks
    for epoch in range(num_epochs):
        h = np.zeros((batch_size, hidden_size))
        for k in range(n_chunks):
            rows = slice(k * batch_size, (k + 1) * batch_size)
            loss, grads, h = char_rnn_loss(params, inputs[rows], targets[rows], h)
            if clip is not None:
                grads, _ = ex1.clip_grad_norm(grads, clip)
            params, state = ex1.adam_step(params, grads, state, lr)
            losses.append(float(loss))
            step = len(losses)
            elapsed = time.monotonic() - started
            out_of_time = max_seconds is not None and elapsed >= max_seconds
            if print_every and (step % print_every == 0 or step == total or out_of_time):
                recent = float(np.mean(losses[-print_every:]))
                print("\r" + progress_line(step, total, epoch=f"{epoch + 1}/{num_epochs}",
                                           loss=recent, seconds=round(elapsed)),
                      end="", flush=True)
            if sample_every and step % sample_every == 0:
                print()
                for temp in temperatures:
                    ids = sample(params, None, int(inputs[0, 0]), 80, temp, rng)
                    print(f"  T={temp:<4g} | " + decode(ids, ix_to_char).replace("\n", " / "))
            if out_of_time:
                break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
    if print_every:
        print()
    return params, losses
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 6: the temperature experiment and the figures
# ---------------------------------------------------------------------------------------


def temperature_experiment(params, context_ixs, temperatures, n, rng, ngram=3):
    """How the temperature trades safety for variety.

    For each temperature ``T`` in ``temperatures``, one dict with:

    * ``"temperature"``: ``T`` as a float;
    * ``"entropy"``: the mean entropy in nats, ``-sum(p * log(p))``, of the next-character
      distributions at temperature ``T`` over the text ``context_ixs``: run the model over
      ``context_ixs`` from a zero state and, after reading each of its characters, take
      the distribution of the next one (``len(context_ixs)`` distributions);
    * ``"sample"``: ``sample(params, None, context_ixs[0], n, T, rng)``, a list of ``n`` ids;
    * ``"distinct"``: ``distinct_ngrams(sample, ngram)``, the fraction of its ``ngram``-grams
      that are distinct.

    Returns the list of dicts, in the order of ``temperatures``. Low temperatures give low
    entropy and repetitive samples; high ones approach ``log(V)`` and random strings.
    Raise ``ValueError`` naming the argument for an empty ``context_ixs`` or ``n < ngram``.

    # BEGIN CONCEPT
    Compute the entropy from log-probabilities so that probabilities that underflow to 0
    at a low temperature give 0, not ``nan`` (guide: "Temperature").
    # END CONCEPT
    """
    # BEGIN SOLUTION
    p, V, H = check_params(params)
    context = check_ids("context_ixs", context_ixs, V)
    if len(context) == 0:
        raise ValueError("context_ixs must hold at least one character")
    n = check_int("n", n, 1)
    ngram = check_int("ngram", ngram, 1)
    if n < ngram:
        raise ValueError(f"n = {n} is shorter than ngram = {ngram}")
    h = np.zeros(H)
    scores = np.empty((len(context), V))
    for t, ix in enumerate(context):
        h = np.tanh(p["Wx"][ix] + h @ p["Wh"] + p["b"])
        scores[t] = h @ p["Wy"] + p["by"]
    rows = []
    for temp in temperatures:
        probs = softmax_with_temperature(scores, temp)
        z = scores / float(temp)
        z = z - z.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        entropy = float(np.mean(-np.sum(probs * log_probs, axis=1)))
        drawn = sample(p, None, int(context[0]), n, temp, rng)
        rows.append({"temperature": float(temp), "entropy": entropy, "sample": drawn,
                     "distinct": distinct_ngrams(drawn, ngram)})
    return rows
    # END SOLUTION


def plot_losses(losses, path, baseline=None, window=20):
    """Save the training curve: loss per step and its moving average, in nats per character.

    Draw ``losses`` against the step number (1, 2, ...) as one line labelled
    ``"loss per step"``, the moving average over ``window`` steps as a second line (only
    when there are at least ``window`` losses) and, when ``baseline`` is given, a
    horizontal line at that value labelled ``"unigram baseline"``. Label the axes, add a
    title and a legend; save a PNG to ``path`` and return the ``Figure``.

    Hint: ``from matplotlib.figure import Figure``; ``fig = Figure()``,
    ``ax = fig.subplots()``, ``ax.plot(...)``, ``ax.axhline(...)``, ``fig.savefig(path)``.
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    losses = np.asarray(losses, dtype=np.float64)
    steps = np.arange(1, len(losses) + 1)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(steps, losses, lw=0.8, alpha=0.6, label="loss per step")
    if len(losses) >= window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1:], smooth, lw=2, label=f"mean of {window} steps")
    if baseline is not None:
        ax.axhline(float(baseline), color="k", ls="--", label="unigram baseline")
    ax.set_xlabel("training step (one chunk)")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Character model: training loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


def plot_temperature_experiment(results, path):
    """Save the temperature experiment as two panels side by side.

    ``results`` is what ``temperature_experiment`` returns. Left: the entropy against the
    temperature; right: the fraction of distinct n-grams against the temperature; one line
    with markers each, both with a title and axis labels. Save a PNG to ``path`` and
    return the ``Figure`` (``fig.subplots(1, 2)`` gives the two panels).
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    temps = [r["temperature"] for r in results]
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(temps, [r["entropy"] for r in results], marker="o")
    left.set_xlabel("temperature")
    left.set_ylabel("mean entropy of the next character (nats)")
    left.set_title("Uncertainty grows with temperature")
    right.plot(temps, [r["distinct"] for r in results], marker="o", color="C1")
    right.set_xlabel("temperature")
    right.set_ylabel("fraction of distinct n-grams in a sample")
    right.set_title("Diversity of samples")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Demo (given)
# ---------------------------------------------------------------------------------------


def _demo(out_dir, text_path=None, seconds=60.0, hidden_size=128):
    started = time.monotonic()
    text = load_text(text_path)
    char_to_ix, ix_to_char = build_vocab(text)
    V = len(char_to_ix)
    split = int(0.9 * len(text))
    train_text, val_text = text[:split], text[split:]
    train_ids, val_ids = encode(train_text, char_to_ix), encode(val_text, char_to_ix)
    name = Path(text_path).name if text_path else "data/sonnets.txt"
    print(f"{name}: {len(text)} characters, V = {V}; training on the first 90%, "
          f"validating on the last {len(val_text)}")
    base = unigram_loss(train_ids, val_ids[1:], V)
    print(f"unigram baseline on the validation text: {base:.3f} nats/char, perplexity "
          f"{perplexity(base):.2f} (uniform guessing: {np.log(V):.3f}, perplexity {V})")

    print(f"\ntraining (H = {hidden_size}, truncated BPTT over 50 characters, 32 streams) "
          f"for at most {seconds:g} s:")
    params, losses = train_char_lm(
        train_text, hidden_size=hidden_size, seq_len=50, batch_size=32, num_epochs=1000,
        lr=3e-3, rng=np.random.default_rng(0), char_to_ix=char_to_ix, print_every=10,
        sample_every=400, max_seconds=seconds)
    trained = time.monotonic() - started
    val = sequence_loss(params, val_ids)
    print(f"\n{len(losses)} steps in {trained:.0f} s")
    print(f"{'':28}{'nats/char':>10}{'perplexity':>12}")
    for label, value in (("uniform guessing", np.log(V)), ("unigram baseline", base),
                         ("RNN, validation text", val),
                         ("RNN, last 20 training steps", float(np.mean(losses[-20:])))):
        print(f"  {label:<26}{value:>10.3f}{perplexity(value):>12.2f}")

    rng = np.random.default_rng(1)
    seed_ix = char_to_ix.get("\n", 0)
    print("\nsamples, 200 characters each:")
    for temp in (0.5, 1.0, 1.5):
        ids = sample(params, None, seed_ix, 200, temp, rng)
        print(f"--- temperature {temp}:\n{decode(ids, ix_to_char)}")

    temps = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    rows = temperature_experiment(params, val_ids[:2000], temps, 2000, rng, ngram=3)
    real = distinct_ngrams(val_ids[:2000], 3)
    print(f"\ntemperature experiment (entropy over 2000 validation characters; distinct "
          f"3-grams in 2000 sampled ones; the real text has {real:.3f}):")
    print(f"  {'T':>5}  {'entropy':>8}  {'distinct 3-grams':>16}")
    for r in rows:
        print(f"  {r['temperature']:5.2f}  {r['entropy']:8.3f}  {r['distinct']:16.3f}")

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "char_lm_loss.png"
    plot_losses(losses, path, baseline=base)
    print("saved", path)
    path = out_dir / "temperature.png"
    plot_temperature_experiment(rows, path)
    print("saved", path)
    print(f"done in {time.monotonic() - started:.0f} s")


def main(argv=None):
    """Run the demo; an unimplemented function ends it with one line instead of a traceback.

    Figures go to ``figures/`` in the current folder, or to ``--out DIR``; ``--text FILE``
    trains on another UTF-8 text; ``--seconds S`` bounds the training time.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Exercise 3 demo")
    parser.add_argument("--out", type=Path, default=Path("figures"),
                        help="folder for the figures (default: ./figures)")
    parser.add_argument("--text", type=Path, default=None,
                        help="a UTF-8 text file to train on (default: data/sonnets.txt)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="training time limit in seconds (default: 60)")
    parser.add_argument("--hidden", type=int, default=128,
                        help="hidden units (default: 128)")
    args = parser.parse_args(argv)
    try:
        _demo(args.out, args.text, args.seconds, args.hidden)
    except NotImplementedError as exc:
        name = exc.args[0] if exc.args else "a function"
        here = Path(__file__).resolve()
        where = here.relative_to(here.parent.parent)
        print(
            f"\nnot implemented yet: {name}  (implement it in {where}; run `make check` to "
            "test it)"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
