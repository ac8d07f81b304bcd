"""End-to-end tests of ``ramancam baseline`` (called through ``ramancam.cli.main``)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from _toy_sets import imbalanced_table
from ramancam import io
from ramancam.cli import main
from ramancam.io import read_table
from ramancam.spectra import Spectra


def _lorentz(x: np.ndarray, x0: float, fwhm: float) -> np.ndarray:
    return 1.0 / (1.0 + ((x - x0) / (fwhm / 2.0)) ** 2)


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    """3 classes x 12 spectra on 120 channels, a class peak + a random peak + noise; a split."""
    rng = np.random.default_rng(2024)
    x = np.arange(400.0, 520.0)
    X, labels, split, ids = [], [], [], []
    for c, x0 in enumerate((420.0, 460.0, 500.0)):
        for i in range(12):
            s = _lorentz(x, x0, 5.0) + 0.6 * _lorentz(x, rng.uniform(400, 520), 5.0)
            s = s + rng.uniform(-0.025, 0.025, x.size)
            X.append(s / s.max())
            labels.append(f"c{c}")
            split.append("train" if i < 8 else "test")
            ids.append(f"s{c}-{i:02d}")
    path = tmp_path / "spectra.csv"
    io.write_table(Spectra(np.array(X), x, labels=labels,
                           meta={"id": np.array(ids), "split": np.array(split)}), path)
    return path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_pca_svm_kfold_end_to_end(data_csv, tmp_path, capsys):
    out = tmp_path / "res"
    rc = main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
               "--model", "pca-svm", "--folds", "3", "--components", "2,5", "--seed", "1",
               "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "fold 1/3: accuracy" in text and "accuracy mean +- sd:" in text
    rows = _read_csv(out / "predictions.csv")
    assert list(rows[0]) == ["id", "fold", "true", "predicted"]
    assert sorted(r["id"] for r in rows) == sorted({r["id"] for r in rows})  # each id once
    assert len(rows) == 36
    assert {r["fold"] for r in rows} == {"1", "2", "3"}
    acc = np.mean([r["true"] == r["predicted"] for r in rows])
    assert acc >= 0.9
    summary = json.loads((out / "baseline.json").read_text())
    assert summary["model"] == "pca-svm" and len(summary["folds"]) == 3
    assert summary["folds"][0]["best_params"]["n_components"] in (2, 5)
    assert summary["recipe"] == "none" and summary["recipe_used"] == "none"
    assert summary["grid_used"][2] == len(read_table(data_csv, label_col="label").wavenumbers)
    # the sample sd of the fold accuracies, as train's table gives it
    accs = [f["accuracy"] for f in summary["folds"]]
    assert summary["std_accuracy"] == pytest.approx(np.std(accs, ddof=1))
    assert not (out / "vip.csv").exists()
    # Same seed, same folds and predictions.
    out2 = tmp_path / "res2"
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
                 "--model", "pca-svm", "--folds", "3", "--components", "2,5", "--seed", "1",
                 "--out", str(out2)]) == 0
    assert (out2 / "predictions.csv").read_text() == (out / "predictions.csv").read_text()


def test_plsda_fixed_split_writes_vip_table_and_plot(data_csv, tmp_path, capsys):
    out = tmp_path / "pls"
    rc = main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
               "--model", "plsda", "--split-col", "split", "--train-value", "train",
               "--components", "1,2,3,4", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "test accuracy:" in text and "mean +- sd" not in text
    rows = _read_csv(out / "predictions.csv")
    assert len(rows) == 12 and all(r["fold"] == "1" for r in rows)
    assert {r["id"][-2:] for r in rows} == {"08", "09", "10", "11"}  # test spectra only
    assert np.mean([r["true"] == r["predicted"] for r in rows]) >= 0.9
    vip = io.read_table(out / "vip.csv", label_col="class")
    assert vip.labels.tolist() == ["c0", "c1", "c2"]
    np.testing.assert_array_equal(vip.wavenumbers, np.arange(400.0, 520.0))
    # VIP identity: mean squared VIP is 1 for every class.
    np.testing.assert_allclose(np.mean(vip.X ** 2, axis=1), 1.0, rtol=1e-9)
    # The class peak of c1 (460 cm-1) is among the highest VIP of class c1.
    assert 460.0 in vip.wavenumbers[np.argsort(vip.X[1])[-10:]]
    assert (out / "vip.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "baseline.json").read_text())
    assert summary["mode"] == "split" and summary["vip_model"]["n_train"] == 24
    # the split's settings are recorded (a run could not be repeated from the file)
    st = summary["settings"]
    assert (st["label_col"], st["split_col"], st["train_value"], st["n_folds"],
            st["group_col"], st["spatial_folds"], st["left_out"]) \
        == ("label", "split", "train", None, None, None, {})


def test_a_failed_write_leaves_no_folder_it_made(data_csv, tmp_path, monkeypatch, capsys):
    # a full disk while vip.png was written: the error said "nothing was left behind", but
    # the --out folder and its missing parents, made with mkdir, stayed (empty)
    import errno

    from matplotlib.figure import Figure

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    out = tmp_path / "new" / "pls"
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
                 "--model", "plsda", "--folds", "2", "--components", "2",
                 "--out", str(out)]) == 2
    assert "nothing was left behind" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_without_out_nothing_is_written(data_csv, tmp_path, capsys):
    before = sorted(tmp_path.iterdir())
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
                 "--model", "plsda", "--folds", "2", "--components", "2"]) == 0
    assert "accuracy mean +- sd:" in capsys.readouterr().out
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize(("extra", "match"), [
    (["--components", "a,5"], "error: --components must be positive integers separated by "
                              "commas, e.g. 5,10,20; got 'a,5'."),
    (["--components", "0,5"], "error: --components must be positive integers"),
    (["--inner-folds", "1"], "error: --inner-folds must be an integer >= 2; got 1."),
    (["--folds", "20"], "error: at least one class must have 20 spectra for 20-fold cross "
                        "validation"),
    (["--split-col", "nope"], "error: split column 'nope' must be a metadata column; got "
                              "columns"),
])
def test_bad_options_give_one_line_errors(data_csv, capsys, extra, match):
    rc = main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
               "--model", "pca-svm", *extra])
    err = capsys.readouterr().err
    assert rc == 2
    assert match in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("extra", "match"), [
    (["--components", "5"], "error: --components sets the inner search of pca-svm and plsda; "
                            "library search has no settings to search. Drop it."),
    (["--inner-folds", "3", "--components", "5"], "error: --components and --inner-folds set "
                                                  "the inner search"),
])
def test_library_search_refuses_the_inner_search_options(data_csv, capsys, extra, match):
    # they were accepted and did nothing
    rc = main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
               "--model", "library", *extra])
    err = capsys.readouterr().err
    assert rc == 2
    assert match in err
    assert len(err.strip().splitlines()) == 1


def test_out_must_not_be_a_file(data_csv, tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    rc = main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
               "--model", "plsda", "--out", str(f)])
    assert rc == 2
    assert "error: --out must be a folder; got" in capsys.readouterr().err
    # a folder below a file: found after the whole cross-validation, as [Errno 20]
    rc = main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
               "--model", "plsda", "--out", str(f / "res")])
    assert rc == 2
    out = capsys.readouterr()
    assert f"but {str(f)!r} is a file. Name a folder" in out.err
    assert "fold" not in out.out  # refused before any fit


def test_unlabelled_data_is_refused(data_csv, capsys):
    rc = main(["baseline", str(data_csv), "--recipe", "none", "--model", "plsda"])
    assert rc == 2
    assert "must carry class labels for a baseline" in capsys.readouterr().err


def test_model_is_required_and_checked(data_csv, capsys):
    assert main(["baseline", str(data_csv), "--label-col", "label"]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["baseline", str(data_csv), "--label-col", "label", "--model", "lda"]) == 2
    assert "invalid choice: 'lda'" in capsys.readouterr().err


def test_drug_mabs_split_with_paper_recipe(shared_data, tmp_path, capsys):
    """Real data: PLS-DA on the drug-mabs train/test split (the fast baseline)."""
    path = shared_data / "drug-mabs" / "spectra.csv.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    rc = main(["baseline", str(path), "--label-col", "label", "--grid", "400:1800:1",
               "--recipe", "paper", "--split-col", "split", "--model", "plsda",
               "--components", "8"])
    text = capsys.readouterr().out
    assert rc == 0
    acc = float(text.split("test accuracy:")[1].split()[0])
    assert acc >= 0.85  # 0.8767 measured with 8 latent variables


def test_library_search_kfold(data_csv, tmp_path, capsys):
    out = tmp_path / "lib"
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "none",
                 "--model", "library", "--folds", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "model: library" in text and "metric=correlation" in text
    summary = json.loads((out / "baseline.json").read_text())
    # One clear class peak per class: the best hit is always of the right class.
    assert summary["mean_accuracy"] == 1.0
    assert len(_read_csv(out / "predictions.csv")) == 36


def test_grid_full_and_normalize_reach_the_baseline_as_in_train(data_csv, capsys):
    """The baselines take train's --grid full and --normalize: the grid is the whole common
    range (400-519 cm-1 here, inside the paper's default range anyway) and the printed recipe
    names the normalisation."""
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", "paper",
                 "--grid", "full", "--normalize", "snv", "--model", "library",
                 "--folds", "3"]) == 0
    text = capsys.readouterr().out
    assert "120 points (400-519); recipe: paper, normalize snv; model: library" in text


def test_recipe_of_a_model_file_is_reused(data_csv, tmp_path, capsys):
    # --recipe MODEL preprocesses as that model does (its message said "Give the file
    # 'ramancam train' wrote", though train writes no recipe file); --grid still applies
    from ramancam.bundle import load

    model = tmp_path / "m.ramancam"
    assert main(["train", str(data_csv), "--label-col", "label", "--recipe", "paper",
                 "--grid", "400:519:1", "--normalize", "snv", "--epochs", "1", "--folds", "2",
                 "--threads", "1", "--out", str(model)]) == 0
    capsys.readouterr()
    out = tmp_path / "b"
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", str(model),
                 "--model", "library", "--folds", "3", "--out", str(out)]) == 0
    assert f"120 points (400-519); recipe: {model}" in capsys.readouterr().out
    summary = json.loads((out / "baseline.json").read_text())
    assert summary["recipe_steps"] == load(model).recipe.to_dict()["steps"]
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", str(model),
                 "--grid", "400:518:2", "--model", "library", "--folds", "3"]) == 0
    assert "60 points (400-518)" in capsys.readouterr().out
    # a model without a recipe has none to give
    bare = tmp_path / "none.ramancam"
    assert main(["train", str(data_csv), "--label-col", "label", "--recipe", "none",
                 "--epochs", "1", "--folds", "2", "--threads", "1", "--out", str(bare)]) == 0
    capsys.readouterr()
    assert main(["baseline", str(data_csv), "--label-col", "label", "--recipe", str(bare),
                 "--model", "library"]) == 2
    assert "it has no recipe to reuse. Give --recipe none too." in capsys.readouterr().err


@pytest.mark.parametrize("extra, match", [
    (["--grid", "400:inf:1"], r"--grid must be finite numbers START:STOP:STEP"),
    (["--spatial-folds", "1"], r"--spatial-folds must be an integer >= 2; got 1"),
])
def test_grid_and_spatial_folds_errors_name_the_option(data_csv, capsys, extra, match):
    # "stop must be finite; got inf." and "spatial folds must be ..." (after reading)
    assert main(["baseline", str(data_csv), "--label-col", "label", "--model", "library",
                 *extra]) == 2
    assert re.search(match, capsys.readouterr().err)


def test_grid_with_a_recipe_file_without_resampling(data_csv, tmp_path, capsys):
    from ramancam.preprocess import Recipe

    f = tmp_path / "r.json"
    f.write_text(Recipe([("normalize", {"method": "max"})]).to_json())
    assert main(["baseline", str(data_csv), "--label-col", "label", "--model", "library",
                 "--recipe", str(f), "--grid", "400:500:1"]) == 2
    assert (f"--grid needs a recipe that resamples; --recipe {f} has no resample step. Drop "
            "--grid or add a resample step to the recipe.") in capsys.readouterr().err


def test_narrow_grid_note_only_for_the_default_grid(tmp_path, capsys):
    # with --grid the note called the chosen grid "the range every spectrum covers" and
    # blamed a spectrum that covers it
    rng = np.random.default_rng(0)
    for c, x0 in (("a", 1000.0), ("b", 1150.0)):
        (tmp_path / "data" / c).mkdir(parents=True)
        for i in range(6):
            w = np.arange(900.0, 1300.0, 2.0) if (c, i) == ("a", 0) \
                else np.arange(300.0, 1900.0, 2.0)
            y = 1.0 + _lorentz(w, x0, 8.0) + 0.01 * rng.random(w.size)
            np.savetxt(tmp_path / "data" / c / f"{c}{i}.txt", np.column_stack([w, y]))
    base = ["baseline", str(tmp_path / "data"), "--labels-from", "folder", "--model",
            "library", "--folds", "2"]
    assert main(base) == 0
    assert ("cut it short: without it, every spectrum covers 350-1800 cm-1"
            in capsys.readouterr().out)
    assert main([*base, "--grid", "950:1250:1"]) == 0
    assert "cut it short" not in capsys.readouterr().out


def test_group_folds_keep_a_patient_whose_name_has_a_trailing_space_together(tmp_path,
                                                                             capsys):
    """Every other row of a patient read "P0 " (a spreadsheet's trailing space): "P0" and
    "P0 " were two groups, so the patient trained and tested in one fold, and a library
    search matched each spectrum to its own patient's (accuracy 1.000 where the grouped
    estimate is about chance: the class has no band of its own here)."""
    rng = np.random.default_rng(5)
    x = np.arange(400.0, 520.0)
    rows, labels, patients = [], [], []
    for p in range(8):
        own = rng.uniform(405, 515)  # each patient's own band, no class band
        for i in range(6):
            rows.append(_lorentz(x, own, 5.0) + rng.uniform(-0.05, 0.05, x.size))
            labels.append(f"c{p % 2}")
            patients.append(f"P{p}" + (" " if i % 2 else ""))
    path = tmp_path / "patients.csv"
    io.write_table(Spectra(np.array(rows), x, labels=labels,
                           meta={"patient": np.array(patients)}), path)
    rc = main(["baseline", str(path), "--label-col", "label", "--recipe", "none",
               "--group-col", "patient", "--folds", "4", "--model", "library",
               "--out", str(tmp_path / "b.csv")])
    assert rc == 0
    text = capsys.readouterr().out
    mean = float(re.search(r"accuracy mean \+- sd: ([0-9.]+)", text).group(1))
    assert mean < 0.9, text


def test_imbalanced_classes_get_a_note_under_the_accuracy(tmp_path, capsys):
    """24:6 spectra of two close bands: PCA + SVM's accuracy 0.87 hides a small class
    recognised 2 times in 6; a note under the accuracy line says so (the line itself is
    unchanged), pointing at the predictions."""
    path = imbalanced_table(tmp_path / "imb.csv")
    args = ["baseline", str(path), "--label-col", "label", "--model", "pca-svm", "--recipe",
            "none", "--folds", "3"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("accuracy mean +- sd: "))
    note = lines[at + 1]
    assert note.startswith("note: imbalanced classes (largest major: 24 tested spectra; "
                           "smallest minor: 6), and accuracy weighs each class by its spectra: "
                           "PCA + SVM's balanced accuracy (mean recall per class) is ")
    assert note.endswith("More spectra of the small classes help most; --out DIR writes every "
                         "prediction (predictions.csv)")
    assert main([*args, "--out", str(tmp_path / "res")]) == 0
    text = capsys.readouterr().out
    rows = _read_csv(tmp_path / "res" / "predictions.csv")
    minor = [r for r in rows if r["true"] == "minor"]
    hits = sum(r["predicted"] == "minor" for r in minor)
    balanced = (hits / 6 + sum(r["predicted"] == "major" for r in rows
                               if r["true"] == "major") / 24) / 2
    assert hits < 6 and (f"is {balanced:.3f}; its worst class, minor, recognised {hits} of 6. "
                         "More spectra of the small classes help most; "
                         f"{tmp_path / 'res' / 'predictions.csv'} lists every prediction") in text


def test_the_imbalance_note_leaves_out_a_class_the_fold_never_trained_on(tmp_path, capsys):
    """Group folds that hold a class in one group test it on a model that never trained on
    it: no recall to speak of ("recognised 0 of 4" was its worst class); the note leaves
    those spectra out, and says so, as train's does."""
    s = read_table(imbalanced_table(tmp_path / "imb.csv"), label_col="label")
    grid = s.wavenumbers
    lone = 0.1 + np.exp(-0.5 * ((grid - 550.0) / 6.0) ** 2)
    X = np.vstack([s.X, lone + 0.05 * np.random.default_rng(1).standard_normal((4, grid.size))])
    labels = [*s.labels.tolist(), *["lone"] * 4]
    batch = np.array([f"g{i % 3}" for i in range(30)] + ["g0"] * 4)
    path = tmp_path / "groups.csv"
    io.write_table(Spectra(X, grid, labels=labels, meta={"batch": batch}), path)
    assert main(["baseline", str(path), "--label-col", "label", "--group-col", "batch",
                 "--model", "pca-svm", "--recipe", "none", "--folds", "3"]) == 0
    note = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.startswith("note: imbalanced"))
    assert note.startswith("note: imbalanced classes (largest major: 24 tested spectra; "
                           "smallest minor: 6; left out: the 4 spectra of lone, tested by a "
                           "model that never trained on their class), and accuracy weighs")
    assert "worst class, minor," in note


def test_spectra_the_paper_line_lies_above_are_named(tmp_path, capsys):
    # on a convex background (high at both ends) the end-point line lies above most of a
    # spectrum; normalised to a small peak above it, the inputs reached -73 without a word
    # (drug-mabs: 37 of 999 spectra below -1, to -4.03)
    rng = np.random.default_rng(0)
    w = np.arange(300.0, 1900.0, 2.0)
    bowl = 6.0 * ((w - 1100.0) / 800.0) ** 2
    rows, labels = [], []
    for c, x0 in (("a", 700.0), ("b", 1500.0)):
        for i in range(6):
            y = 0.05 * bowl + 0.5 + _lorentz(w, x0, 8.0) + 0.01 * rng.random(w.size)
            if (c, i) == ("a", 0):
                y = bowl + 6.3 * _lorentz(w, 1100.0, 8.0)  # the line far above most of it
            rows.append(y)
            labels.append(c)
    io.write_table(Spectra(np.array(rows), w, labels=np.array(labels)), tmp_path / "b.csv")
    base = ["baseline", str(tmp_path / "b.csv"), "--label-col", "label", "--model", "library",
            "--folds", "2"]
    assert main([*base, "--recipe", "paper"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"note: (\d+) spectr\w+ fall below -1 after the recipe's straight baseline "
                  r"and normalisation to the maximum \(down to (-[\d.]+) in 0;", out)
    assert m is not None and float(m.group(2)) < -1, out
    assert "--recipe asls fits a baseline under the spectrum" in out
    assert main([*base, "--recipe", "asls"]) == 0  # no straight line: no note
    assert "fall below -1" not in capsys.readouterr().out

