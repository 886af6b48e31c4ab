"""Student skeletons generated from the reference solutions (the single source).

In `solutions/ex_*.py`, what students write sits between two lines

    # BEGIN SOLUTION
    ...
    # END SOLUTION

inside a function body. The skeleton keeps everything else (docstrings with shapes and
ideas, given helpers, the demo) and replaces each block by a TODO and
`raise NotImplementedError("<function>")`, so tests and the demo name what is missing.

Scaffolding levels. Docstrings (or comments) may hold lines between

    # BEGIN FULL          text only the `full` level keeps: formulas, pseudocode
    # END FULL
    # BEGIN CONCEPT       text only the `concept` level keeps: the idea, a guide pointer
    # END CONCEPT

`concept` (the default, what `assignments/` holds) gives the contract and the idea to use;
`full` (for an introductory course) adds the formulas. The marker lines themselves never
reach a skeleton. The first line of a skeleton records its level, so the drift check
regenerates each file at the level it was written with.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
LEVELS = ("concept", "full")
DEFAULT_LEVEL = "concept"
# Marker -> the level whose skeleton keeps the text between it and its END.
_LEVEL_BLOCKS = {"FULL": "full", "CONCEPT": "concept"}
_LEVEL_MARKER = re.compile(r"^# (BEGIN|END) (FULL|CONCEPT)$")
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")
_HEADER = re.compile(r"^# scaffolding: (\w+)\b")


class MarkerError(Exception):
    """Solution markers that cannot be turned into a skeleton; names file and line."""


def header(level: str) -> str:
    return (f"# scaffolding: {level} (generated from the reference by `make assignments`; "
            "write your code where it says TODO)\n")


def level_of(skeleton_text: str) -> str | None:
    """The scaffolding level a skeleton was generated at (None: no header)."""
    match = _HEADER.match(skeleton_text)
    return match.group(1) if match else None


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"scaffolding level must be one of {', '.join(LEVELS)}; got {level!r}")


def select_level(text: str, filename: str, level: str = DEFAULT_LEVEL) -> str:
    """`text` with FULL/CONCEPT blocks kept or dropped for `level`, markers removed."""
    _check_level(level)
    out: list[str] = []
    block, opened_at = None, None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        match = _LEVEL_MARKER.match(stripped)
        if match:
            kind, name = match.groups()
            if kind == "BEGIN":
                if block is not None:
                    raise MarkerError(f"{filename}:{number}: {stripped} inside the "
                                      f"{block} block opened at line {opened_at}")
                block, opened_at = name, number
            else:
                if block != name:
                    raise MarkerError(f"{filename}:{number}: {stripped} without a "
                                      f"'# BEGIN {name}' before it")
                block = None
            continue
        if stripped.startswith(("# BEGIN FUL", "# END FUL", "# BEGIN CON", "# END CON")):
            raise MarkerError(f"{filename}:{number}: malformed marker {stripped!r}; write "
                              "exactly '# BEGIN FULL', '# END FULL', '# BEGIN CONCEPT' or "
                              "'# END CONCEPT'")
        if block is None or _LEVEL_BLOCKS[block] == level:
            out.append(line)
    if block is not None:
        raise MarkerError(f"{filename}:{opened_at}: # BEGIN {block} is never closed")
    return "".join(out)


def make_skeleton(text: str, filename: str, level: str = DEFAULT_LEVEL) -> str:
    text = select_level(text, filename, level)
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
    return header(level) + "".join(out)


def sync(check: bool = False, solutions: Path | None = None,
         assignments: Path | None = None, level: str | None = None) -> list[Path]:
    """Regenerate every skeleton; returns those that were (or, with check, would be)
    rewritten. `level=None` keeps each file's current level (new files: the default)."""
    solutions = solutions or REPO / "solutions"
    assignments = assignments or REPO / "assignments"
    if level is not None:
        _check_level(level)
    stale = []
    for source in sorted(solutions.glob("ex_*.py")):
        target = assignments / source.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        want = level or (current and level_of(current)) or DEFAULT_LEVEL
        skeleton = make_skeleton(source.read_text(encoding="utf-8"), str(source.name), want)
        if current != skeleton:
            stale.append(target)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(skeleton, encoding="utf-8")
    return stale
