"""Zarr cubes, ``simulate map`` and the tiled (Dask) predict/explain of :mod:`ramancam.scale`."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch

from _model_files import without_references
from _toy_sets import lorentz_substance

pytest.importorskip("zarr")

from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io.zarr_cube import create_cube, open_cube, read_cube, write_cube
from ramancam.model import CNNConfig, RamanCNN
from ramancam.provenance import git_commit
from ramancam.scale import MapJob, read_results, run
from ramancam.simulate import map_layout, map_tile, parse_shape, simulated_map
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_CH = 64
CLASSES = ["peak_10", "peak_30", "peak_50"]


def _grid_spectra(rng, ny=5, nx=7, p=6, labels=True):
    X = rng.normal(size=(ny * nx, p))
    yy, xx = np.meshgrid(np.arange(ny) * 2.0, np.arange(nx) * 0.5, indexing="ij")
    lab = np.array(["a", "b", "c"])[rng.integers(0, 3, ny * nx)] if labels else None
    return Spectra(X, np.linspace(400, 500, p), lab, {"x": xx.ravel(), "y": yy.ravel()})


def _stop_after(monkeypatch, n_tiles):
    """Make :func:`ramancam.scale.run_tile` raise KeyboardInterrupt once ``n_tiles`` tiles are
    done (an interrupted run); returns the list of tiles done, ``(ty, tx)``, and the real
    function (to put back with ``monkeypatch.setattr``)."""
    import ramancam.scale as scale

    real = scale.run_tile
    calls: list[tuple[int, int]] = []

    def interrupted(job, ty, tx, **kw):
        if len(calls) == n_tiles:
            raise KeyboardInterrupt
        calls.append((ty, tx))
        return real(job, ty, tx, **kw)

    monkeypatch.setattr(scale, "run_tile", interrupted)
    return calls, real


# --------------------------------------------------------------------------- Zarr cube

def test_cube_round_trip_in_any_row_order(tmp_path, rng):
    s = _grid_spectra(rng)
    perm = rng.permutation(len(s))
    cube = write_cube(s[perm], tmp_path / "c.zarr", chunks=(2, 3))
    assert cube.shape == (5, 7) and cube.chunks == (2, 3) and cube.n_tiles == (3, 3)
    assert cube.class_names == ["a", "b", "c"]
    # a summary, not every position and Raman shift (pages in a notebook); the axis range
    # as Spectra prints it, without a unit (it said "0-63 cm-1" for channel numbers)
    assert repr(cube) == (f"Cube({str(tmp_path / 'c.zarr')!r}, 5 x 7 pixels, "
                          f"{cube.n_points} points, {s.wavenumbers.min():g}-"
                          f"{s.wavenumbers.max():g}, tiles 2 x 3, truth of 3 classes)")
    assert f", {repr(s).split(', ')[2]}, tiles" in repr(cube)
    back = read_cube(tmp_path / "c.zarr")
    np.testing.assert_array_equal(back.X, s.X.astype(np.float32))
    np.testing.assert_array_equal(back.labels, s.labels)
    np.testing.assert_array_equal(back.meta["x"], s.meta["x"])
    np.testing.assert_array_equal(back.meta["y"], s.meta["y"])
    np.testing.assert_array_equal(back.wavenumbers, s.wavenumbers)
    # a tile: the pixels of rows 2-3, columns 3-5, row-major
    t = cube.read_tile(1, 1)
    idx = [r * 7 + c for r in (2, 3) for c in (3, 4, 5)]
    np.testing.assert_array_equal(t.X, back.X[idx])
    np.testing.assert_array_equal(t.meta["x"], back.meta["x"][idx])
    np.testing.assert_array_equal(t.labels, back.labels[idx])


def test_cube_without_labels_or_coordinates(tmp_path, rng):
    cube = create_cube(tmp_path / "c.zarr", (3, 4), np.arange(5.0), chunks=(2, 2))
    cube.spectra[...] = rng.random((3, 4, 5)).astype(np.float32)
    back = read_cube(tmp_path / "c.zarr")
    assert back.labels is None
    assert back.meta["x"].tolist() == [0, 1, 2, 3] * 3
    assert back.meta["y"].tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_cube_errors(tmp_path, rng):
    s = _grid_spectra(rng)
    with pytest.raises(RamancamError, match="must carry metadata columns 'x' and 'y'"):
        write_cube(Spectra(s.X, s.wavenumbers), tmp_path / "c.zarr")
    with pytest.raises(RamancamError, match=r"must fill the 7 x 5 grid.*Drop duplicates or "
                                            r"fill missing pixels"):
        write_cube(s[1:], tmp_path / "c.zarr")
    # a diagonal line scan (every position its own) was told to drop duplicates
    line = Spectra(s.X[:6], s.wavenumbers, meta={"x": np.arange(6.0), "y": np.arange(6.0)})
    with pytest.raises(RamancamError, match=r"6 spectra with 6 distinct positions\. Positions "
                                            r"that jitter.*grid_of.*a line scan is no cube"):
        write_cube(line, tmp_path / "c.zarr")
    assert not (tmp_path / "c.zarr").exists()
    with pytest.raises(RamancamError, match="must be an existing Zarr folder"):
        open_cube(tmp_path / "none.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(RamancamError, match="cube must be a Zarr group"):
        open_cube(tmp_path / "empty.zarr")
    cube = create_cube(tmp_path / "gap.zarr", (2, 2), np.arange(3.0))
    with pytest.raises(RamancamError, match=r"got no spectrum at all \(every pixel NaN\)"):
        read_cube(tmp_path / "gap.zarr")
    cube.spectra[0, 0] = [1, 2, 3]
    # pixels all NaN are missing from the map: left out; a pixel partly NaN is damaged
    assert len(read_cube(tmp_path / "gap.zarr")) == 1
    cube.spectra[1, 1] = [1, np.nan, 3]
    with pytest.raises(RamancamError, match=r"some non-finite values at pixel \(y=1, x=1\)"):
        read_cube(tmp_path / "gap.zarr")
    with pytest.raises(RamancamError, match=r"some non-finite values at pixel \(y=1, x=1\)"):
        cube.read_tile_pixels(0, 0)
    with pytest.raises(RamancamError, match="at most 3 pixels"):
        read_cube(tmp_path / "gap.zarr", limit=3)
    with pytest.raises(RamancamError, match="chunks must be"):
        create_cube(tmp_path / "x.zarr", (2, 2), np.arange(3.0), chunks=(0, 2))


_REWRITE = "Write it again (ramancam convert, or the run that made it), or restore it from a copy."


@pytest.mark.parametrize("array", ["wavenumbers", "x", "y", "truth"])
def test_a_damaged_chunk_of_any_cube_array_is_named_in_one_line(tmp_path, rng, capsys, array):
    # a damaged chunk of the spectra was named; one of the axis, the positions or the truth
    # ended info and convert in a traceback of zstd's RuntimeError
    cube = tmp_path / "c.zarr"
    write_cube(_grid_spectra(rng), cube)
    (chunk,) = (p for p in (cube / array).rglob("*") if p.is_file() and p.name != "zarr.json")
    data = bytearray(chunk.read_bytes())
    data[0] ^= 0xFF
    chunk.write_bytes(bytes(data))
    for argv in (["info", cube], ["convert", cube, tmp_path / "out.csv"]):
        assert main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith(f"error: cube {cube} must be readable; got a damaged chunk in "
                              f"'{array}' ("), err
        assert err.endswith(f"). {_REWRITE}\n"), err


@pytest.mark.parametrize("array", ["spectra", "wavenumbers", "x", "y", "truth"])
def test_damaged_metadata_of_a_cube_array_names_the_cube_and_the_array(tmp_path, rng, capsys,
                                                                       array):
    # a zarr.json with an unknown data type said "error: No Zarr data type found that
    # matches 'x'", naming neither the cube nor the array (and asyncio warned of a task
    # destroyed while pending)
    import json

    cube = tmp_path / "c.zarr"
    write_cube(_grid_spectra(rng), cube)
    meta_path = cube / array / "zarr.json"
    meta = json.loads(meta_path.read_text())
    for damage, got in (("data_type", "ValueError: No Zarr data type found that matches 'x'"),
                        ("shape", "KeyError: 'shape'")):
        edited = {k: v for k, v in meta.items() if k != damage}
        if damage == "data_type":
            edited["data_type"] = "x"
        meta_path.write_text(json.dumps(edited))
        assert main(["info", str(cube)]) == 2
        err = capsys.readouterr().err
        assert err == (f"error: cube {cube} must hold readable metadata for its array "
                       f"'{array}' ({array}/zarr.json); got {got}. {_REWRITE}\n")
        with pytest.raises(RamancamError, match=rf"array '{array}' \({array}/zarr\.json\)"):
            open_cube(cube)
    meta_path.write_text(json.dumps(meta))
    assert len(read_cube(cube)) == 35  # restored: read again


def test_a_fill_value_beyond_its_data_type_names_the_cube_and_the_array(small_map, tmp_path,
                                                                       capsys):
    # fill_value 2**63 in truth/zarr.json (int16) ended predict (and info) in a traceback:
    # OverflowError "Python int too large to convert to C long", raised by zarr
    import json

    _, model_path, cube, _ = small_map
    array = "truth"
    meta_path = cube / array / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "fill_value": 2**63}))
    for argv in (["info", str(cube)], ["predict", str(model_path), str(cube), "--out",
                                       str(tmp_path / "res")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: cube {cube} must hold readable metadata for its array "
                              f"'{array}' ({array}/zarr.json); got OverflowError: "), err
        assert err.endswith(f". {_REWRITE}\n") and err.count("\n") == 1, err
    assert not (tmp_path / "res").exists()


@pytest.mark.parametrize("damage", ["nan", "chunk"])
def test_a_bad_tile_after_the_first_keeps_the_tiles_done_and_says_how_to_resume(
        small_map, tmp_path, capsys, damage):
    # predict stopped at a damaged (or non-finite) tile after the first with exit 2 and its
    # cube's error alone, leaving res/predictions.zarr without a word about it
    import zarr

    _, model_path, cube, _ = small_map
    spectra = zarr.open_group(str(cube), mode="r+")["spectra"]
    good = np.array(spectra[4:8, 8:11, :])
    last = cube / "spectra" / "c" / "1" / "2" / "0"  # tile (1, 2), after 5 of the 9 tiles
    kept = last.read_bytes()
    if damage == "nan":
        bad = good.copy()
        bad[0, 0, 3] = np.nan
        spectra[4:8, 8:11, :] = bad
    else:
        last.write_bytes(kept[:30])
    res = tmp_path / "res"
    argv = ["predict", str(model_path), str(cube), "--out", str(res)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    store = res / "predictions.zarr"
    assert err.startswith(f"error: cube {cube} must "), err
    assert err.endswith(f". The 5 tiles done are kept in the result store {str(store)!r}: "
                        "fixed in place or restored from a copy, the same command resumes "
                        "it; for a cube (or model) written anew, remove the store first."), err
    assert int(np.count_nonzero(zarr.open_group(str(store), mode="r")["done"][...])) == 5
    # the advice works: the tile put back, the same command resumes and finishes
    if damage == "nan":
        spectra[4:8, 8:11, :] = good
    else:
        last.write_bytes(kept)
    assert main(argv) == 0
    assert "resumed, 5 of 9 tiles were already done" in capsys.readouterr().out


def test_a_bad_first_tile_leaves_no_store(small_map, tmp_path, capsys):
    import zarr

    _, model_path, cube, _ = small_map
    spectra = zarr.open_group(str(cube), mode="r+")["spectra"]
    spectra[0, 0, 0] = np.inf
    assert main(["predict", str(model_path), str(cube), "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert "kept" not in err and err.count("\n") == 1, err
    assert not (tmp_path / "res").exists()


def test_cube_layout_errors_and_missing_extra(tmp_path, monkeypatch):
    import sys

    import zarr

    import ramancam.scale as scale
    from ramancam.io.zarr_cube import need_zarr

    g = zarr.open_group(str(tmp_path / "a.zarr"), mode="w")
    g.create_array("spectra", shape=(2, 2, 3), dtype="float32")
    with pytest.raises(RamancamError, match="must hold the arrays 'spectra' and 'wavenumbers'"):
        open_cube(tmp_path / "a.zarr")
    g.create_array("wavenumbers", data=np.arange(4.0))
    with pytest.raises(RamancamError, match=r"'spectra' must have shape \(ny, nx, 4\)"):
        open_cube(tmp_path / "a.zarr")
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(RamancamError, match=r"zarr must be installed .*'ramancam\[maps\]'"):
        need_zarr()
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(RamancamError,
                       match=r"dask.distributed must be installed .*'ramancam\[maps\]'"):
        scale._need_dask()


# --------------------------------------------------------------------------- simulate map

def test_simulated_tiles_do_not_depend_on_order_and_follow_the_layout():
    layout = map_layout((20, 30), seed=4)
    assert set(layout.seed_class.tolist()) == {0, 1, 2}
    a, ta = map_tile(layout, slice(8, 16), slice(8, 16))
    map_tile(layout, slice(0, 8), slice(0, 8))
    b, _ = map_tile(layout, slice(8, 16), slice(8, 16))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ta, layout.truth(slice(8, 16), slice(8, 16)))
    # every pixel carries its class band at the class position (channel 100, 500 or 1000)
    peak = a.reshape(64, -1)[np.arange(64), np.array([100, 500, 1000])[ta.ravel()]]
    assert (peak > 0.9).all()
    assert parse_shape("30x20") == (20, 30)
    with pytest.raises(RamancamError, match="shape must be NXxNY"):
        parse_shape("30by20")


def test_simulate_map_cli_zarr_and_csv_agree(tmp_path, capsys):
    from ramancam.io import read_table

    assert main(["simulate", "map", "--shape", "9x5", "--chunk", "4x4", "--seed", "2",
                 "--out", str(tmp_path / "m.zarr")]) == 0
    assert "wrote a 9 x 5 map (45 spectra" in capsys.readouterr().out
    assert main(["simulate", "map", "--shape", "9x5", "--chunk", "4x4", "--seed", "2",
                 "--out", str(tmp_path / "m.csv")]) == 0
    z = read_cube(tmp_path / "m.zarr")
    c = read_table(tmp_path / "m.csv", label_col="label")
    # the CSV holds 9 significant digits: the same float32 values
    np.testing.assert_array_equal(z.X.astype(np.float32), c.X.astype(np.float32))
    np.testing.assert_array_equal(z.labels, c.labels)
    assert c.meta["x"].astype(float).tolist() == z.meta["x"].tolist()
    assert c.meta["y"].astype(float).tolist() == z.meta["y"].tolist()
    mem = simulated_map((5, 9), chunks=(4, 4), seed=2)
    np.testing.assert_array_equal(mem.X, z.X)
    assert z.n_points == 1024 and set(z.labels) <= {"peak_100", "peak_500", "peak_1000"}
    assert main(["simulate", "map", "--out", str(tmp_path / "x.zarr")]) == 2
    assert "error: --shape must be given" in capsys.readouterr().err
    assert main(["simulate", "map", "--shape", "2x2", "--out", str(tmp_path / "x.txt")]) == 2
    assert "must end in .zarr, .csv or .csv.gz" in capsys.readouterr().err


# --------------------------------------------------------------------------- tiled runs

@pytest.fixture
def small_map(tmp_path, rng):
    """A 3-class model on 64 channels (random weights) and a 9 x 11 cube in 4 x 4 tiles."""
    from ramancam.bundle import save, training_summary

    torch.manual_seed(5)
    model = RamanCNN(CNNConfig(n_points=N_CH, n_classes=3, n_filters=4, filter_size=5,
                               fc_width=8)).eval()
    grid = np.arange(N_CH, dtype=np.float64)
    ny, nx = 9, 11
    truth = rng.integers(0, 3, (ny, nx))
    X = rng.random((ny, nx, N_CH)) * 0.1
    X[..., 10] += truth == 0
    X[..., 30] += truth == 1
    X[..., 50] += truth == 2
    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    s = Spectra(X.reshape(ny * nx, N_CH), grid, np.asarray(CLASSES)[truth.ravel()],
                {"x": xx.ravel() * 1.0, "y": yy.ravel() * 1.0})
    model_path = tmp_path / "model.ramancam"
    save(model_path, estimator=model, recipe=None, grid=grid, classes=CLASSES,
         training_summary=training_summary(s))
    cube_path = tmp_path / "map.zarr"
    write_cube(s, cube_path, chunks=(4, 4))
    return model, model_path, cube_path, s


def _reference(model, s):
    from ramancam.explain import fc_importance, predict_proba

    X = np.asarray(s.X, dtype=np.float32).astype(np.float64)
    proba = predict_proba(model, X)
    return proba, fc_importance(model, X, None, form="contribution")


def test_one_process_run_writes_every_tile(small_map, tmp_path):
    model, model_path, cube_path, s = small_map
    out = tmp_path / "p.zarr"
    summary = run(MapJob("explain", str(model_path), str(cube_path), str(out), target="all"))
    assert (summary.n_tiles, summary.computed, summary.skipped, summary.n_spectra) == (9, 9, 0,
                                                                                      99)
    r = read_results(out)
    proba, maps = _reference(model, s)
    np.testing.assert_allclose(r["proba"].reshape(99, 3), proba, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(r["predicted"].ravel(), proba.argmax(axis=1))
    np.testing.assert_allclose(r["confidence"].ravel(), proba.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(r["maps"].reshape(99, 3, N_CH), maps, rtol=1e-4, atol=1e-6)
    assert r["done"].all() and r["maps"].shape == (9, 11, 3, N_CH)
    np.testing.assert_array_equal(r["grid"], np.arange(N_CH))


def test_tiled_ig_bands_maps_equal_the_in_memory_ones(small_map, tmp_path):
    from ramancam.explain import captum_map, predict_proba

    model, model_path, cube_path, s = small_map
    out = tmp_path / "b.zarr"
    run(MapJob("explain", str(model_path), str(cube_path), str(out), method="ig-bands"))
    r = read_results(out)
    X = np.asarray(s.X, dtype=np.float32).astype(np.float64)
    pred = predict_proba(model, X).argmax(axis=1)
    # grid step 1 (cm-1): a 20-point SNIP half window, as the command line uses
    want = captum_map(model, X, pred, method="ig-bands", band_window=20)
    np.testing.assert_allclose(r["maps"].reshape(99, N_CH), want, rtol=1e-4, atol=1e-6)


def test_dask_run_equals_the_one_process_run(small_map, novelty_map, tmp_path):
    pytest.importorskip("dask.distributed")
    _, model_path, cube_path, _ = small_map
    one, two = tmp_path / "one.zarr", tmp_path / "two.zarr"
    run(MapJob("explain", str(model_path), str(cube_path), str(one)))
    summary = run(MapJob("explain", str(model_path), str(cube_path), str(two)), workers=2,
                  processes=False)
    assert summary.computed == 9 and summary.n_spectra == 99
    # the tiles ran on the two workers, not in this process (else this compares the
    # one-process run with itself)
    assert len(summary.peak_rss_mb) == 2 and "this process" not in summary.peak_rss_mb
    assert all(v > 0 for v in summary.peak_rss_mb.values())
    # an existing cluster, by its scheduler's address
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        s3 = run(MapJob("explain", str(model_path), str(cube_path),
                        str(tmp_path / "three.zarr")), scheduler=cluster.scheduler_address)
        assert set(s3.peak_rss_mb) == set(cluster.scheduler_info["workers"])
    a, b, c = (read_results(tmp_path / f"{k}.zarr") for k in ("one", "two", "three"))
    for k in ("predicted", "proba", "confidence", "maps", "done", "class_sums",
              "class_counts"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        np.testing.assert_array_equal(a[k], c[k], err_msg=k)
    # a model with novelty detection: the novelty scores and unknown flags too
    nov_model, nov_cube, _ = novelty_map
    one, two = tmp_path / "n1.zarr", tmp_path / "n2.zarr"
    s1 = run(MapJob("predict", str(nov_model), str(nov_cube), str(one)))
    s2 = run(MapJob("predict", str(nov_model), str(nov_cube), str(two)), workers=2,
             processes=False)
    assert len(s2.peak_rss_mb) == 2 and "this process" not in s2.peak_rss_mb
    assert s1.n_unknown == s2.n_unknown and s1.n_unknown is not None and s1.n_unknown > 0
    a, b = read_results(one), read_results(two)
    assert set(a) == set(b) and {"novelty", "unknown"} <= set(a)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_computes_only_the_tiles_not_done(small_map, tmp_path, monkeypatch):
    import ramancam.scale as scale

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    job = MapJob("predict", str(model_path), str(cube_path), str(out))
    calls, real = _stop_after(monkeypatch, 4)  # the run stops after 4 tiles
    with pytest.raises(KeyboardInterrupt):
        run(job)
    first = read_results(out)
    assert first["done"].sum() == 4
    # exactly the pixels of the four finished tiles are written (9 x 11 pixels in 4 x 4 tiles)
    written = np.kron(first["done"], np.ones((4, 4), dtype=np.uint8))[:9, :11]
    np.testing.assert_array_equal(first["predicted"] >= 0, written == 1)
    calls.clear()
    monkeypatch.setattr(scale, "run_tile", lambda job, ty, tx, **kw: (calls.append((ty, tx)),
                                                                      real(job, ty, tx))[1])
    summary = run(job)
    assert (summary.skipped, summary.computed) == (4, 5)
    assert sorted(calls) == sorted(map(tuple, np.argwhere(first["done"] == 0).tolist()))
    fresh = tmp_path / "fresh.zarr"
    monkeypatch.setattr(scale, "run_tile", real)
    run(MapJob("predict", str(model_path), str(cube_path), str(fresh)))
    a, b = read_results(out), read_results(fresh)
    for k in ("predicted", "proba", "done"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_refuses_other_settings(small_map, tmp_path):
    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    run(MapJob("explain", str(model_path), str(cube_path), str(out)))
    with pytest.raises(RamancamError, match="differs in method"):
        run(MapJob("explain", str(model_path), str(cube_path), str(out), method="gradcam"))
    (tmp_path / "other").mkdir()
    with pytest.raises(RamancamError, match=r"not one\. Choose another --out"):
        run(MapJob("predict", str(model_path), str(cube_path), str(tmp_path / "other")))
    with pytest.raises(RamancamError, match="target must be predicted, all or one of"):
        run(MapJob("explain", str(model_path), str(cube_path), str(tmp_path / "q.zarr"),
                   target="nope"))
    with pytest.raises(RamancamError, match="workers must be a positive integer"):
        run(MapJob("predict", str(model_path), str(cube_path), str(tmp_path / "r.zarr")),
            workers=0)


def test_a_store_of_another_ramancam_version_is_not_resumed(small_map, tmp_path, capsys,
                                                           monkeypatch):
    # a store begun by an older ramancam (store version 1: explain maps 1.5 points lower,
    # probabilities uncalibrated) was resumed without a word and marked complete, one store
    # holding two versions' tiles (a helper's audit: 5 tiles of eeaeb79, 11 of today's)
    import zarr

    import ramancam
    import ramancam.scale as scale

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    job = MapJob("predict", str(model_path), str(cube_path), str(out))
    _, real = _stop_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run(job)
    monkeypatch.setattr(scale, "run_tile", real)
    g = zarr.open_group(str(out), mode="r+")
    meta = dict(g.attrs["ramancam"])
    # what a store records: its version, among the settings too (an older ramancam compares
    # them before it resumes, and refuses a store that differs), and the ramancam that made it
    assert meta["version"] == scale.OUTPUT_VERSION == 2
    assert meta["settings"]["store_version"] == 2
    assert meta["ramancam_version"] == ramancam.__version__
    # as an older ramancam left it: version 1, nothing else recorded
    old = {k: v for k, v in meta.items() if k != "ramancam_version"}
    old["version"] = 1
    old["settings"] = {k: v for k, v in meta["settings"].items() if k != "store_version"}
    g.attrs["ramancam"] = old
    with pytest.raises(RamancamError, match=re.escape(
            f"got {str(out)!r}, store version 1 made by a ramancam before 0.2.0: its finished "
            "tiles hold numbers this version computes otherwise, and a resume would mix the "
            "two. Remove it or give another --out.")):
        run(job)
    assert int(g["done"][...].sum()) == 2 and not g.attrs["ramancam"]["complete"]
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "store version 1" in err
    # info says who made it, and that this ramancam does not resume it
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert ("(incomplete: 2 of 9 tiles done; made by another version of ramancam, which this "
            "one does not resume)") in text
    assert (f"  written:   by a ramancam before 0.2.0 (store version 1); this ramancam "
            f"({ramancam.__version__}, store version 2) does not resume it: run into another "
            "--out") in text
    # a newer store: upgrade
    g.attrs["ramancam"] = {**{k: v for k, v in meta.items() if k != "ramancam_commit"},
                           "version": 3, "ramancam_version": "9.0.0"}
    with pytest.raises(RamancamError, match=r"store version 3 made by ramancam 9\.0\.0, "
                                            r"newer\. Upgrade ramancam to resume it"):
        run(job)
    # the store of this version resumes, and info says who made it
    g.attrs["ramancam"] = meta
    assert run(job).computed == 7
    assert main(["info", str(out), "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert (d["store_version"], d["ramancam_version"], d["resumable"]) == (
        2, ramancam.__version__, True)
    assert main(["info", str(out)]) == 0
    # (and the commit, run from a git checkout: since 2026-12-08)
    commit = git_commit()
    assert meta.get("ramancam_commit") == commit
    at = f" at commit {commit[:12]}" if commit else ""
    assert (f"  written:   by ramancam {ramancam.__version__}{at} (store version 2)\n"
            in capsys.readouterr().out)


def test_resume_refuses_another_cube_at_the_same_path(small_map, tmp_path):
    """A cube written again at the same path (another map, same shape) is another cube: a
    store of the first refuses to resume into it instead of mixing the two maps' tiles."""
    _, model_path, cube_path, s = small_map
    out = tmp_path / "p.zarr"
    run(MapJob("predict", str(model_path), str(cube_path), str(out)))
    run(MapJob("predict", str(model_path), str(cube_path), str(out)))  # same cube: resumes
    write_cube(s, cube_path, chunks=(4, 4))
    with pytest.raises(RamancamError, match="differs in cube_identity"):
        run(MapJob("predict", str(model_path), str(cube_path), str(out)))


def test_resume_follows_a_cube_moved_or_copied(small_map, tmp_path):
    # a byte-identical copy at a new path was refused as 'differs in cube'; a predict store
    # resumed by explain was said to differ in bf16, fc_form, kind, ...
    import shutil

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    run(MapJob("predict", str(model_path), str(cube_path), str(out)))
    moved = tmp_path / "moved.zarr"
    shutil.copytree(cube_path, moved)
    summary = run(MapJob("predict", str(model_path), str(moved), str(out)))
    assert summary.computed == 0 and summary.skipped == summary.n_tiles
    assert _store_meta_settings(out)["cube"] == str(moved.resolve())  # images read it there
    with pytest.raises(RamancamError, match=r"a 'predict' run, for 'explain'\. Choose"):
        run(MapJob("explain", str(model_path), str(moved), str(out)))


def test_a_store_without_a_cube_identity_is_refused(small_map, tmp_path):
    # stores written before cube identities (2026-12-06, store version 1) resumed from their
    # own cube path only; they are refused by the store version check (message unchanged),
    # and a store of this version always records the identity
    import zarr

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    job = MapJob("predict", str(model_path), str(cube_path), str(out))
    run(job)
    g = zarr.open_group(str(out), mode="r+")
    meta = dict(g.attrs["ramancam"])
    assert meta["settings"]["cube_identity"] == open_cube(cube_path).identity
    drop = ("cube_identity", "store_version")
    g.attrs["ramancam"] = {
        **{k: v for k, v in meta.items() if k != "ramancam_version"}, "version": 1,
        "settings": {k: v for k, v in meta["settings"].items() if k not in drop}}
    with pytest.raises(RamancamError, match=re.escape(
            f"got {str(out)!r}, store version 1 made by a ramancam before 0.2.0: its finished "
            "tiles hold numbers this version computes otherwise, and a resume would mix the "
            "two. Remove it or give another --out.")):
        run(job)


def test_cubes_without_an_id_differ_by_their_spectra(small_map, tmp_path):
    # Zarr v2 cubes or cubes of other tools have no ramancam id; two maps of one shape on
    # one grid had the same identity, and a store of one "resumed" into the other (0 tiles
    # computed, the first map's predictions reported for the second)
    import shutil

    import zarr

    _, model_path, cube_path, s = small_map

    def strip_id(path):
        g = zarr.open_group(str(path), mode="r+")
        meta = dict(g.attrs["ramancam"])
        meta.pop("id", None)
        g.attrs["ramancam"] = meta

    other = tmp_path / "other.zarr"
    write_cube(s.replace(X=s.X[::-1].copy()), other, chunks=(4, 4))  # same grid and shape
    moved = tmp_path / "moved.zarr"
    shutil.copytree(cube_path, moved)
    for path in (cube_path, other, moved):
        strip_id(path)
    out = tmp_path / "p.zarr"
    run(MapJob("predict", str(model_path), str(cube_path), str(out)))
    with pytest.raises(RamancamError, match="differs in cube"):
        run(MapJob("predict", str(model_path), str(other), str(out)))
    # a copy of the same spectra is still the same cube, moved
    assert run(MapJob("predict", str(model_path), str(moved), str(out))).computed == 0


def _store_meta_settings(out):
    import zarr

    return dict(zarr.open_group(str(out), mode="r").attrs["ramancam"]["settings"])


def test_a_descending_axis_or_a_refused_cube_leaves_no_store(small_map, tmp_path):
    """A model without a recipe takes the grid reversed (as WiRE writes axes) with the
    points flipped, and refuses a cube on another axis before any store is made."""
    model, model_path, _, s = small_map
    rev = tmp_path / "rev.zarr"
    write_cube(Spectra(s.X[:, ::-1], s.wavenumbers[::-1], s.labels, s.meta), rev,
               chunks=(4, 4))
    run(MapJob("predict", str(model_path), str(rev), str(tmp_path / "r.zarr")))
    proba, _ = _reference(model, s)
    np.testing.assert_allclose(read_results(tmp_path / "r.zarr")["proba"].reshape(99, 3),
                               proba, rtol=1e-5, atol=1e-7)
    other = tmp_path / "other.zarr"
    write_cube(Spectra(s.X, s.wavenumbers + 100.0, s.labels, s.meta), other, chunks=(4, 4))
    with pytest.raises(RamancamError, match="spectra must be on the model's grid"):
        run(MapJob("predict", str(model_path), str(other), str(tmp_path / "o.zarr")))
    assert not (tmp_path / "o.zarr").exists()
    # on the command line: --out DIR is made only with the store; a file is refused
    assert main(["predict", str(model_path), str(other), "--out", str(tmp_path / "od")]) == 2
    assert not (tmp_path / "od").exists()
    (tmp_path / "afile").write_text("keep")
    assert main(["predict", str(model_path), str(rev), "--out", str(tmp_path / "afile")]) == 2
    assert (tmp_path / "afile").read_text() == "keep"


def test_agreement_counts_flagged_and_refused_pixels_and_says_how(small_map, tmp_path):
    import zarr

    from ramancam.maps.agreement import agreement, agreement_details, agreement_line

    model, model_path, cube, s = small_map
    run(MapJob("predict", str(model_path), str(cube), str(tmp_path / "h.zarr")))
    proba, _ = _reference(model, s)
    hit = np.asarray(CLASSES)[proba.argmax(axis=1)] == s.labels
    g = zarr.open_group(str(tmp_path / "h.zarr"), mode="r+")
    assert agreement(tmp_path / "h.zarr", cube) == (int(hit.sum()), 99, 0, 0)
    # every truth class is the model's: none to name
    assert agreement_details(tmp_path / "h.zarr", cube) == ((int(hit.sum()), 99, 0, 0), [])
    # two pixels refused (a flat spectrum under a normalising recipe: class -1)
    pred = np.asarray(g["predicted"][...])
    pred.flat[[3, 40]] = -1
    g["predicted"][...] = pred
    hit[[3, 40]] = False
    right, total, flagged, refused = agreement(tmp_path / "h.zarr", cube)
    assert (right, total, flagged, refused) == (int(hit.sum()), 99, 0, 2)
    # pixels flagged unknown keep their nearest class in 'predicted' and count by it
    flags = np.zeros((9, 11), dtype=bool)
    flags[0, :5] = True
    flags.flat[3] = True                                  # a refused pixel: counted once
    if "unknown" not in g:
        g.create_array("unknown", shape=(9, 11), chunks=(4, 4), dtype="bool")
    g["unknown"][...] = flags
    assert agreement(tmp_path / "h.zarr", cube) == (int(hit.sum()), 99, 4, 2)
    assert agreement_line((90, 99, 4, 2)) == (
        "agreement with the cube's truth: 0.9091 (90/99; the 4 flagged unknown counted by "
        "their nearest class; the 2 not predicted counted wrong)")
    assert agreement_line((90, 99, 0, 0)) == "agreement with the cube's truth: 0.9091 (90/99)"


def test_a_cube_run_says_when_no_pixel_can_be_flagged(small_map, tmp_path, capsys):
    # a model without a novelty threshold (too few held-out spectra) printed "unknown: 0/99
    # pixels flagged (threshold for 5% false alarms; ...)", as if a threshold had checked
    from ramancam.bundle import save, training_summary
    from ramancam.train import CNNClassifier

    _, _, cube_path, s = small_map
    few = s[:12]
    est = CNNClassifier(n_filters=4, filter_size=5, fc_width=8, epochs=2,
                        random_state=0).fit(few.X, few.labels)
    assert est.novelty is not None and not np.isfinite(est.novelty_threshold_)
    model_path = tmp_path / "few.ramancam"
    save(model_path, estimator=est, recipe=None, grid=s.wavenumbers,
         training_summary=training_summary(few))
    assert main(["predict", str(model_path), str(cube_path), "--out",
                 str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "unknown: none can be flagged: the model has no novelty threshold" in out
    assert "pixels flagged (" not in out
    # the store recorded the threshold as inf: zarr 3.1.0 refused to write it (the run
    # stopped: "Out of range float values are not JSON compliant: inf"), later zarr wrote
    # Infinity into zarr.json, no JSON to a strict reader, nor info --json's output. null
    # now, as the model file keeps it
    import json

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))

    store = tmp_path / "res" / "predictions.zarr"
    record = strict((store / "zarr.json").read_text(encoding="utf-8"))
    assert record["attributes"]["ramancam"]["novelty"]["threshold"] is None
    # a store of an earlier version (Infinity) reads alike, and info says there is none
    old = tmp_path / "old.zarr"
    shutil.copytree(store, old)
    text = (old / "zarr.json").read_text(encoding="utf-8")
    (old / "zarr.json").write_text(text.replace('"threshold": null', '"threshold": Infinity'),
                                   encoding="utf-8")
    for path in (store, old):
        assert main(["info", str(path), "--json"]) == 0
        assert strict(capsys.readouterr().out)["novelty"]["threshold"] is None
        assert main(["info", str(path)]) == 0
        said = [line for line in capsys.readouterr().out.splitlines() if "unknown:" in line]
        assert said == ["  unknown:   none can be flagged: the model has no novelty threshold "
                        "(too few held-out spectra in training)"]
    from ramancam.cli._scale import _has_threshold

    assert not _has_threshold({"threshold": None})
    assert not _has_threshold({"threshold": float("inf")})
    assert _has_threshold({"threshold": 0.58})


def test_cli_predict_and_explain_on_a_cube(small_map, tmp_path, capsys):
    model, model_path, cube_path, s = small_map
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "res")]) == 0
    text = capsys.readouterr().out
    assert "wrote predictions of 99 spectra (9 tiles" in text
    # run in this process (no --workers): "per worker" named workers there were none of
    assert re.search(r"^peak memory: \d+ MiB$", text, re.M) and "per worker" not in text
    proba, _ = _reference(model, s)
    agree = int((np.asarray(CLASSES)[proba.argmax(axis=1)] == s.labels).sum())
    assert f"agreement with the cube's truth: {agree / 99:.4f} ({agree}/99)" in text
    # --out DIR: the class, confidence and per-class probability images beside the store
    assert (f"wrote 5 images (classes.png, confidence.png, ...) and report.html to "
            f"{tmp_path / 'res'}") in text
    for name in ("classes.png", "confidence.png", "proba_01.png", "proba_03.png"):
        assert (tmp_path / "res" / name).stat().st_size > 0
    # and the report: the class table of the store's pixels and every image
    page = (tmp_path / "res" / "report.html").read_text()
    assert "ramancam predict: map" in page and page.count("data:image/png;base64,") == 5
    # with the agreement line predict printed (the map in memory's page has its accuracy)
    assert f"agreement with the cube&#x27;s truth: {agree / 99:.4f} ({agree}/99)" in page
    pred = read_results(tmp_path / "res" / "predictions.zarr")["predicted"]
    for i, c in enumerate(CLASSES):
        assert re.search(rf"<td>{c}</td><td[^>]*>{int((pred == i).sum())}</td>", page)
    # again: everything is done already
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "res")]) == 0
    assert "resumed, 9 of 9 tiles were already done" in capsys.readouterr().out
    # explain into predict's folder would replace its images and report
    assert main(["explain", str(model_path), str(cube_path), "--out", str(tmp_path / "res")]
                ) == 2
    assert "holds the outputs of predict (predictions.zarr)" in capsys.readouterr().err
    assert main(["explain", str(model_path), str(cube_path), "--target", "peak_30",
                 "--out", str(tmp_path / "e.zarr")]) == 0
    r = read_results(tmp_path / "e.zarr")
    assert r["maps"].shape == (9, 11, N_CH)
    # a cube's default map is fc (ig-bands, the default for spectra files, costs 32 passes)
    assert "fc maps (peak_30)" in capsys.readouterr().out
    assert main(["predict", str(model_path), str(tmp_path / "x.csv"), "--workers", "2",
                 "--out", str(tmp_path / "y")]) == 2
    assert "error: DATA must be a Zarr cube (a .zarr folder)" in capsys.readouterr().err
    assert main(["predict", str(model_path), str(cube_path)]) == 2
    assert "error: --out must name the result folder" in capsys.readouterr().err
    assert main(["explain", str(model_path), str(cube_path), "--plot",
                 str(tmp_path / "a.png"), "--out", str(tmp_path / "z")]) == 2
    assert "error: --plot must not be given" in capsys.readouterr().err
    # --bands: drawn from the store, so only where images are drawn, and on the model's grid
    assert main(["explain", str(model_path), str(cube_path), "--bands", "30",
                 "--out", str(tmp_path / "b.zarr")]) == 2
    assert "error: --bands must come with --out DIR or --report FILE.html for a Zarr cube" \
        in capsys.readouterr().err
    assert main(["explain", str(model_path), str(cube_path), "--bands", "30,999",
                 "--out", str(tmp_path / "b")]) == 2
    assert "error: --bands must lie within the model's grid (0-63 cm-1); got 999" in \
        capsys.readouterr().err
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.zarr").exists()


def test_a_cube_explains_a_class_named_like_a_target_keyword(small_map, tmp_path, capsys):
    # a model with classes 'all' and 'true': --target all mapped every class, --target true
    # was refused for cubes, and no spelling picked either class
    from ramancam.bundle import save, training_summary

    model, _, cube_path, s = small_map
    names = ["all", "true", "c"]
    model_path = tmp_path / "words.ramancam"
    save(model_path, estimator=model, recipe=None, grid=s.wavenumbers, classes=names,
         training_summary=training_summary(s))
    for word in ("all", "true"):
        assert main(["explain", str(model_path), str(cube_path), "--target", word,
                     "--out", str(tmp_path / f"{word}.zarr")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --target must name one thing; got {word}, both the "
                              "keyword (") and err.endswith(
            f"and one of the model's classes. Give --target class:{word} for the class.\n")
        assert not (tmp_path / f"{word}.zarr").exists()
    assert main(["explain", str(model_path), str(cube_path), "--target", "class:true",
                 "--out", str(tmp_path / "t.zarr")]) == 0
    assert "fc maps (class:true)" in capsys.readouterr().out
    _, maps = _reference(model, s)  # every class's fc map of every pixel
    np.testing.assert_allclose(read_results(tmp_path / "t.zarr")["maps"].reshape(99, N_CH),
                               maps[:, 1], rtol=1e-4, atol=1e-6)
    # in Python the job's target is checked alike
    with pytest.raises(RamancamError, match=r"target must name one thing; got all, both the "
                                            r"keyword \(every class\)"):
        run(MapJob("explain", str(model_path), str(cube_path), str(tmp_path / "p.zarr"),
                   target="all"))


# --------------------------------------------------------------------------- unknown pixels

#: Band positions (channels) of four substances; the model is trained on the first three.
BANDS = {"a": (8, 28, 48), "b": (14, 36, 56), "c": (4, 20, 40), "d": (24, 44, 60)}


def _substance(name, n, rng):
    return lorentz_substance(BANDS[name], n, N_CH, rng)


@pytest.fixture(scope="module")
def novelty_map(one_torch_thread, tmp_path_factory):
    """A tiny CNN with the default novelty score (hqi) trained on substances a, b, c, and an
    8 x 12 cube in 4 x 4 tiles whose last four columns are substance d (never seen)."""
    from ramancam.bundle import save
    from ramancam.train import CNNClassifier

    rng = np.random.default_rng(3)
    X = np.vstack([_substance(c, 30, rng) for c in "abc"])
    y = np.repeat(list("abc"), 30)
    est = CNNClassifier(n_filters=4, filter_size=5, fc_width=16, epochs=20, lr=3e-3,
                        batch_size=16, random_state=0).fit(X, y)
    assert est.novelty_scorer_ is not None and np.isfinite(est.novelty_threshold_)
    est.temperature_ = 1.7  # as if calibrated: the store's proba must use it
    est.class_scores_ = np.linspace(0.0, 0.6, 60)  # held-out 1 - p(true): some sets of two
    tmp = tmp_path_factory.mktemp("novelty_map")
    grid = np.arange(N_CH, dtype=np.float64)
    model_path = save(tmp / "model.ramancam", estimator=est, recipe=None, grid=grid,
                      classes=list(est.classes_), training_summary={})
    ny, nx = 8, 12
    truth = np.asarray(list("abc"))[rng.integers(0, 3, (ny, nx))]
    truth[:, 8:] = "d"
    cube = np.empty((ny, nx, N_CH))
    for c in "abcd":
        m = truth == c
        cube[m] = _substance(c, int(m.sum()), rng)
    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    s = Spectra(cube.reshape(ny * nx, N_CH), grid, truth.ravel(),
                {"x": xx.ravel() * 1.0, "y": yy.ravel() * 1.0})
    cube_path = tmp / "map.zarr"
    write_cube(s, cube_path, chunks=(4, 4))
    return model_path, cube_path, s


def test_tiled_predict_flags_the_substance_the_model_never_saw(novelty_map, tmp_path,
                                                               monkeypatch):
    import ramancam.scale as scale
    from ramancam.bundle import load

    model_path, cube_path, s = novelty_map
    out = tmp_path / "p.zarr"
    job = MapJob("predict", str(model_path), str(cube_path), str(out))
    summary = run(job)
    r = read_results(out)
    assert r["novelty"].dtype == np.float32 and r["unknown"].dtype == np.bool_
    assert r["unknown"].shape == (8, 12)
    assert r["unknown"][:, 8:].mean() >= 0.9  # the unseen substance
    assert r["unknown"][:, :8].mean() <= 0.15  # known substances: about the 5 % false alarms
    assert summary.n_unknown == int(r["unknown"].sum()) and summary.n_pixels == 96
    assert (r["predicted"] >= 0).all()  # still the nearest class
    # the same scores and flags as the in-memory predict
    b = load(model_path)
    proba, score, flags = b.predict_novelty(Spectra(s.X.astype(np.float32), s.wavenumbers))
    np.testing.assert_allclose(r["proba"].reshape(96, -1), proba, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["novelty"].ravel(), score, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(r["unknown"].ravel(), flags)
    # the library match: predict_all's class of the most similar training spectrum
    match = b.predict_all(Spectra(s.X.astype(np.float32), s.wavenumbers))[3]
    assert r["library_match"].dtype == np.int16
    np.testing.assert_array_equal(np.asarray(b.classes)[r["library_match"].ravel()], match)
    assert summary.n_library_agree == int((r["library_match"] == r["predicted"]).sum())
    assert (r["library_match"][:, :8] == r["predicted"][:, :8]).mean() >= 0.9  # known pixels
    # the p-values of predictions.csv's novelty_p; every flagged pixel at or below the rate
    assert r["novelty_p"].dtype == np.float32
    np.testing.assert_allclose(r["novelty_p"].ravel(), b.novelty_p(score), rtol=1e-6)
    assert (r["novelty_p"][r["unknown"]] <= 0.05).all()
    # the 95 % prediction sets of predictions.csv's prediction_set, and their sizes counted
    sets = b.prediction_sets(proba)
    assert r["prediction_set"].dtype == np.bool_ and r["prediction_set"].shape == (8, 12, 3)
    np.testing.assert_array_equal(r["prediction_set"].reshape(96, -1), sets)
    size = sets.sum(axis=1)
    assert summary.set_sizes == (int((size == 1).sum()), int((size > 1).sum()))
    assert sum(summary.set_sizes) == 96 and size.min() >= 1 and summary.set_sizes[1] > 0
    # resume after an interruption: identical to the uninterrupted run
    part = tmp_path / "part.zarr"
    _, real = _stop_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        run(MapJob("predict", str(model_path), str(cube_path), str(part)))
    assert np.isnan(read_results(part)["novelty"]).any()
    assert (read_results(part)["library_match"] == -1).any()  # not computed yet
    monkeypatch.setattr(scale, "run_tile", real)
    resumed = run(MapJob("predict", str(model_path), str(cube_path), str(part)))
    assert (resumed.skipped, resumed.n_unknown, resumed.n_library_agree) == (
        3, summary.n_unknown, summary.n_library_agree)
    again = read_results(part)
    assert resumed.set_sizes == summary.set_sizes
    for k in ("predicted", "proba", "novelty", "unknown", "library_match", "band_shift",
              "novelty_p", "prediction_set", "done"):
        np.testing.assert_array_equal(again[k], r[k], err_msg=k)


def test_tiled_predict_reads_each_pixels_band_shift_and_says_when_the_axis_is_off(
        novelty_map, tmp_path, capsys):
    """Every pixel's bands 3 channels (3 cm-1) higher: the store's band_shift array reads
    about +3 where the in-memory predict does, and the run prints predict's axis line;
    the cube as measured gives no line."""
    from ramancam.bundle import load
    from ramancam.checks import shift_note

    model_path, cube_path, s = novelty_map
    known = s.labels != "d"
    shifted = Spectra(np.roll(s.X, 3, axis=1), s.wavenumbers, s.labels, s.meta)
    write_cube(shifted, tmp_path / "shifted.zarr", chunks=(4, 4))
    assert main(["predict", str(model_path), str(tmp_path / "shifted.zarr"), "--out",
                 str(tmp_path / "s.zarr")]) == 0
    out = capsys.readouterr().out
    r = read_results(tmp_path / "s.zarr")
    assert r["band_shift"].dtype == np.float32 and r["band_shift"].shape == (8, 12)
    # the same numbers as the in-memory check of the same spectra
    b = load(model_path)
    mem = b.band_shift(Spectra(shifted.X.astype(np.float32), shifted.wavenumbers))
    np.testing.assert_allclose(r["band_shift"].ravel(), mem, rtol=1e-5, atol=1e-5)
    read = r["band_shift"].ravel()[known]
    assert np.isfinite(read).mean() >= 0.9
    assert abs(np.nanmedian(read) - 3.0) <= 0.3
    line = next(x for x in out.splitlines() if x.startswith("axis: "))
    # (a model without a resampling recipe: no --axis-offset offered)
    assert line == f"{shift_note(r['band_shift'].ravel(), offset_fix=False)} (array 'band_shift')"
    assert "cm-1 higher than in the model's training spectra" in line
    # as measured: shifts near zero, no line
    assert main(["predict", str(model_path), str(cube_path), "--out",
                 str(tmp_path / "m.zarr")]) == 0
    assert "axis:" not in capsys.readouterr().out
    assert abs(np.nanmedian(read_results(tmp_path / "m.zarr")["band_shift"])) < 0.5
    # a model saved before the training means travelled: no array, no line
    old_file = without_references(model_path, tmp_path / "old.ramancam")
    assert main(["predict", str(old_file), str(tmp_path / "shifted.zarr"), "--out",
                 str(tmp_path / "o.zarr")]) == 0
    assert "axis:" not in capsys.readouterr().out
    assert "band_shift" not in read_results(tmp_path / "o.zarr")


def test_cli_cube_predict_reports_unknown_pixels_and_marks_them_in_the_class_image(
        novelty_map, small_map, tmp_path, capsys, drawn_unknown):
    model_path, cube_path, _ = novelty_map
    seen = drawn_unknown
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    r = read_results(tmp_path / "r" / "predictions.zarr")
    flags = r["unknown"]
    assert (f"unknown: {int(flags.sum())}/96 pixels flagged (threshold for 5% false alarms; "
            "array 'unknown')") in text
    # the predicted: line of a CSV run (it had none): flagged pixels as unknown
    from collections import Counter

    from ramancam.bundle import load as load_model
    from ramancam.cli._outputs import predicted_line

    names = load_model(model_path).classes
    want = Counter(["unknown" if f else names[p] for p, f in zip(
        r["predicted"].ravel(), flags.ravel(), strict=True)])
    assert predicted_line(want) in text.splitlines()
    # the truth's class d is none of the model's: its 32 pixels count wrong, and the
    # agreement line said so no more than "0.6000 (..." (the table path's note)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("agreement with"))
    assert lines[at + 1] == "note: labels not known to the model count as wrong: ['d']"
    assert "agreement with the cube&#x27;s truth" in (tmp_path / "r" / "report.html").read_text()
    assert "labels not known to the model count as wrong: [&#x27;d&#x27;]" in (
        tmp_path / "r" / "report.html").read_text()
    np.testing.assert_array_equal(seen[-1], flags)
    r = read_results(tmp_path / "r" / "predictions.zarr")
    agree = int((r["library_match"] == r["predicted"]).sum())
    assert (f"library search (the most similar training spectrum, array 'library_match') "
            f"names the network's nearest class (flagged pixels too) for {agree}/96 pixels") in text
    size = r["prediction_set"].sum(axis=-1)
    assert (f"prediction sets (95%, array 'prediction_set'): {int((size == 1).sum())} pixels "
            f"with one class, {int((size > 1).sum())} with more") in text
    # the p-value and set-size images beside the class images
    for name in ("novelty_p.png", "set_size.png"):
        assert (tmp_path / "r" / name).stat().st_size > 1000
    # the report lists the pixels to check: flagged, several classes, or another library
    # class; the smallest novelty p-value first
    look = (r["unknown"] | (size > 1) | (r["library_match"] != r["predicted"]))
    page = (tmp_path / "r" / "report.html").read_text()
    assert f"{int(look.sum())} of 96 pixels need a second look" in page
    listed = re.findall(r"<td>y(\d+)x(\d+)</td>", page)
    assert len(listed) == min(int(look.sum()), 50) and all(look[int(a), int(b)]
                                                            for a, b in listed)
    shown_p = [r["novelty_p"][int(a), int(b)] for a, b in listed]
    assert shown_p == sorted(shown_p)
    first = listed[0]
    assert r["unknown"][int(first[0]), int(first[1])]  # the most novel is a flagged pixel
    # the first six are drawn, read from the cube, against their nearest class's mean
    drawn = min(len(listed), 6)
    assert f"The first {drawn} of them, preprocessed, against the mean training" in page
    images = len(list((tmp_path / "r").glob("*.png")))
    assert page.count("data:image/png;base64,") == images + 1
    # a model saved before the training labels travelled: no library_match array, no line
    old_file = without_references(model_path, tmp_path / "old.ramancam")
    assert main(["predict", str(old_file), str(cube_path), "--out", str(tmp_path / "x.zarr")]
                ) == 0
    text = capsys.readouterr().out
    assert "library search" not in text and "prediction sets" not in text
    assert "library_match" not in read_results(tmp_path / "x.zarr")
    assert "prediction_set" not in read_results(tmp_path / "x.zarr")
    # --no-reject: the same store, classes.png shows the nearest class
    assert main(["predict", str(model_path), str(cube_path), "--no-reject",
                 "--out", str(tmp_path / "n")]) == 0
    assert "--no-reject: classes.png shows the nearest class" in capsys.readouterr().out
    assert seen[-1] is None
    np.testing.assert_array_equal(read_results(tmp_path / "n" / "predictions.zarr")["unknown"],
                                  flags)
    # explain writes the same flags
    assert main(["explain", str(model_path), str(cube_path),
                 "--out", str(tmp_path / "e.zarr")]) == 0
    assert f"unknown: {int(flags.sum())}/96 pixels flagged" in capsys.readouterr().out
    np.testing.assert_array_equal(read_results(tmp_path / "e.zarr")["unknown"], flags)
    # a model without novelty detection: no arrays, one note
    _, old_model, old_cube, _ = small_map
    assert main(["predict", str(old_model), str(old_cube), "--out", str(tmp_path / "o.zarr")]) == 0
    assert capsys.readouterr().out.count("note: the model has no novelty score") == 1
    assert "unknown" not in read_results(tmp_path / "o.zarr")


def test_class_image_draws_unknown_pixels_in_their_own_colour():
    from matplotlib.figure import Figure

    from ramancam.maps.grid import MapGrid
    from ramancam.maps.images import draw_class_image

    grid = MapGrid.regular(3, 2, step=1.0)
    pred = np.array([[0, 1, -1], [0, -1, 1]])
    # (1, 0) flagged; (2, 0) no class but flagged (a dead pixel the recipe refused): not
    # predicted, as predict's line and the report's table say it (the legend counted it
    # unknown); (1, 1) no class, not flagged: no spectrum there
    import matplotlib.colors as mcolors

    from ramancam.maps.images import NOT_PREDICTED_COLOR, UNKNOWN_COLOR

    flagged = np.array([[False, True, True], [False, False, False]])
    ax = Figure().add_subplot()
    draw_class_image(ax, grid, pred, ["a", "b"], unknown=flagged)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a (2)", "b (1)", "unknown (1)", "not predicted (1)", "no spectrum (1)"]
    shown = ax.get_images()[0].get_array()
    assert shown[0, 1] == 2 and shown[0, 2] == 3 and np.ma.is_masked(shown[1, 1])
    assert shown[1, 2] == 1
    cmap = ax.get_images()[0].get_cmap()
    assert [mcolors.to_hex(cmap(v)) for v in (2, 3)] == [UNKNOWN_COLOR, NOT_PREDICTED_COLOR]
    assert [mcolors.to_hex(p.get_facecolor()) for p in ax.get_legend().get_patches()[2:4]] == [
        UNKNOWN_COLOR, NOT_PREDICTED_COLOR]
    # only dead pixels marked (predict --no-reject): no "unknown (0)" beside them
    ax = Figure().add_subplot()
    draw_class_image(ax, grid, pred, ["a", "b"], unknown=pred < 0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a (2)", "b (2)", "not predicted (2)"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"shape": (0, 4)}, r"shape must be \(ny, nx\), two positive integers; got \(0, 4\)"),
    ({"shape": "ab"}, r"shape must be \(ny, nx\), two positive integers; got 'ab'"),
    ({"chunks": (8,)}, r"chunks must be \(cy, cx\), two positive integers; got \(8,\)"),
    ({"chunks": (8, -1)}, r"chunks must be \(cy, cx\), two positive integers; got \(8, -1\)"),
])
def test_create_cube_refuses_bad_shape_and_chunks(tmp_path, kwargs, message):
    args = {"shape": (3, 4), **kwargs}
    with pytest.raises(RamancamError, match=message):
        create_cube(tmp_path / "c.zarr", args.pop("shape"), np.arange(5.0), **args)
    assert not (tmp_path / "c.zarr").exists()


def test_dead_pixels_of_a_cube_are_refused_not_fatal(novelty_map, tmp_path, capsys,
                                                     drawn_unknown):
    # The same network saved with a recipe that normalises to the maximum: two flat pixels
    # in two tiles are refused (-1, NaN, unknown), every other pixel is as without them.
    from ramancam.bundle import load, save
    from ramancam.preprocess import Recipe, Step
    from ramancam.train import CNNClassifier

    s = novelty_map[2]

    rng = np.random.default_rng(3)
    X = np.vstack([_substance(c, 30, rng) for c in "abc"])
    fitted = CNNClassifier(n_filters=4, filter_size=5, fc_width=16, epochs=3, lr=3e-3,
                           batch_size=16, random_state=0).fit(X, np.repeat(list("abc"), 30))
    grid = np.arange(N_CH, dtype=np.float64)
    model = save(tmp_path / "norm.ramancam", estimator=fitted,
                 recipe=Recipe([Step("normalize", {"method": "max"})]), grid=grid,
                 classes=list(fitted.classes_), training_summary={})
    X = s.X.copy()
    dead = [(1, 2), (6, 9)]  # (y, x) in tiles (0, 0) and (1, 2)
    for y, x in dead:
        X[y * 12 + x] = 0.0
    cube = tmp_path / "dead.zarr"
    write_cube(Spectra(X, grid, s.labels, s.meta), cube, chunks=(4, 4))
    summary = run(MapJob("predict", str(model), str(cube), str(tmp_path / "p.zarr")))
    r = read_results(tmp_path / "p.zarr")
    assert summary.n_refused == 2 and summary.n_pixels == 96
    assert summary.n_spectra == 94  # the spectra computed (96 before: the refused counted)
    for y, x in dead:
        assert r["predicted"][y, x] == -1 and r["unknown"][y, x]
        assert np.isnan(r["proba"][y, x]).all() and np.isnan(r["novelty"][y, x])
        assert r["library_match"][y, x] == -1
    keep = np.ones((8, 12), dtype=bool)
    for y, x in dead:
        keep[y, x] = False
    whole = load(model).predict_all(Spectra(X[keep.ravel()].astype(np.float32), grid))
    np.testing.assert_allclose(r["proba"][keep], whole[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(r["unknown"][keep], whole[2])
    assert summary.n_unknown == int(whole[2].sum())  # the novelty flags alone
    # explain: NaN maps there, the rest computed
    run(MapJob("explain", str(model), str(cube), str(tmp_path / "e.zarr")))
    e = read_results(tmp_path / "e.zarr")
    assert np.isnan(e["maps"][1, 2]).all() and np.isfinite(e["maps"][keep]).all()
    # the command line names them and draws them as unknown, --no-reject too
    seen = drawn_unknown
    for extra in ([], ["--no-reject"]):
        capsys.readouterr()
        out = tmp_path / f"cli{len(extra)}"
        assert main(["predict", str(model), str(cube), *extra, "--out", str(out)]) == 0
        text = capsys.readouterr().out
        assert "not predicted: 2/96 pixels refused by the model's recipe" in text
        assert "missing:" not in text  # the cube has every pixel
        assert seen[-1][1, 2] and seen[-1][6, 9]
        assert f"unknown: {summary.n_unknown}/94 pixels flagged" in text
    # a whole tile dead (rows 0-3, columns 8-11): written as refused, the others computed
    X[:48].reshape(4, 12, -1)[:, 8:] = 0.0
    write_cube(Spectra(X, grid, s.labels, s.meta), tmp_path / "tile.zarr", chunks=(4, 4))
    for kind in ("predict", "explain"):
        done = run(MapJob(kind, str(model), str(tmp_path / "tile.zarr"),
                          str(tmp_path / f"t-{kind}.zarr")))
        t = read_results(tmp_path / f"t-{kind}.zarr")
        assert done.n_refused == 16 + 2 and t["done"].all()  # the tile and the two pixels
        assert (t["predicted"][:4, 8:] == -1).all() and t["unknown"][:4, 8:].all()
        assert (t["predicted"][:, :8] >= 0).sum() == 8 * 8 - 1  # all but pixel (1, 2)


def test_a_cube_short_of_the_models_range_is_refused_before_any_tile(novelty_map, tmp_path):
    from ramancam.bundle import save
    from ramancam.preprocess import Recipe, Step
    from ramancam.train import CNNClassifier

    s = novelty_map[2]
    rng = np.random.default_rng(3)
    X = np.vstack([_substance(c, 30, rng) for c in "abc"])
    fitted = CNNClassifier(n_filters=2, filter_size=3, fc_width=4, epochs=1,
                           random_state=0).fit(X, np.repeat(list("abc"), 30))
    grid = np.arange(N_CH, dtype=np.float64)
    model = save(tmp_path / "r.ramancam", estimator=fitted,
                 recipe=Recipe([Step("resample", {"start": 0.0, "stop": N_CH - 1.0, "step": 1.0,
                                                  "outside": "error", "tolerance": None})]),
                 grid=grid, classes=list(fitted.classes_), training_summary={})
    short = Spectra(s.X[:, : N_CH // 2], grid[: N_CH // 2], s.labels, s.meta)
    write_cube(short, tmp_path / "short.zarr", chunks=(4, 4))
    with pytest.raises(RamancamError, match="cover"):
        run(MapJob("predict", str(model), str(tmp_path / "short.zarr"),
                   str(tmp_path / "o.zarr")))
    assert not (tmp_path / "o.zarr").exists()


def test_axis_offset_on_a_cube_moves_every_pixel_back(novelty_map, tmp_path, capsys):
    """A cube measured 3 channels (cm-1) high, a model with a resampling recipe: the run
    names --axis-offset -3.0; with it, every pixel's probabilities equal those of the cube
    as measured. The offset is one of the settings a resumed run must share."""
    from ramancam.bundle import save
    from ramancam.preprocess import Recipe, Step
    from ramancam.train import CNNClassifier

    _, cube_path, s = novelty_map
    rng = np.random.default_rng(3)
    X = np.vstack([_substance(c, 30, rng) for c in "abc"])[:, 4:60]
    est = CNNClassifier(n_filters=4, filter_size=5, fc_width=16, epochs=20, lr=3e-3,
                        batch_size=16, random_state=0).fit(X, np.repeat(list("abc"), 30))
    model = save(tmp_path / "r.ramancam", estimator=est,
                 recipe=Recipe([Step("resample", {"start": 4.0, "stop": 59.0, "step": 1.0,
                                                  "outside": "error", "tolerance": None})]),
                 grid=np.arange(4.0, 60.0), classes=list(est.classes_), training_summary={})
    shifted = Spectra(np.roll(s.X, 3, axis=1), s.wavenumbers, s.labels, s.meta)
    write_cube(shifted, tmp_path / "high.zarr", chunks=(4, 4))
    assert main(["predict", str(model), str(tmp_path / "high.zarr"), "--out",
                 str(tmp_path / "a.zarr")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("axis: "))
    assert "cm-1 higher" in line and "correct it with --axis-offset -3." in line
    assert line.endswith("(array 'band_shift')")
    assert main(["predict", str(model), str(tmp_path / "high.zarr"), "--axis-offset", "-3",
                 "--out", str(tmp_path / "b.zarr")]) == 0
    assert "axis:" not in capsys.readouterr().out
    assert main(["predict", str(model), str(cube_path), "--out", str(tmp_path / "c.zarr")]) == 0
    fixed, plain = read_results(tmp_path / "b.zarr"), read_results(tmp_path / "c.zarr")
    np.testing.assert_allclose(fixed["proba"], plain["proba"], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(fixed["predicted"], plain["predicted"])
    assert abs(np.nanmedian(fixed["band_shift"])) < 0.3
    # resuming into a store of another offset is refused; the run without one still resumes
    with pytest.raises(RamancamError, match="differs in axis_offset"):
        run(MapJob("predict", str(model), str(tmp_path / "high.zarr"),
                   str(tmp_path / "b.zarr"), axis_offset=-2.0))
    assert run(MapJob("predict", str(model), str(cube_path), str(tmp_path / "c.zarr"))
               ).skipped == 6
    # an offset that moves the cube off the model's range names the cube ("spectrum 0")
    assert main(["predict", str(model), str(cube_path), "--axis-offset", "10", "--out",
                 str(tmp_path / "d.zarr")]) == 2
    assert f"got file {cube_path} covering 10-" in capsys.readouterr().err
    # options that describe how files are read do not apply to a cube
    for opt in (["--laser-nm", "785"], ["--files", "*.spc"], ["--xy-cols", "a,b"]):
        assert main(["predict", str(model), str(cube_path), *opt, "--out",
                     str(tmp_path / "x.zarr")]) == 2
        assert f"error: {opt[0]} must not be given for a Zarr cube" in capsys.readouterr().err
    # another false-alarm rate: the store's novelty_p array answers it
    assert main(["predict", str(model), str(cube_path), "--novelty-rate", "0.1", "--out",
                 str(tmp_path / "x.zarr")]) == 2
    assert "--novelty-rate must not be given for a Zarr cube" in capsys.readouterr().err
    assert main(["predict", str(model), str(cube_path), "--axis-offset", "99", "--out",
                 str(tmp_path / "x.zarr")]) == 2
    assert "--axis-offset must be a number of cm-1 between -50 and 50" in capsys.readouterr().err
    assert not (tmp_path / "x.zarr").exists()


def test_info_describes_a_cube_and_a_result_store(novelty_map, tmp_path, capsys, monkeypatch):
    import json

    import ramancam.scale as scale

    model_path, cube_path, _ = novelty_map
    assert main(["info", str(cube_path)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == f"{cube_path}: Zarr map cube"
    assert text[1] == "  pixels:    12 x 8 (nx x ny) = 96 spectra, tiles of 4 x 4 (6 tiles)"
    # channels 0..N_CH-1: said as channels, not cm-1
    assert text[2] == f"  axis:      0 to {N_CH - 1} channels, {N_CH} points, step 1"
    truth = np.asarray(open_cube(cube_path).truth[...])
    counts = {c: int((truth == i).sum()) for i, c in enumerate("abcd")}
    assert counts["d"] == 32 and sum(counts.values()) == 96
    shown = dict(part.rsplit(" (", 1) for part in text[4].split(":", 1)[1].strip().split(", "))
    assert {k: int(v.rstrip(")")) for k, v in shown.items()} == counts
    # an interrupted run: says so and how to go on
    _, real = _stop_after(monkeypatch, 2)
    store = tmp_path / "p.zarr"
    with pytest.raises(KeyboardInterrupt):
        run(MapJob("predict", str(model_path), str(cube_path), str(store)))
    assert main(["info", str(store)]) == 0
    assert ("(incomplete: 2 of 6 tiles done; run the same command again to resume)"
            in capsys.readouterr().out)
    monkeypatch.setattr(scale, "run_tile", real)
    summary = run(MapJob("predict", str(model_path), str(cube_path), str(store)))
    assert main(["info", str(store), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    r = read_results(store)
    assert d["kind"] == "predict" and d["complete"] and d["tiles_done"] == 6
    assert d["unknown"] == summary.n_unknown == int(r["unknown"].sum())
    assert sum(d["predicted"].values()) == 96 and d["not_predicted"] == 0
    assert d["predicted"]["a"] == int((r["predicted"] == 0).sum())
    assert d["arrays"]["prediction_set"] == {"shape": [8, 12, 3], "dtype": "bool"}
    assert d["cube"] == str(cube_path.resolve())
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out
    assert f"{store}: ramancam predict results on a map (complete)" in text
    assert f"  unknown:   {summary.n_unknown} pixels flagged (hqi-nap, threshold" in text
    # an explain store: its map settings too
    run(MapJob("explain", str(model_path), str(cube_path), str(tmp_path / "e.zarr"),
               method="fc"))
    assert main(["info", str(tmp_path / "e.zarr")]) == 0
    text = capsys.readouterr().out
    assert "ramancam explain results on a map (complete)" in text
    assert "  maps:      fc for the predicted class (" in text
    assert "maps (8, 12, " in text
    # options for spectra, and --plot, are refused in one line
    assert main(["info", str(cube_path), "--label-col", "label"]) == 2
    assert "got the Zarr cube" in capsys.readouterr().err
    assert main(["info", str(store), "--plot", str(tmp_path / "x.png")]) == 2
    assert "--plot draws spectra files and model files" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    # a tile written but not marked done (a run stopped inside it): its pixels are not
    # counted as predicted, as the resume computes them again
    zarr = pytest.importorskip("zarr")
    g = zarr.open_group(str(store), mode="r+")
    done = np.asarray(g["done"][...])
    done[0, 0] = 0
    g["done"][...] = done
    assert main(["info", str(store), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert sum(d["predicted"].values()) == 96 - 16 and d["not_predicted"] == 16


def test_cube_pixels_reads_and_prepares_the_pixels_asked_for(novelty_map):
    from ramancam.bundle import load
    from ramancam.predict_report import cube_pixels

    model_path, cube_path, _ = novelty_map
    bundle = load(model_path)
    whole, ok, _ = bundle.prepare_usable(read_cube(cube_path))
    assert ok.all()
    flat = np.array([95, 0, 13, 40])  # any order, any tile
    X, usable = cube_pixels(cube_path, bundle)(flat)
    assert usable.all()
    np.testing.assert_allclose(X, whole[flat])


def test_cli_cube_predict_writes_the_map_report_to_report(novelty_map, tmp_path, capsys,
                                                          monkeypatch):
    from ramancam import scale

    model_path, cube_path, _ = novelty_map
    # --out NAME.zarr: the store alone, and the page of --out DIR at --report
    page = tmp_path / "batch.html"
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "s.zarr"),
                 "--report", str(page)]) == 0
    out = capsys.readouterr().out
    assert f"wrote the report {page}" in out and "images" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.html", "s.zarr"]
    text = page.read_text()
    r = read_results(tmp_path / "s.zarr")
    look = (r["unknown"] | (r["prediction_set"].sum(axis=-1) > 1)
            | (r["library_match"] != r["predicted"]))
    assert f"{int(look.sum())} of 96 pixels need a second look" in text
    assert "ramancam predict: map" in text and "The first " in text
    # --out DIR and --report: the same page in both places
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "d"),
                 "--report", str(tmp_path / "d.html")]) == 0
    same = (tmp_path / "d" / "report.html").read_text()
    assert (tmp_path / "d.html").read_text() == same
    assert same.count("data:image/png;base64,") == text.count("data:image/png;base64,")
    # still checked before any work
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "e.zarr"),
                 "--report", str(tmp_path / "e.txt")]) == 2
    assert "--report must end in .html" in capsys.readouterr().err
    assert not (tmp_path / "e.zarr").exists()
    # a map too large to draw: no page, said so
    monkeypatch.setattr(scale, "IMAGE_LIMIT", 10)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "f.zarr"),
                 "--report", str(tmp_path / "f.html")]) == 0
    assert "no report: the map has more than 10 pixels to draw" in capsys.readouterr().out
    assert not (tmp_path / "f.html").exists()
    # --out DIR without --report: said too (the folder held the store alone, in silence)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "g")]) == 0
    assert ("no images or report in " + str(tmp_path / "g") + ": the map has more than 10 "
            "pixels to draw") in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["predictions.zarr"]
    # a table of an earlier run on spectra in memory, in the same folder, is named
    (tmp_path / "g" / "predictions.csv").write_text("id,predicted\n")
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "g")]) == 0
    assert (f"note: {tmp_path / 'g'} still holds predictions.csv of an earlier run on spectra "
            "in memory; this run's results are in the store") in capsys.readouterr().out


# --------------------------------------------------------------------------- explained maps

def _class_means_csv(path):
    """class_means.csv as {(class, kind): (n_pixels, values)}."""
    import csv

    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return {(r[0], r[1]): (int(r[2]), np.array(r[3:], dtype=float)) for r in rows[1:]}


def test_cli_cube_explain_draws_class_means_and_band_images(small_map, tmp_path, capsys):
    from ramancam.maps.images import top_bands

    model, model_path, cube_path, s = small_map
    page = tmp_path / "page.html"
    assert main(["explain", str(model_path), str(cube_path), "--target", "all",
                 "--out", str(tmp_path / "d"), "--report", str(page)]) == 0
    out, err = capsys.readouterr()
    assert "  9/9 tiles read for the band images" in err  # progress of the drawing too
    assert re.search(r"wrote \d+ images \(classes.png, confidence.png, \.\.\.\), "
                     r"class_means.csv and report.html to ", out)
    assert f"wrote the report {page}" in out
    # the class means: each pixel's spectrum and its own class's map, by predicted class,
    # from the per-tile sums (as explain's in-memory class_means.csv has them)
    proba, maps = _reference(model, s)
    pred = proba.argmax(axis=1)
    own = maps.reshape(99, 3, N_CH)[np.arange(99), pred]
    X = np.asarray(s.X, dtype=np.float32).astype(np.float64)
    got = _class_means_csv(tmp_path / "d" / "class_means.csv")
    assert {c for c, _ in got} == {CLASSES[i] for i in np.unique(pred)}
    for i in np.unique(pred):
        n, spectrum = got[(CLASSES[i], "spectrum")]
        assert n == int((pred == i).sum())
        np.testing.assert_allclose(spectrum, X[pred == i].mean(axis=0), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(got[(CLASSES[i], "map")][1], own[pred == i].mean(axis=0),
                                   rtol=1e-4, atol=1e-6)
    # band images at the 3 shifts with the largest mean |map|, as for a map in memory
    bands = top_bands(np.abs(own).mean(axis=0), np.arange(N_CH, dtype=np.float64))
    for k in (1, 2, 3):
        assert (tmp_path / "d" / f"band_0{k}.png").stat().st_size > 0
    text = page.read_text()
    assert text == (tmp_path / "d" / "report.html").read_text()
    assert "ramancam explain: map" in text and "Mean spectrum and map per predicted class" in text
    # the cube is still there: its pixels prepared again for the intensity beside the map
    assert "Preprocessed intensity (left) and the explanation map&#x27;s value (right)" in text
    for b in bands:
        assert f"<td>band_0{bands.index(b) + 1}.png</td><td class=\"num\">{b:g}</td>" in text
    pngs = sorted(p.name for p in (tmp_path / "d").glob("*.png"))
    assert text.count("data:image/png;base64,") == len(pngs)
    assert main(["info", str(tmp_path / "d" / "explain.zarr")]) == 0
    assert "  maps:      fc for every class (" in capsys.readouterr().out
    # bands of the user's choice: the map's value there, read from the store
    assert main(["explain", str(model_path), str(cube_path), "--target", "all", "--bands",
                 "10,49.6", "--out", str(tmp_path / "d2")]) == 0
    text = (tmp_path / "d2" / "report.html").read_text()
    assert '<td>band_01.png</td><td class="num">10</td><td class="num">10</td>' in text
    assert '<td>band_02.png</td><td class="num">49.6</td><td class="num">50</td>' in text
    assert not (tmp_path / "d2" / "band_03.png").exists()


def test_cube_explain_sums_survive_a_resume_and_older_stores_get_none(small_map, tmp_path,
                                                                     monkeypatch):
    import zarr

    from ramancam.scale import write_images

    _, model_path, cube_path, _ = small_map
    job = MapJob("explain", str(model_path), str(cube_path), str(tmp_path / "e.zarr"))
    _, real = _stop_after(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        run(job)
    import ramancam.scale as scale

    monkeypatch.setattr(scale, "run_tile", real)
    run(job)
    run(MapJob("explain", str(model_path), str(cube_path), str(tmp_path / "f.zarr")))
    a, b = read_results(tmp_path / "e.zarr"), read_results(tmp_path / "f.zarr")
    assert a["class_counts"].sum() == 99 and a["class_sums"].shape == (3, 3, 3, 3, N_CH)
    np.testing.assert_array_equal(a["class_counts"], b["class_counts"])
    np.testing.assert_allclose(a["class_sums"], b["class_sums"])
    # each tile's counts are its pixels' predicted classes
    first = np.bincount(a["predicted"][:4, :4].ravel(), minlength=3)
    np.testing.assert_array_equal(a["class_counts"][0, 0], first)
    # without the model (or the cube), the band images show the map alone
    (tmp_path / "alone").mkdir()
    write_images(tmp_path / "alone", tmp_path / "e.zarr")
    assert "The explanation map&#x27;s value at each band" in \
        (tmp_path / "alone" / "report.html").read_text()
    # a store written before the sums existed: the images and page, without class means
    g = zarr.open_group(str(tmp_path / "f.zarr"), mode="r+")
    del g["class_sums"], g["class_counts"]
    (tmp_path / "old").mkdir()
    written = write_images(tmp_path / "old", tmp_path / "f.zarr")
    names = [p.name for p in written]
    assert "class_means.csv" not in names and "band_01.png" not in names
    assert names[-1] == "report.html" and "classes.png" in names
    # --out NAME.zarr with --report: the page alone, drawn in a temporary folder
    assert main(["explain", str(model_path), str(cube_path), "--out",
                 str(tmp_path / "g.zarr"), "--report", str(tmp_path / "g.html")]) == 0
    assert "Band images" in (tmp_path / "g.html").read_text()
    assert not (tmp_path / "class_means.csv").exists()


# --------------------------------------------------------------------------- convert to a cube

def test_convert_a_measured_map_to_a_cube_with_missing_pixels(small_map, tmp_path, capsys):
    from ramancam.io import write_table

    _, model_path, cube_path, s = small_map
    rng = np.random.default_rng(3)
    keep = np.ones(99, dtype=bool)
    keep[[0, 17, 60]] = False  # (y, x) = (0, 0), (1, 6), (5, 5): never measured
    m = s[keep]
    # positions as an instrument writes them: 0.5 um steps from (10, -3), a little jitter
    m = m.replace(meta={"x": m.meta["x"] * 0.5 + 10 + rng.normal(0, 0.005, 96),
                        "y": m.meta["y"] * 0.5 - 3 + rng.normal(0, 0.005, 96)})
    write_table(m, tmp_path / "m.csv", label_col="label")
    out = tmp_path / "m.zarr"
    assert main(["convert", str(tmp_path / "m.csv"), str(out), "--label-col", "label",
                 "--chunk", "4x4"]) == 0
    assert (f"wrote a 11 x 9 map (96 spectra, 3 missing (empty), 64 points, tiles of 4 x 4) "
            f"to {out}") in capsys.readouterr().out
    cube = open_cube(out)
    assert cube.shape == (9, 11) and cube.chunks == (4, 4)
    np.testing.assert_allclose(cube.x, 10 + 0.5 * np.arange(11), atol=0.01)
    np.testing.assert_allclose(cube.y, -3 + 0.5 * np.arange(9), atol=0.01)
    assert np.isnan(cube.spectra[1, 6]).all() and int(cube.truth[1, 6]) == -1
    assert main(["info", str(out)]) == 0  # the missing pixels, known without reading
    assert "  pixels:    11 x 9 (nx x ny), 96 spectra and 3 missing pixels, tiles of 4 x 4" \
        in capsys.readouterr().out
    # read back: the measured pixels, in their order, with their labels
    back = read_cube(out)
    np.testing.assert_array_equal(back.X, np.asarray(m.X, dtype=np.float32))
    np.testing.assert_array_equal(back.labels, m.labels)
    # the tiled predict leaves the missing pixels out and predicts the rest as before
    assert main(["predict", str(model_path), str(out), "--out", str(tmp_path / "g")]) == 0
    text = capsys.readouterr().out
    # said, drawn and counted as never measured, as the map read into memory is (they were
    # "not predicted", magenta, and the report's grid "0 missing", 99 spectra)
    assert "missing: 3/99 pixels hold no spectrum in the cube (never measured" in text
    assert "not predicted:" not in text
    page = (tmp_path / "g" / "report.html").read_text()
    assert "3 missing</td>" in page and '<td>spectra</td><td class="num">96</td>' in page
    run(MapJob("predict", str(model_path), str(cube_path), str(tmp_path / "full.zarr")))
    a = read_results(tmp_path / "g" / "predictions.zarr")
    b = read_results(tmp_path / "full.zarr")
    measured = np.isin(np.arange(99), np.flatnonzero(keep)).reshape(9, 11)
    np.testing.assert_array_equal(a["predicted"] >= 0, measured)
    np.testing.assert_array_equal(a["predicted"][measured], b["predicted"][measured])
    np.testing.assert_allclose(a["proba"][measured], b["proba"][measured], rtol=1e-6)


def test_convert_to_a_cube_refuses_what_is_not_a_map(tmp_path, capsys, rng):
    from ramancam.io import write_table

    s = _grid_spectra(rng)
    write_table(Spectra(s.X, s.wavenumbers), tmp_path / "plain.csv")
    assert main(["convert", str(tmp_path / "plain.csv"), str(tmp_path / "p.zarr")]) == 2
    assert "IN must carry pixel positions (x/y) to be written as a Zarr cube" in \
        capsys.readouterr().err
    line = Spectra(s.X[:6], s.wavenumbers, None,
                   {"x": np.arange(6.0), "y": np.arange(6.0)})  # a diagonal line scan
    write_table(line, tmp_path / "line.csv")
    assert main(["convert", str(tmp_path / "line.csv"), str(tmp_path / "l.zarr")]) == 2
    assert "must form a 2-D map to be written as a cube; got a line scan of 6 pixels" in \
        capsys.readouterr().err
    write_table(s, tmp_path / "map.csv", label_col="label")
    assert main(["convert", str(tmp_path / "map.csv"), str(tmp_path / "m.csv"),
                 "--chunk", "4x4"]) == 2
    assert "--chunk must come with OUT.zarr" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "map.csv"), str(tmp_path / "m.zarr"),
                 "--chunk", "4by4"]) == 2
    assert "--chunk must be CXxCY with positive sizes, e.g. 64x64; got '4by4'" in \
        capsys.readouterr().err
    assert main(["convert", str(tmp_path / "map.csv"), str(tmp_path / "no" / "m.zarr")]) == 2
    assert "OUT must be in an existing folder" in capsys.readouterr().err
    assert not any(p.suffix == ".zarr" for p in tmp_path.iterdir())


def test_convert_streams_a_wdf_map_into_the_cube_it_would_read_whole(tmp_path, capsys,
                                                                     monkeypatch):
    import gzip

    import ramancam.io.wdf as wdf_module
    from _vendor_files import AXIS, peak_spectra, wdf_bytes

    rng = np.random.default_rng(7)
    yy, xx = np.meshgrid(np.arange(5), np.arange(6), indexing="ij")  # 6 x 5, y outer
    xy = np.column_stack([80.0 + 0.5 * xx.ravel(), -160.0 + 0.5 * yy.ravel()])[:-1]
    Y = peak_spectra(rng, len(xy))  # the last pixel was never measured
    raw = wdf_bytes(AXIS[::-1], Y, xy=xy, laser_nm=532.0, title="map 3")
    (tmp_path / "m.wdf").write_bytes(raw)
    (tmp_path / "m.wdf.gz").write_bytes(gzip.compress(raw))  # gzipped: read whole
    whole = []  # the files read whole into memory (read_wdf reads through read_bytes)
    real = wdf_module.read_bytes
    monkeypatch.setattr(wdf_module, "read_bytes", lambda p: (whole.append(p), real(p))[1])
    assert main(["convert", str(tmp_path / "m.wdf"), str(tmp_path / "s.zarr"),
                 "--chunk", "4x4"]) == 0
    assert not whole  # read tile by tile, not whole
    assert "  29/29 spectra (" in capsys.readouterr().err  # progress, tile by tile
    assert main(["convert", str(tmp_path / "m.wdf.gz"), str(tmp_path / "w.zarr"),
                 "--chunk", "4x4"]) == 0
    assert whole
    text = capsys.readouterr().out
    assert "wrote a 6 x 5 map (29 spectra, 1 missing (empty), 57 points, tiles of 4 x 4)" in text
    a, b = open_cube(tmp_path / "s.zarr"), open_cube(tmp_path / "w.zarr")
    np.testing.assert_array_equal(a.wavenumbers, b.wavenumbers)
    np.testing.assert_array_equal(np.asarray(a.spectra[...]), np.asarray(b.spectra[...]))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert np.isnan(a.spectra[4, 5]).all()
    back = read_cube(tmp_path / "s.zarr")
    np.testing.assert_array_equal(back.X, Y.astype(np.float32))
    # a damaged value is named, and no store is left behind
    bad = Y.copy()
    bad[11, 3] = np.nan
    (tmp_path / "bad.wdf").write_bytes(wdf_bytes(AXIS, bad, xy=xy))
    assert main(["convert", str(tmp_path / "bad.wdf"), str(tmp_path / "bad.zarr")]) == 2
    assert (f"file {tmp_path / 'bad.wdf'}: intensities must be finite; got a non-finite "
            "value in spectrum 11") in capsys.readouterr().err
    assert not any(p.name.startswith((".bad", "bad.zarr")) for p in tmp_path.iterdir())


def test_images_of_a_store_keep_each_axis_step(small_map, tmp_path):
    """A measured map's pixels need not be square, and a cube's coordinates may run down:
    the images of a result store are drawn on the store's own x and y."""
    from ramancam.io.zarr_cube import grid_places, write_cube_rows
    from ramancam.maps.grid import infer_grid
    from ramancam.maps.store import store_grid
    from ramancam.scale import write_images

    _, model_path, _, s = small_map
    grid = infer_grid(s.meta["x"] * 1.5, s.meta["y"] * 4.0)  # 1.5 um columns, 4 um rows
    cube = tmp_path / "rect.zarr"
    xs, ys, pixel = grid_places(grid, len(s))
    write_cube_rows(s.X, s.wavenumbers, xs, ys[::-1], pixel, cube, chunks=(4, 4))
    run(MapJob("predict", str(model_path), str(cube), str(tmp_path / "r.zarr")))
    import zarr

    g = store_grid(zarr.open_group(str(tmp_path / "r.zarr"), mode="r"))
    assert (g.nx, g.ny) == (11, 9)
    np.testing.assert_allclose([g.step_x, g.step_y, g.x0, g.y0], [1.5, -4.0, 0.0, 32.0],
                               atol=1e-9)
    # (left, right, bottom, top): rows run down from y = 32, drawn so
    np.testing.assert_allclose(g.extent(), [-0.75, 15.75, 34.0, -2.0], atol=1e-9)
    (tmp_path / "img").mkdir()
    written = write_images(tmp_path / "img", tmp_path / "r.zarr")
    assert written[-1].name == "report.html" and (tmp_path / "img" / "classes.png").exists()


def test_cube_explain_page_draws_each_pixel_to_check_with_its_map(novelty_map, tmp_path,
                                                                   monkeypatch):
    import zarr

    import ramancam.plot
    from ramancam.maps.store import pixel_maps

    model_path, cube_path, _ = novelty_map
    assert main(["explain", str(model_path), str(cube_path), "--target", "all",
                 "--out", str(tmp_path / "d")]) == 0
    text = (tmp_path / "d" / "report.html").read_text()
    assert "pixels need a second look" in text
    assert "with their fc map (red: supports the class, blue: argues against it)" in text
    # the maps drawn are the store's, each pixel's for its predicted class
    g = zarr.open_group(str(tmp_path / "d" / "explain.zarr"), mode="r")
    pred = np.asarray(g["predicted"][...])
    # the class means count the flagged pixels with their nearest class, as in memory
    n = int((np.asarray(g["unknown"][...]) & (pred >= 0)).sum())
    assert n and f"The {n} pixels flagged unknown count with their nearest class" in text
    got = pixel_maps(g, pred)(np.array([0, 13, 95]))
    every = np.asarray(g["maps"][...])
    for k, i in enumerate((0, 13, 95)):
        iy, ix = divmod(i, pred.shape[1])
        np.testing.assert_array_equal(got[k], every[iy, ix, pred[iy, ix]])
    # maps of one named class: the panels say which class the map explains
    titles = []
    real = ramancam.plot.spectrum_map
    monkeypatch.setattr(ramancam.plot, "spectrum_map",
                        lambda *a, **kw: (titles.append(kw.get("title")), real(*a, **kw))[1])
    assert main(["explain", str(model_path), str(cube_path), "--target", "b",
                 "--out", str(tmp_path / "b")]) == 0
    drawn = [t for t in titles if t and ": fc map for " in t]
    assert drawn and all(re.search(r": fc map for b\n\([a-z]", t) for t in drawn)


def test_map_explain_lists_the_same_pixels_to_check_in_memory_and_from_a_cube(novelty_map,
                                                                            tmp_path):
    """The explain page of a map read into memory and of the same map as a cube list the
    same pixels, in the same order, for the same reasons (calibrated prediction sets
    included)."""
    import re

    from ramancam.io import write_table

    model_path, cube_path, s = novelty_map
    write_table(s.replace(labels=None), tmp_path / "map.csv")
    assert main(["explain", str(model_path), str(tmp_path / "map.csv"), "--method", "fc",
                 "--out", str(tmp_path / "mem")]) == 0
    assert main(["explain", str(model_path), str(cube_path), "--out", str(tmp_path / "cube")]
                ) == 0

    def listed(page):
        text = page.read_text()
        head = re.search(r"(\d+) of 96 pixels need a second look", text)
        rows = re.findall(r'<tr><td>[^<]*</td><td class="num">([-0-9.]+)</td>'
                          r'<td class="num">([-0-9.]+)</td><td>([^<]*)</td>',
                          text[head.end():])  # the table of pixels to check, not the classes
        return int(head.group(1)), rows, "with their fc map" in text

    def class_table(page):  # pixels per class as classes.png colours them, unknown apart
        return re.findall(r'<tr><td>([^<]*)</td><td class="num">(\d+)</td>',
                          page.read_text().split("Predicted class per pixel")[1][:3000])

    mem, cube = listed(tmp_path / "mem" / "report.html"), listed(tmp_path / "cube" /
                                                                  "report.html")
    classes = class_table(tmp_path / "mem" / "report.html")
    assert classes == class_table(tmp_path / "cube" / "report.html")
    assert any(name == "unknown" for name, _ in classes)
    assert sum(int(n) for _, n in classes) == 96
    assert mem[0] == cube[0] > 0 and mem[2] and cube[2]
    assert mem[1] == cube[1] and len(mem[1]) == min(mem[0], 50)


def test_read_takes_a_cube_whole_so_convert_and_train_do(small_map, tmp_path, capsys):
    """read() of a cube is read_cube (labels from its truth array), so convert writes it
    back as a table; a label option is refused, as the cube carries its labels."""
    from ramancam.io import read, read_table
    from ramancam.io.zarr_cube import read_cube

    _, _, cube_path, s = small_map
    got = read(cube_path)
    want = read_cube(cube_path)
    np.testing.assert_array_equal(got.X, want.X)
    np.testing.assert_array_equal(got.labels, s.labels)
    assert main(["convert", str(cube_path), str(tmp_path / "back.csv")]) == 0
    back = read_table(tmp_path / "back.csv", label_col="label")
    np.testing.assert_allclose(back.X, np.asarray(s.X, dtype=np.float32), rtol=1e-6)
    with pytest.raises(RamancamError, match="label_col must not be given for a Zarr cube"):
        read(cube_path, label_col="label")


def test_a_bad_scheduler_is_named_and_leaves_no_store(novelty_map, tmp_path, capsys):
    # Dask's own words ("missing port number in address") and an empty store that info
    # called a run to resume
    model_path, cube_path, _ = novelty_map
    out = tmp_path / "r"
    assert main(["predict", str(model_path), str(cube_path), "--scheduler", "notanaddress",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--scheduler must be the address of a running Dask scheduler" in err
    assert "'notanaddress'" in err and not out.exists()
    assert main(["predict", str(model_path), str(cube_path), "--workers", "0",
                 "--out", str(out)]) == 2
    assert "--workers must be a positive integer; got 0. Give the number" in (
        capsys.readouterr().err)
    assert not out.exists()


def test_info_on_the_out_folder_of_a_tiled_run_describes_its_store(novelty_map, tmp_path,
                                                                    capsys):
    # 'ramancam info res' looked for spectrum files in the folder
    model_path, cube_path, _ = novelty_map
    assert main(["predict", str(model_path), str(cube_path), "--out", str(tmp_path / "res")]
                ) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path / 'res' / 'predictions.zarr'}: ramancam predict results")
    # an explain store in the same folder: two stores (class_means.csv was described as the
    # data, 'spectra: 6'); (explain --out res is refused: its images would replace predict's)
    assert main(["explain", str(model_path), str(cube_path), "--out",
                 str(tmp_path / "res" / "explain.zarr")]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "res")]) == 2
    assert (f"which holds predictions.zarr and explain.zarr. Give one of them, e.g. ramancam "
            f"info {tmp_path / 'res' / 'predictions.zarr'}.") in capsys.readouterr().err


def test_local_workers_leave_ctrl_c_to_this_process():
    # each worker printed its own KeyboardInterrupt traceback on Ctrl-C, pages of them; a
    # second cluster of the same process too (its threads are not the first one's)
    import os
    import signal
    import time

    from ramancam.scale import _local_cluster, _need_dask

    before = signal.getsignal(signal.SIGINT)
    for _ in range(2):
        cluster = _local_cluster(1, 1, True)
        try:
            assert signal.getsignal(signal.SIGINT) is before  # this process still stops on it
            assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
            with _need_dask().Client(cluster) as client:
                (pid,) = client.run(os.getpid).values()
                os.kill(pid, signal.SIGINT)  # Ctrl-C reaches every process of the terminal
                time.sleep(0.5)
                assert list(client.run(os.getpid).values()) == [pid]  # unmoved
        finally:
            cluster.close()


def test_a_damaged_chunk_is_named_in_one_line(small_map, tmp_path, capsys):
    # a chunk cut short gave a 99-line traceback ending in zstd's RuntimeError, naming no file
    import shutil

    from ramancam.cli import main
    from ramancam.io import read

    _, model_path, cube_path, _ = small_map
    bad = tmp_path / "bad.zarr"
    shutil.copytree(cube_path, bad)
    chunks = sorted(p for p in (bad / "spectra").rglob("*") if p.is_file()
                    and p.name != "zarr.json")
    chunks[0].write_bytes(chunks[0].read_bytes()[:40])
    assert main(["predict", str(model_path), str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.search(rf"error: cube {re.escape(str(bad))} must be readable; got a damaged "
                     r"chunk in tile \(0, 0\) of 'spectra' \(\w+: ", err)
    with pytest.raises(RamancamError, match=r"must be readable; got a damaged chunk in "
                                            r"'spectra'"):
        read(bad)


def test_info_of_a_cube_written_by_another_tool(small_map, tmp_path, capsys):
    # a Zarr v2 cube without ramancam's attributes: predict read it, info raised KeyError
    import zarr

    _, _, cube_path, _ = small_map
    src = zarr.open_group(str(cube_path), mode="r")
    other = tmp_path / "v2.zarr"
    g = zarr.open_group(str(other), mode="w", zarr_format=2)
    for k in ("spectra", "wavenumbers", "x", "y"):
        g.create_array(k, data=src[k][...], chunks=src[k].chunks)
    assert main(["info", str(other)]) == 0
    assert "pixels:    11 x 9 (nx x ny)" in capsys.readouterr().out


def test_a_missing_model_file_on_a_cube_is_named_as_for_a_table(small_map, tmp_path, capsys):
    # '[Errno 2] No such file or directory: ...' without the fix
    _, _, cube_path, _ = small_map
    for cmd in ("predict", "explain"):
        assert main([cmd, str(tmp_path / "none.ramancam"), str(cube_path), "--out",
                     str(tmp_path / "o")]) == 2
        assert ("model file must exist; got " + repr(str(tmp_path / "none.ramancam"))
                + " (no such file)") in capsys.readouterr().err


def test_a_cube_with_wrong_positions_or_truth_is_refused_when_opened(small_map, tmp_path):
    # an 'x' of the wrong length (a cube edited or written by another tool) stopped the run
    # mid-way with an IndexError; a truth index beyond the class names likewise
    import shutil

    import zarr

    from ramancam.scale import MapJob

    _, model_path, cube_path, _ = small_map
    badx = tmp_path / "badx.zarr"
    shutil.copytree(cube_path, badx)
    g = zarr.open_group(str(badx), mode="r+")
    del g["x"]
    g.create_array("x", data=np.arange(50.0))
    with pytest.raises(RamancamError, match=r"must hold 11 finite 'x' positions \(one per "
                                            r"column of 'spectra', 9 x 11\); got shape \(50,\)"):
        open_cube(badx)
    badt = tmp_path / "badt.zarr"
    shutil.copytree(cube_path, badt)
    g = zarr.open_group(str(badt), mode="r+")
    t = g["truth"][...]
    t[2, 3] = 7
    g["truth"][...] = t
    with pytest.raises(RamancamError, match=r"must label its pixels with indices of its 3 "
                                            r"class names \(-1: none\); got 7 in 'truth'"):
        run(MapJob("predict", str(model_path), str(badt), str(tmp_path / "o.zarr")))
    assert not (tmp_path / "o.zarr").exists()


def test_a_tile_error_on_workers_prints_one_line(small_map, tmp_path, capfd, monkeypatch):
    # the workers' "distributed.worker - ERROR - Compute Failed" and traceback came first
    import shutil

    import zarr

    _, model_path, cube_path, _ = small_map
    bad = tmp_path / "pn.zarr"
    shutil.copytree(cube_path, bad)
    g = zarr.open_group(str(bad), mode="r+")
    block = g["spectra"][...]
    block[5, 6, 10:20] = np.nan
    g["spectra"][...] = block
    import ramancam.scale as scale

    real, calls = scale._local_cluster, []

    def counted(*args, **kwargs):  # the run went through a cluster's workers
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(scale, "_local_cluster", counted)
    assert main(["predict", str(model_path), str(bad), "--workers", "1", "--out",
                 str(tmp_path / "o.zarr")]) == 2
    assert len(calls) == 1
    err = capfd.readouterr().err
    assert "pixel (y=5, x=6)" in err
    assert "Compute Failed" not in err and "Traceback" not in err


def test_a_store_of_an_id_less_cube_from_before_is_refused_and_a_damaged_first_chunk(
        small_map, tmp_path, capsys):
    # stores recorded the identity of a cube without an id without its spectra (de365c8 to
    # d960492, all store version 1, which ramancam 0.2.0 writes no more); 4382113 let them
    # resume, which the store version check now refuses first (the refusal of any version-1
    # store, unchanged); and a damaged first chunk of such a cube gave a codec traceback from
    # the identity
    import hashlib
    import shutil

    import zarr

    _, model_path, cube_path, _ = small_map
    cube = tmp_path / "noid.zarr"
    shutil.copytree(cube_path, cube)
    g = zarr.open_group(str(cube), mode="r+")
    meta = dict(g.attrs["ramancam"])
    meta.pop("id", None)
    g.attrs["ramancam"] = meta
    out = tmp_path / "p.zarr"
    job = MapJob("predict", str(model_path), str(cube), str(out))
    run(job)
    assert run(job).computed == 0  # this version's store resumes on the id-less cube
    # as a ramancam of 2026-12-06 left it: version 1, the identity of shape, tiles, axis and
    # positions alone
    c = open_cube(cube)
    h = hashlib.sha256(repr((c.shape, c.chunks)).encode())
    for a in (c.wavenumbers, c.x, c.y):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    st = zarr.open_group(str(out), mode="r+")
    smeta = dict(st.attrs["ramancam"])
    settings = {k: v for k, v in smeta["settings"].items() if k != "store_version"}
    st.attrs["ramancam"] = {
        **{k: v for k, v in smeta.items() if k != "ramancam_version"}, "version": 1,
        "settings": {**settings, "cube_identity": "sha256:" + h.hexdigest()[:32]}}
    with pytest.raises(RamancamError, match=re.escape(
            f"got {str(out)!r}, store version 1 made by a ramancam before 0.2.0: its finished "
            "tiles hold numbers this version computes otherwise, and a resume would mix the "
            "two. Remove it or give another --out.")):
        run(job)
    first = sorted(p for p in (cube / "spectra").rglob("*") if p.is_file()
                   and p.name != "zarr.json")[0]
    first.write_bytes(first.read_bytes()[:30])
    assert main(["predict", str(model_path), str(cube), "--out", str(tmp_path / "q")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must be readable; got a damaged chunk in tile (0, 0)" in err


def test_tiled_predict_says_which_pixels_are_the_models_training_spectra(one_torch_thread,
                                                                        tmp_path, capsys):
    """predict on a map held in memory said how many pixels were spectra the model was
    trained on (their accuracy, flags and library matches test nothing); the same map as a
    Zarr cube did not (the store held the same zero scores)."""
    from ramancam.bundle import save
    from ramancam.train import CNNClassifier

    rng = np.random.default_rng(8)
    X = np.vstack([_substance(c, 20, rng) for c in "abc"]).astype(np.float32)
    y = np.repeat(list("abc"), 20)
    est = CNNClassifier(n_filters=4, filter_size=5, fc_width=16, epochs=5, lr=3e-3,
                        batch_size=16, random_state=0).fit(X.astype(np.float64), y)
    grid = np.arange(N_CH, dtype=np.float64)
    model_path = save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=grid,
                      classes=list(est.classes_), training_summary={})
    new = np.vstack([_substance(c, 12, rng) for c in "abc"]).astype(np.float32)
    cube = np.vstack([X[:36], new]).reshape(6, 12, N_CH)  # 36 trained, 36 new pixels
    yy, xx = np.meshgrid(np.arange(6), np.arange(12), indexing="ij")
    write_cube(Spectra(cube.reshape(72, N_CH).astype(np.float64), grid, None,
                       {"x": xx.ravel() * 1.0, "y": yy.ravel() * 1.0}),
               tmp_path / "map.zarr", chunks=(4, 4))
    assert main(["predict", str(model_path), str(tmp_path / "map.zarr"), "--out",
                 str(tmp_path / "p.zarr")]) == 0
    out = capsys.readouterr().out
    assert ("note: 36 of 72 pixels are the same as spectra the model was trained on "
            "(novelty 0: the same after preprocessing, up to intensity scale and a "
            "straight-line background)") in out, out


def test_a_model_or_cube_replaced_during_a_tiled_run_stops_it(novelty_map, tmp_path,
                                                              monkeypatch, capsys):
    # each tile loaded the model file (and opened the cube) it found: a train --out
    # finishing during the run gave one store of two models' pixels, recording the first
    import shutil

    from ramancam import scale

    model_path, cube_path, _ = novelty_map
    model, cube = tmp_path / "m.ramancam", tmp_path / "c.zarr"
    shutil.copy(model_path, model)
    shutil.copytree(cube_path, cube)
    real = scale.run_tile
    calls = []

    def replacing(job, ty, tx, **kw):
        calls.append((ty, tx))
        if len(calls) == 2:  # after the first tile: another model file in its place
            with open(model, "ab") as fh:
                fh.write(b"\0")
        return real(job, ty, tx, **kw)

    monkeypatch.setattr(scale, "run_tile", replacing)
    out = tmp_path / "res"
    assert main(["predict", str(model), str(cube), "--out", str(out)]) == 2
    assert "MODEL must stay the file the run began with" in capsys.readouterr().err
    shutil.copy(model_path, model)  # put back: the run resumes and finishes
    calls.clear()
    monkeypatch.setattr(scale, "run_tile", real)
    assert main(["predict", str(model), str(cube), "--out", str(out)]) == 0
    assert "resumed, 1 of 6 tiles were already done" in capsys.readouterr().out
    # the cube written again during a run: the same spectra, another cube (a new id)
    from ramancam.io.zarr_cube import write_cube

    other = tmp_path / "other.zarr"
    write_cube(novelty_map[2], other, chunks=(4, 4))

    def rewriting(job, ty, tx, **kw):
        calls.append((ty, tx))
        if len(calls) == 2:
            shutil.rmtree(cube)
            shutil.copytree(other, cube)
        return real(job, ty, tx, **kw)

    monkeypatch.setattr(scale, "run_tile", rewriting)
    assert main(["predict", str(model), str(cube), "--out", str(tmp_path / "res2")]) == 2
    assert "the cube must stay the one the run began with" in capsys.readouterr().err


def test_ctrl_c_while_the_local_cluster_starts_ends_the_run(novelty_map, tmp_path,
                                                            monkeypatch, capsys):
    # Ctrl-C was ignored while the workers started (so that they would not inherit Python's
    # handler): pressed then, it was lost and the run went on to its end, status 0
    import os
    import signal

    dd = pytest.importorskip("dask.distributed")
    import psutil

    import ramancam.scale as scale

    real, started, pids = dd.LocalCluster, [], []

    def pressed(*a, **k):  # Ctrl-C comes while the cluster starts
        os.kill(os.getpid(), signal.SIGINT)
        started.append(real(*a, **k))
        pids.extend(w.process.pid for w in started[-1].workers.values())
        return started[-1]

    monkeypatch.setattr(dd, "LocalCluster", pressed)
    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    capsys.readouterr()
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out),
                 "--workers", "1"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"
    assert not out.exists()  # the store this run made, no tile done: removed
    assert started[0].status.name == "closed" and len(pids) == 1  # its worker shut down
    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == "zombie"
    # a run to resume keeps its store (and its tiles) as it was
    _, tile = _stop_after(monkeypatch, 2)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 130
    monkeypatch.setattr(scale, "run_tile", tile)
    capsys.readouterr()
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out),
                 "--workers", "1"]) == 130
    assert capsys.readouterr().err == ("the tiles done are kept in the store: run the same "
                                       "command again to resume\nerror: interrupted\n")
    assert int(np.asarray(read_results(out / "predictions.zarr")["done"]).sum()) == 2


def test_ctrl_c_while_the_store_is_made_leaves_none(novelty_map, tmp_path, monkeypatch,
                                                    capsys):
    # the half-made store (no settings, no 'done' array) was kept, with "run the same
    # command again to resume", and that command then refused it
    import zarr

    model_path, cube_path, _ = novelty_map
    real = zarr.Group.create_array

    def stopped(self, name, *a, **k):
        if name == "done":
            raise KeyboardInterrupt
        return real(self, name, *a, **k)

    monkeypatch.setattr(zarr.Group, "create_array", stopped)
    out = tmp_path / "res"
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 130
    assert "resume" not in capsys.readouterr().err
    assert not out.exists()
    monkeypatch.setattr(zarr.Group, "create_array", real)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    # one killed there (kill -9: nothing removes it) is named for what it is
    import shutil

    shutil.rmtree(out / "predictions.zarr" / "done")
    (out / "predictions.zarr" / "zarr.json").write_text(
        '{"zarr_format": 3, "node_type": "group", "attributes": {}}')
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 2
    assert "whose making was stopped before its settings were written" in \
        capsys.readouterr().err


def test_a_damaged_chunk_of_a_finished_tile_is_computed_again_on_resume(novelty_map,
                                                                         tmp_path, capsys):
    # a chunk cut short (a copy that stopped, a machine that died before the disk had it)
    # ended the rerun in a 100-line zarr traceback, then in one line whose advice was to
    # remove the whole store and compute every tile anew; the tile is computed again now
    from ramancam.scale import write_images

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    want = read_results(store)
    for chunk, keep in ((store / "proba" / "c" / "0" / "1" / "0", 20),
                        (store / "predicted" / "c" / "1" / "2", 10)):
        chunk.write_bytes(chunk.read_bytes()[:keep])
    # drawn from the damaged store alone: named in one line, as before
    (tmp_path / "img").mkdir()
    with pytest.raises(RamancamError, match=r"must be readable; got a damaged chunk in "):
        write_images(tmp_path / "img", store)
    capsys.readouterr()
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "(2 tiles, " in said and "resumed, 4 of 6 tiles were already done" in said
    line = next(t for t in said.splitlines() if t.startswith("recomputed"))
    assert line == ("recomputed 2 tiles recorded as done in the store whose chunk files "
                    "cannot be read (cut short or overwritten since): tile (0, 1): 'proba'; "
                    "tile (1, 2): 'predicted'")
    _assert_same_results(store, want)
    # an explain store's maps too (its band images read them: a traceback)
    out = tmp_path / "ex"
    assert main(["explain", str(model_path), str(cube_path), "--out", str(out)]) == 0
    want = read_results(out / "explain.zarr")
    chunk = out / "explain.zarr" / "maps" / "c" / "1" / "1" / "0"
    chunk.write_bytes(chunk.read_bytes()[:30])
    capsys.readouterr()
    assert main(["explain", str(model_path), str(cube_path), "--out", str(out)]) == 0
    assert ("tile (1, 1): 'maps'" in capsys.readouterr().out)
    _assert_same_results(out / "explain.zarr", want)


def test_an_interrupted_tiled_run_leaves_the_earlier_images_and_page_as_a_set(
        novelty_map, tmp_path, monkeypatch, capsys):
    # Ctrl-C while the images were drawn left this run's classes.png beside the earlier
    # run's probability images and report
    from ramancam.maps import images

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    def files():  # each file's inode: a file replaced is another file
        return {p.name: p.stat().st_ino for p in out.iterdir() if p.is_file()}

    pngs = files()
    assert "classes.png" in pngs and "report.html" in pngs
    real, calls = images.save_figure, []

    def stopped(fig, path):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(fig, path)

    monkeypatch.setattr(images, "save_figure", stopped)
    import shutil

    shutil.rmtree(out / "predictions.zarr")  # a new run (a new store) into the same folder
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 130
    assert files() == pngs
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_cube_name_that_is_not_utf8_is_refused_before_any_tile(novelty_map, tmp_path,
                                                                  capsys):
    # every tile was computed, then writing the report failed on the name
    import os
    import shutil

    model_path, cube_path, _ = novelty_map
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xe9.zarr")
    try:
        shutil.copytree(os.fsencode(cube_path), bad)
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    out = tmp_path / "res"
    assert main(["predict", str(model_path), os.fsdecode(bad), "--out", str(out)]) == 2
    assert "path names must be UTF-8 text; got " in capsys.readouterr().err
    assert not out.exists()


def _info_json(store, capsys):
    """``ramancam info STORE --json`` as a dict."""
    import json

    assert main(["info", str(store), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _assert_same_results(store, want):
    """Every array of ``want`` (:func:`read_results` of an intact store) equal in ``store``."""
    got = read_results(store)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def _chunk_count(store, name):
    """Chunk files of one array of a store (its folder's files but zarr.json)."""
    return sum(1 for p in (store / name).rglob("*") if p.is_file() and p.name != "zarr.json")


def test_a_deleted_chunk_of_a_finished_tile_is_computed_again_on_resume(novelty_map,
                                                                         tmp_path, capsys):
    # a chunk file removed from a finished tile was trusted: the resumed run skipped the tile
    # (its 'done' flag set) and its pixels read the fill value (-1, NaN) silently, in the
    # images, the summary and info, which called the store complete
    import shutil

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    want = read_results(store)
    # every finished tile has a chunk of every array, those holding the fill value too (zarr
    # skips them by default: no pixel flagged 'unknown', no band shift read)
    for name in ("predicted", "proba", "unknown", "band_shift", "prediction_set", "novelty"):
        assert _chunk_count(store, name) == 6, name
    (store / "predicted" / "c" / "0" / "1").unlink()
    shutil.rmtree(store / "unknown" / "c" / "1")  # a chunk row: tiles (1, 0) to (1, 2)
    capsys.readouterr()
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].endswith("(incomplete: 2 of 6 tiles done; run the same command again to "
                            "resume)")
    assert text[1] == ("  damaged:   4 tiles recorded as done but missing chunk files (tile "
                       "(0, 1) lacks 'predicted'; tile (1, 0) lacks 'unknown'; tile (1, 1) "
                       "lacks 'unknown'; and 1 more), counted as not done")
    d = _info_json(store, capsys)
    assert not d["complete"] and d["tiles_done"] == 2
    assert d["tiles_lacking_chunks"][0] == {"tile": [0, 1], "arrays": ["predicted"]}
    # the same command computes those tiles again and says so in one line
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "(4 tiles, " in said and "resumed, 2 of 6 tiles were already done" in said
    line = next(t for t in said.splitlines() if t.startswith("recomputed"))
    assert line == ("recomputed 4 tiles recorded as done in the store but missing chunk files "
                    "(deleted or lost since; their pixels read as never computed): tile (0, 1) "
                    "lacked 'predicted'; tile (1, 0) lacked 'unknown'; tile (1, 1) lacked "
                    "'unknown'; and 1 more")
    _assert_same_results(store, want)
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out
    assert "(complete)" in text and "damaged" not in text and "not predicted" not in text
    # nothing lacking: a resume computes nothing again and says nothing of it
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    assert "recomputed" not in capsys.readouterr().out


def test_the_arrays_written_once_are_checked_by_a_resume_and_by_info(small_map, tmp_path,
                                                                     capsys):
    # 'grid', 'x' and 'y' are written when the store is made and by no tile: a chunk file of
    # theirs deleted (or the whole folder) was not looked for, a resume said "resumed" and
    # info "complete"; the images read x = 0 everywhere, or (the folder gone) predict --out
    # DIR ended in a KeyError traceback drawing them
    import shutil

    import zarr

    _, model_path, cube_path, s = small_map
    out = tmp_path / "p.zarr"
    cmd = ["predict", str(model_path), str(cube_path), "--out", str(out)]
    assert main(cmd) == 0
    want = read_results(out)
    (out / "x" / "c" / "0").unlink()
    shutil.rmtree(out / "grid")
    g = zarr.open_group(str(out), mode="r+")
    g["y"][...] = np.asarray(g["y"][...]) + 1  # readable, whole: only a resume can tell
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].endswith("(incomplete: 9 of 9 tiles done; run the same command again to "
                            "resume)")
    assert text[1] == ("  damaged:   'grid' (missing), 'x' (lacks chunk files): written once "
                       "when the store was made (the model's axis, the cube's positions); the "
                       "same command writes them again")
    d = _info_json(out, capsys)
    assert not d["complete"] and d["tiles_done"] == 9
    assert d["damaged_arrays"] == {"grid": "missing", "x": "lacks chunk files"}
    # the same command writes them again from the model and the cube, and says so
    assert main(cmd) == 0
    said = capsys.readouterr().out
    assert "resumed, 9 of 9 tiles were already done" in said
    assert ("rewrote 3 arrays of the store written once when it was made, from the model and "
            "the cube: 'grid' (missing), 'x' (lacks chunk files), 'y' (holds other values)\n"
            in said)
    got = read_results(out)
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    d = _info_json(out, capsys)
    assert d["complete"] and d["damaged_arrays"] == {}
    assert main(cmd) == 0
    assert "rewrote" not in capsys.readouterr().out
    # a shape that is not the map's, and a chunk cut short (damaged_once names both)
    g.create_array("x", data=np.arange(3.0), overwrite=True)
    chunk = out / "y" / "c" / "0"
    chunk.write_bytes(chunk.read_bytes()[:5])
    assert main(["info", str(out)]) == 0
    assert ("  damaged:   'x' (of shape (3,), not (11,)), 'y' (unreadable): written once"
            in capsys.readouterr().out)
    assert run(MapJob("predict", str(model_path), str(cube_path), str(out))).rewritten == {
        "x": "of shape (3,), not (11,)", "y": "unreadable"}
    np.testing.assert_array_equal(read_results(out)["y"], want["y"])
    # --out DIR: the images are drawn from the arrays written anew
    folder = tmp_path / "res"
    assert main([*cmd[:-1], str(folder)]) == 0
    shutil.rmtree(folder / "predictions.zarr" / "x")
    capsys.readouterr()
    assert main([*cmd[:-1], str(folder)]) == 0
    assert "rewrote 1 array of the store written once when it was made, from the model and " \
           "the cube: 'x' (missing)\n" in capsys.readouterr().out
    # a map one pixel high at y = 0: its 'y' chunk holds only the fill value, which zarr
    # skips by default; written all the same, so that a missing one is always damage
    line = tmp_path / "line.zarr"
    write_cube(s[:11], line, chunks=(4, 4))
    assert open_cube(line).y.tolist() == [0.0]
    one = tmp_path / "one.zarr"
    assert main(["predict", str(model_path), str(line), "--out", str(one)]) == 0
    assert _chunk_count(one, "y") == 1
    capsys.readouterr()
    d = _info_json(one, capsys)
    assert d["complete"] and d["damaged_arrays"] == {}
    # a store this ramancam does not resume: no hint to run the same command
    (one / "y" / "c" / "0").unlink()
    g = zarr.open_group(str(one), mode="r+")
    g.attrs["ramancam"] = {**dict(g.attrs["ramancam"]), "version": 1}
    assert main(["info", str(one)]) == 0
    assert ("  damaged:   'y' (lacks chunk files): written once when the store was made (the "
            "model's axis, the cube's positions)\n") in capsys.readouterr().out


def test_a_tile_of_refused_pixels_or_an_older_store_is_no_deleted_chunk(novelty_map, tmp_path):
    # a chunk holding only the fill value is legitimately absent where zarr skipped it: a
    # tile whose every pixel is missing from the map, and empty chunks in older stores
    zarr = pytest.importorskip("zarr")
    from ramancam.maps.store import EVERY_CHUNK, tiles_lacking_chunks

    model_path, _, s = novelty_map
    cube = tmp_path / "holes.zarr"
    write_cube(s, cube, chunks=(4, 4))
    zarr.open_group(str(cube), mode="r+")["spectra"][0:4, 4:8] = np.nan  # tile (0, 1)
    out = tmp_path / "p.zarr"
    job = MapJob("predict", str(model_path), str(cube), str(out))
    first = run(job)
    assert first.n_refused == 16 and first.recomputed == {}
    assert _chunk_count(out, "predicted") == _chunk_count(out, "unknown") == 6
    again = run(job)
    assert (again.computed, again.skipped, again.recomputed) == (0, 6, {})
    # a store made before every chunk was written (no 'every_chunk'): zarr skipped the
    # chunks of a tile of refused pixels but 'unknown', and chunks of 'unknown' or
    # 'band_shift' holding only the fill value; none of that is a deleted chunk
    g = zarr.open_group(str(out), mode="r+")
    meta = dict(g.attrs["ramancam"])
    del meta[EVERY_CHUNK]
    g.attrs["ramancam"] = meta
    import shutil

    for name in g.array_keys():
        if name not in ("unknown", "done", "grid", "x", "y"):
            chunk = out / name / "c" / "0" / "1"  # a folder for 'proba' ((0, 1, 0) in it)
            if chunk.is_dir():
                shutil.rmtree(chunk)
            else:
                chunk.unlink()
    (out / "unknown" / "c" / "0" / "0").unlink()
    done = np.asarray(g["done"][...])
    assert tiles_lacking_chunks(g, done) == {}
    # a chunk that such a store always wrote for a tile with a predicted pixel is missed
    (out / "proba" / "c" / "1" / "2" / "0").unlink()
    assert tiles_lacking_chunks(g, done) == {(1, 2): ["proba"]}
    resumed = run(job)
    assert (resumed.computed, resumed.recomputed) == (1, {(1, 2): ["proba"]})
    assert np.isfinite(read_results(out)["proba"][4:8, 8:12]).all()


def test_starting_worker_processes_leaves_this_process_environment_as_it_was(monkeypatch):
    # Dask's nanny wrote the workers' environment (one BLAS thread, PYTHONHASHSEED, ...) into
    # this process's os.environ for good: a notebook's later subprocesses ran with it
    import os

    from ramancam import scale

    pytest.importorskip("dask.distributed")
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    for key in ("MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(key, raising=False)
    before = dict(os.environ)
    cluster = scale._local_cluster(1, 1, True)
    try:
        assert dict(os.environ) == before
        # the worker itself still got Dask's environment
        env = cluster.get_client().run(lambda: os.environ.get("MKL_NUM_THREADS"))
        assert list(env.values()) == ["1"]
    finally:
        cluster.close()


def test_a_deleted_array_of_the_tiles_is_made_again_and_every_tile_computed(novelty_map,
                                                                             tmp_path, capsys):
    # a whole folder of an array the tiles write deleted: nothing looked for its chunks (the
    # array was no longer listed), so a finished store was called complete by a resume and
    # by info; a tile computed again ended in "KeyError: 'proba'" inside the tile's writer,
    # a deleted 'novelty' was left out of the tiles without a word, a deleted 'done' was a
    # KeyError traceback in info and in the resume
    import shutil

    import zarr

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    cmd = ["predict", str(model_path), str(cube_path), "--out", str(out)]
    assert main(cmd) == 0
    want = read_results(store)
    shutil.rmtree(store / "novelty")
    shutil.rmtree(store / "proba")
    capsys.readouterr()
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].endswith("(incomplete: 0 of 6 tiles done; run the same command again to "
                            "resume)")
    assert text[1] == ("  damaged:   'proba' (missing), 'novelty' (missing): written tile by "
                       "tile, so no tile counts as done; the same command makes them again "
                       "and computes every tile")
    d = _info_json(store, capsys)
    assert not d["complete"] and d["tiles_done"] == 0 and d["arrays_recorded"]
    assert d["missing_arrays"] == {"proba": "missing", "novelty": "missing"}
    assert d["not_predicted"] == 96 and "proba" not in d["arrays"]
    # the same command makes them again, computes every tile and says so in one line
    assert main(cmd) == 0
    said = capsys.readouterr().out
    assert "(6 tiles, " in said and "resumed" not in said
    assert ("remade 2 arrays of the store that every tile writes, found missing or damaged: "
            "'proba' (missing), 'novelty' (missing); computed every tile again\n") in said
    got = read_results(store)
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    d = _info_json(store, capsys)
    assert d["complete"] and d["missing_arrays"] == {} and d["tiles_done"] == 6
    # the flags of the finished tiles deleted: no tile is known done
    shutil.rmtree(store / "done")
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].endswith("(incomplete: 0 of 6 tiles done; run the same command again to "
                            "resume)")
    assert text[1].startswith("  damaged:   'done' (missing): written tile by tile, so no "
                              "tile counts as done; the same command makes it again")
    assert main(cmd) == 0
    said = capsys.readouterr().out
    assert "(6 tiles, " in said
    assert ("remade 1 array of the store that every tile writes, found missing or damaged: "
            "'done' (missing); computed every tile again\n") in said
    # a tile not done yet when the array is deleted: was "KeyError: 'proba'"
    (store / "predicted" / "c" / "0" / "1").unlink()
    shutil.rmtree(store / "proba")
    assert main(cmd) == 0
    assert "'proba' (missing); computed every tile again" in capsys.readouterr().out
    _assert_same_results(store, want)
    # a store that does not list its arrays (made before they were recorded): info tells
    # only those every store of its kind has ('proba', not the model's 'novelty_p'); the
    # resume knows them all from the model, makes both again and records the list
    g = zarr.open_group(str(store), mode="r+")
    meta = dict(g.attrs["ramancam"])
    listed = meta.pop("arrays")
    assert {"proba", "novelty_p", "done", "grid"} <= set(listed)
    g.attrs["ramancam"] = meta
    shutil.rmtree(store / "proba")
    shutil.rmtree(store / "novelty_p")
    d = _info_json(store, capsys)
    assert d["missing_arrays"] == {"proba": "missing"} and not d["arrays_recorded"]
    assert main(cmd) == 0
    assert ("'proba' (missing), 'novelty_p' (missing); computed every tile again"
            in capsys.readouterr().out)
    assert zarr.open_group(str(store), mode="r").attrs["ramancam"]["arrays"] == listed
    _assert_same_results(store, want)
    # a zarr.json cut short (of an array the tiles write, of 'done', of 'x'): was a bare
    # "error: Expecting property name enclosed in double quotes ..." naming no store or array
    for name in ("unknown", "done", "x"):
        meta_file = store / name / "zarr.json"
        meta_file.write_text(meta_file.read_text()[:30])
    capsys.readouterr()
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[1] == ("  damaged:   'unknown' (zarr.json unreadable), 'done' (zarr.json "
                       "unreadable): written tile by tile, so no tile counts as done; the "
                       "same command makes them again and computes every tile")
    assert text[2].startswith("  damaged:   'x' (unreadable): written once")
    assert ("  arrays:    band_shift (8, 12) float32, checks (2, 3, 3) int32, confidence"
            in "\n".join(text))
    assert main(cmd) == 0
    said = capsys.readouterr().out
    assert ("found missing or damaged: 'unknown' (zarr.json unreadable), 'done' (zarr.json "
            "unreadable); computed every tile again\n") in said
    assert "'x' (unreadable)" in said
    _assert_same_results(store, want)


def test_an_array_deleted_during_a_run_is_named_in_one_line(small_map, tmp_path,
                                                            monkeypatch):
    # was "KeyError: 'proba'" from the tile's writer
    import shutil

    import ramancam.scale as scale

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    real = scale.run_tile

    def deleting(job, ty, tx, **kw):
        if (ty, tx) == (0, 1):
            shutil.rmtree(out / "proba")
        return real(job, ty, tx, **kw)

    monkeypatch.setattr(scale, "run_tile", deleting)
    with pytest.raises(RamancamError, match=rf"^result store {re.escape(str(out))} must hold "
                                            r"its array 'proba'; got none \(removed or "
                                            r"damaged during the run\)\. Run the same command "
                                            "again"):
        run(MapJob("predict", str(model_path), str(cube_path), str(out)))
    monkeypatch.setattr(scale, "run_tile", real)
    assert run(MapJob("predict", str(model_path), str(cube_path), str(out))).remade == {
        "proba": "missing"}


def test_a_deleted_array_of_an_explain_store_is_made_again(small_map, tmp_path, capsys):
    import shutil

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "e.zarr"
    job = MapJob("explain", str(model_path), str(cube_path), str(out), target="all")
    run(job)
    want = read_results(out)
    shutil.rmtree(out / "maps")
    shutil.rmtree(out / "class_sums")
    again = run(job)
    assert again.remade == {"maps": "missing", "class_sums": "missing"}
    assert (again.computed, again.skipped) == (9, 0)
    _assert_same_results(out, want)


def test_a_result_store_whose_own_zarr_json_is_damaged_is_named_in_one_line(small_map,
                                                                             tmp_path, capsys):
    # the store's settings lost with its zarr.json: info took it for a cube ("cube must be a
    # Zarr group; got ... (Expecting property name ...)") or, given the --out folder, for a
    # folder of spectra files; the resume called it no store of an earlier run
    _, model_path, cube_path, _ = small_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    cmd = ["predict", str(model_path), str(cube_path), "--out", str(out)]
    assert main(cmd) == 0
    meta_file = store / "zarr.json"
    meta_file.write_text(meta_file.read_text()[:40])
    capsys.readouterr()
    for path in (store, out):
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert re.fullmatch(rf"error: result store {re.escape(str(store))} must have a readable "
                            r"zarr\.json; got one that cannot be read \(JSONDecodeError: "
                            r"[^\n]*\): the run's settings and class names are lost\. Remove "
                            r"the store and run the command again \(or give another --out\), "
                            r"which computes every tile anew\.\n", err), err
    assert main(cmd) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.fullmatch(rf"error: --out must be a new folder or a result store of an earlier "
                        rf"run to resume; got {re.escape(repr(str(store)))}, a result store "
                        r"whose zarr\.json cannot be read \(JSONDecodeError: [^\n]*\): its "
                        r"run's settings are lost, so it cannot be resumed\. Remove the store "
                        r"or give another --out\.\n", err), err


def test_a_damaged_chunk_of_done_is_no_traceback(small_map, tmp_path, capsys):
    # 'done' is read whole by info and by every resume: a chunk of it cut short ended both in
    # a zstd traceback (RuntimeError: Zstd decompression error)

    _, model_path, cube_path, _ = small_map
    out = tmp_path / "p.zarr"
    cmd = ["predict", str(model_path), str(cube_path), "--out", str(out)]
    assert main(cmd) == 0
    want = read_results(out)
    (out / "done" / "c" / "0" / "1").write_bytes(b"xx")
    capsys.readouterr()
    d = _info_json(out, capsys)
    assert d["missing_arrays"] == {"done": "unreadable"} and d["tiles_done"] == 0
    assert not d["complete"]
    assert main(cmd) == 0
    assert ("found missing or damaged: 'done' (unreadable); computed every tile again\n"
            in capsys.readouterr().out)
    _assert_same_results(out, want)
    # a chunk file of 'done' deleted: that tile reads 0 (not done), and info called the
    # store complete, 8 of 9 tiles done (a review)
    (out / "done" / "c" / "0" / "1").unlink()
    capsys.readouterr()
    d = _info_json(out, capsys)
    assert d["tiles_done"] == d["tiles"] - 1 and not d["complete"]
    assert main(cmd) == 0
    _assert_same_results(out, want)


@pytest.mark.parametrize("kind", ["predict", "explain"])
def test_tiles_run_no_network_pass_for_an_hqi_score(novelty_map, tmp_path, monkeypatch,
                                                    kind):
    # every tile ran network_outputs (logits and FC1 features) for the novelty score after
    # the pass for the probabilities (or the maps); the hqi scores read neither
    import ramancam.novelty as nov
    from ramancam.novelty import NoveltyScorer

    model_path, cube_path, _ = novelty_map
    calls = []
    real = nov.network_outputs

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(nov, "network_outputs", spy)
    run(MapJob(kind, str(model_path), str(cube_path), str(tmp_path / "new.zarr")))
    assert calls == []
    # the same store as with the pass for the outputs it does not read
    monkeypatch.setattr(NoveltyScorer, "model_free", property(lambda self: False))
    run(MapJob(kind, str(model_path), str(cube_path), str(tmp_path / "old.zarr")))
    assert len(calls) == 6  # one per tile: 8 x 12 pixels in 4 x 4 tiles
    new, old = read_results(tmp_path / "new.zarr"), read_results(tmp_path / "old.zarr")
    assert sorted(new) == sorted(old) and {"novelty", "library_match"} <= set(new)
    for k in new:
        assert new[k].tobytes() == old[k].tobytes(), k


def test_pixels_whose_probabilities_overflow_are_not_predicted(small_map, tmp_path,
                                                               monkeypatch):
    # intensities near 1e38 and no recipe: a network whose float32 pass overflows gives NaN
    # probabilities, whose argmax wrote class 0; they are left out as the pixels a recipe
    # refuses (this small network saturates instead: its NaN rows are made here)
    import ramancam.explain
    import ramancam.train

    def nan_rows(real):
        def call(model, X, *a, **k):
            p = real(model, X, *a, **k)
            p[np.abs(X).max(axis=1) > 1e30] = np.nan
            return p
        return call

    for mod, name in ((ramancam.train, "predict_proba_module"),
                      (ramancam.explain, "predict_proba")):
        monkeypatch.setattr(mod, name, nan_rows(getattr(mod, name)))
    model, model_path, _, s = small_map
    X = np.array(s.X)
    X[[5, 40]] *= 1e38
    cube = tmp_path / "big.zarr"
    write_cube(Spectra(X, s.wavenumbers, s.labels, s.meta), cube, chunks=(4, 4))
    keep = np.ones(len(X), dtype=bool)
    keep[[5, 40]] = False
    proba, _ = _reference(model, s[np.flatnonzero(keep)])
    for kind in ("predict", "explain"):
        summary = run(MapJob(kind, str(model_path), str(cube), str(tmp_path / f"{kind}.zarr")))
        r = read_results(tmp_path / f"{kind}.zarr")
        assert summary.n_refused == 2 and summary.n_spectra == 97
        pred = r["predicted"].ravel()
        assert (pred[[5, 40]] == -1).all() and np.isnan(r["proba"].reshape(99, 3)[[5, 40]]).all()
        np.testing.assert_array_equal(pred[keep], proba.argmax(axis=1))
        if kind == "explain":
            assert np.isnan(r["maps"].reshape(99, -1)[[5, 40]]).all()


def test_a_run_opens_the_cube_once_beside_its_tiles(small_map, tmp_path, monkeypatch):
    # run() opened the cube a second time and never used it (15 ms of a 200 x 200 map's)
    import ramancam.io.zarr_cube as zarr_cube

    _, model_path, cube_path, _ = small_map
    job = MapJob("predict", str(model_path), str(cube_path), str(tmp_path / "p.zarr"))
    run(job)
    real, opened = zarr_cube.open_cube, []
    monkeypatch.setattr(zarr_cube, "open_cube", lambda p: opened.append(p) or real(p))
    assert run(job).computed == 0  # nothing left: the cube is opened to check it alone
    assert len(opened) == 1


def test_info_names_finished_tiles_whose_chunk_files_cannot_be_read(novelty_map, tmp_path,
                                                                    capsys):
    # info on a store with a chunk cut short ended in 'error: ... must be readable; got a
    # damaged chunk ... Remove the result store and run the command again, which computes
    # every tile anew', though the same command computes only those tiles again
    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    for chunk, keep in ((store / "proba" / "c" / "0" / "1" / "0", 20),
                        (store / "unknown" / "c" / "1" / "2", 10)):
        chunk.write_bytes(chunk.read_bytes()[:keep])
    (store / "predicted" / "c" / "0" / "0").unlink()
    capsys.readouterr()
    assert main(["info", str(store)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].endswith("(incomplete: 3 of 6 tiles done; run the same command again to "
                            "resume)")
    assert text[1:3] == [
        "  damaged:   1 tile recorded as done but missing chunk files (tile (0, 0) lacks "
        "'predicted'), counted as not done",
        "  damaged:   2 tiles recorded as done whose chunk files cannot be read (tile (0, 1): "
        "'proba'; tile (1, 2): 'unknown'), counted as not done"]
    d = _info_json(store, capsys)
    assert not d["complete"] and d["tiles_done"] == 3
    assert d["tiles_with_damaged_chunks"] == [{"tile": [0, 1], "arrays": ["proba"]},
                                              {"tile": [1, 2], "arrays": ["unknown"]}]
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
    capsys.readouterr()
    d = _info_json(store, capsys)
    assert d["complete"] and d["tiles_with_damaged_chunks"] == []
