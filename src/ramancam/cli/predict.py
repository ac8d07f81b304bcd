"""``ramancam predict``: classify spectra with a saved model."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from ..provenance import model_sha256
from ._common import add_data_arguments
from ._outputs import one_line, predicted_line
from ._scale import add_arguments as add_scale_arguments
from ._stdin import shown_as

NAME = "predict"
HELP = "classify spectra with a saved model"
DESCRIPTION = """\
Apply the model's saved preprocessing recipe and network to the spectra in DATA and write one
row per spectrum: id, predicted, p_<class> for every class (softmax probabilities,
calibrated by the model's temperature), 'true' when DATA carries labels (accuracy is then
printed too, and the most frequent errors as true -> predicted pairs; the spectra per
predicted class are printed always), then 'novelty' (the model's novelty score: larger =
less like its training spectra), 'unknown' (true when the score is above the threshold
chosen in training for its false-alarm rate, default 5 % of known spectra) and
'library_match' (the class of the most similar training spectrum by the hit quality index:
what a library search answers, a second opinion beside the network), and 'novelty_p' (the
novelty score's conformal p-value: the share of the held-out known spectra that set the
threshold scoring at least as high, counting this one; small = few known spectra look this
unlike the training ones; at most the false-alarm rate for every flagged spectrum), and
'prediction_set' (the classes, '|'-separated, of the spectrum's conformal prediction set:
most probable first until, by the held-out spectra of training, a spectrum of a known class
finds its class in its set 1 - rate of the time, rate being the model's false-alarm rate
(95 % with train's default --novelty-rate 0.05) or predict's --novelty-rate; one class
where the model is sure, several
where it cannot tell them apart). A flagged spectrum is predicted 'unknown' unless
--no-reject is given; its p_<class> columns still name the nearest class. Models saved
without novelty detection leave novelty, unknown, library_match and novelty_p empty
(library_match also for models whose novelty score is not a library search, i.e. not
hqi, hqi-halves or hqi-nap, and for models saved before 2026-12-04; novelty_p and
prediction_set before 2026-12-05). Spectra are preprocessed and
predicted in chunks, so that work needs little memory beyond the spectra read; the file
itself is read whole (about four times its size in memory: a map larger than that, convert
it to a Zarr cube first, docs/scale.md). With more than one chunk, progress (spectra done,
seconds) goes to stderr every 10 s.

A Raman-shift axis calibrated differently from the training spectra's (another instrument,
a drifted spectrometer) moves every band by the same few cm-1, which the network may not
forgive. Each spectrum's shift against the mean training spectrum of its class (nearest
class, or library match where that fits better) is read from the cross-correlation of first
derivatives; when the median over at least 10 spectra is 1.5 cm-1 or more, an 'axis:' line
says how far and which way, with the calibration standards to check against (for a Zarr
cube, from every pixel's shift, kept in the store's 'band_shift' array).

A spectrum the model's recipe refuses (flat or empty, e.g. a dead pixel of a map; a file
that does not cover the model's range, among others that do) does not stop the run when
others can be predicted: its row reads 'unknown' with every number empty (also with
--no-reject: it has no class), the map images draw it as 'not predicted', and a 'not
predicted:' line names it with the recipe's reason. So does a spectrum whose probabilities
are not finite (intensities too large for the network's float32 arithmetic, e.g. near 1e38
with --recipe none), in a 'not predicted: ... whose probabilities are not finite' line.

The id is the 'id' metadata column when there is one, else the file name for folders, else
the row number.

--out DIR (an existing folder or a name ending in '/') writes predictions.csv and
report.html, the page of --report, into it.

Maps: when DATA carries pixel positions (x/y columns, --xy-cols, WDF maps, long x-y-shift-
intensity exports), x and y follow 'true' (before novelty and unknown), and with --out DIR
(an existing folder, a name ending in '/', or a name without a suffix) the folder gets
predictions.csv,
classes.png (class image with a legend), confidence.png (top probability), proba_01.png...
(one probability image per class; past 20 classes those of the 20 predicted at the most
pixels), band_shift.png (each pixel's band shift against its
class's mean training spectrum, for models saved since 2026-12-04), novelty_p.png (each
pixel's novelty p-value) and set_size.png (classes in each pixel's prediction set), the
last two for models saved since 2026-12-05, and report.html (docs/maps.md).

examples:
  ramancam predict model.ramancam new-spectra.csv --out predictions.csv
  ramancam predict model.ramancam test.csv.gz --label-col label --out predictions.csv
  ramancam predict model.ramancam map.csv --out map-results/
"""

#: Spectra preprocessed and classified at a time.
CHUNK = 1024
#: Most frequent (true, predicted) pairs printed on the ``errors:`` line.
MAX_ERRORS_SHOWN = 5


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a model file written by 'ramancam train'")
    add_data_arguments(p, groups=False)  # no output uses groups
    p.add_argument("--out", metavar="FILE|DIR",
                   help="predictions CSV to write (.gz compresses; default: print the table "
                        "to stdout), or "
                        "a folder (an existing one, a name ending in '/'; for a map also a "
                        "name without a suffix) for predictions.csv and report.html (the "
                        "page of --report), and for a map the images")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch and BLAS (numpy, scikit-learn) (default: their "
                        "choice; at most 4 per core)")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 convolutions: about 1.5x faster on CPUs with AVX-512 BF16 "
                        "or AMX with an hqi novelty score (the default; the others keep a "
                        "float32 pass: docs/performance.md), probabilities change in the 3rd "
                        "significant digit; off by default")
    p.add_argument("--no-reject", action="store_true",
                   help="keep the most probable class in 'predicted' also for spectra "
                        "flagged unknown (the 'unknown' column still flags them); for a "
                        "Zarr cube, where the store keeps both, classes.png shows the "
                        "nearest class instead of 'unknown'")
    p.add_argument("--novelty-rate", type=float, metavar="X",
                   help="flag spectra at another false-alarm rate than the one the model was "
                        "trained for (e.g. 0.01): the threshold is set anew from the "
                        "held-out known scores the model keeps, so 'unknown' is then "
                        "novelty_p <= X, and the prediction sets are 1 - X sets; models "
                        "saved since 2026-12-05; not for Zarr cubes")
    p.add_argument("--report", metavar="FILE.html",
                   help="also write a self-contained HTML page of the run: the summary lines "
                        "and spectra per class, the spectra that need a second look (flagged "
                        "unknown, several classes in their prediction set, or a library "
                        "search that names another class; the 50 most unusual, the first 6 "
                        "drawn against their nearest class's mean) and, with labels, the "
                        "accuracy and the confusion of true and predicted classes; for a "
                        "Zarr cube, the page --out DIR writes as report.html")
    add_scale_arguments(p)


def rate_threshold(bundle: Any, rate: Any) -> tuple[float, float]:
    """``(threshold, rate)`` for ``predict --novelty-rate``: the conformal threshold of the
    model's held-out known scores at ``rate``; one clear error where that cannot be."""
    from ..conformal import check_rate, conformal_threshold, smallest_rate
    from ..errors import RamancamError

    rate = check_rate(rate)
    if bundle.novelty is None:
        raise RamancamError("--novelty-rate needs a model with novelty detection; got one "
                            "trained with --novelty none. Retrain without it.")
    if bundle.held_out is None:
        raise RamancamError("--novelty-rate needs the held-out scores that set the model's "
                            "threshold; got a model file without them (saved before "
                            "2026-12-05, or trained where none could be held out and scored). "
                            "Retrain it, or drop --novelty-rate.")
    n = int(bundle.held_out.size)
    if n + 1 < 1.0 / rate:
        raise RamancamError(f"--novelty-rate must be at least 1/(n+1) = {smallest_rate(n):g} "
                            f"for the {n} held-out scores this model keeps; got {rate:g}. Below "
                            "it nothing could ever be flagged; choose a larger rate, or "
                            "train on more spectra.")
    return conformal_threshold(bundle.held_out, rate), rate


def _attend(attention: Any, start: int, usable: Any, X: Any, ids: Any, pred: Any,
            nearest: Any, proba: Any, flags: Any, p_nov: Any, sizes: Any, members: Any,
            match: Any, true: Any, pos: Any = None) -> None:
    """``--report``: one chunk's spectra that need a second look (flagged unknown, several
    classes in their prediction set, a library match of another class), and with labels
    every spectrum's (true, predicted) pair. ``sizes`` and ``members``: the chunk's
    prediction-set sizes and classes (None without sets); ``pos``: the data's x and y
    (maps), shown after the id."""
    import numpy as np

    from ..predict_report import reasons

    if true is not None:
        attention.pairs.update((t, p_) for t, p_ in zip(true.tolist(), pred.tolist(),
                                                        strict=True) if t != "")
    row_of = np.cumsum(usable) - 1  # a usable spectrum's row in X
    unknown = (np.zeros(len(usable), dtype=bool) if flags is None
               else np.asarray(flags, dtype=bool))
    several = np.zeros(len(usable), dtype=bool) if sizes is None else sizes > 1
    other = (np.zeros(len(usable), dtype=bool) if match is None
             else np.asarray(match) != np.asarray(nearest))
    for i in np.flatnonzero((unknown | several | other) & np.asarray(usable, dtype=bool)):
        pn = float(p_nov[i]) if p_nov is not None else float("nan")
        top = float(proba[i].max())
        attention.add(
            start + int(i),
            [ids[start + i],
             *([] if pos is None else [float(pos[0][start + i]), float(pos[1][start + i])]),
             pred[i], top, pn if np.isfinite(pn) else "",
             "" if members is None else " | ".join(members[i]),
             "" if match is None else str(match[i]), *([true[i]] if true is not None else [])],
            reasons(unknown[i], several[i], str(match[i]) if other[i] else None), pn, top,
            X[row_of[i]], str(nearest[i]))


def _fill_refused(a: Any, usable: Any) -> Any:
    """An output of the usable spectra spread over all of them: NaN, False or "" where a
    spectrum was refused (``None`` stays ``None``)."""
    import numpy as np

    if a is None or usable.all():
        return a
    a = np.asarray(a)
    fill: Any = (np.nan if a.dtype.kind == "f" else False if a.dtype.kind == "b" else "")
    out = np.full((len(usable), *a.shape[1:]), fill,
                  dtype=a.dtype if a.dtype.kind in "fb" else object)
    out[usable] = a
    return out


def run(args: argparse.Namespace) -> int:
    from . import _scale as scale

    return scale.outputs_together(_run, args)


def _run(args: argparse.Namespace) -> int:
    import shlex
    import sys
    from contextlib import nullcontext

    import numpy as np

    from .._csvout import csv_writer
    from ..bundle import drop_not_finite, load
    from ..checks import coarse_note, shift_note
    from ..conformal import set_members
    from ..errors import spectra_count
    from ..io import atomic_write, gz_name
    from ..maps.grid import grid_of, has_positions
    from ..maps.images import map_images_in
    from ..maps.outputs import check_other_run, drawn_note, no_positions_note, out_dir_of
    from ..novelty import LIBRARY_SCORES, UNKNOWN
    from . import _scale as scale
    from ._common import (
        label_like,
        prepare_chunk,
        read_data,
        refused_line,
        stop_if_all_refused,
    )
    from ._notes import intensity_notes, unknown_labels_note
    from ._outputs import (
        HeldScreen,
        check_not_inputs,
        check_report_path,
        check_table_out,
        check_writable,
        make_out_folder,
        say_line,
        stale_page,
    )
    from ._progress import chunk_progress
    from ._streams import on_terminal
    from .train import set_threads

    set_threads(args.threads, getattr(args, "workers", None))
    check_report_path(args.report)
    check_writable("out", args.out)
    check_not_inputs(args, ("out", "report"), folder_files={"out": ("predictions.csv",)})
    check_table_out(args.out, "The page of spectra to check is --report FILE.html.")
    if scale.wanted(args):  # a Zarr cube, or Dask workers: tile by tile (docs/scale.md)
        return scale.cli_predict(args)
    bundle = load(args.model)
    rate = bundle.info.get("novelty", {}).get("rate")
    if args.novelty_rate is not None:  # another rate: the threshold from the kept scores
        bundle.threshold, rate = rate_threshold(bundle, args.novelty_rate)
    data = read_data(args)
    bundle.check_coverage(data, some=True)  # before any row: the rest one by one
    ids = data.ids
    labels = data.labels
    classes = list(bundle.classes)
    n_right = n_flagged = n_match = n_agree = 0
    errors: Counter[tuple[str, str]] = Counter()  # (true, predicted) of wrong labelled rows
    counts: Counter[str] = Counter()  # per predicted class, "unknown", "not predicted"
    # With labels: [spectra, flagged] for labels the model knows and for those it does not.
    seen = {True: [0, 0], False: [0, 0]}
    xy = has_positions(data)
    out_dir = out_dir_of(args.out, xy, create=False)
    check_other_run(out_dir, "predict")
    grid = grid_of(data) if out_dir is not None and xy else None
    if out_dir is not None:  # once the map's positions are checked: no empty folder left
        make_out_folder(out_dir)  # removed again if the run fails while it is empty
    csv_path = str(out_dir / "predictions.csv") if out_dir is not None else args.out
    all_proba = []
    all_flags: list[np.ndarray] = []
    predicted_rows: list[np.ndarray] = []  # which spectra were predicted (not refused)
    flagged_rows: list[np.ndarray] = []  # which were flagged unknown (--no-reject too)
    shifts: list[np.ndarray] = []  # band shifts against the class means (checks.band_shift)
    shift_rows: list[np.ndarray] = []  # the same, one per spectrum (NaN: none), for the map
    p_rows: list[np.ndarray] = []  # novelty p-values per spectrum (NaN: none), for the map
    size_rows: list[np.ndarray] = []  # prediction-set sizes per spectrum (NaN: none)
    set_counts = [0, 0, 0, 0]  # sets of one class, of more; true class in its set, labelled
    set_rate = rate if isinstance(rate, float) else 0.05
    attention = None
    # --report, or a folder for spectra that are no map (a map's folder has its own report)
    page = args.report or (str(out_dir / "report.html") if out_dir is not None and grid is None
                           else None)
    if page is not None or grid is not None:  # a map's report lists its pixels to check
        from ..predict_report import Attention

        attention = Attention(labelled=labels is not None, positions=xy)
    refused: list[tuple[str, str]] = []  # (id, the recipe's message) of spectra not predicted
    overflowed: list[tuple[str, str]] = []  # (id, why) of those whose probabilities are NaN
    # the novelty scores that compare with the training spectra themselves
    library = bundle.novelty is not None and bundle.novelty.method in LIBRARY_SCORES
    n_trained = 0  # spectra the same as one the model was trained on (score 0)
    screen = None if csv_path else HeldScreen()  # the rows once a spectrum is predicted
    ctx: Any = (atomic_write(csv_path, "w", gzip=gz_name(csv_path), newline="") if csv_path
                else nullcontext(screen))
    with ctx as fh:
        w = csv_writer(fh, escape_breaks=screen is not None and on_terminal(sys.stdout))
        w.writerow(["id", "predicted", *(f"p_{c}" for c in classes),
                    *(["true"] if labels is not None else []), *(["x", "y"] if xy else []),
                    "novelty", "unknown", "library_match", "novelty_p", "prediction_set"])
        progress = chunk_progress(len(data), CHUNK)
        for start in range(0, len(data), CHUNK):
            part = data[start:start + CHUNK]
            # spectra the recipe refuses (flat, empty) are not predicted; the rest are
            X, usable = prepare_chunk(bundle, part, ids, start, refused)
            X, usable, outs = drop_not_finite(
                X, usable, bundle.predict_all(part, bf16=args.bf16, prepared=X),
                ids[start:start + len(part)], overflowed)
            proba, score, flags, match = (_fill_refused(a, usable) for a in outs)
            if score is not None and library:  # 0: the same as a training spectrum
                n_trained += int((score == 0.0).sum())
            # an empty chunk (every spectrum refused) has nothing to compare
            sh = None
            if X is not None and len(X) and (sh := bundle.band_shift(
                    part, prepared=X, proba=proba[usable],
                    match=None if match is None else match[usable])) is not None:
                shifts.append(sh)
            if grid is not None:
                shift_rows.append(np.full(len(part), np.nan) if sh is None
                                  else _fill_refused(np.asarray(sh, dtype=np.float64), usable))
            p_nov = bundle.novelty_p(score)
            sets = bundle.prediction_sets(proba, set_rate)
            sizes = members = None
            if sets is not None:
                sizes = sets.sum(axis=1)
                members = set_members(sets, proba, classes)  # most probable first
                set_counts[0] += int((sizes[usable] == 1).sum())
                set_counts[1] += int((sizes[usable] > 1).sum())
            nearest = np.asarray(classes, dtype=object)[np.nan_to_num(proba, nan=-1.0)
                                                        .argmax(axis=1)]
            nearest[~usable] = UNKNOWN
            if match is not None:
                n_match += int(usable.sum())
                n_agree += int((match == nearest)[usable].sum())
            pred = nearest.copy()
            flagged_rows.append(np.zeros(len(part), dtype=bool) if flags is None
                                else np.asarray(flags, dtype=bool) & usable)
            if flags is not None:
                n_flagged += int(flags[usable].sum())
                if not args.no_reject:
                    pred[flags & usable] = UNKNOWN
            true = None if labels is None else labels[start:start + len(part)]
            # refused spectra apart from the flagged ones, as the map images and a Zarr run
            # count them (their rows read unknown, having no class)
            counts.update(pred[usable].tolist())
            if n_off := int((~usable).sum()):
                counts["not predicted"] += n_off
            for i in range(len(part)):
                ok = bool(usable[i])
                row = [ids[start + i], pred[i],
                       *(repr(float(v)) if ok else "" for v in proba[i])]
                if true is not None:
                    row.append(true[i])
                if xy:
                    row += [repr(float(data.meta["x"][start + i])),
                            repr(float(data.meta["y"][start + i]))]
                if not ok:  # not predicted: no number, and no class to keep
                    row += ["", "true"]
                else:
                    row += (["", ""] if score is None or flags is None
                            else [repr(float(score[i])), str(bool(flags[i])).lower()])
                row.append("" if match is None or not ok else str(match[i]))
                row.append("" if p_nov is None or not ok else repr(float(p_nov[i])))
                row.append("" if members is None or not ok else "|".join(members[i]))
                w.writerow(row)
            predicted_rows.append(usable)
            if attention is not None:
                _attend(attention, start, usable, X, ids, pred, nearest, proba, flags, p_nov,
                        sizes, members, match, true,
                        pos=(data.meta["x"], data.meta["y"]) if xy else None)
            if grid is not None:
                all_proba.append(proba)
                if p_nov is not None:
                    p_rows.append(np.where(usable, p_nov, np.nan))
                if sizes is not None:
                    size_rows.append(np.where(usable, sizes, np.nan))
                if flags is not None:
                    all_flags.append(np.asarray(flags, dtype=bool) & usable)
            if true is not None:
                if sets is not None:
                    labelled = usable & np.isin(true, classes)
                    idx = np.array([classes.index(t) for t in true[labelled]], dtype=np.intp)
                    set_counts[2] += int(sets[labelled][np.arange(idx.size), idx].sum())
                    set_counts[3] += int(idx.size)
                # a label the model does not know is wrong whatever its name: 'unknown'
                # (spectra of no trained class) is no match for the flag word
                right = (pred == true) & np.isin(true, classes)
                n_right += int(right.sum())
                wrong = ~right & (true != "")
                errors.update(zip(true[wrong].tolist(), pred[wrong].tolist(), strict=True))
                if flags is not None:
                    known = np.isin(true, classes) & usable
                    other = ~np.isin(true, classes) & (true != "") & usable
                    for k, m in ((True, known), (False, other)):
                        seen[k][0] += int(m.sum())
                        seen[k][1] += int(flags[m].sum())
            progress(start + len(part))
            if screen is not None and len(refused) + len(overflowed) < start + len(part):
                screen.release()
        stop_if_all_refused(args.data, refused + overflowed, len(data),  # nothing written
                            by_recipe=len(refused))
    by_recipe, refused = refused, refused + overflowed  # refused: all not predicted
    report = sys.stdout if args.out else sys.stderr
    said: list[str] = []  # the summary lines, for --report

    def say(text: str, *, wrote: bool = False) -> None:
        say_line(text, report, wrote=wrote)  # a 'wrote' line: once the files are in place
        said.append(text)

    if args.out:
        say(f"wrote {len(data)} predictions to {csv_path}", wrote=True)
    if n_trained:
        from ._notes import trained_note

        say(trained_note(n_trained, len(data) - len(refused)))
    if len(data) > 1 or args.out:  # one spectrum without --out: its row is on the screen
        say(predicted_line(counts))
    if by_recipe:
        say(refused_line(by_recipe, "predicted",
                         "rows read unknown with empty probabilities"))
    if overflowed:
        say(refused_line(overflowed, "predicted",
                         "rows read unknown with empty probabilities",
                         who="whose probabilities are not finite"))
    if n_match:
        # against the nearest class (the argmax of the p_ columns), also where 'predicted'
        # reads unknown: the library's answer beside the network's, flagged or not
        say(f"library search (the most similar training spectrum, column library_match) "
            f"names the network's nearest class (flagged spectra too) for "
            f"{n_agree}/{n_match} spectra")
    if bundle.novelty is not None and not np.isfinite(bundle.threshold):
        # no threshold (too few held-out spectra in training): "0 flagged (threshold for 5%
        # false alarms)" read as if a working threshold had checked every spectrum
        from ..conformal import smallest_rate

        fix = ("" if bundle.held_out is None or not bundle.held_out.size else
               f"; --novelty-rate {smallest_rate(int(bundle.held_out.size)):.3g} or more "
               f"sets one from its {bundle.held_out.size} held-out scores")
        say(f"unknown: none can be flagged: the model has no novelty threshold (too few "
            f"held-out spectra in training for {100 * (rate or 0.05):.3g}% false alarms)"
            f"{fix}")
    elif bundle.novelty is not None:
        what = (f"threshold for {100 * rate:.3g}% false alarms" if isinstance(rate, float)
                else "")
        if args.novelty_rate is not None and bundle.held_out is not None:
            what += (f", --novelty-rate: {bundle.threshold:.4g} from the "
                     f"{bundle.held_out.size} held-out scores")
        say(f"unknown: {n_flagged}/{len(data) - len(refused)} spectra flagged ({what}"
            f"{'; --no-reject: class kept' if args.no_reject else ''})")
        if bundle.held_out is None:
            say("note: column novelty_p is empty: the model file keeps no held-out "
                "scores (saved before 2026-12-05, or trained where no spectrum could be "
                "held out and scored)")
    if bundle.class_scores is not None and set_counts[0] + set_counts[1]:
        say(f"prediction sets ({1 - set_rate:.0%}, column prediction_set): "
            f"{spectra_count(set_counts[0])} with one class, {set_counts[1]} with more"
            + (f"; true class in its set for {set_counts[2]}/{set_counts[3]}"
               if set_counts[3] else ""))
    if shifts and (shift := shift_note(np.concatenate(shifts),
                                       offset_fix=bundle.recipe is not None)):
        say(shift)
    # the notes below are of the predicted spectra: files left out for their range (files
    # on axes of their own) say nothing about the rest; one table's or map's refused rows
    # (dead pixels) are left in, not copied around (a map's X twice in memory)
    kept = np.concatenate(predicted_rows)
    if kept.all() or data.has_common_axis:
        kept_data, kept_ids = data, ids
    else:
        kept_data = data[np.flatnonzero(kept)]
        kept_ids = [ids[i] for i in np.flatnonzero(kept)]
    if (ends := bundle.end_point_note(kept_data)) is not None:
        say(ends)
    if (sampled := bundle.sampling_note(kept_data)) is not None:
        say(sampled)
    if bundle.recipe is not None and (coarse := coarse_note(
            kept_data, float(np.median(np.diff(bundle.grid))))) is not None:
        say(coarse)
    flagged = np.concatenate(flagged_rows)
    for line in intensity_notes(kept_data, kept_ids, bundle.grid,
                                flagged if kept_data is data else flagged[kept], bundle.recipe):
        say(line)
    if grid is None and out_dir is not None and (
            note := no_positions_note(args.data, len(data), data.meta)):
        say(note)
    if grid is None and out_dir is not None and (old := map_images_in(out_dir)):
        say(f"note: {out_dir} still holds map images of an earlier run ({', '.join(old[:3])}"
            f"{', ...' if len(old) > 3 else ''}); they are not of these predictions")
    elif xy and args.out and out_dir is None:  # --out FILE on a map
        say("note: DATA is a map (x/y positions); --out DIR also draws the class, "
            "confidence and probability images")
    if labels is not None and not (labels != "").any():
        say("note: no spectrum carries a label (every label cell is empty): no accuracy")
    elif labels is not None:
        n_lab = int((labels != "").sum())
        unknown = sorted(set(labels.tolist()) - set(classes) - {""})
        say(f"accuracy: {n_right / max(n_lab, 1):.4f} ({n_right}/{n_lab})"
            + (f"; {len(data) - n_lab} unlabelled spectra not counted" if n_lab < len(data)
               else ""))
        if errors:
            top = errors.most_common(MAX_ERRORS_SHOWN)
            rest = len(errors) - len(top)
            say(f"errors: {sum(errors.values())} (true -> predicted: "
                + ", ".join(f"{one_line(t)} -> {one_line(p_)} {n}" for (t, p_), n in top)
                + (f"; {rest} more pair{'' if rest == 1 else 's'}" if rest > 0 else "")
                + ")")
        if (note := unknown_labels_note(unknown)) is not None:
            say(note)
        if bundle.novelty is not None and np.isfinite(bundle.threshold):  # (none: said)
            (k_all, k_flag), (u_all, u_flag) = seen[True], seen[False]
            if u_all and k_all:
                text = (f"{u_flag}/{u_all} spectra with labels the model does not know, "
                        f"{k_flag}/{k_all} with known labels")
            elif u_all:
                text = f"{u_flag}/{u_all} spectra, all with labels the model does not know"
            else:
                text = f"{k_flag}/{k_all} spectra, all with known labels"
            say("flagged unknown: " + text)
    elif not xy:  # a map's label column marks its training pixels, not what to score
        hint = [c for c in label_like(data.meta)
                if any(str(v).strip() for v in data.meta[c])]
        if hint:
            say(f"note: column {hint[0]!r} may hold the true classes: --label-col "
                f"{shlex.quote(hint[0])} adds a 'true' column and prints the accuracy")
    if grid is not None and out_dir is not None:
        from ..maps.outputs import write_predict_outputs

        # refused spectra are marked (they have no class), even with --no-reject: the class
        # image draws them as not predicted
        blank = ~kept
        dark = None if args.no_reject or not all_flags else np.concatenate(all_flags)
        if blank.any():
            dark = blank if dark is None else dark | blank
        from ..plot import shift_unit
        from ..predict_report import attention_section

        checks = (None if attention is None else
                  attention_section(attention, len(data) - len(refused), bundle.grid,
                                    bundle.class_reference, "pixels", classes=classes))
        from ..report import Section

        # what predict printed (accuracy, errors, unknown and library lines), as the report
        # of spectra that are no map has it (the map's page had none of it)
        printed = Section("Summary", [*said]) if said else None
        map_proba = np.concatenate(all_proba)
        paths = write_predict_outputs(
            out_dir, grid, map_proba, classes,
            info={"data": shown_as(args.data), "model": str(args.model),
                  "model sha256": model_sha256(args.model)}, unknown=dark,
            extra_section=[s_ for s_ in (printed, checks) if s_ is not None],
            band_shift=np.concatenate(shift_rows) if shift_rows else None,
            novelty_p=np.concatenate(p_rows) if p_rows else None,
            set_size=np.concatenate(size_rows) if size_rows else None,
            shift_unit=shift_unit(bundle.grid))
        say(f"map: {grid.text()}; wrote {', '.join(p.name for p in paths)} to {out_dir}",
            wrote=True)
        if drawn := drawn_note(paths, len(classes), map_proba, "predictions.csv"):
            say(drawn)
    if attention is not None and page is not None:
        from ..predict_report import write_predict_report

        path = write_predict_report(
            page, info={"data": shown_as(args.data), "model": str(args.model),
                        "model sha256": model_sha256(args.model),
                        "spectra": len(data), "classes": len(classes)},
            lines=said, counts=counts, attention=attention, grid=bundle.grid,
            reference=bundle.class_reference, labels_known=classes)
        say_line(f"wrote the report {path}", report, wrote=True)
    if (stale := stale_page(out_dir, "report.html", args.report, grid is None)) is not None:
        say_line(f"removed the earlier run's {stale} (this run's report is {args.report})",
                 report, wrote=True)
    return 0
