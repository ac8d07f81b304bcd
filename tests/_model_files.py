"""Rewrite saved model files member by member: damaged, older or stripped copies for tests."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def rewrite_model(src: Path, dst: Path, *, info: Callable[[dict[str, Any]], Any] | None = None,
                  weights: bytes | None = None, drop: Iterable[str] = (),
                  members: dict[str, bytes] | None = None) -> Path:
    """Copy the model file ``src`` to ``dst`` without the members in ``drop``, with
    ``members`` replaced or added, ``weights.safetensors`` replaced by ``weights``, and
    ``info`` applied (in place) to the parsed ``ramancam.json``."""
    drop = set(drop)
    with zipfile.ZipFile(src) as zf:
        kept = {n: zf.read(n) for n in zf.namelist() if n not in drop}
    out = {**kept, **(members or {})}
    if info is not None:
        d = json.loads(out["ramancam.json"])
        info(d)
        out["ramancam.json"] = json.dumps(d).encode()
    if weights is not None:
        out["weights.safetensors"] = weights
    with zipfile.ZipFile(dst, "w") as zf:
        for k, v in out.items():
            zf.writestr(k, v)
    return dst


def without_references(src: Path, dst: Path) -> Path:
    """A copy of the model file as saved before 2026-12-04: no class reference spectra and
    no training labels for the library match."""
    return rewrite_model(src, dst, drop=("references.safetensors",),
                         info=lambda d: d.pop("references"))
