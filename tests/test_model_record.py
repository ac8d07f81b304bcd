"""What a model file records so that a lab can rerun last month's training: a digest of the
spectra it was trained on, how their labels were read, and torch's thread count."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil

import numpy as np
import pytest

import ramancam
from ramancam import Spectra
from ramancam.bundle import data_sha256, load
from ramancam.cli import main
from ramancam.io import read, write_table
from ramancam.provenance import file_sha256

TINY = ["--epochs", "1", "--folds", "2", "--filters", "4", "--fc-width", "8", "--augment",
        "off", "--no-compare", "--threads", "1", "--novelty", "none"]


def _spectra(seed: int = 0) -> Spectra:
    rng = np.random.default_rng(seed)
    axis = np.arange(300.0, 1900.0, 4.0)
    peaks = {"a": 600.0, "b": 1000.0, "c": 1400.0}
    X, y = [], []
    for label, at in peaks.items():
        for _ in range(6):
            X.append(1.0 + np.exp(-0.5 * ((axis - at) / 8.0) ** 2) + rng.normal(0, 0.01,
                                                                                   axis.size))
            y.append(label)
    return Spectra(np.array(X), axis, labels=y)


def test_the_digest_is_of_the_numbers_and_labels_not_the_file(tmp_path, capsys):
    s = _spectra()
    write_table(s, tmp_path / "one.csv", label_col="label")
    write_table(s, tmp_path / "two.csv.gz", label_col="kind")
    a, b = read(tmp_path / "one.csv", label_col="label"), read(tmp_path / "two.csv.gz",
                                                               label_col="kind")
    assert data_sha256(a) == data_sha256(b) == data_sha256(s)
    moved = s.replace(X=s.X + 1e-9)
    relabelled = Spectra(s.X, s.wavenumbers, labels=[*s.labels[1:], s.labels[0]])
    assert len({data_sha256(s), data_sha256(moved), data_sha256(relabelled)}) == 3

    for name, col in (("one.csv", "label"), ("two.csv.gz", "kind")):
        out = tmp_path / f"{name}.ramancam"
        assert main(["train", str(tmp_path / name), "--label-col", col, *TINY,
                     "--out", str(out)]) == 0
    capsys.readouterr()
    one, two = (load(tmp_path / f"{n}.ramancam").info for n in ("one.csv", "two.csv.gz"))
    assert one["training_data"]["sha256"] == two["training_data"]["sha256"] == data_sha256(s)
    assert one["settings"]["label_col"] == "label" and two["settings"]["label_col"] == "kind"
    assert one["settings"]["threads"] == 1

    assert main(["info", str(tmp_path / "two.csv.gz.ramancam")]) == 0
    text = capsys.readouterr().out
    assert f"data:      sha256 {data_sha256(s)[:16]} (of the spectra and labels as read); " \
           "labels --label-col kind" in text
    assert "1 torch thread, seed 0\n" in text
    assert main(["info", str(tmp_path / "two.csv.gz.ramancam"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["read_options"] == {"label_col": "kind"} and d["training"]["threads"] == 1
    assert d["training_data"]["sha256"] == data_sha256(s)


def test_a_folder_read_with_labels_from_records_the_option(tmp_path, capsys):
    s = _spectra(1)
    folder = tmp_path / "spectra"
    folder.mkdir()
    for i, (x, label) in enumerate(zip(s.X, s.labels, strict=True)):
        np.savetxt(folder / f"{label}_{i:02d}.txt", np.c_[s.wavenumbers, x])
    out = tmp_path / "m.ramancam"
    assert main(["train", str(folder), "--labels-from", "regex:^([a-z])_", *TINY,
                 "--out", str(out)]) == 0
    info = load(out).info
    assert info["settings"]["labels_from"] == "regex:^([a-z])_"
    assert info["settings"]["label_col"] is None
    # the same spectra, their files renamed: the same digest
    (tmp_path / "copy").mkdir()
    for f in sorted(folder.iterdir()):
        shutil.copy(f, tmp_path / "copy" / f.name.replace("_", "_run7-"))
    again = read(tmp_path / "copy", labels_from="regex:^([a-z])_")
    assert data_sha256(again) == info["training_data"]["sha256"]
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "labels --labels-from 'regex:^([a-z])_'" in capsys.readouterr().out


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tiny model trained by the command line from ``data.csv``, with its report."""
    tmp = tmp_path_factory.mktemp("made")
    s = _spectra()
    write_table(s, tmp / "data.csv", label_col="label")
    out = tmp / "m.ramancam"
    assert main(["train", str(tmp / "data.csv"), "--label-col", "label", *TINY,
                 "--out", str(out), "--report", str(tmp / "train.html")]) == 0
    return tmp, out, s


def test_info_and_every_report_name_the_model_file_by_its_sha256(made, capsys):
    # reports named the model by path only, and info did not print its digest: a model
    # file replaced under the same name could not be told from the one that made a result
    tmp, model, s = made
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    assert file_sha256(model) == sha
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    assert f"\n  file:      sha256 {sha[:16]}...\n" in capsys.readouterr().out
    assert main(["info", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sha256"] == sha
    for cmd in ("predict", "explain"):
        page = tmp / f"{cmd}.html"
        assert main([cmd, str(model), str(tmp / "data.csv"), "--report", str(page)]) == 0
        text = page.read_text(encoding="utf-8")
        assert f"<td>model sha256</td><td>{sha}</td>" in text, cmd
    text = (tmp / "train.html").read_text(encoding="utf-8")
    assert f"<td>model sha256</td><td>{sha}</td>" in text
    assert f"<td>data sha256</td><td>{data_sha256(s)}</td>" in text


@pytest.fixture(scope="module")
def cube(made):
    """``made``'s spectra as a 3 x 6 Zarr cube (``map.zarr`` beside them)."""
    pytest.importorskip("zarr")
    from ramancam.io.zarr_cube import write_cube

    tmp, _, s = made
    yy, xx = np.meshgrid(np.arange(3), np.arange(6), indexing="ij")
    write_cube(Spectra(s.X, s.wavenumbers, s.labels, {"x": xx.ravel() * 1.0,
                                                      "y": yy.ravel() * 1.0}),
               tmp / "map.zarr", chunks=(2, 2))
    return tmp / "map.zarr"


def test_a_cube_runs_map_report_names_the_model_and_its_sha256(made, cube):
    tmp, model, _ = made
    sha = file_sha256(model)
    for cmd in ("predict", "explain"):
        assert main([cmd, str(model), str(cube), "--out", str(tmp / cmd)]) == 0
        text = (tmp / cmd / "report.html").read_text(encoding="utf-8")
        assert f"<td>model</td><td>{html.escape(str(model))}</td>" in text, cmd
        assert f"<td>model sha256</td><td>{sha}</td>" in text, cmd


def test_models_stores_and_reports_record_the_commit_of_a_checkout(made, cube, capsys):
    # "ramancam 0.2.0" named any of ~400 commits: from a git checkout the commit is recorded
    # beside the version (absent for an installed ramancam: git_commit() is None there)
    from ramancam.provenance import git_commit
    from ramancam.report import software_versions

    tmp, model, _ = made
    commit = git_commit()
    versions = load(model).info["versions"]
    assert versions["ramancam"] == ramancam.__version__
    assert versions.get("commit") == commit
    assert software_versions().get("commit") == commit
    if commit is not None:
        assert f"<td>commit</td><td>{commit}</td>" in (tmp / "train.html").read_text()
        capsys.readouterr()
        assert main(["info", str(model)]) == 0
        assert (f"  model:     ramancam CNN (saved by ramancam {ramancam.__version__} at "
                f"commit {commit[:12]}, torch ") in capsys.readouterr().out
    import zarr

    assert main(["predict", str(model), str(cube), "--out",
                 str(tmp / "predict2")]) == 0
    meta = zarr.open_group(str(tmp / "predict2" / "predictions.zarr"), mode="r").attrs[
        "ramancam"]
    assert meta["ramancam_version"] == ramancam.__version__
    assert meta.get("ramancam_commit") == commit


def test_a_model_records_when_and_by_which_command_line_it_was_made(made, tmp_path, capsys):
    # the model file recorded neither a date nor the command: months later nothing said when
    # or how it was trained (its zip members are dated 1980 for reproducible bytes: kept)
    import datetime as dt
    import zipfile

    from _model_files import rewrite_model
    from ramancam.provenance import command_line

    tmp, model, _ = made
    info = load(model).info
    made_at = dt.datetime.strptime(info["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - made_at).total_seconds()) < 3600
    assert info["command"] == command_line(
        ["train", str(tmp / "data.csv"), "--label-col", "label", *TINY, "--out", str(model),
         "--report", str(tmp / "train.html")])
    with zipfile.ZipFile(model) as zf:
        assert {m.date_time for m in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    text = capsys.readouterr().out
    assert f"\n  created:   {info['created']}\n  command:   {info['command']}\n" in text
    assert main(["info", str(model), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["created"], d["command"]) == (info["created"], info["command"])
    # a file saved before 2026-12-08: it loads, and info says nothing of either
    old = rewrite_model(model, tmp_path / "old.ramancam",
                        info=lambda d: [d.pop("created"), d.pop("command")])
    assert load(old).classes == load(model).classes
    assert main(["info", str(old)]) == 0
    text = capsys.readouterr().out
    assert "created:" not in text and "command:" not in text


def test_a_model_saved_from_python_has_a_date_and_no_command(tmp_path):
    from ramancam.bundle import save, training_summary
    from ramancam.model import CNNConfig, RamanCNN

    s = _spectra()
    net = RamanCNN(CNNConfig(n_points=s.wavenumbers.size, n_classes=3, n_filters=2,
                             filter_size=3, fc_width=4))
    out = save(tmp_path / "m.ramancam", estimator=net, recipe=None, grid=s.wavenumbers,
               classes=["a", "b", "c"], training_summary=training_summary(s))
    info = load(out).info
    assert info["created"].endswith("Z") and "command" not in info


def test_the_digest_follows_the_order_of_the_spectra_not_their_names(tmp_path):
    # docs/reproduction.md said "a folder copied under other names gives the same one": the
    # digest is of the spectra in the order read, and a folder is read in its names' order
    s = _spectra(2)
    for name, names in (("kept", [f"{i:02d}_{y}.txt" for i, y in enumerate(s.labels)]),
                        ("same", [f"run7_{i:02d}_{y}.txt" for i, y in enumerate(s.labels)]),
                        ("moved", [f"{(i + 1) % len(s):02d}_{y}.txt"
                                   for i, y in enumerate(s.labels)])):
        (tmp_path / name).mkdir()
        for f, x in zip(names, s.X, strict=True):
            np.savetxt(tmp_path / name / f, np.c_[s.wavenumbers, x])
    got = {name: data_sha256(read(tmp_path / name, labels_from=r"regex:_([a-z])\.txt$"))
           for name in ("kept", "same", "moved")}
    assert got["kept"] == got["same"] == data_sha256(s)
    assert got["moved"] != got["kept"]  # the last file renamed to sort first


def test_the_reading_options_that_select_the_data_are_recorded(tmp_path, capsys):
    # train fold --files 'one_*' read 18 of the folder's 36 spectra, and info said
    # "trained: 18 spectra from fold" with nothing on which: a rerun read all 36
    s = _spectra(3)
    folder = tmp_path / "fold"
    folder.mkdir()
    for run in ("one", "two"):
        for i, (x, label) in enumerate(zip(s.X, s.labels, strict=True)):
            np.savetxt(folder / f"{run}_{label}_{i:02d}.txt", np.c_[s.wavenumbers, x])
    out = tmp_path / "m.ramancam"
    assert main(["train", str(folder), "--files", "one_*", "--labels-from",
                 r"regex:_([a-z])_", *TINY, "--out", str(out)]) == 0
    info = load(out).info
    assert info["training_data"]["n_spectra"] == 18
    assert info["settings"]["files"] == "one_*" and info["settings"]["xy_cols"] is None
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert ("labels --labels-from 'regex:_([a-z])_'; files --files 'one_*'\n"
            in capsys.readouterr().out)
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["read_options"] == {
        "labels_from": "regex:_([a-z])_", "files": "one_*"}
    # the positions' columns of a map table
    yy, xx = np.meshgrid(np.arange(3), np.arange(6), indexing="ij")
    write_table(Spectra(s.X, s.wavenumbers, s.labels, {"px": xx.ravel() * 2.0,
                                                       "py": yy.ravel() * 2.0}),
                tmp_path / "map.csv", label_col="label")
    assert main(["train", str(tmp_path / "map.csv"), "--label-col", "label", "--xy-cols",
                 "px,py", *TINY, "--out", str(out)]) == 0
    assert load(out).info["settings"]["xy_cols"] == "px,py"
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "labels --label-col label; positions --xy-cols px,py\n" in capsys.readouterr().out


def test_baseline_json_records_versions_date_and_the_datas_digest(made):
    # baseline.json had the options but no software versions, date or data digest: a
    # baseline number could not be tied to the spectra and code that gave it
    from ramancam.report import software_versions

    tmp, _, s = made
    assert main(["baseline", str(tmp / "data.csv"), "--label-col", "label", "--model",
                 "pca-svm", "--folds", "2", "--recipe", "none", "--out",
                 str(tmp / "base")]) == 0
    d = json.loads((tmp / "base" / "baseline.json").read_text())
    assert d["data_sha256"] == data_sha256(s)
    assert d["versions"]["ramancam"] == ramancam.__version__
    assert d["versions"] == software_versions()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["created"])


def test_a_converted_cube_records_version_date_and_source(made, tmp_path, capsys):
    # a cube's attributes were {"format", "version", "id"}: nothing said which file it was
    # converted from, when, or by which ramancam
    pytest.importorskip("zarr")
    import zarr

    _, _, s = made
    yy, xx = np.meshgrid(np.arange(3), np.arange(6), indexing="ij")
    table = tmp_path / "map.csv"
    write_table(Spectra(s.X, s.wavenumbers, s.labels, {"x": xx.ravel() * 1.0,
                                                       "y": yy.ravel() * 1.0}),
                table, label_col="label")
    out = tmp_path / "map.zarr"
    assert main(["convert", str(table), str(out), "--label-col", "label"]) == 0
    meta = dict(zarr.open_group(str(out), mode="r").attrs["ramancam"])
    assert meta["ramancam_version"] == ramancam.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["created"])
    assert meta["source"] == [str(table)]
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert (f"\n  written:   by ramancam {ramancam.__version__} on {meta['created']} from "
            f"{table}\n") in capsys.readouterr().out
    assert main(["info", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["ramancam_version"], d["created"], d["source"]) == (
        ramancam.__version__, meta["created"], [str(table)])
    # a cube written before 2026-12-08 (or by other tools): no such line
    g = zarr.open_group(str(out), mode="r+")
    g.attrs["ramancam"] = {k: meta[k] for k in ("format", "version", "id")}
    assert main(["info", str(out)]) == 0
    assert "written:" not in capsys.readouterr().out


def test_a_k_fold_model_records_no_train_value(made):
    # k-fold models stored train_value "train" (the --train-value default) though no split
    # was used, and the train report listed it among the settings
    tmp, model, _ = made
    assert load(model).info["settings"]["train_value"] is None
    assert "<td>train_value</td>" not in (tmp / "train.html").read_text(encoding="utf-8")
