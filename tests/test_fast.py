"""The fast CPU path (ramancam._fast) computes the same function as RamanCNN.forward."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

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


def _reference(model: RamanCNN) -> RamanCNN:
    """A copy of ``model`` whose conv blocks run layer by layer (``nn.Sequential`` of
    ``SamePad1d, Conv1d, LeakyReLU, MaxPool1d``): the plain PyTorch definition of the
    network that the fast path must reproduce."""
    ref = copy.deepcopy(model)
    ref.features = nn.Sequential(*ref.features)
    ref.last_pool = ref.features[-1]
    assert not isinstance(ref.features, _fast.FastFeatures)
    return ref


def _x(seed: int, n: int, p: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, p)).astype(np.float32))


@pytest.mark.parametrize("kw", [
    {},                                   # paper: even kernel (asymmetric "same"), 2 blocks
    {"filter_size": 7},                   # odd kernel: symmetric padding
    {"filter_size": 1},
    {"n_blocks": 3, "n_points": 64},      # even lengths all the way down
    {"n_points": 97, "fc_activation": "leaky"},
    {"filter_size": 16, "n_points": 33},  # kernel wider than half the pooled length
    {"n_blocks": 1, "n_points": 40},      # the fused first block is also the last one
    {"n_points": 100, "filter_size": 5},  # even length, odd kernel
])
@pytest.mark.parametrize("entry", ["module", "fast_forward"])
def test_forward_and_gradients_match_module(kw: dict[str, object], entry: str) -> None:
    model = _model(0, **kw)
    model.eval()  # no dropout, so both paths compute one deterministic function
    ref_model = _reference(model)
    x = _x(1, 5, model.config.n_points)
    ref = ref_model(x)
    ref.square().sum().backward()
    out = model(x) if entry == "module" else _fast.fast_forward(model, x)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    out.square().sum().backward()
    for (name, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters(),
                                 strict=True):
        assert p.grad is not None and q.grad is not None
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_input_gradient_and_ties_route_like_max_pool() -> None:
    # Constant stretches make equal neighbours after the convolution: max_pool1d sends the
    # gradient to the first of two equal values, and so must the fast path.
    model = _model(2).eval()
    ref_model = _reference(model)
    x = _x(3, 4, 101)
    x[:, 20:60] = 0.5
    xr = x.clone().requires_grad_()
    xf = x.clone().requires_grad_()
    ref_model(xr)[:, 1].sum().backward()
    _fast.fast_forward(model, xf)[:, 1].sum().backward()
    np.testing.assert_allclose(xf.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-6)  # type: ignore[union-attr]
    # Without an input gradient the first block takes the fused path: the weight gradients
    # must route the ties the same way.
    model.zero_grad()
    ref_model.zero_grad()
    ref_model(x)[:, 1].sum().backward()
    _fast.fast_forward(model, x)[:, 1].sum().backward()
    for (name, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters(),
                                 strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-6,  # type: ignore[union-attr]
                                   err_msg=name)


def test_training_mode_applies_the_same_dropout() -> None:
    model = _model(4, dropout=0.5).train()
    x = _x(5, 6, 101)
    torch.manual_seed(7)
    ref = _reference(model)(x)
    torch.manual_seed(7)
    out = _fast.fast_forward(model, x)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    torch.manual_seed(8)
    assert not torch.allclose(_fast.fast_forward(model, x), out)  # dropout really is active


def test_features_match_last_pool_output_and_inference_mode() -> None:
    model = _model(6).eval()
    ref_model = _reference(model)
    x = _x(7, 3, 101)
    with torch.inference_mode():
        ref = ref_model.features(x[:, None, :])
        a = _fast.fast_features(model, x)
        logits = _fast.fast_forward(model, x[:, None, :])
        ref_logits = ref_model(x)
    assert a.shape == ref.shape == (3, 6, model.pooled_length)
    assert a.is_contiguous()  # dense NCW, as the module returns it
    np.testing.assert_allclose(a.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits.numpy(), ref_logits.numpy(), rtol=1e-5, atol=1e-5)


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


def test_bf16_gradients_are_float32_and_as_close_as_plain_autocast() -> None:
    # Training under bf16 autocast: every parameter gradient arrives as float32, and the fast
    # path (whose fused first block computes its products in bf16 too) is no further from the
    # float32 gradient than the layer-by-layer module under the same autocast.
    model = _model(17).eval()
    ref_model = _reference(model)
    x = _x(18, 16, 101)
    _fast.fast_forward(model, x).square().sum().backward()
    g32 = {n: p.grad.clone() for n, p in model.named_parameters()}  # type: ignore[union-attr]
    model.zero_grad()
    _fast.fast_forward(model, x, bf16=True).square().sum().backward()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref_out = ref_model(x)
    ref_out.float().square().sum().backward()
    for (n, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters(),
                              strict=True):
        assert p.grad is not None and p.grad.dtype == torch.float32, n
        assert q.grad is not None
        err = (p.grad - g32[n]).norm().item()
        ref_err = (q.grad - g32[n]).norm().item()
        assert err < 0.1 * g32[n].norm().item(), n
        assert err < 2.0 * ref_err + 1e-3 * g32[n].norm().item(), (n, err, ref_err)


def test_adam_is_fused_on_cpu_and_steps_like_the_default() -> None:
    m1, m2 = _model(19).eval(), _model(19).eval()  # eval: no dropout draws
    o1 = _fast.adam(m1.parameters(), lr=1e-2, weight_decay=1e-3)
    o2 = torch.optim.Adam(m2.parameters(), lr=1e-2, weight_decay=1e-3)
    assert o1.defaults["fused"] is True
    x = _x(20, 8, 101)
    for _ in range(3):
        for m, o in ((m1, o1), (m2, o2)):
            o.zero_grad()
            m(x).square().mean().backward()
            o.step()
    for (n, p), q in zip(m1.named_parameters(), m2.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=n)


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
    model.features = nn.Sequential(*model.features)  # as an older ramancam built it
    keys = list(model.state_dict())
    ref_model = _reference(_model(13)).eval()
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
