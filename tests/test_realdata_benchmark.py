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


@pytest.mark.parametrize("start", __import__("multiprocessing").get_all_start_methods())
def test_the_pool_s_workers_take_the_jobs_however_they_are_started(start, load_benchmark):
    # the pool used Python's default start method: fork on Linux up to 3.13 (3.12+ warn it
    # may deadlock a process with threads), forkserver from 3.14, where the quick run below
    # failed with "No module named 'realdata'": a worker not forked from the test could not
    # import the module the test had loaded from its path. Now spawn everywhere, and each
    # worker puts benchmarks/ on its sys.path.
    mod = load_benchmark("realdata")
    spec = mod.added_set("extra", "extra.csv", "--label-col label --folds 5")
    with mod.pool(1, start) as workers:
        got, folds = workers.submit(mod.with_folds, spec, 3).result(timeout=120)
    assert folds == 3 and got.split == "stratified 3-fold" and got.load.func is mod._read


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

    # --drop leaves out a merged row whose protocol the benchmark no longer runs
    old2 = {**old, "split": "old blocks"}
    paths.append(tmp_path / "old2.json")
    paths[-1].write_text(json.dumps({"rows": [old2], "fig3": {}}))
    assert mod.main(["--sets", "none", "--no-fig3", "--seeds", "0", "--merge", str(paths[0]),
                     "--merge", str(paths[-1]), "--drop", "s/old blocks", "--out", str(out),
                     "--json", str(js)]) == 0
    assert [r["split"] for r in json.loads(js.read_text())["rows"]] == ["k-fold"]


def test_add_seeds_folds_another_runs_seeds_into_the_merged_row(tmp_path, load_benchmark,
                                                                  capsys):
    import json

    mod = load_benchmark("realdata")

    def row(cnn_folds, seeds, fit, pca=(0.7, 0.8)):
        return {"set": "s", "split": "k-fold", "command": "c", "n": 10, "n_classes": 2,
                "fold_sizes": [[5, 5], [5, 5]],
                "models": {"CNN default": {"folds": cnn_folds, "seeds": seeds,
                                           "per_seed": [0.0] * len(seeds),
                                           "augment_chosen": [[True, False]] * len(seeds)},
                           "PCA+SVM": {"folds": list(pca)}},
                "fit_s": {"CNN default": fit}, "maps": {"deletion_share": 0.5},
                "winner": "CNN default"}

    old = row([0.70, 0.80], [0, 1], 10.0)  # mean of two seeds per fold
    old["models"]["CNN default"]["per_seed"] = [0.74, 0.76]
    new = row([0.90, 0.60], [2], 40.0)
    new["models"]["CNN default"]["per_seed"] = [0.75]
    new["maps"] = {"deletion_share": 0.9}
    for r in (old, new):
        for m in r["models"].values():
            m["mean"], m["sd"] = sum(m["folds"]) / 2, 0.0
    paths = {}
    for name, r in (("old", old), ("new", new)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps({"rows": [r], "fig3": {}}))
    out, js = tmp_path / "rd.md", tmp_path / "rd.json"
    args = ["--sets", "none", "--no-fig3", "--merge", str(paths["old"]), "--out", str(out),
            "--json", str(js)]
    assert mod.main([*args, "--add-seeds", str(paths["new"])]) == 0
    (merged,) = json.loads(js.read_text())["rows"]
    d = merged["models"]["CNN default"]
    assert d["folds"] == pytest.approx([(2 * 0.7 + 0.9) / 3, (2 * 0.8 + 0.6) / 3])
    assert d["mean"] == pytest.approx(0.75) and d["seeds"] == [0, 1, 2]
    assert d["per_seed"] == [0.74, 0.76, 0.75] and len(d["augment_chosen"]) == 3
    assert merged["fit_s"]["CNN default"] == pytest.approx(20.0)  # 2 x 10 s and 1 x 40 s
    assert merged["maps"] == {"deletion_share": 0.5}  # seed 0 vs 1, not the added run's
    assert merged["winner"] == "CNN default"
    assert "default (seeds 0, 1, 2) 0.740, 0.760, 0.750" in out.read_text()
    assert "seeds added from new.json" in out.read_text()
    # overlapping seeds, or other folds, are refused
    with pytest.raises(SystemExit, match="overlap"):
        mod.main([*args, "--add-seeds", str(paths["old"])])
    other = row([0.9, 0.6], [2], 40.0, pca=(0.7, 0.9))
    paths["other"] = tmp_path / "other.json"
    paths["other"].write_text(json.dumps({"rows": [other], "fig3": {}}))
    with pytest.raises(SystemExit, match="other folds"):
        mod.main([*args, "--add-seeds", str(paths["other"])])
    # a run with no merged row to add to is refused; no report is written for any refusal
    elsewhere = {**new, "set": "t"}
    paths["elsewhere"] = tmp_path / "elsewhere.json"
    paths["elsewhere"].write_text(json.dumps({"rows": [elsewhere], "fig3": {}}))
    fresh = ["--sets", "none", "--no-fig3", "--merge", str(paths["old"]),
             "--out", str(tmp_path / "no.md"), "--json", str(tmp_path / "no.json")]
    for bad in ("old", "other", "elsewhere"):
        with pytest.raises(SystemExit):
            mod.main([*fresh, "--add-seeds", str(paths[bad])])
    assert "no merged row of t / k-fold" in capsys.readouterr().err
    assert not (tmp_path / "no.md").exists() and not (tmp_path / "no.json").exists()


def test_add_set_runs_another_labelled_table_with_the_same_protocol(tmp_path, load_benchmark):
    # a held-back set benchmarked by the same command: here 5 batches of 3 simulated products
    import numpy as np

    from ramancam import Spectra
    from ramancam.io import write_table
    from ramancam.simulate import peak_position_set

    base = peak_position_set(20, n_channels=200, positions=(40, 100, 160), rng=3)
    s = Spectra(base.X + 0.05, np.linspace(400.0, 1800.0, 200), labels=base.labels,
                meta={"batch": np.tile(np.repeat([f"b{k}" for k in range(5)], 4), 3)})
    table = tmp_path / "tablets.csv"
    write_table(s, table)
    mod = load_benchmark("realdata")
    out, js = tmp_path / "rd.md", tmp_path / "rd.json"
    assert mod.main(["--quick", "--sets", "none", "--no-fig3", "--paper-seeds", "none",
                     "--jobs", "1", "--add-set", "tablets", str(table),
                     "--label-col label --group-col batch", "--out", str(out),
                     "--json", str(js)]) == 0
    rows = [ln for ln in out.read_text().splitlines() if ln.startswith("| tablets |")]
    assert len(rows) == 2 and "| group 5-fold by batch |" in rows[0]
    assert f"`ramancam train {table} --label-col label --group-col batch`" in out.read_text()
    with pytest.raises(SystemExit):
        mod.added_set("x", str(table), "--label-col label --group-col batch --split-col s")


def test_json_goes_beside_the_report_unless_the_report_is_the_committed_one(
        tmp_path, load_benchmark, monkeypatch):
    # the smoke test (--quick --out /tmp/rd.md) and --add-set ... --out tablets.md once
    # overwrote the committed benchmarks/results/realdata.json that ceiling.py and
    # baseline_seeds.py read; a re-render of an earlier run (no training) shows where it goes
    import json

    mod = load_benchmark("realdata")
    repo = tmp_path / "repo"
    monkeypatch.setattr(mod, "ROOT", repo)
    committed = repo / "benchmarks" / "results" / "realdata.json"
    row = {"set": "s", "split": "k-fold", "command": "c", "n": 10, "n_classes": 2,
           "models": {"CNN default": {"folds": [0.9], "mean": 0.9, "sd": 0.0,
                                      "per_seed": [0.9], "seeds": [0]}},
           "fit_s": {"CNN default": 1.0}, "maps": {}, "winner": "CNN default"}
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"rows": [row], "fig3": {}}))
    args = ["--sets", "none", "--no-fig3", "--seeds", "0", "--merge", str(old)]
    out = tmp_path / "mine" / "tablets.md"
    assert mod.main([*args, "--out", str(out)]) == 0
    assert out.is_file() and not committed.exists()
    assert json.loads((tmp_path / "mine" / "tablets.json").read_text())["rows"] == [row]
    # an explicit --json is written where asked
    assert mod.main([*args, "--out", str(out), "--json", str(tmp_path / "x.json")]) == 0
    assert (tmp_path / "x.json").is_file() and not committed.exists()
    # --quick without --out is refused (it would replace the committed report and JSON)
    with pytest.raises(SystemExit):
        mod.main(["--quick", *args])
    assert not committed.exists() and not (repo / "docs" / "realdata.md").exists()
    # the documented full run (no --out) still writes the committed pair
    assert mod.main(args) == 0
    assert (repo / "docs" / "realdata.md").is_file()
    assert json.loads(committed.read_text())["rows"] == [row]


def test_bacteria_row_command_runs_and_reads_the_benchmarks_labels_and_groups(
        shared_data, load_benchmark, monkeypatch):
    # the row's command said --group-col replicate, a column the benchmark builds itself:
    # a folder of SPC files has none, and ramancam train stopped on it
    import shlex

    import numpy as np

    from ramancam.io import read

    mod = load_benchmark("realdata")
    monkeypatch.setattr(mod, "DATA", shared_data)
    (spec,) = [s for s in mod.SETS if s.name == "bacteria-spc"]
    data, *options = shlex.split(spec.command)
    args = mod._train_args(options)  # train's own parser: nothing but options may follow
    assert args.folds == spec.extra["folds"] and args.group_col is None
    s = read(shared_data / data, label_col=args.label_col, labels_from=args.labels_from,
             groups_from=args.groups_from)
    bench = mod._bacteria()
    np.testing.assert_array_equal(s.labels, bench.labels)
    np.testing.assert_array_equal(s.meta["group"], bench.meta["replicate"])
    # --folds K of the benchmark renames the split and the command's K alike
    other = mod.with_folds(spec, 2)[0]
    assert other.split == "group 2-fold by replicate" and other.command.endswith("--folds 2")
    chondro = next(sp for sp in mod.SETS if sp.name == "chondro-map")
    assert "--spatial-folds 3 " in mod.with_folds(chondro, 3)[0].command


def test_the_winner_tie_header_seeds_and_an_undefined_check(load_benchmark):
    # an exact tie lost by one unit in the last place went to the baseline; the header said
    # the seeds of the rendering command, not of its rows; an agreement that could not be
    # computed (a constant class-mean map) read "-", "not measured"
    mod = load_benchmark("realdata")
    cnn = sum([280 / 300] * 3) / 3  # 0.9333333333333332: the seeds' mean of a tie
    assert cnn != 280 / 300
    assert mod._winner({"PCA+SVM": {"mean": 280 / 300}, "CNN default": {"mean": cnn}}) == (
        "CNN default")
    assert mod._winner({"PCA+SVM": {"mean": 0.94}, "CNN default": {"mean": cnn}}) == "PCA+SVM"
    row = {"models": {"CNN default": {"seeds": [0, 1, 2]}, "CNN paper": {"seeds": [0]}}}
    assert mod._seeds_of([row, row], "CNN default", [0, 1]) == "0, 1, 2"
    other = {"models": {"CNN default": {"seeds": [0, 1]}}}
    assert mod._seeds_of([row, other], "CNN default", [0]) == "0, 1, 2 (per row below)"
    assert mod._seeds_of([other], "CNN paper", [0]) == "0"
    assert mod._ok(None, 0.8) == "-" and mod._ok(float("nan"), 0.8) == "undefined FAIL"
    assert mod._ok(0.85, 0.8) == "0.850 pass"
