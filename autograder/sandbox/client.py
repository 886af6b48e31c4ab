"""The trusted side of the boundary: starts student processes and calls into them.

`RemoteLoader.module("ex01")` returns a `RemoteModule` whose attributes are functions that
send their arguments to a worker process (autograder/sandbox/worker.py) running the
student's file, and return plain data. A call that raises, crashes the process, exits,
hangs past its timeout or answers with junk raises here, in the test that made it; the
next call starts a fresh process, so one bad call costs one test.
"""

from __future__ import annotations

import builtins
import errno
import itertools
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import weakref
from pathlib import Path

from autograder.sandbox import cgroups, isolation, reaper, reference_ex01, wire
from tests.public import predictors
from tests.public.harness import EXERCISES, SubmissionError

# What the student process runs besides the student's files, by name -> source.
RUNTIME_FILES = {
    "worker.py": Path(__file__).with_name("worker.py"),
    "wire.py": Path(__file__).with_name("wire.py"),
    "served_ex01.py": Path(__file__).with_name("served_ex01.py"),
    "figures.py": Path(__file__).resolve().parents[2] / "tests" / "public" / "figures.py",
    "predictors.py": Path(__file__).resolve().parents[2] / "tests" / "public" / "predictors.py",
}


# RLIMIT_AS of a worker: a backstop for the watchdog's blind moments, not the limit.
AS_BACKSTOP_MB = 65536
# Processes (and threads) of one worker's tree.
PROCESSES = 256


# What `grade-all` tells each grade it runs (see batch.py): how many grades run at once,
# and how much longer than alone its wall-clock limits are (more jobs than CPUs: each
# grade's CPU quota is under one CPU, so everything it does takes that much longer).
JOBS_ENV, TIME_SCALE_ENV = "AUTOGRADER_JOBS", "AUTOGRADER_TIME_SCALE"
# What grade.py tells a trusted pytest whose exercise is graded beside another: the CPU
# quota of each of its workers (see grade.exercise_lanes).
WORKER_CPUS_ENV = "AUTOGRADER_WORKER_CPUS"


def _env_number(name: str, default: float, least: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= least:
        raise ValueError(f"{name}: expected a number >= {least:g}, got {text!r}")
    return value


def time_scale() -> float:
    """The factor on every wall-clock limit of this grade (AUTOGRADER_TIME_SCALE; 1)."""
    return _env_number(TIME_SCALE_ENV, 1.0, 1.0)


def trusted_tasks() -> int:
    """Processes and threads one grade's trusted side may need besides its student
    worker (the grade, its pytest, their threads, bwrap): torch starts a thread per CPU."""
    return 256 + 8 * cgroups.cores()


def grade_tasks(processes: int = PROCESSES) -> int:
    """pids.max of one grade's cgroup in a batch: its trusted side and one worker."""
    return processes + trusted_tasks()


class StudentCodeError(Exception):
    """Student code raised, crashed, exited or timed out during a call."""


_error_types: dict[str, type] = {}


def _error_class(etype: str, builtin: bool) -> type:
    """An exception class that is both StudentCodeError and, for builtin types, the
    student's own type, so `pytest.raises(ValueError)` reads the same in both modes."""
    base = getattr(builtins, etype, None)
    if not (builtin and isinstance(base, type) and issubclass(base, Exception)
            and not issubclass(base, AssertionError)):
        return StudentCodeError
    if etype not in _error_types:
        _error_types[etype] = type(f"Student{etype}", (StudentCodeError, base), {})
    return _error_types[etype]


class Handle:
    """A value that stayed in the student process (e.g. a cache object, a model).

    Its public attributes read as in one process, `model.params` or `model.fit(X, y)`:
    the attribute is read in the student process and comes back as plain data, or as
    another handle (a bound method) whose call runs there too. Calls through a handle get
    the timeout of the call that made it (`ex02.with_timeout(60).RNNRegressor(...)`)."""

    def __init__(self, process: StudentProcess, generation: int, key: int, type_name: str,
                 timeout: float = 10.0, label: str | None = None):
        self.process, self.generation, self.key, self.type_name = (
            process, generation, key, type_name)
        self.timeout, self.label = timeout, label or type_name

    _OWN = frozenset({"process", "generation", "key", "type_name", "timeout", "label"})

    def __repr__(self):
        return f"<student {self.type_name} object>"

    def __setattr__(self, name, value):
        """`model.params = {...}` sets the attribute of the object in the student process,
        as in one process (instead of a local attribute here that its methods never see)."""
        if name in Handle._OWN:
            object.__setattr__(self, name, value)
        elif name.startswith("_"):
            raise AttributeError(f"cannot set {name!r} on a student object")
        else:
            self.process.call(name, (value,), {}, self.timeout, target=self, put=name)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        value = self.process.call(name, (), {}, self.timeout, target=self, get=name)
        if isinstance(value, Handle):
            value.label = name
        return value

    def __call__(self, *args, **kwargs):
        return self.process.call(self.label, args, kwargs, self.timeout, target=self)


def _become(ids: tuple[int, int]) -> None:
    """Drop this process to the student user (uid, gid), with no other groups."""
    os.setgroups([])
    os.setgid(ids[1])
    os.setuid(ids[0])


class Limits:
    """Resources of one student process, how it is isolated and the user it runs as.

    `level` (see isolation.py): "sandbox" (bubblewrap), "user" (a root grader runs
    student code as AUTOGRADER_STUDENT_USER) or "same-user"; None: the strongest this
    machine allows, detected on first use.
    """

    def __init__(self, memory_mb=3072, cpu_s=600, file_mb=64, scratch_mb=256, user=None,
                 budget_s=100.0, scratch_entries=10_000, scratch_depth=32, level=None,
                 processes=PROCESSES):
        # memory_mb: what one worker's process tree may use (resident, not mapped): a
        # memory cgroup where one can be made, else a watchdog (see StudentProcess).
        self.memory_mb, self.cpu_s, self.file_mb = memory_mb, cpu_s, file_mb
        self.processes = processes  # of one worker's tree (pids.max, else RLIMIT_NPROC)
        # What student code may leave in its folders: bytes, entries, folder depth. The
        # check after each call stops at the first two, so its cost is bounded too.
        self.scratch_mb, self.scratch_entries = scratch_mb, scratch_entries
        self.scratch_depth = scratch_depth
        # Wall seconds that all calls into one file may take together (see grade.py).
        self.budget_s = budget_s
        self.user = user if user is not None else os.environ.get("AUTOGRADER_STUDENT_USER")
        self.level = level
        self._isolation = None
        # Set by grade-all for its grades (see JOBS_ENV): per-call and load timeouts are
        # stretched by time_scale; jobs sizes the host-wide RLIMIT_NPROC backstop.
        self.time_scale = time_scale()
        self.jobs = int(_env_number(JOBS_ENV, 1, 1))
        # A CPU quota per worker (None: none), set where two exercises run at once.
        self.worker_cpus = _env_number(WORKER_CPUS_ENV, 0, 0) or None

    def isolation(self) -> isolation.Level:
        """The level student processes run at: the one given, else the strongest this
        machine allows (tried once per process, see isolation.detect)."""
        if self._isolation is None:
            self._isolation = (isolation.detect(self.user) if self.level is None else
                               isolation.Level(self.level, "chosen by the grader"))
            self.level = self._isolation.name
        return self._isolation

    def ids(self):
        """(uid, gid) student code runs as, when that is not the grader's own user."""
        level = self.isolation().name
        if level == "sandbox":
            return isolation.sandbox_ids(self.user)
        if level == "user":
            return isolation.student_ids(self.user)
        return None

    def check_user(self) -> None:
        """Fail loudly, before grading, when the student user cannot run Python here."""
        problem = isolation.user_problem(self.user) if self.isolation().name == "user" else None
        if problem is not None:
            raise RuntimeError(f"AUTOGRADER_STUDENT_USER: {problem}")

    def kill_leftovers(self) -> None:
        """Processes that student code left behind (e.g. after setsid) die with the run,
        and the files it left in the shared temp folders go. Only with a student user
        of its own: a kill as that user reaches nothing else, and what it removes is its
        own. (In the sandbox both die with it; grade.py reaps what same-user code leaves.)"""
        if self.isolation().name != "user":
            return
        ids = self.ids()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child only signals, removes and exits
            try:
                _become(ids)
                os.kill(-1, signal.SIGKILL)
                isolation.remove_own_temp_files()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    def exit_code(self, code: int | None) -> int | None:
        """The student process's exit status as subprocess reports it (-N: signal N)."""
        return isolation.exit_code(code, self.isolation().name == "sandbox")

    def command(self, argv: list[str], staging: Path) -> tuple[list[str], tuple[int, ...]]:
        """How to start `argv` (the worker's command line) at this level, and the extra
        file descriptors the child needs (close them once it started)."""
        if self.isolation().name != "sandbox":
            return argv, ()
        cmd, fd = isolation.launch_args(argv, staging, self.ids())
        return cmd, (fd,)

    def preexec(self, group: cgroups.Group | None = None):
        import resource

        ids = self.ids()
        # In the sandbox a root grader's bwrap needs root to build the view; the student
        # uid is taken inside it (setpriv), after the mounts.
        drop = ids is not None and self.isolation().name == "user"

        def apply():
            if group is not None:  # first, while still the grader's user
                group.enter()
            # Only a backstop far above what any library maps (a CUDA build of torch maps
            # gigabytes it never uses): memory_mb is enforced on what is used.
            mem = max(AS_BACKSTOP_MB, 4 * self.memory_mb) * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_s, self.cpu_s + 5))
            size = self.file_mb * 2**20
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            # The grader's own memory budget (a soft RLIMIT_DATA, see grade.py) is not the
            # student's: RLIMIT_AS above is.
            data_hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
            resource.setrlimit(resource.RLIMIT_DATA, (data_hard, data_hard))
            # A write past the file limit fails with an error instead of killing the process.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            if drop:
                _become(ids)
            if ids is not None:
                # Counts all processes of the student uid, host-wide (root is exempt), so
                # every job of a batch shares it: the limit only where no pids cgroup counts
                # this worker's own (batch.py then grades one at a time), else a backstop
                # above what all the jobs' grades may hold together.
                nproc = self.processes if group is None else (
                    self.jobs * grade_tasks(self.processes) + self.processes)
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

        return apply


class StudentProcess:
    """One worker process running one student file; restarted after any failure."""

    def __init__(self, staging: Path, module_name: str, limits: Limits, load_timeout=60.0,
                 budget_s: float | None = None, serve_exercise1: bool = False):
        self.staging, self.module_name, self.limits = staging, module_name, limits
        # The course policy "reference": each start gets a reference Exercise 1 process
        # of its own, reached from the worker through a pipe pair (reference_ex01.py).
        self.serve_exercise1, self.reference = serve_exercise1, None
        self.load_timeout = load_timeout
        # Wall time all calls into this file may take together: a function that loops
        # forever costs its own timeout a few times, not every test's timeout.
        self.budget_left = limits.budget_s if budget_s is None else budget_s
        self.sealed: set[tuple[int, int, int]] = set()  # files of testdirs/ made ours
        _instances.add(self)
        self.timeouts: dict[str, int] = {}
        self.proc = None
        self.generation = 0
        self.log_path = staging / "logs" / f"{module_name}.log"
        # The worker's memory and process count: a cgroup of its own, made at first start
        # and kept across restarts, else (None) a watchdog per start.
        self.group, self.group_how = cgroups.Group.create(
            "worker", memory_mb=limits.memory_mb, pids=limits.processes,
            cpus=limits.worker_cpus)
        self.watchdog: reaper.Watchdog | None = None
        self.oom_seen = self.group.oom_kills() if self.group else 0

    def _env(self) -> dict:
        scratch = str(self.staging / "scratch")
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": scratch,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }

    def start(self):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        if self.serve_exercise1:
            if self.reference is not None:  # left by a start that failed
                self.reference.stop()
            self.reference = reference_ex01.Server(self.limits.memory_mb, self.limits.cpu_s)
        log = open(self.log_path, "ab")
        served = self.reference.student_fds if self.reference else ()
        cmd, extra_fds = self.limits.command(
            [sys.executable, "-E", "-s", "-B", str(self.staging / "runtime" / "worker.py"),
             str(req_r), str(resp_w), str(self.staging / "submission"), self.module_name,
             *map(str, served)],
            self.staging)
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(req_r, resp_w, *served, *extra_fds), cwd=self.staging,
                env=self._env(),
                preexec_fn=self.limits.preexec(self.group), start_new_session=True,
            )
            self.watchdog = reaper.Watchdog(self._memory_trip(self.proc.pid),
                                            f"memory of {self.module_name}",
                                            0.05 if self.group else 0.1)
        finally:
            log.close()
            for fd in extra_fds:
                os.close(fd)
            if self.reference is not None:
                self.reference.close_student_fds()
            os.close(req_r)
            os.close(resp_w)
        self.req, self.resp = req_w, resp_r
        os.set_blocking(self.req, False)
        self.generation += 1
        load_timeout = self.load_timeout * self.limits.time_scale
        try:
            header, _ = wire.read_message(self.resp, time.monotonic() + load_timeout)
        except TimeoutError:
            self.stop()
            raise SubmissionError(
                f"{self.module_name}.py: importing the file took over {load_timeout:.0f} s "
                "(does it train or loop at import time? Put demo code under "
                "if __name__ == '__main__':)") from None
        except (EOFError, wire.WireError, ValueError):
            note = self._exit_note()
            memory = self.over_memory()
            self.stop()
            if memory:
                raise SubmissionError(
                    f"{self.module_name}.py: importing the file {self._memory_text()}"
                    f"{self.output_tail()}") from None
            raise SubmissionError(
                f"{self.module_name}.py: the process exited while importing the file"
                f"{note}{self.output_tail()}") from None
        if "load_error" in header:
            self.stop()
            err = header["load_error"]
            msg = err.get("msg", "")
            if err.get("etype") == "SyntaxError":
                raise SubmissionError(f"{self.module_name}.py: {msg}")
            raise SubmissionError(
                f"{self.module_name}.py: importing the file raised {err.get('etype')}: "
                f"{msg}\n{err.get('tb', '')}".rstrip())

    def _check_disk(self, func: str) -> None:
        """Files are limited one by one (RLIMIT_FSIZE); this limits their sum, their number
        and their depth, in the folders student code may write. The check costs the
        student's time budget, and stops early, so a flood of files cannot make it slow."""
        started = time.monotonic()
        try:
            folders = [self.staging / "scratch", self.staging / "testdirs"]
            used = entries = 0
            within = True
            for folder in folders:
                size, count, ok = scan_files(folder, self.limits.scratch_entries - entries,
                                             self.limits.scratch_depth)
                used, entries, within = used + size, entries + count, within and ok
            if within and used <= self.limits.scratch_mb * 2**20:
                seal_files(self.staging / "testdirs", self.sealed,
                           0o666 if self.limits.ids() is not None else 0o644)
                return
            self.stop()
            self.limits.kill_leftovers()
            reaper.reap_strays(keep=live_workers())
            for folder in folders:
                remove_tree(folder, keep_root=True, keep_top_dirs=folder.name == "testdirs")
        finally:
            self.budget_left -= time.monotonic() - started
        if not within:
            raise StudentCodeError(
                f"{func}: your code made over {self.limits.scratch_entries} files and folders, "
                f"or folders over {self.limits.scratch_depth} deep; they were deleted")
        raise StudentCodeError(
            f"{func}: your code wrote {used / 2**20:.0f} MB of files, over the "
            f"{self.limits.scratch_mb} MB allowed; they were deleted")

    def _exit_note(self) -> str:
        """How the process ended, once it has (its pipe can close a moment earlier)."""
        if self.proc is None:
            return ""
        try:
            code = self.limits.exit_code(self.proc.wait(timeout=2))
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return ""
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (out of memory or CPU time?)" if name in ("SIGKILL", "SIGXCPU") else ""
            return f" (killed by {name}{hint})"
        return f" (exit code {code}: did the code call exit(), sys.exit() or os._exit()?)"

    def _memory_trip(self, root: int):
        """What the watchdog checks: with a cgroup, whether the kernel killed a process
        of it for memory (then the rest of the tree goes too: a child holding the
        worker's pipes would otherwise keep the call waiting); without one, the resident
        memory of the worker's tree and of the strays this process adopted (it cannot
        see a burst between two looks, RLIMIT_AS stays as a backstop, nor files in a
        tmpfs that no process maps)."""
        group, limit = self.group, self.limits.memory_mb * 2**20
        if group is not None:
            seen = group.oom_kills()

            def trip() -> bool:
                if group.oom_kills() <= seen:
                    return False
                group.kill()
                return True
            return trip

        def watch() -> bool:
            tree = reaper.descendants({root} | (reaper.children() - live_workers()))
            if reaper.resident_bytes(tree) <= limit:
                return False
            reaper.kill_all(tree)
            return True
        return watch

    def over_memory(self) -> bool:
        """The worker was stopped for using more than memory_mb (by the cgroup's limit
        or the watchdog) since the last time this was asked."""
        tripped = self.watchdog is not None and self.watchdog.tripped
        if self.group is not None:
            ooms = self.group.oom_kills()
            tripped, self.oom_seen = tripped or ooms > self.oom_seen, ooms
        return tripped

    def _memory_text(self) -> str:
        return (f"used more than {self.limits.memory_mb} MB of memory, so it was stopped "
                "(arrays far larger than the task needs? a list that grows without end?)")

    def output_tail(self, limit=1500) -> str:
        text = read_tail(self.log_path, limit).decode("utf-8", "replace").strip()
        return f"\n--- last output of your code ---\n{text}" if text else ""

    def stop(self):
        if self.reference is not None:
            self.reference.stop()
            self.reference = None
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.group is not None:  # its whole tree, whatever sessions it made
            self.group.kill()
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
        self.proc.wait()
        for fd in (self.req, self.resp):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    def release(self) -> None:
        """After the last stop: the worker's cgroup goes (with anything still in it)."""
        if self.group is not None:
            self.group.remove()
            self.group = None

    def _encode_args(self, args, kwargs):
        def keep(value):
            if predictors.is_predictor(value):
                # Plain data: rebuilt in the student process from its own copy of
                # tests/public/predictors.py, and passed on by handle.
                value = self.call("LinearPredictor", (value.to_plain(),), {}, 10.0,
                                  runtime="predictor")
            if isinstance(value, Handle):
                if value.process is not self or value.generation != self.generation:
                    raise StudentCodeError(
                        f"a {value.type_name} returned by an earlier call cannot be used: "
                        "the student process was restarted after a crash in between")
                return {"ref": value.key}
            raise wire.WireError(f"tests cannot send a {type(value).__name__}")

        enc = wire.Encoder(keep=keep)
        return enc.encode(tuple(args)), enc.encode(kwargs), enc.arrays

    def call(self, func: str, args, kwargs, timeout: float, target: Handle | None = None,
             get: str | None = None, runtime: str | None = None, put: str | None = None):
        """Call `func` of the student's module, or (`target`) call the object a handle
        stands for, or read its attribute `get`, or set its attribute `put` to the one
        argument; `runtime` names one of the worker's own constructors of test objects from
        plain data (worker.RUNTIME_CALLS)."""
        if self.timeouts.get(func, 0) >= 2:
            raise StudentCodeError(f"{func} was not called: it ran past its time limit twice "
                                   "already (an endless loop?)")
        if self.budget_left <= 0:
            raise StudentCodeError(
                f"{func} was not called: calls into {self.module_name}.py have used up their "
                "time budget (an earlier call looped forever or was far too slow)")
        if self.proc is None:
            started = time.monotonic()
            try:
                self.start()
            finally:
                self.budget_left -= time.monotonic() - started
        args_tree, kwargs_tree, arrays = self._encode_args(args, kwargs)
        request = {"func": func, "args": args_tree, "kwargs": kwargs_tree}
        if target is not None:
            request.update(target=self._encode_args((target,), {})[0], get=get)
            if put is not None:
                request["put"] = put
        if runtime is not None:
            request["runtime"] = runtime
        requested, timeout = timeout, min(timeout * self.limits.time_scale, self.budget_left)
        started = time.monotonic()
        try:
            wire.write_message(self.req, request, arrays, started + timeout)
            header, out = wire.read_message(self.resp, started + timeout)
        except TimeoutError:
            self.stop()
            self.timeouts[func] = self.timeouts.get(func, 0) + 1
            raise StudentCodeError(
                f"{func} did not return within {timeout:.3g} s (an endless loop? far too many "
                f"steps?){self.output_tail()}") from None
        except (EOFError, BrokenPipeError, wire.WireError, ValueError, OSError,
                RecursionError, MemoryError) as exc:
            if isinstance(exc, (EOFError, BrokenPipeError)):
                note = self._exit_note()
                text = (f"{func}: your code {self._memory_text()}" if self.over_memory()
                        else f"the student process died during {func}{note}")
            else:
                text = f"{func}: its answer was not readable ({str(exc)[:300]})"
            self.stop()
            raise StudentCodeError(text + self.output_tail()) from None
        finally:
            self.budget_left -= time.monotonic() - started
        self._check_disk(func)
        if not header.get("ok"):
            raise self._raised(func, header)
        root = [list(args), kwargs]
        generation = self.generation

        def resolve(tag, value):
            if tag == "handle":
                return Handle(self, generation, int(value[0]), str(value[1]), requested)
            if tag == "alias":
                return _at(root, value)
            raise wire.WireError(f"unknown tag {tag}")

        # Checked as a whole before anything is built, by the call's deadline (plus the
        # moment a legal answer takes to decode); each array may be used once.
        decoder = wire.Decoder(out, resolve, tags=("handle", "alias"),
                               deadline=max(started + timeout, time.monotonic() + 2.0))
        try:
            result = decoder.decode(header["result"])
            for path, value in header.get("mutations", []):
                _apply_mutation(root, path, decoder.decode(value))
        except (wire.WireError, KeyError, TypeError, ValueError, IndexError, RecursionError,
                MemoryError, TimeoutError) as exc:
            self.stop()
            raise StudentCodeError(
                f"{func}: the answer could not be read ({str(exc)[:300]})") from None
        return result

    def _raised(self, func, err) -> Exception:
        etype, msg, tb = (str(err.get(k, d))[:3000] for k, d in (
            ("etype", "Exception"), ("msg", ""), ("tb", "")))
        if etype == "NotImplementedError":
            text = f"not implemented yet: {msg or func}"
        elif etype == "AttributeError" and "defines no function" in msg and not tb:
            text = msg
        else:
            text = f"{func} raised {etype}: {msg}"
            if tb:
                text += f"\n--- where, in your code ---\n{tb.rstrip()}"
        # The nearest builtin class: `class ShapeError(ValueError)` is still a ValueError.
        base = err.get("base") if isinstance(err.get("base"), str) else None
        if base is None and err.get("builtin"):
            base = etype
        exc = _error_class(base or "", base is not None)(text)
        # What the student's exception said, without the traceback appended above: a test
        # that reads the message (harness.message_of) reads the same as in one process.
        exc.own_message = msg
        return exc


def _at(root, path):
    """The object at `path` in the caller's arguments; steps are list/tuple positions
    ("i", int) or dict keys ("k", key), nothing else (no indexing into arrays)."""
    obj = root
    for kind, key in path:
        if kind == "i" and isinstance(obj, (list, tuple)) and type(key) is int:
            obj = obj[key]
        elif kind == "k" and isinstance(obj, dict) and key in obj:
            obj = obj[key]
        else:
            raise wire.WireError("a reference to an argument that does not exist")
    return obj


def _apply_mutation(root, path, value):
    """Make the caller's argument look as the student left it."""
    import numpy as np

    if not path:
        return
    parent = _at(root, path[:-1])
    key = path[-1][1]
    current = parent[key]
    if (isinstance(current, np.ndarray) and isinstance(value, np.ndarray)
            and current.shape == value.shape):
        np.copyto(current, value, casting="unsafe")
    elif isinstance(current, dict) and isinstance(value, dict):
        current.clear()
        current.update(value)
    elif isinstance(current, list) and isinstance(value, list):
        current[:] = value
    elif isinstance(parent, (list, dict)):
        parent[key] = value


_instances: weakref.WeakSet[StudentProcess] = weakref.WeakSet()


def live_workers() -> set[int]:
    """Process ids of the student processes running now, and of the reference Exercise 1
    processes serving them (not strays to kill)."""
    return {pid for p in list(_instances) for pid in (
        p.proc.pid if p.proc is not None else None,
        p.reference.pid if p.reference is not None else None) if pid is not None}


class RemoteModule:
    """Stands in for the student's module: `module.f(*args)` runs f in the worker."""

    def __init__(self, process: StudentProcess, timeout: float = 10.0):
        self._process, self._timeout = process, timeout

    def with_timeout(self, seconds: float) -> RemoteModule:
        return RemoteModule(self._process, seconds)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return self._process.call(name, args, kwargs, self._timeout)

        call.__name__ = name
        return call


class RemoteLoader:
    """What the grading plugin installs as `config.student_loader`.

    `staging` is a folder the grader prepared: submission/ (the student's files only),
    data/, runtime/ (worker.py, wire.py), scratch/ (the only place the student may write).
    """

    def __init__(self, staging: Path, limits: Limits | None = None, exercise1: str = "own"):
        self.staging = Path(staging)
        self.limits = limits or Limits()
        self.processes: dict[str, StudentProcess] = {}
        self.errors: dict[str, SubmissionError] = {}
        # The course policy (settings.EXERCISE1_POLICY) and the exercise whose test runs
        # now (set by the grading plugin): under "reference", Exercises 2-4 and their
        # tests get the reference Exercise 1, Exercise 1's own tests the student's.
        self.exercise1, self.running = exercise1, None

    def module(self, exid: str) -> RemoteModule:
        if exid == "ex01" and self.exercise1 == "reference" and \
                self.running in reference_ex01.LATER:
            return reference_ex01.trusted_module()
        if exid in self.errors:
            raise self.errors[exid]
        if exid not in self.processes:
            filename = EXERCISES[exid]
            if not (self.staging / "submission" / filename).is_file():
                self.errors[exid] = SubmissionError(f"{filename} is not in the submission")
                raise self.errors[exid]
            process = StudentProcess(
                self.staging, filename[:-3], self.limits,
                serve_exercise1=self.exercise1 == "reference" and exid in reference_ex01.LATER)
            try:
                process.start()
            except SubmissionError as exc:
                process.release()
                self.errors[exid] = exc
                raise
            self.processes[exid] = process
        return RemoteModule(self.processes[exid])

    def scratch_dir(self, name: str) -> Path:
        """A fresh folder for one test's files. Its parent belongs to the grader, so
        student code cannot plant a link where it will be created."""
        path = self.staging / "testdirs" / name
        os.mkdir(path)
        if self.limits.ids() is not None:
            # The grader's, sticky: student code may add files, but not remove or rename
            # the grader's own copies that seal_files leaves for the test to read.
            os.chmod(path, 0o1777)
        return path

    def close(self):
        for process in self.processes.values():
            process.stop()
            process.release()
        self.limits.kill_leftovers()
        # Processes student code left behind and this process adopted (the grading
        # pytest is a subreaper, see pytest_plugin.py).
        reaper.reap_strays(keep=live_workers())


# ---------------------------------------------------------------------------------------
# Files student code wrote: counted, read and removed without trusting their shape
# ---------------------------------------------------------------------------------------

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def scan_files(root: Path, max_entries: int, max_depth: int) -> tuple[int, int, bool]:
    """(bytes, entries, within) under `root`, by an iterative walk that holds one open
    folder per level and stops at `max_entries` entries or `max_depth` levels (within is
    then False), so its time and memory do not grow with what student code made. A
    folder it may not read counts as over the limits: it could hide anything."""
    used = count = 0
    try:
        stack = [os.open(root, _DIR_FLAGS)]
    except OSError:
        return 0, 0, True
    walks = [os.scandir(stack[0])]
    try:
        while walks:
            entry = next(walks[-1], None)
            if entry is None:
                walks.pop().close()
                os.close(stack.pop())
                continue
            count += 1
            if count > max_entries:
                return used, count, False
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:  # removed while we looked
                continue
            used += info.st_size
            if stat.S_ISDIR(info.st_mode):
                if len(stack) >= max_depth:
                    return used, count, False
                try:
                    stack.append(os.open(entry.name, _DIR_FLAGS, dir_fd=stack[-1]))
                except FileNotFoundError:
                    continue
                except OSError:
                    return used, count, False
                walks.append(os.scandir(stack[-1]))
        return used, count, True
    finally:
        for walk in walks:
            walk.close()
        for fd in stack:
            os.close(fd)


_moved = itertools.count()


def _open_dir(name: str, parent: int) -> int:
    """Open a folder student code made, making it ours to empty first (it may have taken
    away read or write permission)."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:
        handle = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
        try:
            os.chmod(f"/proc/self/fd/{handle}", 0o700)
        finally:
            os.close(handle)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        os.fchmod(fd, 0o700)
    except OSError:
        pass
    return fd


def remove_tree(root: Path, keep_root: bool = False, keep_top_dirs: bool = False,
                time_limit: float = 30.0) -> bool:
    """Delete everything under `root` (and `root` unless keep_root; with keep_top_dirs,
    the folders directly in it stay, emptied). Returns True when nothing is left.

    Without recursion, with two folders open at a time and no list of names held: each
    folder is emptied one level deep, its sub-folders moved up into `root` to be emptied
    in turn, so no nesting (3000 folders, deeper than PATH_MAX) can exhaust the stack, the
    open files or memory. Files that appear meanwhile are taken on the next pass, until
    `time_limit`; links are removed, never followed. Run it after the processes that
    wrote there are gone."""
    try:
        top = os.open(root, _DIR_FLAGS)
    except FileNotFoundError:
        return True
    deadline = time.monotonic() + time_limit
    kept: set[str] = set()  # emptied folders that stay, and entries we cannot remove
    stuck = False
    done = False
    try:
        while not done and time.monotonic() < deadline:
            done = True
            with os.scandir(top) as entries:
                for entry in entries:
                    if entry.name in kept:
                        continue
                    done = False
                    keep = keep_top_dirs and not entry.name.startswith(".rm-")
                    try:
                        if _remove_one(top, entry.name, keep):
                            kept.add(entry.name)
                    except OSError:
                        kept.add(entry.name)
                        stuck = True
                    if time.monotonic() > deadline:
                        break
    except OSError:
        done = False
    finally:
        os.close(top)
    done = done and not stuck
    if not done or keep_root:
        return done
    try:
        os.rmdir(root)
    except OSError:
        return False
    return True


def _remove_one(top: int, name: str, keep: bool) -> bool:
    """Remove `name` in `top` (a folder: empty it one level, moving its sub-folders up);
    True when it is a folder that stays (keep), emptied."""
    try:
        info = os.stat(name, dir_fd=top, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        _unlink(name, top)
        return False
    try:
        fd = _open_dir(name, top)
    except FileNotFoundError:
        return False
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if not is_dir:
                    _unlink(entry.name, fd)
                    continue
                while True:  # a fresh name in top: student code could have taken any name
                    try:
                        os.rename(entry.name, f".rm-{next(_moved)}", src_dir_fd=fd,
                                  dst_dir_fd=top)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                            break
    finally:
        os.close(fd)
    if keep:
        return True
    try:
        os.rmdir(name, dir_fd=top)
    except OSError:  # something appeared meanwhile: the next pass takes it
        pass
    return False


def _unlink(name: str, parent: int) -> None:
    try:
        os.unlink(name, dir_fd=parent)
    except FileNotFoundError:
        pass
    except PermissionError:  # the folder's permissions were taken away; ours again
        os.fchmod(parent, 0o700)
        os.unlink(name, dir_fd=parent)
    except OSError:  # e.g. a file that is busy; the folder's removal will say so
        pass


def seal_files(root: Path, sealed: set[tuple[int, int, int]], mode: int = 0o644) -> None:
    """Make the files student code left in the tests' folders (the plots tests read) the
    grader's own, after each call and inside its budget: each new or changed regular file
    is opened without waiting (O_NONBLOCK: a file under a lease fails at once and is
    removed, instead of holding the test's open() for the 45 s the kernel gives a lease
    holder) and replaced by a copy the grader owns, which student code running as another
    user cannot lease, nor (the folder is sticky) replace. Sizes are bounded by the scan
    that came before; `sealed` remembers the copies, made with `mode` (0o666 where student
    code is another user and may write its plot again)."""
    try:
        top = os.open(root, _DIR_FLAGS)
    except OSError:
        return
    try:
        with os.scandir(top) as tests:
            for test in tests:
                try:
                    folder = os.open(test.name, _DIR_FLAGS, dir_fd=top)
                except OSError:  # not a folder, or gone
                    continue
                try:
                    with os.scandir(folder) as files:
                        for entry in files:
                            _seal_one(folder, entry, sealed, mode)
                finally:
                    os.close(folder)
    finally:
        os.close(top)


def _seal_one(folder: int, entry: os.DirEntry, sealed: set[tuple[int, int, int]],
              mode: int) -> None:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return
    if (not stat.S_ISREG(info.st_mode) or entry.name.startswith(".sealed-")
            or (info.st_ino, info.st_mtime_ns, info.st_size) in sealed):
        return
    try:
        source = os.open(entry.name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=folder)
    except BlockingIOError:  # under a lease: withheld, the test finds no file
        _unlink(entry.name, folder)
        return
    except OSError:
        return
    copy = f".sealed-{next(_moved)}"
    try:
        target = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o666, dir_fd=folder)
        with open(source, "rb", closefd=False) as fin, open(target, "wb") as fout:
            os.fchmod(target, mode)
            shutil.copyfileobj(fin, fout)
            fout.flush()
            made = os.fstat(target)
        os.rename(copy, entry.name, src_dir_fd=folder, dst_dir_fd=folder)
        sealed.add((made.st_ino, made.st_mtime_ns, made.st_size))
    except OSError:
        _unlink(copy, folder)
    finally:
        os.close(source)


def read_tail(path: Path, limit: int) -> bytes:
    """The last `limit` bytes of a file student code could have touched. Opened without
    following a link and without waiting (a lease taken on the file would hold a plain
    open() for 45 s); anything but a regular file reads as empty."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY
                     | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return b""
        return os.pread(fd, limit, max(0, info.st_size - limit))
    except OSError:
        return b""
    finally:
        os.close(fd)


def stage(files: dict[str, Path], staging: Path, data_dir: Path | None, limits: Limits) -> Path:
    """Lay out a staging folder for `files` (exercise file name -> path of the student's
    copy). Only regular files are copied, never links."""
    for sub in ("submission", "runtime", "scratch", "testdirs", "logs", "data"):
        (staging / sub).mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        shutil.copyfile(src, staging / "submission" / name, follow_symlinks=False)
    for name, source in RUNTIME_FILES.items():
        shutil.copyfile(source, staging / "runtime" / name)
    if data_dir is not None and data_dir.is_dir():
        shutil.copytree(data_dir, staging / "data", dirs_exist_ok=True, symlinks=False)
    ids = limits.ids()
    if ids is not None:
        # The student user may read its files and write only to scratch/.
        for path in [staging, *staging.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        for path in [staging / "scratch", *(staging / "scratch").rglob("*")]:
            os.chown(path, *ids)
        os.chmod(staging / "logs", 0o700)
    return staging
