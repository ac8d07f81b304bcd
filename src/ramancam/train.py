"""Training, cross validation and a scikit-learn classifier around :class:`RamanCNN`.

* :class:`CNNClassifier` — the paper's CNN as a scikit-learn classifier (``fit``,
  ``predict``, ``predict_proba``, ``score``); works in ``Pipeline``, ``cross_val_score`` and
  ``GridSearchCV``. Adam, softmax cross entropy on class indices (identical to the paper's
  one-hot cross entropy, Eq. 5), paper defaults (learning rate 1e-4, 100 epochs).
* :func:`make_splits` — stratified k-fold, group-aware k-fold, or a fixed train/test split.
* :func:`cross_validate` — the CNN (and, with ``compare=True``, PCA + SVM and PLS-DA) on
  exactly the same folds; returns a :class:`CVResult`.

Reproducibility: a fit with the same ``random_state`` on the same data gives bit-identical
weights on CPU at the same torch thread count (another count sums in another order: weights
differ by about 1e-8). Initialisation, shuffling, augmentation and dropout all draw from torch's
random state seeded inside :func:`torch.random.fork_rng`, so the caller's global state is left
as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._cnn_params import DEFAULT_LR
from ._cnn_params import INPUT_SCALINGS as INPUT_SCALINGS  # re-exported
from ._cnn_params import LR_SCHEDULES as LR_SCHEDULES
from ._fit_whole import fit_whole
from ._inputs import SpectraScore, check_finite, fit_axis, predict_data
from .augment import AUGMENT_PARAMS, augment_batch, choose_augment
from .errors import RamancamError
from .inner import _labels, _meta_col, check_groups, holdout, make_splits, quiet_many_classes
from .novelty import DEFAULT_METHOD, NoveltyMixin, check_class_names
from .spectra import Spectra, labels_for_fit

if TYPE_CHECKING:
    import torch

    from .model import RamanCNN

__all__ = ["CNNClassifier", "CVResult", "cross_validate", "make_splits"]

#: Largest batch used for inference, so that memory does not grow with the number of spectra.
EVAL_BATCH = 256


def _validate_data(est: BaseEstimator, X: Any, y: Any = "no_validation", *, reset: bool
                   ) -> Any:
    """scikit-learn's ``validate_data`` (new in 1.6; pyproject asks for 1.8 or later).

    ``y="no_validation"`` (scikit-learn's own sentinel) checks ``X`` only; ``y=None`` is
    refused by scikit-learn with its standard message.
    """
    # float32 and float64 arrays stay as they are; anything else (a Spectra, lists) becomes
    # float64, as train's matrices are: fit(data) and fit(data.X, ...) give one model
    kw: dict[str, Any] = {"reset": reset, "dtype": [np.float64, np.float32]}
    from sklearn.utils.validation import validate_data

    return validate_data(est, X, y, **kw)


class CNNClassifier(SpectraScore, NoveltyMixin, ClassifierMixin, BaseEstimator):
    """The paper's 1-D CNN (Fukuhara et al. 2019) as a scikit-learn classifier.

    Parameters
    ----------
    n_filters : int, default=64
        Filters per convolution layer.
    filter_size : int, default=8
        Kernel size of the convolutions.
    n_blocks : int, default=2
        Conv + LeakyReLU + max-pool blocks.
    fc_width : int, default=128
        Outputs of FC1.
    dropout : float, default=0.5
        Dropout after FC1 (training only).
    fc_activation : {"none", "leaky"}, default="none"
        Activation after FC1 (the paper names none).
    epochs : int, default=100
        Maximum passes over the training data.
    lr : float, default=1e-4
        Adam learning rate (paper: 1e-4; 1e-3 for the amino-acid mixtures).
    lr_schedule : {"constant", "cosine"}, default="constant"
        ``"constant"`` keeps ``lr`` for every epoch (the paper); ``"cosine"`` anneals it from
        ``lr`` to 0 over ``epochs`` (one step per epoch).
    batch_size : int, default=32
        Mini-batch size.
    weight_decay : float, default=0.0
        L2 penalty passed to Adam.
    validation_fraction : float, default=0.0
        Share of the training spectra held out (stratified) to monitor validation loss for
        early stopping; 0 trains on everything for ``epochs`` epochs.
    patience : int, default=10
        With ``validation_fraction > 0``: stop after this many epochs without a lower
        validation loss, and keep the weights of the best epoch.
    augment_noise : float, default=0.0
        Gaussian noise, standard deviation relative to each spectrum's maximum.
    augment_shift : int, default=0
        Largest random shift, in points (grid steps), applied per spectrum.
    augment_baseline : float, default=0.0
        Largest offset and slope of a random straight baseline, relative to the maximum.
    augment_scale : float, default=0.0
        Largest relative change of intensity scale (``1 +- augment_scale``).
    augment_select : bool, default=False
        With any ``augment_*`` amount set: decide on the training data whether to use the
        augmentation at all. Two networks, with and without it, are trained on a stratified
        80 % of the training spectra and scored on the other 20 % (``validation_fraction``
        when set); the one with the higher validation accuracy wins (a tie: the lower
        validation loss; still tied: no augmentation). The final network is then trained on
        all training spectra with the winner's setting, so a fit costs about 2.6 fits.
        The decision and its scores are in ``augment_choice_``. Augmentation helps some
        measured sets and costs accuracy on others (``docs/levers.md``), hence the choice.
    input_scaling : {"none", "center"}, default="none"
        ``"none"`` feeds the preprocessed spectra to the network as they are (the paper).
        ``"center"`` subtracts the mean training spectrum and divides by the standard
        deviation of the centred training data (one number for all points), so the network
        sees how a spectrum differs from the average one; both are fitted on the training
        data only and stored in the network (``input_mean``, ``input_scale``), so prediction
        and the explanation maps apply them too. On drug-mabs it lifts test accuracy from
        about 91 % to 95-96 % (see the README).
    bf16 : bool, default=False
        Train with the convolutions under bfloat16 autocast (FC layers, loss, gradients of the
        weights and the optimiser stay float32). On a CPU with AVX-512 BF16 or AMX a
        training step is about 1.5x faster (``docs/performance.md``); elsewhere it can be
        slower. It changes the numbers (about 3 significant digits in the activations), so it
        is off by default; the fitted network is float32 and predicts in float32 unless
        asked otherwise. ``tests/test_train.py`` checks that accuracy matches a float32 fit.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (GPU when available). Bit-identical
        repeat fits are guaranteed on CPU only.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, augmentation and dropout.
    verbose : bool, default=False
        Report the training's progress on stderr. On a terminal: a progress bar (epoch,
        loss, accuracy). Elsewhere (a notebook, a log file): at most one line a minute,
        ``training: epoch 40/100 (loss 0.4123, acc 0.871), 63 s`` (with ``val_acc`` too
        when there is a validation part), so a fit of under a minute prints nothing.
    novelty : {"hqi-nap", "hqi-halves", "hqi", "knn", "mahalanobis", "energy", "msp"} or \
None, default="hqi-nap"
        Novelty ("unknown substance") score fitted on the training spectra
        (:mod:`ramancam.novelty`; ``"hqi"``: one minus the largest correlation of the
        spectrum's first derivative with a training spectrum's, its threshold set on
        leave-one-out scores of the training spectra, so it needs no ``calibration_cv``;
        ``"hqi-halves"``, the same with the grid's two halves correlated apart and averaged;
        ``"hqi-nap"``, the default, ``"hqi-halves"`` after removing the two directions in
        which the training spectra of one class differ most).
        ``None``: no novelty detection.
    novelty_rate : float, default=0.05
        False-alarm rate on known spectra for which the novelty threshold is chosen.
    calibration_cv : int, default=0
        ``K >= 2``: after the fit, train K more networks in an inner stratified K-fold of the
        training spectra and choose the temperature (probability calibration) and the
        novelty threshold on their out-of-fold logits and scores (K more fits of
        ``(K - 1) / K`` of the data). 0: use the validation part when
        ``validation_fraction > 0``, else leave the temperature at 1 and, except for the
        model-free scores (the ``"hqi"`` family), nothing flagged, for the caller to set with
        :meth:`set_calibration` (``ramancam train`` does, from its cross-validation).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Points per spectrum seen in ``fit``.
    class_means_, class_sds_ : ndarray of shape (n_classes, n_points), float32
        Mean and standard deviation of each class's training spectra (as given to ``fit``,
        i.e. preprocessed): the reference spectra a saved model shows beside its maps.
    module_ : RamanCNN
        The fitted network, in eval mode.
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``accuracy`` (training, with dropout and augmentation),
        ``lr`` (learning rate used in that epoch) and, with a validation split,
        ``val_loss`` and ``val_accuracy``.
    n_epochs_ : int
        Epochs actually run.
    best_epoch_ : int
        Epoch whose weights were kept (the last one without early stopping).
    diverged_epoch_ : int or None
        ``None``; a fit whose loss became NaN or inf, leaving weights that are not finite,
        raises a :class:`~ramancam.errors.RamancamError` instead (lower ``lr``), except a
        fold of :func:`cross_validate`, which keeps it and records here the epoch of the
        first non-finite loss.
    fit_time_ : float
        Seconds spent in ``fit``.
    train_time_ : float
        Seconds of it spent in the training loop (the epochs).
    novelty_time_ : float
        Seconds of it spent fitting the novelty score (its reference, held-out scores).
    novelty_scorer_ : NoveltyScorer or None
        The fitted novelty score (``None`` with ``novelty=None``).
    temperature_ : float
        Softmax temperature applied by :meth:`predict_proba` (1.0 until calibrated).
    novelty_threshold_ : float
        Scores above it are unknown (``inf`` until calibrated).
    calibration_ : Calibration or None
        How temperature and threshold were chosen (held-out source, ECE before/after).
    augment_choice_ : dict or None
        With ``augment_select`` and an augmentation to choose: ``augment`` (bool, the
        decision), ``val_accuracy`` and ``val_loss`` (``{"off": .., "on": ..}``), ``n_val``
        (validation spectra) and ``fit_s`` (seconds of the two inner fits); with too few
        spectra for the inner split, ``augment`` False and ``skipped`` (the reason); else
        ``None``.
    """

    def __init__(self, n_filters: int = 64, filter_size: int = 8, n_blocks: int = 2,
                 fc_width: int = 128, dropout: float = 0.5, fc_activation: str = "none",
                 epochs: int = 100, lr: float = DEFAULT_LR, batch_size: int = 32,
                 weight_decay: float = 0.0, validation_fraction: float = 0.0,
                 patience: int = 10, augment_noise: float = 0.0, augment_shift: int = 0,
                 augment_baseline: float = 0.0, augment_scale: float = 0.0,
                 augment_select: bool = False, lr_schedule: str = "constant",
                 input_scaling: str = "none",
                 bf16: bool = False, device: str = "cpu", random_state: Any = None,
                 verbose: bool = False, novelty: str | None = DEFAULT_METHOD,
                 novelty_rate: float = 0.05, calibration_cv: int = 0) -> None:
        self.n_filters = n_filters
        self.filter_size = filter_size
        self.n_blocks = n_blocks
        self.fc_width = fc_width
        self.dropout = dropout
        self.fc_activation = fc_activation
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.augment_noise = augment_noise
        self.augment_shift = augment_shift
        self.augment_baseline = augment_baseline
        self.augment_scale = augment_scale
        self.augment_select = augment_select
        self.lr_schedule = lr_schedule
        self.input_scaling = input_scaling
        self.bf16 = bf16
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.novelty = novelty
        self.novelty_rate = novelty_rate
        self.calibration_cv = calibration_cv

    @classmethod
    def from_preset(cls, name: str = "tuned", **params: Any) -> CNNClassifier:
        """The classifier of ``ramancam train --preset NAME`` (``"tuned"``, train's default,
        or ``"paper"``; :mod:`ramancam.presets`), ``params`` overriding its settings, e.g.
        ``CNNClassifier.from_preset(random_state=0, epochs=40)``."""
        from .presets import preset_params

        return cls(**{**preset_params(name), **params})

    # ----------------------------------------------------------------- helpers
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # A few epochs on the tiny check datasets need not reach sklearn's accuracy bar.
        tags.classifier_tags.poor_score = True
        return tags

    def _check_params(self) -> None:
        from ._cnn_params import check_params

        check_params(self)

    def _config(self, n_points: int, n_classes: int) -> Any:
        from .model import CNNConfig

        # settings that cannot work on spectra this short: said, not refused (scikit-learn's
        # estimator checks fit spectra of 1 or 2 points)
        said = [f"filter_size ({self.filter_size}) is longer than the spectra ({n_points} "
                "points): each kernel sees mostly the zero padding. The default is 8 points; "
                "the paper's kernels span 4-32." if self.filter_size > n_points else "",
                f"augment_shift ({self.augment_shift} points) is as long as the spectra "
                f"({n_points} points) or longer: shifted so far, a spectrum is its edge value "
                "throughout. Band shifts between instruments are a few points."
                if self.augment_shift and self.augment_shift >= n_points else ""]
        if any(said):
            import warnings

            from .errors import RamancamWarning

            for text in filter(None, said):
                warnings.warn(RamancamWarning(text), stacklevel=4)  # (fit_whole wraps fit)
        return CNNConfig(n_points=int(n_points), n_classes=int(n_classes),
                         n_filters=self.n_filters, filter_size=self.filter_size,
                         n_blocks=self.n_blocks, fc_width=self.fc_width,
                         dropout=float(self.dropout), fc_activation=self.fc_activation)

    # --------------------------------------------------------------------- fit
    @fit_whole
    def fit(self, X: ArrayLike | Spectra, y: ArrayLike | None = None,
            groups: ArrayLike | None = None) -> CNNClassifier:
        """Train the network from scratch.

        The fitted attributes are replaced together when training has finished: a refit
        that refuses its data or is interrupted (Ctrl-C) leaves a fitted model as it was;
        so does one whose training diverged (a loss of NaN or inf, the weights no longer
        finite: ``lr`` far too large), which raises :class:`~ramancam.errors.RamancamError`.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points), or Spectra on one grid
            Preprocessed spectra, all on one grid (e.g. a recipe's output).
        y : array-like of shape (n_spectra,)
            Class labels (at least 2 classes); default: ``X.labels`` of a ``Spectra``.
        groups : array-like of shape (n_spectra,), optional
            Group of each spectrum (patient, sample, batch, map block). The novelty
            threshold's held-out scores then keep whole groups apart: leave-one-group-out
            ``hqi`` scores and ``calibration_cv`` folds by group (:mod:`ramancam.inner`).
            The network, and the augmentation decision, do not depend on it.

        Returns
        -------
        self
        """
        import torch

        from .model import RamanCNN

        t0 = time.perf_counter()
        check_finite(X)
        Xa, ya = _validate_data(self, X, labels_for_fit(X, y), reset=True)
        self.wavenumbers_in_ = fit_axis(X)  # a Spectra's axis, checked in predict
        with quiet_many_classes():
            check_classification_targets(ya)
        self._check_params()
        g = check_groups(groups, ya.shape[0])
        self.classes_, y_idx = np.unique(ya, return_inverse=True)
        if self.classes_.size < 2:
            raise RamancamError(
                f"y must hold at least 2 classes; got 1 class ({self.classes_.tolist()!r}). "
                "A classifier needs spectra of two or more classes.")
        check_class_names(self.classes_)
        rows = [Xa[y_idx == c] for c in range(self.classes_.size)]  # reference spectra
        self.class_means_ = np.stack([r.mean(0, dtype=np.float64) for r in rows]).astype(np.float32)
        self.class_sds_ = np.stack([r.std(0, dtype=np.float64) for r in rows]).astype(np.float32)
        config = self._config(Xa.shape[1], self.classes_.size)
        from .model import resolve_device

        dev = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        amounts = {k: getattr(self, k) for k in AUGMENT_PARAMS}
        self.augment_choice_: dict[str, Any] | None = None
        if self.augment_select and any(amounts.values()):
            self.augment_choice_ = choose_augment(self, Xa, ya, y_idx, seed)
            if not self.augment_choice_["augment"]:
                amounts = dict.fromkeys(AUGMENT_PARAMS, 0)

        # Tensors are built once; batches are index views, not per-spectrum copies.
        Xt = torch.from_numpy(np.array(Xa, dtype=np.float32))[:, None, :]  # own, writable
        yt = torch.as_tensor(y_idx.astype(np.int64))
        tr_idx, va_idx = self._validation_split(y_idx, seed)

        with torch.random.fork_rng(devices=[dev.index or 0] if dev.type == "cuda" else []):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            module = RamanCNN(config)
            if self.input_scaling != "none":
                module.set_input_scaling(*self._input_scaling(Xa[tr_idx]))
            module = module.to(dev)
            Xd, yd = Xt.to(dev), yt.to(dev)
            t_train = time.perf_counter()
            self._train(module, Xd, yd, tr_idx, va_idx, gen, amounts)
            self.train_time_ = time.perf_counter() - t_train
        module.eval()
        from ._diverged import diverged_epoch, diverged_error

        # a loss that became NaN or inf left weights no model file may hold: refused here,
        # not saved and then called damaged at load (a fold of cross_validate keeps it, said)
        self.diverged_epoch_ = diverged_epoch(self.history_, module)
        if self.diverged_epoch_ is not None and not getattr(self, "_keep_diverged", False):
            raise diverged_error(self.diverged_epoch_, int(self.epochs), float(self.lr))
        self.module_ = module
        self.n_features_in_ = int(Xa.shape[1])
        t_novelty = time.perf_counter()
        self._fit_novelty(Xa, ya, y_idx, tr_idx, va_idx, seed, g)
        self.novelty_time_ = time.perf_counter() - t_novelty
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _input_scaling(self, rows: NDArray[Any]) -> tuple[NDArray[np.float64], float]:
        """Input centring (``input_scaling="center"``): the mean training spectrum and one
        common scale, the standard deviation of all centred values (1 if they are all 0)."""
        fit_rows = rows.astype(np.float64)
        mean = fit_rows.mean(axis=0)
        scale = float((fit_rows - mean).std())
        return mean, scale if scale > 0 else 1.0

    def _validation_split(self, y_idx: NDArray[np.intp], seed: int,
                          fraction: float | None = None
                          ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        frac = self.validation_fraction if fraction is None else fraction
        if not frac:
            return np.arange(y_idx.size), np.arange(0)
        return holdout(y_idx, frac, seed)

    def _train(self, module: RamanCNN, X: torch.Tensor, y: torch.Tensor,
               tr_idx: NDArray[np.intp], va_idx: NDArray[np.intp],
               gen: torch.Generator, amounts: dict[str, Any]) -> None:
        import torch
        from torch.nn import functional as F

        from ._fast import adam, fast_forward
        from ._heartbeat import epoch_bar

        bf16_cpu = bool(self.bf16) and X.device.type == "cpu"
        opt = adam(module.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        tr = torch.as_tensor(tr_idx, dtype=torch.long)
        n_tr = tr.numel()
        augment = any(amounts.values())
        sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.epochs))
                 if self.lr_schedule == "cosine" else None)
        best_loss, best_state, best_epoch, waited = np.inf, None, 0, 0
        self.history_: list[dict[str, float]] = []
        bar = epoch_bar(int(self.epochs), bool(self.verbose))  # a line a minute in logs
        epoch = 0
        for epoch in bar:
            module.train()
            order = tr[torch.randperm(n_tr, generator=gen)].to(X.device)
            loss_sum = torch.zeros((), device=X.device)
            correct = torch.zeros((), device=X.device, dtype=torch.long)
            for start in range(0, n_tr, int(self.batch_size)):
                b = order[start:start + int(self.batch_size)]
                xb, yb = X[b], y[b]
                if augment:
                    xb = augment_batch(xb, noise=float(amounts["augment_noise"]),
                                       shift=int(amounts["augment_shift"]),
                                       baseline=float(amounts["augment_baseline"]),
                                       scale=float(amounts["augment_scale"]), gen=gen)
                if bf16_cpu:
                    logits = fast_forward(module, xb, bf16=True)
                else:
                    with torch.autocast(X.device.type, dtype=torch.bfloat16,
                                        enabled=bool(self.bf16)):
                        logits = module(xb)
                # Cross entropy on class indices == Eq. (5) with one-hot targets.
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                # Accumulated on the device: no host sync per batch.
                loss_sum += loss.detach() * b.numel()
                correct += (logits.detach().argmax(1) == yb).sum()
            rec = {"epoch": float(epoch), "loss": float(loss_sum) / n_tr,
                   "accuracy": float(correct) / n_tr, "lr": opt.param_groups[0]["lr"]}
            if sched is not None:
                sched.step()
            if va_idx.size:
                vl, va = _evaluate(module, X, y, torch.as_tensor(va_idx, dtype=torch.long))
                rec.update(val_loss=vl, val_accuracy=va)
                if vl < best_loss:
                    best_loss, best_epoch, waited = vl, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                else:
                    waited += 1
            self.history_.append(rec)
            bar.set_postfix(loss=f"{rec['loss']:.4f}", acc=f"{rec['accuracy']:.3f}",
                            **({"val_acc": f"{rec['val_accuracy']:.3f}"} if va_idx.size
                               else {}))
            if va_idx.size and waited >= int(self.patience):
                break
        bar.close()
        self.n_epochs_ = epoch
        if best_state is not None:
            module.load_state_dict(best_state)
            self.best_epoch_ = best_epoch
        else:
            self.best_epoch_ = epoch

    # ----------------------------------------------------------------- predict
    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Softmax class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_spectra, n_points)

        Returns
        -------
        ndarray of shape (n_spectra, n_classes)
            Columns in the order of ``classes_``; calibrated
            (``softmax(logits / temperature_)``) once a temperature is set.
        """
        check_is_fitted(self, "module_")
        Xa = predict_data(self, X, lambda: _validate_data(self, X, reset=False))
        return predict_proba_module(self.module_, Xa,
                                    temperature=getattr(self, "temperature_", 1.0))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Most probable class of each spectrum, shape (n_spectra,)."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[proba.argmax(axis=1)])

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class logits (scores before softmax).

        Returns
        -------
        ndarray of shape (n_spectra, n_classes), or (n_spectra,) for two classes
            For two classes, scikit-learn's convention: the logit difference
            ``z_1 - z_0`` (positive favours ``classes_[1]``).
        """
        check_is_fitted(self, "module_")
        Xa = predict_data(self, X, lambda: _validate_data(self, X, reset=False))
        z = predict_proba_module(self.module_, Xa, logits=True)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z


def predict_proba_module(module: RamanCNN, X: NDArray[Any], *, batch_size: int = EVAL_BATCH,
                         logits: bool = False, bf16: bool = False, temperature: float = 1.0
                         ) -> NDArray[np.float64]:
    """Batched inference with a fitted network; memory is bounded by ``batch_size``.

    Parameters
    ----------
    module : RamanCNN
        Fitted network (switched to eval mode).
    X : ndarray of shape (n_spectra, n_points)
    batch_size : int
        Spectra per forward pass (<= 256 by default).
    logits : bool
        Return logits instead of softmax probabilities.
    bf16 : bool
        Run the convolutions under bfloat16 autocast (:func:`ramancam._fast.fast_forward`):
        about 1.5x faster on CPUs with AVX-512 BF16 or AMX, but the logits change in the
        third significant digit. Off by default.
    temperature : float
        Softmax temperature (probabilities are ``softmax(logits / temperature)``).

    Returns
    -------
    ndarray of shape (n_spectra, n_classes), float64
    """
    import torch

    module.eval()
    dev = next(module.parameters()).device
    n = X.shape[0]
    out = np.empty((n, module.config.n_classes), dtype=np.float64)
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            xb = torch.from_numpy(np.array(X[start:start + batch_size],
                                           dtype=np.float32)).to(dev)
            if bf16:
                from ._fast import fast_forward

                z = fast_forward(module, xb, bf16=True)
            else:
                z = module(xb)
            if not logits:
                z = torch.softmax(z.double() / float(temperature), dim=1)  # rows sum to 1
            out[start:start + batch_size] = z.double().cpu().numpy()
    return out


def _evaluate(module: RamanCNN, X: torch.Tensor, y: torch.Tensor, idx: torch.Tensor
              ) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``module`` on ``X[idx]`` (eval mode, batched)."""
    import torch
    from torch.nn import functional as F

    was_training = module.training
    module.eval()
    loss, correct = 0.0, 0
    with torch.inference_mode():
        for start in range(0, idx.numel(), EVAL_BATCH):
            b = idx[start:start + EVAL_BATCH].to(X.device)
            z = module(X[b])
            loss += float(F.cross_entropy(z, y[b], reduction="sum"))
            correct += int((z.argmax(1) == y[b]).sum())
    module.train(was_training)
    n = max(idx.numel(), 1)
    return loss / n, correct / n


# ------------------------------------------------------------------ splits / CV
def fold_sd(accuracies: ArrayLike) -> float:
    """Sample standard deviation (ddof 1) of fold accuracies; 0 for a single fold."""
    a = np.asarray(accuracies, dtype=np.float64)
    return float(a.std(ddof=1)) if a.size > 1 else 0.0


@dataclass
class CVResult:
    """Cross-validation results (out-of-fold predictions, per-fold and pooled scores).

    Attributes
    ----------
    classes : list of str
        Class names, sorted; the order of ``oof_proba`` columns and ``confusion`` rows.
    fold_accuracy : list of float
        CNN test accuracy of each fold.
    confusion : ndarray of shape (n_classes, n_classes)
        Counts over all tested spectra: row = true class, column = predicted class.
    oof_pred : ndarray of shape (n_spectra,)
        Out-of-fold predicted label (``""`` for spectra never tested, e.g. the training part
        of a fixed split).
    oof_proba : ndarray of shape (n_spectra, n_classes)
        Out-of-fold probabilities (NaN where never tested).
    fold_of : ndarray of shape (n_spectra,)
        Fold (0-based) in which each spectrum was tested; -1 if never.
    labels : ndarray of shape (n_spectra,)
        True label of each spectrum, in the order of the spectra given.
    baselines : dict of str to list of float
        Fold accuracies of the comparison models on the same folds (empty without compare).
    models : list of CNNClassifier
        Fitted fold models (only with ``keep_models=True``).
    fold_sizes : list of (int, int)
        Training and test spectra of each fold.
    kind : {"kfold", "group", "split", "spatial"}
        How the folds were made: stratified k-fold, grouped, a fixed split column, or
        spatial blocks of a map.
    oof_logits : ndarray of shape (n_spectra, n_classes)
        Out-of-fold logits (NaN where never tested), for calibration.
    oof_novelty : ndarray of shape (n_spectra,)
        Out-of-fold novelty scores, each from a scorer fitted on that fold's training part
        (NaN where never tested or without novelty detection).
    augment_chosen : list of bool or None
        Per fold, whether the fold's network decided to train with augmentation
        (``augment_select``); ``None`` where there was nothing to decide.
    fold_thresholds : list of float
        Per fold, the fold model's own novelty threshold (``novelty_threshold_``: ``inf``
        where too few held-out spectra set none); NaN where the fold model chose none of its
        own (a score that needs held-out networks, without a validation part, or no novelty).
    fold_diverged : list of int or None
        Per fold, the epoch in which the CNN's training diverged (its loss NaN or inf, its
        weights no longer finite; its accuracy is that of such a network, its out-of-fold
        logits NaN), ``None`` where it did not.
    """

    classes: list[str]
    fold_accuracy: list[float]
    confusion: NDArray[np.int64]
    oof_pred: NDArray[np.str_]
    oof_proba: NDArray[np.float64]
    fold_of: NDArray[np.int64]
    labels: NDArray[np.str_]
    baselines: dict[str, list[float]] = field(default_factory=dict)
    models: list[CNNClassifier] = field(default_factory=list)
    fold_sizes: list[tuple[int, int]] = field(default_factory=list)
    kind: str = "kfold"
    oof_logits: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0)))
    oof_novelty: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    augment_chosen: list[bool | None] = field(default_factory=list)
    fold_thresholds: list[float] = field(default_factory=list)
    fold_diverged: list[int | None] = field(default_factory=list)

    def __repr__(self) -> str:
        """A summary (the dataclass's printed every per-spectrum array: 20,000 characters
        for 999 spectra)."""
        folds = len(self.fold_accuracy)
        scores = [f"CNN {self.mean:.3f} +- {self.std:.3f}", *(
            f"{k} {np.mean(v):.3f} +- {fold_sd(v):.3f}" for k, v in self.baselines.items())]
        return (f"CVResult({folds} fold{'' if folds == 1 else 's'} ({self.kind}), "
                f"{int((self.fold_of >= 0).sum())} of {len(self.fold_of)} spectra tested, "
                f"{len(self.classes)} classes; {', '.join(scores)})")

    @property
    def mean(self) -> float:
        """Mean fold accuracy."""
        return float(np.mean(self.fold_accuracy))

    @property
    def std(self) -> float:
        """Sample standard deviation of the fold accuracies (0 for a single fold)."""
        return fold_sd(self.fold_accuracy)

    @property
    def precision(self) -> dict[str, float]:
        """Per-class precision over all tested spectra (NaN when a class is never predicted)."""
        col = self.confusion.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.diag(self.confusion) / col
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}

    @property
    def recall(self) -> dict[str, float]:
        """Per-class recall over all tested spectra (NaN when a class is never tested)."""
        row = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.diag(self.confusion) / row
        return {c: float(v) for c, v in zip(self.classes, r, strict=True)}

    @property
    def accuracy(self) -> float:
        """Accuracy pooled over all tested spectra."""
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else float("nan")

    def table_rows(self) -> tuple[list[str], list[list[Any]]]:
        """The accuracy table ``ramancam train`` prints, as columns and rows: ``fold, train,
        test`` and one column per model (the CNN first), one row per fold (accuracies as
        floats), then, with more than one fold, ``mean +- sd`` with ``"0.975+-0.026"``
        texts."""
        names = ["CNN", *self.baselines]
        cols = [self.fold_accuracy, *self.baselines.values()]
        rows: list[list[Any]] = [[k + 1, n_tr, n_te, *(float(c[k]) for c in cols)]
                                 for k, (n_tr, n_te) in enumerate(self.fold_sizes)]
        if len(self.fold_sizes) > 1:
            summ = {"CNN": (self.mean, self.std), **self.baseline_summary()}
            rows.append(["mean +- sd", "", "",
                         *(f"{summ[n][0]:.3f}+-{summ[n][1]:.3f}" for n in names)])
        return ["fold", "train", "test", *names], rows

    def baseline_summary(self) -> dict[str, tuple[float, float]]:
        """``name -> (mean, sd)`` of each comparison model's fold accuracies."""
        out = {}
        for k, v in self.baselines.items():
            out[k] = (float(np.mean(v)), fold_sd(v))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (NaN written as ``None``); models and probabilities omitted."""
        def clean(d: dict[str, float]) -> dict[str, float | None]:
            return {k: (None if not np.isfinite(v) else v) for k, v in d.items()}

        return {
            "kind": self.kind,
            "classes": list(self.classes),
            "n_folds": len(self.fold_accuracy),
            "fold_sizes": [list(map(int, s)) for s in self.fold_sizes],
            "fold_accuracy": [float(a) for a in self.fold_accuracy],
            "augment_chosen": list(self.augment_chosen),
            "fold_diverged": list(self.fold_diverged),
            "mean": self.mean,
            "std": self.std,
            "pooled_accuracy": None if not np.isfinite(self.accuracy) else self.accuracy,
            "confusion": self.confusion.astype(int).tolist(),
            "precision": clean(self.precision),
            "recall": clean(self.recall),
            "baselines": {k: [float(a) for a in v] for k, v in self.baselines.items()},
            "baseline_summary": {k: {"mean": m, "std": s}
                                 for k, (m, s) in self.baseline_summary().items()},
            "fold_of": self.fold_of.astype(int).tolist(),
            "oof_pred": self.oof_pred.tolist(),
        }


def _baseline_models(seed: int) -> dict[str, Any]:
    try:
        from .baselines import PCASVM, PLSDA, LibrarySearch
    except ImportError as exc:
        raise RamancamError(
            f"compare must be False while ramancam.baselines is unavailable; got compare=True "
            f"({exc}). Pass compare=False (--no-compare).") from None
    return {"PCA+SVM": PCASVM(random_state=seed), "PLS-DA": PLSDA(random_state=seed),
            "library": LibrarySearch()}


def cross_validate(spectra: Spectra, *, estimator_params: dict[str, Any] | None = None,
                   folds: int = 5, group_col: str | None = None, split_col: str | None = None,
                   train_value: Any = "train", seed: int = 0, compare: bool = True,
                   keep_models: bool = False,
                   progress: Callable[[int, int, float], None] | None = None,
                   splits: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]] | None = None,
                   groups: ArrayLike | None = None,
                   fold_inputs: Mapping[int, Any] | None = None,
                   diverged: Callable[[int, int, int], None] | None = None) -> CVResult:
    """Cross-validate the CNN (and the baselines) on preprocessed spectra.

    Parameters
    ----------
    spectra : Spectra
        Labelled spectra on one common grid (already preprocessed).
    estimator_params : dict, optional
        Keyword arguments of :class:`CNNClassifier`; ``random_state`` defaults to ``seed``.
    folds, group_col, split_col, train_value, seed
        Passed to :func:`make_splits`.
    compare : bool
        Also fit ``ramancam.baselines.PCASVM()``, ``PLSDA()`` and ``LibrarySearch()`` (columns
        ``PCA+SVM``, ``PLS-DA``, ``library``) on exactly the same folds and the same ``X``;
        their fold accuracies go to ``CVResult.baselines``.
    keep_models : bool
        Keep the fitted fold models in ``CVResult.models``.
    progress : callable, optional
        Called after each fold as ``progress(fold_number, n_folds, cnn_accuracy)``
        (``fold_number`` starts at 1).
    splits : sequence of (train_idx, test_idx), optional
        Ready-made folds (e.g. :func:`ramancam.maps.folds.spatial_splits`) used instead of
        :func:`make_splits`; ``CVResult.kind`` is then ``"spatial"``.
    groups : array-like of shape (n_spectra,), optional
        Group of each spectrum for every fold's fit (``CNNClassifier.fit(...,
        groups=...)``: its novelty scores); defaults to the values of ``group_col``. Give
        the map blocks with ready-made spatial ``splits``.

    fold_inputs : mapping of fold index to inputs, optional
        Folds with inputs of their own (``ramancam train``: where the fold's training part
        alone chooses another recipe or grid than all spectra did): objects with ``X``
        (every spectrum on the fold's grid) and ``usable`` (bool per spectrum); the fold's
        test spectra that are not usable count as errors of every model (``fold_of`` -1: no
        prediction).
    diverged : callable, optional
        Called for a fold whose CNN training diverged (a loss of NaN or inf: ``lr`` far too
        large), before ``progress``, as ``diverged(fold_number, n_folds, epoch)``. The fold
        is kept, its accuracy that of a network of non-finite weights, and recorded in
        ``CVResult.fold_diverged``; by default a :class:`~ramancam.errors.RamancamWarning`
        says it (a single fit refuses such a network: ``CNNClassifier.fit`` raises).

    Returns
    -------
    CVResult
    """
    from sklearn.base import clone

    labels = _labels(spectra)
    given = splits is not None
    g = check_groups(_meta_col(spectra, group_col) if groups is None and group_col
                     else groups, labels.size)
    if splits is None:
        splits = make_splits(spectra, folds=folds, group_col=group_col, split_col=split_col,
                             train_value=train_value, seed=seed)
    baselines = _baseline_models(seed) if compare else {}
    # Fold models are not calibrated on their own: their out-of-fold logits and novelty
    # scores (oof_logits, oof_novelty) are what calibrates the final model.
    params = {"random_state": seed, **(estimator_params or {}), "calibration_cv": 0}
    classes = sorted(set(labels.tolist()))
    col_of = {c: i for i, c in enumerate(classes)}
    n = labels.size
    oof_pred = np.full(n, "", dtype=object)
    oof_proba = np.full((n, len(classes)), np.nan)
    fold_of = np.full(n, -1, dtype=np.int64)
    result = CVResult(classes=classes, fold_accuracy=[], confusion=np.zeros(
        (len(classes), len(classes)), dtype=np.int64), oof_pred=oof_pred.astype(str),
        oof_proba=oof_proba, fold_of=fold_of, labels=labels,
        baselines={k: [] for k in baselines},
        kind="spatial" if given else
        "split" if split_col is not None else ("group" if group_col else "kfold"),
        oof_logits=np.full((n, len(classes)), np.nan), oof_novelty=np.full(n, np.nan))
    for k, (tr, te) in enumerate(splits):
        X, n_test = spectra.X, te.size
        if fold_inputs is not None and k in fold_inputs:
            X, usable = fold_inputs[k].X, np.asarray(fold_inputs[k].usable)
            tr, te = tr[usable[tr]], te[usable[te]]  # unusable test spectra: errors
        est = CNNClassifier(**params)
        est._keep_diverged = True  # its accuracy reported as it is, and the fold said
        est.fit(X[tr], labels[tr], groups=None if g is None else g[tr])
        right = 0
        if te.size:  # (a fold whose test spectra its own recipe cannot use scores 0)
            proba = est.predict_proba(X[te])
            cols = [col_of[str(c)] for c in est.classes_]
            full = np.zeros((te.size, len(classes)))
            full[:, cols] = proba
            z, nov = est.held_out_outputs(X[te])
            result.oof_logits[te] = -np.inf  # a class missing from this fold's training part
            result.oof_logits[np.ix_(te, np.asarray(cols, dtype=np.intp))] = z
            if nov is not None:
                result.oof_novelty[te] = nov
            pred = est.classes_[proba.argmax(axis=1)].astype(str)
            oof_proba[te] = full
            oof_pred[te] = pred
            fold_of[te] = k
            right = int(np.sum(pred == labels[te]))
        acc = right / n_test
        result.fold_accuracy.append(acc)
        result.fold_diverged.append(est.diverged_epoch_)
        if est.diverged_epoch_ is not None:
            from ._diverged import say_fold_diverged

            say_fold_diverged(diverged, k + 1, len(splits), est, est.diverged_epoch_)
        result.fold_sizes.append((int(tr.size), int(n_test)))
        choice = est.augment_choice_
        result.augment_chosen.append(None if choice is None or choice.get("skipped")
                                     else bool(choice["augment"]))
        # the threshold the fold model would judge its test spectra by (the leave-one-out
        # one of the hqi scores, or its validation part's), if it chose one
        own = est.calibration_ is not None or est.novelty_held_out_ is not None
        result.fold_thresholds.append(float(est.novelty_threshold_) if own else float("nan"))
        for name, base in baselines.items():
            b = clone(base).fit(X[tr], labels[tr])
            result.baselines[name].append(float(np.sum(
                np.asarray(b.predict(X[te])).astype(str) == labels[te]) / n_test)
                if te.size else 0.0)
        if keep_models:
            result.models.append(est)
        if progress is not None:
            progress(k + 1, len(splits), acc)
    tested = fold_of >= 0
    ti = np.array([col_of[c] for c in labels[tested]], dtype=np.intp)
    pi = np.array([col_of[c] for c in oof_pred[tested]], dtype=np.intp)
    np.add.at(result.confusion, (ti, pi), 1)
    result.oof_pred = oof_pred.astype(str)
    return result

