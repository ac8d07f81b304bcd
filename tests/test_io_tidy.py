"""Long ("tidy") tables: a row per point beside id/label columns (``ramancam.io.tidy``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _memory import traced_peak
from _vendor_files import read_or_one_line_error
from ramancam import RamancamError
from ramancam.cli import main
from ramancam.io import file_format, read, read_table, sniff_kind

AXIS = np.arange(400.0, 440.0, 2.0)


def _spectra(rng):
    """Four spectra of two classes on AXIS: ids, labels, batches, intensities."""
    ids = ["s1", "s2", "s3", "s4"]
    labels = ["PE", "PP", "PE", "PP"]
    batch = ["b1", "b1", "b2", "b2"]
    X = rng.normal(1.0, 0.1, (4, AXIS.size))
    return ids, labels, batch, X


def melted(ids, labels, batch, X, sep=",", shift_name="Raman shift (cm-1)"):
    """As pandas ``df.melt(id_vars=[...])`` writes it: the spectra interleaved, shift by
    shift, with the index as an unnamed first column."""
    lines = [sep.join(["", "id", "label", "batch", shift_name, "intensity"])]
    k = 0
    for j, w in enumerate(AXIS):
        for i in range(len(ids)):
            lines.append(sep.join([str(k), ids[i], labels[i], batch[i], repr(float(w)),
                                   repr(float(X[i, j]))]))
            k += 1
    return "\n".join(lines) + "\n"


def test_a_melted_table_reads_as_its_wide_table(tmp_path, rng):
    ids, labels, batch, X = _spectra(rng)
    path = tmp_path / "long.csv"
    path.write_text(melted(ids, labels, batch, X))
    assert sniff_kind(path.read_text()) == "tidy" and file_format(path) == "tidy"
    s = read(path, label_col="label")
    assert s.has_common_axis and np.array_equal(s.wavenumbers, AXIS)
    np.testing.assert_array_equal(s.X, X)
    assert s.labels.tolist() == labels and s.ids == ids
    assert sorted(s.meta) == ["batch", "id"]  # the index column (no name) is left out
    unlabelled = read(path)
    assert unlabelled.labels is None and unlabelled.meta["label"].tolist() == labels
    # the same through the command line: info names the format, convert writes it wide
    assert main(["convert", str(path), str(tmp_path / "wide.csv"), "--label-col", "label"]) == 0
    w = read_table(tmp_path / "wide.csv", label_col="label")
    np.testing.assert_allclose(w.X, X)
    assert w.labels.tolist() == labels


def test_row_by_row_and_line_by_line_paths_read_the_same(rng):
    # Plain rows are read one line at a time into arrays; rows the parser cannot take that
    # way (a lone carriage return as line end, a bad value) go the line-by-line path that
    # names errors. Both give the same spectra, with quotes, comments, blank lines,
    # Windows line ends and decimal commas.
    from ramancam.io.tidy import _kept_rows, _stream_rows, parse_tidy

    ids, labels, batch, X = _spectra(rng)
    plain = melted(ids, labels, batch, X)
    lines = plain.splitlines(keepends=True)
    texts = {
        "plain": plain,
        "crlf": plain.replace("\n", "\r\n"),
        "comment and blank lines": "".join([*lines[:5], "# note\n", "\n", *lines[5:]]),
        "quoted ids": plain.replace(",s1,", ',"s1",'),
        "semicolons, decimal commas": melted(ids, labels, batch, X, sep=";").replace(".", ","),
    }
    for name, text in texts.items():
        s = parse_tidy(text, source="t.csv", label_col="label")
        np.testing.assert_array_equal(s.X, X, err_msg=name)
        assert s.labels.tolist() == labels and s.meta["id"].tolist() == ids, name
        names = ["", "id", "label", "batch", "shift", "intensity"]
        sep = ";" if "semicolons" in name else ","
        args = (text, 1, sep, 6, 4, 5, [1, 2, 3], sep == ";")
        fast = _stream_rows(*args)
        assert fast is not None, name
        slow = _kept_rows(*args, "t.csv", names)
        for a, b in zip(fast[:4], slow[:4], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
        assert fast[4] == slow[4], name
    # old Mac line ends take the line-by-line path, and read the same
    assert _stream_rows(plain.replace("\n", "\r"), 1, ",", 6, 4, 5, [1, 2, 3], False) is None
    np.testing.assert_array_equal(
        parse_tidy(plain.replace("\n", "\r"), label_col="label").X, X)


def test_a_long_table_is_held_as_arrays_not_python_objects(rng):
    # Counted by tracemalloc, not timed: 200 spectra x 250 points = 50,000 rows used to
    # be held as lists of cells (75x the spectra's array); now as four numbers per row
    # (shift, intensity, spectrum, line: 4x) and numpy's sorting temporaries.
    from ramancam.io.tidy import parse_tidy

    n, p = 200, 250
    X = np.round(rng.random((n, p)), 5)
    axis = np.linspace(400, 1800, p)
    rows = ["id,label,shift,intensity\n"]
    rows += [f"s{i},{'AB'[i % 2]},{float(axis[j])!r},{float(X[i, j])!r}\n"
             for j in range(p) for i in range(n)]
    text = "".join(rows)
    s, peak = traced_peak(parse_tidy, text, label_col="label")
    np.testing.assert_array_equal(s.X, X)
    assert peak < 12 * X.nbytes, f"parsing took {peak / X.nbytes:.1f}x the spectra's array"


def test_info_names_the_format(tmp_path, rng, capsys):
    path = tmp_path / "long.csv"
    path.write_text(melted(*_spectra(rng)))
    assert main(["info", str(path), "--label-col", "label"]) == 0
    out = capsys.readouterr().out
    assert "  format:    long table (a row per point)" in out
    assert "classes:   2: PE (2), PP (2)" in out


def test_own_axes_any_order_semicolons_and_decimal_commas(tmp_path):
    rows = ["sample;Wavenumber;Counts"]
    # spectrum a descending, spectrum b on another (shorter) axis, rows interleaved
    a = [(430.5, 4.25), (420.5, 3.25), (410.5, 2.25), (400.5, 1.25)]
    b = [(w, 5.0) for w in (402.0, 412.0, 422.0)]
    for (wa, ya), (wb, yb) in zip(a, [*b, (None, None)], strict=True):
        rows.append(f"a;{wa:.1f};{ya:.2f}".replace(".", ","))
        if wb is not None:
            rows.append(f"b;{wb:.1f};{yb:.1f}".replace(".", ","))
    path = tmp_path / "long.txt"
    path.write_text("\n".join(rows) + "\n")
    s = read(path)
    assert not s.has_common_axis and s.meta["sample"].tolist() == ["a", "b"]
    np.testing.assert_array_equal(s.axes[0], [400.5, 410.5, 420.5, 430.5])
    np.testing.assert_array_equal(s.intensities[0], [1.25, 2.25, 3.25, 4.25])
    np.testing.assert_array_equal(s.axes[1], [402.0, 412.0, 422.0])


def test_positions_become_numbers_for_maps(tmp_path):
    text = "id x y shift intensity\n"
    for i, (x, y) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        for w in AXIS:
            text += f"p{i} {x} {y} {w} {i + w / 1000}\n"
    path = tmp_path / "map.txt"
    path.write_text(text)
    assert sniff_kind(text) == "tidy"  # an id column beside x, y: not WiRE's long map
    s = read(path)
    assert s.meta["x"].dtype == np.float64 and s.meta["x"].tolist() == [0, 1, 0, 1]
    assert s.meta["y"].tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize("text, message", [
    ("id,shift,intensity\na,400,1\na,401\n",
     r"line 3: every row must have 3 fields, as the header has; got 2\. Fix that line\."),
    ("id,shift,intensity\na,400,1\na,401,high\n",
     r"line 3: column 'intensity' must hold numbers; could not read a number from 'high'"),
    ("id,shift,intensity\na,400,1\na,inf,2\n",
     r"line 3: column 'shift' must hold finite numbers; got 'inf'"),
    ("id,shift,intensity\na,400,1\nb,400,1\na,401,2\na,400,3\nb,401,1\n",
     r"line 5: each spectrum must have each Raman shift once; got 400 twice for the spectrum "
     r"id=a \(lines 2 and 5\)"),
    ("id,shift,intensity\na,400,1\na,401,2\nb,400,1\n",
     r"line 4: each spectrum must have at least 2 points; got 1 for the spectrum id=b"),
    ("id,shift,intensity\n\n# nothing yet\n",
     r"must hold at least one data row under the header; got none"),
])
def test_errors_name_file_line_and_fix(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(RamancamError, match=message) as err:
        read(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_label_col_must_be_one_of_the_other_columns(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,group,shift,intensity\na,g,400,1\na,g,401,2\n")
    with pytest.raises(RamancamError, match=r"line 1: label column must be one of the "
                                            r"table's columns; got 'label', but the columns "
                                            r"beside 'shift' and 'intensity' are 'id', "
                                            r"'group'\."):
        read(path, label_col="label")


def test_other_layouts_keep_their_readers():
    assert sniff_kind("shift,intensity\n400,1\n401,2\n") == "two_column"
    assert sniff_kind("#X\t#Y\t#Wave\t#Intensity\n0\t0\t401\t1\n0\t0\t400\t2\n") == "long"
    assert sniff_kind("id,label,400,401\na,b,1,2\n") == "table"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 5))
def test_damaged_long_tables_read_or_fail_in_one_line(tail, cut):
    head = b"id,label,shift,intensity\na,x,400,1\na,x,401,2\nb,y,400,3\nb,y,401,4\n"
    read_or_one_line_error(head[:len(head) - cut] + tail, "long.csv")


def test_a_folder_of_long_tables_with_a_label_column(tmp_path, rng):
    ids, labels, batch, X = _spectra(rng)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.csv").write_text(melted(ids[:2], labels[:2], batch[:2], X[:2]))
    (tmp_path / "d" / "two.csv").write_text(melted(ids[2:], labels[2:], batch[2:], X[2:]))
    s = read(tmp_path / "d", label_col="label")
    assert s.labels.tolist() == labels and s.ids == ids
    np.testing.assert_array_equal(s.X, X)


def test_a_shift_intensity_sd_file_is_not_taken_for_spectra_named_by_sd(tmp_path):
    # 'shift, intensity, sd' was read as a long table with sd as the id: "got 1 point for
    # the spectrum sd=63.25. Check the id columns"
    rows = ["shift\tintensity\tsd"] + [f"{300 + 2 * i:.1f}\t{1000 + i % 4:.2f}\t"
                                       f"{(1000 + i % 4) ** 0.5:.2f}" for i in range(40)]
    rows.append("380.0\t4000.00\t63.25")
    p = tmp_path / "three.txt"
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(RamancamError, match=r"line 42: the columns beside 'shift' and "
                                            r"'intensity' must name the spectra of a long "
                                            r"table \(one row per point\); got 'sd', numbers "
                                            r"that change from point to point"):
        read(p)
    # a numeric id that names spectra of several points each still reads
    q = tmp_path / "ids.txt"
    q.write_text("shift\tintensity\tspectrum\n" + "".join(
        f"{300 + i}\t{k + i}\t{k}\n" for k in (1, 2) for i in range(5)))
    assert len(read(q)) == 2
