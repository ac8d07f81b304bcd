"""Galactic/Thermo GRAMS SPC files (``.spc``), read with the ``spc-io`` library.

The SPC format (new, LSB-first, ``0x4B``) holds one or more sub-files (spectra) on one shared
x array, evenly spaced or explicit, or one x array per sub-file. Every sub-file becomes one
spectrum. Metadata kept per spectrum:

``title``
    the header comment (``fcmnt``), ``""`` when empty;
``instrument``
    the source-instrument text (``fsource``, e.g. ``WITec``);
``acquired``
    the header date and time (ISO 8601), ``""`` when the file has none (or the Unix epoch,
    which writers use for "no date");
``laser_wavelength_nm``
    from a log-book entry whose key mentions "laser" or "excitation" and no power,
    current, temperature, ... (``Laser Power: 300 mW`` is skipped), a value in nm (or µm,
    or the laser's cm-1) (float, NaN if none);
``x_units``
    the x-axis type code (``XRAMANS`` is Raman shift in cm-1). An axis in nanometres or
    micrometres (``XNMETR``, ``XUMETR``) is converted to Raman shift with the log book's
    laser wavelength (shift = 1e7/laser - 1e7/x; ``XRAMANS (converted from XNMETR)``);
    without one it is kept in nm (``nm``), which the command line converts with
    ``--laser-nm`` and refuses without it; units that are no spectral axis (time,
    frequency, mass, ...) and uncalibrated pixel, channel or point numbers (``XDIODE``,
    ``XCHANL``, ``XPOINT``) are refused, and so is a code SPC does not define (a damaged header);
``subfile``
    the position of the sub-file in the file (0, 1, ...): spectra keep the file's order,
    also when a series' z values fall (a cooling run, a negative z step);
``subfile_z``
    the sub-file's z value (float): the time, temperature, ... of a series (multi-file,
    ``TMULTI``), from its sub-header (``subtime``) or from the first one and the header's
    z step (``fzinc``); NaN in a single-spectrum file, which has no z axis;

plus every ``KEY=value`` entry of the text log book, as text.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from typing import Any

import numpy as np

from ..errors import RamancamError, spectra_count
from ..spectra import Spectra
from ._text import check_exists, read_bytes
from ._vendor import header_laser, library_boundary, looks_like_text, nm_to_shift, time_text

__all__ = ["read_spc"]

_HEADER_SIZE = 512
_SUB_HEADER_SIZE = 32
_NEW_LSB, _NEW_MSB, _OLD = 0x4B, 0x4C, 0x4D
_NO_DATE = datetime.fromtimestamp(0)
#: x units that are wavelengths (converted with the laser wavelength): nm per unit
_WAVELENGTH = {"XNMETR": 1.0, "XUMETR": 1000.0}
#: x units that are no Raman axis at all (time, frequency, mass, temperature, ...)
_NOT_SHIFT = {"XSECS": "seconds", "XMINUTS": "minutes", "XHERTZ": "Hz", "XKHERTZ": "kHz",
              "XMHERTZ": "MHz", "XGHERTZ": "GHz", "XMUNITS": "mass, m/z", "XPPM": "ppm",
              "XDAYS": "days", "XYEARS": "years", "XHOURS": "hours", "XEV": "eV",
              "XDEGRS": "degrees", "XDEGRF": "temperature", "XDEGRC": "temperature",
              "XDEGRK": "temperature", "XMSEC": "milliseconds", "XUSEC": "microseconds",
              "XNSEC": "nanoseconds", "XCM": "centimetres", "XMETERS": "metres",
              "XMMETR": "millimetres", "XDBLIGM": "an interferogram",
              # detector pixels, not calibrated to any unit: no Raman shifts either
              "XDIODE": "diode numbers, the detector's pixels, uncalibrated",
              "XCHANL": "channel numbers, uncalibrated",
              "XPOINT": "data-point numbers, uncalibrated", "ZTEXTL": "text labels"}


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


#: Bytes a writer may leave between the data and the log block or the end (padding).
_SPARE_BYTES = 64


def _check_header(data: bytes, source: str) -> None:
    """Reject what the library cannot read before it tries (with a precise message)."""
    if looks_like_text(data):
        raise RamancamError(
            f"file {source} must be a Galactic SPC (binary) file; got text content. If it "
            "is a text export, give it a .txt or .csv suffix.")
    if len(data) < _HEADER_SIZE:
        raise RamancamError(
            f"file {source} must be a Galactic SPC file with a {_HEADER_SIZE}-byte header; "
            f"got {len(data)} bytes (truncated or not an SPC file). Re-export it.")
    version = data[1]
    if version in (_NEW_MSB, _OLD):
        kind = "MSB-first" if version == _NEW_MSB else "old (0x4D)"
        raise RamancamError(
            f"file {source} must be a new-format LSB-first SPC file (version byte 0x4B); got "
            f"the {kind} SPC format, which is not supported. Re-save it from the instrument "
            "software as a current SPC or export it to text.")
    if version != _NEW_LSB:
        raise RamancamError(
            f"file {source} must be a Galactic SPC file (version byte 0x4B at offset 1); got "
            f"byte 0x{version:02X}, so it is not an SPC file (or it is damaged).")
    flags, exp = data[0], int.from_bytes(data[3:4], "little", signed=True)
    npts = int.from_bytes(data[4:8], "little")
    nsub = int.from_bytes(data[24:28], "little")
    xyxys, xvals, single = bool(flags & 0x40), bool(flags & 0x80), bool(flags & 0x01)
    if nsub < 1:
        raise RamancamError(
            f"file {source} must hold at least one spectrum (sub-file); its header says "
            f"{nsub}. The file is damaged; re-export it.")
    if xyxys:
        return  # per-sub-file sizes: the library checks them while reading
    y_bytes = 4 if exp == -128 else (2 if single else 4)
    need = _HEADER_SIZE + (4 * npts if xvals else 0) + nsub * (_SUB_HEADER_SIZE + y_bytes * npts)
    if npts < 2 or need > len(data):
        raise RamancamError(
            f"file {source} must hold the {spectra_count(nsub)} of "
            f"{npts} points its header "
            f"announces ({need} bytes); got {len(data)} bytes (truncated or damaged). "
            "Re-export it.")
    # the data end where the log block starts, or at the end of the file: bytes beyond them
    # mean a damaged header (a flag or point count read wrong gives numbers from the wrong
    # bytes, e.g. the x array read as intensities)
    logoff = int.from_bytes(data[248:252], "little")
    end = logoff if 0 < logoff <= len(data) else len(data)
    if end - need > _SPARE_BYTES:
        raise RamancamError(
            f"file {source} must end its data where its header says ({need} bytes for "
            f"{spectra_count(nsub)} of {npts} points{', with an x array' if xvals else ''}); "
            f"got {end - need} bytes more before {'its log block' if end == logoff else 'the end'}"
            ": the header (flags or point count) is damaged, or bytes were appended. "
            "Re-export the file.")


def _acquired(fd: Any) -> str:
    """ISO 8601 text of the header date, ``""`` for none: an invalid date (zeros) or the
    Unix epoch, which writers use for "no date"."""
    try:
        when = datetime(year=fd.year, month=fd.month, day=fd.day, hour=fd.hour, minute=fd.min)
    except ValueError:
        return ""
    return "" if when == _NO_DATE else time_text(when)


def read_spc(path: str | os.PathLike[str]) -> Spectra:
    """Read a Galactic SPC file: one spectrum per sub-file.

    Parameters
    ----------
    path : str or path-like
        The ``.spc`` file (a gzipped one is un-gzipped first).

    Returns
    -------
    Spectra
        ``n_subfiles`` spectra on the file's x array (or one axis per sub-file), metadata as
        in the module docstring, ``sources`` = the path.

    Raises
    ------
    RamancamError
        Missing path; text or other non-SPC content; the old or MSB-first SPC variants;
        a truncated or otherwise damaged file (the library's exception is named); an x-axis
        unit code SPC does not define; an x axis that is not strictly monotonic or values
        that are not finite.
    """
    from spc_io import SpcRaw

    p = check_exists(path)
    source = str(p)
    data = read_bytes(p)
    _check_header(data, source)
    with library_boundary(p, "spc"):
        # the raw sub-files, in file order: spc-io's high-level SPC sorts them by (w, z),
        # which reorders a series whose z values fall (a cooling run, a negative z step)
        raw = SpcRaw.from_bytes_io(io.BytesIO(data))
        hdr = raw.main_header
        subs = list(raw.subs)
        ys = [np.asarray(s.yarray, dtype=np.float64) for s in subs]
        if hdr.ftflgs.TXYXYS:
            axes = [np.asarray(s.xarray, dtype=np.float64) for s in subs]
        else:
            shared = (np.asarray(raw.xarray, dtype=np.float64) if hdr.ftflgs.TXVALS
                      else np.linspace(hdr.ffirst, hdr.flast, hdr.fnpts))
            axes = [shared] * len(subs)
        zs = [np.nan if s.z is None else float(s.z) for s in subs]
        log = {str(k).strip(): str(v).strip() for k, v in raw.log_book.txt_as_dict().items()}
        title, instrument = _text(bytes(hdr.fcmnt)), _text(bytes(hdr.fsource))
        acquired = _acquired(hdr.fdate)
        x_code, x_units = int(hdr.fxtype._val), str(hdr.fxtype)
    if hdr.fxtype.UNKNOWN:
        raise RamancamError(
            f"file {source} must have an x-axis unit code SPC defines (fxtype, byte 28); got "
            f"{x_code}, which is none of SPC's codes (a damaged header or a non-standard "
            "writer). Re-export it with a Raman-shift (cm-1) x axis.")
    if not subs:
        raise RamancamError(
            f"file {source} must hold at least one spectrum; got none. Re-export it.")
    laser = header_laser(log.items())
    if x_units in _WAVELENGTH:
        nm = _WAVELENGTH[x_units]
        if laser is None:  # kept in nm: --laser-nm converts it, the commands refuse it without
            axes = [a * nm for a in axes]
            x_units = "nm"
        else:
            axes = [nm_to_shift(a * nm, laser) for a in axes]
            x_units = f"XRAMANS (converted from {x_units})"
    elif x_units in _NOT_SHIFT:
        raise RamancamError(
            f"file {source} must have a Raman-shift x axis; got {x_units} "
            f"({_NOT_SHIFT[x_units]}). Check that it is a Raman spectrum, or export it as "
            "Raman shift (cm-1).")
    n = len(subs)
    meta: dict[str, Any] = {
        "title": np.full(n, title), "instrument": np.full(n, instrument),
        "acquired": np.full(n, acquired),
        "laser_wavelength_nm": np.full(n, np.nan if laser is None else laser),
        "x_units": np.full(n, x_units), "subfile": np.arange(n),
        "subfile_z": np.array(zs, dtype=np.float64)}
    for k, v in log.items():
        if k and k not in meta:
            meta[k] = np.full(n, v)
    return Spectra(ys, axes, meta=meta, sources=[source] * n)
