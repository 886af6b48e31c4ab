"""Grading a class on a Dask cluster (`grade-all --scheduler ADDRESS|local`).

Each submission becomes one Dask task that runs batch._grade_one on a worker: the same
`python -m autograder grade` subprocess, isolation level and limits as a local run, and
the results written into the same OUTDIR (which the workers must reach: a shared
filesystem on lab machines or a cluster). The gradebook is still written by this process
only, one row per submission id, so a retried task is never counted twice. Needs the
optional extra requirements-cluster.txt (dask, distributed).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator

CONNECT_TIMEOUT_S = 10
# A worker that dies mid-grade (killed, out of memory, machine lost) costs a retry of
# that submission only, on another worker.
RETRIES = 2


class SchedulerError(RuntimeError):
    """The scheduler could not be reached or started."""


@contextlib.contextmanager
def dask_executor(address: str, jobs: int = 1) -> Iterator[object]:
    """A concurrent.futures executor whose tasks run on Dask workers.

    `address` is tcp://HOST:PORT of a running `dask scheduler`, or "local" for a
    LocalCluster of `jobs` one-thread worker processes on this machine."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError("--scheduler needs dask: pip install -r requirements-cluster.txt"
                             ) from None
    cluster, scratch = None, None
    try:
        if address == "local":
            # The workers' scratch space in a folder of ours (mode 0700), not a shared
            # world-readable /tmp/dask-scratch-space.
            scratch = tempfile.mkdtemp(prefix="rnn-dask-")
            # Processes, one thread each: one grade at a time per worker, as --jobs.
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None, local_directory=scratch)
            address = cluster.scheduler_address
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise SchedulerError(f"--scheduler {address}: could not reach the Dask scheduler "
                             f"within {CONNECT_TIMEOUT_S} s ({type(exc).__name__}: {exc})"
                             ) from None
    try:
        # pure=False: two identical submissions are still two tasks (two students).
        yield client.get_executor(retries=RETRIES, pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
