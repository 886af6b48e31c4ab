"""docs/hidden_requirements.md stays true to the tests: every hidden test has its rows, and
every test and function the table cites exists (in the tests, in the skeleton students get)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "docs" / "hidden_requirements.md"
FILES = {"ex01": "ex_01_basic_rnn", "ex02": "ex_02_time_series_prediction",
         "ex03": "ex_03_char_language_model", "ex04": "ex_04_rnn_pytorch"}


def _test_names(folder: str) -> set[str]:
    names = set()
    for path in (REPO / "tests" / folder).glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n.name for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    return names


def _defined(exid: str) -> set[str]:
    """Functions, classes and methods (as Class.method) of a skeleton."""
    tree = ast.parse((REPO / "assignments" / f"{FILES[exid]}.py").read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        if isinstance(node, ast.ClassDef):
            out |= {f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)}
    return out


def _rows() -> list[tuple[str, str, str]]:
    """(hidden test, requirement, stated in) for every table row."""
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`test_"):
            rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def test_every_hidden_test_has_a_row():
    cited = {name for name, _, _ in _rows()}
    missing = sorted(_test_names("hidden") - cited)
    assert not missing, f"hidden tests without a row in {TABLE.name}: {missing}"


def test_every_row_names_an_existing_test_and_a_source():
    hidden, public = _test_names("hidden"), _test_names("public")
    for name, requirement, stated in _rows():
        assert name in hidden, f"{TABLE.name}: {name} is no hidden test"
        assert requirement and stated, f"{TABLE.name}: a row of {name} is incomplete"
        cited = set(re.findall(r"`(test_\w+)`", stated))
        unknown = sorted(cited - public)
        assert not unknown, f"{TABLE.name}, row of {name}: no such public test {unknown}"
        exid = name.split("_")[1]
        defined = _defined(exid)
        for group in re.findall(r"docstrings? of ((?:`[\w.]+`(?:, | and )?)+)", stated):
            for fn in re.findall(r"`([\w.]+)`", group):
                assert fn in defined, (f"{TABLE.name}, row of {name}: the skeleton "
                                       f"{FILES[exid]}.py has no {fn}")


def test_table_rows_fail_on_a_missing_test(tmp_path, monkeypatch):
    """The check is not vacuous: a table without a hidden test's rows is caught."""
    text = TABLE.read_text(encoding="utf-8")
    cut = "\n".join(line for line in text.splitlines()
                    if "`test_ex03_hidden_train_char_lm_steps`" not in line)
    fake = tmp_path / "hidden_requirements.md"
    fake.write_text(cut, encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["TABLE"]), "TABLE", fake)
    cited = {name for name, _, _ in _rows()}
    assert "test_ex03_hidden_train_char_lm_steps" in _test_names("hidden") - cited
