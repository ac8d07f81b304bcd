"""Memory counted, not timed, for the tests of the readers' memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def traced_peak(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """``fn(*args, **kwargs)`` and the peak of the memory allocated during the call, in bytes,
    as tracemalloc counts it (numpy reports its arrays to it)."""
    import tracemalloc

    tracemalloc.start()
    try:
        out = fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak
