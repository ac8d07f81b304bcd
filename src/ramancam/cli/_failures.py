"""The one ``error:`` line of a command that ran out of memory (:func:`ramancam.cli._main`'s
last handler): a memory failure inside torch ended in a 43-line traceback, and the advice
for a memory failure fitted predict only."""

from __future__ import annotations

import argparse
import errno
import re
import sys
from pathlib import Path

#: A memory failure as torch words it in a plain RuntimeError ("DefaultCPUAllocator: can't
#: allocate memory: you tried to allocate 9437184 bytes"; "not enough memory" on Windows).
_TORCH_NO_MEMORY = re.compile(r"can't allocate memory|DefaultCPUAllocator: not enough memory"
                              r"|out of memory")

#: A shared library that could not be mapped (a low ``ulimit -v`` while importing torch).
_NO_MAP = re.compile(r"([^\s:'\"]+): failed to map segment from shared object")


def memory_line(exc: BaseException, args: argparse.Namespace) -> str | None:
    """The ``error:`` line (without ``error: ``) for ``exc`` when it says that memory ran
    out (a :class:`MemoryError`, torch's ``OutOfMemoryError`` or its allocator's
    RuntimeError, a library that could not be loaded for want of memory), else ``None``.
    torch is never imported here: its failures are known by class name and message."""
    mapped = (_NO_MAP.search(str(exc)) if isinstance(exc, (ImportError, OSError))
              else None)
    if mapped is not None:
        return (f"not enough memory to load the library {Path(mapped.group(1)).name} (failed "
                "to map segment from shared object): this process may use too little memory "
                "(ulimit -v) for the libraries ramancam loads. Raise the limit (ulimit -v "
                "unlimited) or run where more memory is free.")
    torch_oom = any(c.__name__ == "OutOfMemoryError" and c.__module__.startswith("torch")
                    for c in type(exc).__mro__)
    if not (isinstance(exc, MemoryError) or torch_oom or (
            type(exc) is RuntimeError and "torch" in sys.modules
            and _TORCH_NO_MEMORY.search(str(exc))) or (
            isinstance(exc, OSError) and exc.errno == errno.ENOMEM)):
        return None
    return "not enough memory " + _memory_advice(getattr(args, "command", None), args)


def _memory_advice(command: str | None, args: argparse.Namespace) -> str:
    """What to do when ``command`` ran out of memory: advice that applies to it."""
    if command in ("train", "baseline"):
        smaller = (f", a smaller --batch-size (now {args.batch_size})"
                   if getattr(args, "batch_size", None) else "")
        return (f"to {'train on' if command == 'train' else 'cross-validate on'} this set, "
                "which is held whole in memory. Use fewer spectra, shorter ones (a narrower "
                f"or coarser --grid START:STOP:STEP){smaller}, or a machine with more memory.")
    data = str(getattr(args, "data", "") or "")
    if command in ("predict", "explain") and Path(data.rstrip("/")).suffix.lower() == ".zarr":
        return ("for this run, which reads the cube tile by tile. Write the cube with smaller "
                "tiles ('ramancam convert' with --chunk), use fewer --workers, or a machine "
                "with more memory.")
    if command in ("predict", "explain"):
        return ("for this input, which was read whole. Write a large map as a Zarr cube "
                "('ramancam convert MAP OUT.zarr', which copies WDF files, long exports and "
                f"map tables tile by tile) and run {command} on the cube; split other sets "
                "into smaller files, or use a machine with more memory.")
    if command == "simulate":
        return ("for this set. Simulate fewer spectra (--n-per-class) or a smaller map "
                "(--shape), or use a machine with more memory.")
    return ("for this input, which was read whole. Write a large map as a Zarr cube "
            "('ramancam convert MAP OUT.zarr', which copies WDF files, long exports and map "
            "tables tile by tile) and run predict or explain on the cube; split other sets "
            "into smaller files, or use a machine with more memory.")
