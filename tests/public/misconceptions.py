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
    # ex02: windows
    "window-target-inside": (
        "A target is a value that comes after its window, never one inside it: a model "
        "shown the value it must predict only learns to copy it.",
        "Windows"),
    "window-off-by-one": (
        "Window i holds the steps i .. i + window - 1 and its targets start at the very "
        "next step, i + window.",
        "Windows"),
    "window-count": (
        "A series of T steps gives T - window - horizon + 1 windows: the last window still "
        "has all of its targets inside the series.",
        "Windows"),
    "window-axis-order": (
        "Windows are (N, window, F): examples, then time steps, then features, the layout "
        "an RNN reads; a 1-D series still has a feature axis (F = 1).",
        "Windows"),
    "window-target-feature": (
        "The targets are the next horizon values of feature 0, one row per window.",
        "Windows"),
    # ex02: splitting and scaling
    "split-shuffled": (
        "A forecaster is judged on the future: train, validation and test follow each "
        "other in time, never shuffled.",
        "Splitting in time and scaling"),
    "split-overlap": (
        "Every step belongs to exactly one part, and the parts together are the series.",
        "Splitting in time and scaling"),
    "scaler-leak": (
        "Scaling statistics come from the training part only and are then applied, "
        "unchanged, to the validation and test parts.",
        "Splitting in time and scaling"),
    "scaler-ddof": (
        "z-scores use the population standard deviation (ddof=0); a constant feature "
        "gets a deviation of 1.",
        "Splitting in time and scaling"),
    "scaler-per-feature": (
        "Each feature has its own mean and deviation: statistics over every axis but the "
        "last one.",
        "Splitting in time and scaling"),
    "windows-cross-segments": (
        "Each part is cut into windows on its own, so no window mixes two parts.",
        "Splitting in time and scaling"),
    # ex02: baselines and metrics
    "naive-last-value": (
        "The naive forecast repeats the last observed value of feature 0 for every step "
        "ahead.",
        "Baselines and metrics"),
    "metric-definition": (
        "MSE is the mean of the squared errors, RMSE its square root, MAE the mean of the "
        "absolute errors, each over all entries.",
        "Baselines and metrics"),
    "error-per-step": (
        "The error at horizon j is one RMSE over all examples of the forecast j steps "
        "ahead: one number per column.",
        "Baselines and metrics"),
    "rmse-original-units": (
        "Errors are reported in the series' own units: undo the scaling before measuring.",
        "Baselines and metrics"),
    # ex02: the many-to-one RNN
    "many-to-one-readout": (
        "The forecast reads only the last hidden state h_T of a run from a zero state.",
        "Many-to-one BPTT"),
    "mse-definition": (
        "The loss is the mean of the squared errors over all N * horizon predicted values, "
        "with no factor 1/2.",
        "Many-to-one BPTT"),
    "many-to-one-bptt": (
        "Only h_T feeds the loss, so the gradient enters the recurrence at the last state "
        "alone; every earlier state gets its gradient through the recurrent path.",
        "Many-to-one BPTT"),
    "mse-grad-scale": (
        "The gradient of a mean keeps the mean's 1/count factor.",
        "Many-to-one BPTT"),
    "head-gradient": (
        "The head's weights serve every example of the batch and read the last state only, "
        "so their gradient collects every example's contribution at h_T.",
        "Many-to-one BPTT"),
    "fit-keeps-params": (
        "Training improves the parameters step after step and leaves the trained ones in "
        "self.params.",
        "Many-to-one BPTT"),
    "shuffle-rng": (
        "Shuffles come from the model's own rng, so the same seed reproduces a training "
        "run.",
        "Many-to-one BPTT"),
    "uses-exercise1": (
        "RNNRegressor is built on Exercise 1's RNN: a bug there shows up in every test "
        "that runs the model.",
        "Many-to-one BPTT"),
    # ex02: forecasting further ahead
    "recursive-own-predictions": (
        "Beyond the first step no true value is known: each prediction joins the window "
        "and feeds the next one.",
        "Forecasting further ahead"),
    "recursive-fixed-length": (
        "The window keeps its length: the newest prediction goes in, the oldest value "
        "goes out.",
        "Forecasting further ahead"),
    # ex03: text as integers and batches of streams
    "vocab-sorted": (
        "Character ids follow sorted(set(text)), so the same text always gets the same ids "
        "and a trained model decodes the same way in every run.",
        "Characters as integers"),
    "targets-shift": (
        "A language model predicts the next character: each target is the character right "
        "after its input, the same slice of text one position to the right.",
        "Batches of parallel streams"),
    "batch-count": (
        "A text of L characters gives K = (L - 1) // (B * seq_len) chunks: as many as fit "
        "while every input still has the character after it.",
        "Batches of parallel streams"),
    "batch-stream-layout": (
        "A batch holds B parallel streams, disjoint pieces of the text: row k*B + b of chunk "
        "k continues row (k-1)*B + b, which is what a carried hidden state needs.",
        "Batches of parallel streams"),
    # ex03: the model, truncated BPTT
    "char-inputs-targets": (
        "The model reads the one-hot inputs and is scored on the targets, the characters "
        "that follow them.",
        "The model and its loss"),
    "char-uses-exercise1": (
        "The character model is Exercise 1's RNN with one-hot inputs: a bug there shows up "
        "in every test that runs the model.",
        "The model and its loss"),
    "hidden-carry": (
        "Truncated BPTT cuts the gradient at a chunk boundary but not the state: each chunk "
        "starts from the h_last of the chunk before it, the same streams of text.",
        "Truncated BPTT"),
    "hidden-reset-epoch": (
        "Each epoch starts again at the beginning of every stream, so the state starts from "
        "zeros: there is nothing before it to remember.",
        "Truncated BPTT"),
    # ex03: measuring a model
    "perplexity-exp": (
        "Perplexity is exp(mean loss) with the loss in nats: the number of equally likely "
        "characters the model is as unsure as.",
        "Perplexity and the unigram baseline"),
    "unigram-baseline": (
        "The unigram baseline predicts every character with its (smoothed) frequency in the "
        "training text, ignoring context.",
        "Perplexity and the unigram baseline"),
    # ex03: temperature and sampling
    "temperature-before-softmax": (
        "The temperature divides the logits before the softmax: softmax(logits / T).",
        "Temperature"),
    "temperature-ignored": (
        "The temperature changes the distribution: every function given a temperature "
        "passes it on (next_char_probs to softmax_with_temperature, sample to "
        "next_char_probs) and divides the logits by it; T = 1 is only the default.",
        "Temperature"),
    "temperature-positive": (
        "A temperature must be a number > 0: dividing by 0 or flipping the sign of the "
        "logits means nothing, so refuse it with a ValueError.",
        "Temperature"),
    "probs-normalised": (
        "A distribution sums to 1: after changing probabilities, normalise them again.",
        "Temperature"),
    "entropy-log-probs": (
        "Entropy is -sum(p * log p) in nats, computed from log-probabilities so that "
        "probabilities that underflow to 0 count 0, not nan.",
        "Temperature"),
    "next-char-step": (
        "One step reads the character into the state and predicts the next one from the "
        "new state h_next, not the old one.",
        "Sampling"),
    "sample-feed-back": (
        "A generated character is the input of the next step: the model continues its own "
        "text.",
        "Sampling"),
    "sample-carry-state": (
        "While sampling, the hidden state flows from step to step, as in the forward pass.",
        "Sampling"),
    "sample-seed-excluded": (
        "sample returns the n characters it drew; the seed it started from is not one of "
        "them.",
        "Sampling"),
    "sample-rng": (
        "Every draw comes from the rng argument, never from np.random's global generator, so "
        "the same seed gives the same text.",
        "Sampling"),
    "sample-follows-probs": (
        "Each character is drawn at random with the probabilities next_char_probs gives, "
        "not chosen as the most likely one.",
        "Sampling"),
    # ex04: nn.RNN and Exercise 1's RNN
    "batch-first": (
        "nn.RNN reads the first axis as time unless batch_first=True; only then are x and "
        "the outputs (N, T, features).",
        "nn.RNN in its own notation"),
    "h0-layout": (
        "h0 and h_n are (num_layers, N, H) even with batch_first=True: batch_first changes "
        "the layout of x and of the outputs only.",
        "nn.RNN in its own notation"),
    "torch-weight-layout": (
        "PyTorch's weights act on column vectors from the left, Exercise 1's on row vectors "
        "from the right: write both formulas for one example to see how one weight becomes "
        "the other (a square weight loads without an error either way).",
        "nn.RNN in its own notation"),
    "torch-two-biases": (
        "nn.RNN adds two biases, b_ih and b_hh, where Exercise 1 adds one b: together they "
        "must make b, and a gradient of b is counted once.",
        "nn.RNN in its own notation"),
    "torch-default-float32": (
        "PyTorch makes float32 parameters by default; agreement with NumPy to float64 "
        "precision needs the whole model in float64.",
        "nn.RNN in its own notation"),
    "torch-shared-memory": (
        "torch.from_numpy(a) (and torch.as_tensor) make a tensor that shares a's memory, so "
        "a later change to the array shows in the model; torch.tensor(a) and param.copy_(...) "
        "copy the values.",
        "nn.RNN in its own notation"),
    "ce-class-axis": (
        "PyTorch's cross-entropy wants the classes on axis 1: scores (N*T, V) with targets "
        "(N*T,), and it averages over every position.",
        "nn.RNN in its own notation"),
    # ex04: data
    "dataset-protocol": (
        "A map-style Dataset answers len(ds) and ds[i], one example (x_i, y_i), from a copy "
        "of the data it was given.",
        "Datasets, loaders and devices"),
    "shuffle-generator": (
        "A loader shuffles with the generator it is given: seeded, it repeats the same "
        "epochs, whatever else draws from torch's global generator.",
        "Datasets, loaders and devices"),
    "stream-continuity": (
        "For a carried state to mean anything, row b of every batch continues row b of the "
        "batch before it: the loader hands out chunks of parallel streams in order.",
        "Truncated BPTT in PyTorch"),
    # ex04: training and evaluation loops
    "dtype-cast": (
        "A batch must match the model: floating inputs and targets take the model's dtype "
        "and device; class indices stay integers.",
        "A training epoch"),
    "zero-grad": (
        "backward() adds into .grad; without zero_grad() each step also applies the "
        "gradients of every earlier batch.",
        "A training epoch"),
    "optimizer-step": (
        "backward() only computes gradients; the parameters change when optimizer.step() "
        "applies them.",
        "A training epoch"),
    "loss-batch-weighting": (
        "An epoch's mean loss weighs each batch's mean by its number of examples: a smaller "
        "last batch counts for less.",
        "A training epoch"),
    "clip-placement": (
        "clip_grad_norm_ rescales the gradients backward() has just computed, so it comes "
        "after backward() and before step().",
        "A training epoch"),
    "eval-mode": (
        "model.train() and model.eval() switch layers such as dropout on and off: train "
        "for training steps, eval for measuring.",
        "Evaluation"),
    "no-grad-eval": (
        "Evaluation needs no gradients: under torch.no_grad() autograd records nothing and "
        "keeps no tensors for a backward pass.",
        "Evaluation"),
    # ex04: truncated BPTT
    "tbptt-detach": (
        "A state carried to the next batch is detached first: the values go on, the graph "
        "of the batch it came from does not.",
        "Truncated BPTT in PyTorch"),
    "tbptt-carry": (
        "Stateful training runs each batch from the h_n of the batch before it, and each "
        "epoch from a zero state.",
        "Truncated BPTT in PyTorch"),
    # ex04: the character model
    "embedding-indices": (
        "nn.Embedding takes integer indices (N, T) and gives their rows of a learned table, "
        "(N, T, embed_dim): what a one-hot vector times a weight matrix gives, without the "
        "one-hot.",
        "A harder task: a two-layer character model"),
}

_TAG = re.compile(r"\[misconception: ([a-z0-9-]+)\]")


# The ids explain() wrote since the grader last asked (explained()): a message's ids count
# only if a test wrote them, never text a student's code made.
_EXPLAINED: set[str] = set()


def explain(mid: str) -> str:
    """' <idea> (guide: "<section>") [misconception: <id>]' for a message's end."""
    idea, section = MISCONCEPTIONS[mid]
    _EXPLAINED.add(mid)
    return f" {idea} (guide: \"{section}\") [misconception: {mid}]"


def ids_in(text: str) -> list[str]:
    """The known misconception ids a message names, in order, without repeats."""
    return list(dict.fromkeys(m for m in _TAG.findall(text or "") if m in MISCONCEPTIONS))


def explained(reset: bool = False) -> set[str]:
    """The ids explain() gave since the last reset (the grading plugin resets it before
    each test)."""
    ids = set(_EXPLAINED)
    if reset:
        _EXPLAINED.clear()
    return ids
