"""Which spectra say, in their file, that their x axis is a Raman shift already.

``--laser-nm`` (:func:`ramancam.io.wavelength_to_shift`) converts an axis of wavelengths;
an axis the file states in cm-1 must not be converted again (a JCAMP-DX ``##XUNITS=1/CM``,
an SPC ``XRAMANS``/``XWAVEN`` axis, an Ocean Insight or B&W Tek export in Raman shifts, a
WiRE or OPUS file, which are always read in Raman shift).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..spectra import Spectra
from ._text import vendor_format

__all__ = ["SHIFT_RANGE", "WRONG_NM", "nm_refusal", "stated_shift", "title_line_x",
           "wavelength_title"]

#: Raman shifts (cm-1) a converted wavelength axis may span: beyond them it was no wavelength
#: axis of a Raman measurement with that laser (or was converted already).
SHIFT_RANGE = (-5000.0, 6000.0)
#: How to read spectra whose file states nm wrongly (a title misread, a unit mistyped).
WRONG_NM = ("if the axis is a Raman shift already, make the file state its x unit as cm-1 "
            "(e.g. the x column titled 'Raman shift (cm-1)', ##XUNITS=1/CM)")

#: Formats whose spectra are always read in Raman shift (cm-1).
_ALWAYS_SHIFT = {"wdf": "a WiRE file, in Raman shift", "opus": "an OPUS file, in Raman shift"}


def says_shift(unit: str) -> bool:
    """Whether a stated x unit is a Raman shift or wavenumbers (cm-1), however spelt:
    ``1/CM``, ``cm-1``, ``cm⁻¹``, ``cm^(-1)``, ``CM−1`` (a Unicode minus), ``/cm``,
    ``1/CENTIMETERS``, ``INVERSE CM``, ``Raman shift (cm-1)``, ``wavenumbers``, SPC's
    ``XRAMANS``/``XWAVEN``."""
    u = "".join(unit.split()).lower()
    for a, b in (("\u2212", "-"), ("\u2013", "-"), ("⁻¹", "-1"), ("⁻", "-"), ("¹", "1"),
                 ("(", ""), (")", ""), ("**", "^"), ("centimeters", "cm"),
                 ("centimetres", "cm"), ("centimeter", "cm"), ("centimetre", "cm")):
        u = u.replace(a, b)
    letters = re.sub(r"[^a-z]", "", u)  # "Raman_Shift", "RAMAN-SHIFT", "Shift"
    return (u.startswith(("/cm", "xramans", "xwaven", "inversecm", "reciprocalcm"))
            or letters.startswith(("shift", "ramanshift", "wavenumber"))
            or any(t in u for t in ("cm-1", "cm^-1", "1/cm")))


#: Words of an x column's title that say wavelengths, and what they say: nm (1) or
#: micrometres (1000 nm each).
_WAVELENGTH_WORDS = {"nm": 1.0, "nanometer": 1.0, "nanometers": 1.0, "nanometre": 1.0,
                     "nanometres": 1.0, "wavelength": 1.0, "wavelengths": 1.0,
                     "lambda": 1.0, "λ": 1.0, "um": 1000.0, "µm": 1000.0, "μm": 1000.0,
                     "micron": 1000.0, "microns": 1000.0, "micrometer": 1000.0,
                     "micrometers": 1000.0, "micrometre": 1000.0, "micrometres": 1000.0}


#: Words of a title that say Raman shift or wavenumbers: no wavelength, whatever else it says.
_SHIFT_WORDS = frozenset(("raman", "shift", "shifts", "ramanshift", "wavenumber",
                          "wavenumbers", "cm"))
#: A number before a length unit (``785nm``, ``532 nm``, ``1.064 µm``): a laser line the
#: title names, not the unit of the axis.
_LASER_LINE = re.compile(r"\d\s*(?:nm|nanomet[a-z]*|[uµμ]m|microns?|micromet[a-z]*)"
                         r"(?![^\W\d_])", re.IGNORECASE)


def wavelength_title(title: str) -> float | None:
    """The nm per unit of an x column whose title states wavelengths (``Wavelength (nm)``,
    ``nm``, ``Lambda [nanometers]``: 1; ``Wavelength (µm)``: 1000), ``None`` for any other
    title (``Raman Shift (cm-1)``, ``x``). A micrometre unit beside the word wavelength
    wins; a title that mentions Raman, shift, wavenumbers or cm-1 in any spelling
    (``Raman_Shift_785nm``, ``Lambda shift``) is no wavelength, and nm after a number
    (``Sample 1 (532 nm)``, ``Shift (785nm laser)``) names a laser, not the axis."""
    if says_shift(title):
        return None
    words = re.findall(r"[^\W\d_]+", _LASER_LINE.sub(" ", title).lower())
    if _SHIFT_WORDS.intersection(words):
        return None
    said = [_WAVELENGTH_WORDS[w] for w in words if w in _WAVELENGTH_WORDS]
    return max(said) if said else None


def title_line_x(line: str) -> str:
    """The x column's title in a line of column titles: its first field when tabs, commas or
    semicolons part them; in a line parted by spaces only (``Wavelength (nm) Intensity``,
    ``Wavelength(nm) Raman_Intensity``, ``Shift Counts(532nm)``), its first word and the unit
    in brackets right after it, judged alone (Raman in the y title says nothing of the x
    axis), or ``""`` when the words right after it say Raman shift (``Lambda shift counts``,
    ``Wavelength Raman shift``: they may be the x title's own)."""
    if re.search(r"[\t,;]", line):
        return re.split(r"[\t,;]", line)[0]
    m = re.match(r"\s*\S+(?:\s*[(\[][^)\]]*[)\]])?", line)
    if m is None:
        return ""
    after = line[m.end():].split()[:2]  # "shift", "Raman shift", "Raman_Shift(cm-1)"
    return "" if after and says_shift(" ".join(after)) else m.group(0)


def stated_shift(spectra: Spectra) -> tuple[NDArray[np.bool_], list[str]]:
    """Per spectrum, whether its file states a Raman-shift (cm-1) axis, and how it says so
    (``"##XUNITS=1/CM"``, ``"x_units XRAMANS"``, ...; ``""`` where it does not): a metadata
    column ``x_units`` (SPC, OMNIC, SIF, the text exports) or ``xunits`` (JCAMP-DX) naming
    cm-1, or a WiRE or OPUS file."""
    n = len(spectra)
    said = [""] * n
    for key, how in (("x_units", "x_units {}"), ("xunits", "##XUNITS={}")):
        col = spectra.meta.get(key)
        if col is None:
            continue
        for i, v in enumerate(np.asarray(col).astype(str).tolist()):
            if not said[i] and says_shift(v):
                said[i] = how.format(v)
    for i, src in enumerate(spectra.sources):
        if not said[i] and src:
            said[i] = _ALWAYS_SHIFT.get(vendor_format(Path(src)) or "", "")
    return np.array([bool(s) for s in said], dtype=bool), said


def nm_refusal(source: object, axis: NDArray[np.float64]) -> str:
    """The refusal of spectra whose file states an axis in nm (``axis``), read without
    ``--laser-nm``: give the laser; or, where no laser of 150-2000 nm turns ``axis`` into
    Raman shifts (within :data:`SHIFT_RANGE`, some above 0), the file's unit is wrong
    (:data:`WRONG_NM`), for no ``--laser-nm`` would read it."""
    lo, hi = float(np.min(axis)), float(np.max(axis))
    # shifts are 1e7/laser - 1e7/nm: a laser wavenumber w of 5000-66667 cm-1 must put the
    # shift of hi above 0 and at most SHIFT_RANGE[1], that of lo at least SHIFT_RANGE[0]
    w_lo = max(1e7 / lo + SHIFT_RANGE[0], 1e7 / 2000.0) if lo > 0 else np.inf
    w_hi = min(1e7 / hi + SHIFT_RANGE[1], 1e7 / 150.0) if hi > 0 else -np.inf
    said = f"file {source} has its x axis in wavelengths (nm), as its header says"
    if w_lo <= w_hi and w_hi > 1e7 / hi:
        return (f"{said}; give --laser-nm NM (the excitation laser, e.g. 785) to convert it "
                "to Raman shift, or export the spectra in Raman shifts.")
    return (f"{said}, but {lo:g} to {hi:g} nm give Raman shifts with no laser; {WRONG_NM}, "
            "or export the spectra in Raman shifts.")
