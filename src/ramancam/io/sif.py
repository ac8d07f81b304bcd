"""Andor SIF files (``.sif``, Andor Solis), read with the ``sif_parser`` library.

A SIF file holds the camera's frames: one, or a kinetic series. A frame taken with full
vertical binning (or one track) is one spectrum, and every frame becomes a spectrum here; a
multi-track acquisition (several sub-images of one binned row each, say one fibre per
track) gives one spectrum per track of each frame, frame by frame. Frames of more than one
row per track (images) are refused. The x axis is the spectrograph's
wavelength calibration, a polynomial in the pixel number (nm). Solis also stores the Raman
excitation wavelength when it was set: the axis is then converted to Raman shift
(``1e7 / laser - 1e7 / nm``). Without it the axis stays in nm, with ``x_units`` = ``"nm"``,
and the command line asks for ``--laser-nm``. A file without a calibration (pixel numbers)
is refused. Metadata per spectrum:

``title``
    the file name Solis recorded;
``instrument``
    the detector type (e.g. ``DU420_BVF``);
``acquired``
    the start of the experiment (ISO 8601, UTC);
``exposure_s``
    the exposure time in seconds;
``laser_wavelength_nm``
    the Raman excitation wavelength (NaN when the file has none);
``x_units``
    ``"cm-1 (from nm)"`` (converted) or ``"nm"``;
``spectrum``
    the frame's index in the file (0, 1, ...);
``track``
    the track's index in its frame (0, 1, ...), in a multi-track file only.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..errors import RamancamError
from ..spectra import Spectra, check_axis
from ._text import check_exists
from ._vendor import laser_nm, library_boundary, nm_to_shift, time_text, what_it_starts_with

__all__ = ["read_sif"]

_MAGIC = b"Andor Technology Multi-Channel File"
#: Raman shifts (cm-1) a converted axis may span; beyond them the calibration was no
#: wavelength axis of a measurement with that laser.
_SHIFT_RANGE = (-5000.0, 6000.0)


class _StrictFile(io.BufferedReader):
    """The file as sif_parser reads it, except that reading past its end raises: the
    parser reads header words a byte at a time until a space and would loop for ever on a
    file cut short inside its header."""

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if size is not None and size > 0 and not data:
            raise EOFError("the file ends inside its header or data (truncated)")
        return data


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    return str(value).strip()


def read_sif(path: str | os.PathLike[str]) -> Spectra:
    """Read an Andor SIF file: one spectrum per frame (and track).

    Parameters
    ----------
    path : str or path-like
        The ``.sif`` file.

    Returns
    -------
    Spectra
        One spectrum per frame (per track of each frame in a multi-track file), on the
        calibrated axis (Raman shift when the file holds the
        excitation wavelength, else nm with ``x_units`` ``"nm"``), metadata as in the
        module docstring, ``sources`` = the path.

    Raises
    ------
    RamancamError
        Missing path; content that is not SIF; a damaged or truncated file (the library's
        exception is named); image frames (tracks of several rows); a file without a
        wavelength calibration; a calibration that does not convert to Raman shifts with
        the stored laser; values that are not finite.
    """
    from sif_parser import np_open
    from sif_parser.utils import extract_calibration

    p = check_exists(path)
    with p.open("rb") as fh:
        head = fh.read(len(_MAGIC))
    if head != _MAGIC:
        raise RamancamError(
            f"file {p} must be an Andor SIF file (starting with {_MAGIC.decode()!r}); got "
            f"{what_it_starts_with(head, 8)}. Give a file of another format its own suffix "
            "(.txt, .asc, ...).")
    with library_boundary(p, "sif"), _StrictFile(io.FileIO(p, "r")) as fh:
        data, info = np_open(fh)
        calibration = extract_calibration(info)
    with np.errstate(invalid="ignore"):  # a signalling NaN (damaged bytes): refused below
        frames = np.asarray(data, dtype=np.float64)
    if frames.ndim != 3 or frames.shape[0] < 1:
        raise RamancamError(
            f"file {p} must hold at least one frame; got none. Save it again from Solis.")
    tracks = int(info.get("NumberOfSubImages") or 1)
    if tracks > 1 and frames.shape[1] != tracks:
        raise RamancamError(
            f"file {p} must hold spectra (frames of one row per track: each track binned); "
            f"got {tracks} tracks of {frames.shape[1] // tracks} rows each. Bin each track's "
            "rows in Solis, or export the spectra as text.")
    if frames.shape[1] != tracks:
        raise RamancamError(
            f"file {p} must hold spectra (frames of one row: full vertical binning or one "
            f"track); got images of {frames.shape[1]} rows. Bin the rows in Solis, or export "
            "the spectrum as text.")
    # a multi-track acquisition stacks its tracks (one row each) in every frame: each is a
    # spectrum, frame by frame
    Y = frames.reshape(-1, frames.shape[2])
    n, width = Y.shape
    coef = np.asarray(info.get("Calibration_data") or [], dtype=np.float64)
    identity = coef.size >= 2 and coef[0] == 0 and coef[1] == 1 and not coef[2:].any()
    if calibration is None or identity or width < 2:
        raise RamancamError(
            f"file {p} must carry a wavelength calibration (its x axis); got none, so its "
            "axis would be pixel numbers. Calibrate the spectrograph in Solis and save the "
            "spectrum again, or export it as text with its wavelengths.")
    cal = np.atleast_2d(np.asarray(calibration, dtype=np.float64))
    if tracks > 1 and cal.shape[1] == width * tracks:
        # sif_parser evaluates the polynomial over the frame's length, every track's
        # pixels in a row; each track's pixels are 1..width
        cal = cal[:, :width]
    if tracks > 1 and cal.shape[0] == frames.shape[0]:  # one calibration per frame
        cal = np.repeat(cal, tracks, axis=0)
    if cal.shape[1] != width or cal.shape[0] not in (1, n):
        raise RamancamError(
            f"file {p} must hold one calibrated x value per pixel; got {cal.shape[1]} values "
            f"for {width} pixels (a damaged header). Save it again from Solis.")
    axes = np.broadcast_to(cal, (n, width))
    if not np.isfinite(axes).all() or not np.isfinite(Y).all():
        raise RamancamError(
            f"file {p} must hold finite values and calibration; got NaN or infinite ones "
            "(a damaged file). Save it again from Solis.")
    raw_laser = info.get("RamanExWavelength")
    laser = laser_nm(raw_laser) if isinstance(raw_laser, (int, float)) else None
    units = "nm"
    if laser is not None:
        axes = nm_to_shift(axes, laser)
        lo, hi = float(axes.min()), float(axes.max())
        if not (_SHIFT_RANGE[0] <= lo and hi <= _SHIFT_RANGE[1] and hi > 0):
            raise RamancamError(
                f"file {p}: its calibration must be wavelengths that the stored {laser:g} nm "
                f"laser turns into Raman shifts; got {lo:.0f} to {hi:.0f} cm-1. Check the "
                "spectrograph's calibration in Solis, or export the spectrum as text.")
        units = "cm-1 (from nm)"
    for row in axes[:1] if np.all(axes == axes[0]) else axes:
        check_axis(row, source=str(p))  # a calibration that doubles back is refused here
    when = info.get("ExperimentTime")
    acquired = (time_text(datetime.fromtimestamp(int(when), tz=UTC).replace(tzinfo=None))
                if isinstance(when, int) and when > 0 else "")
    meta: dict[str, Any] = {
        "title": np.full(n, _text(info.get("OriginalFilename", ""))),
        "instrument": np.full(n, _text(info.get("DetectorType", ""))),
        "acquired": np.full(n, acquired),
        "exposure_s": np.full(n, float(info.get("ExposureTime", float("nan")))),
        "laser_wavelength_nm": np.full(n, np.nan if laser is None else laser),
        "x_units": np.full(n, units), "spectrum": np.arange(n) // tracks}
    if tracks > 1:
        meta["track"] = np.arange(n) % tracks
    if np.all(axes == axes[0]):  # one calibration for every frame
        return Spectra(Y, axes[0], meta=meta, sources=[str(p)] * n)
    return Spectra(list(Y), list(axes), meta=meta, sources=[str(p)] * n)
