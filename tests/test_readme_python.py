"""The README's Python blocks run as written (on the built-in synthetic example table)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from ramancam.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "ramancam" / "data" / "example.csv"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    import gzip

    with open(EXAMPLE, "rb") as src, gzip.open(tmp_path / "spectra.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(EXAMPLE, tmp_path / "new-spectra.csv")
    assert main(["train", str(EXAMPLE), "--label-col", "label", "--folds", "2",
                 "--no-compare", "--epochs", "2", "--filters", "4", "--filter-size", "5",
                 "--fc-width", "8", "--out", str(tmp_path / "model.ramancam")]) == 0
    # the first block trains the README's network for its default epochs: fewer here
    from ramancam import train

    real = train.CNNClassifier.fit

    def few_epochs(self, *a, **kw):  # __init__ stays scikit-learn's (clone reads it)
        self.epochs = min(self.epochs, 3)
        return real(self, *a, **kw)

    monkeypatch.setattr(train.CNNClassifier, "fit", few_epochs)
    monkeypatch.chdir(tmp_path)
    spaces: list[dict] = []
    for code in blocks:
        ns: dict = {}
        exec(compile(code, "README.md", "exec"), ns)  # our own README's code
        spaces.append(ns)
    pipe = next(ns for ns in spaces if "paper" in ns)  # the transformers' pipeline
    assert pipe["scores"].shape == (3,) and pipe["table"].shape == (len(pipe["raw"]), 1201)
    assert pipe["table"].columns[0] == "400" and pipe["table"].columns[-1] == "1600"
    first = next(ns for ns in spaces if "clf" in ns)
    assert first["maps"].shape == (5, first["data"].X.shape[1])
    from ramancam.bundle import load

    # the block's recipe is the one train chose for the same table
    trained = load(tmp_path / "model.ramancam")
    assert first["recipe"].to_json() == trained.recipe.to_json()
    assert trained.info["settings"]["recipe_used"] == f"auto -> {first['choice']}"
    # spectra as read, cross-validated as train does: its recipe decision, four folds
    cved = next(ns for ns in spaces if "result" in ns)
    res = cved["result"]
    assert len(cved["cnn"]) == len(cved["library"]) == 4 and res.kind == "4-fold CV"
    assert res.recipe.to_json() == trained.recipe.to_json()
    assert res.recipe_used == trained.info["settings"]["recipe_used"]
    assert res.summary().startswith(res.header) and cved["decided"] == res.decisions
    saved = next(ns for ns in spaces if "library_match" in ns)
    n = len(saved["new"])
    assert saved["proba"].shape == (n, 3) and saved["library_match"].shape == (n,)
    assert saved["maps"].shape == (5, saved["model"].grid.size)
    assert np.isfinite(saved["mean"]).all() and saved["mean"].shape == saved["sd"].shape
    assert saved["shift"].shape == (n,)  # predict's axis check, per spectrum
    p = saved["novelty_p"]  # conformal p-values: in (0, 1], at most the rate where flagged
    assert p.shape == (n,) and ((p > 0) & (p <= 1)).all()
    assert (p[saved["unknown"]] <= 0.05).all()
