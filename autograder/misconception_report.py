"""What a class got wrong, for the lecturer: `misconceptions.md` and `.csv`.

Root causes first (a mistake the tests diagnosed in the code where it was made), each
with the consequences it caused elsewhere (`uses-exercise1`: Exercise 2 failing because
the student's Exercise 1 RNN is wrong); then the failures no test could explain, then the
submissions, or exercises, that could not be graded at all (missing file, notebook,
syntax error, import error, timeout) with the fix to tell the student.

Ids come from the tests' tags in results.json only (the grading plugin keeps the ids a
test's own message named, never one a student's exception text carries).
"""

from __future__ import annotations

from pathlib import Path

from autograder.gradebook import CONSEQUENCES, FIXES, _write_csv, exercise_problems, policy_line
from tests.public.harness import EXERCISES
from tests.public.misconceptions import MISCONCEPTIONS

_NOT_THIS_RUN = "not graded in this run"
_NOT_WRITTEN = "not implemented yet"


def _failures(res: dict):
    """(exercise, test name, misconception ids) of each failed test that was graded."""
    for t in (res or {}).get("tests", []):
        if t["status"] != "passed" and _NOT_THIS_RUN not in t.get("output", ""):
            yield t["tags"][0], t["name"], [g for g in t["tags"][1:] if g in MISCONCEPTIONS]


def _causes_of(consequence: str, tags: dict[str, set[str]], problems: dict,
               untagged: set[str]) -> list[str]:
    """What explains a consequence tag in one submission: its root tags in the exercise
    the consequence builds on, else why that exercise gave no diagnosis."""
    exid = CONSEQUENCES[consequence]
    roots = sorted(m for m in tags.get(exid, set()) if m not in CONSEQUENCES)
    if roots:
        return roots
    if exid in problems:
        return [f"({exid} {problems[exid][0]})"]
    if exid in untagged:
        return [f"({exid} failures without a diagnosis)"]
    return ["(no diagnosed cause)"]


def misconception_counts(rows) -> list[dict]:
    """Each misconception id the class shows: root causes first, most common first, then
    consequences. Keys: id, kind ("cause" or "consequence"), students (submissions that
    show it), share (of graded submissions), tests, idea, guide, submissions, and
    `consequences` (for a cause: {consequence id: submissions}) or `causes` (for a
    consequence: {cause: submissions}, a cause in parentheses when not a tag)."""
    seen: dict[str, dict] = {}
    for sub, res, _ in rows:
        if res is None:
            continue
        problems = exercise_problems(res)
        tags: dict[str, set[str]] = {}
        untagged: set[str] = set()
        for exid, name, ids in _failures(res):
            if not ids and exid not in problems:
                untagged.add(exid)
            for mid in ids:
                tags.setdefault(exid, set()).add(mid)
                entry = seen.setdefault(mid, {"students": set(), "tests": set(),
                                              "links": {}})
                entry["students"].add(sub.id)
                entry["tests"].add(name)
        for exid_tags in list(tags.values()):
            for mid in exid_tags & set(CONSEQUENCES):
                for cause in _causes_of(mid, tags, problems, untagged):
                    seen[mid]["links"].setdefault(cause, set()).add(sub.id)
                    if cause in seen:
                        seen[cause]["links"].setdefault(mid, set()).add(sub.id)
    graded = sum(1 for _, r, _ in rows if r)
    ranked = []
    for mid, entry in seen.items():
        idea, section = MISCONCEPTIONS[mid]
        kind = "consequence" if mid in CONSEQUENCES else "cause"
        links = {k: len(v) for k, v in sorted(entry["links"].items(),
                                               key=lambda kv: (-len(kv[1]), kv[0]))}
        ranked.append({"id": mid, "kind": kind, "students": len(entry["students"]),
                       "share": round(len(entry["students"]) / max(1, graded), 3),
                       "tests": sorted(entry["tests"]), "idea": idea, "guide": section,
                       "submissions": sorted(entry["students"]),
                       ("causes" if kind == "consequence" else "consequences"): links})
    ranked.sort(key=lambda e: (e["kind"] == "consequence", -e["students"], e["id"]))
    return ranked


def unexplained_failures(rows) -> list[dict]:
    """Exercises where a submission failed tests and no test said why (no misconception
    id, the file was graded, the functions were implemented): {submission, exercise,
    failed (how many tests), message (the first failure's first line)}, most failed
    first. A failed test beside a diagnosed mistake in the same exercise is taken to be
    that mistake's, so it is not listed."""
    out = []
    for sub, res, _ in rows:
        if res is None:
            continue
        problems = exercise_problems(res)
        failed: dict[str, list[str]] = {}
        tagged = {exid for exid, _, ids in _failures(res) if ids}
        for t in res["tests"]:
            exid, output = t["tags"][0], t.get("output", "")
            if t["status"] != "passed" and exid not in tagged | set(problems) and \
                    _NOT_THIS_RUN not in output and not output.startswith(_NOT_WRITTEN):
                failed.setdefault(exid, []).append(output)
        for exid, outputs in failed.items():
            out.append({"submission": sub.id, "exercise": exid, "failed": len(outputs),
                        "message": (outputs[0].strip().splitlines() or [""])[0][:200]})
    out.sort(key=lambda e: (-e["failed"], e["submission"], e["exercise"]))
    return out


def not_graded(rows) -> list[dict]:
    """Submissions, or exercises of them, that could not be graded:
    {submission, exercise ("all" for the whole submission), kind, detail, fix}."""
    out = []
    for sub, res, how in rows:
        if res is None:
            out.append({"submission": sub.id, "exercise": "all", "kind": "not graded",
                        "detail": how, "fix": "see grader.log under submissions/; a re-run "
                                              "of the same command grades it again"})
            continue
        for exid, (kind, detail) in exercise_problems(res).items():
            out.append({"submission": sub.id, "exercise": exid, "kind": kind,
                        "detail": detail,
                        "fix": FIXES[kind].format(file=EXERCISES[exid])})
    return out


def _md(text) -> str:
    """A table cell: no line breaks, no column separators."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_misconceptions(rows, out_dir: Path) -> None:
    ranked = misconception_counts(rows)
    unexplained = unexplained_failures(rows)
    ungraded = not_graded(rows)
    _write_csv(out_dir / "misconceptions.csv",
               ["misconception", "kind", "students", "share", "guide_section", "idea",
                "linked", "tests", "submissions"],
               ([e["id"], e["kind"], e["students"], e["share"], e["guide"], e["idea"],
                 " ".join(f"{k}:{n}" for k, n in e.get("causes", e.get("consequences",
                                                                        {})).items()),
                 " | ".join(e["tests"]), " ".join(e["submissions"])] for e in ranked))
    graded = sum(1 for _, r, _ in rows if r)
    causes = [e for e in ranked if e["kind"] == "cause"]
    lines = ["# Misconceptions in this class", "",
             f"{graded} submissions graded. Root causes first: each is a mistake the tests "
             "recognised where it was made, with how many submissions show it and the guide "
             "section to reteach; what it broke in later exercises is listed under it.", "",
             policy_line(rows) + ".", "",
             "## Root causes", "",
             "| misconception | students | share | reteach (guide section) | the idea |",
             "|---|---|---|---|---|"]
    for e in causes:
        lines.append(f"| `{e['id']}` | {e['students']} | {e['share']:.0%} | {e['guide']} | "
                     f"{_md(e['idea'])} |")
        for cid, n in e["consequences"].items():
            lines.append(f"| &nbsp;&nbsp;then `{cid}` | {n} | | | (a consequence: fix the "
                         "cause first) |")
    if not causes:
        lines.append("| (none recognised) | | | | |")
    orphans = [(e, cause, n) for e in ranked if e["kind"] == "consequence"
               for cause, n in e["causes"].items() if cause.startswith("(")]
    if orphans:
        lines += ["", "## Consequences without a diagnosed cause", "",
                  "| consequence | cause | students |", "|---|---|---|"]
        lines += [f"| `{e['id']}` | {_md(cause.strip('()'))} | {n} |" for e, cause, n in orphans]
    lines += ["", "## Failures without a diagnosis", "",
              "Exercises where tests failed and none named the mistake (functions not "
              "written yet are left out): worth a look, and perhaps a new misconception id.",
              ""]
    if unexplained:
        lines += ["| submission | exercise | failed tests | first message |",
                  "|---|---|---|---|"]
        lines += [f"| {_md(u['submission'])} | {u['exercise']} | {u['failed']} | "
                  f"{_md(u['message'])} |" for u in unexplained]
    else:
        lines.append("(none)")
    lines += ["", "## Could not be graded", "",
              "Submissions or exercises with no score to read: tell the student the fix.", ""]
    if ungraded:
        lines += ["| submission | exercise | problem | fix |", "|---|---|---|---|"]
        lines += [f"| {_md(u['submission'])} | {u['exercise']} | {_md(u['kind'])}: "
                  f"{_md(u['detail'])} | {_md(u['fix'])} |" for u in ungraded]
    else:
        lines.append("(none)")
    (out_dir / "misconceptions.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
