"""The `make check` summary: whole reasons (wrapped, never cut) and a rerun hint for the
exercise the student works on (issue 20.3)."""

from __future__ import annotations

import os
import time

from tests.public import conftest


def test_long_reason_is_wrapped_whole():
    reason = ("sample (V=8, T=0.8): fails, and it builds on softmax_with_temperature, which "
              "is wrong too (see the softmax_with_temperature tests): fix it first. " * 4
              + 'The temperature divides the logits before the softmax. (guide: "Temperature") '
              "[misconception: temperature-before-softmax]")
    lines = conftest.wrap_reason(reason)
    assert len(lines) > 3 and all(len(line) <= 100 for line in lines)
    assert lines[0].startswith(" " * 19 + "-> ")
    assert " ".join(line.strip() for line in lines).removeprefix("-> ") == " ".join(
        reason.split())
    assert "temperature-before-softmax]" in lines[-1]


def test_rerun_hint_names_the_last_changed_exercise_first(tmp_path, monkeypatch):
    for name in conftest.EXERCISES.values():
        (tmp_path / name).write_text("", encoding="utf-8")
    now = time.time()
    os.utime(tmp_path / conftest.EXERCISES["ex01"], (now - 100, now - 100))
    os.utime(tmp_path / conftest.EXERCISES["ex03"], (now, now))
    monkeypatch.setenv("IMPL", str(tmp_path))
    hints = conftest.rerun_hints({"ex01": "t01::a", "ex03": "t03::b"})
    assert "t03::b" in hints[0] and "changed last" in hints[0]
    assert "t01::a" in hints[1]
    os.utime(tmp_path / conftest.EXERCISES["ex01"], (now + 100, now + 100))
    assert "t01::a" in conftest.rerun_hints({"ex01": "t01::a", "ex03": "t03::b"})[0]
