"""The numbers the guide quotes from the Exercise 3 and 4 demos are those of recorded runs.

`guides/figures/demo_ex03.txt` and `demo_ex04.txt` are those runs' outputs, written by a
maintainer with `OMP_NUM_THREADS=1 .venv/bin/python solutions/ex_03_char_language_model.py
--out /tmp/f > guides/figures/demo_ex03.txt` (about 70 s), and the same for
`ex_04_rnn_pytorch.py` into `demo_ex04.txt` (about 150 s). The demos train for a fixed
time, so rerunning them on another machine gives other numbers: these tests compare the
guide with the records, in milliseconds, and a maintainer who reruns a demo updates both.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUIDE = (REPO / "guides" / "rnn_guide.md").read_text(encoding="utf-8")
RECORD = (REPO / "guides" / "figures" / "demo_ex03.txt").read_text(encoding="utf-8")
RECORD4 = (REPO / "guides" / "figures" / "demo_ex04.txt").read_text(encoding="utf-8")


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


def _guide_table_rows(first_cell: str) -> list[list[str]]:
    """The cells of every guide table row whose first cell starts with `first_cell`."""
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in GUIDE.splitlines() if line.startswith(f"| {first_cell}")]


def test_the_numpy_torch_table_is_the_recorded_run():
    recorded = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d\d)\s+(\d+\.\d\d)"
                          r"\s+(\d+\.\d\d)x\s+\S+\s+(\S+)\s*$", RECORD4, re.M)
    assert len(recorded) == 3, "the record has no three-row comparison table"
    guide = [row for row in _guide_table_rows("") if len(row) == 7 and row[0].isdigit()]
    assert len(guide) == 3, guide
    for (n, t, d, h, np_ms, torch_ms, ratio, grad), row in zip(recorded, guide, strict=True):
        assert row[:3] == [n, t, d] and d == h
        assert [float(c) for c in row[3:6]] == [float(np_ms), float(torch_ms), float(ratio)], (
            f"guide {row}, recorded {np_ms} {torch_ms} {ratio}")
        assert abs(float(row[6]) - float(grad)) <= 0.05e-17, f"guide {row[6]}, recorded {grad}"


def test_the_character_model_numbers_are_the_recorded_run():
    assert "1 CPU thread\n" in RECORD4 and "one CPU thread" in GUIDE
    epochs, last, best, at = re.search(
        r"validation after (\d+) epochs in \d+ s: last (\d\.\d+) nats/char, best (\d\.\d+) "
        r"at epoch (\d+)", RECORD4).groups()
    quoted = re.search(r'"(validation after .*?at epoch \d+)"', GUIDE.replace("\n", " "))
    assert quoted and quoted.group(1) in RECORD4, "the guide quotes a line the demo did not print"
    if at == epochs:  # the guide says the best epoch was the last one
        assert f"the last\nof {epochs} epochs" in GUIDE
    table = {label: (float(m.group(1)), float(m.group(2))) for label, m in (
        (label, re.search(rf"{label}\S*\s+(\d+\.\d+)\s+(\d+\.\d+)", RECORD4))
        for label in ("unigram baseline", "bigram baseline", "validation"))}
    assert table["validation"][0] == float(best)
    for label, cells in (("unigram baseline", _guide_table_rows("unigram")),
                         ("bigram baseline", _guide_table_rows("bigram")),
                         ("validation", _guide_table_rows("two-layer RNN"))):
        loss, ppl = (float(c) for c in cells[-1][1:3])
        want_loss, want_ppl = table[label]
        assert abs(loss - want_loss) <= 0.006, f"{label}: guide {loss}, recorded {want_loss}"
        assert abs(ppl - want_ppl) <= 0.006 * want_ppl, f"{label}: guide {ppl}, recorded {want_ppl}"
    sample = re.search(r'At temperature 0\.5 it writes "(.*?)"', GUIDE, re.S).group(1)
    at_half = RECORD4.split("sample at temperature 0.5:")[1].split("sample at temperature")[0]
    assert " ".join(sample.split()) in " ".join(at_half.split()), "not the run's sample"
