"""``ramancam.checks``: flat and clipped spectra."""

from __future__ import annotations

import numpy as np

from ramancam.checks import clipped_spectra, flat_spectra
from ramancam.spectra import Spectra


def test_clipped_counts_only_the_points_inside_the_range(rng):
    w = np.linspace(100.0, 2000.0, 400)
    X = 100.0 + rng.normal(0, 1, (4, w.size))
    X[0, 2:6] = 65535.0       # at the Rayleigh edge (100-120 cm-1)
    X[1, 200:202] = 65535.0   # 16-bit limit, 2 points, mid-range
    X[2, 300:302] = 500.0     # two equal maxima, no detector's limit: not clipped
    X[3] = 7.0                # flat
    s = Spectra(X, w)
    found = clipped_spectra(s)
    assert [c.index for c in found] == [0, 1]
    assert (found[0].value, found[0].n_points) == (65535.0, 4)
    assert found[0].lo == w[2] and found[0].hi == w[5]
    inside = clipped_spectra(s, within=(350.0, 1800.0))
    assert [c.index for c in inside] == [1]  # the edge is outside: spectrum 0 is fine there
    assert flat_spectra(s) == [3]
    # flat inside a range: a dead window of the detector that covers the whole grid
    X[0, (w >= 350.0) & (w <= 1800.0)] = 3.0
    assert flat_spectra(Spectra(X, w)) == [3]
    assert flat_spectra(Spectra(X, w), within=(350.0, 1800.0)) == [0, 3]
    assert flat_spectra(Spectra(X, w), within=(3000.0, 3100.0)) == []  # no point there
    # per-spectrum axes (a folder of files) work the same way
    ragged = Spectra([X[0], X[1][:300]], [w, w[:300]])
    assert [c.index for c in clipped_spectra(ragged)] == [0, 1]
