"""A map run resumed with another torch thread count says so: the network runs in float32,
so the tiles of the two runs differ in about the 7th digit of their probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("zarr")

from ramancam.bundle import save, training_summary
from ramancam.cli import main
from ramancam.io.zarr_cube import write_cube
from ramancam.model import CNNConfig, RamanCNN
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NOTE = "note: the store's earlier tiles were computed with 1 torch thread, this run's with 2"


@pytest.fixture
def model_and_cube(tmp_path, rng):
    torch.manual_seed(5)
    n = 32
    model = RamanCNN(CNNConfig(n_points=n, n_classes=2, n_filters=4, filter_size=5,
                               fc_width=8)).eval()
    grid = np.arange(n, dtype=np.float64)
    yy, xx = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    s = Spectra(rng.random((36, n)), grid, np.where(xx.ravel() < 3, "a", "b"),
                {"x": xx.ravel() * 1.0, "y": yy.ravel() * 1.0})
    save(tmp_path / "m.ramancam", estimator=model, recipe=None, grid=grid, classes=["a", "b"],
         training_summary=training_summary(s))
    write_cube(s, tmp_path / "c.zarr", chunks=(3, 3))
    return str(tmp_path / "m.ramancam"), str(tmp_path / "c.zarr")


def _predict(model, cube, out, threads, capsys):
    code = main(["predict", model, cube, "--out", out, "--threads", str(threads)])
    return code, capsys.readouterr().out


def test_a_resume_with_another_thread_count_says_so(model_and_cube, tmp_path, monkeypatch,
                                                    capsys):
    import ramancam.scale as scale

    model, cube = model_and_cube
    out = str(tmp_path / "p.zarr")
    real, calls = scale.run_tile, []

    def stop_after_two(job, ty, tx, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append((ty, tx))
        return real(job, ty, tx, **kw)

    monkeypatch.setattr(scale, "run_tile", stop_after_two)
    assert _predict(model, cube, out, 1, capsys)[0] == 130
    monkeypatch.setattr(scale, "run_tile", real)
    code, text = _predict(model, cube, out, 2, capsys)
    assert code == 0 and "resumed, 2 of 4 tiles were already done" in text
    assert NOTE + ": their probabilities differ in about the 7th digit" in text
    assert "give --threads 1 to repeat them" in text
    # both counts are recorded; a run with either one has nothing left to compute: no note
    assert NOTE not in _predict(model, cube, out, 1, capsys)[1]


def test_runs_with_one_thread_count_say_nothing(model_and_cube, tmp_path, capsys):
    model, cube = model_and_cube
    out = str(tmp_path / "q.zarr")
    for _ in range(2):
        code, text = _predict(model, cube, out, 1, capsys)
        assert code == 0 and "torch thread" not in text
    import zarr

    assert zarr.open_group(out, mode="r").attrs["ramancam"]["threads"] == [1]


def test_only_tiles_computed_count_and_a_finished_store_says_nothing(model_and_cube, tmp_path,
                                                                    monkeypatch, capsys):
    # the store recorded a run's thread count before any tile: a run stopped before its
    # first tile made the next one say "computed with 1 and 2 threads", and a finished
    # store rerun with another count said so though nothing was computed
    import zarr

    import ramancam.scale as scale

    model, cube = model_and_cube
    out = str(tmp_path / "p.zarr")
    real, calls = scale.run_tile, []

    def stop_after(n):
        def tile(job, ty, tx, **kw):
            if len(calls) == n:
                raise KeyboardInterrupt
            calls.append((ty, tx))
            return real(job, ty, tx, **kw)
        return tile

    monkeypatch.setattr(scale, "run_tile", stop_after(2))
    assert _predict(model, cube, out, 1, capsys)[0] == 130
    monkeypatch.setattr(scale, "run_tile", stop_after(2))  # 2 done: stops before a third
    assert _predict(model, cube, out, 2, capsys)[0] == 130
    assert zarr.open_group(out, mode="r").attrs["ramancam"]["threads"] == [1]
    monkeypatch.setattr(scale, "run_tile", real)
    code, text = _predict(model, cube, out, 1, capsys)
    assert code == 0 and "resumed, 2 of 4" in text and "torch thread" not in text
    code, text = _predict(model, cube, out, 2, capsys)  # finished: nothing computed
    assert code == 0 and "torch thread" not in text
