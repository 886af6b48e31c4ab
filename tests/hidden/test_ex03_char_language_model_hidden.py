"""Hidden tests for Exercise 3: the student's functions against the reference solution at
vocabularies, sizes, temperatures and seeds the public tests never use.

Expected values come from the reference (imported in the grading process, never from the
student's process) or, for sampling, from the public tests' statistics at other models;
failure messages do not reveal them (`reveal=False`).
"""

from __future__ import annotations

import numpy as np
import pytest

from solutions import ex_03_char_language_model as ref
from tests.public import support_ex03 as pub
from tests.public.harness import assert_close, check_array, raises_naming, raises_value_error
from tests.public.misconceptions import explain

KEYS = ("Wx", "Wh", "b", "Wy", "by")


def _rng(seed):
    return np.random.default_rng(seed)


def _close(got, expected, what, hint="", atol=1e-10, rtol=1e-7):
    assert_close(got, expected, what=what, atol=atol, rtol=rtol, hint=hint, reveal=False)


def _close_scalar(got, expected, what, hint="", atol=1e-10, rtol=1e-8):
    if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1:
        got = got.reshape(())[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
        raise AssertionError(f"{what}: expected a float, got {type(got).__name__}.")
    _close(np.asarray(float(got)), np.asarray(float(expected)), what, hint, atol, rtol)


def _params(rng, v, h, scale=0.6):
    return pub.random_params(rng, v, h, scale)


def _ref_probs(scores, temperature):
    """The reference's softmax_with_temperature: the distribution of each draw of a path test."""
    return ref.softmax_with_temperature(scores, temperature)


def _ref_loss(params, inputs, targets, h0=None):
    """The reference's (loss, h_last) of one chunk: the expected losses of a training run."""
    loss, _, h_last = ref.char_rnn_loss(pub.copy_params(params), inputs, targets, h0)
    return float(loss), h_last


# ---------------------------------------------------------------------------------------
# Bad arguments (the contract: a ValueError naming the argument) and float32 inputs.
# Found missing by the automatic mutants (tests/mutants/automatic).
# ---------------------------------------------------------------------------------------


def _bad_arguments(ex03, group):
    rng = _rng(9399)
    p = _params(rng, 5, 4)
    ids = rng.integers(0, 5, (2, 3))
    i2c = {0: "a", 1: "b"}
    cases = {
        "text": [
            ("build_vocab('')", lambda: ex03.build_vocab(""), "text"),
            ("decode([7], ...) with V=2", lambda: ex03.decode([7], i2c), "ixs"),
        ],
        "batches": [
            ("make_batches(data=[0.5, ...])", lambda: ex03.make_batches(np.full(50, 0.5), 2, 2),
             "data"),
            ("make_batches(seq_len=0)", lambda: ex03.make_batches(np.arange(50), 0, 2),
             "seq_len"),
            ("make_batches(batch_size=0)", lambda: ex03.make_batches(np.arange(50), 2, 0),
             "batch_size"),
            ("make_batches with 4 ids for seq_len=2, batch_size=2",
             lambda: ex03.make_batches(np.arange(4), 2, 2), "data"),
        ],
        "loss": [
            ("char_rnn_loss(inputs holding V)",
             lambda: ex03.char_rnn_loss(p, np.where(ids == 0, 5, ids), ids, None), "inputs"),
            ("char_rnn_loss(targets of another shape)",
             lambda: ex03.char_rnn_loss(p, ids, ids[:, :2], None), "targets"),
            ("char_rnn_loss(h0 of shape (2, 3))",
             lambda: ex03.char_rnn_loss(p, ids, ids, np.zeros((2, 3))), "h0"),
        ],
        "softmax": [
            ("softmax_with_temperature(temperature=inf)",
             lambda: ex03.softmax_with_temperature(np.ones(3), float("inf")), "temperature"),
        ],
        "sampling": [
            ("next_char_probs(h of shape (3,))",
             lambda: ex03.next_char_probs(p, np.zeros(3), 1, 1.0), "h"),
            ("next_char_probs(ix=V)", lambda: ex03.next_char_probs(p, np.zeros(4), 5, 1.0), "ix"),
            ("sample(n=-1)", lambda: ex03.sample(p, None, 0, -1, 1.0, _rng(1)), "n"),
            ("sample(rng=a seed)", lambda: ex03.sample(p, None, 0, 3, 1.0, 7), "rng"),
        ],
        "perplexity": [
            ("perplexity(-1.0)", lambda: ex03.perplexity(-1.0), "mean_loss"),
        ],
    }
    for what, call, name in cases[group]:
        raises_naming(call, name, what)


# ---------------------------------------------------------------------------------------
# Text and batches
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_hidden_vocab_and_codes(ex03):
    """build_vocab/encode/decode: accented letters, one repeated character, a long round trip"""
    cases = ("Ça coûte €5 — naïve façade!\n", "zzzzzz", pub.sonnets(5000, 7000))
    for text in cases:
        label = f"text of {len(text)} characters, {len(set(text))} distinct"
        char_to_ix, ix_to_char = pub.unpack(ex03.build_vocab(text), ("char_to_ix", "ix_to_char"),
                                            "build_vocab")
        want, _ = ref.build_vocab(text)
        if char_to_ix != want:
            raise AssertionError(f"build_vocab ({label}): char_to_ix differs from the sorted "
                                 "vocabulary." + explain("vocab-sorted"))
        ids = pub.int_ids(ex03.encode(text, dict(char_to_ix)), (len(text),), f"encode ({label})")
        if not np.array_equal(ids, ref.encode(text, want)):
            raise AssertionError(f"encode ({label}): wrong ids.")
        back = ex03.decode(ids.tolist(), ix_to_char)
        if back != text:
            raise AssertionError(f"decode ({label}): decode(encode(text)) is not the text.")


@pytest.mark.points(0.75)
def test_ex03_hidden_make_batches(ex03):
    """make_batches: other lengths, seq_len=1, B=1, an exact fit and a large remainder"""
    for length, seq_len, batch, seed in ((97, 6, 5, 1), (50, 1, 7, 2), (37, 12, 1, 3),
                                         (121, 4, 6, 4), (300, 13, 2, 5)):
        data = pub.unique_text(length, 9300 + seed)
        label = f"L={length}, seq_len={seq_len}, B={batch}"
        n_chunks = len(ref.make_batches(data.copy(), seq_len, batch)[0]) // batch
        pub.check_batches(ex03.make_batches(data.copy(), seq_len, batch), data, seq_len,
                          batch, label, n_chunks)


# ---------------------------------------------------------------------------------------
# The loss and its gradients against the reference
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1.5)
def test_ex03_hidden_char_rnn_loss_vs_reference(ex03, request):
    """char_rnn_loss: loss, gradients and h_last match the reference at other sizes"""
    rng = _rng(9301)
    cases = [(3, 9, 11, 7, True), (1, 1, 4, 3, True), (4, 5, 2, 6, False), (2, 30, 9, 8, True)]
    with pub.exercise1_first(request, "char_rnn_loss"):
        for n, t, v, h, with_h0 in cases:
            label = f"N={n}, T={t}, V={v}, H={h}" + ("" if with_h0 else ", h0=None")
            params = _params(rng, v, h)
            inputs, targets = rng.integers(0, v, (n, t)), rng.integers(0, v, (n, t))
            h0 = 0.5 * rng.standard_normal((n, h)) if with_h0 else None
            extra = () if h0 is None else (h0.copy(),)
            out = pub.unpack(ex03.char_rnn_loss(pub.copy_params(params), inputs.copy(),
                                                targets.copy(), *extra),
                             ("loss", "grads", "h_last"), "char_rnn_loss")
            want = ref.char_rnn_loss(pub.copy_params(params), inputs.copy(), targets.copy(),
                                     *extra)
            _close_scalar(out[0], want[0], f"char_rnn_loss loss ({label})",
                          hint="the mean over N*T predictions, from h0.")
            if not isinstance(out[1], dict) or set(out[1]) != set(KEYS):
                raise AssertionError(f"char_rnn_loss grads ({label}): a dict with the keys "
                                     f"{list(KEYS)}.")
            for k in KEYS:
                _close(out[1][k], want[1][k], f"char_rnn_loss grads[{k!r}] ({label})",
                       hint="make the public gradient test pass first; no size may be "
                            "hard-coded.")
            _close(out[2], want[2], f"char_rnn_loss h_last ({label})")


# ---------------------------------------------------------------------------------------
# Temperature, one step, sampling
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_hidden_softmax_with_temperature(ex03):
    """softmax_with_temperature: extreme logits and temperatures, 3-D batches, float32 logits"""
    rng = _rng(9302)
    cases = [(rng.standard_normal((2, 3, 9)) * 50, 0.01), (np.array([3e5, -3e5, 2.9e5]), 0.3),
             (rng.standard_normal(13), 7.5), (np.array([1.0]), 0.2),
             (rng.standard_normal((4, 5)), 1e-4)]
    for logits, temp in cases:
        label = f"shape {logits.shape}, T={temp}"
        with np.errstate(all="ignore"):
            got = ex03.softmax_with_temperature(logits.copy(), temp)
        want = ref.softmax_with_temperature(logits.copy(), temp)
        # Only a result that is not finite is an overflow; a finite one at T = 1 ignored T.
        overflow = isinstance(got, np.ndarray) and not np.all(np.isfinite(got))
        at_one = not overflow and isinstance(got, np.ndarray) and got.shape == want.shape \
            and np.allclose(got, ref.softmax_with_temperature(logits.copy(), 1.0), atol=1e-12)
        mid = ("temperature-ignored" if at_one else "softmax-overflow" if overflow
               else "temperature-before-softmax")
        _close(got, want, f"softmax_with_temperature ({label})", atol=1e-12, rtol=1e-9,
               hint="softmax over the last axis of logits / T, stable for any size." +
               explain(mid))
    probs = ex03.softmax_with_temperature(np.array([0.1, 0.2, 0.3], np.float32), 0.7)
    if not isinstance(probs, np.ndarray) or probs.dtype != np.float64:
        raise AssertionError("softmax_with_temperature (float32 logits): return float64 "
                             "probabilities." + explain("float32-precision"))


@pytest.mark.points(0.75)
def test_ex03_hidden_next_char_and_sampling(ex03):
    """next_char_probs and sample: other vocabularies, temperatures and seeds"""
    rng = _rng(9303)
    params = _params(rng, 11, 6)
    h = 0.4 * rng.standard_normal(6)
    for ix, temp in ((10, 0.35), (0, 3.0), (4, 1.0)):
        out = pub.unpack(ex03.next_char_probs(pub.copy_params(params), h.copy(), ix, temp),
                         ("probs", "h_next"), "next_char_probs")
        want = ref.next_char_probs(pub.copy_params(params), h.copy(), ix, temp)
        _close(out[0], want[0], f"next_char_probs probs (V=11, ix={ix}, T={temp})",
               atol=1e-12, rtol=1e-9)
        _close(out[1], want[1], f"next_char_probs h_next (V=11, ix={ix})", atol=1e-12,
               rtol=1e-9)
    p0 = np.array([0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04])
    model = pub.iid_model(p0)
    draws = pub.id_list(ex03.sample(pub.copy_params(model), None, 3, 8000, 0.8, _rng(9304)),
                        8000, 8, "sample (V=8, T=0.8)")
    stat, df = pub.pearson(np.bincount(draws, minlength=8),
                           ref.softmax_with_temperature(np.log(p0), 0.8))
    if stat > pub.chi2_critical(df):
        at_one = pub.pearson(np.bincount(draws, minlength=8), p0)[0] <= pub.chi2_critical(df)
        raise AssertionError("sample (V=8, T=0.8, a model that ignores the past): the "
                             "frequencies do not follow next_char_probs" +
                             (" but the distribution at T = 1." + explain("temperature-ignored")
                              if at_one else "." + explain("sample-follows-probs")))
    model = pub.markov_model(seed=9305, v=6, hh=5)
    draws = pub.id_list(ex03.sample(pub.copy_params(model), None, 5, 8000, 1.3, _rng(9306)),
                        8000, 6, "sample (V=6, T=1.3)")
    pub.check_path(np.array(draws), model, None, 5, 1.3, "V=6, T=1.3, the next character "
                   "depends on the one read", lambda p, d: pub.by_previous(p, d, 5),
                   _ref_probs)
    model = pub.memory_model(seed=9307, v=3, hh=5)
    h0 = -0.3 * np.ones(5)
    draws = pub.id_list(ex03.sample(pub.copy_params(model), h0.copy(), 2, 8000, 0.9,
                                    _rng(9308)), 8000, 3, "sample (V=3, T=0.9)")
    pub.check_path(np.array(draws), model, h0, 2, 0.9, "V=3, T=0.9, the next character depends "
                   "on the state", lambda p, d: 3 * pub.by_previous(p, d, 2) + p.argmax(axis=1),
                   _ref_probs)
    first = ex03.sample(pub.copy_params(params), h.copy(), 2, 120, 1.5, _rng(77))
    second = ex03.sample(pub.copy_params(params), h.copy(), 2, 120, 1.5, _rng(77))
    if list(first) != list(second):
        raise AssertionError("sample: the same seed gave different samples." +
                             explain("sample-rng"))


# ---------------------------------------------------------------------------------------
# Measuring, training, the temperature experiment
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_hidden_perplexity_and_unigram(ex03):
    """perplexity and unigram_loss: other values, smoothing and vocabularies"""
    for loss in (3.7, 0.01, np.float64(2.2)):
        _close_scalar(ex03.perplexity(loss), ref.perplexity(loss), f"perplexity({float(loss)})",
                      hint=explain("perplexity-exp"))
    rng = _rng(9309)
    train, evaluate = rng.integers(0, 9, 200), rng.integers(0, 12, 60)
    for smoothing in (1.0, 0.5, 3.0):
        got = ex03.unigram_loss(train.copy(), evaluate.copy(), 12, smoothing)
        want = ref.unigram_loss(train.copy(), evaluate.copy(), 12, smoothing)
        _close_scalar(got, want, f"unigram_loss (V=12, smoothing={smoothing}, characters never "
                      "seen in training)", hint=explain("unigram-baseline"))


# ---------------------------------------------------------------------------------------
# Validation: bad arguments raise a ValueError naming the argument (Conventions). Apart from
# the tests of the values, so a different message costs these points only.
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex03_hidden_text_validation(ex03):
    """validation of build_vocab, decode, make_batches: a bad argument raises naming it"""
    raises_value_error(lambda: ex03.decode([0, 5], ["a", "b"]), "decode([0, 5]) with V=2")
    raises_value_error(lambda: ex03.make_batches(np.arange(10), 3, 4),
                       "make_batches with 10 ids for seq_len=3, batch_size=4")
    raises_value_error(lambda: ex03.make_batches(np.arange(10), 0, 2), "make_batches(seq_len=0)")
    _bad_arguments(ex03, "text")
    _bad_arguments(ex03, "batches")


@pytest.mark.points(0.25)
def test_ex03_hidden_model_validation(ex03):
    """validation of the loss, temperature, sampling, perplexity: a bad argument raises naming it"""
    _bad_arguments(ex03, "loss")
    for bad in (-0.1, 0, float("nan"), float("inf")):
        raises_value_error(lambda bad=bad: ex03.softmax_with_temperature(np.array([1.0, 2.0]),
                                                                         bad),
                           f"softmax_with_temperature(temperature={bad})")
    _bad_arguments(ex03, "softmax")
    _bad_arguments(ex03, "sampling")
    _bad_arguments(ex03, "perplexity")


@pytest.mark.points(1)
def test_ex03_hidden_train_char_lm_steps(ex03, request):
    """train_char_lm: state carried and reset at other sizes (seq_len=5, B=4, 3 epochs)"""
    text = pub.sonnets(20000, 20300)
    with pub.data_first(ex03, "train_char_lm"):
        pub.check_training_steps(ex03, request, text, 5, 4, 7, 3, 9310, _ref_loss)
    # Adam's state lives through the run: a state restarted at every step moves every
    # weight by exactly +-lr per step; clip=None trains without clipping.
    kwargs = {"hidden_size": 6, "seq_len": 5, "batch_size": 4, "lr": 0.01, "clip": None}
    with pub.exercise1_first(request, "train_char_lm"):
        start, none = ex03.train_char_lm(text[:150], num_epochs=0, rng=_rng(9312), **kwargs)
        if len(none) != 0:
            raise AssertionError("train_char_lm(num_epochs=0): no steps, no losses.")
        end, _ = ex03.with_timeout(60).train_char_lm(text[:150], num_epochs=1, rng=_rng(9312),
                                                     **kwargs)
        other, _ = ex03.train_char_lm(text[:150], num_epochs=0, rng=_rng(9313), **kwargs)
        if np.array_equal(np.asarray(other["Wx"]), np.asarray(start["Wx"])):
            raise AssertionError("train_char_lm: two seeds gave the same initial parameters; "
                                 "draw them from the rng given." + explain("rng-not-threaded"))
        default, _ = ex03.train_char_lm(text[:150], num_epochs=0, rng=None, **kwargs)
        zero, _ = ex03.train_char_lm(text[:150], num_epochs=0, rng=_rng(0), **kwargs)
        _close(np.asarray(default["Wx"]), np.asarray(zero["Wx"]), "train_char_lm(rng=None) "
               "initial Wx (None means np.random.default_rng(0))", atol=0, rtol=0)
        _, one = ex03.train_char_lm(text[:150], num_epochs=2, rng=_rng(9312), max_seconds=0,
                                    **(kwargs | {"hidden_size": 1}))
        if len(one) != 1:
            raise AssertionError(f"train_char_lm(max_seconds=0): {len(one)} steps; stop after "
                                 "the step during which the time ran out (one step here).")
        _, every = ex03.train_char_lm(text[:150], num_epochs=2, rng=_rng(9312),
                                      max_seconds=1e6, **kwargs)
        if len(every) != 14:
            raise AssertionError(f"train_char_lm(max_seconds=1e6, 2 epochs of 7 chunks): "
                                 f"{len(every)} steps, expected 14.")
        moves = (np.asarray(end["Wh"]) - np.asarray(start["Wh"])) / kwargs["lr"]
        if np.mean(np.abs(moves - np.round(moves)) > 0.01) < 0.2:
            raise AssertionError("train_char_lm (clip=None, lr=0.01, 7 steps): every weight "
                                 "moved by a whole number of lr steps, as if Adam restarted "
                                 "at every step; carry the optimizer state from step to step.")



@pytest.mark.slow
@pytest.mark.points(1)
def test_ex03_hidden_train_char_lm_learns(ex03, request):
    """train_char_lm: another passage and other sizes learn far below the unigram entropy"""
    text = pub.sonnets(60000, 62500)
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    with pub.exercise1_first(request, "train_char_lm"):
        params, _ = pub.unpack(
            ex03.with_timeout(60).train_char_lm(text, hidden_size=40, seq_len=20, batch_size=6,
                                                num_epochs=12, lr=8e-3, clip=2.0,
                                                rng=_rng(9311)),
            ("params", "losses"), "train_char_lm")
    params = pub.check_params_shape(params, len(chars), 40, "train_char_lm")
    loss = _ref_loss(params, ids[None, :-1], ids[None, 1:])[0]
    if not loss < pub.unigram_entropy(ids, len(chars)) - 0.6:
        problem = pub.data_problem(ex03)
        if problem:
            raise AssertionError(f"train_char_lm: fails, and training reads its data through "
                                 f"functions that are wrong: {problem}.")
        raise AssertionError("train_char_lm (hidden_size=40, seq_len=20, batch_size=6, clip=2, "
                             "lr=8e-3): the trained model does not beat the unigram baseline "
                             "by 0.6 nats per character. Use every argument you are given.")


@pytest.mark.points(0.5)
def test_ex03_hidden_temperature_experiment(ex03):
    """temperature_experiment: entropies match the reference at another model and context"""
    rng = _rng(9312)
    params = _params(rng, 9, 7, scale=2.0)
    context = rng.integers(0, 9, 33)
    temps = (0.2, 0.9, 1.0, 4.0)
    rows = ex03.temperature_experiment(pub.copy_params(params), context.copy(), temps, 50,
                                       _rng(1), ngram=2)
    want = ref.temperature_experiment(pub.copy_params(params), context.copy(), temps, 50,
                                      _rng(1), ngram=2)
    if not isinstance(rows, (list, tuple)) or len(rows) != len(temps):
        raise AssertionError("temperature_experiment: one dict per temperature.")
    for row, w in zip(rows, want, strict=True):
        what = f"temperature_experiment (T={w['temperature']}, V=9)"
        if not isinstance(row, dict) or "entropy" not in row or "distinct" not in row:
            raise AssertionError(f"{what}: each row is a dict with entropy and distinct.")
        _close_scalar(row["entropy"], w["entropy"], f"{what} 'entropy'", rtol=1e-7,
                      hint=explain("entropy-log-probs"))
        sample = pub.id_list(row["sample"], 50, 9, f"{what} 'sample'")
        _close_scalar(row["distinct"], pub.distinct_fraction(sample, 2), f"{what} 'distinct'",
                      hint="use the ngram argument.")
    check_array(np.array([r["entropy"] for r in rows], dtype=np.float64), (4,),
                what="temperature_experiment entropies")
