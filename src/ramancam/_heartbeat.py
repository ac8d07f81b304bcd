"""Training progress on stderr: a tqdm bar on a terminal, one line a minute elsewhere.

A fit of the default network on a large set runs for minutes per fold; with stderr sent to a
log file or a notebook's captured output, tqdm (which draws only on a terminal) would leave
it silent. :func:`epoch_bar` gives ``CNNClassifier`` one object for both cases.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

#: Seconds between progress lines when stderr is not a terminal.
EVERY_S = 60.0


class _Lines:
    """Iterates over epochs ``1..n`` and prints ``  training: epoch k/n (loss ..., t s)`` at
    most every :data:`EVERY_S` seconds (the tqdm calls it answers: ``set_postfix``,
    ``close``)."""

    def __init__(self, n: int, every_s: float) -> None:
        self.n, self.every_s = n, every_s
        self.postfix: dict[str, Any] = {}

    def __iter__(self) -> Iterator[int]:
        t0 = last = time.monotonic()
        for epoch in range(1, self.n + 1):
            yield epoch
            now = time.monotonic()
            if now - last >= self.every_s and epoch < self.n:
                last = now
                extra = ", ".join(f"{k} {v}" for k, v in self.postfix.items())
                print(f"  training: epoch {epoch}/{self.n}"
                      f"{f' ({extra})' if extra else ''}, {now - t0:.0f} s",
                      file=sys.stderr, flush=True)

    def set_postfix(self, **kw: Any) -> None:
        self.postfix = kw

    def close(self) -> None:
        pass


def epoch_bar(n_epochs: int, verbose: bool, *, every_s: float = EVERY_S) -> Any:
    """Epochs ``1..n_epochs`` to iterate over, showing progress when ``verbose``: a tqdm bar
    when stderr is a terminal, else a line every ``every_s`` seconds; silent otherwise."""
    from tqdm import tqdm  # the terminal bar (tqdm.auto would want ipywidgets in notebooks)

    if verbose and not sys.stderr.isatty():
        return _Lines(n_epochs, every_s)
    return tqdm(range(1, n_epochs + 1), desc="training", unit="epoch", disable=not verbose,
                leave=False, file=sys.stderr)
