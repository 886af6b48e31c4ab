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
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grade import LANES_ENV, _in_repo, exercise1_policy, printable
from autograder.sandbox import cgroups
from autograder.sandbox.client import JOBS_ENV, TIME_SCALE_ENV, grade_tasks
from autograder.sandbox.isolation import EXIT_NO_SANDBOX

REPO = Path(__file__).resolve().parent.parent
# Canvas: <name>_<user id>_<submission id>_<file>, and <name>_LATE_... (any case) when late.
_CANVAS = re.compile(r"^(?P<student>[^_]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sid>\d+)_"
                     r"(?P<name>.+)$", re.IGNORECASE)
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
# A child grade whose sandbox did not start (a loaded machine) is tried this many times in
# all, RETRY_PAUSE_S x the try number apart; then it is reported as not graded.
SANDBOX_TRIES = 3
RETRY_PAUSE_S = 2.0
METADATA = ("submission_metadata.yml", "submission_metadata.json")


@dataclass
class Submission:
    """One submission: a folder or zip, or loose files gathered from a flat download, and
    the students it belongs to (`members`: dicts with name and, where the layout gives
    them, canvas_id, sid, email; a Gradescope group has several)."""

    id: str
    student: str = ""
    path: Path | None = None
    files: list[Path] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    late: bool | None = None  # None: the layout does not say

    def sources(self) -> list[Path]:
        if self.path is None:
            return sorted(self.files)
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*") if p.is_file() and not p.is_symlink())
        return [self.path]

    def people(self) -> list[dict]:
        """The gradebook's students of this submission (at least one: its id)."""
        return self.members or [{"name": self.student or self.id}]

    def late_flag(self) -> str:
        return "" if self.late is None else "yes" if self.late else "no"


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def gradescope_metadata(folder: Path) -> dict[str, list[dict]]:
    """submission_<id> -> its submitters ({name, sid, email}), from the export's
    `submission_metadata.yml` (YAML with `submission_<id>:` keys, `:submitters:` lists of
    `:name:`/`:sid:`/`:email:`; read line by line, no YAML parser) or a JSON file of the
    same shape."""
    meta = folder / "submission_metadata.json"
    if meta.is_file():
        try:
            data = json.loads(meta.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError:
            data = {}
        out = {}
        for key, value in (data.items() if isinstance(data, dict) else ()):
            people = value.get(":submitters", value.get("submitters", [])) \
                if isinstance(value, dict) else []
            out[key] = [{k: str(p.get(":" + k, p.get(k, ""))) for k in ("name", "sid", "email")
                         if p.get(":" + k, p.get(k))} for p in people if isinstance(p, dict)]
        return out
    meta = folder / "submission_metadata.yml"
    if not meta.is_file():
        return {}
    subs: dict[str, list[dict]] = {}
    current, within = None, None  # within: the indent of the `:submitters:` line
    for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
        key = re.match(r"^(submission_\d+):\s*$", line)
        if key:
            current, within = key.group(1), None
            subs[current] = []
            continue
        indent = len(line) - len(line.lstrip(" "))
        if re.match(r"^\s*:submitters:\s*$", line):
            within = indent
            continue
        if within is not None and line.strip() and indent <= within and \
                not line.lstrip().startswith("-"):
            within = None  # the next key of the submission: its submitters are done
        item = re.match(r"^\s*(-\s*)?:(name|sid|email):\s*(.*?)\s*$", line)
        if item and current and within is not None:
            if item.group(1) or not subs[current] or item.group(2) in subs[current][-1]:
                subs[current].append({})  # "- :name:" starts the next submitter
            subs[current][-1][item.group(2)] = _unquote(item.group(3))
    return subs


def _gradescope_names(folder: Path) -> dict[str, str]:
    """submission_<id> -> the submitters' names joined by "; " (for display)."""
    return {k: "; ".join(p.get("name", "") for p in v)
            for k, v in gradescope_metadata(folder).items()}


def _canvas_key(match) -> str:
    return match["student"] + "_" + match["uid"]


def discover(folder: Path, notes: list[str] | None = None) -> list[Submission]:
    """The submissions in a bulk download folder, in a stable order. Every file or folder
    that can belong to a student becomes a submission (a Canvas file marked late too);
    what cannot is named in `notes`."""
    notes = notes if notes is not None else []
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS={folder} is not a folder")
    meta = gradescope_metadata(folder)
    subs: dict[str, Submission] = {}
    canvas: dict[str, Submission] = {}

    def canvas_file(match, entry):
        key = _canvas_key(match)
        sub = canvas.setdefault(key, Submission(
            key, match["student"], members=[{"name": match["student"],
                                             "canvas_id": match["uid"]}], late=False))
        sub.late = sub.late or bool(match["late"])
        sub.files.append(entry)

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink() or entry.name in METADATA:
            continue
        match = _CANVAS.match(entry.name)
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            if entry.is_file() and match:  # a zip the student uploaded to Canvas
                canvas_file(match, entry)
                continue
            sid = entry.name[:-4] if entry.is_file() else entry.name
            if sid in subs:
                raise ValueError(f"{folder}: two submissions are called {sid!r} (a folder and "
                                 "a zip?)")
            people = meta.get(sid, [])
            subs[sid] = Submission(sid, "; ".join(p.get("name", "") for p in people),
                                   path=entry, members=[dict(p) for p in people])
            continue
        if match:
            canvas_file(match, entry)
        else:
            notes.append(f"{entry.name}: a loose file that is not a Canvas download name "
                         "(<name>_<user id>_<submission id>_<file>); ignored")
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


def fingerprint(sub: Submission, exercises=None, exercise1: str = "own") -> str:
    """A hash of the submission's files, of the grader's tests, of the exercises graded
    and of the Exercise 1 policy: unchanged means the stored result is still right."""
    h = hashlib.sha256()
    if exercises:  # a whole grade hashes as before, so stored results stay valid
        h.update(("exercises:" + ",".join(sorted(exercises))).encode())
    if exercise1 != "own":  # likewise for the default policy
        h.update(f"exercise1:{exercise1}".encode())
    for path in sub.sources():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for path in sorted((REPO / "tests").glob("*/test_*.py")) + sorted(
            (REPO / "solutions").glob("ex_*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


STOPPED = "not graded: grade-all was stopped (Ctrl-C) before its turn"
CANCELLED = "not graded: its grade was cancelled (a second Ctrl-C)"


def grade_group(jobs: int, label: str = "grade") -> tuple[cgroups.Group | None, str]:
    """A cgroup for one grade of `jobs` running at once (and everything it starts): its
    processes counted apart from the other grades' (pids.max: its trusted side and a
    worker's limit) and a CPU quota of 1/jobs of this machine's CPUs, so that no
    submission's processes or CPU load reach another's. Its workers' cgroups go inside.
    (None, why) where the machine gives none."""
    return cgroups.Group.create(label, pids=grade_tasks(), cpus=cgroups.cores() / jobs,
                                nested=True)


def grade_env(jobs: int) -> dict[str, str]:
    """What a grade of `jobs` running at once is told: the jobs (its workers' RLIMIT_NPROC
    backstop) and the factor on its wall-clock limits: 1 while its CPU quota is at least
    one CPU (grades hardly use two), else as much as its quota is under one."""
    return {JOBS_ENV: str(jobs),
            TIME_SCALE_ENV: f"{max(1.0, jobs / cgroups.cores()):g}"}


def plan_jobs(jobs: int, level: str) -> tuple[int, str | None]:
    """How many grades may run at once here, and a note when it is fewer than asked for.
    Each needs a cgroup of its own (grade_group): without one, a submission that holds
    processes takes them from the others (RLIMIT_NPROC counts per uid, and every sandbox
    of a batch runs as one uid) and one that spins the CPU slows the others past their
    time limits."""
    if jobs <= 1:
        return 1, None
    if level == "user":
        # One student user is shared by all jobs; clearing its leftover processes after
        # one submission would kill another's.
        return 1, "grading one submission at a time (AUTOGRADER_STUDENT_USER is set)"
    probe, how = grade_group(jobs, "probe")
    if probe is None:
        return 1, (f"grading one submission at a time, not {jobs}: each submission's "
                   f"processes and CPU cannot be kept apart from the others' here ({how}; "
                   "cgroups with the pids and cpu controllers, e.g. as root, are needed)")
    probe.remove()
    return jobs, None


class Interrupt:
    """Ctrl-C during a class run. The first SIGINT stops new grades from starting and lets
    the running ones finish; a second one cancels those (SIGINT to each grade, which
    cleans up after itself, then SIGKILL to its process group if it has not ended in
    CANCEL_GRACE_S). Either way grade_class writes the reports of what is done.

    The grades run in sessions of their own, so a Ctrl-C in the terminal reaches only
    grade-all, which decides."""

    CANCEL_GRACE_S = 20.0

    def __init__(self, stream=sys.stderr):
        self.stopping, self.cancelling = threading.Event(), threading.Event()
        self.running: dict[int, subprocess.Popen] = {}
        self.lock, self.stream, self._previous = threading.Lock(), stream, None
        self.futures: list = []  # grade_class's, so that a stop cancels those not started

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum, frame):
        if not self.stopping.is_set():
            self.stop()
        else:
            self.cancel()

    def stop(self) -> None:
        self.stopping.set()
        for future in self.futures:
            future.cancel()
        with self.lock:
            n = len(self.running)
        print(f"\nCtrl-C: no new grades start; waiting for the {n} running to finish "
              "(Ctrl-C again cancels them). The reports are then written for what is done.",
              file=self.stream, flush=True)

    def cancel(self) -> None:
        self.stopping.set()
        self.cancelling.set()
        with self.lock:
            procs = list(self.running.values())
        print(f"\nCtrl-C again: cancelling {len(procs)} running grades", file=self.stream,
              flush=True)
        for proc in procs:
            _end(proc, self.CANCEL_GRACE_S)

    def track(self, proc: subprocess.Popen) -> None:
        with self.lock:
            self.running[proc.pid] = proc
        if self.cancelling.is_set():  # started in the instant before the cancel
            _end(proc, self.CANCEL_GRACE_S)

    def untrack(self, proc: subprocess.Popen) -> None:
        with self.lock:
            self.running.pop(proc.pid, None)


def _end(proc: subprocess.Popen, grace: float) -> None:
    """SIGINT to a grade (it kills its student processes and removes its files), then
    SIGKILL to its whole process group if it is still there after `grace` seconds."""
    try:
        os.kill(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        return

    def later():
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    threading.Thread(target=later, daemon=True).start()


def submission_dir(out_dir: Path, sub_id: str) -> Path:
    """Where one submission's results.json, fingerprint and log go: under submissions/,
    apart from the class reports, so no submission name can collide with a report's;
    a name that had to be made safe gets a hash of the original, so two never meet."""
    safe = _SAFE_ID.sub("_", sub_id)
    if safe != sub_id:
        safe += "-" + hashlib.sha256(sub_id.encode()).hexdigest()[:8]
    return out_dir / "submissions" / safe


def _grade_one(sub: Submission, out_dir: Path, fresh: bool, exercises=None,
               interrupt: Interrupt | None = None,
               level: str | None = None, jobs: int = 1,
               exercise1: str = "own", one_lane: bool = False) -> tuple[dict | None, str]:
    """(results, how): how is "graded", "kept" (resumed) or why it was not graded.
    `level`: the isolation level the batch decided on; the child grades at it or fails,
    and a child that could not start the sandbox is tried SANDBOX_TRIES times in all.
    `jobs`: the grades running at once on this machine; each runs in a cgroup of its own
    (grade_group) where the machine gives one. `exercise1`: the Exercise 1 policy.
    `one_lane`: one exercise at a time (a Dask worker, which cannot know how many other
    workers share its machine's CPUs; see grade.exercise_lanes)."""
    target = submission_dir(out_dir, sub.id)
    results_path, print_path = target / "results.json", target / "fingerprint.txt"
    stamp = fingerprint(sub, exercises, exercise1)
    if not fresh and results_path.is_file() and print_path.is_file() \
            and print_path.read_text() == stamp:
        try:
            return json.loads(results_path.read_text(encoding="utf-8")), "kept"
        except json.JSONDecodeError:
            pass
    if interrupt is not None and interrupt.stopping.is_set():
        return None, STOPPED
    target.mkdir(parents=True, exist_ok=True)
    print_path.unlink(missing_ok=True)  # a grade cut short must not look finished
    source = _materialise(sub, target / "received")
    cmd = [_in_repo(sys.executable), "-m", "autograder", "grade", str(source), "--out",
           str(results_path), "--quiet", "--log", str(target / "grader.log")]
    if exercises:
        cmd += ["--exercises", ",".join(exercises)]
    cmd += ["--exercise1", exercise1]
    env = dict(os.environ, **({"AUTOGRADER_ISOLATION": level} if level else {}),
               **grade_env(jobs), **({LANES_ENV: "1"} if one_lane else {}))
    try:
        for attempt in range(1, SANDBOX_TRIES + 1):
            group, _ = grade_group(jobs)
            # A session of its own: the terminal's Ctrl-C goes to grade-all alone (Interrupt).
            try:
                proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env,
                                        start_new_session=True,
                                        preexec_fn=group.enter if group else None)
                if interrupt is not None:
                    interrupt.track(proc)
                try:
                    _, stderr = proc.communicate()
                finally:
                    if interrupt is not None:
                        interrupt.untrack(proc)
            finally:
                if group is not None:  # with anything the grade left running
                    group.remove()
            if proc.returncode != EXIT_NO_SANDBOX or attempt == SANDBOX_TRIES or (
                    interrupt is not None and interrupt.stopping.is_set()):
                break
            time.sleep(RETRY_PAUSE_S * attempt)  # a loaded machine: give it a moment
    finally:
        if source != sub.path:
            shutil.rmtree(source, ignore_errors=True)
    if interrupt is not None and interrupt.cancelling.is_set() and proc.returncode != 0:
        return None, CANCELLED
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        results = None
    if proc.returncode != 0 or not results or not results.get("tests"):
        reason = (stderr.strip().splitlines() or ["no results.json"])[-1][:300]
        return None, f"not graded: the grader failed: {reason}"
    print_path.write_text(stamp)
    return results, "graded" if attempt == 1 else (
        f"graded (try {attempt}: the sandbox could not start before)")


class Progress:
    """One line per finished submission on stderr, with a bar: what a TA watches."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.lock, self.start = threading.Lock(), time.monotonic()

    def update(self, sub: Submission, results: dict | None, how: str) -> None:
        with self.lock:
            self.done += 1
            if how == STOPPED:
                return
            filled = int(24 * self.done / max(1, self.total))
            bar = "#" * filled + "." * (24 - filled)
            score = f"{results['score']:g}" if results else "ERROR"
            print(f"[{bar}] {self.done:>4}/{self.total} {time.monotonic() - self.start:6.1f} s  "
                  f"{printable(sub.id):<32} {score:>6}  {'' if how == 'graded' else how}",
                  file=self.stream, flush=True)


class ClassRun(list):
    """grade_class's rows, (Submission, results or None, how) per submission, with what
    the run knows besides: `interrupted` (a Ctrl-C stopped it), `notes` (files of the
    download that are nobody's submission), `people` (gradebook.student_rows)."""

    interrupted: bool = False
    notes: list[str]
    people: list[dict]


def grade_class(folder: Path, out_dir: Path, jobs: int = 1, fresh: bool = False,
                progress: bool = True, exercises=None,
                level: str | None = None, canvas_assignment: str | None = None,
                executor=None, exercise1: str | None = None) -> ClassRun:
    """Grade every submission of `folder` into `out_dir` and write the class reports
    (`exercises`: only those, as `grade --exercises`; `canvas_assignment`: also write
    canvas_import.csv with a column of that name; `executor`: a concurrent.futures
    executor to grade on instead of `jobs` threads here, e.g. cluster.dask_executor).
    `level`: the isolation level every submission is graded at (default: the one
    detected here, once). A Ctrl-C stops it cleanly (Interrupt): the reports then cover
    what was graded, and the same call again resumes. `exercise1`: what Exercises 2-4
    run on, "own" or "reference" (default: settings.EXERCISE1_POLICY)."""
    from autograder.gradebook import write_reports
    from autograder.sandbox.client import Limits

    exercise1 = exercise1_policy(exercise1)
    notes: list[str] = []
    subs = discover(folder, notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    level = level or Limits().isolation().name
    if executor is None:
        jobs, note = plan_jobs(jobs, level)
        if note:
            print(f"note: {note}", file=sys.stderr)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = Progress(len(subs)) if progress else None
    graded: dict[str, tuple[Submission, dict | None, str]] = {}
    pool = executor or ThreadPoolExecutor(max_workers=max(1, jobs))
    # A grade on a Dask worker is not tracked from here: Ctrl-C cancels those not started.
    here = executor is None
    with Interrupt() as interrupt, contextlib.nullcontext(pool) if executor else pool:
        futures = {pool.submit(_grade_one, sub, out_dir, fresh, exercises,
                               interrupt if here else None, level, max(1, jobs),
                               exercise1, not here): sub
                   for sub in subs}
        interrupt.futures = list(futures)
        for future in as_completed(futures):
            sub = futures[future]
            try:
                results, how = future.result()
            except CancelledError:
                results, how = None, STOPPED
            except Exception as exc:  # noqa: BLE001 - one submission never stops the class
                results, how = None, f"not graded: {type(exc).__name__}: {exc}"
            graded[sub.id] = (sub, results, how)
            if bar:
                bar.update(sub, results, how)
    rows = ClassRun(graded[s.id] for s in subs)
    rows.interrupted, rows.notes = interrupt.stopping.is_set(), notes
    rows.people = write_reports(rows, out_dir, canvas_assignment)
    return rows


def misconception_counts(rows) -> list[dict]:
    """See autograder.misconception_report.misconception_counts."""
    from autograder.misconception_report import misconception_counts as counts

    return counts(rows)
