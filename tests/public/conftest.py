"""Fixtures that hand each test the student's module, and the points table of `make check`.

`make check` imports your file into this process (set IMPL=solutions to test the
reference). The grader installs a loader that runs your file in a separate process
instead; the tests and their points are the same.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tests.public.harness import (
    EXERCISES,
    REPO,
    SubmissionError,
    load_in_process,
    rubric_entry,
)

_local_cache: dict = {}


def _student(request, exid: str):
    loader = getattr(request.config, "student_loader", None)
    if loader is not None:
        return loader.module(exid)
    impl = Path(os.environ.get("IMPL") or "assignments")
    impl = impl if impl.is_absolute() else REPO / impl
    key = (str(impl), exid)
    if key not in _local_cache:
        try:
            _local_cache[key] = load_in_process(exid, impl)
        except SubmissionError as exc:
            _local_cache[key] = exc
    found = _local_cache[key]
    if isinstance(found, SubmissionError):
        raise found
    return found


@pytest.fixture
def ex01(request):
    """The student's ex_01_basic_rnn module."""
    return _student(request, "ex01")


@pytest.fixture
def ex02(request):
    return _student(request, "ex02")


@pytest.fixture
def ex03(request):
    return _student(request, "ex03")


@pytest.fixture
def ex04(request):
    return _student(request, "ex04")


@pytest.fixture
def student_tmp(request, tmp_path):
    """A folder that student code may write into (plots) and the test can read."""
    loader = getattr(request.config, "student_loader", None)
    if loader is not None:
        return loader.scratch_dir(request.node.name)
    return tmp_path


# ---------------------------------------------------------------------------------------
# The points table printed at the end of `make check`
# ---------------------------------------------------------------------------------------

_outcomes: dict = {}


def pytest_runtest_logreport(report):
    if "/public/" not in report.nodeid.replace("\\", "/"):
        return
    previous = _outcomes.get(report.nodeid)
    if report.failed or report.skipped:
        if previous is None or previous[0] == "passed":
            _outcomes[report.nodeid] = ("failed", _reason(report))
    elif report.when == "call" and previous is None:
        _outcomes[report.nodeid] = ("passed", "")


def _reason(report) -> str:
    if report.skipped:
        return "skipped (a skipped test scores 0)"
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    first = text.strip().splitlines()[0] if text.strip() else "failed"
    if first.startswith("NotImplementedError"):
        return "not implemented yet: " + first.partition(":")[2].strip()
    return first.removeprefix("AssertionError: ")


def wrap_reason(reason: str, width: int = 100, indent: int = 19) -> list[str]:
    """The whole reason as lines of at most `width` characters: `-> ` on the first line,
    the rest under it. Nothing is cut: the teaching sentence and the guide section often
    come last."""
    first = " " * indent + "-> "
    return textwrap.wrap(reason, width=width, initial_indent=first,
                         subsequent_indent=" " * len(first), break_long_words=False,
                         break_on_hyphens=False) or [first.rstrip()]


def _exercise_file(exid: str) -> Path:
    impl = Path(os.environ.get("IMPL") or "assignments")
    return (impl if impl.is_absolute() else REPO / impl) / EXERCISES[exid]


def rerun_hints(first_failures: dict) -> list[str]:
    """One rerun command per exercise with a failure (exercise id -> its first failing
    test), the exercise whose file changed last first: the one the student works on."""
    def changed(exid):
        try:
            return _exercise_file(exid).stat().st_mtime
        except OSError:
            return 0.0
    order = sorted(first_failures, key=changed, reverse=True)
    lines = []
    for k, exid in enumerate(order):
        label = f"{exid}, the file you changed last" if k == 0 and len(order) > 1 else exid
        lines.append(f"  make check T='{first_failures[exid]}'   ({label})")
    return lines


def pytest_terminal_summary(terminalreporter, config):
    if getattr(config, "student_loader", None) is not None or not _outcomes:
        return
    entries = {}
    for item in getattr(config, "_public_items", []):
        if item.nodeid in _outcomes:
            entries[item.nodeid] = rubric_entry(item)
    write = terminalreporter.write_line
    write("")
    write(f"{'points':>9}  {'result':<6}  test")
    write("-" * 100)
    totals: dict = {}
    first_failures: dict = {}
    failed = 0
    for nodeid, entry in entries.items():
        status, reason = _outcomes[nodeid]
        got = entry["points"] if status == "passed" else 0.0
        tot = totals.setdefault(entry["exercise"], [0.0, 0.0])
        tot[0] += got
        tot[1] += entry["points"]
        write(f"{got:>4g}/{entry['points']:<4g}  {status.upper():<6}  {entry['name']}")
        if status != "passed":
            failed += 1
            for line in wrap_reason(reason):
                write(line)
            first_failures.setdefault(entry["exercise"], nodeid)
    write("-" * 100)
    for exid, (got, out_of) in totals.items():
        write(f"{exid} ({EXERCISES[exid]}): {got:g}/{out_of:g} public points")
    got_all = sum(t[0] for t in totals.values())
    out_all = sum(t[1] for t in totals.values())
    write(f"Total: {got_all:g}/{out_all:g} public points. Hidden tests run when you submit; "
          "they use other sizes and seeds.")
    if first_failures and len(entries) > 1:
        write("Rerun the first failing test with its details:")
        for line in rerun_hints(first_failures):
            write(line)
    if failed:
        write(f"{failed} of {len(entries)} public tests failed.")


def pytest_collection_modifyitems(session, config, items):
    config._public_items = [i for i in items if "/public/" in i.nodeid.replace("\\", "/")]
