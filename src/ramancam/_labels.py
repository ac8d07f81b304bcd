"""Names (classes, spectrum ids) as figures show them."""

from __future__ import annotations

__all__ = ["NAME_LIMIT", "short_name"]

#: Names longer than this are cut in figures, where a long name squeezed the plot into a
#: corner or ran off the canvas; tables and CSV files keep them whole.
NAME_LIMIT = 32


def short_name(name: object, limit: int = NAME_LIMIT) -> str:
    """``name`` as a figure shows it: at most ``limit`` characters, cut in the middle with an
    ellipsis, so that names that differ at their end (``... strain ATCC 25923`` and
    ``... ATCC 29213``) stay apart."""
    text = str(name)
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 3
    return text[:limit - 1 - tail] + "\u2026" + text[len(text) - tail:]
