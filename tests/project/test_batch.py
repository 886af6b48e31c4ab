"""Grading a class from what LMS bulk downloads look like: layouts, resuming, one bad
submission, and the reports an instructor reads (gradebook, pass rates, histogram,
misconceptions)."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from autograder.batch import CANCELLED, STOPPED, discover, grade_class, gradescope_metadata
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
           "    :sid: '7'\n  :assignment:\n    :name: HW 3\n"
           "submission_102:\n  :submitters:\n  - :name: 'Alan Turing'\n  - :name: Joan Clarke\n"
           "    :sid: 9\n")
    subs = discover(tmp_path)
    assert [(s.id, s.student) for s in subs] == [("submission_101", "Ada Lovelace"),
                                                  ("submission_102", "Alan Turing; Joan Clarke")]
    assert subs[0].people() == [{"name": "Ada Lovelace", "email": "a@x.org", "sid": "7"}]
    assert subs[1].people() == [{"name": "Alan Turing"}, {"name": "Joan Clarke", "sid": "9"}]


def test_gradescope_metadata_may_be_json(tmp_path):
    _write(tmp_path / "submission_metadata.json", '{"submission_5": {":submitters": '
           '[{":name": "Ada", ":sid": "1", ":email": "a@x"}]}}')
    assert gradescope_metadata(tmp_path) == {
        "submission_5": [{"name": "Ada", "sid": "1", "email": "a@x"}]}


def test_canvas_flat_download_groups_each_students_files(tmp_path):
    _write(tmp_path / f"lovelaceada_1234_5678_{EX1}", "x = 1\n")
    _write(tmp_path / "lovelaceada_1234_5679_ex_02_time_series_prediction-1.py", "y = 1\n")
    _write(tmp_path / f"turingalan_LATE_4321_8765_{EX1}", "x = 2\n")
    _write(tmp_path / f"leeerin_late_555_8766_{EX1}", "x = 2\n")
    with zipfile.ZipFile(tmp_path / "hopper_99_98_hw3.zip", "w") as zf:
        zf.writestr(EX1, "x = 3\n")
    _write(tmp_path / "readme.txt", "not a submission")
    notes = []
    subs = {s.id: s for s in discover(tmp_path, notes)}
    assert sorted(subs) == ["hopper_99", "leeerin_555", "lovelaceada_1234", "turingalan_4321"]
    assert len(subs["lovelaceada_1234"].files) == 2
    assert {k: s.late for k, s in subs.items()} == {
        "hopper_99": False, "leeerin_555": True, "lovelaceada_1234": False,
        "turingalan_4321": True}
    assert subs["leeerin_555"].people() == [{"name": "leeerin", "canvas_id": "555"}]
    assert subs["hopper_99"].path.name == "hopper_99_98_hw3.zip"
    assert [n for n in notes if "readme.txt" in n]  # the one file that is nobody's


def test_two_submissions_with_one_name_are_refused_by_name(tmp_path):
    _write(tmp_path / "alice" / EX1, "x = 1\n")
    with zipfile.ZipFile(tmp_path / "alice.zip", "w") as zf:
        zf.writestr(EX1, "x = 2\n")
    with pytest.raises(ValueError, match="two submissions are called 'alice'"):
        discover(tmp_path)


def test_grade_all_command_names_a_missing_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade-all",
                           str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    shutil.rmtree(tmp_path / "o", ignore_errors=True)


SKELETON = (REPO / "assignments" / EX1).read_text()


def _grade_all(folder, out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade-all", str(folder), "--out", str(out),
         "--exercises", "ex01", "--allow-same-user", *extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, seconds=240):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _book(out):
    with open(out / "gradebook.csv", newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def test_ctrl_c_writes_partial_reports_and_the_same_command_resumes(tmp_path):
    """First SIGINT: no new grade starts; a second cancels the running one. The reports
    cover what was done, the way to resume is printed, nothing is left running, and the
    rerun keeps the finished grade and grades the rest."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("a1", "b2", "c3"):
        _write(subs / name / EX1, SKELETON)
    proc = _grade_all(subs, out)
    _wait_for(lambda: (out / "submissions" / "a1" / "fingerprint.txt").is_file()
              and (out / "submissions" / "b2").is_dir())
    time.sleep(0.5)  # b2's grade is running (a skeleton takes ~3 s)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "no new grades start" in err and "cancelling 1 running" in err
    assert "To resume (graded results are kept):" in err and f"grade-all {subs}" in err
    book = _book(out)
    assert book["a1"]["status"] == "graded" and book["a1"]["total"] == "0.0"
    assert book["b2"]["notes"] == CANCELLED and book["c3"]["notes"] == STOPPED
    assert (out / "misconceptions.md").is_file() and (out / "tests.csv").is_file()
    assert not list(out.rglob("received")) and not (out / "submissions" / "c3").exists()
    # Nothing of the cancelled grade is left running.
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).count(str(subs))]
    again = _grade_all(subs, out)
    _, err = again.communicate(timeout=240)
    assert again.returncode == 0, err
    assert all(r["status"] == "graded" for r in _book(out).values())
    assert err.count(" kept") == 1 and "a1" in err.split(" kept")[0].splitlines()[-1]


def _cmdline(pid: str) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    except OSError:
        return ""


def test_a_submission_named_like_a_report_is_kept_apart(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("gradebook.csv", "misconceptions.md", "=cmd|x"):
        _write(subs / name / EX1, SKELETON)
    rows = grade_class(subs, out, progress=False, exercises=("ex01",))
    assert [how for _, _, how in rows] == ["graded"] * 3
    assert (out / "gradebook.csv").is_file() and (out / "misconceptions.md").is_file()
    assert (out / "submissions" / "gradebook.csv" / "results.json").is_file()
    book = _book(out)
    assert sorted(book) == ["'=cmd|x", "gradebook.csv", "misconceptions.md"]
    assert book["'=cmd|x"]["submission"] == "'=cmd|x"


def test_a_class_of_2000_entries_is_listed_in_seconds(tmp_path):
    for i in range(2000):
        (tmp_path / f"s{i:04d}").mkdir()
    start = time.monotonic()
    subs = discover(tmp_path)
    assert [s.id for s in subs] == [f"s{i:04d}" for i in range(2000)]
    assert time.monotonic() - start < 10


def test_a_corrupt_zip_costs_its_student_only(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    _write(subs / "a" / EX1, (REPO / "solutions" / EX1).read_text())
    subs.joinpath("b.zip").write_bytes(b"PK\x03\x04 this is no zip archive")
    rows = grade_class(subs, out, progress=False, exercises=("ex01",))
    scores = {sub.id: res["score"] if res else how for sub, res, how in rows}
    assert scores["a"] == 30 and scores["b"] == 0, scores
    book = _book(out)
    assert sorted(book) == ["a", "b"]
    assert "b.zip" in book["b"]["notes"], book["b"]
