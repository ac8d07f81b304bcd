"""What ties an output to what made it: a file's SHA-256, the git commit of a checkout, the
time in UTC and the command line as typed.

Model files, result stores, reports and ``metrics.json`` record these so that a result can be
defended months later: which model file (its digest, not only its path), which code (the
version, and the commit when ramancam runs from a git checkout), when and how."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path

_HEX = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_NAMED_RAMANCAM = re.compile(r"""^\s*name\s*=\s*["']ramancam["']""", re.MULTILINE)


def own_checkout(package: str | os.PathLike[str]) -> Path | None:
    """The checkout whose ``src/ramancam`` is ``package`` (the package's folder), where its
    ``.git`` is, if anywhere; ``None`` for a package installed or vendored elsewhere
    (``pip install --target vendor`` inside another project's git checkout: the folder two
    up is that project's, whose commit is no ramancam commit). A checkout is ramancam's own
    where its ``src/ramancam`` is ``package`` and its ``pyproject.toml`` names ramancam."""
    pkg = Path(package).resolve()
    root = pkg.parent.parent
    try:
        if (root / "src" / "ramancam").resolve() != pkg or pkg.parent.name != "src":
            return None
        text = (root / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return root if _NAMED_RAMANCAM.search(text) else None


@cache
def _checkout() -> Path | None:
    """The checkout ramancam runs from (where ``.git`` is, if anywhere), or None: looked for
    once, when a commit is first asked for (not at import: every command imports this)."""
    return own_checkout(Path(__file__).parent)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (64 hex digits) of a file's bytes, as ``sha256sum`` prints it: a model file's
    digest, recorded by result stores (``model_sha256``) and reports and printed by
    ``ramancam info MODEL``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_sha256(path: str | os.PathLike[str]) -> str:
    """:func:`file_sha256` of a model file, read once while the file stays as it was (same
    size and modification time): a run that names its model's digest in several outputs, or
    checks it before each tile of a map, hashes the file once, and a file replaced meanwhile
    is read again."""
    st = os.stat(path)
    return _sha256_as_of(os.fspath(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _sha256_as_of(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def utc_now() -> str:
    """The time now, UTC, ISO 8601 to the second with ``Z``: ``2026-12-08T14:03:59Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def command_line(argv: Sequence[str]) -> str:
    """``ramancam`` and its arguments, shell-quoted so that the line reruns as printed."""
    return shlex.join(["ramancam", *map(str, argv)])


def _git_dir(root: Path) -> Path | None:
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():  # a worktree or submodule: "gitdir: PATH"
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            where = Path(text.removeprefix("gitdir:").strip())
            return where if where.is_absolute() else root / where
    return None


def _ref(git: Path, name: str) -> str | None:
    """The commit a ref names: its loose file, else its line in ``packed-refs``."""
    common = git
    if (git / "commondir").is_file():  # a worktree keeps branches in the main .git
        common = git / (git / "commondir").read_text(encoding="utf-8").strip()
    for where in dict.fromkeys((git, common)):
        loose = where / name
        if loose.is_file():
            value = loose.read_text(encoding="utf-8", errors="replace").strip()
            return value if _HEX.fullmatch(value) else None
        packed = where / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                value, _, ref = line.partition(" ")
                if ref.strip() == name and _HEX.fullmatch(value):
                    return value
    return None


def git_commit(root: str | os.PathLike[str] | None = None) -> str | None:
    """The commit (hex) checked out where ramancam's code runs from, read from ``.git/HEAD``
    and the ref it names (no ``git`` program run); ``None`` outside a git checkout (an
    installed package) or where it cannot be read. Edits not committed are not seen: the
    version and commit say which code the edits began from."""
    where = _checkout() if root is None else Path(root)
    if where is None:
        return None
    try:
        git = _git_dir(where)
        if git is None or not (git / "HEAD").is_file():
            return None
        head = (git / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        if head.startswith("ref:"):
            return _ref(git, head.removeprefix("ref:").strip())
        return head if _HEX.fullmatch(head) else None
    except (OSError, ValueError):
        return None


def with_commit(versions: dict[str, str]) -> dict[str, str]:
    """``versions`` with ``"commit"`` (after ``"ramancam"``) when running from a checkout."""
    commit = git_commit()
    if commit is None:
        return versions
    out: dict[str, str] = {}
    for k, v in versions.items():
        out[k] = v
        if k == "ramancam":
            out["commit"] = commit
    out.setdefault("commit", commit)
    return out
