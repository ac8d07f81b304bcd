"""Novelty ("unknown") detection and probability calibration (``ramancam.novelty``)."""

from __future__ import annotations

import csv
import re
import zipfile

import numpy as np
import pytest

from ramancam.bundle import NOVELTY_NAME, load, save
from ramancam.cli import main
from ramancam.conformal import class_scores, prediction_sets
from ramancam.errors import RamancamError
from ramancam.io import write_table
from ramancam.novelty import (
    METHODS,
    NoveltyScorer,
    calibrate,
    calibration_error,
    conformal_threshold,
    expected_calibration_error,
    fit_temperature,
    p_values,
    softmax,
)
from ramancam.spectra import Spectra
from ramancam.train import CNNClassifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_POINTS = 200
#: Band positions (points) of four distinct synthetic substances.
BANDS = {"a": (30, 90, 150), "b": (50, 110, 170), "c": (20, 70, 130), "d": (40, 100, 185)}
TINY = {"n_filters": 4, "filter_size": 5, "fc_width": 16, "epochs": 25, "lr": 3e-3,
        "batch_size": 16}


def simulate(n_per_class, classes, rng):
    """Spectra of distinct substances: three Lorentzian bands each, random band heights,
    shifts of up to 2 points and white noise of 2 % of the maximum."""
    x = np.arange(N_POINTS, dtype=np.float64)
    X, y = [], []
    for c in classes:
        for _ in range(n_per_class):
            s = np.zeros(N_POINTS)
            shift = rng.uniform(-2, 2)
            for pos in BANDS[c]:
                s += rng.uniform(0.5, 1.0) / (1 + ((x - pos - shift) / 3.0) ** 2)
            s += 0.02 * rng.standard_normal(N_POINTS)
            X.append(s / s.max())
            y.append(c)
    return np.asarray(X), np.asarray(y)


@pytest.fixture(scope="module", params=["hqi", "knn"])
def fitted(request):
    """Trained on three substances with a 3-fold inner calibration; a fresh known test set and
    the fourth substance as the unknown."""
    rng = np.random.default_rng(7)
    X, y = simulate(40, "abc", rng)
    est = CNNClassifier(**TINY, novelty=request.param, calibration_cv=3,
                        random_state=0).fit(X, y)
    X_known, y_known = simulate(100, "abc", rng)
    X_unknown, _ = simulate(60, "d", rng)
    return est, X, y, X_known, y_known, X_unknown


# ---------------------------------------------------------------- building blocks
def test_conformal_threshold_false_alarm_rate_on_fresh_draws():
    rng = np.random.default_rng(0)
    rates = []
    for _ in range(200):
        cal, new = rng.standard_normal(99), rng.standard_normal(1000)
        rates.append(np.mean(new > conformal_threshold(cal, 0.05)))
    # Split conformal: the expected false-alarm rate is <= 5 % and close to it.
    assert 0.03 < np.mean(rates) <= 0.055


def test_p_values_are_uniform_for_fresh_known_draws_and_agree_with_the_threshold():
    rng = np.random.default_rng(1)
    below = {0.01: [], 0.05: [], 0.2: []}
    for _ in range(200):
        cal, new = rng.standard_normal(99), rng.standard_normal(500)
        p = p_values(new, cal)
        for a in below:
            below[a].append(np.mean(p <= a))
        # every score above the 5 % threshold has p <= 0.05, and p falls as the score rises
        thr = conformal_threshold(cal, 0.05)
        assert np.all(p[new > thr] <= 0.05)
        order = np.argsort(new)
        assert np.all(np.diff(p[order]) <= 0)
    for a, shares in below.items():  # P(p <= a) <= a, and close to it (n = 99)
        assert a - 0.015 < np.mean(shares) <= a + 0.005
    # far above every held-out score: the smallest p there is, 1 / (n + 1)
    assert p_values([10.0], cal)[0] == pytest.approx(1 / 100)
    assert p_values([-10.0], cal)[0] == 1.0
    # ties count as "at least as high"; NaN scores and missing held-out scores give NaN
    np.testing.assert_allclose(p_values([1.0, 2.0], [1.0, 1.0, 2.0, np.inf]),
                               [4 / 4, 2 / 4])
    assert np.isnan(p_values([np.nan, 0.5], [0.1, 0.2])[0])
    assert np.isnan(p_values([0.5], None)).all() and np.isnan(p_values([0.5], [])).all()


def test_prediction_sets_cover_the_true_class_at_the_rate_and_are_never_empty():
    rng = np.random.default_rng(11)

    def draw(n):  # a calibrated 4-class model: the class is drawn from its probabilities
        z = rng.normal(0, 2.0, (n, 4))
        p = softmax(z)
        y = np.array([rng.choice(4, p=row) for row in p])
        return p, y

    cover, size = [], []
    for _ in range(40):
        p_cal, y_cal = draw(199)
        p_new, y_new = draw(400)
        sets = prediction_sets(p_new, class_scores(p_cal, y_cal), 0.1)
        assert sets.any(axis=1).all()  # never empty
        assert sets[np.arange(400), p_new.argmax(axis=1)].all()  # the top class always in
        cover.append(sets[np.arange(400), y_new].mean())
        size.append(sets.sum(axis=1).mean())
    # 1 - rate on average (one sd of this mean: about 0.004), and not much more
    assert 0.885 <= np.mean(cover) <= 0.95
    assert 1.0 < np.mean(size) < 4.0  # neither the top class alone nor everything
    # the score: one minus the true class's probability; a set: every class at least
    # 1 - q probable, and the top class
    np.testing.assert_allclose(class_scores([[0.6, 0.3, 0.1]] * 3, [0, 1, 2]),
                               [0.4, 0.7, 0.9])
    held = np.r_[np.linspace(0.0, 0.5, 38), 0.9]  # n = 39: the 38th smallest, 0.5
    np.testing.assert_array_equal(prediction_sets([[0.6, 0.3, 0.1], [0.45, 0.4, 0.15]],
                                                  held, 0.05),
                                  [[True, False, False], [True, False, False]])
    np.testing.assert_array_equal(prediction_sets([[0.5, 0.5, 0.0]], held, 0.05),
                                  [[True, True, False]])
    # too few held-out spectra for the rate: every class; NaN rows: no set
    assert prediction_sets([[0.9, 0.1]], [0.5] * 5, 0.05).all()
    assert not prediction_sets([[np.nan, np.nan]], [0.5] * 50, 0.05).any()


def test_conformal_threshold_needs_enough_scores_and_a_rate_in_0_1():
    assert conformal_threshold(np.arange(10.0), 0.05) == np.inf  # 11 * 0.95 > 10
    assert conformal_threshold(np.arange(19.0), 0.05) == 18.0
    with pytest.raises(RamancamError, match="novelty_rate must be a number in"):
        conformal_threshold(np.arange(10.0), 1.5)


def test_small_calibration_sets_use_the_largest_score_and_the_summary_says_so():
    # Below 2 / rate - 1 = 39 scores the 5 % threshold is the largest one (one odd known
    # spectrum sets it); from 39 on the second largest.
    assert conformal_threshold(np.arange(38.0), 0.05) == 37.0
    assert conformal_threshold(np.arange(39.0), 0.05) == 37.0
    rng = np.random.default_rng(4)
    z, y = rng.normal(size=(60, 3)), np.arange(60) % 3
    small = calibrate(z, y, None, np.arange(60) % 3, loo_scores=rng.random(35))
    large = calibrate(z, y, None, np.arange(60) % 3, loo_scores=rng.random(60))
    assert small.n_scores == 35 and large.n_scores == 60
    assert "the largest of 35 held-out scores: below 39 it always is" in small.summary()[1]
    assert "the largest" not in large.summary()[1]


def test_hqi_leave_one_out_threshold_keeps_the_rate_on_fresh_known_spectra():
    # The default: leave-one-out scores of the training spectra set the threshold; fresh
    # spectra of the same substances are flagged at about the rate, never much above it.
    rng = np.random.default_rng(12)
    flagged = []
    for _ in range(30):
        X, _ = simulate(20, "abc", rng)
        scorer = NoveltyScorer("hqi").fit(X, np.zeros(60, int), np.zeros((60, 0)))
        thr = conformal_threshold(scorer.loo_scores(), 0.05)
        Xk, _ = simulate(100, "abc", rng)
        flagged.append(np.mean(scorer.score(Xk, np.zeros((300, 1)), None) > thr))
    assert 0.02 < np.mean(flagged) <= 0.075  # 30 draws: standard error about 0.008


def test_temperature_recovers_an_overconfident_scale_and_lowers_ece():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4000, 3)) * 1.5
    y = np.array([rng.choice(3, p=p) for p in softmax(z)])  # calibrated at T = 1
    t = fit_temperature(3.0 * z, y)  # the same logits, three times too sure
    assert t == pytest.approx(3.0, rel=0.1)
    before = expected_calibration_error(softmax(3.0 * z), y)
    after = expected_calibration_error(softmax(3.0 * z, t), y)
    assert before > 0.1 and after < 0.03


def test_calibration_error_from_confidence_matches_the_probability_form():
    rng = np.random.default_rng(3)
    p = softmax(rng.normal(size=(300, 4)) * 2.0)
    y = rng.integers(0, 4, 300)
    ece = expected_calibration_error(p, y)
    assert calibration_error(p.max(1), p.argmax(1) == y) == pytest.approx(ece)
    # by hand: one bin at 0.95 with 3 of 4 right, one at 0.55 with 1 of 2 right
    got = calibration_error([0.95] * 4 + [0.55] * 2, [1, 1, 1, 0, 1, 0])
    assert got == pytest.approx((4 * 0.2 + 2 * 0.05) / 6)
    assert np.isnan(calibration_error([], []))
    with pytest.raises(RamancamError, match="differ in length"):
        calibration_error([0.9, 0.8], [1])


def test_calibrate_reports_cross_fitted_ece_and_false_alarm():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(600, 3)) * 1.5
    y = np.array([rng.choice(3, p=p) for p in softmax(z)])
    scores = rng.standard_normal(600)
    cal = calibrate(4.0 * z, y, scores, np.arange(600) % 5, rate=0.1, source="test")
    assert cal.temperature == pytest.approx(4.0, rel=0.25)
    assert cal.ece_after < cal.ece_before
    assert 0.05 < cal.false_alarm < 0.15
    assert cal.threshold == conformal_threshold(scores, 0.1)
    assert "temperature" in cal.summary()[0] and "10% false alarms" in cal.summary()[1]
    # the share is cross-fitted, not counted against the threshold printed: said so
    assert cal.summary()[1].endswith(
        f"known held-out spectra flagged {cal.false_alarm:.1%} (cross-fitted)")
    loo = calibrate(4.0 * z, y, scores, np.arange(600) % 5, rate=0.1, loo_scores=scores)
    assert loo.summary()[1].endswith(
        f"known held-out spectra flagged {loo.false_alarm:.1%} (cross-fitted)")


def test_temperature_is_kept_at_1_when_scaling_does_not_lower_the_held_out_ece():
    # 95 % right with logit margin 8, 5 % wrong with margin 40 (4 classes): the log loss
    # wants a large T that makes the right ones unsure too; the cross-fitted ECE says no.
    n = 400
    y = np.arange(n) % 4
    z = np.zeros((n, 4))
    wrong = np.arange(n) % 20 == 0
    z[np.arange(n), np.where(wrong, (y + 1) % 4, y)] = np.where(wrong, 40.0, 8.0)
    cal = calibrate(z, y, None, np.arange(n) % 5)
    assert cal.fitted_temperature > 1.5
    assert cal.ece_after >= cal.ece_before and cal.temperature == 1.0
    assert "does not help: kept 1" in cal.summary()[0]
    assert np.isnan(cal.false_alarm) and cal.threshold == np.inf


def test_prediction_sets_describe_the_kept_temperature():
    # 12 confident mistakes among 60: the fit wants T = 3.4, the cross-fitted ECE keeps 1;
    # the sets' coverage and size came from the rejected fold temperatures (a helper's
    # audit: 90.0 % printed, 96.7 % with the probabilities the model gives)
    from ramancam.conformal import class_scores, prediction_sets, softmax

    rng = np.random.default_rng(0)
    n, k = 60, 4
    y = rng.integers(0, k, n)
    z = rng.normal(0, 1, (n, k))
    z[np.arange(n), y] += 3
    wrong = rng.choice(n, 12, replace=False)
    z[wrong] = rng.normal(0, 1, (12, k))
    z[wrong, (y[wrong] + 1) % k] += 8
    folds = np.arange(n) % 2
    cal = calibrate(z, y, None, folds)
    assert cal.temperature == 1.0 and cal.fitted_temperature > 2
    p = softmax(z)
    covered, size = np.zeros(n, dtype=bool), np.zeros(n)
    for f in (0, 1):
        te, tr = folds == f, folds != f
        sets = prediction_sets(p[te], class_scores(p[tr], y[tr]), 0.05)
        covered[te], size[te] = sets[np.arange(te.sum()), y[te]], sets.sum(axis=1)
    assert cal.set_coverage == covered.mean() and cal.set_size == size.mean()


@pytest.mark.parametrize("method", METHODS)
def test_every_score_ranks_far_points_above_near_ones(method):
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], 50)
    feats = np.where(y[:, None] == 0, 1.0, -1.0) * np.r_[1.0, 0, 0, 0] \
        + 0.1 * rng.standard_normal((100, 4))
    X = rng.standard_normal((100, 30))
    logits = np.c_[feats[:, 0], -feats[:, 0]] * 5
    scorer = NoveltyScorer(method).fit(X, y, feats)
    near = scorer.score(X[:10], logits[:10], feats[:10])
    far_feats = np.tile([0.0, 1.0, 0, 0], (10, 1))
    far = scorer.score(rng.standard_normal((10, 30)), np.zeros((10, 2)), far_feats)
    assert near.shape == (10,) and np.all(np.isfinite(near))
    assert far.min() > near.max()
    d, arrays = scorer.to_state()
    again = NoveltyScorer.from_state(d, arrays)
    np.testing.assert_allclose(again.score(X[:10], logits[:10], feats[:10]), near, atol=1e-5)


def test_hqi_leave_one_out_scores_leave_each_spectrum_out():
    rng = np.random.default_rng(6)
    X, y = simulate(10, "ab", rng)
    scorer = NoveltyScorer("hqi").fit(X, np.zeros(20, int), np.zeros((20, 2)))
    loo = scorer.loo_scores()
    for i in (0, 7, 15):
        rest = NoveltyScorer("hqi").fit(np.delete(X, i, 0), np.zeros(19, int),
                                        np.zeros((19, 2)))
        assert loo[i] == pytest.approx(rest.score(X[i:i + 1], np.zeros((1, 2)),
                                                  np.zeros((1, 2)))[0], abs=1e-9)
    assert np.all(loo > 1e-6)  # never compared with itself
    with pytest.raises(RamancamError, match="leave-one-out scores must come from"):
        NoveltyScorer("knn").fit(X, y, rng.standard_normal((20, 3))).loo_scores()


def test_hqi_threshold_needs_no_calibration_folds():
    rng = np.random.default_rng(10)
    X, y = simulate(30, "abc", rng)
    est = CNNClassifier(**{**TINY, "epochs": 2}, novelty="hqi", random_state=0).fit(X, y)
    assert np.isfinite(est.novelty_threshold_) and est.temperature_ == 1.0
    Xk, _ = simulate(100, "abc", rng)
    Xu, _ = simulate(50, "d", rng)
    assert est.predict_unknown(Xk).mean() <= 0.12
    assert est.predict_unknown(Xu).mean() >= 0.9
    knn = CNNClassifier(**{**TINY, "epochs": 2}, novelty="knn", random_state=0).fit(X, y)
    assert knn.novelty_threshold_ == np.inf  # a network-based score needs held-out fits


def test_scorer_errors():
    with pytest.raises(RamancamError, match="novelty must be one of"):
        NoveltyScorer("lof")
    with pytest.raises(RamancamError, match="must be fitted before scoring"):
        NoveltyScorer("knn").score(np.zeros((1, 3)), np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(RamancamError, match="novelty arrays must be"):
        NoveltyScorer.from_state({"method": "knn"}, {})
    for bad in (8, 1, 9.0, True):
        with pytest.raises(RamancamError, match="window must be an odd integer >= 3"):
            NoveltyScorer("hqi", window=bad)


def test_hqi_window_travels_and_old_files_keep_9_points():
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(8)
    X, _ = simulate(10, "ab", rng)
    Q, _ = simulate(5, "cd", rng)
    new = NoveltyScorer("hqi").fit(X, np.zeros(20, int), np.zeros((20, 0)))
    d, arrays = new.to_state()
    assert d == {"method": "hqi", "window": 25}
    again = NoveltyScorer.from_state(d, arrays)
    np.testing.assert_allclose(again.score(Q, None, None), new.score(Q, None, None),
                               atol=1e-5)
    # the score is 1 - the best Pearson r of 25-point Savitzky-Golay derivatives
    dq, dx = (savgol_filter(A, 25, 2, deriv=1, axis=1) for A in (Q, X))
    r = np.corrcoef(dq, dx)[:len(Q), len(Q):]
    np.testing.assert_allclose(new.score(Q, None, None), 1 - r.max(axis=1), atol=1e-9)
    # a file saved before the window was stored scores with the 9 points it was made with
    old = NoveltyScorer("hqi", window=9).fit(X, np.zeros(20, int), np.zeros((20, 0)))
    _, old_arrays = old.to_state()
    legacy = NoveltyScorer.from_state({"method": "hqi"}, old_arrays)
    assert legacy.window == 9
    np.testing.assert_allclose(legacy.score(Q, None, None), old.score(Q, None, None),
                               atol=1e-5)
    assert not np.allclose(legacy.score(Q, None, None), again.score(Q, None, None),
                           atol=1e-3)


def test_hqi_halves_averages_the_correlations_of_the_two_halves():
    """hqi-halves: 1 - the best mean of the two halves' Pearson r (25-point derivatives);
    its leave-one-out scores and saved state work as hqi's do."""
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(9)
    X, _ = simulate(10, "ab", rng)
    Q, _ = simulate(5, "cd", rng)
    sc = NoveltyScorer("hqi-halves").fit(X, np.repeat([0, 1], 10), np.zeros((20, 0)))
    dq, dx = (savgol_filter(A, 25, 2, deriv=1, axis=1) for A in (Q, X))
    halves = np.array_split(np.arange(X.shape[1]), 2)
    r = np.mean([np.corrcoef(dq[:, h], dx[:, h])[:len(Q), len(Q):] for h in halves], axis=0)
    np.testing.assert_allclose(sc.score(Q, None, None), 1 - r.max(axis=1), atol=1e-9)
    assert not np.allclose(sc.score(Q, None, None),
                           NoveltyScorer("hqi").fit(X, np.zeros(20, int), np.zeros((20, 0)))
                           .score(Q, None, None), atol=1e-3)
    np.testing.assert_array_equal(sc.library_match(Q), np.repeat([0, 1], 10)[r.argmax(axis=1)])
    assert sc.model_free and np.isfinite(sc.loo_scores()).all()
    d, arrays = sc.to_state()
    assert d == {"method": "hqi-halves", "window": 25}
    np.testing.assert_allclose(NoveltyScorer.from_state(d, arrays).score(Q, None, None),
                               sc.score(Q, None, None), atol=1e-5)


# -------------------------------------------------------------- the classifier
def test_left_out_substance_is_flagged_and_known_false_alarms_near_the_rate(fitted):
    est, _, _, X_known, y_known, X_unknown = fitted
    assert np.isfinite(est.novelty_threshold_)
    assert est.calibration_.source.startswith("3-fold inner CV")
    known_flagged = est.predict_unknown(X_known).mean()
    assert est.predict_unknown(X_unknown).mean() >= 0.9
    assert known_flagged <= 0.12  # 5 % requested; 300 fresh spectra
    assert est.calibration_.false_alarm <= 0.12
    # prediction sets: the known test spectra's class in its set at about the 95 % promised
    sets = est.predict_set(X_known)
    assert sets.shape == (300, 3) and sets.any(axis=1).all()
    y_idx = np.searchsorted(est.classes_, y_known)
    assert sets[np.arange(300), y_idx].mean() >= 0.9
    assert 0.85 <= est.calibration_.set_coverage <= 1.0 and est.calibration_.set_size >= 1.0
    assert "set_coverage" in est.calibration_.to_dict()
    assert "class_scores" not in est.calibration_.to_dict()
    pred = est.predict_or_unknown(np.r_[X_known[:5], X_unknown[:5]])
    assert list(pred[5:]) == ["unknown"] * 5 and set(pred[:5]) <= {"a", "b", "c"}
    # predict keeps scikit-learn's contract: always a class
    assert set(est.predict(X_unknown)) <= {"a", "b", "c"}


def test_calibrated_probabilities_keep_the_class(fitted):
    est, *_, X_known, _, _ = fitted
    p = est.predict_proba(X_known)
    z, _ = est.held_out_outputs(X_known)
    np.testing.assert_allclose(p, softmax(z, est.temperature_), atol=1e-6)
    np.testing.assert_array_equal(p.argmax(1), z.argmax(1))
    assert est.temperature_ != 1.0


def test_uncalibrated_fit_flags_nothing_and_validation_part_calibrates():
    rng = np.random.default_rng(4)
    X, y = simulate(20, "ab", rng)
    plain = CNNClassifier(**{**TINY, "epochs": 2}, novelty="knn", random_state=0).fit(X, y)
    assert plain.temperature_ == 1.0 and plain.novelty_threshold_ == np.inf
    assert not plain.predict_unknown(X).any()
    with pytest.raises(RamancamError, match="prediction sets need held-out class scores"):
        plain.predict_set(X)
    val = CNNClassifier(**{**TINY, "epochs": 2}, validation_fraction=0.5, patience=50,
                        random_state=0).fit(X, y)
    assert val.calibration_.source.startswith("validation part")
    assert np.isfinite(val.novelty_threshold_)
    off = CNNClassifier(**{**TINY, "epochs": 2}, novelty=None, random_state=0).fit(X, y)
    with pytest.raises(RamancamError, match="novelty must be set to score spectra"):
        off.novelty_score(X)


@pytest.mark.parametrize("kw, match", [({"novelty": "lof"}, "novelty must be one of"),
                                       ({"novelty_rate": 0.0}, "novelty_rate must be"),
                                       ({"calibration_cv": -1}, "calibration_cv must be")])
def test_classifier_parameter_errors(kw, match):
    X, y = simulate(3, "ab", np.random.default_rng(5))
    with pytest.raises(RamancamError, match=match):
        CNNClassifier(**{**TINY, "epochs": 1}, **kw).fit(X, y)


# ------------------------------------------------------------------ saved model
def test_saved_model_round_trip(fitted, tmp_path):
    est, _, _, X_known, _, X_unknown = fitted
    grid = np.arange(N_POINTS, dtype=np.float64)
    path = save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=grid,
                classes=list(est.classes_), training_summary={})
    with zipfile.ZipFile(path) as zf:
        assert NOVELTY_NAME in zf.namelist()
    b = load(path)
    assert b.threshold == est.novelty_threshold_ and b.temperature == est.temperature_
    assert b.info["novelty"]["method"] == est.novelty and b.info["novelty"]["rate"] == 0.05
    Xq = np.r_[X_known[:20], X_unknown[:20]]
    proba, score, unknown = b.predict_novelty(Spectra(Xq, grid))
    np.testing.assert_allclose(proba, est.predict_proba(Xq), atol=1e-5)
    np.testing.assert_allclose(score, est.novelty_score(Xq), atol=1e-5)
    np.testing.assert_array_equal(unknown, est.predict_unknown(Xq))
    np.testing.assert_allclose(b.predict_proba(Spectra(Xq, grid)), proba, atol=1e-6)
    # the held-out scores travel, so the p-values do
    p_est = est.novelty_p_value(Xq)
    assert b.held_out is not None and b.held_out.size == est.calibration_.n_scores
    assert b.info["novelty"]["held_out"] == b.held_out.size
    # (the same scores give the same p-values; the loaded model's own scores, equal to
    # ~1e-7, may fall on the other side of a held-out score that ties: one rank at most)
    np.testing.assert_allclose(b.novelty_p(est.novelty_score(Xq)), p_est, atol=1e-12)
    assert np.abs(b.novelty_p(score) - p_est).max() <= 1 / (b.held_out.size + 1) + 1e-12
    assert np.all(p_est[unknown] <= 0.05) and np.median(p_est[20:]) < np.median(p_est[:20])
    # and the held-out class scores, so the prediction sets do
    np.testing.assert_array_equal(b.prediction_sets(proba), est.predict_set(Xq))
    np.testing.assert_array_equal(b.prediction_sets(proba, 0.2), est.predict_set(Xq, 0.2))


@pytest.mark.parametrize("method", ["hqi", "hqi-halves", "hqi-nap", "knn"])
def test_a_training_spectrum_scores_0_against_a_model_file(tmp_path, method):
    # the file stores the reference rows as float32: a training spectrum scored up to 1e-8
    # against its own rounded row, so predict's "same as spectra the model was trained on"
    # counted 7 of 12 training spectra with hqi, 3 of 12 with hqi-halves (a helper's audit)
    rng = np.random.default_rng(3)
    X, y = simulate(12, "abc", rng)
    est = CNNClassifier(**{**TINY, "epochs": 3}, novelty=method, random_state=0).fit(X, y)
    grid = np.arange(N_POINTS, dtype=np.float64)
    b = load(save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=grid,
                  classes=list(est.classes_), training_summary={}))
    _, score, _ = b.predict_novelty(Spectra(X, grid))
    np.testing.assert_array_equal(score, np.zeros(len(X)))
    np.testing.assert_array_equal(est.novelty_score(X), np.zeros(len(X)))  # as in memory
    # a spectrum a little off every training spectrum is no copy
    _, near, _ = b.predict_novelty(Spectra(X + 1e-3 * rng.standard_normal(X.shape), grid))
    assert np.all(near > 0)


def test_model_files_without_held_out_scores_load_without_p_values(fitted, tmp_path,
                                                                    capsys):
    from safetensors.numpy import load as np_load
    from safetensors.numpy import save as np_save

    est, *_ = fitted
    grid = np.arange(N_POINTS, dtype=np.float64) + 400.0  # the axis _table writes
    good = save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=grid,
                classes=list(est.classes_), training_summary={})

    def rewrite(held):
        out = tmp_path / "old.ramancam"
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w") as dst:
            for name in src.namelist():
                data = src.read(name)
                if name == NOVELTY_NAME:
                    arrays = {k: v for k, v in np_load(data).items() if k != "held_out"}
                    data = np_save({**arrays, **held})
                dst.writestr(name, data)
        return out

    old = load(rewrite({}))  # as saved before 2026-12-05
    assert old.held_out is None and old.novelty_p(np.array([0.1])) is None
    assert old.threshold == est.novelty_threshold_
    # predict fills every other column, leaves novelty_p empty and says why
    data, out = tmp_path / "d.csv", tmp_path / "p.csv"
    _table(data, *simulate(3, "ab", np.random.default_rng(2)))
    assert main(["predict", str(old.path), str(data), "--out", str(out)]) == 0
    assert "note: column novelty_p is empty: the model file keeps no held-out scores" in \
        capsys.readouterr().out
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["novelty_p"] for r in rows} == {""} and all(r["novelty"] for r in rows)
    assert all(r["prediction_set"] for r in rows)  # the class scores are kept apart
    assert main(["predict", str(old.path), str(data), "--novelty-rate", "0.1"]) == 2
    assert "got a model file without them (saved before 2026-12-05" in capsys.readouterr().err
    with pytest.raises(RamancamError, match=r"novelty array 'held_out' must have 1 column"):
        load(rewrite({"held_out": np.zeros((2, 3))}))
    with pytest.raises(RamancamError, match=r"'held_out' must have the \d+ rows the settings"):
        load(rewrite({"held_out": np.zeros((2, 1))}))


def test_damaged_novelty_member_is_refused(fitted, tmp_path):
    est, *_ = fitted
    grid = np.arange(N_POINTS, dtype=np.float64)
    good = save(tmp_path / "m.ramancam", estimator=est, recipe=None, grid=grid,
                classes=list(est.classes_), training_summary={})
    bad = tmp_path / "bad.ramancam"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"not safetensors" if name == NOVELTY_NAME else src.read(name))
    with pytest.raises(RamancamError, match="must be a readable safetensors file"):
        load(bad)
    from safetensors.numpy import save as np_save

    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            key = "derivatives" if est.novelty == "hqi" else "features"
            dst.writestr(name, np_save({key: np.zeros((3, 7), np.float32)})
                         if name == NOVELTY_NAME else src.read(name))
    with pytest.raises(RamancamError, match=r"novelty array .* must have"):
        load(bad)


# -------------------------------------------------------------------------- CLI
def _table(path, X, y):
    write_table(Spectra(X, np.arange(N_POINTS, dtype=np.float64) + 400.0, labels=y), path)


def test_cli_train_prints_calibration_and_predict_flags_unknown(tmp_path, capsys):
    rng = np.random.default_rng(8)
    X, y = simulate(30, "abc", rng)
    Xk, yk = simulate(10, "abc", rng)
    Xu, yu = simulate(10, "d", rng)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _table(train, X, y)
    _table(test, np.r_[Xk, Xu], np.r_[yk, yu])
    model = tmp_path / "m.ramancam"
    opts = ["--recipe", "none", "--epochs", "25", "--lr", "3e-3", "--filters", "4",
            "--filter-size", "5", "--fc-width", "16", "--batch-size", "16", "--folds", "3",
            "--no-compare"]
    assert main(["train", str(train), "--label-col", "label", *opts, "--out", str(model)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("mean +- sd"))
    assert lines[at + 1].startswith("calibration: expected calibration error ")
    assert "out-of-fold, 3-fold CV; threshold from leave-one-out scores" in lines[at + 1]
    assert lines[at + 2].startswith("unknown: threshold ")
    assert lines[at + 3].startswith("prediction sets: 95% sets hold the true class for ")
    preds = tmp_path / "p.csv"
    assert main(["predict", str(model), str(test), "--label-col", "label",
                 "--out", str(preds)]) == 0
    text = capsys.readouterr().out
    assert "unknown: " in text
    with open(preds, newline="") as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0])
    # prediction sets: never empty, the nearest class first; the summary line counts them
    sets = [r["prediction_set"].split("|") for r in rows]
    nearest = [max("abc", key=lambda c, r=r: float(r[f"p_{c}"])) for r in rows]
    assert all(s_[0] == n for s_, n in zip(sets, nearest, strict=True))
    assert all([float(r[f"p_{c}"]) for c in s_] == sorted([float(r[f"p_{c}"]) for c in s_],
                                                           reverse=True)
               for r, s_ in zip(rows, sets, strict=True))
    n_one = sum(len(s_) == 1 for s_ in sets)
    known = [r["true"] in "abc" for r in rows]
    hit = sum(r["true"] in s_ for r, s_, k in zip(rows, sets, known, strict=True) if k)
    assert (f"prediction sets (95%, column prediction_set): {n_one} spectra with one class, "
            f"{len(rows) - n_one} with more; true class in its set for {hit}/{sum(known)}"
            in text)
    assert hit >= 0.85 * sum(known)
    assert header == ["id", "predicted", "p_a", "p_b", "p_c", "true", "novelty", "unknown",
                      "library_match", "novelty_p",
                      "prediction_set"]
    # the p-value: in (0, 1], at most the rate for a flagged spectrum, larger for higher
    # scores never
    p_nov = np.array([float(r["novelty_p"]) for r in rows])
    score = np.array([float(r["novelty"]) for r in rows])
    flagged = np.array([r["unknown"] == "true" for r in rows])
    assert np.all((p_nov > 0) & (p_nov <= 1))
    assert flagged.any() and np.all(p_nov[flagged] <= 0.05)
    order = np.argsort(score)
    assert np.all(np.diff(p_nov[order]) <= 0)
    # --novelty-rate: another rate from the kept held-out scores, i.e. novelty_p <= rate
    loose = tmp_path / "loose.csv"
    assert main(["predict", str(model), str(test), "--label-col", "label", "--novelty-rate",
                 "0.2", "--out", str(loose)]) == 0
    assert "threshold for 20% false alarms, --novelty-rate: " in capsys.readouterr().out
    with open(loose, newline="") as fh:
        flag20 = np.array([r["unknown"] == "true" for r in csv.DictReader(fh)])
    np.testing.assert_array_equal(flag20, p_nov <= 0.2)
    assert flag20.sum() >= flagged.sum()
    assert main(["predict", str(model), str(test), "--novelty-rate", "0.001"]) == 2
    assert "--novelty-rate must be at least 1/(n+1) = 0.011 for the 90 held-out scores" in \
        capsys.readouterr().err
    # the smallest rate info and that error print is accepted (rounded down, it was not)
    assert main(["info", str(model)]) == 0
    said = re.search(r"predict --novelty-rate from ([0-9.e-]+)\)", capsys.readouterr().out)
    assert said is not None and said.group(1) == "0.011"
    assert main(["predict", str(model), str(test), "--novelty-rate", said.group(1)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(test), "--novelty-rate", "1.5",
                 "--out", str(tmp_path / "never.csv")]) == 2
    assert "--novelty-rate must be a number in (0, 1); got 1.5" in capsys.readouterr().err
    assert not (tmp_path / "never.csv").exists()
    unknown_rows = [r for r in rows if r["true"] == "d"]
    assert np.mean([r["unknown"] == "true" for r in unknown_rows]) >= 0.9
    assert all(r["predicted"] == "unknown" for r in rows if r["unknown"] == "true")
    assert np.mean([r["unknown"] == "true" for r in rows if r["true"] != "d"]) <= 0.2
    kept = tmp_path / "k.csv"
    assert main(["predict", str(model), str(test), "--label-col", "label", "--no-reject",
                 "--out", str(kept)]) == 0
    with open(kept, newline="") as fh:
        assert {r["predicted"] for r in csv.DictReader(fh)} <= {"a", "b", "c"}
    # explain still explains a flagged spectrum, for its nearest class
    expl = tmp_path / "e.csv"
    assert main(["explain", str(model), str(test), "--label-col", "label",
                 "--out", str(expl), "--report", str(tmp_path / "e.html"),
                 "--max-plots", "40"]) == 0
    assert expl.stat().st_size > 0
    # the report says "unknown", as predict does ("Predicted b ...: UNKNOWN" before)
    page = (tmp_path / "e.html").read_text()
    assert "Predicted unknown (nearest class " in page and "UNKNOWN" not in page
    # --novelty hqi-halves: the same workflow, the method saved in the model
    halves = tmp_path / "h.ramancam"
    assert main(["train", str(train), "--label-col", "label", *opts, "--novelty",
                 "hqi-halves", "--out", str(halves)]) == 0
    assert "threshold from leave-one-out scores" in capsys.readouterr().out
    assert load(halves).info["novelty"]["method"] == "hqi-halves"
    assert main(["predict", str(halves), str(test), "--label-col", "label",
                 "--out", str(tmp_path / "h.csv")]) == 0
    with open(tmp_path / "h.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert np.mean([r["unknown"] == "true" for r in rows if r["true"] == "d"]) >= 0.9
    assert np.mean([r["unknown"] == "true" for r in rows if r["true"] != "d"]) <= 0.2


def test_cli_predict_old_model_without_novelty_leaves_columns_empty(tmp_path):
    rng = np.random.default_rng(9)
    X, y = simulate(6, "ab", rng)
    est = CNNClassifier(**{**TINY, "epochs": 1}, novelty=None, random_state=0).fit(X, y)
    model = save(tmp_path / "m.ramancam", estimator=est, recipe=None,
                 grid=np.arange(N_POINTS, dtype=np.float64) + 400.0,
                 classes=list(est.classes_), training_summary={})
    data = tmp_path / "d.csv"
    _table(data, X, y)
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(data), "--label-col", "label",
                 "--out", str(out)]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["novelty"] for r in rows} == {""} and {r["unknown"] for r in rows} == {""}
    assert {r["novelty_p"] for r in rows} == {""}
    assert {r["prediction_set"] for r in rows} == {""}  # no held-out class scores either


def test_cli_train_refuses_a_bad_novelty_rate(tmp_path, capsys):
    X, y = simulate(4, "ab", np.random.default_rng(11))
    data = tmp_path / "d.csv"
    _table(data, X, y)
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none", "--folds", "2",
                 "--no-compare", "--novelty-rate", "1.5", "--out", str(tmp_path / "m")]) == 2
    assert "error: --novelty-rate must be a number in (0, 1); got 1.5" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _replicates(n_samples, classes, rng, k=3):
    """``k`` measurements of each sample (the same spectrum with 0.5 % fresh noise), with
    the sample as group."""
    base, y = simulate(n_samples, classes, rng)
    X = np.repeat(base, k, 0) + 0.005 * rng.standard_normal((base.shape[0] * k, N_POINTS))
    return X, np.repeat(y, k), np.repeat(np.arange(base.shape[0]), k)


def test_leave_one_group_out_scores_keep_the_rate_with_replicates():
    # Three replicates per sample: leaving one spectrum out still leaves its twins, so the
    # threshold comes out far too low and new samples of known substances are flagged;
    # leaving the whole sample out keeps the promised rate.
    rng = np.random.default_rng(3)
    per_spectrum, per_group = [], []
    for _ in range(20):
        X, _, g = _replicates(10, "abc", rng)
        scorer = NoveltyScorer("hqi").fit(X, np.zeros(len(X), int), np.zeros((len(X), 0)))
        Xk, _, _ = _replicates(100, "abc", rng, k=1)
        s = scorer.score(Xk, np.zeros((len(Xk), 1)), None)
        per_spectrum.append(np.mean(s > conformal_threshold(scorer.loo_scores(), 0.05)))
        per_group.append(np.mean(s > conformal_threshold(scorer.loo_scores(g), 0.05)))
    assert np.mean(per_spectrum) > 0.5
    assert 0.02 < np.mean(per_group) <= 0.1  # 20 draws of 300 fresh known spectra


def test_leave_one_group_out_scores_skip_the_whole_group():
    rng = np.random.default_rng(4)
    X, _, g = _replicates(4, "ab", rng)
    scorer = NoveltyScorer("hqi").fit(X, np.zeros(len(X), int), np.zeros((len(X), 0)))
    loo = scorer.loo_scores(g)
    for i in (0, 5, 23):
        others = g != g[i]
        rest = NoveltyScorer("hqi").fit(X[others], np.zeros(others.sum(), int),
                                        np.zeros((others.sum(), 0)))
        assert loo[i] == pytest.approx(rest.score(X[i:i + 1], np.zeros((1, 1)), None)[0],
                                       abs=1e-9)
    assert np.isnan(scorer.loo_scores(np.zeros(len(X), int))).all()  # one group: no others
    with pytest.raises(RamancamError, match="groups must hold one value per spectrum"):
        scorer.loo_scores(g[:-1])


def test_leave_one_out_scores_skip_spectra_whose_class_is_then_missing():
    rng = np.random.default_rng(6)
    X, y, g = _replicates(4, "ab", rng)  # 4 samples of a and of b, 3 replicates each
    y = y.astype(object)
    y[g == g[0]] = "c"  # class c: one sample only
    scorer = NoveltyScorer("hqi").fit(X, np.zeros(len(X), int), np.zeros((len(X), 0)))
    c = y == "c"
    by_spectrum = scorer.loo_scores(None, y)
    # without groups every c replicate has two others of its class: scored as before
    np.testing.assert_allclose(by_spectrum, scorer.loo_scores())
    by_group = scorer.loo_scores(g, y)
    # with groups, c's replicates have no spectrum of their class left: not scored
    assert np.isnan(by_group[c]).all()
    np.testing.assert_allclose(by_group[~c], scorer.loo_scores(g)[~c])
    one = np.where(np.arange(len(X)) == 0, "d", y).astype(str)  # a single-spectrum class
    assert np.isnan(scorer.loo_scores(None, one)[0])
    assert np.isfinite(scorer.loo_scores(None, one)[1:]).all()


def test_classifier_threshold_and_calibration_folds_follow_the_groups(monkeypatch):
    import ramancam.novelty as nov

    rng = np.random.default_rng(5)
    X, y, g = _replicates(8, "abc", rng)
    plain = CNNClassifier(**{**TINY, "epochs": 2}, random_state=0).fit(X, y)
    grouped = CNNClassifier(**{**TINY, "epochs": 2}, random_state=0).fit(X, y, groups=g)
    assert grouped.novelty_threshold_ == conformal_threshold(
        grouped.novelty_scorer_.loo_scores(g), 0.05)
    assert grouped.novelty_threshold_ > plain.novelty_threshold_  # twins no longer count
    folds = []
    orig = nov.kfold

    def spy(y_idx, k, seed, groups=None):
        out = orig(y_idx, k, seed, groups)
        folds.append((groups, out))
        return out
    monkeypatch.setattr(nov, "kfold", spy)
    CNNClassifier(**{**TINY, "epochs": 2}, calibration_cv=3, random_state=0).fit(
        X, y, groups=g)
    (seen, pairs), = folds
    assert seen is not None and len(pairs) == 3
    for tr, te in pairs:
        assert not set(seen[tr]) & set(seen[te])


@pytest.mark.parametrize("method", ["hqi", "knn"])
def test_distances_are_never_negative(method):
    # a spectrum scored against itself correlates at 1 up to rounding: its distance is 0
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, N_POINTS)).cumsum(axis=1)
    F = rng.normal(size=(30, 16))
    scorer = NoveltyScorer(method).fit(X, np.zeros(30, int), F)
    s = scorer.score(X, np.zeros((30, 2)), F)
    assert (s >= 0).all() and np.allclose(s, 0, atol=1e-6)
    if method == "hqi":
        twins = np.vstack([X, X])
        loo = NoveltyScorer("hqi").fit(twins, np.zeros(60, int),
                                       np.zeros((60, 0))).loo_scores()
        assert (loo >= 0).all()


def test_set_line_says_when_too_few_held_out_spectra_make_every_set_full():
    from ramancam.conformal import Calibration

    def line(m: int) -> str:
        c = Calibration(temperature=1.0, threshold=float("inf"), rate=0.05, source="s",
                        n_held_out=m, ece_before=0.1, ece_after=0.05, false_alarm=0.0,
                        set_coverage=1.0, set_size=3.0, class_scores=np.linspace(0, 1, m))
        text = c.set_line()
        assert text is not None
        return text

    assert line(18).endswith("(too few held-out spectra, 18, for 95% sets: below 19 every "
                             "set holds every class)")
    assert line(19).endswith("per set on average (cross-fitted)")


def test_set_line_decides_on_the_scores_each_fold_builds_its_sets_from():
    # 24 held-out spectra in 2 folds: each fold's sets come from the other fold's 12, below
    # the 19 a 95 % set needs, so every set held every class; the line, deciding on all 24,
    # said nothing of it ("100.0% ..., 3.00 classes per set")
    from ramancam.conformal import calibrate

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 8)
    z = rng.normal(size=(24, 3)) + 3.0 * np.eye(3)[y]
    cal = calibrate(z, y, None, np.arange(24) % 2)
    assert cal.set_size == 3.0
    assert cal.set_line().endswith(
        "(too few held-out spectra for 95% sets: a fold's are built from the other folds' "
        "12; below 19 every set holds every class)")
    assert calibrate(z, y, None, np.arange(24) % 2, rate=0.2).set_line().endswith(
        "per set on average (cross-fitted)")  # 12 are enough for 80 % sets


def test_smallest_rate_is_rounded_up_so_that_it_is_accepted():
    from ramancam.conformal import smallest_rate

    for n in (1, 9, 12, 60, 90, 100, 1750, 12345):
        r = smallest_rate(n)
        assert n + 1 >= 1.0 / r and r >= 1.0 / (n + 1)
        assert r <= 1.0 / (n + 1) * 1.01 and float(f"{r:g}") == r
    assert smallest_rate(60) == 0.0164 and smallest_rate(19) == 0.05


def test_calibration_of_one_held_out_part_is_cross_fitted_on_its_halves():
    # a validation part (one fold): the temperature was scored on the spectra it was fitted
    # on and kept when it made the probabilities worse (ECE 0.228 -> 0.301)
    for seed in range(6):
        r = np.random.default_rng(seed)
        z = 4.0 * r.normal(size=(80, 3))
        y = np.where(r.random(80) < 0.35, r.integers(0, 3, 80), z.argmax(axis=1))
        one = calibrate(z, y, None, np.zeros(80))
        halves = calibrate(z, y, None, np.arange(80) % 2)
        assert (one.temperature, one.ece_after) == (halves.temperature, halves.ece_after)
        assert one.temperature == 1.0 or one.ece_after < one.ece_before
        assert np.isfinite(one.set_coverage)  # the sets are estimated too


def test_false_alarm_estimate_leaves_out_spectra_without_a_score():
    # NaN leave-one-out scores (classes of one spectrum) counted as 'not flagged'
    rng = np.random.default_rng(5)
    z, y = rng.normal(size=(60, 3)), np.arange(60) % 3
    loo = rng.random(170)
    loo[120:] = np.nan
    cal = calibrate(z, y, None, np.arange(60) % 3, loo_scores=loo)
    part = np.arange(170) % 5
    want = np.mean(np.concatenate(
        [loo[(part == f) & np.isfinite(loo)] > conformal_threshold(loo[part != f], 0.05)
         for f in range(5)]))
    assert cal.false_alarm == pytest.approx(want)


def test_set_calibration_refuses_another_rate():
    # a calibration for 5 % set on a model of novelty_rate 0.01: its file, predict's line
    # and the prediction sets stated 1 %
    rng = np.random.default_rng(0)
    X, y = simulate(10, "abc", rng)
    est = CNNClassifier(**{**TINY, "epochs": 1}, novelty_rate=0.01, random_state=0).fit(X, y)
    z = rng.normal(size=(30, 3))
    with pytest.raises(RamancamError, match=r"calibration must be made for the model's "
                                            r"novelty_rate \(0\.01\); got one for rate 0\.05"):
        est.set_calibration(calibrate(z, np.arange(30) % 3, None, np.arange(30) % 3))
    est.set_calibration(calibrate(z, np.arange(30) % 3, None, np.arange(30) % 3, rate=0.01))
    assert est.calibration_.rate == 0.01


def test_the_conformal_rank_is_exact_and_agrees_with_the_p_values():
    # 150 * (1 - 0.18) is 123.00000000000001 in floating point: the rank was one too high
    # and a spectrum with novelty_p = 0.18 was not flagged at rate 0.18
    import math
    from fractions import Fraction

    from ramancam.conformal import _conformal_rank, conformal_threshold, p_values

    for rate in (0.01, 0.05, 0.1, 0.18, 0.19, 0.41, 0.46):
        for n in range(19, 400, 7):
            assert _conformal_rank(n, rate) == math.ceil((n + 1) * (1 - Fraction(str(rate))))
    held = np.arange(1.0, 150.0)
    thr = conformal_threshold(held, 0.18)
    s = np.array([123.5])
    assert thr == 123.0 and p_values(s, held)[0] <= 0.18 and s[0] > thr


def test_the_false_alarm_check_says_when_it_cannot_check():
    # 24 held-out scores in 3 folds: each fold's threshold from 16 scores flags nothing, so
    # "flagged 0.0%" was printed for a threshold that flags 1 in 25 known spectra
    from ramancam.conformal import calibrate

    rng = np.random.default_rng(0)
    z, y, s = rng.normal(size=(24, 3)), np.arange(24) % 3, rng.standard_normal(24)
    cal = calibrate(z, y, s, np.arange(24) % 3)
    assert np.isfinite(cal.threshold) and np.isnan(cal.false_alarm)
    assert cal.summary()[1].endswith(
        "known held-out spectra flagged n/a (too few held-out scores to check the threshold "
        "on a part of them: a threshold set on the rest would flag nothing)")
    z, y, s = rng.normal(size=(300, 3)), np.arange(300) % 3, rng.standard_normal(300)
    cal = calibrate(z, y, s, np.arange(300) % 3)
    assert 0.0 < cal.false_alarm < 0.12 and "flagged n/a" not in cal.summary()[1]


def _count_loo(monkeypatch):
    """Count the leave-one-out computations of each scorer (by id; each scorer counted is
    kept alive, so that a later one cannot take the id of one freed meanwhile and count as
    it: an inner CV's scorers are freed during train, which failed the test now and then)."""
    calls: dict[int, int] = {}
    alive: list[object] = []
    real = NoveltyScorer._loo_similarities

    def spy(self, groups):
        alive.append(self)
        calls[id(self)] = calls.get(id(self), 0) + 1
        return real(self, groups)
    monkeypatch.setattr(NoveltyScorer, "_loo_similarities", spy)
    return calls


def test_leave_one_out_scores_are_computed_once_for_the_same_arguments(monkeypatch):
    # train's calibration asks the final model's scorer for the leave-one-out scores that
    # its fit computed already (an O(n^2 p) job: 27 CPU-min at 50k spectra); only which
    # spectra share a class counts, so the classes' names or indices give the same scores
    rng = np.random.default_rng(12)
    X, y, g = _replicates(4, "abc", rng)
    y_idx = np.unique(y, return_inverse=True)[1]
    scorer = NoveltyScorer("hqi-nap").fit(X, y_idx, np.zeros((len(X), 0)))
    calls = _count_loo(monkeypatch)
    first = scorer.loo_scores(g, y_idx)
    first[:] = -1.0  # the caller's copy: what the scorer keeps does not change
    again = scorer.loo_scores(g, y)
    assert calls == {id(scorer): 1}
    fresh = NoveltyScorer("hqi-nap").fit(X, y_idx, np.zeros((len(X), 0)))
    np.testing.assert_array_equal(again, fresh.loo_scores(g, y))
    # other arguments are computed, and give what a fresh scorer gives
    one = np.where(np.arange(len(X)) < 3, "d", y)  # the first sample: a class of its own
    for groups, labels in ((None, y), (g, one), (g, None), (np.roll(g, 3), y)):
        before = calls[id(scorer)]
        np.testing.assert_array_equal(scorer.loo_scores(groups, labels),
                                      fresh.loo_scores(groups, labels))
        assert calls[id(scorer)] == before + 1
    assert np.isnan(scorer.loo_scores(g, one)[:3]).all()
    # a new fit forgets the scores of the old reference
    scorer.fit(X[3:], y_idx[3:], np.zeros((len(X) - 3, 0)))
    before = calls[id(scorer)]
    assert scorer.loo_scores(g[3:], y[3:]).shape == (len(X) - 3,)
    assert calls[id(scorer)] == before + 1


@pytest.mark.parametrize("opts", [["--folds", "2"], ["--folds", "2", "--group-col", "group"],
                                  ["--split-col", "part"]])
def test_cli_train_computes_each_models_leave_one_out_scores_once(tmp_path, capsys,
                                                                   monkeypatch, opts):
    # the final model's were computed by its fit and again by the calibration
    rng = np.random.default_rng(13)
    X, y = simulate(6, "abc", rng)
    data = tmp_path / "d.csv"
    with open(data, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["label", "group", "part", *np.arange(N_POINTS) + 400.0])
        for i, (row, label) in enumerate(zip(X, y, strict=True)):
            w.writerow([label, f"g{i % 3}", "test" if i % 6 == 0 else "train", *row])
    calls = _count_loo(monkeypatch)
    assert main(["train", str(data), "--label-col", "label", "--recipe", "none",
                 "--epochs", "1", "--filters", "4", "--filter-size", "3", "--fc-width", "8",
                 "--no-compare", "--augment", "off", *opts,
                 "--out", str(tmp_path / "m.ramancam")]) == 0
    assert "threshold from leave-one-" in capsys.readouterr().out
    assert calls and set(calls.values()) == {1}


def test_a_loaded_hqi_nap_reference_is_held_once_and_scores_as_before(monkeypatch):
    # from_state upcast the stored float32 rows to float64 and the first score kept a
    # projected float64 copy too, projected whole (several temporaries of the reference's
    # size): now the float32 rows (for "the same spectrum") and the projected rows only,
    # projected in blocks, with the very same scores
    import ramancam._nap as nap
    import ramancam.novelty as nov

    rng = np.random.default_rng(14)
    X, _ = simulate(12, "abc", rng)
    state, arrays = NoveltyScorer("hqi-nap").fit(X, np.repeat([0, 1, 2], 12),
                                                np.zeros((len(X), 0))).to_state()
    queries = np.vstack([simulate(5, "abd", rng)[0], X[::4]])  # 9 training spectra
    none = np.zeros((len(queries), 0))
    # the scorer as from_state made it before: float64 rows, projected whole
    old = NoveltyScorer.from_state(state, arrays)
    old.reference_["derivatives"] = arrays["derivatives"].astype(np.float64)
    old._projected = nap.project(old.reference_["derivatives"], old.reference_["nuisance"])
    want = old.score(queries, none, none)
    assert (want == 0).sum() == 9

    sizes = []
    real = nap.project

    def spy(rows, V):
        sizes.append(len(rows))
        return real(rows, V)
    monkeypatch.setattr(nap, "project", spy)
    monkeypatch.setattr(nov, "_PROJECT_ROWS", 5, raising=False)
    new = NoveltyScorer.from_state(state, arrays)
    got = new.score(queries, none, none)
    np.testing.assert_array_equal(got, want)
    assert got.tobytes() == want.tobytes()  # to the last bit
    stored = new.reference_["derivatives"]
    assert stored.dtype == np.float32 and np.shares_memory(stored, arrays["derivatives"])
    assert new._projected is not None and new._projected.dtype == np.float64
    assert new._projected.tobytes() == old._projected.tobytes()
    assert sizes[:-1] == [5] * 7 + [1]  # 36 reference rows in blocks, then the queries
    assert sizes[-1] == len(queries)
    # saved again, the arrays are the model file's
    for k, v in new.to_state()[1].items():
        assert v.tobytes() == arrays[k].tobytes()
