"""``-`` as the input of a command: the spectra come from standard input.

``cat spectra.csv | ramancam predict model.ramancam - --out preds.csv``. The bytes are
copied to a file in a private temporary folder (the readers sniff, seek and sometimes read a
file twice, which a pipe cannot do), named ``stdin`` with the suffix its first bytes call for:
gzip, WiRE ``.wdf``, SPC, Andor SIF, Excel and MATLAB files say what they are in their first
bytes; anything else is text (``stdin.txt``: wide tables, two-column, RRUFF, JCAMP-DX and the
vendors' text exports are told apart by their content, as for a file). Bruker OPUS and Thermo
OMNIC files carry no such mark: give them as files. The folder is removed when the command
ends; error lines name "standard input", not the temporary file.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RamancamError

#: The arguments that name a command's input (DATA of train, predict, explain, baseline;
#: IN of convert; PATH of info).
INPUTS = ("data", "input", "path")

#: What the first bytes of a binary file say it is, as a file name's suffix.
_MAGIC = ((b"\x1f\x8b", ".txt.gz"), (b"WDF1", ".wdf"), (b"PK\x03\x04", ".xlsx"),
          (b"\xd0\xcf\x11\xe0", ".xls"), (b"MATLAB 5.0", ".mat"),
          (b"Andor Technology", ".sif"))

#: Said in place of the temporary file's path.
NAME = "standard input"


def suffix_of(head: bytes) -> str:
    """The suffix under which the readers take a file that starts with ``head``."""
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    # SPC: a flags byte, then the version byte 'K' (new format, little-endian), 'L' (new,
    # big-endian) or 'M' (old); text never has a control or non-ASCII byte before them
    if len(head) > 1 and head[1:2] in (b"K", b"L", b"M") and not 0x20 <= head[0] < 0x7F:
        return ".spc"
    return ".txt"


class _Spooled:
    """The temporary file standing for standard input, and how to speak of it."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def plain(self, text: str) -> str:
        """``text`` with the temporary file's path (and its folder's) as "standard input"."""
        if self.path is None:
            return text
        return (text.replace(f"file {self.path}", NAME).replace(str(self.path), NAME)
                .replace(str(self.path.parent), f"the folder of {NAME}"))


spooled = _Spooled()


def shown_as(path: Any) -> str:
    """How to name a command's input in what it prints and records: "standard input" for
    the temporary file of ``-``, else the path as given."""
    return NAME if spooled.path is not None and str(path) == str(spooled.path) else str(path)


@contextlib.contextmanager
def _spool_folder() -> Iterator[str]:
    """A private temporary folder for the copy of standard input, removed afterwards."""
    try:
        made = tempfile.TemporaryDirectory(prefix="ramancam-stdin-")
    except OSError as exc:
        raise _no_room(exc) from None
    with made as folder:
        yield folder


def _no_room(exc: OSError) -> RamancamError:
    """The error for a copy of standard input that could not be written (``exc``)."""
    import errno
    import os

    try:
        folder = tempfile.gettempdir()
    except OSError:  # none usable: TMPDIR's, or the system's
        folder = os.environ.get("TMPDIR") or "/tmp"
    tmpdir = os.environ.get("TMPDIR")
    where = (f"{folder!r} (TMPDIR)" if tmpdir and os.path.abspath(tmpdir) == folder else
             f"the temporary folder {folder!r} (TMPDIR names another)")
    if not tmpdir:
        where = f"the temporary folder {folder!r}"
    limit = ", raise the file size limit (ulimit -f)" if exc.errno == errno.EFBIG else ""
    return RamancamError(
        f"input '-' is copied to a temporary file in {where}, which must have room for it; "
        f"got {exc.strerror or exc}. Set TMPDIR to a folder on a disk with room{limit}, or "
        "give the file's path instead of '-'.")


@contextlib.contextmanager
def stdin_input(args: argparse.Namespace, stream: Any = None) -> Iterator[None]:
    """Copy standard input to a temporary file when the command's input is ``-``, put that
    file's path in ``args`` for the command's run, and remove it afterwards."""
    names = [n for n in INPUTS if getattr(args, n, None) == "-"]
    if not names:
        yield
        return
    stream = sys.stdin if stream is None else stream
    if stream is None or getattr(stream, "closed", False):
        raise RamancamError(
            "input '-' reads the spectra from standard input, which is closed; pipe a file "
            "in (cat FILE | ramancam ... -) or give the file's path")
    if stream.isatty():
        raise RamancamError(
            "input '-' reads the spectra from standard input, which is a terminal; pipe a "
            "file in (cat FILE | ramancam ... -) or give the file's path")
    source = getattr(stream, "buffer", stream)
    with _spool_folder() as folder:
        tmp = Path(folder) / "stdin.part"
        try:
            with tmp.open("wb") as fh:
                shutil.copyfileobj(source, fh, 1 << 20)
        except OSError as exc:  # a full or size-limited TMPDIR: the raw text named no file
            raise _no_room(exc) from None
        with tmp.open("rb") as fh:
            head = fh.read(64)
        if not head:
            raise RamancamError(
                "input '-': standard input is empty; pipe a spectra file in (cat FILE | "
                "ramancam ... -) or give the file's path")
        path = tmp.rename(tmp.with_name("stdin" + suffix_of(head)))
        for n in names:
            setattr(args, n, str(path))
        spooled.path = path  # kept for the error line; main() forgets it when it is said
        yield
