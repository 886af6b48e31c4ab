"""Exercise 2: forecasting a time series with a many-to-one RNN.

You turn a series into supervised examples with sliding windows, split it in time order,
scale it with statistics of the training part only, train an RNN that reads a window and
predicts what comes next from its last hidden state, and compare it with the naive
forecast (tomorrow = today) for several window lengths, on 309 years of sunspot numbers.

Conventions used everywhere in this file (as in Exercise 1):

* float64 arrays only: array arguments may also be Python lists or integer arrays,
  which every function converts to float64 (``np.asarray(a, dtype=np.float64)``);
* a series is ``(T,)`` or ``(T, F)`` (F features, feature 0 is the one to forecast);
  windows are ``X (N, window, F)`` and targets ``y (N, horizon)``: examples, then time,
  then features, the layout Exercise 1's ``rnn_forward`` reads;
* randomness comes only from an ``rng: np.random.Generator`` argument;
* no function modifies its input arrays;
* a bad argument raises ``ValueError`` with a message naming the argument.

``RNNRegressor`` reuses your Exercise 1 (``ex_01_basic_rnn.py`` in the same folder): see
``exercise1`` below. Run ``python ex_02_time_series_prediction.py`` for the demo: it
trains on the sunspot series, prints the comparison table and writes three figures to
``figures/`` in the current folder (``--out DIR`` for another). ``make check`` runs the
tests. The guide (``guides/rnn_guide.md``, section 8) explains every idea used here.
"""

import sys
import time
from pathlib import Path

import numpy as np

PARAM_KEYS = ("Wx", "Wh", "b", "Wy", "by")
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------------------------------
# Given helpers (already complete)
# ---------------------------------------------------------------------------------------


def exercise1():
    """Your Exercise 1 module, ``ex_01_basic_rnn.py`` from this file's folder.

    ``RNNRegressor`` is Exercise 1's RNN with another head and loss, so reuse what you
    wrote there: ``ex1 = exercise1()``, then ``ex1.rnn_forward(...)``,
    ``ex1.rnn_backward(...)``, ``ex1.clip_grad_norm(...)``, ``ex1.adam_step(...)``.
    Call it inside the methods that need it, not at the top of this file: then a problem
    in Exercise 1 costs only the tests that run the RNN (and they say so), not every test
    of this exercise. Writing the RNN again here yourself is fine too.
    """
    import importlib

    if __package__:  # imported as part of a package (e.g. solutions.ex_02_...): its sibling
        return importlib.import_module(f"{__package__}.ex_01_basic_rnn")
    return importlib.import_module("ex_01_basic_rnn")


def check_int(name, value, minimum):
    """``value`` as an int; ``ValueError`` naming it unless it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_series(series, name="series"):
    """``series`` as a new float64 array ``(T,)`` or ``(T, F)``; ``ValueError`` naming it
    when it has another number of dimensions, no values, or values that are not finite."""
    try:
        a = np.array(series, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if a.ndim not in (1, 2) or a.shape[0] == 0 or a.size == 0:
        raise ValueError(f"{name} must have shape (T,) or (T, F) with T >= 1, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds values that are not finite (nan or inf)")
    return a


def load_sunspots(path=None):
    """The yearly mean sunspot numbers 1700-2008 (``data/sunspots.csv``, public domain).

    Returns ``(years, values)``: int64 ``(309,)`` and float64 ``(309,)``.
    """
    path = Path(path) if path is not None else DATA_DIR / "sunspots.csv"
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.float64)


def make_synthetic_series(n, rng, periods=(12.0, 40.0), amplitudes=(1.0, 0.5), trend=0.002,
                          noise=0.1):
    """A seeded synthetic series of ``n`` steps: a sum of sines plus a linear trend and noise.

    ``x_t = sum_k amplitudes[k] * sin(2 pi t / periods[k] + phase_k) + trend * t + noise * e_t``
    with random phases and ``e_t ~ N(0, 1)``, all drawn from ``rng``. Returns float64
    ``(n,)``. With ``noise=0`` and no trend it is perfectly predictable from a few past
    values, which makes it a good first test for a forecaster.
    """
    n = check_int("n", n, 1)
    if len(periods) != len(amplitudes) or any(p <= 0 for p in periods):
        raise ValueError("periods must be positive and match amplitudes in length")
    t = np.arange(n, dtype=np.float64)
    phases = rng.uniform(0.0, 2 * np.pi, size=len(periods))
    x = trend * t
    for period, amplitude, phase in zip(periods, amplitudes, phases, strict=True):
        x = x + amplitude * np.sin(2 * np.pi * t / period + phase)
    return x + noise * rng.standard_normal(n)


# ---------------------------------------------------------------------------------------
# Part 1: sliding windows
# ---------------------------------------------------------------------------------------


def make_windows(series, window, horizon=1):
    """Cut a series into (input window, target) pairs by sliding one step at a time.

    Args:
        series: ``(T,)`` or ``(T, F)``; a 1-D series is one feature (F = 1).
        window: number of past steps the model sees, ``>= 1``.
        horizon: number of future steps of feature 0 to predict, ``>= 1``.

    Returns:
        ``(X, y)``: float64 ``X (N, window, F)`` and ``y (N, horizon)`` with
        ``N = T - window - horizon + 1``, ``X[i] = series[i : i + window]`` and
        ``y[i] = series[i + window : i + window + horizon, 0]``: the values that come right
        after the window, never one that is inside it.

    Raise ``ValueError`` naming the argument when ``window`` or ``horizon`` is not an
    integer >= 1 (``check_int``), or when ``series`` is too short for a single window
    (``as_series`` checks its shape).
    # BEGIN CONCEPT
    Draw a series of 8 values and the first two windows for window = 3, horizon = 2 before
    you write code (guide: "Windows"). Count the windows: the last one must still have
    all of its targets inside the series.
    # END CONCEPT
    # BEGIN FULL
    Build an index array ``idx[i, k] = i + k`` (``np.arange(N)[:, None] +
    np.arange(window)``) and take ``series[idx]``; do the same for the targets with
    offsets ``window + j``, or loop over ``i``.
    # END FULL
    """
    # BEGIN SOLUTION
    s = as_series(series)
    window = check_int("window", window, 1)
    horizon = check_int("horizon", horizon, 1)
    if s.ndim == 1:
        s = s[:, None]
    T = s.shape[0]
    if T < window + horizon:
        raise ValueError(f"series has {T} steps: too short for one window of window + horizon "
                         f"= {window} + {horizon} steps")
    N = T - window - horizon + 1
    starts = np.arange(N)[:, None]
    X = s[starts + np.arange(window)]
    y = s[starts + window + np.arange(horizon), 0]
    return X, y
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 2: splitting in time, scaling without leakage
# ---------------------------------------------------------------------------------------


def chronological_split(series, train_frac, val_frac):
    """Split a series into training, validation and test parts, in time order.

    Args:
        series: ``(T,)`` or ``(T, F)``.
        train_frac: fraction of the steps for training, ``0 < train_frac < 1``.
        val_frac: fraction for validation, ``0 <= val_frac`` and ``train_frac + val_frac
            < 1``; the test part gets the rest.

    Returns:
        ``(train, val, test)``: new float64 arrays, ``series[:n_train]``, the next
        ``n_val`` steps and the remaining ones: contiguous, in this order, no step in two
        parts, together the whole series. ``n_train`` and ``n_val`` are
        ``train_frac * T`` and ``val_frac * T`` rounded down (either rounding is
        accepted). ``val`` may be empty (``val_frac = 0``).

    Raise ``ValueError`` naming the argument for fractions out of range, or ``series``
    when it is too short to give every non-optional part a step.
    # BEGIN CONCEPT
    The model is used to predict the future from the past: evaluate it the same way
    (guide: "Splitting in time and scaling"). A shuffled split lets the model see, while
    training, the neighbours of every test value.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    s = as_series(series)
    for name, value in (("train_frac", train_frac), ("val_frac", val_frac)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a number, got {value!r}")
    if not 0 < train_frac < 1:
        raise ValueError(f"train_frac must be in (0, 1), got {train_frac}")
    if not 0 <= val_frac < 1 or train_frac + val_frac >= 1:
        raise ValueError(f"val_frac must be >= 0 with train_frac + val_frac < 1, got "
                         f"{val_frac} (train_frac {train_frac})")
    T = s.shape[0]
    n_train = int(np.floor(train_frac * T + 1e-9))
    n_val = int(np.floor(val_frac * T + 1e-9))
    if n_train < 1 or T - n_train - n_val < 1:
        raise ValueError(f"series has {T} steps: too short to give the training and the test "
                         "part at least one step each")
    return s[:n_train].copy(), s[n_train:n_train + n_val].copy(), s[n_train + n_val:].copy()
    # END SOLUTION


class Scaler:
    """Standardisation (z-scores) with statistics learned from one array, the training part.

    ``fit(a)`` learns the mean and the population standard deviation (``ddof=0``) of each
    feature: over every axis but the last one for a 2-D or 3-D ``a``, one mean and one
    deviation for a 1-D series. A deviation of 0 (a constant feature) is replaced by 1, so
    ``transform`` never divides by zero. ``fit`` returns the scaler itself, so
    ``Scaler().fit(train)`` is a fitted scaler.

    ``transform(a) = (a - mean) / std`` and ``inverse_transform(z) = z * std + mean`` work on
    any array whose last axis has one entry per feature (a series ``(T, F)``, windows
    ``(N, window, F)``), or on any array at all when the scaler was fitted on a 1-D series
    (one statistic for everything). Both return new float64 arrays. Calling them before
    ``fit`` raises ``ValueError``.
    # BEGIN CONCEPT
    Statistics computed on validation or test data tell the model something about the
    future (guide: "Splitting in time and scaling"): fit on the training part only, then
    apply the same transformation everywhere.
    # END CONCEPT
    """

    def __init__(self):
        self.mean_ = None
        self.std_ = None

    def fit(self, a):
        """Learn ``mean_`` and ``std_`` from ``a``; return ``self``."""
        # BEGIN SOLUTION
        a = np.array(a, dtype=np.float64)
        if a.ndim == 0 or a.size == 0:
            raise ValueError(f"a must be a non-empty array, got shape {a.shape}")
        axes = None if a.ndim == 1 else tuple(range(a.ndim - 1))
        self.mean_ = np.asarray(a.mean(axis=axes), dtype=np.float64)
        std = np.asarray(a.std(axis=axes), dtype=np.float64)
        self.std_ = np.where(std == 0, 1.0, std)
        return self
        # END SOLUTION

    def transform(self, a):
        """``(a - mean_) / std_`` as a new float64 array."""
        # BEGIN SOLUTION
        a = self._checked(a)
        return (a - self.mean_) / self.std_
        # END SOLUTION

    def inverse_transform(self, a):
        """``a * std_ + mean_`` as a new float64 array: back to the original units."""
        # BEGIN SOLUTION
        a = self._checked(a)
        return a * self.std_ + self.mean_
        # END SOLUTION

    def _checked(self, a):
        """``a`` as float64, after checking that the scaler is fitted and that ``a`` fits it."""
        if self.mean_ is None or self.std_ is None:
            raise ValueError("this Scaler is not fitted yet: call fit(train) first")
        a = np.array(a, dtype=np.float64)
        if self.mean_.ndim and (a.ndim == 0 or a.shape[-1] != self.mean_.shape[0]):
            raise ValueError(f"a has shape {a.shape}; its last axis must have one entry per "
                             f"feature ({self.mean_.shape[0]})")
        return a


def prepare_data(series, window, horizon=1, train_frac=0.7, val_frac=0.15):
    """Everything a forecaster trains and is judged on, without leaking the future.

    Split ``series`` in time order (``chronological_split``), fit a ``Scaler`` on the
    training part only, scale all three parts with it, and cut each part into windows on
    its own (``make_windows``), so that no window mixes two parts.

    Returns:
        a dict with ``"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"`` (scaled
        windows and targets, float64, shapes as ``make_windows``) and ``"scaler"`` (the
        fitted ``Scaler``). A validation part too short for one window (or empty) gives
        ``X_val`` of shape ``(0, window, F)`` and ``y_val`` of shape ``(0, horizon)``.

    Raise ``ValueError`` naming the argument for a bad ``window`` or ``horizon``, or
    ``window`` when the training or the test part is too short for one window.
    # BEGIN CONCEPT
    Windows that start in one part and end in the next would let a test target sit in a
    training window, or judge the model on inputs from the training period (guide:
    "Splitting in time and scaling"). Test windows come from the test part only.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    window = check_int("window", window, 1)
    horizon = check_int("horizon", horizon, 1)
    train, val, test = chronological_split(series, train_frac, val_frac)
    scaler = Scaler().fit(train)
    n_features = 1 if train.ndim == 1 else train.shape[1]
    data = {}
    for name, part in (("train", train), ("val", val), ("test", test)):
        if part.shape[0] >= window + horizon:
            X, y = make_windows(scaler.transform(part), window, horizon)
        elif name == "val":
            X, y = np.zeros((0, window, n_features)), np.zeros((0, horizon))
        else:
            raise ValueError(f"window: the {name} part has {part.shape[0]} steps, fewer than "
                             f"window + horizon = {window + horizon}")
        data["X_" + name], data["y_" + name] = X, y
    data["scaler"] = scaler
    return data
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 3: the baseline and the metrics
# ---------------------------------------------------------------------------------------


def naive_forecast(X, horizon):
    """The naive (persistence) forecast: every future step equals the last observed value.

    Args:
        X: windows ``(N, window, F)``.
        horizon: number of steps to forecast, ``>= 1``.

    Returns:
        float64 ``(N, horizon)``: row ``i`` repeats the last value of feature 0 in
        ``X[i]``.

    A forecaster that cannot beat this has learned nothing useful (guide: "Baselines and
    metrics").
    """
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"X must have shape (N, window, F), got {X.shape}")
    horizon = check_int("horizon", horizon, 1)
    return np.repeat(X[:, -1, :1], horizon, axis=1)
    # END SOLUTION


def _pair(y_true, y_pred):
    """Both arguments as float64 arrays of one shape with at least one value."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.size == 0:
        raise ValueError("y_true is empty")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_pred has shape {y_pred.shape}, y_true {y_true.shape}: they must "
                         "match")
    return y_true, y_pred


def mse(y_true, y_pred):
    """Mean squared error over all entries, as a float. ``ValueError`` (naming ``y_pred``)
    when the shapes differ, or (naming ``y_true``) when there is nothing to compare."""
    # BEGIN SOLUTION
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((y_true - y_pred) ** 2))
    # END SOLUTION


def rmse(y_true, y_pred):
    """Root mean squared error: the square root of ``mse``, in the units of the series."""
    # BEGIN SOLUTION
    return float(np.sqrt(mse(y_true, y_pred)))
    # END SOLUTION


def mae(y_true, y_pred):
    """Mean absolute error over all entries, as a float (same errors as ``mse``)."""
    # BEGIN SOLUTION
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))
    # END SOLUTION


def error_by_horizon(y_true, y_pred):
    """RMSE of each forecast step separately.

    Args:
        y_true, y_pred: ``(N, horizon)`` (a 1-D ``(N,)`` counts as one step).

    Returns:
        float64 ``(horizon,)``: entry ``j`` is the RMSE over the N examples of the
        forecast ``j + 1`` steps ahead. ``ValueError`` as for ``mse``.
    """
    # BEGIN SOLUTION
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    if y_true.ndim != 2:
        raise ValueError(f"y_true must have shape (N, horizon), got {y_true.shape}")
    return np.sqrt(np.mean((y_true - y_pred) ** 2, axis=0))
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 4: a many-to-one RNN regressor
# ---------------------------------------------------------------------------------------


class RNNRegressor:
    """A tanh RNN that reads a window and predicts the next ``horizon`` values.

    The RNN (Exercise 1's cell) runs over the window from ``h0 = 0``; a linear head on the
    LAST hidden state gives the forecast: ``pred = h_T @ Wy + by``, ``(N, horizon)``
    (many-to-one). The loss is the mean squared error over all ``N * horizon`` predicted
    values (no factor 1/2).

    ``params`` is a dict of float64 arrays ``Wx (input_size, H)``, ``Wh (H, H)``,
    ``b (H,)``, ``Wy (H, horizon)``, ``by (horizon,)``; the constructor (given) draws them
    from ``rng`` and keeps ``rng`` as ``self.rng`` for the shuffles of ``fit``.
    """

    def __init__(self, input_size, hidden_size, horizon, rng):
        self.input_size = check_int("input_size", input_size, 1)
        self.hidden_size = check_int("hidden_size", hidden_size, 1)
        self.horizon = check_int("horizon", horizon, 1)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                             f"got {type(rng).__name__}")
        self.rng = rng
        D, H, V = self.input_size, self.hidden_size, self.horizon
        q, r = np.linalg.qr(rng.standard_normal((H, H)))
        self.params = {
            "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
            "Wh": q * np.sign(np.diag(r)),  # orthogonal: the state neither shrinks nor explodes
            "b": np.zeros(H),
            "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
            "by": np.zeros(V),
        }

    def _check_X(self, X):
        """``X`` as float64 ``(N, T, input_size)``, N >= 1 and T >= 1, or ``ValueError``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[0] < 1 or X.shape[1] < 1 or X.shape[2] != self.input_size:
            raise ValueError(f"X has shape {X.shape}, expected (N, window, input_size) with "
                             f"input_size = {self.input_size}")
        return X

    def _check_y(self, y, n):
        """``y`` as float64 ``(n, horizon)``, or ``ValueError``."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (n, self.horizon):
            raise ValueError(f"y has shape {y.shape}, expected (N, horizon) = "
                             f"({n}, {self.horizon})")
        return y

    def predict(self, X):
        """Forecasts for windows ``X (N, window, input_size)``: float64 ``(N, horizon)``.

        # BEGIN CONCEPT
        Run the RNN over each window from a zero state and read out only the last hidden
        state (guide: "Many-to-one BPTT").
        # END CONCEPT
        # BEGIN FULL
        ``h, _ = rnn_forward(X, zeros((N, H)), Wx, Wh, b)``; ``h[:, -1] @ Wy + by``.
        # END FULL
        """
        # BEGIN SOLUTION
        X = self._check_X(X)
        p = self.params
        h, _ = exercise1().rnn_forward(X, np.zeros((X.shape[0], self.hidden_size)), p["Wx"],
                                       p["Wh"], p["b"])
        return h[:, -1] @ p["Wy"] + p["by"]
        # END SOLUTION

    def loss_and_grads(self, X, y):
        """Mean squared error of ``predict(X)`` against ``y (N, horizon)``, and its gradients.

        Returns:
            ``(loss, grads)``: ``loss = mean((pred - y)**2)`` over all ``N * horizon``
            values, as a float; ``grads`` a dict with the keys and shapes of ``params``.

        # BEGIN CONCEPT
        Ideas (guide: "Many-to-one BPTT"): the loss reads only the last hidden state, so
        the gradient enters the recurrence at h_T alone, and every earlier state receives
        its gradient through the recurrent path only. Exercise 1's ``rnn_backward`` takes
        an upstream gradient on every state: which one describes this model? The loss is a
        mean over ``N * horizon`` numbers, and its gradient keeps that factor. Check
        yourself with centered differences (Exercise 1's ``eval_numerical_gradient``).
        # END CONCEPT
        # BEGIN FULL
        Forward: ``h, cache = rnn_forward(X, zeros, Wx, Wh, b)``, ``h_T = h[:, -1]``,
        ``pred = h_T @ Wy + by``, ``diff = pred - y``, ``loss = mean(diff**2)``.
        Backward: ``dpred = 2 * diff / (N * horizon)``; ``dWy = h_T.T @ dpred``,
        ``dby = dpred.sum(axis=0)``; ``dh = zeros((N, T, H))`` with
        ``dh[:, -1] = dpred @ Wy.T`` (nothing reaches the other states directly); then
        ``_, _, dWx, dWh, db = rnn_backward(dh, cache)``.
        # END FULL
        """
        # BEGIN SOLUTION
        ex1 = exercise1()
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        p = self.params
        N, T, _ = X.shape
        h, cache = ex1.rnn_forward(X, np.zeros((N, self.hidden_size)), p["Wx"], p["Wh"],
                                   p["b"])
        h_last = h[:, -1]
        diff = h_last @ p["Wy"] + p["by"] - y
        loss = float(np.mean(diff**2))
        dpred = 2.0 * diff / diff.size
        dh = np.zeros_like(h)
        dh[:, -1] = dpred @ p["Wy"].T
        _, _, dWx, dWh, db = ex1.rnn_backward(dh, cache)
        grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": h_last.T @ dpred,
                 "by": dpred.sum(axis=0)}
        return loss, grads
        # END SOLUTION

    def fit(self, X, y, epochs=100, batch_size=32, lr=0.01, clip=1.0, print_every=0):
        """Train with mini-batch Adam and global-norm clipping; returns the per-epoch losses.

        Each epoch visits every example once, in an order drawn from ``self.rng``
        (``self.rng.permutation(N)``), in mini-batches of ``batch_size`` (the last one may
        be smaller). For each batch: ``loss_and_grads``, clip the gradients to the global
        norm ``clip`` (``None``: no clipping), one Adam step with learning rate ``lr``
        (Exercise 1's ``clip_grad_norm`` and ``adam_step``; the Adam state carries over
        from batch to batch and epoch to epoch). ``self.params`` holds the trained
        parameters afterwards.

        Returns:
            a list of ``epochs`` floats: each epoch's mean training loss over its batches,
            weighted by batch size (each batch's loss measured before its update).
            ``print_every=k > 0`` prints the loss every ``k`` epochs and at the last one.
            ``epochs >= 0``: 0 leaves ``self.params`` as they were and returns ``[]``.

        Raise ``ValueError`` naming the argument for bad ``X``, ``y``, ``epochs`` (below
        0), ``batch_size``, ``lr`` or ``clip``.
        # BEGIN CONCEPT
        The shuffles come from ``self.rng``, never the global generator, so the same seed
        gives the same training run (guide: "Many-to-one BPTT").
        # END CONCEPT
        """
        # BEGIN SOLUTION
        ex1 = exercise1()
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        epochs = check_int("epochs", epochs, 0)
        batch_size = check_int("batch_size", batch_size, 1)
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be None or > 0, got {clip}")
        N = X.shape[0]
        state = None
        losses = []
        for epoch in range(1, epochs + 1):
            order = self.rng.permutation(N)
            total = 0.0
            for start in range(0, N, batch_size):
                batch = order[start:start + batch_size]
                loss, grads = self.loss_and_grads(X[batch], y[batch])
                if clip is not None:
                    grads, _ = ex1.clip_grad_norm(grads, clip)
                self.params, state = ex1.adam_step(self.params, grads, state, lr)
                total += loss * len(batch)
            losses.append(total / N)
            if print_every and (epoch % print_every == 0 or epoch == epochs):
                print(f"  epoch {epoch:4d}/{epochs}  training MSE (scaled) {losses[-1]:.4f}")
        return losses
        # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 5: forecasting further ahead by feeding predictions back
# ---------------------------------------------------------------------------------------


def recursive_forecast(predict_one, context, steps):
    """Forecast ``steps`` values with a one-step model, feeding its own predictions back.

    Args:
        predict_one: a function that takes a window shaped like ``context`` and returns
            the next value (a number, or an array holding one number).
        context: the last observed values, ``(window,)`` or ``(window, 1)``, window >= 1.
        steps: how many values to forecast, ``>= 0``.

    Returns:
        float64 ``(steps,)`` (empty for ``steps = 0``). The first value is
        ``predict_one(context)``; then the window slides at fixed length: it drops its
        oldest value and appends the prediction just made, and the next prediction is made
        from that window.

    Raise ``ValueError`` naming the argument for a ``predict_one`` that is not callable or
    does not return exactly one number, a ``context`` of another shape, or a bad ``steps``.
    Never modify ``context``; give ``predict_one`` a window it may keep.
    # BEGIN CONCEPT
    Beyond the first step no true value is known yet: the forecast can only build on what
    it predicted (guide: "Forecasting further ahead"). Errors therefore compound with the
    number of steps.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    if not callable(predict_one):
        raise ValueError(f"predict_one must be callable, got {type(predict_one).__name__}")
    window = np.array(context, dtype=np.float64)
    if window.ndim not in (1, 2) or window.shape[0] < 1 or (
            window.ndim == 2 and window.shape[1] != 1):
        raise ValueError(f"context must have shape (window,) or (window, 1), got "
                         f"{window.shape}")
    steps = check_int("steps", steps, 0)
    out = np.empty(steps)
    for k in range(steps):
        value = np.asarray(predict_one(window.copy()), dtype=np.float64)
        if value.size != 1:
            raise ValueError(f"predict_one must return one number, got shape {value.shape}")
        out[k] = value.reshape(())
        window = np.concatenate([window[1:], np.full((1,) + window.shape[1:], out[k])])
    return out
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Part 6: which window length? comparison and error analysis
# ---------------------------------------------------------------------------------------


def compare_window_lengths(series, windows, horizon=1, train_frac=0.7, val_frac=0.15,
                           hidden_size=16, epochs=60, batch_size=32, lr=0.01, clip=1.0,
                           rng=None, print_every=0):
    """Train one ``RNNRegressor`` per window length and compare it with the naive forecast.

    Args:
        series: a 1-D series ``(T,)``, in its original units.
        windows: the window lengths to try (positive integers), in the order to report.
        horizon, train_frac, val_frac: as in ``prepare_data``.
        hidden_size, epochs, batch_size, lr, clip: the model and ``fit``'s settings.
        rng: the generator for every model (``None``: ``np.random.default_rng(0)``);
            the models are built one after the other from it.
        print_every: passed to ``fit`` (0: quiet).

    Returns:
        a list with one dict per window, in the order of ``windows``::

            {"window": int, "test_rmse": float, "naive_rmse": float,
             "val_rmse": float, "n_test": int}

        ``test_rmse`` and ``naive_rmse`` are the RMSE of the RNN and of
        ``naive_forecast`` on the test windows of ``prepare_data`` (test part only),
        in the ORIGINAL units of ``series`` (undo the scaling first); ``val_rmse`` is
        the RNN's RMSE on the validation windows, same units (``nan`` when there are none);
        ``n_test`` is the number of test windows.
    # BEGIN CONCEPT
    Pick a window by its validation error, report its test error: choosing by the test
    error makes the test error optimistic (guide: "Baselines and metrics"). An RMSE is
    only meaningful in the units a reader knows.
    # END CONCEPT
    """
    # BEGIN SOLUTION
    s = as_series(series)
    if s.ndim != 1:
        raise ValueError(f"series must be 1-D (T,), got shape {s.shape}")
    windows = list(windows) if not isinstance(windows, (int, np.integer)) else None
    if not windows:
        raise ValueError("windows must be a non-empty list of window lengths")
    windows = [check_int("windows", w, 1) for w in windows]
    rng = np.random.default_rng(0) if rng is None else rng
    rows = []
    for window in windows:
        data = prepare_data(s, window, horizon, train_frac, val_frac)
        scaler = data["scaler"]
        model = RNNRegressor(1, hidden_size, horizon, rng)
        if print_every:
            print(f"window {window}:")
        model.fit(data["X_train"], data["y_train"], epochs=epochs, batch_size=batch_size,
                  lr=lr, clip=clip, print_every=print_every)
        y_test = scaler.inverse_transform(data["y_test"])
        pred = scaler.inverse_transform(model.predict(data["X_test"]))
        naive = scaler.inverse_transform(naive_forecast(data["X_test"], horizon))
        val_rmse = float("nan")
        if len(data["X_val"]):
            val_rmse = rmse(scaler.inverse_transform(data["y_val"]),
                            scaler.inverse_transform(model.predict(data["X_val"])))
        rows.append({"window": window, "test_rmse": rmse(y_test, pred),
                     "naive_rmse": rmse(y_test, naive), "val_rmse": val_rmse,
                     "n_test": int(y_test.shape[0])})
    return rows
    # END SOLUTION


def plot_window_comparison(results, path, units=""):
    """Test RMSE against window length: the RNN and the naive forecast, one line each.

    ``results`` is what ``compare_window_lengths`` returns. x: the window lengths (time
    steps); y: test RMSE in ``units`` (the series' units, e.g. ``"sunspots"``). Draw both
    as lines with markers (``ax.plot``), label them (``"RNN"``, ``"naive (last value)"``),
    add a legend, a title and axis labels that name the units; save to ``path`` and
    return the ``Figure``.

    Hint: ``from matplotlib.figure import Figure``; ``fig = Figure()``,
    ``ax = fig.subplots()``, ``ax.plot(x, y, marker="o", label=...)``, ``ax.legend()``,
    ``fig.savefig(path)``. No pyplot needed.
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    if not results:
        raise ValueError("results is empty: pass what compare_window_lengths returned")
    unit = f" ({units})" if units else " (series units)"
    windows = np.array([r["window"] for r in results], dtype=np.float64)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(windows, [r["test_rmse"] for r in results], marker="o", label="RNN")
    ax.plot(windows, [r["naive_rmse"] for r in results], marker="s", linestyle="--",
            label="naive (last value)")
    ax.set_xlabel("window length (time steps)")
    ax.set_ylabel("test RMSE" + unit)
    ax.set_title("Test error against window length")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


def plot_residuals(y_true, y_pred, path, time=None, units="", time_label="time step"):
    """Forecast and residuals over time, two panels, for the one-step-ahead forecasts.

    Args:
        y_true, y_pred: ``(N,)`` or ``(N, horizon)``; only the first column (one step
            ahead) is drawn.
        path: where to save the PNG.
        time: the time of each target, ``(N,)`` (``None``: ``0 .. N-1``).
        units: the series' units, for the y-axis labels.
        time_label: what ``time`` counts (e.g. ``"year"``), for the x-axis labels.

    Top panel: the actual values and the forecast, one line each, with a legend
    (``"actual"``, ``"forecast"``). Bottom panel: the residual ``actual - forecast`` as a
    line against ``time`` (a zero line helps the eye). Both panels get a title and axis
    labels with units. Save to ``path`` and return the ``Figure``.
    # BEGIN CONCEPT
    Residuals that drift, or grow at peaks, show what the model missed (guide: "Baselines
    and metrics").
    # END CONCEPT
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.ndim == 2:
        y_true, y_pred = y_true[:, 0], y_pred[:, 0]
    elif y_true.ndim != 1:
        raise ValueError(f"y_true must have shape (N,) or (N, horizon), got {y_true.shape}")
    t = np.arange(len(y_true), dtype=np.float64) if time is None else \
        np.asarray(time, dtype=np.float64)
    if t.shape != y_true.shape:
        raise ValueError(f"time has shape {t.shape}, expected {y_true.shape}")
    unit = f" ({units})" if units else " (series units)"
    fig = Figure(figsize=(8, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(t, y_true, label="actual", color="black")
    top.plot(t, y_pred, label="forecast", color="tab:blue")
    top.set_title("One-step-ahead forecast on the test part")
    top.set_xlabel(time_label)
    top.set_ylabel("value" + unit)
    top.legend()
    bottom.axhline(0.0, color="gray", linewidth=0.8)
    bottom.plot(t, y_true - y_pred, marker=".", color="tab:red", label="residual")
    bottom.set_title("Residuals (actual - forecast)")
    bottom.set_xlabel(time_label)
    bottom.set_ylabel("residual" + unit)
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


def plot_error_by_horizon(errors, path, units=""):
    """RMSE against forecast step, one line per forecaster.

    ``errors`` maps a label (e.g. ``"RNN (direct)"``, ``"naive"``) to an RMSE array
    ``(horizon,)`` such as ``error_by_horizon`` returns. x: steps ahead ``1 .. horizon``;
    y: RMSE in ``units``. One line with markers per entry, labelled with its key; a legend,
    a title and axis labels with units. Save to ``path`` and return the ``Figure``.
    """
    # BEGIN SOLUTION
    from matplotlib.figure import Figure

    if not errors:
        raise ValueError("errors is empty: give at least one label -> RMSE array")
    unit = f" ({units})" if units else " (series units)"
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for label, values in errors.items():
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        ax.plot(np.arange(1, len(values) + 1, dtype=np.float64), values, marker="o",
                label=str(label))
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("RMSE" + unit)
    ax.set_title("Forecast error against horizon")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return fig
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Demo (given)
# ---------------------------------------------------------------------------------------


def _demo(out_dir):
    started = time.monotonic()
    years, values = load_sunspots()
    print(f"yearly sunspot numbers {years[0]}-{years[-1]}: {len(values)} values, "
          f"mean {values.mean():.1f}, max {values.max():.1f}")

    X, y = make_windows(values, 3)
    print(f"make_windows(values, window=3): X {X.shape}, y {y.shape}; "
          f"X[0] = {X[0, :, 0]} -> y[0] = {y[0]}")
    train, val, test = chronological_split(values, 0.7, 0.15)
    print(f"chronological_split: train {years[0]}-{years[len(train) - 1]}, validation "
          f"{len(val)} years, test {years[-len(test)]}-{years[-1]}")
    data = prepare_data(values, 12)
    scaler = data["scaler"]
    y_test = scaler.inverse_transform(data["y_test"])
    naive = scaler.inverse_transform(naive_forecast(data["X_test"], 1))
    print(f"naive forecast on the test part (window 12): RMSE {rmse(y_test, naive):.1f}, "
          f"MAE {mae(y_test, naive):.1f} sunspots")

    synthetic = make_synthetic_series(400, np.random.default_rng(0), noise=0.05)
    row = compare_window_lengths(synthetic, (8,), epochs=40, rng=np.random.default_rng(0))[0]
    print(f"first a synthetic series (two sines, a trend, noise 0.05), window 8: test RMSE "
          f"{row['test_rmse']:.3f} for the RNN against {row['naive_rmse']:.3f} for the naive "
          "forecast")

    windows = (3, 6, 12, 24)
    print(f"\ntraining one RNN per window length {windows} (hidden 16, 150 epochs):")
    rows = compare_window_lengths(values, windows, hidden_size=16, epochs=150,
                                  rng=np.random.default_rng(0))
    print(f"\n{'window':>6}  {'val RMSE':>9}  {'test RMSE':>9}  {'naive':>7}  RNN vs naive")
    for r in rows:
        change = 100 * (r["test_rmse"] / r["naive_rmse"] - 1)
        print(f"{r['window']:>6}  {r['val_rmse']:>9.1f}  {r['test_rmse']:>9.1f}  "
              f"{r['naive_rmse']:>7.1f}  {change:+.0f}% ({r['n_test']} test windows)")
    best = min(rows, key=lambda r: r["val_rmse"])
    print(f"chosen by validation RMSE: window {best['window']}; on the test part the RNN's "
          f"RMSE is {best['test_rmse']:.1f} against {best['naive_rmse']:.1f} for the naive "
          f"forecast ({100 * (1 - best['test_rmse'] / best['naive_rmse']):.0f}% lower)")

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "window_comparison.png"
    plot_window_comparison(rows, path, units="sunspots")
    print("saved", path)

    # Error analysis with the chosen window: one-step residuals, then error per horizon
    # for a direct multi-output model, the one-step model fed back, and the naive forecast.
    window, horizon = best["window"], 6
    print(f"\nerror analysis, window {window}: a one-step model and a {horizon}-step model")
    rng = np.random.default_rng(1)
    one = prepare_data(values, window, 1)
    model1 = RNNRegressor(1, 16, 1, rng)
    model1.fit(one["X_train"], one["y_train"], epochs=150)
    scaler = one["scaler"]
    start = len(values) - len(test)
    target_years = years[start + window:]
    path = out_dir / "residuals.png"
    plot_residuals(scaler.inverse_transform(one["y_test"]),
                   scaler.inverse_transform(model1.predict(one["X_test"])), path,
                   time=target_years, units="sunspots", time_label="year")
    print("saved", path)

    multi = prepare_data(values, window, horizon)
    model_h = RNNRegressor(1, 16, horizon, rng)
    model_h.fit(multi["X_train"], multi["y_train"], epochs=150)
    y_true = scaler.inverse_transform(multi["y_test"])
    direct = scaler.inverse_transform(model_h.predict(multi["X_test"]))
    fed_back = scaler.inverse_transform(np.stack([
        recursive_forecast(lambda w: model1.predict(w[None])[0, 0], x, horizon)
        for x in multi["X_test"]]))
    naive = scaler.inverse_transform(naive_forecast(multi["X_test"], horizon))
    errors = {"RNN, direct": error_by_horizon(y_true, direct),
              "RNN, one step fed back": error_by_horizon(y_true, fed_back),
              "naive (last value)": error_by_horizon(y_true, naive)}
    for label, e in errors.items():
        print(f"  {label:<24} RMSE by step: " + " ".join(f"{v:5.1f}" for v in e))
    path = out_dir / "error_by_horizon.png"
    plot_error_by_horizon(errors, path, units="sunspots")
    print("saved", path)
    print(f"done in {time.monotonic() - started:.0f} s")


def main(argv=None):
    """Run the demo; an unimplemented function ends it with one line instead of a traceback.

    Figures go to ``figures/`` in the current folder, or to ``--out DIR``.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Exercise 2 demo")
    parser.add_argument("--out", type=Path, default=Path("figures"),
                        help="folder for the figures (default: ./figures)")
    args = parser.parse_args(argv)
    try:
        _demo(args.out)
    except NotImplementedError as exc:
        name = exc.args[0] if exc.args else "a function"
        here = Path(__file__).resolve()
        where = here.relative_to(here.parent.parent)
        print(
            f"not implemented yet: {name}  (implement it in {where}; run `make check` to test it)"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
