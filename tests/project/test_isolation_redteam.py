"""Breaks an independent red team found (issue 21, items 4, 5 and 7), each graded the
real way: a child of `grade-all` whose sandbox does not start in time, kernel keyrings
and user namespaces from student code, paths in the sandbox's view, invisible characters
in what students see."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.batch import submission_dir
from autograder.grade import _in_repo, printable
from autograder.sandbox import isolation
from autograder.sandbox.client import Limits, RemoteLoader, stage

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
FILE = "ex_01_basic_rnn.py"
SANDBOX_PROBLEM = isolation.sandbox_problem(None)
needs_sandbox = pytest.mark.skipif(SANDBOX_PROBLEM is not None,
                                   reason=f"no sandbox here: {SANDBOX_PROBLEM}")
LEVELS = [pytest.param("sandbox", marks=needs_sandbox), "same-user"]


@pytest.fixture
def student(tmp_path):
    """student(source, level) -> RemoteModule running `source` as ex_01_basic_rnn.py."""
    loaders = []

    def make(source: str, level: str):
        src = tmp_path / f"src{len(loaders)}"
        src.mkdir()
        (src / FILE).write_text(textwrap.dedent(source))
        limits = Limits(level=level)
        staging = stage({FILE: src / FILE}, tmp_path / f"staging{len(loaders)}", None, limits)
        loaders.append(RemoteLoader(staging, limits))
        return loaders[-1].module("ex01")

    yield make
    for loader in loaders:
        loader.close()


# ---------------------------------------------------------------------------------------
# Item 4: the batch's level, or no grade
# ---------------------------------------------------------------------------------------

def test_a_probe_that_times_out_is_an_error_not_a_weaker_level(monkeypatch):
    """A sandbox that exists but did not answer in time: no fallback to same-user."""
    if SANDBOX_PROBLEM is not None:
        pytest.skip(f"no sandbox here: {SANDBOX_PROBLEM}")
    monkeypatch.setenv("AUTOGRADER_PROBE_TIMEOUT", "0.001")
    monkeypatch.delenv("AUTOGRADER_ISOLATION", raising=False)
    isolation._detect.cache_clear()
    try:
        with pytest.raises(isolation.SandboxStartError, match="could not start the sandbox"):
            isolation.detect(os.environ.get("AUTOGRADER_STUDENT_USER"))
    finally:
        isolation._detect.cache_clear()


# The skeleton, plus: at import, the reference found through another process's working
# folder (the trusted pytest runs in the repository) and run in its place.
FINDREPO = '''
import os as _os
for _pid in _os.listdir("/proc"):
    try:
        _found = _os.path.join(_os.readlink(f"/proc/{_pid}/cwd"), "solutions",
                               "ex_01_basic_rnn.py")
        if _os.path.isfile(_found):
            exec(compile(open(_found).read(), "reference", "exec"), globals())
            break
    except OSError:
        pass
'''

# A bwrap that, for the sandbox probes numbered in SLOW (1: grade-all's own), never
# answers: a probe starved on a loaded machine. Everything else is the real bwrap.
SLOW_BWRAP = '''#!/bin/sh
case " $* " in *" -c "*)
    n=$(($(cat "{count}" 2>/dev/null || echo 0) + 1)); echo $n > "{count}"
    case " {slow} " in *" $n "*) exec sleep 120;; esac;;
esac
exec {bwrap} "$@"
'''


@needs_sandbox
def test_grade_all_grades_every_child_at_its_level_or_not_at_all(tmp_path):
    """Probes 2-4 (submission a's three tries) starve, probe 5 (b's) starts: a is not
    graded and says why, b is graded in the sandbox, where the reference is out of reach;
    neither is graded at same-user (where, as root, the skeleton would take 30/30)."""
    import shutil

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "bwrap").write_text(SLOW_BWRAP.format(
        count=tmp_path / "probes", slow="2 3 4", bwrap=shutil.which("bwrap")))
    (bindir / "bwrap").chmod(0o755)
    skeleton = (REPO / "assignments" / FILE).read_text()
    for name in ("a", "b"):
        (tmp_path / "subs" / name).mkdir(parents=True)
        (tmp_path / "subs" / name / FILE).write_text(skeleton + FINDREPO)
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_ISOLATION"}
    env.update(PATH=f"{bindir}:{env['PATH']}", AUTOGRADER_PROBE_TIMEOUT="3")
    proc = subprocess.run([_in_repo(sys.executable), "-m", "autograder", "grade-all",
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                           "--exercises", "ex01"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=500)
    assert "isolation: sandbox" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 1 and "1 not graded: a" in proc.stdout, proc.stdout + proc.stderr
    assert (tmp_path / "probes").read_text().strip() == "5"  # 1 + three tries of a + b
    rows = {r.split(",")[0]: r for r in
            (tmp_path / "out" / "gradebook.csv").read_text().splitlines()[1:]}
    assert "could not start the sandbox" in rows["a"]
    b = json.loads((submission_dir(tmp_path / "out", "b") / "results.json").read_text())
    assert b["extra_data"]["isolation"]["level"] == "sandbox"
    ex01 = sum(t["score"] for t in b["tests"] if t["tags"][0] == "ex01")
    assert ex01 == 0, "the skeleton scored: it read the reference"


# ---------------------------------------------------------------------------------------
# Item 5: kernel keyrings; item 7: user namespaces from inside
# ---------------------------------------------------------------------------------------

KEYS = '''
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_NR = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
RINGS = {"user": -4, "user-session": -5, "session": -3}

def add(name):
    """Add a key to each shared keyring: the key's id, or -errno."""
    out = {}
    for ring, spec in RINGS.items():
        got = _libc.syscall(_NR[0], b"user", name.encode(), b"secret", 6, spec)
        out[ring] = got if got >= 0 else -ctypes.get_errno()
    return out

def search(name):
    """Look the key up in each keyring (KEYCTL_SEARCH): its id, or -errno."""
    out = {}
    for ring, spec in RINGS.items():
        got = _libc.syscall(_NR[1], 10, spec, b"user", name.encode(), 0)
        out[ring] = got if got >= 0 else -ctypes.get_errno()
    return out

def user_namespace():
    """unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER) and `unshare -U`: 0 where allowed."""
    import subprocess
    out = {"unshare": _libc.unshare(0x10000000) and -ctypes.get_errno()}
    pid = _libc.syscall({"x86_64": 56, "aarch64": 220}[os.uname().machine],
                        0x10000000 | 17, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
    out["clone"] = 0 if pid > 0 else -ctypes.get_errno()
    out["unshare -U"] = subprocess.run(["unshare", "-U", "true"],
                                       capture_output=True).returncode
    return out
'''


def _unlink_keys(found: dict) -> None:
    """Remove keys an unfixed grader let through (so a failing run leaves none)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for key in found.values():
        if key > 0:
            libc.syscall(250, 21, key)  # KEYCTL_INVALIDATE (root may, as possessor or not)


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="x86_64/arm64")
@pytest.mark.parametrize("level", LEVELS)
def test_a_key_one_submission_adds_is_not_there_for_the_next(student, level):
    token = f"rnn-redteam-{os.getpid()}-{level}"
    writer = student(KEYS, level)
    added = writer.add(token)
    reader = student(KEYS, level)  # another submission's process, started afterwards
    found = reader.search(token)
    _unlink_keys(added)
    assert all(v < 0 for v in added.values()), f"keys were added: {added}"
    assert all(v < 0 for v in found.values()), f"a later submission read the key: {found}"


@pytest.mark.skipif(os.geteuid() != 0, reason="clearing another uid's keyrings needs root")
def test_the_student_users_keyrings_are_cleared_after_a_grade():
    """Litter in the student uid's user keyring (from code the filter could not stop)."""
    ids = Limits(level="sandbox").ids() or isolation.NOBODY
    libc = ctypes.CDLL(None, use_errno=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        os.setgid(ids[1])
        os.setuid(ids[0])
        key = libc.syscall(248, b"user", b"rnn-redteam-litter", b"x", 1, -4)
        os.write(w, str(key).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(w)
    assert int(os.read(r, 32)) > 0
    assert isolation.clear_keyrings(ids) is None

    def search():
        pid = os.fork()
        if pid == 0:  # pragma: no cover
            os.setgid(ids[1])
            os.setuid(ids[0])
            os._exit(0 if libc.syscall(250, 10, -4, b"user", b"rnn-redteam-litter", 0) < 0
                     else 1)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    assert search() == 0, "the key was still there"


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="x86_64/arm64")
@pytest.mark.parametrize("level", LEVELS)
def test_student_code_cannot_make_a_user_namespace(student, level):
    got = student(KEYS, level).user_namespace()
    assert got["unshare"] < 0 and got["clone"] < 0 and got["unshare -U"] != 0, got


# ---------------------------------------------------------------------------------------
# Item 7: no repository path in the sandbox's files; invisible characters escaped
# ---------------------------------------------------------------------------------------

LOOK = '''
import os, sys

def venv_files():
    """Every file of the interpreter's environment outside its packages: name -> text."""
    out = {}
    for folder, dirs, files in os.walk(sys.prefix):
        dirs[:] = [d for d in dirs if not d.startswith("lib")]
        for name in files:
            try:
                out[os.path.join(folder, name)] = open(os.path.join(folder, name),
                                                       errors="replace").read(100_000)
            except OSError:
                pass
    return out
'''


@needs_sandbox
@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="not run from a venv")
def test_no_file_of_the_sandboxs_venv_names_the_repository(student):
    files = student(LOOK, "sandbox").venv_files()
    assert any(name.endswith("pyvenv.cfg") for name in files)
    paths = {str(REPO), os.path.realpath(sys.prefix), sys.prefix,
             os.path.dirname(os.path.realpath(sys.prefix))}
    named = {name: p for name, text in files.items() for p in paths if p in text}
    assert not named, f"files that name the grader's paths: {named}"


def test_bidi_and_line_separators_are_escaped_in_what_students_see():
    shown = printable("expected 3\u202e.0 \u2066got\u2069\u2028TOTAL: 100/100\u2029\u200f")
    assert not any(c in shown for c in "\u202e\u2066\u2069\u2028\u2029\u200f")
    assert "\\u202e" in shown and "\\u2028" in shown
    assert len(shown.splitlines()) == 1
