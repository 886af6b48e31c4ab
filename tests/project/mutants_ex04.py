"""Realistic student bugs in Exercise 4, as edits of the reference solution.

Each mutant is graded like a submission (the mutated ex_04 next to the reference ex_01,
whose model_loss the NumPy-vs-PyTorch comparison uses); the grader must take points off
every one, and say why. `python -m tests.project.mutants_ex04` grades them all and prints
which tests caught each (public alone, or only hidden).

The same run grades the alternative solution (tests/fixtures/alt_ex04 with alt_ex01), the
skeleton, and the reference Exercise 4 without any Exercise 1 (only the comparison, which
uses Exercise 1, may lose points then).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "solutions" / "ex_04_rnn_pytorch.py"
EX01 = REPO / "solutions" / "ex_01_basic_rnn.py"

# name -> (what a student did, [(text in the reference, what the student wrote instead)])
MUTANTS = {
    "no_batch_first": (
        "nn.RNN built without batch_first=True",
        [("                          batch_first=True, dropout=float(dropout) if num_layers > 1 "
          "else 0.0)\n        self.fc = nn.Linear(sizes[\"hidden_size\"], "
          "sizes[\"output_size\"])",
          "                          dropout=float(dropout) if num_layers > 1 "
          "else 0.0)\n        self.fc = nn.Linear(sizes[\"hidden_size\"], "
          "sizes[\"output_size\"])")]),
    "h0_batch_major": (
        "h0 taken and h_n returned as (N, num_layers, H), as if batch_first applied to them",
        [("            check_shape(\"h0\", h0, (self.rnn.num_layers, x.shape[0], "
          "self.rnn.hidden_size),",
          "            check_shape(\"h0\", h0, (x.shape[0], self.rnn.num_layers, "
          "self.rnn.hidden_size),"),
         ("        out, h_n = self.rnn(x, h0)\n        return self.fc(out), h_n\n",
          "        out, h_n = self.rnn(x, None if h0 is None else h0.transpose(0, 1).contiguous())"
          "\n        return self.fc(out), h_n.transpose(0, 1)\n")]),
    "wh_not_transposed": (
        "Exercise 1's Wh copied into weight_hh_l0 as it is (square: no error)",
        [("(rnn.weight_hh_l0, params[\"Wh\"].T)", "(rnn.weight_hh_l0, params[\"Wh\"])")]),
    "bias_hh_kept": (
        "bias_hh_l0 left at its random initial value",
        [("        rnn.bias_hh_l0.zero_()\n", "")]),
    "bias_loaded_twice": (
        "b copied into both biases",
        [("        rnn.bias_hh_l0.zero_()\n", "        rnn.bias_hh_l0.copy_(rnn.bias_ih_l0)\n")]),
    "model_left_float32": (
        "parameters copied into the float32 model (no model.double())",
        [("    model.double()\n    device = rnn.weight_ih_l0.device\n",
          "    device = rnn.weight_ih_l0.device\n"),
         ("            param.copy_(torch.tensor(np.asarray(value, dtype=np.float64), "
          "device=device))",
          "            param.copy_(torch.tensor(np.asarray(value, dtype=np.float32), "
          "device=device))")]),
    "grad_b_both_biases": (
        "the gradient of b taken as the sum of both biases' gradients",
        [("\"b\": to_numpy(rnn.bias_ih_l0.grad)",
          "\"b\": to_numpy(rnn.bias_ih_l0.grad + rnn.bias_hh_l0.grad)")]),
    "ce_without_flattening": (
        "cross-entropy on (N, T, V) scores and (N, T) targets as they are",
        [("    loss = nn.functional.cross_entropy(scores.reshape(N * T, V),\n"
          "                                       torch.tensor(y, dtype=torch.int64)"
          ".reshape(N * T))\n",
          "    loss = nn.functional.cross_entropy(scores, torch.tensor(y, dtype=torch.int64))\n")]),
    "no_zero_grad": (
        "train_epoch never zeroes the gradients",
        [("        x, y = to_model(model, x), to_model(model, y)\n        optimizer.zero_grad()\n"
          "        out, _ = model(x)\n",
          "        x, y = to_model(model, x), to_model(model, y)\n        out, _ = model(x)\n")]),
    "mean_of_batch_means": (
        "the epoch's loss is the plain mean of the batch losses",
        [("        optimizer.step()\n        total += loss.item() * x.shape[0]\n"
          "        count += x.shape[0]\n",
          "        optimizer.step()\n        total += loss.item()\n        count += 1\n")]),
    "clip_before_backward": (
        "gradients clipped before backward() computed them",
        [("        loss.backward()\n        if clip is not None:\n"
          "            nn.utils.clip_grad_norm_(model.parameters(), clip)\n"
          "        optimizer.step()\n        total += loss.item() * x.shape[0]\n",
          "        if clip is not None:\n"
          "            nn.utils.clip_grad_norm_(model.parameters(), clip)\n"
          "        loss.backward()\n"
          "        optimizer.step()\n        total += loss.item() * x.shape[0]\n")]),
    "no_cast_to_model": (
        "batches used in the dtype they come in",
        [("    first = next(model.parameters())\n    if torch.is_floating_point(tensor):\n"
          "        return tensor.to(device=first.device, dtype=first.dtype)\n",
          "    first = next(model.parameters())\n    if torch.is_floating_point(tensor):\n"
          "        return tensor.to(device=first.device)\n")]),
    "evaluate_train_mode": (
        "evaluate without model.eval() (dropout stays on)",
        [("    was_training = model.training\n    model.eval()\n    total, count = 0.0, 0\n",
          "    was_training = model.training\n    total, count = 0.0, 0\n")]),
    "evaluate_with_autograd": (
        "evaluate without torch.no_grad()",
        [("        with torch.no_grad():\n            for x, y in loader:\n"
          "                x, y = to_model(model, x), to_model(model, y)\n"
          "                out, _ = model(x)\n"
          "                loss = loss_fn(*outputs_for_targets(out, y))\n"
          "                total += loss.item() * x.shape[0]\n"
          "                count += x.shape[0]\n",
          "        for x, y in loader:\n"
          "            x, y = to_model(model, x), to_model(model, y)\n"
          "            out, _ = model(x)\n"
          "            loss = loss_fn(*outputs_for_targets(out, y))\n"
          "            total += loss.item() * x.shape[0]\n"
          "            count += x.shape[0]\n")]),
    "state_not_detached": (
        "the carried state returned with its graph",
        [("    return loss.item(), h_n.detach()\n", "    return loss.item(), h_n\n")]),
    "state_not_carried": (
        "train_stateful_epoch starts every batch from a zero state",
        [("        loss, h = tbptt_step(model, x, y, h, optimizer, loss_fn, clip)\n",
          "        loss, _ = tbptt_step(model, x, y, None, optimizer, loss_fn, clip)\n")]),
    "shuffle_global_rng": (
        "make_loader shuffles with torch's global generator",
        [("    return DataLoader(SequenceDataset(X, y), batch_size=batch_size, "
          "shuffle=bool(shuffle),\n                      generator=generator)\n",
          "    return DataLoader(SequenceDataset(X, y), batch_size=batch_size, "
          "shuffle=bool(shuffle))\n")]),
    "streams_not_interleaved": (
        "stream_loader keeps the chunks of one stream in consecutive rows",
        [("        return a.reshape(batch_size, K, seq_len).transpose(1, 0, 2).reshape("
          "K * batch_size,\n",
          "        return a.reshape(batch_size, K, seq_len).reshape(K * batch_size,\n")]),
}

# name -> the misconception id its diagnosis must carry (results.json tags of a failed test).
EXPECTED_IDS = {
    "no_batch_first": "batch-first",
    "h0_batch_major": "h0-layout",
    "wh_not_transposed": "torch-weight-layout",
    "bias_hh_kept": "torch-two-biases",
    "bias_loaded_twice": "torch-two-biases",
    "model_left_float32": "torch-default-float32",
    "grad_b_both_biases": "torch-two-biases",
    "ce_without_flattening": "ce-class-axis",
    "no_zero_grad": "zero-grad",
    "mean_of_batch_means": "loss-batch-weighting",
    "clip_before_backward": "clip-placement",
    "no_cast_to_model": "dtype-cast",
    "evaluate_train_mode": "eval-mode",
    "evaluate_with_autograd": "no-grad-eval",
    "state_not_detached": "tbptt-detach",
    "state_not_carried": "tbptt-carry",
    "shuffle_global_rng": "shuffle-generator",
    "streams_not_interleaved": "stream-continuity",
}

# Exercise 4's tests that use Exercise 1 (the NumPy side of the comparison).
EX01_TESTS = ("compare_numpy_torch",)


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
    ex01 = EX01.read_text(encoding="utf-8")
    for name in MUTANTS:
        (folder / name).mkdir(parents=True)
        (folder / name / REFERENCE.name).write_text(mutate(name), encoding="utf-8")
        (folder / name / EX01.name).write_text(ex01, encoding="utf-8")
    alternative = folder / "alternative"
    shutil.copytree(REPO / "tests" / "fixtures" / "alt_ex04", alternative,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "tests" / "fixtures" / "alt_ex01" / EX01.name, alternative / EX01.name)
    skeleton = folder / "skeleton"
    skeleton.mkdir()
    shutil.copy(REPO / "assignments" / REFERENCE.name, skeleton / REFERENCE.name)
    shutil.copy(EX01, skeleton / EX01.name)
    alone = folder / "ex01_missing"
    alone.mkdir()
    shutil.copy(REFERENCE, alone / REFERENCE.name)


def grade_all_submissions(folder: Path, jobs: int = 2) -> dict[str, dict]:
    """Every submission of write_all, graded through the grader's command line."""
    subs, out = folder / "subs", folder / "out"
    write_all(subs)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(subs),
                           "--out", str(out), "--jobs", str(jobs)], cwd=REPO,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:] or proc.stdout[-3000:])
    results = {}
    for sub in sorted(p.name for p in subs.iterdir()):
        path = out / sub / "results.json"
        if not path.exists():
            raise RuntimeError(f"no results for {sub}: {proc.stdout[-2000:]}")
        results[sub] = json.loads(path.read_text(encoding="utf-8"))
    return results


def ex04_tests(result: dict) -> list[dict]:
    return [t for t in result["tests"] if t["name"].startswith("ex04 ")]


def summary(results: dict[str, dict]) -> list[str]:
    lines = [f"{'mutant':<26} {'ex04':>9}  caught by"]
    for name in MUTANTS:
        tests = ex04_tests(results[name])
        failed = [t for t in tests if t["status"] != "passed"]
        public = [t for t in failed if t["visibility"] == "visible"]
        got = sum(t["score"] for t in tests)
        total = sum(t["max_score"] for t in tests)
        where = (f"{len(public)} public" + (f" + {len(failed) - len(public)} hidden"
                                            if len(failed) > len(public) else "")
                 if public else "HIDDEN ONLY" if failed else "NOT CAUGHT")
        lines.append(f"{name:<26} {got:>4g}/{total:<4g}  {where}: "
                     + "; ".join(t["name"].split(":")[0][5:] for t in failed[:3]))
    return lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res = grade_all_submissions(Path(tmp))
    print("\n".join(summary(res)))
    caught = sum(any(t["status"] != "passed" for t in ex04_tests(res[n])) for n in MUTANTS)
    public = sum(any(t["status"] != "passed" and t["visibility"] == "visible"
                     for t in ex04_tests(res[n])) for n in MUTANTS)
    print(f"{caught}/{len(MUTANTS)} mutants lose points; {public} are caught by public tests "
          "alone")
    for name in ("alternative", "skeleton", "ex01_missing"):
        tests = ex04_tests(res[name])
        print(f"{name:<26} ex04 {sum(t['score'] for t in tests):g}/"
              f"{sum(t['max_score'] for t in tests):g}")
    sys.exit(0 if caught == len(MUTANTS) else 1)
