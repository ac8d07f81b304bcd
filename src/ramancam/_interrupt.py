"""Whether Ctrl-C or SIGTERM came during a command, even where Python swallowed it.

The command line's SIGINT handler (:func:`ramancam.cli.main`) sets :data:`INTERRUPTED`
and raises KeyboardInterrupt as Python's own does; its SIGTERM handler sets
:data:`TERMINATED` and raises :class:`Terminated`. Python drops an exception raised where it
cannot go (a weakref callback of matplotlib's figure clean-up): the KeyboardInterrupt was
lost, a reproduce run went on and replaced the earlier results with status 0. Every output
is put in place through :func:`commit_allowed` (:mod:`ramancam.io._atomic`, the experiments'
staged folders), which raises KeyboardInterrupt (or :class:`Terminated`) once one is set.
"""

from __future__ import annotations

import threading

INTERRUPTED = threading.Event()
#: SIGTERM came: a lost SIGTERM let the run go on, replace the earlier files and exit 0.
TERMINATED = threading.Event()


class Terminated(BaseException):
    """SIGTERM (``kill``, a batch system's time limit) raised as an exception, so that the
    half-written temporary files are removed as after Ctrl-C."""


def commit_allowed() -> None:
    """Raise :class:`Terminated` if SIGTERM came, :class:`KeyboardInterrupt` if Ctrl-C did,
    even where it was swallowed: the outputs are not put in place (their temporary files go,
    as on any exception)."""
    if TERMINATED.is_set():
        raise Terminated
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt
