"""The similarity report: a planted copy (names renamed, functions reordered, comments
gone) ranks first; independent correct solutions and the untouched skeleton are not
flagged; names from the LMS cannot inject HTML or spreadsheet formulas."""

from __future__ import annotations

import ast
import csv

import pytest

from autograder.batch import discover
from tests.public.harness import EXERCISES, REPO

pytest.importorskip("copydetect", reason="copydetect is not installed: pip install -r "
                    "requirements-cluster.txt")
from autograder.similarity import THRESHOLD, similarity_report  # noqa: E402


def planted_copy(source: str) -> str:
    """`source` with every local name renamed, its functions in reverse order, and its
    comments and layout gone (ast.unparse)."""
    tree = ast.parse(source)

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id.islower() and len(node.id) > 1 and node.id not in {"np", "torch", "nn"}:
                node.id = "my_" + node.id
            return node

        def visit_arg(self, node):
            node.arg = "my_" + node.arg
            return node

    tree = Rename().visit(tree)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    tree.body = [n for n in tree.body if not isinstance(n, ast.FunctionDef)] + funcs[::-1]
    return ast.unparse(tree)


@pytest.mark.parametrize("ex", list(EXERCISES))
def test_a_planted_copy_ranks_first_and_no_independent_pair_is_flagged(tmp_path, ex):
    name = EXERCISES[ex]
    sources = {"ref": (REPO / "solutions" / name).read_text(),
               "alt": (REPO / "tests" / "fixtures" / f"alt_{ex}" / name).read_text(),
               "skel": (REPO / "assignments" / name).read_text(),
               "=cmd|calc!A0": None}
    sources["=cmd|calc!A0"] = planted_copy(sources["ref"])
    for sid, text in sources.items():
        (tmp_path / "subs" / sid).mkdir(parents=True)
        (tmp_path / "subs" / sid / name).write_text(text)
    rows = [(sub, None, "") for sub in discover(tmp_path / "subs")]
    flagged = similarity_report(rows, tmp_path)
    assert [(p["a"], p["b"]) for p in flagged] == [("=cmd|calc!A0", "ref")]
    assert flagged[0]["score"] >= THRESHOLD
    with open(tmp_path / "similarity.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["pair"].startswith("'=cmd") and rows[0]["exercise"] == ex
    assert rows[0]["matched_lines_b"]
    page = (tmp_path / "similarity.html").read_text()
    assert "<mark>" in page and "def " in page


def test_names_are_escaped_in_the_page(tmp_path):
    name = EXERCISES["ex01"]
    text = (REPO / "solutions" / name).read_text()
    for sid in ("<script>alert(1)<", "Zoë"):
        (tmp_path / "subs" / sid).mkdir(parents=True)
        (tmp_path / "subs" / sid / name).write_text(text)
    similarity_report([(s, None, "") for s in discover(tmp_path / "subs")], tmp_path)
    page = (tmp_path / "similarity.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "Zoë" in page
