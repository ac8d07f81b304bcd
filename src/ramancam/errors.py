"""Error and warning classes shared by the whole package.

Every expected failure caused by the user's data or options is a :class:`RamancamError`
(a ``ValueError``), whose message is one line of the form
``<what> must be <expectation>; got <actual>. <what to do>``. The command-line interface
prints such errors as ``error: <message>`` and exits with status 2.
"""

from __future__ import annotations

import errno
import re
import sys
from collections.abc import Callable, Sequence
from typing import SupportsInt


class RamancamError(ValueError):
    """A documented, user-facing error about input data or options.

    ``cli``: the same message in command-line terms (options instead of Python keyword
    arguments), which the command line prints instead of the message; ``None``: the
    message serves both."""

    def __init__(self, *args: object, cli: str | None = None) -> None:
        super().__init__(*args)
        self.cli = cli


class NotEnoughMemoryError(RamancamError):
    """A file whose reading ran out of memory, named with what to do; a folder read passes
    it on as it is (it is no stray file to move out of the folder)."""


class RamancamWarning(UserWarning):
    """A soft problem the user should know about (the result is still usable)."""


def first_of(items: Sequence[str], limit: int) -> str:
    """``a, b, c`` or ``a, b, c and 7 more``: the first ``limit`` of ``items`` in a message."""
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def class_count(n: int) -> str:
    """``"1 class"``, ``"3 classes"``, as messages count classes."""
    return f"{n} class{'' if n == 1 else 'es'}"


def int_text(v: SupportsInt) -> str:
    """An integer as a message shows it: ``"90000"``, or ``"a number of 31 digits"`` beyond
    20 digits (a mistyped count of hundreds of digits would fill the line)."""
    text = str(int(v))
    return text if len(text) <= 20 else f"a number of {len(text)} digits"


def gib_text(nbytes: int) -> str:
    """Bytes in GiB, ``"1.5 GiB"`` (an amount no float holds: by its digits)."""
    if nbytes.bit_length() > 1000:
        return f"10^{len(str(nbytes // 2**30)) - 1} GiB"
    v = nbytes / 2**30
    return f"{v:.1f} GiB" if v < 1000 else f"{v:,.0f} GiB" if v < 1e9 else f"{v:.2g} GiB"


def size_text(nbytes: int) -> str:
    """Bytes as a message shows them: ``"800 bytes"``, ``"12.5 KiB"``, ``"256.0 MiB"``,
    ``"1.0 GiB"`` (:func:`gib_text` from 1 GiB on)."""
    if nbytes >= 2**30:
        return gib_text(nbytes)
    if nbytes >= 2**20:
        return f"{nbytes / 2**20:.1f} MiB"
    return f"{nbytes / 2**10:.1f} KiB" if nbytes >= 2**10 else f"{nbytes} bytes"


#: What to do when an input read whole does not fit in memory (the command line's generic
#: "not enough memory" line, and a file whose reader ran out of memory).
READ_WHOLE_ADVICE = (
    "Write a large map as a Zarr cube ('ramancam convert MAP OUT.zarr', which copies WDF "
    "files, long exports and map tables tile by tile) and run predict or explain on the "
    "cube; split other sets into smaller files, or use a machine with more memory.")


def spectra_count(n: int, kind: str = "") -> str:
    """``"1 spectrum"``, ``"3 spectra"`` (``"3 flat spectra"`` with ``kind="flat"``), as
    messages count spectra."""
    noun = "spectrum" if n == 1 else "spectra"
    return f"{n} {kind} {noun}" if kind else f"{n} {noun}"


def where(source: object | None = None, line: int | None = None) -> str:
    """Format a ``file X, line N: `` prefix for error messages (empty when unknown)."""
    parts = []
    if source:
        parts.append(f"file {source}")
    if line is not None:
        parts.append(f"line {line}")
    return (", ".join(parts) + ": ") if parts else ""


#: Keyword arguments whose command-line option is not ``--`` + the name with dashes.
_OPTION_NAMES = {"out_dir": "--out", "n_blocks": "--blocks"}


def named_error(build: Callable[..., str], *values: object) -> RamancamError:
    """A :class:`RamancamError` in both words: ``build(name)`` writes the message, naming
    each keyword argument as ``name("labels_from")``, or with its value as
    ``name("labels_from", "regex:R")``; ``values`` follow ``name`` (a loop's variables,
    bound so). The message says ``labels_from`` and
    ``labels_from='regex:R'``; its command-line form (``cli``) says ``--labels-from`` and
    ``--labels-from 'regex:R'`` (``out_dir`` is ``--out``), the option the user typed."""
    import shlex

    def py(kw: str, *value: str) -> str:
        return f"{kw}={value[0]!r}" if value else kw

    def cli(kw: str, *value: str) -> str:
        opt = _OPTION_NAMES.get(kw, "--" + kw.replace("_", "-"))
        return f"{opt} {shlex.quote(value[0])}" if value else opt

    return RamancamError(build(py, *values), cli=build(cli, *values))


#: A memory failure as torch words it in a plain RuntimeError ("DefaultCPUAllocator: can't
#: allocate memory: you tried to allocate 9437184 bytes"; "not enough memory" on Windows).
_TORCH_NO_MEMORY = re.compile(r"can't allocate memory|DefaultCPUAllocator: not enough memory"
                              r"|out of memory")


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says that memory ran out: a :class:`MemoryError`, torch's
    ``OutOfMemoryError`` or its allocator's RuntimeError, an ``OSError`` ENOMEM. torch is
    never imported here: its failures are known by class name and message."""
    torch_oom = any(c.__name__ == "OutOfMemoryError" and c.__module__.startswith("torch")
                    for c in type(exc).__mro__)
    return (isinstance(exc, MemoryError) or torch_oom
            or (type(exc) is RuntimeError and "torch" in sys.modules
                and _TORCH_NO_MEMORY.search(str(exc)) is not None)
            or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM))
