"""How far student processes are kept from the grader: three levels, detected at start.

sandbox    bubblewrap (`bwrap`, the sandbox Flatpak uses) starts each student process
           in its own mount, PID, network, IPC and UTS namespaces. It sees a private
           filesystem: the Python runtime and its packages read-only, its own files, a
           scratch folder, size-limited private /tmp and /dev/shm, a fresh /proc where
           no grader process exists. No network. Every process it starts dies with it.
           A grader running as root also runs student code as an unprivileged user
           (AUTOGRADER_STUDENT_USER, else the uid of `nobody`).
user       a root grader without a working sandbox: student code runs as
           AUTOGRADER_STUDENT_USER; what that user may read, it can read.
same-user  student code runs as the grader's user, in its own process with rlimits.

The grader picks the strongest level the machine allows by trying it (a sandbox that
cannot start is reported with bwrap's own reason), or exactly the level named in
AUTOGRADER_ISOLATION (sandbox, user, same-user; auto or unset: the strongest).

Also here: make_undumpable, which keeps the trusted processes themselves out of reach
of same-user student code.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ("sandbox", "user", "same-user")
# Where a virtual environment appears inside the sandbox: a neutral path, so that the
# folder holding it (often the grader's repository) is named nowhere in there.
VENV_MOUNT = "/sandbox/python"
NOBODY = (65534, 65534)
TMP_MB = 64  # each of the private /tmp and /dev/shm
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the dynamic loader, BLAS alternatives and fontconfig read; nothing else of /etc.
ETC_PATHS = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
             "/etc/fonts")
READ_ONLY_PARTS = ("submission", "runtime", "data")
WRITABLE_PARTS = ("scratch", "testdirs")
# How long the test sandbox may take to start (AUTOGRADER_PROBE_TIMEOUT to change it).
# Past it, grading stops: a sandbox that is only slow (a loaded machine) is no reason to
# run student code at a weaker level.
PROBE_TIMEOUT_S = 60
# `python -m autograder grade`'s exit status when the sandbox could not start (batch.py
# tries such a grade again).
EXIT_NO_SANDBOX = 3

PR_SET_DUMPABLE = 4


class IsolationUnavailable(RuntimeError):
    """The level asked for in AUTOGRADER_ISOLATION cannot be had on this machine."""


class SandboxStartError(IsolationUnavailable):
    """The sandbox exists here but could not be started now (e.g. its probe timed out):
    the grade fails, and `grade-all` tries it again; it is never graded at a weaker level."""


def probe_timeout() -> float:
    """Seconds the test sandbox may take to start (AUTOGRADER_PROBE_TIMEOUT)."""
    try:
        return float(os.environ.get("AUTOGRADER_PROBE_TIMEOUT", PROBE_TIMEOUT_S))
    except ValueError:
        raise IsolationUnavailable("AUTOGRADER_PROBE_TIMEOUT: expected seconds, got "
                                   f"{os.environ['AUTOGRADER_PROBE_TIMEOUT']!r}") from None


@dataclass(frozen=True)
class Level:
    """The level grading runs at, how, and why each stronger level was passed over."""

    name: str
    detail: str
    passed_over: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        text = f"isolation: {self.name} ({self.detail})"
        if self.passed_over:
            text += "; not available: " + "; ".join(self.passed_over)
        return text

    def as_dict(self) -> dict:
        return {"level": self.name, "detail": self.detail,
                "not_available": list(self.passed_over)}


def requested() -> str:
    """The level AUTOGRADER_ISOLATION asks for, or "auto"."""
    value = os.environ.get("AUTOGRADER_ISOLATION", "auto").strip().lower() or "auto"
    if value not in ("auto", *LEVELS):
        raise IsolationUnavailable(
            f"AUTOGRADER_ISOLATION={value!r}: expected auto, {', '.join(LEVELS)}")
    return value


def student_ids(user: str | None) -> tuple[int, int] | None:
    """(uid, gid) of the configured student user, when the grader is root."""
    if os.geteuid() != 0 or not user:
        return None
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def sandbox_ids(user: str | None) -> tuple[int, int] | None:
    """Who student code is inside the sandbox, as the host sees it: as root, the student
    user or nobody; otherwise the grader's own user (mapped to nobody inside)."""
    if os.geteuid() != 0:
        return None
    return student_ids(user) or NOBODY


def detect(user: str | None) -> Level:
    """The strongest level this machine allows (or the one asked for), by trying it."""
    return _detect(user, requested(), os.geteuid())


@functools.lru_cache(maxsize=8)
def _detect(user: str | None, wanted: str, euid: int) -> Level:
    passed_over = []
    # A root grader told to use a student user never quietly runs student code as root.
    insist_on_user = euid == 0 and bool(user)
    if insist_on_user:
        try:
            student_ids(user)
        except KeyError:
            raise IsolationUnavailable(
                f"AUTOGRADER_STUDENT_USER={user!r}: there is no such user") from None
    if wanted in ("auto", "sandbox"):
        try:
            problem = _sandbox_problem(user)
        except _ProbeTimeout as exc:  # the sandbox is here, but did not start in time
            raise SandboxStartError(f"could not start the sandbox: {exc}") from None
        if problem is None:
            return Level("sandbox", _sandbox_detail(user), tuple(passed_over))
        if wanted == "sandbox":
            # Also what a child of grade-all gets (it is told the batch's level).
            raise SandboxStartError(
                f"AUTOGRADER_ISOLATION=sandbox: could not start the sandbox: {problem}")
        passed_over.append(f"sandbox: {problem}")
    if wanted in ("auto", "user"):
        problem = user_problem(user)
        if problem is None:
            return Level("user", f"student code runs as {user!r}", tuple(passed_over))
        if wanted == "user" or insist_on_user:
            asked = "AUTOGRADER_ISOLATION=user" if wanted == "user" else (
                f"AUTOGRADER_STUDENT_USER={user!r} (and no sandbox: {passed_over[-1]})")
            raise IsolationUnavailable(f"{asked}: {problem}")
        passed_over.append(f"user: {problem}")
    who = "root" if euid == 0 else "the grader's user"
    return Level("same-user", f"student code runs as {who}, in its own process with limits",
                 tuple(passed_over))


def _sandbox_detail(user: str | None) -> str:
    ids = sandbox_ids(user)
    who = f"uid {ids[0]}" if ids else "the grader's user, as nobody inside"
    return f"{bwrap_version()}; student code as {who}; no network; private /tmp"


# ---------------------------------------------------------------------------------------
# bubblewrap
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _bwrap_help() -> str:
    exe = shutil.which("bwrap")
    if exe is None:
        return ""
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False)
    return proc.stdout + proc.stderr


@functools.lru_cache(maxsize=1)
def bwrap_version() -> str:
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap not installed"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "bubblewrap (version unknown)"


def _supports(option: str) -> bool:
    return f"{option} " in _bwrap_help()


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _runtime_binds() -> tuple[list[tuple[str, str]], str]:
    """Read-only (host, sandbox) folders that hold the Python runtime and its packages,
    and the interpreter's path inside the sandbox."""
    binds: list[tuple[str, str]] = []
    covered = list(SYSTEM_DIRS)
    base = os.path.realpath(sys.base_prefix)
    if not _under(base, covered):
        binds.append((base, base))
        covered.append(base)
    interpreter = sys.executable
    if sys.prefix != sys.base_prefix and _under(sys.executable, [sys.prefix]):
        # Of the virtual environment only its packages (lib*), the interpreter and a
        # pyvenv.cfg without the lines naming its own path (bwrap_command): its scripts
        # and activate files name that path (often inside the grader's repository).
        for entry in sorted(os.listdir(sys.prefix)):
            if entry.startswith("lib") and not os.path.islink(os.path.join(sys.prefix, entry)):
                binds.append((os.path.join(sys.prefix, entry), f"{VENV_MOUNT}/{entry}"))
        covered.append(sys.prefix)
        interpreter = VENV_MOUNT + "/" + os.path.relpath(sys.executable, sys.prefix)
    elif not _under(os.path.dirname(sys.executable), covered):
        binds.append((os.path.dirname(sys.executable),) * 2)
    for packages in site.getsitepackages():
        real = os.path.realpath(packages)
        if os.path.isdir(real) and not _under(packages, covered) and not _under(real, covered):
            binds.append((real, real))
            covered.append(real)
    return binds, interpreter


class _View:
    """Builds bwrap's arguments: mount points in order, parents made traversable."""

    def __init__(self):
        self.args: list[str] = []
        self.made = {"/", "/tmp", "/dev", "/dev/shm", "/proc", *SYSTEM_DIRS}

    def folder(self, path: str) -> None:
        """`path` and its parents as folders anyone may pass through: bwrap would make
        missing ones 0700 when it runs as root, closed to the unprivileged student."""
        for p in [*map(str, reversed(Path(path).parents)), path]:
            if p not in self.made:
                if _supports("--perms"):
                    self.args += ["--perms", "0755"]
                self.args += ["--dir", p]
                self.made.add(p)

    def bind(self, src: str, dest: str, writable=False, optional=False) -> None:
        self.folder(str(Path(dest).parent))
        kind = "--bind" if writable else "--ro-bind"
        self.args += [kind + ("-try" if optional else ""), src, dest]
        self.made.add(dest)

    def tmpfs(self, dest: str, megabytes: int) -> None:
        if _supports("--perms"):
            self.args += ["--perms", "1777"]
        if _supports("--size"):
            self.args += ["--size", str(megabytes * 2**20)]
        self.args += ["--tmpfs", dest]


def _venv_rest(view: _View, staging: Path, interpreter: str) -> None:
    """What the sandbox needs of the virtual environment besides its packages: links
    named as in the venv (lib64 -> lib), the interpreter as a link to the real one, and
    a pyvenv.cfg with only `home`, `version` and the site-packages switch (written into
    `staging`, which the sandbox does not see as such)."""
    for entry in sorted(os.listdir(sys.prefix)):
        if entry.startswith("lib") and os.path.islink(os.path.join(sys.prefix, entry)):
            view.args += ["--symlink", os.readlink(os.path.join(sys.prefix, entry)),
                          f"{VENV_MOUNT}/{entry}"]
    real = os.path.realpath(sys.executable)
    view.folder(os.path.dirname(interpreter))
    if _under(real, [sys.prefix, os.path.realpath(sys.prefix)]):  # a copy, not a link
        view.bind(real, interpreter)
    else:
        view.args += ["--symlink", real, interpreter]
    kept = []
    for line in Path(sys.prefix, "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
        key = line.partition("=")[0].strip().lower()
        if key in ("home", "version", "version_info", "include-system-site-packages"):
            kept.append(line)
    cfg = Path(staging) / ".sandbox-pyvenv.cfg"
    tmp = cfg.with_name(f"{cfg.name}.{os.getpid()}")
    tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, cfg)
    view.bind(str(cfg), f"{VENV_MOUNT}/pyvenv.cfg")


def bwrap_command(argv: list[str], staging: Path, ids: tuple[int, int] | None
                  ) -> tuple[list[str], bytes]:
    """The command that runs `argv` (an interpreter command line) in the sandbox, and the
    bwrap options to feed it through `--args FD` (so that no path in them is on any
    command line). `ids`: as root, who the student is (see sandbox_ids)."""
    staging = Path(staging)
    runtime, interpreter = _runtime_binds()
    view = _View()
    view.args += ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
                  "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                  "--hostname", "sandbox"]
    if ids is None:  # unprivileged: a user namespace where the grader's user is nobody
        view.args += ["--unshare-user", "--uid", str(NOBODY[0]), "--gid", str(NOBODY[1])]
        if _supports("--disable-userns"):
            view.args += ["--disable-userns"]
    else:  # root: setpriv below drops to the student's uid, then no capability is left
        view.args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            view.args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            view.args += ["--ro-bind", d, d]
    for path in ETC_PATHS:
        view.bind(path, path, optional=True)
    for src, dest in runtime:
        view.bind(src, dest)
    if interpreter.startswith(VENV_MOUNT + "/"):
        _venv_rest(view, staging, interpreter)
    view.args += ["--proc", "/proc", "--dev", "/dev"]
    view.tmpfs("/tmp", TMP_MB)
    view.tmpfs("/dev/shm", TMP_MB)
    # The staging parts keep their host paths, so paths the tests hand to student code
    # (a folder to save a plot in) mean the same inside.
    for part in READ_ONLY_PARTS:
        if (staging / part).is_dir():
            view.bind(str(staging / part), str(staging / part))
    for part in WRITABLE_PARTS:
        if (staging / part).is_dir():
            view.bind(str(staging / part), str(staging / part), writable=True)
    view.folder(str(staging))
    view.args += ["--chdir", str(staging)]
    command = [interpreter, *argv[1:]]
    if ids is not None:
        command = [shutil.which("setpriv") or "setpriv", f"--reuid={ids[0]}",
                   f"--regid={ids[1]}", "--clear-groups", "--inh-caps=-all",
                   "--no-new-privs", "--", *command]
    options = b"".join(a.encode() + b"\0" for a in view.args)
    return [shutil.which("bwrap") or "bwrap", "--args", "{fd}", "--", *command], options


def launch_args(argv: list[str], staging: Path, ids: tuple[int, int] | None
                ) -> tuple[list[str], int]:
    """bwrap_command with its options written into a pipe: (command, fd to pass).
    The caller passes the fd to the child and closes it after starting it."""
    cmd, options = bwrap_command(argv, staging, ids)
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, options)  # a few kB: far below a pipe's buffer
    finally:
        os.close(write_fd)
    return [str(read_fd) if a == "{fd}" else a for a in cmd], read_fd


def exit_code(code: int | None, sandboxed: bool) -> int | None:
    """bwrap reports a command killed by signal N as exit status 128 + N; give it back
    as -N, the way subprocess reports a signal."""
    if sandboxed and code is not None and 128 < code <= 128 + 64:
        return -(code - 128)
    return code


class _ProbeTimeout(Exception):
    """The test sandbox did not answer within probe_timeout()."""


def sandbox_problem(user: str | None) -> str | None:
    """Why the sandbox cannot run student code here, or None when it can (a probe that
    timed out is a reason too; detect() treats it as an error instead)."""
    try:
        return _sandbox_problem(user)
    except _ProbeTimeout as exc:
        return str(exc)


def _sandbox_problem(user: str | None) -> str | None:
    """Why the sandbox cannot run student code here, or None when it can: a real sandbox
    is started and must import numpy, see itself as one of the first processes of its
    own PID namespace, no network interface but loopback and no file outside its view.
    Raises _ProbeTimeout when it did not answer in time."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap needs Linux"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        ids = sandbox_ids(user)
    except KeyError:
        return f"no user named {user!r}"
    if ids is not None and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    with tempfile.TemporaryDirectory(prefix="rnn-probe-") as tmp:
        staging = Path(tmp)
        os.chmod(staging, 0o755)
        for part in (*READ_ONLY_PARTS, *WRITABLE_PARTS, "logs"):
            (staging / part).mkdir()
        hidden = staging / "logs" / "hidden"
        hidden.write_text("outside the view")
        code = ("import os, socket, numpy\n"
                f"print(os.getpid(), os.path.exists({str(hidden)!r}),"
                " sorted(n for _, n in socket.if_nameindex()))")
        cmd, fd = launch_args([sys.executable, "-E", "-s", "-B", "-c", code], staging, ids)
        timeout = probe_timeout()
        try:
            proc = subprocess.run(cmd, pass_fds=(fd,), capture_output=True, text=True,
                                  cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                                  timeout=timeout, start_new_session=True, check=False)
        except subprocess.TimeoutExpired:
            raise _ProbeTimeout(f"a test sandbox did not start within {timeout:g} s (a "
                                "loaded machine?); nothing was graded at a weaker level"
                                ) from None
        finally:
            os.close(fd)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return (lines[-1] if lines else f"bwrap exited with {proc.returncode}")[:300]
    seen = proc.stdout.strip().split(None, 2)
    if len(seen) != 3 or int(seen[0]) > 3 or seen[1] != "False" or seen[2] != "['lo']":
        return f"a test sandbox was not isolated (saw {proc.stdout.strip()[:200]!r})"
    return None


def user_problem(user: str | None) -> str | None:
    """Why student code cannot run as a separate user here, or None when it can."""
    if os.geteuid() != 0:
        return "the grader is not root, so it cannot start processes as another user"
    if not user:
        return "AUTOGRADER_STUDENT_USER is not set"
    try:
        ids = student_ids(user)
    except KeyError:
        return f"no user named {user!r}"

    def become():
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])

    try:
        proc = subprocess.run([sys.executable, "-E", "-s", "-c", "import numpy"],
                              preexec_fn=become, capture_output=True, text=True, cwd="/",
                              env={"PATH": "/usr/bin:/bin"}, check=False)
        error = proc.stderr.strip()[-300:] if proc.returncode else None
    except OSError as exc:
        error = str(exc)
    if error is not None:
        return (f"{user!r} cannot run {sys.executable} with numpy ({error}); install the "
                "requirements where that user can read them (e.g. the system Python)")
    return None


# ---------------------------------------------------------------------------------------
# The trusted processes
# ---------------------------------------------------------------------------------------


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0) == 0


def make_undumpable() -> bool:
    """Same-uid processes can then no longer open this process's /proc/PID/fd, mem or
    environ, nor attach a debugger: what student code running as the grader's user could
    otherwise use to write into the outcome pipe or read the run's secret."""
    return _prctl(PR_SET_DUMPABLE, 0)


_KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_CLEAR = 7
KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -4, -5


def clear_keyrings(ids: tuple[int, int] | None) -> str | None:
    """Empty the kernel keyrings that every process of the student uid shares (its user
    and user-session keyrings), from a child that takes that uid: what one submission
    left there cannot reach the next (the worker refuses keyring calls to student code
    where it can, worker.confine; this is for where it cannot). Returns why it could not,
    or None; a no-op (None) when student code runs as the grader's own user."""
    if ids is None or os.geteuid() != 0:
        return None
    number = _KEYCTL.get(os.uname().machine) if sys.platform.startswith("linux") else None
    if number is None:
        return "no keyctl here"
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only drops to the uid and clears
        status = 1
        try:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
            status = 0
            for ring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
                if libc.syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_CLEAR),
                                ctypes.c_long(ring)) != 0 and ctypes.get_errno() not in (
                                    1, 38):  # EPERM/ENOSYS: keyrings refused here anyway
                    status = 2
        finally:
            os._exit(status)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return None if status == 0 else f"keyctl clear failed (status {status})"


def remove_own_temp_files(folders=("/tmp", "/var/tmp", "/dev/shm")) -> int:
    """Remove what this process's user owns at the top of the shared temp folders. Run
    as the student user (Limits.kill_leftovers): it can remove nothing but its own, and
    a link it planted is removed, never followed. Returns how many entries went."""
    removed = 0
    uid = os.getuid()
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed
