"""The one ``error:`` line of a command that ran out of memory, or whose file the system
refused (:func:`ramancam.cli._main`'s last handlers): the raw texts named no fix
(``[Errno 13] Permission denied: 'fold/peak_100/s007.txt'``), a memory failure inside torch
ended in a 43-line traceback, and the advice for a memory failure fitted predict only."""

from __future__ import annotations

import argparse
import errno
import os
import re
from pathlib import Path

from ..errors import READ_WHOLE_ADVICE, out_of_memory

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
    if type(exc) is RuntimeError and str(exc).startswith("can't start new thread"):
        workers = " or fewer --workers" if getattr(args, "workers", None) else ""
        return ("the system would not start another thread (can't start new thread): a "
                "limit on this user's processes and threads (ulimit -u) or on memory was "
                f"reached. Raise the limit{workers}, close other programs, or run where more "
                "is free.")
    if not out_of_memory(exc):
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
    return "for this input, which was read whole. " + READ_WHOLE_ADVICE


#: The options that name a command's outputs, and those that name its inputs.
_OUTPUTS = ("out", "plot", "report")
_INPUTS = ("data", "model", "input", "path", "pure", "recipe")

#: errno -> (the cause in words, what to do). ``{verb}``: read or write.
_CAUSES: dict[int, tuple[str, str]] = {
    errno.EACCES: ("permission denied", "Give yourself {verb} permission (ls -l, chmod u+{rw}) "
                                        "or {other}."),
    errno.EPERM: ("operation not permitted", "Check its permissions and attributes (ls -l, "
                                             "lsattr; chattr -i) or {other}."),
    errno.ENOENT: ("no such file or folder", "Check the path."),
    errno.ENOTDIR: ("a part of its path is a file, not a folder", "Check the path."),
    errno.EISDIR: ("it is a folder", "Name a file."),
    errno.ELOOP: ("too many levels of symbolic links (a link that leads to itself?)",
                  "Check the links on its path (ls -l)."),
    errno.EROFS: ("the file system is read-only", "{other}."),
    errno.ENOSPC: ("no space left on the device", "Free space or {other}."),
    errno.EDQUOT: ("the disk quota is exceeded", "Free space or {other}."),
    errno.EFBIG: ("the file is too large for the file system or the file size limit "
                  "(ulimit -f)", "Raise the limit or {other}."),
    errno.EIO: ("an input/output error (a failing disk or a lost network file system)",
                "Check the disk, or copy the file to another."),
    errno.EMFILE: ("too many open files", "Raise the limit (ulimit -n)."),
    errno.ENFILE: ("too many open files on this machine", "Close other programs and retry."),
}


def os_error_line(exc: OSError, args: argparse.Namespace) -> str | None:
    """The ``error:`` line (without ``error: ``) for a file the system refused: what could
    not be read or written, the cause in words and the fix, e.g. ``'fold/peak_100/s007.txt'
    could not be read: permission denied; the folder read, 'fold', stopped there. Give
    yourself read permission ...``. ``None`` when ``exc`` carries no errno (said as it is)."""
    if exc.errno is None:
        return None
    verb, name = _verb(exc.filename if exc.filename is not None else exc.filename2, args)
    other = {"written": "write elsewhere", "read": "copy it where you can read it"}.get(
        verb, "use another path")
    if exc.errno == errno.ENAMETOOLONG:
        cause, fix = _too_long(name)
    elif exc.errno in _CAUSES:
        cause, fix = _CAUSES[exc.errno]
    else:
        cause, fix = (exc.strerror or str(exc)).lower(), "Check the path."
    if exc.errno == errno.EACCES and verb not in ("read", "written"):
        fix = "Check its permissions and those of its folders (ls -l) or {other}."
    fix = fix.format(verb="write" if verb == "written" else "read",
                     rw="w" if verb == "written" else "r", other=other)
    fix = fix[0].upper() + fix[1:]
    if name is None:
        return f"{cause}. {fix}"
    stopped = _folder_stopped(name, args) if verb == "read" else ""
    return f"{_short(name)!r} could not be {verb}: {cause}{stopped}. {fix}"


def _verb(name: object, args: argparse.Namespace) -> tuple[str, object]:
    """``written`` for a path at or under an output option (or the hidden temporary file of
    one, then named by the output), ``read`` for one at or under an input, else
    ``opened``; and the path to name."""
    if name is None:
        return "opened", name
    path = os.path.abspath(os.fsdecode(name))  # type: ignore[arg-type]
    for options, verb in ((_OUTPUTS, "written"), (_INPUTS, "read")):
        for option in options:
            given = getattr(args, option, None)
            if not isinstance(given, str) or given in ("", "-"):
                continue
            base = os.path.abspath(given)
            if path == base or path.startswith(base.rstrip(os.sep) + os.sep):
                return verb, name
            head, tail = os.path.split(base)
            if (verb == "written" and os.path.dirname(path) == head
                    and os.path.basename(path).startswith(f".{tail}.")):
                return verb, given
    return "opened", name


def _folder_stopped(name: object, args: argparse.Namespace) -> str:
    """``; the folder read, 'fold', stopped there`` when ``name`` lies in an input folder."""
    path = os.path.abspath(os.fsdecode(name))  # type: ignore[arg-type]
    for option in ("data", "input", "path", "pure"):
        folder = getattr(args, option, None)
        if (isinstance(folder, str) and os.path.isdir(folder)
                and path.startswith(os.path.abspath(folder).rstrip(os.sep) + os.sep)):
            return f"; the folder read, {folder!r}, stopped there"
    return ""


def _too_long(name: object) -> tuple[str, str]:
    """The cause and fix of ENAMETOOLONG for ``name``: a part over 255 bytes, or the whole
    path over the system's PATH_MAX."""
    if name is None:
        return "a file name is too long", "Use a shorter name."
    text = os.fsencode(name)  # type: ignore[arg-type]
    longest = max(len(p) for p in text.split(b"/"))
    if longest > 255:
        return (f"a name in it has {longest} bytes, more than the 255 a file system allows",
                "Use a shorter name.")
    try:
        limit = os.pathconf("/", "PC_PATH_MAX")
    except (OSError, ValueError):
        limit = 4096
    return (f"its path has {len(os.fsencode(os.path.abspath(text)))} bytes, more than the "
            f"{limit} the system allows", "Use a shorter path (move the files nearer the "
                                          "top, or run from a folder nearer them).")


def _short(name: object) -> str:
    """``name`` as a message shows it: a path over 120 characters by its start and end."""
    text = os.fsdecode(name)  # type: ignore[arg-type]
    return text if len(text) <= 120 else f"{text[:60]}...{text[-50:]}"
