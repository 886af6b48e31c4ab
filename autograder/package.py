"""What leaves the repository: the student release and the Gradescope autograder zip.

`build_release` writes `dist/student/` and `dist/student.zip`: skeletons at a chosen
scaffolding level, the public tests and their harness, the guide, the data, a student
Makefile and README. Before anything is written, `scan_release` checks that nothing of
the reference or the hidden tests is in it; the release is refused otherwise.

`build_autograder` writes `dist/autograder.zip` in Gradescope's format: `setup.sh` and
`run_autograder` at its root, the engine, every test suite and the reference under
`source/` semantics (Gradescope unpacks the zip into /autograder/source).
"""

from __future__ import annotations

import ast
import re
import shutil
import zipfile
from pathlib import Path

from autograder.leaks import scan_copies, scan_text, solution_fingerprints, solution_spans
from autograder.skeleton import DEFAULT_LEVEL, level_of, make_skeleton

REPO = Path(__file__).resolve().parent.parent
PACKAGING = Path(__file__).resolve().parent / "packaging"

# Student release: folders copied as they are, and the files made for students.
RELEASE_DIRS = ("tests/public", "guides", "data")
RELEASE_FILES = {"tests/__init__.py": "", "tests/public/__init__.py": ""}
# Gradescope zip: what the grader needs, nothing of the project's own tests.
AUTOGRADER_DIRS = ("autograder", "solutions", "tests/public", "tests/hidden", "data")
AUTOGRADER_FILES = ("pyproject.toml", "requirements.txt", "tests/__init__.py",
                    "solutions/__init__.py")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "INSTRUCTOR_NOTES.md")
_MARKER = re.compile(r"#\s*(BEGIN|END)\s+(SOLUTION|FULL|CONCEPT)\b")
MIN_LEAK_LINE = 24  # shorter lines ("return h", "else:") are too common to mean anything
MIN_BLOCK_STATEMENTS = 3


class ReleaseLeak(Exception):
    """The release would contain reference or hidden-test material; lists every finding."""


# ---------------------------------------------------------------------------------------
# Scanning a release
# ---------------------------------------------------------------------------------------


class _Abstract(ast.NodeTransformer):
    """Names and constants replaced by placeholders: renaming variables or changing
    numbers does not hide a copied block."""

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id="_", ctx=node.ctx), node)

    def visit_arg(self, node):
        node.arg, node.annotation = "_", None
        return node

    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(value=0), node)


def _normal(stmt: ast.stmt) -> str:
    return ast.dump(_Abstract().visit(ast.parse(ast.unparse(stmt)).body[0]),
                    include_attributes=False)


def solution_blocks(source: str) -> list[tuple[str, list[str]]]:
    """(function name, normalised statements) of each solution block with at least
    MIN_BLOCK_STATEMENTS statements."""
    spans = solution_spans(source)
    blocks = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for lo, hi in spans:
            inside = [s for s in node.body if lo < s.lineno < hi]
            if len(inside) >= MIN_BLOCK_STATEMENTS:
                blocks.append((node.name, [_normal(s) for s in inside]))
    return blocks


def _function_bodies(source: str):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = node.body if isinstance(node.body, list) else []
            yield node, [_normal(s) for s in body]


def _longest_common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive statements that `a` and `b` share."""
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def _contains(body: list[str], block: list[str]) -> bool:
    """Does `body` hold most of `block` in a row? A copied block with a line dropped,
    added or reordered at its edges still matches; three statements at least."""
    need = max(MIN_BLOCK_STATEMENTS, -(-len(block) * 3 // 5))
    return _longest_common_run(body, block) >= need


def _secret_lines(skeleton_lines: set[str], public_lines: set[str]) -> dict[str, str]:
    """Lines of solutions/ and tests/hidden/ that neither the skeletons nor the public
    tests contain, each with where it comes from."""
    secret = {}
    sources = sorted((REPO / "solutions").glob("*.py")) + sorted(
        (REPO / "tests" / "hidden").glob("*.py"))
    for path in sources:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if len(text) >= MIN_LEAK_LINE and text not in skeleton_lines \
                    and text not in public_lines:
                secret.setdefault(text, str(path.relative_to(REPO)))
    return secret


def _hidden_test_names() -> set[str]:
    names = set()
    for path in (REPO / "tests" / "hidden").glob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
        names.add(path.stem)
    return names


def scan_release(root: Path) -> list[str]:
    """Every reason `root` (an unpacked release) may not ship; empty means it may."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]
    texts = {}
    for path in files:
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # data files
    # What the skeletons legitimately hold, generated afresh at the release's level (not
    # read from the release, where a planted line would excuse itself).
    level = next((level_of(t) for p, t in texts.items() if "assignments" in p.parts
                  and level_of(t)), DEFAULT_LEVEL)
    skeletons = {line.strip() for path in sorted((REPO / "solutions").glob("ex_*.py"))
                 for line in make_skeleton(path.read_text(encoding="utf-8"), path.name,
                                           level).splitlines()}
    public = {line.strip() for path in (REPO / "tests" / "public").glob("*.py")
              for line in path.read_text(encoding="utf-8").splitlines()}
    secret = _secret_lines(skeletons, public)
    hidden_names = _hidden_test_names()
    blocks = [(f"{p.name}:{name}", block) for p in sorted((REPO / "solutions").glob("ex_*.py"))
              for name, block in solution_blocks(p.read_text(encoding="utf-8"))]
    graded = solution_fingerprints(REPO)
    findings = []
    for path, text in texts.items():
        rel = str(path.relative_to(root))
        for number, line in enumerate(text.splitlines(), start=1):
            if _MARKER.search(line):
                findings.append(f"{rel}:{number}: a solution/scaffolding marker")
            for name in hidden_names:
                if re.search(rf"\b{name}\b", line):
                    findings.append(f"{rel}:{number}: names the hidden test {name}")
            if line.strip() in secret:
                findings.append(f"{rel}:{number}: a line of {secret[line.strip()]}")
        if path.suffix == ".py":
            for node, body in _function_bodies(text):
                for where, block in blocks:
                    if _contains(body, block):
                        name = getattr(node, "name", "<lambda>")
                        findings.append(f"{rel}:{node.lineno}: {name} holds the solution of "
                                        f"{where} (same code up to names and constants)")
        # Analytic gradients and renamed copies of graded formulas: anywhere, except in
        # skeletons an instructor chose to release at the full level (which state the
        # formulas on purpose).
        if path.suffix in (".py", ".md") and not text.startswith("# scaffolding: full"):
            findings += [str(f) for f in scan_text(text, rel)]
            if path.suffix == ".py":
                findings += [f"{f}: a copy of graded code"
                             for f in scan_copies(text, rel, graded)]
    return findings


# ---------------------------------------------------------------------------------------
# The student release
# ---------------------------------------------------------------------------------------


def build_release(dest: Path | None = None, level: str = DEFAULT_LEVEL) -> Path:
    """Write the student release to `dest` (default dist/student) and its zip next to it;
    refuse (ReleaseLeak) if the scan finds anything."""
    dest = dest or REPO / "dist" / "student"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for folder in RELEASE_DIRS:
        shutil.copytree(REPO / folder, dest / folder, ignore=_SKIP, dirs_exist_ok=True)
    for rel, text in RELEASE_FILES.items():
        (dest / rel).write_text(text, encoding="utf-8")
    (dest / "assignments").mkdir()
    for source in sorted((REPO / "solutions").glob("ex_*.py")):
        skeleton = make_skeleton(source.read_text(encoding="utf-8"), source.name, level)
        (dest / "assignments" / source.name).write_text(skeleton, encoding="utf-8")
    for name, target in (("student_Makefile", "Makefile"), ("student_README.md", "README.md"),
                         ("student_pyproject.toml", "pyproject.toml"), ("check.py", "check.py")):
        shutil.copyfile(PACKAGING / name, dest / target)
    shutil.copyfile(REPO / "requirements.txt", dest / "requirements.txt")
    (dest / ".gitignore").write_text(".venv/\n__pycache__/\nfigures/\n", encoding="utf-8")
    findings = scan_release(dest)
    if findings:
        shutil.rmtree(dest)
        raise ReleaseLeak("\n".join(findings))
    _zip(dest, dest.with_suffix(".zip"), prefix=dest.name)
    return dest


def _zip(folder: Path, archive: Path, prefix: str = "", modes: dict | None = None) -> None:
    """A zip with sorted members and fixed dates, so two builds are byte-identical."""
    modes = modes or {}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(f"{prefix}/{rel}" if prefix else rel, (2026, 1, 1, 0, 0, 0))
            info.external_attr = (modes.get(rel, 0o644) & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


# ---------------------------------------------------------------------------------------
# The Gradescope autograder
# ---------------------------------------------------------------------------------------


def build_autograder(dest: Path | None = None) -> Path:
    """Write dist/autograder.zip: setup.sh and run_autograder at the root, and what the
    grader runs. The project's own tests and fixtures stay out."""
    archive = dest or REPO / "dist" / "autograder.zip"
    staging = archive.with_suffix("")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for folder in AUTOGRADER_DIRS:
        shutil.copytree(REPO / folder, staging / folder, ignore=_SKIP)
    for rel in AUTOGRADER_FILES:
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / rel, staging / rel)
    shutil.rmtree(staging / "autograder" / "packaging")
    for name in ("setup.sh", "run_autograder"):
        shutil.copyfile(PACKAGING / name, staging / name)
    _zip(staging, archive, modes={"setup.sh": 0o755, "run_autograder": 0o755})
    shutil.rmtree(staging)
    return archive
