"""Preprocessing steps, the recorded :class:`Recipe` that chains them, and the paper's chain.

Every step exists in three forms:

* a plain function on arrays, ``step(X, wavenumbers, **params) -> (X_new, wavenumbers_new)``
  with ``X`` of shape (n_spectra, n_points) and ``wavenumbers`` of shape (n_points,);
* a scikit-learn transformer (``BaseEstimator`` + ``TransformerMixin``) on ``X`` alone; the
  input axis is a constructor parameter (``wavenumbers``), required by the steps that change
  the grid (:class:`Crop`, :class:`Resample`);
* a named step of a :class:`Recipe`, which records the step names and every parameter as
  JSON so that a saved model applies exactly the same preprocessing at prediction time.

Conventions shared by all steps
-------------------------------
* Inputs are never modified; outputs are new arrays.
* Output intensities are always **float64** (float32 or integer input is promoted), because
  the spline solve and the normalisation denominators lose digits in float32; the model casts
  to float32 itself.
* Axes may be ascending or descending and unevenly spaced. Steps that keep the grid keep the
  caller's order (a reversed axis gives the reversed result). :func:`resample` always returns
  intensities on its ascending grid.
* Expected failures raise :class:`ramancam.errors.RamancamError` naming the spectrum (its
  source file when known, else its index).

The paper's chain (Fukuhara et al. 2019, section 2.1; METHOD.md section 1) is
:func:`paper_recipe`: linear baseline through the end points, cubic-spline resampling onto
350-1800 cm-1 at 1 cm-1 (1451 points), normalisation to the maximum.

Modules
-------
* :mod:`~ramancam.preprocess.steps` -- the step functions on arrays and :func:`make_grid`;
* :mod:`~ramancam.preprocess.baselines` -- the pybaselines step (:func:`baseline`);
* :mod:`~ramancam.preprocess.recipe` -- :class:`Step`, :class:`Recipe` (JSON form),
  :data:`STEPS`, :func:`paper_recipe`, :func:`baseline_recipe`;
* :mod:`~ramancam.preprocess.transformers` -- the scikit-learn transformers (imported on
  first use of one of their names, as are scipy's interpolation and filters by the steps);
* :mod:`~ramancam.preprocess.auto` -- what ``ramancam train`` does by default:
  :func:`auto_grid` (the paper's grid narrowed to the data), :func:`full_grid`,
  :func:`auto_recipe` (the paper's recipe, or asls where its straight baseline fails);
* :mod:`~ramancam.preprocess.operators` -- precomputed sparse resampling operators for many
  spectra on one axis (used by :func:`resample`; :func:`~.operators.batching` switches them);
* ``_validation`` (private) -- input checks shared by all of them.

Every public name is importable from ``ramancam.preprocess`` itself; import it from there.
A new step goes into ``steps.py`` (function, checks, kernel), gets a ``_StepKind`` in
``recipe.py`` and a transformer in ``transformers.py``.
"""

from typing import TYPE_CHECKING, Any

from .auto import PAPER_GRID, auto_grid, auto_recipe, full_grid
from .baselines import baseline
from .recipe import STEPS, Recipe, Step, baseline_recipe, paper_recipe
from .steps import (
    NORMALIZATIONS,
    OUTSIDE_POLICIES,
    crop,
    despike,
    linear_baseline,
    make_grid,
    normalize,
    resample,
    savgol,
)

__all__ = [
    "BASELINE_METHODS",
    "NORMALIZATIONS",
    "OUTSIDE_POLICIES",
    "PAPER_GRID",
    "STEPS",
    "BaselineCorrection",
    "Crop",
    "Despike",
    "LinearBaseline",
    "Normalize",
    "Recipe",
    "Resample",
    "SavitzkyGolay",
    "Step",
    "auto_grid",
    "auto_recipe",
    "baseline",
    "baseline_recipe",
    "crop",
    "despike",
    "full_grid",
    "linear_baseline",
    "make_grid",
    "normalize",
    "paper_recipe",
    "resample",
    "savgol",
]

if TYPE_CHECKING:
    from .baselines import BASELINE_METHODS
    from .transformers import (
        BaselineCorrection,
        Crop,
        Despike,
        LinearBaseline,
        Normalize,
        Resample,
        SavitzkyGolay,
    )

#: The scikit-learn transformers, imported on first use: scikit-learn (and pandas, which it
#: imports) took 0.9 s of ``ramancam info MODEL``'s 3.4 s, which only checks the recipe.
_TRANSFORMERS = frozenset({"BaselineCorrection", "Crop", "Despike", "LinearBaseline",
                           "Normalize", "Resample", "SavitzkyGolay"})


def __getattr__(name: str) -> Any:
    if name == "BASELINE_METHODS":  # listed on first use: it imports pybaselines
        from . import baselines

        return baselines.BASELINE_METHODS
    if name in _TRANSFORMERS:
        from . import transformers

        return getattr(transformers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "BASELINE_METHODS", *_TRANSFORMERS})
