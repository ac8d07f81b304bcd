"""Simulated spectra: Eq. (10), the peak-position and common-component sets, mixtures."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ramancam.errors import RamancamError
from ramancam.simulate import (
    CLASS_PEAKS,
    common_component_set,
    lorentzian,
    lorentzian_spectra,
    mixtures,
    peak_position_set,
)
from ramancam.spectra import Spectra


def test_lorentzian_hand_values():
    x = np.array([10.0, 12.0, 14.0, 8.0])
    # Eq. (10): 1 / (1 + ((x - x0) / (FWHM / 2))^2); at x0 +- FWHM/2 the value is 1/2.
    got = lorentzian(x, 10.0, 4.0, amplitude=2.0)
    np.testing.assert_allclose(got, [2.0, 1.0, 2.0 / 5.0, 1.0])


def test_lorentzian_vector_centres_gives_one_row_each():
    x = np.arange(50.0)
    got = lorentzian(x, [10.0, 30.0], 4.0)
    assert got.shape == (2, 50)
    assert got[0].argmax() == 10 and got[1].argmax() == 30


def test_lorentzian_rejects_bad_width():
    with pytest.raises(RamancamError, match="fwhm must be a positive number"):
        lorentzian(np.arange(5.0), 2.0, 0.0)


def test_peak_position_set_layout_and_noise_bound():
    s = peak_position_set(7, rng=1)
    assert s.X.shape == (21, 1024)
    np.testing.assert_array_equal(s.wavenumbers, np.arange(1024.0))
    assert s.class_counts() == {"peak_100": 7, "peak_1000": 7, "peak_500": 7}
    for label, pos in CLASS_PEAKS.items():
        rows = s.X[s.labels == label]
        assert (rows.argmax(axis=1) == pos).all()
    clean = lorentzian(np.arange(1024.0), s.meta["peak_position"], 4.0)
    noise = s.X - clean
    # Uniform white noise within +-2.5 % of each spectrum's maximum (1 for a single band).
    assert np.abs(noise).max() <= 0.025 + 1e-12
    assert np.abs(noise).max() > 0.02  # the bound is actually reached, noise is there
    assert abs(noise.mean()) < 1e-3


def test_same_seed_same_spectra_and_rng_kinds():
    a = peak_position_set(3, rng=5)
    b = peak_position_set(3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.X, b.X)
    c = peak_position_set(3, rng=6)
    assert not np.array_equal(a.X, c.X)


def test_zero_noise_is_clean():
    s = peak_position_set(2, n_channels=64, positions=(10, 40), noise=0.0, rng=0)
    np.testing.assert_allclose(s.X.max(axis=1), 1.0)
    assert list(s.classes) == ["peak_10", "peak_40"]


def test_common_component_set_metadata_matches_spectra(rng):
    s = common_component_set(4, rng=rng, noise=0.0)
    assert s.X.shape == (12, 1024)
    assert {"peak_position", "random_peak_1", "random_peak_2", "random_peak_3"} <= set(s.meta)
    x = np.arange(1024.0)
    expected = lorentzian(x, s.meta["peak_position"], 4.0)
    for j in (1, 2, 3):
        pos = s.meta[f"random_peak_{j}"]
        assert ((pos >= 0) & (pos <= 1023)).all()
        expected = expected + lorentzian(x, pos, 4.0)
    np.testing.assert_allclose(s.X, expected)


def test_common_component_amplitude_option():
    s = common_component_set(2, random_amplitude=0.0, noise=0.0, rng=0)
    ref = peak_position_set(2, noise=0.0, rng=0)
    np.testing.assert_allclose(s.X, ref.X)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_per_class": 0}, "n_per_class must be a positive integer"),
    ({"positions": (5,)}, "positions must list at least 2"),
    ({"noise": -0.1}, "noise must be a number >= 0"),
    ({"n_channels": 1}, "n_channels must be an integer >= 2"),
    ({"rng": "seed"}, "rng must be None, an integer seed"),
])
def test_peak_set_errors(kwargs, match):
    with pytest.raises(RamancamError, match=match):
        peak_position_set(**kwargs)


def test_common_set_errors():
    with pytest.raises(RamancamError, match="n_random_peaks must be an integer >= 0"):
        common_component_set(2, n_random_peaks=-1)
    with pytest.raises(RamancamError, match="random_amplitude must be a number >= 0"):
        common_component_set(2, random_amplitude=-1.0)
    with pytest.raises(RamancamError, match="amplitudes must have the shape of positions"):
        lorentzian_spectra([[1.0, 2.0]], amplitudes=[[1.0]])
    with pytest.raises(RamancamError, match="positions must be 2-D"):
        lorentzian_spectra([1.0, 2.0])


def _pure(n=3, p=40):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(n, p))
    return Spectra(X, np.linspace(400, 1800, p), labels=[f"c{i}" for i in range(n)])


def test_mixtures_formula_labels_and_metadata():
    pure = _pure()
    m = mixtures(pure, n_per_pair=4, rng=3)
    assert len(m) == 3 * 2 * 4
    assert m.class_counts() == {"c0": 8, "c1": 8, "c2": 8}
    r = m.meta["ratio"]
    assert ((r >= 0.1) & (r <= 0.5)).all()
    idx = {c: i for i, c in enumerate(pure.labels)}
    a = np.array([idx[c] for c in m.labels])
    b = np.array([idx[c] for c in m.meta["partner"]])
    assert (a != b).all()
    np.testing.assert_allclose(m.X, pure.X[a] + r[:, None] * pure.X[b])
    np.testing.assert_array_equal(m.wavenumbers, pure.wavenumbers)
    # Every ordered pair occurs n_per_pair times.
    pairs, counts = np.unique(np.stack([a, b]), axis=1, return_counts=True)
    assert pairs.shape[1] == 6 and (counts == 4).all()


def test_mixtures_twenty_pure_gives_paper_counts():
    m = mixtures(_pure(20, 10), rng=0)
    assert len(m) == 1900
    assert set(m.class_counts().values()) == {95}


def test_mixtures_uses_file_names_without_labels():
    pure = _pure(2, 10)
    unl = Spectra(pure.X, pure.wavenumbers, sources=["/d/gly.txt", "/d/ala.txt"])
    m = mixtures(unl, n_per_pair=1, rng=0)
    assert sorted(m.labels) == ["ala", "gly"]


def test_mixtures_errors():
    pure = _pure(2, 10)
    with pytest.raises(RamancamError, match="ratio must be"):
        mixtures(pure, ratio=(0.5, 0.1))
    with pytest.raises(RamancamError, match="at least 2 different labels"):
        mixtures(pure.replace(labels=["a", "a"]))
    with pytest.raises(RamancamError, match="pure spectra must carry labels"):
        mixtures(Spectra(pure.X, pure.wavenumbers))
    ragged = Spectra([np.ones(5), np.ones(6)], [np.arange(5.0), np.arange(6.0)],
                     labels=["a", "b"])
    with pytest.raises(RamancamError, match="pure spectra must share one axis"):
        mixtures(ragged)
    with pytest.raises(RamancamError, match="n_per_pair must be a positive integer"):
        mixtures(pure, n_per_pair=0)


def test_missing_or_scalar_settings_are_refused_in_words():
    # numpy's isfinite TypeError, and "'float' object is not iterable"
    from ramancam import simulate as sim

    with pytest.raises(RamancamError, match="fwhm must be a positive number; got None"):
        sim.lorentzian(np.arange(10.0), 2.0, None)
    with pytest.raises(RamancamError, match="noise must be a number >= 0; got None"):
        sim.peak_position_set(3, noise=None)
    with pytest.raises(RamancamError, match=r"ratio must be \(low, high\).*got 0\.3\. For one "
                                            r"ratio r give \(r, r\)"):
        sim.mixtures(sim.peak_position_set(3), ratio=0.3)


# --------------------------------------------------------------------------- the CLI

def _pure_table(path, n=3, p=40):
    from ramancam.io import write_table

    write_table(_pure(n, p), path)
    return path


def test_cli_mix_refuses_to_overwrite_its_pure_table(tmp_path, capsys):
    # it wrote the mixtures over the pure spectra it had read
    from ramancam.cli import main

    pure = _pure_table(tmp_path / "pure4.csv")
    before = pure.read_bytes()
    assert main(["simulate", "mix", "--pure", str(pure), "--label-col", "label",
                 "--out", str(pure)]) == 2
    err = capsys.readouterr().err
    assert (f"error: --out must not name --pure, which is read; got {str(pure)!r}. Writing "
            "it would destroy the input: name another file.") in err
    assert pure.read_bytes() == before


@pytest.mark.parametrize("fwhm", [0.0, -4.0, np.inf, np.nan, None])
def test_generators_refuse_a_width_that_is_not_positive_and_finite(fwhm):
    # 0 and NaN gave all-NaN spectra, inf flat ones, -4 the same as 4
    match = rf"fwhm must be a positive finite number; got {fwhm!r}\."
    with pytest.raises(RamancamError, match=match):
        lorentzian_spectra([[10.0]], n_channels=32, fwhm=fwhm)
    with pytest.raises(RamancamError, match=match):
        peak_position_set(2, fwhm=fwhm)
    with pytest.raises(RamancamError, match=match):
        common_component_set(2, fwhm=fwhm)
    from ramancam.simulate import map_layout, map_tile, simulated_map

    with pytest.raises(RamancamError, match=match):
        map_tile(map_layout((4, 4)), slice(0, 2), slice(0, 2), fwhm=fwhm)
    with pytest.raises(RamancamError, match=match):
        simulated_map((4, 4), fwhm=fwhm)


@pytest.mark.parametrize(("kind", "value"), [("map", "0"), ("map", "inf"), ("map", "-4"),
                                             ("map", "nan"), ("common", "0"),
                                             ("peaks", "nan")])
def test_cli_refuses_a_width_that_is_not_positive_and_finite(tmp_path, capsys, kind, value):
    from ramancam.cli import main

    out = tmp_path / ("m.zarr" if kind == "map" else "p.csv")
    extra = ["--shape", "5x5"] if kind == "map" else []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning of a division by 0
        assert main(["simulate", kind, *extra, "--fwhm", value, "--out", str(out)]) == 2
    shown = f"{float(value):g}"
    assert capsys.readouterr().err == (
        f"error: --fwhm must be a positive finite number; got {shown}. Give the band width in "
        "channels, e.g. --fwhm 4.\n")
    assert not out.exists()
    assert main(["simulate", "peaks", "--noise", "-0.1", "--out", str(tmp_path / "p.csv")]) == 2
    assert "error: --noise must be a finite number >= 0; got -0.1." in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "name"), [("peaks", "p.xlsx"), ("common", "c.zarr"),
                                            ("mix", "m.json"), ("map", "x.txt")])
def test_cli_refuses_an_out_name_it_does_not_write(tmp_path, capsys, kind, name):
    # CSV text was written under .xlsx, .zarr or .json, which info could not read back
    from ramancam.cli import main

    out = tmp_path / name
    extra = {"map": ["--shape", "2x2"], "mix": ["--pure", str(tmp_path / "absent")]}
    assert main(["simulate", kind, *extra.get(kind, []), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    if kind == "map":
        assert err == (f"error: --out must end in .zarr, .csv or .csv.gz for 'map'; got "
                       f"{str(out)!r}. 'simulate map' writes a Zarr cube or a CSV table: name "
                       "the file accordingly.\n")
    else:
        assert err == (f"error: --out must end in .csv or .csv.gz for {kind!r}; got "
                       f"{str(out)!r}. 'simulate {kind}' writes a CSV table: name the file "
                       "accordingly.\n")
    assert not out.exists()


@pytest.mark.parametrize(("out", "said"), [
    ("afile/p.csv", "--out must be in a folder; got '{out}', but '{afile}' is a file. Name "
                    "another folder."),
    ("nodir/p.csv", "--out must be in an existing folder; got '{out}'. Create the folder "
                    "first."),
    ("d.csv", "--out must name a file; got '{out}', which is a folder. Name a file in it or "
              "beside it."),
])
def test_cli_checks_the_folder_of_out_before_any_work(tmp_path, capsys, monkeypatch, out,
                                                       said):
    # a file in the way was called a missing folder ("got no folder 'afile'. Create it
    # first."), and that (or a folder named as the table) found after the set was made
    import ramancam.cli.simulate as sim
    from ramancam.cli import main

    def make(*args, **kwargs):
        raise AssertionError("the set was made before --out was checked")

    (tmp_path / "afile").write_text("x\n", encoding="utf-8")
    (tmp_path / "d.csv").mkdir()
    monkeypatch.setattr(sim, "_make", make)
    assert main(["simulate", "peaks", "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err == "error: " + said.format(out=tmp_path / out, afile=tmp_path / "afile") + "\n"


def test_cli_writes_a_gzipped_table(tmp_path, capsys):
    from ramancam.cli import main
    from ramancam.io import read

    out = tmp_path / "a b & c.CSV.gz"
    assert main(["simulate", "peaks", "--n-per-class", "2", "--out", str(out)]) == 0
    assert len(read(out, label_col="label")) == 6
    # the command it suggests runs when pasted (the path was not quoted)
    assert f"ramancam train '{out}' --label-col label" in capsys.readouterr().out


def test_mixture_ratios_above_one_are_refused():
    # r > 1 made the label the minor component
    with pytest.raises(RamancamError, match=r"ratio must be \(low, high\) with 0 <= low <= "
                                            r"high <= 1; got \(0\.5, 1\.5\)\. The label is"):
        mixtures(_pure(2, 10), ratio=(0.5, 1.5))
    m = mixtures(_pure(2, 10), ratio=(1.0, 1.0), n_per_pair=1, rng=0)
    np.testing.assert_array_equal(m.meta["ratio"], [1.0, 1.0])


@pytest.mark.parametrize("ratio", ["2:3", "0.5:0.1", "-0.1:0.5", "nan:0.5", "0.1:1.01"])
def test_cli_mix_refuses_a_ratio_outside_0_1(tmp_path, capsys, ratio):
    from ramancam.cli import main

    pure = _pure_table(tmp_path / "pure.csv")
    assert main(["simulate", "mix", "--pure", str(pure), "--label-col", "label",
                 f"--ratio={ratio}", "--out", str(tmp_path / "m.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"error: --ratio must be LO:HI with 0 <= LO <= HI <= 1; got "
                            f"{ratio!r}. The label is the main component: give e.g. "
                            "0.1:0.5.\n")
    assert "preprocessed" not in captured.out  # checked before the pure spectra were read


@pytest.mark.parametrize(("kind", "option", "message"), [
    ("peaks", ["--random-peaks", "5"], "--random-peaks must not be used with 'peaks'; got 5. "
                                       "It applies to 'common' and 'map' only: drop it."),
    ("peaks", ["--ratio", "5:9"], "--ratio must not be used with 'peaks'; got '5:9'. It "
                                  "applies to 'mix' only: drop it."),
    ("peaks", ["--pure", "/nonexistent"], "--pure must not be used with 'peaks'; got "
                                          "'/nonexistent'. It applies to 'mix' only: drop it."),
    ("peaks", ["--grid", "1:2:3"], "--grid must not be used with 'peaks'; got '1:2:3'."),
    ("peaks", ["--chunk", "3x3"], "--chunk must not be used with 'peaks'; got '3x3'. It "
                                  "applies to 'map' only: drop it."),
    ("peaks", ["--label-col", "foo"], "--label-col must not be used with 'peaks'; got 'foo'."),
    ("common", ["--shape", "3x3"], "--shape must not be used with 'common'; got '3x3'."),
    ("mix", ["--noise", "0.1"], "--noise must not be used with 'mix'; got 0.1. It applies to "
                                "'peaks', 'common' and 'map' only: drop it."),
    ("mix", ["--fwhm", "4"], "--fwhm must not be used with 'mix'; got 4.0."),
    ("mix", ["--n-per-class", "3"], "--n-per-class must not be used with 'mix'; got 3. It "
                                    "applies to 'peaks' and 'common' only: use --n-per-pair."),
    ("map", ["--n-per-pair", "3"], "--n-per-pair must not be used with 'map'; got 3."),
])
def test_cli_refuses_options_of_another_kind(tmp_path, capsys, kind, option, message):
    # they were silently ignored (exit 0)
    from ramancam.cli import main

    out = tmp_path / "o.csv"
    (tmp_path / "pure").mkdir()
    extra = {"map": ["--shape", "2x2"], "mix": ["--pure", str(tmp_path / "pure")]}.get(kind, [])
    assert main(["simulate", kind, *extra, *option, "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")
    assert not out.exists()


@pytest.mark.parametrize(("kind", "option", "message"), [
    ("map", ["--random-peaks", "-1"], "--random-peaks must be an integer >= 0; got -1. Give "
                                      "e.g. --random-peaks 3.\n"),  # was numpy's words
    ("common", ["--random-peaks", "-1"], "--random-peaks must be an integer >= 0; got -1."),
    ("map", ["--chunk", "0x0"], "--chunk must be CXxCY with positive sizes, e.g. 64x64; got "
                                "'0x0'.\n"),  # said "shape"
    ("map", ["--shape", "3by3"], "--shape must be NXxNY with positive sizes, e.g. 300x300; "
                                 "got '3by3'.\n"),
    ("peaks", ["--n-per-class", "0"], "--n-per-class must be a positive integer; got 0. Give "
                                      "e.g. --n-per-class 20.\n"),  # said n_per_class
    ("mix", ["--n-per-pair", "0"], "--n-per-pair must be a positive integer; got 0."),
    ("mix", ["--grid", "5:1:1"], "--grid must have STOP > START and STEP > 0"),
    ("common", ["--fwhm", "0"], "--fwhm must be a positive finite number; got 0."),
])
def test_cli_errors_name_the_option(tmp_path, capsys, kind, option, message):
    from ramancam.cli import main

    out = tmp_path / "o.csv"
    extra = {"map": ["--shape", "2x2"] if "--shape" not in option else [],
             "mix": ["--pure", str(_pure_table(tmp_path / "pure.csv")), "--label-col",
                     "label"]}.get(kind, [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["simulate", kind, *extra, *option, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {message}")
    assert "preprocessed" not in captured.out  # mix: before the pure spectra were read
    assert not out.exists()


def test_map_api_refuses_negative_random_peaks():
    from ramancam.simulate import map_layout, map_tile, simulated_map

    with pytest.raises(RamancamError, match=r"n_random_peaks must be an integer >= 0; got -1\."):
        map_tile(map_layout((4, 4)), slice(0, 2), slice(0, 2), n_random_peaks=-1)
    with pytest.raises(RamancamError, match=r"n_random_peaks must be an integer >= 0; got -1\."):
        simulated_map((4, 4), n_random_peaks=-1)


def test_class_positions_must_differ_and_lie_on_the_axis():
    # (100, 100, 500) merged two classes into one label; 5000 on 1024 channels was accepted
    with pytest.raises(RamancamError, match=r"positions must differ from class to class; got "
                                            r"100, 100, 500 \(label peak_100 twice\)\. Give"):
        peak_position_set(5, positions=(100, 100, 500))
    with pytest.raises(RamancamError, match=r"positions must lie on the axis, 0 to 1023; got "
                                            r"100, 5000\. Move the bands or raise n_channels"):
        common_component_set(2, positions=(100, 5000))
    with pytest.raises(RamancamError, match="positions must lie on the axis, 0 to 63"):
        peak_position_set(2, n_channels=64, positions=(-1, 10))
    s = peak_position_set(1, n_channels=64, positions=(0, 63), noise=0.0)
    assert list(s.labels) == ["peak_0", "peak_63"]


def test_cli_mix_of_a_table_without_label_col_says_so(tmp_path, capsys):
    # it said "got [np.str_('pure4')]"
    from ramancam.cli import main

    pure = _pure_table(tmp_path / "pure4.csv")
    assert main(["simulate", "mix", "--pure", str(pure), "--out", str(tmp_path / "m.csv")]) == 2
    assert capsys.readouterr().err == (
        "error: --label-col must name the label column of the --pure table; got none, and the "
        "file name 'pure4' would label all 3 spectra alike. Give e.g. --label-col label.\n")
    with pytest.raises(RamancamError, match=r"at least 2 different labels; got only 'a'\. "
                                            r"Label a table's spectra by its label column"):
        mixtures(_pure(2, 10).replace(labels=["a", "a"]))


def test_cli_refuses_a_set_beyond_the_memory_naming_the_option(tmp_path, monkeypatch, capsys):
    # under a memory limit it ended in the generic "not enough memory for this input"
    from ramancam import simulate
    from ramancam.cli import main
    from ramancam.cli import simulate as cli_simulate

    monkeypatch.setattr(cli_simulate, "available_memory", lambda: 2**30)
    out = tmp_path / "p.csv"
    assert main(["simulate", "peaks", "--n-per-class", "200000", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error: --n-per-class must be smaller for the memory there is; got 200000 (600000 "
        "spectra x 1024 points need about 18.3 GiB, 1.0 GiB available). Give a smaller value, "
        "or write several sets with different --seed.\n")
    assert main(["simulate", "common", "--n-per-class", "2", "--out", str(out)]) == 0

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(simulate, "mixtures", no_memory)
    pure = _pure_table(tmp_path / "pure.csv")
    assert main(["simulate", "mix", "--pure", str(pure), "--label-col", "label",
                 "--n-per-pair", "900", "--out", str(tmp_path / "m.csv")]) == 2
    assert capsys.readouterr().err.endswith(
        "error: --n-per-pair must be smaller for the memory there is; got 900, whose spectra "
        "did not fit. Give a smaller value, or write several sets with different --seed.\n")


def test_map_help_says_the_spectra_depend_on_the_chunk(capsys):
    # --chunk 8x8 and 64x64 give different spectra: said, since documented numbers of the
    # default 64x64 maps must not change
    from ramancam.cli import main
    from ramancam.simulate import simulated_map

    assert main(["simulate", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "the spectra depend on --chunk too: the same --seed and --chunk give the same map" \
        in text
    assert "the spectra depend on --seed and --chunk" in text
    a = simulated_map((6, 6), chunks=(3, 3), seed=1, n_channels=32)
    b = simulated_map((6, 6), chunks=(3, 3), seed=1, n_channels=32)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, simulated_map((6, 6), chunks=(6, 6), seed=1,
                                                 n_channels=32).X)
