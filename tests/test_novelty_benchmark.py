"""benchmarks/novelty.py --specimens and benchmarks/rruff_example.py on the real rruff-sample
folder (skipped without it)."""

from __future__ import annotations

import pytest


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


def test_rruff_example_folders(load_benchmark, shared_data, tmp_path, monkeypatch, capsys):
    ex = load_benchmark("rruff_example")
    data = shared_data / "rruff-sample"
    out = tmp_path / "ex"
    assert ex.main([str(out), "--data", str(data)]) == 0
    assert capsys.readouterr().out.startswith(f"{out}: 47 training spectra of 9 minerals")
    known = {p.name.split("__")[0] for p in (out / "known").iterdir()}
    query = [p.name.split("__")[0] for p in (out / "query").iterdir()]
    assert not known & set(ex.UNKNOWN) and len(known) == 9 and len(query) == 37
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex"]  # no temporary left
    # a folder that exists, or no spectra: one line, nothing written
    assert ex.main([str(out), "--data", str(data)]) == 2
    assert capsys.readouterr().err == f"error: {out} exists; give a new folder\n"
    assert ex.main([str(tmp_path / "new"), "--data", str(tmp_path / "none")]) == 2
    assert "no .txt files in" in capsys.readouterr().err
    # a failure half way removes what was linked so far
    monkeypatch.setattr(ex, "UNKNOWN", None)  # 'mineral in None' raises on the first file
    with pytest.raises(TypeError):
        ex.main([str(tmp_path / "half"), "--data", str(data)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex"]
