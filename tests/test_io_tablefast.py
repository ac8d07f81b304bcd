"""The wide-table reader's fast path (io/_tablefast.py): pandas' C parser reads blocks of
plain numbers; every table gives the spectra of the line-by-line reader bit for bit, and the
same messages and warnings, whether the fast path takes all of it, part of it or none."""

from __future__ import annotations

import gzip
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramancam import RamancamError, Spectra
from ramancam.io import _tablefast, read_table, write_table
from ramancam.io import table as table_module

pd = pytest.importorskip("pandas", minversion="3.1")  # the fast path's correctly rounded parser


def _read(source: str | Path, *, fast: bool, label_col: str | None = None,
          block_chars: int = 64) -> tuple[list[Any], list[tuple[str, str]], int]:
    """The spectra (or the error) read from ``source`` (a table's text, or a file) with the
    fast path (in blocks of ``block_chars`` characters: 64 makes a block of each line) or
    without it (as without pandas), the warnings, and how many blocks the fast path read."""
    taken = []
    with pytest.MonkeyPatch.context() as mp:
        if fast:
            block = _tablefast._block

            def counted(*args: Any) -> _tablefast.Block | None:
                taken.append(got := block(*args))
                return got

            mp.setattr(_tablefast, "MIN_CHARS", 0)
            mp.setattr(_tablefast, "BLOCK_CHARS", block_chars)
            mp.setattr(_tablefast, "_block", counted)
        else:
            mp.setattr(_tablefast, "_reader", lambda: None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                got: Spectra | RamancamError = (
                    read_table(source, label_col=label_col) if isinstance(source, Path)
                    else table_module.parse_table(source, source="t.csv", label_col=label_col))
            except RamancamError as exc:
                got = exc
    said = [(type(w.message).__name__, str(w.message)) for w in caught]
    return _contents(got), said, sum(b is not None for b in taken)


def _contents(s: Spectra | RamancamError) -> list[Any]:
    """Everything a Spectra holds, bytes and dtypes included (``-0.0`` is not ``0.0``)."""
    if isinstance(s, RamancamError):
        return ["error", str(s)]
    out: list[Any] = [len(s), s.has_common_axis]
    for y, w in zip(s.intensities, s.axes, strict=True):
        out += [y.dtype.str, y.tobytes(), w.dtype.str, w.tobytes()]
    out.append(None if s.labels is None else (s.labels.dtype.str, s.labels.tolist()))
    out += [(k, v.dtype.str, v.tolist()) for k, v in s.meta.items()]
    return [*out, s.sources.tolist()]


def _table(sep: str = ",", end: str = "\n", n: int = 8, points: int = 6,
           meta: tuple[str, ...] = ("id", "label"), after: tuple[str, ...] = (),
           cell: Callable[[int, int, float], str] = lambda i, j, v: repr(v),
           shift: Callable[[float], str] = lambda w: f"{w:.3f}") -> str:
    """A seeded wide table: ``meta`` columns, the shifts, ``after`` columns."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, points)) * 1000.0
    axis = np.linspace(400.0, 1800.0, points)

    def meta_cell(name: str, i: int) -> str:
        return {"label": "AB"[i % 2], "x": str(i % 3), "y": str(i // 3),
                "": str(i)}.get(name, f"{name}{i}")

    lines = [sep.join([*meta, *(shift(float(w)) for w in axis), *after])]
    lines += [sep.join([*(meta_cell(m, i) for m in meta),
                        *(cell(i, j, float(X[i, j])) for j in range(points)),
                        *(meta_cell(a, i) for a in after)]) for i in range(n)]
    return end.join(lines) + end


def _at(i0: int, j0: int, text: str) -> Callable[[int, int, float], str]:
    """A cell writer that writes ``text`` at row ``i0``, point ``j0``."""
    return lambda i, j, v: text if (i, j) == (i0, j0) else repr(v)


_WAYS = ["-0.0", "0", "-0", "+1.5", "1e5", "1E-3", ".5", "5.", "4.9e-324", "2.5e-320",
         "9007199254740993", "123456789012345678901234567890", "0.1", "1e23",
         "2.2250738585072011e-308", "1.7976931348623157e308", "0.30000000000000004"]

# (id, table, label column, fast path takes some rows). The tables of tests/test_io*.py,
# each with one thing the line-by-line reader handles, refuses or warns about.
_TABLES: list[tuple[str, str, str | None, bool]] = [
    ("plain", _table(), "label", True),
    ("crlf", _table(end="\r\n"), "label", True),
    ("tab", _table(sep="\t"), None, True),
    ("semicolon", _table(sep=";"), "label", True),
    ("bar", _table(sep="|"), "label", True),
    ("white space", _table(sep=" "), "label", False),
    ("metadata after the shifts", _table(after=("batch",)), "label", True),
    ("metadata on both sides, crlf", _table(after=("batch", "note"), end="\r\n"), None, True),
    ("no metadata", _table(meta=()), None, True),
    ("positions", _table(meta=("id", "x", "y")), None, True),
    ("LabSpec map", _table(meta=("", "")), None, True),
    ("padding", _table(points=16, cell=lambda i, j, v: "10.0" if j < 3 or j > 12 else repr(v)),
     None, True),
    ("different ranges",
     _table(cell=lambda i, j, v: "" if j == 0 and i % 2 == 0 else repr(v)), None, False),
    ("a spectrum with no value", _table(cell=lambda i, j, v: "" if i == 3 else repr(v)),
     None, True),
    ("numbers written every way",
     _table(n=len(_WAYS), cell=lambda i, j, v: _WAYS[i] if j == 2 else repr(v)), None, True),
    ("%.17g and %.25g", _table(cell=lambda i, j, v: f"{v:.17g}" if i % 2 else f"{v:.25g}"),
     None, True),
    ("nan", _table(cell=_at(0, 1, "nan")), None, False),
    ("NaN in the last row", _table(cell=_at(7, 1, "NaN")), None, True),
    ("inf", _table(cell=_at(0, 1, "inf")), None, False),
    ("1e999 (inf)", _table(cell=_at(2, 1, "1e999")), None, True),
    ("1_000", _table(cell=_at(0, 1, "1_000")), None, False),
    ("non-ASCII digits", _table(cell=_at(0, 1, "١٢")), None, False),
    ("1e", _table(cell=_at(4, 1, "1e")), None, True),
    ("1-2", _table(cell=_at(4, 1, "1-2")), None, True),
    ("1.2.3", _table(cell=_at(4, 1, "1.2.3")), None, True),
    ("a word", _table(cell=_at(6, 3, "abc")), None, True),
    ("a space in a number", _table(cell=_at(0, 3, " 1.5")), None, False),
    ("decimal commas", _table(sep=";", cell=lambda i, j, v: f"{v:.3f}".replace(".", ","),
                              shift=lambda w: f"{w:.1f}".replace(".", ",")), "label", False),
    ("grouped thousands", _table(sep=";", cell=lambda i, j, v: f"{abs(v) + 1000:,.1f}"
                                 .replace(",", " ").replace(".", ",").replace(" ", "."),
                                 shift=lambda w: f"{w:.1f}".replace(".", ",")), None, False),
    ("a quoted cell", _table().replace("id3,", '"id,3",'), None, False),
    ("a quoted header", _table().replace("id,", '"id",', 1), None, False),
    ("comment lines", "# exported\n\n# by hand\n" + _table(), "label", True),
    ("blank lines among the rows", _table().replace("\nid4,", "\n\n   \nid4,"), "label", True),
    ("a line of delimiters", _table().replace("\nid4,", "\n,,,,,,,,\nid4,"), None, True),
    ("a tab line in a tab table",
     _table(sep="\t", end="\r\n").replace("\r\nid4", "\r\n\t\r\nid4"), None, True),
    ("a row too short", _table(cell=lambda i, j, v: "" if (i, j) == (5, 5) else repr(v))
     .replace(",\n", "\n"), None, True),
    ("a row too long", _table().replace("\nid6,", "\nid6,1.5,"), None, True),
    ("a row too long, the next too short", _table(
        cell=lambda i, j, v: {(3, 5): f"{v!r},1.5", (4, 5): ""}.get((i, j), repr(v)))
     .replace(",\n", "\n"), None, True),
    ("trailing empty fields", _table().replace("\n", ",,,\n"), "label", False),
    ("old Mac line ends", _table(end="\r"), None, False),
    ("a carriage return inside a row", _table().replace("\nid5,", "\nid\r5,"), None, False),
    ("a field longer than the csv module takes",
     _table(end="\r\n").replace("id2,", "i" * 140_000 + ","), None, True),
    ("a numbered column apart", _table(points=12, after=("9000",)), None, True),
    ("spectra in columns under numbers",
     "Raman shift," + ",".join(str(1001 + k) for k in range(3)) + "\n"
     + "".join(f"{400 + 2 * r},{r % 7}.5,{r % 5}.25,{r % 3}.125\n" for r in range(40)),
     None, True),
    ("one spectrum per column", "shift,a,b\n" + "".join(
        f"{400 + r},{r}.5,{r}.25\n" for r in range(12)), None, False),
    ("labels with spaces", _table().replace(",A,", ", A ,"), "label", True),
    ("no label column", _table(), "kind", False),
]


@pytest.mark.parametrize(("text", "label_col", "taken"),
                         [t[1:] for t in _TABLES], ids=[t[0] for t in _TABLES])
def test_tables_read_alike_with_and_without_the_fast_path(text, label_col, taken):
    slow, slow_said, _ = _read(text, fast=False, label_col=label_col)
    fast, fast_said, blocks = _read(text, fast=True, label_col=label_col)
    assert fast == slow
    assert fast_said == slow_said
    assert (blocks > 0) == taken  # which tables the fast path takes (some rows of)
    # the whole table in one block: a row too long cannot make up for one too short
    whole, whole_said, _ = _read(text, fast=True, label_col=label_col, block_chars=1 << 20)
    assert whole == slow and whole_said == slow_said


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gzip"])
def test_files_read_alike_with_and_without_the_fast_path(tmp_path, encoding):
    text = _table(end="\r\n", meta=("id", "label", "Größe"))
    path = tmp_path / "t.csv"
    if encoding == "gzip":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_bytes(text.encode(encoding))
    fast, fast_said, blocks = _read(path, fast=True, label_col="label")
    slow, slow_said, _ = _read(path, fast=False, label_col="label")
    assert fast == slow and fast_said == slow_said
    assert blocks > 0


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:.20e}"),
    st.text(alphabet="0123456789.+-eE", min_size=1, max_size=8)), min_size=3, max_size=3))
def test_any_number_reads_as_float_reads_it(cells):
    # the characters of numbers in any order: what Python's float reads, the fast path
    # reads to the same bits; what it does not, is left to the line-by-line reader
    text = "id,400,500,600\n" + "".join(f"s{i}," + ",".join(cells) + "\n" for i in range(3))
    fast, fast_said, _ = _read(text, fast=True)
    slow, slow_said, _ = _read(text, fast=False)
    assert fast == slow and fast_said == slow_said


def test_a_plain_table_is_read_in_blocks_not_cell_by_cell(tmp_path, rng, monkeypatch):
    s = Spectra(rng.normal(size=(30, 40)), np.linspace(400.0, 1800.0, 40),
                labels=np.array(list("ABC") * 10), meta={"id": np.array([f"s{i}" for i in
                                                                          range(30)])})
    write_table(s, tmp_path / "t.csv")
    monkeypatch.setattr(_tablefast, "MIN_CHARS", 0)

    def cell_by_cell(*args: Any) -> None:
        raise AssertionError("a row was read cell by cell")

    monkeypatch.setattr(table_module, "_numbers", cell_by_cell)
    parsed = []
    reader = _tablefast._reader

    def spied() -> Callable[..., Any] | None:
        read_csv = reader()
        assert read_csv is not None
        return lambda buffer: parsed.append(1) or read_csv(buffer)

    monkeypatch.setattr(_tablefast, "_reader", spied)
    got = read_table(tmp_path / "t.csv", label_col="label")
    assert parsed  # pandas read the numbers
    assert got.X.tobytes() == s.X.tobytes()
    assert got.labels.tolist() == s.labels.tolist()
    assert got.meta["id"].tolist() == s.meta["id"].tolist()


def test_pandas_before_3_1_is_not_used(monkeypatch):
    # its default converter is not always correctly rounded, its exact one is slow
    monkeypatch.setattr(pd, "__version__", "2.2.3")
    assert _tablefast._reader() is None
    monkeypatch.setattr(pd, "__version__", "3.1.0")
    assert _tablefast._reader() is not None


def test_a_small_table_is_read_without_importing_pandas(monkeypatch):
    # importing pandas costs more than it saves below MIN_CHARS characters of rows
    monkeypatch.delitem(sys.modules, "pandas", raising=False)

    def no_pandas() -> None:
        raise AssertionError("pandas imported for a small table")

    monkeypatch.setattr(_tablefast, "_reader", no_pandas)
    s = table_module.parse_table(_table(), label_col="label")
    assert s.X.shape == (8, 6)
