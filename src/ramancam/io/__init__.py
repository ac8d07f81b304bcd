"""Readers and writers of Raman spectra; everything returns a :class:`~ramancam.Spectra`.

* :func:`read` - a file or a folder, the reader chosen by content;
* :func:`read_table` / :func:`write_table` - wide CSV/TSV tables (also ``.gz``), one spectrum
  per row, one column per Raman shift (or the transpose, one spectrum per column; decimal
  commas; empty cells at the ends of shorter spectra); ``write_table`` output reads back
  exactly;
* :func:`read_excel` - a sheet of an Excel workbook (openpyxl; the first unless named), read
  as a wide table;
* :func:`read_mat` - MATLAB files (scipy, h5py for v7.3): a matrix of spectra beside a vector
  of Raman shifts, the other per-spectrum variables as metadata;
* :func:`read_two_column` - (shift, intensity) text with ``#`` comments;
* :func:`read_rruff` - RRUFF text (``##KEY=value`` headers become metadata);
* :func:`read_long_map` - long map exports, one row per (x, y, shift, intensity) (WiRE);
* :func:`read_tidy` - long tables, one row per point beside id/label columns (pandas melt);
* :func:`read_spc`, :func:`read_wdf`, :func:`read_jcamp`, :func:`read_opus`,
  :func:`read_sif` - instrument files (Galactic SPC, Renishaw WiRE, JCAMP-DX, Bruker OPUS,
  Andor SIF) through their own libraries (``spc-io``, ``renishaw-wdf``, ``jcamp``,
  ``brukeropus``, ``sif_parser``), one spectrum per sub-file / collected spectrum / block /
  OPUS Raman block (or series row) / SIF frame, with the metadata the file carries (WDF map
  positions as float columns ``x``, ``y``); :func:`read_omnic` - Thermo OMNIC ``.spa``
  (read here: :mod:`ramancam.io.omnic` says why);
* Ocean Insight (OceanView, SpectraSuite) and B&W Tek (BWSpec) text exports, told by their
  headers whatever the suffix (:mod:`ramancam.io.exports`); an axis the header says is in nm
  keeps ``x_units`` ``"nm"`` for :func:`wavelength_to_shift`;
* :func:`read_folder` - a folder of such files, labels (and groups) from sub-folders, a
  manifest, a header key or a file-name regex, or from a label column of every wide table;
* :func:`wavelength_to_shift` - an axis of absolute wavelengths (nm, as some spectrometers
  export) converted to Raman shift with the laser wavelength (``--laser-nm``);
* :func:`atomic_write` - the way every file of this package is written;
* :func:`describe` - the summary ``ramancam info`` prints; :func:`example_path` - the built-in
  synthetic example table.

Every problem with the input is a one-line :class:`~ramancam.RamancamError` naming the file
(and line, where there is one) and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import RamancamError, named_error
from ..spectra import Spectra
from ._atomic import atomic_write, gz_name
from ._text import (
    FORMAT_NAMES,
    KNOWN_TYPES,
    TEXT_SUFFIXES,
    VENDOR_SUFFIXES,
    check_exists,
    check_path_type,
    split_member,
)
from ._vendor import nm_to_shift
from .excel import read_excel
from .folder import (
    GROUP_COL,
    LABEL_SOURCES,
    add_groups,
    file_format,
    labeller,
    one_label_source,
    parse_labels_from,
    read_file,
    read_folder,
    sniff_kind,
)
from .jcamp import read_jcamp
from .longmap import read_long_map
from .matlab import read_mat
from .omnic import read_omnic
from .opus import read_opus
from .sif import read_sif
from .spc import read_spc
from .summary import describe
from .table import read_table, write_table
from .tidy import read_tidy
from .wdf import read_wdf
from .xy import read_rruff, read_two_column

__all__ = [
    "FORMAT_NAMES",
    "GROUP_COL",
    "KNOWN_TYPES",
    "LABEL_SOURCES",
    "TEXT_SUFFIXES",
    "VENDOR_SUFFIXES",
    "atomic_write",
    "describe",
    "example_path",
    "file_format",
    "gz_name",
    "read",
    "read_excel",
    "read_file",
    "read_folder",
    "read_jcamp",
    "read_long_map",
    "read_mat",
    "read_omnic",
    "read_opus",
    "read_rruff",
    "read_sif",
    "read_spc",
    "read_table",
    "read_tidy",
    "read_two_column",
    "read_wdf",
    "sniff_kind",
    "wavelength_to_shift",
    "write_table",
]


def example_path() -> Path:
    """Path of the built-in example: a SYNTHETIC wide table, 3 classes x 4 spectra.

    Lorentzian bands on a sloped background with noise, on an uneven ascending axis from 300
    to 1900 cm-1; label column ``label``. Made by ``ramancam.io._example`` (not measured).
    """
    return Path(__file__).resolve().parent.parent / "data" / "example.csv"


def read(path: str | os.PathLike[str], *, label_col: str | None = None,
         labels_from: str | None = None, groups_from: str | None = None,
         files: str | None = None,
         progress: Callable[[int, int], None] | None = None) -> Spectra:
    """Read a file or a folder of spectra.

    Parameters
    ----------
    path : str or path-like
        A wide table, two-column text or RRUFF text file (``.gz`` too; the layout is sniffed
        from the content), an instrument file (Galactic SPC ``.spc``, Renishaw WiRE
        ``.wdf``, JCAMP-DX ``.jdx``/``.dx``, Bruker OPUS ``.0``, ``.1``, ..., Andor SIF
        ``.sif``), an Excel workbook (``.xlsx``, ``.xls``) or MATLAB file (``.mat``), or a
        folder of such files. ``FILE:NAME`` reads the sheet (workbook) or the matrix of
        spectra (MATLAB file) called NAME.
    label_col : str, optional
        Wide tables (a file, or a folder of them; workbooks; MATLAB files): the column (the
        variable) holding the class label. Empty cells give the label ``""`` (unlabelled).
    labels_from : {"folder", "header:KEY", "regex:R", "id:R", "manifest:F"}, optional
        Folders: where labels come from (see :func:`read_folder`). For a single file that is
        not a wide table ``header:KEY`` and ``regex:R`` work too; ``id:R`` (the first group of
        ``R`` searched in each spectrum's id: a column table's header names, an ``id``
        column) works for any file.
    groups_from : {"folder", "header:KEY", "regex:R", "id:R", "manifest:F"}, optional
        Same forms, for groups (e.g. the biological replicate in the file name); they fill
        the metadata column ``group`` (a manifest needs columns ``file,group``).
    files : str, optional
        Folders: a glob pattern of the files to read, e.g. ``"*.spc"`` (see
        :func:`read_folder`'s ``pattern``); by default every file with a known suffix.
    progress : callable(done, total), optional
        Folders: called after each file is read with the files read so far and the files
        to read (see :func:`read_folder`); silent by default.

    Returns
    -------
    Spectra
        Common-axis or per-spectrum-axes layout, as the files are.

    Raises
    ------
    RamancamError
        A path that does not exist, both label options at once, an option that does not
        apply to this kind of input, or any reader error.
    """
    check_path_type(path)
    p = check_exists(split_member(path)[0])
    one_label_source(label_col, labels_from)
    from .zarr_cube import is_cube, read_cube

    if p.is_dir() and is_cube(p):  # a Zarr cube read whole: labels from its truth array
        for value, opt in ((label_col, "label_col"), (labels_from, "labels_from"),
                           (groups_from, "groups_from"), (files, "files")):
            if value is not None:
                raise named_error(lambda n, opt, value: (
                    f"{n(opt)} must not be given for a Zarr cube; got {value!r}. A cube's "
                    "labels are its 'truth' array (written by convert from the map's label "
                    "column)."), opt, value)
        return _composed(read_cube(p))
    if p.is_dir():
        return _composed(read_folder(p, labels_from=labels_from, label_col=label_col,
                                     groups_from=groups_from, pattern=files,
                                     progress=progress))
    if files is not None:
        raise RamancamError(
            f"files (--files) chooses files in a folder; got the file {str(p)!r} and "
            f"files={files!r}. Drop it, or point at the folder.")
    s = read_file(path, label_col=label_col)
    for spec, what in ((labels_from, "labels_from"), (groups_from, "groups_from")):
        if spec is None:
            continue
        kind, arg = parse_labels_from(spec, what)
        if kind not in ("header", "regex", "id"):
            raise named_error(lambda n, what, spec, kind: (
                f"{n(what)} for a single file must be header:KEY, regex:R or id:R; got "
                f"{spec!r}. Point at the folder to use {kind} {what.split('_')[0]}."),
                what, spec, kind)
        if what == "labels_from" and kind != "id" and file_format(p) == "table":
            raise named_error(lambda n: (
                f"{n('labels_from')} applies to folders and single spectrum files; got the "
                f"wide table {str(p)!r}. Use {n('label_col')} for tables, or id:R for labels "
                "in the spectra's ids."))
        values = labeller(kind, arg, p.parent, what)(p, s)
        s = (s.replace(labels=np.array(values)) if what == "labels_from"
             else add_groups(s, values, p))
    return _composed(s)


def _composed(s: Spectra) -> Spectra:
    """Labels in one Unicode form (NFC): "café" from a folder macOS named (decomposed, as
    its file systems write names) and "café" typed elsewhere were two classes, every
    prediction of one counted wrong (model classes alike:
    :func:`~ramancam.spectra.composed_names`)."""
    if s.labels is None:
        return s
    import unicodedata

    distinct = set(s.labels.tolist())
    if all(v.isascii() for v in distinct):
        return s
    fixed = {v: unicodedata.normalize("NFC", v) for v in distinct}
    if all(k == v for k, v in fixed.items()):
        return s
    return s.replace(labels=np.array([fixed[v] for v in s.labels.tolist()], dtype=str))




def wavelength_to_shift(spectra: Spectra, laser_nm: float, *,
                        source: str | os.PathLike[str] | None = None) -> Spectra:
    """Convert an axis of absolute wavelengths in nm to Raman shift in cm-1.

    ``shift = 1e7 / laser_nm - 1e7 / wavelength`` (Stokes bands positive). The intensities,
    labels and metadata are kept; the metadata column ``laser_wavelength_nm`` records the
    laser. Instrument files that state their axis unit and laser (SPC, JCAMP-DX) are
    converted when read; this is for the others (text exports, files in nm without a laser:
    metadata ``x_units`` ``"nm"``). An axis wholly above 4500 cm-1 is taken for absolute
    wavenumbers of the scattered light and becomes ``1e7 / laser_nm - wavenumber``. Spectra
    whose file states a Raman-shift axis already (a JCAMP-DX ``##XUNITS=1/CM``, an SPC
    ``XRAMANS`` axis, an export whose ``x_units`` is ``cm-1``, a WiRE or OPUS file) are left
    as they are, unless it lies above 4500 cm-1, with a :class:`~ramancam.RamancamWarning`
    naming them; only axes in nm, of no stated unit or absolute are converted.

    Parameters
    ----------
    spectra : Spectra
        Spectra whose axis (or axes) are wavelengths in nm.
    laser_nm : float
        Excitation wavelength in nm (e.g. 532, 785, 1064).
    source : str, optional
        Where the spectra came from, named in error messages.

    Returns
    -------
    Spectra

    Raises
    ------
    RamancamError
        A laser wavelength that is not a plausible number, or an axis that does not convert
        to Raman shifts within -5000..6000 cm-1 with at least one positive (Stokes) shift:
        then the axis was no wavelength axis of this laser, or is a Raman shift already.
    """
    import warnings

    out, note = convert_wavelengths(spectra, laser_nm, source=source)
    if note:
        from ..errors import RamancamWarning

        warnings.warn(RamancamWarning(f"wavelength_to_shift: {note}"), stacklevel=2)
    return out


def convert_wavelengths(spectra: Spectra, laser_nm: float, *,
                        source: str | os.PathLike[str] | None = None) -> tuple[Spectra, str]:
    """:func:`wavelength_to_shift`, with the sentence that says which spectra were left as
    they are (their file states a Raman-shift axis; ``""`` when none were), for the command
    line to print as a note."""
    from ..errors import spectra_count, where
    from ._units import SHIFT_RANGE, WRONG_NM, stated_shift

    pre = where(None if source is None else str(source))
    try:
        laser = float(laser_nm)
    except (TypeError, ValueError):
        laser = float("nan")
    if not (np.isfinite(laser) and 150.0 <= laser <= 2000.0):
        from ..errors import named_error

        raise named_error(lambda n: (  # (--laser-nm on the command line)
            f"{n('laser_nm')} must be a number of nm between 150 and 2000 (e.g. 785); got "
            f"{laser_nm!r}."))
    from ..checks import looks_absolute

    keep, said = stated_shift(spectra)
    # above 4500 cm-1: absolute wavenumbers of the scattered light, even where the file says
    # cm-1 (a JCAMP-DX ##XUNITS=1/CM, an SPC XWAVEN axis): converted, not kept
    absolute = np.array([looks_absolute(a) for a in spectra.axes], dtype=bool)
    keep &= ~absolute
    said = [t if k else "" for t, k in zip(said, keep.tolist(), strict=True)]
    note = ""
    if keep.any():
        i = int(np.argmax(keep))
        n_kept = int(keep.sum())
        where_said = f"{Path(spectra.sources[i]).name}: " if spectra.sources[i] else ""
        many = n_kept > 1
        note = (f"{spectra_count(n_kept)} left as {'they are' if many else 'it is'}: "
                f"{'their files state' if many else 'its file states'} a Raman-shift axis "
                f"({'the first: ' if many else ''}{where_said}{said[i]}); "
                + (f"converted the other {spectra_count(len(spectra) - n_kept)}"
                   if not keep.all() else "none converted, so the laser wavelength does "
                   "nothing for these files"))
        if keep.all():
            return spectra, note
    axes = spectra.axes
    todo = np.flatnonzero(~keep)
    lo = min(float(axes[i].min()) for i in todo)
    hi = max(float(axes[i].max()) for i in todo)

    def shift(a: NDArray[np.float64], wavenumbers: bool = False) -> NDArray[np.float64]:
        """nm (or, ``wavenumbers``, absolute cm-1) to Raman shift."""
        return np.asarray(1e7 / laser - a if wavenumbers else nm_to_shift(a, laser),
                          dtype=np.float64)

    ends = [shift(np.array([axes[i].min(), axes[i].max()]), bool(absolute[i]))
            if absolute[i] or axes[i].min() > 0 else np.array([-np.inf, -np.inf])
            for i in todo]
    s_lo, s_hi = min(float(e.min()) for e in ends), max(float(e.max()) for e in ends)
    if not (SHIFT_RANGE[0] <= s_lo and s_hi <= SHIFT_RANGE[1] and s_hi > 0):
        all_abs = bool(absolute[todo].all())
        units = spectra.meta.get("x_units")
        stated = units is not None and bool((np.asarray(units)[todo].astype(str) == "nm").any())
        raise RamancamError(
            f"{pre}an axis of {'absolute wavenumbers' if all_abs else 'wavelengths'} must "
            f"convert to Raman shifts with a {laser:g} nm laser; got an axis of {lo:g} to "
            f"{hi:g}, which gives {s_lo:.0f} to {s_hi:.0f} cm-1. "
            + ("Check the laser: give the laser the spectra were measured with (shift = "
               "1e7 / laser nm - wavenumber)." if all_abs else
               # without --laser-nm a file stating nm is refused: dropping it is no way out
               f"Its header states the x unit as nm, so it was taken as wavelengths: "
               f"{WRONG_NM} and drop --laser-nm, or give the laser the spectra were measured "
               "with." if stated else
               "Drop --laser-nm if the axis is a Raman shift already, or give the laser the "
               "spectra were measured with."))
    old = spectra.meta.get("laser_wavelength_nm")
    lasers = np.full(len(spectra), laser)
    if keep.any() and old is not None:  # the spectra left as they are keep their own
        try:
            lasers[keep] = np.asarray(old)[keep].astype(np.float64)
        except ValueError:
            lasers[keep] = np.nan
    elif keep.any():
        lasers[keep] = np.nan
    meta = {**spectra.meta, "laser_wavelength_nm": lasers}
    if "x_units" in meta:  # a unit the file stated (an Ocean Insight export in nm)
        units = np.asarray(meta["x_units"]).astype(str)
        meta["x_units"] = np.where(units == "nm", "cm-1 (from nm)", units)
    if spectra.has_common_axis and not keep.any():
        return spectra.replace(wavenumbers=shift(spectra.wavenumbers, bool(absolute[0])),
                               meta=meta), note
    return spectra.replace(wavenumbers=[a if k else shift(a, b) for a, k, b in
                                        zip(axes, keep.tolist(), absolute.tolist(),
                                            strict=True)],
                           meta=meta), note
