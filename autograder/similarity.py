"""Which submissions of a class are much more alike than chance, per exercise.

Computed with copydetect (winnowing over normalised tokens: whitespace and comments
dropped, every name replaced by one placeholder, so renamed variables do not hide a
copy; fingerprints are sets of k-grams, so reordered functions do not either). The
released skeleton of each exercise is boilerplate: the code students were given never
counts. The result is evidence for a person to review, never a verdict.
"""

from __future__ import annotations

import csv
import html
import itertools
import tempfile
from pathlib import Path

from tests.public.harness import EXERCISES, REPO

# copydetect's defaults for code: a match is at least K tokens long.
NOISE_K, GUARANTEE_T = 25, 30
# A pair is listed when the matched share of both files reaches this (independent
# correct solutions share at most 0.17 here, a planted renamed, reordered copy of the
# reference at least 0.62: tests/project/test_similarity.py).
THRESHOLD = 0.4


def _fingerprint(path: Path, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint(str(path), NOISE_K, GUARANTEE_T - NOISE_K + 1,
                           boilerplate=boilerplate, language="python")


def exercise_files(rows, workdir: Path) -> dict[str, dict[str, Path]]:
    """exercise id -> {submission id: its file of that exercise}, from grade_class rows."""
    from autograder.batch import _materialise
    from autograder.submission import BadSubmission, collect

    found: dict[str, dict[str, Path]] = {ex: {} for ex in EXERCISES}
    for number, (sub, _, _) in enumerate(rows):
        where = workdir / str(number)
        try:
            files, _ = collect(_materialise(sub, where / "in"), where / "out")
        except (BadSubmission, OSError):
            continue
        for ex, name in EXERCISES.items():
            if name in files:
                found[ex][sub.id] = files[name]
    return found


def compare(files: dict[str, Path], skeleton: Path | None) -> list[dict]:
    """Every pair of `files` ({id: path}), most alike first: score (the smaller of the two
    matched shares), matched tokens, and the matched character slices of each file."""
    import numpy as np
    from copydetect import compare_files

    boiler = (np.array(sorted(_fingerprint(skeleton, None).hashes))
              if skeleton and skeleton.is_file() else None)
    prints = {}
    for sid, path in files.items():
        try:
            prints[sid] = _fingerprint(path, boiler)
        except Exception:  # noqa: BLE001 - an empty or undecodable file is no evidence
            continue
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        tokens, (sa, sb), slices = compare_files(prints[a], prints[b])
        pairs.append({"a": a, "b": b, "score": round(float(min(sa, sb)), 3),
                      "tokens": int(tokens), "slices": slices,
                      "text": (prints[a].raw_code, prints[b].raw_code)})
    pairs.sort(key=lambda p: (-p["score"], p["a"], p["b"]))
    return pairs


def _matched_lines(text: str, slices) -> str:
    """1-based line ranges covered by the matched slices, e.g. "3-10 14-20"."""
    if len(slices) == 0 or len(slices[0]) == 0:
        return ""
    ranges = []
    for start, end in zip(slices[0], slices[1], strict=True):
        first = text.count("\n", 0, int(start)) + 1
        ranges.append(f"{first}-{text.count(chr(10), 0, int(end)) + 1}")
    return " ".join(ranges)


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: no formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _highlight(text: str, slices) -> str:
    out, pos = [], 0
    for start, end in zip(*(slices if len(slices) and len(slices[0]) else ([], [])),
                          strict=True):
        out += [html.escape(text[pos:int(start)]), "<mark>",
                html.escape(text[int(start):int(end)]), "</mark>"]
        pos = int(end)
    out.append(html.escape(text[pos:]))
    return "".join(out)


def similarity_report(rows, out_dir: Path, threshold: float = THRESHOLD) -> list[dict]:
    """similarity.csv (every pair at or above `threshold`) and similarity.html (those
    pairs side by side, matched regions marked); returns the flagged pairs."""
    flagged = []
    with tempfile.TemporaryDirectory(prefix="rnn-similarity-") as tmp:
        for ex, files in exercise_files(rows, Path(tmp)).items():
            for pair in compare(files, REPO / "assignments" / EXERCISES[ex]):
                if pair["score"] >= threshold:
                    flagged.append(dict(pair, exercise=ex))
    with open(out_dir / "similarity.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["pair", "exercise", "score", "matched_lines_a", "matched_lines_b"])
        for p in flagged:
            w.writerow([_cell(f"{p['a']} ~ {p['b']}"), p["exercise"], p["score"],
                        _matched_lines(p["text"][0], p["slices"][0]),
                        _matched_lines(p["text"][1], p["slices"][1])])
    parts = ["<!doctype html><meta charset='utf-8'><title>Similarity</title><style>"
             "pre{white-space:pre-wrap;font-size:12px}mark{background:#fd8}"
             ".pair{display:flex;gap:1em}.pair>div{flex:1;min-width:0}</style>",
             "<h1>Similar submissions</h1><p>Evidence for a person to review, not a verdict: "
             "code given in the skeleton is ignored; matched regions are highlighted.</p>"]
    for p in flagged:
        parts.append(f"<h2>{html.escape(p['exercise'])}: {html.escape(p['a'])} ~ "
                     f"{html.escape(p['b'])} ({p['score']:.0%})</h2><div class='pair'>")
        for side in (0, 1):
            name = html.escape(p["ab"[side]])
            parts.append(f"<div><h3>{name}</h3><pre>"
                         f"{_highlight(p['text'][side], p['slices'][side])}</pre></div>")
        parts.append("</div>")
    if not flagged:
        parts.append("<p>No pair above the threshold.</p>")
    (out_dir / "similarity.html").write_text("\n".join(parts), encoding="utf-8")
    return flagged
