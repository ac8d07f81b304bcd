"""The settings of a model file (``ramancam.json``, :mod:`ramancam.bundle`): the format
version this ramancam writes and reads, and every setting checked when a file is loaded, so
that a damaged or altered file is one clear line naming it, and a file of a newer ramancam
says so instead of "damaged".

Format versions (``format_version``), raised whenever a field changes what a reader must
compute, so that an older ramancam refuses the file ("Upgrade ramancam to load it") instead
of reading it without the field and giving other numbers:

* 1: ramancam before 0.2.0 (2026-11-24 to 2026-12-07). Fields were added under it that an
  older reader ignored (``novelty.window``, the ``held_out`` scores, the ``hqi-halves`` and
  ``hqi-nap`` scores, ``training_data.end_points`` and the cut back to the training range):
  such a file read by an older ramancam gave other probabilities and maps without a word.
* 2: ramancam 0.2.0. Read as version 1 (nothing it holds is read otherwise); in a file of
  version 2 or later a name this ramancam does not know (a novelty score, a recipe step or
  one of its parameters, a normalisation, a baseline method) is a newer ramancam's, while
  in a version-1 file, which only the ramancams that knew every such name wrote, it is
  damage (:func:`newer_value`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._bundle_arrays import FORMAT, _refuse
from ._inputs import finite_number
from .errors import RamancamError
from .spectra import composed_names

FORMAT_VERSION = 2
JSON_NAME = "ramancam.json"

#: A setting's name as a newer ramancam would write one (a damaged or altered value that is
#: no such name is damage).
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.+-]{0,63}")


def _unknown(value: Any, known: Any) -> bool:
    """``value`` is a plausible name that is not among ``known``."""
    return isinstance(value, str) and value not in known and _NAME.fullmatch(value) is not None


def _baseline_methods() -> tuple[str, ...]:
    from .preprocess.baselines import BASELINE_METHODS  # imports pybaselines: only here

    return BASELINE_METHODS


def _newer_step(step: Any) -> str | None:
    """What a recipe step (as :meth:`Step.to_dict` writes it) names that this ramancam does
    not know, or ``None``."""
    from .preprocess.recipe import _KINDS
    from .preprocess.steps import NORMALIZATIONS, OUTSIDE_POLICIES

    if not isinstance(step, dict):
        return None
    name, params = step.get("name"), step.get("params")
    if _unknown(name, _KINDS):
        return f"recipe step {name!r}"
    if name not in _KINDS or not isinstance(params, dict):
        return None
    kind = _KINDS[name]
    extra = [k for k in params if _unknown(k, kind.defaults)]
    if extra and not kind.open_params:
        return f"parameter {extra[0]!r} of recipe step {name!r}"
    for step_name, key, known, what in (
            ("normalize", "method", NORMALIZATIONS, "normalisation method"),
            ("resample", "outside", OUTSIDE_POLICIES, "resampling outside policy")):
        if name == step_name and _unknown(params.get(key), known):
            return f"{what} {params[key]!r}"
    if name == "baseline" and _unknown(params.get("method"), _baseline_methods()):
        import pybaselines

        return (f"baseline method {params['method']!r} (nor does pybaselines "
                f"{pybaselines.__version__}: upgrade it too)")
    return None


def newer_value(info: dict[str, Any]) -> str | None:
    """The first setting of a model file of format version 2 or later that names what this
    ramancam does not know (a newer ramancam's: its novelty score, recipe step, a step's
    parameter or method, the network's activation), described for a message; ``None`` when
    there is none, or the file is of version 1 (whose writers knew every such name: there it
    is damage)."""
    from ._cnn_config import FC_ACTIVATIONS
    from .novelty import METHODS

    version = info.get("format_version")
    if not isinstance(version, int) or version < 2:
        return None
    nov = info.get("novelty")
    if isinstance(nov, dict) and _unknown(nov.get("method"), METHODS):
        return f"novelty method {nov['method']!r}"
    arch = info.get("architecture")
    if isinstance(arch, dict) and _unknown(arch.get("fc_activation"), FC_ACTIVATIONS):
        return f"network activation {arch['fc_activation']!r}"
    recipe = info.get("recipe")
    steps = recipe.get("steps") if isinstance(recipe, dict) else None
    for step in steps if isinstance(steps, list) else []:
        if (what := _newer_step(step)) is not None:
            return what
    return None


def _newer(p: Path, what: str) -> RamancamError:
    from . import __version__

    return RamancamError(f"{p} was written by a newer ramancam: its {what} is not one this "
                         f"ramancam ({__version__}) knows. Upgrade ramancam to load it.")


#: Top-level entries of ``ramancam.json`` that must be mappings when present.
_MAPPINGS = ("settings", "training_data", "cv", "calibration", "versions", "novelty",
             "references")


def _reason(exc: BaseException) -> str:
    """``exc``'s message as the middle of a "damaged" line: its first line, without a full
    stop or a "The file is damaged" of its own (the line ends with one)."""
    why = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else \
        type(exc).__name__
    for tail in (" The file is damaged or was altered", " The file is damaged"):
        why = why.removesuffix(tail).rstrip(".")
    return why


def _damaged(p: Path, exc: BaseException) -> RamancamError:
    if "Upgrade ramancam" in str(exc):  # written by a newer ramancam: not damaged
        return RamancamError(f"{p}: {str(exc).strip().splitlines()[0].rstrip('.')}.")
    return RamancamError(f"{p}: its {JSON_NAME} must hold the settings ramancam wrote; got "
                         f"{_reason(exc)}. The file is damaged or was altered.")


def _compose_info(info: dict[str, Any], names: dict[str, str]) -> None:
    """The class names of a model's record in the form :func:`composed_names` gave its
    classes (a decomposed "café" of an older model): info counted the training spectra per
    class by the names as stored, and found none for the composed ones."""
    if all(k == v for k, v in names.items()):
        return
    info["classes"] = [names.get(str(c), c) for c in info["classes"]]
    for key in ("training_data", "cv"):
        part = info.get(key)
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("classes"), list):
            part["classes"] = [names.get(str(c), c) for c in part["classes"]]
        if isinstance(part.get("class_counts"), dict):
            part["class_counts"] = {names.get(str(k), k): v
                                    for k, v in part["class_counts"].items()}


def _read_info(p: Path, raw: bytes) -> tuple[dict[str, Any], Any, list[str],
                                                NDArray[np.float64], Any]:
    """The checked settings of a model file: ``(info, config, classes, grid, recipe)``."""
    from ._cnn_config import CNNConfig

    try:
        info = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        # ValueError: not UTF-8, not JSON, or an integer of more than 4300 digits
        # (sys.get_int_max_str_digits), which json.loads refuses with a bare ValueError
        why = ("an integer of more than 4300 digits" if "integer string conversion" in str(exc)
               else _reason(exc))
        raise _refuse(p, f"unreadable {JSON_NAME} ({why})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        marker = info.get("format") if isinstance(info, dict) else None
        raise _refuse(p, f"format marker {marker!r} instead of {FORMAT!r}")
    version = info.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _refuse(p, f"format_version {version!r}")
    if version > FORMAT_VERSION:
        raise RamancamError(
            f"{p} must be model format version {FORMAT_VERSION} or older; got version "
            f"{version} (written by a newer ramancam). Upgrade ramancam to load it.")
    for key in _MAPPINGS:
        if info.get(key) is not None and not isinstance(info[key], dict):
            raise _damaged(p, TypeError(f"{key!r} as {type(info[key]).__name__}, not a "
                                        "mapping"))
    if (what := newer_value(info)) is not None:  # before anything would call it damage
        raise _newer(p, what)
    if "architecture" not in info or "classes" not in info or "grid" not in info:
        missing = [k for k in ("architecture", "classes", "grid") if k not in info]
        raise _refuse(p, f"a {JSON_NAME} missing {missing[0]!r}")
    try:
        if not isinstance(info["architecture"], dict):
            raise TypeError(f"architecture as {type(info['architecture']).__name__}")
        config = CNNConfig.from_dict(info["architecture"])
        if not isinstance(info["classes"], list):
            raise TypeError(f"classes as {type(info['classes']).__name__}")
        classes = composed_names(info["classes"])  # as the labels they meet are read
        _compose_info(info, dict(zip(map(str, info["classes"]), classes, strict=True)))
        grid = np.asarray(info["grid"], dtype=np.float64)
        recipe = None
        if info.get("recipe") is not None:
            from .preprocess import Recipe

            recipe = Recipe.from_dict(_older_recipe(p, info))
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise _damaged(p, exc) from None
    if grid.ndim != 1:
        raise _damaged(p, ValueError(f"a grid of {grid.ndim} dimensions"))
    if len(classes) != config.n_classes or grid.ndim != 1 or grid.size != config.n_points:
        raise RamancamError(
            f"{p}: classes and grid must match the architecture ({config.n_classes} classes, "
            f"{config.n_points} points); got {len(classes)} classes and {grid.size} grid "
            "points. The file is damaged or was altered.")
    _check_numbers(p, info)
    if len(set(classes)) != len(classes) or not all(classes):
        raise _damaged(p, ValueError(f"classes {classes[:5]} with repeated or empty names"))
    if not np.isfinite(grid).all() or (grid.size > 1 and not (np.diff(grid) > 0).all()):
        raise _damaged(p, ValueError("a grid that is not finite and increasing"))
    return info, config, classes, grid, recipe


def _older_recipe(p: Path, info: dict[str, Any]) -> Any:
    """The recipe of a model file as this ramancam reads it: as stored, but in a version-1
    file a baseline step's ``max_iter`` above :data:`ramancam.preprocess.baselines.MAX_ITER`
    (which ramancam allowed until 2026-12-06: the bound keeps an altered file from running
    for ever) is lowered to that bound, with a warning. The iterative baselines stop at their
    tolerance long before (asls: tens of iterations), so the model predicts as it did; a
    file of version 2 or later with such a value was altered (refused as damaged)."""
    import warnings

    from .errors import RamancamWarning
    from .preprocess.baselines import MAX_ITER

    recipe = info["recipe"]
    steps = recipe.get("steps") if isinstance(recipe, dict) else None
    if info.get("format_version") != 1 or not isinstance(steps, list):
        return recipe
    out = []
    for step in steps:
        params = step.get("params") if isinstance(step, dict) else None
        if not isinstance(params, dict) or step.get("name") != "baseline":
            out.append(step)
            continue
        it = params.get("max_iter")
        if finite_number(it) and it > MAX_ITER:
            warnings.warn(
                f"{p}: its recipe's baseline max_iter {it!r} is above the {MAX_ITER} this "
                f"ramancam allows (an older ramancam saved it, which allowed more); it runs at "
                f"most {MAX_ITER} iterations ({params.get('method')} stops at its tolerance "
                "long before, so the model predicts as it did)", RamancamWarning, stacklevel=4)
            step = {**step, "params": {**params, "max_iter": MAX_ITER}}
        out.append(step)
    return {**recipe, "steps": out}


def _check_numbers(p: Path, info: dict[str, Any]) -> None:
    """The nested settings that prediction computes with: numbers where numbers belong."""
    laser = (info.get("settings") or {}).get("laser_nm")
    if laser is not None and not finite_number(laser):
        raise _damaged(p, ValueError(f"settings.laser_nm {laser!r}"))
    rate = (info.get("novelty") or {}).get("rate")
    if rate is not None and not (finite_number(rate) and 0 < rate < 1):
        raise _damaged(p, ValueError(f"novelty.rate {rate!r}"))
    ends = (info.get("training_data") or {}).get("end_points")
    if ends is not None and not (isinstance(ends, list) and all(
            isinstance(e, list) and len(e) == 2 and all(map(finite_number, e)) for e in ends)):
        raise _damaged(p, ValueError("training_data.end_points that are not [first, last] "
                                     "pairs of numbers"))


