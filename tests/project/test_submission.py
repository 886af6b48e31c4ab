"""Finding the student's files in folders and zips, and ignoring everything else."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest

from autograder.submission import BadSubmission, collect

EX1 = "ex_01_basic_rnn.py"


def _names(files):
    return sorted(files)


def test_files_at_the_top_and_nested_two_folders_down_are_found(tmp_path):
    sub = tmp_path / "sub"
    (sub / "hw3" / "code").mkdir(parents=True)
    (sub / "hw3" / "code" / EX1).write_text("A = 1\n")
    (sub / "ex_02_time_series_prediction.py").write_text("B = 2\n")
    files, notes = collect(sub, tmp_path / "out")
    assert _names(files) == [EX1, "ex_02_time_series_prediction.py"]
    assert (tmp_path / "out" / EX1).read_text() == "A = 1\n"
    assert any("found at hw3/code" in n for n in notes)
    assert any("ex_03_char_language_model.py: not in the submission" in n for n in notes)


def test_too_deep_hidden_and_macosx_copies_are_ignored(tmp_path):
    sub = tmp_path / "sub"
    for folder in ("a/b/c", "__MACOSX", ".hidden"):
        (sub / folder).mkdir(parents=True)
        (sub / folder / EX1).write_text("x = 1\n")
    files, _ = collect(sub, tmp_path / "out")
    assert files == {}


def test_the_shallowest_copy_wins(tmp_path):
    sub = tmp_path / "sub"
    (sub / "old").mkdir(parents=True)
    (sub / "old" / EX1).write_text("old = 1\n")
    (sub / EX1).write_text("new = 1\n")
    files, _ = collect(sub, tmp_path / "out")
    assert files[EX1].read_text() == "new = 1\n"


def test_other_files_are_never_copied(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    for name in ("conftest.py", "numpy.py", "sitecustomize.py", "evil.pth", EX1):
        (sub / name).write_text("import os\n")
    collect(sub, tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == [EX1]


def test_links_are_not_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / EX1).write_text("SOLUTION = 1\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "linked").symlink_to(secret, target_is_directory=True)
    (sub / EX1).symlink_to(secret / EX1)
    files, notes = collect(sub, tmp_path / "out")
    assert files == {}
    assert any("link" in n for n in notes)


def test_zip_with_a_top_folder_is_read(tmp_path):
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("submission/" + EX1, "A = 1\n")
        zf.writestr("__MACOSX/submission/._" + EX1, "junk")
        zf.writestr("submission/conftest.py", "import os\n")
    files, _ = collect(archive, tmp_path / "out")
    assert _names(files) == [EX1]
    assert sorted(os.listdir(tmp_path / "out")) == [EX1]


def test_zip_traversal_and_links_are_refused(tmp_path):
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../" + EX1, "A = 1\n")
        link = zipfile.ZipInfo("ex_03_char_language_model.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    files, _ = collect(archive, tmp_path / "out")
    assert files == {}
    assert not (tmp_path / EX1).exists()


def test_oversized_files_are_ignored(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / EX1).write_bytes(b"#" * (3 * 2**20))
    files, notes = collect(sub, tmp_path / "out")
    assert files == {} and any("larger than" in n for n in notes)


@pytest.mark.parametrize("make", ["not_zip", "missing", "text_file"])
def test_unreadable_submissions_say_why(tmp_path, make):
    path = {"not_zip": tmp_path / "a.zip", "missing": tmp_path / "nope",
            "text_file": tmp_path / "a.txt"}[make]
    if make != "missing":
        path.write_text("hello")
    with pytest.raises(BadSubmission, match=str(path.name)):
        collect(path, tmp_path / "out")


def test_damaged_zip_members_are_reported_not_fatal(tmp_path):
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(EX1, "A = 1\n" * 100)
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x03\x04") + 30 + len(EX1)
    data[start + 5] ^= 0xFF  # corrupt the compressed bytes
    archive.write_bytes(bytes(data))
    files, notes = collect(archive, tmp_path / "out")
    assert files == {} and any("cannot be read" in n for n in notes)


def test_a_misnamed_file_gets_a_hint(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "EX_01_Basic_RNN.py").write_text("x = 1\n")
    files, notes = collect(sub, tmp_path / "out")
    assert files == {}
    assert any("must be named ex_01_basic_rnn.py" in n for n in notes)


@pytest.mark.parametrize("name", ["ex_01_basic_rnn (1).py", "ex_01_basic_rnn-2.py",
                                  "smithj_12345_67890_ex_01_basic_rnn.py"])
def test_download_renamings_are_graded_with_a_note(tmp_path, name):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / name).write_text("x = 1\n")
    files, notes = collect(sub, tmp_path / "out")
    assert files[EX1].read_text() == "x = 1\n"
    assert any(f"{name}: graded as {EX1} (a renamed download)" in n for n in notes)


def test_the_exact_name_beats_a_renamed_copy(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ex_01_basic_rnn (1).py").write_text("renamed = 1\n")
    (sub / EX1).write_text("exact = 1\n")
    files, _ = collect(sub, tmp_path / "out")
    assert files[EX1].read_text() == "exact = 1\n"


@pytest.mark.parametrize("name", ["ex01_basic_rnn.py", "ex_01_basic_rnn.PY", "ex_01_basic_rn.py"])
def test_near_misses_are_named_not_graded(tmp_path, name):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / name).write_text("x = 1\n")
    files, notes = collect(sub, tmp_path / "out")
    assert files == {}
    assert any(f"{name}: not graded; the file must be named {EX1}" in n for n in notes)


def test_a_file_three_folders_down_is_named(tmp_path):
    sub = tmp_path / "sub"
    (sub / "a" / "b" / "c").mkdir(parents=True)
    (sub / "a" / "b" / "c" / EX1).write_text("x = 1\n")
    files, notes = collect(sub, tmp_path / "out")
    assert files == {}
    assert any("a/b/c/ex_01_basic_rnn.py: not graded, 3 folders down" in n for n in notes)


def test_of_two_copies_at_one_depth_the_more_complete_then_the_newer_is_graded(tmp_path):
    sub = tmp_path / "sub"
    for folder, text in (("a", "def f():\n    return 1\n"),
                         ("b", 'def f():\n    raise NotImplementedError("f")\n')):
        (sub / folder).mkdir(parents=True)
        (sub / folder / EX1).write_text(text)
    os.utime(sub / "b" / EX1, (2e9, 2e9))  # newer, but less complete
    files, notes = collect(sub, tmp_path / "out")
    assert "return 1" in files[EX1].read_text()
    assert any("graded a/ex_01_basic_rnn.py because it has the most implemented" in n
               for n in notes)
    (sub / "b" / EX1).write_text("def f():\n    return 2\n")
    os.utime(sub / "b" / EX1, (2e9, 2e9))
    files, notes = collect(sub, tmp_path / "out2")
    assert "return 2" in files[EX1].read_text()
    assert any("because it is the newest" in n for n in notes)


def test_a_folder_holding_one_zip_is_graded_from_the_zip(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    with zipfile.ZipFile(sub / "hw3.zip", "w") as zf:
        zf.writestr(f"hw3/{EX1}", "x = 1\n")
    files, notes = collect(sub, tmp_path / "out")
    assert files[EX1].read_text() == "x = 1\n"
    assert any("graded the files inside hw3.zip" in n for n in notes)


def test_a_notebook_instead_of_the_file_is_named_with_the_fix(tmp_path):
    sub = tmp_path / "sub"
    (sub / "hw3").mkdir(parents=True)
    (sub / "hw3" / "ex_01_basic_rnn.ipynb").write_text("{}")
    (sub / "ex_02_time_series_prediction.ipynb").write_text("{}")
    (sub / "ex_02_time_series_prediction.py").write_text("B = 2\n")
    (sub / "scratch.ipynb").write_text("{}")
    files, notes = collect(sub, tmp_path / "out")
    assert _names(files) == ["ex_02_time_series_prediction.py"]
    [note] = [n for n in notes if "notebook" in n]  # not for ex02 (its .py is there)
    assert note.startswith("hw3/ex_01_basic_rnn.ipynb: a notebook, not graded")
    assert "Executable Script" in note and "ex_01_basic_rnn.py" in note
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hw/ex_01_basic_rnn.ipynb", "{}")
    _, notes = collect(archive, tmp_path / "out2")
    assert any(n.startswith("hw/ex_01_basic_rnn.ipynb: a notebook") for n in notes)
