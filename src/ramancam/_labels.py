"""Names (classes, spectrum ids) as figures show them."""

from __future__ import annotations

__all__ = ["NAME_LIMIT", "short_name"]

#: Names longer than this are cut in figures, where a long name squeezed the plot into a
#: corner or ran off the canvas; tables and CSV files keep them whole.
NAME_LIMIT = 32


def short_name(name: object, limit: int = NAME_LIMIT) -> str:
    """``name`` as a figure shows it: cut to ``limit`` characters with an ellipsis."""
    text = str(name)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"
