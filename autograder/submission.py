"""Finding the student's files in a submission (a folder or a .zip).

Only the four exercise files are taken, from the top of the submission or one or two
folders down; everything else (conftest.py, numpy.py, *.pth, data, links) is ignored and
never executed. Zip members are read with size limits and never extracted by name, so
neither `../` paths nor links can reach outside the grader's own folder.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from tests.public.harness import EXERCISES

MAX_FILE_BYTES = 2 * 2**20
MAX_DEPTH = 2  # folders between the submission's top and a student file
_SKIP_DIRS = {"__MACOSX", "__pycache__", ".git", ".venv", "venv", "node_modules"}
_WANTED = set(EXERCISES.values())
_BY_LOWER = {name.lower(): name for name in _WANTED}
# What reading a damaged, encrypted or exotic zip member can raise.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError,
               zlib.error, UnicodeDecodeError, OSError, EOFError, ValueError)


class BadSubmission(Exception):
    """The submission itself cannot be read (not a folder or zip, corrupt zip)."""


def _pick(candidates: dict[str, list[tuple[int, str]]], notes: list[str]) -> dict[str, str]:
    """The shallowest copy of each file; ties are broken by path and said in the notes."""
    chosen = {}
    for name, found in candidates.items():
        found.sort()
        chosen[name] = found[0][1]
        same_depth = [p for d, p in found if d == found[0][0]]
        if len(same_depth) > 1:
            notes.append(f"{name}: several copies at the same depth; graded {same_depth[0]}")
    return chosen


def _hint_case(name: str, where: str, notes: list[str]) -> None:
    """EX_01_Basic_RNN.py is not graded, but say what it should be called."""
    if name not in _WANTED and name.lower() in _BY_LOWER:
        notes.append(f"{where}: not graded; the file must be named {_BY_LOWER[name.lower()]}")


def _skipped(parts) -> bool:
    return any(p in _SKIP_DIRS or p.startswith(".") for p in parts)


def from_folder(folder: Path, dest: Path, notes: list[str]) -> dict[str, Path]:
    candidates: dict[str, list[tuple[int, str]]] = {}
    for depth in range(MAX_DEPTH + 1):
        for path in folder.glob("/".join(["*"] * (depth + 1))):
            rel = path.relative_to(folder)
            if path.name not in _WANTED or _skipped(rel.parts[:-1]):
                _hint_case(path.name, str(rel), notes)
                continue
            links = [folder.joinpath(*rel.parts[: i + 1]).is_symlink()
                     for i in range(len(rel.parts))]
            if any(links) or not stat.S_ISREG(path.lstat().st_mode):
                notes.append(f"{rel}: not a regular file (a link?); ignored")
                continue
            candidates.setdefault(path.name, []).append((depth, str(rel)))
    files = {}
    for name, rel in _pick(candidates, notes).items():
        src = folder / rel
        if src.stat().st_size > MAX_FILE_BYTES:
            notes.append(f"{rel}: larger than {MAX_FILE_BYTES // 2**20} MB; ignored")
            continue
        (dest / name).write_bytes(src.read_bytes())
        files[name] = dest / name
        if rel != name:
            notes.append(f"{name}: found at {rel}")
    return files


def from_zip(archive: Path, dest: Path, notes: list[str]) -> dict[str, Path]:
    try:
        zf = zipfile.ZipFile(archive)
    except _ZIP_ERRORS as exc:
        raise BadSubmission(f"{archive.name} is not a readable zip file ({exc})") from None
    candidates: dict[str, list[tuple[int, str]]] = {}
    infos = {}
    with zf:
        for info in zf.infolist():
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.is_dir() or not parts or parts[-1] not in _WANTED:
                _hint_case(parts[-1] if parts else "", info.filename, notes)
                continue
            if ".." in parts or parts[0] in ("/", "") or _skipped(parts[:-1]):
                continue
            if len(parts) - 1 > MAX_DEPTH:
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"{info.filename}: a link in the zip; ignored")
                continue
            candidates.setdefault(parts[-1], []).append((len(parts) - 1, info.filename))
            infos[info.filename] = info
        files = {}
        for name, member in _pick(candidates, notes).items():
            info = infos[member]
            if info.file_size > MAX_FILE_BYTES:
                notes.append(f"{member}: larger than {MAX_FILE_BYTES // 2**20} MB; ignored")
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except _ZIP_ERRORS as exc:
                notes.append(f"{member}: cannot be read from the zip ({exc}); ignored")
                continue
            if len(data) > MAX_FILE_BYTES:
                notes.append(f"{member}: larger than {MAX_FILE_BYTES // 2**20} MB; ignored")
                continue
            (dest / name).write_bytes(data)
            files[name] = dest / name
            if member != name:
                notes.append(f"{name}: found at {member}")
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
    elif submission.is_file() and submission.suffix.lower() == ".zip":
        files = from_zip(submission, dest, notes)
    elif submission.exists():
        raise BadSubmission(f"{submission}: a submission is a folder or a .zip file")
    else:
        raise BadSubmission(f"{submission}: no such file or folder")
    for name in EXERCISES.values():
        if name not in files:
            notes.append(f"{name}: not in the submission (its tests score 0)")
    return files, notes
