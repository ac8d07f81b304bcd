"""Recipe: order, exact JSON round trip, application to Spectra (also ragged), the paper's
chain, and the checks on real data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from ramancam import preprocess as pp
from ramancam.errors import RamancamError
from ramancam.preprocess import Recipe, Step, paper_recipe
from ramancam.spectra import Spectra


def _spectra(rng: np.random.Generator, n: int = 6, p: int = 400) -> Spectra:
    w = np.sort(rng.uniform(300, 1900, p))[::-1]
    w = 0.5 * (w + np.linspace(w[0], w[-1], p))  # uneven, no two points much closer than the step
    x0 = rng.uniform(500, 1600, n)
    X = (1.0 / (1 + ((w[None, :] - x0[:, None]) / 5.0) ** 2) + 0.5 + 1e-4 * w[None, :]
         + rng.normal(0, 0.01, (n, p)))
    return Spectra(X, w, labels=[f"c{i % 2}" for i in range(n)],
                   meta={"batch": np.arange(n)}, sources=[f"s{i}.txt" for i in range(n)])


RICH = Recipe([
    ("despike", {"threshold": 6.5}),
    Step("savgol", {"window_length": 7, "polyorder": 2}),
    {"name": "linear_baseline", "params": {"regions": [(300, 420), (1750, 1900)]}},
    ("baseline", {"method": "asls", "lam": 1e4, "p": 0.01}),
    ("crop", {"lo": 350, "hi": 1850}),
    ("resample", {"start": 400, "stop": 1800, "step": 2, "outside": "nearest",
                  "tolerance": 0.25}),
    ("normalize", {"method": "snv"}),
])


# ------------------------------------------------------------------------- paper recipe
def test_paper_recipe_is_baseline_resample_max() -> None:
    r = paper_recipe()
    assert [s.name for s in r.steps] == ["linear_baseline", "resample", "normalize"]
    assert r.steps[0].params == {"regions": None}
    assert r.steps[1].params["outside"] == "error"
    assert r.steps[2].params == {"method": "max"}
    assert r.grid is not None and r.grid.size == 1451
    assert paper_recipe((400, 1800, 1)).grid.size == 1401  # type: ignore[union-attr]


def test_paper_recipe_output(rng: np.random.Generator) -> None:
    s = _spectra(rng)
    out = paper_recipe().apply(s)
    assert out.X.shape == (6, 1451)
    np.testing.assert_array_equal(out.wavenumbers, pp.make_grid())
    np.testing.assert_allclose(out.X.max(axis=1), 1.0)
    # Same numbers as the three functions chained by hand.
    X, w = pp.linear_baseline(s.X, s.wavenumbers)
    X, w = pp.resample(X, w)
    X, _ = pp.normalize(X, w, "max")
    np.testing.assert_array_equal(out.X, X)
    assert out.labels.tolist() == s.labels.tolist()
    assert out.meta["batch"].tolist() == list(range(6))
    assert out.sources.tolist() == s.sources.tolist()


def test_paper_recipe_bad_grid() -> None:
    with pytest.raises(RamancamError, match=r"grid must be \(start, stop, step\); got 5"):
        paper_recipe(5)  # type: ignore[arg-type]
    with pytest.raises(RamancamError, match="grid stop must be above start"):
        paper_recipe((1800, 400, 1))


# ------------------------------------------------------------------------- JSON round trip
@pytest.mark.parametrize("recipe", [paper_recipe(), paper_recipe((400.5, 1799.25, 0.75)),
                                    RICH, Recipe([])], ids=["paper", "odd-grid", "rich",
                                                            "empty"])
def test_json_round_trip_is_exact(recipe: Recipe, rng: np.random.Generator) -> None:
    text = recipe.to_json()
    back = Recipe.from_json(text)
    assert back == recipe
    assert back.to_json() == text
    assert Recipe.from_dict(json.loads(text)) == recipe
    assert hash(back) == hash(recipe)
    s = _spectra(rng)
    np.testing.assert_array_equal(back.apply(s).X, recipe.apply(s).X)


def test_parameters_are_normalised_and_defaults_recorded() -> None:
    r = Recipe([("resample", {"start": 400, "stop": 1800}), "despike"])
    d = r.to_dict()
    assert d["format"] == "ramancam-recipe" and d["version"] == 1
    assert d["steps"][0]["params"] == {"start": 400.0, "stop": 1800.0, "step": 1.0,
                                       "outside": "error", "tolerance": None}
    assert d["steps"][1]["params"] == {"threshold": 7.0, "window": 3}
    assert Recipe([("linear_baseline", {"regions": ((1, 2), (3, 4))})]).steps[0].params == \
        {"regions": [[1.0, 2.0], [3.0, 4.0]]}
    # numpy scalars become plain JSON numbers
    r2 = Recipe([("baseline", {"method": "asls", "lam": np.float64(1e5)})])
    assert type(r2.steps[0].params["lam"]) is float
    assert "Recipe([linear_baseline(regions=None)" in repr(paper_recipe())


def test_step_order_is_kept_and_matters(rng: np.random.Generator) -> None:
    a = Recipe(["linear_baseline", ("normalize", {"method": "snv"})])
    b = Recipe([("normalize", {"method": "snv"}), "linear_baseline"])
    assert [s["name"] for s in b.to_dict()["steps"]] == ["normalize", "linear_baseline"]
    assert a != b
    s = _spectra(rng)
    assert not np.allclose(a.apply(s).X, b.apply(s).X)


@pytest.mark.parametrize(("text", "match"), [
    ('{"format": "ramancam-recipe", "version": 1, "steps": [{"name": "smooth"}]}',
     "recipe step must be one of linear_baseline, baseline, crop, resample, normalize, "
     "savgol, despike; got 'smooth'"),
    ('{"format": "ramancam-recipe", "version": 1, "steps": [{"name": "normalize", '
     '"params": {"how": "max"}}]}',
     "parameters of step normalize must be among method; got 'how'"),
    ('{"format": "ramancam-recipe", "version": 1, "steps": [{"params": {}}]}',
     "recipe step 0 must have a 'name'"),
    ('{"format": "ramancam-recipe", "version": 1, "steps": [{"name": "crop", "lo": 1}]}',
     "recipe step 0 must have only 'name' and 'params'"),
    ('{"format": "ramancam-recipe", "version": 1, "steps": [{"name": "crop"}]}',
     "step crop needs lo and hi"),
    ('{"format": "ramancam-recipe", "version": 1, "steps": [{"name": "normalize", '
     '"params": {"method": "l1"}}]}', "normalisation method must be one of"),
    ('{"format": "ramancam-recipe", "version": 1, "steps": {}}',
     "recipe 'steps' must be a list; got dict"),
    ('{"format": "ramancam-recipe", "version": 2, "steps": []}',
     "recipe version must be at most 1; got 2. Upgrade ramancam"),
    ('{"steps": []}', "recipe must be a ramancam recipe .*; got None"),
    ("[1, 2]", "recipe must be a ramancam recipe .*; got 'list'"),
    ('{"format": ', "recipe must be JSON; got an error at line 1, column 12"),
])
def test_bad_recipe_json(text: str, match: str) -> None:
    with pytest.raises(RamancamError, match=match):
        Recipe.from_json(text)


def test_bad_recipe_objects() -> None:
    with pytest.raises(RamancamError, match=r"recipe parameter baseline\.lam must be finite"):
        Recipe([("baseline", {"lam": float("nan")})])
    with pytest.raises(RamancamError, match=r"recipe parameter baseline\.weights must be a "
                                            "number, string, bool, None or a list/dict"):
        Recipe([("baseline", {"weights": object()})])
    with pytest.raises(RamancamError, match="recipe step 0 must be a Step, a name"):
        Recipe([42])
    with pytest.raises(RamancamError, match="steps must be a list of steps; got str"):
        Recipe("paper")
    with pytest.raises(RamancamError, match="parameters of step crop must be a mapping"):
        Step("crop", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(RamancamError, match="baseline method must be one of"):
        Recipe([("baseline", {"method": "nope"})])


# ------------------------------------------------------------------------- grid
def test_grid_and_with_grid() -> None:
    assert Recipe(["linear_baseline"]).grid is None
    r = Recipe([("resample", {"start": 300, "stop": 2000}), ("crop", {"lo": 400, "hi": 1800})])
    assert r.grid is not None and (r.grid[0], r.grid[-1], r.grid.size) == (400, 1800, 1401)
    r2 = paper_recipe().with_grid((400, 1800, 2))
    assert r2.grid is not None and r2.grid.size == 701
    assert r2.steps[1].params["outside"] == "error"
    assert paper_recipe().grid.size == 1451  # type: ignore[union-attr]  # original unchanged
    with pytest.raises(RamancamError, match="recipe must have a resample step to change its "
                                            "grid"):
        Recipe(["linear_baseline"]).with_grid((400, 1800, 1))
    with pytest.raises(RamancamError, match=r"grid must be \(start, stop, step\)"):
        paper_recipe().with_grid((400, 1800))  # type: ignore[arg-type]


# ------------------------------------------------------------------------- applying
def test_apply_to_ragged_set_gives_one_grid(rng: np.random.Generator) -> None:
    axes = [np.linspace(300, 1900, 500), np.linspace(1950, 250, 420),
            np.linspace(300, 1900, 500)]
    ys = [np.linspace(0, 1, a.size) + 1 / (1 + ((a - 1000) / 5) ** 2) for a in axes]
    s = Spectra(ys, axes, labels=["a", "b", "a"], sources=["x.txt", "y.txt", "z.txt"])
    out = paper_recipe().apply(s)
    assert out.has_common_axis and out.X.shape == (3, 1451)
    assert out.labels.tolist() == ["a", "b", "a"]
    # Each spectrum as if it went through alone.
    for i in range(3):
        alone = paper_recipe().apply_arrays(ys[i][None, :], axes[i])[0][0]
        np.testing.assert_allclose(out.X[i], alone, atol=1e-12)


def test_ragged_set_without_resampling_stays_ragged(rng: np.random.Generator) -> None:
    axes = [np.linspace(300, 1900, 50), np.linspace(1950, 250, 42)]
    ys = [np.linspace(1, 2, 50), np.linspace(3, 1, 42)]
    s = Spectra(ys, axes)
    out = Recipe([("crop", {"lo": 400, "hi": 1800}), ("normalize", {"method": "max"})]
                 ).apply(s)
    assert not out.has_common_axis
    for y, a, yo, ao in zip(ys, axes, out.intensities, out.axes, strict=True):
        keep = (a >= 400) & (a <= 1800)
        np.testing.assert_array_equal(ao, a[keep])
        np.testing.assert_allclose(yo, y[keep] / y[keep].max())


def test_ragged_out_of_range_names_the_file_and_the_common_range() -> None:
    axes = [np.linspace(300, 1900, 50), np.linspace(420.2, 1700, 42)]
    s = Spectra([1 + np.exp(-0.5 * ((a - 1000) / 20) ** 2) for a in axes], axes,
                sources=["wide.txt", "narrow.txt"])
    with pytest.raises(RamancamError, match=r"but file narrow\.txt covers "
                                            r"420.2-1700 cm-1\. Crop the grid, e\.g\. paper_recipe"
                                            r"\(grid=\(420, 1700, 1\)\)"):
        paper_recipe().apply(s)


def test_apply_needs_spectra_and_handles_empty() -> None:
    with pytest.raises(RamancamError, match="spectra must be a ramancam Spectra; got ndarray"):
        paper_recipe().apply(np.ones((2, 3)))  # type: ignore[arg-type]
    empty = Spectra(np.ones((0, 3)), [1.0, 2.0, 3.0])
    assert len(paper_recipe().apply(empty)) == 0


def test_paper_recipe_on_a_1000_by_1866_matrix(rng: np.random.Generator) -> None:
    w = np.sort(rng.uniform(400.1, 3999.4, 1866))
    w[0], w[-1] = 400.1, 3999.4
    # uneven, but no two points much closer than the step (refused)
    w = 0.5 * (w + np.linspace(400.1, 3999.4, w.size))
    s = Spectra(rng.random((1000, 1866)) + 1.0, w)
    r = paper_recipe((401, 1800, 1))
    out = r.apply(s)
    assert out.X.shape == (1000, 1400)
    # Batched over the whole matrix, the same as spectrum by spectrum (speed: benchmarks).
    for i in (0, 517, 999):
        np.testing.assert_allclose(out.X[i], r.apply(s[i:i + 1]).X[0], rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------- CLI glue
def test_cli_build_recipe_uses_the_recipe_api(tmp_path: Path) -> None:
    from ramancam.cli._common import build_recipe

    ns = argparse.Namespace(recipe="paper", grid="400:1800:1")
    assert build_recipe(ns) == paper_recipe((400, 1800, 1))
    f = tmp_path / "r.json"
    f.write_text(RICH.to_json(), encoding="utf-8")
    got = build_recipe(argparse.Namespace(recipe=str(f), grid="500:1500:5"))
    assert got == RICH.with_grid((500, 1500, 5))


# ------------------------------------------------------------------------- real data
def test_drug_mabs_resampling(shared_data: Path) -> None:
    from ramancam import io

    s = io.read_table(shared_data / "drug-mabs" / "spectra.csv.gz", label_col="label")
    assert s.wavenumbers[0] == pytest.approx(400.095)
    out = paper_recipe((400, 1800, 1)).apply(s)
    assert out.X.shape == (len(s), 1401)
    assert out.labels.tolist() == s.labels.tolist()
    np.testing.assert_allclose(out.X.max(axis=1), 1.0)
    with pytest.raises(RamancamError, match=r"got grid 350-1800 cm-1 but file .*spectra\.csv"
                                            r"\.gz \(spectrum train-0000\) and 998 other "
                                            r"spectra on the same axis cover 400\.095-3999\.36 "
                                            r"cm-1\. Crop the grid, e\.g\. paper_recipe"
                                            r"\(grid=\(400, 1800, 1\)\)"):
        paper_recipe().apply(s)


def test_baseline_recipe_steps_round_trip_and_errors():
    from ramancam.preprocess import baseline_recipe

    r = baseline_recipe("arpls", grid=(400, 1800, 2), lam=1e5)
    assert [s.name for s in r.steps] == ["resample", "baseline", "normalize"]
    assert r.steps[1].params == {"method": "arpls", "lam": 1e5}
    assert Recipe.from_json(r.to_json()) == r
    # saved by Windows Notepad (a byte-order mark first): 'Unexpected UTF-8 BOM' before
    assert Recipe.from_json("\ufeff" + r.to_json()) == r
    with pytest.raises(RamancamError, match="grid must be"):
        baseline_recipe(grid=(1, 2))
    with pytest.raises(RamancamError, match="method"):
        baseline_recipe("no-such-baseline")


def test_errors_name_a_table_row_by_its_id() -> None:
    """Spectra of one table share its file name: the recipe's error adds the row's id (the
    same id as predict's output), not its 0-based index."""
    w = np.linspace(300.0, 1900.0, 200)
    X = np.vstack([1.0 + np.exp(-((w - 1000.0) / 10.0) ** 2), -np.ones(200)])
    s = Spectra(X, w, meta={"id": ["ok-1", "dead-2"]}, sources=["t.csv", "t.csv"])
    with pytest.raises(RamancamError, match=r"file t\.csv \(spectrum dead-2\) must have a "
                                            r"positive maximum"):
        Recipe([{"name": "normalize", "params": {"method": "max"}}]).apply(s)


def test_baseline_parameters_are_checked_when_the_recipe_is_built():
    # an unknown keyword failed at the first spectrum (blaming the data file in predict);
    # a huge max_iter with a negative tol ran for ever (an altered model file)
    ok = Recipe([("baseline", {"method": "asls", "lam": 1e6, "p": 0.01})])
    assert ok.steps[0].params["lam"] == 1e6
    for params, match in [({"method": "asls", "foo": 1},
                           r"baseline parameters must be ones pybaselines' asls takes "
                           r"\(diff_order, lam, max_iter, p, tol, weights\); got 'foo'"),
                          ({"method": "asls", "max_iter": 1e9, "tol": -1},
                           "max_iter must be at most 100000"),
                          ({"method": "arpls", "lam": float("nan")},
                           r"recipe parameter baseline\.lam must be finite")]:
        with pytest.raises(RamancamError, match=match):
            Recipe([("baseline", params)])
        with pytest.raises(RamancamError, match=match):  # the same from a file
            Recipe.from_json(Recipe([("baseline", {"method": "asls"})]).to_json()
                             .replace('"method": "asls"', json.dumps(params)[1:-1]))


def test_zero_spectra_come_out_on_the_recipes_grid():
    # they came back on their input axis, unlike any other number of spectra
    s = Spectra(np.ones((2, 50)), np.linspace(300.0, 1900.0, 50))
    out = paper_recipe(grid=(400, 1800, 2)).apply(s[[]])
    assert len(out) == 0 and out.wavenumbers.size == 701 and out.wavenumbers[0] == 400.0
    assert len(Recipe([Step("normalize", {"method": "max"})]).apply(s[[]])) == 0


@pytest.mark.parametrize("step, match", [
    ({"name": "normalize", "params": "max"},
     r"parameters of recipe step 0 \('normalize'\) must be a mapping of names to values; "
     r"got 'max'"),
    ({"name": "normalize", "params": [1, 2]}, r"must be a mapping of names to values; got "
                                              r"\[1, 2\]"),
    ({"name": ["normalize"]}, r"recipe step must be one of .*; got \['normalize'\]"),
    (["normalize", "max"], r"step 0 \('normalize'\) must be a mapping"),
])
def test_malformed_recipe_steps_are_refused_in_words(step, match):
    # they raised Python's own errors ("dictionary update sequence element #0 has length
    # 1", "unhashable type: 'list'")
    with pytest.raises(RamancamError, match=match):
        Recipe.from_json(json.dumps({"format": "ramancam-recipe", "version": 1,
                                     "steps": [step]}))


def test_recipe_version_must_be_a_whole_number():
    # "1" was told to upgrade ramancam ("must be at most 1; got '1'")
    text = Recipe([("normalize", {"method": "max"})]).to_json()
    for bad in ('"1"', "0", "true", "1.5"):
        with pytest.raises(RamancamError, match=r"recipe version must be a whole number \(1 in "
                                                r"the recipes this ramancam writes\)"):
            Recipe.from_json(text.replace('"version": 1', f'"version": {bad}'))
    with pytest.raises(RamancamError, match="Upgrade ramancam to read it"):
        Recipe.from_json(text.replace('"version": 1', '"version": 2'))


def test_a_keyword_a_kwargs_method_passes_on_is_said_not_refused(tmp_path):
    # snip takes **kwargs (numpy padding): a misspelt keyword was silently ignored, the
    # default window used. Refused, it made model files saved with mode="edge" unloadable.
    from ramancam.errors import RamancamWarning

    with pytest.warns(RamancamWarning, match=r"baseline parameters 'max_half_windw' are not "
                                             r"among those pybaselines' snip names .* a misspelt "
                                             r"one does nothing\. Check the spelling, or put "
                                             # pybaselines 1.2+ snip takes pad_kwargs, 1.1 not
                                             r"them inside (pad_kwargs|the named parameters)\."):
        r = Recipe([("baseline", {"method": "snip", "max_half_windw": 20})])
    assert r.steps[0].params["max_half_windw"] == 20
    with pytest.warns(RamancamWarning, match="'mode'"):
        Recipe.from_json(Recipe([("baseline", {"method": "snip"})]).to_json()
                         .replace('"method": "snip"', '"method": "snip", "mode": "edge"'))


def test_a_recipe_file_with_a_byte_order_mark_is_read(tmp_path):
    # --recipe bom.json: "recipe must be JSON; got an error at line 1, column 1: Unexpected
    # UTF-8 BOM"
    from ramancam.cli._common import _named_recipe

    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + paper_recipe((400, 1800, 2)).to_json().encode())
    args = argparse.Namespace(recipe=str(path), normalize=None)
    recipe = _named_recipe(args, None, None)
    assert recipe == paper_recipe((400, 1800, 2))

