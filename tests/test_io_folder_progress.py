"""A long folder read says how far it got: 20,000 small files took ~44 s with nothing
printed. The CLI prints ``  reading FOLDER: k/n files (t s)`` lines on stderr once the read
has run its interval (the clock is sped up here); the Python API stays silent unless it is
given a ``progress`` callback; stdout is untouched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ramancam import RamancamError
from ramancam.cli import main
from ramancam.io import read, read_folder

SPECTRUM = "400\t1\n402\t2\n404\t3\n"
N = 30


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "fold"
    for k in range(N):
        sub = root / ("a" if k % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"s{k:02d}.txt").write_text(SPECTRUM)
    return root


def test_the_cli_says_how_far_a_long_folder_read_got(tmp_path, monkeypatch, capsys):
    from ramancam.cli import _progress

    root = _folder(tmp_path)
    assert main(["info", str(root), "--labels-from", "folder"]) == 0
    quiet = capsys.readouterr()
    assert "files (" not in quiet.err  # a quick read: no line
    monkeypatch.setattr(_progress, "READ_EVERY_S", 0.0)  # every file "takes long"
    assert main(["info", str(root), "--labels-from", "folder"]) == 0
    out, err = capsys.readouterr()
    assert out == quiet.out  # stdout (parsed by scripts) is as without progress
    lines = [ln for ln in err.splitlines() if "files (" in ln]
    assert len(lines) == N, err
    for k, line in enumerate(lines, 1):
        assert re.fullmatch(rf"  reading {re.escape(str(root))}: {k}/{N} files \(\d+ s\)",
                            line), line
    assert "\r" not in err and "\x1b" not in err


def test_lines_come_at_the_interval_and_once_at_the_end(tmp_path, monkeypatch, capsys):
    from ramancam.cli import _progress

    clock = iter(float(t) for t in range(1000))  # one second per look at the clock
    monkeypatch.setattr(_progress.time, "monotonic", lambda: next(clock))
    show = _progress.files_progress("fold", every_s=10.0)
    for k in range(1, 26):
        show(k, 25)
    err = capsys.readouterr().err.splitlines()
    assert err == ["  reading fold: 10/25 files (10 s)", "  reading fold: 20/25 files (20 s)",
                   "  reading fold: 25/25 files (25 s)"]
    show = _progress.files_progress("fold", every_s=10.0)
    for k in range(1, 6):  # a read shorter than the interval: silent, end included
        show(k, 5)
    assert capsys.readouterr().err == ""


def test_the_python_api_is_silent_unless_given_a_callback(tmp_path, capsys):
    root = _folder(tmp_path)
    s = read_folder(root, labels_from="folder")
    assert len(s) == N and capsys.readouterr() == ("", "")
    calls: list[tuple[int, int]] = []
    s = read(root, labels_from="folder", progress=lambda k, n: calls.append((k, n)))
    assert len(s) == N and calls == [(k, N) for k in range(1, N + 1)]
    assert capsys.readouterr() == ("", "")
    with pytest.raises(RamancamError, match=r"^progress must be a function progress\(done, "):
        read_folder(root, progress="yes")  # type: ignore[arg-type]
