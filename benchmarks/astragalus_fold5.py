"""One fold of one realdata row, fitted alone: the default CNN (seed 1) on astragalus's
fifth stratified fold (seed 0 folds, as ``benchmarks/realdata.py`` makes them), printing the
inner augmentation decision of ``--augment auto`` and the fold's test accuracy.

Usage (about 80 s on one core)::

    .venv/bin/python benchmarks/astragalus_fold5.py
    # the code of another commit, e.g. the one that added realdata-run16.json:
    git worktree add /tmp/old be9f034 && PYTHONPATH=/tmp/old/src \\
        .venv/bin/python benchmarks/astragalus_fold5.py

Written to tell whether a changed realdata row (docs/realdata.md, last section) came from a
change of the code: the same decision and accuracy at both commits say it did not. (Its
documented 0.9375 was measured with the file's padding read as data; since 2026-12-06 night
the reader leaves the padding out, and today's code fits other inputs here.)
"""

from __future__ import annotations

import sys
import time

import torch

from realdata import SETS, _train_args  # the row's reading and options, as realdata has them


def main() -> int:
    from ramancam.cli._common import prepare_labelled
    from ramancam.cli.train import estimator_params
    from ramancam.train import CNNClassifier, make_splits

    torch.set_num_threads(1)
    spec = next(s for s in SETS if s.name == "astragalus")
    args = _train_args(spec.options)
    _, _, data = prepare_labelled(args, spec.load(), "for training")
    tr, te = make_splits(data, folds=5, seed=0)[4]
    t0 = time.perf_counter()
    est = CNNClassifier(**{**estimator_params(args), "verbose": False, "random_state": 1})
    est.fit(data.X[tr], data.labels[tr])
    acc = float((est.predict(data.X[te]) == data.labels[te]).mean())
    choice = dict(est.augment_choice_ or {})
    print(f"augmentation chosen: {choice.get('augment')}; inner validation accuracy "
          f"{choice.get('val_accuracy')}; fold 5 test accuracy {acc:.4f} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
