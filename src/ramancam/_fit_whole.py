"""A ``fit`` whose fitted state is set all at once, when it has finished.

``CNNClassifier.fit`` and the baselines' set ``classes_``, ``n_features_in_``,
``wavenumbers_in_`` and ``history_`` on the estimator while they checked the data and
trained; a refit that refused its data (one class) or was interrupted (Ctrl-C) left a
fitted model whose class names, width or history no longer matched its network: ``predict``
raised a bare IndexError or named the new classes with the old network's outputs.
:func:`fit_whole` makes ``fit`` work on a copy and hand its state over only on success.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _fitted(name: str) -> bool:
    """scikit-learn's rule for a fitted attribute (``check_is_fitted``): a trailing ``_``."""
    return name.endswith("_") and not name.startswith("__")


#: The instance attribute that records which fitted attributes the last whole fit made.
_MADE = "_fit_whole_made"


def fit_whole(fit: F) -> F:
    """Decorate ``fit(self, ...)``: run it on a copy of ``self`` without the fitted
    attributes the last such fit made (parameters shared, so a ``RandomState`` given as
    ``random_state`` is drawn from as before) and give ``self`` the copy's attributes in one
    assignment once it returns. A refit that raises, or is interrupted, leaves ``self``
    exactly as it was. Fitted attributes that a subclass's ``fit`` sets before it calls
    ``super().fit(...)`` were not made by the decorated fit: they are kept."""

    @functools.wraps(fit)
    def whole(self: Any, *args: Any, **kwargs: Any) -> Any:
        stale = set(vars(self).get(_MADE, ()))
        work = object.__new__(type(self))
        work.__dict__.update((k, v) for k, v in vars(self).items()
                             if k != _MADE and k not in stale)
        before = {k: v for k, v in vars(work).items() if _fitted(k)}
        fit(work, *args, **kwargs)
        state = dict(vars(work))
        # made (or set anew) by this fit: left out of the next refit's copy
        state[_MADE] = tuple(sorted(k for k, v in state.items()
                                    if _fitted(k) and (k not in before or v is not before[k])))
        self.__dict__ = state
        return self

    return whole  # type: ignore[return-value]
