"""Atomic file writing: a temp file in the target's folder, ``os.replace``d on success."""

from __future__ import annotations

import contextvars
import errno
import functools
import gzip as _gzip
import hashlib
import io
import os
import re
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, cast

from .._interrupt import commit_allowed
from ..errors import RamancamError

__all__ = ["atomic_group", "atomic_remove", "atomic_write", "gz_name", "not_a_file",
           "pending_path", "scratch_copy", "sweep_leftovers", "temp_prefix", "write_target"]

_MODES = ("w", "wt", "wb")


def _default_permissions() -> int:
    # mkstemp creates 0600 files; give the result the permissions a plain open() would have.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _permissions(target: Path) -> int:
    """The permissions of the file that replaces ``target``: those ``target`` has, when it
    exists (a predictions file kept 0600 became 0644 when a run rewrote it), else those a
    plain ``open()`` would give."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except OSError:
        return _default_permissions()


#: The finished files of the :func:`atomic_group` in force: (temporary file, target).
_GROUP: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "ramancam_atomic_group", default=None)


#: (staging folder, the output it becomes) of the :func:`staged_as` in force.
_STAGED: contextvars.ContextVar[tuple[Path, Path] | None] = contextvars.ContextVar(
    "ramancam_staged_as", default=None)


@contextmanager
def staged_as(staging: Path, final: Path) -> Iterator[None]:
    """Inside the block, messages name a file written in the hidden ``staging`` folder (a
    reproduce run's, renamed to ``final`` at its end) by the output it becomes: they named
    ``x/.y.<host>-<pid>.<random>.partial/fig2_size.png``, a folder removed right after."""
    token = _STAGED.set((staging, final))
    try:
        yield
    finally:
        _STAGED.reset(token)


def _shown(path: Path) -> Path:
    """``path`` as a message names it (:func:`staged_as`)."""
    staged = _STAGED.get()
    if staged is not None:
        try:
            return staged[1] / path.relative_to(staged[0])
        except ValueError:
            pass
    return path


def file_in_the_way(folder: Path) -> Path | None:
    """The file that stands where ``folder`` (missing) or the nearest of its parents that
    exists should be a folder (``afile`` for ``afile/sub``), or ``None``."""
    first = next((q for q in (folder, *folder.parents) if q.exists()), None)
    return first if first is not None and not first.is_dir() else None


@contextmanager
def atomic_group() -> Iterator[None]:
    """Make the files :func:`atomic_write` writes inside the block replace their targets
    together, when the block ends without an exception; on one, none of them does.

    A command's outputs are a set (a model and its report, predictions beside their images
    and page): each written atomically, an interrupted run still left a new model beside the
    earlier run's report. Inside a group each finished file waits under its temporary name
    (:func:`pending_path` finds it) until the block ends, then all are renamed in a row. A
    group inside a group is part of the outer one.
    """
    if _GROUP.get() is not None:
        yield
        return
    pending: list[tuple[Path, Path]] = []
    token = _GROUP.set(pending)
    try:
        yield
        commit_allowed()  # a Ctrl-C Python swallowed: none of them is put in place
    except BaseException:
        for tmp, target in pending:
            if tmp != target:  # a finished file waiting; an atomic_remove's target stays
                tmp.unlink(missing_ok=True)
        raise
    finally:
        _GROUP.reset(token)
    _commit(pending)


def _commit(pending: list[tuple[Path, Path]]) -> None:
    """Put the files of a group in place (``(temp file, target)``; ``tmp == target``: an
    earlier run's file to remove), all or none: each earlier file is kept aside under a
    hidden name until every rename has succeeded. A rename that failed (an immutable file,
    a folder without write permission) left the files renamed before it beside the earlier
    run's others, and the temp files of those after it; now those done are undone (each
    target gets its earlier file back, or none where it had none), every temp file is
    removed and the failure is said by the file's own name. An earlier file that could not
    be put back stays aside, and is named (:func:`_put_back`)."""
    done: list[tuple[Path, Path | None]] = []  # (target, its earlier file kept aside)
    failed: tuple[Path, OSError, str] | None = None  # (target, the error, its action)
    try:
        for tmp, target in pending:
            remove = tmp == target
            aside = _aside(target)
            if aside is None and remove:
                continue
            try:
                if remove:
                    done.append((target, aside))  # before the rename: undone if cut short
                    os.replace(target, cast(Path, aside))
                    continue
                if aside is not None:  # the target stays in place until replaced
                    _keep_copy(target, aside)
                done.append((target, aside))  # only a whole copy may be put back
                os.replace(tmp, target)
            except OSError as exc:
                if done and done[-1][0] == target:  # this one's rename failed: as it was
                    done.pop()
                    if aside is not None and not remove:
                        aside.unlink(missing_ok=True)
                failed = (target, exc, "removed" if remove else "replaced")
                break
    except BaseException:  # also a Ctrl-C between two renames: none of them
        _drop_temps(pending)
        if lost := _undo(done):
            import warnings

            from ..errors import RamancamWarning

            warnings.warn(RamancamWarning(f"the run was stopped, and {lost}"), stacklevel=4)
        raise
    if failed is not None:
        _drop_temps(pending)
        raise _not_in_place(*failed, group=True, lost=_undo(done)) from None
    for _, aside in done:
        if aside is not None:
            aside.unlink(missing_ok=True)


def _drop_temps(pending: list[tuple[Path, Path]]) -> None:
    """Remove the finished temp files of a group that is not put in place."""
    for tmp, target in pending:
        if tmp != target:
            tmp.unlink(missing_ok=True)


def _aside(target: Path) -> Path | None:
    """A free hidden name beside ``target`` for its earlier file (:func:`temp_prefix`, so
    that a killed run's is swept), or ``None`` when there is no file at ``target``."""
    if not os.path.lexists(target):
        return None
    while True:
        aside = target.with_name(f"{temp_prefix(target.name)}{os.urandom(4).hex()}.old")
        if not os.path.lexists(aside):
            return aside


def _keep_copy(target: Path, aside: Path) -> None:
    """Keep the file at ``target`` as ``aside`` too: a hard link (the same file, nothing
    copied), or a copy where the file system has none (exFAT, SMB). The copy is made under
    a name of its own and renamed to ``aside`` when whole: a Ctrl-C part-way through it left
    1,000 of 1,200,000 bytes as ``aside``, which the undo then put in the target's place."""
    try:
        os.link(target, aside)
        return
    except OSError:
        pass
    part = aside.with_name(aside.name + ".part")
    try:
        shutil.copy2(target, part)
        os.replace(part, aside)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _undo(done: list[tuple[Path, Path | None]]) -> str:
    """Give the targets of ``done`` their earlier files back, last first (a failure here
    must not hide the one being said). Returns ``""``, or what could not be undone: an
    earlier file that could not be renamed back is kept aside (deleting it lost the only
    copy), and named."""
    lost: list[str] = []
    for target, aside in reversed(done):
        problem = _put_back(target, aside)
        if problem:
            lost.append(problem)
    done.clear()
    if not lost:
        return ""
    return ("; ".join(lost) + "; the other outputs are as they were, and nothing else was "
            "left behind. Move it back by hand before the next run (which removes such "
            "hidden files).")


def _put_back(target: Path, aside: Path | None) -> str:
    """Undo one rename of :func:`_commit`: ``""``, or what went wrong, naming the file."""
    try:
        if aside is None:
            target.unlink(missing_ok=True)
        else:
            os.replace(aside, target)
    except OSError as exc:
        if aside is None:
            return (f"the new {str(_shown(target))!r} could not be removed again "
                    f"({exc.strerror or exc})")
        if os.path.lexists(aside) and not _same_file(aside, target):
            return (f"the earlier {str(_shown(target))!r} could not be put back "
                    f"({exc.strerror or exc}): it is kept as {str(_shown(aside))!r}")
    if aside is not None:  # a hard link of the target itself is not renamed: removed
        with suppress(OSError):
            aside.unlink(missing_ok=True)
    return ""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _not_in_place(target: Path, exc: OSError, action: str, *, group: bool,
                  lost: str = "") -> RamancamError:
    """The error for an output that could not be ``action`` (``replaced``, ``removed``) at
    the end of its write: by its own name (the message named the hidden temp file), the
    cause and what to do; ``lost``: what of the group's other outputs could not be undone
    (:func:`_undo`), said instead of 'no output was changed'."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = ("Check the file's and its folder's permissions (an immutable file: "
               "lsattr, chattr -i), or write elsewhere.")
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "Free space, or write elsewhere."
    else:
        fix = "Check the file and its folder, or write elsewhere."
    if lost:
        return RamancamError(f"{str(_shown(target))!r} could not be {action}: "
                             f"{exc.strerror or exc}; {lost} {fix}")
    kept = ("no output was changed (the earlier files are as they were) and "
            if group else "")
    return RamancamError(
        f"{str(_shown(target))!r} could not be {action}: {exc.strerror or exc}; {kept}"
        f"nothing was left behind. {fix}")


def atomic_remove(path: str | os.PathLike[str]) -> None:
    """Remove an earlier run's output file: at once, or, inside an :func:`atomic_group`,
    when the group's files are put in place (an interrupted run keeps it, with the rest of
    the earlier run's outputs)."""
    p = Path(path)
    if (pending := _GROUP.get()) is None:
        p.unlink(missing_ok=True)
    else:
        pending.append((p, p))


def pending_path(path: str | os.PathLike[str]) -> Path:
    """Where the content of ``path`` is now: its temporary file while an
    :func:`atomic_group` has not yet put it in place, else ``path`` itself."""
    p = Path(path)
    for tmp, target in reversed(_GROUP.get() or []):
        if tmp != target and os.path.realpath(target) == os.path.realpath(p):
            return tmp
    return p


def not_a_file(path: str | os.PathLike[str]) -> str | None:
    """What an existing ``path`` (a link: what it points to) is when it is neither a regular
    file nor a folder: ``"device"``, ``"FIFO (named pipe)"``, ``"socket"``, ``"link that
    leads to itself"``; else None (also when nothing is there). Such a path cannot take an
    output, which replaces its target by a rename: ``--out /dev/null`` as root turned the
    machine's /dev/null into a regular file, and a FIFO's reader waited for ever."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return "link that leads to itself" if exc.errno == errno.ELOOP else None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    return "socket" if stat.S_ISSOCK(mode) else "special file"


def write_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` replaces: for a symbolic link the file it points to (the
    link stays a link, as with the shell's ``>``), else ``path`` itself."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


@functools.cache
def _host() -> str:
    """This machine and process namespace, as a tag: a hash of the whole host name and of
    the PID namespace (containers on one host, or sharing one name, each count alone), so
    that a sweep never takes another's process numbers for its own. Worked out once: every
    file written names it."""
    try:
        ns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        ns = ""
    return hashlib.sha1(f"{socket.gethostname()}|{ns}".encode()).hexdigest()[:12]


def temp_prefix(name: str) -> str:
    """The start of the name of a temporary file or folder written for the output ``name``:
    ``.<name>.<host>-<pid>.``, so that a later run can tell the leftovers of a killed run
    (:func:`sweep_leftovers`) from those of a run still going."""
    return f".{_short(name)}.{_host()}-{os.getpid()}."


#: Bytes of an output's name kept in its temporary name: with the host, process and random
#: parts (about 45 bytes) it stays within the 255 bytes file systems allow a name.
_NAME_BYTES = 180


def _short(name: str) -> str:
    """``name``, or for a long one (a temporary name 35 bytes longer failed only after the
    work was done) its start and a digest of the whole."""
    if len(name.encode("utf-8", "surrogateescape")) <= _NAME_BYTES:
        return name
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    head = name.encode("utf-8", "surrogateescape")[:_NAME_BYTES - 13]
    return head.decode("utf-8", "ignore") + "~" + digest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, say: alive
        return True
    return True


def sweep_leftovers(folder: str | os.PathLike[str], name: str) -> list[Path]:
    """Remove what a killed run left of its temporary outputs for ``name`` in ``folder``.

    An interrupted run removes its temporary file or folder itself; a killed one
    (``kill -9``, the machine's out-of-memory killer, a lost session) cannot. Its leftovers
    are named by :func:`temp_prefix`; those of a process of this host that no longer
    exists are removed (a run still going, or one on another host sharing the folder,
    is left alone). Returns what was removed. Nothing is removed on Windows, where a
    process cannot be probed without being stopped.
    """
    if os.name == "nt":
        return []
    pattern = re.compile(rf"\.{re.escape(_short(name))}\.{re.escape(_host())}-(\d+)\.[^/]*$")
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def gz_name(path: str | os.PathLike[str] | None) -> bool:
    """Whether an output named ``path`` is to be gzipped: its name ends in ``.gz`` (any
    case). The one rule every text output of this package follows."""
    return path is not None and str(path) != "" and Path(path).name.lower().endswith(".gz")


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *, gzip: bool = False,
                 encoding: str = "utf-8", newline: str | None = None,
                 compresslevel: int = 6) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it is either written completely or not at all.

    The data go to a temporary file in the same folder (so the final rename never crosses
    file systems); when the ``with`` block ends without an exception the temporary file is
    flushed, synced and moved over ``path`` with :func:`os.replace`. On an exception it is
    removed and ``path`` is left as it was. The new file gets the permissions of the file
    it replaces (a new one those of ``open()``); a hard link to the old file keeps the old
    content. A symbolic link ``path`` is followed: the file it points to is replaced, the
    link stays. A device, FIFO or socket is refused.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.
    mode : {"w", "wt", "wb"}
        Text (``"w"``/``"wt"``) or binary (``"wb"``) writing.
    gzip : bool
        Compress what is written with gzip (the caller decides, e.g. from a ``.gz`` suffix).
    encoding : str
        Text encoding for text modes.
    newline : str, optional
        Passed to the text wrapper (``""`` for the :mod:`csv` module).
    compresslevel : int
        Gzip level; 6 (zlib's default) is several times faster than gzip's 9 for a few
        per cent larger files.

    Yields
    ------
    file object
        A text or binary file to write to.

    Raises
    ------
    RamancamError
        If ``mode`` is not a write mode, the target folder does not exist, or ``path`` is a
        folder, a device, a FIFO or a socket.
    """
    if mode not in _MODES:
        raise RamancamError(
            f"mode must be one of {', '.join(map(repr, _MODES))}; got {mode!r}. "
            "atomic_write only writes whole files.")
    target = write_target(path)
    folder = target.parent
    if kind := not_a_file(target):
        raise RamancamError(f"{str(path)!r} must be a regular file to write; got a {kind}. "
                            "Name a file: outputs are written whole and renamed into place, "
                            f"which would replace the {kind.split(' (')[0]}.")
    if not folder.is_dir():
        if (first := file_in_the_way(folder)) is not None:  # creating the folder: no fix
            raise RamancamError(
                f"the folder of {str(_shown(target))!r} must be a folder; got the file "
                f"{str(_shown(first))!r}. Name another folder.")
        raise RamancamError(
            f"the folder of {str(_shown(target))!r} must exist; got no folder "
            f"{str(_shown(folder))!r}. Create it first.")
    if target.is_dir():
        raise RamancamError(f"{str(_shown(target))!r} must be a file to write; got a folder "
                            "of that name. Name another file.")
    try:
        sweep_leftovers(folder, target.name)
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=temp_prefix(target.name),
                                        suffix=".tmp")
    except OSError as exc:  # named by the file asked for, not the hidden temp file
        raise RamancamError(
            f"{str(_shown(target))!r} must be in a folder you can write to; got "
            f"{exc.strerror or exc} in {str(_shown(folder))!r}. Write it elsewhere.") from None
    tmp = Path(tmp_name)
    raw: IO[bytes] = os.fdopen(fd, "wb")
    gz: _gzip.GzipFile | None = None
    text: io.TextIOWrapper | None = None
    try:
        binary: IO[bytes] = raw
        if gzip:
            # mtime=0 keeps the output byte-identical from run to run.
            gz = _gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                compresslevel=compresslevel)
            binary = cast(IO[bytes], gz)
        if mode != "wb":
            text = io.TextIOWrapper(binary, encoding=encoding, newline=newline)
            yield text
            # detach, not close: closing the wrapper would close the file below it too early.
            text.flush()
            text.detach()
            text = None
        else:
            yield binary
        if gz is not None:
            gz.close()  # writes the gzip trailer into raw (which stays open)
            gz = None
        raw.flush()
        os.fsync(raw.fileno())
        raw.close()
        os.chmod(tmp, _permissions(target))
        commit_allowed()
        if (pending := _GROUP.get()) is None:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise _not_in_place(target, exc, "replaced", group=False) from None
        else:  # put in place with the group's other files (atomic_group)
            pending.append((tmp, target))
    except BaseException as exc:
        for layer in (text, gz, raw):
            if layer is None:
                continue
            try:
                if isinstance(layer, io.TextIOWrapper):
                    layer.detach()
                else:
                    layer.close()
            except Exception:
                pass
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # a full disk, a file size limit: name the file asked for, and what to do
            raise RamancamError(
                f"{str(_shown(target))!r} could not be written: {exc.strerror or exc}; "
                "nothing was left behind. Free space, or write it elsewhere.") from None
        raise


@contextmanager
def scratch_copy(path: Path | None, source: str) -> Iterator[Callable[[Any], None]]:
    """A function that appends the bytes of an array (C order) to the scratch file ``path``
    (``convert``'s float32 copy of a text map's spectra, read back tile by tile; ``None``:
    the function does nothing). Each write goes to the file at once (``os.write``): numpy's
    ``tofile`` said a full disk as '307200 requested and 172032 written', and a file size
    limit not at all (the copy was cut short, its read-back failed to reshape). A failed
    write is said by the file, the cause and the fix."""
    if path is None:
        yield lambda values: None
        return
    written = 0

    def failed(exc: OSError) -> RamancamError:
        fix = ("Raise the file size limit (ulimit -f)" if exc.errno == errno.EFBIG else
               "Free space on its disk" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else
               "Check its folder")
        return RamancamError(
            f"{source!r} is copied as float32 to the scratch file {str(path)!r} to be read "
            f"back tile by tile, which could not be written: {exc.strerror or exc} (after "
            f"{written / 1e6:.1f} MB). {fix}, or write OUT to a disk with room (the copy "
            "takes 4 bytes per intensity, and is removed at the end).")

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise failed(exc) from None

    def put(values: Any) -> None:
        nonlocal written
        data = memoryview(values).cast("B")
        try:
            while data:
                n = os.write(fd, data)
                data, written = data[n:], written + n
        except OSError as exc:
            raise failed(exc) from None

    try:
        yield put
    finally:
        os.close(fd)
