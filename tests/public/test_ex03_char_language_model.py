"""Public tests for Exercise 3: a character-level language model and temperature sampling.

Each test's docstring starts with the name shown in the points table. Expected values come
from this file's own forward computations (the vocabulary of ``sorted(set(text))``, the
RNN run over one-hot characters, softmax of ``logits / temperature``, the mean
cross-entropy); expected gradients come from centered differences of those, never from a
backward pass. When a result is wrong, the message says which output, how, the idea
involved and the section of guides/rnn_guide.md about it; it compares your result with
what a known mistake would give ("twins") to name the mistake.

Sampling is random, so no test asks for particular characters: ``next_char_probs`` is
checked exactly, and ``sample`` by what any correct sampler does, however it uses its
generator: the same seed gives the same text, and over thousands of draws the frequencies
follow ``next_char_probs`` (chi-square tests at a significance of 1e-6 each, so a correct
sampler fails one by chance less than once in 100,000 runs of the whole file).

The tests that run the model also check your Exercise 1 when they fail: if the Exercise 1
functions this exercise builds on are wrong, the message says so and which one.

Rerun one test with details:  make check T='tests/public/test_ex03_char_language_model.py::NAME'
"""

from __future__ import annotations

import contextlib
import functools
import math
import re

import numpy as np
import pytest

from tests.public.harness import (
    REPO,
    assert_close,
    assert_grad,
    assert_png,
    check_array,
    check_labels,
    close_scalar,
    figure_info,
    message_of,
    numerical_gradient,
    raises_naming,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain

KEYS = ("Wx", "Wh", "b", "Wy", "by")
# The Exercise 1 functions this exercise builds on (if it uses Exercise 1 at all).
EX01_FUNCTIONS = ("model_loss", "rnn_forward", "rnn_backward", "affine_forward",
                  "affine_backward", "softmax_cross_entropy", "init_params", "clip_grad_norm",
                  "adam_step", "rnn_step_forward", "rnn_step_backward")
# Distinct sizes: a vocabulary of 7 characters, 5 hidden units, 2 streams of 6 steps.
V, H, N, T = 7, 5, 2, 6
ALPHA = 1e-6  # significance of each chi-square test of the sampler
SONNETS = REPO / "data" / "sonnets.txt"


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# This file's own computations (the expected values): forward formulas only
# ---------------------------------------------------------------------------------------


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def states(params, inputs, h0=None):
    """Hidden states (N, T, H) of the RNN reading the one-hot characters `inputs`
    (a one-hot row times Wx is a row of Wx)."""
    inputs = np.asarray(inputs)
    h = np.zeros((inputs.shape[0], params["Wh"].shape[0])) if h0 is None else h0
    out = np.zeros(inputs.shape + (params["Wh"].shape[0],))
    for t in range(inputs.shape[1]):
        h = np.tanh(params["Wx"][inputs[:, t]] + h @ params["Wh"] + params["b"])
        out[:, t] = h
    return out


def chunk_loss(params, inputs, targets, h0=None):
    """Mean cross-entropy (nats) of predicting `targets` after reading `inputs`."""
    scores = states(params, inputs, h0) @ params["Wy"] + params["by"]
    picked = np.take_along_axis(log_softmax(scores), np.asarray(targets)[..., None], axis=-1)
    return float(-picked.mean())


def step(params, h, ix, temperature=1.0):
    """One step of one sequence: (probabilities of the next character, new state)."""
    h_next = np.tanh(params["Wx"][ix] + h @ params["Wh"] + params["b"])
    return softmax((h_next @ params["Wy"] + params["by"]) / temperature), h_next


def random_params(rng, v=V, hh=H, scale=0.6):
    return {"Wx": scale * rng.standard_normal((v, hh)),
            "Wh": (scale / np.sqrt(hh)) * rng.standard_normal((hh, hh)) * 1.5,
            "b": 0.1 * rng.standard_normal(hh), "Wy": scale * rng.standard_normal((hh, v)),
            "by": 0.1 * rng.standard_normal(v)}


def copy_params(p):
    return {k: np.array(v, copy=True) for k, v in p.items()}


def unigram_entropy(ids, v):
    """The loss of the unigram model on its own training text: the frequencies' entropy."""
    freq = np.bincount(ids, minlength=v) / len(ids)
    freq = freq[freq > 0]
    return float(-np.sum(freq * np.log(freq)))


# ---------------------------------------------------------------------------------------
# Chi-square tails (for the statistical tests of the sampler)
# ---------------------------------------------------------------------------------------


def _upper_gamma(a, x):
    """The regularised upper incomplete gamma function Q(a, x)."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for P(a, x)
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300  # continued fraction for Q(a, x), Lentz's method
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    frac = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        frac *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return math.exp(log_front) * frac


def chi2_sf(x, df):
    """P(X > x) for a chi-square variable with df degrees of freedom."""
    return _upper_gamma(df / 2.0, x / 2.0)


def chi2_critical(df, alpha=ALPHA):
    """The value a chi-square(df) variable exceeds with probability alpha."""
    lo, hi = 0.0, 10.0 * df + 200.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if chi2_sf(mid, df) > alpha else (lo, mid)
    return hi


def pearson(counts, probs):
    """Pearson's statistic sum((O - E)^2 / E) over the categories, and its df."""
    counts = np.asarray(counts, dtype=np.float64)
    expected = counts.sum() * np.asarray(probs, dtype=np.float64)
    return float(np.sum((counts - expected) ** 2 / expected)), len(counts) - 1


def path_statistic(probs_path, draws, groups):
    """Goodness of fit of draws made one after another, each from its own distribution
    `probs_path[k]` (which may depend on the earlier draws): within each group of steps,
    observed minus expected counts, scaled by their covariance, are chi-square(V-1) for a
    correct sampler. Returns (statistic, df), summed over groups with enough steps."""
    probs_path = np.asarray(probs_path)
    draws = np.asarray(draws)
    groups = np.asarray(groups)
    v = probs_path.shape[1]
    stat, df = 0.0, 0
    for g in np.unique(groups):
        sel = groups == g
        if sel.sum() < 200:
            continue
        p = probs_path[sel]
        diff = np.bincount(draws[sel], minlength=v) - p.sum(axis=0)
        cov = np.diag(p.sum(axis=0)) - np.einsum("ki,kj->ij", p, p)
        stat += float(diff @ np.linalg.pinv(cov, rcond=1e-10, hermitian=True) @ diff)
        df += v - 1
    return stat, df


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def same(a, b, tol=1e-10) -> bool:
    return isinstance(a, np.ndarray) and a.shape == np.shape(b) and np.allclose(
        a, b, rtol=tol, atol=tol)


def int_ids(got, shape, what) -> np.ndarray:
    """An integer array of the given shape (any integer dtype)."""
    if not isinstance(got, np.ndarray):
        kind = getattr(got, "type_name", None) or type(got).__name__
        raise AssertionError(f"{what}: expected a numpy array of ids, got {kind}.")
    if not np.issubdtype(got.dtype, np.integer):
        raise AssertionError(f"{what}: dtype {got.dtype}; character ids are integers "
                             "(an int array, e.g. np.int64), usable as indices.")
    if tuple(got.shape) != tuple(shape):
        raise AssertionError(f"{what}: shape {tuple(got.shape)}, expected {tuple(shape)}.")
    return got


def id_list(got, n, v, what) -> list[int]:
    """A list (or 1-D array) of n integer ids in [0, v)."""
    if isinstance(got, np.ndarray) and got.ndim == 1:
        got = got.tolist()
    if not isinstance(got, (list, tuple)):
        kind = getattr(got, "type_name", None) or type(got).__name__
        raise AssertionError(f"{what}: expected a list of ids, got {kind}.")
    if len(got) != n:
        raise AssertionError(f"{what}: {len(got)} ids, expected n = {n}; the seed character "
                             "is not part of the result." + explain("sample-seed-excluded"))
    bad = [x for x in got if isinstance(x, (bool, np.bool_))
           or not isinstance(x, (int, np.integer))]
    if bad:
        raise AssertionError(f"{what}: holds {bad[0]!r} of type {type(bad[0]).__name__}; "
                             "return ints (int(ix)).")
    out = [int(x) for x in got]
    if out and not (0 <= min(out) and max(out) < v):
        raise AssertionError(f"{what}: ids must be in [0, V) = [0, {v}), got values in "
                             f"[{min(out)}, {max(out)}].")
    return out


def sonnets(start, stop) -> str:
    return SONNETS.read_text(encoding="utf-8")[start:stop]


# ---------------------------------------------------------------------------------------
# Exercise 1 under this exercise: when a test that runs the model fails, check it
# ---------------------------------------------------------------------------------------


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _not_implemented_name(exc) -> str | None:
    """The function a NotImplementedError (here, or from the grader's student process)
    names, if it is one."""
    text = str(exc)
    match = re.search(r"not implemented yet: (\w+)", text)
    if match:
        return match.group(1)
    if isinstance(exc, NotImplementedError):
        return text.strip().split()[0] if text.strip() else "?"
    return None


def exercise1_problem(request) -> str:
    """'' when the Exercise 1 functions this exercise builds on give right answers on a
    small case; otherwise a sentence naming the first one that does not."""
    try:
        ex01 = request.getfixturevalue("ex01")
    except Exception as exc:  # noqa: BLE001 - missing file, syntax error, import error
        return f"ex_01_basic_rnn.py could not be used ({_first_line(exc)})"
    rng = _rng(3141)
    params = random_params(rng, v=3, hh=4)
    inputs, targets = rng.integers(0, 3, (2, 3)), rng.integers(0, 3, (2, 3))
    h0 = 0.3 * rng.standard_normal((2, 4))
    current = "model_loss"
    try:
        loss, grads, h_last = ex01.model_loss(copy_params(params), np.eye(3)[inputs],
                                              targets.copy(), h0.copy())
        if not np.isclose(float(loss), chunk_loss(params, inputs, targets, h0), rtol=1e-8):
            return "model_loss gives a wrong loss"
        if not same(np.asarray(h_last), states(params, inputs, h0)[:, -1], 1e-8):
            return "model_loss gives a wrong h_last"
        for k in KEYS:
            numeric = numerical_gradient(
                lambda a, k=k: chunk_loss({**params, k: a}, inputs, targets, h0), params[k], 1.0)
            if not (isinstance(grads, dict) and same(np.asarray(grads.get(k)), numeric, 1e-6)):
                return f"model_loss gives a wrong gradient for {k}"
        current = "clip_grad_norm"
        clipped, norm = ex01.clip_grad_norm({"a": np.array([3.0, 0.0]),
                                             "b": np.array([[4.0]])}, 1.0)
        if not (np.isclose(float(norm), 5.0) and isinstance(clipped, dict)
                and same(clipped.get("a"), [0.6, 0.0]) and same(clipped.get("b"), [[0.8]])):
            return "clip_grad_norm does not rescale by the global norm"
        current = "adam_step"
        p = {"w": np.array([1.0, -2.0])}
        new, _ = ex01.adam_step(p, {"w": np.array([0.5, -3.0])}, None, 0.1)
        if not (isinstance(new, dict) and same(new.get("w"), [0.9, -1.9], 1e-6)):
            return "adam_step's first step is wrong"
        current = "init_params"
        init = ex01.init_params(3, 4, 3, _rng(1))
        if not (isinstance(init, dict) and all(k in init for k in KEYS)):
            return "init_params does not return the five parameters"
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        name = _not_implemented_name(exc)
        if name:
            return f"{name} is not implemented yet"
        return f"{current} raised {_first_line(exc)}"
    return ""


@contextlib.contextmanager
def exercise1_first(request, what):
    """Run a test that runs the model; if it fails while Exercise 1 is wrong, say so first."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - AssertionError and the student's own errors
        missing = _not_implemented_name(exc)
        if missing and missing not in EX01_FUNCTIONS:
            raise  # this exercise's own function is missing: that message is the right one
        problem = exercise1_problem(request)
        if not problem:
            raise
        raise AssertionError(
            f"{what}: fails, and the cause is in Exercise 1: {problem}. This exercise runs "
            "your Exercise 1 (or should work like it): make the Exercise 1 tests pass first "
            f"(make check T=tests/public/test_ex01_basic_rnn.py). The failure here: "
            f"{_first_line(exc)}{explain('char-uses-exercise1')}") from None


# ---------------------------------------------------------------------------------------
# Part 1: vocabulary, encoding, batches
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_build_vocab(ex03):
    """build_vocab: ids follow the sorted characters, both directions agree"""
    text = "to be, or not to be: that is the question.\nZ"
    char_to_ix, ix_to_char = unpack(ex03.build_vocab(text), ("char_to_ix", "ix_to_char"),
                                    "build_vocab")
    chars = sorted(set(text))
    if not isinstance(char_to_ix, dict):
        raise AssertionError(f"build_vocab char_to_ix: expected a dict, got "
                             f"{type(char_to_ix).__name__}.")
    if set(char_to_ix) != set(chars):
        raise AssertionError(f"build_vocab char_to_ix: its keys must be the {len(chars)} "
                             f"distinct characters of the text; got {len(char_to_ix)} keys.")
    want = {ch: i for i, ch in enumerate(chars)}
    if char_to_ix != want:
        seen = list(dict.fromkeys(text))
        if char_to_ix == {ch: i for i, ch in enumerate(seen)}:
            raise AssertionError("build_vocab char_to_ix: ids follow the order in which "
                                 "characters first appear in the text, not sorted order." +
                                 explain("vocab-sorted"))
        wrong = next(ch for ch in chars if char_to_ix[ch] != want[ch])
        raise AssertionError(f"build_vocab char_to_ix[{wrong!r}] = {char_to_ix[wrong]!r}, "
                             f"expected {want[wrong]}: ids are 0..V-1 in the order of "
                             "sorted(set(text))." + explain("vocab-sorted"))
    for i, ch in enumerate(chars):
        try:
            back = ix_to_char[i]
        except Exception:  # noqa: BLE001 - a list, a dict, or something that fails
            back = None
        if back != ch:
            raise AssertionError(f"build_vocab ix_to_char[{i}] is {back!r}, expected {ch!r}: "
                                 "it is the reverse of char_to_ix (a list or a dict id -> "
                                 "character).")


@pytest.mark.points(0.5)
def test_ex03_encode_decode_round_trip(ex03):
    """encode/decode: ids of every character, a round trip, lists, dicts and arrays of ids"""
    text = "When forty winters shall besiege thy brow,\n"
    chars = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ids = ex03.encode(text, dict(char_to_ix))
    ids = int_ids(ids, (len(text),), "encode")
    want = np.array([char_to_ix[ch] for ch in text])
    if not np.array_equal(ids, want):
        bad = int(np.argmax(ids != want))
        raise AssertionError(f"encode: position {bad} ({text[bad]!r}) got id {ids[bad]}, "
                             f"expected char_to_ix[{text[bad]!r}] = {want[bad]}.")
    for label, ix_to_char in (("a list", list(chars)),
                              ("a dict", {i: ch for i, ch in enumerate(chars)})):
        back = ex03.decode(want.tolist(), ix_to_char)
        if back != text:
            raise AssertionError(f"decode (ix_to_char {label}): got {str(back)[:60]!r}, "
                                 f"expected {text[:60]!r}: one character per id, joined.")
    back = ex03.decode(want, list(chars))
    if back != text:
        raise AssertionError("decode: an int array of ids must decode like a list.")


@pytest.mark.points(0.25)
def test_ex03_text_validation(ex03):
    """validation of build_vocab, encode, decode, make_batches: bad input is refused by name"""
    with pytest.raises(ValueError):
        ex03.build_vocab("")
    text = "When forty winters shall besiege thy brow,\n"
    chars = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    raises_naming(lambda: ex03.decode([0, len(chars)], list(chars)), "ixs",
                  f"decode of the id {len(chars)} with V = {len(chars)}")
    with pytest.raises(ValueError):
        ex03.make_batches(_unique_text(12, 304), 4, 3)  # 12 characters: no room for a target
    try:
        ex03.encode("brow?", dict(char_to_ix))
    except ValueError as exc:
        if "?" not in message_of(exc):
            raise AssertionError("encode of a text with '?', which is not in the vocabulary: "
                                 "the ValueError should name the character.") from None
    except KeyError:
        raise AssertionError("encode: a character outside the vocabulary raised KeyError; "
                             "raise ValueError naming the character instead.") from None
    else:
        raise AssertionError("encode: a character outside the vocabulary ('?') must raise "
                             "ValueError, not be skipped or mapped to some id.")


def _row_starts(inputs, data, seq_len):
    """Where each row starts in `data`, or None for a row that is no slice of it."""
    windows = np.lib.stride_tricks.sliding_window_view(data, seq_len)
    starts = []
    for row in inputs:
        hits = np.flatnonzero(np.all(windows == row, axis=1))
        starts.append(hits if len(hits) else None)
    return starts


def check_batches(result, data, seq_len, batch_size, label):
    """The layout of make_batches, checked by properties any correct layout has."""
    inputs, targets = unpack(result, ("inputs", "targets"), "make_batches")
    n_chunks = (len(data) - 1) // (batch_size * seq_len)
    rows = n_chunks * batch_size
    what = f"make_batches ({label})"
    if isinstance(inputs, np.ndarray) and inputs.ndim == 2 and inputs.shape[1] == seq_len \
            and inputs.shape[0] != rows and inputs.shape[0] % batch_size == 0:
        raise AssertionError(
            f"{what} inputs: {inputs.shape[0] // batch_size} chunks, expected K = (L - 1) // "
            f"(B * seq_len) = {n_chunks}: as many chunks as fit, each input with the "
            "character after it." + explain("batch-count"))
    int_ids(inputs, (rows, seq_len), f"{what} inputs")
    int_ids(targets, (rows, seq_len), f"{what} targets")
    if np.array_equal(inputs, targets):
        raise AssertionError(f"{what}: targets equal inputs; the target of each input is the "
                             "character that follows it." + explain("targets-shift"))
    if not np.array_equal(targets[:, :-1], inputs[:, 1:]):
        if np.array_equal(targets[:, 1:], inputs[:, :-1]):
            raise AssertionError(f"{what}: targets are the inputs shifted the wrong way "
                                 "(each target is the character before its input)." +
                                 explain("targets-shift"))
        raise AssertionError(f"{what}: targets[:, :-1] differs from inputs[:, 1:]; within a "
                             "row the target of each input is the next input." +
                             explain("targets-shift"))
    starts = _row_starts(np.concatenate([inputs, targets[:, -1:]], axis=1), data, seq_len + 1)
    bad = [r for r, s in enumerate(starts) if s is None]
    if bad:
        raise AssertionError(f"{what}: row {bad[0]} of inputs followed by its last target is "
                             "not a piece of the text: each row is seq_len consecutive "
                             "characters and its targets the same slice one to the right." +
                             explain("targets-shift"))
    # With a text whose slices are unique, each row has one start.
    start = np.array([s[0] for s in starts]).reshape(n_chunks, batch_size)
    if n_chunks > 1 and not np.all(np.diff(start, axis=0) == seq_len):
        k, b = [int(i) for i in np.argwhere(np.diff(start, axis=0) != seq_len)[0]]
        consecutive = np.all(np.diff(start.reshape(-1)) == seq_len)
        extra = (" Your rows follow each other through the text (row r + 1 continues row "
                 "r), so a chunk is B neighbouring pieces, not B streams.") if consecutive else ""
        raise AssertionError(
            f"{what}: row {(k + 1) * batch_size + b} does not continue row {k * batch_size + b} "
            f"(it starts {int(start[k + 1, b] - start[k, b])} characters later, not seq_len = "
            f"{seq_len}): row k*B + b must continue row (k-1)*B + b, stream b of the batch."
            + extra + explain("batch-stream-layout"))
    ends = start[-1] + seq_len
    if batch_size > 1 and not np.all(start[0, 1:] >= ends[:-1]):
        b = int(np.argmax(start[0, 1:] < ends[:-1]))
        raise AssertionError(f"{what}: stream {b + 1} starts inside stream {b}; the B streams "
                             "are disjoint pieces of the text, in order." +
                             explain("batch-stream-layout"))
    return inputs, targets, start


def _unique_text(length, seed):
    """A text of distinct ids (a shuffle of 0 .. length-1), so every row's place in it is
    known."""
    return _rng(seed).permutation(length)


@pytest.mark.points(1)
def test_ex03_make_batches_shift(ex03):
    """make_batches: shapes (K*B, seq_len), targets are the inputs shifted by one character"""
    data = _unique_text(130, 301)
    check_batches(ex03.make_batches(data.copy(), 8, 3), data, 8, 3, "L=130, seq_len=8, B=3")
    data = _unique_text(41, 302)  # exactly one chunk: (41 - 1) // (4 * 10) = 1
    check_batches(ex03.make_batches(data.copy(), 10, 4), data, 10, 4,
                  "L=41, seq_len=10, B=4, exactly one chunk")


@pytest.mark.points(0.75)
def test_ex03_make_batches_streams(ex03):
    """make_batches: row k*B+b continues row (k-1)*B+b; the first stream starts at data[0]"""
    data = _unique_text(200, 303)
    _, _, start = check_batches(ex03.make_batches(data.copy(), 5, 4), data, 5, 4,
                                "L=200, seq_len=5, B=4")
    if start[0, 0] != 0:
        raise AssertionError("make_batches: the first stream starts at data[0].")
    data = _unique_text(64, 304)
    check_batches(ex03.make_batches(data.copy(), 3, 1), data, 3, 1, "B=1, one stream")


# ---------------------------------------------------------------------------------------
# Part 2: the loss of a chunk
# ---------------------------------------------------------------------------------------


def _loss_case(seed, n=N, t=T, v=V, hh=H):
    rng = _rng(seed)
    params = random_params(rng, v, hh)
    inputs = rng.integers(0, v, (n, t))
    targets = rng.integers(0, v, (n, t))
    h0 = 0.5 * rng.standard_normal((n, hh))
    return params, inputs, targets, h0


def _call_loss(ex03, params, inputs, targets, h0):
    extra = () if h0 is None else (h0.copy(),)
    return unpack(ex03.char_rnn_loss(copy_params(params), inputs.copy(), targets.copy(),
                                     *extra), ("loss", "grads", "h_last"), "char_rnn_loss")


@pytest.mark.points(1)
def test_ex03_char_rnn_loss_values(ex03, request):
    """char_rnn_loss: mean cross-entropy, h_last, h0 used; an untrained model scores log V"""
    params, inputs, targets, h0 = _loss_case(310)
    with exercise1_first(request, "char_rnn_loss"):
        for label, start in (("h0 given", h0), ("h0=None", None)):
            loss, _, h_last = _call_loss(ex03, params, inputs, targets, start)
            want = chunk_loss(params, inputs, targets, start)
            value = scalar(loss, f"char_rnn_loss loss ({label})")
            hint = ""
            if np.isclose(value, chunk_loss(params, targets, inputs, start), rtol=1e-8):
                hint = ("It equals the loss of reading the targets and predicting the "
                        "inputs." + explain("char-inputs-targets"))
            elif start is not None and np.isclose(value, chunk_loss(params, inputs, targets),
                                                  rtol=1e-8):
                hint = "It equals the loss from a zero state." + explain("forward-h0-ignored")
            elif np.isclose(value, want * inputs.size, rtol=1e-8):
                hint = "It equals the sum over all N*T predictions." + explain("ce-not-mean")
            close_scalar(value, want, what=f"char_rnn_loss loss ({label})", hint=hint)
            final = states(params, inputs, start)[:, -1]
            assert_close(h_last, final, what=f"char_rnn_loss h_last ({label})", atol=1e-10,
                         rtol=1e-8, hint="h_last is the state after the last step, (N, H).")
        small = {k: 1e-3 * v for k, v in params.items()}
        loss = scalar(_call_loss(ex03, small, inputs, targets, None)[0],
                      "char_rnn_loss loss (tiny weights)")
        if abs(loss - np.log(V)) > 0.01:
            raise AssertionError(f"char_rnn_loss with tiny weights: loss {loss:.4f}; a model "
                                 f"that knows nothing spreads its bets evenly, so its loss is "
                                 f"about log(V) = {np.log(V):.4f} nats.")


@pytest.mark.points(1.5)
def test_ex03_char_rnn_loss_gradients(ex03, request):
    """char_rnn_loss: every gradient matches centered differences of the loss"""
    params, inputs, targets, h0 = _loss_case(311)
    with exercise1_first(request, "char_rnn_loss"):
        _, grads, _ = _call_loss(ex03, params, inputs, targets, h0)
        if not isinstance(grads, dict) or set(grads) != set(KEYS):
            raise AssertionError(f"char_rnn_loss grads: expected a dict with exactly the keys "
                                 f"{list(KEYS)}, got {type(grads).__name__}.")
        failures = []
        for k in KEYS:
            numeric = numerical_gradient(
                lambda a, k=k: chunk_loss({**params, k: a}, inputs, targets, h0), params[k], 1.0)
            try:
                assert_grad(grads[k], numeric, what=f"char_rnn_loss grads[{k!r}]", tol=1e-6)
            except AssertionError as exc:
                zero_start = numerical_gradient(
                    lambda a, k=k: chunk_loss({**params, k: a}, inputs, targets), params[k], 1.0)
                if same(np.asarray(grads[k]), zero_start, 1e-6):
                    raise AssertionError(
                        f"char_rnn_loss grads[{k!r}]: equals the gradient of a run from a zero "
                        "state, but this chunk starts from h0: the backward pass must start "
                        "from the same h0 as the forward pass." + explain(
                            "forward-h0-ignored")) from None
                if same(np.asarray(grads[k]), numeric * inputs.size, 1e-6):
                    raise AssertionError(
                        f"char_rnn_loss grads[{k!r}]: N*T = {inputs.size} times too large; the "
                        "loss is a mean, and so is its gradient." + explain(
                            "ce-not-mean")) from None
                failures.append(str(exc))
        if failures:
            raise AssertionError(
                f"char_rnn_loss: {len(failures)} of 5 gradients are wrong. The model is "
                "Exercise 1's with one-hot inputs; its gradient is model_loss's." +
                explain("model-chain") + "\n  - " + "\n  - ".join(failures))


@pytest.mark.points(1)
def test_ex03_chunks_with_carried_state(ex03, request):
    """char_rnn_loss: two chunks with the state carried equal one pass over both"""
    params, inputs, targets, h0 = _loss_case(312, t=8)
    with exercise1_first(request, "char_rnn_loss"):
        whole, _, h_whole = _call_loss(ex03, params, inputs, targets, h0)
        first, _, h_mid = _call_loss(ex03, params, inputs[:, :5], targets[:, :5], h0)
        if not isinstance(h_mid, np.ndarray):
            raise AssertionError("char_rnn_loss h_last: expected an array (N, H).")
        second, _, h_end = _call_loss(ex03, params, inputs[:, 5:], targets[:, 5:], h_mid)
        whole, first, second = (scalar(v, "char_rnn_loss loss") for v in (whole, first, second))
        joined = (5 * first + 3 * second) / 8
        close_scalar(whole, chunk_loss(params, inputs, targets, h0),
                     what="char_rnn_loss loss (8 steps in one pass)")
        reset = (5 * first + 3 * chunk_loss(params, inputs[:, 5:], targets[:, 5:])) / 8
        hint = ("The second chunk must start from the first one's h_last, passed as h0." +
                explain("hidden-carry"))
        if np.isclose(joined, reset, rtol=1e-9) and not np.isclose(joined, whole, rtol=1e-6):
            hint = ("The second chunk's loss equals that of a run from a zero state, though "
                    "it was given the first chunk's h_last as h0." + explain("hidden-carry"))
        close_scalar(joined, whole, what="char_rnn_loss: (5 * loss of steps 1-5 + 3 * loss of "
                     "steps 6-8 from h_last) / 8, against the loss of all 8 steps", hint=hint)
        assert_close(h_end, h_whole, what="char_rnn_loss h_last after the second chunk",
                     atol=1e-10, rtol=1e-8, hint=hint)


# ---------------------------------------------------------------------------------------
# Part 3: temperature, one step, sampling
# ---------------------------------------------------------------------------------------


def _temperature_twins(logits, temperature):
    """What three slips would return: the temperature applied after the softmax, with and
    without renormalising, and the logits multiplied by it."""
    p = softmax(logits)
    power = p ** (1.0 / temperature)
    return {"after softmax, divided": p / temperature,
            "after softmax, not renormalised": power,
            "multiplied by the temperature": softmax(logits * temperature)}


@pytest.mark.points(1.25)
def test_ex03_softmax_with_temperature(ex03):
    """softmax_with_temperature: sums to 1, keeps order, T=1 is softmax, limits, stable"""
    logits = np.array([2.0, -1.0, 0.5, 3.0, 0.0])
    for temperature in (1.0, 0.5, 2.5):
        got = ex03.softmax_with_temperature(logits.copy(), temperature)
        want = softmax(logits / temperature)
        got = check_array(got, want.shape, what=f"softmax_with_temperature (T={temperature})")
        hint = ""
        if temperature != 1.0 and same(got, softmax(logits), 1e-9):
            hint = ("It is the softmax at T = 1: the temperature was not used." +
                    explain("temperature-ignored"))
        for name, twin in _temperature_twins(logits, temperature).items():
            if same(got, twin, 1e-9) and temperature != 1.0:
                hint = (f"It equals the softmax with the temperature applied {name}." +
                        explain("temperature-before-softmax"))
        if not hint and not np.isclose(got.sum(), 1.0, atol=1e-9):
            hint = (f"The probabilities sum to {got.sum():.6g}, not 1." +
                    explain("probs-normalised"))
        assert_close(got, want, what=f"softmax_with_temperature (T={temperature})", atol=1e-12,
                     rtol=1e-9, hint=hint or "softmax(logits / temperature)." +
                     explain("temperature-before-softmax"))
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    got = ex03.softmax_with_temperature(rows.copy(), 0.7)
    assert_close(got, softmax(rows / 0.7), what="softmax_with_temperature of a (2, 3) batch",
                 atol=1e-12, rtol=1e-9, hint="Normalise over the last axis: each row is a "
                 "distribution of its own." + explain("probs-normalised"))
    cold = check_array(ex03.softmax_with_temperature(logits.copy(), 0.01), (5,),
                       what="softmax_with_temperature (T=0.01)")
    if not cold[3] > 1 - 1e-12:
        raise AssertionError(f"softmax_with_temperature (T=0.01): the largest logit gets "
                             f"{cold[3]:.6g}; as T -> 0 all probability goes to it (argmax).")
    hot = check_array(ex03.softmax_with_temperature(logits.copy(), 1e6), (5,),
                      what="softmax_with_temperature (T=1e6)")
    assert_close(hot, np.full(5, 0.2), what="softmax_with_temperature (T=1e6)", atol=1e-5,
                 rtol=0, hint="As T grows the distribution approaches uniform.")
    big = np.array([1e4, -1e4, 9990.0, 0.0])
    with np.errstate(all="ignore"):
        got = ex03.softmax_with_temperature(big.copy(), 0.05)
    if isinstance(got, np.ndarray) and got.shape == (4,) and not np.all(np.isfinite(got)):
        raise AssertionError(f"softmax_with_temperature (logits of 1e4, T=0.05): got "
                             f"{got.tolist()}; exp(2e5) overflows to inf, and inf / inf is nan."
                             + explain("softmax-overflow"))
    assert_close(got, softmax(big / 0.05), what="softmax_with_temperature (logits of 1e4, "
                 "T=0.05)", atol=1e-12, rtol=1e-9, hint="exp overflows: subtract the maximum "
                 "of logits / temperature before exp." + explain("softmax-overflow"))


@pytest.mark.points(0.25)
def test_ex03_model_validation(ex03):
    """validation of softmax_with_temperature and perplexity: bad values raise ValueError"""
    logits = np.array([2.0, -1.0, 0.5, 3.0, 0.0])
    for bad in (0.0, -1.0):
        try:
            ex03.softmax_with_temperature(logits.copy(), bad)
        except ValueError:
            continue
        except NotImplementedError:
            raise  # not written yet: that message, not one about error handling
        except Exception as exc:  # noqa: BLE001 - the wrong kind of error
            raise AssertionError(f"softmax_with_temperature(temperature={bad}): raised "
                                 f"{type(exc).__name__}; raise ValueError naming temperature."
                                 + explain("temperature-positive")) from None
        raise AssertionError(f"softmax_with_temperature(temperature={bad}): no error; a "
                             "temperature must be > 0 (ValueError)." +
                             explain("temperature-positive"))
    with pytest.raises(ValueError):
        ex03.perplexity(-0.5)


@pytest.mark.points(1)
def test_ex03_next_char_probs(ex03):
    """next_char_probs: one step from h reading ix gives the model's distribution and h_next"""
    rng = _rng(320)
    params = random_params(rng)
    h = 0.5 * rng.standard_normal(H)
    for ix, temperature in ((3, 1.0), (0, 0.6), (6, 1.7)):
        out = unpack(ex03.next_char_probs(copy_params(params), h.copy(), ix, temperature),
                     ("probs", "h_next"), "next_char_probs")
        want, h_next = step(params, h, ix, temperature)
        assert_close(out[1], h_next, what=f"next_char_probs h_next (ix={ix})", atol=1e-12,
                     rtol=1e-9, hint="h_next = tanh(one_hot(ix) @ Wx + h @ Wh + b), one step "
                     "of Exercise 1's RNN." + explain("next-char-step"))
        hint = "probs = softmax((h_next @ Wy + by) / temperature), from the new state."
        got = check_array(out[0], (V,), what=f"next_char_probs probs (ix={ix}, T={temperature})")
        if same(got, softmax((h @ params["Wy"] + params["by"]) / temperature), 1e-9):
            hint = ("probs equal the prediction from the old state h; predict from the state "
                    "after reading ix." + explain("next-char-step"))
        elif temperature != 1.0 and same(got, step(params, h, ix)[0], 1e-9):
            hint = ("probs are those at T = 1: pass the temperature on to "
                    "softmax_with_temperature." + explain("temperature-ignored"))
        assert_close(got, want, what=f"next_char_probs probs (ix={ix}, T={temperature})",
                     atol=1e-12, rtol=1e-9, hint=hint)


def probs_problem(ex03) -> str:
    """'' when softmax_with_temperature and next_char_probs are right on a small case;
    otherwise the first of them that is not, so a sampling failure names its cause."""
    rng = _rng(329)
    params = random_params(rng)
    h = 0.5 * rng.standard_normal(H)
    logits = np.array([2.0, -1.0, 0.5, 3.0])
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(ex03.softmax_with_temperature(logits.copy(), 0.6), dtype=float)
        if got.shape != (4,) or not same(got, softmax(logits / 0.6), 1e-9):
            return "softmax_with_temperature"
    except Exception:  # noqa: BLE001 - raising for a valid temperature is wrong too
        return "softmax_with_temperature"
    try:
        probs, h_next = ex03.next_char_probs(copy_params(params), h.copy(), 3, 0.6)
        want, want_h = step(params, h, 3, 0.6)
        if not (same(np.asarray(probs, dtype=float), want, 1e-9)
                and same(np.asarray(h_next, dtype=float), want_h, 1e-9)):
            return "next_char_probs"
    except Exception:  # noqa: BLE001
        return "next_char_probs"
    return ""


@contextlib.contextmanager
def probs_first(ex03, what):
    """Run a sampling test; if it fails while a function it draws from is wrong, name that
    function first (its own test names the mistake)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - AssertionError and the student's own errors
        if _not_implemented_name(exc):
            raise
        wrong = probs_problem(ex03)
        if not wrong:
            raise
        raise AssertionError(f"{what}: fails, and it draws from {wrong}, which is wrong too "
                             f"(see the {wrong} test): fix {wrong} first. The failure here: "
                             f"{_first_line(exc)}") from None


def draws_from_probs(test):
    """Decorate a test of sampling: a failure while softmax_with_temperature or
    next_char_probs is wrong names that function first."""
    @functools.wraps(test)
    def run(ex03, *args, **kwargs):
        with probs_first(ex03, (test.__doc__ or test.__name__).partition(":")[0]):
            return test(ex03, *args, **kwargs)
    return run


def successor_model(v=5):
    """A model that (at a low temperature) always writes the character after the one it
    reads, (ix + 1) % v: it ignores its state, so what it writes shows what it read."""
    wy = np.zeros((v, v))
    wy[np.arange(v), (np.arange(v) + 1) % v] = 10.0
    return {"Wx": 4.0 * np.eye(v), "Wh": np.zeros((v, v)), "b": np.zeros(v), "Wy": wy,
            "by": np.zeros(v)}


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_sample_basics(ex03):
    """sample: n ids in range, own draws fed back, same seed same text, the rng argument only"""
    model = successor_model()
    got = id_list(ex03.sample(copy_params(model), None, 2, 7, 0.05, _rng(1)), 7, 5,
                  "sample (a model that writes the next character, T=0.05)")
    want = [3, 4, 0, 1, 2, 3, 4]
    if got != want:
        if got == [3] * 7:
            raise AssertionError("sample: with a model that writes the character after the "
                                 f"one it reads, seed 2 gave {got}: every step read the seed "
                                 "again instead of the character just drawn." +
                                 explain("sample-feed-back"))
        if got == [2, 3, 4, 0, 1, 2, 3]:
            raise AssertionError("sample: the result starts with the seed character; return "
                                 "the n characters drawn after it." +
                                 explain("sample-seed-excluded"))
        raise AssertionError(f"sample: with a model that writes the character after the one "
                             f"it reads (ix + 1) % 5, seed 2 at T=0.05 gave {got}, expected "
                             f"{want}." + explain("sample-feed-back"))
    id_list(ex03.sample(copy_params(model), None, 2, 0, 1.0, _rng(1)), 0, 5, "sample (n=0)")
    rng = _rng(321)
    params = random_params(rng)
    h0 = 0.3 * rng.standard_normal(H)
    state_before = np.random.get_state()[1].copy()
    first = id_list(ex03.sample(copy_params(params), h0.copy(), 1, 300, 1.0, _rng(7)), 300, V,
                    "sample (n=300)")
    again = id_list(ex03.sample(copy_params(params), h0.copy(), 1, 300, 1.0, _rng(7)), 300, V,
                    "sample (n=300, same seed)")
    other = id_list(ex03.sample(copy_params(params), h0.copy(), 1, 300, 1.0, _rng(8)), 300, V,
                    "sample (n=300, another seed)")
    touched = not np.array_equal(np.random.get_state()[1], state_before)
    if first != again or touched:
        raise AssertionError("sample: two calls with generators made from the same seed gave "
                             "different samples" + (" and NumPy's global generator was used"
                                                    if touched else "") +
                             ": draw only from the rng argument." + explain("sample-rng"))
    if first == other:
        raise AssertionError("sample: generators with different seeds gave the same 300 "
                             "characters: draw from the rng argument." + explain("sample-rng"))


def _iid_model(p0):
    """A model whose state is always 0, so every draw comes from softmax(by / T)."""
    v, hh = len(p0), 4
    return {"Wx": np.zeros((v, hh)), "Wh": np.zeros((hh, hh)), "b": np.zeros(hh),
            "Wy": np.zeros((hh, v)), "by": np.log(np.asarray(p0, dtype=np.float64))}


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_sample_follows_next_char_probs(ex03):
    """sample: draws follow next_char_probs at T = 0.5, 1 and 2 (chi-square, 6000 draws each)"""
    p0 = np.array([0.30, 0.22, 0.17, 0.13, 0.10, 0.08])
    model = _iid_model(p0)
    for seed, temperature in ((11, 0.5), (12, 1.0), (13, 2.0)):
        draws = id_list(ex03.sample(copy_params(model), None, 0, 6000, temperature, _rng(seed)),
                        6000, len(p0), f"sample (T={temperature})")
        counts = np.bincount(draws, minlength=len(p0))
        probs = softmax(np.log(p0) / temperature)
        stat, df = pearson(counts, probs)
        limit = chi2_critical(df)
        if stat <= limit:
            continue
        freq = counts / counts.sum()
        hint = "Draw each character with the probability next_char_probs gives it."
        if temperature != 1.0 and pearson(counts, p0)[0] <= limit:
            hint = ("The frequencies follow the distribution at T = 1: the temperature was "
                    "not used." + explain("temperature-ignored"))
        elif np.all(counts[1:] == 0):
            hint = ("Every draw is the most likely character: sample from the distribution, "
                    "do not take its argmax." + explain("sample-follows-probs"))
        else:
            hint += explain("sample-follows-probs")
        raise AssertionError(
            f"sample (a model whose next character never depends on the past, T={temperature})"
            f": frequencies {np.round(freq, 3).tolist()} over 6000 draws, expected "
            f"{np.round(probs, 3).tolist()}; chi-square {stat:.1f} > {limit:.1f}, which a "
            f"correct sampler exceeds with probability {ALPHA:g}. {hint}")


def markov_model(seed=330, v=5, hh=4):
    """A model with Wh = 0: the next character depends on the character read only."""
    rng = _rng(seed)
    return {"Wx": 1.2 * rng.standard_normal((v, hh)), "Wh": np.zeros((hh, hh)),
            "b": 0.2 * rng.standard_normal(hh), "Wy": 0.8 * rng.standard_normal((hh, v)),
            "by": 0.2 * rng.standard_normal(v)}


def memory_model(seed=331, v=4, hh=6):
    """A model whose state matters: the next character depends on the whole past."""
    rng = _rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((hh, hh)))
    return {"Wx": 1.0 * rng.standard_normal((v, hh)), "Wh": 1.1 * q,
            "b": 0.1 * rng.standard_normal(hh), "Wy": 1.0 * rng.standard_normal((hh, v)),
            "by": 0.1 * rng.standard_normal(v)}


def path_probs(params, h0, seed_ix, draws, temperature, feed="draws", carry=True):
    """The distribution of each draw given the draws before it (this file's forward pass);
    `feed="seed"` and `carry=False` give the twins of two mistakes."""
    hh = params["Wh"].shape[0]
    h0 = np.zeros(hh) if h0 is None else h0
    h, ix, out = h0, seed_ix, []
    for d in draws:
        p, h_next = step(params, h if carry else h0, ix, temperature)
        out.append(p)
        h = h_next
        ix = d if feed == "draws" else seed_ix
    return np.array(out)


def loglik(probs, draws):
    return float(np.sum(np.log(probs[np.arange(len(draws)), draws])))


def check_path(draws, params, h0, seed_ix, temperature, label, groups_of):
    """Draws made one after another against the model's distribution of each one."""
    probs = path_probs(params, h0, seed_ix, draws, temperature)
    stat, df = path_statistic(probs, draws, groups_of(probs, draws))
    limit = chi2_critical(df)
    if stat <= limit:
        return
    hint = "Each draw must follow next_char_probs from the state and character before it."
    mid = "sample-follows-probs"
    best = loglik(probs, draws)
    for twin, text, twin_mid in (
            ("seed", "as if every step read the seed character again", "sample-feed-back"),
            ("reset", "as if the state were reset to h0 before every step",
             "sample-carry-state")):
        other = path_probs(params, h0, seed_ix, draws, temperature, feed=twin if twin ==
                           "seed" else "draws", carry=twin != "reset")
        if loglik(other, draws) > best + 10:
            hint, mid = f"The draws are far likelier {text}.", twin_mid
            break
    raise AssertionError(f"sample ({label}): the draws do not follow the model (chi-square "
                         f"{stat:.1f} > {limit:.1f} with {df} degrees of freedom, which a "
                         f"correct sampler exceeds with probability {ALPHA:g}). {hint}" +
                         explain(mid))


def _by_previous(probs, draws, seed_ix):
    return np.concatenate([[seed_ix], draws[:-1]])


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_sample_feeds_back_and_carries_state(ex03):
    """sample: each draw is read next and the state flows on (chi-square over 6000 draws)"""
    model = markov_model()
    draws = id_list(ex03.sample(copy_params(model), None, 2, 6000, 1.0, _rng(21)), 6000, 5,
                    "sample (n=6000)")
    check_path(np.array(draws), model, None, 2, 1.0, "a model whose next character depends "
               "on the character read", lambda p, d: _by_previous(p, d, 2))
    model = memory_model()
    h0 = 0.2 * np.ones(6)
    draws = id_list(ex03.sample(copy_params(model), h0.copy(), 1, 6000, 1.0, _rng(22)), 6000, 4,
                    "sample (n=6000)")
    check_path(np.array(draws), model, h0, 1, 1.0, "a model whose next character depends on "
               "its state", lambda p, d: 4 * _by_previous(p, d, 1) + p.argmax(axis=1))


# ---------------------------------------------------------------------------------------
# Part 4: perplexity and the baseline
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_perplexity(ex03):
    """perplexity: exp of the mean loss in nats; log V gives V"""
    for loss in (np.log(62.0), 1.25, 0.0):
        got = scalar(ex03.perplexity(loss), f"perplexity({loss:.4g})")
        hint = "perplexity = exp(mean loss), the loss in nats."
        if np.isclose(got, 2.0 ** loss):
            hint = "It equals 2 ** loss, for a loss in bits; this loss is in nats."
        close_scalar(got, np.exp(loss), what=f"perplexity({loss:.4g})", rtol=1e-10,
                     hint=hint + explain("perplexity-exp"))


@pytest.mark.points(0.5)
def test_ex03_unigram_loss(ex03):
    """unigram_loss: smoothed training frequencies scored on another text; entropy with none"""
    train = np.array([0, 1, 1, 2, 2, 2, 2, 0, 1, 2])
    evaluate = np.array([2, 3, 1, 2])
    counts = np.bincount(train, minlength=4) + 1.0
    want = -np.mean(np.log(counts / counts.sum())[evaluate])
    got = ex03.unigram_loss(train.copy(), evaluate.copy(), 4)
    close_scalar(got, want, what="unigram_loss (add-one smoothing, V=4)",
                 hint="p[c] = (count[c] + 1) / (len(train) + V), counted on the training ids "
                      "and scored on the evaluation ids." + explain("unigram-baseline"))
    got = ex03.unigram_loss(train.copy(), train.copy(), 4, 0.0)
    close_scalar(got, unigram_entropy(train, 4), what="unigram_loss (its own training text, "
                 "no smoothing)", hint="This is the entropy of the character frequencies." +
                 explain("unigram-baseline"))


# ---------------------------------------------------------------------------------------
# Part 5: training
# ---------------------------------------------------------------------------------------


def check_params_shape(params, v, hh, what):
    if not isinstance(params, dict):
        raise AssertionError(f"{what} params: expected a dict, got {type(params).__name__}.")
    shapes = {"Wx": (v, hh), "Wh": (hh, hh), "b": (hh,), "Wy": (hh, v), "by": (v,)}
    for k, shape in shapes.items():
        if k not in params:
            raise AssertionError(f"{what} params: missing key {k!r}.")
        check_array(params[k], shape, what=f"{what} params[{k!r}]")
    return {k: params[k] for k in KEYS}


def losses_list(losses, what):
    if isinstance(losses, np.ndarray):
        losses = losses.tolist()
    if not isinstance(losses, (list, tuple)):
        raise AssertionError(f"{what} losses: expected a list with one float per training "
                             f"step, got {type(losses).__name__}.")
    return [scalar(v, f"{what} losses entry") for v in losses]


def expected_chunk_losses(params, inputs, targets, batch_size, epochs, carry=True, reset=True):
    """The loss of every training step of a model that does not move (a tiny lr): each
    chunk from the state the previous one left (`carry`), zeros at each epoch (`reset`)."""
    out = []
    hh = params["Wh"].shape[0]
    h = np.zeros((batch_size, hh))
    for _ in range(epochs):
        if reset:
            h = np.zeros((batch_size, hh))
        for k in range(len(inputs) // batch_size):
            rows = slice(k * batch_size, (k + 1) * batch_size)
            start = h if carry else np.zeros((batch_size, hh))
            out.append(chunk_loss(params, inputs[rows], targets[rows], start))
            h = states(params, inputs[rows], start)[:, -1]
    return np.array(out)


def data_problem(ex03) -> str:
    """'' when build_vocab and make_batches, which training builds on, pass small checks;
    otherwise a sentence naming the first that does not."""
    try:
        char_to_ix = unpack(ex03.build_vocab("cab"), ("char_to_ix", "ix_to_char"),
                            "build_vocab")[0]
        if char_to_ix != {"a": 0, "b": 1, "c": 2}:
            return "build_vocab does not number the characters in sorted order"
        data = _unique_text(40, 399)
        check_batches(ex03.make_batches(data.copy(), 3, 2), data, 3, 2, "a small case")
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        return _first_line(exc)
    return ""


@contextlib.contextmanager
def data_first(ex03, what):
    """Run a training test; if it fails while the vocabulary or the batches are wrong,
    say so first: training reads its chunks from them."""
    try:
        yield
    except AssertionError as exc:
        problem = data_problem(ex03)
        if not problem:
            raise
        raise AssertionError(f"{what}: fails, and training reads its data through functions "
                             f"that are wrong: {problem}. Fix them first (see their tests). The "
                             f"failure here: {_first_line(exc)}") from None


def check_training_steps(ex03, request, text, seq_len, batch_size, hidden, epochs, seed):
    """train_char_lm with a learning rate too small to move the model: its losses must be
    the chunk losses of the returned model, state carried within an epoch, reset at each."""
    what = f"train_char_lm (seq_len={seq_len}, batch_size={batch_size}, {epochs} epochs)"
    chars = sorted(set(text))
    v = len(chars)
    data = np.array([chars.index(c) for c in text])
    with exercise1_first(request, "train_char_lm"):
        layout = unpack(ex03.make_batches(data.copy(), seq_len, batch_size),
                        ("inputs", "targets"), "make_batches")
        inputs, targets = (np.asarray(a) for a in layout)
        params, losses = unpack(
            ex03.with_timeout(60).train_char_lm(text, hidden_size=hidden, seq_len=seq_len,
                                                batch_size=batch_size, num_epochs=epochs,
                                                lr=1e-10, rng=_rng(seed)),
            ("params", "losses"), "train_char_lm")
    params = check_params_shape(params, v, hidden, what)
    losses = losses_list(losses, what)
    want = expected_chunk_losses(params, inputs, targets, batch_size, epochs)
    if len(losses) != len(want):
        raise AssertionError(f"{what}: {len(losses)} losses, expected one per step: "
                             f"{len(want) // epochs} chunks (make_batches) x {epochs} epochs = "
                             f"{len(want)}.")
    got = np.array(losses)
    if np.allclose(got, want, rtol=1e-6, atol=1e-9):
        return params
    for carry, reset, text_, mid in (
            (False, True, "every chunk starts from a zero state: the state is not carried "
             "from one chunk to the next", "hidden-carry"),
            (True, False, "the state is carried from the last chunk of one epoch into the "
             "first chunk of the next: each epoch starts from zeros", "hidden-reset-epoch")):
        twin = expected_chunk_losses(params, inputs, targets, batch_size, epochs, carry, reset)
        if np.allclose(got, twin, rtol=1e-6, atol=1e-9):
            raise AssertionError(f"{what}: the step losses are those of a run where {text_}."
                                 + explain(mid))
    bad = int(np.argmax(~np.isclose(got, want, rtol=1e-6, atol=1e-9)))
    raise AssertionError(
        f"{what}: with lr=1e-10 (the model barely moves) the loss of step {bad + 1} is "
        f"{got[bad]:.6g}; the chunk's loss under the returned parameters is {want[bad]:.6g}. "
        "Visit the chunks of make_batches in order, carry each chunk's h_last into the next, "
        "reset the state at each epoch, and record each step's loss before its update." +
        explain("hidden-carry"))


@pytest.mark.points(0.25)
def test_ex03_train_char_lm_zero_epochs(ex03, request):
    """train_char_lm(num_epochs=0): the initial parameters and no losses; max_seconds=0: one step"""
    text = sonnets(0, 400)
    with data_first(ex03, "train_char_lm"), exercise1_first(request, "train_char_lm"):
        zero, losses = unpack(ex03.train_char_lm(text, hidden_size=6, seq_len=7, batch_size=3,
                                                 num_epochs=0, rng=_rng(341)),
                              ("params", "losses"), "train_char_lm(num_epochs=0)")
        start, _ = unpack(ex03.with_timeout(60).train_char_lm(
            text, hidden_size=6, seq_len=7, batch_size=3, num_epochs=1, lr=1e-10,
            rng=_rng(341)), ("params", "losses"), "train_char_lm")
    if len(losses_list(losses, "train_char_lm(num_epochs=0)")) != 0:
        raise AssertionError("train_char_lm(num_epochs=0): expected no losses (one per step, "
                             "and there is none).")
    if not (isinstance(zero, dict) and isinstance(start, dict) and all(
            np.allclose(np.asarray(zero.get(k)), np.asarray(start.get(k)), atol=1e-6)
            for k in KEYS)):
        raise AssertionError("train_char_lm(num_epochs=0): expected the initial parameters "
                             "(those a run with lr=1e-10 starts from, same rng).")
    with data_first(ex03, "train_char_lm"), exercise1_first(request, "train_char_lm"):
        _, one = unpack(ex03.with_timeout(60).train_char_lm(
            text, hidden_size=6, seq_len=7, batch_size=3, num_epochs=2, rng=_rng(341),
            max_seconds=0), ("params", "losses"), "train_char_lm(max_seconds=0)")
    steps = len(losses_list(one, "train_char_lm(max_seconds=0)"))
    if steps != 1:
        raise AssertionError(f"train_char_lm(max_seconds=0): {steps} losses; the clock is "
                             "checked after each step, so exactly one step runs.")


@pytest.mark.points(0.75)
def test_ex03_train_char_lm_carries_state(ex03, request):
    """train_char_lm: chunks in order, the state carried between chunks and reset each epoch"""
    text = sonnets(0, 400)
    with data_first(ex03, "train_char_lm"):
        params = check_training_steps(ex03, request, text, 7, 3, 6, 2, 340)
    again, _ = unpack(ex03.with_timeout(60).train_char_lm(
        text, hidden_size=6, seq_len=7, batch_size=3, num_epochs=1, lr=1e-10, rng=_rng(340)),
        ("params", "losses"), "train_char_lm")
    if not (isinstance(again, dict) and all(
            np.allclose(np.asarray(again.get(k)), params[k], atol=1e-6) for k in KEYS)):
        raise AssertionError("train_char_lm: two runs with generators from the same seed start "
                             "from different parameters; draw the initial parameters from "
                             "the rng argument." + explain("rng-not-threaded"))


@pytest.mark.slow
@pytest.mark.points(1)
def test_ex03_train_char_lm_learns(ex03, request):
    """train_char_lm: 3000 characters of the sonnets, 10 epochs: far below the unigram entropy"""
    text = sonnets(0, 3000)
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    with exercise1_first(request, "train_char_lm"):
        params, losses = unpack(
            ex03.with_timeout(60).train_char_lm(text, hidden_size=32, seq_len=16, batch_size=8,
                                                num_epochs=10, lr=1e-2, rng=_rng(350)),
            ("params", "losses"), "train_char_lm")
    params = check_params_shape(params, len(chars), 32, "train_char_lm")
    losses = losses_list(losses, "train_char_lm")
    loss = chunk_loss(params, ids[None, :-1], ids[None, 1:])
    base = unigram_entropy(ids, len(chars))
    with data_first(ex03, "train_char_lm"):
        check_learned(loss, base, losses)


def check_learned(loss, base, losses):
    if not loss < base - 0.6:
        k = max(1, len(losses) // 10)
        first = np.mean(losses[:k]) if losses else float("nan")
        last = np.mean(losses[-k:]) if losses else float("nan")
        raise AssertionError(
            f"train_char_lm: the trained model scores {loss:.3f} nats per character on its "
            f"training text; the unigram baseline (character frequencies alone) scores "
            f"{base:.3f}, and a model that learns context beats it by more than 0.6 "
            f"(loss per step: first {first:.3f}, last {last:.3f}). Check that every step "
            "clips and applies adam_step to the parameters it then keeps, with the lr given, "
            "and that the gradient tests pass.")


# ---------------------------------------------------------------------------------------
# Part 6: the temperature experiment and the figures
# ---------------------------------------------------------------------------------------


def context_entropies(params, context, temperature):
    """Mean entropy (nats) of the next-character distributions over a context text."""
    scores = states(params, np.asarray(context)[None])[0] @ params["Wy"] + params["by"]
    logp = log_softmax(scores / temperature)
    return float(np.mean(-np.sum(np.exp(logp) * logp, axis=1)))


def distinct_fraction(ids, n):
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    return len(set(grams)) / len(grams)


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_temperature_experiment(ex03):
    """temperature_experiment: entropy over a context, a sample and its distinct n-grams per T"""
    rng = _rng(360)
    params = random_params(rng, scale=1.5)
    context = rng.integers(0, V, 40)
    temps = (0.05, 0.5, 1.0, 3.0)
    rows = ex03.temperature_experiment(copy_params(params), context.copy(), temps, 200, _rng(361),
                                       ngram=3)
    if not isinstance(rows, (list, tuple)) or len(rows) != len(temps):
        raise AssertionError("temperature_experiment: expected a list with one dict per "
                             f"temperature ({len(temps)}).")
    for temp, row in zip(temps, rows, strict=True):
        what = f"temperature_experiment (T={temp})"
        if not isinstance(row, dict) or not {"temperature", "entropy", "sample",
                                             "distinct"} <= set(row):
            raise AssertionError(f"{what}: each row is a dict with the keys temperature, "
                                 "entropy, sample and distinct.")
        close_scalar(row["temperature"], temp, what=f"{what} 'temperature'")
        got = scalar(row["entropy"], f"{what} 'entropy'")
        want = context_entropies(params, context, temp)
        hint = ("The mean over the context's positions of -sum(p * log p), p the next-"
                "character distribution at this temperature after each character read from "
                "a zero state.")
        if temp != 1.0 and (np.isclose(got, context_entropies(params, context, 1.0), rtol=1e-8)
                            or _ignores_temperature(ex03)):
            hint = "It is the entropy at T = 1: use the temperature." + explain(
                "temperature-ignored")
        else:
            hint += explain("entropy-log-probs")
        close_scalar(got, want, what=f"{what} 'entropy'", rtol=1e-7, atol=1e-10, hint=hint)
        drawn = id_list(row["sample"], 200, V, f"{what} 'sample'")
        close_scalar(row["distinct"], distinct_fraction(drawn, 3), what=f"{what} 'distinct'",
                     hint="The fraction of the sample's 3-grams (ngram) that are distinct: "
                          "distinct_ngrams(sample, ngram).")
    if not rows[0]["distinct"] < rows[-1]["distinct"]:
        raise AssertionError("temperature_experiment: the sample at T=0.05 is not less diverse "
                             "than the one at T=3; draw each sample at its own temperature.")


def _ignores_temperature(ex03) -> bool:
    """Does the student's softmax_with_temperature give the same at T = 0.5 and T = 1?"""
    logits = np.array([0.0, 1.0, 2.0])
    with contextlib.suppress(Exception):
        return same(np.asarray(ex03.softmax_with_temperature(logits.copy(), 0.5)),
                    np.asarray(ex03.softmax_with_temperature(logits.copy(), 1.0)))
    return False


@pytest.mark.points(0.5)
def test_ex03_plot_losses(ex03, student_tmp):
    """plot_losses: the loss per step, labelled, with the unigram baseline in the legend"""
    losses = list(3.0 * np.exp(-np.arange(60) / 20.0) + 1.0 + 0.05 * np.sin(np.arange(60)))
    path = student_tmp / "char_lm_loss.png"
    info = figure_info(ex03.plot_losses(list(losses), str(path), baseline=2.5),
                       what="plot_losses")
    assert_png(path, what="plot_losses")
    if len(info["axes"]) != 1:
        raise AssertionError(f"plot_losses: draw on one set of axes; found {len(info['axes'])}.")
    ax = info["axes"][0]
    check_labels(ax, what="plot_losses", legend=2)
    lines = ax["lines"]
    if not any(np.asarray(line["y"]).shape == (60,) and np.allclose(line["y"], losses)
               for line in lines):
        raise AssertionError("plot_losses: no line shows the 60 losses (y = the losses, one "
                             "point per step).")
    if not any(np.allclose(np.asarray(line["y"], dtype=float), 2.5) and
               "baseline" in str(line["label"]).lower() for line in lines):
        raise AssertionError("plot_losses: draw the baseline as a horizontal line at its value "
                             "(y = 2.5 here), labelled 'unigram baseline'.")


@pytest.mark.points(0.5)
def test_ex03_plot_temperature_experiment(ex03, student_tmp):
    """plot_temperature_experiment: entropy and distinct n-grams against temperature"""
    rows = [{"temperature": t, "entropy": e, "distinct": d, "sample": [0, 1, 2]}
            for t, e, d in ((0.5, 0.8, 0.2), (1.0, 1.6, 0.5), (2.0, 2.9, 0.9))]
    path = student_tmp / "temperature.png"
    info = figure_info(ex03.plot_temperature_experiment(rows, str(path)),
                       what="plot_temperature_experiment")
    assert_png(path, what="plot_temperature_experiment")
    found = {"entropy": False, "distinct": False}
    for ax in info["axes"]:
        for line in ax["lines"]:
            x, y = np.asarray(line["x"], dtype=float), np.asarray(line["y"], dtype=float)
            if x.shape != (3,) or not np.allclose(x, [0.5, 1.0, 2.0]):
                continue
            for key in found:
                if np.allclose(y, [r[key] for r in rows]):
                    found[key] = True
                    check_labels(ax, what=f"plot_temperature_experiment ({key} panel)")
    missing = [k for k, ok in found.items() if not ok]
    if missing:
        raise AssertionError(f"plot_temperature_experiment: no line shows the {missing[0]} "
                             "against the temperature (x = the temperatures).")


@pytest.mark.points(0.5)
def test_ex03_no_input_mutation(ex03, request):
    """every function: leaves its input arrays and dicts unchanged"""
    rng = _rng(370)
    params = random_params(rng)
    inputs, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    h0 = 0.3 * rng.standard_normal((N, H))
    data = rng.integers(0, V, 50)
    logits = rng.standard_normal((3, V))
    char_to_ix = {c: i for i, c in enumerate("abc")}
    changed = []

    def run(name, *args):
        kept = [copy_params(a) if isinstance(a, dict) else np.array(a, copy=True)
                if isinstance(a, np.ndarray) else None for a in args]
        getattr(ex03, name)(*args)
        for i, (a, k) in enumerate(zip(args, kept, strict=True)):
            if k is None:
                continue
            if isinstance(a, dict):
                ok = set(a) == set(k) and all(
                    np.array_equal(np.asarray(a[key]), k[key]) for key in k)
            else:
                ok = isinstance(a, np.ndarray) and np.array_equal(a, k)
            if not ok:
                changed.append(f"{name} argument {i + 1}")

    with exercise1_first(request, "char_rnn_loss"):
        run("make_batches", data.copy(), 4, 2)
        run("char_rnn_loss", copy_params(params), inputs.copy(), targets.copy(), h0.copy())
    run("softmax_with_temperature", logits.copy(), 0.5)
    run("next_char_probs", copy_params(params), h0[0].copy(), 2, 0.8)
    run("sample", copy_params(params), h0[0].copy(), 2, 20, 1.0, _rng(1))
    run("encode", "abcab", dict(char_to_ix))
    run("unigram_loss", data.copy(), data[:10].copy(), V)
    if changed:
        raise AssertionError("these calls changed an input: " + ", ".join(changed) + "." +
                             explain("mutates-input"))
