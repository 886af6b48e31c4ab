"""The guide (guides/rnn_guide.md) and its figure gallery agree with the code they teach:
every function the guide calls by name exists in the solutions with the arguments it
shows; every figure linked exists and stays small; every misconception id is in the
common-mistakes section with public tests that exist; and nothing in the guide is the
analytic gradient of a graded function, in code or in math."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder.leaks import scan_text
from tests.public.misconceptions import MISCONCEPTIONS

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "guides" / "rnn_guide.md"
FIGURES = REPO / "guides" / "figures"
GALLERY = FIGURES / "README.md"
SOLUTIONS = sorted((REPO / "solutions").glob("ex_*.py"))

# Calls the guide writes that are notation or library calls, not the exercises' functions.
NOT_OURS = {"exp", "log", "tanh", "softmax", "sum", "max", "len", "set", "sorted", "sqrt",
            "diag", "f", "backward", "step", "detach", "zero_grad", "train", "eval"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Functions named in code spans
# ---------------------------------------------------------------------------------------


def _signatures() -> dict[str, list[tuple[str, bool]]]:
    """name -> [(parameter, has a default)] for every function, class (its __init__) and
    method defined in the solutions; `self` left out. Read from the source, not imported."""
    found: dict[str, list[tuple[str, bool]]] = {}

    def params(fn: ast.FunctionDef, skip_self: bool) -> list[tuple[str, bool]]:
        args = fn.args.posonlyargs + fn.args.args
        defaults = [False] * (len(args) - len(fn.args.defaults)) + [True] * len(fn.args.defaults)
        pairs = [(a.arg, d) for a, d in zip(args, defaults, strict=True)]
        pairs += [(a.arg, d is not None)
                  for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)]
        return pairs[1:] if skip_self and pairs and pairs[0][0] == "self" else pairs

    for path in SOLUTIONS:
        for node in ast.parse(_text(path)).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = params(node, False)
            elif isinstance(node, ast.ClassDef):
                found.setdefault(node.name, [])
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        sig = params(item, True)
                        if item.name == "__init__":
                            found[node.name] = sig
                        found.setdefault(item.name, sig)
    return found


def _balanced(text: str, start: int) -> str | None:
    """The text inside the parentheses that open at text[start], or None if unclosed."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    return None


def _split_args(inside: str) -> list[str]:
    args, depth, cur = [], 0, ""
    for ch in inside:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        args.append(cur.strip())
    return args


def guide_calls(text: str) -> list[tuple[str, list[str], str]]:
    """(name, shown arguments, the code span) of every undotted call in a code span."""
    calls = []
    for span in re.findall(r"`([^`\n]+)`", text):
        for m in re.finditer(r"(?<![\w.])([A-Za-z_]\w*)\(", span):
            inside = _balanced(span, m.end() - 1)
            if inside is not None:
                calls.append((m.group(1), _split_args(inside), span))
    return calls


def signature_problems(name: str, shown: list[str], sig: list[tuple[str, bool]]) -> list[str]:
    """How the arguments the guide shows disagree with the parameters defined."""
    names = [p for p, _ in sig]
    problems = []
    positional = [a for a in shown if a != "..." and "=" not in a]
    keywords = [a.split("=", 1)[0].strip() for a in shown if "=" in a and a != "..."]
    if len(positional) > len(names):
        problems.append(f"shows {len(positional)} positional arguments, has {len(names)}")
    for i, arg in enumerate(positional[:len(names)]):
        if re.fullmatch(r"[A-Za-z_]\w*", arg) and arg != names[i]:
            problems.append(f"argument {i + 1} is {arg!r}, the code calls it {names[i]!r}")
    problems += [f"no parameter {k!r}" for k in keywords if k not in names]
    if "..." not in shown:
        given = set(names[:len(positional)]) | set(keywords)
        problems += [f"leaves out {p!r}, which has no default"
                     for p, has_default in sig if not has_default and p not in given]
    return problems


def test_every_function_the_guide_calls_exists_with_the_arguments_it_shows():
    sigs = _signatures()
    problems = []
    for name, shown, span in guide_calls(_text(GUIDE)):
        if name in NOT_OURS:
            continue
        if name not in sigs:
            problems.append(f"`{span}`: {name} is not defined in solutions/")
            continue
        if shown or span.endswith(f"{name}()"):
            problems += [f"`{span}`: {name} {p}" for p in signature_problems(name, shown,
                                                                             sigs[name])]
    assert not problems, "\n".join(problems)


def test_the_guide_calls_the_graded_functions_it_teaches():
    """The check has something to check: the guide shows real signatures."""
    shown = {name for name, args, _ in guide_calls(_text(GUIDE)) if args}
    assert {"rnn_step_forward", "rnn_forward", "next_char_probs"} <= shown


@pytest.mark.parametrize("name, shown, ok", [
    ("rnn_forward", ["x", "h0", "Wx", "Wh", "b"], True),
    ("rnn_forward", ["x", "h0", "Wh", "Wx", "b"], False),       # arguments swapped
    ("rnn_forward", ["x", "h0"], False),                         # required ones left out
    ("next_char_probs", ["params", "h", "ix", "T"], False),      # renamed argument
    ("next_char_probs", ["params", "h", "ix"], True),            # temperature has a default
    ("sample", ["params", "h0", "seed_ix", "..."], True),
    ("sample", ["params", "h0", "seed_ix", "n", "tau=1"], False),
])
def test_the_signature_check_has_teeth(name, shown, ok):
    assert (not signature_problems(name, shown, _signatures()[name])) is ok


def test_every_function_named_alone_in_a_code_span_exists():
    """`rnn_backward` or `train_char_lm` in prose: an exercise function, so it must exist.
    Only names that look like this module's functions are checked (a verb and an object
    joined by underscores, not a variable such as `h_prev` or a PyTorch parameter)."""
    sigs = _signatures()
    verbs = ("rnn_", "make_", "train_", "plot_", "load_", "compare_", "init_", "softmax_",
             "clip_grad", "eval_", "naive_", "recursive_", "char_", "next_", "build_",
             "chronological_", "gradient_", "temperature_", "affine_", "model_", "adam_")
    names = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", _text(GUIDE)))
    missing = sorted(n for n in names if n.startswith(verbs) and n not in sigs)
    assert not missing, f"the guide names functions solutions/ does not define: {missing}"


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def _image_links(path: Path) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", _text(path))


@pytest.mark.parametrize("doc", [GUIDE, GALLERY], ids=["guide", "gallery"])
def test_every_linked_figure_exists(doc):
    links = _image_links(doc)
    assert links, f"{doc.name} links no figure"
    missing = [link for link in links if not (doc.parent / link).is_file()]
    assert not missing, f"{doc.relative_to(REPO)} links figures that do not exist: {missing}"


def test_the_gallery_shows_every_figure_and_the_guide_links_them_all():
    pngs = {p.name for p in FIGURES.glob("*.png")}
    in_gallery = {Path(link).name for link in _image_links(GALLERY)}
    in_guide = {Path(link).name for link in _image_links(GUIDE)}
    assert pngs == in_gallery, f"gallery and folder differ: {sorted(pngs ^ in_gallery)}"
    assert pngs <= in_guide, f"figures the guide never shows: {sorted(pngs - in_guide)}"


def test_the_gallery_lists_what_make_figures_writes():
    from tools.figures import GALLERY as made

    assert {file for file, _ in made.values()} == {p.name for p in FIGURES.glob("*.png")}


def test_figures_are_small_pngs():
    sizes = {p.name: p.stat().st_size for p in FIGURES.glob("*.png")}
    assert all(_text_free_png(FIGURES / name) for name in sizes)
    big = {name: size for name, size in sizes.items() if size > 200_000}
    assert not big, f"figures over 200 kB: {big}"
    assert sum(sizes.values()) < 2_000_000


def _text_free_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------
# Common mistakes
# ---------------------------------------------------------------------------------------


def _section(text: str, title: str) -> str:
    parts = re.split(r"(?m)^## ", text)
    found = [p for p in parts if p.split("\n", 1)[0].strip().endswith(title)]
    assert found, f"the guide has no section ending in {title!r}"
    return found[0]


def test_common_mistakes_name_every_misconception_and_real_public_tests():
    section = _section(_text(GUIDE), "Common mistakes")
    named = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", section))
    assert set(MISCONCEPTIONS) - named == set(), "ids missing from the common mistakes"
    assert named - set(MISCONCEPTIONS) == set(), "ids the registry does not know"
    public = set()
    for path in (REPO / "tests" / "public").glob("test_*.py"):
        public |= set(re.findall(r"^def (test_\w+)", _text(path), re.M))
    cited = set(re.findall(r"`(test_ex0\d_\w+?)(?:_\*)?`", section))
    wildcard = {c for c in re.findall(r"`(test_ex0\d_\w+?)_\*`", section)}
    unknown = {c for c in cited - wildcard if c not in public}
    unknown |= {w for w in wildcard if not any(t.startswith(w + "_") for t in public)}
    assert not unknown, f"the guide cites public tests that do not exist: {sorted(unknown)}"
    for line in section.splitlines():
        if line.startswith("| ") and re.search(r"\| `[a-z0-9-]+` \|", line):
            mid = re.search(r"\| `([a-z0-9-]+)` \|", line).group(1)
            heading = line.rstrip(" |").rsplit("|", 1)[1].strip()
            assert heading == MISCONCEPTIONS[mid][1], f"{mid}: reads {heading!r}"


# ---------------------------------------------------------------------------------------
# No analytic gradient
# ---------------------------------------------------------------------------------------

# This module's forward formulas never transpose a weight (row vectors, weights on the
# right; PyTorch's column-vector notation has no transpose either), so a transpose in the
# guide, in code or in math, belongs to a backward formula or to Exercise 4's mapping.
_TRANSPOSE = re.compile(
    r"\^\s*\{?\s*(?:\\top|\\intercal|\\mathsf\s*\{?\s*T)"  # ^\top, ^{\top}, ^\mathsf{T}
    r"|(?:[A-Z]|_\w|_\{[^}=]*\})\^\s*\{?\s*T\b"  # W^T, x_t^T, h_{t-1}^{T}, not sum_{t=1}^{T}
    r"|\b\w+\.T\b")                                           # Wh.T in code


def math_findings(text: str) -> list[str]:
    return [f"line {n}: a transpose: {line.strip()[:100]}"
            for n, line in enumerate(text.splitlines(), start=1) if _TRANSPOSE.search(line)]


@pytest.mark.parametrize("doc", [GUIDE, GALLERY], ids=["guide", "gallery"])
def test_no_analytic_gradient_in_the_guide_or_gallery(doc):
    text = _text(doc)
    findings = [str(f) for f in scan_text(text, str(doc.relative_to(REPO)))]
    findings += math_findings(text)
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("line", [
    "One backward step is `dh_{t-1} = (dh_t * (1 - h_t**2)) @ Wh.T`.",  # the guide before
    r"$$\delta_{t-1} = \left(\delta_t \odot (1 - h_t^2)\right) W_h^\top$$",
    r"$\frac{\partial L}{\partial W_x} = \sum_t x_t^T a_t$",
    r"$$\nabla_{W_h} L = \sum_t h_{t-1}^{\top} a_t$$",
])
def test_the_math_check_finds_backward_formulas(line):
    assert math_findings(line)


def test_the_math_check_leaves_forward_formulas_alone():
    forward = (r"$$h_t = \tanh\left(x_t W_x + h_{t-1} W_h + b\right), \qquad s_t = h_t W_y + b_y$$"
               "\n" r"$$h_t = \tanh\left(W_{ih}\, x_t + b_{ih} + W_{hh}\, h_{t-1} + b_{hh}\right)$$"
               "\n" r"$T$ steps, $x_1, \dots, x_T$, $\rho^T$, $N T$, $\sum_{t=1}^{T} \ell_t$")
    assert not math_findings(forward)


def test_the_release_ships_the_figures_with_the_guide():
    """`make release` copies guides/ whole (figures and gallery included) and ignores none
    of their files; test_package builds a real release and scans it."""
    from autograder.package import _SKIP, RELEASE_DIRS

    assert "guides" in RELEASE_DIRS
    names = [p.name for p in FIGURES.iterdir()]
    assert "README.md" in names and not _SKIP(str(FIGURES), names)
    assert not _SKIP(str(GUIDE.parent), [p.name for p in GUIDE.parent.iterdir()])


# ---------------------------------------------------------------------------------------
# The student README (what `make release` ships as README.md) states the rubric's points
# ---------------------------------------------------------------------------------------


def _points(folder: str) -> dict[str, float]:
    totals = {}
    for path in sorted((REPO / "tests" / folder).glob("test_ex0*.py")):
        marks = re.findall(r"@pytest\.mark\.points\(([\d.]+)\)", _text(path))
        totals[path.name[5:9]] = sum(float(m) for m in marks)
    return totals


def test_the_student_readme_states_the_points_of_the_rubric():
    readme = _text(REPO / "autograder" / "packaging" / "student_README.md")
    public, hidden = _points("public"), _points("hidden")
    assert sum(public.values()) + sum(hidden.values()) == 100

    def fmt(x: float) -> str:
        return f"{x:g}"

    for suite, points in (("public", public), ("hidden", hidden)):
        sentence = re.search(rf"\*\*{suite} tests\*\*[^(]*\(([^)]*)\)", readme, re.S)
        assert sentence, f"the README gives no points for the {suite} tests"
        stated = " ".join(sentence.group(1).split())
        for ex, value in points.items():
            assert f"Exercise {int(ex[2:])}: {fmt(value)}" in stated, (suite, ex, stated)
    for ex in public:
        row = next(line for line in readme.splitlines() if f"`ex_{ex[2:]}_" in line
                   and line.startswith("|"))
        assert row.rstrip(" |").endswith(fmt(public[ex] + hidden[ex])), row
