"""A fast CPU path for :class:`ramancam.model.RamanCNN` (issue 6).

Plain PyTorch loses most of its time on a small CPU in three places (measured in
``docs/performance.md``): glibc ``malloc`` maps and unmaps every large activation, so each
inference call page-faults hundreds of MB of fresh zeroed memory; oneDNN reorders PyTorch's
NCW layout to its preferred channels-last layout and back around every convolution; and
``max_pool`` in training mode goes through a slow kernel that also stores indices. The pieces
here remove those costs without changing the module:

- :func:`tune_allocator` raises glibc's mmap and trim thresholds once per process, so large
  activations are reused from the heap instead of being mapped on every call.
- :func:`fast_forward` computes exactly the function of ``RamanCNN.forward`` (same parameters,
  same state-dict keys, same dropout) with each ``Conv1d`` run as a ``Conv2d`` on
  ``(n, C, 1, L)`` in channels-last memory format, the "same" padding folded into the
  convolution, and LeakyReLU applied after the pool (exactly equal, half the work). It works for
  training (autograd) and inference alike.
- :func:`fast_features` returns the output ``A`` of the last pooling layer the same way, for
  the explanation maps (Eqs. 6-9 are computed at that layer).

Results agree with the module's own forward to float32 rounding (the convolution sums in a
different order); :mod:`tests.test_fast` checks that, including gradients.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

from .errors import RamancamError

if TYPE_CHECKING:  # model.py may import this module, so only for the type checker
    from .model import RamanCNN

__all__ = ["FastFeatures", "fast_features", "fast_forward", "tune_allocator", "use_fast_features"]

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


class _MaxPool2(torch.autograd.Function):
    """Max-pool of size 2, stride 2, "same" (ceil mode) along the last axis of a
    channels-last ``(n, C, 1, L')`` tensor, reading positions ``offset .. offset + length``.

    One ``maximum`` of the even and odd positions, written straight into a channels-last
    output: about 2x faster than ``max_pool2d`` on this layout and 3x faster than
    ``max_pool1d`` with indices on NCW. Taking the window from ``offset`` on avoids a copy of
    the convolution output. The backward pass sends each gradient to the first of two equal
    values, as ``max_pool1d`` does, so gradients match the module's.
    """

    @staticmethod
    def forward(ctx: Any, y: torch.Tensor, offset: int, length: int
                ) -> torch.Tensor:
        v = y[..., offset:offset + length]
        a = v[..., 0::2]
        b = v[..., 1::2]
        n_pairs = b.shape[-1]
        out = torch.empty((*a.shape[:-1], a.shape[-1]), dtype=y.dtype, device=y.device,
                          memory_format=torch.channels_last)
        torch.maximum(a[..., :n_pairs], b, out=out[..., :n_pairs])
        if a.shape[-1] > n_pairs:  # odd length: the last window holds one value
            out[..., n_pairs:] = a[..., n_pairs:]
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(torch.ge(a[..., :n_pairs], b))
        ctx.meta = (tuple(y.shape), offset, length, n_pairs)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        (first,) = ctx.saved_tensors
        shape, offset, length, n_pairs = ctx.meta
        grad_y = torch.empty(shape, dtype=grad.dtype, device=grad.device,
                             memory_format=torch.channels_last)
        # Every position is written exactly once below, so no zero fill of the whole buffer.
        grad_y[..., :offset] = 0
        grad_y[..., offset + 2 * n_pairs:] = 0
        v = grad_y[..., offset:offset + length]
        ga = v[..., 0::2]
        gb = v[..., 1::2]
        g = grad[..., :n_pairs]
        torch.mul(g, first, out=ga[..., :n_pairs])
        torch.sub(g, ga[..., :n_pairs], out=gb)  # g - g * first: exactly g or 0
        if ga.shape[-1] > n_pairs:
            ga[..., n_pairs:] = grad[..., n_pairs:]
        return grad_y, None, None


def _check_input(model: RamanCNN, x: torch.Tensor) -> torch.Tensor:
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


def _features_cl(convs: list[nn.Conv1d], filter_size: int, alpha: float, x: torch.Tensor
                 ) -> torch.Tensor:
    """Conv blocks in channels-last layout on ``x`` of shape ``(n, L)``; returns ``A`` as
    ``(n, C, 1, pooled_length)`` in channels-last memory format (physically
    ``(n, pooled_length, C)``)."""
    k = filter_size
    left = (k - 1) // 2
    right = k - 1 - left
    # Symmetric padding of `right` on both sides gives right - left extra outputs at the start
    # (0 for odd k, 1 for even k); skipping them reproduces Keras' asymmetric "same" padding
    # without copying the input into a padded buffer.
    offset = right - left
    # (n, L) is (n, 1, 1, L) in channels-last memory format already (one channel): no copy.
    h = x.reshape(x.shape[0], 1, 1, x.shape[1]).contiguous(memory_format=torch.channels_last)
    for conv in convs:
        length = h.shape[3]
        # The Conv1d weight (F, C, k) seen as a (F, C, 1, k) Conv2d weight: the module's
        # parameters and state-dict keys stay as they are; only this small copy is relaid.
        w = conv.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        y = F.conv2d(h, w, conv.bias, padding=(0, right))
        # LeakyReLU is strictly increasing, so pooling first and activating the pooled values
        # gives the same numbers (and the same gradient routing) for half the work.
        h = _MaxPool2.apply(y, offset, length)
        h = F.leaky_relu(h, alpha, inplace=not torch.is_grad_enabled())
    return h


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``A`` of shape (n, n_filters, pooled_length) from ``x`` of shape (n, 1, n_points)."""
        if (x.dim() != 3 or x.shape[1] != 1 or x.device.type != "cpu"
                or x.dtype != torch.float32 or _has_hooks(self)):
            return super().forward(x)
        tune_allocator()
        return _features_cl(_conv_layers(self), self.filter_size, self.alpha,
                            x[:, 0]).squeeze(2)


def use_fast_features(model: RamanCNN) -> RamanCNN:
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


def fast_features(model: RamanCNN, x: torch.Tensor) -> torch.Tensor:
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
        ``model.features(x)`` up to float32 rounding. It is a non-contiguous view of a
        channels-last buffer; call ``.contiguous()`` if a dense NCW tensor is needed.
    """
    x = _check_input(model, x)
    c = model.config
    return _features_cl(_conv_layers(model.features), c.filter_size, c.alpha, x).squeeze(2)


def fast_forward(model: RamanCNN, x: torch.Tensor, *, bf16: bool = False) -> torch.Tensor:
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
    # FC1's weight is laid out for the NCW flatten (channel-major): one transpose copy of A
    # (n x 23,232 floats) is cheaper than re-laying out the 3 M-entry weight on every call.
    flat = a.reshape(a.shape[0], -1)
    h = F.linear(flat, model.fc1.weight, model.fc1.bias)
    if c.fc_activation == "leaky":
        h = F.leaky_relu(h, c.alpha)
    h = F.dropout(h, c.dropout, model.training)
    return F.linear(h, model.fc2.weight, model.fc2.bias)
