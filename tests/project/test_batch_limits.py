"""In a batch, a submission's processes and CPU load cost only its own points (issue 21,
items 2 and 3).

Each test grades two submissions with `grade-all --jobs 2` through the real command
line: an attacker (the reference with a hostile import) and the reference. RLIMIT_NPROC
counts per uid and every sandbox of a batch runs as the same uid, so an attacker that
holds processes used to leave the reference none ("can't start new thread"); one that
spins 240 processes used to slow the reference past its time limits. Where the grader
can make cgroups, each grade gets its own (pids.max, a CPU quota); where it cannot
(AUTOGRADER_CGROUPS=off), grade-all grades one at a time and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox import cgroups
from tests.public.harness import EXERCISES, REPO

pytestmark = pytest.mark.timeout(600)

EX1 = EXERCISES["ex01"]
SLEEP_MARK = "86397.75"  # the argument of the attacker's sleeping processes
SPIN_MARK = "rnn-spin-21"  # the name (comm) of its spinning ones

# At import: as many processes as the limits allow, each asleep in a session of its
# own, held while the import lasts (the reference's grade runs meanwhile).
HOLD = f'''

import os as _os
import time as _time


def _hold(tries=400, seconds=25):
    for _ in range(tries):
        try:
            pid = _os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                _os.setsid()
                _os.execv("/bin/sleep", ["sleep", "{SLEEP_MARK}"])
            finally:
                _os._exit(0)
    _time.sleep(seconds)


_hold()
'''

# At import: 240 processes, each in a session of its own, that spin on the CPU together
# for 30 s; the import lasts as long.
SPIN = f'''

import ctypes as _ctypes
import os as _os
import time as _time


def _spin(count=240, seconds=30):
    begin = _time.monotonic() + 1.0
    end = begin + seconds
    for _ in range(count):
        try:
            pid = _os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                _os.setsid()
                _ctypes.CDLL(None).prctl(15, b"{SPIN_MARK}")  # PR_SET_NAME
                _time.sleep(max(0.0, begin - _time.monotonic()))
                while _time.monotonic() < end:
                    pass
            finally:
                _os._exit(0)
    _time.sleep(max(0.0, end - _time.monotonic()))


_spin()
'''


def _mechanisms() -> list:
    found = [pytest.param("off", id="no-cgroups")]
    group, _ = cgroups.Group.create("probe", pids=64, cpus=1.0)
    if group is not None:
        group.remove()
        found.insert(0, pytest.param("on", id="cgroup-per-grade"))
    return found


MECHANISMS = _mechanisms()
CGROUPS = pytest.mark.skipif(MECHANISMS[0].values[0] != "on",
                             reason="the grader cannot make a pids and cpu cgroup here")


def _marked() -> list[int]:
    """Processes of the attacker still running, anywhere on the machine."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (
                    (entry / "cmdline").read_bytes().split(b"\0")[1:2] == [SLEEP_MARK.encode()]
                    or (entry / "comm").read_text().strip() == SPIN_MARK[:15]):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _grade_batch(tmp_path: Path, attack: str, switch: str, **env) -> dict:
    subs = tmp_path / "subs"
    reference = (REPO / "solutions" / EX1).read_text()
    for name, source in (("a_attacker", reference + attack), ("b_reference", reference)):
        (subs / name).mkdir(parents=True)
        (subs / name / EX1).write_text(source)
    for path in [tmp_path, *tmp_path.rglob("*")]:  # readable for the student user
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade-all", str(subs), "--out", str(out),
         "--jobs", "2", "--exercises", "ex01", "--allow-same-user"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, **{cgroups.SWITCH: switch}, **env))
    stdout, stderr = proc.communicate(timeout=500)
    time.sleep(0.5)  # a process killed a moment ago may still be listed
    left = _marked()
    groups = [p for c in ("pids", "cpu", "") for p in (cgroups.MOUNT / c).glob(
        f"rnn-*-{proc.pid}-*")]
    results = {}
    for name in ("a_attacker", "b_reference"):
        path = out / "submissions" / name / "results.json"
        results[name] = json.loads(path.read_text()) if path.is_file() else None
    for pid in left:
        os.kill(pid, 9)
    return {"rc": proc.returncode, "stdout": stdout, "stderr": stderr, "left": left,
            "groups": groups, "results": results}


def _ex01(batch: dict, name: str) -> tuple[float, list[str]]:
    res = batch["results"][name]
    assert res is not None, f"{name} was not graded:\n{batch['stderr'][-3000:]}"
    tests = [t for t in res["tests"] if t["tags"][0] == "ex01"]
    return (sum(t["score"] for t in tests),
            [f"{t['name'][:60]}: {t['output'][:200]}" for t in tests if t["status"] != "passed"])


def _check(batch: dict, switch: str) -> None:
    assert batch["rc"] == 0, batch["stderr"][-3000:]
    score, failed = _ex01(batch, "b_reference")
    assert score == 30, "the reference lost points to the other submission:\n" + \
        "\n".join(failed)
    assert batch["left"] == [], "the attacker's processes were left running"
    assert batch["groups"] == [], "cgroups were left behind"
    one_at_a_time = "grading one submission at a time, not 2" in batch["stderr"]
    assert one_at_a_time == (switch == "off"), batch["stderr"][-2000:]


@pytest.mark.parametrize("switch", MECHANISMS)
def test_a_submission_holding_processes_leaves_the_reference_its_points(tmp_path, switch):
    _check(_grade_batch(tmp_path, HOLD, switch), switch)


@CGROUPS
def test_a_submission_spinning_the_cpu_leaves_the_reference_its_points(tmp_path):
    # Shorter limits than a real run (an exercise's 130 s, its calls' 100 s: here 60 s
    # and 30 s), so that a 30 s spin shows what a longer one does to the real ones. Without
    # cgroups grade-all grades one at a time, as the holding test shows.
    batch = _grade_batch(tmp_path, SPIN, "on", AUTOGRADER_EXERCISE_TIMEOUT="60")
    _check(batch, "on")
