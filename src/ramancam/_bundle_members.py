"""The members of a model file (:mod:`ramancam.bundle`) checked before they are unpacked,
and its weights checked before the network is built: a small file must not make
``load`` unpack or allocate gigabytes before it is refused (a zip bomb). All of it with
numpy alone (:func:`read_members`, :func:`check_weights`, :func:`load_arrays`), so that
``load_info`` (``ramancam info MODEL``) checks a file as ``load`` does without torch.

A member's limit comes from the settings (``ramancam.json``), which the file itself writes,
so the limit alone does not bound what it costs to read: a member must also have been
stored with no more than :data:`_MAX_RATIO` times its size compressed when it unpacks to
256 MiB or more (float arrays compress by a few percent; a run of zeros, a thousandfold),
in compressed bytes the file really holds.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._bundle_arrays import (
    CLASS_SCORES,
    NOVELTY_NAME,
    REFERENCES_NAME,
    _load_novelty,
    _load_references,
    _refuse,
)
from ._bundle_info import JSON_NAME, _damaged, _read_info, _reason
from .errors import RamancamError

WEIGHTS_NAME = "weights.safetensors"
# Guard against an absurd settings member (the other members: member_limits): 256 MiB.
_MAX_JSON = 256 << 20
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
                  ) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """The largest plausible size in bytes of each array member, from the recorded
    architecture (weights: its float32 parameters and buffers; novelty and references: a few
    float64 rows per training spectrum and class) plus room for the headers; and the shape
    of each of the network's weights (:func:`~ramancam._cnn_config.weight_shapes`: one name
    for each tensor; nothing built, no torch)."""
    import math

    from ._cnn_config import weight_shapes

    shapes = weight_shapes(config)
    weights = sum(math.prod(s) * 8 for s in shapes.values())  # float64 at most
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


def check_weights(p: Path, state: dict[str, Any], shapes: dict[str, tuple[int, ...]],
                  version: int) -> dict[str, tuple[int, ...]]:
    """``state`` (the weights member: torch tensors or numpy arrays) checked against
    ``shapes`` (:func:`member_limits`) before the network is built: the same names, shapes,
    float32, finite. Returns the names a file of format version 1 lacks and the network's
    defaults fill in (:data:`_INPUT_BUFFERS`, saved before they existed), or none."""
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
    for k, shape in shapes.items():
        if k in fill:
            continue
        t = state[k]
        dtype = str(t.dtype).removeprefix("torch.")  # torch's and numpy's names alike
        if tuple(t.shape) != shape or dtype != "float32":
            raise _altered(p, f"weight {k!r} must have shape {shape} (float32); got "
                              f"{tuple(t.shape)} ({dtype})")
        if not np.isfinite(np.asarray(t)).all():
            raise RamancamError(f"{p}: weight {k!r} must be finite; got NaN or inf. The "
                                "file is damaged.")
    return fill


@dataclass
class Members:
    """A model file's checked settings (:func:`~._bundle_info._read_info`), the shapes of its
    weights, and its array members as stored (``None``: not in the file)."""

    info: dict[str, Any]
    config: Any
    classes: list[str]
    grid: Any
    recipe: Any
    shapes: dict[str, tuple[int, ...]]
    weights: bytes
    novelty: bytes | None
    references: bytes | None


def read_members(p: Path) -> Members:
    """Open the model file ``p``: refuse what is no ramancam model (one line naming it),
    check the settings first and the members' sizes before unpacking them (no torch)."""
    if not p.is_file():
        what = "a folder" if p.is_dir() else "no such file"
        raise RamancamError(f"model file must exist; got {str(p)!r} ({what}). Give the file "
                            "'ramancam train --out' wrote.")
    with open(p, "rb") as fh:
        head = fh.read(4)
    if not zipfile.is_zipfile(p):
        if head[:1] == b"\x80":
            raise _refuse(p, "a pickle file (refused: loading a pickle can run code)")
        raise _refuse(p, "a file that is not a zip archive")
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            if JSON_NAME not in names:
                raise _refuse(p, f"a zip archive without {JSON_NAME}")
            if WEIGHTS_NAME not in names:
                raise _refuse(p, f"a zip archive without {WEIGHTS_NAME}")
            if zf.getinfo(JSON_NAME).file_size > _MAX_JSON:
                raise _refuse(p, "members of implausible size")
            # The settings first: nothing else is unpacked before they are checked, and
            # the other members may be no larger than the recorded architecture implies.
            info, config, classes, grid, recipe = _read_info(p, zf.read(JSON_NAME))
            limits, shapes = member_limits(p, config, info)
            check_members(p, zf, limits)
            return Members(info, config, classes, grid, recipe, shapes, zf.read(WEIGHTS_NAME),
                           zf.read(NOVELTY_NAME) if NOVELTY_NAME in names else None,
                           zf.read(REFERENCES_NAME) if REFERENCES_NAME in names else None)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise _refuse(p, f"a damaged zip archive ({exc})") from None
    except RuntimeError as exc:  # zipfile: an encrypted member
        raise _refuse(p, f"a zip archive it cannot read ({exc})") from None


def load_arrays(p: Path, info: dict[str, Any], config: Any, raw_novelty: bytes | None,
                raw_references: bytes | None) -> dict[str, Any]:
    """:class:`~ramancam.bundle.Bundle`'s keyword arguments from a model file's optional
    members (``novelty``, ``threshold``, ``held_out``, ``temperature``, ``references``,
    ``class_scores``), each checked; with numpy alone (no torch)."""
    try:
        novelty = _load_novelty(p, info, raw_novelty, config)
        references = _load_references(p, info, raw_references, config)
    except RamancamError as exc:  # the arrays' own checks: name the file
        if str(exc).startswith(str(p)):
            raise
        raise RamancamError(f"{p}: {_reason(exc)}. The file is damaged or was altered."
                            ) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _damaged(p, exc) from None
    if references is not None and "match_labels" in references:
        scorer = novelty.get("novelty")
        labels = references.pop("match_labels")
        n_ref = (0 if scorer is None or not scorer.model_free
                 else scorer.reference_["derivatives"].shape[0])
        if scorer is None or labels.shape[0] != n_ref:
            raise RamancamError(
                f"{p}: reference array 'match_labels' must have one row per novelty "
                f"reference spectrum ({n_ref}); got {labels.shape[0]}. The file is damaged "
                "or was altered.")
        scorer.labels_ = labels[:, 0].astype(np.intp)
    scores = None if references is None else references.pop(CLASS_SCORES, None)
    return {**novelty, "references": references, "class_scores": scores}
