"""Maps: pixel grids from positions, images, spatially blocked folds, long map exports."""

from __future__ import annotations

import gzip
import re

import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.image import imread

from _memory import traced_peak
from ramancam.errors import RamancamError
from ramancam.io import read, read_long_map, read_table, write_table
from ramancam.io.longmap import parse_long_map
from ramancam.maps import MapGrid, grid_of, has_positions, infer_grid, with_positions
from ramancam.maps.folds import (
    SpatialBlockKFold,
    block_ids,
    default_block_size,
    spatial_groups,
    spatial_splits,
)
from ramancam.maps.images import MISSING_COLOR, class_colors, write_map_images
from ramancam.spectra import Spectra


def raster(nx, ny, step=1.0, x0=0.0, y0=0.0):
    iy, ix = np.divmod(np.arange(nx * ny), nx)
    return x0 + ix * step, y0 + iy * step


# ----------------------------------------------------------------------------- grid
def test_full_grid_in_any_order(rng):
    x, y = raster(7, 4, step=2.5, x0=-3.0, y0=10.0)
    order = rng.permutation(x.size)
    g = infer_grid(x[order], y[order])
    assert (g.nx, g.ny, g.kind, g.n_missing) == (7, 4, "map", 0)
    assert g.step_x == pytest.approx(2.5) and g.step_y == pytest.approx(2.5)
    assert g.x0 == pytest.approx(-3.0) and g.y0 == pytest.approx(10.0)
    np.testing.assert_array_equal(g.ix, np.rint((x[order] + 3.0) / 2.5))
    np.testing.assert_array_equal(g.iy, np.rint((y[order] - 10.0) / 2.5))
    assert g.text() == "7 x 4 pixels, step 2.5 x 2.5, 0 missing"



def test_positions_on_the_raster_keep_their_exact_step_and_origin(rng):
    """A least-squares refinement of exact positions gave y0 = -2.1e-15 and steps of
    0.9999999999999981, differently for each row order (convert wrote them into the cube,
    info and the report printed them)."""
    x, y = raster(20, 24, step=1.0)
    grids = [infer_grid(x[o], y[o]) for o in (np.arange(x.size), rng.permutation(x.size))]
    for g in grids:
        assert (g.x0, g.y0, g.step_x, g.step_y) == (0.0, 0.0, 1.0, 1.0)
    x, y = raster(9, 7, step=0.3, x0=12.6, y0=-4.2)  # decimal steps: exact to the input
    g = infer_grid(x, y)
    assert g.step_x == 0.3 and g.x0 == 12.6 and g.y0 == -4.2
    x, y = raster(30, 20, step=0.1)  # 0.1 * i: the origin is 0, not -1.15e-15
    g = infer_grid(x, y)
    assert (g.x0, g.y0, g.step_x, g.step_y) == (0.0, 0.0, 0.1, 0.1)
    g = infer_grid(np.cumsum(np.full(40, 0.1)) - 0.1, np.zeros(40) + 5.0)  # a stage's sums
    assert g.x0 == 0.0 and g.step_x == 0.1
    for y0 in (7.0, -19.9, 0.05):  # origins that are no whole number of steps stay as read
        g = infer_grid(*raster(4, 5, step=0.3, x0=1.0, y0=y0))
        assert g.y0 == y0 and g.step_y == 0.3


def test_jitter_is_tolerated_up_to_tol_and_then_reported(rng):
    x, y = raster(12, 9, step=1.0)
    jx = x + rng.uniform(-0.15, 0.15, x.size)
    jy = y + rng.uniform(-0.15, 0.15, y.size)
    g = infer_grid(jx, jy)
    assert (g.nx, g.ny) == (12, 9)
    np.testing.assert_array_equal(g.ix, x.astype(int))
    np.testing.assert_array_equal(g.iy, y.astype(int))
    assert g.step_x == pytest.approx(1.0, abs=0.02)
    off = x.copy()
    off[5] += 0.45
    with pytest.raises(RamancamError, match=r"regular grid .*spectrum 5, 0\.45 steps off"):
        infer_grid(off, y)


def test_missing_pixels_and_columns():
    x, y = raster(10, 6)
    keep = np.ones(x.size, bool)
    keep[[0, 13, 59]] = False            # scattered pixels
    keep[(x == 4)] = False               # a whole missing column
    g = infer_grid(x[keep], y[keep])
    assert (g.nx, g.ny) == (10, 6)
    assert g.n_missing == 3 + 6 - 0      # the column and three pixels (none overlap)
    filled = g.filled
    assert not filled[:, 4].any() and not filled[0, 0] and not filled[5, 9]
    img = g.to_image(np.arange(keep.sum()), fill=-1)
    assert img.shape == (6, 10) and img[0, 0] == -1 and img[0, 1] == 0


def test_line_scans_diagonal_and_axis_aligned():
    t = np.arange(235)
    g = infer_grid(80.03 + 0.2316 * t, -162.48 + 0.0942 * t)   # like WiRE's ex2.wdf
    assert (g.kind, g.nx, g.ny, g.n_missing) == ("line", 235, 1, 0)
    assert g.step_x == pytest.approx(np.hypot(0.2316, 0.0942))
    np.testing.assert_array_equal(g.ix, t)
    g = infer_grid(np.arange(10.0)[::-1], np.zeros(10))        # a row, written backwards
    assert (g.kind, g.nx, g.ny) == ("map", 10, 1)
    np.testing.assert_array_equal(g.ix, np.arange(10)[::-1])
    jitter = np.random.default_rng(1).normal(0, 1e-4, 10)
    g = infer_grid(5.0 + jitter, np.arange(10.0))              # a column with x jitter
    assert (g.nx, g.ny) == (1, 10) or (g.kind == "line" and g.nx == 10)
    g = infer_grid([3.0], [4.0])
    assert (g.nx, g.ny, g.n_missing) == (1, 1, 0)


def test_grid_errors():
    x, y = raster(3, 3)
    with pytest.raises(RamancamError, match="one spectrum; got spectra 0 and 9"):
        infer_grid(np.r_[x, 0.0], np.r_[y, 0.0])
    with pytest.raises(RamancamError, match="position x must be finite"):
        infer_grid(np.r_[x[:-1], np.nan], y)
    # with ids (grid_of passes Spectra.ids) the errors name the spectra as output tables do
    names = [f"px-{i:02d}" for i in range(10)]
    with pytest.raises(RamancamError, match="one spectrum; got spectra px-00 and px-09 on"):
        infer_grid(np.r_[x, 0.0], np.r_[y, 0.0], ids=names)
    x, y = raster(12, 9)
    off = np.where(np.arange(x.size) == 5, x + 0.45, x)
    with pytest.raises(RamancamError, match=r"x = 5\.45 for spectrum px-005, 0\.45 steps off"):
        infer_grid(off, y, ids=[f"px-{i:03d}" for i in range(x.size)])
    with pytest.raises(RamancamError, match="tol must be in"):
        infer_grid(x, y, tol=0.6)
    with pytest.raises(RamancamError, match="at least one spectrum"):
        infer_grid([], [])
    with pytest.raises(RamancamError, match="one value per spectrum"):
        infer_grid([1.0, 2.0], [1.0])
    with pytest.raises(RamancamError, match="mostly empty"):
        infer_grid([0.0, 1000.0], [0.0, 0.0], step=0.1)
    with pytest.raises(RamancamError, match="step must be positive"):
        infer_grid(x, y, step=(1.0, -1.0))
    # two regions far apart: the gap looks like the step until the step is given
    two = np.r_[np.arange(10.0), np.arange(1000.0, 1010.0)]
    with pytest.raises(RamancamError, match="give step=") as err:
        infer_grid(two, np.zeros(20))
    # no option of the command line sets it: there the hint is left out
    assert err.value.cli.endswith("Average or drop repeated acquisitions first.")
    assert infer_grid(two, np.zeros(20), step=1.0).nx == 1010
    with pytest.raises(RamancamError, match="at least 1 x 1"):
        MapGrid.regular(0, 3)


def test_regular_grid_and_to_image():
    g = MapGrid.regular(4, 3, step=0.5, x0=1.0)
    assert g.shape == (3, 4) and g.n_spectra == 12
    np.testing.assert_array_equal(g.to_image(np.arange(12)), np.arange(12).reshape(3, 4))
    assert g.extent() == (0.75, 2.75, -0.25, 1.25)
    with pytest.raises(RamancamError, match="one entry per spectrum"):
        g.to_image(np.arange(5))


# ----------------------------------------------------------------------------- positions
def test_wide_table_xy_columns_become_float_positions(tmp_path, rng):
    x, y = raster(3, 2)
    s = Spectra(rng.random((6, 5)), np.arange(5.0) + 100, labels=list("aabbab"),
                meta={"id": [f"p{i}" for i in range(6)], "x": x, "y": y})
    path = tmp_path / "map.csv"
    write_table(s, path)
    back = read_table(path, label_col="label")
    assert has_positions(back) and back.meta["x"].dtype == np.float64
    np.testing.assert_array_equal(back.meta["x"], x)
    assert grid_of(back).shape == (2, 3)
    # a text column called y (labels, say) stays text: no positions, no error
    text = "id,x,y,1,2,3\na,0,cat,1,2,3\nb,1,dog,1,2,3\n"
    (tmp_path / "t.csv").write_text(text)
    t = read(tmp_path / "t.csv")
    assert not has_positions(t) and t.meta["y"].tolist() == ["cat", "dog"]
    with pytest.raises(RamancamError, match="must carry pixel positions"):
        grid_of(t)


def test_xy_cols_names_other_columns(tmp_path):
    text = "id,px,py,1,2,3\na,0,0,1,2,3\nb,2,0,1,2,3\nc,0,2,1,2,3\n"
    (tmp_path / "m.csv").write_text(text)
    s = with_positions(read(tmp_path / "m.csv"), "px", "py")
    assert "px" not in s.meta and s.meta["y"].tolist() == [0.0, 0.0, 2.0]
    assert grid_of(s).text() == "2 x 2 pixels, step 2 x 2, 1 missing"
    with pytest.raises(RamancamError, match="position column 'nope' must be a metadata"):
        with_positions(s, "nope", "y")
    with pytest.raises(RamancamError, match="position column 'id' must hold numbers"):
        with_positions(read(tmp_path / "m.csv"), "id", "py")


def test_labspec_wide_map_layout_gives_positions(tmp_path):
    text = "\t\t600.0\t601.0\t602.0\n0.0\t0.0\t1\t2\t3\n1.5\t0.0\t1\t2\t4\n0.0\t1.5\t1\t5\t3\n"
    (tmp_path / "labspec.txt").write_text(text)
    s = read(tmp_path / "labspec.txt")
    assert s.meta["x"].tolist() == [0.0, 1.5, 0.0] and s.meta["y"].tolist() == [0, 0, 1.5]
    assert grid_of(s).n_missing == 1


# ----------------------------------------------------------------------------- long reader
def _long_text(X, axis, xs, ys, header="#X\t#Y\t#Wave\t#Intensity\n", sep="\t"):
    rows = [header] if header else []
    for i in range(len(X)):
        for w, v in zip(axis, X[i], strict=True):
            rows.append(f"{xs[i]}{sep}{ys[i]}{sep}{w}{sep}{v}\n")
    return "".join(rows)


def test_long_wire_export_round_trip(tmp_path, rng):
    X = rng.random((6, 8))
    axis = np.linspace(1800, 400, 8)            # WiRE writes descending shifts
    xs, ys = raster(3, 2, step=0.5)
    path = tmp_path / "map.txt"
    path.write_text(_long_text(X, axis, xs, ys))
    s = read(path)                              # sniffed, no option needed
    np.testing.assert_allclose(s.X, X)
    np.testing.assert_allclose(s.wavenumbers, axis)
    np.testing.assert_allclose(s.meta["x"], xs)
    assert grid_of(s).text() == "3 x 2 pixels, step 0.5 x 0.5, 0 missing"
    # no header, comma separated, gzipped: same spectra
    gz = tmp_path / "map.csv.gz"
    gz.write_bytes(gzip.compress(_long_text(X, axis, xs, ys, header="", sep=",").encode()))
    np.testing.assert_allclose(read(gz).X, X)
    # the old batch converter's y, x order, with the columns named
    swapped = read_long_map(gz, columns="y,x,shift,intensity")
    np.testing.assert_allclose(swapped.meta["y"], xs)


def test_long_reader_reads_exact_values_with_and_without_blank_and_comment_lines(rng):
    # The rows are parsed in one go by numpy where they are plain; blank lines, comment
    # lines and Windows line ends take the line-by-line path or none: every way gives the
    # values Python's float() gives, and errors the same line numbers.
    X = np.round(rng.random((6, 8)) * 1000, 3)
    axis = np.linspace(1800, 400, 8)
    xs, ys = raster(3, 2, step=0.5)
    plain = _long_text(X, axis, xs, ys)
    lines = plain.splitlines(keepends=True)
    variants = {
        "plain": plain,
        "crlf": plain.replace("\n", "\r\n"),
        "blank lines after the header and at the end": lines[0] + "\n\n" + "".join(lines[1:])
        + "\n\n",
        "a blank line inside": "".join([*lines[:9], "\n", *lines[9:]]),
        "a comment line inside": "".join([*lines[:9], "# pixel 2\n", *lines[9:]]),
        "spaces": plain.replace("\t", "   "),
        "semicolons": plain.replace("\t", ";").replace("#X;#Y", "X;Y"),
    }
    for name, text in variants.items():
        s = parse_long_map(text, source="m.txt")
        np.testing.assert_array_equal(s.X, X, err_msg=name)
        np.testing.assert_array_equal(s.meta["x"], xs, err_msg=name)
    # a shift that differs on line 9 (the second pixel's last row) is named there on both
    # paths; with a blank line after the header it is line 10
    shifted = "".join(ln.replace("\t103.0\t", "\t103.5\t") if i == 8 else ln
                      for i, ln in enumerate(_long_text(X[:2, :4], np.arange(4.0) + 100,
                                                        *raster(2, 1))
                                             .splitlines(keepends=True)))
    assert "\t103.5\t" in shifted
    for text, line in ((shifted, 9), (shifted.replace("\n", "\n\n", 1), 10),
                       (shifted.replace("\n", "\n\n", 1) + "# end\n", 10)):
        with pytest.raises(RamancamError, match=rf"line {line}: every pixel must share"):
            parse_long_map(text, source="m.txt")


def test_long_reader_never_lets_an_empty_field_shift_the_columns(rng):
    # numpy's one-go parse sees numbers, not fields: an empty field on one line and an extra
    # value on another would keep the count and shift every value between them. Each
    # line's fields are counted first, so such a file goes line by line and is refused.
    X = np.round(rng.random((4, 4)) * 1000, 3)
    lines = _long_text(X, np.arange(4.0) + 100, *raster(2, 2)).splitlines(keepends=True)
    lines[4] = "1.0\t0.0\t\t" + lines[4].split("\t")[3]       # line 5: no shift
    lines[8] = lines[8].rstrip("\n") + "\t7\n"                   # line 9: a fifth value
    with pytest.raises(RamancamError, match=r"line 5: could not read a number from ''"):
        parse_long_map("".join(lines), source="m.txt")
    spaced = _long_text(X, np.arange(4.0) + 100, *raster(2, 2)).replace("\t103.0\t",
                                                                       "\t103 .0\t", 1)
    with pytest.raises(RamancamError, match=r"line 5: could not read a number from '103 .0'"):
        parse_long_map(spaced, source="m.txt")


def test_long_reader_memory_is_the_array_not_python_objects(rng):
    # Counted by tracemalloc, not timed: 600 pixels x 200 points = 120,000 rows used to
    # take a tuple, a line and four number strings per row (17.8x the parsed array); now
    # the rows' text twice more (as a slice and as bytes) and numpy's own temporaries.
    X = np.round(rng.random((600, 200)) * 1000, 2)
    xs, ys = raster(30, 20)
    text = _long_text(X, np.linspace(1800, 400, 200), xs, ys)
    data_bytes = 4 * X.size * 8  # the parsed (rows x 4) float array
    s, peak = traced_peak(parse_long_map, text, source="m.txt")
    np.testing.assert_array_equal(s.X, X)
    assert peak < 5 * data_bytes, f"parsing took {peak / data_bytes:.1f}x the parsed array"


def test_long_header_names_any_order_and_line_without_y(tmp_path, rng):
    X = rng.random((3, 5))
    axis = np.arange(5.0) + 100
    lines = ["Raman shift (cm-1);Intensity;X (um)\n"]
    for i in range(3):
        lines += [f"{w};{v};{i * 2.0}\n" for w, v in zip(axis, X[i], strict=True)]
    (tmp_path / "line.csv").write_text("".join(lines))
    s = read(tmp_path / "line.csv")
    np.testing.assert_allclose(s.X, X)
    assert s.meta["y"].tolist() == [0.0, 0.0, 0.0] and s.meta["x"].tolist() == [0, 2, 4]


def test_long_reader_errors(tmp_path, rng):
    axis = np.arange(4.0) + 100
    xs, ys = raster(2, 2)
    good = _long_text(rng.random((4, 4)), axis, xs, ys)
    lines = good.splitlines(keepends=True)

    def bad(text, match):
        p = tmp_path / "bad.txt"
        p.write_text(text)
        with pytest.raises(RamancamError, match=match):
            read_long_map(p)

    bad("".join([*lines[:6], "0\t0.5\tabc\t1\n", *lines[7:]]),
        r"line 7: could not read a number from 'abc'")
    bad("".join([*lines[:3], "0\t0\t102\n", *lines[4:]]), r"line 4: every row must have 4")
    bad("".join(lines[:-1]), r"same number of points; got 3 rows")
    shifted = [ln.replace("\t103.0\t", "\t103.5\t") if i == 12 else ln
               for i, ln in enumerate(lines)]
    bad("".join(shifted), r"line 13: every pixel must share the first pixel's Raman shifts")
    bad("".join(lines[:5] + lines[9:13] + lines[1:5]), r"one contiguous block; got x=0, y=0")
    bad("#X\t#Y\t#Wave\t#Intensity\n", "at least one data row")
    bad("", "empty file")
    (tmp_path / "good.txt").write_text(good)
    with pytest.raises(RamancamError, match="columns must name each column once"):
        read_long_map(tmp_path / "good.txt", columns="x,x,shift,intensity")
    with pytest.raises(RamancamError, match=r"must have x \(or y\), shift and intensity"):
        read_long_map(tmp_path / "good.txt", columns="x,y,z,shift")


# ----------------------------------------------------------------------------- images
def _two_class_map(nx=12, ny=8):
    g = MapGrid.regular(nx, ny)
    pred = np.zeros((ny, nx), dtype=int)
    pred[:, nx // 2:] = 1                       # left half class 0, right half class 1
    pred[0, 0] = -1                             # one pixel without a spectrum
    proba = np.zeros((ny, nx, 2))
    proba[..., 0] = np.where(pred == 0, 0.9, 0.2)
    proba[..., 1] = 1 - proba[..., 0]
    proba[pred < 0] = np.nan
    return g, pred, proba


def _pixels_of(img, hex_color):
    rgb = np.array(mcolors.to_rgb(hex_color))
    return np.argwhere(np.abs(img[..., :3] - rgb).max(axis=-1) < 1 / 255 + 1e-6)


def test_class_image_has_the_class_colours_where_the_classes_are(tmp_path):
    g, pred, proba = _two_class_map()
    paths = write_map_images(tmp_path, g, pred, proba, ["left", "right"])
    assert [p.name for p in paths] == ["classes.png", "confidence.png", "proba_01.png",
                                       "proba_02.png"]
    img = imread(paths[0])
    c0, c1 = class_colors(2)
    a, b = _pixels_of(img, c0), _pixels_of(img, c1)
    # both colours cover a real area (the legend patches alone are tiny)
    assert len(a) > 2000 and len(b) > 2000
    assert abs(len(a) - len(b)) < 0.2 * len(a)
    # class 0 is drawn left of class 1, in the same rows
    assert a[:, 1].mean() < b[:, 1].mean() - 100
    assert len(_pixels_of(img, MISSING_COLOR)) > 50  # the missing pixel, and its legend patch


def test_confidence_and_probability_images_differ_by_class(tmp_path):
    g, pred, proba = _two_class_map()
    paths = write_map_images(tmp_path, g, pred, proba, ["left", "right"])
    p1, p2 = imread(paths[2]), imread(paths[3])
    assert p1.shape == p2.shape and not np.allclose(p1, p2)
    conf = imread(paths[1])
    assert conf.shape[2] in (3, 4) and conf[..., :3].std() > 0.05


def test_novelty_p_and_set_size_images_show_where_the_model_is_unsure(tmp_path):
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm

    magma = colormaps["magma"]
    g, pred, proba = _two_class_map()
    pv = np.where(pred == 1, 0.002, 0.5)           # the right half unlike the training data
    size = np.where(pred == 1, 2.0, 1.0)           # ... and with two classes in its sets
    pv[pred < 0] = size[pred < 0] = np.nan
    paths = write_map_images(tmp_path, g, pred, proba, ["left", "right"], novelty_p=pv,
                             set_size=size)
    assert [p.name for p in paths][-2:] == ["novelty_p.png", "set_size.png"]
    img = imread(paths[-2])[..., :3]
    dark = np.argwhere(img.max(axis=-1) < 0.15)    # magma's low end is near black
    pale = _pixels_of(imread(paths[-2]), mcolors.to_hex(magma(LogNorm(0.002, 1)(0.5))))
    assert len(dark) > 2000 and len(pale) > 2000
    assert dark[:, 1].mean() > pale[:, 1].mean() + 100  # the dark half is the right half
    sizes = imread(paths[-1])
    one, two = _pixels_of(sizes, "#440154"), _pixels_of(sizes, "#fde725")  # viridis' ends
    assert len(one) > 2000 and len(two) > 2000
    assert one[:, 1].mean() < two[:, 1].mean() - 100
    # nothing to draw: no file
    (tmp_path / "none").mkdir()
    none = write_map_images(tmp_path / "none", g, pred, proba, ["a", "b"],
                            novelty_p=np.full(g.shape, np.nan), set_size=np.zeros(g.shape))
    assert [p.name for p in none][-1] == "proba_02.png"
    assert sorted(p.name for p in (tmp_path / "none").iterdir())[-1] == "proba_02.png"
    with pytest.raises(RamancamError, match=r"novelty_p must have shape \(ny, nx\)"):
        write_map_images(tmp_path, g, pred, proba, ["a", "b"], novelty_p=pv.T)
    with pytest.raises(RamancamError, match=r"set_size must have shape \(ny, nx\)"):
        write_map_images(tmp_path, g, pred, proba, ["a", "b"], set_size=size[:2])


def test_write_map_images_checks_its_inputs(tmp_path):
    g, pred, proba = _two_class_map()
    with pytest.raises(RamancamError, match="existing folder"):
        write_map_images(tmp_path / "nope", g, pred, proba, ["a", "b"])
    with pytest.raises(RamancamError, match=r"predicted must be an integer array of shape"):
        write_map_images(tmp_path, g, pred.T, proba, ["a", "b"])
    with pytest.raises(RamancamError, match=r"proba must have shape"):
        write_map_images(tmp_path, g, pred, proba[..., :1], ["a", "b"])
    with pytest.raises(RamancamError, match=r"class indices 0\.\.0"):
        write_map_images(tmp_path, g, pred, proba[..., :1], ["a"])
    with pytest.raises(RamancamError, match=r"grid must be a ramancam\.maps\.MapGrid"):
        write_map_images(tmp_path, (8, 12), pred, proba, ["a", "b"])


def test_line_scan_images(tmp_path):
    t = np.arange(30)
    g = infer_grid(0.3 * t, 0.1 * t)
    pred = g.to_image((t >= 15).astype(int), fill=-1)
    proba = g.to_image(np.column_stack([t < 15, t >= 15]).astype(float))
    paths = write_map_images(tmp_path, g, pred, proba, ["a", "b"])
    img = imread(paths[0])
    a, b = _pixels_of(img, class_colors(2)[0]), _pixels_of(img, class_colors(2)[1])
    assert a[:, 1].mean() < b[:, 1].mean()



@pytest.mark.parametrize("nx, ny", [(1, 40), (2, 200), (3, 30), (200, 2), (10, 40)])
def test_thin_maps_are_drawn_wide_enough_to_read_with_their_titles_inside(nx, ny, tmp_path):
    """A one-column map (or a few columns of a tall one, a few rows of a wide one) drawn
    with square pixels was a hairline strip beside a white page, its title cut off by the
    figure's edge and its one column's tick labels printed over each other."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ramancam.maps.images import (
        _new_figure,
        draw_class_image,
        draw_value_image,
        save_figure,
    )

    g = MapGrid.regular(nx, ny, step=1.0)
    values = np.random.default_rng(0).random((ny, nx))
    for draw in ("class", "value"):
        fig, ax = _new_figure(g, extra_w=2.6 if draw == "class" else 2.2)
        if draw == "class":
            draw_class_image(ax, g, (values > 0.5).astype(int), ["a", "b"],
                             title="predicted class")
        else:
            draw_value_image(ax, g, values, label="p", vmin=0, vmax=1,
                             title="confidence (probability of the predicted class)")
        save_figure(fig, tmp_path / f"{draw}.png")  # wraps a title that would not fit
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        assert min(box.width, box.height) / fig.dpi >= 1.0, (nx, ny, draw, box)
        title = ax.title.get_window_extent(renderer)
        page = fig.bbox
        assert title.x0 >= page.x0 - 1 and title.x1 <= page.x1 + 1, (nx, ny, draw, title)
        if nx == 1:
            assert list(ax.get_xticks()) == [g.x0]
        if ny == 1 or nx == 1:
            continue
        # a map still keeps its pixels square unless they would make a hairline strip
        if min(nx, ny) >= 10:
            assert ax.get_aspect() == 1.0


# ----------------------------------------------------------------------------- folds
def _labelled_map(nx=20, ny=14, seed=0):
    x, y = raster(nx, ny)
    labels = np.where((x - 6) ** 2 + (y - 7) ** 2 < 16, "cell", "matrix")
    labels[x > 14] = "lacuna"
    rng = np.random.default_rng(seed)
    return Spectra(rng.random((x.size, 4)), np.arange(4.0), labels=labels,
                   meta={"x": x, "y": y})


@pytest.mark.parametrize("buffer", [0, 1, 2])
def test_spatial_folds_keep_test_neighbourhoods_out_of_training(buffer):
    s = _labelled_map()
    g = grid_of(s)
    splits = spatial_splits(s, n_splits=4, block_size=4, buffer=buffer, random_state=0)
    assert len(splits) == 4
    tested = np.concatenate([te for _, te in splits])
    np.testing.assert_array_equal(np.sort(tested), np.arange(len(s)))  # each pixel once
    blocks = block_ids(g, 4)
    for tr, te in splits:
        assert not set(tr) & set(te)
        assert not set(blocks[tr]) & set(blocks[te])  # whole blocks per fold
        # no training pixel within `buffer` pixels (Chebyshev) of any test pixel
        d = np.maximum(np.abs(g.ix[tr][:, None] - g.ix[te][None, :]),
                       np.abs(g.iy[tr][:, None] - g.iy[te][None, :]))
        assert d.min() > buffer
        assert len(set(s.labels[tr])) >= 2


@pytest.mark.parametrize("block_size", [None, 3])
def test_spatial_groups_are_the_blocks_the_folds_are_made_of(block_size):
    s = _labelled_map()
    groups = spatial_groups(s, n_splits=4, block_size=block_size)
    assert groups.shape == (len(s),)
    side = block_size or default_block_size(len(s), 4)
    assert np.unique(groups).size == -(-20 // side) * -(-14 // side)
    for _, te in spatial_splits(s, n_splits=4, block_size=block_size, buffer=0,
                                random_state=0):
        inside = np.isin(groups, groups[te])
        assert inside.sum() == te.size  # every block is tested whole


def test_spatial_block_kfold_in_scikit_learn(rng):
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score

    s = _labelled_map()
    xy = np.column_stack([s.meta["x"], s.meta["y"]])
    cv = SpatialBlockKFold(3, block_size=5, random_state=1)
    scores = cross_val_score(DummyClassifier(), s.X, s.labels, groups=xy, cv=cv)
    assert scores.shape == (3,)
    # without labels the fold sizes are balanced (GroupKFold)
    sizes = [te.size for _, te in cv.split(s.X, None, xy)]
    assert max(sizes) - min(sizes) <= 25
    assert cv.get_n_splits() == 3 and "block_size=5" in repr(cv)
    # same seed, same folds
    again = [te.tolist() for _, te in SpatialBlockKFold(3, block_size=5, random_state=1)
             .split(s.X, s.labels, xy)]
    assert again == [te.tolist() for _, te in cv.split(s.X, s.labels, xy)]


def test_spatial_fold_errors_and_default_block():
    s = _labelled_map()
    xy = np.column_stack([s.meta["x"], s.meta["y"]])
    assert default_block_size(875, 5) == 7 and default_block_size(10, 5) == 2
    assert default_block_size(235, 5, line=True) == 12
    with pytest.raises(RamancamError, match="must not outnumber the blocks"):
        spatial_splits(s, n_splits=5, block_size=14)
    with pytest.raises(RamancamError, match="integer >= 2"):
        list(SpatialBlockKFold(1).split(s.X, s.labels, xy))
    with pytest.raises(RamancamError, match="groups must hold the pixel positions"):
        list(SpatialBlockKFold(2).split(s.X, s.labels))
    with pytest.raises(RamancamError, match=r"shape \(n_samples, 2\)"):
        list(SpatialBlockKFold(2).split(s.X, s.labels, xy[:, 0]))
    with pytest.raises(RamancamError, match="block size must be a positive integer"):
        list(SpatialBlockKFold(2, block_size=0).split(s.X, s.labels, xy))
    with pytest.raises(RamancamError, match="buffer must be an integer >= 0"):
        list(SpatialBlockKFold(2, buffer=-1).split(s.X, s.labels, xy))
    with pytest.raises(RamancamError, match="keep some pixels"):
        spatial_splits(_labelled_map(4, 4), n_splits=2, block_size=2, buffer=4)


# ----------------------------------------------------------------------------- report
def test_report_escapes_user_strings(tmp_path):
    from ramancam.maps.outputs import write_predict_outputs

    g = MapGrid.regular(4, 3)
    proba = np.tile([[0.7, 0.3]], (12, 1))
    proba[6:] = proba[6:, ::-1]
    evil = ["<script>alert(1)</script>", 'a"b&c']
    paths = write_predict_outputs(tmp_path, g, proba, evil,
                                  info={"data": "<img src=x onerror=alert(2)>.csv"})
    html = paths[-1].read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "a&quot;b&amp;c" in html
    assert "&lt;img src=x onerror=alert(2)&gt;.csv" in html
    assert html.count("data:image/png;base64,") == 4


def test_map_images_of_a_channel_axis_say_channel_not_cm1(tmp_path, monkeypatch, rng):
    # a model on a channel axis (simulated sets, --recipe none) drew "intensity at 500 cm-1"
    # and "band shift (cm-1)" beside class means labelled "channel"
    from ramancam.maps import images, outputs

    drawn: list[str] = []
    real = images.draw_value_image

    def spy(ax, grid, values, *, label, title="", **kw):
        drawn.extend([label, title])
        return real(ax, grid, values, label=label, title=title, **kw)

    monkeypatch.setattr(images, "draw_value_image", spy)
    monkeypatch.setattr(outputs, "draw_value_image", spy)
    g = MapGrid.regular(4, 3)
    proba = np.tile([[0.7, 0.3]], (12, 1))
    shift = rng.normal(size=12)
    for axis, unit, at in ((np.arange(40.0), "channel", "channel 20"),
                           (np.arange(400.0, 440.0), "cm-1", "420 cm-1")):
        drawn.clear()
        out = tmp_path / unit
        out.mkdir()
        paths = outputs.write_explain_outputs(
            out, g, rng.random((12, 40)), rng.normal(size=(12, 40)), axis, proba,
            ["a", "b"], method="fc", bands=[float(axis[20])], band_shift=shift)
        html = paths[-1].read_text()
        assert f"asked ({unit})" in html and f"Band at {at}." in html
        assert f"intensity at {at}" in drawn and f"fc map at {at}\nfor each pixel's " \
            "predicted class\nred: supports it, blue: argues against it" in drawn
        assert f"band shift ({'channels' if unit == 'channel' else 'cm-1'})" in drawn
        # the caption names the unit its colour bar does ("cm-1" beside "channels")
        assert f"mean training spectrum of its class, " \
               f"{'channels' if unit == 'channel' else 'cm-1'} (red" in html
        (out / "p").mkdir()
        bar = "channels" if unit == "channel" else "cm-1"  # as predict gives it
        page = outputs.write_predict_outputs(out / "p", g, proba, ["a", "b"], band_shift=shift,
                                             shift_unit=bar)[-1].read_text()
        assert f"mean training spectrum of its class, {bar} (red" in page
        other = "cm-1" if unit == "channel" else "channel "
        assert not [t for t in drawn if other in t]


# ----------------------------------------------------------------------------- real data
def test_chondro_map_grid_and_spatial_folds(shared_data):
    s = read(shared_data / "chondro-map" / "map.csv")
    g = grid_of(s)
    assert (g.nx, g.ny, g.n_missing) == (35, 25, 0)
    assert g.step_x == pytest.approx(1.0) and g.step_y == pytest.approx(1.0)
    labelled = s[np.flatnonzero(s.meta["label"] != "")]
    labelled = labelled.replace(labels=labelled.meta["label"])
    assert grid_of(labelled).n_missing == 6
    splits = spatial_splits(labelled, n_splits=5, random_state=0)   # 7 x 7 blocks
    assert sorted(np.concatenate([te for _, te in splits]).tolist()) == list(range(869))
    gl = grid_of(labelled)
    for tr, te in splits:
        d = np.maximum(np.abs(gl.ix[tr][:, None] - gl.ix[te][None, :]),
                       np.abs(gl.iy[tr][:, None] - gl.iy[te][None, :]))
        assert d.min() >= 2


def test_wdf_line_scan_ex2(shared_data, tmp_path):
    s = read(shared_data / "wdf-sample" / "ex2.wdf")
    g = grid_of(s)
    assert (g.kind, g.nx, g.ny, g.n_missing) == ("line", 235, 1, 0)
    assert g.step_x == pytest.approx(np.hypot(0.23158504, 0.09417201), rel=1e-6)
    np.testing.assert_array_equal(g.ix, np.arange(235))    # acquired along the line
    pred = g.to_image((np.arange(235) >= 100).astype(int), fill=-1)
    proba = g.to_image(np.eye(2)[(np.arange(235) >= 100).astype(int)])
    paths = write_map_images(tmp_path, g, pred, proba, ["first", "second"])
    img = imread(paths[0])
    a, b = _pixels_of(img, class_colors(2)[0]), _pixels_of(img, class_colors(2)[1])
    assert a[:, 1].mean() < b[:, 1].mean()


def test_log_colour_bar_labels_are_plain_numbers_with_maths_off():
    """The novelty p-value image's log colour bar reads 0.01, 0.1, 1 also where maths text
    is off (the command line turns it off for ids with '$'): no raw $\\mathdefault{...}$."""
    import matplotlib
    from matplotlib.figure import Figure

    from ramancam.maps.images import draw_value_image

    g = infer_grid(np.repeat(np.arange(4.0), 3), np.tile(np.arange(3.0), 4))
    values = np.logspace(-3, 0, 12).reshape(g.ny, g.nx)
    with matplotlib.rc_context({"text.parse_math": False}):
        fig = Figure()
        ax = fig.add_subplot()
        draw_value_image(ax, g, values, label="p", log=True, vmin=1e-3, vmax=1.0)
        fig.canvas.draw()
        bar = fig.axes[-1]
        texts = [t.get_text() for t in bar.yaxis.get_ticklabels() if t.get_text()]
    assert texts and not any("$" in t for t in texts)
    assert "0.01" in texts and "1" in texts


def test_the_class_table_counts_pixels_as_the_class_image_colours_them():
    # flagged pixels were counted under their nearest class, refused ones under the first
    from ramancam.maps.outputs import _class_rows, _predicted

    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [np.nan, np.nan]])
    pred = _predicted(p)
    assert pred.tolist() == [0, 1, 0, -1]
    rows = _class_rows(pred, p, ["a", "b"], np.array([False, False, True, False]))
    assert [r[:2] for r in rows] == [["a", 1], ["b", 1], ["unknown", 1], ["not predicted", 1]]
    assert rows[0][3] == 0.9 and rows[2][3] is None


def test_numbered_images_of_an_earlier_run_are_removed(tmp_path):
    # an explain with fewer --bands into the same folder left band_03.png beside a report
    # that no longer showed it
    from ramancam.maps.images import remove_stale

    # (and a run of a model without novelty scores left the earlier novelty_p.png)
    # a user's own figures whose names only begin as ours stay (they were deleted)
    users = ["band_gap_figure.png", "proba_distribution_thesis.png", "band_3.png.bak"]
    for name in ("band_01.png", "band_02.png", "band_03.png", "proba_04.png", "notes.png",
                 "classes.png", "novelty_p.png", "band_shift.png", *users):
        (tmp_path / name).write_bytes(b"x")
    remove_stale(tmp_path, [tmp_path / "band_01.png", tmp_path / "band_02.png",
                            tmp_path / "classes.png"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["band_01.png", "band_02.png", "classes.png", "notes.png", *users])


def test_jitter_of_a_tenth_of_a_step_keeps_few_pixel_columns_together():
    # with two pixels per column, jitter of 0.1 step split columns in two (the grid was
    # then refused, blaming an innocent pixel): columns are cut at half the typical gap
    from ramancam.maps.grid import infer_grid

    for seed in range(10):
        r = np.random.default_rng(seed)
        ix, iy = (a.ravel() for a in np.meshgrid(np.arange(20), np.arange(2)))
        x = 100 + 0.5 * ix + r.uniform(-0.05, 0.05, ix.size)
        y = 50 + 0.5 * iy + r.uniform(-0.05, 0.05, iy.size)
        g = infer_grid(x, y)
        assert (g.nx, g.ny) == (20, 2) and abs(g.step_x - 0.5) < 0.01


def test_default_band_images_are_peaks_not_points_on_one_broad_band():
    """The band images' default shifts were the largest values at least 2 % of the range
    apart: one broad band (or a map rising to the grid's end) gave all three images, on
    its flank, and the second band none."""
    from ramancam.maps.images import top_bands

    x = np.arange(400.0, 1801.0)
    broad = np.exp(-0.5 * ((x - 1000) / 60) ** 2)  # 140 cm-1 wide: 2 % is 28 cm-1
    narrow = 0.6 * np.exp(-0.5 * ((x - 1450) / 4) ** 2)
    rising = 0.4 * (x - 400) / 1400
    bands = top_bands(broad + narrow + rising, x)
    assert abs(bands[0] - 1000) <= 2 and bands[1] == 1450.0, bands
    assert bands[2] == 1800.0  # the end, where the map is highest on its edge
    # a noise ripple on the broad band's flank is no peak (it outranked the narrow band)
    lorentz = 1.0 / (1 + ((x - 1000) / 120) ** 2) + 0.6 / (1 + ((x - 1450) / 5) ** 2)
    ripple = lorentz + 0.002 * np.random.default_rng(0).standard_normal(x.size)
    b = top_bands(ripple, x, n=2)
    assert abs(b[0] - 1000) <= 3 and b[1] == 1450.0, b
    # fewer peaks than images: the largest other values fill in, 2 % apart
    assert top_bands(broad, x, n=3) == [1000.0, 972.0, 1028.0]
    # NaN (a point no pixel had a value for) is never chosen
    v = broad.copy()
    v[600] = np.nan
    assert 1000.0 not in top_bands(v, x, n=1)


def _class_image(k, pred, tmp_path):
    """classes.png of ``pred`` among ``k`` classes, drawn and saved as write_map_images does
    (any warning an error), and its legend's texts and box inside the figure."""
    import warnings

    from ramancam.maps.images import _new_figure, draw_class_image, save_figure

    g = MapGrid.regular(pred.shape[1], pred.shape[0])
    fig, ax = _new_figure(g, extra_w=2.6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_class_image(ax, g, pred, [f"class{i:03d}" for i in range(k)],
                         title="predicted class")
        save_figure(fig, tmp_path / "classes.png")
    legend = ax.get_legend()
    box, page = legend.get_window_extent(), fig.bbox
    # (a frameless legend's outer pad, 3 pixels, may reach past the right edge: no text)
    inside = box.y0 >= page.y0 and box.y1 <= page.y1 and box.x1 <= page.x1 + 4
    return [t.get_text() for t in legend.get_texts()], inside, ax


def test_class_legend_lists_the_classes_in_the_map_and_fits(tmp_path):
    # a 40-class model on a map of classes 30-39: the legend listed class000 (0) ...
    # class026 (0) and ran off the image, so none of the map's classes could be named (and
    # constrained layout warned that the axes collapsed)
    pred = np.repeat(np.arange(30, 40), 3).reshape(5, 6)
    pred[0, :2] = 31  # class 31 has the most pixels, class 30 one
    texts, inside, ax = _class_image(40, pred, tmp_path)
    assert inside and ax.get_legend()._ncols == 1  # one column where one fits
    assert texts[0] == "class031 (5)" and texts[-1] == "class030 (1)"
    assert sorted(texts) == sorted(f"class{i:03d} ({(pred == i).sum()})" for i in range(30, 40))
    # 120 classes in a 20 x 12 map: as many as fit in two columns, most pixels first, the
    # rest summed (one column listed 18 of 30 classes, leaving 12 regions' colours unnamed)
    pred = np.random.default_rng(0).choice(120, size=(12, 20))
    pred[:2] = 7
    pred[0, 0] = -1
    texts, inside, ax = _class_image(120, pred, tmp_path)
    assert inside and texts[0] == f"class007 ({(pred == 7).sum()})"
    assert ax.get_legend()._ncols == 2
    assert texts[-1] == "no spectrum (1)"
    more = texts[-2]
    n_more, pixels = (int(v) for v in re.fullmatch(r"\+ (\d+) more classes \((\d+)\)",
                                                   more).groups())
    shown = [int(t.rsplit("(", 1)[1][:-1]) for t in texts[:-2]]
    assert 25 <= len(shown) < 60 and shown == sorted(shown, reverse=True)
    assert len(shown) + n_more == len(np.unique(pred[pred >= 0]))
    assert sum(shown) + pixels == (pred >= 0).sum()
    # a line scan's short strip holds a few
    texts, inside, _ = _class_image(120, np.arange(60).reshape(1, 60) % 40, tmp_path)
    assert inside and texts[-1].startswith("+ ")


def test_class_colours_of_many_classes_can_be_told_apart():
    # above 20 classes the colours were hues evenly spaced on a cyclic map: for 40 classes
    # class000 #ff0000, class001 #ff2300, class039 #ff003b
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    from ramancam.maps.images import COLORBLIND_SAFE, _palette, draw_class_image

    tab20 = [mcolors.to_hex(colormaps["tab20"](i)) for i in [*range(0, 20, 2),
                                                            *range(1, 20, 2)]]
    # after the colour-blind-safe nine, tab20 less its light grey (0.06 from the grey of
    # missing pixels) and its light cyan (0.098 from its light blue)
    assert class_colors(9) == list(COLORBLIND_SAFE)
    assert class_colors(27)[9:] == [c for c in tab20 if c not in ("#c7c7c7", "#9edae5")]
    assert class_colors(12) == class_colors(27)[:12] == class_colors(40)[:12]
    rgb = np.array([mcolors.to_rgb(c) for c in class_colors(len(_palette()))])
    apart = np.linalg.norm(rgb[:, None] - rgb[None], axis=-1) + 9 * np.eye(len(rgb))
    assert len(rgb) >= 40 and apart.min() >= 0.1
    assert len(set(class_colors(120))) == 120
    # past the palette, the classes in the image take its colours
    ax = Figure().add_subplot()
    draw_class_image(ax, MapGrid.regular(3, 2), np.array([[3, 80, 119], [3, 80, 119]]),
                     [f"c{i}" for i in range(120)])
    patches = ax.get_legend().get_patches()
    assert [mcolors.to_hex(p.get_facecolor()) for p in patches] == _palette()[:3]


def test_no_class_colour_looks_like_a_pixel_without_a_class():
    # class 18 of 19 or more classes was tab20's light grey #c7c7c7, 0.06 from the grey of
    # "no spectrum" (#d0d0d0): its pixels looked like holes in the map. Every class colour
    # keeps the palette's own distance (0.1 in RGB) from the colours of missing, unknown and
    # not predicted pixels and from the white background, for any number of classes.
    from ramancam.maps.images import NOT_PREDICTED_COLOR, UNKNOWN_COLOR

    specials = np.array([mcolors.to_rgb(c) for c in (MISSING_COLOR, UNKNOWN_COLOR,
                                                     NOT_PREDICTED_COLOR, "white")])
    for n in range(1, 241):
        rgb = np.array([mcolors.to_rgb(c) for c in class_colors(n)])
        near = np.linalg.norm(rgb[:, None] - specials[None], axis=-1)
        assert near.min() >= 0.1, (n, class_colors(n)[int(near.min(axis=1).argmin())])


@pytest.mark.parametrize(("levels", "expected"), [(3, [1, 2, 3]), (240, None), (11, None),
                                                  (21, None), (48, None)])
def test_set_size_colour_bar_ticks_a_few_whole_numbers(levels, expected):
    # a 240-class model's set_size.png had 240 tick labels printed over each other
    from matplotlib.figure import Figure

    from ramancam.maps.images import draw_value_image

    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    draw_value_image(ax, MapGrid.regular(3, 2), np.array([[1.0, 2, 3], [1, 2, np.nan]]),
                     vmin=1, vmax=levels, levels=levels, label="classes in the set")
    fig.draw_without_rendering()
    bar = fig.axes[-1]
    lo, hi = bar.get_ylim()
    ticks = [t for t in bar.get_yticks() if lo <= t <= hi]
    if expected is not None:
        assert ticks == expected
    else:
        assert 3 <= len(ticks) <= 12 and all(float(t).is_integer() for t in ticks)
        # 1 (one class fits, the title's value) and the largest set are ticked (past 10
        # levels neither was: 5, 10, ... 45 on a 48-class bar whose pixels are all 1)
        assert ticks[0] == 1 and ticks[-1] == levels


def test_many_classes_draw_the_predicted_ones_and_keep_every_number(tmp_path, rng):
    # a 260-class model wrote 260 probability images for a map of 260 pixels (68 s of
    # drawing, an 8 MB report) and a class_means.png 68,684 pixels tall
    from ramancam.maps import outputs
    from ramancam.maps.images import CLASS_IMAGES

    k = 30
    pred = np.array([*range(22), 25, 25, 25, 26, 26, 26, 27, 27])  # 25 most, 22 least
    proba = np.full((30, k), 0.1 / (k - 1))
    proba[np.arange(30), pred] = 0.9
    names = [f"c{i}" for i in range(k)]
    paths = outputs.write_explain_outputs(
        tmp_path, MapGrid.regular(6, 5), rng.random((30, 40)), rng.normal(size=(30, 40)),
        np.arange(400.0, 440.0), proba, names, method="fc", bands=[420.0])
    drawn = [p.name for p in paths if p.name.startswith("proba_")]
    assert CLASS_IMAGES == 20  # the 20 of most pixels, numbered as their class
    assert drawn == [*(f"proba_{i + 1:02d}.png" for i in range(17)), "proba_26.png",
                     "proba_27.png", "proba_28.png"]
    means = read_table(tmp_path / "class_means.csv", label_col="class")
    assert sorted(set(means.labels)) == sorted([*names[:22], *names[25:28]])  # all of them
    height = imread(tmp_path / "class_means.png").shape[0]
    assert height < 2.4 * 12 * 110 + 200  # 12 panels, not 22
    html = paths[-1].read_text()
    assert "Drawn for the 20 classes predicted at the most pixels, of 30" in html
    assert "Probability of c21." not in html and "Probability of c27." in html
    assert "Drawn for the 12 classes with the most pixels, of 25 predicted" in html
    assert outputs.drawn_note(paths, k, proba, "predictions.csv") == (
        "note: drew the probability images of the 20 classes predicted at the most pixels, "
        "of 30 (proba_NNN.png is class NNN; every class's probability is in "
        "predictions.csv); and the class means of the 12 classes with the most pixels, of "
        "25 predicted (class_means.csv has every one)")
    assert outputs.drawn_note(paths[:4], 2, pred.clip(0, 1), "x") is None
    # a Zarr run's note, from the run's pixels per class, is the same
    from types import SimpleNamespace

    from ramancam.cli._scale import _drawn_note

    counts = np.bincount(pred, minlength=k)
    run = SimpleNamespace(class_pixels=np.vstack([counts, np.zeros(k, dtype=int)]))
    assert _drawn_note(paths, run) == outputs.drawn_note(paths, k, proba,
                                                         "the store's proba array")


def test_class_means_titles_keep_long_names_apart(tmp_path, monkeypatch):
    # the panels' titles were the full names: three RRUFF twins ran off the figure alike
    from ramancam.maps import outputs

    drawn = []
    monkeypatch.setattr(outputs, "save_figure",
                        lambda fig, path: drawn.append(fig) or path)
    names = [f"Monazite-(Ce) R040106 {nm} nm unoriented processed" for nm in (514, 532, 785)]
    axis = np.linspace(400.0, 1800.0, 50)
    ones = {i: np.ones(50) for i in range(3)}
    outputs.write_class_means(tmp_path, axis, names, np.array([4, 3, 2]), ones, ones, "fc")
    titles = [ax.get_title(loc="left") or ax.get_title() for ax in drawn[0].axes
              if ax.get_title(loc="left") or ax.get_title()]
    assert len(titles) == 3 and len(set(titles)) == 3
    assert all(len(t.split(":")[0]) <= 32 for t in titles)
    assert [nm in t for t, nm in zip(titles, ("514", "532", "785"), strict=True)] == [True] * 3


def test_class_means_caption_says_flagged_pixels_count_with_their_nearest_class(tmp_path,
                                                                                   rng):
    # the class table said 9 pixels of "a", class_means.png "mean of 12 pixels" and the
    # caption "over the pixels predicted as each class": the means count the pixels
    # flagged unknown under their nearest class, which the page did not say
    from ramancam.maps import outputs

    g = MapGrid.regular(4, 3)
    proba = np.tile([[0.7, 0.3]], (12, 1))
    unknown = np.zeros(12, dtype=bool)
    unknown[:3] = True
    for flags, said in ((unknown, True), (None, False), (np.zeros(12, dtype=bool), False)):
        out = tmp_path / str(said) / str(flags is None)
        out.mkdir(parents=True)
        paths = outputs.write_explain_outputs(
            out, g, rng.random((12, 40)), rng.normal(size=(12, 40)), np.arange(400.0, 440.0),
            proba, ["a", "b"], method="fc", bands=[420.0], unknown=flags)
        html = paths[-1].read_text()
        means = read_table(out / "class_means.csv", label_col="class")
        assert {int(v) for v in means.meta["n_pixels"]} == {12}  # the flagged ones too
        assert ("The 3 pixels flagged unknown count with their nearest class" in html) == said
        assert ("flagged unknown count" in html) == said


def _saved_figures(monkeypatch):
    """The (figure, file name) of every figure :mod:`ramancam.maps.outputs` saves from now
    on, saved all the same."""
    from ramancam.maps import outputs

    drawn = []
    real = outputs.save_figure
    monkeypatch.setattr(outputs, "save_figure",
                        lambda fig, path: drawn.append((fig, path.name)) or real(fig, path))
    return drawn


def test_band_images_say_which_class_the_map_explains(tmp_path, monkeypatch, rng):
    # band_NN.png's map panel showed each pixel's map for its own predicted class (on the
    # chondro map a near copy of classes.png) under "(red: supports the class)", which
    # never said which class
    from ramancam.maps import outputs

    drawn = _saved_figures(monkeypatch)
    g = MapGrid.regular(4, 3)
    proba = np.tile([[0.7, 0.3]], (12, 1))
    for target, said in ((None, "for each pixel's predicted class"),
                         ("predicted", "for each pixel's predicted class"),
                         ("all", "for each pixel's predicted class"),
                         ("true", "for each pixel's labelled class"),
                         ("b", "for class b at every pixel")):
        drawn.clear()
        out = tmp_path / str(target)
        out.mkdir()
        outputs.write_explain_outputs(
            out, g, rng.random((12, 40)), rng.normal(size=(12, 40)), np.arange(400.0, 440.0),
            proba, ["a", "b"], method="fc", bands=[420.0], target=target)
        fig = next(f for f, name in drawn if name == "band_01.png")
        title = fig.axes[1].get_title()  # intensity, the map, then their colour bars
        assert title.startswith("fc map at 420 cm-1") and said in title, title
        assert "red: supports it, blue: argues against it" in title
    # the map alone (a Zarr store whose cube is gone) says it too
    drawn.clear()
    outputs.write_band_images(tmp_path, g, np.arange(400.0, 440.0), [420.0],
                              [rng.normal(size=(3, 4))], "fc", target="b")
    assert "for class b at every pixel" in drawn[0][0].axes[0].get_title()


def test_class_means_png_says_what_its_colours_and_axes_mean(tmp_path, monkeypatch, rng):
    # class_means.png did not say what red and blue mean (the HTML caption did), nor that
    # each panel's map axis has a range of its own; and its "mean of 12 pixels" counted
    # the pixels flagged unknown, which classes.png leaves out of the class
    from ramancam.maps import outputs

    drawn = _saved_figures(monkeypatch)
    g = MapGrid.regular(4, 3)
    proba = np.tile([[0.7, 0.3]], (12, 1))
    proba[8:] = [0.2, 0.8]
    unknown = np.zeros(12, dtype=bool)
    unknown[[0, 1, 9]] = True
    for target, whose in ((None, "for the panel's class"), ("b", "for class b")):
        drawn.clear()
        out = tmp_path / str(target)
        out.mkdir()
        outputs.write_explain_outputs(
            out, g, rng.random((12, 40)), rng.normal(size=(12, 40)), np.arange(400.0, 440.0),
            proba, ["a", "b"], method="fc", bands=[420.0], unknown=unknown, target=target)
        fig = next(f for f, name in drawn if name == "class_means.png")
        assert fig.get_suptitle() == (
            f"black: mean preprocessed spectrum; fill: mean fc map {whose}\n"
            "red: supports it, blue: argues against it; each panel's right axis is scaled "
            "to its own largest |value|")
        titles = [ax.get_title(loc="left") or ax.get_title() for ax in fig.axes]
        assert [t for t in titles if t] == ["a: mean of 8 pixels, 2 of them flagged unknown",
                                            "b: mean of 4 pixels, 1 of them flagged unknown"]
    drawn.clear()
    outputs.write_class_means(tmp_path, np.arange(40.0), ["a"], np.array([3]),
                              {0: np.ones(40)}, {0: np.ones(40)}, "fc")
    assert [ax.get_title() for ax in drawn[0][0].axes if ax.get_title()] == [
        "a: mean of 3 pixels"]


def test_band_shift_image_says_which_sign_is_which(tmp_path, monkeypatch, rng):
    # band_shift.png's colour bar read "band shift (cm-1)" on a red-blue scale and nothing
    # said which way red went (checks.band_shift: positive = bands at a higher shift)
    from ramancam.maps import images

    titles: list[str] = []
    real = images.draw_value_image

    def spy(ax, grid, values, *, label, title="", **kw):
        titles.append(title)
        return real(ax, grid, values, label=label, title=title, **kw)

    monkeypatch.setattr(images, "draw_value_image", spy)
    g = MapGrid.regular(4, 3)
    for unit, higher in (("cm-1", "a higher Raman shift"), ("channels", "a higher channel")):
        titles.clear()
        images.write_map_images(tmp_path, g, np.zeros((3, 4), dtype=int),
                                np.full((3, 4, 2), 0.5), ["a", "b"],
                                band_shift=rng.normal(size=(3, 4)), shift_unit=unit)
        said = [t for t in titles if t.startswith("band shift")]
        assert len(said) == 1 and f"\nred: bands at {higher}, blue: lower\n" in said[0]
