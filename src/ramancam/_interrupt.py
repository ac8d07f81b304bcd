"""Whether Ctrl-C came during a command, even where Python swallowed it.

The command line's SIGINT handler (:func:`ramancam.cli.main`) sets :data:`INTERRUPTED`
and raises KeyboardInterrupt as Python's own does. Python drops an exception raised where it
cannot go (a weakref callback of matplotlib's figure clean-up): the KeyboardInterrupt was
lost, a reproduce run went on and replaced the earlier results with status 0. Every output
is put in place through :func:`commit_allowed` (:mod:`ramancam.io._atomic`, the experiments'
staged folders), which raises KeyboardInterrupt once it is set.
"""

from __future__ import annotations

import threading

INTERRUPTED = threading.Event()


def commit_allowed() -> None:
    """Raise :class:`KeyboardInterrupt` if Ctrl-C came, even where it was swallowed: the
    outputs are not put in place (their temporary files go, as on any exception)."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt
