"""Skeletons are generated from the solutions, and the committed ones have not drifted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.skeleton import REPO, MarkerError, make_skeleton, sync


def test_committed_skeletons_equal_the_generated_ones():
    stale = sync(check=True)
    assert not stale, f"out of date: {stale}; run `make assignments`"


def test_a_block_becomes_a_todo_naming_its_function():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    # END SOLUTION\n"
        "\n"
        "\n"
        "def given():\n"
        "    return 2\n"
    )
    skeleton = make_skeleton(source, "f.py")
    assert 'raise NotImplementedError("f")' in skeleton
    assert "y = x + 1" not in skeleton and '"""Doc."""' in skeleton
    assert "def given():\n    return 2\n" in skeleton


def test_methods_are_named_after_their_own_def():
    source = ("class A:\n    def fit(self):\n        # BEGIN SOLUTION\n        pass\n"
              "        # END SOLUTION\n")
    assert 'raise NotImplementedError("fit")' in make_skeleton(source, "a.py")


@pytest.mark.parametrize("source, where", [
    ("def f():\n    # BEGIN SOLUTION\n    pass\n", "f.py:2: # BEGIN SOLUTION is never closed"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n",
     "f.py:3: # BEGIN SOLUTION inside the block opened at line 2"),
    ("def f():\n    pass\n    # END SOLUTION\n", "f.py:3: # END SOLUTION without"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "f.py:1: # BEGIN SOLUTION must be inside"),
    ("def f():\n    # BEGIN SOLUTIONS\n", "f.py:2: malformed marker"),
])
def test_malformed_markers_name_file_and_line(source, where):
    with pytest.raises(MarkerError, match=where.replace("(", r"\(")):
        make_skeleton(source, "f.py")


def test_running_the_skeleton_names_the_first_function_to_write():
    proc = subprocess.run([sys.executable, "assignments/ex_01_basic_rnn.py"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "not implemented yet: rnn_step_forward" in out
    assert "Traceback" not in out
