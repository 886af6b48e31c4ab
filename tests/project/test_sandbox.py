"""The trust boundary: what student code can do to a call, and what the grader sees.

Each test stages a small hand-written student file and calls it through the same
RemoteLoader the grading run uses.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import textwrap
import threading

import numpy as np
import pytest

from autograder.sandbox.client import Limits, RemoteLoader, StudentCodeError, stage
from tests.public.harness import SubmissionError, check_array

FILE = "ex_01_basic_rnn.py"


@pytest.fixture
def student(tmp_path):
    """student(source, **limits) -> RemoteModule running `source` as ex_01_basic_rnn.py."""
    loaders = []

    def make(source: str, **limits):
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        (src / FILE).write_text(textwrap.dedent(source))
        staging = stage({FILE: src / FILE}, tmp_path / f"staging{len(loaders)}", None,
                        Limits(**limits))
        loader = RemoteLoader(staging, Limits(**limits))
        loaders.append(loader)
        return loader.module("ex01")

    yield make
    for loader in loaders:
        loader.close()


def test_values_and_nested_results_cross_as_plain_data(student):
    m = student("""
        import numpy as np
        def f(x, d):
            return x * 2, {"a": d["a"] + 1, 3.5: [np.float64(1.5), None, "s", (1, 2)]}
    """)
    y, d = m.f(np.arange(3.0), {"a": np.ones(2)})
    np.testing.assert_array_equal(y, [0.0, 2.0, 4.0])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(d["a"], [2.0, 2.0])
    assert d[3.5] == [1.5, None, "s", (1, 2)]
    assert isinstance(d[3.5][0], np.float64)


def test_objects_stay_in_the_student_process_as_handles(student):
    m = student("""
        class Cache:
            def __init__(self, v):
                self.v = v
        def fwd(x):
            return x + 1, Cache(x)
        def bwd(cache):
            return cache.v * 10
    """)
    _, cache = m.fwd(np.ones(2))
    assert "Cache" in repr(cache)
    np.testing.assert_array_equal(m.bwd(cache), [10.0, 10.0])


def test_rng_arguments_arrive_in_the_same_state(student):
    m = student("""
        def draw(rng):
            return rng.normal(size=3)
    """)
    expected = np.random.default_rng(7).normal(size=3)
    np.testing.assert_array_equal(m.draw(np.random.default_rng(7)), expected)


def test_mutated_arguments_are_copied_back_to_the_caller(student):
    m = student("""
        def f(x, grads):
            x *= 2
            grads["W"] = grads["W"] * 0
            return None
    """)
    x = np.ones(3)
    grads = {"W": np.ones(2), "b": np.ones(1)}
    b_before = grads["b"]
    m.f(x, grads)
    np.testing.assert_array_equal(x, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(grads["W"], [0.0, 0.0])
    assert grads["b"] is b_before


def test_returning_an_argument_returns_the_callers_own_object(student):
    m = student("""
        def same(grads):
            return grads, grads["W"]
    """)
    grads = {"W": np.ones(2)}
    d, w = m.same(grads)
    assert d is grads and w is grads["W"]


def test_builtin_exceptions_keep_their_type(student):
    m = student("""
        def f(max_norm):
            raise ValueError(f"max_norm must be positive, got {max_norm}")
    """)
    with pytest.raises(ValueError, match="max_norm must be positive") as info:
        m.f(-1)
    assert isinstance(info.value, StudentCodeError)
    assert "ex_01_basic_rnn.py" in str(info.value) and "line 3" in str(info.value)


def test_not_implemented_says_which_function(student):
    m = student("""
        def rnn_step_forward(x):
            raise NotImplementedError("rnn_step_forward")
    """)
    with pytest.raises(NotImplementedError, match="not implemented yet: rnn_step_forward"):
        m.rnn_step_forward(1)


def test_a_missing_function_is_named(student):
    m = student("x = 1\n")
    with pytest.raises(AttributeError, match="defines no function 'rnn_forward'"):
        m.rnn_forward()


@pytest.mark.parametrize("how", ["os._exit(0)", "sys.exit(0)", "os.kill(os.getpid(), 9)"])
def test_exiting_fails_one_call_and_the_next_call_works(student, how):
    m = student(f"""
        import os, sys
        def bad():
            {how}
        def good():
            return 42
    """)
    with pytest.raises(StudentCodeError):
        m.bad()
    assert m.good() == 42


def test_an_endless_loop_times_out_and_is_not_called_a_third_time(student):
    m = student("""
        def spin():
            while True:
                pass
        def good():
            return 1
    """)
    with pytest.raises(StudentCodeError, match="did not return within 1 s"):
        m.with_timeout(1).spin()
    assert m.good() == 1
    with pytest.raises(StudentCodeError, match="did not return"):
        m.with_timeout(0.5).spin()
    with pytest.raises(StudentCodeError, match="past its time limit twice"):
        m.spin()  # a function that timed out twice is not called again
    assert m.good() == 1


def test_a_handle_from_a_crashed_process_is_refused(student):
    m = student("""
        import os
        def make():
            return object()
        def crash():
            os._exit(3)
        def use(h):
            return 1
    """)
    handle = m.make()
    with pytest.raises(StudentCodeError, match="exit code 3"):
        m.crash()
    with pytest.raises(StudentCodeError, match="restarted"):
        m.use(handle)


def test_memory_is_limited(student):
    m = student("""
        import numpy as np
        def hog():
            return np.ones((1024, 1024, 1024)).sum()
    """, memory_mb=800)
    with pytest.raises(StudentCodeError, match="used more than 800 MB of memory"):
        m.hog()


def test_output_floods_are_bounded(student):
    m = student("""
        def spam():
            while True:
                print("x" * 10000)
    """, file_mb=1)
    with pytest.raises(StudentCodeError) as info:
        m.spam()
    assert len(str(info.value)) < 4000


def test_an_object_equal_to_everything_is_not_an_array(student):
    m = student("""
        class Liar:
            def __eq__(self, other):
                return True
            shape = (2, 5)
            dtype = "float64"
        def f():
            return Liar()
    """)
    got = m.f()
    with pytest.raises(AssertionError, match="expected a numpy array, got .*Liar"):
        check_array(got, (2, 5), what="f")


def test_patching_numpy_in_the_student_process_does_not_reach_the_grader(student):
    m = student("""
        import numpy as np
        import numpy.testing
        np.allclose = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        def f():
            return np.zeros(2)
    """)
    m.f()
    assert not np.allclose(np.zeros(2), np.ones(2))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(np.zeros(2), np.ones(2))


@pytest.mark.parametrize("source, message", [
    ("def f(:\n    pass\n", "SyntaxError at line 1"),
    ("import no_such_module_xyz\n", "ModuleNotFoundError"),
    ("import os\nos._exit(0)\n", "exited while importing"),
    ("raise SystemExit(2)\n", "SystemExit"),
])
def test_a_file_that_cannot_load_fails_with_a_reason(student, source, message):
    with pytest.raises(SubmissionError, match=message):
        student(source)


def test_only_the_student_folder_is_importable(student, tmp_path):
    m = student("""
        import sys
        def paths():
            return [p for p in sys.path]
    """)
    paths = m.paths()
    assert not any(p.rstrip("/").endswith(("work/main", "tests", "solutions")) for p in paths)
    assert paths[0].endswith("submission")


def test_dicts_keyed_by_numpy_scalars_cross_as_data(student):
    m = student("""
        import numpy as np
        def norms():
            return {rho: np.ones(2) * rho for rho in np.array([0.5, 1.5])}
    """)
    got = m.norms()
    assert isinstance(got, dict)
    np.testing.assert_array_equal(got[0.5], [0.5, 0.5])


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_as_root_student_code_runs_as_the_student_user(tmp_path):
    limits = Limits(user="nobody", file_mb=1, level="user")
    staging = stage({}, tmp_path / "staging", None, limits)
    proc = subprocess.run(["sh", "-c", "id -u; ulimit -f; touch scratch/ok; touch logs/no"],
                          cwd=staging, preexec_fn=limits.preexec(), capture_output=True,
                          text=True)
    uid, blocks = proc.stdout.split()[:2]
    assert int(uid) == pwd.getpwnam("nobody").pw_uid
    assert int(blocks) * 512 <= 2**20  # the file-size limit (sh counts 512-byte blocks)
    assert (staging / "scratch" / "ok").exists() and not (staging / "logs" / "no").exists()


def test_a_file_that_keeps_hanging_stops_being_called(tmp_path):
    src = tmp_path / FILE
    src.write_text("".join(f"def spin{i}():\n    while True:\n        pass\n" for i in range(4)))
    limits = Limits()
    staging = stage({FILE: src}, tmp_path / "staging", None, limits)
    loader = RemoteLoader(staging, limits)
    m = loader.module("ex01")
    loader.processes["ex01"].budget_left = 2.0
    messages = []
    try:
        for i in range(4):
            with pytest.raises(StudentCodeError) as info:
                getattr(m.with_timeout(1), f"spin{i}")()
            messages.append(str(info.value))
        assert "within 1 s" in messages[0]
        assert "used up their time budget" in messages[-1]
    finally:
        loader.close()


def test_an_array_of_python_objects_is_named_as_such(student):
    m = student("""
        import numpy as np
        def f():
            return np.array([1.0, None], dtype=object)
    """)
    with pytest.raises(AssertionError, match="got ndarray of dtype object"):
        check_array(m.f(), (2,), what="f")


def test_compressed_or_mislabelled_answers_are_refused():
    """A small message must not unpack into a large array in the grader."""
    import io
    import json
    import struct
    import zipfile

    from autograder.sandbox import wire

    def message(body: bytes) -> int:
        head = json.dumps({"ok": True}).encode()
        data = struct.pack("<Q", len(head)) + head + struct.pack("<Q", len(body)) + body
        r, w = os.pipe()
        os.write(w, data)
        os.close(w)
        return r

    buf = io.BytesIO()
    np.savez_compressed(buf, a0=np.zeros(10**6))
    with pytest.raises(wire.WireError, match="unexpected member"):
        wire.read_message(message(buf.getvalue()))
    refused = "not a header np.save writes|dtype"
    for descr, shape, message_part in [
        ("<f8", (999_999,), "does not match its header"),  # promises more than there is
        ("|V0", (10**18,), refused),  # zero-sized items: any shape matches 0 bytes
        ([("a", "<f8")], (4,), refused),  # structured
        ("|O", (4,), refused),  # Python objects
        ("<M8[s]", (4,), refused),  # dates
    ]:
        npy = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            npy, {"descr": descr, "fortran_order": False, "shape": shape})
        npy.write(bytes(32))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a0.npy", npy.getvalue())
        with pytest.raises(wire.WireError, match=message_part):
            wire.read_message(message(buf.getvalue()))


def test_references_to_arguments_cannot_index_into_arrays():
    from autograder.sandbox import wire
    from autograder.sandbox.client import _at

    root = [[np.zeros((3, 3))], {}]
    assert _at(root, [["i", 0], ["i", 0]]) is root[0][0]
    for path in ([["i", 0], ["i", 0], ["i", 1]], [["i", 0], ["i", [0, 0]]], [["k", "x"]]):
        with pytest.raises(wire.WireError):
            _at(root, path)


def test_files_written_past_the_scratch_quota_fail_the_call(student):
    m = student("""
        def fill():
            for i in range(3):
                with open(f"scratch/junk{i}", "wb") as fh:
                    fh.write(b"x" * 600_000)
            return 1
        def good():
            return 2
    """, scratch_mb=1)
    with pytest.raises(StudentCodeError, match="MB of files"):
        m.fill()
    assert m.good() == 2


def test_plain_data_subclasses_and_zero_d_arrays_cross_as_in_one_process(student):
    """namedtuple, OrderedDict, list subclasses and 0-d arrays come back as the plain data
    they are (not handles), and a 0-d argument changed in place is copied back."""
    m = student("""
        import collections
        import numpy as np
        Pair = collections.namedtuple("Pair", "loss grads")
        class Losses(list):
            pass
        def f():
            return Pair(np.array(2.5), collections.OrderedDict(W=np.ones(2))), Losses([1.0])
        def scale(x):
            x *= 3
        def floats(n):
            return [float(i) / 3 for i in range(n)], [np.float32(i) for i in range(n)]
    """)
    (loss, grads), losses = m.f()
    assert loss.shape == () and loss.dtype == np.float64 and float(loss) == 2.5
    assert type(grads) is dict and list(grads) == ["W"] and losses == [1.0]
    x = np.array(2.0)
    m.scale(x)
    assert float(x) == 6.0
    many, scalars = m.floats(50_000)  # long lists of numbers cross as one array each
    assert many == [float(i) / 3 for i in range(50_000)] and type(many[0]) is float
    assert type(scalars[7]) is np.float32 and scalars[7] == 7


def test_a_builtin_exception_subclass_is_caught_as_its_builtin_base(student):
    m = student("""
        class ShapeError(ValueError):
            pass
        def f():
            raise ShapeError("x has shape (2,), expected (N, D)")
    """)
    with pytest.raises(ValueError, match="ShapeError: x has shape"):
        m.f()


def test_answers_that_would_cost_memory_or_time_are_refused_unread():
    """Limits checked before any work in proportion to what a message claims."""
    import json
    import struct

    from autograder.sandbox import wire

    def message(header: bytes, body: bytes = b"") -> int:
        r, w = os.pipe()
        data = struct.pack("<Q", len(header)) + header + struct.pack("<Q", len(body)) + body

        def write():  # blocks on the full pipe until the reader closes it
            try:
                os.write(w, data)
            except BrokenPipeError:
                pass
            finally:
                os.close(w)
        # A daemon as well: a writer left blocked must not keep pytest from exiting.
        threading.Thread(target=write, daemon=True).start()
        return r

    flood = message(b"[" + b"{}," * (wire.MAX_HEADER // 3) + b"{}]")
    with pytest.raises(wire.WireError, match="header of"):
        wire.read_message(flood)  # refused from its length, the header left unread
    os.close(flood)
    enc = wire.Encoder()
    arrays = {"a0": np.zeros(10)}
    tree = {"list": [{"nd": "a0"}] * 2}  # one array, two references: two copies
    with pytest.raises(wire.WireError, match="used twice"):
        wire.decode(tree, arrays)
    deep = {"py": 1}
    for _ in range(wire.MAX_DEPTH + 2):
        deep = {"list": [deep]}
    with pytest.raises(wire.WireError, match="nested"):
        wire.decode(json.loads(json.dumps(deep)), {})
    with pytest.raises(wire.WireError, match="values"):
        wire.decode({"list": [{"py": 0}] * (wire.MAX_NODES + 1)}, {})
    with pytest.raises(wire.WireError, match="too large"):
        enc.encode([[]] * (wire.MAX_NODES + 1))
