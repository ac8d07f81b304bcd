"""Time and peak memory of reading a large text file: a wide table (a spectrum per row), a
long table (a row per point beside id and label columns, as pandas ``melt`` writes it) and
a WiRE long map export (a row per x, y, shift, intensity).

Both files are simulated (random intensities written with 5 significant digits, as exports
write them) into ``--dir``, then each is read by ``ramancam.io.read`` in a process of its own;
its peak RSS is the child's ``ru_maxrss`` (so the parent's memory does not count). To measure
another checkout's reader, put its ``src`` first on ``PYTHONPATH``. ``--convert`` measures
``ramancam convert`` of the wide table (a 200-pixel-wide map by its x and y columns) and of
the long map export into Zarr cubes instead: tile by tile from the file (the default)
against reading it whole (``--xy-cols x,y``, an option that needs the spectra in memory),
and compares each pair of cubes.

    python benchmarks/read_memory.py --dir /tmp/readmem
    PYTHONPATH=/tmp/old/src python benchmarks/read_memory.py --dir /tmp/readmem
    python benchmarks/read_memory.py --dir /tmp/readmem --shape 200x200 --convert
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

_CHILD = """
import sys
from ramancam.io import read
s = read(sys.argv[1])
print(len(s), s.X.shape[1])
"""


def _write_wide(path: Path, n: int, points: int) -> None:
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, points)
    with path.open("w") as f:
        f.write("id,x,y," + ",".join(f"{v:.3f}" for v in axis) + "\n")
        for i in range(n):
            row = rng.random(points)
            f.write(f"s{i},{i % 200},{i // 200}," + ",".join(f"{v:.5g}" for v in row) + "\n")


def _write_tidy(path: Path, n: int, points: int) -> None:
    rng = np.random.default_rng(0)
    axis = [f"{v:.3f}" for v in np.linspace(400.0, 1800.0, points)]
    with path.open("w") as f:
        f.write("id,label,shift,intensity\n")
        for i in range(n):
            row = rng.random(points)
            pre = f"s{i},{'ABCD'[i % 4]},"
            f.write("".join(f"{pre}{w},{v:.5g}\n" for w, v in zip(axis, row, strict=True)))


def _write_long(path: Path, nx: int, ny: int, points: int) -> None:
    rng = np.random.default_rng(0)
    axis = [f"{v:.4f}" for v in np.linspace(1800.0, 400.0, points)]
    with path.open("w") as f:
        f.write("#X\t#Y\t#Wave\t#Intensity\n")
        for j in range(ny):
            for i in range(nx):
                row = rng.random(points) * 1000
                pre = f"{i * 0.5:.2f}\t{j * 0.5:.2f}\t"
                f.write("".join(f"{pre}{w}\t{v:.5g}\n" for w, v in zip(axis, row, strict=True)))


def _read(path: Path, cmd: list[str] | None = None) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and the child's output of one read (or ``cmd``) in its own
    process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd or [sys.executable, "-c", _CHILD, str(path)],
                            stdout=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    assert proc.stdout is not None
    out = proc.stdout.read().decode().strip()
    if status != 0:
        raise SystemExit(f"reading {path} failed (status {status})")
    return seconds, usage.ru_maxrss / 1024, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, required=True, help="where the files are written")
    p.add_argument("--rows", type=int, default=20000, help="spectra of the wide table")
    p.add_argument("--tidy-rows", type=int, default=2000, help="spectra of the long table")
    p.add_argument("--shape", default="100x100", help="NXxNY pixels of the long map")
    p.add_argument("--points", type=int, default=1000, help="points per spectrum")
    p.add_argument("--convert", action="store_true",
                   help="convert the long map export to a Zarr cube, tile by tile and whole")
    a = p.parse_args(argv)
    a.dir.mkdir(parents=True, exist_ok=True)
    nx, ny = (int(v) for v in a.shape.lower().split("x"))
    wide = a.dir / f"wide-{a.rows}x{a.points}.csv"
    tidy = a.dir / f"tidy-{a.tidy_rows}x{a.points}.csv"
    long = a.dir / f"long-{nx}x{ny}x{a.points}.txt"
    if not long.exists():
        _write_long(long, nx, ny, a.points)
    if not wide.exists():
        _write_wide(wide, a.rows, a.points)
    if a.convert:
        return _convert([(wide, a.rows), (long, nx * ny)], a.dir, a.points)
    if not tidy.exists():
        _write_tidy(tidy, a.tidy_rows, a.points)
    print("| file | size | spectra x points | seconds | peak RSS |")
    print("| --- | ---: | --- | ---: | ---: |")
    for path, what in ((wide, "wide table"), (tidy, "long table"), (long, "long map export")):
        seconds, rss, out = _read(path)
        n, pts = out.split()
        print(f"| {what} | {path.stat().st_size / 1e6:,.0f} MB | {int(n):,} x {pts} | "
              f"{seconds:.1f} | {rss:,.0f} MB |", flush=True)
    return 0


def _convert(files: list[tuple[Path, int]], where: Path, points: int) -> int:
    import shutil

    import zarr

    print("| file | size | spectra x points | convert | seconds | peak RSS |")
    print("| --- | ---: | --- | --- | ---: | ---: |")
    pairs = []
    for path, n in files:
        cubes = []
        for what, extra in (("tile by tile (default)", []),
                            ("read whole (--xy-cols x,y)", ["--xy-cols", "x,y"])):
            out = where / f"{path.stem}-{len(cubes)}.zarr"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [sys.executable, "-m", "ramancam", "convert", str(path), str(out), *extra]
            seconds, rss, _ = _read(path, cmd)
            print(f"| {path.name} | {path.stat().st_size / 1e6:,.0f} MB | {n:,} x {points} | "
                  f"{what} | {seconds:.1f} | {rss:,.0f} MB |", flush=True)
            cubes.append(out)
        pairs.append(cubes)
    same = True  # compared once every conversion has run: the children are forked from
    for cubes in pairs:  # this process, and its memory would count in theirs
        a, b = (zarr.open_group(str(c), mode="r") for c in cubes)
        same &= all(np.array_equal(a[k][...], b[k][...], equal_nan=True)
                    for k in ("spectra", "x", "y"))
    print(f"\ncubes equal: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
