"""Preprocessing decided on the training part only (``cli/_fold_recipes.py``): a test
spectrum must not choose the recipe or narrow the grid of the fold that tests it."""

from __future__ import annotations

import csv
import html
import json
import re

import numpy as np
import pytest

from ramancam.cli import main
from ramancam.io import write_table
from ramancam.spectra import Spectra

AXIS = np.arange(300.0, 1901.0, 2.0)
BANDS = {"a": 600.0, "b": 1000.0, "c": 1400.0}


def _spectrum(rng: np.random.Generator, band: float) -> np.ndarray:
    """A class band and a random one on a sloping background (the paper's line fits)."""
    x = AXIS
    y = 1.0 / (1.0 + ((x - band) / 6.0) ** 2)
    y = y + 0.5 / (1.0 + ((x - rng.uniform(400, 1800)) / 6.0) ** 2)
    return y + 0.2 + 0.3 * (x - 300) / 1600 + rng.normal(0, 0.01, x.size)


def _cupped(band: float) -> np.ndarray:
    """A spectrum below the straight line through its end points everywhere (a curved
    background taken off by its source, ends high): the paper's baseline cannot use it."""
    x = AXIS
    return 5.0 * ((x - 1100) / 800) ** 2 + 0.5 / (1.0 + ((x - band) / 6.0) ** 2)


def _set(n_per_class: int = 10, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    X, labels = [], []
    for name, band in BANDS.items():
        for _ in range(n_per_class):
            X.append(_spectrum(rng, band))
            labels.append(name)
    return np.array(X), labels


def _files_one_short(folder, X, labels, *, short, end):
    """``folder`` of two-column files ``<label>_<i>.txt``, spectrum ``short`` ending at
    ``end`` cm-1 and the others over the whole axis."""
    folder.mkdir()
    for i, (y, lab) in enumerate(zip(X, labels, strict=True)):
        keep = AXIS <= end if i == short else np.ones(AXIS.size, dtype=bool)
        np.savetxt(folder / f"{lab}_{i:02d}.txt", np.column_stack([AXIS[keep], y[keep]]))
    return folder


def test_a_test_spectrum_does_not_choose_its_folds_recipe(tmp_path, capsys):
    """One spectrum the paper's baseline cannot use moved every fold to asls, also the
    folds whose training part never held it; now the fold that tests it decides on its
    training part alone (paper), and the spectrum counts as an error there."""
    X, labels = _set()
    X[4] = _cupped(BANDS["a"])
    ids = [f"s{i:02d}" for i in range(len(labels))]
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels, meta={"id": np.array(ids)}), path)
    out = tmp_path / "b"
    assert main(["baseline", str(path), "--label-col", "label", "--model", "library",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "recipe: auto -> asls" in text.splitlines()[0]  # all spectra: asls
    m = re.search(r"note: fold (\d)'s training part alone chooses recipe auto -> paper on "
                  r"[0-9.]+-[0-9.]+ cm-1 \(all spectra: auto -> asls on [0-9.]+-[0-9.]+\)",
                  text)
    assert m, text
    assert ("1 spectrum of its test part that choice cannot use (s04) counts as an error of "
            "every model, without a prediction (predict would refuse it)") in text
    assert len(re.findall(r"training part alone chooses", text)) == 1  # one fold only
    k = int(m.group(1))
    fold = re.search(rf"fold {k}/5: accuracy ([0-9.]+) \(\d+ train / (\d+) test", text)
    assert fold and int(fold.group(2)) == 6  # the spectrum is still in its test count
    assert float(fold.group(1)) <= 5 / 6 + 1e-9  # and counts as an error
    # every spectrum has its row; s04's has no predicted class
    with open(out / "predictions.csv", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert len(rows) == len(ids) and rows["s04"]["predicted"] == ""
    assert rows["s04"]["fold"] == str(k)
    summary = json.loads((out / "baseline.json").read_text())
    assert summary["fold_notes"] and summary["fold_notes"][0].startswith(f"fold {k}'s")
    # train keeps the note in the model (info) and says it in the report
    model, page = tmp_path / "m.ramancam", tmp_path / "r.html"
    assert main(["train", str(path), "--label-col", "label", "--epochs", "1", "--augment",
                 "off", "--novelty", "none", "--out", str(model), "--report", str(page)]) == 0
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    assert f"  decided:   fold {k}'s training part alone chooses" in capsys.readouterr().out
    html = page.read_text()
    assert "fold decisions" in html and "1 more counted as errors without a prediction" in html


def test_the_reliability_figure_leaves_out_the_folds_the_calibration_leaves_out(
        tmp_path, capsys, reliability_drawn):
    """A fold whose training part chose its own recipe is left out of the calibration
    (its logits describe another preprocessing): the report's reliability figure drew its
    spectra all the same (98 rows where the printed error rested on 49)."""
    drawn = reliability_drawn
    X, labels = _set()
    X[4] = _cupped(BANDS["a"])
    path, page = tmp_path / "spectra.csv", tmp_path / "r.html"
    write_table(Spectra(X, AXIS, labels=labels), path)
    assert main(["train", str(path), "--label-col", "label", "--epochs", "1", "--augment",
                 "off", "--novelty", "none", "--no-compare", "--out",
                 str(tmp_path / "m.ramancam"), "--report", str(page)]) == 0
    text = capsys.readouterr().out
    m = re.search(r"fold (\d) left out, whose training part chose another preprocessing", text)
    assert m, text
    # 30 spectra in 5 folds of 6: fold k's 5 predicted ones (and s04, unpredicted) left out
    (logits,) = drawn
    assert logits.shape[0] == 24
    assert (f"Left out, as the calibration leaves them out: the 5 spectra of fold {m[1]}, "
            "whose training part chose another preprocessing than the model's.") in (
                " ".join(html.unescape(page.read_text()).split()))


def test_a_fixed_splits_model_takes_its_training_parts_recipe(tmp_path, capsys):
    """A spike in one test spectrum made the whole drug-mabs run, saved model included,
    asls (library search 0.84 -> 0.72 on the other test spectra); the training part
    decides now, and the spectrum it cannot use is left out and named."""
    X, labels = _set(12)
    split = np.array(["train" if i % 4 else "test" for i in range(len(labels))])
    X[0] = _cupped(BANDS["a"])  # a test spectrum (i % 4 == 0)
    ids = [f"s{i:02d}" for i in range(len(labels))]
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels,
                        meta={"id": np.array(ids), "split": split}), path)
    model = tmp_path / "m.ramancam"
    assert main(["train", str(path), "--label-col", "label", "--split-col", "split",
                 "--epochs", "2", "--augment", "off", "--no-compare", "--novelty", "none",
                 "--out", str(model)]) == 0
    text = capsys.readouterr().out
    assert "recipe: auto -> paper" in text.splitlines()[0]
    assert ("note: the training part alone chooses recipe auto -> paper on 350-1800 cm-1 "
            "(all spectra: auto -> asls on 350-1800)") in text
    assert "1 test spectrum it cannot use (s00: " in text and "is left out" in text
    assert main(["info", str(model)]) == 0
    info = capsys.readouterr().out
    recipe_line = next(line for line in info.splitlines() if line.startswith("  recipe:"))
    assert "linear_baseline -> resample" in recipe_line and "asls" not in recipe_line
    assert "1 test spectrum the training part's recipe cannot use (s00)" in info
    assert "  decided:   the training part alone chooses recipe auto -> paper" in info


def test_a_short_test_spectrum_does_not_narrow_its_folds_grid(tmp_path, capsys):
    """The default grid is the range every spectrum covers: one short test spectrum cut
    every fold's grid to its end; the fold that tests it keeps its training part's range,
    and the short spectrum, which that grid does not fit, counts as an error."""
    X, labels = _set()
    folder = _files_one_short(tmp_path / "spectra", X, labels, short=7, end=1200)
    assert main(["baseline", str(folder), "--labels-from", r"regex:^([a-z])_",
                 "--model", "library"]) == 0
    text = capsys.readouterr().out
    assert "350-1200" in text.splitlines()[0]
    m = re.search(r"note: fold (\d)'s training part alone chooses recipe auto -> paper on "
                  r"350-1800 cm-1 \(all spectra: auto -> paper on 350-1200\)", text)
    assert m, text
    assert "1 spectrum of its test part that choice cannot use (a_07" in text


@pytest.mark.parametrize("options", [["--recipe", "paper", "--grid", "400:1800:2"],
                                     ["--recipe", "none"]])
def test_a_recipe_and_grid_given_decide_nothing_per_fold(tmp_path, capsys, options):
    X, labels = _set()
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels), path)
    assert main(["baseline", str(path), "--label-col", "label", "--model", "library",
                 *options]) == 0
    assert "training part alone" not in capsys.readouterr().out


def test_a_fold_whose_test_part_its_recipe_cannot_use_scores_zero(tmp_path, capsys):
    """One batch baseline-corrected by its source, held out whole by group folds: its
    fold's training part chooses the paper's recipe, which none of its test spectra can
    use; the run stopped with scikit-learn's "Found array with 0 sample(s)"."""
    X, labels = _set(8)
    batch = np.array([f"B{i % 4}" for i in range(len(labels))])
    for i in np.flatnonzero(batch == "B3"):
        X[i] = _cupped(BANDS[labels[i]])
    path = tmp_path / "batches.csv"
    write_table(Spectra(X, AXIS, labels=labels, meta={"batch": batch}), path)
    assert main(["baseline", str(path), "--label-col", "label", "--group-col", "batch",
                 "--folds", "4", "--model", "library"]) == 0
    text = capsys.readouterr().out
    m = re.search(r"note: fold (\d)'s training part alone chooses recipe auto -> paper", text)
    assert m, text
    assert re.search(rf"fold {m.group(1)}/4: accuracy 0\.0000 \(\d+ train / 6 test", text)
    assert main(["train", str(path), "--label-col", "label", "--group-col", "batch",
                 "--folds", "4", "--epochs", "1", "--augment", "off", "--novelty", "none",
                 "--out", str(tmp_path / "m.ramancam")]) == 0
    assert re.search(rf"\n{m.group(1)}\s+\d+\s+6\s+0\.0000", capsys.readouterr().out)


def test_a_fixed_split_whose_test_part_the_training_choice_cannot_use_says_so(tmp_path):
    from ramancam.errors import RamancamError

    X, labels = _set(6)
    split = np.array(["train" if i % 3 else "test" for i in range(len(labels))])
    for i in np.flatnonzero(split == "test"):
        X[i] = _cupped(BANDS[labels[i]])
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels, meta={"split": split}), path)
    from ramancam.cli import _common
    from ramancam.cli._fold_recipes import split_choice

    args = _baseline_args(["baseline", str(path), "--label-col", "label", "--split-col",
                           "split", "--model", "library"])
    raw, recipe, data = _common.read_labelled_on_grid(args, "for a baseline")
    with pytest.raises(RamancamError, match=r"must be able to use some test spectrum; got "
                       r"none of 6 .*give --recipe \(e\.g\. asls\) and --grid"):
        split_choice(args, raw, recipe, data)


def _baseline_args(argv):
    import argparse

    from ramancam.cli import baseline

    p = argparse.ArgumentParser()
    baseline.add_arguments(p)
    return p.parse_args(argv[1:])


def test_a_fold_with_inputs_of_its_own_trains_and_tests_on_them():
    """cross_validate uses a fold's own matrix for that fold only (here noise: that fold's
    library search falls to chance, the other folds keep theirs)."""
    from types import SimpleNamespace

    from ramancam.train import cross_validate

    X, labels = _set(10)
    s = Spectra(X, AXIS, labels=labels)
    noise = np.random.default_rng(1).random(X.shape)
    own = {1: SimpleNamespace(X=noise, usable=np.ones(len(labels), dtype=bool))}
    plain = cross_validate(s, estimator_params={"epochs": 1, "n_filters": 2, "fc_width": 4,
                                                "novelty": None}, folds=3, seed=0)
    mixed = cross_validate(s, estimator_params={"epochs": 1, "n_filters": 2, "fc_width": 4,
                                                "novelty": None}, folds=3, seed=0,
                           fold_inputs=own)
    lib_plain, lib_mixed = plain.baselines["library"], mixed.baselines["library"]
    assert lib_plain[1] == 1.0 and lib_mixed[1] < 0.7
    assert lib_mixed[0] == lib_plain[0] and lib_mixed[2] == lib_plain[2]


def test_folds_that_decide_as_all_spectra_did_cost_no_preprocessing(tmp_path, monkeypatch):
    """Every spectrum baseline-corrected (as yogurt's): every fold's training part chooses
    asls as all spectra did, read from one pass, without preprocessing each training part
    again (which cost (K - 1) passes of the whole set on every run)."""
    X, labels = _set(6)
    X = np.array([_cupped(BANDS[lab]) + 0.01 * i for i, lab in enumerate(labels)])
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels), path)
    args = _folds_decide_without_preprocessing(monkeypatch, [str(path)])
    assert args.recipe_used.startswith("auto -> asls")


def _folds_decide_without_preprocessing(monkeypatch, options):
    """Read DATA ``options`` as ``baseline`` does, then check that no fold of 5 gets inputs
    of its own and that none preprocesses its training part again; the parsed options."""
    from ramancam.cli import _common, _fold_recipes
    from ramancam.train import make_splits

    args = _baseline_args(["baseline", *options, "--label-col", "label", "--model",
                           "library"])
    raw, recipe, data = _common.read_labelled_on_grid(args, "for a baseline")

    def refuse(*a, **k):
        raise AssertionError("a training part was preprocessed again")

    monkeypatch.setattr(_fold_recipes, "training_choice", refuse)
    splits = make_splits(data, folds=5, seed=0)
    assert _fold_recipes.fold_inputs(args, raw, recipe, splits, data.wavenumbers) == ({}, [])
    return args


def test_drop_clipped_that_empties_a_folds_training_part_says_so(tmp_path, capsys):
    """Every spectrum saturated at 1600 cm-1 but one short one (ending at 1400): all
    spectra share 350-1400, where nothing is clipped; the fold that tests the short one
    chooses 350-1800, where --drop-clipped leaves out its whole training part (the run
    stopped with scikit-learn's 'Found array with 0 sample(s)')."""
    X, labels = _set(4)
    X[:, (AXIS >= 1590) & (AXIS <= 1630)] = 50.0  # a detector's flat top in every spectrum
    folder = _files_one_short(tmp_path / "spectra", X, labels, short=0, end=1400)
    assert main(["baseline", str(folder), "--labels-from", r"regex:^([a-z])_",
                 "--model", "library", "--folds", "3", "--drop-clipped"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"fold \d's training part must keep some spectra on the grid it "
                     r"chooses \(350-1800 cm-1\); got none: --drop-clipped", err), err


def test_the_fast_path_also_serves_a_normalisation_given_with_auto(tmp_path, monkeypatch):
    """'auto -> paper, normalize snv' read as the choice 'paper,': every fold was
    preprocessed again (right, but the saving lost)."""
    X, labels = _set(6)
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels), path)
    args = _folds_decide_without_preprocessing(monkeypatch, [str(path), "--normalize", "snv"])
    assert args.recipe_used == "auto -> paper, normalize snv"


def test_a_split_names_a_clipped_training_spectrum_as_clipped(tmp_path, capsys):
    """--drop-clipped on the split's own grid left out a training spectrum clipped beyond
    the common grid, recorded as a 'test spectrum the recipe cannot use'."""
    X, labels = _set(6)
    split = np.array(["train" if i % 3 else "test" for i in range(len(labels))])
    X[1, (AXIS >= 1740) & (AXIS <= 1760)] = 40.0  # a training spectrum, saturated there
    path = tmp_path / "spectra.csv"  # s00, a test spectrum, ends at 1700 cm-1 (empty cells)
    lines = ["id,label,split," + ",".join(f"{w:g}" for w in AXIS)]
    for i, y in enumerate(X):
        cells = [f"{v:.6g}" if (i or w <= 1700) else "" for v, w in zip(y, AXIS, strict=True)]
        lines.append(f"s{i:02d},{labels[i]},{split[i]}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "b"
    assert main(["baseline", str(path), "--label-col", "label", "--split-col", "split",
                 "--model", "library", "--drop-clipped", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 training spectrum clipped on that grid (s01) is left out" in text, text
    assert "1 test spectrum it cannot use (s00" in text, text
    left = json.loads((out / "baseline.json").read_text())["settings"]["left_out"]
    assert left["unusable"] == ["s00"] and "s01" in left["clipped"]


# ------------------------------------------------ ramancam.validate.cross_validate_spectra
#: train's tiny network, on the command line and in Python
TINY_CLI = ["--epochs", "1", "--filters", "4", "--filter-size", "5", "--fc-width", "8",
            "--augment", "off", "--novelty", "none"]
TINY = {"epochs": 1, "n_filters": 4, "filter_size": 5, "fc_width": 8, "augment_select": False,
        "augment_noise": 0, "augment_shift": 0, "augment_baseline": 0, "augment_scale": 0,
        "novelty": None}


def _train_and_load(argv, capsys):
    """``ramancam train`` ``argv`` (ending ``--out MODEL``): its printed output and model."""
    from ramancam.bundle import load

    capsys.readouterr()
    assert main(["train", *argv]) == 0
    return capsys.readouterr().out, load(argv[-1])


@pytest.mark.usefixtures("one_torch_thread")
def test_cross_validate_spectra_is_trains_cross_validation(tmp_path, capsys):
    """In Python, spectra as read cross-validate as train does: the fold whose training
    part decides otherwise (paper, where all spectra chose asls) trains and tests on its own
    choice; the folds, accuracies, baselines, notes and printed lines are train's."""
    from ramancam.io import read
    from ramancam.validate import cross_validate_spectra

    X, labels = _set()
    X[4] = _cupped(BANDS["a"])
    ids = [f"s{i:02d}" for i in range(len(labels))]
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels, meta={"id": np.array(ids)}), path)
    text, model = _train_and_load([str(path), "--label-col", "label", *TINY_CLI, "--seed",
                                   "3", "--out", str(tmp_path / "m.ramancam")], capsys)
    res = cross_validate_spectra(read(path, label_col="label"), seed=3,
                                 estimator_params=TINY,
                                 progress=lambda k, n, acc: print(f"fold {k}/{n}"))
    # nothing printed but the caller's own progress lines
    assert capsys.readouterr().out == "".join(f"fold {k}/5\n" for k in range(1, 6))
    assert text.startswith(res.summary() + "\n")  # the first line, notes, table and winner
    assert res.cv.fold_accuracy == model.info["cv"]["fold_accuracy"]
    assert res.cv.baselines == model.info["cv"]["baselines"] and len(res.cv.baselines) == 3
    assert res.decisions == model.info["settings"]["fold_notes"] and len(res.decisions) == 1
    assert res.recipe_used == model.info["settings"]["recipe_used"]
    assert res.recipe_used.startswith("auto -> asls") and res.kind == "5-fold CV"
    assert res.recipe.to_json() == model.recipe.to_json()
    assert f"note: {res.decisions[0]}" in res.notes and res.header not in res.notes
    (k, own), = res.fold_decisions.items()
    assert res.decisions[0].startswith(f"fold {k + 1}'s training part alone chooses recipe "
                                       "auto -> paper")
    assert own.recipe_used == "auto -> paper" and not own.usable[4] and own.usable.sum() == 29
    assert res.cv.fold_of[4] == -1 and res.cv.oof_pred[4] == ""  # an error, no prediction
    assert np.array_equal(res.data.wavenumbers, model.grid) and res.left_out == {}


@pytest.mark.usefixtures("one_torch_thread")
def test_cross_validate_spectra_with_a_fixed_split_takes_its_training_parts_choice(
        tmp_path, capsys):
    """A fixed split decides on its training part (paper); the test spectrum that recipe
    cannot use is left out, named, as train leaves it out of the model's test."""
    from ramancam.io import read
    from ramancam.validate import cross_validate_spectra

    X, labels = _set(12)
    split = np.array(["train" if i % 4 else "test" for i in range(len(labels))])
    X[0] = _cupped(BANDS["a"])  # a test spectrum
    ids = [f"s{i:02d}" for i in range(len(labels))]
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels,
                        meta={"id": np.array(ids), "split": split}), path)
    text, model = _train_and_load([str(path), "--label-col", "label", "--split-col", "split",
                                   *TINY_CLI, "--no-compare",
                                   "--out", str(tmp_path / "m.ramancam")], capsys)
    res = cross_validate_spectra(read(path, label_col="label"), split_col="split",
                                 compare=False, estimator_params=TINY, keep_models=True)
    assert text.startswith(res.summary() + "\n")
    assert res.kind == "fixed split" and res.recipe_used == "auto -> paper"
    assert res.recipe.to_json() == model.recipe.to_json()
    assert res.cv.fold_accuracy == model.info["cv"]["fold_accuracy"] and not res.cv.baselines
    assert res.decisions == model.info["settings"]["fold_notes"]
    assert res.decisions[0].startswith("the training part alone chooses recipe auto -> paper")
    assert res.left_out == model.info["training_data"]["left_out"] == {"unusable": ["s00"]}
    assert "s00" not in res.labelled.ids and len(res.data) == len(ids) - 1
    assert res.fold_decisions == {} and len(res.cv.models) == 1
    # the model train saves is the split's fold network: the same weights
    saved, mine = model.model.state_dict(), res.cv.models[0].module_.state_dict()
    assert saved.keys() == mine.keys() and all(saved[k].equal(mine[k]) for k in saved)


@pytest.mark.parametrize(("options", "message"), [
    ({"folds": 1}, r"--folds must be an integer >= 2; got 1"),
    ({"grid": (400, 1800)}, r"grid must be \(start, stop, step\)"),
    ({"grid": "1800:400:1"}, r"--grid must have STOP > START"),
    ({"normalize": "peak"}, r"normalize must be one of"),
    ({"preset": "fast"}, r"preset must be one of"),
    ({"estimator_params": {"n_filter": 4}}, r"got 'n_filter'"),
    ({"estimator_params": {"epochs": 0}}, r"epochs"),
    ({"seed": -1}, r"seed must be an integer from 0"),
    # silently ignored (a k-fold run went ahead), a message of no file, a TypeError after
    # the first fold's training
    ({"train_value": "test"}, r"train_value must come with split_col"),
    ({"recipe": None}, r"recipe must be auto, paper, paper-grid, asls, arpls, none"),
    ({"progress": 5}, r"progress must be a function"),
    ({"folds": np.float64(2.0)}, r"folds must be an integer >= 2"),
])
def test_cross_validate_spectra_refuses_in_one_line(options, message):
    from ramancam.errors import RamancamError
    from ramancam.validate import cross_validate_spectra

    X, labels = _set(4)
    with pytest.raises(RamancamError, match=message) as info:
        cross_validate_spectra(Spectra(X, AXIS, labels=labels), **options)
    assert "\n" not in str(info.value)


def test_cross_validate_spectra_takes_numpy_integers():
    # folds=np.int64(2) was refused: "folds must be an integer >= 2; got np.int64(2)"
    from ramancam.validate import cross_validate_spectra

    X, labels = _set(4)
    res = cross_validate_spectra(Spectra(X, AXIS, labels=labels), folds=np.int64(2),
                                 seed=np.int64(1), compare=False,
                                 estimator_params={"epochs": 1, "n_filters": 2, "fc_width": 4,
                                                   "augment_select": False})
    assert len(res.cv.fold_accuracy) == 2
    # reprs that summarise (the dataclasses' printed every per-spectrum array)
    assert re.fullmatch(r"CVResult\(2 folds \(kfold\), 12 of 12 spectra tested, 3 classes; "
                        r"CNN \d\.\d{3} \+- \d\.\d{3}\)", repr(res.cv)), repr(res.cv)
    assert repr(res).startswith("SpectraCV(2-fold CV, recipe auto -> ") and len(repr(res)) < 300


def test_cross_validate_spectra_needs_labels():
    from ramancam.errors import RamancamError
    from ramancam.validate import cross_validate_spectra

    X, _ = _set(4)
    with pytest.raises(RamancamError, match=r"raw must carry class labels; got unlabelled"):
        cross_validate_spectra(Spectra(X, AXIS))


@pytest.mark.usefixtures("one_torch_thread")
def test_cross_validate_spectra_takes_train_s_spatial_folds(tmp_path, capsys):
    """A map's blocks as folds in Python, as ``train --spatial-folds`` makes them (the
    function had no way to ask for them: a notebook user of a map got random folds, which
    let neighbours of the test pixels train)."""
    from ramancam.io import read
    from ramancam.maps.folds import spatial_splits
    from ramancam.validate import cross_validate_spectra

    X, labels = _set(12)  # 36 pixels: a 6 x 6 map, a class per two columns
    order = np.argsort(labels, kind="stable")
    xy = np.array([(i // 6, i % 6) for i in range(36)], dtype=float)
    ids = [f"px{i:02d}" for i in range(36)]
    path = tmp_path / "map.csv"
    write_table(Spectra(X[order], AXIS, labels=list(np.array(labels)[order]),
                        meta={"id": np.array(ids), "x": xy[:, 0], "y": xy[:, 1]}), path)
    text, model = _train_and_load([str(path), "--label-col", "label", "--spatial-folds", "2",
                                   "--spatial-block", "2", *TINY_CLI, "--no-compare",
                                   "--out", str(tmp_path / "m.ramancam")], capsys)
    raw = read(path, label_col="label")
    res = cross_validate_spectra(raw, spatial_folds=2, spatial_block=2, compare=False,
                                 estimator_params=TINY)
    assert text.startswith(res.summary() + "\n") and "2-fold spatial CV" in res.kind
    assert res.cv.fold_accuracy == model.info["cv"]["fold_accuracy"]
    tests = [set(te) for _, te in spatial_splits(res.data, n_splits=2, block_size=2,
                                                 buffer=1, random_state=0)]
    assert [set(np.flatnonzero(res.cv.fold_of == k)) for k in range(2)] == tests
    from ramancam.errors import RamancamError

    with pytest.raises(RamancamError, match=r"spatial_folds makes folds of map blocks; got "
                                            r"group_col too"):
        cross_validate_spectra(raw, spatial_folds=2, group_col="label")
    with pytest.raises(RamancamError, match=r"--spatial-buffer must come with --spatial-f"):
        cross_validate_spectra(raw, spatial_buffer=2)


@pytest.mark.usefixtures("one_torch_thread")
def test_a_fold_on_another_recipe_does_not_calibrate_the_model(tmp_path, capsys,
                                                                monkeypatch):
    """The fold whose training part chose the paper's recipe (all spectra: asls) gave its
    out-of-fold logits to the temperature and the prediction sets of a model on asls: an
    audit's constructed set held the true class in 84.6 % of its "95 %" sets."""
    import ramancam.novelty as nov
    from ramancam.bundle import load

    X, labels = _set()
    X[4] = _cupped(BANDS["a"])
    ids = [f"s{i:02d}" for i in range(len(labels))]
    path = tmp_path / "spectra.csv"
    write_table(Spectra(X, AXIS, labels=labels, meta={"id": np.array(ids)}), path)
    seen = []
    real = nov.calibrate

    def spy(logits, *args, **kwargs):
        seen.append((np.array(logits, copy=True), kwargs.get("source", "")))
        return real(logits, *args, **kwargs)

    monkeypatch.setattr(nov, "calibrate", spy)
    model = tmp_path / "m.ramancam"
    assert main(["train", str(path), "--label-col", "label", *TINY_CLI, "--out",
                 str(model)]) == 0
    text = capsys.readouterr().out
    m = re.search(r"note: fold (\d)'s training part alone chooses recipe auto -> paper", text)
    assert m, text
    k = int(m.group(1)) - 1
    fold_of = np.asarray(load(model).info["cv"]["fold_of"])
    (z, source), = seen
    rows = np.isfinite(z).all(axis=1)
    assert not rows[fold_of == k].any() and rows[fold_of >= 0][fold_of[fold_of >= 0] != k].all()
    assert f"fold {k + 1} left out, whose training part chose another preprocessing" in source
    assert f"fold {k + 1} left out" in text  # the printed calibration line says so


@pytest.mark.usefixtures("one_torch_thread")
def test_cross_validate_spectra_takes_train_s_laser_and_axis_offset(tmp_path, capsys):
    """train's --laser-nm (a wavelength axis converted to Raman shift) and --axis-offset (a
    calibration correction) in Python, on the same folds as train's --groups-from, whose
    groups come from read(groups_from=...) (the function never sees file names): the
    function took neither, so a notebook user had to find the conversions elsewhere."""
    from ramancam.io import read
    from ramancam.validate import cross_validate_spectra

    X, labels = _set(4)
    nm = 1e7 / (1e7 / 785.0 - AXIS)  # the axis as a 785 nm instrument exports it
    folder = tmp_path / "spectra"
    folder.mkdir()
    for i, (y, lab) in enumerate(zip(X, labels, strict=True)):
        np.savetxt(folder / f"{lab}_g{i % 4}_{i:02d}.txt", np.column_stack([nm, y]))
    text, model = _train_and_load(
        [str(folder), "--labels-from", r"regex:^([abc])_", "--groups-from", r"regex:_(g\d)_",
         "--laser-nm", "785", "--axis-offset", "1.5", "--folds", "3", *TINY_CLI,
         "--no-compare", "--seed", "2", "--out", str(tmp_path / "m.ramancam")], capsys)
    raw = read(folder, labels_from=r"regex:^([abc])_", groups_from=r"regex:_(g\d)_")
    res = cross_validate_spectra(raw, group_col="group", laser_nm=785, axis_offset=1.5,
                                 folds=3, seed=2, compare=False, estimator_params=TINY)
    assert text.startswith(res.summary() + "\n") and res.kind == "3-fold group CV"
    assert res.cv.fold_accuracy == model.info["cv"]["fold_accuracy"]
    assert res.cv.fold_of.tolist() == model.info["cv"]["fold_of"]
    assert np.array_equal(res.data.wavenumbers, model.grid)
    shifts = res.labelled.axes[0]  # converted, then moved by the offset
    assert np.allclose(shifts, AXIS + 1.5) and (res.labelled.meta["axis_offset_cm1"] == 1.5).all()
    assert (res.labelled.meta["laser_wavelength_nm"] == 785).all()
    from ramancam.errors import RamancamError

    for options, message in (({"laser_nm": "785"}, r"laser_nm must be a number of nm"),
                             ({"axis_offset": "2"}, r"axis_offset must be a number of cm-1"),
                             ({"axis_offset": 80}, r"--axis-offset must be a number of cm-1 "
                                                   r"between -50 and 50; got 80")):
        with pytest.raises(RamancamError, match=message):
            cross_validate_spectra(raw, **options)
    # a wavelength axis the spectra say is one is refused without laser_nm, as train does
    said = raw.replace(meta={**raw.meta, "x_units": np.full(len(raw), "nm")})
    with pytest.raises(RamancamError, match=r"has its x axis in wavelengths \(nm\)"):
        cross_validate_spectra(said, group_col="group")


@pytest.mark.usefixtures("one_torch_thread")
def test_cross_validate_spectra_runs_in_two_threads_at_once(capsys):
    """Two threads running it at once got other numbers than alone (each fit seeds torch's
    global generator, which dropout draws from), swapped their lines and left sys.stdout a
    StringIO for good; another thread's prints went into its lines. Now the runs take
    turns and only the calling thread's output is captured."""
    import sys
    import threading
    import time

    from ramancam.validate import cross_validate_spectra

    X, labels = _set(4)
    raw = Spectra(X, AXIS, labels=labels)

    def run(seed):
        res = cross_validate_spectra(raw, seed=seed, folds=2, compare=False,
                                     estimator_params={**TINY, "epochs": 3})
        return res.cv.oof_logits, res.lines

    alone = {seed: run(seed) for seed in (1, 2)}
    stdout, together, failed = sys.stdout, {}, []
    start = threading.Barrier(3)

    def worker(seed):
        start.wait()
        try:
            together[seed] = run(seed)
        except Exception as exc:  # said below: a thread's error is no test failure
            failed.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    start.wait()
    while any(t.is_alive() for t in threads):  # this thread prints meanwhile
        print("tick")
        time.sleep(0.01)
    for t in threads:
        t.join()
    assert not failed and sys.stdout is stdout
    for seed in (1, 2):
        assert np.array_equal(together[seed][0], alone[seed][0], equal_nan=True)
        assert together[seed][1] == alone[seed][1]
    printed = capsys.readouterr().out.split()
    assert printed and set(printed) == {"tick"}


def test_the_print_router_leaves_a_closed_stream_alone(tmp_path):
    """The object that stands in for sys.stdout during a run forwarded flush() to the stream
    it borrowed; io's finaliser calls close() and so flush(), and once that stream had been
    closed (a file under redirect_stdout, pytest's capture) Python 3.13 printed 'Exception
    ignored in: <ramancam.validate._CallersLines ...> ValueError: I/O operation on closed
    file'. Now flush() and close() leave a closed stream alone, and close() closes neither."""
    import io

    from ramancam.validate import _CallersLines

    # files, not StringIO: a closed StringIO's flush() raises nothing
    kept = open(tmp_path / "kept.txt", "w", encoding="utf-8")
    through = open(tmp_path / "through.txt", "w", encoding="utf-8")
    routed = _CallersLines(kept, through)
    routed.write("x")
    routed.flush()
    kept.close()
    through.close()
    routed.flush()  # the calling thread's stream, closed
    routed.owner = None
    routed.flush()  # every other thread's, closed
    routed.close()
    routed.close()
    # close() closes neither borrowed stream
    kept2, through2 = io.StringIO(), io.StringIO()
    _CallersLines(kept2, through2).close()
    assert not kept2.closed and not through2.closed


def test_the_print_router_is_collected_after_its_stream_closes_without_a_word(tmp_path):
    """Under ``-X dev`` (any Python; 3.13 does it without) io's finaliser reports what
    close() raised: the router of a run inside redirect_stdout to a file closed before it
    was collected said 'Exception ignored in ... I/O operation on closed file'."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "router.py"
    script.write_text(
        "import contextlib, gc, io\n"
        "from ramancam import validate\n"
        f"f = open({str(tmp_path / 'out.txt')!r}, 'w')\n"
        "with contextlib.redirect_stdout(f):\n"
        "    with validate._kept_lines(io.StringIO()) as routed:\n"
        "        print('x')\n"
        "f.close()\n"
        "del routed\n"
        "gc.collect()\n", encoding="utf-8")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [src, *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-X", "dev", str(script)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr and "closed file" not in done.stderr, (
        done.stderr)
