"""Thermo OMNIC spectrum files (``.spa``) and groups of spectra (``.spg``), as Thermo's DXR
Raman microscopes and Nicolet FT-Raman modules save them.

An SPA file starts with ``Spectral Data File``; byte 30 holds the spectrum's name (256
bytes), byte 296 the acquisition time (seconds since 1899-12-31, UTC), and from byte 304 a
directory of 16-byte entries (a key byte, then the position and size of a block as 32-bit
integers) up to a key of 0 or 1. Key 2 points at the spectral header (number of points at
+4, x unit at +8, y unit at +12, first and last x as float32 at +16 and +20, number of
scans at +36), key 3 at the intensities (float32). The axis runs evenly from the first x to
the last.

An SPG group has the same layout with the number of directory entries at byte 294 and, per
spectrum, a header, its intensities and a name block (key 107: a 256-byte name, then the
spectrum's acquisition time).

The x unit tells a Raman spectrum: 32 is Raman shift (cm-1), and wavenumbers (1) count as
Raman shift when the intensities are Raman intensity (y unit 31), as FT-Raman spectra may
be stored; wavelengths in nm (3) keep ``x_units`` = ``"nm"`` and the command line asks for
``--laser-nm``. Any other file (an FT-IR absorbance or transmittance spectrum, an
interferogram) is refused with one line saying what it holds. Points OMNIC blanked (NaN) are
left out of the spectrum's axis.

The only Python reader of the format (``spectrochempy-omnic`` 0.2.1, CeCILL-B) imports
``requests`` without declaring it and reads text up to a NUL byte without checking for the
end of the file, so a truncated file makes it loop for ever; the layout is simple enough to
read here, every position checked against the file's size first. It follows that reader's
description of the format. Not checked against a measured Raman SPA file (none was at hand).

Metadata:

``title``
    the spectrum's name as OMNIC saved it;
``spectrum``
    its index in the file (0 for an SPA file);
``acquired``
    the acquisition time (ISO 8601, UTC), ``""`` when the file has none;
``scans``
    the number of co-added scans;
``y_units``
    what the intensities are (``Raman intensity``, ...);
``x_units``
    ``"cm-1"`` or ``"nm"``.
"""

from __future__ import annotations

import os
import struct
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError
from ..spectra import Spectra, check_axis
from ._text import check_exists
from ._vendor import time_text, what_it_starts_with

__all__ = ["read_omnic"]

_MAGIC = b"Spectral Data File"
_DIRECTORY = 304  # the first directory entry
_ENTRY = 16
_MAX_ENTRIES = 4096
_RAMAN_SHIFT, _WAVENUMBERS, _NM = 32, 1, 3
_RAMAN_INTENSITY = 31
#: OMNIC's x and y unit codes that the refusal names.
_X_UNITS = {1: "wavenumbers (cm-1)", 2: "data points (an interferogram)", 3: "wavelengths (nm)",
            4: "wavelengths (um)", 32: "Raman shift (cm-1)"}
_Y_UNITS = {11: "reflectance", 12: "log(1/R)", 15: "single beam", 16: "transmittance",
            17: "absorbance", 20: "Kubelka-Munk", 21: "reflectance", 22: "detector volts",
            26: "photoacoustic", 31: "Raman intensity"}


def read_omnic(path: str | os.PathLike[str]) -> Spectra:
    """Read a Thermo OMNIC ``.spa`` file, or a ``.spg`` group of spectra (see the module
    docstring).

    Returns
    -------
    Spectra
        One spectrum per spectrum in the file, each on its evenly spaced axis.

    Raises
    ------
    RamancamError
        Not an OMNIC file; cut short or damaged (a block outside the file, a point count
        that does not match the intensities); no spectrum in it; not a Raman spectrum.
    """
    p = check_exists(path)
    data = p.read_bytes()
    group = p.suffix.lower() == ".spg"
    if not data.startswith(_MAGIC):
        raise RamancamError(
            f"file {p} must be a Thermo OMNIC {'.spg' if group else '.spa'} file, which "
            f"starts with 'Spectral Data File'; got {what_it_starts_with(data, 18)}. Check "
            "the file, or export the spectrum as text from OMNIC.")
    blocks = _directory(p, data, group)
    heads, values = blocks.get(2, []), blocks.get(3, [])
    if not heads or not values or len(heads) != len(values):
        missing = ("spectral header" if not heads else "intensities" if not values
                   else f"intensities for each of its {len(heads)} spectral headers")
        raise RamancamError(
            f"file {p} must hold a spectrum; got no {missing} in its directory (an OMNIC "
            "file of another kind?). Open it in OMNIC and save the spectra again.")
    names = blocks.get(107, [])
    spectra = [_spectrum(p, data, h[0], v) for h, v in zip(heads, values, strict=True)]
    raman = {s[2] for s in spectra}
    if len(raman) > 1:
        raise RamancamError(
            f"file {p} must hold spectra of one kind; got Raman shifts beside wavelengths. "
            "Save them as separate files from OMNIC.")
    if group and len(names) == len(spectra):  # each spectrum's name and time
        stamps = [(_text(data[q:q + 256]), _when(data, q + 256)) for q, _ in names]
    else:
        stamps = [(_text(data[30:286]), _when(data, 296))] * len(spectra)
    n = len(spectra)
    meta = {"title": np.array([t for t, _ in stamps]),
            "acquired": np.array([w for _, w in stamps]),
            "scans": np.array([s[3] for s in spectra], dtype=np.float64),
            "y_units": np.array([s[4] for s in spectra]),
            "x_units": np.full(n, "cm-1" if raman.pop() else "nm"),
            "spectrum": np.arange(n)}
    axes, ys = [s[0] for s in spectra], [s[1] for s in spectra]
    if all(a.size == axes[0].size and np.array_equal(a, axes[0]) for a in axes):
        return Spectra(np.stack(ys), axes[0], meta=meta, sources=[str(p)] * n)
    return Spectra(ys, axes, meta=meta, sources=[str(p)] * n)


def _spectrum(p: Path, data: bytes, head: int, values: tuple[int, int]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool, float, str]:
    """One spectrum from its header and intensity blocks: (axis, intensities, Raman shift
    (False: nm), scans, what the intensities are)."""
    if head + 40 > len(data):
        raise _cut(p, "spectral header")
    nx, x_unit, y_unit = (struct.unpack_from("<I", data, head + 4)[0], data[head + 8],
                          data[head + 12])
    first, last = struct.unpack_from("<ff", data, head + 16)
    scans = struct.unpack_from("<I", data, head + 36)[0]
    start, size = values
    if nx < 2 or size != 4 * nx:
        raise RamancamError(
            f"file {p} must hold as many intensities as its header's {nx} points; got "
            f"{size // 4}. The file is damaged; save it again from OMNIC.")
    with np.errstate(invalid="ignore"):  # a signalling NaN in a damaged file warns when cast
        y = np.frombuffer(data, dtype="<f4", count=nx, offset=start).astype(np.float64)
    raman = x_unit == _RAMAN_SHIFT or (x_unit == _WAVENUMBERS and y_unit == _RAMAN_INTENSITY)
    if not raman and x_unit != _NM:
        what = (f"{_Y_UNITS.get(y_unit, f'y unit {y_unit}')} against "
                f"{_X_UNITS.get(x_unit, f'x unit {x_unit}')}")
        hint = (" (an infrared spectrum)" if x_unit == _WAVENUMBERS
                and y_unit in (16, 17, 15, 11, 12, 20, 21) else "")
        raise RamancamError(
            f"file {p} must hold a Raman spectrum (Raman shift, or Raman intensity against "
            f"wavenumbers); got {what}{hint}. Open the Raman spectrum's file instead.")
    if not (np.isfinite(first) and np.isfinite(last) and first != last):
        raise RamancamError(
            f"file {p} must have an x axis from one value to another; got {first!r} to "
            f"{last!r}. The file is damaged; save it again from OMNIC.")
    axis = np.linspace(float(first), float(last), nx)
    keep = np.isfinite(y)
    if keep.sum() < 2:
        raise RamancamError(
            f"file {p} must hold finite intensities; got {int((~keep).sum())} of {nx} "
            "blanked or not numbers. Save the spectrum again from OMNIC.")
    axis = check_axis(axis[keep], name="Raman shift" if raman else "wavelength",
                      source=str(p))
    return axis, y[keep], raman, float(scans), _Y_UNITS.get(y_unit, str(y_unit))


def _when(data: bytes, at: int) -> str:
    """The acquisition time at byte ``at`` (seconds since 1899-12-31, UTC), ISO 8601."""
    if at + 4 > len(data):
        return ""
    when = struct.unpack_from("<I", data, at)[0]
    return time_text(datetime(1899, 12, 31) + timedelta(seconds=int(when))) if when else ""


def _directory(p: Path, data: bytes, group: bool) -> dict[int, list[tuple[int, int]]]:
    """Key -> [(position, size), ...] of the directory's header (2), intensity (3) and, in
    a group, name (107) blocks, each checked to lie in the file. An SPA directory ends at a
    key of 0 or 1 (its first header and intensities count); an SPG one after the number of
    entries at byte 294."""
    out: dict[int, list[tuple[int, int]]] = {}
    if group:
        if len(data) < 296:
            raise _cut(p, "directory")
        count = struct.unpack_from("<H", data, 294)[0]
    else:
        count = _MAX_ENTRIES
    for k in range(count):
        at = _DIRECTORY + _ENTRY * k
        if at + 10 > len(data):
            raise _cut(p, "directory")
        key = data[at]
        if key in (0, 1) and not group:
            return out
        if key not in ((2, 3, 107) if group else (2, 3)) or (not group and key in out):
            continue
        pos, size = struct.unpack_from("<II", data, at + 2)
        if pos < _DIRECTORY:
            raise RamancamError(
                f"file {p} must place its blocks after its directory; got one at byte "
                f"{pos}. The file is damaged; save it again from OMNIC.")
        need = {2: 40, 3: size, 107: 260}[key]
        if pos + need > len(data):
            raise _cut(p, {2: "spectral header", 3: "intensities", 107: "spectrum names"}[key])
        out.setdefault(key, []).append((pos, size))
    if group:
        return out
    raise RamancamError(f"file {p} must end its directory; got {_MAX_ENTRIES} entries "
                        "without an end. The file is damaged; save it again from OMNIC.")


def _cut(p: Path, what: str) -> RamancamError:
    return RamancamError(
        f"file {p} must hold its {what} inside the file; got a file of "
        f"{p.stat().st_size} bytes that ends before it (cut short?). Copy or save it again.")


def _text(raw: bytes) -> str:
    text = raw.split(b"\x00", 1)[0]
    try:
        return text.decode("utf-8").strip()
    except UnicodeDecodeError:
        return text.decode("latin-1").strip()
