"""The rubric read off the graded tests: complete, unique, and worth what it should be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Each exercise's share of the 100 points.
SHARES = {"ex01": 30, "ex02": 25, "ex03": 25, "ex04": 20}


@pytest.fixture(scope="module")
def rubric(tmp_path_factory):
    out = tmp_path_factory.mktemp("rubric") / "rubric.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/public", "tests/hidden", "--collect-only", "-q",
         "-p", "autograder.pytest_plugin", "--outcomes", str(out)],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [json.loads(line)["rubric"] for line in out.read_text().splitlines()]


def test_shares_add_up_to_100():
    assert sum(SHARES.values()) == 100


def test_each_exercise_is_worth_its_share(rubric):
    totals = {}
    for entry in rubric:
        totals[entry["exercise"]] = totals.get(entry["exercise"], 0) + entry["points"]
    assert totals, "no graded tests collected"
    for exercise, points in totals.items():
        assert points == SHARES[exercise], f"{exercise}: {points} points, share {SHARES[exercise]}"


def test_names_are_unique_and_begin_with_the_exercise(rubric):
    names = [e["name"] for e in rubric]
    assert len(names) == len(set(names))
    assert all(n.split()[0] == e["exercise"] for n, e in zip(names, rubric, strict=True))


def test_every_test_is_worth_something_and_hidden_ones_are_hidden(rubric):
    for entry in rubric:
        assert entry["points"] > 0, entry["nodeid"]
        hidden = entry["nodeid"].startswith("tests/hidden/")
        assert entry["visibility"] == ("after_published" if hidden else "visible")


def test_public_tests_never_import_the_solutions():
    for path in (REPO / "tests" / "public").glob("*.py"):
        text = path.read_text()
        assert "solutions" not in text.replace("IMPL=solutions", ""), path.name
