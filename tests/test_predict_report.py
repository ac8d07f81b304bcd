"""``ramancam predict --report FILE.html``: the summary, the spectra to check, the confusion
with labels, escaping, and the refusals."""

from __future__ import annotations

import csv
import html
import re

import numpy as np
import pytest

from ramancam.cli import main
from ramancam.io import write_table
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")

AXIS = np.linspace(400.0, 800.0, 120)


def _band(c: float) -> np.ndarray:
    return 1.0 / (1.0 + ((AXIS - c) / 6.0) ** 2)


def _spectra(rng, labels, centres):
    X = np.array([_band(centres[lab]) * rng.uniform(0.9, 1.1) + 0.2 * _band(600.0)
                  for lab in labels])
    return X + rng.normal(0, 0.01, X.shape)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("predict-report")
    labels = np.repeat(["a", "b"], 25)
    write_table(Spectra(_spectra(rng, labels, {"a": 480.0, "b": 720.0}), AXIS, labels=labels),
                d / "train.csv")
    out = d / "m.ramancam"
    assert main(["train", str(d / "train.csv"), "--label-col", "label", "--recipe", "none",
                 "--folds", "2", "--no-compare", "--epochs", "15", "--lr", "3e-3",
                 "--filters", "4", "--filter-size", "5", "--fc-width", "8",
                 "--augment", "off", "--seed", "0", "--out", str(out)]) == 0
    return d, out


def test_report_lists_what_to_check_and_the_confusion(model, tmp_path, capsys):
    _, path = model
    rng = np.random.default_rng(5)
    labels = np.array(["a"] * 6 + ["b"] * 6 + ["c"] * 3)  # c: never trained
    ids = [f"s{i:02d}" for i in range(15)]
    ids[12] = "<b>odd</b>"
    X = _spectra(rng, labels, {"a": 480.0, "b": 720.0, "c": 560.0})
    write_table(Spectra(X, AXIS, labels=labels, meta={"id": ids}), tmp_path / "new.csv")
    report = tmp_path / "r.html"
    assert main(["predict", str(path), str(tmp_path / "new.csv"), "--label-col", "label",
                 "--out", str(tmp_path / "p.csv"), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert f"wrote the report {report}" in out
    text = report.read_text()
    # the summary repeats the printed lines
    printed = [ln for ln in out.splitlines() if ln.startswith(("predicted:", "unknown:",
                                                               "accuracy:"))]
    assert len(printed) == 3
    for ln in printed:
        assert html.escape(ln, quote=False) in text or html.escape(ln) in text
    with open(tmp_path / "p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # every spectrum that needs a second look is listed, and no other
    want = {r["id"] for r in rows
            if r["unknown"] == "true" or "|" in r["prediction_set"]
            or r["library_match"] != max(("a", "b"), key=lambda c: float(r[f"p_{c}"]))}
    assert {r["id"] for r in rows[12:]} <= want  # the unseen substance
    assert len(want) < 15  # not everything
    listed = re.findall(r"<tr><td>([^<]*(?:&lt;[^<]*)*)</td>", text)
    shown = {html.unescape(c) for c in listed} & {r["id"] for r in rows}
    assert shown == want
    assert f"{len(want)} of 15 spectra need a second look" in text
    # user text is escaped, never markup
    assert "&lt;b&gt;odd&lt;/b&gt;" in text and "<b>odd</b>" not in text
    # the confusion of true and predicted classes, from the same predictions
    section = text[text.index("Against the labels"):]
    right = sum(r["predicted"] == r["true"] for r in rows)
    assert f"{right} of 15 labelled spectra predicted as labelled" in section
    n_c_unknown = sum(r["true"] == "c" and r["predicted"] == "unknown" for r in rows)
    assert re.search(r"<td>c</td>(<td[^>]*>\d+</td>){2}<td[^>]*>" + f"{n_c_unknown}</td>",
                     section)
    assert text.count("data:image/png;base64,") == 1  # the spectra drawn


def test_report_options_are_checked_before_any_work(model, tmp_path, capsys):
    d, path = model
    assert main(["predict", str(path), str(d / "train.csv"), "--report",
                 str(tmp_path / "r.txt")]) == 2
    assert "--report must end in .html" in capsys.readouterr().err
    assert main(["predict", str(path), str(d / "train.csv"), "--report",
                 str(tmp_path / "missing" / "r.html")]) == 2
    assert "--report must be in an existing folder" in capsys.readouterr().err
    # nothing to check: the page says so
    assert main(["predict", str(path), str(d / "train.csv"), "--out", str(tmp_path / "t.csv"),
                 "--report", str(tmp_path / "ok.html")]) == 0
    text = (tmp_path / "ok.html").read_text()
    assert ">Spectra to check<" in text and "Against the labels" not in text


def test_a_folder_out_gets_the_page_too(model, tmp_path, capsys):
    d, path = model
    out = tmp_path / "batch"
    assert main(["predict", str(path), str(d / "train.csv"), "--label-col", "label",
                 "--out", str(out) + "/"]) == 0
    assert sorted(q.name for q in out.iterdir()) == ["predictions.csv", "report.html"]
    assert f"wrote the report {out / 'report.html'}" in capsys.readouterr().out
    assert "Against the labels" in (out / "report.html").read_text()


def test_the_class_the_drawn_maps_explain_as_the_panels_name_it():
    # one rule for the page of a map in memory and of a Zarr explain store
    from ramancam.predict_report import map_class_of

    assert [map_class_of(t) for t in (None, "predicted", "all", "true", "PE")] == [
        None, None, None, "its labelled class", "PE"]


def test_each_drawn_spectrum_says_which_it_is_and_why_it_is_drawn():
    # the panels had no title: the id hid in the legend and the reason only in the table
    from ramancam.predict_report import _figure

    grid = np.arange(100.0)
    x = np.zeros(100)
    mean = (np.ones(100), np.full(100, 0.1))
    fig = _figure(grid, [("s7", "PE", x, "unknown"), ("s9", "PP", x, "several classes fit")],
                  lambda name: mean)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["s7: nearest class PE\n(unknown)",
                      "s9: nearest class PP\n(several classes fit)"]
    assert fig.axes[-1].get_xlabel() == "channel"  # a 0, 1, 2, ... grid is not cm-1
    # a long class name is cut apart from the model's other classes, not only from the
    # panels' ("Hydroxylapatite R0601...unoriented" read alike for three classes)
    twins = [f"Hydroxylapatite R060180 {nm} nm unoriented sample" for nm in (514, 532, 785)]
    fig = _figure(grid, [("s1", twins[0], x, "unknown")], lambda name: mean,
                  classes=twins)
    assert "514" in fig.axes[0].get_title(loc="left")


def test_a_long_library_search_class_is_cut_and_the_reason_wrapped():
    # the title ran off the right edge: "unknown_sample_2: nearest class Calcite from
    # Ciudad C..., sample 5 (unknown; library search: Monazite-(C": the library search's
    # class was not cut, and the reason sat on the same line as the names
    from ramancam.predict_report import _figure, reasons

    grid = np.arange(100.0)
    x = np.zeros(100)
    mean = (np.ones(100), np.full(100, 0.1))
    names = [f"Monazite-(Ce) R0401{i:02d} 532 nm excellent unoriented processed"
             for i in range(3)]
    why = "; ".join(reasons(True, False, names[2]))
    for maps in (None, [np.linspace(-1, 1, 100)]):
        fig = _figure(grid, [("unknown_sample_2", names[0], x, why)], lambda name: mean,
                      maps, "fc", classes=names)
        assert fig.axes[0].get_title(loc="left").split("\n") == [
            "unknown_sample_2: " + ("fc map for " if maps else "nearest class ")
            + "Monazite-(Ce) R040100… processed",
            "(unknown; library search: Monazite-(Ce) R040102… processed)"]


def test_a_drawn_spectrum_is_black_and_its_class_band_in_the_legend():
    # the grey +- sd band had no legend entry, and each spectrum was drawn in matplotlib's
    # first colour, the first class's in classes.png: a lacuna pixel looked like a cell
    from matplotlib.colors import to_rgba

    from ramancam.predict_report import _figure

    grid = np.arange(400.0, 500.0)
    mean = (np.ones(100), np.full(100, 0.1))
    fig = _figure(grid, [("px7", "lacuna", np.zeros(100), "unknown")], lambda name: mean,
                  classes=["cell", "lacuna"])
    ax = fig.axes[0]
    line = next(ln for ln in ax.lines if ln.get_label() == "px7")
    assert to_rgba(line.get_color()) == to_rgba("black")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "mean of lacuna +- sd", "mean of lacuna", "px7"]
