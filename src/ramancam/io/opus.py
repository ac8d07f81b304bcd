"""Bruker OPUS files (``name.0``, ``name.1``, ...), read with the ``brukeropus`` library.

OPUS is what Bruker's FT-Raman spectrometers (RAM II, MultiRAM) and its Raman microscopes
save. A file holds blocks of several kinds; ramancam reads its **Raman** block (spectrum type
10; the Raman shift in cm-1 runs from the data status block's first to last x value):
one spectrum, or one per row of a Raman "series" block (3-D data: a time series or a
measurement sequence). When OPUS kept several Raman blocks (a spectrum processed in place
keeps its earlier versions), the one OPUS shows, the last written, is read. A file without a
Raman block (an FT-IR absorbance file, a single-channel spectrum) is refused, naming the
blocks it holds. Metadata per spectrum:

``title``
    the sample name (``SNM``), ``""`` when empty;
``sample_form``, ``operator``, ``instrument``
    ``SFM``, ``CNM`` and ``INS`` (``""`` when the file has none);
``acquired``
    the date and time of the measurement (ISO 8601), ``""`` when the file has none;
``laser_wavelength_nm``
    from the Raman laser wavenumber (``RLW``: 1e7 / RLW), NaN when the file has none;
``laser_power_mw``
    the Raman laser power (``RLP``, mW), NaN when the file has none;
``scans``
    the number of co-added scans (``NSS``), NaN when the file has none;
``opus_block``
    OPUS's name of the block read (``Raman`` or ``Raman (Series)``);
``spectrum``
    the index of the spectrum in the file (0, 1, ...).

Positions of map measurements are not read (OPUS keeps them outside the series block).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RamancamError
from ..spectra import Spectra
from ._text import check_exists
from ._vendor import library_boundary, time_text, what_it_starts_with

__all__ = ["read_opus"]

_MAGIC = b"\n\n\xfe\xfe"
_RAMAN = 10  # OPUS's spectrum type code of a Raman spectrum


def _check_start(path: Path) -> None:
    """Refuse what is not OPUS, and a file cut short, before the library reads it: the
    24-byte header points at the directory, whose entries (type, size in 4-byte words,
    start) must all lie inside the file."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(512)
        if head[:4] != _MAGIC:
            raise RamancamError(
                f"file {path} must be a Bruker OPUS file (its suffix {path.suffix} says so; "
                f"OPUS files start with bytes 0A 0A FE FE); got {what_it_starts_with(head)}. "
                "Give a file of another format its own suffix (.txt, .csv, .spc, ...), or "
                "read the folder with --files.")
        if size < 24:
            raise RamancamError(
                f"file {path} must be a Bruker OPUS file with a 24-byte header; got {size} "
                "bytes (truncated). Save it again from OPUS.")
        start, max_blocks, n_blocks = struct.unpack_from("<3i", head, 12)
        if not (24 <= start and 0 < n_blocks <= max_blocks <= 10_000):
            raise RamancamError(
                f"file {path} must be a Bruker OPUS file with a valid header; its header "
                f"says {n_blocks} blocks of at most {max_blocks}, directory at byte {start} "
                "(damaged). Save it again from OPUS.")
        end = start + 12 * n_blocks
        if end > size:
            raise RamancamError(
                f"file {path} must hold its whole directory (bytes {start} to {end}); got "
                f"{size} bytes (truncated). Save it again from OPUS.")
        fh.seek(start)
        directory = fh.read(12 * n_blocks)  # only the header and directory: not the data
    for k in range(n_blocks):
        _, words, at = struct.unpack_from("<3i", directory, 12 * k)
        if at > 0 and (words < 0 or at + 4 * words > size):
            raise RamancamError(
                f"file {path} must hold the block its directory places at bytes {at} to "
                f"{at + 4 * words}; got {size} bytes (truncated or damaged). Save it "
                "again from OPUS.")


def _value(params: Any, key: str) -> Any:
    return getattr(params, key) if key in params.keys() else None


def _text(params: Any, key: str) -> str:
    v = _value(params, key)
    return "" if v is None else str(v).strip()


def _number(params: Any, key: str) -> float:
    v = _value(params, key)
    return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else float("nan")


def _raman_data(f: Any, path: Path) -> Any:
    """The Raman series block if the file has one, else its Raman spectrum (the last
    written); a one-line error naming what the file holds otherwise."""
    blocks = [getattr(f, k) for k in f.all_data_keys]
    raman = [d for d in blocks if d.block.type[3] % 32 == _RAMAN]
    series = [d for d in raman if d.block.is_data_series()]
    if series or raman:
        return (series or raman)[0]
    held = ", ".join(sorted({str(d.label) for d in blocks})) or "no spectrum at all"
    damaged = len(getattr(f, "parse_error_blocks", []))
    extra = (f"; {damaged} of its blocks could not be parsed (the file may be damaged)"
             if damaged else "")
    raise RamancamError(
        f"file {path} must hold a Raman spectrum (an OPUS Raman block); it holds {held}"
        f"{extra}. Save the Raman spectrum in OPUS, or export it as text (x, y).")


def read_opus(path: str | os.PathLike[str]) -> Spectra:
    """Read a Bruker OPUS file: its Raman spectrum, or each spectrum of its Raman series.

    Parameters
    ----------
    path : str or path-like
        The OPUS file (``name.0``, ``name.1``, ... or ``.opus``).

    Returns
    -------
    Spectra
        One spectrum (or one per series row) on the file's Raman-shift axis, kept in the
        file's order (OPUS usually stores it descending), metadata as in the module
        docstring, ``sources`` = the path.

    Raises
    ------
    RamancamError
        Missing path; content that is not OPUS (text, another binary format); a damaged or
        truncated file (the library's exception is named); a file without a Raman block; an
        x axis in other units than wavenumbers, or fewer than 2 points.
    """
    from brukeropus import read_opus as _read

    p = check_exists(path)
    _check_start(p)
    with library_boundary(p, "opus"):
        f = _read(str(p))
        data = _raman_data(f, p)
        x = np.asarray(data.x, dtype=np.float64)
        Y = np.atleast_2d(np.asarray(data.y, dtype=np.float64))
        units = _text(data.params, "dxu")
        when = data.params.datetime
        label, params = str(data.label), f.params
    if units not in ("", "WN"):
        raise RamancamError(
            f"file {p} must have its Raman block on a wavenumber axis (OPUS unit WN); got "
            f"{units!r}. Convert the x axis to Raman shift (cm-1) in OPUS, or export it as "
            "text.")
    if x.size < 2 or Y.shape[1] != x.size or x[0] == x[-1]:
        span = f" from {x[0]:g} to {x[-1]:g} cm-1" if x.size else ""
        raise RamancamError(
            f"file {p} must hold a Raman spectrum of at least 2 points on a range of "
            f"Raman shifts; got {Y.shape[1]} values{span}. The file is damaged; save it "
            "again from OPUS.")
    if not np.isfinite(x[[0, -1]]).all() or not np.isfinite(Y).all():
        raise RamancamError(
            f"file {p} must hold finite Raman shifts and intensities; its Raman block has "
            "NaN or infinite values (a damaged file). Save it again from OPUS, or export it "
            "as text.")
    n = len(Y)
    rlw = _number(params, "rlw")
    laser = 1e7 / rlw if np.isfinite(rlw) and 5000.0 <= rlw <= 100000.0 else float("nan")
    meta: dict[str, Any] = {
        "title": np.full(n, _text(params, "snm")),
        "sample_form": np.full(n, _text(params, "sfm")),
        "operator": np.full(n, _text(params, "cnm")),
        "instrument": np.full(n, _text(params, "ins")),
        "acquired": np.full(n, time_text(when)),
        "laser_wavelength_nm": np.full(n, laser),
        "laser_power_mw": np.full(n, _number(params, "rlp")),
        "scans": np.full(n, _number(params, "nss")),
        "opus_block": np.full(n, label),
        "spectrum": np.arange(n)}
    return Spectra(Y, x, meta=meta, sources=[str(p)] * n)
