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


def scan_paths(paths, root: Path) -> list[Finding]:
    findings = []
    for path in paths:
        rel = str(Path(path).resolve().relative_to(root.resolve()))
        findings += scan_text(Path(path).read_text(encoding="utf-8"), rel)
    return findings
