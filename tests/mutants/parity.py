"""`make check` and the grade must agree (issue 26): the same submission, tested in one
process as `make check` does (IMPL=folder) and graded through the sandboxed student
process, must pass and fail the same tests.

`in_process` runs an exercise's public and hidden tests on a folder in-process and records
each test's outcome with the grader's own pytest plugin (its `--outcomes` file, without a
staging folder, so no student process is started); `differences` compares that with a
graded results.json, test by test.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import zlib
from pathlib import Path

from autograder.grade import TEST_TIMEOUT_S, _pytest, exercise_suites
from tests.mutants.catalogue import REPO

# A whole exercise in one process: the reference takes 5 to 12 s, far less than this.
RUN_LIMIT_S = 600

# Mutants whose mistake crosses the boundary in a way a plain numeric mistake does not:
# what an exception says, what a function does to its arguments, memory shared with the
# caller's arrays. `make test` compares these always, and a sample of the others.
BOUNDARY_MUTANTS = (
    "forward_without_validation",
    "params_share_memory",
)
SAMPLE_ONE_IN = 8


def sampled(name: str, family: str | None = None) -> bool:
    """The catalogued mutants `make test` compares: the boundary ones, the mistakes of
    the mutation family, and a fixed one in SAMPLE_ONE_IN of the rest (by a hash of the
    name, so the sample is the same on every machine and grows with the catalogue)."""
    return (name in BOUNDARY_MUTANTS or family == "mutation"
            or zlib.crc32(name.encode()) % SAMPLE_ONE_IN == 0)


def in_process(folder: Path, exercise: str) -> dict[str, str]:
    """test name -> "passed" or "failed": `folder`'s `exercise` tests run as `make check`
    runs them (IMPL=folder, the student's module imported into the tests' process)."""
    files = exercise_suites()[exercise]
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        outcomes = Path(tmp) / "outcomes.jsonl"
        cmd = _pytest(files, "--outcomes", str(outcomes), f"--timeout={TEST_TIMEOUT_S}",
                      "--basetemp", str(Path(tmp) / "pytest"))
        env = {**os.environ, "IMPL": str(Path(folder).resolve())}
        proc = subprocess.run(cmd, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=RUN_LIMIT_S)
        text = outcomes.read_text(encoding="utf-8") if outcomes.exists() else ""
    names, status = {}, {}
    for line in text.splitlines():
        record = json.loads(line)
        if "rubric" in record:
            names[record["rubric"]["nodeid"]] = record["rubric"]["name"]
        elif status.get(record["nodeid"]) != "failed":  # a failure in any phase fails it
            status[record["nodeid"]] = record["status"]
    if not names:
        raise RuntimeError(f"{folder}: the in-process run listed no test (exit "
                           f"{proc.returncode}): {proc.stdout[-2000:]}")
    return {name: status.get(nodeid, "failed") for nodeid, name in names.items()}


def graded_statuses(results: dict, exercise: str) -> dict[str, str]:
    """test name -> status of `exercise`'s tests in a graded results.json."""
    return {t["name"]: t["status"] for t in results["tests"] if t["tags"][0] == exercise}


def differences(local: dict[str, str], graded: dict[str, str]) -> list[str]:
    """One line per test whose outcome differs between the two paths (or that only one
    of them ran)."""
    lines = []
    for name in sorted(set(local) | set(graded)):
        a, b = local.get(name, "absent"), graded.get(name, "absent")
        if a != b:
            lines.append(f"{name}: make check {a}, graded {b}")
    return lines
