"""Exercise 3 end to end: graded in the sandbox, a correct solution written differently
(tests/fixtures/alt_ex03: its own RNN, Adagrad, an inverse-CDF sampler) scores full marks,
the skeleton scores zero, a missing Exercise 1 is named as the cause, and the demo runs
within its time limit and beats the unigram baseline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.batch import grade_class

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)

REPO = Path(__file__).resolve().parents[2]
EX1, EX3 = "ex_01_basic_rnn.py", "ex_03_char_language_model.py"


def _ex03(res):
    return [t for t in res["tests"] if t["name"].startswith("ex03 ")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("ex03") / "subs"
    for name, files in {
        "reference": [REPO / "solutions" / EX1, REPO / "solutions" / EX3],
        "alternative": [REPO / "tests" / "fixtures" / "alt_ex03" / EX3],
        "skeleton": [REPO / "solutions" / EX1, REPO / "assignments" / EX3],
        "no_exercise1": [REPO / "solutions" / EX3],
    }.items():
        (subs / name).mkdir(parents=True)
        for f in files:
            shutil.copy(f, subs / name / f.name)
    # Exercise 3 alone (its tests still use the submission's Exercise 1): what is checked.
    rows = grade_class(subs, subs.parent / "out", jobs=2, progress=False, exercises=("ex03",))
    return {sub.id: res for sub, res, _ in rows}


def test_the_reference_scores_25(graded):
    tests = _ex03(graded["reference"])
    assert [t["name"] for t in tests if t["status"] != "passed"] == []
    assert sum(t["score"] for t in tests) == 25


def test_a_correct_solution_written_differently_scores_25(graded):
    tests = _ex03(graded["alternative"])
    failed = [(t["name"], t["output"][:300]) for t in tests if t["status"] != "passed"]
    assert not failed
    assert sum(t["score"] for t in tests) == 25


def test_the_skeleton_scores_zero_and_names_what_to_write(graded):
    tests = _ex03(graded["skeleton"])
    assert sum(t["score"] for t in tests) == 0
    assert all("not implemented yet" in t["output"] for t in tests), \
        [t["output"][:200] for t in tests if "not implemented yet" not in t["output"]]


def test_a_missing_exercise1_is_named_and_costs_only_the_model_tests(graded):
    tests = _ex03(graded["no_exercise1"])
    failed = [t for t in tests if t["status"] != "passed"]
    assert failed and len(failed) < len(tests)
    for t in failed:
        assert "Exercise 1" in t["output"] and "char-uses-exercise1" in t["tags"], t["output"]
    assert any(t["status"] == "passed" and "sample" in t["name"] for t in tests)


def test_the_demo_trains_within_its_limit_and_beats_the_baseline(tmp_path):
    text = (REPO / "data" / "sonnets.txt").read_text(encoding="utf-8")[:20000]
    (tmp_path / "small.txt").write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(REPO / "solutions" / EX3), "--text", str(tmp_path / "small.txt"),
         "--seconds", "4", "--hidden", "48", "--out", str(tmp_path / "figs")],
        cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    base = float(re.search(r"unigram baseline\s+([\d.]+)", out).group(1))
    val = float(re.search(r"RNN, validation text\s+([\d.]+)", out).group(1))
    assert val < base, out[-1500:]
    for temp in ("0.5", "1.0", "1.5"):
        assert f"--- temperature {temp}:" in out
    assert (tmp_path / "figs" / "char_lm_loss.png").stat().st_size > 2000
    assert (tmp_path / "figs" / "temperature.png").stat().st_size > 2000


def test_the_skeleton_demo_names_the_first_function_to_write(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "assignments" / EX3), "--out",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "not implemented yet: build_vocab" in proc.stdout
