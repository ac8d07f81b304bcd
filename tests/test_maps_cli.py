"""Maps through the command line: train with spatial folds, predict and explain a tiny
synthetic map into a folder, info's grid line, --xy-cols."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from matplotlib.image import imread

from _stopped import failed_runs, watched_run
from ramancam.cli import main
from ramancam.io import read_table, write_table
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NX, NY, N_POINTS = 10, 6, 40
AXIS = np.linspace(900.0, 1100.0, N_POINTS)


def _lorentz(c, w=6.0):
    return 1.0 / (1.0 + ((AXIS - c) / w) ** 2)


def synthetic_map(rng, *, drop=(), xy_names=("x", "y")):
    """Left half class 'a' (band at 950), right half 'b' (band at 1050), noise 2 %."""
    iy, ix = np.divmod(np.arange(NX * NY), NX)
    labels = np.where(ix < NX // 2, "a", "b")
    X = np.where((labels == "a")[:, None], _lorentz(950), _lorentz(1050))
    X = X + 0.3 * _lorentz(1000) + rng.normal(0, 0.02, X.shape)
    keep = np.setdiff1d(np.arange(X.shape[0]), drop)
    meta = {"id": [f"px{i:02d}" for i in keep], xy_names[0]: 2.0 * ix[keep],
            xy_names[1]: 2.0 * iy[keep]}
    return Spectra(X[keep], AXIS, labels=labels[keep], meta=meta)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("map")
    data = d / "map.csv"
    write_table(synthetic_map(rng), data)
    model = d / "model.ramancam"
    code = main(["train", str(data), "--label-col", "label", "--recipe", "none",
                 "--spatial-folds", "2", "--spatial-block", "3", "--no-compare",
                 "--epochs", "15", "--lr", "3e-3", "--filters", "4", "--filter-size", "5",
                 "--fc-width", "8", "--batch-size", "16", "--seed", "0", "--out", str(model)])
    assert code == 0
    return d, data, model


def test_train_prints_spatial_cv_table(trained, capsys):
    d, data, _ = trained
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none",
                 "--spatial-folds", "2", "--spatial-block", "3", "--no-compare",
                 "--epochs", "1", "--filters", "2", "--filter-size", "3", "--fc-width", "4",
                 "--out", str(d / "one-epoch.ramancam")]) == 0
    out = capsys.readouterr().out
    assert "accuracy (2-fold spatial CV):" in out
    assert "random folds test pixels" not in out
    # the default block side is recorded (it was null) and info names it
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none",
                 "--spatial-folds", "2", "--no-compare", "--epochs", "1", "--filters", "2",
                 "--filter-size", "3", "--fc-width", "4", "--out",
                 str(d / "default-block.ramancam")]) == 0
    from ramancam.bundle import load as load_model
    from ramancam.maps.folds import default_block_size

    settings = load_model(d / "default-block.ramancam").info["settings"]
    side = default_block_size(len(read_table(data)), 2)
    assert (settings["spatial_block"], settings["spatial_buffer"]) == (side, 1)
    assert settings["folds"] is None
    capsys.readouterr()
    assert main(["info", str(d / "default-block.ramancam")]) == 0
    assert (f"2-fold spatial CV (map blocks of {side} x {side} pixels, buffer 1)"
            in capsys.readouterr().out)
    # random folds on a map: one note says what they claim and what to use instead
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none", "--folds",
                 "2", "--no-compare", "--epochs", "1", "--filters", "2", "--filter-size", "3",
                 "--fc-width", "4", "--out", str(d / "random.ramancam")]) == 0
    assert ("note: DATA is a map (x/y positions): random folds test pixels whose neighbours "
            "trained, which flatters the accuracy; --spatial-folds K holds out blocks of "
            "pixels (docs/maps.md)") in capsys.readouterr().out
    assert main(["baseline", str(data), "--label-col", "label", "--recipe", "none", "--folds",
                 "2", "--model", "library"]) == 0
    assert "note: DATA is a map (x/y positions): random folds" in capsys.readouterr().out
    # the unknown-spectrum threshold leaves whole 3 x 3 blocks out, not single pixels
    from ramancam.bundle import load
    from ramancam.maps.folds import spatial_groups
    from ramancam.novelty import conformal_threshold

    model = load(d / "one-epoch.ramancam")
    blocks = spatial_groups(read_table(data, label_col="label"), n_splits=2, block_size=3)
    assert model.threshold == pytest.approx(
        conformal_threshold(model.novelty.loo_scores(blocks), 0.05), rel=1e-4)
    # leaving a block out leaves each pixel's neighbours out: scores never lower, on average
    # higher, and so is the threshold (equal where one odd pixel sets both)
    by_block, by_pixel = model.novelty.loo_scores(blocks), model.novelty.loo_scores()
    # neighbours left out with each pixel: its scores rise (hqi-nap refits its directions
    # without the block too, so a single pixel's score may also fall a little)
    assert by_block.mean() > 1.01 * by_pixel.mean()
    assert np.median(by_block) > np.median(by_pixel)
    assert model.threshold >= conformal_threshold(by_pixel, 0.05) * (1 - 1e-6)  # float32
    lines = out.splitlines()
    head = lines.index("fold    train   test            CNN")
    rows = [ln.split() for ln in lines[head + 1:head + 3]]
    n_train = [int(r[1]) for r in rows]
    n_test = [int(r[2]) for r in rows]
    assert sum(n_test) == NX * NY
    # the buffer drops the test pixels' neighbours from training
    assert all(tr < NX * NY - te for tr, te in zip(n_train, n_test, strict=True))


def test_predict_map_into_a_folder(trained, tmp_path, capsys, monkeypatch):
    import ramancam.maps.outputs as outputs

    _, data, model = trained
    seen = {}
    real = outputs.write_map_images

    def spy(*args, **kw):
        seen.update(kw)
        return real(*args, **kw)

    monkeypatch.setattr(outputs, "write_map_images", spy)
    out = tmp_path / "pred"
    assert main(["predict", str(model), str(data), "--label-col", "label",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "map: 10 x 6 pixels, step 2 x 2, 0 missing" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == ["band_shift.png", "classes.png", "confidence.png", "novelty_p.png",
                     "predictions.csv", "proba_01.png", "proba_02.png", "report.html",
                     "set_size.png"]
    with open(out / "predictions.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "predicted", "p_a", "p_b", "true", "x", "y", "novelty",
                       "unknown", "library_match", "novelty_p",
                      "prediction_set"]
    assert len(rows) == NX * NY + 1
    assert rows[1][5:7] == ["0.0", "0.0"] and rows[-1][5:7] == ["18.0", "10.0"]
    acc = np.mean([r[1] == r[4] for r in rows[1:]])
    assert acc >= 0.9                      # the two halves are easy
    img = imread(out / "classes.png")
    assert img.shape[0] > 200 and img[..., :3].std() > 0.1
    # the novelty p-value and set-size images hold each pixel's predictions.csv value
    # (the synthetic map's rows are in raster order)
    np.testing.assert_allclose(seen["novelty_p"].ravel(), [float(r[10]) for r in rows[1:]])
    assert seen["set_size"].ravel().tolist() == [len(r[11].split("|")) for r in rows[1:]]
    assert np.nanmin(seen["novelty_p"]) > 0 and set(np.unique(seen["set_size"])) <= {1, 2}
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 7 and "10 x 6 pixels" in html
    for section in ("Band shift", "Novelty p-value", "Prediction set size"):
        assert f">{section}<" in html
    # what predict printed, the accuracy among it (the map's page had none of it)
    accuracy = next(line for line in text.splitlines() if line.startswith("accuracy: "))
    assert ">Summary<" in html and accuracy in html


def test_predict_map_draws_each_pixels_band_shift(trained, tmp_path, capsys, monkeypatch):
    import ramancam.maps.outputs as outputs

    _, _, model = trained
    s = synthetic_map(np.random.default_rng(3))
    iy = np.asarray(s.meta["y"]) / 2.0
    step = float(AXIS[1] - AXIS[0])
    moved = (iy >= 3) & (s.labels == "b")  # the lower rows of the right half: one step up
    X = np.array(s.X)
    X[moved] = np.interp(AXIS - step, AXIS, _lorentz(1050)) + 0.3 * _lorentz(1000)
    data = tmp_path / "moved.csv"
    write_table(Spectra(X, AXIS, labels=s.labels, meta=s.meta), data)
    seen = {}
    real = outputs.write_map_images

    def spy(*args, **kw):
        seen["band_shift"] = kw.get("band_shift")
        return real(*args, **kw)

    monkeypatch.setattr(outputs, "write_map_images", spy)
    out = tmp_path / "shift"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 0
    img = seen["band_shift"]  # (ny, nx), as the pixels lie
    assert img.shape == (NY, NX) and (out / "band_shift.png").exists()
    flat = img.ravel()  # the synthetic map's rows are in raster order
    # 40 points 5.1 cm-1 apart and bands about one point wide: the sub-point vertex reads
    # the one-step shift as about 4 cm-1; the unmoved pixels as 0
    assert 0.6 * step < np.nanmedian(flat[moved]) < 1.4 * step
    assert abs(np.nanmedian(flat[~moved])) < 0.2 * step


def test_predict_with_missing_pixels_and_file_out(trained, tmp_path, capsys, rng):
    _, _, model = trained
    data = tmp_path / "holes.csv"
    write_table(synthetic_map(rng, drop=(0, 33)), data)
    out = tmp_path / "holes-out"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "10 x 6 pixels, step 2 x 2, 2 missing" in said
    # the images were drawn: no note that --out DIR would draw them (it came after them)
    assert "--out DIR also draws" not in said
    # --out FILE.csv keeps the old behaviour, with x, y after the class columns
    f = tmp_path / "p.csv"
    assert main(["predict", str(model), str(data), "--out", str(f)]) == 0
    assert ("note: DATA is a map (x/y positions); --out DIR also draws the class, confidence "
            "and probability images") in capsys.readouterr().out
    assert f.read_text().splitlines()[0] == ("id,predicted,p_a,p_b,x,y,novelty,unknown,"
                                                     "library_match,novelty_p,prediction_set")


def test_explain_map_into_a_folder(trained, tmp_path, capsys):
    _, data, model = trained
    out = tmp_path / "expl"
    assert main(["explain", str(model), str(data), "--out", str(out) + "/",
                 "--bands", "950,1050"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"maps.csv", "classes.png", "confidence.png", "band_01.png", "band_02.png",
            "class_means.csv", "class_means.png", "report.html"} <= names
    maps = read_table(out / "maps.csv")
    assert maps.X.shape == (NX * NY, N_POINTS) and maps.meta["x"].dtype == np.float64
    means = read_table(out / "class_means.csv", label_col="class")
    kinds = means.meta["kind"].tolist()
    assert kinds == ["spectrum", "map", "spectrum", "map"]
    spec_a = means.X[0]
    assert AXIS[spec_a.argmax()] == pytest.approx(950, abs=6)   # class a's band
    assert "band images" in (out / "report.html").read_text().lower()
    assert "wrote" in capsys.readouterr().out
    # predict into explain's folder removed its band images and replaced its report
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 2
    assert "which holds the outputs of explain (maps.csv)" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # (and the reverse)
    assert main(["predict", str(model), str(data), "--out", str(tmp_path / "pred")]) == 0
    assert main(["explain", str(model), str(data), "--out", str(tmp_path / "pred")]) == 2
    assert "holds the outputs of predict (predictions.csv)" in capsys.readouterr().err


def test_explain_map_marks_the_same_pixels_as_predict(trained, tmp_path, monkeypatch):
    """explain --out DIR draws classes.png with the unknown pixels, novelty_p.png and
    set_size.png from the same flags, p-values and sets as predict (and as Zarr runs)."""
    import ramancam.maps.images as images
    import ramancam.maps.outputs as outputs

    _, _, model = trained
    s = synthetic_map(np.random.default_rng(5))
    X = np.array(s.X)
    X[:6] = _lorentz(920) + 0.3 * _lorentz(1080)  # six pixels of a substance never seen
    data = tmp_path / "odd.csv"
    write_table(Spectra(X, AXIS, meta=s.meta), data)
    seen: list[dict] = []
    real = images.write_map_images

    def spy(*args, **kw):
        seen.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(outputs, "write_map_images", spy)
    assert main(["predict", str(model), str(data), "--out", str(tmp_path / "p")]) == 0
    assert main(["explain", str(model), str(data), "--out", str(tmp_path / "e")]) == 0
    pred, expl = seen
    assert pred["unknown"][0, :6].all()  # the unseen substance is flagged
    for k in ("unknown", "novelty_p", "set_size"):
        np.testing.assert_array_equal(expl[k], pred[k], err_msg=k)
    names = {q.name for q in (tmp_path / "e").iterdir()}
    assert {"novelty_p.png", "set_size.png", "classes.png"} <= names
    # predict's map report lists the pixels to check, with their positions
    page = (tmp_path / "p" / "report.html").read_text()
    assert ">Pixels to check<" in page and "<th>x</th><th>y</th>" in page
    for i in range(6):  # the unseen substance's pixels (ids px00-px05, x = 0, 2, ..., y = 0)
        assert re.search(rf"<td>px{i:02d}</td><td[^>]*>{2 * i}</td><td[^>]*>0</td>", page)
    html = (tmp_path / "e" / "report.html").read_text()
    assert ">Novelty p-value<" in html and ">Prediction set size<" in html


def test_explain_default_bands_and_target_all(trained, tmp_path):
    _, data, model = trained
    out = tmp_path / "all"
    assert main(["explain", str(model), str(data), "--target", "all", "--out",
                 str(out)]) == 0
    assert sorted(p.name for p in out.glob("band_0*.png")) == ["band_01.png", "band_02.png",
                                                                "band_03.png"]
    assert read_table(out / "maps.csv").X.shape == (2 * NX * NY, N_POINTS)
    # each pixel's band shift, as predict draws it (and a cube's explain did already)
    assert (out / "band_shift.png").exists()


def test_map_option_errors(trained, tmp_path, capsys):
    _, data, model = trained
    assert main(["explain", str(model), str(data), "--bands", "950",
                 "--out", str(tmp_path / "m.csv")]) == 2
    assert "--bands must come with a map and --out DIR" in capsys.readouterr().err
    assert main(["explain", str(model), str(data), "--bands", "50",
                 "--out", str(tmp_path / "d")]) == 2
    assert "--bands must lie within the model's grid" in capsys.readouterr().err
    assert main(["explain", str(model), str(data), "--bands", "1e3,x",
                 "--out", str(tmp_path / "d")]) == 2
    assert "--bands must be Raman shifts" in capsys.readouterr().err
    assert main(["predict", str(model), str(data), "--xy-cols", "x"]) == 2
    assert "--xy-cols must name two columns" in capsys.readouterr().err
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none",
                 "--spatial-folds", "9", "--spatial-block", "5",
                 "--out", str(tmp_path / "m.ramancam")]) == 2
    assert "must not outnumber the blocks" in capsys.readouterr().err
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none",
                 "--spatial-block", "3", "--out", str(tmp_path / "m.ramancam")]) == 2
    assert "--spatial-block must come with --spatial-folds K" in capsys.readouterr().err
    # groups from file names were ignored by spatial folds (and the notes and baseline.json
    # described a group k-fold run)
    for cmd in (["train", "--out", str(tmp_path / "g.ramancam")],
                ["baseline", "--model", "library"]):
        assert main([*cmd, str(data), "--label-col", "label", "--recipe", "none",
                     "--spatial-folds", "3", "--groups-from", r"id:(\d)$"]) == 2
        assert ("--groups-from gives groups for group-aware folds; got --spatial-folds, "
                "whose folds are blocks of the map. Drop one of them.") \
            in capsys.readouterr().err
    # an existing file named like a folder is refused, not overwritten with the table
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert main(["predict", str(model), str(data), "--out", str(afile)]) == 2
    assert "--out must be a folder for a map's table and images" in capsys.readouterr().err
    assert afile.read_text() == "keep me"
    # a map refused for its positions leaves no empty --out folder behind
    lines = data.read_text().splitlines()
    dup = tmp_path / "dup.csv"
    dup.write_text("\n".join([*lines, lines[-1].replace(lines[-1].split(",")[0], "again", 1)])
                   + "\n")
    for cmd in ("predict", "explain"):
        assert main([cmd, str(model), str(dup), "--out", str(tmp_path / f"{cmd}_dup")]) == 2
        assert "error:" in capsys.readouterr().err
        assert not (tmp_path / f"{cmd}_dup").exists()


def test_xy_cols_and_info_grid(tmp_path, capsys, rng):
    data = tmp_path / "renamed.csv"
    write_table(synthetic_map(rng, drop=(5,), xy_names=("stage_x", "stage_y")), data)
    assert main(["info", str(data), "--label-col", "label"]) == 0
    assert "grid:" not in capsys.readouterr().out
    assert main(["info", str(data), "--label-col", "label", "--xy-cols",
                 "stage_x,stage_y"]) == 0
    assert "grid:      10 x 6 pixels, step 2 x 2, 1 missing" in capsys.readouterr().out
    assert main(["info", str(data), "--xy-cols", "stage_x,stage_y", "--json"]) == 0
    assert '"nx": 10' in capsys.readouterr().out


def test_baseline_spatial_folds(tmp_path, capsys, rng):
    data = tmp_path / "map.csv"
    write_table(synthetic_map(rng), data)
    assert main(["baseline", str(data), "--label-col", "label", "--recipe", "none",
                 "--model", "plsda", "--components", "1,2", "--spatial-folds", "2",
                 "--spatial-block", "3", "--out", str(tmp_path / "b")]) == 0
    assert "(2 folds)" in capsys.readouterr().out
    assert '"mode": "spatial k-fold"' in (tmp_path / "b" / "baseline.json").read_text()


def test_predict_map_marks_unknown_pixels_in_the_class_image(trained, tmp_path, capsys,
                                                             drawn_unknown):
    # A band the model never saw replaces the class bands in the top row: those pixels are
    # flagged, and classes.png gets the flags (unless --no-reject) in image layout.
    _, _, model = trained
    rng = np.random.default_rng(3)
    s = synthetic_map(rng)
    X = s.X.copy()
    top = np.asarray(s.meta["y"]) == 0.0
    X[top] = 0.3 * _lorentz(1000) + _lorentz(925) + rng.normal(0, 0.02, (int(top.sum()), N_POINTS))
    data = tmp_path / "novel.csv"
    write_table(Spectra(X, AXIS, meta=s.meta), data)
    assert main(["predict", str(model), str(data), "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    with open(tmp_path / "a" / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    flags = np.array([r["unknown"] == "true" for r in rows])
    assert flags[top].mean() >= 0.9 and flags[~top].mean() <= 0.25
    img = drawn_unknown[-1]
    assert img.shape == (NY, NX) and img.dtype == bool
    np.testing.assert_array_equal(img[0], flags[top])      # row y = 0 of the image
    assert img.sum() == flags.sum()
    assert main(["predict", str(model), str(data), "--no-reject",
                 "--out", str(tmp_path / "b")]) == 0
    assert drawn_unknown[-1] is None


@pytest.fixture(scope="module")
def paper_model(trained):
    """A tiny model whose recipe normalises to the maximum (so a flat spectrum is refused)."""
    d, data, _ = trained
    model = d / "paper.ramancam"
    assert main(["train", str(data), "--label-col", "label", "--recipe", "paper",
                 "--grid", "905:1095:5", "--folds", "2", "--no-compare", "--epochs", "2",
                 "--filters", "2", "--filter-size", "3", "--fc-width", "4",
                 "--out", str(model)]) == 0
    return model


def test_dead_pixels_are_not_predicted_and_do_not_stop_the_map(paper_model, tmp_path, capsys,
                                                               drawn_unknown):
    # Two flat (dead) pixels: max normalisation of the model's recipe refuses them. The run
    # goes on; their rows read unknown with empty numbers, the image marks them, and every
    # other row is what the map without them gives.
    from ramancam.bundle import load

    model = paper_model
    s = synthetic_map(np.random.default_rng(5))
    dead = [7, 33]
    X = s.X.copy()
    X[dead] = 0.0
    bad = tmp_path / "dead.csv"
    write_table(Spectra(X, AXIS, labels=s.labels, meta=s.meta), bad)
    capsys.readouterr()
    assert main(["predict", str(model), str(bad), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert ("not predicted: 2 spectra the model's recipe refuses (px07, px33; rows read "
            "unknown with empty probabilities). First reason: must have a positive maximum "
            "for max normalisation") in out
    with open(tmp_path / "a" / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == NX * NY
    b = load(model)
    for i in dead:
        r = rows[i]
        assert (r["predicted"], r["unknown"], r["novelty"], r["library_match"]) == (
            "unknown", "true", "", "")
        assert all(r[f"p_{c}"] == "" for c in b.classes)
    n_flag = sum(r["unknown"] == "true" for j, r in enumerate(rows) if j not in dead)
    assert f"unknown: {n_flag}/{NX * NY - 2} spectra flagged" in out
    # the other rows: as predicted without the dead pixels
    keep = np.setdiff1d(np.arange(NX * NY), dead)
    proba, score, _, match = b.predict_all(s[keep])
    got = np.array([[float(rows[i][f"p_{c}"]) for c in b.classes] for i in keep])
    np.testing.assert_allclose(got, proba, rtol=1e-6)
    np.testing.assert_allclose([float(rows[i]["novelty"]) for i in keep], score, rtol=1e-6,
                               atol=1e-12)
    assert [rows[i]["library_match"] for i in keep] == match.tolist()
    # the image shows them as unknown, with --no-reject too (they have no class)
    img = drawn_unknown[-1]
    iy, ix = np.divmod(np.asarray(dead), NX)
    assert img[iy, ix].all()
    assert main(["predict", str(model), str(bad), "--no-reject",
                 "--out", str(tmp_path / "b")]) == 0
    assert "not predicted: 2 spectra" in capsys.readouterr().out
    assert int(drawn_unknown[-1].sum()) == 2 and drawn_unknown[-1][iy, ix].all()
    # explain: no map rows for them; on the map they are not predicted, as predict says
    # (explain left them off the grid: "2 missing", no "not predicted" row, grey pixels)
    assert main(["explain", str(model), str(bad), "--out", str(tmp_path / "e")]) == 0
    out = capsys.readouterr().out
    assert ("not explained: 2 spectra the model's recipe refuses (px07, px33; they have no "
            "rows). First reason: must have a positive maximum") in out
    with open(tmp_path / "e" / "maps.csv", newline="") as fh:
        ids = [r["id"] for r in csv.DictReader(fh)]
    assert ids == [f"px{i:02d}" for i in keep]
    assert (tmp_path / "e" / "classes.png").exists() and (tmp_path / "e" / "report.html").exists()
    assert re.search(r"^map: .*, 0 missing; wrote ", out, re.MULTILINE)
    img = drawn_unknown[-1]
    assert img.shape == (NY, NX) and img[iy, ix].all()
    for folder in ("a", "e"):  # predict's report and explain's alike
        page = (tmp_path / folder / "report.html").read_text()
        assert ", 0 missing</td>" in page
        assert '<tr><td>not predicted</td><td class="num">2</td>' in page
    # nothing to predict: the recipe's error, as before
    one = tmp_path / "one.csv"
    write_table(Spectra(X[dead], AXIS), one)
    assert main(["predict", str(model), str(one)]) == 2
    assert "must have a positive maximum" in capsys.readouterr().err


def test_prepare_usable_leaves_out_only_what_the_recipe_refuses(paper_model):
    from ramancam.bundle import load
    from ramancam.errors import RamancamError

    b = load(paper_model)
    s = synthetic_map(np.random.default_rng(1))[:6]
    X0, ok, why = b.prepare_usable(s)
    assert ok.all() and why == [] and X0.shape == (6, b.grid.size)
    X = s.X.copy()
    X[2] = 0.0
    Xu, ok, why = b.prepare_usable(Spectra(X, AXIS))
    assert ok.tolist() == [True, True, False, True, True, True] and len(why) == 1
    np.testing.assert_allclose(Xu, X0[ok])
    # every spectrum refused: nothing usable, each reason kept (the caller decides)
    Xn, ok, why = b.prepare_usable(Spectra(np.zeros((3, N_POINTS)), AXIS))
    assert Xn.shape == (0, b.grid.size) and not ok.any() and len(why) == 3
    assert all("positive maximum" in w for w in why)
    # spectra short of the grid are refused with that reason (predict checks the coverage
    # of all of them first and stops there)
    _, ok, why = b.prepare_usable(Spectra(X[:, :10], AXIS[:10]))
    assert not ok.any() and "cover" in why[0]
    with pytest.raises(RamancamError, match="cover"):
        b.check_coverage(Spectra(X[:, :10], AXIS[:10]))


def test_a_chunk_of_dead_pixels_only_and_a_last_dead_spectrum(paper_model, tmp_path, capsys,
                                                               monkeypatch):
    import ramancam.cli.explain as explain_cli
    import ramancam.cli.predict as predict_cli

    s = synthetic_map(np.random.default_rng(6))
    X = s.X.copy()
    dead = [8, 9, 10, 11, NX * NY - 1]  # chunks of 4: the third is dead, and the very last
    X[dead] = 0.0
    bad = tmp_path / "dead.csv"
    write_table(Spectra(X, AXIS, meta=s.meta), bad)
    monkeypatch.setattr(predict_cli, "CHUNK", 4)
    monkeypatch.setattr(explain_cli, "CHUNK", 4)
    capsys.readouterr()
    assert main(["predict", str(paper_model), str(bad), "--out", str(tmp_path / "p.csv")]) == 0
    assert "not predicted: 5 spectra" in capsys.readouterr().out
    with open(tmp_path / "p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [i for i, r in enumerate(rows) if r["novelty"] == ""] == dead
    assert all(rows[i]["predicted"] == "unknown" for i in dead)
    assert main(["explain", str(paper_model), str(bad), "--out", str(tmp_path / "m.csv"),
                 "--report", str(tmp_path / "e.html")]) == 0
    assert "not explained: 5 spectra" in capsys.readouterr().out
    # the report counted them as explained
    page = (tmp_path / "e.html").read_text()
    assert re.search(rf"spectra explained</td><td[^>]*>{NX * NY - 5}</td>", page)
    assert re.search(r"not explained \(refused by the model&#x27;s recipe\)</td><td[^>]*>5<",
                     page)
    with open(tmp_path / "m.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == NX * NY - 5
    # every spectrum dead: the recipe's error, and no file
    write_table(Spectra(np.zeros((6, N_POINTS)), AXIS), tmp_path / "all.csv")
    for cmd in ("predict", "explain"):
        out = tmp_path / f"all-{cmd}.csv"
        assert main([cmd, str(paper_model), str(tmp_path / "all.csv"), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "every spectrum was refused by the model's recipe" in err
        assert "must have a positive maximum" in err and not out.exists()
        # without --out neither: no header and rows without numbers above the error
        assert main([cmd, str(paper_model), str(tmp_path / "all.csv")]) == 2
        both = capsys.readouterr()
        assert both.out == "" and "every spectrum was refused" in both.err
    # a refused first chunk and a predicted second one: every row on the screen, in order
    monkeypatch.setattr(predict_cli, "CHUNK", 2)
    mixed = np.vstack([np.zeros((2, N_POINTS)), s.X[:2]])
    write_table(Spectra(mixed, AXIS), tmp_path / "mixed.csv")
    assert main(["predict", str(paper_model), str(tmp_path / "mixed.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["novelty"] == "" for r in rows] == [True, True, False, False]
    # the same as a map, whose --out is a folder: none is left behind, empty (it was)
    xy = {"x": np.tile([0.0, 1.0, 2.0], 2), "y": np.repeat([0.0, 1.0], 3)}
    write_table(Spectra(np.zeros((6, N_POINTS)), AXIS, meta=xy), tmp_path / "allmap.csv")
    for cmd in ("predict", "explain"):
        out = tmp_path / f"{cmd}-dir"
        assert main([cmd, str(paper_model), str(tmp_path / "allmap.csv"), "--out",
                     str(out)]) == 2
        assert "every spectrum was refused" in capsys.readouterr().err
        assert not out.exists()


def test_explain_keeps_the_grid_when_an_edge_column_is_dead(trained, tmp_path, capsys):
    # the grid was inferred again from the usable pixels: a dead last column was cut off
    # the images (a 10 x 6 map drawn 9 x 6), where predict drew it blank
    _, _, model = trained
    s = synthetic_map(np.random.default_rng(3))
    X = s.X.copy()
    X[np.asarray(s.meta["x"]) == 2.0 * (NX - 1)] = 0.0  # the last column: dead pixels
    write_table(s.replace(X), tmp_path / "dead.csv")
    capsys.readouterr()
    assert main(["explain", str(model), str(tmp_path / "dead.csv"), "--out",
                 str(tmp_path / "e")]) == 0
    out = capsys.readouterr().out
    assert f"not explained: {NY} spectra" in out
    assert f"map: {NX} x {NY}" in out


def test_an_irregular_grid_error_gives_a_command_line_fix(tmp_path, capsys):
    # "pass a larger tol": no option of the command line sets it
    from ramancam.errors import RamancamError
    from ramancam.maps.grid import grid_of

    s = synthetic_map(np.random.default_rng(4))
    x = np.asarray(s.meta["x"], dtype=float)
    odd = s.replace(meta={**s.meta, "x": np.where(x > 8.0, 8.0 + 1.5 * (x - 8.0), x)})
    write_table(odd, tmp_path / "odd.csv")
    capsys.readouterr()
    assert main(["info", str(tmp_path / "odd.csv")]) == 0
    out = capsys.readouterr().out
    assert "x/y positions do not form a grid" in out and "larger tol" not in out
    assert "rename the x/y columns (e.g. to stage_x, stage_y" in out
    with pytest.raises(RamancamError) as e:  # Python keeps its own words
        grid_of(odd)
    assert "pass a larger tol" in str(e.value) and "rename the x/y columns" in e.value.cli


def test_spectra_predicted_into_a_map_runs_folder_are_told_its_old_images(trained, tmp_path,
                                                                           capsys):
    _, data, model = trained
    out = tmp_path / "o"
    assert main(["predict", str(model), str(data), "--out", str(out) + "/"]) == 0
    assert (out / "classes.png").exists()
    s = read_table(data)
    write_table(Spectra(s.X, s.wavenumbers), tmp_path / "plain.csv")  # no positions
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "plain.csv"), "--out",
                 str(out) + "/"]) == 0
    text = capsys.readouterr().out
    assert f"note: {out} still holds map images of an earlier run (" in text
    assert "classes.png" in text and "they are not of these predictions" in text


def test_predict_says_wrote_only_of_files_put_in_place(trained, tmp_path, capsys,
                                                       monkeypatch):
    # An interrupted (or failed) predict printed 'wrote 60 predictions to ...' and the map's
    # 'wrote classes.png, ...' line before 'error: interrupted', though the group of outputs
    # put none of them in place; each line is now printed once every output is in place
    import ramancam.predict_report as predict_report

    _, data, model = trained
    out, page = tmp_path / "pred", tmp_path / "page.html"
    argv = ["predict", str(model), str(data), "--label-col", "label", "--out", str(out),
            "--report", str(page)]

    def there():
        return sorted(p.name for p in out.iterdir()) if out.is_dir() else [], page.is_file()

    lines, seen, done = watched_run(argv, there, monkeypatch)
    assert "predictions.csv" in done[0] and "classes.png" in done[0] and done[1]
    # each 'wrote' line came once every output was in place
    assert [w for w, _ in seen] == [
        ln for ln in lines if "wrote" in ln] and len(seen) == 3
    assert all(seen == done for _, seen in seen), seen
    # the lines and their order, as scripts read them
    assert lines[0] == f"wrote {NX * NY} predictions to {out / 'predictions.csv'}"
    starts = ["wrote ", "note: 60 of 60 spectra are the same", "predicted: ", "library search",
              "unknown: ", "prediction sets", "accuracy: ", "flagged unknown: ",
              "map: 10 x 6 pixels, step 2 x 2, 0 missing; wrote classes.png",
              f"wrote the report {page}"]
    assert len(lines) == len(starts)
    assert all(ln.startswith(s) for ln, s in zip(lines, starts, strict=True)), lines

    def outputs():
        return {p.name: p.read_bytes() for p in (*out.iterdir(), page)}

    failed_runs(argv, predict_report, "write_predict_report", outputs, "predicted: ",
                 monkeypatch, capsys)


def test_explain_says_wrote_only_of_files_put_in_place(trained, tmp_path, capsys,
                                                       monkeypatch):
    # as predict's: 'wrote 60 ig-bands maps ...', the map's images and the figure were said of
    # files an interrupted run then kept back
    import ramancam.cli.explain as cli_explain

    _, data, model = trained
    out, fig, page = tmp_path / "expl", tmp_path / "fig.png", tmp_path / "page.html"
    argv = ["explain", str(model), str(data), "--out", str(out), "--plot", str(fig),
            "--report", str(page)]

    def there():
        return (sorted(p.name for p in out.iterdir()) if out.is_dir() else [],
                fig.is_file(), page.is_file())

    lines, seen, done = watched_run(argv, there, monkeypatch)
    assert "maps.csv" in done[0] and done[1] and done[2]
    assert len(seen) == 4 and all(seen == done for _, seen in seen)
    assert lines[0] == f"wrote {NX * NY} ig-bands maps (predicted) to {out / 'maps.csv'}"
    starts = ["wrote ", "unknown: 0/60 pixels flagged", "library search", "prediction sets",
              "map: 10 x 6 pixels, step 2 x 2, 0 missing; wrote classes.png",
              f"wrote a figure of 6 maps to {fig}", f"wrote a report of 6 maps to {page}"]
    assert len(lines) == len(starts)
    assert all(ln.startswith(s) for ln, s in zip(lines, starts, strict=True)), lines

    def outputs():
        return {p.name: p.read_bytes() for p in (*out.iterdir(), fig, page)}

    failed_runs(argv, cli_explain, "_write_report", outputs, "unknown: ", monkeypatch,
                 capsys)
