"""The course policy EXERCISE1_POLICY (issue 25 item 5): Exercises 2-4 on the reference
Exercise 1, served from a trusted process of its own, so that one Exercise 1 mistake
costs Exercise 1's points only, and no reference code enters a student process."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.sandbox import reference_ex01
from autograder.sandbox.client import Limits, RemoteLoader, stage
from tests.mutants.catalogue import reference
from tests.mutants.grading import MUTANTS

EX1, EX2 = "ex_01_basic_rnn.py", "ex_02_time_series_prediction.py"
# The student's Exercise 2 tries to read the reference through what it was given.
HOSTILE = '''
import gc, inspect, sys
import numpy as np
import ex_01_basic_rnn as ex1

def backward():
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 4, 3)), np.zeros((2, 5))
    Wx, Wh, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), np.zeros(5)
    h, cache = ex1.rnn_forward(x, h0, Wx, Wh, b)
    return ex1.rnn_backward(np.ones_like(h), cache)

def draws():
    rng = np.random.default_rng(3)
    return ex1.init_params(2, 3, 2, rng)["Wx"], rng.standard_normal(2)

def peek():
    f = ex1.rnn_forward
    texts = [inspect.getsource(f), repr(sorted(f.__globals__)), repr(f.__code__.co_consts),
             repr(sorted(sys.modules)), repr(getattr(ex1, "__file__", None))]
    texts += [repr(o.co_consts) for o in gc.get_objects() if inspect.iscode(o)]
    try:
        ex1.rnn_forward(lambda: 0, 1, 2, 3, 4)
    except TypeError as exc:
        texts.append(str(exc))
    return "\\n".join(texts)
'''


def _loader(tmp_path, policy, ex01=None, ex02=HOSTILE):
    """Exercise 2 (source `ex02`) on the student's Exercise 1 (source `ex01`, by default
    the drop_dh_next mutant) in a student process, under `policy`."""
    src = tmp_path / f"src-{policy}"
    src.mkdir()
    (src / EX1).write_text(MUTANTS["drop_dh_next"].source() if ex01 is None else ex01)
    (src / EX2).write_text(ex02)
    staging = stage({n: src / n for n in (EX1, EX2)}, tmp_path / f"staging-{policy}", None,
                    Limits())
    loader = RemoteLoader(staging, Limits(), exercise1=policy)
    loader.running = "ex02"
    return loader


def test_both_sides_serve_the_same_functions():
    """served_ex01.py runs beside wire.py in the worker: read its list, not import it."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(reference_ex01.__file__).with_name("served_ex01.py").read_text())
    served = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], "id", "") == "SERVED")
    assert served == reference_ex01.SERVED


@pytest.mark.parametrize("policy", ["own", "reference"])
def test_exercise2_runs_on_the_policy_s_exercise1(tmp_path, policy):
    """own: the student's planted bug shows in Exercise 2 (today's behaviour); reference:
    the reference's gradients, and generator arguments advance as in one process."""
    from solutions import ex_01_basic_rnn as ref

    loader = _loader(tmp_path, policy)
    try:
        got = loader.module("ex02").backward()
        rng = np.random.default_rng(0)
        x, h0 = rng.standard_normal((2, 4, 3)), np.zeros((2, 5))
        Wx, Wh, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), np.zeros(5)
        h, cache = ref.rnn_forward(x, h0, Wx, Wh, b)
        want = ref.rnn_backward(np.ones_like(h), cache)
        same = all(np.allclose(g, w) for g, w in zip(got, want, strict=True))
        assert same == (policy == "reference")
        rng = np.random.default_rng(3)
        wx, after = loader.module("ex02").draws()
        np.testing.assert_allclose(wx, ref.init_params(2, 3, 2, rng)["Wx"])
        np.testing.assert_allclose(after, rng.standard_normal(2))
        # The trusted tests of Exercise 2 that consult Exercise 1 get the policy's too.
        assert (type(loader.module("ex01")).__name__ == "LocalModule") == (policy == "reference")
    finally:
        loader.close()


def test_no_reference_code_reaches_the_student_process(tmp_path):
    """What student code can reach through the stand-in holds none of the reference's
    solution lines, its module or its file."""
    loader = _loader(tmp_path, "reference")
    try:
        seen = loader.module("ex02").peek()
    finally:
        loader.close()
    assert "channel.call" in seen  # the stand-in's own source: it forwards, nothing more
    assert "solutions" not in seen and "reference_ex01" not in seen
    body = [line.strip() for line in reference("ex01").splitlines()
            if line.strip().startswith(("dh_prev", "dWh", "h_t =", "dz ="))]
    assert body and not any(line in seen for line in body)
    assert "takes plain data" in seen


def test_grade_keeps_later_points_under_the_reference_policy(tmp_path):
    """A whole grade (Exercises 1 and 3: Exercise 3's tests run Exercise 1 through
    char_rnn_loss): the planted Exercise 1 bug costs Exercise 1 only, and results.json
    says which policy was used."""
    from autograder.grade import exercise_totals, grade

    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / EX1).write_text(MUTANTS["drop_dh_next"].source())
    (sub / "ex_03_char_language_model.py").write_text(reference("ex03"))
    res = grade(sub, exercises=("ex01", "ex03"), exercise1="reference")
    totals = exercise_totals(res["tests"])
    assert totals["ex01"][0] < 30 and totals["ex03"] == (25.0, 25.0)
    assert res["extra_data"]["exercise1_policy"] == "reference"
    assert "course policy: Exercises 2-4 were graded with the reference" in res["output"]


def test_class_reports_say_which_policy(tmp_path):
    """gradebook.csv, misconceptions.md and report.html name the policy of the grades."""
    import csv
    from pathlib import Path

    from autograder import batch
    from autograder.gradebook import write_reports
    from autograder.report_html import write_report

    def res(policy):
        return {"score": 1.0, "output": "", "extra_data": {"exercise1_policy": policy},
                "tests": [{"name": "ex01 t", "score": 1.0, "max_score": 1.0,
                           "status": "passed", "visibility": "visible", "output": "",
                           "tags": ["ex01"]}]}
    rows = [(batch.Submission(n, path=Path(n)), res("reference"), "graded") for n in "ab"]
    write_reports(rows, tmp_path)
    write_report(rows, tmp_path)
    with open(tmp_path / "gradebook.csv", encoding="utf-8") as fh:
        assert {r["exercise1_policy"] for r in csv.DictReader(fh)} == {"reference"}
    assert "Exercise 1 policy: reference" in (tmp_path / "misconceptions.md").read_text()
    assert "Exercise 1 policy: reference" in (tmp_path / "report.html").read_text()


@pytest.mark.timeout(900)
def test_a_class_graded_under_the_reference_policy(tmp_path):
    """grade-all's path (batch.grade_class) on a class of two, Exercises 1 and 2, under
    exercise1="reference": the correct student gets full marks; the one whose Exercise 1
    has drop_dh_next (Exercise 2 the reference's) loses Exercise 1's points only; the
    gradebook has one row per student and says the policy."""
    import csv

    from autograder.batch import grade_class
    from autograder.grade import exercise_totals

    subs, out = tmp_path / "subs", tmp_path / "out"
    for name, ex1 in (("ada", reference("ex01")), ("dave", MUTANTS["drop_dh_next"].source())):
        (subs / name).mkdir(parents=True)
        (subs / name / EX1).write_text(ex1)
        (subs / name / EX2).write_text(reference("ex02"))
    rows = grade_class(subs, out, progress=False, exercises=("ex01", "ex02"),
                       exercise1="reference")
    assert [how for _, _, how in rows] == ["graded", "graded"]
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        book = list(csv.DictReader(fh))
    assert [r["student"] for r in book] == ["ada", "dave"]
    ada, dave = book
    assert {r["exercise1_policy"] for r in book} == {"reference"}
    assert ada["status"] == dave["status"] == "graded", book
    # Exercises 3 and 4 are not graded (`exercises`): their points count as 0 of their most.
    totals = {sub.id: exercise_totals(res["tests"]) for sub, res, _ in rows}
    assert totals["ada"]["ex01"] == (30.0, 30.0) and totals["ada"]["ex02"] == (25.0, 25.0)
    assert totals["dave"]["ex01"][0] < 30 and totals["dave"]["ex02"] == (25.0, 25.0), totals
    assert float(ada["total"]) == 55 and float(dave["ex02"]) == 25, book
    assert float(dave["total"]) == 25 + float(dave["ex01"]) < 55, dave


TOKENS = '''
import numpy as np
import ex_01_basic_rnn as ex1

def _pair():
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 4, 3)), np.zeros((2, 5))
    Wx, Wh, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), np.zeros(5)
    return ex1.rnn_forward(x, h0, Wx, Wh, b)

def _fails(call):
    try:
        call()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"

def attempts():
    h, cache = _pair()
    first = ex1.rnn_backward(np.ones_like(h), cache)
    again = _fails(lambda: ex1.rnn_backward(np.ones_like(h), cache))
    forged = _fails(lambda: ex1.rnn_backward(np.ones_like(h), type(cache)("0" * 32)))
    read = _fails(lambda: cache[0])
    h2, cache2 = _pair()
    after = ex1.rnn_backward(np.ones_like(h2), cache2)
    return first, again, forged, read, after, repr(cache)
'''


def test_a_reused_or_forged_cache_token_fails_that_call_only(tmp_path):
    """Under the reference policy a forward's cache stays in the reference process behind
    a single-use token: a second backward with it, or a made-up token, raises a clear
    ValueError for that call; the next forward+backward pair works as before."""
    from solutions import ex_01_basic_rnn as ref

    loader = _loader(tmp_path, "reference", reference("ex01"), TOKENS)
    try:
        first, again, forged, read, after, text = loader.module("ex02").attempts()
    finally:
        loader.close()
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 4, 3)), np.zeros((2, 5))
    Wx, Wh, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), np.zeros(5)
    h, cache = ref.rnn_forward(x, h0, Wx, Wh, b)
    want = ref.rnn_backward(np.ones_like(h), cache)
    for got in (first, after):
        assert all(np.allclose(g, w) for g, w in zip(got, want, strict=True))
    for message in (again, forged):
        assert message.startswith("ValueError: rnn_backward: this cache is not held"), message
        assert "call the forward function again" in message
    assert read.startswith("TypeError:") and "pass it to the backward function" in read
    assert "held by the reference Exercise 1" in text


LONG = '''
import numpy as np
import ex_01_basic_rnn as ex1

def steps(T):
    """A loss over a long text, one step at a time, as a student's char_rnn_loss may be."""
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((T, 1, 3)), np.zeros((1, 4))
    Wx, Wh, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 4)) * 0.5, np.zeros(4)
    caches = []
    for t in range(T):
        h, cache = ex1.rnn_step_forward(x[t], h, Wx, Wh, b)
        caches.append(cache)
    dh, dWx = np.ones_like(h), np.zeros_like(Wx)
    for cache in reversed(caches):
        _, dh, dWx_t, _, _ = ex1.rnn_step_backward(dh, cache)
        dWx += dWx_t
    return dWx
'''


def test_a_loop_of_steps_longer_than_the_cache_bound_grades_as_under_own(tmp_path):
    """Step caches cross as data, as under `own`: a student's loop of more steps than the
    reference keeps caches gives the reference's gradient."""
    got = {}
    for policy in ("own", "reference"):
        loader = _loader(tmp_path, policy, reference("ex01"), LONG)
        try:
            got[policy] = loader.module("ex02").steps(reference_ex01.MAX_CACHES + 1)
        finally:
            loader.close()
    assert np.allclose(got["reference"], got["own"], rtol=1e-12, atol=1e-12)


def test_a_cache_counts_each_array_once():
    """rnn_forward's step caches all hold the same weights: counted once, so a long
    sequence is not refused as over the bound."""
    weights = np.zeros((100, 100))
    steps = [(np.zeros(10), weights) for _ in range(1000)]
    assert reference_ex01._nbytes(steps) == weights.nbytes + 1000 * 80


def test_the_reference_keeps_at_most_its_bound_of_caches():
    """Caches evicts the oldest past its count or its bytes; a token is good once."""
    def gone(caches, held):
        with pytest.raises(reference_ex01.UnknownCache, match="call the forward function"):
            caches.take(held.token)

    by_count = reference_ex01.Caches(count=2)
    a, b, c = (by_count.keep([(np.zeros(100),)]) for _ in range(3))
    gone(by_count, a)
    assert by_count.take(b.token)[0][0].shape == (100,)
    gone(by_count, b)  # used once already
    by_bytes = reference_ex01.Caches(count=10, size=2400)  # three caches of 800 bytes
    a, b, c = (by_bytes.keep({"x": np.zeros(100)}) for _ in range(3))
    d = by_bytes.keep(np.zeros(200))  # 1600 bytes: a and b go
    gone(by_bytes, a)
    gone(by_bytes, b)
    assert by_bytes.take(c.token)["x"].shape == (100,) and by_bytes.take(d.token).shape == (200,)
    assert by_bytes.bytes == 0 and not by_bytes.held
    with pytest.raises(ValueError, match="forward cache"):
        by_bytes.keep(np.zeros(1000))  # alone over the bound: that call fails
