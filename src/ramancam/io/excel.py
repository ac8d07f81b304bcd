"""Excel workbooks (``.xlsx``, ``.xlsm``, and the older binary ``.xls``): the first sheet (or a
named one), read as a wide table.

The sheet holds the same layouts as a text table (:mod:`ramancam.io.table`): one spectrum
per row under a header of metadata names and Raman shifts, or one spectrum per column with
the Raman shift in the first column. The cells are read with openpyxl (MIT; ``.xls``: xlrd,
BSD-3) as values (formulas give the values Excel last computed) and parsed by the table
reader, so labels, metadata, pixel positions, empty cells at a spectrum's ends and every
error message work as for a CSV file; "line N" in a message is row N of the sheet. An error
in the first of several sheets (read when none is named) lists the workbook's sheets and
the ``FILE.xlsx:SHEET`` form.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

from .._csvout import csv_writer
from ..errors import RamancamError
from ..spectra import Spectra
from ._text import DECIMAL_COMMA, THOUSANDS_OR_COMMA, check_exists, number_text
from ._vendor import library_boundary
from .table import parse_table

__all__ = ["read_excel"]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _row_texts(row: Sequence[object]) -> list[str]:
    """The cell texts of a row, without the empty cells at its end (``[]`` for an empty
    row)."""
    n = len(row)
    if row.count(None) == n:  # at C speed: most rows of a far-reaching used range
        return []
    while row[n - 1] is None:
        n -= 1
    texts = [_cell_text(v) for v in row[:n]]
    while texts and not texts[-1]:
        texts.pop()
    return texts


def _data_rows(rows: Iterable[list[str]]) -> list[list[str]]:
    """``rows`` without the empty rows at the sheet's end. They are counted, not kept, until
    a later row holds data: one styled cell at row 1,048,576 would otherwise make a million
    rows of nothing."""
    kept: list[list[str]] = []
    blank = 0
    for r in rows:
        if not r:
            blank += 1
            continue
        if blank:
            kept.extend([] for _ in range(blank))
            blank = 0
        kept.append(r)
    return kept


def _column_letters(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


def _decimal_commas(rows: list[list[str]], source: str, head: int = 200) -> bool:
    """Whether the numbers typed as text in the first ``head`` of ``rows`` have decimal
    commas ('400,5'); a sheet whose every such cell, in all its rows, has three digits after
    a comma of one to three ('17,087': English counts) may as well have thousands
    separators, and is refused."""
    cells = [(i, j, t) for i, r in enumerate(rows[:head]) for j, c in enumerate(r)
             if DECIMAL_COMMA.match(t := c.strip())]
    if (cells and all(THOUSANDS_OR_COMMA.match(t) for *_, t in cells)
            and not any(DECIMAL_COMMA.match(t := c.strip())
                        and not THOUSANDS_OR_COMMA.match(t)
                        for r in rows[head:] for c in r)):
        # a later cell ('1000,125', '1800,5') says decimal commas; none does here
        i, j, t = cells[0]
        grouped, decimal = t.replace(",", ""), t.replace(",", ".")
        raise RamancamError(
            f"file {source}, cell {_column_letters(j)}{i + 1}: a number typed as text must "
            f"read one way; got {t!r}, {grouped} with a thousands separator or {decimal} with "
            "a decimal comma, and no cell of the sheet says which. Store the numbers as "
            "numbers in Excel, or type them without thousands separators.")
    return bool(cells)


def _no_sheet(p: Path, sheet: str, names: list[str]) -> RamancamError:
    listed = ', '.join(repr(n) for n in names)
    if not sheet:  # FILE: said the file did not exist
        return RamancamError(
            f"file {p}: the ':' must be followed by a sheet's name; got none. Its sheets are "
            f"{listed}. Name one of them as {p}:SHEET, or give {p} alone for the first.")
    return RamancamError(
        f"file {p} must have the sheet {sheet!r}; its sheets are {listed}. Name one of them "
        f"as {p}:SHEET.")


def _xlsx_rows(p: Path, sheet: str | None) -> tuple[str, list[str], list[list[str]]]:
    """(sheet name, every sheet's name, rows of cell texts) of an ``.xlsx``/``.xlsm``
    workbook (openpyxl)."""
    from openpyxl import load_workbook

    book = load_workbook(p, read_only=True, data_only=True)
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise _no_sheet(p, sheet, names)
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        # The sheet's declared range reaches its last styled cell, which may be far past
        # the data (XFD1048576); without it openpyxl gives only the rows and cells the
        # sheet stores, and the rows it skips as [].
        ws.reset_dimensions()
        return ws.title, names, _data_rows(_row_texts(row)
                                           for row in ws.iter_rows(values_only=True))
    finally:
        book.close()


def _xls_rows(p: Path, sheet: str | None) -> tuple[str, list[str], list[list[str]]]:
    """(sheet name, every sheet's name, rows of cell texts) of a binary ``.xls`` workbook
    (xlrd)."""
    import xlrd

    book = xlrd.open_workbook(str(p), on_demand=True)
    try:
        names = list(book.sheet_names())
        if sheet is not None and sheet not in names:
            raise _no_sheet(p, sheet, names)
        ws = book.sheet_by_name(sheet) if sheet is not None else book.sheet_by_index(0)
        rows = []
        for r in range(ws.nrows):
            row = []
            for c in ws.row(r):
                if c.ctype == xlrd.XL_CELL_DATE:
                    row.append(_cell_text(xlrd.xldate_as_datetime(c.value, book.datemode)))
                elif c.ctype == xlrd.XL_CELL_BOOLEAN:
                    row.append(_cell_text(bool(c.value)))
                elif c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK,
                                 xlrd.XL_CELL_ERROR):
                    row.append("")
                elif c.ctype == xlrd.XL_CELL_NUMBER:  # a float, whole numbers too
                    row.append(number_text(float(c.value)))
                else:
                    row.append(_cell_text(c.value))
            while row and not row[-1]:
                row.pop()
            rows.append(row)
        return ws.name, names, _data_rows(rows)
    finally:
        book.release_resources()


def read_excel(path: str | os.PathLike[str], *, label_col: str | None = None,
               sheet: str | None = None) -> Spectra:
    """Read a sheet of an Excel workbook (the first, unless named) as a wide table.

    Parameters
    ----------
    path : str or path-like
        An ``.xlsx``/``.xlsm`` workbook, or an older binary ``.xls`` one.
    label_col : str, optional
        The label column, as for :func:`ramancam.io.read_table`.
    sheet : str, optional
        The sheet's name (on the command line ``FILE.xlsx:SHEET``); default the first.

    Returns
    -------
    Spectra
        As :func:`ramancam.io.read_table` gives it; ``sources`` name the file.

    Raises
    ------
    RamancamError
        A damaged or password-protected workbook, an empty sheet, a sheet name the workbook
        does not have (its sheets are listed), or any table error (the sheet and row named;
        in the first of several sheets, read by default, the workbook's sheets listed).
    """
    p = check_exists(Path(path))
    with library_boundary(p, "excel"):
        name, names, rows = (_xls_rows if p.suffix.lower() == ".xls" else _xlsx_rows)(p, sheet)
    # The rows come without their empty end cells: pad the short ones, so that every row
    # has the width of the longest.
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        raise RamancamError(
            f"file {p} must hold a table on {'its first sheet' if sheet is None else 'the sheet'}"
            f" ({name!r}); got an empty sheet. "
            + ("Put the spectra on the first sheet, or name their sheet as FILE:SHEET."
               if sheet is None else "Name the sheet that holds the spectra."))
    buf = io.StringIO()
    # numbers typed as text with decimal commas ('400,5', a German sheet's text cells): a
    # semicolon between the cells, so that the table reader reads them as decimal commas
    commas = _decimal_commas(rows, f"{p} (sheet {name})")
    w = csv_writer(buf, delimiter=";" if commas else ",")
    for r in rows:
        w.writerow((r + [""] * width)[:width] if any(r) else [])
    try:
        s = parse_table(buf.getvalue(), source=f"{p} (sheet {name})", label_col=label_col)
    except RamancamError as exc:
        if sheet is not None or len(names) < 2:
            raise
        hint = (f" This was the first of the workbook's sheets "
                f"{', '.join(repr(n) for n in names)}: name the one that holds the spectra as "
                f"{p}:SHEET.")
        raise RamancamError(str(exc) + hint,
                            cli=None if exc.cli is None else exc.cli + hint) from exc
    common = s.has_common_axis
    return Spectra(s.X if common else s.intensities, s.wavenumbers if common else s.axes,
                   s.labels, s.meta, sources=[str(p)] * len(s))
