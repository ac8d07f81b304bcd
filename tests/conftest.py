"""Shared fixtures: seeded random generators, one torch thread for tiny models, and the
optional real data beside the checkout."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

# ../shared/data beside the checkout (never copied into the project); RAMANCAM_SHARED_DATA
# overrides the location.
SHARED_DATA = Path(os.environ.get(
    "RAMANCAM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


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
