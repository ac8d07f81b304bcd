"""Shared helpers of the readers: known file types, reading (and un-gzipping) text, sniffing."""

from __future__ import annotations

import gzip
import os
import re
import shlex
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError, size_text, where

# Text suffixes we read; each may also end in ".gz".
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".xy", ".asc")


@dataclass(frozen=True)
class FileFormat:
    """One file format the readers understand: the single place that names it.

    ``key`` is the reader's name for it (``"spc"``); ``name`` is how ``ramancam info``
    prints it; ``known`` how the "Known types" sentence of the errors describes it
    (``None``: another format's line names it too); ``suffixes`` the file suffixes that
    select its reader (empty for formats found by their content, or by
    :data:`OPUS_SUFFIX`); ``label``, for the formats read through an instrument library, how
    their errors name it ("must be a valid LABEL file").
    """

    key: str
    name: str
    known: str | None
    suffixes: tuple[str, ...] = ()
    label: str | None = None


#: Every format, in the order the "Known types" sentence lists them.
FORMATS = (
    FileFormat("table", "wide table", "wide table (.csv/.tsv/.txt, also .gz)"),
    FileFormat("two_column", "two-column text",
               "two-column text (shift, intensity; .txt/.csv/.dat/.xy/.asc)"),
    FileFormat("rruff", "RRUFF text",
               "RRUFF text (##KEY=value header lines, then shift, intensity)"),
    FileFormat("labspec", "Horiba LabSpec text export",
               "Horiba LabSpec text export (#Key=<TAB>value settings, then shift, intensity)"),
    FileFormat("spc", "Galactic SPC", "Galactic SPC (.spc)", (".spc",),
               "Galactic SPC (.spc)"),
    FileFormat("wdf", "Renishaw WiRE WDF", "Renishaw WiRE (.wdf)", (".wdf",),
               "Renishaw WiRE (.wdf)"),
    FileFormat("jcamp", "JCAMP-DX", "JCAMP-DX (.jdx/.dx/.jcamp)", (".jdx", ".dx", ".jcamp"),
               "JCAMP-DX (.jdx/.dx/.jcamp)"),
    FileFormat("opus", "Bruker OPUS", "Bruker OPUS (.0, .1, ...: a number as the suffix)",
               (), "Bruker OPUS (.0, .1, ...)"),
    FileFormat("sif", "Andor SIF", "Andor SIF (.sif)", (".sif",), "Andor SIF (.sif)"),
    FileFormat("omnic", "Thermo OMNIC", "Thermo OMNIC (.spa; .spg groups)", (".spa", ".spg"),
               "Thermo OMNIC (.spa/.spg)"),
    FileFormat("excel", "Excel workbook",
               "Excel workbook (.xlsx/.xlsm/.xls; its first sheet, or FILE:SHEET, as a wide "
               "table)", (".xlsx", ".xlsm", ".xls"), "Excel workbook (.xlsx/.xlsm/.xls)"),
    FileFormat("matlab", "MATLAB file",
               "MATLAB file (.mat; a matrix of spectra beside a vector of Raman shifts)",
               (".mat",), "MATLAB (.mat)"),
    FileFormat("tidy", "long table (a row per point)",
               "long table (a row per point: shift and intensity columns beside id, label or "
               "other columns, as pandas melt writes them)"),
    FileFormat("long", "long map text (x, y, shift, intensity)",
               "long map text (rows of x, y, shift, intensity, as WiRE exports maps)"),
    FileFormat("ocean", "Ocean Insight text export",
               "Ocean Insight (OceanView/SpectraSuite) and B&W Tek (BWSpec) text exports"),
    FileFormat("bwtek", "B&W Tek BWSpec export", None),  # named in the "ocean" line
)
# Instrument formats, read through their own libraries: suffix -> format name.
VENDOR_SUFFIXES = {sfx: f.key for f in FORMATS for sfx in f.suffixes}
#: Bruker OPUS names its files with a number as the suffix (``.0``, ``.1``, ``.0001``);
#: ``.opus`` is read as OPUS too.
OPUS_SUFFIX = re.compile(r"^\.(\d+|opus)$")
#: Formats whose files hold several members (sheets, variables): ``FILE:NAME`` picks one.
MEMBER_FORMATS = ("excel", "matlab")
#: The "Known types" sentence's parts (:func:`known_types_text`).
KNOWN_TYPES = tuple(f.known for f in FORMATS if f.known is not None)
#: Human names of the formats, as ``ramancam info`` prints them.
FORMAT_NAMES = {f.key: f.name for f in FORMATS}
#: How error messages name each instrument format (and the suffixes that select it).
FORMAT_LABELS = {f.key: f.label for f in FORMATS if f.label is not None}
_GZIP_MAGIC = b"\x1f\x8b"
#: The most a gzipped file may inflate to. It is read whole, in memory (a text file takes
#: several times its size once parsed): 1 MB of gzip can inflate to 1 GB (of blank lines,
#: of zeros), which took minutes and ~10 GB before the memory ran out, and the line that
#: said so named no file. A larger file is refused (docs/formats.md, "Gzipped files").
GZIP_LIMIT = 1 << 30
_GZIP_BLOCK = 1 << 20  # inflated at a time
#: Bytes at a text file's start looked at for NUL bytes (a binary file).
_TEXT_HEAD = 65536
#: UTF-32's byte-order marks (little-, big-endian), as Python's encode("utf-32") writes.
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
#: UTF-8's byte-order mark, as Windows Notepad and Excel's "CSV UTF-8" write it.
UTF8_BOM = b"\xef\xbb\xbf"
#: A number written with a decimal comma (``400,5``, ``,5``, ``1,5e-3``), as European
#: locales write them; the table and two-column readers read such numbers as points.
DECIMAL_COMMA = re.compile(r"^[-+]?(\d+,\d*|,\d+)([eE][-+]?\d+)?$")
#: A number with a decimal point (a table that writes these uses no decimal commas).
DECIMAL_POINT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$")


#: A number whose thousands are grouped with points, as spreadsheets in decimal-comma
#: locales write them (``1.250``, ``12.345,5``, ``-1.234.567``); never ``0.123``.
GROUPED_THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(\.\d{3})+(,\d*)?([eE][-+]?\d+)?$")


def has_decimal_comma(token: str) -> bool:
    """Whether ``token`` is a number written with a decimal comma, its thousands grouped
    with points or not (``400,5``, ``1.250,5``): a file that writes one uses them."""
    t = token.strip()
    return bool(DECIMAL_COMMA.match(t) or ("," in t and GROUPED_THOUSANDS.match(t)))


#: A cell that can only be a number, whatever its separators (``1.250,5``, ``-0.5``).
_NUMBER_CELL = re.compile(r"^[-+]?[\d.,]*\d[\d.,]*([eE][-+]?\d+)?$")
#: A number that reads as well with a thousands separator as with a decimal comma
#: (``1,861``: 1861 as English locales group counts, or 1.861); ``0,125`` and ``400,5``
#: read one way only.
THOUSANDS_OR_COMMA = re.compile(r"^[-+]?[1-9]\d{0,2},\d{3}$")
#: Such a number as a line of cells joined by "\n" holds it.
_EITHER_CELL = re.compile(r"^[^\S\n]*[-+]?[1-9]\d{0,2},\d{3}[^\S\n]*$", re.MULTILINE)
#: A comma before three digits (and no more), in a text's bytes whose digits are all 0.
_EITHER_HINT = re.compile(rb",000(?![0,.])")
_DIGITS_TO_0 = bytes.maketrans(b"123456789", b"000000000")
#: What :meth:`DecimalCommas._pointed` gives for a cell it refuses (each cell it reads
#: gives a number's text).
_BAD = "\0"


def _may_read_both_ways(text: str) -> bool:
    """Whether ``text`` may hold a decimal point and a cell such as ``1,861``
    (:data:`THOUSANDS_OR_COMMA`): a point, and :func:`_may_hold_either`."""
    return "." in text and _may_hold_either(text)


def _may_hold_either(text: str) -> bool:
    """Whether ``text`` may hold a cell such as ``1,861``: a comma before three digits (the
    bytes' digits made 0 first: a search of the text took a tenth of the read)."""
    return _EITHER_HINT.search(
        text.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_0)) is not None


def thousands_or_comma(source: str | None, line: int, cell: str, column: str,
                       point: str, point_line: int) -> RamancamError:
    """The refusal of ``cell`` (:data:`THOUSANDS_OR_COMMA`, ``1,861``) on ``line`` of a
    file that writes decimal points (``point``, on ``point_line``): there it is most likely
    a count with a thousands comma, a thousand times more than the decimal comma reads.
    ``column``: where the cell sits (`` in column '400'``, or empty)."""
    t = cell.strip()
    return RamancamError(
        f"{where(source, line)}a number must read one way; got {t!r}{column}, "
        f"{t.replace(',', '')} with a thousands separator or {t.replace(',', '.')} with a "
        f"decimal comma, and the file writes decimal points ({short(point)}, line "
        f"{point_line}). Save the file again with decimal points and without thousands "
        "separators.")


class DecimalCommas:
    """Reads the number cells of a file that writes decimal commas (``400,5``).

    A point in such a file is either a thousands separator (``1.250`` for 1250, as a
    spreadsheet in those locales writes counts) or, in a file that mixes conventions, a
    decimal point (``0.123``). The first cell with a point decides for the whole file:
    grouped thousands when it reads as one (:data:`GROUPED_THOUSANDS`), decimal points
    otherwise. A later cell that can only be read the other way is a contradiction
    (:meth:`texts` gives ``None``; :meth:`error` says why), never a number a thousand times
    off; so is a cell that reads both as a decimal comma and with a thousands comma
    (:data:`THOUSANDS_OR_COMMA`, ``1,861``) in a file with a decimal point, wherever that
    point is (:func:`thousands_or_comma`).
    """

    def __init__(self, text: str, *, points_decimal: bool = False) -> None:
        # text: the file's (or the part's) text, whose cells are read
        # points_decimal: decided beforehand (a table whose first rows show no decimal comma)
        self.grouped: bool | None = False if points_decimal else None
        self.first = ""
        self._first_line = 0
        # the first cell read both ways ('1,861'): (line, column, cell); later ones need no
        # look (beside a decimal point the first is refused), nor do rows of a text with none
        self._either: tuple[int, int, str] | None = None
        self._look = _may_read_both_ways(text)
        # a part read before any point, not searched for a '1,861' (:meth:`part`)
        self._unsure = False
        self._bad: tuple[int, int, str] = (0, -1, "")  # the cell refused, as _either

    def part(self, text: str) -> None:
        """Go on to ``text``, the next part of the file (a block of a table's rows), its
        cells read as the earlier parts decided (the first cell with a point, a cell such
        as ``1,861`` seen before one), so that the file reads a part at a time as it reads
        whole. A ``1,861`` is looked for, row by row, where the part may hold one beside a
        point in it or before it; a part with no point after none is not searched (a tenth
        of its read), so a decimal point later is refused (:meth:`texts` gives ``None``)
        in case the part held one: such a file, mixing decimal commas and points, is read
        whole."""
        if self._either is not None or self.grouped is True:
            self._look = False  # either found already, or points group thousands
        elif "." in text or self.first:
            self._look = _may_hold_either(text)
        else:
            self._look, self._unsure = False, True

    def texts(self, cells: Sequence[str], line: int = 0) -> list[str] | None:
        """The cells of a row (on ``line``) as :func:`float` reads them (``1,5`` -> ``1.5``;
        ``1.250,5`` -> ``1250.5`` once grouped thousands are decided), or ``None`` when one
        contradicts the file's other cells (:meth:`error`). A cell that is no number (a
        column name such as ``a.u.``) decides nothing."""
        if not cells:
            return []
        row = "\n".join(cells)  # one search of the row, not one of each cell: 3 times faster
        if self._look and self.grouped is not True:
            if (m := _EITHER_CELL.search(row)) is not None:
                found = (line, row.count("\n", 0, m.start()), m.group().strip())
                if self.grouped is False and self.first:  # beside a decimal point
                    self._bad = found
                    return None
                self._either, self._look = found, False
        if "." not in row:
            return row.replace(",", ".").split("\n")
        out = [c.replace(",", ".") if "." not in c else self._pointed(c, line) for c in cells]
        if _BAD not in out:
            return out
        if self._bad is not self._either:
            self._bad = (line, out.index(_BAD), self._bad[2])
        return None

    def text(self, cell: str, line: int = 0) -> str | None:
        """One cell as :meth:`texts` reads it, or ``None``."""
        got = self.texts([cell], line)
        return None if got is None else got[0]

    def _pointed(self, cell: str, line: int) -> str:
        """A cell with a point as :meth:`texts` reads it, or :data:`_BAD` (``_bad`` says
        why)."""
        t = cell.strip()
        if not _NUMBER_CELL.match(t):
            return cell
        grouped = GROUPED_THOUSANDS.match(t) is not None
        if not self.first:
            self.first, self._first_line = t, line
        if self.grouped is None:
            self.grouped = grouped
        if self.grouped:
            if grouped:
                return t.replace(".", "").replace(",", ".")
        elif "," not in t:  # a point and a comma: grouped thousands after all
            if self._either is None and not self._unsure:
                return t
            # an earlier '1,861', beside this decimal point (or a part not searched for one)
            self._bad = self._either or (line, -1, t)
            return _BAD
        self._bad = (line, -1, t)
        return _BAD

    def error(self, source: str | None, name: Callable[[int], str] | None = None,
              what: str = "file") -> RamancamError:
        """Why :meth:`texts` refused a cell, naming its file and line (``source``; ``name``:
        the name of column ``j``, said beside the cell; ``what``: ``file`` or ``table``)."""
        line, column, cell = self._bad
        place = f" in column {name(column)!r}" if name is not None and column >= 0 else ""
        if THOUSANDS_OR_COMMA.match(cell):
            return thousands_or_comma(source, line, cell, place, self.first,
                                      self._first_line)
        return RamancamError(f"{where(source, line)}{self.problem(cell)}{place}. Write every "
                             f"number of the {what} one way.")

    def problem(self, cell: str) -> str:
        """The message's middle for a contradicting ``cell``: what the file writes."""
        how = ("groups thousands with points" if self.grouped
               else "writes decimal points beside its decimal commas")
        earlier = f" ({short(self.first)} earlier)" if self.first != cell.strip() else ""
        return (f"could not read {short(cell)}: this file writes decimal commas and "
                f"{how}{earlier}")


class TableNumbers:
    """How a wide table writes its numbers, decided on its header and first rows
    (:func:`ramancam.io.table.parse_table`): ``comma``, with decimal commas, read by
    ``commas`` (:class:`DecimalCommas`, which goes on to decide how its points read), else
    ``point``, its first decimal point (cell, line), beside which a ``1,861`` reads both
    ways.

    A row reader (:mod:`ramancam.io.tablerows`) parses a table a block of rows at a time,
    each under the header: one of these, given to every block, is decided on the first
    (``comma`` None until then) and kept for the others, so that a block reads its cells as
    the whole read of the table does, not as its own first rows would say. ``checked``: the
    table's rows were all read once (indexed), the checks of all its numbers made then
    (counts grouped with thousands points): rows read back again are not judged alone.
    """

    def __init__(self) -> None:
        self.comma: bool | None = None
        self.commas: DecimalCommas | None = None
        self.point: tuple[str, int] | None = None
        self.checked = False


#: A whole number as a cell writes it ('987', '-89'); one grouped with thousands points
#: ('1.251', '-12.345'), nothing after the groups.
_WHOLE = re.compile(r"^[-+]?\d+$")
_GROUPED_WHOLE = re.compile(r"^[-+]?[1-9]\d{0,2}(\.\d{3})+$")


class ThousandsPoints:
    """Spots counts grouped with thousands points in a file without decimal commas.

    A spreadsheet in a decimal-comma locale writes the count 1251 as ``1.251`` beside
    ``987``; with no decimal comma in the file, read as a decimal point it is 1.251, every
    value of 1000 or more a thousand times too small. Fed the number cells of a file (not
    split at commas) with :meth:`add`, :meth:`ambiguous` names the first such cell when a
    spectrum (a row of a wide table, a column of the others) holds both kinds (grouped
    cells and whole numbers below 1000, none above), no cell of the file has a point only a
    decimal point can be (``12.5``, ``0.123``), and the spectrum read with decimal points is
    not far smoother than read with thousands separators (averages of whole counts written
    ``313.667`` beside ``356`` read as decimals).
    """

    def __init__(self) -> None:
        # a cell with a decimal point or a decimal comma: the file says how it reads
        self.decimal = False
        self._small: set[int] = set()  # spectra with a whole number below 1000
        self._big: set[int] = set()  # spectra with a whole number of 1000 or more
        # spectrum -> (line, column, cell) of its first grouped cell
        self._first: dict[int, tuple[int, int, str]] = {}
        # spectrum -> its walk read both ways: the last value, the summed steps, the lowest
        # and the highest value, with decimal points ([0:4]) and as thousands ([4:8])
        self._walk: dict[int, list[float]] = {}

    def _step(self, spectrum: int, point: float, grouped: float) -> None:
        w = self._walk.get(spectrum)
        if w is None:
            self._walk[spectrum] = [point, 0.0, point, point, grouped, 0.0, grouped, grouped]
            return
        for k, v in ((0, point), (4, grouped)):
            w[k + 1] += abs(v - w[k])
            w[k], w[k + 2], w[k + 3] = v, min(w[k + 2], v), max(w[k + 3], v)

    def _smoother_with_points(self, spectrum: int) -> bool:
        """Whether ``spectrum`` read with decimal points is far smoother than read with
        thousands separators: its summed steps, over its range, less than a third. Averaged
        counts (``313.667`` beside ``356``) jump by 300,000 as thousands at every third
        point; counts grouped with points jump by a thousandfold where they pass 1000 when
        read as decimals."""
        w = self._walk[spectrum]
        rough = [w[k + 1] / (w[k + 3] - w[k + 2]) if w[k + 3] > w[k + 2] else 0.0
                 for k in (0, 4)]
        return rough[0] * 3 < rough[1]

    def add(self, spectrum: int, cell: str, lineno: int, column: int) -> None:
        """Look at the number cell of ``spectrum`` on line ``lineno``, in ``column``."""
        if self.decimal:
            return
        t = cell.strip()
        if "," in t:  # a decimal comma: DecimalCommas' business
            self.decimal = True
        elif "." in t:
            if _GROUPED_WHOLE.match(t):
                self._first.setdefault(spectrum, (lineno, column, t))
                self._step(spectrum, float(t), float(t.replace(".", "")))
            else:
                self.decimal = True
        elif _WHOLE.match(t):
            (self._big if len(t.lstrip("+-")) > 3 else self._small).add(spectrum)
            self._step(spectrum, float(t), float(t))

    def ambiguous(self) -> tuple[int, int, str] | None:
        """``(line, column, cell)`` of the first grouped cell that reads both ways, or
        ``None``."""
        if self.decimal:
            return None
        hits = [first for k, first in self._first.items()
                if k in self._small and k not in self._big
                and not self._smoother_with_points(k)]
        return min(hits) if hits else None

    @staticmethod
    def problem(cell: str, what: str) -> str:
        """The message for ``cell`` (``what``: where it sits, ``in column '1000'``)."""
        return (f"a number must read one way; got {cell!r} {what}, "
                f"{cell.replace('.', '')} with a thousands separator or {cell} with a decimal "
                "point, and no cell of the file says which (beside it whole numbers below "
                "1000, no decimal comma, no other decimal point). Save the file again "
                "without thousands separators.")


class GroupedCountsMaybe:
    """Whether numbers, seen a part at a time (:meth:`add`), could be counts grouped with
    thousands points read as decimal points (:class:`ThousandsPoints`): whole numbers, and
    others of 1 to 1000 with at most three decimals, some of each. A reader looks at its
    cells' text again only then (most files: not past their first part), and parts keep
    the copies it takes small."""

    def __init__(self) -> None:
        self.never = False  # a number that no such count reads as
        self._frac = self._whole = False

    def add(self, part: NDArray[np.float64]) -> bool:
        """Look at the numbers ``part``; ``False`` once they cannot be such counts."""
        if self.never:
            return False
        v = part[np.isfinite(part)]
        whole = v == np.round(v)
        frac = v[~whole]
        milli = frac * 1000
        if (np.any(np.abs(frac) < 1) or np.any(np.abs(frac) >= 1000)
                or np.any(np.abs(milli - np.round(milli)) > 1e-6)):
            self.never = True
            return False
        self._frac, self._whole = self._frac or bool(frac.size), self._whole or bool(whole.any())
        return True

    @property
    def maybe(self) -> bool:
        """Whether the numbers seen so far could be such counts."""
        return not self.never and self._frac and self._whole


def grouped_counts_maybe(X: NDArray[np.float64]) -> bool:
    """:class:`GroupedCountsMaybe` of ``X``: a table's rows (the first row alone, then 256
    at a time; the first row says no for most tables), or numbers 65,536 at a time."""
    parts = ((X[:1], *(X[i:i + 256] for i in range(1, len(X), 256))) if X.ndim == 2
             else (X[i:i + 65536] for i in range(0, X.size, 65536)))
    scan = GroupedCountsMaybe()
    return all(scan.add(part) for part in parts) and scan.maybe


def check_point_rows_thousands(rows: Iterable[tuple[int, Sequence[str]]],
                               spectra: Sequence[int] | NDArray[np.intp], shift: int,
                               intensity: int, what: str, source: str) -> None:
    """Refuse counts grouped with thousands points (:class:`ThousandsPoints`) in a file of
    a row per point (a long map, a long table), as the wide-table and two-column readers
    refuse them: ``rows`` its rows, ``(line, cells)`` in file order, ``spectra[r]`` the
    spectrum of row ``r``, ``shift`` and ``intensity`` the cells' places; ``what`` says
    where the intensity sits (``as the intensity``). A shift with a point says the file's
    points are decimal ones, as :func:`ramancam.io.xy.parse_xy` takes it (grouped, shifts
    would run above 100,000 cm-1)."""
    seen = ThousandsPoints()
    for r, (lineno, cells) in enumerate(rows):
        if "." in cells[shift]:
            return
        seen.add(int(spectra[r]), cells[intensity], lineno, intensity)
        if seen.decimal:
            return
    if (hit := seen.ambiguous()) is not None:
        at, _, cell = hit
        raise RamancamError(where(source or None, at) + ThousandsPoints.problem(cell, what))


def number_text(value: float) -> str:
    """A number cell's text as a CSV file or an ``.xlsx`` workbook gives it: a whole number
    without a decimal point (``1``, not ``1.0``: readers that return every number as a float,
    xlrd and loadmat, made labels and groups ``'1.0'`` that matched no ``'1'``), else the
    shortest text that reads back the same float."""
    return str(int(value)) if value.is_integer() else repr(value)


def is_number(token: str) -> bool:
    """True when ``float`` reads ``token`` (``nan`` and ``inf`` included)."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def known_types_text() -> str:
    """One sentence naming the file types the readers understand."""
    sfx = ", ".join(TEXT_SUFFIXES)
    return (f"Known types: {'; '.join(KNOWN_TYPES)}; text suffixes {sfx}, each optionally "
            "+ .gz")


def base_suffix(path: Path) -> str:
    """The file's type suffix, lower case, with a trailing ``.gz`` removed (``""`` if none)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


#: The instrument formats whose readers un-gzip a gzipped file (read whole, as bytes):
#: ``.spc.gz``, ``.wdf.gz``, ``.jdx.gz``. The others' readers (scipy, h5py, openpyxl,
#: xlrd, sif_parser, brukeropus, OMNIC's) take the file itself: :func:`check_gzip_read`.
GZIP_FORMATS = ("spc", "wdf", "jcamp")


def check_gzip_read(path: Path) -> None:
    """Refuse a gzipped file of a format whose reader takes the file itself (``.mat.gz``,
    ``.xlsx.gz``, ``.sif.gz``, ``.spa.gz``, ``.0.gz``): it was called damaged, or asked
    for "its own suffix", instead of being said to be gzipped."""
    fmt = vendor_format(path)
    if fmt is None or fmt in GZIP_FORMATS or not path.name.lower().endswith(".gz"):
        return
    plain = path.with_name(path.name[:-3])
    raise RamancamError(
        f"file {path} must not be gzipped: gzipped {base_suffix(path)} files are not read "
        "(the text formats and .spc, .wdf, .jdx/.dx/.jcamp are). Un-gzip it first (gunzip "
        f"{shlex.quote(str(path))}) and read {plain}.")


def is_known_file(path: Path) -> bool:
    """True when the file name has one of the suffixes we read (text or instrument format)."""
    sfx = base_suffix(path)
    return sfx in TEXT_SUFFIXES or sfx in VENDOR_SUFFIXES or bool(OPUS_SUFFIX.match(sfx))


def vendor_format(path: Path) -> str | None:
    """``"spc"``, ``"wdf"``, ``"jcamp"``, ``"opus"``, ... from the file name; ``None`` for
    text suffixes."""
    sfx = base_suffix(path)
    return "opus" if OPUS_SUFFIX.match(sfx) else VENDOR_SUFFIXES.get(sfx)


def split_member(path: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """``(file, member)`` of ``FILE:NAME`` (a sheet of a workbook, a variable of a MATLAB
    file); ``(path, None)`` for anything else, including a path that exists as given."""
    p = Path(path)
    s = str(path)
    head, sep, member = s.rpartition(":")
    if p.exists() or not sep or not head:
        return p, None
    f = Path(head)
    if vendor_format(f) in MEMBER_FORMATS and f.is_file():
        return f, member  # (an empty name, FILE:, the reader refuses listing the names)
    return p, None


def read_bytes(path: Path, head_check: Callable[[bytes], None] | None = None) -> bytes:
    """A whole file's bytes, un-gzipped when it starts with the gzip magic bytes.

    A gzipped file is inflated a block at a time, up to :data:`GZIP_LIMIT` bytes;
    ``head_check`` sees its first inflated bytes (at least 64 KiB, or all) before the rest is
    inflated (:func:`read_text` refuses a binary file there).

    Raises
    ------
    RamancamError
        If the path is a folder, the gzip stream is broken or inflates to more than
        :data:`GZIP_LIMIT` bytes.
    """
    if path.is_dir():
        raise RamancamError(f"{path} must be a file here; got a folder.")
    with path.open("rb") as fh:
        gzipped = fh.read(2) == _GZIP_MAGIC
        fh.seek(0)
        if not gzipped:
            return fh.read()  # one copy of a large plain file, not its head joined to the rest
        try:
            return _inflate(path, fh, head_check)
        except (OSError, EOFError, zlib.error) as exc:
            raise RamancamError(
                f"file {path} must be a valid gzip file; got a damaged stream ({exc}). "
                "Re-download or re-compress it.") from None


def _inflate(path: Path, fh: BinaryIO, head_check: Callable[[bytes], None] | None) -> bytes:
    """The inflated bytes of the gzip file open as ``fh`` (see :func:`read_bytes`)."""
    parts: list[bytes] = []
    size = 0
    with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
        while block := gz.read(_GZIP_BLOCK):
            parts.append(block)
            size += len(block)
            if head_check is not None and size >= _TEXT_HEAD:
                head_check(b"".join(parts)[:_TEXT_HEAD])
                head_check = None
            if size > GZIP_LIMIT:
                parts.clear()
                raise _inflates_too_much(path)
    data = b"".join(parts)
    if head_check is not None:
        head_check(data[:_TEXT_HEAD])
    return data


def _inflates_too_much(path: Path) -> RamancamError:
    q = shlex.quote(str(path))
    if path.name.lower().endswith(".gz") and len(path.name) > 3:
        how, plain = f"gunzip {q}", path.with_name(path.name[:-3])
    else:
        how, plain = f"gunzip -c {q} > PLAIN", Path("PLAIN")
    return RamancamError(
        f"file {path} must inflate to at most {size_text(GZIP_LIMIT)}, the limit on a gzipped "
        f"file (read whole, in memory); got more than that from its "
        f"{size_text(path.stat().st_size)}. Un-gzip it ({how}) and read {plain}, or split it "
        f"into smaller files; a map converts as it is, tile by tile (ramancam convert {q} "
        "OUT.zarr).")


def check_path_type(path: object) -> None:
    """Refuse what is no file or folder name (a DataFrame, an array, None) in words."""
    if not isinstance(path, str | os.PathLike):
        raise RamancamError(
            f"path must be a file or folder name (str or Path); got {type(path).__name__}. "
            "For spectra already in memory, build them with Spectra(X, wavenumbers).")


def check_exists(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path (``~`` expanded), or raise a one-line error when nothing
    is there."""
    check_path_type(path)
    p = Path(path).expanduser()
    if not p.exists():
        raise RamancamError(
            f"path must be an existing file or folder; got {str(p)!r}, which does not exist. "
            "Check the spelling and the current folder.")
    check_utf8_path(p)
    return p


def check_utf8_path(path: str | os.PathLike[str], folder: Path | None = None, *,
                    output: bool = False) -> None:
    """Refuse a path name that is not UTF-8 text (a zip made on Windows): it becomes ids,
    labels and lines of outputs written as UTF-8, which failed after the work. ``folder``:
    the folder read, when ``path`` is a name in it; ``output``: a name to write (nothing
    to rename)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(str(path))
        try:  # UTF-8 on disk, decoded otherwise: the locale is to blame, not the name
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise RamancamError(
                f"path names must be read as UTF-8; got {name!r} read as "
                f"{sys.getfilesystemencoding()}, because the locale (LANG, LC_ALL) is not a "
                "UTF-8 one. Run with LC_ALL=C.UTF-8 or PYTHONUTF8=1; the name is fine.") from None
        shown = raw.decode("utf-8", "backslashreplace")
        if output:
            raise RamancamError(
                f"path names must be UTF-8 text; got '{shown}' (bytes of another encoding). "
                "Name the output in UTF-8.") from None
        what, fix = (("path names", "--notest FILE") if folder is None else
                     (f"file and folder names in {str(folder)!r}",
                      f"-r --notest {str(folder)!r}"))
        raise RamancamError(
            f"{what} must be UTF-8 text; got '{shown}' (bytes of another encoding, as zips "
            f"made on Windows write them). Rename it, e.g. convmv -f cp1252 -t utf8 "
            f"{fix}.") from None


def read_text(path: Path) -> str:
    """Read a whole text file, un-gzipping it when it starts with the gzip magic bytes.

    UTF-8 (with or without a byte-order mark) is tried first; a file that is not UTF-8
    throughout is read line by line, each line as UTF-8 where it is, else as Windows-1252
    (the code page of Windows software's exports), else as Latin-1, which never fails, so
    that odd bytes surface as unreadable numbers with a line number instead of a decoding
    traceback.

    Raises
    ------
    RamancamError
        If the path is a folder, the gzip stream is broken, or the content holds NUL bytes
        (a binary file).
    """
    data = read_bytes(path, lambda head: _check_text_head(path, head, bom=True))
    if data[:4] in _UTF32_BOMS:  # before UTF-16's: FF FE 00 00 starts with FF FE
        try:
            return unify_line_ends(data.decode("utf-32"))
        except UnicodeDecodeError:
            pass
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 with a byte-order mark, as some spectrometer software exports text.
        try:
            return unify_line_ends(data.decode("utf-16"))
        except UnicodeDecodeError:
            pass
    _check_text_head(path, data[:_TEXT_HEAD], bom=False)
    return unify_line_ends(decode_lines(data.removeprefix(UTF8_BOM)))


class NotTextError(RamancamError):
    """A file read as text holds NUL bytes (binary content, or UTF-16 without a byte-order
    mark): :func:`read_text`'s one refusal that a reader trying text may take as "not this
    format"."""


def _check_text_head(path: Path, head: bytes, *, bom: bool) -> None:
    """Refuse a file whose first bytes hold NUL bytes (binary, or UTF-16 without a byte-order
    mark); with ``bom``, a head that starts with a UTF-16 or UTF-32 byte-order mark passes
    (:func:`read_text` tries those encodings on the whole file first)."""
    if bom and (head[:4] in _UTF32_BOMS or head[:2] in (b"\xff\xfe", b"\xfe\xff")):
        return
    if b"\x00" in head:
        if (end := _utf16_without_bom(head)) is not None:
            codec = "UTF-16LE" if end == "little" else "UTF-16BE"
            raise NotTextError(
                f"file {path} must be text with a byte-order mark if it is UTF-16; got what "
                f"looks like UTF-16 ({end}-endian) without one (a NUL byte beside every "
                "character). Save it as UTF-8, or as UTF-16 with a byte-order mark (iconv -f "
                f"{codec} -t UTF-8 FILE).")
        raise NotTextError(
            f"file {path} must be a text file; got binary content (NUL bytes). "
            f"{known_types_text()}.")


def decode_lines(data: bytes) -> str:
    """Text bytes (no byte-order mark) as :func:`read_text` decodes them: UTF-8 when they
    are UTF-8 throughout, else line by line (:func:`_decode_line`). A block of whole lines
    of a file comes out as the same lines of the whole file's text, so that the readers of
    a file's blocks (:mod:`ramancam.io.tablerows`) read it as the whole read does."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8 throughout: text written by Windows software, whose code page (cp1252) gives
    # bytes 0x80-0x9f the en dash, quotes, the euro and trademark signs that latin-1 reads as
    # invisible control characters; latin-1 (every byte a character) where cp1252 has none.
    # Line by line: a UTF-8 file with one line typed in a Windows editor (a header
    # 'Temp (°C)') keeps its UTF-8 lines (labels 'Käse', not 'KÃ¤se').
    return "\n".join(map(_decode_line, data.split(b"\n")))


def _decode_line(line: bytes) -> str:
    """One line of a file that is not UTF-8 throughout: UTF-8 where the line is, else
    cp1252, else latin-1."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            pass
    return line.decode("latin-1")


def _utf16_without_bom(head: bytes) -> str | None:
    """``"little"`` or ``"big"`` when ``head`` looks like UTF-16 text without a byte-order
    mark: a NUL byte beside (nearly) every character, as plain Latin characters give, and
    (nearly) none between them; ``None`` otherwise (a binary file)."""
    head = head[:len(head) // 2 * 2]
    if len(head) < 8:
        return None
    even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
    if odd >= 0.9 and even <= 0.05:
        return "little"
    if even >= 0.9 and odd <= 0.05:
        return "big"
    return None


def decode_head(raw: bytes) -> str:
    """The text of a file's first bytes, decoded as :func:`read_text` decodes the whole
    file (UTF-32 or UTF-16 with a byte-order mark, UTF-8 with or without one), for telling
    formats apart; what cannot be decoded (a character cut at the end) is replaced."""
    if raw[:4] in _UTF32_BOMS:
        return unify_line_ends(raw[:len(raw) // 4 * 4].decode("utf-32", "replace"))
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return unify_line_ends(raw[:len(raw) // 2 * 2].decode("utf-16", "replace"))
    return unify_line_ends(raw.decode("utf-8-sig", "replace"))


def unify_line_ends(text: str) -> str:
    """``text`` with old Mac line ends (a lone ``"\\r"`` ends every line, no ``"\\n"``
    anywhere) turned into ``"\\n"``, which every reader splits on; other text unchanged
    (``"\\r\\n"`` lines keep their ``"\\r"``, which the readers strip)."""
    if "\r" in text and "\n" not in text:
        return text.replace("\r", "\n")
    return text


def short(token: str, limit: int = 40) -> str:
    """A token for an error message: repr'd and cut to ``limit`` characters."""
    return repr(token if len(token) <= limit else token[:limit] + "...")
