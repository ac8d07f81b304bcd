"""A run stopped after a chosen step, in each way a command can stop once it has done some
of its work (:func:`stop_after`, :data:`STOPS`): for the tests that a stopped run puts no
output in place and says it wrote none."""

from __future__ import annotations

from typing import Any

#: The ways of :func:`stop_after` and the exit status each gives.
STOPS = [("raised", 130), ("swallowed", 130), ("terminated", 143), ("refused", 2)]


def stop_after(monkeypatch: Any, module: Any, name: str, how: str) -> None:
    """Make ``module.name`` do its work, then stop the run as ``how`` says: Ctrl-C raised
    (``raised``), Ctrl-C Python swallowed (``swallowed``: the flag alone, as where Python
    drops the exception; the run goes on and prints its lines), SIGTERM (``terminated``), or
    a normal error (``refused``)."""
    from ramancam import _interrupt
    from ramancam.errors import RamancamError

    real = getattr(module, name)

    def stopped(*args: Any, **kw: Any) -> Any:
        result = real(*args, **kw)
        if how == "raised":
            raise KeyboardInterrupt
        if how == "swallowed":
            _interrupt.INTERRUPTED.set()
        elif how == "terminated":
            raise _interrupt.Terminated
        elif how == "refused":
            raise RamancamError("the disk is full (a test)")
        return result

    monkeypatch.setattr(module, name, stopped)
