"""What ships to students teaches without giving the answer: no analytic gradient of a
graded function in concept-level skeletons, public tests, their harness or the guide;
both scaffolding levels generated from the one source; every misconception id named by a
test is registered and points at a section the guide has."""

from __future__ import annotations

import ast
import re
import subprocess

import pytest

from autograder.leaks import scan_text
from autograder.skeleton import LEVELS, REPO, MarkerError, level_of, make_skeleton, sync
from tests.public.misconceptions import MISCONCEPTIONS, explain, ids_in

SOLUTIONS = sorted((REPO / "solutions").glob("ex_*.py"))
SHIPPED = sorted((REPO / "tests" / "public").glob("*.py")) + sorted(
    (REPO / "guides").glob("*.md"))


def _skeleton(path, level):
    return make_skeleton(path.read_text(encoding="utf-8"), path.name, level)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_concept_skeletons_hold_no_analytic_gradient(path):
    findings = scan_text(_skeleton(path, "concept"), f"assignments/{path.name}")
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_public_tests_harness_and_guide_hold_no_analytic_gradient(path):
    findings = scan_text(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize("snippet", [
    "dz = dh_next * (1 - h_next**2)",                        # tanh' and the step backward
    "want = (dz @ Wx.T, dz @ Wh.T, x.T @ dz, h_prev.T @ dz)",  # the step's products
    'steps.append({"dWh": prev.T @ dz})',
    "p[np.arange(n)[:, None], np.arange(t)[None, :], y] -= 1.0",  # softmax gradient
    'hint = "dscores = (softmax(scores) - onehot(y)) / (N*T)."',
    "- `dWx = x_t.T @ dz`, `(D, N) @ (N, H) = (D, H)`",
])
def test_the_scanner_finds_analytic_gradients(snippet):
    assert scan_text(snippet, "snippet.py")


def test_the_scanner_leaves_forward_formulas_alone():
    forward = ("h = np.tanh(x @ Wx + h_prev @ Wh + b)\nscores = h @ Wy + by\n"
               "dh = rng.standard_normal((N, T, H))\nlambda a: np.tanh(z0 + (a - h0) @ Wh.T)\n")
    assert not scan_text(forward, "forward.py")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_full_level_gives_formulas_the_concept_level_leaves_out(path):
    """The scan fails on the full skeleton: the check has teeth, and the levels differ."""
    if "ex_01" not in path.name:
        pytest.skip("the formula check is written for Exercise 1")
    assert scan_text(_skeleton(path, "full"), path.name)


def test_the_scanner_fails_on_the_public_tests_before_the_teaching_rework():
    """The public test file as it was at commit 7065418 shipped a full analytic BPTT."""
    proc = subprocess.run(["git", "show", "7065418:tests/public/test_ex01_basic_rnn.py"],
                          cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("git history not available in this checkout")
    rules = {f.rule for f in scan_text(proc.stdout, "old.py")}
    assert {"transposed product with a gradient", "softmax cross-entropy gradient"} <= rules


def _code_only(source: str) -> str:
    """The module's code with every docstring removed: what differs between levels."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value,
                                                                           str):
            body[0].value.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_both_levels_have_the_same_code_and_record_their_level(path):
    concept, full = (_skeleton(path, level) for level in LEVELS)
    assert level_of(concept) == "concept" and level_of(full) == "full"
    assert _code_only(concept) == _code_only(full)
    for text in (concept, full):
        assert not re.search(r"# (BEGIN|END) (FULL|CONCEPT)", text)


def test_drift_check_keeps_each_skeletons_level(tmp_path):
    sync(assignments=tmp_path, level="full")
    assert sync(check=True, assignments=tmp_path) == []
    assert all(level_of(p.read_text()) == "full" for p in tmp_path.glob("ex_*.py"))
    assert sync(check=True, assignments=tmp_path, level="concept")


def test_committed_skeletons_are_at_the_concept_level():
    for path in sorted((REPO / "assignments").glob("ex_*.py")):
        assert level_of(path.read_text(encoding="utf-8")) == "concept", path.name


@pytest.mark.parametrize("source, where", [
    ("x = 1\n# BEGIN FULL\na\n", "f.py:2: # BEGIN FULL is never closed"),
    ("# BEGIN FULL\n# BEGIN CONCEPT\n", "f.py:2: # BEGIN CONCEPT inside the FULL block"),
    ("# END CONCEPT\n", "f.py:1: # END CONCEPT without"),
    ("# BEGIN FULLS\n", "f.py:1: malformed marker"),
])
def test_malformed_level_markers_name_file_and_line(source, where):
    with pytest.raises(MarkerError, match=where):
        make_skeleton(source, "f.py")


def test_unknown_level_is_refused_by_name():
    with pytest.raises(ValueError, match="scaffolding level must be one of"):
        make_skeleton("x = 1\n", "f.py", "hints")


def _ids_used_in_tests() -> set[str]:
    ids = set()
    for path in (REPO / "tests").rglob("*.py"):
        ids |= set(re.findall(r'explain\(\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    return ids


def test_every_misconception_a_test_names_is_registered():
    assert _ids_used_in_tests() - set(MISCONCEPTIONS) == set()


def test_every_misconception_points_at_a_section_of_the_guide():
    guide = (REPO / "guides" / "rnn_guide.md").read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in guide.splitlines()
                if line.startswith("#")}
    missing = {mid: section for mid, (_, section) in MISCONCEPTIONS.items()
               if section not in headings}
    assert not missing
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", mid) for mid in MISCONCEPTIONS)


def test_a_message_carries_its_id_once_and_unknown_ids_are_ignored():
    text = "rnn_backward dWx: wrong." + explain("bptt-no-accumulate") + " [misconception: x-y]"
    assert ids_in(text) == ["bptt-no-accumulate"]
