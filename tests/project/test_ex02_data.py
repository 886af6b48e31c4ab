"""Exercise 2's data and given helpers: the shipped sunspot file is the one data/README.md
describes, the synthetic generator is seeded and exact, and the skeleton's demo names the
first function to write."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import numpy as np
import pytest

from solutions import ex_02_time_series_prediction as ref
from tests.public.harness import REPO


def test_the_sunspot_file_is_the_one_the_readme_describes():
    data = (REPO / "data" / "sunspots.csv").read_bytes()
    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    digest = re.search(r"SHA-256: `([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256(data).hexdigest() == digest
    years, values = ref.load_sunspots()
    assert years.dtype == np.int64 and values.dtype == np.float64
    assert len(years) == len(values) == 309
    np.testing.assert_array_equal(years, np.arange(1700, 2009))
    assert np.all(values >= 0) and np.all(np.isfinite(values))


def test_the_synthetic_series_is_seeded_and_exact_without_noise():
    a = ref.make_synthetic_series(120, np.random.default_rng(3))
    b = ref.make_synthetic_series(120, np.random.default_rng(3))
    c = ref.make_synthetic_series(120, np.random.default_rng(4))
    assert a.shape == (120,) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    clean = ref.make_synthetic_series(200, np.random.default_rng(5), periods=(10.0, 25.0),
                                      amplitudes=(1.0, 0.5), trend=0.0, noise=0.0)
    np.testing.assert_allclose(clean[50:], clean[:150], atol=1e-12)  # period 50
    with pytest.raises(ValueError, match="periods"):
        ref.make_synthetic_series(10, np.random.default_rng(0), periods=(0.0,), amplitudes=(1.0,))


def test_running_the_skeleton_names_the_first_function_to_write(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "assignments" /
                                               "ex_02_time_series_prediction.py")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "not implemented yet: make_windows" in out and "Traceback" not in out
    assert not (tmp_path / "figures").exists()
