"""Images of a classified map: classes, confidence, per-class probability, band images.

Every image is an array of shape ``(ny, nx)`` on a :class:`~ramancam.maps.grid.MapGrid`
(row 0 = smallest y, drawn with ``origin="lower"``); pixels without a spectrum are grey.
Figures are bare :class:`matplotlib.figure.Figure` objects (no pyplot state, rendered with
Agg) written atomically. File names never contain user text: per-class files are numbered
(``proba_01.png``) and the class name is in the figure title and the HTML report.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import RamancamError
from .grid import MapGrid

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CLASS_IMAGES", "COLORBLIND_SAFE", "MISSING_COLOR", "NOT_PREDICTED_COLOR", "NUMBERED",
           "UNKNOWN_COLOR", "class_colors",
           "draw_class_image", "draw_value_image", "drawn_classes", "proba_class",
           "remove_stale", "save_figure", "write_map_images"]

#: Colour of pixels without a spectrum.
MISSING_COLOR = "#d0d0d0"
#: Colour of pixels flagged unknown (novelty detection); no class colour is black.
UNKNOWN_COLOR = "#000000"
#: Colour of pixels with a spectrum but no class: the model's recipe refused it (a dead
#: pixel), or a cube's pixel was all NaN. No class colour is magenta (white, as it was for
#: a day, vanished at the image's unframed edge).
NOT_PREDICTED_COLOR = "#ff00ff"
_DPI = 110


#: The first classes' colours: Paul Tol's "muted" qualitative scheme, made to stay apart for
#: readers with any of the common colour vision deficiencies (P. Tol, "Colour schemes",
#: SRON/EPS/TN/09-002, https://personal.sron.nl/~pault/), in his order. tab10, used before,
#: made pink and cyan one colour under deuteranopia, blue and purple under protanopia.
COLORBLIND_SAFE = ("#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77",
                   "#cc6677", "#882255", "#aa4499")


def class_colors(n: int) -> list[str]:
    """``n`` distinct colours (hex), the same for the same class index in every image and
    figure (fewer classes take the first of the same colours): up to 9 classes
    :data:`COLORBLIND_SAFE` (Paul Tol's "muted", told apart by colour-blind readers), then
    tab20's colours (its strong colours first, then their light partners, so that
    neighbouring classes never get a colour and its pale twin; not its light grey, which
    looked like a pixel without a spectrum, nor its light cyan, close to its light blue),
    then tab20b and tab20c (53 colours in all; evenly spaced hues on a cyclic map gave 40
    classes reds that no one could tell apart), then hues a golden angle apart. The colours
    after the first 9 are not chosen for colour-blind readers: the legends name them."""
    import matplotlib

    palette = _palette()
    if n <= len(palette):
        return palette[:n]
    # past the palette no set of colours stays apart: vary the hue by the golden angle and
    # the brightness in three steps, so that neighbouring classes at least differ
    rgb = matplotlib.colors.hsv_to_rgb(
        [((i * 0.618034) % 1.0, 0.75, (0.95, 0.7, 0.5)[i % 3]) for i in range(n - len(palette))])
    return [*palette, *(matplotlib.colors.to_hex(tuple(c)) for c in rgb.tolist())]


#: The least distance (in RGB, each channel 0 to 1) between two class colours, and between a
#: class colour and the colours of missing, unknown or not predicted pixels and the white
#: background.
_MIN_APART = 0.1


@functools.cache
def _palette() -> list[str]:
    """:data:`COLORBLIND_SAFE`, then tab20 (strong colours, then their light partners), then
    tab20b and tab20c by shade (each set's darkest of every hue, then the next shade), so
    that neighbours differ in hue. A colour is left out when it is close to one already
    taken (tab20c's light blue beside tab20's, tab20's light cyan beside its light blue) or
    to the colour of missing, unknown or not predicted pixels or the white background
    (tab20's light grey beside the grey of missing pixels): 53 colours."""
    import matplotlib

    def of(name: str, i: int) -> str:
        return str(matplotlib.colors.to_hex(matplotlib.colormaps[name](i)))

    def rgb(c: str) -> NDArray[np.float64]:
        return np.asarray(matplotlib.colors.to_rgb(c))

    candidates = [*COLORBLIND_SAFE,
                  *(of("tab20", i) for i in [*range(0, 20, 2), *range(1, 20, 2)])]
    for shade in (0, 2, 1, 3):
        for name, hues in (("tab20b", 5), ("tab20c", 5)):
            candidates += [of(name, 4 * hue + shade) for hue in range(hues)]
    colors: list[str] = []
    taken = [rgb(c) for c in (MISSING_COLOR, UNKNOWN_COLOR, NOT_PREDICTED_COLOR, "white")]
    for c in candidates:
        if min(float(np.linalg.norm(rgb(c) - t)) for t in taken) >= _MIN_APART:
            colors.append(c)
            taken.append(rgb(c))
    return colors


# A map whose pixels, drawn square, would give a strip thinner than this many inches (a
# column or a few of a tall map, a few rows of a wide one) is stretched to this thickness,
# as a line scan is: square pixels would leave a hairline and no room for the title.
_MIN_STRIP_IN = 1.6
_MAP_W_IN, _MAP_H_MAX_IN = 5.5, 8.0


def _strip(grid: MapGrid) -> str | None:
    """``"row"`` for a line scan or a map whose square pixels would be a hairline strip
    across, ``"column"`` for one down, ``None`` for a map drawn with square pixels."""
    if grid.kind == "line" or grid.ny == 1:
        return "row"
    left, right, bottom, top = grid.extent()
    aspect = abs(top - bottom) / abs(right - left) if right != left else 1.0  # either way up
    if grid.nx == 1 or _MAP_H_MAX_IN / aspect < _MIN_STRIP_IN:
        return "column"
    if _MAP_W_IN * aspect < _MIN_STRIP_IN:
        return "row"
    return None


def _figsize(grid: MapGrid, extra_w: float = 2.2) -> tuple[float, float]:
    """Figure size that keeps pixels square (maps) or a strip (line scans, thin maps)."""
    strip = _strip(grid)
    if strip == "row":
        return (7.5 + extra_w * 0.3, 2.2 if grid.kind == "line" or grid.ny == 1 else 2.8)
    if strip == "column":
        return (_MIN_STRIP_IN + 2.4 + extra_w, _MAP_H_MAX_IN)
    left, right, bottom, top = grid.extent()
    aspect = abs(top - bottom) / abs(right - left) if right != left else 1.0  # either way up
    h = min(max(_MAP_W_IN * aspect + 0.9, 2.2), _MAP_H_MAX_IN)
    # a tall map fills the height: as wide as its square pixels make it (no white margin
    # beside it), yet wide enough for the titles
    w = min(_MAP_W_IN, (h - 0.9) / aspect)
    return (max(w + extra_w, 6.2), h)


def _axes_labels(ax: Axes, grid: MapGrid) -> None:
    if grid.kind == "line":
        ax.set_xlabel("distance along the line")
        ax.set_yticks([])
        return
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    # one column or row: a single tick at its position (the pixel's edges crowd together)
    if grid.nx == 1:
        ax.set_xticks([grid.x0])
    if grid.ny == 1:
        ax.set_yticks([grid.y0])


def _show(ax: Axes, grid: MapGrid, image: NDArray[Any], **kw: Any) -> Any:
    stretched = _strip(grid) is not None
    return ax.imshow(image, origin="lower", extent=grid.extent(), interpolation="nearest",
                     aspect="auto" if stretched else "equal", **kw)


def draw_class_image(ax: Axes, grid: MapGrid, predicted: ArrayLike,
                     class_names: Sequence[str], *, title: str | None = None,
                     unknown: ArrayLike | None = None) -> Axes:
    """Draw the class image with a legend (class name and pixel count).

    The legend lists the classes with pixels, most pixels first, then the unknown pixels
    and those without a spectrum; when they do not fit beside the image, the classes with
    the fewest pixels are summed in one "+ N more classes" entry (every class is counted in
    the report's table). With more classes than :func:`class_colors` keeps apart, the
    classes with pixels take its distinct colours in class order, when they are few enough.

    Parameters
    ----------
    ax : matplotlib Axes
    grid : MapGrid
    predicted : array-like of int, shape (ny, nx)
        Class index per pixel, -1 where there is no spectrum.
    class_names : sequence of str
    title : str, optional
    unknown : array-like of bool, shape (ny, nx), optional
        Pixels flagged unknown (novelty detection): drawn in :data:`UNKNOWN_COLOR` and
        counted as "unknown" in the legend instead of under their class. A flagged pixel
        without a class (-1: the recipe refused its spectrum) is "not predicted", in
        :data:`NOT_PREDICTED_COLOR`; an unflagged -1 has no spectrum ("no spectrum", grey).

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from .._labels import short_names

    pred = np.asarray(predicted)
    k = len(class_names)
    flagged = refused = None
    if unknown is not None:
        # flagged pixels: "unknown"; pixels with a spectrum no class was given (refused by
        # the recipe, flagged by the caller): "not predicted", as predict's line and the
        # report's table say; pixels without a spectrum stay grey
        refused = np.asarray(unknown, dtype=bool) & (pred < 0)
        flagged = np.asarray(unknown, dtype=bool) & (pred >= 0)
        # two more colours, after the classes
        pred = np.where(flagged, k, np.where(refused, k + 1, pred))
    counts = np.bincount(pred[pred >= 0].ravel(), minlength=k + 2)
    present = [i for i in range(k) if counts[i]]
    colors = class_colors(k)
    if k > len(_palette()) and len(present) <= len(_palette()):
        # a class's colour then repeats or nearly repeats another's: the classes in this
        # image take the distinct ones
        colors = list(colors)
        for i, c in zip(present, _palette(), strict=False):
            colors[i] = c
    shown = ([*colors, UNKNOWN_COLOR, NOT_PREDICTED_COLOR] if flagged is not None
             else colors)
    cmap = ListedColormap(shown if shown else ["white"]).with_extremes(bad=MISSING_COLOR)
    img = np.ma.masked_less(pred, 0)
    _show(ax, grid, img, cmap=cmap, vmin=-0.5, vmax=max(len(shown), 1) - 0.5)
    labels = short_names(class_names)
    # classes without pixels are left out: listed first, they pushed the classes in the
    # image off the legend's end
    ranked = sorted(present, key=lambda i: -counts[i])
    handles = [Patch(facecolor=colors[i], edgecolor="0.3", label=f"{labels[i]} ({counts[i]})")
               for i in ranked]
    rest = []
    # "unknown (0)" says none was flagged; not where only refused pixels were marked (as
    # predict --no-reject marks them)
    if flagged is not None and refused is not None and (flagged.any() or not refused.any()):
        rest.append(Patch(facecolor=UNKNOWN_COLOR, edgecolor="0.3",
                          label=f"unknown ({int(flagged.sum())})"))
    if refused is not None and refused.any():
        rest.append(Patch(facecolor=NOT_PREDICTED_COLOR, edgecolor="0.3",
                          label=f"not predicted ({int(refused.sum())})"))
    n_missing = int((pred < 0).sum())
    if n_missing:
        rest.append(Patch(facecolor=MISSING_COLOR, edgecolor="0.3",
                          label=f"no spectrum ({n_missing})"))
    _fitted_legend(ax, handles, rest, [int(counts[i]) for i in ranked])
    _axes_labels(ax, grid)
    if title:
        ax.set_title(title)
    return ax


def _fitted_legend(ax: Axes, handles: list[Any], rest: list[Any], counts: list[int]) -> None:
    """The legend beside the axes, as tall as the figure allows: in one column, else in two,
    and only then are the last class entries (fewest pixels) summed in one "+ N more
    classes" entry until it fits (with 30 classes one column listed 18, and 12 regions of
    the image had no colour named). Taller than the figure, it ran off the image's edge and
    collapsed the axes (a warning of constrained layout)."""
    import warnings

    from matplotlib.patches import Patch

    def draw(n: int, ncols: int) -> Any:
        more = len(handles) - n
        extra = [] if not more else [Patch(facecolor="white", edgecolor="white",
                                           label=f"+ {more} more classes ({sum(counts[n:])})")]
        return ax.legend(handles=[*handles[:n], *extra, *rest], loc="upper left",
                         bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False,
                         title="predicted class (pixels)", title_fontsize="small",
                         ncols=ncols)

    fig = cast("Figure", ax.figure)  # the maps' axes are a figure's own (no subfigures)
    n = len(handles)
    legend = draw(n, 1)
    if legend.get_window_extent().height <= fig.bbox.height - 1.0 * fig.dpi:
        return  # fits below any title: no layout drawn to check
    # a second column, the figure made wider by one column's width (and a little: the
    # second column's widest entry may be "+ N more classes (n)")
    ncols = 2
    fig.set_figwidth(fig.get_figwidth() + legend.get_window_extent().width / fig.dpi + 0.4)
    legend.remove()
    legend = draw(n, ncols)
    for _ in range(len(handles) + 1):
        # laid out as it will be saved: the legend hangs from the axes' top, below the title
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # collapsed axes: trimmed below
            fig.draw_without_rendering()
        box, page = legend.get_window_extent(), fig.bbox
        if (box.y0 >= page.y0 and box.y1 <= page.y1) or n == 0:
            return
        # the legend's rows are of one height (the title's one of them): as many rows as the
        # page holds below its top (its top, in a collapsed layout: the page's less the
        # title's room), each of ncols entries
        top = min(box.y1, page.y1 - 0.5 * fig.dpi)
        rows = -(-(n + len(rest) + (n < len(handles))) // ncols) + 1
        fit = int((top - page.y0 - 0.1 * fig.dpi) / (box.height / rows))
        n = max(0, min(n - 1, (fit - 1) * ncols - len(rest) - 1))  # "+ N more"
        legend.remove()
        legend = draw(n, ncols)


#: Colour bars of counts tick every level up to this many, else this many whole numbers.
_LEVEL_TICKS = 10


def draw_value_image(ax: Axes, grid: MapGrid, values: ArrayLike, *, label: str,
                     cmap: str = "viridis", vmin: float | None = None,
                     vmax: float | None = None, symmetric: bool = False,
                     title: str | None = None, log: bool = False,
                     levels: int | None = None) -> Axes:
    """Draw a continuous image (NaN = no spectrum, grey) with a colour bar.

    Parameters
    ----------
    ax : matplotlib Axes
    grid : MapGrid
    values : array-like of float, shape (ny, nx)
    label : str
        Colour-bar label.
    cmap : str
        Matplotlib colour map name.
    vmin, vmax : float, optional
        Colour range (default: the data range).
    symmetric : bool
        Centre the colour range on 0 (signed explanation values), ``vmin = -vmax``.
    title : str, optional
    log : bool
        Logarithmic colour scale from ``vmin`` to ``vmax`` (both positive; p-values).
    levels : int, optional
        Draw ``levels`` distinct colours with a tick at each integer from ``vmin`` to
        ``vmax`` (counts such as a prediction set's size; ``vmax - vmin + 1`` levels), or
        at most about :data:`_LEVEL_TICKS` whole numbers when there are more levels.
    """
    import matplotlib
    from matplotlib.colors import LogNorm

    v = np.asarray(values, dtype=np.float64)
    cm = matplotlib.colormaps[cmap]
    if levels is not None:
        cm = cm.resampled(levels)
    cm = cm.with_extremes(bad=MISSING_COLOR)
    if symmetric:
        finite = v[np.isfinite(v)]
        lim = float(np.abs(finite).max()) if finite.size else 1.0
        lim = lim or 1.0
        vmin, vmax = -lim, lim
    ticks: Any = None
    if levels is not None and vmin is not None and vmax is not None:
        # a tick at each level while they are few; else at most about ten whole numbers (a
        # 240-class model's set sizes printed 240 labels over each other)
        if levels <= _LEVEL_TICKS:
            ticks = np.arange(vmin, vmax + 1)
        else:
            from matplotlib.ticker import MaxNLocator

            # the ends too: 1 (one class fits, the title's value) and the largest set
            inner = np.asarray(MaxNLocator(nbins=_LEVEL_TICKS, integer=True).tick_values(
                vmin, vmax))
            step = inner[1] - inner[0] if inner.size > 1 else 1
            ticks = np.unique([vmin, *(t for t in inner if vmin + 0.75 * step <= t
                                       <= vmax - 0.75 * step), vmax])
        vmin, vmax = vmin - 0.5, vmax + 0.5
    if log:
        im = _show(ax, grid, np.ma.masked_invalid(v), cmap=cm, norm=LogNorm(vmin, vmax))
    else:
        im = _show(ax, grid, np.ma.masked_invalid(v), cmap=cm, vmin=vmin, vmax=vmax)
    bar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, ticks=ticks)
    if log:  # plain numbers (0.01, 0.1, 1): no maths text, which the command line turns off
        from matplotlib.ticker import FuncFormatter, NullFormatter

        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        bar.ax.yaxis.set_minor_formatter(NullFormatter())
    bar.set_label(label)
    _axes_labels(ax, grid)
    if title:
        ax.set_title(title)
    return ax


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write a figure as PNG atomically and return its path."""
    from ..io import atomic_write

    p = Path(path)
    _fit_titles(fig)
    with atomic_write(p, "wb") as fh:
        fig.savefig(fh, format="png", dpi=_DPI)
    return p


def _fit_titles(fig: Figure) -> None:
    """Wrap each axes title that runs past the figure's edge (a narrow map centres a long
    title over a narrow image) onto more lines, until it fits."""
    import textwrap

    if fig.get_figwidth() >= _MAP_W_IN + 2.0:
        return  # a square map's or a strip's width holds its titles: no extra drawing
    for _ in range(3):
        fig.draw_without_rendering()
        page = fig.bbox
        wrapped = False
        for ax in fig.axes:
            title = ax.title
            text = title.get_text()
            if not text:
                continue
            box = title.get_window_extent()
            room = 2 * min(box.x0 + box.width / 2 - page.x0, page.x1 - box.x0 - box.width / 2)
            if box.width <= room + 1 or room <= 0:
                continue
            lines = text.split("\n")
            chars = max(12, int(max(map(len, lines)) * room / box.width) - 1)
            title.set_text("\n".join(textwrap.fill(line, chars) for line in lines))
            wrapped = True
        if not wrapped:
            return


def _new_figure(grid: MapGrid, extra_w: float = 2.2) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=_figsize(grid, extra_w), layout="constrained")
    return fig, fig.add_subplot()


def _check_inputs(grid: MapGrid, predicted: ArrayLike, proba: ArrayLike,
                  class_names: Sequence[str]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    if not isinstance(grid, MapGrid):
        raise RamancamError(f"grid must be a ramancam.maps.MapGrid; got {type(grid).__name__}.")
    pred = np.asarray(predicted)
    p = np.asarray(proba, dtype=np.float64)
    k = len(class_names)
    if pred.shape != grid.shape or pred.dtype.kind not in "iu":
        raise RamancamError(
            f"predicted must be an integer array of shape (ny, nx) = {grid.shape}; got "
            f"{pred.dtype} of shape {pred.shape}.")
    if p.shape != (*grid.shape, k):
        raise RamancamError(
            f"proba must have shape (ny, nx, n_classes) = {(*grid.shape, k)}; got {p.shape}.")
    if k == 0:
        raise RamancamError("class_names must name at least one class; got none.")
    if pred.size and (pred.max() >= k or pred.min() < -1):
        raise RamancamError(
            f"predicted must hold class indices 0..{k - 1} or -1 (no spectrum); got values "
            f"{int(pred.min())}..{int(pred.max())}.")
    return pred.astype(np.intp), p


def write_map_images(out_dir: str | os.PathLike[str], grid: MapGrid, predicted: ArrayLike,
                     proba: ArrayLike, class_names: Sequence[str], *,
                     unknown: ArrayLike | None = None,
                     band_shift: ArrayLike | None = None,
                     novelty_p: ArrayLike | None = None,
                     set_size: ArrayLike | None = None,
                     shift_unit: str = "cm-1") -> list[Path]:
    """Write the class, confidence and per-class probability images of a classified map.

    Parameters
    ----------
    out_dir : str or path-like
        Existing folder to write into.
    grid : MapGrid
        The pixel grid (:func:`ramancam.maps.infer_grid` from positions, or
        ``MapGrid.regular(nx, ny, step=..., x0=..., y0=...)`` for a full raster); gives the
        image shape ``(ny, nx)``, the axes extent and whether it is a line scan.
    predicted : ndarray of int, shape (ny, nx)
        Predicted class index per pixel, -1 where there is no spectrum.
    proba : ndarray of float, shape (ny, nx, n_classes)
        Class probabilities per pixel, NaN where there is no spectrum.
    class_names : sequence of str
        Name of each class index (shown in legends and titles, never in file names).
    unknown : ndarray of bool, shape (ny, nx), optional
        Pixels flagged unknown (novelty detection): ``classes.png`` shows them in
        :data:`UNKNOWN_COLOR`; the other images are unchanged.
    band_shift : ndarray of float, shape (ny, nx), optional
        Each pixel's band shift against its class's mean training spectrum, cm-1
        (:meth:`ramancam.bundle.Bundle.band_shift`; NaN where none was read). When any is
        finite, ``band_shift.png`` is written too.
    novelty_p : ndarray of float, shape (ny, nx), optional
        Each pixel's novelty p-value (:meth:`ramancam.bundle.Bundle.novelty_p`; NaN: none).
        When any is finite, ``novelty_p.png`` is written (log colour scale, dark = small p =
        unlike every training spectrum).
    set_size : ndarray of float, shape (ny, nx), optional
        Classes in each pixel's conformal prediction set
        (:meth:`ramancam.bundle.Bundle.prediction_sets`; NaN or 0: none). When any is
        positive, ``set_size.png`` is written (one colour per size, 1 to n_classes).
    shift_unit : str
        The unit of ``band_shift`` in its colour bar's label (``"channels"`` for a model on
        a channel axis).

    Returns
    -------
    list of pathlib.Path
        ``classes.png`` (class image with a legend of names and pixel counts),
        ``confidence.png`` (top probability, colour bar from 1/n_classes to 1),
        ``proba_01.png``, ``proba_02.png``, ... (probability of class 1, 2, ... in the order
        of ``class_names``, colour bar 0 to 1; with more than :data:`CLASS_IMAGES` classes
        only those of :func:`drawn_classes`, numbered as their class) and, with
        ``band_shift``, ``band_shift.png`` (diverging colours centred on 0, limits at the
        99th percentile of the absolute shifts, at least 1 cm-1), ``novelty_p.png`` and
        ``set_size.png``, in that order.

    Raises
    ------
    RamancamError
        Missing folder, or arrays whose shapes do not match the grid and the class list.
    """
    from .._labels import short_names

    out = Path(out_dir)
    if not out.is_dir():
        raise RamancamError(f"out_dir must be an existing folder; got {str(out)!r}. Create it "
                            "first.")
    pred, p = _check_inputs(grid, predicted, proba, class_names)
    if unknown is not None and np.shape(unknown) != grid.shape:
        raise RamancamError(f"unknown must have shape (ny, nx) = {grid.shape}; got "
                            f"{np.shape(unknown)}.")
    for what, arr in (("band_shift", band_shift), ("novelty_p", novelty_p),
                      ("set_size", set_size)):
        if arr is not None and np.shape(arr) != grid.shape:
            raise RamancamError(f"{what} must have shape (ny, nx) = {grid.shape}; got "
                                f"{np.shape(arr)}.")
    k = len(class_names)
    paths: list[Path] = []
    fig, ax = _new_figure(grid, extra_w=2.6)
    draw_class_image(ax, grid, pred, class_names, title="predicted class", unknown=unknown)
    paths.append(save_figure(fig, out / "classes.png"))

    with np.errstate(invalid="ignore"):
        top = np.where(pred >= 0, np.nanmax(np.where(np.isnan(p), -np.inf, p), axis=-1),
                       np.nan)
    fig, ax = _new_figure(grid)
    draw_value_image(ax, grid, top, label="top class probability", vmin=1.0 / k, vmax=1.0,
                     title="confidence (probability of the predicted class)")
    paths.append(save_figure(fig, out / "confidence.png"))

    width = max(2, len(str(k)))
    labels = short_names(class_names)  # as the class image's legend names them
    for i in drawn_classes(pred, k):
        fig, ax = _new_figure(grid)
        draw_value_image(ax, grid, np.where(pred >= 0, p[..., i], np.nan),
                         label=f"p({labels[i]})", vmin=0.0, vmax=1.0,
                         title=f"probability of {labels[i]}")
        paths.append(save_figure(fig, out / f"proba_{i + 1:0{width}d}.png"))
    shift = None if band_shift is None else np.asarray(band_shift, dtype=np.float64)
    if shift is not None and np.isfinite(shift).any():
        lim = max(float(np.nanpercentile(np.abs(shift), 99)), 1.0)
        fig, ax = _new_figure(grid)
        # the sign as checks.band_shift gives it: positive, the pixel's bands sit at a
        # higher shift than its class's mean (the colour bar alone did not say which way)
        higher = "a higher channel" if shift_unit == "channels" else "a higher Raman shift"
        draw_value_image(ax, grid, shift, label=f"band shift ({shift_unit})", cmap="RdBu_r",
                         vmin=-lim, vmax=lim,
                         title="band shift against the class's training spectra\n"
                               f"red: bands at {higher}, blue: lower\n"
                               "(grey: no shift read, e.g. another substance)")
        paths.append(save_figure(fig, out / "band_shift.png"))
    pv = None if novelty_p is None else np.asarray(novelty_p, dtype=np.float64)
    if pv is not None and np.isfinite(pv).any():
        fig, ax = _new_figure(grid)
        draw_value_image(ax, grid, np.where(pv > 0, pv, np.nan), cmap="magma", log=True,
                         vmin=min(float(np.nanmin(pv[pv > 0])), 0.01), vmax=1.0,
                         label="novelty p-value (log scale)",
                         title="novelty p-value (dark: unlike every training spectrum)")
        paths.append(save_figure(fig, out / "novelty_p.png"))
    size = None if set_size is None else np.asarray(set_size, dtype=np.float64)
    if size is not None and (np.nan_to_num(size) > 0).any():
        fig, ax = _new_figure(grid)
        draw_value_image(ax, grid, np.where(size > 0, size, np.nan), cmap="viridis",
                         vmin=1, vmax=k, levels=k, label="classes in the set",
                         title="prediction set size (1: one class fits)")
        paths.append(save_figure(fig, out / "set_size.png"))
    return paths


#: Probability images drawn at most (``proba_NNN.png``, the classes predicted at the most
#: pixels): a 260-class model drew one per class on any map, 260 pixels or not (68 s of
#: drawing, an 8 MB report); every class's numbers stay in the table or store.
CLASS_IMAGES = 20


def drawn_classes(predicted: ArrayLike, n_classes: int, limit: int = CLASS_IMAGES
                  ) -> list[int]:
    """The classes whose probability image :func:`write_map_images` draws, in class order:
    every class when there are at most ``limit``, else the ``limit`` classes predicted at
    the most pixels (ties: class order; never a class without pixels)."""
    if n_classes <= limit:
        return list(range(n_classes))
    pred = np.asarray(predicted).ravel()
    counts = np.bincount(pred[pred >= 0], minlength=n_classes)
    top = np.argsort(-counts, kind="stable")[:limit]
    return sorted(int(i) for i in top if counts[i])


def proba_class(path: str | os.PathLike[str]) -> int | None:
    """The class index of a probability image (``proba_031.png``: 30), else None."""
    import re

    m = re.fullmatch(r"proba_(\d+)\.png", Path(path).name)
    return None if m is None else int(m.group(1)) - 1


def top_bands(maps_mean_abs: NDArray[np.float64], axis: NDArray[np.float64], n: int = 3,
              min_sep: float | None = None) -> list[float]:
    """The ``n`` Raman shifts where the mean |map| value peaks highest, at least ``min_sep``
    apart (default 2 % of the axis range): the default band images of ``explain``.

    Peaks (local maxima; an end of the axis counts when the map is highest there) come
    first, tallest first, so that one broad band gives one image, not three points on its
    flank; when there are fewer than ``n`` peaks, the largest other values fill in.
    """
    from scipy.signal import find_peaks

    v = np.asarray(maps_mean_abs, dtype=np.float64)
    x = np.asarray(axis, dtype=np.float64)
    sep = (0.02 * float(np.ptp(x))) if min_sep is None else float(min_sep)
    finite = v[np.isfinite(v)]
    lo = float(finite.min()) - 1.0 if finite.size else 0.0
    span = float(np.ptp(finite)) if finite.size else 0.0
    # a peak stands out by 5 % of the map's range (a noise ripple on a broad band's flank
    # does not); the ends count when the map is highest there
    peaks, _ = find_peaks(np.r_[lo, np.nan_to_num(v, nan=lo), lo],
                          prominence=0.05 * span if span > 0 else None)
    peaks = peaks - 1
    ranked = [*peaks[np.argsort(-v[peaks], kind="stable")],
              *np.argsort(-v, kind="stable")]
    chosen: list[float] = []
    for j in ranked:
        s = float(x[j])
        if all(abs(s - c) >= sep for c in chosen):
            chosen.append(s)
        if len(chosen) == n:
            break
    return chosen


def nearest_index(axis: NDArray[np.float64], shift: float) -> int:
    """Index of the grid point nearest to ``shift``."""
    return int(np.argmin(np.abs(axis - shift)))


def is_finite_number(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


#: Numbered images a run writes as many of as it needs: those of an earlier run into the same
#: folder (more classes, more bands) would stay beside a report that does not show them.
#: Only these names (``proba_03.png``), never a user's ``band_gap_figure.png``.
NUMBERED = (r"proba_\d+\.png", r"band_\d+\.png")


#: The images :func:`write_map_images` writes under fixed names (those it may write).
FIXED = ("classes.png", "confidence.png", "band_shift.png", "novelty_p.png", "set_size.png")


def _map_images(out_dir: str | os.PathLike[str]) -> list[Path]:
    """The map images (:data:`FIXED`, :data:`NUMBERED`) in ``out_dir``."""
    import re

    found = [Path(out_dir) / name for name in FIXED if (Path(out_dir) / name).is_file()]
    numbered = re.compile("|".join(f"(?:{n})" for n in NUMBERED))
    found += [p for p in Path(out_dir).glob("*.png") if numbered.fullmatch(p.name)]
    return found


def map_images_in(out_dir: str | os.PathLike[str]) -> list[str]:
    """The names of the map images (:data:`FIXED`, :data:`NUMBERED`) in ``out_dir``."""
    return sorted(p.name for p in _map_images(out_dir))


def remove_stale(out_dir: str | os.PathLike[str], written: Sequence[Path]) -> None:
    """Remove the map images (:data:`FIXED`, :data:`NUMBERED`) in ``out_dir`` this run did
    not write: an earlier run's novelty_p.png or proba_3.png beside this run's classes.png
    would read as this run's."""
    keep = {Path(p).resolve() for p in written}
    for old in _map_images(out_dir):
        if old.resolve() not in keep:
            old.unlink(missing_ok=True)
