"""The catalogue graded through the real path: every mutant, alternative and dependency
case written as a submission, each exercise's batch graded by `python -m autograder
grade-all --exercises exNN` (sandboxed, one process per submission), and the results
read back as one row per submission."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.batch import submission_dir
from tests.mutants import ex01, ex02, ex03, ex04, parity
from tests.mutants.catalogue import FIXTURES, REPO, Alternative, Mutant, reference
from tests.public.harness import EXERCISES

MODULES = {"ex01": ex01, "ex02": ex02, "ex03": ex03, "ex04": ex04}
MUTANTS: dict[str, Mutant] = {m.name: m for mod in MODULES.values() for m in mod.MUTANTS}
ALTERNATIVES: dict[str, Alternative] = {
    a.exercise + "_" + a.name: a for mod in MODULES.values() for a in mod.ALTERNATIVES}
EX01_FILE = EXERCISES["ex01"]

# Submissions that show how a later exercise depends on Exercise 1: name -> (exercise
# graded, what stands in for Exercise 1 beside the reference: skeleton, a mutant, missing).
EX01_CASES = {
    "ex02_with_ex01_skeleton": ("ex02", "skeleton"),
    "ex02_with_ex01_no_carry": ("ex02", "drop_dh_next"),
    "ex02_with_ex01_missing": ("ex02", None),
    "ex04_with_ex01_missing": ("ex04", None),
}


def _ex01_beside(kind: str | None) -> str | None:
    """Exercise 1 as handed in next to a later exercise."""
    if kind is None:
        return None
    if kind == "reference":
        return reference("ex01")
    if kind == "skeleton":
        return (REPO / "assignments" / EX01_FILE).read_text(encoding="utf-8")
    if kind == "alternative":
        return (FIXTURES / "alt_ex01" / EX01_FILE).read_text(encoding="utf-8")
    return MUTANTS[kind].source()


def submissions(exercise: str) -> dict[str, tuple[str, str, dict[str, str | None]]]:
    """folder name -> (kind, catalogue name, {file name: source or None for absent}).

    Each later exercise gets the reference Exercise 1 beside it (it builds on it); a
    whole-file alternative gets the alternative Exercise 1, as a student would hand in."""
    name = EXERCISES[exercise]
    later = exercise != "ex01"
    subs: dict[str, tuple[str, str, dict[str, str | None]]] = {}
    for m in MODULES[exercise].MUTANTS:
        files = {name: m.source(), **({EX01_FILE: reference("ex01")} if later else {})}
        subs[f"mutant-{m.name}"] = ("mutant", m.name, files)
    for a in MODULES[exercise].ALTERNATIVES:
        files = {name: a.source()}
        if later:
            files[EX01_FILE] = _ex01_beside("alternative" if a.fixture else "reference")
        subs[f"alternative-{a.name}"] = ("alternative", f"{exercise}_{a.name}", files)
    beside = {EX01_FILE: reference("ex01")} if later else {}
    subs["case-reference"] = ("case", f"{exercise}_reference",
                              {name: reference(exercise), **beside})
    skeleton = (REPO / "assignments" / name).read_text(encoding="utf-8")
    subs["case-skeleton"] = ("case", f"{exercise}_skeleton",
                             {name: skeleton, **({EX01_FILE: reference("ex01")} if later else {})})
    for case, (graded, ex01_kind) in EX01_CASES.items():
        if graded == exercise:
            subs[f"case-{case}"] = ("case", case, {name: reference(exercise),
                                                   EX01_FILE: _ex01_beside(ex01_kind)})
    return subs


def write(folder: Path, files: dict[str, str | None]) -> None:
    folder.mkdir(parents=True)
    for filename, text in files.items():
        if text is not None:
            (folder / filename).write_text(text, encoding="utf-8")


def grade_folder(subs: Path, out: Path, exercise: str, jobs: int, show: bool) -> dict[str, dict]:
    """results.json of every submission in `subs`, graded by the grader's command line.

    --allow-same-user: the submissions are the project's own catalogue, not student code,
    so grading them where no sandbox tool exists is safe."""
    cmd = [sys.executable, "-m", "autograder", "grade-all", str(subs), "--out", str(out),
           "--jobs", str(jobs), "--exercises", exercise, "--allow-same-user"]
    proc = subprocess.run(cmd, cwd=REPO, text=True, stdout=subprocess.PIPE,
                          stderr=None if show else subprocess.PIPE)
    results = {}
    for sub in sorted(p.name for p in subs.iterdir()):
        path = submission_dir(out, sub) / "results.json"
        if not path.exists():
            raise RuntimeError(f"{exercise}: no results for {sub} (grade-all exit "
                               f"{proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
        results[sub] = json.loads(path.read_text(encoding="utf-8"))
    return results


def row(kind: str, name: str, exercise: str, results: dict) -> dict:
    """One submission's outcome on its own exercise: points lost where, ids seen."""
    tests = [t for t in results["tests"] if t["tags"][0] == exercise]
    failed = [t for t in tests if t["status"] != "passed"]
    lost = {vis: round(sum(t["max_score"] for t in failed if t["visibility"] == vis), 6)
            for vis in ("visible", "after_published")}
    item = MUTANTS.get(name) if kind == "mutant" else ALTERNATIVES.get(name)
    return {
        "kind": kind, "name": name, "exercise": exercise,
        "what": getattr(item, "mistake", None) or getattr(item, "idea", ""),
        "family": getattr(item, "family", None),
        "expected_id": getattr(item, "expected_id", None),
        "no_id_because": getattr(item, "no_id_because", None) or None,
        "score": round(sum(t["score"] for t in tests), 6),
        "max_score": round(sum(t["max_score"] for t in tests), 6),
        "public_lost": lost["visible"], "hidden_lost": lost["after_published"],
        "ids_seen": sorted({tag for t in failed for tag in t["tags"][1:]}),
        # The grader's notes (a run cut short says so here), without the point totals.
        "notes": [line for line in results.get("output", "").splitlines()
                  if "public points" not in line and "not graded in this run" not in line],
        "failed": [{"name": t["name"], "visibility": t["visibility"], "tags": t["tags"][1:],
                    "output": t["output"]} for t in failed],
    }


def grade_catalogue(folder: Path, jobs: int = 2, exercises=tuple(EXERCISES),
                    show: bool = False, compare=None) -> list[dict]:
    """Every submission of the catalogue for `exercises`, graded; one row each.

    `compare(kind, name)` picks the submissions also tested in-process, as `make check`
    tests them (tests/mutants/parity.py): their rows get `make_check_differs`, the tests
    whose outcome differs between the two paths (None where not compared)."""
    rows = []
    for exercise in exercises:
        subs = folder / "subs" / exercise
        entries = submissions(exercise)
        for sub, (_, _, files) in entries.items():
            write(subs / sub, files)
        results = grade_folder(subs, folder / "out" / exercise, exercise, jobs, show)
        picked = [sub for sub, (kind, name, _) in entries.items()
                  if compare is not None and compare(kind, name)]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            local = dict(zip(picked, pool.map(
                lambda sub, subs=subs, exercise=exercise: parity.in_process(subs / sub,
                                                                            exercise),
                picked), strict=False))
        for sub, (kind, name, _) in entries.items():
            r = row(kind, name, exercise, results[sub])
            r["make_check_differs"] = (parity.differences(
                local[sub], parity.graded_statuses(results[sub], exercise))
                if sub in local else None)
            rows.append(r)
    return rows


def compare_in_make_test(kind: str, name: str) -> bool:
    """What `make test` compares in-process: every case (reference, skeleton, broken
    Exercise 1) and alternative, and the sampled mutants (parity.sampled)."""
    if kind != "mutant":
        return True
    return parity.sampled(name, MUTANTS[name].family)


def compare_all(kind: str, name: str) -> bool:
    """What `make mutants` compares in-process: everything."""
    return True


def automatic_score() -> dict | None:
    """The automatic (mutmut) mutation score, when tests/mutants/automatic measured it."""
    path = Path(__file__).parent / "automatic" / "score.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _caught(mutants: list[dict]) -> dict:
    """How many of `mutants` lose points to the public tests alone, and to the full grade."""
    return {"mutants": len(mutants),
            "caught_public": sum(r["public_lost"] > 0 for r in mutants),
            "caught": sum(r["score"] < r["max_score"] for r in mutants)}


def summary(rows: list[dict]) -> dict:
    """Counts and rates: what make mutants prints and the CI test holds to targets."""
    mutants = [r for r in rows if r["kind"] == "mutant"]
    alternatives = [r for r in rows if r["kind"] == "alternative"]
    per_exercise = {}
    for exercise in EXERCISES:
        mine = [r for r in mutants if r["exercise"] == exercise]
        theirs = [r for r in alternatives if r["exercise"] == exercise]
        if mine or theirs:
            per_exercise[exercise] = {**_caught(mine), "alternatives": len(theirs)}
    total = _caught(mutants)
    n = total["mutants"]
    return {
        **total,
        "kill_rate_public": round(total["caught_public"] / n, 4) if n else None,
        "kill_rate_full": round(total["caught"] / n, 4) if n else None,
        "ids_missing": [r["name"] for r in mutants
                        if r["expected_id"] and r["expected_id"] not in r["ids_seen"]],
        "alternatives": len(alternatives),
        "alternatives_full_marks": sum(r["score"] == r["max_score"] for r in alternatives),
        "per_exercise": per_exercise,
        "automatic": automatic_score(),
    }
