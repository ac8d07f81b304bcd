"""A folder read that fails on one of its files names the file and says what happened: out
of memory (the generic line named no file), a file deleted while the folder was read ("Check
the spelling"), an entry that is no regular file (left out without a word)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ramancam import RamancamError, RamancamWarning
from ramancam.cli import main
from ramancam.io import folder, read_folder

SPECTRUM = "400\t1\n402\t2\n404\t3\n"


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "fold"
    root.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (root / name).write_text(SPECTRUM)
    return root


def test_a_file_out_of_memory_in_a_folder_is_named(tmp_path, monkeypatch, capsys):
    root = _folder(tmp_path)
    real = folder.read_file

    def short_of_memory(f, **kw):
        if f.name == "b.txt":
            raise MemoryError
        return real(f, **kw)

    monkeypatch.setattr(folder, "read_file", short_of_memory)
    line = (f"file {root / 'b.txt'}: not enough memory to read it (file 2 of 3 in "
            f"{str(root)!r}, read whole beside the spectra of the files before it). Write a "
            "large map as a Zarr cube")
    with pytest.raises(RamancamError, match="^" + re.escape(line)):
        read_folder(root)
    assert main(["info", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: " + line), err
    assert err[0].endswith("or use a machine with more memory.")


def test_a_reader_out_of_memory_in_a_folder_is_not_called_a_stray_file(tmp_path, monkeypatch):
    from ramancam.io._vendor import no_memory

    root = _folder(tmp_path)

    def short_of_memory(f, **kw):
        raise no_memory(f, "spc")

    monkeypatch.setattr(folder, "read_file", short_of_memory)
    with pytest.raises(RamancamError, match=r"a\.txt: not enough memory .* more memory\.$"):
        read_folder(root)


@pytest.mark.parametrize("when", ["before its read", "while it is opened"])
def test_a_file_deleted_while_the_folder_is_read_is_said_to_be_gone(tmp_path, monkeypatch,
                                                                    capsys, when):
    root = _folder(tmp_path)
    real = folder.read_file

    def deleted_meanwhile(f, **kw):
        if f.name == "b.txt":
            f.unlink()
            if when == "while it is opened":  # after the reader's check that it exists
                f.open()
        return real(f, **kw)

    monkeypatch.setattr(folder, "read_file", deleted_meanwhile)
    line = (f"file {root / 'b.txt'} must still be there; it was in {str(root)!r} when the "
            "folder was listed, and was deleted or moved while the folder was being read. "
            "Read the folder again once nothing else changes it.")
    with pytest.raises(RamancamError) as e:
        read_folder(root)
    assert str(e.value) == line
    (root / "b.txt").write_text(SPECTRUM)
    assert main(["info", str(root)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {line}"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_a_folder_is_said_not_skipped_without_a_word(tmp_path):
    root = _folder(tmp_path)
    (root / "c.txt").unlink()
    os.mkfifo(root / "c.txt")
    said = (rf"^1 entry in {re.escape(repr(str(root)))} is not a regular file, so not read: "
            r"c\.txt \(a named pipe\)\. Copy the spectra into a regular file\.$")
    with pytest.warns(RamancamWarning, match=said):
        assert len(read_folder(root)) == 2
    with pytest.warns(RamancamWarning, match=said), pytest.raises(
            RamancamError, match=r"must contain spectrum files matching c\.txt; got none"):
        read_folder(root, pattern="c.txt")
