"""A class of 14 students with planted mistakes, written in the three layouts a TA gets
(one folder per student, a Canvas bulk download, a Gradescope export), generated from the
reference, the skeleton and catalogue mutants rather than committed as 42 copies.

Every student hands in Exercise 1 in some state (the planted cases are Exercise 1 so that a
test can grade the class with `--exercises ex01`, ~3-10 s a submission), plus Exercise 2's
reference where it shows a file-level case. judy and ken are one Gradescope group (in the
other layouts each hands in the group's files); erin's
Canvas files are marked late (lower-case `_late_`, as the issue found); mallory's name in
the Gradescope roster starts with `=` and her code raises an exception whose text carries a
misconception tag; trent handed in no Exercise 1; ivan a notebook instead of the .py.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.mutants.catalogue import apply_edits, reference
from tests.mutants.grading import MUTANTS
from tests.public.harness import EXERCISES, REPO

EX1, EX2 = EXERCISES["ex01"], EXERCISES["ex02"]


def _skeleton() -> str:
    return (REPO / "assignments" / EX1).read_text(encoding="utf-8")


def _raises_with_a_tag() -> str:
    head = "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n"
    return apply_edits(reference("ex01"), ((head, head + "    raise ValueError('bad shapes "
                                                       "[misconception: bptt-dh0]')\n"),),
                       "mallory")


def _notebook() -> str:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": reference("ex01").splitlines(keepends=True)}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@dataclass(frozen=True)
class Student:
    key: str            # the per-student folder's name
    full_name: str      # Gradescope's roster name
    canvas: str         # Canvas's lastfirst
    canvas_id: str
    sid: str
    what: str           # what was handed in
    expect: str | None  # the misconception id the grader must name (root cause)
    late: bool = False


# key, roster name, Canvas name, Canvas id, SID, what, expected id
STUDENTS = (
    Student("ada", "Ada Lovelace", "lovelaceada", "1001", "S01", "reference", None),
    Student("bob", "Bob Baker", "bakerbob", "1002", "S02", "skeleton", None),
    Student("carol", "Carol Chen", "chencarol", "1003", "S03", "assign_not_accumulate",
            "bptt-no-accumulate"),
    Student("dave", "Dave Diaz", "diazdave", "1004", "S04", "drop_dh_next", "bptt-no-carry"),
    Student("erin", "Erin Lee", "leeerin", "1005", "S05", "tanh_of_h_in_derivative",
            "tanh-derivative-at-output", late=True),
    Student("frank", "Frank Fox", "foxfrank", "1006", "S06", "ignores_h0",
            "forward-h0-ignored"),
    Student("grace", "Grace Gold", "goldgrace", "1007", "S07", "unstable_softmax",
            "softmax-overflow"),
    Student("heidi", "Heidi Hall", "hallheidi", "1008", "S08", "syntax error", None),
    Student("ivan", "Ivan Ivanov", "ivanovivan", "1009", "S09", "notebook", None),
    Student("judy", "Judy Jones", "jonesjudy", "1010", "S10", "db_mean_not_sum",
            "bias-grad-sum"),
    Student("ken", "Ken Kato", "katoken", "1011", "S11", "db_mean_not_sum", "bias-grad-sum"),
    Student("mallory", "=HYPERLINK(\"http://x.test\")", "mallorym", "1012", "S12",
            "raises a tagged exception", None),
    Student("trent", "Trent Tran", "trantrent", "1013", "S13", "no Exercise 1", None),
    Student("victor", "Victor Vo", "vovictor", "1014", "S14", "mutates_dh", "mutates-input"),
)
GROUP = ("judy", "ken")  # one Gradescope submission, and one folder named for judy


def files_of(student: Student) -> dict[str, str]:
    """{file name: text} that the student handed in."""
    what = student.what
    if what == "reference":
        return {EX1: reference("ex01")}
    if what == "skeleton":
        return {EX1: _skeleton()}
    if what == "syntax error":
        return {EX1: reference("ex01").replace("def rnn_forward(x, h0, Wx, Wh, b):",
                                               "def rnn_forward(x, h0, Wx, Wh, b)", 1)}
    if what == "notebook":
        return {"ex_01_basic_rnn.ipynb": _notebook()}
    if what == "raises a tagged exception":
        return {EX1: _raises_with_a_tag()}
    if what == "no Exercise 1":
        return {EX2: reference("ex02")}
    return {EX1: MUTANTS[what].source()}


def submitters() -> list[list[Student]]:
    """The submissions: one per student, judy's and ken's as one."""
    out, seen = [], set()
    for s in STUDENTS:
        if s.key in seen:
            continue
        group = [t for t in STUDENTS if t.key in GROUP] if s.key in GROUP else [s]
        seen.update(t.key for t in group)
        out.append(group)
    return out


def _group_files(s: Student) -> dict[str, str]:
    """What a student's submission holds: a group member hands in the group's files."""
    return files_of(next(g for g in submitters() if s in g)[0])


def write_folders(root: Path) -> Path:
    """One folder per student, ivan's as a zip."""
    root.mkdir(parents=True)
    for s in STUDENTS:
        files = _group_files(s)
        if s.key == "ivan":
            with zipfile.ZipFile(root / "ivan.zip", "w") as zf:
                for name, text in files.items():
                    zf.writestr(f"hw3/{name}", text)
            continue
        (root / s.key).mkdir()
        for name, text in files.items():
            (root / s.key / name).write_text(text, encoding="utf-8")
    return root


def write_canvas(root: Path) -> Path:
    """Canvas's flat download: <lastfirst>[_late]_<user id>_<submission id>_<file>; each
    group member uploads the group's files under their own name."""
    root.mkdir(parents=True)
    for number, s in enumerate(STUDENTS):
        late = "_late" if s.late else ""
        for name, text in _group_files(s).items():
            (root / f"{s.canvas}{late}_{s.canvas_id}_{5000 + number}_{name}").write_text(
                text, encoding="utf-8")
    return root


def write_gradescope(root: Path) -> Path:
    """Gradescope's export: submission_<id>/ folders and submission_metadata.yml."""
    root.mkdir(parents=True)
    meta = []
    for number, group in enumerate(submitters()):
        sid = f"submission_{9000 + number}"
        (root / sid).mkdir()
        for name, text in files_of(group[0]).items():
            (root / sid / name).write_text(text, encoding="utf-8")
        meta.append(f"{sid}:\n  :submitters:")
        for s in group:
            meta.append(f"  - :name: '{s.full_name}'\n    :sid: '{s.sid}'\n"
                        f"    :email: {s.key}@uni.test")
        meta.append("  :created_at: 2026-11-30 23:59:00.000000000 +00:00\n  :score: 0.0")
    (root / "submission_metadata.yml").write_text("\n".join(meta) + "\n", encoding="utf-8")
    return root


def write_class(root: Path) -> dict[str, Path]:
    """The class in all three layouts under `root`: {layout: folder}."""
    return {"folders": write_folders(root / "folders"),
            "canvas": write_canvas(root / "canvas"),
            "gradescope": write_gradescope(root / "gradescope")}


def key_of(layout: str, person: dict) -> str:
    """The STUDENTS key a gradebook row of `layout` stands for."""
    field, attr = {"folders": ("student", "key"), "canvas": ("canvas_id", "canvas_id"),
                   "gradescope": ("sid", "sid")}[layout]
    (found,) = [s.key for s in STUDENTS if getattr(s, attr) == person[field]]
    return found
