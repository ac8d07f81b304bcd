"""A long map export read tile by tile from the file (``ramancam.io.longrows``) and
``ramancam convert MAP.txt OUT.zarr`` streaming it into a cube."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _toy_sets import jittered_map
from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import read_long_map, read_table
from ramancam.io.longrows import open_long_rows
from ramancam.io.zarr_cube import open_cube

AXIS = np.linspace(1800.0, 1660.0, 8)  # WiRE writes descending shifts


def _export(rng, *, sep="\t", header="#X\t#Y\t#Wave\t#Intensity\n", drop_last=True):
    """A 6 x 5 raster (y outer, x inner; positions jittered by 0.01 um) as WiRE's long
    export, the last pixel never measured; the spectra and the text."""
    xy, Y = jittered_map(rng, AXIS.size, drop_last=drop_last)
    rows = [header.replace("\t", sep)] if header else []
    for (x, y), spec in zip(xy, Y, strict=True):
        rows += [f"{x}{sep}{y}{sep}{w}{sep}{v}\n" for w, v in zip(AXIS, spec, strict=True)]
    return Y, xy, "".join(rows)


@pytest.mark.parametrize("block_bytes", [50, 301, 4096, None])
@pytest.mark.parametrize("scratch", [False, True])
def test_pixels_read_where_indexed_equal_the_whole_read(tmp_path, rng, block_bytes, scratch):
    # Blocks of 50 bytes cut every row and hold less than a pixel; the first pixel then
    # grows its block until it ends. With a scratch folder the intensities are read back
    # from their float32 copy, without it from the text.
    Y, _, text = _export(rng)
    path = tmp_path / "map.txt"
    path.write_text(text)
    kw = {} if block_bytes is None else {"block_bytes": block_bytes}
    if scratch:
        (tmp_path / "s").mkdir()
        kw["scratch"] = tmp_path / "s"
    rows = open_long_rows(path, **kw)
    assert rows is not None
    whole = read_long_map(path)
    np.testing.assert_array_equal(rows.axis, whole.wavenumbers)
    np.testing.assert_array_equal(rows.meta["x"], whole.meta["x"])
    np.testing.assert_array_equal(rows.meta["y"], whole.meta["y"])
    assert len(rows.X) == len(Y) == 29
    np.testing.assert_array_equal(rows.X[np.arange(29)], Y.astype(np.float32))
    pick = np.array([0, 3, 4, 5, 17, 28])  # runs of consecutive pixels and single ones
    np.testing.assert_array_equal(rows.X[pick], Y[pick].astype(np.float32))
    with pytest.raises(IndexError):
        rows.X[np.array([3, 2])]


@pytest.mark.parametrize("sep", [",", " ", ";"])
def test_other_separators_and_no_header(tmp_path, rng, sep):
    Y, _, text = _export(rng, sep=sep, header="" if sep == " " else "#X\t#Y\t#Wave\t#Intensity\n")
    path = tmp_path / "map.txt"
    path.write_text(text)
    rows = open_long_rows(path, block_bytes=200)
    assert rows is not None
    np.testing.assert_array_equal(rows.X[np.arange(len(Y))], Y.astype(np.float32))


def test_files_that_are_not_plain_rows_are_read_whole(tmp_path, rng):
    Y, _, text = _export(rng)
    lines = text.splitlines(keepends=True)
    cases = {
        "gz, no scratch to read back from": gzip.compress(text.encode()),
        "comment": "".join([*lines[:20], "# pixel 3\n", *lines[20:]]).encode(),
        "blank": "".join([*lines[:20], "\n", *lines[20:]]).encode(),
        "old mac": text.replace("\n", "\r").encode(),
        "bad value": text.replace(lines[30].split("\t")[3].strip(), "n/a", 1).encode(),
        "not a long export": b"id,400,401\na,1,2\n",
        "one pixel": "".join(lines[:9]).encode(),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.txt"
        path.write_bytes(data)
        assert open_long_rows(path, block_bytes=300) is None, name
    # Windows line ends are plain rows
    (tmp_path / "crlf.txt").write_text(text.replace("\n", "\r\n"), newline="")
    rows = open_long_rows(tmp_path / "crlf.txt", block_bytes=300)
    assert rows is not None
    np.testing.assert_array_equal(rows.X[np.arange(len(Y))], Y.astype(np.float32))


def test_a_gzipped_export_is_indexed_as_a_stream_and_read_back_from_the_scratch(tmp_path,
                                                                                 rng):
    Y, _, text = _export(rng)
    path = tmp_path / "map.txt.gz"
    path.write_bytes(gzip.compress(text.encode()))
    (tmp_path / "s").mkdir()
    rows = open_long_rows(path, block_bytes=300, scratch=tmp_path / "s")
    assert rows is not None
    np.testing.assert_array_equal(rows.X[np.arange(len(Y))], Y.astype(np.float32))
    np.testing.assert_array_equal(rows.meta["x"], read_long_map(path).meta["x"])


def test_a_damaged_map_is_refused_as_the_whole_read_refuses_it(tmp_path, rng):
    # Same checks, same messages, same line numbers, whether the file is indexed in blocks
    # or read whole.
    _, _, text = _export(rng)
    lines = text.splitlines(keepends=True)
    shifted = list(lines)
    shifted[13] = shifted[13].replace(f"\t{AXIS[4]}\t", "\t1701.0\t")
    short = [*lines[:30], *lines[31:]]  # pixel 4 (lines 26-33) one row short
    twice = [*lines[:9], *lines[17:25], *lines[9:17], *lines[1:9], *lines[25:]]
    for name, bad, match in (
            ("shift", shifted, r"line 14: every pixel must share the first pixel's Raman "
                               r"shifts; got 1701"),
            ("short", short, r"line 26: every pixel must have the same number of points; "
                             r"got 7 rows"),
            ("last short", lines[:-1], r"line 226: every pixel must have the same number "
                                       r"of points; got 7 rows"),
            ("twice", twice, r"line 26: each pixel's rows must be one contiguous block")):
        path = tmp_path / f"{name}.txt"
        path.write_text("".join(bad))
        with pytest.raises(RamancamError, match=match) as whole:
            read_long_map(path)
        for block_bytes in (60, 500, 1 << 22):
            with pytest.raises(RamancamError) as streamed:
                open_long_rows(path, block_bytes=block_bytes)
            assert str(streamed.value) == str(whole.value), (name, block_bytes)


def test_convert_streams_a_long_export_into_the_cube_it_would_read_whole(tmp_path, rng,
                                                                        capsys, monkeypatch):
    import subprocess
    import sys

    import ramancam.io.longmap as longmap
    from ramancam.io._atomic import temp_prefix

    _, _, text = _export(rng)
    (tmp_path / "m.txt").write_text(text)
    # the float32 copy of a killed run (gigabytes for a large map) is removed by this one
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = temp_prefix("x").split(".")[-2].rsplit("-", 1)[0]
    (tmp_path / f".s.zarr.{host}-{dead.pid}.k1ll3d.rows").mkdir()
    whole = []  # files parsed whole
    real = longmap.parse_long_map
    monkeypatch.setattr(longmap, "parse_long_map",
                        lambda *a, **k: (whole.append(1), real(*a, **k))[1])
    assert main(["convert", str(tmp_path / "m.txt"), str(tmp_path / "s.zarr"),
                 "--chunk", "4x4"]) == 0
    assert not whole  # tile by tile, never parsed whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.txt", "s.zarr"]  # no scratch
    captured = capsys.readouterr()
    assert "  29/29 spectra (" in captured.err  # progress, tile by tile
    assert "wrote a 6 x 5 map (29 spectra, 1 missing (empty), 8 points" in captured.out
    # gzipped: indexed as a stream, the same cube
    (tmp_path / "m.txt.gz").write_bytes(gzip.compress(text.encode()))
    assert main(["convert", str(tmp_path / "m.txt.gz"), str(tmp_path / "g.zarr"),
                 "--chunk", "4x4"]) == 0
    assert not whole
    monkeypatch.setattr(longmap, "parse_long_map", real)
    # --xy-cols needs the spectra in memory: read whole, the same cube
    assert main(["convert", str(tmp_path / "m.txt"), str(tmp_path / "w.zarr"),
                 "--chunk", "4x4", "--xy-cols", "x,y"]) == 0
    b = open_cube(tmp_path / "w.zarr")
    for a in (open_cube(tmp_path / "s.zarr"), open_cube(tmp_path / "g.zarr")):
        for k in ("wavenumbers", "x", "y"):
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
        np.testing.assert_array_equal(np.asarray(a.spectra[...]), np.asarray(b.spectra[...]))
        assert np.isnan(a.spectra[4, 5]).all()
    # a damaged export stops the copy with its line, and no store is left behind
    bad = text.splitlines(keepends=True)
    (tmp_path / "bad.txt").write_text("".join([*bad[:30], *bad[31:]]))
    assert main(["convert", str(tmp_path / "bad.txt"), str(tmp_path / "bad.zarr")]) == 2
    assert "line 26: every pixel must have the same number" in capsys.readouterr().err
    assert not any(p.name.startswith((".bad", "bad.zarr")) for p in tmp_path.iterdir())


def _same_outcome(path, open_rows, read_whole, block_bytes):
    """The row reader gives None, or what the whole read gives: the same spectra and
    positions, or the same one-line error."""
    try:
        whole = read_whole(path)
    except RamancamError as exc:
        whole = exc
    try:
        rows = open_rows(path, block_bytes=block_bytes)
    except RamancamError as exc:
        assert isinstance(whole, RamancamError) and str(exc) == str(whole)
        return
    if rows is None:
        return
    assert not isinstance(whole, RamancamError), str(whole)
    np.testing.assert_array_equal(rows.axis, whole.wavenumbers)
    np.testing.assert_array_equal(rows.meta["x"], whole.meta["x"])
    np.testing.assert_array_equal(rows.X[np.arange(len(rows.X))], whole.X.astype(np.float32))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), drop=st.integers(0, 300), junk=st.sampled_from(
    ["", "x", "\n", "1e999", "\t\t", "-", "0.5\t0.5\t1800\t1\n"]),
       block_bytes=st.sampled_from([37, 256, 4096]), table=st.booleans())
def test_damaged_files_read_by_rows_as_read_whole(tmp_path_factory, cut, drop, junk,
                                                  block_bytes, table):
    # Cut a file short, drop a stretch of it or put junk in: the row readers never crash,
    # and never give other spectra or another error than the whole read.
    from ramancam.io.tablerows import open_table_rows
    from test_tablerows import _table

    rng = np.random.default_rng(0)
    text = _table(rng)[2] if table else _export(rng)[2]
    at = cut % max(len(text), 1)
    text = text[:at] + junk + text[at + drop:]
    path = tmp_path_factory.mktemp("fuzz") / ("m.csv" if table else "m.txt")
    path.write_text(text)
    if table:
        _same_outcome(path, open_table_rows, read_table, block_bytes)
    else:
        _same_outcome(path, open_long_rows, read_long_map, block_bytes)


def test_a_full_disk_under_the_scratch_copy_is_named_with_the_cause(tmp_path, rng,
                                                                    monkeypatch):
    # 'error: 307200 requested and 172032 written' (numpy's tofile): no file, no cause
    import errno
    import os

    _, _, text = _export(rng)
    path = tmp_path / "map.txt"
    path.write_text(text)
    (tmp_path / "s").mkdir()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(RamancamError, match=(
            r"^'.*map\.txt' is copied as float32 to the scratch file '.*intensities\.f32' to "
            r"be read back tile by tile, which could not be written: No space left on device "
            r"\(after 0\.0 MB\)\. Free space on its disk, or write OUT to a disk with room")):
        open_long_rows(path, block_bytes=301, scratch=tmp_path / "s")


@pytest.mark.parametrize(("cells", "streamed"), [
    ({3: "12.3456", 60: "1.251"}, True),  # a decimal point first: '1.251' is 1.251
    ({3: "1.251", 60: "12.3456"}, True),  # and so it is before the point that says so
    ({3: "1.251", 60: "2.250"}, False),  # counts grouped with thousands points, maybe
    ({3: "1.3456", 60: "1,861"}, False),  # commas: read whole (and refused there)
    ({3: "1,861", 60: "1.3456"}, False),
    ({0: "1,5", 60: "1.250"}, False),
])
def test_convert_reads_a_long_map_streamed_as_it_reads_it_whole(tmp_path, capsys, monkeypatch,
                                                                cells, streamed):
    # The evidence of how the numbers read (a decimal point, a decimal comma, '1,861')
    # in another block than the cells it decides: the blocks are read as the whole read
    # reads the file, or the file is read whole.
    import ramancam.io.longrows as longrows

    opened = []

    def small_blocks(*a, **k):
        opened.append(open_long_rows(*a, block_bytes=200, **k))
        return opened[-1]

    monkeypatch.setattr(longrows, "open_long_rows", small_blocks)
    rng = np.random.default_rng(3)
    lines = ["#X\t#Y\t#Wave\t#Intensity"]
    for r in range(72):  # a 4 x 3 map of 6 points
        i, k = divmod(r, 6)
        lines.append(f"{i % 4}\t{i // 4}\t{400 + 10 * k}\t"
                     + cells.get(r, str(rng.integers(100, 900))))
    path = tmp_path / "counts.txt"
    path.write_text("\n".join(lines) + "\n")
    got = []
    for how, extra in (("stream", []), ("whole", ["--xy-cols", "x,y"])):
        out = tmp_path / f"{how}.zarr"
        rc = main(["convert", str(path), str(out), "--chunk", "4x4", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        got.append((rc, err[-1:] if rc else [],
                    None if rc else np.asarray(open_cube(out).spectra[...])))
    assert (opened[0] is not None) == streamed
    (rc_s, err_s, cube_s), (rc_w, err_w, cube_w) = got
    assert (rc_s, err_s) == (rc_w, err_w)
    if rc_w == 0:
        np.testing.assert_array_equal(cube_s, cube_w)
