"""``ramancam info``: called through ``ramancam.cli.main([...])``."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ramancam import Spectra
from ramancam.cli import main
from ramancam.io import write_table


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [["info"], ["info", "--example"]])
def test_info_example(capsys, argv):
    code, out, err = _run(capsys, argv)
    assert code == 0 and err == ""
    assert "built-in example" in out and "synthetic" in out
    assert "spectra:   12" in out
    assert "classes:   3: A (4), B (4), C (4)" in out
    assert "300.0 to 1900.0 cm-1, ascending" in out
    assert "(uneven)" in out and "points:    395" in out and "one common axis" in out
    assert "metadata:  sample" in out


def test_info_table_json(tmp_path, capsys, rng):
    s = Spectra(rng.normal(size=(4, 3)), [500.0, 502.0, 503.0], labels=["x", "y", "x", "x"],
                meta={"batch": ["1", "1", "2", "2"]})
    write_table(s, tmp_path / "t.csv.gz", label_col="kind")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "t.csv.gz"), "--label-col", "kind",
                                 "--json"])
    d = json.loads(out)
    assert code == 0 and d["classes"] == {"x": 3, "y": 1} and d["metadata"] == ["batch"]
    assert (d["axis_min"], d["axis_max"], d["points_min"]) == (500.0, 503.0, 3)
    assert (d["step_min"], d["step_max"]) == (1.0, 2.0)
    code, out, _ = _run(capsys, ["info", str(tmp_path / "t.csv.gz")])
    assert "classes:   none (unlabelled" in out and "metadata:  kind, batch" in out
    assert "may hold them" not in out  # 'kind' is not a name info recognises
    from ramancam.cli._common import label_like

    assert label_like(["x", "y", "title"]) == []  # a map's y is a position
    assert label_like(["id", "y"]) == ["y"] and label_like(["Label ", "x"]) == ["Label "]
    write_table(s, tmp_path / "c.csv", label_col="Class")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "c.csv")])
    assert ("classes:   none (unlabelled; give --label-col or --labels-from; column 'Class' "
            "may hold them: --label-col Class)") in out


@pytest.mark.parametrize("first", [0.0, 1.0])
def test_info_says_channels_for_a_channel_axis(tmp_path, capsys, rng, first):
    # 'ramancam simulate' writes channels 0..1023 (MATLAB, R, spreadsheets number 1..1024):
    # info printed "axis: 0.0 to 1023.0 cm-1" and "spacing: ... 1 cm-1" for them
    axis = np.arange(first, first + 1024.0)
    write_table(Spectra(rng.random((3, 1024)), axis), tmp_path / "ch.csv")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "ch.csv")])
    assert code == 0
    assert f"  axis:      {first:.1f} to {first + 1023:.1f} channels, ascending\n" in out
    assert "  spacing:   min 1, median 1, max 1 channels (even)\n" in out
    assert "cm-1" not in out.split("metadata:")[0]
    # Raman shifts every 1 cm-1 from 400 stay cm-1
    write_table(Spectra(rng.random((3, 1024)), axis + 400), tmp_path / "cm.csv")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "cm.csv")])
    assert f"  axis:      {first + 400:.1f} to {first + 1423:.1f} cm-1, ascending\n" in out


def test_info_says_cm1_for_raman_shifts_from_1_in_steps_of_1(tmp_path, capsys, rng):
    # since 227432c any axis 1, 2, ... was "channels": a two-column file titled
    # 'Raman shift (cm-1)' and a wide table headed '1 cm-1 ... 2000 cm-1' among them
    x = np.arange(1.0, 2001.0)
    (tmp_path / "s.txt").write_text("Raman shift (cm-1)\tIntensity\n" + "".join(
        f"{a:g}\t{b:.4f}\n" for a, b in zip(x, rng.random(x.size), strict=True)))
    (tmp_path / "w.csv").write_text(",".join(f"{a:g} cm-1" for a in x) + "\n" + ",".join(
        f"{b:.4f}" for b in rng.random(x.size)) + "\n")
    for name in ("s.txt", "w.csv"):
        code, out, _ = _run(capsys, ["info", str(tmp_path / name)])
        assert code == 0 and "  axis:      1.0 to 2000.0 cm-1, ascending\n" in out
    # a stated Raman-shift unit wins over the numbers: JCAMP-DX ##XUNITS=1/CM on 1..1024
    from ramancam.io.summary import describe

    s = Spectra(rng.random((2, 1024)), np.arange(1.0, 1025.0),
                meta={"xunits": np.array(["1/CM", "1/CM"])})
    assert describe(s)["channels"] is False
    assert describe(Spectra(s.X, s.wavenumbers))["channels"] is True


def test_info_of_a_model_trained_on_a_grid_says_cm1(tmp_path, capsys, rng):
    # --grid 1:1024:1 names Raman shifts: the model's grid was described in channels
    from _toy_sets import FAST

    x = np.arange(1.0, 2001.0)  # Raman shifts from 1 cm-1 (no detector's channels)
    X = np.exp(-0.5 * ((x - np.repeat([300.0, 700.0], 4)[:, None]) / 5) ** 2)
    write_table(Spectra(X + 0.01 * rng.random(X.shape), x, np.repeat(["a", "b"], 4)),
                tmp_path / "t.csv", label_col="label")
    out = tmp_path / "g.ramancam"
    assert main(["train", str(tmp_path / "t.csv"), "--label-col", "label", *FAST[2:],
                 "--recipe", "paper-grid",
                 "--grid", "1:1024:1", "--folds", "2", "--no-compare", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    code, text, _ = _run(capsys, ["info", str(out)])
    assert code == 0 and "  grid:      1 to 1024 cm-1, step 1 (1024 points)\n" in text


def test_info_of_a_model_trained_on_channels_says_channels(tmp_path_factory, capsys):
    # a model trained on 'ramancam simulate' data printed "grid: 0 to 1023 cm-1" and
    # "(axis 0.0 to 1023.0 cm-1)"
    from _toy_sets import fast_model, peaks_table

    model = fast_model(peaks_table(tmp_path_factory, n_per_class=3, seed=5))
    capsys.readouterr()
    code, out, _ = _run(capsys, ["info", str(model)])
    assert code == 0
    assert "  grid:      0 to 1023 channels, step 1 (1024 points)\n" in out
    assert "(axis 0.0 to 1023.0 channels)\n" in out


def test_info_folder_with_differing_axes(tmp_path, capsys):
    for label, n in (("a", 5), ("b", 7)):
        (tmp_path / label).mkdir()
        x = np.linspace(100.0, 200.0, n)
        (tmp_path / label / "s.txt").write_text(
            "\n".join(f"{v!r}\t1.0" for v in x.tolist()), encoding="utf-8")
    code, out, _ = _run(capsys, ["info", str(tmp_path), "--labels-from", "folder"])
    assert code == 0
    assert "spectra:   2 from 2 files" in out and "classes:   2: a (1), b (1)" in out
    assert "points:    5 to 7 per spectrum" in out
    assert "differ between spectra (2 distinct)" in out
    # as many points on other axes; a laser that one file of two gives
    (tmp_path / "b" / "s.txt").write_text(
        "#Acq. time (s)=\t10\n#Accumulations=\t2\n#Laser=\t785\n"
        + "\n".join(f"{v!r}\t1.0" for v in np.linspace(101.0, 199.0, 5).tolist()),
        encoding="utf-8")
    code, out, _ = _run(capsys, ["info", str(tmp_path), "--labels-from", "folder"])
    assert "points:    5 per spectrum" in out
    assert "laser:     785 nm (1 of 2 spectra say; the others do not)" in out


def test_info_on_a_folder_of_a_map_and_single_spectra_says_which_lack_positions(
        tmp_path, capsys):
    from ramancam.io import read

    axis = np.linspace(400.0, 500.0, 20)
    grid_xy = [(x, y) for y in range(2) for x in range(3)]
    write_table(Spectra(np.ones((6, 20)), axis, meta={"x": [p[0] for p in grid_xy],
                                                       "y": [p[1] for p in grid_xy]}),
                tmp_path / "map.csv")
    (tmp_path / "single.txt").write_text("\n".join(f"{v!r}\t1.0" for v in axis.tolist()))
    (tmp_path / "other.txt").write_text("\n".join(f"{v!r}\t2.0" for v in axis.tolist()))
    assert len(read(tmp_path)) == 8
    code, out, _ = _run(capsys, ["info", str(tmp_path)])
    # every file without positions is named (only the first was)
    assert code == 0 and (f"grid:      x/y positions do not form a grid (only 6 of 8 spectra "
                          f"have positions, not those of {tmp_path / 'other.txt'}, "
                          f"{tmp_path / 'single.txt'}; read the map's file alone)") in out


def test_info_plot_draws_the_first_spectra_of_each_class_on_their_own_axes(
        tmp_path, capsys, monkeypatch):
    import ramancam.plot

    drawn = {}
    real = ramancam.plot.class_stack

    def spy(names, lines, **kw):
        drawn.update(names=list(names), lines=lines, bands=kw.get("bands"))
        return real(names, lines, **kw)

    monkeypatch.setattr(ramancam.plot, "class_stack", spy)
    for label, n, k in (("a", 5, 7), ("b", 9, 2)):
        (tmp_path / label).mkdir()
        for j in range(k):
            x = np.linspace(100.0, 200.0 + j, n)
            (tmp_path / label / f"s{j}.txt").write_text(
                "\n".join(f"{v!r}\t{j + 1.0}" for v in x.tolist()), encoding="utf-8")
    fig = tmp_path / "classes.png"
    code, out, _ = _run(capsys, ["info", str(tmp_path), "--labels-from", "folder", "--plot",
                                 str(fig)])
    assert code == 0 and f"wrote a figure of 2 classes to {fig}" in out
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn["names"] == ["a", "b"] and drawn["bands"] is None
    assert [len(c) for c in drawn["lines"]] == [5, 2]  # at most 5 per class
    assert [a.size for a, _ in drawn["lines"][1]] == [9, 9]  # each on its own axis
    assert [float(a[-1]) for a, _ in drawn["lines"][0]] == [200.0, 201.0, 202.0, 203.0, 204.0]
    code, _, err = _run(capsys, ["info", str(tmp_path), "--plot", str(tmp_path / "c.txt")])
    assert code == 2 and "--plot must end in .png, .pdf or .svg" in err
    code, _, err = _run(capsys, ["info", "--plot", str(tmp_path / "no" / "c.png")])
    assert code == 2 and "--plot must be in an existing folder" in err


@pytest.mark.parametrize(("argv", "match"), [
    (["info", "nope.csv"], "error: path must be an existing file or folder; got 'nope.csv'"),
    (["info", "EX", "--example"], "error: PATH and --example exclude each other"),
    (["info", "EX", "--label-col", "missing"], "error: file .* label column must be one of"),
])
def test_info_errors_exit_2_with_one_line(tmp_path, capsys, argv, match):
    import re

    from ramancam.io import example_path

    argv = [str(example_path()) if a == "EX" else a for a in argv]
    code, out, err = _run(capsys, argv)
    assert code == 2 and out == ""
    assert re.match(match, err) and err.count("\n") == 1


def test_info_label_options_exclusive(capsys):
    code, _, err = _run(capsys, ["info", "x", "--label-col", "a", "--labels-from", "folder"])
    assert code == 2 and "not allowed with argument" in err


def test_info_real_data(shared_data, capsys):
    code, out, _ = _run(capsys, ["info", str(shared_data / "drug-mabs" / "spectra.csv.gz"),
                                 "--label-col", "label"])
    assert code == 0
    assert "spectra:   999" in out and "classes:   4: A (243), B (259), Q (237), R (260)" in out
    assert "points:    1866" in out and "400.1 to 3999.4 cm-1" in out
    code, out, _ = _run(capsys, ["info", str(shared_data / "rruff-sample"),
                                 "--labels-from", "header:NAMES"])
    assert code == 0 and "spectra:   84 from 84 files" in out and "classes:   12:" in out
    assert "differ between spectra" in out
    code, out, _ = _run(capsys, ["info", str(shared_data / "amino-acids"),
                                 "--labels-from", r"regex:(.+)\.txt"])
    assert code == 0 and "spectra:   13 from 13 files" in out and "classes:   13:" in out


def test_info_names_flat_and_clipped_spectra(tmp_path, capsys, rng):
    w = np.linspace(300.0, 2000.0, 200)
    X = 1000.0 + 500.0 * np.exp(-((w - 1000.0) / 8.0) ** 2) + rng.normal(0, 5, (6, w.size))
    X[1] = 0.0                                     # a dead spectrum
    X[3, 60:64] = 65535.0                          # 16-bit limit, 4 points (inside 350-1800)
    X[4, 100:103] = X[4].max() + 7.0               # any value held 3 points in a row
    X[5, 10:12] = 4095.0                           # 12-bit limit, 2 points
    ids = [f"s{i}" for i in range(6)]
    write_table(Spectra(X, w, meta={"id": ids}), tmp_path / "t.csv")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "t.csv")])
    assert code == 0
    assert ("  flat:      1 spectrum with one value or a straight line throughout (s1): "
            "normalising recipes refuse "
            "such spectra; train leaves them out, predict marks them unknown") in out
    line = next(ln for ln in out.splitlines() if ln.startswith("  clipped:"))
    assert line.startswith("  clipped:   3 spectra held at ")
    assert "4095 (a 12-bit detector's limit)" in line
    assert "65535 (a 16-bit detector's limit)" in line
    assert "over 2-4 points" in line and "(first: s3)" in line
    assert "inside the default grid (350-1800 cm-1)" in line
    code, out, _ = _run(capsys, ["info", str(tmp_path / "t.csv"), "--json"])
    d = json.loads(out)
    assert d["flat"] == ["s1"] and d["clipped"]["n"] == 3 and d["clipped"]["in_default_grid"]
    assert d["clipped"]["at_end"] == 0  # none is clipped at its first or last point
    # two equal maxima that are no detector's limit are not clipping; clean data: no lines
    X = 1000.0 + rng.normal(0, 5, (3, w.size))
    X[0, 50:52] = 5000.0
    write_table(Spectra(X, w), tmp_path / "ok.csv")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "ok.csv")])
    assert code == 0 and "flat:" not in out and "clipped:" not in out
    assert "values:" not in out


def test_info_names_values_no_detector_counts(tmp_path, capsys, rng):
    w = np.linspace(300.0, 2000.0, 200)
    X = 1000.0 + rng.normal(0, 5, (3, w.size))
    X[2, 50] = 3.4e38
    write_table(Spectra(X, w, meta={"id": ["s0", "s1", "s2"]}), tmp_path / "t.csv")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "t.csv")])
    assert code == 0
    assert (f"  values:    1 spectrum holds values no detector counts (beyond +-1e+15: 3.4e+38 "
            f"at {w[50]:.1f} cm-1 in s2): a misread file or a 'no data' value; check the "
            "files; train and predict use them as read") in out
    code, out, _ = _run(capsys, ["info", str(tmp_path / "t.csv"), "--json"])
    assert json.loads(out)["implausible"] == [
        {"id": "s2", "points": 1, "value": 3.4e38, "at": float(w[50])}]


def test_info_finds_the_saturated_spectra_of_real_sets(shared_data, capsys):
    code, out, _ = _run(capsys, ["info", str(shared_data / "bacteria-spc")])
    assert code == 0
    assert ("clipped:   26 spectra held at 65535 (a 16-bit detector's limit) over 2-6 points, "
            "at 110.1-131.9 cm-1") in out and "outside the default grid" in out
    # the Rayleigh edge is the first point of those spectra: the paper's baseline starts there
    assert ("but at the first or last point of 26, through which the paper recipe's straight "
            "baseline runs") in out
    code, out, _ = _run(capsys, ["info", str(shared_data / "saliva-pd-ad")])
    assert code == 0 and "clipped:   62 spectra held at 64500 over 4-936 points" in out
    assert "inside the default grid" in out


def test_sigterm_leaves_no_half_written_file(tmp_path, monkeypatch, capsys):
    """kill (SIGTERM, a batch system's time limit) mid-write: the temporary file goes, as
    after Ctrl-C, the command ends with status 143 and one line, and the handler before the
    command is back afterwards."""
    import os
    import signal
    import threading

    import ramancam.cli.info as info_cmd
    from ramancam.io import atomic_write

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set on the main thread")

    def run(args):
        with atomic_write(tmp_path / "out.csv") as fh:
            fh.write("half")
            os.kill(os.getpid(), signal.SIGTERM)
        return 0

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(info_cmd, "run", run)
    assert main(["info", "x"]) == 143
    assert capsys.readouterr().err == "error: terminated\n"
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is before


def _signal_in_a_gc_callback(monkeypatch, signum):
    """Send ``signum`` while Python runs a gc callback, where an exception cannot go (as in
    matplotlib's weakref clean-up while a figure is drawn): the handler's exception is
    dropped, as the audit's harness made it, deterministically."""
    import gc
    import os
    import sys

    sim = sys.modules["ramancam.simulate"]
    real = sim.peak_position_set

    def cb(phase, info):
        if phase == "start" and not fired:
            fired.append(1)
            os.kill(os.getpid(), signum)

    fired: list[int] = []

    def peaks(*args, **kwargs):
        gc.callbacks.append(cb)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(cb)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim, "peak_position_set", peaks)
    return fired


@pytest.mark.parametrize("signame, code, line", [("SIGTERM", 143, "terminated"),
                                                 ("SIGINT", 130, "interrupted")])
def test_a_signal_python_drops_still_stops_the_run(tmp_path, monkeypatch, capsys, signame,
                                                     code, line):
    """SIGTERM raised in a gc callback was dropped ("Exception ignored in: ... raise
    _Terminated") and, unlike Ctrl-C, noted nowhere: the run went on, replaced the earlier
    file and ended with status 0. Either signal now ends it with its status and one line,
    the earlier file kept; Python's "Exception ignored in: ..." traceback of the dropped
    exception is not printed before it."""
    import signal
    import sys
    import threading

    import ramancam.simulate  # noqa: F401  (the module the callback is sent from)
    from ramancam import _interrupt

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set on the main thread")
    out = tmp_path / "p.csv"
    out.write_text("earlier\n")
    fired = _signal_in_a_gc_callback(monkeypatch, getattr(signal, signame))
    # Python's own hook, which prints to stderr (pytest's collects them as warnings)
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    assert main(["simulate", "peaks", "--out", str(out)]) == code
    assert fired == [1]
    assert out.read_text() == "earlier\n" and [p.name for p in tmp_path.iterdir()] == ["p.csv"]
    assert capsys.readouterr().err == f"error: {line}\n"
    assert sys.unraisablehook is sys.__unraisablehook__
    assert not _interrupt.INTERRUPTED.is_set() and not _interrupt.TERMINATED.is_set()


def test_running_out_of_memory_is_one_line_naming_the_way_out(tmp_path, monkeypatch, capsys):
    # A file too large to read whole ends in one line that names `ramancam convert` (the
    # tiled path for maps), not in a traceback.
    import ramancam.cli._common as cli_common

    def too_large(*a, **k):
        raise MemoryError

    monkeypatch.setattr(cli_common, "read_data", too_large)
    path = tmp_path / "t.csv"
    path.write_text("id,400,401,402\na,1,2,3\nb,4,5,6\n")
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: not enough memory")
    assert "ramancam convert MAP OUT.zarr" in err


def test_an_unknown_option_is_named_with_the_commands_own_usage(capsys):
    # it printed the top-level usage ("usage: ramancam [-h] [--version] COMMAND ...")
    assert main(["info", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ramancam info ")
    assert err.rstrip().endswith("ramancam info: error: unrecognized arguments: --bogus")


def test_a_terminal_is_shown_control_characters_from_files_escaped():
    # a class name '\x1b]0;pwned\x07\x1b[2J' set the terminal's title and cleared it
    import io

    from ramancam.cli._streams import safe_terminal

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    safe_terminal(tty).write("class \x1b]0;pwned\x07\x1b[2Jx\tok\n 50%\r")
    assert tty.getvalue() == "class \\x1b]0;pwned\\x07\\x1b[2Jx\tok\n 50%\r"
    plain = io.StringIO()  # a file or a pipe gets the text as it is
    assert safe_terminal(plain) is plain


def test_info_names_the_format_of_utf16_and_bom_files(tmp_path, capsys):
    from ramancam.io import read

    long = "id,label,shift,intensity\n" + "".join(
        f"s{i},A,{400 + j},{j + i}\n" for i in range(3) for j in range(10))
    (tmp_path / "long16.csv").write_text(long, encoding="utf-16")
    rruff = "##NAMES=Quartz\n##RRUFFID=R1\n" + "".join(
        f"{400 + j}, {j}\n" for j in range(10)) + "##END=\n"
    (tmp_path / "rruff.txt").write_text(rruff, encoding="utf-8-sig")
    code, out, _ = _run(capsys, ["info", str(tmp_path / "long16.csv")])
    assert code == 0 and "format:    long table (a row per point)" in out
    code, out, _ = _run(capsys, ["info", str(tmp_path / "rruff.txt"), "--labels-from",
                                 "header:NAMES"])
    assert code == 0 and "format:    RRUFF text" in out and "classes:   1: Quartz (1)" in out
    # labels by file name: no longer refused as if the long table were a wide one
    s = read(tmp_path / "long16.csv", labels_from="regex:(long)")
    assert s.labels.tolist() == ["long"] * 3


def test_info_counts_each_format_of_a_mixed_folder(tmp_path, capsys):
    from _vendor_files import spc_bytes

    axis = np.linspace(400.0, 500.0, 20)
    (tmp_path / "a.spc").write_bytes(spc_bytes(axis, np.ones((1, 20))))
    for name in ("b.txt", "c.txt"):
        (tmp_path / name).write_text("".join(f"{x:g}\t1\n" for x in axis), encoding="ascii")
    code, out, _ = _run(capsys, ["info", str(tmp_path)])
    assert code == 0
    assert "format:    Galactic SPC (1 file), two-column text (2 files)\n" in out


def test_missing_glyphs_of_class_names_are_one_warning_line(tmp_path):
    # Chinese class names on a machine without a CJK font: matplotlib's "Glyph 20013 ...
    # missing from font(s)" came several times per figure, with file and source line
    import io
    import subprocess
    import sys
    import warnings

    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().set_title("中文")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    missing = any(re.search("missing from (current )?font", str(w.message)) for w in seen)
    rows = ["label," + ",".join(str(v) for v in range(400, 420))]
    rows += [f"{lab}," + ",".join(f"{1 + (i * j) % 7 / 7:.3f}" for j in range(20))
             for lab in ("中文", "甲乙", "abc") for i in range(1, 4)]
    (tmp_path / "cjk.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ramancam", "info", str(tmp_path / "cjk.csv"),
                           "--label-col", "label", "--plot", str(tmp_path / "c.png")],
                          capture_output=True, text=True, check=True)
    assert "Glyph" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "font has no glyph" in line]
    assert said == ([] if not missing else [
        "warning: the plots' font has no glyph for '中' (and maybe other characters of the "
        "names), drawn as empty boxes; install a font that has them (e.g. Noto Sans CJK) to "
        "see them"])
    assert (tmp_path / "c.png").is_file()


@pytest.mark.parametrize("text", [
    # matplotlib 3.9 and later; 3.8, the lowest it may be (its warning went through whole)
    "Glyph 20013 (\\N{CJK UNIFIED IDEOGRAPH-4E2D}) missing from font(s) DejaVu Sans.",
    "Glyph 20013 (\\N{CJK UNIFIED IDEOGRAPH-4E2D}) missing from current font."])
def test_a_missing_glyph_is_said_in_our_words_in_either_matplotlib_wording(text):
    import warnings

    from ramancam.cli import _plain_warnings

    with _plain_warnings():
        said = warnings.formatwarning(UserWarning(text), UserWarning, "info.py", 183)
        again = warnings.formatwarning(UserWarning(text.replace("20013", "25991")),
                                       UserWarning, "info.py", 183)
    assert said == ("warning: the plots' font has no glyph for '中' (and maybe other "
                    "characters of the names), drawn as empty boxes; install a font that has "
                    "them (e.g. Noto Sans CJK) to see them\n")
    assert again == ""  # one line for every character and figure


def test_ctrl_c_while_the_commands_are_imported_is_one_line(monkeypatch, capsys):
    # building the parser imports every command's module (pybaselines, ...): a Ctrl-C in
    # that first second printed a 40-90 line traceback
    import ramancam.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["info", "x.csv"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


@pytest.mark.parametrize("step", ["_expand_home", "_stop_on_sigterm"])
def test_ctrl_c_between_parsing_and_the_command_is_one_line(monkeypatch, capsys, step):
    # between the parser's guard and the command's (importing matplotlib and the error
    # helpers, setting the signal handlers: the first ~0.4 s) a Ctrl-C printed a traceback
    import ramancam.cli as cli

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, step, interrupted)
    assert cli.main(["info", "x.csv"]) == 130
    assert capsys.readouterr() == ("", "error: interrupted\n")


def test_an_unwritable_out_folder_is_named_as_given(tmp_path, monkeypatch, capsys):
    # the message named a probe file the user never gave ('ro/probe')
    import tempfile

    def refuse(*args, **kw):
        raise PermissionError(13, "Permission denied")

    (tmp_path / "ro").mkdir()
    (tmp_path / "d.csv").write_text("label,400,401,402\na,1,2,3\nb,3,2,1\n")
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    for out in (tmp_path / "ro", tmp_path / "ro" / "b"):
        assert main(["baseline", str(tmp_path / "d.csv"), "--label-col", "label", "--model",
                     "library", "--out", str(out)]) == 2
        assert capsys.readouterr().err == (
            f"error: --out must be in a folder you can write to; got {str(out)!r} "
            "(Permission denied). Write it elsewhere.\n")


def test_train_and_info_name_the_same_winner_of_a_tie_and_baselines_tune_alike():
    # CNN folds 1/3, 1/3 against PLS-DA 5/12, 1/4: train named the CNN, info PLS-DA
    # (0.33333333333333337 > 0.3333333333333333); the inner search took 5 components over 1
    from ramancam.baselines import _best
    from ramancam.cli.info import format_model
    from ramancam.cli.train import format_winner
    from ramancam.train import CVResult

    cv = CVResult(classes=["a", "b"], fold_accuracy=[1 / 3, 1 / 3],
                  confusion=np.zeros((2, 2), int), oof_pred=np.array([]),
                  oof_proba=np.zeros((0, 2)), fold_of=np.array([]), labels=np.array([]),
                  baselines={"PLS-DA": [5 / 12, 1 / 4]}, fold_sizes=[(12, 12), (12, 12)])
    assert format_winner(cv).splitlines()[0] == "winner: CNN (mean accuracy 0.333)"
    d = cv.to_dict()
    model = {"versions": {}, "training_data": {}, "classes": ["a", "b"],
             "grid": {"start": 0, "stop": 1, "n_points": 2, "step": 1}, "recipe": "x",
             "architecture": {}, "training": {},
             "cv": {k: d[k] for k in ("kind", "n_folds", "fold_sizes", "fold_accuracy",
                                      "mean", "std", "baselines", "baseline_summary",
                                      "confusion", "classes")}}
    line = next(ln for ln in format_model("m.ramancam", model).splitlines()
                if "accuracy:" in ln)
    assert line.endswith("; winner CNN")
    params = [{"n_components": 1}, {"n_components": 5}]
    assert _best(params, np.array([[4 / 12, 4 / 12], [5 / 12, 3 / 12]]))[0] == 0


def test_info_confusion_matrix_escapes_a_line_break_in_a_class_name():
    # the classes line escaped it; the matrix printed it raw and split its own rows
    from ramancam.cli.info import _confusion_lines

    lines = _confusion_lines([[3, 1], [0, 4]], ["a\nb", "c"])
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert "a\\nb" in lines[0] and lines[1].lstrip().startswith("a\\nb")


def test_info_plot_titles_name_the_file_not_its_whole_path(tmp_path, capsys, monkeypatch):
    # the title of the 8-inch figure was the path as given: a 103-character path was cut at
    # both ends and lost the "+- sd" of "class means ... +- sd"
    from types import SimpleNamespace

    import ramancam.plot
    from ramancam.cli import info

    titles: list[str] = []
    real = ramancam.plot.class_stack

    def spy(names, lines, **kw):
        titles.append(kw["title"])
        return real(names, lines, **kw)

    monkeypatch.setattr(ramancam.plot, "class_stack", spy)
    deep = tmp_path / ("a_rather_long_folder_name_for_the_project" * 2) / "models_2026"
    deep.mkdir(parents=True)
    x = np.linspace(400.0, 1800.0, 30)
    bundle = SimpleNamespace(references=True, classes=["a", "b"], grid=x,
                             class_reference=lambda c: (np.ones(30), np.full(30, 0.1)))
    info._plot_model(str(tmp_path / "m.png"), bundle, str(deep / "chondro_spatial.ramancam"))
    assert titles[-1] == ("chondro_spatial.ramancam\nclass means of the preprocessed "
                          "training spectra +- sd")
    (deep / "spectra.csv").write_text(
        "label," + ",".join(f"{v!r}" for v in x.tolist()) + "\n"
        + "".join(f"{c}," + ",".join("1.0" for _ in x) + "\n" for c in "ab"), encoding="utf-8")
    code, _, _ = _run(capsys, ["info", str(deep / "spectra.csv"), "--label-col", "label",
                               "--plot", str(tmp_path / "s.png")])
    assert code == 0 and titles[-1] == "spectra.csv: up to 5 spectra per class, as read"
    assert not [t for t in titles if "/" in t or "a_rather" in t]


@pytest.mark.usefixtures("one_torch_thread")
def test_info_on_a_model_file_leaves_torch_unimported(tmp_path_factory, tmp_path):
    """``info MODEL`` built the network to print the file's settings: it imported torch
    (2.6 of its 3.6 s on a 2-core machine). It reads the settings and arrays with numpy
    now, checked as load checks them, and prints the same."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import ramancam
    from _model_files import rewrite_model
    from _toy_sets import fast_model, peaks_table

    model = fast_model(peaks_table(tmp_path_factory, n_per_class=3, seed=5))
    code = ("import sys; from ramancam.cli import main; rc = main(sys.argv[1:]); "
            "print('torch imported:', 'torch' in sys.modules); sys.exit(rc)")

    src = str(Path(ramancam.__file__).resolve().parents[1])  # the ramancam under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH")) if p)}

    def info(*argv):
        return subprocess.run([sys.executable, "-c", code, "info", *map(str, argv)],
                              capture_output=True, text=True, timeout=120, env=env)

    for argv in ([model], [model, "--json"]):
        run = info(*argv)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert run.stdout.endswith("torch imported: False\n")
    # a file whose weights are damaged is refused as load refuses it, still without torch
    import numpy as np
    from safetensors.numpy import load, save

    with __import__("zipfile").ZipFile(model) as zf:
        weights = load(zf.read("weights.safetensors"))
    weights["fc2.bias"] = np.full_like(weights["fc2.bias"], np.nan)
    bad = rewrite_model(model, tmp_path / "nan.ramancam", weights=save(weights))
    run = info(bad)
    assert run.returncode == 2 and run.stdout == "torch imported: False\n"
    assert run.stderr == (f"error: {bad}: weight 'fc2.bias' must be finite; got NaN or inf. "
                          "The file is damaged.\n")


@pytest.mark.parametrize("name", ["book.xlsx", "book.csv", "model.zip"])
def test_a_zip_of_an_unknown_version_is_one_line_whatever_its_suffix(tmp_path, capsys, name):
    # a central directory entry whose "version needed" is 25.5: is_model_file caught only
    # BadZipFile and OSError, and info ended in zipfile's NotImplementedError traceback
    import struct

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["label", 400.0, 500.0])
    wb.active.append(["A", 1.0, 2.0])
    wb.save(tmp_path / "good.xlsx")
    data = bytearray((tmp_path / "good.xlsx").read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first central directory entry
    struct.pack_into("<H", data, entry + 6, 255)  # version needed to extract: 25.5
    (tmp_path / name).write_bytes(bytes(data))
    assert main(["info", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: file {tmp_path / name} "), err


def _columns(text: str) -> int:
    """Terminal columns of ``text``, counted independently of ramancam: East Asian wide
    and fullwidth characters 2, combining marks 0."""
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_text_width_counts_terminal_columns():
    from ramancam._labels import pad, text_width

    assert text_width("石英") == 4 and text_width("e\u0301tain") == 5
    assert text_width("quartz") == 6 and text_width("") == 0
    assert pad("石英", 6) == "石英  " and pad("石英", 6, ">") == "  石英"
    assert pad("e\u0301", 3) == "e\u0301  " and pad("long", 2) == "long"


def test_info_confusion_matrix_aligns_wide_and_combining_class_names():
    # '石英' (2 columns a character) and 'étain' with a combining accent were padded by
    # len(): their rows and the header ran 2 columns short or 1 column long of the others
    from ramancam.cli.info import _confusion_lines

    lines = _confusion_lines([[3, 1, 0], [0, 4, 12], [1, 0, 5]],
                             ["石英", "e\u0301tain", "quartz"])
    assert len({_columns(line) for line in lines}) == 1, lines
    assert lines[1].lstrip().startswith("石英") and lines[2].lstrip().startswith("e\u0301tain")
    # wide names count double toward the width at which columns are numbered instead
    wide = _confusion_lines([[0] * 5] * 5, [f"{'石' * 9}{k}" for k in range(5)])
    assert wide[0].split() == ["1", "2", "3", "4", "5"]
    assert len({_columns(line) for line in wide}) == 1, wide
