"""``ramancam convert``: what it may replace, and how its errors name its arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ramancam.cli import main

pytest.importorskip("zarr")


def _map_csv(path: Path, rng: np.random.Generator) -> Path:
    """A 3 x 3 map as a wide table: x, y, then 20 shifts (400-419)."""
    lines = ["x,y," + ",".join(str(400 + i) for i in range(20))]
    for k in range(9):
        values = rng.uniform(1.0, 2.0, 20)
        lines.append(f"{k % 3},{k // 3}," + ",".join(f"{v:.4f}" for v in values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_convert_refuses_a_folder_that_is_no_cube_and_in_inside_out(tmp_path, capsys, rng):
    out = tmp_path / "results.zarr"
    out.mkdir()
    (out / "notes.txt").write_text("notes\n", encoding="utf-8")
    inside = _map_csv(out / "map.csv", rng)
    assert main(["convert", str(inside), str(out)]) == 2
    assert "IN must not be inside OUT; got" in capsys.readouterr().err
    beside = _map_csv(tmp_path / "map.csv", rng)
    assert main(["convert", str(beside), str(out)]) == 2
    err = capsys.readouterr().err
    assert ("OUT must be a new name or an earlier ramancam cube, which is replaced; got the "
            f"folder '{out}', which is no cube and holds map.csv, notes.txt. Choose another "
            "name, or move those files away first.") in err
    assert sorted(p.name for p in out.iterdir()) == ["map.csv", "notes.txt"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "notes\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_convert_replaces_an_earlier_cube_and_fills_an_empty_folder(tmp_path, capsys, rng):
    from ramancam.io.zarr_cube import open_cube

    src = _map_csv(tmp_path / "map.csv", rng)
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    assert main(["convert", str(src), str(empty)]) == 0
    assert open_cube(empty).shape == (3, 3)
    first = open_cube(empty).identity
    assert main(["convert", str(src), str(empty)]) == 0  # an earlier cube: replaced
    assert open_cube(empty).identity != first
    capsys.readouterr()


def test_atomic_store_refuses_a_foreign_folder_before_any_work(tmp_path):
    from ramancam import RamancamError
    from ramancam.io.zarr_cube import atomic_store

    out = tmp_path / "data.zarr"
    out.mkdir()
    (out / "keep.npy").write_bytes(b"x")
    with pytest.raises(RamancamError, match=r"^output must be a new name or an earlier "
                                            r"ramancam cube.*holds keep\.npy\."):
        with atomic_store(out):
            raise AssertionError("the block must not run")
    assert (out / "keep.npy").read_bytes() == b"x"


@pytest.mark.skipif(__import__("os").name == "nt", reason="leftovers are not swept on Windows")
def test_atomic_store_removes_the_store_a_killed_run_left(tmp_path):
    import subprocess
    import sys

    from ramancam.io._atomic import temp_prefix
    from ramancam.io.zarr_cube import atomic_store

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host = temp_prefix("x").split(".")[-2].rsplit("-", 1)[0]
    left = tmp_path / f".data.zarr.{host}-{proc.pid}.0badc0de.tmp"
    (left / "spectra").mkdir(parents=True)
    with atomic_store(tmp_path / "data.zarr") as tmp:
        assert tmp.name.startswith(temp_prefix("data.zarr")) and tmp.name.endswith(".tmp")
        tmp.mkdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.zarr"]


def test_convert_names_its_positional_out_in_the_unwritable_folder_error(tmp_path, capsys,
                                                                         monkeypatch, rng):
    import tempfile

    def refuse(*args, **kw):
        raise PermissionError(13, "Permission denied")

    src = _map_csv(tmp_path / "map.csv", rng)
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)  # root ignores chmod
    assert main(["convert", str(src), str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert (f"error: OUT must be in a folder you can write to; got '{tmp_path / 'out.csv'}' "
            "(Permission denied). Write it elsewhere.") in err
    assert "--out" not in err


@pytest.mark.parametrize(("out", "said"), [
    ("nodir/c.csv", "OUT must be in an existing folder; got '{out}'. Create the folder "
                    "first."),
    ("nodir/c.zarr", "OUT must be in an existing folder; got '{out}'. Create the folder "
                     "first."),
    ("d.csv", "OUT must name a file; got '{out}', which is a folder. Name a file in it or "
              "beside it."),
    ("afile/c.csv", "OUT must be in a folder; got '{out}', but '{afile}' is a file. Name "
                    "another folder."),
    ("afile/sub/c.zarr", "OUT must be in a folder; got '{out}', but '{afile}' is a file. "
                         "Name another folder."),
])
def test_convert_checks_its_out_before_reading_in(tmp_path, capsys, monkeypatch, rng, out,
                                                   said):
    # found only after the whole input was read (a huge map: minutes), and a file in the
    # way was called a missing folder ("got no folder 'afile'. Create it first.")
    import ramancam.cli._common as common

    def read(*args, **kwargs):
        raise AssertionError("IN read before OUT was checked")

    src = _map_csv(tmp_path / "map.csv", rng)
    (tmp_path / "d.csv").mkdir()
    (tmp_path / "afile").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(common, "read_data", read)
    assert main(["convert", str(src), str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err == "error: " + said.format(out=tmp_path / out, afile=tmp_path / "afile") + "\n"


def test_convert_leaves_out_trailing_empty_columns(tmp_path, capsys, rng):
    src = _map_csv(tmp_path / "map.csv", rng)
    src.write_text("".join(line + ",,,\n" for line in src.read_text().splitlines()),
                   encoding="utf-8")
    assert main(["convert", str(src), str(tmp_path / "out.csv")]) == 0
    capsys.readouterr()
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header == "x,y," + ",".join(f"{400 + i}.0" for i in range(20))


def test_convert_writes_a_numbered_metadata_column_under_a_name_that_reads_back(
        tmp_path, capsys):
    # a column '100' of sample numbers before the shifts is metadata to the reader, but
    # convert wrote it under its number, and write_table refused: "metadata column '100'
    # must be a non-empty name that is not a number ... Rename it", with no way to rename
    axis = np.linspace(400.0, 1800.0, 281)  # 5 cm-1 apart: '100' lies 60 steps before
    body = "\n".join(
        f"{lab},{1000 + i}," + ",".join(f"{v:.4f}" for v in np.exp(-((axis - c) / 30) ** 2))
        for i, (lab, c) in enumerate([("a", 700.0), ("b", 1200.0)] * 3))
    src = tmp_path / "t.csv"
    src.write_text("label,100," + ",".join(f"{w:g}" for w in axis) + "\n" + body + "\n")
    out = tmp_path / "o.csv"
    assert main(["convert", str(src), str(out)]) == 0
    assert "note: the data's own '100' column is written as 'column_100'" in \
        capsys.readouterr().out
    from ramancam.io import read

    back, orig = read(out, label_col="label"), read(src, label_col="label")
    assert np.array_equal(back.X, orig.X) and np.array_equal(back.wavenumbers,
                                                             orig.wavenumbers)
    assert back.meta["column_100"].tolist() == [str(1000 + i) for i in range(6)]



def _map_with(path: Path, rng, *, value=None, nan=False) -> Path:
    """A 4 x 5 map as a wide table with x, y; one cell set to ``value`` or NaN."""
    axis = np.arange(400.0, 440.0, 2.0)
    X = 100.0 + rng.random((20, axis.size))
    if value is not None:
        X[7, 3] = value
    cells = [[f"{v:.17g}" for v in row] for row in X]
    if nan:
        cells[7][3] = "NaN"
    yy, xx = np.divmod(np.arange(20), 5)
    lines = ["x,y," + ",".join(f"{a:g}" for a in axis)]
    lines += [f"{x},{y}," + ",".join(c) for x, y, c in zip(xx, yy, cells, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("spaces", [False, True])
def test_a_value_beyond_float32_is_named_not_called_non_finite(tmp_path, capsys, rng, spaces):
    # 1e39 became inf in the cube's float32 (with numpy's overflow warning) and was then
    # refused as "a non-finite value", though the file's value is finite; with spaces after
    # the commas the table is read whole, not streamed: the same message
    import warnings

    src = _map_with(tmp_path / "m.csv", rng, value=1e39)
    if spaces:
        src.write_text(src.read_text().replace(",", ", "))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        code = main(["convert", str(src), str(tmp_path / "m.zarr")])
    err = capsys.readouterr().err
    assert code == 2 and "must fit a Zarr cube's float32 numbers (up to 3.4e+38); got 1e+39 " \
                         "in spectrum 7" in err
    assert not (tmp_path / "m.zarr").exists()


def test_a_nan_cell_names_the_cube_and_the_way_through(tmp_path, capsys, rng):
    src = _map_with(tmp_path / "m.csv", rng, nan=True)
    assert main(["convert", str(src), str(tmp_path / "m.zarr")]) == 2
    err = capsys.readouterr().err
    # the input is named (it was "error: spectra must share one axis ...")
    assert f"error: the spectra of {src} must share one axis to be written as one Zarr " \
           "cube" in err
    assert "an empty or NaN cell leaves its point out of that spectrum's axis" in err
    assert "Give --grid START:STOP:STEP" in err
    assert main(["convert", str(src), str(tmp_path / "m.zarr"), "--grid", "400:438:2"]) == 0
