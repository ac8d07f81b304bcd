"""The standard streams while a command runs: what is printed never costs the command its
files, whatever state stdout and stderr are in (closed, a pipe whose reader left, an
encoding without the characters of a class name); a terminal is shown control characters
from files escaped."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["GuardedStream", "on_terminal", "safe_terminal"]


def _to_devnull(fd: int) -> None:
    """Point the descriptor ``fd`` at ``os.devnull`` (nothing done where that cannot open)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    if null != fd:  # a closed fd may be the number open() gave
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)


def _hold(fd: int) -> None:
    """Point the closed descriptor ``fd`` at ``os.devnull``: a file the command opens later
    would otherwise get its number, and what a library or a child process writes to the
    standard stream (a C++ warning on fd 2) would go into that file."""
    try:
        os.fstat(fd)
    except OSError:
        _to_devnull(fd)


#: The most characters :meth:`GuardedStream.write` passes on in one write (64 KiB: a pipe's).
WRITE_PIECE = 1 << 16


class GuardedStream:
    """``sys.stdout`` or ``sys.stderr`` while a command runs.

    A stream the caller closed (``2>&-``, ``>&-``: Python's stream is then None) is a sink to
    ``os.devnull``: ``print(..., file=None)`` wrote stderr's lines to stdout, into the CSV
    there, and ``sys.stderr.isatty()`` stopped train. Once a write or flush fails (the
    pipe's reader left, ``| head``; a full disk, ``> /dev/full``; an I/O error), the
    stream's descriptor points at ``os.devnull`` and the command runs on to its end, writing
    its files, instead of stopping there (which undid the outputs waiting for the end of
    the run: a whole training lost its model to a full stdout). :func:`ramancam.cli.main`
    then says what was lost (:attr:`lost`) or returns 141 (:attr:`reader_left`).

    Line-buffered whatever it writes to: into a pipe or a file Python buffers stdout in
    blocks, and ``train ... 2>&1 | tee log`` showed the fold lines (stderr) above the header
    printed before them, stdout stayed empty through the whole training, and a job killed
    after the cross-validation table lost it. A flush per line costs a table of 9,000 rows
    written to stdout about 0.04 s (9,000 small writes).
    """

    def __init__(self, stream: Any, fd: int, *, own: bool = True) -> None:
        # own: the interpreter's own sys.stdout/sys.stderr (not a caller's redirect)
        self._own = own
        self._sink = None
        if stream is None:
            _hold(fd)
            stream = self._sink = open(os.devnull, "w", encoding="utf-8")
        self._stream = stream
        self._closed = self._sink is not None
        #: A copy of the descriptor made to point at os.devnull, put back by :meth:`end`
        #: for a caller's own stream (main() called in a program, whose file this is).
        self._saved_fd: tuple[int, int] | None = None
        #: Why what is written here is lost (e.g. ``"it is closed"``); None while it arrives.
        self.lost: str | None = None
        #: Whether the reader of the pipe left (``| head``): lost quietly, status 141.
        self.reader_left = False
        #: Whether text was written escaped (:func:`_escaped`): the encoding lacks a character.
        self.escaped = False

    def _leave(self, exc: BaseException) -> None:
        """Stop writing here after ``exc``: the descriptor points at ``os.devnull`` (what
        the stream still buffers goes there at exit, not into the error again)."""
        if isinstance(exc, BrokenPipeError):
            self.reader_left = True
        elif self.lost is None:
            self.lost = (getattr(exc, "strerror", None) or str(exc)
                         if isinstance(exc, OSError) else "it is closed")
        if self._saved_fd is not None:
            return  # pointed at os.devnull already
        try:
            fd = self._stream.fileno()
            # the interpreter's own stream ends with this process: its exit-time flush goes
            # to os.devnull; a caller's own file gets its descriptor back at the end
            saved = None if self._own else os.dup(fd)
            _to_devnull(fd)
            if saved is not None:
                self._saved_fd = (fd, saved)
        except (OSError, ValueError, AttributeError):
            pass

    @property
    def _gone(self) -> bool:
        """Whether writing here has failed: what comes is dropped."""
        return self.reader_left or (self.lost is not None and not self._closed)

    def write(self, text: str) -> int:
        if self._closed and text and self.lost is None:
            self.lost = "it is closed"
        # In pieces: one write of megabytes into a pipe whose reader left during it (the
        # held rows of predict or explain, | head -c 10) failed without an error, and the
        # run ended with status 0 instead of 141; the piece after the reader left fails.
        for at in range(0, len(text), WRITE_PIECE):
            if self._gone:
                break
            piece = text[at:at + WRITE_PIECE]
            try:
                try:
                    self._stream.write(piece)
                except UnicodeEncodeError:  # a class name the stream's encoding lacks
                    self.escaped = True
                    self._stream.write(_escaped(piece, self._stream))
            except (OSError, ValueError) as exc:  # a full disk, EIO, a stream closed
                self._leave(exc)
        if "\n" in text or "\r" in text:  # line-buffered, as on a terminal (see class doc)
            self.flush()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._leave(exc)

    def close_sink(self) -> None:
        """The command has ended: close the devnull sink of a closed stream, and give a
        caller's own stream its descriptor back (main() called in a program)."""
        if self._sink is not None:
            self._sink.close()
        if self._saved_fd is not None:
            fd, saved = self._saved_fd
            self._saved_fd = None
            try:
                os.dup2(saved, fd)
            except OSError:
                pass
            finally:
                os.close(saved)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _escaped(text: str, stream: Any) -> str:
    """``text`` with what the encoding of ``stream`` cannot write escaped (``\\u03b1``):
    with ``PYTHONIOENCODING=latin-1`` or a legacy locale, a class name such as 'α-Fe₂O₃'
    stopped predict, explain and info with a codec error, and 'predict --out F' undid F
    after saying it wrote it. Files are written in UTF-8 and keep the names as they are."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    return text.encode(encoding, "backslashreplace").decode(encoding)


#: Control characters a terminal acts on (C0 but tab, newline and the carriage return that
#: progress bars redraw with; DEL; C1), shown escaped: a class name or label from a file must
#: not send escape sequences (set the title, clear the screen, move the cursor).
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20),
                                          0x7f, *range(0x80, 0xa0))}


class _TerminalSafe:
    """A text stream for a terminal that shows control characters escaped (files and pipes
    get the text as it is: only a terminal interprets them)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text.translate(_CONTROL))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def safe_terminal(stream: Any) -> Any:
    """``stream`` wrapped by :class:`_TerminalSafe` when it is a terminal, else itself."""
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return _TerminalSafe(stream) if tty else stream


def on_terminal(stream: Any) -> bool:
    """Whether what is written to ``stream`` (``sys.stdout`` while a command runs: a
    :class:`GuardedStream` around :func:`safe_terminal`'s) reaches a terminal. The line
    breaks :data:`_CONTROL` leaves alone for the program's own lines are then for its
    writers to escape inside data fields (a label's ``\\r``)."""
    for _ in range(4):  # GuardedStream > _TerminalSafe > the stream
        if isinstance(stream, _TerminalSafe):
            return True
        stream = vars(stream).get("_stream") if hasattr(stream, "__dict__") else None
        if stream is None:
            return False
    return False
