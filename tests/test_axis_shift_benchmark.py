"""``benchmarks/axis_shift.py``: predict's axis check read on shifted test spectra."""

from __future__ import annotations

from _toy_sets import toy_spec


def test_shifted_test_spectra_are_read_and_noted(load_benchmark):
    rd = load_benchmark("realdata")
    ax = load_benchmark("axis_shift")
    toy = toy_spec(rd)
    spec = rd.SetSpec(toy.name, toy.split, toy.load, ["--folds", "3"], toy.command)  # recipe
    rows = ax.run_set(spec, [0.0, 3.0, -2.0])
    assert [r["shift"] for r in rows] == [0.0, 3.0, -2.0]
    assert all(r["n"] == 12 and r["readable"] == 12 for r in rows)
    for r in rows:
        assert abs(r["median"] - r["shift"]) < 0.3, r
    assert [r["noted"] for r in rows] == [False, True, True]
    text = ax.table(rows)
    assert text.splitlines()[0].startswith("| set | test spectra | shift applied (cm-1) |")
    assert "| toy | 12 | +3 | 12 | +" in text
