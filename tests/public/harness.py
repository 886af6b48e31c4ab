"""What every test of the assignment shares: which file is which exercise, how a student
module is loaded for `make check`, the rubric read off the tests, and checks whose
failure messages say what is wrong and how to look for it.

This file ships to students with the public tests. The grader (not shipped) replaces the
in-process loader with one that runs the student's file in a separate, untrusted process;
the tests cannot tell the difference, so `make check` and grading report the same tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np

from tests.public.misconceptions import explain

REPO = Path(__file__).resolve().parents[2]

# Exercise id -> the student file it grades. The order is the order of the rubric.
EXERCISES = {
    "ex01": "ex_01_basic_rnn.py",
    "ex02": "ex_02_time_series_prediction.py",
    "ex03": "ex_03_char_language_model.py",
    "ex04": "ex_04_rnn_pytorch.py",
}


class SubmissionError(Exception):
    """The student's file could not be used at all (missing, syntax error, import failed)."""


# ---------------------------------------------------------------------------------------
# Loading student code in-process (make check)
# ---------------------------------------------------------------------------------------


def describe_load_error(filename: str, exc: BaseException) -> str:
    """One line that says why a student file could not be imported."""
    if isinstance(exc, SyntaxError):
        return f"{filename}: SyntaxError at line {exc.lineno}: {exc.msg}"
    if isinstance(exc, NotImplementedError):
        return f"{filename}: not implemented yet: {exc} (raised while importing the file)"
    return f"{filename}: importing the file raised {type(exc).__name__}: {exc}"


class LocalModule:
    """A student module imported into this process. Attribute access returns the
    student's functions unchanged; `with_timeout` exists so tests read the same in
    both modes (here pytest-timeout is the only limit)."""

    def __init__(self, module):
        self._module = module

    def with_timeout(self, seconds: float) -> LocalModule:
        return self

    def __getattr__(self, name):
        try:
            return getattr(self._module, name)
        except AttributeError:
            raise AttributeError(
                f"{self._module.__name__}.py defines no '{name}': keep the names of the "
                "skeleton (see its docstrings)"
            ) from None


def load_in_process(exid: str, impl_dir: Path) -> LocalModule:
    """Import `impl_dir/<file of exid>` under a private module name."""
    filename = EXERCISES[exid]
    path = Path(impl_dir) / filename
    if not path.is_file():
        raise SubmissionError(f"{filename} not found in {impl_dir}")
    # The file's own folder goes first on sys.path so that exercises can import each other.
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - SystemExit in student code is a load error too
        sys.modules.pop(name, None)
        raise SubmissionError(describe_load_error(filename, exc)) from None
    return LocalModule(module)


# ---------------------------------------------------------------------------------------
# The rubric, read off the tests themselves
# ---------------------------------------------------------------------------------------


def exercise_of(nodeid: str) -> str:
    """`tests/public/test_ex01_step.py::test_x` -> `ex01`."""
    match = re.search(r"test_(ex0\d)", nodeid)
    if not match:
        raise ValueError(f"test {nodeid} is not in a test_exNN_*.py file")
    return match.group(1)


def rubric_entry(item) -> dict:
    """Name, points and visibility of one collected test: what results.json and the
    `make check` table both print."""
    marker = item.get_closest_marker("points")
    if marker is None or not marker.args:
        raise ValueError(f"{item.nodeid} has no @pytest.mark.points(n)")
    doc = (item.function.__doc__ or "").strip().splitlines()
    if not doc:
        raise ValueError(f"{item.nodeid} has no docstring: its first line names the test")
    hidden = "/hidden/" in item.nodeid.replace("\\", "/")
    return {
        "nodeid": item.nodeid,
        "exercise": exercise_of(item.nodeid),
        "name": f"{exercise_of(item.nodeid)} {doc[0]}",
        "points": float(marker.args[0]),
        "visibility": "after_published" if hidden else "visible",
    }


# ---------------------------------------------------------------------------------------
# Checks with messages that teach
# ---------------------------------------------------------------------------------------


def check_array(got, expected_shape, *, what: str, dtype=np.float64) -> np.ndarray:
    """Type, then dtype, then shape, then finiteness: the order in which to fix things."""
    if not isinstance(got, np.ndarray):
        kind = getattr(got, "type_name", None) or type(got).__name__
        raise AssertionError(
            f"{what}: expected a numpy array, got {kind}. "
            "Return np.ndarray (not a list, tuple or scalar)."
        )
    if dtype is not None and got.dtype != dtype:
        hint = ""
        if got.dtype == np.float32:
            hint = explain("float32-precision")
        elif np.issubdtype(got.dtype, np.integer):
            hint = " Integer arrays truncate: start from float arrays (e.g. np.zeros(shape))."
        raise AssertionError(f"{what}: dtype {got.dtype}, expected {np.dtype(dtype)}.{hint}")
    if tuple(got.shape) != tuple(expected_shape):
        raise AssertionError(
            f"{what}: shape {tuple(got.shape)}, expected {tuple(expected_shape)}."
            + _shape_hint(tuple(got.shape), tuple(expected_shape))
        )
    if np.issubdtype(got.dtype, np.floating) and not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        raise AssertionError(f"{what}: non-finite value {got[bad]} at index {bad}.")
    return got


def _shape_hint(got: tuple, want: tuple) -> str:
    if sorted(got) == sorted(want):
        return " Same sizes in another order: axes swapped, or a product oriented the wrong way?"
    if len(got) != len(want):
        return " Wrong number of dimensions: did you sum over or drop an axis you should keep?"
    return ""


def assert_close(got, expected, *, what: str, atol=1e-8, rtol=1e-6, hint="", reveal=True):
    """Compare values after checking type, dtype and shape; on failure say where the worst
    entry is and, in public tests (`reveal`), how far off it is and both values there.
    Hidden tests say no numbers: a student returning zeros would read off the answer."""
    expected = np.asarray(expected)
    got = check_array(got, expected.shape, what=what, dtype=expected.dtype)
    err = np.abs(got - expected)
    tol = atol + rtol * np.abs(expected)
    if np.all(err <= tol):
        return
    hint = " " + hint.strip() if hint else ""
    if err.ndim == 0:
        detail = (f"yours {got[()]:.10g}, expected {expected[()]:.10g}" if reveal
                  else "it differs from the expected value")
        raise AssertionError(f"{what}: {detail}.{hint}")
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    where = f"at index {tuple(int(i) for i in worst)}"
    n_bad = int(np.sum(err > tol))
    detail = (f"; the worst is {where}: yours {got[worst]:.6g}, expected {expected[worst]:.6g}"
              if reveal else f"; the worst is {where}")
    raise AssertionError(f"{what}: {n_bad} of {err.size} entries differ{detail}.{hint}")


def rel_error(x, y) -> float:
    """max |x-y| / max(1e-8, |x|+|y|): the gradient-check measure."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def assert_grad(got, numeric, *, what: str, tol=1e-7, hint=""):
    """Check an analytic gradient against centered differences (float64)."""
    numeric = np.asarray(numeric)
    got = check_array(got, numeric.shape, what=what)
    err = rel_error(got, numeric)
    if err > tol:
        worst = np.unravel_index(np.argmax(np.abs(got - numeric)), got.shape)
        raise AssertionError(
            f"{what}: relative error {err:.2e} against centered differences "
            f"(a correct gradient gives < {tol:.0e}); worst entry at index "
            f"{tuple(int(i) for i in worst)}: yours {got[worst]:.6g}, numerical "
            f"{numeric[worst]:.6g}.{' ' + hint if hint else ''}"
        )


def numerical_gradient(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered differences of sum(f(x) * df) with respect to x; x is restored."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(f(x) * df)
        x[i] = old - h
        minus = np.sum(f(x) * df)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def assert_png(path, *, what: str, min_bytes=2_000, max_bytes=20_000_000, min_side=100,
               max_side=8_000, max_pixels=16_000_000):
    """A plot file exists and is a real PNG of plausible size with a picture in it (its
    header is checked before the image is decoded, so no file can be a memory bomb)."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise AssertionError(f"{what}: no file at {path.name}. Save the figure to the given path.")
    size = path.stat().st_size
    if not min_bytes <= size <= max_bytes:
        raise AssertionError(f"{what}: {path.name} is {size} bytes; a plot is {min_bytes}+ bytes.")
    # Opened once, without blocking: a file swapped for a pipe after the checks above can
    # neither make this wait nor be decoded instead of the file that was checked.
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as fh:
        head = fh.read(24) or b""
        if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
            raise AssertionError(
                f"{what}: {path.name} is not a PNG. Use fig.savefig(path) with .png.")
        width, height = struct.unpack(">II", head[16:24])
        if not min_side <= min(width, height) <= max(width, height) <= max_side \
                or width * height > max_pixels:
            raise AssertionError(f"{what}: the image is {width}x{height} pixels; a readable "
                                 f"plot is {min_side} to {max_side} pixels a side and at "
                                 f"most {max_pixels:,} pixels in all.")
        from PIL import Image  # installed with matplotlib

        fh.seek(0)
        try:
            with Image.open(fh) as image:
                pixels = np.asarray(image.convert("L"))
        except Exception as exc:  # noqa: BLE001 - any decoding failure means: not a real PNG
            raise AssertionError(
                f"{what}: {path.name} cannot be decoded as an image ({exc}).") from None
    if len(np.unique(pixels)) < 3:
        raise AssertionError(f"{what}: the image is blank. Draw the plot before saving it.")


def figure_info(returned, *, what: str) -> dict:
    """The plain summary of the Figure a plot function returned (tests/public/figures.py),
    whether the function ran here or in the grader's student process."""
    from tests.public.figures import is_figure, summary

    if is_figure(returned):
        return summary(returned)
    if isinstance(returned, dict) and returned.get("kind") == "figure" \
            and isinstance(returned.get("axes"), list):
        return returned
    kind = getattr(returned, "type_name", None) or type(returned).__name__
    raise AssertionError(f"{what}: return the matplotlib Figure you drew (and saved); got "
                         f"{kind}.")


def check_labels(ax: dict, *, what: str, legend: int = 0, colorbar: bool = False) -> None:
    """What a reader needs: a title, both axis labels, and a legend naming `legend` series
    or a colour bar."""
    for key, name in (("title", "title"), ("xlabel", "x-axis label"),
                      ("ylabel", "y-axis label")):
        if not str(ax.get(key, "")).strip():
            raise AssertionError(f"{what}: the plot has no {name}; a reader must know what "
                                 "is shown.")
    if legend and len(ax.get("legend", [])) < legend:
        raise AssertionError(f"{what}: the legend names {len(ax.get('legend', []))} series; "
                             f"the plot has {legend}: label each one and call legend().")
    if colorbar and not ax.get("colorbar"):
        raise AssertionError(f"{what}: add a colour bar, so a reader can map colours to "
                             "values.")


# ---------------------------------------------------------------------------------------
# Saved values (fixtures/<exercise>.npz), and Exercise 1 under a later exercise
# ---------------------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
_fixtures: dict = {}


def saved_arrays(exid: str) -> dict[str, np.ndarray]:
    """Every saved array of fixtures/<exid>.npz, by name (the file is loaded on first use)."""
    if exid not in _fixtures:
        with np.load(FIXTURES / f"{exid}.npz", allow_pickle=False) as data:
            _fixtures[exid] = {k: data[k] for k in data.files}
    return _fixtures[exid]


def saved_array(exid: str, name: str) -> np.ndarray:
    """The saved array `name` of fixtures/<exid>.npz."""
    return saved_arrays(exid)[name]


def first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def not_implemented_name(exc) -> str | None:
    """The function a NotImplementedError (here, or from the grader's student process)
    names, if it is one."""
    text = str(exc)
    match = re.search(r"not implemented yet: (\w+)", text)
    if match:
        return match.group(1)
    if isinstance(exc, NotImplementedError):
        return text.strip().split()[0] if text.strip() else "?"
    return None


def raised(exc, current) -> str:
    """The sentence for an Exercise 1 function `current` that raised `exc`."""
    name = not_implemented_name(exc)
    return f"{name} is not implemented yet" if name else f"{current} raised {first_line(exc)}"


def exercise1_problem(request, checks) -> str:
    """'' when the student's Exercise 1 passes `checks(ex01)` (which returns '' or a
    sentence naming what is wrong); otherwise that sentence, or why it could not be used."""
    try:
        ex01 = request.getfixturevalue("ex01")
    except Exception as exc:  # noqa: BLE001 - missing file, syntax error, import error
        return f"ex_01_basic_rnn.py could not be used ({first_line(exc)})"
    return checks(ex01)


def optimizer_problem(ex01) -> str:
    """'' when Exercise 1's clip_grad_norm and adam_step pass a small check; otherwise a
    sentence naming the first that does not (or what it raised)."""
    current = "clip_grad_norm"
    try:
        clipped, norm = ex01.clip_grad_norm({"a": np.array([3.0, 0.0]),
                                             "b": np.array([[4.0]])}, 1.0)
        if not (np.isclose(float(norm), 5.0) and isinstance(clipped, dict)
                and same(clipped.get("a"), [0.6, 0.0], 1e-9)
                and same(clipped.get("b"), [[0.8]], 1e-9)):
            return "clip_grad_norm does not rescale by the global norm"
        current = "adam_step"
        p = {"w": np.array([1.0, -2.0])}
        new, _ = ex01.adam_step(p, {"w": np.array([0.5, -3.0])}, None, 0.1)
        if not (isinstance(new, dict) and same(new.get("w"), [0.9, -1.9], 1e-6)):
            return "adam_step's first step is wrong"
    except Exception as exc:  # noqa: BLE001 - any failure there is the answer
        return raised(exc, current)
    return ""


def same(a, b, tol=1e-10) -> bool:
    """`a` is an array of b's shape, equal to it within `tol` (relative and absolute)."""
    return isinstance(a, np.ndarray) and a.shape == np.shape(b) and np.allclose(
        a, b, rtol=tol, atol=tol)


@contextlib.contextmanager
def exercise1_first(request, what, checks, functions, runner, mid):
    """Run a test that runs Exercise 1's code; if it fails while Exercise 1 is wrong
    (exercise1_problem(request, checks) names how), say so first. `functions`: the
    Exercise 1 functions it builds on; `runner` runs them ("This exercise"); `mid`: the
    misconception to explain."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - AssertionError and the student's own errors
        missing = not_implemented_name(exc)
        if missing and missing not in functions:
            raise  # this exercise's own function is missing: that message is the right one
        problem = exercise1_problem(request, checks)
        if not problem:
            raise
        raise AssertionError(
            f"{what}: fails, and the cause is in Exercise 1: {problem}. {runner} runs "
            "your Exercise 1 (or should work like it): make the Exercise 1 tests pass first "
            f"(make check T=tests/public/test_ex01_basic_rnn.py). The failure here: "
            f"{first_line(exc)}{explain(mid)}") from None


def unpack(result, names, fn):
    """A function that returns several things must return a tuple of that length."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = (f"a {type(result).__name__} of length {len(result)}"
               if isinstance(result, (tuple, list)) else type(result).__name__)
        raise AssertionError(f"{fn} must return a tuple ({', '.join(names)}); got {got}.")
    return tuple(result)


def scalar(value, what) -> float:
    """A loss, norm or metric: a Python/NumPy float (or 0-d array), finite."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
        value = value.reshape(())[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise AssertionError(f"{what}: expected a float, got {type(value).__name__}. "
                             "Return float(...) of the scalar.")
    value = float(value)
    if not np.isfinite(value):
        raise AssertionError(f"{what}: got {value}; it must be finite.")
    return value


def close_scalar(got, expected, *, what, hint="", atol=1e-10, rtol=1e-8):
    """Compare a scalar result after checking it is a finite float; returns it."""
    value = scalar(got, what)
    assert_close(np.asarray(value), np.asarray(float(expected)), what=what, atol=atol,
                 rtol=rtol, hint=hint)
    return value


def message_of(exc: BaseException) -> str:
    """What the exception itself says. Graded, your exception comes back from the
    grader's student process with the lines of your code where it was raised appended
    (for your feedback); checks of the message read only the message, as here."""
    own = getattr(exc, "own_message", None)
    if type(exc).__module__ == "autograder.sandbox.client" and isinstance(own, str):
        return own
    return str(exc)


def kind_of(exc: BaseException) -> str:
    """The exception's type as your code named it. Graded, a builtin error comes back from
    the grader's student process as a class named Student<type> (still that type)."""
    name = type(exc).__name__
    if type(exc).__module__ == "autograder.sandbox.client" and name != "StudentCodeError":
        return name.removeprefix("Student")
    return name


def names(text: str, name: str) -> bool:
    """`text` names `name` as a word (same case): `x` is not found in `max_len`."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def raises_naming(call, name, what):
    """`call()` must raise a ValueError whose message names `name` (as a word, same case)."""
    try:
        call()
    except ValueError as exc:
        if not names(message_of(exc), name):
            raise AssertionError(f"{what}: the ValueError must name the argument {name!r}; "
                                 f"its message was {message_of(exc)[:120]!r}.") from None
        return
    except NotImplementedError:
        raise  # not written yet: that message, not one about error handling
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        raise AssertionError(f"{what}: raised {kind_of(exc)}; raise a ValueError "
                             f"naming {name!r}.") from None
    raise AssertionError(f"{what}: returned normally; raise a ValueError naming {name!r}.")


def raises_value_error(call, what, instead="raise a ValueError.", silent="raise a ValueError.",
                       returned="returned normally"):
    """`call()` must raise ValueError, where the docstring names no argument for the case.
    `instead` ends the message when another error came, `silent` when none did (after
    `returned`, which says that none did)."""
    try:
        call()
    except ValueError:
        return
    except NotImplementedError:
        raise  # not written yet: that message, not one about error handling
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        raise AssertionError(f"{what}: raised {kind_of(exc)}; {instead}") from None
    raise AssertionError(f"{what}: {returned}; {silent}")
