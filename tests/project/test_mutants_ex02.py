"""Exercise 2 graded end to end: every realistic bug (tests/project/mutants_ex02.py) loses
points with a reason that names its misconception; a correct solution written differently
gets full marks; the skeleton gets none; and a broken, unfinished or missing Exercise 1
costs Exercise 2 only the tests that run the RNN, which say that the cause is there."""

from __future__ import annotations

import pytest

from tests.project.mutants_ex02 import (
    EX01_CASES,
    EXPECTED_IDS,
    MUTANTS,
    REFERENCE,
    RNN_TESTS,
    ex02_tests,
    grade_all_submissions,
    mutate,
)

# Grading 25 submissions takes minutes on a loaded 2-core machine; the fixture's time
# counts against the first test that uses it.
pytestmark = pytest.mark.timeout(1800)

# What each Exercise 1 case must be blamed for.
EX01_BLAME = {"ex01_skeleton": "rnn_forward is not implemented yet",
              "ex01_no_carry": "rnn_backward gives a wrong d",
              "ex01_missing": "ex_01_basic_rnn.py could not be used"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_all_submissions(tmp_path_factory.mktemp("mutants_ex02"), jobs=2)


def _runs_rnn(test) -> bool:
    return any(word in test["name"] for word in RNN_TESTS)


def test_every_mutant_applies_to_the_current_reference():
    for name in MUTANTS:
        assert mutate(name) != REFERENCE.read_text(encoding="utf-8")


def test_every_mutant_has_an_expected_diagnosis_or_a_reason_not_to():
    # fit_adam_state_reset is caught by how far training gets, which names no single idea.
    assert set(MUTANTS) - set(EXPECTED_IDS) == {"fit_adam_state_reset"}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_with_a_reason(graded, name):
    tests = ex02_tests(graded[name])
    assert sum(t["score"] for t in tests) < sum(t["max_score"] for t in tests), \
        f"{name} ({MUTANTS[name][0]}) got full marks"
    failed = [t for t in tests if t["status"] == "failed"]
    assert all(t["score"] == 0 and t["output"].strip() for t in failed)
    # The reference Exercise 1 beside it keeps all of its points.
    assert all(t["status"] == "passed" for t in graded[name]["tests"]
               if t["name"].startswith("ex01 "))


def test_public_tests_alone_catch_every_mutant(graded):
    missed = [n for n in MUTANTS if not any(
        t["status"] == "failed" and t["visibility"] == "visible" for t in ex02_tests(graded[n]))]
    assert not missed


@pytest.mark.parametrize("name", sorted(EXPECTED_IDS))
def test_mutant_diagnosis_names_its_misconception(graded, name):
    tags = {tag for t in ex02_tests(graded[name]) if t["status"] == "failed" for tag in t["tags"]}
    assert EXPECTED_IDS[name] in tags, f"{name}: failed tests carry {sorted(tags)}"


def test_a_correct_solution_written_differently_gets_full_marks(graded):
    res = graded["alternative"]
    failed = [(t["name"], t["output"][:300]) for t in res["tests"]
              if t["name"].startswith(("ex01 ", "ex02 ")) and t["status"] != "passed"]
    assert not failed
    assert sum(t["score"] for t in ex02_tests(res)) == 25


def test_the_skeleton_scores_zero_and_says_what_to_implement(graded):
    tests = ex02_tests(graded["skeleton"])
    assert sum(t["score"] for t in tests) == 0
    assert all("not implemented yet" in t["output"] for t in tests), [
        (t["name"], t["output"][:200]) for t in tests if "not implemented yet" not in t["output"]]


@pytest.mark.parametrize("name", sorted(EX01_CASES))
def test_a_broken_exercise1_costs_only_the_rnn_tests_and_says_so(graded, name):
    tests = ex02_tests(graded[name])
    failed = [t for t in tests if t["status"] == "failed"]
    assert failed, f"{name}: no Exercise 2 test noticed"
    assert all(_runs_rnn(t) for t in failed), [t["name"] for t in failed if not _runs_rnn(t)]
    assert all(t["status"] == "passed" for t in tests if not _runs_rnn(t))
    for t in failed:
        assert "the cause is in Exercise 1" in t["output"], (t["name"], t["output"][:300])
        assert EX01_BLAME[name] in t["output"], (t["name"], t["output"][:300])
        assert "uses-exercise1" in t["tags"]
