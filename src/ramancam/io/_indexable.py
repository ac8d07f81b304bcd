"""The start of a text file that :mod:`ramancam.io.longrows` and
:mod:`ramancam.io.tablerows` index (read only where asked), or ``None`` for one they leave
to be read whole."""

from __future__ import annotations

import os
from pathlib import Path

from ._rows import HEAD_BYTES, is_gzip, open_bytes
from ._text import check_exists


def indexable_head(path: str | os.PathLike[str], scratch: str | os.PathLike[str] | None
                   ) -> tuple[Path, bytes] | None:
    """The checked path and its first :data:`~ramancam.io._rows.HEAD_BYTES` bytes
    (un-gzipped); ``None`` for a gzipped file without a ``scratch`` folder (a gzip stream
    cannot be read back where indexed) and for a binary one (a NUL byte in its head).

    Raises
    ------
    RamancamError
        If nothing is at ``path`` (:func:`ramancam.io._text.check_exists`).
    """
    p = check_exists(path)
    if scratch is None and is_gzip(p):  # no reading back from a gzip stream
        return None
    with open_bytes(p) as fh:
        head_bytes = fh.read(HEAD_BYTES)
    if b"\x00" in head_bytes:
        return None
    return p, head_bytes
