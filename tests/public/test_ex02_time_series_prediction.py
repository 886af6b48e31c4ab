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

from tests.public.harness import (
    assert_close,
    assert_grad,
    assert_png,
    check_array,
    check_labels,
    figure_info,
    message_of,
    numerical_gradient,
    scalar,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.predictors import LinearPredictor
from tests.public.support_ex02 import (
    DATA_KEYS,
    KEYS,
    SAVED,
    _check_split,
    _check_window_shapes,
    _check_windows,
    _comparison_series,
    _every_state_twin,
    _first_line,
    _fit,
    _line_with,
    _model,
    _new_scaler,
    _recursive_by_loop,
    _rng,
    _rows,
    _shifted_series,
    _training_data,
    _units,
    builds_on,
    exercise1_first,
    forecast,
    mean_squared,
    params_of,
    raises_naming,
    rnn_states,
    same,
    shapes_for,
)

# ---------------------------------------------------------------------------------------
# Part 1: windows
# ---------------------------------------------------------------------------------------


@pytest.mark.points(1.5)
def test_ex02_make_windows_values(ex02):
    """make_windows: X[i] is series[i:i+window], y[i] the next horizon values (1-D series)"""
    for window, horizon in ((4, 1), (3, 3), (1, 1)):
        key = f"windows_T12_w{window}_h{horizon}"
        series = SAVED[f"{key}_series"]  # value 100 + k at step k: every value names its step
        _check_windows(ex02.make_windows(series.copy(), window, horizon), key, window,
                       horizon, f"T=12, window={window}, horizon={horizon}")
    key = "windows_T12_w3_h3"
    _check_windows(ex02.make_windows(list(SAVED[f"{key}_series"]), 3, 3), key, 3, 3,
                   "a Python list, window=3, horizon=3")
    _check_windows(ex02.make_windows(np.arange(100, 112), 3, 3), key, 3, 3,
                   "an integer array, window=3, horizon=3")


@pytest.mark.points(1)
def test_ex02_make_windows_invariants(ex02):
    """make_windows: (T, F) series, count, shift property, targets never inside their window"""
    T, F, window, horizon = 30, 3, 5, 2
    series = SAVED["windows_T30_F3_series"]
    result = ex02.make_windows(series.copy(), window, horizon)
    label = f"T={T}, F={F}, window={window}, horizon={horizon}"
    X, y = unpack(result, ("X", "y"), "make_windows")
    n = T - window - horizon + 1
    _check_window_shapes(X, y, "windows_T30_F3", window, horizon, label)
    if not same(X[1:, :-1], X[:-1, 1:]):
        raise AssertionError(f"make_windows X ({label}): X[i + 1] must be X[i] moved on by one "
                             "step (X[i + 1, :-1] == X[i, 1:]); it is not." +
                             explain("window-off-by-one"))
    for i in range(n):
        inside = np.isclose(y[i][:, None], X[i, :, 0][None, :]).any()
        if inside:
            raise AssertionError(f"make_windows ({label}): target y[{i}] holds a value that is "
                                 f"inside its own window X[{i}]." +
                                 explain("window-target-inside"))
    if not same(y[:-1, 0], X[1:, -1, 0]):
        raise AssertionError(f"make_windows ({label}): y[i, 0] must be the step right after "
                             "window i, which is also the last step of window i + 1 (feature "
                             "0)." + explain("window-off-by-one"))
    _check_windows(result, "windows_T30_F3", window, horizon, label)


@pytest.mark.points(0.25)
def test_ex02_make_windows_errors(ex02):
    """make_windows: one window when T = window + horizon, just long enough"""
    s = np.arange(6.0)
    _check_windows(ex02.make_windows(s.copy(), 4, 2), "windows_T6_w4_h2", 4, 2,
                   "T=6, window=4, horizon=2: one window")


@pytest.mark.points(0.25)
def test_ex02_make_windows_validation(ex02):
    """validation of make_windows: a bad window, horizon or too short a series names itself"""
    s = np.arange(6.0)
    raises_naming("make_windows", "window", lambda: ex02.make_windows(s.copy(), 0), "window=0")
    raises_naming("make_windows", "horizon", lambda: ex02.make_windows(s.copy(), 2, 0),
                  "horizon=0")
    raises_naming("make_windows", "series", lambda: ex02.make_windows(s.copy(), 4, 3),
                  "T=6, window=4, horizon=3: too short")


# ---------------------------------------------------------------------------------------
# Part 2: splitting and scaling
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.75)
def test_ex02_chronological_split(ex02):
    """chronological_split: contiguous, ordered, disjoint parts that cover the series"""
    rng = _rng(202)
    series = np.cumsum(rng.standard_normal(50))
    _check_split(ex02.chronological_split(series.copy(), 0.6, 0.2), series, 0.6, 0.2,
                 "T=50, 0.6/0.2")
    _check_split(ex02.chronological_split(series.copy(), 0.8, 0.0), series, 0.8, 0.0,
                 "T=50, val_frac=0")
    two = rng.standard_normal((40, 2))
    _check_split(ex02.chronological_split(two.copy(), 0.5, 0.25), two, 0.5, 0.25,
                 "(T, F) = (40, 2)")


@pytest.mark.points(0.25)
def test_ex02_split_and_metrics_validation(ex02):
    """validation of chronological_split and the metrics: a bad argument names itself"""
    series = np.cumsum(_rng(202).standard_normal(50))
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
    scaler = _fit(_new_scaler(ex02), train.copy(), "1-D series")
    got = scaler.transform(later.copy())
    want = SAVED["scaler_later_z"]
    what = "Scaler.transform (fit on one part, applied to another)"
    check_array(got, later.shape, what=what)
    if not same(got, want):
        if same(got, SAVED["scaler_later_own_z"]):
            raise AssertionError(f"{what}: these are z-scores with the statistics of the data "
                                 "being transformed, not of the data fit() saw." +
                                 explain("scaler-leak"))
        ddof1 = (later - train.mean()) / train.std(ddof=1)
        if same(got, ddof1):
            raise AssertionError(f"{what}: divided by the sample standard deviation (ddof=1)."
                                 + explain("scaler-ddof"))
        assert_close(got, want, what=what, hint=explain("scaler-leak"))
    back = scaler.inverse_transform(np.array(want))
    assert_close(back, later, what="Scaler.inverse_transform (of transform's result)",
                 hint="inverse_transform undoes transform: multiply by std, then add the mean.")

    two = SAVED["scaler_two"]  # the last feature is constant
    scaler = _fit(_new_scaler(ex02), two.copy(), "(T, F) series with a constant feature")
    windows = SAVED["scaler_windows"]
    got = scaler.transform(windows.copy())
    want = SAVED["scaler_windows_z"]
    what = "Scaler.transform (fit on (30, 3), applied to windows (4, 6, 3))"
    check_array(got, windows.shape, what=what)
    if not same(got, want):
        if same(got, (windows - two.mean()) / two.std()):
            raise AssertionError(f"{what}: one mean and deviation for all features." +
                                 explain("scaler-per-feature"))
        assert_close(got, want, what=what,
                     hint="A constant feature has deviation 0: use 1 there." +
                     explain("scaler-ddof"))
    assert_close(scaler.inverse_transform(np.array(want)), windows,
                 what="Scaler.inverse_transform (windows (4, 6, 3))",
                 hint=explain("scaler-per-feature"))


@pytest.mark.points(1.5)
def test_ex02_prepare_data_no_leakage(ex02):
    """prepare_data: scaler from the training part only; each part windowed on its own"""
    with builds_on(ex02, "prepare_data", ("make_windows", "chronological_split", "Scaler")):
        _prepare_data_no_leakage(ex02)


def _prepare_data_no_leakage(ex02):
    series = _shifted_series(100)
    window, horizon = 4, 2
    data = ex02.prepare_data(series.copy(), window, horizon, 0.6, 0.2)
    if not isinstance(data, dict) or not set(DATA_KEYS) | {"scaler"} <= set(data):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise AssertionError(f"prepare_data: expected a dict with {list(DATA_KEYS)} and "
                             f"'scaler'; got {found}.")
    train, val, test = series[:60], series[60:80], series[80:]
    for name, part in (("train", train), ("val", val), ("test", test)):
        want_X, want_y = SAVED[f"prepare_X_{name}"], SAVED[f"prepare_y_{name}"]
        X, y = data["X_" + name], data["y_" + name]
        what = f"prepare_data X_{name} (T=100, 0.6/0.2, window={window}, horizon={horizon})"
        if isinstance(X, np.ndarray) and X.ndim == 3 and X.shape[0] != want_X.shape[0]:
            raise AssertionError(f"{what}: {X.shape[0]} windows; the {name} part has "
                                 f"{len(part)} steps, so {want_X.shape[0]} windows of its own." +
                                 explain("windows-cross-segments"))
        check_array(X, want_X.shape, what=what)
        if not same(X, want_X):
            if same(X, SAVED[f"prepare_whole_X_{name}"]):
                raise AssertionError(f"{what}: scaled with the statistics of the whole series."
                                     + explain("scaler-leak"))
            if name != "train" and same(X, SAVED[f"prepare_own_X_{name}"]):
                raise AssertionError(f"{what}: scaled with the {name} part's own statistics." +
                                     explain("scaler-leak"))
            assert_close(X, want_X, what=what, hint=explain("scaler-leak"))
        assert_close(y, want_y, what=f"prepare_data y_{name}", hint="the targets of each "
                     "window, scaled like the inputs." + explain("windows-cross-segments"))
    y_test = data["y_test"]
    original = data["scaler"].inverse_transform(np.array(y_test))
    assert_close(original, SAVED["prepare_y_test_units"],
                 what="prepare_data scaler.inverse_transform(y_test)",
                 hint="the returned scaler is the one fitted on the training part; undoing it "
                      "gives the test targets in the series' units." + explain("scaler-leak"))


# ---------------------------------------------------------------------------------------
# Part 3: baseline and metrics
# ---------------------------------------------------------------------------------------


@pytest.mark.points(0.5)
def test_ex02_naive_forecast(ex02):
    """naive_forecast: repeats the last observed value of feature 0 for every step ahead"""
    rng = _rng(204)
    X = rng.standard_normal((5, 4, 2))
    got = ex02.naive_forecast(X.copy(), 3)
    want = np.repeat(X[:, -1, :1], 3, axis=1)
    what = "naive_forecast (X (5, 4, 2), horizon 3)"
    check_array(got, (5, 3), what=what)
    if not same(got, want):
        for twin, words in ((np.repeat(X[:, 0, :1], 3, axis=1), "the first value of the "
                             "window"),
                            (np.repeat(X[:, -1, -1:], 3, axis=1), "the last feature")):
            if same(got, twin):
                raise AssertionError(f"{what}: repeats {words}." + explain("naive-last-value"))
        assert_close(got, want, what=what, hint=explain("naive-last-value"))


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
        rng = _rng(205)
        d, hh, horizon = 2, 5, 3
        model = _model(ex02, d, hh, horizon, 206)
        params = params_of(model, "RNNRegressor", shapes_for(d, hh, horizon))
        X = rng.standard_normal((4, 6, d))
        keep = X.copy()
        got = model.predict(X)
        what = "RNNRegressor.predict (N=4, window=6, F=2, H=5, horizon=3)"
        if isinstance(got, np.ndarray) and got.shape == (4, 6, horizon):
            raise AssertionError(f"{what}: shape {got.shape}: one forecast per time step; "
                                 "expected one per window, (N, horizon)." +
                                 explain("many-to-one-readout"))
        check_array(got, (4, horizon), what=what)
        if not np.array_equal(X, keep):
            raise AssertionError(f"{what}: changed its argument X; never modify inputs.")
        want = forecast(X, params)
        if not same(got, want):
            h = rnn_states(X, params)
            for twin, words in ((h.mean(axis=1) @ params["Wy"] + params["by"], "the mean of "
                                 "all hidden states"),
                                (h[:, 0] @ params["Wy"] + params["by"], "the first hidden "
                                 "state")):
                if same(got, twin):
                    raise AssertionError(f"{what}: reads {words}." +
                                         explain("many-to-one-readout"))
            assert_close(got, want, what=what, hint=explain("many-to-one-readout"))


@pytest.mark.points(2)
def test_ex02_regressor_loss_and_grads(ex02, request):
    """RNNRegressor.loss_and_grads: MSE value and every gradient against centered differences"""
    with exercise1_first(request, "RNNRegressor.loss_and_grads"):
        rng = _rng(207)
        d, hh, horizon, n, t = 2, 5, 3, 3, 4
        model = _model(ex02, d, hh, horizon, 208)
        params = params_of(model, "RNNRegressor", shapes_for(d, hh, horizon))
        X = rng.standard_normal((n, t, d))
        y = rng.standard_normal((n, horizon))
        loss, grads = unpack(model.loss_and_grads(X.copy(), y.copy()), ("loss", "grads"),
                             "RNNRegressor.loss_and_grads")
        label = f"N={n}, window={t}, F={d}, H={hh}, horizon={horizon}"
        want = mean_squared(forecast(X, params), y)
        value = scalar(loss, f"RNNRegressor.loss_and_grads loss ({label})")
        if not np.isclose(value, want, rtol=1e-8, atol=1e-12):
            for factor, words in ((0.5, "half the mean squared error"),
                                  (n * horizon, "the sum of squared errors, not their mean"),
                                  (horizon, "a sum over the horizon")):
                if np.isclose(value, factor * want, rtol=1e-8):
                    raise AssertionError(f"RNNRegressor.loss_and_grads loss ({label}): {words}."
                                         + explain("mse-definition"))
            raise AssertionError(f"RNNRegressor.loss_and_grads loss ({label}): {value:.6g}, "
                                 f"expected {want:.6g} (the MSE of predict's forecast)." +
                                 explain("many-to-one-readout"))
        if not isinstance(grads, dict) or set(grads) != set(KEYS):
            found = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise AssertionError(f"RNNRegressor.loss_and_grads grads: expected a dict with "
                                 f"exactly the keys {list(KEYS)}, got {found}.")
        numeric = {k: numerical_gradient(
            lambda a, k=k: mean_squared(forecast(X, {**params, k: a}), y), params[k], 1.0)
            for k in KEYS}
        wrong = []
        for k in KEYS:
            try:
                assert_grad(grads[k], numeric[k], what=f"grads[{k!r}]", tol=1e-6)
            except AssertionError as exc:
                wrong.append((k, str(exc)))
        if not wrong:
            return
        names = [k for k, _ in wrong]
        details = "\n".join(f"  - {msg}" for _, msg in wrong)
        head = f"RNNRegressor.loss_and_grads ({label}): wrong {', '.join(names)}."
        ratios = [np.sum(grads[k] * numeric[k]) / np.sum(numeric[k] ** 2) for k in KEYS
                  if isinstance(grads[k], np.ndarray) and grads[k].shape == numeric[k].shape]
        if len(ratios) == len(KEYS) and np.allclose(ratios, ratios[0], rtol=1e-5) and all(
                same(grads[k], ratios[0] * numeric[k], 1e-6) for k in KEYS):
            raise AssertionError(f"{head} Every gradient is {ratios[0]:.4g} times the right one."
                                 + explain("mse-grad-scale") + "\n" + details)
        if set(names) <= {"Wx", "Wh", "b"}:
            twin = _every_state_twin(X, y, params)
            if all(same(grads[k], twin[k], 1e-6) for k in ("Wx", "Wh", "b")):
                raise AssertionError(f"{head} The head is right; the RNN weights get the "
                                     "gradient of a model whose loss reads every hidden state."
                                     + explain("many-to-one-bptt") + "\n" + details)
            raise AssertionError(f"{head} The head's gradients are right, those of the RNN "
                                 "weights are not." + explain("many-to-one-bptt") + "\n" +
                                 details)
        if set(names) <= {"Wy", "by"}:
            raise AssertionError(f"{head} The RNN weights are right, the head's are not." +
                                 explain("head-gradient") + "\n" + details)
        raise AssertionError(f"{head}" + explain("many-to-one-bptt") + "\n" + details)


@pytest.mark.slow
@pytest.mark.points(0.25)
def test_ex02_regressor_fit_zero_epochs(ex02, request):
    """RNNRegressor.fit(epochs=0): returns [] and leaves self.params as they were"""
    with exercise1_first(request, "RNNRegressor.fit"):
        X, y = _training_data()
        model = _model(ex02, 1, 8, 1, 210)
        before = params_of(model, "RNNRegressor", shapes_for(1, 8, 1))
        losses = model.fit(X, y, epochs=0)
        if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != 0:
            raise AssertionError(f"RNNRegressor.fit(epochs=0): expected [] (one loss per "
                                 f"epoch, and there is none); got {str(losses)[:80]}.")
        after = params_of(model, "RNNRegressor after fit(epochs=0)", shapes_for(1, 8, 1))
        changed = [k for k in KEYS if not np.array_equal(after[k], before[k])]
        if changed:
            raise AssertionError(f"RNNRegressor.fit(epochs=0) changed self.params {changed}; "
                                 "with no epoch there is no update.")


@pytest.mark.points(1.25)
def test_ex02_regressor_fit(ex02, request):
    """RNNRegressor.fit: learns a clean series in 30 epochs; returns per-epoch losses; seeded"""
    with exercise1_first(request, "RNNRegressor.fit"):
        X, y = _training_data()
        model = _model(ex02, 1, 8, 1, 209, timeout=60)
        before_params = params_of(model, "RNNRegressor", shapes_for(1, 8, 1))
        before = mean_squared(forecast(X, before_params), y)
        keep = (X.copy(), y.copy())
        losses = model.fit(X, y, epochs=30, batch_size=16, lr=0.02)
        if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != 30:
            got = len(losses) if isinstance(losses, (list, tuple, np.ndarray)) else \
                type(losses).__name__
            raise AssertionError(f"RNNRegressor.fit(epochs=30): return a list of 30 per-epoch "
                                 f"losses; got {got}.")
        losses = [scalar(v, "RNNRegressor.fit losses entry") for v in losses]
        if not (np.array_equal(X, keep[0]) and np.array_equal(y, keep[1])):
            raise AssertionError("RNNRegressor.fit changed its argument X or y; never modify "
                                 "inputs (shuffle indices, not the arrays).")
        params = params_of(model, "RNNRegressor after fit", shapes_for(1, 8, 1))
        after = mean_squared(forecast(X, params), y)
        if all(np.array_equal(params[k], before_params[k]) for k in KEYS):
            raise AssertionError("RNNRegressor.fit: self.params did not change." +
                                 explain("fit-keeps-params"))
        if not (after < 0.05 * before and after < 0.02):
            raise AssertionError(
                f"RNNRegressor.fit: the training MSE went from {before:.4f} to {after:.4f} "
                "(measured with self.params before and after fit); a working fit gets below "
                "0.02 and 5% of the start on this clean series. Losses per epoch: first "
                f"{losses[0]:.4f}, last {losses[-1]:.4f}. Check the gradients (the "
                "loss_and_grads test), that each Adam step uses the state from the previous "
                "step, and that the trained parameters stay in self.params (guide: "
                "\"Many-to-one BPTT\").")
        if not losses[-1] < losses[0]:
            raise AssertionError(f"RNNRegressor.fit: the returned losses do not fall (first "
                                 f"{losses[0]:.4f}, last {losses[-1]:.4f}); return each "
                                 "epoch's mean training loss.")
        again = _model(ex02, 1, 8, 1, 209, timeout=60)
        second = again.fit(X.copy(), y.copy(), epochs=30, batch_size=16, lr=0.02)
        second = [scalar(v, "RNNRegressor.fit losses entry") for v in second]
        if not np.allclose(second, losses, rtol=1e-9, atol=1e-12):
            raise AssertionError("RNNRegressor.fit: two models built with the same seed and "
                                 "trained on the same data gave different losses." +
                                 explain("shuffle-rng"))


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
    try:
        got = ex02.recursive_forecast(LinearPredictor(weights, 0.5), context.copy(), steps)
    except ValueError as exc:
        if "LinearPredictor: the window has shape" in message_of(exc):
            raise AssertionError(f"{what}: predict_one got a window of another length than "
                                 f"the context ({_first_line(exc)})." +
                                 explain("recursive-fixed-length")) from None
        raise
    want = _recursive_by_loop(weights, 0.5, context, steps)
    check_array(got, (steps,), what=what)
    if not same(got, want):
        constant = np.full(steps, LinearPredictor(weights, 0.5)(context))
        for twin, words in ((constant, "every step predicts from the same context"),
                            (_recursive_by_loop(weights, 0.5, context, steps, "roll"),
                             "observed values come back into the window instead of the "
                             "predictions"),
                            (_recursive_by_loop(weights, 0.5, context, steps,
                                                "newest-dropped"),
                             "the prediction enters at the wrong end of the window")):
            if same(got, twin):
                raise AssertionError(f"{what}: {words}." + explain("recursive-own-predictions"))
        assert_close(got, want, what=what, hint=explain("recursive-own-predictions"))
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
        series = _comparison_series()
        windows = [3, 8]
        settings = {"train_frac": 0.6, "val_frac": 0.2, "hidden_size": 8, "epochs": 25}
        what = "compare_window_lengths (T=240, 0.6/0.2, windows [3, 8])"
        rows = _rows(ex02.with_timeout(60).compare_window_lengths(
            series.copy(), windows, rng=_rng(210), **settings), windows, what)
        train, test = series[:144], series[192:]
        for row, window in zip(rows, windows, strict=True):
            label = f"{what}, window {window}"
            n_test = len(test) - window
            if row["n_test"] != n_test:
                raise AssertionError(f"{label}: n_test = {row['n_test']!r}; the test part has "
                                     f"{len(test)} steps, so {n_test} windows of its own." +
                                     explain("windows-cross-segments"))
            naive = np.sqrt(mean_squared(test[window - 1:-1], test[window:]))
            value = scalar(row["naive_rmse"], f"{label} naive_rmse")
            if not np.isclose(value, naive, rtol=1e-7):
                if np.isclose(value, naive / train.std(), rtol=1e-7):
                    raise AssertionError(f"{label}: naive_rmse {value:.4g} is on the scaled "
                                         f"values; in the series' units it is {naive:.4g}." +
                                         explain("rmse-original-units"))
                raise AssertionError(f"{label}: naive_rmse {value:.6g}, expected {naive:.6g} "
                                     "(the last value of each test window against its "
                                     "target)." + explain("naive-last-value"))
            rnn = scalar(row["test_rmse"], f"{label} test_rmse")
            if not rnn < naive:
                raise AssertionError(f"{label}: the RNN's test RMSE {rnn:.4g} does not beat the "
                                     f"naive {naive:.4g} on two clean sines, where a trained "
                                     "RNN does (see the fit test)." +
                                     explain("rmse-original-units"))
        big = _rows(ex02.with_timeout(60).compare_window_lengths(
            1000.0 * series + 5000.0, windows, rng=_rng(210), **settings), windows, what)
        for row, scaled in zip(rows, big, strict=True):
            ratio = scalar(scaled["test_rmse"], f"{what} test_rmse") / float(row["test_rmse"])
            if not 990.0 < ratio < 1010.0:
                raise AssertionError(
                    f"{what}: for the series times 1000 (plus 5000) test_rmse should be 1000 "
                    f"times larger (scaling is undone before measuring), but it is {ratio:.4g} "
                    "times larger." + explain("rmse-original-units"))


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
    axes = [ax for ax in info["axes"] if ax["lines"]]
    if len(axes) != 1:
        raise AssertionError(f"{what}: draw both series as lines on one set of axes; found "
                             f"{len(axes)} axes with lines.")
    ax = axes[0]
    check_labels(ax, what=what, legend=2)
    _units(ax, "megawatts", what)
    windows = [2.0, 4.0, 8.0]
    for key, name in (("test_rmse", "the RNN's test RMSE"), ("naive_rmse", "the naive RMSE")):
        if _line_with(ax, windows, [r[key] for r in results]) is None:
            raise AssertionError(f"{what}: no line shows {name} against the window lengths "
                                 "(x = window, y = the RMSE of each row).")


@pytest.mark.points(0.5)
def test_ex02_plot_residuals(ex02, student_tmp):
    """plot_residuals: actual and forecast, and residuals against time, labelled, with units"""
    rng = _rng(211)
    years = np.arange(1990.0, 2010.0)
    y_true = rng.normal(50.0, 10.0, (20, 1))
    y_pred = y_true + rng.normal(0.0, 3.0, (20, 1))
    path = student_tmp / "residuals.png"
    what = "plot_residuals"
    info = figure_info(ex02.plot_residuals(y_true.copy(), y_pred.copy(), str(path),
                                           time=years.copy(), units="sunspots",
                                           time_label="year"), what=what)
    assert_png(path, what=what)
    axes = [ax for ax in info["axes"] if ax["lines"]]
    residual = (y_true - y_pred)[:, 0]
    holding = [ax for ax in axes if _line_with(ax, years, residual) is not None]
    if not holding:
        flipped = any(_line_with(ax, years, -residual) is not None for ax in axes)
        raise AssertionError(f"{what}: no line shows the residuals actual - forecast against "
                             "time" + (" (the line there is forecast - actual)." if flipped
                                       else "."))
    series = [ax for ax in axes if _line_with(ax, years, y_true[:, 0]) is not None
              and _line_with(ax, years, y_pred[:, 0]) is not None]
    if not series:
        raise AssertionError(f"{what}: no panel shows the actual values and the forecast "
                             "against time, one line each.")
    check_labels(series[0], what=f"{what} (actual and forecast)", legend=2)
    check_labels(holding[0], what=f"{what} (residuals)")
    for ax in (series[0], holding[0]):
        _units(ax, "sunspots", what)
        if "year" not in ax["xlabel"]:
            raise AssertionError(f"{what}: the x-axis label {ax['xlabel']!r} should say what "
                                 "time counts (time_label, here 'year').")


@pytest.mark.points(0.5)
def test_ex02_plot_error_by_horizon(ex02, student_tmp):
    """plot_error_by_horizon: RMSE against steps ahead, one labelled line per forecaster"""
    errors = {"RNN": np.array([1.0, 1.5, 2.5, 3.0]), "naive": np.array([2.0, 3.0, 3.5, 4.5])}
    path = student_tmp / "error_by_horizon.png"
    what = "plot_error_by_horizon"
    info = figure_info(ex02.plot_error_by_horizon({k: v.copy() for k, v in errors.items()},
                                                  str(path), units="kWh"), what=what)
    assert_png(path, what=what)
    axes = [ax for ax in info["axes"] if ax["lines"]]
    if len(axes) != 1:
        raise AssertionError(f"{what}: draw every forecaster on one set of axes; found "
                             f"{len(axes)} axes with lines.")
    ax = axes[0]
    check_labels(ax, what=what, legend=2)
    _units(ax, "kWh", what)
    for label, values in errors.items():
        line = _line_with(ax, [1.0, 2.0, 3.0, 4.0], values)
        if line is None:
            raise AssertionError(f"{what}: no line shows {label!r} against steps ahead 1..4 "
                                 "(x starts at 1: one step ahead).")
        if line["label"] != label:
            raise AssertionError(f"{what}: the line of {label!r} is labelled "
                                 f"{line['label']!r}; label each line with its key.")


@pytest.mark.points(0.5)
def test_ex02_no_input_mutation(ex02):
    """data functions: leave their input arrays unchanged"""
    rng = _rng(212)
    series = rng.standard_normal((40, 2))
    X = rng.standard_normal((6, 4, 2))
    y_true, y_pred = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    context = rng.standard_normal(4)
    changed = []

    def run(name, call, *arrays):
        kept = [a.copy() for a in arrays]
        call()
        for i, (a, k) in enumerate(zip(arrays, kept, strict=True)):
            if not np.array_equal(a, k):
                changed.append(f"{name} (argument {i + 1})")

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
