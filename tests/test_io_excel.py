"""Excel workbooks: the first sheet read as a wide table (rows or columns of spectra)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from openpyxl import Workbook

from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import file_format, read, read_folder


def _book(path, rows, *, extra_sheet=False, title="Spectra"):
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    if extra_sheet:
        wb.create_sheet("notes").append(["not", "spectra"])
    wb.save(path)
    return path


def test_wide_sheet_reads_labels_metadata_and_numbers(tmp_path):
    p = _book(tmp_path / "tablets.xlsx", [
        ["id", "label", "batch", 400, 400.5, 401],
        ["t1", "A", 7, 1.0, 2.5, 3.0],
        ["t2", " B", "x, y", 4, 5, None],  # an empty cell at the end: a shorter range
    ], extra_sheet=True)
    s = read(p, label_col="label")
    assert file_format(p) == "excel"
    assert s.labels.tolist() == ["A", "B"]
    assert s.meta["batch"].tolist() == ["7", "x, y"]
    assert s.meta["id"].tolist() == ["t1", "t2"]
    assert [a.tolist() for a in s.axes] == [[400, 400.5, 401], [400, 400.5]]
    assert [x.tolist() for x in s.intensities] == [[1.0, 2.5, 3.0], [4.0, 5.0]]
    assert set(s.sources) == {str(p)}


def test_column_sheet_and_a_used_range_past_the_data(tmp_path):
    wb = Workbook()
    ws = wb.active
    for r in (["shift", "s1", "s2"], [1800, 1, 4], [1000, 2, 5], [400, 3, 6]):
        ws.append(r)
    ws["F20"] = None  # formatting far away widens the used range
    ws["F20"].number_format = "0.00"
    wb.save(tmp_path / "cols.xlsx")
    s = read(tmp_path / "cols.xlsx")
    np.testing.assert_array_equal(s.wavenumbers, [1800, 1000, 400])
    np.testing.assert_array_equal(s.X, [[1, 2, 3], [4, 5, 6]])
    assert s.meta["id"].tolist() == ["s1", "s2"]


def test_folder_of_workbooks_with_a_label_column(tmp_path):
    for k, lab in enumerate(("A", "B")):
        _book(tmp_path / f"b{k}.xlsx", [["label", 400, 401], [lab, k, k + 1], [lab, k, k + 2]])
    s = read_folder(tmp_path, label_col="label")
    assert s.labels.tolist() == ["A", "A", "B", "B"]
    assert main(["info", str(tmp_path), "--label-col", "label"]) == 0


def test_excel_errors_name_file_sheet_and_row(tmp_path, capsys):
    p = _book(tmp_path / "bad.xlsx", [["id", 400, 401], ["a", 1, "n/a"]], title="Run 3")
    with pytest.raises(RamancamError, match=r"bad\.xlsx \(sheet Run 3\), line 2: could not read "
                                            r"a number from 'n/a' in column '401'"):
        read(p)
    empty = _book(tmp_path / "empty.xlsx", [])
    with pytest.raises(RamancamError, match=r"empty\.xlsx must hold a table on its first sheet "
                                            r"\('Spectra'\); got an empty sheet"):
        read(empty)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert main(["info", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.xlsx must be a valid Excel workbook (.xlsx/.xlsm/.xls) file" in err
    assert len(err.strip().splitlines()) == 1


def test_a_named_sheet_is_read_as_file_colon_sheet(tmp_path, capsys):
    p = _book(tmp_path / "book.xlsx", [["notes only"]], title="About")
    from openpyxl import load_workbook

    wb = load_workbook(p)
    ws = wb.create_sheet("Raman")
    for r in (["label", 400, 401], ["A", 1, 2], ["B", 3, 4]):
        ws.append(r)
    wb.save(p)
    s = read(f"{p}:Raman", label_col="label")
    assert s.labels.tolist() == ["A", "B"]
    np.testing.assert_array_equal(s.X, [[1, 2], [3, 4]])
    assert file_format(f"{p}:Raman") == "excel"
    with pytest.raises(RamancamError, match=r"must have the sheet 'NIR'; its sheets are "
                                            r"'About', 'Raman'\. Name one of them"):
        read(f"{p}:NIR")
    assert main(["info", f"{p}:Raman", "--label-col", "label"]) == 0
    assert "2: A (1), B (1)" in capsys.readouterr().out


def test_old_binary_xls_workbooks(tmp_path):
    import datetime

    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("About").write(0, 0, "notes only")
    ws = wb.add_sheet("Raman")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for j, v in enumerate(["label", "measured", 400, 401.5, 403]):
        ws.write(0, j, v)
    for i, (lab, vals) in enumerate((("A", [1, 2, 3]), ("B", [4, 5.5, 6])), start=1):
        ws.write(i, 0, lab)
        ws.write(i, 1, datetime.datetime(2026, 1, i), date_style)
        for j, v in enumerate(vals, start=2):
            ws.write(i, j, v)
    p = tmp_path / "old.xls"
    wb.save(str(p))
    assert file_format(p) == "excel"
    with pytest.raises(RamancamError, match=r"old\.xls \(sheet About\), line 1: the header "
                                            r"must name Raman shifts"):
        read(p, label_col="label")
    s = read(f"{p}:Raman", label_col="label")
    assert s.labels.tolist() == ["A", "B"]
    np.testing.assert_array_equal(s.wavenumbers, [400, 401.5, 403])
    np.testing.assert_array_equal(s.X, [[1, 2, 3], [4, 5.5, 6]])
    assert s.meta["measured"].tolist() == ["2026-01-01T00:00:00", "2026-01-02T00:00:00"]
    with pytest.raises(RamancamError, match=r"must have the sheet 'NIR'; its sheets are "
                                            r"'About', 'Raman'"):
        read(f"{p}:NIR")


def test_whole_numbers_of_an_xls_read_as_those_of_an_xlsx_and_a_csv(tmp_path):
    # xlrd gives every number as a float: labels 1, 2 read '1.0', '2.0' from an .xls and
    # '1', '2' from the same sheet saved as .xlsx or CSV, so a model trained on the CSV
    # scored 0 on the .xls; a group or split column alike
    import xlwt

    rows = [["label", "batch", "note", 400, 401.5, 403],
            [1, 10, 2.5, 1, 2, 3],
            [2, 20, -3, 4, 5.5, 6]]
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Raman")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ws.write(i, j, v)
    old = tmp_path / "old.xls"
    wb.save(str(old))
    new = _book(tmp_path / "new.xlsx", rows)
    csv = tmp_path / "same.csv"
    csv.write_text("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    got = [read(p, label_col="label") for p in (old, new, csv)]
    for s in got:
        assert s.labels.tolist() == ["1", "2"]
        assert [str(v) for v in s.meta["batch"].tolist()] == ["10", "20"]
        assert [str(v) for v in s.meta["note"].tolist()] == ["2.5", "-3"]
        np.testing.assert_array_equal(s.X, [[1, 2, 3], [4, 5.5, 6]])
        np.testing.assert_array_equal(s.wavenumbers, [400, 401.5, 403])


def test_numbers_typed_as_text_with_decimal_commas_are_read(tmp_path):
    # a German sheet whose cells are text ('400,5'): "the header must name Raman shifts"
    p = _book(tmp_path / "de.xlsx", [
        ["label", "400,0", "400,5", "401,0"],
        ["A", "1,5", "2,25", "3,0"],
        ["B", "4,0", "5,5", "6,0"],
    ])
    s = read(p, label_col="label")
    assert s.wavenumbers.tolist() == [400.0, 400.5, 401.0]
    assert s.X.tolist() == [[1.5, 2.25, 3.0], [4.0, 5.5, 6.0]]


def test_text_numbers_with_thousands_separators_are_refused_not_read_1000_times_off(tmp_path):
    # English counts typed as text ('17,087') were read as decimal commas: 17.087, while the
    # same cells below 1000 kept their value
    Y = np.random.default_rng(0).integers(500, 20000, (6, 40))
    rows = [["id", "label", *range(400, 440)]]
    rows += [[f"s{i}", "AB"[i // 3], *(f"{v:,}" for v in Y[i])] for i in range(6)]
    p = _book(tmp_path / "en_thousands.xlsx", rows)
    first = next(j for j, v in enumerate(Y[0]) if v >= 1000)
    cell, v = f"{chr(ord('C') + first)}2", Y[0, first]
    with pytest.raises(RamancamError, match=(
            rf"en_thousands\.xlsx \(sheet Spectra\), cell {cell}: a number typed as text must "
            rf"read one way; got '{v:,}', {v} with a thousands separator or {v / 1000:.3f} with "
            r"a decimal comma, and no cell of the sheet says which\. Store the numbers as "
            r"numbers in Excel, or type them without thousands separators\.")):
        read(p, label_col="label")
    # one comma cell with other than three digits after it says decimal commas
    rows[2][5] = "1234,5"
    s = read(_book(tmp_path / "de.xlsx", rows), label_col="label")
    assert s.X[1, 3] == 1234.5 and s.X[0, first] == Y[0, first] / 1000


def test_text_numbers_ambiguous_in_the_first_200_rows_are_settled_by_a_later_cell(tmp_path):
    # a column-wise German export, every value text with three decimals: '200,000' ...
    # '999,xxx' in the first 200 rows read as well as thousands; '1000,xxx' further down says
    # decimal commas, as "no cell of the sheet says which" promises
    shifts = np.linspace(200, 1800, 1200)
    Y = np.random.default_rng(1).uniform(100, 900, (1200, 2))

    def de(v):
        return f"{v:.3f}".replace(".", ",")

    rows = [["shift", "s1", "s2"]]
    rows += [[de(w), de(a), de(b)] for w, (a, b) in zip(shifts, Y, strict=True)]
    assert all(re.match(r"^[1-9]\d{0,2},\d{3}$", c) for r in rows[1:200] for c in r)
    s = read(_book(tmp_path / "de_cols.xlsx", rows))
    np.testing.assert_allclose(s.wavenumbers, shifts, atol=5e-4)
    np.testing.assert_allclose(s.X, Y.T, atol=5e-4)
    # without the settling rows the sheet is refused, as before
    with pytest.raises(RamancamError, match=r"cell A2: a number typed as text must read one "):
        read(_book(tmp_path / "de_short.xlsx", rows[:200]))


def test_a_table_error_on_the_first_of_several_sheets_lists_them(tmp_path, capsys):
    # a 'Notes' sheet first: the header error named neither the other sheets nor FILE:SHEET
    # (the first sheet is still the one read, whichever the workbook opens on)
    p = _book(tmp_path / "notes_first.xlsx", [["measured by", "me"]], title="Notes")
    from openpyxl import load_workbook

    wb = load_workbook(p)
    ws = wb.create_sheet("Spectra")
    for r in (["label", 400, 401], ["A", 1, 2], ["B", 3, 4]):
        ws.append(r)
    wb.active = 1
    wb.save(p)
    hint = (r"\. This was the first of the workbook's sheets 'Notes', 'Spectra': name the one "
            r"that holds the spectra as .*notes_first\.xlsx:SHEET\.")
    with pytest.raises(RamancamError, match=r"notes_first\.xlsx \(sheet Notes\), line 1: the "
                                            r"header must name Raman shifts .*" + hint + "$"):
        read(p)
    assert main(["info", str(p), "--label-col", "label"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "notes_first.xlsx:SHEET." in err
    assert read(f"{p}:Spectra", label_col="label").labels.tolist() == ["A", "B"]
    with pytest.raises(RamancamError) as one_sheet:  # a workbook of one sheet: no hint
        read(_book(tmp_path / "one.xlsx", [["measured by", "me"]]))
    assert "SHEET" not in str(one_sheet.value)


def test_an_empty_sheet_name_after_the_colon_asks_for_one(tmp_path, capsys):
    # "book.xlsx:" said the path did not exist
    p = _book(tmp_path / "book.xlsx", [["id", 400, 401], ["a", 1, 2]], extra_sheet=True)
    with pytest.raises(RamancamError, match=(
            rf"^file {re.escape(str(p))}: the ':' must be followed by a sheet's name; got "
            rf"none\. Its sheets are 'Spectra', 'notes'\. Name one of them as "
            rf"{re.escape(str(p))}:SHEET, or give {re.escape(str(p))} alone for the first\.$")):
        read(f"{p}:")
    assert main(["info", f"{p}:"]) == 2
    assert "the ':' must be followed by a sheet's name" in capsys.readouterr().err


def test_an_empty_variable_name_of_a_mat_file_asks_for_one(tmp_path):
    from scipy.io import savemat

    p = tmp_path / "m.mat"
    savemat(p, {"X": np.ones((2, 3)), "shift": np.arange(3.0)})
    with pytest.raises(RamancamError, match=r"m\.mat: the ':' must be followed by a "
                                            r"variable's name; got none\. Its variables: "
                                            r".*Name one as "):
        read(f"{p}:")


@pytest.mark.parametrize("far", ["B1048576", "XFD1048576", "XFD3"])
def test_one_styled_cell_far_past_the_data_costs_nothing(tmp_path, monkeypatch, far):
    # One bold empty cell at B1048576 made a 40 KB workbook of 10 spectra a million rows of
    # empty strings: ~57 s, 3.9 GB, then "a damaged header". The cells turned into text are
    # counted: the data's 11 rows of 6 cells, not the used range's million rows.
    from openpyxl.styles import Font

    from ramancam.io import excel

    wb = Workbook()
    ws = wb.active
    ws.append(["label", 400.0, 401.0, 402.0, 403.0, 404.0])
    for k in range(10):
        ws.append(["A" if k < 5 else "B"] + [float(k + i) for i in range(5)])
    ws[far].font = Font(bold=True)
    wb.save(tmp_path / "far.xlsx")
    calls = 0
    cell_text = excel._cell_text

    def counted(value):
        nonlocal calls
        calls += 1
        if calls > 10_000:
            raise AssertionError("the empty used range was read cell by cell")
        return cell_text(value)

    monkeypatch.setattr(excel, "_cell_text", counted)
    s = read(tmp_path / "far.xlsx", label_col="label")
    assert s.labels.tolist() == ["A"] * 5 + ["B"] * 5
    np.testing.assert_array_equal(s.wavenumbers, [400, 401, 402, 403, 404])
    np.testing.assert_array_equal(s.X[3], [3, 4, 5, 6, 7])
    assert calls <= 11 * 6


def test_empty_rows_between_the_data_keep_the_row_numbers(tmp_path):
    # the empty rows at the end are dropped, those between data rows are kept: "line N" is
    # still row N of the sheet
    p = _book(tmp_path / "gap.xlsx", [["id", 400, 401], ["a", 1, 2], [], [], ["b", 3, "x"]])
    with pytest.raises(RamancamError, match=r"gap\.xlsx \(sheet Spectra\), line 5: "):
        read(p)
