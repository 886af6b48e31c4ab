"""The copy scan (autograder/leaks.py, `scan_copies`): a shipped function that computes a
formula of a graded solution, up to the names of its variables, is found (issue 25.6)."""

from __future__ import annotations

import pytest

from autograder.leaks import scan_copies, solution_fingerprints
from autograder.skeleton import REPO

PUBLIC = sorted((REPO / "tests" / "public").glob("*.py"))

# The helpers of the public tests at 4707d98 that the issue names, renamed as a student
# who copies them would: each must be found.
PLANTED = '''
import numpy as np

def my_zscore(values, ref):
    ref = np.asarray(ref, dtype=np.float64)
    ax = None if ref.ndim == 1 else tuple(range(ref.ndim - 1))
    return (np.asarray(values) - ref.mean(axis=ax)) / ref.std(axis=ax)

def my_softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    ex = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return ex / ex.sum(axis=-1, keepdims=True)

def my_step(weights, state, char, temperature=1.0):
    new = np.tanh(weights["Wx"][char] + state @ weights["Wh"] + weights["b"])
    return my_softmax((new @ weights["Wy"] + weights["by"]) / temperature), new
'''

@pytest.fixture(scope="module")
def graded():
    return solution_fingerprints(REPO)


def _functions(findings):
    return {f.rule.split(" computes like ")[0] for f in findings}


def test_copy_scan_finds_renamed_copies(graded):
    findings = scan_copies(PLANTED, "planted.py", graded)
    assert _functions(findings) == {"my_zscore", "my_softmax", "my_step"}, findings
    sources = {f.rule.split(" computes like ")[1] for f in findings}
    assert {"solutions/ex_02_time_series_prediction.py:fit",
            "solutions/ex_03_char_language_model.py:softmax_with_temperature"} <= sources


def test_copy_scan_ignores_checks_containers_and_small_formulas(graded):
    clean = '''
import numpy as np

def check(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    shapes = {"Wx": (3, 4), "Wh": (4, 4), "b": (4,), "Wy": (4, 2), "by": (2,)}
    return x @ W + b, shapes
'''
    assert scan_copies(clean, "clean.py", graded) == []


def test_formulas_the_skeletons_hand_out_are_not_copies(graded):
    # Given code (outside the solution blocks) that a graded function shares: the scaled
    # initialisation and the log-softmax of the readout ship in every skeleton.
    given = '''
import numpy as np

def start(rng, n_in, n_hidden):
    return rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)

def scores(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
'''
    assert scan_copies(given, "given.py", graded) == []


def test_public_tests_hold_no_copy_of_a_graded_formula(graded):
    # Expected forward values come from fixtures/*.npz, properties, nn.RNN's documented
    # formula, or the student's own functions once they match saved values (issue 25.6).
    found = [str(f) for path in PUBLIC
             for f in scan_copies(path.read_text(encoding="utf-8"), path.name, graded)]
    assert not found, "copies of graded formulas:\n" + "\n".join(found)
