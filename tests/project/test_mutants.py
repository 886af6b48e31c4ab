"""Grading validity (tests/mutants/, docs/validity.md): every catalogued student mistake
loses points with a reason that names its misconception, the public tests alone catch at
least 90% of them, every correct alternative gets full marks, each skeleton scores 0 and
says what to implement, and a broken or missing Exercise 1 costs a later exercise only
the tests that run it, saying so.

The whole catalogue is graded once, through the real path (`grade-all --exercises`, each
submission graded on its own exercise only); `make mutants` prints the same as a table.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from tests.mutants import parity
from tests.mutants.catalogue import FAMILIES, reference
from tests.mutants.grading import (
    ALTERNATIVES,
    EX01_CASES,
    MUTANTS,
    compare_in_make_test,
    grade_catalogue,
    summary,
)
from tests.public.misconceptions import MISCONCEPTIONS

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / "tests" / "public"

# One fixture grades about 100 submissions: minutes on a loaded 2-core machine, counted
# against the first test that uses it.
pytestmark = pytest.mark.timeout(2400)

# Exercise 2's tests that run the RNN (so use Exercise 1), and Exercise 4's.
USES_EX01 = {"ex02": ("RNNRegressor", "compare_window_lengths"),
             "ex04": ("compare_numpy_torch",)}
# What each broken Exercise 1 must be blamed for.
EX01_BLAME = {"ex02_with_ex01_skeleton": "rnn_forward is not implemented yet",
              "ex02_with_ex01_no_carry": "rnn_backward gives a wrong d",
              "ex02_with_ex01_missing": "ex_01_basic_rnn.py could not be used",
              "ex04_with_ex01_missing": "Exercise 1"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    # Both cores, unless the other worker of make test's pytest-xdist has one.
    jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
    rows = grade_catalogue(tmp_path_factory.mktemp("mutants"), jobs=jobs,
                           compare=compare_in_make_test)
    return {r["name"]: r for r in rows}


def test_the_catalogue_is_large_varied_and_applies_to_the_current_reference():
    assert len(MUTANTS) >= 60 and len(ALTERNATIVES) >= 12
    assert {m.family for m in MUTANTS.values()} == set(FAMILIES)
    for item in [*MUTANTS.values(), *ALTERNATIVES.values()]:
        source = item.source()
        assert source != reference(item.exercise) or getattr(item, "fixture", None), item.name
        compile(source, item.name, "exec")
    for m in MUTANTS.values():
        assert m.expected_id in MISCONCEPTIONS if m.expected_id else m.no_id_because, m.name


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_with_a_reason(graded, name):
    r = graded[name]
    assert r["score"] < r["max_score"], f"{name} ({MUTANTS[name].mistake}) got full marks"
    assert all(t["output"].strip() for t in r["failed"])


@pytest.mark.parametrize("name", sorted(n for n, m in MUTANTS.items() if m.expected_id))
def test_mutant_diagnosis_names_its_misconception(graded, name):
    assert MUTANTS[name].expected_id in graded[name]["ids_seen"], \
        f"{name}: failed tests carry {graded[name]['ids_seen']}"


def test_public_tests_alone_catch_at_least_90_percent(graded):
    s = summary(list(graded.values()))
    missed = [n for n in MUTANTS if graded[n]["public_lost"] == 0]
    assert s["kill_rate_public"] >= 0.9, f"caught only by hidden tests: {missed}"


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_a_correct_alternative_gets_full_marks(graded, name):
    r = graded[name]
    assert r["score"] == r["max_score"], [(t["name"], t["output"][:300]) for t in r["failed"]]


@pytest.mark.parametrize("exercise", ["ex01", "ex02", "ex03", "ex04"])
def test_the_skeleton_scores_zero_and_says_what_to_implement(graded, exercise):
    r = graded[f"{exercise}_skeleton"]
    assert r["score"] == 0
    assert all("not implemented yet" in t["output"] for t in r["failed"]), [
        (t["name"], t["output"][:200]) for t in r["failed"]
        if "not implemented yet" not in t["output"]]
    if exercise == "ex04":  # methods named with their class, not a bare "__init__"
        outputs = " ".join(t["output"] for t in r["failed"])
        assert "RNNModel.__init__" in outputs and "SequenceDataset.__init__" in outputs
        assert "not implemented yet: __init__" not in outputs


@pytest.mark.parametrize("name", sorted(EX01_CASES))
def test_a_broken_exercise1_costs_only_the_tests_that_use_it_and_says_so(graded, name):
    r = graded[name]
    uses = USES_EX01[r["exercise"]]
    assert r["failed"], f"{name}: no test noticed"
    assert all(any(w in t["name"] for w in uses) for t in r["failed"]), \
        [t["name"] for t in r["failed"]]
    for t in r["failed"]:
        assert EX01_BLAME[name] in t["output"], (t["name"], t["output"][:300])
        if r["exercise"] == "ex02":
            assert "the cause is in Exercise 1" in t["output"] and "uses-exercise1" in t["tags"]


# Compared in-process too (issue 26): the references, skeletons and broken-Exercise-1
# cases, every alternative, and parity.sampled's mutants; `make mutants` compares all.
COMPARED = sorted([f"{ex}_{case}" for ex in ("ex01", "ex02", "ex03", "ex04")
                   for case in ("reference", "skeleton")] + list(EX01_CASES)
                  + list(ALTERNATIVES)
                  + [n for n, m in MUTANTS.items() if parity.sampled(n, m.family)])


@pytest.mark.parametrize("name", COMPARED)
def test_make_check_and_the_grade_agree(graded, name):
    """The same tests pass in-process (make check) and through the grader."""
    assert graded[name]["make_check_differs"] == [], graded[name]["make_check_differs"]


def _guide_claims() -> list[tuple[str, str]]:
    """(misconception id, public test function) for every "caught by" cell of the guide's
    section 11 tables."""
    text = (REPO / "guides" / "rnn_guide.md").read_text(encoding="utf-8")
    section = text.split("## 11. Common mistakes", 1)[1].split("\n## ", 1)[0]
    claims = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`") and cells[2].startswith("`test_"):
            mid = cells[1].strip("`")
            claims += [(mid, t.strip().strip("`")) for t in cells[2].split(",")]
    return claims


def _rubric_name(function: str) -> str:
    """`test_ex03_make_batches_shift` -> the name results.json gives that public test."""
    exid = function.split("_")[1]
    stem = next(f.stem for f in PUBLIC.glob(f"test_{exid}_*.py"))
    module = importlib.import_module(f"tests.public.{stem}")
    doc = (getattr(module, function).__doc__ or "").strip().splitlines()[0]
    return f"{exid} {doc}"


GUIDE_CLAIMS = _guide_claims()


def test_the_guide_lists_its_caught_by_claims():
    assert len(GUIDE_CLAIMS) > 60
    for _, function in GUIDE_CLAIMS:
        _rubric_name(function)  # the test exists and has a name


def claims_not_shown(rows, claims=GUIDE_CLAIMS) -> list[tuple[str, str]]:
    """The claims (id, test) that the catalogue could show and does not: a mutant of the
    test's exercise carries the id, and none of them fails the test. Claims for which no
    mutant of that exercise carries the id are left out (nothing to check them on)."""
    wrong = []
    for mid, function in claims:
        exid = function.split("_")[1]
        mine = [r for r in rows if r["expected_id"] == mid and r["exercise"] == exid]
        if mine and _rubric_name(function) not in {t["name"] for r in mine
                                                   for t in r["failed"]}:
            wrong.append((mid, function))
    return wrong


def test_each_caught_by_claim_of_the_guide_holds_for_the_catalogue(graded):
    """Guide section 11 says test T catches mistake `mid`: a catalogued mutant of T's
    exercise with that id fails T."""
    mutants = [r for r in graded.values() if r["kind"] == "mutant"]
    assert not claims_not_shown(mutants), "guide section 11 claims no mutant shows"
