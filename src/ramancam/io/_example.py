"""How the built-in example table ``ramancam/data/example.csv`` was made (SYNTHETIC data).

Three classes x four spectra on an uneven ascending axis from 300 to 1900 cm-1. Each class
has its own Lorentzian bands (Eq. 10 of the paper without noise) and all share one band at
1001 cm-1, on a sloped background with white noise of 1 % of the maximum. The file is small
(< 60 KB) and regenerated bit for bit by ``python -m ramancam.io._example OUT.csv``; a test
checks that the shipped file equals this function's output.
"""

from __future__ import annotations

import sys

import numpy as np

from ..spectra import Spectra

# Band positions (cm-1) and relative heights per class; 1001 cm-1 is common to all three.
BANDS = {
    "A": [(520.0, 1.0), (1001.0, 0.6), (1450.0, 0.4)],
    "B": [(780.0, 0.9), (1001.0, 0.6), (1605.0, 1.0)],
    "C": [(640.0, 0.7), (1001.0, 0.6), (1330.0, 1.0), (1750.0, 0.5)],
}
FWHM = 14.0
HEADER = ("# ramancam built-in example: SYNTHETIC spectra (Lorentzian bands on a sloped "
          "background + 1 % noise), 3 classes x 4, made by ramancam.io._example; not measured.")


def _lorentz(x: np.ndarray, x0: float, fwhm: float) -> np.ndarray:
    return 1.0 / (1.0 + ((x - x0) / (fwhm / 2.0)) ** 2)


def make_example(seed: int = 2019) -> Spectra:
    """The example set: 12 spectra, about 400 points on an uneven axis, labels A/B/C.

    Values are rounded to 4 significant digits to keep the file small.
    """
    rng = np.random.default_rng(seed)
    steps = rng.uniform(3.0, 5.0, size=400)
    axis = 300.0 + np.concatenate([[0.0], np.cumsum(steps)])
    axis = np.append(np.round(axis[axis < 1897.0], 2), 1900.0)
    X, labels, sample = [], [], []
    for label, bands in BANDS.items():
        for k in range(4):
            y = sum(h * rng.uniform(0.85, 1.15) * _lorentz(axis, x0 + rng.normal(0, 1.0), FWHM)
                    for x0, h in bands)
            y = y + rng.uniform(0.05, 0.2) * (axis - 300.0) / 1600.0 + 0.05
            y = y + rng.uniform(-0.01, 0.01, size=axis.size) * y.max()
            X.append(np.array([float(f"{v:.4g}") for v in y]))
            labels.append(label)
            sample.append(f"{label.lower()}{k + 1}")
    return Spectra(np.array(X), axis, labels=labels, meta={"sample": sample})


def write_example(path: str) -> None:
    """Write the example as a wide CSV with a comment line saying it is synthetic."""
    from ._atomic import atomic_write
    from .table import write_table

    write_table(make_example(), path)
    with open(path, encoding="utf-8") as fh:
        body = fh.read()
    with atomic_write(path) as fh:
        fh.write(HEADER + "\n" + body)


if __name__ == "__main__":  # pragma: no cover
    write_example(sys.argv[1])
