"""Reading one file of any known kind, and folders of such files with labels and groups.

Text files are told apart by content (:func:`sniff_kind`); instrument formats by suffix:
``.spc`` (Galactic SPC, :func:`~ramancam.io.spc.read_spc`), ``.wdf`` (Renishaw WiRE,
:func:`~ramancam.io.wdf.read_wdf`), ``.jdx``/``.dx``/``.jcamp`` (JCAMP-DX,
:func:`~ramancam.io.jcamp.read_jcamp`; a JCAMP-DX file with a text suffix is recognised by
its ``##TITLE=``/``##JCAMP-DX=`` lines).

Labels for a folder come from ``labels_from`` (or, for a folder of wide tables, from a label
column ``label_col`` of every table):

* ``"folder"``: the name of the sub-folder (directly under the folder read) holding the file;
* ``"header:KEY"``: a ``##KEY=value`` header of each file (e.g. ``header:NAMES`` for RRUFF);
* ``"regex:R"``: the first group of regular expression ``R`` searched in the file name (the
  whole match when ``R`` has no group);
* ``"id:R"``: the same, searched in each spectrum's ``id`` (a column table's header names,
  a table's ``id`` column), e.g. ``id:(.+)_\\d+`` for spectra named ``PE_1``, ``PE_2``;
* ``"manifest:F"``: a CSV file ``F`` with columns ``file`` and ``label``; the files it lists
  (relative to the folder read) are read, in its order.

Groups (``groups_from``, same forms; a manifest then needs a ``group`` column) become the
metadata column ``group``, for group-aware cross validation.

Files may have different axes; the result then has per-spectrum axes and must be resampled
before it can be stacked into a matrix.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import (
    READ_WHOLE_ADVICE,
    NotEnoughMemoryError,
    RamancamError,
    first_of,
    named_error,
    where,
)
from ..spectra import Spectra
from ._text import (
    TEXT_SUFFIXES,
    VENDOR_SUFFIXES,
    base_suffix,
    check_exists,
    check_gzip_read,
    check_utf8_path,
    decode_head,
    is_known_file,
    is_number,
    known_types_text,
    read_text,
    split_member,
    vendor_format,
)
from .excel import read_excel
from .exports import export_kind, parse_bwtek, parse_ocean
from .jcamp import looks_like_jcamp, read_jcamp
from .longmap import looks_long, parse_long_map
from .matlab import read_mat
from .omnic import read_omnic
from .opus import read_opus
from .sif import read_sif
from .spc import read_spc
from .table import _list, _skip_comments, parse_table, sniff_delimiter
from .tidy import looks_tidy, parse_tidy
from .wdf import read_wdf
from .xy import LABSPEC_MIN_SETTINGS, is_labspec_setting, parse_xy, two_numbers

__all__ = ["GROUP_COL", "LABEL_SOURCES", "file_format", "labeller", "parse_labels_from",
           "read_file", "read_folder", "sniff_kind"]

#: The metadata column that ``groups_from`` fills.
GROUP_COL = "group"

#: Instrument formats (Excel is read by read_file itself: it takes a label column).
_VENDOR_READERS: dict[str, Callable[[Path], Spectra]] = {
    "spc": read_spc, "wdf": read_wdf, "jcamp": read_jcamp, "opus": read_opus, "sif": read_sif,
    "omnic": read_omnic}

LABEL_SOURCES = ("folder", "header:KEY", "regex:R", "id:R", "manifest:F")


def sniff_kind(text: str) -> str:
    """Guess a text file's layout: ``"tidy"``, ``"long"``, ``"rruff"``, ``"labspec"``,
    ``"two_column"`` or ``"table"``.

    A long table (a row per point: shift and intensity columns beside id or label columns;
    :func:`ramancam.io.tidy.looks_tidy`) is ``"tidy"``; a long map export (rows of x, y,
    shift, intensity; :func:`ramancam.io.longmap.looks_long`) is ``"long"``; ``##KEY=value``
    lines before the data mean RRUFF; otherwise a first data line with more than two fields
    means a wide table, and two fields (or fewer) a two-column file (``"labspec"`` when
    Horiba LabSpec's ``#Key=<TAB>value`` settings precede it). Two numbers with decimal
    commas between spaces (``400,5 2,98``), two fields and a separator after them
    (``400,1.5,``), and a line of column titles over lines of two numbers (``Raman Shift
    Intensity``) are two-column text too.
    """
    if looks_tidy(text):
        return "tidy"
    if looks_long(text):
        return "long"
    pos = 0
    n = len(text)
    settings = 0  # Horiba LabSpec's "#Key=<TAB>value" lines
    while pos < n:
        end = text.find("\n", pos)
        end = n if end < 0 else end
        raw = text[pos:end]
        line = raw.strip()
        pos = end + 1
        if not line:
            continue
        if line.startswith("##") and "=" in line:
            return "rruff"
        if line.startswith("#"):
            settings += bool(is_labspec_setting(raw.rstrip("\r")))
            continue
        delimiter = sniff_delimiter(line)
        fields = line.split() if delimiter is None else line.split(delimiter)
        if len(fields) > 2 and not fields[-1].strip():
            fields = fields[:-1]  # a separator after the last field ("400,1.5,")
        if len(fields) > 2 and not two_numbers(line) and not (
                # a line of column titles between spaces ("Raman Shift   Intensity", the
                # titles' own spaces counted as separators) over two columns
                delimiter is None and not any(is_number(f) for f in fields)
                and two_numbers(_next_data_line(text, pos))):
            return "table"
        return "labspec" if settings >= LABSPEC_MIN_SETTINGS else "two_column"
    return "two_column"


def _next_data_line(text: str, pos: int) -> str:
    """The first line from offset ``pos`` on that is neither blank nor a ``#`` comment."""
    for raw in text[pos:pos + 65536].split("\n"):
        line = raw.strip()
        if line and not line.startswith("#"):
            return line
    return ""


def file_format(path: str | os.PathLike[str]) -> str:
    """The format of one file, as the readers see it: ``"spc"``, ``"wdf"``, ``"jcamp"``,
    ``"opus"``, ``"ocean"``, ``"bwtek"``, ``"table"``, ``"two_column"``, ``"rruff"``, ...
    (see ``FORMAT_NAMES`` for display names).

    Instrument formats are told by suffix; text files by content (the first 64 KiB).
    """
    p, _ = split_member(path)
    fmt = vendor_format(p)
    if fmt is not None:
        return fmt
    raw = b""
    if p.is_file():  # only the start: the file may be larger than memory
        with p.open("rb") as fh:
            raw = fh.read(65536)
    if raw[:2] == b"\x1f\x8b":
        import gzip

        with gzip.open(p, "rb") as fh:
            raw = fh.read(65536)
    text = decode_head(raw)  # a byte-order mark, UTF-16: as the readers decode the file
    if looks_like_jcamp(text):
        return "jcamp"
    return export_kind(text) or sniff_kind(text)


def read_file(path: str | os.PathLike[str], *, label_col: str | None = None) -> Spectra:
    """Read one file, choosing the reader from its suffix and content.

    Parameters
    ----------
    path : str or path-like
        A wide table, two-column text or RRUFF text file (``.gz`` too), or an instrument
        file: Galactic SPC (``.spc``), Renishaw WiRE (``.wdf``), JCAMP-DX (``.jdx``/``.dx``),
        Bruker OPUS (``.0``, ``.1``, ...), Andor SIF (``.sif``), Thermo OMNIC
        (``.spa``/``.spg``), or an Excel workbook (``.xlsx``/``.xlsm``/``.xls``) or MATLAB
        file (``.mat``); for those two, ``FILE:NAME`` reads the sheet or the matrix of
        spectra called NAME.
    label_col : str, optional
        For wide tables (and workbooks, MATLAB files): the label column (variable). Giving
        it forces the wide-table reader for text files.

    Returns
    -------
    Spectra
        The file's spectra, with the labels and metadata it holds.

    Raises
    ------
    RamancamError
        Missing path, unknown suffix (the known types are listed), ``label_col`` for an
        instrument file, or any reader error.
    """
    p, member = split_member(path)
    p = check_exists(p)
    if p.is_dir():
        raise RamancamError(f"{p} must be a file here; got a folder. Use read_folder.")
    if not is_known_file(p):
        sfx = base_suffix(p) or "no suffix"
        raise RamancamError(
            f"file {p} must be of a known type; got {sfx!r}. {known_types_text()}.")
    check_gzip_read(p)  # .mat.gz, .xlsx.gz, .sif.gz, ...: said, not called damaged
    fmt = vendor_format(p)
    if fmt == "excel":  # a wide table in a workbook
        return read_excel(p, label_col=label_col, sheet=member)
    if fmt == "matlab":  # a matrix with per-spectrum variables, like a table
        return read_mat(p, label_col=label_col, variable=member)
    if fmt is not None:
        if label_col is not None:
            raise RamancamError(
                f"label_col applies to wide tables; got the {fmt.upper()} file {p} with "
                f"label_col={label_col!r}. Use labels_from (--labels-from) for instrument "
                "files.")
        return _VENDOR_READERS[fmt](p)
    text = read_text(p)
    if looks_like_jcamp(text) and label_col is None:
        return read_jcamp(p)
    export = export_kind(text) if label_col is None else None
    if export is not None:  # Ocean Insight or B&W Tek: a header of settings, then the data
        return (parse_ocean if export == "ocean" else parse_bwtek)(text, source=str(p))
    # a row per point, with id/label columns (label_col is one of them): a long table
    kind = ("tidy" if looks_tidy(text) else "table" if label_col is not None
            else sniff_kind(text))
    # The text is handed over, not kept here: the parsers let it go once the numbers are
    # read, so that a large file is not held twice.
    held = [text]
    del text
    if kind == "tidy":
        return parse_tidy(held.pop(), source=str(p), label_col=label_col)
    if kind == "long":  # WiRE's long x, y, shift, intensity rows
        return parse_long_map(held.pop(), source=str(p))
    if kind == "table":
        return parse_table(held.pop(), source=str(p), label_col=label_col)
    return parse_xy(held.pop(), source=str(p), headers=kind == "rruff")


def parse_labels_from(spec: str, what: str = "labels_from") -> tuple[str, str]:
    """Split a ``labels_from`` (or ``groups_from``) value into (kind, argument), checking
    the kind."""
    kind, _, arg = spec.partition(":")
    if kind == "folder" and not arg:
        return kind, ""
    if kind == "manifest" and arg:  # ~ as a shell leaves it after 'manifest:'
        return kind, os.path.expanduser(arg)
    if kind in ("header", "regex", "id") and arg:
        return kind, arg
    raise named_error(lambda n: (
        f"{n(what)} must be one of {', '.join(LABEL_SOURCES)}; got {spec!r}. "
        "E.g. header:NAMES or regex:(.+)\\.txt"))


#: Notes kept beside spectra (``README.txt``, ``LICENSE.txt``, ...): never read as spectra
#: unless a pattern asks for them.
_NOTES = re.compile(r"^(readme|licen[cs]e|notice|notes?|changelog|changes)([._-]|$)",
                    re.IGNORECASE)


def _find_files(root: Path, pattern: str | None, *, say_notes: bool = True,
                classes: bool = False) -> list[Path]:
    """The spectrum files in ``root`` and its sub-folders (symbolic links to folders
    followed), in path order: those with a known suffix (not notes), or those ``pattern``
    matches (:func:`_matches`). Hidden files and folders, a disk's system folders
    (:data:`_SYSTEM`) and the lock files Excel leaves beside an open workbook
    (``~$book.xlsx``) are never read; links whose target is missing are said in a warning,
    and so are files left out for a note's name (``say_notes``: a spectrum named
    ``notes_1.csv`` was lost without a word) and folders that could not be listed
    (:func:`_walk`; ``classes``: its first-level folders are classes)."""
    parts, anchored = (None, False) if pattern is None else _pattern_parts(root, pattern)
    files = []
    broken: list[str] = []  # links whose target is gone
    special: list[str] = []  # named pipes, sockets, devices: not read, and said
    notes: list[str] = []  # files of a known suffix left out for their names
    reach = None if parts is None else (parts, anchored)
    for f in _walk(root, reach, classes=classes, say_unlisted=say_notes):
        if f.name.startswith("~$"):
            continue
        rel = f.relative_to(root).as_posix()
        if parts is None:
            if not is_known_file(f):
                continue
            if _NOTES.match(f.name):
                if f.is_file():
                    notes.append(rel)
                continue
        elif not _matches(parts, rel.split("/") if anchored else [f.name]):
            continue
        if f.is_file():
            files.append((rel, f))
        elif f.is_symlink() and not f.exists():
            broken.append(f"{rel} -> {os.readlink(f)}")
        elif f.exists() and not f.is_dir():  # reading a named pipe would wait for ever
            special.append(f"{rel} ({_special_kind(f)})")
    if broken:  # said: it was left out without a word
        import warnings

        from ..errors import RamancamWarning

        n = len(broken)
        lead, its, it, s = (("lead", "their targets are", "they are", "s") if n > 1 else
                            ("leads", "its target is", "it is", ""))
        warnings.warn(RamancamWarning(
            f"{n} link{s} in {str(root)!r} {lead} to no file ({its} missing), so {it} not "
            f"read: {first_of(sorted(broken), 3)}. Restore {its.rsplit(' ', 1)[0]} or delete "
            f"the link{s}."), stacklevel=3)
    if special:  # said: "--files b.txt" then found no file without a word why
        import warnings

        from ..errors import RamancamWarning

        n = len(special)
        warnings.warn(RamancamWarning(
            f"{n} entr{'ies' if n > 1 else 'y'} in {str(root)!r} {'are' if n > 1 else 'is'} "
            f"not a regular file, so not read: {first_of(sorted(special), 3)}. Copy the "
            "spectra into a regular file."), stacklevel=3)
    if notes and say_notes:
        _say_notes(root, sorted(notes))
    files.sort()
    for rel, _ in files:
        check_utf8_path(rel, root)
    return [f for _, f in files]


def _say_notes(root: Path, notes: list[str]) -> None:
    """Warn of the files ``notes`` (paths in ``root``) left out of a folder read for a
    note's name (:data:`_NOTES`)."""
    import warnings

    from ..errors import RamancamWarning, first_of

    n = len(notes)
    are, their, they, them = (("are", "their names are those", "some are spectra", "them")
                              if n > 1 else ("is", "its name is one", "it is a spectrum",
                                             "it"))
    warnings.warn(RamancamWarning(
        f"{n} file{'s' if n > 1 else ''} of a readable kind in {str(root)!r} {are} not read "
        f"because {their} of notes (README, LICENSE, NOTICE, NOTES, CHANGELOG or CHANGES, "
        f"then '.', '_' or '-'): {first_of(notes, 3)}. If {they}, rename {them}, or name the "
        "files to read with --files GLOB (pattern= in Python)."), stacklevel=4)


#: Folders a file system or an operating system keeps at a disk's root, skipped as hidden
#: ones are: a root-only ``lost+found`` (0700) stopped every read of a data disk's root.
_SYSTEM = frozenset({"lost+found", "system volume information", "$recycle.bin"})


def _special_kind(f: Path) -> str:
    import stat

    mode = f.stat().st_mode
    return ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device")


def _walk(root: Path, reach: tuple[list[str], bool] | None = None, *, classes: bool = False,
          say_unlisted: bool = True) -> list[Path]:
    """Every file under ``root`` outside hidden and system folders, not hidden itself,
    following links to folders (``rglob`` skipped a class folder that was a link). A folder
    is read once: the folders of ``root`` by their own paths first, then the links met in
    them, in path order (a link to a folder of ``root``, met first, took its files and their
    labels), each into a folder not read yet; a link back up is no loop. ``reach``: the
    parts of a file pattern and whether it is anchored (:func:`_pattern_parts`); folders it
    cannot reach are not listed. A folder that cannot be listed refuses the read
    (:func:`_unlisted`) when its files are needed: ``root`` itself, a class folder
    (``classes``: those of the first level), one a pattern reaches; any other is named in a
    warning (``say_unlisted``) and left out."""
    seen: set[str] = set()
    out: list[Path] = []
    twice: list[str] = []
    unlisted: list[tuple[str, OSError]] = []
    links: list[Path] = [root]

    def rel(folder: str) -> tuple[str, ...]:
        return tuple(p for p in Path(os.path.relpath(folder, root)).parts if p != ".")

    def refused(exc: OSError) -> None:  # a folder that cannot be listed
        where = rel(str(exc.filename if exc.filename is not None else root))
        if not where or (classes and len(where) == 1) or reach is not None:
            _unlisted(root, exc)  # its spectra, or a class, would be missing
        unlisted.append(("/".join(where), exc))

    while links:  # root, then each link to a folder, its own links after it
        start = links.pop(0)
        for top, dirs, names in os.walk(start, onerror=refused):
            real = os.path.realpath(top)
            if real in seen:
                dirs[:] = []
                twice.append(Path(top).relative_to(root).as_posix())
                continue
            seen.add(real)
            here = rel(top)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and d.lower() not in _SYSTEM
                             and (reach is None or _reaches(reach, [*here, d])))
            links += [Path(top) / d for d in dirs if os.path.islink(os.path.join(top, d))]
            out += [Path(top) / n for n in sorted(names) if not n.startswith(".")]
    if unlisted and say_unlisted:
        _say_unlisted(root, unlisted)
    if twice:  # said: the files of such a link are not read (again) under its name
        import warnings

        from ..errors import RamancamWarning

        many = len(twice) > 1
        lead, its = ("lead", "their") if many else ("leads", "its")
        warnings.warn(RamancamWarning(
            f"{len(twice)} linked folder{'s' if many else ''} in {str(root)!r} {lead} to a "
            f"folder read already, so {its} files are read once, under that folder's own "
            f"name: {first_of(sorted(twice), 3)}."), stacklevel=4)
    return out


def _reaches(reach: tuple[list[str], bool], folders: list[str]) -> bool:
    """Whether a file under the folder path ``folders`` (relative to the folder read) can
    match the pattern ``reach`` (parts, anchored): one without a ``/`` reaches every
    folder."""
    import fnmatch

    parts, anchored = reach
    if not anchored:
        return True

    def fits(parts: list[str], names: list[str]) -> bool:
        if not names:
            return bool(parts)  # a part is left for the file's name
        if not parts:
            return False
        if parts[0] == "**":
            return fits(parts[1:], names) or fits(parts, names[1:])
        return fnmatch.fnmatchcase(names[0].lower(), parts[0].lower()) and \
            fits(parts[1:], names[1:])

    return fits(parts, folders)


def _say_unlisted(root: Path, unlisted: list[tuple[str, OSError]]) -> None:
    """Warn of the folders in ``root`` that could not be listed and were not needed
    (:func:`_walk`): their files are not read."""
    import warnings

    from ..errors import RamancamWarning, first_of

    n = len(unlisted)
    causes = sorted({exc.strerror or str(exc) for _, exc in unlisted})
    s, their, they, hold, them = (("s", "their", "they", "hold", "them") if n > 1 else
                                  ("", "its", "it", "holds", "it"))
    warnings.warn(RamancamWarning(
        f"{n} folder{s} in {str(root)!r} could not be listed ({', '.join(causes)}), so "
        f"{their} files are not read: {first_of(sorted(f for f, _ in unlisted), 3)}. If "
        f"{they} {hold} spectra, give read and search permission (chmod u+rx), or move "
        f"{them} out of the folder."), stacklevel=5)


def _unlisted(root: Path, exc: OSError) -> None:
    """Refuse the folder read when ``os.walk`` could not list one of its folders (``exc``):
    its spectra, and with ``--labels-from folder`` their class, would be missing."""
    folder = str(exc.filename if exc.filename is not None else root)
    sub = os.path.realpath(folder) != os.path.realpath(root)
    fix = (f"Give read and search permission (chmod u+rx {shlex.quote(folder)})"
           if exc.errno in (errno.EACCES, errno.EPERM) else "Check the folder and its disk")
    raise RamancamError(
        f"folder {folder!r}" + (f" (in the folder read, {str(root)!r})" if sub else "")
        + f" must be readable to list its files; got {exc.strerror or exc}"
        + (", and the set would lack its spectra" if sub else "") + f". {fix}"
        + (f", or move it out of {str(root)!r}." if sub else ".")) from None


def _pattern_parts(root: Path, pattern: str) -> tuple[list[str], bool]:
    """``pattern``'s parts relative to ``root`` (``.`` and empty parts dropped), and whether
    it is anchored at ``root`` (it holds a ``/``: else its file name is matched in every
    sub-folder). An absolute one must lie inside ``root``; one that names a folder (``A/``,
    the folder itself) is refused."""
    text = pattern.replace(os.sep, "/")
    anchored = "/" in text
    if os.path.isabs(pattern):
        text = _inside(root, text)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    literal = not any(c in pattern for c in "*?[")
    if not parts or text.endswith("/") or (literal and (root / "/".join(parts)).is_dir()):
        raise RamancamError(
            f"file patterns must name files; got {pattern!r}, "
            + ("the folder read" if not parts else "a folder")
            + ". Give its files, e.g. '*.txt' or 'A/*' (every file of A).")
    return parts, anchored


def _inside(root: Path, pattern: str) -> str:
    """An absolute ``pattern`` relative to ``root``: by its text against the folder's
    spellings (as given, absolute, resolved, under $PWD: the current folder may be reached
    through a link), else by the longest start of its fixed folders that resolves to the
    folder (``/x/Dlink/C/*.txt`` with ``Dlink`` a link to the folder read and ``C`` a linked
    class folder in it)."""
    bases = [str(root), os.path.abspath(root), os.path.realpath(root)]
    if not root.is_absolute() and os.environ.get("PWD"):
        bases.append(os.path.normpath(os.path.join(os.environ["PWD"], root)))
    for base in bases:
        head = base.replace(os.sep, "/").rstrip("/") + "/"
        if pattern.startswith(head):
            return pattern[len(head):]
    split = pattern.split("/")
    fixed = next((i for i, p in enumerate(split) if any(c in p for c in "*?[")),
                 len(split))
    real = os.path.realpath(root)
    for k in range(fixed, 0, -1):
        if os.path.realpath("/".join(split[:k]) or "/") == real:
            return "/".join(split[k:])
    raise RamancamError(
        f"file patterns must lie inside the folder read ({str(root)!r}); got {pattern!r}. "
        "Give the pattern relative to the folder, e.g. '*.txt' or 'A/*.txt'.")


def _matches(parts: list[str], names: list[str]) -> bool:
    """Whether the path ``names`` (its folders and file name) matches the glob ``parts``,
    case ignored as the default selection ignores it (``*.spc`` takes ``A.SPC``): each part
    as :mod:`fnmatch` reads it, ``**`` any number of folders."""
    import fnmatch

    if not parts:
        return not names
    if parts[0] == "**":
        return any(_matches(parts[1:], names[i:]) for i in range(len(names) + 1))
    return bool(names) and fnmatch.fnmatchcase(names[0].lower(), parts[0].lower()) \
        and _matches(parts[1:], names[1:])


def _read_manifest(spec: str, root: Path, column: str = "label"
                   ) -> tuple[list[Path], list[str]]:
    mpath = Path(spec)
    if not mpath.is_file() and (root / spec).is_file():
        mpath = root / spec
    if not mpath.is_file():
        raise RamancamError(
            f"manifest must be an existing CSV file (columns file,{column}); got {spec!r}, "
            f"which is neither a file nor a file in {str(root)!r}. Check the path.")
    text = read_text(mpath)
    start, line0 = _skip_comments(text)
    if start < 0:
        raise RamancamError(
            f"manifest {mpath} must have a header row file,{column} and one row per file; got "
            "an empty file. Fill it in.")
    body = text[start:]
    delimiter = sniff_delimiter(body.split("\n", 1)[0]) or ","
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        rows = [(line0 + reader.line_num - 1, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise RamancamError(
            f"manifest {mpath} must be valid CSV; got a parse error ({exc}). Fix its quoting."
        ) from None
    header = [h.strip().lower() for h in rows[0][1]]
    if "file" not in header or column not in header:
        raise RamancamError(
            f"manifest {mpath} must have columns 'file' and '{column}'; got {_list(header)}. "
            f"Rename its header to file,{column}.")
    fi, li = header.index("file"), header.index(column)
    files: list[Path] = []
    labels: list[str] = []
    seen: dict[Path, tuple[int, str]] = {}
    for lineno, row in rows[1:]:
        if len(row) <= max(fi, li):
            raise RamancamError(
                f"{where(mpath, lineno)}every manifest row must have a file and a {column}; "
                f"got {len(row)} fields. Complete that row.")
        name, label = row[fi].strip(), row[li].strip()
        f = Path(name) if Path(name).is_absolute() else root / name
        if not f.is_file():
            raise RamancamError(
                f"{where(mpath, lineno)}listed files must exist in {str(root)!r}; got "
                f"{name!r}, which is not there. Fix the name or remove the row.")
        if not label:
            raise RamancamError(
                f"{where(mpath, lineno)}{column}s must not be empty; got an empty {column} "
                f"for {name!r}. Fill it in.")
        first, was = seen.setdefault(f.resolve(), (lineno, label))
        if first != lineno:
            raise RamancamError(
                f"{where(mpath, lineno)}every file must be listed once; got {name!r} again "
                f"(line {first} lists it too, {column} {was!r} there). Remove one of the "
                "rows.")
        files.append(f)
        labels.append(label)
    if not files:
        raise RamancamError(
            f"manifest {mpath} must list at least one file; got only a header. Add rows "
            f"file,{column}.")
    return files, labels


def _first_group(rx: re.Pattern[str], text: str) -> str | None:
    """The first group of ``rx`` searched in ``text`` (the whole match without groups)."""
    m = rx.search(text)
    return None if m is None else (m.group(1) if rx.groups else m.group(0))


def _check_names(rx: re.Pattern[str], arg: str, files: Sequence[Path],
                what: str = "labels_from") -> None:
    """Refuse ``files`` whose names ``rx`` (``regex:ARG`` of ``what``) finds no label in,
    all of them counted and the first few named, before any is read."""
    bad = [f.name for f in files if not _first_group(rx, f.name)]
    if not bad:
        return
    shown = first_of([repr(b) for b in bad], 3)
    got = (shown + (f" ({len(bad)} of {len(files)} files)" if len(files) > 1 else "")
           if len(bad) == 1 else f"{len(bad)} of {len(files)} files that do not: {shown}")
    raise named_error(lambda n: (
        f"file names must match the regex of {n(what, 'regex:' + arg)} with a non-empty "
        f"group; got {got}. Adjust the regex or the file pattern."))


def labeller(kind: str, arg: str, root: Path, what: str = "labels_from"
             ) -> Callable[[Path, Spectra], list[str]]:
    """A function giving the labels (or groups: ``what="groups_from"``) of the spectra read
    from one file."""
    if kind == "folder":
        def by_folder(f: Path, s: Spectra) -> list[str]:
            rel = f.relative_to(root)
            if len(rel.parts) < 2:
                opt = "--" + what.replace("_", "-")
                head = f"file {f} must sit in a sub-folder named after its class for "
                where = f"; got it directly in {str(root)!r}. Move it into a class folder"
                raise RamancamError(f"{head}{what}='folder'{where} or use another {what}.",
                                    cli=f"{head}{opt} folder{where} or use another {opt}.")
            return [rel.parts[0]] * len(s)
        return by_folder
    if kind == "header":
        def by_header(f: Path, s: Spectra) -> list[str]:
            key = arg if arg in s.meta else next(
                (k for k in s.meta if k.lower() == arg.lower()), None)
            if key is None:
                raise named_error(lambda n: (
                    f"file {f} must have a ##{arg}= header line for "
                    f"{n(what, 'header:' + arg)}; got headers {_list(list(s.meta))}. Use one "
                    "of those keys."))
            vals = [str(v) for v in s.meta[key].tolist()]
            if not all(vals):
                said = (f"file {f}: header {key!r} must not be empty to serve as a label; "
                        "got ''. Fill it in or use another ")
                raise RamancamError(said + f"{what}.",
                                    cli=said + "--" + what.replace("_", "-") + ".")
            return vals
        return by_header
    if kind in ("regex", "id"):
        try:
            rx = re.compile(arg)
        except re.error as exc:
            why = str(exc)
            raise named_error(lambda n: (
                f"the regex of {n(what, kind + ':' + arg)} must be a valid regular expression "
                f"({why}). "
                f"Fix the expression, e.g. {kind}:(.+)_\\d+")) from None

        def by_id(f: Path, s: Spectra) -> list[str]:
            if "id" not in s.meta:
                raise named_error(lambda n: (
                    f"file {f} must give its spectra ids (a column table's header names, or "
                    f"an 'id' column) for {n(what, 'id:' + arg)}; got metadata "
                    f"{_list(list(s.meta))}. Use header:KEY or a label column instead."))
            out = []
            for v in s.meta["id"].tolist():
                label = _first_group(rx, str(v))
                if not label:
                    raise named_error(lambda n, v: (
                        f"file {f}: spectrum ids must match the regex of "
                        f"{n(what, 'id:' + arg)} with a non-empty group; got {str(v)!r}. "
                        "Adjust the regex."), v)
                out.append(label)
            return out

        if kind == "id":
            return by_id

        def by_regex(f: Path, s: Spectra) -> list[str]:
            _check_names(rx, arg, [f], what)
            return [_first_group(rx, f.name) or ""] * len(s)
        return by_regex
    raise named_error(lambda n: (
        f"{n(what)} kind must be folder, header, regex or id here; got {kind!r}."))


def _concat(parts: list[Spectra]) -> Spectra:
    """:meth:`Spectra.concat`, keeping numeric metadata numeric (positions ``x``/``y``,
    laser wavelength, ...): a numeric column missing in some files is NaN there, not ``""``.
    """
    if len(parts) == 1:
        return parts[0]
    out = Spectra.concat(parts)
    meta = dict(out.meta)
    changed = False
    for k in meta:
        kinds = {p.meta[k].dtype.kind if k in p.meta else "" for p in parts}
        if not kinds - {""} or not kinds - {""} <= {"f", "i", "u"}:
            continue
        if kinds <= {"i", "u"}:
            meta[k] = np.concatenate([p.meta[k] for p in parts]).astype(np.int64)
        else:
            meta[k] = np.concatenate([p.meta[k].astype(np.float64) if k in p.meta
                                      else np.full(len(p), np.nan) for p in parts])
        changed = True
    return out.replace(meta=meta) if changed else out


def _file_groups(kind: str, arg: str, root: Path, spec: str) -> Callable[[Path, Spectra],
                                                                        list[str]]:
    """A function giving the groups of the spectra read from one file (``groups_from``)."""
    if kind != "manifest":
        return labeller(kind, arg, root, what="groups_from")
    files, groups = _read_manifest(arg, root, column=GROUP_COL)
    table = {f.resolve(): g for f, g in zip(files, groups, strict=True)}

    def by_manifest(f: Path, s: Spectra) -> list[str]:
        g = table.get(f.resolve())
        if g is None:
            raise RamancamError(
                f"file {f} must be listed in the groups manifest ({spec}); got no row for it. "
                "Add a row file,group for it.")
        return [g] * len(s)
    return by_manifest


def one_label_source(label_col: str | None, labels_from: str | None) -> None:
    """Refuse labels from two places (``read`` and ``read_folder`` both take either)."""
    if label_col is not None and labels_from is not None:
        raise named_error(lambda n: (
            f"labels must come from one place; got {n('label_col', label_col)} and "
            f"{n('labels_from', labels_from)}. Use {n('label_col')} for wide tables, "
            f"{n('labels_from')} for folders and single spectrum files."))


def add_groups(s: Spectra, groups: list[str], source: object) -> Spectra:
    """``s`` with the metadata column ``group`` set to ``groups`` (one per spectrum)."""
    if GROUP_COL in s.meta:
        raise named_error(lambda n: (
            f"{n('groups_from')} must not replace an existing metadata column; {source} "
            f"already has a column {GROUP_COL!r}. Use it with {n('group_col')} {GROUP_COL} "
            "instead."))
    return s.replace(meta={**s.meta, GROUP_COL: np.array(groups, dtype=str)})


def _note_unlisted(root: Path, listed: list[Path], manifests: list[str]) -> None:
    """Warn of the spectrum files in ``root`` that a labels manifest leaves out (they are
    not read): a manifest that misses a file by a typo dropped it without a word."""
    import warnings

    from ..errors import RamancamWarning, first_of

    skip = {p.resolve() for spec in manifests
            for p in (Path(spec), root / spec) if p.is_file()}
    seen = {f.resolve() for f in listed}
    try:
        found = _find_files(root, None, say_notes=False)  # a manifest names its files
    except RamancamError:
        return
    left = [f for f in found if f.resolve() not in seen and f.resolve() not in skip]
    if left:
        names = [str(f.relative_to(root)) for f in left]
        warnings.warn(RamancamWarning(
            f"{len(left)} file{'s' if len(left) > 1 else ''} of a readable kind in "
            f"{str(root)!r} {'are' if len(left) > 1 else 'is'} not in the manifest, so not "
            f"read: {first_of(names, 3)}. Add a row for each to read them."), stacklevel=3)


def read_folder(path: str | os.PathLike[str], *, labels_from: str | None = None,
                pattern: str | None = None, label_col: str | None = None,
                groups_from: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> Spectra:
    """Read every spectrum file in a folder (and its sub-folders) into one :class:`Spectra`.

    Parameters
    ----------
    path : str or path-like
        The folder.
    labels_from : {"folder", "header:KEY", "regex:R", "id:R", "manifest:F"}, optional
        Where labels come from (see the module docstring); ``None``: unlabelled.
    pattern : str, optional
        Glob pattern of the files to read (searched in all sub-folders unless it contains a
        ``/``; case ignored; ``**`` spans folders); by default every file with a known
        suffix except notes (``README*``, ``LICENSE*``/``LICENCE*``, ``NOTICE*``,
        ``NOTE*``/``NOTES*``, ``CHANGELOG*``, ``CHANGES*``; such files of a known suffix
        are named in a :class:`~ramancam.RamancamWarning`). Hidden files and folders, a
        disk's system folders (``lost+found``, ``System Volume Information``,
        ``$RECYCLE.BIN``) and Excel's lock files (``~$*``) are skipped; links to folders
        are followed. A sub-folder that cannot be listed stops the read where its files
        are needed (a class folder with ``labels_from="folder"``, one ``pattern`` reaches),
        else it is named in a warning. Ignored
        with a manifest, which lists the files itself.
    label_col : str, optional
        A folder of wide tables: the label column of every table (instead of
        ``labels_from``). Each table keeps its own axis.
    groups_from : {"folder", "header:KEY", "regex:R", "id:R", "manifest:F"}, optional
        Where groups come from (a manifest needs columns ``file,group``); they fill the
        metadata column ``group``.
    progress : callable(done, total), optional
        Called after each file is read with the files read so far and the files to read
        (the command line prints a line every 10 s of a long read); silent by default.

    Returns
    -------
    Spectra
        One entry per spectrum in file-path order (manifest order with a manifest);
        ``sources`` names each file; metadata columns missing in some files are ``""``.
        Files with different axes give a per-spectrum-axes set.

    Raises
    ------
    RamancamError
        Missing folder, no files matched (the folder and pattern are named), a bad
        ``labels_from``/``groups_from``, both ``labels_from`` and ``label_col``, a file
        without the label or group it asks for, or any reader error.
    """
    root = check_exists(path)
    if not root.is_dir():
        raise RamancamError(f"{root} must be a folder here; got a file. Use read().")
    one_label_source(label_col, labels_from)
    if progress is not None and not callable(progress):
        raise RamancamError(f"progress must be a function progress(done, total) of the files "
                            f"read; got {progress!r}. Give a function, or None.")
    kind, arg = parse_labels_from(labels_from) if labels_from is not None else ("", "")
    gkind, garg = (parse_labels_from(groups_from, "groups_from") if groups_from is not None
                   else ("", ""))
    labels_per_file: list[str] | None = None
    if kind == "manifest":
        files, labels_per_file = _read_manifest(arg, root)
        _note_unlisted(root, files, [arg] + ([garg] if gkind == "manifest" else []))
    else:
        files = _find_files(root, pattern, classes="folder" in (kind, gkind))
    if gkind == "manifest":  # a groups manifest inside the folder is not a spectrum file
        mpath = Path(garg) if Path(garg).is_file() else root / garg
        files = [f for f in files if not (mpath.is_file() and f.samefile(mpath))]
    if not files:
        shown = pattern or " ".join([f"*{s}[.gz]" for s in TEXT_SUFFIXES]
                                    + [f"*{s}" for s in VENDOR_SUFFIXES]
                                    + ["*.0 *.1 ... (OPUS)"])
        raise RamancamError(
            f"folder {str(root)!r} must contain spectrum files matching {shown}; got none. "
            + ("Check the folder or the pattern." if pattern else
               "Check the folder; files of other suffixes are not read: rename text "
               "spectra to .txt."))
    label_of = labeller(kind, arg, root) if kind and kind != "manifest" else None
    group_of = _file_groups(gkind, garg, root, str(groups_from)) if gkind else None
    for k, a, w in ((kind, arg, "labels_from"), (gkind, garg, "groups_from")):
        if k == "regex":  # every file name, before any file is read (compiled above)
            _check_names(re.compile(a), a, files, w)
    parts: list[Spectra] = []
    for i, f in enumerate(files):
        try:
            s = read_file(f, label_col=label_col)
        except NotEnoughMemoryError:
            raise
        except MemoryError:  # (the generic line named no file)
            raise NotEnoughMemoryError(
                f"file {f}: not enough memory to read it (file {i + 1} of {len(files)} in "
                f"{str(root)!r}, read whole beside the spectra of the files before it). "
                + READ_WHOLE_ADVICE) from None
        except (RamancamError, FileNotFoundError) as exc:
            if not f.exists():  # "Check the spelling and the current folder" misled
                raise RamancamError(
                    f"file {f} must still be there; it was in {str(root)!r} when the folder "
                    "was listed, and was deleted or moved while the folder was being read. "
                    "Read the folder again once nothing else changes it.") from None
            # a label column the files lack is about the option, not a stray file
            if not isinstance(exc, RamancamError) or pattern is not None or (
                    kind == "manifest") or (label_col is not None
                                            and "label column" in str(exc)):
                raise
            raise RamancamError(
                f"{exc} If it is not a spectrum, move it out of the folder or name the files "
                "to read with --files GLOB (pattern= in Python).") from None
        if labels_per_file is not None:
            s = s.replace(labels=np.full(len(s), labels_per_file[i]))
        elif label_of is not None:
            s = s.replace(labels=np.array(label_of(f, s)))
        if group_of is not None:
            s = add_groups(s, group_of(f, s), f)
        parts.append(s)
        if progress is not None:
            progress(i + 1, len(files))
    return _concat(parts)
