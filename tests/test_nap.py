"""The ``hqi-nap`` novelty score: within-class nuisance directions projected out, and its
leave-one-out scores refitting them without each left-out spectrum or group."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam import _nap
from ramancam.errors import RamancamError
from ramancam.novelty import DEFAULT_METHOD, NoveltyScorer, conformal_threshold

N_POINTS = 240
X_AXIS = np.arange(N_POINTS, dtype=np.float64)


def _band(pos, width=3.0):
    return 1.0 / (1 + ((X_AXIS - pos) / width) ** 2)


#: A coating's bands (a biofilm over a polymer): present in every class, in any amount.
COATING = _band(60, 3) + 0.8 * _band(175, 3) + 0.5 * _band(215, 3)
#: Each substance's own bands.
OWN = {"a": (30, 100), "b": (45, 140), "c": (80, 200), "u": (120, 160)}


def coated(n, substance, rng, coating=(0.0, 10.0)):
    """Spectra of one substance under a coating of random thickness (up to 10x the
    substance's own bands), a little noise."""
    X = []
    for _ in range(n):
        s = sum(rng.uniform(0.7, 1.0) * _band(p) for p in OWN[substance])
        s = s + rng.uniform(*coating) * COATING + 0.01 * rng.standard_normal(N_POINTS)
        X.append(s / s.max())
    return np.asarray(X)


def _rows(n, p, rng, rank=12):
    """Unit rows with a decaying spectrum (as derivative rows have), random classes."""
    F = rng.standard_normal((n, rank)) * np.arange(rank, 0, -1) ** 1.5
    D = F @ rng.standard_normal((rank, p)) + 0.3 * rng.standard_normal((n, p))
    return D / np.linalg.norm(D, axis=1, keepdims=True)


def _refit(D, y, unit, k):
    keep = np.setdiff1d(np.arange(len(D)), unit)
    P = _nap.project(D, _nap.nuisance_directions(D[keep], y[keep], k))
    return P[unit] @ P.T


@pytest.mark.parametrize(("n", "p"), [(40, 90), (130, 60), (160, 150)])
def test_leave_one_out_similarities_equal_a_refit_without_the_unit(n, p):
    # 160 x 150: a basis of 150 > _DENSE_MAX, solved by ARPACK
    rng = np.random.default_rng(n)
    D = _rows(n, p, rng)
    y = rng.integers(0, 4, n)
    units = [np.array([i]) for i in (0, 3, n - 1)]
    units += [np.array([1, 2, 5]),                  # a group across classes
              np.flatnonzero(y == 0)[:4],            # part of one class
              np.flatnonzero(y == 3)]                # a whole class
    pairs = list(_nap.loo_similarities(D, y, units, 2))
    assert len(pairs) == len(units)  # each unit fits one batch here: one pair each
    for unit, (rows, got) in zip(units, pairs, strict=True):
        np.testing.assert_array_equal(rows, unit)
        np.testing.assert_allclose(got, _refit(D, y, unit, 2), atol=1e-9)


def _by_row(pairs):
    """Each row's similarities, from the ``(rows, similarities)`` pairs, per unit in turn."""
    return [(int(r), s) for rows, sims in pairs for r, s in zip(rows, sims, strict=True)]


def test_batches_of_units_do_not_change_the_similarities(monkeypatch):
    rng = np.random.default_rng(7)
    D = _rows(70, 50, rng)
    y = rng.integers(0, 3, 70)
    units = [np.array([i]) for i in range(70)] + [np.arange(10, 25), np.array([3, 40])]
    whole = list(_nap.loo_similarities(D, y, units, 2))  # every unit in one batch
    assert len(list(_nap._batches(units, 70, 2))) == 1 and len(whole) == len(units)
    # room for two single spectra per batch (each: 1 row and 2 directions x 70 spectra)
    monkeypatch.setattr(_nap, "_BATCH_CELLS", 7 * 70)
    batches = list(_nap._batches(units, 70, 2))
    assert [len(b) for b in batches] == [2] * 35 + [1, 1]
    assert [u.tolist() for b in batches for u in b] == [u.tolist() for u in units]
    assert batches[-2][0].size == 15  # larger than the limit: a batch of its own
    pairs = list(_nap.loo_similarities(D, y, units, 2))
    # ... and its 15 rows come 7 at a time (7 x 70 cells), so memory stays bounded
    assert [rows.size for rows, _ in pairs[70:]] == [7, 7, 1, 2]
    for (ra, a), (rb, b) in zip(_by_row(whole), _by_row(pairs), strict=True):
        assert ra == rb
        np.testing.assert_allclose(a, b, atol=1e-12)
    for unit, (rows, got) in zip(units[-2:], whole[-2:], strict=True):
        np.testing.assert_array_equal(rows, unit)
        np.testing.assert_allclose(got, _refit(D, y, unit, 2), atol=1e-9)


def test_group_scores_do_not_depend_on_the_batch_size(monkeypatch):
    rng = np.random.default_rng(11)
    X = np.vstack([coated(20, s, rng) for s in "abc"])
    y = np.repeat([0, 1, 2], 20)
    groups = np.arange(1, 61)  # one large group across the classes, 35 single spectra
    groups[np.r_[0:10, 20:30, 40:45]] = 0
    sc = NoveltyScorer("hqi-nap").fit(X, y, np.zeros((60, 0)))
    expected = sc.loo_scores(groups, y)
    monkeypatch.setattr(_nap, "_BATCH_CELLS", 4 * 60)  # the large group 4 rows at a time
    np.testing.assert_allclose(sc.loo_scores(groups, y), expected, atol=1e-12)
    assert np.isfinite(expected).all()  # the large group's spectra are scored too


def test_nuisance_directions_are_the_within_class_spread_and_orthonormal():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 30)
    means = 5 * rng.standard_normal((3, 50))
    spread = np.zeros(50)
    spread[7] = 1.0
    D = means[y] + rng.uniform(-3, 3, (90, 1)) * spread + 0.01 * rng.standard_normal((90, 50))
    V = _nap.nuisance_directions(D, y, 2)
    np.testing.assert_allclose(V @ V.T, np.eye(2), atol=1e-10)
    assert abs(V[0, 7]) > 0.99  # the direction along which each class spreads
    # the class means differ in every direction; they do not count as nuisance
    assert _nap.nuisance_directions(D, y, 2).shape == (2, 50)
    single = _nap.nuisance_directions(D[:3], np.array([0, 1, 2]), 2)
    assert single.shape == (0, 50)  # one spectrum per class: no spread, nothing removed


def test_a_coated_unknown_is_flagged_where_the_coating_hid_it():
    # Every class varies mostly by its coating; an unknown substance under a thick coating
    # correlates with coated known spectra by the coating's bands. Removing the directions in
    # which the classes spread (the coating) leaves its own bands to be compared.
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1, 2], 30)
    X = np.vstack([coated(30, c, rng) for c in "abc"])
    known = np.vstack([coated(40, c, rng) for c in "abc"])
    unknown = coated(60, "u", rng, coating=(6.0, 10.0))
    flagged = {}
    for method in ("hqi-halves", "hqi-nap"):
        sc = NoveltyScorer(method).fit(X, y, np.zeros((90, 0)))
        thr = conformal_threshold(sc.loo_scores(), 0.05)
        flagged[method] = (np.mean(sc.score(known, None, None) > thr),
                           np.mean(sc.score(unknown, None, None) > thr))
    assert flagged["hqi-nap"][1] >= 0.9
    assert flagged["hqi-halves"][1] <= 0.5  # the coating hides it from the plain score
    assert flagged["hqi-nap"][0] <= 0.1  # 120 fresh known spectra, 5 % promised


def test_hqi_nap_leave_one_out_scores_are_those_of_a_scorer_fitted_without_the_spectrum():
    rng = np.random.default_rng(3)
    X = np.vstack([coated(8, c, rng) for c in "abc"])
    y = np.repeat([0, 1, 2], 8)
    g = np.repeat(np.arange(12), 2)  # pairs of replicates
    sc = NoveltyScorer("hqi-nap").fit(X, y, np.zeros((24, 0)))
    assert sc.model_free and DEFAULT_METHOD == "hqi-nap"
    for groups in (None, g):
        loo = sc.loo_scores(groups)
        for i in (0, 9, 23):
            out = np.arange(24) == i if groups is None else groups == groups[i]
            rest = NoveltyScorer("hqi-nap").fit(X[~out], y[~out], np.zeros(((~out).sum(), 0)))
            assert loo[i] == pytest.approx(rest.score(X[i:i + 1], None, None)[0], abs=1e-9)
    # a class whose only group is left out: not scored (its class would be missing)
    lab = y.copy()
    lab[g == 0] = 5
    assert np.isnan(sc.loo_scores(g, lab)[g == 0]).all()


def test_hqi_nap_state_round_trip_and_damage():
    rng = np.random.default_rng(4)
    X = np.vstack([coated(10, c, rng) for c in "ab"])
    Q = coated(5, "u", rng)
    sc = NoveltyScorer("hqi-nap").fit(X, np.repeat([0, 1], 10), np.zeros((20, 0)))
    d, arrays = sc.to_state()
    assert d == {"method": "hqi-nap", "window": 25}
    assert set(arrays) == {"derivatives", "nuisance"} and arrays["nuisance"].shape == (2, 240)
    again = NoveltyScorer.from_state(d, arrays)
    np.testing.assert_allclose(again.score(Q, None, None), sc.score(Q, None, None),
                               atol=1e-5)
    np.testing.assert_array_equal(sc.library_match(X[:3]), [0, 0, 0])
    with pytest.raises(RamancamError, match="need the training spectra's classes"):
        again.loo_scores()  # a model file restores them beside the class references
    again.labels_ = sc.labels_
    np.testing.assert_allclose(again.loo_scores(), sc.loo_scores(), atol=1e-5)
    with pytest.raises(RamancamError, match="'nuisance' must have one column per grid"):
        NoveltyScorer.from_state(d, {**arrays, "nuisance": arrays["nuisance"][:, :-1]})
    with pytest.raises(RamancamError, match="novelty arrays must be"):
        NoveltyScorer.from_state(d, {"derivatives": arrays["derivatives"]})


def test_timing_script_prints_a_row_per_set(load_benchmark, capsys):
    bench = load_benchmark("nap_loo")
    assert bench.main(["--sizes", "120", "--no-saliva"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| training set |") and len(out) == 3
    cells = [c.strip() for c in out[2].strip("|").split("|")]
    assert cells[1] == "120 x 1200" and cells[2].endswith(" s") and cells[3].endswith(" s")
    # the printed mean is the leave-one-out scores' mean of the same simulated set
    X, y = bench.simulated(120)
    loo = NoveltyScorer("hqi-nap").fit(X, y, np.zeros((120, 0))).loo_scores()
    assert cells[4] == f"{np.nanmean(loo):.6f}"
