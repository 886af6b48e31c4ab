"""`make mutants`: grade every catalogued mutant and alternative through the real path,
print the table and the summary, write them as JSON, and exit 1 when a mutant keeps full
marks or an alternative loses a point.

    python -m tests.mutants [--jobs N] [--exercise exNN] [--json PATH] [--compare all|sample|none]

It also tests each submission in-process, as `make check` does, and exits 1 when a test
passes one way and fails the other (tests/mutants/parity.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.mutants.grading import compare_all, compare_in_make_test, grade_catalogue, summary
from tests.public.harness import EXERCISES

REPO = Path(__file__).resolve().parents[2]


def table(rows: list[dict]) -> list[str]:
    """One line per mutant (points lost by public and hidden tests, ids seen/expected),
    then one per alternative (score)."""
    lines = [f"{'mutant':<34} {'ex':<5} {'public':>7} {'hidden':>7}  misconception seen/expected"]
    for r in (r for r in rows if r["kind"] == "mutant"):
        expected = r["expected_id"] or "(none: see no_id_because)"
        seen = "yes" if r["expected_id"] in r["ids_seen"] else "NO"
        verdict = "" if r["score"] < r["max_score"] else "  SURVIVED"
        lines.append(f"{r['name']:<34} {r['exercise']:<5} {-r['public_lost']:>7g} "
                     f"{-r['hidden_lost']:>7g}  {seen if r['expected_id'] else '-':<3} "
                     f"{expected}{verdict}")
    lines.append("")
    lines.append(f"{'alternative':<40} {'ex':<5} score")
    for r in (r for r in rows if r["kind"] == "alternative"):
        mark = "" if r["score"] == r["max_score"] else "  LOSES POINTS: " + "; ".join(
            t["name"] for t in r["failed"][:3])
        lines.append(f"{r['name']:<40} {r['exercise']:<5} {r['score']:g}/{r['max_score']:g}"
                     f"{mark}")
    return lines


def summary_lines(s: dict, seconds: float) -> list[str]:
    lines = [f"{s['mutants']} hand-written mutants: {s['caught_public']} caught by the public "
             f"tests alone ({s['kill_rate_public']:.1%}), {s['caught']} by the full grade "
             f"({s['kill_rate_full']:.1%})" if s["mutants"] else "no mutants graded"]
    for exercise, e in s["per_exercise"].items():
        lines.append(f"  {exercise}: {e['mutants']} mutants, {e['caught_public']} public, "
                     f"{e['caught']} full; {e['alternatives']} alternatives")
    if s["ids_missing"]:
        lines.append("expected misconception id not seen: " + ", ".join(s["ids_missing"]))
    lines.append(f"{s['alternatives_full_marks']}/{s['alternatives']} alternatives at full "
                 "marks")
    auto = s["automatic"]
    lines.append("automatic mutants: " + (
        f"score {auto.get('score')} ({auto.get('killed')} killed, {auto.get('equivalent')} "
        f"equivalent, {auto.get('survived')} survived of {auto.get('total')})"
        if auto else "not measured"))
    lines.append(f"graded in {seconds:.0f} s")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    parser.add_argument("--exercise", choices=tuple(EXERCISES), action="append",
                        help="only this exercise's catalogue (repeatable)")
    parser.add_argument("--json", type=Path, default=REPO / "results" / "mutants.json",
                        help="where the table and summary go as JSON")
    parser.add_argument("--compare", choices=("all", "sample", "none"), default="all",
                        help="which submissions are also tested in-process, as make check "
                             "tests them, to find tests whose outcome differs (default all; "
                             "sample is what make test compares)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    compare = {"all": compare_all, "sample": compare_in_make_test, "none": None}[args.compare]
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        rows = grade_catalogue(Path(tmp), jobs=max(1, args.jobs),
                               exercises=tuple(args.exercise or EXERCISES), show=True,
                               compare=compare)
    seconds = time.monotonic() - start
    s = summary(rows)
    print("\n".join(table(rows) + [""] + summary_lines(s, seconds)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"summary": s, "seconds": round(seconds, 1), "rows": rows},
                                    indent=2) + "\n", encoding="utf-8")
    differ = [(r["name"], line) for r in rows for line in (r["make_check_differs"] or [])]
    compared = sum(r["make_check_differs"] is not None for r in rows)
    print(f"make check and the grade: {compared} submissions compared, "
          f"{len({n for n, _ in differ})} differ")
    for name, line in differ:
        print(f"  {name}: {line}")
    print(f"written: {args.json}")
    bad = (s["caught"] < s["mutants"] or s["alternatives_full_marks"] < s["alternatives"]
           or bool(differ))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
