"""Readers and writers of Raman spectra; everything returns a :class:`~ramancam.Spectra`.

* :func:`read` - a file or a folder, the reader chosen by content;
* :func:`read_table` / :func:`write_table` - wide CSV/TSV tables (also ``.gz``), one spectrum
  per row, one column per Raman shift; ``write_table`` output reads back exactly;
* :func:`read_two_column` - (shift, intensity) text with ``#`` comments;
* :func:`read_rruff` - RRUFF text (``##KEY=value`` headers become metadata);
* :func:`read_long_map` - long map exports, one row per (x, y, shift, intensity) (WiRE);
* :func:`read_folder` - a folder of such files, labels from sub-folders, a manifest, a header
  key or a file-name regex;
* :func:`atomic_write` - the way every file of this package is written;
* :func:`describe` - the summary ``ramancam info`` prints; :func:`example_path` - the built-in
  synthetic example table.

Every problem with the input is a one-line :class:`~ramancam.RamancamError` naming the file
(and line, where there is one) and what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import RamancamError
from ..spectra import Spectra
from ._atomic import atomic_write
from ._text import KNOWN_TYPES, TEXT_SUFFIXES, check_exists, read_text
from .folder import LABEL_SOURCES, labeller, parse_labels_from, read_file, read_folder, sniff_kind
from .longmap import read_long_map
from .summary import describe
from .table import read_table, write_table
from .xy import read_rruff, read_two_column

__all__ = [
    "KNOWN_TYPES",
    "LABEL_SOURCES",
    "TEXT_SUFFIXES",
    "atomic_write",
    "describe",
    "example_path",
    "read",
    "read_file",
    "read_folder",
    "read_long_map",
    "read_rruff",
    "read_table",
    "read_two_column",
    "sniff_kind",
    "write_table",
]


def example_path() -> Path:
    """Path of the built-in example: a SYNTHETIC wide table, 3 classes x 4 spectra.

    Lorentzian bands on a sloped background with noise, on an uneven ascending axis from 300
    to 1900 cm-1; label column ``label``. Made by ``ramancam.io._example`` (not measured).
    """
    return Path(__file__).resolve().parent.parent / "data" / "example.csv"


def read(path: str | os.PathLike[str], *, label_col: str | None = None,
         labels_from: str | None = None) -> Spectra:
    """Read a file or a folder of spectra.

    Parameters
    ----------
    path : str or path-like
        A wide table, two-column text or RRUFF text file (``.gz`` too; the layout is sniffed
        from the content), or a folder of such files.
    label_col : str, optional
        Wide tables: the column holding the class label.
    labels_from : {"folder", "header:KEY", "regex:R", "manifest:F"}, optional
        Folders: where labels come from (see :func:`read_folder`). For a single two-column or
        RRUFF file ``header:KEY`` and ``regex:R`` work too.

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
    p = check_exists(path)
    if label_col is not None and labels_from is not None:
        raise RamancamError(
            f"labels must come from one place; got label_col={label_col!r} and "
            f"labels_from={labels_from!r}. Use label_col for wide tables, labels_from for "
            "folders.")
    if p.is_dir():
        if label_col is not None:
            raise RamancamError(
                f"label_col applies to wide-table files; got a folder {str(p)!r}. Use "
                f"labels_from ({', '.join(LABEL_SOURCES)}) for folders.")
        return read_folder(p, labels_from=labels_from)
    if labels_from is None:
        return read_file(p, label_col=label_col)
    kind, arg = parse_labels_from(labels_from)
    if kind not in ("header", "regex"):
        raise RamancamError(
            f"labels_from for a single file must be header:KEY or regex:R; got "
            f"{labels_from!r}. Point at the folder to use {kind} labels.")
    text = read_text(p)
    if sniff_kind(text) == "table":
        raise RamancamError(
            f"labels_from applies to folders and single text spectra; got the wide table "
            f"{str(p)!r}. Use label_col (--label-col) for tables.")
    s = read_file(p)
    return s.replace(labels=np.array(labeller(kind, arg, p.parent)(p, s)))
