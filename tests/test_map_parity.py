"""One map, predicted from a table in memory and from a Zarr cube tile by tile: the same
counts in the report and the same notes on the screen."""

from __future__ import annotations

import re

import numpy as np
import pytest

from _toy_sets import lorentz_substance

pytest.importorskip("zarr")

from ramancam.cli import main
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_CH = 64
BANDS = {"a": (12,), "b": (30, 44), "c": (52,), "d": (20, 38)}
NY, NX = 8, 12
MISSING = [(0, 0), (5, 7), (7, 11)]  # never measured
FLAT = [(1, 2), (6, 9)]  # dead pixels: refused by the max normalisation
CLIPPED = [(2, 3), (4, 10)]  # held at 65535 over 5 points
SPIKED = [(3, 1), (6, 5)]  # one point far above its neighbours
HUGE = [(2, 8)]  # a 1e30 point: no detector counts that


def _substance(name, n, rng):  # in counts, above a dark level
    return 1000 * lorentz_substance(BANDS[name], n, N_CH, rng) + 100


@pytest.fixture(scope="module")
def doctored(one_torch_thread, tmp_path_factory):
    """A tiny CNN (max normalisation, hqi novelty) trained on substances a, b, c, and an
    8 x 12 map with missing, dead, clipped, spiked and implausible pixels and a column of
    substance d, as a table (map.csv) and as a cube of 4 x 4 tiles (map.zarr)."""
    from ramancam.bundle import save
    from ramancam.io import write_table
    from ramancam.preprocess import Recipe, Step
    from ramancam.train import CNNClassifier

    rng = np.random.default_rng(3)
    X = np.vstack([_substance(c, 30, rng) for c in "abc"])
    est = CNNClassifier(n_filters=4, filter_size=5, fc_width=16, epochs=20, lr=3e-3,
                        batch_size=16, random_state=0).fit(X / X.max(axis=1, keepdims=True),
                                                           np.repeat(list("abc"), 30))
    tmp = tmp_path_factory.mktemp("parity")
    grid = np.arange(N_CH, dtype=np.float64)
    model = save(tmp / "model.ramancam", estimator=est,
                 recipe=Recipe([Step("normalize", {"method": "max"})]), grid=grid,
                 classes=list(est.classes_), training_summary={})
    truth = np.asarray(list("abc"))[rng.integers(0, 3, (NY, NX))]
    truth[:, 10] = "d"
    cube = np.empty((NY, NX, N_CH))
    for c in "abcd":
        m = truth == c
        cube[m] = _substance(c, int(m.sum()), rng)
    for y, x in FLAT:
        cube[y, x] = 0.0
    for y, x in CLIPPED:
        cube[y, x, 28:33] = 65535.0
    for y, x in SPIKED:
        cube[y, x, 40] = 5e5
    for y, x in HUGE:
        cube[y, x, 25] = 1e30
    keep = np.ones((NY, NX), dtype=bool)
    for y, x in MISSING:
        keep[y, x] = False
    yy, xx = np.meshgrid(np.arange(NY), np.arange(NX), indexing="ij")
    s = Spectra(cube[keep], grid, truth[keep],
                {"x": xx[keep] * 1.0, "y": yy[keep] * 1.0})
    write_table(s, tmp / "map.csv", label_col="label")
    assert main(["convert", str(tmp / "map.csv"), str(tmp / "map.zarr"), "--label-col",
                 "label", "--chunk", "4x4"]) == 0
    return model, tmp / "map.csv", tmp / "map.zarr"


def _predict(model, data, out, capsys, *extra):
    capsys.readouterr()
    assert main(["predict", str(model), str(data), "--out", str(out), *extra]) == 0
    return capsys.readouterr().out


def _class_table(page):
    """The report's class table: (class, pixels, % of pixels) per row."""
    table = page[page.index("% of pixels"):]
    table = table[:table.index("</table>")]
    return re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td>"
                      r"<td class=\"num\">([^<]+)</td>", table)


def test_the_report_counts_the_cube_as_the_table_leaving_missing_cells_out(doctored, tmp_path,
                                                                           capsys):
    # A cube's never-measured cells were "not predicted" in the class table and every
    # percentage was of all grid cells (96) rather than of the spectra (93).
    model, table, cube = doctored
    _predict(model, table, tmp_path / "csv", capsys)
    _predict(model, cube, tmp_path / "z", capsys)
    capsys.readouterr()
    for data, name in ((table, "ecsv"), (cube, "ez")):  # explain's page too
        assert main(["explain", str(model), str(data), "--out", str(tmp_path / name)]) == 0
    rows = {}
    for name in ("csv", "z", "ecsv", "ez"):
        rows[name] = _class_table((tmp_path / name / "report.html").read_text())
    assert ("not predicted", "2", "2.151") in rows["csv"]
    assert rows["z"] == rows["csv"]
    assert ("not predicted", "2", "2.151") in rows["ecsv"]
    assert rows["ez"] == rows["ecsv"]


def _notes(text, data):
    """The ``note:`` lines of a predict run, its DATA named DATA."""
    return [line.replace(str(data), "DATA") for line in text.splitlines()
            if line.startswith("note: ")]


def test_a_cube_gets_the_notes_on_its_axis_that_the_table_gets(doctored, tmp_path, capsys):
    # A map on an axis of 4 points 21 cm-1 apart, the model's training spectra ran over
    # -20-83 cm-1, every 1 cm-1: the end points, the sampling and the steps are noted for
    # the map read into memory; the cube said nothing of them.
    from ramancam.bundle import load, save, training_summary
    from ramancam.io import write_table
    from ramancam.preprocess import Recipe, Step

    model = load(doctored[0])
    wide = Spectra(np.zeros((1, 104)), np.arange(-20.0, 84.0))
    path = save(tmp_path / "ends.ramancam", estimator=model.model, grid=model.grid,
                recipe=Recipe([Step("linear_baseline", {}),
                               Step("resample", {"start": 0, "stop": 63, "step": 1}),
                               Step("normalize", {"method": "max"})]),
                classes=list(model.classes), training_summary=training_summary(wide))
    rng = np.random.default_rng(0)
    axis = np.arange(0.0, 64.0, 21.0)
    yy, xx = np.meshgrid(np.arange(3), np.arange(5), indexing="ij")
    keep = np.ones(15, dtype=bool)
    keep[7] = False  # one never measured: 14 spectra
    s = Spectra(rng.uniform(1, 2, (14, axis.size)), axis,
                meta={"x": xx.ravel()[keep] * 1.0, "y": yy.ravel()[keep] * 1.0})
    write_table(s, tmp_path / "coarse.csv")
    assert main(["convert", str(tmp_path / "coarse.csv"), str(tmp_path / "coarse.zarr"),
                 "--chunk", "2x2"]) == 0
    table = _notes(_predict(path, tmp_path / "coarse.csv", tmp_path / "csv", capsys),
                   tmp_path / "coarse.csv")
    cube = _notes(_predict(path, tmp_path / "coarse.zarr", tmp_path / "z", capsys),
                  tmp_path / "coarse.zarr")
    said = [n for n in table if n.startswith(("note: 14 spectra span other Raman shifts "
                                              "(0-63 cm-1)",
                                              "note: the spectra are sampled every 21 cm-1",
                                              "note: 14 spectra are sampled more coarsely "))]
    assert len(said) == 3
    assert [n for n in cube if n in said] == said


def test_a_cube_gets_the_notes_on_raw_spectra_that_the_table_gets(doctored, tmp_path, capsys,
                                                                   monkeypatch):
    # Clipped, implausible and spiked pixels are noted for the map read into memory (named
    # by the table's ids); the cube said nothing of them. Its pixels are named y<row>x<col>,
    # and a resumed run counts the tiles of the earlier one.
    import ramancam.scale as scale

    model, table, cube = doctored
    ids = {f"y{y}x{x}": str(i) for i, (y, x) in enumerate(
        (y, x) for y in range(NY) for x in range(NX) if (y, x) not in MISSING)}
    said = [n for n in _notes(_predict(model, table, tmp_path / "csv", capsys), table)
            if "clipped" in n or "no detector counts" in n or "cosmic-ray" in n]
    assert len(said) == 3 and said[0].startswith("note: 2 spectra clipped")
    first = run_tile = scale.run_tile
    calls = []

    def stop(*a, **k):  # the first run stops after 3 tiles
        calls.append(a)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return first(*a, **k)

    monkeypatch.setattr(scale, "run_tile", stop)
    assert main(["predict", str(model), str(cube), "--out", str(tmp_path / "z")]) != 0
    monkeypatch.setattr(scale, "run_tile", run_tile)
    text = _predict(model, cube, tmp_path / "z", capsys)
    assert "resumed, 3 of 6 tiles were already done" in text
    named = []
    for note in _notes(text, cube):
        for name, i in sorted(ids.items(), key=lambda kv: -len(kv[0])):
            note = re.sub(rf"\b{name}\b", i, note)
        named.append(note)
    assert [n for n in named if n in said] == said


def test_a_store_made_before_the_checks_array_resumes_without_the_notes(doctored, tmp_path,
                                                                        capsys):
    # A store of an earlier ramancam has no 'checks' array: resumed as it is (not every tile
    # computed again, nothing remade), without the notes on raw spectra.
    import shutil

    import zarr

    model, _, cube = doctored
    out = tmp_path / "old.zarr"
    assert main(["predict", str(model), str(cube), "--out", str(out)]) == 0
    g = zarr.open_group(str(out), mode="r+")
    meta = dict(g.attrs["ramancam"])
    g.attrs["ramancam"] = {**meta, "arrays": [n for n in meta["arrays"] if n != "checks"]}
    shutil.rmtree(out / "checks")
    g["done"][0, 0] = 0
    text = _predict(model, cube, out, capsys)
    assert "resumed, 5 of 6 tiles were already done" in text
    assert "remade" not in text and "clipped" not in text and "cosmic-ray" not in text
    assert "checks" not in zarr.open_group(str(out), mode="r")


def test_a_cube_names_its_pixels_not_predicted_and_why_as_the_table(doctored, tmp_path,
                                                                     capsys):
    # the cube's line was a fixed sentence: no pixel, no reason; the table's names both
    model, table, cube = doctored
    csv_out = _predict(model, table, tmp_path / "t", capsys)
    zarr_out = _predict(model, cube, tmp_path / "z", capsys)
    line = next(ln for ln in zarr_out.splitlines() if ln.startswith("not predicted:"))
    names = [f"y{y}x{x}" for y, x in sorted(FLAT)]
    assert f"(the first: {', '.join(names)}; 'predicted' -1" in line
    reason = line.split(". First reason: ", 1)[1]
    table_line = next(ln for ln in csv_out.splitlines() if ln.startswith("not predicted:"))
    assert table_line.endswith("First reason: " + reason)


def test_a_map_explained_in_memory_says_what_a_cube_run_says_of_its_pixels(doctored, tmp_path,
                                                                           capsys):
    # explain on a map read into memory printed no unknown, library search or prediction
    # set line, where the same map explained from its cube prints all three
    model, table, cube = doctored
    counts = {}
    for data, name in ((table, "t"), (cube, "z")):
        capsys.readouterr()
        assert main(["explain", str(model), str(data), "--method", "fc", "--out",
                     str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        counts[name] = [m and m.groups() for m in (re.search(p, out, re.M) for p in (
            r"^unknown: (\d+)/(\d+) pixels flagged",
            r"^library search \(the most similar training spectrum.*\) names the network's "
            r"nearest class \(flagged pixels too\) for (\d+)/(\d+) pixels",
            r"^prediction sets \(95%.*\): (\d+) pixels with one class, (\d+) with more"))]
    assert counts["t"] == counts["z"]
    # the model holds no class scores (no sets); 93 spectra, 2 of them dead
    unknown, library, sets = counts["t"]
    assert int(unknown[0]) > 0 and unknown[1] == library[1] == str(NY * NX - 3 - 2)
    assert sets is None


def test_a_cube_explain_counts_the_flagged_pixels_in_class_means_as_the_table(
        doctored, tmp_path, capsys, monkeypatch):
    # class_means.png of the map read into memory says "a: mean of 35 pixels, 2 of them
    # flagged unknown"; the cube's said "a: mean of 35 pixels" alone (and its page "The
    # pixels flagged unknown count", no number), beside a class table of 33 a
    from ramancam.maps import outputs

    model, table, cube = doctored
    drawn = []
    real = outputs.save_figure
    monkeypatch.setattr(outputs, "save_figure",
                        lambda fig, path: drawn.append((fig, path.name)) or real(fig, path))
    titles, pages = {}, {}
    for data, name in ((table, "t"), (cube, "z")):
        drawn.clear()
        assert main(["explain", str(model), str(data), "--method", "fc", "--out",
                     str(tmp_path / name)]) == 0
        fig = next(f for f, n in drawn if n == "class_means.png")
        titles[name] = [a.get_title() for a in fig.axes if a.get_title()]
        page = (tmp_path / name / "report.html").read_text()
        pages[name] = re.search(r"The \d+ pixels? flagged unknown count", page)
    capsys.readouterr()
    assert any("flagged unknown" in t for t in titles["t"]), titles["t"]
    assert titles["z"] == titles["t"]
    assert pages["t"] is not None and pages["z"] is not None
    assert pages["z"].group(0) == pages["t"].group(0)
