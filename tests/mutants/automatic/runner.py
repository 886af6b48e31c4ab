"""Run automatic mutants against an exercise's public and hidden tests.

Each mutant is its own pytest process (`-x`, no cache) over a copy of `solutions/` in a
temporary folder with the one mutated file, found through `IMPL`; `solutions/` itself is
never written. Exit code 0 = survived; any failure, error or the per-mutant timeout = killed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
SOLUTIONS = REPO / "solutions"

FILES = {
    "ex01": "ex_01_basic_rnn.py",
    "ex02": "ex_02_time_series_prediction.py",
    "ex03": "ex_03_char_language_model.py",
    "ex04": "ex_04_rnn_pytorch.py",
}
TESTS = {
    exid: [f"tests/public/test_{exid}_{FILES[exid][6:]}",
           f"tests/hidden/test_{exid}_{FILES[exid][6:-3]}_hidden.py"]
    for exid in FILES
}
# The graded API of CONTRACT.md section 6 (what the rubric's tests exercise). The demos,
# plots and experiments around it are free-form and not mutated.
GRADED = {
    "ex01": ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
             "affine_forward", "affine_backward", "softmax_cross_entropy", "clip_grad_norm",
             "init_params", "model_loss"],
    "ex02": ["make_windows", "chronological_split", "Scaler.fit", "Scaler.transform",
             "Scaler.inverse_transform", "RNNRegressor.__init__", "RNNRegressor.loss_and_grads",
             "RNNRegressor.fit", "RNNRegressor.predict", "naive_forecast", "mse", "rmse", "mae",
             "recursive_forecast", "compare_window_lengths"],
    "ex03": ["build_vocab", "encode", "decode", "make_batches", "char_rnn_loss",
             "softmax_with_temperature", "next_char_probs", "sample", "perplexity",
             "train_char_lm"],
    "ex04": ["SequenceDataset.__init__", "SequenceDataset.__len__", "SequenceDataset.__getitem__",
             "RNNModel.__init__", "RNNModel.forward", "load_numpy_params", "train_epoch",
             "evaluate"],
}


def plan(exid: str, sample: int | None = None, seed: int = 0,
         functions: list[str] | None = None) -> tuple[int, int, list[dict]]:
    """(mutmut's mutations in the file, those in graded solution blocks, the chosen ones)."""
    from tests.mutants.automatic.generate import mutants_of  # needs mutmut

    total, kept = mutants_of(SOLUTIONS / FILES[exid], set(functions or GRADED[exid]))
    chosen = list(kept)
    if sample is not None and sample < len(chosen):
        chosen = sorted(random.Random(f"{exid}:{seed}").sample(chosen, sample),
                        key=kept.index)
    rows = [{"id": m.id, "exercise": exid, "file": m.file, "function": m.function,
             "name": m.name, "line": m.line, "diff": m.diff, "splice": list(m.splice)}
            for m in chosen]
    return total, len(kept), rows


def mutated_source(row: dict) -> str:
    a, b, text = row["splice"]
    code = (SOLUTIONS / row["file"]).read_text()
    return code[:a] + text + code[b:]


def run_one(row: dict, timeout: float, python: str = sys.executable) -> dict:
    exid = row["exercise"]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="automut_") as tmp:
        impl = Path(tmp) / "impl"
        impl.mkdir()
        for name in FILES.values():
            shutil.copy(SOLUTIONS / name, impl / name)
        (impl / row["file"]).write_text(mutated_source(row))
        env = dict(os.environ, IMPL=str(impl), PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf",
               "--no-header", "-o", "addopts=", *TESTS[exid]]
        try:
            proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=timeout)
            code, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            code, out = "timeout", ""
    seconds = round(time.monotonic() - started, 2)
    if code == 0:
        status, by = "survived", ""
    elif code == "timeout":
        status, by = "killed", f"timeout after {timeout:g} s"
    elif code in (1, 2):
        status = "killed"
        by = next((ln.split(" - ")[0].removeprefix("FAILED ").removeprefix("ERROR ")
                   for ln in out.splitlines() if ln.startswith(("FAILED ", "ERROR "))),
                  f"pytest exit {code}")
    else:
        status, by = "error", f"pytest exit {code}: {out[-400:]}"
    return {"id": row["id"], "status": status, "killed_by": by, "seconds": seconds}


def run_all(rows: list[dict], jobs: int, timeout: float, log=print,
            sink: Path | None = None, deadline: float | None = None) -> list[dict]:
    """Run rows in parallel; after `deadline` seconds no new mutant starts (not run)."""
    results: list[dict] = []
    done = 0
    start = time.monotonic()

    def guarded(row):
        if deadline is not None and time.monotonic() - start > deadline:
            return None
        return run_one(row, timeout)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(guarded, row) for row in rows]
        for fut in futures:
            res = fut.result()
            if res is None:
                continue
            results.append(res)
            done += 1
            log(f"[{done}/{len(rows)}] {res['status']:<8} {res['seconds']:>6.1f}s {res['id']}"
                + (f"  <- {res['killed_by']}" if res["killed_by"] else ""))
            if sink is not None:
                with sink.open("a") as fh:
                    fh.write(json.dumps(res) + "\n")
    return results
