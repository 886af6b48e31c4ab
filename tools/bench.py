"""`make bench`: what checking and grading cost, and how fast the reference computes.

    python -m tools.bench [--quick] [--only grade,numpy,...] [--out results/bench.json]

Parts (`--only` takes any of them; the default runs all):

* `check`: `make check IMPL=solutions` (the public suite, in-process), median of several runs;
* `grade`: grading the reference through the real path (`python -m autograder grade`):
  wall and CPU seconds of the whole process tree, its peak memory (summed resident size of
  the grader, every pytest, sandbox and student process, sampled from /proc), worker
  processes started, CPU by role; and the same test files run in-process (one pytest per
  exercise, as grading does) in the same run: sandboxed / in-process;
* `core1`: the grading run pinned to one core (`taskset`);
* `halfcore`: pinned to one core with a CPU quota of half of it (a cgroup; where the
  machine gives none, the output says so): Gradescope's half vCPU;
* `batch`: `grade-all` of a batch (half reference, half skeleton) with --jobs 1 (as it
  runs, and one exercise at a time) and 2;
* `numpy`: the reference `rnn_forward` + `rnn_backward` (Exercise 1), the benchmark path
  `tools/fast_rnn.py` and `torch.nn.RNN` forward + backward, float64, one thread;
* `charlm`: the character models' training throughput (characters per second) and the
  training time until the validation loss beats the unigram baseline (Exercise 3's NumPy
  model and Exercise 4's two-layer PyTorch model, the demos' settings).

`--quick` makes each part small (one run, Exercise 1 only for grading, a batch of 4, few
repeats, short training), for trying the tool; its figures are not the budget's. Every
row records the load average at its start: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.sandbox import cgroups

REPO = Path(__file__).resolve().parent.parent
PARTS = ("check", "grade", "core1", "halfcore", "batch", "numpy", "charlm")

# The budget (issue 14, tightened by issue 23): Gradescope gives half a vCPU, 768 MB and
# 10 minutes.
BUDGET = {
    "check_s": 8.0,  # make check, the whole public suite, reference
    "grade_wall_s": 12.0,  # one full submission, this 2-core machine
    "grade_cpu_s": 20.0,
    "grade_tree_mb": 768.0,
    "grade_halfcore_s": 300.0,  # one core at half speed
    "sandbox_ratio": 1.5,  # sandboxed / in-process, same tests
    "batch_speedup": 1.9,  # JOBS=2 against JOBS=1 graded one exercise at a time
    "numpy_over_torch": 1.5,  # NumPy BPTT throughput / torch.nn.RNN's, large case
}
# Threads of BLAS and torch in the compute parts: student workers run with one thread
# (sandbox/client.py), and half a vCPU gives one.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------
# The process tree, from /proc
# ---------------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds so far) of `pid`, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return None


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def _role(pid: int) -> str:
    """What a process is, from its command line; a worker also names its student file."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = [a for a in fh.read().split(b"\0") if a]
    except OSError:
        return "other"
    text = b" ".join(argv)
    name = os.path.basename(argv[0]) if argv else b""
    if name == b"bwrap":
        return "sandbox (bwrap)"
    if b"worker.py" in text:
        return "worker " + argv[-1].decode("utf-8", "replace")[:40]
    if b"-m pytest" in text or b"pytest" in name:
        return "pytest"
    if b"autograder" in text:
        return "grader"
    return "other"


class TreeSampler:
    """Samples a process tree every `interval` s: the peak of the summed resident size,
    every process seen (with its role and last CPU time)."""

    def __init__(self, root: int, interval: float = 0.05):
        self.root, self.interval = root, interval
        self.peak_mb = 0.0
        self.seen: dict[int, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self):
        parents: dict[int, list[int]] = {}
        cpu: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                got = _stat(int(entry))
                if got is not None:
                    parents.setdefault(got[0], []).append(int(entry))
                    cpu[int(entry)] = got[1]
        total, todo = 0.0, [self.root]
        while todo:
            pid = todo.pop()
            total += _rss_mb(pid)
            todo.extend(parents.get(pid, []))
            info = self.seen.get(pid)
            if info is None or info["role"] == "other":
                info = self.seen[pid] = {"role": _role(pid), "cpu": 0.0}
            info["cpu"] = max(info["cpu"], cpu.get(pid, 0.0))
        self.peak_mb = max(self.peak_mb, total)

    def count(self, role: str) -> int:
        return sum(1 for info in self.seen.values() if info["role"].split()[0] == role)

    def workers(self) -> dict[str, int]:
        """Worker processes started, per student file."""
        out: dict[str, int] = {}
        for info in self.seen.values():
            if info["role"].startswith("worker "):
                module = info["role"].split(" ", 1)[1]
                out[module] = out.get(module, 0) + 1
        return dict(sorted(out.items()))

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for info in self.seen.values():
            out[info["role"]] = out.get(info["role"], 0.0) + info["cpu"]
        return {k: round(v, 2) for k, v in sorted(out.items())}


def _joiner(group: cgroups.Group):
    """preexec_fn: the child, and all it starts, joins the cgroup; where it may not,
    measure() notices (the cgroup then counts less than the processes it saw)."""

    def join():
        try:
            group.enter()
        except OSError:
            pass
    return join


def measure(cmd: list[str], env: dict | None = None, quota: float | None = None,
            cores: str | None = None, timeout: float = 1800) -> dict:
    """Run `cmd` in REPO: wall seconds, CPU seconds of its whole tree (exact from a cgroup
    where there is one, else the sum of the sampled processes' last CPU times, which
    misses each one's last moments), peak tree memory, worker processes started."""
    # A cgroup counts the CPU time of everything in it exactly and, with `quota` (a
    # fraction of one CPU), limits it.
    group, how = cgroups.Group.create("bench", cpus=quota, account=True)
    if quota is not None and group is None:
        return {"skipped": f"no CPU quota on this machine: {how}"}
    if cores is not None:
        if shutil.which("taskset") is None:
            return {"skipped": "no taskset on this machine"}
        cmd = ["taskset", "-c", cores, *cmd]
    row = {"load_before": load_average()}
    made = group
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                preexec_fn=_joiner(group) if group else None)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()),
                                  daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            row["timed_out"] = True
        wall = time.monotonic() - start
        sampler.stop()
        reader.join(timeout=10)
        sampled = sum(i["cpu"] for i in sampler.seen.values())
        cpu = group.cpu_s() if group else sampled
        if cpu != cpu:  # nan: the group has no CPU count to read
            group, how, cpu = None, "sampled from /proc (the cgroup counts no CPU)", sampled
        if group and cpu < 0.5 * sampled:  # the child could not join the cgroup
            group, how, cpu = None, "sampled from /proc (could not join the cgroup)", sampled
            row["quota_not_applied"] = quota is not None
    finally:
        if made:
            made.remove()
    output = b"".join(chunks).decode("utf-8", "replace")
    row.update(wall_s=round(wall, 2), cpu_s=round(cpu, 2),
               cpu_method=how if group or "join" in how else "sampled from /proc (a lower bound)",
               peak_tree_mb=round(sampler.peak_mb, 1), workers=sampler.count("worker"),
               workers_by_file=sampler.workers(),
               pytest_processes=sampler.count("pytest"), cpu_by_role=sampler.cpu_by_role(),
               returncode=proc.returncode, load_after=load_average())
    if proc.returncode != 0:
        row["tail"] = output[-1500:]
    return row


# ---------------------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------------------


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "IMPL"}
    env.update(extra)
    return env


def part_check(args) -> dict:
    runs = []
    for _ in range(1 if args.quick else args.runs):
        cmd = [sys.executable, "-m", "pytest", "tests/public", "-q", "-p", "no:cacheprovider",
               "-rN", "--tb=no"]
        if args.quick:
            cmd[3] = "tests/public/test_ex01_basic_rnn.py"
        runs.append(measure(cmd, _env(IMPL="solutions")))
    walls = [r["wall_s"] for r in runs]
    return {"what": "make check IMPL=solutions" + (" (ex01 only)" if args.quick else ""),
            "runs": runs, "wall_s": statistics.median(walls), "wall_all_s": walls,
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "peak_tree_mb": max(r["peak_tree_mb"] for r in runs),
            "ok": all(r["returncode"] == 0 for r in runs)}


def _grade_cmd(args, out: Path, exercises) -> list[str]:
    cmd = [sys.executable, "-m", "autograder", "grade", "solutions", "--out", str(out),
           "--quiet"]
    if exercises:
        cmd += ["--exercises", ",".join(exercises)]
    return cmd


def _grade_row(args, tmp: Path, name: str, **kw) -> dict:
    exercises = ("ex01",) if args.quick else None
    out = tmp / name / "results.json"
    row = measure(_grade_cmd(args, out, exercises), _env(), **kw)
    if "skipped" in row:
        return row
    try:
        results = json.loads(out.read_text())
        row["score"] = results["score"]
        row["execution_time"] = results.get("execution_time")
        # A test lost here is a finding (a limit too tight for a loaded or slow machine).
        row["failed"] = [f"{t['name'][:90]}: {(t.get('output') or '').strip()[:200]}"
                         for t in results["tests"] if t["status"] != "passed"
                         and "not graded in this run" not in (t.get("output") or "")]
    except (OSError, ValueError, KeyError):
        row["score"] = None
    row["what"] = "grade solutions" + (" (ex01 only)" if exercises else " (all exercises)")
    return row


def part_grade(args, tmp: Path) -> dict:
    from autograder.grade import _in_repo, exercise_suites

    row = _grade_row(args, tmp, "grade")
    # The same test files, in-process (IMPL=solutions), one pytest per exercise as grading
    # runs them; right after, so both see the same load.
    suites = exercise_suites()
    if args.quick:
        suites = {k: v for k, v in suites.items() if k == "ex01"}
    inproc = []
    for files in suites.values():
        inproc.append(measure([sys.executable, "-m", "pytest", *map(_in_repo, files), "-q",
                               "-p", "no:cacheprovider", "--tb=no"], _env(IMPL="solutions")))
    row["in_process"] = {
        "wall_s": round(sum(r["wall_s"] for r in inproc), 2),
        "cpu_s": round(sum(r["cpu_s"] for r in inproc), 2),
        "peak_tree_mb": max(r["peak_tree_mb"] for r in inproc),
        "ok": all(r["returncode"] == 0 for r in inproc),
        "load_after": load_average(),
    }
    row["sandbox_ratio"] = round(row["wall_s"] / row["in_process"]["wall_s"], 2)
    row["sandbox_cpu_ratio"] = round(row["cpu_s"] / max(row["in_process"]["cpu_s"], 1e-9), 2)
    return row


def part_core1(args, tmp: Path) -> dict:
    return _grade_row(args, tmp, "core1", cores="0")


def part_halfcore(args, tmp: Path) -> dict:
    return _grade_row(args, tmp, "halfcore", cores="0", quota=0.5)


def part_batch(args, tmp: Path) -> dict:
    n = 4 if args.quick else args.batch
    batch = tmp / "batch"
    for i in range(n):
        shutil.copytree(REPO / ("solutions" if i % 2 == 0 else "assignments"), batch / f"s{i:02d}",
                        ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    rows = {}
    # --jobs 1 twice: as it runs (two exercises at once where grade.exercise_lanes allows)
    # and one exercise at a time, the one-CPU grade that two jobs each get.
    for name, jobs, lanes in (("jobs1", 1, ""), ("jobs1_one_lane", 1, "1"), ("jobs2", 2, "")):
        cmd = [sys.executable, "-m", "autograder", "grade-all", str(batch), "--out",
               str(tmp / f"batch-out-{name}"), "--jobs", str(jobs), "--fresh",
               "--allow-same-user"]
        if args.quick:
            cmd += ["--exercises", "ex01"]
        rows[name] = measure(cmd, _env(AUTOGRADER_LANES=lanes))
        rows[name]["per_submission_s"] = round(rows[name]["wall_s"] / n, 2)
    return {"what": f"grade-all, {n} submissions (half reference, half skeleton)"
                    + (", ex01 only" if args.quick else ""),
            "submissions": n, **rows,
            "speedup": round(rows["jobs1_one_lane"]["wall_s"] / rows["jobs2"]["wall_s"], 2),
            "over_jobs1": round(rows["jobs1"]["wall_s"] / rows["jobs2"]["wall_s"], 2),
            "class_of_200_min": round(200 * min(rows["jobs1"]["per_submission_s"],
                                                rows["jobs2"]["per_submission_s"]) / 60, 1)}


def _internal(name: str, args) -> dict:
    """Run a compute part in a fresh interpreter with one BLAS/torch thread."""
    cmd = [sys.executable, "-m", "tools.bench", "--internal", name]
    if args.quick:
        cmd.append("--quick")
    load = load_average()
    proc = subprocess.run(cmd, cwd=REPO, env=_env(**ONE_THREAD), capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:], "load_before": load}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["load_before"], row["load_after"] = load, load_average()
    return row


def part_numpy(args, tmp: Path) -> dict:
    return _internal("numpy", args)


def part_charlm(args, tmp: Path) -> dict:
    return _internal("charlm", args)


# ---------------------------------------------------------------------------------------
# Compute parts (run by _internal in their own interpreter)
# ---------------------------------------------------------------------------------------


def numpy_vs_torch(quick: bool) -> dict:
    import numpy as np
    import torch

    from solutions import ex_01_basic_rnn as ref
    from tools import fast_rnn

    torch.set_num_threads(1)
    repeats = 5 if quick else 30
    rows = []
    for N, T, D, H in ((4, 8, 16, 16), (32, 64, 128, 128)):
        rng = np.random.default_rng(0)
        x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)) * 0.1
        Wx = rng.standard_normal((D, H)) / np.sqrt(D)
        Wh = rng.standard_normal((H, H)) / np.sqrt(H)
        b, dh = rng.standard_normal(H) * 0.1, rng.standard_normal((N, T, H))
        rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
            rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
            rnn.bias_ih_l0.copy_(torch.from_numpy(b))
            rnn.bias_hh_l0.zero_()
        xt, h0t, dht = (torch.from_numpy(a) for a in (x, h0[None], dh))

        def reference(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, dh=dh):
            h, cache = ref.rnn_forward(x, h0, Wx, Wh, b)
            return h, ref.rnn_backward(dh, cache)

        def fast(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, dh=dh):
            h, cache = fast_rnn.rnn_forward(x, h0, Wx, Wh, b)
            return h, fast_rnn.rnn_backward(dh, cache)

        def with_torch(rnn=rnn, xt=xt, h0t=h0t, dht=dht):
            rnn.zero_grad()
            xg, hg = xt.clone().requires_grad_(), h0t.clone().requires_grad_()
            out, _ = rnn(xg, hg)
            out.backward(dht)
            return out, xg.grad

        h_ref, grads_ref = reference()
        h_fast, grads_fast = fast()
        out_t, dx_t = with_torch()
        agree = max(float(np.max(np.abs(a - c))) for a, c in zip(
            (h_ref, *grads_ref), (h_fast, *grads_fast), strict=True))
        torch_diff = max(float(np.max(np.abs(h_ref - out_t.detach().numpy()))),
                         float(np.max(np.abs(grads_ref[0] - dx_t.numpy()))),
                         float(np.max(np.abs(grads_ref[2] - rnn.weight_ih_l0.grad.numpy().T))))
        times: dict[str, list[float]] = {"reference": [], "fast": [], "torch": []}
        funcs = {"reference": reference, "fast": fast, "torch": with_torch}
        for _ in range(repeats):  # interleaved, so that load hits all three alike
            for name, func in funcs.items():
                started = time.process_time()
                func()
                times[name].append(time.process_time() - started)
        ms = {k: 1000 * statistics.median(v) for k, v in times.items()}
        rows.append({"N": N, "T": T, "D": D, "H": H,
                     "reference_ms": round(ms["reference"], 3), "fast_ms": round(ms["fast"], 3),
                     "torch_ms": round(ms["torch"], 3),
                     "reference_over_torch": round(ms["torch"] / ms["reference"], 2),
                     "fast_over_torch": round(ms["torch"] / ms["fast"], 2),
                     "fast_equals_reference_max_abs": agree,
                     "torch_max_abs_diff": torch_diff})
    return {"what": "rnn_forward + rnn_backward, float64, CPU, one thread; median CPU time "
                    "of a pass (process_time: less sensitive to a shared machine than wall "
                    "time); ratios: throughput of NumPy / torch.nn.RNN (above 1: NumPy faster)",
            "repeats": repeats, "threads": torch.get_num_threads(), "rows": rows}


def _beat(evals, baseline):
    return next((t for t, loss in evals if loss < baseline), None)


def charlm_numpy(quick: bool) -> dict:
    """Exercise 3's reference, the demo's settings (H 128, 50 characters, 32 streams,
    Adam 3e-3, clip 5), step by step as train_char_lm, timing only the training steps;
    the validation loss is measured every 25 steps (untimed), until it beats the unigram
    baseline or the time limit."""
    import numpy as np

    from solutions import ex_01_basic_rnn as ex1
    from solutions import ex_03_char_language_model as ex3

    text = ex3.load_text()
    c2i, _ = ex3.build_vocab(text)
    split = int(0.9 * len(text))
    train, val = ex3.encode(text[:split], c2i), ex3.encode(text[split:], c2i)
    V, H, S, B = len(c2i), 128, 50, 32
    base = ex3.unigram_loss(train, val[1:], V)
    inputs, targets = ex3.make_batches(train, S, B)
    chunks = len(inputs) // B
    params = ex1.init_params(V, H, V, np.random.default_rng(0))
    state, steps, trained, evals = None, 0, 0.0, []
    limit = 10.0 if quick else 120.0
    h = np.zeros((B, H))
    while trained < limit:
        k = steps % chunks
        if k == 0:
            h = np.zeros((B, H))
        started = time.perf_counter()
        rows = slice(k * B, (k + 1) * B)
        _, grads, h = ex3.char_rnn_loss(params, inputs[rows], targets[rows], h)
        grads, _ = ex1.clip_grad_norm(grads, 5.0)
        params, state = ex1.adam_step(params, grads, state, 3e-3)
        trained += time.perf_counter() - started
        steps += 1
        if steps % 25 == 0:
            evals.append((trained, ex3.sequence_loss(params, val[:5000])))
            if evals[-1][1] < base:
                break
    beat = _beat(evals, base)
    return {"model": "ex03 NumPy char RNN (H 128, seq 50, batch 32)",
            "chars_per_s": round(steps * S * B / trained), "steps": steps,
            "trained_s": round(trained, 2), "unigram": round(base, 3),
            "val_loss_last": round(evals[-1][1], 3) if evals else None,
            "beats_unigram_after_s": None if beat is None else round(beat, 2)}


def charlm_torch(quick: bool) -> dict:
    """Exercise 4's reference CharRNN, train_char_model's defaults, epoch by epoch,
    timing only training epochs; validation after each epoch (untimed), until it beats the
    unigram baseline or the time limit."""
    import numpy as np
    import torch
    from torch import nn

    from solutions import ex_04_rnn_pytorch as ex4

    torch.set_num_threads(1)
    text = ex4.CORPUS.read_text(encoding="utf-8")
    chars, index = ex4.char_vocab(text)
    ids = np.array([index[c] for c in text], dtype=np.int64)
    split = int(round(len(ids) * 0.9))
    train_ids, val_ids = ids[:split], ids[split:]
    seq = 64
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ex4.CharRNN(len(chars), 32, 192, 2)
    model = model.to(dtype=torch.float32)
    loader = ex4.make_loader(*ex4._windows(train_ids, seq, seq), 32, shuffle=True, seed=0)
    val_loader = ex4.make_loader(*ex4._windows(val_ids, seq, seq), 256, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    base = ex4.baseline_losses(train_ids, val_ids, len(chars))["unigram"]
    per_epoch = len(loader.dataset) * seq
    trained, epochs, evals = 0.0, 0, []
    limit = 10.0 if quick else 120.0
    while trained < limit:
        started = time.perf_counter()
        ex4.train_epoch(model, loader, optimizer, loss_fn, 1.0)
        trained += time.perf_counter() - started
        epochs += 1
        evals.append((trained, ex4.evaluate(model, val_loader, loss_fn)))
        if evals[-1][1] < base:
            break
    beat = _beat(evals, base)
    return {"model": "ex04 CharRNN (2 layers, H 192, seq 64, batch 32, float32)",
            "chars_per_s": round(epochs * per_epoch / trained), "epochs": epochs,
            "trained_s": round(trained, 2), "unigram": round(base, 3),
            "val_loss_last": round(evals[-1][1], 3),
            "beats_unigram_after_s": None if beat is None else round(beat, 2),
            "threads": torch.get_num_threads()}


def internal(name: str, quick: bool) -> dict:
    if name == "numpy":
        return numpy_vs_torch(quick)
    return {"what": "training throughput and time to beat the unigram baseline (validation "
                    "loss); training time only, one thread",
            "ex03": charlm_numpy(quick), "ex04": charlm_torch(quick)}


# ---------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------


def _fmt(v, unit="") -> str:
    if v is None:
        return "-"
    return f"{v:g}{unit}" if isinstance(v, (int, float)) else str(v)


def table(report: dict) -> list[str]:
    """(what, figure, budget, verdict, load) lines."""
    rows: list[tuple[str, str, str, str, str]] = []
    b, parts = BUDGET, report["parts"]

    def verdict(value, limit, above=False):
        if value is None or report["quick"]:
            return "-"
        return "met" if (value >= limit if above else value <= limit) else "NOT MET"

    def skipped(name, row):
        rows.append((name, "skipped: " + row["skipped"], "", "", ""))

    if "check" in parts:
        r = parts["check"]
        rows.append((r["what"] + f", median of {len(r['runs'])}",
                     f"{r['wall_s']:g} s wall ({', '.join(map(str, r['wall_all_s']))}); "
                     f"{r['cpu_s']:g} s CPU; {r['peak_tree_mb']:g} MB",
                     f"<= {b['check_s']:g} s", verdict(r["wall_s"], b["check_s"]),
                     r["runs"][0]["load_before"]))
    if "grade" in parts:
        r = parts["grade"]
        rows.append((r["what"] + f", score {_fmt(r.get('score'))}",
                     f"{r['wall_s']:g} s wall", f"<= {b['grade_wall_s']:g} s",
                     verdict(r["wall_s"], b["grade_wall_s"]), r["load_before"]))
        rows.append(("  CPU, whole tree (" + r["cpu_method"] + ")", f"{r['cpu_s']:g} s",
                     f"<= {b['grade_cpu_s']:g} s", verdict(r["cpu_s"], b["grade_cpu_s"]), ""))
        rows.append(("  peak memory, whole tree", f"{r['peak_tree_mb']:g} MB",
                     f"<= {b['grade_tree_mb']:g} MB",
                     verdict(r["peak_tree_mb"], b["grade_tree_mb"]), ""))
        rows.append(("  processes started", f"{r['workers']} workers ("
                     + ", ".join(f"{k[:5]} {v}" for k, v in r["workers_by_file"].items())
                     + f"), {r['pytest_processes']} pytest", "", "", ""))
        for role, seconds in r["cpu_by_role"].items():
            rows.append((f"  CPU s, {role} (sampled)", f"{seconds:g} s", "", "", ""))
        ip = r["in_process"]
        rows.append(("  same tests in-process, one pytest per exercise",
                     f"{ip['wall_s']:g} s wall, {ip['cpu_s']:g} s CPU", "", "",
                     ip["load_after"]))
        rows.append(("  sandboxed / in-process", f"{r['sandbox_ratio']:g}x wall, "
                     f"{r['sandbox_cpu_ratio']:g}x CPU", f"<= {b['sandbox_ratio']:g}x",
                     verdict(r["sandbox_ratio"], b["sandbox_ratio"]), ""))
    for name in ("grade", "core1", "halfcore"):
        for failed in parts.get(name, {}).get("failed", []):
            rows.append((f"  failed in {name}", failed[:150], "", "", ""))
    for name, label in (("core1", "one core (taskset)"),
                        ("halfcore", "one core at half speed (taskset + CPU quota 50%)")):
        if name not in parts:
            continue
        r = parts[name]
        if "skipped" in r:
            skipped("grade, " + label, r)
            continue
        limit = b["grade_halfcore_s"] if name == "halfcore" else None
        if r.get("quota_not_applied"):
            label += " (the quota could NOT be applied)"
        rows.append((f"grade, {label}, score {_fmt(r.get('score'))}",
                     f"{r['wall_s']:g} s wall, {r['cpu_s']:g} s CPU, {r['peak_tree_mb']:g} MB",
                     f"< {limit:g} s" if limit else "",
                     verdict(r["wall_s"], limit) if limit else "", r["load_before"]))
    if "batch" in parts:
        r = parts["batch"]
        for name, how in (("jobs1", "--jobs 1"), ("jobs1_one_lane", "--jobs 1, one lane"),
                          ("jobs2", "--jobs 2")):
            j = r[name]
            rows.append((f"{r['what']}, {how}",
                         f"{j['wall_s']:g} s ({j['per_submission_s']:g} s each), "
                         f"{j['peak_tree_mb']:g} MB", "", "", j["load_before"]))
        rows.append(("  throughput, jobs 2 / jobs 1 one lane", f"{r['speedup']:g}x",
                     f">= {b['batch_speedup']:g}x",
                     verdict(r["speedup"], b["batch_speedup"], above=True), ""))
        rows.append(("  throughput, jobs 2 / jobs 1 (two lanes)", f"{r['over_jobs1']:g}x",
                     "", "", ""))
        rows.append(("  a class of 200 at the better of the two",
                     f"{r['class_of_200_min']:g} min", "", "", ""))
    if "numpy" in parts:
        r = parts["numpy"]
        if "error" in r:
            rows.append(("numpy vs torch", "error: " + r["error"][-200:], "", "", ""))
        else:
            for c in r["rows"]:
                large = c["N"] == 32
                rows.append((f"BPTT fwd+bwd N={c['N']} T={c['T']} D=H={c['D']} (1 thread)",
                             f"reference {c['reference_ms']:g} ms, fast_rnn {c['fast_ms']:g} "
                             f"ms, torch.nn.RNN {c['torch_ms']:g} ms", "", "",
                             r["load_before"]))
                rows.append(("  NumPy / torch throughput",
                             f"reference {c['reference_over_torch']:g}x, fast_rnn "
                             f"{c['fast_over_torch']:g}x",
                             f">= {b['numpy_over_torch']:g}x" if large else "",
                             ("reference " + verdict(c["reference_over_torch"],
                                                     b["numpy_over_torch"], True)
                              + ", fast_rnn " + verdict(c["fast_over_torch"],
                                                        b["numpy_over_torch"], True))
                             if large else "", ""))
    if "charlm" in parts:
        r = parts["charlm"]
        if "error" in r:
            rows.append(("char models", "error: " + r["error"][-200:], "", "", ""))
        else:
            for key in ("ex03", "ex04"):
                c = r[key]
                beat = c["beats_unigram_after_s"]
                rows.append((c["model"], f"{c['chars_per_s']:g} chars/s; beats unigram "
                             f"({c['unigram']:g} nats) after "
                             + (f"{beat:g} s" if beat is not None
                                else f"not within {c['trained_s']:g} s"),
                             "", "", r["load_before"]))
    widths = [max(len(row[i]) for row in rows) if rows else 0 for i in range(5)]
    widths[0] = min(widths[0], 64)
    head = ("what", "measured", "budget", "verdict", "load (1/5/15 min)")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help=f"comma-separated parts: {','.join(PARTS)}")
    parser.add_argument("--quick", action="store_true",
                        help="small and fast (trying the tool); not the budget's figures")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "bench.json")
    parser.add_argument("--runs", type=int, default=3, help="runs of make check (median)")
    parser.add_argument("--batch", type=int, default=20, help="submissions in the batch")
    parser.add_argument("--internal", choices=("numpy", "charlm"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        print(json.dumps(internal(args.internal, args.quick)))
        return 0
    parts = PARTS if not args.only else tuple(p.strip() for p in args.only.split(",") if p)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {','.join(PARTS)}")
    report = {"quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "load_at_start": load_average(), "budget": BUDGET, "parts": {}}
    funcs = {"check": lambda tmp: part_check(args), "grade": lambda tmp: part_grade(args, tmp),
             "core1": lambda tmp: part_core1(args, tmp),
             "halfcore": lambda tmp: part_halfcore(args, tmp),
             "batch": lambda tmp: part_batch(args, tmp),
             "numpy": lambda tmp: part_numpy(args, tmp),
             "charlm": lambda tmp: part_charlm(args, tmp)}
    with tempfile.TemporaryDirectory(prefix="rnn-bench-") as tmp:
        for name in parts:
            print(f"[bench] {name} (load {load_average()}) ...", file=sys.stderr, flush=True)
            report["parts"][name] = funcs[name](Path(tmp))
            _write(args.out, report)  # what is done so far survives an interrupted run
    report["load_at_end"] = load_average()
    lines = table(report)
    print(f"make bench{' --quick' if args.quick else ''}: {os.cpu_count()} CPUs, load "
          f"average {report['load_at_start']} at start, {report['load_at_end']} at end")
    print("\n".join(lines))
    report["table"] = lines
    _write(args.out, report)
    print(f"written: {args.out}")
    return 0


def _write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
