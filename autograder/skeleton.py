"""Student skeletons generated from the reference solutions (the single source).

In `solutions/ex_*.py`, what students write sits between two lines

    # BEGIN SOLUTION
    ...
    # END SOLUTION

inside a function body. The skeleton keeps everything else (docstrings with shapes and
hints, given helpers, the demo) and replaces each block by a TODO and
`raise NotImplementedError("<function>")`, so tests and the demo name what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")


class MarkerError(Exception):
    """Solution markers that cannot be turned into a skeleton; names file and line."""


def make_skeleton(text: str, filename: str) -> str:
    out: list[str] = []
    defs: list[tuple[int, str]] = []
    opened_at = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN:
            if opened_at is not None:
                raise MarkerError(f"{filename}:{number}: {BEGIN} inside the block opened at "
                                  f"line {opened_at}; blocks cannot nest")
            owner = next((name for ind, name in reversed(defs) if ind < len(indent)), None)
            if owner is None:
                raise MarkerError(f"{filename}:{number}: {BEGIN} must be inside a function")
            opened_at = number
            out.append(f"{indent}# TODO: implement {owner} (see the docstring).\n")
            out.append(f'{indent}raise NotImplementedError("{owner}")\n')
        elif stripped == END:
            if opened_at is None:
                raise MarkerError(f"{filename}:{number}: {END} without a {BEGIN} before it")
            opened_at = None
        elif stripped.startswith(("# BEGIN SOL", "# END SOL")):
            raise MarkerError(f"{filename}:{number}: malformed marker {stripped!r}; "
                              f"write exactly {BEGIN!r} or {END!r}")
        elif opened_at is None:
            match = _DEF.match(line)
            if match:
                defs.append((len(match.group(1)), match.group(2)))
            out.append(line)
    if opened_at is not None:
        raise MarkerError(f"{filename}:{opened_at}: {BEGIN} is never closed by {END}")
    return "".join(out)


def sync(check: bool = False, solutions: Path | None = None,
         assignments: Path | None = None) -> list[Path]:
    """Regenerate every skeleton; returns those that were (or, with check, would be)
    rewritten."""
    solutions = solutions or REPO / "solutions"
    assignments = assignments or REPO / "assignments"
    stale = []
    for source in sorted(solutions.glob("ex_*.py")):
        skeleton = make_skeleton(source.read_text(encoding="utf-8"), str(source.name))
        target = assignments / source.name
        if not target.exists() or target.read_text(encoding="utf-8") != skeleton:
            stale.append(target)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(skeleton, encoding="utf-8")
    return stale
