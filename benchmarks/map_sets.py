"""Count where a map's prediction sets hold more than one class (docs/maps.md, chondro).

Reads the ``predictions.csv`` that ``ramancam predict MODEL MAP --out DIR`` wrote and the
map's labels, and prints: how many pixels have one class in their prediction set and how
many more; how many of each lie at a border (a pixel is at a border when one of its four
neighbours has another most probable class, the ``p_<class>`` argmax); their mean top
probability; how often the network's class matches the label, per kind; and how often the
label is in the set.

    python benchmarks/map_sets.py chondro-map/predictions.csv \\
        ../shared/data/chondro-map/map.csv --label-col label
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np


def count(pred_csv: Path, labels: np.ndarray) -> dict[str, float]:
    """The numbers printed, from ``predictions.csv`` and one label per row ('' = none)."""
    with open(pred_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != labels.size:
        raise SystemExit(f"{pred_csv} has {len(rows)} rows; the labels {labels.size}")
    classes = [k[2:] for k in rows[0] if k.startswith("p_")]
    P = np.array([[float(r[f"p_{c}"] or "nan") for c in classes] for r in rows])
    x = np.array([float(r["x"]) for r in rows])
    y = np.array([float(r["y"]) for r in rows])
    sets = [[c.strip() for c in r["prediction_set"].split("|")] if r["prediction_set"] else []
            for r in rows]
    ok = np.isfinite(P).all(axis=1)
    arg = np.where(ok, np.nanargmax(np.where(ok[:, None], P, 0.0), axis=1), -1)
    xs, ys = np.unique(x), np.unique(y)
    ix, iy = np.searchsorted(xs, x), np.searchsorted(ys, y)
    image = np.full((ys.size, xs.size), -2)
    image[iy, ix] = arg
    border = np.zeros(len(rows), dtype=bool)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        jy, jx = iy + dy, ix + dx
        inside = (jy >= 0) & (jy < ys.size) & (jx >= 0) & (jx < xs.size)
        other = np.full(len(rows), -2)
        other[inside] = image[jy[inside], jx[inside]]
        border |= inside & (other >= 0) & (other != arg)
    size = np.array([len(s) for s in sets])
    many, one = ok & (size > 1), ok & (size == 1)
    top = np.where(ok, np.nanmax(np.where(ok[:, None], P, -np.inf), axis=1), np.nan)
    lab = labels != ""
    right = np.array([classes[a] == t if a >= 0 else False for a, t in zip(arg, labels,
                                                                          strict=True)])
    covered = np.array([t in s for t, s in zip(labels, sets, strict=True)])
    return {"one": int(one.sum()), "many": int(many.sum()),
            "many_border": int((many & border).sum()), "one_border": int((one & border).sum()),
            "top_many": float(top[many].mean()), "top_one": float(top[one].mean()),
            "right_many": float(right[many & lab].mean()),
            "right_one": float(right[one & lab].mean()),
            "labelled": int(lab.sum()), "covered": float(covered[lab].mean())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("predictions", type=Path)
    p.add_argument("map", type=Path, help="the map file predicted, with its labels")
    p.add_argument("--label-col", default="label")
    a = p.parse_args(argv)
    from ramancam.io import read

    labels = np.asarray(read(a.map, label_col=a.label_col).labels).astype(str)
    r = count(a.predictions, labels)
    print(f"pixels with one class in their set: {r['one']}, with more: {r['many']}")
    print(f"at a border (a 4-neighbour of another argmax class): {r['many_border']} of "
          f"{r['many']} with more, {r['one_border']} of {r['one']} with one")
    print(f"mean top probability: {r['top_many']:.2f} with more, {r['top_one']:.2f} with one")
    print(f"network's class = label (labelled pixels): {r['right_many']:.1%} with more, "
          f"{r['right_one']:.1%} with one")
    print(f"label in the set: {r['covered']:.1%} of {r['labelled']} labelled pixels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
