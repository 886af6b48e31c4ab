"""`make test` runs on both cores (pytest-xdist, `-n 2 --dist loadfile
--no-loadscope-reorder`): each file goes whole to one worker, in collection order as a
worker frees up. The files that grade the most go first, so that none of them starts
last and leaves the other worker idle; the rest keep their order."""

from __future__ import annotations

LONGEST_FIRST = ("test_mutants.py", "test_otter.py", "test_batch_limits.py",
                 "test_grading.py", "test_robustness.py", "test_isolation_attacks.py",
                 "test_exercise1_policy.py", "test_batch.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
