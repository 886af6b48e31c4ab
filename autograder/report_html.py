"""report.html: the class at a glance, one static page (no server; plots embedded as
base64 PNG): score histogram per exercise, per-test pass rates, the misconception
ranking with the guide section to reteach and the students affected (click a row), the
similarity pairs, and a row per student linking to a page with the text they saw.

Every student-made string (names, ids, test output) is HTML-escaped; nothing from a
submission reaches a script. `class_view` is the one adapter from the batch's rows.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

from autograder.gradebook import policy_line

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_JS = """document.querySelectorAll('tr.mis').forEach(function (row) {
  row.addEventListener('click', function () {
    var who = document.getElementById(row.dataset.target);
    who.hidden = !who.hidden;
  });
});"""


def class_view(rows) -> dict:
    """What the page shows, from grade_class rows [(Submission, results | None, how)]:
    {"students": [{id, student, score, status, tests, exercises}], "exercises": [...],
    "misconceptions": batch.misconception_counts(rows)}."""
    from autograder.batch import misconception_counts
    from autograder.gradebook import totals as exercise_totals

    students, exercises = [], []
    for sub, res, how in rows:
        tests = (res or {}).get("tests", [])
        totals = exercise_totals(tests) if tests else {}
        exercises += [e for e in totals if e not in exercises]
        students.append({"id": sub.id, "student": sub.student, "tests": tests,
                         "score": res["score"] if res else None, "totals": totals,
                         "status": "ok" if res else how, "output": (res or {}).get("output", "")})
    return {"students": students, "exercises": exercises,
            "misconceptions": misconception_counts(rows)}


def _histograms(view) -> str:
    """A base64 PNG: one histogram of scores per exercise."""
    from matplotlib.figure import Figure

    exercises = view["exercises"] or ["(none graded)"]
    fig = Figure(figsize=(3.2 * len(exercises), 3), layout="constrained")
    for ax, ex in zip(fig.subplots(1, len(exercises), squeeze=False)[0], exercises,
                      strict=True):
        scores = [s["totals"][ex] for s in view["students"] if ex in s["totals"]]
        out_of = max((sum(t["max_score"] for t in s["tests"] if t["tags"][0] == ex)
                      for s in view["students"] if s["tests"]), default=1)
        ax.hist(scores, bins=10, range=(0, out_of or 1), color="tab:blue", edgecolor="white")
        ax.set_title(f"{ex} (out of {out_of:g})")
        ax.set_xlabel("score")
        ax.set_ylabel("students")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _student_page(student: dict) -> str:
    """The text the student saw: the summary and every test's score and message."""
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(student['id'])}</title>",
             f"<h1>{e(student['student'] or student['id'])}</h1>",
             f"<pre>{e(student['output'])}</pre>"]
    if not student["tests"]:
        parts.append(f"<p>Not graded: {e(student['status'])}</p>")
    for t in student["tests"]:
        parts.append(f"<h3>{e(t['name'])}: {t['score']:g}/{t['max_score']:g}</h3>"
                     f"<pre>{e(t.get('output', ''))}</pre>")
    return "\n".join(parts)


def write_report(rows, out_dir: Path, similar: list[dict] | None = None) -> Path:
    """out_dir/report.html and out_dir/students/<id>.html; returns the report's path."""
    e = html.escape
    view = class_view(rows)
    pages = out_dir / "students"
    pages.mkdir(parents=True, exist_ok=True)
    parts = ["<!doctype html><html lang='en'><meta charset='utf-8'><title>Class report"
             "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px}tr.mis{cursor:pointer}</style>",
             f"<h1>Class report ({len(view['students'])} submissions)</h1>",
             f"<p id='policy'>{e(policy_line(rows))}.</p>",
             "<h2>Scores per exercise</h2>",
             f"<img id='histogram' alt='score histograms' "
             f"src='data:image/png;base64,{_histograms(view)}'>"]
    graded = [s for s in view["students"] if s["tests"]]
    parts.append("<h2>Pass rate per test</h2><table><tr><th>test</th><th>passed</th>"
                 "<th>rate</th></tr>")
    for i, t in enumerate(graded[0]["tests"] if graded else []):
        passed = sum(s["tests"][i]["status"] == "passed" for s in graded)
        parts.append(f"<tr><td>{e(t['name'])}</td><td>{passed}/{len(graded)}</td>"
                     f"<td>{passed / len(graded):.0%}</td></tr>")
    parts.append("</table><h2>Misconceptions (click a row for its students)</h2><table>"
                 "<tr><th>misconception</th><th>students</th><th>reteach (guide section)"
                 "</th><th>the idea</th></tr>")
    for n, m in enumerate(view["misconceptions"]):
        who = ", ".join(e(s) for s in m["submissions"])
        parts.append(f"<tr class='mis' data-target='who{n}'><td>{e(m['id'])}</td>"
                     f"<td>{m['students']}</td><td>{e(m['guide'])}</td><td>{e(m['idea'])}"
                     f"</td></tr><tr id='who{n}' class='who' hidden><td colspan='4'>{who}"
                     "</td></tr>")
    parts.append("</table><h2>Similar pairs (evidence for a person to review)</h2>")
    if similar:
        parts.append("<table><tr><th>exercise</th><th>pair</th><th>score</th></tr>")
        parts += [f"<tr><td>{e(p['exercise'])}</td><td>{e(p['a'])} ~ {e(p['b'])}</td>"
                  f"<td>{p['score']:.0%}</td></tr>" for p in similar]
        parts.append("</table><p><a href='similarity.html'>side by side</a></p>")
    else:
        parts.append("<p>None listed (run grade-all with --similarity).</p>")
    parts.append("<h2>Students</h2><table><tr><th>submission</th><th>student</th>"
                 f"<th>total</th>{''.join(f'<th>{e(x)}</th>' for x in view['exercises'])}"
                 "<th>status</th></tr>")
    for n, s in enumerate(view["students"]):
        page = f"{n:04d}_{_SAFE.sub('_', s['id'])[:60]}.html"
        (pages / page).write_text(_student_page(s), encoding="utf-8")
        score = "" if s["score"] is None else f"{s['score']:g}"
        cells = "".join(f"<td>{s['totals'].get(x, '')}</td>" for x in view["exercises"])
        parts.append(f"<tr class='student'><td><a href='students/{page}'>{e(s['id'])}</a>"
                     f"</td><td>{e(s['student'])}</td><td>{score}</td>{cells}"
                     f"<td>{e(s['status'])}</td></tr>")
    parts.append(f"</table><script>{_JS}</script></html>")
    path = out_dir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
