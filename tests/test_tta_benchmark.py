"""``benchmarks/tta.py``: test-time augmentation of a saved model's predictions."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam.cli import main
from ramancam.io import write_table
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_shifted_repeats_the_edge_value(load_benchmark):
    tta = load_benchmark("tta")
    X = np.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(tta.shifted(X, 0), X)
    np.testing.assert_array_equal(tta.shifted(X, 2)[0], [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(tta.shifted(X, -1)[1], [6, 7, 8, 9, 9])


def test_plain_row_is_what_predict_writes(load_benchmark, tmp_path, capsys, rng):
    import csv

    tta = load_benchmark("tta")
    axis = np.linspace(400.0, 600.0, 60)
    band = {c: 1 / (1 + ((axis - m) / 5) ** 2) for c, m in (("a", 450), ("b", 550))}
    labels = np.repeat(["a", "b"], 20)
    X = np.array([band[c] + 0.2 * band["b" if c == "a" else "a"] for c in labels])
    X = X + rng.normal(0, 0.05, X.shape)
    split = np.where(np.arange(40) % 4 == 0, "test", "train")
    data = tmp_path / "toy.csv"
    write_table(Spectra(X, axis, labels=labels, meta={"split": split}), data)
    model = tmp_path / "toy.ramancam"
    assert main(["train", str(data), "--label-col", "label", "--split-col", "split",
                 "--recipe", "none", "--no-compare", "--epochs", "3", "--filters", "2",
                 "--filter-size", "3", "--fc-width", "4", "--augment", "off",
                 "--out", str(model)]) == 0
    assert main(["predict", str(model), str(data), "--label-col", "label",
                 "--no-reject", "--out", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv", newline="") as fh:
        rows = [r for r, s in zip(csv.DictReader(fh), split, strict=True) if s == "test"]
    want = np.mean([r["predicted"] == r["true"] for r in rows])
    capsys.readouterr()
    assert tta.main([str(model), str(data), "--label-col", "label", "--split-col",
                     "split"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("10 spectra of ")
    assert lines[1].split() == ["variant", "accuracy", "changed"]
    plain = lines[2].split()
    assert plain == ["plain", f"{want:.3f}", "0"]
    assert [ln.rsplit(None, 2)[0] for ln in lines[3:]] == list(tta.VARIANTS)[1:]
