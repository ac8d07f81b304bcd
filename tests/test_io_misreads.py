"""Files that were misread without a word (an audit's findings): each is now read right or
refused in one line naming the file (and line) and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ramancam import RamancamError, RamancamWarning, Spectra
from ramancam.cli import main
from ramancam.io import read, wavelength_to_shift


def _one_line(e: pytest.ExceptionInfo[RamancamError]) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg.strip() == msg
    return msg


def _jcamp_shift(path: Path, rng: np.random.Generator, n: int = 400) -> Path:
    """A JCAMP-DX (XY..XY) file whose header says its axis is a Raman shift (1/CM)."""
    y = rng.uniform(1.0, 2.0, n)
    head = ("##TITLE=ps\n##JCAMP-DX=4.24\n##DATA TYPE=RAMAN SPECTRUM\n##XUNITS=1/CM\n"
            f"##YUNITS=ARBITRARY UNITS\n##FIRSTX=600\n##LASTX={600 + 2 * (n - 1)}\n"
            f"##NPOINTS={n}\n##XYPOINTS=(XY..XY)\n")
    rows = "".join(f"{600 + 2 * i}, {v:.4f}\n" for i, v in enumerate(y))
    path.write_text(head + rows + "##END=\n", encoding="ascii")
    return path


def test_laser_nm_leaves_an_axis_the_file_states_in_raman_shift(tmp_path, rng, capsys):
    jdx = _jcamp_shift(tmp_path / "raman_shift.jdx", rng)
    assert main(["info", str(jdx), "--laser-nm", "785"]) == 0
    out = capsys.readouterr().out
    assert ("note: --laser-nm 785: 1 spectrum left as it is: its file states a Raman-shift "
            "axis (raman_shift.jdx: ##XUNITS=1/CM); none converted") in out
    assert "axis:      600.0 to 1398.0 cm-1, ascending" in out
    # beside a text file of no stated unit (in nm), only that one is converted
    lam = np.round(np.linspace(800.0, 900.0, 50), 3)
    (tmp_path / "nm.txt").write_text("".join(f"{w:.3f}\t{1 + i % 5}\n"
                                             for i, w in enumerate(lam)), encoding="ascii")
    with pytest.warns(RamancamWarning, match=r"wavelength_to_shift: 1 spectrum left as it "
                                             r"is: .*##XUNITS=1/CM\); converted the other 1 "
                                             r"spectrum"):
        s = wavelength_to_shift(read(tmp_path), 785)
    by_file = {Path(src).name: i for i, src in enumerate(s.sources)}
    np.testing.assert_array_equal(s.axes[by_file["raman_shift.jdx"]],
                                  600.0 + 2 * np.arange(400))
    np.testing.assert_allclose(s.axes[by_file["nm.txt"]], 1e7 / 785 - 1e7 / lam)
    lasers = s.meta["laser_wavelength_nm"]
    assert np.isnan(lasers[by_file["raman_shift.jdx"]]) and lasers[by_file["nm.txt"]] == 785
    # an SPC axis in Raman shift (XRAMANS), an export's x_units cm-1: the same
    said = Spectra(np.ones((2, 3)), [500.0, 501.0, 502.0],
                   meta={"x_units": np.array(["XRAMANS", "cm-1"])})
    with pytest.warns(RamancamWarning, match="2 spectra left as they are"):
        assert wavelength_to_shift(said, 785) is said


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_jcamp_with_a_byte_order_mark_is_read(tmp_path, rng, encoding):
    plain = _jcamp_shift(tmp_path / "plain.jdx", rng, n=20)
    text = plain.read_text(encoding="ascii")
    (tmp_path / "bom.jdx").write_text(text, encoding=encoding)
    (tmp_path / "bom.txt").write_text(text, encoding=encoding)  # a text suffix too
    want = read(plain)
    for name in ("bom.jdx", "bom.txt"):
        s = read(tmp_path / name)
        np.testing.assert_array_equal(s.X, want.X)
        np.testing.assert_array_equal(s.wavenumbers, want.wavenumbers)
        assert s.meta["title"].tolist() == ["ps"]


def test_jcamp_pairs_fewer_than_npoints_or_a_damaged_line_are_refused(tmp_path, rng):
    lines = _jcamp_shift(tmp_path / "full.jdx", rng, n=30).read_text(encoding="ascii")
    rows = lines.split("\n")
    cut = tmp_path / "cut.jdx"
    cut.write_text("\n".join(rows[:-8]) + "\n", encoding="ascii")  # 24 of 30 pairs, no ##END
    with pytest.raises(RamancamError, match=r"^file .*cut\.jdx: the data table must hold the "
                                            r"30 points its header announces "
                                            r"\(##NPOINTS=30\); got 24\. The file is "
                                            r"truncated or damaged; re-export it\.$") as e:
        read(cut)
    _one_line(e)
    first = next(i for i, t in enumerate(rows) if t.startswith("##XYPOINTS")) + 1
    rows[first + 5] = "610, 10.37.5"
    (tmp_path / "bad.jdx").write_text("\n".join(rows), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"^file .*bad\.jdx, line {first + 6}: a data "
                                            r"table of \(x, y\) pairs must hold only numbers; "
                                            r"got '10\.37\.5'\. The file is damaged"):
        read(tmp_path / "bad.jdx")


def test_jcamp_dif_table_whose_y_check_fails_is_refused(tmp_path):
    head = ("##TITLE=dif\n##JCAMP-DX=5.01\n##XUNITS=1/CM\n##YUNITS=ARBITRARY UNITS\n"
            "##FIRSTX=400\n##LASTX=415\n##NPOINTS=16\n##XFACTOR=1\n##YFACTOR=1\n"
            "##XYDATA=(X++(Y..Y))\n")
    (tmp_path / "bad.jdx").write_text(head + "400A000JJJJJJJ\n407A007JJKJJJJ\n414A014J\n"
                                      "##END=\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"^file .*bad\.jdx: a compressed \(DIF\) data "
                                            r"table must pass its Y checks .*got a line "
                                            r"starting with 1014 after one ending in 1015\. "
                                            r"The table is damaged; re-export the file\.$"):
        read(tmp_path / "bad.jdx")
    # the same table intact: its checks pass
    (tmp_path / "ok.jdx").write_text(head + "400A000JJJJJJJ\n407A007JJKJJJJ\n414A015J\n"
                                     "##END=\n", encoding="ascii")
    s = read(tmp_path / "ok.jdx")
    assert s.X[0].tolist() == [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009,
                               1011, 1012, 1013, 1014, 1015, 1016]


def test_jcamp_blocks_one_after_the_other_without_link_give_each_spectrum(tmp_path, rng):
    a = _jcamp_shift(tmp_path / "a.jdx", rng, n=20).read_text(encoding="ascii")
    b = _jcamp_shift(tmp_path / "b.jdx", rng, n=30).read_text(encoding="ascii")
    (tmp_path / "both.jdx").write_text(a + "\n" + b.replace("##TITLE=ps", "##TITLE=second"),
                                       encoding="ascii")
    s = read(tmp_path / "both.jdx")
    assert len(s) == 2 and [a.size for a in s.axes] == [20, 30]
    assert s.meta["title"].tolist() == ["ps", "second"]
    np.testing.assert_array_equal(s.intensities[0], read(tmp_path / "a.jdx").X[0])
    np.testing.assert_array_equal(s.intensities[1], read(tmp_path / "b.jdx").X[0])
    # a damaged second block is named as such
    (tmp_path / "cut.jdx").write_text(a + "\n".join(b.split("\n")[:-5]), encoding="ascii")
    with pytest.raises(RamancamError, match=r"cut\.jdx, block 2: the data table must hold the "
                                            r"30 points"):
        read(tmp_path / "cut.jdx")


def _spc_with_x_type(path: Path, code: int, n: int = 16) -> Path:
    """A one-spectrum SPC file (even x axis 0..n-1) whose header says x type ``code``."""
    import struct

    hdr = bytearray(512)
    hdr[1] = 0x4B  # new LSB-first
    hdr[3] = 0x80  # the log-book offset byte, as the audit wrote it
    struct.pack_into("<i", hdr, 4, n)
    struct.pack_into("<dd", hdr, 8, 0.0, n - 1.0)
    struct.pack_into("<i", hdr, 24, 1)
    hdr[28] = code
    sub = bytearray(32)
    sub[1] = 0x80
    y = np.arange(1.0, n + 1.0, dtype="<f4").tobytes()
    path.write_bytes(bytes(hdr) + bytes(sub) + y)
    return path


@pytest.mark.parametrize(("code", "name", "what"), [
    (16, "XDIODE", "diode numbers, the detector's pixels, uncalibrated"),
    (17, "XCHANL", "channel numbers, uncalibrated"),
    (22, "XPOINT", "data-point numbers, uncalibrated")])
def test_spc_with_pixel_channel_or_point_numbers_is_refused(tmp_path, code, name, what):
    p = _spc_with_x_type(tmp_path / "pix.spc", code)
    with pytest.raises(RamancamError, match=rf"^file .*pix\.spc must have a Raman-shift x "
                                            rf"axis; got {name} \({what}\)\. Check that it "
                                            r"is a Raman spectrum") as e:
        read(p)
    _one_line(e)
    assert read(_spc_with_x_type(tmp_path / "ok.spc", 13)).X.shape == (1, 16)  # XRAMANS


def test_a_manifest_listing_a_file_twice_is_refused(tmp_path, capsys):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("400\t1\n401\t2\n402\t3\n", encoding="ascii")
    man = tmp_path / "man.csv"
    man.write_text("file,label\na.txt,PE\nb.txt,PS\n./a.txt,PP\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"^file .*man\.csv, line 4: every file must "
                                            r"be listed once; got '\./a\.txt' again \(line 2 "
                                            r"lists it too, label 'PE' there\)\. Remove one "
                                            r"of the rows\.$"):
        read(tmp_path, labels_from=f"manifest:{man}")
    assert main(["info", str(tmp_path), "--labels-from", f"manifest:{man}"]) == 2
    assert "line 4: every file must be listed once" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "text"), [
    ("comma.txt", "400,5 2,98\n401,5 3,1\n402,5 3,5\n"),           # decimal commas, spaces
    ("titles.txt", "Raman Shift   Intensity\n400.5   2.98\n401.5   3.1\n402.5   3.5\n"),
    ("trailing.csv", "400.5,2.98,\n401.5,3.1,\n402.5,3.5,\n"),     # a separator after each
    ("trailing_semi.csv", "400,5;2,98;\n401,5;3,1;\n402,5;3,5;\n"),
])
def test_two_column_variants_are_read_as_one_spectrum(tmp_path, name, text):
    from ramancam.io import file_format

    p = tmp_path / name
    p.write_text(text, encoding="ascii")
    s = read(p)
    assert file_format(p) == "two_column" and len(s) == 1
    assert s.wavenumbers.tolist() == [400.5, 401.5, 402.5]
    assert s.X[0].tolist() == [2.98, 3.1, 3.5]


def test_wide_and_column_tables_are_still_tables(tmp_path):
    from ramancam.io import file_format

    (tmp_path / "cols.txt").write_text("shift  a  b\n400 1 2\n401 3 4\n402 5 6\n")
    (tmp_path / "wide.csv").write_text("id,400,401,402,\ns1,1,2,3,\ns2,4,5,6,\n")
    assert file_format(tmp_path / "cols.txt") == "table"
    assert read(tmp_path / "cols.txt").meta["id"].tolist() == ["a", "b"]
    assert file_format(tmp_path / "wide.csv") == "table"
    assert read(tmp_path / "wide.csv").X.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_pandas_spectra_in_columns_under_numeric_names_are_refused(tmp_path, rng):
    shifts = 400.0 + np.arange(700)
    Y = rng.uniform(size=(700, 3))
    rows = "".join(f"{x:g}," + ",".join(f"{v:.5f}" for v in y) + "\n"
                   for x, y in zip(shifts, Y, strict=True))
    p = tmp_path / "cols.csv"
    p.write_text(",0,1,2\n" + rows, encoding="ascii")  # pandas: df.to_csv()
    with pytest.raises(RamancamError, match=r"^file .*cols\.csv, line 1: a wide table's header "
                                            r"must name its Raman shifts; got 3 numeric column "
                                            r"names \(0, 1, 2\) over 700 rows, and column 1 "
                                            r"runs from 400 to 1099 like a Raman-shift axis: "
                                            r"the spectra are in columns.*Transpose it "
                                            r"for a spectrum per row \(df\.T\.to_csv") as e:
        read(p)
    _one_line(e)
    # what the message suggests reads them: names that are no numbers, or the transpose
    p.write_text(",s0,s1,s2\n" + rows, encoding="ascii")
    s = read(p)
    assert len(s) == 3 and s.wavenumbers.tolist() == shifts.tolist()
    np.testing.assert_allclose(s.X, np.round(Y.T, 5))
    # a wide table with pandas' written index (row numbers 0, 1, ...) is no such table
    wide = ",400,401,402\n" + "".join(f"{i},1,2,3\n" for i in range(40))
    p.write_text(wide, encoding="ascii")
    assert read(p).X.shape == (40, 3)


def test_decimal_commas_anywhere_in_a_semicolon_or_tab_table(tmp_path):
    p = tmp_path / "de.csv"
    p.write_text("id;400;401\na;10;20\nb;1,5;2,5\n", encoding="ascii")
    s = read(p)
    assert s.X.tolist() == [[10.0, 20.0], [1.5, 2.5]] and s.meta["id"].tolist() == ["a", "b"]
    p.write_text("id\t400\t401\na\t10\t20\nb\t1,5\t2,5\n", encoding="ascii")
    assert read(p).X.tolist() == [[10.0, 20.0], [1.5, 2.5]]


def test_wire_long_map_export_with_decimal_commas(tmp_path, capsys):
    rows = ["#X\t#Y\t#Wave\t#Intensity"]
    for k in range(4):
        for w in ("1802,5", "1801,5", "1800,5"):
            rows.append(f"{k % 2},5\t{k // 2},0\t{w}\t1{k},25")
    p = tmp_path / "map.txt"
    p.write_text("\n".join(rows) + "\n", encoding="ascii")
    s = read(p)
    assert s.wavenumbers.tolist() == [1802.5, 1801.5, 1800.5]
    assert s.meta["x"].tolist() == [0.5, 1.5, 0.5, 1.5]
    assert s.meta["y"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert s.X[:, 0].tolist() == [10.25, 11.25, 12.25, 13.25]
    pytest.importorskip("zarr")
    assert main(["convert", str(p), str(tmp_path / "map.zarr")]) == 0
    assert "wrote a 2 x 2 map (4 spectra, 3 points" in capsys.readouterr().out


def test_thousands_separators_in_a_decimal_point_table_are_refused_not_read(tmp_path):
    # a tab table whose header writes 400.0: '1,861' is a thousands separator; read as
    # decimal commas it became 1.861, silently
    from ramancam.errors import RamancamError
    from ramancam.io import read

    p = tmp_path / "t.tsv"
    p.write_text("id\tlabel\t400.0\t402.5\na\tx\t848\t835\nb\tx\t1,861\t1,445\n")
    with pytest.raises(RamancamError,
                       match=r"got '1,861' in column '400\.0', 1861 with a thousands sep"):
        read(p, label_col="label")
    # whole-number shifts and values first: decimal commas further down are read
    q = tmp_path / "d.csv"
    q.write_text("id;400;401\na;10;20\nb;1,5;2,5\n")
    assert read(q).X[1].tolist() == [1.5, 2.5]


def test_points_grouping_thousands_beside_decimal_commas_are_read_as_thousands(tmp_path):
    # a spreadsheet in a decimal-comma locale writes 1250 counts as '1.250': read as 1.25,
    # every band above 1000 became a dip and the spectra were flagged unknown
    two = tmp_path / "de.txt"
    two.write_text("Wellenzahl;Intensitaet\r\n400,0;950\r\n402,0;1.250\r\n404,0;980\r\n"
                   "406,0;12.345,5\r\n", encoding="ascii")
    assert read(two).X[0].tolist() == [950.0, 1250.0, 980.0, 12345.5]
    wide = tmp_path / "de.csv"
    wide.write_text("label;998,0;1.000,0;1.002,0\na;1,5;1.250;3\nb;2;3;4\n", encoding="ascii")
    s = read(wide, label_col="label")
    assert s.wavenumbers.tolist() == [998.0, 1000.0, 1002.0]
    assert s.X.tolist() == [[1.5, 1250.0, 3.0], [2.0, 3.0, 4.0]]
    # a file that mixes conventions (decimal commas on the axis, points in the counts)
    # reads its points as decimal points, as before
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("400,5;0.125\n401,5;1.250\n", encoding="ascii")
    assert read(mixed).X[0].tolist() == [0.125, 1.25]
    # the two readings at once: refused, naming the line and both cells
    both = tmp_path / "both.txt"
    both.write_text("400,5;1.250\n401,5;0.5\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"line 2: could not read '0\.5': this file writes "
                                            r"decimal commas and groups thousands with points "
                                            r"\('1\.250' earlier\)\. Write every number"):
        read(both)
    table = tmp_path / "both.csv"
    table.write_text("id;400,5;401,5\na;1;2\nb;0.5;1\nc;1.250,5;2\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"line 4: could not read '1\.250,5': this file "
                                            r"writes decimal commas and writes decimal points "
                                            r"beside its decimal commas \('0\.5' earlier\) in "
                                            r"column '400,5'"):
        read(table)
    # a semicolon table with no decimal comma: '1.250' beside whole numbers reads both ways
    # (it was read as 1.25), refused (tests/test_io_encodings.py); a decimal point that
    # can only be one ('0.5') says the points are decimal
    plain = tmp_path / "plain.csv"
    plain.write_text("id;400;401\na;10;20\nb;30;40\nc;1.250;2\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"plain\.csv, line 4: a number must read one "
                                            r"way; got '1\.250' in column '400', 1250 with"):
        read(plain)
    plain.write_text("id;400;401\na;10;20\nb;30;0.5\nc;1.250;2\n", encoding="ascii")
    assert read(plain).X[2].tolist() == [1.25, 2.0]


def test_only_numbers_decide_how_a_decimal_comma_file_writes_its_points(tmp_path):
    # a column named 'sample.no' (or a title 'a.u.') decided "decimal points": 1.250,5 was
    # refused and 1.250 read as 1.25; a first comma line with 1.250,5 was no comma line
    from ramancam.io.table import parse_table
    from ramancam.io.xy import parse_xy

    s = parse_table("label;sample.no;400;401;402\na;1;1.250,5;2.300,0;3.000\nb;2;1;2;3\n",
                    label_col="label")
    assert s.X[0].tolist() == [1250.5, 2300.0, 3000.0]
    assert parse_xy("Shift;a.u.\n400,5;1.250\n401,5;12.345\n").X[0].tolist() == [1250.0,
                                                                                 12345.0]
    assert parse_xy("400,5;1.250,5\n401,5;12.345\n").X[0].tolist() == [1250.5, 12345.0]


def test_a_decimal_comma_after_lines_of_whole_numbers_is_read(tmp_path):
    # 'General' spreadsheet cells: 400;1000 first, 404;1000,5 later was refused ("got 3
    # values ... Convert decimal commas to points"), against docs/formats.md
    for sep in (";", "\t"):
        p = tmp_path / "intfirst.txt"
        p.write_text(f"400{sep}1000\n402{sep}1000\n404{sep}1000,5\n406,0{sep}1200\n",
                     encoding="ascii")
        s = read(p)
        assert s.wavenumbers.tolist() == [400.0, 402.0, 404.0, 406.0]
        assert s.X[0].tolist() == [1000.0, 1000.0, 1000.5, 1200.0]
    # comma-separated whole numbers stay two fields
    p.write_text("400,1000\n402,1001\n", encoding="ascii")
    assert read(p).X[0].tolist() == [1000.0, 1001.0]


def test_quoted_cells_and_a_footer_of_a_two_column_file(tmp_path):
    # '"300,0";"300,00"' was refused with "got 4 values ... Convert decimal commas"; a footer
    # ('End of data', an [Info] block) with "Keep only the shift and intensity columns"
    q = tmp_path / "quoted.csv"
    q.write_text('"Raman shift";"Intensity"\n"300,0";"12,5"\n"302,0";"13,25"\n',
                 encoding="ascii")
    s = read(q)
    assert s.wavenumbers.tolist() == [300.0, 302.0] and s.X[0].tolist() == [12.5, 13.25]
    for footer, line in (("End of data\n", 4), ("\n[Info]\nIntegration=1\n", 5)):
        f = tmp_path / "footer.txt"
        f.write_text("# x y\n300.0\t1.0\n302.0\t2.0\n" + footer, encoding="ascii")
        with pytest.raises(RamancamError, match=rf"line {line}: a two-column file must hold "
                                                r"only \(shift, intensity\) lines after its "
                                                r"data begins \(line 2\); got '(End of data|"
                                                r"\[Info\])'\. Delete that line"):
            read(f)


def test_a_few_bands_over_time_are_a_wide_table(tmp_path):
    # 'time_s,1001,1450,1660' over 30 rows was refused as pandas' spectra in columns
    from ramancam.io import read

    p = tmp_path / "kinetics.csv"
    rows = ["time_s,1001,1450,1660"] + [f"{0.5 * i},{1 + i},{2 + i},{3 + i}" for i in range(30)]
    p.write_text("\n".join(rows) + "\n")
    s = read(p)
    assert len(s) == 30 and s.wavenumbers.tolist() == [1001.0, 1450.0, 1660.0]


def _uneven_axis(rng: np.random.Generator, n: int = 120) -> np.ndarray:
    """An uneven ascending axis from 400.1 cm-1, spacing 1.5-2.5 (median about 2)."""
    return np.round(400.1 + np.concatenate([[0.0], np.cumsum(rng.uniform(1.5, 2.5, n - 1))]),
                    3)


@pytest.mark.parametrize("name, end", [("100", "lead"), ("0", "lead"), ("5000", "trail")])
def test_a_numbered_column_apart_from_the_shifts_at_an_end_is_metadata(tmp_path, rng, name,
                                                                       end):
    # a column '100' of sample numbers before 400.1, 402.0, ... was read as a point at
    # 100 cm-1, 300 cm-1 from the next: the grid moved to 350-1800, the recipe flipped and
    # the saved model refused clean spectra of the same instrument
    axis = _uneven_axis(rng)
    X = np.round(rng.uniform(0.01, 0.05, (12, axis.size)), 5)
    numbers = [str(1000 + i) for i in range(12)]
    head = ["label", *([name] if end == "lead" else []), *map(repr, axis.tolist()),
            *([name] if end == "trail" else [])]
    rows = [",".join(["A" if i % 2 else "B", *([numbers[i]] if end == "lead" else []),
                      *map(repr, x.tolist()), *([numbers[i]] if end == "trail" else [])])
            for i, x in enumerate(X)]
    p = tmp_path / "t.csv"
    p.write_text("\n".join([",".join(head), *rows]) + "\n", encoding="ascii")
    col = 2 if end == "lead" else axis.size + 2
    with pytest.warns(RamancamWarning, match=rf"t\.csv, line 1: column {col} \('{name}'\) is "
                                             r"read as metadata, not as a Raman shift: "
                                             rf"{name} lies [\d.]+ cm-1 (before|after) the "
                                             r"other shift columns .* times their median "
                                             r"spacing") as rec:
        s = read(p, label_col="label")
    assert len(rec) == 1 and "\n" not in str(rec[0].message)
    assert s.wavenumbers.tolist() == axis.tolist()
    assert s.X.tolist() == X.tolist()
    assert s.meta[name].tolist() == numbers


def test_two_numbered_columns_apart_before_the_shifts_and_a_descending_axis(tmp_path, rng):
    axis = _uneven_axis(rng)[::-1]  # descending, a row index '0' and a sample number '7'
    p = tmp_path / "t.csv"
    p.write_text("0,7," + ",".join(map(repr, axis.tolist())) + "\n"
                 + "".join(f"{i},{70 + i}," + ",".join(["1.5"] * axis.size) + "\n"
                           for i in range(5)), encoding="ascii")
    with pytest.warns(RamancamWarning, match=r"is read as metadata") as rec:
        s = read(p)
    assert [str(w.message).split(": ")[1] for w in rec] == [
        "column 1 ('0') is read as metadata, not as a Raman shift",
        "column 2 ('7') is read as metadata, not as a Raman shift"]
    assert s.wavenumbers.tolist() == axis.tolist() and s.meta["7"].tolist()[0] == "70"


def test_a_few_numbered_columns_and_gaps_of_a_measured_axis_stay_shifts(tmp_path):
    # two windows of a measured axis (fingerprint and C-H stretch) and a few bands stay
    # shifts: the gap is inside the axis, or there are too few shifts for a median spacing
    windows = [*np.arange(400.0, 420.0, 2.0), *np.arange(2800.0, 2820.0, 2.0)]
    p = tmp_path / "w.csv"
    p.write_text("id," + ",".join(f"{w:g}" for w in windows) + "\n"
                 + "a," + ",".join(["1"] * len(windows)) + "\n", encoding="ascii")
    assert read(p).wavenumbers.tolist() == windows
    p.write_text("id,100,1001,1450,1660\na,1,2,3,4\n", encoding="ascii")
    assert read(p).wavenumbers.tolist() == [100.0, 1001.0, 1450.0, 1660.0]


def test_real_tables_keep_every_shift_column(shared_data):
    # no measured axis of the shared tables has an end point far enough from the others
    # to be taken for metadata (their end gaps are at most 1.4 median spacings)
    import gzip
    import warnings

    from ramancam.io.table import parse_table

    files = [shared_data / "drug-mabs" / "spectra.csv.gz", shared_data / "microplastics" /
             "spectra.csv", shared_data / "chondro-map" / "map.csv",
             *sorted((shared_data / "food").glob("*.csv")),
             *sorted((shared_data / "saliva-pd-ad").glob("*.csv"))]
    assert len(files) > 10
    for f in files:
        with (gzip.open(f, "rt") if f.suffix == ".gz" else f.open()) as fh:
            head = fh.readline()
            text = head + fh.readline() + fh.readline()
        shifts = [float(h) for h in head.strip().split(",") if h.strip() and
                  h.strip().lstrip("-").replace(".", "", 1).isdigit()]
        with warnings.catch_warnings():
            warnings.simplefilter("error", RamancamWarning)
            s = parse_table(text, source=str(f), drop_fill=False)
        assert s.wavenumbers.tolist() == shifts, f


def test_a_numbered_column_out_of_the_shifts_order_is_named(tmp_path, rng):
    # 'label,1001,400.095,402.626,...' was refused with "it changes direction at 402.626
    # (point 2) ... check that this column holds Raman shifts", naming neither the column
    # nor its name; far from the shifts it is now metadata, and near them it is named
    axis = _uneven_axis(rng)
    shifts = ",".join(f"{a:.4f}" for a in axis)
    rows = "".join(f"{lab},{5000 + i}," + ",".join(["0.03"] * axis.size) + "\n"
                   for i, lab in enumerate("ABABAB"))
    p = tmp_path / "numname.csv"
    p.write_text(f"label,1001,{shifts}\n{rows}", encoding="ascii")
    with pytest.warns(RamancamWarning, match=r"column 2 \('1001'\) is read as metadata"):
        s = read(p, label_col="label")
    assert s.wavenumbers.tolist() == np.round(axis, 4).tolist()
    assert s.meta["1001"].tolist()[:2] == ["5000", "5001"]
    p.write_text(f"label,401,{shifts}\n{rows}", encoding="ascii")
    with pytest.raises(RamancamError, match=r"numname\.csv, line 1: the shift columns must run "
                                            r"strictly up like most of them; got column 2 "
                                            r"\('401'\) out of order \(401, 400\.1, 40[12]\.\d+"
                                            r"\)\. Sort the shift columns, or give that column "
                                            r"a name that is not a number") as e:
        read(p, label_col="label")
    _one_line(e)
    # inside the run, the column out of order, not its neighbour (410 before 404, 405)
    p.write_text("id,400,402,410,404,405,406\na,1,2,3,4,5,6\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"got column 4 \('410'\) out of order "
                                            r"\(400, 402, 410, 404, 405\)"):
        read(p)
    p.write_text("id,406,405,404,403,410,401,400\na,1,2,3,4,5,6,7\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"run strictly down like most of them; got column "
                                            r"6 \('410'\) out of order"):
        read(p)


def _columns_text(first: str, names: list[str], axis: np.ndarray, Y: np.ndarray) -> str:
    """A table of one spectrum per column: ``first`` over the Raman shifts ``axis``, then a
    column per spectrum (``Y[:, j]`` under ``names[j]``)."""
    return (",".join([first, *names]) + "\n"
            + "".join(f"{a!r}," + ",".join(map(repr, y)) + "\n"
                      for a, y in zip(axis.tolist(), Y.tolist(), strict=True)))


@pytest.mark.parametrize("start", [1, 1001])
def test_spectra_in_columns_under_numbers_beside_a_shift_column_are_read_so(tmp_path, rng,
                                                                           start):
    # 'Raman shift (cm-1),1001,...,1040' over 1866 rows read as 1866 spectra of 40 points
    # (axis 1001-1040 cm-1) without a word, and predict then advised --grid 1001:1040:1
    axis = _uneven_axis(rng, 450)
    Y = np.round(rng.uniform(0.01, 0.05, (450, 40)), 5)
    names = [str(start + j) for j in range(40)]
    p = tmp_path / "cols.csv"
    p.write_text(_columns_text("Raman shift (cm-1)", names, axis, Y), encoding="ascii")
    with pytest.warns(RamancamWarning, match=rf"cols\.csv, line 1: read as one spectrum per "
                                             rf"column: 'Raman shift \(cm-1\)' runs from "
                                             rf"400\.1 to [\d.]+ over 450 rows like a "
                                             rf"Raman-shift axis, and the other 40 columns are "
                                             rf"named by numbers \({start}, {start + 1}, "):
        s = read(p)
    assert s.X.shape == (40, 450) and s.wavenumbers.tolist() == axis.tolist()
    assert s.X.tolist() == Y.T.tolist() and s.meta["id"].tolist() == names
    # as the same table reads with names that are no numbers
    p.write_text(_columns_text("Raman shift (cm-1)", [f"s{n}" for n in names], axis, Y),
                 encoding="ascii")
    np.testing.assert_array_equal(read(p).X, s.X)
    # semicolons and decimal commas, a descending axis, 'wavenumber' as the name
    q = tmp_path / "cols_eu.csv"
    q.write_text(_columns_text("wavenumber", names, axis[::-1], Y[::-1]).replace(",", ";")
                 .replace(".", ","), encoding="ascii")
    with pytest.warns(RamancamWarning, match=r"read as one spectrum per column"):
        t = read(q)
    assert t.wavenumbers.tolist() == axis[::-1].tolist() and t.X.tolist() == Y.T[:, ::-1].tolist()


def test_spectra_in_columns_under_numbers_that_cannot_be_read_so_are_refused(tmp_path, rng):
    axis = _uneven_axis(rng, 450)
    Y = np.round(rng.uniform(0.01, 0.05, (450, 40)), 5)
    p = tmp_path / "cols.csv"
    # pandas' df.to_csv() of more than 10 spectra (its unnamed index the shifts): refused
    # as it is for 10 or fewer
    p.write_text(_columns_text("", [str(j) for j in range(40)], axis, Y), encoding="ascii")
    with pytest.raises(RamancamError, match=r"cols\.csv, line 1: a wide table's header must "
                                            r"name its Raman shifts; got 40 numeric column "
                                            r"names \(0, 1, 2, 3, \.\.\.\) over 450 rows, and "
                                            r"column 1 runs from 400\.1 to [\d.]+ like a "
                                            r"Raman-shift axis: the spectra are in columns"
                                            ) as e:
        read(p)
    _one_line(e)
    # a shift column beside another metadata column: no table of spectra in columns
    text = _columns_text("shift", [f"{1001 + j}" for j in range(40)], axis, Y)
    lines = text.splitlines()
    p.write_text("\n".join([lines[0] + ",note"] + [ln + ",x" for ln in lines[1:]]) + "\n",
                 encoding="ascii")
    with pytest.raises(RamancamError, match=r"got 40 numeric column names \(1001, 1002, 1003, "
                                            r"1004, \.\.\.\) over 450 rows, and 'shift' runs "
                                            r"from 400\.1"):
        read(p)
    # nor with the shift column given as the label column, which it would ignore
    p.write_text(text, encoding="ascii")
    with pytest.raises(RamancamError, match=r"and 'shift' runs from 400\.1 to [\d.]+ like a "
                                            r"Raman-shift axis: the spectra are in columns"):
        read(p, label_col="shift")


def test_bands_or_channels_over_a_time_series_stay_a_wide_table(tmp_path, rng):
    # a named column that does not say shifts, beside numbers that are no 0, 1, 2, ... or
    # more than 10 of them: a time series of spectra, one per row
    Y = np.round(rng.uniform(0.01, 0.05, (450, 40)), 5)
    t = 0.5 * np.arange(450) + 3.0
    for names in ([str(1001 + j) for j in range(40)], [str(1 + j) for j in range(40)]):
        p = tmp_path / "series.csv"
        p.write_text(_columns_text("time_s", names, t, Y), encoding="ascii")
        s = read(p)
        assert s.X.shape == (450, 40) and s.meta["time_s"][0] == "3.0"


def test_a_broken_link_in_a_class_folder_is_said_not_dropped(tmp_path):
    # a link whose target is gone was left out without a word ('spectra: 2 from 2 files')
    import os

    for label in ("A", "B"):
        (tmp_path / label).mkdir()
        (tmp_path / label / f"{label}_1.txt").write_text("400\t1\n402\t2\n404\t3\n")
    os.symlink(tmp_path / "gone" / "x.txt", tmp_path / "A" / "dangling.txt")
    with pytest.warns(RamancamWarning, match=(
            r"^1 link in .* leads to no file \(its target is missing\), so it is not read: "
            r"A/dangling\.txt -> .*gone/x\.txt\. Restore its target or delete the link\.$")):
        s = read(tmp_path, labels_from="folder")
    assert s.class_counts() == {"A": 1, "B": 1}


def test_spectrum_files_skipped_for_a_note_s_name_are_said(tmp_path):
    # a spectrum named like a note ('readme_tablet3.txt', 'notes_1.csv') was left out of a
    # label folder without a word: its class lost a spectrum, or all of them
    import warnings

    spectrum = "400\t1\n402\t2\n404\t3\n"
    for label in ("A", "B"):
        (tmp_path / label).mkdir()
        (tmp_path / label / f"{label}_1.txt").write_text(spectrum)
    (tmp_path / "A" / "readme_tablet3.txt").write_text(spectrum)
    (tmp_path / "B" / "notes_1.csv").write_text(spectrum)
    (tmp_path / "B" / "notes_2.csv").write_text(spectrum)
    (tmp_path / "README.txt").write_text("Measured at 785 nm.\n")
    (tmp_path / "README.md").write_text("not of a readable kind: never a spectrum")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = read(tmp_path, labels_from="folder")
    assert s.class_counts() == {"A": 1, "B": 1}  # the same files read as before
    said = [str(w.message) for w in caught if issubclass(w.category, RamancamWarning)]
    assert len(said) == 1, said
    assert said[0] == (
        f"4 files of a readable kind in {str(tmp_path)!r} are not read because their names "
        "are those of notes (README, LICENSE, NOTICE, NOTES, CHANGELOG or CHANGES, then '.', "
        "'_' or '-'): A/readme_tablet3.txt, B/notes_1.csv, B/notes_2.csv and 1 more. If some "
        "are spectra, rename them, or name the files to read with --files GLOB (pattern= in "
        "Python).")
    (tmp_path / "B" / "notes_1.csv").unlink()
    (tmp_path / "B" / "notes_2.csv").unlink()
    (tmp_path / "A" / "readme_tablet3.txt").unlink()
    with pytest.warns(RamancamWarning, match=(
            r"^1 file of a readable kind in .* is not read because its name is one of notes "
            r"\(README, .*\): README\.txt\. If it is a spectrum, rename it, or name")):
        read(tmp_path, labels_from="folder")
    # a pattern reads what it names: nothing is skipped by name
    with warnings.catch_warnings():
        warnings.simplefilter("error", RamancamWarning)
        assert len(read(tmp_path, files="*_1.txt", labels_from="folder")) == 2
    # the command line says it once (printed as 'warning: 1 file of a readable kind ...')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["info", str(tmp_path), "--labels-from", "folder"]) == 0
    assert sum("because its name is one of notes" in str(w.message) for w in caught) == 1


@pytest.mark.parametrize("sep", [";", "\t"])
def test_long_maps_and_long_tables_read_points_grouping_thousands_beside_decimal_commas(
        tmp_path, sep):
    # the wide-table and two-column readers read '1.250' beside '987,5' as 1250; a long map
    # and a long table read 1.25, every count of 1000 or more a thousand times too small,
    # and refused '1.300,25' as no number ('1.300.25' in the long map's message)
    cells = ["987,5", "1.250", "1.300,25", "990"]
    want = [987.5, 1250.0, 1300.25, 990.0]
    long = tmp_path / "map_de.txt"
    long.write_text(sep.join(["X", "Y", "Wave", "Intensity"]) + "\n" + "".join(
        sep.join([x, "0", f"{400 + 2 * k},0", c]) + "\n"
        for x in ("0,5", "1") for k, c in enumerate(cells)), encoding="ascii")
    s = read(long)
    assert s.X.tolist() == [want, want] and s.meta["x"].tolist() == [0.5, 1.0]
    tidy = tmp_path / "tidy_de.txt"
    tidy.write_text(sep.join(["id", "label", "shift", "intensity"]) + "\n" + "".join(
        sep.join([f"s{i}", "A", f"{1000 + 2 * k},0".replace("1", "1.", 1), c]) + "\n"
        for i in range(2) for k, c in enumerate(cells)), encoding="ascii")
    t = read(tidy, label_col="label")
    assert t.wavenumbers.tolist() == [1000.0, 1002.0, 1004.0, 1006.0]
    assert t.X.tolist() == [want, want]
    # the two readings at once: refused as the other readers refuse it
    for path, head, row in ((long, "X;Y;Wave;Intensity", "0;0;{};{}"),
                            (tidy, "id;shift;intensity", "a;{};{}")):
        path.write_text("\n".join([head, row.format("400,5", "1.250"),
                                   row.format("401,5", "0.5")]) + "\n", encoding="ascii")
        with pytest.raises(RamancamError, match=(
                r"line 3: could not read '0\.5': this file writes decimal commas and groups "
                r"thousands with points \('1\.250' earlier\)(| in column 'intensity')\. "
                r"Write every number of the file one way\.$")):
            read(path)


def _either(cell: str, column: str = "") -> str:
    """The both-readings part of the refusal of ``cell`` ('1,861') in ``column``."""
    where = f" in column '{column}'" if column else ""
    return (rf"a number must read one way; got '{cell}'{where}, {cell.replace(',', '')} with a "
            rf"thousands separator or {cell.replace(',', '.')} with a decimal comma, and the "
            r"file writes decimal points")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_comma_before_three_digits_in_a_file_of_decimal_points_is_refused(tmp_path, sep):
    # '1,861' beside '1801.15' is most likely 1861 with a thousands comma: the two-column,
    # long-map and long-table readers read 1.861 without a word (the wide table too, when
    # its first rows wrote no point), a thousand times too small
    two = tmp_path / "two.txt"
    two.write_text(f"1800.21{sep}848\n1801.15{sep}1,861\n1802.09{sep}905\n", encoding="ascii")
    with pytest.raises(RamancamError, match=rf"two\.txt, line 2: {_either('1,861')} "
                                            r"\('1800\.21', line 1\)\. Save the file again "
                                            r"with decimal points and without thousands "
                                            r"separators\.$"):
        read(two)
    # the comma before the first point: the line of the comma is named
    two.write_text(f"1800{sep}1,861\n1801{sep}848\n1802.5{sep}905\n", encoding="ascii")
    with pytest.raises(RamancamError, match=rf"two\.txt, line 1: {_either('1,861')} "
                                            r"\('1802\.5', line 3\)"):
        read(two)
    long = tmp_path / "map.txt"
    long.write_text(sep.join(["X", "Y", "Wave", "Intensity"]) + "\n" + "".join(
        sep.join([x, "0", f"{1800 + k}.5", c]) + "\n"
        for x in ("0", "1") for k, c in enumerate(["848", "-1,861", "905"])), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"map\.txt, line 3: {_either('-1,861')} "
                                            r"\('1800\.5', line 2\)"):
        read(long)
    tidy = tmp_path / "tidy.txt"
    tidy.write_text(sep.join(["id", "label", "shift", "intensity"]) + "\n" + "".join(
        sep.join([f"s{i}", "A", f"{1800 + k}.5", c]) + "\n"
        for i in range(2) for k, c in enumerate(["848", "1,861", "905"])), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"tidy\.txt, line 3: "
                                            rf"{_either('1,861', 'intensity')} "
                                            r"\('1800\.5', line 2\)"):
        read(tidy, label_col="label")
    # a wide table whose first rows write no point: its points further down are decimal
    wide = tmp_path / "wide.txt"
    wide.write_text(sep.join(["id", "400", "401"]) + "\n" + "".join(
        sep.join(r) + "\n" for r in (["a", "848", "835"], ["b", "900", "910"],
                                     ["c", "1,861", "1.5"])), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"wide\.txt, line 4: {_either('1,861', '400')} "
                                            r"\('1\.5', line 4\)"):
        read(wide)
    # after an empty cell, a row before the point: that row's line and column are named
    wide.write_text(sep.join(["id", "400", "401", "402"]) + "\n" + "".join(
        sep.join(r) + "\n" for r in (["a", "848,5", "835", "1"], ["b", "", "1,861", "2"],
                                     ["c", "1", "2", "0.5"])), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"wide\.txt, line 3: {_either('1,861', '401')} "
                                            r"\('0\.5', line 4\)"):
        read(wide)
    # a header that writes points: the comma was refused as no number; now both readings
    wide.write_text(sep.join(["id", "400.0", "401.0"]) + "\n" + "".join(
        sep.join(r) + "\n" for r in (["a", "848", "835"], ["b", "1,861", "910"])),
        encoding="ascii")
    with pytest.raises(RamancamError, match=rf"wide\.txt, line 3: "
                                            rf"{_either('1,861', '400.0')} "
                                            r"\('400\.0', line 1\)"):
        read(wide)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_commas_that_cannot_be_thousands_keep_their_reading(tmp_path, sep):
    # beside decimal points: not three digits after the comma, or a 0 before it
    two = tmp_path / "two.txt"
    two.write_text(f"400,5{sep}0.125\n401,5{sep}0,125\n402,5{sep}1800,125\n", encoding="ascii")
    assert read(two).X[0].tolist() == [0.125, 0.125, 1800.125]
    # no decimal point in the file: '1,861' is a decimal comma, as before
    two.write_text(f"400{sep}1,861\n401{sep}2,5\n", encoding="ascii")
    assert read(two).X[0].tolist() == [1.861, 2.5]
    # points grouping thousands: the comma is a decimal comma
    two.write_text(f"400{sep}1.250,5\n401{sep}1,861\n", encoding="ascii")
    assert read(two).X[0].tolist() == [1250.5, 1.861]
    long = tmp_path / "map.txt"
    long.write_text(sep.join(["X", "Y", "Wave", "Intensity"]) + "\n" + "".join(
        sep.join([x, "0", f"{1800 + k},5", c]) + "\n"
        for x in ("0", "1") for k, c in enumerate(["1,861", "2,5"])), encoding="ascii")
    assert read(long).X.tolist() == [[1.861, 2.5], [1.861, 2.5]]


def test_a_wide_table_headed_in_nm_is_a_wavelength_axis(tmp_path, rng, capsys):
    # headers "800.000 nm": refused even with --laser-nm 785, asking for "Raman shifts in
    # cm-1" without a word of --laser-nm; now an axis in nm, as a "Wavelength (nm)" title is
    nm = np.arange(800.0, 900.0, 0.5)
    rows = "".join(f"s{i},{'ab'[i % 2]}," + ",".join(f"{v:.4f}" for v in rng.random(nm.size))
                   + "\n" for i in range(4))
    path = tmp_path / "nm.csv"
    path.write_text("id,label," + ",".join(f"{v:.3f} nm" for v in nm) + "\n" + rows,
                    encoding="ascii")
    s = read(path, label_col="label")
    np.testing.assert_allclose(s.wavenumbers, nm)
    assert s.meta["x_units"].tolist() == ["nm"] * 4
    assert main(["info", str(path)]) == 2
    assert "give --laser-nm NM (the excitation laser" in capsys.readouterr().err
    assert main(["info", str(path), "--laser-nm", "785"]) == 0
    lo, hi = 1e7 / 785 - 1e7 / nm[0], 1e7 / 785 - 1e7 / nm[-1]
    assert f"axis:      {lo:.1f} to {hi:.1f} cm-1, ascending" in capsys.readouterr().out
    # the same table headed "800.000 cm-1" is Raman shifts, as before
    path.write_text("id,label," + ",".join(f"{v:.3f} cm-1" for v in nm) + "\n" + rows,
                    encoding="ascii")
    s = read(path, label_col="label")
    assert "x_units" not in s.meta and s.wavenumbers[0] == 800.0
    # wavelengths beside Raman shifts in one header: refused, not read as one axis
    path.write_text("id,label,800.0 nm,801.0 nm,802.0 cm-1\na,b,1,2,3\n", encoding="ascii")
    with pytest.raises(RamancamError, match=r"mixes wavelengths \(nm\) and Raman shifts; "
                       r"got .802.0 cm-1. beside .800.0 nm."):
        read(path)
