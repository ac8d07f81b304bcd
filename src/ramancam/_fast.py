"""A fast CPU path for :class:`ramancam.model.RamanCNN` (issue 6).

Plain PyTorch loses most of its time on a small CPU in a few places (measured in
``docs/performance.md``): glibc ``malloc`` maps and unmaps every large activation, so each
inference call page-faults hundreds of MB of fresh zeroed memory; oneDNN reorders PyTorch's
NCW layout to its preferred channels-last layout and back around every convolution, and
treats the one-channel first layer as NCW whatever its input; ``max_pool`` in training mode
goes through a slow kernel that also stores indices; elementwise ops on tensors of two
different layouts run 3-4x slower than on one; and the default Adam makes ten passes over the
weights per step. The pieces here remove those costs without changing the module:

- :func:`tune_allocator` raises glibc's mmap and trim thresholds once per process, so large
  activations are reused from the heap instead of being mapped on every call.
- :func:`fast_forward` computes exactly the function of ``RamanCNN.forward`` (same parameters,
  same state-dict keys, same dropout) with the activations kept NWC ``(n, L, C)`` between the
  layers: the first block (conv of one channel, bias, max-pool, LeakyReLU) is
  :class:`_Conv1Pool`, two matrix products at the even and odd positions that never write the
  full-resolution output; every later ``Conv1d`` runs as a ``Conv2d`` on the NWC buffer seen
  as channels-last ``(n, C, 1, L)`` with the "same" padding folded in, then
  :class:`_MaxPool2`, then LeakyReLU (after the pool: exactly equal, half the work). ``A``
  goes to dense NCW once, for FC1. It works for training (autograd, bf16 autocast) and
  inference alike; :class:`FastFeatures` puts it behind ``RamanCNN.features``.
- :func:`fast_features` returns the output ``A`` of the last pooling layer the same way, and
  :func:`features_for_maps` as a view of the NWC buffer, for the explanation maps (Eqs. 6-9
  are computed at that layer).
- :func:`adam` is Adam with the fused (one-pass) kernel where PyTorch has one.

The dependency runs one way, ``ramancam.model -> ramancam._fast``: the model builds its
``features`` from :class:`FastFeatures`, and this module never imports the model; the
functions take any :class:`Network` (a structural type that ``RamanCNN`` satisfies).

Results agree with the layer-by-layer module to float32 rounding (the convolution sums in a
different order); :mod:`tests.test_fast` checks that, including gradients and ties.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from typing import Any, Protocol, TypeVar

import torch
from torch import nn
from torch.nn import functional as F

from .errors import RamancamError

__all__ = ["FastFeatures", "Network", "adam", "fast_features", "fast_forward",
           "features_for_maps", "tune_allocator", "use_fast_features"]


class _Config(Protocol):
    """The architecture settings the fast path reads (:class:`ramancam.model.CNNConfig`)."""

    @property
    def n_points(self) -> int: ...
    @property
    def filter_size(self) -> int: ...
    @property
    def alpha(self) -> float: ...
    @property
    def dropout(self) -> float: ...
    @property
    def fc_activation(self) -> str: ...


class Network(Protocol):
    """What the fast path uses of a network; :class:`ramancam.model.RamanCNN` has it.

    A structural type, so that this module never imports :mod:`ramancam.model`: the model
    builds its ``features`` from :class:`FastFeatures`, so the dependency runs one way only,
    ``model -> _fast``.
    """

    training: bool
    features: nn.Sequential
    fc1: nn.Linear
    fc2: nn.Linear

    @property
    def config(self) -> _Config: ...

    def scale_input(self, x: torch.Tensor) -> torch.Tensor: ...


_N = TypeVar("_N", bound=Network)

# glibc mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

_ALLOCATOR_LOCK = threading.Lock()
_allocator_state: dict[str, Any] = {"done": False, "applied": False}


def tune_allocator(mmap_threshold: int = 1 << 30, trim_threshold: int = 1 << 30,
                   *, force: bool = False) -> bool:
    """Stop glibc ``malloc`` from mapping and unmapping large tensors on every call.

    By default glibc serves every allocation above 32 MiB with a fresh ``mmap`` and returns it
    with ``munmap`` on free, so a batch-256 activation (256 x 64 x 1451 x 4 B = 95 MB) is
    page-faulted in, zero-filled by the kernel, used once and unmapped again on every forward
    pass. Raising the mmap threshold keeps such blocks in the heap; raising the trim threshold
    keeps freed heap memory for the next call instead of giving it back to the kernel. Peak
    memory is unchanged (the same blocks are live at the same time); freed memory is retained
    by the process up to ``trim_threshold``.

    Called once per process (later calls do nothing unless ``force``); a no-op that returns
    False where the C library is not glibc, or when the environment variable
    ``RAMANCAM_NO_MALLOPT`` is set (to measure without it).

    Parameters
    ----------
    mmap_threshold : int
        Allocations at or above this many bytes are still mapped (default 1 GiB).
    trim_threshold : int
        Free memory at the top of the heap above this many bytes is returned to the system.
    force : bool
        Apply again even if already applied in this process.

    Returns
    -------
    bool
        True when the thresholds are in effect.
    """
    with _ALLOCATOR_LOCK:
        if _allocator_state["done"] and not force:
            return bool(_allocator_state["applied"])
        _allocator_state["done"] = True
        _allocator_state["applied"] = False
        if os.environ.get("RAMANCAM_NO_MALLOPT") or not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL("libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # musl or another libc: leave it alone
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        ok = (mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
              and mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1
              # grow the heap in steps of 64 MiB, not page by page
              and mallopt(_M_TOP_PAD, 64 << 20) == 1)
        _allocator_state["applied"] = bool(ok)
        return bool(ok)


def adam(params: Any, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """``torch.optim.Adam`` with the fused kernel where PyTorch has one for the parameters.

    The default (``foreach``) Adam makes about ten passes over every parameter per step, one
    per tensor operation; the fused kernel makes one. For the paper's network (3 M weights,
    nearly all in FC1) that is 1.6 ms instead of 5-13 ms per step on the 2-core CPU, a large
    share of a batch-32 step. Same update rule; falls back to the default implementation
    where the fused kernel is not available (another device or dtype).

    Parameters
    ----------
    params : iterable of torch.Tensor
        Parameters to optimise.
    lr : float
        Learning rate.
    weight_decay : float
        L2 penalty, as in ``torch.optim.Adam``.

    Returns
    -------
    torch.optim.Adam
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError):  # no fused kernel for these tensors
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


class _MaxPool2(torch.autograd.Function):
    """Max-pool of size 2, stride 2, "same" (ceil mode) along axis 1 of an NWC tensor
    ``(n, L', C)``, reading positions ``offset .. offset + length``.

    One ``maximum`` of the even and odd positions (contiguous blocks of ``C`` values in this
    layout): about 2x faster than ``max_pool2d`` on channels-last and 3x faster than
    ``max_pool1d`` with indices on NCW. Taking the window from ``offset`` on avoids a copy of
    the convolution output. The backward pass sends each gradient to the first of two equal
    values, as ``max_pool1d`` does, so gradients match the module's.
    """

    @staticmethod
    def forward(ctx: Any, y: torch.Tensor, offset: int, length: int) -> torch.Tensor:
        v = y[:, offset:offset + length]
        a = v[:, 0::2]
        b = v[:, 1::2]
        n_pairs = b.shape[1]
        n, n_out, c = a.shape
        out = torch.empty((n, n_out, c), dtype=y.dtype, device=y.device)
        torch.maximum(a[:, :n_pairs], b, out=out[:, :n_pairs])
        if n_out > n_pairs:  # odd length: the last window holds one value
            out[:, n_pairs:] = a[:, n_pairs:]
        if ctx.needs_input_grad[0]:
            # 1.0 where the even value wins (or ties); a float mask makes the backward one
            # plain multiply (a bool mask is promoted through a copy, `where` is 4x slower).
            first = torch.empty((n, n_pairs, c), dtype=y.dtype, device=y.device)
            torch.ge(a[:, :n_pairs], b, out=first)
            ctx.save_for_backward(first)
        ctx.meta = (tuple(y.shape), offset, length, n_pairs)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        (first,) = ctx.saved_tensors
        shape, offset, length, n_pairs = ctx.meta
        grad_y = torch.empty(shape, dtype=grad.dtype, device=grad.device)
        # Every position is written exactly once below, so no zero fill of the whole buffer.
        grad_y[:, :offset] = 0
        grad_y[:, offset + 2 * n_pairs:] = 0
        v = grad_y[:, offset:offset + length]
        ga = v[:, 0::2]
        gb = v[:, 1::2]
        g = grad[:, :n_pairs]
        torch.mul(g, first, out=ga[:, :n_pairs])
        torch.sub(g, ga[:, :n_pairs], out=gb)  # g - g * first: exactly g or 0
        if ga.shape[1] > n_pairs:
            ga[:, n_pairs:] = grad[:, n_pairs:]
        return grad_y, None, None


class _Conv1Pool(torch.autograd.Function):
    """First block (convolution of one input channel, bias, max-pool, LeakyReLU) in one step,
    NWC out.

    ``wins`` holds the "same"-padded windows of the input at the even positions and at the
    odd positions, ``(2, n * P, k + 1)`` for ``P`` pooled outputs, each with a trailing 1 that
    picks up the bias (for an odd length the last even window stands in for the missing odd
    one, so that pair pools to itself). The convolution plus bias at the even and at the odd
    positions are then two matrix products with the ``(k + 1, C)`` weight-and-bias; their
    maximum, activated in place, is the block's output ``(n, P, C)``. The full-resolution
    output, the largest tensor of the network, is never written. The backward pass sends the
    gradient of each pooled value to the winning window (the first of two equal ones, as
    ``max_pool1d`` does): with ``G`` the gradient and ``E`` the 0/1 mask of even winners,
    the weight-and-bias gradient is ``odd^T G + (even - odd)^T (G E)``, two products and one
    multiply over half-size tensors. There is no gradient for the input (callers take the
    general path when the input needs one).
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu")  # under autocast, the backward runs under it too
    def forward(ctx: Any, wins: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                n: int, alpha: float, need_grad: bool) -> torch.Tensor:
        w = torch.cat([weight.reshape(weight.shape[0], -1).t(), bias[None]])  # (k + 1, C)
        even = torch.mm(wins[0], w)
        odd = torch.mm(wins[1], w)
        first = None
        if need_grad:  # (forward runs with grad mode off, so the caller says)
            first = torch.empty_like(even)
            torch.ge(even, odd, out=first)
        out = torch.maximum(even, odd, out=even)
        F.leaky_relu(out, alpha, inplace=True)
        if first is not None:
            ctx.save_for_backward(wins, first, out)
        ctx.meta = (tuple(weight.shape), alpha)
        return out.view(n, -1, w.shape[1])

    @staticmethod
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        wins, first, out = ctx.saved_tensors
        weight_shape, alpha = ctx.meta
        g = torch.ops.aten.leaky_relu_backward(grad.reshape(first.shape), out, alpha, True)
        wins = wins.to(g.dtype)  # bf16 under autocast
        # (k + 1, nP) @ (nP, C): the long reduction on the inside, where BLAS is fast.
        gw = torch.mm(wins[1].t(), g)
        gw.addmm_((wins[0] - wins[1]).t(), g * first)
        grad_w = gw[:-1].t().reshape(weight_shape)
        grad_b = gw[-1]
        return None, grad_w, grad_b, None, None, None


class _ToNCW(torch.autograd.Function):
    """``(n, L, C)`` -> dense ``(n, C, L)``, and the gradient back to dense ``(n, L, C)``.

    ``transpose(1, 2).contiguous()`` would hand the backward pass a transposed view, and every
    elementwise op behind it would then mix two layouts (3-4x slower on this CPU)."""

    @staticmethod
    def forward(ctx: Any, h: torch.Tensor) -> torch.Tensor:
        return h.transpose(1, 2).contiguous()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.transpose(1, 2).contiguous()


def _first_layer(conv: nn.Conv1d, x: torch.Tensor, left: int, right: int,
                 alpha: float) -> torch.Tensor:
    """First block (one input channel) on ``x`` ``(n, L)``: ``(n, ceil(L / 2), C)`` NWC."""
    n, length = x.shape
    k = conv.kernel_size[0]
    padded = F.pad(x, (left, right))
    # (n, L, k + 1): the k-point windows and a 1 for the bias.
    win = torch.cat([padded.unfold(1, k, 1), padded.new_ones(n, length, 1)], dim=2)
    even = win[:, 0::2]
    odd = win[:, 1::2]
    if length % 2:
        odd = torch.cat([odd, win[:, -1:]], dim=1)
    wins = torch.stack([even, odd]).reshape(2, -1, k + 1)
    bias = conv.bias
    if bias is None:  # RamanCNN's convolutions always have one
        bias = conv.weight.new_zeros(conv.out_channels)
    need_grad = torch.is_grad_enabled() and (conv.weight.requires_grad or bias.requires_grad)
    return _Conv1Pool.apply(wins, conv.weight, bias, n, alpha, need_grad)


def _check_input(model: Network, x: torch.Tensor) -> torch.Tensor:
    n_points = model.config.n_points
    if x.dim() == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 2 or x.shape[1] != n_points:
        raise RamancamError(
            f"input must have shape (n, {n_points}) or (n, 1, {n_points}); "
            f"got {tuple(x.shape)}.")
    return x


def _conv_layers(features: nn.Sequential) -> list[nn.Conv1d]:
    return [m for m in features if isinstance(m, nn.Conv1d)]


def _features_cl(convs: list[nn.Conv1d], filter_size: int, alpha: float, x: torch.Tensor,
                 *, nwc: bool = False) -> torch.Tensor:
    """Conv blocks on ``x`` of shape ``(n, L)``; returns ``A`` as a dense NCW tensor
    ``(n, C, pooled_length)``, or with ``nwc`` as the dense NWC ``(n, pooled_length, C)``.

    Between the layers the activations are kept NWC, ``(n, L, C)`` (channels-last, oneDNN's
    native layout, so no reorders around the convolutions). The first block (one input
    channel) is :class:`_Conv1Pool`: matrix products of the input's windows with the
    ``(k, C)`` weight, written straight in NWC (oneDNN treats a one-channel input as NCW and
    converts the gradient around it), pooled without writing the full-resolution output;
    where the input itself needs a gradient, a plain windowed product and :class:`_MaxPool2`
    instead. The other blocks are ``Conv2d`` calls on the NWC activations seen as
    channels-last ``(n, C, 1, L)``, then :class:`_MaxPool2`.
    """
    k = filter_size
    left = (k - 1) // 2
    right = k - 1 - left
    # Symmetric padding of `right` on both sides gives right - left extra outputs at the start
    # (0 for odd k, 1 for even k); skipping them reproduces Keras' asymmetric "same" padding
    # without copying the input into a padded buffer.
    offset = right - left
    h: torch.Tensor | None = None
    for conv in convs:
        if h is None and conv.in_channels == 1 and not x.requires_grad:
            h = _first_layer(conv, x, left, right, alpha)
            continue
        if h is None and conv.in_channels == 1:
            # (n, L) -> "same"-padded windows (n, L, k) @ (k, C) + bias -> (n, L, C).
            n, length = x.shape
            win = F.pad(x, (left, right)).unfold(1, k, 1)
            y = F.linear(win.reshape(n * length, k), conv.weight.reshape(conv.out_channels, k),
                         conv.bias).view(n, length, conv.out_channels)
            start = 0
        else:
            assert h is not None  # RamanCNN's first convolution has one input channel
            n, length, _ = h.shape
            # The NWC tensor seen as (n, C, 1, L) is channels-last: no copy. The Conv1d weight
            # (F, C, k) as a channels-last (F, C, 1, k) Conv2d weight: only this small copy
            # is relaid; the module's parameters and state-dict keys stay as they are.
            w = conv.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
            y4 = F.conv2d(h.transpose(1, 2).unsqueeze(2), w, conv.bias, padding=(0, right))
            y = y4.squeeze(2).transpose(1, 2)
            if y.stride(2) != 1:  # oneDNN chose another layout (never seen): make it NWC
                y = y.contiguous()
            start = offset
        # LeakyReLU is strictly increasing, so pooling first and activating the pooled values
        # gives the same numbers (and the same gradient routing) for half the work.
        pooled = _MaxPool2.apply(y, start, length)
        h = F.leaky_relu(pooled, alpha, inplace=not torch.is_grad_enabled())
    assert h is not None
    if nwc:
        return h
    # One transpose copy to dense NCW, the order FC1's weight is laid out for: elementwise
    # work stays on dense NWC tensors (mixed layouts make each op 3-4x slower).
    return _ToNCW.apply(h)


def _has_hooks(module: nn.Module) -> bool:
    from torch.nn.modules import module as _m

    if _m._global_forward_hooks or _m._global_forward_pre_hooks:
        return True
    return any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
               or getattr(m, "_backward_pre_hooks", None) for m in module.modules())


class FastFeatures(nn.Sequential):
    """``RamanCNN.features`` with the fast forward: a drop-in ``nn.Sequential``.

    Holds the same layers (``SamePad1d, Conv1d, LeakyReLU, MaxPool1d`` per block), so
    parameters, state-dict keys (``features.1.weight``...) and ``model.last_pool`` are
    unchanged; only ``forward`` differs. It falls back to running the layers one by one
    whenever a hook is registered on any of them (captum's layer attributions hook
    ``last_pool``) or the input is not a float32 CPU tensor, so every existing use keeps
    working. Calls :func:`tune_allocator` on first use.

    Parameters
    ----------
    *layers : nn.Module
        The conv blocks, as built by :class:`~ramancam.model.RamanCNN`.
    filter_size : int
        Kernel size of the convolutions.
    alpha : float
        LeakyReLU negative slope.
    """

    def __init__(self, *layers: nn.Module, filter_size: int, alpha: float) -> None:
        super().__init__(*layers)
        self.filter_size = int(filter_size)
        self.alpha = float(alpha)

    def applies(self, x: torch.Tensor) -> bool:
        """Whether :meth:`forward` takes the fast path for ``x`` (else the layers one by one)."""
        return (x.dim() == 3 and x.shape[1] == 1 and x.device.type == "cpu"
                and x.dtype == torch.float32 and not _has_hooks(self))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``A`` of shape (n, n_filters, pooled_length) from ``x`` of shape (n, 1, n_points)."""
        if not self.applies(x):
            return super().forward(x)
        tune_allocator()
        return _features_cl(_conv_layers(self), self.filter_size, self.alpha, x[:, 0])


def use_fast_features(model: _N) -> _N:
    """Swap ``model.features`` for a :class:`FastFeatures` holding the same layers (in place).

    Parameters
    ----------
    model : RamanCNN

    Returns
    -------
    RamanCNN
        The same model object; its state dict is unchanged.
    """
    if not isinstance(model.features, FastFeatures):
        model.features = FastFeatures(*model.features, filter_size=model.config.filter_size,
                                      alpha=model.config.alpha)
    return model


def fast_features(model: Network, x: torch.Tensor) -> torch.Tensor:
    """Output ``A`` of the last pooling layer of a :class:`~ramancam.model.RamanCNN`.

    Parameters
    ----------
    model : RamanCNN
        The network (its parameters are used as they are; nothing is copied or changed).
    x : torch.Tensor
        Spectra of shape (n_spectra, n_points) or (n_spectra, 1, n_points), float32.

    Returns
    -------
    torch.Tensor
        ``A`` of shape (n_spectra, n_filters, pooled_length), equal to
        ``model.features(x)`` up to float32 rounding, dense (contiguous) NCW.
    """
    x = _check_input(model, x)
    c = model.config
    return _features_cl(_conv_layers(model.features), c.filter_size, c.alpha, x)


def features_for_maps(model: Network, x: torch.Tensor) -> torch.Tensor:
    """``model.features(x)`` in the layout the explanation maps contract fastest.

    The same values, shape ``(n, n_filters, pooled_length)``; where the fast path applies it
    is a transposed view of the dense NWC buffer, so the per-position products over filters
    (``P[x, l] = sum_k A[k, x] Fw[k, x, l]``) read it without a copy. Otherwise (hooks,
    another device or dtype, an older plain ``nn.Sequential``) it is ``model.features(x)``.

    Parameters
    ----------
    model : RamanCNN
    x : torch.Tensor
        Scaled input of shape (n, 1, n_points).

    Returns
    -------
    torch.Tensor
    """
    f = model.features
    if isinstance(f, FastFeatures) and f.applies(x):
        tune_allocator()
        return _features_cl(_conv_layers(f), f.filter_size, f.alpha, x[:, 0],
                            nwc=True).transpose(1, 2)
    return f(x)


def fast_forward(model: Network, x: torch.Tensor, *, bf16: bool = False) -> torch.Tensor:
    """Logits of a :class:`~ramancam.model.RamanCNN`, computed the fast way.

    The same function as ``model(x)`` (same parameters, dropout active when
    ``model.training``), differentiable, so a training loop can call it in place of
    ``model(x)``. Calls :func:`tune_allocator` on first use.

    Parameters
    ----------
    model : RamanCNN
        The network.
    x : torch.Tensor
        Spectra of shape (n_spectra, n_points) or (n_spectra, 1, n_points), float32.
    bf16 : bool
        Run the convolutions under bfloat16 autocast (faster where the CPU has AVX-512 BF16 or
        AMX, but it changes the numbers: about 3 significant digits in the activations). Off
        by default.

    Returns
    -------
    torch.Tensor
        Logits of shape (n_spectra, n_classes), float32.
    """
    tune_allocator()
    x = model.scale_input(_check_input(model, x))
    c = model.config
    convs = _conv_layers(model.features)
    if bf16:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            a = _features_cl(convs, c.filter_size, c.alpha, x)
        a = a.float()
    else:
        a = _features_cl(convs, c.filter_size, c.alpha, x)
    # A is dense NCW, the order FC1's weight is laid out for: the flatten is a view.
    flat = a.reshape(a.shape[0], -1)
    h = F.linear(flat, model.fc1.weight, model.fc1.bias)
    if c.fc_activation == "leaky":
        h = F.leaky_relu(h, c.alpha)
    h = F.dropout(h, c.dropout, model.training)
    return F.linear(h, model.fc2.weight, model.fc2.bias)
