"""A training run whose loss becomes NaN or inf (a learning rate far too large) is refused
before anything is saved: ``train`` saved a model of NaN weights, printed ``saved`` and
exited 0, and ``predict`` then called the file damaged. A cross-validation fold that
diverges says so on its line; the table keeps its layout."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

from ramancam.cli import main
from ramancam.errors import RamancamError, RamancamWarning
from ramancam.simulate import peak_position_set
from ramancam.spectra import Spectra
from ramancam.train import CNNClassifier, cross_validate

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"n_filters": 2, "fc_width": 4, "epochs": 2, "novelty": None, "random_state": 0}


@pytest.fixture(scope="module")
def peaks():
    return peak_position_set(4, rng=0)


@pytest.fixture(scope="module")
def sim_csv(tmp_path_factory, peaks):
    from ramancam.io import write_table

    path = tmp_path_factory.mktemp("div") / "sim.csv"
    write_table(peaks, path)
    return path


def test_fit_refuses_a_network_whose_training_diverged(peaks):
    est = CNNClassifier(**{**TINY, "lr": 1e30})
    with pytest.raises(RamancamError, match=r"training diverged \(loss NaN or inf at epoch \d "
                                            r"of 2\).*Lower lr \(got 1e\+30"):
        est.fit(peaks.X, peaks.labels)
    assert not hasattr(est, "module_")  # nothing fitted


def test_a_diverged_refit_keeps_the_fitted_model(peaks):
    est = CNNClassifier(**TINY).fit(peaks.X, peaks.labels)
    module, history = est.module_, est.history_
    est.set_params(lr=1e30)
    with pytest.raises(RamancamError, match="training diverged"):
        est.fit(peaks.X, peaks.labels)
    assert est.module_ is module and est.history_ is history
    assert all(torch.isfinite(p).all() for p in est.module_.parameters())


def test_save_refuses_non_finite_weights(tmp_path, peaks):
    from ramancam.bundle import save

    est = CNNClassifier(**TINY).fit(peaks.X, peaks.labels)
    with torch.no_grad():
        next(est.module_.parameters())[0] = float("nan")
    out = tmp_path / "m.ramancam"
    with pytest.raises(RamancamError, match="weights must be finite"):
        save(out, estimator=est, recipe=None, grid=peaks.wavenumbers, training_summary={})
    assert not out.exists()


def test_cross_validate_says_which_fold_diverged(peaks):
    with pytest.warns(RamancamWarning, match=r"fold 1/2: training diverged \(loss NaN or "
                                              r"inf at epoch \d of 2\)"):
        cv = cross_validate(peaks, estimator_params={**TINY, "lr": 1e30}, folds=2,
                            compare=False)
    assert cv.fold_diverged == [2, 2]  # epoch 1's loss was finite
    assert len(cv.fold_accuracy) == 2  # reported as they are
    assert cv.to_dict()["fold_diverged"] == [2, 2]


def test_cross_validate_without_divergence_warns_nothing(peaks):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RamancamWarning)
        cv = cross_validate(peaks, estimator_params=TINY, folds=2, compare=False)
    assert cv.fold_diverged == [None, None]


TRAIN = ["--label-col", "label", "--recipe", "none", "--epochs", "2", "--filters", "2",
         "--fc-width", "4", "--folds", "2", "--no-compare", "--novelty", "none"]


@pytest.mark.parametrize("augment", ["off", "auto"])
def test_train_refuses_to_save_a_diverged_model(tmp_path, capsys, sim_csv, augment):
    out = tmp_path / "lr.ramancam"
    rc = main(["train", str(sim_csv), *TRAIN, "--augment", augment, "--lr", "1e30",
               "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 2, cap.err
    last = cap.err.strip().splitlines()[-1]
    assert re.match(r"error: training diverged \(loss NaN or inf at epoch \d of 2\).*no model "
                    r"was saved.*Lower --lr \(got 1e\+30", last), cap.err
    assert "Traceback" not in cap.err and "saved" not in cap.out
    assert not out.exists() and list(tmp_path.iterdir()) == []
    # the fold lines said it first; the table kept its layout
    assert "fold 1/2: CNN accuracy" in cap.err and "diverged" in cap.err.split("error:")[0]
    table = cap.out.split("accuracy (2-fold CV):\n", 1)[1].splitlines()
    assert table[0].split() == ["fold", "train", "test", "CNN"]
    assert table[1].split()[0] == "1" and table[3].startswith("mean +- sd")


def test_train_split_refuses_a_diverged_model(tmp_path, capsys, peaks):
    from ramancam.io import write_table

    split = np.where(np.arange(len(peaks)) % 4 == 0, "test", "train")
    data = tmp_path / "split.csv"
    write_table(Spectra(peaks.X, peaks.wavenumbers, labels=peaks.labels,
                        meta={"split": split}), data)
    out = tmp_path / "lr.ramancam"
    argv = TRAIN[:TRAIN.index("--folds")] + TRAIN[TRAIN.index("--folds") + 2:]
    rc = main(["train", str(data), *argv, "--augment", "off", "--split-col", "split",
               "--lr", "1e30", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "training diverged" in err.strip().splitlines()[-1], err
    assert not out.exists()

