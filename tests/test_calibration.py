"""Axis check on a measured standard (ramancam.calibration, info --standard) and the
--axis-offset that corrects it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ramancam.calibration import STANDARDS, check_axis, find_band, format_check
from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import write_table
from ramancam.spectra import Spectra


def _standard(name, w, rng, *, offset=0.0, stretch=0.0, noise=0.003, n=1):
    """Spectra of a standard measured on an axis that is off by ``offset`` (+ ``stretch``
    per 1000 cm-1): Lorentzian bands (half width 4 cm-1) of random heights on a slope."""
    heights = rng.uniform(0.3, 1.0, len(STANDARDS[name]))
    out = []
    for _ in range(n):
        y = 0.2 + 0.0001 * (w - w[0])
        for b, h in zip(STANDARDS[name], heights, strict=True):
            at = b + offset + stretch * (b - 1000.0) / 1000.0
            y = y + h / (1.0 + ((w - at) / 4.0) ** 2)
        out.append(y + rng.normal(0, noise, w.size))
    return Spectra(np.asarray(out), w)


@pytest.mark.parametrize("step", [1.0, 2.0, 3.3])
@pytest.mark.parametrize("offset", [0.0, 2.3, -4.1])
def test_check_axis_reads_the_offset_of_a_measured_standard(rng, step, offset):
    w = np.arange(200.0, 3200.0, step)
    check = check_axis(_standard("polystyrene", w, rng, offset=offset, n=3), "polystyrene")
    assert check.n_found == len(STANDARDS["polystyrene"])
    assert abs(check.offset - offset) < 0.15 + 0.05 * step
    assert check.spread < 0.6
    text = format_check(check)
    assert text.startswith("calibration (polystyrene, ASTM E1840): 11 of 11 bands in range "
                           "found")
    if abs(offset) >= 0.5:
        assert text.endswith(f"correct spectra from this instrument with --axis-offset "
                             f"{-check.offset:+.1f}")
    else:
        assert text.endswith("within 0.5 cm-1: nothing to correct")
    # a descending axis gives the same answer
    back = check_axis(Spectra(_standard("polystyrene", w, np.random.default_rng(1),
                                        offset=offset).X[:, ::-1], w[::-1]), "polystyrene")
    assert abs(back.offset - offset) < 0.15 + 0.05 * step


def test_check_axis_only_uses_the_bands_in_range_and_says_when_the_axis_is_stretched(rng):
    w = np.arange(300.0, 1800.0, 1.0)  # a fingerprint spectrometer: no C-H bands
    check = check_axis(_standard("cyclohexane", w, rng, offset=1.0, stretch=3.0),
                       "cyclohexane")
    assert list(check.reference) == [384.1, 426.3, 801.3, 1028.3, 1157.6, 1266.4, 1444.4]
    assert check.n_found == 7 and check.spread > 2.0
    assert "stretched as well as shifted: one offset does not fix it" in format_check(check)
    # silicon: one band
    one = check_axis(_standard("silicon", np.arange(400.0, 700.0, 1.0), rng, offset=-1.2),
                     "silicon")
    assert one.n_found == 1 and abs(one.offset + 1.2) < 0.1
    assert "axis: offset -1.2 cm-1 (one band); correct spectra from this instrument with " \
           "--axis-offset +1.2" in format_check(one)
    # a narrow scan around the band (11 cm-1 at 0.2 cm-1) is read too
    w = np.arange(515.0, 526.0, 0.2)
    narrow = check_axis(_standard("silicon", w, rng, offset=0.2, noise=0.002), "silicon")
    assert narrow.n_found == 1 and abs(narrow.offset - 0.2) < 0.05


def test_no_band_is_found_in_noise_or_at_the_window_edge(rng):
    w = np.arange(200.0, 3200.0, 1.0)
    noise = Spectra(rng.normal(1.0, 0.01, (1, w.size)), w)
    check = check_axis(noise, "polystyrene")
    assert check.n_found == 0 and np.isnan(check.offset)
    assert format_check(check).endswith("is this a spectrum of polystyrene?")
    # a band 15 cm-1 off is outside the +-10 cm-1 window: not taken for the standard's
    y = 1.0 / (1.0 + ((w - 535.7) / 4.0) ** 2) + rng.normal(0, 0.003, w.size)
    assert np.isnan(find_band(w, y, 520.7))
    assert abs(find_band(w, y, 530.0) - 535.7) < 0.1


def test_check_axis_errors(rng):
    w = np.arange(200.0, 700.0, 1.0)
    s = _standard("silicon", w, rng)
    with pytest.raises(RamancamError, match="standard must be one of silicon, polystyrene"):
        check_axis(s, "diamond")
    with pytest.raises(RamancamError, match="must cover at least one of its bands"):
        check_axis(Spectra(s.X[:, :200], w[:200]), "silicon")
    ragged = Spectra([s.X[0], s.X[0][:300]], [w, w[:300]])
    with pytest.raises(RamancamError, match="must share one axis"):
        check_axis(ragged, "silicon")
    for bad in (-5, 0, float("nan"), True):  # -5: numpy's 'argmax of an empty sequence'
        with pytest.raises(RamancamError, match="window must be a positive number of cm-1"):
            check_axis(s, "silicon", window=bad)


def test_info_standard_prints_the_bands_and_the_offset(tmp_path, rng, capsys):
    w = np.arange(200.0, 3200.0, 1.5)
    write_table(_standard("polystyrene", w, rng, offset=2.4, n=2), tmp_path / "ps.csv")
    assert main(["info", str(tmp_path / "ps.csv"), "--standard", "polystyrene"]) == 0
    out = capsys.readouterr().out
    assert "calibration (polystyrene, ASTM E1840): 11 of 11 bands in range found" in out
    assert "      band   measured  deviation" in out
    line = next(x for x in out.splitlines() if x.split()[:1] == ["1001.4"])
    assert abs(float(line.split()[1]) - 1003.8) < 0.3
    assert "correct spectra from this instrument with --axis-offset -2.4" in out
    # the same as JSON
    assert main(["info", str(tmp_path / "ps.csv"), "--standard", "polystyrene", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["calibration"]
    assert d["standard"] == "polystyrene" and abs(d["offset"] - 2.4) < 0.2
    assert len(d["bands"]) == 11 and d["bands"][2]["reference"] == 1001.4
    # reading it back with the offset: nothing left to correct
    assert main(["info", str(tmp_path / "ps.csv"), "--standard", "polystyrene",
                 "--axis-offset", "-2.4"]) == 0
    assert "within 0.5 cm-1: nothing to correct" in capsys.readouterr().out
    # --plot: one panel per band
    assert main(["info", str(tmp_path / "ps.csv"), "--standard", "polystyrene", "--plot",
                 str(tmp_path / "ps.png")]) == 0
    assert f"wrote a figure of the polystyrene bands to {tmp_path / 'ps.png'}" in (
        capsys.readouterr().out)
    assert (tmp_path / "ps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a standard the tool does not know is refused
    assert main(["info", str(tmp_path / "ps.csv"), "--standard", "diamond"]) == 2
    assert "invalid choice: 'diamond'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "80", "-51"])
def test_axis_offset_refuses_what_is_no_calibration_error(tmp_path, rng, capsys, value):
    w = np.arange(200.0, 700.0, 1.0)
    write_table(_standard("silicon", w, rng), tmp_path / "si.csv")
    assert main(["info", str(tmp_path / "si.csv"), f"--axis-offset={value}"]) == 2
    assert "error: --axis-offset must be a number of cm-1 between -50 and 50" in (
        capsys.readouterr().err)


def test_info_standard_is_for_spectra_not_model_files(tmp_path, capsys):
    from ramancam.bundle import save
    from ramancam.model import CNNConfig, RamanCNN

    grid = np.arange(400.0, 700.0)
    model = RamanCNN(CNNConfig(n_points=grid.size, n_classes=2, n_filters=2, filter_size=3,
                               fc_width=4)).eval()
    path = save(tmp_path / "m.ramancam", estimator=model, recipe=None, grid=grid,
                classes=["a", "b"], training_summary={})
    assert main(["info", str(path), "--standard", "silicon"]) == 2
    assert "axis options (--standard too) apply to spectra; got the model file" in (
        capsys.readouterr().err)


def test_info_standard_on_a_folder_lists_each_spectrum_the_drift(tmp_path, rng, capsys):
    """A polystyrene standard measured on four days, each file on its own axis, the axis
    drifting by 0.8 cm-1 a day: one line per file with its offset, and the drift."""
    folder = tmp_path / "days"
    folder.mkdir()
    for day in range(4):
        w = np.arange(300.0 + 7 * day, 1800.0, 1.0 + 0.25 * day)
        s = _standard("polystyrene", w, rng, offset=0.8 * day)
        np.savetxt(folder / f"day{day}.txt", np.c_[w, s.X[0]])
    assert main(["info", str(folder), "--standard", "polystyrene"]) == 0
    out = capsys.readouterr().out
    assert "calibration (polystyrene" not in out  # no common axis: no mean spectrum
    rows = [x.split() for x in out.splitlines() if x.strip().startswith("day")]
    assert [r[0] for r in rows] == ["day0.txt", "day1.txt", "day2.txt", "day3.txt"]
    for day, r in enumerate(rows):
        assert abs(float(r[1]) - 0.8 * day) <= 0.15 and r[2] == "8/8"
    assert "drift: offsets +0.0 to +2.4 cm-1 (sd 1.0) over 4 spectra, in file order" in out
    assert main(["info", str(folder), "--standard", "polystyrene", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["calibration"]
    assert "offset" not in d and [x["id"] for x in d["spectra"]][:2] == ["day0.txt", "day1.txt"]
    # a spectrum without a band of the standard in its range is named
    np.savetxt(folder / "day9.txt", np.c_[np.arange(1700.0, 1800.0), np.ones(100)])
    assert main(["info", str(folder), "--standard", "polystyrene"]) == 2
    assert "error: spectrum day9.txt: spectra of polystyrene must cover at least one of its " \
           "bands" in capsys.readouterr().err


def test_a_spectrum_sharing_a_band_or_two_with_the_standard_gives_no_offset(rng):
    """Another substance with two bands near polystyrene's: they are found, but two of the
    eight in range are too few to read the instrument's axis from."""
    w = np.arange(500.0, 1800.0, 1.0)
    y = sum(1.0 / (1.0 + ((w - c) / 4.0) ** 2) for c in (1004.0, 1296.0, 1452.5, 1063.0))
    check = check_axis(Spectra((y + rng.normal(0, 0.003, w.size))[None, :], w), "polystyrene")
    assert check.reference.size == 8
    assert check.n_found == 2 and np.isnan(check.offset) and np.isnan(check.spread)
    assert format_check(check).endswith(
        "axis: only 2 of 8 bands found, too few to read an offset; is this a spectrum of "
        "polystyrene?")


def test_bands_beyond_the_search_window_are_not_the_standard(rng):
    # the global shift (+-15) plus the local reach found bands 18 cm-1 off: a spectrum of
    # another substance got an offset of +17.6 cm-1
    w = np.arange(200.0, 3200.0, 1.0)
    far = check_axis(_standard("polystyrene", w, rng, offset=18.0), "polystyrene")
    assert far.n_found == 0 and np.isnan(far.offset)
    near = check_axis(_standard("polystyrene", w, rng, offset=12.0), "polystyrene")
    assert abs(near.offset - 12.0) < 0.3


def test_per_spectrum_table_marks_a_stretched_axis(rng):
    from ramancam.calibration import check_each, format_each

    w = np.arange(200.0, 3200.0, 1.0)
    both = Spectra(np.vstack([_standard("polystyrene", w, rng, offset=2.0).X,
                              _standard("polystyrene", w, rng, stretch=8.0).X]), w)
    text = format_each(check_each(both, "polystyrene"), ["plain", "stretched"])
    lines = text.splitlines()
    assert lines[2].startswith("  plain") and not lines[2].endswith("*")
    assert lines[3].startswith("  stretched") and lines[3].endswith("  *")
    assert "*: the bands' deviations differ by more than" in text and "(1 spectrum)" in text


def test_info_standard_says_when_it_checks_nothing(tmp_path, rng, capsys, monkeypatch):
    # spectra on several axes, more than can be checked one by one: silently no check
    from ramancam.cli import info as info_cli

    monkeypatch.setattr(info_cli, "MAX_STANDARD_SPECTRA", 2)
    for i, step in enumerate((1.0, 1.5, 2.0)):
        w = np.arange(200.0, 1200.0, step)
        write_table(_standard("silicon", w, rng), tmp_path / f"s{i}.csv")
    assert main(["info", str(tmp_path), "--standard", "silicon"]) == 0
    assert ("calibration: not checked: the spectra lie on different axes (their mean needs "
            "one) and 3 are too many to check one by one (at most 2); give the standard's "
            "file alone") in capsys.readouterr().out


def test_a_mineral_checked_as_silicon_is_questioned(rng):
    # silicon has one band: any spectrum with a band within 15 cm-1 of 520.7 gave an offset
    # as if it were silicon
    w = np.arange(200.0, 1200.0, 1.0)
    si = _standard("silicon", w, rng, offset=1.0)
    si_x = si.X[0] + 0.05 / (1 + ((w - 950.0) / 20.0) ** 2)  # its weak second-order band
    good = check_axis(Spectra(si_x[None, :], w), "silicon")
    assert abs(good.offset - 1.0) < 0.2 and np.isnan(good.taller)
    assert "note:" not in format_check(good)
    mineral = (0.2 + 0.15 / (1 + ((w - 512.0) / 4.0) ** 2) + 1.0 / (1 + ((w - 1086.0) / 4.0) ** 2)
               + rng.normal(0, 0.003, w.size))
    bad = check_axis(Spectra(mineral[None, :], w), "silicon")
    assert np.isfinite(bad.offset) and abs(bad.taller - 1086.0) < 1.0
    assert format_check(bad).splitlines()[-1] == (
        "note: the spectrum's strongest band is at 1086.0 cm-1, far stronger than the one "
        "near 520.7 cm-1: a spectrum of silicon has none such. Is this a spectrum of silicon? "
        "If not, the offset above means nothing.")


def test_summary_without_a_novelty_score_speaks_of_no_threshold():
    # calibrate(z, y, None, folds).summary() said "unknown: threshold none (too few held-out
    # spectra)" where no novelty score was fitted at all
    from ramancam.conformal import calibrate

    rng = np.random.default_rng(0)
    z, y, folds = rng.normal(size=(40, 3)), rng.integers(0, 3, 40), np.arange(40) % 4
    assert len(calibrate(z, y, None, folds).summary()) == 1
    few = calibrate(z[:8], y[:8], rng.random(8), folds[:8]).summary()
    assert few[1].startswith("unknown: threshold none (too few held-out spectra)")



def test_per_spectrum_table_aligns_wide_and_combining_ids(rng):
    # ids were padded by len(): '石英.csv' (2 columns a character) pushed its offset two
    # columns right of the others, 'e\u0301tain.csv' (a combining accent) one left
    import unicodedata

    from ramancam.calibration import check_each, format_each

    def columns(text):
        return sum(0 if unicodedata.combining(ch) else
                   2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    w = np.arange(200.0, 3200.0, 1.0)
    three = Spectra(np.vstack([_standard("polystyrene", w, rng, offset=2.0).X] * 3), w)
    lines = format_each(check_each(three, "polystyrene"),
                        ["石英石英石英.csv", "e\u0301tain.csv", "plain"]).splitlines()[1:5]
    at = {columns(line.rsplit("  ", 1)[0]) for line in lines}  # the offset column's end
    assert len(at) == 1, lines
