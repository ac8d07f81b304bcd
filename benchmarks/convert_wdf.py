"""Time and peak memory of ``ramancam convert MAP.wdf OUT.zarr``: tile by tile from the file
(the default for a single .wdf file) against reading the map whole (what any option that
needs the spectra in memory, here ``--xy-cols x,y``, makes it do).

The WiRE file is simulated: a ``--shape NXxNY`` raster of ``--points`` points per spectrum
(one band, random height, 1 % noise), written by the minimal WDF writer of the tests
(``tests/_vendor_files.wdf_bytes``) in a process of its own, so that this one stays small
(a child's ``ru_maxrss`` counts what it was forked from). Each conversion runs in its own
process; its peak RSS is the child's ``ru_maxrss``. The two cubes are compared value for
value.

    python benchmarks/convert_wdf.py --shape 400x400 --points 1015 --dir /tmp/bigw
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _simulate(path: Path, nx: int, ny: int, points: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from _vendor_files import wdf_bytes

    rng = np.random.default_rng(0)
    axis = np.linspace(3200.0, 100.0, points)
    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    xy = np.column_stack([xx.ravel() * 1.0, yy.ravel() * 1.0])
    band = np.exp(-((np.arange(points) - points // 3) / 8.0) ** 2)
    Y = (band[None, :] * rng.random((nx * ny, 1))
         + rng.normal(0, 0.01, (nx * ny, points))).astype(np.float32)
    path.write_bytes(wdf_bytes(axis, Y, xy=xy))


def _convert(wdf: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``ramancam convert`` in its own process."""
    cmd = [sys.executable, "-m", "ramancam", "convert", str(wdf), str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    assert proc.stdout is not None
    print("  " + proc.stdout.read().decode().strip())
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status})")
    return seconds, usage.ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="400x400", help="NXxNY pixels (default 400x400)")
    ap.add_argument("--points", type=int, default=1015, help="points per spectrum")
    ap.add_argument("--dir", default="convert-wdf", help="folder for the file and cubes")
    ap.add_argument("--simulate-only", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    nx, ny = (int(v) for v in a.shape.lower().split("x"))
    folder = Path(a.dir)
    folder.mkdir(parents=True, exist_ok=True)
    wdf = folder / "map.wdf"
    if a.simulate_only:
        _simulate(wdf, nx, ny, a.points)
        return 0
    subprocess.run([sys.executable, __file__, "--simulate-only", "--shape", a.shape,
                    "--points", str(a.points), "--dir", str(folder)], check=True)
    size = wdf.stat().st_size
    print(f"{wdf}: {nx} x {ny} spectra of {a.points} points, {size / 1e6:.0f} MB")
    rows = []
    for name, extra in (("tile by tile (default)", []), ("read whole (--xy-cols x,y)",
                                                         ["--xy-cols", "x,y"])):
        out = folder / ("stream.zarr" if not extra else "whole.zarr")
        s, rss = _convert(wdf, out, extra)
        rows.append((name, s, rss))
    from ramancam.io.zarr_cube import open_cube

    a_, b_ = open_cube(folder / "stream.zarr"), open_cube(folder / "whole.zarr")
    same = all(np.array_equal(np.asarray(a_.spectra[ys, xs]), np.asarray(b_.spectra[ys, xs]),
                              equal_nan=True)
               for ys, xs in (a_.tile(*t) for t in a_.tiles()))
    print("\n| convert | seconds | peak RSS |\n|---|---:|---:|")
    for name, s, rss in rows:
        print(f"| {name} | {s:.1f} | {rss:,.0f} MB |")
    print(f"\ncubes equal: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
