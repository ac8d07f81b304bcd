"""A wide map table read tile by tile from the file (``ramancam.io.tablerows``) and
``ramancam convert MAP.csv OUT.zarr`` streaming it into a cube."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import ramancam.cli._common as cli_common
from _toy_sets import jittered_map
from ramancam.cli import main
from ramancam.errors import RamancamWarning
from ramancam.io import read_table
from ramancam.io.tablerows import open_table_rows
from ramancam.io.zarr_cube import open_cube

AXIS = np.linspace(400.0, 1800.0, 12)


def _table(rng, *, sep=",", drop_last=True):
    """A 6 x 5 map (y outer, x inner; positions jittered by 0.01 um) as a wide table with
    id, label, x and y columns, the last pixel never measured; the spectra, labels, text."""
    xy, Y = jittered_map(rng, AXIS.size, drop_last=drop_last)
    labels = np.where(xy[:, 0] < 81.0, "matrix", "cell")
    head = sep.join(["id", "label", "x", "y", *(f"{w:g}" for w in AXIS)])
    rows = [head + "\n"]
    for i, ((x, y), spec) in enumerate(zip(xy, Y, strict=True)):
        rows.append(sep.join([f"p{i}", labels[i], str(x), str(y), *map(str, spec)]) + "\n")
    return Y, labels, "".join(rows)


def _same_cubes(streamed, whole):
    """The cubes ``convert`` wrote streaming a table and reading it whole (opened): the same
    axis, positions and spectra."""
    a, b = open_cube(streamed), open_cube(whole)
    for k in ("wavenumbers", "x", "y"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    np.testing.assert_array_equal(np.asarray(a.spectra[...]), np.asarray(b.spectra[...]))
    return a, b


@pytest.mark.parametrize("block_bytes", [40, 333, 4096, None])
@pytest.mark.parametrize("scratch", [False, True])
def test_rows_read_where_indexed_equal_the_whole_read(tmp_path, rng, block_bytes, scratch):
    # With a scratch folder the spectra are read back from their float32 copy, without it
    # from the text.
    Y, labels, text = _table(rng)
    path = tmp_path / "map.csv"
    path.write_text("# exported by hand\n" + text)
    kw = {} if block_bytes is None else {"block_bytes": block_bytes}
    if scratch:
        (tmp_path / "s").mkdir()
        kw["scratch"] = tmp_path / "s"
    rows = open_table_rows(path, label_col="label", **kw)
    assert rows is not None
    whole = read_table(path, label_col="label")
    np.testing.assert_array_equal(rows.axis, whole.wavenumbers)
    np.testing.assert_array_equal(rows.meta["x"], whole.meta["x"])
    np.testing.assert_array_equal(rows.meta["y"], whole.meta["y"])
    assert rows.labels is not None and rows.labels.tolist() == labels.tolist()
    assert len(rows.X) == 29
    np.testing.assert_array_equal(rows.X[np.arange(29)], Y.astype(np.float32))
    pick = np.array([0, 1, 2, 9, 27, 28])
    np.testing.assert_array_equal(rows.X[pick], Y[pick].astype(np.float32))
    assert open_table_rows(path, block_bytes=200).labels is None  # no label column named
    if scratch:  # a gzipped table: indexed as a stream, read back from the scratch copy
        gz = tmp_path / "map.csv.gz"
        gz.write_bytes(gzip.compress(path.read_bytes()))
        rows = open_table_rows(gz, label_col="label", scratch=tmp_path / "s", **{
            k: v for k, v in kw.items() if k != "scratch"})
        np.testing.assert_array_equal(rows.X[np.arange(29)], Y.astype(np.float32))
        assert rows.labels.tolist() == labels.tolist()


def test_tables_the_blocks_cannot_show_alike_are_read_whole(tmp_path, rng):
    Y, _, text = _table(rng)
    lines = text.splitlines(keepends=True)
    cases = {
        "gz, no scratch to read back from": gzip.compress(text.encode()),
        "quoted": text.replace(",matrix,", ',"matrix",', 1).encode(),
        "blank line": "".join([*lines[:10], "\n", *lines[10:]]).encode(),
        "comment line": "".join([*lines[:10], "# x\n", *lines[10:]]).encode(),
        "shorter range": lines[5].rsplit(",", 1)[0].join(["".join(lines[:5]), ",\n"]).encode()
        + "".join(lines[6:]).encode(),
        "bad value": text.replace(lines[12].split(",")[6], "n/a", 1).encode(),
        "no positions": text.replace("id,label,x,y", "id,label,a,b").encode(),
        "semicolons": text.replace(",", ";").encode(),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        got = open_table_rows(path, block_bytes=300)
        if name == "semicolons":  # the wide-table reader itself reads the blocks alike
            assert got is not None
            np.testing.assert_array_equal(got.X[np.arange(29)], Y.astype(np.float32))
        else:
            assert got is None, name


@pytest.mark.parametrize("scratch", [False, True])
def test_a_table_mixing_utf8_and_cp1252_lines_is_read_where_indexed(tmp_path, rng, scratch):
    # A header typed in a Windows editor (cp1252 'Sorte (µ)') over UTF-8 rows, some rows
    # from cp1252 software: the whole read decodes it line by line, but the blocks were
    # decoded as UTF-8 only and the table fell back to being read whole (all of it in
    # memory); the cp1252 label column was not found under its name.
    Y, labels, text = _table(rng)
    lines = text.splitlines(keepends=True)
    head = lines[0].replace("label", "Sorte (\u00b5)", 1).encode("cp1252")
    names = ["K\u00e4se" if k % 3 else "Br\u00f6tchen" for k in range(len(lines) - 1)]
    body = [ln.replace(f",{lab},", f",{n},", 1).encode("cp1252" if 8 <= k < 20 else "utf-8")
            for k, (ln, lab, n) in enumerate(zip(lines[1:], labels, names, strict=True))]
    path = tmp_path / "mixed.csv"
    path.write_bytes(head + b"".join(body))
    kw = {}
    if scratch:
        (tmp_path / "s").mkdir()
        kw["scratch"] = tmp_path / "s"
    whole = read_table(path, label_col="Sorte (\u00b5)")
    assert whole.labels.tolist() == names
    rows = open_table_rows(path, label_col="Sorte (\u00b5)", block_bytes=300, **kw)
    assert rows is not None
    assert rows.labels.tolist() == names
    np.testing.assert_array_equal(rows.meta["x"], whole.meta["x"])
    np.testing.assert_array_equal(rows.X[np.arange(29)], Y.astype(np.float32))
    np.testing.assert_array_equal(rows.X[np.array([7, 8, 19, 20])],
                                  Y[[7, 8, 19, 20]].astype(np.float32))


def test_a_table_with_a_byte_order_mark_is_read_where_indexed(tmp_path, rng):
    # Excel's "CSV UTF-8" starts the file with a byte-order mark, which the whole read (and
    # the long map's block reader) leaves out: the wide table's blocks gave up on it, and
    # such a map was read whole, all of it in memory.
    Y, labels, text = _table(rng)
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("# from Excel\n" + text).encode())
    rows = open_table_rows(path, label_col="label", block_bytes=300)
    assert rows is not None
    whole = read_table(path, label_col="label")
    assert rows.labels.tolist() == whole.labels.tolist() == labels.tolist()
    np.testing.assert_array_equal(rows.meta["y"], whole.meta["y"])
    np.testing.assert_array_equal(rows.X[np.arange(29)], Y.astype(np.float32))
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # the header on the first line
    rows = open_table_rows(path, label_col="label")
    assert rows is not None and rows.labels.tolist() == labels.tolist()
    np.testing.assert_array_equal(rows.X[np.arange(29)], Y.astype(np.float32))


def test_convert_streams_a_map_table_into_the_cube_it_would_read_whole(tmp_path, rng, capsys,
                                                                      monkeypatch):
    _, _, text = _table(rng)
    (tmp_path / "m.csv").write_text(text)
    real = cli_common.read_data

    def never(*a, **k):
        raise AssertionError("the table was read whole")

    monkeypatch.setattr(cli_common, "read_data", never)
    assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "s.zarr"),
                 "--chunk", "4x4", "--label-col", "label"]) == 0
    captured = capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv", "s.zarr"]  # no scratch
    assert "  29/29 spectra (" in captured.err
    assert "wrote a 6 x 5 map (29 spectra, 1 missing (empty), 12 points" in captured.out
    monkeypatch.setattr(cli_common, "read_data", real)
    assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "w.zarr"),
                 "--chunk", "4x4", "--label-col", "label", "--xy-cols", "x,y"]) == 0
    a, b = _same_cubes(tmp_path / "s.zarr", tmp_path / "w.zarr")
    np.testing.assert_array_equal(np.asarray(a.truth[...]), np.asarray(b.truth[...]))
    assert a.class_names == b.class_names == ["cell", "matrix"]


def test_a_header_longer_than_64_kb_is_found(tmp_path, rng):
    # 12,000 Raman shifts: a header line of about 85 kB, as an FT-Raman table at 0.25 cm-1
    # has one; the layout is told from the file's first megabyte.
    axis = np.round(np.linspace(100.0, 3099.75, 12000), 2)
    Y = np.round(rng.uniform(0, 1, (6, axis.size)), 4)
    rows = ["x,y," + ",".join(f"{w:.2f}" for w in axis) + "\n"]
    rows += [f"{i % 3},{i // 3}," + ",".join(map(str, y)) + "\n" for i, y in enumerate(Y)]
    path = tmp_path / "ft.csv"
    path.write_text("".join(rows))
    assert len(rows[0]) > 65536
    got = open_table_rows(path)
    assert got is not None
    np.testing.assert_array_equal(got.axis, axis)
    np.testing.assert_array_equal(got.X[np.arange(6)], Y.astype(np.float32))


PADDED_AXIS = np.arange(300.0, 380.0, 2.0)  # 40 points


def _padded_table(rng, *, lead_broken_at=None):
    """The map of :func:`_table` on 40 points, padded as food/astragalus is: 10 at the first 4
    and 7.5 at the last 6 points of every spectrum; ``lead_broken_at``: that row holds 11 at
    its first point, so the first 4 are no padding. The spectra and the text."""
    xy, Y = jittered_map(rng, PADDED_AXIS.size)
    Y[:, :4], Y[:, -6:] = 10.0, 7.5
    if lead_broken_at is not None:
        Y[lead_broken_at, 0] = 11.0
    head = ",".join(["id", "label", "x", "y", *(f"{w:g}" for w in PADDED_AXIS)])
    labels = np.where(xy[:, 0] < 81.0, "matrix", "cell")
    rows = [head] + [",".join([f"p{i}", labels[i], str(x), str(y), *map(str, spec)])
                     for i, ((x, y), spec) in enumerate(zip(xy, Y, strict=True))]
    return Y, "\n".join(rows) + "\n"


def _said(fn):
    """What ``fn()`` gives, and the lines it warned."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = fn()
    return got, [str(w.message) for w in caught]


@pytest.mark.parametrize("block_bytes", [300, 4096, None])
@pytest.mark.parametrize("scratch", [False, True])
def test_rows_leave_out_the_padding_the_whole_read_leaves_out(tmp_path, rng, block_bytes,
                                                               scratch):
    # A padded table streamed into a cube (convert) kept its padding, which the whole read
    # (train, predict, convert to CSV) leaves out: one file, two sets of spectra. Blocks of
    # 300 bytes hold about one row each, so no block decides alone.
    kw: dict = {} if block_bytes is None else {"block_bytes": block_bytes}
    if scratch:
        (tmp_path / "s").mkdir()
        kw["scratch"] = tmp_path / "s"
    Y, text = _padded_table(rng)
    path = tmp_path / "pad.csv"
    path.write_text(text)
    whole, said_whole = _said(lambda: read_table(path, label_col="label"))
    rows, said_rows = _said(lambda: open_table_rows(path, label_col="label", **kw))
    assert rows is not None and len(said_whole) == 1
    assert said_rows == said_whole  # the same line, once
    assert "the first 4 (300-306 cm-1) and the last 6 (368-378 cm-1) points" in said_rows[0]
    np.testing.assert_array_equal(rows.axis, whole.wavenumbers)
    np.testing.assert_array_equal(rows.axis, PADDED_AXIS[4:-6])
    assert rows.X.shape == (29, 30)
    np.testing.assert_array_equal(rows.X[np.arange(29)], whole.X.astype(np.float32))
    pick = np.array([0, 2, 27, 28])
    np.testing.assert_array_equal(rows.X[pick], Y[pick, 4:-6].astype(np.float32))
    # a row further down that breaks the leading run: only the trailing one is padding,
    # decided on all the rows as the whole read decides it (the first blocks alone see both)
    Y, text = _padded_table(rng, lead_broken_at=27)
    path.write_text(text)
    whole, said_whole = _said(lambda: read_table(path, label_col="label"))
    rows, said_rows = _said(lambda: open_table_rows(path, label_col="label", **kw))
    assert rows is not None and said_rows == said_whole and len(said_rows) == 1
    assert "the last 6 (368-378 cm-1) points hold 7.5" in said_rows[0]
    np.testing.assert_array_equal(rows.axis, PADDED_AXIS[:-6])
    np.testing.assert_array_equal(rows.X[np.arange(29)], whole.X.astype(np.float32))


def test_convert_streams_a_padded_map_table_without_its_padding(tmp_path, rng, capsys,
                                                               monkeypatch):
    # `convert MAP.csv OUT.zarr` copied the padding into the cube: 40 points where train and
    # predict read 30 from the same file
    _, text = _padded_table(rng)
    (tmp_path / "m.csv").write_text(text)
    real = cli_common.read_data

    def never(*a, **k):
        raise AssertionError("the table was read whole")

    monkeypatch.setattr(cli_common, "read_data", never)
    with pytest.warns(RamancamWarning) as said:
        assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "s.zarr"),
                     "--chunk", "4x4", "--label-col", "label"]) == 0
    assert [str(w.message) for w in said if "fill" in str(w.message)] == [
        f"file {tmp_path / 'm.csv'}: the first 4 (300-306 cm-1) and the last 6 (368-378 cm-1) "
        "points hold 7.5 and 10 in every spectrum: a fill value, not a measurement, so they "
        "are left out (the spectra were measured over 308-366 cm-1)"]
    assert ("wrote a 6 x 5 map (29 spectra, 1 missing (empty), 30 points"
            in capsys.readouterr().out)
    monkeypatch.setattr(cli_common, "read_data", real)
    with pytest.warns(RamancamWarning, match="a fill value"):  # read whole: the same line
        assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "w.zarr"),
                     "--chunk", "4x4", "--label-col", "label", "--xy-cols", "x,y"]) == 0
    _same_cubes(tmp_path / "s.zarr", tmp_path / "w.zarr")


@pytest.mark.parametrize(("code", "cause", "fix"), [
    (28, "No space left on device", "Free space on its disk"),
    (27, "File too large", "Raise the file size limit \\(ulimit -f\\)")])
def test_a_scratch_copy_that_cannot_be_written_is_named_with_the_cause(
        tmp_path, rng, monkeypatch, code, cause, fix):
    # a full disk beside OUT: 'error: 307200 requested and 172032 written' (numpy's
    # tofile), naming neither the file nor the cause
    import os
    import re

    from ramancam import RamancamError

    _, _, text = _table(rng)
    path = tmp_path / "map.csv"
    path.write_text(text)
    (tmp_path / "s").mkdir()
    written = []

    def full(fd, data):
        if written:
            raise OSError(code, os.strerror(code))
        written.append(len(data))
        return len(data)

    monkeypatch.setattr(os, "write", full)
    scratch = tmp_path / "s" / "spectra.f32"
    with pytest.raises(RamancamError, match=(
            rf"^{re.escape(repr(str(path)))} is copied as float32 to the scratch file "
            rf"{re.escape(repr(str(scratch)))} to be read back tile by tile, which could not "
            rf"be written: {cause} \(after 0\.0 MB\)\. {fix}.* or write OUT to a disk with room")):
        open_table_rows(path, label_col="label", block_bytes=200, scratch=tmp_path / "s")


def test_a_file_size_limit_on_the_scratch_copy_is_said_as_such(tmp_path, rng):
    # 'ulimit -f' below the copy's size, for real (Python ignores SIGXFSZ: writes fail): the
    # copy was cut short without a word, and reading it back failed ('cannot reshape array
    # of size 150 into shape (29,12)')
    import resource

    from ramancam import RamancamError

    _, _, text = _table(rng)
    path = tmp_path / "map.csv"
    path.write_text(text)
    (tmp_path / "s").mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (600, hard))  # the copy: 29 x 12 x 4 bytes
    try:
        with pytest.raises(RamancamError) as e:
            open_table_rows(path, label_col="label", block_bytes=200, scratch=tmp_path / "s")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert "could not be written: File too large (after 0.0 MB). Raise the file size limit " \
        "(ulimit -f)" in str(e.value)


def _counts_table(cells):
    """A 5 x 4 map as a tab-separated table of whole numbers (shifts, positions, counts), but
    for ``cells``: ``{(row, column): text}`` among the counts."""
    rng = np.random.default_rng(7)
    lines = ["x\ty\t" + "\t".join(str(400 + 10 * k) for k in range(8))]
    for i in range(20):
        counts = [str(v) for v in rng.integers(100, 900, 8)]
        for (r, c), t in cells.items():
            if r == i:
                counts[c] = t
        lines.append("\t".join([str(i % 5), str(i // 5), *counts]))
    return "\n".join(lines) + "\n"


def _convert_both_ways(tmp_path, path, capsys):
    """``convert`` of ``path`` streamed (in blocks of about 200 bytes: a row or two) and
    read whole (``--xy-cols`` reads it whole): the exit codes, stderr's last lines and the
    cubes' spectra (None where it failed)."""
    got = []
    for how, extra in (("stream", []), ("whole", ["--xy-cols", "x,y"])):
        out = tmp_path / f"{path.stem}-{how}.zarr"
        rc = main(["convert", str(path), str(out), "--chunk", "4x4", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        got.append((rc, err[-1:] if rc else [],
                    None if rc else np.asarray(open_cube(out).spectra[...])))
    return got


@pytest.mark.parametrize(("cells", "said", "streamed"), [
    # a decimal point in the first block, '1,861' (1861 or 1.861) in a later one, and the
    # other way round: the whole read refuses it wherever the point is; a block without a
    # point read it as 1.861
    ({(2, 3): "1.5", (15, 2): "1,861"}, "a number must read one way; got '1,861'", False),
    ({(2, 3): "1,861", (15, 2): "1.5"}, "a number must read one way; got '1,861'", False),
    # the first row writes a decimal point: no decimal commas in the table ('1,5' refused);
    # a block whose first row had none read '1,5' as 1.5
    ({(0, 3): "0.5", (15, 2): "1,5"}, "could not read a number from '1,5'", False),
    # decimal commas in the first row: '1.250' groups thousands (1250); a block without a
    # comma read it as 1.25
    ({(0, 3): "1,5", (15, 2): "1.250", (15, 4): "2000"}, 1250.0, True),
    # no decimal comma in the first rows, whose '1.250' is a decimal point (0.75 beside
    # it: no count grouped with thousands points): so is row 15's; a block whose first rows
    # wrote '1,5' read it as 1250
    ({(1, 2): "1.250", (2, 3): "0.75", **{(r, 1): "1,5" for r in range(10, 20)},
      **{(r, 2): "1.250" for r in range(10, 20)}}, 1.25, True),
])
def test_convert_reads_a_table_streamed_as_it_reads_it_whole(tmp_path, capsys, monkeypatch,
                                                             cells, said, streamed):
    # How a table writes its numbers (decimal commas or points, points grouping thousands,
    # '1,861' beside a decimal point) was decided in each block of rows on its own, so a
    # table of more than one block could be read otherwise streamed into a cube than whole.
    # Now the first block decides for all, as the whole read does; what a block refuses is
    # read whole, which names the line.
    import ramancam.io.tablerows as tablerows

    opened = []

    def small_blocks(*a, **k):
        opened.append(open_table_rows(*a, block_bytes=200, **k))
        return opened[-1]

    monkeypatch.setattr(tablerows, "open_table_rows", small_blocks)
    path = tmp_path / "counts.tsv"
    path.write_text(_counts_table(cells))
    (rc_s, err_s, cube_s), (rc_w, err_w, cube_w) = _convert_both_ways(tmp_path, path, capsys)
    assert (opened[0] is not None) == streamed
    assert (rc_s, err_s) == (rc_w, err_w)
    if isinstance(said, str):
        assert rc_w == 2 and said in err_w[0]
        return
    np.testing.assert_array_equal(cube_s, cube_w)
    assert cube_w[3, 0, 2] == said  # row 15's '1.250'


def test_rows_read_back_from_the_text_as_indexed(tmp_path):
    # Without a scratch copy the rows asked for are parsed again from the text, a run at a
    # time: each run decided alone how the table writes its numbers (1.250 read as 1.25 in
    # a run without a decimal comma), and a run holding '1.251' beside whole counts and no
    # other decimal was taken for counts grouped with thousands points ('the file changed
    # while it was being read'), though another row of the file says the points are decimal.
    path = tmp_path / "counts.tsv"
    path.write_text(_counts_table({(0, 3): "1,5", (15, 2): "1.250", (15, 4): "2000"}))
    whole = read_table(path)
    rows = open_table_rows(path, block_bytes=200)
    assert rows is not None
    np.testing.assert_array_equal(rows.X[np.array([15])], whole.X[[15]].astype(np.float32))
    np.testing.assert_array_equal(rows.X[np.arange(20)], whole.X.astype(np.float32))
    path.write_text(_counts_table({(3, 1): "12.3456", (15, 2): "1.251"}))
    whole = read_table(path)
    rows = open_table_rows(path, block_bytes=10000)
    assert rows is not None and whole.X[15, 2] == 1.251
    np.testing.assert_array_equal(rows.X[np.array([15])], whole.X[[15]].astype(np.float32))


def test_convert_refuses_a_map_table_headed_in_nm_as_the_whole_read_does(tmp_path, capsys,
                                                                         monkeypatch):
    # a map table headed "800.000 nm": streamed, it was written as a cube labelled cm-1
    nm = np.linspace(800.0, 900.0, 12)
    rows = [f"{x},{y}," + ",".join(f"{v:g}" for v in np.arange(12.0) + x + y)
            for y in range(2) for x in range(3)]
    text = "x,y," + ",".join(f"{v:.3f} nm" for v in nm) + "\n" + "\n".join(rows) + "\n"
    (tmp_path / "m.csv").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert open_table_rows("m.csv") is None  # read whole, where the unit is looked at
    assert main(["convert", "m.csv", "m.zarr"]) == 2
    said = capsys.readouterr().err
    assert main(["convert", "m.csv", "w.csv"]) == 2
    assert said == capsys.readouterr().err
    assert "has its x axis in wavelengths (nm)" in said and "--laser-nm" in said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv"]
    assert main(["convert", "m.csv", "l.zarr", "--laser-nm", "785"]) == 0
    cube = open_cube(tmp_path / "l.zarr")
    assert cube.wavenumbers[0] == pytest.approx(1e7 / 785 - 1e7 / 800, abs=1e-6)
