"""Run the public tests and print your points, on Linux, macOS and Windows: no `make` needed.

    python check.py                 every public test and the points table
    python check.py --setup-only    create .venv and stop
    python check.py TEST            one test with its traceback, e.g.
    python check.py tests/public/test_ex01_basic_rnn.py::test_ex01_step_forward_values

The first run creates `.venv` beside this file from the pinned `requirements.txt` (the CPU
build of torch, which every laptop can run) and takes a few minutes; later runs start at
once. `make check` calls this script, so both give the same table. Standard library only.
"""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# CHECK_VENV lets a course machine share one environment between folders.
VENV = Path(os.environ.get("CHECK_VENV") or ROOT / ".venv")
STAMP = VENV / ".installed"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def venv_python(venv_dir: Path, platform: str = sys.platform) -> Path:
    """The interpreter inside `venv_dir`: `Scripts/python.exe` on Windows, else `bin/python`."""
    if platform.startswith("win"):
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def pytest_command(python: Path, tests: list[str]) -> list[str]:
    """The pytest call `make check` makes: the whole public suite quietly, one test with its
    traceback."""
    target = tests or ["tests/public"]
    traceback = "no" if target == ["tests/public"] else "short"
    return [str(python), "-m", "pytest", *target, "-q", "-p", "no:cacheprovider", "-rN",
            f"--tb={traceback}"]


def _pip(python: Path, *args: str) -> int:
    return subprocess.call([str(python), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", *args], cwd=ROOT)


def _torch_pin(requirements: Path) -> str | None:
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("torch=="):
            return line.strip()
    return None


def setup() -> Path:
    """Create `.venv` with the pinned requirements unless it is already up to date; returns
    its interpreter. Exits with a message (and changes nothing it did not create) when the
    folder cannot be written."""
    python = venv_python(VENV)
    requirements = ROOT / "requirements.txt"
    wanted = requirements.read_text(encoding="utf-8")
    # The stamp holds the requirements it was installed from: a copied or unzipped folder
    # has new file times but needs no new install.
    if python.exists() and STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted:
        return python
    print(f"Setting up {VENV} (first run only: a few minutes)...", flush=True)
    try:
        if not python.exists():
            venv.EnvBuilder(with_pip=True).create(VENV)
        STAMP.unlink(missing_ok=True)
    except OSError as err:
        sys.exit(f"check.py: cannot create {VENV} ({err.strerror}): the folder is not "
                 "writable. Copy the assignment folder somewhere you can write (e.g. your "
                 "home folder) and run `python check.py` there; nothing was changed.")
    pin = _torch_pin(requirements)
    # The default torch wheel on Linux carries gigabytes of CUDA libraries a laptop does not
    # need: take the CPU build of the same version first.
    if pin and _pip(python, "--index-url", TORCH_CPU_INDEX, pin) != 0:
        print(f"note: the CPU build of {pin} could not be installed from {TORCH_CPU_INDEX}; "
              "installing it from the default package index instead.", flush=True)
    if _pip(python, "-r", str(requirements)) != 0:
        sys.exit("check.py: installing requirements.txt failed (see pip's message above); "
                 "fix the cause and run `python check.py` again.")
    STAMP.write_text(wanted, encoding="utf-8")
    return python


def main(argv: list[str]) -> int:
    python = setup()
    if argv == ["--setup-only"]:
        return 0
    env = dict(os.environ, IMPL=os.environ.get("IMPL", "assignments"))
    status = subprocess.call(pytest_command(python, argv), cwd=ROOT, env=env)
    return status


if __name__ == "__main__":
    if sys.version_info < (3, 10):  # noqa: UP036 (students may run an older python3)
        sys.exit(f"check.py needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    sys.exit(main(sys.argv[1:]))
