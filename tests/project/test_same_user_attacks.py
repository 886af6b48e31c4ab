"""Same-user level, grader not root: a skeleton that attacks the next trusted pytest.

At import, the submission leaves behind a chain of a thousand processes, each in a
session of its own, whose deepest member watches for the next exercise's trusted pytest
and tries what a process of the grader's user can: read the outcome key from its
/proc/PID/environ, open its outcome pipe and its key pipe through /proc/PID/fd. It writes
what it got into a folder of the test's. Nothing may work: the chain is reaped to its last
process before the next pytest starts, the key is in no environment, and the pipes are
out of reach; the skeleton scores 0 and nothing is left running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from tests.project.test_isolation_attacks import GRADER, Level, _level_problem

REPO = Path(__file__).resolve().parents[2]
DEPTH = 1000

CHAIN = r'''
# --- the attack, at import ------------------------------------------------------------
import os as _os

_EVIDENCE = {evidence!r}
if not _os.path.exists(_EVIDENCE + "/started"):
    open(_EVIDENCE + "/started", "w").close()
    if _os.fork() == 0:
        _os.setsid()
        _os.execv("/bin/sh", ["sh", _EVIDENCE + "/chain.sh", "{depth}"])
    import time as _time
    _until = _time.monotonic() + 40
    while not _os.path.exists(_EVIDENCE + "/found.txt") and _time.monotonic() < _until:
        _time.sleep(0.01)  # the chain is built when its deepest process runs
'''

CHAIN_SH = '''d=$1
if [ "$d" -gt 0 ]; then
  sh "$0" $((d - 1)) &
  wait
else
  exec "{python}" -c "$(cat "$(dirname "$0")/attacker.py")"
fi
'''

ATTACKER = r'''
import os, time
EVIDENCE = {evidence!r}
seen, me = set(), os.getuid()

def note(text):
    with open(EVIDENCE + "/found.txt", "a") as fh:
        fh.write(text + "\n")

def arg(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None

note("attacker alive")
end = time.monotonic() + 120
while time.monotonic() < end:
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in seen or int(name) == os.getpid():
            continue
        try:
            if os.stat("/proc/" + name).st_uid != me:
                continue
            argv = open(f"/proc/{{name}}/cmdline", "rb").read().decode().split("\0")
        except OSError:
            continue
        if "--staging" not in argv:
            continue
        seen.add(int(name))
        note(f"saw pytest {{name}}")
        try:
            if b"OUTCOME_KEY" in open(f"/proc/{{name}}/environ", "rb").read():
                note("stole: key in environ")
        except OSError:
            pass
        outcomes = arg(argv, "--outcomes")
        if outcomes and outcomes.startswith("/dev/fd/"):
            try:
                os.open(f"/proc/{{name}}/fd/{{outcomes[8:]}}", os.O_WRONLY)
                note("stole: outcome pipe")
            except OSError:
                pass
        key_fd = arg(argv, "--outcome-key-fd")
        if key_fd:
            try:
                fd = os.open(f"/proc/{{name}}/fd/{{key_fd}}", os.O_RDONLY)
                note("stole: key pipe")
                os.close(fd)
            except OSError:
                pass
    time.sleep(0.002)
'''


def _running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_chain_left_behind_steals_nothing_from_the_next_pytest_and_is_reaped():
    problem = _level_problem("same-user")
    if os.geteuid() != 0 or problem is not None:
        pytest.skip(f"needs root to run a grader as another uid here: {problem or 'not root'}")
    root = Path(tempfile.mkdtemp(prefix="same-user-chain-"))
    level = Level("same-user", root)
    evidence = level.folder("evidence")
    try:
        (evidence / "chain.sh").write_text(CHAIN_SH.format(python=os.path.realpath(
            __import__("sys").executable)))
        (evidence / "attacker.py").write_text(ATTACKER.format(evidence=str(evidence)))
        sub = level.folder("sub")
        for name in ("ex_01_basic_rnn.py", "ex_02_time_series_prediction.py"):
            source = (REPO / "assignments" / name).read_text()
            if name.startswith("ex_01"):
                source += CHAIN.format(evidence=str(evidence), depth=DEPTH)
            (sub / name).write_text(source)
        for path in evidence.iterdir():
            os.chown(path, GRADER[1], GRADER[1])
        out = level.folder("out")
        proc = level.run("grade", str(sub), "--out", str(out / "results.json"),
                         "--exercises", "ex01,ex02")
        assert proc.returncode == 0, proc.stderr[-2000:]
        res = json.loads((out / "results.json").read_text())
        assert res["extra_data"]["isolation"]["level"] == "same-user"
        found = (evidence / "found.txt").read_text() if (evidence / "found.txt").exists() \
            else ""
        assert "attacker alive" in found  # the chain ran
        assert "stole" not in found, found
        assert res["score"] == 0
        assert _running(str(evidence)) == []
    finally:
        for pid in _running(str(evidence)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)
