"""Grading a class on Dask: a real scheduler and two real one-thread worker processes on
the loopback address give the same gradebook as a local run; an unreachable scheduler is
a clear error within 10 s. Skipped where dask (requirements-cluster.txt) is not installed.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time

import pytest

from autograder.batch import grade_class
from tests.public.harness import EXERCISES, REPO

pytest.importorskip("distributed", reason="dask is not installed: pip install -r "
                    "requirements-cluster.txt")
pytestmark = pytest.mark.timeout(900)

EX1 = EXERCISES["ex01"]


def _dask(scratch, *args):
    # Scratch files in the test's folder, not a world-readable /tmp/dask-scratch-space.
    return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=REPO,
                            env=dict(os.environ, DASK_TEMPORARY_DIRECTORY=str(scratch)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """tcp://127.0.0.1:PORT of a scheduler with two one-thread workers, all subprocesses."""
    from distributed import Client

    info = tmp_path_factory.mktemp("dask") / "scheduler.json"
    procs = [_dask(info.parent, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(info))]
    try:
        deadline = time.monotonic() + 60
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        # --no-nanny: a worker is one process, which a test can kill.
        procs += [_dask(info.parent, "worker", "--scheduler-file", str(info), "--nthreads", "1",
                        "--no-nanny", "--no-dashboard", "--host", "127.0.0.1")
                  for _ in range(2)]
        address = json.loads(info.read_text())["address"]
        with Client(address, timeout=10) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_the_cluster_grades_the_class_as_a_local_run(tmp_path, scheduler):
    from autograder.cluster import dask_executor

    subs = tmp_path / "subs"
    for name, source in (("ref", REPO / "solutions" / EX1), ("skel", REPO / "assignments" / EX1)):
        (subs / name).mkdir(parents=True)
        (subs / name / EX1).write_text(source.read_text())
    local = grade_class(subs, tmp_path / "local", jobs=2, progress=False, exercises=("ex01",))
    with dask_executor(scheduler) as executor:
        remote = grade_class(subs, tmp_path / "dask", progress=False, exercises=("ex01",),
                             executor=executor)
        again = grade_class(subs, tmp_path / "dask", progress=False, exercises=("ex01",),
                            executor=executor)
    assert [how for _, _, how in remote] == ["graded", "graded"]
    assert [how for _, _, how in again] == ["kept", "kept"]  # resumed on the cluster too
    assert _rows(tmp_path / "local" / "gradebook.csv") == _rows(tmp_path / "dask" /
                                                                "gradebook.csv")
    for (sub, a, _), (_, b, _) in zip(local, remote, strict=True):
        assert [(t["name"], t["score"], t["status"]) for t in a["tests"]] == \
            [(t["name"], t["score"], t["status"]) for t in b["tests"]], sub.id
    assert remote[0][1]["score"] == 30 and remote[1][1]["score"] == 0


def test_an_unreachable_scheduler_is_a_clear_error_within_10_s(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade-all",
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                           "--scheduler", "tcp://127.0.0.1:9", "--allow-same-user"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "could not reach the Dask scheduler" in proc.stderr
    assert time.monotonic() - start < 20  # 10 s of connecting, the rest is Python's start
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_a_worker_killed_mid_grade_costs_one_retry_and_one_row(tmp_path, scheduler):
    """Runs last: it kills one of the module's two workers while it grades."""
    import os
    import signal

    from distributed import Client

    from autograder.cluster import dask_executor

    subs = tmp_path / "subs"
    for name in ("a", "b", "c"):
        (subs / name).mkdir(parents=True)
        (subs / name / EX1).write_text((REPO / "solutions" / EX1).read_text())
    killed = []

    def kill_a_busy_worker():
        with Client(scheduler, timeout=10) as client:
            deadline = time.monotonic() + 120
            while not killed and time.monotonic() < deadline:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                    time.sleep(1)  # inside the grade, not before it
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.2)

    import threading

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    with dask_executor(scheduler) as executor:
        rows = grade_class(subs, tmp_path / "out", progress=False, exercises=("ex01",),
                           executor=executor)
    killer.join()
    assert killed, "no worker was busy"
    assert [(sub.id, res["score"] if res else how) for sub, res, how in rows] == \
        [("a", 30), ("b", 30), ("c", 30)]
    assert [r[0] for r in _rows(tmp_path / "out" / "gradebook.csv")[1:]] == ["a", "b", "c"]
