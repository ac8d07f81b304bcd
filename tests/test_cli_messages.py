"""Errors and notes whose fix must be one the user can make at that command: following each
message's advice literally either works, or the advice names what does (an audit ran every
message's fix; these were the ones that failed)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import write_table
from ramancam.spectra import Spectra

AXIS = np.arange(300.0, 1901.0, 2.0)


def _band(x0: float, rng: np.random.Generator) -> np.ndarray:
    y = 1.0 / (1.0 + ((AXIS - x0) / 6.0) ** 2) + 0.3 / (1.0 + ((AXIS - 1500) / 8.0) ** 2)
    return y + 0.2 + 0.2 * (AXIS - 300) / 1600 + rng.normal(0, 0.005, AXIS.size)


def _cupped(x0: float) -> np.ndarray:
    """Below the straight line through its end points everywhere: the paper's baseline
    leaves nothing positive."""
    return 5.0 * ((AXIS - 1100) / 800) ** 2 + 0.5 / (1.0 + ((AXIS - x0) / 6.0) ** 2)


def _two_column_files(folder: Path, files: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """``folder`` with one two-column text file (Raman shift, intensity) per name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (w, y) in files.items():
        np.savetxt(folder / name, np.column_stack([w, y]))
    return folder


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err


def test_simulate_mix_names_its_own_fix_for_a_pure_spectrum_the_paper_recipe_refuses(
        tmp_path, capsys):
    rng = np.random.default_rng(0)
    pure = tmp_path / "pure"
    pure.mkdir()
    for name, y in (("a", _band(600, rng)), ("b", _band(1000, rng)), ("c", _cupped(1400))):
        np.savetxt(pure / f"{name}.txt", np.column_stack([AXIS, y]))
    err = _error(capsys, ["simulate", "mix", "--pure", str(pure), "--labels-from",
                          r"regex:^(\w)\.txt", "--out", str(tmp_path / "mix.csv")])
    assert "leave it out of --pure" in err and "--recipe" not in err, err


def test_predict_refusing_a_spectrum_names_a_fix_for_the_model_not_for_python(tmp_path,
                                                                             capsys):
    from ramancam.bundle import save
    from ramancam.preprocess import paper_recipe
    from ramancam.train import CNNClassifier

    rng = np.random.default_rng(1)
    grid = np.arange(400.0, 1801.0)
    X = np.vstack([_band(c, rng) for c in (600, 1000) for _ in range(6)])
    s = Spectra(X, AXIS, labels=np.repeat(["a", "b"], 6))
    recipe = paper_recipe(grid=(400.0, 1800.0, 1.0))
    est = CNNClassifier(n_filters=2, fc_width=4, epochs=1, novelty=None,
                        random_state=0).fit(recipe.apply(s).X, s.labels)
    model = save(tmp_path / "m.ramancam", estimator=est, recipe=recipe, grid=grid,
                 classes=list(est.classes_), training_summary={})
    new = tmp_path / "new.csv"
    write_table(Spectra(np.vstack([X[:2], _cupped(600)]), AXIS), new)
    assert main(["predict", str(model), str(new), "--out", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    # auto would choose the paper's recipe again on the same training spectra: asls it is
    assert "a model trained with the asls or arpls recipe can" in out, out
    assert "pybaselines" not in out and "another normalisation" not in out


def test_an_irregular_map_position_names_fixes_that_work(tmp_path, capsys):
    rng = np.random.default_rng(2)
    yy, xx = np.divmod(np.arange(24), 6)
    x = xx.astype(float)
    x[7] += 0.4  # one stage position off its raster
    s = Spectra(np.vstack([_band(600 + 400 * (i % 2), rng) for i in range(24)]), AXIS,
                labels=np.where(np.arange(24) % 2, "b", "a"), meta={"x": x, "y": yy * 1.0})
    path = tmp_path / "map.csv"
    write_table(s, path)
    err = _error(capsys, ["train", str(path), "--label-col", "label", "--spatial-folds", "2",
                          "--epochs", "1", "--out", str(tmp_path / "m.ramancam")])
    assert "fix that position in the file" in err and "stage_x" in err, err


def test_duplicate_notes_name_the_fix_for_their_kind(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = np.vstack([_band(600 + 400 * (i % 2), rng) for i in range(12)])
    labels = np.where(np.arange(12) % 2, "b", "a")
    X[11] = X[0]  # a copy of an "a" spectrum labelled "b"
    path = tmp_path / "dup.csv"
    write_table(Spectra(X, AXIS, labels=labels), path)
    assert main(["baseline", str(path), "--label-col", "label", "--model", "library",
                 "--folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "copies with another label" in out and "Check their labels" in out, out
    # a folder has no metadata column to group by: --groups-from is its fix
    err = _error(capsys, ["baseline", str(tmp_path), "--labels-from", "folder",
                          "--group-col", "file", "--model", "library"])
    assert "use another --labels-from" in err and "labels_from" not in err, err
    braces = tmp_path / "run{1}"  # a path with braces stays text in the message
    braces.mkdir()
    np.savetxt(braces / "s.txt", np.column_stack([AXIS, X[0]]))
    err = _error(capsys, ["info", str(braces), "--labels-from", "folder"])
    assert "run{1}" in err and "must sit in a sub-folder" in err, err
    for i, y in enumerate(X):
        (tmp_path / "files" / labels[i]).mkdir(parents=True, exist_ok=True)
        np.savetxt(tmp_path / "files" / labels[i] / f"s{i}.txt", np.column_stack([AXIS, y]))
    err = _error(capsys, ["baseline", str(tmp_path / "files"), "--labels-from", "folder",
                          "--group-col", "file", "--model", "library"])
    assert "a folder's groups: --groups-from" in err, err


def test_recipe_none_on_differing_axes_points_at_a_recipe_that_resamples(tmp_path, capsys):
    rng = np.random.default_rng(4)
    folder = _two_column_files(tmp_path / "files", {
        f"{'ab'[i % 2]}_{i}.txt": (AXIS[:AXIS.size - 10 * i],
                                   _band(600 + 400 * (i % 2), rng)[:AXIS.size - 10 * i])
        for i in range(6)})
    err = _error(capsys, ["baseline", str(folder), "--labels-from", r"regex:^(\w)_",
                          "--recipe", "none", "--model", "library"])
    assert "Leave out --recipe (auto resamples them" in err, err
    # axes 0.5 cm-1 apart: every spectrum covers 301-1900
    shifted = _two_column_files(tmp_path / "shifted", {
        f"s{i}.txt": (AXIS + 0.5 * i, _band(600, rng)) for i in range(3)})
    err = _error(capsys, ["convert", str(shifted), str(tmp_path / "wide.csv")])
    assert "every spectrum covers 301-1900 cm-1. Give --grid" in err, err


def test_spectra_that_share_no_range_are_told_no_grid_fits(tmp_path, capsys):
    rng = np.random.default_rng(5)
    halves = [AXIS < 1000, AXIS < 1000, AXIS > 1200, AXIS > 1200]
    folder = _two_column_files(tmp_path / "files", {
        f"{'ab'[i % 2]}_{i}.txt": (AXIS[keep], _band(600, rng)[keep])
        for i, keep in enumerate(halves)})
    err = _error(capsys, ["baseline", str(folder), "--labels-from", r"regex:^(\w)_",
                          "--model", "library"])
    assert "share a range of Raman shifts; got none" in err and "No grid fits" in err, err
    assert "--grid START" not in err


def test_group_and_buffer_errors_do_not_suggest_impossible_options(tmp_path, capsys):
    rng = np.random.default_rng(6)
    X = np.vstack([_band(600 + 400 * (i % 2), rng) for i in range(24)])
    yy, xx = np.divmod(np.arange(24), 6)
    s = Spectra(X, AXIS, labels=np.where(np.arange(24) % 2, "b", "a"),
                meta={"x": xx * 1.0, "y": yy * 1.0, "batch": np.full(24, "B1")})
    path = tmp_path / "map.csv"
    write_table(s, path)
    err = _error(capsys, ["baseline", str(path), "--label-col", "label", "--group-col",
                          "batch", "--model", "library"])
    # one statement: it said "must have at least 5 distinct values for 5 folds; got 1 ...
    # group folds need 2 groups or more", two different least numbers
    assert err == ("error: group column 'batch' must have at least 2 distinct values for "
                   "group folds (and at least 5 for 5 folds); got 1 ('B1'). Check the column "
                   "(or the --groups-from pattern).\n"), err
    err = _error(capsys, ["baseline", str(path), "--label-col", "label", "--spatial-folds",
                          "2", "--spatial-buffer", "6", "--model", "library"])
    assert "spans the whole 6 x 4 map" in err and "more --spatial-folds" not in err, err


def test_flat_spectra_without_a_recipe_are_not_told_to_choose_a_grid(tmp_path, capsys):
    path = tmp_path / "flat.csv"
    write_table(Spectra(np.ones((4, AXIS.size)), AXIS, labels=["a", "a", "b", "b"]), path)
    err = _error(capsys, ["baseline", str(path), "--label-col", "label", "--recipe", "none",
                          "--model", "library"])
    assert "must vary" in err and "--grid" not in err, err


def test_an_unsorted_axis_says_which_points_to_sort():
    with pytest.raises(RamancamError, match="shift columns of a wide table"):
        Spectra(np.ones((1, 3)), [400.0, 500.0, 450.0])


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has a CUDA GPU")
def test_device_error_speaks_in_options_on_the_command_line(tmp_path, capsys):
    err = _error(capsys, ["train", str(tmp_path / "none.csv"), "--label-col", "label",
                          "--device", "cuda", "--out", str(tmp_path / "m.ramancam")])
    assert "--device cpu or auto" in err and "device='cpu'" not in err, err


def test_explain_bands_without_out_says_out_is_missing(tmp_path, capsys):
    from ramancam.bundle import save
    from ramancam.train import CNNClassifier

    rng = np.random.default_rng(7)
    X = np.vstack([_band(600 + 400 * (i % 2), rng) for i in range(12)])
    est = CNNClassifier(n_filters=2, fc_width=4, epochs=1, novelty=None,
                        random_state=0).fit(X, np.where(np.arange(12) % 2, "b", "a"))
    model = save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=AXIS,
                 classes=list(est.classes_), training_summary={})
    yy, xx = np.divmod(np.arange(12), 4)
    path = tmp_path / "map.csv"
    write_table(Spectra(X, AXIS, meta={"x": xx * 1.0, "y": yy * 1.0}), path)
    err = _error(capsys, ["explain", str(model), str(path), "--bands", "600"])
    assert "no --out. Give --out DIR" in err and "None" not in err, err


def test_a_folder_without_known_files_names_files_and_the_suffixes(tmp_path, capsys):
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "a.spectrum").write_text("400 1\n500 2\n")
    err = _error(capsys, ["info", str(tmp_path / "odd")])
    assert "files of other suffixes are not read: rename text spectra to .txt" in err, err
    assert Path(tmp_path / "odd" / "a.spectrum").exists()


@pytest.mark.parametrize("text, step", [("400:410:1", "0.1"), ("400:1800:100", "20"),
                                        ("1000:1003:1", "0.02")])
def test_a_grid_of_too_few_points_suggests_a_step_that_divides_it(text, step):
    """The suggestion was the range / 64 to 3 digits (400:410:0.156), which left the end
    off the grid and needed a second crop; a round step divides the range."""
    from ramancam.cli._common import parse_grid
    from ramancam.preprocess import make_grid

    with pytest.raises(RamancamError, match=r"e\.g\. ([0-9.]+):([0-9.]+):([0-9.e-]+)\.$") as e:
        parse_grid(text)
    start, stop, got = re.search(r"e\.g\. ([0-9.]+):([0-9.]+):([0-9.e-]+)\.$",
                                 str(e.value)).groups()
    assert got == step
    g = make_grid(float(start), float(stop), float(got))
    assert g[0] == float(start) and abs(g[-1] - float(stop)) < 1e-9 and g.size >= 64
    # the suggestion is taken as it is (parse_grid returns a tuple or raises: never None)
    assert parse_grid(f"{start}:{stop}:{got}") == (float(start), float(stop), float(got))


# ------------------------------------------------- option values refused in the option's name
@pytest.fixture
def tiny_model_and_table(tmp_path):
    from ramancam.bundle import save, training_summary
    from ramancam.model import CNNConfig, RamanCNN

    rng = np.random.default_rng(3)
    n = 32
    grid = np.arange(n, dtype=np.float64)
    yy, xx = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    s = Spectra(rng.random((16, n)), grid, np.where(xx.ravel() < 2, "a", "b"),
                {"x": xx.ravel() * 1.0, "y": yy.ravel() * 1.0})
    torch.manual_seed(0)
    net = RamanCNN(CNNConfig(n_points=n, n_classes=2, n_filters=2, filter_size=3,
                             fc_width=4)).eval()
    save(tmp_path / "m.ramancam", estimator=net, recipe=None, grid=grid, classes=["a", "b"],
         training_summary=training_summary(s))
    write_table(s, tmp_path / "t.csv")
    return tmp_path / "m.ramancam", tmp_path / "t.csv", s


@pytest.mark.parametrize("value", ["0", "nan", "1e309", "3"])
def test_laser_nm_out_of_range_names_the_option(tiny_model_and_table, capsys, value):
    model, table, _ = tiny_model_and_table
    err = _error(capsys, ["predict", str(model), str(table), "--laser-nm", value])
    assert err.startswith("error: --laser-nm must be a number of nm between 150 and 2000 "
                          "(e.g. 785); got "), err
    # Python keeps its own word
    from ramancam.io import wavelength_to_shift

    with pytest.raises(RamancamError, match=r"^laser_nm must be a number of nm between 150"):
        wavelength_to_shift(tiny_model_and_table[2], float(value))


def test_explain_target_on_a_cube_names_the_option(tiny_model_and_table, tmp_path, capsys):
    pytest.importorskip("zarr")
    from ramancam.io.zarr_cube import write_cube

    model, _, s = tiny_model_and_table
    write_cube(s, tmp_path / "c.zarr", chunks=(2, 2))
    err = _error(capsys, ["explain", str(model), str(tmp_path / "c.zarr"), "--target",
                          "nope", "--out", str(tmp_path / "ex")])
    assert err.strip() == ("error: --target must be predicted, all or one of the model's "
                           "classes (a, b) for a map; got 'nope'."), err
    assert not (tmp_path / "ex").exists()


def test_convert_grid_of_too_many_points_names_the_option(tiny_model_and_table, tmp_path,
                                                          capsys):
    _, table, _ = tiny_model_and_table
    err = _error(capsys, ["convert", str(table), str(tmp_path / "o.csv"), "--grid",
                          "0:1023:1e-6"])
    assert err.strip() == ("error: --grid must have at most 10^7 points; got 1023000001 "
                           "(0:1023:1e-06). Use a larger step."), err
