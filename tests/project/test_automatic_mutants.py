"""The automatic-mutant campaign (tests/mutants/automatic): its triage is complete and
consistent, its score meets the target, and mutmut still makes mutants of a solution block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = REPO / "tests" / "mutants" / "automatic"
EXERCISES = ("ex01", "ex02", "ex03", "ex04")


def _results():
    rows = {}
    for exid in EXERCISES:
        data = json.loads((HERE / f"results_{exid}.json").read_text())
        for row in data["mutants"]:
            rows[row["id"]] = row | {"exercise": exid}
    return rows


def _triage():
    return {t["id"]: t for t in json.loads((HERE / "triage.json").read_text())["mutants"]}


def test_every_survivor_has_a_reasoned_verdict():
    results, triage = _results(), _triage()
    for mid, row in results.items():
        if row["status"] != "killed":
            entry = triage.get(mid)
            assert entry is not None, f"survivor {mid} is not triaged"
            assert entry["verdict"] in ("equivalent", "gap"), mid
            assert entry.get("fixed") is not True, f"{mid}: marked fixed but still survives"
    for mid, entry in triage.items():
        assert mid in results, f"triage entry {mid} has no result"
        assert entry["verdict"] in ("equivalent", "gap", "killed"), mid
        assert len(entry.get("reason", "")) > 20, f"{mid}: the verdict needs its reason"
        assert entry["diff"], mid
        if entry["verdict"] == "equivalent":
            assert entry.get("kind") in ("semantic", "wording", "output"), mid
        if entry["verdict"] == "gap" and entry.get("fixed"):
            assert results[mid]["status"] == "killed", f"{mid}: a fixed gap must now be killed"
            test_file = entry["test"].split("::")[0]
            assert test_file.startswith(("tests/public/", "tests/hidden/")), mid
            assert (REPO / test_file).is_file(), mid


def test_score_file_has_the_keys_and_meets_the_target():
    score = json.loads((HERE / "score.json").read_text())
    for key in ("tool", "date", "exercises", "total", "killed", "equivalent", "survived",
                "score", "sample"):
        assert key in score, key
    assert score["tool"].startswith("mutmut ")
    assert set(score["exercises"]) == set(EXERCISES)
    assert score["total"] == score["killed"] + score["equivalent"] + score["survived"]
    assert score["score"] == pytest.approx(score["killed"] / (score["total"]
                                                              - score["equivalent"]), abs=1e-4)
    assert score["score"] >= 0.95
    results, triage = _results(), _triage()
    assert score["total"] == len(results)
    assert score["killed"] == sum(r["status"] == "killed" for r in results.values())
    assert score["equivalent"] == sum(r["status"] != "killed" and
                                      triage[m]["verdict"] == "equivalent"
                                      for m, r in results.items())


def test_mutmut_makes_mutants_of_a_solution_block():
    pytest.importorskip("mutmut")
    from tests.mutants.automatic.generate import mutants_of, solution_ranges

    path = REPO / "solutions" / "ex_01_basic_rnn.py"
    code = path.read_text()
    total, mutants = mutants_of(path, {"clip_grad_norm"})
    assert total > len(mutants) > 5
    ranges = solution_ranges(code)
    for m in mutants:
        assert m.function == "clip_grad_norm"
        assert any(a <= m.line <= b for a, b in ranges), m.id
        assert m.source != code
        compile(m.source, m.file, "exec")
    # Ids are stable: the campaign's ids for this function are made again.
    ran = {mid for mid, row in _results().items() if ":x_clip_grad_norm__" in mid}
    assert ran and ran <= {m.id for m in mutants}
