"""Real-data benchmark (issue 13): the default CNN, ``--preset paper`` and every shipped
baseline on every labelled set of ``../shared/data``, on the same folds, plus the map checks.

Usage::

    .venv/bin/python benchmarks/realdata.py                 # full run, writes docs/realdata.md
    .venv/bin/python benchmarks/realdata.py --quick --out /tmp/rd.md   # smoke test (minutes)
    .venv/bin/python benchmarks/realdata.py --sets yogurt,astragalus --seeds 0,1,2 \
        --out /tmp/ya.md                  # raw results in /tmp/ya.json
    .venv/bin/python benchmarks/realdata.py --sets none --add-set tablets tablets.csv \
        '--label-col label --group-col batch' --out tablets.md
                                          # the same protocol on a set of your own
                                          # (raw results in tablets.json)

Every set goes through the code path of ``ramancam train``: the train sub-command's own
argument parser (labels and split options only, plus ``--preset paper`` for the paper's
network), :func:`ramancam.cli._common.prepare_labelled` (the default recipe and grid),
:func:`ramancam.cli.train.estimator_params` and :func:`ramancam.train.cross_validate` (which
fits PCA + SVM, PLS-DA and the library search on exactly the same folds). The CNN runs over
``--seeds`` (network seeds; the folds are always those of ``--seed 0``); its accuracy per fold
is the mean over seeds.

Map checks (issue 13, point 4), on the default CNN's cross-validation models, for the true
class, each with two maps: the FC-importance map in its contribution form (``ramancam
explain --method fc``, its default until 2026-12-05) and the input-resolution ``ig-bands``
map (``ramancam explain``'s default since then):

* seed agreement: maps of the test spectra by the seed-0 and seed-1 models of the same fold;
  class-mean maps r >= 0.8 (weakest class), median per-spectrum r >= 0.6;
* deletion test: flattening the 5 % of points the seed-0 map ranks highest lowers the class
  logit more than flattening 5 % random points, in >= 90 % of the test spectra;
* Fig. 3: pointing game of the FC-importance map on the common-component simulation >= 0.95
  (the ig-bands map's pointing is reported beside it);
* Fig. 7: share of amino-acid mixture maps closer to the labelled pure spectrum than to the
  admixed one >= 0.95.

Results go to ``docs/realdata.md`` and ``benchmarks/results/realdata.json`` (the committed
pair, which ``ceiling.py`` and ``baseline_seeds.py`` read); a run with another ``--out`` writes
its raw results beside that report (``tablets.md`` -> ``tablets.json``) unless ``--json`` says
otherwise, and ``--quick`` needs ``--out``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shlex
import site
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data beside the
# checkout (as tests/conftest.py resolves it).
DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA") or ROOT.parent / "shared" / "data")
SEED_R_CLASS, SEED_R_SPECTRUM, DELETION, POINTING, CLOSER = 0.8, 0.6, 0.9, 0.95, 0.95


@dataclass
class SetSpec:
    """One benchmark row: a data set with one honest split."""

    name: str
    split: str
    load: Callable[[], Any]
    options: list[str]
    command: str
    needs: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _read(path: Path, **kw: Any) -> Any:
    from ramancam.io import read

    return read(path, **kw)


def _with_meta(s: Any, **cols: Any) -> Any:
    return s.replace(meta={**s.meta, **cols})


def _micro_condition() -> Any:
    s = _read(DATA / "microplastics" / "spectra.csv", label_col="label")
    cond = np.asarray(s.meta["condition"]).astype(str)
    return _with_meta(s, bench_split=np.where(cond == "SW", "test", "train"))


def _chondro() -> Any:
    """Labelled pixels of the cartilage map, with their x/y positions (for train's spatial
    folds: blocks of neighbouring pixels, and a 1-pixel buffer of training pixels left out
    around each test block, so that no test pixel has a neighbour in training)."""
    import pandas as pd

    from ramancam.spectra import Spectra

    df = pd.read_csv(DATA / "chondro-map" / "map.csv")
    df = df[df["label"].notna() & (df["label"].astype(str).str.strip() != "")]
    shifts = [c for c in df.columns if c not in ("id", "x", "y", "label")]
    x, y = df["x"].to_numpy(float), df["y"].to_numpy(float)
    return Spectra(df[shifts].to_numpy(float), np.array([float(c) for c in shifts]),
                   df["label"].astype(str).to_numpy(),
                   {"id": df["id"].astype(str).to_numpy(), "x": x, "y": y})


def _saliva() -> Any:
    return _read(DATA / "saliva-pd-ad", label_col="label")


def _bacteria() -> Any:
    s = _read(DATA / "bacteria-spc", labels_from=r"regex:2092_rep\d_([a-z]+)_")
    rep = np.array([re.search(r"_(rep\d)_", str(p)).group(1)  # type: ignore[union-attr]
                    for p in s.sources])
    return _with_meta(s, replicate=rep)


def _amino() -> Any:
    return _read(DATA / "amino-acids")


SETS: list[SetSpec] = [
    SetSpec("drug-mabs", "fixed split (split column)",
            lambda: _read(DATA / "drug-mabs" / "spectra.csv.gz", label_col="label"),
            ["--split-col", "split", "--train-value", "train"],
            "drug-mabs/spectra.csv.gz --label-col label --split-col split"),
    SetSpec("microplastics", "stratified 5-fold",
            lambda: _read(DATA / "microplastics" / "spectra.csv", label_col="label"),
            ["--folds", "5"], "microplastics/spectra.csv --label-col label"),
    SetSpec("microplastics", "pristine+FW -> SW", _micro_condition,
            ["--split-col", "bench_split", "--train-value", "train"],
            "microplastics/spectra.csv --label-col label --split-col S (S = train unless "
            "condition is SW)"),
    SetSpec("yogurt", "stratified 5-fold",
            lambda: _read(DATA / "food" / "yogurt.csv", label_col="label"),
            ["--folds", "5"], "food/yogurt.csv --label-col label"),
    SetSpec("astragalus", "stratified 5-fold",
            lambda: _read(DATA / "food" / "astragalus.csv", label_col="label"),
            ["--folds", "5"], "food/astragalus.csv --label-col label"),
    SetSpec("rruff-sample", "stratified 5-fold",
            lambda: _read(DATA / "rruff-sample", labels_from="header:NAMES"),
            ["--folds", "5"], "rruff-sample --labels-from header:NAMES"),
    SetSpec("chondro-map", "spatial 5-fold (blocks, 1-pixel buffer)", _chondro,
            ["--spatial-folds", "5"],
            "chondro-map/map.csv --label-col label --spatial-folds 5 (labelled pixels)"),
    SetSpec("saliva-pd-ad", "group 5-fold by person", _saliva, ["--group-col", "patient"],
            "saliva-pd-ad --label-col label --group-col patient",
            needs="a reader for folders of wide tables with differing axes (h16)"),
    SetSpec("bacteria-spc", "group 3-fold by replicate", _bacteria,
            ["--group-col", "replicate"],
            # the CLI's own options for what _bacteria builds (a folder of SPC files has no
            # replicate column): the same labels and groups, train's group 3-fold
            r"bacteria-spc --labels-from 'regex:2092_rep\d_([a-z]+)_' "
            r"--groups-from 'regex:_(rep\d)_' --folds 3",
            needs="the SPC reader (h16)", extra={"folds": 3}),
    SetSpec("amino-acids", "mixtures, stratified 5-fold", _amino, ["--folds", "5"],
            "amino-acids pure spectra -> default recipe -> 5 mixtures per ordered pair "
            "(ratio 0.1-0.5, paper 4.3) -> train --recipe none", extra={"mixing": True}),
]

CONFIGS = {"default": [], "paper": ["--preset", "paper"]}


def added_set(name: str, path: str, options: str) -> SetSpec:
    """``--add-set NAME DATA OPTIONS``: another labelled set, benchmarked like the shared
    ones. ``OPTIONS`` are ``train``'s label and split options as one string (``--label-col``
    or ``--labels-from``, ``--groups-from``, ``--files``; one of ``--split-col C
    [--train-value V]``, ``--group-col G`` or nothing, with ``--folds K``, default 5)."""
    q = argparse.ArgumentParser(prog=f"--add-set {name}", add_help=False)
    for opt in ("--label-col", "--labels-from", "--groups-from", "--files", "--split-col",
                "--group-col"):
        q.add_argument(opt)
    q.add_argument("--train-value", default="train")
    q.add_argument("--folds", type=int, default=5)
    o = q.parse_args(shlex.split(options))
    if o.split_col and o.group_col:
        q.error("give --split-col or --group-col, not both")
    load = partial(_read, Path(path), label_col=o.label_col, labels_from=o.labels_from,
                   groups_from=o.groups_from, files=o.files)
    if o.split_col:
        return SetSpec(name, f"fixed split ({o.split_col})", load,
                       ["--split-col", o.split_col, "--train-value", o.train_value],
                       f"{path} {options}")
    if o.group_col:
        return SetSpec(name, f"group {o.folds}-fold by {o.group_col}", load,
                       ["--group-col", o.group_col], f"{path} {options}",
                       extra={"folds": o.folds})
    return SetSpec(name, f"stratified {o.folds}-fold", load, ["--folds", str(o.folds)],
                   f"{path} {options}")


def _train_args(options: list[str], folds: int | None = None) -> argparse.Namespace:
    """``ramancam train``'s own parser on ``DATA --out X OPTIONS``; ``folds`` sets K also
    for group k-fold (where train takes K from --folds' default, 5)."""
    from ramancam.cli import train as train_cli

    p = argparse.ArgumentParser()
    train_cli.add_arguments(p)
    args = p.parse_args(["data", "--out", "unused.ramancam", *options])
    if folds is not None:
        args.folds = folds
        if args.spatial_folds is not None:
            args.spatial_folds = folds
    return args


def _splits_and_groups(args: argparse.Namespace, data: Any) -> tuple[Any, Any]:
    """The ready-made folds (``--spatial-folds``: train's blocks and buffer; else ``None``,
    for :func:`ramancam.train.make_splits`) and the groups of each fit's held-out novelty
    scores, as ``ramancam train`` makes them."""
    from ramancam.cli._common import spatial_splits
    from ramancam.cli._cv import inner_groups

    return spatial_splits(args, data), inner_groups(args, data)


def _quick_subset(s: Any, per_stratum: int, by: str | None, seed: int = 0) -> Any:
    """A few spectra per class (per class and value of the split/group column ``by``)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(s.labels).astype(str)
    if by is not None:
        labels = np.char.add(np.char.add(labels, "|"), np.asarray(s.meta[by]).astype(str))
    keep = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_stratum]
                           for c in sorted(set(labels.tolist()))])
    return s[np.sort(keep)]


QUICK_NET = {"n_filters": 4, "filter_size": 8, "fc_width": 8, "epochs": 2}


def _mixtures(raw: Any, args: argparse.Namespace, quick: bool) -> tuple[Any, Any]:
    """Amino-acid mixtures from the pure spectra after the default recipe (labels = stems)."""
    from ramancam.cli._common import build_recipe
    from ramancam.simulate import mixtures

    pure = build_recipe(args, raw).apply(raw)
    names = np.array([Path(p).stem for p in pure.sources])
    pure = pure.replace(labels=names)
    if quick:
        pure = pure[np.arange(4)]
    m = mixtures(pure, n_per_pair=2 if quick else 5, ratio=(0.1, 0.5),
                 rng=np.random.default_rng([0, 1]))
    X = np.asarray(m.X)
    return m.replace(X / X.max(axis=1, keepdims=True)), pure


#: The maps checked: the paper's FC-importance map (contribution form) and the
#: input-resolution ``ig-bands`` map (integrated gradients from the band-stripped spectrum);
#: result keys of the second carry the prefix ``bands_``.
MAP_METHODS = {"": "fc", "bands_": "ig-bands"}


def _fold_maps(models: list[Any], data: Any, cv: Any, method: str = "fc",
               options: dict[str, Any] | None = None
               ) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, np.ndarray]]]:
    """Maps (``method``: fc in its contribution form, or ig-bands) of each fold model's test
    spectra, for their true class; ``options`` replace the method's default options (e.g. an
    ig-bands ``band_window``)."""
    from ramancam.explain import explain, method_options

    labels = np.asarray(cv.labels).astype(str)
    maps, idx, per_fold = [], [], []
    for k, est in enumerate(models):
        if k in getattr(cv, "own_folds", ()):
            continue  # a fold with inputs of its own (another grid or recipe)
        te = np.flatnonzero(cv.fold_of == k)
        # a class the fold did not train on has no map of its own (searchsorted gave its
        # spectra the next class's index, explained and deletion-tested for it)
        trained = {c: i for i, c in enumerate(est.classes_.astype(str).tolist())}
        te = te[np.isin(labels[te], list(trained))]
        target = np.array([trained[c] for c in labels[te]], dtype=np.intp)
        m, _ = explain(est.module_, data.X[te], method=method, target="true", y=target,
                       **(method_options(method, data.wavenumbers) if options is None
                          else options))
        maps.append(np.asarray(m, dtype=np.float64))
        idx.append(te)
        per_fold.append((est, te))
    return np.concatenate(maps), np.concatenate(idx), per_fold


def _map_checks(cvs: list[Any], data: Any, pure: Any | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prefix, method in MAP_METHODS.items():
        out.update({prefix + k: v for k, v in _checks_of(cvs, data, pure, method).items()})
    return out


def _checks_of(cvs: list[Any], data: Any, pure: Any | None, method: str) -> dict[str, Any]:
    from ramancam import metrics

    out: dict[str, Any] = {}
    maps0, idx0, folds0 = _fold_maps(cvs[0].models, data, cvs[0], method)
    labels = np.asarray(cvs[0].labels).astype(str)
    if len(cvs) > 1:
        maps1, idx1, _ = _fold_maps(cvs[1].models, data, cvs[1], method)
        assert np.array_equal(idx0, idx1)
        ag = metrics.seed_agreement(maps0, maps1, labels[idx0])
        out["seed_class_r_min"] = ag.min_class_r
        out["seed_spectrum_r_median"] = ag.median_spectrum_r
    passed = []
    for est, te in folds0:  # te: the spectra of classes the fold trained on (_fold_maps)
        trained = {c: i for i, c in enumerate(est.classes_.astype(str).tolist())}
        target = np.array([trained[c] for c in labels[te]], dtype=np.intp)
        m = maps0[np.searchsorted(idx0, te)] if np.all(np.diff(idx0) > 0) else \
            maps0[[int(np.flatnonzero(idx0 == i)[0]) for i in te]]
        res = deletion(est, data.X[te], m, target)
        passed.append(res.passed)  # a constant map never passes (DeletionResult.passed)
    out["deletion_share"] = float(np.mean(np.concatenate(passed)))
    if pure is not None:
        out["closer_share"] = closer_share(maps0, labels[idx0],
                                           np.asarray(data.meta["partner"])[idx0], pure)
    return out


def deletion(est: Any, X: np.ndarray, maps: np.ndarray, target: np.ndarray) -> Any:
    """The deletion test (top 5 % vs 5 % random points, seed 0) of ``maps`` for each
    spectrum's ``target`` class logit under the fitted ``est``."""
    from ramancam import metrics
    from ramancam.train import predict_proba_module

    rows = np.arange(len(target))

    def score(Z: np.ndarray) -> np.ndarray:
        return predict_proba_module(est.module_, Z, logits=True)[rows, target]

    return metrics.deletion_test(score, X, maps, fraction=0.05, random_state=0)


def closer_share(maps: np.ndarray, labels: np.ndarray, partners: np.ndarray, pure: Any
                 ) -> float:
    """Fig. 7: share of mixture maps closer to the labelled pure spectrum than to the
    admixed one (``pure``: the pure spectra, labelled by name)."""
    from ramancam import metrics

    pure_of = {str(n): pure.X[i] for i, n in enumerate(pure.labels)}
    lab = np.stack([pure_of[str(v)] for v in labels])
    adm = np.stack([pure_of[str(v)] for v in partners])
    return float(np.mean(metrics.labelled_closer(maps, lab, adm)))


def run_set(index: int | SetSpec, seeds: list[int], quick: bool, threads: int,
            paper_seeds: list[int] | None = None, folds: int | None = None) -> dict[str, Any]:
    """Cross-validate every model on set/split ``SETS[index]`` (or on the set ``index`` is,
    one of ``--add-set``); returns the row as a dict."""
    import torch

    torch.set_num_threads(threads)
    spec = SETS[index] if isinstance(index, int) else index
    try:
        return _run_set(spec, seeds, quick, seeds if paper_seeds is None else paper_seeds,
                        folds)
    except (Exception, SystemExit) as exc:  # one broken set must not lose the others' work
        spec = with_folds(spec, folds)[0]
        return {"set": spec.name, "split": spec.split, "command": spec.command,
                "skipped": f"failed: {type(exc).__name__}: {exc}"}


def pool(jobs: int, start: str = "spawn") -> ProcessPoolExecutor:
    """``jobs`` worker processes, started by ``start`` on every Python and platform (the
    default differs: fork on Linux up to 3.13, which 3.12+ warn may deadlock in a process
    with threads such as torch's; forkserver there from 3.14). Each puts this folder on its
    ``sys.path`` first: the jobs name this module (``realdata``), which a worker that was
    not forked imports, and only a run as a script has the folder on its path."""
    return ProcessPoolExecutor(max(1, jobs), multiprocessing.get_context(start),
                               initializer=site.addsitedir,
                               initargs=(str(Path(__file__).resolve().parent),))


def with_folds(spec: SetSpec, folds: int | None) -> tuple[SetSpec, int | None]:
    """The set with K = ``folds`` (else its own ``extra["folds"]``) and its split label
    renamed to match; K is ``None`` for a fixed split or when neither gives one."""
    if folds is None:
        folds = spec.extra.get("folds")
    if folds is None or "--split-col" in spec.options:
        return spec, None
    return SetSpec(spec.name, spec.split.replace("5-fold", f"{folds}-fold").replace(
        "3-fold", f"{folds}-fold"), spec.load, spec.options,
        re.sub(r"(--(?:spatial-)?folds) \d+", rf"\1 {folds}", spec.command), spec.needs,
        spec.extra), folds


def prepared(spec: SetSpec, folds: int | None = None) -> tuple[SetSpec, Any, list[Any]]:
    """The set (K applied, :func:`with_folds`), its spectra read and preprocessed as
    ``train`` does with the row's options, and the benchmark's folds (seed 0), for scripts
    that fit other models on exactly these inputs and folds.

    The inputs are the common ones, preprocessed as all spectra decide: a fold whose
    training part alone decides otherwise (``cli/_fold_recipes.py``; of the measured sets
    only RRUFF's fold 3) gets inputs of its own in ``train`` and in this benchmark's rows,
    not here, so scripts built on this score that fold as before 2026-12-07."""
    spec, _, data, splits = prepared_with_raw(spec, folds)
    return spec, data, splits


def prepared_with_raw(spec: SetSpec, folds: int | None = None
                      ) -> tuple[SetSpec, Any, Any, list[Any]]:
    """:func:`prepared` with the labelled spectra as read (before the recipe), row for row
    with the preprocessed ones: ``(spec, raw, data, splits)``."""
    from ramancam.cli._common import prepare_labelled
    from ramancam.train import make_splits

    spec, folds = with_folds(spec, folds)
    args = _train_args(spec.options, folds)
    raw, _, data = prepare_labelled(args, spec.load(), "for the benchmark")
    splits = _splits_and_groups(args, data)[0] or make_splits(
        data, folds=args.folds, group_col=args.group_col, split_col=args.split_col,
        train_value=args.train_value, seed=0)
    return spec, raw, data, list(splits)


def add_sets_argument(p: argparse.ArgumentParser) -> list[str]:
    """``--sets`` for scripts that fit other models on :func:`prepared` inputs: the names of
    the sets they can run (every set but the simulated mixtures), which it returns."""
    names = sorted({s.name for s in SETS if not s.extra.get("mixing")})
    p.add_argument("--sets", help=f"comma-separated set names of {names} (default: all)")
    return names


def chosen_sets(p: argparse.ArgumentParser, text: str | None, names: list[str]) -> list[str]:
    """The sets ``--sets`` names (all of ``names`` without it); an unknown name stops with
    argparse's one-line error."""
    wanted = names if text is None else text.split(",")
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        p.error(f"--sets: unknown set(s) {unknown}; choose from {names}")
    return wanted


def _run_set(spec: SetSpec, seeds: list[int], quick: bool, paper_seeds: list[int],
             folds: int | None) -> dict[str, Any]:
    from ramancam.cli._common import prepare_labelled
    from ramancam.cli._fold_recipes import fold_inputs, split_choice
    from ramancam.cli.train import estimator_params
    from ramancam.errors import RamancamError
    from ramancam.train import cross_validate, make_splits

    spec, folds = with_folds(spec, folds)
    row: dict[str, Any] = {"set": spec.name, "split": spec.split, "command": spec.command}
    t_load = time.perf_counter()
    try:
        raw = spec.load()
    except (RamancamError, OSError, ValueError) as exc:
        row["skipped"] = (f"cannot be read yet ({spec.needs}): {exc}" if spec.needs
                          else f"cannot be read: {exc}")
        return row
    args = _train_args(spec.options, folds)
    pure = None
    if spec.extra.get("mixing"):
        mixed, pure = _mixtures(raw, args, quick)
        args = _train_args([*spec.options, "--recipe", "none"], folds)
        raw = mixed
    if quick and args.spatial_folds is None:  # a map keeps every pixel (a few per class
        raw = _quick_subset(raw, 6 if args.group_col is None and args.split_col is None
                            else 3, args.split_col or args.group_col)  # are no raster)
    raw, recipe, data = prepare_labelled(args, raw, "for training")
    raw, recipe, data, split_note = split_choice(args, raw, recipe, data)
    spatial, _ = _splits_and_groups(args, data)
    own, own_notes = fold_inputs(args, raw, recipe, spatial or make_splits(
        data, folds=args.folds, group_col=args.group_col, split_col=args.split_col,
        train_value=args.train_value, seed=0), data.wavenumbers)
    if split_note or own_notes:  # a fold's training part chose its own preprocessing
        row["own_inputs"] = [n for n in [split_note, *own_notes] if n]
    if recipe is not None:
        row["recipe"] = {"steps": [st.name for st in recipe.steps],
                         "grid": [float(data.wavenumbers[0]), float(data.wavenumbers[-1])]}
    row["n"] = len(data)
    row["n_classes"] = len(data.classes)
    row["load_s"] = time.perf_counter() - t_load
    row["models"] = {}
    row["fit_s"] = {}
    cvs_default = []
    for cname, extra in CONFIGS.items():
        if cname == "paper" and not paper_seeds:
            continue
        a = _train_args([*spec.options, *extra, *(["--recipe", "none"] if pure is not None
                                                  else [])], folds)
        params = {**estimator_params(a), "verbose": False}
        if quick:
            params.update(QUICK_NET)
        folds_acc, fit_s, chosen = [], [], []
        for i, seed in enumerate(seeds if cname == "default" else paper_seeds):
            compare = cname == "default" and i == 0
            splits, groups = _splits_and_groups(a, data)
            cv = cross_validate(data, estimator_params={**params, "random_state": seed},
                                folds=a.folds, group_col=a.group_col, split_col=a.split_col,
                                train_value=a.train_value, seed=0, compare=compare,
                                keep_models=True, splits=splits, groups=groups,
                                fold_inputs=own)
            cv.own_folds = set(own)  # their models take other inputs: no map checks
            folds_acc.append(cv.fold_accuracy)
            chosen.append(list(cv.augment_chosen))
            fit_s += [float(m.fit_time_) for m in cv.models]
            row["fold_sizes"] = [list(map(int, s)) for s in cv.fold_sizes]
            if compare:
                for b, acc in cv.baselines.items():
                    row["models"][b] = {"folds": [float(v) for v in acc]}
            if cname == "default" and i < 2:
                cvs_default.append(cv)
            else:
                cv.models.clear()
            print(f"  {spec.name} / {spec.split}: {cname} seed {seed}: "
                  f"{np.mean(cv.fold_accuracy):.3f} (augmentation per fold: "
                  f"{cv.augment_chosen})", file=sys.stderr, flush=True)
        per_fold = np.mean(np.asarray(folds_acc), axis=0)
        row["models"][f"CNN {cname}"] = {
            "folds": [float(v) for v in per_fold],
            "per_seed": [float(np.mean(f)) for f in folds_acc],
            "seeds": list(seeds if cname == "default" else paper_seeds),
            "augment_chosen": chosen}
        row["fit_s"][f"CNN {cname}"] = float(np.mean(fit_s))
    for m in row["models"].values():
        _summarise(m)
    row["winner"] = _winner(row["models"])
    row["maps"] = _map_checks(cvs_default, data, pure)
    row["total_s"] = time.perf_counter() - t_load
    return row


def fig3_check(seeds: list[int], quick: bool, threads: int) -> dict[str, Any]:
    """FC-importance pointing of the default CNN on the common-component set (paper Fig. 3).
    """
    import torch

    from ramancam.cli.train import estimator_params
    from ramancam.explain import fc_importance
    from ramancam.metrics import pointing_game
    from ramancam.simulate import common_component_set
    from ramancam.train import CNNClassifier

    torch.set_num_threads(threads)
    n_tr, n_te = (10, 4) if quick else (100, 20)
    from ramancam.explain import captum_map, method_options

    out: dict[str, Any] = {"pointing": [], "bands_pointing": [], "accuracy": [], "fit_s": [],
                           "seeds": list(seeds)}
    params = {**estimator_params(_train_args(["--recipe", "none"])), "verbose": False}
    if quick:
        params.update(QUICK_NET)
    for seed in seeds:
        tr = common_component_set(n_tr, rng=np.random.default_rng([seed, 1]))
        te = common_component_set(n_te, rng=np.random.default_rng([seed, 2]))
        est = CNNClassifier(**{**params, "random_state": seed}).fit(tr.X, tr.labels)
        target = np.searchsorted(est.classes_, te.labels)
        m = fc_importance(est.module_, te.X, target, form="contribution")
        out["pointing"].append(pointing_game(m, te.wavenumbers, te.meta["peak_position"],
                                             8.0))
        mb = captum_map(est.module_, te.X, target, method="ig-bands",
                        **method_options("ig-bands", te.wavenumbers))
        out["bands_pointing"].append(pointing_game(mb, te.wavenumbers,
                                                   te.meta["peak_position"], 8.0))
        out["accuracy"].append(float(np.mean(est.predict(te.X) == te.labels)))
        out["fit_s"].append(float(est.fit_time_))
    return out


# ----------------------------------------------------------------------------- report
def _pm(m: dict[str, Any]) -> str:
    return f"{m['mean']:.3f} +- {m['sd']:.3f}"


def _ok(v: float | None, bar: float) -> str:
    """A check's cell: ``-`` not measured (``None``), ``undefined FAIL`` where a measure
    could not be computed (NaN: a constant class-mean map shows no agreement)."""
    if v is None:
        return "-"
    if not np.isfinite(v):
        return "undefined FAIL"
    return f"{v:.3f} {'pass' if v >= bar else 'FAIL'}"


OLDER = "(*)"


def _older(row: dict[str, Any]) -> str:
    """A mark for rows whose default CNN predates ``--augment auto``."""
    d = row.get("models", {}).get("CNN default", {})
    return "" if "skipped" in row or "augment_chosen" in d else f" {OLDER}"


def _augment_note(d: dict[str, Any]) -> str:
    if "augment_chosen" not in d:
        return ""
    chosen = [c for seed in d["augment_chosen"] for c in seed if c is not None]
    return f"; augmentation chosen in {sum(chosen)} of {len(chosen)} fold fits"


def _seeds_of(rows: list[dict[str, Any]], model: str, asked: list[int]) -> str:
    """The seeds the rows' ``model`` results are over, as the header says them: one list
    when every row has the same, else the range and "per row below"; ``asked`` (this
    command's) where no row says (the header named only those, also for merged rows run
    with other seeds)."""
    got = {tuple(r["models"][model]["seeds"]) for r in rows
           if "skipped" not in r and "seeds" in r.get("models", {}).get(model, {})}
    if not got:
        return ", ".join(map(str, asked))
    if len(got) == 1:
        return ", ".join(map(str, next(iter(got))))
    every = sorted({s for g in got for s in g})
    return f"{', '.join(map(str, every))} (per row below)"


def report(rows: list[dict[str, Any]], fig3: dict[str, Any], meta: dict[str, Any]) -> str:
    models = ["CNN default", "CNN paper", "PCA+SVM", "PLS-DA", "library"]
    lines = [
        "# Real data: the default CNN against the baselines (issue 13)",
        "",
        f"Produced by `{meta['command']}` on {meta['date']} ({meta['machine']}; "
        f"{meta['wall_min']:.0f} min wall). Every row runs `ramancam train`'s code path with "
        "no option beyond labels and split (default recipe and grid; `--preset paper` for the "
        "paper's network, same recipe), on the same folds for every model. CNN: mean over "
        f"seeds {_seeds_of(rows, 'CNN default', meta['seeds'])} (paper preset: "
        f"{_seeds_of(rows, 'CNN paper', meta['paper_seeds']) or 'not run'}) of each fold's "
        "accuracy, "
        "then mean +- sd "
        "over folds (a fixed split has one fold: sd 0); baselines are deterministic given the "
        "folds. Winner: the highest mean (ties to the default CNN). `s/fit`: mean seconds "
        "per CNN fit (one torch thread per set, sets run in parallel on the 2-core machine).",
        "",
        *([meta["note"], ""] if meta.get("note") else []),
        "| set | split | n | " + " | ".join(models) + " | winner | s/fit default | "
        "s/fit paper |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in models) + " | --- | ---: | ---: |",
    ]
    skipped = []
    for r in rows:
        if "skipped" in r:
            skipped.append(r)
            continue
        cells = [_pm(r["models"][m]) if m in r["models"] else "-" for m in models]
        lines.append(f"| {r['set']}{_older(r)} | {r['split']} | {r['n']} | "
                     + " | ".join(cells)
                     + f" | {r['winner']} | " + " | ".join(
                         f"{r['fit_s'][k]:.1f}" if k in r["fit_s"] else "-"
                         for k in ("CNN default", "CNN paper")) + " |")
    lines += ["", "Per-seed CNN accuracy (mean over folds):", ""]
    for r in rows:
        if "skipped" in r:
            continue
        d, p = r["models"]["CNN default"], r["models"].get("CNN paper")
        lines.append(f"- {r['set']} / {r['split']}: default (seeds "
                     f"{', '.join(map(str, d['seeds']))}) "
                     f"{', '.join(f'{v:.3f}' for v in d['per_seed'])}; paper "
                     + (f"(seeds {', '.join(map(str, p['seeds']))}) "
                        + ", ".join(f"{v:.3f}" for v in p["per_seed"])
                        + (f", from {r['paper_from']}" if r.get("paper_from") else "")
                        if p else "not run") + _augment_note(d)
                     + (f"; seeds added from {', '.join(r['seeds_added_from'])}"
                        if r.get("seeds_added_from") else ""))
        for note in r.get("own_inputs", []):  # preprocessing a fold's training part chose
            lines.append(f"  - {note.removeprefix('note: ')} (map checks: the other folds)")
    if any(_older(r) for r in rows if "skipped" not in r):
        lines += ["", f"{OLDER}: run before `--augment auto` became the default: its default "
                  "CNN is today's without augmentation (`--augment off`); not rerun since."]
    if skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {r['set']} / {r['split']}: {r['skipped']}" for r in skipped]
    lines += [
        "", "## Map checks (default CNN, true class)",
        "",
        "Two maps of the same models: `fc` is the paper's FC-importance map (contribution "
        "form, computed at the last pooling layer, 4 grid points per value, interpolated); "
        "`ig-bands` is `ramancam explain`'s default map (integrated gradients from the "
        "same spectrum with its bands stripped by SNIP, 20 cm-1 half window, at full grid "
        "resolution).",
        "",
        f"Bars: seed agreement class-mean r >= {SEED_R_CLASS} (weakest class) and median "
        f"per-spectrum r >= {SEED_R_SPECTRUM} (seed-0 vs seed-1 models of the same fold, on "
        f"its test spectra); deletion test >= {DELETION} (share of test spectra whose class "
        "logit falls more when the map's top 5 % of points are flattened, each replaced by "
        "the straight line between the nearest kept points, than when 5 % random points "
        f"are); amino-acid mixtures closer to the labelled pure spectrum >= {CLOSER}. "
        "Each cell: fc / ig-bands (`-`: not measured, e.g. one seed only, or a run made "
        "before ig-bands existed).",
        "",
        "| set | split | class-mean r (min) | median spectrum r | deletion | Fig. 7 closer |",
        "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if "skipped" in r:
            continue
        mp = r["maps"]

        def both(key: str, bar: float, _mp: dict[str, Any] = mp) -> str:
            return " / ".join(_ok(_mp.get(p + key), bar) for p in MAP_METHODS)

        lines.append(f"| {r['set']} | {r['split']} | "
                     f"{both('seed_class_r_min', SEED_R_CLASS)} | "
                     f"{both('seed_spectrum_r_median', SEED_R_SPECTRUM)} | "
                     f"{both('deletion_share', DELETION)} | "
                     f"{both('closer_share', CLOSER)} |")
    pts = fig3["pointing"] or [float("nan")]
    lines += ["", f"Fig. 3 (common-component simulation, 100 training / 20 test spectra per "
              f"class, default CNN, seeds "
              f"{', '.join(map(str, fig3.get('seeds', range(len(fig3['pointing'])))))}): "
              "pointing "
              f"game (map maximum within 8 channels of the class band) "
              f"{', '.join(f'{v:.3f}' for v in pts)} -> {_ok(float(np.mean(pts)), POINTING)}"
              + (f" (ig-bands map: {', '.join(f'{v:.3f}' for v in fig3['bands_pointing'])})"
                 if fig3.get("bands_pointing") else "") + "; "
              f"test accuracy {', '.join(f'{v:.3f}' for v in fig3['accuracy'])}; "
              f"{np.mean(fig3['fit_s']) if fig3['fit_s'] else float('nan'):.1f} s per fit.",
              ""]
    lines += ["Rows' commands (relative to `../shared/data`):", ""]
    lines += [f"- {r['set']} / {r['split']}: `ramancam train {r['command']}`" for r in rows]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _fill_paper(row: dict[str, Any], other: dict[str, Any]) -> None:
    """Take ``--preset paper``'s result from an earlier run of the same set and split when
    ``row``'s run skipped it (``--paper-seeds none``); the row says so in ``paper_from``."""
    if "skipped" in row or "skipped" in other or "CNN paper" in row["models"] \
            or "CNN paper" not in other.get("models", {}):
        return
    row["models"]["CNN paper"] = other["models"]["CNN paper"]
    row["fit_s"]["CNN paper"] = other["fit_s"]["CNN paper"]
    row["paper_from"] = "an earlier run (--merge)"
    row["winner"] = _winner(row["models"])


def _summarise(model: dict[str, Any]) -> None:
    """Set a model's ``mean`` and ``sd`` (ddof 1; 0 for one fold) from its ``folds``."""
    a = np.asarray(model["folds"])
    model["mean"] = float(a.mean())
    model["sd"] = float(a.std(ddof=1)) if a.size > 1 else 0.0


def _add_seeds(row: dict[str, Any], other: dict[str, Any], source: str) -> None:
    """Fold the default CNN's seeds of ``other`` (another run of the same set and split,
    with other seeds) into ``row``: each fold's accuracy becomes the mean over all seeds,
    per-seed accuracies, augmentation decisions and seconds per fit are joined. The map
    checks stay ``row``'s (seed 0 against seed 1). Refused (``SystemExit``) when the seeds
    overlap or the folds differ: the fold sizes and every baseline's fold accuracies, which
    are deterministic given the folds, must be the same."""
    key = f"{row['set']} / {row['split']}"
    d, o = row["models"]["CNN default"], other["models"]["CNN default"]
    if set(d["seeds"]) & set(o["seeds"]):
        raise SystemExit(f"--add-seeds {source}: {key} has seeds {o['seeds']}, which overlap "
                         f"the merged row's {d['seeds']}; give a run of other seeds.")
    same = row.get("fold_sizes") == other.get("fold_sizes") and all(
        np.allclose(row["models"][b]["folds"], m["folds"], rtol=0, atol=1e-12)
        for b, m in other["models"].items() if not b.startswith("CNN") and b in row["models"])
    if not same:
        raise SystemExit(f"--add-seeds {source}: {key} was run on other folds (fold sizes or "
                         "baseline accuracies differ); seeds can only be added on the same "
                         "folds.")
    n, m = len(d["seeds"]), len(o["seeds"])
    d["folds"] = [(n * a + m * b) / (n + m) for a, b in zip(d["folds"], o["folds"], strict=True)]
    d["per_seed"] = [*d["per_seed"], *o["per_seed"]]
    d["seeds"] = [*d["seeds"], *o["seeds"]]
    if "augment_chosen" in d and "augment_chosen" in o:
        d["augment_chosen"] = [*d["augment_chosen"], *o["augment_chosen"]]
    _summarise(d)
    row["fit_s"]["CNN default"] = (n * row["fit_s"]["CNN default"]
                                   + m * other["fit_s"]["CNN default"]) / (n + m)
    row["seeds_added_from"] = [*row.get("seeds_added_from", []), source]
    row["winner"] = _winner(row["models"])


def _winner(models: dict[str, Any]) -> str:
    """The model with the highest mean accuracy; ties go to the default CNN. Means are
    compared to 12 decimals: the CNN's, averaged over seeds and then folds, can miss a tie
    by one unit in the last place (0.9333333333333332 against 0.9333333333333333)."""
    return max(models, key=lambda k: (round(models[k]["mean"], 12), k == "CNN default"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny subsets (6 spectra per class), a tiny network, 2 epochs")
    p.add_argument("--sets", help="comma-separated set names (default: all)")
    p.add_argument("--seeds", default="0,1,2", help="default-CNN seeds (default 0,1,2)")
    p.add_argument("--paper-seeds", help="seeds of the --preset paper CNN (default: --seeds; "
                                         "'none' skips it)")
    p.add_argument("--note", default="", help="a paragraph added under the report's header "
                                              "(e.g. how merged runs were made)")
    p.add_argument("--no-fig3", action="store_true",
                   help="skip the Fig. 3 pointing check (taken from --merge when given)")
    p.add_argument("--folds", type=int,
                   help="K for the k-fold and group k-fold rows instead of each set's own "
                        "(a cheaper, reduced protocol; the report says so)")
    p.add_argument("--merge", metavar="JSON", action="append", default=[],
                   help="also report the rows of an earlier run's JSON for sets/splits not "
                        "run now (e.g. a set rerun with a reduced protocol)")
    p.add_argument("--drop", metavar="SET/SPLIT", action="append", default=[],
                   help="leave out the merged row of this set and split label (a row whose "
                        "protocol the benchmark no longer runs), e.g. --drop "
                        "'chondro-map/spatial 3-fold (5x5-pixel blocks)'")
    p.add_argument("--add-seeds", metavar="JSON", action="append", default=[],
                   help="an earlier run of other default-CNN seeds on the same folds: its "
                        "seeds are added to the merged row of the same set and split "
                        "(map checks stay the merged row's)")
    p.add_argument("--add-set", nargs=3, action="append", default=[],
                   metavar=("NAME", "DATA", "OPTIONS"),
                   help="benchmark another labelled set the same way (it runs beside --sets): "
                        "its name, DATA (a file or folder ramancam reads) and train's label "
                        "and split options as one string, e.g. --add-set tablets "
                        "tablets.csv '--label-col label --group-col batch'")
    p.add_argument("--jobs", type=int, default=2, help="sets run in parallel (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per job (default 1)")
    p.add_argument("--out", help="markdown report (default docs/realdata.md; required "
                                 "with --quick)")
    p.add_argument("--json", help="raw results (default: beside --out, e.g. tablets.md -> "
                                  "tablets.json; benchmarks/results/realdata.json when the "
                                  "report is docs/realdata.md)")
    a = p.parse_args(argv)
    # The committed pair (docs/realdata.md, benchmarks/results/realdata.json: ceiling.py and
    # baseline_seeds.py read the JSON) is written only by a run that writes the committed
    # report; any other report keeps its raw results beside it.
    committed_out = ROOT / "docs" / "realdata.md"
    if a.out is None:
        if a.quick:
            p.error("--quick needs --out (e.g. --out /tmp/rd.md): the default report, "
                    "docs/realdata.md, and benchmarks/results/realdata.json hold the full run")
        a.out = str(committed_out)
    if a.json is None:
        out = Path(a.out)
        a.json = str(ROOT / "benchmarks" / "results" / "realdata.json"
                     if out.resolve() == committed_out.resolve() else
                     out.with_name(out.stem + ".json") if out.suffix != ".json" else
                     out.with_name(out.name + ".json"))
    seeds = [int(v) for v in a.seeds.split(",")]
    if a.quick and a.seeds == "0,1,2":
        seeds = [0, 1]
    chosen: list[int | SetSpec] = [
        i for i, s in enumerate(SETS) if not a.sets or s.name in a.sets.split(",")]
    chosen += [added_set(*spec) for spec in a.add_set]
    # "--sets none --merge A --merge B --no-fig3" only re-renders earlier runs' results.
    specs = [SETS[i] if isinstance(i, int) else i for i in chosen]
    paper_seeds = ([] if a.paper_seeds == "none" else
                   [int(v) for v in a.paper_seeds.split(",")] if a.paper_seeds else seeds)
    earlier: list[dict[str, Any]] = []
    fig3: dict[str, Any] = {"pointing": [], "accuracy": [], "fit_s": []}
    mine = {(s.name, s.split) for s in specs}
    for path in a.merge:
        old = json.loads(Path(path).read_text(encoding="utf-8"))
        for r in old["rows"]:
            key = (r["set"], r["split"])
            if key in mine or f"{r['set']}/{r['split']}" in a.drop:
                continue
            seen = [k for k, e in enumerate(earlier) if (e["set"], e["split"]) == key]
            if not seen:
                earlier.append(r)
            elif "skipped" in earlier[seen[0]] and "skipped" not in r:
                earlier[seen[0]] = r  # a later run that did read the set wins
            else:
                _fill_paper(earlier[seen[0]], r)
        if a.no_fig3 and old.get("fig3", {}).get("pointing"):
            fig3 = old["fig3"]
    for path in a.add_seeds:
        for r in json.loads(Path(path).read_text(encoding="utf-8"))["rows"]:
            if "skipped" in r:
                continue
            match = [e for e in earlier if (e["set"], e["split"]) == (r["set"], r["split"])
                     and "skipped" not in e]
            if not match:
                p.error(f"--add-seeds {path}: no merged row of {r['set']} / {r['split']} "
                        "to add its seeds to; give that row's run with --merge")
            _add_seeds(match[0], r, Path(path).name)
    t0 = time.perf_counter()
    shown = list(argv if argv is not None else sys.argv[1:])
    if "--note" in shown[:-1]:  # the note is printed below the header, not in the command
        shown[shown.index("--note") + 1] = "TEXT"
    cmd = "python benchmarks/realdata.py " + shlex.join(shown)
    rows: list[dict[str, Any] | None] = [None] * len(specs)

    def write() -> str:
        meta = {"command": cmd, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": f"{os.cpu_count()} CPUs", "seeds": seeds,
                "paper_seeds": paper_seeds, "wall_min": (time.perf_counter() - t0) / 60.0,
                "note": a.note}
        rank = {name: k for k, name in enumerate(dict.fromkeys(sp.name for sp in SETS))}
        done = sorted(earlier + [r for r in rows if r is not None],  # the sets' own order,
                      key=lambda r: rank.get(r["set"], len(rank)))  # whatever merged first
        text = report(done, fig3, meta)
        _atomic_write(Path(a.out), text)
        _atomic_write(Path(a.json), json.dumps({"meta": meta, "rows": done, "fig3": fig3},
                                               indent=1, default=str) + "\n")
        return text

    with pool(a.jobs) as workers:
        # The slowest sets first, so that the pool stays busy; results are written as they
        # come, so an interrupted run keeps what it finished.
        order = sorted(range(len(specs)), key=lambda i: specs[i].name != "drug-mabs")
        futs = {workers.submit(run_set, chosen[i], seeds, a.quick, a.threads, paper_seeds,
                               a.folds): i for i in order}
        fut3 = None if a.no_fig3 else workers.submit(fig3_check, seeds, a.quick, a.threads)
        for f in as_completed([*futs, *([fut3] if fut3 is not None else [])]):
            if f is fut3:
                fig3 = f.result()
            else:
                rows[futs[f]] = f.result()
            write()
    for r in rows:
        if r is not None and "skipped" in r:
            print(f"skipped {r['set']} / {r['split']}: {r['skipped']}")
    print(write())
    return 0


if __name__ == "__main__":
    sys.exit(main())
