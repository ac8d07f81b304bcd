"""The benchmarks read the shared real data where the tests do: ``$RAMANCAM_SHARED_DATA``
if set, else ``../shared/data`` beside the checkout (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data"
# script -> where its DATA is below the shared folder
SCRIPTS = {"levers": "", "realdata": "", "novelty": "", "nap_loo": "",
           "rruff_example": "rruff-sample", "tune_drug_mabs": "drug-mabs/spectra.csv.gz"}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_benchmarks_honour_the_shared_data_variable(name, load_benchmark, monkeypatch,
                                                    tmp_path):
    # the real-data tests take the folder from this variable; the benchmarks they run read
    # a fixed ../shared/data, so those tests failed (or read other data) when it was set
    monkeypatch.setenv("RAMANCAM_SHARED_DATA", str(tmp_path))
    assert load_benchmark(name).DATA == tmp_path / SCRIPTS[name]
    monkeypatch.delenv("RAMANCAM_SHARED_DATA")
    assert load_benchmark(name).DATA == DEFAULT / SCRIPTS[name]  # the default is unchanged


def test_the_sets_of_levers_and_recipe_screen_are_in_that_folder(load_benchmark, monkeypatch,
                                                                 tmp_path):
    monkeypatch.setenv("RAMANCAM_SHARED_DATA", str(tmp_path))
    levers = load_benchmark("levers")  # its SETS bind their paths when it is imported
    assert levers.SETS and all(Path(path).is_relative_to(tmp_path)
                               for path, _ in levers.SETS.values())
    assert load_benchmark("recipe_screen").D == str(tmp_path) + "/"
    monkeypatch.delenv("RAMANCAM_SHARED_DATA")
    assert load_benchmark("recipe_screen").D == "../shared/data/"
