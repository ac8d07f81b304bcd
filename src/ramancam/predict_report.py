"""``ramancam predict --report FILE.html``: one self-contained page a QC chemist can file with
a batch of predictions.

It holds the run's summary (the lines ``predict`` prints and the spectra per predicted
class), the spectra that need a second look (flagged unknown, more than one class in their
prediction set, or a library search that names another class), each drawn against the mean
training spectrum of its nearest class, and, with labels, the accuracy and the confusion of
true and predicted classes. Every string from the user's files (ids, class names, file names)
is escaped by :mod:`ramancam.report`.

:class:`Attention` collects what the page needs while ``predict`` goes through the data chunk
by chunk; :func:`write_predict_report` writes it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._labels import short_name, short_names
from .conformal import set_members

__all__ = ["MAX_DRAWN", "MAX_ROWS", "Attention", "attention_section", "cube_pixels",
           "pixels_to_check", "reasons", "write_predict_report"]

#: Rows of the "spectra to check" table (the most unlike the training spectra first).
MAX_ROWS = 50
#: Of those, the spectra drawn against their nearest class's mean.
MAX_DRAWN = 6


@dataclass
class Attention:
    """What ``predict --report`` gathers, chunk by chunk.

    ``rows`` keeps, for every spectrum that needs a second look, ``(novelty_p, order, row)``
    where ``row`` is ``[id, predicted, probability, novelty_p, prediction set, library
    match, true, why]``; only the :data:`MAX_ROWS` most unusual are kept (smallest p-value,
    then lowest probability), with their preprocessed spectra for the figure.
    """

    labelled: bool
    #: the rows carry the pixel position (x, y) after the id (maps)
    positions: bool = False
    rows: list[tuple[float, float, int, list[Any], NDArray[np.float64], str]] = field(
        default_factory=list)
    n_checked: int = 0
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, i: int, row: list[Any], why: list[str], p_nov: float, p_top: float,
            spectrum: NDArray[np.float64], nearest: str) -> None:
        """One spectrum that needs a second look (``why``: :func:`reasons`, not empty)."""
        self.n_checked += 1
        key = p_nov if np.isfinite(p_nov) else 1.0
        self.rows.append((key, p_top, i, [*row, "; ".join(why)],
                          np.asarray(spectrum, dtype=np.float64), nearest))
        if len(self.rows) > 2 * MAX_ROWS:  # keep the list short on large batches
            self._trim()

    def _trim(self) -> None:
        self.rows.sort(key=lambda t: (t[0], t[1], t[2]))
        del self.rows[MAX_ROWS:]

    def shown(self) -> list[tuple[float, float, int, list[Any], NDArray[np.float64], str]]:
        self._trim()
        return self.rows


#: How :func:`reasons` names the library search's class (always the last reason).
_LIBRARY = "library search: "


def reasons(unknown: Any, several: Any, library: str | None) -> list[str]:
    """Why a spectrum needs a second look: flagged ``unknown``, ``several`` classes in its
    prediction set, and the ``library`` search's class where it names another one."""
    return [why for why, on in (("unknown", unknown), ("several classes fit", several),
                                (f"{_LIBRARY}{library}", library is not None)) if on]


def _why_shown(why: str, label: dict[str, str]) -> str:
    """``why`` (:func:`reasons` joined) as a panel's title shows it: the library search's
    class cut as ``label`` cuts the classes (a 60-character name ran off the figure)."""
    head, sep, library = why.partition(_LIBRARY)
    return head + sep + (label.get(library) or short_name(library)) if sep else why


def _figure(grid: NDArray[np.float64],
            drawn: Sequence[tuple[str, str, NDArray[np.float64], str]],
            reference: Any, maps: Sequence[NDArray[np.float64]] | None = None,
            method: str = "map", map_class: str | None = None,
            classes: Sequence[str] = ()) -> Any:
    """The drawn spectra, one panel each: ``drawn`` holds (id, nearest class, preprocessed
    spectrum, why it is drawn), the last shown in the panel's title; ``classes``: the
    model's, which the panels' class names are shortened apart from."""
    from matplotlib.figure import Figure

    from .plot import SPECTRUM_COLOR, _xlabel

    n = len(drawn)
    # the classes of every panel named apart (long names that differ in their middle)
    # (and from the model's other classes: "Hydroxylapatite R0601…unoriented" fitted three)
    names = list(dict.fromkeys([*map(str, classes), *(d[1] for d in drawn),
                                *([map_class] if map_class else [])]))
    label = dict(zip(names, short_names(names), strict=True))
    fig = Figure(figsize=(8.0, (2.4 if maps is not None else 2.1) * n + 0.3),
                 layout="constrained")
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for k, (ax, (ident, nearest, x, why)) in enumerate(zip(axes, drawn, strict=True)):
        ref = reference(nearest)
        # why on a line of its own: after the names, one line ran past the right edge
        why = _why_shown(why, label)
        if maps is not None:  # an explained map: the pixel's map beside its spectrum
            from .plot import spectrum_map

            spectrum_map(grid, x, maps[k], ax=ax,
                         title=f"{short_name(ident)}: {method} map for "
                               f"{label[map_class or nearest]}\n({why})",
                         map_label=method, reference=None if ref is None else ref[0],
                         reference_sd=None if ref is None else ref[1],
                         reference_label=f"mean of {label[nearest]}")
            continue
        if ref is not None:
            mean, sd = ref
            # the band in the legend too (it had none), as spectrum_map draws it
            ax.fill_between(grid, mean - sd, mean + sd, color="0.85", lw=0,
                            label=f"mean of {label[nearest]} +- sd")
            ax.plot(grid, mean, color="0.45", ls="--", lw=1.0,
                    label=f"mean of {label[nearest]}")
        # black, as spectrum_map draws a spectrum: matplotlib's first colour is the first
        # class's in classes.png, so a lacuna pixel looked like a cell
        ax.plot(grid, x, color=SPECTRUM_COLOR, lw=1.0, label=short_name(ident))
        ax.set_ylabel("intensity")
        ax.set_title(f"{short_name(ident)}: nearest class {label[nearest]}\n({why})",
                     loc="left",
                     fontsize="medium")
        ax.legend(fontsize="small", loc="best", frameon=False)
    axes[-1].set_xlabel(_xlabel(np.asarray(grid, dtype=np.float64), None))
    return fig


def map_class_of(target: str | None) -> str | None:
    """The class every drawn map explains, named in the panels' titles, for ``explain
    --target``: None where each map explains its pixel's own predicted class ("predicted",
    "all")."""
    if target in (None, "predicted", "all"):
        return None
    # 'class:NAME': a class named like a word
    return "its labelled class" if target == "true" else target.removeprefix("class:")


def attention_section(attention: Attention, total: int, grid: NDArray[np.float64] | None,
                      reference: Any, what: str = "spectra",
                      maps: Sequence[NDArray[np.float64]] | None = None,
                      method: str = "map", map_class: str | None = None,
                      classes: Sequence[str] = ()) -> Any:
    """The "to check" section: the table of :class:`Attention`'s rows and the figure of the
    first :data:`MAX_DRAWN` (``what``: "spectra", or "pixels" for a map; ``grid`` None: no
    figure, e.g. for a Zarr run whose cube is gone). ``maps``: the explanation map of each
    drawn spectrum (``method`` names it; ``map_class``: the class every map explains, when
    not each spectrum's nearest), drawn beside it (an explain run's page)."""
    from .report import Figure, Section, Table

    shown = attention.shown()
    head = ["id", *(["x", "y"] if attention.positions else []), "predicted", "probability",
            "novelty_p", "prediction set", "library match",
            *(["true"] if attention.labelled else []), "why"]
    blocks: list[Any] = [
        f"{attention.n_checked} of {total} {what} need a second look: flagged unknown "
        "(unlike every training spectrum), more than one class in their prediction set (the "
        "model cannot tell those classes apart), or a library search (the most similar "
        "training spectrum) that names another class."
        + (f" The {len(shown)} most unusual are listed (smallest novelty p-value first)."
           if attention.n_checked > len(shown) else "")]
    if shown:
        blocks.append(Table(head, [r[3] for r in shown]))
    if shown and grid is not None:
        drawn = [(r[3][0], r[5], r[4], r[3][-1]) for r in shown[:MAX_DRAWN]]
        with_maps = maps is not None and len(maps) == len(drawn)
        blocks.append(Figure.from_matplotlib(
            _figure(grid, drawn, reference, maps if with_maps else None, method, map_class,
                    classes),
            f"The first {len(drawn)} of them, preprocessed, against the mean training "
            "spectrum (+- sd) of their nearest class"
            + (f", with their {method} map (red: supports the class, blue: argues against "
               "it)." if with_maps else ".")))
    if not shown:
        blocks.append(f"None: all {what} are like the training spectra, with one class in "
                      "their prediction set and the library search agreeing.")
    return Section(f"{what.capitalize()} to check", blocks)


def write_predict_report(path: str | os.PathLike[str], *, info: dict[str, Any],
                         lines: Sequence[str], counts: Counter[str], attention: Attention,
                         grid: NDArray[np.float64], reference: Any,
                         labels_known: Sequence[str]) -> Path:
    """Write the page.

    Parameters
    ----------
    path : str or path-like
        ``.html`` file (its folder must exist).
    info : dict
        Data file, model file, spectra and so on (the first table).
    lines : sequence of str
        The summary lines ``predict`` printed (``predicted:``, ``unknown:``, ...).
    counts : Counter
        Spectra per predicted class, "unknown" (flagged) and "not predicted".
    attention : Attention
    grid : ndarray
        The model's grid (the figure's axis).
    reference : callable
        ``name -> (mean, sd) or None``: :meth:`ramancam.bundle.Bundle.class_reference`.
    labels_known : sequence of str
        The model's classes (columns of the confusion table).
    """
    from .report import Section, Table, write_report

    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    sections = [Section("Summary", [
        dict(info), *lines,
        Table(["predicted", "spectra", "% of spectra"],
              [[c, n, 100.0 * n / max(total, 1)] for c, n in ranked],
              caption="Spectra per predicted class ('unknown': flagged by the novelty "
                      "score; 'not predicted': refused by the model's recipe, or "
                      "probabilities not finite; the rows of both read unknown in "
                      "predictions.csv)."),
    ])]
    sections.append(attention_section(attention, total, grid, reference,
                                      classes=list(labels_known)))
    if attention.labelled and attention.pairs:
        true_classes = sorted({t for t, _ in attention.pairs})
        cols = [*labels_known, "unknown"]
        right = sum(n for (t, p), n in attention.pairs.items()  # 'unknown' is no class
                    if t == p and t in labels_known)
        n_lab = sum(attention.pairs.values())
        sections.append(Section("Against the labels", [
            f"{right} of {n_lab} labelled spectra predicted as labelled "
            f"({right / n_lab:.1%}); a spectrum flagged unknown counts as wrong.",
            Table(["true \\ predicted", *cols],
                  [[t, *(attention.pairs.get((t, c), 0) for c in cols)]
                   for t in true_classes],
                  caption="Spectra per true (row) and predicted (column) class."),
        ]))
    return write_report(path, "ramancam predict", sections, settings=dict(info))


def cube_pixels(cube: str | os.PathLike[str], bundle: Any, axis_offset: float = 0.0
                ) -> Any:
    """A reader for :func:`pixels_to_check`'s ``spectra``: the spectra of a few pixels of
    ``cube`` (flat indices, row-major), read one by one (never a whole tile) and prepared by
    ``bundle``'s recipe, the Raman axis moved by ``axis_offset`` as the run moved it. Returns
    ``(X, usable)`` as :meth:`ramancam.bundle.Bundle.prepare_usable` does."""
    from .io.zarr_cube import open_cube
    from .spectra import Spectra

    def read(flat: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        c = open_cube(cube)
        iy, ix = np.divmod(np.asarray(flat, dtype=np.intp), c.shape[1])
        block = np.stack([np.asarray(c.spectra[a, b, :], dtype=np.float64)
                          for a, b in zip(iy.tolist(), ix.tolist(), strict=True)])
        X, ok, _ = bundle.prepare_usable(Spectra(block, c.wavenumbers + axis_offset))
        return X, ok

    return read


def pixels_to_check(predicted: NDArray[Any], proba: NDArray[Any], classes: Sequence[str],
                    x: NDArray[np.float64], y: NDArray[np.float64], *,
                    sets: NDArray[Any] | None, flagged: NDArray[Any] | None,
                    match: NDArray[Any] | None, novelty_p: NDArray[Any] | None,
                    reject: bool = True, spectra: Any = None,
                    grid: NDArray[np.float64] | None = None, reference: Any = None,
                    maps: Any = None, method: str = "map", map_class: str | None = None,
                    ids: NDArray[Any] | None = None) -> Any:
    """The "Pixels to check" section of a Zarr result store's report, from its arrays
    (``predicted`` (ny, nx) with -1 for refused pixels, ``proba`` (ny, nx, k), the optional
    ``prediction_set``, ``unknown``, ``library_match`` and ``novelty_p``): the in-memory
    ``predict``'s section (:func:`attention_section`). The pixels are found with array
    masks, the most unusual first; ids read ``y<row>x<column>``.

    The first :data:`MAX_DRAWN` are drawn against their nearest class's training mean when
    ``spectra`` (:func:`cube_pixels`: their preprocessed spectra, read from the cube),
    ``grid`` (the model's axis) and ``reference`` (``Bundle.class_reference``) are given;
    else the section has the table alone (the cube is gone, or an older model file). An
    explain store's ``maps`` (flat indices -> their maps, ``(n, n_points)``) are drawn
    beside them. ``ids`` (an (ny, nx) image of spectrum ids, a map in memory) replaces the
    ``y<row>x<column>`` ids."""
    shape = predicted.shape
    n = int(predicted.size)
    pred = predicted.ravel()
    ok = pred >= 0
    none = np.zeros(n, dtype=bool)
    unk = none if flagged is None else np.asarray(flagged, dtype=bool).ravel()
    pr = np.asarray(proba, dtype=np.float64).reshape(n, -1)
    flat_sets = None if sets is None else np.asarray(sets, dtype=bool).reshape(n, -1)
    several = none if flat_sets is None else flat_sets.sum(axis=1) > 1
    lib = None if match is None else np.asarray(match).ravel()
    other = none if lib is None else lib != pred
    look = np.flatnonzero((unk | several | other) & ok)
    p_nov = (np.full(n, np.nan) if novelty_p is None
             else np.asarray(novelty_p, dtype=np.float64).ravel())
    top = np.where(ok, np.nanmax(np.where(np.isnan(pr), -np.inf, pr), axis=1), np.nan)
    order = look[np.lexsort((look, top[look], np.nan_to_num(p_nov[look], nan=1.0)))][:MAX_ROWS]
    first = None  # the preprocessed spectra of the pixels drawn
    drawn_maps = None
    if spectra is not None and grid is not None and order.size:
        X, usable = spectra(order[:MAX_DRAWN])
        first = X if usable.all() else None  # the recipe refuses one now: no figure
        if first is not None and maps is not None:
            drawn_maps = list(np.asarray(maps(order[:MAX_DRAWN]), dtype=np.float64))
    att = Attention(labelled=False, positions=True)
    att.n_checked = int(look.size)
    names = [str(c) for c in classes]
    members = (None if flat_sets is None else
               set_members(flat_sets[order], pr[order], names))
    for k, i in enumerate(order):
        iy, ix = divmod(int(i), shape[1])
        library = names[lib[i]] if lib is not None and other[i] else None
        row = [f"y{iy}x{ix}" if ids is None else str(ids[iy, ix]), float(x[ix]), float(y[iy]),
               "unknown" if reject and unk[i] else names[pred[i]], float(top[i]),
               float(p_nov[i]) if np.isfinite(p_nov[i]) else "",
               "" if members is None else " | ".join(members[k]),
               "" if lib is None else names[lib[i]],
               "; ".join(reasons(unk[i], several[i], library))]
        drawn = (np.asarray(first[k], dtype=np.float64) if first is not None
                 and k < len(first) else np.zeros(0))
        att.rows.append((float(k), 0.0, k, row, drawn, names[pred[i]]))
    return attention_section(att, int(ok.sum()), None if first is None else grid, reference,
                             "pixels", maps=drawn_maps, method=method, map_class=map_class,
                             classes=names)
