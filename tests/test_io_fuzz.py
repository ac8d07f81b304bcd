"""Property-based tests: whatever bytes or tables the readers get, only a RamancamError or a
valid Spectra comes out; and what write_table writes, read_table reads back exactly."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ramancam import RamancamError, Spectra
from ramancam.io import read, read_rruff, read_table, read_two_column, write_table
from ramancam.io._text import is_number
from ramancam.spectra import NEAR_STEP

FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

_READERS = {
    "read": lambda p: read(p),
    "read_label": lambda p: read(p, label_col="label"),
    "table": lambda p: read_table(p),
    "two_column": read_two_column,
    "rruff": read_rruff,
}


def _spaced(axis: Any) -> bool:
    """No two points much closer than the axis's median step (refused as a repeat is)."""
    d = np.abs(np.diff(np.asarray(axis, dtype=np.float64)))
    return bool((d >= NEAR_STEP * np.median(d)).all())


def _check_valid(s: Spectra) -> None:
    assert len(s) >= 1
    for axis, y in zip(s.axes, s.intensities, strict=True):
        assert axis.ndim == 1 and axis.size >= 2 and y.shape == axis.shape
        assert np.isfinite(axis).all() and np.isfinite(y).all()
        d = np.diff(axis)
        assert ((d > 0).all() or (d < 0).all()) and _spaced(axis)


def _feed(data: bytes, suffix: str, reader: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        try:
            s = _READERS[reader](path)
        except RamancamError as exc:
            assert "\n" not in str(exc)
            return
        _check_valid(s)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".txt", ".tsv.gz", ".dat"]),
       reader=st.sampled_from(sorted(_READERS)), zipped=st.booleans())
def test_random_bytes(data, suffix, reader, zipped):
    _feed(gzip.compress(data) if zipped else data, suffix, reader)


_token = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 5000).map(str),
    st.sampled_from(["", "label", "A", "x", "#", "##NAMES=Q", "1e", "--1", '"', "nan", " "]),
    st.text(alphabet="0123456789.,;eE+-# \t\"x", max_size=6),
)


@FUZZ
@given(rows=st.lists(st.lists(_token, min_size=1, max_size=6), min_size=0, max_size=6),
       sep=st.sampled_from([",", "\t", ";", " ", ", "]), reader=st.sampled_from(sorted(_READERS)),
       comment=st.booleans())
def test_random_tables(rows, sep, reader, comment):
    text = ("# fuzz\n" if comment else "") + "\n".join(sep.join(r) for r in rows)
    _feed(text.encode(), ".csv", reader)


@FUZZ
@given(n=st.integers(1, 4), p=st.integers(2, 6), data=st.data())
def test_plausible_tables_parse(n, p, data):
    # well-formed numeric tables must always read, with the values given
    axis = sorted(data.draw(st.sets(st.integers(100, 4000), min_size=p, max_size=p)))
    assume(_spaced(axis))
    vals = data.draw(st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=p,
                                       max_size=p), min_size=n, max_size=n))
    labels = data.draw(st.lists(st.sampled_from(["a", "b", "c d"]), min_size=n, max_size=n))
    text = "label," + ",".join(map(str, axis)) + "\n" + "\n".join(
        f"{lab}," + ",".join(map(repr, row)) for lab, row in zip(labels, vals, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text(text)
        s = read(path, label_col="label")
    np.testing.assert_array_equal(s.X, np.array(vals))
    assert s.wavenumbers.tolist() == [float(a) for a in axis]
    assert s.labels.tolist() == labels


_name = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]),
                min_size=1, max_size=8).filter(
    lambda t: t == t.strip() and not t.startswith("#") and t != "label" and not is_number(t))


@FUZZ
@given(n=st.integers(1, 4), p=st.integers(2, 6), data=st.data(), gz=st.booleans())
def test_write_read_round_trip(n, p, data, gz):
    X = np.array(data.draw(st.lists(st.lists(
        st.floats(allow_nan=False, allow_infinity=False), min_size=p, max_size=p),
        min_size=n, max_size=n)))
    axis = np.array(sorted(data.draw(st.sets(
        st.floats(-1e5, 1e5, allow_nan=False), min_size=p, max_size=p))))
    axis = axis if data.draw(st.booleans()) else axis[::-1].copy()
    assume(not np.any(np.diff(axis) == 0))  # -0.0 and 0.0 form a set of two equal numbers
    assume(_spaced(axis))
    # (spaces around a label are dropped on reading: test_io.py)
    labels = data.draw(st.lists(st.text(min_size=1, max_size=5).filter(
        lambda t: t == t.strip() and "\x00" not in t), min_size=n, max_size=n))
    names = data.draw(st.lists(_name, unique=True, max_size=2))
    meta = {k: data.draw(st.lists(st.text(alphabet=st.characters(
        codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"), max_size=5),
        min_size=n, max_size=n)) for k in names}
    s = Spectra(X, axis, labels=labels, meta=meta)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("t.csv.gz" if gz else "t.csv")
        write_table(s, path)
        back = read_table(path, label_col="label")
    np.testing.assert_array_equal(back.X, X)
    np.testing.assert_array_equal(back.wavenumbers, axis)
    assert back.labels.tolist() == labels
    assert {k: v.tolist() for k, v in back.meta.items()} == meta
