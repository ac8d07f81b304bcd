"""The local Dask cluster of a tiled run (``--workers N``, :func:`ramancam.scale.run`): its
start with Ctrl-C held back from the worker processes, and the environment put back."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import RamancamError

__all__ = ["local_cluster", "need_dask"]


def need_dask() -> Any:
    """``dask.distributed``, or a one-line refusal naming the maps extra."""
    try:
        import dask.distributed as dd
    except ImportError:
        raise RamancamError(
            "dask.distributed must be installed for --workers/--scheduler; got ImportError. "
            "Install the maps extra: pip install 'ramancam[maps]'") from None
    return dd


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[list[int]]:
    """Ctrl-C held back in this block (the main thread's), where the worker processes start:
    blocked in this thread, which the threads it starts and the processes they spawn
    inherit, so that the workers never get it (each printed its own KeyboardInterrupt
    traceback, pages of them), and noted where another thread takes it. The list yielded
    holds the signal once the block ends if Ctrl-C came meanwhile.

    (Ignoring it instead, which the workers inherit too, lost a Ctrl-C pressed while they
    started: the run went on to its end. Without ``pthread_sigmask``, on Windows, it is
    still ignored here.)"""
    came: list[int] = []
    if not hasattr(signal, "pthread_sigmask"):
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield came
        finally:
            signal.signal(signal.SIGINT, previous)
        return
    # multiprocessing unblocks SIGINT in the thread that first starts its resource tracker
    # (the workers of the first cluster then took Ctrl-C): started before, it is not again
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield came
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # one pending: noted now
        signal.signal(signal.SIGINT, previous)


def local_cluster(workers: int, threads: int, processes: bool) -> Any:
    """A ``LocalCluster`` of ``workers`` workers of ``threads`` threads each (processes, or
    threads of this process). A Ctrl-C that came while it started ends it and is raised
    then, as this process's handler takes it (``error: interrupted`` on the command line)."""
    import logging

    dd = need_dask()
    # Worker processes must not take Ctrl-C (see _ctrl_c_held): this process alone stops on
    # it and closes the cluster. (Signals can only be set from the main thread.) Logs: a
    # tile's error reaches this process, which names it in one line; the workers' own
    # "Compute Failed" log and traceback (level ERROR) came before it, so only CRITICAL
    # messages are let through.
    # Environment: Dask's nanny writes the workers' environment (one BLAS thread,
    # PYTHONHASHSEED, ...) into this process's os.environ before it spawns them, and leaves
    # it there: a notebook's later subprocesses ran with one thread. Put back once started.
    quiet = processes and threading.current_thread() is threading.main_thread()
    environ = dict(os.environ)
    held: contextlib.AbstractContextManager[list[int]] = (
        _ctrl_c_held() if quiet else contextlib.nullcontext([]))
    with held as came:
        try:
            cluster = dd.LocalCluster(n_workers=workers, threads_per_worker=threads,
                                      processes=processes, dashboard_address=":0",
                                      silence_logs=logging.CRITICAL)
        finally:
            restore_environ(environ)
    if came:  # Ctrl-C came while it started: taken now, as if pressed at this line
        try:
            signal.raise_signal(signal.SIGINT)
        except BaseException:
            cluster.close()
            raise
    return cluster


def restore_environ(environ: dict[str, str]) -> None:
    """Put ``os.environ`` back as it was (``environ``, a copy taken before)."""
    for key in [k for k in os.environ if k not in environ]:
        del os.environ[key]
    for key, value in environ.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
