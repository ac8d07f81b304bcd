"""Training, CNNClassifier (scikit-learn contract), splits and cross validation."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from ramancam.errors import RamancamError
from ramancam.simulate import peak_position_set
from ramancam.spectra import Spectra
from ramancam.train import CNNClassifier, CVResult, cross_validate, make_splits

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = {"n_filters": 4, "filter_size": 3, "fc_width": 8, "epochs": 2, "batch_size": 16}


def small_set(n_per_class=8, seed=0, n_channels=96):
    """Three classes with one band each on a short axis: fast and easy to learn."""
    return peak_position_set(n_per_class, n_channels=n_channels, positions=(15, 45, 75),
                             rng=seed)


# --------------------------------------------------------------- estimator checks
@parametrize_with_checks([CNNClassifier(**TINY, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------- fitting
def test_one_epoch_fit_shapes_and_attributes():
    s = small_set()
    est = CNNClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(s.X, s.labels)
    assert est.n_features_in_ == 96
    assert list(est.classes_) == ["peak_15", "peak_45", "peak_75"]
    proba = est.predict_proba(s.X)
    assert proba.shape == (24, 3)
    # softmax in float64: rows sum to 1 as scikit-learn's log_loss checks (not 1e-7 off)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert set(est.predict(s.X)) <= set(est.classes_)
    assert not est.module_.training
    assert len(est.history_) == 1 and est.n_epochs_ == 1
    assert est.history_[0]["loss"] > 0
    # the epochs' time apart from the novelty score's fit (train's s/epoch counted both:
    # 0.71 s/epoch for 0.30)
    assert est.novelty_scorer_ is not None and est.novelty_time_ > 0 and est.train_time_ > 0
    assert est.train_time_ + est.novelty_time_ <= est.fit_time_


def test_a_spectra_object_is_its_matrix_and_its_labels():
    """Spectra on one axis go where scikit-learn takes X (np.asarray(spectra) is X), and fit
    takes the labels from them when y is left out: the same network as from the arrays."""
    s = small_set()
    a = CNNClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(s.X, s.labels)
    b = CNNClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(s)
    np.testing.assert_array_equal(a.predict_proba(s.X), b.predict_proba(s[:24]))
    assert b.score(s, s.labels) == a.score(s.X, s.labels)
    # bit for bit, also over more epochs: a Spectra was read as float32 (it has no dtype
    # for scikit-learn to keep), the matrix as float64, and the weights drifted apart
    opts = {**TINY, "epochs": 8, "input_scaling": "center", "novelty": "hqi-nap"}
    a = CNNClassifier(**opts, random_state=0).fit(s.X, s.labels)
    b = CNNClassifier(**opts, random_state=0).fit(s)
    for (name, wa), wb in zip(a.module_.state_dict().items(),
                              b.module_.state_dict().values(), strict=True):
        assert torch.equal(wa, wb), name
    assert a.novelty_threshold_ == b.novelty_threshold_
    scores = cross_val_score(CNNClassifier(**{**TINY, "epochs": 1}, random_state=0), s,
                             s.labels, cv=2)
    assert scores.shape == (2,)
    with pytest.raises(RamancamError, match="labels"):
        CNNClassifier(**TINY).fit(Spectra(s.X, s.wavenumbers))  # unlabelled, no y
    # an empty label marks an unlabelled spectrum (a map pixel nobody annotated): no class
    part = Spectra(s.X, s.wavenumbers, labels=np.where(np.arange(len(s)) < 3, "", s.labels))
    assert part.classes == sorted(set(s.labels.tolist()))
    assert sum(part.class_counts().values()) == len(s) - 3
    with pytest.raises(RamancamError, match=r'got 3 with an empty label.*X\[X.labels != ""\]'):
        CNNClassifier(**TINY).fit(part)
    ragged = Spectra([s.X[0], s.X[1, :50]], [s.wavenumbers, s.wavenumbers[:50]],
                     labels=["a", "b"])
    with pytest.raises(RamancamError, match="needs spectra on one common axis"):
        CNNClassifier(**TINY).fit(ragged)


def test_learns_the_peak_position_task():
    s = small_set(10, seed=1)
    est = CNNClassifier(**{**TINY, "epochs": 25, "lr": 3e-3}, random_state=0)
    est.fit(s.X, s.labels)
    test = small_set(10, seed=2)
    assert est.score(test.X, test.labels) >= 0.9  # fixed seeds
    assert est.history_[-1]["loss"] < est.history_[0]["loss"]


def _weights(est):
    return [v.clone() for v in est.module_.state_dict().values()]


def test_same_seed_gives_bit_identical_weights_and_leaves_global_rng():
    s = small_set()
    params = {**TINY, "epochs": 2, "augment_noise": 0.01, "augment_shift": 2}
    before = torch.get_rng_state()
    a = CNNClassifier(**params, random_state=7).fit(s.X, s.labels)
    assert torch.equal(before, torch.get_rng_state())
    b = CNNClassifier(**params, random_state=7).fit(s.X, s.labels)
    c = CNNClassifier(**params, random_state=8).fit(s.X, s.labels)
    wa, wb, wc = _weights(a), _weights(b), _weights(c)
    assert all(torch.equal(x, y) for x, y in zip(wa, wb, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(wa, wc, strict=True))


def test_early_stopping_keeps_best_epoch():
    s = small_set(10)
    est = CNNClassifier(**{**TINY, "epochs": 40, "lr": 3e-3}, validation_fraction=0.3,
                        patience=2, random_state=0).fit(s.X, s.labels)
    assert "val_loss" in est.history_[0]
    val = [h["val_loss"] for h in est.history_]
    assert est.history_[est.best_epoch_ - 1]["val_loss"] == min(val)
    assert est.n_epochs_ <= 40


def test_augmentation_changes_training_but_not_shapes():
    s = small_set()
    plain = CNNClassifier(**TINY, random_state=0).fit(s.X, s.labels)
    aug = CNNClassifier(**TINY, augment_noise=0.05, augment_shift=3, augment_baseline=0.1,
                        augment_scale=0.2, random_state=0).fit(s.X, s.labels)
    assert plain.history_[0]["loss"] != aug.history_[0]["loss"]
    assert aug.predict_proba(s.X).shape == (24, 3)


AUG = {"augment_noise": 0.05, "augment_shift": 3, "augment_baseline": 0.1,
       "augment_scale": 0.2}


def test_augment_select_records_its_decision_and_keeps_the_random_stream():
    s = small_set(10)
    est = CNNClassifier(**TINY, **AUG, augment_select=True, random_state=3).fit(
        s.X, s.labels)
    c = est.augment_choice_
    assert c["n_val"] == 6  # ceil(0.2 * 30), stratified
    assert set(c["val_accuracy"]) == set(c["val_loss"]) == {"off", "on"}
    assert all(0 <= v <= 1 for v in c["val_accuracy"].values())
    on = c["val_accuracy"]["on"] > c["val_accuracy"]["off"] or (
        c["val_accuracy"]["on"] == c["val_accuracy"]["off"]
        and c["val_loss"]["on"] < c["val_loss"]["off"])
    assert c["augment"] is on
    # the final network is the plain fit with the chosen setting: same weights
    chosen = AUG if c["augment"] else dict.fromkeys(AUG, 0)
    ref = CNNClassifier(**TINY, **chosen, random_state=3).fit(s.X, s.labels)
    assert all(torch.equal(x, y) for x, y in zip(_weights(est), _weights(ref), strict=True))
    # nothing to choose without amounts; no selection without the flag
    assert CNNClassifier(**TINY, augment_select=True, random_state=3).fit(
        s.X, s.labels).augment_choice_ is None
    assert CNNClassifier(**TINY, **AUG, random_state=3).fit(
        s.X, s.labels).augment_choice_ is None


def test_augmentation_rule_accuracy_then_loss_then_plain():
    from ramancam.augment import prefers_augmentation

    assert prefers_augmentation({"off": 0.8, "on": 0.9}, {"off": 0.1, "on": 0.5}) is True
    assert prefers_augmentation({"off": 0.9, "on": 0.8}, {"off": 0.5, "on": 0.1}) is False
    assert prefers_augmentation({"off": 0.9, "on": 0.9}, {"off": 0.5, "on": 0.1}) is True
    assert prefers_augmentation({"off": 0.9, "on": 0.9}, {"off": 0.1, "on": 0.5}) is False
    assert prefers_augmentation({"off": 0.9, "on": 0.9}, {"off": 0.3, "on": 0.3}) is False


def test_augment_select_with_one_spectrum_per_class_trains_plain():
    # nothing to validate on: no decision, the plain fit, and the reason recorded
    s = small_set(10)
    X, y = s.X[[0, 10, 20]], s.labels[[0, 10, 20]]
    assert len(set(y.tolist())) == 3
    est = CNNClassifier(**TINY, **AUG, augment_select=True, random_state=3).fit(X, y)
    c = est.augment_choice_
    assert c["augment"] is False and c["n_val"] == 0 and c["val_accuracy"] is None
    assert c["skipped"] == ("too few spectra for an inner validation split (3, 3 of them "
                            "the only spectrum of their class)")
    ref = CNNClassifier(**TINY, random_state=3).fit(X, y)
    assert all(torch.equal(a, b) for a, b in zip(_weights(est), _weights(ref), strict=True))
    from ramancam.cli.train import augment_line

    assert augment_line(c, [None, None]) == (
        "augmentation: off (not chosen: too few spectra for an inner validation split (3, "
        "3 of them the only spectrum of their class))")
    # a tie on accuracy, decided by losses that .3f would print alike
    tie = {"augment": True, "n_val": 12, "val_accuracy": {"on": 1.0, "off": 1.0},
           "val_loss": {"on": 0.00012, "off": 0.00031}}
    assert augment_line(tie, [True, True]) == (
        "augmentation: on (inner validation on 12 training spectra: accuracy 1.000 with, "
        "1.000 without; loss 1.20e-04 / 3.10e-04, which decides; chosen in 2 of 2 CV folds)")
    # losses that differ in the 5th digit: printed with digits enough to show it
    close = {**tie, "val_loss": {"on": 1.417638, "off": 1.417653}}
    assert "loss 1.4176 / 1.4177, which decides)" in augment_line(close, [True])
    same = {**tie, "val_loss": {"on": 0.25, "off": 0.25}}
    assert "loss 0.250 / 0.250; a tie: off)" in augment_line({**same, "augment": False}, [True])
    # accuracy and loss disagreeing: the line says which one decided
    split = {**tie, "val_accuracy": {"on": 0.925, "off": 0.92},
             "val_loss": {"on": 0.255, "off": 0.193}}
    assert ("accuracy 0.925 with, 0.920 without, which decides; loss 0.255 / 0.193)"
            in augment_line(split, [True]))


def test_augment_select_rejects_an_augmentation_that_erases_the_classes():
    # The classes differ only by where their band sits (5 points apart); shifting spectra by
    # up to 12 points makes them indistinguishable, so the inner check must say "off".
    s = peak_position_set(20, n_channels=96, positions=(40, 45), rng=0)
    est = CNNClassifier(**{**TINY, "epochs": 30, "lr": 3e-3}, augment_shift=12,
                        augment_select=True, random_state=0).fit(s.X, s.labels)
    c = est.augment_choice_
    assert c["augment"] is False
    assert c["val_accuracy"]["off"] > c["val_accuracy"]["on"]


def test_cross_fit_reuses_the_fitted_models_augmentation_decision(monkeypatch):
    from ramancam.novelty import cross_fit

    s = peak_position_set(20, n_channels=96, positions=(40, 45), rng=0)
    est = CNNClassifier(**TINY, augment_shift=12, augment_select=True,
                        random_state=0).fit(s.X, s.labels)
    seen = []
    orig = CNNClassifier.fit

    def spy(self, X, y, groups=None):
        seen.append((self.augment_select, self.augment_shift))
        return orig(self, X, y, groups)

    monkeypatch.setattr(CNNClassifier, "fit", spy)
    cross_fit(est, s.X, s.labels, folds=2, seed=0)
    want = (False, 12 if est.augment_choice_["augment"] else 0)
    assert seen == [want, want]


def test_inner_folds_keep_groups_together_and_the_validation_part_is_by_spectrum():
    from sklearn.model_selection import train_test_split

    from ramancam.inner import holdout, kfold

    y = np.repeat(np.arange(3), 20)
    groups = np.repeat(np.arange(15), 4)  # 5 samples per class, 4 replicates each
    for tr, te in kfold(y, 3, 0, groups):
        assert not set(groups[tr]) & set(groups[te]) and tr.size + te.size == 60
        assert set(y[te]) == {0, 1, 2}
    assert len(kfold(y, 3, 0, np.repeat(np.arange(2), 30))) == 2  # at most one per group
    # without groups (or with one) the folds are the stratified folds by spectrum
    for g in (None, np.zeros(60)):
        assert any(set(groups[tr]) & set(groups[te]) for tr, te in kfold(y, 3, 0, g))
    want = train_test_split(np.arange(60), test_size=12, random_state=0, stratify=y)
    tr, va = holdout(y, 0.2, 0)
    assert (va == np.sort(want[1])).all() and (tr == np.sort(want[0])).all()


def test_groups_change_the_novelty_threshold_but_not_the_network():
    # Measured (docs/levers.md): an augmentation decision on held-out groups lost accuracy,
    # so groups only reach the novelty threshold's held-out scores.
    s = small_set(12)
    groups = np.repeat(np.arange(12), 3)  # 4 samples per class, 3 spectra each
    plain = CNNClassifier(**TINY, **AUG, augment_select=True, random_state=0).fit(
        s.X, s.labels)
    grouped = CNNClassifier(**TINY, **AUG, augment_select=True, random_state=0).fit(
        s.X, s.labels, groups=groups)
    assert grouped.augment_choice_["augment"] == plain.augment_choice_["augment"]
    assert all(torch.equal(a, b)
               for a, b in zip(_weights(plain), _weights(grouped), strict=True))
    # the threshold comes from leave-one-group-out scores instead of leave-one-out ones
    from ramancam.novelty import conformal_threshold

    y_idx = np.searchsorted(plain.classes_, s.labels)
    sc = grouped.novelty_scorer_
    assert grouped.novelty_threshold_ == pytest.approx(
        conformal_threshold(sc.loo_scores(groups, y_idx), 0.05))
    assert plain.novelty_threshold_ == pytest.approx(
        conformal_threshold(sc.loo_scores(None, y_idx), 0.05))
    assert grouped.novelty_threshold_ != pytest.approx(plain.novelty_threshold_)
    with pytest.raises(RamancamError, match="groups must hold one value per spectrum"):
        CNNClassifier(**TINY, random_state=0).fit(s.X, s.labels, groups=groups[:-1])


def test_cross_validate_gives_each_fit_its_training_groups(monkeypatch):
    s = small_set(8)
    s.meta["sample"] = np.repeat(np.arange(12), 2)
    seen = []
    orig = CNNClassifier.fit

    def spy(self, X, y, groups=None):
        seen.append((len(y), None if groups is None else np.asarray(groups).copy()))
        return orig(self, X, y, groups)
    monkeypatch.setattr(CNNClassifier, "fit", spy)
    cv = cross_validate(s, estimator_params=TINY, folds=3, group_col="sample", compare=False)
    for (n, g), (tr, _) in zip(seen, make_splits(s, folds=3, group_col="sample"),
                               strict=True):
        assert n == tr.size and (g == s.meta["sample"][tr].astype(str)).all()
    assert cv.kind == "group"
    seen.clear()
    cross_validate(s, estimator_params=TINY, folds=3, compare=False)
    assert [g for _, g in seen] == [None, None, None]


def test_augment_select_must_be_a_bool():
    s = small_set()
    with pytest.raises(RamancamError, match="augment_select must be True or False"):
        CNNClassifier(**TINY, augment_select="yes").fit(s.X, s.labels)


def test_evaluation_batches_do_not_change_results():
    s = small_set(120)  # 360 spectra: more than one inference batch of 256
    est = CNNClassifier(**TINY, random_state=0).fit(s.X[::12], s.labels[::12])
    whole = est.predict_proba(s.X)
    parts = np.vstack([est.predict_proba(s.X[i:i + 50]) for i in range(0, 360, 50)])
    np.testing.assert_allclose(whole, parts, rtol=1e-5, atol=1e-7)


def test_works_in_pipeline_cross_val_score_and_grid_search():
    s = small_set()
    pipe = make_pipeline(FunctionTransformer(), CNNClassifier(**TINY, random_state=0))
    scores = cross_val_score(pipe, s.X, s.labels, cv=3)
    assert scores.shape == (3,)
    gs = GridSearchCV(CNNClassifier(**TINY, random_state=0), {"lr": [1e-4, 1e-3]}, cv=2)
    gs.fit(s.X, s.labels)
    assert gs.best_params_["lr"] in (1e-4, 1e-3)


@pytest.mark.parametrize(("params", "match"), [
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"lr": -1.0}, "lr must be a positive number"),
    ({"weight_decay": -1.0}, "weight_decay must be a number >= 0"),
    ({"validation_fraction": 1.0}, r"validation_fraction must be a number in \[0, 1\)"),
    ({"augment_shift": -1}, "augment_shift must be an integer >= 0"),
    ({"augment_noise": -0.1}, "augment_noise must be a number >= 0"),
    ({"device": "tpu"}, "device must be"),
    ({"fc_activation": "relu"}, "fc_activation must be one of"),
])
def test_parameter_errors(params, match):
    s = small_set(3)
    with pytest.raises(RamancamError, match=match):
        CNNClassifier(**{**TINY, **params}).fit(s.X, s.labels)


def test_one_class_and_tiny_validation_split_errors():
    s = small_set(3)
    with pytest.raises(ValueError, match="class"):
        CNNClassifier(**TINY).fit(s.X[:3], s.labels[:3])
    with pytest.raises(RamancamError, match="validation_fraction must leave spectra"):
        CNNClassifier(**TINY, validation_fraction=0.99).fit(s.X[:4], s.labels[:4])


def _state(est):
    """The estimator's attributes (the objects themselves, compared by identity)."""
    return dict(vars(est))


def _assert_as_it_was(est, state, X, proba):
    now = vars(est)
    assert sorted(now) == sorted(state)
    changed = [k for k in state if now[k] is not state[k]]
    assert changed == []
    np.testing.assert_array_equal(est.predict_proba(X), proba)


def test_a_refused_refit_leaves_the_fitted_model_as_it_was():
    # fit wrote classes_, n_features_in_, wavenumbers_in_ and the class means before it
    # refused: after a refit on one class, predict raised a bare IndexError (one class
    # name, three network outputs); after one on longer spectra n_features_in_ said 300
    # while the network took 96
    s = small_set(4)
    est = CNNClassifier(**TINY, random_state=0).fit(s)
    state, proba = _state(est), est.predict_proba(s.X)
    with pytest.raises(RamancamError, match="at least 2 classes"):
        est.fit(s.X[:4], s.labels[:4])
    _assert_as_it_was(est, state, s.X, proba)
    assert est.predict(s.X).tolist() == state["classes_"][proba.argmax(axis=1)].tolist()
    longer = small_set(4, n_channels=300)
    with pytest.raises(RamancamError, match="at least 2 classes"):
        est.fit(longer.X[:4], longer.labels[:4])
    lr = est.lr
    with pytest.raises(RamancamError, match="lr must be"):
        est.set_params(lr=-1.0).fit(longer)
    est.set_params(lr=lr)
    _assert_as_it_was(est, state, s, proba)  # the Spectra's axis is still checked
    assert est.n_features_in_ == 96 and est.wavenumbers_in_.size == 96


def test_an_interrupted_refit_leaves_the_fitted_model_as_it_was(monkeypatch):
    # Ctrl-C in a refit left classes_ the new names beside the old network (predict
    # returned the new names from the old outputs) and history_ the interrupted epochs
    import ramancam._heartbeat as heartbeat

    s = small_set(4)
    est = CNNClassifier(**{**TINY, "epochs": 3}, random_state=0).fit(s)
    state, proba = _state(est), est.predict_proba(s.X)
    renamed = Spectra(s.X, s.wavenumbers, labels=np.char.add("x", s.labels.astype(str)))
    plain = heartbeat.epoch_bar

    class Interrupted:  # Ctrl-C during the second epoch
        def __init__(self, n, verbose, **kw):
            self.bar = plain(n, verbose, **kw)

        def __iter__(self):
            for epoch in self.bar:
                if epoch == 2:
                    raise KeyboardInterrupt
                yield epoch

        def __getattr__(self, name):
            return getattr(self.bar, name)
    monkeypatch.setattr(heartbeat, "epoch_bar", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(renamed)
    _assert_as_it_was(est, state, s.X, proba)
    assert est.predict(s.X).tolist() == state["classes_"][proba.argmax(axis=1)].tolist()
    assert len(est.history_) == est.n_epochs_ == 3
    # and the same refit, uninterrupted, takes the new names
    monkeypatch.setattr(heartbeat, "epoch_bar", plain)
    assert est.fit(renamed).classes_[0] == "xpeak_15"


def test_a_settings_warning_names_the_callers_line():
    from ramancam.errors import RamancamWarning

    s = small_set(2)
    with pytest.warns(RamancamWarning, match="filter_size") as caught:
        CNNClassifier(**{**TINY, "filter_size": 97, "epochs": 1}).fit(s.X, s.labels)
    assert [w.filename for w in caught] == [__file__]


# ----------------------------------------------------------------------- splits
def _with_meta(s: Spectra, **meta) -> Spectra:
    return s.replace(meta={**s.meta, **meta})


def test_stratified_splits_partition_and_stratify():
    s = small_set(10)
    splits = make_splits(s, folds=5, seed=0)
    assert len(splits) == 5
    tests = np.concatenate([te for _, te in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(30))
    for tr, te in splits:
        assert np.intersect1d(tr, te).size == 0
        assert s[te].class_counts() == {"peak_15": 2, "peak_45": 2, "peak_75": 2}
    again = make_splits(s, folds=5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again, strict=True))


def _check_group_folds(splits, groups, folds):
    """``folds`` splits that test every spectrum once, train on all the others, and never
    split a group (the loop alone passed on no splits at all)."""
    assert len(splits) == folds
    np.testing.assert_array_equal(np.sort(np.concatenate([te for _, te in splits])),
                                  np.arange(groups.size))
    for tr, te in splits:
        assert te.size and not set(groups[tr]) & set(groups[te])
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(groups.size))


def test_group_splits_keep_groups_together():
    s = small_set(10)
    groups = np.repeat(np.arange(15), 2).astype(str)
    s = _with_meta(s, vial=groups)
    _check_group_folds(make_splits(s, folds=3, group_col="vial", seed=0), groups, 3)



def test_group_splits_ignore_spaces_around_the_values():
    """A trailing space on some rows of a patient ("P0 ", a spreadsheet's) made it a second
    group: the patient trained and tested in one fold (a measured 1.000 where the grouped
    estimate was 0.65)."""
    s = small_set(10)
    groups = np.repeat(np.arange(15), 2).astype(str).astype(object)
    groups[::2] = [g + " " for g in groups[::2]]
    groups[1::4] = [" " + g for g in groups[1::4]]
    s = _with_meta(s, vial=groups)
    clean = np.char.strip(groups.astype(str))
    _check_group_folds(make_splits(s, folds=3, group_col="vial", seed=0), clean, 3)
    # and every fit's groups (the held-out novelty scores leave a whole group out)
    from ramancam.inner import check_groups

    assert set(check_groups(groups, groups.size)) == set(clean)


def test_fixed_split():
    s = small_set(4)
    split = np.where(np.arange(12) % 3 == 0, "test", "train")
    s = _with_meta(s, split=split)
    ((tr, te),) = make_splits(s, split_col="split", train_value="train")
    np.testing.assert_array_equal(te, np.flatnonzero(split == "test"))
    np.testing.assert_array_equal(tr, np.flatnonzero(split == "train"))


def test_fixed_split_ignores_spaces_around_the_values():
    # "train " (a trailing space from a spreadsheet) made a training spectrum a test one
    s = small_set(4)
    split = np.where(np.arange(12) % 3 == 0, "test", "train").astype(object)
    split[[1, 2]] = ["train ", " train"]
    ((tr, te),) = make_splits(_with_meta(s, split=split), split_col="split",
                              train_value="train")
    np.testing.assert_array_equal(te, np.flatnonzero(np.arange(12) % 3 == 0))
    assert {1, 2} <= set(tr.tolist())


def test_split_errors():
    s = _with_meta(small_set(3), split=np.full(9, "train"), vial=np.arange(9).astype(str))
    with pytest.raises(RamancamError, match="must mark both training"):
        make_splits(s, split_col="split")
    with pytest.raises(RamancamError, match="split column 'nope' must be a metadata column"):
        make_splits(s, split_col="nope")
    with pytest.raises(RamancamError, match=r"at least one class must have 5 spectra for "
                                            r"5-fold cross validation; the largest has 3\. "
                                            r"Use 3 folds or fewer"):
        make_splits(s, folds=5)
    with pytest.raises(RamancamError, match="folds must be an integer >= 2"):
        make_splits(s, folds=1)
    with pytest.raises(RamancamError, match="must have at least 20 distinct values"):
        make_splits(s, folds=20, group_col="vial")
    with pytest.raises(RamancamError, match="must not both be given"):
        make_splits(s, group_col="vial", split_col="split")
    with pytest.raises(RamancamError, match="must carry class labels"):
        make_splits(Spectra(s.X, s.wavenumbers), folds=2)


# ---------------------------------------------------------------- cross validation
def test_cross_validate_records_out_of_fold_results():
    s = small_set(6)
    calls = []
    cv = cross_validate(s, estimator_params=TINY, folds=3, compare=False, keep_models=True,
                        progress=lambda k, n, a: calls.append((k, n)))
    assert isinstance(cv, CVResult)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert len(cv.fold_accuracy) == 3 and len(cv.models) == 3
    assert cv.confusion.sum() == 18
    assert set(cv.fold_of.tolist()) == {0, 1, 2}
    assert cv.oof_proba.shape == (18, 3)
    np.testing.assert_allclose(cv.oof_proba.sum(axis=1), 1.0, rtol=1e-6)
    # Per-fold accuracy agrees with the stored out-of-fold predictions.
    for k, acc in enumerate(cv.fold_accuracy):
        m = cv.fold_of == k
        assert acc == pytest.approx(np.mean(cv.oof_pred[m] == s.labels[m]))
    assert cv.mean == pytest.approx(np.mean(cv.fold_accuracy))
    assert cv.std == pytest.approx(np.std(cv.fold_accuracy, ddof=1))
    d = cv.to_dict()
    assert d["n_folds"] == 3 and d["confusion"] == cv.confusion.tolist()
    assert set(d["recall"]) == set(cv.classes)


def test_cross_validate_keeps_each_fold_models_own_novelty_threshold():
    # the report judged the spectra of a class a fold model never saw by the final model's
    # threshold: the fold models' own were not kept
    s = small_set(8)
    cv = cross_validate(s, estimator_params={**TINY, "novelty_rate": 0.2}, folds=3,
                        compare=False, keep_models=True)
    assert cv.fold_thresholds == [m.novelty_threshold_ for m in cv.models]
    assert np.isfinite(cv.fold_thresholds).all()  # the hqi scores' leave-one-out ones
    # a score that needs held-out networks: the fold models choose none (not inf: "none
    # flagged" would be a claim no model made)
    knn = cross_validate(s, estimator_params={**TINY, "novelty": "knn"}, folds=2,
                         compare=False)
    assert len(knn.fold_thresholds) == 2 and np.isnan(knn.fold_thresholds).all()


def test_cross_validate_fixed_split_leaves_train_part_untested():
    s = small_set(4)
    split = np.where(np.arange(12) % 4 == 0, "test", "train")
    cv = cross_validate(_with_meta(s, split=split), estimator_params=TINY,
                        split_col="split", compare=False)
    assert len(cv.fold_accuracy) == 1
    assert (cv.fold_of[split == "train"] == -1).all()
    assert np.isnan(cv.oof_proba[split == "train"]).all()
    assert cv.confusion.sum() == 3 and cv.std == 0.0


def test_compare_uses_exactly_the_same_folds(monkeypatch):
    import ramancam.baselines as baselines

    seen: dict[str, list[tuple[int, ...]]] = {"PCASVM": [], "PLSDA": [], "LibrarySearch": []}

    def spy(cls):
        orig = cls.fit

        def fit(self, X, y):
            seen[cls.__name__].append(tuple(np.round(X[:, :3].sum(axis=1), 9)))
            return orig(self, X, y)
        monkeypatch.setattr(cls, "fit", fit)

    spy(baselines.PCASVM)
    spy(baselines.PLSDA)
    spy(baselines.LibrarySearch)
    cnn_fits: list[tuple[int, ...]] = []
    orig = CNNClassifier.fit

    def cnn_fit(self, X, y, groups=None):
        cnn_fits.append(tuple(np.round(np.asarray(X)[:, :3].sum(axis=1), 9)))
        return orig(self, X, y, groups)
    monkeypatch.setattr(CNNClassifier, "fit", cnn_fit)
    s = small_set(6)
    cv = cross_validate(s, estimator_params=TINY, folds=3, compare=True)
    assert set(cv.baselines) == {"PCA+SVM", "PLS-DA", "library"}
    assert all(len(v) == 3 for v in cv.baselines.values())
    # The training matrices (fingerprinted row by row) are identical for all four models.
    assert seen["PCASVM"][:3] == cnn_fits == seen["PLSDA"][:3] == seen["LibrarySearch"]
    assert cv.to_dict()["baselines"] == cv.baselines


@pytest.mark.filterwarnings("error")
def test_cnn_and_compare_are_the_same_under_scikit_learns_pandas_output():
    # sklearn.set_config(transform_output="pandas") (common in notebooks): cross_validate
    # with compare=True failed in PCASVM.fit, whose inner PCA returned a DataFrame
    import sklearn

    s = small_set(6)
    params = {**TINY, "novelty": "mahalanobis", "calibration_cv": 2}
    ref = CNNClassifier(**params, random_state=0).fit(s.X, s.labels)
    ref_cv = cross_validate(s, estimator_params=TINY, folds=2, compare=True)
    with sklearn.config_context(transform_output="pandas"):
        est = CNNClassifier(**params, random_state=0).fit(s.X, s.labels)
        proba = est.predict_proba(s.X)
        cv = cross_validate(s, estimator_params=TINY, folds=2, compare=True)
    assert type(proba) is np.ndarray
    np.testing.assert_array_equal(proba, ref.predict_proba(s.X))
    assert est.novelty_threshold_ == ref.novelty_threshold_
    np.testing.assert_array_equal(cv.oof_proba, ref_cv.oof_proba)
    assert cv.baselines == ref_cv.baselines and set(cv.baselines) == {
        "PCA+SVM", "PLS-DA", "library"}


def test_compare_without_baselines_module_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ramancam.baselines", None)
    with pytest.raises(RamancamError, match="compare must be False"):
        cross_validate(small_set(6), estimator_params=TINY, folds=3, compare=True)


def test_cv_result_precision_recall_hand_values():
    cv = CVResult(classes=["a", "b"], fold_accuracy=[0.5, 1.0],
                  confusion=np.array([[2, 1], [0, 3]]), oof_pred=np.array(["a"] * 6),
                  oof_proba=np.zeros((6, 2)), fold_of=np.zeros(6, dtype=np.int64),
                  labels=np.array(["a"] * 6), baselines={"PLS-DA": [1.0, 0.5]})
    assert cv.precision == {"a": 1.0, "b": 0.75}
    assert cv.recall == pytest.approx({"a": 2 / 3, "b": 1.0})
    assert cv.accuracy == pytest.approx(5 / 6)
    assert cv.mean == 0.75 and cv.std == pytest.approx(np.sqrt(0.125))
    assert cv.baseline_summary()["PLS-DA"] == pytest.approx((0.75, np.sqrt(0.125)))


def test_progress_bar_is_quiet_when_stderr_is_not_a_terminal(capsys):
    s = small_set(3)
    CNNClassifier(**TINY, verbose=True, random_state=0).fit(s.X, s.labels)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


# ------------------------------------------------- input scaling and lr schedule
def test_center_scaling_is_fitted_on_training_data_and_saved_in_the_network(tmp_path):
    from ramancam.bundle import load, save, training_summary

    s = small_set(10, seed=2)
    est = CNNClassifier(**TINY, input_scaling="center", random_state=0).fit(s.X, s.labels)
    mean = s.X.mean(axis=0)
    np.testing.assert_allclose(est.module_.input_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(est.module_.input_scale.numpy(), (s.X - mean).std(),
                               rtol=1e-5)
    plain = CNNClassifier(**TINY, random_state=0).fit(s.X, s.labels)
    assert np.all(plain.module_.input_mean.numpy() == 0)
    assert np.all(plain.module_.input_scale.numpy() == 1)
    assert not np.allclose(plain.predict_proba(s.X), est.predict_proba(s.X))
    path = save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=s.wavenumbers,
                classes=[str(c) for c in est.classes_], training_summary=training_summary(s))
    b = load(path)
    np.testing.assert_array_equal(b.model.input_mean.numpy(), est.module_.input_mean.numpy())
    np.testing.assert_array_equal(b.predict_proba(s), est.predict_proba(s.X))


def test_center_scaling_ignores_the_validation_part():
    s = small_set(10, seed=3)
    est = CNNClassifier(**TINY, input_scaling="center", validation_fraction=0.3,
                        random_state=1).fit(s.X, s.labels)
    from sklearn.utils import check_random_state

    seed = int(check_random_state(1).randint(0, 2**31 - 1))  # as fit draws it
    tr, _ = est._validation_split(np.unique(s.labels, return_inverse=True)[1], seed)
    assert tr.size < len(s)
    np.testing.assert_allclose(est.module_.input_mean.numpy(), s.X[tr].mean(axis=0),
                               rtol=1e-5, atol=1e-6)


def test_cosine_schedule_anneals_the_learning_rate():
    s = small_set()
    est = CNNClassifier(**{**TINY, "epochs": 4}, lr=1e-3, lr_schedule="cosine",
                        random_state=0).fit(s.X, s.labels)
    lrs = [h["lr"] for h in est.history_]
    np.testing.assert_allclose(lrs, 1e-3 * (1 + np.cos(np.pi * np.arange(4) / 4)) / 2)
    const = CNNClassifier(**{**TINY, "epochs": 3}, lr=1e-3, random_state=0).fit(s.X, s.labels)
    assert [h["lr"] for h in const.history_] == [1e-3] * 3


@pytest.mark.parametrize(("param", "value"), [("lr_schedule", "step"),
                                              ("input_scaling", "snv")])
def test_schedule_and_scaling_choices_are_checked(param, value):
    s = small_set()
    with pytest.raises(RamancamError, match=param):
        CNNClassifier(**TINY, **{param: value}).fit(s.X, s.labels)


def test_bf16_training_reaches_the_float32_accuracy():
    """Accuracy parity of ``bf16=True`` (a flag; float32 stays the default): same seeds, same
    task, the same test accuracy, a float32 network at the end, and really different
    training numbers (so the flag is not ignored)."""
    s, test = small_set(10, seed=1), small_set(10, seed=2)
    params = {**TINY, "n_filters": 8, "filter_size": 8, "epochs": 25, "lr": 3e-3}
    fp32 = CNNClassifier(**params, random_state=0).fit(s.X, s.labels)
    bf16 = CNNClassifier(**params, bf16=True, random_state=0).fit(s.X, s.labels)
    acc32, acc16 = fp32.score(test.X, test.labels), bf16.score(test.X, test.labels)
    assert acc32 >= 0.9 and acc16 == acc32
    assert all(p.dtype == torch.float32 for p in bf16.module_.parameters())
    assert bf16.history_[0]["loss"] != fp32.history_[0]["loss"]
    assert bf16.history_[-1]["loss"] < bf16.history_[0]["loss"]


def test_bf16_must_be_a_bool():
    s = small_set(3)
    with pytest.raises(RamancamError, match="bf16 must be True or False"):
        CNNClassifier(**TINY, bf16="yes").fit(s.X, s.labels)


@pytest.mark.parametrize(("name", "match"), [
    ("unknown", "class labels must not be 'unknown', the word predictions give a spectrum "
                "flagged"),
    ("A|B", "class labels must not contain '|', which separates the classes of a "
            "prediction set; got 'A|B'"),
])
def test_class_names_prediction_cannot_tell_from_its_own_words_are_refused(name, match):
    # a class 'unknown' read as flagged spectra (accuracy 10/10 for spectra all flagged)
    X = np.random.default_rng(0).random((8, 40))
    y = np.array([name, "C"] * 4)
    from ramancam.train import CNNClassifier

    with pytest.raises(RamancamError, match=re.escape(match)):
        CNNClassifier(epochs=1, n_filters=2, filter_size=3, fc_width=4).fit(X, y)


def test_missing_labels_in_y_are_refused():
    # a NaN in a list of labels (df.label.tolist() with an empty cell) became a class "nan";
    # None raised numpy's "'<' not supported between 'NoneType' and 'str'"
    s = small_set()
    for bad in (float("nan"), None):
        y = s.labels.tolist()
        y[4] = bad
        with pytest.raises(RamancamError, match=r"got 1 missing label \(None or NaN, the first "
                                                r"at position 4\)"):
            CNNClassifier(**TINY, random_state=0).fit(s.X, y)


def test_small_api_refusals_name_the_fix():
    # calibration_cv=1 did nothing, silently; a validation part leaving fewer training
    # spectra than classes got scikit-learn's traceback; one spectrum as a 1-D array got
    # every intensity printed in scikit-learn's message
    s = small_set(10)
    with pytest.raises(RamancamError, match="calibration_cv must be 0 \\(none\\) or a number of "
                                            "folds >= 2; got 1"):
        CNNClassifier(**TINY, calibration_cv=1).fit(s.X, s.labels)
    with pytest.raises(RamancamError, match=r"validation_fraction must leave spectra for both "
                                            r"training and validation; got 0\.92 of 30"):
        CNNClassifier(**TINY, validation_fraction=0.92).fit(s.X, s.labels)
    est = CNNClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(s.X, s.labels)
    for method in (est.predict, est.predict_proba):
        with pytest.raises(RamancamError, match=r"X must be 2-D of shape \(n_spectra, "
                                                r"n_points\); got one spectrum of shape "
                                                r"\(96,\)\. Reshape your data: "
                                                r"X\[None, :\]"):
            method(s.X[0])
