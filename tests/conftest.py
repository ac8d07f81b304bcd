"""Shared fixtures: seeded random generators and the optional real data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# ../shared/data beside the checkout (never copied into the project); RAMANCAM_SHARED_DATA
# overrides the location.
SHARED_DATA = Path(os.environ.get(
    "RAMANCAM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


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
