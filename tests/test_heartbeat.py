"""Training progress when stderr is not a terminal: one line a minute, not silence."""

from __future__ import annotations

import sys

from ramancam import _heartbeat
from ramancam._heartbeat import epoch_bar


def test_lines_every_interval_when_not_a_terminal(monkeypatch, capsys):
    clock = iter(range(0, 1000, 25))  # each epoch takes 25 "seconds"
    monkeypatch.setattr(_heartbeat.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    bar = epoch_bar(8, True, every_s=60)
    seen = []
    for epoch in bar:
        bar.set_postfix(loss=f"{1 / epoch:.2f}")
        seen.append(epoch)
    bar.close()
    assert seen == list(range(1, 9))
    lines = capsys.readouterr().err.splitlines()
    # t = 25, 50, ... per epoch end: a line once 60 s have passed since the last one
    assert lines == ["  training: epoch 3/8 (loss 0.33), 75 s",
                     "  training: epoch 6/8 (loss 0.17), 150 s"]


def test_silent_unless_verbose(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert list(epoch_bar(3, False)) == [1, 2, 3]
    assert capsys.readouterr().err == ""
