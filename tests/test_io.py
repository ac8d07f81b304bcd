"""Readers and writers: wide tables, two-column and RRUFF text, folders, atomic writing."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import numpy as np
import pytest

from _memory import traced_peak
from ramancam import RamancamError, RamancamWarning, Spectra
from ramancam.cli import main
from ramancam.io import (
    atomic_write,
    describe,
    example_path,
    read,
    read_folder,
    read_rruff,
    read_table,
    read_two_column,
    sniff_kind,
    write_table,
)
from ramancam.io._example import HEADER, make_example
from ramancam.io.table import parse_table


def _lorentz(x, x0, w=10.0):
    return 1.0 / (1.0 + ((x - x0) / (w / 2)) ** 2)


def _write_xy(path: Path, x, y, sep="\t", comments=("# a comment",), headers=()):
    lines = list(comments) + [f"##{k}={v}" for k, v in headers]
    lines += [f"{float(a)!r}{sep}{float(b)!r}" for a, b in zip(x, y, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ wide tables
@pytest.mark.parametrize("sep", [",", "\t", ";", " "])
def test_read_table_delimiters_and_metadata(tmp_path, rng, sep):
    axis = np.array([400.5, 401.7, 403.2, 405.0])
    X = rng.normal(size=(3, 4))
    head = sep.join(["id", "label", "batch", *map(repr, axis.tolist())])
    rows = [sep.join([f"s{i}", "AB"[i % 2], str(10 + i), *map(repr, X[i].tolist())])
            for i in range(3)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    s = read_table(path, label_col="label")
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.wavenumbers, axis)
    assert s.labels.tolist() == ["A", "B", "A"]
    assert list(s.meta) == ["id", "batch"]
    assert s.meta["batch"].tolist() == ["10", "11", "12"]  # metadata stays text
    assert s.sources.tolist() == [str(path)] * 3


def test_read_table_gzip_comments_descending_and_mixed_column_order(tmp_path):
    text = ("# made by hand\n#\nid,1000.0,note,999.0,998.0\n"
            "a,1,x,2,3\n\nb,4,\"y, z\",5,6\n")
    path = tmp_path / "t.tsv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    s = read(path)
    assert s.wavenumbers.tolist() == [1000.0, 999.0, 998.0]
    assert s.X.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert s.meta["note"].tolist() == ["x", "y, z"]
    assert s.labels is None


def test_a_damaged_shift_among_the_shifts_is_refused_not_read_as_metadata(tmp_path):
    # '1782.0x9' between two shifts became a metadata column and its point was dropped
    path = tmp_path / "t.csv"
    path.write_text("id,label,1780.16,1782.0x9,1784.02\na,A,1,2,3\nb,B,4,5,6\n",
                    encoding="utf-8")
    with pytest.raises(RamancamError, match=r"t\.csv, line 1: column 4 \('1782\.0x9'\) "
                                            r"must be a Raman shift like the columns beside "
                                            r"it \(1780\.16 and 1784\.02\)"):
        read(path)


def test_read_table_unlabelled_has_all_text_columns_as_meta(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("label,1,2,3\nA,1,2,3\n", encoding="utf-8")
    s = read_table(path)
    assert s.labels is None and s.meta["label"].tolist() == ["A"]


def test_write_table_round_trips_exactly(tmp_path, rng):
    X = rng.normal(size=(5, 7)) * 10.0 ** rng.integers(-8, 8, size=(5, 7))
    axis = np.sort(rng.uniform(100, 3000, size=7))[::-1]
    s = Spectra(X, axis, labels=["a", "b", "a", "c", "b"],
                meta={"note": ["x, y", 'quote"d', "", "é", "cr\r"], "n": [1, 2, 3, 4, 5],
                      "a;b|c": ["t\tab", "l\nf", " ", "#", "1,5"]})
    for name in ("out.csv", "out.csv.gz"):
        path = tmp_path / name
        write_table(s, path)
        back = read_table(path, label_col="label")
        np.testing.assert_array_equal(back.X, X)  # bit-exact
        np.testing.assert_array_equal(back.wavenumbers, axis)
        assert back.labels.tolist() == s.labels.tolist()
        assert back.meta["note"].tolist() == s.meta["note"].tolist()
        assert back.meta["n"].tolist() == ["1", "2", "3", "4", "5"]
        assert back.meta["a;b|c"].tolist() == s.meta["a;b|c"].tolist()
    head = gzip.decompress((tmp_path / "out.csv.gz").read_bytes())
    assert head.startswith(b'label,note,n,"a;b|c",')


def test_write_table_float32_round_trips(tmp_path, rng):
    X = rng.normal(size=(2, 3)).astype(np.float32)
    s = Spectra(X, [1.0, 2.0, 3.0])
    write_table(s, tmp_path / "f.csv")
    back = read_table(tmp_path / "f.csv")
    np.testing.assert_array_equal(back.X.astype(np.float32), X)
    assert back.labels is None


def test_write_table_refuses_ragged(tmp_path):
    s = Spectra([np.ones(3), np.ones(4)], [np.arange(3.0), np.arange(4.0) + 0.5])
    with pytest.raises(RamancamError, match=r"must share one axis.*Resample"):
        write_table(s, tmp_path / "r.csv")
    assert not list(tmp_path.iterdir())


def test_write_table_keeps_spectra_of_different_ranges_on_one_axis(tmp_path):
    axis = np.array([1800.0, 1000.5, 700.25, 400.0])  # descending, uneven
    s = Spectra([np.array([1.5, 2.0]), np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.1, 0.2])],
                [axis[1:3], axis, axis[2:]], labels=["a", "b", "a"])
    write_table(s, tmp_path / "r.csv")
    back = read_table(tmp_path / "r.csv", label_col="label")
    assert [a.tolist() for a in back.axes] == [a.tolist() for a in s.axes]
    assert [x.tolist() for x in back.intensities] == [x.tolist() for x in s.intensities]
    assert (tmp_path / "r.csv").read_text().splitlines()[1] == "a,,1.5,2.0,"
    assert main(["convert", str(tmp_path / "r.csv"), str(tmp_path / "c.csv")]) == 0
    assert read_table(tmp_path / "c.csv").axes[2].tolist() == [700.25, 400.0]


@pytest.mark.parametrize(("meta", "label_col", "match"), [
    ({"400": ["x"]}, "label", "not a number"),
    ({"#c": ["x"]}, "label", "start with '#'"),
    ({"label": ["x"]}, "label", "must be unique"),
    ({}, " pad", "surrounding spaces"),
])
def test_write_table_refuses_names_that_would_not_read_back(tmp_path, meta, label_col, match):
    s = Spectra(np.ones((1, 2)), [1.0, 2.0], labels=["a"], meta=meta)
    with pytest.raises(RamancamError, match=match):
        write_table(s, tmp_path / "x.csv", label_col=label_col)


def test_write_table_keeps_empty_labels(tmp_path):
    s = Spectra(np.ones((2, 2)), [1.0, 2.0], labels=["", "a"])
    write_table(s, tmp_path / "x.csv")
    assert read_table(tmp_path / "x.csv", label_col="label").labels.tolist() == ["", "a"]


def test_read_table_round_trips_a_large_table(tmp_path, rng):
    # 999 x 1866 like the real drug set (its speed is a benchmark's business, not a test's:
    # wall-clock limits fail on a loaded machine).
    X = np.round(rng.normal(size=(999, 1866)), 6)
    s = Spectra(X, np.linspace(400, 4000, 1866), labels=rng.choice(list("ABQR"), 999))
    write_table(s, tmp_path / "big.csv")
    back = read_table(tmp_path / "big.csv", label_col="label")
    np.testing.assert_array_equal(back.X, X)
    np.testing.assert_array_equal(back.labels, s.labels)


def test_read_table_holds_the_numbers_once_not_as_python_floats(tmp_path, rng):
    # Memory, counted by tracemalloc (numpy reports its arrays to it), not timed: parsing
    # 3000 x 400 numbers used to build a list of Python floats (about 4x the array) and a
    # list of every line (the text once more) before the array.
    X = np.round(rng.random((3000, 400)), 5)
    s = Spectra(X, np.linspace(400, 1800, 400), meta={"id": [f"s{i}" for i in range(3000)]})
    write_table(s, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    back, peak = traced_peak(parse_table, text, source="t.csv")
    np.testing.assert_array_equal(back.X, X)
    assert back.meta["id"][-1] == "s2999"
    # the array, the read-only copy that Spectra keeps, and the metadata: about 2.2x
    assert peak < 3 * X.nbytes, f"parsing took {peak / X.nbytes:.1f}x the array's memory"


@pytest.mark.parametrize("end", ["\r\n", "\r", "\x0b", "\u2028"])
def test_tables_with_any_line_end_read_as_with_newlines(end):
    # The rows' array is sized by the lines; line ends other than "\n" must not overflow it.
    wide = "id,400,401,402\na,1,2,3\nb,4,5,6\nc,7,8,9\n"
    columns = "shift,a,b\n400,1,2\n401,3,4\n402,5,6\n403,7,8\n"
    for text in (wide, columns):
        want = parse_table(text)
        if end in ("\x0b", "\u2028"):  # line ends that only str.splitlines knows
            text = text.replace(",", " ")
        got = parse_table(text.replace("\n", end))
        np.testing.assert_array_equal(got.X, want.X)
        np.testing.assert_array_equal(got.wavenumbers, want.wavenumbers)


# ------------------------------------------------------------- one-spectrum text
@pytest.mark.parametrize("sep", ["\t", ",", " ", ", ", "   ", ";"])
def test_two_column_separators(tmp_path, sep):
    x = np.array([100.0, 101.5, 103.25, 110.0])
    y = _lorentz(x, 102.0)
    s = read_two_column(_write_xy(tmp_path / "a.txt", x, y, sep=sep))
    np.testing.assert_array_equal(s.wavenumbers, x)
    np.testing.assert_array_equal(s.X[0], y)
    assert s.meta == {}


def test_two_column_descending_uneven_kept_and_titles_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("# x\nshift,intensity\n1800,1\n1500.5,2\n1490,3\n\n", encoding="utf-8")
    s = read(path)
    assert s.wavenumbers.tolist() == [1800.0, 1500.5, 1490.0]
    assert s.X.tolist() == [[1.0, 2.0, 3.0]]


def test_rruff_headers_become_metadata_and_end_stops(tmp_path):
    path = tmp_path / "Quartz__R1.txt"
    path.write_bytes(b"##NAMES=Quartz\r\n##RRUFFID=R040031\r\n##IDEAL CHEMISTRY=SiO_2_\r\n"
                     b"100.5, 1.0\r\n102.0, 2.0\r\n103.9, 0.5\r\n##END=\r\n\r\n9, 9\r\n")
    s = read_rruff(path)
    assert s.wavenumbers.tolist() == [100.5, 102.0, 103.9]
    assert s.meta["NAMES"].tolist() == ["Quartz"]
    assert s.meta["IDEAL CHEMISTRY"].tolist() == ["SiO_2_"]
    assert "END" not in s.meta
    assert sniff_kind(path.read_text()) == "rruff"
    assert read(path).meta["RRUFFID"].tolist() == ["R040031"]


def test_an_rruff_file_cut_inside_its_last_line_is_refused(tmp_path):
    # cut inside '1450.657, 107.867' it was read with 10 for the last intensity
    head = b"##NAMES=Quartz\n##RRUFFID=R040031\n100.5, 1.0\n102.0, 2.0\n"
    (tmp_path / "cut.txt").write_bytes(head + b"103.9, 10")
    with pytest.raises(RamancamError, match=r"cut\.txt, line 5: the data of a file with "
                                            r"##KEY=value headers must end with a ##END= line"):
        read(tmp_path / "cut.txt")
    (tmp_path / "lines.txt").write_bytes(head + b"103.9, 107.867\n")  # whole lines: read
    assert read(tmp_path / "lines.txt").X.tolist() == [[1.0, 2.0, 107.867]]
    (tmp_path / "plain.txt").write_bytes(b"100.5, 1.0\n102.0, 2.0\n103.9, 10")  # no headers
    assert read(tmp_path / "plain.txt").X.shape == (1, 3)
    # complete last lines: a blank after the newline, a header line last, a trailing tab
    for k, tail in enumerate((b"103.9, 3\n ", b"103.9, 3\n##ORIGIN=me", b"103.9, 3\t")):
        (tmp_path / f"ok{k}.txt").write_bytes(head + tail)
        assert read(tmp_path / f"ok{k}.txt").X.tolist() == [[1.0, 2.0, 3.0]]


def test_utf16_and_latin1_text(tmp_path):
    (tmp_path / "u.txt").write_bytes("# Raman shift / cm⁻¹\n1\t2\n2\t3\n".encode("utf-16"))
    assert read(tmp_path / "u.txt").X.tolist() == [[2.0, 3.0]]
    (tmp_path / "l.txt").write_bytes("# \u00e9chantillon\n1\t2\n2\t3\n".encode("latin-1"))
    assert read(tmp_path / "l.txt").X.tolist() == [[2.0, 3.0]]


def test_windows_text_reads_its_dashes_and_quotes(tmp_path):
    # Text from Windows software (cp1252) was read as latin-1: the en dash of a header
    # 'label – type' and a class 'Tablet™ 5 mg' became invisible control characters
    # ('label \x96 type', 'Tablet\x99 5 mg') in every output.
    text = "id,label \u2013 type,400,401\na,Tablet\u2122 5 mg,1,2\nb,caf\u00e9,2,3\n"
    (tmp_path / "w.csv").write_bytes(text.encode("cp1252"))
    d = read(tmp_path / "w.csv", label_col="label \u2013 type")
    assert sorted(d.labels) == ["Tablet\u2122 5 mg", "caf\u00e9"]
    # the bytes cp1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d): latin-1, still read
    (tmp_path / "u.csv").write_bytes(b"id,label,400,401\na,x\x81y,1,2\n")
    assert list(read(tmp_path / "u.csv", label_col="label").labels) == ["x\x81y"]


def test_sniff_kind():
    assert sniff_kind("# c\n1\t2\n") == "two_column"
    assert sniff_kind("id,1,2\na,3,4\n") == "table"
    assert sniff_kind("# c\n##NAMES=x\n1, 2\n") == "rruff"
    assert sniff_kind("100,5;1,25\n") == "two_column"  # decimal commas, ';' between
    assert sniff_kind("100,5\t1,25\n") == "two_column"  # decimal commas, tab between
    assert sniff_kind("id\t400,5\t401,5\na\t1,0\t2,0\n") == "table"


# ----------------------------------------------------------------------- folders
def _folder_of_classes(root: Path) -> None:
    for label, x0 in (("alpha", 500.0), ("beta", 900.0)):
        (root / label).mkdir(parents=True)
        for k in range(3):
            # each file its own (uneven) axis
            x = np.linspace(300.0 + k, 1200.0 - k, 50 + k)
            _write_xy(root / label / f"{label}_{k}.txt", x, _lorentz(x, x0),
                      headers=(("NAMES", label.upper()), ("RRUFFID", f"R{k}")))


def test_folder_labels_from_folder_header_regex(tmp_path):
    _folder_of_classes(tmp_path)
    (tmp_path / "README.md").write_text("not a spectrum")
    (tmp_path / ".hidden.txt").write_text("junk")
    # notes kept beside the spectra, with the suffixes spectra have
    (tmp_path / "readme.txt").write_text("Measured on 2024-01-01 at 785 nm, 10 s.\n")
    (tmp_path / "alpha" / "LICENSE.txt").write_text("CC BY 4.0\n")
    (tmp_path / "NOTICE.csv").write_text("x\n")
    (tmp_path / "beta" / "notes.txt").write_text("sample 3 was wet\n")
    s = read_folder(tmp_path, labels_from="folder")
    assert len(s) == 6 and not s.has_common_axis
    assert s.class_counts() == {"alpha": 3, "beta": 3}
    assert [Path(p).name for p in s.sources] == [
        "alpha_0.txt", "alpha_1.txt", "alpha_2.txt", "beta_0.txt", "beta_1.txt", "beta_2.txt"]
    assert [a.size for a in s.axes] == [50, 51, 52, 50, 51, 52]
    with pytest.raises(RamancamError, match="needs spectra on one common axis"):
        _ = s.X
    h = read(tmp_path, labels_from="header:NAMES")
    assert h.classes == ["ALPHA", "BETA"]
    assert h.meta["RRUFFID"].tolist() == ["R0", "R1", "R2"] * 2
    assert read(tmp_path, labels_from="header:names").classes == ["ALPHA", "BETA"]
    r = read(tmp_path, labels_from=r"regex:_(\d)\.txt$")
    assert r.labels.tolist() == ["0", "1", "2"] * 2
    assert read_folder(tmp_path, labels_from="regex:^[a-z]+").classes == ["alpha", "beta"]
    assert read(tmp_path).labels is None
    # a pattern that asks for a note reads it (and says what is wrong with it)
    with pytest.raises(RamancamError, match=r"readme\.txt, line 1"):
        read_folder(tmp_path, pattern="readme.txt")


def test_folder_manifest_sets_files_and_order(tmp_path, monkeypatch):
    _folder_of_classes(tmp_path)
    (tmp_path / "m.csv").write_text(
        "file,label\nbeta/beta_1.txt,B\nalpha/alpha_0.txt,A\n", encoding="utf-8")
    # the files the manifest leaves out are not read, and said (a typo dropped one unsaid)
    with pytest.warns(RamancamWarning, match=r"^4 files of a readable kind in .* are not in "
                                             r"the manifest, so not read: alpha/alpha_1\.txt, "
                                             r"alpha/alpha_2\.txt, beta/beta_0\.txt and 1 "
                                             r"more\. Add a row"):
        s = read(tmp_path, labels_from="manifest:m.csv")
    assert s.labels.tolist() == ["B", "A"]
    assert [Path(p).name for p in s.sources] == ["beta_1.txt", "alpha_0.txt"]
    # an absolute manifest path works too
    with pytest.warns(RamancamWarning, match="not in the manifest"):
        s2 = read_folder(tmp_path, labels_from=f"manifest:{tmp_path / 'm.csv'}")
    assert s2.labels.tolist() == ["B", "A"]
    # and one under ~ (no shell expands it after 'manifest:')
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.warns(RamancamWarning, match="not in the manifest"):
        assert read_folder(tmp_path, labels_from="manifest:~/m.csv").labels.tolist() == [
            "B", "A"]


def test_folder_pattern_and_common_axis(tmp_path):
    x = np.arange(10.0)
    for i in range(3):
        _write_xy(tmp_path / f"s{i}.dat", x, np.full(10, float(i)))
    _write_xy(tmp_path / "other.txt", x, np.zeros(10))
    s = read_folder(tmp_path, pattern="*.dat")
    assert s.has_common_axis and s.X[:, 0].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.filterwarnings("ignore:.*linked folder")
def test_folder_files_as_users_have_them(tmp_path, monkeypatch):
    # a class folder that is a link (rglob did not enter it: the class went missing
    # unsaid), an Excel lock file beside a workbook (it stopped the read), a pattern in
    # lower case for files in upper case (the class went missing unsaid), an absolute
    # pattern (a traceback)
    import os

    data, ext = tmp_path / "data", tmp_path / "ext"
    _folder_of_classes(data)
    _folder_of_classes(ext / "more")
    os.symlink(ext / "more" / "alpha", data / "gamma")
    os.symlink(data, data / "alpha" / "up")  # a loop: entered once
    # a link to a class folder of this folder, met first ('a' < 'beta'), took its files
    # and labelled them 'a'
    (data / "a").mkdir()
    os.symlink(data / "beta", data / "a" / "also_beta")
    (data / "beta" / "~$book.xlsx").write_bytes(b"owner")
    with pytest.warns(RamancamWarning, match=r"^2 linked folders in .* lead to a folder read "
                                             r"already, so their files are read once, under "
                                             r"that folder's own name: a/also_beta, alpha/up"):
        s = read_folder(data, labels_from="folder")
    assert s.class_counts() == {"alpha": 3, "beta": 3, "gamma": 3}
    for f in (data / "beta").glob("*.txt"):
        f.rename(f.with_suffix(".TXT"))
    assert read_folder(data, labels_from="folder", pattern="*.txt").class_counts() == {
        "alpha": 3, "beta": 3, "gamma": 3}
    assert read_folder(data, labels_from="folder", pattern="b*/*_[!1].txt").class_counts(
        ) == {"beta": 2}
    assert read_folder(data, labels_from="folder", pattern="**/alpha_0.txt").class_counts(
        ) == {"alpha": 1, "gamma": 1}
    assert len(read_folder(data, pattern=str(data / "alpha" / "*.txt"))) == 3
    # patterns as fnmatch reads them: ./ and // parts, odd sets (re.error tracebacks)
    assert len(read_folder(data, pattern="./alpha//*.txt")) == 3
    assert len(read_folder(data, pattern="alpha/alpha_[!12].txt")) == 1
    # an absolute pattern through a link to the current folder ($PWD), the folder relative
    os.symlink(tmp_path, tmp_path.parent / f"{tmp_path.name}-link")
    monkeypatch.chdir(tmp_path.parent / f"{tmp_path.name}-link")
    pwd = tmp_path.parent / f"{tmp_path.name}-link"
    assert len(read_folder("data", pattern=str(pwd / "data" / "alpha" / "*.txt"))) == 3
    for odd in ("[z-a]*.txt", "s[^]1.txt", "s[[]1.txt"):
        with pytest.raises(RamancamError, match="must contain spectrum files matching"):
            read_folder(data, pattern=odd)
    # a pattern with a '/' is anchored at the folder, also when the '/' is all that is left
    # ('./*.txt' and '/abs/DATA/*.txt' read every sub-folder's files); an absolute one into
    # a linked class folder is inside the folder read (it was refused)
    x = np.arange(10.0)
    _write_xy(data / "top.txt", x, np.ones(10))
    for pattern in ("./*.txt", str(pwd / "data" / "*.txt"), str(data / "*.txt")):
        assert [Path(p).name for p in read_folder("data", pattern=pattern).sources] == [
            "top.txt"], pattern
    assert len(read_folder("data", pattern=str(data / "gamma" / "*.txt"))) == 3
    # through a link to the folder read (and from inside it, as '..'): the class link in it
    # was resolved outside and refused
    os.symlink(data, tmp_path / "dlink")
    assert len(read_folder("data", pattern=str(tmp_path / "dlink" / "gamma" / "*.txt"))) == 3
    monkeypatch.chdir(data / "alpha")
    monkeypatch.setenv("PWD", str(pwd / "data" / "alpha"))
    assert len(read_folder("..", pattern=str(pwd / "data" / "gamma" / "*.txt"))) == 3
    # a pattern naming a folder says so (it said the folder had no files, or lay outside)
    for folder in ("alpha/", "alpha", str(data), str(data) + "/", "./"):
        with pytest.raises(RamancamError, match=r"^file patterns must name files; got .*"
                                                r"(a folder|the folder read)\. Give its files"):
            read_folder(data, pattern=folder)
    with pytest.raises(RamancamError, match=r"^file patterns must lie inside the folder "
                                            r"read .*Give the pattern relative"):
        read_folder(data, pattern=str(ext / "*.txt"))


def test_labels_are_read_in_one_unicode_form(tmp_path):
    # a class folder named on macOS (e + combining accent) and the same name typed on Linux
    # were two classes: every right prediction of it counted wrong
    import unicodedata

    _folder_of_classes(tmp_path)
    nfd, nfc = unicodedata.normalize("NFD", "café"), "café"
    assert nfd != nfc
    (tmp_path / "beta").rename(tmp_path / nfd)
    s = read(tmp_path, labels_from="folder")
    assert s.classes == ["alpha", nfc]
    table = tmp_path / "t.csv"
    table.write_text(f"label,100,101,102\n{nfd},1,2,3\n{nfc},1,2,4\n", encoding="utf-8")
    assert read(table, label_col="label").labels.tolist() == [nfc, nfc]


def test_names_that_are_not_utf8_are_refused_by_name(tmp_path):
    # a folder name in cp1252 (a Windows zip) became a class name 'caf\udce9' that every
    # output then failed to write, after training
    import os

    _folder_of_classes(tmp_path)
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    try:
        os.rename(os.fsencode(tmp_path / "beta"), bad)
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    with pytest.raises(RamancamError, match=r"must be UTF-8 text; got 'caf\\xe9/beta_0.txt' "
                                            r".*Rename it"):
        read_folder(tmp_path, labels_from="folder")
    with pytest.raises(RamancamError, match=r"path names must be UTF-8 text"):
        read(os.fsdecode(bad))


def test_a_utf8_name_read_in_another_locale_blames_the_locale():
    # LC_ALL=C PYTHONUTF8=0: the correct UTF-8 name 'dåta.csv' came in as 'd\udcc3\udca5ta'
    # and was called 'bytes of another encoding' with advice (convmv -f cp1252) that
    # mangles it
    from ramancam.io._text import check_utf8_path

    with pytest.raises(RamancamError, match=r"must be read as UTF-8; got 'dåta.csv' read as "
                                            r".*LC_ALL=C.UTF-8 or PYTHONUTF8=1"):
        check_utf8_path("d\udcc3\udca5ta.csv")
    with pytest.raises(RamancamError, match=r"got 'd\\xe5ta.csv' \(bytes of another enc"):
        check_utf8_path("d\udce5ta.csv")  # cp1252 bytes on disk: the name is to blame
    # a name to write: nothing on disk to rename (convmv would find no file)
    with pytest.raises(RamancamError, match=r"got 'd\\xe5ta.csv' \(bytes of another "
                                            r"encoding\)\. Name the output in UTF-8\.$"):
        check_utf8_path("d\udce5ta.csv", output=True)


def test_a_stray_file_in_a_folder_names_the_way_out(tmp_path, capsys):
    from ramancam.cli import main

    _folder_of_classes(tmp_path)
    (tmp_path / "beta" / "measured.txt").write_text("measured on tuesday\n")
    with pytest.raises(RamancamError, match=r"measured\.txt, line 1: .* If it is not a "
                                            r"spectrum, move it out of the folder or name "
                                            r"the files to read with --files GLOB"):
        read(tmp_path, labels_from="folder")
    s = read(tmp_path, labels_from="folder", files="*_?.txt")
    assert s.class_counts() == {"alpha": 3, "beta": 3}
    # a pattern the user chose reads what it matches and says nothing more
    with pytest.raises(RamancamError) as exc:
        read(tmp_path, files="measured.txt")
    assert "--files GLOB" not in str(exc.value)
    with pytest.raises(RamancamError, match=r"files \(--files\) chooses files in a folder; "
                                            r"got the file"):
        read(tmp_path / "alpha" / "alpha_0.txt", files="*.txt")
    assert main(["info", str(tmp_path), "--labels-from", "folder", "--files", "*_?.txt"]) == 0
    assert "classes:   2: alpha (3), beta (3)" in capsys.readouterr().out
    # --label-col on a folder of two-column files: the option is wrong, no stray file
    with pytest.raises(RamancamError) as exc:
        read(tmp_path / "alpha", label_col="label")
    assert "label column must be one of" in str(exc.value)
    assert "move it out of the folder" not in str(exc.value)


def test_single_file_labels_from_header_and_regex(tmp_path):
    _folder_of_classes(tmp_path)
    f = tmp_path / "beta" / "beta_2.txt"
    assert read(f, labels_from="header:NAMES").labels.tolist() == ["BETA"]
    assert read(f, labels_from=r"regex:(\w+)_").labels.tolist() == ["beta"]


# -------------------------------------------------------------------- atomic_write
def test_atomic_write_text_binary_gzip(tmp_path):
    with atomic_write(tmp_path / "a.txt") as fh:
        fh.write("hello\n")
    assert (tmp_path / "a.txt").read_text() == "hello\n"
    with atomic_write(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    with atomic_write(tmp_path / "c.txt.gz", gzip=True) as fh:
        fh.write("zipped")
    assert gzip.decompress((tmp_path / "c.txt.gz").read_bytes()) == b"zipped"
    with atomic_write(tmp_path / "d.gz", "wb", gzip=True) as fh:
        fh.write(b"raw")
    assert gzip.decompress((tmp_path / "d.gz").read_bytes()) == b"raw"
    mode = (tmp_path / "a.txt").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin", "c.txt.gz", "d.gz"]


def test_atomic_write_leaves_old_file_on_error(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    for gz in (False, True):
        with pytest.raises(KeyError), atomic_write(target, gzip=gz) as fh:
            fh.write("half-written")
            raise KeyError("boom")
        assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_atomic_write_refuses_a_fifo_and_writes_through_a_link(tmp_path):
    # the temporary file was renamed over whatever the name was: a FIFO became a regular
    # file (its reader waited for ever), a symbolic link a file of its own (the file it
    # pointed to kept the old content); as root, '--out /dev/null' replaced the device
    import stat

    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(RamancamError, match=r"fifo.csv' must be a regular file to write; "
                                             r"got a FIFO \(named pipe\)"):
        with atomic_write(fifo) as fh:
            fh.write("rows")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    from ramancam.io._atomic import not_a_file

    assert not_a_file(os.devnull) == "device"  # looked at, never written
    assert not_a_file(fifo) == "FIFO (named pipe)"
    assert not_a_file(tmp_path) is None and not_a_file(tmp_path / "new.csv") is None
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "target.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to(Path("real") / "target.csv")  # relative, as ln -s
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "real" / "new.csv")
    for name in ("link.csv", "dangling.csv"):
        with atomic_write(tmp_path / name) as fh:
            fh.write("new")
        assert (tmp_path / name).is_symlink() and (tmp_path / name).read_text() == "new"
    assert (tmp_path / "real" / "target.csv").read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["new.csv", "target.csv"]
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    with pytest.raises(RamancamError, match="got a link that leads to itself"):
        with atomic_write(loop) as fh:
            fh.write("rows")
    assert loop.is_symlink()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_atomic_write_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    # a predictions file kept 0600 (patients' samples) became 0644 when a run rewrote it
    for mode in (0o600, 0o640, 0o444):
        target = tmp_path / f"p{mode:o}.csv"
        target.write_text("old")
        target.chmod(mode)
        with atomic_write(target) as fh:
            fh.write("new")
        assert target.read_text() == "new" and target.stat().st_mode & 0o7777 == mode


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.skipif(os.name == "nt", reason="leftovers are not swept on Windows")
def test_atomic_write_removes_what_a_killed_run_left(tmp_path):
    # a run killed with kill -9 (or by the out-of-memory killer) cannot remove its temp
    # file; the next write of the same file does, and only the dead process's own
    from ramancam.io._atomic import sweep_leftovers, temp_prefix

    mine = temp_prefix("out.csv")  # .out.csv.<host>-<pid>.
    host = mine.split(".")[-2].rsplit("-", 1)[0]
    dead = tmp_path / f".out.csv.{host}-{_dead_pid()}.abc123.tmp"
    alive = tmp_path / f".out.csv.{host}-{os.getppid()}.def456.tmp"
    other_host = tmp_path / f".out.csv.otherhost-{_dead_pid()}.ghi789.tmp"
    other_name = tmp_path / f".other.csv.{host}-{_dead_pid()}.jkl012.tmp"
    for p in (dead, alive, other_host, other_name):
        p.write_text("half")
    with atomic_write(tmp_path / "out.csv") as fh:
        fh.write("whole")
    assert (tmp_path / "out.csv").read_text() == "whole"
    assert not dead.exists()
    assert alive.exists() and other_host.exists() and other_name.exists()
    folder = tmp_path / f".out.csv.{host}-{_dead_pid()}.x.partial"
    (folder / "sub").mkdir(parents=True)
    assert sweep_leftovers(tmp_path, "out.csv") == [folder] and not folder.exists()
    assert sweep_leftovers(tmp_path / "missing", "out.csv") == []
    # a long name (75 CJK characters: 225 bytes, of the 255 allowed) failed only after the
    # work was done, its temporary name 35 bytes longer; its leftovers are swept all the same
    long = "日" * 75 + ".csv"
    with atomic_write(tmp_path / long) as fh:
        fh.write("whole")
    assert (tmp_path / long).read_text() == "whole"
    left = tmp_path / (temp_prefix(long).replace(f"-{os.getpid()}.", f"-{_dead_pid()}.")
                       + "x.tmp")
    left.write_text("half")
    assert len(left.name.encode()) <= 255
    assert sweep_leftovers(tmp_path, long) == [left]


def test_leftovers_of_another_host_or_namespace_are_never_swept(tmp_path, monkeypatch):
    # host tags cut to 40 characters made two pods' names one tag, and their runs' live
    # temp files looked like a dead process's here
    import socket

    from ramancam.io._atomic import _host, sweep_leftovers, temp_prefix

    base = "x" * 45
    try:  # the tag is worked out once per process: here once per host name
        _host.cache_clear()
        monkeypatch.setattr(socket, "gethostname", lambda: base + "-pod-a")
        theirs = temp_prefix("m.ramancam").replace(str(os.getpid()), str(_dead_pid()))
        (tmp_path / f"{theirs}k3j.tmp").write_text("their run")
        _host.cache_clear()
        monkeypatch.setattr(socket, "gethostname", lambda: base + "-pod-b")
        assert sweep_leftovers(tmp_path, "m.ramancam") == []
        assert (tmp_path / f"{theirs}k3j.tmp").exists()
    finally:
        _host.cache_clear()


def test_atomic_group_puts_a_commands_files_in_place_together(tmp_path):
    # a model beside the earlier run's report: each file atomic, the set not
    from ramancam.io._atomic import atomic_group, pending_path
    from ramancam.report import Figure

    (tmp_path / "m.bin").write_bytes(b"old model")
    (tmp_path / "r.html").write_text("old report")
    with pytest.raises(KeyboardInterrupt), atomic_group():
        with atomic_write(tmp_path / "m.bin", "wb") as fh:
            fh.write(b"new model")
        assert (tmp_path / "m.bin").read_bytes() == b"old model"  # not yet in place
        assert pending_path(tmp_path / "m.bin").read_bytes() == b"new model"
        raise KeyboardInterrupt  # while the report is written
    assert (tmp_path / "m.bin").read_bytes() == b"old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin", "r.html"]
    with atomic_group():
        with atomic_write(tmp_path / "m.bin", "wb") as fh:
            fh.write(b"new model")
        with atomic_group():  # part of the outer group
            with atomic_write(tmp_path / "fig.png", "wb") as fh:
                fh.write(b"\x89PNG\r\n\x1a\nbody")
        assert not (tmp_path / "fig.png").exists()
        # a page embeds it
        assert Figure.from_file(tmp_path / "fig.png").png == b"\x89PNG\r\n\x1a\nbody"
        with atomic_write(tmp_path / "r.html") as fh:
            fh.write("new report")
    assert (tmp_path / "m.bin").read_bytes() == b"new model"
    assert (tmp_path / "r.html").read_text() == "new report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "m.bin", "r.html"]
    assert pending_path(tmp_path / "m.bin") == tmp_path / "m.bin"
    # an earlier run's file removed by this run goes with the group, not before it
    from ramancam.io._atomic import atomic_remove

    with pytest.raises(KeyboardInterrupt), atomic_group():
        atomic_remove(tmp_path / "fig.png")
        assert (tmp_path / "fig.png").exists()
        raise KeyboardInterrupt
    assert (tmp_path / "fig.png").exists()
    with atomic_group():
        atomic_remove(tmp_path / "fig.png")
    assert not (tmp_path / "fig.png").exists()


def test_atomic_write_errors(tmp_path):
    with pytest.raises(RamancamError, match="mode must be one of"), \
            atomic_write(tmp_path / "x", "a"):
        pass
    with pytest.raises(RamancamError, match="must exist; got no folder"), \
            atomic_write(tmp_path / "no" / "x.txt"):
        pass
    # a file in the way was called a missing folder ("Create it first": no fix)
    (tmp_path / "afile").write_text("x")
    for path in (tmp_path / "afile" / "x.txt", tmp_path / "afile" / "sub" / "x.txt"):
        with pytest.raises(RamancamError, match=(
                rf"^the folder of {re.escape(repr(str(path)))} must be a folder; got the file "
                rf"{re.escape(repr(str(tmp_path / 'afile')))}\. Name another folder\.$")), \
                atomic_write(path):
            pass


def _replace_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """``os.replace`` onto a file called ``name`` fails as for an immutable file."""
    import errno

    real = os.replace

    def replace(src: object, dst: object, *args: object, **kw: object) -> None:
        if Path(os.fspath(dst)).name == name:  # type: ignore[arg-type]
            raise PermissionError(errno.EPERM, "Operation not permitted", os.fspath(src),  # type: ignore[arg-type]
                                  None, os.fspath(dst))  # type: ignore[arg-type]
        real(src, dst, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)


def test_a_group_that_cannot_put_a_file_in_place_changes_none(tmp_path, monkeypatch):
    # the report could not be replaced: the model already was (two runs mixed), the new
    # report's temp file (255 KB) stayed, and the message named it
    from ramancam.io._atomic import atomic_group, atomic_remove

    (tmp_path / "m.bin").write_bytes(b"old model")
    (tmp_path / "link.bin").hardlink_to(tmp_path / "m.bin")
    (tmp_path / "old.png").write_bytes(b"old figure")
    (tmp_path / "r.html").write_text("old report")
    _replace_refused(monkeypatch, "r.html")
    with pytest.raises(RamancamError, match=(
            rf"^{re.escape(repr(str(tmp_path / 'r.html')))} could not be replaced: Operation "
            r"not permitted; no output was changed \(the earlier files are as they were\) "
            r"and nothing was left behind\. Check .*permissions.*chattr -i.*elsewhere\.$")):
        with atomic_group():
            with atomic_write(tmp_path / "m.bin", "wb") as fh:
                fh.write(b"new model")
            with atomic_write(tmp_path / "fig.png", "wb") as fh:
                fh.write(b"new figure")
            atomic_remove(tmp_path / "old.png")
            with atomic_write(tmp_path / "r.html") as fh:
                fh.write("new report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.bin", "m.bin", "old.png",
                                                          "r.html"]
    assert (tmp_path / "m.bin").read_bytes() == b"old model"
    assert os.path.samefile(tmp_path / "m.bin", tmp_path / "link.bin")  # the same file back
    assert (tmp_path / "old.png").read_bytes() == b"old figure"
    assert (tmp_path / "r.html").read_text() == "old report"
    # alone: the message named the hidden temp file ('.r.html.<host>-<pid>.<random>.tmp')
    with pytest.raises(RamancamError, match=(
            rf"^{re.escape(repr(str(tmp_path / 'r.html')))} could not be replaced: Operation "
            r"not permitted; nothing was left behind\. Check")):
        with atomic_write(tmp_path / "r.html") as fh:
            fh.write("new report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.bin", "m.bin", "old.png",
                                                          "r.html"]
    # a Ctrl-C between two renames: none of them either
    def interrupted(src: object, dst: object) -> None:
        if Path(os.fspath(dst)).name == "r.html" and not cut:  # type: ignore[arg-type]
            cut.append(dst)
            raise KeyboardInterrupt
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.undo()
    real_replace, cut = os.replace, []
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt), atomic_group():
        with atomic_write(tmp_path / "m.bin", "wb") as fh:
            fh.write(b"new model")
        with atomic_write(tmp_path / "r.html") as fh:
            fh.write("new report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.bin", "m.bin", "old.png",
                                                          "r.html"]
    assert (tmp_path / "m.bin").read_bytes() == b"old model"
    monkeypatch.undo()
    with atomic_group():  # and when all goes well, no earlier file is left aside
        with atomic_write(tmp_path / "m.bin", "wb") as fh:
            fh.write(b"new model")
        atomic_remove(tmp_path / "old.png")
        with atomic_write(tmp_path / "r.html") as fh:
            fh.write("new report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.bin", "m.bin", "r.html"]
    assert (tmp_path / "m.bin").read_bytes() == b"new model"
    assert (tmp_path / "link.bin").read_bytes() == b"old model"  # a hard link keeps the old


def test_a_copy_cut_short_never_replaces_the_earlier_file(tmp_path, monkeypatch):
    # where hard links fail (exFAT, SMB) the earlier file is copied aside: a Ctrl-C part-way
    # through the copy left a partial copy that the undo put in place (1,200,000 bytes -> 1,000)
    import errno
    import shutil

    from ramancam.io._atomic import atomic_group

    target = tmp_path / "predictions.csv"
    target.write_text("EARLIER RUN\n" * 100000)

    def no_link(*a: object, **k: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    def cut(src: object, dst: object, *a: object, **k: object) -> None:
        with open(os.fspath(dst), "wb") as fh:  # type: ignore[arg-type]
            fh.write(b"EARLIER RUN\n"[:10] * 100)  # 1,000 bytes of 1,200,000
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(shutil, "copy2", cut)
    with pytest.raises(KeyboardInterrupt), atomic_group():
        with atomic_write(target) as fh:
            fh.write("NEW RUN\n")
    assert target.stat().st_size == 1_200_000
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]  # no partial copy


def test_an_earlier_file_that_cannot_be_put_back_is_kept_and_named(tmp_path, monkeypatch):
    # the undo's rename failed (EIO) and its aside copy, the only one left of the earlier
    # model, was deleted, while the message said the earlier files were as they were
    import errno

    from ramancam.io._atomic import atomic_group

    a, b = tmp_path / "m.ramancam", tmp_path / "r.html"
    a.write_text("OLD MODEL")
    b.write_text("OLD REPORT")
    real = os.replace

    def replace(src: object, dst: object) -> None:
        s, d = Path(os.fspath(src)), Path(os.fspath(dst))  # type: ignore[arg-type]
        if d == b:  # the report cannot be replaced (immutable)
            raise PermissionError(errno.EPERM, "Operation not permitted", str(d))
        if d == a and s.name.endswith(".old"):  # and the undo's rename fails too
            raise OSError(errno.EIO, "Input/output error", str(s))
        real(s, d)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(RamancamError) as e:
        with atomic_group():
            for p, t in ((a, "NEW MODEL"), (b, "NEW REPORT")):
                with atomic_write(p) as fh:
                    fh.write(t)
    msg = str(e.value)
    kept = [p for p in tmp_path.iterdir() if p.name.endswith(".old")]
    assert len(kept) == 1 and kept[0].read_text() == "OLD MODEL"
    assert "no output was changed" not in msg and "nothing was left behind" not in msg
    assert msg.startswith(f"{str(b)!r} could not be replaced: Operation not permitted; ")
    assert f"the earlier {str(a)!r} could not be put back (Input/output error): it is kept as " \
        f"{str(kept[0])!r}" in msg
    assert "Move it back by hand before the next run" in msg
    assert b.read_text() == "OLD REPORT" and "\n" not in msg
    # a Ctrl-C instead of the failure: the interrupt goes on, and a warning names the copy
    for p in kept:
        real(p, a)

    def interrupt(src: object, dst: object) -> None:
        if Path(os.fspath(dst)) == b and not cut:  # type: ignore[arg-type]
            cut.append(dst)
            raise KeyboardInterrupt
        replace(src, dst)

    cut: list[object] = []
    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt), pytest.warns(RamancamWarning, match=(
            rf"the run was stopped, and the earlier {re.escape(repr(str(a)))} could not be put "
            r"back \(Input/output error\): it is kept as '.*\.old'")), atomic_group():
        for p, t in ((a, "NEWER MODEL"), (b, "NEWER REPORT")):
            with atomic_write(p) as fh:
                fh.write(t)
    assert [q.read_text() for q in tmp_path.iterdir() if q.name.endswith(".old")] \
        == ["OLD MODEL"]


# ------------------------------------------------------------- describe, example
def test_describe_common_and_ragged():
    s = Spectra(np.ones((2, 4)), [1.0, 2.0, 4.0, 5.0], labels=["a", "b"], sources=["f", "f"])
    d = describe(s)
    assert d["n_spectra"] == 2 and d["n_files"] == 1 and d["classes"] == {"a": 1, "b": 1}
    assert (d["step_min"], d["step_median"], d["step_max"]) == (1.0, 1.0, 2.0)
    assert d["common_axis"] and d["points_min"] == d["points_max"] == 4 and not d["even"]
    r = Spectra([np.ones(3), np.ones(2)], [np.array([3.0, 2.0, 1.0]), np.array([10.0, 11.0])])
    d = describe(r)
    assert d["direction"] == "mixed" and d["n_axes"] == 2 and not d["common_axis"]
    assert (d["points_min"], d["points_max"]) == (2, 3) and d["even"]
    assert (d["axis_min"], d["axis_max"]) == (1.0, 11.0) and d["classes"] is None


def test_example_is_synthetic_small_and_regenerable():
    path = example_path()
    assert path.stat().st_size <= 60_000
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    s = read(path, label_col="label")
    assert s.class_counts() == {"A": 4, "B": 4, "C": 4}
    lo, hi = s.axis_range()
    assert (lo, hi) == (300.0, 1900.0) and not describe(s)["even"]
    fresh = make_example()
    np.testing.assert_array_equal(s.X, fresh.X)
    np.testing.assert_array_equal(s.wavenumbers, fresh.wavenumbers)


# ------------------------------------------------------------------- real data
def test_real_drug_mabs(shared_data):
    s = read(shared_data / "drug-mabs" / "spectra.csv.gz", label_col="label")
    assert s.X.shape == (999, 1866)
    assert s.classes == ["A", "B", "Q", "R"]
    lo, hi = s.axis_range()
    assert round(lo, 1) == 400.1 and round(hi, 1) == 3999.4
    assert list(s.meta) == ["id", "concentration", "solute", "vial", "split"]
    assert sorted(np.unique(s.meta["split"], return_counts=True)[1].tolist()) == [300, 699]


def test_real_rruff(shared_data):
    s = read(shared_data / "rruff-sample", labels_from="header:NAMES")
    assert len(s) == 84 and len(s.classes) == 12 and not s.has_common_axis
    assert "RRUFFID" in s.meta
    # the file names carry the mineral too (without hyphens: ChabaziteCa), first '__' part
    by_name = read(shared_data / "rruff-sample", labels_from="regex:^([^_]+)__")
    assert [v.replace("-", "").replace("(", "").replace(")", "") for v in s.labels] == \
        by_name.labels.tolist()


def test_real_amino_acids(shared_data):
    s = read(shared_data / "amino-acids", labels_from=r"regex:(.+)\.txt")
    assert len(s) == 13 and len(s.classes) == 13 and "glycine" in s.classes
    assert s.has_common_axis and s.axis_range() == (450.0, 1800.0)


# ------------------------------------------------------- one spectrum per column
def test_table_with_one_spectrum_per_column(tmp_path):
    # the transpose of a wide table, as many programs export several spectra
    p = tmp_path / "cols.csv"
    p.write_text("Raman shift (cm-1),sample 1,sample 2,\n1800,1,4,\n1000.5,2,5,\n400,3,6,\n")
    s = read(p)
    np.testing.assert_array_equal(s.wavenumbers, [1800, 1000.5, 400])  # kept descending
    np.testing.assert_array_equal(s.X, [[1, 2, 3], [4, 5, 6]])
    assert s.meta["id"].tolist() == ["sample 1", "sample 2"]
    assert s.labels is None
    eu = tmp_path / "cols_eu.txt"
    eu.write_text("shift;a;b\n400,5;1,5;2\n401,5;3;4,25\n")
    t = read(eu)
    np.testing.assert_array_equal(t.wavenumbers, [400.5, 401.5])
    np.testing.assert_array_equal(t.X, [[1.5, 3.0], [2.0, 4.25]])
    # round trip through a wide table (what 'ramancam convert' writes)
    write_table(s, tmp_path / "rows.csv")
    back = read_table(tmp_path / "rows.csv")
    np.testing.assert_array_equal(back.X, s.X)
    assert back.meta["id"].tolist() == ["sample 1", "sample 2"]


def test_column_table_with_spectra_of_different_lengths(tmp_path):
    p = tmp_path / "cols.csv"
    p.write_text("shift,long,short\n400,1,\n401,2,5\n402,3,6\n403,4,\n")
    s = read(p)
    assert [a.tolist() for a in s.axes] == [[400, 401, 402, 403], [401, 402]]
    assert [x.tolist() for x in s.intensities] == [[1, 2, 3, 4], [5, 6]]
    p.write_text("shift,a,b\n400,1,2\n401,,3\n402,3,4\n")
    with pytest.raises(RamancamError, match=r"cols\.csv, line 3: intensities may be missing "
                                            r"inside a spectrum's range only in short runs .* "
                                            r"got 1 missing in a row from column 'a'"):
        read(p)
    p.write_text("shift,a,b\n400,1,2\n401,2,3\n,1,3\n")
    with pytest.raises(RamancamError, match=r"cols\.csv: wavenumbers must be finite"):
        read(p)


def test_folder_of_column_tables_labelled_by_folder(tmp_path):
    for label, x0 in (("alpha", 1.0), ("beta", 5.0)):
        (tmp_path / label).mkdir()
        (tmp_path / label / "export.csv").write_text(
            f"shift,r1,r2\n400,{x0},{x0 + 1}\n401,{x0 + 2},{x0 + 3}\n")
    s = read_folder(tmp_path, labels_from="folder")
    assert s.labels.tolist() == ["alpha", "alpha", "beta", "beta"]
    np.testing.assert_array_equal(s.X[2], [5.0, 7.0])


def test_labels_and_groups_from_the_spectra_ids(tmp_path, capsys):
    p = tmp_path / "export.csv"
    p.write_text("shift,PE_1,PE_2,PP_1,PP-x\n400,1,2,3,4\n401,5,6,7,8\n")
    s = read(p, labels_from=r"id:^(P[EP])[_-]", groups_from=r"id:[_-](\w+)$")
    assert s.labels.tolist() == ["PE", "PE", "PP", "PP"]
    assert s.meta["group"].tolist() == ["1", "2", "1", "x"]
    wide = tmp_path / "wide.csv"  # a wide table's id column, no label column
    wide.write_text("id,400,401\ntabletA-01,1,2\ntabletB-01,3,4\n")
    assert read(wide, labels_from="id:tablet(.)").labels.tolist() == ["A", "B"]
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "run1.csv").write_text("shift,PS_1,PS_2\n400,1,2\n401,3,4\n")
    assert read_folder(tmp_path / "d", labels_from=r"id:(\w+)_").labels.tolist() == ["PS"] * 2
    with pytest.raises(RamancamError, match=r"spectrum ids must match the regex of "
                                            r"labels_from='id:\^PE' with a non-empty group; "
                                            r"got 'PP_1'"):
        read(p, labels_from="id:^PE")
    xy = tmp_path / "one.txt"
    xy.write_text("400 1\n401 2\n402 3\n")
    with pytest.raises(RamancamError, match=r"one\.txt must give its spectra ids .* for "
                                            r"labels_from='id:\(\.\+\)'"):
        read(xy, labels_from="id:(.+)")
    assert main(["info", str(p), "--labels-from", r"id:(\w+)[_-]"]) == 0
    assert "classes:   2: PE (2), PP (2)" in capsys.readouterr().out


def test_column_table_errors(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("shift,a,b\n400,1,2\n401,3,x\n")
    with pytest.raises(RamancamError, match=r"c\.csv, line 3: could not read a number from "
                                            r"'x' in column 'b'"):
        read(p)
    p.write_text("shift,a,b\n400,1,2\n401,3\n")
    with pytest.raises(RamancamError, match=r"c\.csv, line 3: every row must have 3 fields "
                                            r"like the header \(a Raman shift, then one "
                                            r"intensity per spectrum\); got 2"):
        read(p)
    p.write_text("shift,a,b\n400,1,2\n401,3,4\n")
    with pytest.raises(RamancamError, match=r"c\.csv, line 1: a table with one spectrum per "
                                            r"column has no label column; got "
                                            r"label_col='label'"):
        read_table(p, label_col="label")
    p.write_text("shift,a,a\n400,1,2\n401,3,4\n")
    with pytest.raises(RamancamError, match=r"column names must be unique; got 'a' twice"):
        read(p)
    p.write_text("shift,a,b\n400,1,2\n400,3,4\n")  # a repeated shift is no axis
    with pytest.raises(RamancamError, match=r"c\.csv"):
        read(p)


def test_spaces_around_labels_do_not_make_new_classes(tmp_path):
    p = tmp_path / "sp.csv"
    p.write_text("id, label, 400, 401\na, A, 1, 2\nb, B , 2, 3\nc,B,3,4\n")
    s = read_table(p, label_col="label")
    assert s.labels.tolist() == ["A", "B", "B"]
    assert s.meta["id"].tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(s.X, [[1, 2], [2, 3], [3, 4]])


# ------------------------------------------------------------ wavelength axes (nm)
def test_wavelength_axis_converts_to_raman_shift(tmp_path, capsys):
    from ramancam.cli import main
    from ramancam.io import wavelength_to_shift

    lam = np.linspace(790.0, 900.0, 1500)
    band = 1001.0  # cm-1 from a 785 nm laser: at 1e7 / (1e7 / 785 - 1001) nm
    y = np.exp(-0.5 * ((1e7 / 785 - 1e7 / lam - band) / 4.0) ** 2) + 0.1
    s = wavelength_to_shift(Spectra(y[None, :], lam, labels=["a"]), 785)
    assert s.wavenumbers[np.argmax(s.X[0])] == pytest.approx(band, abs=1.0)
    assert s.wavenumbers[0] == pytest.approx(1e7 / 785 - 1e7 / 790)
    assert s.labels.tolist() == ["a"] and s.meta["laser_wavelength_nm"].tolist() == [785.0]
    # one axis per spectrum (a folder of files) works the same way
    ragged = Spectra([y, y[:-100]], [lam, lam[:-100]])
    out = wavelength_to_shift(ragged, 785)
    assert [a.size for a in out.axes] == [1500, 1400]
    np.testing.assert_allclose(out.axes[1], s.wavenumbers[:-100])
    # an axis that is a Raman shift already, or a laser that does not fit, is refused
    with pytest.raises(RamancamError, match=r"file x\.txt: an axis of wavelengths must convert "
                                            r"to Raman shifts with a 785 nm laser; got an axis "
                                            r"of 200 to 3000"):
        wavelength_to_shift(Spectra(np.ones((1, 5)), np.linspace(200, 3000, 5)), 785,
                            source="x.txt")
    with pytest.raises(RamancamError, match="gives 6139 to 7686 cm-1"):
        wavelength_to_shift(Spectra(y[None, :], lam), 532)
    with pytest.raises(RamancamError, match="between 150 and 2000"):
        wavelength_to_shift(Spectra(y[None, :], lam), 0.785)
    # the command line: --laser-nm on any command that reads DATA
    path = tmp_path / "nm.txt"
    np.savetxt(path, np.c_[lam, y], delimiter="\t")
    assert main(["info", str(path), "--laser-nm", "785"]) == 0
    text = capsys.readouterr().out
    assert "laser:     785 nm" in text and "axis:      80.6 to 1627.7 cm-1" in text
    assert main(["convert", str(path), str(tmp_path / "shift.csv"), "--laser-nm", "785"]) == 0
    back = read(tmp_path / "shift.csv")
    assert back.wavenumbers[np.argmax(back.X[0])] == pytest.approx(band, abs=1.0)


def test_file_format_reads_only_the_start_of_a_file(tmp_path, monkeypatch):
    # `ramancam info` names each file's format: a map of gigabytes must not be read whole
    # for that (it used to be, then cut to its first 64 KiB).
    import pathlib

    from ramancam.io import file_format

    path = tmp_path / "t.csv"
    path.write_text("id,400,401,402\na,1,2,3\nb,4,5,6\n")

    def whole(self):
        raise AssertionError(f"{self} read whole")

    monkeypatch.setattr(pathlib.Path, "read_bytes", whole)
    assert file_format(path) == "table"


def test_convert_keeps_names_and_never_reads_its_own_output(tmp_path, capsys):
    # a folder's file names were lost (ids 0, 1, ...); OUT inside IN was read back as data by
    # the next convert; a table's own 'label' column blocked --label-col of another column;
    # the files' own 'source' key replaced the file name
    folder = tmp_path / "fold"
    folder.mkdir()
    for name, c in (("glycine.txt", 900.0), ("alanine.txt", 1100.0)):
        w = np.arange(400.0, 1600.0, 2.0)
        (folder / name).write_text("##source=lab 3\n" + "\n".join(
            f"{a}, {1 + np.exp(-0.5 * ((a - c) / 8) ** 2):.6f}" for a in w) + "\n##END=\n")
    assert main(["convert", str(folder), str(folder / "out.csv")]) == 2
    assert "OUT must not be inside the folder IN" in capsys.readouterr().err
    assert not (folder / "out.csv").exists()
    assert main(["convert", str(folder), str(tmp_path / "f.csv")]) == 0
    assert "'source' column is written as 'original_source'" in capsys.readouterr().out
    back = read(tmp_path / "f.csv")
    assert back.ids == ["alanine.txt", "glycine.txt"]
    assert back.meta["source"].tolist() == ["alanine.txt", "glycine.txt"]
    assert back.meta["original_source"].tolist() == ["lab 3", "lab 3"]
    table = Spectra(np.ones((2, 3)) + np.eye(2, 3), [400.0, 401.0, 402.0],
                    meta={"label": ["x", "y"], "solute": ["a", "b"]})
    write_table(table, tmp_path / "t.csv")
    assert main(["convert", str(tmp_path / "t.csv"), str(tmp_path / "u.csv"),
                 "--label-col", "solute"]) == 0
    assert "2 spectra, 3 points, 2 classes" in capsys.readouterr().out
    u = read(tmp_path / "u.csv", label_col="label")
    assert u.labels.tolist() == ["a", "b"] and u.meta["original_label"].tolist() == ["x", "y"]
    # a column of the data's own named original_label is not written over
    write_table(table.replace(meta={**table.meta, "original_label": ["o1", "o2"]}),
                tmp_path / "t2.csv")
    assert main(["convert", str(tmp_path / "t2.csv"), str(tmp_path / "u2.csv"),
                 "--label-col", "solute"]) == 0
    u2 = read(tmp_path / "u2.csv", label_col="label")
    assert u2.meta["original_label"].tolist() == ["o1", "o2"]
    assert u2.meta["original_original_label"].tolist() == ["x", "y"]


def test_atomic_write_names_the_file_when_the_disk_refuses(tmp_path):
    # a full disk or a file-size limit: "[Errno 27] File too large", naming nothing
    import errno

    from ramancam.io import atomic_write

    target = tmp_path / "out.csv"
    with pytest.raises(RamancamError, match=r"'.*out\.csv' could not be written: File too "
                                            r"large; nothing was left behind\. Free space"):
        with atomic_write(target) as fh:
            fh.write("a")
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    assert list(tmp_path.iterdir()) == []
    # an error naming its own file (reading another one) passes through as it is
    with pytest.raises(FileNotFoundError):
        with atomic_write(target) as fh:
            open(tmp_path / "missing.txt")
    assert list(tmp_path.iterdir()) == []


def test_positions_written_with_decimal_commas_make_a_map(tmp_path):
    # a ';'-separated export with decimal commas: the spectra were read, x/y stayed text
    # and the file was silently no map
    from ramancam.maps.grid import grid_of

    p = tmp_path / "dc.csv"
    p.write_text("id;x;y;500;501;502\na;0,0;0,0;1,5;2,5;3,5\nb;0,5;0,0;1,0;2,0;3,1\n"
                 "c;0,0;0,5;1,0;2,2;3,0\nd;0,5;0,5;1,0;2,0;3,5\n")
    s = read_table(p)
    assert s.meta["x"].tolist() == [0.0, 0.5, 0.0, 0.5]
    g = grid_of(s)
    assert (g.nx, g.ny) == (2, 2) and g.step_x == pytest.approx(0.5)
