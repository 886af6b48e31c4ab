"""Isolation levels: detection, reporting, the sandbox's view, signed outcome records, and
what keeps the trusted processes out of reach (the attacks are test_isolation_attacks.py).
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from autograder import records
from autograder.grade import _in_repo, read_outcomes
from autograder.sandbox import isolation
from autograder.sandbox.client import Limits, RemoteLoader, stage

REPO = Path(__file__).resolve().parents[2]
FILE = "ex_01_basic_rnn.py"
SANDBOX_PROBLEM = isolation.sandbox_problem(os.environ.get("AUTOGRADER_STUDENT_USER"))
needs_sandbox = pytest.mark.skipif(
    SANDBOX_PROBLEM is not None, reason=f"the sandbox is not available here: {SANDBOX_PROBLEM}")


def _cli(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """The grader's command line, started as `make` starts it (a path inside the repo)."""
    return subprocess.run([_in_repo(sys.executable), "-m", "autograder", *args], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          **kwargs)


def _detect_in_subprocess(env: dict) -> dict:
    code = ("import json, os; from autograder.sandbox import isolation; "
            "print(json.dumps(isolation.detect(os.environ.get('AUTOGRADER_STUDENT_USER'))"
            ".as_dict()))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, **env}, check=True)
    return json.loads(proc.stdout)


def test_the_level_is_the_strongest_available_and_is_said(tmp_path):
    found = _detect_in_subprocess({})
    assert found["level"] == ("sandbox" if SANDBOX_PROBLEM is None else found["level"])
    assert found["level"] in isolation.LEVELS
    (tmp_path / "subs").mkdir()
    proc = _cli("grade-all", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                "--allow-same-user")
    assert proc.returncode == 0, proc.stderr
    assert f"isolation: {found['level']} (" in proc.stdout


def test_without_bubblewrap_the_grader_falls_back_and_says_why(tmp_path):
    """No bwrap on PATH: the next level, with bwrap's absence as the reason."""
    empty = tmp_path / "bin"
    empty.mkdir()
    found = _detect_in_subprocess({"PATH": str(empty)})
    assert found["level"] != "sandbox"
    assert found["not_available"][0] == "sandbox: bubblewrap (bwrap) is not installed"
    out = tmp_path / "results.json"
    proc = _cli("grade", "assignments", "--out", str(out),
                env={"PATH": str(empty), "AUTOGRADER_ISOLATION": "sandbox"})
    assert proc.returncode != 0
    saved = json.loads(out.read_text())
    assert saved["score"] == 0 and saved["tests"] == []
    assert "could not grade" in saved["output"] and "bwrap) is not installed" in saved["output"]


@pytest.mark.parametrize("env, reason", [
    ({"AUTOGRADER_ISOLATION": "user", "AUTOGRADER_STUDENT_USER": ""},
     "AUTOGRADER_STUDENT_USER is not set" if os.geteuid() == 0 else "not root"),
    ({"AUTOGRADER_ISOLATION": "strongest"}, "expected auto, sandbox, user, same-user"),
    ({"AUTOGRADER_STUDENT_USER": "no_such_user_here"},
     "no such user" if os.geteuid() == 0 else "not set"),
])
def test_a_level_that_cannot_be_had_stops_grading_with_the_reason(tmp_path, env, reason):
    if os.geteuid() != 0 and "AUTOGRADER_STUDENT_USER" in env and env.get(
            "AUTOGRADER_STUDENT_USER"):
        pytest.skip("a student user applies to a root grader only")
    out = tmp_path / "results.json"
    proc = _cli("grade", "assignments", "--out", str(out), env=env)
    assert proc.returncode != 0
    saved = json.loads(out.read_text())
    assert saved["score"] == 0 and "could not grade" in saved["output"]
    assert reason in saved["output"]


def test_a_batch_is_refused_at_the_same_user_level_unless_allowed(tmp_path):
    (tmp_path / "subs").mkdir()
    same = {"AUTOGRADER_ISOLATION": "same-user"}
    refused = _cli("grade-all", str(tmp_path / "subs"), "--out", str(tmp_path / "o1"), env=same)
    assert refused.returncode == 2
    assert "refusing to grade a batch at the same-user level" in refused.stderr
    assert not (tmp_path / "o1").exists()
    allowed = _cli("grade-all", str(tmp_path / "subs"), "--out", str(tmp_path / "o2"),
                   "--allow-same-user", env=same)
    assert allowed.returncode == 0, allowed.stderr
    assert "isolation: same-user" in allowed.stdout


# ---------------------------------------------------------------------------------------
# What student code sees in the sandbox
# ---------------------------------------------------------------------------------------

LOOK_AROUND = """
import os, socket, sys

def look(repo, port, logs):
    seen = {"uid": os.getuid(), "pids": sorted(int(p) for p in os.listdir("/proc")
                                                if p.isdigit()),
            "root": sorted(os.listdir("/")), "repo": os.path.exists(repo),
            "logs": os.path.exists(logs), "prefix": sys.prefix,
            "init": open("/proc/1/cmdline", "rb").read().decode(errors="replace"),
            "tmp_before": os.listdir("/tmp")}
    st = os.statvfs("/tmp")
    seen["tmp_mb"] = st.f_blocks * st.f_frsize / 2**20
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        seen["network"] = "connected"
    except OSError as exc:
        seen["network"] = str(exc)
    seen["own_folder_read_only"] = bool(
        os.statvfs(os.path.dirname(__file__)).f_flag & os.ST_RDONLY)
    with open("/tmp/left-behind", "w") as fh:
        fh.write("x")
    return seen

def crash():
    os._exit(3)
"""


@needs_sandbox
def test_in_the_sandbox_student_code_sees_only_its_own(tmp_path):
    src = tmp_path / FILE
    src.write_text(textwrap.dedent(LOOK_AROUND))
    limits = Limits(level="sandbox")
    staging = stage({FILE: src}, tmp_path / "staging", None, limits)
    server = socket.create_server(("127.0.0.1", 0))
    loader = RemoteLoader(staging, limits)
    try:
        m = loader.module("ex01")
        args = (str(REPO), server.getsockname()[1], str(staging / "logs"))
        seen = m.look(*args)
        with pytest.raises(Exception, match="exit code 3"):
            m.crash()  # the next call runs in a fresh sandbox
        again = m.look(*args)
    finally:
        loader.close()
        server.close()
    assert seen["uid"] == 65534  # nobody, inside
    assert max(seen["pids"]) < 10  # its own PID namespace: no grader, no other submission
    assert not seen["repo"] and not seen["logs"]
    assert str(REPO) not in seen["init"] and str(REPO) not in seen["prefix"]
    # The runtime, /proc, /dev, the private /tmp, and the folder the interpreter lives in.
    python_home = Path(os.path.realpath(sys.base_prefix)).parts[1]
    assert set(seen["root"]) <= {*(d.strip("/") for d in isolation.SYSTEM_DIRS), "etc",
                                 "proc", "dev", "tmp", "sandbox", python_home}
    assert seen["network"] != "connected"
    assert seen["own_folder_read_only"]
    assert seen["tmp_mb"] <= isolation.TMP_MB
    assert "left-behind" not in again["tmp_before"]  # /tmp went with the first sandbox


# ---------------------------------------------------------------------------------------
# The trusted side
# ---------------------------------------------------------------------------------------


def test_outcome_records_count_only_when_signed_by_this_grader():
    key = records._KEY
    good = records.sign(key, {"rubric": {"nodeid": "t::a"}}) + records.sign(
        key, {"nodeid": "t::a", "status": "passed", "output": ""})
    rubric, outcomes = read_outcomes(good + good[:40])  # a last line cut short: dropped
    assert rubric == [{"nodeid": "t::a"}] and outcomes["t::a"]["status"] == "passed"
    forged = [
        json.dumps({"nodeid": "t::a", "status": "passed", "output": ""}) + "\n",
        records.sign(os.urandom(32), {"nodeid": "t::a", "status": "passed"}),
        good.splitlines(True)[1].replace("passed", "failed"),
        "0" * 64 + " " + json.dumps({"nodeid": "t::a", "status": "passed"}) + "\n",
    ]
    for line in forged:
        with pytest.raises(records.ForgedRecord):
            read_outcomes(good + line)


def test_the_key_goes_through_a_pipe_only_to_an_undumpable_pytest():
    """The key is in no environment and on no command line of the trusted pytest, and
    is written into its pipe only once it is undumpable and nothing else runs below the
    grader: with a stray alive, it is withheld and that pytest stops unsigned."""
    from autograder import grade as grading

    files = [Path(REPO, "tests/public/test_ex01_basic_rnn.py")]
    for others, signed in ((set(), True), ({1}, False)):
        read_fd, write_fd = os.pipe()
        chunks: list[bytes] = []
        reader = threading.Thread(target=grading._drain, args=(read_fd, chunks))
        reader.start()
        keep = grading.children()
        real = grading.descendants
        if others:
            grading.descendants = lambda roots, real=real, others=others: real(roots) | others
        try:
            proc = grading._start_pytest(
                grading._pytest(files, "--collect-only", "--outcomes", f"/dev/fd/{write_fd}"),
                keep, write_fd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seen = b""
            while proc.poll() is None:
                for name in ("environ", "cmdline"):
                    try:
                        seen += Path(f"/proc/{proc.pid}/{name}").read_bytes()
                    except OSError:
                        pass
            proc.wait()
        finally:
            grading.descendants = real
        reader.join()
        assert records._KEY.hex().encode() not in seen and b"OUTCOME_KEY" not in seen
        text = b"".join(chunks).decode()
        if signed:
            assert proc.returncode == 0 and len(records.verified(text)) > 20
        else:
            assert proc.returncode != 0 and text == ""


def test_a_trusted_process_can_make_itself_undumpable():
    code = ("import ctypes; from autograder.sandbox.isolation import make_undumpable; "
            "assert make_undumpable(); "
            "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")  # PR_GET_DUMPABLE
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == "0"
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 1  # this test process is untouched


PARENTS = """
import os

def _cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().replace(b"\\0", b" ").decode(errors="replace")

def _parent(pid):
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])

SEEN = []
pid = os.getppid()
for _ in range(2):  # the grading pytest, then the grader
    SEEN.append(_cmdline(pid))
    pid = _parent(pid)

def rnn_step_forward(*args):
    raise NotImplementedError("SEEN<<" + " || ".join(SEEN) + ">>")
"""


def test_the_repository_path_is_on_no_command_line_of_the_grader(tmp_path):
    """Student code at the same-user level reads its parents' command lines: the
    grading pytest and the grader name no path inside the repository."""
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / FILE).write_text(PARENTS)
    out = tmp_path / "results.json"
    proc = _cli("grade", str(sub), "--out", str(out), "--quiet",
                env={"AUTOGRADER_ISOLATION": "same-user"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    outputs = [t["output"] for t in json.loads(out.read_text())["tests"]
               if "SEEN<<" in t["output"]]
    assert outputs
    seen = outputs[0].split("SEEN<<", 1)[1].split(">>", 1)[0]
    assert "-m pytest" in seen and "-m autograder grade" in seen
    assert str(REPO) not in seen
