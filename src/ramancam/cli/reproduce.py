"""``ramancam reproduce NAME``: run one of the paper's experiments and write its report."""

from __future__ import annotations

import argparse
import json

from ._common import seed_int

NAME = "reproduce"
HELP = "run one of the paper's experiments (filters, common, mixing, pharma, all)"
DESCRIPTION = """\
Run one of the experiments of Fukuhara et al. (2019) with the paper's settings and write
its figures (PNG), metrics.json and a self-contained report.html into --out.

  filters  filter size and count vs. the map on simulated single-peak spectra (Fig. 2)
  common   Grad-CAM vs. the FC-importance map on spectra with random extra peaks (Fig. 3)
  mixing   numerical mixtures of measured pure spectra (section 4.3, Fig. 7);
           default pure spectra: ../shared/data/amino-acids (or --pure DIR)
  pharma   4 training spectra per class picked by signal level on a labelled real set
           (section 4.2, Fig. 5); default: ../shared/data/drug-mabs/spectra.csv.gz
  all      everything above, one combined report (mixing/pharma are skipped, with the
           reason, when their data are absent)

The full runs take minutes on a laptop CPU; --quick shrinks every experiment to seconds
(its numbers check the plumbing, not the paper's claims). Progress goes to stderr.

examples:
  ramancam reproduce common --out results/common
  ramancam reproduce mixing --pure my-pure-spectra/ --out results/mixing
  ramancam reproduce pharma --data tablets.csv --label-col product --out results/pharma
  ramancam reproduce all --quick --out /tmp/check
"""

def prepare_out(out: str) -> None:
    """Check the output folder's place before any work and create its missing parents (the
    command line removes them again if the run fails): the experiment stages its results
    inside an existing folder, else beside it, and moves them in at the end, so a failed run
    leaves no empty folder."""
    from pathlib import Path

    from ..errors import RamancamError
    from ._outputs import check_writable, make_out_folder

    # an existing folder is written into (its parent may be read-only: a mount point)
    check_writable("out", str(Path(out) / "probe") if Path(out).is_dir() else out)
    try:
        make_out_folder(Path(out).absolute().parent)
    except OSError as exc:
        raise RamancamError(f"--out must be a folder that can be created; got {out!r} "
                            f"({exc.strerror or exc}). Choose another --out.") from None


CHOICES = ("filters", "common", "mixing", "pharma", "all")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=CHOICES, metavar="NAME",
                   help="experiment: " + ", ".join(CHOICES))
    p.add_argument("--out", metavar="DIR", default=None,
                   help="output folder (default: ramancam-reproduce-NAME)")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    p.add_argument("--quick", action="store_true",
                   help="tiny settings that run in seconds (for checks, not for numbers)")
    p.add_argument("--pure", metavar="DIR",
                   help="mixing/all: folder of pure spectra, one file per class (or a table "
                        "with --pure-label-col)")
    p.add_argument("--pure-label-col", metavar="C",
                   help="mixing/all: the label column of a --pure table")
    p.add_argument("--data", metavar="FILE",
                   help="pharma/all: labelled spectra (wide CSV/TSV, .gz too, or a folder)")
    p.add_argument("--label-col", metavar="C",
                   help="pharma/all: the label column of --data (default label)")
    p.add_argument("--labels-from", metavar="SPEC",
                   help="pharma/all: where the labels of a --data folder come from: "
                        "'folder', 'header:KEY', 'regex:R', 'id:R' or 'manifest:F' (as in "
                        "'ramancam train')")
    p.add_argument("--json", action="store_true",
                   help="print the results (metrics.json content) to stdout")


def run(args: argparse.Namespace) -> int:
    from ..experiments import run as run_experiment

    out = args.out or f"ramancam-reproduce-{args.name}"
    prepare_out(out)
    doc = run_experiment(args.name, out, seed=args.seed, quick=args.quick, pure=args.pure,
                         data=args.data, label_col=args.label_col,
                         labels_from=args.labels_from, pure_label_col=args.pure_label_col)
    if args.json:
        from ..experiments import jsonable
        print(json.dumps(jsonable(doc), indent=2, allow_nan=False))
        return 0
    for name, reason in doc.get("skipped", {}).items():
        print(f"{name}: skipped: {reason}")
    print(f"report: {out}/report.html")
    return 0
