"""pytest plugin of the grading run (trusted process).

Loaded with `-p autograder.pytest_plugin --staging DIR --outcomes FILE`. It installs the
remote loader, so the tests reach the student's code only through worker processes, and
records the rubric and each test's outcome as JSON lines as they happen, so the grader
still has everything up to the point where a run was killed.

What it records as a test's output is the message the test wrote for the student
(assertion message or the student's own exception), never pytest's traceback, which
would show the test's source and expected values.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest

from autograder import records
from autograder.grade import printable
from autograder.sandbox import isolation, reaper
from autograder.sandbox.client import Limits, RemoteLoader
from autograder.settings import EXERCISE1_POLICIES
from tests.public.harness import exercise_of, rubric_entry
from tests.public.misconceptions import explained, ids_in

MAX_OUTPUT = 4000


def pytest_addoption(parser):
    group = parser.getgroup("autograder")
    group.addoption("--staging", help="staging folder prepared by `autograder grade`")
    group.addoption("--outcomes", help="JSON-lines file the rubric and outcomes go to")
    group.addoption("--budget", type=float,
                    help="seconds that all calls into one student file may take together")
    group.addoption("--isolation", choices=isolation.LEVELS,
                    help="the level the grader detected (default: detect again)")
    group.addoption("--run-only", metavar="EXERCISE",
                    help="run only this exercise's tests; the others are collected, so "
                         "that the rubric lists them, then deselected (`grade --exercises`)")
    group.addoption("--exercise1", choices=EXERCISE1_POLICIES, default="own",
                    help="what Exercises 2-4 run on: the student's own Exercise 1 or the "
                         "reference (settings.EXERCISE1_POLICY)")
    group.addoption(records.KEY_OPTION, type=int, metavar="FD",
                    help="inherited pipe the grader writes the outcome key to (records.py)")


def pytest_configure(config):
    staging = config.getoption("--staging")
    key_fd = config.getoption(records.KEY_OPTION.lstrip("-").replace("-", "_"))
    if staging or key_fd is not None:
        # Before any student process exists: same-uid code cannot then open this
        # process's outcome pipe through /proc/PID/fd, nor read its memory; the grader
        # hands over the key only after this.
        isolation.make_undumpable()
    key = None
    if key_fd is not None:
        key = records.read_key(key_fd)
        if key is None:
            raise pytest.UsageError("the grader did not hand over the outcome key")
    if staging:
        # Processes student code starts and leaves behind become ours, to be killed when
        # a call breaks the limits and when the run ends (RemoteLoader.close).
        reaper.set_subreaper(True)
        budget = config.getoption("--budget")
        limits = Limits(level=config.getoption("--isolation"),
                        **({} if budget is None else {"budget_s": budget}))
        config.student_loader = RemoteLoader(Path(staging), limits,
                                             exercise1=config.getoption("--exercise1"))
    path = config.getoption("--outcomes")
    if path:
        config.pluginmanager.register(Recorder(path, key), "autograder-recorder")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """After the Recorder listed every collected test in the rubric: --run-only."""
    wanted = config.getoption("--run-only")
    if not wanted:
        return
    dropped = [item for item in items if exercise_of(item.nodeid) != wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if exercise_of(item.nodeid) == wanted]


def pytest_runtest_setup(item):
    """The loader hands out Exercise 1 by the exercise whose test runs (the policy)."""
    loader = getattr(item.config, "student_loader", None)
    if loader is not None:
        loader.running = exercise_of(item.nodeid)


def pytest_unconfigure(config):
    loader = getattr(config, "student_loader", None)
    if loader is not None:
        loader.close()


def _message(excinfo) -> str:
    exc = excinfo.value
    if isinstance(exc, AssertionError) or type(exc).__module__.startswith(
            ("autograder.", "tests.")):
        text = str(exc)
    elif isinstance(exc, pytest.skip.Exception):
        text = f"skipped: {exc.msg}. A test that did not run scores 0."
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = printable(text)
    if len(text) > MAX_OUTPUT:
        text = text[:MAX_OUTPUT] + "\n[... cut]"
    return text or "failed"


def _out_of_memory(exc: BaseException) -> bool:
    """`exc`, or an exception it was raised from or during, is a MemoryError."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class Recorder:
    """Writes {"rubric": entry} per collected test, then {"nodeid", "status", "output"}
    per test phase that decides the outcome; signed when the grader gave a key
    (records.py), plain JSON lines otherwise (`make check`)."""

    def __init__(self, path, key: bytes | None = None):
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed at unconfigure
        self.key = key
        self.reclaim = False

    def _emit(self, record: dict):
        self.file.write(records.sign(self.key, record) if self.key else
                        json.dumps(record) + "\n")
        self.file.flush()

    def pytest_collection_modifyitems(self, items):
        for item in items:
            self._emit({"rubric": rubric_entry(item)})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is not None and (report.failed or report.skipped):
            prefix = "(after the test) " if call.when == "teardown" else ""
            report.student_message = prefix + _message(call.excinfo)
            # Only ids a test's own explain() wrote: a student's exception text that
            # says "[misconception: ...]" is not a diagnosis.
            report.misconceptions = [m for m in ids_in(report.student_message)
                                     if m in explained()]
            self.reclaim = self.reclaim or _out_of_memory(call.excinfo.value)

    def pytest_runtest_setup(self, item):
        """After a test that ran out of the trusted side's memory budget, free what its
        traceback still holds (frames, and the cycles through them) before the next test
        runs, so that one test's failure is not every later test's."""
        if self.reclaim:
            self.reclaim = False
            sys.last_type = sys.last_value = sys.last_traceback = None
            if hasattr(sys, "last_exc"):
                sys.last_exc = None
            gc.collect()

    def pytest_runtest_logstart(self, nodeid, location):
        explained(reset=True)

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and report.passed:
            status, output = "passed", ""
        elif report.failed or report.skipped:
            status, output = "failed", getattr(report, "student_message", "failed")
        else:
            return
        self._emit({"nodeid": report.nodeid, "status": status, "output": output,
                    "tags": getattr(report, "misconceptions", []) if status == "failed"
                    else [], "seconds": round(report.duration, 3)})

    def pytest_unconfigure(self):
        self.file.close()
