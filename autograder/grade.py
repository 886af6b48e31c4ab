"""Grading one submission, or a folder of them, into Gradescope's results.json.

The process running this module never imports student code. It copies the student's
files into a staging folder, runs the public and hidden tests in a pytest subprocess
(trusted: it computes references and judges) whose `student_loader` reaches the student's
code only through sandboxed worker processes, then turns the recorded outcomes into
results.json against the rubric. A test that never reported (crash, timeout, a killed
run) is listed with 0 and says so.
"""

from __future__ import annotations

import json
import os
import queue
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.records import KEY_OPTION, complete_lines, hand_key, verified
from autograder.sandbox import cgroups
from autograder.sandbox.client import WORKER_CPUS_ENV, Limits, remove_tree, stage
from autograder.sandbox.isolation import clear_keyrings
from autograder.sandbox.reaper import children, descendants, reap_strays, set_subreaper
from autograder.settings import EXERCISE1_POLICIES, EXERCISE1_POLICY, VISIBILITY
from autograder.submission import BadSubmission, collect
from tests.public.harness import EXERCISES
from tests.public.misconceptions import MISCONCEPTIONS

REPO = Path(__file__).resolve().parent.parent
TEST_DIRS = ("tests/public", "tests/hidden")
# The whole test run stops here, so that results.json is written inside Gradescope's
# default 10-minute limit; tests that did not run are listed with 0.
RUN_TIMEOUT_S = float(os.environ.get("AUTOGRADER_RUN_TIMEOUT", "540"))
# Each exercise's tests run in a trusted pytest of their own, each with its own time and
# memory: a stall, crash or memory blow-up while judging one exercise costs that exercise's
# remaining tests, never another's. Four exercises that all stall take 4 x 130 = 520 s,
# inside RUN_TIMEOUT_S, even one after another.
EXERCISE_TIMEOUT_S = float(os.environ.get("AUTOGRADER_EXERCISE_TIMEOUT", "130"))
# How many exercises are graded at once (see exercise_lanes): AUTOGRADER_LANES, 1 or 2;
# unset: 2 where that is safe and the CPUs are there, else 1.
LANES_ENV = "AUTOGRADER_LANES"
# Of an exercise's time, calls into the student's file may take this much in all; the rest
# is the trusted side's (pytest's start, references, judging).
STUDENT_SHARE_S = 30.0
# One test may take this long (pytest-timeout; it cannot stop a loop inside C code, which
# is what the exercise's own limit is for).
TEST_TIMEOUT_S = 90
# Memory the trusted pytest of one exercise may allocate (a soft RLIMIT_DATA; the student
# processes it starts have limits of their own). Gradescope's container has 768 MB.
TRUSTED_MEMORY_MB = int(os.environ.get("AUTOGRADER_TRUSTED_MEMORY_MB", "512"))
MAX_NOTES = 20


def exercise_suites(test_dirs=TEST_DIRS) -> dict[str, list[Path]]:
    """Exercise id -> its test files (public, then hidden), in the rubric's order."""
    suites: dict[str, list[Path]] = {}
    for exid in EXERCISES:
        files = [f for d in test_dirs for f in sorted(Path(REPO, d).glob(f"test_{exid}_*.py"))]
        if files:
            suites[exid] = files
    return suites


def exercise_lanes(limits: Limits) -> tuple[int, str]:
    """How many exercises to grade at once, and why. Two only where each has a CPU of its
    own and nothing one exercise's student code does can reach the other's: the sandbox
    (a PID namespace per worker: nothing outlives it or sees the other), a grade that is
    not one job of a batch (there the jobs share the CPUs), two CPUs by affinity and by
    any CPU quota above this process (cgroups.cpus: a container's half vCPU is one lane),
    and a worker cgroup with a CPU quota (one CPU each: a busy loop in one exercise cannot
    slow the other). Else one at a time, as on one core. AUTOGRADER_LANES=1 asks for one
    at a time."""
    asked = os.environ.get(LANES_ENV, "").strip()
    if asked not in ("", "1", "2"):
        raise ValueError(f"{LANES_ENV}: expected 1 or 2, got {asked!r}")
    if asked == "1":
        return 1, f"{LANES_ENV}=1"
    level, cpus = limits.isolation().name, cgroups.cpus()
    why = (f"the isolation level is {level}, not sandbox" if level != "sandbox" else
           f"one of {limits.jobs} grades at once" if limits.jobs > 1 else
           f"{cpus:g} CPU here" if cpus < 2 else None)
    if why is None:
        probe, how = cgroups.Group.create("lanes-probe", memory_mb=limits.memory_mb,
                                          pids=limits.processes, cpus=1.0)
        if probe is None:
            why = f"a worker cannot have a CPU quota ({how})"
        else:
            probe.remove()
    return (1, why) if why else (2, "two exercises at once, one CPU each")


class _Lanes:
    """The trusted pytests running now, besides `keep` (the grader's own processes from
    before any student code ran): the reap after one exercise spares the other's, and a
    key is handed while only they run. Starting a pytest, handing a key and reaping hold
    one lock, so that none of them sees the other half done."""

    def __init__(self, keep: set[int]):
        self.keep, self.running = keep, set()
        self.lock = threading.Lock()

    @classmethod
    def of(cls, keep: set[int] | _Lanes) -> _Lanes:
        """`keep` itself where it is lanes already, else lanes of its own."""
        return keep if isinstance(keep, _Lanes) else cls(keep)

    def spared(self) -> set[int]:
        """What a reap or a key check leaves alone (call with the lock held)."""
        return self.keep | self.running


def run_tests(staging: Path, timeout: float | None = None, limits: Limits | None = None,
              exercises=None, keep: set[int] | None = None,
              exercise1: str = "own") -> tuple[str, str, list[str]]:
    """Run the graded suites against the staged submission, one trusted pytest per
    exercise (see EXERCISE_TIMEOUT_S), two at a time where exercise_lanes allows; with
    `exercises`, only those, and the others' tests are collected (not run) so that the
    rubric stays whole. Every wall-clock limit (`timeout`: RUN_TIMEOUT_S) is stretched by
    `limits.time_scale` (a batch grade with under one CPU of its own, see batch.py).

    Returns (recorded outcomes as JSON lines, pytest's own output for the grader's log,
    never shown to students, notes for the student on exercises whose run was cut short),
    each in the rubric's order whatever order the exercises ran in. The outcomes come back
    through a pipe that only pytest holds, not a file that student code could find and
    rewrite. After each exercise, every process that student code left behind is killed,
    the run-limit path included: every child of this process but `keep` (the grader's
    own, from before any student code ran; default: those alive now) and the other
    exercise's running pytest, with all below them. `exercise1`: the course policy
    (settings.EXERCISE1_POLICY).
    """
    limits = limits or Limits()
    lanes = _Lanes(children() if keep is None else keep)
    scale = limits.time_scale
    timeout = RUN_TIMEOUT_S * scale if timeout is None else timeout
    deadline = time.monotonic() + timeout
    suites = exercise_suites(TEST_DIRS)
    graded = [exid for exid in suites if not exercises or exid in exercises]
    # Left-out exercises' tests ride along in the first run, collected for the rubric and
    # deselected there (pytest_plugin --run-only): no pytest of their own to start.
    skipped = [f for exid, files in suites.items() if exid not in graded for f in files]
    count, _ = exercise_lanes(limits) if len(graded) > 1 else (1, "")
    # Side by side, the later exercises first: they take longest (torch, the language
    # model), so the two lanes end close together.
    order = graded[::-1] if count > 1 else graded
    rides = {order[0]: skipped} if order else {}
    done: dict[str, tuple[str, str, str | None]] = {}
    # A staging folder per lane, made before any student code ran (the second a copy of
    # the first): the lanes share no scratch, test folders, logs or pytest temp folders.
    free: queue.SimpleQueue[Path] = queue.SimpleQueue()
    free.put(staging)
    if count > 1:
        free.put(stage({p.name: p for p in (staging / "submission").iterdir()},
                       staging.with_name(staging.name + "-2"), staging / "data", limits))

    def grade_one(exid: str) -> None:
        limit = min(EXERCISE_TIMEOUT_S * scale, deadline - time.monotonic())
        if limit <= 1:
            done[exid] = ("", "", f"not graded: the grading run's {timeout:.0f} s were used up")
            return
        extra = (("--run-only", exid) if rides.get(exid) else ()) + ("--exercise1", exercise1)
        files = suites[exid] + rides.get(exid, [])
        folder = free.get()
        try:
            text, log, note = _run_exercise(files, folder, limit, limits, lanes, count, *extra)
        finally:
            free.put(folder)
        if '"rubric"' not in text:  # cut short before it listed its tests: list them now
            text += _collect_rubric(files, lanes)
        done[exid] = (complete_lines(text), f"===== {exid}\n{log}",
                      note and f"{note}; its tests that had not run score 0")

    if count > 1:
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(grade_one, order))
    else:
        for exid in order:
            grade_one(exid)
    records = [done[exid][0] for exid in graded]
    logs = [done[exid][1] for exid in graded if done[exid][1]]
    notes = [f"{exid}: {done[exid][2]}" for exid in graded if done[exid][2]]
    if skipped and not graded:  # no exercise ran to carry them
        records.append(complete_lines(_collect_rubric(skipped, lanes)))
    return "".join(records), "\n".join(logs), notes


def _in_repo(path) -> str:
    """`path` relative to REPO when inside it. The trusted processes run in REPO and
    name it on no command line: /proc/PID/cmdline is readable by every user."""
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(str(REPO) + os.sep) else path


def _pytest(files: list[Path], *options: str) -> list[str]:
    return [_in_repo(sys.executable), "-m", "pytest", *map(_in_repo, files),
            "-c", "pyproject.toml", "-p", "autograder.pytest_plugin", "-o", "addopts=",
            "-p", "no:cacheprovider", "-q", "--tb=no", "--assert=plain", "--no-header",
            *options]


def _start_pytest(cmd: list[str], keep: set[int] | _Lanes, write_fd: int,
                  **popen) -> subprocess.Popen:
    """Start a trusted pytest with the outcome pipe `write_fd` (closed here once passed)
    and hand it the key through a pipe of its own (records.hand_key), once it is
    undumpable and nothing but it runs below this process (besides `keep`, and the other
    lane's pytest where two exercises run at once)."""
    lanes = _Lanes.of(keep)
    key_read, key_write = os.pipe()
    try:
        with lanes.lock:
            proc = subprocess.Popen([*cmd, KEY_OPTION, str(key_read)], cwd=REPO,
                                    pass_fds=(write_fd, key_read), **popen)
            lanes.running.add(proc.pid)
    except BaseException:
        os.close(key_write)
        raise
    finally:
        os.close(key_read)
        os.close(write_fd)

    def others() -> set[int]:
        with lanes.lock:
            return ((children() - lanes.spared()) |
                    (descendants({proc.pid}) - {proc.pid}))

    threading.Thread(target=hand_key, args=(proc.pid, key_write, others), daemon=True).start()
    return proc


def _run_exercise(files: list[Path], staging: Path, limit: float, limits: Limits,
                  lanes: _Lanes, count: int, *options: str) -> tuple[str, str, str | None]:
    """One exercise's trusted pytest, one of `count` running at once: (outcome lines, its
    output, a note if cut short)."""
    read_fd, write_fd = os.pipe()
    scale = limits.time_scale
    budget = max(1.0, min(limits.budget_s * scale, limit - STUDENT_SHARE_S * scale))
    cmd = _pytest(files, "--staging", str(staging), "--outcomes", f"/dev/fd/{write_fd}",
                  "--budget", f"{budget:g}",
                  f"--timeout={min(TEST_TIMEOUT_S * scale, limit):.0f}",
                  "--isolation", limits.isolation().name,
                  # pytest's own temp folders in the grader's: not /tmp/pytest-of-USER,
                  # which student code could create first.
                  "--basetemp", str(staging.parent / f"pytest-{staging.name}"),
                  *options)
    env = {k: v for k, v in os.environ.items() if k != "IMPL"}
    env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    if count > 1:  # its workers get one CPU (see exercise_lanes)
        env[WORKER_CPUS_ENV] = "1"
    proc = _start_pytest(cmd, lanes, write_fd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    _limit_memory(proc.pid)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(read_fd, chunks), daemon=True)
    reader.start()
    note = None
    try:
        out = proc.communicate(timeout=limit)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        out = proc.communicate()[0]
        note = f"the grader's tests of this file were stopped after {limit:.0f} s"
    if proc.returncode is not None and proc.returncode < 0 and note is None:
        note = (f"the grader's tests of this file ended with signal {-proc.returncode} "
                "(out of memory?)")
    limits.kill_leftovers()
    with lanes.lock:
        lanes.running.discard(proc.pid)
        reap_strays(lanes.spared())
    reader.join(timeout=10)
    log = out.decode("utf-8", "replace")
    return b"".join(chunks).decode("utf-8", "replace"), log, note


def _drain(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as fh:
        chunks.extend(iter(lambda: fh.read(65536), b""))


def _collect_rubric(files: list[Path], keep: set[int] | _Lanes) -> str:
    """The rubric entries of `files`, from a collection that runs no student code."""
    lanes = _Lanes.of(keep)
    read_fd, write_fd = os.pipe()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(read_fd, chunks), daemon=True)
    reader.start()
    proc = _start_pytest(_pytest(files, "--collect-only", "--outcomes", f"/dev/fd/{write_fd}"),
                         lanes, write_fd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with lanes.lock:
        lanes.running.discard(proc.pid)
    reader.join(timeout=10)
    return b"".join(chunks).decode("utf-8", "replace")


def _limit_memory(pid: int) -> None:
    """The trusted pytest's memory budget: a soft limit, which the student processes it
    starts lift again for their own (they have RLIMIT_AS)."""
    soft = TRUSTED_MEMORY_MB * 2**20
    try:
        hard = resource.prlimit(pid, resource.RLIMIT_DATA)[1]
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.prlimit(pid, resource.RLIMIT_DATA, (soft, hard))
    except (OSError, AttributeError):  # gone already, or not Linux
        pass


def read_outcomes(text: str) -> tuple[list[dict], dict[str, dict]]:
    """(rubric, outcome per test) from the grading pytest's signed records; a record
    that is not the grader's own raises records.ForgedRecord (the run fails closed)."""
    rubric, outcomes = [], {}
    for record in verified(text):
        if "rubric" in record:
            rubric.append(record["rubric"])
        elif outcomes.get(record["nodeid"], {}).get("status") != "failed":
            # A failure in any phase (setup, call, teardown) fails the test.
            outcomes[record["nodeid"]] = record
    return rubric, outcomes


# Control characters, and the invisible ones that reorder or break lines when shown: bidi
# marks, embeddings, overrides and isolates (U+202E shows text backwards) and the line and
# paragraph separators (a line break in some viewers, none in others).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069\u2028\u2029]")


def printable(text: str) -> str:
    """Student-made text made safe for a terminal and for JSON: no control characters
    (which could rewrite the table on screen), no bidi or line-separator characters (which
    reorder what is shown) and no lone surrogates; each is written as its escape."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: (f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256
                                   else f"\\u{ord(m.group()):04x}"), text)


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
            "visibility": VISIBILITY["public" if entry["visibility"] == "visible"
                                     else "hidden"],
            "output": output,
            # The exercise first (totals read it), then the mistakes the message named.
            # Ids the plugin read from the test's own words (not from student text).
            "tags": [entry["exercise"], *([] if passed or not got else
                                          [m for m in got.get("tags", []) if m in MISCONCEPTIONS])],
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


def grade(submission: Path, out: Path | None = None, log: Path | None = None,
          exercises=None, exercise1: str | None = None) -> dict:
    """Grade one submission; writes results.json to `out` when given and returns it.
    `exercise1`: what Exercises 2-4 run on, "own" or "reference" (default: the course
    setting, settings.EXERCISE1_POLICY); results.json's extra_data says which.

    `exercises` (ids such as "ex02") grades only those, for maintainers: every other
    test is listed with 0 and "not graded in this run", so the rubric stays the same."""
    start = time.monotonic()
    exercise1 = exercise1_policy(exercise1)
    limits = Limits()
    level = limits.isolation()  # tried now; raises if the level asked for is not here
    tmp = Path(tempfile.mkdtemp(prefix="rnn-grade-"))
    was_subreaper = set_subreaper(True)
    keep = children()
    try:
        try:
            files, notes = collect(Path(submission), tmp / "received")
        except BadSubmission as exc:
            files, notes = {}, [str(exc)]
        if level.name == "user":
            limits.kill_leftovers()
            # The student user may pass through to staging/, but not list or write here.
            os.chmod(tmp, 0o711)
            warn_if_readable_by_others()
        staging = stage(files, tmp / "staging", REPO / "data", limits)
        recorded_text, pytest_output, run_notes = run_tests(staging, limits=limits,
                                                            exercises=exercises, keep=keep,
                                                            exercise1=exercise1)
        later = not exercises or {"ex02", "ex03", "ex04"} & set(exercises)
        notes += run_notes + ([EXERCISE1_NOTE] if exercise1 == "reference" and later else [])
        rubric, recorded = read_outcomes(recorded_text)
        recorded.update(_not_graded(rubric, exercises))
        # Tests collected apart come first; the rubric's order is the exercises'.
        rubric.sort(key=lambda entry: list(EXERCISES).index(entry["exercise"]))
        if exercises:
            notes.append(f"only {', '.join(sorted(exercises))} graded; the other tests score 0 "
                         "(not graded in this run)")
    finally:
        # Whatever happened, student processes die first, then their files go (without
        # recursion: a folder chain 3000 deep is no reason to fail the submission).
        limits.kill_leftovers()
        reap_strays(keep)
        set_subreaper(was_subreaper)
        problem = clear_keyrings(limits.ids())
        if problem:
            print(f"warning: the student user's keyrings were not cleared: {problem}",
                  file=sys.stderr)
        if not remove_tree(tmp):
            print(f"warning: could not remove all of {tmp}", file=sys.stderr)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(pytest_output, encoding="utf-8")
    if not rubric:
        raise RuntimeError(f"the grader's own tests did not collect:\n{pytest_output[-3000:]}")
    graded_files = {EXERCISES[entry["exercise"]] for entry in rubric
                    if not exercises or entry["exercise"] in exercises}
    notes = [n for n in notes if "not in the submission" not in n
             or n.split(":")[0] in graded_files]
    results = build_results(rubric, recorded, notes, time.monotonic() - start)
    # For the instructor (Gradescope shows extra_data to no student): how student code ran.
    results["extra_data"] = {"isolation": level.as_dict(), "exercise1_policy": exercise1}
    if out is not None:
        write_json(results, out)
    return results


EXERCISE1_NOTE = ("course policy: Exercises 2-4 were graded with the reference Exercise 1 in "
                  "place of yours, so a mistake in Exercise 1 costs Exercise 1's points only")


def exercise1_policy(value: str | None = None) -> str:
    """The policy a grade uses: `value`, else settings.EXERCISE1_POLICY; checked."""
    value = EXERCISE1_POLICY if value is None else value
    if value not in EXERCISE1_POLICIES:
        raise ValueError(f"EXERCISE1_POLICY (autograder/settings.py) or --exercise1: expected "
                         f"one of {', '.join(EXERCISE1_POLICIES)}, got {value!r}")
    return value


def _not_graded(rubric: list[dict], exercises) -> dict[str, dict]:
    """Outcomes of the tests that `exercises` leaves out: failed, saying why."""
    if not exercises:
        return {}
    note = f"not graded in this run (only {', '.join(sorted(exercises))} were)"
    return {e["nodeid"]: {"nodeid": e["nodeid"], "status": "failed", "output": note}
            for e in rubric if e["exercise"] not in exercises}


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
