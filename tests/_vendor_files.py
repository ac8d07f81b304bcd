"""Small instrument files written by the tests themselves: Galactic SPC (through spc-io's
own writer), JCAMP-DX text and a minimal Renishaw WiRE file (struct-packed, laid out as
Renishaw's renishaw-wdf reader expects)."""

from __future__ import annotations

import struct
from datetime import datetime

import numpy as np


def spc_bytes(axis: np.ndarray, Y: np.ndarray, *, comment: bytes = b"", log: dict | None = None,
              date: datetime | None = None) -> bytes:
    """A new-format SPC file (explicit x array, one sub-file per row of Y), written by
    spc-io itself."""
    from spc_io import SPC
    from spc_io.high_level import LogBook

    kw = {} if date is None else {"date": date}
    spc = SPC(xarray=np.asarray(axis, np.float32), log_book=LogBook(text=log or {}), **kw)
    for y in np.atleast_2d(Y):
        spc.add_subfile(yarray=np.asarray(y, np.float32))
    raw = spc.to_spc_raw()
    raw.main_header.fcmnt = comment
    raw.main_header.fsource = b"tester"
    return raw.to_bytes()


def jcamp_text(x: np.ndarray, y: np.ndarray, *, title: str = "sample", form: str = "XYDATA",
               extra: dict[str, str] | None = None) -> str:
    """A JCAMP-DX 5.01 block: (X++(Y..Y)) with 5 values a line, or (XY..XY) pairs."""
    x, y = np.asarray(x, float).tolist(), np.asarray(y, float).tolist()
    lines = [f"##TITLE={title}", "##JCAMP-DX=5.01", "##DATA TYPE=RAMAN SPECTRUM",
             "##XUNITS=1/CM", "##YUNITS=ARBITRARY UNITS"]
    lines += [f"##{k}={v}" for k, v in (extra or {}).items()]
    lines += [f"##FIRSTX={x[0]!r}", f"##LASTX={x[-1]!r}", f"##NPOINTS={len(x)}",
              "##XFACTOR=1", "##YFACTOR=1"]
    if form == "XYDATA":
        lines.append("##XYDATA=(X++(Y..Y))")
        for i in range(0, len(x), 5):
            lines.append(f"{x[i]!r} " + " ".join(repr(v) for v in y[i:i + 5]))
    else:
        lines.append("##XYPOINTS=(XY..XY)")
        lines += [f"{a!r}, {b!r}" for a, b in zip(x, y, strict=True)]
    lines.append("##END=")
    return "\n".join(lines) + "\n"


def wdf_bytes(axis: np.ndarray, Y: np.ndarray, *, xy: np.ndarray | None = None,
              laser_nm: float = 785.0, title: str = "map 1", n_collected: int | None = None
              ) -> bytes:
    """A minimal WiRE file: header, XLIST, YLIST, ORIGIN (X/Y when given, Time) and DATA."""
    from wdf import WdfBlockId
    from wdf.wdf import WdfHeader

    Y = np.atleast_2d(np.asarray(Y, np.float32))
    n, npts = Y.shape

    def block(bid: int, payload: bytes) -> bytes:
        return struct.pack("<IIQ", bid, 0, 16 + len(payload)) + payload

    xlist = block(WdfBlockId.XLIST, struct.pack("<II", 1, 1) + np.asarray(axis, "<f4").tobytes())
    ylist = block(WdfBlockId.YLIST, struct.pack("<II", 0, 0) + struct.pack("<f", 0.0))
    origins = []
    if xy is not None:
        for k, (dtype, label) in enumerate(((3, b"X"), (4, b"Y"))):
            origins.append(struct.pack("<II16s", dtype | 0x80000000, 5, label)
                           + np.asarray(xy[:, k], "<f8").tobytes())
    t0 = 132_000_000_000_000_000  # a FILETIME (100 ns since 1601) in 2019
    origins.append(struct.pack("<II16s", 11, 24, b"Time")
                   + np.array([t0 + 10_000_000 * i for i in range(n)], "<u8").tobytes())
    origin = block(WdfBlockId.ORIGIN, struct.pack("<I", len(origins)) + b"".join(origins))
    data = block(WdfBlockId.DATA, Y.astype("<f4").tobytes())
    header = struct.pack(
        WdfHeader._PACKSTR, WdfBlockId.FILE, 1, 512, 0, b"\0" * 16, 0, 0, npts, n,
        n if n_collected is None else n_collected, 1, 1, npts, len(origins), b"WiRE", 5, 0, 0,
        0, 1, 3 if n > 1 else 1, t0, t0, 6, 1e7 / laser_nm, b"tester", title.encode())
    assert len(header) == 512
    return header + data + xlist + ylist + origin


AXIS = np.linspace(400.0, 1800.0, 57)


def peak_spectra(rng: np.random.Generator, n: int) -> np.ndarray:
    peak = np.exp(-0.5 * ((AXIS - 1000.0) / 30.0) ** 2)
    return (100 * peak + rng.normal(0, 1, (n, AXIS.size)) + 10).astype(np.float32)
