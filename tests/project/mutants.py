"""Realistic student bugs in Exercise 1, as edits of the reference solution.

Each mutant is graded like a submission; the grader must take points off every one, and
say why. `python -m tests.project.mutants` grades them all and prints which tests caught
each (public alone, or only hidden).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "solutions" / "ex_01_basic_rnn.py"

# name -> (what a student did, text in the reference, what the student wrote instead)
MUTANTS = {
    "drop_dh_next": (
        "BPTT ignores the gradient carried back from later steps",
        "rnn_step_backward(dh[:, t] + dh_carry, step_caches[t])",
        "rnn_step_backward(dh[:, t], step_caches[t])"),
    "tanh_of_h_in_derivative": (
        "tanh derivative written as 1 - tanh(h)^2 with h already tanh'ed",
        "(1.0 - h_next**2)", "(1.0 - np.tanh(h_next) ** 2)"),
    "no_transpose_Wh": (
        "dh_prev = dz @ Wh (missing transpose)",
        "    dh_prev = dz @ Wh.T\n", "    dh_prev = dz @ Wh\n"),
    "dWh_uses_h_next": (
        "dWh built from h_t instead of h_{t-1}",
        "    dWh = h_prev.T @ dz\n", "    dWh = h_next.T @ dz\n"),
    "assign_not_accumulate": (
        "dWh = dWh_t instead of += across time steps",
        "dWh += dWh_t", "dWh = dWh_t"),
    "ignores_h0": (
        "the sequence always starts from zeros",
        "h_t = h0\n", "h_t = np.zeros_like(h0)\n"),
    "unstable_softmax": (
        "softmax without subtracting the maximum",
        "shifted = scores - scores.max(axis=2, keepdims=True)", "shifted = scores"),
    "clip_per_element": (
        "clipping each entry to [-max_norm, max_norm]",
        "clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}",
        "clipped = {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}"),
    "clip_in_place": (
        "clipping the caller's arrays in place and returning them",
        "clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}",
        "for g in grads.values():\n        g *= scale\n    clipped = grads"),
    "clip_per_array": (
        "each array clipped by its own norm, not the global one",
        "clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}",
        "clipped = {k: g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-12))\n"
        "               for k, g in grads.items()}"),
    "mask_mean_over_all": (
        "masked loss divided by N*T instead of the number of unmasked positions",
        "weights = mask_weights(mask, N, T)",
        "weights = (np.ones((N, T)) if mask is None else np.asarray(mask, float)) / (N * T)"),
    "db_mean_not_sum": (
        "db averaged over the batch instead of summed",
        "    db = dz.sum(axis=0)\n", "    db = dz.mean(axis=0)\n"),
    "float32_state": (
        "hidden state computed in float32",
        "h_next = np.tanh(x @ Wx + h_prev @ Wh + b)",
        "h_next = np.tanh((x @ Wx + h_prev @ Wh + b).astype(np.float32))"),
    "mutates_dh": (
        "BPTT adds the carried gradient into the caller's dh in place",
        "        dx_t, dh_carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_carry, "
        "step_caches[t])",
        "        dh[:, t] += dh_carry\n"
        "        dx_t, dh_carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t], "
        "step_caches[t])"),
    "softmax_grad_not_averaged": (
        "dscores not divided by the number of positions",
        "dscores = (np.exp(log_probs) - np.eye(V)[y]) * weights[:, :, None]",
        "dscores = (np.exp(log_probs) - np.eye(V)[y]) * (weights[:, :, None] > 0)"),
    "h_last_is_first": (
        "model_loss returns h_1 as the last state",
        "return loss, grads, h[:, -1].copy()", "return loss, grads, h[:, 0].copy()"),
    "adam_no_bias_correction": (
        "Adam without bias correction",
        "m_hat = new_m[k] / (1 - beta1**t)", "m_hat = new_m[k]"),
}

# name -> the misconception id its diagnosis must carry (results.json tags of a failed test).
EXPECTED_IDS = {
    "drop_dh_next": "bptt-no-carry",
    "tanh_of_h_in_derivative": "tanh-derivative-at-output",
    "no_transpose_Wh": "backward-transpose",
    "dWh_uses_h_next": "dwh-wrong-state",
    "assign_not_accumulate": "bptt-no-accumulate",
    "ignores_h0": "forward-h0-ignored",
    "unstable_softmax": "softmax-overflow",
    "clip_per_element": "clip-not-global",
    "clip_in_place": "mutates-input",
    "clip_per_array": "clip-not-global",
    "mask_mean_over_all": "mask-count",
    "db_mean_not_sum": "bias-grad-sum",
    "float32_state": "float32-precision",
    "mutates_dh": "mutates-input",
    "softmax_grad_not_averaged": "ce-grad-scale",
    "adam_no_bias_correction": "adam-bias-correction",
}


def mutate(name: str, source: str | None = None) -> str:
    """The reference with one mutant's edit; the edited text must occur exactly once."""
    source = REFERENCE.read_text(encoding="utf-8") if source is None else source
    _, old, new = MUTANTS[name]
    count = source.count(old)
    if count != 1:
        raise ValueError(f"mutant {name}: the text to replace occurs {count} times")
    return source.replace(old, new)


def write_all(folder: Path) -> None:
    for name in MUTANTS:
        (folder / name).mkdir(parents=True)
        (folder / name / REFERENCE.name).write_text(mutate(name), encoding="utf-8")


def grade_mutants(folder: Path, jobs: int = 2) -> dict[str, dict]:
    from autograder.batch import grade_class

    write_all(folder / "subs")
    rows = grade_class(folder / "subs", folder / "out", jobs=jobs, progress=False)
    return {sub.id: res for sub, res, _ in rows}


def summary(results: dict[str, dict]) -> list[str]:
    lines = []
    for name, res in results.items():
        failed = [t for t in res["tests"] if t["status"] != "passed"]
        public = [t for t in failed if t["visibility"] == "visible"]
        total = sum(t["max_score"] for t in res["tests"])
        lines.append(f"{name:<26} {res['score']:>5g}/{total:g}  "
                     f"{'public' if public else 'HIDDEN ONLY' if failed else 'NOT CAUGHT'}: "
                     + "; ".join(t["name"] for t in failed[:3]))
    return lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res = grade_mutants(Path(tmp))
    print("\n".join(summary(res)))
    caught = sum(any(t["status"] != "passed" for t in r["tests"]) for r in res.values())
    public = sum(any(t["status"] != "passed" and t["visibility"] == "visible"
                     for t in r["tests"]) for r in res.values())
    print(f"{caught}/{len(res)} mutants lose points; {public} are caught by public tests alone")
    sys.exit(0 if caught == len(res) else 1)
