"""The recorded chain of steps: :class:`Step`, :class:`Recipe` and its JSON form.

Also the registry of step names (:data:`STEPS`) and the paper's chain
(:func:`paper_recipe`) and its pybaselines variant (:func:`baseline_recipe`). A recipe
records every parameter (defaults included) so that a saved model applies exactly the same
preprocessing at prediction time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import RamancamError
from ..spectra import Spectra
from ._validation import Array, _check_X, _float, _names
from .baselines import _check_method, _pybaseline, baseline
from .baselines import check_params as check_baseline_params
from .steps import (
    _apply_runs,
    _check_crop,
    _check_despike,
    _check_norm,
    _check_outside,
    _check_regions,
    _check_savgol,
    _crop,
    _despike,
    _linear_baseline,
    _normalize,
    _resample,
    _run_blocks,
    _savgol,
    crop,
    despike,
    linear_baseline,
    make_grid,
    normalize,
    resample,
    savgol,
)

__all__ = [
    "STEPS",
    "Recipe",
    "Step",
    "baseline_recipe",
    "paper_recipe",
    "recipe_text",
]

# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _StepKind:
    """How a recipe step is checked, completed with defaults and run."""

    defaults: dict[str, Any]
    check: Callable[[dict[str, Any]], dict[str, Any]]
    run: Callable[..., tuple[Array, Array]]
    open_params: bool = False  # accepts parameters beyond the defaults (pybaselines)


def _run_keep(fn: Callable[..., Array]) -> Callable[..., tuple[Array, Array]]:
    def run(X: Array, w: Array, names: list[str], common: Any = None, rows: Any = None,
            **kw: Any) -> tuple[Array, Array]:
        return fn(X, w, names, **kw), w
    return run


def _check_lb(p: dict[str, Any]) -> dict[str, Any]:
    return {"regions": _check_regions(p["regions"])}


def _check_bl(p: dict[str, Any]) -> dict[str, Any]:
    method = _check_method(p["method"])
    check_baseline_params(method, {k: v for k, v in p.items() if k != "method"})
    return {**p, "method": method}


def _check_cr(p: dict[str, Any]) -> dict[str, Any]:
    lo, hi = _check_crop(p["lo"], p["hi"])
    return {"lo": lo, "hi": hi}


def _check_rs(p: dict[str, Any]) -> dict[str, Any]:
    make_grid(p["start"], p["stop"], p["step"])
    tol = p["tolerance"]
    if tol is not None:
        tol = _float("tolerance", tol)
        if tol < 0:
            raise RamancamError(f"tolerance must be >= 0; got {p['tolerance']!r}.")
    return {"start": _float("start", p["start"]), "stop": _float("stop", p["stop"]),
            "step": _float("step", p["step"]), "outside": _check_outside(p["outside"]),
            "tolerance": tol}


def _run_rs(X: Array, w: Array, names: list[str], common: tuple[float, float] | None = None,
            rows: int | None = None, *, start: float, stop: float, step: float, outside: str,
            tolerance: float | None) -> tuple[Array, Array]:
    g = make_grid(start, stop, step)
    return _resample(X, w, names, grid=g, outside=outside, tolerance=tolerance,
                     common=common, rows=rows), g


def _check_nm(p: dict[str, Any]) -> dict[str, Any]:
    return {"method": _check_norm(p["method"])}


def _check_sg(p: dict[str, Any]) -> dict[str, Any]:
    wl, po = _check_savgol(p["window_length"], p["polyorder"])
    return {"window_length": wl, "polyorder": po}


def _check_ds(p: dict[str, Any]) -> dict[str, Any]:
    t, m = _check_despike(p["threshold"], p["window"])
    return {"threshold": t, "window": m}


_KINDS: dict[str, _StepKind] = {
    "linear_baseline": _StepKind({"regions": None}, _check_lb, _run_keep(_linear_baseline)),
    "baseline": _StepKind({"method": "asls"}, _check_bl, _run_keep(_pybaseline),
                          open_params=True),
    "crop": _StepKind({"lo": None, "hi": None}, _check_cr, _crop),
    "resample": _StepKind({"start": 350.0, "stop": 1800.0, "step": 1.0, "outside": "error",
                           "tolerance": None}, _check_rs, _run_rs),
    "normalize": _StepKind({"method": "max"}, _check_nm, _run_keep(_normalize)),
    "savgol": _StepKind({"window_length": 11, "polyorder": 3}, _check_sg,
                        _run_keep(_savgol)),
    "despike": _StepKind({"threshold": 7.0, "window": 3}, _check_ds, _run_keep(_despike)),
}

#: Names of the steps a :class:`Recipe` knows, each with the function it runs.
STEPS: dict[str, Callable[..., Any]] = {
    "linear_baseline": linear_baseline, "baseline": baseline, "crop": crop,
    "resample": resample, "normalize": normalize, "savgol": savgol, "despike": despike,
}


def _jsonable(name: str, value: Any) -> Any:
    """Plain JSON values (so that a recipe round-trips exactly), or an error."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RamancamError(f"recipe parameter {name} must be finite; got {value!r}.")
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(name, v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(f"{name}.{k}", v) for k, v in value.items()}
    raise RamancamError(
        f"recipe parameter {name} must be a number, string, bool, None or a list/dict of "
        f"them; got {type(value).__name__}. Recipes are stored as JSON.")


@dataclass(frozen=True)
class Step:
    """One named step of a :class:`Recipe` with all of its parameters.

    Parameters
    ----------
    name : str
        One of :data:`STEPS`.
    params : dict
        Keyword parameters; missing ones are filled with ramancam's defaults, so that the
        recorded recipe does not depend on later changes of them. A ``baseline`` step's
        pybaselines parameters are recorded as given: those left out take pybaselines'
        defaults (its version is among a model file's ``versions``).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or self.name not in _KINDS:
            raise RamancamError(
                f"recipe step must be one of {', '.join(_KINDS)}; got {self.name!r}.")
        kind = _KINDS[self.name]
        if not isinstance(self.params, Mapping):
            raise RamancamError(
                f"parameters of step {self.name} must be a mapping; got "
                f"{type(self.params).__name__}.")
        unknown = [k for k in self.params if k not in kind.defaults]
        if unknown and not kind.open_params:
            raise RamancamError(
                f"parameters of step {self.name} must be among {', '.join(kind.defaults)}; "
                f"got {', '.join(map(repr, unknown))}.")
        merged = {**kind.defaults, **self.params}
        missing = [k for k, v in merged.items() if v is None and k in ("lo", "hi")]
        if missing:
            raise RamancamError(
                f"step {self.name} needs {' and '.join(missing)}; got none. "
                "E.g. {'name': 'crop', 'params': {'lo': 400, 'hi': 1800}}.")
        checked = kind.check(merged)
        clean = {k: _jsonable(f"{self.name}.{k}", v) for k, v in checked.items()}
        object.__setattr__(self, "params", clean)

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "params": {...}}`` (plain JSON values)."""
        return {"name": self.name, "params": json.loads(json.dumps(self.params))}

    def run(self, X: Array, w: Array, names: list[str],
            common: tuple[float, float] | None = None,
            rows: int | None = None) -> tuple[Array, Array]:
        """Apply the step to a matrix on one axis (arrays already validated).

        ``common`` is the range every spectrum of the set covers (used in error hints);
        ``rows`` the number of spectra of the whole call when ``X`` is a block of it (they
        choose the resampling path, as if the step ran on all of them; default ``X``'s).
        """
        return _KINDS[self.name].run(X, w, names, common, rows, **self.params)


def _as_params(params: Any, name: Any, k: int) -> dict[str, Any]:
    """A step's parameters as a dict (None: none); anything but a mapping is refused."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise RamancamError(
            f"parameters of recipe step {k} ({name!r}) must be a mapping of names to values; "
            f"got {params!r}. Write {{'name': 'normalize', 'params': {{'method': 'max'}}}}.")
    return dict(params)


def _as_step(s: Any, k: int) -> Step:
    if isinstance(s, Step):
        return s
    if isinstance(s, str):
        return Step(s)
    if isinstance(s, Mapping):
        if "name" not in s:
            raise RamancamError(
                f"recipe step {k} must have a 'name'; got keys {sorted(s)}. "
                "Write {'name': 'normalize', 'params': {'method': 'max'}}.")
        extra = set(s) - {"name", "params"}
        if extra:
            raise RamancamError(
                f"recipe step {k} must have only 'name' and 'params'; got also "
                f"{sorted(extra)}. Put parameters under 'params'.")
        return Step(s["name"], _as_params(s.get("params"), s["name"], k))
    if isinstance(s, (tuple, list)) and len(s) == 2:
        return Step(s[0], _as_params(s[1], s[0], k))
    raise RamancamError(
        f"recipe step {k} must be a Step, a name, a (name, params) pair or a dict; got "
        f"{s!r}.")


class Recipe:
    """An ordered, recorded chain of preprocessing steps.

    Parameters
    ----------
    steps : sequence
        Each a :class:`Step`, a step name, a ``(name, params)`` pair or a
        ``{"name": ..., "params": {...}}`` dict. Order is kept as given.

    Notes
    -----
    A recipe serialises to JSON and back exactly: ``Recipe.from_json(r.to_json()) == r`` and
    both give identical output. Every parameter of ramancam's steps is recorded, defaults
included; a ``baseline`` step records the pybaselines parameters given (the others are
pybaselines' defaults, whose version a model file records).

    Examples
    --------
    >>> r = Recipe([("linear_baseline", {}), ("resample", {"start": 400, "stop": 1800}),
    ...             ("normalize", {"method": "max"})])
    >>> r.grid.size
    1401
    """

    FORMAT = "ramancam-recipe"
    VERSION = 1

    def __init__(self, steps: Iterable[Any] = ()) -> None:
        if isinstance(steps, (str, Mapping)):
            raise RamancamError(
                f"steps must be a list of steps; got {type(steps).__name__}. "
                "Use Recipe.from_dict / Recipe.from_json for a saved recipe.")
        self._steps: tuple[Step, ...] = tuple(_as_step(s, k) for k, s in enumerate(steps))

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, in order."""
        return self._steps

    def __len__(self) -> int:
        return len(self._steps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recipe):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{s.name}({', '.join(f'{k}={v!r}' for k, v in s.params.items())})"
            for s in self._steps)
        return f"Recipe([{inner}])"

    # --------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A plain-JSON description: format tag, version and the steps in order."""
        return {"format": self.FORMAT, "version": self.VERSION,
                "steps": [s.to_dict() for s in self._steps]}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The recipe as JSON text (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recipe:
        """Rebuild a recipe from :meth:`to_dict` output.

        Raises
        ------
        RamancamError
            If it is not a ramancam recipe, was written by a newer version, or names an
            unknown step or parameter.
        """
        if not isinstance(d, Mapping) or d.get("format") != cls.FORMAT:
            got = d.get("format") if isinstance(d, Mapping) else type(d).__name__
            raise RamancamError(
                f"recipe must be a ramancam recipe (format {cls.FORMAT!r}); got {got!r}. "
                "Write it with Recipe.to_json().")
        version = d.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise RamancamError(
                f"recipe version must be a whole number ({cls.VERSION} in the recipes this "
                f"ramancam writes); got {version!r}. Write it with Recipe.to_json().")
        if version > cls.VERSION:
            raise RamancamError(
                f"recipe version must be at most {cls.VERSION}; got {version!r}. "
                "Upgrade ramancam to read it.")
        steps = d.get("steps")
        if not isinstance(steps, list):
            raise RamancamError(
                f"recipe 'steps' must be a list; got {type(steps).__name__}.")
        return cls(steps)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """Rebuild a recipe from :meth:`to_json` text.

        Raises
        ------
        RamancamError
            If the text is not JSON, or as :meth:`from_dict`.
        """
        try:  # (a byte-order mark, as Windows Notepad saves UTF-8, is no JSON error)
            d = json.loads(text.removeprefix("\ufeff"))
        except json.JSONDecodeError as exc:
            raise RamancamError(
                f"recipe must be JSON; got an error at line {exc.lineno}, column "
                f"{exc.colno}: {exc.msg}.") from None
        return cls.from_dict(d)

    # --------------------------------------------------------------- grid
    @property
    def grid(self) -> Array | None:
        """Output axis, shape (n_grid,), when the recipe resamples (else ``None``)."""
        g: Array | None = None
        for s in self._steps:
            if s.name == "resample":
                g = make_grid(s.params["start"], s.params["stop"], s.params["step"])
            elif s.name == "crop" and g is not None:
                g = g[(g >= s.params["lo"]) & (g <= s.params["hi"])]
        return g

    def with_grid(self, grid: tuple[float, float, float]) -> Recipe:
        """A copy whose (last) resampling step uses ``grid = (start, stop, step)``.

        Raises
        ------
        RamancamError
            If the recipe has no resampling step.
        """
        try:
            start, stop, step = grid
        except (TypeError, ValueError):
            raise RamancamError(
                f"grid must be (start, stop, step); got {grid!r}.") from None
        idx = [k for k, s in enumerate(self._steps) if s.name == "resample"]
        if not idx:
            raise RamancamError(
                "recipe must have a resample step to change its grid; got steps "
                f"{[s.name for s in self._steps]}. Add a 'resample' step.")
        steps = list(self._steps)
        old = steps[idx[-1]]
        steps[idx[-1]] = Step("resample", {**old.params, "start": start, "stop": stop,
                                           "step": step})
        return Recipe(steps)

    # --------------------------------------------------------------- applying
    def apply(self, spectra: Spectra) -> Spectra:
        """Run the steps in order on a :class:`~ramancam.spectra.Spectra`.

        Parameters
        ----------
        spectra : Spectra
            Common-axis or per-spectrum-axes layout. Steps that keep the grid run per group
            of spectra sharing an axis; resampling brings them onto one common grid.

        Returns
        -------
        Spectra
            The result, with labels, metadata and sources kept.

        Notes
        -----
        A common-axis set goes through all the steps 4,096 spectra at a time
        (``steps.BLOCK_ROWS``), so that memory stays near the input plus the output however
        large the set; the result is bit for bit that of each step over the whole set.
        """
        if not isinstance(spectra, Spectra):
            raise RamancamError(
                f"spectra must be a ramancam Spectra; got {type(spectra).__name__}. "
                "Use Recipe.apply_arrays(X, wavenumbers) for plain arrays.")
        if len(spectra) == 0:  # nothing to process; on the recipe's grid when it resamples
            g = self.grid
            return spectra if g is None else spectra.replace(np.empty((0, g.size)), g)
        return _apply_runs(spectra, [s.run for s in self._steps])

    def apply_arrays(self, X: ArrayLike, wavenumbers: ArrayLike, *,
                     sources: ArrayLike | None = None) -> tuple[Array, Array]:
        """Run the steps on a matrix.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)
        wavenumbers : array-like of shape (n_points,)
        sources : array-like of str of shape (n_spectra,), optional
            Named in error messages.

        Returns
        -------
        X_new : ndarray of shape (n_spectra, n_out), float64
        wavenumbers_new : ndarray of shape (n_out,)
        """
        arr, w = _check_X(X, wavenumbers)
        names = _names(arr.shape[0], sources)
        # a block of rows at a time through all the steps (the output is then a new array)
        out, w = _run_blocks(arr, w, names, [s.run for s in self._steps])
        return (np.ascontiguousarray(out) if self._steps else np.array(out, dtype=np.float64),
                np.array(w, dtype=np.float64))


def paper_recipe(grid: tuple[float, float, float] = (350.0, 1800.0, 1.0), *,
                 line_through: str = "measured") -> Recipe:
    """The paper's preprocessing (Fukuhara et al. 2019, 2.1; METHOD.md section 1).

    Linear baseline through the end points -> cubic-spline resampling onto ``grid``
    (default 350-1800 cm-1 at 1 cm-1, 1451 points; grid points outside a spectrum's range
    are an error) -> normalisation to the maximum.

    Parameters
    ----------
    grid : (start, stop, step)
        Resampling grid in cm-1, inclusive.
    line_through : {"measured", "grid"}
        ``"measured"`` (the paper's): the straight line runs through each spectrum's first
        and last measured points, so a spectrum measured beyond the grid gets another line
        (and other inputs) than the same spectrum measured over a shorter range.
        ``"grid"`` (``--recipe paper-grid``): resampling comes first and the line runs
        through the spectrum at the grid's two ends, so the inputs depend only on the
        spectrum inside the grid: for a model used on spectra from instruments that measure
        other ranges.
    """
    try:
        start, stop, step = grid
    except (TypeError, ValueError):
        raise RamancamError(f"grid must be (start, stop, step); got {grid!r}.") from None
    if line_through not in ("measured", "grid"):
        raise RamancamError(f"line_through must be 'measured' or 'grid'; got "
                            f"{line_through!r}.")
    line = Step("linear_baseline", {"regions": None})
    resample = Step("resample", {"start": start, "stop": stop, "step": step,
                                 "outside": "error", "tolerance": None})
    return Recipe([*((line, resample) if line_through == "measured" else (resample, line)),
                   Step("normalize", {"method": "max"})])


def baseline_recipe(method: str = "asls",
                    grid: tuple[float, float, float] = (350.0, 1800.0, 1.0),
                    **params: Any) -> Recipe:
    """The paper's recipe with a pybaselines baseline in place of the straight line.

    Cubic-spline resampling onto ``grid`` -> ``method`` baseline (on the grid, so every
    spectrum gets the same smoothness setting) -> normalisation to the maximum. For spectra
    whose end points are not baseline (a fluorescence hump, a band at the edge), where the
    line through the end points cuts into the spectrum.

    Parameters
    ----------
    method : str
        A pybaselines method (:data:`BASELINE_METHODS`), default ``"asls"``.
    grid : (start, stop, step)
        Resampling grid in cm-1, inclusive.
    **params
        Passed to the method (e.g. ``lam=1e6, p=0.01`` for asls); pybaselines' defaults
        otherwise.
    """
    try:
        start, stop, step = grid
    except (TypeError, ValueError):
        raise RamancamError(f"grid must be (start, stop, step); got {grid!r}.") from None
    return Recipe([
        Step("resample", {"start": start, "stop": stop, "step": step, "outside": "error",
                          "tolerance": None}),
        Step("baseline", {"method": method, **params}),
        Step("normalize", {"method": "max"}),
    ])


def recipe_text(recipe: dict[str, Any] | None) -> str:
    """A recipe's steps in one line, as ``ramancam info`` and the train report show it
    (``linear_baseline -> resample(start=350.0, ...) -> normalize(method=max)``), from
    :meth:`Recipe.to_dict` or a model file's JSON; ``None``: no recipe."""
    if not recipe:
        return "none (spectra are used as given)"
    parts = []
    for step in recipe.get("steps", []):
        params = ", ".join(f"{k}={v}" for k, v in (step.get("params") or {}).items()
                           if v is not None)
        parts.append(f"{step.get('name')}({params})" if params else str(step.get("name")))
    return " -> ".join(parts)
