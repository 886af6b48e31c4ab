"""A student who ignores the temperature is told exactly that (issue 25.4): the tests of
softmax_with_temperature, next_char_probs, sample and temperature_experiment name
`temperature-ignored`, and neither `temperature-before-softmax` (the temperature applied in
the wrong place), `sample-follows-probs` nor `softmax-overflow` (nothing overflowed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from autograder.skeleton import REPO
from tests.mutants import ex03
from tests.public.misconceptions import ids_in

TESTS = (
    "tests/public/test_ex03_char_language_model.py::test_ex03_softmax_with_temperature",
    "tests/public/test_ex03_char_language_model.py::test_ex03_next_char_probs",
    "tests/public/test_ex03_char_language_model.py::test_ex03_sample_follows_next_char_probs",
    "tests/public/test_ex03_char_language_model.py::test_ex03_temperature_experiment",
    "tests/hidden/test_ex03_char_language_model_hidden.py::"
    "test_ex03_hidden_softmax_with_temperature",
    "tests/hidden/test_ex03_char_language_model_hidden.py::"
    "test_ex03_hidden_next_char_and_sampling",
)
WRONG = {"temperature-before-softmax", "sample-follows-probs", "softmax-overflow",
         "entropy-log-probs"}
MUTANTS = {m.name: m for m in ex03.MUTANTS}


@pytest.mark.parametrize("name", ["temperature_ignored_in_softmax",
                                  "temperature_ignored_in_step",
                                  "temperature_ignored_in_sample"])
def test_temperature_ignored_gets_its_own_label(name, tmp_path):
    shutil.copy(REPO / "solutions" / "ex_01_basic_rnn.py", tmp_path)
    (tmp_path / "ex_03_char_language_model.py").write_text(MUTANTS[name].source(),
                                                            encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", *TESTS, "-q", "-p",
                          "no:cacheprovider", "--tb=short"], cwd=REPO, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "IMPL": str(tmp_path)})
    assert "failed" in run.stdout, run.stdout[-2000:]
    seen = set(ids_in(run.stdout))
    assert "temperature-ignored" in seen, run.stdout[-3000:]
    assert not seen & WRONG, (sorted(seen & WRONG), run.stdout[-3000:])
