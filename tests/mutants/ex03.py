"""Exercise 3 (character-level language model): catalogued mistakes and alternatives."""

from __future__ import annotations

from tests.mutants.catalogue import alternative, mutant

MUTANTS = [
    mutant(
        "temperature_after_softmax",
        "ex03",
        "temperature applied to the probabilities, p ** (1/T), not renormalised",
        "temperature",
        "temperature-before-softmax",
        (
            "z = np.asarray(logits, dtype=np.float64) / float(temperature)",
            "z = np.asarray(logits, dtype=np.float64)",
        ),
        (
            "    return e / e.sum(axis=-1, keepdims=True)\n",
            "    return (e / e.sum(axis=-1, keepdims=True)) ** (1.0 / float(temperature))\n",
        ),
    ),
    mutant(
        "normalised_over_everything",
        "ex03",
        "probabilities divided by the sum of the whole array, not of each row",
        "reduction",
        "probs-normalised",
        ("    return e / e.sum(axis=-1, keepdims=True)\n", "    return e / e.sum()\n"),
    ),
    mutant(
        "temperature_softmax_unstable",
        "ex03",
        "softmax with temperature without subtracting the maximum",
        "dtype",
        "softmax-overflow",
        ("    z = z - z.max(axis=-1, keepdims=True)\n", ""),
    ),
    mutant(
        "temperature_ignored_in_step",
        "ex03",
        "next_char_probs always uses temperature 1",
        "temperature",
        "temperature-ignored",
        (
            'softmax_with_temperature(h_next @ p["Wy"] + p["by"], temperature)',
            'softmax_with_temperature(h_next @ p["Wy"] + p["by"], 1.0)',
        ),
    ),
    mutant(
        "temperature_ignored_in_softmax",
        "ex03",
        "softmax_with_temperature never divides by the temperature",
        "temperature",
        "temperature-ignored",
        (
            "z = np.asarray(logits, dtype=np.float64) / float(temperature)",
            "z = np.asarray(logits, dtype=np.float64)",
        ),
    ),
    mutant(
        "temperature_ignored_in_sample",
        "ex03",
        "sample calls next_char_probs without the temperature",
        "temperature",
        "temperature-ignored",
        (
            "        probs, h = next_char_probs(p, h, ix, temperature)\n",
            "        probs, h = next_char_probs(p, h, ix)\n",
        ),
    ),
    mutant(
        "sample_no_feedback",
        "ex03",
        "the sampled character is not fed back: every step reads the seed",
        "sampling-feedback",
        "sample-feed-back",
        (
            "        ix = int(rng.choice(V, p=probs))\n        out.append(ix)\n",
            "        out.append(int(rng.choice(V, p=probs)))\n",
        ),
    ),
    mutant(
        "sample_state_reset",
        "ex03",
        "sampling restarts from h0 at every step",
        "hidden-carry",
        "sample-carry-state",
        (
            "        probs, h = next_char_probs(p, h, ix, temperature)\n",
            "        probs, _ = next_char_probs(p, h, ix, temperature)\n",
        ),
    ),
    mutant(
        "sample_argmax",
        "ex03",
        "greedy decoding: the most likely character instead of a draw",
        "sampling-feedback",
        "sample-follows-probs",
        ("        ix = int(rng.choice(V, p=probs))\n", "        ix = int(np.argmax(probs))\n"),
    ),
    mutant(
        "sample_global_rng",
        "ex03",
        "draws from np.random's global generator instead of rng",
        "rng",
        "sample-rng",
        (
            "        ix = int(rng.choice(V, p=probs))\n",
            "        ix = int(np.random.choice(V, p=probs))\n",
        ),
    ),
    mutant(
        "sample_includes_seed",
        "ex03",
        "the seed character is returned as the first of the n characters",
        "index-shift",
        "sample-seed-excluded",
        (
            "    out = []\n    for _ in range(n):\n",
            "    out = [int(seed_ix)] if n else []\n    for _ in range(n - 1):\n",
        ),
    ),
    mutant(
        "hidden_reset_between_chunks",
        "ex03",
        "truncated BPTT without carrying h_last into the next chunk",
        "hidden-carry",
        "hidden-carry",
        (
            "loss, grads, h = char_rnn_loss(params, inputs[rows], targets[rows], h)",
            "loss, grads, _ = char_rnn_loss(params, inputs[rows], targets[rows], h)",
        ),
    ),
    mutant(
        "hidden_not_reset_per_epoch",
        "ex03",
        "the state of the last chunk carried into the next epoch",
        "hidden-carry",
        "hidden-reset-epoch",
        (
            "    for epoch in range(num_epochs):\n"
            "        h = np.zeros((batch_size, hidden_size))\n",
            "    h = np.zeros((batch_size, hidden_size))\n    for epoch in range(num_epochs):\n",
        ),
    ),
    mutant(
        "targets_not_shifted",
        "ex03",
        "targets are the inputs themselves",
        "index-shift",
        "targets-shift",
        ("    return data[index], data[index + 1]\n", "    return data[index], data[index]\n"),
    ),
    mutant(
        "batches_consecutive_rows",
        "ex03",
        "chunks of B neighbouring pieces instead of B parallel streams",
        "layout",
        "batch-stream-layout",
        (
            "start = (np.arange(n_chunks)[:, None] * seq_len +"
            " np.arange(batch_size)[None, :] * stream)",
            "start = (np.arange(n_chunks)[:, None] * batch_size +"
            " np.arange(batch_size)[None, :]) * seq_len",
        ),
    ),
    mutant(
        "unsorted_vocab",
        "ex03",
        "vocabulary in order of first appearance",
        "layout",
        "vocab-sorted",
        ("    chars = sorted(set(text))\n", "    chars = list(dict.fromkeys(text))\n"),
    ),
    mutant(
        "inputs_targets_swapped",
        "ex03",
        "the model reads the targets and is scored on the inputs",
        "index-shift",
        "char-inputs-targets",
        (
            "    x = np.eye(V)[inputs]\n    return exercise1().model_loss(p, x, targets, h0)\n",
            "    x = np.eye(V)[targets]\n    return exercise1().model_loss(p, x, inputs, h0)\n",
        ),
    ),
    mutant(
        "loss_ignores_h0",
        "ex03",
        "char_rnn_loss always starts from a zero state",
        "hidden-carry",
        "forward-h0-ignored",
        (
            "return exercise1().model_loss(p, x, targets, h0)",
            "return exercise1().model_loss(p, x, targets)",
        ),
    ),
    mutant(
        "perplexity_base_2",
        "ex03",
        "perplexity as 2 ** loss for a loss in nats",
        "reduction",
        "perplexity-exp",
        ("    return float(np.exp(value))\n", "    return float(2.0 ** value)\n"),
    ),
    mutant(
        "next_char_returns_old_state",
        "ex03",
        "next_char_probs returns the state it was given instead of the new one",
        "hidden-carry",
        "next-char-step",
        ("    return probs, h_next\n", "    return probs, h\n"),
    ),
]

ALTERNATIVES = [
    alternative(
        "independent_rewrite",
        "ex03",
        "written from scratch: row look-ups instead of one-hot products, Adagrad, a "
        "sampler that inverts the cumulative distribution",
        fixture="alt_ex03",
    ),
    alternative(
        "sample_gumbel_max",
        "ex03",
        "each character drawn with the Gumbel-max trick (V draws per step)",
        (
            "        ix = int(rng.choice(V, p=probs))\n",
            '        with np.errstate(divide="ignore"):\n'
            "            ix = int(np.argmax(np.log(probs) + rng.gumbel(size=V)))\n",
        ),
    ),
    alternative(
        "batches_with_a_loop",
        "ex03",
        "the batch rows' indices built in a loop",
        (
            "    start = (np.arange(n_chunks)[:, None] * seq_len + np.arange(batch_size)"
            "[None, :] * stream)\n"
            "    index = (start[:, :, None] + np.arange(seq_len)).reshape(n_chunks * "
            "batch_size, seq_len)\n",
            "    index = np.array([b * stream + k * seq_len + np.arange(seq_len)\n"
            "                      for k in range(n_chunks) for b in range(batch_size)])\n",
        ),
    ),
    alternative(
        "softmax_via_log_sum_exp",
        "ex03",
        "probabilities as exp(z - logsumexp(z))",
        (
            "    return e / e.sum(axis=-1, keepdims=True)\n",
            "    return np.exp(z - np.log(e.sum(axis=-1, keepdims=True)))\n",
        ),
    ),
    alternative(
        "ix_to_char_as_a_dict",
        "ex03",
        "build_vocab returns ix_to_char as a dict id -> character (the docstring allows it)",
        (
            "    return {ch: i for i, ch in enumerate(chars)}, list(chars)\n",
            "    return {ch: i for i, ch in enumerate(chars)}, dict(enumerate(chars))\n",
        ),
    ),
]
