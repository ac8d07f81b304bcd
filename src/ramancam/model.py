"""The paper's 1-D convolutional network (Fukuhara et al. 2019, section 2.1, Fig. 1).

``Conv(64, 8, "same") -> LeakyReLU(0.2) -> MaxPool(2, "same")`` repeated ``n_blocks`` times,
then ``Flatten -> FC1(128) -> [activation] -> Dropout(0.5) -> FC2(n_classes)``. Softmax is
applied by the loss (training) or by :func:`ramancam.explain.predict_proba` (inference),
never inside the module, so the module returns logits.

Shapes follow the paper's Keras model exactly: "same" convolution keeps the length, "same"
max pooling gives ``ceil(L / 2)`` (1451 -> 726 -> 363).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

# the settings and their shapes live without torch (ramancam info reads them): here too
from ._cnn_config import CNNConfig, pooled_length
from ._fast import FastFeatures
from .errors import RamancamError

__all__ = ["CNNConfig", "RamanCNN", "SamePad1d", "pooled_length", "resolve_device"]


class SamePad1d(nn.Module):
    """Explicit "same" padding as Keras/TensorFlow do it: ``k - 1`` zeros in total, the extra
    one on the right for even ``k``.

    An explicit pad followed by an unpadded convolution is both faster on CPU than
    ``Conv1d(padding="same")`` with an even kernel and identical to the paper's Keras layer.
    """

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        total = kernel_size - 1
        self.left = total // 2
        self.right = total - self.left

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (self.left, self.right))


class RamanCNN(nn.Module):
    """The paper's CNN. Input ``(n, n_points)`` or ``(n, 1, n_points)``; output logits ``(n, N)``.

    Attributes
    ----------
    features : nn.Sequential
        Conv blocks; output ``A`` of shape ``(n, n_filters, pooled_length)`` (the last pooling
        layer, where Grad-CAM and the FC-importance map are computed).
    classifier : nn.Sequential
        ``Flatten, FC1, [LeakyReLU], Dropout, FC2``.
    fc1, fc2 : nn.Linear
        Shortcuts into ``classifier``.
    last_pool : nn.MaxPool1d
        Shortcut to the last pooling layer (for hooks).
    input_mean, input_scale : torch.Tensor
        Buffers of shape ``(n_points,)``: every input is replaced by
        ``(x - input_mean) / input_scale`` before the first convolution (zeros and ones, i.e.
        nothing, unless training set them, see ``CNNClassifier(input_scaling=...)``). They are
        part of the state dict, so a saved model carries them.

    Notes
    -----
    ``features`` is a :class:`ramancam._fast.FastFeatures`: the same layers and state-dict
    keys as a plain ``nn.Sequential`` of ``SamePad1d, Conv1d, LeakyReLU, MaxPool1d`` blocks,
    with a faster CPU forward (channels-last convolutions, see ``docs/performance.md``) that
    steps aside whenever a hook is registered or the input is not float32 on the CPU.
    """

    features: nn.Sequential
    input_mean: torch.Tensor
    input_scale: torch.Tensor

    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        layers: list[nn.Module] = []
        in_ch = 1
        for _ in range(c.n_blocks):
            layers += [SamePad1d(c.filter_size),
                       nn.Conv1d(in_ch, c.n_filters, c.filter_size),
                       nn.LeakyReLU(c.alpha),
                       nn.MaxPool1d(2, 2, ceil_mode=True)]
            in_ch = c.n_filters
        self.features = FastFeatures(*layers, filter_size=c.filter_size, alpha=c.alpha)
        self.register_buffer("input_mean", torch.zeros(c.n_points))
        self.register_buffer("input_scale", torch.ones(c.n_points))
        self.pooled_length = pooled_length(c.n_points, c.n_blocks)
        self.fc1 = nn.Linear(c.n_filters * self.pooled_length, c.fc_width)
        self.fc2 = nn.Linear(c.fc_width, c.n_classes)
        head: list[nn.Module] = [nn.Flatten(), self.fc1]
        if c.fc_activation == "leaky":
            head.append(nn.LeakyReLU(c.alpha))
        head += [nn.Dropout(c.dropout), self.fc2]
        self.classifier = nn.Sequential(*head)
        self.last_pool = self.features[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[2] != self.config.n_points:
            raise RamancamError(
                f"input must have shape (n, {self.config.n_points}) or "
                f"(n, 1, {self.config.n_points}); got {tuple(x.shape)}.")
        return self.classifier(self.features(self.scale_input(x)))

    def scale_input(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - input_mean) / input_scale`` over the last axis (what ``features`` sees)."""
        return (x - self.input_mean) / self.input_scale

    def set_input_scaling(self, mean: torch.Tensor | Any, scale: torch.Tensor | Any) -> None:
        """Set the input buffers (broadcast to ``(n_points,)``; ``scale`` must be > 0)."""
        n = self.config.n_points
        m = torch.as_tensor(mean, dtype=torch.float32).expand(n)
        s = torch.as_tensor(scale, dtype=torch.float32).expand(n)
        if not (torch.isfinite(m).all() and torch.isfinite(s).all() and (s > 0).all()):
            raise RamancamError("input scaling must be finite with a positive scale.")
        with torch.no_grad():
            self.input_mean.copy_(m)
            self.input_scale.copy_(s)


def resolve_device(device: str) -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (a GPU when torch sees one) as a
    :class:`torch.device`, refusing a GPU that is not there."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):  # 'mps', 'xpu', ...: a traceback later
        raise RamancamError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {device!r}.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        said = f"device must be available; got {device!r} but torch sees no CUDA GPU"
        raise RamancamError(said + ". Use device='cpu' or 'auto'.",
                            cli=said + ". Use --device cpu or auto.")
    return dev
