"""ramancam.plot: every function returns axes and draws what it should."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from ramancam import RamancamError, plot


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def axis() -> np.ndarray:
    return np.arange(200, dtype=float)


def _signed_map(axis: np.ndarray) -> np.ndarray:
    # positive bump at 50, negative dip at 150
    return np.exp(-((axis - 50) / 5) ** 2) - 0.5 * np.exp(-((axis - 150) / 5) ** 2)


def test_scale_max_abs_keeps_sign_and_handles_zero():
    out = plot.scale_max_abs([[2.0, -4.0, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(out, [[0.5, -1.0, 0.25], [0.0, 0.0, 0.0]])


def test_spectrum_map_fills_positive_red_and_negative_blue(axis, rng):
    spectrum = rng.random(axis.size)
    m = _signed_map(axis)
    ax = plot.spectrum_map(axis, spectrum, m, title="t")
    assert isinstance(ax, matplotlib.axes.Axes)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), spectrum)
    assert ax.get_xlabel() == "channel"
    twin = ax.map_axes
    fills = [c for c in twin.collections if isinstance(c, PolyCollection)]
    assert len(fills) == 2
    red = matplotlib.colors.to_rgba(plot.POSITIVE_COLOR)[:3]
    blue = matplotlib.colors.to_rgba(plot.NEGATIVE_COLOR)[:3]
    pos, neg = fills
    np.testing.assert_allclose(pos.get_facecolor()[0][:3], red)
    np.testing.assert_allclose(neg.get_facecolor()[0][:3], blue)
    # the red fill lies above zero, the blue one below
    assert pos.get_paths()[0].vertices[:, 1].min() >= -1e-12
    assert neg.get_paths()[0].vertices[:, 1].max() <= 1e-12
    lo, hi = twin.get_ylim()
    assert lo == pytest.approx(-hi)  # symmetric: zero in the middle
    # a map without negative values (Grad-CAM's ReLU) starts at the bottom: no empty half
    unsigned = plot.spectrum_map(axis, spectrum, np.abs(m)).map_axes
    assert unsigned.get_ylim()[0] == 0.0 and unsigned.get_ylim()[1] > 0
    plt.close("all")


def test_channels_numbered_from_1_are_labelled_channel(rng):
    # channels 1..1024, as MATLAB, R and spreadsheets number them, were labelled
    # "Raman shift (cm-1)": the plot's rule wanted the first channel to be 0, while
    # train's note (checks.channel_axis_note) took 0 or 1
    x = np.arange(1.0, 1025.0)
    ax = plot.spectrum_map(x, rng.random(x.size), rng.standard_normal(x.size))
    assert ax.get_xlabel() == "channel"
    assert plot.shift_unit(x) == "channels" and plot.at_shift(x, 500) == "channel 500"
    ax = plot.spectrum_map(x + 399, rng.random(x.size), rng.standard_normal(x.size))
    assert "Raman shift" in ax.get_xlabel()  # 400-1423 in steps of 1: Raman shifts
    plt.close("all")


@pytest.mark.parametrize("last", [2000.0, 1000.0, 1500.0])
def test_raman_shifts_from_1_in_steps_of_1_are_cm1(last):
    # 227432c labelled any axis 1, 2, ... "channels"; a detector's channels number a power
    # of two (1..1024), a grid of Raman shifts from 1 cm-1 (1..2000) is no detector's
    x = np.arange(1.0, last + 1)
    assert plot.shift_unit(x) == "cm-1" and plot.at_shift(x, 500) == "500 cm-1"
    assert plot.shift_unit(np.arange(0.0, last)) == "channels"  # from 0: as before 227432c


def test_spectrum_map_uses_given_axes_and_cm1_label(rng):
    _fig, ax0 = plt.subplots()
    x = np.linspace(400, 1800, 50)
    ax = plot.spectrum_map(x, rng.random(50), rng.standard_normal(50), ax=ax0)
    assert ax is ax0
    assert "Raman shift" in ax.get_xlabel()


def test_spectrum_map_draws_a_class_reference_with_its_spread(axis, rng):
    spectrum, ref, sd = rng.random(axis.size), rng.random(axis.size), 0.1 + 0 * axis
    ax = plot.spectrum_map(axis, spectrum, _signed_map(axis), reference=ref, reference_sd=sd,
                           reference_label="mean of A")
    reference_line, spectrum_line = ax.lines  # the spectrum is drawn last, on top
    np.testing.assert_allclose(reference_line.get_ydata(), ref)
    np.testing.assert_allclose(spectrum_line.get_ydata(), spectrum)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx((ref - sd).min()) and \
        band.max() == pytest.approx((ref + sd).max())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["mean of A +- sd", "mean of A", "spectrum"]
    assert plot.spectrum_map(axis, spectrum, _signed_map(axis)).get_legend() is None
    with pytest.raises(RamancamError, match="reference must have one value per axis point"):
        plot.spectrum_map(axis, spectrum, _signed_map(axis), reference=ref[:-1])


def test_class_stack_scales_each_class_and_offsets_them(rng):
    x1, x2 = np.linspace(100, 500, 50), np.linspace(200, 900, 80)
    y1, y2 = 1000 * rng.random(50), 3 * rng.random(80)
    y2[0] = np.nan  # outside a file's range
    ax = plot.class_stack(["big", "small"], [[(x1, y1)], [(x2, y2), (x2, 0.5 * y2)]],
                          bands=[None, (x2, 0.9 * y2, 1.1 * y2)])
    big, small, half = ax.lines
    assert np.nanmax(big.get_ydata()) == pytest.approx(1.0)  # own scale, no offset
    # the band's top (1.1 * y2) sets the second class's scale; offset 1.2
    assert np.nanmax(small.get_ydata()) == pytest.approx(1.2 + 1 / 1.1)
    np.testing.assert_allclose(half.get_ydata()[1:] - 1.2, 0.5 * (small.get_ydata()[1:] - 1.2))
    assert ax.get_xlim() == (100.0, 900.0)
    assert [t.get_text() for t in ax.texts] == ["big", "small"]
    assert "Raman shift" in ax.get_xlabel()
    with pytest.raises(RamancamError, match="one entry per class \\(2\\); got 1 lines"):
        plot.class_stack(["a", "b"], [[(x1, y1)]])
    with pytest.raises(RamancamError, match="spectrum must have one value per axis point"):
        plot.class_stack(["a"], [[(x1, y1[:-1])]])


def test_spectrum_map_rejects_wrong_lengths(axis):
    with pytest.raises(RamancamError, match="signed_map must have one value per axis point"):
        plot.spectrum_map(axis, np.ones(axis.size), np.ones(axis.size - 1))
    with pytest.raises(RamancamError, match="spectrum must be 1-D"):
        plot.spectrum_map(axis, np.ones((2, axis.size)), np.ones(axis.size))


def test_maps_overlay_draws_one_line_per_setting_and_inset(axis, rng):
    maps = {f"size {k} (64)": rng.standard_normal(axis.size) for k in (8, 16, 32)}
    ax = plot.maps_overlay(axis, rng.random(axis.size), maps, inset=(40, 60))
    curves = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in curves] == ["spectrum", *maps]
    for ln in curves:
        assert np.max(np.abs(ln.get_ydata())) == pytest.approx(1.0)
    insets = [a for a in ax.child_axes]
    assert len(insets) == 1 and insets[0].get_xlim() == (40.0, 60.0)


def test_maps_overlay_inset_stays_inside_axis(axis):
    ax = plot.maps_overlay(axis, None, {"a": np.ones(axis.size)}, inset=(150, 300))
    assert ax.child_axes[0].get_xlim() == (150.0, 199.0)


def test_maps_overlay_errors(axis):
    with pytest.raises(RamancamError, match="maps must hold at least one map"):
        plot.maps_overlay(axis, None, {})
    with pytest.raises(RamancamError, match="inset must be"):
        plot.maps_overlay(axis, None, {"a": np.ones(axis.size)}, inset=(5, 5))


def test_confusion_matrix_writes_counts_and_normalises_rows():
    cm = np.array([[8, 2], [0, 5]])
    ax = plot.confusion_matrix(cm, ["<b>A</b>", "B"])
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0", "2", "5", "8"]
    img = ax.images[0].get_array()
    np.testing.assert_allclose(img, [[0.8, 0.2], [0.0, 1.0]])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["<b>A</b>", "B"]


def test_confusion_matrix_errors():
    with pytest.raises(RamancamError, match="cm must be a square matrix"):
        plot.confusion_matrix(np.ones((2, 3)), ["a", "b"])
    with pytest.raises(RamancamError, match="class_names must have one name per row"):
        plot.confusion_matrix(np.ones((2, 2)), ["a"])


def test_cv_accuracy_bars_side_by_side():
    acc = {"CNN": [1.0, 0.9, 0.95], "PCA+SVM": [0.8, 0.85, 0.9]}
    ax = plot.cv_accuracy(acc)
    assert len(ax.patches) == 6
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1.0, 0.9, 0.95, 0.8, 0.85, 0.9]
    # the two models' bars of fold 1 sit side by side, not on top of each other
    assert ax.patches[0].get_x() < ax.patches[3].get_x()
    assert "mean 0.950" in ax.get_legend().get_texts()[0].get_text()


def test_cv_accuracy_of_one_split_shows_its_value_not_a_mean():
    # a fixed split's one test part: the legend said "CNN (mean 0.900)", a mean of one value
    ax = plot.cv_accuracy({"CNN": [0.9], "PLS-DA": [0.75]})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["CNN (0.900)",
                                                                  "PLS-DA (0.750)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["test split"]
    folds = plot.cv_accuracy({"CNN": [0.9, 0.7]})
    assert [t.get_text() for t in folds.get_legend().get_texts()] == ["CNN (mean 0.800)"]
    assert [t.get_text() for t in folds.get_xticklabels()] == ["fold 1", "fold 2"]


def test_cv_accuracy_rejects_uneven_folds():
    with pytest.raises(RamancamError, match="same, non-zero number of folds"):
        plot.cv_accuracy({"a": [1.0], "b": [1.0, 0.5]})
    with pytest.raises(RamancamError, match="at least one model"):
        plot.cv_accuracy({})


def test_map_band_draws_mean_and_sd(axis, rng):
    maps = rng.standard_normal((5, axis.size))
    ax = plot.map_band(axis, maps, label="class A", spectrum=rng.random(axis.size))
    mean_line = next(ln for ln in ax.lines if ln.get_label() == "class A")
    np.testing.assert_allclose(mean_line.get_ydata(), maps.mean(axis=0))
    band = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(band) == 1
    ys = band[0].get_paths()[0].vertices[:, 1]
    hi = maps.mean(axis=0) + maps.std(axis=0, ddof=1)
    assert ys.max() == pytest.approx(hi.max())


def test_map_band_shape_error(axis):
    with pytest.raises(RamancamError, match="maps must have shape"):
        plot.map_band(axis, np.ones(axis.size))


def test_map_with_reference_overlays_pure_spectrum(axis, rng):
    ref = np.exp(-((axis - 50) / 3) ** 2) * 7.0
    ax = plot.map_with_reference(axis, _signed_map(axis), ref, spectrum=rng.random(axis.size),
                                 reference_label="alanine")
    ref_line = next(ln for ln in ax.lines if ln.get_label() == "alanine")
    np.testing.assert_allclose(ref_line.get_ydata(), ref / 7.0)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2


def test_vip_beside_map_same_axis(axis, rng):
    vip = rng.random(axis.size) * 3
    ax = plot.vip_beside_map(axis, vip, _signed_map(axis))
    labels = [ln.get_label() for ln in ax.lines]
    assert "PLS-DA VIP" in labels and "CNN map" in labels
    v = next(ln for ln in ax.lines if ln.get_label() == "PLS-DA VIP")
    assert np.max(v.get_ydata()) == pytest.approx(1.0)


def test_figure_png_returns_png_and_closes():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    data = plot.figure_png(fig)
    assert data.startswith(b"\x89PNG")
    assert not plt.fignum_exists(fig.number)


def test_importing_the_plots_leaves_the_backend_alone():
    """A fresh interpreter that chose a backend keeps it after importing ramancam's plots (a
    notebook's inline backend stays; the command line picks Agg for itself)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    code = ("import matplotlib; matplotlib.use('svg'); import ramancam.plot, "
            "ramancam.train_report; print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "svg"


def test_legends_and_names_sit_outside_the_data():
    # the legend of a map over a spectrum was placed by the spectrum alone and hid map peaks;
    # the class names of a class stack sat over the low-shift end of the curves
    import matplotlib.pyplot as plt

    from ramancam import plot

    x = np.arange(400.0, 1800.0, 2.0)
    s = np.exp(-0.5 * ((x - 1000) / 8) ** 2)
    fig, ax = plt.subplots()
    plot.spectrum_map(x, s, s, ax=ax, reference=s, title="t")
    fig.canvas.draw()
    box, legend = ax.get_window_extent(), ax.get_legend().get_window_extent()
    assert legend.y0 >= box.y1 - 1  # above the axes
    fig2, ax2 = plt.subplots()
    plot.class_stack([f"c{i}" for i in range(12)], [[(x, s)] for _ in range(12)], ax=ax2)
    fig2.canvas.draw()
    right = ax2.get_window_extent().x1
    assert all(t.get_window_extent().x0 >= right for t in ax2.texts)
    colors = {ln.get_color() for ln in ax2.lines}
    assert len(colors) == 12  # C{k % 10} repeated the first two
    plt.close(fig)
    plt.close(fig2)


def test_reliability_markers_grow_with_the_spectra_in_their_bin():
    # a bin of 2 spectra looked as sure as one of 200
    from matplotlib.collections import PathCollection

    from ramancam.train_report import _reliability_figure

    rng = np.random.default_rng(0)
    logits = np.zeros((100, 2))
    logits[:90, 0] = 6.0  # 90 confident spectra
    logits[90:, 0] = rng.uniform(0.1, 0.3, 10)  # 10 unsure ones
    fig = _reliability_figure(logits, np.zeros(100, dtype=np.int64), 1.0)
    (dots,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    sizes = dots.get_sizes()
    assert sizes.max() > 5 * sizes.min()
    assert sizes[-1] == sizes.max()  # the confident bin holds 90 of the 100
    plt.close(fig)


def test_rejected_inputs_leave_no_figure_open_and_are_said_in_words():
    # each left an empty figure (shown under the error in a notebook), or failed inside
    # matplotlib ("Axis limits cannot be NaN or Inf") or Python ('list' has no 'items')
    import matplotlib.pyplot as plt

    from ramancam import plot as P

    x = np.linspace(400.0, 1800.0, 50)
    s = np.exp(-((x - 1000.0) / 20.0) ** 2)
    m = s - 0.5
    before = len(plt.get_fignums())
    for call, match in [
        (lambda: P.spectrum_map(x, s, m, reference=s[:10]), "reference"),
        (lambda: P.spectrum_map(x, s, np.where(x > 1500, np.nan, m)), "must be finite"),
        (lambda: P.maps_overlay(x, s, [m, -m]), "maps must be a mapping"),
        (lambda: P.maps_overlay(x, s, {"a": m, "b": m}, colors=["r"]), "one colour per map"),
        (lambda: P.cv_accuracy([0.9, 0.8]), "fold_accuracy must be a mapping"),
    ]:
        with pytest.raises(RamancamError, match=match):
            call()
    assert len(plt.get_fignums()) == before
    # one NaN no longer blanks a whole curve
    np.testing.assert_array_equal(P.scale_max_abs([np.nan, 2.0, -4.0])[1:], [0.5, -1.0])


def test_long_names_are_cut_in_figures_not_in_tables():
    # a 90-character class name squeezed the confusion matrix and the map into a corner and
    # ran titles off the canvas
    from ramancam._labels import NAME_LIMIT
    from ramancam.maps import MapGrid
    from ramancam.maps.images import draw_class_image

    long = "Lactobacillus delbrueckii subsp. bulgaricus strain " + "x" * 40
    assert plot.short_name("PE") == "PE"
    cut = plot.short_name(long)
    head, tail = cut.split("\u2026")
    assert len(cut) == NAME_LIMIT and long.startswith(head) and long.endswith(tail)
    # cut in the middle: names that differ at their end stay apart
    assert plot.short_name(long[:-1] + "y") != cut
    ax = plot.confusion_matrix(np.array([[3, 1], [0, 4]]), [long, "b"])
    assert [t.get_text() for t in ax.get_yticklabels()] == [cut, "b"]
    plt.close(ax.figure)
    fig, ax = plt.subplots()
    draw_class_image(ax, MapGrid.regular(2, 2), np.array([[0, 1], [1, 0]]), [long, "b"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{cut} (2)", "b (2)"]
    plt.close(fig)


def test_the_reliability_legend_sits_beside_the_axes():
    # inside the axes (upper left) it hid the T = 1 point at (0.29, 1.0)
    from ramancam.train_report import _reliability_figure

    rng = np.random.default_rng(0)
    fig = _reliability_figure(rng.normal(size=(60, 3)), rng.integers(0, 3, 60), 1.5)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 > ax.get_window_extent().x1
    plt.close(fig)


RRUFF_NAMES = [f"{m} {r} {w} nm unoriented" for m, r in (("Monazite-(Ce)", "R040106"),
                                                         ("Hydroxylapatite", "R060180"))
               for w in (514, 532, 785)]


def test_long_names_that_differ_in_their_middle_stay_apart_in_one_figure():
    # short_name kept the first 21 and last 10 characters: the three lasers of a RRUFF
    # mineral were three identical rows of the confusion matrix and three identical names
    # beside different curves and legend patches
    from ramancam._labels import NAME_LIMIT, short_names
    from ramancam.maps import MapGrid
    from ramancam.maps.images import draw_class_image

    cut = short_names(RRUFF_NAMES)
    assert len(set(cut)) == 6 and all(len(c) <= NAME_LIMIT for c in cut)
    assert all(w in c for c, w in zip(cut, ["514", "532", "785"] * 2, strict=True))
    assert cut[0].startswith("Monazite-(Ce) R04") and cut[3].startswith("Hydroxylapatite")
    # short names stay, equal names stay equal, a name cut alone is cut as before
    long = "Lactobacillus delbrueckii subsp. bulgaricus strain " + "x" * 40
    assert short_names(["PE", long, "PE"]) == ["PE", plot.short_name(long), "PE"]
    # a differing part longer than the limit: numbered
    twins = ["a" * 5 + "x" * 40 + "1", "a" * 5 + "y" * 40 + "1"]
    twins += [short_names(twins)[0]]  # a name that reads as another's label
    assert len(set(short_names(twins))) == 3

    ax = plot.confusion_matrix(np.eye(6), RRUFF_NAMES)
    assert [t.get_text() for t in ax.get_yticklabels()] == cut
    assert [t.get_text() for t in ax.get_xticklabels()] == cut
    plt.close(ax.figure)
    x = np.linspace(400, 1800, 20)
    ax = plot.class_stack(RRUFF_NAMES, [[(x, x)]] * 6)
    assert [t.get_text() for t in ax.texts] == cut
    plt.close(ax.figure)
    fig, ax = plt.subplots()
    draw_class_image(ax, MapGrid.regular(3, 2), np.array([[0, 1, 2], [0, 1, 2]]),
                     RRUFF_NAMES[:3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{c} (2)" for c in cut[:3]]
    plt.close(fig)
    # the report's pixels to check: each panel's nearest class
    from ramancam.predict_report import _figure

    fig = _figure(x, [(f"s{i}", n, x, "low p") for i, n in enumerate(RRUFF_NAMES[:3])],
                  lambda name: None)
    assert [a.get_title(loc="left") for a in fig.axes] == [
        f"s{i}: nearest class {c}\n(low p)" for i, c in enumerate(cut[:3])]


def test_vip_and_reference_legends_sit_above_the_axes(rng):
    # pharma_vip.png's legend ("best") sat on the 1650 cm-1 amide I band its comment meant to
    # keep clear, and fig7's ("lower right") on the 1600-1800 cm-1 bands of the mixtures
    x = np.arange(400.0, 1800.0, 2.0)
    s = np.exp(-0.5 * ((x - 1650) / 8) ** 2)
    for draw in (lambda ax: plot.vip_beside_map(x, rng.random(x.size), s - 0.5, spectrum=s,
                                                ax=ax, title="class a"),
                 lambda ax: plot.map_with_reference(x, s - 0.5, s, spectrum=s, ax=ax,
                                                    reference_label="pure a",
                                                    title="class a")):
        fig, ax = plt.subplots(figsize=(8, 2.3))
        draw(ax)
        fig.canvas.draw()
        box, legend = ax.get_window_extent(), ax.get_legend().get_window_extent()
        assert legend.y0 >= box.y1 - 1  # above the axes, over no curve
        assert ax.get_title(loc="left") == "class a"
        assert ax.title.get_window_extent().y0 >= legend.y1 - 1  # the title above it
        plt.close(fig)


def test_a_map_of_zeros_is_said_in_the_panel():
    # fig3_common.png drew an all-zero Grad-CAM map as a flat line under the zero line,
    # captioned "each scaled to max |value| = 1"
    x = np.arange(200.0)
    s = np.exp(-0.5 * ((x - 100) / 3) ** 2)
    ax = plot.maps_overlay(x, s, {"Grad-CAM": np.zeros(200), "FC-importance": s - 0.2},
                           title="class peak_500")
    assert ax.get_title() == "class peak_500\n(Grad-CAM: zero everywhere)"
    ax = plot.maps_overlay(x, s, {"Grad-CAM": s, "FC-importance": s - 0.2}, title="t")
    assert ax.get_title() == "t"
    ax = plot.maps_overlay(x, None, {"map": np.zeros(200)})
    assert ax.get_title() == "zero everywhere"
    plt.close("all")


def _looks(ax):
    """(line style, marker) of every line in the axes' legend: what tells the curves apart
    in greyscale, in print and to a colour-blind reader."""
    from matplotlib.lines import Line2D

    return [(h.get_linestyle(), h.get_marker()) for h in ax.get_legend().legend_handles
            if isinstance(h, Line2D)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 9])
def test_overlaid_curves_are_told_apart_without_colour(axis, rng, n):
    # fig3_common.png (the README's demo figure) in greyscale: Grad-CAM (tab:green) and
    # FC-importance (tab:blue) became one grey, and every curve was solid
    maps = {f"m{i}": rng.standard_normal(axis.size) for i in range(n)}
    ax = plot.maps_overlay(axis, rng.random(axis.size), maps, inset=(40, 60))
    looks = _looks(ax)
    assert len(looks) == n + 1 and len(set(looks)) == n + 1, looks
    # the inset draws each curve as the axes do
    sub = ax.child_axes[0]
    assert ([(ln.get_linestyle(), ln.get_marker()) for ln in sub.lines[:n + 1]]
            == [(ln.get_linestyle(), ln.get_marker()) for ln in ax.lines[:n + 1]])


def test_fig3_tells_grad_cam_from_fc_importance_without_colour(axis, rng):
    # as experiments.common draws Fig. 3: the paper's colours, and line styles apart
    s = rng.random(axis.size)
    ax = plot.maps_overlay(axis, s, {"Grad-CAM": s, "FC-importance": s - 0.5},
                           colors=("tab:green", "tab:blue"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "spectrum", "Grad-CAM", "FC-importance"]
    assert len(set(_looks(ax))) == 3


def test_every_curve_figure_tells_its_lines_apart_without_colour(axis, rng):
    s = rng.random(axis.size)
    for ax in (plot.vip_beside_map(axis, rng.random(axis.size), _signed_map(axis), spectrum=s),
               plot.map_band(axis, rng.standard_normal((3, axis.size)), spectrum=s),
               plot.map_with_reference(axis, _signed_map(axis), s, spectrum=s)):
        looks = _looks(ax)
        assert len(looks) >= 2 and len(set(looks)) == len(looks), looks
    # bars: one hatch per model
    ax = plot.cv_accuracy({"CNN": [0.9, 0.8], "PCA+SVM": [0.7, 0.8], "PLS-DA": [0.6, 0.9]})
    hatches = [p.get_hatch() for p in ax.get_legend().get_patches()]
    assert len(set(hatches)) == 3, hatches
