"""Finding the student's files in a submission (a folder or a .zip).

Only the four exercise files are taken, from the top of the submission or one or two
folders down; everything else (conftest.py, numpy.py, *.pth, data, links) is ignored and
never executed. Zip members are read with size limits and never extracted by name, so
neither `../` paths nor links can reach outside the grader's own folder.

Names that downloads produce are accepted with a note: a browser's `ex_01_basic_rnn (1).py`,
an LMS resubmission's `ex_01_basic_rnn-2.py`, or a prefix an LMS adds to bulk downloads
(`smithj_12345_67890_ex_01_basic_rnn.py`). Near misses (another case, a typo, a file
three folders down) are named in the notes, not graded. When several copies of one file
qualify, the exact name beats a renamed one, the shallowest copy beats deeper ones, then
the copy with the most implemented functions, then the newest; the notes say which.
"""

from __future__ import annotations

import difflib
import re
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tests.public.harness import EXERCISES

MAX_FILE_BYTES = 2 * 2**20
MAX_DEPTH = 2  # folders between the submission's top and a student file
NEAR_MISS_DEPTH = 5  # deeper files are still looked for, to say where they are
_SKIP_DIRS = {"__MACOSX", "__pycache__", ".git", ".venv", "venv", "node_modules"}
_WANTED = set(EXERCISES.values())
_STEMS = {name[:-3]: name for name in _WANTED}
# An LMS prefix ending in "_" or "-", the exact stem, then " (N)" or "-N" from downloads.
_RENAMED = re.compile(r"^(?:.*[_-])?(?P<stem>ex_0\d_[a-z_]+?)(?: ?\(\d+\)|-\d+)?\.py$")
# What reading a damaged, encrypted or exotic zip member can raise.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError,
               zlib.error, UnicodeDecodeError, OSError, EOFError, ValueError)


class BadSubmission(Exception):
    """The submission itself cannot be read (not a folder or zip, corrupt zip)."""


@dataclass
class Candidate:
    """One file that may be a student file: where, how deep, how it was named."""

    rel: str
    depth: int
    exact: bool
    mtime: float
    read: object  # () -> bytes, at most MAX_FILE_BYTES + 1 of them


def exercise_file(name: str) -> tuple[str | None, bool]:
    """(the exercise file `name` stands for, whether it is the exact name)."""
    if name in _WANTED:
        return name, True
    match = _RENAMED.match(name)
    if match and match.group("stem") in _STEMS:
        return _STEMS[match.group("stem")], False
    return None, False


def near_miss(name: str) -> str | None:
    """The exercise file a .py name probably meant (another case, a typo), if any."""
    if not name.lower().endswith(".py") or exercise_file(name)[0]:
        return None
    lower = name.lower()
    for wanted in sorted(_WANTED):
        if lower == wanted or lower.endswith("_" + wanted):
            return wanted
    close = difflib.get_close_matches(lower, sorted(_WANTED), n=1, cutoff=0.85)
    return close[0] if close else None


def notebook_note(rel: str) -> str | None:
    """A note for a notebook submitted instead of an exercise file, with the fix."""
    name = PurePosixPath(rel.replace("\\", "/")).name
    if not name.lower().endswith(".ipynb"):
        return None
    wanted, _ = exercise_file(name[:-6] + ".py")
    wanted = wanted or near_miss(name[:-6] + ".py")
    if wanted is None:
        return None
    return (f"{rel}: a notebook, not graded; the grader reads {wanted}. In Jupyter: File > "
            f"Save and Export Notebook As > Executable Script, name it {wanted}, resubmit")


def _unimplemented(data: bytes) -> int:
    return data.count(b"raise NotImplementedError")


def _pick(candidates: dict[str, list[Candidate]], notes: list[str]) -> dict[str, tuple]:
    """The copy to grade of each file, with its bytes; says why when there was a choice."""
    chosen = {}
    for name, found in candidates.items():
        found.sort(key=lambda c: (not c.exact, c.depth, c.rel))
        best = found[0]
        rivals = [c for c in found if (c.exact, c.depth) == (best.exact, best.depth)]
        loaded = []
        for c in rivals:
            try:
                data = c.read()
            except _ZIP_ERRORS as exc:
                notes.append(f"{c.rel}: cannot be read ({exc}); ignored")
                continue
            if len(data) > MAX_FILE_BYTES:
                notes.append(f"{c.rel}: larger than {MAX_FILE_BYTES // 2**20} MB; ignored")
                continue
            loaded.append((c, data))
        if not loaded:
            continue
        loaded.sort(key=lambda cd: (_unimplemented(cd[1]), -cd[0].mtime, cd[0].rel))
        pick, data = loaded[0]
        if len(loaded) > 1:
            others = ", ".join(c.rel for c, _ in loaded[1:])
            why = ("it has the most implemented functions"
                   if _unimplemented(data) < _unimplemented(loaded[1][1]) else
                   "it is the newest" if pick.mtime > loaded[1][0].mtime else
                   "its path comes first (same content, same date)")
            notes.append(f"{name}: several copies ({pick.rel}, {others}); graded {pick.rel} "
                         f"because {why}")
        if not pick.exact:
            notes.append(f"{pick.rel}: graded as {name} (a renamed download); name it "
                         f"{name} next time")
        elif pick.rel != name:
            notes.append(f"{name}: found at {pick.rel}")
        chosen[name] = (pick, data)
    return chosen


def _consider(name: str, rel: str, depth: int, candidates, notes, mtime, read) -> None:
    """File one path as a candidate, a near miss (noted) or nothing."""
    wanted, exact = exercise_file(name)
    if wanted is None:
        guess = near_miss(name)
        if guess:
            notes.append(f"{rel}: not graded; the file must be named {guess}")
        return
    if depth > MAX_DEPTH:
        notes.append(f"{rel}: not graded, {depth} folders down; put {wanted} at the top "
                     f"of the submission (or at most {MAX_DEPTH} folders down)")
        return
    candidates.setdefault(wanted, []).append(Candidate(rel, depth, exact, mtime, read))


def _skipped(parts) -> bool:
    return any(p in _SKIP_DIRS or p.startswith(".") for p in parts)


def _read_file(path: Path):
    def read() -> bytes:
        with open(path, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    return read


def from_folder(folder: Path, dest: Path, notes: list[str]) -> dict[str, Path]:
    candidates: dict[str, list[Candidate]] = {}
    for depth in range(NEAR_MISS_DEPTH + 1):
        for path in sorted(folder.glob("/".join(["*"] * (depth + 1)))):
            rel = path.relative_to(folder)
            if _skipped(rel.parts[:-1]):
                continue
            if not path.name.lower().endswith(".py"):
                note = notebook_note(str(rel)) if path.is_file() else None
                if note:
                    notes.append(note)
                continue
            links = [folder.joinpath(*rel.parts[: i + 1]).is_symlink()
                     for i in range(len(rel.parts))]
            if any(links) or not stat.S_ISREG(path.lstat().st_mode):
                if exercise_file(path.name)[0]:
                    notes.append(f"{rel}: not a regular file (a link?); ignored")
                continue
            _consider(path.name, str(rel), depth, candidates, notes, path.lstat().st_mtime,
                      _read_file(path))
    files = {}
    for name, (_, data) in _pick(candidates, notes).items():
        (dest / name).write_bytes(data)
        files[name] = dest / name
    return files


def from_zip(archive: Path, dest: Path, notes: list[str]) -> dict[str, Path]:
    try:
        zf = zipfile.ZipFile(archive)
    except _ZIP_ERRORS as exc:
        raise BadSubmission(f"{archive.name} is not a readable zip file ({exc})") from None
    candidates: dict[str, list[Candidate]] = {}
    with zf:
        for info in zf.infolist():
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.is_dir() or not parts or ".." in parts or _skipped(parts[:-1]):
                continue
            if not parts[-1].lower().endswith(".py"):
                note = notebook_note(info.filename)
                if note:
                    notes.append(note)
                continue
            if ".." in parts or parts[0] in ("/", "") or _skipped(parts[:-1]):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                if exercise_file(parts[-1])[0]:
                    notes.append(f"{info.filename}: a link in the zip; ignored")
                continue
            if info.file_size > MAX_FILE_BYTES and exercise_file(parts[-1])[0]:
                notes.append(f"{info.filename}: larger than {MAX_FILE_BYTES // 2**20} MB; "
                             "ignored")
                continue
            try:
                mtime = time.mktime((*info.date_time, 0, 0, -1))
            except (OverflowError, ValueError):
                mtime = 0.0

            def read(info=info) -> bytes:
                with zf.open(info) as fh:
                    return fh.read(MAX_FILE_BYTES + 1)

            _consider(parts[-1], info.filename, len(parts) - 1, candidates, notes, mtime, read)
        chosen = _pick(candidates, notes)
    files = {}
    for name, (_, data) in chosen.items():
        (dest / name).write_bytes(data)
        files[name] = dest / name
    return files


def collect(submission: Path, dest: Path) -> tuple[dict[str, Path], list[str]]:
    """Copy the student files of `submission` into `dest`.

    Returns {file name: copied path} and notes for the student about what was found.
    """
    submission = Path(submission)
    notes: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    if submission.is_dir():
        files = from_folder(submission, dest, notes)
        zips = sorted(z for z in list(submission.glob("*.zip")) + list(submission.glob("*/*.zip"))
                      if z.is_file() and not z.is_symlink() and not _skipped(
                          z.relative_to(submission).parts[:-1]))
        if not files and len(zips) == 1:
            # An uploaded zip that was not unpacked (e.g. a folder holding hw3.zip).
            files = from_zip(zips[0], dest, notes)
            notes.append(f"graded the files inside {zips[0].relative_to(submission)}")
    elif submission.is_file() and submission.suffix.lower() == ".zip":
        files = from_zip(submission, dest, notes)
    elif submission.exists():
        raise BadSubmission(f"{submission}: a submission is a folder or a .zip file")
    else:
        raise BadSubmission(f"{submission}: no such file or folder")
    # A notebook beside the file it was exported to is no problem.
    notes = [n for n in notes if "a notebook, not graded; the grader reads " not in n
             or n.split("the grader reads ")[1].split(".py")[0] + ".py" not in files]
    for name in EXERCISES.values():
        if name not in files:
            notes.append(f"{name}: not in the submission (its tests score 0)")
    return files, notes
