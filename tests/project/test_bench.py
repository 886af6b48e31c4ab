"""`make bench` runs and writes its table as JSON (its cheapest part, quickly; the figures
themselves are for a quiet machine and are not checked here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_quick_numpy_part_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "tools.bench", "--quick", "--only",
                           "numpy", "--out", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["quick"] is True and list(report["parts"]) == ["numpy"]
    assert report["load_at_start"] and report["load_at_end"]
    rows = report["parts"]["numpy"]["rows"]
    assert [(r["N"], r["T"], r["D"], r["H"]) for r in rows] == [(4, 8, 16, 16),
                                                                (32, 64, 128, 128)]
    for row in rows:
        assert row["reference_ms"] > 0 and row["fast_ms"] > 0 and row["torch_ms"] > 0
        assert row["fast_equals_reference_max_abs"] < 1e-9
        assert row["torch_max_abs_diff"] < 1e-9
    assert "load average" in proc.stdout and "BPTT" in proc.stdout
    assert report["table"] and "NumPy / torch" in "\n".join(report["table"])


def test_bench_refuses_unknown_part():
    proc = subprocess.run([sys.executable, "-m", "tools.bench", "--only", "nothing"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown parts" in proc.stderr
