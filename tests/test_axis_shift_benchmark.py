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


def _replicates(rd, shift: float, seed: int, options: list[str]):
    """Two classes (a band at 500 or 600 cm-1) in three replicates of 12 spectra; r3's axis
    sits ``shift`` cm-1 high."""
    import numpy as np

    from ramancam.spectra import Spectra

    rng = np.random.default_rng(seed)
    grid = np.arange(400.0, 700.0, 1.0)
    y = np.tile(np.repeat(["a", "b"], 6), 3)
    rep = np.repeat(["r1", "r2", "r3"], 12)
    centre = np.where(y == "a", 500.0, 600.0) + np.where(rep == "r3", shift, 0.0)
    X = 0.1 + np.exp(-0.5 * ((grid - centre[:, None]) / 5.0) ** 2) + 0.01 * rng.standard_normal(
        (y.size, grid.size))
    return rd.SetSpec("toy", "group 3-fold",
                      lambda: Spectra(X, grid, labels=y, meta={"replicate": rep}),
                      ["--group-col", "replicate", "--folds", "3", *options], "toy")


def test_groups_mode_names_the_replicate_off_axis(load_benchmark):
    rd = load_benchmark("realdata")
    ax = load_benchmark("axis_shift")
    rows = ax.group_rows(_replicates(rd, 3.0, 0, []))
    assert [(r["column"], r["groups"], r["noted"]) for r in rows] == [("replicate", 3, True)]
    assert rows[0]["off"][0].startswith("r3 +")
    assert "| toy | replicate | 3 |" in ax.group_table(rows)


def test_aligned_mode_moves_each_group_back(load_benchmark):
    rd = load_benchmark("realdata")
    ax = load_benchmark("axis_shift")
    rows = ax.aligned_rows(_replicates(rd, 4.0, 1, ["--recipe", "none"]))
    assert [r["variant"] for r in rows] == ["as measured", "aligned (offsets from class means)",
                                            "aligned (label-free offsets)"]
    assert rows[0]["hi"] > 3.5 and abs(rows[1]["hi"]) < 0.5  # r3's 4 cm-1 removed
    assert all(0.0 <= r["library"][0] <= 1.0 for r in rows)
    assert ax.aligned_table(rows).splitlines()[2].startswith("| toy (replicate) | as measured |")
