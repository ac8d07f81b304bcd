"""Knowing when not to answer (issue 15): leave whole classes out of training and measure.

Usage::

    nice -n 10 .venv/bin/python benchmarks/novelty.py            # all sets (~15-25 min, 2 cores)
    nice -n 10 .venv/bin/python benchmarks/novelty.py --sets rruff microplastics

For each data set in ``../shared/data`` the classes are shuffled (seed 0) and split into
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

Writes ``benchmarks/results/novelty.json`` and the table between the markers in
``docs/novelty.md`` (atomically).
"""

from __future__ import annotations

import argparse
import json
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
    METHODS,
    NoveltyScorer,
    calibrate,
    conformal_threshold,
    expected_calibration_error,
    network_outputs,
    softmax,
)
from ramancam.preprocess import baseline_recipe, paper_recipe  # noqa: E402
from ramancam.train import CNNClassifier  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
#: CNN settings: the tuned preset's network (32 filters of 32, cosine, centred inputs) with
#: fewer epochs and a larger learning rate, so the whole benchmark stays modest.
CNN = {"n_filters": 32, "filter_size": 32, "lr_schedule": "cosine", "input_scaling": "center",
       "epochs": 30, "lr": 1e-3, "batch_size": 32}
RATE = 0.05
INNER = 3
MARK_BEGIN, MARK_END = "<!-- novelty-table:begin -->", "<!-- novelty-table:end -->"
#: name -> (kind, rounds); kind "distinct" or "near-identical".
SETS = {"rruff-sample": ("distinct", 3), "microplastics": ("distinct", 3),
        "amino-acid mixtures": ("distinct", 2), "food/yogurt": ("near-identical", 2),
        "food/astragalus": ("near-identical", 2), "drug-mabs": ("near-identical", 2)}
#: Mixtures per ordered pair of kept amino acids (known) and per pair for the unknowns.
MIX_PER_PAIR = (2, 1)


def load(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Preprocessed spectra, labels and a description of the recipe."""
    if name == "microplastics":
        s = read(DATA / "microplastics" / "spectra.csv", label_col="label")
        return _apply(baseline_recipe("asls", grid=(200, 3200, 2)), s), "asls 200:3200:2"
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


def _auroc(known: np.ndarray, unknown: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.r_[np.zeros(known.size), np.ones(unknown.size)],
                               np.r_[known, unknown]))


def one_round(Xk: np.ndarray, yk: np.ndarray, Xu: np.ndarray, seed: int) -> dict[str, Any]:
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
        if sc.model_free:  # the same score, threshold from leave-one-out training scores
            thr = conformal_threshold(sc.loo_scores(), RATE)
            kept = s_te <= thr
            out["methods"][f"{m}-loo"] = {
                "auroc": _auroc(s_te, s_u), "threshold": thr,
                "unknown_flagged": int((s_u > thr).sum()), "known_flagged": int((~kept).sum()),
                "kept": int(kept.sum()), "kept_right": int((pred_ok & kept).sum())}
    return out


ROWS = ("knn", "hqi", "hqi-loo", "mahalanobis", "energy", "msp")


def summarise(name: str, kind: str, rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for m in ROWS:
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
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/novelty.md")
    p.add_argument("--part", metavar="NAME",
                   help="write results to novelty-NAME.json (to run sets in parallel)")
    p.add_argument("--docs-only", action="store_true",
                   help="only rewrite the table in docs/novelty.md from the saved results")
    args = p.parse_args(argv)
    if args.docs_only:
        args.sets = []
    torch.set_num_threads(args.threads)
    res_dir = ROOT / "benchmarks" / "results"
    res_path = res_dir / (f"novelty-{args.part}.json" if args.part else "novelty.json")
    done: dict[str, Any] = {}
    # Results of earlier runs (and of parallel parts, novelty-<part>.json) are kept.
    for f in sorted(res_dir.glob("novelty*.json")):
        done.update(json.loads(f.read_text()))
    t_all = time.perf_counter()
    for name in args.sets:
        kind, n_rounds = SETS[name]
        t0 = time.perf_counter()
        rounds = []
        for r, (left, Xk, yk, Xu) in enumerate(rounds_of(name, n_rounds, args.seed)):
            res = one_round(Xk, yk, Xu, args.seed + r)
            res["left_out"] = left
            rounds.append(res)
            print(f"{name} round {r + 1}/{n_rounds} (left out {', '.join(left)}): accuracy "
                  f"{res['accuracy']:.3f}, AUROC " + ", ".join(
                      f"{m} {v['auroc']:.3f}" for m, v in res["methods"].items())
                  + f" ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
            # Saved after every round, so an interrupted run keeps what it measured.
            done[name] = {"kind": kind, "rounds": rounds, "n_rounds": n_rounds,
                          "summary": summarise(name, kind, rounds),
                          "seconds": time.perf_counter() - t0}
            _save(res_path, done, args)
    done["_settings"] = SETTINGS | {"seed": args.seed, "threads": args.threads}
    if args.sets:
        _save(res_path, done, args)
    rows = []
    for n in SETS:
        if n in done:
            k, total = len(done[n]["rounds"]), done[n].get("n_rounds", SETS[n][1])
            part = f" ({k} of {total} rounds)" if k < total else ""
            rows += [{**r, "partial": part} for r in done[n]["summary"]]
    print(table(rows, ROWS))
    print(f"({time.perf_counter() - t_all:.0f} s)", file=sys.stderr)
    if not args.no_docs:
        write_docs(rows, done)
    return 0


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
    doc = ROOT / "docs" / "novelty.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"{MARK_BEGIN}\n{MARK_END}\n"
    secs = sum(v["seconds"] for k, v in done.items() if not k.startswith("_"))
    block = (f"{MARK_BEGIN}\n"
             "All methods (same networks; threshold for 5 % false alarms from the inner "
             "3-fold out-of-fold scores; hqi-loo: the hqi score with its threshold from the "
             "leave-one-out scores of the training spectra):\n\n" + table(rows, ROWS) + "\n\n"
             f"Wall-clock time of these sets {secs / 60:.0f} min (1 torch thread, niced, on the "
             "shared 2-core machine; its load was 10-22 during the run of 2026-11-28).\n"
             f"{MARK_END}")
    new = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text,
                 flags=re.S)
    with atomic_write(doc, "w") as fh:
        fh.write(new)


if __name__ == "__main__":
    raise SystemExit(main())
