"""The property tests (hypothesis) are seeded: the same examples on every run (conftest)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# every test module with property tests (this one aside)
MODULES = sorted(p.stem for p in Path(__file__).parent.glob("test_*.py")
                 if p.name != Path(__file__).name and "@given" in p.read_text(encoding="utf-8"))

# the profile in force (conftest's, or HYPOTHESIS_PROFILE, or pytest --hypothesis-profile)
pytestmark = pytest.mark.skipif(not settings.default.derandomize,
                                reason="another hypothesis profile was chosen on purpose")


def _drawn() -> list[bytes]:
    seen: list[bytes] = []

    @settings(max_examples=20, deadline=None)  # a test's own settings, as the suite's have
    @given(st.binary(max_size=50))
    def draw(data: bytes) -> None:
        seen.append(data)

    draw()
    return seen


def test_the_property_test_modules_are_found() -> None:
    assert {"test_io_fuzz", "test_longrows"} <= set(MODULES)


def test_two_runs_draw_the_same_examples() -> None:
    first = _drawn()
    assert len(first) == 20 and len(set(first)) > 1
    assert _drawn() == first


@pytest.mark.parametrize("name", MODULES)
def test_every_property_test_is_derandomized(name: str) -> None:
    mod = importlib.import_module(name)
    tests = [f for f in vars(mod).values() if getattr(f, "is_hypothesis_test", False)]
    assert tests
    for f in tests:
        s = f._hypothesis_internal_use_settings
        assert s.derandomize and s.database is None, f.__name__
