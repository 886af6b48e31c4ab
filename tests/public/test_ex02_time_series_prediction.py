"""Public tests for Exercise 2: forecasting a time series with a many-to-one RNN.

What is checked, in the order of the points table (points in brackets):

  Part 1, windows      make_windows values (1.5), invariants on a (T, F) series (1),
                       just long enough (0.25), validation (0.25)
  Part 2, splitting    chronological_split (0.75); validation of the split and metrics
                       (0.25); Scaler (1); prepare_data without leakage (1.5)
  Part 3, metrics      naive_forecast (0.5); mse, rmse, mae (0.5); error_by_horizon (0.5)
  Part 4, the RNN      RNNRegressor predict (1), loss_and_grads (2), fit(epochs=0) (0.25),
                       fit (1.25)
  Part 5, recursive    recursive_forecast (1)
  Part 6, comparison   compare_window_lengths (1.5); plot_window_comparison (0.5),
                       plot_residuals (0.5), plot_error_by_horizon (0.5); no input changed
                       (0.5)

Expected windows, z-scores and prepared data come from fixtures/ex02.npz (inputs and the
reference's outputs, saved); the RNN tests compare with the forecast ``h_T @ Wy + by`` and
the mean squared error on your model's own initial parameters (support_ex02.py), and
gradients with centered differences of those, never a backward pass. When a result is
wrong, the message says which output, how, the idea involved and the section of
guides/rnn_guide.md about it; it compares your result with what a known mistake would
give ("twins") to name the mistake.

The tests that run the RNN also check your Exercise 1 when they fail: if the Exercise 1
functions an RNNRegressor builds on are wrong, the message says so and which one.

Rerun one test with details:  make check T='tests/public/test_ex02_time_series_prediction.py::NAME'
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.public import support_ex02 as s  # saved values, forward computations, diagnoses
from tests.public.harness import assert_close, assert_png, check_array, figure_info, scalar
from tests.public.misconceptions import explain
from tests.public.predictors import LinearPredictor
from tests.public.support_ex02 import SAVED, builds_on, exercise1_first, raises_naming

# ---------------------------------------------------------------------------------------
# Part 1: windows
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1.5)
def test_ex02_make_windows_values(ex02):
    """make_windows: X[i] is series[i:i+window], y[i] the next horizon values (1-D series)"""
    for window, horizon in ((4, 1), (3, 3), (1, 1)):
        key = f"windows_T12_w{window}_h{horizon}"
        series = SAVED[f"{key}_series"]  # value 100 + k at step k: every value names its step
        s.check_windows(ex02.make_windows(series.copy(), window, horizon), key, window,
                        horizon, f"T=12, window={window}, horizon={horizon}")
    key = "windows_T12_w3_h3"
    s.check_windows(ex02.make_windows(list(SAVED[f"{key}_series"]), 3, 3), key, 3, 3,
                    "a Python list, window=3, horizon=3")
    s.check_windows(ex02.make_windows(np.arange(100, 112), 3, 3), key, 3, 3,
                    "an integer array, window=3, horizon=3")


@pytest.mark.points(1)
def test_ex02_make_windows_invariants(ex02):
    """make_windows: (T, F) series, count, shift property, targets never inside their window"""
    window, horizon = 5, 2
    series = SAVED["windows_T30_F3_series"]  # T = 30 steps, F = 3 features
    result = ex02.make_windows(series.copy(), window, horizon)
    label = f"T=30, F=3, window={window}, horizon={horizon}"
    s.check_window_invariants(result, "windows_T30_F3", window, horizon, label)
    s.check_windows(result, "windows_T30_F3", window, horizon, label)


@pytest.mark.points(0.25)
def test_ex02_make_windows_errors(ex02):
    """make_windows: one window when T = window + horizon, just long enough"""
    series = np.arange(6.0)
    s.check_windows(ex02.make_windows(series.copy(), 4, 2), "windows_T6_w4_h2", 4, 2,
                    "T=6, window=4, horizon=2: one window")


@pytest.mark.points(0.25)
def test_ex02_make_windows_validation(ex02):
    """validation of make_windows: a bad window, horizon or too short a series names itself"""
    series = np.arange(6.0)
    raises_naming("make_windows", "window", lambda: ex02.make_windows(series.copy(), 0),
                  "window=0")
    raises_naming("make_windows", "horizon", lambda: ex02.make_windows(series.copy(), 2, 0),
                  "horizon=0")
    raises_naming("make_windows", "series", lambda: ex02.make_windows(series.copy(), 4, 3),
                  "T=6, window=4, horizon=3: too short")


# ---------------------------------------------------------------------------------------
# Part 2: splitting and scaling
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.75)
def test_ex02_chronological_split(ex02):
    """chronological_split: contiguous, ordered, disjoint parts that cover the series"""
    rng = s.rng(202)
    series = np.cumsum(rng.standard_normal(50))
    s.check_split(ex02.chronological_split(series.copy(), 0.6, 0.2), series, 0.6, 0.2,
                  "T=50, 0.6/0.2")
    s.check_split(ex02.chronological_split(series.copy(), 0.8, 0.0), series, 0.8, 0.0,
                  "T=50, val_frac=0")
    two = rng.standard_normal((40, 2))
    s.check_split(ex02.chronological_split(two.copy(), 0.5, 0.25), two, 0.5, 0.25,
                  "(T, F) = (40, 2)")


@pytest.mark.points(0.25)
def test_ex02_split_and_metrics_validation(ex02):
    """validation of chronological_split and the metrics: a bad argument names itself"""
    series = np.cumsum(s.rng(202).standard_normal(50))
    raises_naming("chronological_split", "train_frac",
                  lambda: ex02.chronological_split(series.copy(), 0.0, 0.2), "train_frac=0")
    raises_naming("chronological_split", "val_frac",
                  lambda: ex02.chronological_split(series.copy(), 0.7, 0.3),
                  "train_frac + val_frac = 1: no test part")
    y_true = np.array([[1.0, 2.0], [3.0, 4.0]])
    for name in ("mse", "rmse", "mae"):
        raises_naming(name, "y_pred", lambda name=name: getattr(ex02, name)(
            y_true.copy(), np.zeros((2, 3))), "shapes (2, 2) and (2, 3)")


@pytest.mark.points(1)
def test_ex02_scaler(ex02):
    """Scaler: per-feature z-scores from the data it was fit on (ddof=0), applied elsewhere"""
    train = SAVED["scaler_train"]
    later = SAVED["scaler_later"]  # another level: its own statistics would differ
    scaler = s.fit_scaler(s.new_scaler(ex02), train.copy(), "1-D series")
    s.check_z_later(scaler.transform(later.copy()), train, later)
    back = scaler.inverse_transform(np.array(SAVED["scaler_later_z"]))
    assert_close(back, later, what="Scaler.inverse_transform (of transform's result)",
                 hint="inverse_transform undoes transform: multiply by std, then add the mean.")

    two = SAVED["scaler_two"]  # the last feature is constant
    scaler = s.fit_scaler(s.new_scaler(ex02), two.copy(), "(T, F) series with a constant feature")
    windows = SAVED["scaler_windows"]
    s.check_z_windows(scaler.transform(windows.copy()), two, windows)
    assert_close(scaler.inverse_transform(np.array(SAVED["scaler_windows_z"])), windows,
                 what="Scaler.inverse_transform (windows (4, 6, 3))",
                 hint=explain("scaler-per-feature"))


@pytest.mark.points(1.5)
def test_ex02_prepare_data_no_leakage(ex02):
    """prepare_data: scaler from the training part only; each part windowed on its own"""
    with builds_on(ex02, "prepare_data", ("make_windows", "chronological_split", "Scaler")):
        series = s.shifted_series(100)  # a later level and spread: leaked statistics show
        data = ex02.prepare_data(series.copy(), 4, 2, 0.6, 0.2)
        s.check_prepared(data, series, window=4, horizon=2)


# ---------------------------------------------------------------------------------------
# Part 3: baseline and metrics
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex02_naive_forecast(ex02):
    """naive_forecast: repeats the last observed value of feature 0 for every step ahead"""
    X = s.rng(204).standard_normal((5, 4, 2))
    s.check_naive(ex02.naive_forecast(X.copy(), 3), X, horizon=3)


@pytest.mark.points(0.5)
def test_ex02_metrics(ex02):
    """mse, rmse, mae: hand-computed cases, Python lists, a single error"""
    y_true = np.array([[1.0, 2.0], [3.0, 4.0]])
    y_pred = np.array([[1.0, 3.0], [5.0, 4.0]])  # errors 0, -1, -2, 0
    for name, want in (("mse", 1.25), ("rmse", np.sqrt(1.25)), ("mae", 0.75)):
        got = scalar(getattr(ex02, name)(y_true.copy(), y_pred.copy()), name)
        if not np.isclose(got, want, rtol=1e-12, atol=1e-12):
            raise AssertionError(f"{name}(y_true, y_pred) with errors 0, -1, -2, 0: got {got:.6g}, "
                                 f"expected {want:.6g}." + explain("metric-definition"))
        got = scalar(getattr(ex02, name)(y_true.tolist(), [[1, 3], [5, 4]]), name)
        if not np.isclose(got, want, rtol=1e-12, atol=1e-12):
            raise AssertionError(f"{name} of Python lists (integers in y_pred): got {got:.6g}, "
                                 f"expected {want:.6g}; convert to float64 arrays first.")
    got = scalar(ex02.rmse(np.array([3.0]), np.array([-1.0])), "rmse")
    if not np.isclose(got, 4.0):
        raise AssertionError(f"rmse of a single error of 4: got {got:.6g}, expected 4." +
                             explain("metric-definition"))


@pytest.mark.points(0.5)
def test_ex02_error_by_horizon(ex02):
    """error_by_horizon: one RMSE per forecast step, over all examples"""
    y_true = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 0.0]])
    y_pred = np.array([[1.0, 3.0, 0.0], [5.0, 4.0, 3.0]])
    got = ex02.error_by_horizon(y_true.copy(), y_pred.copy())
    want = np.sqrt([2.0, 0.5, 4.5])  # errors (0, -2), (-1, 0), (0, -3): mean squares 2, 0.5, 4.5
    what = "error_by_horizon (3 steps ahead, 2 examples)"
    if isinstance(got, np.ndarray) and got.shape == (2,):
        raise AssertionError(f"{what}: shape (2,): one value per example; expected one per "
                             "step ahead, (3,)." + explain("error-per-step"))
    check_array(got, (3,), what=what)
    assert_close(got, want, what=what, hint=explain("error-per-step"))


# ---------------------------------------------------------------------------------------
# Part 4: the RNN regressor
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_ex02_regressor_predict(ex02, request):
    """RNNRegressor.predict: (N, horizon), the head on the last hidden state from h0 = 0"""
    with exercise1_first(request, "RNNRegressor.predict"):
        rng = s.rng(205)
        d, hh, horizon = 2, 5, 3
        model = s.new_model(ex02, d, hh, horizon, 206)
        params = s.params_of(model, "RNNRegressor", s.shapes_for(d, hh, horizon))
        X = rng.standard_normal((4, 6, d))
        keep = X.copy()
        got = model.predict(X)
        s.check_forecast(got, X, keep, params,
                         "RNNRegressor.predict (N=4, window=6, F=2, H=5, horizon=3)")


@pytest.mark.points(2)
def test_ex02_regressor_loss_and_grads(ex02, request):
    """RNNRegressor.loss_and_grads: MSE value and every gradient against centered differences"""
    with exercise1_first(request, "RNNRegressor.loss_and_grads"):
        rng = s.rng(207)
        d, hh, horizon, n, t = 2, 5, 3, 3, 4
        model = s.new_model(ex02, d, hh, horizon, 208)
        params = s.params_of(model, "RNNRegressor", s.shapes_for(d, hh, horizon))
        X = rng.standard_normal((n, t, d))
        y = rng.standard_normal((n, horizon))
        result = model.loss_and_grads(X.copy(), y.copy())
        label = f"N={n}, window={t}, F={d}, H={hh}, horizon={horizon}"
        s.check_loss_and_grads(result, X, y, params, label)  # the MSE, then each gradient


@pytest.mark.slow
@pytest.mark.points(0.25)
def test_ex02_regressor_fit_zero_epochs(ex02, request):
    """RNNRegressor.fit(epochs=0): returns [] and leaves self.params as they were"""
    with exercise1_first(request, "RNNRegressor.fit"):
        X, y = s.training_data()
        model = s.new_model(ex02, 1, 8, 1, 210)
        before = s.params_of(model, "RNNRegressor", s.shapes_for(1, 8, 1))
        s.check_no_epoch(model.fit(X, y, epochs=0), model, before)


@pytest.mark.points(1.25)
def test_ex02_regressor_fit(ex02, request):
    """RNNRegressor.fit: learns a clean series in 30 epochs; returns per-epoch losses; seeded"""
    with exercise1_first(request, "RNNRegressor.fit"):
        X, y = s.training_data()
        model = s.new_model(ex02, 1, 8, 1, 209, timeout=60)
        before = s.params_of(model, "RNNRegressor", s.shapes_for(1, 8, 1))
        keep = (X.copy(), y.copy())
        losses = model.fit(X, y, epochs=30, batch_size=16, lr=0.02)
        losses = s.check_fitted(losses, model, before, X, y, keep)  # fell below 0.02 and 5%
        again = s.new_model(ex02, 1, 8, 1, 209, timeout=60)
        s.check_seeded(again.fit(X.copy(), y.copy(), epochs=30, batch_size=16, lr=0.02), losses)


# ---------------------------------------------------------------------------------------
# Part 5: recursive forecasts
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_ex02_recursive_forecast(ex02):
    """recursive_forecast: each prediction joins the window and feeds the next one"""
    weights = np.array([0.1, -0.2, 0.3, 0.6])
    context = np.array([1.0, 2.0, 3.0, 4.0])
    steps = 6
    what = "recursive_forecast (window 4, 6 steps)"
    with s.fixed_length_windows(what):  # predict_one must get windows as long as the context
        got = ex02.recursive_forecast(LinearPredictor(weights, 0.5), context.copy(), steps)
    want = s.check_recursive(got, weights, 0.5, context, steps, what)
    column = context[:, None]
    got = ex02.recursive_forecast(LinearPredictor(weights[:, None], 0.5), column.copy(), 3)
    assert_close(got, want[:3], what="recursive_forecast (context of shape (4, 1))",
                 hint="a (window, 1) context gives windows of that shape to predict_one, and "
                      "still one value per step.")
    empty = ex02.recursive_forecast(LinearPredictor(weights, 0.5), context.copy(), 0)
    check_array(empty, (0,), what="recursive_forecast (steps=0)")


# ---------------------------------------------------------------------------------------
# Part 6: the comparison, and the plots
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.points(1.5)
def test_ex02_compare_window_lengths(ex02, request):
    """compare_window_lengths: every window, test part only, RMSE in the series' units"""
    with exercise1_first(request, "compare_window_lengths"), builds_on(
            ex02, "compare_window_lengths", ("prepare_data", "naive_forecast", "rmse")):
        series = s.comparison_series()  # T = 240: train 144 steps, val 48, test 48
        windows = [3, 8]
        settings = {"train_frac": 0.6, "val_frac": 0.2, "hidden_size": 8, "epochs": 25}
        what = "compare_window_lengths (T=240, 0.6/0.2, windows [3, 8])"
        rows = s.rows(ex02.with_timeout(60).compare_window_lengths(
            series.copy(), windows, rng=s.rng(210), **settings), windows, what)
        s.check_comparison(rows, windows, series[:144], series[192:], what)
        big = s.rows(ex02.with_timeout(60).compare_window_lengths(
            1000.0 * series + 5000.0, windows, rng=s.rng(210), **settings), windows, what)
        s.check_rescaled(rows, big, what)  # 1000 times the series: 1000 times the RMSE


@pytest.mark.points(0.5)
def test_ex02_plot_window_comparison(ex02, student_tmp):
    """plot_window_comparison: RNN and naive RMSE against window length, labelled, with units"""
    results = [{"window": 2, "test_rmse": 3.5, "naive_rmse": 5.0, "val_rmse": 3.0, "n_test": 9},
               {"window": 4, "test_rmse": 2.5, "naive_rmse": 5.5, "val_rmse": 2.0, "n_test": 7},
               {"window": 8, "test_rmse": 2.75, "naive_rmse": 5.25, "val_rmse": 2.2,
                "n_test": 3}]
    path = student_tmp / "window_comparison.png"
    what = "plot_window_comparison"
    info = figure_info(ex02.plot_window_comparison(results, str(path), units="megawatts"),
                       what=what)
    assert_png(path, what=what)
    s.check_window_plot(info, results, "megawatts", what)


@pytest.mark.points(0.5)
def test_ex02_plot_residuals(ex02, student_tmp):
    """plot_residuals: actual and forecast, and residuals against time, labelled, with units"""
    rng = s.rng(211)
    years = np.arange(1990.0, 2010.0)
    y_true = rng.normal(50.0, 10.0, (20, 1))
    y_pred = y_true + rng.normal(0.0, 3.0, (20, 1))
    path = student_tmp / "residuals.png"
    what = "plot_residuals"
    info = figure_info(ex02.plot_residuals(y_true.copy(), y_pred.copy(), str(path),
                                           time=years.copy(), units="sunspots",
                                           time_label="year"), what=what)
    assert_png(path, what=what)
    s.check_residual_plot(info, years, y_true, y_pred, what)  # units "sunspots", x "year"


@pytest.mark.points(0.5)
def test_ex02_plot_error_by_horizon(ex02, student_tmp):
    """plot_error_by_horizon: RMSE against steps ahead, one labelled line per forecaster"""
    errors = {"RNN": np.array([1.0, 1.5, 2.5, 3.0]), "naive": np.array([2.0, 3.0, 3.5, 4.5])}
    path = student_tmp / "error_by_horizon.png"
    what = "plot_error_by_horizon"
    info = figure_info(ex02.plot_error_by_horizon({k: v.copy() for k, v in errors.items()},
                                                  str(path), units="kWh"), what=what)
    assert_png(path, what=what)
    s.check_horizon_plot(info, errors, "kWh", what)


@pytest.mark.points(0.5)
def test_ex02_no_input_mutation(ex02):
    """data functions: leave their input arrays unchanged"""
    rng = s.rng(212)
    series = rng.standard_normal((40, 2))
    X = rng.standard_normal((6, 4, 2))
    y_true, y_pred = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    context = rng.standard_normal(4)
    changed = []
    run = s.mutation_runner(changed)  # run(name, call, *arrays): did call() change an array?
    run("make_windows", lambda: ex02.make_windows(series, 5, 2), series)
    run("chronological_split", lambda: ex02.chronological_split(series, 0.6, 0.2), series)
    run("prepare_data", lambda: ex02.prepare_data(series, 4, 1, 0.5, 0.25), series)
    scaler = ex02.Scaler()
    run("Scaler.fit", lambda: scaler.fit(series), series)
    run("Scaler.transform", lambda: scaler.transform(series), series)
    run("Scaler.inverse_transform", lambda: scaler.inverse_transform(series), series)
    run("naive_forecast", lambda: ex02.naive_forecast(X, 3), X)
    for name in ("mse", "rmse", "mae", "error_by_horizon"):
        run(name, lambda name=name: getattr(ex02, name)(y_true, y_pred), y_true, y_pred)
    run("recursive_forecast",
        lambda: ex02.recursive_forecast(LinearPredictor(np.full(4, 0.25)), context, 5), context)
    if changed:
        raise AssertionError("these calls changed an input array: " + ", ".join(changed) +
                             ". Work on copies or build new arrays; callers reuse theirs.")
