"""Outcome records from the grading pytest to the grader, authenticated.

Each line the grading pytest writes is `<HMAC-SHA256 in hex> <JSON record>`, under a key
that this grader process made and hands only to its own pytest processes, in their
environment (the plugin removes it at once; student processes get an environment of their
own, so the key never exists in one). The grader accepts only whole lines whose MAC
matches: a forged or damaged record fails the whole run closed (no results but "could not
grade"), instead of being skipped or counted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets

ENV = "AUTOGRADER_OUTCOME_KEY"
_KEY = secrets.token_bytes(32)  # this grader process's; one `grade` run per process


class ForgedRecord(RuntimeError):
    """An outcome line that the grader's own pytest did not write."""


def key_env() -> dict[str, str]:
    """What to add to a grading pytest's environment so that it signs its records."""
    return {ENV: _KEY.hex()}


def take_key() -> bytes | None:
    """The key, in the grading pytest: removed from the environment as it is read, so
    that no process started later inherits it."""
    value = os.environ.pop(ENV, None)
    return bytes.fromhex(value) if value else None


def _mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def sign(key: bytes, record: dict) -> str:
    """One signed line (newline included)."""
    payload = json.dumps(record, separators=(",", ":"))
    return f"{_mac(key, payload.encode())} {payload}\n"


def complete_lines(text: str) -> str:
    """`text` without a last line cut short (a pytest killed while writing it), so that
    texts of several runs can be joined line by line."""
    return text if text.endswith("\n") or not text else text[:text.rfind("\n") + 1]


def verified(text: str, key: bytes = _KEY) -> list[dict]:
    """The records of `text`, every complete line checked; raises ForgedRecord."""
    out = []
    for number, line in enumerate(complete_lines(text).splitlines(), 1):
        mac, _, payload = line.partition(" ")
        if not hmac.compare_digest(mac.encode(), _mac(key, payload.encode()).encode()):
            raise ForgedRecord(
                f"outcome record {number} was not written by the grader's tests "
                "(forged or damaged): the run is not graded")
        record = json.loads(payload)
        if not isinstance(record, dict):
            raise ForgedRecord(f"outcome record {number} is not an object")
        out.append(record)
    return out
