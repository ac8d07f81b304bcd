"""Every experiment with one combined report (:func:`all_experiments`), the registry
:data:`EXPERIMENTS` and :func:`run` (``ramancam reproduce NAME``).
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import RamancamError
from ..report import Links, Section, Table, software_versions, write_report, write_text
from . import _shared
from ._shared import (
    QUICK_NOTE,
    TITLES,
    _finish,
    _prepare_out,
    _progress,
    _resolve_data,
    _Run,
    _settings,
    _staged_out,
    jsonable,
)
from .common import _common, common
from .filters import _filters, filters
from .mixing import _mixing, _read_pure, mixing
from .pharma import _pharma, _read_labelled, pharma
from .settings import PHARMA

__all__ = [
    "EXPERIMENTS",
    "all_experiments",
    "run",
]

# ----------------------------------------------------------------------------- all
def all_experiments(out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
                    pure: str | os.PathLike[str] | None = None,
                    data: str | os.PathLike[str] | None = None,
                    label_col: str | None = None, labels_from: str | None = None,
                    pure_label_col: str | None = None) -> dict[str, Any]:
    """Every experiment, each in its own sub-folder, plus one combined report.

    ``label_col``/``labels_from`` label the pharma data (a table's column, a folder's
    files); ``pure_label_col`` is the label column of a table of pure spectra (mixing).

    ``mixing`` and ``pharma`` are skipped, with the reason stated on stderr, in
    ``metrics.json`` and in the report, when their real data are absent and none was given.

    Returns
    -------
    dict
        ``{"experiments": {name: metrics}, "skipped": {name: reason}, ...}``.
    """
    skipped: dict[str, str] = {}
    jobs: list[tuple[str, Callable[..., dict[str, Any]], Any]] = [
        ("filters", _filters, None), ("common", _common, None)]
    # data given by the caller must be there before any experiment runs (a typo would
    # otherwise skip an experiment, or stop the run after the others had trained)
    pure_src = (_resolve_data(pure, "amino-acids", "pure", "--pure DIR") if pure is not None
                else _shared.default_data("amino-acids"))
    if pure_src is None:
        skipped["mixing"] = ("shared amino-acids folder not found (../shared/data/amino-acids "
                             "or $RAMANCAM_SHARED_DATA); pass --pure DIR to run it")
    else:  # read now: a table without labels stops the run before anything trained
        pure_raw = _read_pure(pure_src, pure_label_col)
        jobs.append(("mixing", functools.partial(_mixing, raw=pure_raw), pure_src))
    if data is None:
        folder = _shared.default_data("drug-mabs")
        data_src = None if folder is None else folder / "spectra.csv.gz"
    else:
        data_src = _resolve_data(data, "drug-mabs", "data", "--data FILE")
    if data_src is None or not data_src.exists():
        skipped["pharma"] = ("shared drug-mabs data not found (../shared/data/drug-mabs/"
                             "spectra.csv.gz or $RAMANCAM_SHARED_DATA); pass --data FILE "
                             "to run it")
    else:  # read now: a wrong --label-col stops the run before anything trained
        raw = _read_labelled(data_src, label_col or PHARMA["label_col"], labels_from)
        jobs.append(("pharma", functools.partial(_pharma, raw=raw), data_src))
    for name, reason in skipped.items():
        _progress(f"{name}: skipped: {reason}")
    with _staged_out(out_dir, [name for name, _, _ in jobs]) as root:
        doc = _run_all(root, Path(out_dir), jobs, skipped, seed=seed, quick=quick,
                       label={"pharma": {"label_col": label_col, "labels_from": labels_from},
                              "mixing": {"label_col": pure_label_col}})
    _progress(f"all: wrote {Path(out_dir) / 'report.html'} ({doc['seconds']:.0f} s)")
    return doc


def _run_all(root: Path, final: Path, jobs: list[tuple[str, Callable[..., dict[str, Any]], Any]],
             skipped: dict[str, str], *, seed: int, quick: bool,
             label: Mapping[str, Mapping[str, str | None]]) -> dict[str, Any]:
    """:func:`all_experiments` once the data are checked: every job into its sub-folder of
    the staging folder ``root`` (``final``: where the results end up), then the summary."""
    t0 = time.perf_counter()
    done: dict[str, Any] = {}
    sections: list[Section] = []
    settings: dict[str, Any] = {"quick": quick}
    for name, fn, src in jobs:
        s = _settings(name, quick, {k: v for k, v in label.get(name, {}).items()
                                    if v is not None})
        run = _Run(name, _prepare_out(root / name), int(seed), quick, s,
                   final_dir=final / name, later=True)
        if src is not None:
            option = "--pure DIR" if name == "mixing" else "--data FILE"
            src = _resolve_data(src, name, "pure" if name == "mixing" else "data", option)
            run.settings["pure" if name == "mixing" else "data"] = str(src)
        results = fn(run) if src is None else fn(run, src)
        done[name] = _finish(run, results)
        sections.extend(run.sections)
        settings.update({f"{name}.{k}": v for k, v in run.settings.items()})
    if skipped:
        sections.append(Section("Skipped", [f"NOTE: {k} was skipped: {v}."
                                            for k, v in skipped.items()]))
    summary = _summary_rows(done)
    if quick:
        sections.insert(0, Section("Quick mode", [QUICK_NOTE]))
    sections.insert(0, Section("Summary", [
        "Each experiment's own report, figures and metrics.json are in its sub-folder:",
        Links([(f"{name}: {TITLES[name]}", f"{name}/report.html") for name in done]),
        Table(["experiment", "quantity", "value", "paper"], summary,
              caption="Headline numbers")]))
    record = _shared.run_record()
    doc = {"experiments": done, "skipped": skipped, "seed": int(seed), "quick": quick,
           "seconds": round(time.perf_counter() - t0, 1), **record,
           "versions": software_versions()}
    write_text(root / "metrics.json", json.dumps(jsonable(doc), indent=2,
                                                 allow_nan=False) + "\n")
    write_report(root / "report.html", "ramancam: the paper's experiments", sections,
                 settings={**settings, "threads": record["threads"]}, seed=int(seed))
    return doc


def _summary_rows(done: Mapping[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if "filters" in done:
        for r in done["filters"]["results"]["settings"]:
            rows.append(["filters", f"{r['study']} study: pointing, size {r['filter_size']} "
                                    f"({r['n_filters']} filters)",
                         r["pointing"], "focus improves toward size 8 and with more filters"])
    if "common" in done:
        r = done["common"]["results"]
        rows.append(["common", "accuracy", r["accuracy"], "-"])
        for m, name in (("fc", "FC-importance"), ("gradcam", "Grad-CAM")):
            for w in ("defined", "random"):
                if w in r["maps"][m]:
                    rows.append(["common", f"{name} pointing at {w} peak(s)",
                                 r["maps"][m][w]["pointing"],
                                 "FC: defined peak; Grad-CAM: random peaks"])
    if "mixing" in done:
        r = done["mixing"]["results"]
        rows.append(["mixing", "test accuracy (mean over fold models)",
                     r["test_accuracy"]["mean"], "1.00"])
        rows.append(["mixing", "share of maps closer to labelled pure spectrum",
                     r["share_labelled_better"]["mean"], ">= 0.95 (target)"])
        rows.append(["mixing", "map at admixed-only peaks (scaled)",
                     r["admixed_peak_value"]["mean"], "near zero or negative"])
    if "pharma" in done:
        r = done["pharma"]["results"]
        rows.append(["pharma", "test accuracy", r["accuracy"], "1.00"])
        rows.append(["pharma", "background share of |map|", r["background_share"],
                     "near zero"])
    return rows


#: name -> function, for ``ramancam reproduce NAME``.
EXPERIMENTS: dict[str, Callable[..., dict[str, Any]]] = {
    "filters": filters, "common": common, "mixing": mixing, "pharma": pharma,
    "all": all_experiments}


def run(name: str, out_dir: str | os.PathLike[str], *, seed: int = 0, quick: bool = False,
        pure: str | os.PathLike[str] | None = None, data: str | os.PathLike[str] | None = None,
        label_col: str | None = None, labels_from: str | None = None,
        pure_label_col: str | None = None) -> dict[str, Any]:
    """Run one experiment by name (``filters``, ``common``, ``mixing``, ``pharma``, ``all``).

    Raises
    ------
    RamancamError
        If the name is unknown, or an option is given to an experiment that does not use it.
    """
    if name not in EXPERIMENTS:
        raise RamancamError(f"experiment must be one of {', '.join(EXPERIMENTS)}; got "
                            f"{name!r}.")
    kw: dict[str, Any] = {}
    if pure is not None or pure_label_col is not None:
        if name not in ("mixing", "all"):
            raise RamancamError(f"--pure/--pure-label-col are used by mixing and all; got "
                                f"them with {name!r}. Drop them.")
        if pure is not None:
            kw["pure"] = pure
        if pure_label_col is not None:
            kw["pure_label_col" if name == "all" else "label_col"] = pure_label_col
    if data is not None or label_col is not None or labels_from is not None:
        if name not in ("pharma", "all"):
            raise RamancamError(f"--data/--label-col/--labels-from are used by pharma and all; "
                                f"got them with {name!r}. Drop them.")
        if label_col is not None and labels_from is not None:
            raise RamancamError(f"--label-col and --labels-from must not be given together; "
                                f"got {label_col!r} and {labels_from!r}. Use --label-col for "
                                "a table, --labels-from for a folder of files.")
        kw.update({k: v for k, v in (("data", data), ("label_col", label_col),
                                     ("labels_from", labels_from)) if v is not None})
    return EXPERIMENTS[name](out_dir, seed=seed, quick=quick, **kw)
