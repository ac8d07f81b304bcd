"""``benchmarks/map_deletion.py --controls``: the model-free control maps; and the options of
``benchmarks/seed_bands.py``."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def md(load_benchmark):
    return load_benchmark("map_deletion")


def _spectra(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two bands (tall at 500 cm-1, small at 1200 cm-1) on a sloping background, 1 cm-1 grid."""
    rng = np.random.default_rng(seed)
    grid = np.arange(400.0, 1401.0)
    tall = np.exp(-0.5 * ((grid - 500) / 4) ** 2)
    small = 0.3 * np.exp(-0.5 * ((grid - 1200) / 4) ** 2)
    slope = rng.uniform(0.1, 0.5, (n, 1)) * (grid - 400) / 1000
    return slope + tall + small + 0.002 * rng.standard_normal((n, grid.size)), grid


def test_band_control_is_the_height_above_the_background(md):
    X, grid = _spectra()
    fc = np.ones_like(X)
    grad = -2.0 * np.ones_like(X)
    maps = md.control_maps(X, grid, fc, grad, seed=3)
    band = maps["band"]
    assert band.shape == X.shape and np.all(band >= 0)
    top = grid[np.argmax(band, axis=1)]
    assert np.all(np.abs(top - 500) <= 2)
    at_small = band[:, np.searchsorted(grid, 1200)]
    assert np.all((at_small > 0.2) & (at_small < 0.4))
    # away from both bands the sloping background is not a band
    away = (np.abs(grid - 500) > 40) & (np.abs(grid - 1200) > 40)
    assert np.max(band[:, away]) < 0.03
    np.testing.assert_allclose(maps["fc*band"], band)
    np.testing.assert_allclose(maps["grad*band"], -2.0 * band)
    np.testing.assert_array_equal(maps["random"], md.control_maps(X, grid, fc, grad, 3)["random"])
    assert not np.array_equal(maps["random"], md.control_maps(X, grid, fc, grad, 4)["random"])


def test_deletion_test_passes_the_band_control_only_where_the_score_rests_on_the_tall_band(md):
    from ramancam import metrics

    X, grid = _spectra(n=40)
    maps = md.control_maps(X, grid, np.zeros_like(X), np.zeros_like(X))
    i_tall, i_small = np.searchsorted(grid, 500), np.searchsorted(grid, 1200)

    def on_tall(Z):
        return Z[:, i_tall - 3:i_tall + 4].sum(axis=1)

    def on_small(Z):
        return Z[:, i_small - 3:i_small + 4].sum(axis=1)

    def share(score, m):
        res = metrics.deletion_test(score, X, m, fraction=0.01, random_state=0)
        return float(np.mean(res.drop_top > res.drop_random))

    assert share(on_tall, maps["band"]) == 1.0
    # the small band is not among the tallest 1 % of points: the control does not find it
    assert share(on_small, maps["band"]) < 0.9
    assert share(on_tall, maps["random"]) < 0.9


@pytest.mark.parametrize(("argv", "message"), [
    (["--set", "nope"], "argument --set: invalid choice: 'nope'"),
    (["--windows", "1440-abc"], "'1440-abc' is not a range LO-HI of Raman shift"),
    (["--windows", "1470-1440"], "'1470-1440': LO must be below HI"),
])
def test_seed_bands_rejects_bad_options_in_one_line(load_benchmark, capsys, argv, message):
    sb = load_benchmark("seed_bands")
    with pytest.raises(SystemExit) as exc:
        sb.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]


class _TwoBands:
    """A stand-in network: class 0's logit is the sum over the tall band (500 cm-1), class 1's
    over the small one (1200 cm-1)."""

    def __init__(self, i_tall: int, i_small: int) -> None:
        import torch

        class Net(torch.nn.Module):
            def forward(self, x):
                return torch.stack([x[:, 0, i_tall - 3:i_tall + 4].sum(-1),
                                    x[:, 0, i_small - 3:i_small + 4].sum(-1)], dim=1)

        self.module = Net()


def test_occlusion_bands_ranks_each_class_by_its_own_band(md):
    X, grid = _spectra(n=6)
    i_tall, i_small = np.searchsorted(grid, 500), np.searchsorted(grid, 1200)
    net = _TwoBands(i_tall, i_small).module
    for cls, at, other in ((0, 500, 1200), (1, 1200, 500)):
        maps = md.occlusion_bands(net, X, np.full(len(X), cls), grid)
        assert maps.shape == X.shape
        peak = grid[np.argmax(maps, axis=1)]
        assert np.all(np.abs(peak - at) <= 20)
        # removing the other class's band, or the bare background, costs this class nothing
        assert np.max(np.abs(maps[:, np.abs(grid - other) <= 20])) < 1e-3
        away = (np.abs(grid - 500) > 40) & (np.abs(grid - 1200) > 40)
        assert np.max(np.abs(maps[:, away])) < 1e-3
        assert np.min(maps[:, np.searchsorted(grid, at)]) > 0
