"""``ramancam simulate``, ``train`` and ``predict`` end to end (calling ``main([...])``)."""

from __future__ import annotations

import csv
import html
import json
import re

import numpy as np
import pytest
import torch

from _model_files import rewrite_model, without_references
from _stopped import STOPS, stop_after
from _toy_sets import FAST, fast_model, imbalanced_table, peaks_table
from ramancam.bundle import load
from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import read, read_table, write_table
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def peaks_file(tmp_path_factory):
    return peaks_table(tmp_path_factory, n_per_class=4, seed=3)


@pytest.fixture(scope="module")
def model_file(peaks_file):
    return fast_model(peaks_file)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_simulate_peaks_reads_back(peaks_file):
    s = read_table(peaks_file, label_col="label")
    assert s.X.shape == (12, 1024)
    assert s.class_counts() == {"peak_100": 4, "peak_1000": 4, "peak_500": 4}
    assert "peak_position" in s.meta


def test_simulate_common_and_seed(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv.gz"
    assert main(["simulate", "common", "--n-per-class", "2", "--out", str(a)]) == 0
    assert f"ramancam train {a} --label-col label --recipe none" in capsys.readouterr().out
    assert main(["simulate", "common", "--n-per-class", "2", "--out", str(b)]) == 0
    sa, sb = read(a, label_col="label"), read(b, label_col="label")
    np.testing.assert_array_equal(sa.X, sb.X)
    assert {"random_peak_1", "random_peak_2", "random_peak_3"} <= set(sa.meta)


def _write_pure(folder, axes):
    folder.mkdir()
    for i, ax in enumerate(axes):
        y = np.exp(-0.5 * ((ax - (600 + 300 * i)) / 15) ** 2) + 0.1
        np.savetxt(folder / f"comp{i}.txt", np.column_stack([ax, y]), delimiter="\t")


def test_simulate_mix_from_folder(tmp_path, capsys):
    _write_pure(tmp_path / "pure", [np.arange(450.0, 1801.0)] * 3)
    out = tmp_path / "mix.csv"
    assert main(["simulate", "mix", "--pure", str(tmp_path / "pure"), "--n-per-pair", "2",
                 "--out", str(out)]) == 0
    m = read(out, label_col="label")
    assert m.class_counts() == {"comp0": 4, "comp1": 4, "comp2": 4}
    assert set(m.meta) == {"partner", "ratio"}
    assert "wrote 12 spectra (3 classes x 4, 1351 points)" in capsys.readouterr().out


def test_simulate_mix_resamples_different_axes(tmp_path, capsys):
    _write_pure(tmp_path / "pure", [np.arange(450.0, 1801.0), np.arange(440.0, 1790.5, 0.5)])
    out = tmp_path / "mix.csv"
    assert main(["simulate", "mix", "--pure", str(tmp_path / "pure"), "--out", str(out)]) == 0
    m = read(out, label_col="label")
    assert m.wavenumbers[0] == 450 and m.wavenumbers[-1] == 1790
    assert "preprocessed with the paper recipe on 450:1790:1" in capsys.readouterr().out
    # as reproduce mixing: pure spectra on one axis are preprocessed too, mixtures normalised
    # (they were mixed as read: maxima 1.00-1.46)
    _write_pure(tmp_path / "same", [np.arange(450.0, 1801.0)] * 3)
    assert main(["simulate", "mix", "--pure", str(tmp_path / "same"), "--out",
                 str(tmp_path / "same.csv")]) == 0
    same = read(tmp_path / "same.csv", label_col="label")
    np.testing.assert_allclose(same.X.max(axis=1), 1.0)
    assert np.abs(same.X[:, [0, -1]]).max() < 0.2  # the straight baseline took the 0.1 offset


def test_simulate_errors(tmp_path, capsys):
    assert main(["simulate", "mix", "--out", str(tmp_path / "m.csv")]) == 2
    assert "--pure must name the pure spectra" in capsys.readouterr().err
    (tmp_path / "pure").mkdir()
    assert main(["simulate", "mix", "--pure", str(tmp_path / "pure"), "--n-per-class", "3",
                 "--out", str(tmp_path / "m.csv")]) == 2
    assert "--n-per-class must not be used with 'mix'" in capsys.readouterr().err
    # mixtures written among the pure spectra would be read as pure ones by the next run
    assert main(["simulate", "mix", "--pure", str(tmp_path / "pure"), "--out",
                 str(tmp_path / "pure" / "m.csv")]) == 2
    assert "--out must not be inside the folder --pure, which is read" in \
        capsys.readouterr().err
    assert main(["simulate", "peaks", "--n-per-class", "0", "--out",
                 str(tmp_path / "p.csv")]) == 2
    assert "--n-per-class must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_train_writes_a_loadable_model(model_file, peaks_file):
    b = load(model_file)
    assert b.classes == ["peak_100", "peak_1000", "peak_500"]
    assert b.recipe is None and b.grid.size == 1024
    assert b.info["cv"]["n_folds"] == 2
    assert b.info["settings"]["epochs"] == 1 and b.info["settings"]["n_filters"] == 4
    assert b.info["training_data"]["n_spectra"] == 12


def test_predict_writes_probabilities_and_accuracy(model_file, peaks_file, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    # (the 12-spectrum model has no threshold of its own: --novelty-rate sets one, so that
    # there is a flagged count to print)
    assert main(["predict", str(model_file), str(peaks_file), "--label-col", "label",
                 "--novelty-rate", "0.1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "accuracy:" in text and "wrote 12 predictions" in text
    rows = _rows(out)
    from collections import Counter

    ranked = sorted(Counter(r["predicted"] for r in rows).items(), key=lambda kv: (-kv[1], kv[0]))
    assert "predicted: " + ", ".join(f"{c} ({n})" for c, n in ranked) in text
    assert list(rows[0]) == ["id", "predicted", "p_peak_100", "p_peak_1000", "p_peak_500",
                             "true", "novelty", "unknown", "library_match", "novelty_p",
                      "prediction_set"]
    proba = np.array([[float(r[f"p_{c}"]) for c in ("peak_100", "peak_1000", "peak_500")]
                      for r in rows])
    s = read_table(peaks_file, label_col="label")
    np.testing.assert_array_equal(proba, load(model_file).predict_proba(s))
    acc = np.mean([r["predicted"] == r["true"] for r in rows])
    assert f"accuracy: {acc:.4f}" in text
    # the library search's class beside the network's nearest class, and how often they agree
    match = load(model_file).library_match(s)
    assert [r["library_match"] for r in rows] == match.tolist()
    nearest = np.array(["peak_100", "peak_1000", "peak_500"])[proba.argmax(axis=1)]
    assert (f"library search (the most similar training spectrum, column library_match) "
            f"names the network's nearest class (flagged spectra too) for "
            f"{int((nearest == match).sum())}/12 spectra") in text
    # every label is known to the model: the flagged count is of false alarms only
    n_flag = sum(r["unknown"] == "true" for r in rows)
    assert f"flagged unknown: {n_flag}/12 spectra, all with known labels" in text
    assert "does not know" not in text
    # every label unknown to the model: no "0/0 with known labels"
    other = tmp_path / "other.csv"
    other.write_text(peaks_file.read_text().replace("peak_", "other_"))
    assert main(["predict", str(model_file), str(other), "--label-col", "label",
                 "--novelty-rate", "0.1", "--out", str(tmp_path / "o.csv")]) == 0
    text = capsys.readouterr().out
    n_flag = sum(r["unknown"] == "true" for r in _rows(tmp_path / "o.csv"))
    assert f"flagged unknown: {n_flag}/12 spectra, all with labels the model does not know" in text


def test_a_label_spelt_like_the_flag_word_counts_as_wrong(model_file, peaks_file, tmp_path,
                                                        capsys):
    # spectra of no trained class labelled literally 'unknown': the flagged ones matched
    # the flag word and counted as right ("accuracy: 0.8333 (5/6)") beside the note that
    # labels not known to the model count as wrong
    s = read_table(peaks_file, label_col="label")
    rng = np.random.default_rng(0)
    novel = tmp_path / "novel.csv"  # noise: no class of the model
    write_table(Spectra(rng.uniform(0, 1, s.X.shape), s.wavenumbers,
                        labels=np.full(len(s), "unknown")), novel)
    out, page = tmp_path / "p.csv", tmp_path / "p.html"
    assert main(["predict", str(model_file), str(novel), "--label-col", "label",
                 "--novelty-rate", "0.1", "--out", str(out), "--report", str(page)]) == 0
    text = capsys.readouterr().out
    rows = _rows(out)
    n_flag = sum(r["unknown"] == "true" for r in rows)
    assert n_flag and {r["true"] for r in rows} == {"unknown"}
    assert "accuracy: 0.0000 (0/12)" in text
    assert f"errors: 12 (true -> predicted: unknown -> unknown {n_flag}" in text
    assert "note: labels not known to the model count as wrong: ['unknown']" in text
    assert f"flagged unknown: {n_flag}/12 spectra, all with labels the model does not know" \
        in text
    # the report's own count of the labelled spectra predicted as labelled
    assert "0 of 12 labelled spectra predicted as labelled (0.0%)" in page.read_text()


def test_predict_names_its_most_frequent_errors(model_file, peaks_file, tmp_path, capsys):
    from collections import Counter

    s = read_table(peaks_file, label_col="label")
    # wrong labels on purpose: every spectrum gets the next class's name, two get a new one
    names = {"peak_100": "peak_1000", "peak_1000": "peak_500", "peak_500": "peak_100"}
    labels = np.array([names[v] for v in s.labels.tolist()], dtype=object)
    labels[:2] = "other"
    relabelled = tmp_path / "relabelled.csv"
    write_table(Spectra(s.X, s.wavenumbers, labels=labels.astype(str)), relabelled)
    out = tmp_path / "p.csv"
    assert main(["predict", str(model_file), str(relabelled), "--label-col", "label",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = _rows(out)
    wrong = Counter((r["true"], r["predicted"]) for r in rows if r["true"] != r["predicted"])
    assert sum(wrong.values()) >= 2  # the two "other" spectra are wrong whatever is predicted
    line = next(ln for ln in text.splitlines() if ln.startswith("errors: "))
    assert line.startswith(f"errors: {sum(wrong.values())} (true -> predicted: ")
    shown = re.findall(r"(\S+) -> (\S+) (\d+)", line.split(": ", 2)[2])
    assert len(shown) == min(5, len(wrong))
    counts = [int(n) for *_, n in shown]
    assert counts == sorted(counts, reverse=True)
    for t, p, n in shown:
        assert wrong[(t, p)] == int(n)
    assert ("more pair" in line) == (len(wrong) > 5)
    assert "1 more pairs" not in line
    # no error, no line
    assert main(["predict", str(model_file), str(peaks_file), "--label-col", "label",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    n_wrong = sum(r["true"] != r["predicted"] for r in _rows(out))
    assert ("errors: " in text) == (n_wrong > 0)


def test_a_model_trained_with_laser_nm_asks_for_it_when_predicting(tmp_path, capsys):
    rng = np.random.default_rng(4)
    lam = np.linspace(800.0, 920.0, 600)  # nm; a 785 nm laser puts this at 239-1869 cm-1
    shift = 1e7 / 785 - 1e7 / lam
    X = [np.exp(-0.5 * ((shift - c) / 6) ** 2) + 0.05 * rng.random(lam.size) + 0.1
         for c in (600, 1000, 1400) for _ in range(6)]
    data = tmp_path / "nm.csv"
    write_table(Spectra(np.array(X), lam, labels=np.repeat(["a", "b", "c"], 6)), data)
    out = tmp_path / "nm.ramancam"
    assert main(["train", str(data), "--label-col", "label", "--laser-nm", "785", *FAST[2:],
                 "--folds", "2", "--no-compare", "--out", str(out)]) == 0  # default recipe
    assert "points (350-1800)" in capsys.readouterr().out  # the paper's grid, in cm-1
    assert load(out).info["settings"]["laser_nm"] == 785.0
    assert main(["predict", str(out), str(data)]) == 2
    assert ("covering 800-920 cm-1. The model was trained on wavelength axes converted with "
            "--laser-nm 785: give that option here too") in capsys.readouterr().err
    assert main(["predict", str(out), str(data), "--label-col", "label", "--laser-nm", "785",
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert "accuracy: " in capsys.readouterr().out


def test_predict_unlabelled_to_stdout(model_file, peaks_file, tmp_path, capsys):
    s = read_table(peaks_file)
    plain = tmp_path / "plain.csv"
    write_table(Spectra(s.X[:3], s.wavenumbers), plain)
    assert main(["predict", str(model_file), str(plain)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ("id,predicted,p_peak_100,p_peak_1000,p_peak_500,novelty,unknown,"
                        "library_match,novelty_p,prediction_set")
    assert len(lines) == 4
    # a table whose label column was not named: one line says how to score the predictions
    capsys.readouterr()
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "p.csv")]) == 0
    assert ("note: column 'label' may hold the true classes: --label-col label adds a 'true' "
            "column and prints the accuracy") in capsys.readouterr().out
    assert main(["predict", str(model_file), str(plain), "--out", str(tmp_path / "q.csv")]) == 0
    assert "may hold the true classes" not in capsys.readouterr().out


def test_predict_refuses_data_off_the_grid(model_file, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    write_table(Spectra(np.ones((2, 10)), np.arange(10.0)), bad)
    assert main(["predict", str(model_file), str(bad)]) == 2
    assert "spectra must be on the model's grid" in capsys.readouterr().err


def test_predict_refuses_a_foreign_model(peaks_file, capsys):
    assert main(["predict", str(peaks_file), str(peaks_file)]) == 2
    assert "must be a ramancam model file" in capsys.readouterr().err


def test_train_with_compare_prints_the_table(peaks_file, tmp_path, capsys):
    out = tmp_path / "m.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for word in ("CNN", "PCA+SVM", "PLS-DA", "library", "mean +- sd", "s/epoch", "winner: "):
        assert word in text
    lines = text.splitlines()
    head = next(ln for ln in lines if ln.startswith("fold"))
    assert head.split() == ["fold", "train", "test", "CNN", "PCA+SVM", "PLS-DA", "library"]
    assert set(load(out).info["cv"]["baselines"]) == {"PCA+SVM", "PLS-DA", "library"}
    # the default decides on augmentation per fit, prints the decision and saves it
    aug = next(ln for ln in lines if ln.startswith("augmentation: "))
    info = load(out).info
    choice = info["settings"]["augment_choice"]
    assert aug.startswith(f"augmentation: {'on' if choice['augment'] else 'off'} ")
    assert f"chosen in {sum(info['cv']['augment_chosen'])} of 2 CV folds" in aug
    assert info["settings"]["augment_select"] is True


def _cv_with(cnn, base):
    from ramancam.train import CVResult

    k = len(cnn)
    return CVResult(classes=["a", "b"], fold_accuracy=list(cnn),
                    confusion=np.zeros((2, 2), dtype=np.int64), oof_pred=np.array([]),
                    oof_proba=np.zeros((0, 2)), fold_of=np.array([], dtype=np.int64),
                    labels=np.array([]), baselines={"PCA+SVM": list(base), "library": [0.5] * k},
                    fold_sizes=[(8, 2)] * k)


def test_winner_line_names_the_best_and_warns_when_a_baseline_is_clearly_better():
    from ramancam.cli.train import format_winner

    # CNN 0.8 +- 0.1; PCA+SVM 0.85: better, but within one CNN sd -> no note.
    text = format_winner(_cv_with([0.7, 0.8, 0.9], [0.85, 0.85, 0.85]))
    assert text.splitlines()[0] == "winner: PCA+SVM (mean accuracy 0.850)"
    assert "note:" not in text
    # PCA+SVM 0.95 beats 0.8 by 0.15 > sd 0.1 -> said plainly.
    text = format_winner(_cv_with([0.7, 0.8, 0.9], [0.95, 0.95, 0.95]))
    assert "note: PCA+SVM beats the CNN by 0.150, more than the CNN's fold sd 0.100" in text
    # A tie goes to the CNN; a single split has sd 0.
    assert format_winner(_cv_with([0.9], [0.9])).splitlines() == [
        "winner: CNN (test accuracy 0.900)",
        "note: a tie: PCA+SVM has the same test accuracy as CNN; a tie is named for the CNN "
        "(else the first column)"]
    # the tie is with the winner, named: "PLS-DA and library have the same mean accuracy"
    # under a PCA+SVM win read as a tie of the two below it
    cv = _cv_with([0.7, 0.7], [0.9, 0.9])
    cv.baselines["PLS-DA"] = [0.9, 0.9]
    assert "note: a tie: PLS-DA has the same mean accuracy as PCA+SVM" in format_winner(cv)
    text = format_winner(_cv_with([0.9], [0.92]))
    assert ("note: PCA+SVM beats the CNN by 0.020 on this split (one split: no fold sd to "
            "weigh it against; k-fold CV tells more)") in text
    # equal means whose floating-point sums differ in the last bit are a tie (the library
    # "won" 5/12 + 1/4 against 1/3 + 1/3 and "beat the CNN by 0.000")
    cv = _cv_with([1 / 3, 1 / 3], [0.2, 0.2])
    cv.baselines["library"] = [5 / 12, 1 / 4]
    text = format_winner(cv)
    assert text.splitlines()[0] == "winner: CNN (mean accuracy 0.333)"
    assert "note: a tie: library" in text and "beats the CNN" not in text


def test_imbalance_note_gives_balanced_accuracy_and_the_worst_class():
    """Under the accuracy table: a note when the largest tested class holds 4x the smallest
    or more and the balanced accuracy (sklearn's) falls 0.01 or more below the accuracy;
    none for balanced classes or where the small classes do as well."""
    from sklearn.metrics import balanced_accuracy_score

    from ramancam.cli._notes import imbalance_note
    from ramancam.train import CVResult
    from ramancam.validate import SpectraCV

    true = np.array(["A"] * 100 + ["B"] * 5 + ["C"] * 20)
    pred = true.copy()
    pred[100:104] = "A"  # B recognised 1 of 5
    pred[105:107] = "A"  # C 18 of 20
    note = imbalance_note(true, pred, "the CNN", more="; see X")
    want = balanced_accuracy_score(true, pred)  # (1 + 0.2 + 0.9) / 3
    assert abs(want - 0.7) < 1e-12
    assert note == ("note: imbalanced classes (largest A: 100 tested spectra; smallest B: 5), "
                    "and accuracy weighs each class by its spectra: the CNN's balanced accuracy "
                    "(mean recall per class) is 0.700; its worst class, B, recognised 1 of 5. "
                    "More spectra of the small classes help most; see X")
    # a test spectrum without a prediction (None: its fold's recipe could not use it) is
    # an error: B's one hit gone
    assert "is 0.500; its worst class, B, recognised 0 of 5." in imbalance_note(
        true[:105], [*pred[:104], None], "PLS-DA")
    # the small classes as good as the large: no note (accuracy hides nothing)
    assert imbalance_note(true, true, "the CNN") is None
    fine = true.copy()
    fine[:10] = "B"  # the large class does worse: balanced accuracy above the accuracy
    assert imbalance_note(true, fine, "the CNN") is None
    # 3:1 is not imbalanced enough, whatever the recall
    y3 = np.array(["A"] * 15 + ["B"] * 5)
    assert imbalance_note(y3, np.array(["A"] * 20), "the CNN") is None
    assert imbalance_note(np.array(["A"] * 16 + ["B"] * 4), np.array(["A"] * 20), "x")
    # ties in recall: the smaller class is named
    tie = np.array(["A"] * 40 + ["B"] * 10 + ["C"] * 5)
    assert "worst class, C, recognised 0 of 5" in imbalance_note(
        tie, np.array(["A"] * 55), "the CNN")
    # train's line comes from the out-of-fold predictions of the tested spectra only (a
    # fixed split's training part is never tested); SpectraCV.summary ends with it
    fold_of = np.r_[np.full(30, -1), np.zeros(125, dtype=int)]
    cv = CVResult(classes=["A", "B", "C"], fold_accuracy=[float(np.mean(pred == true))],
                  confusion=np.zeros((3, 3), dtype=np.int64),
                  oof_pred=np.r_[np.full(30, ""), pred], oof_proba=np.zeros((155, 3)),
                  fold_of=fold_of, labels=np.r_[np.full(30, "B"), true], fold_sizes=[(30, 125)])
    from ramancam.cli.train import imbalance_line

    assert imbalance_line(cv) == imbalance_note(true, pred, "the CNN")
    res = SpectraCV(cv=cv, data=None, labelled=None, recipe=None, recipe_used="none",
                    header="h", lines=["h"], kind="fixed split")
    assert res.summary().endswith(imbalance_note(
        true, pred, "the CNN", more="; cv.confusion is its confusion matrix"))


def test_imbalance_line_counts_the_unpredicted_and_leaves_out_classes_never_trained_on():
    """train's note counted the spectra of a class their fold never trained on ("its worst
    class, R, recognised 0 of 8", where the report's table says "not trained on in its
    fold": no recall to speak of) and left out a spectrum without a prediction ("largest
    A: 40 tested spectra" of 41, the accuracy table counting it as an error): now the
    first are left out, said so, and the second counts as an error."""
    from ramancam.cli._notes import imbalance_note
    from ramancam.cli.train import imbalance_line
    from ramancam.train import CVResult

    labels = np.array(["A"] * 40 + ["B"] * 10 + ["C"] * 8)
    pred = labels.copy()
    pred[40:48] = "A"  # B recognised 2 of 10
    pred[50:] = "A"  # C: never trained on in its fold
    fold_of = np.r_[np.zeros(29, dtype=int), np.ones(29, dtype=int)]
    fold_of[0], pred[0] = -1, ""  # its fold's own recipe could not use it
    logits = np.zeros((58, 3))
    logits[fold_of == 1, 2] = -np.inf  # fold 2's training part lacked C
    logits[0] = np.nan
    cv = CVResult(classes=["A", "B", "C"], fold_accuracy=[0.5, 0.5],
                  confusion=np.zeros((3, 3), dtype=np.int64), oof_pred=pred,
                  oof_proba=np.zeros((58, 3)), fold_of=fold_of, labels=labels,
                  fold_sizes=[(29, 29), (29, 29)], oof_logits=logits)
    left = "left out: the 8 spectra of C, tested by a model that never trained on their class"
    note = imbalance_line(cv)
    assert note == imbalance_note(labels[:50], pred[:50], "the CNN", left_out=left)
    assert note.startswith("note: imbalanced classes (largest A: 40 tested spectra; smallest "
                           f"B: 10; {left}), and accuracy weighs")
    # (39/40 + 2/10) / 2
    assert "balanced accuracy (mean recall per class) is 0.588; its worst class, B, " \
        "recognised 2 of 10." in note
    assert imbalance_line(cv, test=np.ones(58, dtype=bool)) == note


def test_train_fixed_split_and_paper_recipe(tmp_path, capsys):
    rng = np.random.default_rng(0)
    axis = np.linspace(300, 1900, 300)
    centres = np.repeat([700.0, 1300.0], 6)
    X = 1 / (1 + ((axis - centres[:, None]) / 10) ** 2) + 0.2 + rng.normal(0, 0.01, (12, 300))
    split = np.tile(["train", "train", "test"], 4)
    data = tmp_path / "d.csv"
    write_table(Spectra(X, axis, np.repeat(["a", "b"], 6), {"split": split}), data)
    out = tmp_path / "m.ramancam"
    args = ["train", str(data), "--label-col", "label", "--grid", "400:1800:5",
            "--threads", "1", "--epochs", "1", "--filters", "4", "--fc-width", "8",
            "--split-col", "split", "--no-compare", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "fixed split" in text and "on 8 spectra" in text
    # the prediction sets' cross-fitted coverage, and on the 4 test spectra
    sets_line = next(ln for ln in text.splitlines() if ln.startswith("prediction sets: "))
    assert re.search(r"; test spectra: \d+\.\d%, \d\.\d\d classes$", sets_line)
    b = load(out)
    assert b.grid.size == 281 and b.recipe is not None
    assert b.info["training_data"]["n_spectra"] == 8
    assert main(["predict", str(out), str(data), "--label-col", "label"]) == 0
    assert "accuracy:" in capsys.readouterr().err
    # Spectra that do not cover the grid are told the model's range, and nothing is written
    short = tmp_path / "short.csv"
    write_table(Spectra(X[:, 50:], axis[50:]), short)
    assert main(["predict", str(out), str(short)]) == 2
    captured = capsys.readouterr()
    assert "spectra must cover the model's range" in captured.err
    assert captured.out == ""
    # a folder where one file does not cover it: that file is not predicted, the rest are
    folder = tmp_path / "batch"
    folder.mkdir()
    for i, (xs, ys) in enumerate(((axis, X[0]), (axis, X[7]), (axis[50:], X[2, 50:]))):
        (folder / f"s{i}.txt").write_text(
            "".join(f"{a:g}\t{v:.6f}\n" for a, v in zip(xs, ys, strict=True)))
    assert main(["predict", str(out), str(folder), "--out", str(tmp_path / "b.csv")]) == 0
    said = capsys.readouterr().out
    assert re.search(r"not predicted: 1 spectrum the model's recipe refuses \(s2\.txt; .*First "
                     r"reason: must cover the model's range, 400-1800 cm-1 .*got file "
                     r".*s2\.txt covering [\d.]+-1900 cm-1", said)
    assert "spans other Raman shifts" not in said  # a note of the predicted spectra only
    rows = _rows(tmp_path / "b.csv")
    assert [r["predicted"] for r in rows][2] == "unknown" and rows[2]["p_a"] == ""
    assert rows[0]["predicted"] in ("a", "b") and rows[1]["p_a"] != ""


def test_train_with_groups_sets_the_threshold_on_whole_groups(tmp_path, capsys):
    from ramancam.simulate import peak_position_set

    base = peak_position_set(4, n_channels=80, positions=(20, 50), rng=4)
    rng = np.random.default_rng(4)  # 4 samples per class, measured 3 times each
    s = Spectra(np.repeat(base.X, 3, 0) + 0.005 * rng.standard_normal((24, 80)),
                base.wavenumbers, labels=np.repeat(base.labels, 3),
                meta={"sample": np.repeat(np.arange(8), 3)})
    data, out = tmp_path / "reps.csv", tmp_path / "m.ramancam"
    write_table(s, data)
    assert main(["train", str(data), "--label-col", "label", *FAST, "--folds", "2",
                 "--group-col", "sample", "--no-compare", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "unknown: threshold" in printed
    assert "; threshold from leave-one-group-out scores)" in printed  # and says so
    # the threshold comes from leave-one-sample-out scores
    from ramancam.novelty import conformal_threshold

    model = load(out)
    groups = s.meta["sample"].astype(str)
    assert model.threshold == pytest.approx(
        conformal_threshold(model.novelty.loo_scores(groups), 0.05), rel=1e-4)
    assert model.threshold > 1.01 * conformal_threshold(model.novelty.loo_scores(), 0.05)


def test_train_errors(peaks_file, tmp_path, capsys):
    out = str(tmp_path / "m.ramancam")
    assert main(["train", str(peaks_file), *FAST, "--out", out]) == 2
    # the simulated table has a 'label' column: the error names it
    assert ("must carry class labels for training; got unlabelled spectra. Give --label-col "
            "label (the table has a column 'label').") in capsys.readouterr().err
    s = read_table(peaks_file)
    odd = tmp_path / "odd.csv"
    write_table(Spectra(s.X, s.wavenumbers, meta={"Polymer": s.meta["label"],
                                                    "note": s.meta["label"]}), odd)
    assert main(["train", str(odd), *FAST, "--out", out]) == 2
    assert "Give --label-col Polymer (the table has a column 'Polymer')." in \
        capsys.readouterr().err
    write_table(Spectra(s.X, s.wavenumbers, meta={"sample kind": s.meta["label"]}), odd)
    assert main(["train", str(odd), *FAST, "--out", out]) == 2
    assert "Give --label-col (wide tables) or --labels-from (folders)." in \
        capsys.readouterr().err
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "5",
                 "--out", out]) == 2
    assert "at least one class must have 5 spectra" in capsys.readouterr().err
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST,
                 "--group-col", "nope", "--out", out]) == 2
    assert "group column 'nope' must be a metadata column" in capsys.readouterr().err
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--threads", "0",
                 "--out", out]) == 2
    assert "--threads must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "m.ramancam").exists()


def test_help_documents_every_option(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--out", "--recipe", "--grid", "--epochs", "--lr", "--batch-size",
                "--filters", "--filter-size", "--blocks", "--fc-width", "--folds",
                "--group-col", "--split-col", "--train-value", "--seed", "--compare",
                "--label-col", "--labels-from"):
        assert opt in text
    assert main(["predict", "--help"]) == 0
    assert "--out" in capsys.readouterr().out
    assert main(["simulate", "--help"]) == 0
    assert "--n-per-class" in capsys.readouterr().out


def test_real_drug_mabs_predict_runs(shared_data, tmp_path, capsys):
    data = shared_data / "drug-mabs" / "spectra.csv.gz"
    out = tmp_path / "m.ramancam"
    assert main(["train", str(data), "--label-col", "label", "--grid", "400:1800:1",
                 "--split-col", "split", "--train-value", "train", "--epochs", "1",
                 "--filters", "4", "--fc-width", "8", "--no-compare",
                 "--out", str(out)]) == 0
    assert "fixed split" in capsys.readouterr().out
    b = load(out)
    assert b.grid.size == 1401 and b.info["training_data"]["n_spectra"] == 699


def test_real_amino_acid_mixtures(shared_data, tmp_path):
    out = tmp_path / "mix.csv"
    assert main(["simulate", "mix", "--pure", str(shared_data / "amino-acids"),
                 "--n-per-pair", "1", "--out", str(out)]) == 0
    m = read(out, label_col="label")
    assert len(m) == 13 * 12 and len(m.classes) == 13
    assert m.wavenumbers[0] == 450 and m.wavenumbers[-1] == 1800


@pytest.mark.parametrize(("extra", "want"), [
    ([], {"n_filters": 64, "filter_size": 8, "lr_schedule": "cosine",
          "input_scaling": "center", "lr": 1e-4, "epochs": 100}),
    (["--preset", "paper"], {"n_filters": 64, "filter_size": 8, "lr_schedule": "constant",
                             "input_scaling": "none", "lr": 1e-4, "epochs": 100}),
    (["--preset", "paper", "--filters", "16", "--input-scaling", "center"],
     {"n_filters": 16, "filter_size": 8, "input_scaling": "center"}),
    (["--filter-size", "5", "--lr-schedule", "constant", "--augment-noise", "0.01"],
     {"n_filters": 64, "filter_size": 5, "lr_schedule": "constant", "augment_noise": 0.01,
      "bf16": False}),
    (["--bf16"], {"bf16": True, "n_filters": 64}),
    ([], {"augment_select": True, "augment_shift": 3, "augment_noise": 0.01,
          "augment_baseline": 0.05, "augment_scale": 0.1}),
    (["--augment", "off"],
     {"augment_select": False, "augment_shift": 0, "augment_noise": 0}),
    (["--augment", "on", "--augment-shift", "5"],
     {"augment_select": False, "augment_shift": 5, "augment_noise": 0.01}),
    (["--preset", "paper"], {"augment_select": False, "augment_shift": 0,
                             "augment_scale": 0.0}),
    # the paper preset has no amounts: --augment auto/on take the default ones (it chose
    # between two identical fits, silently)
    (["--preset", "paper", "--augment", "auto"],
     {"augment_select": True, "augment_shift": 3, "augment_noise": 0.01}),
    (["--preset", "paper", "--augment", "on", "--augment-shift", "5"],
     {"augment_select": False, "augment_shift": 5, "augment_noise": 0.01}),
    # an explicit 0 stays 0 (read as "not given" for a moment)
    (["--augment", "on", "--augment-noise", "0"], {"augment_noise": 0, "augment_shift": 3}),
    (["--preset", "paper", "--augment", "on", "--augment-shift", "0"],
     {"augment_shift": 0, "augment_noise": 0.01}),
])
def test_presets_and_explicit_options(extra, want):
    import argparse

    from ramancam.cli import train as cli_train

    p = argparse.ArgumentParser()
    cli_train.add_arguments(p)
    params = cli_train.estimator_params(p.parse_args(["d.csv", "--out", "m", *extra]))
    assert {k: params[k] for k in want} == want


def test_saved_model_records_the_preset(peaks_file, tmp_path):
    out = tmp_path / "paper.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", "--preset", "paper",
                 *FAST, "--folds", "2", "--no-compare", "--out", str(out)]) == 0
    s = load(out).info["settings"]
    assert s["preset"] == "paper" and s["lr_schedule"] == "constant"
    assert s["input_scaling"] == "none" and s["n_filters"] == 4
    assert s["bf16"] is False


def test_train_bf16_is_recorded_and_the_saved_model_is_float32(peaks_file, tmp_path):
    out = tmp_path / "bf16.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", "--bf16", *FAST,
                 "--folds", "2", "--no-compare", "--out", str(out)]) == 0
    bundle = load(out)
    assert bundle.info["settings"]["bf16"] is True
    assert all(v.dtype == torch.float32 for v in bundle.model.state_dict().values())


def test_predict_bf16_keeps_the_decisions_and_accuracy(tmp_path):
    """Accuracy parity of the bf16 flag on a trained model (fp32 stays the default)."""
    data = tmp_path / "peaks.csv"
    assert main(["simulate", "peaks", "--n-per-class", "10", "--seed", "5",
                 "--out", str(data)]) == 0
    model = tmp_path / "m.ramancam"
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none", "--epochs",
                 "15", "--lr", "3e-3", "--filters", "8", "--filter-size", "8", "--fc-width",
                 "16", "--folds", "2", "--no-compare", "--out", str(model)]) == 0
    out32, out16 = tmp_path / "p32.csv", tmp_path / "p16.csv"
    assert main(["predict", str(model), str(data), "--label-col", "label",
                 "--out", str(out32)]) == 0
    assert main(["predict", str(model), str(data), "--label-col", "label", "--bf16",
                 "--out", str(out16)]) == 0
    r32 = list(csv.DictReader(out32.open()))
    r16 = list(csv.DictReader(out16.open()))
    acc = [np.mean([r["predicted"] == r["true"] for r in rows]) for rows in (r32, r16)]
    assert acc[0] >= 0.9 and acc[1] == acc[0]
    assert [r["predicted"] for r in r16] == [r["predicted"] for r in r32]
    p32 = np.array([[float(r[k]) for k in r if k.startswith("p_")] for r in r32])
    p16 = np.array([[float(r[k]) for k in r if k.startswith("p_")] for r in r16])
    assert np.abs(p32 - p16).max() < 0.05


def _u_shaped(tmp_path, axis):
    """Two classes of one band each on a U-shaped background (the paper's end-point line
    lies above the whole spectrum), written as a wide table."""
    rng = np.random.default_rng(4)
    u = 5.0 * ((axis - axis.mean()) / (np.ptp(axis) / 2)) ** 2
    rows, labels = [], []
    for cls, pos in (("a", 600.0), ("b", 1000.0)):
        for _ in range(6):
            band = 1.0 / (1.0 + ((axis - pos - rng.normal(0, 2)) / 6.0) ** 2)
            rows.append(u + band + rng.normal(0, 0.01, axis.size))
            labels.append(cls)
    path = tmp_path / "u.csv"
    write_table(Spectra(np.array(rows), axis, labels=labels), path)
    return path


def test_recipe_asls_trains_where_the_paper_baseline_fails(tmp_path, capsys):
    """A U-shaped background (ends high, middle low): the line through the end points lies
    above the whole spectrum, so the paper recipe stops with its clear error; the default
    recipe (asls) subtracts a fitted baseline instead and trains."""
    path = _u_shaped(tmp_path, np.linspace(300.0, 1300.0, 400))
    args = ["train", str(path), "--label-col", "label", "--grid", "320:1280:2", "--epochs",
            "2", "--filters", "4", "--filter-size", "5", "--fc-width", "8", "--folds", "2",
            "--no-compare"]
    assert main([*args, "--recipe", "paper", "--out", str(tmp_path / "p.ramancam")]) == 2
    err = capsys.readouterr().err
    assert "positive maximum" in err and "use --recipe auto, asls or arpls" in err
    assert main([*args, "--out", str(tmp_path / "a.ramancam")]) == 0
    assert "recipe: auto -> asls (paper baseline unusable:" in capsys.readouterr().out
    b = load(tmp_path / "a.ramancam")
    assert b.info["settings"]["recipe_used"].startswith("auto -> asls")
    assert [st.name for st in b.recipe.steps] == ["resample", "baseline", "normalize"]
    assert b.recipe.steps[1].params["method"] == "asls"
    X = b.prepare(read_table(path, label_col="label"))
    assert X.shape == (12, 481) and np.allclose(X.max(axis=1), 1.0)
    # the library function gives a notebook the same recipe, inputs and printed choice
    from ramancam.preprocess import auto_recipe, paper_recipe

    raw = read_table(path, label_col="label")
    recipe, data, choice = auto_recipe(raw, grid=(320.0, 1280.0, 2.0))
    assert recipe.to_json() == b.recipe.to_json()
    assert np.array_equal(data.X, X)
    assert b.info["settings"]["recipe_used"] == f"auto -> {choice}"
    hump = raw.replace(X=raw.X.max() - raw.X)  # ends low: the end-point line works
    paper, pdata, pchoice = auto_recipe(hump, grid=(320.0, 1280.0, 2.0))
    assert pchoice == "paper" and paper.to_json() == paper_recipe((320.0, 1280.0, 2.0)).to_json()
    assert np.allclose(pdata.X.max(axis=1), 1.0)


def test_flat_training_spectra_are_left_out_and_named(tmp_path, capsys):
    """A dead spectrum (one value throughout the grid) is left out with one line naming it,
    so the auto recipe stays the paper's instead of falling back to asls for everyone; a set
    of nothing but dead spectra stops with a one-line error."""
    rng = np.random.default_rng(5)
    axis = np.linspace(300.0, 1300.0, 300)
    rows, labels = [], []
    for cls, pos in (("a", 600.0), ("b", 1000.0)):
        for _ in range(6):
            rows.append(1.0 / (1.0 + ((axis - pos) / 6.0) ** 2) + rng.normal(0, 0.01, axis.size))
            labels.append(cls)
    X = np.array(rows)
    X[3] = 0.0
    X[8, (axis >= 320.0) & (axis <= 1280.0)] = 2.0  # flat on the grid, not outside it
    path = tmp_path / "dead.csv"
    write_table(Spectra(X, axis, labels=labels,
                        meta={"id": [f"s{i:02d}" for i in range(12)]}), path)
    args = ["train", str(path), "--label-col", "label", "--grid", "320:1280:2", "--epochs",
            "1", "--filters", "4", "--filter-size", "5", "--fc-width", "8", "--folds", "2",
            "--no-compare", "--out", str(tmp_path / "m.ramancam")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("left out 2 flat spectra (one value or a straight line throughout 320-1280 cm-1: "
            "s03, s08); "
            "using 10") in out
    assert "recipe: auto -> paper" in out
    td = load(tmp_path / "m.ramancam").info["training_data"]
    assert td["n_spectra"] == 10 and td["left_out"] == {"flat": ["s03", "s08"]}
    assert main(["info", str(tmp_path / "m.ramancam")]) == 0
    assert ("  left out:  2 flat spectra (s03, s08), before the cross validation"
            in capsys.readouterr().out.splitlines())
    write_table(Spectra(np.full((4, axis.size), 3.0), axis, labels=["a", "b", "a", "b"]),
                tmp_path / "all.csv")
    assert main(["train", str(tmp_path / "all.csv"), "--label-col", "label",
                 "--out", str(tmp_path / "n.ramancam")]) == 2
    err = capsys.readouterr().err
    assert "spectra must vary 350-1300 cm-1; got 4 spectra, each with one value" in err
    assert not (tmp_path / "n.ramancam").exists()


def test_default_grid_is_the_paper_grid_narrowed_to_the_data(tmp_path, capsys):
    """Without --grid the recipe resamples onto 350-1800 cm-1 cut to the range every
    spectrum covers (here 400.5-1700.2 -> 401-1700), and the saved model records it."""
    from ramancam.preprocess import PAPER_GRID, auto_grid

    rng = np.random.default_rng(1)
    axis = np.linspace(400.5, 1700.2, 500)
    centres = np.repeat([700.0, 1300.0], 4)
    X = 1 / (1 + ((axis - centres[:, None]) / 10) ** 2) + rng.normal(0, 0.01, (8, 500))
    data = tmp_path / "d.csv"
    write_table(Spectra(X, axis, np.repeat(["a", "b"], 4)), data)
    out = tmp_path / "m.ramancam"
    assert main(["train", str(data), "--label-col", "label", "--epochs", "1", "--filters",
                 "4", "--fc-width", "8", "--folds", "2", "--no-compare", "--out",
                 str(out)]) == 0
    assert "1300 points (401-1700); recipe: auto -> paper" in capsys.readouterr().out
    b = load(out)
    assert b.grid[0] == 401.0 and b.grid[-1] == 1700.0
    wide = Spectra(X, np.linspace(100.0, 4000.0, 500), np.repeat(["a", "b"], 4))
    assert auto_grid(wide) == PAPER_GRID
    # spectra of another region (the C-H stretch) get the whole range they share
    assert auto_grid(Spectra(X, np.linspace(2000.0, 3000.0, 500))) == (2000.0, 3000.0, 1.0)
    # ... also when they reach a little into 350-1800 (under 200 cm-1 of it)
    assert auto_grid(Spectra(X, np.linspace(1650.2, 3100.0, 500))) == (1651.0, 3100.0, 1.0)
    # 200 cm-1 or more of the fingerprint region, a quarter of the range: the paper's grid,
    # narrowed
    assert auto_grid(Spectra(X, np.linspace(1300.0, 3100.0, 500))) == (1300.0, 1800.0, 1.0)
    # ... but under a quarter (300 of 1600 cm-1): the whole range, as from 1650 cm-1 (before,
    # 1500-3100 cm-1 lost 1800-3100, and 1590-3200 cm-1 kept 1592-1800 where 1610-3200 kept
    # it all)
    assert auto_grid(Spectra(X, np.linspace(1500.0, 3100.0, 500))) == (1500.0, 3100.0, 1.0)
    assert auto_grid(Spectra(X, np.linspace(1590.0, 3200.0, 500))) == (1590.0, 3200.0, 1.0)
    assert auto_grid(Spectra(X, np.linspace(400.1, 3999.4, 500))) == (401.0, 1800.0, 1.0)
    # a narrow window inside 350-1800 keeps the paper's grid, narrowed
    assert auto_grid(Spectra(X, np.linspace(1000.0, 1100.0, 500))) == (1000.0, 1100.0, 1.0)
    with pytest.raises(RamancamError, match=r"must share a range inside 350-1800 cm-1, or 200 "
                                            r"cm-1 anywhere, for the default grid; got a common "
                                            r"range of 2400-2500 cm-1"):
        auto_grid(Spectra([X[0], X[1]], [np.linspace(2000.0, 2500.0, 500),
                                          np.linspace(2400.0, 3000.0, 500)]))
    # spectra that share nothing: no grid can fit them, and the error says so
    with pytest.raises(RamancamError, match=r"share a range of Raman shifts; got none .*No "
                                            r"grid fits them all"):
        auto_grid(Spectra([X[0], X[1]], [np.linspace(2000.0, 2500.0, 500),
                                          np.linspace(2600.0, 3000.0, 500)]))
    # a table whose numeric header is no Raman axis (sample numbers 1-3) is not trained on
    with pytest.raises(RamancamError, match="Check that the axis is Raman shift in cm-1"):
        auto_grid(Spectra(X[:, :3], [1.0, 2.0, 3.0]))


TINY = ["--epochs", "1", "--filters", "4", "--filter-size", "5", "--fc-width", "8",
        "--folds", "2", "--no-compare"]


def test_grid_full_and_normalize_snv_travel_in_the_model(tmp_path, capsys):
    """--grid full resamples onto the whole range every spectrum covers (here 250.3-2400.9
    -> 251-2400 at 1 cm-1, beyond the paper's 1800); --normalize snv replaces max in the
    recipe, is printed, saved, and applied again by the model's prepare()."""
    axis = np.linspace(250.3, 2400.9, 700)
    path = _u_shaped(tmp_path, axis)
    out = tmp_path / "m.ramancam"
    assert main(["train", str(path), "--label-col", "label", "--recipe", "asls", "--grid",
                 "full", "--normalize", "snv", *TINY, "--out", str(out)]) == 0
    assert "2150 points (251-2400)" in capsys.readouterr().out
    # full:STEP: the same range at another step (251, 253, ..., 2399)
    assert main(["train", str(path), "--label-col", "label", "--recipe", "asls", "--grid",
                 "full:2", "--normalize", "snv", *TINY, "--out", str(out)]) == 0
    assert "1075 points (251-2399)" in capsys.readouterr().out
    assert main(["train", str(path), "--label-col", "label", "--recipe", "asls", "--grid",
                 "full", "--normalize", "snv", *TINY, "--out", str(out)]) == 0
    assert "2150 points (251-2400); recipe: asls, normalize snv" in capsys.readouterr().out
    b = load(out)
    assert b.grid[0] == 251.0 and b.grid[-1] == 2400.0 and b.grid.size == 2150
    assert [st.name for st in b.recipe.steps] == ["resample", "baseline", "normalize"]
    assert b.recipe.steps[-1].params["method"] == "snv"
    assert b.info["settings"]["recipe_used"] == "asls, normalize snv"
    X = b.prepare(read_table(path, label_col="label"))
    np.testing.assert_allclose(X.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=1), 1.0, rtol=1e-3)


def test_auto_decides_the_baseline_with_max_then_normalizes_as_asked(tmp_path, capsys):
    """With --normalize snv the paper's line would not fail (SNV takes negative values), but
    auto still decides as without it: the line lies above the spectra, so asls; then SNV."""
    path = _u_shaped(tmp_path, np.linspace(300.0, 1300.0, 400))
    out = tmp_path / "m.ramancam"
    assert main(["train", str(path), "--label-col", "label", "--normalize", "snv", *TINY,
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "recipe: auto -> asls (paper baseline unusable:" in text
    assert text.split("recipe: ")[1].splitlines()[0].endswith(", normalize snv")
    b = load(out)
    assert [st.name for st in b.recipe.steps] == ["resample", "baseline", "normalize"]
    assert b.recipe.steps[1].params["method"] == "asls"
    assert b.recipe.steps[-1].params["method"] == "snv"
    # --normalize max changes nothing: the same recipe as without the option
    assert main(["train", str(path), "--label-col", "label", "--normalize", "max", *TINY,
                 "--out", str(tmp_path / "max.ramancam")]) == 0
    assert load(tmp_path / "max.ramancam").recipe.steps[-1].params["method"] == "max"


@pytest.mark.parametrize(("extra", "message"), [
    (["--recipe", "none", "--normalize", "snv"], "--normalize needs a recipe; got --recipe none"),
    (["--normalize", "l2"], "argument --normalize: invalid choice: 'l2'"),
    (["--grid", "fool"], "--grid must be START:STOP:STEP, e.g. 400:1800:1; got 'fool'"),
    (["--grid", "full:0"], "--grid full takes an optional positive step, e.g. full:2; got"),
    (["--grid", "full:x"], "--grid full takes an optional positive step, e.g. full:2; got"),
    (["--grid", "full:inf"], "--grid full takes an optional positive step, e.g. full:2; got"),
    (["--grid", "full:2:3"], "--grid full takes an optional positive step, e.g. full:2; got"),
])
def test_bad_normalize_or_grid_stops_in_one_line(peaks_file, tmp_path, capsys, extra, message):
    code = main(["train", str(peaks_file), "--label-col", "label", "--epochs", "1",
                 *extra, "--out", str(tmp_path / "x.ramancam")])
    assert code == 2
    assert not (tmp_path / "x.ramancam").exists()
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_normalize_choices_are_the_preprocessing_normalizations():
    """The command line keeps its own copy (importing preprocess costs a second at start-up);
    it must not drift from the methods the recipe step accepts."""
    from ramancam.cli._common import NORMALIZE_CHOICES
    from ramancam.preprocess import NORMALIZATIONS

    assert NORMALIZE_CHOICES == tuple(NORMALIZATIONS)


def test_full_grid_is_the_common_range_at_1_cm():
    from ramancam.preprocess import full_grid

    a = Spectra(np.ones((1, 50)), np.linspace(99.6, 3000.2, 50), labels=["x"])
    b = Spectra(np.ones((1, 60)), np.linspace(150.0, 4000.0, 60), labels=["y"])
    assert full_grid(Spectra.concat([a, b])) == (150.0, 3000.0, 1.0)
    assert full_grid(Spectra.concat([a, b]), 2) == (150.0, 3000.0, 2.0)
    with pytest.raises(RamancamError, match="must share at least 2 cm-1 for --grid full"):
        full_grid(Spectra.concat([a, Spectra(np.ones((1, 5)), np.linspace(2999.5, 3500.0, 5),
                                             labels=["z"])]))
    with pytest.raises(RamancamError, match="share a range of Raman shifts; got none"):
        full_grid(Spectra.concat([a, Spectra(np.ones((1, 5)), np.linspace(3000.5, 3500.0, 5),
                                             labels=["z"])]))


def test_predict_names_files_of_one_name_in_two_folders_by_path(model_file, peaks_file,
                                                                tmp_path, capsys):
    # sample folders each holding "a.txt": the rows were named 0, 1 (no file to be found)
    s = read_table(peaks_file, label_col="label")
    for k, sub in enumerate(["s1", "s2"]):
        (tmp_path / "d" / sub).mkdir(parents=True)
        np.savetxt(tmp_path / "d" / sub / "a.txt", np.c_[s.wavenumbers, s.X[k]])
    np.savetxt(tmp_path / "d" / "b.txt", np.c_[s.wavenumbers, s.X[2]])
    assert main(["predict", str(model_file), str(tmp_path / "d"), "--out",
                 str(tmp_path / "p.csv")]) == 0
    assert sorted(r["id"] for r in _rows(tmp_path / "p.csv")) == [
        "b.txt", "s1/a.txt", "s2/a.txt"]
    capsys.readouterr()


def test_predict_gzips_a_gz_table_and_says_when_no_row_is_labelled(model_file, peaks_file,
                                                                   tmp_path, capsys):
    import gzip

    s = read_table(peaks_file, label_col="label")
    write_table(Spectra(s.X, s.wavenumbers, labels=[""] * len(s)), tmp_path / "none.csv")
    capsys.readouterr()
    assert main(["predict", str(model_file), str(tmp_path / "none.csv"), "--label-col",
                 "label", "--out", str(tmp_path / "p.csv.gz")]) == 0
    out = capsys.readouterr().out
    # it printed "accuracy: 0.0000 (0/0)" and "flagged unknown: 0/0 spectra"
    assert "note: no spectrum carries a label (every label cell is empty): no accuracy" in out
    assert "accuracy:" not in out and "flagged unknown:" not in out
    with gzip.open(tmp_path / "p.csv.gz", "rt") as fh:  # plain text under .gz before
        assert fh.readline().startswith("id,predicted,")


def test_predict_notes_spectra_sampled_more_coarsely_than_the_training_ones(
        model_file, peaks_file, tmp_path, capsys):
    s = read_table(peaks_file, label_col="label")
    step = float(np.median(np.diff(s.wavenumbers)))
    assert load(model_file).info["training_data"]["step"] == round(step, 4)
    model = tmp_path / "paper.ramancam"  # a recipe that resamples: coarse spectra fit it
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST[2:], "--recipe",
                 "paper", "--grid", "350:1000:1", "--folds", "2", "--no-compare", "--out",
                 str(model)]) == 0
    write_table(Spectra(s.X[:, ::4], s.wavenumbers[::4], labels=s.labels),
                tmp_path / "coarse.csv")
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "coarse.csv"), "--out",
                 str(tmp_path / "c.csv")]) == 0
    assert (f"note: the spectra are sampled every {round(4 * step, 4):g} cm-1 (median), the "
            f"training spectra every {round(step, 4):g} cm-1: resampled onto the model's grid "
            "their bands are broader") in capsys.readouterr().out
    assert main(["predict", str(model), str(peaks_file), "--out",
                 str(tmp_path / "same.csv")]) == 0
    assert "sampled every" not in capsys.readouterr().out


def test_predict_marks_a_row_with_no_value_not_predicted(model_file, peaks_file, tmp_path,
                                                         capsys):
    s = read_table(peaks_file, label_col="label")
    write_table(s, tmp_path / "n.csv")
    lines = (tmp_path / "n.csv").read_text().splitlines()
    head = lines[0].split(",")
    cells = lines[4].split(",")                     # the 4th spectrum: a dead pixel as NaN
    lines[4] = ",".join(c if not h.replace(".", "").isdigit() else "nan"
                        for h, c in zip(head, cells, strict=True))
    (tmp_path / "n.csv").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    from ramancam.errors import RamancamWarning

    with pytest.warns(RamancamWarning, match=r"line 5: 1 spectrum with no value at all"):
        assert main(["predict", str(model_file), str(tmp_path / "n.csv"), "--out",
                     str(tmp_path / "n_pred.csv")]) == 0
    out = capsys.readouterr().out
    # a model without a recipe (--recipe none) refuses it too: nothing to classify
    assert "not predicted: 1 spectrum the model's recipe refuses (3;" in out
    assert "First reason: must vary over the model's grid; got one value or a straight" in out
    rows = _rows(tmp_path / "n_pred.csv")
    assert len(rows) == len(s) and rows[3]["predicted"] == "unknown"


def test_info_counts_held_out_scores_a_file_keeps_without_their_count(model_file, capsys,
                                                                      tmp_path):
    # files of 77fd0bb (2026-12-05 17:19-17:40) keep the held-out scores (novelty_p works)
    # but not their count in the JSON: info said "no held-out scores kept"
    assert main(["info", str(model_file)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.startswith("  novelty:"))
    n = load(model_file).held_out.size
    assert f"; {n} held-out scores kept (novelty_p;" in line
    older = rewrite_model(model_file, tmp_path / "old.ramancam",
                          info=lambda d: d["novelty"].pop("held_out"))
    assert main(["info", str(older)]) == 0
    assert line in capsys.readouterr().out.splitlines()
    assert main(["info", str(older), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["novelty"]["held_out"] == n


def test_info_describes_a_model_file(model_file, capsys, tmp_path):
    capsys.readouterr()
    assert main(["info", str(model_file)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == str(model_file)
    assert "  classes:   3: peak_100 (4), peak_1000 (4), peak_500 (4)" in lines
    assert any(ln.startswith("  grid:      ") and "(1024 points)" in ln for ln in lines)
    acc = next(ln for ln in lines if ln.startswith("  accuracy:  2-fold CV: CNN "))
    assert "winner" not in acc  # trained with --no-compare: no other model to win against
    # the confusion matrix of the out-of-fold predictions: every tested spectrum once
    k = lines.index("  confusion: CNN, out-of-fold (rows: true class, columns: predicted)")
    rows = [ln.split()[1:] for ln in lines[k + 2:k + 5]]
    assert sum(int(v) for r in rows for v in r) == 12
    assert any(ln.startswith("  calibration: expected calibration error") for ln in lines)
    assert any(ln.startswith("  prediction sets: 95% sets hold the true class for ")
               for ln in lines)
    assert main(["info", str(model_file), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["classes"] == ["peak_100", "peak_1000", "peak_500"]
    assert np.sum(d["cv"]["confusion"]) == 12 and d["grid"]["n_points"] == 1024
    fake = tmp_path / "fake.ramancam"  # a pickle under the model suffix is refused
    fake.write_bytes(b"\x80\x04not a model")
    assert main(["info", str(fake)]) == 2
    assert "refused: loading a pickle can run code" in capsys.readouterr().err
    assert main(["info", str(model_file), "--label-col", "label"]) == 2
    assert "apply to spectra; got the model file" in capsys.readouterr().err
    # settings only described by info, altered to another type: one line, no traceback
    edits = [(lambda d: d["training_data"].update(left_out="x"), ("training_data", "left_out"),
              "x"),
             (lambda d: d["cv"].update(baseline_summary={"SVM": 5}), ("cv", "baseline_summary"),
              {"SVM": 5}),
             (lambda d: d["training_data"].update(axis_range=["a", "b"]),
              ("training_data", "axis_range"), ["a", "b"])]
    for i, (edit, (section, key), value) in enumerate(edits):
        bad = rewrite_model(model_file, tmp_path / f"bad{i}.ramancam", info=edit)
        assert main(["info", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {bad}: its ramancam.json must hold the settings "
                              "ramancam wrote; got one it cannot describe (")
        assert err.endswith("The file is damaged or was altered.") and "\n" not in err
        # --json formats nothing: it passes such values through as they are
        assert main(["info", str(bad), "--json"]) == 0
        got = capsys.readouterr()
        assert got.err == ""
        d = json.loads(got.out)
        assert d[section][key] == value
        assert d["classes"] == ["peak_100", "peak_1000", "peak_500"]


def test_train_report_is_one_escaped_html_file(tmp_path, capsys, monkeypatch):
    from ramancam.report import Figure

    titles: list[str] = []  # the panel titles of the report's figures
    suptitles: list[str] = []
    drawn = Figure.from_matplotlib.__func__  # type: ignore[attr-defined]

    def keep(cls, fig, *args, **kwargs):
        titles.extend(ax.get_title() for ax in fig.axes if ax.get_title())
        suptitles.append(fig.get_suptitle())
        return drawn(cls, fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "from_matplotlib", classmethod(keep))
    rng = np.random.default_rng(5)
    axis = np.arange(400.0, 700.0, 2.0)
    long_name = "third sample" + " of a very long name" * 7  # 152 characters
    names = ["<i>A&B</i>", "plain", long_name]
    X, y = [], []
    for k, name in enumerate(names):
        for _ in range(6):
            X.append(np.exp(-0.5 * ((axis - 450 - 80 * k) / 6) ** 2) + 0.02 * rng.random(axis.size)
                     + 0.1)
            y.append(name)
    data = tmp_path / "odd.csv"
    write_table(Spectra(np.array(X), axis, labels=np.array(y)), data)
    out, html = tmp_path / "m.ramancam", tmp_path / "report.html"
    import matplotlib

    matplotlib.use("svg")  # a user's backend (a notebook's inline one) stays theirs
    try:
        assert main(["train", str(data), "--label-col", "label", *FAST, "--folds", "2",
                     "--out", str(out), "--report", str(html)]) == 0
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use("Agg")
    assert f"wrote the report {html}" in capsys.readouterr().out
    text = html.read_text()
    for title in ("Cross-validated accuracy", "Confusion matrix (CNN, out-of-fold)",
                  "What the final model looks at", "Calibration and unknown spectra",
                  "Training spectra to check"):
        assert f">{title}<" in text
    assert re.search(r"Out of fold, the CNN put \d+ of the 18 tested spectra", text)
    assert "colours are shares of the true class (row)" in text  # of the matrix drawn
    # "What the final model looks at" says in the PNG what its colours and axes mean (only
    # the page's caption did)
    assert ("black: mean preprocessed training spectrum; fill: mean FC-importance map for "
            "the panel's class\nred: raises the class's score, blue: lowers it; each panel's "
            "right axis is scaled to its own largest |value|") in suptitles
    # the spectra above the threshold are counted on the leave-one-out scores it was chosen
    # from (so at most its 5 %), not on the fold models' out-of-fold ones
    above = re.search(r"and (\d+) scored above the novelty threshold \(left out of the "
                      r"others\)", text)
    from ramancam.bundle import load

    if np.isfinite(load(out).threshold):
        assert above is not None and int(above.group(1)) <= 1
    else:  # too few held-out scores for a threshold: none to be above (it said "0 scored")
        assert above is None
    assert "Leave-one-out novelty scores of the training spectra" in text
    # the reliability caption names the curves drawn: one where scaling did not help
    kept = load(out).temperature == 1.0
    assert ("at temperature 1 (scaling did not help: kept)" in text) == kept
    assert ("before and after temperature scaling" in text) == (not kept)
    assert "&lt;i&gt;A&amp;B&lt;/i&gt;" in text and "<i>A&B</i>" not in text
    # the recipe in words, as info shows it (the table showed Recipe([...]) and None)
    assert "<td>recipe</td><td>none (spectra are used as given)</td>" in text
    assert "<script" not in text.lower() and text.count("data:image/png;base64,") == 5
    # the class-maps panels' titles shortened as every figure's (the 153-character name ran
    # over its neighbour's title and off the figure)
    from ramancam._labels import NAME_LIMIT

    cut = [t for t in titles if t.startswith("third sample")]
    assert cut and all("\u2026" in t and len(t) <= NAME_LIMIT for t in cut)
    assert main(["train", str(data), "--label-col", "label", *FAST, "--out", str(out),
                 "--report", str(tmp_path / "missing" / "r.html")]) == 2
    assert "--report must be in an existing folder" in capsys.readouterr().err
    # without novelty scores it spoke of spectra above a threshold that does not exist
    assert main(["train", str(data), "--label-col", "label", *FAST, "--folds", "2",
                 "--novelty", "none", "--out", str(out), "--report", str(html)]) == 0
    text = html.read_text()
    assert re.search(r"the CNN put \d+ of the 18 tested spectra in another class than their "
                     r"label\. A spectrum", text) and "novelty threshold" not in text


def _split_report(peaks_file, tmp_path, test):
    """The HTML report of train on ``peaks_file`` split by the mask ``test`` (model
    ``tmp_path/m.ramancam``)."""
    s = read_table(peaks_file, label_col="label")
    split = np.where(test, "test", "train")
    data = tmp_path / "split.csv"
    write_table(s.replace(meta={**s.meta, "split": split}), data, label_col="label")
    html = tmp_path / "r.html"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--split-col", "split",
                 "--no-compare", "--out", str(tmp_path / "m.ramancam"),
                 "--report", str(html)]) == 0
    return html.read_text()


def test_fixed_split_report_speaks_of_its_test_part(peaks_file, tmp_path, capsys):
    # it titled the test part "Cross-validated accuracy" and "out-of-fold"
    s = read_table(peaks_file, label_col="label")
    split = np.where(np.arange(len(s)) % 3 == 0, "test", "train")
    text = _split_report(peaks_file, tmp_path, split == "test")
    for title in ("Test accuracy (fixed split)", "Confusion matrix (CNN, on the test part)"):
        assert f">{title}<" in text
    assert f"The {int((split == 'test').sum())} spectra of the test part" in text
    assert "tested in test part" in text and ">Test spectra to check<" in text
    # its data row counts the two parts (it said "(N in the CV)")
    n_test = int((split == "test").sum())
    assert (f"{len(s) - n_test} for the final model, {n_test} in the test part" in text
            and "in the CV" not in text)
    assert not re.search(r"out-of-fold|out of fold|Cross-validated|\(CV\)", text,
                         re.IGNORECASE)
    # and info says the same of the confusion matrix it prints
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m.ramancam")]) == 0
    out = capsys.readouterr().out
    assert "  confusion: CNN, on the test part (rows: true class" in out
    assert "out-of-fold" not in out
    # and the calibration lines train printed, the test part's numbers with them
    assert re.search(r"^  unknown: threshold .*; test spectra flagged \d", out, re.MULTILINE)


def test_group_folds_say_rare_classes_in_our_words(peaks_file, tmp_path, capsys):
    # scikit-learn's UserWarning, with its file path, twice (the splits are made twice);
    # more folds than any class has spectra: scikit-learn's own error, without a fix
    s = read_table(peaks_file, label_col="label")
    vial = np.array([f"v{i % 6}" for i in range(len(s))])
    keep = np.flatnonzero((s.labels != "peak_500") | (np.arange(len(s)) % 2 == 0))
    write_table(s[keep].replace(meta={"vial": vial[keep]}), tmp_path / "g.csv",
                label_col="label")
    capsys.readouterr()
    assert main(["train", str(tmp_path / "g.csv"), "--label-col", "label", *FAST,
                 "--group-col", "vial", "--folds", "3", "--no-compare", "--out",
                 str(tmp_path / "m")]) == 0
    out, err = capsys.readouterr()
    assert "least populated" not in err + out and "Warning" not in err
    assert "note: 1 of 3 classes has fewer than 3 spectra (peak_500 (2))" in out
    assert main(["train", str(tmp_path / "g.csv"), "--label-col", "label", *FAST,
                 "--group-col", "vial", "--folds", "5", "--no-compare", "--out",
                 str(tmp_path / "m5")]) == 2
    assert ("at least one class must have 5 spectra for 5-fold cross validation; the largest "
            "has 4. Use 4 folds or fewer (--folds)") in capsys.readouterr().err


def test_bad_recipe_files_and_tiny_grids_are_refused_naming_the_option(peaks_file, tmp_path,
                                                                       capsys):
    (tmp_path / "bad.json").write_text('{"steps": [')
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe{}")
    for name, message in [("bad.json", f"--recipe {tmp_path / 'bad.json'}: recipe must be "
                                       "JSON; got an error at line 1"),
                          ("bin.json", f"--recipe {tmp_path / 'bin.json'} must be a recipe "
                                       "JSON file (UTF-8 text)")]:
        assert main(["train", str(peaks_file), "--label-col", "label", "--recipe",
                     str(tmp_path / name), "--out", str(tmp_path / "m")]) == 2
        assert message in capsys.readouterr().err
    # a STEP as large as the range: it blamed a spectrum or the network's pooling blocks
    for grid in ("400:1000:5000", "500:1000:300"):
        assert main(["train", str(peaks_file), "--label-col", "label", "--grid", grid,
                     "--out", str(tmp_path / "m")]) == 2
        err = capsys.readouterr().err
        assert f"--grid must hold at least 16 points; got '{grid}'" in err
        assert "e.g. " in err and not (tmp_path / "m").exists()


def test_labels_that_read_as_missing_values_are_named(peaks_file, tmp_path, capsys):
    # R's write.csv and Excel write NA / #N/A for a missing label: silently a class
    s = read_table(peaks_file, label_col="label")
    labels = s.labels.astype(object)
    labels[:3] = "NA"
    write_table(Spectra(s.X, s.wavenumbers, labels=labels), tmp_path / "na.csv")
    capsys.readouterr()
    assert main(["train", str(tmp_path / "na.csv"), "--label-col", "label", *FAST, "--folds",
                 "2", "--no-compare", "--out", str(tmp_path / "m")]) == 0
    assert ("note: label 'NA' (3) reads as a missing value (R, spreadsheets and pandas write "
            "it so) but counts as a class here; if it means 'no label', empty those cells "
            "(empty labels are left out).") in capsys.readouterr().out
    from ramancam.cli._notes import missing_label_note

    assert missing_label_note(np.array(["a", "b"])) is None
    assert missing_label_note(np.array(["#N/A", "nan", "a"])).startswith(
        "note: labels '#N/A' (1), 'nan' (1) read as a missing value")


def test_split_values_in_another_case_are_named(peaks_file, tmp_path, capsys):
    s = read_table(peaks_file, label_col="label")
    split = np.where(np.arange(len(s)) % 3 == 0, "test", "train").astype(object)
    split[[1, 2]] = ["Train", "TRAIN"]
    write_table(s.replace(meta={**s.meta, "split": split}), tmp_path / "s.csv",
                label_col="label")
    assert main(["train", str(tmp_path / "s.csv"), "--label-col", "label", *FAST,
                 "--split-col", "split", "--no-compare", "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert ("note: 2 spectra in split column 'split' read 'TRAIN', 'Train', not 'train': they "
            "count as test. If they are training spectra, fix the column or give "
            "--train-value.") in out
    assert re.search(r"^1\s+6\s+6\s", out, re.MULTILINE)  # 4 test + the 2 near misses


def test_explain_report_lists_the_bands_of_each_map(model_file, peaks_file, tmp_path, capsys):
    html = tmp_path / "why.html"
    assert main(["explain", str(model_file), str(peaks_file), "--label-col", "label",
                 "--out", str(tmp_path / "maps.csv"), "--report", str(html),
                 "--max-plots", "3"]) == 0
    assert f"wrote a report of 3 maps to {html}" in capsys.readouterr().out
    text = html.read_text()
    assert text.count("Supporting bands (channel): ") == 3 and text.count("data:image/png") == 3
    # the summary counts every spectrum explained, not only those drawn
    assert re.search(r"spectra explained</td><td[^>]*>12</td>", text)
    assert "The grey dashed line is the explained class&#x27;s mean training spectrum" in text
    # each spectrum's library-search answer, from the model file
    first3 = load(model_file).library_match(read_table(peaks_file)[:3])
    found = re.findall(r"library search \(most similar training spectrum\): (\w+)[.;]", text)
    assert found == first3.tolist()
    # and its novelty p-value, the one predict writes
    b = load(model_file)
    _, score, _ = b.predict_novelty(read_table(peaks_file)[:3])
    shown = re.findall(r"\(p = ([0-9.e-]+): the share of held-out known spectra", text)
    np.testing.assert_allclose([float(v) for v in shown], b.novelty_p(score), rtol=2e-3)
    # and its prediction set, the one predict writes (most probable class first)
    proba = b.predict_proba(read_table(peaks_file)[:3])
    sets = b.prediction_sets(proba)
    assert sets is not None
    want = [" | ".join(b.classes[j] for j in np.argsort(-pr, kind="stable") if row[j])
            for pr, row in zip(proba, sets, strict=True)]
    assert re.findall(r"; 95% prediction set: ([\w |]+?)(?: \(several|\.)", text) == want
    # a model file saved before the reference spectra were kept: said, not drawn
    old = without_references(model_file, tmp_path / "old.ramancam")
    assert main(["explain", str(old), str(peaks_file), "--report", str(html),
                 "--max-plots", "1"]) == 0
    text = html.read_text()
    assert "holds no class reference spectra" in text and "grey dashed" not in text
    assert main(["explain", str(model_file), str(peaks_file), "--report",
                 str(tmp_path / "why.txt")]) == 2
    assert "--report must end in .html" in capsys.readouterr().err


def test_info_plot_of_a_model_draws_its_class_means(model_file, tmp_path, capsys,
                                                    monkeypatch):
    import ramancam.plot

    drawn = {}
    real = ramancam.plot.class_stack

    def spy(names, lines, **kw):
        drawn.update(names=list(names), lines=lines, bands=kw["bands"])
        return real(names, lines, **kw)

    monkeypatch.setattr(ramancam.plot, "class_stack", spy)
    fig = tmp_path / "means.svg"
    assert main(["info", str(model_file), "--plot", str(fig), "--json"]) == 0
    out, err = capsys.readouterr()
    b = load(model_file)
    assert json.loads(out)["classes"] == b.classes  # the JSON stays parseable
    assert f"wrote a figure of {len(b.classes)} classes to {fig}" in err
    assert fig.read_text().lstrip().startswith("<?xml")
    assert drawn["names"] == b.classes
    for c, [(axis, mean)], (_, lo, hi) in zip(b.classes, drawn["lines"], drawn["bands"],
                                              strict=True):
        ref_mean, ref_sd = b.class_reference(c)
        np.testing.assert_array_equal(axis, b.grid)
        np.testing.assert_array_equal(mean, ref_mean)
        np.testing.assert_allclose(hi - lo, 2 * ref_sd)
    old = without_references(model_file, tmp_path / "old.ramancam")
    assert main(["info", str(old), "--plot", str(tmp_path / "x.png")]) == 2
    assert "--plot needs the class mean spectra" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_info_numbers_the_columns_of_a_wide_confusion_matrix():
    """Short names head their columns; long ones (minerals) would make a 200-character
    matrix, so the columns get the rows' numbers."""
    from ramancam.cli.info import _confusion_lines

    short = _confusion_lines([[3, 1], [0, 4]], ["lag", "log"])
    assert short[0].split() == ["lag", "log"] and short[1].split() == ["lag", "3", "1"]
    names = [f"Mineral-{k}-(Ce)" for k in range(12)]
    cm = np.eye(12, dtype=int) * 5
    cm[6, 4] = 1
    lines = _confusion_lines(cm.tolist(), names)
    assert max(len(ln) for ln in lines) <= 100
    assert lines[0].split() == [str(k) for k in range(1, 13)]
    assert lines[7].split() == ["7", "Mineral-6-(Ce)", *map(str, cm[6])]


def test_many_classes_report_and_info_list_confusions_instead_of_a_matrix(tmp_path, capsys):
    rng = np.random.default_rng(2)
    axis = np.arange(400.0, 800.0, 4.0)
    names = [f"m{k:02d}" for k in range(35)]
    X = [np.exp(-0.5 * ((axis - 410 - 11 * k) / 4) ** 2) + 0.1 + 0.02 * rng.random(axis.size)
         for k in range(35) for _ in range(3)]
    data = tmp_path / "lib.csv"
    write_table(Spectra(np.array(X), axis, labels=np.repeat(names, 3)), data)
    out, html = tmp_path / "lib.ramancam", tmp_path / "lib.html"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--folds", "3",
                 "--no-compare", "--out", str(out), "--report", str(html)]) == 0
    text = html.read_text()
    assert "35 classes are too many to draw as a matrix" in text
    assert "colours are shares" not in text  # no matrix, no colours to explain
    assert text.count("data:image/png") == 4  # accuracy, class maps, reliability, novelty
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "  confusion: 35 classes, too many to print; most frequent" in shown
    assert "rows: true class" not in shown


def test_predict_counts_the_most_frequent_classes_first():
    from collections import Counter

    from ramancam.cli.predict import predicted_line

    counts = Counter({f"m{k:02d}": 40 - k for k in range(35)} | {"unknown": 3, "m34": 6})
    assert predicted_line(counts) == (
        "predicted: m00 (40), m01 (39), m02 (38), m03 (37), m04 (36), m05 (35), m06 (34), "
        "m07 (33), m08 (32), m09 (31) and 26 more classes")
    assert predicted_line(Counter({"b": 2, "a": 2, "unknown": 5})) == (
        "predicted: unknown (5), a (2), b (2)")
    eleven = Counter({f"m{k:02d}": 20 - k for k in range(11)})
    assert predicted_line(eleven).endswith("m09 (11) and 1 more class")


def test_predict_summary_escapes_a_line_break_in_a_class_name(tmp_path, capsys, rng):
    # a class named "line\nbreak" split the predicted: and errors: lines in two (the note
    # of unknown labels showed it escaped, as a list)
    import torch

    from ramancam.bundle import save, training_summary
    from ramancam.io import write_table
    from ramancam.model import CNNConfig, RamanCNN

    torch.manual_seed(0)
    names = ["line\nbreak", "car\rriage"]
    model = RamanCNN(CNNConfig(n_points=40, n_classes=2, n_filters=4, filter_size=5,
                               fc_width=6)).eval()
    grid = np.arange(40) * 2.0 + 500.0
    data = Spectra(rng.random((6, 40)), grid, labels=names * 3)
    save(tmp_path / "m.ramancam", estimator=model, recipe=None, grid=grid, classes=names,
         training_summary=training_summary(data))
    write_table(data, tmp_path / "d.csv")
    assert main(["predict", str(tmp_path / "m.ramancam"), str(tmp_path / "d.csv"),
                 "--label-col", "label", "--out", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    assert "line\nbreak" not in out and "car\rriage" not in out
    predicted = next(line for line in out.splitlines() if line.startswith("predicted: "))
    assert "line\\nbreak (" in predicted or "car\\rriage (" in predicted
    errors = next(line for line in out.splitlines() if line.startswith("errors: "))
    assert "line\\nbreak -> car\\rriage" in errors or "car\\rriage -> line\\nbreak" in errors
    # and info, of the model and of the data: its classes line in one line
    for path in (tmp_path / "m.ramancam", tmp_path / "d.csv"):
        assert main(["info", str(path), *([] if path.suffix == ".ramancam"
                                          else ["--label-col", "label"])]) == 0
        text = capsys.readouterr().out
        classes = next(line for line in text.splitlines() if line.startswith("  classes:"))
        assert "line\\nbreak" in classes and "car\\rriage" in classes
        assert "line\nbreak" not in text and "car\rriage" not in text


def test_accuracy_table_rows_are_what_train_prints(model_file):
    cv = load(model_file).info["cv"]
    from ramancam.cli.train import format_cv
    from ramancam.train import CVResult

    res = CVResult(classes=cv["classes"], fold_accuracy=cv["fold_accuracy"],
                   confusion=np.asarray(cv["confusion"]), oof_pred=np.array([""]),
                   oof_proba=np.zeros((1, 1)), fold_of=np.zeros(1, int),
                   labels=np.array([""]), baselines={"PLS-DA": [0.5, 1.0]},
                   fold_sizes=[tuple(s) for s in cv["fold_sizes"]])
    columns, rows = res.table_rows()
    assert columns == ["fold", "train", "test", "CNN", "PLS-DA"]
    assert rows[-1] == ["mean +- sd", "", "", f"{res.mean:.3f}+-{res.std:.3f}", "0.750+-0.354"]
    text = format_cv(res).splitlines()
    assert len(text) == len(rows) + 1 and text[-1].split() == ["mean", "+-", "sd",
                                                               *rows[-1][3:]]
    assert text[1].split()[:3] == [str(v) for v in rows[0][:3]]


def test_predict_and_explain_show_progress_over_their_chunks(model_file, peaks_file, tmp_path,
                                                             capsys, monkeypatch):
    import ramancam.cli.explain as explain_cli
    import ramancam.cli.predict as predict_cli

    # one chunk: silent
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "a.csv")]) == 0
    assert "spectra (" not in capsys.readouterr().err
    monkeypatch.setattr(predict_cli, "CHUNK", 5)
    monkeypatch.setattr(explain_cli, "CHUNK", 5)
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "b.csv")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^  12/12 spectra \(\d+ s\)$", err, re.M), err
    # the same rows, whatever the chunk size (the numbers to rounding: a batch's size may
    # change the order of BLAS sums, ~1e-11 on some CPUs)
    a, b = _rows(tmp_path / "a.csv"), _rows(tmp_path / "b.csv")
    assert len(a) == len(b) == 12
    for ra, rb in zip(a, b, strict=True):
        assert ra.keys() == rb.keys()
        for k, v in ra.items():
            if k.startswith("p_") or k in ("novelty", "novelty_p"):
                assert float(v) == pytest.approx(float(rb[k]), rel=1e-9, abs=1e-12), k
            else:
                assert v == rb[k], k
    assert main(["explain", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "m.csv")]) == 0
    assert re.search(r"^  12/12 spectra \(\d+ s\)$", capsys.readouterr().err, re.M)


def test_the_clipped_note_gives_one_number_for_one_length():
    # one clipped spectrum read "held at 1 over 609-609 points"
    from ramancam.checks import Clipped
    from ramancam.cli._common import clipped_line

    one = clipped_line([Clipped(0, 1.0, 609, 400.0, 1800.0)], ["flat1"], "inside the grid",
                       "advice")
    assert one == ("note: 1 spectrum clipped inside the grid (held at 1 over 609 points: "
                   "flat1): a saturated detector; advice")
    two = clipped_line([Clipped(0, 1.0, 3, 400.0, 404.0), Clipped(1, 1.0, 4, 500.0, 506.0)],
                       ["a", "b"], "inside the grid", "advice")
    assert "(held at 1 over 3-4 points: a, b)" in two
    from ramancam.cli._common import span  # info's clipped line too

    assert span(110.06, 110.14, ".1f") == "110.1" and span(2, 6) == "2-6"


def test_predict_notes_spectra_clipped_inside_the_models_range(model_file, peaks_file,
                                                               tmp_path, capsys):
    s = read_table(peaks_file, label_col="label")
    X = s.X.copy()
    X[2, 40:44] = 65535.0                    # saturated inside the model's grid
    X[5, 10:13] = X[5].max() + 1.0           # held 3 points in a row at its own maximum
    write_table(Spectra(X, s.wavenumbers, labels=s.labels), tmp_path / "c.csv")
    assert main(["predict", str(model_file), str(tmp_path / "c.csv"), "--label-col", "label",
                 "--out", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    assert ("note: 2 spectra clipped inside the model's range (held at ") in out
    assert "over 3-4 points: 2, 5): a saturated detector" in out
    # clean spectra: no note
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "q.csv")]) == 0
    assert "clipped" not in capsys.readouterr().out
    # a value no detector counts (a misread file) is named too
    X2 = s.X.copy()
    X2[4, 30] = 3.4e38
    write_table(Spectra(X2, s.wavenumbers, labels=s.labels), tmp_path / "big.csv")
    assert main(["predict", str(model_file), str(tmp_path / "big.csv"), "--out",
                 str(tmp_path / "b.csv")]) == 0
    out = capsys.readouterr().out
    assert ("note: 1 spectrum holds values no detector counts (beyond +-1e+15: 3.4e+38 at "
            ) in out and "check the files before trusting these predictions" in out
    assert main(["train", str(tmp_path / "big.csv"), "--label-col", "label", *FAST, "--folds",
                 "2", "--no-compare", "--out", str(tmp_path / "big.ramancam")]) == 0
    out = capsys.readouterr().out
    assert "note: 1 spectrum holds values no detector counts" in out
    assert out.index("no detector counts") < out.index("mean +- sd")
    # train says so too, before its table
    assert main(["train", str(tmp_path / "c.csv"), "--label-col", "label", *FAST, "--folds",
                 "2", "--no-compare", "--out", str(tmp_path / "c.ramancam")]) == 0
    out = capsys.readouterr().out
    assert ("note: 2 spectra clipped inside the grid (held at ") in out
    assert "points: 2, 5): a saturated detector; a classifier can learn the artefact" in out
    assert out.index("clipped") < out.index("mean +- sd")
    assert "leave them out (--drop-clipped)" in out
    # --drop-clipped leaves them out, says so, and the model records it
    assert main(["train", str(tmp_path / "c.csv"), "--label-col", "label", *FAST, "--folds",
                 "2", "--no-compare", "--drop-clipped", "--out", str(tmp_path / "d.ramancam")]
                ) == 0
    out = capsys.readouterr().out
    assert ("note: 2 spectra clipped inside the grid (held at ") in out
    assert "points: 2, 5): a saturated detector; left out (--drop-clipped)" in out
    assert "10 spectra, 3 classes" in out and "can learn" not in out
    assert load(tmp_path / "d.ramancam").info["settings"]["drop_clipped"] is True
    assert load(tmp_path / "c.ramancam").info["settings"]["drop_clipped"] is False
    # nothing clipped: said, all kept; the baseline command takes it too
    assert main(["baseline", str(peaks_file), "--model", "library", "--label-col", "label",
                 "--recipe", "none", "--folds", "2", "--drop-clipped"]) == 0
    assert "--drop-clipped: no spectrum is clipped inside the grid; all kept" in (
        capsys.readouterr().out)
    assert main(["baseline", str(tmp_path / "c.csv"), "--model", "library", "--label-col",
                 "label", "--recipe", "none", "--folds", "2"]) == 0
    assert "note: 2 spectra clipped inside the grid" in capsys.readouterr().out


def test_predict_says_when_the_bands_sit_off_the_training_spectra(model_file, peaks_file,
                                                                  tmp_path, capsys):
    """Every band 3 points (3 cm-1) higher, as a spectrometer calibrated differently
    would give them: predict says so in one line; the spectra as trained on give none."""
    s = read_table(peaks_file, label_col="label")
    write_table(Spectra(np.roll(s.X, 3, axis=1), s.wavenumbers, labels=s.labels),
                tmp_path / "shifted.csv")
    assert main(["predict", str(model_file), str(tmp_path / "shifted.csv"), "--out",
                 str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("axis: "))
    m = re.match(r"axis: the bands sit (\d+\.\d) cm-1 higher than in the model's training "
                 r"spectra \(median of 12 spectra, .*\); check the Raman-shift calibration",
                 line)
    assert m and abs(float(m.group(1)) - 3.0) <= 0.2, line
    # the same numbers in Python, from the saved model
    from ramancam.checks import shift_note

    shifts = load(model_file).band_shift(read_table(tmp_path / "shifted.csv"))
    assert shifts is not None and shifts.shape == (12,)
    # a model without a resampling recipe cannot take --axis-offset: the line does not offer it
    assert line == shift_note(shifts, offset_fix=False) and "--axis-offset" not in line
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "q.csv")]) == 0
    assert "axis:" not in capsys.readouterr().out
    assert main(["predict", str(model_file), str(tmp_path / "shifted.csv"), "--axis-offset",
                 "-3", "--out", str(tmp_path / "r.csv")]) == 2
    assert "(--axis-offset moves the axis off it: a model saved without a resampling recipe " \
           "cannot take it)" in capsys.readouterr().err


def test_axis_offset_moves_the_bands_back_where_the_model_has_them(peaks_file, tmp_path,
                                                                    capsys):
    """Spectra measured on an axis 3 cm-1 high: predict names the fix, --axis-offset -3
    gives exactly the predictions of the spectra as trained on, and train records it."""
    s = read_table(peaks_file, label_col="label")
    write_table(Spectra(s.X, s.wavenumbers + 3.0, labels=s.labels), tmp_path / "high.csv")
    model = tmp_path / "r.ramancam"
    fast = [a for a in FAST if a not in ("--recipe", "none")]
    assert main(["train", str(peaks_file), "--label-col", "label", *fast, "--recipe", "paper",
                 "--grid", "20:1000:1", "--folds", "2", "--no-compare", "--out",
                 str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "high.csv"), "--out",
                 str(tmp_path / "a.csv")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("axis: "))
    assert "sit 3.0 cm-1 higher" in line and "correct it with --axis-offset -3.0, or train" in line
    assert main(["predict", str(model), str(tmp_path / "high.csv"), "--axis-offset", "-3",
                 "--out", str(tmp_path / "b.csv")]) == 0
    assert "axis:" not in capsys.readouterr().out
    # explain says the same (its maps would show the bands where they are measured)
    assert main(["explain", str(model), str(tmp_path / "high.csv"), "--method", "fc",
                 "--out", str(tmp_path / "m.csv")]) == 0
    assert line in capsys.readouterr().out.splitlines()
    assert main(["explain", str(model), str(tmp_path / "high.csv"), "--method", "fc",
                 "--axis-offset", "-3", "--out", str(tmp_path / "n.csv")]) == 0
    assert "axis:" not in capsys.readouterr().out
    assert main(["predict", str(model), str(peaks_file), "--out", str(tmp_path / "c.csv")]) == 0
    fixed, plain = _rows(tmp_path / "b.csv"), _rows(tmp_path / "c.csv")
    for a, b in zip(fixed, plain, strict=True):
        assert a["predicted"] == b["predicted"]
        for k in a:
            if k.startswith("p_"):
                assert abs(float(a[k]) - float(b[k])) < 1e-9
    # train with the option: recorded in the model's settings
    assert main(["train", str(tmp_path / "high.csv"), "--label-col", "label", *fast,
                 "--recipe", "paper", "--grid", "20:1000:1", "--folds", "2", "--no-compare",
                 "--axis-offset", "-3", "--out", str(tmp_path / "h.ramancam")]) == 0
    assert load(tmp_path / "h.ramancam").info["settings"]["axis_offset"] == -3.0
    assert load(model).info["settings"]["axis_offset"] is None
    capsys.readouterr()
    assert main(["info", str(tmp_path / "h.ramancam")]) == 0
    assert ("  read with: --axis-offset -3 (give the same to predict spectra of that "
            "instrument)") in capsys.readouterr().out
    assert main(["info", str(model)]) == 0
    assert "read with:" not in capsys.readouterr().out


def test_train_notes_a_group_measured_off_axis(tmp_path, capsys):
    """One batch of three measured with its axis 4 cm-1 high: train (and baseline) name it
    before the table; without the shift, no note."""
    rng = np.random.default_rng(8)
    w = np.arange(400.0, 800.0, 1.0)

    def spectrum(centres, off):
        return sum(1.0 / (1.0 + ((w - c - off) / 5.0) ** 2) for c in centres) + rng.normal(
            0, 0.01, w.size)

    rows, labels, batch = [], [], []
    for b, off in (("b1", 0.0), ("b2", 0.0), ("b3", 4.0)):
        for cls, centres in (("x", (500.0, 620.0)), ("z", (560.0, 700.0))):
            for _ in range(5):
                rows.append(spectrum(centres, off))
                labels.append(cls)
                batch.append(b)
    write_table(Spectra(np.array(rows), w, labels=labels, meta={"batch": batch}),
                tmp_path / "t.csv")
    args = ["train", str(tmp_path / "t.csv"), "--label-col", "label", "--group-col", "batch",
            *FAST, "--folds", "3", "--no-compare", "--out", str(tmp_path / "m.ramancam")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("note: the bands of 1 of 3 groups (batch) sit 1.5 cm-1 or more off the other "
            "groups' spectra of their class (cm-1: b3 +") in out
    assert out.index("groups (batch)") < out.index("mean +- sd")
    assert main(["baseline", str(tmp_path / "t.csv"), "--label-col", "label", "--group-col",
                 "batch", "--recipe", "none", "--folds", "3", "--model", "library"]) == 0
    assert "groups (batch) sit 1.5 cm-1" in capsys.readouterr().out
    rows = [r if b != "b3" else np.roll(r, -4) for r, b in zip(rows, batch, strict=True)]
    write_table(Spectra(np.array(rows), w, labels=labels, meta={"batch": batch}),
                tmp_path / "t.csv")
    assert main(args) == 0
    assert "groups (batch)" not in capsys.readouterr().out


def test_training_checks_list_the_confidently_wrong_first_then_the_novel():
    from types import SimpleNamespace

    from ramancam.train_report import training_checks

    cv = SimpleNamespace(
        classes=["a", "b"], labels=np.array(["a", "a", "b", "b", "a"]),
        oof_pred=np.array(["a", "b", "b", "a", "a"]),
        oof_proba=np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.95, 0.05], [0.7, 0.3]]),
        fold_of=np.array([0, 0, 1, 1, -1]),  # the last one trained only: not tested
        oof_novelty=np.array([0.5, 0.1, 0.9, 0.2, 5.0]))
    n_wrong, n_novel, rows = training_checks(cv, ["s0", "s1", "s2", "s3", "s4"], 0.8)
    assert (n_wrong, n_novel) == (2, 1)
    # s3 (p(label) 0.05) before s1 (0.4), then s2 (right but above the threshold)
    assert [r[0] for r in rows] == ["s3", "s1", "s2"]
    assert rows[0][1:4] == ["b", "a", pytest.approx(0.05)]
    assert rows[2][5] == "above the novelty threshold"
    assert training_checks(cv, ["s0", "s1", "s2", "s3", "s4"], 0.8, top=1)[2][0][0] == "s3"
    # the right but novel ones by novelty alone: p(label) ordered them first, so a table of
    # 30 of 249 novel spectra left out the most novel
    cv = SimpleNamespace(
        classes=["a", "b"], labels=np.array(["a", "a", "a"]), oof_pred=np.array(["a"] * 3),
        oof_proba=np.array([[0.97, 0.03], [0.99, 0.01], [0.98, 0.02]]),
        fold_of=np.array([0, 1, 1]), oof_novelty=np.array([0.81, 0.95, 0.90]))
    assert [r[0] for r in training_checks(cv, ["n0", "n1", "n2"], 0.8)[2]] == ["n1", "n2",
                                                                                "n0"]


def test_training_checks_list_every_leave_one_out_score_above_the_threshold():
    """A leave-one-out novelty score needs no fold model: a spectrum without an out-of-fold
    prediction (its fold's own recipe could not use it) is listed when its score is above
    the threshold, its prediction shown as missing (the most anomalous training spectrum,
    30 times the threshold, was drawn in the histogram but not listed)."""
    from types import SimpleNamespace

    from ramancam.train_report import training_checks

    cv = SimpleNamespace(
        classes=["a", "b"], labels=np.array(["a", "a", "b", "b"]),
        oof_pred=np.array(["a", "", "b", "b"]),
        oof_proba=np.array([[0.9, 0.1], [np.nan, np.nan], [0.2, 0.8], [0.3, 0.7]]),
        fold_of=np.array([0, -1, 1, 1]),  # s1: no prediction
        oof_novelty=np.array([0.1, np.nan, 0.2, 0.3]))
    loo = np.array([0.1, 30.0, 0.2, 0.9])
    n_wrong, n_novel, rows = training_checks(cv, ["s0", "s1", "s2", "s3"], 0.8, scores=loo)
    assert (n_wrong, n_novel) == (0, 2)
    assert [r[0] for r in rows] == ["s1", "s3"]
    assert rows[0][2] == "no prediction" and np.isnan(rows[0][3])
    assert rows[0][4:] == [30.0, "above the novelty threshold"]
    assert rows[1][2] == "b"
    # out-of-fold scores: a spectrum without a prediction has none
    assert training_checks(cv, ["s0", "s1", "s2", "s3"], 0.25)[:2] == (0, 1)
    # more rows than the table holds: a third of it for the most novel of the others (38
    # wrong spectra filled the 30 rows, the most novel one left out)
    from ramancam.train_report import _shown_checks

    rows = [[f"w{i}", "", "", 0.1, "", "another class out of fold"] for i in range(38)] + [
        [f"n{i}", "", "", 1.0, 9.0 - i, "above the novelty threshold"] for i in range(4)]
    shown = [r[0] for r in _shown_checks(rows, 38, 30)]
    assert shown == [f"w{i}" for i in range(26)] + ["n0", "n1", "n2", "n3"]
    assert [r[0] for r in _shown_checks(rows[33:], 5, 6)] == ["w33", "w34", "w35", "w36",
                                                            "n0", "n1"]
    assert [r[0] for r in _shown_checks(rows[36:], 2, 3)] == ["w36", "w37", "n0"]
    assert [r[0] for r in _shown_checks(rows[30:], 8, 3)] == ["w30", "w31", "n0"]
    assert _shown_checks(rows[:5], 5, 30) == rows[:5]


def test_no_output_may_overwrite_an_input(peaks_file, model_file, tmp_path, capsys,
                                          monkeypatch):
    """An output naming the data or the model file is refused before any work (it would
    destroy them), as are train's --out into a folder or a missing one, and a report that is
    no .html file; the inputs stay as they were."""
    data = tmp_path / "d.csv"
    data.write_bytes(peaks_file.read_bytes())
    model = tmp_path / "m.ramancam"
    model.write_bytes(model_file.read_bytes())
    before = data.read_bytes(), model.read_bytes()
    (tmp_path / "folder").mkdir()
    train = ["train", str(data), "--label-col", "label", *FAST, "--folds", "2"]
    cases = [
        ([*train, "--out", str(data)], "--out must not name DATA, which is read; got"),
        ([*train, "--out", str(model), "--report", str(data)], "--report must end in .html"),
        ([*train, "--out", str(tmp_path / "r.html"), "--report", str(tmp_path / "r.html")],
         "--report and --out must name different files"),
        ([*train, "--out", str(tmp_path / "folder")], "which is a folder. Name the file"),
        ([*train, "--out", str(tmp_path / "no" / "m.ramancam")],
         "--out must be in an existing folder"),
        (["predict", str(model), str(data), "--out", str(data)], "--out must not name DATA"),
        (["predict", str(model), str(data), "--out", str(model)], "--out must not name MODEL"),
        (["explain", str(model), str(data), "--out",
          str(tmp_path / ".." / tmp_path.name / "d.csv")], "--out must not name DATA"),
        (["convert", str(data), str(data)], "OUT must not name IN, which is read"),
        (["convert", str(tmp_path / "folder"), str(tmp_path / "folder")],
         "OUT must not name IN, which is read"),
        ([*train, "--out", str(model), "--folds", "1"], "--folds must be an integer >= 2"),
        ([*train, "--out", str(model), "--group-col", "label"],
         "--group-col must name another column than the labels; got 'label'"),
        ([*train, "--out", str(model), "--split-col", "label"],
         "--split-col must name another column than the labels"),
        # a quoted ~ (the shell leaves it): the reader expanded it, the check did not
        (["predict", "~/m.ramancam", "~/d.csv", f"--out={data}"], "--out must not name DATA"),
        (["explain", "~/m.ramancam", str(data), "--out", "~/m.ramancam"],
         "--out must not name MODEL"),
        # a file named '-' was written; a model file named 'newdir'
        (["predict", str(model), str(data), "--out", "-"], "got '-', which is not read as"),
        (["explain", str(model), str(data), "--out", "-"], "got '-', which is not read as"),
        ([*train, "--out", str(tmp_path / "newdir") + "/"], "a folder's name. Name the file"),
        (["baseline", str(data), "--label-col", "label", "--model", "library", "--out", "-"],
         "--out must name a folder; got '-'"),
    ]
    monkeypatch.setenv("HOME", str(tmp_path))
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
        assert (data.read_bytes(), model.read_bytes()) == before
    # numpy's "Seed must be between 0 and 2**32 - 1" named no option
    assert main(["baseline", str(data), "--label-col", "label", "--model", "library",
                 "--seed", "-1"]) == 2
    assert ("argument --seed: must be an integer from 0 to 4294967295; got -1"
            in capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()  # (HOME: a cache may go there)
                  if not p.name.startswith(".")) == ["d.csv", "folder", "m.ramancam"]
    # --out=~/res (no shell expands ~ after '=') made a folder named '~' here
    monkeypatch.chdir(tmp_path / "folder")
    assert main(["predict", "~/m.ramancam", "~/d.csv", "--out=~/res/"]) == 0
    assert (tmp_path / "res" / "predictions.csv").is_file()
    assert not (tmp_path / "folder" / "~").exists()


def test_an_interrupted_run_leaves_the_earlier_outputs_as_a_set(peaks_file, tmp_path,
                                                                 monkeypatch, capsys):
    # Ctrl-C while train wrote its report left the new model beside the earlier report;
    # baseline's new table beside the earlier summary; a library run kept a PLS-DA VIP
    import ramancam.train_report as train_report

    model, report = tmp_path / "m.ramancam", tmp_path / "r.html"
    train = ["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
             "--no-compare", "--out", str(model), "--report", str(report)]
    assert main(train) == 0
    before = model.read_bytes(), report.read_bytes()

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_report, "write_train_report", interrupted)
    capsys.readouterr()
    assert main([*train[:-4], "--seed", "5", *train[-4:]]) == 130
    assert (model.read_bytes(), report.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ramancam", "r.html"]
    # and it did not say 'saved' of the model it then kept back
    assert "saved" not in capsys.readouterr().out
    out = tmp_path / "b"
    base = ["baseline", str(peaks_file), "--label-col", "label", "--recipe", "none",
            "--folds", "2", "--out", str(out)]
    assert main([*base, "--model", "plsda", "--components", "1,2"]) == 0
    import ramancam.cli.baseline as cli_baseline

    real = cli_baseline._write_vip
    monkeypatch.setattr(cli_baseline, "_write_vip", interrupted)
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main([*base, "--model", "plsda", "--components", "1,2", "--folds", "3"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier
    monkeypatch.setattr(cli_baseline, "_write_vip", real)
    capsys.readouterr()
    assert main([*base, "--model", "library"]) == 0
    assert "; removed the earlier run's vip.csv and vip.png" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["baseline.json", "predictions.csv"]


def test_saved_and_wrote_are_said_only_of_outputs_put_in_place(peaks_file, tmp_path,
                                                                 monkeypatch, capsys):
    # A Ctrl-C Python swallowed (noted, the run went on) after train saved its model said
    # 'saved m.ramancam' (and 'wrote the report'), then the group of outputs kept both back
    # with status 130; baseline said 'wrote ...; removed the earlier run's vip.csv and
    # vip.png' of files it then left as they were. Each stop of STOPS: no such line
    import ramancam.bundle as bundle
    import ramancam.io._atomic as atomic
    import ramancam.train_report as train_report

    model, report = tmp_path / "m.ramancam", tmp_path / "r.html"
    train = ["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
             "--no-compare", "--out", str(model)]
    out = tmp_path / "b"
    base = ["baseline", str(peaks_file), "--label-col", "label", "--recipe", "none",
            "--folds", "2", "--out", str(out)]
    assert main([*base, "--model", "plsda", "--components", "1,2"]) == 0
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    runs = [(train, bundle, "save"), ([*train, "--report", str(report)], train_report,
                                      "write_train_report"),
            ([*base, "--model", "library"], atomic, "atomic_remove")]
    for argv, module, name in runs:
        for how, code in STOPS:
            with monkeypatch.context() as m:
                stop_after(m, module, name, how)
                capsys.readouterr()
                assert main(argv) == code, (argv, how)
            said = capsys.readouterr().out
            assert "saved" not in said and "wrote" not in said, (argv, how, said)
            assert not model.exists() and not report.exists()
            assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier
    # and said, in their order, by a run that ends well
    assert main([*train, "--report", str(report)]) == 0
    assert capsys.readouterr().out.endswith(f"\nsaved {model}\nwrote the report {report}\n")
    assert main([*base, "--model", "library"]) == 0
    assert capsys.readouterr().out.endswith(
        f"\nwrote predictions.csv, baseline.json to {out}; removed the earlier run's vip.csv "
        "and vip.png\n")


def test_predict_says_when_it_is_given_the_training_spectra(peaks_file, model_file, tmp_path,
                                                             capsys):
    # predict on the training file printed accuracy 0.97 (CV: 0.54), 0 flagged and library
    # matches of every spectrum with itself, as if they were results
    from ramancam.io import read_table, write_table

    capsys.readouterr()
    assert main(["predict", str(model_file), str(peaks_file), "--label-col", "label"]) == 0
    said = capsys.readouterr().err
    n = len(read_table(peaks_file, label_col="label"))
    note = (f"note: {n} of {n} spectra are the same as spectra the model was trained on "
            "(novelty 0: the same after preprocessing, up to intensity scale and a "
            "straight-line background); their accuracy, unknown flags and library matches "
            "are no test of the model.")
    assert note in said
    # a straight line added is no other spectrum to the score: the note said "identical
    # after preprocessing" of spectra whose network inputs differed (an audit: the same
    # spectra exported over a shorter range, 17 of 40 predictions changed)
    lined = read_table(peaks_file, label_col="label")
    slope = np.linspace(0.0, 0.3, lined.X.shape[1])
    write_table(lined.replace(X=lined.X + slope), tmp_path / "lined.csv")
    assert main(["predict", str(model_file), str(tmp_path / "lined.csv"), "--label-col",
                 "label"]) == 0
    assert note in capsys.readouterr().err
    s = read_table(peaks_file, label_col="label")
    rng = np.random.default_rng(0)
    write_table(s.replace(X=s.X + rng.normal(0, 0.01, s.X.shape)), tmp_path / "new.csv")
    assert main(["predict", str(model_file), str(tmp_path / "new.csv")]) == 0
    assert "same as spectra the model was trained on" not in capsys.readouterr().err


@pytest.mark.parametrize("novelty", ["hqi", "hqi-halves"])
def test_predict_counts_every_training_spectrum_with_an_hqi_score(peaks_file, tmp_path,
                                                                   capsys, novelty):
    # the note counted only the scores that were exactly 0: with hqi and hqi-halves (the
    # defaults of 2026-11-28 to 2026-12-06) a training spectrum scored float noise instead
    # (up to 1e-8), and the note said 7 of 12 (a helper's audit)
    from ramancam.io import read_table

    model = tmp_path / "m.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--novelty", novelty, "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(peaks_file), "--label-col", "label"]) == 0
    n = len(read_table(peaks_file, label_col="label"))
    assert (f"note: {n} of {n} spectra are the same as spectra the model was trained on"
            in capsys.readouterr().err)


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_reader_that_leaves_early_does_not_cost_the_output_file(peaks_file, model_file,
                                                                  tmp_path, unbuffered):
    # `ramancam predict MODEL DATA --out F | head -2`: the summary lines found the pipe
    # closed, and the error undid F, which waits for the end of the run to be put in place
    # ('wrote 12 predictions to F' and no F); with stdout buffered (no PYTHONUNBUFFERED),
    # F was written but Python's flush at exit failed ('Exception ignored ... BrokenPipeError',
    # status 120)
    import os
    import subprocess
    import sys

    out = tmp_path / "p.csv"
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    p = subprocess.Popen([sys.executable, "-m", "ramancam", "predict", str(model_file),
                          str(peaks_file), "--label-col", "label", "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the reader is gone before the first line
    err = p.stderr.read().decode()
    assert p.wait() == 141 and err == ""
    assert len(_rows(out)) == len(read_table(peaks_file, label_col="label"))


def test_outputs_into_the_data_are_refused(peaks_file, model_file, tmp_path, capsys):
    # explain --out DATA_FOLDER/maps.csv added 30 'spectra' to every later run on the folder;
    # --out DIR/ beside DIR/predictions.csv as DATA overwrote the input (exit 0)
    folder = tmp_path / "spectra"
    folder.mkdir()
    (folder / "d.csv").write_bytes(peaks_file.read_bytes())
    same = tmp_path / "same"
    same.mkdir()
    for name in ("predictions.csv", "maps.csv"):
        (same / name).write_bytes(peaks_file.read_bytes())
    before = sorted(p.name for p in folder.iterdir()), (same / "maps.csv").read_bytes()
    m = str(model_file)
    cases = [
        (["explain", m, str(folder), "--out", str(folder / "maps.csv")],
         f"--out must not be inside the folder DATA, which is read; got "
         f"{str(folder / 'maps.csv')!r} in {str(folder)!r}. The next run"),
        (["predict", m, str(folder), "--out", f"{folder}/res/"], "must not be inside the folder"),
        # --out DATA/ itself: no input destroyed, outputs read back as spectra
        (["predict", m, str(folder), "--out", f"{folder}/"],
         "--out must not be inside the folder DATA, which is read"),
        # a name without a suffix, which a map makes a folder
        (["predict", m, str(folder), "--out", f"{folder}/results"],
         "--out must not be inside the folder DATA, which is read"),
        (["baseline", str(folder), "--label-col", "label", "--model", "library", "--out",
          str(folder / "b")], "--out must not be inside the folder DATA"),
        (["predict", m, str(same / "predictions.csv"), "--out", f"{same}/"],
         f"--out must not name DATA, which is read; got '{same}/' (it writes predictions.csv)"),
        (["explain", m, str(same / "maps.csv"), "--out", str(same)],
         "--out must not name DATA, which is read; got"),
        (["baseline", str(same / "predictions.csv"), "--label-col", "label", "--model",
          "library", "--out", str(same)], "(it writes predictions.csv)"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
        assert (sorted(p.name for p in folder.iterdir()), (same / "maps.csv").read_bytes()) \
            == before
    # a report or a figure among the spectra is no table: allowed
    assert main(["predict", m, str(folder), "--report", str(folder / "r.html")]) == 0
    assert (folder / "r.html").is_file()


def test_explain_figures_show_predicts_calibrated_verdict(model_file, peaks_file, tmp_path,
                                                           monkeypatch):
    """explain --plot titles each map with the calibrated probability and the verdict that
    predict gives (unknown for a flagged spectrum, with its nearest class), not the
    network's raw softmax."""
    import ramancam.bundle
    import ramancam.cli.explain as cli_explain

    real_load = ramancam.bundle.load

    def load(path):
        b = real_load(path)
        b.temperature, b.threshold = 3.0, -np.inf  # every spectrum flagged
        return b

    shown = []
    monkeypatch.setattr(ramancam.bundle, "load", load)
    monkeypatch.setattr(cli_explain, "_plot", lambda path, grid, items, title: shown.extend(
        items))
    assert main(["explain", str(model_file), str(peaks_file), "--method", "fc", "--plot",
                 str(tmp_path / "m.png"), "--max-plots", "2"]) == 0
    b = load(model_file)
    cal = b.predict_proba(read_table(peaks_file)[:2])
    for k, item in enumerate(shown):
        p, cls = re.search(r"\(p=([0-9.]+)\); predicted unknown \(nearest (\w+)\)",
                           "".join(item[0])).groups()
        assert cls == b.classes[int(cal[k].argmax())]
        assert float(p) == pytest.approx(cal[k].max(), abs=6e-4)
    assert len(shown) == 2


def test_info_describes_a_model_trained_without_novelty_detection(peaks_file, tmp_path, capsys):
    out = tmp_path / "n.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--novelty", "none", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "  calibration: expected calibration error" in text and "unknown: threshold" not in text


def test_fixed_split_with_one_training_spectrum_per_class_saves_an_uncalibrated_model(
        peaks_file, tmp_path, capsys):
    """A library of one reference spectrum per class: nothing is held out to calibrate on,
    so the model is saved with temperature 1 (it stopped after training before)."""
    s = read_table(peaks_file, label_col="label")
    first = {str(c): int(np.flatnonzero(s.labels == c)[0]) for c in s.classes}
    split = np.where(np.isin(np.arange(len(s)), list(first.values())), "train", "test")
    data = tmp_path / "one.csv"
    write_table(s.replace(meta={**s.meta, "split": split}), data, label_col="label")
    out = tmp_path / "one.ramancam"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--split-col", "split",
                 "--train-value", "train", "--out", str(out)]) == 0
    assert ("calibration: none (every class has one training spectrum, so none is held out "
            "to calibrate on") in capsys.readouterr().out
    assert load(out).temperature == 1.0


def test_train_value_without_split_col_is_refused(peaks_file, tmp_path, capsys):
    # it would otherwise be ignored, and a plain k-fold run in its place
    for cmd in ("train", "baseline"):
        argv = [cmd, str(peaks_file), "--label-col", "label", "--train-value", "FW",
                "--out", str(tmp_path / ("m.ramancam" if cmd == "train" else "b")),
                *([] if cmd == "train" else ["--model", "library"])]
        assert main(argv) == 2
        assert ("--train-value must come with --split-col C; got 'FW' alone"
                in capsys.readouterr().err)
    assert not (tmp_path / "m.ramancam").exists()


def test_info_shows_a_models_seed_and_its_augmentation_amounts(peaks_file, tmp_path, capsys):
    out = tmp_path / "a.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--augment", "on", "--augment-shift", "2", "--seed", "3",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "training:" in ln)
    assert "1 epoch," in line and "augmentation on, amounts: " in line
    assert "shift 2" in line and line.endswith("seed 3")


@pytest.mark.parametrize("extra, message", [
    (["--split-col", "split", "--folds", "3"],
     "--folds does nothing with --split-col (a fixed split: one training and one test part); "
     "got --folds 3. Drop it."),
    (["--spatial-folds", "2", "--folds", "3"],
     "--folds does nothing with --spatial-folds K (which sets the number of folds itself)"),
])
def test_folds_beside_a_split_that_ignores_it_is_refused(peaks_file, tmp_path, capsys, extra,
                                                         message):
    for cmd in ("train", "baseline"):
        out = tmp_path / ("m.ramancam" if cmd == "train" else "b")
        argv = [cmd, str(peaks_file), "--label-col", "label", *extra, "--out", str(out),
                *([] if cmd == "train" else ["--model", "library"])]
        assert main(argv) == 2
        assert message in capsys.readouterr().err
        assert not out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--augment", "off", "--augment-noise", "0.02"],
     "--augment-noise does nothing with --augment off. Add --augment on (or auto) to use it"),
    (["--preset", "paper", "--augment-shift", "2"],
     "--augment-shift does nothing with --preset paper, which trains without augmentation"),
])
def test_augmentation_amounts_without_augmentation_are_refused(peaks_file, tmp_path, capsys,
                                                               extra, message):
    out = tmp_path / "m.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", *extra,
                 "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    # with augmentation switched on, the paper preset takes the amount
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--preset", "paper", "--augment", "on", "--augment-shift",
                 "2", "--out", str(out)]) == 0
    assert load(out).info["settings"]["augment_shift"] == 2
    # and the default amounts where none is given (it trained without, silently)
    from ramancam.presets import PRESETS

    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--preset", "paper", "--augment", "on", "--out", str(out)]
                ) == 0
    settings = load(out).info["settings"]
    assert settings["augment_shift"] == PRESETS["tuned"]["augment_shift"] > 0
    assert settings["augment_noise"] == PRESETS["tuned"]["augment_noise"] > 0


def test_a_grid_beyond_the_data_is_refused_in_command_line_terms(peaks_file, tmp_path,
                                                                   capsys):
    # it suggested paper_recipe(grid=...) and outside='nearest', which no option sets
    assert main(["train", str(peaks_file), "--label-col", "label", "--grid", "300:1800:1",
                 "--out", str(tmp_path / "m.ramancam")]) == 2
    err = capsys.readouterr().err
    assert "Crop the grid, e.g. --grid 300:1023:1." in err
    assert "paper_recipe" not in err and "outside=" not in err


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(
        peaks_file, tmp_path, capsys, monkeypatch):
    # found after the training, the error named a hidden temp file ('.m.ramancam.x.tmp')
    import tempfile

    (tmp_path / "isdir.html").mkdir()
    args = ["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
            "--no-compare"]
    assert main([*args, "--out", str(tmp_path / "m.ramancam"), "--report",
                 str(tmp_path / "isdir.html")]) == 2
    assert "--report must name a file; got" in capsys.readouterr().err

    def read_only(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    for argv in ([*args, "--out", str(tmp_path / "m.ramancam")],
                 ["convert", str(peaks_file), str(tmp_path / "x.csv")],
                 ["simulate", "peaks", "--out", str(tmp_path / "s.csv")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "must be in a folder you can write to; got" in err and "(Permission denied)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["isdir.html"]


def test_atomic_write_names_the_file_asked_for_when_its_folder_refuses(tmp_path, monkeypatch):
    import tempfile

    from ramancam.io import atomic_write

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(RamancamError, match=r"'.*out\.csv' must be in a folder you can write "
                                            r"to; got Permission denied in"):
        with atomic_write(tmp_path / "out.csv") as fh:
            fh.write("x")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(RamancamError, match=r"must be a file to write; got a folder"):
        with atomic_write(tmp_path / "d.csv") as fh:
            fh.write("x")


def test_predict_one_spectrum_into_a_file_still_says_its_class(model_file, peaks_file,
                                                                 tmp_path, capsys):
    # with --out the row is not on the screen, and the predicted: line was left out
    s = read_table(peaks_file, label_col="label")
    one = tmp_path / "one.csv"
    write_table(s[:1], one, label_col="label")
    assert main(["predict", str(model_file), str(one), "--out", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^predicted: \S+ \(1\)$", out, flags=re.M)
    assert "1 spectra with" not in out


def test_train_says_when_the_grid_cuts_a_channel_axis(peaks_file, tmp_path, capsys):
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST[2:], "--folds", "2",
                 "--no-compare", "--out", str(tmp_path / "m.ramancam")]) == 0
    out = capsys.readouterr().out
    assert "looks like channel numbers" in out and "keeps 350-1023" in out


def test_report_counts_the_models_classes_and_names_test_only_ones():
    # the report said 4 classes where the model (and info) had 3: one only in the test part
    from ramancam.cli.train import _classes_text

    assert _classes_text(np.array(["a", "b", "c"]), ["a", "b", "c", "d"]) == (
        "3 (and d only in the test part: never trained)")
    assert _classes_text(np.array(["a", "b"]), ["a", "b"]) == "2"


@pytest.mark.parametrize(("extra", "message"), [
    (["--epochs", "0"], "--epochs must be an integer >= 1; got 0."),
    (["--filters", "0"], "--filters must be a positive integer; got 0."),
    (["--dropout", "1.5"], "--dropout must be in [0, 1); got 1.5."),
    (["--device", "gpu"], "--device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got 'gpu'."),
])
def test_network_options_are_checked_before_reading_in_their_own_names(tmp_path, capsys,
                                                                       extra, message):
    # they were checked after the data were read and preprocessed, in Python's names
    # (n_filters, batch_size); DATA here does not even exist
    assert main(["train", str(tmp_path / "absent.csv"), "--label-col", "label", *extra,
                 "--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {message}"


def test_a_fixed_split_names_classes_its_test_part_lacks(peaks_file, tmp_path, capsys):
    # k-fold said "never tested"; a fixed split said nothing
    s = read_table(peaks_file, label_col="label")
    split = np.where((np.arange(len(s)) % 2 == 0) & (s.labels != "peak_500"), "test", "train")
    write_table(s.replace(meta={**s.meta, "split": split}), tmp_path / "s.csv",
                label_col="label")
    capsys.readouterr()
    assert main(["train", str(tmp_path / "s.csv"), "--label-col", "label", *FAST,
                 "--split-col", "split", "--no-compare", "--out", str(tmp_path / "m")]) == 0
    assert ("note: 1 class is only in the training part (peak_500): the test accuracy says "
            "nothing about it.") in capsys.readouterr().out


def test_a_descending_axis_without_a_recipe_trains_saves_and_predicts(peaks_file, tmp_path,
                                                                     capsys):
    # the model saved with a descending grid, which load then refused as damaged
    s = read_table(peaks_file, label_col="label")
    write_table(Spectra(s.X[:, ::-1], s.wavenumbers[::-1], labels=s.labels),
                tmp_path / "desc.csv")
    assert main(["train", str(tmp_path / "desc.csv"), "--label-col", "label", *FAST,
                 "--folds", "2", "--no-compare", "--out", str(tmp_path / "d.ramancam")]) == 0
    b = load(tmp_path / "d.ramancam")
    assert b.grid[0] < b.grid[-1]
    assert main(["predict", str(tmp_path / "d.ramancam"), str(tmp_path / "desc.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert len(_rows(tmp_path / "p.csv")) == len(s)
    # and a nominal-length check speaks of --blocks, not of a million points
    assert main(["train", str(tmp_path / "desc.csv"), "--label-col", "label", "--blocks",
                 "30", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--blocks must be a few (each block halves the spectrum); got 30.")


def test_ramancam_warnings_reach_a_recorder_and_print_as_one_line(tmp_path, capsys):
    # main() printed them itself, so that a pytest.warns around it recorded nothing; on the
    # screen (a process of its own: pytest records warnings) they are one plain line, once
    import subprocess
    import sys

    from ramancam.errors import RamancamWarning

    (tmp_path / "e.csv").write_text("id,1,2,3\na,1,2,3\nb,,,\n")
    with pytest.warns(RamancamWarning, match="1 spectrum with no value at all"):
        assert main(["info", str(tmp_path / "e.csv")]) == 0
    done = subprocess.run([sys.executable, "-m", "ramancam", "info", str(tmp_path / "e.csv")],
                          capture_output=True, text=True, check=True)
    assert done.stderr == (f"warning: file {tmp_path / 'e.csv'}, line 3: 1 spectrum with no "
                           "value at all (every cell empty or NaN) read as zeros: flat, so "
                           "train leaves it out and predict marks it not predicted\n")


def test_classes_that_differ_only_in_case_or_whitespace_are_named(peaks_file, tmp_path,
                                                                  capsys):
    # 'Quartz', 'quartz' and 'Quartz  alpha' beside 'Quartz alpha' trained as classes of
    # their own without a word
    from ramancam.cli._notes import alike_classes_note

    s = read_table(peaks_file, label_col="label")
    first = sorted(set(s.labels.tolist()))[0]
    labels = s.labels.astype(object)
    mine = np.flatnonzero(labels == first)
    labels[mine[: len(mine) // 2]] = first.upper() if first != first.upper() else first.lower()
    write_table(Spectra(s.X, s.wavenumbers, labels=labels), tmp_path / "case.csv")
    capsys.readouterr()
    assert main(["train", str(tmp_path / "case.csv"), "--label-col", "label", *FAST,
                 "--folds", "2", "--no-compare", "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert out.count("differ only in case") == 1
    assert ": they train as separate classes; if they are one substance, fix the labels." \
        in out
    assert alike_classes_note(np.array(["a", "b"])) is None
    assert alike_classes_note(np.array(["Quartz", "quartz", "QUARTZ", "Quartz alpha",
                                        "Quartz\talpha", "calcite", "Calcite ", "x"])) == (
        "note: classes 'Calcite ' and 'calcite' differ only in case and whitespace; "
        "'QUARTZ', 'Quartz' and 'quartz' differ only in case; 'Quartz\\talpha' and "
        "'Quartz alpha' differ only in whitespace: they train as separate classes; if they "
        "are one substance, fix the labels.")


def test_classes_that_are_one_number_written_differently_are_named():
    # '1', '1.0' and '01' (labels from a CSV, an older .xls, a zero-padded sheet) trained
    # as three classes without a word, where 'Quartz' and 'quartz' got a note
    from ramancam.cli._notes import alike_classes_note

    assert alike_classes_note(np.array(["1", "1.0", "01", "2", " 2", "2.5", "1e1", "10",
                                        "x"])) == (
        "note: classes ' 2' and '2' differ only in whitespace; '01', '1' and '1.0' differ "
        "only in how the number is written; '10' and '1e1' differ only in how the number is "
        "written: they train as separate classes; if they are one substance, fix the "
        "labels.")
    # numbers that differ, and words that read as numbers to float() only, are no group
    assert alike_classes_note(np.array(["1", "1.5", "2", "nan", "NaN", "inf"])) == (
        "note: classes 'NaN' and 'nan' differ only in case: they train as separate classes; "
        "if they are one substance, fix the labels.")
    assert alike_classes_note(np.array(["1_000", "1000", "0x10", "16"])) is None
    # compared exactly, not as float64: 20-digit numbers one apart, numbers past 1.8e308
    # (both inf as floats) are different classes; '-0' and '0' are one number
    assert alike_classes_note(np.array(["12345678901234567890", "12345678901234567891",
                                        "1e400", "2e400", "0.1", "0.10000000000000001",
                                        "1e99999999999999999999"])) is None
    assert alike_classes_note(np.array(["1e400", "10e399", "-0", "0"])) == (
        "note: classes '-0' and '0' differ only in how the number is written; '10e399' and "
        "'1e400' differ only in how the number is written: they train as separate classes; "
        "if they are one substance, fix the labels.")


def test_group_report_names_its_held_out_novelty_scores(peaks_file, tmp_path):
    # with --group-col the threshold comes from leave-one-group-out scores; the report said
    # "Leave-one-out ... each against all the others"
    s = read_table(peaks_file, label_col="label")
    groups = np.array([f"g{i % 4}" for i in range(len(s))])
    data = tmp_path / "g.csv"
    write_table(s.replace(meta={**s.meta, "batch": groups}), data, label_col="label")
    html = tmp_path / "r.html"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--folds", "2",
                 "--group-col", "batch", "--no-compare", "--out", str(tmp_path / "m.ramancam"),
                 "--report", str(html)]) == 0
    text = html.read_text()
    assert "Leave-one-out novelty scores" not in text
    assert "Leave-one-group-out novelty scores of the training spectra" in text


def test_fixed_split_report_has_no_fold_and_keeps_test_only_classes_apart(
        peaks_file, tmp_path, capsys, monkeypatch):
    # the report's table had a "fold" column with a row 1, and its novelty histogram pooled
    # the test spectra of a class the model never trained on with the known ones
    from ramancam import train_report

    drawn = []
    figure = train_report._novelty_figure

    def spy(scores, *args, **kwargs):
        drawn.append((np.asarray(scores), kwargs.get("unseen")))
        return figure(scores, *args, **kwargs)

    monkeypatch.setattr(train_report, "_novelty_figure", spy)
    s = read_table(peaks_file, label_col="label")
    last = sorted(set(s.labels.tolist()))[-1]
    test = (s.labels == last) | (np.arange(len(s)) % 3 == 0)
    text = _split_report(peaks_file, tmp_path, test)
    printed = capsys.readouterr().out
    assert "<th>split</th><th>train</th><th>test</th><th>CNN</th>" in text
    assert f'<td>test split</td><td class="num">{int((~test).sum())}</td>' in text
    assert "<th>fold</th>" not in text and "per fold" not in text
    assert "Test accuracy of each model on the test split." in text
    # the printed table keeps its layout: scripts read it
    assert re.search(rf"^fold +train +test +CNN\n1 +{int((~test).sum())} +{int(test.sum())} ",
                     printed, re.MULTILINE)
    (known, unseen), = drawn
    n_unseen = int((s.labels == last).sum())
    assert unseen is not None and unseen.size == n_unseen
    assert known.size == int(test.sum()) - n_unseen
    assert (f"Apart, in orange: the {n_unseen} test spectra of the class {last}, only in "
            "the test part") in text
    # the caption does not call them all known
    assert "Novelty scores of held-out spectra (" in text
    assert "Novelty scores of held-out known spectra" not in text


def test_novelty_histogram_draws_unseen_classes_beside_the_known():
    from ramancam.train_report import _novelty_figure

    known, unseen = np.array([0.1, 0.2, 0.2, 0.3]), np.array([0.8, 0.9])
    fig = _novelty_figure(known, 0.5, 0.05, "held-out spectra", unseen=unseen)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["classes trained on (4)", "classes only in the test part (2)",
                      "threshold (5% false alarms)"]
    grey, orange = ax.containers
    assert sum(p.get_height() for p in grey) == 4 and sum(p.get_height() for p in orange) == 2
    # the unseen bars sit only where the unseen scores are, above the threshold
    assert all(p.get_x() >= 0.5 for p in orange if p.get_height())
    import matplotlib.pyplot as plt

    plt.close(fig)
    alone = _novelty_figure(known, float("inf"), 0.05, "held-out known spectra")
    assert alone.axes[0].get_legend() is None and len(alone.axes[0].containers) == 1
    plt.close(alone)


def test_report_draws_reliability_when_a_class_is_only_in_the_test_part(peaks_file,
                                                                          tmp_path):
    # that class's logit is -inf in every row: all rows were dropped, the figure with them
    s = read_table(peaks_file, label_col="label")
    last = s.labels == sorted(set(s.labels.tolist()))[-1]
    text = _split_report(peaks_file, tmp_path, last | (np.arange(len(s)) % 3 == 0))
    assert "Reliability of the test part probabilities" in text


def _section(text, title):
    """The HTML of the report section ``title``, up to the next section."""
    start = text.index(f">{title}</h2>")
    end = text.find("<h2", start)
    return text[start:end if end >= 0 else len(text)]


def _first_cells(section, k=1):
    """Cell ``k`` (0-based) of every body row of the tables in ``section``."""
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)[k]
            for row in re.findall(r"<tr><td.*?</tr>", section)]


def _unseen_cv(threshold_scores=(0.5, 0.1, 0.9, 0.5, 0.95, 0.2)):
    """A fixed split's CV of classes a, b, c with c only in the test part: s0-s5 tested
    (s2 and s3 of c, logit -inf in its column), s6 trained only."""
    from types import SimpleNamespace

    inf = -np.inf
    return SimpleNamespace(
        classes=["a", "b", "c"], labels=np.array(["a", "a", "c", "c", "b", "b", "a"]),
        oof_pred=np.array(["a", "b", "a", "b", "b", "b", ""]),
        oof_proba=np.array([[0.9, 0.1, 0], [0.3, 0.7, 0], [0.8, 0.2, 0], [0.1, 0.9, 0],
                            [0.2, 0.8, 0], [0.4, 0.6, 0], [np.nan] * 3]),
        oof_logits=np.array([[2.0, 0.0, inf], [0.0, 1.0, inf], [1.0, 0.0, inf],
                             [0.0, 2.0, inf], [0.0, 1.0, inf], [0.0, 0.5, inf],
                             [np.nan] * 3]),
        fold_of=np.array([0, 0, 0, 0, 0, 0, -1]),
        oof_novelty=np.array([*threshold_scores, np.nan]))


def test_spectra_to_check_leave_out_classes_the_model_never_trained_on():
    # the test spectra of a class only in the test part were listed as "another class on
    # the test part", the first suspects, though no model could have named them
    from ramancam.train_report import training_checks, unseen_note, unseen_spectra

    cv = _unseen_cv()
    ids = [f"s{i}" for i in range(7)]
    assert unseen_spectra(cv).tolist() == [False, False, True, True, False, False, False]
    n_wrong, n_novel, rows = training_checks(cv, ids, 0.8, where="on the test part")
    assert (n_wrong, n_novel) == (1, 1)  # s1 put in b; s4 above the threshold
    assert [r[0] for r in rows] == ["s1", "s4"]
    note = unseen_note(cv, 0.8, fixed_split=True)
    assert note is not None
    assert "the 2 test spectra of c, a class only in the test part" in note
    assert "cannot name a class it never trained on" in note
    assert "the novelty score flagged 1 of the 2 as unknown (above the threshold)" in note
    # a CV whose fold models kept no threshold of their own: the final model's, said so
    assert ("flagged 1 of the 2 as unknown (the fold model's score, above the final model's "
            "threshold: the fold models kept no threshold of their own, as a score that "
            "needs held-out networks sets one only with more fits).") in unseen_note(cv, 0.8)
    # no threshold (too few held-out spectra, or --novelty none): said, not counted
    assert "no novelty threshold" in unseen_note(cv, float("inf"), fixed_split=True)
    no_scores = _unseen_cv((np.nan,) * 6)
    assert "no novelty scores" in unseen_note(no_scores, 0.8, fixed_split=True)
    # every class trained on: no note, the checks as before
    cv.oof_logits[:, 2] = 0.0
    assert unseen_note(cv, 0.8) is None and not unseen_spectra(cv).any()
    assert training_checks(cv, ids, 0.8)[:2] == (3, 2)
    # a CV without logits (saved before them): nothing told apart
    del cv.oof_logits
    assert not unseen_spectra(cv).any()


def _class_rows(text):
    """The Data section's per-class table of a train report: ``{class: [cells...]}``."""
    data = _section(text, "Data")
    table = data[data.index("<th>class</th>"):]
    return {cells[0]: cells[1:] for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row)
                                              for row in re.findall(r"<tr><td.*?</tr>",
                                                                    table))}


def test_fixed_split_report_gives_a_test_only_class_no_recall(peaks_file, tmp_path):
    # the per-class table showed recall 0 for a class only in the test part, as if the
    # model had failed on it, with only the caption to say that it never trained on it
    s = read_table(peaks_file, label_col="label")
    last = sorted(set(s.labels.tolist()))[-1]
    test = (s.labels == last) | (np.arange(len(s)) % 3 == 0)
    text = _split_report(peaks_file, tmp_path, test)
    rows = _class_rows(text)
    n_unseen = int((s.labels == last).sum())
    assert rows[last] == ["0", str(n_unseen), "not trained on", "–"]
    # the classes trained on keep their numbers: those the model file records
    cv = load(tmp_path / "m.ramancam").info["cv"]
    for c in sorted(set(s.labels.tolist()) - {last}):
        n_train, n_test, recall, precision = rows[c]
        assert (int(n_train), int(n_test)) == (int(((s.labels == c) & ~test).sum()),
                                               int(((s.labels == c) & test).sum()))
        assert float(recall) == pytest.approx(cv["recall"][c], abs=5e-4)
        assert precision == "–" if cv["precision"][c] is None else (
            float(precision) == pytest.approx(cv["precision"][c], abs=5e-4))
    assert "recall 0" not in _section(text, "Data")


def test_report_recall_counts_the_spectra_their_tester_trained_on():
    # a class whose spectra were tested partly by a model that never trained on it (a
    # spatial fold whose buffer held its other spectra): the recall of the rest, not 0 for
    # those; none left: no recall, in words
    from ramancam.train_report import _recall_cell

    known = np.array([[3, 1], [0, 0]])  # after leaving out 2 of class 0 and 4 of class 1
    assert _recall_cell(known, 0, 6, fixed_split=False) == 0.75
    assert _recall_cell(known, 1, 4, fixed_split=False) == "not trained on in its fold"
    assert _recall_cell(known, 1, 4, fixed_split=True) == "not trained on"
    assert np.isnan(_recall_cell(known, 1, 0, fixed_split=True))  # never tested


def _group_unseen_cv(fold_thresholds):
    """A 2-fold group CV of classes a, b, c with c all in fold 0's test part (fold 0's model
    never trained on it: logit -inf), its 3 spectra scored 0.85, 0.95 and 0.5."""
    from types import SimpleNamespace

    inf = -np.inf
    return SimpleNamespace(
        classes=["a", "b", "c"], labels=np.array(["a", "b", "c", "c", "c", "a", "b"]),
        oof_pred=np.array(["a", "b", "a", "b", "a", "a", "b"]),
        oof_proba=np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.9, 0.1, 0], [0.2, 0.8, 0],
                            [0.6, 0.4, 0], [0.7, 0.3, 0], [0.4, 0.6, 0]]),
        oof_logits=np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 0.0, inf],
                             [0.0, 1.0, inf], [0.5, 0.0, inf], [1.0, 0.0, inf],
                             [0.0, 0.5, inf]]),
        fold_of=np.array([1, 1, 0, 0, 0, 0, 0]),
        oof_novelty=np.array([0.1, 0.2, 0.85, 0.95, 0.5, 0.3, 0.2]),
        fold_thresholds=list(fold_thresholds))


def test_unseen_note_judges_each_fold_by_its_own_threshold():
    # the spectra of a class a fold model never saw were counted flagged against the final
    # model's threshold (0.8: 2 of 3), not the one of the fold model that scored them
    # (0.9: 1 of 3), so the count was what no model would have said
    from ramancam.train_report import unseen_note

    note = unseen_note(_group_unseen_cv([0.9, 0.4]), 0.8)
    assert note is not None
    assert ("the novelty score flagged 1 of the 3 as unknown (the score of the fold model "
            "that tested them, above that model's own threshold: as that model would have "
            "flagged them).") in note
    assert "final model's threshold" not in note
    # a fold model with too few held-out spectra for a threshold flags none
    assert ("their fold model had no novelty threshold of its own (too few held-out "
            "spectra to set one), so none of them is flagged") in unseen_note(
                _group_unseen_cv([np.inf, 0.4]), 0.8)
    # fold models that chose no threshold of their own (--novelty knn, ...): the final
    # model's, said so
    assert ("flagged 2 of the 3 as unknown (the fold model's score, above the final model's "
            "threshold: the fold models kept no threshold of their own") in unseen_note(
                _group_unseen_cv([np.nan, np.nan]), 0.8)
    # a fixed split's one model is the final one: its threshold
    assert "flagged 2 of the 3 as unknown (above the threshold)" in unseen_note(
        _group_unseen_cv([0.9]), 0.8, fixed_split=True)


def test_group_cv_report_counts_unseen_classes_flagged_by_their_fold_model(tmp_path,
                                                                          monkeypatch):
    # seeded: class c all in group g0, so the fold testing g0 never trained on it; that fold
    # model's own (leave-one-group-out) threshold and the final model's differ, and the
    # note's count followed the final model's
    from ramancam import train_report
    from ramancam.train import CNNClassifier

    seen = {}
    write = train_report.write_train_report

    def spy(path, **kwargs):
        seen.update(kwargs)
        return write(path, **kwargs)

    monkeypatch.setattr(train_report, "write_train_report", spy)
    rng = np.random.default_rng(0)
    grid = np.arange(400.0, 700.0, 2.0)
    y = np.repeat(["a", "b", "c"], 8)
    g = np.array([*np.tile(["g0", "g1", "g2", "g3"], 4), *["g0"] * 8])
    centre = np.select([y == "a", y == "b"], [450.0, 550.0], 650.0)[:, None]
    X = 0.1 + np.exp(-0.5 * ((grid - centre) / 5.0) ** 2) + 0.03 * rng.standard_normal(
        (y.size, grid.size))
    data = tmp_path / "g.csv"
    write_table(Spectra(X, grid, labels=y, meta={"grp": g}), data, label_col="label")
    html = tmp_path / "g.html"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--group-col", "grp",
                 "--folds", "2", "--novelty-rate", "0.2", "--no-compare",
                 "--out", str(tmp_path / "g.ramancam"), "--report", str(html)]) == 0
    cv, Xp = seen["cv"], seen["X"]
    unseen = train_report.unseen_spectra(cv)
    assert sorted(set(cv.labels[unseen].tolist())) == ["c"] and unseen.sum() == 8
    (k,) = set(cv.fold_of[unseen].tolist())
    # the fold model's own threshold, from a fit of that fold's training part (the hqi
    # scores' leave-one-group-out threshold does not depend on the network)
    tr = cv.fold_of != k
    own = CNNClassifier(epochs=1, n_filters=4, filter_size=3, fc_width=8, novelty_rate=0.2,
                        random_state=0).fit(Xp[tr], y[tr], groups=g[tr]).novelty_threshold_
    final = seen["threshold"]
    assert np.isfinite(own) and np.isfinite(final)
    scores = cv.oof_novelty[unseen]
    n_own, n_final = int((scores > own).sum()), int((scores > final).sum())
    assert n_own != n_final  # the seeded example tells them apart
    note = _section(html.read_text(), "Training spectra to check")
    assert (f"the novelty score flagged {n_own} of the 8 as unknown (the score of the fold "
            "model that tested them, above that model&#x27;s own threshold") in note


def test_fixed_split_report_keeps_test_only_classes_out_of_the_suspects(peaks_file,
                                                                       tmp_path):
    s = read_table(peaks_file, label_col="label")
    last = sorted(set(s.labels.tolist()))[-1]
    n_unseen = int((s.labels == last).sum())
    text = _split_report(peaks_file, tmp_path, (s.labels == last) | (np.arange(len(s)) % 3 == 0))
    check = _section(text, "Test spectra to check")
    assert last not in _first_cells(check, 1)  # no suspect of the class never trained on
    n_known = int(((s.labels != last) & (np.arange(len(s)) % 3 == 0)).sum())
    assert re.search(rf"the CNN put \d+ of the {n_known} tested spectra of the classes it "
                     "trained on in another class", check)
    assert (f"Not listed: the {n_unseen} test spectra of {last}, a class only in the "
            "test part") in check
    # nor among the most frequent confusions (the matrix keeps them)
    confusion = _section(text, "Confusion matrix (CNN, on the test part)")
    assert last not in _first_cells(confusion, 0)
    assert (f"The {n_unseen} spectra of {last} were tested by a model that never trained "
            "on their class") in confusion


def test_group_cv_report_keeps_a_class_its_fold_never_trained_on_apart(peaks_file,
                                                                       tmp_path):
    # a class all in one group is tested in that group's fold by a model that never saw it
    s = read_table(peaks_file, label_col="label")
    last = sorted(set(s.labels.tolist()))[-1]
    grp = np.where(s.labels == last, "g0", np.array(["g0", "g1", "g2"])[np.arange(len(s)) % 3])
    data = tmp_path / "grouped.csv"
    write_table(s.replace(meta={**s.meta, "grp": grp}), data, label_col="label")
    html = tmp_path / "g.html"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--group-col", "grp",
                 "--folds", "3", "--no-compare", "--out", str(tmp_path / "g.ramancam"),
                 "--report", str(html)]) == 0
    check = _section(html.read_text(), "Training spectra to check")
    assert last not in _first_cells(check, 1)
    n_unseen = int((s.labels == last).sum())
    # no recall of 0 for that class in the per-class table: its fold never trained on it
    assert _class_rows(html.read_text())[last][:3] == [str(n_unseen), str(n_unseen),
                                                       "not trained on in its fold"]
    assert re.search(rf"the CNN put \d+ of the {len(s) - n_unseen} tested spectra of classes "
                     "their fold model trained on in another class", check)
    assert (f"Not listed: the {n_unseen} spectra of {last}, tested by a fold model "
            "whose training part lacked") in check


def test_report_reliability_leaves_out_spectra_of_classes_never_trained_on(
        peaks_file, tmp_path, reliability_drawn):
    # the reliability diagram of a fixed split drew the test-only class's spectra (always
    # wrong) among the known ones, which the calibration leaves out
    drawn = reliability_drawn
    s = read_table(peaks_file, label_col="label")
    last = sorted(set(s.labels.tolist()))[-1]
    known_test = (s.labels != last) & (np.arange(len(s)) % 3 == 0)
    text = _split_report(peaks_file, tmp_path, (s.labels == last) | known_test)
    (logits,) = drawn
    assert logits.shape[0] == int(known_test.sum())
    assert np.isfinite(logits[:, :2]).all()  # no row whose class has no logit
    assert (f"Left out, as the calibration leaves them out: the {int((s.labels == last).sum())} "
            f"spectra of {last}") in text


def test_the_flagged_share_says_it_is_cross_fitted_and_the_histogram_what_it_counts(
        tmp_path, capsys):
    """'known held-out spectra flagged 5.1%' beside a histogram with 4 of 99 (4.0 %) above
    the threshold: the share is cross-fitted (each part against a threshold set on the
    others), the histogram counts against the model's threshold; both now say so."""
    from ramancam.bundle import load

    path = tmp_path / "p.csv"
    assert main(["simulate", "peaks", "--n-per-class", "15", "--seed", "3", "--out",
                 str(path)]) == 0
    out, page = tmp_path / "m.ramancam", tmp_path / "r.html"
    capsys.readouterr()
    assert main(["train", str(path), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--out", str(out), "--report", str(page)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.startswith("unknown: "))
    assert re.search(r"; known held-out spectra flagged [\d.]+% \(cross-fitted\)$", line), line
    b = load(out)
    scores = np.asarray(b.held_out)  # the leave-one-out scores the histogram draws
    text = " ".join(html.unescape(page.read_text()).split())
    assert (f"{int(np.sum(scores > b.threshold))} of the {scores.size} drawn are above this "
            "threshold; the share of known held-out spectra flagged in the calibration lines "
            "above is cross-fitted") in text


def test_fixed_split_prints_test_only_classes_flagged_apart(tmp_path, capsys):
    # "test spectra flagged 33.3%" pooled a test-only class's spectra, which should be
    # flagged, with the known ones, which should be at the false-alarm rate
    path = tmp_path / "p.csv"
    assert main(["simulate", "peaks", "--n-per-class", "15", "--seed", "3", "--out",
                 str(path)]) == 0
    s = read_table(path, label_col="label")
    last = sorted(set(s.labels.tolist()))[-1]
    known_test = (s.labels != last) & (np.arange(len(s)) % 3 == 0)
    data = tmp_path / "split.csv"
    write_table(s.replace(meta={**s.meta, "split": np.where(
        (s.labels == last) | known_test, "test", "train")}), data, label_col="label")
    capsys.readouterr()
    assert main(["train", str(data), "--label-col", "label", *FAST, "--split-col", "split",
                 "--no-compare", "--out", str(tmp_path / "m.ramancam")]) == 0
    out = capsys.readouterr().out
    m = re.search(r"^unknown: threshold \d.*; test spectra flagged ([\d.]+)% \(classes trained "
                  r"on: ([\d.]+)% of (\d+); the (\d+) of classes the model never saw: "
                  r"([\d.]+)%\)$", out, re.MULTILINE)
    assert m is not None, out
    n_known, n_new = int(m[3]), int(m[4])
    assert (n_known, n_new) == (int(known_test.sum()), int((s.labels == last).sum()))
    pooled = (float(m[2]) * n_known + float(m[5]) * n_new) / (n_known + n_new)
    assert float(m[1]) == pytest.approx(pooled, abs=0.06)  # each rounded to 0.1 %


def test_recipe_paper_grid_gives_a_model_whose_inputs_ignore_the_measured_range(
        tmp_path, capsys):
    # a model for spectra from instruments that measure other ranges: the same spectra
    # exported over a shorter range get the same predictions, and no end-point note
    rng = np.random.default_rng(5)
    axis = np.linspace(300.0, 3000.0, 1350)
    centres = np.repeat([600.0, 1200.0], 6)[:, None]
    X = (1 / (1 + ((axis - centres) / 8) ** 2) + 2e-4 * (axis - 300) + 0.3 * (axis / 3000) ** 2
         + rng.normal(0, 0.01, (12, axis.size)))
    write_table(Spectra(X, axis, np.repeat(["a", "b"], 6)), tmp_path / "wide.csv")
    k = axis <= 1900
    write_table(Spectra(X[:, k], axis[k], np.repeat(["a", "b"], 6)), tmp_path / "short.csv")
    model = tmp_path / "m.ramancam"
    assert main(["train", str(tmp_path / "wide.csv"), "--label-col", "label", "--recipe",
                 "paper-grid", "--epochs", "2", "--filters", "4", "--fc-width", "8",
                 "--folds", "2", "--no-compare", "--augment", "off", "--out",
                 str(model)]) == 0
    assert "1451 points (350-1800); recipe: paper-grid" in capsys.readouterr().out
    assert [s.name for s in load(model).recipe.steps] == ["resample", "linear_baseline",
                                                          "normalize"]
    for name in ("wide", "short"):
        assert main(["predict", str(model), str(tmp_path / f"{name}.csv"), "--out",
                     str(tmp_path / f"{name}-p.csv")]) == 0
        assert "span other Raman shifts" not in capsys.readouterr().err
    wide, short = ((tmp_path / f"{n}-p.csv").read_text().splitlines() for n in ("wide",
                                                                                 "short"))
    cut = [",".join(line.split(",")[:2]) for line in wide]
    assert cut == [",".join(line.split(",")[:2]) for line in short]
    p_wide = np.loadtxt(tmp_path / "wide-p.csv", delimiter=",", skiprows=1, usecols=(2, 3))
    p_short = np.loadtxt(tmp_path / "short-p.csv", delimiter=",", skiprows=1, usecols=(2, 3))
    assert np.allclose(p_wide, p_short, atol=1e-6)


@pytest.mark.parametrize("command", [["train", "--out", "m.ramancam"],
                                     ["baseline", "--model", "library"]])
def test_one_class_is_refused_before_preprocessing_in_the_command_line_words(
        command, tmp_path, capsys, monkeypatch):
    """Spectra of one class stop train and baseline in one line naming the data and the
    label option, before any preprocessing (the estimators' "y must hold at least 2
    classes" came after it, in API words); after flat spectra are left out too."""
    import ramancam.cli._common as common

    rng = np.random.default_rng(11)
    axis = np.linspace(300.0, 1300.0, 200)
    X = 1.0 / (1.0 + ((axis - 600.0) / 6.0) ** 2) + rng.normal(0, 0.01, (6, axis.size))
    path = tmp_path / "one.csv"
    write_table(Spectra(X, axis, labels=["yogurt_0"] * 6), path)
    name, *opts = command
    opts = [o if o != "m.ramancam" else str(tmp_path / o) for o in opts]
    monkeypatch.setattr(common, "build_recipe",
                        lambda *a: pytest.fail("the recipe was built for one class"))
    assert main([name, str(path), "--label-col", "label", *opts]) == 2
    got = capsys.readouterr()
    assert got.err == (f"error: {path} must hold at least 2 classes to train a classifier; got "
                       "1 ('yogurt_0') in --label-col label. Add spectra of another class; if "
                       "another column holds the classes, name it with --label-col.\n")
    assert "spectra, 1 class" not in got.out  # refused before the first line
    monkeypatch.undo()
    # a second class of nothing but flat spectra: one class left once they are left out
    X2 = np.vstack([X, np.full((2, axis.size), 3.0)])
    write_table(Spectra(X2, axis, labels=["yogurt_0"] * 6 + ["blank"] * 2), path)
    assert main([name, str(path), "--label-col", "label", *opts]) == 2
    assert ("got 1 ('yogurt_0') in --label-col label once the flat spectra are left out. "
            in capsys.readouterr().err)
    # folders labelled by --labels-from
    folder = tmp_path / "spectra" / "yogurt_0"
    folder.mkdir(parents=True)
    for i in range(4):
        np.savetxt(folder / f"s{i}.txt", np.column_stack([axis, X[i]]))
    assert main([name, str(tmp_path / "spectra"), "--labels-from", "folder", *opts]) == 2
    assert ("must hold at least 2 classes to train a classifier; got 1 ('yogurt_0') in "
            "--labels-from folder. Add spectra of another class; or check that --labels-from "
            "gives each class its own label.") in capsys.readouterr().err
    # the Python API keeps its own words
    with pytest.raises(RamancamError, match=r"y must hold at least 2 classes; got 1 class"):
        from ramancam.train import CNNClassifier

        CNNClassifier(n_filters=4, filter_size=3, fc_width=8, epochs=1).fit(
            X, np.array(["yogurt_0"] * 6))


def test_train_notes_imbalanced_classes_under_the_table_keeping_its_layout(tmp_path, capsys):
    """24:6 spectra of two close bands: a network that calls everything the large class
    scores 0.8 (only --report or info showed the small class missed). A note under the
    table and its winner lines gives the balanced accuracy and the worst class; the table
    keeps its layout; the report repeats the note."""
    path, out = imbalanced_table(tmp_path / "imb.csv"), tmp_path / "m.ramancam"
    assert main(["train", str(path), "--label-col", "label", *FAST, "--epochs", "3", "--lr",
                 "1e-2", "--folds", "3", "--out", str(out), "--report",
                 str(tmp_path / "r.html")]) == 0
    lines = capsys.readouterr().out.splitlines()
    cv = load(out).info["cv"]
    cm = np.array(cv["confusion"])
    recall = np.diag(cm) / cm.sum(axis=1)
    assert recall[1] < recall[0]  # the seeded network misses the small class
    at = lines.index("accuracy (3-fold CV):")
    assert lines[at + 1].split() == ["fold", "train", "test", "CNN", "PCA+SVM", "PLS-DA",
                                     "library"]
    assert [ln.split()[:3] for ln in lines[at + 2:at + 5]] == [["1", "20", "10"],
                                                                ["2", "20", "10"],
                                                                ["3", "20", "10"]]
    assert lines[at + 5].startswith("mean +- sd")
    assert lines[at + 6].startswith("winner: ")
    under = lines[at + 6:lines.index(next(ln for ln in lines if ln.startswith("calibration")))]
    assert under[-1] == (
        "note: imbalanced classes (largest major: 24 tested spectra; smallest minor: 6), and "
        "accuracy weighs each class by its spectra: the CNN's balanced accuracy (mean recall "
        f"per class) is {recall.mean():.3f}; its worst class, minor, recognised {cm[1, 1]} of "
        f"6. More spectra of the small classes help most; 'ramancam info {out}' shows its "
        "confusion matrix")
    assert "the CNN&#x27;s balanced accuracy (mean recall per class)" in (
        tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [["train", *FAST, "--out", "m.ramancam"],
                                     ["baseline", "--recipe", "none", "--model", "library"]])
def test_a_training_part_of_one_class_is_refused_in_the_command_line_words(
        command, tmp_path, capsys):
    """A fixed split, or group folds, that leave one class in a training part stop in one
    line naming the option, before any fit (each fit stopped with the estimators' "y must
    hold at least 2 classes"), under the notes that name the classes tested alone."""
    rng = np.random.default_rng(12)
    grid = np.arange(400.0, 600.0, 2.0)
    X = np.vstack([0.1 + np.exp(-0.5 * ((grid - c) / 5.0) ** 2)
                   + 0.02 * rng.standard_normal((6, grid.size)) for c in (450.0, 550.0)])
    labels = np.repeat(["a", "b"], 6)
    path = tmp_path / "parts.csv"
    write_table(Spectra(X, grid, labels=labels,
                        meta={"split": np.where(labels == "a", "train", "test"),
                              "grp": labels}), path)
    name, *opts = command
    opts = [o if o != "m.ramancam" else str(tmp_path / o) for o in opts]
    assert main([name, str(path), "--label-col", "label", *opts, "--split-col", "split"]) == 2
    got = capsys.readouterr()
    assert "note: 1 class is only in the test part (b (6))" in got.out
    assert got.err == ("error: the training part of --split-col split (--train-value 'train') "
                       "must hold at least 2 classes to train a classifier; got 1 ('a'). Put "
                       "spectra of another class in it, or cross-validate all spectra (drop "
                       "--split-col).\n")
    assert main([name, str(path), "--label-col", "label", *opts, "--group-col", "grp",
                 "--folds", "2"]) == 2
    assert capsys.readouterr().err == (
        "error: every fold's training part must hold at least 2 classes to train a "
        "classifier; got 1 ('a') in fold 1 of 2 (--group-col grp). The folds must leave "
        "spectra of two classes in each training part: more groups, or groups (blocks) that "
        "hold more than one class.\n")
    assert not (tmp_path / "m.ramancam").exists()


def test_predict_says_when_no_spectrum_can_be_flagged(model_file, peaks_file, tmp_path,
                                                      capsys):
    # a model without a novelty threshold (too few held-out spectra) printed "unknown: 0/12
    # spectra flagged (threshold for 5% false alarms)" and "flagged unknown: 0/12", as if
    # a working threshold had checked them
    from ramancam.bundle import load

    b = load(model_file)
    assert b.novelty is not None and not np.isfinite(b.threshold)
    out_csv = str(tmp_path / "p.csv")
    assert main(["predict", str(model_file), str(peaks_file), "--label-col", "label",
                 "--out", out_csv]) == 0
    out = capsys.readouterr().out
    assert ("unknown: none can be flagged: the model has no novelty threshold (too few "
            "held-out spectra in training for 5% false alarms); --novelty-rate ") in out
    assert "spectra flagged (threshold" not in out and "flagged unknown:" not in out
    rate = re.search(r"--novelty-rate ([\d.]+) or more sets one", out)
    assert rate is not None  # and that rate does set one
    assert main(["predict", str(model_file), str(peaks_file), "--novelty-rate",
                 rate.group(1), "--out", out_csv]) == 0
    assert "spectra flagged (threshold for" in capsys.readouterr().out


def test_a_predict_rerun_with_its_report_elsewhere_removes_the_old_page(model_file, peaks_file,
                                                                        tmp_path, capsys):
    # predict --out DIR/ wrote DIR/report.html; a rerun with --report elsewhere left the
    # earlier run's page beside the new predictions.csv
    out = tmp_path / "st"
    assert main(["predict", str(model_file), str(peaks_file), "--out", f"{out}/"]) == 0
    assert (out / "report.html").is_file()
    capsys.readouterr()
    other = tmp_path / "other.html"
    assert main(["predict", str(model_file), str(peaks_file), "--out", f"{out}/",
                 "--report", str(other)]) == 0
    text = capsys.readouterr().out
    assert other.is_file() and not (out / "report.html").exists()
    assert (f"removed the earlier run's {out / 'report.html'} (this run's report is {other})"
            in text)
    # the same run again: nothing stale to remove
    assert main(["predict", str(model_file), str(peaks_file), "--out", f"{out}/",
                 "--report", str(other)]) == 0
    assert "removed the earlier run's" not in capsys.readouterr().out


def test_train_does_not_replace_a_file_that_is_no_model(peaks_file, model_file, tmp_path,
                                                        capsys):
    # --out naming another table of spectra replaced it with the model, without a word
    import shutil

    table = tmp_path / "copy.csv"
    shutil.copy(peaks_file, table)
    before = table.read_bytes()
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--out",
                 str(table)]) == 2
    assert ("--out must be a new file or a model file to replace; got "
            f"{str(table)!r}, an existing file that is no ramancam model") in (
        capsys.readouterr().err)
    assert table.read_bytes() == before
    # a model file (whatever its name) is replaced, as before
    other = tmp_path / "model.bin"
    shutil.copy(model_file, other)
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--out", str(other)]) == 0


def test_info_tells_models_apart_by_every_setting_that_changes_them(peaks_file, tmp_path,
                                                                    capsys):
    # a leaky FC1, weight decay and bf16 changed the weights, and info's network and
    # training lines read as for a default model (--json lacked bf16 and device)
    import json

    out = tmp_path / "bf.ramancam"
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--bf16", "--fc-activation", "leaky", "--weight-decay", "0.01",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    network = next(ln for ln in text.splitlines() if ln.startswith("  network:"))
    training = next(ln for ln in text.splitlines() if ln.startswith("  training:"))
    assert re.search(r"FC1 \d+ \(leaky\), dropout", network), network
    assert "weight decay 0.01" in training and "bf16" in training
    assert main(["info", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["training"]["bf16"] is True and d["training"]["device"] == "cpu"


def test_options_that_cannot_work_on_these_spectra_are_said_in_option_words(peaks_file,
                                                                           tmp_path, capsys):
    # --blocks deeper than the spectra allow failed after reading, in the network's words
    # ("n_points=1024 is too short for 15 pooling blocks"); --augment on with every amount
    # 0 trained without augmentation and said nothing
    out = str(tmp_path / "m.ramancam")
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--blocks", "15", "--out", out]) == 2
    assert ("error: --blocks must be at most 12 for spectra of 1024 points (each pooling "
            "block halves them); got 15.") in capsys.readouterr().err
    zero = ["--augment-noise", "0", "--augment-shift", "0", "--augment-baseline", "0",
            "--augment-scale", "0"]
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--augment", "on", *zero, "--out", out]) == 2
    assert "--augment on must have an amount above 0 to augment" in capsys.readouterr().err


def _overflowing(table, path, rows):
    """``table``'s spectra written to ``path`` with the ``rows`` times 1e38 (the network's
    float32 pass overflows on them with no recipe); returns the spectra as read."""
    s = read_table(table, label_col="label")
    X = np.array(s.X)
    X[rows] *= 1e38
    write_table(Spectra(X, s.wavenumbers, labels=s.labels), path)
    return s


def test_predict_leaves_out_spectra_whose_probabilities_overflow(model_file, peaks_file,
                                                                 tmp_path, capsys):
    # intensities near 1e38 with no recipe overflow the network's float32 pass: NaN
    # probabilities, whose argmax read the first class with a confident-looking row
    s = _overflowing(peaks_file, tmp_path / "big.csv", [1, 4])
    capsys.readouterr()
    assert main(["predict", str(model_file), str(tmp_path / "big.csv"), "--label-col",
                 "label", "--out", str(tmp_path / "big_pred.csv")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"not predicted: 2 spectra whose probabilities are not finite \(1, 4; "
                     r"rows read unknown with empty probabilities\)\. First reason: must give "
                     r"finite probabilities; its prepared intensities reach [0-9.]+e\+3[78], "
                     r"too large for the network's float32 arithmetic", out)
    rows = _rows(tmp_path / "big_pred.csv")
    assert [r["predicted"] for r in (rows[1], rows[4])] == ["unknown", "unknown"]
    assert all(r[f"p_{c}"] == "" for r in (rows[1], rows[4]) for c in s.classes)
    assert all(r["predicted"] != "unknown" for i, r in enumerate(rows) if i not in (1, 4))
    assert re.search(r"^predicted: .*not predicted \(2\)$", out, re.M)
    assert f"true class in its set for {len(s) - 2}/{len(s) - 2}" in out  # the predicted


def test_explain_leaves_out_spectra_whose_probabilities_overflow(model_file, peaks_file,
                                                                 tmp_path, capsys):
    # explain explained them for the first class (argmax of a NaN row) with maps of 1e34,
    # without a word, where predict leaves them unpredicted
    s = _overflowing(peaks_file, tmp_path / "big.csv", [1, 4])
    capsys.readouterr()
    out, page = tmp_path / "maps.csv", tmp_path / "page.html"
    assert main(["explain", str(model_file), str(tmp_path / "big.csv"), "--label-col", "label",
                 "--out", str(out), "--report", str(page)]) == 0
    said = capsys.readouterr().out
    assert f"wrote {len(s) - 2} ig-bands maps (predicted) to {out}" in said
    assert re.search(r"^not explained: 2 spectra whose probabilities are not finite \(1, 4; "
                     r"they have no rows\)\. First reason: must give finite probabilities",
                     said, re.M), said
    rows = _rows(out)
    assert [r["id"] for r in rows] == [str(i) for i in range(len(s)) if i not in (1, 4)]
    assert max(abs(float(v)) for r in rows for k, v in r.items()
               if k not in ("id", "target", "method")) < 1e3
    assert ("not explained (probabilities not finite)</td><td class=\"num\">2<"
            in page.read_text())
    big = tmp_path / "all.csv"
    write_table(Spectra(np.array(s.X) * 1e38, s.wavenumbers, labels=s.labels), big)
    assert main(["explain", str(model_file), str(big), "--out", str(tmp_path / "no.csv")]) == 2
    assert ("every spectrum gave probabilities that are not finite; the first:"
            in capsys.readouterr().err)
    assert not (tmp_path / "no.csv").exists()


def test_predict_says_why_when_no_spectrum_has_finite_probabilities(model_file, peaks_file,
                                                                    tmp_path, capsys):
    # every spectrum overflowing read "every spectrum was refused by the model's recipe",
    # which had refused none
    s = read_table(peaks_file, label_col="label")
    write_table(Spectra(np.array(s.X) * 1e38, s.wavenumbers, labels=s.labels),
                tmp_path / "all.csv")
    capsys.readouterr()
    assert main(["predict", str(model_file), str(tmp_path / "all.csv"), "--out",
                 str(tmp_path / "all_pred.csv")]) == 2
    err = capsys.readouterr().err
    assert "every spectrum gave probabilities that are not finite; the first:" in err
    assert "refused by the model's recipe" not in err
    assert not (tmp_path / "all_pred.csv").exists()
