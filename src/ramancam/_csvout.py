"""CSV rows that every reader reads back as written, whatever the names in them hold.

``csv.writer`` quotes a field holding the delimiter, a quote or a character of its line
end; with the ``"\\n"`` line end every ramancam CSV uses, a lone carriage return in a class
name or an id stays bare, and csv readers (Python's, spreadsheets) end the row there (3
spectra read back as 13 rows). :func:`csv_writer` quotes such a field too; a row without
one is written by ``csv.writer`` itself, byte for byte as before. ``write_table`` quotes
its names the same way (``io.table._quote``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol


class _Text(Protocol):
    def write(self, s: str, /) -> Any: ...


def _text(field: Any) -> str:
    # what csv.writer writes for the field: repr for floats, "" for None, str otherwise
    if field is None:
        return ""
    if isinstance(field, float):  # numpy's float64 too, whose repr is 'np.float64(0.25)'
        return repr(float(field))
    return field if isinstance(field, str) else str(field)


def _holds_cr(fields: list[Any] | tuple[Any, ...]) -> bool:
    """Whether a text field of ``fields`` holds a carriage return. A row of text only
    (explain's maps.csv: 1,400 numbers written as text a row) is joined and searched at C
    speed; the field-by-field test cost a quarter of csv.writer's own time there."""
    try:
        return "\r" in "".join(fields)
    except TypeError:  # numbers, None: as csv.writer writes them, no carriage return
        return any(isinstance(f, str) and "\r" in f for f in fields)


class CsvWriter:
    """``writerow`` / ``writerows`` as ``csv.writer(fh, delimiter=..., lineterminator="\\n")``
    writes them, with every field that holds a carriage return quoted (or, with
    ``escape_breaks``, every line break in a field escaped)."""

    def __init__(self, fh: _Text, delimiter: str = ",", *, escape_breaks: bool = False
                 ) -> None:
        self._fh = fh
        self._delimiter = delimiter
        self._escape = escape_breaks
        self._writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")

    def _quoted(self, field: Any) -> str:
        s = _text(field)
        if any(c in s for c in ("\r", "\n", '"', self._delimiter)):
            return '"' + s.replace('"', '""') + '"'
        return s

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row (a field of a lone ``\\r`` quoted)."""
        fields = row if isinstance(row, (list, tuple)) else list(row)
        if self._escape and any(isinstance(f, str) and ("\r" in f or "\n" in f)
                                for f in fields):
            fields = [f.replace("\r", "\\r").replace("\n", "\\n") if isinstance(f, str)
                      else f for f in fields]
        if _holds_cr(fields):
            self._fh.write(self._delimiter.join(map(self._quoted, fields)) + "\n")
        else:
            self._writer.writerow(fields)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write each of ``rows``."""
        for row in rows:
            self.writerow(row)


def csv_writer(fh: _Text, delimiter: str = ",", *, escape_breaks: bool = False
               ) -> CsvWriter:
    """A CSV writer on the text file ``fh`` (opened with ``newline=""``) with ``"\\n"`` line
    ends that quotes every field a reader would split: see :class:`CsvWriter`.

    ``escape_breaks``: show a line break inside a field as ``\\r`` / ``\\n`` instead (rows
    for a terminal, where a raw ``\\r`` goes back over the row's start and a quoted ``\\n``
    reads as a row of its own; a file or a pipe gets the fields as they are)."""
    return CsvWriter(fh, delimiter, escape_breaks=escape_breaks)
