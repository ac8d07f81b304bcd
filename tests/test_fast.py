"""The fast CPU path (ramancam._fast) computes the same function as RamanCNN.forward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ramancam import _fast
from ramancam.errors import RamancamError
from ramancam.model import CNNConfig, RamanCNN


def _model(seed: int, **kw: object) -> RamanCNN:
    cfg = dict(n_points=101, n_classes=3, n_filters=6, filter_size=8, fc_width=10)
    cfg.update(kw)
    gen = torch.Generator().manual_seed(seed)
    model = RamanCNN(CNNConfig(**cfg))  # type: ignore[arg-type]
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return model


def _x(seed: int, n: int, p: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, p)).astype(np.float32))


@pytest.mark.parametrize("kw", [
    {},                                   # paper: even kernel (asymmetric "same"), 2 blocks
    {"filter_size": 7},                   # odd kernel: symmetric padding
    {"filter_size": 1},
    {"n_blocks": 3, "n_points": 64},      # even lengths all the way down
    {"n_points": 97, "fc_activation": "leaky"},
    {"filter_size": 16, "n_points": 33},  # kernel wider than half the pooled length
])
def test_forward_and_gradients_match_module(kw: dict[str, object]) -> None:
    model = _model(0, **kw)
    model.eval()  # no dropout, so both paths compute one deterministic function
    x = _x(1, 5, model.config.n_points)
    ref = model(x)
    ref.square().sum().backward()
    ref_grads = [p.grad.clone() for p in model.parameters()]  # type: ignore[union-attr]
    model.zero_grad()
    out = _fast.fast_forward(model, x)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    out.square().sum().backward()
    for (name, p), g in zip(model.named_parameters(), ref_grads, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-4, atol=1e-5,  # type: ignore[union-attr]
                                   err_msg=name)


def test_input_gradient_and_ties_route_like_max_pool() -> None:
    # Constant stretches make equal neighbours after the convolution: max_pool1d sends the
    # gradient to the first of two equal values, and so must the fast path.
    model = _model(2).eval()
    x = _x(3, 4, 101)
    x[:, 20:60] = 0.5
    xr = x.clone().requires_grad_()
    xf = x.clone().requires_grad_()
    model(xr)[:, 1].sum().backward()
    _fast.fast_forward(model, xf)[:, 1].sum().backward()
    np.testing.assert_allclose(xf.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-6)  # type: ignore[union-attr]


def test_training_mode_applies_the_same_dropout() -> None:
    model = _model(4, dropout=0.5).train()
    x = _x(5, 6, 101)
    torch.manual_seed(7)
    ref = model(x)
    torch.manual_seed(7)
    out = _fast.fast_forward(model, x)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    torch.manual_seed(8)
    assert not torch.allclose(_fast.fast_forward(model, x), out)  # dropout really is active


def test_features_match_last_pool_output_and_inference_mode() -> None:
    model = _model(6).eval()
    x = _x(7, 3, 101)
    with torch.inference_mode():
        ref = model.features(x[:, None, :])
        a = _fast.fast_features(model, x)
        logits = _fast.fast_forward(model, x[:, None, :])
    assert a.shape == ref.shape == (3, 6, model.pooled_length)
    np.testing.assert_allclose(a.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits.numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_state_dict_is_untouched() -> None:
    model = _model(8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _fast.fast_forward(model, _x(9, 2, 101)).sum().backward()
    after = model.state_dict()
    assert list(after) == list(before)
    for k in before:
        assert torch.equal(after[k], before[k])
        assert after[k].is_contiguous()


def test_bf16_flag_keeps_predictions() -> None:
    # bf16 changes the numbers (about 3 significant digits) but not the decisions of a model
    # whose classes are far apart; fp32 stays the default.
    model = _model(10).eval()
    x = _x(11, 64, 101)
    with torch.inference_mode():
        ref = model(x)
        out = _fast.fast_forward(model, x, bf16=True)
    assert out.dtype == torch.float32
    assert torch.equal(out.argmax(1), ref.argmax(1))
    assert (out - ref).abs().max().item() < 0.05 * ref.abs().max().item()


@pytest.mark.parametrize("shape", [(2, 100), (2, 2, 101), (101,)])
def test_wrong_shape_is_rejected(shape: tuple[int, ...]) -> None:
    model = _model(12)
    with pytest.raises(RamancamError, match=r"input must have shape \(n, 101\)"):
        _fast.fast_forward(model, torch.zeros(shape))
    with pytest.raises(RamancamError, match=r"input must have shape \(n, 101\)"):
        _fast.fast_features(model, torch.zeros(shape))


def test_tune_allocator_is_idempotent_and_can_be_disabled(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    first = _fast.tune_allocator()
    assert _fast.tune_allocator() is first  # second call: nothing done again
    monkeypatch.setenv("RAMANCAM_NO_MALLOPT", "1")
    assert _fast.tune_allocator(force=True) is False
    monkeypatch.delenv("RAMANCAM_NO_MALLOPT")
    assert _fast.tune_allocator(force=True) is first


def test_fast_features_module_is_a_drop_in() -> None:
    model = _model(13)
    keys = list(model.state_dict())
    ref_model = _model(13).eval()
    _fast.use_fast_features(model).eval()
    assert isinstance(model.features, _fast.FastFeatures)
    assert list(model.state_dict()) == keys  # same layers, same keys
    assert model.last_pool is model.features[-1]
    x = _x(14, 4, 101)
    np.testing.assert_allclose(model(x).detach().numpy(), ref_model(x).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    # A state dict saved from either loads into the other.
    ref_model.load_state_dict(model.state_dict())


def test_fast_features_falls_back_when_hooked() -> None:
    # captum's layer methods hook last_pool: the hook must still see the pooled output.
    model = _fast.use_fast_features(_model(15)).eval()
    seen: list[tuple[int, ...]] = []
    handle = model.last_pool.register_forward_hook(
        lambda m, i, o: seen.append(tuple(o.shape)))
    try:
        model(_x(16, 2, 101))
    finally:
        handle.remove()
    assert seen == [(2, 6, model.pooled_length)]
    model(_x(16, 2, 101))
    assert len(seen) == 1  # hook gone: fast path again, layers not called one by one
