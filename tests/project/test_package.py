"""What leaves the repository: the student release (nothing of the reference or the hidden
tests in it, and `make check` works inside it) and the Gradescope zip (run exactly as
Gradescope runs it, minus setup.sh)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.package import build_autograder, build_release, scan_release
from tests.public.harness import EXERCISES

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)

REPO = Path(__file__).resolve().parents[2]
EX1 = EXERCISES["ex01"]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build_release(tmp_path_factory.mktemp("rel") / "student")


def test_the_release_holds_what_students_need_and_nothing_else(release):
    files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert {"Makefile", "README.md", "requirements.txt", f"assignments/{EX1}",
            "tests/public/harness.py", "guides/rnn_guide.md",
            # the Exercise 1 to 4 tests' machinery and saved values (issues 24.3, 25.6)
            "tests/public/support_ex01.py", "tests/public/support_ex02.py",
            "tests/public/support_ex03.py", "tests/public/support_ex04.py",
            "tests/public/fixtures/ex01.npz", "tests/public/fixtures/ex03.npz",
            "tests/public/fixtures/ex04.npz"} <= files
    assert not [f for f in files if f.startswith(("solutions", "tests/hidden", "tests/project",
                                                  "autograder", "tests/fixtures"))]
    assert release.with_suffix(".zip").is_file()
    assert scan_release(release) == []


def _plant(release: Path, tmp_path: Path, rel: str, text: str) -> list[str]:
    copy = tmp_path / "planted"
    shutil.copytree(release, copy)
    with open(copy / rel, "a", encoding="utf-8") as fh:
        fh.write(text)
    return scan_release(copy)


def test_a_renamed_solution_function_in_a_public_test_is_found(release, tmp_path):
    planted = '''

def _helper(grad_h, stored):
    """Looks innocent."""
    first_x, first_h, w_in, w_rec, _ = stored[0]
    n, d = first_x.shape
    steps, width = len(stored), first_h.shape[1]
    check_shape("dh", grad_h, (n, steps, width), "(N, T, H)")
    grad_h = np.asarray(grad_h, dtype=np.float64)
    out_x = np.empty((n, steps, d), dtype=np.float64)
    g1, g2, g3 = np.zeros_like(w_in), np.zeros_like(w_rec), np.zeros(width)
    carry = np.zeros((n, width))
    for k in reversed(range(steps)):
        a, carry, b, c, e = rnn_step_backward(grad_h[:, k] + carry, stored[k])
        out_x[:, k] = a
        g1 += b
        g2 += c
        g3 += e
    return out_x, carry, g1, g2, g3
'''
    findings = _plant(release, tmp_path, "tests/public/test_ex01_basic_rnn.py", planted)
    assert any("holds the solution of ex_01_basic_rnn.py:rnn_backward" in f for f in findings)


def test_one_graded_formula_renamed_inside_a_public_helper_is_found(release, tmp_path):
    # Not a whole solution function, only its formula under other names (issue 25.6).
    planted = '''

def _spread(scores):
    top = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return top / top.sum(axis=-1, keepdims=True)
'''
    findings = _plant(release, tmp_path, "tests/public/test_ex02_time_series_prediction.py",
                      planted)
    assert any("_spread computes like solutions/ex_03_char_language_model.py" in f
               and "a copy of graded code" in f for f in findings), findings


@pytest.mark.parametrize("text, what", [
    ("# BEGIN SOLUTION\n", "marker"),
    ("# see test_ex01_hidden_train_echo_trains\n", "names the hidden test"),
    ("    scale = max_norm / total_norm if total_norm > max_norm else 1.0\n",
     "a line of solutions/"),
])
def test_markers_hidden_names_and_reference_lines_are_found(release, tmp_path, text, what):
    findings = _plant(release, tmp_path, f"assignments/{EX1}", "\n" + text)
    assert any(what in f for f in findings), findings


def test_make_check_works_inside_the_release(release):
    venv = REPO / ".venv"
    if not (venv / "bin" / "python").exists():
        pytest.skip("no .venv to reuse (make test creates it)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAKE", "IMPL")) and k not in ("CI", "STRICT")}
    env["CHECK_VENV"] = str(venv)
    base = ["make", "-s", "check", f"PYTHON={sys.executable}"]
    proc = subprocess.run(base, cwd=release, capture_output=True, text=True, env=env,
                          timeout=600)
    assert "Total: 0/" in proc.stdout and "not implemented yet" in proc.stdout
    # Failing tests end with the table and a plain line, not make's "Error 1"; STRICT=1
    # (and CI) keep the tests' exit status.
    assert proc.returncode == 0 and "Error" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ failed.*", last) or "public tests failed" in proc.stdout, last
    one = "T=tests/public/test_ex01_basic_rnn.py::test_ex01_step_forward_values"
    strict = subprocess.run(base + [one, "STRICT=1"], cwd=release, capture_output=True,
                            text=True, env=env, timeout=600)
    assert strict.returncode != 0 and "1 of 1 public tests failed." in strict.stdout
    # check.py alone (no make, as on Windows) gives the same table.
    proc = subprocess.run([sys.executable, "check.py"], cwd=release, capture_output=True,
                          text=True, env=dict(env, IMPL=str(REPO / "solutions")), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Total: 67.5/67.5 public points" in proc.stdout


def _check_module():
    spec = importlib.util.spec_from_file_location("check", REPO / "autograder/packaging/check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_py_picks_the_interpreter_of_each_platform(tmp_path):
    check = _check_module()
    assert check.venv_python(tmp_path, "win32") == tmp_path / "Scripts" / "python.exe"
    assert check.venv_python(tmp_path, "linux") == tmp_path / "bin" / "python"
    assert check.venv_python(tmp_path, "darwin") == tmp_path / "bin" / "python"
    assert check.pytest_command(Path("py"), [])[3:5] == ["tests/public", "-q"]
    assert check.pytest_command(Path("py"), ["tests/public/x.py::t"])[-1] == "--tb=short"



def test_check_py_sets_up_a_fresh_folder_with_spaces_and_non_ascii_in_its_path(release,
                                                                              tmp_path):
    """From nothing to the points table, as a student's first `python3 check.py`: a new
    .venv from requirements.txt (about 2 minutes and 1.1 GB here)."""
    folder = tmp_path / "Mes devoirs ü" / "student"
    shutil.copytree(release, folder)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAKE", "IMPL", "CHECK_VENV", "VIRTUAL_ENV"))}
    # This machine cannot reach the CPU index: fail over at once instead of pip's 5 retries.
    env["PIP_RETRIES"] = "0"
    proc = subprocess.run([sys.executable, "check.py", "tests/public/test_ex01_basic_rnn.py"],
                          cwd=folder, capture_output=True, text=True, env=env, timeout=1200)
    assert (folder / ".venv" / ".installed").read_text() == (folder / "requirements.txt"
                                                             ).read_text()
    assert "Total: 0/" in proc.stdout and "not implemented yet" in proc.stdout, \
        proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.returncode != 0  # failing tests fail the command


def test_check_py_in_a_read_only_folder_says_so_and_changes_nothing(release, tmp_path):
    """A release unpacked onto a read-only mount (enforced even for root, unlike modes)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a read-only bind mount")
    folder = tmp_path / "read only"
    shutil.copytree(release, folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "IMPL",
                                                                    "CHECK_VENV"))}
    script = ('mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && cd "$1" '
              '&& exec "$2" check.py')
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                           "sh", str(folder), sys.executable], capture_output=True,
                          text=True, env=env, timeout=120)
    if "mount:" in proc.stderr:
        pytest.skip(f"no read-only bind mount here: {proc.stderr.strip()}")
    assert proc.returncode != 0
    assert "not writable" in proc.stderr and "Copy the assignment folder" in proc.stderr
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before

# ---------------------------------------------------------------------------------------
# The Gradescope zip
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    return build_autograder(tmp_path_factory.mktemp("ag") / "autograder.zip")


def test_the_zip_has_gradescopes_layout_and_no_project_tests(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/grade.py",
            f"solutions/{EX1}", "tests/public/harness.py"} <= names
    # The hidden tests import the public tests' machinery and saved values.
    assert {f"tests/public/support_ex0{n}.py" for n in range(1, 5)} <= names
    assert {f"tests/public/fixtures/ex0{n}.npz" for n in range(1, 5)} <= names
    assert modes["run_autograder"] & 0o100 and modes["setup.sh"] & 0o100
    assert not [n for n in names if n.startswith(("tests/project", "tests/fixtures", "tools"))]
    # The engine folder ships whole (its packaging files go to the root): what grading runs.
    engine = {p.relative_to(REPO).as_posix() for p in (REPO / "autograder").rglob("*.py")
              if "packaging" not in p.parts}
    assert {n for n in names if n.startswith("autograder/")} == engine


def test_the_engine_never_imports_the_maintainer_tools():
    for path in (REPO / "autograder").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) tools\b", text, re.M), path


def _run_like_gradescope(autograder_zip, root: Path, files: dict[str, str] | Path,
                         user: str | None = None) -> dict:
    """Unzip into ROOT/source, put the submission in ROOT/submission, run run_autograder."""
    if root.exists():
        shutil.rmtree(root)
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        os.chmod(root / "source" / name, 0o755)
    (root / "submission").mkdir(parents=True)
    if isinstance(files, Path):
        shutil.copy(files, root / "submission" / files.name)
    else:
        for name, text in files.items():
            (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "submission" / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMPL", "AUTOGRADER"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    if user:
        env["AUTOGRADER_STUDENT_USER"] = user
        os.chmod(root, 0o755)
    proc = subprocess.run([str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def _valid(res: dict) -> None:
    assert isinstance(res["score"], (int, float)) and res["tests"]
    for t in res["tests"]:
        assert {"name", "score", "max_score", "status", "visibility", "output"} <= set(t)
        assert t["name"][:4] in EXERCISES


def _solutions() -> dict[str, str]:
    return {p.name: p.read_text() for p in (REPO / "solutions").glob("ex_*.py")}


def test_the_reference_scores_the_full_total_twice_alike(autograder_zip, tmp_path):
    user = "nobody" if os.geteuid() == 0 else None  # CI runs as root: test the drop
    first = _run_like_gradescope(autograder_zip, tmp_path / "a", _solutions(), user)
    _valid(first)
    total = sum(t["max_score"] for t in first["tests"])
    failed = [(t["name"], t["output"][:200]) for t in first["tests"] if t["status"] != "passed"]
    assert not failed and first["score"] == total
    second = _run_like_gradescope(autograder_zip, tmp_path / "b", _solutions(), user)
    assert [t["score"] for t in first["tests"]] == [t["score"] for t in second["tests"]]


def test_skeleton_zero_half_done_between_and_a_zipped_folder_is_found(autograder_zip,
                                                                      tmp_path):
    skeleton = {p.name: p.read_text() for p in (REPO / "assignments").glob("ex_*.py")}
    res = _run_like_gradescope(autograder_zip, tmp_path / "s", skeleton)
    _valid(res)
    assert res["score"] == 0
    half = dict(skeleton, **{EX1: (REPO / "solutions" / EX1).read_text()})
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in half.items():
            zf.writestr(f"my_homework/{name}", text)
    for label, submission in (("unzipped", None), ("zip", archive)):
        root = tmp_path / label
        if submission is None:  # Gradescope unpacks an uploaded zip into submission/
            submission = {f"my_homework/{name}": text for name, text in half.items()}
        res = _run_like_gradescope(autograder_zip, root, submission)
        _valid(res)
        ex01 = sum(t["score"] for t in res["tests"] if t["name"].startswith("ex01"))
        assert ex01 == 30 and 0 < res["score"] < sum(t["max_score"] for t in res["tests"])


def test_a_grader_that_dies_leaves_a_fail_closed_result(autograder_zip, tmp_path):
    root = tmp_path / "dead"
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    (root / "submission").mkdir()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON="/bin/false")
    subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True,
                   timeout=60)
    res = json.loads((root / "results" / "results.json").read_text())
    assert res["score"] == 0 and "grader error" in res["output"]
