"""Make the README's unknown-spectrum example: links to ``../shared/data/rruff-sample`` files
in ``OUT/known`` (9 minerals, training) and ``OUT/query`` (other spectra of those 9, and every
spectrum of Beudantite, Paralaurionite and Scolecite, which the model never sees).

Per known mineral the files are sorted by name and every third one (the 3rd, 6th, ...) goes to
the query folder. Nothing is copied: the folders hold symbolic links.

    python benchmarks/rruff_example.py /tmp/rruff-example
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shared real data: $RAMANCAM_SHARED_DATA if set, else ../shared/data beside the
# checkout (as tests/conftest.py resolves it).
DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA")
            or ROOT.parent / "shared" / "data") / "rruff-sample"
#: Minerals left out of training: the "unknown" substances of the example.
UNKNOWN = ("Beudantite", "Paralaurionite", "Scolecite")


def _link(files: list[Path], out: Path) -> tuple[int, int, dict[str, list[Path]]]:
    """Link every file into ``out/known`` or ``out/query``; counts and files per mineral."""
    known, query = out / "known", out / "query"
    known.mkdir()
    query.mkdir()
    by_mineral: dict[str, list[Path]] = {}
    for f in files:
        by_mineral.setdefault(f.name.split("__")[0], []).append(f)
    n_known = n_query = 0
    for mineral, fs in sorted(by_mineral.items()):
        for i, f in enumerate(fs):
            to_query = mineral in UNKNOWN or i % 3 == 2
            ((query if to_query else known) / f.name).symlink_to(f.resolve())
            n_query += to_query
            n_known += not to_query
    return n_known, n_query, by_mineral


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="folder to create (must not exist)")
    p.add_argument("--data", type=Path, default=DATA, help=f"rruff-sample folder ({DATA})")
    args = p.parse_args(argv)
    files = sorted(args.data.glob("*.txt"))
    if not files:
        print(f"error: no .txt files in {args.data}; give --data", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"error: {args.out} exists; give a new folder", file=sys.stderr)
        return 2
    # Built beside the target and renamed at the end: an interrupted run leaves no half folder.
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{args.out.name}-", dir=args.out.parent))
    try:
        n_known, n_query, by_mineral = _link(files, tmp)
        tmp.rename(args.out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after the rename
    print(f"{args.out}: {n_known} training spectra of {len(by_mineral) - len(UNKNOWN)} "
          f"minerals in known/, {n_query} in query/ (of them "
          f"{sum(len(by_mineral.get(m, [])) for m in UNKNOWN)} of {', '.join(UNKNOWN)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
