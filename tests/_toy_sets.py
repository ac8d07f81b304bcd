"""Toy data for the tests: a labelled set in the form of a ``benchmarks/realdata.py`` row,
for the tests of the scripts that fit models on its inputs and folds; a small measured-like
map, for the tests of the map readers; the fastest training options (:data:`FAST`) and the
simulated table and model the command-line tests share (:func:`peaks_table`,
:func:`fast_model`)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: The fastest network `ramancam train` takes: options of the CLI tests that train.
FAST = ["--recipe", "none", "--epochs", "1", "--filters", "4", "--filter-size", "3",
        "--fc-width", "8"]


def lorentz_substance(bands: tuple[int, ...], n: int, n_points: int,
                      rng: np.random.Generator) -> Any:
    """``n`` spectra of a substance with Lorentzian bands (width 2 channels) at ``bands``
    (channels of ``n_points``), each band's height and place (+-1 channel) drawn per
    spectrum, 2 % noise, each scaled to its maximum: the map tests' substances."""
    x = np.arange(n_points, dtype=np.float64)
    X = np.zeros((n, n_points))
    for pos in bands:
        X += rng.uniform(0.5, 1.0, (n, 1)) / (1 + ((x - pos - rng.uniform(-1, 1, (n, 1)))
                                                   / 2.0) ** 2)
    X += 0.02 * rng.standard_normal((n, n_points))
    return X / X.max(axis=1, keepdims=True)


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


def jittered_map(rng: np.random.Generator, n_points: int, *, drop_last: bool = True
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A 6 x 5 raster (y outer, x inner) at 0.5 um from (80, -160), its positions jittered
    by up to 0.01 um as an instrument's stage leaves them, the last pixel never measured
    (``drop_last``); each pixel's position and a spectrum of ``n_points`` intensities in
    100-2000, 3 decimals."""
    yy, xx = np.meshgrid(np.arange(5), np.arange(6), indexing="ij")
    xy = np.column_stack([80.0 + 0.5 * xx.ravel(), -160.0 + 0.5 * yy.ravel()])
    xy = np.round(xy + rng.uniform(-0.01, 0.01, xy.shape), 4)
    if drop_last:
        xy = xy[:-1]
    return xy, np.round(rng.uniform(100, 2000, (len(xy), n_points)), 3)


def peaks_table(tmp_path_factory: Any, *, n_per_class: int, seed: int) -> Any:
    """``ramancam simulate peaks`` written to a fresh folder: the labelled table (column
    ``label``) of the command-line tests."""
    from ramancam.cli import main

    path = tmp_path_factory.mktemp("sim") / "peaks.csv"
    assert main(["simulate", "peaks", "--n-per-class", str(n_per_class), "--seed", str(seed),
                 "--out", str(path)]) == 0
    return path


def fast_model(table: Any) -> Any:
    """The model ``ramancam train`` makes of ``table`` with :data:`FAST` and 2 folds, no
    baselines, saved beside it as ``peaks.ramancam``."""
    from ramancam.cli import main

    out = table.parent / "peaks.ramancam"
    assert main(["train", str(table), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--out", str(out)]) == 0
    return out


def imbalanced_table(path: Any) -> Any:
    """24:6 spectra of two close bands (450 and 451 cm-1 on a 2 cm-1 grid, noise 0.05, seed
    7), classes ``major`` and ``minor``, written to ``path``: a classifier that calls
    everything the large class scores 0.8."""
    from ramancam.io import write_table
    from ramancam.spectra import Spectra

    rng = np.random.default_rng(7)
    grid = np.arange(400.0, 600.0, 2.0)

    def band(c: float) -> Any:
        return 0.1 + np.exp(-0.5 * ((grid - c) / 6.0) ** 2)

    X = np.vstack([band(450) + 0.05 * rng.standard_normal((24, grid.size)),
                   band(451) + 0.05 * rng.standard_normal((6, grid.size))])
    write_table(Spectra(X, grid, labels=["major"] * 24 + ["minor"] * 6), path)
    return path


def tiny_network(n_points: int, n_classes: int = 3) -> tuple[Any, Any]:
    """An untrained tiny network (torch seed 3; 4 filters of 5 points, FC 6) in eval mode,
    and its grid: ``n_points`` every 2 cm-1 from 500 cm-1."""
    import torch

    from ramancam.model import CNNConfig, RamanCNN

    torch.manual_seed(3)
    model = RamanCNN(CNNConfig(n_points=n_points, n_classes=n_classes, n_filters=4,
                               filter_size=5, fc_width=6)).eval()
    return model, np.arange(n_points) * 2.0 + 500.0


def saved_with_data(folder: Any, model: Any, classes: list[str], data: Any) -> tuple[Any, Any]:
    """``model`` saved with no recipe on ``data``'s grid as ``folder/model.ramancam``, and
    ``data`` written as ``folder/data.csv``; returns both paths."""
    from ramancam.bundle import save, training_summary
    from ramancam.io import write_table

    model_path, data_path = folder / "model.ramancam", folder / "data.csv"
    save(model_path, estimator=model, recipe=None, grid=data.wavenumbers, classes=classes,
         training_summary=training_summary(data))
    write_table(data, data_path)
    return model_path, data_path

