"""``benchmarks/recipe_screen.py``: the grid of each screen (the paper's, or ``--full-range``)."""

from __future__ import annotations

import numpy as np


def test_grid_is_the_papers_narrowed_to_the_data_or_the_whole_common_range(load_benchmark):
    rs = load_benchmark("recipe_screen")
    from ramancam.spectra import Spectra

    a = np.linspace(200.2, 3000.0, 500)
    b = np.linspace(410.0, 3500.7, 600)
    s = Spectra.concat([Spectra(np.ones((1, a.size)), a, labels=["x"]),
                        Spectra(np.ones((1, b.size)), b, labels=["y"])])
    assert rs.auto_grid(s) == (410.0, 1800.0, 1.0)
    assert rs.auto_grid(s, full_range=True) == (410.0, 3000.0, 1.0)
    narrow = Spectra(np.ones((1, 100)), np.linspace(600.4, 1500.0, 100), labels=["z"])
    assert rs.auto_grid(narrow) == (601.0, 1500.0, 1.0)
    assert rs.auto_grid(narrow, full_range=True) == (601.0, 1500.0, 1.0)


def test_unknown_set_stops_with_one_line(load_benchmark, capsys):
    import pytest

    rs = load_benchmark("recipe_screen")
    with pytest.raises(SystemExit) as exc:
        rs.cli(["--full-range", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err.strip().splitlines()[-1]
