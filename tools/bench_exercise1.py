"""Time one forward+backward pair of Exercise 1 as a student's Exercise 2 makes it in the
sandbox, under each Exercise 1 policy (docs/measured.md, "The Exercise 1 policy").

`python -m tools.bench_exercise1 [--pairs 200] [--repeats 3]`: under `own` the pair runs
in the student process; under `reference` each call goes to the reference Exercise 1
process (autograder/sandbox/reference_ex01.py). Shapes as Exercise 2's training: N=32
windows, T=24 steps, D=1 feature, H=16 units. Prints the best of the repeats (ms a pair).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from autograder.sandbox.client import Limits, RemoteLoader, stage
from tests.mutants.catalogue import reference
from tests.public.harness import EXERCISES

STUDENT = '''
import time
import numpy as np
import ex_01_basic_rnn as ex1

def pairs(n, N=32, T=24, D=1, H=16):
    """Milliseconds per rnn_forward + rnn_backward, timed in the student process."""
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((N, T, D)), np.zeros((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)) * 0.3, np.zeros(H)
    ex1.rnn_forward(x, h0, Wx, Wh, b)  # the first call imports and warms up
    start = time.perf_counter()
    for _ in range(n):
        h, cache = ex1.rnn_forward(x, h0, Wx, Wh, b)
        ex1.rnn_backward(np.ones_like(h), cache)
    return (time.perf_counter() - start) / n * 1000
'''


def time_pairs(policy: str, pairs: int) -> float:
    """ms a pair under `policy`, in a fresh staging folder (a reference Exercise 1 and
    the student Exercise 2 above)."""
    names = (EXERCISES["ex01"], EXERCISES["ex02"])
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        (src / names[0]).write_text(reference("ex01"))
        (src / names[1]).write_text(STUDENT)
        staging = stage({n: src / n for n in names}, Path(tmp) / "staging", None, Limits())
        loader = RemoteLoader(staging, Limits(), exercise1=policy)
        loader.running = "ex02"  # as the grading plugin sets it for Exercise 2's tests
        try:
            return loader.module("ex02").pairs(pairs)
        finally:
            loader.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for policy in ("own", "reference"):
        ms = [time_pairs(policy, args.pairs) for _ in range(args.repeats)]
        print(f"{policy}: {min(ms):.2f} ms a pair (best of {args.repeats} x {args.pairs}: "
              f"{', '.join(f'{m:.2f}' for m in ms)})")
    with open("/proc/loadavg") as fh:
        print("load average:", " ".join(fh.read().split()[:3]))


if __name__ == "__main__":
    main()
