"""``benchmarks/levers.py``: weight averaging, the softmax ensemble and the quick run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "levers.py"


@pytest.fixture(scope="module")
def levers():
    spec = importlib.util.spec_from_file_location("levers", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["levers"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("levers", None)


def _toy(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(64)
    y = np.repeat(["a", "b"], 20)
    centre = np.where(y == "a", 20, 44)[:, None]
    X = np.exp(-0.5 * ((t - centre) / 3.0) ** 2) + 0.05 * rng.standard_normal((40, 64))
    return X, y


def test_swa_averages_the_last_epochs_and_only_them(levers):
    from ramancam.train import CNNClassifier

    X, y = _toy()
    kw = {"n_filters": 4, "filter_size": 5, "fc_width": 8, "epochs": 6, "lr": 1e-3,
          "random_state": 3, "novelty": None}
    plain = CNNClassifier(**kw).fit(X, y)
    last = levers._swa_classifier(start=5 / 6)(**kw).fit(X, y)  # averages epoch 6 alone
    half = levers._swa_classifier(start=0.5)(**kw).fit(X, y)  # epochs 4, 5, 6
    assert (last.swa_epochs_, half.swa_epochs_) == (1, 3)
    w = [m.module_.fc2.weight.detach().numpy() for m in (plain, last, half)]
    np.testing.assert_array_equal(w[0], w[1])
    assert not np.allclose(w[0], w[2])


def test_std_lever_autoscales_each_point_with_a_floor(levers):
    X, y = _toy()
    X[:, 0] = 0.5  # a constant point: its scale is the floor, not 0
    kw = {"n_filters": 4, "filter_size": 5, "fc_width": 8, "epochs": 1,
          "input_scaling": "center", "random_state": 0, "novelty": None}
    est = levers._std_classifier(floor=0.1)(**kw).fit(X, y)
    sd = X.std(axis=0)
    scale = est.module_.input_scale.numpy()
    np.testing.assert_allclose(est.module_.input_mean.numpy(), X.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(scale, np.maximum(sd, 0.1 * np.median(sd)), rtol=1e-5)
    assert scale[0] == pytest.approx(0.1 * np.median(sd), rel=1e-5)
    # the default: one common scale for every point
    from ramancam.train import CNNClassifier

    common = CNNClassifier(**kw).fit(X, y).module_.input_scale.numpy()
    assert np.ptp(common) == 0 and common[0] == pytest.approx((X - X.mean(0)).std(), rel=1e-5)


def test_ensemble_accuracy_is_that_of_the_mean_softmax(levers):
    data = SimpleNamespace(labels=np.array(["a", "b", "b"]))
    splits = [(np.array([0]), np.array([0, 1, 2]))]
    f1 = {"classes": ["a", "b"], "proba": [[[0.9, 0.1], [0.6, 0.4], [0.6, 0.4]]]}
    f2 = {"classes": ["a", "b"], "proba": [[[0.8, 0.2], [0.1, 0.9], [0.7, 0.3]]]}
    assert levers.accuracy(data, splits, [f1]) == pytest.approx(1 / 3)
    assert levers.accuracy(data, splits, [f2]) == pytest.approx(2 / 3)
    # mean softmax: (0.85, 0.15) right, (0.35, 0.65) right, (0.65, 0.35) wrong
    assert levers.accuracy(data, splits, [f1, f2]) == pytest.approx(2 / 3)


def test_quick_run_writes_rows_with_the_ensemble_cost(levers, shared_data, tmp_path):
    out = tmp_path / "levers.json"
    assert levers.main(["--quick", "--levers", "default,ens3,swa", "--cache",
                        str(tmp_path / "cache"), "--out", str(out)]) == 0
    rows = {r["lever"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"default", "ens3", "swa"}
    assert all(0.0 <= r["mean"] <= 1.0 for r in rows.values())
    # the ensemble's cost is that of its 3 networks (default seeds 0, 1, 2), taken from the
    # cache rather than compared by wall time, which varies with the machine's load
    members = [json.loads((tmp_path / "cache" / f"drug-mabs-quick-default-s{s}.json")
                          .read_text()) for s in range(3)]
    assert rows["ens3"]["fit_s"] == pytest.approx(sum(np.mean(m["fit_s"]) for m in members))
    assert rows["ens3"]["fit_s"] > rows["default"]["fit_s"]
    assert rows["default"]["time_factor"] == pytest.approx(1.0)


def test_norm_lever_changes_only_the_normalisation(levers, shared_data):
    plain = levers.load("drug-mabs", True)[0]
    vec = levers.load("drug-mabs", True, "vector")[0]
    np.testing.assert_array_equal(plain.wavenumbers, vec.wavenumbers)
    np.testing.assert_allclose(np.linalg.norm(vec.X, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(plain.X.max(axis=1), 1.0, rtol=1e-6)
    # the same spectra, scaled: each vector-normalised row is the max-normalised one / norm
    np.testing.assert_allclose(vec.X, plain.X / np.linalg.norm(plain.X, axis=1)[:, None],
                               rtol=1e-6, atol=1e-9)


def test_recipe_sets_apply_their_own_recipe_to_the_same_spectra_and_split(levers, shared_data):
    plain, _, plain_splits, plain_recipe = levers.load("drug-mabs", True)
    full, _, splits, recipe = levers.load("drug-mabs-full-snv", True)
    assert recipe == "full-snv" and plain_recipe != recipe
    assert full.wavenumbers[0] == 401.0 and full.wavenumbers[-1] == 3997.0
    assert np.allclose(np.diff(full.wavenumbers), 2.0)
    assert plain.wavenumbers[-1] <= 1800.0
    # SNV: every spectrum centred and scaled to unit standard deviation
    np.testing.assert_allclose(full.X.mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(full.X.std(axis=1), 1.0, rtol=1e-4)
    np.testing.assert_array_equal(np.asarray(full.labels), np.asarray(plain.labels))
    for (a, b), (c, d) in zip(splits, plain_splits, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert set(levers.RECIPE_SETS) <= set(levers.SETS)


def test_raw_recipe_set_only_resamples(levers):
    recipe = levers.recipe_of("drug-mabs-full-raw")
    assert [st.name for st in recipe.steps] == ["resample"]
    assert recipe.steps[0].params["step"] == 2
    w = np.linspace(400.0, 4000.0, 500)
    X = np.vstack([np.interp(w, [400, 4000], [0.02, 0.05]), 0.03 + 0.01 * np.sin(w / 50)])
    from ramancam.spectra import Spectra

    out = recipe.apply(Spectra(X, w, labels=np.array(["A", "B"])))
    # no baseline and no normalisation: a straight line stays that line, unscaled
    np.testing.assert_allclose(out.X[0], np.interp(out.wavenumbers, [400, 4000], [0.02, 0.05]),
                               rtol=1e-6)
    assert 0.019 < out.X.min() and out.X.max() < 0.051


def test_pca40_denoising_is_fitted_on_the_training_part_alone(levers):
    rng = np.random.default_rng(1)
    train = rng.standard_normal((60, 5)) @ rng.standard_normal((5, 80)) + 2.0
    train += 0.01 * rng.standard_normal(train.shape)  # full rank, 5 strong directions
    test = rng.standard_normal((50, 80))
    d_train, d_test = levers.denoise("pca40", train, test)
    mean = train.mean(axis=0)
    # a projection: what it removes is orthogonal to what it keeps, and it keeps 40 dimensions
    for orig, kept in ((train, d_train), (test, d_test)):
        np.testing.assert_allclose(np.sum((orig - kept) * (kept - mean), axis=1), 0,
                                   atol=1e-8)
    assert np.linalg.matrix_rank(d_test - mean, tol=1e-8) == 40
    # the training part keeps its strong directions: little is removed from it
    assert np.abs(d_train - train).max() < 0.05
    # each test spectrum on its own, and the basis from the training part alone
    np.testing.assert_allclose(levers.denoise("pca40", train, test[:3])[1], d_test[:3])
    np.testing.assert_allclose(levers.denoise("pca40", train, test[:3])[0], d_train)
    assert not np.allclose(levers.denoise("pca40", train[:, ::-1], test)[1], d_test)


def test_white10_gives_the_training_part_equal_spread_in_its_first_10_components(levers):
    rng = np.random.default_rng(3)
    scales = np.geomspace(10.0, 0.1, 12)  # 12 directions of very different spread
    basis = np.linalg.qr(rng.standard_normal((80, 12)))[0].T
    train = (rng.standard_normal((70, 12)) * scales) @ basis + 5.0
    test = (rng.standard_normal((30, 12)) * scales) @ basis + 5.0
    d_train, d_test = levers.denoise("white10", train, test)
    mean = train.mean(axis=0)
    sv = np.linalg.svd(d_train - mean, compute_uv=False)
    # ten equal singular values (standardised scores), the rest removed
    np.testing.assert_allclose(sv[:10], sv[0], rtol=1e-8)
    assert sv[10] < 1e-8 * sv[0]
    # the overall spread is the root mean square of the ten components' sd
    sd = np.linalg.svd(train - mean, compute_uv=False)[:10] / np.sqrt(69)
    np.testing.assert_allclose(sv[0] / np.sqrt(69), np.sqrt(np.mean(sd ** 2)), rtol=1e-8)
    # test spectra: the same linear map, fitted on the training part alone, one at a time
    np.testing.assert_allclose(levers.denoise("white10", train, test[:2])[1], d_test[:2])
    assert not np.allclose(levers.denoise("white10", test, train)[0], d_test)
    assert levers.LEVERS["white10"] == {} and "white10" in levers.INPUT_LEVERS


def test_fa10_maps_standardised_factor_scores_back_along_the_loadings(levers):
    from sklearn.decomposition import FactorAnalysis

    rng = np.random.default_rng(4)
    loadings = rng.standard_normal((10, 60)) * np.geomspace(5.0, 0.5, 10)[:, None]
    train = rng.standard_normal((80, 10)) @ loadings + 0.05 * rng.standard_normal((80, 60))
    test = rng.standard_normal((20, 10)) @ loadings + 0.05 * rng.standard_normal((20, 60))
    d_train, d_test = levers.denoise("fa10", train + 3.0, test + 3.0)
    fa = FactorAnalysis(10, random_state=0).fit(train + 3.0)
    U = fa.components_ / np.linalg.norm(fa.components_, axis=1, keepdims=True)
    mean = (train + 3.0).mean(axis=0)
    # the outputs lie in the span of the 10 loadings about the training mean ...
    for out in (d_train, d_test):
        coef = np.linalg.lstsq(U.T, (out - mean).T, rcond=None)[0].T
        np.testing.assert_allclose(coef @ U + mean, out, atol=1e-8)
    # ... with the training part's factor scores standardised: equal spread along each
    coef = np.linalg.lstsq(U.T, (d_train - mean).T, rcond=None)[0].T
    np.testing.assert_allclose(coef.std(axis=0), coef.std(axis=0)[0], rtol=1e-6)
    np.testing.assert_allclose(coef.mean(axis=0), 0, atol=1e-8)
    assert "fa10" in levers.INPUT_LEVERS


def test_nap_inputs_remove_the_within_class_spread_fitted_on_the_training_part(levers):
    rng = np.random.default_rng(2)
    y = np.repeat(["a", "b", "c"], 20)
    means = 3 * rng.standard_normal((3, 40))
    spread = np.zeros(40)
    spread[5] = 1.0  # every class varies along point 5
    train = (means[np.searchsorted(["a", "b", "c"], y)] + rng.uniform(-2, 2, (60, 1)) * spread
             + 0.01 * rng.standard_normal((60, 40)))
    test = train[::3] + 0.5 * spread
    d_train, d_test = levers.nap_inputs(train, test, y, 1)
    # the shared spread is gone from both parts; the classes' means are kept
    assert d_train[:, 5].std() < 0.05 and np.ptp(d_test[:, 5]) < 0.2
    for c in "abc":
        np.testing.assert_allclose(np.delete(d_train[y == c].mean(axis=0), 5),
                                   np.delete(train[y == c].mean(axis=0), 5), atol=0.05)
    # the directions come from the training part alone
    np.testing.assert_allclose(levers.nap_inputs(train, test[:2], y, 1)[1], d_test[:2])
    # with more directions, what is removed stays within that many dimensions
    two = levers.nap_inputs(train, test, y, 2)[0]
    assert np.linalg.matrix_rank(two - train, tol=1e-8) == 2


def test_aug_plus_pca20_is_pca20_inputs_with_aug_training(levers):
    rng = np.random.default_rng(2)
    train, test = rng.standard_normal((40, 60)), rng.standard_normal((10, 60))
    combined, plain = levers.denoise("aug+pca20", train, test), levers.denoise("pca20", train, test)
    for a, b in zip(combined, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    assert levers.LEVERS["aug+pca20"] == levers.LEVERS["aug"] != {}


def test_k32_plus_pca20_is_pca20_inputs_with_the_k32_network(levers):
    rng = np.random.default_rng(3)
    train, test = rng.standard_normal((40, 60)), rng.standard_normal((10, 60))
    combined, plain = levers.denoise("k32+pca20", train, test), levers.denoise("pca20", train, test)
    for a, b in zip(combined, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    assert levers.LEVERS["k32+pca20"] == {"n_filters": 32, "filter_size": 32}


def test_sg21_smooths_noise_and_keeps_a_broad_band(levers):
    t = np.arange(200.0)
    band = np.exp(-0.5 * ((t - 100) / 12.0) ** 2)
    noisy = band + 0.05 * np.random.default_rng(0).standard_normal(200)
    smooth = levers.denoise("sg21", noisy[None, :], noisy[None, :])[0][0]
    assert np.abs(smooth - band).std() < 0.5 * np.abs(noisy - band).std()
    assert abs(int(np.argmax(smooth)) - 100) <= 2
    with pytest.raises(ValueError, match="not an input lever"):
        levers.denoise("aug", noisy[None, :], noisy[None, :])


def test_wrong_ids_lists_the_misclassified_test_spectra(levers):
    data = SimpleNamespace(labels=np.array(["a", "b", "b", "a"]),
                           meta={"id": np.array(["s1", "s2", "s3", "s4"])})
    splits = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    fit = {"classes": ["a", "b"],
           "proba": [[[0.9, 0.1], [0.7, 0.3]], [[0.2, 0.8], [0.4, 0.6]]]}
    assert levers.wrong_ids(data, splits, fit) == ["s2", "s4"]
    data.meta = {}  # no id column: row numbers
    assert levers.wrong_ids(data, splits, fit) == ["1", "3"]


def test_simulated_library_is_seeded_max_normalised_near_twin_pairs(levers):
    X, y = levers.simulated_library(300, seed=4, n_pairs=3, n_per_class=5)
    assert X.shape == (30, 300) and np.allclose(X.max(axis=1), 1.0)
    assert sorted(set(y.tolist())) == ["sim00a", "sim00b", "sim01a", "sim01b", "sim02a",
                                       "sim02b"]
    np.testing.assert_array_equal(X, levers.simulated_library(300, 4, 3, 5)[0])
    assert not np.allclose(X, levers.simulated_library(300, 5, 3, 5)[0])
    # the two variants of a pair share most bands: their class means correlate more with
    # each other than with another pair's
    means = {c: X[y == c].mean(axis=0) for c in set(y.tolist())}
    r = np.corrcoef(np.array([means[c] for c in sorted(means)]))
    assert all(r[2 * p, 2 * p + 1] > max(np.delete(r[2 * p], [2 * p, 2 * p + 1]))
               for p in range(3))


def test_pretrain_lever_starts_from_the_cached_simulated_network(levers, tmp_path):
    from ramancam.train import CNNClassifier

    X, y = _toy()
    params = {"n_filters": 4, "filter_size": 5, "n_blocks": 2, "fc_width": 8, "epochs": 2}
    state, seconds = levers.pretrained_features(params, 64, 0, tmp_path)
    assert len(list(tmp_path.glob("pretrain-*-p64-s0.npz"))) == 1
    again, seconds_again = levers.pretrained_features(params, 64, 0, tmp_path)  # the cache
    assert set(again) == set(state) and seconds_again == seconds
    assert all(np.array_equal(state[k].numpy(), again[k].numpy()) for k in state)
    assert seconds > 0 and set(state) == {"1.weight", "1.bias", "5.weight", "5.bias"}
    kw = {**params, "lr": 1e-3, "random_state": 1, "novelty": None}
    frozen = levers._pretrained_classifier(state, frozen=True)(**kw).fit(X, y)
    tuned = levers._pretrained_classifier(state, frozen=False)(**kw).fit(X, y)
    plain = CNNClassifier(**kw).fit(X, y)
    conv = "1.weight"  # the first convolution (0 is its padding)
    got = {name: est.module_.features.state_dict()[conv].numpy()
           for name, est in [("frozen", frozen), ("tuned", tuned), ("plain", plain)]}
    np.testing.assert_array_equal(got["frozen"], state[conv].numpy())  # kept fixed
    assert not np.array_equal(got["tuned"], state[conv].numpy())  # trained on from there
    assert np.abs(got["tuned"] - state[conv].numpy()).max() < np.abs(
        got["plain"] - state[conv].numpy()).max()
    assert all(p.requires_grad for p in frozen.module_.features.parameters())  # restored


def test_same_class_mix_doubles_the_training_part_with_convex_mixtures_of_one_class(levers):
    X, y = _toy()
    Xm, ym = levers.same_class_mix(X, y, seed=0)
    assert Xm.shape == (80, 64) and ym.shape == (80,)
    np.testing.assert_array_equal(Xm[:40], X)
    np.testing.assert_array_equal(ym[:40], y)
    for row, label in zip(Xm[40:], ym[40:], strict=True):
        own = X[y == label]
        # a convex mixture of two spectra of its class: between their pointwise extremes
        assert np.all(row >= own.min(axis=0) - 1e-12)
        assert np.all(row <= own.max(axis=0) + 1e-12)
    # seeded: the same seed repeats, another does not
    np.testing.assert_array_equal(levers.same_class_mix(X, y, seed=0)[0], Xm)
    assert not np.allclose(levers.same_class_mix(X, y, seed=1)[0], Xm)


def test_label_smoothing_lever_changes_the_loss_and_restores_cross_entropy(levers):
    from torch.nn import functional as F

    from ramancam.train import CNNClassifier

    X, y = _toy()
    kw = {"n_filters": 4, "filter_size": 5, "fc_width": 8, "epochs": 5, "lr": 1e-3,
          "random_state": 0, "novelty": None, "calibration_cv": 0}
    before = F.cross_entropy
    plain = CNNClassifier(**kw).fit(X, y)
    smooth = levers._smooth_classifier(0.1)(**kw).fit(X, y)
    assert F.cross_entropy is before  # swapped back after the training loop
    # the first epoch's loss: same weights and batches, smoothed targets give a higher loss
    assert smooth.history_[0]["loss"] > plain.history_[0]["loss"]
    # only plain fits are smoothed: with augmentation the loss is the plain one
    aug = {**kw, "augment_scale": 0.1}
    np.testing.assert_allclose(
        [h["loss"] for h in levers._smooth_classifier(0.1, plain_only=True)(**aug)
         .fit(X, y).history_],
        [h["loss"] for h in CNNClassifier(**aug).fit(X, y).history_])


def test_auto_smooth_lever_chooses_between_augmentation_and_smoothing(levers):
    X, y = _toy()
    kw = {"n_filters": 4, "filter_size": 5, "fc_width": 8, "epochs": 3, "random_state": 0,
          "novelty": None, "calibration_cv": 0, **levers.LEVERS["auto-smooth"]}
    est = levers._smooth_classifier(0.1, plain_only=True)(**kw).fit(X, y)
    choice = est.augment_choice_
    assert set(choice["val_accuracy"]) == {"off", "on"}
    assert isinstance(choice["augment"], bool)


def test_auto3_pools_three_inner_splits_and_restores_the_single_decision(levers,
                                                                         monkeypatch):
    from ramancam import augment, train

    seeds = []
    single = augment.choose_augment

    def spy(est, Xa, ya, y_idx, seed):
        seeds.append(seed)
        return single(est, Xa, ya, y_idx, seed)

    monkeypatch.setattr(augment, "choose_augment", spy)
    X, y = _toy()
    kw = {"n_filters": 4, "filter_size": 5, "fc_width": 8, "epochs": 3, "random_state": 0,
          "novelty": None, "calibration_cv": 0, **levers.LEVERS["auto3"]}
    est = levers._repeat_classifier(3)(**kw).fit(X, y)
    choice = est.augment_choice_
    # three inner splits, each with its own seed, pooled into one decision
    assert len(seeds) == 3 and len(set(seeds)) == 3 and choice["repeats"] == 3
    assert choice["n_val"] == 3 * 8  # 20 % of 40 spectra, three times
    acc = choice["val_accuracy"]
    assert choice["augment"] == (acc["on"] > acc["off"] or (
        acc["on"] == acc["off"] and choice["val_loss"]["on"] < choice["val_loss"]["off"]))
    assert train.choose_augment is single  # the shipped decision is back after the fit


def test_realdata_sets_are_read_and_split_as_realdata_does(levers, shared_data):
    import realdata as rd

    data, params, splits, _ = levers.load("rd:rruff-sample:3", quick=True)
    spec = next(s for s in rd.SETS if s.name == "rruff-sample")
    _, rd_data, rd_splits = rd.prepared(spec, 3)
    np.testing.assert_array_equal(data.X, rd_data.X)
    assert len(splits) == 3
    for (a, b), (c, d) in zip(splits, rd_splits, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert params["augment_select"] is False
    with pytest.raises(SystemExit, match=r"no benchmarks/realdata\.py set"):
        levers.load("rd:nonesuch", quick=True)
