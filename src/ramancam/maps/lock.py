"""One run at a time on a result store of :mod:`ramancam.scale`.

:func:`claim` holds a store for a run's whole duration: a lock file beside it,
``.<name>.lock`` in the store's folder (created exclusively; it names the host, process and
start of the run), taken before the store is looked at or made and removed when the run
ends, also on an error, Ctrl-C or SIGTERM. A second run that finds it is refused; the lock
of a run that was killed (same host: its process gone, or its pid now another process's,
told by the process start the lock records on Linux) is taken over, and the store resumed
as after any stop. The Dask workers of the run that holds it write into the store freely.

:func:`make_store` records in the claim that this run made the store: a run that fails
before any tile removes only a store it made itself (``ramancam.cli._scale``), never one
another run made.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import RamancamError
from ..provenance import utc_now

__all__ = ["Claim", "claim", "claimed", "holds", "lock_path", "make_store"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Claim:
    """A run's hold on its result store ``store``; ``made``: this run created the store."""

    store: Path
    made: bool = False


#: The claims of the runs of this process, by thread and the store's resolved path (a run's
#: Dask threads make no store).
_CLAIMS: dict[tuple[int, str], Claim] = {}


def _key(store: str | os.PathLike[str]) -> tuple[int, str]:
    return threading.get_ident(), str(Path(store).resolve())


def lock_path(store: str | os.PathLike[str]) -> Path:
    """The lock file of the result store ``store``: ``.<name>.lock`` beside it."""
    out = Path(store).resolve()
    return out.parent / f".{out.name}.lock"


@contextmanager
def claim(store: str | os.PathLike[str]) -> Iterator[Claim]:
    """Hold the result store ``store`` for the block (its lock file); a claim inside a
    claim of the same store (the command line around :func:`ramancam.scale.run`) is the
    outer one.

    Raises
    ------
    RamancamError
        If another run holds the store.
    """
    key = _key(store)
    held = _CLAIMS.get(key)
    if held is not None:
        yield held
        return
    held = _CLAIMS[key] = Claim(Path(store))
    taken = None
    try:
        taken = _take(Path(key[1]), Path(store))
        yield held
    finally:
        del _CLAIMS[key]
        if taken is not None:
            _give_back(*taken)


def claimed(func: F) -> F:
    """``func(job, ...)`` run inside :func:`claim` of ``job.out``."""
    @functools.wraps(func)
    def wrapper(job: Any, *args: Any, **kwargs: Any) -> Any:
        with claim(job.out):
            return func(job, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


def holds(store: str | os.PathLike[str]) -> bool:
    """Whether the run of this thread holds the result store ``store`` (:func:`claim`)."""
    return _key(store) in _CLAIMS


def make_store(store: str | os.PathLike[str]) -> None:
    """Create the folder of a new result store, which must not exist: two runs that both
    found no store made it once, the second refused (it went on into the first's store)."""
    held = _CLAIMS.get(_key(store))
    if held is not None:
        held.made = True  # before the folder: a stop between the two leaves none behind
    try:
        Path(store).mkdir()
    except FileExistsError:
        if held is not None:
            held.made = False
        raise RamancamError(
            f"--out must not be written by two runs at once; got {str(store)!r}, made by "
            "another run meanwhile. Wait for that run to end and run the same command "
            "again to resume, or choose another --out.") from None


def _read(lock: Path) -> dict[str, Any] | None:
    """The run a lock file names, or None when it cannot be read (gone, or being written)."""
    try:
        rec = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = (isinstance(rec, dict) and isinstance(rec.get("pid"), int)
          and all(isinstance(rec.get(k), str) for k in ("host", "tag", "started", "token")))
    return rec if ok else None


def _gone(rec: dict[str, Any], store: str) -> bool:
    """Whether the run of a lock record has ended without removing it (killed): a process
    of this host (and process namespace) that no longer exists. One of another host, or on
    Windows (no process can be probed there without stopping it), is never taken for gone."""
    from ..io._atomic import _alive, _host

    if os.name == "nt" or rec["tag"] != _host():
        return False
    if rec["pid"] == os.getpid():  # this process: a run of another of its threads, or none
        me = threading.get_ident()
        return not any(path == store and t != me for t, path in list(_CLAIMS))
    return not _alive(rec["pid"]) or _pid_reused(rec)


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` began, in clock ticks since boot (Linux ``/proc``: field 22 of
    its ``stat``, which no clock setting moves); ``None`` elsewhere or when unreadable."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _pid_reused(rec: dict[str, Any]) -> bool:
    """Whether the pid of a lock record now belongs to another process than the run that
    wrote it (killed since): the process's start, recorded in the lock (``ticks``, Linux),
    differs from that of the process with the pid now. Without a recorded start (another
    system, a lock of an older ramancam) or a readable one now: False, the lock is kept."""
    ticks = rec.get("ticks")
    now = _start_ticks(rec["pid"]) if isinstance(ticks, int) else None
    return now is not None and now != ticks


def _held_line(store: Path, lock: Path, rec: dict[str, Any] | None) -> str:
    from ..io._atomic import _host

    if rec is None:
        return (f"--out {store} is locked by {lock}, which cannot be read (a run stopped "
                f"while it wrote it); if no ramancam run writes --out, delete {lock} and run "
                "again.")
    if rec["tag"] != _host():
        return (f"another ramancam run (host {rec['host']}, pid {rec['pid']}, started at "
                f"{rec['started']}) is writing --out {store}; wait for it to end, or choose "
                f"another --out. If that run is gone, delete {lock} and run again.")
    return (f"another ramancam run (pid {rec['pid']}, started at {rec['started']}) is writing "
            f"--out {store}; wait for it to end, or choose another --out. If no ramancam run "
            f"has pid {rec['pid']}, delete {lock} and run again.")


def _take_over(lock: Path, seen: dict[str, Any]) -> None:
    """Remove the lock of a killed run, ``seen``: moved aside first, so that of two runs
    taking it over at once one removes it, and a new run's lock moved aside by mistake
    (taken meanwhile) is put back."""
    aside = lock.with_name(f"{lock.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.stale")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return  # the other one's
    try:
        if _read(aside) != seen:
            _quietly(os.link, aside, lock)
    finally:
        aside.unlink(missing_ok=True)


def _quietly(func: Callable[..., Any], *args: Any) -> None:
    """``func(*args)``, an OSError ignored (what it would remove is in use, or gone)."""
    try:
        func(*args)
    except OSError:
        pass


def _take(store: Path, shown: Path) -> tuple[Path, str, bool] | None:
    """Create the lock file of ``store`` (resolved; ``shown``: as the run was given it);
    returns it, its token and whether its folder was made for it (None: no folder to hold
    it, which :func:`ramancam.scale.prepare_output` refuses)."""
    from ..io._atomic import _host

    lock, folder = lock_path(store), store.parent
    token = uuid.uuid4().hex
    rec: dict[str, Any] = {"host": socket.gethostname(), "tag": _host(), "pid": os.getpid(),
                           # UTC with its zone: a run on another host may keep another one
                           "started": utc_now(), "token": token}
    if (ticks := _start_ticks(os.getpid())) is not None:
        rec["ticks"] = ticks  # this process's start: a later process given its pid differs
    made_folder = False
    other = None
    for _ in range(100):  # about 2 s of a lock file being written, then named unreadable
        if not folder.is_dir():
            if not folder.parent.is_dir():
                return None
            _quietly(folder.mkdir)
            made_folder = folder.is_dir()
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            other = _read(lock)
            if other is None:  # being written this instant, or gone meanwhile
                time.sleep(0.02)
                continue
            if _gone(other, str(store)):
                _take_over(lock, other)
                continue
            raise RamancamError(_held_line(shown, lock, other)) from None
        except FileNotFoundError:  # the folder removed meanwhile (by a run that made it)
            continue
        except OSError as exc:
            _not_made(lock, shown, made_folder, exc, made=False)
            raise RamancamError(
                f"--out must be in a folder this run can write; got {str(shown)!r}, whose "
                f"lock {lock} cannot be made ({exc.strerror or exc}). Choose another "
                "--out.") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(rec, f)
        except BaseException as exc:
            _not_made(lock, shown, made_folder, exc, made=True)
            raise
        return lock, token, made_folder
    raise RamancamError(_held_line(shown, lock, other))


def _not_made(lock: Path, shown: Path, made_folder: bool, exc: BaseException, *,
              made: bool) -> None:
    """Leave nothing of a lock file that could not be made or written (``made``: it was
    created, empty or cut short: left, it would lock out the next run), nor the folder made
    for it; a disk with no room for it (:func:`ramancam.io.zarr_cube.no_room`, which said a
    bare 'no space left on the device') is raised in one line naming the lock and store."""
    from ..io.zarr_cube import no_room

    if made:
        lock.unlink(missing_ok=True)
    if made_folder:
        _quietly(lock.parent.rmdir)
    if (full := no_room(exc)) is not None:
        raise RamancamError(
            f"lock file {lock} of result store {str(shown)!r} could not be written: "
            f"{full[0]}; no run began and nothing was left behind. {full[1]}, then run the "
            "same command again.") from None


def _give_back(lock: Path, token: str, made_folder: bool) -> None:
    """Remove this run's lock file (not one another run took over since), and the folder
    made for it when nothing else is in it."""
    rec = _read(lock)
    if rec is not None and rec["token"] == token:
        lock.unlink(missing_ok=True)
    if made_folder:
        _quietly(lock.parent.rmdir)
