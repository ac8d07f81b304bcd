"""The paper's settings of each experiment, their quick variants and the paper's claims.

``FILTERS``, ``COMMON``, ``MIXING``, ``PHARMA`` hold the paper's values (a key per setting;
any of them can be overridden by keyword); ``*_QUICK`` shrink them so that the whole set
runs in seconds. ``PAPER_CLAIMS`` is what the paper reports, quoted in each report.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "COMMON",
    "COMMON_QUICK",
    "FILTERS",
    "FILTERS_QUICK",
    "MIXING",
    "MIXING_QUICK",
    "PHARMA",
    "PHARMA_QUICK",
]

# ----------------------------------------------------------------------------- settings
#: Fig. 2: 20 training spectra per class, Adam 1e-4, 100 epochs; sizes at 64 filters and
#: counts at size 8 (the paper's values).
FILTERS: dict[str, Any] = {
    "n_train_per_class": 20, "n_test_per_class": 20, "epochs": 100, "lr": 1e-4,
    "batch_size": 32, "fc_width": 128, "sizes": (8, 16, 32, 64, 128), "size_study_filters": 64,
    "counts": (8, 16, 64, 256), "count_study_size": 8, "tol": 8.0, "window": 10.0}
FILTERS_QUICK: dict[str, Any] = {
    **FILTERS, "n_train_per_class": 8, "n_test_per_class": 4, "epochs": 4, "lr": 1e-3,
    "fc_width": 16, "sizes": (4, 16), "size_study_filters": 4, "counts": (2, 4),
    "count_study_size": 4}

#: Fig. 3: 100 training spectra per class with 3 random extra peaks; the Fig. 2 training.
COMMON: dict[str, Any] = {
    "n_train_per_class": 100, "n_test_per_class": 20, "n_random_peaks": 3, "epochs": 100,
    "lr": 1e-4, "batch_size": 32, "n_filters": 64, "filter_size": 8, "fc_width": 128,
    "tol": 8.0, "window": 10.0}
COMMON_QUICK: dict[str, Any] = {
    **COMMON, "n_train_per_class": 10, "n_test_per_class": 4, "epochs": 4, "lr": 1e-3,
    "n_filters": 4, "filter_size": 8, "fc_width": 16}

#: Section 4.3: ratio 0.1-0.5, 5 mixtures per ordered pair, Adam 1e-3, 30 epochs, 5-fold CV.
#: ``label_col``: the label column of a table of pure spectra (a folder's files are labelled
#: by their names).
#: ``fc_form``: the maps analysed and drawn (``explain.fc_importance(form=...)``); Eq. 9 as
#: written is scored too.
MIXING: dict[str, Any] = {
    "n_per_pair": 5, "ratio": (0.1, 0.5), "epochs": 30, "lr": 1e-3, "batch_size": 32,
    "folds": 5, "n_filters": 64, "filter_size": 8, "fc_width": 128, "n_partner_peaks": 3,
    "max_pure": None, "fc_form": "contribution", "label_col": None}
MIXING_QUICK: dict[str, Any] = {
    **MIXING, "n_per_pair": 2, "epochs": 2, "folds": 2, "n_filters": 4, "fc_width": 16,
    "max_pure": 5}

#: Section 4.2: 4 training spectra per class (strongest, ~1/2, ~1/3, ~1/4 of it), the rest
#: for test; Adam 1e-4, 200 epochs. Default data: drug-mabs, 400-1800 cm-1. ``labels_from``:
#: where the labels of a folder of files come from (instead of ``label_col``).
PHARMA: dict[str, Any] = {
    "fractions": (1.0, 1 / 2, 1 / 3, 1 / 4), "epochs": 200, "lr": 1e-4, "batch_size": 32,
    "n_filters": 64, "filter_size": 8, "fc_width": 128, "grid": (400.0, 1800.0, 1.0),
    "label_col": "label", "labels_from": None, "background_threshold": 0.05,
    "max_test": None}
PHARMA_QUICK: dict[str, Any] = {
    **PHARMA, "epochs": 3, "lr": 1e-3, "n_filters": 4, "fc_width": 16, "max_test": 40}

PAPER_CLAIMS = {
    "filters": "Maps focus on the peak as the filter size nears the peak width (FWHM 4 ch); "
               "more filters focus better, 64 are enough (Fig. 2).",
    "common": "Grad-CAM at the pooling layer lights up the random peaks; the FC-importance map "
              "lights up the class's defined peak (Fig. 3).",
    "mixing": "100 % accuracy (slightly above PCA+SVM); the map of a mixture shows the peaks "
              "of the labelled component and near-zero or negative values at the admixed "
              "component's peaks (Fig. 7).",
    "pharma": "100 % accuracy, slightly above PCA+SVM; maps show the strong Raman peaks and "
              "near-zero values on the background (Fig. 5).",
}
