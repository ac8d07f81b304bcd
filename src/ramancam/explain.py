"""Explanation maps for :class:`~ramancam.model.RamanCNN` (Fukuhara et al. 2019, section 2.2).

Two maps from the paper, both computed at the last pooling layer and brought back to the
input grid:

* :func:`grad_cam` -- Grad-CAM (Eqs. 6-7);
* :func:`fc_importance` -- the paper's FC-importance map (Eqs. 8-9), signed.

Notation (METHOD.md section 3): ``A[k, x]`` is the output of the last pooling layer (channel
``k``, pooled position ``x``), ``Fw[k, x, l]`` the FC1 weight from flattened feature ``(k, x)``
to FC1 output ``l``, ``h`` the FC1 pre-activation output and ``y^c`` the score of class ``c``
(the logit by default, or the softmax probability).

Both maps are computed in closed form from one forward pass through the convolutional part:
everything after the last pooling layer is FC1 -> [LeakyReLU] -> (dropout, identity at
inference) -> FC2 [-> softmax], whose derivatives are known exactly, so all classes come from
the same batched tensor products instead of one backward pass per class.
:func:`fc_importance_autograd` follows Eq. 8 literally with autograd (gradient of the score with
respect to ``fc1.weight``) and serves as the reference in tests and benchmarks.

For comparison, :func:`captum_map` wraps captum's IntegratedGradients, Saliency, Occlusion and
LayerGradCam on the same interface. :func:`explain` is the one entry point used by the command
line: it resolves targets (predicted, true, a named class, all) and the method.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._pooled import pooled_centres, to_input_grid
from .errors import RamancamError, named_error

if TYPE_CHECKING:
    import torch

    from .model import RamanCNN

__all__ = [
    "CAPTUM_METHODS",
    "FC_FORMS",
    "METHODS",
    "band_free",
    "band_window",
    "captum_map",
    "explain",
    "fc_importance",
    "fc_importance_autograd",
    "grad_cam",
    "method_options",
    "pooled_centres",
    "predict_proba",
    "to_input_grid",
    "top_bands",
]

SCORES = ("logit", "prob")
NORMALIZE = ("none", "maxabs")
FC_FORMS = ("eq9", "contribution")
CAPTUM_METHODS = ("ig", "ig-bands", "saliency", "occlusion", "layergradcam")
#: Half window of the SNIP band stripping that makes ``"ig-bands"``'s reference, in cm-1
#: (:func:`band_free`; the command line converts it to grid points).
BAND_HALF_WINDOW_CM = 20.0
METHODS = ("fc", "gradcam", *CAPTUM_METHODS)
DEFAULT_BATCH = 256
#: The target words of :func:`explain` and what each maps; a class named like one of them
#: is the target ``CLASS_PREFIX + name`` (``"class:true"``).
TARGET_WORDS = {"predicted": "each spectrum's predicted class",
                "true": "each spectrum's labelled class", "all": "every class"}
CLASS_PREFIX = "class:"


# --------------------------------------------------------------------------- validation

def _check_model(model: Any) -> RamanCNN:
    from .model import RamanCNN

    if not isinstance(model, RamanCNN):
        raise TypeError(
            f"model must be a ramancam.model.RamanCNN; got {type(model).__name__}. "
            "Load a trained model with ramancam.bundle.load(...).model or use "
            "CNNClassifier.module_.")
    return model


def _check_X(model: RamanCNN, X: ArrayLike) -> NDArray[np.float32]:
    n_points = model.config.n_points
    try:
        arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError):
        raise RamancamError(
            "X must be numbers of shape (n_spectra, n_points); got values that are not "
            "numbers. Pass the preprocessed intensity matrix.") from None
    if arr.ndim != 2:
        raise RamancamError(
            f"X must be 2-D of shape (n_spectra, {n_points}); got shape {arr.shape}. "
            "Use X[None, :] for a single spectrum.")
    if arr.shape[1] != n_points:
        raise RamancamError(
            f"X must have {n_points} points per spectrum (the model's input length); got "
            f"{arr.shape[1]}. Preprocess the spectra onto the model's grid first.")
    if not np.isfinite(arr).all():
        i, j = (int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        raise RamancamError(
            f"X must be finite; got {arr[i, j]} in spectrum {i} at point {j}. Remove or "
            "interpolate missing values.")
    # torch.from_numpy warns on a read-only array (a Spectra's X, frozen): a copy then
    return arr if arr.flags.writeable else arr.copy()


def _check_target(target: ArrayLike | None, n: int, n_classes: int
                  ) -> NDArray[np.int64] | None:
    if target is None:
        return None
    t = np.asarray(target)
    if t.ndim == 0:
        t = np.full(n, t)
    if t.shape != (n,):
        raise RamancamError(
            f"target must be None or an integer array of shape ({n},); got shape {t.shape}. "
            "Give one class index per spectrum, or None for all classes.")
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(np.isfinite(t)) and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise RamancamError(
                f"target must hold integer class indices; got dtype {t.dtype}. Map class "
                "names to indices first, or use explain(..., target=NAME).")
    if n and (t.min() < 0 or t.max() >= n_classes):
        bad = int(t[(t < 0) | (t >= n_classes)][0])
        raise RamancamError(
            f"target must be class indices in 0..{n_classes - 1}; got {bad}. Check the class "
            "order of the model.")
    return t.astype(np.int64)


def _check_call(model: Any, X: ArrayLike, target: ArrayLike | None
                ) -> tuple[RamanCNN, NDArray[np.float32], NDArray[np.int64] | None]:
    """The checked model, spectra and target of a map function, in that order."""
    model = _check_model(model)
    arr = _check_X(model, X)
    return model, arr, _check_target(target, arr.shape[0], model.config.n_classes)


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise RamancamError(
            f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}.")
    return str(value)


def _positive_int(name: str, v: Any) -> int:
    """``v`` as an int when it is a positive integer (numpy's too, not a bool)."""
    if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
        raise RamancamError(f"{name} must be a positive integer; got {v!r}.")
    return int(v)


def _check_batch(batch_size: Any) -> int:
    return _positive_int("batch_size", batch_size)


# --------------------------------------------------------------------------- grid

def _normalize(maps: NDArray[Any], how: str) -> NDArray[Any]:
    if how == "none":
        return maps
    scale = np.abs(maps).max(axis=-1, keepdims=True)
    # a map that is zero everywhere stays zero rather than becoming NaN
    scale[scale == 0] = 1
    out: NDArray[Any] = maps / scale
    return out


# --------------------------------------------------------------------------- torch helpers

class _EvalMode:
    """Put a model in eval mode and restore its train/eval mode afterwards."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.was_training = self.model.training
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was_training)


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _param_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _head_gradients(model: RamanCNN, A: torch.Tensor, score: str
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form ``g[n, c, l] = d y^c / d h_l`` for all classes, and the logits.

    With FC1 linear the logit's gradient is ``W2[c, l]``; a LeakyReLU after FC1 multiplies it
    by the activation's derivative at ``h`` (1 above zero, ``alpha`` otherwise, as torch
    defines it at 0). For softmax scores the chain rule goes through the softmax Jacobian
    ``d p_c / d z_j = p_c (delta_cj - p_j)``. Dropout is the identity at inference.
    """
    import torch

    n = A.shape[0]
    h = model.fc1(A.reshape(n, -1))                              # (n, L)
    w2 = model.fc2.weight                                        # (C, L)
    if model.config.fc_activation == "leaky":
        alpha = model.config.alpha
        deriv = torch.where(h > 0, torch.ones_like(h), torch.full_like(h, alpha))
        act = torch.nn.functional.leaky_relu(h, alpha)
        g = w2.unsqueeze(0) * deriv.unsqueeze(1)                 # (n, C, L)
    else:
        act = h
        g = w2.unsqueeze(0).expand(n, -1, -1)
    logits = model.fc2(act)                                      # (n, C)
    if score == "prob":
        p = torch.softmax(logits, dim=1)
        jac = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)   # (n, C, C)
        g = torch.bmm(jac, g)
    return g, logits


def _fc_weight_xkl(model: RamanCNN, n_pooled: int) -> torch.Tensor:
    """FC1's weight as ``Fw[x, k, l]`` (pooled position major), for batched products over x."""
    w1 = model.fc1.weight                                        # (L, K * X), flatten is k-major
    n_out = w1.shape[0]
    return w1.reshape(n_out, -1, n_pooled).permute(2, 1, 0).contiguous()


def _pooled_maps(model: RamanCNN, X: NDArray[np.float32], target: NDArray[np.int64] | None,
                 score: str, batch_size: int, kind: str, relu: bool = True,
                 form: str = "eq9") -> NDArray[np.float32]:
    """FC-importance (``kind="fc"``) or Grad-CAM (``kind="gradcam"``) at pooled resolution."""
    import torch

    from ._fast import features_for_maps

    device = _param_device(model)
    n = X.shape[0]
    n_classes = model.config.n_classes
    n_pooled = model.pooled_length
    shape: tuple[int, ...] = (n, n_pooled) if target is not None else (n, n_classes, n_pooled)
    out = np.empty(shape, dtype=np.float32)
    with _EvalMode(model), torch.inference_mode():
        if kind == "fc":
            fw = _fc_weight_xkl(model, n_pooled)                 # (X, K, L)
        else:
            # Eq. 6: alpha_k = mean_x dy/dA[k, x] = sum_l g_l mean_x Fw[k, x, l]
            w1 = model.fc1.weight
            fw_mean = w1.reshape(w1.shape[0], -1, n_pooled).mean(dim=2)   # (L, K)
        for sl in _batches(n, batch_size):
            xb = torch.from_numpy(X[sl]).to(device).unsqueeze(1)
            A = features_for_maps(model, model.scale_input(xb))  # (b, K, X)
            g, _ = _head_gradients(model, A, score)              # (b, C, L)
            if target is not None:
                idx = torch.from_numpy(target[sl]).to(device)
                g = g[torch.arange(g.shape[0], device=device), idx].unsqueeze(1)  # (b, 1, L)
            if kind == "fc":
                # P[x, n, l] = sum_k A[n, k, x] Fw[k, x, l], shared by every class
                P = torch.bmm(A.permute(2, 0, 1), fw)            # (X, b, L)
                # Eq. 8 with dy/dFw[k,x,l] = g_l A[k,x]: beta_l = g_l * sum_{k,x} A[k,x]
                s = A.sum(dim=(1, 2))                            # (b,)
                # Eq. 9: M_x = sum_l beta_l P[x, l]
                m = torch.bmm(g, P.permute(1, 2, 0))             # (b, C', X)
                if form == "eq9":
                    m = m * s[:, None, None]
            else:
                alpha = torch.matmul(g, fw_mean)                 # (b, C', K)
                m = torch.bmm(alpha, A)                          # Eq. 7 before the ReLU
                if relu:
                    m = torch.relu(m)
            res = m.float().cpu().numpy()
            out[sl] = res[:, 0] if target is not None else res
    return out


# --------------------------------------------------------------------------- public maps

def _finish(model: RamanCNN, pooled: NDArray[np.float32], normalize: str
            ) -> NDArray[np.float32]:
    maps = to_input_grid(pooled, model.config.n_points, model.config.n_blocks,
                         model.config.filter_size)
    return _normalize(maps, normalize)


def fc_importance(model: RamanCNN, X: ArrayLike, target: ArrayLike | None = None, *,
                  score: str = "logit", normalize: str = "none", form: str = "eq9",
                  batch_size: int = DEFAULT_BATCH, pooled: bool = False
                  ) -> NDArray[np.float32]:
    """The paper's FC-importance map (Eqs. 8-9), signed, on the input grid.

    ``beta_l^c = sum_{k,x} d y^c / d Fw[k, x, l]`` (Eq. 8) and
    ``M^c_x = sum_k A[k, x] * sum_l beta_l^c Fw[k, x, l]`` (Eq. 9). Because
    ``d y^c / d Fw[k, x, l] = g_l A[k, x]`` with ``g_l = d y^c / d h_l``, Eq. 8 is
    ``beta_l^c = g_l * sum(A)``, and Eq. 9 becomes
    ``M^c_x = sum(A) * sum_l g_l P[x, l]`` with ``P[x, l] = sum_k A[k, x] Fw[k, x, l]``
    shared by all classes: every class costs one small matrix product, not a backward pass.
    The result equals :func:`fc_importance_autograd` (Eq. 8 by autograd) to float precision.

    Parameters
    ----------
    model : RamanCNN
        The network; its train/eval mode is restored afterwards and no gradient is stored on
        its parameters.
    X : array-like of shape (n_spectra, n_points)
        Preprocessed spectra on the model's grid.
    target : array-like of int of shape (n_spectra,), optional
        Class index explained for each spectrum. ``None`` (default) explains all classes.
    score : {"logit", "prob"}
        The class score ``y^c``: the logit (default) or the softmax probability.
    normalize : {"none", "maxabs"}
        ``"none"`` (default) reports the raw Eq. 9 values (their scale grows with
        ``sum(A)``); ``"maxabs"`` divides each map by its largest absolute value, so maps of
        different spectra are comparable (range -1..1, sign kept).
    form : {"eq9", "contribution"}
        ``"eq9"`` (default) is Eq. 9 as written. Its factor ``sum(A)`` (from Eq. 8) is one
        number per spectrum, and with LeakyReLU features it can be negative: then the whole
        map changes sign and bands that raise the class score come out negative (measured on
        the amino-acid mixtures: ``sum(A) < 0`` for 91 % of the spectra in one model).
        ``"contribution"`` leaves that factor out: ``sum_k A[k, x] d y^c / d A[k, x]``, the
        share of the class score owed to pooled position ``x`` (gradient x activation; with
        ``fc_activation="none"`` and the logit score the map sums over ``x`` to the logit
        minus the constant ``W2 b1 + b2``). Its sign always means "raises the score".
    batch_size : int
        Spectra per batch (memory grows linearly with it).
    pooled : bool
        Return the maps at pooled resolution (no interpolation, no normalisation); for tests.

    Returns
    -------
    ndarray of float32
        Shape (n_spectra, n_points) when ``target`` is given, (n_spectra, n_classes,
        n_points) when it is None (with ``n_pooled`` instead of ``n_points`` when ``pooled``).
        Positive values support class ``c``, negative ones argue against it. Pooled position
        ``x`` is placed at the centre of its receptive field
        (:func:`ramancam._pooled.pooled_centres`: ``4 x + 3`` for the default two blocks of
        kernel 8, ``4 x + 1.5`` for odd kernels) and the maps are linearly interpolated
        between those points; input points beyond the first or last centre take the end
        value (clamped as :func:`numpy.interp` does).

    Raises
    ------
    RamancamError
        If ``X`` has the wrong shape or non-finite values, ``target`` is not one valid class
        index per spectrum, or an option is not one of its allowed values.
    TypeError
        If ``model`` is not a :class:`~ramancam.model.RamanCNN`.
    """
    model, arr, t = _check_call(model, X, target)
    _check_choice("score", score, SCORES)
    _check_choice("normalize", normalize, NORMALIZE)
    _check_choice("form", form, FC_FORMS)
    m = _pooled_maps(model, arr, t, score, _check_batch(batch_size), "fc", form=form)
    return m if pooled else _finish(model, m, normalize)


def grad_cam(model: RamanCNN, X: ArrayLike, target: ArrayLike | None = None, *,
             score: str = "logit", relu: bool = True, normalize: str = "none",
             batch_size: int = DEFAULT_BATCH, pooled: bool = False) -> NDArray[np.float32]:
    """Grad-CAM at the last pooling layer (Eqs. 6-7), on the input grid.

    ``alpha_k^c = mean_x d y^c / d A[k, x]`` (Eq. 6) and
    ``L^c_x = ReLU(sum_k alpha_k^c A[k, x])`` (Eq. 7). The gradient is taken in closed form
    (``d y^c / d A[k, x] = sum_l g_l Fw[k, x, l]``), so its mean over ``x`` is
    ``sum_l g_l mean_x Fw[k, x, l]`` and all classes come from one product. Equal to captum's
    ``LayerGradCam`` on ``model.last_pool`` to float precision.

    Parameters
    ----------
    model, X, target, score, normalize, batch_size, pooled
        As in :func:`fc_importance`.
    relu : bool
        Apply the ReLU of Eq. 7 (default, as in the paper); ``False`` gives the signed map.

    Returns
    -------
    ndarray of float32
        Shape (n_spectra, n_points) or (n_spectra, n_classes, n_points), interpolated to the
        input grid as in :func:`fc_importance`.

    Raises
    ------
    RamancamError, TypeError
        As in :func:`fc_importance`.
    """
    model, arr, t = _check_call(model, X, target)
    _check_choice("score", score, SCORES)
    _check_choice("normalize", normalize, NORMALIZE)
    m = _pooled_maps(model, arr, t, score, _check_batch(batch_size), "gradcam", relu=relu)
    return m if pooled else _finish(model, m, normalize)


class _PerSampleFC1:
    """Forward hook giving every spectrum its own copy of FC1's weight.

    The hook replaces FC1's output by ``h_n = W_n a_n + b`` with ``W_n`` a per-spectrum copy
    of ``fc1.weight``; since spectrum ``n`` only touches ``W_n``, the gradient of
    ``sum_n y_n`` with respect to ``W`` is, row by row, exactly the per-spectrum gradient of
    Eq. 8 (one backward pass for a whole batch instead of one per spectrum).
    """

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight                                     # (b, L, K * X)

    def __call__(self, module: torch.nn.Module, inputs: tuple[torch.Tensor, ...],
                 output: torch.Tensor) -> torch.Tensor:
        import torch

        bias = getattr(module, "bias", None)
        h = torch.bmm(self.weight, inputs[0].unsqueeze(2)).squeeze(2)
        return h + bias if isinstance(bias, torch.Tensor) else h


def fc_importance_autograd(model: RamanCNN, X: ArrayLike, target: ArrayLike | None = None,
                           *, score: str = "logit", batch_size: int = 16,
                           pooled: bool = False) -> NDArray[np.float32]:
    """Reference FC-importance map: Eq. 8 literally, by autograd, one backward pass per class.

    For each class, ``beta_l = sum_{k,x} d y^c / d Fw[k, x, l]`` is read from the gradient of
    the class score with respect to ``fc1.weight`` (a per-spectrum copy of it, see the
    source), then Eq. 9 is applied as written. Slow and memory hungry (a full copy of FC1's
    weight per spectrum in the batch); use :func:`fc_importance`, which it validates.

    Parameters
    ----------
    model, X, target, score, pooled
        As in :func:`fc_importance` (no normalisation: raw Eq. 9 values).
    batch_size : int
        Spectra per backward pass.

    Returns
    -------
    ndarray of float32
        As :func:`fc_importance` with ``normalize="none"``.

    Raises
    ------
    RamancamError, TypeError
        As in :func:`fc_importance`.
    """
    import torch

    model, arr, t = _check_call(model, X, target)
    n = arr.shape[0]
    n_classes = model.config.n_classes
    _check_choice("score", score, SCORES)
    batch_size = _check_batch(batch_size)
    device = _param_device(model)
    n_pooled = model.pooled_length
    out = np.empty((n, n_classes, n_pooled) if t is None else (n, n_pooled), dtype=np.float32)
    w1 = model.fc1.weight.detach()
    with _EvalMode(model):
        for sl in _batches(n, batch_size):
            xb = torch.from_numpy(arr[sl]).to(device).unsqueeze(1)
            b = xb.shape[0]
            with torch.no_grad():
                A = model.features(model.scale_input(xb))  # (b, K, X)
            fw = w1.reshape(w1.shape[0], -1, n_pooled)           # Fw as (L, K, X)
            classes = range(n_classes) if t is None else [None]
            for c in classes:
                W = w1.unsqueeze(0).repeat(b, 1, 1).requires_grad_(True)
                handle = model.fc1.register_forward_hook(_PerSampleFC1(W))
                try:
                    z = model(xb)
                finally:
                    handle.remove()
                y = torch.softmax(z, dim=1) if score == "prob" else z
                if c is None:
                    idx = torch.from_numpy(t[sl]).to(device)     # type: ignore[index]
                    ysel = y[torch.arange(b, device=device), idx]
                else:
                    ysel = y[:, c]
                (gw,) = torch.autograd.grad(ysel.sum(), W)       # (b, L, K * X)
                beta = gw.sum(dim=2)                             # Eq. 8, (b, L)
                m = torch.einsum("nkx,nl,lkx->nx", A, beta, fw)  # Eq. 9
                res = m.detach().float().cpu().numpy()
                if c is None:
                    out[sl] = res
                else:
                    out[sl, c] = res
    if pooled:
        return out
    return to_input_grid(out, model.config.n_points, model.config.n_blocks,
                         model.config.filter_size)


# --------------------------------------------------------------------------- captum

def _score_forward(model: RamanCNN, score: str) -> Callable[[torch.Tensor], torch.Tensor]:
    import torch

    if score == "prob":
        return lambda x: torch.softmax(model(x), dim=1)
    return model


def band_free(X: ArrayLike, half_window: int = 20) -> NDArray[np.float32]:
    """Each spectrum with its Raman bands stripped: pybaselines' SNIP (Ryan et al. 1988) with
    a largest half window of ``half_window`` points, the reference of ``"ig-bands"``.

    SNIP lowers every point to the mean of its neighbours ``w`` points away whenever that mean
    is lower, for ``w`` up to ``half_window``: peaks narrower than about twice the half window
    are removed, the broad background under them stays. Flattening a band (the deletion test
    of :func:`ramancam.metrics.deletion_test`) changes a spectrum the same way.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Spectra on one evenly spaced grid.
    half_window : int
        Largest SNIP half window in points (20 cm-1 on the paper's 1 cm-1 grid).

    Returns
    -------
    ndarray of float32 of shape (n_spectra, n_points)

    Raises
    ------
    RamancamError
        If ``X`` is not 2-D or ``half_window`` is not a positive integer.
    """
    from pybaselines import Baseline

    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise RamancamError(f"X must have shape (n_spectra, n_points >= 3); got {arr.shape}.")
    w = min(_positive_int("half_window", half_window), (arr.shape[1] - 1) // 2)
    fitter = Baseline(np.arange(arr.shape[1], dtype=np.float64))
    out = np.empty(arr.shape, dtype=np.float32)
    for i, row in enumerate(arr):
        out[i] = fitter.snip(row, max_half_window=w)[0]
    return out


def band_window(grid: ArrayLike) -> int:
    """``"ig-bands"``'s SNIP half window in points for an evenly spaced ``grid`` (cm-1):
    :data:`BAND_HALF_WINDOW_CM` divided by the step, at least 2 points."""
    g = np.asarray(grid, dtype=np.float64)
    step = float(np.median(np.diff(g))) if g.size > 1 else 1.0
    return max(2, round(BAND_HALF_WINDOW_CM / abs(step))) if step else 2


def method_options(method: str, grid: ArrayLike, fc_form: str = "contribution"
                   ) -> dict[str, Any]:
    """The options :func:`explain` needs for ``method`` on a model with this ``grid``
    (``form`` for ``"fc"``, ``band_window`` for ``"ig-bands"``), as the command line and the
    tiled map path pass them."""
    if method == "fc":
        return {"form": fc_form}
    if method == "ig-bands":
        return {"band_window": band_window(grid)}
    return {}


def captum_map(model: RamanCNN, X: ArrayLike, target: ArrayLike | None = None, *,
               method: str = "ig", score: str = "logit", normalize: str = "none",
               batch_size: int = 64, ig_steps: int = 32, occlusion_window: int = 16,
               occlusion_stride: int = 8, relu: bool = True, band_window: int = 20
               ) -> NDArray[np.float32]:
    """Comparison maps from captum on the interface of :func:`fc_importance`.

    Methods: ``"ig"`` IntegratedGradients (zero baseline, ``ig_steps`` steps); ``"ig-bands"``
    IntegratedGradients from the same spectrum with its bands stripped (:func:`band_free`,
    half window ``band_window`` points): each point's share of ``y^c(x) - y^c(x_0)``, the
    score the Raman bands add on top of their own background, at input resolution (the maps
    sum over the grid to that difference, up to the ``ig_steps`` quadrature); ``"saliency"``
    the signed input gradient ``d y^c / d X`` (captum's ``Saliency`` with ``abs=False``; take
    ``np.abs`` for the classic unsigned saliency); ``"occlusion"`` the score drop when a
    window of ``occlusion_window`` points (stride ``occlusion_stride``) is set to zero;
    ``"layergradcam"`` captum's ``LayerGradCam`` on ``model.last_pool``, interpolated like
    :func:`grad_cam` (which it equals). captum explains one target per call, so all classes
    cost one call per class.

    Parameters
    ----------
    model, X, target, score, normalize
        As in :func:`fc_importance`.
    method : {"ig", "ig-bands", "saliency", "occlusion", "layergradcam"}
    batch_size : int
        Spectra per captum call.
    ig_steps, occlusion_window, occlusion_stride, band_window : int
        Method settings (see above).
    relu : bool
        ``"layergradcam"`` only: apply the ReLU of Eq. 7.

    Returns
    -------
    ndarray of float32
        Shape (n_spectra, n_points) or (n_spectra, n_classes, n_points).

    Raises
    ------
    RamancamError, TypeError
        As in :func:`fc_importance`, and for an unknown ``method``.
    """
    import torch
    from captum.attr import IntegratedGradients, LayerGradCam, Occlusion, Saliency

    model, arr, t = _check_call(model, X, target)
    n = arr.shape[0]
    n_classes = model.config.n_classes
    _check_choice("method", method, CAPTUM_METHODS)
    _check_choice("score", score, SCORES)
    _check_choice("normalize", normalize, NORMALIZE)
    batch_size = _check_batch(batch_size)
    ig_steps, occlusion_window, occlusion_stride, band_window = (
        _positive_int(name, v) for name, v in (
            ("ig_steps", ig_steps), ("occlusion_window", occlusion_window),
            ("occlusion_stride", occlusion_stride), ("band_window", band_window)))
    device = _param_device(model)
    fwd = _score_forward(model, score)
    width = model.pooled_length if method == "layergradcam" else model.config.n_points
    out = np.empty((n, n_classes, width) if t is None else (n, width), dtype=np.float32)
    with _EvalMode(model):
        for sl in _batches(n, batch_size):
            xb = torch.from_numpy(arr[sl]).to(device).unsqueeze(1)
            if method in ("ig", "ig-bands", "saliency"):
                xb.requires_grad_(True)   # captum warns when it has to set this itself
            base: Any = 0.0
            if method == "ig-bands":
                base = torch.from_numpy(band_free(arr[sl], band_window)).to(device).unsqueeze(1)
            b = xb.shape[0]
            targets = ([torch.from_numpy(t[sl]).to(device)] if t is not None else
                       [torch.full((b,), c, dtype=torch.long, device=device)
                        for c in range(n_classes)])
            for ci, tg in enumerate(targets):
                if method in ("ig", "ig-bands"):
                    attr = IntegratedGradients(fwd).attribute(
                        xb, baselines=base, target=tg, n_steps=ig_steps,
                        internal_batch_size=max(b, 1) * 4)
                elif method == "saliency":
                    attr = Saliency(fwd).attribute(xb, target=tg, abs=False)
                elif method == "occlusion":
                    attr = Occlusion(fwd).attribute(
                        xb, sliding_window_shapes=(1, occlusion_window),
                        strides=(1, occlusion_stride), baselines=0.0, target=tg,
                        perturbations_per_eval=4)
                else:
                    attr = LayerGradCam(fwd, model.last_pool).attribute(
                        xb, target=tg, relu_attributions=relu)
                res = attr.detach().float().cpu().numpy()[:, 0]
                if t is not None:
                    out[sl] = res
                else:
                    out[sl, ci] = res
    if method == "layergradcam":
        out = to_input_grid(out, model.config.n_points, model.config.n_blocks,
                            model.config.filter_size)
    return _normalize(out, normalize)


# --------------------------------------------------------------------------- explain

def _logits(model: RamanCNN, X: NDArray[np.float32], batch_size: int) -> NDArray[np.float32]:
    import torch

    device = _param_device(model)
    out = np.empty((X.shape[0], model.config.n_classes), dtype=np.float32)
    with _EvalMode(model), torch.inference_mode():
        for sl in _batches(X.shape[0], batch_size):
            out[sl] = model(torch.from_numpy(X[sl]).to(device)).float().cpu().numpy()
    return out


def predict_proba(model: RamanCNN, X: ArrayLike, *, batch_size: int = DEFAULT_BATCH
                  ) -> NDArray[np.float32]:
    """Softmax class probabilities of ``X``, shape (n_spectra, n_classes), in eval mode."""
    model = _check_model(model)
    z = _logits(model, _check_X(model, X), _check_batch(batch_size)).astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def _class_index(name: Any, class_names: Sequence[str] | None, n_classes: int,
                 what: str) -> int:
    names = None if class_names is None else [str(c) for c in class_names]
    if np.ndim(name) > 0:  # a class per spectrum, as only target="true" takes them
        raise RamancamError(
            f"{what} must be one class for every spectrum (a class index"
            f"{'' if names is None else ' or name'}) or 'predicted', 'true' or 'all'; got "
            f"{np.size(name)} values ({type(name).__name__}). For a class per spectrum, "
            f"pass target='true' and those classes as y.")
    if names is not None and str(name) in names:
        return names.index(str(name))
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if 0 <= int(name) < n_classes:
            return int(name)
        raise RamancamError(
            f"{what} must be a class index in 0..{n_classes - 1}; got {int(name)}.")
    if isinstance(name, str) and names is None and name.lstrip("-").isdigit():
        return _class_index(int(name), None, n_classes, what)
    shown = name.item() if isinstance(name, np.generic) else name
    if names is None:
        raise RamancamError(
            f"{what} must be a class index in 0..{n_classes - 1} when class_names is not "
            f"given; got {shown!r}. Pass class_names (the model's classes, in its output "
            "order) to name a class, or give its index.")
    raise RamancamError(
        f"{what} must be one of the model's classes ({', '.join(names)}); got {shown!r}. "
        f"Check the spelling, or give the class's index (0..{n_classes - 1}).")


def target_class(target: str, class_names: Sequence[str]) -> str | None:
    """The class of ``class_names`` that ``target`` names: ``NAME`` for ``"class:NAME"``,
    ``target`` for a class name that is not one of the words (:data:`TARGET_WORDS`); else
    ``None`` (a word, or no class)."""
    names = [str(c) for c in class_names]
    if target.startswith(CLASS_PREFIX) and target[len(CLASS_PREFIX):] in names:
        return target[len(CLASS_PREFIX):]
    return target if target in names and target not in TARGET_WORDS else None


def check_target(target: str, class_names: Sequence[str]) -> None:
    """Refuse a target that is both one of the words and a class name: :func:`explain`
    takes the word, which the user of a model with a class 'true' may not mean."""
    if target in TARGET_WORDS and target in [str(c) for c in class_names]:
        raise named_error(lambda n: (
            f"{n('target')} must name one thing; got {target}, both the keyword "
            f"({TARGET_WORDS[target]}) and one of the model's classes. Give "
            f"{n('target', CLASS_PREFIX + target)} for the class."))


def explain(model: RamanCNN, X: ArrayLike, *, method: str = "fc", target: Any = "predicted",
            score: str = "logit", y: ArrayLike | None = None,
            class_names: Sequence[str] | None = None, normalize: str = "none",
            batch_size: int = DEFAULT_BATCH, **options: Any
            ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Maps of one method for a choice of target classes, one row per map.

    Parameters
    ----------
    model : RamanCNN
    X : array-like of shape (n_spectra, n_points)
        Preprocessed spectra on the model's grid.
    method : {"fc", "gradcam", "ig", "ig-bands", "saliency", "occlusion", "layergradcam"}
        ``"fc"`` :func:`fc_importance` (default), ``"gradcam"`` :func:`grad_cam`, the others
        :func:`captum_map` (``"ig-bands"``: the input-resolution map that passes the deletion
        test, docs/realdata.md).
    target : "predicted", "true", "all", a class name, "class:NAME" or a class index
        Which class each map explains: the predicted class (default), the true class
        (needs ``y``), every class, or one fixed class. The words "predicted", "true" and
        "all" take precedence over class names; "class:NAME" names the class NAME, also
        one named like a word (with ``class_names``).
    score : {"logit", "prob"}
    y : array-like of shape (n_spectra,), optional
        True labels for ``target="true"``: class names (with ``class_names``) or indices.
    class_names : sequence of str, optional
        Class names in the model's output order.
    normalize : {"none", "maxabs"}
        As in :func:`fc_importance`.
    batch_size : int
        Spectra per batch.
    **options
        Passed to the method's function (e.g. ``form`` for the FC-importance map, ``relu``
        for Grad-CAM, ``ig_steps``).

    Returns
    -------
    maps : ndarray of float32 of shape (n_rows, n_points)
        ``n_rows = n_spectra``, or ``n_spectra * n_classes`` for ``target="all"`` (row ``r``
        explains spectrum ``r // n_classes`` for class ``r % n_classes``).
    targets : ndarray of int of shape (n_rows,)
        The class index each row explains.

    Raises
    ------
    RamancamError
        For an unknown method, score or target, ``target="true"`` without ``y`` or with
        labels that are not classes of the model, and the errors of :func:`fc_importance`.
    """
    model = _check_model(model)
    arr = _check_X(model, X)
    n = arr.shape[0]
    n_classes = model.config.n_classes
    _check_choice("method", method, METHODS)
    _check_choice("score", score, SCORES)
    batch_size = _check_batch(batch_size)
    if class_names is not None and len(class_names) != n_classes:
        raise RamancamError(
            f"class_names must name the model's {n_classes} classes; got {len(class_names)} "
            "names.")
    tsel: NDArray[np.int64] | None
    if isinstance(target, str) and target == "all":
        tsel = None
    elif isinstance(target, str) and target == "predicted":
        tsel = _logits(model, arr, batch_size).argmax(axis=1).astype(np.int64)
    elif isinstance(target, str) and target == "true":
        if y is None:
            raise RamancamError(
                "y must be given for target='true'; got None. Pass the true labels, or use "
                "target='predicted'.")
        yy = np.asarray(y)
        if yy.shape != (n,):
            raise RamancamError(
                f"y must have one label per spectrum, shape ({n},); got shape {yy.shape}.")
        tsel = np.array([_class_index(v.item() if isinstance(v, np.generic) else v,
                                      class_names, n_classes, "y")
                         for v in yy], dtype=np.int64)
    else:
        named = (target_class(target, class_names) if isinstance(target, str)
                 and class_names is not None else None)
        tsel = np.full(n, _class_index(target if named is None else named, class_names,
                                       n_classes, "target"), dtype=np.int64)
    fn: Callable[..., Any] = (fc_importance if method == "fc" else
                              grad_cam if method == "gradcam" else captum_map)
    takes = set(inspect.signature(fn).parameters) - {"model", "X", "target", "score",
                                                     "normalize", "batch_size", "method"}
    if bad := sorted(set(options) - takes):
        raise RamancamError(
            f"options must be ones method {method!r} takes ({', '.join(sorted(takes))}); got "
            f"{', '.join(map(repr, bad))}. method_options(method, grid) gives each method's.")
    if method == "fc":
        maps = fc_importance(model, arr, tsel, score=score, normalize=normalize,
                             batch_size=batch_size, **options)
    elif method == "gradcam":
        maps = grad_cam(model, arr, tsel, score=score, normalize=normalize,
                        batch_size=batch_size, **options)
    else:
        maps = captum_map(model, arr, tsel, method=method, score=score, normalize=normalize,
                          batch_size=min(batch_size, 64), **options)
    if tsel is None:
        return (maps.reshape(n * n_classes, maps.shape[-1]),  # pooled=True: fewer points
                np.tile(np.arange(n_classes, dtype=np.int64), n))
    return maps, tsel


def top_bands(axis: ArrayLike, signed_map: ArrayLike, *, k: int = 5, sign: int = 1,
              min_distance: float = 10.0) -> list[tuple[float, float]]:
    """The ``k`` strongest bands of one map: where it peaks most, on the Raman-shift axis.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
        The map's Raman shifts (the model's grid).
    signed_map : array-like of shape (n_points,)
    k : int
        Bands to return at most.
    sign : {1, -1}
        1: bands that support the class (positive map values); -1: bands that argue
        against it (the most negative values).
    min_distance : float
        Peaks closer than this (cm-1) count as one band (the taller one).

    Returns
    -------
    list of (shift, value)
        Strongest first; ``value`` is the map at the peak divided by the map's largest
        absolute value (so 1.0 is the strongest point of the whole map). Empty when the map
        has no value of that sign.
    """
    from scipy.signal import find_peaks

    x = np.asarray(axis, dtype=np.float64)
    m = np.asarray(signed_map, dtype=np.float64)
    if x.ndim != 1 or m.shape != x.shape:
        raise RamancamError(f"axis and signed_map must be 1-D of one length; got shapes "
                            f"{x.shape} and {m.shape}.")
    if sign not in (1, -1):
        raise RamancamError(f"sign must be 1 or -1; got {sign!r}.")
    scale = float(np.max(np.abs(m))) if m.size else 0.0
    if scale == 0.0 or k < 1:
        return []
    v = sign * m / scale
    step = float(np.median(np.abs(np.diff(x)))) if x.size > 1 else 1.0
    dist = max(1, round(min_distance / step)) if step > 0 else 1
    # the ends count as peaks too (a band at the edge of the grid)
    padded = np.r_[-np.inf, v, -np.inf]
    peaks, _ = find_peaks(padded, height=1e-12, distance=dist)
    peaks = peaks - 1
    order = peaks[np.argsort(-v[peaks], kind="stable")][:k]
    return [(float(x[i]), float(sign * v[i])) for i in order]
