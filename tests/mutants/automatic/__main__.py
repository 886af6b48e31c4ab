"""python -m tests.mutants.automatic: mutmut's mutants of the solution blocks, run and scored.

    python -m tests.mutants.automatic --exercise ex01 --jobs 2
    python -m tests.mutants.automatic --exercise ex03 --sample 150 --seed 0
    python -m tests.mutants.automatic --exercise ex01 --ids ID [ID ...]   # rerun some
    python -m tests.mutants.automatic --score                              # score.json only

Writes results_<exercise>.json (one row per mutant run), adds every new survivor to
triage.json with the verdict "todo", and recomputes score.json from the results and the
triage. `--plan-out FILE` writes the mutants (sources included) without running them, and
`--plan FILE` runs such a file (for a machine without mutmut installed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

from tests.mutants.automatic.runner import FILES, HERE, plan, run_all

TOOL = "mutmut 3.3.1"
TRIAGE = HERE / "triage.json"
SCORE = HERE / "score.json"


def results_path(exid: str) -> Path:
    return HERE / f"results_{exid}.json"


def load_json(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def merge_results(exid: str, meta: dict, rows: list[dict], results: list[dict]) -> dict:
    """Fold a run into results_<exid>.json; a rerun of an id replaces its row."""
    old = load_json(results_path(exid), {"mutants": []})
    by_id = {r["id"]: r for r in old["mutants"]}
    info = {row["id"]: row for row in rows}
    for res in results:
        row = info[res["id"]]
        entry = {k: row[k] for k in ("id", "function", "line")} | res
        if res["status"] != "killed":
            entry["diff"] = row["diff"]
        by_id[res["id"]] = entry
    merged = {k: v for k, v in old.items() if k != "mutants"} | meta
    merged["mutants"] = sorted(by_id.values(), key=lambda r: (r["line"], r["id"]))
    results_path(exid).write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
    return merged


def update_triage() -> dict:
    triage = load_json(TRIAGE, {"tool": TOOL, "mutants": []})
    known = {t["id"] for t in triage["mutants"]}
    for exid in FILES:
        for r in load_json(results_path(exid), {"mutants": []})["mutants"]:
            if r["status"] != "killed" and r["id"] not in known:
                triage["mutants"].append({"id": r["id"], "exercise": exid,
                                          "function": r["function"], "line": r["line"],
                                          "diff": r.get("diff", "").splitlines(),
                                          "verdict": "todo", "reason": ""})
    TRIAGE.write_text(json.dumps(triage, indent=1, ensure_ascii=False) + "\n")
    return triage


def score() -> dict:
    triage = {t["id"]: t for t in load_json(TRIAGE, {"mutants": []})["mutants"]}
    out = {"tool": TOOL, "date": dt.date.today().isoformat(), "exercises": {}}
    totals = dict.fromkeys(("total", "killed", "equivalent", "survived", "gaps_fixed",
                            "gaps_not_fixed"), 0)
    samples, seconds = [], 0.0
    for exid in FILES:
        res = load_json(results_path(exid), None)
        if res is None:
            continue
        rows = res["mutants"]
        killed = sum(r["status"] == "killed" for r in rows)
        equivalent = sum(r["status"] != "killed"
                         and triage.get(r["id"], {}).get("verdict") == "equivalent"
                         for r in rows)
        mine = [t for t in triage.values() if t["exercise"] == exid]
        ex = {"generated": res.get("generated"),
              "in_graded_solution_blocks": res.get("in_blocks"),
              "total": len(rows), "killed": killed, "equivalent": equivalent,
              "survived": len(rows) - killed - equivalent,
              "gaps_fixed": sum(t["verdict"] == "gap" and t.get("fixed") is True for t in mine),
              "gaps_not_fixed": sum(t["verdict"] == "gap" and t.get("fixed") is False
                                    for t in mine),
              "equivalent_by_kind": {k: sum(t["verdict"] == "equivalent" and t.get("kind") == k
                                            for t in mine)
                                     for k in ("semantic", "wording", "output")},
              "sample": res.get("sample"),
              "seconds": round(sum(r["seconds"] for r in rows), 1)}
        ex["score"] = round(killed / max(1, ex["total"] - equivalent), 4)
        out["exercises"][exid] = ex
        for key in totals:
            totals[key] += ex[key]
        samples.append(f"{exid}: {res.get('sample')}")
        seconds += ex["seconds"]
    out.update(totals)
    out["score"] = round(totals["killed"] / max(1, totals["total"] - totals["equivalent"]), 4)
    out["sample"] = ("mutants inside the solution blocks of the graded functions (CONTRACT.md "
                     "section 6; demos, plots and experiments are not mutated): "
                     + "; ".join(samples))
    out["cpu_seconds"] = round(seconds, 1)
    SCORE.write_text(json.dumps(out, indent=1) + "\n")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.mutants.automatic", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exercise", nargs="*", choices=sorted(FILES))
    ap.add_argument("--sample", type=int, help="run a seeded random sample of this many")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    ap.add_argument("--deadline", type=float, help="start no mutant after this many seconds")
    ap.add_argument("--shuffle", action="store_true", help="run in a seeded random order")
    ap.add_argument("--functions", nargs="*", help="only these graded functions")
    ap.add_argument("--ids", nargs="*", help="only these mutant ids (a rerun)")
    ap.add_argument("--plan-out", type=Path, help="write the plan (mutmut needed) and stop")
    ap.add_argument("--plan", type=Path, nargs="*", help="run these plans (no mutmut needed)")
    ap.add_argument("--sink", type=Path, help="append each result as a JSON line here too")
    ap.add_argument("--import-results", type=Path, help="merge a --sink file into the results")
    ap.add_argument("--no-save", action="store_true", help="print only; write no files")
    ap.add_argument("--score", action="store_true", help="recompute score.json and stop")
    args = ap.parse_args(argv)

    if args.score:
        print(json.dumps(score(), indent=1))
        return 0
    plans = []
    for path in args.plan or []:
        plans.extend(json.loads(path.read_text()))
    if not args.plan:
        if not args.exercise:
            ap.error("--exercise (or --plan) is required")
        for exid in args.exercise:
            total, in_blocks, rows = plan(exid, args.sample, args.seed, args.functions)
            sample = (f"seeded random sample of {len(rows)} of {in_blocks} (seed {args.seed})"
                      if args.sample is not None and args.sample < in_blocks else "all")
            plans.append({"exercise": exid, "generated": total, "in_blocks": in_blocks,
                          "sample": sample, "rows": rows})
    rows = [row for p in plans for row in p["rows"]]
    if args.ids:
        rows = [r for r in rows if r["id"] in set(args.ids)]
    if args.plan_out:
        args.plan_out.write_text(json.dumps(plans))
        print(f"{len(rows)} mutants planned -> {args.plan_out}")
        return 0
    if args.import_results:
        results = [json.loads(ln) for ln in args.import_results.read_text().splitlines() if ln]
    else:
        for p in plans:
            print(f"{p['exercise']}: mutmut proposes {p['generated']} mutations, "
                  f"{p['in_blocks']} in graded solution blocks", flush=True)
        if args.shuffle:
            random.Random(args.seed).shuffle(rows)
        print(f"running {len(rows)} with {args.jobs} jobs", flush=True)
        results = run_all(rows, args.jobs, args.timeout, log=lambda s: print(s, flush=True),
                          sink=args.sink, deadline=args.deadline)
    if args.no_save:
        return 0
    for p in plans:
        ids = {r["id"] for r in p["rows"]}
        mine = [r for r in results if r["id"] in ids]
        if not mine:
            continue
        meta = {"tool": TOOL, "exercise": p["exercise"], "generated": p["generated"],
                "in_blocks": p["in_blocks"]}
        if not args.ids:
            run = len(mine)
            meta["sample"] = (p["sample"] if run == len(p["rows"]) else
                              f"{run} of {p['in_blocks']}: those started before the deadline, "
                              f"in a seeded random order (seed {args.seed})")
        merge_results(p["exercise"], meta, p["rows"], mine)
    update_triage()
    print(json.dumps(score(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
