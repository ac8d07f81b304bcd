"""Cosmic-ray spikes: the check (``ramancam.checks.spiked_spectra``) and the notes ``info``,
``train``, ``baseline`` and ``predict`` print about them."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from scipy.ndimage import median_filter

from ramancam.bundle import load
from ramancam.checks import SPIKE_RANGE, spike_line, spiked_spectra
from ramancam.cli import main
from ramancam.cli._notes import despike_recipe_json, spiked_unknown_note
from ramancam.io import read, write_table
from ramancam.preprocess import Recipe, Step, baseline_recipe, paper_recipe
from ramancam.spectra import Spectra

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: A Raman axis every 2 cm-1 around the default grid (350-1800 cm-1).
W = np.arange(300.0, 1900.0, 2.0)
#: A tiny network: the notes come before training and do not depend on it.
TINY = ["--epochs", "1", "--filters", "4", "--filter-size", "3", "--fc-width", "8",
        "--folds", "2", "--no-compare"]


def _spectra(rng, n_per_class=4, noise=0.5):
    """Three classes of bands 12 cm-1 wide (6 points) on a sloping background, with noise."""
    centres = {"a": (600, 1000, 1450), "b": (700, 1100, 1300), "c": (520, 1200, 1600)}
    X, y = [], []
    for c, pos in centres.items():
        for _ in range(n_per_class):
            s = 100.0 + 0.02 * (W - 300.0)
            for p in pos:
                s = s + 50.0 / (1.0 + ((W - p) / 6.0) ** 2)
            X.append(s + rng.normal(0.0, noise, W.size))
            y.append(c)
    return np.array(X), np.array(y)


def _spiked(rng):
    """:func:`_spectra` with a one-point spike in spectrum 1 (at 700 cm-1), a two-point one
    in spectrum 5 (at 1000-1002 cm-1) and one in spectrum 9 (1200 cm-1), each above the
    spectrum's maximum."""
    X, y = _spectra(rng)
    X[1, 200] += 3.0 * X[1].max()
    X[5, 350:352] += np.array([2.0, 1.5]) * X[5].max()
    X[9, 450] += 1.5 * X[9].max()
    return X, y


def _write(path, X, y):
    ids = [f"s{i}" for i in range(len(X))]
    write_table(Spectra(X, W, labels=y, meta={"id": ids}), path)
    return path


def test_one_and_two_point_spikes_are_found_and_bands_are_not(rng):
    X, _ = _spiked(rng)
    # a band only 4 cm-1 wide (2 points at half height) is no spike, however tall
    X[2] += 400.0 / (1.0 + ((W - 901.0) / 2.0) ** 2)
    # a spike below SPIKE_RANGE of the spectrum's range is not said
    span = np.ptp(X[3])
    X[3, 600] += 0.6 * SPIKE_RANGE * span
    # nor one lost in the noise (above the range, but under SPIKE_NOISE times the noise)
    X[4] += rng.normal(0.0, 60.0, W.size)
    assert 6 * 60.0 > SPIKE_RANGE * np.ptp(median_filter(X[4], 5))
    X[4, 300] += 6 * 60.0
    found = spiked_spectra(Spectra(X, W))
    assert [f.index for f in found] == [1, 5, 9]
    one, two = found[0], found[1]
    assert (one.at, one.n_points, one.n_spikes) == (W[200], 1, 1)
    assert (two.at, two.n_points) == (W[350], 2)
    # its height over the points around it, in multiples of the range without it
    assert one.height == pytest.approx((X[1, 200] - np.median(X[1, 195:206]))
                                       / np.ptp(median_filter(X[1], 5)), rel=0.01)
    # only the points inside a range count
    assert [f.index for f in spiked_spectra(Spectra(X, W), within=(350.0, 900.0))] == [1]
    # per-spectrum axes (a folder of files) find the same spikes
    ragged = Spectra([X[i][k:] for i, k in zip(range(10), [0, 5] * 5, strict=True)],
                     [W[k:] for k in [0, 5] * 5])
    assert [(f.index, f.at) for f in spiked_spectra(ragged)] == [
        (f.index, f.at) for f in found]


def test_a_spike_line_names_the_spectra_and_the_tallest_spike(rng):
    X, _ = _spiked(rng)
    ids = [f"s{i}" for i in range(len(X))]
    found = spiked_spectra(Spectra(X, W))
    top = max(found, key=lambda f: f.height)
    assert spike_line(found, ids, where=" inside the grid", advice="fix it") == (
        f"note: 3 spectra carry a cosmic-ray spike inside the grid (one or two points far "
        f"above their neighbours, no Raman band: up to {top.height:.3g} times the spectrum's "
        "range, at 700.0 cm-1 in s1; s1, s5, s9); fix it")
    assert spike_line([], ids) is None
    assert spike_line(found[:1], ids, "  spikes:    ").startswith(
        "  spikes:    1 spectrum carries a cosmic-ray spike (")


@pytest.mark.parametrize("recipe", [paper_recipe(grid=(400.0, 1700.0, 1.0)),
                                    baseline_recipe("arpls", lam=1e5), None])
def test_the_advised_recipe_is_the_run_s_recipe_despiked(recipe):
    got = Recipe.from_json(despike_recipe_json(recipe))
    assert list(got.steps) == [Step("despike"), *([] if recipe is None else recipe.steps)]


def test_train_and_baseline_name_spiked_spectra_and_the_recipe_that_despikes(tmp_path, capsys,
                                                                            rng):
    X, y = _spiked(rng)
    data = _write(tmp_path / "s.csv", X, y)
    assert main(["baseline", str(data), "--label-col", "label", "--model", "library",
                 "--folds", "2"]) == 0
    out = capsys.readouterr().out
    note = next(ln for ln in out.splitlines() if "cosmic-ray" in ln)
    assert note.startswith("note: 3 spectra carry a cosmic-ray spike inside the grid (")
    assert "at 700.0 cm-1 in s1; s1, s5, s9); a classifier can learn it" in note
    assert out.index("cosmic-ray") < out.index("accuracy mean")
    # the recipe it gives is the run's own (auto's choice on the default grid) despiked
    text = re.search(r"save (\{.*\}) as despike\.json and give --recipe despike\.json", note)
    assert text is not None
    assert json.loads(text.group(1))["steps"] == [
        "despike", "linear_baseline", "resample", "normalize"]
    (tmp_path / "despike.json").write_text(text.group(1), encoding="utf-8")
    assert main(["baseline", str(data), "--label-col", "label", "--model", "library",
                 "--folds", "2", "--recipe", str(tmp_path / "despike.json")]) == 0
    out = capsys.readouterr().out
    assert "accuracy mean" in out and "cosmic-ray" not in out  # its recipe despikes
    # another grid: the recipe keeps it
    assert main(["baseline", str(data), "--label-col", "label", "--model", "library",
                 "--folds", "2", "--grid", "400:1100:1"]) == 0
    out = capsys.readouterr().out
    assert "note: 2 spectra carry a cosmic-ray spike inside the grid (" in out
    assert '{"name": "resample", "params": {"start": 400.0, "stop": 1100.0}}' in out
    # train says it before its table, and the model keeps it (info MODEL shows it)
    assert main(["train", str(data), "--label-col", "label", *TINY,
                 "--out", str(tmp_path / "s.ramancam")]) == 0
    out = capsys.readouterr().out
    assert note in out.splitlines() and out.index("cosmic-ray") < out.index("mean +- sd")
    assert note.removeprefix("note: ") in load(tmp_path / "s.ramancam").info["settings"][
        "data_notes"]
    # clean spectra: nothing said
    clean, _ = _spectra(rng)
    assert main(["baseline", str(_write(tmp_path / "c.csv", clean, y)), "--label-col",
                 "label", "--model", "library", "--folds", "2"]) == 0
    assert "cosmic-ray" not in capsys.readouterr().out


def test_info_does_not_check_explains_maps_for_spikes(tmp_path, capsys, rng):
    # explain's maps.csv read back: info diagnosed "13 spectra carry a cosmic-ray spike"
    # in attribution maps and advised a despiking recipe
    X, y = _spiked(rng)
    ids = [f"s{i}" for i in range(len(X))]
    meta = {"id": ids, "target": y, "method": np.array(["ig-bands"] * len(X), dtype=object)}
    write_table(Spectra(X, W, meta=meta), tmp_path / "maps.csv")
    assert main(["info", str(tmp_path / "maps.csv")]) == 0
    out = capsys.readouterr().out
    assert "cosmic-ray" not in out and "despike" not in out
    assert ("  maps:      ig-bands maps written by explain (columns target, method): "
            "attribution values, not spectra") in out
    assert main(["info", str(tmp_path / "maps.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["maps"] == "ig-bands" and "spikes" not in d
    # a method column of another meaning: the spectra are checked
    meta["method"] = np.array(["backscatter"] * len(X), dtype=object)
    write_table(Spectra(X, W, meta=meta), tmp_path / "other.csv")
    assert main(["info", str(tmp_path / "other.csv")]) == 0
    assert "  spikes:    3 spectra carry a cosmic-ray spike" in capsys.readouterr().out


def test_info_names_spiked_spectra_and_whether_the_default_grid_sees_them(tmp_path, capsys,
                                                                          rng):
    X, y = _spiked(rng)
    assert main(["info", str(_write(tmp_path / "s.csv", X, y)), "--label-col", "label"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.startswith("  spikes:"))
    assert line.startswith("  spikes:    3 spectra carry a cosmic-ray spike (")
    assert ("s1, s5, s9); 3 inside the default grid (350-1800 cm-1); train and predict use "
            "them as read. Remove them with a recipe that despikes first: save {") in line
    # the recipe train's default takes here (the paper's), despiked: the advice baseline and
    # train give for the same file (info advised asls whatever train would take)
    assert ('"steps": ["despike", "linear_baseline", "resample", "normalize"]} as despike.json'
            ) in line
    assert main(["baseline", str(tmp_path / "s.csv"), "--label-col", "label", "--model",
                 "library", "--folds", "2"]) == 0
    note = next(ln for ln in capsys.readouterr().out.splitlines() if "cosmic-ray" in ln)

    def advised(text: str) -> str:
        return text[text.index("save {"):text.index("} as despike.json")]

    assert advised(note) == advised(line)
    assert main(["info", str(tmp_path / "s.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["spikes"]
    assert [s["id"] for s in d["spectra"]] == ["s1", "s5", "s9"]
    assert [s["points"] for s in d["spectra"]] == [1, 2, 1]
    assert d["in_default_grid"] == 3 and d["default_grid"] == [350.0, 1800.0, 1.0]
    # a spike outside the default grid: said, and that the grid never sees it
    clean, _ = _spectra(rng)
    clean[0, 790] += 3.0 * clean[0].max()  # 1880 cm-1
    assert main(["info", str(_write(tmp_path / "o.csv", clean, y))]) == 0
    out = capsys.readouterr().out
    assert ("at 1880.0 cm-1 in s0); outside the default grid (350-1800 cm-1), which never "
            "sees it") in out
    clean, _ = _spectra(rng)
    assert main(["info", str(_write(tmp_path / "c.csv", clean, y))]) == 0
    assert "spikes:" not in capsys.readouterr().out


def test_predict_says_how_many_spectra_flagged_unknown_carry_a_spike(tmp_path, capsys, rng):
    clean, labels = _spectra(rng, n_per_class=8)  # enough held-out scores for a threshold
    assert main(["train", str(_write(tmp_path / "c.csv", clean, labels)), "--label-col",
                 "label", *TINY, "--out", str(tmp_path / "c.ramancam")]) == 0
    capsys.readouterr()
    X, y = _spiked(np.random.default_rng(7))
    assert main(["predict", str(tmp_path / "c.ramancam"), str(_write(tmp_path / "s.csv", X, y)),
                 "--label-col", "label", "--out", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    with open(tmp_path / "p.csv", newline="") as fh:
        flagged = {r["id"] for r in csv.DictReader(fh) if r["unknown"] == "true"}
    hit = sorted(flagged & {"s1", "s5", "s9"})
    assert hit  # a spike above the maximum is far from every training spectrum
    assert (f"note: {len(hit)} of the {len(flagged)} spectra flagged unknown carry a "
            "cosmic-ray spike inside the model's range (") in out
    assert ("the spike, not a new substance, is the likely cause; measure them again, or "
            "predict with a model trained on a recipe that despikes") in out
    # the clean spectra: nothing said
    assert main(["predict", str(tmp_path / "c.ramancam"), str(tmp_path / "c.csv"),
                 "--out", str(tmp_path / "q.csv")]) == 0
    assert "cosmic-ray" not in capsys.readouterr().out


def test_predict_s_spike_note_without_flags_or_with_a_despiking_model(rng):
    X, y = _spiked(rng)
    s = Spectra(X, W, labels=y, meta={"id": [f"s{i}" for i in range(len(X))]})
    none = np.zeros(len(X), dtype=bool)
    note = spiked_unknown_note(s, W, none, paper_recipe())
    assert note is not None and note.startswith("note: 3 spectra carry a cosmic-ray spike "
                                                "inside the model's range (")
    assert "their predictions may suffer: measure them again" in note
    some = none.copy()
    some[[1, 3]] = True
    note = spiked_unknown_note(s, W, some, paper_recipe())
    assert note is not None and note.startswith(
        "note: 1 of the 2 spectra flagged unknown carries a cosmic-ray spike inside the "
        "model's range (")
    assert "the likely cause (2 more spectra carry one, not flagged); measure them" in note
    despiking = Recipe([Step("despike"), *paper_recipe().steps])
    assert spiked_unknown_note(s, W, some, despiking) is None


# The real sets of ../shared/data: the spectra the check finds there, each a cosmic ray (a
# jump of one or two points at 1.1-2.6 cm-1 spacing on a flat stretch, no band of the
# sample); on every other set, and on every other spectrum of these, it finds nothing. Of
# saliva-pd-ad, the files holding them and one with clipped spectra (CTRL_01); of
# bacteria-spc, one replicate's lag phase.
REAL_SPIKES = {
    "saliva-pd-ad": ({"AD_09-08", "CTRL_22-21", "CTRL_24-24", "CTRL_36-06", "CTRL_36-19",
                      "PD_03-23"}, ["AD_09", "CTRL_01", "CTRL_22", "CTRL_24", "CTRL_36", "PD_03"]),
    "bacteria-spc": ({"2092_rep2_lag_40sec_053_Spec.Data 1.spc"}, "*rep2_lag*"),
}


@pytest.mark.filterwarnings("ignore::ramancam.errors.RamancamWarning")
@pytest.mark.parametrize("name", [
    "drug-mabs/spectra.csv.gz", "food/yogurt.csv", "food/astragalus.csv",
    "microplastics/spectra.csv", "rruff-sample", "chondro-map/map.csv", "amino-acids",
    "wdf-sample", "saliva-pd-ad", "bacteria-spc"])
def test_the_spike_check_fires_only_on_the_cosmic_rays_of_real_sets(shared_data, name):
    want, files = REAL_SPIKES.get(name, (set(), None))
    if isinstance(files, list):
        s = Spectra.concat([read(shared_data / name / f"{f}.csv") for f in files])
    else:
        s = read(shared_data / name, files=files)
    assert {s.ids[f.index] for f in spiked_spectra(s)} == want
    # train's default grid: bacteria-spc's spike (2907 cm-1) lies outside it
    inside = {s.ids[f.index] for f in spiked_spectra(s, within=(350.0, 1800.0))}
    assert inside == (want if name == "saliva-pd-ad" else set())


def test_values_near_the_float64_limit_give_no_numpy_warning(tmp_path, capsys, rng):
    # a damaged value of 1e308: the spike check's sums overflowed and info printed numpy's
    # "RuntimeWarning: overflow encountered in reduce" with its source line
    import warnings

    axis = np.linspace(400.0, 1800.0, 60)
    X = 100.0 + rng.random((3, axis.size))
    X[1, 2] = 1e308
    X[2, 10:13] = [-1e308, 1e308, -1e308]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        found = spiked_spectra(Spectra(X, axis))
        assert [f.index for f in found] == [1, 2]  # each a spike, of inf height or not
        write_table(Spectra(X, axis), tmp_path / "t.csv")
        assert main(["info", str(tmp_path / "t.csv")]) == 0
    assert "Warning" not in capsys.readouterr().err
