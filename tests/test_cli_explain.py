"""``ramancam explain`` end to end on a tiny saved model (random weights, no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _toy_sets import saved_with_data, tiny_network
from ramancam.cli import main
from ramancam.explain import fc_importance, grad_cam, predict_proba
from ramancam.model import CNNConfig, RamanCNN
from ramancam.spectra import Spectra

N_POINTS = 40
CLASSES = ["alpha", "beta", "gamma"]


@pytest.fixture
def setup(tmp_path, rng):
    """A saved 3-class model (no recipe: data already on its grid) and a labelled data file."""
    model, grid = tiny_network(N_POINTS)
    X = rng.random((5, N_POINTS))
    data = Spectra(X, grid, labels=["beta", "alpha", "gamma", "beta", "alpha"],
                   meta={"id": [f"s{i}" for i in range(5)]})
    return (model, *saved_with_data(tmp_path, model, CLASSES, data), X, grid)


def _read(path):
    from ramancam.io import read_table

    return read_table(path)


def test_explain_default_is_ig_bands(setup, tmp_path, capsys):
    # the map that passes the deletion test is the default; fc is one option away
    _, model_path, data_path, _, _ = setup
    default, named = tmp_path / "default.csv", tmp_path / "ig.csv"
    assert main(["explain", str(model_path), str(data_path), "--out", str(default)]) == 0
    assert f"wrote 5 ig-bands maps (predicted) to {default}" in capsys.readouterr().out
    assert main(["explain", str(model_path), str(data_path), "--method", "ig-bands",
                 "--out", str(named)]) == 0
    np.testing.assert_array_equal(_read(default).X, _read(named).X)
    assert set(_read(default).meta["method"].tolist()) == {"ig-bands"}


def test_explain_predicted_fc_writes_a_readable_table(setup, tmp_path, capsys):
    model, model_path, data_path, X, grid = setup
    out = tmp_path / "maps.csv"
    assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                 "--method", "fc", "--out", str(out)]) == 0
    assert f"wrote 5 fc maps (predicted) to {out}" in capsys.readouterr().out
    maps = _read(out)
    np.testing.assert_allclose(maps.wavenumbers, grid)
    pred = predict_proba(model, X).argmax(axis=1)
    np.testing.assert_allclose(maps.X, fc_importance(model, X, pred, form="contribution"),
                               rtol=1e-6)
    assert maps.meta["id"].tolist() == ["s0", "s1", "s2", "s3", "s4"]
    assert maps.meta["target"].tolist() == [CLASSES[i] for i in pred]
    assert set(maps.meta["method"].tolist()) == {"fc"}


def test_explain_true_gradcam_prob_and_plot(setup, tmp_path):
    model, model_path, data_path, X, _ = setup
    out, fig = tmp_path / "maps.csv.gz", tmp_path / "maps.png"
    assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                 "--target", "true", "--method", "gradcam", "--score", "prob",
                 "--out", str(out), "--plot", str(fig), "--max-plots", "2"]) == 0
    maps = _read(out)
    t = np.array([1, 0, 2, 1, 0])
    assert maps.meta["target"].tolist() == ["beta", "alpha", "gamma", "beta", "alpha"]
    np.testing.assert_allclose(maps.X, grad_cam(model, X, t, score="prob"), rtol=1e-5,
                               atol=1e-9)
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explain_out_folder_without_positions_gets_the_figure(setup, tmp_path, capsys):
    """--out DIR on spectra without x/y: maps.csv and the --plot figure (maps.png) in DIR;
    a table of several spectra with numeric columns that may be positions gets the
    --xy-cols note naming them; a folder of files, or a table without such columns, not
    (the note was noise under every ordinary table's outputs)."""
    from ramancam.io import write_table
    from ramancam.maps.outputs import no_positions_note

    _, model_path, data_path, X, _ = setup
    out = tmp_path / "explained"
    assert main(["explain", str(model_path), str(data_path), "--out", f"{out}/",
                 "--max-plots", "2"]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["maps.csv", "maps.png"]
    assert (out / "maps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote a figure of 2 maps to {out / 'maps.png'}" in text
    assert "--xy-cols X,Y" not in text  # no numeric column: no map
    assert _read(out / "maps.csv").X.shape == X.shape
    folder = tmp_path / "files"
    folder.mkdir()
    for i in range(2):
        write_table(Spectra(X[i:i + 1], np.arange(N_POINTS) * 2.0 + 500.0),
                    folder / f"s{i}.csv")
    assert no_positions_note(str(folder), 2) is None
    assert no_positions_note(str(data_path), 1) is None
    assert "--xy-cols" in (no_positions_note(str(data_path), 5) or "")  # columns not known
    assert no_positions_note(str(data_path), 5, {"batch": np.zeros(5)}) is None
    note = no_positions_note(str(data_path), 5, {"X (um)": np.zeros(5), "Y (um)": np.ones(5),
                                                  "operator": np.array(["a"] * 5)})
    assert (note or "").endswith("--xy-cols X,Y (numeric columns: 'X (um)', 'Y (um)')")


def test_explain_all_classes_named_class_and_stdout(setup, tmp_path, capsys):
    _, model_path, data_path, _, _ = setup
    out = tmp_path / "all.csv"
    assert main(["explain", str(model_path), str(data_path), "--target", "all",
                 "--normalize", "maxabs", "--out", str(out)]) == 0
    maps = _read(out)
    assert len(maps) == 15
    assert maps.meta["target"].tolist()[:3] == CLASSES
    assert maps.meta["id"].tolist()[:4] == ["s0", "s0", "s0", "s1"]
    np.testing.assert_allclose(np.abs(maps.X).max(axis=1), 1.0, rtol=1e-6)
    capsys.readouterr()
    assert main(["explain", str(model_path), str(data_path), "--target", "gamma",
                 "--method", "saliency"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and lines[0].startswith("id,target,method,500.0,")
    assert all(line.split(",")[1:3] == ["gamma", "saliency"] for line in lines[1:])
    # asked for a figure only: no table on stdout, one line says how to keep the maps
    assert main(["explain", str(model_path), str(data_path), "--plot",
                 str(tmp_path / "f.png")]) == 0
    out, err = capsys.readouterr()
    assert out == "" and (tmp_path / "f.png").exists()
    assert "5 ig-bands maps (predicted) not written as a table: give --out FILE.csv" in err


def test_explain_ig_bands_uses_a_20_cm1_band_window(setup, tmp_path):
    from ramancam.explain import captum_map

    model, model_path, data_path, X, _ = setup
    out = tmp_path / "bands.csv"
    assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                 "--target", "true", "--method", "ig-bands", "--out", str(out)]) == 0
    maps = _read(out)
    assert set(maps.meta["method"].tolist()) == {"ig-bands"}
    t = np.array([1, 0, 2, 1, 0])
    # the grid step is 2 cm-1, so the SNIP half window is 10 points
    np.testing.assert_allclose(maps.X, captum_map(model, X, t, method="ig-bands",
                                                  band_window=10), rtol=1e-4, atol=1e-7)
    assert not np.allclose(maps.X, captum_map(model, X, t, method="ig-bands", band_window=3),
                           atol=1e-7)


def test_a_class_named_like_a_target_keyword_is_asked_for_as_class_name(tmp_path, rng,
                                                                        capsys):
    # classes 'true' and 'all' (true/false labels are common; train takes them): --target
    # true and --target all took the keyword, and no spelling picked the class
    from ramancam.explain import explain

    model, grid = tiny_network(N_POINTS)
    X = rng.random((4, N_POINTS))
    names = ["true", "all", "false"]
    model_path, data_path = saved_with_data(tmp_path, model, names, Spectra(
        X, grid, labels=["false", "true", "all", "false"],
        meta={"id": [f"s{i}" for i in range(4)]}))
    for word, meaning in (("true", "each spectrum's labelled class"),
                          ("all", "every class")):
        assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                     "--target", word]) == 2
        assert capsys.readouterr().err == (
            f"error: --target must name one thing; got {word}, both the keyword ({meaning}) "
            f"and one of the model's classes. Give --target class:{word} for the class.\n")
    # class:NAME names the class, keyword or not; the maps are the class's
    out = tmp_path / "maps.csv"
    for target, index in (("class:true", 0), ("class:all", 1), ("class:false", 2)):
        assert main(["explain", str(model_path), str(data_path), "--method", "fc",
                     "--target", target, "--out", str(out)]) == 0
        assert f"wrote 4 fc maps ({target}) to {out}" in capsys.readouterr().out
        maps = _read(out)
        assert maps.meta["target"].tolist() == [names[index]] * 4
        np.testing.assert_allclose(maps.X, fc_importance(model, X, np.full(4, index),
                                                         form="contribution"), rtol=1e-6)
    # a keyword no class is named after is still the keyword
    assert main(["explain", str(model_path), str(data_path), "--method", "fc",
                 "--target", "predicted", "--out", str(out)]) == 0
    assert main(["explain", str(model_path), str(data_path), "--target", "class:nope"]) == 2
    assert ("--target must be predicted, true, all or one of the model's classes (true, all, "
            "false); got 'class:nope'") in capsys.readouterr().err
    # in Python: the keyword first (as documented), class:NAME for the class
    Xf = X.astype(np.float32)
    _, t = explain(model, Xf, target="class:all", class_names=names)
    assert t.tolist() == [1] * 4
    _, t = explain(model, Xf, target="all", class_names=names)
    assert t.tolist() == [0, 1, 2] * 4


@pytest.mark.parametrize(("extra", "match"), [
    (["--target", "true"], "--target true needs labels"),
    (["--target", "delta"], "--target must be predicted, true, all or one of the model's "
                            "classes (alpha, beta, gamma); got 'delta'"),
    (["--max-plots", "0", "--plot", "x.png"], "--max-plots must be at least 1; got 0"),
    (["--plot", "maps.jpg2"], "--plot must end in .png, .pdf or .svg"),
    (["--out", "no/such/folder/maps.csv"], "--out must be in an existing folder"),
])
def test_cli_errors(setup, tmp_path, capsys, monkeypatch, extra, match):
    _, model_path, data_path, _, _ = setup
    monkeypatch.chdir(tmp_path)
    assert main(["explain", str(model_path), str(data_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err
    assert len(err.strip().splitlines()) == 1


def test_cli_true_target_with_labels_unknown_to_the_model(setup, tmp_path, capsys):
    from ramancam.io import write_table

    _, model_path, _, X, grid = setup
    other = tmp_path / "other.csv"
    write_table(Spectra(X[:2], grid, labels=["alpha", "omega"]), other)
    assert main(["explain", str(model_path), str(other), "--label-col", "label",
                 "--target", "true"]) == 2
    out = capsys.readouterr()
    assert "labels must be classes of the model (alpha, beta, gamma) for --target true; got " \
           "'omega'" in out.err
    assert out.out == ""  # checked before any row: the first chunk's rows went to stdout


def test_cli_nothing_written_on_error_while_writing(setup, tmp_path):
    from ramancam.io import write_table

    _, model_path, _, X, grid = setup
    other = tmp_path / "other.csv"
    # the bad label sits in the data, so the error comes after the table was opened
    write_table(Spectra(X[:2], grid, labels=["alpha", "omega"]), other)
    out = tmp_path / "maps.csv"
    out.write_text("old")
    assert main(["explain", str(model_path), str(other), "--label-col", "label",
                 "--target", "true", "--out", str(out)]) == 2
    assert out.read_text() == "old"
    # and no temporary file is left behind
    assert {p.name for p in tmp_path.iterdir()} == {"data.csv", "maps.csv", "model.ramancam",
                                                    "other.csv"}


def test_explain_fc_form_eq9_is_the_paper_as_written(setup, tmp_path):
    model, model_path, data_path, X, _ = setup
    out = tmp_path / "eq9.csv"
    assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                 "--method", "fc", "--fc-form", "eq9", "--out", str(out)]) == 0
    pred = predict_proba(model, X).argmax(axis=1)
    want = fc_importance(model, X, pred)
    np.testing.assert_allclose(_read(out).X, want, rtol=1e-6)
    assert not np.allclose(want, fc_importance(model, X, pred, form="contribution"))


def test_dollar_signs_in_ids_are_text_not_maths(setup, tmp_path, capsys):
    """Ids from user files go into the figures as they are: '$' (Fe$_2$O$_3$) is no
    matplotlib maths, and an unbalanced one no error."""
    from ramancam.io import write_table

    _, model_path, _, X, grid = setup
    data = Spectra(X[:3], grid, meta={"id": ["NaCl $x_$ 5%", r"$\frac{a$", "Fe$_2$O$_3$"]})
    write_table(data, tmp_path / "dollar.csv")
    fig = tmp_path / "m.png"
    assert main(["explain", str(model_path), str(tmp_path / "dollar.csv"), "--method", "fc",
                 "--plot", str(fig), "--report", str(tmp_path / "r.html")]) == 0
    assert fig.stat().st_size > 0 and "error" not in capsys.readouterr().err
    import matplotlib

    assert matplotlib.rcParams["text.parse_math"]  # the command's setting does not leak


def test_maps_zero_at_every_point_are_said(setup, tmp_path, capsys):
    # Grad-CAM's ReLU left whole classes with flat maps, and nothing said so
    from ramancam.bundle import save, training_summary

    model, _, data_path, X, grid = setup
    with torch.no_grad():
        for p in model.classifier.parameters():
            p.zero_()  # the scores no longer depend on the spectrum: every map is zero
    flat = tmp_path / "flat.ramancam"
    save(flat, estimator=model, recipe=None, grid=grid, classes=CLASSES,
         training_summary=training_summary(Spectra(X, grid)))
    for method, other in (("gradcam", "--method fc or ig-bands"), ("fc", "--method ig-bands")):
        assert main(["explain", str(flat), str(data_path), "--method", method,
                     "--out", str(tmp_path / f"{method}.csv")]) == 0
        out = capsys.readouterr().out
        assert f"note: 5 of 5 {method} maps are zero at every point" in out and other in out
    # a working model's maps are not zero: no note
    assert main(["explain", str(setup[1]), str(data_path), "--method", "fc",
                 "--out", str(tmp_path / "ok.csv")]) == 0
    assert "zero at every point" not in capsys.readouterr().out


def test_plots_of_every_class_show_the_most_probable_first(setup, tmp_path, monkeypatch):
    # --target all drew each spectrum's maps in class order: with --max-plots below the
    # number of classes the predicted class could be left out
    import ramancam.cli.explain as cli_explain
    from ramancam.bundle import load
    from ramancam.io import read

    _, model_path, data_path, *_ = setup
    drawn = []
    monkeypatch.setattr(cli_explain, "_plot", lambda path, grid, shown, title: drawn.extend(
        "".join(head) for head, *_ in shown))
    assert main(["explain", str(model_path), str(data_path), "--method", "fc", "--target",
                 "all", "--plot", str(tmp_path / "p.png"), "--max-plots", "2"]) == 0
    b = load(model_path)
    proba = b.predict_all(read(data_path))[0][0]  # calibrated, as the panels' p=
    order = [CLASSES[c] for c in np.argsort(-proba, kind="stable")]
    assert order[:2] != CLASSES[:2]  # the class order would draw others
    assert [h.split(" (p=")[0] for h in drawn] == [f"s0: map for {c}" for c in order[:2]]


def test_plot_titles_keep_apart_long_ids_that_differ_in_their_middle(setup, tmp_path,
                                                                     monkeypatch):
    # each id was cut alone: four bacteria files "2092_rep3_lag_40sec_000...Data 1.spc" to
    # "..._003..." all read "2092_rep3_lag_40sec_0...Data 1.spc", no panel matched to its row
    import ramancam.cli.explain as cli_explain
    from ramancam.io import read, write_table

    _, model_path, data_path, *_ = setup
    s = read(data_path)[:4]
    s.meta["id"] = np.array([f"2092_rep3_lag_40sec_{k:03d}_integration_Data 1.spc"
                             for k in range(4)], dtype=object)
    write_table(s, tmp_path / "long.csv")
    titles = []

    def plot(path, grid, shown, title):
        real(path, grid, shown, title)
        titles.extend(ax.get_title() for ax in drawn_axes)

    drawn_axes = []
    real = cli_explain._plot
    import ramancam.plot as plot_module

    spectrum_map = plot_module.spectrum_map
    monkeypatch.setattr(plot_module, "spectrum_map", lambda *a, **k: drawn_axes.append(
        k["ax"]) or spectrum_map(*a, **k))
    monkeypatch.setattr(cli_explain, "_plot", plot)
    assert main(["explain", str(model_path), str(tmp_path / "long.csv"), "--method", "fc",
                 "--plot", str(tmp_path / "p.png"), "--max-plots", "4"]) == 0
    names = [t.split(": map for")[0] for t in titles]
    assert len(names) == 4 and len(set(names)) == 4, names
    # each keeps the part where it differs from the others (between the cuts' ellipses)
    assert [n.split("\u2026")[1] for n in names] == ["0", "1", "2", "3"], names


def test_report_names_channels_on_a_channel_axis(setup, tmp_path):
    # a simulated set's channels were called "Supporting bands (cm-1)" beside a figure
    # whose axis says "channel"
    from ramancam.bundle import save, training_summary
    from ramancam.io import write_table

    model, _, _, X, _ = setup
    grid = np.arange(N_POINTS, dtype=np.float64)
    data = Spectra(X, grid, labels=["beta", "alpha", "gamma", "beta", "alpha"])
    save(tmp_path / "ch.ramancam", estimator=model, recipe=None, grid=grid, classes=CLASSES,
         training_summary=training_summary(data))
    write_table(data, tmp_path / "ch.csv")
    assert main(["explain", str(tmp_path / "ch.ramancam"), str(tmp_path / "ch.csv"),
                 "--method", "fc", "--report", str(tmp_path / "r.html"),
                 "--out", str(tmp_path / "m.csv")]) == 0
    text = (tmp_path / "r.html").read_text()
    assert text.count("Supporting bands (channel): ") == 5 and "(cm-1)" not in text


def test_plot_titles_tell_long_names_apart(tmp_path, rng, monkeypatch):
    # RRUFF names that differ in their middle (the laser) were cut alike: a real error read
    # "predicted Monazite-(Ce) R040106…unoriented, true Monazite-(Ce) R040106…unoriented"
    from ramancam.bundle import save, training_summary
    from ramancam.cli import explain as cli_explain
    from ramancam.io import write_table

    names = [f"Monazite-(Ce) R040106 {w} nm unoriented" for w in (514, 532, 785)]
    torch.manual_seed(3)
    model = RamanCNN(CNNConfig(n_points=N_POINTS, n_classes=3, n_filters=4, filter_size=5,
                               fc_width=6)).eval()
    grid = np.arange(N_POINTS) * 2.0 + 500.0
    X = rng.random((6, N_POINTS))
    data = Spectra(X, grid, labels=names * 2, meta={"id": [f"s{i}" for i in range(6)]})
    model_path, data_path = tmp_path / "model.ramancam", tmp_path / "data.csv"
    save(model_path, estimator=model, recipe=None, grid=grid, classes=names,
         training_summary=training_summary(data))
    write_table(data, data_path)
    heads = []
    monkeypatch.setattr(cli_explain, "_plot",
                        lambda path, grid, shown, title: heads.extend("".join(s[0])
                                                                      for s in shown))
    assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                 "--method", "fc", "--plot", str(tmp_path / "p.png"), "--max-plots", "6"]) == 0
    pred = predict_proba(model, X).argmax(axis=1)
    wrong = [h for h, p, t in zip(heads, pred, [0, 1, 2] * 2, strict=True) if p != t]
    assert wrong
    for head in wrong:
        predicted, true = head.split("predicted ")[1].split(", true ")
        assert predicted != true


def test_report_legend_cuts_long_class_names(tmp_path, rng, monkeypatch):
    # the report's legend said "mean of <the whole class name> +- sd": a 60-character RRUFF
    # name ran off the canvas and squeezed the plot to a third of the figure's width
    from types import SimpleNamespace

    import ramancam.plot
    from ramancam.cli.explain import _write_report

    names = [f"Monazite-(Ce) R0401{i:02d} 532 nm excellent unoriented processed"
             for i in range(3)]
    grid = np.arange(N_POINTS) * 2.0 + 500.0
    bundle = SimpleNamespace(classes=names, references={},
                             class_reference=lambda c: (np.ones(N_POINTS),
                                                        np.full(N_POINTS, 0.1)))
    figures, render = [], ramancam.plot.figure_png
    monkeypatch.setattr(ramancam.plot, "figure_png",
                        lambda fig: figures.append(fig) or render(fig))
    entries = [{"id": "s0", "x": rng.random(N_POINTS), "map": rng.standard_normal(N_POINTS),
                "target": names[1], "predicted": names[1], "p": 0.9, "true": "",
                "novelty": None, "novelty_p": None, "unknown": None, "match": None,
                "set": None}]
    _write_report(str(tmp_path / "r.html"), grid, entries, {"method": "fc"},
                  {names[1]: 1}, None, bundle)
    (fig,) = figures
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == ["mean of Monazite-(Ce) R040101… processed +- sd",
                          "mean of Monazite-(Ce) R040101… processed"]
    assert names[1] in (tmp_path / "r.html").read_text()  # the page keeps it whole


def test_plot_says_what_red_and_blue_mean(setup, tmp_path, monkeypatch):
    # maps.png's right axis said only "fc": "red = supports, blue = argues against" was in
    # --help and the HTML report, not on the figure
    from matplotlib.figure import Figure

    _, model_path, data_path, *_ = setup
    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, fh, **kw: saved.append(fig))
    assert main(["explain", str(model_path), str(data_path), "--method", "fc",
                 "--plot", str(tmp_path / "p.png"), "--max-plots", "2"]) == 0
    (fig,) = saved
    assert fig.get_suptitle() == ("ramancam explain: fc maps (red: supports the class, "
                                  "blue: argues against it)")


def test_a_rerun_into_the_folder_with_its_figure_elsewhere_removes_the_old_one(setup, tmp_path,
                                                                              capsys):
    # explain --out DIR/ wrote DIR/maps.png; a rerun with --plot elsewhere left it there,
    # beside the new maps.csv, a figure of another run
    _, model_path, data_path, _, _ = setup
    out = tmp_path / "ex"
    assert main(["explain", str(model_path), str(data_path), "--out", f"{out}/",
                 "--max-plots", "2"]) == 0
    assert (out / "maps.png").is_file()
    capsys.readouterr()
    other = tmp_path / "other.png"
    assert main(["explain", str(model_path), str(data_path), "--out", f"{out}/",
                 "--max-plots", "2", "--plot", str(other)]) == 0
    text = capsys.readouterr().out
    assert other.is_file() and not (out / "maps.png").exists()
    assert f"removed the earlier run's {out / 'maps.png'} (this run's figure is {other})" in text


@pytest.mark.parametrize(("command", "name", "hint"), [
    ("explain", "maps.png", "The figure is --plot FILE.png"),
    ("predict", "res.html", "The page of spectra to check is --report FILE.html"),
    ("explain", "m.ramancam", "--report FILE.html")])
def test_out_named_as_a_figure_page_or_model_is_refused(setup, tmp_path, capsys, command,
                                                        name, hint):
    # --out maps.png wrote the CSV table under an image's name: no figure, status 0
    _, model_path, data_path, _, _ = setup
    assert main([command, str(model_path), str(data_path), "--out",
                 str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert "--out must name a table (.csv, .csv.gz) or a folder; got" in err and hint in err
    assert not (tmp_path / name).exists()


def test_options_that_would_be_dropped_are_refused(setup, capsys):
    # --fc-form with another method, and a band named twice (two identical band images),
    # passed without a word
    from ramancam.errors import RamancamError
    from ramancam.maps.outputs import parse_bands

    _, model_path, data_path, _, _ = setup
    assert main(["explain", str(model_path), str(data_path), "--method", "gradcam",
                 "--fc-form", "eq9"]) == 2
    assert ("--fc-form applies to --method fc only; got --method gradcam"
            in capsys.readouterr().err)
    with pytest.raises(RamancamError, match=r"--bands must name each band once; got 1000 "
                                            r"more than once in '1000,1450,1000'"):
        parse_bands("1000,1450,1000")
    assert parse_bands("1000,1450") == [1000.0, 1450.0]



def test_report_images_say_what_they_show(tmp_path, rng):
    # each spectrum's image had alt="0", caption "0" and heading "0" (the id of a file
    # without ids): a screen reader read "0" where train, predict and reproduce say what
    # their figures show
    import html
    import re

    classes = ["alpha", "beta", "a<b&c"]
    model, grid = tiny_network(N_POINTS)
    data = Spectra(rng.random((3, N_POINTS)), grid, labels=["beta", "a<b&c", "alpha"])
    model_path, data_path = saved_with_data(tmp_path, model, classes, data)
    report = tmp_path / "r.html"
    assert main(["explain", str(model_path), str(data_path), "--method", "fc", "--label-col",
                 "label", "--report", str(report)]) == 0
    text = report.read_text()
    alts = re.findall(r'<img alt="([^"]*)"', text)
    caps = re.findall(r"<figcaption>([^<]*)</figcaption>", text)
    heads = re.findall(r"<h3[^>]*>([^<]*)</h3>", text)
    assert len(alts) == 3 and alts == caps, alts
    assert heads == ["Spectrum 0", "Spectrum 1", "Spectrum 2"]
    pred = predict_proba(model, data.X).argmax(axis=1)
    for k, alt in enumerate(alts):
        said = html.unescape(alt)
        assert said.startswith(f"FC importance map of spectrum {k} (spectrum {k + 1} of 3 in "
                               f"{data_path}) for class {classes[pred[k]]}, "), said
        assert f"predicted {classes[pred[k]]} with probability " in said
        assert f"true class {data.labels[k]}" in said
        assert "over 500 to 578 cm-1" in said
    assert "true class a&lt;b&amp;c" in alts[1] and "a<b&c" not in text  # escaped
