"""One run at a time on a result store of :mod:`ramancam.scale`.

:func:`claim` marks the run that holds a store (its path) in this process, and
:func:`make_store` records in that claim that this run made the store: a run that fails
before any tile removes only a store it made itself (``ramancam.cli._scale``), never one
another run made meanwhile.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import RamancamError

__all__ = ["Claim", "claim", "make_store"]


@dataclass
class Claim:
    """A run's hold on its result store ``store``; ``made``: this run created the store."""

    store: Path
    made: bool = False


#: The claims of the runs of this process, by thread and the store's resolved path (a run's
#: Dask threads make no store).
_CLAIMS: dict[tuple[int, str], Claim] = {}


def _key(store: str | os.PathLike[str]) -> tuple[int, str]:
    return threading.get_ident(), str(Path(store).resolve())


@contextmanager
def claim(store: str | os.PathLike[str]) -> Iterator[Claim]:
    """Hold the result store ``store`` for the block; a claim inside a claim of the same
    store (the command line around :func:`ramancam.scale.run`) is the outer one."""
    key = _key(store)
    held = _CLAIMS.get(key)
    if held is not None:
        yield held
        return
    held = _CLAIMS[key] = Claim(Path(store))
    try:
        yield held
    finally:
        del _CLAIMS[key]


def make_store(store: str | os.PathLike[str]) -> None:
    """Create the folder of a new result store, which must not exist: two runs that both
    found no store made it once, the second refused (it went on into the first's store)."""
    held = _CLAIMS.get(_key(store))
    if held is not None:
        held.made = True  # before the folder: a stop between the two leaves none behind
    try:
        Path(store).mkdir()
    except FileExistsError:
        if held is not None:
            held.made = False
        raise RamancamError(
            f"--out must not be written by two runs at once; got {str(store)!r}, made by "
            "another run meanwhile. Wait for that run to end and run the same command "
            "again to resume, or choose another --out.") from None
