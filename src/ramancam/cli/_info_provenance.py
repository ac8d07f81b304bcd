"""``ramancam info MODEL``: the lines that tie a model file to its making (its digest, when
and by which command it was trained)."""

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
