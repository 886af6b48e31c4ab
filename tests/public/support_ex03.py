"""The machinery of tests/public/test_ex03_char_language_model.py: its inputs, its saved
expected values, the statistics of the sampler tests, and the diagnoses that name a
mistake when a test fails.

Expected values at fixed inputs are read from fixtures/ex03.npz: the reference's outputs
on these inputs, and centered differences of the reference's loss (never a backward
pass), saved by the maintainer command `python -m tools.fixtures`. A diagnosis compares
your result with saved "twins": what a classic mistake would give on the same inputs.
Where the expected value depends on what your code returned (the draws of `sample`, the
parameters `train_char_lm` starts from), it is computed with your own
softmax_with_temperature or char_rnn_loss, after checking them against the saved values.
"""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np

from tests.public.harness import (
    REPO,
    assert_close,
    assert_grad,
    check_array,
    check_labels,
    close_scalar,
    first_line,
    message_of,
    not_implemented_name,
    optimizer_problem,
    raised,
    raises_value_error,
    same,
    saved_array,
    scalar,
    unpack,
)
from tests.public.harness import exercise1_first as harness_exercise1_first
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
# The temperatures and logits of the softmax test.
SOFTMAX_TEMPS = (1.0, 0.5, 2.5)
LOGITS = np.array([2.0, -1.0, 0.5, 3.0, 0.0])
NEXT_CHAR_CASES = ((3, 1.0), (0, 0.6), (6, 1.7))
IID_P0 = np.array([0.30, 0.22, 0.17, 0.13, 0.10, 0.08])
IID_CASES = ((11, 0.5), (12, 1.0), (13, 2.0))
EXPERIMENT_TEMPS = (0.05, 0.5, 1.0, 3.0)
# (length, seq_len, batch_size) of every make_batches case of the public tests.
BATCH_CASES = ((130, 8, 3), (41, 10, 4), (200, 5, 4), (64, 3, 1), (40, 3, 2))


def saved(name: str) -> np.ndarray:
    """The saved array `name` of fixtures/ex03.npz."""
    return saved_array("ex03", name)


def rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# Inputs (the fixtures were computed on exactly these)
# ---------------------------------------------------------------------------------------


def random_params(gen, v=V, hh=H, scale=0.6):
    """Wx (v, hh), Wh (hh, hh), b (hh,), Wy (hh, v), by (v,) drawn from `gen`."""
    return {"Wx": scale * gen.standard_normal((v, hh)),
            "Wh": (scale / np.sqrt(hh)) * gen.standard_normal((hh, hh)) * 1.5,
            "b": 0.1 * gen.standard_normal(hh), "Wy": scale * gen.standard_normal((hh, v)),
            "by": 0.1 * gen.standard_normal(v)}


def copy_params(p):
    return {k: np.array(v, copy=True) for k, v in p.items()}


def unigram_entropy(ids, v):
    """The loss of the unigram model on its own training text: the frequencies' entropy."""
    freq = np.bincount(ids, minlength=v) / len(ids)
    freq = freq[freq > 0]
    return float(-np.sum(freq * np.log(freq)))


def sonnets(start, stop) -> str:
    return SONNETS.read_text(encoding="utf-8")[start:stop]


def unique_text(length, seed):
    """A text of distinct ids (a shuffle of 0 .. length-1), so every row's place in it is
    known."""
    return rng(seed).permutation(length)


def loss_case(seed, n=N, t=T, v=V, hh=H):
    """params, inputs (n, t), targets (n, t), h0 (n, hh) of a char_rnn_loss test."""
    gen = rng(seed)
    params = random_params(gen, v, hh)
    inputs = gen.integers(0, v, (n, t))
    targets = gen.integers(0, v, (n, t))
    h0 = 0.5 * gen.standard_normal((n, hh))
    return params, inputs, targets, h0


def exercise1_case():
    """params (V=3, H=4), inputs (2, 3), targets (2, 3), h0 (2, 4) of the Exercise 1 check."""
    gen = rng(3141)
    params = random_params(gen, v=3, hh=4)
    inputs, targets = gen.integers(0, 3, (2, 3)), gen.integers(0, 3, (2, 3))
    return params, inputs, targets, 0.3 * gen.standard_normal((2, 4))


def next_char_case(seed=320):
    """params and a state h (H,) of the next_char_probs test (seed 329: its check)."""
    gen = rng(seed)
    params = random_params(gen)
    return params, 0.5 * gen.standard_normal(H)


def experiment_case():
    """params (scale 1.5) and a context of 40 ids of the temperature experiment."""
    gen = rng(360)
    params = random_params(gen, scale=1.5)
    return params, gen.integers(0, V, 40)


def successor_model(v=5):
    """A model that (at a low temperature) always writes the character after the one it
    reads, (ix + 1) % v: it ignores its state, so what it writes shows what it read."""
    wy = np.zeros((v, v))
    wy[np.arange(v), (np.arange(v) + 1) % v] = 10.0
    return {"Wx": 4.0 * np.eye(v), "Wh": np.zeros((v, v)), "b": np.zeros(v), "Wy": wy,
            "by": np.zeros(v)}


def iid_model(p0):
    """A model whose state is always 0, so every draw comes from softmax(by / T)."""
    v, hh = len(p0), 4
    return {"Wx": np.zeros((v, hh)), "Wh": np.zeros((hh, hh)), "b": np.zeros(hh),
            "Wy": np.zeros((hh, v)), "by": np.log(np.asarray(p0, dtype=np.float64))}


def markov_model(seed=330, v=5, hh=4):
    """A model with Wh = 0: the next character depends on the character read only."""
    gen = rng(seed)
    return {"Wx": 1.2 * gen.standard_normal((v, hh)), "Wh": np.zeros((hh, hh)),
            "b": 0.2 * gen.standard_normal(hh), "Wy": 0.8 * gen.standard_normal((hh, v)),
            "by": 0.2 * gen.standard_normal(v)}


def memory_model(seed=331, v=4, hh=6):
    """A model whose state matters: the next character depends on the whole past."""
    gen = rng(seed)
    q, _ = np.linalg.qr(gen.standard_normal((hh, hh)))
    return {"Wx": 1.0 * gen.standard_normal((v, hh)), "Wh": 1.1 * q,
            "b": 0.1 * gen.standard_normal(hh), "Wy": 1.0 * gen.standard_normal((hh, v)),
            "by": 0.1 * gen.standard_normal(v)}


def mutation_inputs():
    """params, inputs, targets (N, T), h0 (N, H), data (50,), logits (3, V) of the
    input-mutation test."""
    gen = rng(370)
    params = random_params(gen)
    inputs, targets = gen.integers(0, V, (N, T)), gen.integers(0, V, (N, T))
    h0 = 0.3 * gen.standard_normal((N, H))
    return params, inputs, targets, h0, gen.integers(0, V, 50), gen.standard_normal((3, V))


def chunk_count(length, seq_len, batch_size):
    """K, the chunks make_batches gives for a public case (saved from the reference)."""
    table = saved("batch_cases")  # rows (length, seq_len, batch_size, K)
    hit = np.flatnonzero(np.all(table[:, :3] == (length, seq_len, batch_size), axis=1))
    return int(table[hit[0], 3])


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


def call_loss(ex03, params, inputs, targets, h0, timeout=None):
    """(loss, grads, h_last) of the student's char_rnn_loss on copies of the inputs (with
    the grader's per-call timeout, or `timeout` seconds)."""
    extra = () if h0 is None else (h0.copy(),)
    fn = ex03.char_rnn_loss if timeout is None else ex03.with_timeout(timeout).char_rnn_loss
    return unpack(fn(copy_params(params), inputs.copy(), targets.copy(), *extra),
                  ("loss", "grads", "h_last"), "char_rnn_loss")


# ---------------------------------------------------------------------------------------
# Exercise 1 under this exercise: when a test that runs the model fails, check it
# ---------------------------------------------------------------------------------------


def _model_loss_problem(ex01) -> str:
    """'' when ex01.model_loss gives the saved loss, h_last and gradients; otherwise the
    sentence naming what it gets wrong."""
    params, inputs, targets, h0 = exercise1_case()
    loss, grads, h_last = ex01.model_loss(copy_params(params), np.eye(3)[inputs],
                                          targets.copy(), h0.copy())
    if not np.isclose(float(loss), float(saved("e1_loss")), rtol=1e-8):
        return "model_loss gives a wrong loss"
    if not same(np.asarray(h_last), saved("e1_h_last"), 1e-8):
        return "model_loss gives a wrong h_last"
    for k in KEYS:
        if not (isinstance(grads, dict) and same(np.asarray(grads.get(k)),
                                                 saved(f"e1_numeric_{k}"), 1e-6)):
            return f"model_loss gives a wrong gradient for {k}"
    return ""


def _exercise1_checks(ex01) -> str:
    """'' when the Exercise 1 functions this exercise builds on give right answers on a
    small case; otherwise a sentence naming the first one that does not."""
    current = "model_loss"
    try:
        wrong = _model_loss_problem(ex01) or optimizer_problem(ex01)
        if wrong:
            return wrong
        current = "init_params"
        init = ex01.init_params(3, 4, 3, rng(1))
        if not (isinstance(init, dict) and all(k in init for k in KEYS)):
            return "init_params does not return the five parameters"
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        return raised(exc, current)
    return ""


def exercise1_first(request, what):
    """Run a test that runs the model; if it fails while Exercise 1 is wrong, say so first."""
    return harness_exercise1_first(request, what, _exercise1_checks, EX01_FUNCTIONS,
                                   "This exercise", "char-uses-exercise1")


# ---------------------------------------------------------------------------------------
# Part 1: vocabulary, encoding, batches
# ---------------------------------------------------------------------------------------


def check_vocab(result, text):
    """build_vocab's (char_to_ix, ix_to_char): ids 0..V-1 in sorted order, both ways."""
    char_to_ix, ix_to_char = unpack(result, ("char_to_ix", "ix_to_char"), "build_vocab")
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


def check_encoded(ids, text, char_to_ix):
    """encode's ids: one per character, char_to_ix's."""
    ids = int_ids(ids, (len(text),), "encode")
    want = np.array([char_to_ix[ch] for ch in text])
    if not np.array_equal(ids, want):
        bad = int(np.argmax(ids != want))
        raise AssertionError(f"encode: position {bad} ({text[bad]!r}) got id {ids[bad]}, "
                             f"expected char_to_ix[{text[bad]!r}] = {want[bad]}.")
    return want


def check_decoded(back, text, label):
    if back != text:
        raise AssertionError(f"decode (ix_to_char {label}): got {str(back)[:60]!r}, "
                             f"expected {text[:60]!r}: one character per id, joined.")


def check_unknown_character(call):
    """encode of a text with '?', not in the vocabulary: a ValueError naming it."""
    try:
        call()
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


def _check_shift(inputs, targets, what):
    """Within a row the target of each input is the next input."""
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


def _check_streams(start, seq_len, batch_size, what):
    """start (K, B): where each row begins; row k*B + b continues row (k-1)*B + b and the
    B streams are disjoint pieces of the text, in order."""
    n_chunks = start.shape[0]
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


def check_batches(result, data, seq_len, batch_size, label, n_chunks=None):
    """The layout of make_batches, checked by properties any correct layout has; K, the
    number of chunks, is the saved one of a public case unless given."""
    inputs, targets = unpack(result, ("inputs", "targets"), "make_batches")
    if n_chunks is None:
        n_chunks = chunk_count(len(data), seq_len, batch_size)
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
    _check_shift(inputs, targets, what)
    starts = _row_starts(np.concatenate([inputs, targets[:, -1:]], axis=1), data, seq_len + 1)
    bad = [r for r, s in enumerate(starts) if s is None]
    if bad:
        raise AssertionError(f"{what}: row {bad[0]} of inputs followed by its last target is "
                             "not a piece of the text: each row is seq_len consecutive "
                             "characters and its targets the same slice one to the right." +
                             explain("targets-shift"))
    # With a text whose slices are unique, each row has one start.
    start = np.array([s[0] for s in starts]).reshape(n_chunks, batch_size)
    _check_streams(start, seq_len, batch_size, what)
    return inputs, targets, start


# ---------------------------------------------------------------------------------------
# Part 2: the loss of a chunk
# ---------------------------------------------------------------------------------------


def check_loss_value(loss, h_last, label, inputs, start):
    """char_rnn_loss of case 310 (`label` "h0 given" or "h0=None") against the saved loss,
    and twins: inputs and targets swapped, h0 ignored, a sum not a mean."""
    key = "loss310_h0" if start is not None else "loss310_none"
    want = float(saved(f"{key}_loss"))
    value = scalar(loss, f"char_rnn_loss loss ({label})")
    hint = ""
    if np.isclose(value, float(saved(f"{key}_swapped")), rtol=1e-8):
        hint = ("It equals the loss of reading the targets and predicting the "
                "inputs." + explain("char-inputs-targets"))
    elif start is not None and np.isclose(value, float(saved("loss310_none_loss")),
                                          rtol=1e-8):
        hint = "It equals the loss from a zero state." + explain("forward-h0-ignored")
    elif np.isclose(value, want * inputs.size, rtol=1e-8):
        hint = "It equals the sum over all N*T predictions." + explain("ce-not-mean")
    close_scalar(value, want, what=f"char_rnn_loss loss ({label})", hint=hint)
    assert_close(h_last, saved(f"{key}_h_last"), what=f"char_rnn_loss h_last ({label})",
                 atol=1e-10, rtol=1e-8, hint="h_last is the state after the last step, (N, H).")


def check_untrained_loss(loss):
    """With tiny weights every prediction is about uniform: a loss of about log V."""
    loss = scalar(loss, "char_rnn_loss loss (tiny weights)")
    if abs(loss - np.log(V)) > 0.01:
        raise AssertionError(f"char_rnn_loss with tiny weights: loss {loss:.4f}; a model "
                             f"that knows nothing spreads its bets evenly, so its loss is "
                             f"about log(V) = {np.log(V):.4f} nats.")


def _grad_twin(got, k, size):
    """The message when grads[k] is a known mistake's gradient (case 311), else ''."""
    numeric = saved(f"grad311_numeric_{k}")
    if same(got, saved(f"grad311_zero_start_{k}"), 1e-6):
        return (f"char_rnn_loss grads[{k!r}]: equals the gradient of a run from a zero "
                "state, but this chunk starts from h0: the backward pass must start "
                "from the same h0 as the forward pass." + explain("forward-h0-ignored"))
    if same(got, numeric * size, 1e-6):
        return (f"char_rnn_loss grads[{k!r}]: N*T = {size} times too large; the "
                "loss is a mean, and so is its gradient." + explain("ce-not-mean"))
    return ""


def check_loss_grads(grads, size):
    """char_rnn_loss's gradients of case 311 against saved centered differences."""
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        raise AssertionError(f"char_rnn_loss grads: expected a dict with exactly the keys "
                             f"{list(KEYS)}, got {type(grads).__name__}.")
    failures = []
    for k in KEYS:
        try:
            assert_grad(grads[k], saved(f"grad311_numeric_{k}"),
                        what=f"char_rnn_loss grads[{k!r}]", tol=1e-6)
        except AssertionError as exc:
            twin = _grad_twin(np.asarray(grads[k]), k, size)
            if twin:
                raise AssertionError(twin) from None
            failures.append(str(exc))
    if failures:
        raise AssertionError(
            f"char_rnn_loss: {len(failures)} of 5 gradients are wrong. The model is "
            "Exercise 1's with one-hot inputs; its gradient is model_loss's." +
            explain("model-chain") + "\n  - " + "\n  - ".join(failures))


def check_carried(whole, first, second, h_end, h_whole):
    """Case 312: 5 steps, then 3 from the first part's h_last, against all 8 at once."""
    whole, first, second = (scalar(v, "char_rnn_loss loss") for v in (whole, first, second))
    joined = (5 * first + 3 * second) / 8
    close_scalar(whole, float(saved("carry312_whole")),
                 what="char_rnn_loss loss (8 steps in one pass)")
    reset = (5 * first + 3 * float(saved("carry312_second_from_zero"))) / 8
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

_TWINS = {"divided": "after softmax, divided", "power": "after softmax, not renormalised",
          "times": "multiplied by the temperature"}


def check_softmax(got, k):
    """softmax_with_temperature(LOGITS, SOFTMAX_TEMPS[k]) against the saved value, and
    twins: T unused, or applied after the softmax or multiplied."""
    temperature = SOFTMAX_TEMPS[k]
    want = saved(f"softmax{k}")
    got = check_array(got, want.shape, what=f"softmax_with_temperature (T={temperature})")
    hint = ""
    if temperature != 1.0 and same(got, saved("softmax0"), 1e-9):
        hint = ("It is the softmax at T = 1: the temperature was not used." +
                explain("temperature-ignored"))
    for key, name in _TWINS.items():
        if temperature != 1.0 and same(got, saved(f"softmax{k}_{key}"), 1e-9):
            hint = (f"It equals the softmax with the temperature applied {name}." +
                    explain("temperature-before-softmax"))
    if not hint and not np.isclose(got.sum(), 1.0, atol=1e-9):
        hint = (f"The probabilities sum to {got.sum():.6g}, not 1." +
                explain("probs-normalised"))
    assert_close(got, want, what=f"softmax_with_temperature (T={temperature})", atol=1e-12,
                 rtol=1e-9, hint=hint or "softmax(logits / temperature)." +
                 explain("temperature-before-softmax"))


def check_softmax_rows(got):
    assert_close(got, saved("softmax_rows"), what="softmax_with_temperature of a (2, 3) batch",
                 atol=1e-12, rtol=1e-9, hint="Normalise over the last axis: each row is a "
                 "distribution of its own." + explain("probs-normalised"))


def check_softmax_limits(cold, hot):
    """T = 0.01 puts all probability on the largest logit; T = 1e6 is about uniform."""
    if not cold[3] > 1 - 1e-12:
        raise AssertionError(f"softmax_with_temperature (T=0.01): the largest logit gets "
                             f"{cold[3]:.6g}; as T -> 0 all probability goes to it (argmax).")
    assert_close(hot, np.full(5, 0.2), what="softmax_with_temperature (T=1e6)", atol=1e-5,
                 rtol=0, hint="As T grows the distribution approaches uniform.")


def check_softmax_large(got):
    """Logits of 1e4 at T = 0.05: finite, and the saved value."""
    if isinstance(got, np.ndarray) and got.shape == (4,) and not np.all(np.isfinite(got)):
        raise AssertionError(f"softmax_with_temperature (logits of 1e4, T=0.05): got "
                             f"{got.tolist()}; exp(2e5) overflows to inf, and inf / inf is nan."
                             + explain("softmax-overflow"))
    assert_close(got, saved("softmax_large"), what="softmax_with_temperature (logits of 1e4, "
                 "T=0.05)", atol=1e-12, rtol=1e-9, hint="exp overflows: subtract the maximum "
                 "of logits / temperature before exp." + explain("softmax-overflow"))


def check_bad_temperature(call, bad):
    """softmax_with_temperature(temperature=bad) must raise ValueError."""
    why = explain("temperature-positive")
    raises_value_error(call, f"softmax_with_temperature(temperature={bad})",
                       instead="raise ValueError naming temperature." + why,
                       silent="a temperature must be > 0 (ValueError)." + why,
                       returned="no error")


def check_next_char(out, k):
    """next_char_probs of NEXT_CHAR_CASES[k] against the saved (probs, h_next), and twins:
    the prediction from the old state, the temperature unused."""
    ix, temperature = NEXT_CHAR_CASES[k]
    assert_close(out[1], saved(f"next{k}_h_next"), what=f"next_char_probs h_next (ix={ix})",
                 atol=1e-12, rtol=1e-9, hint="h_next = tanh(one_hot(ix) @ Wx + h @ Wh + b), one "
                 "step of Exercise 1's RNN." + explain("next-char-step"))
    hint = "probs = softmax((h_next @ Wy + by) / temperature), from the new state."
    got = check_array(out[0], (V,), what=f"next_char_probs probs (ix={ix}, T={temperature})")
    if same(got, saved(f"next{k}_old_state"), 1e-9):
        hint = ("probs equal the prediction from the old state h; predict from the state "
                "after reading ix." + explain("next-char-step"))
    elif temperature != 1.0 and same(got, saved(f"next{k}_at_one"), 1e-9):
        hint = ("probs are those at T = 1: pass the temperature on to "
                "softmax_with_temperature." + explain("temperature-ignored"))
    assert_close(got, saved(f"next{k}_probs"), what=f"next_char_probs probs (ix={ix}, "
                 f"T={temperature})", atol=1e-12, rtol=1e-9, hint=hint)


def probs_problem(ex03) -> str:
    """'' when softmax_with_temperature and next_char_probs are right on a small case;
    otherwise the first of them that is not, so a sampling failure names its cause."""
    params, h = next_char_case(329)
    logits = np.array([2.0, -1.0, 0.5, 3.0])
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(ex03.softmax_with_temperature(logits.copy(), 0.6), dtype=float)
        if got.shape != (4,) or not same(got, saved("probe_softmax"), 1e-9):
            return "softmax_with_temperature"
    except Exception:  # noqa: BLE001 - raising for a valid temperature is wrong too
        return "softmax_with_temperature"
    try:
        probs, h_next = ex03.next_char_probs(copy_params(params), h.copy(), 3, 0.6)
        if not (same(np.asarray(probs, dtype=float), saved("probe_probs"), 1e-9)
                and same(np.asarray(h_next, dtype=float), saved("probe_h_next"), 1e-9)):
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
        if not_implemented_name(exc):
            raise
        wrong = probs_problem(ex03)
        if not wrong:
            raise
        raise AssertionError(f"{what}: fails, and it draws from {wrong}, which is wrong too "
                             f"(see the {wrong} test): fix {wrong} first. The failure here: "
                             f"{first_line(exc)}") from None


def draws_from_probs(test):
    """Decorate a test of sampling: a failure while softmax_with_temperature or
    next_char_probs is wrong names that function first."""
    @functools.wraps(test)
    def run(ex03, *args, **kwargs):
        with probs_first(ex03, (test.__doc__ or test.__name__).partition(":")[0]):
            return test(ex03, *args, **kwargs)
    return run


def check_successor_sample(got):
    """The successor model from seed 2 at T = 0.05 writes 3, 4, 0, 1, 2, 3, 4."""
    want = [3, 4, 0, 1, 2, 3, 4]
    if got == want:
        return
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


def check_seeded(first, again, other, touched):
    """Same seed, same draws; another seed, others; NumPy's global generator untouched."""
    if first != again or touched:
        raise AssertionError("sample: two calls with generators made from the same seed gave "
                             "different samples" + (" and NumPy's global generator was used"
                                                    if touched else "") +
                             ": draw only from the rng argument." + explain("sample-rng"))
    if first == other:
        raise AssertionError("sample: generators with different seeds gave the same 300 "
                             "characters: draw from the rng argument." + explain("sample-rng"))


def check_iid_draws(draws, k):
    """Draws of the model that ignores the past (IID_CASES[k]) against the saved
    softmax(log p0 / T): a chi-square test, and twins: T = 1, argmax."""
    temperature = IID_CASES[k][1]
    counts = np.bincount(draws, minlength=len(IID_P0))
    probs = saved(f"iid{k}_probs")
    stat, df = pearson(counts, probs)
    limit = chi2_critical(df)
    if stat <= limit:
        return
    freq = counts / counts.sum()
    hint = "Draw each character with the probability next_char_probs gives it."
    if temperature != 1.0 and pearson(counts, IID_P0)[0] <= limit:
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


def checked_softmax(ex03):
    """The student's softmax_with_temperature as probs_of(scores (K, V), temperature) ->
    (K, V), once it gives the saved values at T = 1 (one call for all rows when it is right
    on a batch, one call per row otherwise): the distribution of each draw of the path
    tests comes from it."""
    def one(logits, temperature):
        with np.errstate(all="ignore"):
            return np.asarray(ex03.softmax_with_temperature(logits.copy(), temperature),
                              dtype=float)

    if not same(one(LOGITS, 1.0), saved("softmax0"), 1e-9):
        raise AssertionError("sample: the distribution of each draw is checked against your "
                             "softmax_with_temperature, which gives wrong values at T = 1: fix "
                             "it first (see its test).")
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    if same(one(rows, 1.0), saved("softmax_rows_at_one"), 1e-9):
        return one
    return lambda scores, temperature: np.array([one(row, temperature) for row in scores])


def states(params, inputs, h0):
    """Hidden states (N, T, H) of the RNN reading the one-hot characters `inputs` (N, T)
    from h0 (N, H) (a one-hot row times Wx is a row of Wx)."""
    h = h0
    out = np.zeros(inputs.shape + (params["Wh"].shape[0],))
    for t in range(inputs.shape[1]):
        h = np.tanh(params["Wx"][inputs[:, t]] + h @ params["Wh"] + params["b"])
        out[:, t] = h
    return out


def path_probs(probs_of, params, h0, seed_ix, draws, temperature, feed="draws",
               carry=True):
    """The distribution (len(draws), V) of each draw given the draws before it: softmax
    of the scores of the state after reading the previous draw (the seed first), by
    `probs_of`; `feed="seed"` and `carry=False` give the twins of two mistakes."""
    hh = params["Wh"].shape[0]
    h0 = np.zeros(hh) if h0 is None else np.asarray(h0, dtype=float)
    read = np.concatenate([[seed_ix], draws[:-1]]).astype(int)
    if feed == "seed":
        read = np.full(len(draws), seed_ix)
    if carry:  # one stream of len(draws) steps
        inputs, start = read[None], h0[None]
    else:  # every step its own stream of one step from h0
        inputs, start = read[:, None], np.tile(h0, (len(read), 1))
    scores = states(params, inputs, start) @ params["Wy"] + params["by"]
    return probs_of(scores.reshape(len(read), -1), temperature)


def loglik(probs, draws):
    return float(np.sum(np.log(probs[np.arange(len(draws)), draws])))


def check_path(draws, params, h0, seed_ix, temperature, label, groups_of, probs_of):
    """Draws made one after another against the model's distribution of each one
    (`probs_of(scores, temperature)`: softmax_with_temperature over the rows)."""
    probs = path_probs(probs_of, params, h0, seed_ix, draws, temperature)
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
        other = path_probs(probs_of, params, h0, seed_ix, draws, temperature,
                           feed=twin if twin == "seed" else "draws", carry=twin != "reset")
        if loglik(other, draws) > best + 10:
            hint, mid = f"The draws are far likelier {text}.", twin_mid
            break
    raise AssertionError(f"sample ({label}): the draws do not follow the model (chi-square "
                         f"{stat:.1f} > {limit:.1f} with {df} degrees of freedom, which a "
                         f"correct sampler exceeds with probability {ALPHA:g}). {hint}" +
                         explain(mid))


def by_previous(probs, draws, seed_ix):
    return np.concatenate([[seed_ix], draws[:-1]])


# ---------------------------------------------------------------------------------------
# Part 4: perplexity and the baseline
# ---------------------------------------------------------------------------------------


def check_perplexity(got, loss):
    hint = "perplexity = exp(mean loss), the loss in nats."
    if np.isclose(got, 2.0 ** loss):
        hint = "It equals 2 ** loss, for a loss in bits; this loss is in nats."
    close_scalar(got, np.exp(loss), what=f"perplexity({loss:.4g})", rtol=1e-10,
                 hint=hint + explain("perplexity-exp"))


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


def checked_loss(ex03, what, with_h0=True):
    """The student's char_rnn_loss as loss_of(params, inputs, targets, h0) -> (loss,
    h_last), once it gives the saved loss and h_last of case 310 (from h0 too unless
    `with_h0` is False): the expected losses of a training run come from it."""
    params, inputs, targets, h0 = loss_case(310)

    def loss_of(p, x, y, start=None):  # a whole text in one pass may take a while
        loss, _, h_last = call_loss(ex03, p, x, y, start, timeout=60)
        return scalar(loss, f"{what}: char_rnn_loss loss"), np.asarray(h_last, dtype=float)

    for key, start in (("none", None), ("h0", h0)) if with_h0 else (("none", None),):
        loss, h_last = loss_of(params, inputs, targets, start)
        if not (np.isclose(loss, float(saved(f"loss310_{key}_loss")), rtol=1e-8)
                and same(h_last, saved(f"loss310_{key}_h_last"), 1e-8)):
            raise AssertionError(f"{what}: the losses are checked with your char_rnn_loss, "
                                 "which gives a wrong loss or h_last: fix char_rnn_loss first "
                                 "(see its test).")
    return loss_of


def expected_chunk_losses(loss_of, params, inputs, targets, batch_size, epochs, carry=True,
                          reset=True):
    """The loss of every training step of a model that does not move (a tiny lr): each
    chunk (B rows of inputs and targets) from the state the previous one left (`carry`),
    zeros at each epoch (`reset`); `loss_of` as checked_loss returns it."""
    out = []
    hh = params["Wh"].shape[0]
    chunks = list(zip(inputs.reshape(-1, batch_size, inputs.shape[1]),
                      targets.reshape(-1, batch_size, targets.shape[1]), strict=True))
    h = np.zeros((batch_size, hh))
    for _ in range(epochs):
        if reset:
            h = np.zeros((batch_size, hh))
        for chunk_inputs, chunk_targets in chunks:
            start = h if carry else np.zeros((batch_size, hh))
            loss, h = loss_of(params, chunk_inputs, chunk_targets, start)
            out.append(loss)
    return np.array(out)


def data_problem(ex03) -> str:
    """'' when build_vocab and make_batches, which training builds on, pass small checks;
    otherwise a sentence naming the first that does not."""
    try:
        char_to_ix = unpack(ex03.build_vocab("cab"), ("char_to_ix", "ix_to_char"),
                            "build_vocab")[0]
        if char_to_ix != {"a": 0, "b": 1, "c": 2}:
            return "build_vocab does not number the characters in sorted order"
        data = unique_text(40, 399)
        check_batches(ex03.make_batches(data.copy(), 3, 2), data, 3, 2, "a small case")
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        return first_line(exc)
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
                             f"failure here: {first_line(exc)}") from None


def _check_step_losses(got, want, twins, epochs, what):
    """The losses of a run at lr=1e-10 against the chunk losses; twins (losses, text,
    misconception) name a run that mishandles the state."""
    if len(got) != len(want):
        raise AssertionError(f"{what}: {len(got)} losses, expected one per step: "
                             f"{len(want) // epochs} chunks (make_batches) x {epochs} epochs = "
                             f"{len(want)}.")
    got = np.array(got)
    if np.allclose(got, want, rtol=1e-6, atol=1e-9):
        return
    for twin, text_, mid in twins():
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


def check_training_steps(ex03, request, text, seq_len, batch_size, hidden, epochs, seed,
                         loss_of=None):
    """train_char_lm with a learning rate too small to move the model: its losses must be
    the chunk losses of the returned model, state carried within an epoch, reset at each.
    `loss_of(params, inputs, targets, h0) -> (loss, h_last)` computes a chunk's loss (the
    student's checked char_rnn_loss unless given)."""
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
                                                lr=1e-10, rng=rng(seed)),
            ("params", "losses"), "train_char_lm")
    params = check_params_shape(params, v, hidden, what)
    losses = losses_list(losses, what)
    loss_of = loss_of or checked_loss(ex03, what)
    want = expected_chunk_losses(loss_of, params, inputs, targets, batch_size, epochs)

    def twins():
        for carry, reset, text_, mid in (
                (False, True, "every chunk starts from a zero state: the state is not carried "
                 "from one chunk to the next", "hidden-carry"),
                (True, False, "the state is carried from the last chunk of one epoch into the "
                 "first chunk of the next: each epoch starts from zeros", "hidden-reset-epoch")):
            yield (expected_chunk_losses(loss_of, params, inputs, targets, batch_size, epochs,
                                         carry, reset), text_, mid)

    _check_step_losses(losses, want, twins, epochs, what)
    return params


def check_zero_epochs(zero, losses, start):
    """num_epochs=0: no losses, the parameters a run with the same rng starts from."""
    if len(losses_list(losses, "train_char_lm(num_epochs=0)")) != 0:
        raise AssertionError("train_char_lm(num_epochs=0): expected no losses (one per step, "
                             "and there is none).")
    if not (isinstance(zero, dict) and isinstance(start, dict) and all(
            np.allclose(np.asarray(zero.get(k)), np.asarray(start.get(k)), atol=1e-6)
            for k in KEYS)):
        raise AssertionError("train_char_lm(num_epochs=0): expected the initial parameters "
                             "(those a run with lr=1e-10 starts from, same rng).")


def check_same_start(again, params):
    """Two runs with generators from the same seed start from the same parameters."""
    if not (isinstance(again, dict) and all(
            np.allclose(np.asarray(again.get(k)), params[k], atol=1e-6) for k in KEYS)):
        raise AssertionError("train_char_lm: two runs with generators from the same seed start "
                             "from different parameters; draw the initial parameters from "
                             "the rng argument." + explain("rng-not-threaded"))


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


def distinct_fraction(ids, n):
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    return len(set(grams)) / len(grams)


def _ignores_temperature(ex03) -> bool:
    """Does the student's softmax_with_temperature give the same at T = 0.5 and T = 1?"""
    logits = np.array([0.0, 1.0, 2.0])
    with contextlib.suppress(Exception):
        return same(np.asarray(ex03.softmax_with_temperature(logits.copy(), 0.5)),
                    np.asarray(ex03.softmax_with_temperature(logits.copy(), 1.0)))
    return False


def check_experiment_row(ex03, row, k):
    """Row k of temperature_experiment (EXPERIMENT_TEMPS[k]): the saved entropy, a sample
    of 200 ids and the fraction of its 3-grams that are distinct."""
    temp = EXPERIMENT_TEMPS[k]
    what = f"temperature_experiment (T={temp})"
    if not isinstance(row, dict) or not {"temperature", "entropy", "sample",
                                         "distinct"} <= set(row):
        raise AssertionError(f"{what}: each row is a dict with the keys temperature, "
                             "entropy, sample and distinct.")
    close_scalar(row["temperature"], temp, what=f"{what} 'temperature'")
    got = scalar(row["entropy"], f"{what} 'entropy'")
    hint = ("The mean over the context's positions of -sum(p * log p), p the next-"
            "character distribution at this temperature after each character read from "
            "a zero state.")
    at_one = float(saved(f"entropy{EXPERIMENT_TEMPS.index(1.0)}"))
    if temp != 1.0 and (np.isclose(got, at_one, rtol=1e-8) or _ignores_temperature(ex03)):
        hint = "It is the entropy at T = 1: use the temperature." + explain(
            "temperature-ignored")
    else:
        hint += explain("entropy-log-probs")
    close_scalar(got, float(saved(f"entropy{k}")), what=f"{what} 'entropy'", rtol=1e-7,
                 atol=1e-10, hint=hint)
    drawn = id_list(row["sample"], 200, V, f"{what} 'sample'")
    close_scalar(row["distinct"], distinct_fraction(drawn, 3), what=f"{what} 'distinct'",
                 hint="The fraction of the sample's 3-grams (ngram) that are distinct: "
                      "distinct_ngrams(sample, ngram).")


def check_loss_plot(info, losses):
    """One set of axes, labelled, a line of the losses and the baseline at 2.5."""
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


def check_temperature_plot(info, rows):
    """A line of the entropies and one of the distinct fractions against the temperatures,
    each on labelled axes."""
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


def mutation_runner(ex03, changed):
    """run(name, *args): call ex03.name(*args) and add 'name argument i' to `changed` for
    every array or dict argument the call changed."""
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
    return run
