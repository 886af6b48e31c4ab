"""The otter-grader route, inside otter's kernel: runs our own tests on the submission.

`make otter` (tools/otter/build.py) ships this file, as `autograder/otter_bridge.py`, in
the otter assignment's support folder together with tests/public, tests/hidden, the
reference (the hidden tests compare with it), data/ and autograder/submission.py.
Otter executes the assignment's driver notebook and then its test files in one Jupyter
kernel; both come here:

- `prepare()` (the driver notebook) finds the student's files in the submission folder
  with the engine's own `autograder.submission.collect` (the same names, renamings,
  nesting and choice among copies), copies them into a staging folder laid out like the
  engine's (`submission/` next to `data/`) and points `IMPL` at it, as `make check` does;
- `check(nodeid)` (one otter test case per rubric test) runs that exercise's public and
  hidden tests with pytest in this process, once per exercise as the engine does, and
  fails the case with the test's own message when the test did not pass.

So otter scores each rubric test with the same test function as the engine, and the two
cannot drift apart. What otter cannot give is the engine's boundary: the student's code
is imported into this kernel, next to the tests, the reference and otter itself (see the
docs/instructors.md, "otter-grader").

Only the standard library, pytest and what the tests import are used here: this runs in
otter's environment, not in ours.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent.parent  # the support folder: tests/, solutions/, data/
DRIVER = "module3_otter.ipynb"
# What otter and this assignment put into the submission folder; never the student's.
NOT_STUDENT = {SUPPORT.name, DRIVER, "tests", "__init__.py", "__pycache__"}
TEST_DIRS = ("tests/public", "tests/hidden")
TEST_TIMEOUT_S = 90  # the engine's per-test limit (autograder/grade.py TEST_TIMEOUT_S)
MAX_OUTPUT = 4000

_state: dict = {"impl": None, "notes": [], "outcomes": {}}


def prepare(submission: str | os.PathLike | None = None) -> Path:
    """Stage the student's files of `submission` (default: the current folder, where otter
    runs the driver) and point IMPL at them. Idempotent."""
    if _state["impl"] is not None:
        return _state["impl"]
    if str(SUPPORT) not in sys.path:
        sys.path.insert(0, str(SUPPORT))
    os.environ["MPLBACKEND"] = "Agg"  # as in `make check` and the engine: no inline figures
    with contextlib.suppress(Exception):
        import matplotlib

        matplotlib.use("Agg", force=True)
    from autograder.submission import BadSubmission, collect

    source = Path(submission or Path.cwd()).resolve()
    work = Path(tempfile.mkdtemp(prefix="module3-otter-"))
    atexit.register(shutil.rmtree, work, True)
    received = work / "received"
    received.mkdir()
    for entry in sorted(source.iterdir()):
        if entry.name in NOT_STUDENT or entry.is_symlink():
            continue
        if entry.is_dir():
            shutil.copytree(entry, received / entry.name, symlinks=True)
        elif entry.is_file():
            shutil.copy2(entry, received / entry.name)  # dates too: they break ties
    try:
        files, notes = collect(received, work / "submission")
    except BadSubmission as exc:
        (work / "submission").mkdir(exist_ok=True)
        files, notes = {}, [str(exc)]
    shutil.rmtree(received, ignore_errors=True)
    if (SUPPORT / "data").is_dir():
        shutil.copytree(SUPPORT / "data", work / "data")
    os.environ["IMPL"] = str(work / "submission")
    _state.update(impl=work / "submission", notes=notes, work=work)
    for note in notes:
        print(note)
    print(f"graded files: {', '.join(sorted(files)) or 'none'}")
    return _state["impl"]


def _message(excinfo) -> str:
    """What the engine's recorder reports for a failed test (autograder/pytest_plugin.py)."""
    import pytest

    exc = excinfo.value
    if isinstance(exc, AssertionError) or type(exc).__module__.startswith(
            ("autograder.", "tests.")):
        text = str(exc)
    elif isinstance(exc, pytest.skip.Exception):
        text = f"skipped: {exc.msg}. A test that did not run scores 0."
    else:
        text = f"{type(exc).__name__}: {exc}"
    if len(text) > MAX_OUTPUT:
        text = text[:MAX_OUTPUT] + "\n[... cut]"
    return text or "failed"


class _Recorder:
    """Outcome per test: failed if any phase (setup, call, teardown) failed or skipped,
    passed if its call passed; as the engine reads its records (grade.read_outcomes)."""

    def __init__(self):
        self.outcomes: dict[str, tuple[str, str]] = {}

    def pytest_runtest_makereport(self, item, call):
        if call.excinfo is not None:
            prefix = "(after the test) " if call.when == "teardown" else ""
            self._pending = prefix + _message(call.excinfo)
        else:
            self._pending = None

    def pytest_runtest_logreport(self, report):
        previous = self.outcomes.get(report.nodeid)
        if previous is not None and previous[0] == "failed":
            return
        if report.failed or report.skipped:
            self.outcomes[report.nodeid] = ("failed", getattr(self, "_pending", None) or "failed")
        elif report.when == "call" and report.passed:
            self.outcomes[report.nodeid] = ("passed", "")


def run_exercise(exid: str) -> dict[str, tuple[str, str]]:
    """Run `exid`'s public then hidden tests once (pytest, in this process) and keep each
    test's (status, message), keyed by node id relative to the support folder."""
    if exid in _state["outcomes"]:
        return _state["outcomes"][exid]
    import pytest

    prepare()
    files = [str(path) for d in TEST_DIRS
             for path in sorted((SUPPORT / d).glob(f"test_{exid}_*.py"))]
    recorder = _Recorder()
    log = io.StringIO()
    (_state["work"] / "pytest").mkdir(exist_ok=True)
    args = [*files, "-c", str(SUPPORT / "pytest.ini"), "--rootdir", str(SUPPORT),
            "-o", "addopts=", "-p", "no:cacheprovider", "-q", "--tb=no", "--assert=plain",
            "--no-header", f"--timeout={TEST_TIMEOUT_S}",
            "--basetemp", str(_state["work"] / "pytest" / exid)]
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        pytest.main(args, plugins=[recorder])  # node ids are relative to --rootdir
    _state["outcomes"][exid] = recorder.outcomes
    _state.setdefault("logs", {})[exid] = log.getvalue()
    return recorder.outcomes


def check(nodeid: str) -> None:
    """Otter test case body: pass if our test `nodeid` passed, else raise its message."""
    exid = nodeid.split("::")[0].rsplit("/", 1)[-1][len("test_"):][:4]
    status, message = run_exercise(exid).get(
        nodeid, ("failed", "did not run: the test run stopped before this test "
                           "(a crash or the time limit)"))
    if status != "passed":
        raise AssertionError(message)
