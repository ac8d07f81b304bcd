"""Every documented input error of the readers: one line, naming the file (and line) and the fix."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ramancam import RamancamError, RamancamWarning, Spectra
from ramancam.io import (
    read,
    read_folder,
    read_rruff,
    read_table,
    read_two_column,
    write_table,
)


def _one_line(exc: pytest.ExceptionInfo[RamancamError]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg.strip() == msg
    return msg


def _file(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("reader", [read, read_table, read_two_column, read_rruff])
def test_missing_path(tmp_path, reader):
    with pytest.raises(RamancamError, match=r"must be an existing file or folder; got '.*nope"
                                            r"\.csv', which does not exist") as e:
        reader(tmp_path / "nope.csv")
    _one_line(e)


@pytest.mark.parametrize("reader", [read, read_table, read_two_column])
def test_empty_file(tmp_path, reader):
    p = _file(tmp_path, "e.csv", "")
    with pytest.raises(RamancamError, match=r"e\.csv must hold .*got an empty file") as e:
        reader(p)
    _one_line(e)


def test_only_comments(tmp_path):
    p = _file(tmp_path, "c.txt", "# nothing here\n\n")
    with pytest.raises(RamancamError, match="got no \\(shift, intensity\\) lines"):
        read_two_column(p)
    with pytest.raises(RamancamError, match="got only comment lines"):
        read_table(p)


def test_table_non_numeric_token_names_file_line_and_column(tmp_path):
    p = _file(tmp_path, "t.csv", "label,100,200,300\nA,1,2,3\nB,4,x5,6\n")
    with pytest.raises(RamancamError,
                       match=r"file .*t\.csv, line 3: could not read a number from 'x5' in "
                             r"column '200'") as e:
        read(p, label_col="label")
    _one_line(e)


def test_two_column_non_numeric_token_names_file_and_line(tmp_path):
    p = _file(tmp_path, "a.txt", "# c\n100\t1\n101\t2\n102\t1,2.5e\n")
    with pytest.raises(RamancamError,
                       match=r"file .*a\.txt, line 4: a data line must hold 2 values"):
        read(p)
    p = _file(tmp_path, "b.txt", "100\t1\n101\tabc\n")
    with pytest.raises(RamancamError, match=r"b\.txt, line 2: could not read a number from "
                                            r"'abc'"):
        read_two_column(p)


def test_ragged_rows(tmp_path):
    p = _file(tmp_path, "r.csv", "id,1,2,3\na,1,2,3\nb,1,2\n")
    with pytest.raises(RamancamError,
                       match=r"r\.csv, line 3: every row must have 4 fields like the header; "
                             "got 3") as e:
        read_table(p)
    _one_line(e)


def test_short_gaps_inside_a_spectrum_are_left_out_of_its_axis(tmp_path):
    x = np.arange(100.0, 300.0)  # 200 points
    rows = [np.exp(-0.5 * ((x - c) / 5) ** 2) for c in (150.0, 250.0)]
    cells = [[repr(float(v)) for v in r] for r in rows]
    cells[0][40:43] = ["", "nan", ""]  # a removed spike: 3 points
    cells[1][120] = "NaN"
    text = "id," + ",".join(repr(float(v)) for v in x) + "\n" + "".join(
        f"s{i}," + ",".join(c) + "\n" for i, c in enumerate(cells))
    s = read_table(_file(tmp_path, "g.csv", text))
    assert [a.size for a in s.axes] == [197, 199]
    assert 140.0 not in s.axes[0] and 220.0 not in s.axes[1]
    np.testing.assert_array_equal(s.intensities[0], np.delete(rows[0], [40, 41, 42]))
    # the paper recipe's resampling bridges the holes: back on the full grid
    from ramancam.preprocess import resample

    out = resample(s, grid=x)
    assert out.has_common_axis and out.X.shape == (2, 200)
    np.testing.assert_allclose(out.X[0, 40:43], rows[0][40:43], atol=2e-3)
    # eleven in a row is more than a spike
    cells[0][40:51] = [""] * 11
    text = "id," + ",".join(repr(float(v)) for v in x) + "\n" + "".join(
        f"s{i}," + ",".join(c) + "\n" for i, c in enumerate(cells))
    with pytest.raises(RamancamError, match=r"g\.csv, line 2: .* got 11 missing in a row from "
                                            r"column '140\.0' \(11 of 200 inside its range\)"):
        read_table(_file(tmp_path, "g.csv", text))


@pytest.mark.parametrize("token", ["inf", "-Infinity"])
def test_inf_in_table(tmp_path, token):
    p = _file(tmp_path, "n.csv", f"id,1,2,3\na,1,2,3\nb,1,{token},3\n")
    with pytest.raises(RamancamError,
                       match=r"n\.csv, line 3: intensities must be finite; got .* in column '2'"):
        read_table(p)


@pytest.mark.parametrize("token", ["nan", "NaN", ""])
def test_gap_inside_a_spectrum_in_table(tmp_path, token):
    # one missing value of 3 is a third of the spectrum: more than resampling may bridge
    p = _file(tmp_path, "n.csv", f"id,1,2,3\na,1,2,3\nb,1,{token},3\n")
    with pytest.raises(RamancamError,
                       match=r"n\.csv, line 3: intensities may be missing inside a spectrum's "
                             r"range only in short runs \(at most 10 points in a row, 5% of "
                             r"the spectrum\), which resampling bridges; got 1 missing in a "
                             r"row from column '2' \(1 of 3 inside its range\)\. Fill or "
                             "interpolate those values"):
        read_table(p)
    p = _file(tmp_path, "m.csv", f"id,1,2,3\na,1,2,3\nb,{token},{token},3\n")
    with pytest.raises(RamancamError, match=r"m\.csv, line 3: a spectrum must hold at least 2 "
                                            "values; got 1"):
        read_table(p)


def test_a_row_with_no_value_is_read_as_zeros_with_a_warning(tmp_path):
    # a masked or dead pixel of an exported map stopped the whole file ("a spectrum must
    # hold at least 2 values; got 0"); now it is a flat spectrum that train and predict name
    from ramancam.errors import RamancamWarning

    p = _file(tmp_path, "e.csv", "id,x,y,1,2,3\na,0,0,1,2,3\nb,1,0,,,\nc,2,0,nan,NaN,nan\n"
                                 "d,3,0,4,5,6\n")
    with pytest.warns(RamancamWarning, match=r"e\.csv, line 3: 2 spectra with no value at all "
                                             r"\(every cell empty or NaN; this is the first\) "
                                             "read as zeros: flat, so train leaves them out"):
        s = read_table(p)
    assert s.has_common_axis and s.ids == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(s.X[1:3], 0.0)
    np.testing.assert_array_equal(s.X[[0, 3]], [[1, 2, 3], [4, 5, 6]])
    # every row empty: nothing to read
    q = _file(tmp_path, "f.csv", "id,1,2,3\na,,,\nb,nan,,\n")
    with pytest.raises(RamancamError, match=r"f\.csv, line 2: a spectrum must hold at least 2 "
                                            "values; got 0"):
        read_table(q)


def test_spectra_of_shorter_ranges_in_one_table(tmp_path):
    # a table merging spectra measured over different ranges: empty cells at the ends
    p = _file(tmp_path, "r.csv", "id,label,400,401,402,403\na,A,,1,2,\nb,B,1,2,3,4\n"
                                 "c,A,NaN,nan,5,6\n")
    s = read_table(p, label_col="label")
    assert not s.has_common_axis
    assert [a.tolist() for a in s.axes] == [[401, 402], [400, 401, 402, 403], [402, 403]]
    assert [x.tolist() for x in s.intensities] == [[1, 2], [1, 2, 3, 4], [5, 6]]
    assert s.labels.tolist() == ["A", "B", "A"]


def test_nan_in_two_column(tmp_path):
    p = _file(tmp_path, "n.txt", "1\t0\n2\tnan\n3\t1\n")
    with pytest.raises(RamancamError, match=r"n\.txt, line 2: intensities must be finite"):
        read(p)
    p = _file(tmp_path, "m.txt", "1\t0\ninf\t2\n3\t1\n")
    with pytest.raises(RamancamError, match=r"m\.txt, line 2: Raman shifts must be finite"):
        read(p)


@pytest.mark.parametrize(("text", "match"), [
    ("1\t0\n2\t1\n2\t3\n", r"file .*x\.txt: wavenumbers must not repeat a value; got 2 twice"),
    ("1\t0\n3\t1\n2\t3\n", r"file .*x\.txt: wavenumbers must be strictly increasing or "
                           "strictly decreasing"),
])
def test_bad_axis_in_two_column_names_file(tmp_path, text, match):
    with pytest.raises(RamancamError, match=match):
        read(_file(tmp_path, "x.txt", text))


@pytest.mark.parametrize(("header", "match"), [
    ("id,1,2,2", r": wavenumbers must not repeat a value"),
    ("id,1,3,2", r", line 1: the shift columns must run strictly up like most of them; got "
                 r"column 4 \('2'\) out of order \(1, 3, 2\)"),
])
def test_bad_axis_in_table_names_file(tmp_path, header, match):
    p = _file(tmp_path, "h.csv", f"{header}\na,1,2,3\n")
    with pytest.raises(RamancamError, match=rf"file .*h\.csv{match}"):
        read_table(p)


def test_label_column_missing_lists_columns(tmp_path):
    p = _file(tmp_path, "t.csv", "id,class,batch,1,2\na,A,1,1,2\n")
    with pytest.raises(RamancamError,
                       match=r"t\.csv: label column must be one of the table's columns; got "
                             r"'label', but the non-numeric columns are 'id', 'class', "
                             r"'batch'") as e:
        read(p, label_col="label")
    _one_line(e)


def test_empty_label_cell_is_unlabelled(tmp_path):
    # contract with the other sessions: an empty label cell is the label "" (unlabelled)
    p = _file(tmp_path, "t.csv", "label,1,2\nA,1,2\n, 3,4\n")
    assert read_table(p, label_col="label").labels.tolist() == ["A", ""]


@pytest.mark.parametrize("unit", ["cm-1", " cm-1", " CM-1", "cm^-1", " 1/cm", " cm\u207b\u00b9"])
def test_shift_headers_may_carry_their_unit(tmp_path, unit):
    p = _file(tmp_path, "u.csv", f"id,label,500.5{unit},501{unit},502{unit}\na,x,1,2,3\n")
    s = read_table(p, label_col="label")
    assert s.wavenumbers.tolist() == [500.5, 501.0, 502.0] and s.X.tolist() == [[1, 2, 3]]
    # a metadata name that would read back as a shift is refused when writing
    with pytest.raises(RamancamError, match="must be a non-empty name that is not a number"):
        write_table(Spectra([[1.0, 2.0]], [1.0, 2.0], meta={f"7{unit}": ["q"]}),
                    tmp_path / "w.csv")


def test_table_without_numeric_header(tmp_path):
    p = _file(tmp_path, "t.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(RamancamError, match=r"the header must name Raman shifts .*got only "
                                            r"'a', 'b', 'c'"):
        read_table(p)


def test_duplicate_metadata_names(tmp_path):
    p = _file(tmp_path, "t.csv", "a,a,1,2\nx,y,1,2\n")
    with pytest.raises(RamancamError, match="column names must be unique; got 'a' twice"):
        read_table(p)


def test_header_only_table(tmp_path):
    p = _file(tmp_path, "t.csv", "id,1,2\n")
    with pytest.raises(RamancamError, match=r"must hold at least one spectrum row"):
        read_table(p)
    # cut inside its header ('...,300' -> '...,30'): the missing rows are the news, not the
    # last shift out of order
    p = _file(tmp_path, "cut.csv", "id,100,200,30")
    with pytest.raises(RamancamError, match=r"must hold at least one spectrum row"):
        read_table(p)


def test_bad_csv_quoting(tmp_path):
    p = tmp_path / "q.csv"
    # a quoted field beyond the csv module's field size limit
    p.write_bytes(b'id,1,2\n"' + b"a" * 200_000 + b'",1,2\n')
    with pytest.raises(RamancamError, match=r"q\.csv.*must be valid delimited text"):
        read_table(p)


def test_unknown_file_type_lists_known_types(tmp_path):
    p = tmp_path / "s.opj"
    p.write_bytes(b"\x00\x01binary")
    with pytest.raises(RamancamError,
                       match=r"s\.opj must be of a known type; got '\.opj'\. Known types: wide "
                             r"table .*two-column text.*RRUFF text.*Galactic SPC \(\.spc\).*"
                             r"Renishaw WiRE \(\.wdf\).*JCAMP-DX.*\.csv, \.tsv, \.txt") as e:
        read(p)
    _one_line(e)


def test_binary_content_and_broken_gzip(tmp_path):
    p = tmp_path / "b.txt"
    p.write_bytes(b"1\t2\x00\x00\n")
    with pytest.raises(RamancamError, match=r"b\.txt must be a text file; got binary content"):
        read(p)
    g = tmp_path / "g.csv.gz"
    g.write_bytes(gzip.compress(b"id,1,2\na,1,2\n")[:-6])
    with pytest.raises(RamancamError, match=r"g\.csv\.gz must be a valid gzip file"):
        read(g)


def test_no_files_matched_names_folder_and_pattern(tmp_path):
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(RamancamError,
                       match=r"folder '.*' must contain spectrum files matching \*\.csv\[\.gz\]"
                             r".*; got none") as e:
        read(tmp_path)
    _one_line(e)
    with pytest.raises(RamancamError, match=r"matching \*\.spc; got none"):
        read_folder(tmp_path, pattern="*.spc")


def _tiny_folder(root: Path) -> None:
    (root / "a").mkdir()
    (root / "a" / "s1.txt").write_text("##NAMES=A\n1\t2\n2\t3\n")
    (root / "top.txt").write_text("1\t2\n2\t3\n")


@pytest.mark.parametrize(("labels_from", "match"), [
    ("folder", r"top\.txt must sit in a sub-folder named after its class"),
    ("header:RRUFFID", r"must have a ##RRUFFID= header line .*got headers 'NAMES'"),
    ("regex:^s", r"must match the regex of labels_from='regex:\^s' with a non-empty group; "
                 r"got 'top\.txt' \(1 of 2 files\)"),
    ("regex:(", r"the regex of labels_from='regex:\(' must be a valid regular expression"),
    ("guess", r"labels_from must be one of folder, header:KEY, regex:R, id:R, manifest:F; "
              r"got 'guess'"),
    ("header:", r"labels_from must be one of"),
    ("manifest:missing.csv", r"manifest must be an existing CSV file .*got 'missing\.csv'"),
])
def test_bad_labels_from(tmp_path, labels_from, match):
    _tiny_folder(tmp_path)
    with pytest.raises(RamancamError, match=match) as e:
        read(tmp_path, labels_from=labels_from)
    _one_line(e)


@pytest.mark.parametrize(("manifest", "match"), [
    ("name,class\na/s1.txt,A\n", r"must have columns 'file' and 'label'; got 'name', 'class'"),
    ("file,label\nb/none.txt,A\n", r"m\.csv, line 2: listed files must exist .*'b/none\.txt'"),
    ("file,label\na/s1.txt,\n", r"m\.csv, line 2: labels must not be empty"),
    ("file,label\na/s1.txt\n", r"m\.csv, line 2: every manifest row must have a file and a "
                               "label"),
    ("file,label\n", r"must list at least one file"),
    ("", r"must have a header row file,label .*got an empty file"),
])
def test_bad_manifest(tmp_path, manifest, match):
    _tiny_folder(tmp_path)
    (tmp_path / "m.csv").write_text(manifest)
    with pytest.raises(RamancamError, match=match):
        read(tmp_path, labels_from="manifest:m.csv")


def test_option_conflicts(tmp_path):
    _tiny_folder(tmp_path)
    table = _file(tmp_path, "t.csv", "label,1,2\nA,1,2\n")
    with pytest.raises(RamancamError, match="labels must come from one place"):
        read(table, label_col="label", labels_from="folder")
    with pytest.raises(RamancamError, match=r"s1\.txt: label column must be one of the table"):
        read(tmp_path, label_col="label")  # a folder of text spectra, not of wide tables
    with pytest.raises(RamancamError, match="labels_from for a single file must be header:KEY, "
                                            "regex:R or id:R; got 'folder'"):
        read(tmp_path / "top.txt", labels_from="folder")
    with pytest.raises(RamancamError, match=r"got the wide table .*t\.csv.*Use label_col"):
        read(table, labels_from="regex:(t)")
    with pytest.raises(RamancamError, match="must be a folder here; got a file"):
        read_folder(table)


def test_too_many_columns_in_two_column_file(tmp_path):
    p = _file(tmp_path, "w.txt", "1\t2\t3\n")
    with pytest.raises(RamancamError, match=r"w\.txt, line 1: a data line must hold 2 values "
                                            r"\(shift, intensity\); got 3"):
        read_two_column(p)


def test_decimal_commas_are_read(tmp_path):
    # European locales: ';' or tab between the fields, ',' inside the numbers
    for name, text in (("eu.txt", "100,5;1,25\n101,5;2,5\n"),
                       ("eu_tab.txt", "Raman shift\tIntensity\n100,5\t1,25\n101,5\t2,5\n"),
                       ("eu_sci.txt", "# c\n100,5;1,25e+00\n101,5;2,5E0\n")):
        s = read(_file(tmp_path, name, text))
        np.testing.assert_array_equal(s.wavenumbers, [100.5, 101.5])
        np.testing.assert_array_equal(s.X, [[1.25, 2.5]])
    for name, text in (("eu.csv", "id;label;400,5;401,5\na;x,y;1,0;2,25\nb;z;3;4,5\n"),
                       ("eu_tab.csv", "id\tlabel\t400,5\t401,5\na\tx,y\t1,0\t2,25\n"
                                      "b\tz\t3\t4,5\n"),
                       ("eu_int.csv", "id;label;400;401\na;x,y;1,0;2,25\nb;z;3;4,5\n")):
        t = read_table(_file(tmp_path, name, text), label_col="label")
        np.testing.assert_array_equal(t.wavenumbers, [400.5, 401.5] if "int" not in name
                                      else [400, 401])
        np.testing.assert_array_equal(t.X, [[1.0, 2.25], [3.0, 4.5]])
        assert t.labels.tolist() == ["x,y", "z"]  # metadata keep their commas
    # commas as the delimiter are still delimiters
    np.testing.assert_array_equal(read(_file(tmp_path, "c.txt", "100, 5\n101, 6\n")).X,
                                  [[5.0, 6.0]])
    t = read_table(_file(tmp_path, "c.csv", "id,400,401\na,1,2\n"))
    np.testing.assert_array_equal(t.X, [[1.0, 2.0]])
    # a bad cell is still named as written
    with pytest.raises(RamancamError, match=r"bad\.csv, line 2: could not read a number from "
                                            r"'1,0x' in column '400,5'"):
        read_table(_file(tmp_path, "bad.csv", "id;400,5;401,5\na;1,0x;2,0\n"))


def test_single_point_spectrum(tmp_path):
    p = _file(tmp_path, "one.txt", "100\t1\n")
    with pytest.raises(RamancamError, match=r"one\.txt: wavenumbers must have at least 2 "
                                            "points"):
        read(p)


def test_errors_leave_no_partial_state(tmp_path, rng):
    # a failed read is a failed read: reading a good file afterwards still works
    good = _file(tmp_path, "g.txt", "\n".join(f"{i}\t{v!r}" for i, v in
                                              enumerate(rng.normal(size=5).tolist())))
    with pytest.raises(RamancamError):
        read(_file(tmp_path, "bad.txt", "1\tx\n"))
    assert read(good).X.shape == (1, 5) and np.isfinite(read(good).X).all()


def test_old_mac_line_ends_read_as_any_other(tmp_path):
    """A lone carriage return ending every line (old Mac files) reads as "\\n" would: a
    two-column file is one spectrum, not a table of 2-point spectra; a RRUFF file keeps its
    header."""
    x = np.arange(400.0, 460.0)
    y = 100 + np.sin(x)
    rows = "".join(f"{a:g}\t{b:.4f}\n" for a, b in zip(x, y, strict=True))
    want = read_two_column(_file(tmp_path, "unix.txt", rows))
    for name, text in {"mac.txt": rows, "rruff.txt": "##NAMES=Quartz\n##RRUFFID=R040031\n" + rows
                       }.items():
        p = tmp_path / name
        p.write_bytes(text.replace("\n", "\r").encode())
        s = read(p)
        assert len(s) == 1
        np.testing.assert_array_equal(s.wavenumbers, want.wavenumbers)
        np.testing.assert_array_equal(s.X, want.X)


def test_a_table_without_its_header_line_is_refused(tmp_path):
    """Shift, then intensities, with no header line: its first row would be taken for the
    Raman shifts of 3-point spectra, one per line. The first column running on from it row
    after row tells, and the error says which header to add."""
    rng = np.random.default_rng(0)
    x = np.arange(400.0, 440.0)
    Y = 1000 + rng.normal(0, 5, (3, x.size))
    body = "".join(",".join([f"{a:g}", *(f"{v:.2f}" for v in Y[:, i])]) + "\n"
                   for i, a in enumerate(x))
    with pytest.raises(RamancamError) as e:
        read(_file(tmp_path, "bare.csv", body))
    assert _one_line(e).startswith(
        f"file {tmp_path / 'bare.csv'}, line 1: the first line must be a header; got numbers "
        "only (400, ")
    assert "like a Raman-shift axis (400 to 439). Add a header line: shift,name1,name2" in str(
        e.value)
    s = read(_file(tmp_path, "named.csv", "shift,a,b,c\n" + body))  # a spectrum per column
    assert len(s) == 3 and s.wavenumbers[0] == 400.0
    # a wide table of numbers only (no id column) still reads: its first column is the
    # intensity at the first shift, which does not run on from the header
    wide = "".join(",".join(f"{v:.2f}" for v in row) + "\n" for row in Y[:, :12].T)
    assert read(_file(tmp_path, "wide.csv", ",".join(f"{a:g}" for a in x[:3]) + "\n" + wide)
                ).X.shape == (12, 3)


def test_one_bad_position_cell_is_named_not_dropped(tmp_path):
    """x and y columns of numbers but for one cell: the map's positions are not lost unsaid;
    the error names the line. A text column called y (no positions) still stays text."""
    rows = ["id,x,y,400,401,402"] + [f"s{i},{i % 4},{i // 4},1,2,{i + 3}" for i in range(12)]
    rows[8] = rows[8].replace(",3,1,", ",abc,1,")
    with pytest.raises(RamancamError) as e:
        read(_file(tmp_path, "map.csv", "\n".join(rows) + "\n"))
    assert _one_line(e) == (
        f"file {tmp_path / 'map.csv'}, line 9: column 'x' must hold a number (a position, as "
        "11 of its 12 cells do); got 'abc'. Fix that cell, or rename the column if it holds no "
        "positions.")
    text = ["id,x,y,400,401,402"] + [f"s{i},{i},yes,1,2,{i + 3}" for i in range(4)]
    s = read(_file(tmp_path, "texty.csv", "\n".join(text) + "\n"))
    assert s.meta["y"].tolist() == ["yes"] * 4


def test_a_damaged_header_is_blamed_not_the_first_row(tmp_path):
    # a header with a field too few was reported as "line 2: every row must have 3 fields"
    (tmp_path / "h.csv").write_text("id,400 401,402\na,1,2,3\nb,4,5,6\n", encoding="utf-8")
    with pytest.raises(RamancamError, match=r"h\.csv, line 1: the header must have as many "
                                            r"fields as the rows under it; got 3 in the header "
                                            r"and 4 in each of lines 2 and 3"):
        read(tmp_path / "h.csv")
    (tmp_path / "cr.csv").write_bytes(b"id,400,401\r,402\na,1,2,3\nb,4,5,6\n")
    with pytest.raises(RamancamError, match=r"cr\.csv, line 1: the header line must not hold "
                                            r"a carriage return"):
        read(tmp_path / "cr.csv")
    # one ragged row under a good header is still that row's fault
    (tmp_path / "row.csv").write_text("id,400,401\na,1,2\nb,4,5,6\nc,7,8\n", encoding="utf-8")
    with pytest.raises(RamancamError, match=r"row\.csv, line 3: every row must have 3 fields"):
        read(tmp_path / "row.csv")


@pytest.mark.parametrize("name", ["e.mat", "e.xlsx", "e.xls"])
def test_an_empty_vendor_file_is_called_empty_not_damaged(tmp_path, name):
    # scipy said "Mat file appears to be truncated", openpyxl "File is not a zip file"
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(RamancamError, match=rf"file .*{name} must be a valid .* file; got an "
                                            r"empty file \(0 bytes\)\. Check that the right"):
        read(tmp_path / name)


def _unlistable(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """``folders`` as ones without read permission are listed (root reads any folder)."""
    import errno
    import os

    real = os.scandir
    refused = {os.path.abspath(f) for f in folders}

    def scandir(path: object = ".") -> object:
        if os.path.abspath(os.fspath(path)) in refused:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)


def _classes(tmp_path: Path, *names: str) -> None:
    for cls in names:
        (tmp_path / cls).mkdir(parents=True, exist_ok=True)
        (tmp_path / cls / "s1.txt").write_text("1\t2\n2\t3\n")


def test_a_class_folder_that_cannot_be_listed_is_named_not_skipped(tmp_path, monkeypatch):
    # a class folder os.walk could not list was left out without a word: its class was
    # missing from training (20 spectra, 2 classes, exit 0)
    _classes(tmp_path, "A", "B")
    _unlistable(monkeypatch, tmp_path / "B")
    for labels in ({"labels_from": "folder"}, {"groups_from": "folder"}):
        with pytest.raises(RamancamError, match=(
                r"folder '.*B' \(in the folder read, '.*'\) must be readable to list its "
                r"files; got Permission denied, and the set would lack its spectra\. Give read "
                r"and search permission \(chmod u\+rx .*B\), or move it out of")) as e:
            read_folder(tmp_path, **labels)  # type: ignore[arg-type]
        _one_line(e)
    # the folder itself: its files were called misnamed ('rename text spectra to .txt')
    _unlistable(monkeypatch, tmp_path)
    with pytest.raises(RamancamError, match=(
            r"folder '.*' must be readable to list its files; got Permission denied\.")) as e:
        read(tmp_path)
    assert "rename" not in _one_line(e)


def test_system_folders_of_a_disk_are_skipped_as_hidden_ones(tmp_path, monkeypatch, capsys):
    # a data disk's root-only lost+found (or a Windows disk's System Volume Information)
    # stopped 'info DISK --labels-from folder' (exit 2) where it had read every spectrum
    from ramancam.cli import main

    _classes(tmp_path, "A", "B", "$RECYCLE.BIN", "lost+found", "System Volume Information")
    _unlistable(monkeypatch, tmp_path / "lost+found", tmp_path / "System Volume Information")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = read_folder(tmp_path, labels_from="folder")
    assert sorted(set(s.labels)) == ["A", "B"] and len(s) == 2  # not the recycle bin's
    assert main(["info", str(tmp_path), "--labels-from", "folder"]) == 0
    assert "error" not in capsys.readouterr().err


def test_an_unlistable_folder_a_pattern_cannot_reach_is_not_listed(tmp_path, monkeypatch):
    # --files 'A/*.txt' was refused for a folder beside A the walk listed needlessly
    _classes(tmp_path, "A", "B", "private")
    _unlistable(monkeypatch, tmp_path / "private")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_folder(tmp_path, labels_from="folder", pattern="A/*.txt")) == 1
        assert len(read_folder(tmp_path, pattern="[AB]/s?.txt")) == 2
    # one the pattern reaches is needed: refused, with or without folder labels
    for pattern in ("private/*.txt", "*.txt", "**/s1.txt", "p*/*"):
        with pytest.raises(RamancamError, match=(
                r"folder '.*private' \(in the folder read, '.*'\) must be readable to list its "
                r"files; got Permission denied, and the set would lack its spectra")) as e:
            read_folder(tmp_path, pattern=pattern)
        _one_line(e)


def test_an_unlistable_folder_that_is_no_class_is_named_in_a_warning(tmp_path, monkeypatch):
    # not a class folder, and no pattern names it: the rest is read, the folder is named
    _classes(tmp_path, "A", "B", "A/day2", "C")
    _unlistable(monkeypatch, tmp_path / "A" / "day2", tmp_path / "C")
    with pytest.warns(RamancamWarning, match=(
            r"^2 folders in '.*' could not be listed \(Permission denied\), so their files are "
            r"not read: A/day2, C\. If they hold spectra, give read and search permission "
            r"\(chmod u\+rx\), or move them out of the folder\.$")):
        s = read_folder(tmp_path)
    assert len(s) == 2
    # with folder labels C is a class: refused; A/day2 is a part of class A: named
    with pytest.raises(RamancamError, match=r"folder '.*C' \(in the folder read"):
        read_folder(tmp_path, labels_from="folder")
    (tmp_path / "C" / "s1.txt").unlink()
    (tmp_path / "C").rmdir()
    with pytest.warns(RamancamWarning, match=r"^1 folder in '.*' could not be listed \(Perm.*"
                      r"so its files are not read: A/day2\. If it holds spectra"):
        s = read_folder(tmp_path, labels_from="folder")
    assert list(s.labels) == ["A", "B"]
