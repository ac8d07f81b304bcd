"""How many threads (or worker processes) a count option may ask for.

``--threads`` and ``--workers`` had a lower bound only: ``predict ... --threads 100000``
started threads until the machine's process limit was spent, and ``--threads 10**30``
ended in torch's "Overflow when unpacking long long". More threads than a few per core
only wait for each other, so a count above :data:`PER_CORE` times the cores this process
may run on is refused, before any thread is made.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import RamancamError, int_text

#: Threads (or workers) per available core beyond which a count is refused.
PER_CORE = 4


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says it, else
    the machine's count; at least 1)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # (macOS and Windows have no affinity call)
        return max(os.cpu_count() or 1, 1)


def most_threads() -> int:
    """The largest thread (or worker) count accepted: :data:`PER_CORE` x the cores."""
    return PER_CORE * usable_cores()


def check_count(name: str, value: Any, *, each: int = 1, each_name: str = "") -> None:
    """Refuse ``value`` (an integer >= 1 already) threads or workers, of ``each`` threads
    each (``each_name``: the option that sets it), above :func:`most_threads`; ``name``
    is the option (``--threads``) or keyword (``threads``) the message names."""
    most, cores = most_threads(), usable_cores()
    total = int(value) * max(int(each), 1)
    if total <= most:
        return
    shown = int_text(value)
    also = f" x {each} threads each ({each_name})" if each > 1 else ""
    cli = name.startswith("--")
    raise RamancamError(
        f"{name} must be at most {most} ({PER_CORE} x the {cores} "
        f"core{'' if cores == 1 else 's'} this process may use); got {shown}{also}. More "
        f"only wait for each other: give e.g. {name}{' ' if cli else '='}{cores}.")
