"""What the instrument-format readers (SPC, JCAMP-DX, WDF, OPUS, SIF) share.

The format libraries raise whatever their parsing code happens to raise on a damaged file
(``ValueError``, ``struct.error``, ``IndexError``, ``UnicodeDecodeError``, ...), and some of
them print or log to the console. :func:`library_boundary` is the one place where that is
turned into a one-line :class:`~ramancam.RamancamError` naming the file, with the library's
console output swallowed.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import READ_WHOLE_ADVICE, NotEnoughMemoryError, RamancamError
from ._text import FORMAT_LABELS

__all__ = ["FORMAT_LABELS", "header_laser", "laser_nm", "library_boundary", "looks_like_text",
           "nm_to_shift", "no_memory", "time_text", "what_it_starts_with"]

_LOGGERS = ("spc_io", "jcamp", "wdf", "brukeropus", "sif_parser", "openpyxl", "xlrd", "h5py")


def looks_like_text(data: bytes) -> bool:
    """True when the first bytes are printable text (a text file given a binary suffix)."""
    head = data[:512]
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)


def what_it_starts_with(data: bytes, n: int = 4) -> str:
    """How an error names the start of a file that lacks its format's magic bytes: ``an
    empty file``, ``text content`` or its first ``n`` bytes."""
    return ("an empty file" if not data else "text content" if looks_like_text(data)
            else f"bytes {data[:n]!r} at the start")


def _short(exc: BaseException, limit: int = 80) -> str:
    msg = " ".join(str(exc).split())
    msg = msg if len(msg) <= limit else msg[:limit] + "..."
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def no_memory(path: Path, fmt: str, need: str = "") -> NotEnoughMemoryError:
    """The refusal of a ``fmt`` file whose reading ran out of memory; ``need``: what the
    file declares, as ``": its variable 'X' (50000x10000 double) needs 3.7 GiB"``.

    A valid file can declare more than there is (a compressed 4 MB MATLAB file can hold a
    4 GB matrix of zeros); the readers that can tell a damaged header (one that announces
    more data than the file holds: SPC, WDF, OPUS, MATLAB's tags) refuse it before the
    library reads, so this says what is known: reading the file needs more memory than
    this process can get."""
    advice = (READ_WHOLE_ADVICE if fmt == "wdf"  # convert copies a WDF map tile by tile
              else "Save the spectra in several smaller files, or use a machine with more "
                   "memory.")
    return NotEnoughMemoryError(
        f"file {path}: not enough memory to read this {FORMAT_LABELS[fmt]} file{need}; it is "
        f"read whole. {advice}")


@contextlib.contextmanager
def library_boundary(path: Path, fmt: str) -> Iterator[None]:
    """Run a format library quietly; any exception it raises becomes a RamancamError.

    Inside the block the library's prints go nowhere, its log records are dropped and its
    warnings are silenced. A :class:`~ramancam.RamancamError` raised inside passes unchanged.
    """
    loggers = [logging.getLogger(n) for n in _LOGGERS]
    saved = [lg.level for lg in loggers]
    for lg in loggers:  # children (spc_io.high_level.spc, ...) inherit the level
        lg.setLevel(logging.CRITICAL + 1)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except RamancamError:
        raise
    except MemoryError:
        raise no_memory(path, fmt) from None
    except Exception as exc:  # the libraries raise anything on damaged input
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:  # each library says it in its own words
                raise RamancamError(
                    f"file {path} must be a valid {FORMAT_LABELS[fmt]} file; got an empty "
                    "file (0 bytes). Check that the right file was given, or export it "
                    "again.") from None
        raise RamancamError(
            f"file {path} must be a valid {FORMAT_LABELS[fmt]} file; the reader failed "
            f"({_short(exc)}): the file is damaged, truncated or not of this format. "
            "Re-export it from the instrument software.") from None
    finally:
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)


#: A number and the unit written after it (``785 nm``, ``0.785µm``, ``250 mW``, ``25 °C``);
#: a unit's own digit (``cm-1``) only after its letters, so that in ``1 785 nm`` the ``7``
#: stays with its number.
_NUMBER_UNIT = re.compile(
    r"([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([°%]?(?:[^\W\d_]+(?:[-^/]?\d)?)?)")
#: Groove densities of a grating (``1800 l/mm``, ``600 gr/mm``): no wavelength.
_PER_MM = ("l/mm", "gr/mm", "g/mm", "lines/mm", "grooves/mm", "lp/mm", "/mm")
#: Units of a laser wavelength, and the factor to nm (``cm-1``: the laser's wavenumber).
_LENGTH_UNITS = {"": 1.0, "nm": 1.0, "nanometer": 1.0, "nanometers": 1.0,
                 "um": 1000.0, "µm": 1000.0, "μm": 1000.0, "micron": 1000.0,
                 "microns": 1000.0}
#: Ways of writing a wavenumber after a number (``12738.85 cm-1``: the laser's wavenumber).
_WAVENUMBER = ("cm-1", "cm^-1", "cm⁻¹", "1/cm", "/cm", "cm")
#: Units that say a number is no wavelength: a laser's power, current, voltage, temperature,
#: a time, a frequency, a share, a magnification, a length no laser line is written in.
_OTHER_UNITS = frozenset((
    "mw", "w", "kw", "uw", "µw", "μw", "watt", "watts", "milliwatt", "milliwatts", "mj", "j",
    "uj", "µj", "μj", "ma", "a", "amp", "amps", "v", "mv", "kv", "volt", "volts", "k", "c",
    "f", "°", "°c", "°f", "°k", "degc", "deg", "degree", "degrees", "celsius", "kelvin", "%",
    "s", "ms", "us", "µs", "μs", "ns", "ps", "fs", "sec", "secs", "second", "seconds", "min",
    "mins", "minute", "minutes", "h", "hr", "hrs", "hour", "hours", "hz", "khz", "mhz",
    "ghz", "db", "dbm", "x", "mm", "m", "pixel", "pixels", "px"))


def laser_nm(value: object) -> float | None:
    """A laser wavelength in nm from a header value such as ``785``, ``"532 nm"``,
    ``"785.0nm"``, ``"0.785 µm"``, ``"12738.85 cm-1"`` (the laser's wavenumber) or
    ``"633 HeNe"`` (a word that is no unit leaves the number a wavelength). Every number of
    the value is looked at: a plausible one (100-2000 nm) with a length unit wins
    (``"100 mW, 785 nm"``: 785), else the first plausible one without a unit; a number with
    another unit (``"250 mW"``, ``"25 °C"``, ``"1200 mA"``: a laser's power, temperature or
    current) is never the wavelength, nor is a grating's groove density (``"1800 l/mm"``);
    ``None`` when no number is left."""
    if isinstance(value, (int, float)):
        v = float(value)
        return v if 100.0 <= v <= 2000.0 else None
    text, at = str(value), 0
    with_unit: list[float] = []
    bare: list[float] = []
    while (m := _NUMBER_UNIT.search(text, at)) is not None:
        at = m.end()
        v, unit = float(m.group(1)), m.group(2).lower()
        after = "".join(text[m.end(1):].split()).lower()
        if after.startswith(_PER_MM):
            continue
        if after.startswith(_WAVENUMBER):  # the laser's wavenumber; "1/cm" read with it
            v, said = (1e7 / v if v > 0 else 0.0), True
            at = text.lower().index("cm", m.end(1)) + 2
        elif unit in _LENGTH_UNITS:
            v, said = v * _LENGTH_UNITS[unit], bool(unit)
        elif unit in _OTHER_UNITS:
            continue
        else:  # a word that is no unit ("633 HeNe", "785 NIR"): the number as it is
            said = False
        if 100.0 <= v <= 2000.0:
            (with_unit if said else bare).append(v)
    found = with_unit or bare
    return found[0] if found else None


#: Words of a header key that name something of a laser other than its wavelength.
_NOT_WAVELENGTH = ("power", "intens", "current", "temp", "energy", "time", "shutter", "atten",
                   "filter", "pulse", "freq", "duration", "width", "spot", "densit", "volt",
                   "mw", "(w)", "[w]", "(ma)", "[ma]", "serial", "model", "hours", "focus",
                   "objective", "grating", "slit", "class", "safety")
#: Words of a header key that name a wavelength.
_WAVELENGTH_KEY = ("wavelength", "lambda", "excitation", "nm", "line")


def header_laser(items: Iterable[tuple[str, object]],
                 names: tuple[str, ...] = ("laser", "excitation")) -> float | None:
    """The laser wavelength in nm that a file's header entries ``(key, value)`` state: the
    value (:func:`laser_nm`) of a key that mentions one of ``names`` and no power,
    intensity, current, temperature, ... (``Laser Power (mW)=250`` is no wavelength), keys
    naming a wavelength (``LASER WAVELENGTH``, ``Excitation``) before the others (``Laser``);
    ``None`` when none holds one."""
    found: list[tuple[int, float]] = []
    for key, value in items:
        k = str(key).lower()
        if not any(n in k for n in names) or any(w in k for w in _NOT_WAVELENGTH):
            continue
        v = laser_nm(value)
        if v is not None:
            found.append((0 if any(w in k for w in _WAVELENGTH_KEY) else 1, v))
    return min(found, key=lambda t: t[0])[1] if found else None


def nm_to_shift(wavelength_nm: Any, laser: float) -> Any:
    """Raman shift in cm-1 of absolute wavelengths in nm excited at ``laser`` nm:
    ``1e7 / laser - 1e7 / wavelength`` (Stokes bands positive). Every reader that converts
    a wavelength axis uses it."""
    return 1e7 / laser - 1e7 / wavelength_nm


def time_text(t: datetime | None) -> str:
    """ISO 8601 text of an acquisition time (``""`` when unknown)."""
    return "" if t is None else t.isoformat()
