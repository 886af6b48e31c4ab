"""A worker's memory is limited by what it uses, not by what it maps.

A library may reserve far more address space than it touches (the CUDA build of torch
maps gigabytes at import): that must cost nothing. Touching more than the limit stops
the worker with a message that says so, costs that call only, and leaves nothing behind.
Each runs with a memory cgroup (where this machine lets the grader make one) and with the
resident-size watchdog that replaces it elsewhere (AUTOGRADER_CGROUPS=off), at the
sandbox and the same-user levels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import cgroups, isolation
from autograder.sandbox.client import Limits, RemoteLoader, StudentCodeError, live_workers, stage
from autograder.sandbox.reaper import reap_strays
from tests.project import hostile

REPO = Path(__file__).resolve().parents[2]
FILE = "ex_01_basic_rnn.py"

# 16 GB of address space, never touched; and over 3 GB actually written.
RESERVE = "import mmap as _mmap\n_RESERVED = _mmap.mmap(-1, 16 << 30, prot=0)\n"
TOUCH = ("    import numpy as _np\n"
         "    _hog = _np.ones((3600, 2 ** 17))\n"
         "    return float(_hog.sum())\n")


def _mechanisms() -> list:
    found = [pytest.param("off", id="watchdog")]
    group, _ = cgroups.Group.create("probe", memory_mb=64)
    if group is not None:
        group.remove()
        found.insert(0, pytest.param("on", id="cgroup"))
    return found


def _levels() -> list:
    found = [pytest.param("same-user", id="same-user")]
    if isolation.sandbox_problem(None) is None:
        found.insert(0, pytest.param("sandbox", id="sandbox"))
    return found


MECHANISMS, LEVELS = _mechanisms(), _levels()


@pytest.fixture
def student(tmp_path, monkeypatch):
    """student(source, level, cgroups, **limits) -> (RemoteModule, its StudentProcess)."""
    loaders = []

    def make(source: str, level: str, switch: str, **limits):
        monkeypatch.setenv(cgroups.SWITCH, switch)
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        (src / FILE).write_text(textwrap.dedent(source))
        made = Limits(level=level, **limits)
        staging = stage({FILE: src / FILE}, tmp_path / f"staging{len(loaders)}", None, made)
        loader = RemoteLoader(staging, made)
        loaders.append(loader)
        module = loader.module("ex01")
        return module, loader.processes["ex01"]

    yield make
    for loader in loaders:
        loader.close()


@pytest.mark.parametrize("switch", MECHANISMS)
@pytest.mark.parametrize("level", LEVELS)
def test_address_space_reserved_but_not_used_costs_nothing(student, level, switch):
    m, process = student(RESERVE + "def f():\n    return len(_RESERVED)\n", level, switch)
    assert m.f() == 16 << 30
    assert (process.group is None) == (switch == "off")


@pytest.mark.parametrize("switch", MECHANISMS)
@pytest.mark.parametrize("level", LEVELS)
def test_memory_used_past_the_limit_stops_that_call_and_its_whole_tree(student, level,
                                                                       switch):
    """A call that starts a child in a session of its own, then touches 1.2 GB of a 400 MB
    limit: the call fails with the memory message, the child dies too, the next call
    gets a fresh worker."""
    mark = f"600.{os.getpid()}{len(level)}{len(switch)}"
    m, process = student(f"""
        import os, time
        import numpy as np
        def hog():
            if os.fork() == 0:
                os.setsid()
                os.execv("/bin/sleep", ["sleep", "{mark}"])
            time.sleep(0.2)
            return float(np.ones((1200, 2 ** 17)).sum())
        def fine():
            return 1
    """, level, switch, memory_mb=400)
    with pytest.raises(StudentCodeError, match="hog: your code used more than 400 MB of"):
        m.hog()
    assert process.proc is None
    if process.group is not None:
        assert process.group.members() == set()
    process.limits.kill_leftovers()
    reap_strays(live_workers())  # what the grading pytest does after each test file
    assert _running(mark) == []
    assert m.fine() == 1


def _running(mark: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _grade(folder: Path, tmp_path: Path, level: str, switch: str) -> dict:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "IMPL"}
    env.update(AUTOGRADER_ISOLATION=level, **{cgroups.SWITCH: switch})
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                           str(out), "--quiet", "--exercises", "ex01"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("level,switch", [
    pytest.param(lv.values[0], sw.values[0], id=f"{lv.id}-{sw.id}")
    for lv in LEVELS for sw in MECHANISMS if lv.id == "same-user" or sw.id == "cgroup"])
def test_graded_reference_that_reserves_16_gb_full_marks_and_a_hog_loses_one_function(
        tmp_path, level, switch):
    """Through the real path: the reference with 16 GB reserved at import gets every
    point, except `accuracy`, which touches 3.6 GB and a leaves a sleeper behind: its
    tests fail with the memory message, and nothing is left running."""
    folder = hostile.submission(tmp_path / "sub", {"rnn_step_forward": "sleeper"})
    source = (folder / FILE).read_text()
    source = RESERVE + source + "\n\ndef accuracy(*args, **kwargs):\n" + TOUCH
    (folder / FILE).write_text(source)
    res = _grade(folder, tmp_path, level, switch)
    ex01 = [t for t in res["tests"] if t["tags"][0] == "ex01"]
    failed = {t["name"]: t["output"] for t in ex01 if t["status"] != "passed"}
    assert failed and all("accuracy" in name or "train_echo" in name for name in failed), \
        failed
    assert all("used more than 3072 MB of memory" in out for out in failed.values()), failed
    lost = sum(t["max_score"] for t in ex01 if t["status"] != "passed")
    assert res["score"] == 30 - lost and lost < 10, res["score"]
    assert hostile.leftovers() == []


def _imports_torch(path: Path) -> list[int]:
    """Lines of `path` that import torch (at the top or inside a function)."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        lines += [node.lineno for n in names if n.split(".")[0] == "torch"]
    return lines


def test_the_trusted_pytest_never_imports_torch():
    """The grader's own pytest has a 512 MB budget (grade.TRUSTED_MEMORY_MB), which a CUDA
    build of torch overruns at import: torch runs only where student code runs."""
    trusted = [*REPO.glob("tests/public/*.py"), *REPO.glob("tests/hidden/*.py"),
               REPO / "autograder" / "pytest_plugin.py", REPO / "autograder" / "records.py",
               *REPO.glob("autograder/sandbox/*.py")]
    found = {str(p.relative_to(REPO)): lines for p in trusted if (lines := _imports_torch(p))}
    assert found == {}, found
