"""A run stopped after a chosen step, in each way a command can stop once it has done some
of its work (:func:`stop_after`, :data:`STOPS`): for the tests that a stopped run puts no
output in place and says it wrote none."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
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


class Watched(io.StringIO):
    """stdout that notes, as each line saying ``wrote`` comes, what ``there()`` finds then
    (which outputs are in their places)."""

    def __init__(self, there: Callable[[], Any]) -> None:
        super().__init__()
        self.there, self.seen = there, []

    def write(self, text: str) -> int:
        if "wrote" in text:
            self.seen.append((text.strip(), self.there()))
        return super().write(text)


def watched_run(argv: list[str], there: Callable[[], Any], monkeypatch: Any
                ) -> tuple[list[str], list[tuple[str, Any]], Any]:
    """Run ``argv`` to its end (status 0) with stdout a :class:`Watched`: its lines, what
    ``there()`` found as each ``wrote`` line came, and what it finds once the run ended."""
    from ramancam.cli import main

    watched = Watched(there)
    with monkeypatch.context() as m:
        m.setattr(sys, "stdout", watched)
        assert main(argv) == 0
    return watched.getvalue().splitlines(), watched.seen, there()


def failed_runs(argv: list[str], module: Any, name: str, outputs: Callable[[], Any],
                summary: str, monkeypatch: Any, capsys: Any, said: tuple[str, ...] = ()
                ) -> None:
    """Run ``argv`` stopped after ``module.name`` in each way of :data:`STOPS`: no line says
    a file was written (nor removed), the summary lines are still printed, and the outputs
    (``outputs()``: name -> bytes) are those of the run before. ``summary``: the start of
    a line of the summary, still printed (it is true of the run); ``said``: the starts of
    the lines that say a file was written that are true of a stopped run too (a tiled run's
    store, written tile by tile in place)."""
    from ramancam.cli import main

    before = outputs()
    for how, code in STOPS:
        with monkeypatch.context() as m:
            stop_after(m, module, name, how)
            capsys.readouterr()
            assert main(argv) == code, how
        text = "\n".join(ln for ln in capsys.readouterr().out.splitlines()
                         if not ln.startswith(said))
        assert "wrote" not in text and "removed" not in text, (how, text)
        assert any(ln.startswith(summary) for ln in text.splitlines()), (how, text)
        assert outputs() == before, how
