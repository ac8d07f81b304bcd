"""benchmarks/novelty.py --specimens on the real rruff-sample folder (skipped without it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "novelty.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("novelty_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["novelty_bench"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("novelty_bench", None)


def _pct(cell: str) -> float:
    return float(cell.split("%")[0])


def test_specimen_split_table(bench, shared_data, monkeypatch, capsys):
    monkeypatch.setattr(bench, "DATA", shared_data)
    assert bench.main(["--specimens", "--seeds", "0", "--no-docs"]) == 0
    rows = [ln.split(" | ") for ln in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 3
    (_, _, auc_sp, unk_sp, _), (_, _, auc_a, unk_a, known_a), \
        (_, _, auc_b, unk_b, known_b) = rows
    # the same split and scores: only the threshold differs, and leaving whole specimens
    # out can only raise it (each score is over fewer references), so fewer are flagged
    assert auc_a == auc_b and _pct(unk_b) <= _pct(unk_a) and _pct(known_b) <= _pct(known_a)
    assert unk_sp.endswith("of 84") and known_a.endswith(f"of {known_b.split('of ')[1]}")
    assert 0.9 <= float(auc_sp.split()[0]) <= 1.0
