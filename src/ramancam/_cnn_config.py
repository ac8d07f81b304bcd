"""The network's architecture settings (:class:`CNNConfig`) and the shapes they give its
weights, without torch: ``ramancam info MODEL`` and the model file's checks read a file's
settings and arrays with numpy alone (:mod:`ramancam.model` builds the network from them).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import RamancamError

__all__ = ["FC_ACTIVATIONS", "CNNConfig", "pooled_length", "weight_shapes"]

FC_ACTIVATIONS = ("none", "leaky")


@dataclass(frozen=True)
class CNNConfig:
    """Architecture of :class:`~ramancam.model.RamanCNN` (all that is needed to rebuild it).

    Attributes
    ----------
    n_points : int
        Input length L (points on the grid).
    n_classes : int
        Number of output classes N.
    n_filters : int
        Filters per convolution layer (paper: 64).
    filter_size : int
        Kernel size of every convolution (paper: 8).
    n_blocks : int
        Number of conv + LeakyReLU + max-pool blocks (paper: 2; 3 was also tried).
    fc_width : int
        Outputs of FC1 (paper: 128).
    dropout : float
        Dropout rate after FC1 (paper: 0.5).
    alpha : float
        LeakyReLU negative slope (paper: 0.2).
    fc_activation : {"none", "leaky"}
        Activation after FC1. The paper names none, so ``"none"`` is the default: it follows
        the paper as written, and it keeps everything after the last pooling layer linear, so
        the FC-importance map (Eqs. 8-9) is an exact decomposition of the class logit over
        pooled positions rather than a local linearisation.
    """

    n_points: int
    n_classes: int
    n_filters: int = 64
    filter_size: int = 8
    n_blocks: int = 2
    fc_width: int = 128
    dropout: float = 0.5
    alpha: float = 0.2
    fc_activation: str = "none"

    def __post_init__(self) -> None:
        for name in ("n_points", "n_classes", "n_filters", "filter_size", "n_blocks",
                     "fc_width"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise RamancamError(f"{name} must be a positive integer; got {v!r}.")
        if self.n_classes < 2:
            raise RamancamError(
                f"n_classes must be at least 2; got {self.n_classes}. A classifier needs "
                "spectra of two or more classes.")
        if not 0.0 <= self.dropout < 1.0:
            raise RamancamError(f"dropout must be in [0, 1); got {self.dropout!r}.")
        if (not isinstance(self.alpha, int | float) or isinstance(self.alpha, bool)
                or not 0.0 <= self.alpha < 1.0):
            raise RamancamError(f"alpha (the leaky ReLU's slope) must be in [0, 1); got "
                                f"{self.alpha!r}.")
        if self.fc_activation not in FC_ACTIVATIONS:
            raise RamancamError(
                f"fc_activation must be one of {FC_ACTIVATIONS}; got {self.fc_activation!r}.")
        # beyond log2(n_points) + 1 blocks pool a single point over and over (a pooled
        # length never falls below 1, so that is no test; this one builds nothing)
        if self.n_blocks > self.n_points.bit_length() + 1:
            from .errors import named_error

            # (said in the option's name on the command line: the fit found it after the
            # data were read and preprocessed, in the network's words)
            most = self.n_points.bit_length() + 1
            raise named_error(lambda n: (
                f"{n('n_blocks')} must be at most {most} for spectra of {self.n_points} "
                f"points (each pooling block halves them); got {self.n_blocks}."))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CNNConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise RamancamError(
                f"model architecture has unknown settings {sorted(unknown)}; this file was "
                "written by a newer ramancam. Upgrade ramancam to load it.")
        return cls(**d)


def pooled_length(n_points: int, n_blocks: int) -> int:
    """Length after ``n_blocks`` "same" max-pools of size 2 (ceil division each time)."""
    length = n_points
    for _ in range(n_blocks):
        length = math.ceil(length / 2)
    return length


def weight_shapes(config: CNNConfig) -> dict[str, tuple[int, ...]]:
    """The shape of each float32 tensor of :class:`~ramancam.model.RamanCNN`'s state dict
    for ``config``, in its order, each tensor named once (``fc1``/``fc2``, not their
    ``classifier`` aliases: what a model file's weights hold). Block ``b``'s convolution is
    layer ``4 b + 1`` of ``features`` (pad, convolution, activation, pooling)."""
    c = config
    shapes: dict[str, tuple[int, ...]] = {"input_mean": (c.n_points,),
                                          "input_scale": (c.n_points,)}
    in_ch = 1
    for b in range(c.n_blocks):
        shapes[f"features.{4 * b + 1}.weight"] = (c.n_filters, in_ch, c.filter_size)
        shapes[f"features.{4 * b + 1}.bias"] = (c.n_filters,)
        in_ch = c.n_filters
    shapes["fc1.weight"] = (c.fc_width, c.n_filters * pooled_length(c.n_points, c.n_blocks))
    shapes["fc1.bias"] = (c.fc_width,)
    shapes["fc2.weight"] = (c.n_classes, c.fc_width)
    shapes["fc2.bias"] = (c.n_classes,)
    return shapes
