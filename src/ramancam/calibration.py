"""Check a spectrometer's Raman-shift axis against a measured reference standard.

``ramancam info FILE --standard polystyrene`` finds the bands of a standard (silicon,
polystyrene, cyclohexane, acetaminophen) in a measured spectrum of it, compares their
positions with the reference values and says by how much the axis is off; every reading
command's ``--axis-offset`` then corrects spectra measured on that instrument. ``predict``'s
``axis:`` line (:func:`ramancam.checks.shift_note`) is what usually sends a user here.

The reference shifts are those of ASTM E1840 (polystyrene, cyclohexane, acetaminophen) and
520.7 cm-1 for crystalline silicon's first-order phonon band.

Example::

    check = check_axis(read("polystyrene.txt"), "polystyrene")
    print(check.offset)          # e.g. +2.4: the file's bands sit 2.4 cm-1 high
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import RamancamError
from .spectra import Spectra

__all__ = ["STANDARDS", "AxisCheck", "check_axis", "check_each", "find_band", "format_check",
           "format_each", "plot_check"]

#: Reference Raman shifts (cm-1) of the standards ``--standard`` knows.
STANDARDS: dict[str, tuple[float, ...]] = {
    "silicon": (520.7,),
    "polystyrene": (620.9, 795.8, 1001.4, 1031.8, 1155.3, 1450.5, 1583.1, 1602.3, 2852.4,
                    2904.5, 3054.3),
    "cyclohexane": (384.1, 426.3, 801.3, 1028.3, 1157.6, 1266.4, 1444.4, 2664.4, 2852.9,
                    2923.8, 2938.3),
    "acetaminophen": (329.2, 390.9, 465.1, 504.0, 651.6, 710.8, 797.2, 834.5, 857.9, 968.7,
                      1105.5, 1168.5, 1236.8, 1278.5, 1323.9, 1371.5, 1515.1, 1561.6, 1648.4),
}
#: Where the standards' values come from, printed with the check.
SOURCES = {"silicon": "crystalline silicon", "polystyrene": "ASTM E1840",
           "cyclohexane": "ASTM E1840", "acetaminophen": "ASTM E1840"}
#: The largest axis error (cm-1) :func:`check_axis` looks for.
WINDOW = 15.0
#: A band counts as found when its prominence is at least this many times the spectrum's
#: noise (sd of the point-to-point scatter).
MIN_SNR = 8.0
#: Below this share of the standard's bands in range found, no offset is read (a spectrum
#: of another substance shares a band or two with any standard).
MIN_FOUND = 0.5
#: Deviations of the bands that differ by more than this (cm-1, largest minus smallest) are
#: no single offset: the axis is stretched as well as shifted.
MAX_SPREAD = 2.0
#: :func:`_global_offset`: Savitzky-Golay window (points of 0.25 cm-1: 10 cm-1).
_SG_POINTS = 41


@dataclass(frozen=True)
class AxisCheck:
    """What :func:`check_axis` found.

    Attributes
    ----------
    standard : str
    reference : ndarray
        The standard's bands inside the spectrum's range (cm-1).
    measured : ndarray
        Each band's measured position (cm-1); ``nan`` where it was not found.
    offset : float
        Median of ``measured - reference`` over the bands found: positive when the
        spectrum's bands sit higher than they should. ``--axis-offset`` takes minus this.
        ``nan`` when fewer than half the bands in range were found (:data:`MIN_FOUND`).
    spread : float
        Largest minus smallest deviation of the bands found (0 for one band; ``nan`` with
        the offset).
    taller : float
        For a standard of one band (silicon, which outshines every other band of its
        spectrum): the shift of a band of the spectrum at least twice as prominent as the
        one found (``nan``: none), a sign that the spectrum is of something else, whose
        band near the reference gave the offset.
    """

    standard: str
    reference: NDArray[np.float64]
    measured: NDArray[np.float64]
    offset: float
    spread: float
    taller: float = float("nan")

    @property
    def n_found(self) -> int:
        return int(np.isfinite(self.measured).sum())


def _noise(y: NDArray[np.float64]) -> float:
    """The noise sd of a spectrum: median absolute second difference, scaled for white
    noise (a second difference of white noise has sd sqrt(6) times the noise's)."""
    d2 = np.diff(y, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0))


def find_band(w: ArrayLike, y: ArrayLike, centre: float, *, window: float = 6.0,
              noise: float | None = None) -> float:
    """Position of the band nearest ``centre`` (cm-1), or ``nan`` when there is none.

    The band is the local maximum within ``centre +- window`` whose prominence (height above
    the higher of the two lowest points between it and a taller band on either side,
    :func:`scipy.signal.find_peaks`) is at least :data:`MIN_SNR` times the noise; the most
    prominent when there are several (a ripple on a smoothed spectrum is not the band). Its
    position is the vertex of a parabola through the reciprocal of its top above its base
    (the points above half its prominence, at least three): exact for a Lorentzian band on
    a flat background, whatever the grid's spacing.

    Parameters
    ----------
    w, y : array-like of shape (n_points,)
        Raman-shift axis (ascending or descending) and intensities.
    centre : float
    window : float
        Half width of the range searched for the band's maximum, cm-1.
    noise : float, optional
        The spectrum's noise sd; estimated from ``y`` when omitted.
    """
    from scipy.signal import find_peaks

    w = np.asarray(w, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(w)
    x, v = w[order], y[order]
    if noise is None:
        noise = _noise(v)
    span = float(np.ptp(v)) if v.size else 0.0
    peaks, props = find_peaks(v, prominence=max(MIN_SNR * noise, 1e-9 * span, 1e-300))
    near = np.abs(x[peaks] - centre) <= window
    if not near.any():
        return float("nan")
    k = int(np.flatnonzero(near)[np.argmax(props["prominences"][near])])
    top, prom = int(peaks[k]), float(props["prominences"][k])
    base = float(v[top]) - prom
    lo = hi = top
    while lo > 0 and v[lo - 1] - base >= 0.5 * prom:
        lo -= 1
    while hi < len(v) - 1 and v[hi + 1] - base >= 0.5 * prom:
        hi += 1
    lo, hi = max(0, min(lo, top - 1)), min(len(v) - 1, max(hi, top + 1))
    t, h = x[lo:hi + 1] - x[top], v[lo:hi + 1] - base
    if t.size < 3 or not (h > 0).all():
        return float(x[top])
    a, b, _ = np.polyfit(t, 1.0 / h, 2)
    pos = float(x[top] - b / (2.0 * a)) if a > 0 else float(x[top])
    return pos if x[lo] <= pos <= x[hi] else float(x[top])


def _global_offset(w: NDArray[np.float64], y: NDArray[np.float64],
                   bands: NDArray[np.float64], window: float) -> float:
    """The one shift (cm-1, within +-``window``) that best lines up the spectrum with the
    standard's bands: the correlation of first derivatives (backgrounds drop out) with
    Lorentzians of equal height at the reference shifts, on a 0.25 cm-1 grid."""
    from scipy.signal import savgol_filter

    order = np.argsort(w)
    x = w[order]
    fine = np.arange(x[0], x[-1], 0.25)
    if fine.size < 4 * _SG_POINTS:  # under 40 cm-1: no room to line anything up
        return 0.0
    d = savgol_filter(np.interp(fine, x, y[order]), _SG_POINTS, 2, deriv=1)
    n_lag = round(window / 0.25)
    lags = 0.25 * np.arange(-n_lag, n_lag + 1)
    # the model once, on the grid widened by the window each way; a lag is a slice of it
    wide = fine[0] + 0.25 * np.arange(-n_lag, fine.size + n_lag)
    model = np.zeros(wide.size)
    for b in bands:
        model += 1.0 / (1.0 + ((wide - b) / 5.0) ** 2)
    dm_all = np.gradient(model)
    score = np.empty(lags.size)
    for i in range(lags.size):  # model shifted by lags[i]: its value at fine - lag
        dm = dm_all[2 * n_lag - i:2 * n_lag - i + fine.size]
        score[i] = float(d @ dm) / (float(np.linalg.norm(d) * np.linalg.norm(dm)) or 1.0)
    j = int(np.argmax(score))
    if 0 < j < lags.size - 1:
        y0, y1, y2 = score[j - 1:j + 2]
        curv = y0 - 2.0 * y1 + y2
        if curv < 0:
            return float(lags[j] + 0.25 * 0.5 * (y0 - y2) / curv)
    return float(lags[j])


def check_axis(spectra: Spectra, standard: str, *, window: float = WINDOW) -> AxisCheck:
    """Compare the bands of a measured standard with their reference shifts.

    The spectrum is first lined up with the standard as a whole (one shift within
    +-``window``, :func:`_global_offset`), then each band is looked for within 6 cm-1 (or
    one and a half grid steps, if more) of where that shift puts it (:func:`find_band`).

    Parameters
    ----------
    spectra : Spectra
        One or more spectra of the standard on one axis (their mean is used).
    standard : str
        A key of :data:`STANDARDS`.
    window : float
        The largest axis error looked for, cm-1.

    Raises
    ------
    RamancamError
        An unknown standard, spectra on several axes, or no band of the standard inside the
        spectra's range.
    """
    if standard not in STANDARDS:
        raise RamancamError(f"standard must be one of {', '.join(STANDARDS)}; got "
                            f"{standard!r}.")
    from ._inputs import finite_number

    if isinstance(window, bool) or not (finite_number(window) and 0 < float(window) < 1e3):
        raise RamancamError(f"window must be a positive number of cm-1 (default {WINDOW:g}); "
                            f"got {window!r}.")
    if not spectra.has_common_axis:
        raise RamancamError("spectra of a standard must share one axis; got spectra on "
                            f"{len(spectra)} different axes. Check one file at a time.")
    w = np.asarray(spectra.wavenumbers, dtype=np.float64)
    y = np.asarray(spectra.X, dtype=np.float64).mean(axis=0)
    lo, hi = float(w.min()) + 5.0, float(w.max()) - 5.0
    ref = np.asarray([b for b in STANDARDS[standard] if lo <= b <= hi], dtype=np.float64)
    if not ref.size:
        raise RamancamError(
            f"spectra of {standard} must cover at least one of its bands "
            f"({', '.join(f'{b:g}' for b in STANDARDS[standard])} cm-1); got an axis of "
            f"{w.min():g} to {w.max():g} cm-1.")
    order = np.argsort(w)
    noise = _noise(y[order])
    shift = _global_offset(w, y, ref, window) if w.size >= 50 else 0.0
    reach = max(6.0, 1.5 * float(np.median(np.abs(np.diff(w[order])))))
    found = np.asarray([find_band(w, y, b + shift, window=reach, noise=noise) for b in ref])
    dev = found - ref
    # a band farther than the search window (the global shift plus the local reach can
    # reach ~21 cm-1) is no band of the standard: a spectrum of something else gave offsets
    # of +17.6 cm-1 "found" that way
    far = np.abs(dev) > window
    found, dev = np.where(far, np.nan, found), np.where(far, np.nan, dev)
    ok = np.isfinite(dev)
    # a spectrum of something else shares a band or two with any standard: no offset then
    enough = ok.sum() >= math.ceil(MIN_FOUND * ref.size)
    offset = float(np.median(dev[ok])) if enough else float("nan")
    spread = float(dev[ok].max() - dev[ok].min()) if enough else float("nan")
    taller = _taller_band(w, y, found[0], noise) if ref.size == 1 and enough else float("nan")
    return AxisCheck(standard, ref, found, offset, spread, taller)


def _taller_band(w: NDArray[np.float64], y: NDArray[np.float64], at: float,
                 noise: float) -> float:
    """The shift of the spectrum's most prominent band above 100 cm-1 (the laser line's
    wing left out) when it is at least twice as prominent as the band at ``at``, else
    ``nan``."""
    from scipy.signal import find_peaks

    order = np.argsort(w)
    x, v = w[order], y[order]
    span = float(np.ptp(v)) if v.size else 0.0
    peaks, props = find_peaks(v, prominence=max(MIN_SNR * noise, 1e-9 * span, 1e-300))
    keep = x[peaks] > 100.0
    peaks, prom = peaks[keep], props["prominences"][keep]
    if not peaks.size:
        return float("nan")
    mine = prom[int(np.argmin(np.abs(x[peaks] - at)))]
    k = int(np.argmax(prom))
    return float(x[peaks[k]]) if prom[k] >= 2.0 * mine else float("nan")


def check_each(spectra: Spectra, standard: str, *, window: float = WINDOW) -> list[AxisCheck]:
    """:func:`check_axis` of every spectrum on its own (a standard measured day by day: the
    drift of the axis), spectra on different axes included."""
    if standard not in STANDARDS:
        raise RamancamError(f"standard must be one of {', '.join(STANDARDS)}; got "
                            f"{standard!r}.")
    out = []
    for i, (w, y) in enumerate(zip(spectra.axes, spectra.intensities, strict=True)):
        try:
            out.append(check_axis(Spectra(np.asarray(y, dtype=np.float64)[None, :], w),
                                  standard, window=window))
        except RamancamError as e:
            raise RamancamError(f"spectrum {spectra.ids[i]}: {e}") from None
    return out


def _signed(v: float, width: int = 0) -> str:
    """``v`` with its sign and one decimal, never "-0.0"."""
    return f"{round(float(v), 1) + 0.0:+{width}.1f}"


def format_each(checks: list[AxisCheck], ids: list[str]) -> str:
    """The per-spectrum lines ``ramancam info --standard`` prints for several spectra."""
    from ._labels import pad, text_width

    width = max(8, *(text_width(i) for i in ids))  # terminal columns: '石英' takes 4
    lines = [f"per spectrum ({len(checks)}):", f"  {pad('id', width)}  {'offset':>7}  bands"]
    stretched = 0
    for c, i in zip(checks, ids, strict=True):
        off = _signed(c.offset, 7) if math.isfinite(c.offset) else f"{'-':>7}"
        mark = ""
        if math.isfinite(c.offset) and c.spread > MAX_SPREAD:
            mark, stretched = "  *", stretched + 1
        lines.append(f"  {pad(i, width)}  {off}  {c.n_found}/{c.reference.size}{mark}")
    if stretched:
        lines.append(f"  *: the bands' deviations differ by more than {MAX_SPREAD:g} cm-1 "
                     f"({stretched} spectr{'um' if stretched == 1 else 'a'}): a stretched axis, "
                     "or not a spectrum of the standard; one offset does not describe it")
    offs = np.asarray([c.offset for c in checks])
    offs = offs[np.isfinite(offs)]
    if offs.size >= 2:
        lines.append(f"drift: offsets {_signed(offs.min())} to {_signed(offs.max())} cm-1 (sd "
                     f"{offs.std(ddof=1):.1f}) over {offs.size} spectra, in file order")
    return "\n".join(lines)


def format_check(check: AxisCheck) -> str:
    """The lines ``ramancam info --standard`` prints."""
    lines = [f"calibration ({check.standard}, {SOURCES[check.standard]}): {check.n_found} of "
             f"{check.reference.size} bands in range found",
             f"  {'band':>8}  {'measured':>9}  {'deviation':>9}"]
    for r, m in zip(check.reference, check.measured, strict=True):
        lines.append(f"  {r:8.1f}  {m:9.1f}  {_signed(m - r, 9)}" if math.isfinite(m)
                     else f"  {r:8.1f}  {'-':>9}  {'-':>9}")
    if not check.n_found:
        lines.append("axis: no band of the standard found (too weak, or more than "
                     f"{WINDOW:g} cm-1 off); is this a spectrum of {check.standard}?")
        return "\n".join(lines)
    if not math.isfinite(check.offset):
        lines.append(f"axis: only {check.n_found} of {check.reference.size} bands found, too "
                     f"few to read an offset; is this a spectrum of {check.standard}?")
        return "\n".join(lines)
    ok = np.isfinite(check.measured)
    dev = (check.measured - check.reference)[ok]
    where = (f"median of {check.n_found} bands, {_signed(dev.min())} to {_signed(dev.max())}"
             if check.n_found > 1 else "one band")
    text = f"axis: offset {_signed(check.offset)} cm-1 ({where})"
    if check.spread > MAX_SPREAD:
        text += (f"; the bands' deviations differ by {check.spread:.1f} cm-1, so the axis is "
                 "stretched as well as shifted: one offset does not fix it, recalibrate the "
                 "instrument")
    elif abs(check.offset) < 0.5:
        text += "; within 0.5 cm-1: nothing to correct"
    else:
        text += (f"; correct spectra from this instrument with --axis-offset "
                 f"{_signed(-check.offset)}")
    lines.append(text)
    if math.isfinite(check.taller):
        lines.append(f"note: the spectrum's strongest band is at {check.taller:.1f} cm-1, far "
                     f"stronger than the one near {check.reference[0]:g} cm-1: a spectrum of "
                     f"{check.standard} has none such. Is this a spectrum of "
                     f"{check.standard}? If not, the offset above means nothing.")
    return "\n".join(lines)


def plot_check(check: AxisCheck, w: ArrayLike, y: ArrayLike, fig: Any, *, title: str = ""
               ) -> None:
    """Draw each band of a measured standard in a panel of its own (+-``WINDOW`` around the
    reference): the spectrum, the reference shift (dashed grey) and the band found (red,
    its deviation in the panel's title), on a matplotlib ``Figure``."""
    w = np.asarray(w, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(w)
    w, y = w[order], y[order]
    n = check.reference.size
    cols = min(n, 6)
    axes = np.atleast_1d(fig.subplots((n + cols - 1) // cols, cols, squeeze=False)).ravel()
    for ax, r, m in zip(axes, check.reference, check.measured, strict=False):
        inside = np.abs(w - r) <= WINDOW + 5.0
        ax.plot(w[inside], y[inside], color="0.2", lw=0.9, marker=".", ms=2)
        ax.axvline(r, color="0.5", ls="--", lw=0.8)
        found = math.isfinite(m)
        if found:
            ax.axvline(m, color="tab:red", lw=1.0)
        ax.set_title(f"{r:g}: {_signed(m - r)}" if found else f"{r:g}: not found",
                     fontsize=8, color="tab:red" if found else "0.4")
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.supxlabel("Raman shift (cm-1)", fontsize=8)
    fig.suptitle(title or f"{check.standard}: reference (dashed) and found (red) band "
                 "positions, deviation in cm-1", fontsize=9)
