"""The trusted side survives anything a worker sends or leaves.

Each finding of the red team, graded through the real path (`python -m autograder grade`,
or `grade()` over a small stand-in suite where the point is a stall of the trusted side
itself), asserting the outcome: the attacked calls fail, nothing else does, results.json
lists every test, the grader stays inside its memory and time, nothing is left running
or on disk. The memory findings run inside a 768 MB memory cgroup (Gradescope's default
container) where this machine allows one, else under RLIMIT_AS on the grader.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

import autograder.grade as grading
from autograder.sandbox import isolation
from tests.project import hostile

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)

REPO = Path(__file__).resolve().parents[2]
LIMIT_MB = 768


# ---------------------------------------------------------------------------------------
# Running the grader under a memory limit, and watching what it leaves
# ---------------------------------------------------------------------------------------


class MemoryCgroup:
    """A fresh memory cgroup (v1 or v2) of `mb` with no swap; None where there is none
    this process may create."""

    V1, V2 = Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")

    @classmethod
    def create(cls, mb: int) -> MemoryCgroup | None:
        name = f"autograder-test-{uuid.uuid4().hex[:8]}"
        v2 = "memory" in (cls.V2 / "cgroup.controllers").read_text() if (
            cls.V2 / "cgroup.controllers").exists() else False
        root = cls.V2 if v2 else cls.V1
        settings = ({"memory.max": mb * 2**20, "memory.swap.max": 0} if v2 else
                    {"memory.limit_in_bytes": mb * 2**20,
                     "memory.memsw.limit_in_bytes": mb * 2**20})
        try:
            path = root / name
            path.mkdir()
        except OSError:
            return None
        try:
            for key, value in settings.items():
                if (path / key).exists():
                    (path / key).write_text(str(value))
        except OSError:
            path.rmdir()
            return None
        return cls(path, v2)

    def __init__(self, path: Path, v2: bool):
        self.path, self.v2 = path, v2

    def enter(self) -> None:
        """preexec_fn: the child (and all it starts) joins the cgroup."""
        (self.path / "cgroup.procs").write_text("0")

    def peak_mb(self) -> float | None:
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            return int((self.path / name).read_text()) / 2**20
        except OSError:
            return None

    def oom_kills(self) -> int:
        text = (self.path / ("memory.events" if self.v2 else "memory.oom_control")).read_text()
        fields = text.split()
        return int(fields[fields.index("oom_kill") + 1]) if "oom_kill" in fields else 0

    def processes(self) -> list[int]:
        return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]

    def remove(self) -> None:
        for pid in self.processes():  # only ever a failed test's leftovers
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def _rlimit_as(mb: int):
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mb * 2**20, resource.RLIM_INFINITY))
    return apply


def grade_limited(submission: Path, tmp_path: Path, env: dict | None = None,
                  memory_mb: int = LIMIT_MB) -> dict:
    """`autograder grade` in a subprocess inside `memory_mb` (a cgroup: the whole tree;
    else a soft RLIMIT_AS on the grader and the trusted pytest). Returns results.json
    with "_run": seconds, peak, OOM kills, processes left in the cgroup, and files left in
    the grader's temp folder."""
    out, scratch_root = tmp_path / "results.json", tmp_path / "grader-tmp"
    scratch_root.mkdir(exist_ok=True)
    full_env = dict(os.environ, TMPDIR=str(scratch_root), **(env or {}))
    full_env.pop("IMPL", None)
    cgroup = MemoryCgroup.create(memory_mb)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", str(submission), "--out", str(out),
             "--quiet"], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=900,
            preexec_fn=cgroup.enter if cgroup else _rlimit_as(memory_mb))
        run = {"seconds": time.monotonic() - started, "returncode": proc.returncode,
               "stderr": proc.stderr[-3000:], "limit": "cgroup" if cgroup else "rlimit",
               "left_in_tmp": sorted(p.name for p in scratch_root.iterdir())}
        if cgroup:
            run.update(peak_mb=cgroup.peak_mb(), oom_kills=cgroup.oom_kills(),
                       left_running=cgroup.processes())
    finally:
        if cgroup:
            cgroup.remove()
    assert out.exists(), run
    results = json.loads(out.read_text())
    results["_run"] = run
    return results


def _failed(results) -> dict[str, str]:
    return {t["name"]: t["output"] for t in results["tests"] if t["status"] != "passed"}


def _levels() -> list[pytest.param]:
    """Every isolation level this machine offers, with the environment that selects it."""
    found = [pytest.param({"AUTOGRADER_ISOLATION": "same-user"}, id="same-user")]
    if os.geteuid() == 0 and isolation.user_problem("nobody") is None:
        found.append(pytest.param({"AUTOGRADER_ISOLATION": "user",
                                   "AUTOGRADER_STUDENT_USER": "nobody"}, id="user"))
    if isolation.sandbox_problem(None) is None:
        found.append(pytest.param({"AUTOGRADER_ISOLATION": "sandbox"}, id="sandbox"))
    return found


# ---------------------------------------------------------------------------------------
# Bounded decoding: forged answers
# ---------------------------------------------------------------------------------------

FORGED = {
    "clip_grad_norm": "void_dtype",  # |V0 of shape (10**18,): was a C loop to the run limit
    "adam_step": "many_members",  # 20,000 arrays (200,000: 300 s for one test)
    "accuracy": "json_flood",  # 16 MB of JSON: was 485 MB in the trusted pytest
    "gradient_norm_vs_lag": "large_body",  # 128 MB of arrays: was 3 copies of it
    "init_params": "reused_array",  # one array used 50,000 times: was an OOM kill
}


def test_forged_answers_fail_their_calls_and_nothing_else(tmp_path):
    """Every forgery at once, in a 768 MB container: the grader reads none of them into
    memory or time; the tests of the forging functions (and of train_echo, which calls
    them) fail with the reason; every other test of the exercise keeps its points."""
    res = grade_limited(hostile.submission(tmp_path / "sub", FORGED), tmp_path)
    run = res["_run"]
    assert run["returncode"] == 0, run
    assert run.get("oom_kills", 0) == 0, run
    if run.get("peak_mb") is not None:
        assert run["peak_mb"] < LIMIT_MB, run
    ex01 = [t for t in res["tests"] if t["tags"][0] == "ex01"]
    failed = {t["name"]: t["output"] for t in ex01 if t["status"] != "passed"}
    attacked = (*FORGED, "train_echo")
    stray = {name: out for name, out in failed.items() if not any(f in out for f in attacked)}
    assert not stray, stray
    assert failed and len(failed) < len(ex01) / 2, failed
    reasons = " ".join(failed.values())
    for message in ("dtype", "arrays in one answer", "header of", "body of", "used twice"):
        assert message in reasons, reasons[:3000]
    assert "did not run" not in reasons and "stopped after" not in res["output"]


# ---------------------------------------------------------------------------------------
# Scratch floods, deep folders and processes left behind, at every isolation level
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("level_env", _levels())
def test_file_floods_and_deep_folders_cost_one_call_and_are_cleaned(tmp_path, level_env):
    """A daemon making 200,000 files 400 folders deep, and a chain of 3000 folders: the
    check after the call stops early and fails that call, everything is removed (no
    recursion), the other tests pass, nothing is left running or on disk."""
    attacks = {"plot_gradient_norms": "many_files", "plot_hidden_states": "deep_chain",
               "rnn_step_forward": "sleeper"}
    res = grade_limited(hostile.submission(tmp_path / "sub", attacks), tmp_path, level_env)
    run = res["_run"]
    assert run["returncode"] == 0 and run.get("oom_kills", 0) == 0, run
    failed = _failed(res)
    ex01 = {n: o for n, o in failed.items() if n.startswith("ex01")}
    assert set(ex01) == {n for n in ex01 if "plot_" in n} and len(ex01) == 2, ex01
    assert all("files and folders" in o for o in ex01.values()), ex01
    assert run["left_in_tmp"] == [], run
    assert run.get("left_running", []) == [] and hostile.leftovers() == [], run


def test_plot_files_are_read_without_waiting_and_decoded_within_the_budget(tmp_path):
    """A write lease held on the plot (a plain open() would wait 45 s for it), and a plot
    that would decode to 512 MB: the file under a lease is withheld at once, the image is
    refused from its header (64 million pixels), before any decoding; every other test
    passes, in a 768 MB container."""
    attacks = {"plot_hidden_states": "lease", "plot_gradient_norms": "png_bomb"}
    res = grade_limited(hostile.submission(tmp_path / "sub", attacks), tmp_path)
    run = res["_run"]
    assert run["returncode"] == 0 and run.get("oom_kills", 0) == 0, run
    ex01 = {n: o for n, o in _failed(res).items() if n.startswith("ex01")}
    assert len(ex01) == 2 and all("plot_" in n for n in ex01), ex01
    lease = next(o for n, o in ex01.items() if "plot_hidden_states" in n)
    bomb = next(o for n, o in ex01.items() if "plot_gradient_norms" in n)
    assert "no file at hidden_states.png" in lease, lease
    assert "8000x8000 pixels" in bomb, bomb


# ---------------------------------------------------------------------------------------
# Exercises isolated from each other: a stand-in suite whose trusted side stalls
# ---------------------------------------------------------------------------------------

# (Test names carry the exercise: outside the repository a test's id is its name only.)
STALL_SUITE = {
    "test_ex01_stand_in.py": '''
        import re
        import numpy as np
        import pytest

        def _module(request, exid):
            return request.config.student_loader.module(exid)

        @pytest.mark.points(1)
        def test_ex01_a_memory_hog(request):
            """the trusted side allocates 2 GB: over its budget, this test fails"""
            _module(request, "ex01").spawn()
            np.ones(2**28).sum()

        @pytest.mark.points(2)
        def test_ex01_before_the_stall(request):
            """a test that passes"""
            assert _module(request, "ex01").two() == 2

        @pytest.mark.points(3)
        def test_ex01_the_stall(request):
            """the trusted side loops inside C, where no signal reaches it"""
            re.match(r"(a+)+$", "a" * 64 + "b")

        @pytest.mark.points(4)
        def test_ex01_after_the_stall(request):
            """never runs: the exercise's run was stopped"""
            assert _module(request, "ex01").two() == 2
    ''',
    "test_ex02_stand_in.py": '''
        import pytest

        @pytest.mark.points(5)
        def test_ex02_another_exercise(request):
            """another exercise keeps its points"""
            assert request.config.student_loader.module("ex02").two() == 2
    ''',
}


@pytest.mark.parametrize("level_env", _levels())
def test_a_stalled_exercise_costs_only_itself_and_leaves_nothing(tmp_path, monkeypatch,
                                                                 level_env):
    """One exercise's trusted pytest exceeds its memory budget (that test fails) and then
    stalls in C (stopped at its own time limit, the run-limit path): the other exercise
    keeps its points, every rubric test is listed, the process student code left is
    killed and the temp folder removed."""
    suite = tmp_path / "suite"
    suite.mkdir()
    for name, text in STALL_SUITE.items():
        (suite / name).write_text(textwrap.dedent(text))
    sub = tmp_path / "sub"
    sub.mkdir()
    student = hostile.SCRATCH + "\n\ndef two():\n    return 2\n\n\ndef spawn():\n" \
        "    _daemon(_sleeper, wait=0)\n"
    (sub / "ex_01_basic_rnn.py").write_text(student)
    (sub / "ex_02_time_series_prediction.py").write_text("def two():\n    return 2\n")
    for key, value in level_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(grading, "TEST_DIRS", (str(suite),))
    monkeypatch.setattr(grading, "EXERCISE_TIMEOUT_S", 8.0)
    seen = []
    watching = threading.Event()

    def watch():  # the sleeper must have existed, or "none left" proves nothing
        while not watching.is_set():
            seen.extend(hostile.leftovers())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        res = grading.grade(sub)
    finally:
        watching.set()
        watcher.join()
    seconds = time.monotonic() - started
    scores = {t["name"].split(" ", 1)[1]: t["score"] for t in res["tests"]}
    assert scores == {
        "the trusted side allocates 2 GB: over its budget, this test fails": 0,
        "a test that passes": 2,
        "the trusted side loops inside C, where no signal reaches it": 0,
        "never runs: the exercise's run was stopped": 0,
        "another exercise keeps its points": 5,
    }, res
    outputs = {t["name"].split(" ", 1)[1]: t["output"] for t in res["tests"]}
    assert "MemoryError" in outputs["the trusted side allocates 2 GB: over its budget, "
                                    "this test fails"]
    assert "did not run" in outputs["never runs: the exercise's run was stopped"]
    assert re.search(r"ex01: the grader's tests of this file were stopped after 8 s",
                     res["output"]), res["output"]
    assert seconds < 8 + 30, seconds
    assert seen, "the student's sleeper never started"
    assert hostile.leftovers() == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("rnn-grade-")] == []


def test_the_time_limits_add_up_inside_gradescopes_ten_minutes():
    """Four exercises that all stall fit in the run limit, and that in Gradescope's 10
    minutes; the student's share of an exercise leaves the trusted side time to judge."""
    exercises = 4
    assert exercises * grading.EXERCISE_TIMEOUT_S <= grading.RUN_TIMEOUT_S < 600
    assert grading.STUDENT_SHARE_S < grading.EXERCISE_TIMEOUT_S
    assert grading.TEST_TIMEOUT_S <= grading.EXERCISE_TIMEOUT_S


# ---------------------------------------------------------------------------------------
# check = grade: correct Python scores the same in one process and in the sandbox
# ---------------------------------------------------------------------------------------

# Appended to each reference file: the same functions, returning namedtuples for tuples
# and OrderedDicts for dicts and raising a ValueError subclass of their own. Correct
# Python that a test in one process accepts; the grader lost 13, 6.5 and 0.5 points of 30
# to these before they crossed as plain data.
PLAIN_DATA_VARIANT = '''

import collections as _collections
import functools as _functools


class _ArgumentError(ValueError):
    """This file's own kind of ValueError."""


_RESULT_TYPES = {}


def _plain_data_variant(fn):
    @_functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except ValueError as exc:
            if type(exc) is ValueError:
                raise _ArgumentError(*exc.args) from None
            raise
        if type(out) is tuple:
            key = (fn.__name__, len(out))
            if key not in _RESULT_TYPES:
                _RESULT_TYPES[key] = _collections.namedtuple(
                    f"{fn.__name__}_result", [f"v{i}" for i in range(len(out))])
            return _RESULT_TYPES[key](*out)
        if type(out) is dict:
            return _collections.OrderedDict(out)
        return out
    return wrapper


for _name, _value in list(globals().items()):
    if (not _name.startswith("_") and callable(_value) and not isinstance(_value, type)
            and getattr(_value, "__module__", None) == __name__):
        globals()[_name] = _plain_data_variant(_value)
'''


def _alternatives(folder: Path) -> Path:
    """One submission of every alternative correct solution (tests/fixtures/alt_*/), the
    reference where an exercise has none, each rewritten as PLAIN_DATA_VARIANT."""
    folder.mkdir()
    files = {p.name: p for p in sorted((REPO / "solutions").glob("ex_*.py"))}
    files.update({p.name: p for p in sorted((REPO / "tests" / "fixtures").glob("alt_*/ex_*.py"))})
    for name, path in files.items():
        (folder / name).write_text(path.read_text() + PLAIN_DATA_VARIANT)
    return folder


def _checked(folder: Path, outcomes: Path) -> dict[str, str]:
    """Test name -> passed/failed as `make check` sees it (the student file imported into
    the test process), over the public and hidden suites."""
    subprocess.run([sys.executable, "-m", "pytest", "tests/public", "tests/hidden", "-q",
                    "--tb=no", "-p", "no:cacheprovider", "-p", "autograder.pytest_plugin",
                    "--outcomes", str(outcomes)],
                   cwd=REPO, env=dict(os.environ, IMPL=str(folder)), capture_output=True,
                   timeout=900)
    names, status = {}, {}
    for line in outcomes.read_text().splitlines():
        record = json.loads(line)
        if "rubric" in record:
            names[record["rubric"]["nodeid"]] = record["rubric"]["name"]
        elif status.get(record["nodeid"]) != "failed":
            status[record["nodeid"]] = record["status"]
    return {names[n]: status.get(n, "failed") for n in names}


def test_correct_python_scores_the_same_checked_and_graded(tmp_path):
    """Every alternative correct solution (the reference where there is none), returning
    namedtuples and OrderedDicts and raising its own ValueError subclass: each test
    passes alike in `make check` and in grading, so the points are identical (and full)."""
    folder = _alternatives(tmp_path / "alternatives")
    checked = _checked(folder, tmp_path / "check.jsonl")
    (tmp_path / "run").mkdir()
    graded = {t["name"]: t["status"] for t in grade_limited(folder, tmp_path / "run")["tests"]}
    differ = {test: (checked.get(test), graded.get(test))
              for test in set(checked) | set(graded) if checked.get(test) != graded.get(test)}
    assert not differ, differ
    assert set(graded.values()) == {"passed"}, [t for t, s in graded.items() if s != "passed"]
