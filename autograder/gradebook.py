"""The class reports of `grade-all`, from the graded submissions.

`student_rows(rows)` is the one place that turns graded submissions into gradebook rows,
one dict per student (a group's submission gives one row per member); every report and
any other front end (an HTML page) reads those rows. Files written by `write_reports`:

* `gradebook.csv`: one row per student: ids from the layout, late flag, total and points
  per exercise, status (`graded`, `partial`, `not graded`), notes saying why, and the
  Exercise 1 policy its grade used (`own` or `reference`, settings.EXERCISE1_POLICY);
* `tests.csv` (points per test, one short stable column id per test) and `tests_key.csv`
  (what each id stands for, with its pass rate); `pass_rates.csv` as before;
* `canvas_import.csv` when a Canvas assignment name is given: Canvas's gradebook import;
* `histogram.png`, `misconceptions.md` / `.csv` (root causes first, consequences under
  their cause, failures without a diagnosis, submissions that could not be graded).

Every text cell of a CSV that a spreadsheet would read as a formula (`= + - @`, tab, CR)
is prefixed with `'`, so student-chosen names and notes show as text.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

from tests.public.harness import EXERCISES

# A consequence tag says "this failed because something it builds on is wrong": the
# exercise whose own mistakes explain it. Ranked under those mistakes, not beside them.
CONSEQUENCES = {"uses-exercise1": "ex01", "char-uses-exercise1": "ex01",
                "model-chain": "ex01"}

# Why an exercise could not be graded, from the messages of its tests: (kind, pattern),
# the first that matches wins.
_PROBLEMS = (
    ("missing", re.compile(r"\S+\.py is not in the submission")),
    ("syntax error", re.compile(r"SyntaxError at line \d+[^\n]*")),
    ("import failed", re.compile(r"importing the file raised [^\n]*|the process exited "
                                 r"while importing the file")),
    ("timeout", re.compile(r"ran past its time limit|used up their time budget|tests of this "
                           r"file were stopped after|did not run: the test run stopped")),
)
FIXES = {
    "missing": "submit {file} (at the top of the zip, or at most two folders down)",
    "notebook": "export the notebook as a script named {file} (Jupyter: File > Save and "
                "Export Notebook As > Executable Script) and resubmit",
    "syntax error": "fix the syntax error (`python {file}` shows the line), then resubmit",
    "import failed": "the file must import cleanly: put the demo under "
                     "`if __name__ == \"__main__\":` and run `make check`",
    "timeout": "an endless loop or far too slow code: `make check` shows which function",
}
_NOT_THIS_RUN = "not graded in this run"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A CSV cell a spreadsheet shows as text: `'` before a leading = + - @ tab or CR."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _write_csv(path: Path, header: list, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([cell(h) for h in header])
        for row in rows:
            w.writerow([cell(v) for v in row])


def column_id(name: str, taken: set[str]) -> str:
    """A short id for a test's column: its exercise and 6 hex digits of its name's hash,
    so it stays the same when tests are added or reordered (longer on a collision)."""
    digest = hashlib.sha1(name.encode()).hexdigest()
    for size in range(6, 41):
        cid = f"{name.split(' ', 1)[0]}_{digest[:size]}"
        if cid not in taken:
            return cid
    raise ValueError(f"two tests are called {name!r}")


def totals(tests) -> dict[str, float]:
    """Points per exercise id (the first tag of each test)."""
    out: dict[str, float] = {}
    for t in tests:
        out[t["tags"][0]] = round(out.get(t["tags"][0], 0.0) + t["score"], 6)
    return out


def exercise_problems(results: dict) -> dict[str, tuple[str, str]]:
    """exercise id -> (kind, detail) for each exercise whose file could not be graded:
    missing, notebook (an .ipynb instead of the .py), syntax error, import failed,
    timeout. Exercises left out of a `--exercises` run are not problems."""
    notes = results.get("output", "")
    problems: dict[str, tuple[str, str]] = {}
    by_ex: dict[str, list[str]] = {}
    for t in results.get("tests", []):
        if t["status"] != "passed":
            by_ex.setdefault(t["tags"][0], []).append(t.get("output", ""))
    for exid, outputs in by_ex.items():
        if all(_NOT_THIS_RUN in o for o in outputs):
            continue
        text = "\n".join(outputs)
        for kind, pattern in _PROBLEMS:
            found = pattern.search(text)
            if found:
                detail = found.group(0)
                if kind == "missing" and \
                        f"a notebook, not graded; the grader reads {EXERCISES[exid]}" in notes:
                    kind, detail = "notebook", "a notebook (.ipynb) instead of the .py file"
                problems[exid] = (kind, detail)
                break
    return problems


def _grader_notes(results: dict) -> list[str]:
    """The notes the grader wrote for the student, without the public-points summary."""
    return [line for line in results.get("output", "").splitlines()
            if line.strip() and "public points (hidden tests" not in line]


def exercise1_policy_of(results: dict | None) -> str:
    """The Exercise 1 policy a results.json was graded with ("own" before there was one);
    "" for a submission not graded."""
    if not results:
        return ""
    return str(results.get("extra_data", {}).get("exercise1_policy", "own"))


POLICY_TEXT = {
    "own": "Exercises 2-4 ran on each student's own Exercise 1 (a mistake there can cost "
           "points in them too: `uses-exercise1`)",
    "reference": "Exercises 2-4 ran on the reference Exercise 1 (course setting "
                 "EXERCISE1_POLICY = \"reference\"): a mistake in Exercise 1 cost Exercise 1's "
                 "points only",
}


def policy_line(rows) -> str:
    """One sentence for a class report: the Exercise 1 policy its grades used (with the
    count of each when they differ)."""
    used: dict[str, int] = {}
    for _, res, _ in rows:
        if res:
            policy = exercise1_policy_of(res)
            used[policy] = used.get(policy, 0) + 1
    if not used:
        return "Exercise 1 policy: (nothing graded)"
    if len(used) == 1:
        (policy,) = used
        return f"Exercise 1 policy: {policy}. {POLICY_TEXT.get(policy, '')}".rstrip()
    return "Exercise 1 policy: mixed: " + ", ".join(
        f"{n} graded with {p}" for p, n in sorted(used.items())) + " (regrade with --fresh)"


def student_rows(rows) -> list[dict]:
    """One dict per student, in the order of the submissions (a group's members in the
    order the layout lists them).

    `rows` is what `batch.grade_class` returns: (Submission, results or None, how).
    Keys: student, submission, canvas_id, sid, email, late ("yes", "no" or "" when the
    layout does not say), total, out_of, one key per exercise id (its points), status
    ("graded", "partial": an exercise could not be graded, "not graded"), problems
    ({exercise id: (kind, detail)}), notes (one line for a TA), exercise1_policy ("own",
    "reference", "" when not graded), how ("graded", "kept", or why it was not graded).
    """
    out = []
    for sub, res, how in rows:
        base = {"submission": sub.id, "late": sub.late_flag(), "how": how,
                "exercise1_policy": exercise1_policy_of(res)}
        if res is None:
            status, notes, problems = "not graded", [how], {}
            scores = {"total": "", "out_of": "", **{e: "" for e in EXERCISES}}
        else:
            problems = exercise_problems(res)
            status = "partial" if problems else "graded"
            points = totals(res["tests"])
            scores = {"total": res["score"],
                      "out_of": round(sum(t["max_score"] for t in res["tests"]), 6),
                      **{e: points.get(e, 0.0) for e in EXERCISES}}
            notes = [f"{e}: {kind}: {detail}" if kind != "missing" else
                     f"{e}: {EXERCISES[e]} missing" for e, (kind, detail) in problems.items()]
            notes += [n for n in _grader_notes(res) if "not in the submission" not in n
                      and "a notebook, not graded" not in n and "course policy:" not in n]
        if sub.late:
            notes.insert(0, "late")
        text = "; ".join(notes)
        for member in sub.people():
            out.append({**base, "student": member.get("name", ""),
                        "canvas_id": member.get("canvas_id", ""),
                        "sid": member.get("sid", ""), "email": member.get("email", ""),
                        **scores, "status": status, "problems": problems,
                        "notes": text[:1000]})
    return out


GRADEBOOK_COLUMNS = ["student", "submission", "canvas_id", "sid", "email", "late", "total",
                     "out_of", *EXERCISES, "status", "notes", "exercise1_policy"]


def write_gradebook(people: list[dict], path: Path) -> None:
    _write_csv(path, GRADEBOOK_COLUMNS, ([p[c] for c in GRADEBOOK_COLUMNS] for p in people))


def write_test_detail(rows, people: list[dict], out_dir: Path) -> None:
    """tests.csv (per student, points per test under short ids), tests_key.csv (what each
    id is, with its pass rate) and pass_rates.csv (per test, by name)."""
    ok = [r for _, r, _ in rows if r]
    tests = ok[0]["tests"] if ok else []
    taken: set[str] = set()
    ids = []
    for t in tests:
        ids.append(column_id(t["name"], taken))
        taken.add(ids[-1])
    by_sub = {sub.id: res for sub, res, _ in rows}
    detail = []
    for p in people:
        res = by_sub.get(p["submission"])
        scores = {t["name"]: t["score"] for t in res["tests"]} if res else {}
        detail.append([p["student"], p["submission"], p["status"],
                       *(scores.get(t["name"], "") for t in tests)])
    _write_csv(out_dir / "tests.csv", ["student", "submission", "status", *ids], detail)
    passed = [sum(1 for r in ok for u in r["tests"] if u["name"] == t["name"]
                  and u["status"] == "passed") for t in tests]
    _write_csv(out_dir / "tests_key.csv",
               ["column", "exercise", "max_score", "visibility", "passed", "graded", "test"],
               ([cid, t["tags"][0], t["max_score"], t["visibility"], n, len(ok), t["name"]]
                for cid, t, n in zip(ids, tests, passed, strict=False)))
    _write_csv(out_dir / "pass_rates.csv", ["test", "max_score", "passed", "graded",
                                             "pass_rate"],
               ([t["name"], t["max_score"], n, len(ok), round(n / len(ok), 3) if ok else ""]
                for t, n in zip(tests, passed, strict=False)))


def write_canvas_import(people: list[dict], assignment: str, path: Path) -> int:
    """Canvas's gradebook import CSV (Grades > Import): Student, ID, SIS User ID, SIS
    Login ID, Section, then the assignment's column and a "Points Possible" row. Only
    students with a Canvas user id are written; a student not graded gets an empty cell,
    which Canvas leaves as it is. Returns how many students were written."""
    written = [p for p in people if p["canvas_id"]]
    out_of = next((p["out_of"] for p in people if p["out_of"] != ""), 100)
    rows = [["Points Possible", "", "", "", "", out_of]]
    rows += [[p["student"], p["canvas_id"], p["sid"], "", "", p["total"]] for p in written]
    _write_csv(path, ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment],
               rows)
    return len(written)


def histogram_figure(scores: list[float], out_of: float):
    """The score histogram (a matplotlib Figure): counts of students, whole numbers."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.hist(scores, bins=20, range=(0, out_of or 100), color="tab:blue", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # no half-students
    ax.set_xlabel(f"total score (out of {out_of:g})")
    ax.set_ylabel("students")
    ax.set_title(f"Score distribution ({len(scores)} graded students)")
    return fig


def write_histogram(scores: list[float], out_of: float, path: Path) -> None:
    histogram_figure(scores, out_of).savefig(path, dpi=100)


def write_reports(rows, out_dir: Path, canvas_assignment: str | None = None) -> list[dict]:
    """Every class report into `out_dir`; returns student_rows(rows)."""
    from autograder.misconception_report import write_misconceptions

    people = student_rows(rows)
    write_gradebook(people, out_dir / "gradebook.csv")
    write_test_detail(rows, people, out_dir)
    if canvas_assignment:
        write_canvas_import(people, canvas_assignment, out_dir / "canvas_import.csv")
    graded = [p for p in people if p["status"] != "not graded"]
    out_of = next((p["out_of"] for p in graded), 100)
    write_histogram([p["total"] for p in graded], out_of, out_dir / "histogram.png")
    write_misconceptions(rows, out_dir)
    return people
