"""Hidden tests for Exercise 2: the student's functions against the reference solution at
sizes, windows, horizons, fractions and seeds the public tests never use.

Expected values come from the reference (imported here, in the grading process, never in
the student's process); failure messages name the output and where it is wrong, not the
expected values (`reveal=False`).
"""

from __future__ import annotations

import numpy as np
import pytest

from solutions import ex_02_time_series_prediction as ref
from tests.public.harness import (
    assert_close,
    check_array,
    check_labels,
    figure_info,
    raises_value_error,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.predictors import LinearPredictor
from tests.public.support_ex02 import (
    KEYS,
    builds_on,
    exercise1_first,
    forecast,
    mean_squared,
    params_of,
    raises_naming,
    shapes_for,
)

# The reference's windows (the public tests read theirs from fixtures/ex02.npz).
windows_by_loop = ref.make_windows


def _rng(seed):
    return np.random.default_rng(seed)


def _close(got, expected, what, hint="", atol=1e-10, rtol=1e-8):
    assert_close(got, expected, what=what, atol=atol, rtol=rtol, hint=hint, reveal=False)


def _close_scalar(got, expected, what, hint="", rtol=1e-9):
    value = scalar(got, what)
    if not np.isclose(value, float(expected), rtol=rtol, atol=1e-12):
        tail = " " + hint if hint else ""
        raise AssertionError(f"{what}: differs from the expected value.{tail}")


# ---------------------------------------------------------------------------------------
# Windows, splits, scaling
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.75)
def test_ex02_hidden_make_windows_vs_reference(ex02):
    """make_windows: other lengths, windows, horizons and feature counts; lists and integers"""
    rng = _rng(9201)
    cases = [
        ("T=17, window=5, horizon=4", rng.standard_normal(17), 5, 4),
        ("T=9, F=4, window=2, horizon=1", rng.standard_normal((9, 4)), 2, 1),
        ("T=7, window=6, horizon=1 (one window)", rng.standard_normal(7), 6, 1),
        ("T=2, window=1, horizon=1", rng.standard_normal(2), 1, 1),
        ("an integer series", np.arange(3, 15), 3, 2),
        ("T=25, F=1 as (T, 1), window=7, horizon=5", rng.standard_normal((25, 1)), 7, 5),
    ]
    for label, series, window, horizon in cases:
        X, y = unpack(ex02.make_windows(series.copy(), window, horizon), ("X", "y"),
                      "make_windows")
        want_X, want_y = ref.make_windows(series.copy(), window, horizon)
        _close(X, want_X, f"make_windows X ({label})",
               hint="X is (N, window, F), float64, with N = T - window - horizon + 1." +
               explain("window-count"))
        _close(y, want_y, f"make_windows y ({label})", hint=explain("window-off-by-one"))
    as_list = [0.5, 1.5, -2.0, 4.0, 3.0, 2.5]
    X, y = unpack(ex02.make_windows(list(as_list), 2, 2), ("X", "y"), "make_windows")
    want_X, want_y = ref.make_windows(as_list, 2, 2)
    _close(X, want_X, "make_windows X (a Python list)",
           hint="accept any array-like series (np.asarray).")
    _close(y, want_y, "make_windows y (a Python list)")


def _check_parts(parts, series, train_frac, val_frac, label):
    train, val, test = unpack(parts, ("train", "val", "test"), "chronological_split")
    T = len(series)
    for name, part in (("train", train), ("val", val), ("test", test)):
        if not isinstance(part, np.ndarray) or part.shape[1:] != series.shape[1:]:
            raise AssertionError(f"chronological_split {name} ({label}): expected an array "
                                 "shaped like the series, with fewer steps.")
        check_array(part, part.shape, what=f"chronological_split {name} ({label})")
    joined = np.concatenate([train, val, test])
    if joined.shape != series.shape or not np.array_equal(joined, series):
        raise AssertionError(f"chronological_split ({label}): train + val + test is not the "
                             "series in time order." + explain("split-overlap"))
    for name, part, frac in (("train", train, train_frac), ("val", val, val_frac)):
        if abs(len(part) - frac * T) >= 1 + 1e-9:
            raise AssertionError(f"chronological_split {name} ({label}): its length is not "
                                 f"within one step of {name}_frac * T.")
    if len(test) < 1:
        raise AssertionError(f"chronological_split ({label}): the test part is empty.")


@pytest.mark.points(1)
def test_ex02_hidden_split_and_scaler(ex02):
    """chronological_split and Scaler: fractions that do not divide T, 3-D fits, a 1-D fit"""
    rng = _rng(9202)
    s = rng.standard_normal(37)
    _check_parts(ex02.chronological_split(s.copy(), 0.55, 0.25), s, 0.55, 0.25,
                 "T=37, 0.55/0.25")
    s2 = rng.standard_normal((11, 3))
    _check_parts(ex02.chronological_split(s2.copy(), 0.5, 0.0), s2, 0.5, 0.0,
                 "(T, F) = (11, 3), val_frac=0")
    for T, train_frac, val_frac in ((4, 0.25, 0.0), (4, 0.5, 0.25)):
        _check_parts(ex02.chronological_split(s[:T].copy(), train_frac, val_frac), s[:T],
                     train_frac, val_frac, f"T={T}, {train_frac}/{val_frac}: one-step parts")

    windows = rng.normal(3.0, 2.0, (6, 5, 2)) * np.array([1.0, 20.0])
    scaler = ex02.Scaler()
    fitted = scaler.fit(windows.copy())
    if fitted is None:
        raise AssertionError("Scaler.fit: return self.")
    other = rng.normal(0.0, 30.0, (3, 5, 2))
    want = ref.Scaler().fit(windows.copy())
    _close(fitted.transform(other.copy()), want.transform(other.copy()),
           "Scaler.transform (fit on windows (6, 5, 2))",
           hint="statistics per feature over every axis but the last." +
           explain("scaler-per-feature"))
    _close(fitted.inverse_transform(other.copy()), want.inverse_transform(other.copy()),
           "Scaler.inverse_transform (fit on windows (6, 5, 2))", hint=explain("scaler-ddof"))
    one = rng.normal(-7.0, 0.3, 20)
    grid = rng.standard_normal((4, 3))
    scaler = ex02.Scaler()
    scaler.fit(one.copy())
    want = ref.Scaler().fit(one.copy())
    _close(scaler.transform(grid.copy()), want.transform(grid.copy()),
           "Scaler.transform (fit on a 1-D series, applied to a (4, 3) array)",
           hint="a 1-D fit has one mean and one deviation, applied to every entry.")
    low = rng.normal(5.0, 0.01, (50, 2)).astype(np.float32)
    _close(ex02.Scaler().fit(low.copy()).transform(low.copy()),
           ref.Scaler().fit(low.astype(np.float64)).transform(low.astype(np.float64)),
           "Scaler.transform (float32 data: statistics in float64)", atol=1e-9, rtol=1e-9,
           hint=explain("float32-precision"))
    _close(ex02.Scaler().fit(np.array([4.0])).transform(np.array([4.0, 6.0])),
           ref.Scaler().fit(np.array([4.0])).transform(np.array([4.0, 6.0])),
           "Scaler fit on a single value (deviation 0, replaced by 1)")


@pytest.mark.points(1)
def test_ex02_hidden_prepare_data_vs_reference(ex02):
    """prepare_data: multivariate, a validation part too short for a window, a bad window"""
    with builds_on(ex02, "prepare_data (hidden)", ("make_windows", "chronological_split",
                                                   "Scaler")):
        _prepare_data_vs_reference(ex02)


def _prepare_data_vs_reference(ex02):
    rng = _rng(9203)
    series = np.cumsum(rng.standard_normal((90, 3)), axis=0) * np.array([1.0, 5.0, 0.2])
    got = ex02.prepare_data(series.copy(), 5, 3, 0.5, 0.2)
    want = ref.prepare_data(series.copy(), 5, 3, 0.5, 0.2)
    if not isinstance(got, dict):
        raise AssertionError("prepare_data: expected a dict.")
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        _close(got.get(key), want[key], f"prepare_data {key} ((T, F) = (90, 3), window 5, "
               "horizon 3)", hint=explain("scaler-leak"))
    short = rng.standard_normal(60)
    got = ex02.prepare_data(short.copy(), 4, 2, 0.7, 0.05)
    for key, shape in (("X_val", (0, 4, 1)), ("y_val", (0, 2))):
        check_array(got.get(key) if isinstance(got, dict) else got, shape,
                    what=f"prepare_data {key} (a 3-step validation part, window 4, horizon 2)")
    _close(got["X_test"], ref.prepare_data(short.copy(), 4, 2, 0.7, 0.05)["X_test"],
           "prepare_data X_test (T=60, 0.7/0.05)", hint=explain("windows-cross-segments"))


# ---------------------------------------------------------------------------------------
# The regressor against the reference, at the student's own initial parameters
# ---------------------------------------------------------------------------------------


def _reference_model(params, horizon):
    model = ref.RNNRegressor(params["Wx"].shape[0], params["Wh"].shape[0], horizon, _rng(0))
    model.params = {k: np.array(v) for k, v in params.items()}
    return model


@pytest.mark.points(1.5)
def test_ex02_hidden_regressor_vs_reference(ex02, request):
    """RNNRegressor predict/loss_and_grads: other sizes, one step, a batch of one"""
    with exercise1_first(request, "RNNRegressor (hidden sizes)"):
        rng = _rng(9204)
        for d, hh, horizon, n, t in ((3, 7, 4, 5, 6), (1, 2, 1, 1, 1), (4, 3, 2, 2, 9)):
            label = f"F={d}, H={hh}, horizon={horizon}, N={n}, window={t}"
            model = ex02.RNNRegressor(d, hh, horizon, _rng(9300 + d))
            params = params_of(model, f"RNNRegressor ({label})", shapes_for(d, hh, horizon))
            reference = _reference_model(params, horizon)
            X = rng.standard_normal((n, t, d))
            y = rng.standard_normal((n, horizon))
            params["by"] = rng.standard_normal(horizon)  # a nonzero output bias
            params["b"] = 0.3 * rng.standard_normal(hh)
            model.params = {k: np.array(v) for k, v in params.items()}
            reference = _reference_model(params, horizon)
            _close(model.predict(X.copy()), reference.predict(X.copy()),
                   f"RNNRegressor.predict ({label})", hint=explain("many-to-one-readout"))
            loss, grads = unpack(model.loss_and_grads(X.copy(), y.copy()), ("loss", "grads"),
                                 "RNNRegressor.loss_and_grads")
            want_loss, want_grads = reference.loss_and_grads(X.copy(), y.copy())
            _close_scalar(loss, want_loss, f"RNNRegressor.loss_and_grads loss ({label})",
                          hint=explain("mse-definition"))
            if not isinstance(grads, dict) or set(grads) != set(KEYS):
                raise AssertionError(f"RNNRegressor.loss_and_grads ({label}): grads must be a "
                                     f"dict with the keys {list(KEYS)}.")
            for k in KEYS:
                _close(grads[k], want_grads[k], f"RNNRegressor.loss_and_grads grads[{k!r}] "
                       f"({label})", atol=1e-10, rtol=1e-6, hint=explain("many-to-one-bptt"))


@pytest.mark.slow
@pytest.mark.points(0.75)
def test_ex02_hidden_fit(ex02, request):
    """RNNRegressor.fit: full-batch epochs are (clipped) Adam steps; multi-output learns"""
    with exercise1_first(request, "RNNRegressor.fit (hidden)"):
        rng = _rng(9205)
        d, hh, horizon, n, t = 2, 6, 3, 12, 5
        X = rng.standard_normal((n, t, d))
        y = rng.standard_normal((n, horizon))
        for clip, words in ((None, "no clipping"), (0.05, "clip=0.05, active")):
            model = ex02.with_timeout(60).RNNRegressor(d, hh, horizon, _rng(9206))
            start = params_of(model, "RNNRegressor", shapes_for(d, hh, horizon))
            reference = _reference_model(start, horizon)
            losses = model.fit(X.copy(), y.copy(), epochs=3, batch_size=n, lr=0.05, clip=clip)
            want_losses = reference.fit(X.copy(), y.copy(), epochs=3, batch_size=n, lr=0.05,
                                        clip=clip)
            if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != 3:
                raise AssertionError("RNNRegressor.fit(epochs=3): return a list of 3 losses.")
            for epoch in range(3):
                _close_scalar(losses[epoch], want_losses[epoch], f"RNNRegressor.fit loss of "
                              f"epoch {epoch + 1} ({words})", rtol=1e-7,
                              hint="each batch's loss measured before its update; the Adam "
                                   "state carries over from step to step.")
            after = params_of(model, "RNNRegressor after fit", shapes_for(d, hh, horizon))
            for k in KEYS:
                _close(after[k], reference.params[k], f"RNNRegressor.fit params[{k!r}] after "
                       f"three full-batch Adam steps ({words}, lr=0.05)", atol=1e-9, rtol=1e-6,
                       hint="one batch per epoch here: one global-norm clip (when clip is "
                            "given) and one Adam step with the lr given, its state carried "
                            "from step to step." + explain("fit-keeps-params"))
        series = np.column_stack([np.sin(np.arange(150) / 3.0), np.cos(np.arange(150) / 5.0)])
        Xs, ys = windows_by_loop(series, 6, 3)
        model = ex02.with_timeout(60).RNNRegressor(2, 10, 3, _rng(9207))
        before = mean_squared(forecast(Xs, params_of(model, "RNNRegressor",
                                                     shapes_for(2, 10, 3))), ys)
        model.fit(Xs.copy(), ys.copy(), epochs=40, batch_size=16, lr=0.02)
        after = mean_squared(forecast(Xs, params_of(model, "RNNRegressor after fit",
                                                    shapes_for(2, 10, 3))), ys)
        if not (after < 0.1 * before and after < 0.05):
            raise AssertionError("RNNRegressor.fit: a 2-feature, 3-step-ahead model on clean "
                                 "sines did not learn (its training MSE barely fell)." +
                                 explain("fit-keeps-params"))
        # Minibatches: with a tiny lr the epoch loss is the MSE over all N examples (batch
        # losses weighted by their sizes).
        model = ex02.with_timeout(60).RNNRegressor(2, 4, 3, _rng(9210))
        start = params_of(model, "RNNRegressor", shapes_for(2, 4, 3))
        full = mean_squared(forecast(Xs[:10], start), ys[:10])
        losses = model.fit(Xs[:10].copy(), ys[:10].copy(), epochs=1, batch_size=3, lr=1e-12)
        _close_scalar(losses[0], full, "RNNRegressor.fit(epochs=1, batch_size=3) loss of the "
                      "epoch (10 examples, batches of 3, 3, 3, 1)", rtol=1e-6,
                      hint="the epoch loss is the mean over all examples: add each batch's "
                           "loss times its size, divide by N.")
        model.fit(Xs[:2].copy(), ys[:2].copy(), epochs=1, batch_size=1, lr=0.01)


# ---------------------------------------------------------------------------------------
# Forecasts, metrics, comparison, plots
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex02_hidden_recursive_forecast(ex02):
    """recursive_forecast: a nonlinear predictor, a window of one, a (window, 1) context"""
    cases = [
        ("tanh predictor, window 3, 8 steps", LinearPredictor([0.7, -0.4, 1.3], 0.2, "tanh",
                                                              2.0), np.array([0.5, -1.0, 0.25]),
         8),
        ("window 1, 5 steps", LinearPredictor([0.9], 1.0), np.array([2.0]), 5),
        ("(5, 1) context, 1 step", LinearPredictor(np.full((5, 1), 0.2)),
         np.arange(5.0)[:, None], 1),
    ]
    for label, predictor, context, steps in cases:
        got = ex02.recursive_forecast(predictor, context.copy(), steps)
        want = ref.recursive_forecast(predictor, context.copy(), steps)
        _close(got, want, f"recursive_forecast ({label})",
               hint=explain("recursive-own-predictions"))


@pytest.mark.points(0.5)
def test_ex02_hidden_metrics_and_naive_vs_reference(ex02):
    """metrics, error_by_horizon, naive_forecast: lists, 1-D inputs, integers"""
    rng = _rng(9208)
    a, b = rng.standard_normal(9), rng.standard_normal(9)
    for name in ("mse", "rmse", "mae"):
        _close_scalar(getattr(ex02, name)(list(a), list(b)), getattr(ref, name)(a, b),
                      f"{name} (Python lists)", hint=explain("metric-definition"))
        _close_scalar(getattr(ex02, name)(np.array([1, 2, 3]), np.array([2, 2, 5])),
                      getattr(ref, name)(np.array([1, 2, 3]), np.array([2, 2, 5])),
                      f"{name} (integer arrays)", hint="convert to float before dividing.")
    _close(ex02.error_by_horizon(a.copy(), b.copy()), ref.error_by_horizon(a, b),
           "error_by_horizon (1-D inputs: one step ahead)", hint=explain("error-per-step"))
    A, B = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    _close(ex02.error_by_horizon(A.copy(), B.copy()), ref.error_by_horizon(A, B),
           "error_by_horizon (7 examples, 5 steps)", hint=explain("error-per-step"))
    X = rng.standard_normal((3, 7, 1))
    _close(ex02.naive_forecast(X.copy(), 1), ref.naive_forecast(X, 1),
           "naive_forecast (F=1, horizon 1)", hint=explain("naive-last-value"))
    X = rng.standard_normal((2, 1, 3))
    _close(ex02.naive_forecast(X.copy(), 4), ref.naive_forecast(X, 4),
           "naive_forecast (window 1, F=3, horizon 4)", hint=explain("naive-last-value"))
    got = ex02.naive_forecast(X.astype(np.float32), 2)
    if not isinstance(got, np.ndarray) or got.dtype != np.float64:
        raise AssertionError("naive_forecast (float32 X): return float64 forecasts." +
                             explain("float32-precision"))


# ---------------------------------------------------------------------------------------
# Validation: bad arguments raise a ValueError naming the argument (Conventions). Apart from
# the tests of the values, so a different message costs these points only.
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.25)
def test_ex02_hidden_data_validation(ex02):
    """validation of the data steps and forecasts: a bad argument raises naming it"""
    raises_naming("make_windows", "window",
                  lambda: ex02.make_windows(np.arange(10.0), -2, 1), "window=-2")
    raises_naming("make_windows", "series",
                  lambda: ex02.make_windows(np.arange(5.0), 5, 1), "T=5, window=5, horizon=1")
    rng = _rng(9212)
    s = rng.standard_normal(37)
    raises_naming("chronological_split", "train_frac",
                  lambda: ex02.chronological_split(s.copy(), 1.2, 0.0), "train_frac=1.2")
    # Bad types too (a gap found by the automatic mutants).
    raises_naming("chronological_split", "train_frac",
                  lambda: ex02.chronological_split(s.copy(), True, 0.0), "train_frac=True")
    raises_value_error(lambda: ex02.Scaler().transform(rng.standard_normal((4, 3))),
                       "Scaler.transform before fit", instead="raise ValueError (fit first).",
                       silent="raise ValueError (there are no statistics yet).")
    short = rng.standard_normal(60)
    raises_naming("prepare_data", "window",
                  lambda: ex02.prepare_data(short.copy(), 20, 1, 0.6, 0.1),
                  "window 20 with a 18-step test part")
    raises_naming("recursive_forecast", "steps",
                  lambda: ex02.recursive_forecast(LinearPredictor([1.0]), np.ones(1), -1),
                  "steps=-1")
    raises_naming("recursive_forecast", "context",
                  lambda: ex02.recursive_forecast(LinearPredictor(np.ones((3, 2))),
                                                  np.ones((3, 2)), 2),
                  "a (3, 2) context: several features")
    raises_naming("naive_forecast", "horizon",
                  lambda: ex02.naive_forecast(rng.standard_normal((2, 1, 3)), 0), "horizon=0")


@pytest.mark.points(0.25)
def test_ex02_hidden_fit_validation(ex02, request):
    """validation of RNNRegressor.fit: a bad setting raises a ValueError naming it"""
    # Apart from the data steps: RNNRegressor runs Exercise 1, and a broken Exercise 1
    # costs only the tests that run the RNN.
    with exercise1_first(request, "RNNRegressor.fit (hidden validation)"):
        rng = _rng(9213)
        X, y = rng.standard_normal((4, 6, 2)), rng.standard_normal((4, 3))
        model = ex02.with_timeout(60).RNNRegressor(2, 4, 3, _rng(9214))
        for name, kwargs in (("epochs", {"epochs": -1}), ("batch_size", {"batch_size": 0}),
                             ("lr", {"lr": 0.0}), ("clip", {"clip": 0.0})):
            raises_naming("RNNRegressor.fit", name,
                          lambda kw=kwargs: model.fit(X.copy(), y.copy(), **kw),
                          f"{name}={next(iter(kwargs.values()))}")


@pytest.mark.slow
@pytest.mark.points(1)
def test_ex02_hidden_compare_window_lengths(ex02, request):
    """compare_window_lengths: three windows, horizon 2, another series and seed"""
    with exercise1_first(request, "compare_window_lengths (hidden)"), builds_on(
            ex02, "compare_window_lengths (hidden)", ("prepare_data", "naive_forecast", "rmse")):
        t = np.arange(200, dtype=np.float64)
        series = 20.0 + 4.0 * np.sin(2 * np.pi * t / 11.0) + 2.0 * np.cos(2 * np.pi * t / 4.5)
        windows = [2, 5, 9]
        rows = ex02.with_timeout(60).compare_window_lengths(
            series.copy(), windows, horizon=2, train_frac=0.6, val_frac=0.2, hidden_size=10,
            epochs=30, rng=_rng(9209))
        what = "compare_window_lengths (T=200, windows [2, 5, 9], horizon 2)"
        if not isinstance(rows, (list, tuple)) or len(rows) != 3:
            raise AssertionError(f"{what}: expected one dict per window, in order.")
        test = series[160:]
        for row, window in zip(rows, windows, strict=True):
            if not isinstance(row, dict) or row.get("window") != window:
                raise AssertionError(f"{what}: row for window {window} missing or out of order.")
            X, y = windows_by_loop(test, window, 2)
            if row.get("n_test") != len(y):
                raise AssertionError(f"{what}, window {window}: n_test is not the number of "
                                     "windows of the test part." +
                                     explain("windows-cross-segments"))
            naive = np.sqrt(mean_squared(np.repeat(X[:, -1, :1], 2, axis=1), y))
            _close_scalar(row.get("naive_rmse"), naive, f"{what}, window {window}: naive_rmse",
                          rtol=1e-7, hint=explain("rmse-original-units"))
            rnn = scalar(row.get("test_rmse"), f"{what}, window {window}: test_rmse")
            if not rnn < naive:
                raise AssertionError(f"{what}, window {window}: the RNN does not beat the naive "
                                     "forecast on a clean periodic series." +
                                     explain("rmse-original-units"))
            scalar(row.get("val_rmse"), f"{what}, window {window}: val_rmse")
        # The rng given is the one used: another seed, other numbers; the same, the same.
        again = [ex02.with_timeout(60).compare_window_lengths(
            series.copy(), [5], horizon=2, train_frac=0.6, val_frac=0.2, hidden_size=10,
            epochs=3, rng=_rng(seed))[0]["test_rmse"] for seed in (9211, 9211, 9212)]
        if again[0] != again[1] or again[0] == again[2]:
            raise AssertionError(f"{what}: draw every random number from the rng argument "
                                 "(same seed, same results; another seed, other results)." +
                                 explain("rng-not-threaded"))



@pytest.mark.points(0.5)
def test_ex02_hidden_plots(ex02, student_tmp):
    """plots: other data, a horizon-3 residual plot without times, three forecasters"""
    rng = _rng(9210)
    y_true = rng.standard_normal((15, 3))
    y_pred = y_true + 0.3 * rng.standard_normal((15, 3))
    info = figure_info(ex02.plot_residuals(y_true.copy(), y_pred.copy(),
                                           str(student_tmp / "res.png"), units="degC"),
                       what="plot_residuals")
    x = np.arange(15.0)
    residual = y_true[:, 0] - y_pred[:, 0]
    lines = [line for ax in info["axes"] for line in ax["lines"]]
    if not any(np.shape(line["y"]) == (15,) and np.allclose(line["y"], residual)
               and np.allclose(line["x"], x) for line in lines):
        raise AssertionError("plot_residuals ((N, 3) forecasts, time=None): no line shows the "
                             "one-step-ahead residuals (first column) against 0..N-1.")
    errors = {name: rng.uniform(1, 3, 6) for name in ("a", "b", "c")}
    info = figure_info(ex02.plot_error_by_horizon(errors, str(student_tmp / "h.png"),
                                                  units="degC"), what="plot_error_by_horizon")
    ax = next((ax for ax in info["axes"] if ax["lines"]), None)
    if ax is None:
        raise AssertionError("plot_error_by_horizon: no lines drawn.")
    check_labels(ax, what="plot_error_by_horizon (three forecasters)", legend=3)
    rows = [{"window": w, "test_rmse": r, "naive_rmse": r + 1, "val_rmse": r, "n_test": 5}
            for w, r in ((3, 1.0), (7, 0.5))]
    info = figure_info(ex02.plot_window_comparison(rows, str(student_tmp / "w.png"),
                                                   units="degC"),
                       what="plot_window_comparison")
    ax = next((ax for ax in info["axes"] if ax["lines"]), None)
    if ax is None or "degC" not in ax["ylabel"]:
        raise AssertionError("plot_window_comparison: the y-axis label must name the units "
                             "given.")
