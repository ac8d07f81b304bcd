"""What ``ramancam predict`` and ``ramancam explain`` write for a map (``--out DIR``).

:func:`write_predict_outputs` writes the images of :func:`~ramancam.maps.images.write_map_images`
and ``report.html``; :func:`write_explain_outputs` adds band images (the explanation map's
value, and the preprocessed intensity, at chosen Raman shifts across the image), the mean
spectrum and mean map of every predicted class (``class_means.csv``, ``class_means.png``)
and the same report. The CLI modules only gather predictions and maps and call these.

The report is one self-contained HTML file (:mod:`ramancam.report`): every string that comes
from the user's files (class names, file names, ids) is escaped there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._csvout import csv_writer
from ..errors import RamancamError
from ..predict_report import map_class_of
from .grid import MapGrid
from .images import (
    CLASS_IMAGES,
    draw_value_image,
    nearest_index,
    proba_class,
    remove_stale,
    save_figure,
    top_bands,
    write_map_images,
)
from .images import _new_figure as new_map_figure

__all__ = ["MEAN_PANELS", "check_bands", "drawn_note", "explain_sections", "flagged_by_class",
           "out_dir_of", "parse_bands",
           "write_band_images", "write_class_means", "write_explain_outputs",
           "write_map_report", "write_predict_outputs"]

def out_dir_of(out: str | None, has_xy: bool, *, create: bool = True) -> Path | None:
    """The output folder of ``predict``/``explain`` ``--out``, created when needed (with
    ``create``; else the caller creates it once its checks have passed), or None when
    ``--out`` names a file.

    ``--out`` is a folder when it is an existing folder or ends with a path separator, and,
    for a map (``has_xy``), also when it has no file suffix (``--out results``; an existing
    file of that name is refused, not overwritten). A name with a suffix such as ``.csv``
    stays a file.
    """
    if not out:
        return None
    p = Path(out)
    if has_xy and p.suffix == "" and p.is_file():
        raise RamancamError(
            f"--out must be a folder for a map's table and images (or NAME.csv for the table "
            f"alone); got {out!r}, an existing file. Name a folder.")
    is_dir = (p.is_dir() or out.endswith(("/", os.sep))
              or (has_xy and not p.exists() and p.suffix == ""))
    if not is_dir:
        return None
    if p.exists() and not p.is_dir():
        raise RamancamError(f"--out must be a folder here; got {out!r}, which is a file.")
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


#: What each command's ``--out DIR`` holds: the other command's run into that folder
#: removed its images (band_01.png) and replaced its report, its table left beside.
_RUN_FILES = {"predict": ("predictions.csv", "predictions.csv.gz", "predictions.zarr"),
              "explain": ("maps.csv", "maps.csv.gz", "explain.zarr")}


def check_other_run(out_dir: str | os.PathLike[str] | None, command: str) -> None:
    """Refuse an output folder that holds the other command's run (``predict`` into an
    ``explain`` folder, or the reverse)."""
    if out_dir is None or not Path(out_dir).is_dir():
        return
    for other, names in _RUN_FILES.items():
        found = [n for n in names if other != command and (Path(out_dir) / n).exists()]
        if found:
            raise RamancamError(
                f"--out must be a new folder or one of an earlier {command} run; got "
                f"{str(out_dir)!r}, which holds the outputs of {other} ({found[0]}): this "
                f"run's images and report would replace theirs. Choose another --out.")


def no_positions_note(data: str, n_spectra: int, meta: Mapping[str, Any] | None = None
                      ) -> str | None:
    """The note for ``--out DIR`` on data without pixel positions: a table of several
    spectra with two numeric metadata columns or more (``meta``; None: not known) may be a
    map whose x/y columns were not recognised, and the note names them; a single spectrum, a
    folder of files or a table without such columns is not one (None: the note was noise
    under every ordinary table's predictions)."""
    if n_spectra < 2 or Path(data).is_dir():
        return None
    numeric = None if meta is None else [
        k for k, v in meta.items() if np.asarray(v).dtype.kind in "iuf"]
    if numeric is not None and len(numeric) < 2:
        return None
    note = ("note: DATA has no pixel positions (x/y), so no map images were drawn; if it is "
            "a map, name the position columns with --xy-cols X,Y")
    if numeric:
        more = f" and {len(numeric) - 4} more" if len(numeric) > 4 else ""
        note += f" (numeric columns: {', '.join(repr(k) for k in numeric[:4])}{more})"
    return note


def parse_bands(text: str | None) -> list[float] | None:
    """``"1001,1450"`` -> ``[1001.0, 1450.0]`` (the ``--bands`` option; None stays None)."""
    if text is None:
        return None
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise RamancamError(
            f"--bands must be Raman shifts in cm-1 separated by commas, e.g. 1001,1450; got "
            f"{text!r}.") from None
    if not vals or not all(np.isfinite(vals)):
        raise RamancamError(
            f"--bands must be Raman shifts in cm-1 separated by commas, e.g. 1001,1450; got "
            f"{text!r}.")
    if twice := sorted({v for v in vals if vals.count(v) > 1}):  # two images of one band
        raise RamancamError(
            f"--bands must name each band once; got {', '.join(f'{v:g}' for v in twice)} "
            f"more than once in {text!r}.")
    return vals


def check_bands(bands: Sequence[float], axis: NDArray[np.float64]) -> None:
    """Every band must lie within the model's grid."""
    lo, hi = float(axis.min()), float(axis.max())
    for b in bands:
        if not lo <= b <= hi:
            raise RamancamError(
                f"--bands must lie within the model's grid ({lo:g}-{hi:g} cm-1); got {b:g}. "
                "Choose shifts inside that range.")


def _class_rows(pred: NDArray[np.intp], proba: NDArray[np.float64],
                class_names: Sequence[str], unknown: NDArray[np.bool_] | None = None
                ) -> list[list[Any]]:
    """Pixels per predicted class, as ``classes.png`` counts them: flagged pixels in an
    ``unknown`` row, pixels the recipe refused (``pred`` -1) in a ``not predicted`` row."""
    rows: list[list[Any]] = []
    n = max(pred.size, 1)
    flagged = (np.zeros(pred.size, dtype=bool) if unknown is None
               else np.asarray(unknown, dtype=bool).ravel() & (pred >= 0))
    for i, name in enumerate(class_names):
        sel = (pred == i) & ~flagged
        conf = float(proba[sel, i].mean()) if sel.any() else None
        rows.append([name, int(sel.sum()), 100.0 * sel.sum() / n, conf])
    for name, sel in (("unknown", flagged), ("not predicted", pred < 0)):
        if sel.any():
            rows.append([name, int(sel.sum()), 100.0 * sel.sum() / n, None])
    return rows


def _predicted(p: NDArray[np.float64]) -> NDArray[np.intp]:
    """Each row's most probable class; -1 for a row without probabilities (refused)."""
    ok = np.isfinite(p).all(axis=1)
    return np.where(ok, np.nan_to_num(p, nan=-np.inf).argmax(axis=1), -1).astype(np.intp)


def _map_section(grid: MapGrid, pred: NDArray[np.intp], proba: NDArray[np.float64],
                 class_names: Sequence[str], info: Mapping[str, Any],
                 unknown: NDArray[np.bool_] | None = None) -> Any:
    from ..report import Section, Table

    return Section("Map", [
        {**info, "grid": grid.text(), "spectra": grid.n_spectra},
        Table(["class", "pixels", "% of pixels", "mean probability"],
              _class_rows(pred, proba, class_names, unknown),
              caption="Predicted class per pixel, as the class image colours them"),
    ])


#: Report sections of the optional images of :func:`write_map_images`, by file name
#: (``{unit}``: the band shift's unit, as its colour bar names it).
_EXTRA_IMAGES = {
    "band_shift.png": ("Band shift", (
        "How far each pixel's bands sit from the mean training spectrum of its class, {unit} "
        "(red: higher, blue: lower; grey: none read). A region of one colour is a real shift "
        "(stress, temperature, composition) or a drifted axis; see docs/novelty.md.")),
    "novelty_p.png": ("Novelty p-value", (
        "Each pixel's novelty p-value: the share of held-out training spectra that look at "
        "least as unlike the training spectra as this pixel does (log scale). A pixel at "
        "or below the false-alarm rate (0.05 by default) is flagged unknown; a dark region "
        "is a substance or condition the model was not trained on; see docs/novelty.md.")),
    "set_size.png": ("Prediction set size", (
        "How many classes each pixel's conformal prediction set holds (the set contains the "
        "true class for 1 - rate of spectra like the training ones, 95 % by default). One "
        "class: the answer is unambiguous; more: the model cannot tell these classes apart "
        "there (mixtures, boundaries, weak spectra); see docs/novelty.md.")),
}


def _image_sections(paths: Sequence[Path], class_names: Sequence[str],
                    shift_unit: str = "cm-1") -> list[Any]:
    from ..report import Figure, Section

    classes, confidence, *rest = paths
    per_class = [(p, i) for p in rest if (i := proba_class(p)) is not None]
    # a simulated set's channel axis: "channels", as band_shift.png's colour bar says
    extra = [Section(_EXTRA_IMAGES[p.name][0], [Figure.from_file(
                 p, _EXTRA_IMAGES[p.name][1].replace("{unit}", shift_unit))])
             for p in rest if p.name in _EXTRA_IMAGES]
    drawn: list[Any] = [Figure.from_file(p, f"Probability of {class_names[i]}.")
                        for p, i in per_class]
    if len(per_class) < len(class_names):
        drawn.insert(0, f"Drawn for the {len(per_class)} classes predicted at the most pixels, "
                        f"of {len(class_names)} (at most {CLASS_IMAGES}); every class's "
                        "probability is in the table of predictions (predict's "
                        "predictions.csv, or the result store).")
    return [
        Section("Class image", [Figure.from_file(classes, "Predicted class of every pixel "
                                                          "(grey: no spectrum)."),
                                Figure.from_file(confidence, "Probability of the predicted "
                                                             "class.")]),
        Section("Probability of each class", drawn),
        *extra,
    ]


def drawn_note(paths: Sequence[Path], n_classes: int, predicted: NDArray[Any],
               where: str) -> str | None:
    """The printed note when the images leave classes out: probability images of
    :data:`~ramancam.maps.images.CLASS_IMAGES` classes of more, class means of
    :data:`MEAN_PANELS` predicted classes of more. ``predicted``: each pixel's class (-1:
    none; or the probabilities, one row per spectrum); ``where``: where every class's
    probability is (predict's predictions.csv)."""
    n_proba = sum(proba_class(p) is not None for p in paths)
    pred = np.asarray(predicted)
    if pred.ndim == 2 and pred.shape[1] == n_classes and pred.dtype.kind == "f":
        pred = _predicted(pred)  # one row of probabilities per spectrum
    n_present = len(np.unique(pred[pred >= 0]))
    parts = []
    if n_proba < n_classes:
        parts.append(f"probability images of the {n_proba} classes predicted at the most "
                     f"pixels, of {n_classes} (proba_NNN.png is class NNN; every class's "
                     f"probability is in {where})")
    if any(p.name == "class_means.png" for p in paths) and n_present > MEAN_PANELS:
        parts.append(f"class means of the {MEAN_PANELS} classes with the most pixels, of "
                     f"{n_present} predicted (class_means.csv has every one)")
    return f"note: drew the {'; and the '.join(parts)}" if parts else None


def _extra_images(grid: MapGrid, unknown: NDArray[np.bool_] | None,
                  novelty_p: NDArray[np.float64] | None, set_size: NDArray[np.float64] | None,
                  band_shift: NDArray[np.float64] | None = None) -> dict[str, Any]:
    """Per-spectrum values as :func:`write_map_images`' optional (ny, nx) images."""
    def image(values: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        return None if values is None else grid.to_image(
            np.asarray(values, dtype=np.float64), fill=np.nan)

    return {"unknown": None if unknown is None else grid.to_image(
                np.asarray(unknown, bool), fill=False),
            "band_shift": image(band_shift), "novelty_p": image(novelty_p),
            "set_size": image(set_size)}


def write_map_report(out_dir: str | os.PathLike[str], grid: MapGrid,
                     predicted: NDArray[np.intp], proba: NDArray[np.float64],
                     class_names: Sequence[str], images: Sequence[Path], *,
                     info: Mapping[str, Any] | None = None,
                     title: str = "ramancam predict: map", extra_section: Any = None,
                     unknown: NDArray[np.bool_] | None = None,
                     shift_unit: str = "cm-1") -> Path:
    """``report.html`` for images already drawn by :func:`write_map_images`: the map's class
    table and every image (:func:`write_predict_outputs`, and a Zarr run's images).

    ``predicted`` and ``proba``: one row per spectrum (``(n_spectra,)`` and ``(n_spectra,
    n_classes)``) or the images of :func:`write_map_images` (``(ny, nx)``, ``(ny, nx,
    n_classes)``); the class table counts their rows. ``images``: what
    :func:`write_map_images` returned; ``extra_section`` (a section, or a list of them) is
    added after them (the pixels to check; a Zarr explain run's band images and class
    means). ``unknown``: the pixels marked in the class image (same shape as
    ``predicted``): those with a class are counted as unknown in their own row rather than
    under their nearest class; those without one (refused) are in the "not predicted" row.
    ``shift_unit``: the band shift's, as :func:`write_map_images` was given it.
    """
    from ..report import write_report

    k = len(class_names)
    pred = np.asarray(predicted).ravel().astype(np.intp)
    p = np.asarray(proba, dtype=np.float64).reshape(-1, k)
    extra = ([] if extra_section is None else list(extra_section)
             if isinstance(extra_section, list | tuple) else [extra_section])
    sections = [_map_section(grid, pred, p, class_names, info or {}, unknown),
                *_image_sections(images, class_names, shift_unit), *extra]
    return write_report(Path(out_dir) / "report.html", title, sections,
                        settings=dict(info or {}))


def write_predict_outputs(out_dir: str | os.PathLike[str], grid: MapGrid,
                          proba: NDArray[np.float64], class_names: Sequence[str], *,
                          info: Mapping[str, Any] | None = None,
                          unknown: NDArray[np.bool_] | None = None,
                          band_shift: NDArray[np.float64] | None = None,
                          novelty_p: NDArray[np.float64] | None = None,
                          set_size: NDArray[np.float64] | None = None,
                          extra_section: Any = None, shift_unit: str = "cm-1") -> list[Path]:
    """Images and ``report.html`` of a classified map.

    Parameters
    ----------
    out_dir : str or path-like
        Existing folder.
    grid : MapGrid
        Grid of the spectra, in the order of ``proba``'s rows.
    proba : ndarray of shape (n_spectra, n_classes)
        Class probabilities per spectrum.
    class_names : sequence of str
    info : mapping, optional
        Shown in the report's first table (data file, model file, ...).
    unknown : ndarray of bool, shape (n_spectra,), optional
        Spectra flagged unknown (novelty detection), drawn in their own colour in
        ``classes.png``; marked rows without probabilities (refused by the model's recipe)
        are drawn as not predicted.
    band_shift : ndarray of shape (n_spectra,), optional
        Each spectrum's band shift (cm-1, NaN: none read): ``band_shift.png`` and its
        report section.
    novelty_p, set_size : ndarray of shape (n_spectra,), optional
        Each spectrum's novelty p-value and prediction-set size (NaN: none):
        ``novelty_p.png``, ``set_size.png`` and their report sections.
    extra_section : ramancam.report.Section, optional
        Added to the report after the images (``predict``: the pixels to check,
        :func:`ramancam.predict_report.attention_section`).
    shift_unit : str
        The unit of ``band_shift`` in its image's label (``"channels"`` for a model on a
        channel axis).

    Returns
    -------
    list of pathlib.Path
        The images (see :func:`write_map_images`) and the report, in that order.
    """

    out = Path(out_dir)
    p = np.asarray(proba, dtype=np.float64)
    pred = _predicted(p)
    paths = write_map_images(out, grid, grid.to_image(pred, fill=-1),
                             grid.to_image(p, fill=np.nan), class_names,
                             **_extra_images(grid, unknown, novelty_p, set_size, band_shift),
                             shift_unit=shift_unit)
    paths.append(write_map_report(out, grid, pred, p, class_names, paths, info=info,
                                  extra_section=extra_section, unknown=unknown,
                                  shift_unit=shift_unit))
    remove_stale(out, paths)
    return paths


def write_explain_outputs(out_dir: str | os.PathLike[str], grid: MapGrid,
                          X: NDArray[np.floating[Any]], maps: NDArray[np.floating[Any]],
                          axis: NDArray[np.float64], proba: NDArray[np.float64],
                          class_names: Sequence[str], *, method: str,
                          bands: Sequence[float] | None = None,
                          info: Mapping[str, Any] | None = None,
                          unknown: NDArray[np.bool_] | None = None,
                          novelty_p: NDArray[np.float64] | None = None,
                          set_size: NDArray[np.float64] | None = None,
                          extra_section: Any = None,
                          band_shift: NDArray[np.float64] | None = None,
                          target: str | None = None) -> list[Path]:
    """Images, band images, class means and ``report.html`` of an explained map.

    Parameters
    ----------
    out_dir : str or path-like
        Existing folder.
    grid : MapGrid
        Grid of the spectra, in the order of the rows below.
    X : ndarray of shape (n_spectra, n_points)
        Preprocessed spectra (on the model's grid ``axis``); NaN rows for spectra the
        model's recipe refused (their ``proba`` rows NaN too: not predicted).
    maps : ndarray of shape (n_spectra, n_points)
        One explanation map per spectrum (for its predicted class; NaN where not
        predicted).
    axis : ndarray of shape (n_points,)
        The model's grid (cm-1).
    proba : ndarray of shape (n_spectra, n_classes)
        NaN rows: not predicted (drawn so in ``classes.png`` when ``unknown`` marks them,
        counted in the report's "not predicted" row).
    class_names : sequence of str
    method : str
        Name of the explanation method (shown in labels).
    bands : sequence of float, optional
        Raman shifts for the band images; default: the 3 shifts with the largest mean
        |map| (at least 2 % of the axis range apart).
    info : mapping, optional
        Shown in the report.
    unknown, novelty_p, set_size : ndarray of shape (n_spectra,), optional
        As for :func:`write_predict_outputs`: flagged pixels in the "unknown" colour of
        ``classes.png`` (they are explained for their nearest class all the same),
        ``novelty_p.png`` and ``set_size.png``.
    extra_section : ramancam.report.Section, optional
        Added to the report last (``explain``: the pixels to check).
    band_shift : ndarray of shape (n_spectra,), optional
        Each spectrum's band shift (cm-1, NaN: none read): ``band_shift.png``, as predict's.
    target : str, optional
        explain's ``--target`` (predicted, true, all or a class name; None: predicted): the
        class the maps explain, said in the band images' titles.

    Returns
    -------
    list of pathlib.Path
        Class images, ``band_01.png``..., ``class_means.csv``, ``class_means.png``,
        ``report.html``.
    """
    from ..plot import shift_unit
    from ..report import write_report

    out = Path(out_dir)
    p = np.asarray(proba, dtype=np.float64)
    Xa = np.asarray(X, dtype=np.float64)
    M = np.asarray(maps, dtype=np.float64)
    ax_ = np.asarray(axis, dtype=np.float64)
    pred = _predicted(p)
    images = write_map_images(out, grid, grid.to_image(pred, fill=-1),
                              grid.to_image(p, fill=np.nan), class_names,
                              **_extra_images(grid, unknown, novelty_p, set_size, band_shift),
                              shift_unit=shift_unit(ax_))
    # the pixels not predicted (refused: rows of NaN) have no map to choose bands by
    chosen = (list(bands) if bands is not None
              else top_bands(np.abs(M[pred >= 0]).mean(axis=0), ax_))
    check_bands(chosen, ax_)
    js = [nearest_index(ax_, b) for b in chosen]
    band_paths, band_rows = write_band_images(
        out, grid, ax_, chosen, [grid.to_image(M[:, j]) for j in js], method,
        intensity=[grid.to_image(Xa[:, j]) for j in js], target=target)
    # mean spectrum and mean map per predicted class
    counts = np.bincount(pred[pred >= 0], minlength=len(class_names))
    present = [i for i in range(len(class_names)) if counts[i]]
    flagged = flagged_by_class(pred, unknown, len(class_names))
    means_csv, means_png = write_class_means(
        out, ax_, class_names, counts,
        {i: Xa[pred == i].mean(axis=0) for i in present},
        {i: M[pred == i].mean(axis=0) for i in present}, method, target=target,
        flagged={i: int(flagged[i]) for i in present})
    sections = [_map_section(grid, pred, p, class_names, info or {}, unknown),
                *_image_sections(images, class_names, shift_unit(ax_)),
                *explain_sections(band_paths, band_rows, means_png, method, axis=ax_,
                                  n_predicted=len(present), n_flagged=int(flagged.sum())),
                *([] if extra_section is None else [extra_section])]
    report = write_report(out / "report.html", "ramancam explain: map", sections,
                          settings=dict(info or {}))
    remove_stale(out, [*images, *band_paths])
    return [*images, *band_paths, means_csv, means_png, report]


def flagged_by_class(pred: NDArray[np.integer[Any]], unknown: NDArray[np.bool_] | None,
                     n_classes: int) -> NDArray[np.int64]:
    """Pixels flagged unknown per predicted class (``pred``: class index, -1 where not
    predicted, left out; ``unknown``: the flags, same size, or ``None``: none flagged), what
    :func:`write_class_means` says in its panels' titles."""
    p = np.asarray(pred).ravel()
    flags = (np.zeros(p.size, bool) if unknown is None
             else np.asarray(unknown, dtype=bool).ravel())
    return np.bincount(p[flags & (p >= 0)], minlength=n_classes).astype(np.int64)


def write_band_images(out_dir: Path, grid: MapGrid, axis: NDArray[np.float64],
                      bands: Sequence[float], map_images: Sequence[NDArray[np.float64]],
                      method: str, *, intensity: Sequence[NDArray[np.float64]] | None = None,
                      target: str | None = None) -> tuple[list[Path], list[list[Any]]]:
    """``band_01.png``, ...: the explanation map's value at each of ``bands`` across the
    image (``map_images``, one (ny, nx) image per band), beside the preprocessed intensity
    there when ``intensity`` gives its images; ``target`` (explain's ``--target``) names the
    class the map explains in its title. Returns the files and the report's rows (file,
    band asked, nearest grid point)."""
    from matplotlib.figure import Figure as MplFigure

    from ..plot import at_shift

    paths: list[Path] = []
    rows: list[list[Any]] = []
    width = max(2, len(str(len(bands))))
    # with --target predicted each pixel's map is for its own class: the image mostly
    # follows classes.png, which a bare "supports the class" did not let a reader see
    whose = map_for(target)
    for b_i, b in enumerate(bands, start=1):
        j = nearest_index(axis, b)
        if intensity is None:  # the map alone, sized as the class images are
            fig, a2 = new_map_figure(grid)
        else:
            fig = MplFigure(figsize=(11.5, _band_height(grid)), layout="constrained")
            a1, a2 = fig.subplots(1, 2)
            draw_value_image(a1, grid, intensity[b_i - 1], label="intensity (preprocessed)",
                             title=f"intensity at {at_shift(axis, axis[j])}")
        draw_value_image(a2, grid, map_images[b_i - 1], label=f"{method} map value",
                         cmap="RdBu_r", symmetric=True,
                         title=f"{method} map at {at_shift(axis, axis[j])}\n{whose}\n"
                               "red: supports it, blue: argues against it")
        paths.append(save_figure(fig, out_dir / f"band_{b_i:0{width}d}.png"))
        rows.append([f"band_{b_i:0{width}d}.png", b, float(axis[j])])
    return paths, rows


def map_for(target: str | None) -> str:
    """The class an explain map is for, in a figure's words, from explain's ``--target``
    (None: predicted)."""
    cls = map_class_of(target)
    if cls is None:
        return "for each pixel's predicted class"
    if cls == "its labelled class":
        return "for each pixel's labelled class"
    from .._labels import short_name

    return f"for class {short_name(cls)} at every pixel"


def write_class_means(out_dir: Path, axis: NDArray[np.float64], class_names: Sequence[str],
                      counts: NDArray[np.integer[Any]],
                      spectra: Mapping[int, NDArray[np.float64]],
                      maps: Mapping[int, NDArray[np.float64]], method: str, *,
                      target: str | None = None, flagged: Mapping[int, int] | None = None
                      ) -> tuple[Path, Path]:
    """``class_means.csv`` (rows: class, kind ``spectrum`` or ``map``, n_pixels, one value
    per grid point) and ``class_means.png``: the mean preprocessed spectrum and mean map of
    the pixels predicted as each class (``spectra``/``maps`` by class index, for the
    classes with pixels). Pixels flagged unknown count with their nearest class, the class
    their map explains; ``flagged`` (by class index) gives how many, said in the panels'
    titles. ``target`` (explain's ``--target``) names the class the maps are for. The
    figure draws the :data:`MEAN_PANELS` classes with the most pixels
    (:func:`mean_panels`); the table has every one."""
    from matplotlib.figure import Figure as MplFigure

    from ..io import atomic_write
    from ..plot import spectrum_map

    present = sorted(spectra)
    drawn = mean_panels(counts, present)
    csv_path = out_dir / "class_means.csv"
    with atomic_write(csv_path, "w", newline="") as fh:
        w = csv_writer(fh)
        w.writerow(["class", "kind", "n_pixels", *(repr(float(v)) for v in axis)])
        for i in present:
            for kind, arr in (("spectrum", spectra[i]), ("map", maps[i])):
                w.writerow([class_names[i], kind, int(counts[i]),
                            *(repr(float(v)) for v in arr)])
    from .._labels import short_names

    shown = short_names(class_names)  # a long name cut, apart from the other classes'
    fig = MplFigure(figsize=(8, 2.4 * max(len(drawn), 1) + 0.4), layout="constrained")
    axes = fig.subplots(max(len(drawn), 1), 1, squeeze=False)[:, 0]
    for a, i in zip(axes, drawn, strict=False):
        n_flag = 0 if flagged is None else int(flagged.get(i, 0))
        # classes.png counts the flagged pixels as unknown: the two numbers differ
        flag = f", {n_flag} of them flagged unknown" if n_flag else ""
        spectrum_map(axis, spectra[i], maps[i], ax=a,
                     title=f"{shown[i]}: mean of {int(counts[i])} pixels{flag}",
                     map_label=f"mean {method} map")
    # the HTML caption said what the colours mean; the PNG alone did not, and each panel's
    # map axis (spectrum_map: +- 1.1 x its largest |value|) has a range of its own
    whose = ("for the panel's class" if map_class_of(target) is None
             else map_for(target).replace(" at every pixel", ""))
    fig.suptitle(f"black: mean preprocessed spectrum; fill: mean {method} map {whose}\n"
                 "red: supports it, blue: argues against it; each panel's right axis is "
                 "scaled to its own largest |value|", fontsize="medium")
    return csv_path, save_figure(fig, out_dir / "class_means.png")


#: Classes drawn at most in class_means.png (2.4 inches each: 260 classes drew a figure
#: 68,684 pixels tall), as the train report caps its class means.
MEAN_PANELS = 12


def mean_panels(counts: NDArray[np.integer[Any]], present: Sequence[int]) -> list[int]:
    """The classes of ``present`` that class_means.png draws, in class order: all of them
    up to :data:`MEAN_PANELS`, else the :data:`MEAN_PANELS` with the most pixels (ties:
    class order)."""
    ranked = sorted(present, key=lambda i: -int(counts[i]))
    return sorted(ranked[:MEAN_PANELS])


def explain_sections(band_paths: Sequence[Path], band_rows: Sequence[Sequence[Any]],
                     means_png: Path, method: str, *, intensity: bool = True,
                     axis: NDArray[np.float64] | None = None,
                     n_predicted: int = 0, n_flagged: int | None = 0) -> list[Any]:
    """The report sections of :func:`write_band_images` and :func:`write_class_means`
    (``axis``: the model's grid, for the unit of the band positions; ``n_predicted``: the
    classes with pixels, said when the figure draws fewer; ``n_flagged``: the pixels flagged
    unknown, which the means count with their nearest class, None where the number is not
    at hand but there may be some)."""
    from ..plot import at_shift, shift_unit
    from ..report import Figure, Section, Table

    unit = "cm-1" if axis is None else shift_unit(axis)
    unit = "channel" if unit == "channels" else unit

    what = ("Preprocessed intensity (left) and the explanation map's value (right)"
            if intensity else "The explanation map's value")
    return [Section("Band images", [
                Table(["file", f"asked ({unit})", f"nearest grid point ({unit})"],
                      [list(r) for r in band_rows],
                      caption=f"{what} at each band, across the image."),
                *(Figure.from_file(bp, "Band at " + (f"{r[2]:g} cm-1." if axis is None
                                                     else f"{at_shift(axis, r[2])}."))
                  for bp, r in zip(band_paths, band_rows, strict=True))]),
            Section("Mean spectrum and map per predicted class", [
                f"Mean preprocessed spectrum (black) and mean {method} map (red: supports "
                "the class, blue: argues against it) over the pixels predicted as each "
                "class; numbers in class_means.csv."
                + _flagged_note(n_flagged)
                + (f" Drawn for the {MEAN_PANELS} classes with the most pixels, of "
                   f"{n_predicted} predicted; class_means.csv has every one."
                   if n_predicted > MEAN_PANELS else ""),
                Figure.from_file(means_png, "Mean spectrum and map per predicted class.")])]


def _flagged_note(n_flagged: int | None) -> str:
    """What the class means' caption says of the pixels flagged unknown: counted with their
    nearest class, so "mean of 185 pixels" beside a class table of 179 for that class."""
    if n_flagged == 0:
        return ""
    which = ("The pixels flagged unknown count" if n_flagged is None else
             f"The {n_flagged} pixel{'s' if n_flagged != 1 else ''} flagged unknown count")
    return (f" {which} with their nearest class, the class their map explains: a class "
            "can have more pixels here than in the class table, which counts them as "
            "unknown.")


def _band_height(grid: MapGrid) -> float:
    if grid.kind == "line" or grid.ny == 1:
        return 2.4
    left, right, bottom, top = grid.extent()
    aspect = abs(top - bottom) / abs(right - left) if right != left else 1.0  # either way up
    return float(min(max(4.6 * aspect + 0.9, 2.4), 7.0))
