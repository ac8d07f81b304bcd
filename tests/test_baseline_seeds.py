"""``benchmarks/baseline_seeds.py``: the baselines refitted on the benchmark's folds per seed."""

from __future__ import annotations

import json

import pytest

from _toy_sets import toy_spec


@pytest.fixture
def bs(load_benchmark):
    load_benchmark("realdata")
    return load_benchmark("baseline_seeds")


def _spec(rd):
    return toy_spec(rd)


def test_each_seed_refits_both_baselines_on_the_benchmark_folds(bs):
    import sys

    rd = sys.modules["realdata"]
    out = bs.run_set(_spec(rd), [0, 3])
    assert out["seeds"] == [0, 3]
    for name in ("PCA+SVM", "PLS-DA"):
        assert len(out[name]) == 2
        assert out[name] == pytest.approx([1.0, 1.0])  # three separated bands


def test_table_gives_mean_range_and_the_cnn_column(bs, tmp_path):
    rows = [{"set": "s", "split": "k", "seeds": [0, 1, 2], "PCA+SVM": [0.9, 1.0, 0.95],
             "PLS-DA": [0.8, 0.8, 0.8]}]
    res = tmp_path / "realdata.json"
    res.write_text(json.dumps({"rows": [
        {"set": "s", "split": "k", "models": {"CNN default": {"mean": 0.97}}},
        {"set": "t", "split": "k", "skipped": "cannot be read"}]}))
    cnn = bs.cnn_means(res)
    assert cnn == {("s", "k"): 0.97}
    text = bs.table(rows, cnn).splitlines()
    assert text[0].startswith("| set | split | model | per seed (0, 1, 2) | mean | range")
    assert text[2] == "| s | k | PCA+SVM | 0.900 / 1.000 / 0.950 | 0.950 | 0.900-1.000 | 0.970 |"
    assert text[3] == "| s | k | PLS-DA | 0.800 / 0.800 / 0.800 | 0.800 | 0.800-0.800 | 0.970 |"
    assert bs.cnn_means(tmp_path / "absent.json") == {}


def test_unknown_set_stops_with_one_line(bs, capsys):
    with pytest.raises(SystemExit) as exc:
        bs.main(["--sets", "nope"])
    assert exc.value.code == 2
    assert "unknown set(s) ['nope']" in capsys.readouterr().err.strip().splitlines()[-1]


def test_folds_option_sets_k_and_names_it_in_the_split(bs):
    import sys

    rd = sys.modules["realdata"]
    out = bs.run_set(_spec(rd), [1], folds=2)
    assert out["split"] == "stratified 2-fold" and out["folds"] == 2
    assert out["PCA+SVM"] == pytest.approx([1.0])


def test_json_merges_runs_and_replaces_rows_of_the_same_split(bs, tmp_path):
    f = tmp_path / "seeds.json"
    a = {"set": "s", "split": "k", "PCA+SVM": [0.9]}
    b = {"set": "t", "split": "k", "PCA+SVM": [0.8]}
    assert bs.merge(f, [a, b], "first") == [a, b]
    a2 = {"set": "s", "split": "k", "PCA+SVM": [1.0]}
    c = {"set": "s", "split": "k3", "PCA+SVM": [0.7]}
    assert bs.merge(f, [a2, c], "second") == [b, a2, c]
    saved = json.loads(f.read_text())
    assert saved["commands"] == ["first", "second"] and saved["rows"] == [b, a2, c]
