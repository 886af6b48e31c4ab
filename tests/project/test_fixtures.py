"""The public tests' saved expected values (tests/public/fixtures/*.npz, written by
`python -m tools.fixtures`) are what the reference gives today (issue 25.6)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tools import fixtures


def test_saved_fixtures_match_a_rebuild_from_the_reference():
    assert fixtures.stale() == [], "run `python -m tools.fixtures` and commit the result"


def test_a_drifted_fixture_is_found(tmp_path):
    for path in fixtures.FIXTURES.glob("*.npz"):  # the other exercises' fixtures, as shipped
        if path.name != "ex02.npz":
            shutil.copy(path, tmp_path)
    arrays = fixtures.ex02_arrays()
    arrays["scaler_later_z"] = arrays["scaler_later_z"] + 1e-6  # the reference changed
    (tmp_path / "ex02.npz").write_bytes(fixtures.encode(arrays))
    assert fixtures.stale(tmp_path) == ["ex02.npz"]
    del arrays["small_z"]
    (tmp_path / "ex02.npz").write_bytes(fixtures.encode(arrays))
    assert fixtures.stale(tmp_path) == ["ex02.npz"]
    (tmp_path / "ex02.npz").unlink()
    assert fixtures.stale(tmp_path) == ["ex02.npz (missing)"]


@pytest.mark.parametrize("name", sorted(fixtures.BUILDERS))
def test_fixtures_hold_only_numbers(name):
    """What ships is arrays of numbers (np.load without pickles), not code."""
    with np.load(fixtures.FIXTURES / f"{name}.npz", allow_pickle=False) as saved:
        assert all(saved[k].dtype.kind in "fiu" for k in saved.files)
