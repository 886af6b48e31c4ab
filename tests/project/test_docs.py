"""README.md and docs/*.md hold together: every relative link reaches a file (and, for
`#anchor`, a heading of it), every `make TARGET` they name is a Makefile target, and the
README stays a short front page whose exercise table gives the rubric's points."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MAKE = re.compile(r"(?:`|^\s*)make\s+([a-z][\w-]*)\b(?!=)", re.M)
TARGET = re.compile(r"^([\w.-]+(?:\s+[\w.-]+)*)\s*:(?!=)", re.M)


def _prose(text: str) -> str:
    """The text outside fenced code blocks (links there are not links)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor the headings of a Markdown file give (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(path.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"#{1,6}\s+(.*)", line):
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """Relative links of `page` whose file or heading does not exist."""
    bad = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            bad.append(f"{target}: no heading #{anchor}")
    return bad


def make_targets(makefile: Path) -> set[str]:
    return {t for m in TARGET.findall(makefile.read_text(encoding="utf-8")) for t in m.split()}


def missing_targets(page: Path, targets: set[str]) -> list[str]:
    return sorted({t for t in MAKE.findall(page.read_text(encoding="utf-8")) if t not in targets})


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_make_target_named_exists(page):
    assert missing_targets(page, make_targets(REPO / "Makefile")) == []


def test_the_checks_have_teeth(tmp_path):
    (tmp_path / "a.md").write_text("# Top\n## What `make test` checks\n## Top\n", encoding="utf-8")
    page = tmp_path / "p.md"
    page.write_text("[ok](a.md#what-make-test-checks) [ok](a.md#top-1) [ok](#here)\n"
                    "# Here\n[bad](a.md#nowhere) [bad](b.md) `make chek` `make check`\n"
                    "```\n[in code](c.md)\n```\nhttps://x [web](https://example.org)\n",
                    encoding="utf-8")
    assert broken_links(page) == ["a.md#nowhere: no heading #nowhere", "b.md: no such file"]
    (tmp_path / "Makefile").write_text("X := 1\ncheck test: a\n\techo\n", encoding="utf-8")
    assert make_targets(tmp_path / "Makefile") == {"check", "test"}
    assert missing_targets(page, make_targets(tmp_path / "Makefile")) == ["chek"]


def test_the_readme_is_a_front_page():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for needed in ("make grade", "make test", "docs/students.md", "docs/instructors.md",
                   "docs/design.md", "docs/validity.md", "docs/measured.md"):
        assert needed in text, needed


def test_the_readme_states_the_points_of_the_rubric():
    from tests.project.test_guide import _points

    public, hidden = _points("public"), _points("hidden")
    rows = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `ex_0")]
    assert len(rows) == len(public) == 4
    for ex in public:
        row = next(r for r in rows if r.startswith(f"| `ex_{ex[2:]}_"))
        stated = f"{public[ex] + hidden[ex]:g} ({public[ex]:g} + {hidden[ex]:g}) |"
        assert row.endswith(stated), (row, stated)
