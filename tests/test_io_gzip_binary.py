"""Gzipped instrument files: ``.spc.gz``, ``.wdf.gz`` and ``.jdx.gz`` (and the other
JCAMP-DX suffixes) are read, un-gzipped whole; the formats whose readers take the file
itself (MATLAB, Excel, Andor SIF, Thermo OMNIC, Bruker OPUS) refuse a gzipped file in one
line that says to un-gzip it (they called it damaged, or asked for "its own suffix", or said
OPUS's "suffix .gz says so")."""

from __future__ import annotations

import gzip
import shlex
from pathlib import Path

import numpy as np
import pytest

from _vendor_files import (
    jcamp_text,
    opus_bytes,
    sif_bytes,
    spa_bytes,
    spc_bytes,
    spg_bytes,
    wdf_bytes,
)
from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import read

AXIS = np.linspace(400.0, 1800.0, 64)
Y = np.vstack([np.exp(-((AXIS - c) / 20.0) ** 2) + 0.1 for c in (800.0, 1200.0)])


def _mat(path: Path) -> None:
    from scipy.io import savemat

    savemat(path, {"X": Y, "wavenumbers": AXIS})


def _xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", *AXIS.tolist()])
    for k, y in enumerate(Y):
        sheet.append([f"s{k}", *y.tolist()])
    book.save(path)


#: suffix -> how to write a plain file of it (None: any bytes will do, never opened)
REFUSED = {
    ".mat": _mat,
    ".xlsx": _xlsx,
    ".xlsm": None,
    ".xls": None,
    ".sif": lambda p: p.write_bytes(sif_bytes(Y[:1])),
    ".spa": lambda p: p.write_bytes(spa_bytes(400.0, 1800.0, Y[0])),
    ".spg": lambda p: p.write_bytes(spg_bytes([(400.0, 1800.0, Y[0])], ["a"])),
    ".0": lambda p: p.write_bytes(opus_bytes(AXIS, Y[:1])),
    ".opus": lambda p: p.write_bytes(opus_bytes(AXIS, Y[:1])),
}
READ = {
    ".spc": lambda p: p.write_bytes(spc_bytes(AXIS, Y)),
    ".wdf": lambda p: p.write_bytes(wdf_bytes(AXIS, Y)),
    ".jdx": lambda p: p.write_text(jcamp_text(AXIS, Y[0])),
    ".dx": lambda p: p.write_text(jcamp_text(AXIS, Y[0])),
    ".jcamp": lambda p: p.write_text(jcamp_text(AXIS, Y[0])),
}


def _gzipped(tmp_path: Path, suffix: str, write) -> tuple[Path, Path]:
    plain = tmp_path / f"syn{suffix}"
    if write is None:
        plain.write_bytes(b"\0" * 64)
    else:
        write(plain)
    gz = tmp_path / f"syn{suffix}.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    return plain, gz


@pytest.mark.parametrize("suffix", list(REFUSED))
def test_a_gzipped_file_of_a_format_read_from_the_file_is_refused_in_one_line(
        tmp_path, capsys, suffix):
    plain, gz = _gzipped(tmp_path, suffix, REFUSED[suffix])
    shown = ".0" if suffix == ".0" else suffix
    with pytest.raises(RamancamError, match=(
            rf"^file {gz} must not be gzipped: gzipped {shown} files are not read "
            r"\(the text formats and \.spc, \.wdf, \.jdx/\.dx/\.jcamp are\)\. Un-gzip it "
            rf"first \(gunzip {shlex.quote(str(gz))}\) and read {plain}\.$")):
        read(gz)
    assert main(["info", str(gz)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: file {gz} must not be gzipped: gzipped {shown} files are not "
                   "read (the text formats and .spc, .wdf, .jdx/.dx/.jcamp are). Un-gzip it "
                   f"first (gunzip {shlex.quote(str(gz))}) and read {plain}."], err
    if REFUSED[suffix] is not None:  # the advice works: the file itself is read
        assert len(read(plain)) >= 1


@pytest.mark.parametrize("suffix", list(READ))
def test_a_gzipped_spc_wdf_or_jcamp_file_reads_as_the_file(tmp_path, suffix):
    plain, gz = _gzipped(tmp_path, suffix, READ[suffix])
    a, b = read(plain), read(gz)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.wavenumbers, b.wavenumbers)


def test_a_folder_with_a_gzipped_workbook_names_it(tmp_path):
    _gzipped(tmp_path, ".xlsx", _xlsx)
    (tmp_path / "syn.xlsx").unlink()
    with pytest.raises(RamancamError, match=r"syn\.xlsx\.gz must not be gzipped"):
        read(tmp_path)


def _limit(monkeypatch, nbytes: int) -> None:
    from ramancam.io import _text

    monkeypatch.setattr(_text, "GZIP_LIMIT", nbytes, raising=False)
    monkeypatch.setattr(_text, "_GZIP_BLOCK", 4096, raising=False)


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".spc", ".jdx"])
def test_a_gzipped_file_that_inflates_past_the_limit_is_refused_naming_it(
        tmp_path, monkeypatch, capsys, suffix):
    # 1 MB of gzip inflating to 1 GB (of blank lines) took minutes and ~10 GB, then the
    # generic "not enough memory" line, which named no file; a .jdx.gz was "other content"
    _limit(monkeypatch, 100_000)
    gz = tmp_path / f"bomb{suffix}.gz"
    gz.write_bytes(gzip.compress(b"400 1\n500 2\n600 3\n" + b"\n" * 200_000))
    line = (f"file {gz} must inflate to at most 97.7 KiB, the limit on a gzipped file (read "
            f"whole, in memory); got more than that from its {gz.stat().st_size} bytes. "
            f"Un-gzip it (gunzip {shlex.quote(str(gz))}) and read {tmp_path / f'bomb{suffix}'}"
            ", or split it into smaller files; a map converts as it is, tile by tile "
            f"(ramancam convert {shlex.quote(str(gz))} OUT.zarr).")
    with pytest.raises(RamancamError) as e:
        read(gz)
    assert str(e.value) == line
    assert main(["info", str(gz)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {line}"]


def test_a_gzipped_file_within_the_limit_is_read_and_one_not_named_gz_is_refused_too(
        tmp_path, monkeypatch):
    _limit(monkeypatch, 100_000)
    ok = tmp_path / "ok.txt.gz"
    ok.write_bytes(gzip.compress(b"400 1\n500 2\n600 3\n" + b"\n" * 90_000))
    np.testing.assert_array_equal(read(ok).X, [[1.0, 2.0, 3.0]])
    odd = tmp_path / "odd.txt"  # gzip recognised by its content, not its name
    odd.write_bytes(gzip.compress(b"400 1\n" * 20_000))
    with pytest.raises(RamancamError, match=(
            rf"Un-gzip it \(gunzip -c {odd} > PLAIN\) and read PLAIN, or split it")):
        read(odd)


def test_gzipped_binary_content_is_refused_on_its_first_inflated_block(tmp_path, monkeypatch):
    # the NUL-byte check ran only after the whole file was inflated: a gzipped binary file
    # larger than the limit is refused as binary, before the limit is reached
    _limit(monkeypatch, 200_000)
    gz = tmp_path / "image.txt.gz"
    gz.write_bytes(gzip.compress(b"\x89PNG\r\n\x1a\n" + b"\0" * 1_000_000))
    with pytest.raises(RamancamError, match=r"image\.txt\.gz must be a text file; got binary "
                                            r"content \(NUL bytes\)"):
        read(gz)
