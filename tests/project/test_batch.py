"""Grading a class from what LMS bulk downloads look like: layouts, resuming, one bad
submission, and the reports an instructor reads (gradebook, pass rates, histogram,
misconceptions)."""

from __future__ import annotations

import csv
import shutil
import zipfile

import pytest

from autograder.batch import discover, grade_class, misconception_counts
from tests.mutants.grading import MUTANTS
from tests.public.harness import EXERCISES, REPO

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)

EX1 = EXERCISES["ex01"]


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_folder_per_student_and_zip_per_student(tmp_path):
    _write(tmp_path / "alice" / EX1, "x = 1\n")
    with zipfile.ZipFile(tmp_path / "bob.zip", "w") as zf:
        zf.writestr(f"hw/{EX1}", "x = 2\n")
    subs = discover(tmp_path)
    assert [(s.id, s.path.name) for s in subs] == [("alice", "alice"), ("bob", "bob.zip")]


def test_gradescope_export_with_names_from_the_metadata(tmp_path):
    _write(tmp_path / "submission_101" / EX1, "x = 1\n")
    _write(tmp_path / "submission_102" / EX1, "x = 2\n")
    _write(tmp_path / "submission_metadata.yml",
           "submission_101:\n  :submitters:\n  - :name: Ada Lovelace\n    :email: a@x.org\n"
           "submission_102:\n  :submitters:\n  - :name: 'Alan Turing'\n")
    subs = discover(tmp_path)
    assert [(s.id, s.student) for s in subs] == [("submission_101", "Ada Lovelace"),
                                                  ("submission_102", "Alan Turing")]


def test_canvas_flat_download_groups_each_students_files(tmp_path):
    _write(tmp_path / f"lovelaceada_1234_5678_{EX1}", "x = 1\n")
    _write(tmp_path / "lovelaceada_1234_5679_ex_02_time_series_prediction-1.py", "y = 1\n")
    _write(tmp_path / f"turingalan_LATE_4321_8765_{EX1}", "x = 2\n")
    with zipfile.ZipFile(tmp_path / "hopper_99_98_hw3.zip", "w") as zf:
        zf.writestr(EX1, "x = 3\n")
    _write(tmp_path / "readme.txt", "not a submission")
    notes = []
    subs = {s.id: s for s in discover(tmp_path, notes)}
    assert sorted(subs) == ["hopper_99", "lovelaceada_1234", "turingalan_4321"]
    assert len(subs["lovelaceada_1234"].files) == 2
    assert subs["hopper_99"].path.name == "hopper_99_98_hw3.zip"
    assert any("readme.txt" in n for n in notes)


def test_two_submissions_with_one_name_are_refused_by_name(tmp_path):
    _write(tmp_path / "alice" / EX1, "x = 1\n")
    with zipfile.ZipFile(tmp_path / "alice.zip", "w") as zf:
        zf.writestr(EX1, "x = 2\n")
    with pytest.raises(ValueError, match="two submissions are called 'alice'"):
        discover(tmp_path)


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A small class: the reference, the skeleton, two mutants (one of them as Canvas
    flat files), a broken file; graded once, then again to test resuming."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "subs"
    _write(subs / "ref" / EX1, (REPO / "solutions" / EX1).read_text())
    _write(subs / "skel" / EX1, (REPO / "assignments" / EX1).read_text())
    _write(subs / "noacc" / EX1, MUTANTS["assign_not_accumulate"].source())
    _write(subs / f"carrless_77_88_{EX1}", MUTANTS["drop_dh_next"].source())
    _write(subs / "broken" / EX1, "def rnn_step_forward(:\n")
    out = root / "out"
    first = grade_class(subs, out, jobs=2, progress=False)
    second = grade_class(subs, out, jobs=2, progress=False)
    return first, second, out


def test_every_submission_gets_a_row_and_a_bad_one_costs_only_itself(classroom):
    first, _, out = classroom
    by_id = {sub.id: res for sub, res, _ in first}
    assert set(by_id) == {"ref", "skel", "noacc", "carrless_77", "broken"}
    ex01 = {k: sum(t["score"] for t in r["tests"] if t["tags"][0] == "ex01")
            for k, r in by_id.items()}
    assert ex01["ref"] == 30 and ex01["skel"] == 0 and ex01["broken"] == 0
    assert 0 < ex01["noacc"] < 30 and 0 < ex01["carrless_77"] < 30
    with open(out / "gradebook.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["submission"] for r in rows] == sorted(by_id)
    assert all(r["status"] == "ok" for r in rows)
    assert (out / "histogram.png").read_bytes()[:4] == b"\x89PNG"


def test_a_rerun_keeps_unchanged_results(classroom):
    first, second, _ = classroom
    assert all(how == "kept" for _, _, how in second)
    assert [r["score"] for _, r, _ in first] == [r["score"] for _, r, _ in second]


def test_the_misconception_report_ranks_what_the_class_shows(classroom):
    first, _, out = classroom
    ranked = {e["id"]: e for e in misconception_counts(first)}
    assert ranked["bptt-no-accumulate"]["submissions"] == ["noacc"]
    assert ranked["bptt-no-carry"]["submissions"] == ["carrless_77"]
    report = (out / "misconceptions.md").read_text()
    assert "`bptt-no-accumulate`" in report and "The whole sequence" in report
    with open(out / "misconceptions.csv", newline="") as fh:
        counts = [int(r["students"]) for r in csv.DictReader(fh)]
    assert counts == sorted(counts, reverse=True)


def test_grade_all_command_names_a_missing_folder(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "autograder", "grade-all",
                           str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
