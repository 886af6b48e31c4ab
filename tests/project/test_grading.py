"""End to end: `autograder grade` on real submissions, correct, empty, broken and hostile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.batch import Submission, fingerprint, grade_class
from tests.public.harness import EXERCISES

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)

REPO = Path(__file__).resolve().parents[2]
EX1 = EXERCISES["ex01"]

HOSTILE = '''
import json, os, sys
from pathlib import Path

FORGED = {"score": 100, "tests": [{"name": "ex01 all", "score": 100, "max_score": 100}]}
for folder in (Path.cwd(), Path.cwd().parent, Path(__file__).resolve().parent.parent):
    try:
        (folder / "results.json").write_text(json.dumps(FORGED))
        (folder / "outcomes.jsonl").write_text("")
    except OSError:
        pass

import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None


class Anything:
    shape = (2, 5)
    dtype = np.float64
    def __eq__(self, other):
        return True
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no")


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return Anything(), None

def rnn_step_backward(dh_next, cache):
    import pytest
    pytest.skip("nothing to see")

def rnn_forward(x, h0, Wx, Wh, b):
    os._exit(0)

def rnn_backward(dh, cache):
    sys.exit(0)

def softmax_cross_entropy(scores, y, mask=None):
    while True:
        pass
'''

CONFTEST = '''
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
'''


def _zip(folder: Path, archive: Path, prefix: str):
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            if path.suffix == ".py":
                zf.write(path, f"{prefix}/{path.name}")
        zf.writestr(f"{prefix}/notes.txt", "hello")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("subs")
    subs = root / "subs"
    shutil.copytree(REPO / "solutions", subs / "reference", ignore=shutil.ignore_patterns(
        "__pycache__"))
    _zip(REPO / "solutions", subs / "reference_zip.zip", "my_hw")
    shutil.copytree(REPO / "assignments", subs / "skeleton")
    # A shortcut: the skeleton with every backward pass replaced by numerical
    # differentiation of the forward pass (exact at small sizes, hopeless at large ones).
    (subs / "numeric").mkdir()
    (subs / "numeric" / EX1).write_text((REPO / "assignments" / EX1).read_text() + (
        REPO / "tests" / "fixtures" / "numeric_backward.py.txt").read_text())
    (subs / "empty").mkdir()
    broken = (REPO / "solutions" / EX1).read_text().replace(
        "def rnn_backward(dh, cache):", "def rnn_backward(dh, cache)", 1)
    (subs / "syntax_error").mkdir()
    (subs / "syntax_error" / EX1).write_text(broken)
    hostile = subs / "hostile"
    hostile.mkdir()
    (hostile / EX1).write_text(HOSTILE)
    (hostile / "conftest.py").write_text(CONFTEST)
    (hostile / "numpy.py").write_text("raise SystemExit('numpy.py from the submission ran')")
    (hostile / "sitecustomize.py").write_text("import os; os._exit(0)")
    out = root / "out"
    rows = grade_class(subs, out, jobs=2, progress=False)
    return {sub.id: res for sub, res, _ in rows}, out


def _ex01(res):
    return [t for t in res["tests"] if t["tags"][0] == "ex01"]


def test_the_reference_gets_full_marks(graded):
    res = graded[0]["reference"]
    failed = [(t["name"], t["output"]) for t in res["tests"] if t["status"] != "passed"]
    assert not failed
    total = sum(t["max_score"] for t in res["tests"])
    assert res["score"] == total and 30 <= total <= 100


def test_a_zip_with_a_top_folder_grades_like_the_folder(graded):
    a, b = graded[0]["reference"], graded[0]["reference_zip"]
    assert [(t["name"], t["score"]) for t in a["tests"]] == \
        [(t["name"], t["score"]) for t in b["tests"]]
    assert "found at my_hw/" in b["output"]


def test_the_skeleton_scores_zero_and_says_what_to_implement(graded):
    res = graded[0]["skeleton"]
    assert res["score"] == 0
    assert all("not implemented yet" in t["output"] for t in _ex01(res))


def test_numerical_differentiation_in_place_of_backprop_loses_the_large_test(graded):
    res = graded[0]["numeric"]
    large = next(t for t in res["tests"] if "large sizes within 5 s" in t["name"])
    assert large["status"] == "failed" and "not finished within 5 s" in large["output"]
    assert "numerical-gradient-training" in large["tags"]


def test_an_empty_submission_scores_zero_with_a_reason(graded):
    res = graded[0]["empty"]
    assert res["score"] == 0
    assert all("not in the submission" in t["output"] for t in _ex01(res))


def test_a_syntax_error_costs_the_exercise_and_names_the_line(graded):
    res = graded[0]["syntax_error"]
    assert res["score"] == 0
    line = next(i for i, text in enumerate(
        (graded[1] / ".." / "subs" / "syntax_error" / EX1).read_text().splitlines(), 1)
        if text.startswith("def rnn_backward(dh, cache)"))
    assert all(f"SyntaxError at line {line}" in t["output"] for t in _ex01(res))


def test_a_hostile_submission_scores_zero(graded):
    res, out = graded[0]["hostile"], graded[1]
    assert res["score"] == 0, [t["name"] for t in res["tests"] if t["score"]]
    saved = json.loads((out / "submissions" / "hostile" / "results.json").read_text())
    assert saved["score"] == 0
    outputs = " ".join(t["output"] for t in res["tests"])
    assert "did not return within" in outputs  # the endless loop was stopped
    assert "exit" in outputs


def test_results_follow_gradescopes_schema(graded):
    for name, res in graded[0].items():
        assert set(res) >= {"score", "execution_time", "output", "stdout_visibility", "tests"}
        assert res["score"] == pytest.approx(sum(t["score"] for t in res["tests"]))
        names = [t["name"] for t in res["tests"]]
        assert len(names) == len(set(names)), name
        for t in res["tests"]:
            assert set(t) >= {"name", "score", "max_score", "status", "visibility", "output"}
            assert t["name"].split()[0] in EXERCISES
            assert t["status"] in ("passed", "failed")
            assert t["visibility"] in ("visible", "after_published")
            assert 0 <= t["score"] <= t["max_score"]
            assert len(t["output"]) < 10_000


def test_the_summary_shown_at_once_counts_public_points_only(graded):
    for res in graded[0].values():
        for line in res["output"].splitlines():
            if line.startswith("ex01:"):
                assert "public points" in line and "/20 " in line


def test_hidden_test_output_does_not_show_test_source(graded):
    for res in graded[0].values():
        for t in res["tests"]:
            assert "def test_" not in t["output"] and "tests/hidden" not in t["output"]


def test_the_gradebook_has_a_row_per_submission(graded):
    out = graded[1]
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 1 + len(graded[0])
    assert (out / "pass_rates.csv").read_text().count("\n") == 1 + len(
        graded[0]["reference"]["tests"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the student user applies to root only")
def test_a_grader_that_cannot_run_still_writes_results(tmp_path):
    env = dict(os.environ, AUTOGRADER_STUDENT_USER="no_such_user_here")
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "solutions", "--out",
                           str(out)], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    saved = json.loads(out.read_text())
    assert saved["score"] == 0 and "could not grade" in saved["output"]


def test_a_bad_argument_names_itself(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nope")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "SUBMISSION" in proc.stderr and "nope" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(tmp_path),
                           "--out", str(tmp_path / "o"), "--jobs", "0"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "--jobs" in proc.stderr


def test_grading_some_exercises_keeps_the_rubric_and_says_what_was_left_out(tmp_path):
    """`--exercises` (for maintainers) runs only those tests; the rest score 0, named."""
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(REPO / "assignments"),
                           "--out", str(out), "--quiet", "--exercises", "ex03"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    some = json.loads(out.read_text())["tests"]
    assert sum(t["max_score"] for t in some) == 100
    exercises = [t["tags"][0] for t in some]
    assert exercises == sorted(exercises) and set(exercises) == set(EXERCISES)
    for t in some:
        expected = "not implemented yet" if t["tags"][0] == "ex03" else "not graded in this run"
        assert t["score"] == 0 and expected in t["output"], (t["name"], t["output"][:200])
    sub = Submission("x", path=REPO / "assignments")
    assert fingerprint(sub, ("ex03",)) != fingerprint(sub)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(REPO / "assignments"),
                           "--exercises", "ex03,ex9"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "ex9" in proc.stderr


def test_make_check_reports_the_same_tests_and_points_as_grading(graded, tmp_path):
    """`make check` (in-process) and grading (sandboxed) share names and points."""
    outcomes = tmp_path / "check.jsonl"
    env = dict(os.environ, IMPL="solutions")
    subprocess.run([sys.executable, "-m", "pytest", "tests/public", "-q", "--tb=no",
                    "-p", "autograder.pytest_plugin", "--outcomes", str(outcomes)],
                   cwd=REPO, env=env, capture_output=True, check=True)
    records = [json.loads(line) for line in outcomes.read_text().splitlines()]
    checked = [(r["rubric"]["name"], r["rubric"]["points"]) for r in records if "rubric" in r]
    graded_public = [(t["name"], t["max_score"]) for t in graded[0]["reference"]["tests"]
                     if t["visibility"] == "visible"]
    assert checked == graded_public
    assert all(r["status"] == "passed" for r in records if "status" in r)
