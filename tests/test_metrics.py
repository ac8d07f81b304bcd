"""Map-quality and classification metrics on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam.errors import RamancamError
from ramancam.metrics import (
    accuracy,
    background_share,
    confusion,
    fold_stability,
    map_correlation,
    peak_mass,
    pointing_game,
    pointing_hits,
)

AXIS = np.arange(10.0) * 2.0 + 100.0          # 100, 102, ..., 118


def test_pointing_game_per_map_peaks_and_tolerance():
    maps = np.zeros((4, 10))
    maps[0, 2] = 1.0      # max at 104
    maps[1, 7] = 1.0      # max at 114
    maps[2, 5] = 1.0      # max at 110
    maps[3] = 0.0         # flat: never a hit
    peaks = np.array([104.0, 110.0, 112.0, 100.0])
    hits = pointing_hits(maps, AXIS, peaks, tol=2.0)
    # map 1: |114 - 110| = 4 > 2 -> miss; map 2: |110 - 112| = 2 -> hit (inclusive)
    assert hits.tolist() == [True, False, True, False]
    assert pointing_game(maps, AXIS, peaks, tol=2.0) == pytest.approx(0.5)
    assert pointing_game(maps, AXIS, peaks, tol=4.0) == pytest.approx(0.75)


def test_pointing_game_several_peaks_with_nan_slots_and_scalar():
    maps = np.zeros((2, 10))
    maps[0, 9] = 3.0      # 118
    maps[1, 0] = 3.0      # 100
    peaks = np.array([[104.0, 118.0], [np.nan, 108.0]])
    assert pointing_hits(maps, AXIS, peaks, tol=0.0).tolist() == [True, False]
    assert pointing_game(maps, AXIS, 100.0, tol=0.5) == pytest.approx(0.5)


def test_pointing_game_uses_the_axis_not_the_index():
    maps = np.zeros((1, 10))
    maps[0, 3] = 1.0
    assert pointing_game(maps, AXIS[::-1], 112.0, tol=0.0) == 1.0   # reversed axis: 112 at 3
    assert pointing_game(maps, AXIS, 112.0, tol=0.0) == 0.0


def test_peak_mass_counts_only_positive_mass_near_peaks():
    m = np.zeros((3, 10))
    m[0, [1, 2, 3, 8]] = [1.0, 2.0, 1.0, 4.0]          # 4 of 8 within 104 +- 2
    m[1, [2, 5]] = [1.0, -5.0]                         # negative mass ignored -> 1/1
    m[2] = -1.0                                        # nothing positive -> NaN
    out = peak_mass(m, AXIS, 104.0, window=2.0)
    assert out[0] == pytest.approx(0.5)
    assert out[1] == pytest.approx(1.0)
    assert np.isnan(out[2])
    two = peak_mass(m[:1], AXIS, [[104.0, 116.0]], window=0.0)
    assert two[0] == pytest.approx(6.0 / 8.0)


def test_map_correlation_matches_numpy_and_handles_constants(rng):
    maps = rng.normal(size=(3, 10))
    ref = rng.normal(size=10)
    got = map_correlation(maps, ref)
    want = [np.corrcoef(m, ref)[0, 1] for m in maps]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert map_correlation(2 * ref[None] + 1, ref)[0] == pytest.approx(1.0)
    assert map_correlation(-ref[None], ref)[0] == pytest.approx(-1.0)
    assert np.isnan(map_correlation(np.ones((1, 10)), ref)[0])
    per_row = map_correlation(maps, maps)
    np.testing.assert_allclose(per_row, 1.0)


def test_background_share_by_hand():
    s = np.array([[0.0, 0.01, 1.0, 0.5, 0.02]])
    m = np.array([[1.0, -1.0, 4.0, 2.0, 2.0]])          # |m| on background: 1 + 1 + 2
    assert background_share(m, s, threshold=0.05)[0] == pytest.approx(4.0 / 10.0)
    assert background_share(m, s, threshold=0.0)[0] == 0.0
    assert np.isnan(background_share(np.zeros((1, 5)), s)[0])


def test_fold_stability_same_spectra_in_every_fold():
    base_a = np.array([0.0, 1.0, 2.0, 1.0])
    base_b = np.array([2.0, 0.0, 0.0, 1.0])
    labels = np.array(["a", "a", "b"])
    f1 = np.stack([base_a, base_a, base_b])
    f2 = np.stack([2 * base_a, 2 * base_a, -base_b])
    res = fold_stability([f1, f2], labels)
    assert res.classes == ["a", "b"]
    np.testing.assert_allclose(res.mean[0], 1.5 * base_a)
    np.testing.assert_allclose(res.sd[0], np.std([base_a, 2 * base_a], axis=0, ddof=1))
    np.testing.assert_allclose(res.mean[1], 0.0)
    assert res.pairwise_corr[0] == pytest.approx(1.0)     # same shape, other scale
    assert res.pairwise_corr[1] == pytest.approx(-1.0)    # sign flipped between folds
    assert res.fold_means.shape == (2, 2, 4)


def test_fold_stability_labels_per_fold_and_missing_class():
    f1 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    f2 = np.array([[1.0, 0.2, 0.0]])
    res = fold_stability([f1, f2], [np.array(["x", "y"]), np.array(["x"])])
    assert res.classes == ["x", "y"]
    np.testing.assert_allclose(res.fold_means[1, 1], np.nan)
    np.testing.assert_allclose(res.mean[1], [0.0, 1.0, 0.0])   # only fold 1 has class y
    assert np.isnan(res.pairwise_corr[1])
    assert res.pairwise_corr[0] == pytest.approx(np.corrcoef([1, 0, 0], [1, 0.2, 0])[0, 1])


def test_accuracy_and_confusion():
    t = np.array(["a", "b", "b", "c"])
    p = np.array(["a", "b", "c", "c"])
    assert accuracy(t, p) == pytest.approx(0.75)
    cm, labs = confusion(t, p)
    assert labs == ["a", "b", "c"]
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    cm2, labs2 = confusion(t, p, labels=["c", "b", "a"])
    assert labs2 == ["c", "b", "a"]
    assert cm2.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]


def test_inputs_are_not_modified():
    maps = np.arange(20.0).reshape(2, 10)
    maps.flags.writeable = False
    peak_mass(maps, AXIS, 104.0, 2.0)
    pointing_game(maps, AXIS, 104.0, 2.0)
    background_share(maps, maps, 0.1)
    map_correlation(maps, maps[0])
    assert maps[1, 9] == 19.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: pointing_game(np.zeros(10), AXIS, 100.0, 1.0), r"maps must be 2-D"),
    (lambda: pointing_game(np.full((1, 10), np.nan), AXIS, 100.0, 1.0), r"maps must be finite"),
    (lambda: pointing_game(np.zeros((1, 10)), AXIS[:5], 100.0, 1.0),
     r"axis must have shape \(10,\)"),
    (lambda: pointing_game(np.zeros((2, 10)), AXIS, [1.0, 2.0, 3.0], 1.0),
     r"peaks must be a scalar, shape \(2,\)"),
    (lambda: pointing_game(np.zeros((2, 10)), AXIS, np.ones((3, 2)), 1.0),
     r"peaks must be a scalar"),
    (lambda: pointing_game(np.zeros((1, 10)), AXIS, np.inf, 1.0), r"peaks must be finite"),
    (lambda: pointing_game(np.zeros((1, 10)), AXIS, 100.0, -1.0), r"tol must be a number >= 0"),
    (lambda: peak_mass(np.zeros((1, 10)), AXIS, 100.0, "wide"),
     r"window must be a number >= 0"),
    (lambda: map_correlation(np.zeros((2, 10)), np.zeros(9)), r"reference must have shape"),
    (lambda: background_share(np.zeros((2, 10)), np.zeros((1, 10))),
     r"spectra must have the shape of maps"),
    (lambda: background_share(np.zeros((1, 10)), np.zeros((1, 10)), threshold=-0.1),
     r"threshold must be a number >= 0"),
    (lambda: fold_stability([], np.array([])), r"maps_per_fold must hold at least one fold"),
    (lambda: fold_stability([np.zeros((1, 3)), np.zeros((1, 4))], np.array(["a"])),
     r"maps_per_fold\[1\] must have 3 points"),
    (lambda: fold_stability([np.zeros((2, 3))], np.array(["a"])),
     r"labels of fold 0 must have one label per map \(2\)"),
    (lambda: fold_stability([np.zeros((1, 3))], [np.array(["a"]), np.array(["b"])]),
     r"labels must be one array, or one per fold \(1\); got 2"),
    (lambda: accuracy([1, 2], [1]), r"y_true and y_pred must be 1-D of one length"),
    (lambda: confusion(["a"], ["b"], labels=["a"]), r"labels must include every label"),
    (lambda: pointing_game([["x"] * 10], AXIS, 100.0, 1.0), r"maps must be numbers"),
])
def test_documented_errors(call, match):
    with pytest.raises(RamancamError, match=match):
        call()


# ----------------------------------------------------------------- map checks (issue 13)
def test_flatten_points_draws_a_line_between_the_nearest_kept_points():
    from ramancam.metrics import flatten_points

    X = np.array([[0.0, 5.0, 9.0, 3.0, 4.0, 7.0]])
    mask = np.array([[False, True, True, False, False, True]])
    out = flatten_points(X, mask)
    # points 1, 2 on the line from (0, 0) to (3, 3); the last one takes the end value 4
    np.testing.assert_allclose(out, [[0.0, 1.0, 2.0, 3.0, 4.0, 4.0]])
    with pytest.raises(RamancamError, match="must keep at least one point"):
        flatten_points(X, np.ones_like(mask))
    with pytest.raises(RamancamError, match="mask must have the shape of X"):
        flatten_points(X, mask[:, :3])


def test_deletion_test_separates_a_faithful_map_from_a_misleading_one():
    from ramancam.metrics import deletion_test

    rng = np.random.default_rng(0)
    x = np.arange(200.0)
    band = 1.0 / (1.0 + ((x - 80.0) / 3.0) ** 2)
    X = band[None, :] * rng.uniform(0.5, 1.5, (30, 1)) + rng.normal(0, 0.01, (30, 200))

    def score(A):  # a "model" whose class score is the band's height
        return A[:, 78:83].mean(axis=1)

    good = deletion_test(score, X, np.tile(band, (30, 1)), random_state=0)
    assert good.share == 1.0 and np.all(good.drop_top > 0.3)
    away = np.tile(np.roll(band, 60), (30, 1))  # points at the wrong place
    bad = deletion_test(score, X, away, random_state=0)
    assert bad.share < 0.5
    with pytest.raises(RamancamError, match="fraction must be a number in"):
        deletion_test(score, X, away, fraction=1.5)
    # a constant map ranks nothing: it fails, even when the evidence sits where a stable
    # sort of equal values would start (it passed by grid position)
    def edge(A):
        return A[:, :2].sum(axis=1)

    Y = np.zeros((3, 40))
    Y[:, :2] = 1.0
    flat = deletion_test(edge, Y, np.zeros((3, 40)), fraction=np.float32(0.05),
                         random_state=0)
    assert flat.share == 0.0 and not flat.passed.any()


def test_seed_agreement_and_labelled_closer():
    from ramancam.metrics import labelled_closer, seed_agreement

    rng = np.random.default_rng(1)
    a = rng.normal(size=(20, 50))
    labels = np.repeat(["p", "q"], 10)
    same = seed_agreement(a, a + rng.normal(0, 0.01, a.shape), labels)
    assert same.classes == ["p", "q"] and same.min_class_r > 0.99
    assert same.median_spectrum_r > 0.99
    other = seed_agreement(a, rng.normal(size=a.shape), labels)
    assert other.median_spectrum_r < 0.5
    # one seed's maps of class q all zero: no agreement can be shown, and the weakest class
    # is not the best remaining one (nanmin gave 1.0)
    b = a.copy()
    b[labels == "q"] = 0.0
    assert np.isnan(seed_agreement(a, b, labels).min_class_r)
    # ... and its spectra count as not agreeing (nanmedian left them out: median 1.0)
    c = a.copy()
    c[:13] = 0.0  # 13 of 20 maps constant, the other 7 the same in both
    assert seed_agreement(a, c, labels).median_spectrum_r == 0.0
    with pytest.raises(RamancamError, match="must describe the same spectra"):
        seed_agreement(a, a[:5], labels)
    lab, adm = rng.normal(size=(20, 50)), rng.normal(size=(20, 50))
    closer = labelled_closer(lab + 0.3 * adm, lab, adm)
    assert closer.all()
    assert not labelled_closer(adm + 0.3 * lab, lab, adm).any()


def test_accuracy_compares_text_labels_with_numeric_predictions():
    # a Spectra's labels are text; a classifier fitted on integers answers numbers: 0.0
    from ramancam.metrics import accuracy, confusion

    assert accuracy(np.array(["0", "1", "2"]), np.array([0, 1, 1])) == 2 / 3
    cm, labs = confusion(np.array(["0", "1"]), np.array([0, 0]))
    assert labs == ["0", "1"] and cm.tolist() == [[1, 0], [1, 0]]


def test_a_constant_map_has_no_correlation_and_is_never_closer():
    # rounding residue of a constant row gave r = +-2e-17, which labelled_closer counted
    from ramancam import metrics as M

    ref = np.sin(np.arange(100) / 7.0)
    for value in (0.1, 1 / 3):
        c = np.full((1, 100), value)
        assert np.isnan(M.map_correlation(c, ref)).all()
        assert not M.labelled_closer(c, ref[None], -ref[None]).any()


def test_deletion_ties_are_broken_at_random_not_by_position():
    # a map positive at 3 points of 1000: the other 47 of the top 5 % were points 0-46
    from ramancam import metrics as M

    X = np.random.default_rng(0).random((1, 1000))
    m = np.zeros((1, 1000))
    m[0, 500:503] = 1.0
    seen = []
    M.deletion_test(lambda Z: (seen.append(Z.copy()), Z.sum(1))[1], X, m, random_state=0)
    changed = np.flatnonzero(seen[1][0] != X[0])
    assert {500, 501, 502} <= set(changed.tolist())
    assert np.mean(changed < 50) < 0.3  # spread over the spectrum, not the left end
    # the random points are those of before (drawn first)
    rnd = M.deletion_test(lambda Z: Z.sum(1), X, m, random_state=0).drop_random
    flat = M.flatten_points(X, np.isin(np.arange(1000), np.argsort(
        np.random.default_rng(0).random((1, 1000)), axis=1)[0, :50])[None])
    assert rnd[0] == pytest.approx(X.sum() - flat.sum())
    with pytest.raises(RamancamError, match=r"fraction must leave points to draw the line "
                                            r"through; got 0\.96 of 10 points"):
        M.deletion_test(lambda Z: Z.sum(1), X[:, :10], m[:, :10], fraction=0.96)


def test_pointing_counts_a_maximum_exactly_tol_away_on_a_decimal_axis():
    # |1000.1 - 1000.0| is 0.10000000000002274: a maximum "within tol" was a miss
    from ramancam.metrics import pointing_hits

    axis = np.array([999.9, 1000.0, 1000.1, 1000.2])
    maps = np.array([[0.0, 0.1, 1.0, 0.2], [0.0, 0.1, 0.2, 1.0]])
    assert pointing_hits(maps, axis, [1000.0, 1000.0], 0.1).tolist() == [True, False]
