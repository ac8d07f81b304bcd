"""``ramancam info MODEL``: the lines that tie a model file to its making (its digest, when
and by which command it was trained), and the confusion matrix (kept out of ``info.py``, at
its size limit)."""

from __future__ import annotations

from typing import Any


def model_provenance(path: str, info: dict[str, Any]) -> dict[str, Any]:
    """The model file's SHA-256 (as ``sha256sum`` prints it, and as result stores record it:
    ``model_sha256``), and, for files that record them, when and by which command line it was
    made."""
    from ..provenance import file_sha256

    d: dict[str, Any] = {"sha256": file_sha256(path)}
    for key in ("created", "command"):  # files saved before 2026-12-08 have neither
        if isinstance(info.get(key), str):
            d[key] = info[key]
    return d


def provenance_lines(d: dict[str, Any]) -> list[str]:
    """The ``file:``, ``created:`` and ``command:`` lines (each only where known)."""
    lines = [f"  file:      sha256 {d['sha256'][:16]}..."] \
        if d.get("sha256") else []
    if d.get("created"):
        lines.append(f"  created:   {d['created']}")
    if d.get("command"):
        lines.append(f"  command:   {d['command']}")
    return lines


def commit_text(versions: dict[str, Any]) -> str:
    """`` at commit 0123456789ab`` for a model saved from a git checkout, else nothing."""
    commit = versions.get("commit")
    return f" at commit {commit[:12]}" if isinstance(commit, str) and commit else ""


#: Width (characters) above which the confusion matrix numbers its columns.
_CONFUSION_WIDTH = 100


def confusion_lines(cm: list[list[int]], classes: list[str]) -> list[str]:
    """The matrix under ``confusion:``, columns headed by the class names, or by the rows'
    numbers (each row reads ``1 name``) where the names would make it wider than
    :data:`_CONFUSION_WIDTH`. A line break in a name is escaped, as on the classes line."""
    from .._labels import pad, text_width
    from ._outputs import one_line

    # widths in terminal columns: '石英' takes 4 (len() said 2 and ran its row short)
    names = [one_line(c) for c in classes]
    w = max(6, *(text_width(n) + 2 for n in names), *(len(str(v)) + 2 for r in cm for v in r))
    first = max(8, *(text_width(n) + 2 for n in names))
    if 4 + first + w * len(names) > _CONFUSION_WIDTH:
        heads = [str(k) for k in range(1, len(names) + 1)]
        names = [f"{k:>{len(heads[-1])}} {n}" for k, n in zip(heads, names, strict=True)]
        w = max(4, *(len(h) + 2 for h in heads), *(len(str(v)) + 2 for r in cm for v in r))
        first = max(8, *(text_width(n) + 2 for n in names))
    else:
        heads = names
    lines = ["    " + " " * first + "".join(pad(h, w, ">") for h in heads)]
    for n, row in zip(names, cm, strict=True):
        lines.append(f"    {pad(n, first)}" + "".join(f"{v:>{w}}" for v in row))
    return lines
