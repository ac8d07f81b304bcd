"""Real-world inputs on the command line: unlabelled rows in train/baseline/predict,
--groups-from folds, and the messages a new user meets (plain text, CLI terms, said once)."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

from _toy_sets import FAST as TRAIN_FAST
from _vendor_files import AXIS, spc_bytes
from ramancam import RamancamError
from ramancam.cli import main
from ramancam.cli._common import convergence_note
from ramancam.inner import rare_classes_note
from ramancam.io import read, read_table
from ramancam.spectra import Spectra
from ramancam.train import make_splits

FAST = [*TRAIN_FAST, "--threads", "1"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def partly_labelled(tmp_path_factory):
    """A simulated table (3 classes x 6) with the labels of 2 rows emptied."""
    folder = tmp_path_factory.mktemp("unlab")
    full = folder / "full.csv"
    assert main(["simulate", "peaks", "--n-per-class", "6", "--seed", "4",
                 "--out", str(full)]) == 0
    with open(full, newline="") as fh:
        rows = list(csv.reader(fh))
    li = rows[0].index("label")
    rows[1][li] = rows[5][li] = ""
    out = folder / "partly.csv"
    with open(out, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return out


def test_train_leaves_unlabelled_out_with_one_line(partly_labelled, tmp_path, capsys):
    model = tmp_path / "m.ramancam"
    assert main(["train", str(partly_labelled), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert out.count("left out 2 unlabelled spectra (empty label); using 16") == 1
    assert out.splitlines()[1].startswith("16 spectra, 3 classes")
    from ramancam.bundle import load

    assert load(model).info["training_data"]["left_out"] == {"unlabelled": 2}
    # predict takes the unlabelled rows and counts accuracy over the labelled ones only
    preds = tmp_path / "p.csv"
    assert main(["predict", str(model), str(partly_labelled), "--label-col", "label",
                 "--out", str(preds)]) == 0
    out = capsys.readouterr().out
    assert "/16); 2 unlabelled spectra not counted" in out
    with open(preds, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18 and [r["true"] for r in rows].count("") == 2
    # explain takes them with --target predicted, and says what to do with --target true
    assert main(["explain", str(model), str(partly_labelled), "--label-col", "label",
                 "--out", str(tmp_path / "e.csv")]) == 0
    assert main(["explain", str(model), str(partly_labelled), "--label-col", "label",
                 "--target", "true", "--out", str(tmp_path / "e2.csv")]) == 2
    assert "got spectra with an empty label" in capsys.readouterr().err


def test_baseline_leaves_unlabelled_out(partly_labelled, capsys):
    assert main(["baseline", str(partly_labelled), "--label-col", "label", "--recipe", "none",
                 "--model", "pca-svm", "--folds", "2", "--components", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("left out 2 unlabelled spectra") == 1 and "16 spectra" in out


def test_all_unlabelled_is_an_error(tmp_path, capsys):
    p = tmp_path / "t.csv"
    p.write_text("label,1,2,3\n,1,2,3\n,2,3,4\n")
    assert main(["baseline", str(p), "--label-col", "label", "--recipe", "none",
                 "--model", "pca-svm"]) == 2
    assert "all with an empty label" in capsys.readouterr().err


def test_train_with_groups_from_keeps_each_group_in_one_fold(tmp_path, rng, capsys):
    bands = {"lag": 700.0, "stat": 1300.0}
    for rep in (1, 2, 3):
        for phase, centre in bands.items():
            Y = (np.exp(-0.5 * ((AXIS - centre) / 40.0) ** 2) * 100
                 + rng.normal(0, 1, (3, AXIS.size)) + 10)
            (tmp_path / f"e_rep{rep}_{phase}.spc").write_bytes(spc_bytes(AXIS, Y))
    model = tmp_path / "m.ramancam"
    assert main(["train", str(tmp_path), "--labels-from", "regex:_(lag|stat)",
                 "--groups-from", r"regex:_(rep\d)_", *FAST, "--folds", "3", "--no-compare",
                 "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert "accuracy (3-fold group CV):" in out
    # each fold tests exactly one replicate: 6 spectra (2 phases x 3)
    rows = [ln.split() for ln in out.splitlines() if ln[:1].isdigit() and len(ln.split()) == 4]
    assert [r[2] for r in rows] == ["6", "6", "6"]
    data = read(tmp_path, labels_from="regex:_(lag|stat)", groups_from=r"regex:_(rep\d)_")
    for tr, te in make_splits(data, folds=3, group_col="group"):
        assert not set(data.meta["group"][tr]) & set(data.meta["group"][te])
    assert main(["train", str(tmp_path), "--labels-from", "regex:_(lag|stat)",
                 "--groups-from", r"regex:_(rep\d)_", "--split-col", "x", *FAST,
                 "--out", str(model)]) == 2
    assert "--groups-from gives groups for group-aware folds" in capsys.readouterr().err


# --------------------------------------------------------------------------- messages


def test_too_few_spectra_per_class_is_plain_text():
    s = Spectra(np.ones((5, 3)), [1.0, 2.0, 3.0], labels=["A", "A", "B", "B", "B"])
    with pytest.raises(RamancamError, match=r"the largest has 3\. Use 3 folds or fewer "
                                            r"\(--folds\), or add spectra\.$") as e:
        make_splits(s, folds=4)
    assert "np.str_" not in str(e.value) and "{" not in str(e.value)
    note = rare_classes_note(s.labels, 3)
    assert note == ("note: 1 of 2 classes has fewer than 3 spectra (A (2)), so it is tested "
                    "in fewer than 3 folds.")
    assert rare_classes_note(s.labels, 2) is None


def test_table_without_numeric_header_speaks_cli(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("shift,intensity\n400,1\n500,2\n")
    with pytest.raises(RamancamError, match=r"t\.csv, line 1: a \(shift, intensity\) file has "
                                            r"no label column; got label_col='label'\. Label "
                                            r"its spectra by file \(--labels-from") as e:
        read_table(p, label_col="label")
    assert "read_two_column" not in str(e.value)


def test_convergence_warnings_are_said_once(capsys, recwarn):
    from sklearn.exceptions import ConvergenceWarning

    with convergence_note("PLS-DA"):
        for _ in range(3):
            warnings.warn("Maximum number of iterations reached", ConvergenceWarning,
                          stacklevel=1)
            warnings.warn("y residual is constant at iteration 4", UserWarning, stacklevel=1)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("note: PLS-DA did not fully converge in 3 of its inner fits")
    assert lines[1].startswith("note: PLS-DA ran out of class information before its largest "
                               "number of components in 3 inner fits")
    assert "Warning" not in captured.err and "residual" not in captured.err
    with convergence_note("PLS-DA"):
        warnings.warn("other", RuntimeWarning, stacklevel=1)  # other warnings pass through
    assert [str(w.message) for w in recwarn if w.category is RuntimeWarning] == ["other"]


def test_convergence_note_keeps_the_callers_filters_for_other_warnings(capsys):
    # every warning was held to the end and shown past a Python caller's "error" and
    # "ignore" filters (cross_validate_spectra runs train's code inside the note)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="other"), convergence_note("PLS-DA"):
            warnings.warn("other", RuntimeWarning, stacklevel=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with convergence_note("PLS-DA"):
            warnings.warn("other", RuntimeWarning, stacklevel=1)
    assert "other" not in capsys.readouterr().err
