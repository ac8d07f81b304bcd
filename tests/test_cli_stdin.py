"""``-`` as a command's input: the spectra come from standard input (cli/_stdin.py)."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _toy_sets import FAST, fast_model, peaks_table
from ramancam.cli import main
from ramancam.cli._stdin import NAME, suffix_of

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Pipe(io.TextIOWrapper):
    """A standard input that is a pipe (not a terminal) holding ``data``."""

    def __init__(self, data: bytes, tty: bool = False) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture(scope="module")
def peaks_file(tmp_path_factory):
    return peaks_table(tmp_path_factory, n_per_class=3, seed=4)


@pytest.fixture(scope="module")
def model_file(peaks_file):
    return fast_model(peaks_file)


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("ramancam-stdin-*")}


def test_predict_from_standard_input_writes_what_the_file_gives(peaks_file, model_file,
                                                                tmp_path, monkeypatch):
    # 'cat spectra.csv | ramancam predict MODEL -' said "'-', which does not exist", and
    # /dev/stdin was refused for want of a suffix: a pipeline had to write a file first
    before = _leftovers()
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "file.csv")]) == 0
    monkeypatch.setattr(sys, "stdin", _Pipe(peaks_file.read_bytes()))
    assert main(["predict", str(model_file), "-", "--out", str(tmp_path / "pipe.csv")]) == 0
    assert (tmp_path / "pipe.csv").read_text() == (tmp_path / "file.csv").read_text()
    monkeypatch.setattr(sys, "stdin", _Pipe(gzip.compress(peaks_file.read_bytes())))
    assert main(["predict", str(model_file), "-", "--out", str(tmp_path / "gz.csv")]) == 0
    assert (tmp_path / "gz.csv").read_text() == (tmp_path / "file.csv").read_text()
    assert _leftovers() == before  # the temporary copy is gone


def test_train_and_info_name_standard_input_not_a_temporary_file(peaks_file, tmp_path,
                                                                  monkeypatch, capsys):
    model = tmp_path / "m.ramancam"
    monkeypatch.setattr(sys, "stdin", _Pipe(peaks_file.read_bytes()))
    assert main(["train", "-", "--label-col", "label", *FAST, "--folds", "2", "--no-compare",
                 "--out", str(model)]) == 0
    with zipfile.ZipFile(model) as z:
        recorded = json.loads(z.read("ramancam.json"))
    assert recorded["training_data"]["source"] == NAME
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", _Pipe(peaks_file.read_bytes()))
    assert main(["info", "-", "--label-col", "label"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == NAME and "ramancam-stdin" not in out
    assert "classes:   3" in out


def test_info_of_a_model_from_standard_input_names_standard_input(model_file, monkeypatch,
                                                                   capsys):
    # 'cat m.ramancam | ramancam info -' printed the temporary copy's path
    # (/tmp/ramancam-stdin-XXXX/stdin.xlsx) as its first line and as "path" in --json
    for json_out in (False, True):
        monkeypatch.setattr(sys, "stdin", _Pipe(model_file.read_bytes()))
        assert main(["info", "-", *(["--json"] if json_out else [])]) == 0
        out = capsys.readouterr().out
        assert "ramancam-stdin" not in out and "stdin.xlsx" not in out
        if json_out:
            assert json.loads(out)["path"] == NAME
        else:
            assert out.splitlines()[0].startswith(NAME)


def test_bad_standard_input_is_one_line_naming_standard_input(model_file, monkeypatch,
                                                              capsys):
    for data, tty, says in ((b"", False, "standard input is empty"),
                            (b"a,b\n", True, "which is a terminal"),
                            (b"label,100,200\n", False,
                             "standard input must hold at least one spectrum row")):
        monkeypatch.setattr(sys, "stdin", _Pipe(data, tty))
        assert main(["predict", str(model_file), "-"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.splitlines()) == 1, err
        assert err.startswith("error: ") and says in err and "ramancam-stdin" not in err, err
    monkeypatch.setattr(sys, "stdin", None)  # a closed standard input (<&-)
    assert main(["predict", str(model_file), "-"]) == 2
    assert "which is closed" in capsys.readouterr().err


@pytest.mark.parametrize(("code", "cause", "also"), [
    (28, "No space left on device", ""),
    (27, "File too large", ", raise the file size limit (ulimit -f)")])
def test_a_full_temporary_folder_is_named_with_the_fix(peaks_file, model_file, tmp_path,
                                                       monkeypatch, capsys, code, cause,
                                                       also):
    # 'error: [Errno 28] No space left on device': which disk, and why write at all?
    import os
    import shutil

    small = tmp_path / "small"
    small.mkdir()
    monkeypatch.setenv("TMPDIR", str(small))
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read anew

    def full(src, dst, length=0):
        dst.write(src.read(100))
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(shutil, "copyfileobj", full)
    monkeypatch.setattr(sys, "stdin", _Pipe(peaks_file.read_bytes()))
    assert main(["predict", str(model_file), "-", "--out", str(tmp_path / "o.csv")]) == 2
    assert capsys.readouterr().err == (
        f"error: input '-' is copied to a temporary file in {str(small)!r} (TMPDIR), which "
        f"must have room for it; got {cause}. Set TMPDIR to a folder on a disk with "
        f"room{also}, or give the file's path instead of '-'.\n")
    assert list(small.iterdir()) == [] and not (tmp_path / "o.csv").exists()


def test_a_real_pipe_into_a_separate_process(peaks_file, model_file, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "ramancam", "predict", str(model_file), "-", "--out",
         str(tmp_path / "p.csv")], input=peaks_file.read_bytes(), capture_output=True,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 1 + 9  # 3 classes x 3


@pytest.mark.parametrize(("head", "suffix"), [
    (b"\x1f\x8b\x08\x00", ".txt.gz"), (b"WDF1\x01\x00", ".wdf"), (b"PK\x03\x04", ".xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1", ".xls"), (b"MATLAB 5.0 MAT-file", ".mat"),
    (b"Andor Technology Multi-Channel File", ".sif"), (b"\x00K\x00\x00", ".spc"),
    (b"\x80M\x00", ".spc"), (b"OK,1,2\n", ".txt"), (b"##TITLE=x\n", ".txt"),
    (b"label,100,200\n", ".txt")])
def test_the_kind_of_a_binary_input_comes_from_its_first_bytes(head, suffix):
    assert suffix_of(head) == suffix


def test_threads_limits_the_blas_libraries_for_the_command_only(peaks_file, model_file,
                                                                 tmp_path, monkeypatch):
    # --threads set torch's threads only: numpy/scikit-learn's BLAS (baselines, PCA, the
    # novelty reference) still took every core of a shared machine
    from threadpoolctl import threadpool_info

    import ramancam.bundle

    def blas() -> list[int]:
        return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]

    from threadpoolctl import threadpool_limits

    outer = threadpool_limits(limits=2, user_api="blas")
    before = blas()
    assert set(before) == {2}
    seen: list[list[int]] = []
    real = ramancam.bundle.load

    def spy(*args, **kwargs):
        seen.append(blas())
        return real(*args, **kwargs)

    monkeypatch.setattr(ramancam.bundle, "load", spy)
    assert main(["predict", str(model_file), str(peaks_file), "--threads", "1", "--out",
                 str(tmp_path / "p.csv")]) == 0
    assert seen and seen[0] and set(seen[0]) == {1}
    assert blas() == before  # a program calling main() keeps its own limits
    outer.restore_original_limits()


def test_warnings_about_standard_input_name_it(tmp_path):
    # a reader's warning names its file: for '-' that was the temporary copy's path
    axis = np.linspace(400.0, 1800.0, 281)
    rows = "\n".join(f"a,{1000 + i}," + ",".join("1" if k == 50 + i else "0.1"
                                                 for k in range(axis.size))
                     for i in range(4))
    text = "label,100," + ",".join(f"{w:g}" for w in axis) + "\n" + rows + "\n"
    run = subprocess.run([sys.executable, "-m", "ramancam", "info", "-", "--label-col",
                          "label"], input=text.encode(), capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr
    err = run.stderr.decode()
    assert "warning: standard input, line 1: column 2 ('100') is read as metadata" in err, err
    assert "ramancam-stdin" not in err
