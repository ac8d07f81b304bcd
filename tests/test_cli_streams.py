"""The command line in scripts and pipelines: outputs that are not regular files, and (run
as a separate process) closed, full or cut standard streams and output encodings."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from _toy_sets import FAST, fast_model, peaks_table
from ramancam.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def peaks_file(tmp_path_factory):
    return peaks_table(tmp_path_factory, n_per_class=3, seed=3)


@pytest.fixture(scope="module")
def model_file(peaks_file):
    return fast_model(peaks_file)


# ------------------------------------------------------------------------- exit statuses
def test_no_command_is_a_usage_error_with_its_help_on_stderr_and_help_names_the_statuses(
        capsys):
    # 'ramancam' alone printed the whole help on stdout and returned 2: 'ramancam > out'
    # caught help text as data while the run counted as failed; the statuses (130, 141,
    # 143) were written nowhere a user looks
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: ramancam ")
    assert main(["--help"]) == 0
    out, err = capsys.readouterr()
    table = out[out.index("exit status:"):].splitlines()
    assert [line.split()[0] for line in table[1:] if not line.startswith("       ")] == [
        "0", "1", "2", "130", "141", "143"]


# ----------------------------------------------------------------- outputs that are no file
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_an_out_that_is_a_fifo_is_refused_before_any_work(peaks_file, model_file, tmp_path,
                                                          capsys):
    # the output was renamed over the FIFO, which became a regular file (its reader waited
    # for ever); as root, 'predict ... --out /dev/null' replaced the machine's /dev/null
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    runs = {"predict": ["predict", str(model_file), str(peaks_file), "--out", str(fifo)],
            "explain": ["explain", str(model_file), str(peaks_file), "--method", "fc",
                        "--out", str(fifo)],
            "train": ["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                      "--no-compare", "--out", str(fifo)],
            "baseline": ["baseline", str(peaks_file), "--label-col", "label", "--recipe",
                         "none", "--folds", "2", "--model", "library", "--out", str(fifo)]}
    for name, argv in runs.items():
        assert main(argv) == 2, name
        out, err = capsys.readouterr()
        what = {"train": "file", "baseline": "folder"}.get(name, "file or folder")
        assert err.startswith(f"error: --out must name a {what} (or a new name); got "
                              f"{str(fifo)!r}, which is a FIFO (named pipe)"), err
        assert len(err.splitlines()) == 1 and out == "", name  # nothing done: no fold line
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.csv"]


def test_an_out_that_is_a_link_writes_the_file_it_points_to(peaks_file, model_file,
                                                            tmp_path):
    # the link became a file of its own and the file it pointed to kept the old content
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "preds.csv").write_text("old")
    link = tmp_path / "preds.csv"
    link.symlink_to(Path("real") / "preds.csv")
    assert main(["predict", str(model_file), str(peaks_file), "--out", str(link)]) == 0
    assert link.is_symlink()
    assert (tmp_path / "real" / "preds.csv").read_text().startswith("id,predicted,")
    mlink = tmp_path / "model.ramancam"
    mlink.symlink_to(tmp_path / "real" / "model.ramancam")  # a link to a new file
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--out", str(mlink)]) == 0
    assert mlink.is_symlink() and (tmp_path / "real" / "model.ramancam").is_file()
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["model.ramancam",
                                                                     "preds.csv"]


def test_an_out_that_is_a_link_loop_is_refused_in_one_line(peaks_file, tmp_path, capsys):
    # a link that leads back to itself: Path.resolve raised RuntimeError, a traceback
    loop = tmp_path / "loop.ramancam"
    loop.symlink_to(loop.name)
    report = tmp_path / "loop.html"
    report.symlink_to(report.name)
    table = tmp_path / "loop.csv"
    table.symlink_to(table.name)
    for argv in (["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                  "--no-compare", "--out", str(loop)],
                 ["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                  "--no-compare", "--out", str(tmp_path / "m.ramancam"),
                  "--report", str(report)],
                 ["simulate", "peaks", "--out", str(table)]):
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and "link" in err[0], err
    assert not (tmp_path / "m.ramancam").exists()


# ------------------------------------------------------- standard streams (a separate process)
def _shell(redirect: str, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``ramancam ARGV REDIRECT`` run by ``sh`` (``2>&-`` closes stderr, which a
    ``subprocess`` argument cannot); stdout and stderr captured unless the redirect says
    otherwise. The ramancam under test comes first on the module path."""
    import ramancam

    src = str(Path(ramancam.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    # stdout buffered as a user's is (a pipe, a file): PYTHONUNBUFFERED set where the tests
    # run hid that the header of train came out after its fold lines, or at its end
    plain = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(["sh", "-c", f'"$@" {redirect}', "sh", sys.executable, "-m",
                           "ramancam", *argv], capture_output=True, text=True,
                          env={**plain, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", **env})


posix_shell = pytest.mark.skipif(os.name == "nt", reason="closes streams with sh")


@posix_shell
def test_a_closed_stderr_keeps_stdout_data_only_and_train_runs(peaks_file, model_file,
                                                               tmp_path):
    # with stderr closed, Python's print(file=None) wrote the summary lines to stdout, at the
    # end of the CSV there; train stopped with status 1 and no model
    # (sys.stderr.isatty() in its progress bar), its traceback lost with stderr
    preds = tmp_path / "preds.csv"
    p = _shell(f"2>&- > {preds}", "predict", str(model_file), str(peaks_file))
    assert p.returncode == 0
    lines = preds.read_text().splitlines()
    assert len(lines) == 1 + 9 and lines[0].startswith("id,predicted,")
    assert {line.count(",") for line in lines} == {lines[0].count(",")}
    model = tmp_path / "m.ramancam"
    p = _shell("2>&-", "train", str(peaks_file), "--label-col", "label", *FAST, "--folds",
               "2", "--no-compare", "--out", str(model))
    assert p.returncode == 0 and model.is_file() and "saved" in p.stdout


@posix_shell
def test_a_closed_stdout_is_said_in_one_line_and_the_files_are_written(peaks_file, model_file,
                                                                       tmp_path):
    # predict and explain ended in a traceback (HeldScreen wrote to None); info returned 0
    # having printed nothing
    preds = tmp_path / "p.csv"
    for argv in (["info", str(model_file)], ["predict", str(model_file), str(peaks_file)],
                 ["predict", str(model_file), str(peaks_file), "--out", str(preds)]):
        p = _shell(">&-", *argv)
        assert p.returncode == 2, argv
        assert p.stderr.splitlines()[-1] == (
            "error: could not write to standard output (it is closed): the printed output "
            "was lost; the command ran to its end (files it writes are written)"), argv
        assert "Traceback" not in p.stderr
    assert len(preds.read_text().splitlines()) == 1 + 9


@posix_shell
def test_stdout_lines_come_out_when_printed_not_at_the_end(peaks_file, tmp_path):
    # stdout into a pipe or a file was block-buffered: 'train ... 2>&1 | cat' showed the fold
    # lines (stderr) above the header printed first on stdout, which stayed empty for the
    # whole training (a job killed after the CV table lost it); baseline showed nothing
    # until its end
    p = _shell("2>&1", "train", str(peaks_file), "--label-col", "label", *FAST, "--folds",
               "2", "--no-compare", "--out", str(tmp_path / "m.ramancam"))
    assert p.returncode == 0, p.stdout
    lines = p.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if " spectra, 3 classes, " in line)
    fold = next(i for i, line in enumerate(lines) if line.startswith("  fold 1/2: "))
    table = next(i for i, line in enumerate(lines) if line.startswith("accuracy ("))
    assert header < fold < table, lines


# ------------------------------------------------------------------------ output encodings
NAMES = {"peak_100": "α-Fe₂O₃", "peak_500": "café", "peak_1000": "石英"}


@pytest.fixture(scope="module")
def names_model(peaks_file):
    import csv

    with open(peaks_file, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        row[0] = NAMES[row[0]]
    data = peaks_file.parent / "names.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    model = peaks_file.parent / "names.ramancam"
    assert main(["train", str(data), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--out", str(model)]) == 0
    return data, model


def test_an_output_encoding_without_the_class_names_escapes_them(names_model, tmp_path,
                                                                  monkeypatch):
    # PYTHONIOENCODING=latin-1 (or a legacy locale): predict, explain and info stopped with
    # "error: 'latin-1' codec can't encode character '\u03b1'", and 'predict --out F' said
    # 'wrote ... to F', then failed and removed F
    import io

    data, model = names_model

    def run(argv, encoding):
        out, err = io.BytesIO(), io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding=encoding))
        monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err, encoding=encoding))
        code = main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(encoding), err.getvalue().decode(encoding)

    from ramancam.errors import RamancamWarning

    with pytest.warns(RamancamWarning, match="encoding .latin-1. lacks characters"):
        code, out, err = run(["predict", str(model), str(data), "--label-col", "label"],
                             "latin-1")
    assert code == 0 and "error:" not in err
    assert "caf\xe9" in out and "\\u03b1-Fe\\u2082O\\u2083" in out  # escaped, not lost
    preds = tmp_path / "p.csv"
    code, out, err = run(["predict", str(model), str(data), "--label-col", "label", "--out",
                          str(preds)], "ascii")
    assert code == 0 and f"to {preds}" in out and "error:" not in err
    assert "α-Fe₂O₃" in preds.read_text(encoding="utf-8")  # files stay UTF-8
    code, out, err = run(["info", str(model)], "ascii")
    assert code == 0 and "\\u77f3\\u82f1" in out and "error:" not in err
    with pytest.warns(RamancamWarning, match="written escaped"):
        code, out, err = run(["explain", str(model), str(data), "--method", "fc"], "ascii")
    assert code == 0 and "error:" not in err and len(out.splitlines()) == 1 + 9
    assert re.search(r"^0,(\\u[0-9a-f]{4}|[a-z])", out.splitlines()[1])  # target class


@posix_shell
def test_a_table_printed_with_names_escaped_says_so_on_stderr(names_model, tmp_path):
    # PYTHONIOENCODING=ascii: 'predict MODEL DATA > preds.csv' wrote '\u03b1-Fe\u2082O\u2083'
    # for the class, status 0 and not a word; a join on the class names then broke
    data, model = names_model
    for command in (["predict", str(model), str(data), "--label-col", "label"],
                    ["explain", str(model), str(data), "--method", "fc"]):
        p = _shell("", *command, PYTHONIOENCODING="ascii")
        assert p.returncode == 0, p.stderr
        assert "\\u" in p.stdout
        said = [line for line in p.stderr.splitlines() if "escaped" in line]
        assert len(said) == 1 and said[0].startswith("warning: standard output's encoding "
                                                     "(ascii) ")
        assert "--out" in said[0] and "PYTHONIOENCODING=utf-8" in said[0]
    p = _shell("", "predict", str(model), str(data), "--out", str(tmp_path / "p.csv"),
               PYTHONIOENCODING="ascii")  # the table in a file (UTF-8): nothing to say
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
    p = _shell("", "predict", str(model), str(data), PYTHONIOENCODING="utf-8")
    assert p.returncode == 0 and "warning" not in p.stderr and "α-Fe₂O₃" in p.stdout


# ------------------------------------------------- path names under a locale that is not UTF-8
#: 'mödel_α' as Python reads UTF-8 bytes of argv under LC_ALL=C PYTHONUTF8=0 (surrogates)
BAD = "m\udcc3\udcb6del_\udcce\udcb1"


def test_every_model_and_output_path_read_under_a_non_utf8_locale_is_refused_first(
        peaks_file, model_file, tmp_path, capsys):
    # only inputs read through the readers (and a Zarr run's paths) were checked: predict
    # and explain with such a model and a --report failed after the work ("'utf-8' codec
    # can't encode characters in position 1465-1466: surrogates not allowed"), train ran
    # its whole cross-validation and then saved no model, info printed the surrogates
    out = tmp_path / "out"
    out.mkdir()
    bad = f"{out}/{BAD}"
    m, d = str(model_file), str(peaks_file)
    given = f"{tmp_path}/{BAD}.ramancam"  # the model file that is there: 'mödel_α.ramancam'
    Path(given).write_bytes(model_file.read_bytes())
    runs = [["predict", given, d],
            ["predict", m, d, "--out", f"{bad}.csv"],
            ["predict", m, d, "--out", f"{out}/p.csv", "--report", f"{bad}.html"],
            ["explain", given, d, "--method", "fc"],
            ["explain", m, d, "--method", "fc", "--out", f"{out}/x.csv", "--plot",
             f"{bad}.png"],
            ["train", d, "--label-col", "label", *FAST, "--folds", "2", "--no-compare",
             "--out", f"{bad}.ramancam"],
            ["train", d, "--label-col", "label", *FAST, "--folds", "2", "--no-compare",
             "--out", f"{out}/m.ramancam", "--report", f"{bad}.html"],
            ["info", given], ["info", d, "--plot", f"{bad}.png"],
            ["baseline", d, "--label-col", "label", "--folds", "2", "--model", "library",
             "--out", bad],
            ["convert", d, f"{bad}.csv"], ["simulate", "peaks", "--out", f"{bad}.csv"],
            ["demo", "--out", bad], ["reproduce", "pharma", "--quick", "--out", bad]]
    for argv in runs:
        assert main(argv) == 2, argv
        o, err = capsys.readouterr()
        assert o == "" and len(err.splitlines()) == 1, (argv, o, err)
        assert err.startswith("error: path names must be read as UTF-8; got '"), err
        assert "/mödel_α" in err and "LC_ALL=C.UTF-8" in err
    assert list(out.iterdir()) == []


@posix_shell
def test_a_non_ascii_model_path_under_the_c_locale_is_one_line_before_any_work(
        peaks_file, model_file, tmp_path):
    model = tmp_path / "mödel_α.ramancam"
    model.write_bytes(model_file.read_bytes())
    p = _shell("", "predict", str(model), str(peaks_file), "--out", str(tmp_path / "p.csv"),
               "--report", str(tmp_path / "p.html"), LC_ALL="C", PYTHONUTF8="0")
    assert p.returncode == 2 and p.stdout == "", p.stdout
    assert p.stderr.startswith("error: path names must be read as UTF-8; got '"), p.stderr
    assert len(p.stderr.splitlines()) == 1  # stderr escapes what ascii lacks: one line
    assert "/m\\xf6del_\\u03b1.ramancam' read as ascii, because the locale" in p.stderr
    assert sorted(q.name for q in tmp_path.iterdir()) == ["mödel_α.ramancam"]


# ------------------------------------------------------------- a full or failing stdout
class _Full:
    """A standard stream on a full disk (``> /dev/full``): every write fails."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_a_full_stdout_costs_no_file_and_is_named(peaks_file, model_file, tmp_path,
                                                  monkeypatch, capsys):
    # 'train ... --out M > /dev/full' ran the whole training, then said 'error: [Errno 28]
    # No space left on device' (which disk?) and left no model; predict and explain the same
    model = tmp_path / "m.ramancam"
    preds = tmp_path / "p.csv"
    runs = [["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
             "--no-compare", "--out", str(model), "--report", str(tmp_path / "r.html")],
            ["predict", str(model_file), str(peaks_file), "--out", str(preds)],
            ["explain", str(model_file), str(peaks_file), "--method", "fc", "--out",
             str(tmp_path / "x.csv"), "--plot", str(tmp_path / "x.png")]]
    for argv in runs:
        with monkeypatch.context() as m:
            m.setattr(sys, "stdout", _Full())
            code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, argv
        assert err.splitlines()[-1] == (
            "error: could not write to standard output (No space left on device): the "
            "printed output was lost; the command ran to its end (files it writes are "
            "written)"), argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ramancam", "p.csv", "r.html",
                                                          "x.csv", "x.png"]
    # a full stderr loses the progress lines, nothing else
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", _Full())
        assert main(runs[1]) == 0
    assert "wrote 9 predictions" in capsys.readouterr().out


@posix_shell
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_train_into_dev_full_keeps_its_model(peaks_file, tmp_path):
    # written by the shell's redirection only (never '--out /dev/full': it is a device)
    model = tmp_path / "m.ramancam"
    p = _shell("> /dev/full", "train", str(peaks_file), "--label-col", "label", *FAST,
               "--folds", "2", "--no-compare", "--out", str(model))
    assert p.returncode == 2 and model.is_file()
    assert p.stderr.splitlines()[-1].startswith(
        "error: could not write to standard output (No space left on device)")
    assert "Exception ignored" not in p.stderr and "Traceback" not in p.stderr


def test_main_in_a_program_gives_a_failed_stream_its_descriptor_back(peaks_file, model_file,
                                                                      tmp_path):
    # main() called in a program whose stdout is its own pipe, closed by its reader: the
    # pipe's descriptor was left pointing at os.devnull after main() returned (the program's
    # later writes vanished instead of failing), and a BrokenPipeError outside the stream
    # guard leaked a descriptor per call
    import contextlib
    import io

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc/self/fd on this platform")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left
    stream = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    before = open_fds()
    try:
        for _ in range(3):
            with contextlib.redirect_stdout(stream):
                assert main(["predict", str(model_file), str(peaks_file)]) == 141
            assert stat.S_ISFIFO(os.fstat(write_end).st_mode)  # the pipe, not os.devnull
        assert open_fds() == before
    finally:
        with contextlib.suppress(OSError):
            stream.close()


def test_a_reader_that_leaves_during_a_large_write_gives_141():
    # predict and explain hold their rows and write them at once: one write of megabytes
    # into a pipe whose reader left during it (| head -c 10) failed without an error, and
    # the run ended with status 0, its table lost, instead of 141
    import io
    import threading

    from ramancam.cli._streams import GuardedStream

    r, w = os.pipe()
    reader = threading.Thread(target=lambda: (os.read(r, 10), os.close(r)))
    reader.start()
    stream = io.TextIOWrapper(io.FileIO(w, "w"), encoding="utf-8")
    guarded = GuardedStream(stream, w, own=False)
    try:
        assert guarded.write("x" * 3_000_000) == 3_000_000
        guarded.flush()
        reader.join()
        assert guarded.reader_left and guarded.lost is None
    finally:
        guarded.close_sink()
        stream.close()

