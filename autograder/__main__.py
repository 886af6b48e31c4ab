"""Command line of the grading engine (what the Makefile calls).

    python -m autograder grade SUBMISSION [--out results.json] [--exercises ex02,...]
                               [--exercise1 own|reference]
    python -m autograder grade-all DIR --out OUTDIR [--jobs N] [--exercises ex02,...]
                                   [--canvas-assignment NAME] [--exercise1 own|reference]
    python -m autograder assignments [--check] [--scaffold concept|full]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import sys
from pathlib import Path

from autograder.settings import EXERCISE1_POLICIES


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _exercises(text: str) -> tuple[str, ...]:
    """ex02[,ex01...]: the exercises a maintainer's run grades."""
    from tests.public.harness import EXERCISES

    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [i for i in ids if i not in EXERCISES]
    if not ids or unknown:
        raise argparse.ArgumentTypeError(
            f"expected ids from {', '.join(EXERCISES)} separated by commas, got {text!r}")
    return ids


def _existing(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text!r} does not exist")
    return path


EXERCISES_HELP = ("grade only these exercises (for maintainers): the other tests are "
                  "listed with 0, \"not graded in this run\"")
EXERCISE1_HELP = ("what Exercises 2-4 run on: the student's own Exercise 1, or the reference "
                  "(a mistake in Exercise 1 then costs Exercise 1's points only); default: "
                  "EXERCISE1_POLICY in autograder/settings.py")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade one submission (folder or .zip)")
    p.add_argument("submission", type=_existing, metavar="SUBMISSION")
    p.add_argument("--out", type=Path, default=Path("results.json"), help="results.json path")
    p.add_argument("--log", type=Path, help="also save pytest's own output here")
    p.add_argument("--quiet", action="store_true", help="do not print the table")
    p.add_argument("--exercises", type=_exercises, metavar="ex02[,ex01...]",
                   help=EXERCISES_HELP)
    p.add_argument("--exercise1", choices=EXERCISE1_POLICIES, help=EXERCISE1_HELP)

    p = sub.add_parser("grade-all", help="grade every sub-folder or .zip of DIR")
    p.add_argument("folder", type=_existing, metavar="DIR")
    p.add_argument("--out", type=Path, required=True, metavar="OUTDIR")
    p.add_argument("--jobs", type=_positive_int, default=1)
    p.add_argument("--exercises", type=_exercises, metavar="ex02[,ex01...]",
                   help=EXERCISES_HELP)
    p.add_argument("--exercise1", choices=EXERCISE1_POLICIES, help=EXERCISE1_HELP)
    p.add_argument("--scheduler", metavar="tcp://HOST:8786|local",
                   help="grade on a Dask cluster (requirements-cluster.txt): a running "
                        "`dask scheduler`, or local for a LocalCluster of --jobs workers")
    p.add_argument("--similarity", action="store_true",
                   help="also write similarity.csv and similarity.html (copydetect)")
    p.add_argument("--fresh", action="store_true",
                   help="regrade every submission (default: keep results whose files and "
                        "tests have not changed)")
    p.add_argument("--canvas-assignment", metavar="NAME",
                   help="also write canvas_import.csv, Canvas's gradebook import, with the "
                        "totals in a column of this name (the assignment's name in Canvas)")
    p.add_argument("--allow-same-user", action="store_true",
                   help="grade even where student code can only run as the grader's own "
                        "user (no sandbox, no student user): it could read and change the "
                        "grader's files and the other submissions")

    p = sub.add_parser("assignments", help="generate assignments/ from solutions/")
    p.add_argument("--check", action="store_true",
                   help="only check that assignments/ is up to date (exit 1 if not)")
    p.add_argument("--scaffold", choices=("concept", "full"),
                   help="scaffolding level: concept (contracts and ideas) or full (formulas "
                        "too); default: each skeleton keeps the level it has (new ones: "
                        "concept)")

    p = sub.add_parser("release", help="the student release: dist/student/ and .zip")
    p.add_argument("--scaffold", choices=("concept", "full"), default="concept")
    p.add_argument("--out", type=Path, help="folder to write (default: dist/student)")

    p = sub.add_parser("autograder", help="the Gradescope zip: dist/autograder.zip")
    p.add_argument("--out", type=Path, help="zip to write (default: dist/autograder.zip)")

    args = parser.parse_args(argv)

    if args.command == "release":
        from autograder.package import ReleaseLeak, build_release

        try:
            dest = build_release(args.out, args.scaffold)
        except ReleaseLeak as exc:
            print(f"error: the release would leak, so it was not written:\n{exc}",
                  file=sys.stderr)
            return 1
        files = sorted(p for p in dest.rglob("*") if p.is_file())
        print(f"wrote {dest} ({len(files)} files, scaffolding {args.scaffold}; scan clean) "
              f"and {dest.with_suffix('.zip')}")
        return 0

    if args.command == "autograder":
        from autograder.package import build_autograder

        archive = build_autograder(args.out)
        print(f"wrote {archive} ({archive.stat().st_size / 2**20:.2f} MB): upload it as the "
              "autograder of a Gradescope programming assignment")
        return 0

    if args.command in ("grade", "grade-all"):
        from autograder.sandbox.isolation import make_undumpable

        # Same-uid student code cannot then read this process's memory or open its pipes.
        make_undumpable()

    if args.command == "grade":
        from autograder.grade import failed_results, format_table, grade, write_json

        # What Gradescope finds if this process is killed before the end (results.json
        # missing shows students only "the autograder failed to execute correctly").
        write_json(failed_results("grading did not finish (the grader was stopped)"),
                   args.out)
        from autograder.sandbox.isolation import EXIT_NO_SANDBOX, SandboxStartError

        try:
            results = grade(args.submission, args.out, args.log, args.exercises,
                            args.exercise1)
        except SandboxStartError as exc:
            # Nothing was graded: grade-all tries again (EXIT_NO_SANDBOX), never weaker.
            write_json(failed_results(str(exc)), args.out)
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_NO_SANDBOX
        except Exception as exc:
            write_json(failed_results(f"{type(exc).__name__}: {exc}"), args.out)
            raise
        if not args.quiet:
            print(_isolation_line(results.get("extra_data", {}).get("isolation", {})))
            print(format_table(results, f"Submission: {args.submission}"))
            print(f"results: {args.out}")
        return 0

    if args.command == "grade-all":
        if not args.folder.is_dir():
            parser.error(f"DIR {args.folder} is not a folder")
        from autograder.batch import grade_class
        from autograder.sandbox.client import Limits

        level = Limits().isolation()
        print(level.summary())
        if level.name == "same-user" and not args.allow_same_user:
            print("error: refusing to grade a batch at the same-user level: each submission "
                  "could read the others and change the grader's files. Install bubblewrap "
                  "(make setup) or, as root, set AUTOGRADER_STUDENT_USER; or pass "
                  "--allow-same-user (make grade ALLOW_SAME_USER=1) for trusted code.",
                  file=sys.stderr)
            return 2
        from autograder.cluster import SchedulerError, dask_executor

        if args.similarity and importlib.util.find_spec("copydetect") is None:
            print("error: --similarity needs copydetect: pip install -r "
                  "requirements-cluster.txt", file=sys.stderr)
            return 2

        try:
            # Every submission is graded at this level, or not at all (batch.py).
            with (dask_executor(args.scheduler, args.jobs) if args.scheduler
                  else contextlib.nullcontext()) as executor:
                rows = grade_class(args.folder, args.out, args.jobs, fresh=args.fresh,
                                   exercises=args.exercises, level=level.name,
                                   canvas_assignment=args.canvas_assignment,
                                   executor=executor, exercise1=args.exercise1)
        except SchedulerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except ValueError as exc:
            parser.error(str(exc))
        pairs = None
        if args.similarity:
            from autograder.similarity import similarity_report

            pairs = similarity_report(rows, args.out)
            print(f"similarity: {len(pairs)} pairs to review (evidence, not a verdict)")
        from autograder.report_html import write_report

        write_report(rows, args.out, pairs)
        print(_class_summary(rows))
        for name in ("report.html", "gradebook.csv", "tests.csv", "tests_key.csv",
                     "pass_rates.csv", "histogram.png", "misconceptions.md",
                     *(("canvas_import.csv",) if args.canvas_assignment else ()),
                     *(("similarity.csv", "similarity.html") if args.similarity else ())):
            print(f"  {args.out / name}")
        if rows.interrupted:
            again = " ".join(["python -m autograder", *(argv if argv is not None
                                                         else sys.argv[1:])])
            print(f"stopped by Ctrl-C: the reports above cover what was graded. To resume "
                  f"(graded results are kept): {again}", file=sys.stderr)
            return 130
        return 1 if any(p["status"] == "not graded" for p in rows.people) else 0

    if args.command == "assignments":
        from autograder.skeleton import MarkerError, sync

        try:
            stale = sync(check=args.check, level=args.scaffold)
        except MarkerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for path in stale:
            print(("out of date: " if args.check else "wrote ") + str(path))
        if args.check and stale:
            print("run `make assignments` to regenerate the skeletons", file=sys.stderr)
            return 1
        return 0
    return 2


def _class_summary(rows) -> str:
    """"N students in M submissions: graded, partial, not graded (who and why)", and the
    files of the download that belong to no submission."""
    people = rows.people
    count = {k: sum(p["status"] == k for p in people) for k in ("graded", "partial",
                                                                 "not graded")}
    text = (f"{len(people)} students in {len(rows)} submissions: {count['graded']} graded, "
            f"{count['partial']} partly (an exercise could not be graded), "
            f"{count['not graded']} not graded")
    missing = [f"{p['student']} ({p['notes'][:120]})" for p in people
               if p["status"] == "not graded"]
    if missing:
        text += ": " + "; ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
    if rows.notes:
        text += f"\n{len(rows.notes)} files ignored (not anybody's submission; see the notes above)"
    return text


def _isolation_line(info: dict) -> str:
    text = f"isolation: {info.get('level', '?')} ({info.get('detail', '')})"
    if info.get("not_available"):
        text += "; not available: " + "; ".join(info["not_available"])
    return text


if __name__ == "__main__":
    sys.exit(main())
