"""The boundary for Exercise 2's objects and callables.

A model or a scaler the student's code builds stays in the student process; the tests
read its attributes and call its methods through a handle, and every such read and call
runs there. A predictor the tests hand to `recursive_forecast` crosses as plain data and
is rebuilt in the student process from its own copy of tests/public/predictors.py: the
student's code never receives grader code, and the grader never runs student code.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from autograder.sandbox.client import Handle, Limits, RemoteLoader, StudentCodeError, stage
from tests.public.predictors import LinearPredictor, from_plain

FILE = "ex_02_time_series_prediction.py"


@pytest.fixture
def student(tmp_path):
    """student(source) -> RemoteModule running `source` as the student's Exercise 2."""
    loaders = []

    def make(source: str):
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        (src / FILE).write_text(textwrap.dedent(source))
        staging = stage({FILE: src / FILE}, tmp_path / f"staging{len(loaders)}", None,
                        Limits())
        loader = RemoteLoader(staging, Limits())
        loaders.append(loader)
        return loader.module("ex02")

    yield make
    for loader in loaders:
        loader.close()


MODEL = """
    import os, time
    import numpy as np

    class Model:
        def __init__(self, n):
            self.params = {"w": np.arange(float(n))}
            self.pid = os.getpid()
            self._secret = "no"
        def fit(self, X, scale=1.0):
            self.params = {"w": self.params["w"] + scale * np.asarray(X).sum()}
            return [1.0, 0.5]
        def slow(self, seconds):
            time.sleep(seconds)
            return seconds
        def same(self):
            return self

    def pid():
        return os.getpid()
"""


def test_attributes_and_methods_of_a_student_object_run_in_its_process(student):
    m = student(MODEL)
    model = m.Model(3)
    assert isinstance(model, Handle) and "Model" in repr(model)
    np.testing.assert_array_equal(model.params["w"], [0.0, 1.0, 2.0])
    assert model.fit(np.ones(2), scale=2.0) == [1.0, 0.5]
    np.testing.assert_array_equal(model.params["w"], [4.0, 5.0, 6.0])  # the state lives there
    assert model.pid == m.pid() != __import__("os").getpid()
    again = model.same()  # the object itself comes back as a handle to the same object
    np.testing.assert_array_equal(again.params["w"], [4.0, 5.0, 6.0])


def test_setting_an_attribute_sets_it_on_the_student_object(student):
    """`model.params = {...}` reaches the object its methods use, as in one process (a
    hidden test sets parameters this way)."""
    model = student(MODEL).Model(2)
    model.params = {"w": np.array([10.0, 20.0])}
    assert model.fit(np.ones(1)) == [1.0, 0.5]
    np.testing.assert_array_equal(model.params["w"], [11.0, 21.0])
    with pytest.raises(AttributeError):
        model._secret = "yes"  # private names are not set there either


def test_private_and_missing_attributes_are_refused(student):
    model = student(MODEL).Model(2)
    with pytest.raises(AttributeError):
        model._secret  # noqa: B018 - never read in the student process
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        model.nothing  # noqa: B018 - the student process reports it missing
    assert not hasattr(model, "__array__")


def test_calls_through_a_handle_keep_the_timeout_of_the_call_that_made_it(student):
    m = student(MODEL)
    quick = m.with_timeout(1).Model(1)
    with pytest.raises(StudentCodeError, match="slow did not return within 1 s"):
        quick.slow(1.5)
    patient = m.with_timeout(6).Model(1)
    assert patient.slow(1.2) == 1.2


def test_a_test_predictor_crosses_as_plain_data_and_is_rebuilt_there(student):
    m = student("""
        import numpy as np

        def kind(predict_one):
            return type(predict_one).__module__, type(predict_one).__name__

        def forecast(predict_one, context, steps):
            window, out = np.array(context, dtype=float), []
            for _ in range(steps):
                out.append(predict_one(window.copy()))
                window = np.append(window[1:], out[-1])
            return np.array(out)
    """)
    predictor = LinearPredictor([0.5, 0.25, 0.25], 1.0, "tanh", 3.0)
    assert m.kind(predictor) == ("predictors", "LinearPredictor")
    context = np.array([1.0, -2.0, 0.5])
    window, want = context.copy(), []
    for _ in range(4):
        want.append(predictor(window))
        window = np.append(window[1:], want[-1])
    np.testing.assert_array_equal(m.forecast(predictor, context, 4), want)


def test_predictor_descriptions_are_checked_before_use():
    good = LinearPredictor(np.ones((2, 1)), 0.5, "none", 2.0).to_plain()
    assert from_plain(good)(np.array([[1.0], [2.0]])) == 7.0
    for bad in ({**good, "squash": "exec"}, {**good, "shape": [3]}, {**good, "bias": "1"},
                {**good, "extra": 1}, [1, 2], {**good, "shape": [10**9]}):
        with pytest.raises(ValueError):
            from_plain(bad)


def test_an_unknown_runtime_call_is_refused(student):
    m = student(MODEL)
    process = m._process
    with pytest.raises(StudentCodeError, match="unknown runtime call"):
        process.call("x", (), {}, 10.0, runtime="os.system")
