"""What the experiments share (private): output folder, figures and report of one run,
settings with overrides, the CNN, the comparison models, map scores and the shared data.

Each experiment module builds a :class:`_Run`, fills its sections and ends with
:func:`_finish` (``metrics.json`` and ``report.html``).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._interrupt import commit_allowed
from ..errors import RamancamError, first_of, named_error
from ..io._atomic import staged_as, sweep_leftovers, temp_prefix
from ..report import Figure, Section, software_versions, write_bytes, write_report, write_text
from .settings import (
    COMMON,
    COMMON_QUICK,
    FILTERS,
    FILTERS_QUICK,
    MIXING,
    MIXING_QUICK,
    PHARMA,
    PHARMA_QUICK,
)

if TYPE_CHECKING:
    from ..spectra import Spectra

__all__ = [
    "default_data",
    "jsonable",
]

# ----------------------------------------------------------------------------- plumbing
def _progress(msg: str) -> None:
    print(f"[ramancam] {msg}", file=sys.stderr, flush=True)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream)])


def jsonable(value: Any) -> Any:
    """Numbers, arrays and tuples as JSON; NaN and infinities as null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class _Run:
    """One experiment's output folder, figures and report sections."""

    name: str
    out_dir: Path
    seed: int
    quick: bool
    settings: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)
    #: Where the results end up (``out_dir`` is the staging folder while the run goes).
    final_dir: Path | None = None
    #: Whether they are put there only when a larger run ends (``reproduce all``): an
    #: interrupted run keeps none, so the log must not say they are there yet.
    later: bool = False

    def figure(self, fig: Any, filename: str, caption: str) -> Figure:
        """Save a matplotlib figure as PNG (atomically) and return it for the report."""
        from ..plot import figure_png

        png = figure_png(fig)
        write_bytes(self.out_dir / filename, png)
        self.figures.append(filename)
        return Figure(png, caption)

    def log(self, msg: str) -> None:
        _progress(f"{self.name}: {msg} ({time.perf_counter() - self.t0:.0f} s)")


def _prepare_out(out_dir: str | os.PathLike[str]) -> Path:
    """A sub-folder of a staged run (:func:`_staged_out`), created."""
    p = Path(out_dir)
    p.mkdir(parents=True, exist_ok=True)
    return p


def _check_out(out_dir: str | os.PathLike[str]) -> Path:
    p = Path(out_dir)
    if p.exists() and not p.is_dir():
        raise named_error(lambda n: (f"{n('out_dir')} must be a folder; got the file "
                                     f"{str(p)!r}. Choose another {n('out_dir')}."))
    return p


@contextmanager
def _staged_out(out_dir: str | os.PathLike[str], folders: Sequence[str] = ()
                ) -> Iterator[Path]:
    """A run's output folder, all or nothing: the run writes into a hidden temporary folder
    that replaces the results in ``out_dir`` only when the run ends well (a rename of the
    folder, or of its entries into an existing one). A failed or interrupted run leaves
    ``out_dir`` as it was, never the results of two runs mixed (a rerun that stopped after
    ``filters`` had mixed seed 1's ``filters/`` with seed 0's report). The temporary folder
    lies inside an existing ``out_dir`` (one file system even when it is a mount point,
    whose parent may be another or read-only), else beside it; it gets the permissions a
    plain mkdir would give. ``folders``: the sub-folders the run writes (those of
    :func:`_check_replaceable`)."""
    import shutil
    import tempfile

    out = _check_out(out_dir)
    _check_replaceable(out, folders)
    home = out if out.is_dir() else out.absolute().parent
    try:
        home.mkdir(parents=True, exist_ok=True)
        swept = sweep_leftovers(home, out.name)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), suffix=".partial", dir=home))
        mask = os.umask(0)
        os.umask(mask)
        tmp.chmod(0o777 & ~mask)  # mkdtemp's 0700 would make a new results folder private
    except OSError as exc:
        why = exc.strerror or exc
        raise named_error(lambda n: (
            f"{n('out_dir')} must be a folder that can be created; got {str(out)!r} "
            f"({why}). Choose another {n('out_dir')}.")) from None
    if swept:
        _progress(f"removed what a killed run left in {home}: "
                  f"{first_of([p.name for p in swept], 3)}")
    try:
        with staged_as(tmp, out):  # a write error names x/y/f.png, not the hidden folder
            yield tmp
        commit_allowed()  # a Ctrl-C Python swallowed: the earlier results stay
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        _swap_in(tmp, out)
    except (_Unplaced, OSError) as exc:  # undone; the results are kept, and said where
        failed = exc if isinstance(exc, _Unplaced) else _Unplaced(exc, None, [])
        if not isinstance(failed.cause, OSError):  # Ctrl-C, SIGTERM in the swap
            if failed.stuck:
                _progress(_unplaced(out, failed, _keep(tmp, out)))
            else:
                shutil.rmtree(tmp, ignore_errors=True)
            raise failed.cause from None
        kept = _keep(tmp, out)
        raise named_error(lambda n: f"{n('out_dir')} must take the results; got "
                          + _unplaced(out, failed, kept)) from None
    shutil.rmtree(tmp, ignore_errors=True)  # gone when renamed; else the earlier results


def _unplaced(out: Path, failed: _Unplaced, kept: Path) -> str:
    """What a failed swap left where (:func:`_staged_out`), from ``got`` on."""
    cause = failed.cause
    why = (getattr(cause, "strerror", None) or str(cause) or type(cause).__name__) + (
        f": {str(failed.entry)!r}" if failed.entry is not None else "")
    move = ("move them in by hand once that is fixed" if kept.name[:1] != "."
            else "move them away before the next run, which removes that folder")
    if not failed.stuck:
        return (f"{str(out)!r} ({why}); it is left as it was. This run's results are in "
                f"{str(kept)!r}: {move}.")
    return (f"{str(out)!r} ({why}), and the swap could not be undone for "
            f"{first_of(failed.stuck, 3)}: {str(out)!r} mixes this run's results with the "
            f"earlier run's. The rest of this run's results, and the earlier run's files it "
            f"replaced (in .earlier), are in {str(kept)!r}: {move}.")


def _keep(tmp: Path, out: Path) -> Path:
    """Rename the staging folder of a swap that failed to a name no later run removes as a
    killed run's leftovers (:func:`~ramancam.io._atomic.sweep_leftovers`): the message tells
    the user to recover the results from it. Returns where they are (``tmp`` if the rename
    failed too)."""
    try:
        (tmp / ".earlier").rmdir()  # empty once the swap is undone
    except OSError:
        pass
    rand = tmp.name[len(temp_prefix(out.name)):].removesuffix(".partial").strip(".")
    kept = tmp.parent / f"{out.name}.results-{rand}"
    try:
        os.rename(tmp, kept)
    except OSError:
        return tmp
    return kept


class _Unplaced(Exception):
    """:func:`_swap_in` failed (``cause``, at ``entry`` of ``out``) and was undone, but for
    the entries ``stuck``, which hold this run's results, or nothing, instead of the earlier
    run's."""

    def __init__(self, cause: BaseException, entry: Path | None, stuck: list[str]) -> None:
        super().__init__(str(cause))
        self.cause, self.entry, self.stuck = cause, entry, stuck


def _check_replaceable(out: Path, folders: Sequence[str]) -> None:
    """Refuse an ``out_dir`` where a sub-folder the run writes (an experiment's, ``folders``)
    holds something that is not an earlier run's results (no ``metrics.json`` in it): the
    swap replaced it, a user's own ``common/`` or ``filters/`` with their files, without a
    word."""
    if not out.is_dir():
        return
    for name in folders:
        t = out / name
        if (t.exists() or t.is_symlink()) and not (
                t.is_dir() and not t.is_symlink() and (t / "metrics.json").is_file()):
            raise named_error(lambda n, name: (
                f"{n('out_dir')} must be a new folder or one of an earlier run; got "
                f"{str(out)!r}, whose {name!r} is not an earlier run's results (it has no "
                f"metrics.json), which this run would replace. Choose another "
                f"{n('out_dir')}, or move {name!r} away."), name)


def _swap_in(tmp: Path, out: Path) -> None:
    """Put the finished results of ``tmp`` in place of ``out``: a rename when ``out`` does
    not exist; else entry by entry (each a rename), the earlier run's results that this run
    did not write again (its figures, its experiments' sub-folders) moved out too. A rename
    that fails (an entry that cannot be moved, Ctrl-C) undoes those done before it, and
    :class:`_Unplaced` says so: they were left done, two runs' results mixed."""
    if not out.exists():
        try:
            os.replace(tmp, out)
        except BaseException as exc:
            raise _Unplaced(exc, None, []) from exc
        return
    if not out.is_dir():  # appeared while the run was going
        raise named_error(lambda n: (f"{n('out_dir')} must be a folder; got the file "
                                     f"{str(out)!r}. Choose another {n('out_dir')}."))
    new = {e.name for e in tmp.iterdir()}
    stale = sorted(_earlier_outputs(out) - new)
    trash = tmp / ".earlier"
    trash.mkdir()
    done: list[tuple[Path, Path]] = []
    target = None
    try:
        for name in sorted(new) + stale:
            target = out / name
            if target.exists() or target.is_symlink():  # a folder cannot replace a full one
                os.replace(target, trash / name)
                done.append((target, trash / name))
            if name in new:
                os.replace(tmp / name, target)
                done.append((tmp / name, target))
    except BaseException as exc:
        raise _Unplaced(exc, target, _undo(done, out)) from exc
    if stale:
        _progress(f"removed the earlier run's {', '.join(stale)} from {out} (not written by "
                  "this run)")


def _undo(done: list[tuple[Path, Path]], out: Path) -> list[str]:
    """Undo the renames ``done`` (source, destination), last first; returns the entries of
    ``out`` that could not be given back their earlier state."""
    held: set[Path] = set()  # a destination whose file could not be moved back
    stuck: set[str] = set()
    for src, dst in reversed(done):
        name = (src if src.parent == out else dst).name
        if src in held:  # a file of this run is still there: the earlier one stays away
            stuck.add(name)
            continue
        try:
            os.replace(dst, src)
        except OSError:
            held.add(dst)
            stuck.add(name)
    return sorted(stuck)


def _earlier_outputs(out: Path) -> set[str]:
    """What an earlier run wrote into ``out``: its figures (listed in its metrics.json) and
    the sub-folders of its experiments (each holding a metrics.json)."""
    found = {name for name in TITLES if (out / name / "metrics.json").is_file()}
    try:
        doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return found
    figures = doc.get("figures") if isinstance(doc, dict) else None
    if isinstance(figures, list):
        found |= {f for f in figures if isinstance(f, str) and f == Path(f).name
                  and f.endswith(".png") and (out / f).is_file()}
    return found


def _settings(name: str, quick: bool, overrides: Mapping[str, Any]) -> dict[str, Any]:
    base = {"filters": (FILTERS, FILTERS_QUICK), "common": (COMMON, COMMON_QUICK),
            "mixing": (MIXING, MIXING_QUICK), "pharma": (PHARMA, PHARMA_QUICK)}[name]
    s = dict(base[1] if quick else base[0])
    unknown = set(overrides) - set(s)
    if unknown:
        raise RamancamError(f"{name} settings must be among {sorted(s)}; got unknown "
                            f"{sorted(unknown)}. Check the spelling.")
    # A key given is used as given (max_pure=None: no limit, even in quick mode, where None
    # had been dropped as if not given); None only where the paper's value is None.
    nullable = {k for k, v in base[0].items() if v is None}
    for k, v in overrides.items():
        if v is None and k not in nullable:
            raise RamancamError(f"{name} setting {k} must not be None; got None. Leave it out "
                                f"to keep {s[k]!r}.")
    s.update(overrides)
    return s


#: Each experiment's report title.
TITLES = {"filters": "Filter size and count (paper Fig. 2)",
          "common": "Common-component extraction (paper Fig. 3)",
          "mixing": "Numerically mixed spectra (paper section 4.3, Fig. 7)",
          "pharma": "Real labelled spectra (paper section 4.2, Fig. 5)"}

#: The note at the top of a --quick run's report.
QUICK_NOTE = ("NOTE: quick mode (--quick): tiny sets and few epochs that check the plumbing; "
              "these numbers do not test the paper's claims (run without --quick for that).")


def run_record() -> dict[str, Any]:
    """torch's thread count (another one sums in another order: other last digits) and the
    date (UTC), which metrics.json records beside the versions."""
    import torch

    from ..provenance import utc_now

    return {"threads": torch.get_num_threads(), "created": utc_now()}


def _finish(run: _Run, results: dict[str, Any]) -> dict[str, Any]:
    record = run_record()
    doc = {"experiment": run.name, "seed": run.seed, "quick": run.quick,
           "settings": run.settings, "results": results, "figures": run.figures,
           "seconds": round(time.perf_counter() - run.t0, 1), **record,
           "versions": software_versions()}
    write_text(run.out_dir / "metrics.json",
               json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")
    sections = ([Section("Quick mode", [QUICK_NOTE]), *run.sections] if run.quick
                else run.sections)
    write_report(run.out_dir / "report.html", TITLES[run.name], sections,
                 settings={f"{run.name}.{k}": v for k, v in run.settings.items()}
                 | {"quick": run.quick, "threads": record["threads"]}, seed=run.seed)
    run.log(f"wrote {(run.final_dir or run.out_dir) / 'report.html'}"
            + (" (put in place when the whole run ends)" if run.later else ""))
    return doc


def _run_staged(name: str, out_dir: str | os.PathLike[str], seed: int, quick: bool,
                settings: dict[str, Any], work: Callable[[_Run], dict[str, Any]]
                ) -> dict[str, Any]:
    """One experiment run on its own (not by ``all_experiments``): ``work`` fills the
    :class:`_Run` in the staged output folder (:func:`_staged_out`) and returns its results,
    which :func:`_finish` writes with the report; its ``metrics.json`` content returned."""
    with _staged_out(out_dir) as tmp:
        run = _Run(name, tmp, int(seed), quick, settings, final_dir=Path(out_dir))
        return _finish(run, work(run))


def _cnn(settings: Mapping[str, Any], seed: int, **extra: Any) -> Any:
    from ..train import CNNClassifier

    params = {"n_filters": settings.get("n_filters", 64),
              "filter_size": settings.get("filter_size", 8),
              "fc_width": settings["fc_width"], "epochs": settings["epochs"],
              "lr": settings["lr"], "batch_size": settings["batch_size"],
              "random_state": seed}
    params.update(extra)
    return CNNClassifier(**params)


def _labels(spectra: Spectra) -> NDArray[np.str_]:
    if spectra.labels is None:
        raise RamancamError("spectra must be labelled; got no labels. Give labels "
                            "(--label-col or --labels-from).")
    return np.asarray(spectra.labels).astype(str)


def _class_index(est: Any, labels: NDArray[Any]) -> NDArray[np.int64]:
    lookup = {str(c): i for i, c in enumerate(est.classes_)}
    return np.array([lookup[str(v)] for v in labels], dtype=np.int64)


def _as_float(value: Any) -> float:
    """Mean of what a metric returns (a score or one score per map)."""
    return float(np.nanmean(np.asarray(value, dtype=np.float64)))


def _baselines_available() -> bool:
    try:
        from .. import baselines  # noqa: F401
    except ImportError:
        return False
    return True


def _baseline_test_scores(X_tr: NDArray[Any], y_tr: NDArray[Any], X_te: NDArray[Any],
                          y_te: NDArray[Any], seed: int) -> tuple[dict[str, float], Any]:
    """Accuracy of PCA+SVM and PLS-DA on the same split (and the fitted PLS-DA, for VIP)."""
    if not _baselines_available():
        return {}, None
    from ..baselines import PCASVM, PLSDA

    out: dict[str, float] = {}
    pls = None
    for name, est in (("PCA+SVM", PCASVM(random_state=seed)), ("PLS-DA", PLSDA(random_state=seed))):
        try:
            est.fit(X_tr, y_tr)
        except ValueError as exc:  # e.g. too few spectra per class for its inner CV
            _progress(f"{name} could not be fitted: {str(exc).splitlines()[0]}")
            out[name] = float("nan")
            continue
        out[name] = float(np.mean(np.asarray(est.predict(X_te)).astype(str)
                                  == np.asarray(y_te).astype(str)))
        if name == "PLS-DA":
            pls = est
    return out, pls


# ----------------------------------------------------------------------------- map scores
def _shared_legend(fig: Any, axes: Any) -> None:
    """One legend above the panels instead of one inside each (where it hid the curves)."""
    axs = np.atleast_1d(axes).ravel()
    handles, labels = axs[0].get_legend_handles_labels()
    for ax in axs:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if handles:
        fig.legend(handles, labels, loc="outside upper center", fontsize="small",
                   ncols=min(len(labels), 6))


def _peak_scores(maps: NDArray[Any], axis: NDArray[Any], peaks: NDArray[Any], tol: float,
                 window: float) -> dict[str, float]:
    from .. import metrics

    return {"pointing": _as_float(metrics.pointing_game(maps, axis, peaks, tol)),
            "mass": _as_float(metrics.peak_mass(maps, axis, peaks, window))}


# ----------------------------------------------------------------------------- data
def default_data(name: str) -> Path | None:
    """A folder of the shared real data (``../shared/data/<name>``) if it is there.

    Looked up in ``$RAMANCAM_SHARED_DATA/<name>``, then ``../shared/data/<name>`` relative
    to the current directory, then beside the checkout this module was imported from (only
    when it runs from a checkout, ``<checkout>/src/ramancam``: an installed package has no
    checkout, and one installed near the root has no folder four levels up).
    """
    candidates = []
    env = os.environ.get("RAMANCAM_SHARED_DATA")
    if env:
        candidates.append(Path(env) / name)
    candidates.append(Path.cwd().parent / "shared" / "data" / name)
    here = Path(__file__).resolve().parents
    if (len(here) > 4 and here[2].name == "src"
            and (here[3] / "pyproject.toml").is_file()):
        candidates.append(here[4] / "shared" / "data" / name)
    for c in candidates:
        if c.exists():
            return c
    return None


def _resolve_data(given: str | os.PathLike[str] | None, shared: str, name: str,
                  option: str) -> Path:
    if given is not None:
        p = Path(given)
        if not p.exists():
            raise RamancamError(f"{name} must be an existing file or folder; got {str(p)!r} "
                                f"(not found). Check the path given to {option}.")
        return p
    found = default_data(shared)
    if found is None:
        raise RamancamError(
            f"{name} must be given; got none, and the shared data folder {shared!r} was not "
            f"found (../shared/data/{shared} or $RAMANCAM_SHARED_DATA/{shared}). Pass "
            f"{option}.")
    return found
