"""Saved models: round trip, atomic save, refusal of foreign/tampered/newer files."""

from __future__ import annotations

import json
import pickle
import re
import zipfile

import numpy as np
import pytest
import torch

from _model_files import rewrite_model, without_references
from ramancam import bundle
from ramancam.bundle import Bundle, load, save, training_summary
from ramancam.errors import RamancamError
from ramancam.preprocess import paper_recipe
from ramancam.simulate import lorentzian
from ramancam.spectra import Spectra
from ramancam.train import CNNClassifier, cross_validate

TINY = {"n_filters": 4, "filter_size": 3, "fc_width": 8, "epochs": 1, "batch_size": 16}
GRID = (400.0, 1800.0, 10.0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def raw_spectra(seed: int, n_per_class: int = 4) -> Spectra:
    """Raw-looking spectra on an uneven 300-1900 cm-1 axis: bands + sloped background."""
    rng = np.random.default_rng(seed)
    axis = np.sort(rng.uniform(300, 1900, 400))
    # uneven, but no two points much closer than the step (refused)
    axis = 0.5 * (axis + np.linspace(axis[0], axis[-1], axis.size))
    centres = np.repeat([600.0, 1000.0, 1500.0], n_per_class)
    X = lorentzian(axis, centres, 20.0) + 0.3 + 1e-4 * axis
    X = X + rng.normal(0, 0.01, X.shape)
    labels = np.repeat(["a", "b", "c"], n_per_class)
    return Spectra(X, axis, labels)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    recipe = paper_recipe(grid=GRID)
    raw = raw_spectra(0)
    data = recipe.apply(raw)
    est = CNNClassifier(**TINY, random_state=0).fit(data.X, data.labels)
    cv = cross_validate(data, estimator_params=TINY, folds=2, compare=False)
    path = tmp_path_factory.mktemp("m") / "model.ramancam"
    save(path, estimator=est, recipe=recipe, grid=data.wavenumbers,
         classes=list(est.classes_), training_summary=training_summary(raw, source="x.csv"),
         cv=cv, settings={"note": "test"})
    return path, est, recipe, raw, data


def test_round_trip_gives_identical_probabilities(trained):
    path, est, recipe, _, data = trained
    b = load(path)
    assert isinstance(b, Bundle)
    assert b.classes == ["a", "b", "c"]
    assert b.recipe == recipe
    np.testing.assert_array_equal(b.grid, data.wavenumbers)
    assert not b.model.training
    new = raw_spectra(1)
    np.testing.assert_array_equal(b.predict_proba(new), est.predict_proba(recipe.apply(new).X))
    assert b.predict(new).shape == (12,)
    for k, v in est.module_.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k])


def test_loading_leaves_torchs_global_random_state_alone(trained):
    # load built the network with its random initialisation from torch's global generator
    # before the saved weights replaced it: a notebook's seeded torch.rand changed
    before = torch.get_rng_state()
    b = load(trained[0])
    assert torch.equal(torch.get_rng_state(), before)
    for k, v in trained[1].module_.state_dict().items():  # the saved weights, as before
        assert torch.equal(v, b.model.state_dict()[k])


def test_json_holds_everything_prediction_needs(trained):
    path, est, *_ = trained
    info = load(path).info
    assert info["format"] == bundle.FORMAT and info["format_version"] == bundle.FORMAT_VERSION
    assert info["architecture"]["n_points"] == 141 and info["architecture"]["n_filters"] == 4
    assert set(info["versions"]) >= {"ramancam", "torch", "numpy", "scikit-learn", "scipy",
                                   "pybaselines"}  # the baseline defaults are its
    assert info["training_data"]["class_counts"] == {"a": 4, "b": 4, "c": 4}
    assert info["training_data"]["source"] == "x.csv"
    assert info["settings"]["lr"] == est.lr and info["settings"]["note"] == "test"
    assert info["cv"]["n_folds"] == 2 and len(info["cv"]["fold_accuracy"]) == 2
    assert info["recipe"] is not None
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["novelty.safetensors", "ramancam.json",
                                         "references.safetensors", "weights.safetensors"]


def test_class_reference_spectra_travel_in_the_file(trained):
    path, est, _, _, data = trained
    b = load(path)
    mean, sd = b.class_reference("b")
    rows = np.asarray(data.X, dtype=np.float64)[np.asarray(data.labels) == "b"]
    np.testing.assert_allclose(mean, rows.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sd, rows.std(axis=0), rtol=1e-5, atol=1e-6)
    # class b's band at 1000 cm-1 is where its mean spectrum peaks
    assert abs(b.grid[np.argmax(mean)] - 1000.0) <= 20.0
    np.testing.assert_array_equal(b.references["mean"], est.class_means_)
    with pytest.raises(RamancamError, match=r"one of the model's classes \(a, b, c\); got 'z'"):
        b.class_reference("z")


def test_library_match_names_the_class_of_the_most_similar_training_spectrum(trained):
    from ramancam.novelty import _HQI_BLOCKS, _derivative_rows

    path, est, recipe, _, data = trained
    b = load(path)
    new = raw_spectra(1)
    X = recipe.apply(new).X
    # by hand: the hit quality index is the correlation of Savitzky-Golay derivatives (the
    # default hqi-halves: the mean of the two halves' correlations)
    window, blocks = b.novelty.window, _HQI_BLOCKS[b.novelty.method]
    assert blocks == 2
    sim = _derivative_rows(X, window, blocks) @ _derivative_rows(data.X, window, blocks).T
    want = np.asarray(data.labels)[sim.argmax(axis=1)]
    assert b.library_match(new).tolist() == want.tolist()
    np.testing.assert_array_equal(b.library_match(new, prepared=X), want)
    np.testing.assert_array_equal(b.library_match(None, prepared=X), want)
    # without the spectra, what is computed from them must be given
    with pytest.raises(RamancamError, match="spectra must be given unless what is computed "
                                            r"from them is \(prepared, proba\)"):
        b.band_shift(None, prepared=X)
    with pytest.raises(RamancamError, match="spectra must be given unless"):
        b.library_match(None)
    np.testing.assert_array_equal(est.classes_[est.novelty_scorer_.library_match(X)], want)
    # a training spectrum's most similar training spectrum is itself
    assert b.library_match(trained[3]).tolist() == np.asarray(data.labels).tolist()
    with zipfile.ZipFile(path) as zf:
        assert "match_labels" not in zf.read("ramancam.json").decode()  # arrays, not JSON


def test_damaged_match_labels_are_refused(tmp_path, trained):
    from safetensors.numpy import load as np_load
    from safetensors.numpy import save as np_save

    path = trained[0]
    with zipfile.ZipFile(path) as zf:
        arrays = np_load(zf.read("references.safetensors"))
    for bad, match in [(arrays["match_labels"][:-1], "one row per novelty reference"),
                       (arrays["match_labels"] + 5, "class indices 0-2 in one column"),
                       (arrays["match_labels"] + 0.5, "class indices 0-2 in one column")]:
        p = rewrite_model(path, tmp_path / "m.ramancam", members={
            "references.safetensors": np_save({**arrays, "match_labels": bad})})
        with pytest.raises(RamancamError, match=match):
            load(p)
    # without them (an earlier file of this format): no library match, the rest as before
    rest = {k: v for k, v in arrays.items() if k != "match_labels"}
    p = rewrite_model(path, tmp_path / "m.ramancam",
                 members={"references.safetensors": np_save(rest)})
    b = load(p)
    assert b.library_match(raw_spectra(1)) is None and b.class_reference("a") is not None


def test_files_without_reference_spectra_still_load(tmp_path, trained):
    old = without_references(trained[0], tmp_path / "old.ramancam")
    b = load(old)
    assert b.references is None and b.class_reference("a") is None
    # a bare network (no CNNClassifier) is saved without them
    est = trained[1]
    p = save(tmp_path / "bare.ramancam", estimator=est.module_, recipe=trained[2],
             grid=trained[4].wavenumbers, classes=["a", "b", "c"], training_summary={})
    assert load(p).references is None


def test_class_names_are_read_in_one_unicode_form(tmp_path, trained):
    # a model trained on a folder named on macOS (decomposed "café") met the same labels
    # read composed: accuracy 0, every error "café -> café"
    import unicodedata

    from ramancam.spectra import composed_names

    nfd = [unicodedata.normalize("NFD", f"café {c}") for c in "abc"]
    est = trained[1]
    p = save(tmp_path / "nfd.ramancam", estimator=est.module_, recipe=trained[2],
             grid=trained[4].wavenumbers, classes=nfd,
             training_summary={"classes": nfd, "class_counts": dict.fromkeys(nfd, 2)})
    b = load(p)
    assert b.classes == [f"café {c}" for c in "abc"]
    # and its record: info found no training count for the composed names
    assert b.info["training_data"]["class_counts"] == dict.fromkeys(b.classes, 2)
    # names that would repeat once composed stay as they were (two classes stay two)
    both = ["café", unicodedata.normalize("NFD", "café")]
    assert composed_names(both) == both and composed_names(["x", "y"]) == ["x", "y"]


def test_damaged_reference_spectra_are_refused(tmp_path, trained):
    from safetensors.numpy import save as np_save

    path = trained[0]
    bad = rewrite_model(path, tmp_path / "a.ramancam", drop=("references.safetensors",))
    with pytest.raises(RamancamError, match=r"reference settings without references"):
        load(bad)
    n = load(path).grid.size
    for arrays, match in [
        ({"mean": np.zeros((3, n - 1), np.float32), "sd": np.zeros((3, n), np.float32)},
         r"'mean' must be finite with shape \(3, 141\); got shape \(3, 140\)"),
        ({"mean": np.zeros((3, n), np.float32)}, "'sd' .* got no such array"),
        ({"mean": np.full((3, n), np.nan, np.float32), "sd": np.zeros((3, n), np.float32)},
         "with NaN or inf"),
    ]:
        bad = rewrite_model(path, tmp_path / "b.ramancam",
                       members={"references.safetensors": np_save(arrays)})
        with pytest.raises(RamancamError, match=match):
            load(bad)
    bad = rewrite_model(path, tmp_path / "c.ramancam", members={"references.safetensors": b"junk"})
    with pytest.raises(RamancamError, match="must be a readable safetensors file"):
        load(bad)


def test_model_without_recipe_needs_data_on_grid(tmp_path):
    axis = np.arange(32.0)
    X = np.random.default_rng(0).normal(size=(6, 32))
    est = CNNClassifier(**TINY, random_state=0).fit(X, [0, 1, 0, 1, 0, 1])
    path = save(tmp_path / "m.ramancam", estimator=est.module_, recipe=None, grid=axis,
                classes=["x", "y"], training_summary={})
    b = load(path)
    assert b.recipe is None
    np.testing.assert_allclose(b.predict_proba(Spectra(X, axis)), est.predict_proba(X))
    # an empty cell of a table (read as a gap in that spectrum's axis) was told to
    # "resample the spectra onto its grid", the cell not named
    gap = Spectra([X[0], np.delete(X[1], 5)], [axis, np.delete(axis, 5)],
                  meta={"id": np.array(["ok", "holed"])})
    with pytest.raises(RamancamError, match=r"1 spectrum on its grid lacks 1 of its points "
                                            r"\(empty or non-numeric cells, read as gaps; "
                                            r"'holed' lacks 1\)\. .* fill those cells"):
        b.predict_proba(gap)
    with pytest.raises(RamancamError, match=r"per-spectrum axes\. .* resample the spectra"):
        b.predict_proba(Spectra([X[0], X[1][:20]], [axis, axis[:20] + 0.5]))
    with pytest.raises(RamancamError, match="spectra must be on the model's grid"):
        b.prepare(Spectra(X[:, :31], axis[:31]))
    with pytest.raises(RamancamError, match="spectra must be on the model's grid"):
        b.prepare(Spectra(X, axis + 0.5))


def test_spectra_not_covering_the_grid_are_told_the_models_range(trained):
    path, *_ = trained
    lo, hi, step = GRID
    short = Spectra(np.ones((2, 50)), np.linspace(lo + 100.4, hi, 50), sources=["s.csv"] * 2)
    with pytest.raises(RamancamError, match=(
            rf"spectra must cover the model's range, {lo:g}-{hi:g} cm-1 \(the grid it was "
            rf"trained on\); got the 2 spectra of s\.csv covering {lo + 100.4:g}-{hi:g} "
            rf"cm-1\. Give spectra measured over that range, or train a model on a range "
            rf"they all cover \('ramancam train \.\.\. --grid {lo + 110:g}:{hi:g}:{step:g}'\)")):
        load(path).prepare(short)
    # per-spectrum axes: the first short spectrum is named, the others counted
    ragged = Spectra([np.ones(50), np.ones(60), np.ones(40)],
                     [np.linspace(lo - 5, hi + 5, 50), np.linspace(lo, hi - 30.2, 60),
                      np.linspace(lo + 50.6, hi, 40)], sources=["a.txt", "b.txt", "c.txt"])
    with pytest.raises(RamancamError, match=r"got file b\.txt and 1 other spectra covering "):
        load(path).prepare(ragged)
    # one spectrum of a table without a file name: named by its id
    with pytest.raises(RamancamError, match=r"got spectrum q-7 covering "):
        load(path).prepare(Spectra(np.ones((1, 50)), np.linspace(lo + 100.4, hi, 50),
                                   meta={"id": ["q-7"]}))
    # within half a grid step of the ends is covered (the recipe's tolerance)
    x = np.linspace(lo + 0.4 * step, hi - 0.4 * step, 50)
    near = Spectra(1 + np.exp(-(((x - 1000) / 50) ** 2))[None, :], x)
    assert load(path).prepare(near).shape == (1, round((hi - lo) / step) + 1)


def test_an_axis_in_absolute_wavenumbers_is_told_how_to_convert(trained):
    # 1e7/785 - shift: an export in absolute wavenumbers of the scattered light got only
    # "covering 10938.9-12388.9 cm-1 ... or train a model on their range"
    path, *_ = trained
    w = np.linspace(350.0, 1800.0, 300)
    absolute = Spectra(np.ones((2, 300)), 1e7 / 785 - w, sources=["abs.csv"] * 2)
    with pytest.raises(RamancamError, match=(
            r"covering 10938\.9-12388\.9 cm-1\. That axis lies above 4500 cm-1, where Raman "
            r"shifts end: it looks like absolute wavenumbers of the scattered light; if so, "
            r"give --laser-nm NM to convert it to Raman shift \(shift = 1e7 / laser nm - "
            r"wavenumber\) or export "
            r"Raman shift from the instrument's software\. Give spectra measured over that "
            r"range")):
        load(path).prepare(absolute)
    with pytest.raises(RamancamError) as err:  # Raman shifts short of the range: no hint
        load(path).prepare(Spectra(np.ones((1, 300)), w + 1000))
    assert "absolute" not in str(err.value)


def test_save_is_atomic(trained, tmp_path, monkeypatch):
    path, est, recipe, _, data = trained
    target = tmp_path / "m.ramancam"
    target.write_bytes(path.read_bytes())
    before = target.read_bytes()
    calls = []
    real = zipfile.ZipFile.writestr

    def failing(self, member, payload, *a, **k):
        name = getattr(member, "filename", member)
        calls.append(name)
        if name == "weights.safetensors":  # the JSON is already half-way in the archive
            raise OSError("disk full")
        return real(self, member, payload, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        save(target, estimator=est, recipe=recipe, grid=data.wavenumbers,
             classes=list(est.classes_), training_summary={})
    assert calls == ["ramancam.json", "weights.safetensors"]
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.ramancam"]  # no temp file left
    monkeypatch.undo()
    load(target)


def test_saved_members_carry_a_fixed_date(trained):
    # each member was stamped with the time of saving, so two identical runs never gave
    # the same bytes (make, DVC and CI caches saw a new model every time); the recorded
    # training time (settings.fit_time) still differs between runs
    path = trained[0]
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos][:2] == ["ramancam.json", "weights.safetensors"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_save_argument_errors(trained, tmp_path):
    _, est, _, _, data = trained
    with pytest.raises(RamancamError, match="grid must have one value per model input point"):
        save(tmp_path / "m", estimator=est, recipe=None, grid=data.wavenumbers[:-1],
             classes=list(est.classes_), training_summary={})
    with pytest.raises(RamancamError, match="classes must name each of the model's 3"):
        save(tmp_path / "m", estimator=est.module_, recipe=None, grid=data.wavenumbers,
             classes=["a"], training_summary={})
    with pytest.raises(RamancamError, match="classes must be given for a bare network"):
        save(tmp_path / "m", estimator=est.module_, recipe=None, grid=data.wavenumbers,
             training_summary={})
    # the outputs are in classes_'s order: the same names in another order saved a model
    # that named the wrong class (accuracy 0.333 on its own training spectra)
    names = [str(c) for c in est.classes_]
    for wrong in (names[::-1], ["a"]):
        with pytest.raises(RamancamError, match=r"classes must be the estimator's classes_ "
                                                r"in their order, \['a', 'b', 'c'\]"):
            save(tmp_path / "m", estimator=est, recipe=None, grid=data.wavenumbers,
                 classes=wrong, training_summary={})
    assert not (tmp_path / "m").exists()
    # left out, the estimator's own
    p = save(tmp_path / "ok.ramancam", estimator=est, recipe=None, grid=data.wavenumbers,
             training_summary={})
    assert load(p).classes == names
    # a model fitted on class codes (y = 0, 1, 2) is named in the order of its codes
    coded = CNNClassifier(**TINY, random_state=0).fit(data.X, np.searchsorted(names,
                                                                             data.labels))
    p = save(tmp_path / "coded.ramancam", estimator=coded, recipe=None,
             grid=data.wavenumbers, classes=["x", "y", "z"], training_summary={})
    assert load(p).classes == ["x", "y", "z"]
    with pytest.raises(RamancamError, match="estimator must be a fitted CNNClassifier"):
        save(tmp_path / "m", estimator=CNNClassifier(), recipe=None, grid=data.wavenumbers,
             classes=["a"], training_summary={})


@pytest.mark.parametrize(("make", "match"), [
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(300)), "not a zip archive"),
    (lambda p: p.write_bytes(pickle.dumps({"w": [1, 2]})), "a pickle file"),
    (lambda p: torch.save({"w": torch.zeros(2)}, p), r"without ramancam\.json"),
    (lambda p: p.write_bytes(b""), "not a zip archive"),
])
def test_foreign_files_are_refused(tmp_path, make, match):
    p = tmp_path / "foreign.ramancam"
    make(p)
    with pytest.raises(RamancamError, match=match):
        load(p)


def test_missing_file_and_zip_without_marker(tmp_path, trained):
    with pytest.raises(RamancamError, match="model file must exist"):
        load(tmp_path / "nope.ramancam")
    path = trained[0]
    bad = rewrite_model(path, tmp_path / "a.zip", info=lambda d: d.update(format="other"))
    with pytest.raises(RamancamError, match="format marker 'other'"):
        load(bad)
    bad = rewrite_model(path, tmp_path / "b.zip", drop=("weights.safetensors",))
    with pytest.raises(RamancamError, match=r"without weights\.safetensors"):
        load(bad)
    p = tmp_path / "c.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("ramancam.json", "{not json")
        zf.writestr("weights.safetensors", b"")
    with pytest.raises(RamancamError, match=r"unreadable ramancam\.json"):
        load(p)


def test_newer_format_version_is_refused(tmp_path, trained):
    bad = rewrite_model(trained[0], tmp_path / "v.ramancam",
                   info=lambda d: d.update(format_version=bundle.FORMAT_VERSION + 1))
    with pytest.raises(RamancamError, match="written by a newer ramancam"):
        load(bad)


def test_files_are_format_version_2_and_version_1_files_load_as_before(tmp_path, trained):
    # the format version stayed 1 while fields that change predictions were added: an older
    # ramancam (eeaeb79) read a current file without its end points and gave other
    # probabilities; every older reader refuses version 2 with "Upgrade ramancam"
    import ramancam

    path, _, _, raw, _ = trained
    with zipfile.ZipFile(path) as zf:
        info = json.loads(zf.read("ramancam.json"))
    assert info["format_version"] == bundle.FORMAT_VERSION == 2
    assert info["versions"]["ramancam"] == ramancam.__version__
    old = rewrite_model(path, tmp_path / "v1.ramancam", info=lambda d: d.update(format_version=1))
    a, b = load(path), load(old)
    assert b.info["format_version"] == 1
    np.testing.assert_array_equal(a.predict_proba(raw), b.predict_proba(raw))
    for x, y in zip(a.predict_all(raw), b.predict_all(raw), strict=True):
        np.testing.assert_array_equal(x, y)


def _step(d, name):
    return next(s for s in d["recipe"]["steps"] if s["name"] == name)


NEWER = [
    (lambda d: d["novelty"].update(method="hqi-future"), "novelty method 'hqi-future'"),
    (lambda d: d["recipe"]["steps"].append({"name": "wavelet", "params": {}}),
     "recipe step 'wavelet'"),
    (lambda d: _step(d, "normalize")["params"].update(floor=0.1),
     "parameter 'floor' of recipe step 'normalize'"),
    (lambda d: _step(d, "normalize")["params"].update(method="l1"),
     "normalisation method 'l1'"),
    (lambda d: _step(d, "resample")["params"].update(outside="reflect"),
     "resampling outside policy 'reflect'"),
    (lambda d: d["recipe"]["steps"].append({"name": "baseline",
                                            "params": {"method": "asls_future"}}),
     "baseline method 'asls_future' (nor does pybaselines"),
    (lambda d: d["architecture"].update(fc_activation="gelu"),
     "network activation 'gelu'"),
]


@pytest.mark.parametrize(("edit", "what"), NEWER)
def test_a_name_a_newer_ramancam_writes_says_upgrade_not_damaged(tmp_path, trained, edit,
                                                                 what):
    # an unknown novelty score or recipe step was "damaged or altered", where a newer
    # ramancam had written it (a helper's audit: fwd/novfuture.ramancam, stepfuture)
    import ramancam

    def newer(d):
        edit(d)
        d["format_version"] = 2

    bad = rewrite_model(trained[0], tmp_path / "new.ramancam", info=newer)
    with pytest.raises(RamancamError) as err:
        load(bad)
    assert str(err.value).startswith(f"{bad} was written by a newer ramancam: its {what}")
    assert str(err.value).endswith(f" is not one this ramancam ({ramancam.__version__}) "
                                   "knows. Upgrade ramancam to load it.")
    assert "damaged" not in str(err.value)
    # a version-1 file was written by a ramancam that knew every such name: damage
    older = rewrite_model(trained[0], tmp_path / "old.ramancam",
                          info=lambda d: (edit(d), d.update(format_version=1)))
    with pytest.raises(RamancamError, match="The file is damaged or was altered") as err:
        load(older)
    assert "Upgrade" not in str(err.value) and str(err.value).startswith(str(older))


@pytest.mark.parametrize("value", ["", "hqi nap!", 42, None, ["hqi"]])
def test_a_novelty_method_that_is_no_name_is_damage_in_any_version(tmp_path, trained, value):
    bad = rewrite_model(trained[0], tmp_path / "x.ramancam",
                        info=lambda d: d["novelty"].update(method=value))
    with pytest.raises(RamancamError, match="damaged") as err:
        load(bad)
    assert "Upgrade" not in str(err.value)


def test_a_max_iter_older_ramancam_allowed_loads_bounded_with_a_warning(tmp_path, trained,
                                                                        capsys):
    # max_iter was unbounded until 2026-12-06 (82619a7 bounded it at 100000, against an
    # altered file that runs for ever): a model saved with 200000 was refused as "damaged or
    # altered" although ramancam wrote it (a helper's audit, rec/asls.ramancam of 0363cad)
    from ramancam.cli import main
    from ramancam.errors import RamancamWarning
    from ramancam.preprocess.baselines import MAX_ITER

    raw = trained[3]

    def with_asls(it, version):
        def edit(d):
            d["recipe"]["steps"].insert(1, {"name": "baseline",
                                            "params": {"method": "asls", "max_iter": it}})
            d["format_version"] = version
        return edit

    old = rewrite_model(trained[0], tmp_path / "old.ramancam", info=with_asls(200000, 1))
    bounded = rewrite_model(trained[0], tmp_path / "b.ramancam", info=with_asls(MAX_ITER, 1))
    with pytest.warns(RamancamWarning, match=re.escape(
            f"{old}: its recipe's baseline max_iter 200000 is above the {MAX_ITER} this "
            f"ramancam allows (an older ramancam saved it, which allowed more); it runs at "
            f"most {MAX_ITER} iterations")):
        b = load(old)
    params = next(s.params for s in b.recipe.steps if s.name == "baseline")
    assert params["max_iter"] == MAX_ITER
    assert b.info["recipe"]["steps"][1]["params"]["max_iter"] == 200000  # as stored
    np.testing.assert_array_equal(b.predict_proba(raw), load(bounded).predict_proba(raw))
    with pytest.warns(RamancamWarning, match="max_iter 200000"):
        assert main(["info", str(old)]) == 0
    assert "damaged" not in capsys.readouterr().err
    # ramancam 0.2.0 writes version 2 and never such a value: there it is an altered file
    new = rewrite_model(trained[0], tmp_path / "new.ramancam", info=with_asls(200000, 2))
    with pytest.raises(RamancamError, match=r"max_iter must be at most 100000; got 200000\. "
                                            "The file is damaged or was altered"):
        load(new)


def test_a_file_from_before_the_input_buffers_loads_with_identity_buffers(tmp_path, trained):
    # files saved before 2026-11-24 20:56 (4c2e30a) have no input_mean / input_scale: they
    # were refused as "damaged or altered" (a helper's audit, m1/*.ramancam of ab1052b)
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    path, raw = trained[0], trained[3]
    with zipfile.ZipFile(path) as zf:
        state = st_load(zf.read("weights.safetensors"))
    n = state["input_mean"].shape
    identity = {**state, "input_mean": torch.zeros(n), "input_scale": torch.ones(n)}
    bare = {k: v for k, v in state.items() if k not in ("input_mean", "input_scale")}

    def v1(d):
        d["format_version"] = 1

    same = rewrite_model(path, tmp_path / "id.ramancam", info=v1, weights=st_save(identity))
    old = rewrite_model(path, tmp_path / "old.ramancam", info=v1, weights=st_save(bare))
    b = load(old)
    assert torch.equal(b.model.input_mean, torch.zeros(n))
    assert torch.equal(b.model.input_scale, torch.ones(n))
    np.testing.assert_array_equal(b.predict_proba(raw), load(same).predict_proba(raw))
    # (the buffers matter: other values give other probabilities)
    shifted = rewrite_model(path, tmp_path / "s.ramancam", info=v1,
                            weights=st_save({**identity, "input_mean": torch.full(n, 0.5)}))
    assert not np.array_equal(load(shifted).predict_proba(raw), b.predict_proba(raw))
    # a version-2 file, or one lacking only one of them, is damaged
    new = rewrite_model(path, tmp_path / "new.ramancam", weights=st_save(bare))
    half = rewrite_model(path, tmp_path / "half.ramancam", info=v1,
                         weights=st_save({k: v for k, v in state.items() if k != "input_mean"}))
    for bad in (new, half):
        with pytest.raises(RamancamError, match=r"weights must match the architecture; got "
                                                r"missing \['input_mean'"):
            load(bad)


def test_tampered_weights_are_refused(tmp_path, trained):
    from safetensors.torch import save as st_save

    path = trained[0]
    # Architecture says 9 FC1 outputs, the weights have 8.
    bad = rewrite_model(path, tmp_path / "a.ramancam",
                   info=lambda d: d["architecture"].update(fc_width=9))
    with pytest.raises(RamancamError, match=r"weight 'fc1\.weight' must have shape"):
        load(bad)
    with zipfile.ZipFile(path) as zf:
        raw = zf.read("weights.safetensors")
    from safetensors.torch import load as st_load

    state = st_load(raw)
    del state["fc2.bias"]
    bad = rewrite_model(path, tmp_path / "b.ramancam", weights=st_save(state))
    with pytest.raises(RamancamError, match="weights must match the architecture"):
        load(bad)
    bad = rewrite_model(path, tmp_path / "c.ramancam", weights=b"garbage")
    with pytest.raises(RamancamError, match="weights must be a readable safetensors file"):
        load(bad)
    state = st_load(raw)
    state["fc2.bias"] = torch.full_like(state["fc2.bias"], float("nan"))
    bad = rewrite_model(path, tmp_path / "d.ramancam", weights=st_save(state))
    with pytest.raises(RamancamError, match="must be finite"):
        load(bad)
    bad = rewrite_model(path, tmp_path / "e.ramancam", info=lambda d: d.update(classes=["a"]))
    with pytest.raises(RamancamError, match="classes and grid must match the architecture"):
        load(bad)


def test_spectra_exported_over_another_range_get_the_training_baseline(trained):
    """The paper recipe's straight baseline runs through each spectrum's end points: a file
    exported over a wider range is cut back to the training spectra's range first (the same
    predictions as the originals), and one that ends inside it is named in a note."""
    path, _, _, raw, _ = trained
    b = load(path)
    assert len(b.info["training_data"]["end_points"]) == 1
    lo, hi = b.info["training_data"]["end_points"][0]
    axis = raw.wavenumbers
    assert (lo, hi) == (round(axis[0], 2), round(axis[-1], 2))
    wide_axis = np.concatenate([np.linspace(lo - 60, lo - 10, 8), axis,
                                np.linspace(hi + 10, hi + 60, 8)])
    wide = Spectra(np.concatenate([np.full((len(raw), 8), 5.0), raw.X,
                                   np.full((len(raw), 8), 9.0)], axis=1), wide_axis,
                   raw.labels)
    np.testing.assert_array_equal(b.predict_proba(wide), b.predict_proba(raw))
    assert b.end_point_note(wide) is None and b.end_point_note(raw) is None
    # padding right up to the training range (within END_TOL of its ends): cut too, so
    # that the baseline runs through the measured ends (a lone padded astragalus file was
    # called astragalus_2 at 0.69, astragalus_0 at 1.00 as a row of its table)
    step = float(np.median(np.diff(axis)))
    near = np.concatenate([lo - step * np.arange(4, 0, -1), axis, hi + step * np.arange(1, 5)])
    padded = Spectra(np.concatenate([np.full((len(raw), 4), 50.0), raw.X,
                                     np.full((len(raw), 4), 50.0)], axis=1), near, raw.labels)
    np.testing.assert_allclose(b.predict_proba(padded), b.predict_proba(raw), atol=1e-9)
    k = axis <= 1850
    short = Spectra(raw.X[:, k], axis[k], raw.labels)
    assert not np.allclose(b.predict_proba(short), b.predict_proba(raw))
    assert b.end_point_note(short) == (
        f"note: 12 spectra span other Raman shifts ({round(axis[0], 2):g}-"
        f"{round(axis[k][-1], 2):g} cm-1) than the training spectra ({lo:g}-{hi:g} cm-1). "
        "The model's straight baseline runs through each spectrum's first and last points, "
        "so theirs differs from training's and the predictions may be off: export them over "
        "the training range, or, for an instrument that measures another range, train with "
        "--recipe paper-grid (its line runs through the grid's ends).")
    # one spectrum, wider at one end and short at the other: its range as measured, and
    # where the cut to the training range left it (the cut range alone read as measured)
    from ramancam._bundle_range import END_TOL, median_step

    j = np.concatenate([np.ones(8, dtype=bool), k])
    one = Spectra(np.concatenate([np.full((1, 8), 5.0), raw.X[:1]], axis=1)[:, j],
                  np.concatenate([wide_axis[:8], axis])[j])
    assert b.end_point_note(one).startswith(
        f"note: 1 spectrum spans other Raman shifts ({lo - 60:g}-{round(axis[k][-1], 2):g} "
        f"cm-1, cut to {lo - min(END_TOL, 0.5 * median_step(one)):g}-"
        f"{round(axis[k][-1], 2):g} where the training "
        f"spectra end) than the training spectra ({lo:g}-{hi:g} cm-1).")


def test_a_wavelength_axis_short_of_the_range_gets_the_laser_hint(trained):
    """Spectra on a fine axis of 810-1144 (a 785 nm laser's wavelengths, nm) are short of
    the model's Raman-shift range: the error suggests --laser-nm; a Raman-shift axis that
    is short gets no such hint."""
    b = load(trained[0])
    nm = Spectra(np.ones((2, 1870)), np.linspace(810.5, 1144.2, 1870))
    with pytest.raises(RamancamError, match=r"If that axis is in wavelengths \(nm\), give "
                                            r"--laser-nm NM to convert it\."):
        b.check_coverage(nm)
    shift = Spectra(np.ones((2, 500)), np.linspace(600.0, 1700.0, 500))
    with pytest.raises(RamancamError) as e:
        b.check_coverage(shift)
    assert "--laser-nm" not in str(e.value)


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["architecture"].update(n_filters=200000, fc_width=200000),
     "the recorded architecture must be of plausible size"),
    (lambda d: d["architecture"].update(alpha="x"), "slope) must be in [0, 1); got 'x'"),
    (lambda d: d.update(architecture=[1, 2]), "got architecture as list"),
    (lambda d: d.update(classes={"a": 1}), "got classes as dict"),
    (lambda d: d["classes"].__setitem__(1, d["classes"][0]), "with repeated or empty names"),
    (lambda d: d.update(grid=[None] * len(d["grid"])), "not finite and increasing"),
    (lambda d: d.update(grid=d["grid"][::-1]), "not finite and increasing"),
    (lambda d: d.update(grid=[d["grid"]]), "a grid of 2 dimensions"),
    (lambda d: d.update(recipe={"format": "ramancam-recipe", "version": 1,
                                "steps": [{"name": "normalize", "params": [1, 2]}]}),
     "its ramancam.json must hold the settings ramancam wrote"),
    (lambda d: d.update(cv="x"), "'cv' as str, not a mapping"),
    (lambda d: d.update(settings=[1]), "'settings' as list, not a mapping"),
    (lambda d: d.update(settings={"laser_nm": "785"}), "settings.laser_nm '785'"),
    (lambda d: d["training_data"].update(end_points=[[1, "x"]]), "end_points that are not"),
    # a helper's audit of tampered files: NaN passes json.loads; a loader that hung
    (lambda d: d["architecture"].update(alpha=float("nan")), "alpha (the leaky ReLU's slope)"),
    (lambda d: d["architecture"].update(n_blocks=100000),
     "n_blocks must be at most 9 for spectra of 141 points"),
    (lambda d: d["novelty"].update(threshold=float("nan")), "threshold must be a finite"),
    (lambda d: d["novelty"].update(window=100001), "novelty window must fit the model's"),
])
def test_altered_settings_are_refused_in_one_line_naming_the_file(tmp_path, trained, edit,
                                                                   match):
    # they crashed with tracebacks, printed errors without the file, or loaded and broke
    # info or predict later (a helper's audit of crafted files)
    bad = rewrite_model(trained[0], tmp_path / "x.ramancam", info=edit)
    with pytest.raises(RamancamError, match=re.escape(match)) as err:
        load(bad)
    assert str(err.value).startswith(str(bad)) and ".." not in str(err.value)


def _patched(src, dst, member, at_local, at_central, value):
    """A copy of the zip ``src`` whose ``member`` has 2 bytes of its local and central
    headers (offsets ``at_local``, ``at_central``) set to ``value``, or, with ``at_local``
    None, 60 bytes of its compressed data inverted."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
    local = info.header_offset
    if at_local is None:
        start = local + 30 + len(info.filename) + len(info.extra) + 40
        data[start:start + 60] = bytes(b ^ 0xFF for b in data[start:start + 60])
    else:
        central = data.index(b"PK\x01\x02")
        while data[central + 46:central + 46 + len(member)] != member.encode():
            central = data.index(b"PK\x01\x02", central + 4)
        data[local + at_local:local + at_local + 2] = value.to_bytes(2, "little")
        data[central + at_central:central + at_central + 2] = value.to_bytes(2, "little")
    dst.write_bytes(bytes(data))
    return dst


def test_damaged_zip_members_are_refused_in_one_line(tmp_path, trained):
    # bit rot inside the compressed weights, an unknown compression method, an encrypted
    # member: zlib.error, NotImplementedError and RuntimeError tracebacks before
    rot = _patched(trained[0], tmp_path / "rot.ramancam", "weights.safetensors", None, 0, 0)
    odd = _patched(trained[0], tmp_path / "odd.ramancam", "ramancam.json", 8, 10, 99)
    locked = _patched(trained[0], tmp_path / "locked.ramancam", "ramancam.json", 6, 8, 1)
    for bad, match in [(rot, "a damaged zip archive"), (odd, "a damaged zip archive"),
                       (locked, "a zip archive it cannot read")]:
        with pytest.raises(RamancamError, match=match) as err:
            load(bad)
        assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)


def test_a_newer_recipe_says_upgrade_not_damaged(tmp_path, trained):
    def newer(d):
        d["recipe"]["version"] = 99

    bad = rewrite_model(trained[0], tmp_path / "new.ramancam", info=newer)
    with pytest.raises(RamancamError, match="Upgrade ramancam") as err:
        load(bad)
    assert "damaged" not in str(err.value) and str(err.value).startswith(str(bad))


def test_a_member_larger_than_the_architecture_allows_is_not_unpacked(tmp_path, trained):
    # a zip bomb: far more bytes in place of the weights than the network has (compressed,
    # they would take a few kB of file)
    bad = rewrite_model(trained[0], tmp_path / "bomb.ramancam", weights=bytes(8 << 20))
    with pytest.raises(RamancamError, match=r"member weights\.safetensors must fit the "
                                            "recorded architecture"):
        load(bad)
    # and a file that is no model is refused by its settings before any member is unpacked
    worse = rewrite_model(bad, tmp_path / "other.ramancam",
                          info=lambda d: d.update(format="other"))
    with pytest.raises(RamancamError, match="format marker 'other'"):
        load(worse)


def test_no_spectra_are_refused_in_words(trained):
    # an empty selection stopped inside the axis range with "min() arg is an empty sequence"
    b = load(trained[0])
    none = raw_spectra(1)[np.arange(0)]
    for call in (b.prepare, b.predict_proba, b.predict, b.prepare_usable):
        with pytest.raises(RamancamError, match="at least one spectrum; got none"):
            call(none)


def test_maps_of_every_class_for_no_spectra_are_empty(trained):
    # target="all" on zero spectra could not reshape (0, -1)
    from ramancam.explain import explain

    b = load(trained[0])
    for method in ("fc", "gradcam"):
        maps, targets = explain(b.model, np.zeros((0, b.grid.size), np.float32),
                                method=method, target="all")
        assert maps.shape == (0, b.grid.size) and targets.shape == (0,)


def test_spectra_a_few_cm1_off_the_range_are_pointed_to_axis_offset(trained):
    # a +8 cm-1 drift at the grid's start was refused with only "retrain" as the fix
    b = load(trained[0])
    step = b.recipe.steps[[s.name for s in b.recipe.steps].index("resample")].params
    lo, hi = float(step["start"]), float(step["stop"])
    axis = np.linspace(lo + 8.0, hi + 30.0, 900)  # beyond the grid step's tolerance (5)
    with pytest.raises(RamancamError, match=r"--axis-offset -8 moves it onto the model's "
                                            r"range \(check the offset on a standard"):
        b.check_coverage(Spectra(np.ones((2, axis.size)), axis))
    # short by far more than a calibration error: no such hint
    far = np.linspace(lo + 40.0, hi + 80.0, 900)
    with pytest.raises(RamancamError) as err:
        b.check_coverage(Spectra(np.ones((2, far.size)), far))
    assert "--axis-offset" not in str(err.value)


def test_arrays_where_spectra_belong_are_refused_saying_how(trained, tmp_path):
    # "'numpy.ndarray' object has no attribute 'has_common_axis'" from deep inside
    from ramancam.io import read, write_table
    from ramancam.preprocess import auto_recipe

    path, est, _, raw, _ = trained
    b = load(path)
    for call in (b.predict, b.predict_proba, b.prepare, b.prepare_usable, b.check_coverage,
                 lambda x: write_table(x, tmp_path / "t.csv"), auto_recipe):
        with pytest.raises(RamancamError, match=r"spectra must be a ramancam Spectra \("
                                                r"intensities with their Raman-shift axis\); "
                                                r"got ndarray\. Wrap them: Spectra"):
            call(raw.X)
    with pytest.raises(RamancamError, match="path must be a file or folder name"):
        read(None)
    # a grid load would refuse as damaged is refused when saving
    with pytest.raises(RamancamError, match="grid must be finite and increasing"):
        save(tmp_path / "d.ramancam", estimator=est, recipe=None, grid=b.grid[::-1],
             classes=b.classes, training_summary={})
    assert not (tmp_path / "d.ramancam").exists()


def test_a_model_on_a_grid_shorter_than_the_novelty_window_loads(tmp_path):
    # the window check refused models trained on 16-24 points (the hqi window is 25 and
    # shrinks to the grid)
    from ramancam.train import CNNClassifier

    rng = np.random.default_rng(0)
    X = rng.random((20, 21))
    X[:10, 5] += 2.0
    y = np.repeat(["a", "b"], 10)
    est = CNNClassifier(**TINY, random_state=0).fit(X, y)
    path = save(tmp_path / "short.ramancam", estimator=est, recipe=None,
                grid=np.arange(21.0), classes=list(est.classes_), training_summary={})
    b = load(path)
    assert b.novelty.window == 25 and b.grid.size == 21


@pytest.mark.parametrize("method, passes", [("hqi-nap", {"fp32": 0, "bf16": 1}),
                                            ("energy", {"fp32": 1, "bf16": 1})])
def test_bf16_runs_only_the_passes_the_novelty_score_reads(trained, monkeypatch, method,
                                                           passes):
    """predict --bf16: the hqi scores read neither logits nor features, so the bf16 pass is
    the only one (a float32 pass for them made the network cost 1.5x more CPU with --bf16,
    not less); a score of the logits keeps its float32 pass. The outputs are what they were."""
    from ramancam import novelty, train
    from ramancam.novelty import NoveltyScorer, network_outputs

    path, _, _, _, data = trained
    b = load(path)
    if method != b.novelty.method:
        b.novelty = NoveltyScorer(method).fit(data.X, np.zeros(len(data)), np.zeros((0, 0)))
    raw = raw_spectra(1)
    X = b.prepare(raw)
    want_proba = train.predict_proba_module(b.model, X, bf16=True, temperature=b.temperature)
    want_score, want_match = b.novelty.score_and_match(X, *network_outputs(b.model, X))
    calls = {"fp32": 0, "bf16": 0}
    real_outputs, real_module = novelty.network_outputs, train.predict_proba_module

    def outputs(*args, **kwargs):
        calls["fp32"] += 1
        return real_outputs(*args, **kwargs)

    def module(*args, **kwargs):
        calls["bf16" if kwargs.get("bf16") else "fp32"] += 1
        return real_module(*args, **kwargs)

    monkeypatch.setattr(novelty, "network_outputs", outputs)
    monkeypatch.setattr(train, "predict_proba_module", module)
    proba, score, unknown, match = b.predict_all(raw, bf16=True, prepared=X)
    assert calls == passes
    np.testing.assert_array_equal(proba, want_proba)
    np.testing.assert_array_equal(score, want_score)
    np.testing.assert_array_equal(unknown, want_score > b.threshold)
    if want_match is None:
        assert match is None
    else:
        np.testing.assert_array_equal(match, np.asarray(b.classes)[want_match])


def test_predict_refuses_probabilities_that_are_not_finite(trained, monkeypatch):
    # a float32 pass that overflowed (intensities near 1e38, no normalising recipe) gives
    # NaN probabilities, whose argmax read the first class
    import ramancam.train

    real = ramancam.train.predict_proba_module

    def nan_row(*a, **k):
        p = real(*a, **k)
        p[3] = np.nan
        return p

    monkeypatch.setattr(ramancam.train, "predict_proba_module", nan_row)
    b = load(trained[0])
    assert np.isnan(b.predict_proba(raw_spectra(1))[3]).all()  # the numbers, as they are
    with pytest.raises(RamancamError, match=r"^spectrum 3 must give finite probabilities; its "
                       r"prepared intensities reach [0-9.e+]+, too large for the network's "
                       r"float32 arithmetic\. Divide the intensities by their maximum"):
        b.predict(raw_spectra(1))


def _deflated(src, dst, name, data, info=None):
    """A copy of the model file with member ``name`` replaced by ``data``, every member
    deflated (a run of zeros takes a thousandth of its size)."""
    with zipfile.ZipFile(src) as zf:
        out = {n: zf.read(n) for n in zf.namelist()}
    if info is not None:
        d = json.loads(out["ramancam.json"])
        info(d)
        out["ramancam.json"] = json.dumps(d).encode()
    out[name] = data
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in out.items():
            zf.writestr(k, v)
    return dst


def _refused_unread(bad, match):
    """``load(bad)`` refuses the file in one line naming it (``match``), before the member
    is unpacked: less than 16 MiB allocated."""
    from _memory import traced_peak

    def refused():
        with pytest.raises(RamancamError, match=match) as err:
            load(bad)
        return err

    err, peak = traced_peak(refused)
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)
    assert peak < 16 << 20


@pytest.mark.parametrize("name", ["novelty.safetensors", "references.safetensors"])
def test_a_zip_bomb_in_an_array_member_is_refused_before_it_is_unpacked(tmp_path, trained,
                                                                        name):
    # without n_spectra the limit was 4 GiB a member, and a member of zeros was unpacked
    # whole (2 GiB of them from a 10 MB file) before its refusal
    def many(d):  # a count that lifts the size limit to 4 GiB: the ratio must refuse it
        d["training_data"]["n_spectra"] = 10**9

    bad = _deflated(trained[0], tmp_path / "bomb.ramancam", name, bytes(300 << 20), many)
    assert bad.stat().st_size < 2 << 20
    _refused_unread(bad, rf"member {re.escape(name)} must")


def test_a_model_of_identical_spectra_loads_though_its_arrays_pack_tightly(tmp_path):
    # its novelty rows (600 identical derivative rows, 9.6 MB) pack 239-fold: the ratio
    # check, from 8 MiB then, refused a file bundle.save itself had written
    x = np.linspace(400.0, 1800.0, 4000)
    a, b = (np.exp(-(((x - c) / 20.0) ** 2)) * 100 + 10 for c in (1000.0, 1450.0))
    X = np.vstack([np.tile(a, (300, 1)), np.tile(b, (300, 1))])
    y = np.array(["a"] * 300 + ["b"] * 300)
    est = CNNClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(X, y)
    path = save(tmp_path / "same.ramancam", estimator=est, recipe=None, grid=x,
                training_summary=training_summary(Spectra(X, x, labels=y)))
    with zipfile.ZipFile(path) as zf:
        zi = zf.getinfo("novelty.safetensors")
    assert zi.file_size >= 8 << 20 and zi.file_size > 50 * zi.compress_size
    assert load(path).predict(Spectra(X[:2], x)).tolist() == est.predict(X[:2]).tolist()


def test_a_member_whose_compressed_size_lies_is_refused(tmp_path, trained):
    # a central directory that claims more compressed bytes than the file holds would pass
    # a compression-ratio check while the few real bytes inflate to the declared size
    bad = _deflated(trained[0], tmp_path / "lie.ramancam", "novelty.safetensors",
                    bytes(48 << 20), lambda d: d["training_data"].pop("n_spectra"))
    data = bytearray(bad.read_bytes())
    with zipfile.ZipFile(bad) as zf:
        real = zf.getinfo("novelty.safetensors").compress_size
    at = data.index(b"novelty.safetensors", data.index(b"PK\x01\x02"))
    entry = data.rindex(b"PK\x01\x02", 0, at)
    assert int.from_bytes(data[entry + 20:entry + 24], "little") == real
    data[entry + 20:entry + 24] = (40 << 20).to_bytes(4, "little")
    bad.write_bytes(bytes(data))
    _refused_unread(bad, r"member novelty\.safetensors must")


def test_weights_are_checked_against_the_architecture_before_it_is_built(tmp_path, trained,
                                                                         monkeypatch):
    # a 4 kB file naming 5000 filters and holding no weights built the network (1.7 GB)
    # before its weights were found missing
    from safetensors.torch import save as st_save

    from ramancam import model as model_module

    built = []

    class Recording(model_module.RamanCNN):
        def __init__(self, config):
            super().__init__(config)
            built.append(next(self.parameters()).device.type)

    monkeypatch.setattr(model_module, "RamanCNN", Recording)
    bad = rewrite_model(trained[0], tmp_path / "wide.ramancam", weights=st_save({}),
                        info=lambda d: d["architecture"].update(n_filters=64))
    with pytest.raises(RamancamError, match="weights must match the architecture") as err:
        load(bad)
    assert str(err.value).startswith(str(bad))
    assert "cpu" not in built
    # a weight of the wrong shape, too
    with zipfile.ZipFile(trained[0]) as zf:
        from safetensors.torch import load as st_load

        state = st_load(zf.read("weights.safetensors"))
    state["fc2.bias"] = torch.zeros(7)
    odd = rewrite_model(trained[0], tmp_path / "odd.ramancam", weights=st_save(state))
    built.clear()
    with pytest.raises(RamancamError, match=r"weight 'fc2.bias' must have shape \(3,\)"):
        load(odd)
    assert "cpu" not in built
    load(trained[0])
    assert "cpu" in built


def test_an_integer_of_too_many_digits_in_the_settings_is_refused_naming_the_file(tmp_path,
                                                                                 trained):
    # json.loads raised a bare ValueError ("Exceeds the limit (4300 digits) for integer
    # string conversion"), and the CLI said so without naming the file
    with zipfile.ZipFile(trained[0]) as zf:
        text = zf.read("ramancam.json").decode()
    assert '"n_filters": 4' in text
    huge = text.replace('"n_filters": 4', '"n_filters": 1' + "0" * 5000, 1)
    bad = rewrite_model(trained[0], tmp_path / "huge.ramancam",
                        members={"ramancam.json": huge.encode()})
    with pytest.raises(RamancamError, match=r"unreadable ramancam\.json \(an integer of more "
                                            r"than 4300 digits\)") as err:
        load(bad)
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["references.safetensors", "novelty.safetensors"])
def test_an_array_of_a_dtype_numpy_lacks_is_refused_naming_the_member(tmp_path, trained, name):
    # safetensors.numpy raised KeyError('BF16'), which load took for a damaged ramancam.json
    from safetensors.torch import save as st_save

    arrays = {"mean": torch.zeros(3, 141, dtype=torch.bfloat16)}
    bad = rewrite_model(trained[0], tmp_path / "bf16.ramancam",
                        members={name: st_save(arrays)})
    with pytest.raises(RamancamError, match=rf"{re.escape(name)} must hold arrays of a dtype "
                                            r"numpy reads.*got dtype 'BF16'") as err:
        load(bad)
    assert str(err.value).startswith(str(bad)) and "ramancam.json" not in str(err.value)


@pytest.mark.parametrize("cfg", [
    {"n_points": 100, "n_classes": 3},
    {"n_points": 101, "n_classes": 2, "n_blocks": 3, "n_filters": 5, "filter_size": 3,
     "fc_width": 7, "fc_activation": "leaky"},
    {"n_points": 5, "n_classes": 4, "n_blocks": 1, "filter_size": 9}])
def test_the_weight_shapes_checked_without_torch_are_the_networks(cfg):
    """load_info (ramancam info) checks a file's weights against weight_shapes, which builds
    no network: they must be RamanCNN's own, name for name, in its order, all float32."""
    import torch

    from ramancam._cnn_config import weight_shapes
    from ramancam.bundle import _unique_state
    from ramancam.model import CNNConfig, RamanCNN

    config = CNNConfig(**cfg)
    state = _unique_state(RamanCNN(config).state_dict())
    assert [(k, tuple(v.shape)) for k, v in state.items()] == list(
        weight_shapes(config).items())
    assert all(v.dtype == torch.float32 for v in state.values())
