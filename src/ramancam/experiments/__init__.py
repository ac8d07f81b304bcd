"""The paper's experiments (Fukuhara et al. 2019, sections 4.1-4.3) as functions.

Each experiment is a function ``(out_dir, *, seed=0, quick=False, ...) -> dict`` that trains
and explains what the paper did, writes its figures (PNG), ``metrics.json`` and one
self-contained ``report.html`` into ``out_dir``, and returns the numbers it measured:

* :func:`filters` -- filter size and count vs. the map on the peak-position set (Fig. 2);
* :func:`common` -- Grad-CAM vs. the FC-importance map on the common-component set (Fig. 3);
* :func:`mixing` -- numerical mixtures of measured pure spectra (section 4.3, Fig. 7);
* :func:`pharma` -- a labelled real set with 4 training spectra per class chosen by signal
  level (section 4.2, Fig. 5);
* :func:`all_experiments` -- everything above with one combined report (``reproduce all``).

``quick=True`` shrinks every experiment (fewer spectra, epochs, filters and settings) so that
the whole set runs in seconds; its numbers test the plumbing, not the paper's claims. The
paper's settings are the module constants ``FILTERS``, ``COMMON``, ``MIXING`` and ``PHARMA``;
the quick ones ``*_QUICK``.

Randomness: the training set, the test set and the network initialisation draw from separate
streams of one seed (``numpy.random.default_rng([seed, k])``), so the same seed gives the same
numbers and a different test set is never the training set re-drawn.

Progress of long steps goes to stderr.

Modules
-------
One module per experiment -- :mod:`~ramancam.experiments.filters`,
:mod:`~ramancam.experiments.common`, :mod:`~ramancam.experiments.mixing`,
:mod:`~ramancam.experiments.pharma` -- each with its public function and its private worker;
:mod:`~ramancam.experiments.settings` the settings and the paper's claims;
:mod:`~ramancam.experiments.suite` :func:`all_experiments`, :data:`EXPERIMENTS` and
:func:`run`; ``_shared`` (private) the plumbing they share (output folder, report, CNN,
comparison models, map scores, :func:`default_data`). Import the public names from
``ramancam.experiments`` itself: the package attributes ``filters``, ``common``, ``mixing``
and ``pharma`` are the functions (``import ramancam.experiments.common as m`` gives the
function too; use ``from ramancam.experiments.common import ...`` or ``sys.modules`` for
the module). A new experiment is a new module here plus an entry in ``EXPERIMENTS``.
"""

from ._shared import default_data, jsonable
from .common import common
from .filters import filters
from .mixing import mixing
from .pharma import pharma
from .settings import (
    COMMON,
    COMMON_QUICK,
    FILTERS,
    FILTERS_QUICK,
    MIXING,
    MIXING_QUICK,
    PHARMA,
    PHARMA_QUICK,
)
from .suite import EXPERIMENTS, all_experiments, run

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
