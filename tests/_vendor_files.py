"""Small instrument files written by the tests themselves: Galactic SPC (through spc-io's
own writer), JCAMP-DX text and a minimal Renishaw WiRE file (struct-packed, laid out as
Renishaw's renishaw-wdf reader expects)."""

from __future__ import annotations

import struct
from datetime import datetime

import numpy as np


def spc_bytes(axis: np.ndarray, Y: np.ndarray, *, comment: bytes = b"", log: dict | None = None,
              date: datetime | None = None, z: list[float] | None = None,
              z_step: float | None = None) -> bytes:
    """A new-format SPC file (explicit x array, one sub-file per row of Y), written by
    spc-io itself. ``z``: the sub-files' z values (a series' times or temperatures), stored
    in each sub-header (``subtime``) with the ordered flag ``TORDRD``; with ``z_step`` only
    the first is stored and the header's z increment (``fzinc``) gives the others."""
    from spc_io import SPC
    from spc_io.high_level import LogBook

    kw = {} if date is None else {"date": date}
    spc = SPC(xarray=np.asarray(axis, np.float32), log_book=LogBook(text=log or {}), **kw)
    for y in np.atleast_2d(Y):
        spc.add_subfile(yarray=np.asarray(y, np.float32))
    raw = spc.to_spc_raw()
    raw.main_header.fcmnt = comment
    raw.main_header.fsource = b"tester"
    data = bytearray(raw.to_bytes())
    if z is not None:  # spc-io's writer keeps no z order of its own: set it in the bytes
        npts = len(axis)
        if z_step is None:
            data[0] |= 0x10  # TORDRD: every sub-file's z is in its own header
        else:
            struct.pack_into("<f", data, 312, z_step)  # fzinc
        for k, value in enumerate(z):
            struct.pack_into("<f", data, 512 + 4 * npts + k * (32 + 4 * npts) + 4, value)
    return bytes(data)


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


def _opus_type(c0: int, c1: int, c2: int, c3: int, c4: int = 0, c5: int = 0) -> int:
    """An OPUS directory entry's block type: six codes packed into one int32 (2, 2, 6, 7, 2
    and 3 bits, lowest first): data kind, channel, parameter kind, spectrum type, derivative,
    block layout."""
    return c0 | c1 << 2 | c2 << 4 | c3 << 10 | c4 << 17 | c5 << 19


def _opus_params(items: dict[str, object]) -> bytes:
    """A parameter block: per entry a 3-letter key and NUL, a type (0 int32, 1 float64,
    2 text), the value's size in 2-byte words, the value; closed by ``END``."""
    out = b""
    for key, v in items.items():
        if isinstance(v, int):
            kind, raw = 0, struct.pack("<i", v)
        elif isinstance(v, float):
            kind, raw = 1, struct.pack("<d", v)
        else:
            raw = str(v).encode("latin-1") + b"\0"
            raw += b"\0" * (len(raw) % 2)
            kind = 2
        out += key.encode()[:3] + b"\0" + struct.pack("<hh", kind, len(raw) // 2) + raw
    return out + b"END\0" + struct.pack("<hh", 0, 0)


def opus_bytes(axis: np.ndarray, Y: np.ndarray, *, sample: dict | None = None,
               optics: dict | None = None, spectrum_type: int = 10, x_units: str = "WN",
               series: bool = False, when: tuple[str, str] = ("05/12/2026",
                                                               "10:11:12.000 (GMT+1)")
               ) -> bytes:
    """A Bruker OPUS file laid out as Bruker's OPUS writes one (and brukeropus reads it):
    a 24-byte header, the directory, sample and optics parameter blocks, then the data
    status block and the data of one spectrum type (10 = Raman, 4 = absorbance) with the
    first row of ``Y`` (or, with ``series``, every row as a 3-D "series" block)."""
    Y = np.atleast_2d(np.asarray(Y, np.float32))
    npt = int(Y.shape[1])
    status = _opus_params({
        "DPF": 1, "NPT": npt, "FXV": float(axis[0]), "LXV": float(axis[-1]), "CSF": 1.0,
        "MXY": float(Y[0].max()), "MNY": float(Y[0].min()), "DXU": x_units,
        "DAT": when[0], "TIM": when[1]})
    layout = 2 if series else 0
    if series:  # header, store table, then per spectrum its values and an info record
        info = struct.Struct("<8i4d2i7d2i2d")
        head = struct.pack("<6i", 0, len(Y), 32, 4 * npt, info.size, 1) + struct.pack(
            "<2i", 0, len(Y) - 1)
        recs = b"".join(y.astype("<f4").tobytes() + info.pack(
            *([1, 0, 0, npt] + [0] * 4 + [0.0] * 4 + [0, 0]
              + [float(axis[0]), float(axis[-1]), float(y.min()), float(y.max()), 1.0, 0.0,
                 0.0] + [0, 0, 0.0, float(i)])) for i, y in enumerate(Y))
        data = head + recs
    else:
        data = Y[0].astype("<f4").tobytes()
    blocks = [(_opus_type(0, 0, 10, 0), _opus_params(sample or {"SNM": "tablet A"})),
              (_opus_type(0, 0, 6, 0), _opus_params(optics or {"RLW": 9394.0, "RLP": 300.0})),
              (_opus_type(3, 3, 1, spectrum_type, 0, layout), status),
              (_opus_type(3, 3, 0, spectrum_type, 0, layout), data)]
    n_entries = len(blocks) + 1
    offset = 24 + 12 * n_entries
    directory, body = [(_opus_type(0, 0, 0, 13), 3 * n_entries, 24)], b""
    for kind, raw in blocks:
        raw += b"\0" * (-len(raw) % 4)
        directory.append((kind, len(raw) // 4, offset + len(body)))
        body += raw
    header = b"\n\n\xfe\xfe" + struct.pack("<d3i", 920622.0, 24, n_entries, n_entries)
    return header + b"".join(struct.pack("<3i", *e) for e in directory) + body


def read_or_one_line_error(data: bytes, name: str) -> None:
    """Write ``data`` as a file called ``name`` and read it: the outcome must be a valid
    ``Spectra`` (finite, each axis as long as its spectrum) or a one-line ``RamancamError``
    naming the file (the fuzz tests' contract)."""
    import tempfile
    from pathlib import Path

    from ramancam import RamancamError, Spectra
    from ramancam.io import read

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            s = read(path)
        except RamancamError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            return
        assert isinstance(s, Spectra) and len(s) >= 1
        for axis, y in zip(s.axes, s.intensities, strict=True):
            assert axis.size >= 2 and y.shape == axis.shape and np.isfinite(y).all()


def sif_bytes(Y: np.ndarray, *, coefficients: tuple[float, ...] = (780.0, 0.2, 0.0, 0.0),
              raman_nm: str = "785.0", version: int = 65555, height: int = 1,
              tracks: int = 1) -> bytes:
    """An Andor SIF file as Andor Solis writes one (the fields sif_parser reads, in its
    order): the text header with the spectrograph's wavelength calibration polynomial in
    pixel number 1..width (``coefficients``: a0, a1, ...) and the Raman excitation
    wavelength, then the frames (rows of ``Y``; ``tracks`` sub-images of ``height`` rows
    each) as float32."""
    Y = np.atleast_2d(np.asarray(Y, np.float32))
    n, npts = Y.shape
    width = npts // (height * tracks)
    size = width * height * tracks
    head = ("Andor Technology Multi-Channel File\n65538 1\n"
            f"{version} 0 0 1 1733390000 -60.0 " + " " * 10 + "0 1.0 1.05 1.0 1 \x00 "
            "0.0 1e-06 0 1 1.0 0 0 0.0 " + "0 " * 16 + "500.0 0\n"
            "DU420_BVF\n"
            f"{width} {height} 8\norig.sif \n"
            "65538 0\n\n"
            "65538 " + " " * 8 + "0.0 0.0\n"
            "skipped line 1\nskipped line 2\n"
            "65539 " + " ".join(repr(float(c)) for c in coefficients) + "\n"
            "0 1 0 0\n0 1 0 0\n" + raman_nm + "\n0\n13\n13\n"
            "12\nPixel number6\nCounts12\nPixel number"
            f"65541 1 {height} {width} 1 {n} {tracks} {size * n} {size} "
            + f"65538 1 {height} {width} 1 1 1\n" * tracks + "0\n" * n + "0\n")
    return head.encode("latin-1") + Y.astype("<f4").tobytes()


def spa_bytes(first: float, last: float, y: np.ndarray, *, x_unit: int = 32,
              y_unit: int = 31, name: str = "PS bead", when: int = 3_942_000_000,
              scans: int = 16) -> bytes:
    """A Thermo OMNIC .spa file laid out as OMNIC writes one (the layout the
    ``spectrochempy-omnic`` reader parses): the signature, the name at byte 30, the time at
    296, a directory at 304 (spectral header, a comment block, the intensities, the end),
    the header (points, x and y unit codes, first and last x, scans, a history text) and
    the intensities as float32. x unit 32 is Raman shift, 1 wavenumbers, 3 nm; y unit 31
    is Raman intensity, 17 absorbance."""
    y = np.asarray(y, "<f4")
    nx = int(y.size)
    head, note, data = 512, 768, 800
    buf = bytearray(data + 4 * nx)
    buf[0:18] = b"Spectral Data File"
    buf[30:30 + len(name.encode())] = name.encode()
    struct.pack_into("<I", buf, 296, when)
    buf[note:note + 8] = b"a note\x00\x00"
    for k, (key, pos, size) in enumerate([(2, head, 256), (4, note, 8), (3, data, 4 * nx),
                                          (0, 0, 0)]):
        buf[304 + 16 * k] = key
        struct.pack_into("<II", buf, 304 + 16 * k + 2, pos, size)
    struct.pack_into("<I", buf, head + 4, nx)
    buf[head + 8], buf[head + 12] = x_unit, y_unit
    struct.pack_into("<ff", buf, head + 16, first, last)
    struct.pack_into("<I", buf, head + 36, scans)
    buf[head + 208:head + 216] = b"history\x00"
    buf[data:] = y.tobytes()
    return bytes(buf)


def spg_bytes(spectra: list[tuple[float, float, np.ndarray]], names: list[str], *,
              x_unit: int = 32, y_unit: int = 31, when: int = 3_942_000_000) -> bytes:
    """A Thermo OMNIC .spg group as OMNIC writes one (the layout ``spectrochempy-omnic``
    parses): the signature, the group's name at byte 30, the number of directory entries
    at 294, then per spectrum three entries (spectral header, intensities, name block: a
    256-byte name and the acquisition time) and those blocks; ``spectra`` holds (first x,
    last x, intensities) of each."""
    n = len(spectra)
    entries, blobs = [], bytearray()
    base = 304 + 16 * 3 * n
    for (first, last, y), name in zip(spectra, names, strict=True):
        y = np.asarray(y, "<f4")
        head = bytearray(256)
        struct.pack_into("<I", head, 4, y.size)
        head[8], head[12] = x_unit, y_unit
        struct.pack_into("<ff", head, 16, first, last)
        struct.pack_into("<I", head, 36, 8)
        label = bytearray(260)
        label[:len(name.encode())] = name.encode()
        struct.pack_into("<I", label, 256, when)
        for key, blob in ((2, bytes(head)), (3, y.tobytes()), (107, bytes(label))):
            entries.append((key, base + len(blobs), len(blob)))
            blobs += blob
    buf = bytearray(base)
    buf[0:18] = b"Spectral Data File"
    buf[30:35] = b"group"
    struct.pack_into("<H", buf, 294, len(entries))
    for k, (key, pos, size) in enumerate(entries):
        buf[304 + 16 * k] = key
        struct.pack_into("<II", buf, 304 + 16 * k + 2, pos, size)
    return bytes(buf + blobs)
