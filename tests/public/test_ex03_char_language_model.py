"""Public tests for Exercise 3: a character-level language model and temperature sampling.

What is checked, in the order of the points table (points in brackets):

  Part 1, text          build_vocab (0.5); encode/decode (0.5); validation of the text
                        functions (0.25); make_batches: the shift (1), the streams (0.75)
  Part 2, the loss      char_rnn_loss values (1), gradients (1.5), two chunks with the
                        state carried (1)
  Part 3, sampling      softmax_with_temperature (1.25); validation of the temperature and
                        perplexity (0.25); next_char_probs (1); sample: basics (1), follows
                        next_char_probs (1), feeds back and carries the state (1)
  Part 4, baseline      perplexity (0.5); unigram_loss (0.5)
  Part 5, training      train_char_lm(num_epochs=0) (0.25), carries the state (0.75),
                        learns (1)
  Part 6, experiment    temperature_experiment (1); plot_losses (0.5),
                        plot_temperature_experiment (0.5); no input changed (0.5)

Expected values at fixed inputs are the reference's outputs, saved in fixtures/ex03.npz;
expected gradients are centered differences of the reference's loss, never a backward
pass. Where the expected value depends on what your code returned (the draws of
``sample``, the parameters ``train_char_lm`` starts from), it is computed with your own
softmax_with_temperature or char_rnn_loss, once they give the saved values. When a result is
wrong, the message says which output, how, the idea involved and the section of
guides/rnn_guide.md about it; it compares your result with what a known mistake would
give ("twins") to name the mistake (the diagnoses are in support_ex03.py).

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

import numpy as np
import pytest

from tests.public import support_ex03 as s  # inputs, saved values, diagnoses
from tests.public.harness import (
    assert_png,
    check_array,
    close_scalar,
    figure_info,
    raises_naming,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.support_ex03 import H, V, copy_params, data_first, exercise1_first, rng

draws_from_probs = s.draws_from_probs

# ---------------------------------------------------------------------------------------
# Part 1: vocabulary, encoding, batches
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_build_vocab(ex03):
    """build_vocab: ids follow the sorted characters, both directions agree"""
    text = "to be, or not to be: that is the question.\nZ"
    s.check_vocab(ex03.build_vocab(text), text)


@pytest.mark.points(0.5)
def test_ex03_encode_decode_round_trip(ex03):
    """encode/decode: ids of every character, a round trip, lists, dicts and arrays of ids"""
    text = "When forty winters shall besiege thy brow,\n"
    chars = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    want = s.check_encoded(ex03.encode(text, dict(char_to_ix)), text, char_to_ix)
    for label, ix_to_char in (("a list", list(chars)),
                              ("a dict", {i: ch for i, ch in enumerate(chars)})):
        s.check_decoded(ex03.decode(want.tolist(), ix_to_char), text, label)
    if ex03.decode(want, list(chars)) != text:
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
        ex03.make_batches(s.unique_text(12, 304), 4, 3)  # 12 characters: no room for a target
    s.check_unknown_character(lambda: ex03.encode("brow?", dict(char_to_ix)))


@pytest.mark.points(1)
def test_ex03_make_batches_shift(ex03):
    """make_batches: shapes (K*B, seq_len), targets are the inputs shifted by one character"""
    data = s.unique_text(130, 301)
    s.check_batches(ex03.make_batches(data.copy(), 8, 3), data, 8, 3, "L=130, seq_len=8, B=3")
    data = s.unique_text(41, 302)  # exactly one chunk: (41 - 1) // (4 * 10) = 1
    s.check_batches(ex03.make_batches(data.copy(), 10, 4), data, 10, 4,
                    "L=41, seq_len=10, B=4, exactly one chunk")


@pytest.mark.points(0.75)
def test_ex03_make_batches_streams(ex03):
    """make_batches: row k*B+b continues row (k-1)*B+b; the first stream starts at data[0]"""
    data = s.unique_text(200, 303)
    _, _, start = s.check_batches(ex03.make_batches(data.copy(), 5, 4), data, 5, 4,
                                  "L=200, seq_len=5, B=4")
    if start[0, 0] != 0:
        raise AssertionError("make_batches: the first stream starts at data[0].")
    data = s.unique_text(64, 304)
    s.check_batches(ex03.make_batches(data.copy(), 3, 1), data, 3, 1, "B=1, one stream")


# ---------------------------------------------------------------------------------------
# Part 2: the loss of a chunk
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_ex03_char_rnn_loss_values(ex03, request):
    """char_rnn_loss: mean cross-entropy, h_last, h0 used; an untrained model scores log V"""
    params, inputs, targets, h0 = s.loss_case(310)
    with exercise1_first(request, "char_rnn_loss"):
        for label, start in (("h0 given", h0), ("h0=None", None)):
            loss, _, h_last = s.call_loss(ex03, params, inputs, targets, start)
            s.check_loss_value(loss, h_last, label, inputs, start)
        small = {k: 1e-3 * v for k, v in params.items()}
        s.check_untrained_loss(s.call_loss(ex03, small, inputs, targets, None)[0])


@pytest.mark.points(1.5)
def test_ex03_char_rnn_loss_gradients(ex03, request):
    """char_rnn_loss: every gradient matches centered differences of the loss"""
    params, inputs, targets, h0 = s.loss_case(311)
    with exercise1_first(request, "char_rnn_loss"):
        _, grads, _ = s.call_loss(ex03, params, inputs, targets, h0)
        s.check_loss_grads(grads, inputs.size)


@pytest.mark.points(1)
def test_ex03_chunks_with_carried_state(ex03, request):
    """char_rnn_loss: two chunks with the state carried equal one pass over both"""
    params, inputs, targets, h0 = s.loss_case(312, t=8)
    with exercise1_first(request, "char_rnn_loss"):
        whole, _, h_whole = s.call_loss(ex03, params, inputs, targets, h0)
        first, _, h_mid = s.call_loss(ex03, params, inputs[:, :5], targets[:, :5], h0)
        if not isinstance(h_mid, np.ndarray):
            raise AssertionError("char_rnn_loss h_last: expected an array (N, H).")
        second, _, h_end = s.call_loss(ex03, params, inputs[:, 5:], targets[:, 5:], h_mid)
        s.check_carried(whole, first, second, h_end, h_whole)


# ---------------------------------------------------------------------------------------
# Part 3: temperature, one step, sampling
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1.25)
def test_ex03_softmax_with_temperature(ex03):
    """softmax_with_temperature: sums to 1, keeps order, T=1 is softmax, limits, stable"""
    logits = s.LOGITS
    for k, temperature in enumerate(s.SOFTMAX_TEMPS):  # 1.0, 0.5, 2.5
        s.check_softmax(ex03.softmax_with_temperature(logits.copy(), temperature), k)
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    s.check_softmax_rows(ex03.softmax_with_temperature(rows.copy(), 0.7))
    cold = check_array(ex03.softmax_with_temperature(logits.copy(), 0.01), (5,),
                       what="softmax_with_temperature (T=0.01)")
    hot = check_array(ex03.softmax_with_temperature(logits.copy(), 1e6), (5,),
                      what="softmax_with_temperature (T=1e6)")
    s.check_softmax_limits(cold, hot)
    big = np.array([1e4, -1e4, 9990.0, 0.0])
    with np.errstate(all="ignore"):
        s.check_softmax_large(ex03.softmax_with_temperature(big.copy(), 0.05))


@pytest.mark.points(0.25)
def test_ex03_model_validation(ex03):
    """validation of softmax_with_temperature and perplexity: bad values raise ValueError"""
    logits = s.LOGITS
    for bad in (0.0, -1.0):
        s.check_bad_temperature(lambda bad=bad: ex03.softmax_with_temperature(logits.copy(), bad),
                                bad)
    with pytest.raises(ValueError):
        ex03.perplexity(-0.5)


@pytest.mark.points(1)
def test_ex03_next_char_probs(ex03):
    """next_char_probs: one step from h reading ix gives the model's distribution and h_next"""
    params, h = s.next_char_case(320)
    for k, (ix, temperature) in enumerate(s.NEXT_CHAR_CASES):  # (3, 1), (0, 0.6), (6, 1.7)
        out = unpack(ex03.next_char_probs(copy_params(params), h.copy(), ix, temperature),
                     ("probs", "h_next"), "next_char_probs")
        s.check_next_char(out, k)


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_sample_basics(ex03):
    """sample: n ids in range, own draws fed back, same seed same text, the rng argument only"""
    model = s.successor_model()
    got = s.id_list(ex03.sample(copy_params(model), None, 2, 7, 0.05, rng(1)), 7, 5,
                    "sample (a model that writes the next character, T=0.05)")
    s.check_successor_sample(got)
    s.id_list(ex03.sample(copy_params(model), None, 2, 0, 1.0, rng(1)), 0, 5, "sample (n=0)")
    gen = rng(321)
    params = s.random_params(gen)
    h0 = 0.3 * gen.standard_normal(H)
    state_before = np.random.get_state()[1].copy()
    first = s.id_list(ex03.sample(copy_params(params), h0.copy(), 1, 300, 1.0, rng(7)), 300,
                      V, "sample (n=300)")
    again = s.id_list(ex03.sample(copy_params(params), h0.copy(), 1, 300, 1.0, rng(7)), 300,
                      V, "sample (n=300, same seed)")
    other = s.id_list(ex03.sample(copy_params(params), h0.copy(), 1, 300, 1.0, rng(8)), 300,
                      V, "sample (n=300, another seed)")
    touched = not np.array_equal(np.random.get_state()[1], state_before)
    s.check_seeded(first, again, other, touched)


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_sample_follows_next_char_probs(ex03):
    """sample: draws follow next_char_probs at T = 0.5, 1 and 2 (chi-square, 6000 draws each)"""
    model = s.iid_model(s.IID_P0)  # p0 = 0.30, 0.22, 0.17, 0.13, 0.10, 0.08 at T = 1
    for k, (seed, temperature) in enumerate(s.IID_CASES):
        draws = s.id_list(ex03.sample(copy_params(model), None, 0, 6000, temperature,
                                      rng(seed)), 6000, len(s.IID_P0),
                          f"sample (T={temperature})")
        s.check_iid_draws(draws, k)


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_sample_feeds_back_and_carries_state(ex03):
    """sample: each draw is read next and the state flows on (chi-square over 6000 draws)"""
    model = s.markov_model()
    draws = s.id_list(ex03.sample(copy_params(model), None, 2, 6000, 1.0, rng(21)), 6000, 5,
                      "sample (n=6000)")
    s.check_path(np.array(draws), model, None, 2, 1.0, "a model whose next character depends "
                 "on the character read", lambda p, d: s.by_previous(p, d, 2),
                 s.checked_softmax(ex03))
    model = s.memory_model()
    h0 = 0.2 * np.ones(6)
    draws = s.id_list(ex03.sample(copy_params(model), h0.copy(), 1, 6000, 1.0, rng(22)), 6000,
                      4, "sample (n=6000)")
    s.check_path(np.array(draws), model, h0, 1, 1.0, "a model whose next character depends on "
                 "its state", lambda p, d: 4 * s.by_previous(p, d, 1) + p.argmax(axis=1),
                 s.checked_softmax(ex03))


# ---------------------------------------------------------------------------------------
# Part 4: perplexity and the baseline
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex03_perplexity(ex03):
    """perplexity: exp of the mean loss in nats; log V gives V"""
    for loss in (np.log(62.0), 1.25, 0.0):
        s.check_perplexity(scalar(ex03.perplexity(loss), f"perplexity({loss:.4g})"), loss)


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
    close_scalar(got, s.unigram_entropy(train, 4), what="unigram_loss (its own training text, "
                 "no smoothing)", hint="This is the entropy of the character frequencies." +
                 explain("unigram-baseline"))


# ---------------------------------------------------------------------------------------
# Part 5: training
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex03_train_char_lm_zero_epochs(ex03, request):
    """train_char_lm(num_epochs=0): the initial parameters and no losses; max_seconds=0: one step"""
    text = s.sonnets(0, 400)
    with data_first(ex03, "train_char_lm"), exercise1_first(request, "train_char_lm"):
        zero, losses = unpack(ex03.train_char_lm(text, hidden_size=6, seq_len=7, batch_size=3,
                                                 num_epochs=0, rng=rng(341)),
                              ("params", "losses"), "train_char_lm(num_epochs=0)")
        start, _ = unpack(ex03.with_timeout(60).train_char_lm(
            text, hidden_size=6, seq_len=7, batch_size=3, num_epochs=1, lr=1e-10,
            rng=rng(341)), ("params", "losses"), "train_char_lm")
    s.check_zero_epochs(zero, losses, start)
    with data_first(ex03, "train_char_lm"), exercise1_first(request, "train_char_lm"):
        _, one = unpack(ex03.with_timeout(60).train_char_lm(
            text, hidden_size=6, seq_len=7, batch_size=3, num_epochs=2, rng=rng(341),
            max_seconds=0), ("params", "losses"), "train_char_lm(max_seconds=0)")
    steps = len(s.losses_list(one, "train_char_lm(max_seconds=0)"))
    if steps != 1:
        raise AssertionError(f"train_char_lm(max_seconds=0): {steps} losses; the clock is "
                             "checked after each step, so exactly one step runs.")


@pytest.mark.points(0.75)
def test_ex03_train_char_lm_carries_state(ex03, request):
    """train_char_lm: chunks in order, the state carried between chunks and reset each epoch"""
    text = s.sonnets(0, 400)
    with data_first(ex03, "train_char_lm"):
        params = s.check_training_steps(ex03, request, text, 7, 3, 6, 2, 340)
    again, _ = unpack(ex03.with_timeout(60).train_char_lm(
        text, hidden_size=6, seq_len=7, batch_size=3, num_epochs=1, lr=1e-10, rng=rng(340)),
        ("params", "losses"), "train_char_lm")
    s.check_same_start(again, params)


@pytest.mark.slow
@pytest.mark.points(1)
def test_ex03_train_char_lm_learns(ex03, request):
    """train_char_lm: 3000 characters of the sonnets, 10 epochs: far below the unigram entropy"""
    text = s.sonnets(0, 3000)
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    with exercise1_first(request, "train_char_lm"):
        params, losses = unpack(
            ex03.with_timeout(60).train_char_lm(text, hidden_size=32, seq_len=16, batch_size=8,
                                                num_epochs=10, lr=1e-2, rng=rng(350)),
            ("params", "losses"), "train_char_lm")
    params = s.check_params_shape(params, len(chars), 32, "train_char_lm")
    losses = s.losses_list(losses, "train_char_lm")
    loss_of = s.checked_loss(ex03, "train_char_lm", with_h0=False)
    loss = loss_of(params, ids[None, :-1], ids[None, 1:])[0]  # the text in one pass
    base = s.unigram_entropy(ids, len(chars))
    with data_first(ex03, "train_char_lm"):
        s.check_learned(loss, base, losses)


# ---------------------------------------------------------------------------------------
# Part 6: the temperature experiment and the figures
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
@draws_from_probs
def test_ex03_temperature_experiment(ex03):
    """temperature_experiment: entropy over a context, a sample and its distinct n-grams per T"""
    params, context = s.experiment_case()
    temps = s.EXPERIMENT_TEMPS  # 0.05, 0.5, 1, 3
    rows = ex03.temperature_experiment(copy_params(params), context.copy(), temps, 200, rng(361),
                                       ngram=3)
    if not isinstance(rows, (list, tuple)) or len(rows) != len(temps):
        raise AssertionError("temperature_experiment: expected a list with one dict per "
                             f"temperature ({len(temps)}).")
    for k, row in enumerate(rows):
        s.check_experiment_row(ex03, row, k)
    if not rows[0]["distinct"] < rows[-1]["distinct"]:
        raise AssertionError("temperature_experiment: the sample at T=0.05 is not less diverse "
                             "than the one at T=3; draw each sample at its own temperature.")


@pytest.mark.points(0.5)
def test_ex03_plot_losses(ex03, student_tmp):
    """plot_losses: the loss per step, labelled, with the unigram baseline in the legend"""
    losses = list(3.0 * np.exp(-np.arange(60) / 20.0) + 1.0 + 0.05 * np.sin(np.arange(60)))
    path = student_tmp / "char_lm_loss.png"
    info = figure_info(ex03.plot_losses(list(losses), str(path), baseline=2.5),
                       what="plot_losses")
    assert_png(path, what="plot_losses")
    s.check_loss_plot(info, losses)


@pytest.mark.points(0.5)
def test_ex03_plot_temperature_experiment(ex03, student_tmp):
    """plot_temperature_experiment: entropy and distinct n-grams against temperature"""
    rows = [{"temperature": t, "entropy": e, "distinct": d, "sample": [0, 1, 2]}
            for t, e, d in ((0.5, 0.8, 0.2), (1.0, 1.6, 0.5), (2.0, 2.9, 0.9))]
    path = student_tmp / "temperature.png"
    info = figure_info(ex03.plot_temperature_experiment(rows, str(path)),
                       what="plot_temperature_experiment")
    assert_png(path, what="plot_temperature_experiment")
    s.check_temperature_plot(info, rows)


@pytest.mark.points(0.5)
def test_ex03_no_input_mutation(ex03, request):
    """every function: leaves its input arrays and dicts unchanged"""
    params, inputs, targets, h0, data, logits = s.mutation_inputs()
    char_to_ix = {c: i for i, c in enumerate("abc")}
    changed = []
    run = s.mutation_runner(ex03, changed)
    with exercise1_first(request, "char_rnn_loss"):
        run("make_batches", data.copy(), 4, 2)
        run("char_rnn_loss", copy_params(params), inputs.copy(), targets.copy(), h0.copy())
    run("softmax_with_temperature", logits.copy(), 0.5)
    run("next_char_probs", copy_params(params), h0[0].copy(), 2, 0.8)
    run("sample", copy_params(params), h0[0].copy(), 2, 20, 1.0, rng(1))
    run("encode", "abcab", dict(char_to_ix))
    run("unigram_loss", data.copy(), data[:10].copy(), V)
    if changed:
        raise AssertionError("these calls changed an input: " + ", ".join(changed) + "." +
                             explain("mutates-input"))
