"""Names (classes, spectrum ids) as figures and printed tables show them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["NAME_LIMIT", "pad", "short_name", "short_names", "text_width"]

#: Names longer than this are cut in figures, where a long name squeezed the plot into a
#: corner or ran off the canvas; tables and CSV files keep them whole.
NAME_LIMIT = 32


def text_width(text: str) -> int:
    """The terminal columns ``text`` takes: 2 for an East Asian wide or fullwidth character
    (``石``), 0 for a combining mark (the accent of ``e\u0301``) or a zero-width format
    character, 1 for the rest. A printed table padded with ``len()`` ran a row of
    ``石英`` two columns past the others."""
    import unicodedata

    return sum(0 if unicodedata.combining(ch) or unicodedata.category(ch) in ("Me", "Cf")
               else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
               for ch in text)


def pad(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` terminal columns (:func:`text_width`): on
    the right for ``align="<"``, on the left for ``">"``; longer text is kept whole."""
    room = " " * max(width - text_width(text), 0)
    return text + room if align == "<" else room + text


def short_name(name: object, limit: int = NAME_LIMIT) -> str:
    """``name`` as a figure shows it: at most ``limit`` characters, cut in the middle with an
    ellipsis, so that names that differ at their end (``... strain ATCC 25923`` and
    ``... ATCC 29213``) stay apart. A carriage return in it is shown as ``\\r`` (fonts
    have no glyph for it: matplotlib warned and drew a box)."""
    text = str(name).replace("\r", "\\r")
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 3
    return text[:limit - 1 - tail] + "\u2026" + text[len(text) - tail:]


def short_names(names: Iterable[object], limit: int = NAME_LIMIT) -> list[str]:
    """``names`` as one figure shows them together: each as :func:`short_name` cuts it,
    except that names the cut would make alike keep the part where they differ, cut around
    it (``Monazite-(Ce) R040106 514 nm unoriented`` and its 785 nm twin were both
    ``Monazite-(Ce) R040106…unoriented``). Equal names stay equal; different names get
    different labels (a number in brackets when nothing else tells them apart)."""
    texts = [str(n) for n in names]
    unique = list(dict.fromkeys(texts))
    label = {t: short_name(t, limit) for t in unique}
    groups: dict[str, list[str]] = {}
    for t in unique:
        groups.setdefault(label[t], []).append(t)
    for group in groups.values():
        if len(group) > 1:
            start, stop = _differing_part(group)
            for t in group:
                label[t] = _around(t, start, len(t) - stop, limit) or label[t]
    # still alike (a differing part longer than the limit, or a label that equals another
    # name): numbered in the order given
    seen: dict[str, list[str]] = {}
    for t in unique:
        seen.setdefault(label[t], []).append(t)
    for same in seen.values():
        for j, t in enumerate(same[1:], start=2):
            tag = f" [{j}]"
            label[t] = short_name(t, max(limit - len(tag), 3)) + tag
    return [label[t] for t in texts]


def _differing_part(group: list[str]) -> tuple[int, int]:
    """The lengths of the start and of the end that every name of ``group`` shares (they
    never overlap in the shortest name)."""
    shortest = min(map(len, group))
    start = 0
    while start < shortest and len({t[start] for t in group}) == 1:
        start += 1
    stop = 0
    while stop < shortest - start and len({t[len(t) - 1 - stop] for t in group}) == 1:
        stop += 1
    return start, stop


def _around(text: str, start: int, stop: int, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters keeping ``text[start:stop]`` whole: the start
    before it and the end after it cut with an ellipsis, the end getting a third of the
    room; None when the part alone leaves no room."""
    head, mid, tail = text[:start], text[start:stop], text[stop:]
    room = limit - len(mid)
    if room < (head != "") + (tail != ""):
        return None
    t = min(len(tail), max(room // 3, 1 if tail else 0))
    h = min(len(head), room - t)
    t = min(len(tail), room - h)
    a = head if h >= len(head) else head[:h - 1] + "\u2026"
    b = tail if t >= len(tail) else "\u2026" + tail[len(tail) - t + 1:]
    return a + mid + b
