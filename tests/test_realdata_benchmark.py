"""``benchmarks/realdata.py --quick`` on two small real sets (issue 13)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "realdata.py"


def test_quick_benchmark_writes_the_table_and_the_map_checks(shared_data, tmp_path,
                                                              monkeypatch):
    spec = importlib.util.spec_from_file_location("realdata", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "realdata", mod)  # dataclasses and pickling look it up
    spec.loader.exec_module(mod)
    out, js = tmp_path / "rd.md", tmp_path / "rd.json"
    assert mod.main(["--quick", "--sets", "astragalus,amino-acids", "--jobs", "1",
                     "--out", str(out), "--json", str(js)]) == 0
    text = out.read_text()
    head = ("| set | split | n | CNN default | CNN paper | PCA+SVM | PLS-DA | library | "
            "winner |")
    assert head in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| astragalus |")
            or ln.startswith("| amino-acids |")]
    assert len(rows) == 4  # accuracy row and map-check row of each set
    assert "Fig. 3" in text and "deletion" in text
    # the quick run of the mixtures fills the Fig. 7 column
    amino = [ln for ln in rows if ln.startswith("| amino-acids |")][-1]
    closer = amino.rstrip(" |").split("|")[-1].strip().split(" / ")
    assert len(closer) == 2 and "-" not in closer  # both maps: fc / ig-bands
    assert "ig-bands map:" in text  # Fig. 3 pointing of the input-resolution map
