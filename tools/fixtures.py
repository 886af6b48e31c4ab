"""`make fixtures`: the expected values the public tests read, saved from the reference.

A public test may not compute the answer of a graded function with code of its own (a
student could copy it; issue 25.6, `autograder/leaks.py`). Where no property pins the
answer down, the test reads it from `tests/public/fixtures/<exercise>.npz`: the inputs
and the reference's outputs on them, written here by calling `solutions/` (maintainer-side;
nothing of it ships but the numbers). `tests/project/test_fixtures.py` rebuilds them and
fails when the shipped files drift from the reference.

    python -m tools.fixtures [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "public" / "fixtures"


def _reference(filename: str):
    """A module of solutions/, loaded under a private name (never `ex02`)."""
    path = REPO / "solutions" / filename
    spec = importlib.util.spec_from_file_location(f"_fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _shifted_series(T=100):
    """The series of test_ex02_prepare_data_no_leakage: a later level and spread."""
    t = np.arange(T, dtype=np.float64)
    return np.sin(2 * np.pi * t / 9.0) + np.where(t >= 60, 4.0 + 0.05 * (t - 60), 0.0)


def _learnable_series(n, phase=0.0):
    """learnable_series of test_ex02_*.py: two clean sines."""
    t = np.arange(n, dtype=np.float64)
    return np.sin(2 * np.pi * t / 12.5 + phase) + 0.5 * np.sin(2 * np.pi * t / 5.3 + 1.0)


def ex02_arrays() -> dict[str, np.ndarray]:
    """Inputs and the reference's make_windows, Scaler and prepare_data outputs for
    test_ex02_*.py."""
    ex02 = _reference("ex_02_time_series_prediction.py")
    out = {}
    rng = np.random.default_rng(203)
    train, later = rng.normal(5.0, 2.0, 40), rng.normal(9.0, 4.0, 15)
    two = np.column_stack([rng.normal(-3.0, 0.5, 30), rng.normal(50.0, 10.0, 30),
                           np.full(30, 7.0)])  # the last feature is constant
    windows = rng.normal(0.0, 5.0, (4, 6, 3))
    out.update(scaler_train=train, scaler_later=later, scaler_two=two,
               scaler_windows=windows,
               scaler_later_z=ex02.Scaler().fit(train).transform(later),
               scaler_later_own_z=ex02.Scaler().fit(later).transform(later),
               scaler_windows_z=ex02.Scaler().fit(two).transform(windows))
    small = 10.0 + np.arange(20.0)
    data = ex02.prepare_data(small, 3, 1, 0.5, 0.25)
    out.update(small_z=ex02.Scaler().fit(small[:10]).transform(small),
               small_X_test=data["X_test"], small_y_test=data["y_test"])
    # make_windows: the cases of the window tests (and the training windows of the fit
    # tests), each under its name with _series, _X and _y.
    rng = np.random.default_rng(201)
    cases = {f"windows_T12_w{w}_h{h}": (100.0 + np.arange(12.0), w, h)
             for w, h in ((4, 1), (3, 3), (1, 1))}
    cases.update(windows_T30_F3=(rng.standard_normal((30, 3)), 5, 2),
                 windows_T6_w4_h2=(np.arange(6.0), 4, 2),
                 windows_small=(small, 3, 2),
                 windows_learnable=(_learnable_series(160), 6, 1))
    for key, (values, window, horizon) in cases.items():
        X, y = ex02.make_windows(values, window, horizon)
        out.update({f"{key}_series": values, f"{key}_X": X, f"{key}_y": y})
    # the targets a student who took the last feature would give
    out["windows_T30_F3_y_last"] = ex02.make_windows(cases["windows_T30_F3"][0][:, ::-1],
                                                     5, 2)[1]
    series = _shifted_series(100)
    out["prepare_y_test_units"] = ex02.make_windows(series[80:], 4, 2)[1]
    data = ex02.prepare_data(series, 4, 2, 0.6, 0.2)
    for name, part in (("train", series[:60]), ("val", series[60:80]), ("test", series[80:])):
        out[f"prepare_X_{name}"], out[f"prepare_y_{name}"] = data[f"X_{name}"], data[f"y_{name}"]
        for twin, fitted_on in (("whole", series), ("own", part)):
            scaled = ex02.Scaler().fit(fitted_on).transform(part)
            out[f"prepare_{twin}_X_{name}"] = ex02.make_windows(scaled, 4, 2)[0]
    return out


def ex01_arrays() -> dict[str, np.ndarray]:
    """The saved values of test_ex01_*.py (tools/fixtures_ex01.py)."""
    from tools import fixtures_ex01

    return fixtures_ex01.arrays(_reference("ex_01_basic_rnn.py"))


def ex03_arrays() -> dict[str, np.ndarray]:
    """The saved values of test_ex03_*.py (tools/fixtures_ex03.py). The reference is
    imported as the package module solutions.ex_03_char_language_model, so that its
    exercise1() finds the reference Exercise 1 beside it."""
    import importlib

    from tools import fixtures_ex03

    return fixtures_ex03.arrays(importlib.import_module("solutions.ex_03_char_language_model"))


def ex04_arrays() -> dict[str, np.ndarray]:
    """The saved values of test_ex04_*.py (tools/fixtures_ex04.py): Exercise 1's
    reference on that exercise's cases."""
    from tools import fixtures_ex04

    return fixtures_ex04.arrays(_reference("ex_01_basic_rnn.py"))


BUILDERS = {"ex01": ex01_arrays, "ex02": ex02_arrays, "ex03": ex03_arrays,
            "ex04": ex04_arrays}


def encode(arrays: dict[str, np.ndarray]) -> bytes:
    """The .npz bytes of `arrays`, sorted by name (so a rebuild compares equal)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **dict(sorted(arrays.items())))
    return buffer.getvalue()


# A change of the reference moves a saved value by far more; a centered difference
# (rounding error over a step of 1e-5) moves by about 1e-11 from one CPU's BLAS kernel to
# another's, which is no drift.
DRIFT = 1e-9


def stale(folder: Path = FIXTURES) -> list[str]:
    """Names of the fixtures in `folder` that differ from a rebuild (or are missing)."""
    wrong = []
    for name, build in BUILDERS.items():
        path = folder / f"{name}.npz"
        if not path.exists():
            wrong.append(f"{path.name} (missing)")
            continue
        with np.load(path) as saved:
            fresh = build()
            if set(saved.files) != set(fresh) or not all(
                    saved[k].shape == fresh[k].shape and np.allclose(saved[k], fresh[k],
                                                                     rtol=DRIFT, atol=DRIFT)
                    for k in fresh):
                wrong.append(path.name)
    return wrong


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fixtures")
    parser.add_argument("--check", action="store_true",
                        help="only check that the fixtures match the reference (exit 1 if not)")
    args = parser.parse_args(argv)
    if args.check:
        wrong = stale()
        for name in wrong:
            print(f"out of date: tests/public/fixtures/{name}")
        return 1 if wrong else 0
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        path = FIXTURES / f"{name}.npz"
        path.write_bytes(encode(build()))
        print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
