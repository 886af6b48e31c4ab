"""Grading a class: every submission of an LMS bulk download, in parallel, resumable,
with a gradebook, pass rates, a score histogram and a misconception report.

Layouts understood (each tested in tests/project/test_batch.py):

* one folder or .zip per student (any LMS, or a hand-made folder);
* Gradescope's "Export Submissions": `submission_<id>/` folders, with the students'
  names read from `submission_metadata.yml` when it is there;
* Canvas's "Download Submissions": one flat folder of files named
  `<name>_<user id>_<submission id>_<original name>` (`<name>_LATE_...` when late); the
  files of one student become one submission (a zip the student uploaded is used as is).

Each submission is graded by `python -m autograder grade` in its own process, so one bad
submission costs nothing but its own row. A re-run skips submissions whose files have not
changed since their results were written (`--fresh` regrades everything).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grade import _in_repo
from tests.public.harness import EXERCISES
from tests.public.misconceptions import MISCONCEPTIONS, ids_in

REPO = Path(__file__).resolve().parent.parent
_CANVAS = re.compile(r"^(?P<student>[A-Za-z0-9-]+?)(?:_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_"
                     r"(?P<name>.+)$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Submission:
    """One student's work: a folder or zip, or loose files gathered from a flat download."""

    id: str
    student: str = ""
    path: Path | None = None
    files: list[Path] = field(default_factory=list)

    def sources(self) -> list[Path]:
        if self.path is None:
            return sorted(self.files)
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*") if p.is_file() and not p.is_symlink())
        return [self.path]


def _gradescope_names(folder: Path) -> dict[str, str]:
    """submission_<id> -> the submitters' names, from Gradescope's metadata file (YAML with
    `submission_<id>:` keys and `:name:` entries; read with a regex, no YAML parser)."""
    meta = folder / "submission_metadata.yml"
    if not meta.is_file():
        return {}
    names: dict[str, list[str]] = {}
    current = None
    for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
        key = re.match(r"^(submission_\d+):\s*$", line)
        if key:
            current = key.group(1)
            names[current] = []
            continue
        name = re.match(r"^\s*-?\s*:name:\s*(.+?)\s*$", line)
        if name and current:
            names[current].append(name.group(1).strip("'\""))
    return {k: "; ".join(v) for k, v in names.items()}


def discover(folder: Path, notes: list[str] | None = None) -> list[Submission]:
    """The submissions in a bulk download folder, in a stable order."""
    notes = notes if notes is not None else []
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS={folder} is not a folder")
    names = _gradescope_names(folder)
    subs: dict[str, Submission] = {}
    canvas: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink() or entry.name == \
                "submission_metadata.yml":
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            match = _CANVAS.match(entry.name)
            if entry.is_file() and match:  # a zip the student uploaded to Canvas
                sub = canvas.setdefault(match["student"] + "_" + match["uid"],
                                        Submission(match["student"] + "_" + match["uid"],
                                                   match["student"]))
                sub.files.append(entry)
                continue
            sid = entry.name[:-4] if entry.is_file() else entry.name
            if sid in subs:
                raise ValueError(f"{folder}: two submissions are called {sid!r} (a folder and "
                                 "a zip?)")
            subs[sid] = Submission(sid, names.get(sid, ""), path=entry)
            continue
        match = _CANVAS.match(entry.name)
        if match:
            key = match["student"] + "_" + match["uid"]
            canvas.setdefault(key, Submission(key, match["student"])).files.append(entry)
        else:
            notes.append(f"{entry.name}: a loose file that is not a Canvas download name; "
                         "ignored")
    for key, sub in canvas.items():
        if key in subs:
            raise ValueError(f"{folder}: {key} is both a folder and a Canvas file prefix")
        zips = [f for f in sub.files if f.suffix.lower() == ".zip"]
        if len(sub.files) == 1 and zips:
            sub.path, sub.files = zips[0], []
        subs[key] = sub
    return [subs[k] for k in sorted(subs)]


def _materialise(sub: Submission, dest: Path) -> Path:
    """A folder or zip the grader can read: loose Canvas files are copied into a folder
    under their original names (the grader accepts `-1` resubmission suffixes)."""
    if sub.path is not None:
        return sub.path
    dest.mkdir(parents=True, exist_ok=True)
    for f in sub.files:
        original = _CANVAS.match(f.name)["name"]
        shutil.copyfile(f, dest / original)
    return dest


def fingerprint(sub: Submission, exercises=None) -> str:
    """A hash of the submission's files, of the grader's tests and of the exercises
    graded: unchanged means the stored result is still the right one."""
    h = hashlib.sha256()
    if exercises:  # a whole grade hashes as before, so stored results stay valid
        h.update(("exercises:" + ",".join(sorted(exercises))).encode())
    for path in sub.sources():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for path in sorted((REPO / "tests").glob("*/test_*.py")) + sorted(
            (REPO / "solutions").glob("ex_*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _grade_one(sub: Submission, out_dir: Path, fresh: bool,
               exercises=None) -> tuple[dict | None, str]:
    """(results, how): how is "graded", "kept" (resumed) or the reason grading failed."""
    target = out_dir / _SAFE_ID.sub("_", sub.id)
    results_path, print_path = target / "results.json", target / "fingerprint.txt"
    stamp = fingerprint(sub, exercises)
    if not fresh and results_path.is_file() and print_path.is_file() \
            and print_path.read_text() == stamp:
        try:
            return json.loads(results_path.read_text(encoding="utf-8")), "kept"
        except json.JSONDecodeError:
            pass
    target.mkdir(parents=True, exist_ok=True)
    source = _materialise(sub, target / "received")
    cmd = [_in_repo(sys.executable), "-m", "autograder", "grade", str(source), "--out",
           str(results_path), "--quiet", "--log", str(target / "grader.log")]
    if exercises:
        cmd += ["--exercises", ",".join(exercises)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if source != sub.path:
        shutil.rmtree(source, ignore_errors=True)
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        results = None
    if proc.returncode != 0 or not results or not results.get("tests"):
        reason = (proc.stderr.strip().splitlines() or ["no results.json"])[-1][:300]
        return None, f"grading failed: {reason}"
    print_path.write_text(stamp)
    return results, "graded"


class Progress:
    """One line per finished submission on stderr, with a bar: what a TA watches."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.lock, self.start = threading.Lock(), time.monotonic()

    def update(self, sub: Submission, results: dict | None, how: str) -> None:
        with self.lock:
            self.done += 1
            filled = int(24 * self.done / max(1, self.total))
            bar = "#" * filled + "." * (24 - filled)
            score = f"{results['score']:g}" if results else "ERROR"
            print(f"[{bar}] {self.done:>4}/{self.total} {time.monotonic() - self.start:6.1f} s  "
                  f"{sub.id:<32} {score:>6}  {'' if how == 'graded' else how}",
                  file=self.stream, flush=True)


def grade_class(folder: Path, out_dir: Path, jobs: int = 1, fresh: bool = False,
                progress: bool = True, exercises=None,
                executor=None) -> list[tuple[Submission, dict | None, str]]:
    """Grade every submission of `folder` into `out_dir` and write the class reports
    (`exercises`: only those, as `grade --exercises`; `executor`: a concurrent.futures
    executor to grade on instead of `jobs` threads here, e.g. cluster.dask_executor)."""
    from autograder.sandbox.client import Limits

    notes: list[str] = []
    subs = discover(folder, notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if jobs > 1 and Limits().isolation().name == "user":
        # One student user is shared by all jobs; clearing its leftover processes after
        # one submission would kill another's.
        print("note: grading one submission at a time (AUTOGRADER_STUDENT_USER is set)",
              file=sys.stderr)
        jobs = 1
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = Progress(len(subs)) if progress else None
    graded: dict[str, tuple[Submission, dict | None, str]] = {}
    pool = executor or ThreadPoolExecutor(max_workers=max(1, jobs))
    with contextlib.nullcontext(pool) if executor else pool:
        futures = {pool.submit(_grade_one, sub, out_dir, fresh, exercises): sub
                   for sub in subs}
        for future in as_completed(futures):
            sub = futures[future]
            try:
                results, how = future.result()
            except Exception as exc:  # noqa: BLE001 - one submission never stops the class
                results, how = None, f"grading failed: {type(exc).__name__}: {exc}"
            graded[sub.id] = (sub, results, how)
            if bar:
                bar.update(sub, results, how)
    rows = [graded[s.id] for s in subs]
    write_reports(rows, out_dir)
    return rows


# ---------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------


def _totals(tests) -> dict[str, float]:
    totals: dict[str, float] = {}
    for t in tests:
        totals[t["tags"][0]] = round(totals.get(t["tags"][0], 0.0) + t["score"], 6)
    return totals


def write_reports(rows, out_dir: Path) -> None:
    """gradebook.csv, pass_rates.csv, histogram.png, misconceptions.csv/.md."""
    ok = [r for _, r, _ in rows if r]
    tests = ok[0]["tests"] if ok else []
    names = [t["name"] for t in tests]
    exercises = list(dict.fromkeys(t["tags"][0] for t in tests)) or list(EXERCISES)
    with open(out_dir / "gradebook.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["submission", "student", "total", *exercises, "status", *names])
        for sub, res, how in rows:
            if res is None:
                w.writerow([sub.id, sub.student, "", *[""] * len(exercises), how])
                continue
            totals = _totals(res["tests"])
            w.writerow([sub.id, sub.student, res["score"], *(totals.get(e, 0) for e in exercises),
                        "ok", *(t["score"] for t in res["tests"])])
    with open(out_dir / "pass_rates.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["test", "max_score", "passed", "graded", "pass_rate"])
        for i, name in enumerate(names):
            passed = sum(r["tests"][i]["status"] == "passed" for r in ok if len(r["tests"]) > i)
            w.writerow([name, tests[i]["max_score"], passed, len(ok),
                        round(passed / len(ok), 3) if ok else ""])
    write_histogram([r["score"] for r in ok], sum(t["max_score"] for t in tests),
                    out_dir / "histogram.png")
    write_misconceptions(rows, out_dir)


def write_histogram(scores: list[float], out_of: float, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.hist(scores, bins=20, range=(0, out_of or 100), color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"total score (out of {out_of:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"Score distribution ({len(scores)} graded submissions)")
    fig.savefig(path, dpi=100)


def misconception_counts(rows) -> list[dict]:
    """Each misconception id with the students who show it and the tests where it showed,
    most common first."""
    seen: dict[str, dict] = {}
    for sub, res, _ in rows:
        for t in (res or {}).get("tests", []):
            if t["status"] == "passed":
                continue
            for mid in ids_in(t.get("output", "")) or [g for g in t["tags"][1:]
                                                       if g in MISCONCEPTIONS]:
                entry = seen.setdefault(mid, {"students": set(), "tests": set()})
                entry["students"].add(sub.id)
                entry["tests"].add(t["name"])
    graded = sum(1 for _, r, _ in rows if r)
    ranked = []
    for mid, entry in seen.items():
        idea, section = MISCONCEPTIONS[mid]
        ranked.append({"id": mid, "students": len(entry["students"]),
                       "share": round(len(entry["students"]) / max(1, graded), 3),
                       "tests": sorted(entry["tests"]), "idea": idea, "guide": section,
                       "submissions": sorted(entry["students"])})
    ranked.sort(key=lambda e: (-e["students"], e["id"]))
    return ranked


def write_misconceptions(rows, out_dir: Path) -> None:
    ranked = misconception_counts(rows)
    with open(out_dir / "misconceptions.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["misconception", "students", "share", "guide_section", "idea", "tests",
                    "submissions"])
        for e in ranked:
            w.writerow([e["id"], e["students"], e["share"], e["guide"], e["idea"],
                        " | ".join(e["tests"]), " ".join(e["submissions"])])
    graded = sum(1 for _, r, _ in rows if r)
    lines = ["# Misconceptions in this class", "",
             f"{graded} submissions graded. Each row is a mistake the tests recognised, with "
             "how many students show it and the guide section to reteach.", "",
             "| misconception | students | share | reteach (guide section) | the idea |",
             "|---|---|---|---|---|"]
    lines += [f"| `{e['id']}` | {e['students']} | {e['share']:.0%} | {e['guide']} | "
              f"{e['idea']} |" for e in ranked]
    if not ranked:
        lines.append("| (none recognised) | | | | |")
    (out_dir / "misconceptions.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
