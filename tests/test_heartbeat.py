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


def test_the_classifiers_docstring_shows_the_line_a_notebook_gets(monkeypatch, capsys):
    # the docstring said the progress shows "when it is a terminal"; in a notebook (stderr
    # no terminal) a fit prints these lines
    import functools
    import re

    import torch

    from ramancam.simulate import peak_position_set
    from ramancam.train import CNNClassifier

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(_heartbeat, "epoch_bar",
                        functools.partial(_heartbeat.epoch_bar, every_s=0.0))
    s = peak_position_set(4, n_channels=64, positions=(15, 45), rng=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        CNNClassifier(n_filters=2, filter_size=3, fc_width=4, epochs=2, novelty=None,
                      verbose=True, random_state=0).fit(s)
    finally:
        torch.set_num_threads(threads)
    line = capsys.readouterr().err.splitlines()[0]
    shape = re.sub(r"\d+(\\\.\d+)?", r"\\d+(\\.\\d+)?", re.escape(line.strip()))
    doc = " ".join(CNNClassifier.__doc__.split())
    said = re.search(r"verbose : bool, default=False (.*?) novelty :", doc).group(1)
    assert "terminal" in said and re.search(shape, said), (line, said)
