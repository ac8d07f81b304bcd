"""ramancam.experiments and ``ramancam reproduce``: end to end on tiny settings."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from ramancam import RamancamError, Spectra, experiments
from ramancam.cli import main
from ramancam.experiments.mixing import _common_grid
from ramancam.experiments.pharma import _pick_by_signal

EVIL = "<script>alert(1)</script>"
EVIL_FILE = "<img src=x onerror=alert(1)>"  # a file name cannot hold "/"


def _peaks(axis: np.ndarray, centres, widths=8.0) -> np.ndarray:
    return sum(1.0 / (1.0 + ((axis - c) / (widths / 2)) ** 2) for c in centres)


@pytest.fixture
def pure_dir(tmp_path: Path, rng: np.random.Generator) -> Path:
    """Three pure spectra as two-column text files (450-1800 cm-1), one with a hostile name."""
    folder = tmp_path / "pure"
    folder.mkdir()
    axis = np.arange(450.0, 1801.0)
    for name, centres in ((EVIL_FILE, (600, 1000)), ("beta", (850, 1450)),
                          ("gamma", (700, 1200, 1600))):
        y = _peaks(axis, centres) + 0.01 * rng.random(axis.size)
        text = "# synthetic\n" + "".join(f"{x:g}\t{v:.6f}\n" for x, v in zip(axis, y,
                                                                             strict=True))
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def pharma_csv(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A wide CSV of 3 classes x 6 spectra at different signal levels; one hostile label."""
    from ramancam.io import write_table

    axis = np.arange(380.0, 1821.0, 2.0)
    X, labels = [], []
    for label, centres in ((EVIL, (500, 900)), ("B", (1000, 1300)), ("C", (700, 1600))):
        for scale in (1.0, 0.8, 0.5, 0.34, 0.25, 0.6):
            X.append(scale * _peaks(axis, centres) + 0.02 * rng.random(axis.size) + 0.1)
            labels.append(label)
    path = tmp_path / "tablets.csv"
    write_table(Spectra(np.array(X), axis, labels), path, label_col="product")
    return path


def _self_contained(text: str) -> None:
    assert "<script" not in text.lower()
    # nothing loaded from elsewhere; links only to the experiments' own reports beside it
    assert not re.search(r"src=\"(?!data:)", text)
    assert not re.search(r"href=\"(?!#|[a-z]+/report\.html\")", text)
    assert "http://" not in text and "https://" not in text


def test_reproduce_all_quick_end_to_end(tmp_path, pure_dir, pharma_csv, capsys):
    out = tmp_path / "out"
    code = main(["reproduce", "all", "--quick", "--out", str(out), "--seed", "3",
                 "--pure", str(pure_dir), "--data", str(pharma_csv), "--label-col", "product"])
    assert code == 0
    said = capsys.readouterr()
    assert f"report: {out}/report.html" in said.out
    # each experiment's report waits in the staging folder until the whole run ends (an
    # interrupted run keeps none): the log said "wrote OUT/filters/report.html" as if there
    assert (f"wrote {out / 'filters' / 'report.html'} (put in place when the whole run ends)"
            in said.out + said.err)
    # the quick pharma test part is a sample of the others, and says so (it said "the
    # other 40" of 983)
    page = (out / "pharma" / "report.html").read_text(encoding="utf-8")
    tested = re.search(r"test: (the other \d+|\d+ of the other \d+, drawn at random)\.",
                       page)
    assert tested is not None, page[:2000]
    for name, figs in (("filters", ["fig2_size.png", "fig2_count.png"]),
                       ("common", ["fig3_common.png", "fig3_signed.png"]),
                       ("mixing", ["fig7_mean_maps.png", "fig7_examples.png", "mixing_cv.png",
                                   "mixing_map_bands.png", "mixing_vip.png"]),
                       ("pharma", ["pharma_confusion.png", "fig5_maps.png", "pharma_vip.png"])):
        for f in [*figs, "metrics.json", "report.html"]:
            assert (out / name / f).is_file(), f"{name}/{f} missing"
            if f.endswith(".png"):
                assert (out / name / f).read_bytes().startswith(b"\x89PNG")
    # Fig. 2's enlargement around each peak is a panel beside the class (an inset sat on
    # the maps): 10 inches wide at 110 dpi
    from matplotlib.image import imread

    assert imread(out / "filters" / "fig2_size.png").shape[1] == 1100
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert doc["seed"] == 3 and doc["quick"] is True and doc["skipped"] == {}
    # torch's thread count (another one gives other last digits) and the date, beside the
    # versions: metrics.json and the reports had neither
    import torch

    for d in (doc, json.loads((out / "filters" / "metrics.json").read_text())):
        assert d["threads"] == torch.get_num_threads()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["created"])
    for page in (out / "report.html", out / "filters" / "report.html"):
        assert f"<td>threads</td><td class=\"num\">{torch.get_num_threads()}</td>" in \
            page.read_text(encoding="utf-8")
    ex = doc["experiments"]
    rows = ex["filters"]["results"]["settings"]
    assert [(r["study"], r["filter_size"], r["n_filters"]) for r in rows] == [
        ("size", 4, 4), ("size", 16, 4), ("count", 4, 2), ("count", 4, 4)]
    for r in rows:
        assert 0.0 <= r["pointing"] <= 1.0 and 0.0 <= r["accuracy"] <= 1.0
    maps = ex["common"]["results"]["maps"]
    assert set(maps) == {"fc", "gradcam"}
    assert set(maps["fc"]) == {"defined", "random"}
    mix = ex["mixing"]["results"]
    assert mix["n_pure"] == 3 and mix["n_train"] == 3 * 2 * 2
    assert EVIL_FILE in mix["classes"]
    assert 0.0 <= mix["share_labelled_better"]["mean"] <= 1.0
    assert set(mix["baselines_test"]) == {"PCA+SVM", "PLS-DA"}
    ph = ex["pharma"]["results"]
    assert ph["n_train"] == 12 and ph["n_test"] == 6
    assert sorted(ph["classes"]) == sorted([EVIL, "B", "C"])
    assert np.asarray(ph["confusion"]).sum() == 6
    # per class, the strongest spectrum (scale 1.0) and those nearest 1/2, 1/3, 1/4 of it
    # (0.5, 0.34, 0.25) are trained on; 0.8 and 0.6 are tested.
    assert sorted(np.asarray(ph["train_index"]) % 6) == sorted([0, 2, 3, 4] * 3)
    assert 0.0 <= ph["background_share"] <= 1.0
    # one combined report, self-contained, hostile labels only escaped
    html = (out / "report.html").read_text(encoding="utf-8")
    _self_contained(html)
    assert EVIL not in html and EVIL_FILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count('src="data:image/png;base64,') >= 12
    for sub in ("mixing", "pharma"):
        _self_contained((out / sub / "report.html").read_text(encoding="utf-8"))
    # a quick run says so at the top of every report; sub-reports keep their full titles
    assert '<p class="note">quick mode (--quick)' in html
    sub_html = (out / "common" / "report.html").read_text(encoding="utf-8")
    assert '<p class="note">quick mode (--quick)' in sub_html
    assert "Common-component extraction (paper Fig. 3)" in sub_html


def test_all_skips_absent_real_data_with_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiments._shared, "default_data", lambda name: None)
    out = tmp_path / "o"
    assert main(["reproduce", "all", "--quick", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "mixing: skipped: shared amino-acids folder not found" in captured.out
    assert "pharma: skipped: shared drug-mabs data not found" in captured.err
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(doc["experiments"]) == {"filters", "common"}
    assert set(doc["skipped"]) == {"mixing", "pharma"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "mixing was skipped" in html and "pharma was skipped" in html
    assert not (out / "mixing").exists()
    # the combined report links each experiment's own report, which exists
    links = re.findall(r'<a href="([^"#]+)">', html)
    assert links == ["filters/report.html", "common/report.html"]
    assert all((out / link).is_file() for link in links)


def test_same_seed_same_numbers(tmp_path):
    a = experiments.common(tmp_path / "a", seed=1, quick=True, epochs=1)
    b = experiments.common(tmp_path / "b", seed=1, quick=True, epochs=1)
    assert a["results"]["maps"] == b["results"]["maps"]
    assert a["results"]["accuracy"] == b["results"]["accuracy"]
    assert a["settings"]["epochs"] == 1
    # another seed gives other numbers: an experiment that ignored its seed passed above
    c = experiments.common(tmp_path / "c", seed=2, quick=True, epochs=1)
    assert c["results"]["maps"] != a["results"]["maps"]
    assert (a["seed"], c["seed"]) == (1, 2)


def test_pick_by_signal_hand_computed():
    level = np.array([10.0, 5.2, 3.0, 2.4, 9.0, 100.0, 40.0, 51.0, 33.0, 26.0, 80.0])
    labels = np.array(["a"] * 5 + ["b"] * 6)
    # a: top 10 -> nearest 5 (5.2), 3.33 (3.0), 2.5 (2.4); b: top 100 -> 51, 33, 26
    picked = _pick_by_signal(level, labels, (1.0, 1 / 2, 1 / 3, 1 / 4))
    assert picked.tolist() == [0, 1, 2, 3, 5, 7, 8, 9]


def test_pick_by_signal_needs_enough_spectra():
    with pytest.raises(RamancamError, match="class 'a' must have at least 5 spectra"):
        _pick_by_signal(np.ones(4), np.array(["a"] * 4), (1.0, 0.5, 0.3, 0.25))


def test_run_errors(tmp_path, monkeypatch):
    with pytest.raises(RamancamError, match="experiment must be one of"):
        experiments.run("fig9", tmp_path)
    with pytest.raises(RamancamError, match="--pure/--pure-label-col are used by mixing and all"):
        experiments.run("filters", tmp_path, pure=tmp_path)
    with pytest.raises(RamancamError,
                       match="--data/--label-col/--labels-from are used by pharma and all"):
        experiments.run("common", tmp_path, label_col="x")
    with pytest.raises(RamancamError, match="common settings must be among"):
        experiments.common(tmp_path, quick=True, epochz=3)
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(RamancamError, match="out_dir must be a folder"):
        experiments.common(f, quick=True)
    monkeypatch.setattr(experiments._shared, "default_data", lambda name: None)
    with pytest.raises(RamancamError, match="pure must be given; got none"):
        experiments.mixing(tmp_path / "m", quick=True)
    with pytest.raises(RamancamError, match="data must be an existing file or folder"):
        experiments.pharma(tmp_path / "p", quick=True, data=tmp_path / "nope.csv")


def test_cli_reports_missing_pure_as_error(tmp_path, capsys):
    code = main(["reproduce", "mixing", "--quick", "--out", str(tmp_path / "m"),
                 "--pure", str(tmp_path / "absent")])
    assert code == 2
    assert "error: pure must be an existing file or folder" in capsys.readouterr().err


def test_reproduce_all_checks_given_data_before_any_experiment(tmp_path, capsys):
    """A mistyped --pure or --data stops `all` at once (not after the other experiments
    trained, and not as a silent skip), leaving no output folder."""
    for opt, name in (("--pure", "pure"), ("--data", "data")):
        out = tmp_path / f"all{name}"
        code = main(["reproduce", "all", "--quick", "--out", str(out), opt,
                     str(tmp_path / "typo")])
        captured = capsys.readouterr()
        assert code == 2 and f"error: {name} must be an existing file or folder" in captured.err
        assert "[ramancam] filters" not in captured.err + captured.out
        assert not out.exists()


def test_common_grid_needs_overlap():
    s = Spectra([np.ones(5), np.ones(5)], [np.arange(100.0, 105.0), np.arange(200.0, 205.0)])
    with pytest.raises(RamancamError, match="pure spectra must share a Raman-shift range"):
        _common_grid(s)


def test_pharma_on_shared_drug_mabs(shared_data, tmp_path):
    doc = experiments.pharma(tmp_path, quick=True, max_test=12)
    r = doc["results"]
    assert r["n_train"] == 16 and r["n_test"] == 12
    assert doc["settings"]["data"].endswith("spectra.csv.gz")
    levels = np.asarray(r["train_signal_level"])
    labels = np.asarray(r["train_labels"])
    for c in r["classes"]:
        # drug-mabs: the maximum is the water band near 1650 cm-1, so within a class the
        # levels span only about 0.4-1 of the strongest; the picks are the nearest there are.
        rel = np.sort(levels[labels == c])[::-1] / levels[labels == c].max()
        assert rel[0] == 1.0 and (np.diff(rel) < 0).all()
        assert r["train_relative_level"][c] == pytest.approx(rel.tolist())


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_a_failed_rerun_leaves_the_earlier_results_whole(tmp_path, monkeypatch, capsys):
    # an interrupted rerun into the same folder mixed seed 1's filters/ with seed 0's
    # report and headline table
    suite = sys.modules["ramancam.experiments.suite"]
    monkeypatch.setattr(experiments._shared, "default_data", lambda name: None)
    out = tmp_path / "out"
    assert main(["reproduce", "all", "--quick", "--out", str(out)]) == 0
    (out / "mixing").mkdir()  # an earlier run's experiment that this one skips
    (out / "mixing" / "metrics.json").write_text("{}", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # not a result: kept
    before = _tree(out)

    def stop(run):
        raise KeyboardInterrupt

    monkeypatch.setattr(suite, "_common", stop)
    assert main(["reproduce", "all", "--quick", "--seed", "1", "--out", str(out)]) == 130
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left
    monkeypatch.undo()
    monkeypatch.setattr(experiments._shared, "default_data", lambda name: None)
    capsys.readouterr()
    assert main(["reproduce", "all", "--quick", "--seed", "1", "--out", str(out)]) == 0
    assert f"removed the earlier run's mixing from {out}" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "common", "filters", "metrics.json", "notes.txt", "report.html"]
    for doc in (out / "metrics.json", out / "filters" / "metrics.json",
                out / "common" / "metrics.json"):
        assert json.loads(doc.read_text(encoding="utf-8"))["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # a user's own folder of an experiment's name is no earlier result: it was replaced,
    # its files deleted, without a word
    mine = tmp_path / "mine"
    (mine / "common").mkdir(parents=True)
    (mine / "common" / "notes.txt").write_text("mine", encoding="utf-8")
    capsys.readouterr()
    assert main(["reproduce", "all", "--quick", "--out", str(mine)]) == 2
    assert "whose 'common' is not an earlier run's results" in capsys.readouterr().err
    assert _tree(mine) == {"common/notes.txt": b"mine"}
    # a run that writes no such folder goes ahead, and leaves it alone
    assert main(["reproduce", "filters", "--quick", "--out", str(mine)]) == 0
    assert (mine / "common" / "notes.txt").read_text(encoding="utf-8") == "mine"
    # one experiment into a folder that holds an earlier one's results: replaced as a whole
    experiments.common(out / "common", seed=2, quick=True, epochs=1)
    assert json.loads((out / "common" / "metrics.json").read_text())["seed"] == 2
    assert sorted(p.name for p in (out / "common").iterdir()) == sorted(
        ["metrics.json", "report.html", *json.loads(
            (out / "common" / "metrics.json").read_text())["figures"]])


def test_reproduce_all_checks_the_label_column_before_any_experiment(tmp_path, pharma_csv,
                                                                      capsys):
    # a wrong --label-col stopped the run only after filters, common and mixing had trained
    out = tmp_path / "all"
    code = main(["reproduce", "all", "--quick", "--out", str(out), "--data", str(pharma_csv),
                 "--label-col", "nosuch"])
    captured = capsys.readouterr()
    assert code == 2
    assert "label column must be one of the table's columns; got 'nosuch'" in captured.err
    assert "'product'" in captured.err
    assert "[ramancam] filters" not in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tablets.csv"]  # no folder made


def test_a_failed_reproduce_leaves_no_empty_folder(tmp_path, monkeypatch, capsys):
    # experiments made --out with mkdir: a failed run left it (and its parents) empty
    def fail(run):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["ramancam.experiments.filters"], "_filters", fail)
    assert main(["reproduce", "filters", "--quick", "--out", str(tmp_path / "a" / "b")]) == 130
    assert list(tmp_path.iterdir()) == []
    capsys.readouterr()
    assert main(["reproduce", "filters", "--quick", "--out", "/proc/xx"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out must be in a folder you can write to; got '/proc/xx' (")
    assert err.endswith("). Write it elsewhere.\n")
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    assert main(["reproduce", "filters", "--quick", "--out", str(f / "sub")]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: --out must be a folder that can be created; got {str(f / 'sub')!r} (")


def test_an_explicit_none_setting_overrides_quick_mode(pure_dir, tmp_path):
    # mixing(quick=True, max_pure=None) kept quick mode's 5: None was dropped as "not given"
    from ramancam.experiments._shared import _settings

    assert _settings("mixing", True, {})["max_pure"] == 5
    assert _settings("mixing", True, {"max_pure": None})["max_pure"] is None
    assert _settings("pharma", True, {"max_test": None})["max_test"] is None
    with pytest.raises(RamancamError, match=r"common setting epochs must not be None; got None\. "
                                            r"Leave it out to keep 4\."):
        _settings("common", True, {"epochs": None})
    for i in range(4):  # 7 pure spectra, more than quick mode's 5
        (pure_dir / f"extra{i}.txt").write_text(
            (pure_dir / "beta.txt").read_text(encoding="utf-8"), encoding="utf-8")
    doc = experiments.mixing(tmp_path / "m", quick=True, pure=pure_dir, max_pure=None,
                             epochs=1)
    assert doc["settings"]["max_pure"] is None and doc["results"]["n_pure"] == 7
    # the VIP figure has a panel for every class (it stopped at 4, its caption saying "per
    # class"): 2.3 inches a panel at 110 dpi
    from matplotlib.image import imread

    # +-1 pixel: matplotlib before 3.11.1 cut 2.3 * 7 * 110 = 1770.99... to 1770, not 1771
    height = imread(tmp_path / "m" / "mixing_vip.png").shape[0]
    assert abs(height - round(2.3 * 7 * 110)) <= 1


def test_reproduce_takes_the_labels_of_a_data_folder_and_a_pure_table(tmp_path, pure_dir,
                                                                      capsys):
    # the error for a --data folder suggested --labels-from, which reproduce lacked, and a
    # --pure table could not name its label column
    from ramancam.io import read, write_table

    pure = read(pure_dir)
    table = tmp_path / "pure.csv"
    write_table(pure.replace(labels=["a", "b", "c"]), table, label_col="name")
    out = tmp_path / "m"
    assert main(["reproduce", "mixing", "--quick", "--pure", str(table), "--out",
                 str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: pure spectra must have labels; got 3 spectra in {str(table)!r} whose file "
        "name would label them all alike. Give the table's label column (--pure-label-col C; "
        "label_col= in Python) or a folder of one file per spectrum.\n")
    assert not out.exists()
    assert main(["reproduce", "mixing", "--quick", "--pure", str(table), "--pure-label-col",
                 "name", "--out", str(out)]) == 0
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert doc["results"]["classes"] == ["a", "b", "c"]
    assert doc["settings"]["label_col"] == "name"
    # pharma on a folder: --labels-from exists, and the error points at it
    folder = tmp_path / "data"
    axis = np.arange(380.0, 1821.0, 2.0)
    for c, centres in (("x", (600, 1000)), ("y", (850, 1450))):
        (folder / c).mkdir(parents=True)
        for i, scale in enumerate((1.0, 0.5, 0.34, 0.25, 0.8)):
            y = scale * _peaks(axis, centres) + 0.1
            (folder / c / f"{i}.txt").write_text(
                "".join(f"{x:g}\t{v:.6f}\n" for x, v in zip(axis, y, strict=True)),
                encoding="utf-8")
    assert main(["reproduce", "pharma", "--quick", "--data", str(folder), "--out",
                 str(tmp_path / "p")]) == 2
    assert "--labels-from folder" in capsys.readouterr().err
    code = main(["reproduce", "pharma", "--quick", "--data", str(folder), "--labels-from",
                 "folder", "--out", str(tmp_path / "p")])
    assert code == 0, capsys.readouterr().err
    doc = json.loads((tmp_path / "p" / "metrics.json").read_text(encoding="utf-8"))
    assert doc["results"]["classes"] == ["x", "y"]
    assert main(["reproduce", "pharma", "--quick", "--label-col", "a", "--labels-from",
                 "folder", "--out", str(tmp_path / "q")]) == 2
    assert "--label-col and --labels-from must not be given together" in \
        capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="leftovers are not swept on Windows")
def test_staged_out_removes_the_staging_folder_of_a_killed_run(tmp_path, capsys):
    # a reproduce killed with kill -9 left its hidden .OUT.*.partial folder for good
    import subprocess

    from ramancam.io._atomic import temp_prefix

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host = temp_prefix("x").split(".")[-2].rsplit("-", 1)[0]
    (tmp_path / "res").mkdir()
    left = tmp_path / "res" / f".res.{host}-{proc.pid}.k1ll3d.partial"
    (left / "filters").mkdir(parents=True)
    with experiments._shared._staged_out(tmp_path / "res") as tmp:
        (tmp / "a.txt").write_text("x")
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["a.txt"]
    assert f"removed what a killed run left in {tmp_path / 'res'}: {left.name}" in \
        capsys.readouterr().err


def test_staged_results_folder_permissions_and_a_failed_move(tmp_path, monkeypatch):
    # a new results folder was private (mkdtemp's 0700); the staging folder sat beside an
    # existing --out (another file system when --out is a mount point) and a failed move
    # deleted the finished results
    import os
    import stat


    shared = experiments._shared
    old_mask = os.umask(0o022)
    try:
        with shared._staged_out(tmp_path / "new") as tmp:
            (tmp / "a.txt").write_text("x")
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o755
    finally:
        os.umask(old_mask)
    # an existing folder: staged inside it
    with shared._staged_out(tmp_path / "new") as tmp:
        assert tmp.parent == tmp_path / "new"
        (tmp / "b.txt").write_text("y")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["a.txt", "b.txt"]

    def fail(tmp, out):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(shared, "_swap_in", fail)
    with pytest.raises(RamancamError, match=r"out_dir must take the results; got .* \(Invalid "
                                            r"cross-device link\); it is left as it was\. "
                                            r"This run's results are in '([^']*)'") as info:
        with shared._staged_out(tmp_path / "new") as tmp:
            (tmp / "c.txt").write_text("z")
    kept = Path(re.search(r"results are in '([^']*)'", str(info.value)).group(1))
    assert (kept / "c.txt").read_text() == "z"  # kept, not deleted


def _earlier_results(out: Path) -> dict[str, bytes]:
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps({"figures": ["fig2_size.png"]}))
    (out / "fig2_size.png").write_bytes(b"earlier size")
    (out / "report.html").write_text("earlier report")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _stuck(monkeypatch, *stuck: Path) -> None:
    """os.replace fails for the paths in ``stuck`` (``chattr +i``: no rename of them)."""
    import errno
    import os

    real = os.replace

    def replace(src, dst, **kwargs):
        if Path(src) in stuck or Path(dst) in stuck:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(src))
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def _new_results(tmp: Path) -> None:
    (tmp / "fig2_count.png").write_bytes(b"new count")
    (tmp / "fig2_size.png").write_bytes(b"new size")
    (tmp / "metrics.json").write_text("new metrics")
    (tmp / "report.html").write_text("new report")


@pytest.mark.skipif(sys.platform == "win32", reason="leftovers are not swept on Windows")
def test_a_swap_that_fails_part_way_is_undone_and_its_results_kept(tmp_path, monkeypatch):
    # a swap into an existing --out that failed part-way (one entry could not be renamed)
    # left two runs' results mixed, said all were in the .partial folder though some were
    # already moved, and the next run removed that folder (the earlier run's files in its
    # .earlier/) as a killed run's leftovers
    import os
    import subprocess

    shared = experiments._shared
    out = tmp_path / "rp"
    before = _earlier_results(out)
    _stuck(monkeypatch, out / "metrics.json")  # after fig2_count and fig2_size were moved
    with pytest.raises(RamancamError) as info:
        with shared._staged_out(out) as tmp:
            _new_results(tmp)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"out_dir must take the results; got {str(out)!r} (Operation not "
                          f"permitted: {str(out / 'metrics.json')!r}); it is left as it was.")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    kept = [p for p in out.iterdir() if p.is_dir()]
    assert len(kept) == 1 and not kept[0].name.startswith(".")
    assert f"This run's results are in {str(kept[0])!r}" in msg
    assert {p.name: p.read_bytes() for p in kept[0].iterdir()} == {
        "fig2_count.png": b"new count", "fig2_size.png": b"new size",
        "metrics.json": b"new metrics", "report.html": b"new report"}
    # a later run (another process: this one is gone) leaves them alone
    monkeypatch.undo()
    src = str(Path(experiments.__file__).parents[2])
    code = ("import sys; from ramancam.io._atomic import sweep_leftovers; "
            "print(sweep_leftovers(sys.argv[1], 'rp'))")
    run = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": src}, check=True)
    assert run.stdout == "[]\n" and kept[0].is_dir()
    with shared._staged_out(out) as tmp:
        _new_results(tmp)
    assert kept[0].is_dir() and (out / "fig2_count.png").read_bytes() == b"new count"


def test_a_swap_that_cannot_be_undone_says_what_is_where(tmp_path, monkeypatch):
    # the undo itself failed: the message says the folder holds both runs' results, and
    # where the rest of each is
    shared = experiments._shared
    out = tmp_path / "rp"
    _earlier_results(out)
    # fig2_size.png is replaced, metrics.json fails, fig2_size.png cannot be put back
    import os

    _stuck(monkeypatch, out / "metrics.json")
    real = os.replace

    def replace(src, dst, **kwargs):
        if Path(src) == out / "fig2_size.png" and Path(dst).parent.name != ".earlier":
            raise PermissionError(1, "Operation not permitted", str(src))
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(RamancamError) as info:
        with shared._staged_out(out) as tmp:
            _new_results(tmp)
    monkeypatch.undo()
    msg = str(info.value)
    assert "\n" not in msg and "it is left as it was" not in msg
    assert "could not be undone" in msg and "fig2_size.png" in msg
    assert (out / "fig2_size.png").read_bytes() == b"new size"
    kept = [p for p in out.iterdir() if p.is_dir()]
    assert len(kept) == 1 and not kept[0].name.startswith(".") and str(kept[0]) in msg
    assert (kept[0] / ".earlier" / "fig2_size.png").read_bytes() == b"earlier size"


def test_a_write_error_names_the_output_not_the_staging_folder(tmp_path, monkeypatch):
    # a full disk while a figure was written said ".../x/.y.<host>-<pid>.<rand>.partial/
    # fig2_size.png could not be written", a hidden folder removed right afterwards
    import errno

    from ramancam.io import atomic_write

    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").mkdir()
    with pytest.raises(RamancamError) as info:
        with experiments._shared._staged_out("x/y") as tmp:
            with atomic_write(tmp / "fig2_size.png", "wb"):
                raise OSError(errno.ENOSPC, "No space left on device")
    assert str(info.value).startswith(
        "'x/y/fig2_size.png' could not be written: No space left on device; nothing was left "
        "behind.")
    assert list((tmp_path / "x").iterdir()) == []
    # and outside a staged folder, the file as given
    with pytest.raises(RamancamError, match=r"^'x/z\.png' could not be written"):
        with atomic_write("x/z.png", "wb"):
            raise OSError(errno.ENOSPC, "No space left on device")


def test_default_data_of_a_package_installed_near_the_root(tmp_path, monkeypatch):
    # installed as /srv/ramancam (pip install --target /srv): parents[4] of this module does
    # not exist, and the lookup raised IndexError before looking at RAMANCAM_SHARED_DATA
    from ramancam.experiments import _shared

    monkeypatch.setattr(_shared, "__file__", "/srv/ramancam/experiments/_shared.py")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "amino-acids").mkdir(parents=True)
    monkeypatch.setenv("RAMANCAM_SHARED_DATA", str(tmp_path / "data"))
    assert _shared.default_data("amino-acids") == tmp_path / "data" / "amino-acids"
    monkeypatch.delenv("RAMANCAM_SHARED_DATA")
    assert _shared.default_data("amino-acids") is None


def test_default_data_beside_a_checkout_only(tmp_path, monkeypatch):
    # beside <checkout>/src/ramancam: the checkout's ../shared/data; an installed package
    # (site-packages/ramancam) does not look four folders up
    from ramancam.experiments import _shared

    (tmp_path / "shared" / "data" / "pharma").mkdir(parents=True)
    (tmp_path / "x" / "elsewhere").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "x" / "elsewhere")
    monkeypatch.delenv("RAMANCAM_SHARED_DATA", raising=False)
    checkout = tmp_path / "ramancam"
    (checkout / "src" / "ramancam" / "experiments").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    monkeypatch.setattr(_shared, "__file__",
                        str(checkout / "src" / "ramancam" / "experiments" / "_shared.py"))
    assert _shared.default_data("pharma") == tmp_path / "shared" / "data" / "pharma"
    site = tmp_path / "venv" / "lib" / "site-packages" / "ramancam" / "experiments"
    site.mkdir(parents=True)
    monkeypatch.setattr(_shared, "__file__", str(site / "_shared.py"))
    (tmp_path / "venv" / "shared" / "data" / "pharma").mkdir(parents=True)  # unrelated
    assert _shared.default_data("pharma") is None


def test_a_swallowed_ctrl_c_replaces_no_results(tmp_path, monkeypatch, capsys):
    # SIGINT during matplotlib's figure clean-up raised KeyboardInterrupt in a weakref
    # callback, which Python drops: the run went on, replaced the earlier results and ended
    # with status 0. The command line's handler notes it; nothing is put in place after it.
    import signal

    from ramancam._interrupt import INTERRUPTED

    out = tmp_path / "res"
    assert main(["reproduce", "filters", "--quick", "--out", str(out)]) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    filters = sys.modules["ramancam.experiments.filters"]
    real = filters._filters

    def swallowed(run):
        handler = signal.getsignal(signal.SIGINT)
        try:  # the handler ran where its exception was dropped
            handler(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass
        return real(run)

    monkeypatch.setattr(filters, "_filters", swallowed)
    capsys.readouterr()
    assert main(["reproduce", "filters", "--quick", "--out", str(out)]) == 130
    assert "error: interrupted" in capsys.readouterr().err
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before and not INTERRUPTED.is_set()
    # a single file written after it is not put in place either
    monkeypatch.setattr(filters, "_filters", real)
    sim = sys.modules["ramancam.simulate"]
    real_set = sim.peak_position_set

    def peaks(*args, **kwargs):
        try:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass
        return real_set(*args, **kwargs)

    monkeypatch.setattr(sim, "peak_position_set", peaks)
    assert main(["simulate", "peaks", "--out", str(tmp_path / "p.csv")]) == 130
    assert not (tmp_path / "p.csv").exists()



def _many_classes_csv(path: Path, rng: np.random.Generator, names: list[str]) -> Path:
    """A wide CSV of 5 spectra per class (one peak pair each) on 380-1820 cm-1."""
    from ramancam.io import write_table

    axis = np.arange(380.0, 1821.0, 4.0)
    X, labels = [], []
    for k, name in enumerate(names):
        centres = (450 + 13 * k, 1750 - 11 * k)
        for scale in (1.0, 0.5, 0.34, 0.25, 0.7):
            X.append(scale * _peaks(axis, centres) + 0.02 * rng.random(axis.size) + 0.1)
            labels.append(name)
    write_table(Spectra(np.array(X), axis, labels), path)
    return path


def _drawn(monkeypatch) -> dict[str, list[str]]:
    """The panel titles of every figure an experiment saves, by file name."""
    from ramancam.experiments._shared import _Run

    drawn: dict[str, list[str]] = {}
    figure = _Run.figure
    monkeypatch.setattr(_Run, "figure", lambda run, fig, name, caption: drawn.setdefault(
        name, [ax.get_title() for ax in fig.axes]) and figure(run, fig, name, caption))
    return drawn


def test_pharma_with_many_classes_keeps_its_figures_readable(tmp_path, rng, monkeypatch):
    # 60 classes: fig5_maps.png and pharma_vip.png were 880 x 15180 px (a panel per class),
    # the confusion matrix 4125 x 3432 px, report.html 9.3 MB; classes without test spectra
    # (the quick run's 40 test spectra) printed numpy's "Mean of empty slice" and "invalid
    # value encountered in divide" with source paths. train --report's limits apply: 12
    # panels, no matrix above 30 classes (the most frequent confusions instead)
    import warnings

    names = [f"mineral_{k:02d}" for k in range(36)]
    data = _many_classes_csv(tmp_path / "many.csv", rng, names)
    drawn = _drawn(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        doc = experiments.pharma(tmp_path / "p", quick=True, data=data, max_test=30)
    r = doc["results"]
    tested = [c for c in r["classes"] if c not in r["classes_untested"]]
    assert 0 < len(r["classes_untested"]) < 36 and len(tested) > 12
    assert len(drawn["fig5_maps.png"]) == 12 and len(drawn["pharma_vip.png"]) == 12
    assert all(int(t.split(" over ")[1].split()[0]) > 0 for t in drawn["fig5_maps.png"])
    assert "pharma_confusion.png" not in drawn
    assert not (tmp_path / "p" / "pharma_confusion.png").exists()
    assert set(r["background_share_per_class"]) == set(tested)
    page = (tmp_path / "p" / "report.html").read_text(encoding="utf-8")
    assert "36 classes are too many to draw as a matrix (more than 30)" in page
    assert "The most frequent confusions" in page
    untested = r["classes_untested"]
    assert (f"{len(untested)} of the 36 classes have no test spectra" in page
            and untested[0] in page)
    assert "The 12 classes with the most test spectra (of 36) are drawn" in page
    assert len(page) < 3_000_000  # 12 panels twice (36 made 7 MB)


def test_pharma_panel_titles_cut_long_class_names(tmp_path, rng, monkeypatch):
    # a 70-character class name ran the panel's title off fig5_maps.png; the figures cut
    # class names as every other figure does (the report's tables keep them whole)
    from ramancam._labels import NAME_LIMIT

    names = ["x" * 70, *(f"m{k}" for k in range(3))]
    data = _many_classes_csv(tmp_path / "long.csv", rng, names)
    drawn = _drawn(monkeypatch)
    experiments.pharma(tmp_path / "p", quick=True, data=data, max_test=None)
    for name in ("fig5_maps.png", "pharma_vip.png"):
        assert len(drawn[name]) == 4
        assert all("x" * (NAME_LIMIT + 1) not in t for t in drawn[name]), drawn[name]
    assert "x" * 70 in (tmp_path / "p" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["pharma", "all"])
def test_reproduce_pharma_on_a_short_axis_offers_a_fix_reproduce_has(tmp_path, rng, capsys,
                                                                      name):
    # spectra on 400-1398 cm-1 said "... Crop the grid, e.g. --grid 400:1398:1.", but
    # reproduce has no --grid ("unrecognized arguments: --grid"): the paper's grid is
    # fixed there; the message says so, and where the grid can be changed
    from ramancam.io import write_table

    axis = np.arange(400.0, 1399.0, 2.0)
    X = np.array([s * _peaks(axis, (600 + 50 * k, 1200)) + 0.1
                  for k in range(3) for s in (1.0, 0.5, 0.34, 0.25, 0.7)])
    data = tmp_path / "short.csv"
    write_table(Spectra(X, axis, [f"c{k}" for k in range(3) for _ in range(5)]), data)
    out = tmp_path / "out"
    assert main(["reproduce", name, "--quick", "--data", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    line = [t for t in err.splitlines() if t.startswith("error:")]
    assert line == [
        "error: --data must cover the paper's grid for pharma, 400-1800 cm-1 (fixed in "
        f"'ramancam reproduce'); got {data}, whose spectra cover only 400-1398 cm-1. Give "
        "spectra measured over 400-1800 cm-1, or run the protocol on 400-1398 cm-1 from "
        f"Python: ramancam.experiments.pharma('OUT', data={str(data)!r}, "
        "grid=(400, 1398, 1))."], err
    assert "--grid" not in err and not out.exists()
    if name == "pharma":  # and from Python, in its own terms
        with pytest.raises(RamancamError, match=re.escape(
                "data must cover the grid 400-1800 cm-1; got ") + ".*" + re.escape(
                "Give spectra measured over that range, or crop the grid: "
                "grid=(400, 1398, 1).")):
            experiments.pharma(tmp_path / "p", quick=True, data=data)
