"""`make figures`: every figure of the guide, regenerated from the reference solutions.

Runs the four exercises' demo functions (imported from `solutions/`: maintainer-side, never
shipped) with small, fixed budgets and writes each figure as a small PNG into
`guides/figures/`, the folder the guide and its gallery (`guides/figures/README.md`) link.
Everything is seeded and no budget is a time limit, so a rerun gives the same figures,
except the NumPy-vs-PyTorch timing plot, which measures this machine.

    python -m tools.figures [--out DIR] [--only NAME ...]
"""

from __future__ import annotations

import os

# One BLAS thread: small matrices are fastest that way, and sums come out in one order.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIGURES = REPO / "guides" / "figures"
DPI = 80
# No version or software stamp in the PNGs: reruns on another Matplotlib give the same bytes.
METADATA = {"Software": None}

# name -> (the figure's file, the one sentence the gallery shows under it)
GALLERY: dict[str, tuple[str, str]] = {
    "echo_training": (
        "echo_training.png",
        "Loss and accuracy on the echo task (delay 2, 4 symbols) per Adam step; "
        "the loss starts near ln 4 and falls once the network learns to hold symbols."),
    "hidden_states": (
        "hidden_states.png",
        "The hidden states of the trained echo network over one sequence, "
        "units as rows and time steps as columns."),
    "gradient_norms": (
        "gradient_norms.png",
        "The norm of the gradient on h_{T-k} against the lag k, one line per "
        "spectral radius of Wh; on a log scale rho^k is a straight line."),
    "window_comparison": (
        "window_comparison.png",
        "Test RMSE on the sunspot series against the window length, the RNN "
        "against the naive (last value) forecast."),
    "residuals": (
        "residuals.png",
        "One-step-ahead forecasts on the test years and their residuals "
        "(actual minus forecast)."),
    "error_by_horizon": (
        "error_by_horizon.png",
        "RMSE against the number of steps ahead for a direct multi-output RNN, "
        "the one-step RNN fed its own predictions, and the naive forecast."),
    "char_lm_loss": (
        "char_lm_loss.png",
        "Training loss of the NumPy character model with truncated BPTT, "
        "against the unigram baseline."),
    "temperature": (
        "temperature.png",
        "The entropy of the next-character distribution and the diversity of "
        "samples as the temperature grows."),
    "numpy_vs_torch": (
        "numpy_vs_torch.png",
        "Time of one forward and backward pass of the same float64 RNN in NumPy "
        "and in PyTorch on one CPU thread (this plot alone depends on the machine)."),
    "char_model_loss": (
        "char_model_loss.png",
        "Training and validation loss per epoch of the two-layer PyTorch "
        "character model, against the unigram and bigram baselines."),
}


TITLES = {
    "echo_training": "Exercise 1: learning the echo task",
    "hidden_states": "Exercise 1: hidden states",
    "gradient_norms": "Exercise 1: vanishing and exploding gradients",
    "window_comparison": "Exercise 2: window length",
    "residuals": "Exercise 2: forecasts and residuals",
    "error_by_horizon": "Exercise 2: error against horizon",
    "char_lm_loss": "Exercise 3: training the character model",
    "temperature": "Exercise 3: temperature, entropy and diversity",
    "numpy_vs_torch": "Exercise 4: NumPy against PyTorch",
    "char_model_loss": "Exercise 4: a two-layer character model",
}


def _solutions():
    """The reference modules, imported as the package `solutions` (ex_02 and ex_03 find
    their Exercise 1 as a sibling in it)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from solutions import ex_01_basic_rnn as ex1
    from solutions import ex_02_time_series_prediction as ex2
    from solutions import ex_03_char_language_model as ex3
    from solutions import ex_04_rnn_pytorch as ex4

    return ex1, ex2, ex3, ex4


def _save(fig, path: Path) -> None:
    """Save `fig` again, small: the solutions' plots save at their own resolution first."""
    fig.savefig(path, dpi=DPI, metadata=METADATA)


# ---------------------------------------------------------------------------------------
# One function per exercise: each writes its figures and returns their names
# ---------------------------------------------------------------------------------------


def exercise1(out: Path) -> None:
    from matplotlib.figure import Figure

    ex1, _, _, _ = _solutions()
    params, history = ex1.train_echo(num_steps=120, rng=np.random.default_rng(0),
                                     print_every=0)
    steps = np.arange(1, len(history["loss"]) + 1)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(steps, history["loss"], color="C0", label="loss (nats per position)")
    ax.axhline(np.log(4), color="C0", linestyle=":", label="ln 4: uniform guessing")
    ax.set_xlabel("training step (one fresh batch of 32 sequences)")
    ax.set_ylabel("cross-entropy (nats per position)")
    right = ax.twinx()
    right.plot(steps, history["accuracy"], color="C1", label="accuracy")
    right.set_ylabel("accuracy (fraction of unmasked positions)")
    right.set_ylim(0, 1.05)
    ax.set_title("Exercise 1: training on the echo task (delay 2, 4 symbols)")
    ax.grid(True, alpha=0.3)
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    _save(fig, out / "echo_training.png")

    x, _, _ = ex1.make_echo_data(1, 12, 4, 2, np.random.default_rng(1))
    path = out / "hidden_states.png"
    fig = ex1.plot_hidden_states(params, x, path)
    ax = fig.axes[0]
    symbols = np.argmax(x[0], axis=1)
    ax.set_xticks(np.arange(len(symbols)), [f"{t}\n{s}" for t, s in enumerate(symbols)])
    ax.set_xlabel("time step t (below it: the input symbol read at t)")
    ax.set_title("Exercise 1: hidden states h_t of the trained echo network, one sequence")
    _save(fig, path)

    norms = ex1.gradient_norm_vs_lag(rng=np.random.default_rng(0))
    path = out / "gradient_norms.png"
    fig = ex1.plot_gradient_norms(norms, path)
    fig.axes[0].set_ylabel("||dL/dh_{T-k}|| (1 at k = 0)")
    fig.axes[0].set_title("Exercise 1: gradient norm against time lag (Wh = rho Q, Q orthogonal)")
    _save(fig, path)


def exercise2(out: Path) -> None:
    _, ex2, _, _ = _solutions()
    years, values = ex2.load_sunspots()
    rows = ex2.compare_window_lengths(values, (3, 6, 12, 24), hidden_size=16, epochs=60,
                                      rng=np.random.default_rng(0))
    path = out / "window_comparison.png"
    fig = ex2.plot_window_comparison(rows, path, units="sunspots")
    fig.axes[0].set_title("Exercise 2: test error against window length (yearly sunspots)")
    fig.axes[0].set_xlabel("window length (time steps: years)")
    _save(fig, path)

    window = min(rows, key=lambda r: r["val_rmse"])["window"]
    horizon = 6
    rng = np.random.default_rng(1)
    one = ex2.prepare_data(values, window, 1)
    model1 = ex2.RNNRegressor(1, 16, 1, rng)
    model1.fit(one["X_train"], one["y_train"], epochs=60)
    scaler = one["scaler"]
    test_len = len(ex2.chronological_split(values, 0.7, 0.15)[2])
    target_years = years[len(values) - test_len + window:]
    path = out / "residuals.png"
    _save(ex2.plot_residuals(scaler.inverse_transform(one["y_test"]),
                             scaler.inverse_transform(model1.predict(one["X_test"])), path,
                             time=target_years, units="sunspots", time_label="year"), path)

    multi = ex2.prepare_data(values, window, horizon)
    model_h = ex2.RNNRegressor(1, 16, horizon, rng)
    model_h.fit(multi["X_train"], multi["y_train"], epochs=60)
    y_true = scaler.inverse_transform(multi["y_test"])
    direct = scaler.inverse_transform(model_h.predict(multi["X_test"]))
    fed_back = scaler.inverse_transform(np.stack([
        ex2.recursive_forecast(lambda w: model1.predict(w[None])[0, 0], x, horizon)
        for x in multi["X_test"]]))
    naive = scaler.inverse_transform(ex2.naive_forecast(multi["X_test"], horizon))
    errors = {"RNN, direct": ex2.error_by_horizon(y_true, direct),
              "RNN, one step fed back": ex2.error_by_horizon(y_true, fed_back),
              "naive (last value)": ex2.error_by_horizon(y_true, naive)}
    path = out / "error_by_horizon.png"
    fig = ex2.plot_error_by_horizon(errors, path, units="sunspots")
    fig.axes[0].set_xlabel("steps ahead (years)")
    fig.axes[0].set_title(f"Exercise 2: forecast error against horizon (window {window})")
    _save(fig, path)


def exercise3(out: Path) -> None:
    _, _, ex3, _ = _solutions()
    text = ex3.load_text()
    char_to_ix, _ = ex3.build_vocab(text)
    split = int(0.9 * len(text))
    train_text, val_text = text[:split], text[split:]
    train_ids = ex3.encode(train_text, char_to_ix)
    val_ids = ex3.encode(val_text, char_to_ix)
    base = ex3.unigram_loss(train_ids, val_ids[1:], len(char_to_ix))
    params, losses = ex3.train_char_lm(
        train_text, hidden_size=64, seq_len=50, batch_size=32, num_epochs=6, lr=3e-3,
        rng=np.random.default_rng(0), char_to_ix=char_to_ix)
    path = out / "char_lm_loss.png"
    fig = ex3.plot_losses(losses, path, baseline=base)
    fig.axes[0].set_xlabel("training step (one chunk: 32 streams x 50 characters)")
    fig.axes[0].set_title("Exercise 3: NumPy character model, truncated BPTT (H = 64)")
    _save(fig, path)

    rows = ex3.temperature_experiment(params, val_ids[:1000], (0.25, 0.5, 0.75, 1.0, 1.5, 2.0),
                                      1000, np.random.default_rng(1), ngram=3)
    path = out / "temperature.png"
    fig = ex3.plot_temperature_experiment(rows, path)
    left, right = fig.axes[:2]
    left.axhline(np.log(len(char_to_ix)), color="gray", linestyle=":",
                 label=f"ln V = {np.log(len(char_to_ix)):.2f} (uniform)")
    left.legend(loc="lower right")
    left.set_xlabel("temperature (dimensionless)")
    right.set_xlabel("temperature (dimensionless)")
    right.set_ylabel("distinct 3-grams / all 3-grams in 1000 characters")
    real = ex3.distinct_ngrams(val_ids[:1000], 3)
    right.axhline(real, color="gray", linestyle=":", label=f"real text: {real:.2f}")
    right.legend(loc="lower right")
    _save(fig, path)


def exercise4(out: Path) -> None:
    import torch
    from matplotlib.ticker import MaxNLocator

    ex1, _, _, ex4 = _solutions()
    torch.set_num_threads(1)
    rows = ex4.compare_numpy_torch([(8, 16, 32, 32), (32, 64, 64, 64), (32, 64, 128, 128)],
                                   repeats=3, numpy_loss=ex1.model_loss)
    path = out / "numpy_vs_torch.png"
    fig = ex4.plot_comparison(rows, path)
    fig.axes[0].set_title("Exercise 4: the same RNN in NumPy and PyTorch (float64, 1 CPU thread)")
    _save(fig, path)

    text = ex4.CORPUS.read_text(encoding="utf-8")
    _, history = ex4.train_char_model(text, hidden_size=96, epochs=6, seed=0, device="cpu",
                                      print_every=0)
    path = out / "char_model_loss.png"
    fig = ex4.plot_char_training(history, path)
    fig.axes[0].set_xlabel("epoch (one pass over the training windows)")
    fig.axes[0].set_title("Exercise 4: two-layer PyTorch character RNN (H = 96)")
    fig.axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    _save(fig, path)


EXERCISES = {"ex01": exercise1, "ex02": exercise2, "ex03": exercise3, "ex04": exercise4}


def write_gallery(out: Path) -> Path:
    """`README.md` in `out`: every figure with its sentence, one page."""
    lines = ["# Figures of the guide", "",
             "Every figure of the guide (`../rnn_guide.md`), which explains each, made from the "
             "reference solutions' demos with small, seeded budgets (maintainers regenerate "
             "them with `make figures`). Running an exercise yourself writes the same kinds of "
             "figure, from your own code, to `figures/`.", ""]
    for name, (file, sentence) in GALLERY.items():
        lines += [f"## {TITLES[name]}", "", f"![{TITLES[name]}]({file})", "", sentence, ""]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="every figure of the guide, regenerated")
    parser.add_argument("--out", type=Path, default=FIGURES, help="default: guides/figures")
    parser.add_argument("--only", nargs="*", choices=sorted(EXERCISES), default=None,
                        help="some exercises only (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for key in args.only or EXERCISES:
        t0 = time.monotonic()
        EXERCISES[key](args.out)
        print(f"{key}: {time.monotonic() - t0:.0f} s", flush=True)
    write_gallery(args.out)
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.glob("*.png"))}
    for name, size in sizes.items():
        print(f"  {name:24s} {size / 1024:6.1f} KiB")
    print(f"{len(sizes)} figures, {sum(sizes.values()) / 1024:.0f} KiB in {args.out}; "
          f"{time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
