"""Every realistic Exercise 1 bug (tests/project/mutants.py) loses points, with a reason."""

from __future__ import annotations

import pytest

from tests.project.mutants import EXPECTED_IDS, MUTANTS, grade_mutants, mutate

# These tests grade whole submissions through the real path; on a loaded machine a
# module's first test (which grades them all) takes minutes, not pytest's default 300 s.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_mutants(tmp_path_factory.mktemp("mutants"), jobs=2)


def test_every_mutant_applies_to_the_current_reference():
    for name in MUTANTS:
        assert mutate(name)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_with_a_reason(graded, name):
    res = graded[name]
    total = sum(t["max_score"] for t in res["tests"])
    assert res["score"] < total, f"{name} ({MUTANTS[name][0]}) got full marks"
    failed = [t for t in res["tests"] if t["status"] == "failed"]
    assert all(t["score"] == 0 and t["output"].strip() for t in failed)


def test_public_tests_alone_catch_at_least_ten_mutants(graded):
    caught = [n for n, r in graded.items()
              if any(t["status"] == "failed" and t["visibility"] == "visible" for t in r["tests"])]
    assert len(caught) >= 10, caught


@pytest.mark.parametrize("name", sorted(EXPECTED_IDS))
def test_mutant_diagnosis_names_its_misconception(graded, name):
    tags = {tag for t in graded[name]["tests"] if t["status"] == "failed" for tag in t["tags"]}
    assert EXPECTED_IDS[name] in tags, f"{name}: failed tests carry {sorted(tags)}"
