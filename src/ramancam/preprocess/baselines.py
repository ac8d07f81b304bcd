"""Baseline correction by pybaselines: :func:`baseline` and :data:`BASELINE_METHODS`.

Any pybaselines algorithm that fits "one spectrum in, one baseline out" with keyword
parameters (asls, arpls, ...) is reachable by name; the straight-line baseline of the paper
is :func:`ramancam.preprocess.steps.linear_baseline`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import RamancamError
from ._validation import Array, _check_kept, _check_X, _names

__all__ = [
    "BASELINE_METHODS",
    "baseline",
]

# pybaselines methods that do not fit "one spectrum in, one baseline out" with keyword
# parameters only (they need other methods, several spectra or explicit anchor points).
_PYBASELINES_EXCLUDED = {"custom_bc", "optimize_extended_range", "collab_pls", "interp_pts"}


@functools.cache
def _pybaselines_methods() -> tuple[str, ...]:
    from pybaselines import Baseline as _PB

    return tuple(sorted(n for n in dir(_PB) if not n.startswith("_")
                        and callable(getattr(_PB, n)) and n not in _PYBASELINES_EXCLUDED))


if TYPE_CHECKING:
    #: pybaselines algorithms reachable through :func:`baseline` (``method=...``).
    BASELINE_METHODS: tuple[str, ...]


def __getattr__(name: str) -> Any:
    # BASELINE_METHODS is listed on first use: listing imports pybaselines (and with it
    # scipy.signal and scipy.stats, about 1.3 s), which `ramancam --help` and a recipe
    # without a pybaselines step need not pay
    if name == "BASELINE_METHODS":
        return _pybaselines_methods()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "BASELINE_METHODS"})


def _check_method(method: Any) -> str:
    methods = _pybaselines_methods()
    if method not in methods:
        raise RamancamError(
            f"baseline method must be one of {', '.join(methods)}; got {method!r}.")
    return str(method)


#: The most iterations a recipe may ask of an iterative pybaselines method (their defaults
#: are 50-500): a larger value is a typo or an altered model file, not a setting.
MAX_ITER = 100_000


def check_params(method: str, params: dict[str, Any]) -> None:
    """Refuse keyword ``params`` that pybaselines' ``method`` does not take and a
    ``max_iter`` above :data:`MAX_ITER`, before any spectrum is fitted (a recipe read from a
    file or a model is checked when it is read; non-finite numbers are refused for every
    step by the recipe)."""
    import inspect

    from pybaselines import Baseline as _PB

    sig = inspect.signature(getattr(_PB, _check_method(method)))
    # Methods with **kwargs (snip, mor, rolling_ball, ...) pass unknown keywords on to
    # numpy's padding or their window search (deprecated by pybaselines): a misspelt
    # max_half_window was silently ignored by snip. They are said in a warning, not refused:
    # model files saved with such a keyword (e.g. snip's mode="edge") must still load.
    takes = {n for n, q in sig.parameters.items()
             if n not in ("self", "data") and q.kind is not q.VAR_KEYWORD}
    open_kw = any(q.kind is q.VAR_KEYWORD for q in sig.parameters.values())
    bad = sorted(set(params) - takes)
    nested = sorted(takes & {"pad_kwargs", "window_kwargs"})
    if bad and open_kw:
        import warnings

        from ..errors import RamancamWarning

        warnings.warn(
            f"baseline parameters {', '.join(map(repr, bad))} are not among those pybaselines' "
            f"{method} names ({', '.join(sorted(takes - {'x_data'}))}): it passes them on to "
            f"{' or '.join(nested) or 'its helpers'} (deprecated there), and a misspelt one "
            f"does nothing. Check the spelling, or put them inside "
            f"{' or '.join(nested) or 'the named parameters'}.", RamancamWarning, stacklevel=2)
    elif bad:
        where = (f" (settings for the padding or window search go inside "
                 f"{' or '.join(nested)})" if nested else "")
        raise RamancamError(
            f"baseline parameters must be ones pybaselines' {method} takes "
            f"({', '.join(sorted(takes - {'x_data'}))}); got {', '.join(map(repr, bad))}"
            f"{where}. See the pybaselines documentation of {method}.")
    it = params.get("max_iter")
    if isinstance(it, int | float) and not isinstance(it, bool) and it > MAX_ITER:
        raise RamancamError(f"baseline parameter max_iter must be at most {MAX_ITER}; got "
                            f"{it!r}.")


def _min_points(method: str, params: dict[str, Any]) -> int:
    """The fewest points a spectrum needs for a baseline by ``method``: 3 (through two points
    every baseline is the whole spectrum), and more than ``diff_order`` for the methods that
    take one (their difference matrix is empty otherwise: pybaselines fails with
    "zero-size array to reduction operation")."""
    import inspect

    from pybaselines import Baseline as _PB

    q = inspect.signature(getattr(_PB, method)).parameters.get("diff_order")
    d = params.get("diff_order", None if q is None else q.default)
    if isinstance(d, int | float) and not isinstance(d, bool) and np.isfinite(d):
        return max(3, int(d) + 1)
    return 3


def _pybaseline(X: Array, w: Array, names: list[str], *, method: str,
                **params: Any) -> Array:
    from pybaselines import Baseline as _PB

    need = _min_points(_check_method(method), params)
    if w.size < need:
        order = f" with diff_order={params.get('diff_order', need - 1)}" if need > 3 else ""
        raise RamancamError(
            f"{names[0]} must have at least {need} points for the {method} baseline{order}; "
            f"got {w.size}. Give spectra with more points (a wider range or a finer grid).")
    fitter = getattr(_PB(x_data=w), method)
    out = np.empty_like(X)
    # pybaselines has no batched 1-D API: one call per spectrum, but the Baseline object
    # (sorting of x, cached matrices) is shared by all spectra on this axis.
    for i, y in enumerate(X):
        try:
            base, _ = fitter(y, **params)
        except TypeError as exc:
            raise RamancamError(
                f"baseline parameters must be accepted by pybaselines' {method}; got "
                f"{params!r} ({exc}). See the pybaselines documentation of {method}.") from None
        except ValueError as exc:
            raise RamancamError(
                f"baseline {method} must succeed on {names[i]}; got {exc}. "
                "Check its parameters.") from None
        out[i] = y - base
    _check_kept(X, out, names, method)
    return out


def baseline(X: ArrayLike, wavenumbers: ArrayLike, method: str = "asls", *,
             sources: ArrayLike | None = None, **params: Any) -> tuple[Array, Array]:
    """Subtract a baseline estimated by a pybaselines algorithm.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Intensities.
    wavenumbers : array-like of shape (n_points,)
        Raman shifts in cm-1 (passed to ``pybaselines.Baseline(x_data=wavenumbers)``, which
        handles descending axes and restores the caller's order).
    method : str
        Name of a ``pybaselines.Baseline`` method, one of :data:`BASELINE_METHODS`
        (e.g. ``"asls"``, ``"arpls"``, ``"airpls"``, ``"snip"``, ``"modpoly"``).
    sources : array-like of str of shape (n_spectra,), optional
        Source file of each spectrum, named in error messages.
    **params
        Passed through to the method, e.g. ``lam=1e6, p=0.01`` for ``asls``.

    Returns
    -------
    X_new : ndarray of shape (n_spectra, n_points), float64
        Intensities minus their baselines.
    wavenumbers : ndarray of shape (n_points,)
        The axis, unchanged.

    Raises
    ------
    RamancamError
        If ``method`` is unknown (the message lists the known ones), the spectra have fewer
        than 3 points (or not more than ``diff_order``, for the methods that take one), or
        pybaselines rejects the parameters.
    """
    arr, w = _check_X(X, wavenumbers)
    m = _check_method(method)
    return _pybaseline(arr, w, _names(arr.shape[0], sources), method=m, **params), w.copy()
