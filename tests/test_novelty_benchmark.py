"""benchmarks/novelty.py --specimens on the real rruff-sample folder (skipped without it)."""

from __future__ import annotations


def _pct(cell: str) -> float:
    return float(cell.split("%")[0])


def test_specimen_split_table(load_benchmark, shared_data, monkeypatch, capsys):
    bench = load_benchmark("novelty")
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
