"""`make bench`: how long checking and grading take, and how much memory grading needs.

Targets (Gradescope's default container: 768 MB, half a vCPU, 10 minutes):
grading one submission well under a minute here and under 700 MB for the whole process
tree (grader, pytest and student processes together).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_GRADE_S = 60.0
TARGET_TREE_MB = 700.0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_mb(root: int) -> float:
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo.extend(tree.get(pid, []))
    return total / 1024


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Wall seconds and the peak summed RSS of the command's whole process tree."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    sampler.join()
    return {"seconds": round(time.monotonic() - start, 2), "peak_tree_mb": round(peak[0], 1),
            "returncode": proc.returncode, "tail": output[-400:]}


def main() -> int:
    py = sys.executable
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for impl in ("solutions", "assignments"):
            env = dict(os.environ, IMPL=impl)
            rows[f"make check (IMPL={impl})"] = measure(
                [py, "-m", "pytest", "tests/public", "-q", "--tb=no"], env)
        for impl in ("solutions", "assignments"):
            rows[f"grade one submission ({impl})"] = measure(
                [py, "-m", "autograder", "grade", impl, "--out", str(tmp / impl / "r.json"),
                 "--quiet"])
        batch = tmp / "batch"
        for i in range(4):
            shutil.copytree(REPO / ("solutions" if i % 2 else "assignments"), batch / f"s{i}")
        rows["grade-all, 4 submissions, --jobs 2"] = measure(
            [py, "-m", "autograder", "grade-all", str(batch), "--out", str(tmp / "out"),
             "--jobs", "2"])
    print(f"{'what':<44} {'seconds':>8} {'peak MB (process tree)':>24}")
    for name, row in rows.items():
        print(f"{name:<44} {row['seconds']:>8.2f} {row['peak_tree_mb']:>24.1f}")
    one = rows["grade one submission (solutions)"]
    ok = one["seconds"] < TARGET_GRADE_S and one["peak_tree_mb"] < TARGET_TREE_MB
    print(f"target: one grade < {TARGET_GRADE_S:g} s and < {TARGET_TREE_MB:g} MB: "
          + ("met" if ok else "NOT MET"))
    out = REPO / "results" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
