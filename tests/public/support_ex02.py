"""The machinery of tests/public/test_ex02_time_series_prediction.py: saved values, the
forward computations the RNN tests compare with (the forecast on the student's own
initial parameters, which no fixture can hold), twins that name a mistake, and the
checks that say when Exercise 1 or a function this one builds on is the cause.
"""

from __future__ import annotations

import contextlib

import numpy as np

from tests.public.harness import (
    assert_close,
    assert_grad,
    check_array,
    check_labels,
    first_line,
    kind_of,
    message_of,
    names,
    not_implemented_name,
    numerical_gradient,
    optimizer_problem,
    raised,
    saved_arrays,
    scalar,
    unpack,
)
from tests.public.harness import exercise1_first as harness_exercise1_first
from tests.public.harness import same as harness_same
from tests.public.misconceptions import explain
from tests.public.predictors import LinearPredictor

KEYS = ("Wx", "Wh", "b", "Wy", "by")


DATA_KEYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


# The Exercise 1 functions an RNNRegressor builds on (if it uses Exercise 1 at all).
EX01_FUNCTIONS = ("rnn_forward", "rnn_backward", "clip_grad_norm", "adam_step",
                  "rnn_step_forward", "rnn_step_backward")


def rng(seed):
    return np.random.default_rng(seed)


# Inputs and the reference's outputs for the window and scaler tests (`python -m
# tools.fixtures` writes them): windows and z-scores are read, not computed here.
SAVED = saved_arrays("ex02")


def rnn_states(X, params):
    """Hidden states h_1..h_T of a tanh RNN run from h0 = 0, (N, T, H)."""
    h = np.zeros((X.shape[0], params["Wh"].shape[0]))
    states = []
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        states.append(h)
    return np.stack(states, axis=1)


def forecast(X, params):
    """The many-to-one forecast: the head on the last hidden state."""
    return rnn_states(X, params)[:, -1] @ params["Wy"] + params["by"]


def mean_squared(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def same(a, b, tol=1e-9) -> bool:
    """harness.same at this file's tolerance."""
    return harness_same(a, b, tol)


def raises_naming(fn, name, call, what):
    """`call()` must raise ValueError whose message names the argument `name`."""
    try:
        call()
    except ValueError as exc:
        said = message_of(exc)
        if not names(said, name):
            raise AssertionError(f"{fn} ({what}): raised ValueError({said[:120]!r}), which "
                                 f"does not name the argument {name!r}. Say which argument is "
                                 "wrong and why.") from None
        return
    except Exception as exc:  # noqa: BLE001 - the student raised something else
        raise AssertionError(f"{fn} ({what}): raised {kind_of(exc)} "
                             f"({str(exc)[:120]}); raise ValueError naming {name!r}.") from None
    raise AssertionError(f"{fn} ({what}): returned normally; raise ValueError naming "
                         f"{name!r}.")


def params_of(model, fn, shapes):
    """`model.params` as a dict of float64 arrays with the expected shapes (copied)."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or set(params) != set(KEYS):
        found = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise AssertionError(f"{fn}: params must be a dict with exactly the keys {list(KEYS)}; "
                             f"got {found}.")
    return {k: np.array(check_array(params[k], shapes[k], what=f"{fn} params[{k!r}]"))
            for k in KEYS}


def shapes_for(d, h, horizon):
    return {"Wx": (d, h), "Wh": (h, h), "b": (h,), "Wy": (h, horizon), "by": (horizon,)}


def _exercise1_checks(ex01) -> str:
    """'' when the Exercise 1 functions an RNNRegressor builds on give right answers on a
    small case; otherwise a sentence naming the first one that does not."""
    gen = rng(2718)
    n, t, d, hh = 2, 3, 2, 3
    x = gen.standard_normal((n, t, d))
    params = {"Wx": 0.5 * gen.standard_normal((d, hh)), "Wh": 0.4 * gen.standard_normal((hh, hh)),
              "b": 0.1 * gen.standard_normal(hh)}
    h0 = np.zeros((n, hh))
    current = "rnn_forward"
    try:
        h, cache = ex01.rnn_forward(x.copy(), h0.copy(), params["Wx"].copy(),
                                    params["Wh"].copy(), params["b"].copy())
        if not same(h, rnn_states(x, {**params, "Wy": None}), 1e-8):
            return "rnn_forward gives wrong hidden states"
        current = "rnn_backward"
        upstream = gen.standard_normal((n, t, hh))
        grads = ex01.rnn_backward(upstream.copy(), cache)
        if not isinstance(grads, (tuple, list)) or len(grads) != 5:
            return "rnn_backward does not return (dx, dh0, dWx, dWh, db)"
        for name, got in zip(("Wx", "Wh", "b"), grads[2:], strict=True):
            numeric = numerical_gradient(
                lambda a, name=name: rnn_states(x, {**params, name: a}), params[name], upstream)
            if not (isinstance(got, np.ndarray) and got.shape == numeric.shape
                    and np.allclose(got, numeric, rtol=1e-5, atol=1e-7)):
                return f"rnn_backward gives a wrong d{name}"
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        return raised(exc, current)
    return optimizer_problem(ex01)


def exercise1_first(request, what):
    """Run a test that runs the RNN; if it fails while Exercise 1 is wrong, say so first."""
    return harness_exercise1_first(request, what, _exercise1_checks, EX01_FUNCTIONS,
                                   "RNNRegressor", "uses-exercise1")


def _this_exercise_wrong(ex02, names) -> str:
    """'' when the functions `names` of this exercise give right answers on a small case;
    otherwise the first one that does not."""
    series = 10.0 + np.arange(20.0)

    def windows_ok():
        X, y = ex02.make_windows(series.copy(), 3, 2)
        return same(X, SAVED["windows_small_X"]) and same(y, SAVED["windows_small_y"])

    def split_ok():
        parts = ex02.chronological_split(series.copy(), 0.5, 0.25)
        return len(parts) == 3 and all(same(p, w, 0) for p, w in zip(
            parts, (series[:10], series[10:15], series[15:]), strict=True))

    def scaler_ok():
        scaler = ex02.Scaler().fit(series[:10].copy())
        return same(scaler.transform(series.copy()), SAVED["small_z"])

    def prepare_ok():
        data = ex02.prepare_data(series.copy(), 3, 1, 0.5, 0.25)
        return same(data["X_test"], SAVED["small_X_test"]) and same(data["y_test"],
                                                                    SAVED["small_y_test"])

    def naive_ok():
        X = np.arange(12.0).reshape(2, 3, 2)
        return same(ex02.naive_forecast(X.copy(), 2), [[4.0, 4.0], [10.0, 10.0]])

    def rmse_ok():
        return np.isclose(float(ex02.rmse(np.array([1.0, 2.0]), np.array([3.0, 2.0]))),
                          np.sqrt(2.0))

    checks = {"make_windows": windows_ok, "chronological_split": split_ok, "Scaler": scaler_ok,
              "prepare_data": prepare_ok, "naive_forecast": naive_ok, "rmse": rmse_ok}
    for name in names:
        try:
            if not checks[name]():
                return name
        except Exception:  # noqa: BLE001 - any failure there means "fix it first"
            return name
    return ""


@contextlib.contextmanager
def builds_on(ex02, what, names):
    """Run a test of a function built on others of this exercise; if it fails while one of
    those is wrong, say to fix that one first (its own test names the mistake)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - AssertionError and the student's own errors
        if not_implemented_name(exc):
            raise  # "not implemented yet: <function>" already says what to do
        wrong = _this_exercise_wrong(ex02, names)
        if not wrong:
            raise
        raise AssertionError(f"{what}: fails, and it builds on {wrong}, which is wrong too "
                             f"(see the {wrong} tests): fix {wrong} first. The failure here: "
                             f"{first_line(exc)}") from None


def check_window_shapes(X, y, key, window, horizon, label):
    """Type, dtype and shape of (X, y) against the saved case `key`, naming the mistake
    behind a wrong shape."""
    want_X = SAVED[f"{key}_X"]
    n, f = want_X.shape[0], want_X.shape[2]
    what = f"make_windows X ({label})"
    if isinstance(X, np.ndarray) and X.shape != want_X.shape:
        if X.ndim == 2 and X.shape == (n, window) and f == 1:
            raise AssertionError(f"{what}: shape {X.shape}, expected {want_X.shape}: keep a "
                                 "feature axis, even for a 1-D series." +
                                 explain("window-axis-order"))
        if X.ndim == 3 and sorted(X.shape) == sorted(want_X.shape):
            raise AssertionError(f"{what}: shape {X.shape}, expected (N, window, F) = "
                                 f"{want_X.shape}: the same sizes in another order." +
                                 explain("window-axis-order"))
        if X.ndim == 3 and X.shape[1:] == want_X.shape[1:] and abs(X.shape[0] - n) <= 2:
            raise AssertionError(f"{what}: {X.shape[0]} windows, expected T - window - horizon "
                                 f"+ 1 = {n}." + explain("window-count"))
    check_array(X, want_X.shape, what=what)
    what = f"make_windows y ({label})"
    if isinstance(y, np.ndarray) and y.shape == (n,) and horizon == 1:
        raise AssertionError(f"{what}: shape {y.shape}, expected (N, horizon) = {(n, 1)}: one "
                             "row per window, one column per step ahead, even for horizon 1." +
                             explain("window-axis-order"))
    check_array(y, (n, horizon), what=what)


def check_windows(fn_result, key, window, horizon, label):
    """The student's (X, y) against the saved case `key`; names the mistake when a twin
    matches."""
    want_X, want_y = SAVED[f"{key}_X"], SAVED[f"{key}_y"]
    X, y = unpack(fn_result, ("X", "y"), "make_windows")
    check_window_shapes(X, y, key, window, horizon, label)
    n = want_X.shape[0]
    what = f"make_windows X ({label})"
    if not same(X, want_X):
        hint = explain("window-off-by-one")
        if X.shape[0] > 1 and same(X[:-1], want_X[1:]):
            hint = " X[i] starts one step late: X[0] must be series[0 : window]." + hint
        elif X.shape[0] > 1 and same(X[1:], want_X[:-1]):
            hint = " X[i] starts one step early: X[0] must be series[0 : window]." + hint
        assert_close(X, want_X, what=what, hint=hint)
    what = f"make_windows y ({label})"
    if same(y, want_y):
        return
    # y one step early starts with the last value of the window; one step late, y[i] is
    # the right y[i + 1]
    early = np.concatenate([want_X[:, -1, :1], want_y[:, :-1]], axis=1)
    if same(y, early):
        raise AssertionError(f"{what}: y[i] starts with the last value of its own window "
                             "X[i]." + explain("window-target-inside"))
    if isinstance(y, np.ndarray) and n > 1 and same(y[:-1], want_y[1:]):
        raise AssertionError(f"{what}: y[i] skips the step right after its window." +
                             explain("window-off-by-one"))
    if f"{key}_y_last" in SAVED:
        if same(y, SAVED[f"{key}_y_last"]):
            raise AssertionError(f"{what}: these are the values of the last feature." +
                                 explain("window-target-feature"))
    assert_close(y, want_y, what=what, hint=explain("window-off-by-one"))


def check_split(parts, series, train_frac, val_frac, label):
    train, val, test = unpack(parts, ("train", "val", "test"), "chronological_split")
    s = np.asarray(series, dtype=np.float64)
    T = len(s)
    for name, part in (("train", train), ("val", val), ("test", test)):
        if not isinstance(part, np.ndarray) or part.shape[1:] != s.shape[1:]:
            shape = getattr(part, "shape", type(part).__name__)
            raise AssertionError(f"chronological_split {name} ({label}): expected an array of "
                                 f"shape (n, ...) like the series {s.shape}, got {shape}.")
        check_array(part, part.shape, what=f"chronological_split {name} ({label})")
    joined = np.concatenate([train, val, test])
    if joined.shape != s.shape:
        raise AssertionError(f"chronological_split ({label}): the parts hold {len(joined)} "
                             f"steps together, the series {T}." + explain("split-overlap"))
    if not same(joined, s, 0):
        if same(np.sort(joined, axis=0), np.sort(s, axis=0), 0):
            raise AssertionError(f"chronological_split ({label}): the parts hold every step "
                                 "once, but not in time order." + explain("split-shuffled"))
        raise AssertionError(f"chronological_split ({label}): train + val + test is not the "
                             "series: a step is repeated or missing." + explain("split-overlap"))
    for name, part, frac in (("train", train, train_frac), ("val", val, val_frac)):
        if abs(len(part) - frac * T) >= 1 + 1e-9:
            raise AssertionError(f"chronological_split {name} ({label}): {len(part)} steps, "
                                 f"expected {frac} * {T} = {frac * T:g} (rounded either way).")


def new_scaler(ex02):
    scaler = ex02.Scaler()
    if scaler is None or isinstance(scaler, (np.ndarray, dict, list, tuple, float, int)):
        raise AssertionError("Scaler(): expected a Scaler object.")
    return scaler


def fit_scaler(scaler, a, what):
    fitted = scaler.fit(a)
    if fitted is None or isinstance(fitted, (np.ndarray, dict, list, tuple, float, int)):
        raise AssertionError(f"Scaler.fit ({what}): returned "
                             f"{'None' if fitted is None else type(fitted).__name__}; return "
                             "self, so that Scaler().fit(train) is a fitted scaler.")
    return fitted


def shifted_series(T=100):
    """A series whose later part has another level and spread, so statistics fitted on
    more than the training part differ clearly from the right ones."""
    t = np.arange(T, dtype=np.float64)
    return np.sin(2 * np.pi * t / 9.0) + np.where(t >= 60, 4.0 + 0.05 * (t - 60), 0.0)


def new_model(ex02, d, hh, horizon, seed, timeout=10):
    model = ex02.with_timeout(timeout).RNNRegressor(d, hh, horizon, rng(seed))
    if model is None or isinstance(model, (np.ndarray, dict, list, tuple)):
        raise AssertionError("RNNRegressor(...): expected a model object.")
    return model


def every_state_twin(X, y, params):
    """The RNN-weight gradients a backward pass gets when it feeds the gradient that
    belongs to h_T into every hidden state, computed by centered differences only."""
    # dL/dh_T by centered differences: moving h_T by d moves the forecast by d @ Wy
    base = forecast(X, params)
    at_last = numerical_gradient(lambda d: mean_squared(base + d @ params["Wy"], y),
                                 np.zeros((X.shape[0], params["Wh"].shape[0])), 1.0)
    every = np.repeat(at_last[:, None, :], X.shape[1], axis=1)
    return {k: numerical_gradient(lambda a, k=k: rnn_states(X, {**params, k: a}),
                                  params[k], every) for k in ("Wx", "Wh", "b")}


def training_data():
    """Windows (window 6) of two clean sines, T = 160: a few past values give the next."""
    return SAVED["windows_learnable_X"], SAVED["windows_learnable_y"]


def recursive_by_loop(weights, bias, context, steps, mode="right"):
    """The forecast of `LinearPredictor(weights, bias)` fed back, and its mistakes' twins."""
    predictor = LinearPredictor(weights, bias)
    window = np.array(context, dtype=np.float64)
    out = []
    for _ in range(steps):
        value = predictor(window)
        out.append(value)
        if mode == "right":
            window = np.concatenate([window[1:], np.full((1,) + window.shape[1:], value)])
        elif mode == "roll":  # the oldest observed value comes back instead
            window = np.roll(window, -1, axis=0)
        elif mode == "newest-dropped":
            window = np.concatenate([np.full((1,) + window.shape[1:], value), window[:-1]])
    return np.array(out)


def comparison_series():
    t = np.arange(240, dtype=np.float64)
    return 3.0 * np.sin(2 * np.pi * t / 16.0) + 1.5 * np.sin(2 * np.pi * t / 7.0 + 0.3)


def rows(result, windows, what):
    if not isinstance(result, (list, tuple)) or len(result) != len(windows):
        got = f"{len(result)} rows" if isinstance(result, (list, tuple)) else \
            type(result).__name__
        raise AssertionError(f"{what}: expected a list with one dict per window "
                             f"({len(windows)}); got {got}.")
    for row, window in zip(result, windows, strict=True):
        if not isinstance(row, dict) or not {"window", "test_rmse", "naive_rmse",
                                             "n_test"} <= set(row):
            raise AssertionError(f"{what}: each row must be a dict with at least 'window', "
                                 "'test_rmse', 'naive_rmse' and 'n_test'.")
        if row["window"] != window:
            raise AssertionError(f"{what}: the rows must follow the order of windows "
                                 f"{list(windows)}; got window {row['window']!r} for {window}.")
    return result


def line_with(ax, x, y):
    for line in ax["lines"]:
        lx, ly = np.asarray(line["x"], dtype=np.float64), np.asarray(line["y"], dtype=np.float64)
        if ly.shape == np.shape(y) and np.allclose(ly, y, rtol=1e-9, atol=1e-9) and (
                x is None or (lx.shape == np.shape(x) and np.allclose(lx, x))):
            return line
    return None


def check_units(ax, units, what):
    if units not in ax["ylabel"]:
        raise AssertionError(f"{what}: the y-axis label {ax['ylabel']!r} does not name the "
                             f"units {units!r}; a reader must know what an error of 10 means.")



# ---------------------------------------------------------------------------------------
# The checks of one test each, with the messages that name a mistake
# ---------------------------------------------------------------------------------------


def check_window_invariants(result, key, window, horizon, label):
    """Properties of make_windows' (X, y) that hold whatever the values: each window is the
    previous one moved on by a step, and no target is inside its own window."""
    X, y = unpack(result, ("X", "y"), "make_windows")
    check_window_shapes(X, y, key, window, horizon, label)
    if not same(X[1:, :-1], X[:-1, 1:]):
        raise AssertionError(f"make_windows X ({label}): X[i + 1] must be X[i] moved on by one "
                             "step (X[i + 1, :-1] == X[i, 1:]); it is not." +
                             explain("window-off-by-one"))
    for i in range(SAVED[f"{key}_X"].shape[0]):
        inside = np.isclose(y[i][:, None], X[i, :, 0][None, :]).any()
        if inside:
            raise AssertionError(f"make_windows ({label}): target y[{i}] holds a value that is "
                                 f"inside its own window X[{i}]." +
                                 explain("window-target-inside"))
    if not same(y[:-1, 0], X[1:, -1, 0]):
        raise AssertionError(f"make_windows ({label}): y[i, 0] must be the step right after "
                             "window i, which is also the last step of window i + 1 (feature "
                             "0)." + explain("window-off-by-one"))


def check_z_later(got, train, later):
    """Scaler fit on `train`, transform of `later` (saved: scaler_later_z)."""
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


def check_z_windows(got, two, windows):
    """Scaler fit on the (T, F) series `two`, transform of `windows` (saved)."""
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


def check_prepared(data, series, window, horizon):
    """prepare_data(series, window, horizon, 0.6, 0.2) of shifted_series(100) against the
    saved parts, naming a scaler fitted on more than the training part."""
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


def check_naive(got, X, horizon):
    """naive_forecast(X, horizon): the last value of feature 0, repeated; twins name the
    first value of the window and the last feature."""
    want = np.repeat(X[:, -1, :1], horizon, axis=1)
    what = f"naive_forecast (X {X.shape}, horizon {horizon})"
    check_array(got, (X.shape[0], horizon), what=what)
    if not same(got, want):
        for twin, words in ((np.repeat(X[:, 0, :1], horizon, axis=1), "the first value of the "
                             "window"),
                            (np.repeat(X[:, -1, -1:], horizon, axis=1), "the last feature")):
            if same(got, twin):
                raise AssertionError(f"{what}: repeats {words}." + explain("naive-last-value"))
        assert_close(got, want, what=what, hint=explain("naive-last-value"))


def check_forecast(got, X, keep, params, what):
    """predict(X) on the model's own `params`: one forecast per window from h_T; `keep` is
    X as it was before the call."""
    horizon = params["by"].shape[0]
    if isinstance(got, np.ndarray) and got.shape == (X.shape[0], X.shape[1], horizon):
        raise AssertionError(f"{what}: shape {got.shape}: one forecast per time step; "
                             "expected one per window, (N, horizon)." +
                             explain("many-to-one-readout"))
    check_array(got, (X.shape[0], horizon), what=what)
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


def check_loss_and_grads(result, X, y, params, label):
    """loss_and_grads(X, y) on the model's own `params`: the MSE of the forecast, then each
    gradient against centered differences; a wrong gradient is diagnosed."""
    loss, grads = unpack(result, ("loss", "grads"), "RNNRegressor.loss_and_grads")
    n, horizon = y.shape
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
    if wrong:
        raise AssertionError(grads_diagnosis(grads, numeric, wrong, X, y, params, label))


def grads_diagnosis(grads, numeric, wrong, X, y, params, label) -> str:
    """The message of a failing gradient check: which gradients, the likely mistake, then
    the details of each."""
    names = [k for k, _ in wrong]
    details = "\n".join(f"  - {msg}" for _, msg in wrong)
    head = f"RNNRegressor.loss_and_grads ({label}): wrong {', '.join(names)}."
    ratios = [np.sum(grads[k] * numeric[k]) / np.sum(numeric[k] ** 2) for k in KEYS
              if isinstance(grads[k], np.ndarray) and grads[k].shape == numeric[k].shape]
    if len(ratios) == len(KEYS) and np.allclose(ratios, ratios[0], rtol=1e-5) and all(
            same(grads[k], ratios[0] * numeric[k], 1e-6) for k in KEYS):
        return (f"{head} Every gradient is {ratios[0]:.4g} times the right one."
                + explain("mse-grad-scale") + "\n" + details)
    if set(names) <= {"Wx", "Wh", "b"}:
        twin = every_state_twin(X, y, params)
        if all(same(grads[k], twin[k], 1e-6) for k in ("Wx", "Wh", "b")):
            return (f"{head} The head is right; the RNN weights get the "
                    "gradient of a model whose loss reads every hidden state."
                    + explain("many-to-one-bptt") + "\n" + details)
        return (f"{head} The head's gradients are right, those of the RNN "
                "weights are not." + explain("many-to-one-bptt") + "\n" + details)
    if set(names) <= {"Wy", "by"}:
        return (f"{head} The RNN weights are right, the head's are not." +
                explain("head-gradient") + "\n" + details)
    return f"{head}" + explain("many-to-one-bptt") + "\n" + details


def check_no_epoch(losses, model, before):
    """fit(epochs=0) returned no loss and left model.params equal to `before`."""
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != 0:
        raise AssertionError(f"RNNRegressor.fit(epochs=0): expected [] (one loss per "
                             f"epoch, and there is none); got {str(losses)[:80]}.")
    after = params_of(model, "RNNRegressor after fit(epochs=0)", shapes_for(1, 8, 1))
    changed = [k for k in KEYS if not np.array_equal(after[k], before[k])]
    if changed:
        raise AssertionError(f"RNNRegressor.fit(epochs=0) changed self.params {changed}; "
                             "with no epoch there is no update.")


def check_fitted(losses, model, before_params, X, y, keep):
    """fit(X, y, epochs=30) of training_data(): 30 losses that fall, X and y unchanged
    (`keep` holds their copies), and self.params trained to a low MSE; returns the losses."""
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != 30:
        got = len(losses) if isinstance(losses, (list, tuple, np.ndarray)) else \
            type(losses).__name__
        raise AssertionError(f"RNNRegressor.fit(epochs=30): return a list of 30 per-epoch "
                             f"losses; got {got}.")
    losses = [scalar(v, "RNNRegressor.fit losses entry") for v in losses]
    if not (np.array_equal(X, keep[0]) and np.array_equal(y, keep[1])):
        raise AssertionError("RNNRegressor.fit changed its argument X or y; never modify "
                             "inputs (shuffle indices, not the arrays).")
    before = mean_squared(forecast(keep[0], before_params), keep[1])
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
    return losses


def check_seeded(second, losses):
    """A second model with the same seed, fit on the same data, gives the same losses."""
    second = [scalar(v, "RNNRegressor.fit losses entry") for v in second]
    if not np.allclose(second, losses, rtol=1e-9, atol=1e-12):
        raise AssertionError("RNNRegressor.fit: two models built with the same seed and "
                             "trained on the same data gave different losses." +
                             explain("shuffle-rng"))


@contextlib.contextmanager
def fixed_length_windows(what):
    """Name the mistake when LinearPredictor refuses a window of another length."""
    try:
        yield
    except ValueError as exc:
        if "LinearPredictor: the window has shape" in message_of(exc):
            raise AssertionError(f"{what}: predict_one got a window of another length than "
                                 f"the context ({first_line(exc)})." +
                                 explain("recursive-fixed-length")) from None
        raise


def check_recursive(got, weights, bias, context, steps, what):
    """recursive_forecast of LinearPredictor(weights, bias) from `context`; twins name the
    classic mistakes. Returns the right forecast."""
    want = recursive_by_loop(weights, bias, context, steps)
    check_array(got, (steps,), what=what)
    if not same(got, want):
        constant = np.full(steps, LinearPredictor(weights, bias)(context))
        for twin, words in ((constant, "every step predicts from the same context"),
                            (recursive_by_loop(weights, bias, context, steps, "roll"),
                             "observed values come back into the window instead of the "
                             "predictions"),
                            (recursive_by_loop(weights, bias, context, steps,
                                               "newest-dropped"),
                             "the prediction enters at the wrong end of the window")):
            if same(got, twin):
                raise AssertionError(f"{what}: {words}." + explain("recursive-own-predictions"))
        assert_close(got, want, what=what, hint=explain("recursive-own-predictions"))
    return want


def check_comparison(rows, windows, train, test, what):
    """Each row of compare_window_lengths: n_test windows of the test part, the naive RMSE
    in the series' units, and an RNN that beats it."""
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


def check_rescaled(rows, big, what):
    """The rows for 1000 * series + 5000 have 1000 times the test RMSE of `rows`."""
    for row, scaled in zip(rows, big, strict=True):
        ratio = scalar(scaled["test_rmse"], f"{what} test_rmse") / float(row["test_rmse"])
        if not 990.0 < ratio < 1010.0:
            raise AssertionError(
                f"{what}: for the series times 1000 (plus 5000) test_rmse should be 1000 "
                f"times larger (scaling is undone before measuring), but it is {ratio:.4g} "
                "times larger." + explain("rmse-original-units"))


def check_window_plot(info, results, units, what):
    """One labelled axes with the RNN's and the naive RMSE against the window lengths."""
    axes = [ax for ax in info["axes"] if ax["lines"]]
    if len(axes) != 1:
        raise AssertionError(f"{what}: draw both series as lines on one set of axes; found "
                             f"{len(axes)} axes with lines.")
    ax = axes[0]
    check_labels(ax, what=what, legend=2)
    check_units(ax, units, what)
    windows = [float(r["window"]) for r in results]
    for key, name in (("test_rmse", "the RNN's test RMSE"), ("naive_rmse", "the naive RMSE")):
        if line_with(ax, windows, [r[key] for r in results]) is None:
            raise AssertionError(f"{what}: no line shows {name} against the window lengths "
                                 "(x = window, y = the RMSE of each row).")


def check_residual_plot(info, years, y_true, y_pred, what):
    """A panel with actual and forecast against time, one with the residuals, labelled,
    with the units 'sunspots' and the time label 'year'."""
    axes = [ax for ax in info["axes"] if ax["lines"]]
    residual = (y_true - y_pred)[:, 0]
    holding = [ax for ax in axes if line_with(ax, years, residual) is not None]
    if not holding:
        flipped = any(line_with(ax, years, -residual) is not None for ax in axes)
        raise AssertionError(f"{what}: no line shows the residuals actual - forecast against "
                             "time" + (" (the line there is forecast - actual)." if flipped
                                       else "."))
    series = [ax for ax in axes if line_with(ax, years, y_true[:, 0]) is not None
              and line_with(ax, years, y_pred[:, 0]) is not None]
    if not series:
        raise AssertionError(f"{what}: no panel shows the actual values and the forecast "
                             "against time, one line each.")
    check_labels(series[0], what=f"{what} (actual and forecast)", legend=2)
    check_labels(holding[0], what=f"{what} (residuals)")
    for ax in (series[0], holding[0]):
        check_units(ax, "sunspots", what)
        if "year" not in ax["xlabel"]:
            raise AssertionError(f"{what}: the x-axis label {ax['xlabel']!r} should say what "
                                 "time counts (time_label, here 'year').")


def check_horizon_plot(info, errors, units, what):
    """One labelled axes with a line per forecaster, labelled with its key, against steps
    ahead 1..4."""
    axes = [ax for ax in info["axes"] if ax["lines"]]
    if len(axes) != 1:
        raise AssertionError(f"{what}: draw every forecaster on one set of axes; found "
                             f"{len(axes)} axes with lines.")
    ax = axes[0]
    check_labels(ax, what=what, legend=2)
    check_units(ax, units, what)
    for label, values in errors.items():
        line = line_with(ax, [1.0, 2.0, 3.0, 4.0], values)
        if line is None:
            raise AssertionError(f"{what}: no line shows {label!r} against steps ahead 1..4 "
                                 "(x starts at 1: one step ahead).")
        if line["label"] != label:
            raise AssertionError(f"{what}: the line of {label!r} is labelled "
                                 f"{line['label']!r}; label each line with its key.")


def mutation_runner(changed):
    """`run(name, call, *arrays)`: call() and append to `changed` each array it changed."""
    def run(name, call, *arrays):
        kept = [a.copy() for a in arrays]
        call()
        for i, (a, k) in enumerate(zip(arrays, kept, strict=True)):
            if not np.array_equal(a, k):
                changed.append(f"{name} (argument {i + 1})")
    return run
