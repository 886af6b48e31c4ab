"""The numbers the guide quotes from the Exercise 3 demo are those of one recorded run.

`guides/figures/demo_ex03.txt` is that run's output, written by a maintainer with
`OMP_NUM_THREADS=1 .venv/bin/python solutions/ex_03_char_language_model.py --out /tmp/f >
guides/figures/demo_ex03.txt` (about 70 s). The demo trains for a fixed time, so rerunning
it on another machine gives other numbers: this test compares the guide with the record,
in milliseconds, and a maintainer who reruns the demo updates both.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUIDE = (REPO / "guides" / "rnn_guide.md").read_text(encoding="utf-8")
RECORD = (REPO / "guides" / "figures" / "demo_ex03.txt").read_text(encoding="utf-8")


def _recorded_rows() -> dict[float, tuple[float, float]]:
    """temperature -> (entropy, distinct 3-grams), from the demo's table."""
    rows = re.findall(r"^\s+(\d+\.\d\d)\s+(\d+\.\d{3})\s+(\d+\.\d{3})\s*$", RECORD, re.M)
    return {float(t): (float(e), float(d)) for t, e, d in rows}


def _guide_row(label: str) -> list[float]:
    line = next(line for line in GUIDE.splitlines() if line.startswith(f"| {label}"))
    return [float(c) for c in line.strip("|").split("|")[1:]]


def test_the_entropy_table_is_the_recorded_run():
    recorded = _recorded_rows()
    temps = _guide_row("temperature")
    entropy = _guide_row("mean entropy (nats)")
    distinct = _guide_row("distinct 3-grams in 2000 sampled characters")
    assert len(temps) == len(entropy) == len(distinct) >= 3
    for t, e, d in zip(temps, entropy, distinct, strict=True):
        assert t in recorded, f"the record has no row for T={t}"
        want_e, want_d = recorded[t]
        assert abs(e - want_e) <= 0.006, f"T={t}: guide entropy {e}, recorded {want_e}"
        assert abs(d - want_d) <= 0.006, f"T={t}: guide distinct {d}, recorded {want_d}"


def test_the_quoted_steps_and_validation_loss_are_the_recorded_run():
    steps = re.search(r"^(\d+) steps in", RECORD, re.M).group(1)
    val = float(re.search(r"RNN, validation text\s+(\d+\.\d+)", RECORD).group(1))
    base = float(re.search(r"unigram baseline\s+(\d+\.\d+)", RECORD).group(1))
    assert f"({steps} steps" in GUIDE
    assert f"scores {val:.2f} on text it never saw" in GUIDE
    assert f"it scores {base:.2f} nats per character" in GUIDE
    real = float(re.search(r"the real text has (\d\.\d+)", RECORD).group(1))
    quoted = float(re.search(r"The real text has about (\d\.\d+)", GUIDE).group(1))
    assert abs(quoted - real) <= 0.006, f"guide {quoted}, recorded {real}"
