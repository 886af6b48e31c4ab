"""Realistic student bugs in Exercise 2, as edits of the reference solution.

Each mutant is graded like a submission (the mutated ex_02 next to the reference ex_01,
which it builds on); the grader must take points off every one, and say why.
`python -m tests.project.mutants_ex02` grades them all and prints which tests caught each
(public alone, or only hidden).

The same run grades the submissions that show how Exercise 2 depends on Exercise 1 (a
broken, unfinished or missing Exercise 1 under the reference Exercise 2) and the
alternative solution (tests/fixtures/alt_ex02 and alt_ex01).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "solutions" / "ex_02_time_series_prediction.py"
EX01 = REPO / "solutions" / "ex_01_basic_rnn.py"

# name -> (what a student did, [(text in the reference, what the student wrote instead)])
MUTANTS = {
    "target_inside_window": (
        "the target is the last value of the window",
        [("    y = s[starts + window + np.arange(horizon), 0]\n",
          "    y = s[starts + window - 1 + np.arange(horizon), 0]\n")]),
    "window_count_one_short": (
        "one window too few (T - window - horizon)",
        [("    N = T - window - horizon + 1\n", "    N = T - window - horizon\n")]),
    "target_one_step_late": (
        "targets start one step after the right one (and one window fewer so they fit)",
        [("    N = T - window - horizon + 1\n", "    N = T - window - horizon\n"),
         ("    y = s[starts + window + np.arange(horizon), 0]\n",
          "    y = s[starts + window + 1 + np.arange(horizon), 0]\n")]),
    "windows_time_major": (
        "windows returned as (window, N, F)",
        [("    return X, y\n    # END SOLUTION\n\n\n# ----",
          "    return X.transpose(1, 0, 2), y\n    # END SOLUTION\n\n\n# ----")]),
    "shuffled_split": (
        "the series is shuffled before it is split",
        [("    return s[:n_train].copy(), s[n_train:n_train + n_val].copy(), "
          "s[n_train + n_val:].copy()\n",
          "    s = s[np.random.default_rng().permutation(T)]\n"
          "    return s[:n_train].copy(), s[n_train:n_train + n_val].copy(), "
          "s[n_train + n_val:].copy()\n")]),
    "split_overlap": (
        "the validation part starts one step early, overlapping the training part",
        [("s[n_train:n_train + n_val].copy()", "s[n_train - 1:n_train + n_val].copy()")]),
    "scaler_ddof1": (
        "the scaler divides by the sample standard deviation (ddof=1)",
        [("std = np.asarray(a.std(axis=axes), dtype=np.float64)",
          "std = np.asarray(a.std(axis=axes, ddof=1), dtype=np.float64)")]),
    "scaler_fit_on_all": (
        "the scaler is fitted on the whole series",
        [("    scaler = Scaler().fit(train)\n", "    scaler = Scaler().fit(series)\n")]),
    "scaler_refit_per_part": (
        "each part is scaled with its own statistics",
        [("            X, y = make_windows(scaler.transform(part), window, horizon)\n",
          "            X, y = make_windows(Scaler().fit(part).transform(part), window, "
          "horizon)\n")]),
    "test_windows_cross_parts": (
        "test windows take their first inputs from the end of the validation part",
        [("            X, y = make_windows(scaler.transform(part), window, horizon)\n",
          "            context = np.concatenate([val[-window:], part]) if name == 'test' "
          "else part\n"
          "            X, y = make_windows(scaler.transform(context), window, horizon)\n")]),
    "naive_first_value": (
        "the naive forecast repeats the first value of the window",
        [("return np.repeat(X[:, -1, :1], horizon, axis=1)",
          "return np.repeat(X[:, 0, :1], horizon, axis=1)")]),
    "readout_mean_state": (
        "predict reads the mean of all hidden states",
        [("        return h[:, -1] @ p[\"Wy\"] + p[\"by\"]\n",
          "        return h.mean(axis=1) @ p[\"Wy\"] + p[\"by\"]\n")]),
    "gradient_at_every_state": (
        "BPTT feeds the output gradient into every hidden state (many-to-many)",
        [("        dh[:, -1] = dpred @ p[\"Wy\"].T\n",
          "        dh[:] = (dpred @ p[\"Wy\"].T)[:, None, :]\n")]),
    "half_mse": (
        "the loss is half the mean squared error (and its gradient too)",
        [("        loss = float(np.mean(diff**2))\n",
          "        loss = float(0.5 * np.mean(diff**2))\n"),
         ("        dpred = 2.0 * diff / diff.size\n", "        dpred = diff / diff.size\n")]),
    "gradient_of_the_sum": (
        "the gradient is not divided by N * horizon",
        [("        dpred = 2.0 * diff / diff.size\n", "        dpred = 2.0 * diff\n")]),
    "fit_global_rng": (
        "the shuffles come from the global NumPy generator",
        [("order = self.rng.permutation(N)", "order = np.random.permutation(N)")]),
    "fit_adam_state_reset": (
        "every Adam step starts from a fresh state",
        [("self.params, state = ex1.adam_step(self.params, grads, state, lr)",
          "self.params, _ = ex1.adam_step(self.params, grads, None, lr)")]),
    "rmse_on_scaled_values": (
        "the comparison reports RMSEs on the scaled values",
        [("        y_test = scaler.inverse_transform(data[\"y_test\"])\n"
          "        pred = scaler.inverse_transform(model.predict(data[\"X_test\"]))\n"
          "        naive = scaler.inverse_transform(naive_forecast(data[\"X_test\"], "
          "horizon))\n",
          "        y_test = data[\"y_test\"]\n"
          "        pred = model.predict(data[\"X_test\"])\n"
          "        naive = naive_forecast(data[\"X_test\"], horizon)\n")]),
    "recursive_fed_observed_values": (
        "the recursive forecast rolls the observed window instead of feeding predictions back",
        [("        window = np.concatenate([window[1:], np.full((1,) + window.shape[1:], "
          "out[k])])\n",
          "        window = np.roll(window, -1, axis=0)\n")]),
    "recursive_same_context": (
        "every step of the recursive forecast predicts from the original context",
        [("        window = np.concatenate([window[1:], np.full((1,) + window.shape[1:], "
          "out[k])])\n",
          "        window = np.array(context, dtype=np.float64)\n")]),
}

# The misconception id each mutant's diagnosis must name (the grader's tags).
EXPECTED_IDS = {
    "target_inside_window": "window-target-inside",
    "window_count_one_short": "window-count",
    "target_one_step_late": "window-count",
    "windows_time_major": "window-axis-order",
    "shuffled_split": "split-shuffled",
    "split_overlap": "split-overlap",
    "scaler_ddof1": "scaler-ddof",
    "scaler_fit_on_all": "scaler-leak",
    "scaler_refit_per_part": "scaler-leak",
    "test_windows_cross_parts": "windows-cross-segments",
    "naive_first_value": "naive-last-value",
    "readout_mean_state": "many-to-one-readout",
    "gradient_at_every_state": "many-to-one-bptt",
    "half_mse": "mse-definition",
    "gradient_of_the_sum": "mse-grad-scale",
    "fit_global_rng": "shuffle-rng",
    "rmse_on_scaled_values": "rmse-original-units",
    "recursive_fed_observed_values": "recursive-own-predictions",
    "recursive_same_context": "recursive-own-predictions",
}

# Exercise 2's tests that never run the RNN: a broken Exercise 1 must not cost these.
RNN_TESTS = ("RNNRegressor", "compare_window_lengths")


def mutate(name: str, source: str | None = None) -> str:
    """The reference with one mutant's edits; each edited text must occur exactly once."""
    source = REFERENCE.read_text(encoding="utf-8") if source is None else source
    for old, new in MUTANTS[name][1]:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"mutant {name}: the text to replace occurs {count} times")
        source = source.replace(old, new)
    return source


def _ex01_variant(kind: str) -> str | None:
    """Exercise 1 as a student might hand it in alongside a correct Exercise 2."""
    if kind == "reference":
        return EX01.read_text(encoding="utf-8")
    if kind == "skeleton":
        return (REPO / "assignments" / EX01.name).read_text(encoding="utf-8")
    if kind == "no_carry":
        from tests.project.mutants import mutate as mutate_ex01

        return mutate_ex01("drop_dh_next")
    return None  # missing


# Submissions besides the mutants: name -> (ex_02 source, ex_01 variant)
EX01_CASES = {"ex01_skeleton": "skeleton", "ex01_no_carry": "no_carry",
              "ex01_missing": "missing"}


def write_all(folder: Path) -> None:
    reference = REFERENCE.read_text(encoding="utf-8")
    ex01 = _ex01_variant("reference")
    for name in MUTANTS:
        (folder / name).mkdir(parents=True)
        (folder / name / REFERENCE.name).write_text(mutate(name), encoding="utf-8")
        (folder / name / EX01.name).write_text(ex01, encoding="utf-8")
    for name, kind in EX01_CASES.items():
        (folder / name).mkdir(parents=True)
        (folder / name / REFERENCE.name).write_text(reference, encoding="utf-8")
        text = _ex01_variant(kind)
        if text is not None:
            (folder / name / EX01.name).write_text(text, encoding="utf-8")
    alternative = folder / "alternative"
    shutil.copytree(REPO / "tests" / "fixtures" / "alt_ex02", alternative,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "tests" / "fixtures" / "alt_ex01" / EX01.name, alternative / EX01.name)
    skeleton = folder / "skeleton"
    skeleton.mkdir()
    shutil.copy(REPO / "assignments" / REFERENCE.name, skeleton / REFERENCE.name)
    shutil.copy(EX01, skeleton / EX01.name)


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


def ex02_tests(result: dict) -> list[dict]:
    return [t for t in result["tests"] if t["name"].startswith("ex02 ")]


def summary(results: dict[str, dict]) -> list[str]:
    lines = [f"{'mutant':<32} {'ex02':>9}  caught by"]
    for name in MUTANTS:
        tests = ex02_tests(results[name])
        failed = [t for t in tests if t["status"] != "passed"]
        public = [t for t in failed if t["visibility"] == "visible"]
        got = sum(t["score"] for t in tests)
        total = sum(t["max_score"] for t in tests)
        where = (f"{len(public)} public" + (f" + {len(failed) - len(public)} hidden"
                                            if len(failed) > len(public) else "")
                 if public else "HIDDEN ONLY" if failed else "NOT CAUGHT")
        lines.append(f"{name:<32} {got:>4g}/{total:<4g}  {where}: "
                     + "; ".join(t["name"].split(":")[0][5:] for t in failed[:3]))
    return lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res = grade_all_submissions(Path(tmp))
    print("\n".join(summary(res)))
    caught = sum(any(t["status"] != "passed" for t in ex02_tests(res[n])) for n in MUTANTS)
    public = sum(any(t["status"] != "passed" and t["visibility"] == "visible"
                     for t in ex02_tests(res[n])) for n in MUTANTS)
    print(f"{caught}/{len(MUTANTS)} mutants lose points; {public} are caught by public tests "
          "alone")
    for name in ("alternative", "skeleton", *EX01_CASES):
        tests = ex02_tests(res[name])
        print(f"{name:<32} ex02 {sum(t['score'] for t in tests):g}/"
              f"{sum(t['max_score'] for t in tests):g}")
    sys.exit(0 if caught == len(MUTANTS) else 1)
