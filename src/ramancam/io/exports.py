"""Text exports of spectrometer software that put a header of settings before the data.

* **Ocean Insight** (OceanView, SpectraSuite): ``Key: value`` lines, then
  ``>>>>>Begin Spectral Data<<<<<`` (or ``... Processed Spectral Data ...``) and
  (x, intensity) lines, tab-separated (decimal commas too), up to an optional ``>>>>>End``
  line. OceanView's ``XAxis mode`` says the unit: ``Raman Shifts`` are read as they are,
  ``Wavelengths`` (nm) are kept in nm with the metadata column ``x_units`` = ``"nm"``, which
  the command line converts with ``--laser-nm`` (and refuses without it; in Python
  :func:`ramancam.io.wavelength_to_shift`); pixel or absolute-wavenumber axes are refused.
  A file without that line (SpectraSuite) is read as it is, like any two-column text.
* **B&W Tek** (BWSpec, i-Raman): ``key;value`` lines (``laser_wavelength``, ``model``,
  ``intigration times(ms)``, ``xaxis_min``/``xaxis_max``, ...), then a table whose header
  starts with ``Pixel`` and names ``Raman Shift`` and the intensity columns (``Dark
  Subtracted #1``, ``Raw data #1``, ...). Each ``Dark Subtracted #k`` column is one spectrum
  (``Raw data #k`` when there is none), on the ``Raman Shift`` column, over the pixels
  between ``xaxis_min`` and ``xaxis_max`` where given; without a ``Raman Shift`` column the
  ``Wavelength`` column is converted with the header's laser wavelength. Fields separated by
  semicolons, commas or tabs; decimal commas where semicolons or tabs separate them.

Metadata: ``title``, ``instrument``, ``acquired`` (ISO 8601 where the date could be read,
else ``""``), ``laser_wavelength_nm`` (NaN if unknown), ``integration_s``, ``x_units``
(``"cm-1"`` or ``"nm"``), ``spectrum`` (the index of the spectrum in the file), plus every
header entry as text (lower-case keys).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import numpy as np

from ..errors import RamancamError, where
from ..spectra import Spectra, check_axis
from ._text import DECIMAL_COMMA, short
from ._vendor import laser_nm, nm_to_shift, time_text
from .xy import parse_xy

__all__ = ["export_kind", "parse_bwtek", "parse_ocean"]

_OCEAN_BEGIN = re.compile(r"^>>>>>\s*Begin\b.*Spectral Data\s*<<<<<\s*$", re.IGNORECASE)
_OCEAN_END = re.compile(r"^>>>>>\s*End\b", re.IGNORECASE)
_BW_TABLE = re.compile(r"^\s*pixel\s*[;,\t]", re.IGNORECASE)
_DATE_FORMATS = ("%a %b %d %H:%M:%S %Z %Y", "%a %b %d %H:%M:%S %Y", "%Y-%m-%d %H:%M:%S",
                 "%Y/%m/%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S")


def export_kind(text: str) -> str | None:
    """``"ocean"`` or ``"bwtek"`` when ``text`` is such an export, else ``None``."""
    lines = text[:200_000].split("\n")
    if any(_OCEAN_BEGIN.match(ln.strip()) for ln in lines[:200]):
        return "ocean"
    first = lines[0].lower() if lines else ""
    table = next((ln for ln in lines[:400] if _BW_TABLE.match(ln)), None)
    if table is not None and ("raman shift" in table.lower() or "bwspec" in first
                              or any(ln.lower().startswith("laser_wavelength")
                                     for ln in lines[:400])):
        return "bwtek"
    return None


def _when(text: str) -> str:
    """ISO 8601 of a header date (time zone names dropped), ``""`` when unreadable."""
    value = " ".join(text.split())
    for candidate in (value, re.sub(r" [A-Z]{2,5}(?= \d{4}$)", "", value)):
        for fmt in _DATE_FORMATS:
            try:
                return time_text(datetime.strptime(candidate, fmt))
            except ValueError:
                continue
    return ""


def _number(value: str | None) -> float:
    if value is None:
        return float("nan")
    m = re.search(r"[-+]?\d+(?:[.,]\d*)?(?:[eE][-+]?\d+)?", value)
    return float(m.group(0).replace(",", ".")) if m else float("nan")


def parse_ocean(text: str, *, source: str = "") -> Spectra:
    """Parse an Ocean Insight (OceanView / SpectraSuite) text export: one spectrum."""
    lines = text.split("\n")
    begin = next(i for i, ln in enumerate(lines) if _OCEAN_BEGIN.match(ln.strip()))
    header: dict[str, str] = {}
    first = lines[0].strip()
    title = (re.sub(r"\s+Node$", "", first[len("data from "):])  # "Data from NAME Node"
             if first.lower().startswith("data from ") else "")
    for ln in lines[:begin]:
        key, sep, value = ln.partition(":")
        if sep and key.strip() and key.strip().lower() not in header:
            header[key.strip().lower()] = value.strip()
    end = next((i for i in range(begin + 1, len(lines)) if _OCEAN_END.match(lines[i].strip())),
               len(lines))
    # the data lines keep their line numbers (blank lines in place of the header)
    body = "\n" * (begin + 1) + "\n".join(lines[begin + 1:end])
    if not body.strip():
        raise RamancamError(
            f"{where(source or None, begin + 1)}an Ocean Insight export must hold (x, "
            "intensity) lines after its 'Begin Spectral Data' line; got none. The export is "
            "empty or cut short; export it again.")
    s = parse_xy(body, source=source, headers=False)
    said = next((v for k, v in header.items() if k.startswith("number of pixels")), None)
    if said is not None and end == len(lines) and s.X.shape[1] < _number(said):
        raise RamancamError(
            f"file {source}: an Ocean Insight export must hold the pixels its header announces "
            f"('Number of Pixels': {said}); got {s.X.shape[1]} (x, intensity) lines and no "
            "'End' line. The file was cut short; export it again.")
    mode = header.get("xaxis mode", "")
    low = mode.lower()
    if "raman" in low or not low:
        units = "cm-1" if low else ""
    elif "wavelength" in low:
        units = "nm"
    else:
        raise RamancamError(
            f"file {source}: the x axis must be Raman shifts or wavelengths; its header says "
            f"'XAxis mode: {mode}'. Export the spectrum with the x axis in Raman shift (or in "
            "wavelengths, with --laser-nm).")
    integration = _number(header.get("integration time (sec)"))
    if not np.isfinite(integration):
        integration = _number(header.get("integration time (usec)")) / 1e6
    meta: dict[str, Any] = {
        "title": title,
        "instrument": header.get("spectrometer", header.get("spectrometers", "")),
        "acquired": _when(header.get("date", "")),
        "laser_wavelength_nm": float("nan"),
        "integration_s": integration, "x_units": units, "spectrum": 0}
    for k, v in header.items():
        meta.setdefault(k, v)
    return Spectra(s.X, s.wavenumbers, meta={k: np.array([v]) for k, v in meta.items()},
                   sources=[source])


def _fields(line: str, sep: str) -> list[str]:
    """A BWSpec line's fields (each line ends in a separator, too)."""
    return [p.strip() for p in line.rstrip().rstrip(sep).split(sep)]


def parse_bwtek(text: str, *, source: str = "") -> Spectra:
    """Parse a B&W Tek BWSpec export: one spectrum per ``Dark Subtracted #k`` column."""
    src = source or None
    lines = text.split("\n")
    at = next(i for i, ln in enumerate(lines) if _BW_TABLE.match(ln))
    title_line = lines[at]
    sep = next(c for c in (";", "\t", ",") if c in title_line)
    comma = sep != ","
    header: dict[str, str] = {}
    for ln in lines[:at]:
        key, s, value = ln.partition(sep)
        if s and key.strip() and key.strip().lower() not in header:
            header[key.strip().lower()] = value.strip().rstrip(sep).strip()
    names = _fields(title_line, sep)
    lower = [n.lower() for n in names]

    def column(*starts: str) -> list[int]:
        return [j for j, n in enumerate(lower) if any(n.startswith(s) for s in starts)]

    ys = column("dark subtracted #") or column("raw data #")
    shift, wave = column("raman shift"), column("wavelength")
    if not ys or not (shift or wave):
        raise RamancamError(
            f"{where(src, at + 1)}a B&W Tek export's table must have a 'Raman Shift' (or "
            "'Wavelength') column and 'Dark Subtracted #1' (or 'Raw data #1') columns; got "
            f"{short(title_line)}. Export it again from BWSpec with those columns.")
    laser = laser_nm(_number(header.get("laser_wavelength")))
    lo = _number(header.get("xaxis_min"))
    hi = _number(header.get("xaxis_max"))
    pixel = column("pixel")[0]
    xcol = shift[0] if shift else wave[0]
    xs: list[float] = []
    rows: list[list[float]] = []
    last = -np.inf  # the last pixel in the header's range
    gap = 0  # the line of a pixel without a shift after pixels with one (the edge, or a hole)
    for lineno, raw in enumerate(lines[at + 1:], at + 2):
        if not raw.strip():
            continue
        cells = _fields(raw, sep)
        if comma:
            cells = [c.replace(",", ".") if DECIMAL_COMMA.match(c) else c for c in cells]
        try:
            p = float(cells[pixel])
        except (ValueError, IndexError):
            raise RamancamError(
                f"{where(src, lineno)}a B&W Tek data line must start with its pixel number; "
                f"got {short(raw.strip())}. Fix or delete that line.") from None
        if (np.isfinite(lo) and p < lo) or (np.isfinite(hi) and p > hi):
            continue  # outside the calibrated pixel range the header gives
        if len(cells) <= max(xcol, *ys):
            raise RamancamError(
                f"{where(src, lineno)}a B&W Tek data line must hold every column of the table "
                f"({len(names)}); got {len(cells)} in {short(raw.strip())}. The file was cut "
                "short or damaged; export it again.")
        last = p
        try:
            x = float(cells[xcol]) if cells[xcol] else float("nan")
        except ValueError:
            raise RamancamError(
                f"{where(src, lineno)}a B&W Tek data line must hold a number (or nothing, at "
                f"the detector's edges) in its {names[xcol]!r} column; got "
                f"{short(cells[xcol])}. Fix that value or export the file again.") from None
        if not np.isfinite(x):
            gap = gap or (lineno if xs else 0)
            continue  # a pixel without a Raman shift (the edges of the detector)
        if gap:
            raise RamancamError(
                f"{where(src, gap)}only the pixels at the detector's edges may lack a "
                f"{names[xcol]!r}; got an empty cell between pixels that have one. Fill it "
                "in or export the file again.")
        try:
            vals = [float(cells[j]) for j in ys]
        except (ValueError, IndexError):
            raise RamancamError(
                f"{where(src, lineno)}a B&W Tek data line must hold a number in every "
                f"intensity column ({', '.join(names[j] for j in ys)}); got "
                f"{short(raw.strip())}. Fix or delete that line.") from None
        xs.append(x)
        rows.append(vals)
    if np.isfinite(hi) and xs and last < hi:
        raise RamancamError(
            f"file {source}: a B&W Tek export must hold the pixels up to its header's xaxis_max "
            f"({hi:g}); got pixels up to {last:g}. The file was cut short; export it again.")
    if len(xs) < 2:
        raise RamancamError(
            f"file {source}: a B&W Tek export must hold at least 2 data lines with a Raman "
            f"shift; got {len(xs)}. Export it again from BWSpec.")
    x_arr = np.array(xs)
    if not shift:
        if laser is None:
            raise RamancamError(
                f"file {source}: a B&W Tek export without a 'Raman Shift' column needs the "
                "header's laser_wavelength to convert its wavelengths; got none. Export it "
                "with the Raman Shift column.")
        x_arr = nm_to_shift(x_arr, laser)
    Y = np.array(rows, dtype=np.float64).T
    if not np.isfinite(Y).all():
        raise RamancamError(
            f"file {source}: intensities must be finite; got NaN or infinite values. Export "
            "it again from BWSpec.")
    axis = check_axis(x_arr, source=src)
    n = len(Y)
    meta: dict[str, Any] = {
        "title": header.get("title", ""), "instrument": header.get("model", ""),
        "acquired": _when(header.get("date", "")),
        "laser_wavelength_nm": float("nan") if laser is None else laser,
        "integration_s": _number(header.get("intigration times(ms)",
                                            header.get("integration times(ms)"))) / 1e3,
        "x_units": "cm-1", "spectrum": list(range(n))}
    out: dict[str, Any] = {k: (np.asarray(v) if isinstance(v, list) else np.full(n, v))
                           for k, v in meta.items()}
    for k, v in header.items():
        out.setdefault(k, np.full(n, v))
    return Spectra(Y, axis, meta=out, sources=[source] * n)
