"""What a catalogued mutant and a catalogued alternative are, and how one becomes a file.

A mutant is a realistic student mistake written as edits of the reference solution; the
grader must take points off it. An alternative is a correct solution written another way
(edits of the reference, or a whole file in tests/fixtures/); the grader must give it full
marks. Both are graded through the real path by tests/mutants/grading.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.public.harness import EXERCISES

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
FIXTURES = REPO / "tests" / "fixtures"

# The families of mistakes the catalogue covers (issue 12); each mutant names one.
FAMILIES = (
    "bptt-accumulation",
    "derivative",
    "transpose",
    "index-shift",
    "window-leakage",
    "scaling-split",
    "temperature",
    "sampling-feedback",
    "hidden-carry",
    "zero-grad",
    "reduction",
    "clipping",
    "dtype",
    "rng",
    "layout",
    "mutation",
    "optimizer",
    "validation",
)

Edits = tuple[tuple[str, str], ...]


def apply_edits(source: str, edits: Edits, what: str) -> str:
    """`source` with each (old, new) replaced; each old text must occur exactly once, so
    a reference that drifted breaks the catalogue loudly instead of silently."""
    for old, new in edits:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"{what}: the text to replace occurs {count} times: {old[:80]!r}")
        source = source.replace(old, new)
    return source


def reference(exercise: str) -> str:
    return (SOLUTIONS / EXERCISES[exercise]).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Mutant:
    """A student mistake: graded, it must lose points (and name `expected_id`)."""

    name: str
    exercise: str
    mistake: str
    family: str
    edits: Edits
    expected_id: str | None = None
    # Why no misconception id is expected, when expected_id is None.
    no_id_because: str = ""

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"mutant {self.name}: unknown family {self.family!r}")
        if not (self.expected_id or self.no_id_because):
            raise ValueError(f"mutant {self.name}: an expected id or a reason for none")

    def source(self) -> str:
        return apply_edits(reference(self.exercise), self.edits, f"mutant {self.name}")


@dataclass(frozen=True)
class Alternative:
    """A correct solution written differently: graded, it must get full marks."""

    name: str
    exercise: str
    idea: str
    edits: Edits = ()
    # A whole file in tests/fixtures/ instead of edits (e.g. "alt_ex02").
    fixture: str | None = None

    def source(self) -> str:
        if self.fixture:
            return (FIXTURES / self.fixture / EXERCISES[self.exercise]).read_text(encoding="utf-8")
        return apply_edits(reference(self.exercise), self.edits, f"alternative {self.name}")


def mutant(name, exercise, mistake, family, expected_id, *edits, no_id_because="") -> Mutant:
    """Shorthand for the catalogue modules: edits as trailing (old, new) pairs."""
    return Mutant(name, exercise, mistake, family, tuple(edits), expected_id, no_id_because)


def alternative(name, exercise, idea, *edits, fixture=None) -> Alternative:
    """Shorthand for the catalogue modules: edits as trailing (old, new) pairs."""
    return Alternative(name, exercise, idea, tuple(edits), fixture)
