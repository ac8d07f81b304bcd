"""The members of a model file (:mod:`ramancam.bundle`) checked before they are unpacked,
and its weights checked before the network is built: a small file must not make
``load`` unpack or allocate gigabytes before it is refused (a zip bomb).

A member's limit comes from the settings (``ramancam.json``), which the file itself writes,
so the limit alone does not bound what it costs to read: a member must also have been
stored with no more than :data:`_MAX_RATIO` times its size compressed when it unpacks to
256 MiB or more (float arrays compress by a few percent; a run of zeros, a thousandfold),
in compressed bytes the file really holds.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from ._bundle_arrays import NOVELTY_NAME, REFERENCES_NAME
from ._bundle_info import _damaged
from .errors import RamancamError

WEIGHTS_NAME = "weights.safetensors"
#: Buffers of the network that model files saved before 2026-11-24 20:56 do not hold.
_INPUT_BUFFERS = ("input_mean", "input_scale")
# Guard against absurd members (a zip bomb in place of a model): 4 GiB of weights.
_MAX_WEIGHTS = 4 << 30
#: Unpacked over compressed size beyond which a member of at least _RATIO_FROM bytes is
#: refused: float weights and arrays shrink by a few percent (1.1 in the files train
#: writes), a member of zeros a thousandfold. Below 256 MiB unpacked a member is read
#: whatever it packs to: the novelty rows of a training set of identical spectra pack
#: 239-fold (9.6 MB), and 256 MiB is memory any run can spare.
_MAX_RATIO = 50
_RATIO_FROM = 256 << 20
#: Training spectra assumed where the settings do not count them (every file train or
#: ``bundle.save`` with ``training_summary()`` writes does).
_DEFAULT_SPECTRA = 10_000


def _altered(p: Path, what: str) -> RamancamError:
    return RamancamError(f"{p}: {what}. The file is damaged or was altered.")


def member_limits(p: Path, config: Any, info: dict[str, Any]
                  ) -> tuple[dict[str, int], dict[str, Any]]:
    """The largest plausible size in bytes of each array member, from the recorded
    architecture (weights: its float32 parameters and buffers; novelty and references: a few
    float64 rows per training spectrum and class) plus room for the headers; and the
    network's weights, on the meta device (names, shapes and dtypes; nothing allocated),
    one name for each tensor (the state dict names ``fc1``/``fc2`` twice)."""
    import torch

    from .model import RamanCNN

    with torch.device("meta"):  # shapes only: nothing allocated
        try:
            state = RamanCNN(config).state_dict(keep_vars=True)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise _damaged(p, exc) from None
    seen: set[int] = set()
    shapes = {}
    for k, v in state.items():
        if id(v) not in seen:
            seen.add(id(v))
            shapes[k] = v.detach()
    weights = sum(t.numel() * 8 for t in shapes.values())  # float64 at most
    if weights > _MAX_WEIGHTS:
        raise _altered(p, f"the recorded architecture must be of plausible size; got "
                          f"{weights} bytes of weights")
    n = (info.get("training_data") or {}).get("n_spectra")
    n = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else _DEFAULT_SPECTRA
    rows = n + config.n_classes + 8
    width = max(config.n_points, config.fc_width) + 8
    arrays = min(_MAX_WEIGHTS, 8 * 8 * rows * width)
    slack = 1 << 20
    return ({WEIGHTS_NAME: weights + slack, NOVELTY_NAME: arrays + slack,
             REFERENCES_NAME: arrays + slack}, shapes)


def check_members(p: Path, zf: zipfile.ZipFile, limits: dict[str, int]) -> None:
    """Refuse, before it is unpacked, an array member larger than ``limits`` allow, one that
    unpacks to more than :data:`_MAX_RATIO` times its compressed size, or one whose
    compressed bytes the file does not hold (the reader would inflate what is there to the
    declared size)."""
    names = set(zf.namelist())
    size = os.path.getsize(p)
    for name in (WEIGHTS_NAME, NOVELTY_NAME, REFERENCES_NAME):
        if name not in names:
            continue
        zi = zf.getinfo(name)
        if zi.file_size > limits[name]:
            raise _altered(p, f"member {name} must fit the recorded architecture (at most "
                              f"{limits[name]} bytes); got {zi.file_size}")
        if zi.header_offset + zi.compress_size > size:
            raise _altered(p, f"member {name} must lie within the file ({size} bytes); got "
                              f"{zi.compress_size} compressed bytes from byte "
                              f"{zi.header_offset}")
        if zi.file_size >= _RATIO_FROM and zi.file_size > _MAX_RATIO * zi.compress_size:
            raise _altered(p, f"member {name} must hold arrays of numbers, which compress "
                              f"at most {_MAX_RATIO}-fold; got {zi.file_size} bytes "
                              f"compressed to {zi.compress_size} (a zip bomb)")


def check_weights(p: Path, state: dict[str, Any], shapes: dict[str, Any], version: int
                  ) -> dict[str, Any]:
    """``state`` (the weights member) checked against ``shapes`` (:func:`member_limits`)
    before the network is built: the same names, shapes and dtypes, finite. Returns the
    names a file of format version 1 lacks and the network's defaults fill in
    (:data:`_INPUT_BUFFERS`, saved before they existed), or none."""
    import torch

    fill = {}
    if version == 1 and set(shapes) - set(state) == set(_INPUT_BUFFERS):
        # saved before the input buffers existed (2026-11-24, before 4c2e30a): the network
        # took its input as it came, what their defaults (zeros and ones) do
        fill = {k: shapes[k] for k in _INPUT_BUFFERS}
    if set(state) | set(fill) != set(shapes):
        missing = sorted(set(shapes) - set(state) - set(fill))[:3]
        extra = sorted(set(state) - set(shapes))[:3]
        raise _altered(p, f"weights must match the architecture; got missing {missing}, "
                          f"unexpected {extra}")
    for k, v in shapes.items():
        if k in fill:
            continue
        t = state[k]
        if tuple(t.shape) != tuple(v.shape) or t.dtype != v.dtype:
            raise _altered(p, f"weight {k!r} must have shape {tuple(v.shape)} ({v.dtype}); "
                              f"got {tuple(t.shape)} ({t.dtype})")
        if not bool(torch.isfinite(t).all()):
            raise RamancamError(f"{p}: weight {k!r} must be finite; got NaN or inf. The "
                                "file is damaged.")
    return fill
