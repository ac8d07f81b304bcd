"""``benchmarks/realdata.py --quick`` on two small real sets (issue 13)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

def test_quick_benchmark_writes_the_table_and_the_map_checks(shared_data, tmp_path,
                                                              load_benchmark):
    mod = load_benchmark("realdata")
    out, js = tmp_path / "rd.md", tmp_path / "rd.json"
    assert mod.main(["--quick", "--sets", "astragalus,amino-acids", "--jobs", "1",
                     "--out", str(out), "--json", str(js)]) == 0
    text = out.read_text()
    head = ("| set | split | n | CNN default | CNN paper | PCA+SVM | PLS-DA | library | "
            "winner |")
    assert head in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| astragalus |")
            or ln.startswith("| amino-acids |")]
    assert len(rows) == 4  # accuracy row and map-check row of each set
    assert "Fig. 3" in text and "deletion" in text
    # the quick run of the mixtures fills the Fig. 7 column
    amino = [ln for ln in rows if ln.startswith("| amino-acids |")][-1]
    closer = amino.rstrip(" |").split("|")[-1].strip().split(" / ")
    assert len(closer) == 2 and "-" not in closer  # both maps: fc / ig-bands
    assert "ig-bands map:" in text  # Fig. 3 pointing of the input-resolution map
    # the default's per-fold augmentation decisions are counted, and the rows are current
    assert text.count("augmentation chosen in ") == 2 and "(*)" not in text


def test_merge_takes_the_paper_preset_from_an_earlier_run_and_recomputes_the_winner(
        tmp_path, load_benchmark):
    import json

    mod = load_benchmark("realdata")

    def row(models, fit):
        return {"set": "s", "split": "k-fold", "command": "c", "n": 10, "n_classes": 2,
                "models": {k: {"folds": [v], "mean": v, "sd": 0.0, "per_seed": [v],
                               "seeds": [0]} for k, v in models.items()},
                "fit_s": fit, "maps": {}, "winner": "CNN default"}

    new = row({"CNN default": 0.90, "PCA+SVM": 0.80}, {"CNN default": 1.0})
    old = row({"CNN default": 0.85, "CNN paper": 0.95, "PCA+SVM": 0.80},
              {"CNN default": 2.0, "CNN paper": 3.0})
    paths = []
    for name, r in (("new", new), ("old", old)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps({"rows": [r], "fig3": {}}))
    out, js = tmp_path / "rd.md", tmp_path / "rd.json"
    assert mod.main(["--sets", "none", "--no-fig3", "--seeds", "0", "--merge", str(paths[0]),
                     "--merge", str(paths[1]), "--out", str(out), "--json", str(js)]) == 0
    (merged,) = json.loads(js.read_text())["rows"]
    # the new run's default CNN stays, the old run's paper preset fills the gap and wins
    assert merged["models"]["CNN default"]["mean"] == 0.90
    assert merged["models"]["CNN paper"]["mean"] == 0.95
    assert merged["winner"] == "CNN paper"
    text = out.read_text()
    assert "paper (seeds 0) 0.950, from an earlier run" in text
    # a row without augmentation decisions predates --augment auto and is marked
    assert "| s (*) | k-fold |" in text and "(*): run before `--augment auto`" in text
