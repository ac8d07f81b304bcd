"""One spectrum per file: two-column text and RRUFF-style text.

Two-column text::

    # comment lines start with '#'
    450.0<TAB>0.0029          <- shift, intensity; tab, comma, semicolon or spaces between
    451.0<TAB>0.0046

Decimal commas (``450,5;0,0029`` or ``450,5<TAB>0,0029``, as European locales write them) are
read as points when the first data line has a semicolon, tab or spaces between two such
numbers. A separator after the last field (``450,0.0029,``) is ignored.

One line of column titles (no number on it) may precede the data; an x column titled in
wavelengths (``Wavelength (nm)``, ``nm``, ``Wavelength (µm)``, read in nm) gives the metadata
column ``x_units`` = ``"nm"``, which the command line converts with ``--laser-nm`` (and
refuses without it). RRUFF text adds
``##KEY=value`` header lines (``##NAMES=Barysilite``, ``##RRUFFID=R050002``, ...) whose values
become metadata; ``##END=`` ends the data. Axes are kept as given (descending and unevenly
spaced axes included) but must be strictly monotonic.

Horiba LabSpec's text export of a spectrum writes its acquisition settings as
``#Key=<TAB>value`` lines above the two columns (``#Acq. time (s)=<TAB>10``,
``#Laser=<TAB>532.07``, ``#Title=<TAB>PS bead``, ...). With two or more such lines they become
metadata too, under their own names, except ``Laser`` (``laser_wavelength_nm``), ``Title``
(``title``), ``Instrument`` (``instrument``) and ``Date`` (``acquired``, as written).
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..errors import RamancamError, where
from ..spectra import Spectra, check_axis
from ._text import (
    GROUPED_THOUSANDS,
    DecimalCommas,
    ThousandsPoints,
    check_exists,
    has_decimal_comma,
    is_number,
    read_text,
    short,
)
from ._units import title_line_x, wavelength_title

__all__ = ["LABSPEC_MIN_SETTINGS", "is_labspec_setting", "parse_xy", "read_rruff",
           "read_two_column", "two_numbers"]

_SPLIT = re.compile(r"[,;\s]+")
#: A LabSpec setting line: ``#Key=<TAB>value``.
_LABSPEC = re.compile(r"^#([^#=\t][^=\t]*)=\t(.*)$")
#: Setting lines that make a two-column file a LabSpec export (one could be a comment).
LABSPEC_MIN_SETTINGS = 2
#: LabSpec keys (lower case) stored under the names the other readers use.
_LABSPEC_NAMES = {"laser": "laser_wavelength_nm", "title": "title",
                  "instrument": "instrument", "date": "acquired"}
_SPLIT_NO_COMMA = re.compile(r"[;\s]+")


def _comma_pair(line: str) -> bool:
    """Whether a (stripped) data line reads as two numbers with decimal commas
    (``100,5;1,25``, ``100,5<TAB>1,25`` or ``100,5 1,25``, European locales) rather than as
    fields split at commas."""
    line = line.rstrip(";").rstrip()  # a separator after the last field
    parts = _SPLIT_NO_COMMA.split(line)
    return (len(_SPLIT.split(line)) != 2 and len(parts) == 2
            and any(has_decimal_comma(p) for p in parts)
            and all(is_number(p.replace(",", ".")) or GROUPED_THOUSANDS.match(p)
                    for p in parts))


def two_numbers(line: str) -> bool:
    """Whether a line is a (shift, intensity) data line as :func:`parse_xy` reads it: two
    numbers between tabs, commas, semicolons or spaces (a separator after the second
    allowed), or two numbers with decimal commas."""
    line = line.strip()
    if _comma_pair(line):
        return True
    parts = _SPLIT.split(line.rstrip(",;").rstrip())
    return len(parts) == 2 and all(is_number(p) for p in parts)


def _unquoted(line: str) -> str:
    """A line of quoted cells (``"400,5";"1,25"``, as CSV exports write them) without its
    double quotes."""
    return line.replace('"', "") if line.startswith('"') else line


def _decimal_commas(text: str) -> bool:
    """Whether the file writes decimal commas: the first data line with a comma reads as
    two numbers with decimal commas (lines of whole numbers before it, ``400;1000``, as a
    spreadsheet's "General" format writes them, say nothing either way)."""
    for raw in text.split("\n"):
        line = _unquoted(raw.strip())
        if not line or line.startswith("#") or line[0] not in "+-.0123456789":
            continue  # blank, comment or a line of column titles
        if "," in line.rstrip(",;").rstrip():
            return _comma_pair(line)
    return False


def parse_xy(text: str, *, source: str = "", headers: bool = True) -> Spectra:
    """Parse (shift, intensity) text into a one-spectrum :class:`Spectra`.

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        File name for error messages and ``Spectra.sources``.
    headers : bool
        Keep ``##KEY=value`` lines as metadata (RRUFF) and stop at ``##END=``; when False
        every ``#`` line is a comment.

    Returns
    -------
    Spectra
        One spectrum: intensities of shape (1, n_points), axis of shape (n_points,).
    """
    src = source or None
    xs: list[float] = []
    ys: list[float] = []
    lines: list[int] = []
    meta: dict[str, str] = {}
    labspec: dict[str, str] = {}  # "#Key=<TAB>value" lines before the data (Horiba LabSpec)
    titles_seen = False
    nm_per_unit: float | None = None  # the title says the x axis is in nm (or um)
    ended = False  # a ##END= line was met
    comma = DecimalCommas(text) if _decimal_commas(text) else None
    # without decimal commas, counts may be grouped with thousands points ('1.251')
    thousands = None if comma else ThousandsPoints()
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = _unquoted(raw.strip())
        if not line:
            continue
        if line.startswith("#"):
            if not xs and (m := _LABSPEC.match(raw.rstrip("\r\n"))):
                labspec.setdefault(m.group(1).strip(), m.group(2).strip())
            if headers and line.startswith("##"):
                key, sep, value = line[2:].partition("=")
                key = key.strip()
                if key.upper() == "END":
                    ended = True
                    break
                if sep and key and key not in meta:
                    meta[key] = value.strip()
            continue
        # a separator after the last field ("400,1.5,"), as some programs end each line
        cells = line.rstrip(";" if comma else ",;").rstrip()
        parts = _SPLIT_NO_COMMA.split(cells) if comma else _SPLIT.split(cells)
        if comma and len(parts) == 2:
            if (read_as := comma.texts(parts, lineno)) is None:
                raise comma.error(src)
            parts = read_as
        if len(parts) == 2:
            try:
                x, y = float(parts[0]), float(parts[1])
            except ValueError:
                pass
            else:
                xs.append(x)
                ys.append(y)
                lines.append(lineno)
                if thousands is not None:
                    if "," in cells:  # fields split at commas: no grouping with points
                        thousands = None
                    else:
                        # a shift with a point ('405.263', as %g writes 100-999 cm-1)
                        # says the file's points are decimal ones: grouped, the shifts
                        # would run above 100,000 cm-1 (and shifts grouped beside whole
                        # ones would not be monotonic as read: refused as such)
                        if "." in parts[0]:
                            thousands.decimal = True
                        thousands.add(1, parts[1], lineno, 1)
                continue
        numeric = [is_number(p) for p in parts]
        if not xs and not titles_seen and not any(numeric):
            titles_seen = True  # one line of column titles before the data
            nm_per_unit = wavelength_title(title_line_x(line))  # the x column's title
            continue
        if xs and not any(numeric):  # text after the data: a footer, an [Info] block
            raise RamancamError(
                f"{where(src, lineno)}a two-column file must hold only (shift, intensity) "
                f"lines after its data begins (line {lines[0]}); got {short(line)}. Delete "
                "that line and the ones after it, or make them comments with '#'.")
        if len(parts) != 2:
            hint = ("Convert decimal commas to points" if ";" in line and "," in line
                    else "Keep only the shift and intensity columns")
            raise RamancamError(
                f"{where(src, lineno)}a data line must hold 2 values (shift, intensity); got "
                f"{len(parts)} in {short(line)}. {hint}.")
        bad = parts[0] if not numeric[0] else parts[1]
        raise RamancamError(
            f"{where(src, lineno)}could not read a number from {short(bad)}. "
            "Fix or delete that line.")
    if not xs:
        what = "an empty file" if not text.strip() else "no (shift, intensity) lines"
        raise RamancamError(
            f"file {source or '<text>'} must hold (shift, intensity) lines; got {what}. "
            "Check that the right file was given.")
    if thousands is not None and (hit := thousands.ambiguous()) is not None:
        at, _, cell = hit
        raise RamancamError(where(src, at) + ThousandsPoints.problem(cell, "as the intensity"))
    # RRUFF files end their data with ##END=: a file whose last data line stops without a
    # newline or a blank after it was cut short, maybe inside its last number (read as a
    # valid, wrong value); the last "line" is what follows the last newline
    if (headers and meta and not ended and lines[-1] == text.count("\n") + 1
            and not text[-1:].isspace()):
        raise RamancamError(
            f"{where(src, lines[-1])}the data of a file with ##KEY=value headers must end "
            "with a ##END= line (or at least a line end); got a file that stops inside its "
            "last line, so it looks cut short. Download or export it again (a file written "
            "by hand: end it with ##END=).")
    x_arr = np.array(xs)
    y_arr = np.array(ys)
    for arr, what in ((x_arr, "Raman shifts"), (y_arr, "intensities")):
        bad_idx = np.flatnonzero(~np.isfinite(arr))
        if bad_idx.size:
            i = int(bad_idx[0])
            raise RamancamError(
                f"{where(src, lines[i])}{what} must be finite; got {arr[i]}. "
                "Remove or interpolate that line.")
    axis = check_axis(x_arr, source=src)
    if len(labspec) >= LABSPEC_MIN_SETTINGS:
        meta = {**meta, **_labspec_meta(labspec)}
    if nm_per_unit is not None:  # said in nm: converted with --laser-nm, else refused
        axis = axis * nm_per_unit
        meta = {**meta, "x_units": "nm"}
    return Spectra(y_arr[None, :], axis, meta={k: np.array([v]) for k, v in meta.items()},
                   sources=[source])


def read_two_column(path: str | os.PathLike[str]) -> Spectra:
    """Read a two-column (shift, intensity) text file; ``#`` lines are comments.

    Parameters
    ----------
    path : str or path-like
        The file (gzip recognised by content).

    Returns
    -------
    Spectra
        One spectrum, intensities of shape (1, n_points), its axis as given in the file.

    Raises
    ------
    RamancamError
        Missing path, empty file, a line that is not two numbers (file and line named),
        NaN/inf values, or a repeated or unsorted axis.
    """
    p = check_exists(path)
    return parse_xy(read_text(p), source=str(p), headers=False)


def read_rruff(path: str | os.PathLike[str]) -> Spectra:
    """Read a RRUFF-style file: ``##KEY=value`` header lines, then ``shift, intensity`` lines.

    Header values become one-row metadata columns named by their keys (``NAMES``,
    ``RRUFFID``, ``IDEAL CHEMISTRY``, ...; the first occurrence of a key wins); ``##END=``
    ends the data; ``#`` lines are comments.

    Parameters
    ----------
    path : str or path-like
        The file (gzip recognised by content).

    Returns
    -------
    Spectra
        One spectrum, intensities of shape (1, n_points), its axis as given in the file.

    Raises
    ------
    RamancamError
        As :func:`read_two_column`.
    """
    p = check_exists(path)
    return parse_xy(read_text(p), source=str(p), headers=True)


def is_labspec_setting(line: str) -> bool:
    """True for a Horiba LabSpec setting line, ``#Key=<TAB>value``."""
    return _LABSPEC.match(line) is not None


def _labspec_meta(settings: dict[str, str]) -> dict[str, str]:
    """LabSpec's settings as metadata: the usual names for laser, title, instrument and
    date (the laser as a number of nm, when it holds a plausible one), the rest as written."""
    from ._vendor import laser_nm

    out: dict[str, str] = {}
    for key, value in settings.items():
        name = _LABSPEC_NAMES.get(key.lower(), key)
        if name == "laser_wavelength_nm":
            nm = laser_nm(value)
            if nm is None:
                continue
            value = f"{nm:g}"
        out.setdefault(name, value)
    return out
