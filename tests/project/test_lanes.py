"""Two exercises graded at once (grade.exercise_lanes): only where they cannot reach each
other, with the same results.json as one at a time, a busy loop in one exercise's student
code included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import grade as grading
from autograder.sandbox import cgroups
from autograder.sandbox.client import Limits
from tests.public.harness import EXERCISES

pytestmark = pytest.mark.timeout(900)

REPO = Path(__file__).resolve().parents[2]

# At import, a process of the student's that spins for as long as it may: under two lanes
# it has its exercise's CPU, never the other exercise's.
SPIN = '''
import os as _os
if _os.fork() == 0:
    while True:
        pass
'''


def _lanes(monkeypatch, level: str, **env: str) -> tuple[int, str]:
    for name in (grading.LANES_ENV, "AUTOGRADER_JOBS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return grading.exercise_lanes(Limits(level=level))


def test_one_exercise_at_a_time_where_they_could_reach_each_other(monkeypatch):
    assert _lanes(monkeypatch, "same-user")[0] == 1
    assert "same-user" in _lanes(monkeypatch, "same-user")[1]
    assert _lanes(monkeypatch, "user")[0] == 1
    count, why = _lanes(monkeypatch, "sandbox", AUTOGRADER_JOBS="2")
    assert count == 1 and "2 grades at once" in why
    assert _lanes(monkeypatch, "sandbox", AUTOGRADER_LANES="1") == (1, "AUTOGRADER_LANES=1")


def test_a_bad_lanes_setting_names_itself(monkeypatch):
    with pytest.raises(ValueError, match="AUTOGRADER_LANES: expected 1 or 2, got '3'"):
        _lanes(monkeypatch, "sandbox", AUTOGRADER_LANES="3")


def _grade(submission: Path, out: Path, lanes: str) -> dict:
    env = {**os.environ, grading.LANES_ENV: lanes}
    env.pop("IMPL", None)
    # Two exercises are enough to run side by side (the reference's four: bench.py).
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission),
                          "--out", str(out), "--quiet", "--exercises", "ex01,ex02"],
                         cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(out.read_text())


def _same(one: dict, two: dict) -> None:
    for key in one:
        if key != "execution_time":
            assert one[key] == two[key], key


def test_two_lanes_grade_as_one_lane_does(tmp_path, monkeypatch):
    """The reference with a spinning process of its own in Exercise 1: full marks on
    Exercises 1 and 2, and the same results.json, one exercise at a time or two."""
    monkeypatch.delenv("AUTOGRADER_JOBS", raising=False)
    count, why = grading.exercise_lanes(Limits())
    if count < 2:
        pytest.skip(f"one exercise at a time here: {why}")
    spinning = tmp_path / "spinning"
    shutil.copytree(REPO / "solutions", spinning,
                    ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    first = spinning / EXERCISES["ex01"]
    first.write_text(first.read_text() + SPIN)
    one = _grade(spinning, tmp_path / "one.json", "1")
    two = _grade(spinning, tmp_path / "two.json", "")
    _same(one, two)
    assert two["score"] == 55, [t["output"] for t in two["tests"] if t["score"] == 0
                                and "not graded in this run" not in t["output"]]


def test_the_lanes_probe_leaves_no_cgroup(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_JOBS", raising=False)
    base = cgroups.MOUNT
    before = {p.name for p in base.rglob("rnn-lanes-probe-*")} if base.is_dir() else set()
    grading.exercise_lanes(Limits())
    after = {p.name for p in base.rglob("rnn-lanes-probe-*")} if base.is_dir() else set()
    assert after <= before


def test_a_cpu_quota_below_two_cpus_is_one_lane(tmp_path):
    """Affinity may show every CPU of the host where a quota allows half of one (a
    container, a batch job's group): the quota decides."""
    group, how = cgroups.Group.create("lanes-quota", cpus=0.5)
    if group is None:
        pytest.skip(f"no CPU quota can be set here: {how}")
    code = ("from autograder import grade; from autograder.sandbox.client import Limits; "
            "print(grade.exercise_lanes(Limits(level='sandbox')))")
    try:
        run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                             text=True, timeout=120, preexec_fn=group.enter,
                             env={k: v for k, v in os.environ.items()
                                  if k not in (grading.LANES_ENV, "AUTOGRADER_JOBS")})
    finally:
        group.remove()
    assert run.stdout.strip() == "(1, '0.5 CPU here')", run.stdout + run.stderr
