"""Realistic student bugs in Exercise 3, as edits of the reference solution.

Each mutant is graded like a submission (the reference Exercise 1 beside it, which
Exercise 3 builds on); the grader must take points off every one, and say why.
`python -m tests.project.mutants_ex03` grades them all and prints which tests caught each
(public alone, or only hidden).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "solutions" / "ex_03_char_language_model.py"
EXERCISE1 = REPO / "solutions" / "ex_01_basic_rnn.py"

# name -> (what a student did, [(text in the reference, what the student wrote instead)])
MUTANTS = {
    "temperature_after_softmax": (
        "temperature applied to the probabilities, p ** (1/T), not renormalised", [
            ("z = np.asarray(logits, dtype=np.float64) / float(temperature)",
             "z = np.asarray(logits, dtype=np.float64)"),
            ("    return e / e.sum(axis=-1, keepdims=True)\n",
             "    return (e / e.sum(axis=-1, keepdims=True)) ** (1.0 / float(temperature))\n")]),
    "normalised_over_everything": (
        "probabilities divided by the sum of the whole array, not of each row", [
            ("    return e / e.sum(axis=-1, keepdims=True)\n", "    return e / e.sum()\n")]),
    "unstable_softmax": (
        "softmax with temperature without subtracting the maximum", [
            ("    z = z - z.max(axis=-1, keepdims=True)\n", "")]),
    "temperature_ignored_in_step": (
        "next_char_probs always uses temperature 1", [
            ('softmax_with_temperature(h_next @ p["Wy"] + p["by"], temperature)',
             'softmax_with_temperature(h_next @ p["Wy"] + p["by"], 1.0)')]),
    "sample_no_feedback": (
        "the sampled character is not fed back: every step reads the seed", [
            ("        ix = int(rng.choice(V, p=probs))\n        out.append(ix)\n",
             "        out.append(int(rng.choice(V, p=probs)))\n")]),
    "sample_state_reset": (
        "sampling restarts from h0 at every step", [
            ("        probs, h = next_char_probs(p, h, ix, temperature)\n",
             "        probs, _ = next_char_probs(p, h, ix, temperature)\n")]),
    "sample_argmax": (
        "greedy decoding: the most likely character instead of a draw", [
            ("        ix = int(rng.choice(V, p=probs))\n",
             "        ix = int(np.argmax(probs))\n")]),
    "sample_global_rng": (
        "draws from np.random's global generator instead of rng", [
            ("        ix = int(rng.choice(V, p=probs))\n",
             "        ix = int(np.random.choice(V, p=probs))\n")]),
    "sample_includes_seed": (
        "the seed character is returned as the first of the n characters", [
            ("    out = []\n    for _ in range(n):\n",
             "    out = [int(seed_ix)] if n else []\n    for _ in range(n - 1):\n")]),
    "hidden_reset_between_chunks": (
        "truncated BPTT without carrying h_last into the next chunk", [
            ("loss, grads, h = char_rnn_loss(params, inputs[rows], targets[rows], h)",
             "loss, grads, _ = char_rnn_loss(params, inputs[rows], targets[rows], h)")]),
    "hidden_not_reset_per_epoch": (
        "the state of the last chunk carried into the next epoch", [
            ("    for epoch in range(num_epochs):\n"
             "        h = np.zeros((batch_size, hidden_size))\n",
             "    h = np.zeros((batch_size, hidden_size))\n"
             "    for epoch in range(num_epochs):\n")]),
    "targets_not_shifted": (
        "targets are the inputs themselves", [
            ("    return data[index], data[index + 1]\n",
             "    return data[index], data[index]\n")]),
    "batches_consecutive_rows": (
        "chunks of B neighbouring pieces instead of B parallel streams", [
            ("start = (np.arange(n_chunks)[:, None] * seq_len + np.arange(batch_size)[None, :] "
             "* stream)",
             "start = (np.arange(n_chunks)[:, None] * batch_size + np.arange(batch_size)[None, :])"
             " * seq_len")]),
    "unsorted_vocab": (
        "vocabulary in order of first appearance", [
            ("    chars = sorted(set(text))\n", "    chars = list(dict.fromkeys(text))\n")]),
    "inputs_targets_swapped": (
        "the model reads the targets and is scored on the inputs", [
            ("    x = np.eye(V)[inputs]\n    return exercise1().model_loss(p, x, targets, h0)\n",
             "    x = np.eye(V)[targets]\n    return exercise1().model_loss(p, x, inputs, h0)\n")]),
    "loss_ignores_h0": (
        "char_rnn_loss always starts from a zero state", [
            ("return exercise1().model_loss(p, x, targets, h0)",
             "return exercise1().model_loss(p, x, targets)")]),
    "perplexity_base_2": (
        "perplexity as 2 ** loss for a loss in nats", [
            ("    return float(np.exp(value))\n", "    return float(2.0 ** value)\n")]),
}

# name -> the misconception id its diagnosis must carry (results.json tags of a failed test).
EXPECTED_IDS = {
    "temperature_after_softmax": "temperature-before-softmax",
    "normalised_over_everything": "probs-normalised",
    "unstable_softmax": "softmax-overflow",
    "temperature_ignored_in_step": "temperature-before-softmax",
    "sample_no_feedback": "sample-feed-back",
    "sample_state_reset": "sample-carry-state",
    "sample_argmax": "sample-follows-probs",
    "sample_global_rng": "sample-rng",
    "sample_includes_seed": "sample-seed-excluded",
    "hidden_reset_between_chunks": "hidden-carry",
    "hidden_not_reset_per_epoch": "hidden-reset-epoch",
    "targets_not_shifted": "targets-shift",
    "batches_consecutive_rows": "batch-stream-layout",
    "unsorted_vocab": "vocab-sorted",
    "inputs_targets_swapped": "char-inputs-targets",
    "loss_ignores_h0": "forward-h0-ignored",
    "perplexity_base_2": "perplexity-exp",
}


def mutate(name: str, source: str | None = None) -> str:
    """The reference with one mutant's edits; each edited text must occur exactly once."""
    source = REFERENCE.read_text(encoding="utf-8") if source is None else source
    for old, new in MUTANTS[name][1]:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"mutant {name}: the text to replace occurs {count} times")
        source = source.replace(old, new)
    return source


def write_all(folder: Path) -> None:
    for name in MUTANTS:
        (folder / name).mkdir(parents=True)
        (folder / name / REFERENCE.name).write_text(mutate(name), encoding="utf-8")
        shutil.copy(EXERCISE1, folder / name / EXERCISE1.name)


def grade_mutants(folder: Path, jobs: int = 2) -> dict[str, dict]:
    from autograder.batch import grade_class

    write_all(folder / "subs")
    rows = grade_class(folder / "subs", folder / "out", jobs=jobs, progress=False)
    return {sub.id: res for sub, res, _ in rows}


def ex03_tests(result: dict) -> list[dict]:
    return [t for t in result["tests"] if t["name"].startswith("ex03 ")]


def summary(results: dict[str, dict]) -> list[str]:
    lines = []
    for name, res in results.items():
        tests = ex03_tests(res)
        failed = [t for t in tests if t["status"] != "passed"]
        public = [t for t in failed if t["visibility"] == "visible"]
        score = sum(t["score"] for t in tests)
        total = sum(t["max_score"] for t in tests)
        lines.append(f"{name:<28} {score:>5g}/{total:g}  {len(public):>2} public, "
                     f"{len(failed) - len(public)} hidden failed: "
                     + "; ".join(t["name"][5:60] for t in failed[:2]))
    return lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res = grade_mutants(Path(tmp))
    print("\n".join(summary(res)))
    caught = sum(any(t["status"] != "passed" for t in ex03_tests(r)) for r in res.values())
    public = sum(any(t["status"] != "passed" and t["visibility"] == "visible"
                     for t in ex03_tests(r)) for r in res.values())
    print(f"{caught}/{len(res)} mutants lose points; {public} are caught by public tests alone")
    sys.exit(0 if caught == len(res) else 1)
