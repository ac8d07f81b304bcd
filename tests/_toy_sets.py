"""A toy labelled set in the form of a ``benchmarks/realdata.py`` row, for the tests of the
scripts that fit models on its inputs and folds."""

from __future__ import annotations

from typing import Any

import numpy as np


def toy_spec(rd: Any, *, step: float = 1.0, shift: float = 100.0) -> Any:
    """Three classes of 12 spectra, one band each at 450, 450 + shift and 450 + 2 shift cm-1
    on a 400-700 cm-1 grid of ``step``, a little noise (seed 0); 3 stratified folds, no
    recipe."""
    from ramancam.spectra import Spectra

    rng = np.random.default_rng(0)
    grid = np.arange(400.0, 700.0, step)
    y = np.repeat(["a", "b", "c"], 12)
    centre = np.select([y == "a", y == "b"], [450.0, 450.0 + shift], 450 + 2 * shift)[:, None]
    X = 0.1 + np.exp(-0.5 * ((grid - centre) / 5.0) ** 2) + 0.01 * rng.standard_normal(
        (y.size, grid.size))
    return rd.SetSpec("toy", "stratified 3-fold", lambda: Spectra(X, grid, labels=y),
                      ["--folds", "3", "--recipe", "none"], "toy")
