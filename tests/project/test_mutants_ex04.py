"""Exercise 4 graded end to end: every realistic bug (tests/project/mutants_ex04.py) loses
points with a reason that names its misconception; a correct solution written differently
gets full marks; the skeleton gets none and says what to implement; and an Exercise 4
handed in without Exercise 1 loses only the comparison, which runs Exercise 1's NumPy RNN."""

from __future__ import annotations

import pytest

from tests.project.mutants_ex04 import (
    EX01_TESTS,
    EXPECTED_IDS,
    MUTANTS,
    REFERENCE,
    ex04_tests,
    grade_all_submissions,
    mutate,
)

# 21 submissions, each with torch started in its student process: minutes on a loaded
# 2-core machine; the fixture's time counts against the first test that uses it.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_all_submissions(tmp_path_factory.mktemp("mutants_ex04"), jobs=2)


def test_every_mutant_applies_to_the_current_reference():
    for name in MUTANTS:
        assert mutate(name) != REFERENCE.read_text(encoding="utf-8")


def test_every_mutant_has_an_expected_diagnosis():
    assert set(MUTANTS) == set(EXPECTED_IDS)
    assert len(MUTANTS) >= 10


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_with_a_reason(graded, name):
    tests = ex04_tests(graded[name])
    assert sum(t["score"] for t in tests) < sum(t["max_score"] for t in tests) == 20, \
        f"{name} ({MUTANTS[name][0]}) got full marks"
    failed = [t for t in tests if t["status"] == "failed"]
    assert all(t["score"] == 0 and t["output"].strip() for t in failed)
    # The reference Exercise 1 beside it keeps all of its points.
    assert all(t["status"] == "passed" for t in graded[name]["tests"]
               if t["name"].startswith("ex01 "))


def test_public_tests_alone_catch_every_mutant(graded):
    missed = [n for n in MUTANTS if not any(
        t["status"] == "failed" and t["visibility"] == "visible" for t in ex04_tests(graded[n]))]
    assert not missed


@pytest.mark.parametrize("name", sorted(EXPECTED_IDS))
def test_mutant_diagnosis_names_its_misconception(graded, name):
    tags = {tag for t in ex04_tests(graded[name]) if t["status"] == "failed" for tag in t["tags"]}
    assert EXPECTED_IDS[name] in tags, f"{name}: failed tests carry {sorted(tags)}"


def test_a_correct_solution_written_differently_gets_full_marks(graded):
    res = graded["alternative"]
    failed = [(t["name"], t["output"][:300]) for t in res["tests"]
              if t["name"].startswith(("ex01 ", "ex04 ")) and t["status"] != "passed"]
    assert not failed
    assert sum(t["score"] for t in ex04_tests(res)) == 20


def test_the_skeleton_scores_zero_and_says_what_to_implement(graded):
    tests = ex04_tests(graded["skeleton"])
    assert sum(t["score"] for t in tests) == 0
    assert all("not implemented yet" in t["output"] for t in tests), [
        (t["name"], t["output"][:200]) for t in tests if "not implemented yet" not in t["output"]]
    # Methods are named with their class, not as a bare "__init__" or "forward".
    outputs = " ".join(t["output"] for t in tests)
    assert "RNNModel.__init__" in outputs and "SequenceDataset.__init__" in outputs
    assert "not implemented yet: __init__" not in outputs


def test_without_exercise1_only_the_comparison_loses_points_and_says_why(graded):
    tests = ex04_tests(graded["ex01_missing"])
    failed = [t for t in tests if t["status"] == "failed"]
    assert failed and all(any(word in t["name"] for word in EX01_TESTS) for t in failed)
    assert all("Exercise 1" in t["output"] for t in failed), [t["output"][:300] for t in failed]
