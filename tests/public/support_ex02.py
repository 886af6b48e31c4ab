"""The machinery of tests/public/test_ex02_time_series_prediction.py: saved values, the
forward computations the RNN tests compare with (the forecast on the student's own
initial parameters, which no fixture can hold), twins that name a mistake, and the
checks that say when Exercise 1 or a function this one builds on is the cause.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import numpy as np

from tests.public.harness import (
    assert_close,
    check_array,
    message_of,
    names,
    numerical_gradient,
    unpack,
)
from tests.public.misconceptions import explain
from tests.public.predictors import LinearPredictor

KEYS = ("Wx", "Wh", "b", "Wy", "by")


DATA_KEYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


# The Exercise 1 functions an RNNRegressor builds on (if it uses Exercise 1 at all).
EX01_FUNCTIONS = ("rnn_forward", "rnn_backward", "clip_grad_norm", "adam_step",
                  "rnn_step_forward", "rnn_step_backward")


def _rng(seed):
    return np.random.default_rng(seed)


# Inputs and the reference's outputs for the window and scaler tests (`python -m
# tools.fixtures` writes them): windows and z-scores are read, not computed here.
with np.load(Path(__file__).parent / "fixtures" / "ex02.npz") as _saved:
    SAVED = {name: _saved[name] for name in _saved.files}


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
    b = np.asarray(b)
    return isinstance(a, np.ndarray) and a.shape == b.shape and np.allclose(a, b, rtol=tol,
                                                                           atol=tol)


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
        raise AssertionError(f"{fn} ({what}): raised {type(exc).__name__} "
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


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _not_implemented_name(exc) -> str | None:
    """The function a NotImplementedError (here, or from the grader's student process)
    names, if it is one."""
    text = str(exc)
    match = re.search(r"not implemented yet: (\w+)", text)
    if match:
        return match.group(1)
    if isinstance(exc, NotImplementedError):
        return text.strip().split()[0] if text.strip() else "?"
    return None


def exercise1_problem(request) -> str:
    """'' when the Exercise 1 functions an RNNRegressor builds on give right answers on a
    small case; otherwise a sentence naming the first one that does not."""
    try:
        ex01 = request.getfixturevalue("ex01")
    except Exception as exc:  # noqa: BLE001 - missing file, syntax error, import error
        return f"ex_01_basic_rnn.py could not be used ({_first_line(exc)})"
    rng = _rng(2718)
    n, t, d, hh = 2, 3, 2, 3
    x = rng.standard_normal((n, t, d))
    params = {"Wx": 0.5 * rng.standard_normal((d, hh)), "Wh": 0.4 * rng.standard_normal((hh, hh)),
              "b": 0.1 * rng.standard_normal(hh)}
    h0 = np.zeros((n, hh))
    current = "rnn_forward"
    try:
        h, cache = ex01.rnn_forward(x.copy(), h0.copy(), params["Wx"].copy(),
                                    params["Wh"].copy(), params["b"].copy())
        if not same(h, rnn_states(x, {**params, "Wy": None}), 1e-8):
            return "rnn_forward gives wrong hidden states"
        current = "rnn_backward"
        upstream = rng.standard_normal((n, t, hh))
        grads = ex01.rnn_backward(upstream.copy(), cache)
        if not isinstance(grads, (tuple, list)) or len(grads) != 5:
            return "rnn_backward does not return (dx, dh0, dWx, dWh, db)"
        for name, got in zip(("Wx", "Wh", "b"), grads[2:], strict=True):
            numeric = numerical_gradient(
                lambda a, name=name: rnn_states(x, {**params, name: a}), params[name], upstream)
            if not (isinstance(got, np.ndarray) and got.shape == numeric.shape
                    and np.allclose(got, numeric, rtol=1e-5, atol=1e-7)):
                return f"rnn_backward gives a wrong d{name}"
        current = "clip_grad_norm"
        clipped, norm = ex01.clip_grad_norm({"a": np.array([3.0, 0.0]),
                                             "b": np.array([[4.0]])}, 1.0)
        if not (np.isclose(float(norm), 5.0) and isinstance(clipped, dict)
                and same(clipped.get("a"), [0.6, 0.0]) and same(clipped.get("b"), [[0.8]])):
            return "clip_grad_norm does not rescale by the global norm"
        current = "adam_step"
        p = {"w": np.array([1.0, -2.0])}
        new, _ = ex01.adam_step(p, {"w": np.array([0.5, -3.0])}, None, 0.1)
        if not (isinstance(new, dict) and same(new.get("w"), [0.9, -1.9], 1e-6)):
            return "adam_step's first step is wrong"
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        name = _not_implemented_name(exc)
        if name:
            return f"{name} is not implemented yet"
        return f"{current} raised {_first_line(exc)}"
    return ""


@contextlib.contextmanager
def exercise1_first(request, what):
    """Run a test that runs the RNN; if it fails while Exercise 1 is wrong, say so first."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - AssertionError and the student's own errors
        missing = _not_implemented_name(exc)
        if missing and missing not in EX01_FUNCTIONS:
            raise  # this exercise's own function is missing: that message is the right one
        problem = exercise1_problem(request)
        if not problem:
            raise
        raise AssertionError(
            f"{what}: fails, and the cause is in Exercise 1: {problem}. RNNRegressor runs "
            "your Exercise 1 (or should work like it): make the Exercise 1 tests pass first "
            f"(make check T=tests/public/test_ex01_basic_rnn.py). The failure here: "
            f"{_first_line(exc)}{explain('uses-exercise1')}") from None


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
        if _not_implemented_name(exc):
            raise  # "not implemented yet: <function>" already says what to do
        wrong = _this_exercise_wrong(ex02, names)
        if not wrong:
            raise
        raise AssertionError(f"{what}: fails, and it builds on {wrong}, which is wrong too "
                             f"(see the {wrong} tests): fix {wrong} first. The failure here: "
                             f"{_first_line(exc)}") from None


def _check_window_shapes(X, y, key, window, horizon, label):
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


def _check_windows(fn_result, key, window, horizon, label):
    """The student's (X, y) against the saved case `key`; names the mistake when a twin
    matches."""
    want_X, want_y = SAVED[f"{key}_X"], SAVED[f"{key}_y"]
    X, y = unpack(fn_result, ("X", "y"), "make_windows")
    _check_window_shapes(X, y, key, window, horizon, label)
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


def _check_split(parts, series, train_frac, val_frac, label):
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


def _new_scaler(ex02):
    scaler = ex02.Scaler()
    if scaler is None or isinstance(scaler, (np.ndarray, dict, list, tuple, float, int)):
        raise AssertionError("Scaler(): expected a Scaler object.")
    return scaler


def _fit(scaler, a, what):
    fitted = scaler.fit(a)
    if fitted is None or isinstance(fitted, (np.ndarray, dict, list, tuple, float, int)):
        raise AssertionError(f"Scaler.fit ({what}): returned "
                             f"{'None' if fitted is None else type(fitted).__name__}; return "
                             "self, so that Scaler().fit(train) is a fitted scaler.")
    return fitted


def _shifted_series(T=100):
    """A series whose later part has another level and spread, so statistics fitted on
    more than the training part differ clearly from the right ones."""
    t = np.arange(T, dtype=np.float64)
    return np.sin(2 * np.pi * t / 9.0) + np.where(t >= 60, 4.0 + 0.05 * (t - 60), 0.0)


def _model(ex02, d, hh, horizon, seed, timeout=10):
    model = ex02.with_timeout(timeout).RNNRegressor(d, hh, horizon, _rng(seed))
    if model is None or isinstance(model, (np.ndarray, dict, list, tuple)):
        raise AssertionError("RNNRegressor(...): expected a model object.")
    return model


def _every_state_twin(X, y, params):
    """The RNN-weight gradients a backward pass gets when it feeds the gradient that
    belongs to h_T into every hidden state, computed by centered differences only."""
    # dL/dh_T by centered differences: moving h_T by d moves the forecast by d @ Wy
    base = forecast(X, params)
    at_last = numerical_gradient(lambda d: mean_squared(base + d @ params["Wy"], y),
                                 np.zeros((X.shape[0], params["Wh"].shape[0])), 1.0)
    every = np.repeat(at_last[:, None, :], X.shape[1], axis=1)
    return {k: numerical_gradient(lambda a, k=k: rnn_states(X, {**params, k: a}),
                                  params[k], every) for k in ("Wx", "Wh", "b")}


def _training_data():
    """Windows (window 6) of two clean sines, T = 160: a few past values give the next."""
    return SAVED["windows_learnable_X"], SAVED["windows_learnable_y"]


def _recursive_by_loop(weights, bias, context, steps, mode="right"):
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


def _comparison_series():
    t = np.arange(240, dtype=np.float64)
    return 3.0 * np.sin(2 * np.pi * t / 16.0) + 1.5 * np.sin(2 * np.pi * t / 7.0 + 0.3)


def _rows(result, windows, what):
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


def _line_with(ax, x, y):
    for line in ax["lines"]:
        lx, ly = np.asarray(line["x"], dtype=np.float64), np.asarray(line["y"], dtype=np.float64)
        if ly.shape == np.shape(y) and np.allclose(ly, y, rtol=1e-9, atol=1e-9) and (
                x is None or (lx.shape == np.shape(x) and np.allclose(lx, x))):
            return line
    return None


def _units(ax, units, what):
    if units not in ax["ylabel"]:
        raise AssertionError(f"{what}: the y-axis label {ax['ylabel']!r} does not name the "
                             f"units {units!r}; a reader must know what an error of 10 means.")
