"""Grading one submission, or a folder of them, into Gradescope's results.json.

The process running this module never imports student code. It copies the student's
files into a staging folder, runs the public and hidden tests in a pytest subprocess
(trusted: it computes references and judges) whose `student_loader` reaches the student's
code only through sandboxed worker processes, then turns the recorded outcomes into
results.json against the rubric. A test that never reported (crash, timeout, a killed
run) is listed with 0 and says so.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.sandbox.client import Limits, stage
from autograder.submission import BadSubmission, collect
from tests.public.harness import EXERCISES
from tests.public.misconceptions import ids_in

REPO = Path(__file__).resolve().parent.parent
TEST_DIRS = ("tests/public", "tests/hidden")
# The whole test run stops here, so that results.json is written inside Gradescope's
# default 10-minute limit; tests that did not run are listed with 0.
RUN_TIMEOUT_S = float(os.environ.get("AUTOGRADER_RUN_TIMEOUT", "540"))
MAX_NOTES = 20


def run_tests(staging: Path, timeout: float = RUN_TIMEOUT_S) -> tuple[str, str]:
    """Run the graded suites against the staged submission.

    Returns (recorded outcomes as JSON lines, pytest's own output for the grader's log,
    never shown to students). The outcomes come back through a pipe that only pytest
    holds, not a file that student code could find and rewrite.
    """
    dirs = [d for d in TEST_DIRS if (REPO / d).is_dir()]
    read_fd, write_fd = os.pipe()
    cmd = [sys.executable, "-m", "pytest", *dirs, "-c", str(REPO / "pyproject.toml"),
           "-p", "autograder.pytest_plugin", "--staging", str(staging),
           "--outcomes", f"/dev/fd/{write_fd}", "-o", "addopts=", "-p", "no:cacheprovider",
           "-q", "--tb=no", "--assert=plain", "--timeout=300", "--no-header"]
    env = {k: v for k, v in os.environ.items() if k != "IMPL"}
    env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    chunks: list[bytes] = []

    def drain():
        with os.fdopen(read_fd, "rb") as fh:
            chunks.extend(iter(lambda: fh.read(65536), b""))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=timeout, pass_fds=(write_fd,))
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else ""
        log = f"the test run was stopped after {timeout:.0f} s\n{out}"
    finally:
        os.close(write_fd)
    reader.join(timeout=10)
    return b"".join(chunks).decode("utf-8", "replace"), log


def read_outcomes(text: str) -> tuple[list[dict], dict[str, dict]]:
    rubric, outcomes = [], {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a killed run
            continue
        if "rubric" in record:
            rubric.append(record["rubric"])
        elif outcomes.get(record["nodeid"], {}).get("status") != "failed":
            # A failure in any phase (setup, call, teardown) fails the test.
            outcomes[record["nodeid"]] = record
    return rubric, outcomes


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Student-made text made safe for a terminal and for JSON: no control characters
    (which could rewrite the table on screen) and no lone surrogates."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def build_results(rubric, outcomes, notes, seconds) -> dict:
    tests = []
    for number, entry in enumerate(rubric, start=1):
        got = outcomes.get(entry["nodeid"])
        passed = got is not None and got["status"] == "passed"
        output = got["output"] if got else (
            "did not run: the test run stopped before this test (a crash or the time limit)")
        tests.append({
            "name": entry["name"],
            "score": entry["points"] if passed else 0.0,
            "max_score": entry["points"],
            "status": "passed" if passed else "failed",
            "visibility": entry["visibility"],
            "output": output,
            # The exercise first (totals read it), then the mistakes the message named.
            "tags": [entry["exercise"], *([] if passed else ids_in(output))],
            "number": str(number),
        })
    # Students see this at once: only public points, or it would tell hidden results.
    public = exercise_totals([t for t in tests if t["visibility"] == "visible"])
    lines = [f"{ex}: {got:g}/{out:g} public points (hidden tests are shown after grades "
             "are published)" for ex, (got, out) in public.items()]
    notes = [printable(n) for n in notes]
    if len(notes) > MAX_NOTES:
        notes = notes[:MAX_NOTES] + [f"... and {len(notes) - MAX_NOTES} more notes"]
    return {
        "score": round(sum(t["score"] for t in tests), 6),
        "execution_time": round(seconds, 2),
        "output": "\n".join(notes + lines),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def exercise_totals(tests) -> dict[str, tuple[float, float]]:
    totals: dict[str, list[float]] = {}
    for test in tests:
        t = totals.setdefault(test["tags"][0], [0.0, 0.0])
        t[0] += test["score"]
        t[1] += test["max_score"]
    return {ex: (round(a, 6), round(b, 6)) for ex, (a, b) in totals.items()}


def grade(submission: Path, out: Path | None = None, log: Path | None = None) -> dict:
    """Grade one submission; writes results.json to `out` when given and returns it."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as tmp:
        tmp = Path(tmp)
        try:
            files, notes = collect(Path(submission), tmp / "received")
        except BadSubmission as exc:
            files, notes = {}, [str(exc)]
        limits = Limits()
        if limits.ids() is not None:
            limits.check_user()
            limits.kill_leftovers()
            # The student user may pass through to staging/, but not list or write here.
            os.chmod(tmp, 0o711)
            warn_if_readable_by_others()
        staging = stage(files, tmp / "staging", REPO / "data", limits)
        recorded_text, pytest_output = run_tests(staging)
        rubric, recorded = read_outcomes(recorded_text)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(pytest_output, encoding="utf-8")
    if not rubric:
        raise RuntimeError(f"the grader's own tests did not collect:\n{pytest_output[-3000:]}")
    graded_files = {EXERCISES[entry["exercise"]] for entry in rubric}
    notes = [n for n in notes if "not in the submission" not in n
             or n.split(":")[0] in graded_files]
    results = build_results(rubric, recorded, notes, time.monotonic() - start)
    if out is not None:
        write_json(results, out)
    return results


def warn_if_readable_by_others() -> None:
    """Student code running as another user can still read what the world may read."""
    for name in ("solutions", "tests/hidden", "tests/fixtures", "tests/project"):
        path = REPO / name
        if path.exists() and path.stat().st_mode & 0o005:
            print(f"warning: {path} is readable by other users, so by student code too; "
                  f"chmod -R go-rwx {path}", file=sys.stderr)


def failed_results(message: str) -> dict:
    """What Gradescope gets when grading itself failed: 0 and the reason, not nothing."""
    return {"score": 0.0, "execution_time": 0.0, "stdout_visibility": "hidden", "tests": [],
            "output": f"The autograder could not grade this submission: {message}. "
                      "Please tell the course staff."}


def write_json(data: dict, path: Path) -> None:
    """Write atomically: a reader never sees half a results.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def format_table(results: dict, title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"{'score':>9}  {'status':<6}  test")
    lines.append("-" * 100)
    for t in results["tests"]:
        mark = "" if t["visibility"] == "visible" else "  [hidden]"
        lines.append(f"{t['score']:>4g}/{t['max_score']:<4g}  {t['status']:<6}  {t['name']}{mark}")
        if t["status"] != "passed":
            first = (t["output"].strip().splitlines() or ["failed"])[0]
            lines.append(f"{'':>19}-> {first[:160]}")
    lines.append("-" * 100)
    for ex, (got, out) in exercise_totals(results["tests"]).items():
        lines.append(f"{ex} ({EXERCISES[ex]}): {got:g}/{out:g}")
    total = sum(t["max_score"] for t in results["tests"])
    lines.append(f"TOTAL: {results['score']:g}/{total:g}   "
                 f"({results['execution_time']:.1f} s)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# A folder of submissions
# ---------------------------------------------------------------------------------------


def submissions_in(folder: Path) -> list[Path]:
    """Each sub-folder or .zip of `folder` is one submission."""
    entries = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]
    return [p for p in entries if p.is_dir() or p.suffix.lower() == ".zip"]


def _grade_in_subprocess(submission: Path, out_dir: Path) -> dict:
    out = out_dir / "results.json"
    cmd = [sys.executable, "-m", "autograder", "grade", str(submission), "--out", str(out),
           "--quiet", "--log", str(out_dir / "grader.log")]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(proc.stderr[-2000:] or proc.stdout[-2000:])
    return json.loads(out.read_text(encoding="utf-8"))


def grade_all(folder: Path, out_dir: Path, jobs: int = 1) -> list[tuple[str, dict | None]]:
    if jobs > 1 and Limits().ids() is not None:
        # One student user is shared by all jobs; clearing its leftover processes after
        # one submission would kill another's.
        print("note: grading one submission at a time (AUTOGRADER_STUDENT_USER is set)",
              file=sys.stderr)
        jobs = 1
    subs = submissions_in(folder)
    names = [s.name[:-4] if s.suffix.lower() == ".zip" else s.name for s in subs]
    if len(set(names)) != len(names):
        raise ValueError(f"{folder}: two submissions share a name (a folder and a zip?)")

    def one(pair):
        sub, name = pair
        try:
            return name, _grade_in_subprocess(sub, out_dir / name)
        except RuntimeError as exc:
            print(f"{name}: grading failed: {exc}", file=sys.stderr)
            return name, None

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        graded = list(pool.map(one, zip(subs, names, strict=False)))
    write_gradebook(graded, out_dir)
    return graded


def write_gradebook(graded, out_dir: Path) -> None:
    """gradebook.csv (a row per submission) and pass_rates.csv (a row per test)."""
    tests = next((r["tests"] for _, r in graded if r), [])
    names = [t["name"] for t in tests]
    exercises = list(dict.fromkeys(t["tags"][0] for t in tests))
    with open(out_dir / "gradebook.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["submission", "total", *exercises, *names])
        for name, res in graded:
            if res is None:
                w.writerow([name, "ERROR"])
                continue
            totals = exercise_totals(res["tests"])
            w.writerow([name, res["score"], *(totals[e][0] for e in exercises),
                        *(t["score"] for t in res["tests"])])
    ok = [r for _, r in graded if r]
    with open(out_dir / "pass_rates.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["test", "max_score", "passed", "graded", "pass_rate"])
        for i, test_name in enumerate(names):
            passed = sum(r["tests"][i]["status"] == "passed" for r in ok)
            w.writerow([test_name, tests[i]["max_score"], passed, len(ok),
                        round(passed / len(ok), 3) if ok else ""])
