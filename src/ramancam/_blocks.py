"""Work on spectra in blocks, one by one only inside a block that is refused.

Preparing spectra (a model's recipe in ``predict``, a fold's own recipe in ``train``) is
fast on a block and slow one call per spectrum; a refused spectrum (flat, not covering the
grid, a baseline above it) must not stop the others. :func:`in_blocks` runs a function on
consecutive blocks of rows and, where it raises :class:`~ramancam.errors.RamancamError`,
row by row inside that block, so a few refusals among thousands cost a few small calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .errors import RamancamError

__all__ = ["in_blocks"]

T = TypeVar("T")


def in_blocks(fn: Callable[[slice], T], n: int, block: int
              ) -> list[tuple[slice, T | RamancamError]]:
    """``fn`` on the rows ``slice(b0, b0 + block)`` of ``n``, in order; inside a block it
    refuses, on each row alone. Returns ``(rows, result)`` for every call that worked and
    ``(row, error)`` for every single row refused, in row order."""
    out: list[tuple[slice, T | RamancamError]] = []
    for b0 in range(0, n, block):
        rows = slice(b0, min(n, b0 + block))
        try:
            out.append((rows, fn(rows)))
            continue
        except RamancamError as exc:
            if rows.stop - rows.start == 1:
                out.append((rows, exc))
                continue
        for i in range(rows.start, rows.stop):
            one = slice(i, i + 1)
            try:
                out.append((one, fn(one)))
            except RamancamError as exc:
                out.append((one, exc))
    return out
