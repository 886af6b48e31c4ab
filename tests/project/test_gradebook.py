"""A TA's class run: the 14-student class of tests/project/classroom.py in three layouts
gives one gradebook row per student with the layout's ids and late flags, nobody dropped,
the same rows in every layout, and a misconception report with root causes first and a
section of what could not be graded.

The per-student layout is graded for real (Exercise 1 only, where the planted cases are:
about a minute on 2 cores); the Canvas and Gradescope layouts are shown to hand the grader
byte-identical files for each student, so their reports are built from those grades."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest

from autograder import batch
from autograder.__main__ import _class_summary
from autograder.batch import ClassRun, discover, grade_class
from autograder.gradebook import (
    cell,
    column_id,
    exercise_problems,
    histogram_figure,
    student_rows,
    write_reports,
)
from autograder.misconception_report import (
    misconception_counts,
    not_graded,
    unexplained_failures,
)
from autograder.submission import collect
from tests.project.classroom import STUDENTS, key_of, write_class

pytestmark = pytest.mark.timeout(1800)
KEYS = {s.key for s in STUDENTS}
BY_KEY = {s.key: s for s in STUDENTS}


def _collected(sub) -> dict[str, bytes]:
    """The files the grader reads from `sub` (what decides its grade)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = batch._materialise(sub, Path(tmp) / "received")
        files, _ = collect(source, Path(tmp) / "collected")
        return {name: path.read_bytes() for name, path in files.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    layouts = write_class(root / "in")
    out = root / "folders"
    first = grade_class(layouts["folders"], out, jobs=2, progress=False, exercises=("ex01",),
                        canvas_assignment="Module 3: RNNs")
    second = grade_class(layouts["folders"], out, jobs=2, progress=False,
                         exercises=("ex01",))
    results = {sub.id: res for sub, res, _ in first}
    runs = {"folders": (first, out)}
    for layout in ("canvas", "gradescope"):
        notes: list[str] = []
        subs = discover(layouts[layout], notes)
        assert notes == []
        rows = ClassRun()
        for sub in subs:
            # Each submission's files are those of the per-student folder of its first
            # member, byte for byte, so the grade is that folder's.
            key = key_of(layout, sub.people()[0])
            assert _collected(sub) == _collected(next(s for s, _, _ in first if s.id == key))
            rows.append((sub, results[key], "kept"))
        rows.notes = notes
        dest = root / layout
        dest.mkdir()
        rows.people = write_reports(rows, dest, canvas_assignment="Module 3: RNNs")
        runs[layout] = (rows, dest)
    return runs, second


def _gradebook(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("layout", ["folders", "canvas", "gradescope"])
def test_every_student_gets_one_row_with_the_layouts_ids(graded, layout):
    rows, out = graded[0][layout]
    book = _gradebook(out)
    assert sorted(key_of(layout, r) for r in book) == sorted(KEYS)  # nobody dropped
    subs = 13 if layout == "gradescope" else 14
    assert _class_summary(rows).startswith(f"14 students in {subs} submissions: 11 graded, "
                                           "3 partly")
    for r in book:
        s = BY_KEY[key_of(layout, r)]
        if layout == "canvas":
            assert r["canvas_id"] == s.canvas_id and r["late"] == ("yes" if s.late else "no")
        if layout == "gradescope":
            assert (r["sid"], r["email"]) == (s.sid, f"{s.key}@uni.test")
            assert r["student"] == cell(s.full_name) and r["late"] == ""
    if layout == "gradescope":  # one group submission, a row for each member
        group = [r for r in book if r["sid"] in ("S10", "S11")]
        assert len({r["submission"] for r in group}) == 1 and len(group) == 2
        # A roster name that a spreadsheet would run as a formula is shown as text.
        assert '\'=HYPERLINK("http://x.test")' in [r["student"] for r in book]
    erin = next(r for r in book if key_of(layout, r) == "erin")
    assert erin["notes"].startswith("late") == (layout == "canvas")


def test_the_rows_are_the_same_in_every_layout(graded):
    seen = {}
    for layout, (_, out) in graded[0].items():
        seen[layout] = {key_of(layout, r): (r["total"], r["ex01"], r["status"])
                        for r in _gradebook(out)}
    assert seen["folders"] == seen["canvas"] == seen["gradescope"]
    folders = seen["folders"]
    assert folders["ada"][:2] == ("30.0", "30.0") and folders["bob"][1] == "0.0"
    assert all(0 < float(folders[k][1]) < 30 for k in ("carol", "dave", "erin", "judy"))


def test_status_says_which_exercise_could_not_be_graded_and_why(graded):
    book = {r["student"]: r for r in _gradebook(graded[0]["folders"][1])}
    partial = {k: r["notes"] for k, r in book.items() if r["status"] == "partial"}
    assert sorted(partial) == ["heidi", "ivan", "trent"]
    assert "ex01: syntax error: SyntaxError at line" in partial["heidi"]
    assert "ex01: notebook" in partial["ivan"]
    assert "ex01: ex_01_basic_rnn.py missing" in partial["trent"]
    assert all(book[k]["status"] == "graded" for k in KEYS - set(partial))


def test_a_rerun_keeps_every_result(graded):
    (first, _), second = graded[0]["folders"], graded[1]
    assert all(how == "kept" for _, _, how in second)
    assert [r["score"] for _, r, _ in first] == [r["score"] for _, r, _ in second]


def test_the_planted_mistakes_are_named_and_a_students_own_tag_is_not(graded):
    rows, out = graded[0]["folders"]
    ranked = {e["id"]: e for e in misconception_counts(rows)}
    for s in STUDENTS:
        if s.expect:
            assert s.key in ranked[s.expect]["submissions"], s
    mallory = next(r for sub, r, _ in rows if sub.id == "mallory")
    echoed = [t for t in mallory["tests"] if "[misconception: bptt-dh0]" in t["output"]]
    assert echoed and all(t["tags"] == ["ex01"] for t in echoed)
    assert all("mallory" not in e["submissions"] for e in ranked.values())


def test_the_report_lists_root_causes_then_what_could_not_be_graded(graded):
    rows, out = graded[0]["folders"]
    report = (out / "misconceptions.md").read_text(encoding="utf-8")
    order = [report.index(h) for h in ("## Root causes", "## Failures without a diagnosis",
                                       "## Could not be graded")]
    assert order == sorted(order) and "`bptt-no-carry`" in report
    assert [(u["submission"], u["exercise"]) for u in unexplained_failures(rows)] == [
        ("mallory", "ex01")]  # her code raised; the bugs of the others were all named
    problems = {(u["submission"], u["kind"]) for u in not_graded(rows)}
    assert problems == {("heidi", "syntax error"), ("ivan", "notebook"), ("trent", "missing")}
    ivan = next(line for line in report.splitlines() if line.startswith("| ivan |"))
    assert "Executable Script" in ivan and "ex_01_basic_rnn.py" in ivan
    with open(out / "misconceptions.csv", newline="") as fh:
        counts = [int(r["students"]) for r in csv.DictReader(fh) if r["kind"] == "cause"]
    assert counts == sorted(counts, reverse=True) and len(counts) >= 7


def test_per_test_detail_has_short_stable_ids_and_a_key(graded):
    out = graded[0]["folders"][1]
    with open(out / "tests.csv", newline="") as fh:
        header = next(csv.reader(fh))
    with open(out / "tests_key.csv", newline="") as fh:
        key = list(csv.DictReader(fh))
    assert header[:3] == ["student", "submission", "status"]
    assert header[3:] == [k["column"] for k in key] and len(key) > 100
    assert all(len(c) == 11 and c[:5] in ("ex01_", "ex02_", "ex03_", "ex04_")
               for c in header[3:])
    first = key[0]
    assert first["column"] == column_id(first["test"], set())  # from the name alone
    with open(out / "gradebook.csv", newline="") as fh:
        assert len(next(csv.reader(fh))) < 20  # the gradebook itself stays narrow


def test_the_canvas_import_file(graded):
    with open(graded[0]["canvas"][1] / "canvas_import.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Module 3: RNNs"]
    assert rows[1][0] == "Points Possible" and float(rows[1][5]) == 100
    assert sorted(r[1] for r in rows[2:]) == sorted(s.canvas_id for s in STUDENTS)


def test_the_histogram_counts_whole_students():
    fig = histogram_figure([10, 20, 20, 95], 100)
    ticks = fig.axes[0].get_yticks()
    assert len(ticks) > 1 and all(float(t).is_integer() for t in ticks)


# ---------------------------------------------------------------------------------------
# The report's logic on made-up results (no grading)
# ---------------------------------------------------------------------------------------


def _test(exid, score=0.0, output="wrong", tags=(), status=None):
    return {"name": f"{exid} t{len(output)}{tags}", "score": score, "max_score": 1.0,
            "status": status or ("passed" if score else "failed"), "visibility": "visible",
            "output": output, "tags": [exid, *tags]}


def _sub(name):
    return batch.Submission(name, path=Path(name))


def test_a_consequence_is_ranked_under_its_cause():
    rows = [
        (_sub("a"), {"score": 0, "output": "", "tests": [
            _test("ex01", tags=("bptt-no-carry",)), _test("ex02", tags=("uses-exercise1",))]},
         "graded"),
        (_sub("b"), {"score": 0, "output": "", "tests": [
            _test("ex01", output="ex_01_basic_rnn.py is not in the submission"),
            _test("ex02", tags=("uses-exercise1",)), _test("ex02", output="x", tags=(
                "uses-exercise1",))]}, "graded"),
        (_sub("c"), None, "not graded: the grader failed: boom"),
    ]
    ranked = misconception_counts(rows)
    assert [e["id"] for e in ranked] == ["bptt-no-carry", "uses-exercise1"]
    assert ranked[0]["consequences"] == {"uses-exercise1": 1}
    assert ranked[1]["causes"] == {"(ex01 missing)": 1, "bptt-no-carry": 1}
    people = student_rows(rows)
    assert [p["status"] for p in people] == ["graded", "partial", "not graded"]
    assert people[2]["notes"] == "not graded: the grader failed: boom"


def test_problems_are_read_from_the_messages():
    res = {"output": "", "tests": [
        _test("ex01", output="rnn_forward was not called: it ran past its time limit twice"),
        _test("ex02", output="ex_02_time_series_prediction.py: importing the file raised "
                             "ImportError: no module"),
        _test("ex03", output="not graded in this run (only ex01 were)"),
        _test("ex04", 1.0)]}
    assert {k: v[0] for k, v in exercise_problems(res).items()} == {
        "ex01": "timeout", "ex02": "import failed"}


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_text(text):
    assert cell(text) == "'" + text
    assert cell("Ada") == "Ada" and cell(-1.5) == -1.5
