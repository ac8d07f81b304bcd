"""JCAMP-DX files (``.jdx``, ``.dx``, ``.jcamp``), read with the ``jcamp`` library.

Both data forms of JCAMP-DX 4.24/5.01 are read: ``##XYDATA=(X++(Y..Y))`` (AFFN or the
compressed ASDF forms) and ``##XYPOINTS=(XY..XY)``; a compound file (``##DATA TYPE=LINK``)
gives one spectrum per block, and so do blocks written one after the other without a
compound header. Every header (``##KEY=value``) is kept as text metadata under
its lower-case key (e.g. ``title``, ``owner``, ``xunits``), so ``labels_from="header:TITLE"``
works; in addition:

``laser_wavelength_nm``
    from a header whose key mentions "laser" (e.g. ``##$LASER WAVELENGTH=785``) and no
    power, current, temperature, ... (``##$LASER POWER=250 mW`` is skipped), a value in nm
    (or µm, or the laser's cm-1) (float, NaN if none);
``acquired``
    ``##LONGDATE`` or ``##DATE`` (+ ``##TIME``), as written, ``""`` if none.

An x axis in nanometres or micrometres (``##XUNITS=NANOMETERS``, ``MICROMETERS``) is
converted to Raman shift with the laser wavelength (shift = 1e7/laser - 1e7/x); when the
file does not give one it is kept in nm with the metadata ``x_units`` = ``"nm"``, which the
command line converts with ``--laser-nm`` and refuses without it; other units than 1/CM (or
none) are refused. ``$$`` starts a comment anywhere on a line; peak tables
(``##PEAK TABLE=``) are left out (a file of a peak table alone is refused). A table whose x values
disagree with ``##FIRSTX``, ``##DELTAX`` or each other (its X checks) is refused, and so is
an ``##NTUPLES`` file.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import Any

import numpy as np

from ..errors import RamancamError
from ..errors import where as where_line
from ..spectra import Spectra
from ._text import NotTextError, check_exists, read_text
from ._vendor import header_laser, library_boundary, nm_to_shift

__all__ = ["looks_like_jcamp", "read_jcamp"]

# Keys the library derives or that describe the data block itself: not kept as metadata.
_SKIP = {"x", "y", "children", "filename", "xydata", "xypoints", "peak table", "end",
         "firstx", "lastx", "firsty", "lasty", "minx", "maxx", "miny", "maxy", "npoints",
         "xfactor", "yfactor", "deltax", "jcamp-dx", "block_id", "blocks"}


def looks_like_jcamp(text: str) -> bool:
    """True when a text starts (after blank and ``$$`` lines) with a ``##TITLE=`` line and
    names ``##JCAMP-DX=`` among its first lines."""
    at = 0  # past blank and $$ lines (a preamble of comments may be kilobytes long), one
    while at < len(text):  # line at a time: not the whole text split (a 100 MB table's)
        end = text.find("\n", at)
        end = len(text) if end < 0 else end + 1
        line = text[at:end].strip()
        if line and not line.startswith("$$"):
            break
        at = end
    head = text[at:at + 4096].upper()
    return head.lstrip().startswith("##TITLE=") and "##JCAMP-DX=" in head


def _block(d: dict[str, Any], source: str, k: int) -> tuple[np.ndarray, np.ndarray,
                                                           dict[str, Any]]:
    where = f"file {source}" + (f", block {k + 1}" if k >= 0 else "")
    x = np.asarray(d.get("x", []), dtype=np.float64)
    y = np.asarray(d.get("y", []), dtype=np.float64)
    if y.size == 0:
        raise RamancamError(
            f"{where} must hold a ##XYDATA= or ##XYPOINTS= data table; got none (or an empty "
            "one). Check that the file holds a spectrum, not only a header.")
    if x.size != y.size:
        raise RamancamError(
            f"{where}: the data table must have as many values as its header announces; got "
            f"{y.size} intensities for {x.size} x values (##NPOINTS). The file is truncated "
            "or damaged; re-export it.")
    said = d.get("npoints")
    if isinstance(said, int | float) and said > 0 and y.size != int(said):
        raise RamancamError(
            f"{where}: the data table must hold the {int(said)} points its header announces "
            f"(##NPOINTS={int(said)}); got {y.size}. The file is truncated or damaged; "
            "re-export it.")
    meta: dict[str, Any] = {}
    for key, v in d.items():
        if key in _SKIP or isinstance(v, (list, dict, np.ndarray)):
            continue
        meta[key] = v.isoformat() if hasattr(v, "isoformat") else str(v)
    laser = header_laser((kk, val) for kk, val in d.items() if kk not in _SKIP)
    acquired = meta.get("longdate") or " ".join(
        str(meta[t]) for t in ("date", "time") if meta.get(t))
    units = str(d.get("xunits", "")).strip().upper()
    kind = _x_unit(units)
    if kind is None:
        raise RamancamError(
            f"{where} must have a Raman-shift x axis (##XUNITS=1/CM), or a wavelength in "
            f"nanometres or micrometres with the laser's; got ##XUNITS={units}. Calibrate "
            "the axis in the instrument's software and export the spectrum as Raman shift.")
    if kind != "shift":
        x = x * (1000.0 if kind == "um" else 1.0)
        if laser is None:  # kept in nm: --laser-nm converts it, the commands refuse it without
            meta["x_units"] = "nm"
        else:
            x = nm_to_shift(x, laser)
            meta["xunits"] = f"1/CM (converted from {units})"
    meta["laser_wavelength_nm"] = np.nan if laser is None else laser
    meta["acquired"] = acquired
    return x, y, meta


def _x_unit(units: str) -> str | None:
    """``##XUNITS`` (upper case): ``"shift"`` (1/CM and its spellings, or none given),
    ``"nm"`` or ``"um"`` (a wavelength, converted with the laser's), else None (pixels,
    seconds, ...: no Raman-shift axis)."""
    from ._units import says_shift

    plain = units.replace(" ", "")
    for mu in ("µ", "μ", "Μ"):  # the micro sign, Greek mu, and its upper case
        plain = plain.replace(mu, "U")
    if not plain or says_shift(units) or "RAMAN" in plain:
        return "shift"
    if plain in ("NM", "(NM)") or "NANOMET" in plain or plain.endswith("(NM)"):
        return "nm"
    if plain in ("UM", "(UM)", "MICRON", "MICRONS") or "MICROMET" in plain:
        return "um"
    return None


#: A data line of plain numbers (AFFN): digits, signs, points, exponents, separators.
_AFFN = re.compile(r"^[\s\d.,;+\-eE]*$")


def _check_plain_numbers(text: str, source: str) -> None:
    """Refuse a letter in a data table of plain numbers: the library reads letters as
    compressed digits (``A`` is +1), so a damaged value became a number without a word. A
    table whose lines are nearly all plain numbers (9 in 10, 5 or more lines) is plain; a
    compressed table has letters on nearly every line."""
    in_data = False
    lines: list[tuple[int, str]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("$$", 1)[0].strip()  # $$ starts a comment
        if line.startswith("##"):
            in_data = line[2:].upper().startswith(("XYDATA=", "XYPOINTS="))
            continue
        if in_data and line:
            lines.append((lineno, line))
    odd = [(n, line) for n, line in lines if not _AFFN.match(line)]
    if not odd or len(lines) < 5 or len(odd) > len(lines) / 10:
        return
    n, line = odd[0]
    bad = next(t for t in re.split(r"[\s,;]+", line) if t and not _AFFN.match(t))
    raise RamancamError(
        f"{where_line(source, n)}a data table of plain numbers must hold only numbers; got "
        f"{bad!r}" + (f" (and {len(odd) - 1} more such lines)" if len(odd) > 1 else "")
        + ". The file is damaged: fix that value or export the spectrum again.")


_Y_CHECK = re.compile(r"Y-Check failed\. Last value of previous line is (\S+) but first "
                      r"value is (\S+)\.")
_X_CHECK = re.compile(r"X-Check failed\. Expected value is (\S+) but (\S+) has been "
                      r"calculated\.")


def _check_line_checks(printed: str, source: str) -> None:
    """Refuse a table whose X or Y checks failed, as the library prints them and reads on:
    a line's first x not where the line before ends (lines missing), or, in a compressed
    (DIF) table, a line not starting with the last value of the line before (decoded wrong:
    a damaged or missing character)."""
    x = _X_CHECK.search(printed)
    if x is not None:  # a line's first x is not where the line before ends
        raise RamancamError(
            f"file {source}: each line of a data table must start at the x value where the "
            f"line before ends; got {float(x.group(1)):g} where {float(x.group(2)):g} was due"
            + (f" ({len(_X_CHECK.findall(printed))} such lines)"
               if len(_X_CHECK.findall(printed)) > 1 else "")
            + ". Lines are missing or the table is damaged; re-export the file.")
    m = _Y_CHECK.search(printed)
    if m is None:
        return
    n = len(_Y_CHECK.findall(printed))
    raise RamancamError(
        f"file {source}: a compressed (DIF) data table must pass its Y checks (each line "
        f"starting with the last value of the line before); got a line starting with "
        f"{float(m.group(2)):g} after one ending in {float(m.group(1)):g}"
        + (f" ({n} such lines)" if n > 1 else "") + ". The table is damaged; re-export the "
        "file.")


#: Keys whose tables are no spectrum: peak positions and their assignments.
_PEAK_KEYS = ("PEAKTABLE", "PEAKASSIGNMENTS")


#: One number alone on a line (a header value JCAMP-DX lets continue on the next line).
_ONE_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _joined_values(text: str) -> str:
    """``text`` with a header's value written on the line after it joined to it
    (``##YFACTOR=`` then ``1``): JCAMP-DX lets a value continue on the next lines, and the
    library, reading an empty value, failed on it with a numpy error ("damaged"). Only a
    single number is joined; data tables and text headers are left as they are. The line it
    came from becomes a comment, so that messages name the lines of the file."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        head = line.split("$$", 1)[0].strip()
        if head.startswith("##") and head.endswith("=") and i + 1 < len(lines):
            nxt = lines[i + 1].split("$$", 1)[0].strip()
            if _ONE_NUMBER.fullmatch(nxt):
                out.append(head + nxt + "\n$$\n")  # a comment line: lines keep their numbers
                i += 2
                continue
        out.append(line)
        i += 1
    return "".join(out)


def _cleaned(text: str) -> tuple[str, int]:
    """``text`` without its ``$$`` comments (JCAMP-DX starts a comment with ``$$`` anywhere
    on a line: the library kept one after ``##XUNITS=NANOMETERS`` in the unit, so the axis
    was read as Raman shift, and stopped at one after a data line), and without its peak
    tables (``##PEAK TABLE=``, ``##PEAK ASSIGNMENTS=`` and their lines: the library read a
    peak list as a spectrum, or, after a block's data table, in place of it). Lines that held
    a comment alone go; every other line stays. Also the number of peak tables left out."""
    out: list[str] = []
    peaks = 0
    in_peaks = False
    for line in text.splitlines(keepends=True):
        if "$$" in line:
            body = line.split("$$", 1)[0].rstrip()
            if not body.strip():
                continue
            line = body + "\n"
        if line.lstrip().startswith("##"):
            key = line.lstrip()[2:].split("=", 1)[0].replace(" ", "").upper()
            in_peaks = key in _PEAK_KEYS
            peaks += in_peaks
        if not in_peaks:
            out.append(line)
    return "".join(out), peaks


#: A ``(X++(Y..Y))`` table's first line and the headers that place its x values.
_XYDATA = re.compile(r"^\s*##XYDATA\s*=\s*\(X\+\+\(Y\.\.Y\)\)\s*$", re.IGNORECASE)


def _check_x_headers(text: str, source: str) -> None:
    """Refuse an ``(X++(Y..Y))`` table whose x headers disagree: a ``##DELTAX`` that is not
    the spacing ``##FIRSTX``, ``##LASTX`` and ``##NPOINTS`` give (beyond the rounding of its
    printed digits), or a first x value (times ``##XFACTOR``) that is not ``##FIRSTX``. The
    library makes the axis from those three headers alone, and a table starting at 500 under
    ##FIRSTX=400 was read as 400-419 without a word."""
    said: dict[str, tuple[float, int, str]] = {}  # key: (value, line, as written), a block's
    lines = [ln.split("$$", 1)[0] for ln in text.splitlines()]  # $$ starts a comment
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("##"):
            continue
        key, _, value = line.lstrip()[2:].partition("=")
        key = key.replace(" ", "").upper()
        if key == "TITLE":
            said = {}
        try:
            said[key] = (float(value.strip()), i + 1, value.strip())
        except ValueError:
            pass
        if not _XYDATA.match(line) or not {"FIRSTX", "LASTX", "NPOINTS"} <= set(said):
            continue
        first = next((ln for ln in lines[i + 1:] if ln.strip()), "")
        m = _FIRST_NUMBER.match(first)
        if m is None:
            continue
        firstx, lastx, n = (said[k][0] for k in ("FIRSTX", "LASTX", "NPOINTS"))
        factor = said.get("XFACTOR", (1.0,))[0] or 1.0
        step = abs(lastx - firstx) / max(n - 1.0, 1.0)
        if "DELTAX" in said and n > 1:
            delta, at, written = said["DELTAX"]
            slack = max(0.01 * step, 1.0001 * _half_last_digit(written))
            if abs(abs(delta) - step) > slack:
                raise RamancamError(
                    f"{where_line(source, at)}##DELTAX={delta:g} must be the spacing that "
                    f"##FIRSTX={firstx:g}, ##LASTX={lastx:g} and ##NPOINTS={n:g} give "
                    f"({step:g}); the header contradicts itself, so the axis cannot be told: "
                    "the file is damaged; re-export it.")
        x0 = float(m.group(1)) * factor
        if abs(x0 - firstx) > max(0.5 * step, abs(factor), 1e-9 * abs(x0)):
            raise RamancamError(
                f"{where_line(source, i + 2)}a data table must start at its ##FIRSTX="
                f"{firstx:g}; got a first x value of {x0:g} (##XFACTOR={factor:g}). "
                "The header and the table disagree on the axis: the file is damaged; "
                "re-export it.")


def _half_last_digit(text: str) -> float:
    """Half a unit of the last digit ``text`` (a number as written) gives: ``1.9`` 0.05, ``2``
    0.5, ``1.93E+00`` 0.005 (a ##DELTAX written with few digits is that rounding off)."""
    from decimal import Decimal, InvalidOperation

    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return 0.5 * 10.0 ** exponent if isinstance(exponent, int) else 0.0


#: A number at the start of a data line (AFFN; a compressed line starts with one too).
_FIRST_NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


_LINK = re.compile(r"^\s*##DATA\s*TYPE\s*=\s*LINK\s*$", re.IGNORECASE | re.MULTILINE)


def _concatenated(lines: list[str]) -> list[list[str]]:
    """The blocks of a file of several blocks one after the other without a compound
    (``##DATA TYPE=LINK``) header, each from its ``##TITLE=`` line on; ``[]`` for a file
    of one block or a compound file (the library reads both)."""
    starts = [i for i, ln in enumerate(lines) if ln.lstrip().upper().startswith("##TITLE=")]
    if len(starts) < 2 or any(_LINK.match(ln) for ln in lines):
        return []
    return [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


#: A number of a table of (x, y) pairs, as the library reads them.
_PAIR_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _check_pairs(text: str, source: str) -> None:
    """Refuse a line of an ``(XY..XY)`` table that is not numbers only (``410, 10.37.5``):
    the library skips such a line, so its points were lost without a word."""
    in_pairs = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("$$", 1)[0].strip()
        if line.startswith("##"):
            key, _, value = line[2:].partition("=")
            in_pairs = (key.strip().upper() in ("XYPOINTS", "XYDATA")
                        and "".join(value.split()).upper() == "(XY..XY)")
            continue
        if not in_pairs or not line:
            continue
        bad = next((t for t in re.split(r"[,;\s]+", line) if t and not _PAIR_NUMBER.match(t)),
                   None)
        if bad is not None:
            raise RamancamError(
                f"{where_line(source, lineno)}a data table of (x, y) pairs must hold only "
                f"numbers; got {bad!r}. The file is damaged: fix that value or export the "
                "spectrum again.")


def _peaks_said(peaks: int) -> str:
    return (f" (and {peaks} peak table{'s' if peaks > 1 else ''}, which are no spectra)"
            if peaks else "")


def read_jcamp(path: str | os.PathLike[str]) -> Spectra:
    """Read a JCAMP-DX file: one spectrum, or one per block of a compound (LINK) file.

    Parameters
    ----------
    path : str or path-like
        The ``.jdx``/``.dx`` file (a gzipped one is un-gzipped first).

    Returns
    -------
    Spectra
        The spectra with their headers as metadata (see the module docstring); ``sources``
        = the path.

    Raises
    ------
    RamancamError
        Missing path; content that is not JCAMP-DX text; no data table; a data table shorter
        or longer than ``##NPOINTS`` (a truncated file); a line of an ``(XY..XY)`` table that
        is not numbers only (file and line named); any other failure of the library
        (named); an x axis that is not strictly monotonic or values that are not finite.
    """
    import jcamp

    p = check_exists(path)
    source = str(p)
    try:  # decoded as every text reader does (UTF-8 with or without a BOM, UTF-16)
        text = read_text(p)
    except NotTextError:  # binary content: not JCAMP-DX, said below
        text = ""
    if not looks_like_jcamp(text):
        got = "an empty file" if p.stat().st_size == 0 else "other content"
        raise RamancamError(
            f"file {source} must be JCAMP-DX text starting with ##TITLE= and a ##JCAMP-DX= "
            f"line; got {got}. Check the file, or give a text export a .txt or .csv "
            "suffix.")
    if re.search(r"^\s*##NTUPLES\s*=", text, re.IGNORECASE | re.MULTILINE):
        raise RamancamError(
            f"file {source} must hold its spectra as ##XYDATA= or ##XYPOINTS= tables; got an "
            "##NTUPLES table (of pages), which this reader does not read. Export the spectra "
            "as XYDATA (X++(Y..Y)) or XYPOINTS (XY..XY).")
    text = _joined_values(text)
    _check_plain_numbers(text, source)
    _check_pairs(text, source)
    _check_x_headers(text, source)
    text, peaks = _cleaned(text)
    said = io.StringIO()  # the library prints its Y-check failures, and goes on
    with library_boundary(p, "jcamp"), contextlib.redirect_stdout(said):
        lines = text.splitlines(keepends=True)
        pieces = _concatenated(lines)
        if pieces:  # blocks one after the other, no LINK: the library kept only the last
            d = {"children": [jcamp.read(piece) for piece in pieces]}
        else:
            d = jcamp.read(lines)
    _check_line_checks(said.getvalue(), source)
    blocks = d.get("children") or []
    if blocks:
        parts = [_block(b, source, k) for k, b in enumerate(blocks)
                 if np.asarray(b.get("y", [])).size]
        if not parts:
            raise RamancamError(
                f"file {source} must hold at least one block with a data table; got "
                f"{len(blocks)} blocks without data" + _peaks_said(peaks) + ". Check the "
                "file, or export the spectra themselves.")
    elif peaks and not np.asarray(d.get("y", [])).size:
        raise RamancamError(
            f"file {source} must hold a spectrum (##XYDATA= or ##XYPOINTS=); got a peak "
            "table alone (##PEAK TABLE=: band positions and heights). Export the spectrum "
            "itself.")
    else:
        parts = [_block(d, source, -1)]
    keys: list[str] = []
    for _, _, m in parts:
        keys += [k for k in m if k not in keys]
    meta = {k: np.array([m.get(k, np.nan if k == "laser_wavelength_nm" else "")
                         for _, _, m in parts]) for k in keys}
    return Spectra([y for _, y, _ in parts], [x for x, _, _ in parts], meta=meta,
                   sources=[source] * len(parts))
