"""Knowing when not to answer (issue 15): leave whole classes out of training and measure.

Usage::

    nice -n 10 .venv/bin/python benchmarks/novelty.py --seeds 0 1 2 3 4   # all sets (~1 h)
    nice -n 10 .venv/bin/python benchmarks/novelty.py --sets rruff-sample microplastics
    nice -n 10 .venv/bin/python benchmarks/novelty.py --scores --seeds 0 1 2 3 4  # no network
    .venv/bin/python benchmarks/novelty.py --per-class --seeds 0 1 2 3 4 \
        --figure docs/img/microplastics_look_alikes.png   # misses by class
    .venv/bin/python benchmarks/novelty.py --thresholds --seeds 0 1 2 3 4  # other thresholds
    .venv/bin/python benchmarks/novelty.py --nap-k --seeds 0 1 2 3 4  # hqi-nap's directions

For each data set in ``../shared/data`` and each seed the classes are shuffled and split into
``rounds`` groups; in each round one group is left out of training entirely (the "unknown"
substances). The known spectra are split 70/30 (stratified) into training and test. On the
training part a CNN is trained and, exactly as ``CNNClassifier(calibration_cv=3)`` does, an
inner 3-fold cross-fit gives out-of-fold logits and novelty scores, which choose the
temperature and, per novelty method, the split-conformal threshold for 5 % false alarms.
Every method is scored from the same networks. Reported per set and method: AUROC known test
vs unknown (mean over rounds), the share of unknown spectra flagged and of known test spectra
flagged at the threshold (pooled over rounds), the accuracy on the known test spectra that
were kept (not flagged), and the expected calibration error of the known test spectra before
and after temperature scaling (method-independent).

Preprocessing: the spectra of microplastics, rruff-sample and food are baseline-corrected or
have no baseline at their end points, where the paper's straight line through the end points
(the current default recipe) cuts into the spectrum; they get an asls baseline recipe
(``preprocess.baseline_recipe("asls")``). drug-mabs uses the paper recipe; the amino-acid
mixtures are made as in ``ramancam reproduce mixing`` (paper recipe on the pure spectra),
known mixtures only from the kept amino acids, unknown ones with a left-out amino acid as the
main component.

Writes ``benchmarks/results/novelty.json`` and the tables between the markers in
``docs/novelty.md`` (atomically); ``--scores`` compares model-free candidate scores (no
network) on the same rounds and splits and writes ``novelty-scores.json`` and its own table
(the results of sets not run again are kept, as in ``novelty.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ramancam.io import atomic_write, read  # noqa: E402
from ramancam.novelty import (  # noqa: E402
    DEFAULT_METHOD,
    HQI_WINDOW,
    METHODS,
    NoveltyScorer,
    _derivative_rows,
    calibrate,
    calibration_error,
    conformal_threshold,
    expected_calibration_error,
    network_outputs,
    softmax,
)
from ramancam.preprocess import baseline_recipe, paper_recipe  # noqa: E402
from ramancam.train import CNNClassifier  # noqa: E402

# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data beside the
# checkout (as tests/conftest.py resolves it).
DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA") or ROOT.parent / "shared" / "data")
#: CNN settings: the tuned preset's network (``ramancam train --preset tuned``: 64 filters of
#: size 8, 2 blocks, FC1 128, cosine learning rate, centred inputs) with fewer epochs (30
#: instead of 100) and a larger learning rate (1e-3 instead of 1e-4), so the whole benchmark
#: stays modest.
CNN = {"n_filters": 64, "filter_size": 8, "lr_schedule": "cosine", "input_scaling": "center",
       "epochs": 30, "lr": 1e-3, "batch_size": 32}
#: ``--augment``: the tuned preset's augmentation, decided per fit (``--augment auto``).
AUGMENT = {"augment_select": True, "augment_noise": 0.01, "augment_shift": 3,
           "augment_baseline": 0.05, "augment_scale": 0.1}
RATE = 0.05
INNER = 3
MARK_BEGIN, MARK_END = "<!-- novelty-table:begin -->", "<!-- novelty-table:end -->"
SCORES_BEGIN, SCORES_END = "<!-- novelty-scores:begin -->", "<!-- novelty-scores:end -->"
CAL_BEGIN, CAL_END = "<!-- novelty-calibration:begin -->", "<!-- novelty-calibration:end -->"
SPECIMENS_BEGIN = "<!-- novelty-specimens:begin -->"
SPECIMENS_END = "<!-- novelty-specimens:end -->"
PVALUES_BEGIN = "<!-- novelty-pvalues:begin -->"
PVALUES_END = "<!-- novelty-pvalues:end -->"
PERCLASS_BEGIN = "<!-- novelty-perclass:begin -->"
PERCLASS_END = "<!-- novelty-perclass:end -->"
THRESHOLDS_BEGIN = "<!-- novelty-thresholds:begin -->"
THRESHOLDS_END = "<!-- novelty-thresholds:end -->"
NAPK_BEGIN, NAPK_END = "<!-- novelty-nap-k:begin -->", "<!-- novelty-nap-k:end -->"
#: name -> (kind, rounds); kind "distinct" or "near-identical".
SETS = {"rruff-sample": ("distinct", 3), "microplastics": ("distinct", 3),
        "amino-acid mixtures": ("distinct", 2), "food/yogurt": ("near-identical", 2),
        "food/astragalus": ("near-identical", 2), "drug-mabs": ("near-identical", 2)}
#: microplastics' resampling grid (cm-1): its whole range above the laser line's edge.
MICROPLASTICS_GRID = (200, 3200, 2)
#: Mixtures per ordered pair of kept amino acids (known) and per pair for the unknowns.
MIX_PER_PAIR = (2, 1)


def load(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Preprocessed spectra, labels and a description of the recipe."""
    if name == "microplastics":
        s = read(DATA / "microplastics" / "spectra.csv", label_col="label")
        return (_apply(baseline_recipe("asls", grid=MICROPLASTICS_GRID), s),
                "asls " + ":".join(map(str, MICROPLASTICS_GRID)))
    if name == "rruff-sample":
        s = read(DATA / "rruff-sample", labels_from="header:NAMES")
        return _apply(baseline_recipe("asls", grid=(210, 1190, 1)), s), "asls 210:1190:1"
    if name.startswith("food/"):
        s = read(DATA / "food" / f"{name[5:]}.csv", label_col="label")
        return _apply(baseline_recipe("asls", grid=(400, 1800, 1)), s), "asls 400:1800:1"
    if name == "drug-mabs":
        s = read(DATA / "drug-mabs" / "spectra.csv.gz", label_col="label")
        return _apply(paper_recipe(grid=(400, 1800, 2)), s), "paper 400:1800:2"
    raise KeyError(name)


def _apply(recipe: Any, s: Any) -> tuple[np.ndarray, np.ndarray]:
    out = recipe.apply(s)
    return np.asarray(out.X, dtype=np.float64), np.asarray(out.labels).astype(str)


def amino_pure() -> Any:
    """The 13 pure spectra, paper recipe on the widest 1 cm-1 grid inside every file's range
    (as ``ramancam reproduce mixing`` does)."""
    import math

    raw = read(DATA / "amino-acids")
    lo = math.ceil(max(float(np.min(a)) for a in raw.axes))
    hi = math.floor(min(float(np.max(a)) for a in raw.axes))
    pure = paper_recipe(grid=(lo, hi, 1.0)).apply(raw)
    return pure.replace(labels=np.array([Path(p).stem for p in pure.sources]))


def _mix(pure: Any, keep: np.ndarray, n_per_pair: int, rng: np.random.Generator
         ) -> tuple[np.ndarray, np.ndarray]:
    from ramancam.simulate import mixtures

    m = mixtures(pure[np.flatnonzero(keep)], n_per_pair=n_per_pair, rng=rng)
    X = np.asarray(m.X)
    return X / X.max(axis=1, keepdims=True), np.asarray(m.labels).astype(str)


def rounds_of(name: str, n_rounds: int, seed: int):
    """Yield ``(left_out, X_known, y_known, X_unknown)`` per round."""
    rng = np.random.default_rng(seed)
    if name == "amino-acid mixtures":
        pure = amino_pure()
        classes = np.unique(pure.labels)
        for r, left in enumerate(np.array_split(rng.permutation(classes), n_rounds)):
            kept = ~np.isin(pure.labels, left)
            Xk, yk = _mix(pure, kept, MIX_PER_PAIR[0], np.random.default_rng([seed, r, 1]))
            Xa, ya = _mix(pure, np.ones(len(pure), bool), MIX_PER_PAIR[1],
                          np.random.default_rng([seed, r, 2]))
            yield list(left), Xk, yk, Xa[np.isin(ya, left)]
        return
    (X, y), _ = load(name)
    classes = np.unique(y)
    for left in np.array_split(rng.permutation(classes), n_rounds):
        unk = np.isin(y, left)
        yield list(left), X[~unk], y[~unk], X[unk]


def split_rounds(name: str, seed: int):
    """Yield ``(R, yR, X_test, X_unknown)`` per round of the model-free tables: round r's
    known spectra split 70/30, stratified, with ``random_state=seed + r``."""
    from sklearn.model_selection import train_test_split

    for r, (_, Xk, yk, Xu) in enumerate(rounds_of(name, SETS[name][1], seed)):
        tr, te = train_test_split(np.arange(yk.size), test_size=0.3, stratify=yk,
                                  random_state=seed + r)
        yield Xk[tr], yk[tr], Xk[te], Xu


def model_free(R: np.ndarray, method: str = DEFAULT_METHOD,
               window: int = HQI_WINDOW, labels: np.ndarray | None = None) -> NoveltyScorer:
    """A model-free novelty score fitted on ``R``; ``labels`` (the classes of ``R``) are
    needed by ``hqi-nap``, whose nuisance directions are the classes' own spread."""
    if labels is None:
        if method == "hqi-nap":
            raise ValueError("hqi-nap needs the reference spectra's labels")
        labels = np.zeros(len(R), int)
    y = np.unique(np.asarray(labels), return_inverse=True)[1]
    return NoveltyScorer(method, window=window).fit(R, y, np.zeros((len(R), 0)))


def free_scores(sc: NoveltyScorer, X: np.ndarray) -> np.ndarray:
    """A model-free score's scores of ``X`` (no logits or features needed)."""
    return sc.score(X, np.zeros((len(X), 1)), None)


def _auroc(known: np.ndarray, unknown: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.r_[np.zeros(known.size), np.ones(unknown.size)],
                               np.r_[known, unknown]))


def one_round(Xk: np.ndarray, yk: np.ndarray, Xu: np.ndarray, seed: int,
              keep_scores: bool = False) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold, train_test_split

    tr, te = train_test_split(np.arange(yk.size), test_size=0.3, stratify=yk,
                              random_state=seed)
    Xtr, ytr, Xte, yte = Xk[tr], yk[tr], Xk[te], yk[te]
    classes, yi = np.unique(ytr, return_inverse=True)
    params = {**CNN, "random_state": seed, "novelty": None}
    # Inner cross-fit: out-of-fold logits and every method's out-of-fold scores.
    k = min(INNER, int(np.bincount(yi).min()))
    oof_z = np.zeros((ytr.size, classes.size))
    oof_s = {m: np.zeros(ytr.size) for m in METHODS}
    fold_of = np.zeros(ytr.size, dtype=np.int64)
    splits = StratifiedKFold(k, shuffle=True, random_state=seed).split(Xtr, yi)
    for f, (itr, ite) in enumerate(splits):
        fold_of[ite] = f
        est = CNNClassifier(**params).fit(Xtr[itr], ytr[itr])
        _, f_tr = network_outputs(est.module_, Xtr[itr])
        z, f = network_outputs(est.module_, Xtr[ite])
        oof_z[ite] = z
        for m in METHODS:
            sc = NoveltyScorer(m).fit(Xtr[itr], yi[itr], f_tr)
            oof_s[m][ite] = sc.score(Xtr[ite], z, f)
    final = CNNClassifier(**params).fit(Xtr, ytr)
    _, f_tr = network_outputs(final.module_, Xtr)
    z_te, f_te = network_outputs(final.module_, Xte)
    z_u, f_u = network_outputs(final.module_, Xu)
    cal = calibrate(oof_z, yi, None, fold_of, rate=RATE)  # as CNNClassifier does
    T = cal.temperature
    yte_i = np.searchsorted(classes, yte)
    pred_ok = z_te.argmax(1) == yte_i
    out: dict[str, Any] = {
        "n_train": int(ytr.size), "n_test": int(yte.size), "n_unknown": len(Xu),
        "accuracy": float(pred_ok.mean()), "temperature": T,
        "fitted_temperature": cal.fitted_temperature,
        "ece_after_fitted_t": expected_calibration_error(softmax(z_te, cal.fitted_temperature),
                                                          yte_i),
        "ece_before": expected_calibration_error(softmax(z_te), yte_i),
        "ece_after": expected_calibration_error(softmax(z_te, T), yte_i),
        # Per known test spectrum, for the ECE pooled over rounds (summarise).
        "conf_before": _rounded(softmax(z_te).max(1)),
        "conf_after": _rounded(softmax(z_te, T).max(1)),
        "correct": pred_ok.astype(int).tolist(),
        "methods": {}}
    for m in METHODS:
        sc = NoveltyScorer(m).fit(Xtr, yi, f_tr)
        s_te, s_u = sc.score(Xte, z_te, f_te), sc.score(Xu, z_u, f_u)
        thr = conformal_threshold(oof_s[m], RATE)
        kept = s_te <= thr
        out["methods"][m] = {
            "auroc": _auroc(s_te, s_u), "threshold": thr,
            "unknown_flagged": int((s_u > thr).sum()), "known_flagged": int((~kept).sum()),
            "kept": int(kept.sum()), "kept_right": int((pred_ok & kept).sum())}
        if keep_scores:  # --keep-scores: every spectrum's score, for combining offline
            out["methods"][m] |= {"known": _rounded(s_te), "unknown": _rounded(s_u),
                                  "held_out": _rounded(oof_s[m])}
        if sc.model_free:  # the same score, threshold from leave-one-out training scores
            loo = sc.loo_scores()
            thr = conformal_threshold(loo, RATE)
            kept = s_te <= thr
            top = np.argsort(-loo)[:2]
            out["methods"][f"{m}-loo"] = {
                "auroc": _auroc(s_te, s_u), "threshold": thr,
                "unknown_flagged": int((s_u > thr).sum()), "known_flagged": int((~kept).sum()),
                "kept": int(kept.sum()), "kept_right": int((pred_ok & kept).sum()),
                # Which order statistic the threshold is, and the two largest LOO scores with
                # their classes (one odd training spectrum sets it when n_train < 39).
                "rank": int(np.ceil((loo.size + 1) * (1 - RATE))),
                "loo_top": [[float(loo[i]), str(ytr[i])] for i in top],
                "known_max": float(s_te.max()), "unknown_median": float(np.median(s_u))}
    return out


ROWS = ("knn", "hqi-nap", "hqi-nap-loo", "hqi-halves", "hqi-halves-loo", "hqi", "hqi-loo",
        "mahalanobis", "energy", "msp")
#: Draws of simulated outcomes for the ECE of a perfectly calibrated model (calibration_rows).
FLOOR_DRAWS = 200


def _rounded(a: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in np.ravel(a)]


def ece_floor(conf: list[np.ndarray], seed: int = 0) -> tuple[float, float]:
    """The ECE that a *perfectly calibrated* model with these confidences would show, on
    average over simulated outcomes (each spectrum right with probability = its confidence):
    ``(mean over rounds of the per-round ECE, ECE of all rounds pooled)``. With a few dozen
    test spectra per round the per-round ECE is far from zero even then; this is its floor.
    """
    rng = np.random.default_rng(seed)
    per_round, pooled = [], []
    for _ in range(FLOOR_DRAWS):
        ok = [rng.random(c.size) < c for c in conf]
        per_round.append(np.mean([calibration_error(c, o) for c, o in zip(conf, ok, strict=True)]))
        pooled.append(calibration_error(np.concatenate(conf), np.concatenate(ok)))
    return float(np.mean(per_round)), float(np.mean(pooled))


def calibration_row(name: str, rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Calibration of the known test spectra of one set (the same for every method): ECE per
    round (mean) and pooled over all rounds, before and after temperature scaling, and the
    floor of each for a perfectly calibrated model (:func:`ece_floor`, after scaling).
    ``None`` for results saved before the per-spectrum confidences were kept."""
    if not rounds or any("correct" not in x for x in rounds):
        return None
    ok = np.concatenate([np.asarray(x["correct"], dtype=bool) for x in rounds])
    before = [np.asarray(x["conf_before"]) for x in rounds]
    after = [np.asarray(x["conf_after"]) for x in rounds]
    floor_round, floor_pooled = ece_floor(after)
    return {"set": name, "n_test": int(ok.size), "accuracy": float(ok.mean()),
            "ece_before": float(np.mean([x["ece_before"] for x in rounds])),
            "ece_after": float(np.mean([x["ece_after"] for x in rounds])),
            "ece_pooled_before": calibration_error(np.concatenate(before), ok),
            "ece_pooled_after": calibration_error(np.concatenate(after), ok),
            "floor_round": floor_round, "floor_pooled": floor_pooled,
            "mean_conf_after": float(np.concatenate(after).mean()),
            "scaled": int(sum(x["temperature"] != 1.0 for x in rounds)),
            "n_rounds": len(rounds)}


def calibration_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| set | networks | known test spectra | accuracy | mean confidence (after) | "
             "ECE per round, mean: before -> after | ECE pooled: before -> after | "
             "perfectly calibrated: per round / pooled | rounds scaled |",
             "| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: |"]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['networks']} | {r['n_test']} | {r['accuracy']:.1%} | "
            f"{r['mean_conf_after']:.3f} | {r['ece_before']:.3f} -> {r['ece_after']:.3f} | "
            f"{r['ece_pooled_before']:.3f} -> {r['ece_pooled_after']:.3f} | "
            f"{r['floor_round']:.3f} / {r['floor_pooled']:.3f} | "
            f"{r['scaled']} of {r['n_rounds']} |")
    return "\n".join(lines)


def summarise(name: str, kind: str, rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for m in ROWS:
        if any(m not in x["methods"] for x in rounds):
            continue  # a score added after these rounds were run
        r = [x["methods"][m] for x in rounds]
        n_u = sum(x["n_unknown"] for x in rounds)
        n_te = sum(x["n_test"] for x in rounds)
        kept = sum(v["kept"] for v in r)
        rows.append({
            "set": name, "kind": kind, "method": m,
            "auroc": float(np.mean([v["auroc"] for v in r])),
            "auroc_min": float(np.min([v["auroc"] for v in r])),
            "unknown_flagged": sum(v["unknown_flagged"] for v in r) / n_u,
            "known_flagged": sum(v["known_flagged"] for v in r) / n_te,
            "accuracy": float(np.mean([x["accuracy"] for x in rounds])),
            "accuracy_kept": sum(v["kept_right"] for v in r) / max(kept, 1),
            "ece_before": float(np.mean([x["ece_before"] for x in rounds])),
            "ece_after": float(np.mean([x["ece_after"] for x in rounds])),
            "n_test": n_te, "n_unknown": n_u})
    return rows


def table(rows: list[dict[str, Any]], methods: tuple[str, ...]) -> str:
    head = ("| set | method | AUROC (min) | unknown flagged | known test flagged | accuracy "
            "known (kept) | ECE before -> after |\n| --- | --- | --- | --- | --- | --- | --- |")
    lines = [head]
    for r in rows:
        if r["method"] not in methods:
            continue
        lines.append(
            f"| {r['set']}{r.get('partial', '')} | {r['method']} | "
            f"{r['auroc']:.3f} ({r['auroc_min']:.3f}) | "
            f"{r['unknown_flagged']:.1%} of {r['n_unknown']} | "
            f"{r['known_flagged']:.1%} of {r['n_test']} | "
            f"{r['accuracy']:.1%} ({r['accuracy_kept']:.1%}) | "
            f"{r['ece_before']:.3f} -> {r['ece_after']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS),
                   metavar="SET", help=f"data sets (default all: {', '.join(SETS)}); results "
                                       "of earlier runs of other sets are kept")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="SEED",
                   help="seeds (default 0): each shuffles the classes into rounds and splits "
                        "the known spectra anew (round r of seed s uses seed s + r for the "
                        "split and the networks); results pool the rounds of all seeds")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/novelty.md")
    p.add_argument("--part", metavar="NAME",
                   help="write results to novelty-NAME.json (to run sets in parallel)")
    p.add_argument("--docs-only", action="store_true",
                   help="only rewrite the tables in docs/novelty.md from the saved results")
    p.add_argument("--scores", action="store_true",
                   help="instead of the CNN runs: compare the model-free candidate scores "
                        f"({', '.join(CANDIDATES)}) with leave-one-out thresholds on the same "
                        "rounds (no network; about a minute for five seeds)")
    p.add_argument("--augment", action="store_true",
                   help="train the networks with the tuned preset's augmentation, decided per "
                        "fit (--augment auto); results go to novelty-augment-PART.json and "
                        "are printed, not written into the docs")
    p.add_argument("--specimens", action="store_true",
                   help="instead of the CNN runs: rruff-sample's default score "
                        f"({DEFAULT_METHOD}) with the known spectra "
                        "split by spectrum or by RRUFF specimen, thresholds from "
                        "leave-one-spectrum-out or leave-one-specimen-out scores (no network)")
    p.add_argument("--keep-scores", action="store_true",
                   help="also save every spectrum's score of every method in the results "
                        "(known test, unknown and held-out), to combine scores offline")
    p.add_argument("--per-class", action="store_true",
                   help="instead of the CNN runs: the default score "
                        f"({DEFAULT_METHOD}, leave-one-out threshold) per left-out class, "
                        "per condition and, for microplastics, with chemical families left out "
                        "whole (no network; rruff-sample and microplastics)")
    p.add_argument("--figure", type=Path, metavar="PNG",
                   help="with --per-class: also draw microplastics' look-alikes (the "
                        "styrenics' class means; PA and PE pristine and under a freshwater "
                        "biofilm) into this PNG")
    p.add_argument("--thresholds", action="store_true",
                   help="instead of the CNN runs: hqi (the default score until "
                        "2026-12-05) with other ways to set its threshold from the same "
                        "leave-one-out scores (no network)")
    p.add_argument("--pvalues", action="store_true",
                   help="instead of the CNN runs: the default score's conformal p-values "
                        "(predict's novelty_p) of known test and left-out spectra (no network)")
    p.add_argument("--combine", action="store_true",
                   help="instead of the CNN runs: combine hqi with the network's scores from "
                        "the per-spectrum scores saved by --keep-scores (no network)")
    p.add_argument("--nap-k", action="store_true",
                   help="instead of the CNN runs: hqi-nap with 0 to 4 directions removed, "
                        "and the number chosen per round inside its training part by "
                        "leaving whole classes out (no network)")
    args = p.parse_args(argv)
    if args.nap_k:
        return nap_directions(args)
    if args.combine:
        return combine_scores(ROOT / "benchmarks" / "results")
    if args.specimens:
        return specimens(args)
    if args.per_class:
        return per_class(args)
    if args.thresholds:
        return compare_thresholds(args)
    if args.pvalues:
        return pvalue_check(args)
    if args.docs_only:
        args.sets = []
    torch.set_num_threads(args.threads)
    res_dir = ROOT / "benchmarks" / "results"
    if args.scores:
        return compare_scores(args, res_dir / "novelty-scores.json")
    res_path = res_dir / (f"novelty-{args.part}.json" if args.part else "novelty.json")
    done: dict[str, Any] = {}
    if args.augment:
        CNN.update(AUGMENT)
        res_path = res_dir / f"novelty-augment-{args.part or 'all'}.json"
        args.no_docs = True
    else:
        # Results of earlier runs (and of parallel parts, novelty-<part>.json) are kept.
        for f in sorted(res_dir.glob("novelty*.json")):
            if f.name != "novelty-scores.json" and not f.name.startswith("novelty-augment"):
                done.update(json.loads(f.read_text()))
    t_all = time.perf_counter()
    for name in args.sets:
        kind, n_rounds = SETS[name]
        t0 = time.perf_counter()
        rounds: list[dict[str, Any]] = []
        loads: list[float] = []
        for seed in args.seeds:
            for r, (left, Xk, yk, Xu) in enumerate(rounds_of(name, n_rounds, seed)):
                res = one_round(Xk, yk, Xu, seed + r, args.keep_scores)
                res["left_out"] = left
                res["seed"] = seed
                rounds.append(res)
                loads.append(os.getloadavg()[0])
                print(f"{name} seed {seed} round {r + 1}/{n_rounds} (left out "
                      f"{', '.join(left)}): accuracy {res['accuracy']:.3f}, AUROC " + ", ".join(
                          f"{m} {v['auroc']:.3f}" for m, v in res["methods"].items())
                      + f" ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
                # Saved after every round, so an interrupted run keeps what it measured.
                done[name] = {"kind": kind, "rounds": rounds,
                              "n_rounds": n_rounds * len(args.seeds), "seeds": args.seeds,
                              "summary": summarise(name, kind, rounds),
                              "seconds": time.perf_counter() - t0,
                              "load": [min(loads), max(loads)],
                              "date": time.strftime("%Y-%m-%d", time.gmtime())}
                _save(res_path, done, args)
    done["_settings"] = SETTINGS | {"seeds": args.seeds, "threads": args.threads}
    if args.sets:
        _save(res_path, done, args)
    rows = []
    for n in SETS:
        if n in done:
            k, total = len(done[n]["rounds"]), done[n].get("n_rounds", SETS[n][1])
            part = f" ({k} of {total} rounds)" if k < total else ""
            rows += [{**r, "partial": part} for r in done[n]["summary"]]
    print(table(rows, ROWS))
    print(per_seed_table(done))
    cal = calibration_rows(done, "augmentation decided per fit" if args.augment
                           else "no augmentation")
    if cal:
        print(calibration_table(cal))
    print(f"({time.perf_counter() - t_all:.0f} s)", file=sys.stderr)
    if not args.no_docs:
        write_docs(rows, done)
    return 0


def calibration_rows(done: dict[str, Any], networks: str) -> list[dict[str, Any]]:
    rows = []
    for n in SETS:
        r = calibration_row(n, done[n]["rounds"]) if n in done else None
        if r is not None:
            rows.append(r | {"networks": networks})
    return rows


def augmented_results(res_dir: Path) -> dict[str, Any]:
    """Rounds of the ``--augment`` runs (``novelty-augment-*.json``), per set, merged."""
    out: dict[str, Any] = {}
    for f in sorted(res_dir.glob("novelty-augment-*.json")):
        for k, v in json.loads(f.read_text()).items():
            if k in SETS:
                out.setdefault(k, {"rounds": []})["rounds"] += v["rounds"]
    return out


def _seed_method(done: dict[str, Any]) -> str:
    """The default score's leave-one-out rows, or, for rounds run before it was the default,
    the newest earlier default's."""
    return next(m for m in (f"{DEFAULT_METHOD}-loo", "hqi-halves-loo", "hqi-loo")
                if all(m in x["methods"] for n in SETS if n in done
                       for x in done[n]["rounds"]))


def per_seed_table(done: dict[str, Any], method: str | None = None) -> str:
    """The default score, seed by seed: how much one split moves the flagged shares, and the
    rounds whose threshold is the largest leave-one-out score (fewer than 39 training
    spectra), with that spectrum's class, score and the number of training spectra."""
    method = method or _seed_method(done)
    lines = ["| set | seed | AUROC (min) | unknown flagged | known test flagged | rounds whose "
             "threshold is the largest LOO score |", "| --- | --- | --- | --- | --- | --- |"]
    for n in SETS:
        if n not in done:
            continue
        rounds = done[n]["rounds"]
        for seed in sorted({x.get("seed", 0) for x in rounds}):
            rs = [x for x in rounds if x.get("seed", 0) == seed]
            v = [x["methods"][method] for x in rs]
            n_u, n_te = sum(x["n_unknown"] for x in rs), sum(x["n_test"] for x in rs)
            au = [x["auroc"] for x in v]
            top = [f"{m['loo_top'][0][1]} {m['loo_top'][0][0]:.2f} of {x['n_train']} "
                   f"(next {m['loo_top'][1][0]:.2f})"
                   for x, m in zip(rs, v, strict=True)
                   if "rank" in m and m["rank"] >= x["n_train"]]
            lines.append(f"| {n} | {seed} | {np.mean(au):.3f} ({np.min(au):.3f}) | "
                         f"{sum(x['unknown_flagged'] for x in v) / n_u:.1%} of {n_u} | "
                         f"{sum(x['known_flagged'] for x in v) / n_te:.1%} of {n_te} | "
                         f"{'; '.join(top) or '-'} |")
    return "\n".join(lines)


# ------------------------------------------------- model-free candidate scores (--scores)
#: Neighbours whose non-negative combination explains a spectrum (``mixture`` candidates).
MIX_K = 10


def _centred_unit(A: np.ndarray) -> np.ndarray:
    A = A - A.mean(axis=1, keepdims=True)
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _sg1(X: np.ndarray) -> np.ndarray:
    from scipy.signal import savgol_filter

    return np.asarray(savgol_filter(X, 9, 2, deriv=1, axis=1))


def _shipped(method: str, R: np.ndarray, yR: np.ndarray, Q: np.ndarray | None,
             window: int = HQI_WINDOW) -> np.ndarray:
    """A shipped score (``window`` points of Savitzky-Golay derivative) of ``Q`` against
    ``R``; leave-one-out on ``R`` when ``Q`` is None."""
    sc = model_free(R, method, window, labels=yR)
    return sc.loo_scores() if Q is None else free_scores(sc, Q)


def _hqi(R: np.ndarray, yR: np.ndarray, Q: np.ndarray | None,
         window: int = HQI_WINDOW) -> np.ndarray:
    """``hqi`` (the whole grid) of ``Q`` against ``R``, as :func:`_shipped`."""
    return _shipped("hqi", R, yR, Q, window)


def _block_r(R: np.ndarray, Q: np.ndarray | None, blocks: int,
             window: int = HQI_WINDOW) -> np.ndarray:
    """The derivatives' correlation of every spectrum of ``Q`` (``R`` when None) with every
    one of ``R`` within each of ``blocks`` runs of equal length of the grid: shape
    ``(blocks, len(Q), len(R))``."""
    from scipy.signal import savgol_filter

    def parts(X: np.ndarray) -> list[np.ndarray]:
        d = savgol_filter(X, window, 2, deriv=1, axis=1)
        out = []
        for idx in np.array_split(np.arange(d.shape[1]), blocks):
            b = d[:, idx] - d[:, idx].mean(axis=1, keepdims=True)
            n = np.linalg.norm(b, axis=1, keepdims=True)
            out.append(b / np.where(n > 0, n, 1.0))
        return out

    pr = parts(R)
    pq = pr if Q is None else parts(Q)
    return np.stack([q @ r.T for q, r in zip(pq, pr, strict=True)])


def _best(sim: np.ndarray, loo: bool) -> np.ndarray:
    """One minus each row's best similarity (the diagonal left out when ``loo``)."""
    if loo:
        np.fill_diagonal(sim, -np.inf)
    return np.asarray(np.maximum(1.0 - sim.max(axis=1), 0.0))


def _hqi_blocks(R: np.ndarray, Q: np.ndarray | None, blocks: int = 2,
                how: str = "mean") -> np.ndarray:
    """``hqi`` with the grid cut into ``blocks`` runs of equal length: one minus the largest
    mean (``how="min"``: the smallest) over the blocks of the derivatives' correlation
    within each block, so that every part of the range counts alike, whatever its
    intensity (``Q=None``: leave-one-out)."""
    r = _block_r(R, Q, blocks)
    return _best(r.mean(axis=0) if how == "mean" else r.min(axis=0), Q is None)


def _hqi_scales(R: np.ndarray, Q: np.ndarray | None, scales: tuple[int, ...]) -> np.ndarray:
    """The mean of the block-averaged correlations at several block counts (1: the whole
    grid, 2: halves, 4: quarters), one minus its best value."""
    sim = np.mean([_block_r(R, Q, b).mean(axis=0) for b in scales], axis=0)
    return _best(sim, Q is None)


def _mixture(R: np.ndarray, Q: np.ndarray | None, k: int = MIX_K) -> np.ndarray:
    """Residual norm / spectrum norm of the non-negative least-squares fit of each spectrum by
    its ``k`` most correlated reference spectra (``Q=None``: leave-one-out on ``R``)."""
    from scipy.optimize import nnls

    loo = Q is None
    Qa = R if Q is None else Q
    sim = _centred_unit(Qa) @ _centred_unit(R).T
    if loo:
        np.fill_diagonal(sim, -np.inf)
    out = np.empty(len(Qa))
    for i, q in enumerate(Qa):
        cols = np.argsort(-sim[i])[:min(k, len(R) - loo)]
        _, resid = nnls(R[cols].T, q)
        out[i] = resid / np.linalg.norm(q)
    return out


def _class_normalised(R: np.ndarray, yR: np.ndarray, Q: np.ndarray | None) -> np.ndarray:
    """hqi divided by the median leave-one-out hqi of the nearest spectrum's class (the class's
    own spread), one pooled threshold; leave-one-out: the median without the spectrum."""
    sc = model_free(R, "hqi")
    ref, loo_r = sc.reference_["derivatives"], sc.loo_scores()
    loo = Q is None
    sim = ref @ ref.T if loo else _derivative_rows(Q) @ ref.T
    if loo:
        np.fill_diagonal(sim, -np.inf)
    s, near = 1.0 - sim.max(axis=1), yR[sim.argmax(axis=1)]
    out = np.empty(len(s))
    for i in range(len(s)):
        m = yR == near[i]
        if loo:
            m[i] = False
        tau = np.median(loo_r[m]) if m.any() else np.median(loo_r)
        out[i] = s[i] / max(float(tau), 1e-3)
    return out


def _simca(R: np.ndarray, yR: np.ndarray, Q: np.ndarray | None, k: int = 2,
           blocks: int = 2) -> np.ndarray:
    """SIMCA-like class models on the default score's rows (unit-length derivatives, halves):
    each class's mean and first ``k`` principal directions (at most one fewer than its
    spectra); a spectrum's score is its smallest residual norm over the class models
    (``Q=None``: leave-one-out, each spectrum's own class refitted without it)."""
    D = _derivative_rows(R, HQI_WINDOW, blocks)
    Dq = D if Q is None else _derivative_rows(Q, HQI_WINDOW, blocks)
    classes = sorted(set(yR.tolist()))

    def model(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = rows.mean(axis=0)
        kk = min(k, len(rows) - 1)
        V = (np.linalg.svd(rows - m, full_matrices=False)[2][:kk] if kk > 0
             else np.zeros((0, rows.shape[1])))
        return m, V

    def resid(q: np.ndarray, m: np.ndarray, V: np.ndarray) -> np.ndarray:
        c = q - m
        return np.asarray(np.linalg.norm(c - (c @ V.T) @ V, axis=-1))

    fitted = {c: model(D[yR == c]) for c in classes}
    out = np.min([resid(Dq, *fitted[c]) for c in classes], axis=0)
    if Q is None:  # each spectrum against its own class without it
        for i in range(len(D)):
            own = np.flatnonzero(yR == yR[i])
            rest = own[own != i]
            if rest.size == 0:
                r_own = np.inf
            else:
                r_own = float(resid(D[i], *model(D[rest])))
            others = [float(resid(D[i], *fitted[c])) for c in classes if c != yR[i]]
            out[i] = min([r_own, *others])
    return np.asarray(out)


CANDIDATES = {
    "hqi": _hqi,
    "hqi-nap (halves, 2 within-class directions removed; the default since 2026-12-06)":
        lambda R, yR, Q: _shipped("hqi-nap", R, yR, Q),
    "hqi, 9-point window (the default before 2026-12-02)":
        lambda R, yR, Q: _hqi(R, yR, Q, window=9),
    "mixture": lambda R, yR, Q: _mixture(R, Q),
    "mixture-deriv": lambda R, yR, Q: _mixture(_sg1(R), None if Q is None else _sg1(Q)),
    "hqi+mixture": lambda R, yR, Q: (_hqi(R, yR, Q) + _mixture(R, Q)) / 2,
    "class-normalised hqi": _class_normalised,
    "hqi, halves averaged": lambda R, yR, Q: _hqi_blocks(R, Q, 2),
    "hqi, quarters averaged": lambda R, yR, Q: _hqi_blocks(R, Q, 4),
    "hqi, worse half": lambda R, yR, Q: _hqi_blocks(R, Q, 2, how="min"),
    "hqi, whole and halves averaged": lambda R, yR, Q: _hqi_scales(R, Q, (1, 2)),
    "hqi, halves and quarters averaged": lambda R, yR, Q: _hqi_scales(R, Q, (2, 4)),
    "simca, halves, 2 components per class": lambda R, yR, Q: _simca(R, yR, Q, k=2),
    "simca, halves, 4 components per class": lambda R, yR, Q: _simca(R, yR, Q, k=4),
}


#: ``--combine``: the default score with the network's, name -> methods.
COMBOS = {"hqi + mahalanobis": ("hqi", "mahalanobis"), "hqi + knn": ("hqi", "knn"),
          "hqi + knn + mahalanobis": ("hqi", "knn", "mahalanobis"),
          "hqi + energy": ("hqi", "energy")}


def _p_values(ref: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Share of the reference (held-out known) scores at or below each score, out of n + 1."""
    return np.searchsorted(np.sort(ref), s, side="right") / (ref.size + 1)


def combined_round(methods: dict[str, Any], names: tuple[str, ...], how: str
                   ) -> tuple[float, int, int]:
    """One round of a combined score: every method's score becomes its empirical p-value
    among the held-out known scores (inner out-of-fold, as `train` has them), the p-values
    are averaged (``how="mean"``) or the largest taken (``"max"``), and the threshold for
    5 % false alarms is the conformal quantile of the held-out spectra's own combined values
    (each against the others). Returns ``(AUROC, unknown flagged, known flagged)``."""
    pick = np.mean if how == "mean" else np.max
    held = [np.asarray(methods[m]["held_out"]) for m in names]
    n = held[0].size
    own = pick([[_p_values(np.delete(h, i), h[i:i + 1])[0] for i in range(n)]
                for h in held], axis=0)
    known = pick([_p_values(h, np.asarray(methods[m]["known"]))
                  for h, m in zip(held, names, strict=True)], axis=0)
    unknown = pick([_p_values(h, np.asarray(methods[m]["unknown"]))
                    for h, m in zip(held, names, strict=True)], axis=0)
    thr = conformal_threshold(own, RATE)
    # ties among p-values: broken by the first score (the default's), which ranks them
    tie = 1e-9 * np.r_[methods[names[0]]["known"], methods[names[0]]["unknown"]]
    auc = _auroc(known + tie[:known.size], unknown + tie[known.size:])
    return auc, int((unknown > thr).sum()), int((known > thr).sum())


def combine_scores(res_dir: Path) -> int:
    """``--combine``: combined scores from the per-spectrum scores of a ``--keep-scores``
    run (no network), against the single scores with the same inner-CV thresholds."""
    done = json.loads((res_dir / "novelty.json").read_text())
    lines = ["| set | score | AUROC mean (worst round) | unknown flagged | known test flagged |",
             "| --- | --- | --- | --- | --- |"]
    for name in SETS:
        rounds = done.get(name, {}).get("rounds", [])
        if not rounds or "held_out" not in rounds[0]["methods"]["hqi"]:
            continue
        n_u = sum(r["n_unknown"] for r in rounds)
        n_k = sum(r["n_test"] for r in rounds)
        cands = [(m, (m,), "max") for m in ("hqi", "mahalanobis", "knn")]
        cands += [(f"{c}, {how} of p-values", ms, how) for c, ms in COMBOS.items()
                  for how in ("mean", "max")]
        for label, ms, how in cands:
            res = [combined_round(r["methods"], ms, how) for r in rounds]
            auc = [x[0] for x in res]
            lines.append(f"| {name} | {label} | {np.mean(auc):.3f} ({np.min(auc):.3f}) | "
                         f"{sum(x[1] for x in res) / n_u:.1%} of {n_u} | "
                         f"{sum(x[2] for x in res) / n_k:.1%} of {n_k} |")
    if len(lines) == 2:
        print("error: no per-spectrum scores in benchmarks/results/novelty.json; run with "
              "--keep-scores first", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def compare_scores(args: argparse.Namespace, path: Path) -> int:
    """Model-free candidate scores on the benchmark's rounds and splits, LOO thresholds.
    The results of other sets in ``path`` (earlier runs) are kept, each with its seeds
    (``_settings["seeds_by_set"]``), and the docs table shows every set of the file."""
    old: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    old_settings = old.pop("_settings", {})
    seeds_by_set = {name: old_settings.get("seeds_by_set", {}).get(
        name, old_settings.get("seeds")) for name in old}
    out: dict[str, Any] = {"_settings": {"seeds": args.seeds, "rate": RATE, "k": MIX_K}}
    for name in args.sets:
        per: dict[str, list[list[float]]] = {c: [] for c in CANDIDATES}
        for seed in args.seeds:
            acc: dict[str, list[Any]] = {c: [[], 0, 0, 0, 0] for c in CANDIDATES}
            for R, yR, X_test, Xu in split_rounds(name, seed):
                for c, fn in CANDIDATES.items():
                    s_te, s_u, s_loo = fn(R, yR, X_test), fn(R, yR, Xu), fn(R, yR, None)
                    thr = conformal_threshold(s_loo, RATE)
                    a = acc[c]
                    a[0].append(_auroc(s_te, s_u))
                    a[1] += int((s_u > thr).sum())
                    a[2] += len(s_u)
                    a[3] += int((s_te > thr).sum())
                    a[4] += len(s_te)
            for c, a in acc.items():
                per[c].append([float(np.mean(a[0])), float(np.min(a[0])), a[1] / a[2],
                               a[3] / a[4]])
        old[name] = per
        seeds_by_set[name] = list(args.seeds)
        print("\n".join(_score_rows(name, per)), flush=True)
    order = [*(s for s in SETS if s in old), *(s for s in old if s not in SETS)]
    out.update((name, old[name]) for name in order)
    out["_settings"]["seeds_by_set"] = {name: seeds_by_set[name] for name in order}
    with atomic_write(path, "w") as fh:
        json.dump(out, fh, indent=1)
    if not args.no_docs:
        seeds = " ".join(str(s) for s in args.seeds)
        sets = "" if args.sets == list(SETS) else " --sets " + " ".join(
            f"'{s}'" if " " in s else s for s in args.sets)
        kept = [name for name in order if name not in args.sets]
        lines = ["| set | score | AUROC mean (worst round) | unknown flagged: mean over seeds "
                 "(range) | known test flagged: mean (worst seed) |",
                 "| --- | --- | --- | --- | --- |"]
        for name in order:
            lines += _score_rows(name, out[name])
        earlier = "".join(
            f"; {name} kept from an earlier run (seeds "
            f"{' '.join(str(s) for s in seeds_by_set[name] or [])})" for name in kept)
        _replace_block(SCORES_BEGIN, SCORES_END,
                       f"`nice -n 10 .venv/bin/python benchmarks/novelty.py --scores --seeds "
                       f"{seeds}{sets}`"
                       f" (no network; {len(args.seeds)} seeds, each with its own rounds and "
                       "70/30 splits; thresholds from leave-one-out scores for 5 % false "
                       f"alarms{earlier}):\n\n" + "\n".join(lines))
    return 0


def _score_rows(name: str, per: dict[str, list[list[float]]]) -> list[str]:
    """The docs table's rows of one set of ``--scores``."""
    rows = []
    for c, v in per.items():
        m = np.asarray(v)
        rows.append(f"| {name} | {c} | {m[:, 0].mean():.3f} ({m[:, 1].min():.3f}) | "
                    f"{m[:, 2].mean():.1%} ({m[:, 2].min():.0%}-{m[:, 2].max():.0%}) | "
                    f"{m[:, 3].mean():.1%} ({m[:, 3].max():.0%}) |")
    return rows


class _Flagged:
    """Unknown and known test spectra flagged at a threshold, pooled over rounds, and each
    round's AUROC."""

    def __init__(self) -> None:
        self.auc: list[float] = []
        self.n = [0, 0, 0, 0]  # unknown flagged, unknown, known flagged, known

    def add(self, s_u: np.ndarray, s_te: np.ndarray, thr: float) -> None:
        self.auc.append(_auroc(s_te, s_u))
        self.n = [a + b for a, b in zip(self.n, [int((s_u > thr).sum()), s_u.size,
                                                 int((s_te > thr).sum()), s_te.size],
                                        strict=True)]

    def cells(self, auroc: bool = True) -> str:
        u, nu, k, nk = self.n
        head = f"{np.mean(self.auc):.3f} ({np.min(self.auc):.3f}) | " if auroc else ""
        return f"{head}{u / nu:.1%} of {nu} | {k / nk:.1%} of {nk}"


def _publish(args: argparse.Namespace, lines: list[str], marks: tuple[str, str],
             intro: str) -> int:
    """Print a table and, unless ``--no-docs``, write it with its command line between
    ``marks`` in docs/novelty.md."""
    print("\n".join(lines))
    if not args.no_docs:
        _replace_block(*marks, intro.format(seeds=" ".join(str(s) for s in args.seeds))
                       + ":\n\n" + "\n".join(lines))
    return 0


#: ``--pvalues``: the levels at which the p-values are read.
P_LEVELS = (0.01, 0.05, 0.10, 0.20)


def pvalue_check(args: argparse.Namespace) -> int:
    """``novelty_p`` as ``predict`` writes it: the default score's conformal p-value among the
    training part's leave-one-out scores, on the benchmark's rounds and 70/30 splits. For
    the known test spectra the share with ``p <= a`` should be at most ``a`` (it is the
    false-alarm rate of the rule "flag when p <= a"); for the left-out ones, the larger the
    better."""
    from ramancam.novelty import p_values

    lines = ["| set | spectra | " + " | ".join(f"p <= {a:g}" for a in P_LEVELS) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in P_LEVELS) + " |"]
    for name in args.sets:
        known: list[np.ndarray] = []
        unknown: list[np.ndarray] = []
        for seed in args.seeds:
            for R, yR, X_test, Xu in split_rounds(name, seed):
                sc = model_free(R, labels=yR)
                held = sc.loo_scores()
                known.append(p_values(free_scores(sc, X_test), held))
                unknown.append(p_values(free_scores(sc, Xu), held))
        for what, ps in (("known test", known), ("left-out classes", unknown)):
            p_all = np.concatenate(ps)
            lines.append(f"| {name} | {what} ({p_all.size}) | "
                         + " | ".join(f"{np.mean(p_all <= a):.1%}" for a in P_LEVELS) + " |")
        print("\n".join(lines[-2:]), flush=True)
    return _publish(args, lines, (PVALUES_BEGIN, PVALUES_END),
                    "`.venv/bin/python benchmarks/novelty.py --pvalues --seeds {seeds}` "
                    f"(the default `{DEFAULT_METHOD}`, no network; the rounds and 70/30 splits "
                    "of the `--scores` table; p-values among the training part's leave-one-out "
                    "scores, as `predict`'s `novelty_p`; share of spectra at or below each "
                    "level)")


def specimens(args: argparse.Namespace) -> int:
    """rruff-sample holds 84 spectra of 39 specimens (the same specimen at other lasers or
    orientations). Split by spectrum, a known test spectrum usually has a twin in training
    and its leave-one-out threshold sees twins too; split by specimen (``RRUFFID``, as
    ``ramancam train --group-col RRUFFID`` does), the numbers are those of new specimens."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    raw = read(DATA / "rruff-sample", labels_from="header:NAMES")
    out = baseline_recipe("asls", grid=(210, 1190, 1)).apply(raw)
    X, y = np.asarray(out.X, dtype=np.float64), np.asarray(out.labels).astype(str)
    g = np.asarray(out.meta["RRUFFID"]).astype(str)
    ways = {"by spectrum (70/30) | leave one spectrum out": ("spectrum", False),
            "by specimen (stratified group 3-fold, first fold) | leave one spectrum out":
                ("specimen", False),
            "by specimen (stratified group 3-fold, first fold) | leave one specimen out":
                ("specimen", True),
            "by specimen (stratified group 3-fold, first fold) | leave one specimen out, "
            "without spectra whose class is then missing": ("specimen", "labels")}
    acc = {w: _Flagged() for w in ways}
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        for r, left in enumerate(np.array_split(rng.permutation(np.unique(y)),
                                                SETS["rruff-sample"][1])):
            unk = np.isin(y, left)
            Xk, yk, gk, Xu = X[~unk], y[~unk], g[~unk], X[unk]
            for w, (split, by_group) in ways.items():
                if split == "spectrum":
                    tr, te = train_test_split(np.arange(yk.size), test_size=0.3, stratify=yk,
                                              random_state=seed + r)
                else:
                    tr, te = next(StratifiedGroupKFold(3, shuffle=True, random_state=seed + r)
                                  .split(Xk, yk, gk))
                sc = model_free(Xk[tr], labels=yk[tr])
                thr = conformal_threshold(sc.loo_scores(
                    gk[tr] if by_group else None,
                    yk[tr] if by_group == "labels" else None), RATE)
                s_te = sc.score(Xk[te], np.zeros((te.size, 1)), None)
                s_u = sc.score(Xu, np.zeros((len(Xu), 1)), None)
                acc[w].add(s_u, s_te, thr)
    lines = ["| known spectra split | threshold from | AUROC mean (worst round) | unknown "
             "flagged | known test flagged |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {w} | {a.cells()} |" for w, a in acc.items()]
    return _publish(args, lines, (SPECIMENS_BEGIN, SPECIMENS_END),
                    "`.venv/bin/python benchmarks/novelty.py --specimens --seeds {seeds}` "
                    f"(the default `{DEFAULT_METHOD}`, no network; rruff-sample, the same "
                    "rounds as above, "
                    f"{len(args.seeds)} seeds; 5 % false-alarm threshold)")


# ------------------------------------------ hqi-nap's number of directions (--nap-k)
#: ``--nap-k``: the numbers of directions measured, and those a choice may pick from.
NAP_KS = (0, 1, 2, 3, 4)
NAP_CHOICES = {"chosen from 0-4 inside training": NAP_KS,
               "chosen from 1-3 inside training": (1, 2, 3)}


def _nap_round(R: np.ndarray, yR: np.ndarray, X_test: np.ndarray, Xu: np.ndarray
               ) -> dict[int, dict[str, Any]]:
    """One round's ``hqi-nap`` with each of :data:`NAP_KS` directions: the test and unknown
    scores, the leave-one-out threshold and what the training part alone says of the
    choice: each training class left out whole in turn (the directions refitted without it,
    exactly as for any left-out group) and scored against the other classes; ``inner`` is
    the share of those above the threshold, ``inner_auroc`` their AUROC against the
    leave-one-out scores."""
    from ramancam._nap import nuisance_directions

    out = {}
    sc = model_free(R, "hqi-nap", labels=yR)  # the derivatives once; k directions each turn
    for k in NAP_KS:
        sc.reference_["nuisance"] = nuisance_directions(sc.reference_["derivatives"],
                                                        sc.labels_, k)
        sc._projected = None  # the reference rows, projected anew with k directions
        loo = sc.loo_scores()
        thr = conformal_threshold(loo, RATE)
        loco = sc.loo_scores(groups=yR)
        out[k] = {"s_te": free_scores(sc, X_test), "s_u": free_scores(sc, Xu), "thr": thr,
                  "inner": float(np.mean(loco > thr)), "inner_auroc": _auroc(loo, loco)}
    return out


def nap_directions(args: argparse.Namespace) -> int:
    """``hqi-nap`` with 0 (= ``hqi-halves``) to 4 nuisance directions on the rounds and
    splits of the ``--scores`` table, and a per-round choice of the number made on the
    training part alone: the most left-out training classes flagged at the round's own
    threshold, ties to the higher leave-class-out AUROC, then to the count nearest 2."""
    lines = ["| set | directions | AUROC mean (worst round) | unknown flagged | "
             "known test flagged | rounds choosing 0 / 1 / 2 / 3 / 4 |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in args.sets:
        acc = {str(k): _Flagged() for k in NAP_KS} | {c: _Flagged() for c in NAP_CHOICES}
        chosen: dict[str, list[int]] = {c: [] for c in NAP_CHOICES}
        for seed in args.seeds:
            for R, yR, X_test, Xu in split_rounds(name, seed):
                res = _nap_round(R, yR, X_test, Xu)
                for k, v in res.items():
                    acc[str(k)].add(v["s_u"], v["s_te"], v["thr"])
                for c, ks in NAP_CHOICES.items():
                    k = max(ks, key=lambda k: (res[k]["inner"], res[k]["inner_auroc"],
                                               -abs(k - 2)))
                    chosen[c].append(k)
                    acc[c].add(res[k]["s_u"], res[k]["s_te"], res[k]["thr"])
        for what, a in acc.items():
            counts = (" / ".join(str(chosen[what].count(k)) for k in NAP_KS)
                      if what in chosen else "-")
            label = what + (" (= hqi-halves)" if what == "0" else
                            " (the default)" if what == "2" else "")
            lines.append(f"| {name} | {label} | {a.cells()} | {counts} |")
        print("\n".join(lines[-len(acc):]), flush=True)
    return _publish(args, lines, (NAPK_BEGIN, NAPK_END),
                    "`.venv/bin/python benchmarks/novelty.py --nap-k --seeds {seeds}` "
                    "(`hqi-nap` with 0 to 4 within-class directions removed, no network; "
                    f"{len(args.seeds)} seeds, the rounds and splits of the `--scores` table; "
                    "thresholds from leave-one-out scores for 5 % false alarms)")


# ------------------------------------------------- other thresholds (--thresholds)
def _lognormal_robust(scores: np.ndarray) -> float:
    """The 95 % point of a log-normal fitted robustly (median and MAD of the log scores),
    so that one odd training spectrum cannot set it."""
    z = np.log(np.clip(scores, 1e-9, None))
    med = float(np.median(z))
    return float(np.exp(med + 1.645 * 1.4826 * float(np.median(np.abs(z - med)))))


#: ``--thresholds``: name -> threshold from the leave-one-out scores (5 % false alarms).
THRESHOLDS = {
    "split-conformal quantile (the default)": lambda s: conformal_threshold(s, RATE),
    "plain 95 % quantile (np.quantile)": lambda s: float(np.quantile(s, 1 - RATE)),
    "robust log-normal 95 % point (median, MAD)": _lognormal_robust,
}


def compare_thresholds(args: argparse.Namespace) -> int:
    """``hqi`` (the default score until 2026-12-05) on the benchmark's rounds and splits, its
    threshold set three ways from the same leave-one-out scores of the training spectra."""
    lines = ["| set | threshold | unknown flagged | known test flagged (<= 5 % promised) |",
             "| --- | --- | --- | --- |"]
    for name in args.sets:
        acc = {k: _Flagged() for k in THRESHOLDS}
        for seed in args.seeds:
            for R, _, X_test, Xu in split_rounds(name, seed):
                sc = model_free(R, "hqi")
                s_loo = sc.loo_scores()
                s_u, s_te = free_scores(sc, Xu), free_scores(sc, X_test)
                for k, fn in THRESHOLDS.items():
                    acc[k].add(s_u, s_te, fn(s_loo))
        lines += [f"| {name} | {k} | {a.cells(auroc=False)} |" for k, a in acc.items()]
    return _publish(args, lines, (THRESHOLDS_BEGIN, THRESHOLDS_END),
                    "`.venv/bin/python benchmarks/novelty.py --thresholds --seeds {seeds}` "
                    "(`hqi`, the default until 2026-12-05, no network; "
                    f"{len(args.seeds)} seeds, the rounds and splits of the tables above; "
                    "each threshold from the same leave-one-out scores of the training spectra)")


# ------------------------------------------------------ which classes are missed (--per-class)
#: Polymers of microplastics that share their Raman bands: ABS is SAN grafted with
#: polybutadiene, PS is SAN without the nitrile; the family rounds leave them out together.
FAMILIES = {"microplastics": {"ABS": "styrenics", "SAN": "styrenics", "PS": "styrenics"}}
#: Sets of ``--per-class`` (those whose classes are measured substances).
PER_CLASS_SETS = ("rruff-sample", "microplastics")


def class_rounds(X: np.ndarray, y: np.ndarray, units: np.ndarray, n_rounds: int, seed: int,
                 window: int = HQI_WINDOW) -> list[dict[str, Any]]:
    """The default score's rounds with its leave-one-out threshold, spectrum by spectrum.

    ``units[i]`` is what spectrum i is left out with (its class, or its class's family): the
    units are shuffled by ``seed`` and split into ``n_rounds`` groups, one left out per round
    (as :func:`rounds_of` does with classes); the known spectra are split 70/30 (stratified
    by class, ``random_state = seed + round``). Per round: indices of the unknown and known
    test spectra, their scores, whether each is flagged, and the class of each one's nearest
    training spectrum."""
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    out = []
    for r, left in enumerate(np.array_split(rng.permutation(np.unique(units)), n_rounds)):
        unk = np.isin(units, left)
        known = np.flatnonzero(~unk)
        tr, te = train_test_split(known, test_size=0.3, stratify=y[known],
                                  random_state=seed + r)
        sc = model_free(X[tr], DEFAULT_METHOD, window, labels=y[tr])
        thr = conformal_threshold(sc.loo_scores(), RATE)
        iu = np.flatnonzero(unk)
        rnd: dict[str, Any] = {"left_out": [str(u) for u in left], "threshold": thr}
        for part, idx in (("unknown", iu), ("known", te)):
            score, match = sc.score_and_match(X[idx], np.zeros((idx.size, 1)), None)
            rnd[part] = {"index": idx, "score": score, "flagged": score > thr,
                         "nearest": np.unique(y[tr])[match]}
        rnd["auroc"] = _auroc(rnd["known"]["score"], rnd["unknown"]["score"])
        out.append(rnd)
    return out


def _share(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} ({np.mean(flags):.0%})" if flags else "-"


def per_class_tables(y: np.ndarray, rounds: list[dict[str, Any]],
                     condition: np.ndarray | None = None) -> tuple[list[str], str]:
    """``(rows, summary)``: one table row per class (its spectra flagged when its class was
    left out, per condition when given, the known classes its missed spectra were nearest
    to, its known test spectra flagged) and the pooled summary cells."""
    unk: dict[str, list[bool]] = {}
    kn: dict[str, list[bool]] = {}
    cond: dict[tuple[str, str], list[bool]] = {}
    near: dict[str, dict[str, int]] = {}
    for rnd in rounds:
        u = rnd["unknown"]
        for i, f, nn in zip(u["index"], u["flagged"], u["nearest"], strict=True):
            unk.setdefault(str(y[i]), []).append(bool(f))
            if condition is not None:
                cond.setdefault((str(y[i]), str(condition[i])), []).append(bool(f))
            if not f:
                d = near.setdefault(str(y[i]), {})
                d[str(nn)] = d.get(str(nn), 0) + 1
        for i, f in zip(rnd["known"]["index"], rnd["known"]["flagged"], strict=True):
            kn.setdefault(str(y[i]), []).append(bool(f))
    conds = sorted({c for _, c in cond})
    rows = []
    for c in sorted(unk):
        by_cond = ([" | ".join(_share(cond.get((c, k), [])) for k in conds)]
                   if conds else [])
        top = sorted(near.get(c, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:2]
        rows.append(" | ".join([c, _share(unk[c]), *by_cond,
                                ", ".join(f"{k} {n}" for k, n in top) or "-",
                                _share(kn.get(c, []))]))
    auc = [r["auroc"] for r in rounds]
    flags_u = [f for v in unk.values() for f in v]
    flags_k = [f for v in kn.values() for f in v]
    summary = (f"{np.mean(auc):.3f} ({np.min(auc):.3f}) | {np.mean(flags_u):.1%} of "
               f"{len(flags_u)} | {np.mean(flags_k):.1%} of {len(flags_k)}")
    return rows, summary


def _condition(name: str) -> np.ndarray | None:
    if name != "microplastics":
        return None
    s = read(DATA / "microplastics" / "spectra.csv", label_col="label")
    return np.asarray(s.meta["condition"]).astype(str)


def look_alikes_figure(path: Path) -> None:
    """Why microplastics' left-out polymers are missed: the class means of the three
    styrenics (pristine), and of PA and PE pristine and after freshwater incubation (FW),
    as the benchmark preprocesses them (asls, 200-3200 cm-1), each scaled to its maximum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ramancam.io import atomic_write

    (X, y), _ = load("microplastics")
    cond = _condition("microplastics")
    start, stop, step = MICROPLASTICS_GRID
    w = np.arange(start, stop + step, step, dtype=float)[:X.shape[1]]

    def mean(c: str, k: str) -> np.ndarray:
        m = X[(y == c) & (cond == k)].mean(axis=0)
        return m / m.max()

    fig, axes = plt.subplots(2, 1, figsize=(8, 6.2), sharex=True)
    for i, c in enumerate(("PS", "SAN", "ABS")):
        axes[0].plot(w, mean(c, "pristine") + 0.6 * i, lw=0.9, label=c)
    axes[0].axvspan(2200, 2270, color="0.85", zorder=0)
    axes[0].annotate("nitrile (SAN, ABS)", (2235, 1.9), ha="center", fontsize=8)
    axes[0].set_title("styrenics, pristine: the same polystyrene bands (offset 0.6 each)",
                      fontsize=9)
    for i, (c, k) in enumerate((("PA", "pristine"), ("PE", "pristine"), ("PA", "FW"),
                                ("PE", "FW"))):
        axes[1].plot(w, mean(c, k) + 0.8 * i, lw=0.9, label=f"{c} {k}")
    axes[1].set_title("PA and PE: distinct when pristine, alike under a freshwater biofilm "
                      "(offset 0.8 each)", fontsize=9)
    for ax in axes:
        ax.legend(fontsize=8, loc="upper left", ncol=4, frameon=False)
        ax.set_yticks([])
        ax.set_ylabel("class mean / max")
    axes[1].set_xlabel("Raman shift (cm-1)")
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=100)
    plt.close(fig)


def per_class(args: argparse.Namespace) -> int:
    """``--per-class``: which left-out classes the default score misses, and to which known
    classes they look alike (no network)."""
    if args.figure is not None:
        look_alikes_figure(args.figure)
    sets = [s for s in args.sets if s in PER_CLASS_SETS] or list(PER_CLASS_SETS)
    summary = ["| set | classes left out | AUROC mean (worst round) | unknown flagged | "
               "known test flagged |", "| --- | --- | --- | --- | --- |"]
    blocks = []
    for name in sets:
        (X, y), _ = load(name)
        cond = _condition(name)
        n_rounds = SETS[name][1]
        ways = {"one by one (the benchmark's rounds)": y}
        if name in FAMILIES:
            fam = FAMILIES[name]
            ways[f"families whole ({', '.join(sorted(set(fam.values())))}: "
                 f"{', '.join(sorted(fam))})"] = np.array([fam.get(c, c) for c in y])
        for way, units in ways.items():
            rounds = [r for seed in args.seeds
                      for r in class_rounds(X, y, units, n_rounds, seed)]
            rows, cells = per_class_tables(y, rounds, cond)
            summary.append(f"| {name} | {way} | {cells} |")
            conds = sorted(set(cond)) if cond is not None else []
            head = ["left-out class", "unknown flagged",
                    *(f"{c} flagged" for c in conds),
                    "missed spectra nearest to (spectra)", "known test flagged"]
            blocks.append(f"{name}, classes left out {way}:\n\n| " + " | ".join(head)
                          + " |\n|" + " --- |" * len(head) + "\n"
                          + "\n".join(f"| {r} |" for r in rows))
    return _publish(args, ["\n".join(summary) + "\n\n" + "\n\n".join(blocks)],
                    (PERCLASS_BEGIN, PERCLASS_END),
                    "`.venv/bin/python benchmarks/novelty.py --per-class --seeds {seeds}` "
                    f"(the default `{DEFAULT_METHOD}` with its leave-one-out threshold for 5 "
                    f"% false alarms, no network; {len(args.seeds)} seeds of {n_rounds} rounds, "
                    "each with its own 70/30 split of the known spectra; every class is "
                    "left out once per seed)")


SETTINGS = {"cnn": CNN, "mix_per_pair": MIX_PER_PAIR, "rate": RATE, "inner_folds": INNER,
            "test_size": 0.3,
            "recipes": {"microplastics": "asls 200:3200:2", "rruff-sample": "asls 210:1190:1",
                        "food": "asls 400:1800:1", "drug-mabs": "paper 400:1800:2",
                        "amino-acid mixtures": "paper, common range"}}


def _save(path: Path, done: dict[str, Any], args: argparse.Namespace) -> None:
    keep = {k: v for k, v in done.items() if k in args.sets or not args.part}
    with atomic_write(path, "w") as fh:
        json.dump(keep, fh, indent=1)


def write_docs(rows: list[dict[str, Any]], done: dict[str, Any]) -> None:
    sets = [k for k in SETS if k in done]
    secs = sum(done[k]["seconds"] for k in sets)
    loads = [x for k in sets for x in done[k].get("load", [])]
    by_seeds: dict[str, list[str]] = {}
    for k in sets:
        by_seeds.setdefault(", ".join(map(str, done[k].get("seeds", [0]))), []).append(k)
    seeds = "; ".join(f"{s} ({', '.join(v)})" for s, v in by_seeds.items())
    dates = sorted({done[k].get("date", "?") for k in sets})
    load = (f"; its 1-minute load average was {min(loads):.1f}-{max(loads):.1f} during the "
            "run" if loads else "")
    seed_method = _seed_method(done)
    _replace_block(MARK_BEGIN, MARK_END,
                   "All methods (same networks; threshold for 5 % false alarms from the inner "
                   "3-fold out-of-fold scores; hqi-nap-loo, hqi-halves-loo, hqi-loo: those "
                   "scores with their threshold from the leave-one-out scores of the training "
                   "spectra; hqi-nap-loo is the default since 2026-12-06 (rows only from runs "
                   "since), hqi-halves-loo from 2026-12-05, hqi-loo before). AUROC: "
                   "mean over rounds (worst round); flagged shares pooled over rounds; seeds "
                   f"{seeds}:\n\n" + table(rows, ROWS) + "\n\n"
                   f"`{seed_method[:-4]}` (leave-one-out threshold) seed by seed:\n\n"
                   + per_seed_table(done, seed_method) + "\n\n"
                   "`hqi` (the default until 2026-12-05), leave-one-out threshold, seed by "
                   "seed:\n\n"
                   + per_seed_table(done, "hqi-loo") + "\n\n"
                   f"Wall-clock time of these sets {secs / 60:.0f} min (1 torch thread, niced, "
                   f"on the shared 2-core machine{load}; run {', '.join(dates)}).")
    cal = calibration_rows(done, "no augmentation")
    aug = calibration_rows(augmented_results(ROOT / "benchmarks" / "results"),
                           "augmentation decided per fit (`train`'s default)")
    if cal or aug:
        _replace_block(CAL_BEGIN, CAL_END,
                       "Known test spectra of the rounds above (the same for every method); "
                       "ECE with 15 equal-width bins of the top probability, after = with the "
                       "temperature chosen as `train` does (applied only where it lowered the "
                       "inner out-of-fold ECE; `rounds scaled`). Per round: the mean of each "
                       "round's ECE (the column of the table above); pooled: one ECE of all "
                       "rounds' known test spectra together. Perfectly calibrated: the ECE "
                       "a model whose every probability were exact would show with the same "
                       f"confidences and numbers of spectra (mean of {FLOOR_DRAWS} simulated "
                       "draws of right/wrong), per round and pooled. Augmented rows: "
                       "`benchmarks/novelty.py --augment` (results in "
                       "`benchmarks/results/novelty-augment-*.json`).\n\n"
                       + calibration_table(cal + aug))


def _replace_block(begin: str, end: str, body: str) -> None:
    """Replace the text between ``begin`` and ``end`` in docs/novelty.md (atomically)."""
    doc = ROOT / "docs" / "novelty.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    block = f"{begin}\n{body}\n{end}"
    new = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    with atomic_write(doc, "w") as fh:
        fh.write(new)


if __name__ == "__main__":
    raise SystemExit(main())
