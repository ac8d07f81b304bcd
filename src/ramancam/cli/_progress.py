"""Progress lines on stderr for long work: ``predict``/``explain`` over their chunks, folder
reads file by file. Plain lines (no ``\\r``, no colours), so a log file or a notebook keeps
them as printed; stdout, which scripts parse, is left alone."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

#: Seconds between the progress lines of a folder read (the first comes after as long).
READ_EVERY_S = 10.0


def chunk_progress(total: int, chunk: int, *, every_s: float = 10.0) -> Callable[[int], None]:
    """Progress of ``predict``/``explain`` over their chunks, on stderr: ``  done/total
    spectra (N s)`` at most every ``every_s`` seconds and at the end; silent when ``total``
    fits in one chunk."""
    t0 = last = time.monotonic()

    def show(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if total > chunk and (done >= total or now - last >= every_s):
            last = now
            print(f"  {done}/{total} spectra ({now - t0:.0f} s)", file=sys.stderr, flush=True)

    return show


def files_progress(shown: str, *, every_s: float | None = None) -> Callable[[int, int], None]:
    """Progress of a folder read (``progress`` of :func:`ramancam.io.read`), on stderr:
    ``  reading SHOWN: done/total files (N s)`` once the read has run ``every_s`` seconds
    (:data:`READ_EVERY_S`), then at most every ``every_s`` seconds, and at the end when a
    line came before; a read that ends sooner prints nothing."""
    every = READ_EVERY_S if every_s is None else every_s
    t0 = last = time.monotonic()
    said = False

    def show(done: int, total: int) -> None:
        nonlocal last, said
        now = time.monotonic()
        if now - last >= every or (said and done >= total):
            last, said = now, True
            print(f"  reading {shown}: {done}/{total} files ({now - t0:.0f} s)",
                  file=sys.stderr, flush=True)

    return show
