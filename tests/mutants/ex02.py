"""Exercise 2 (time-series prediction): catalogued student mistakes and correct alternatives."""

from __future__ import annotations

from tests.mutants.catalogue import alternative, mutant

MUTANTS = [
    mutant(
        "target_inside_window",
        "ex02",
        "the target is the last value of the window",
        "index-shift",
        "window-target-inside",
        (
            "    y = s[starts + window + np.arange(horizon), 0]\n",
            "    y = s[starts + window - 1 + np.arange(horizon), 0]\n",
        ),
    ),
    mutant(
        "window_count_one_short",
        "ex02",
        "one window too few (T - window - horizon)",
        "index-shift",
        "window-count",
        ("    N = T - window - horizon + 1\n", "    N = T - window - horizon\n"),
    ),
    mutant(
        "target_one_step_late",
        "ex02",
        "targets start one step after the right one (and one window fewer so they fit)",
        "index-shift",
        "window-count",
        ("    N = T - window - horizon + 1\n", "    N = T - window - horizon\n"),
        (
            "    y = s[starts + window + np.arange(horizon), 0]\n",
            "    y = s[starts + window + 1 + np.arange(horizon), 0]\n",
        ),
    ),
    mutant(
        "windows_time_major",
        "ex02",
        "windows returned as (window, N, F)",
        "layout",
        "window-axis-order",
        (
            "    return X, y\n    # END SOLUTION\n\n\n# ----",
            "    return X.transpose(1, 0, 2), y\n    # END SOLUTION\n\n\n# ----",
        ),
    ),
    mutant(
        "shuffled_split",
        "ex02",
        "the series is shuffled before it is split",
        "window-leakage",
        "split-shuffled",
        (
            "    return s[:n_train].copy(), s[n_train:n_train + n_val].copy(), s[n_train"
            " + n_val:].copy()\n",
            "    s = s[np.random.default_rng().permutation(T)]\n"
            "    return s[:n_train].copy(), s[n_train:n_train + n_val].copy(), s[n_train"
            " + n_val:].copy()\n",
        ),
    ),
    mutant(
        "split_overlap",
        "ex02",
        "the validation part starts one step early, overlapping the training part",
        "window-leakage",
        "split-overlap",
        ("s[n_train:n_train + n_val].copy()", "s[n_train - 1:n_train + n_val].copy()"),
    ),
    mutant(
        "scaler_ddof1",
        "ex02",
        "the scaler divides by the sample standard deviation (ddof=1)",
        "reduction",
        "scaler-ddof",
        (
            "std = np.asarray(a.std(axis=axes), dtype=np.float64)",
            "std = np.asarray(a.std(axis=axes, ddof=1), dtype=np.float64)",
        ),
    ),
    mutant(
        "scaler_fit_on_all",
        "ex02",
        "the scaler is fitted on the whole series",
        "scaling-split",
        "scaler-leak",
        ("    scaler = Scaler().fit(train)\n", "    scaler = Scaler().fit(series)\n"),
    ),
    mutant(
        "scaler_refit_per_part",
        "ex02",
        "each part is scaled with its own statistics",
        "scaling-split",
        "scaler-leak",
        (
            "            X, y = make_windows(scaler.transform(part), window, horizon)\n",
            "            X, y = make_windows(Scaler().fit(part).transform(part), window,"
            " horizon)\n",
        ),
    ),
    mutant(
        "test_windows_cross_parts",
        "ex02",
        "test windows take their first inputs from the end of the validation part",
        "window-leakage",
        "windows-cross-segments",
        (
            "            X, y = make_windows(scaler.transform(part), window, horizon)\n",
            "            context = np.concatenate([val[-window:], part]) if name =="
            " 'test' else part\n"
            "            X, y = make_windows(scaler.transform(context), window, horizon)\n",
        ),
    ),
    mutant(
        "naive_first_value",
        "ex02",
        "the naive forecast repeats the first value of the window",
        "index-shift",
        "naive-last-value",
        (
            "return np.repeat(X[:, -1, :1], horizon, axis=1)",
            "return np.repeat(X[:, 0, :1], horizon, axis=1)",
        ),
    ),
    mutant(
        "readout_mean_state",
        "ex02",
        "predict reads the mean of all hidden states",
        "reduction",
        "many-to-one-readout",
        (
            '        return h[:, -1] @ p["Wy"] + p["by"]\n',
            '        return h.mean(axis=1) @ p["Wy"] + p["by"]\n',
        ),
    ),
    mutant(
        "gradient_at_every_state",
        "ex02",
        "BPTT feeds the output gradient into every hidden state (many-to-many)",
        "bptt-accumulation",
        "many-to-one-bptt",
        (
            '        dh[:, -1] = dpred @ p["Wy"].T\n',
            '        dh[:] = (dpred @ p["Wy"].T)[:, None, :]\n',
        ),
    ),
    mutant(
        "half_mse",
        "ex02",
        "the loss is half the mean squared error (and its gradient too)",
        "reduction",
        "mse-definition",
        (
            "        loss = float(np.mean(diff**2))\n",
            "        loss = float(0.5 * np.mean(diff**2))\n",
        ),
        ("        dpred = 2.0 * diff / diff.size\n", "        dpred = diff / diff.size\n"),
    ),
    mutant(
        "gradient_of_the_sum",
        "ex02",
        "the gradient is not divided by N * horizon",
        "reduction",
        "mse-grad-scale",
        ("        dpred = 2.0 * diff / diff.size\n", "        dpred = 2.0 * diff\n"),
    ),
    mutant(
        "fit_global_rng",
        "ex02",
        "the shuffles come from the global NumPy generator",
        "rng",
        "shuffle-rng",
        ("order = self.rng.permutation(N)", "order = np.random.permutation(N)"),
    ),
    mutant(
        "fit_adam_state_reset",
        "ex02",
        "every Adam step starts from a fresh state",
        "optimizer",
        None,
        (
            "self.params, state = ex1.adam_step(self.params, grads, state, lr)",
            "self.params, _ = ex1.adam_step(self.params, grads, None, lr)",
        ),
        no_id_because=("caught by how far training gets, which names no single idea"),
    ),
    mutant(
        "rmse_on_scaled_values",
        "ex02",
        "the comparison reports RMSEs on the scaled values",
        "scaling-split",
        "rmse-original-units",
        (
            '        y_test = scaler.inverse_transform(data["y_test"])\n'
            '        pred = scaler.inverse_transform(model.predict(data["X_test"]))\n'
            '        naive = scaler.inverse_transform(naive_forecast(data["X_test"], horizon))\n',
            '        y_test = data["y_test"]\n'
            '        pred = model.predict(data["X_test"])\n'
            '        naive = naive_forecast(data["X_test"], horizon)\n',
        ),
    ),
    mutant(
        "recursive_fed_observed_values",
        "ex02",
        "the recursive forecast rolls the observed window instead of feeding predictions back",
        "sampling-feedback",
        "recursive-own-predictions",
        (
            "        window = np.concatenate([window[1:], np.full((1,) +"
            " window.shape[1:], out[k])])\n",
            "        window = np.roll(window, -1, axis=0)\n",
        ),
    ),
    mutant(
        "recursive_same_context",
        "ex02",
        "every step of the recursive forecast predicts from the original context",
        "sampling-feedback",
        "recursive-own-predictions",
        (
            "        window = np.concatenate([window[1:], np.full((1,) +"
            " window.shape[1:], out[k])])\n",
            "        window = np.array(context, dtype=np.float64)\n",
        ),
    ),
    mutant(
        "error_by_horizon_pooled",
        "ex02",
        "error_by_horizon gives the RMSE over all steps at every step",
        "reduction",
        "error-per-step",
        (
            "    return np.sqrt(np.mean((y_true - y_pred) ** 2, axis=0))\n",
            "    return np.full(y_true.shape[1], np.sqrt(np.mean((y_true - y_pred) ** 2)))\n",
        ),
    ),
    mutant(
        "scaler_one_statistic",
        "ex02",
        "one mean and deviation for all features instead of one per feature",
        "reduction",
        "scaler-per-feature",
        (
            "        axes = None if a.ndim == 1 else tuple(range(a.ndim - 1))\n",
            "        axes = None\n",
        ),
    ),
]

ALTERNATIVES = [
    alternative(
        "independent_rewrite",
        "ex02",
        "written from scratch: sliding_window_view, its own RNN and Adam, a deque for "
        "recursive forecasts",
        fixture="alt_ex02",
    ),
    alternative(
        "windows_with_a_loop",
        "ex02",
        "windows and targets cut one by one in a loop",
        (
            "    X = s[starts + np.arange(window)]\n"
            "    y = s[starts + window + np.arange(horizon), 0]\n",
            "    X = np.stack([s[i:i + window] for i in range(N)])\n"
            "    y = np.stack([s[i + window:i + window + horizon, 0] for i in range(N)])\n",
        ),
    ),
    alternative(
        "split_with_np_split",
        "ex02",
        "the three parts from np.split",
        (
            "    return s[:n_train].copy(), s[n_train:n_train + n_val].copy(), "
            "s[n_train + n_val:].copy()\n",
            "    train, val, test = np.split(s, [n_train, n_train + n_val])\n"
            "    return train.copy(), val.copy(), test.copy()\n",
        ),
    ),
    alternative(
        "scaler_std_written_out",
        "ex02",
        "the standard deviation written out as the root of the mean squared deviation",
        (
            "std = np.asarray(a.std(axis=axes), dtype=np.float64)",
            "std = np.sqrt(np.mean((a - self.mean_) ** 2, axis=axes))",
        ),
    ),
    alternative(
        "split_rounds_to_nearest",
        "ex02",
        "part lengths rounded to the nearest step (the docstring accepts either rounding)",
        (
            "    n_train = int(np.floor(train_frac * T + 1e-9))\n"
            "    n_val = int(np.floor(val_frac * T + 1e-9))\n",
            "    n_train = int(round(train_frac * T))\n"
            "    n_val = int(round(val_frac * T))\n",
        ),
    ),
]
