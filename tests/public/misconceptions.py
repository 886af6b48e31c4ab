"""The mistakes the tests can name, each with a stable id, the idea involved and the
section of the guide (guides/rnn_guide.md) that explains it.

A failure message that diagnoses one of them ends with `[misconception: <id>]`; the grader
lists the id in the test's `tags` in results.json, so instructors can count them across a
class. Ids never change once released; add new ones, retire none.
"""

from __future__ import annotations

import re

GUIDE = "guides/rnn_guide.md"

# id -> (the idea involved, in a sentence; the heading of the guide section about it)
MISCONCEPTIONS: dict[str, tuple[str, str]] = {
    # ex01: the forward pass
    "forward-row-vectors": (
        "Inputs and states are row vectors, so they multiply the weights from the left.",
        "2. The RNN cell and the forward pass"),
    "forward-no-recurrence": (
        "Each step reads the state the previous step produced.",
        "2. The RNN cell and the forward pass"),
    "forward-h-offset": (
        "h[:, t] is the state after reading x[:, t]; h0 is not part of h.",
        "2. The RNN cell and the forward pass"),
    "forward-h0-ignored": (
        "The recurrence starts from the h0 it is given, which is not always zero.",
        "2. The RNN cell and the forward pass"),
    # ex01: one step backward
    "tanh-derivative-missing": (
        "The gradient passes through tanh before it reaches the sum inside it.",
        "One step"),
    "tanh-derivative-at-output": (
        "tanh's derivative is taken at its input; it can be written with the output h_next, "
        "but then h_next must not be put through tanh again.",
        "One step"),
    "dwh-wrong-state": (
        "A weight's gradient pairs the upstream gradient with the input that weight "
        "multiplied in this step.",
        "One step"),
    "backward-transpose": (
        "Through a product A @ W, the gradient flows back to A and to W with shapes that "
        "must pair up; a square W hides a wrong orientation.",
        "One step"),
    "bias-grad-sum": (
        "One bias serves every row of the batch, so its gradient adds up all rows' "
        "contributions (a sum, not a mean).",
        "One step"),
    # ex01: the sequence backward
    "bptt-no-carry": (
        "h_t feeds both the output at step t and the next step, so its gradient has two "
        "sources; the one from the next step must be carried back.",
        "The whole sequence"),
    "bptt-no-accumulate": (
        "The weights are shared by every time step, so their gradient collects a "
        "contribution from each step.",
        "The whole sequence"),
    "bptt-dh0": (
        "The gradient that leaves the first step is the gradient on the initial state h0.",
        "The whole sequence"),
    "mutates-input": (
        "Functions never change the arrays they are given; callers reuse them.",
        "The whole sequence"),
    # ex01: output layer and loss
    "shared-readout-sum": (
        "The output weights serve every (n, t) position, so their gradient collects every "
        "position's contribution.",
        "4. Output layer and loss"),
    "ce-not-mean": (
        "The loss is the mean over all (unmasked) positions, N*T of them without a mask.",
        "4. Output layer and loss"),
    "ce-grad-scale": (
        "The gradient of a mean carries the same 1/count factor as the mean itself.",
        "4. Output layer and loss"),
    "softmax-overflow": (
        "exp overflows for large logits; softmax does not change when a constant is "
        "subtracted from every logit of a row.",
        "4. Output layer and loss"),
    "mask-count": (
        "A masked mean divides by the number of positions that count, not by N*T.",
        "4. Output layer and loss"),
    "mask-gradient-leak": (
        "A masked position takes no part in the loss, so it gets no gradient either.",
        "4. Output layer and loss"),
    "model-chain": (
        "The model's gradient chains loss -> output layer -> RNN, each backward fed by the "
        "one after it, from the same h0 as the forward pass.",
        "4. Output layer and loss"),
    # ex01: numerics and training
    "float32-precision": (
        "float32 keeps about 7 digits; centered differences need float64.",
        "5. Gradient checking"),
    "numerical-gradient-training": (
        "Centered differences check gradients; they cost a forward pass per parameter and "
        "are far too slow to train with.",
        "5. Gradient checking"),
    "clip-norm-reported": (
        "Clipping reports the global norm measured before it rescales anything.",
        "6. Training on the echo task"),
    "clip-not-global": (
        "Global-norm clipping rescales every array by one common factor, keeping the "
        "gradient's direction.",
        "6. Training on the echo task"),
    "adam-bias-correction": (
        "Adam's running means start at zero, so early steps divide them by (1 - beta**t).",
        "6. Training on the echo task"),
    "rng-not-threaded": (
        "All randomness comes from the rng argument, so a seed reproduces a run.",
        "6. Training on the echo task"),
    "accuracy-mask": (
        "Accuracy, like the loss, counts only the positions the mask selects.",
        "6. Training on the echo task"),
    "saturation-hides-growth": (
        "Saturated tanh units (|h| near 1) shrink the gradient; tiny inputs keep tanh in "
        "its linear range, where the spectral radius decides.",
        "7. Vanishing and exploding gradients"),
}

_TAG = re.compile(r"\[misconception: ([a-z0-9-]+)\]")


def explain(mid: str) -> str:
    """' <idea> (guide: "<section>") [misconception: <id>]' for a message's end."""
    idea, section = MISCONCEPTIONS[mid]
    return f" {idea} (guide: \"{section}\") [misconception: {mid}]"


def ids_in(text: str) -> list[str]:
    """The known misconception ids a message names, in order, without repeats."""
    return list(dict.fromkeys(m for m in _TAG.findall(text or "") if m in MISCONCEPTIONS))
