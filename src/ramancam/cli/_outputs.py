"""Output checks of the commands: folders they create (removed again when a run fails while
they are empty), the checks of output paths made before any work, and the lines that say
what was written (held until it is in place)."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The lines :func:`say_line` holds back while a command runs (:func:`said_once_in_place`):
#: (stream, or None for ``sys.stdout``; the line; whether it says a file was written).
_HELD: list[tuple[Any, str, bool]] | None = None


@contextlib.contextmanager
def said_once_in_place() -> Iterator[None]:
    """Hold the lines :func:`say_line` prints from the first one that says a file was written
    (or removed) to the end of the block, which the command line puts round each command.

    A command's outputs wait under temporary names until it ends well
    (:func:`ramancam.io._atomic.atomic_group`): an interrupted or failed run puts none of
    them in place, yet it had printed ``wrote 60 predictions to ...`` before ``error:
    interrupted``. Ended without an exception (its outputs in place), the lines come out
    as they were said, in their order; on an exception, all but those that say a file was
    written (the rest of the summary is true of the run). A block inside a block is part
    of the outer one."""
    global _HELD
    if _HELD is not None:
        yield
        return
    _HELD = []
    done = False
    try:
        yield
        done = True
    finally:
        held, _HELD = _HELD, None
        for stream, text, wrote in held:
            if done or not wrote:
                print(text, file=stream)


def say_line(text: str, file: Any = None, *, wrote: bool = False) -> None:
    """Print a line of a command's summary to ``file`` (default ``sys.stdout``).
    ``wrote``: the line says a file was written or removed, which is true only once the
    command's outputs are in place: inside :func:`said_once_in_place` it is held, with
    every line said after it (their order kept), until the command has ended."""
    if _HELD is not None and (wrote or _HELD):
        _HELD.append((file, text, wrote))
    else:
        print(text, file=file)

#: Output folders this command created (the outermost first), removed again when it fails
#: and they are still empty (:func:`make_out_folder`, :func:`new_folders_done`).
_NEW_FOLDERS: list[Any] = []


def make_out_folder(path: Any) -> None:
    """Create an output folder (and missing parents); those it creates are removed again by
    the command line when the command then fails and they are still empty."""
    from pathlib import Path

    p = Path(path)
    missing = [q for q in (p, *p.parents) if not q.exists()]
    p.mkdir(parents=True, exist_ok=True)
    _NEW_FOLDERS.extend(reversed(missing))


def new_folders_done(*, failed: bool) -> None:
    """The command ended: on failure, remove the empty folders it created (innermost
    first); forget them either way."""
    if failed:
        for p in reversed(_NEW_FOLDERS):
            try:
                p.rmdir()  # only an empty folder: never anything written into it
            except OSError:
                pass
    _NEW_FOLDERS.clear()


def check_figure_path(opt: str, path: str | None) -> None:
    """Refuse a figure file name matplotlib cannot write, or one in a missing folder, before
    any work is done."""
    from pathlib import Path

    from ..errors import RamancamError

    if path is None:
        return
    if Path(path).suffix.lower().lstrip(".") not in ("png", "pdf", "svg"):
        raise RamancamError(
            f"--{opt} must end in .png, .pdf or .svg; got {path!r}. Name the figure file with "
            "one of those extensions.")
    check_parent_folder(opt, path, folder_ok=False)


def resolved(label: str, path: str | os.PathLike[str]) -> Any:
    """``Path(path).resolve()``, or one line naming ``label`` for a symbolic link that leads
    back to itself (Python raises RuntimeError or OSError there: a traceback before)."""
    from pathlib import Path

    from ..errors import RamancamError

    try:
        return Path(path).resolve()
    except (RuntimeError, OSError) as exc:
        # a loop: the words check_not_special gives it, whichever check meets it first
        check_not_special(label, str(path), path, "file or folder")
        raise RamancamError(
            f"{label} must name a file or folder; got {str(path)!r}, a symbolic link that "
            f"cannot be followed ({exc}). Remove the link or give another path.") from None


def check_parent_folder(opt: str, path: str | None, *, folder_ok: bool = True,
                        name: str | None = None) -> None:
    """Refuse an output file (``--OPT``) whose folder does not exist, or lies below a file,
    before any work (``folder_ok``, ``name``: as for :func:`check_writable`)."""
    from pathlib import Path

    from ..errors import RamancamError
    from ..io._atomic import file_in_the_way

    if path is None:
        return
    label = name or f"--{opt}"
    if not resolved(label, path).parent.is_dir():
        # a file in the way is no missing folder: creating it is no fix
        if (first := file_in_the_way(Path(path).parent)) is not None:
            raise RamancamError(f"{label} must be in a folder; got {path!r}, but "
                                f"{str(first)!r} is a file. Name another folder.")
        raise RamancamError(
            f"{label} must be in an existing folder; got {path!r}. Create the folder first.")
    check_writable(opt, path, folder_ok=folder_ok, name=name)


def check_writable(opt: str, path: str | None, *, folder_ok: bool = True,
                   name: str | None = None, shown: str | None = None) -> None:
    """Refuse an output (``--OPT``) whose existing folder cannot be written to, or (with
    ``folder_ok=False``) that names a folder, before any work: found after the work, the
    error named a hidden temp file. ``name``: how the messages name a positional output
    (``OUT``) instead of ``--OPT``; ``shown``: the path as the user gave it, where ``path``
    is a probe in it."""
    import tempfile
    from pathlib import Path

    from ..errors import RamancamError

    if path is None:
        return
    label = name or f"--{opt}"
    if str(path) == "-":  # it wrote a file named '-'
        raise RamancamError(
            f"{label} must name a file or folder; got '-', which is not read as the screen "
            f"here. Name a file, or leave {label} out where the command prints its table "
            "without it (predict, explain).")
    target = Path(path)
    if not folder_ok and target.is_dir():
        raise RamancamError(f"{label} must name a file; got {path!r}, which is a folder. "
                            "Name a file in it or beside it.")
    check_not_special(label, shown or str(path), target,
                      "file or folder" if folder_ok else "file")
    parent = resolved(label, target).parent
    if not parent.is_dir():
        return
    try:  # a real probe: permissions, read-only mounts and immutable folders alike
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise RamancamError(f"{label} must be in a folder you can write to; got "
                            f"{shown or path!r} ({exc.strerror or exc}). Write it "
                            "elsewhere.") from None


def check_not_special(label: str, shown: str, path: Any, what: str = "file") -> None:
    """Refuse an output ``path`` that is a device, FIFO or socket (or a link to one): an
    output replaces its target by a rename, so ``--out /dev/null`` as root turned the
    machine's /dev/null into a regular file. A link to a file is fine: the file it points to
    is written, the link stays."""
    from ..errors import RamancamError
    from ..io._atomic import not_a_file

    if kind := not_a_file(path):
        raise RamancamError(
            f"{label} must name a {what} (or a new name); got {shown!r}, which is a {kind}, "
            f"not a {what}. Give a {what} path: outputs are written whole and then renamed "
            f"into place, which would replace the {kind.split(' (')[0]}.")


def check_out_folder(opt: str, path: str | None) -> None:
    """Refuse an output folder (``--OPT DIR``, created when missing) that is a file, or
    whose nearest existing parent is a file or cannot be written to, before any work (found
    after the work, the error was Python's ``[Errno 20] Not a directory``)."""
    from pathlib import Path

    from ..errors import RamancamError

    if path is None:
        return
    if str(path) == "-":  # it made a folder named '-'
        raise RamancamError(f"--{opt} must name a folder; got '-', which is not read as the "
                            "screen here. Name a folder (it is created when missing).")
    target = Path(path)
    check_not_special(f"--{opt}", path, target, "folder")
    if target.exists() and not target.is_dir():
        raise RamancamError(f"--{opt} must be a folder; got {path!r}, which is a file. Name "
                            "a folder (it is created when missing).")
    if target.is_dir():
        check_writable(opt, str(target / "probe"), shown=path)
        return
    first = next((q for q in target.parents if q.exists()), None)
    if first is not None and not first.is_dir():
        raise RamancamError(f"--{opt} must be a folder; got {path!r}, but {str(first)!r} is "
                            "a file. Name a folder (it is created when missing).")
    if first is not None:
        check_writable(opt, str(first / "probe"), shown=path)


def check_report_path(path: str | None) -> None:
    """Refuse an HTML report name (``--report``) without ``.html``, or in a missing folder,
    before any work is done."""
    from ..errors import RamancamError

    if path is not None and not str(path).lower().endswith((".html", ".htm")):
        raise RamancamError(f"--report must end in .html; got {path!r}. Name the report file "
                            "FILE.html.")
    check_parent_folder("report", path, folder_ok=False)


def check_not_inputs(args: argparse.Namespace, outputs: Sequence[str],
                     inputs: Sequence[str] = ("data", "model"),
                     names: Mapping[str, str] | None = None,
                     folder_files: Mapping[str, Sequence[str]] | None = None,
                     folders: Sequence[str] = ()) -> None:
    """Refuse an output (the options ``outputs``, attribute names of ``args``) that names an
    input file (``inputs``: DATA, MODEL) or another output, or a table (a file of a kind the
    readers take) inside an input folder, before any work: writing it would destroy the
    input, or one output the other, and a table written into a folder of spectra is read
    back as spectra by the next run (a report or an image there is harmless).
    ``folder_files``: for an output that is a folder (``--out DIR``), the files the command
    writes into it, each checked as the output (when the output is an existing folder, ends
    with a path separator, or is one of ``folders``: always a folder). ``names``: how
    messages name an attribute (default ``DATA``, ``MODEL``, ``--OPTION``)."""
    from pathlib import Path

    from ..errors import RamancamError
    from ..io._text import is_known_file

    def label(attr: str) -> str:
        given = (names or {}).get(attr)
        return given or (attr.upper() if attr in inputs else f"--{attr}")

    read = [(a, resolved(label(a), v)) for a in inputs if (v := getattr(args, a, None))]
    seen: dict[Path, str] = {}
    for attr in outputs:
        value = getattr(args, attr, None)
        if not value:
            continue
        out = resolved(label(attr), value)
        # a name without a suffix may become a folder too (predict --out DIR on a map)
        is_folder = (attr in folders or Path(value).is_dir() or Path(value).suffix == ""
                     or str(value).endswith(("/", os.sep)))
        within = [out / f for f in (folder_files or {}).get(attr, ()) if is_folder]
        for src_attr, src in read:
            for target in (out, *within):
                # --out DIR that is the folder DATA: the 'inside' reason below, if it writes
                # files into DIR; an output that replaces the folder itself is this one
                if target == src and not (src.is_dir() and within):
                    raise RamancamError(
                        f"{label(attr)} must not name {label(src_attr)}, which is read; got "
                        f"{value!r}{'' if target == out else f' (it writes {target.name})'}. "
                        "Writing it would destroy the input: name another file.")
            readable = [t for t in (out, *within) if is_known_file(t)]
            if src.is_dir() and (any(src in t.parents for t in readable) or (
                    out == src and within)):
                raise RamancamError(
                    f"{label(attr)} must not be inside the folder {label(src_attr)}, which is "
                    f"read; got {value!r} in {str(src)!r}. The next run on that folder would "
                    "read the outputs as spectra: write them elsewhere.")
        if out in seen:
            raise RamancamError(f"{label(attr)} and {label(seen[out])} must name different "
                                f"files; got {value!r} for both. Name another file.")
        seen[out] = attr


def winner_of(means: Mapping[str, float]) -> str:
    """The model with the highest mean accuracy (``train``'s winner line, ``info MODEL``):
    means rounded far below one spectrum, so that 1/3 + 1/3 and 5/12 + 1/4 tie (their
    floating-point sums differ in the last bit); a tie goes to the CNN, else the first."""
    r = {k: round(float(v), 9) for k, v in means.items()}
    return max(r, key=lambda k: (r[k], k == "CNN"))


#: Most frequent predicted classes printed on the ``predicted:`` line.
MAX_COUNTS_SHOWN = 10


def one_line(name: object) -> str:
    """A class name or label as a summary line prints it: a line break in it escaped
    (``line\\nbreak``, as the list of unknown labels shows it), so that the name does not
    split the line for the reader, or the script, that takes it line by line."""
    return str(name).replace("\r", "\\r").replace("\n", "\\n")


def predicted_line(counts: Counter[str]) -> str:
    """The ``predicted:`` line: spectra per predicted class, most frequent first (ties by
    name), the first ``MAX_COUNTS_SHOWN`` of them."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    more = len(ranked) - MAX_COUNTS_SHOWN
    return ("predicted: " + ", ".join(f"{one_line(c)} ({n})"
                                      for c, n in ranked[:MAX_COUNTS_SHOWN])
            + (f" and {more} more class{'es' if more > 1 else ''}" if more > 0 else ""))


class HeldScreen:
    """The screen (``sys.stdout``) for a table of rows, held back until :meth:`release`:
    ``predict`` and ``explain`` without ``--out`` release it once a spectrum is computed,
    so that a run whose every spectrum the model's recipe refuses prints its error alone,
    not a header and rows without numbers above it (as with ``--out``, nothing is
    written). Released, it writes through.

    A table whose names stdout's encoding lacks (``PYTHONIOENCODING=ascii``, a legacy
    locale) is written escaped (:class:`~ramancam.cli._streams.GuardedStream`), as README
    says of printed text, and said once on stderr: 'α-Fe₂O₃' became '\\u03b1-Fe...' with
    status 0 and not a word, and a join on the class names broke."""

    def __init__(self) -> None:
        self._held: list[str] | None = []
        self._said = False

    def write(self, text: str) -> int:
        if self._held is None:
            return self._through(text)
        self._held.append(text)
        return len(text)

    def release(self) -> None:
        """Write the rows held so far, and the rest as they come."""
        if self._held is not None:
            self._through("".join(self._held))
            self._held = None

    def _through(self, text: str) -> int:
        import sys

        n = sys.stdout.write(text)
        if not self._said and getattr(sys.stdout, "escaped", False) is True:
            import warnings

            from ..errors import RamancamWarning

            self._said = True
            warnings.warn(RamancamWarning(
                f"standard output's encoding ({getattr(sys.stdout, 'encoding', None)}) "
                "lacks characters of the table's names, written escaped (as \\xe9 or "
                "\\u03b1), which differ from the names in files. Write the table with --out "
                "FILE (UTF-8), or set PYTHONIOENCODING=utf-8."), stacklevel=2)
        return n


def stale_page(out_dir: Any, name: str, elsewhere: str | None, applies: bool) -> Path | None:
    """Remove ``out_dir/name`` (``report.html`` of predict, ``maps.png`` of explain) that an
    earlier run into the same ``--out DIR`` wrote, when this run wrote its page or figure
    ``elsewhere`` (``--report``, ``--plot``): left, it passed for this run's beside this
    run's table. Returns the path removed, else None. ``applies``: whether this run writes
    that file into the folder at all when given no other place (not for a map's folder)."""
    from ..io._atomic import atomic_remove

    if out_dir is None or elsewhere is None or not applies:
        return None
    old = Path(out_dir) / name
    if not old.is_file() or old.resolve() == Path(elsewhere).resolve():
        return None
    atomic_remove(old)
    return old


#: --out suffixes of predict and explain that name no table: an image, a page, a model.
_NOT_TABLES = {".png": "an image", ".jpg": "an image", ".jpeg": "an image",
               ".pdf": "a figure", ".svg": "a figure", ".html": "a web page",
               ".htm": "a web page", ".ramancam": "a model file", ".json": "a JSON file"}


def check_table_out(path: str | None, figure: str) -> None:
    """Refuse predict's or explain's ``--out`` named as an image, a page or a model: it
    wrote its CSV table under that name (``--out maps.png``: a table, no figure, status 0).
    ``figure``: the option that writes the figure or page the name asks for."""
    from ..errors import RamancamError

    if path is None or Path(path).is_dir() or str(path).endswith(("/", os.sep)):
        return
    kind = _NOT_TABLES.get(Path(path).suffix.lower())
    if kind is not None:
        raise RamancamError(
            f"--out must name a table (.csv, .csv.gz) or a folder; got {path!r}, {kind}'s "
            f"name, under which the table would be written. {figure}")

