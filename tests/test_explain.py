"""Explanation maps: hand-computed values, agreement with autograd and captum, contracts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam

from ramancam.errors import RamancamError
from ramancam.explain import (
    band_free,
    captum_map,
    explain,
    fc_importance,
    fc_importance_autograd,
    grad_cam,
    pooled_centres,
    predict_proba,
    to_input_grid,
)
from ramancam.model import CNNConfig, RamanCNN

# --------------------------------------------------------------------------- fixtures

def _tiny(fc1_weight=(1.0, 0.5), fc_activation="none") -> RamanCNN:
    """1 filter of size 1 (weight 2), one pool level, FC1 of width 1, two classes.

    For x = [1, 3, 2, 0.5]: conv -> [2, 6, 4, 1], pool -> A = [6, 4], sum(A) = 10.
    """
    cfg = CNNConfig(n_points=4, n_classes=2, n_filters=1, filter_size=1, n_blocks=1,
                    fc_width=1, fc_activation=fc_activation)
    m = RamanCNN(cfg)
    with torch.no_grad():
        m.features[1].weight.fill_(2.0)
        m.features[1].bias.zero_()
        m.fc1.weight.copy_(torch.tensor([list(fc1_weight)]))
        m.fc1.bias.zero_()
        m.fc2.weight.copy_(torch.tensor([[0.5], [-0.25]]))
        m.fc2.bias.copy_(torch.tensor([0.3, -0.1]))
    return m.eval()


X_TINY = np.array([[1.0, 3.0, 2.0, 0.5]])


def _small(fc_activation="none", seed=0, n_points=61, n_classes=3) -> RamanCNN:
    torch.manual_seed(seed)
    cfg = CNNConfig(n_points=n_points, n_classes=n_classes, n_filters=4, filter_size=5,
                    fc_width=6, fc_activation=fc_activation)
    m = RamanCNN(cfg)
    # spread FC1's pre-activations around zero so that the leaky branch is exercised
    with torch.no_grad():
        m.fc1.bias.copy_(torch.linspace(-0.3, 0.3, cfg.fc_width))
    return m.eval()


@pytest.fixture
def Xs(rng) -> np.ndarray:
    return rng.random((7, 61))


def _rel(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


# --------------------------------------------------------------------------- by hand

def test_fc_importance_by_hand():
    m = _tiny()
    # class 0: g = W2[0] = 0.5, beta = g * sum(A) = 5 (Eq. 8), M = A * beta * Fw = [30, 10]
    # class 1: g = -0.25, beta = -2.5, M = [-15, -5] (Eq. 9)
    pooled = fc_importance(m, X_TINY, pooled=True)
    np.testing.assert_allclose(pooled[0], [[30.0, 10.0], [-15.0, -5.0]], rtol=1e-6)
    # centres of the pooled windows at input 0.5 and 2.5; ends clamped
    full = fc_importance(m, X_TINY)
    np.testing.assert_allclose(full[0, 0], [30.0, 25.0, 15.0, 10.0], rtol=1e-6)
    np.testing.assert_allclose(full[0, 1], [-15.0, -12.5, -7.5, -5.0], rtol=1e-6)
    one = fc_importance(m, X_TINY, np.array([1]))
    np.testing.assert_allclose(one, full[:, 1], rtol=1e-6)
    scaled = fc_importance(m, X_TINY, np.array([1]), normalize="maxabs")
    np.testing.assert_allclose(scaled[0], [-1.0, -12.5 / 15, -0.5, -1 / 3], rtol=1e-6)


def test_fc_importance_softmax_score_by_hand():
    m = _tiny()
    z = np.array([4.0 + 0.3, -2.0 - 0.1])                # h = 6 + 2 = 8; z = W2 h + b2
    p = np.exp(z - z.max())
    p /= p.sum()
    # d p0 / d h = p0 (1 - p0) W2[0] - p0 p1 W2[1] = p0 p1 (0.5 + 0.25)
    g0 = p[0] * p[1] * 0.75
    pooled = fc_importance(m, X_TINY, score="prob", pooled=True)
    np.testing.assert_allclose(pooled[0, 0], 10 * g0 * np.array([6.0, 2.0]), rtol=1e-5)
    np.testing.assert_allclose(pooled[0, 1], -pooled[0, 0], rtol=1e-5)


def test_fc_importance_leaky_by_hand():
    # h = -6 + 2 = -4 < 0, so the LeakyReLU passes alpha = 0.2 of the gradient
    m = _tiny(fc1_weight=(-1.0, 0.5), fc_activation="leaky")
    pooled = fc_importance(m, X_TINY, np.array([0]), pooled=True)
    beta = 0.5 * 0.2 * 10
    np.testing.assert_allclose(pooled[0], [6 * beta * -1.0, 4 * beta * 0.5], rtol=1e-6)


def test_grad_cam_by_hand():
    m = _tiny()
    # class 0: dy/dA = 0.5 * [1, 0.5], alpha = 0.375 (Eq. 6), L = 0.375 * [6, 4] (Eq. 7)
    # class 1: dy/dA = -0.25 * [1, 0.5], alpha = -0.1875: negative, removed by the ReLU
    cam = grad_cam(m, X_TINY, pooled=True)
    np.testing.assert_allclose(cam[0], [[2.25, 1.5], [0.0, 0.0]], rtol=1e-6)
    signed = grad_cam(m, X_TINY, relu=False, pooled=True)
    np.testing.assert_allclose(signed[0, 1], [-1.125, -0.75], rtol=1e-6)
    np.testing.assert_allclose(grad_cam(m, X_TINY)[0, 0], [2.25, 2.0625, 1.6875, 1.5],
                               rtol=1e-6)


# --------------------------------------------------------------------------- agreement

@pytest.mark.parametrize("act", ["none", "leaky"])
@pytest.mark.parametrize("score", ["logit", "prob"])
def test_fc_importance_equals_autograd_eq8(act, score, Xs):
    m = _small(act)
    fast = fc_importance(m, Xs, score=score, pooled=True, batch_size=3)
    ref = fc_importance_autograd(m, Xs, score=score, pooled=True, batch_size=4)
    assert fast.shape == (7, 3, m.pooled_length)
    assert _rel(fast, ref) < 1e-5
    t = np.array([0, 1, 2, 2, 1, 0, 1])
    ref_t = fc_importance_autograd(m, Xs, t, score=score)
    assert _rel(fc_importance(m, Xs, t, score=score), ref_t) < 1e-5


def test_fc_importance_gradient_times_activation_identity(Xs):
    """METHOD.md 3: M^c = sum(A) * sum_k A * dy^c/dA (gradient x activation, scaled)."""
    m = _small("leaky")
    xb = torch.from_numpy(Xs.astype(np.float32)).unsqueeze(1)
    A = m.features(xb).detach().requires_grad_(True)
    logits = m.classifier(A)
    for c in range(3):
        (gA,) = torch.autograd.grad(logits[:, c].sum(), A, retain_graph=True)
        want = (A.sum(dim=(1, 2))[:, None] * (A * gA).sum(dim=1)).detach().numpy()
        got = fc_importance(m, Xs, np.full(7, c), pooled=True)
        assert _rel(got, want) < 1e-5


def test_all_classes_equal_the_per_class_loop(Xs):
    m = _small("leaky")
    for fn in (fc_importance, grad_cam):
        allc = fn(m, Xs, score="prob")
        for c in range(3):
            np.testing.assert_allclose(allc[:, c], fn(m, Xs, np.full(7, c), score="prob"),
                                       rtol=1e-5, atol=1e-7 * np.abs(allc).max())


@pytest.mark.parametrize("act", ["none", "leaky"])
@pytest.mark.parametrize("score", ["logit", "prob"])
@pytest.mark.parametrize("relu", [True, False])
def test_grad_cam_equals_captum_layergradcam(act, score, relu, Xs):
    m = _small(act)
    t = np.array([0, 1, 2, 0, 1, 2, 0])
    fwd = m if score == "logit" else (lambda x: torch.softmax(m(x), dim=1))
    want = LayerGradCam(fwd, m.last_pool).attribute(
        torch.from_numpy(Xs.astype(np.float32)).unsqueeze(1), target=torch.from_numpy(t),
        relu_attributions=relu).detach().numpy()[:, 0]
    got = grad_cam(m, Xs, t, score=score, relu=relu, pooled=True)
    assert np.abs(want).max() > 0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())
    # the captum wrapper, interpolated, is the same map on the input grid
    wrapped = captum_map(m, Xs, t, method="layergradcam", score=score, relu=relu)
    np.testing.assert_allclose(grad_cam(m, Xs, t, score=score, relu=relu), wrapped,
                               rtol=1e-5, atol=1e-6 * np.abs(want).max())


def test_saliency_is_the_input_gradient(Xs):
    m = _small()
    t = np.array([2, 1, 0, 0, 1, 2, 0])
    x = torch.from_numpy(Xs.astype(np.float32)).requires_grad_(True)
    z = m(x)
    (g,) = torch.autograd.grad(z[torch.arange(7), torch.from_numpy(t)].sum(), x)
    np.testing.assert_allclose(captum_map(m, Xs, t, method="saliency"), g.numpy(), rtol=1e-5,
                               atol=1e-7)


def test_ig_and_occlusion_shapes_and_completeness(Xs):
    m = _small()
    t = np.zeros(7, dtype=int)
    ig = captum_map(m, Xs, t, method="ig", ig_steps=64)
    # completeness: attributions sum to f(x) - f(0)
    with torch.no_grad():
        fx = m(torch.from_numpy(Xs.astype(np.float32)))[:, 0].numpy()
        f0 = m(torch.zeros(1, 61))[0, 0].item()
    np.testing.assert_allclose(ig.sum(axis=1), fx - f0, rtol=0.02, atol=1e-3)
    occ = captum_map(m, Xs, None, method="occlusion", occlusion_window=16, occlusion_stride=16)
    assert occ.shape == (7, 3, 61)
    assert np.abs(occ).max() > 0


def test_band_free_strips_narrow_bands_and_keeps_the_background():
    x = np.linspace(0.0, 1.0, 301)
    background = 0.5 + 0.3 * x
    band = np.exp(-0.5 * ((np.arange(301) - 150) / 3.0) ** 2)       # 3-point sigma band
    ref = band_free(np.stack([background + band, background]), half_window=20)
    assert ref.shape == (2, 301) and ref.dtype == np.float32
    # the band is gone (at most a few % of its height left), the straight background kept
    assert np.abs(ref[0] - background).max() < 0.05
    np.testing.assert_allclose(ref[1], background, atol=1e-6)


def test_band_window_is_20_cm1_in_grid_points():
    from ramancam.explain import band_window, method_options

    assert band_window(np.arange(350.0, 1801.0, 1.0)) == 20
    assert band_window(np.arange(600.0, 1800.0, 4.0)) == 5
    assert band_window(np.arange(0.0, 100.0, 50.0)) == 2          # never below 2 points
    assert method_options("ig-bands", np.arange(0, 10, 0.5)) == {"band_window": 40}
    assert method_options("fc", [1.0, 2.0], "eq9") == {"form": "eq9"}
    assert method_options("gradcam", [1.0, 2.0]) == {}


def test_ig_bands_is_ig_from_the_band_free_spectrum(Xs):
    m = _small()
    t = np.array([0, 1, 2, 0, 1, 2, 0])
    maps = captum_map(m, Xs, t, method="ig-bands", ig_steps=64, band_window=5)
    ref = band_free(Xs, 5)
    with torch.no_grad():
        fx = m(torch.from_numpy(Xs.astype(np.float32)))[np.arange(7), t].numpy()
        f0 = m(torch.from_numpy(ref))[np.arange(7), t].numpy()
    # completeness against the band-free reference, not against zero
    np.testing.assert_allclose(maps.sum(axis=1), fx - f0, rtol=0.02, atol=2e-3)
    # a point where the spectrum equals its reference gets nothing
    same = np.isclose(Xs, ref, atol=1e-7)
    assert same.any()
    assert np.abs(maps[same]).max() < 1e-6
    rows, _ = explain(m, Xs, method="ig-bands", target=t[0], band_window=5, ig_steps=64)
    np.testing.assert_allclose(rows[t == t[0]], maps[t == t[0]], rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- contracts

def test_to_input_grid_equals_np_interp(rng):
    for n_points, n_blocks in [(61, 2), (64, 2), (1451, 2), (37, 3), (10, 1)]:
        from ramancam.model import pooled_length

        n_pooled = pooled_length(n_points, n_blocks)
        maps = rng.normal(size=(3, n_pooled))
        for k in (None, 7, 8):
            got = to_input_grid(maps, n_points, n_blocks, k)
            centres = pooled_centres(n_pooled, n_blocks, k)
            want = np.stack([np.interp(np.arange(n_points), centres, r) for r in maps])
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert pooled_centres(3, 2).tolist() == [1.5, 5.5, 9.5]
    assert pooled_centres(3, 2, 7).tolist() == [1.5, 5.5, 9.5]
    # an even kernel's "same" padding puts its extra zero on the right: half a point per
    # convolution, at its own level
    assert pooled_centres(3, 2, 8).tolist() == [3.0, 7.0, 11.0]
    assert pooled_centres(2, 1, 8).tolist() == [1.0, 3.0]


@pytest.mark.parametrize("filter_size", [7, 8])
def test_the_paper_maps_are_centred_on_the_band_that_drives_them(filter_size):
    # box filters and all-ones FC layers: a symmetric network, whose maps must be centred on
    # a single band; with size 8 they sat 1.5 points too low (pooled positions at 4x + 1.5)
    import torch

    from ramancam.model import CNNConfig, RamanCNN
    from ramancam.simulate import lorentzian

    m = RamanCNN(CNNConfig(n_points=101, n_classes=2, n_filters=1, filter_size=filter_size,
                           fc_width=1)).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(1.0)
        for mod in m.features:
            if isinstance(mod, torch.nn.Conv1d):
                mod.bias.zero_()
        m.fc1.bias.zero_()
        m.fc2.bias.zero_()
    xs = np.arange(101.0)
    for fn, kw in ((fc_importance, {"form": "contribution"}), (grad_cam, {})):
        off = []
        for band in np.arange(30.0, 70.0, 0.5):
            mp = fn(m, lorentzian(xs, band, 4.0)[None].astype(np.float32), [0], **kw)[0]
            w = np.clip(mp, 0, None)
            off.append((w * xs).sum() / w.sum() - band)
        assert abs(np.mean(off)) < 0.05, (fn.__name__, np.mean(off))


def test_mode_restored_no_grads_left_and_input_untouched(Xs):
    m = _small()
    m.train()
    X = Xs.copy()
    X.flags.writeable = False
    fc_importance(m, X)
    grad_cam(m, X)
    fc_importance_autograd(m, X, np.zeros(7, dtype=int))
    captum_map(m, X, np.zeros(7, dtype=int), method="layergradcam")
    captum_map(m, X, np.zeros(7, dtype=int), method="saliency")
    assert m.training
    assert all(p.grad is None for p in m.parameters())
    assert not m.fc1._forward_hooks and not m.last_pool._forward_hooks
    np.testing.assert_array_equal(X, Xs)
    m.eval()
    fc_importance(m, X)
    assert not m.training


def test_batching_does_not_change_the_result(Xs):
    m = _small()
    a = fc_importance(m, Xs, batch_size=1)
    b = fc_importance(m, Xs, batch_size=100)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max())
    assert a.dtype == np.float32 and a.shape == (7, 3, 61)


def test_explain_targets(Xs):
    m = _small()
    names = ["a", "b", "c"]
    proba = predict_proba(m, Xs)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    maps, t = explain(m, Xs)
    np.testing.assert_array_equal(t, proba.argmax(axis=1))
    np.testing.assert_allclose(maps, fc_importance(m, Xs, t), rtol=1e-6)
    y = np.array(["c", "a", "b", "b", "a", "c", "c"])
    maps, t = explain(m, Xs, target="true", y=y, class_names=names, method="gradcam")
    assert t.tolist() == [2, 0, 1, 1, 0, 2, 2]
    np.testing.assert_allclose(maps, grad_cam(m, Xs, t), rtol=1e-6)
    maps, t = explain(m, Xs, target="b", class_names=names, score="prob")
    assert (t == 1).all()
    maps, t = explain(m, Xs, target=2)
    assert (t == 2).all()
    maps, t = explain(m, Xs, target="all")
    assert maps.shape == (21, 61) and t.tolist()[:4] == [0, 1, 2, 0]
    np.testing.assert_allclose(maps[3 * 4 + 1], fc_importance(m, Xs)[4, 1], rtol=1e-6)
    maps, t = explain(m, Xs, target="true", y=[0, 1, 2, 0, 1, 2, 0], method="saliency")
    assert maps.shape == (7, 61) and t.tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_works_on_paper_sized_input(rng):
    torch.manual_seed(1)
    m = RamanCNN(CNNConfig(n_points=1451, n_classes=4, n_filters=8, fc_width=16)).eval()
    X = rng.random((5, 1451))
    maps = fc_importance(m, X)
    assert maps.shape == (5, 4, 1451) and m.pooled_length == 363
    assert _rel(fc_importance(m, X, pooled=True),
                fc_importance_autograd(m, X, pooled=True)) < 1e-5


@pytest.mark.parametrize(("call", "match"), [
    (lambda m: fc_importance(m, np.zeros(61)), r"X must be 2-D of shape \(n_spectra, 61\)"),
    (lambda m: fc_importance(m, np.zeros((2, 60))), r"X must have 61 points per spectrum"),
    (lambda m: fc_importance(m, np.full((1, 61), np.nan)), r"X must be finite; got nan"),
    (lambda m: fc_importance(m, [["a"] * 61]), r"X must be numbers"),
    (lambda m: fc_importance(m, np.zeros((2, 61)), [0, 1, 2]),
     r"target must be None or an integer array of shape \(2,\)"),
    (lambda m: fc_importance(m, np.zeros((2, 61)), [0, 3]), r"target must be class indices in "
                                                            r"0\.\.2; got 3"),
    (lambda m: grad_cam(m, np.zeros((2, 61)), [0.5, 1]), r"target must hold integer class"),
    (lambda m: fc_importance(m, np.zeros((1, 61)), score="softmax"), r"score must be one of"),
    (lambda m: fc_importance(m, np.zeros((1, 61)), normalize="l2"),
     r"normalize must be one of 'none', 'maxabs'"),
    (lambda m: grad_cam(m, np.zeros((1, 61)), batch_size=0),
     r"batch_size must be a positive integer"),
    (lambda m: captum_map(m, np.zeros((1, 61)), method="lime"), r"method must be one of"),
    (lambda m: captum_map(m, np.zeros((1, 61)), ig_steps=0),
     r"ig_steps must be a positive integer"),
    (lambda m: captum_map(m, np.zeros((1, 61)), method="ig-bands", band_window=0),
     r"band_window must be a positive integer"),
    (lambda m: band_free(np.zeros(61)), r"X must have shape \(n_spectra, n_points >= 3\)"),
    (lambda m: band_free(np.zeros((1, 61)), half_window=1.5),
     r"half_window must be a positive integer"),
    (lambda m: explain(m, np.zeros((1, 61)), method="cam"), r"method must be one of"),
    (lambda m: explain(m, np.zeros((1, 61)), target="true"), r"y must be given for target"),
    (lambda m: explain(m, np.zeros((2, 61)), target="true", y=[0]),
     r"y must have one label per spectrum"),
    (lambda m: explain(m, np.zeros((1, 61)), target="true", y=["d"],
                       class_names=["a", "b", "c"]), r"y must be one of the model's classes"),
    (lambda m: explain(m, np.zeros((1, 61)), target="zebra", class_names=["a", "b", "c"]),
     r"target must be one of the model's classes \(a, b, c\); got 'zebra'\. Check the "
     r"spelling, or give the class's index \(0\.\.2\)\.$"),
    # a class name, or per-spectrum classes, without names: "one of the model's classes
    # ((no names given)); got array([0, 1, 2]). Check the spelling or pass class_names."
    (lambda m: explain(m, np.zeros((3, 61)), target=np.array([0, 1, 2])),
     r"^target must be one class for every spectrum \(a class index\) or 'predicted', "
     r"'true' or 'all'; got 3 values \(ndarray\)\. For a class per spectrum, pass "
     r"target='true' and those classes as y\.$"),
    (lambda m: explain(m, np.zeros((2, 61)), target=["a", "b"], class_names=["a", "b", "c"]),
     r"^target must be one class for every spectrum \(a class index or name\) or "
     r"'predicted', 'true' or 'all'; got 2 values \(list\)\."),
    (lambda m: explain(m, np.zeros((1, 61)), target="b"),
     r"^target must be a class index in 0\.\.2 when class_names is not given; got 'b'\. "
     r"Pass class_names \(the model's classes, in its output order\) to name a class, or "
     r"give its index\.$"),
    (lambda m: explain(m, np.zeros((1, 61)), target="true", y=np.array(["b"])),
     r"^y must be a class index in 0\.\.2 when class_names is not given; got 'b'\."),
    (lambda m: explain(m, np.zeros((1, 61)), target=5), r"target must be a class index in "),
    (lambda m: explain(m, np.zeros((1, 61)), class_names=["a"]),
     r"class_names must name the model's 3 classes"),
])
def test_documented_errors(call, match):
    with pytest.raises(RamancamError, match=match):
        call(_small())


def test_model_must_be_a_ramancnn():
    with pytest.raises(TypeError, match=r"model must be a ramancam.model.RamanCNN; got Linear"):
        fc_importance(torch.nn.Linear(3, 2), np.zeros((1, 3)))


@pytest.mark.slow
def test_fc_map_finds_the_class_peak_grad_cam_the_random_ones():
    """The paper's Fig. 3 claim, on a 4x smaller common-component set (fixed seeds, ~8 s CPU).

    256 channels, class bands at 25 / 125 / 250, 3 random bands of the same height per
    spectrum; 20 training spectra per class, 8 filters, 15 epochs at lr 3e-3. Measured:
    FC-importance pointing game 1.00, positive mass within +-FWHM of the random bands 0.056
    (chance, for mass spread evenly: 3 * 9 / 256 = 0.105); Grad-CAM 0.23 and 0.30. The
    full paper setting is in docs/explain.md (benchmarks/bench_maps.py quality).
    """
    from ramancam.metrics import peak_mass, pointing_game
    from ramancam.simulate import common_component_set
    from ramancam.train import CNNClassifier

    pos = (25, 125, 250)
    train = common_component_set(20, n_channels=256, positions=pos, rng=0)
    test = common_component_set(20, n_channels=256, positions=pos, rng=1)
    clf = CNNClassifier(n_filters=8, epochs=15, lr=3e-3, random_state=0)
    clf.fit(train.X, train.labels)
    assert clf.score(test.X, test.labels) >= 0.8
    target = np.searchsorted(clf.classes_, test.labels)
    axis = test.wavenumbers
    cls = test.meta["peak_position"].astype(float)
    rnd = np.column_stack([test.meta[f"random_peak_{j}"].astype(float) for j in (1, 2, 3)])
    rnd = np.where(np.abs(rnd - cls[:, None]) < 16, np.nan, rnd)   # overlapping windows out
    fc = fc_importance(clf.module_, test.X, target)
    cam = grad_cam(clf.module_, test.X, target)
    assert pointing_game(fc, axis, cls, tol=8) >= 0.95
    fc_random = np.nanmean(peak_mass(fc, axis, rnd, window=4))
    cam_random = np.nanmean(peak_mass(cam, axis, rnd, window=4))
    assert fc_random <= 0.08
    assert cam_random > 2 * fc_random
    assert pointing_game(cam, axis, cls, tol=8) < 0.5


def test_maps_see_the_models_input_scaling(Xs, rng):
    """A model with input centring: the closed forms (which call ``features`` themselves)
    still equal the references that go through ``model(x)``."""
    m = _small("leaky")
    m.set_input_scaling(torch.from_numpy(rng.random(61).astype(np.float32)), 0.3)
    t = np.array([0, 1, 2, 0, 1, 2, 0])
    ref = fc_importance_autograd(m, Xs, t, pooled=True)
    assert _rel(fc_importance(m, Xs, t, pooled=True), ref) < 1e-5
    want = LayerGradCam(m, m.last_pool).attribute(
        torch.from_numpy(Xs.astype(np.float32)).unsqueeze(1), target=torch.from_numpy(t),
        relu_attributions=False).detach().numpy()[:, 0]
    np.testing.assert_allclose(grad_cam(m, Xs, t, relu=False, pooled=True), want,
                               rtol=1e-5, atol=1e-6 * np.abs(want).max())
    # and the scaling is not a no-op: without it the map differs
    plain = _small("leaky")
    assert _rel(fc_importance(plain, Xs, t, pooled=True), ref) > 1e-2


def test_contribution_form_is_gradient_times_activation_and_sums_to_the_logit(Xs):
    m = _small("none")
    xb = torch.from_numpy(Xs.astype(np.float32)).unsqueeze(1)
    A = m.features(m.scale_input(xb)).detach().requires_grad_(True)
    logits = m.classifier(A)
    const = (m.fc2.weight @ m.fc1.bias + m.fc2.bias).detach().numpy()   # W2 b1 + b2
    for c in range(3):
        (gA,) = torch.autograd.grad(logits[:, c].sum(), A, retain_graph=True)
        want = (A * gA).sum(dim=1).detach().numpy()
        got = fc_importance(m, Xs, np.full(7, c), form="contribution", pooled=True)
        assert _rel(got, want) < 1e-5
        np.testing.assert_allclose(got.sum(axis=1), logits[:, c].detach().numpy() - const[c],
                                   rtol=1e-4, atol=1e-5)
        eq9 = fc_importance(m, Xs, np.full(7, c), pooled=True)
        sA = A.sum(dim=(1, 2)).detach().numpy()
        assert _rel(eq9, got * sA[:, None]) < 1e-5


def test_contribution_form_keeps_the_sign_when_sum_a_is_negative(Xs):
    """Flip the sign of every activation's contribution to sum(A) (negative conv bias): Eq. 9
    changes sign with sum(A), the contribution form does not."""
    m = _small("none")
    with torch.no_grad():
        m.features[-3].bias.fill_(-5.0)          # second conv: LeakyReLU outputs < 0
    xb = torch.from_numpy(Xs.astype(np.float32)).unsqueeze(1)
    sA = m.features(m.scale_input(xb)).sum(dim=(1, 2)).detach().numpy()
    assert (sA < 0).all()
    t = np.zeros(7, dtype=np.int64)
    eq9 = fc_importance(m, Xs, t, pooled=True)
    contrib = fc_importance(m, Xs, t, form="contribution", pooled=True)
    np.testing.assert_array_equal(np.sign(eq9), -np.sign(contrib))
    with pytest.raises(RamancamError, match="form"):
        fc_importance(m, Xs, t, form="abs")


def test_top_bands_finds_the_strongest_peaks_of_each_sign():
    from ramancam.explain import top_bands

    x = np.arange(400.0, 1800.0, 2.0)

    def band(c, w):
        return np.exp(-0.5 * ((x - c) / w) ** 2)

    m = band(888, 5) + 0.5 * band(1460, 8) - 0.3 * band(1000, 5) + 0.2 * band(896, 3)
    plus = top_bands(x, m)
    assert [round(b) for b, _ in plus[:2]] == [888, 1460]  # 896 is within 10 cm-1 of 888
    assert plus[0][1] == pytest.approx(1.0) and plus[1][1] == pytest.approx(0.5, abs=0.02)
    minus = top_bands(x, m, sign=-1)
    assert [round(b) for b, _ in minus] == [1000] and minus[0][1] == pytest.approx(-0.3, abs=0.01)
    assert top_bands(x, -np.abs(m), sign=1) == [] and top_bands(x, np.zeros_like(x)) == []
    edge = band(400, 4)  # a band at the end of the grid is a band too
    assert round(top_bands(x, edge)[0][0]) == 400
    with pytest.raises(RamancamError, match="sign must be 1 or -1"):
        top_bands(x, m, sign=0)


def test_numpy_integers_and_read_only_float32_inputs_are_taken(Xs):
    # ig_steps=np.int64(8) was refused as "not a positive integer"; a Spectra's frozen
    # float32 X made torch warn "The given NumPy array is not writable"
    import warnings

    from ramancam.explain import captum_map, fc_importance

    m = _small()
    X = Xs.astype(np.float32)
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = fc_importance(m, X)
        b = captum_map(m, X, ig_steps=np.int64(4), batch_size=np.int32(3))
    np.testing.assert_array_equal(a, fc_importance(m, Xs.astype(np.float32)))
    np.testing.assert_allclose(b, captum_map(m, Xs, ig_steps=4, batch_size=3), rtol=1e-5,
                               atol=1e-6)


def test_options_another_method_takes_are_refused_in_words(Xs):
    # method="gradcam" with FC's options raised TypeError (unexpected keyword 'form')
    from ramancam.explain import explain

    with pytest.raises(RamancamError, match=r"options must be ones method 'gradcam' takes "
                                            r"\(.*\); got 'form'\. method_options"):
        explain(_small(), Xs, method="gradcam", form="contribution")
    maps, _ = explain(_small(), Xs, method="fc", form="contribution")
    assert maps.shape == Xs.shape


def test_all_classes_at_pooled_resolution():
    # explain(target="all", pooled=True) reshaped the pooled maps to the input width
    from ramancam.explain import explain
    from ramancam.model import CNNConfig, RamanCNN

    torch.manual_seed(0)
    m = RamanCNN(CNNConfig(n_points=64, n_classes=3, n_filters=2, fc_width=4)).eval()
    X = np.random.default_rng(0).random((3, 64))
    for method in ("fc", "gradcam"):
        maps, tgt = explain(m, X, method=method, target="all", pooled=True)
        one, _ = explain(m, X, method=method, target=1, pooled=True)
        assert maps.shape == (9, 16) and tgt.tolist() == [0, 1, 2] * 3
        np.testing.assert_allclose(maps[1::3], one, rtol=1e-6, atol=1e-9)
