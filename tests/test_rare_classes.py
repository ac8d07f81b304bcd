"""Libraries with rare classes: classes with fewer spectra than folds, and classes with a
single spectrum (common in mineral and polymer libraries), train and cross-validate instead
of being refused; a single-spectrum class trains in every fold and is never tested."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from ramancam.cli import main
from ramancam.cli._notes import unseen_classes_note
from ramancam.errors import RamancamError
from ramancam.inner import group_kfold, holdout, inner_k, rare_classes_note, stratified_kfold
from ramancam.io import write_table
from ramancam.novelty import calibrate, cross_fit
from ramancam.spectra import Spectra
from ramancam.train import CNNClassifier, make_splits

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"n_filters": 4, "filter_size": 3, "fc_width": 8, "epochs": 2, "batch_size": 16}
# class sizes of a small library: 6, 4, 2, 1, 1, 5 spectra
SIZES = (6, 4, 2, 1, 1, 5)


def library(sizes=SIZES, n_points=60, seed=0):
    """One Gaussian band per class at its own position, a little noise and shift."""
    rng = np.random.default_rng(seed)
    x = np.arange(n_points, dtype=float)
    X, y = [], []
    for c, n in enumerate(sizes):
        centre = 5 + c * (n_points - 10) / max(len(sizes) - 1, 1)
        for _ in range(n):
            X.append(np.exp(-0.5 * ((x - centre - rng.normal(0, 0.5)) / 2.0) ** 2)
                     + rng.normal(0, 0.01, n_points))
            y.append(f"m{c}")
    return np.array(X), np.array(y)


def test_single_spectrum_classes_train_in_every_fold_and_are_never_tested():
    _, y = library()
    y_idx = np.unique(y, return_inverse=True)[1]
    singles = set(np.flatnonzero(np.isin(y, ["m3", "m4"])).tolist())
    pairs = stratified_kfold(y_idx, 5, seed=0)
    assert len(pairs) == 5
    tested = np.concatenate([te for _, te in pairs])
    # every spectrum but the two singletons is tested exactly once
    assert sorted(tested.tolist()) == sorted(set(range(y.size)) - singles)
    for tr, te in pairs:
        assert not set(tr) & set(te)
        assert singles <= set(tr.tolist())
        assert set(y[tr]) == set(y)  # every class in every training part
        # a class smaller than the folds is tested one spectrum at a time
        assert np.sum(y[te] == "m2") <= 1


def test_without_single_spectrum_classes_the_folds_are_scikit_learns():
    _, y = library(sizes=(6, 4, 2, 5))
    y_idx = np.unique(y, return_inverse=True)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = list(StratifiedKFold(5, shuffle=True, random_state=3).split(
            np.zeros((y.size, 1)), y_idx))
    for (tr, te), (rtr, rte) in zip(stratified_kfold(y_idx, 5, seed=3), ref, strict=True):
        np.testing.assert_array_equal(tr, np.sort(rtr))
        np.testing.assert_array_equal(te, np.sort(rte))


def test_folds_need_one_class_as_large_as_k():
    y_idx = np.array([0, 0, 1, 1, 1, 2])
    with pytest.raises(RamancamError, match=r"the largest has 3\. Use 3 folds or fewer"):
        stratified_kfold(y_idx, 4, seed=0)
    with pytest.raises(RamancamError, match=r"every class has a single spectrum"):
        stratified_kfold(np.array([0, 1, 2]), 2, seed=0)
    assert inner_k(y_idx, 5) == 2  # the smallest class that can be tested has 2
    assert inner_k(np.array([0, 1, 2]), 3) == 0


def test_holdout_never_validates_on_a_single_spectrum_class():
    _, y = library()
    y_idx = np.unique(y, return_inverse=True)[1]
    singles = np.flatnonzero(np.isin(y, ["m3", "m4"]))
    for seed in range(10):
        tr, va = holdout(y_idx, 0.2, seed)
        assert set(singles) <= set(tr.tolist())
        assert sorted(np.concatenate([tr, va]).tolist()) == list(range(y.size))
        assert va.size == int(np.ceil(0.2 * y.size))


def test_make_splits_and_note_on_a_library():
    X, y = library()
    s = Spectra(X, np.arange(X.shape[1], dtype=float), labels=y)
    pairs = make_splits(s, folds=5, seed=0)
    assert sum(te.size for _, te in pairs) == y.size - 2
    note = rare_classes_note(y, 5)
    assert note == ("note: 4 of 6 classes have fewer than 5 spectra (m3 (1), m4 (1), m2 (2), "
                    "m1 (4)), so they are tested in fewer than 5 folds; 2 with a single "
                    "spectrum are never tested (trained in every fold), so the CV tests 17 "
                    "of 19 spectra.")


def test_calibration_cross_fit_leaves_single_spectrum_classes_out():
    X, y = library()
    est = CNNClassifier(**TINY, random_state=0, novelty="hqi")
    logits, scores, y_idx, fold_of = cross_fit(est, X, y, folds=3, seed=0)
    single = np.isin(y, ["m3", "m4"])
    assert np.all(fold_of[single] == -1) and np.all(fold_of[~single] >= 0)
    assert np.all(np.isneginf(logits[single]))
    assert np.all(np.isnan(scores[single])) and np.all(np.isfinite(scores[~single]))
    cal = calibrate(logits, y_idx, scores, fold_of)
    assert cal.n_held_out == int((~single).sum())
    # and the whole fit with inner calibration folds runs on the library
    fitted = CNNClassifier(**TINY, random_state=0, calibration_cv=3).fit(X, y)
    assert fitted.calibration_ is not None
    assert fitted.classes_.tolist() == sorted(set(y))


def test_cli_train_and_baseline_on_a_library_with_single_spectrum_classes(tmp_path, capsys):
    X, y = library()
    path = tmp_path / "library.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y), path)
    out = tmp_path / "lib.ramancam"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scikit-learn warnings about many classes
        rc = main(["train", str(path), "--label-col", "label", "--recipe", "none",
                   "--epochs", "2", "--filters", "4", "--filter-size", "3", "--fc-width", "8",
                   "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    text = captured.out
    assert "note: 4 of 6 classes have fewer than 5 spectra" in text
    rows = [ln.split() for ln in text.splitlines() if ln[:1].isdigit() and len(ln.split()) == 7]
    assert len(rows) == 5
    assert sum(int(r[2]) for r in rows) == 17  # the two single spectra are never tested
    assert all(int(r[1]) + int(r[2]) == 19 for r in rows)
    assert out.exists()
    assert main(["baseline", str(path), "--label-col", "label", "--recipe", "none",
                 "--model", "pca-svm"]) == 0
    text = capsys.readouterr().out
    assert "note: 4 of 6 classes have fewer than 5 spectra" in text
    assert "accuracy mean +- sd:" in text


def test_cli_train_with_two_spectra_per_class_and_two_folds(tmp_path, capsys):
    # every training part holds one spectrum per class: the baselines cannot tune (they
    # take their simplest candidate) and the augmentation decision cannot be made (plain
    # fits); the run still compares every model on the same folds
    X, y = library(sizes=(2, 2, 2))
    path = tmp_path / "pairs.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y), path)
    rc = main(["train", str(path), "--label-col", "label", "--recipe", "none", "--folds", "2",
               "--epochs", "2", "--filters", "4", "--filter-size", "3", "--fc-width", "8",
               "--out", str(tmp_path / "pairs.ramancam")])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    rows = [ln.split() for ln in captured.out.splitlines() if ln[:2] in ("1 ", "2 ")]
    assert [r[:3] for r in rows] == [["1", "3", "3"], ["2", "3", "3"]]
    assert all(len(r) == 7 for r in rows)  # CNN, PCA+SVM, PLS-DA, library
    assert all(0.0 <= float(v) <= 1.0 for r in rows for v in r[3:])
    assert "augmentation: off (not chosen: too few spectra" not in captured.out  # 6: enough
    assert "augmentation: " in captured.out


def test_fixed_split_names_classes_only_in_the_test_part(tmp_path, capsys):
    X, y = library(sizes=(6, 6, 4))
    split = np.where(y == "m2", "test", np.where(np.arange(y.size) % 3 == 0, "test", "train"))
    path = tmp_path / "split.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y,
                        meta={"split": split}), path)
    assert main(["train", str(path), "--label-col", "label", "--split-col", "split",
                 "--recipe", "none", "--epochs", "1", "--filters", "4", "--filter-size", "3",
                 "--fc-width", "8", "--no-compare", "--out", str(tmp_path / "m.ramancam"),
                 "--report", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert ("note: 1 class is only in the test part (m2 (4)): the model cannot name it, so "
            "its 4 test spectra count as errors") in out
    # the report drew the model's two classes (it stopped: "class_names must name the
    # model's 2 classes; got 3 names"), and the sets line left the unseen class out (it
    # said 3.00 classes per set for a model of 2)
    text = (tmp_path / "r.html").read_text()
    assert "What the final model looks at" in text
    sets = next(ln for ln in out.splitlines() if ln.startswith("prediction sets:"))
    assert sets.endswith("(4 of classes the model never saw left out)")
    assert "3.00 classes" not in sets
    assert unseen_classes_note(y, [(np.flatnonzero(split == "train"),
                                   np.flatnonzero(split != "train"))], fixed=True) is not None


def test_fixed_split_says_empty_split_values_count_as_test(tmp_path, capsys):
    X, y = library(sizes=(6, 6))
    split = np.where(np.arange(y.size) % 3 == 0, "test", "train")
    split[[1, 7]] = ""
    path = tmp_path / "split.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y,
                        meta={"split": split}), path)
    args = ["train", str(path), "--label-col", "label", "--split-col", "split", "--recipe",
            "none", "--epochs", "1", "--filters", "4", "--filter-size", "3", "--fc-width",
            "8", "--no-compare", "--out", str(tmp_path / "m.ramancam")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("note: 2 spectra have no value in split column 'split'; like every value other "
            "than 'train', they count as test.") in out
    assert re.search(r"^1\s+6\s+6\s", out, flags=re.M)  # 4 + 2 empty tested
    # a --train-value that marks nothing: one error, without the note of unseen classes
    assert main([*args, "--train-value", "TRAIN"]) == 2
    captured = capsys.readouterr()
    assert "must mark both training (= 'TRAIN') and test spectra" in captured.err
    assert "only in the test part" not in captured.out


def test_empty_group_and_split_cells_are_said_by_train_and_baseline(tmp_path, capsys):
    """Spectra with no value in the group column form a group of their own, and in the split
    column count as test: both commands say how many, instead of doing it silently."""
    rng = np.random.default_rng(3)
    y = np.repeat(["a", "b"], 12)
    X = rng.random((24, 30)) + np.where(y == "a", 1.0, 0.0)[:, None] * np.eye(30)[5]
    group = np.tile(["g1", "g2", "g3", ""], 6)
    split = np.where(np.arange(24) % 4 == 0, "", np.where(np.arange(24) % 2, "train", "test"))
    path = tmp_path / "cells.csv"
    write_table(Spectra(X, np.arange(30.0), labels=y, meta={"group": group, "split": split}),
                path)
    for opts, want in ((["--group-col", "group", "--folds", "2"],
                        "note: 6 spectra have no value in group column 'group'; they form one "
                        "group of their own."),
                       (["--split-col", "split"],
                        "note: 6 spectra have no value in split column 'split'; like every "
                        "value other than 'train', they count as test.")):
        assert main(["baseline", str(path), "--label-col", "label", "--recipe", "none",
                     "--model", "library", *opts]) == 0
        assert want in capsys.readouterr().out


def test_group_folds_that_test_a_class_their_training_lacks_are_said(tmp_path, capsys):
    # class c lives in one group: the fold that tests it trained without it, silently
    X, y = library(sizes=(6, 6, 6))
    batch = np.where(y == "m2", "g2", np.where(np.arange(y.size) % 2 == 0, "g1", "g3"))
    path = tmp_path / "g.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y,
                        meta={"batch": batch}), path)
    common = [str(path), "--label-col", "label", "--group-col", "batch", "--folds", "3",
              "--recipe", "none"]
    want = ("note: 1 of 3 folds tests a class that its training part lacks (test spectra "
            "m2: 6): the fold model cannot name it, so those 6 test spectra count as errors.")
    assert main(["baseline", *common, "--model", "library"]) == 0
    assert want in capsys.readouterr().out
    assert main(["train", *common, "--epochs", "1", "--filters", "4", "--filter-size", "3",
                 "--fc-width", "8", "--no-compare", "--out", str(tmp_path / "m.ramancam")]) == 0
    assert want in capsys.readouterr().out
    # every class in one group: every fold is hopeless, and info still reads the model
    assert unseen_classes_note(y, [(np.flatnonzero(y != c), np.flatnonzero(y == c))
                                   for c in ("m0", "m1", "m2")]).startswith(
        "note: 3 of 3 folds test classes that their training part lacks (test spectra m0: 6, "
        "m1: 6, m2: 6)")


def test_info_reads_a_model_whose_calibration_error_could_not_be_measured(tmp_path, capsys):
    # every class in a group of its own: no fold can score its spectra, the ECE is NaN
    # (saved as null), and info stopped with "unsupported format string passed to NoneType"
    X, y = library(sizes=(6, 6, 6))
    path = tmp_path / "g.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y,
                        meta={"batch": np.char.add("g", y)}), path)
    out = tmp_path / "m.ramancam"
    assert main(["train", str(path), "--label-col", "label", "--group-col", "batch",
                 "--folds", "3", "--recipe", "none", "--epochs", "1", "--filters", "4",
                 "--filter-size", "3", "--fc-width", "8", "--no-compare",
                 "--out", str(out)]) == 0
    assert "expected calibration error n/a -> n/a" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    assert "expected calibration error n/a -> n/a" in capsys.readouterr().out


def test_train_and_baseline_say_when_copies_are_trained_on_and_tested(tmp_path, capsys):
    X, y = library(sizes=(6, 6))
    X, y = np.concatenate([X, X]), np.concatenate([y, y])  # the same export, twice
    path = tmp_path / "twice.csv"
    write_table(Spectra(X, np.arange(X.shape[1], dtype=float), labels=y), path)
    common = [str(path), "--label-col", "label", "--folds", "2", "--recipe", "none"]
    assert main(["baseline", *common, "--model", "library"]) == 0
    assert "an exact copy that the folds put in training while testing the other" in (
        capsys.readouterr().out)
    assert main(["train", *common, "--epochs", "1", "--filters", "4", "--filter-size", "3",
                 "--fc-width", "8", "--no-compare", "--out", str(tmp_path / "m.ramancam"),
                 "--report", str(tmp_path / "r.html")]) == 0
    assert "an exact copy that the folds put in training" in capsys.readouterr().out
    # the report and info say it too (the printed note was all there was of it)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert re.search(r"Note: \d+ spectra have an exact copy that the folds put in training",
                     page)
    assert main(["info", str(tmp_path / "m.ramancam")]) == 0
    assert re.search(r"\n  note:      \d+ spectra have an exact copy", capsys.readouterr().out)


def test_group_and_block_folds_never_test_nothing():
    # 5 groups for 5 folds: StratifiedGroupKFold put two groups in one fold and none in
    # another (seed 11), so train stopped on a division by zero after its first fold and
    # baseline printed 'accuracy mean +- sd: nan +- nan'
    from ramancam.maps.folds import SpatialBlockKFold

    labels = np.repeat(list("abcab"), [6, 7, 5, 2, 7])
    groups = np.repeat([f"G{g}" for g in range(5)], [6, 7, 5, 2, 7])
    pairs = group_kfold(labels, groups, 5, 11)
    assert all(te.size for _, te in pairs)
    assert sorted(np.concatenate([te for _, te in pairs]).tolist()) == list(range(27))
    for tr, te in pairs:  # whole groups, still
        assert not set(groups[tr]) & set(groups[te])
    # 4 blocks of an 8 x 6 map in stripes of three classes, 4 folds (seed 873)
    yy, xx = np.mgrid[0:6, 0:8]
    xy = np.column_stack([xx.ravel(), yy.ravel()]).astype(float)
    y = np.array(list("abc"))[np.searchsorted([3, 4], xx.ravel(), side="right")]
    folds = list(SpatialBlockKFold(4, block_size=4, random_state=873).split(xy, y, xy))
    assert all(te.size for _, te in folds)
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(48))

