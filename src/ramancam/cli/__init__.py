"""The ``ramancam`` command line: ``main(argv=None) -> int``.

Each sub-command lives in its own module of this package (``ramancam.cli.<name>``) that
defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; modules are
discovered automatically. Heavy imports (torch, matplotlib) happen inside ``run`` so that
``ramancam --help`` stays fast.

Expected failures (bad files, bad options) print one line ``error: ...`` to stderr and return
2, without a traceback; set ``RAMANCAM_DEBUG=1`` to see the traceback. What is printed never
costs a command its files (:mod:`ramancam.cli._streams`): a reader that leaves early
(``| head``) ends the printing quietly, not the command, which returns 141; a stdout that is
closed (``>&-``) or fails (``> /dev/full``) is said in one line on stderr once the command
has ended, status 2; a closed stderr takes nothing (its lines never go to stdout).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from .. import __version__
from .._interrupt import INTERRUPTED, TERMINATED, Terminated, commit_allowed
from ._streams import GuardedStream, safe_terminal

# Order in `ramancam --help`; modules not listed come after, alphabetically.
ORDER = ["demo", "info", "convert", "simulate", "train", "predict", "explain", "baseline",
         "reproduce", "benchmark"]


def _commands() -> list[ModuleType]:
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "NAME"):
            mods.append(mod)
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(mods, key=lambda m: (rank.get(m.NAME, len(ORDER)), m.NAME))


#: The exit statuses, as ``ramancam --help`` ends (README: In scripts and pipelines).
EXIT_STATUS = """exit status:
  0    done
  1    a bug: a traceback (please report it)
  2    a usage, input or output error, in one 'error:' line on stderr; also when
       stdout could not be written (closed, full), after the command wrote its files
  130  interrupted (Ctrl-C)
  141  the reader of stdout left early (| head, | grep -q); the files are written
  143  terminated (SIGTERM, e.g. a batch system's time limit)"""


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, but the exit-status table keeps its lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("exit status:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ramancam", formatter_class=_HelpFormatter, epilog=EXIT_STATUS,
        description="Classify Raman spectra with the CNN of Fukuhara et al. (2019) and show "
                    "which bands drove each decision.")
    parser.add_argument("--version", action="version", version=f"ramancam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION",
                                                                            mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run, _parser=p)
    return parser


@contextlib.contextmanager
def _plain_warnings() -> Iterator[None]:
    """ramancam's own warnings as one ``warning:`` line on stderr, each text once (Python
    prints the file and source line of the ``warnings.warn`` call, which mean nothing to a
    user); scikit-learn's rare-class warning of fold splitters the same way, in our words.
    Only the printed form changes: a recorder (``pytest.warns``) still gets the warnings."""
    import warnings

    from ..errors import RamancamWarning
    from ._stdin import spooled

    rare = "The least populated class in y has only"
    glyph = re.compile(r"Glyph (\d+) .* missing from (current )?font")  # 3.8: "current font"
    glyphs_said: list[str] = []
    with warnings.catch_warnings():
        fmt = warnings.formatwarning

        def formatted(message: Any, category: Any, *args: Any, **kw: Any) -> str:
            text = str(message)
            if m := glyph.match(text):  # matplotlib, a line per character and figure
                if glyphs_said:
                    return ""
                glyphs_said.append(text)
                return (f"warning: the plots' font has no glyph for {chr(int(m.group(1)))!r} "
                        "(and maybe other characters of the names), drawn as empty boxes; "
                        "install a font that has them (e.g. Noto Sans CJK) to see them\n")
            if text.startswith(rare):
                return ("warning: a class has fewer spectra (or groups) than folds, so some "
                        f"folds test none of it (scikit-learn: {text.rstrip('.')})\n")
            if issubclass(category, RamancamWarning):
                return f"warning: {spooled.plain(text)}\n"
            return fmt(message, category, *args, **kw)

        warnings.formatwarning = formatted
        warnings.filterwarnings("once", category=RamancamWarning)
        warnings.filterwarnings("once", message=rare)
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (:data:`EXIT_STATUS`: 0 ok, 2 usage,
    input or output error, 130 Ctrl-C, 141 a reader that left early, 143 SIGTERM)."""
    saved = sys.stdout, sys.stderr
    out = GuardedStream(safe_terminal(sys.stdout), 1, own=sys.stdout is sys.__stdout__)
    err = GuardedStream(safe_terminal(sys.stderr), 2, own=sys.stderr is sys.__stderr__)
    sys.stdout, sys.stderr = out, err
    try:
        rc = _main(argv)
        out.flush()  # what a buffered stdout still holds: a reader gone is found here
        if out.reader_left:  # quietly, as a program a pipe cut short (see _main)
            return 141 if rc == 0 else rc
        if out.lost:  # its files are written: say that only the printed output is lost
            print(f"error: could not write to standard output ({out.lost}): the printed "
                  "output was lost" + ("; the command ran to its end (files it writes are "
                                       "written)" if rc == 0 else ""), file=sys.stderr)
            return rc or 2
        return rc
    except KeyboardInterrupt:  # outside the parser's and the command's guards: importing
        print("error: interrupted", file=sys.stderr)  # matplotlib, setting the handlers
        return 130
    finally:
        sys.stdout, sys.stderr = saved
        out.close_sink()
        err.close_sink()


def _main(argv: Sequence[str] | None) -> int:
    try:  # building the parser imports every command's module: Ctrl-C may come here too
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the command's own usage line, not the top-level one
            getattr(args, "_parser", parser).error(
                f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if not getattr(args, "_run", None):  # a usage error: the help goes with it, to stderr
        parser.print_help(sys.stderr)
        return 2
    from ..provenance import command_line

    # as typed (before ~ is expanded), shell-quoted: train records it in the model file
    args.command_line = command_line(sys.argv[1:] if argv is None else argv)
    _expand_home(args)
    from ..errors import RamancamError

    if "matplotlib" not in sys.modules:  # figures go to files: never open a GUI backend
        os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    from ._failures import memory_line, os_error_line  # now: no import once memory ran out
    from ._outputs import new_folders_done, said_once_in_place
    from ._stdin import spooled, stdin_input

    installed, old_term = _stop_on_sigterm()
    old_int = _note_interrupts() if installed else None
    old_hook = sys.unraisablehook
    if installed:
        sys.unraisablehook = _quiet_dropped_stops(old_hook)
    rc = 2
    try:
        # ids and class names from user files go into figures as they are: a "$" in
        # "Fe$_2$O$_3$ 5%" is no maths (nor an error in matplotlib's maths parser)
        # the 'wrote' lines come out once the run has ended well, its outputs in place
        _check_path_names(args)
        with (matplotlib.rc_context({"text.parse_math": False}), _plain_warnings(),
              stdin_input(args), said_once_in_place()):
            rc = int(args._run(args) or 0)
            # a Ctrl-C or SIGTERM Python swallowed (and nothing was put in place after it):
            commit_allowed()  # still an interrupted (terminated) run
            return rc
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("error: terminated", file=sys.stderr)
        return 143  # 128 + SIGTERM
    except BrokenPipeError as exc:  # the reader left (not through GuardedStream); quietly
        leave = getattr(sys.stdout, "_leave", None)
        if leave is not None:  # and keep the exit-time flush of stdout from failing again
            leave(exc)
        return 141  # 128 + SIGPIPE, what a shell reports for a program a pipe cut short
    except (RamancamError, ValueError, TypeError, OSError, MemoryError, RuntimeError,
            ImportError) as exc:
        if os.environ.get("RAMANCAM_DEBUG"):
            raise
        # out of memory (torch's allocator too), or a file the system refused: in words
        msg = memory_line(exc, args)
        if msg is None and isinstance(exc, OSError):
            msg = os_error_line(exc, args)
        if msg is None:
            if not isinstance(exc, (RamancamError, ValueError, TypeError, OSError)):
                raise  # a bug: its traceback
            text = (getattr(exc, "cli", None) or str(exc)).strip()
            msg = text.splitlines()[0] if text else type(exc).__name__
            if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in msg:
                msg = f"{exc.filename}: {msg}"
        print(f"error: {spooled.plain(msg)}", file=sys.stderr)
        return 2
    finally:
        spooled.path = None
        from .train import release_threads

        release_threads()  # --threads limited the BLAS libraries for this command only
        new_folders_done(failed=rc != 0)  # no empty output folder left by a failed run
        if installed:
            sys.unraisablehook = old_hook
            signal.signal(signal.SIGTERM, signal.SIG_DFL if old_term is None else old_term)
            if old_int is not None:  # (None: a handler not set from Python)
                signal.signal(signal.SIGINT, old_int)
        INTERRUPTED.clear()
        TERMINATED.clear()


#: The options and arguments that name a file or folder (``--recipe`` may: FILE.json, MODEL).
_PATHS = ("data", "model", "input", "path", "out", "plot", "report", "pure", "recipe")


def _expand_home(args: argparse.Namespace) -> None:
    """``~`` in the paths, as the shell expands it where it does not (quoted, ``--out=~/x``):
    the readers expanded it where the output checks did not, so that a quoted input was not
    seen to be the ``--out`` that would overwrite it, and ``--out=~/res`` made a folder
    named ``~``."""
    for name in _PATHS:
        value = getattr(args, name, None)
        if isinstance(value, str) and value.startswith("~"):
            setattr(args, name, os.path.expanduser(value))


def _check_path_names(args: argparse.Namespace) -> None:
    """Refuse, before any work, a path that is not UTF-8 text as Python read it (a name
    with 'ö' under ``LC_ALL=C PYTHONUTF8=0``, bytes of another encoding): the names go into
    the outputs written as UTF-8 (the model's record, reports, figures), and predict and
    explain with such a model and a --report failed after the work ("'utf-8' codec can't
    encode characters ...: surrogates not allowed"), train after its whole
    cross-validation, with no model saved; info printed the escaped bytes. The readers
    checked only the spectra files they read."""
    from ..io._text import check_utf8_path

    for name in _PATHS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            check_utf8_path(value, output=name in ("out", "plot", "report"))


def _note_interrupts() -> Any:
    """Ctrl-C as Python's own handler takes it (KeyboardInterrupt), and noted in
    :data:`ramancam._interrupt.INTERRUPTED`: Python drops an exception raised in a weakref
    callback (matplotlib's figure clean-up), and a reproduce run went on to replace the
    earlier results with status 0. No output is put in place once it is set. Returns the
    previous handler."""
    INTERRUPTED.clear()

    def interrupt(signum: int, frame: Any) -> None:
        INTERRUPTED.set()
        raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, interrupt)


def _quiet_dropped_stops(hook: Any) -> Any:
    """``sys.unraisablehook`` that passes over the KeyboardInterrupt (Terminated) of the
    command's own handlers that Python dropped in a weakref or gc callback: it printed
    "Exception ignored in: ..." and a traceback before ``error: interrupted``, though the
    flag it set already stops the run. Anything else goes to ``hook``."""
    def quiet(unraisable: Any) -> None:
        exc = unraisable.exc_value
        if ((isinstance(exc, KeyboardInterrupt) and INTERRUPTED.is_set())
                or (isinstance(exc, Terminated) and TERMINATED.is_set())):
            return
        hook(unraisable)

    return quiet


def _stop_on_sigterm() -> tuple[bool, Any]:
    """Raise :class:`~ramancam._interrupt.Terminated` on SIGTERM while a command runs, and
    note it in :data:`~ramancam._interrupt.TERMINATED`, as Ctrl-C is noted: raised in a
    weakref or gc callback (matplotlib drawing a figure), Python drops it, and the run went
    on to replace the earlier files with status 0. Returns whether the handler was set (not
    off the main thread, where none can be) and the previous one."""
    TERMINATED.clear()

    def stop(signum: int, frame: Any) -> None:
        TERMINATED.set()
        raise Terminated

    try:
        return True, signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (a command run from a worker thread)
        return False, None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
