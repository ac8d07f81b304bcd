"""``benchmarks/map_sets.py``: where a map's prediction sets hold more than one class."""

from __future__ import annotations

import numpy as np


def test_counts_sets_borders_and_agreement_by_hand(load_benchmark, tmp_path):
    map_sets = load_benchmark("map_sets")
    # a 3 x 2 map: the left column a, the rest b; the middle top pixel is unsure (a | b)
    rows = [  # id, p_a, p_b, x, y, prediction_set
        ("p0", 0.9, 0.1, 0, 0, "a"), ("p1", 0.4, 0.6, 1, 0, "b|a"),
        ("p2", 0.1, 0.9, 2, 0, "b"), ("p3", 0.8, 0.2, 0, 1, "a"),
        ("p4", 0.2, 0.8, 1, 1, "b"), ("p5", 0.1, 0.9, 2, 1, "b")]
    path = tmp_path / "predictions.csv"
    lines = ["id,predicted,p_a,p_b,x,y,novelty,unknown,library_match,novelty_p,prediction_set"]
    lines += [f"{i},{'a' if pa > pb else 'b'},{pa},{pb},{x},{y},0,false,,,{s}"
              for i, pa, pb, x, y, s in rows]
    path.write_text("\n".join(lines) + "\n")
    labels = np.array(["a", "a", "b", "a", "b", ""])
    r = map_sets.count(path, labels)
    assert (r["one"], r["many"]) == (5, 1)
    # p1 (b) borders p0 (a); of the single-class pixels p0, p3 (a) and p4 (b) have a
    # 4-neighbour of another class, p2 and p5 do not
    assert (r["many_border"], r["one_border"]) == (1, 3)
    assert r["top_many"] == 0.6 and np.isclose(r["top_one"], (0.9 + 0.9 + 0.8 + 0.8 + 0.9) / 5)
    assert r["right_many"] == 0.0  # p1 is labelled a, predicted b
    assert r["right_one"] == 1.0 and r["labelled"] == 5
    assert r["covered"] == 1.0  # a is in p1's set
