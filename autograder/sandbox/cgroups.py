"""Control groups: a process tree's memory, process count and CPU, limited and counted.

A cgroup holds a process and everything it starts, whatever sessions or process groups
they make, so it is what limits a student worker's memory by what it uses (not by what
it maps, as RLIMIT_AS did: a CUDA build of torch maps gigabytes at import and uses a few
hundred MB), counts one grade's processes apart from another's, gives each job of a batch
its share of the CPU, and kills a whole tree to its last process.

Both kernels' layouts are handled:

* cgroup v2 (`/sys/fs/cgroup/cgroup.controllers`; Gradescope, current distributions):
  memory.max + memory.swap.max 0 + memory.oom.group, pids.max, cpu.max, cgroup.kill. A
  group can be made where the grader's own cgroup lets children have these controllers
  (root of the hierarchy, a delegated subtree). In a container whose cgroup namespace root
  holds the grader (Gradescope as root), its processes are moved into a leaf first, as
  container runtimes do, so that the controllers can be handed down.
* cgroup v1 (one hierarchy per controller, `/sys/fs/cgroup/memory` ...): the group is made
  under the grader's own cgroup in each hierarchy: memory.limit_in_bytes (+ memsw where
  the kernel accounts swap), pids.max, cpu.cfs_quota_us, cpuacct.usage.

`AUTOGRADER_CGROUPS=off` makes none (the grader then uses its resident-size watchdog, see
client.py); it is how the tests exercise that path on a machine that has cgroups.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")
SWITCH = "AUTOGRADER_CGROUPS"
# A cgroup that holds the processes of its parent (v2 forbids processes in a group whose
# controllers are handed to children): its parent is where new groups go.
LEAF = "rnn-leaf"
PERIOD_US = 100_000
# What the groups inside a nested one (a worker's, inside its grade's) limit.
NESTED = ("memory", "pids")


def disabled() -> bool:
    return os.environ.get(SWITCH, "").strip().lower() in ("0", "off", "no", "false")


def _own() -> dict[str, str]:
    """This process's cgroup per v1 controller, and under "" its v2 cgroup."""
    found: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return found
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            found[name] = path
    return found


def cores() -> int:
    """CPUs this process may run on (its affinity; a container may give fewer than the
    machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpus() -> float:
    """CPUs this process may use: its affinity, or less where a CPU quota on its cgroup or
    one above it says so (a container's cpu.max, a batch job's group)."""
    limit, own = float(cores()), _own()
    for controller, name in (("", "cpu.max"), ("cpu", "cpu.cfs_quota_us")):
        if controller not in own:
            continue
        folder = MOUNT / controller / own[controller].lstrip("/")
        while True:
            try:
                if name == "cpu.max":
                    quota, period = (folder / name).read_text().split()
                else:
                    quota = (folder / name).read_text().strip()
                    period = (folder / "cpu.cfs_period_us").read_text().strip()
                if quota not in ("max", "-1"):
                    limit = min(limit, int(quota) / int(period))
            except (OSError, ValueError):
                pass
            if folder in (MOUNT / controller, MOUNT) or folder == folder.parent:
                break
            folder = folder.parent
    return limit


def _write(path: Path, value) -> None:
    with open(path, "w") as fh:
        fh.write(str(value))


def _v2_base(needed: list[str]) -> Path:
    """A v2 cgroup whose children may use `needed`; raises OSError where there is none."""
    own = _own().get("", "/").lstrip("/")
    base = MOUNT / own
    if base.name.startswith(LEAF):
        base = base.parent
    available = (base / "cgroup.controllers").read_text().split()
    missing = [c for c in needed if c not in available]
    if missing:
        raise OSError(f"controller {', '.join(missing)} not available in {base}")
    enabled = (base / "cgroup.subtree_control").read_text().split()
    wanted = [c for c in needed if c not in enabled]
    if not wanted:
        return base
    line = " ".join("+" + c for c in wanted)
    try:
        _write(base / "cgroup.subtree_control", line)
    except OSError:
        if base != MOUNT or os.geteuid() != 0:
            raise
        # The root of this cgroup namespace (a container) holds processes, so cannot hand
        # controllers down: move them all into a leaf, as container runtimes do.
        leaf = MOUNT / f"{LEAF}-init"
        leaf.mkdir(exist_ok=True)
        for pid in (base / "cgroup.procs").read_text().split():
            try:
                _write(leaf / "cgroup.procs", pid)
            except OSError:  # a kernel thread, or gone
                pass
        _write(base / "cgroup.subtree_control", line)
    return base


class Group:
    """One cgroup: a folder in v2, one folder per controller in v1. `join` is where a
    process enters (in v2 a leaf below the group when the group has children)."""

    def __init__(self, dirs: dict[str, Path], v2: bool, join: list[Path]):
        self.dirs, self.v2, self.join = dirs, v2, join

    @classmethod
    def create(cls, label: str, memory_mb: int | None = None, pids: int | None = None,
               cpus: float | None = None, account: bool = False, nested: bool = False
               ) -> tuple[Group | None, str]:
        """A new group named after `label` with the limits given (None: no limit);
        `cpus`: a CPU quota, in CPUs (0.5: half of one); `account`: count its CPU time;
        `nested`: it will hold groups of its own (the grade of a batch job, whose workers
        get theirs: in v2 the memory and pids controllers are handed down to them too).
        Returns (group, how) or (None, why not)."""
        if disabled():
            return None, f"no cgroup ({SWITCH}=off)"
        if not MOUNT.is_dir():
            return None, "no cgroup (no /sys/fs/cgroup)"
        name = f"rnn-{label}-{os.getpid()}-{time.monotonic_ns()}"
        needed = [c for c, want in (("memory", memory_mb), ("pids", pids),
                                    ("cpu", cpus or account)) if want]
        try:
            if (MOUNT / "cgroup.controllers").is_file():
                below = [*dict.fromkeys(needed + list(NESTED))] if nested else needed
                try:
                    group = cls._create_v2(name, below, nested)
                except OSError:
                    if below == needed:
                        raise
                    # Without them to hand down: the workers inside get none of their own
                    # (they then use the watchdog), the group's own limits still hold.
                    group = cls._create_v2(name, needed, nested)
            else:
                group = cls._create_v1(name, needed + (["cpuacct"] if account else []))
        except OSError as exc:
            return None, f"no cgroup ({exc.strerror or exc})"
        try:
            group._limit(memory_mb, pids, cpus)
        except OSError as exc:
            group.remove()
            return None, f"no cgroup (a limit could not be set: {exc.strerror or exc})"
        return group, "cgroup v2" if group.v2 else "cgroup v1"

    @classmethod
    def _create_v2(cls, name: str, needed: list[str], nested: bool) -> Group:
        path = _v2_base(needed) / name
        path.mkdir()
        join = path
        if nested:
            try:
                _write(path / "cgroup.subtree_control", " ".join("+" + c for c in needed))
                join = path / LEAF
                join.mkdir()
            except OSError:
                _remove_dirs([path])
                raise
        return cls({"": path}, True, [join])

    @classmethod
    def _create_v1(cls, name: str, needed: list[str]) -> Group:
        own = _own()
        dirs: dict[str, Path] = {}
        made: list[Path] = []
        try:
            for controller in needed:
                mount = MOUNT / controller
                if not mount.is_dir():
                    raise OSError(f"no v1 {controller} hierarchy")
                path = mount / own.get(controller, "/").lstrip("/") / name
                if path.resolve() not in [m.resolve() for m in made]:  # cpu,cpuacct as one
                    path.mkdir()
                    made.append(path)
                dirs[controller] = path
        except OSError:
            _remove_dirs(made)
            raise
        return cls(dirs, False, made)

    def _limit(self, memory_mb, pids, cpus) -> None:
        d = self.dirs
        if memory_mb:
            size = int(memory_mb) * 2**20
            if self.v2:
                _write(d[""] / "memory.max", size)
                for key, value in (("memory.swap.max", 0), ("memory.oom.group", 1)):
                    if (d[""] / key).exists():
                        _write(d[""] / key, value)
            else:
                _write(d["memory"] / "memory.limit_in_bytes", size)
                if (d["memory"] / "memory.memsw.limit_in_bytes").exists():
                    _write(d["memory"] / "memory.memsw.limit_in_bytes", size)  # no swap
                else:
                    try:
                        _write(d["memory"] / "memory.swappiness", 0)
                    except OSError:
                        pass
        if pids:
            _write(d["" if self.v2 else "pids"] / "pids.max", int(pids))
        if cpus:
            quota = max(1000, int(cpus * PERIOD_US))
            if self.v2:
                _write(d[""] / "cpu.max", f"{quota} {PERIOD_US}")
            else:
                _write(d["cpu"] / "cpu.cfs_period_us", PERIOD_US)
                _write(d["cpu"] / "cpu.cfs_quota_us", quota)

    def enter(self) -> None:
        """preexec_fn: the child, and everything it starts, joins the group. Raises where
        it cannot (the child is then not started: no unlimited worker)."""
        for path in self.join:
            _write(path / "cgroup.procs", 0)

    def _all_dirs(self) -> list[Path]:
        """Every folder of the group and of the groups below it, deepest first."""
        out: list[Path] = []
        for top in dict.fromkeys(self.dirs.values()):
            for root, subdirs, _ in os.walk(top):
                out += [Path(root, s) for s in subdirs]
            out.append(top)
        return sorted(set(out), key=lambda p: -len(p.parts))

    def members(self) -> set[int]:
        found: set[int] = set()
        for path in self._all_dirs():
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill(self, time_limit: float = 60.0) -> int:
        """SIGKILL every process in the group (and below), again until none is left: a
        process that forks meanwhile is in the group too. Returns how many were signalled."""
        if self.v2 and (self.dirs[""] / "cgroup.kill").exists():
            try:
                _write(self.dirs[""] / "cgroup.kill", 1)
            except OSError:
                pass
        killed, deadline = 0, time.monotonic() + time_limit
        while time.monotonic() < deadline:
            pids = self.members()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)
        return killed

    def _read(self, controller: str, name: str) -> str:
        return (self.dirs["" if self.v2 else controller] / name).read_text()

    def oom_kills(self) -> int:
        """Processes the kernel killed for going over memory.max (memory-limit hits on a
        v1 kernel too old to count kills)."""
        try:
            fields = self._read("memory", "memory.events" if self.v2 else
                                "memory.oom_control").split()
            if "oom_kill" in fields:
                return int(fields[fields.index("oom_kill") + 1])
            return 0 if self.v2 else int(self._read("memory", "memory.failcnt"))
        except (OSError, KeyError, ValueError):
            return 0

    def cpu_s(self) -> float:
        """CPU seconds used by everything that was ever in the group."""
        try:
            if self.v2:
                for line in self._read("cpu", "cpu.stat").splitlines():
                    if line.startswith("usage_usec"):
                        return int(line.split()[1]) / 1e6
                return float("nan")
            return int(self._read("cpuacct", "cpuacct.usage")) / 1e9
        except (OSError, KeyError, ValueError):
            return float("nan")

    def remove(self) -> None:
        """Kill what is left and remove the folders."""
        self.kill()
        _remove_dirs(self._all_dirs())


def _remove_dirs(paths: list[Path]) -> None:
    for path in sorted(set(paths), key=lambda p: -len(p.parts)):
        for _ in range(100):  # a killed process leaves its cgroup a moment later
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
