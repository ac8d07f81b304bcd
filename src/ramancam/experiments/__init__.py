"""The paper's experiments (Fukuhara et al. 2019, sections 4.1-4.3) as functions.

The code lives in :mod:`ramancam.experiments._shared`; this package re-exports its public names.
"""

from ._shared import (
    COMMON,
    COMMON_QUICK,
    EXPERIMENTS,
    FILTERS,
    FILTERS_QUICK,
    MIXING,
    MIXING_QUICK,
    PHARMA,
    PHARMA_QUICK,
    all_experiments,
    common,
    default_data,
    filters,
    jsonable,
    mixing,
    pharma,
    run,
)

__all__ = [
    "COMMON",
    "COMMON_QUICK",
    "EXPERIMENTS",
    "FILTERS",
    "FILTERS_QUICK",
    "MIXING",
    "MIXING_QUICK",
    "PHARMA",
    "PHARMA_QUICK",
    "all_experiments",
    "common",
    "default_data",
    "filters",
    "jsonable",
    "mixing",
    "pharma",
    "run",
]
