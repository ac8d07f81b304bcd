"""Shared fixtures: seeded random generators, one torch thread for tiny models, and the
optional real data beside the checkout; a spy on the train report's reliability figure; the
hypothesis profile (derandomized)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

# figures go to files and reports: never open a GUI window while testing
os.environ.setdefault("MPLBACKEND", "Agg")

# The property tests draw the same examples on every run and machine, as the rest of the
# suite uses seeded data (a reader bug must not turn a run red on one day and green on
# the next); no example database either, which would replay one machine's past failures.
# HYPOTHESIS_PROFILE=fuzz (or pytest --hypothesis-profile=fuzz) draws new examples each
# run, to hunt for reader bugs on purpose; the test's settings (max_examples) still apply.
settings.register_profile("seeded", derandomize=True, database=None)  # not hypothesis' own "ci"
settings.register_profile("fuzz", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "seeded"))

# ../shared/data beside the checkout (never copied into the project); RAMANCAM_SHARED_DATA
# overrides the location (the benchmarks resolve it the same way).
SHARED_DATA = Path(os.environ.get("RAMANCAM_SHARED_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny models run many times faster on one thread when the CPU is shared (the OpenMP
    workers of a second thread spin-wait for each other); restored afterwards. Modules that
    train tiny models use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def shared_data() -> Path:
    """The real-spectra folder; the test is skipped with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (../shared/data beside the checkout);"
                    " set RAMANCAM_SHARED_DATA to run real-data checks")
    return SHARED_DATA


@pytest.fixture
def load_benchmark(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """``load_benchmark("realdata")`` imports ``benchmarks/realdata.py`` as module
    ``realdata`` (registered in ``sys.modules`` for the test only: dataclasses and pickling
    look it up there)."""
    import importlib.util
    import sys

    def load(name: str) -> ModuleType:
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, mod)
        spec.loader.exec_module(mod)
        return mod

    return load


@pytest.fixture
def drawn_unknown(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The ``unknown`` mask of every class image drawn (``write_map_images``, however it is
    imported), in order; ``None`` where none was given."""
    import ramancam.maps.images as images
    import ramancam.maps.outputs as outputs

    seen: list[object] = []
    real = images.write_map_images

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("unknown"))
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "write_map_images", spy)
    monkeypatch.setattr(outputs, "write_map_images", spy)
    return seen


@pytest.fixture
def reliability_drawn(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The logits each call of the train report's reliability figure draws, in order (the
    figure still drawn)."""
    from ramancam import train_report

    drawn: list[Any] = []
    figure = train_report._reliability_figure

    def spy(logits: Any, y_idx: Any, temperature: float) -> Any:
        drawn.append(np.asarray(logits))
        return figure(logits, y_idx, temperature)

    monkeypatch.setattr(train_report, "_reliability_figure", spy)
    return drawn

