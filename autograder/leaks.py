"""Finds analytic gradients in what ships to students.

Students derive backpropagation themselves, so nothing they receive (concept-level
skeletons, public tests and their harness, the guide) may contain the analytic backward
pass of a graded function. Expected gradients in public tests come from centered
differences of forward formulas instead.

The scan looks for the signatures an analytic backward pass cannot avoid in this module's
row-vector convention, where forward formulas never transpose a weight:

* a matrix product that pairs a gradient-named operand (``d...``, ``grad...``,
  ``upstream...``) with a transposed array: ``dz @ Wh.T``, ``h_prev.T @ dz``;
* an assignment to a gradient-named variable whose right side multiplies matrices,
  transposes, or applies tanh's derivative: ``dx = ...``, ``dz = ...``;
* the softmax cross-entropy gradient: ``p - onehot(y)``, ``probs - np.eye(V)[y]``, or
  the one-hot subtraction done in place (``p[..., y] -= 1``);
* in Python files, tanh's derivative written out: ``1 - h**2``, ``1 - np.tanh(z)**2``.

It is a guard against accidents in our own files, not against a determined author.
"""

from __future__ import annotations

import ast
import copy as copy_module
import re
from dataclasses import dataclass
from pathlib import Path

_GRAD = r"(?:d[A-Za-z_]\w*|grad\w*|upstream\w*)"
_ARRAY = r"\w+(?:\[[^\]\n]*\])?"
_TEXT_RULES = {
    "transposed product with a gradient": re.compile(
        rf"\b{_GRAD}\s*\)?\s*@\s*\(?\s*{_ARRAY}\.T\b|{_ARRAY}\.T\s*@\s*\(?\s*{_GRAD}\b"),
    "gradient assigned from a backward formula": re.compile(
        r"\bd(?:W\w*|b\w*|h\w*|x\w*|z\w*|scores|logits|a|s)\s*\+?=\s*(?!=)"
        r"[^\n]*(?:@|\.T\b|\b1(?:\.0)?\s*-\s*[\w.()\[\], :]+\*\*\s*2)"),
    "softmax cross-entropy gradient": re.compile(
        r"\b(?:p|probs?|softmax\([^)\n]*\))\s*-\s*(?:one_?hot|(?:np\.)?eye\b)"),
}
_TANH_PRIME = re.compile(r"\b1(?:\.0)?\s*-\s*(?:np\.)?(?:tanh\([^)\n]*\)|h\w*(?:\[[^\]\n]*\])?)"
                         r"\s*\*\*\s*2")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text.strip()[:100]}"


def scan_text(text: str, path: str = "<text>", python: bool | None = None) -> list[Finding]:
    """Every line of `text` that matches a rule; Python sources get the AST rules too."""
    python = path.endswith(".py") if python is None else python
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in _TEXT_RULES.items():
            if pattern.search(line):
                findings.append(Finding(path, number, rule, line))
        if python and _TANH_PRIME.search(line):
            findings.append(Finding(path, number, "tanh derivative written out", line))
    if python:
        findings += _scan_ast(text, path)
    return findings


def _scan_ast(text: str, path: str) -> list[Finding]:
    """`a[...] -= 1`: the one-hot subtraction of the softmax gradient, done in place."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    lines = text.splitlines()
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub)
                and isinstance(node.target, ast.Subscript)
                and isinstance(node.value, ast.Constant) and node.value.value == 1):
            found.append(Finding(path, node.lineno, "softmax cross-entropy gradient (in place)",
                                 lines[node.lineno - 1]))
    return found


# ---------------------------------------------------------------------------------------
# Copies of graded code: a shipped function holding an expression of a solution block
# ---------------------------------------------------------------------------------------

MIN_COPY_NODES = 9  # smaller expressions (``x @ W + b``) are too common to mean anything
_NOT_COUNTED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def _size(node: ast.AST) -> int:
    return sum(not isinstance(n, _NOT_COUNTED) for n in ast.walk(node))


def fingerprint(node: ast.expr, keep: frozenset = frozenset()) -> str:
    """The expression's AST with every name outside `keep` renamed by order of first
    appearance (``v0``, ``v1``...), so ``e / e.sum(-1)`` and ``x / x.sum(-1)`` agree.
    Attribute names, called module functions (``np.tanh``) and constants stay."""
    order: dict[str, str] = {}

    class _Rename(ast.NodeTransformer):
        def visit_Call(self, n):
            self.generic_visit(n) if not isinstance(n.func, ast.Name) else [
                self.visit(a) for a in (*n.args, *n.keywords)]
            return n

        def visit_Name(self, n):
            if n.id in keep:
                return n
            return ast.Name(id=order.setdefault(n.id, f"v{len(order)}"), ctx=ast.Load())

    copy = _Rename().visit(copy_module.deepcopy(node))
    return ast.dump(copy, include_attributes=False)


def _module_names(tree: ast.Module) -> frozenset:
    """Names a module imports (np, torch, nn, math): they stay in a fingerprint."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return frozenset(names)


def _computed(body):
    """The values a function computes (assigned, returned, passed on), not the tests of
    its `if`s or the messages of its `raise`s: argument checks are alike everywhere."""
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)):
            if stmt.value is not None:
                yield stmt.value
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            yield stmt.iter
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                yield from _computed(getattr(stmt, field, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _computed(handler.body)


_DISPLAYS = (ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.DictComp,
             ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.Call, ast.Subscript)


def _arithmetic(node: ast.expr) -> bool:
    """A formula: it does arithmetic on arrays (`x @ W`, `z - z.max()`), not only
    builds a container, calls a helper or slices."""
    return not isinstance(node, _DISPLAYS) or (
        isinstance(node, ast.Call) and any(isinstance(n, ast.BinOp) for n in ast.walk(node)))


def _expressions(body, min_nodes):
    for value in _computed(body):
        for node in ast.walk(value):
            if isinstance(node, ast.expr) and _arithmetic(node) and _size(node) >= min_nodes:
                yield node


def solution_spans(source: str) -> list[tuple[int, int]]:
    """(line of ``# BEGIN SOLUTION``, line of ``# END SOLUTION``) of each block, 1-based."""
    spans, start = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == "# BEGIN SOLUTION":
            start = number
        elif line.strip() == "# END SOLUTION" and start is not None:
            spans.append((start, number))
            start = None
    return spans


def graded_fingerprints(source: str, where: str, min_nodes: int = MIN_COPY_NODES,
                        given: bool = False) -> dict:
    """fingerprint -> "where:function" for every expression of at least `min_nodes` nodes
    inside a ``# BEGIN SOLUTION`` block of `source` (a solutions/ file); with `given`,
    those wholly outside every block instead: the code the skeleton hands out."""
    tree = ast.parse(source)
    keep = _module_names(tree)
    spans = solution_spans(source)
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for expr in _expressions(node.body, min_nodes):
            last = getattr(expr, "end_lineno", expr.lineno)
            inside = any(lo < last and expr.lineno < hi for lo, hi in spans)
            if inside != given:
                found.setdefault(fingerprint(expr, keep), f"{where}:{node.name}")
    return found


def scan_copies(text: str, path: str, graded: dict,
                min_nodes: int = MIN_COPY_NODES) -> list[Finding]:
    """Functions of `text` (shipped Python) holding an expression of a graded solution,
    up to the names of variables (`graded` from `graded_fingerprints`). Docstrings and
    other constants never match: only computations do."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    keep = _module_names(tree)
    findings, seen = [], set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        body = node.body if isinstance(node.body, list) else [ast.Expr(node.body)]
        for expr in _expressions(body, min_nodes):
            source = graded.get(fingerprint(expr, keep))
            if source and (expr.lineno, source) not in seen:
                seen.add((expr.lineno, source))
                name = getattr(node, "name", "<lambda>")
                findings.append(Finding(path, expr.lineno, f"{name} computes like {source}",
                                        ast.unparse(expr)))
    return findings


def solution_fingerprints(root: Path) -> dict:
    """The graded fingerprints of every solutions/ex_*.py under `root` (the repository),
    less the formulas a skeleton hands out as given code (an initialisation, a readout
    shared by a graded and a given function): shipping those is no leak."""
    graded, given = {}, set()
    for path in sorted((root / "solutions").glob("ex_*.py")):
        source = path.read_text(encoding="utf-8")
        graded.update(graded_fingerprints(source, f"solutions/{path.name}"))
        given |= set(graded_fingerprints(source, path.name, given=True))
    return {f: where for f, where in graded.items() if f not in given}
