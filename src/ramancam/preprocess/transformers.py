"""scikit-learn transformer forms of the steps (``BaseEstimator`` + ``TransformerMixin``).

Each works on ``X`` of shape (n_spectra, n_points) alone; the input axis is the
constructor parameter ``wavenumbers``, or the axis of a ``Spectra`` or of a DataFrame headed
by Raman shifts (:class:`Crop` and :class:`Resample`, which change the grid, refuse to work
without one of them). Each runs the step function of :mod:`ramancam.preprocess.steps`
(or :mod:`~ramancam.preprocess.baselines`) with the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._inputs import check_axis_of, fit_axis, header_axis
from ..errors import RamancamError
from ..spectra import check_axis
from ._validation import Array, finite_on_axis
from .baselines import _check_method, baseline, check_params
from .steps import (
    _check_crop,
    _check_despike,
    _check_norm,
    _check_outside,
    _check_regions,
    _check_savgol,
    _crop,
    crop,
    despike,
    linear_baseline,
    make_grid,
    normalize,
    resample,
    savgol,
)

__all__ = [
    "BaselineCorrection",
    "Crop",
    "Despike",
    "LinearBaseline",
    "Normalize",
    "Resample",
    "SavitzkyGolay",
]


def _no_axis(X: Any) -> str:
    """What ``fit`` got without Raman shifts, in the refusal's words: an array, or a
    DataFrame whose column names are no axis (pandas' default positions 0 to p-1 named as
    such)."""
    cols = getattr(X, "columns", None)
    if cols is None or not hasattr(X, "iloc") or len(cols) == 0:
        return "an array without Raman shifts"
    try:
        axis = check_axis(np.asarray(cols), name="column names")
    except (RamancamError, TypeError, ValueError):
        shown = ", ".join(repr(c) if isinstance(c, str) else str(c) for c in list(cols)[:2])
        more = ", ..." if len(cols) > 2 else ""
        return f"a DataFrame whose column names ({shown}{more}) are not Raman shifts"
    return (f"a DataFrame whose column names are its point positions (0 to {axis.size - 1}), "
            "not Raman shifts (pandas' default names; should they be Raman shifts from 0 "
            "cm-1, give them as wavenumbers=)")


# ----------------------------------------------------------------------------- transformers
class _StepTransformer(TransformerMixin, BaseEstimator):
    """Shared fit/transform plumbing: validation in ``fit``, fitted state ends in ``_``."""

    _needs_axis = False
    _keeps_axis = True  # the output has the input's points (not Crop, Resample)
    #: Parameters in cm-1: when set, the point index cannot stand in for the axis.
    _cm1_params: tuple[str, ...] = ()
    #: The step function ``f(X, wavenumbers, **self._params()) -> (X_out, axis_out)``.
    _step: Callable[..., tuple[Array, Array]]

    def _axis(self, n_features: int, given: Array | None = None, source: Any = None
              ) -> Array:
        """The input axis: ``wavenumbers``, else ``given`` (the axis a Spectra carries,
        :func:`fit_axis`), else the point index; ``given`` must agree with
        ``wavenumbers``. ``source``: what ``fit`` got, named in the refusal when it came
        without an axis (:func:`_no_axis`, worked out only then)."""
        wn = getattr(self, "wavenumbers", None)
        if wn is None and given is not None and given.size == n_features:
            return given
        if wn is None:
            cm1 = [k for k in self._cm1_params if getattr(self, k, None) is not None]
            if self._needs_axis or cm1:
                why = f" (its {cm1[0]} are in cm-1)" if cm1 and not self._needs_axis else ""
                raise RamancamError(
                    f"wavenumbers must be given to {type(self).__name__} (the input axis)"
                    f"{why}; got {_no_axis(source)}. Give wavenumbers=, or a Spectra or a "
                    "DataFrame headed by Raman shifts (in a Pipeline, whose later steps get a "
                    "bare array: give the first step one of these, and "
                    "make_pipeline(...).set_output(transform=\"pandas\") passes its axis "
                    "on).")
            # Without an axis the point index stands in for it (channel numbers).
            return np.arange(n_features, dtype=np.float64)
        w = check_axis(wn)
        if w.size != n_features:
            raise RamancamError(
                f"X has {n_features} points but wavenumbers has {w.size}.")
        check_axis_of(given, w, f"the wavenumbers given to {type(self).__name__}")
        return w

    def _params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _run(self, X: Array, w: Array) -> tuple[Array, Array]:
        return type(self)._step(X, w, **self._params())

    def fit(self, X: ArrayLike, y: Any = None) -> _StepTransformer:
        """Check ``X`` (n_spectra, n_points) and the parameters; returns ``self``."""
        # a DataFrame's names: feature_names_in_; NaN is named below, on the Raman-shift axis
        arr = validate_data(self, X, dtype=np.float64, ensure_all_finite=False)
        given = fit_axis(X)  # a Spectra carries its axis
        # a real axis (given, or a Spectra's), not the point index an array stands on: only
        # that one is checked against a Spectra in transform
        self.axis_known_ = getattr(self, "wavenumbers", None) is not None or given is not None
        if given is None and getattr(self, "wavenumbers", None) is None:
            given = header_axis(X)  # a DataFrame headed by Raman shifts
            # the point index stands in (channel numbers): outputs are not named as shifts
            self.axis_is_index_ = given is None
        else:
            self.axis_is_index_ = False
        w = self._axis(arr.shape[1], given, X)
        finite_on_axis(arr, w)  # scikit-learn's message suggested HistGradientBoosting
        self._params()
        self.n_features_in_ = arr.shape[1]
        self.wavenumbers_in_ = w
        return self

    def transform(self, X: ArrayLike) -> Array:
        """Apply the step: array of shape (n_spectra, n_out), float64."""
        check_is_fitted(self, "n_features_in_")
        if getattr(self, "axis_known_", True):
            check_axis_of(fit_axis(X), self.wavenumbers_in_,
                          f"the axis {type(self).__name__} was fitted on")
        try:
            arr = validate_data(self, X, dtype=np.float64, reset=False,  # names as in fit
                                ensure_all_finite=False)
        except ValueError:
            width = check_array(X, dtype=np.float64,  # its own errors come first
                                ensure_all_finite=False).shape[1]
            if width == self.n_features_in_:
                raise
            # Worded as scikit-learn words it, so that its estimator checks recognise it.
            raise RamancamError(
                f"X has {width} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (the points of the axis in fit). "
                "Resample the spectra onto that axis first.") from None
        finite_on_axis(arr, self.wavenumbers_in_)
        out, _ = self._run(arr, self.wavenumbers_in_)
        return out

    def _axis_out(self) -> Array:
        """The output axis (the input axis, for the steps that keep it)."""
        return np.asarray(self.wavenumbers_in_)

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.object_]:
        """Output column names: the output axis's Raman shifts as text (``"400.5"``), as
        wide tables head their columns; so ``set_output(transform="pandas")`` works. A step
        that keeps the axis passes ``input_features`` (default: the columns of the DataFrame
        it was fitted on) through. Without an axis (the point index stood in) they are
        scikit-learn's ``"x0"``, ``"x1"``, ..., so that a next step does not read point
        indices as Raman shifts."""
        check_is_fitted(self, "n_features_in_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is not None and self._keeps_axis:
            names = np.asarray(input_features, dtype=object)
            if names.size != self.n_features_in_:
                raise ValueError(f"input_features must have {self.n_features_in_} names; got "
                                 f"{names.size}.")
            return names
        if getattr(self, "axis_is_index_", False):
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        # 10 digits: {:g}'s 6 made 1000.005 and 1000.000 one column name
        return np.asarray([f"{v:.10g}" for v in self._axis_out()], dtype=object)


class LinearBaseline(_StepTransformer):
    """Transformer form of :func:`linear_baseline`.

    Parameters
    ----------
    wavenumbers : array-like of shape (n_points,), optional
        Input axis; default: a Spectra's or a Raman-shift-headed DataFrame's axis, else the
        point index (refused with ``regions``, which are in cm-1).
    regions : sequence of (lo, hi), optional
        Baseline regions, cm-1; ``None`` = line through the end points.
    """

    _step = staticmethod(linear_baseline)
    _cm1_params = ("regions",)

    def __init__(self, wavenumbers: ArrayLike | None = None,
                 regions: Sequence[tuple[float, float]] | None = None) -> None:
        self.wavenumbers = wavenumbers
        self.regions = regions

    def _params(self) -> dict[str, Any]:
        return {"regions": _check_regions(self.regions)}


class BaselineCorrection(_StepTransformer):
    """Transformer form of :func:`baseline` (pybaselines).

    Parameters
    ----------
    method : str
        One of :data:`BASELINE_METHODS`.
    wavenumbers : array-like of shape (n_points,), optional
        Input axis; default: a Spectra's or a Raman-shift-headed DataFrame's axis, else the
        point index.
    params : dict, optional
        Passed through to the pybaselines method.
    """

    _step = staticmethod(baseline)

    def __init__(self, method: str = "asls", wavenumbers: ArrayLike | None = None,
                 params: dict[str, Any] | None = None) -> None:
        self.method = method
        self.wavenumbers = wavenumbers
        self.params = params

    def _params(self) -> dict[str, Any]:
        from collections.abc import Mapping

        method = _check_method(self.method)
        if self.params is not None and not isinstance(self.params, Mapping):
            raise RamancamError(
                f"params of BaselineCorrection must be a dict of pybaselines' {method} "
                f"keywords; got {self.params!r}.")
        params = dict(self.params or {})
        check_params(method, params)  # as a recipe's baseline step: unknown keywords, max_iter
        return {"method": method, **params}


class Crop(_StepTransformer):
    """Transformer form of :func:`crop`; ``wavenumbers_out_`` is the kept axis.

    Parameters
    ----------
    wavenumbers : array-like of shape (n_points,), optional
        Input axis; default: a Spectra's or a Raman-shift-headed DataFrame's axis; refused
        without one.
    lo, hi : float
        Inclusive range in cm-1.
    """

    _needs_axis = True
    _keeps_axis = False
    _step = staticmethod(crop)

    def __init__(self, wavenumbers: ArrayLike | None = None, lo: float = 350.0,
                 hi: float = 1800.0) -> None:
        self.wavenumbers = wavenumbers
        self.lo = lo
        self.hi = hi

    def _params(self) -> dict[str, Any]:
        lo, hi = _check_crop(self.lo, self.hi)
        return {"lo": lo, "hi": hi}

    def fit(self, X: ArrayLike, y: Any = None) -> Crop:
        super().fit(X, y)
        p = self._params()
        self.wavenumbers_out_ = _crop(np.zeros((1, self.wavenumbers_in_.size)),
                                      self.wavenumbers_in_, ["the input axis"], **p)[1]
        return self

    def _axis_out(self) -> Array:
        return np.asarray(self.wavenumbers_out_)


class Resample(_StepTransformer):
    """Transformer form of :func:`resample`; ``grid_`` is the output axis.

    Parameters
    ----------
    wavenumbers : array-like of shape (n_points,), optional
        Input axis; default: a Spectra's or a Raman-shift-headed DataFrame's axis; refused
        without one.
    grid : (start, stop, step)
        Output grid in cm-1, inclusive (default: the paper's 350-1800 at 1).
    outside : {"error", "nearest", "zero"}
        See :func:`resample`.
    tolerance : float, optional
        See :func:`resample`.
    """

    _needs_axis = True
    _keeps_axis = False
    _step = staticmethod(resample)

    def __init__(self, wavenumbers: ArrayLike | None = None,
                 grid: tuple[float, float, float] = (350.0, 1800.0, 1.0),
                 outside: str = "error", tolerance: float | None = None) -> None:
        self.wavenumbers = wavenumbers
        self.grid = grid
        self.outside = outside
        self.tolerance = tolerance

    def _params(self) -> dict[str, Any]:
        try:
            start, stop, step = self.grid
        except (TypeError, ValueError):
            raise RamancamError(
                f"grid must be (start, stop, step); got {self.grid!r}.") from None
        return {"grid": make_grid(start, stop, step), "outside": _check_outside(self.outside),
                "tolerance": self.tolerance}

    def fit(self, X: ArrayLike, y: Any = None) -> Resample:
        super().fit(X, y)
        self.grid_ = self._params()["grid"]
        return self

    def _axis_out(self) -> Array:
        return np.asarray(self.grid_)


class Normalize(_StepTransformer):
    """Transformer form of :func:`normalize`.

    Parameters
    ----------
    method : {"max", "area", "minmax", "snv", "vector"}
    wavenumbers : array-like of shape (n_points,), optional
        Input axis, which ``"area"`` needs (an integral over cm-1): given here, or by a
        Spectra or a DataFrame headed by Raman shifts. Without one, ``"area"`` is refused:
        after Resample in a Pipeline the point index stood in, and the areas were off by
        the grid step from the recipe's.
    """

    _step = staticmethod(normalize)

    def __init__(self, method: str = "max", wavenumbers: ArrayLike | None = None) -> None:
        self.method = method
        self.wavenumbers = wavenumbers

    @property
    def _needs_axis(self) -> bool:  # type: ignore[override]
        return self.method == "area"

    def _params(self) -> dict[str, Any]:
        return {"method": _check_norm(self.method)}


class SavitzkyGolay(_StepTransformer):
    """Transformer form of :func:`savgol`.

    Parameters
    ----------
    window_length : int
    polyorder : int
    wavenumbers : array-like of shape (n_points,), optional
    """

    _step = staticmethod(savgol)

    def __init__(self, window_length: int = 11, polyorder: int = 3,
                 wavenumbers: ArrayLike | None = None) -> None:
        self.window_length = window_length
        self.polyorder = polyorder
        self.wavenumbers = wavenumbers

    def _params(self) -> dict[str, Any]:
        wl, po = _check_savgol(self.window_length, self.polyorder)
        return {"window_length": wl, "polyorder": po}


class Despike(_StepTransformer):
    """Transformer form of :func:`despike`.

    Parameters
    ----------
    threshold : float
    window : int
    wavenumbers : array-like of shape (n_points,), optional
    """

    _step = staticmethod(despike)

    def __init__(self, threshold: float = 7.0, window: int = 3,
                 wavenumbers: ArrayLike | None = None) -> None:
        self.threshold = threshold
        self.window = window
        self.wavenumbers = wavenumbers

    def _params(self) -> dict[str, Any]:
        t, m = _check_despike(self.threshold, self.window)
        return {"threshold": t, "window": m}
