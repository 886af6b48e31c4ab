"""Error handling is graded apart from values (issue 20.2): a check of which error a bad
argument raises lives only in a validation test (docstring "validation of ...", 0.25
points), never inside a test of values, public or hidden."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Calls that check an error: the harness's and the test files' own helpers.
ERROR_CHECKS = {"raises_naming", "raises", "_raises_value_error", "_bad_arguments"}
POINTS = 0.25


def _called(node: ast.AST) -> set[str]:
    """Names of the functions and methods `node` calls (`pytest.raises` gives `raises`)."""
    out = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            f = call.func
            out.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
    return out


def _checkers(tree: ast.Module) -> set[str]:
    """ERROR_CHECKS and every module function that calls one of them, however deep."""
    helpers = {n.name: _called(n) for n in tree.body
               if isinstance(n, ast.FunctionDef) and not n.name.startswith("test_")}
    found = set(ERROR_CHECKS)
    while True:
        more = {name for name, calls in helpers.items() if calls & found} - found
        if not more:
            return found
        found |= more


def _points(test: ast.FunctionDef) -> float | None:
    for dec in test.decorator_list:
        if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                and dec.func.attr == "points"):
            return float(ast.literal_eval(dec.args[0]))
    return None


def _tests(path: Path):
    """(test, its docstring's first line, whether it checks errors, its points)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checkers = _checkers(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            first = (ast.get_docstring(node) or "").splitlines()[0]
            yield node.name, first, bool(_called(node) & checkers), _points(node)


def _files():
    return sorted((REPO / "tests" / "public").glob("test_ex0*.py")) + \
        sorted((REPO / "tests" / "hidden").glob("test_ex0*.py"))


def test_error_checks_only_in_validation_tests():
    mixed = [f"{path.name}::{name}" for path in _files()
             for name, first, checks, _ in _tests(path)
             if checks and not first.startswith("validation")]
    assert not mixed, f"tests of values that also check errors (move those checks): {mixed}"


def test_validation_tests_are_small_and_check_errors():
    for path in _files():
        for name, first, checks, points in _tests(path):
            if first.startswith("validation"):
                assert checks, f"{path.name}::{name} is named a validation test, checks no error"
                assert points == POINTS, f"{path.name}::{name}: {points} points, not {POINTS}"


def test_every_exercise_has_hidden_validation():
    for path in sorted((REPO / "tests" / "hidden").glob("test_ex0*.py")):
        assert any(first.startswith("validation") for _, first, _, _ in _tests(path)), path.name


def test_the_scan_sees_a_check_through_a_helper(tmp_path):
    """Not vacuous: a test of values that checks an error through a helper is found."""
    fake = tmp_path / "test_ex09_fake.py"
    fake.write_text('def _bad(f):\n    raises_naming(f, "x", "f")\n\n\n'
                    '@pytest.mark.points(1)\ndef test_ex09_values(ex09):\n'
                    '    """f: values"""\n    _bad(ex09.f)\n', encoding="utf-8")
    assert list(_tests(fake)) == [("test_ex09_values", "f: values", True, 1.0)]
