"""Figures for spectra, explanation maps and classification results (matplotlib).

House style (as in statsmodels' graphics): every function takes ``ax=None`` (a new figure is
made when it is ``None``), draws on it and returns the axes; nothing here calls
``plt.show()``. The backend is left to the user (a notebook's inline backend shows the
figures; matplotlib itself falls back to Agg on a machine without a display, and the
``ramancam`` command line selects Agg).

Signed maps (the paper's FC-importance map M, Eq. 9) keep their sign in every figure: positive
values are filled red, negative values blue, so a peak that argues *against* a class is never
mistaken for one that argues for it.

Maps are drawn on their own scale. Where a map and a spectrum share one axes (the overlays
of Figs. 2, 3, 5 and 7), each curve is divided by its largest absolute value, as the paper does
("the intensity was normalized relative to each maximum value"); the sign is kept.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._channels import is_channel_axis as is_channel_axis  # plot.is_channel_axis, as before
from ._labels import short_name as short_name  # plot.short_name, as before
from ._labels import short_names
from .errors import RamancamError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CURVE_STYLES",
    "NEGATIVE_COLOR",
    "POSITIVE_COLOR",
    "TEXT_CONTRAST",
    "class_stack",
    "confusion_matrix",
    "curve_style",
    "cv_accuracy",
    "figure_png",
    "is_channel_axis",
    "map_band",
    "map_with_reference",
    "maps_overlay",
    "scale_max_abs",
    "spectrum_map",
    "text_color",
    "vip_beside_map",
]

POSITIVE_COLOR = "#d62728"  # red: evidence for the class
NEGATIVE_COLOR = "#1f77b4"  # blue: evidence against the class
SPECTRUM_COLOR = "black"
REFERENCE_COLOR = "#2ca02c"  # green: apart from the red/blue map fill
MAP_COLOR = "#1f4e9c"


#: Line styles of the curves drawn beside a spectrum (which is solid): maps, references,
#: scores. With them the legend tells the curves apart without colour, in greyscale print
#: and for colour-blind readers (Fig. 3's Grad-CAM green and FC-importance blue were one
#: grey, both solid). Past three curves each style comes again with a marker.
CURVE_STYLES = ("--", "-.", ":")
_CURVE_MARKERS = ("o", "s", "^", "D", "v", "P")
#: Hatches of the bar series of :func:`cv_accuracy`, for the same reason.
_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")


# ----------------------------------------------------------------------------- helpers
_F = TypeVar("_F", bound=Callable[..., Any])


def curve_style(i: int, n_points: int | None = None) -> dict[str, Any]:
    """Keyword arguments of ``Axes.plot`` for the ``i``-th curve beside a spectrum: dashed,
    dash-dot, dotted, then the same with an open marker (circle, square, ...) on every
    tenth or so of ``n_points`` points (all of them without ``n_points``); different for
    each ``i`` up to 20."""
    style: dict[str, Any] = {"linestyle": CURVE_STYLES[i % len(CURVE_STYLES)]}
    k = i // len(CURVE_STYLES)
    if k:
        step = max((n_points or 1) // 10, 1)
        # each curve's markers start at another point, so that they do not sit on each other
        style.update(marker=_CURVE_MARKERS[(k - 1) % len(_CURVE_MARKERS)], markersize=4.0,
                     fillstyle="none", markevery=((i * step) // 7 % step, step))
    return style


def _closes_on_error(fn: _F) -> _F:
    """Close the figures ``fn`` opened when it raises (a rejected input left an empty figure
    open, which a notebook then shows under the error)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = set(plt.get_fignums())
        try:
            return fn(*args, **kwargs)
        except BaseException:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            raise
    return cast(_F, wrapper)


#: WCAG 2's least contrast ratio for text (success criterion 1.4.3).
TEXT_CONTRAST = 4.5


def _luminance(color: Any) -> float:
    """WCAG 2 relative luminance of a matplotlib colour (0 black to 1 white)."""
    from matplotlib.colors import to_rgb

    rgb = np.asarray(to_rgb(color))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def _contrast(a: Any, b: Any) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_color(color: Any, background: Any = "white") -> str:
    """``color`` (hex), darkened as little as needed (its hue kept) for text on
    ``background`` to reach :data:`TEXT_CONTRAST`: class names written in a light class
    colour had 1.5:1 on white."""
    from matplotlib.colors import to_hex, to_rgb

    rgb = np.asarray(to_rgb(color))
    for k in range(101):  # 1.0, 0.99, ..., 0.0: black reaches 4.5 on any light background
        shade = rgb * (1.0 - k / 100)
        if _contrast(shade, background) >= TEXT_CONTRAST:
            return str(to_hex(tuple(shade.tolist())))
    return str(to_hex((0.0, 0.0, 0.0)))


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 3.2)) -> Axes:
    if ax is not None:
        return ax
    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _vector(values: ArrayLike, name: str, n: int | None = None, *, finite: bool = False
            ) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise RamancamError(f"{name} must be 1-D; got shape {arr.shape}. "
                            "Pass one spectrum or one map at a time.")
    if n is not None and arr.shape[0] != n:
        raise RamancamError(f"{name} must have one value per axis point ({n}); "
                            f"got {arr.shape[0]}.")
    if finite and not np.isfinite(arr).all():
        raise RamancamError(f"{name} must be finite; got NaN or inf at "
                            f"{int(np.sum(~np.isfinite(arr)))} of {arr.size} points. Draw the "
                            "finite part, or fill the gaps first.")
    return arr


def _axis(axis: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(axis, dtype=np.float64)
    if a.ndim != 1 or a.size < 2:
        raise RamancamError(f"axis must be 1-D with at least 2 points; got shape {a.shape}.")
    return a


def shift_unit(axis: ArrayLike) -> str:
    """``"channels"`` on a channel axis (:func:`is_channel_axis`), else ``"cm-1"``: the unit
    of a position or a shift on ``axis`` in a label."""
    return "channels" if is_channel_axis(axis) else "cm-1"


def at_shift(axis: ArrayLike, value: float) -> str:
    """A position on ``axis`` in a title: ``"1001 cm-1"``, or ``"channel 500"`` on a channel
    axis."""
    return f"channel {value:g}" if is_channel_axis(axis) else f"{value:g} cm-1"


def _xlabel(axis: NDArray[np.float64], xlabel: str | None) -> str:
    if xlabel is not None:
        return xlabel
    return "channel" if is_channel_axis(axis) else "Raman shift (cm⁻¹)"


def scale_max_abs(values: ArrayLike) -> NDArray[np.float64]:
    """Divide by the largest absolute value, keeping the sign (all-zero input stays zero).

    Parameters
    ----------
    values : array-like of shape (n_points,) or (n_curves, n_points)
        Curves to scale; each row is scaled on its own.

    Returns
    -------
    ndarray of the same shape, with values in [-1, 1].
    """
    arr = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():  # NaN points stay NaN; the rest scale as usual
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN curve: "All-NaN slice"
        peak = np.nan_to_num(np.nanmax(np.abs(arr), axis=-1, keepdims=True), nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(peak > 0, arr / np.where(peak > 0, peak, 1.0), 0.0)
    return out


def _fill_signed(ax: Axes, x: NDArray[np.float64], m: NDArray[np.float64], *,
                 alpha: float = 0.55, label: str | None = None) -> None:
    """Signed fill: red above zero, blue below, plus a thin outline of the map."""
    ax.fill_between(x, 0.0, m, where=m >= 0, interpolate=True, color=POSITIVE_COLOR,
                    alpha=alpha, linewidth=0, label=f"{label} (+)" if label else "+")
    ax.fill_between(x, 0.0, m, where=m < 0, interpolate=True, color=NEGATIVE_COLOR,
                    alpha=alpha, linewidth=0, label=f"{label} (-)" if label else "-")
    ax.plot(x, m, color="0.25", linewidth=0.6)
    ax.axhline(0.0, color="0.5", linewidth=0.6)


def figure_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """Render a figure to PNG bytes (for embedding in the HTML report) and close it."""
    import io

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buf.getvalue()


# ----------------------------------------------------------------------------- figures
@_closes_on_error
def spectrum_map(axis: ArrayLike, spectrum: ArrayLike, signed_map: ArrayLike, *,
                 ax: Axes | None = None, title: str | None = None,
                 map_label: str = "map", xlabel: str | None = None,
                 reference: ArrayLike | None = None, reference_sd: ArrayLike | None = None,
                 reference_label: str = "class mean") -> Axes:
    """One spectrum (black line, left axis) and its signed map (filled, right axis).

    Parameters
    ----------
    axis : array-like of shape (n_points,)
        Raman shift in cm-1, or channel number.
    spectrum : array-like of shape (n_points,)
        The input spectrum.
    signed_map : array-like of shape (n_points,)
        Explanation map on the same axis; positive values are filled red, negative blue, on a
        twin y axis symmetric about zero so that the sign is read at a glance (from zero at
        the bottom for a map without negative values).
    ax : matplotlib Axes, optional
        Where to draw the spectrum; the map goes on ``ax.twinx()``.
    title, map_label, xlabel : str, optional
        Axes title, legend text of the map and x-axis label (default: "channel" for a 0, 1,
        2, ... axis, otherwise Raman shift).
    reference : array-like of shape (n_points,), optional
        A reference spectrum on the same scale as ``spectrum`` (for example the explained
        class's mean training spectrum, :meth:`ramancam.bundle.Bundle.class_reference`),
        drawn as a grey dashed line under the spectrum, with a legend.
    reference_sd : array-like of shape (n_points,), optional
        Its standard deviation, shaded as the band mean +- sd.
    reference_label : str
        Legend text of the reference.

    Returns
    -------
    matplotlib Axes
        The spectrum axes; the map axes is available as ``ax.map_axes``.
    """
    x = _axis(axis)
    s = _vector(spectrum, "spectrum", x.size, finite=True)
    m = _vector(signed_map, "signed_map", x.size, finite=True)
    ax = _axes(ax)
    if reference is not None:
        r = _vector(reference, "reference", x.size)
        if reference_sd is not None:
            sd = _vector(reference_sd, "reference_sd", x.size)
            ax.fill_between(x, r - sd, r + sd, color="0.6", alpha=0.25, linewidth=0,
                            label=f"{reference_label} +- sd")
        ax.plot(x, r, color="0.45", linewidth=0.8, linestyle="--", label=reference_label)
    ax.plot(x, s, color=SPECTRUM_COLOR, linewidth=0.9, label="spectrum")
    ax.set_xlabel(_xlabel(x, xlabel))
    ax.set_ylabel("intensity")
    twin = ax.twinx()
    _fill_signed(twin, x, m, label=map_label)
    lim = float(np.max(np.abs(m))) or 1.0
    # a map with no negative value (Grad-CAM's ReLU) from the bottom, not about a zero line
    # at mid-height over the spectrum; a signed map symmetric about zero
    twin.set_ylim(0.0 if m.min() >= 0 else -1.1 * lim, 1.1 * lim)
    twin.set_ylabel(map_label)
    ax.set_zorder(twin.get_zorder() + 1)  # spectrum line above the fills
    ax.patch.set_visible(False)
    ax.set_xlim(float(x.min()), float(x.max()))
    if reference is not None:
        # above the axes, where it hides neither the spectrum nor the map ("best" looked at
        # the spectrum only, and covered map peaks); the title goes on a line above it (on
        # one line with it a long title ran into the legend)
        ax.legend(fontsize="x-small", loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3,
                  frameon=False, borderaxespad=0.1, handlelength=1.5)
    if title:
        ax.set_title(title, loc="left" if reference is not None else "center",
                     fontsize="medium", pad=14.0 if reference is not None else 6.0)
    ax.map_axes = twin  # type: ignore[attr-defined]
    return ax


@_closes_on_error
def maps_overlay(axis: ArrayLike, spectrum: ArrayLike | None,
                 maps: Mapping[str, ArrayLike], *, ax: Axes | None = None,
                 title: str | None = None, inset: tuple[float, float] | None = None,
                 xlabel: str | None = None, colors: Sequence[Any] | None = None) -> Axes:
    """Several maps of one spectrum overlaid, one line per setting (paper Fig. 2).

    Each map and the spectrum are scaled to a largest absolute value of 1 (sign kept), so the
    settings are compared by shape, which is what Fig. 2 shows. The spectrum is solid, the
    maps dashed, dash-dot, dotted, then the same with markers (:func:`curve_style`), so
    that the legend tells them apart without colour.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
    spectrum : array-like of shape (n_points,), or None
        The test spectrum, drawn in black; ``None`` to draw the maps only.
    maps : mapping of str to array-like of shape (n_points,)
        Legend text (e.g. ``"size 8 (64)"``) to map, drawn in the mapping's order.
    ax : matplotlib Axes, optional
    title : str, optional
    inset : (float, float), optional
        An x range to enlarge in an inset (the paper's 400-600 ch).
    xlabel : str, optional
    colors : sequence of colours, optional
        One per map, in order (default: viridis, for ordered settings such as filter sizes).

    Returns
    -------
    matplotlib Axes
    """
    x = _axis(axis)
    if not isinstance(maps, Mapping):
        raise RamancamError(f"maps must be a mapping of legend text to map, e.g. "
                            f"{{'size 8': m8}}; got {type(maps).__name__}.")
    if not maps:
        raise RamancamError("maps must hold at least one map; got none. "
                            "Pass a mapping of setting name to map.")
    if colors is not None and len(colors) < len(maps):
        raise RamancamError(f"colors must give one colour per map ({len(maps)}); got "
                            f"{len(colors)}.")
    ax = _axes(ax)
    cmap = plt.get_cmap("viridis")
    curves = [(str(k), scale_max_abs(_vector(v, f"map {k!r}", x.size))) for k, v in maps.items()]
    # a map of zeros (Grad-CAM whose ReLU cut every value) stays a flat line on the zero
    # line that "scaled to max |value|" would not explain: the panel says it
    flat = [name for name, m in curves if not np.any(m)]

    def draw(target: Axes) -> None:
        if spectrum is not None:
            target.plot(x, scale_max_abs(_vector(spectrum, "spectrum", x.size)),
                        color=SPECTRUM_COLOR, linewidth=1.0, label="spectrum")
        for i, (name, m) in enumerate(curves):
            target.plot(x, m, color=(colors[i] if colors is not None
                                     else cmap(i / max(len(curves) - 1, 1) * 0.9)),
                        linewidth=1.0, label=name, **curve_style(i, x.size))
        target.axhline(0.0, color="0.6", linewidth=0.5)

    draw(ax)
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(_xlabel(x, xlabel))
    ax.set_ylabel("scaled to max |value|")
    ax.legend(fontsize="small", ncols=2 if len(curves) > 3 else 1, loc="lower left")
    if inset is not None:
        lo, hi = float(inset[0]), float(inset[1])
        if not hi > lo:
            raise RamancamError(f"inset must be (low, high) with high > low; got {inset}.")
        # Keep the inset inside the data (a peak near the end of the axis).
        lo, hi = max(lo, float(x.min())), min(hi, float(x.max()))
        # in the half of the axes away from the enlarged range, so it hides nothing there
        right = (lo + hi) / 2 < (float(x.min()) + float(x.max())) / 2
        sub = ax.inset_axes((0.58 if right else 0.08, 0.45, 0.4, 0.5))  # room for its ticks
        draw(sub)
        sub.set_xlim(lo, hi)
        sub.tick_params(labelsize="x-small")
    zero = (f"{', '.join(flat)}: zero everywhere" if len(flat) > 1 or len(curves) > 1
            else "zero everywhere") if flat else ""
    if title or zero:
        ax.set_title(f"{title}\n({zero})" if title and zero else (title or zero))
    return ax


@_closes_on_error
def class_stack(names: Sequence[str], lines: Sequence[Sequence[tuple[ArrayLike, ArrayLike]]],
                *, bands: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike] | None] | None = None,
                ax: Axes | None = None, title: str | None = None,
                xlabel: str | None = None) -> Axes:
    """Spectra of several classes, one class above the other (offset 1.2 apart).

    Each class is divided by the largest absolute value of its own curves, so classes of
    very different intensity share one figure; the class name is written beside the right
    end of its row, in the class's colour darkened to a text contrast of 4.5:1 on white
    (:func:`text_color`). Curves may have axes of their own (spectra read from files with
    different axes).

    Parameters
    ----------
    names : sequence of str
        Class names, drawn from the bottom up in this order.
    lines : sequence of sequences of (axis, spectrum) pairs
        The curves of each class (for example a few of its spectra, or its mean).
    bands : sequence of (axis, low, high) or None, optional
        Per class, a band to shade behind its curves (for example mean +- sd).
    ax : matplotlib Axes, optional
    title, xlabel : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if len(lines) != len(names) or (bands is not None and len(bands) != len(names)):
        raise RamancamError(
            f"names, lines and bands must have one entry per class ({len(names)}); got "
            f"{len(lines)} lines" + ("" if bands is None else f" and {len(bands)} bands") + ".")
    ax = _axes(ax, figsize=(7.0, 1.2 + 0.55 * max(1, len(names))))
    x_all: list[NDArray[np.float64]] = []
    from .maps.images import class_colors

    colors = class_colors(len(names))  # as the map images colour the same classes
    labels = short_names(names)  # apart, when long names differ in their middle
    for k, curves in enumerate(lines):
        pairs = [(_axis(a), np.asarray(y, dtype=np.float64)) for a, y in curves]
        for a, y in pairs:
            _vector(y, "spectrum", a.size)
        band = None if bands is None else bands[k]
        parts = [y for _, y in pairs]
        if band is not None:
            parts += [np.asarray(band[1], dtype=np.float64), np.asarray(band[2], np.float64)]
        finite = [np.abs(y[np.isfinite(y)]) for y in parts]  # NaN: outside a file's range
        scale = max((float(f.max()) for f in finite if f.size), default=0.0) or 1.0
        off = 1.2 * k
        color = colors[k]
        if band is not None:
            bx = _axis(band[0])
            ax.fill_between(bx, _vector(band[1], "band", bx.size) / scale + off,
                            _vector(band[2], "band", bx.size) / scale + off,
                            color=color, alpha=0.2, linewidth=0)
            x_all.append(bx)
        for a, y in pairs:
            ax.plot(a, y / scale + off, color=color, linewidth=0.8,
                    alpha=1.0 if len(pairs) == 1 else 0.6)
            x_all.append(a)
        # the name beside the axes, right of its curve: never over the data; in the class
        # colour, darkened until readable on white
        ax.text(1.01, off + 0.55, labels[k], transform=ax.get_yaxis_transform(),
                fontsize="small", color=text_color(color), va="center", ha="left",
                clip_on=False)
    if x_all:
        lo = min(float(a.min()) for a in x_all)
        hi = max(float(a.max()) for a in x_all)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(_xlabel(x_all[0], xlabel))
    ax.set_yticks([])
    ax.set_ylabel("scaled per class, offset")
    if title:
        ax.set_title(title)
    return ax


@_closes_on_error
def confusion_matrix(cm: ArrayLike, class_names: Sequence[str], *, ax: Axes | None = None,
                     title: str | None = None) -> Axes:
    """Confusion matrix: counts written in the cells, colours normalised per true class (row).

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        Counts; rows are true classes, columns predicted classes.
    class_names : sequence of str of length n_classes
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    c = np.asarray(cm, dtype=np.float64)
    names = short_names(class_names)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise RamancamError(f"cm must be a square matrix; got shape {c.shape}.")
    if len(names) != c.shape[0]:
        raise RamancamError(f"class_names must have one name per row of cm ({c.shape[0]}); "
                            f"got {len(names)}.")
    n = len(names)
    ax = _axes(ax, figsize=(1.2 + 0.55 * n, 1.0 + 0.5 * n))
    rows = c.sum(axis=1, keepdims=True)
    frac = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
    image = ax.imshow(frac, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(n):
        for j in range(n):
            # black or white, whichever stands out more from the cell (white above half of
            # the row's count had 2.4:1 on the cells just above it)
            cell = image.cmap(image.norm(frac[i, j]))
            ax.text(j, i, f"{c[i, j]:.0f}", ha="center", va="center", fontsize="small",
                    color=max(("black", "white"), key=lambda t: _contrast(t, cell)))
    ax.set_xticks(range(n), names, rotation=45, ha="right", fontsize="small")
    ax.set_yticks(range(n), names, fontsize="small")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax


@_closes_on_error
def cv_accuracy(fold_accuracy: Mapping[str, Sequence[float]], *, ax: Axes | None = None,
                title: str | None = None) -> Axes:
    """Accuracy per cross-validation fold, one bar per model within each fold.

    Parameters
    ----------
    fold_accuracy : mapping of str to sequence of float
        Model name (e.g. ``"CNN"``, ``"PCA+SVM"``, ``"PLS-DA"``) to its accuracy in each fold
        (values in [0, 1]); all models must have the same number of folds. The mean of each
        model is written in its legend entry; with one value each (a fixed train/test
        split) that value, under the tick "test split".
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(fold_accuracy, Mapping):
        raise RamancamError(f"fold_accuracy must be a mapping of model name to fold "
                            f"accuracies, e.g. {{'CNN': [0.9, 0.8]}}; got "
                            f"{type(fold_accuracy).__name__}.")
    if not fold_accuracy:
        raise RamancamError("fold_accuracy must name at least one model; got none.")
    vals = {str(k): np.asarray(v, dtype=np.float64) for k, v in fold_accuracy.items()}
    sizes = {v.size for v in vals.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise RamancamError("fold_accuracy must give every model the same, non-zero number "
                            f"of folds; got {({k: v.size for k, v in vals.items()})}.")
    n_folds = sizes.pop()
    n_models = len(vals)
    ax = _axes(ax, figsize=(3.5 + 0.9 * n_folds, 3.0))
    width = 0.8 / n_models
    idx = np.arange(n_folds)
    for i, (name, acc) in enumerate(vals.items()):
        # one value (a fixed split's test part) has no mean to speak of
        # a hatch per model: the legend tells the models apart without colour
        ax.bar(idx + (i - (n_models - 1) / 2) * width, acc, width,
               hatch=_HATCHES[i % len(_HATCHES)], edgecolor="white", linewidth=0.0,
               label=f"{name} (mean {acc.mean():.3f})" if n_folds > 1
               else f"{name} ({acc[0]:.3f})")
    ax.set_xticks(idx, [f"fold {i + 1}" for i in idx] if n_folds > 1 else ["test split"])
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("accuracy")
    # beside the axes: inside, the legend covered the last folds' bars
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5),
              frameon=False)
    if title:
        ax.set_title(title)
    return ax


@_closes_on_error
def map_band(axis: ArrayLike, maps: ArrayLike, *, ax: Axes | None = None,
             label: str | None = None, color: str = MAP_COLOR,
             spectrum: ArrayLike | None = None, title: str | None = None,
             xlabel: str | None = None, spectrum_label: str = "mean spectrum") -> Axes:
    """Mean map with a +- 1 sd band across folds (or spectra) for one class.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
    maps : array-like of shape (n_folds, n_points)
        One map per fold (e.g. each fold's mean map of the class).
    ax : matplotlib Axes, optional
    label : str, optional
        Legend text (e.g. the class name).
    color : str
    spectrum : array-like of shape (n_points,), optional
        A spectrum to draw beneath (scaled to the map's largest absolute mean value).
    title, xlabel : str, optional
    spectrum_label : str
        Legend text of ``spectrum`` (what it is: the class's mean, a pure component).

    Returns
    -------
    matplotlib Axes
    """
    x = _axis(axis)
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] != x.size:
        raise RamancamError(f"maps must have shape (n_folds, {x.size}); got {m.shape}.")
    ax = _axes(ax)
    mean = m.mean(axis=0)
    sd = m.std(axis=0, ddof=1) if m.shape[0] > 1 else np.zeros_like(mean)
    if spectrum is not None:
        top = float(np.max(np.abs(mean))) or 1.0
        ax.plot(x, scale_max_abs(_vector(spectrum, "spectrum", x.size)) * top,
                color="0.55", linewidth=0.8, label=spectrum_label)
    ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.3, linewidth=0,
                    label="+- 1 sd")
    ax.plot(x, mean, color=color, linewidth=1.0, label=label or "mean map",
            **curve_style(0))  # dashed: the spectrum is solid
    ax.axhline(0.0, color="0.6", linewidth=0.5)
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(_xlabel(x, xlabel))
    ax.set_ylabel("map")
    ax.legend(fontsize="small", loc="upper right")
    if title:
        ax.set_title(title)
    return ax


@_closes_on_error
def map_with_reference(axis: ArrayLike, signed_map: ArrayLike, reference: ArrayLike, *,
                       spectrum: ArrayLike | None = None, ax: Axes | None = None,
                       reference_label: str = "pure spectrum", map_label: str = "map",
                       title: str | None = None, xlabel: str | None = None) -> Axes:
    """A map with a reference pure spectrum overlaid (paper Fig. 7).

    Black: the input (mixture) spectrum, when given, offset by +1.2; filled red/blue: the
    signed map; a dashed line in :data:`REFERENCE_COLOR`: the reference pure spectrum. All
    three are scaled to a largest absolute value of 1.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
    signed_map : array-like of shape (n_points,)
    reference : array-like of shape (n_points,)
        The pure spectrum of the labelled component.
    spectrum : array-like of shape (n_points,), optional
        The input spectrum.
    ax : matplotlib Axes, optional
    reference_label, map_label, title, xlabel : str, optional

    Returns
    -------
    matplotlib Axes
    """
    x = _axis(axis)
    m = scale_max_abs(_vector(signed_map, "signed_map", x.size))
    r = scale_max_abs(_vector(reference, "reference", x.size))
    ax = _axes(ax)
    _fill_signed(ax, x, m, alpha=0.45, label=map_label)
    if spectrum is not None:
        ax.plot(x, scale_max_abs(_vector(spectrum, "spectrum", x.size)) + 1.2,
                color=SPECTRUM_COLOR, linewidth=0.8, label="input (offset +1.2)")
    ax.plot(x, r, color=REFERENCE_COLOR, linewidth=0.9, label=reference_label,
            **curve_style(0))  # dashed: the input spectrum is solid
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(_xlabel(x, xlabel))
    ax.set_ylabel("scaled to max |value|")
    _legend_above(ax, title)  # lower right sat on the 1600-1800 cm-1 bands
    return ax


@_closes_on_error
def vip_beside_map(axis: ArrayLike, vip: ArrayLike, cnn_map: ArrayLike, *,
                   spectrum: ArrayLike | None = None, ax: Axes | None = None,
                   title: str | None = None, xlabel: str | None = None) -> Axes:
    """PLS-DA variable importance in projection (VIP) and a CNN map on the same axis.

    Both curves are scaled to a largest absolute value of 1 (VIP is non-negative; the CNN
    map keeps its sign), so that where each method puts its weight can be compared.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
    vip : array-like of shape (n_points,)
        VIP scores of one class (or overall).
    cnn_map : array-like of shape (n_points,)
        The CNN's map for the same class (e.g. its mean FC-importance map).
    spectrum : array-like of shape (n_points,), optional
        A spectrum drawn in grey underneath.
    ax : matplotlib Axes, optional
    title, xlabel : str, optional

    Returns
    -------
    matplotlib Axes
    """
    x = _axis(axis)
    v = scale_max_abs(_vector(vip, "vip", x.size))
    m = scale_max_abs(_vector(cnn_map, "cnn_map", x.size))
    ax = _axes(ax)
    if spectrum is not None:
        ax.plot(x, scale_max_abs(_vector(spectrum, "spectrum", x.size)), color="0.7",
                linewidth=0.8, label="spectrum")
    ax.plot(x, v, color="#ff7f0e", linewidth=1.0, label="PLS-DA VIP", **curve_style(0))
    ax.plot(x, m, color=MAP_COLOR, linewidth=1.0, label="CNN map", **curve_style(1))
    ax.axhline(0.0, color="0.6", linewidth=0.5)
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(_xlabel(x, xlabel))
    ax.set_ylabel("scaled to max |value|")
    # "best" put it over the 1650 cm-1 amide I band, lower right hid it too
    _legend_above(ax, title)
    return ax


def _legend_above(ax: Axes, title: str | None) -> None:
    """The legend in one row above the axes, where no curve can be under it, and the title
    on a line above that (as :func:`spectrum_map` places them)."""
    n = len(ax.get_legend_handles_labels()[1])
    ax.legend(fontsize="x-small", loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=max(n, 1),
              frameon=False, borderaxespad=0.1, handlelength=1.5)
    if title:
        ax.set_title(title, loc="left", fontsize="medium", pad=14.0)
