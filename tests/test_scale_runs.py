"""Two tiled runs (:mod:`ramancam.scale`) on one result store: a refused run leaves the other
run's store, and a lock beside the store lets one run at a time write it."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("zarr")

from ramancam.cli import main
from test_scale import novelty_map as novelty_map  # the module's fixture, used here

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_refused_run_leaves_the_store_another_run_made(novelty_map, tmp_path, monkeypatch,
                                                         capsys):
    # run B (--bf16) began while the store did not exist; run A made it before B's
    # prepare_output, which refused it (other settings): B's error path deleted A's store
    import ramancam.scale as scale

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "race.zarr"
    real = scale.prepare_output

    def other_run_first(job):  # run A, between B's start and B's prepare_output
        other = threading.Thread(target=real, args=(replace(job, bf16=False),))
        other.start()
        other.join()
        return real(job)

    monkeypatch.setattr(scale, "prepare_output", other_run_first)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out),
                 "--bf16"]) == 2
    assert "differs in bf16" in capsys.readouterr().err
    assert (out / "done").is_dir()  # run A's store, kept
    monkeypatch.setattr(scale, "prepare_output", real)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0


def test_a_store_made_by_another_run_meanwhile_is_refused(tmp_path):
    # both runs found no store; the second one's zarr.open_group(mode="w") went on into it
    from ramancam.errors import RamancamError
    from ramancam.maps.lock import claim, make_store

    store = tmp_path / "s.zarr"
    with claim(store) as held:
        store.mkdir()  # the other run's
        with pytest.raises(RamancamError, match=r"^--out must not be written by two runs at "
                                                r"once; got .*s\.zarr', made by another run"):
            make_store(store)
        assert not held.made
        assert store.is_dir()


def _no_lock(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith((".lock", ".stale"))]


def _lock_of(store):
    from ramancam.maps.lock import lock_path

    return lock_path(store)


def test_a_second_run_on_a_store_being_written_is_refused(novelty_map, tmp_path,
                                                          monkeypatch, capsys):
    # run B, started while run A was writing the store, resumed into it (both wrote its
    # tiles), or took A's store in the making for a damaged one ("Remove it and run again")
    import os

    import ramancam.scale as scale
    from ramancam.scale import MapJob

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "race.zarr"
    real = scale.prepare_output
    made, go_on = threading.Event(), threading.Event()

    def paused(job):
        got = real(job)
        if threading.current_thread().name == "run A":
            made.set()
            go_on.wait(60)
        return got

    monkeypatch.setattr(scale, "prepare_output", paused)
    done = []
    a = threading.Thread(name="run A", target=lambda: done.append(scale.run(MapJob(
        "predict", str(model_path), str(cube_path), str(out)))))
    a.start()
    try:
        assert made.wait(60)
        assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 2
    finally:
        go_on.set()
        a.join()
    err = capsys.readouterr().err
    assert re.fullmatch(rf"error: another ramancam run \(pid {os.getpid()}, started at "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) "  # UTC
                        rf"is writing --out {re.escape(str(out))}; wait for it to "
                        rf"end, or choose another --out\. If no ramancam run has pid "
                        rf"{os.getpid()}, delete {re.escape(str(_lock_of(out)))} and run "
                        r"again\.\n", err), err
    assert done and done[0].computed == done[0].n_tiles  # A's run, whole
    assert _no_lock(tmp_path) == []


def _python(tmp_path, code):
    """A Python process running ``code`` with this checkout's ramancam."""
    import os
    import subprocess
    import sys

    import ramancam

    env = {**os.environ, "PYTHONPATH": str(Path(ramancam.__file__).parents[1])}
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


def test_a_store_locked_by_a_live_process_is_refused_and_a_killed_ones_taken_over(
        novelty_map, tmp_path, capsys):
    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    other = _python(tmp_path, "import sys\nfrom ramancam.maps.lock import claim\n"
                              f"with claim({str(store)!r}):\n"
                              "    print('held', flush=True)\n    sys.stdin.read()\n")
    try:
        assert other.stdout.readline() == "held\n"
        argv = ["predict", str(model_path), str(cube_path), "--out", str(out)]
        assert main(argv) == 2
        assert re.fullmatch(rf"error: another ramancam run \(pid {other.pid}, started at "
                            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) "  # UTC
                            rf"is writing --out {re.escape(str(store))}; wait for "
                            rf"it to end, or choose another --out\. If no ramancam run has pid "
                            rf"{other.pid}, delete {re.escape(str(_lock_of(store)))} and run "
                            r"again\.\n", capsys.readouterr().err)
        assert not store.exists()  # refused before the store was looked at or made
    finally:
        other.kill()  # kill -9: its lock stays
        other.wait()
    assert _no_lock(out) == [".predictions.zarr.lock"]
    assert main(argv) == 0  # taken over: the store is made and filled as by any run
    assert _no_lock(out) == []


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
def test_a_lock_whose_pid_went_to_a_later_program_is_taken_over(novelty_map, tmp_path):
    # kill -9 leaves the lock; its pid, given to another program started since, looks alive.
    # The lock records its process's start (clock ticks since boot, which no time zone or
    # clock setting moves; a first rule compared local-time stamps, and a second run with
    # another TZ took a live run's lock)
    import json
    import subprocess

    from ramancam.io._atomic import _host
    from ramancam.maps.lock import _start_ticks

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    out.mkdir()
    later = subprocess.Popen(["sleep", "60"])
    try:
        lock = _lock_of(store)
        ticks = _start_ticks(later.pid)
        assert isinstance(ticks, int)
        rec = {"host": "here", "tag": _host(), "pid": later.pid, "token": "x",
               "started": "2020-01-02 03:04:05"}
        lock.write_text(json.dumps({**rec, "ticks": ticks - 1}))  # the killed run's start
        assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0
        assert _no_lock(out) == [] and later.poll() is None  # taken over, the program left
        for live in ({**rec, "ticks": ticks}, rec):  # its own start; an older lock without
            lock.write_text(json.dumps(live))
            assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 2
            assert lock.is_file()
    finally:
        later.kill()
        later.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
def test_a_lock_records_its_process_start(tmp_path):
    import json
    import os

    from ramancam.maps.lock import _start_ticks, claim

    with claim(tmp_path / "s.zarr"):
        rec = json.loads(_lock_of(tmp_path / "s.zarr").read_text())
    assert rec["pid"] == os.getpid() and rec["ticks"] == _start_ticks(os.getpid())


def test_a_lock_of_another_host_or_unreadable_is_named_to_delete(novelty_map, tmp_path,
                                                                  capsys, monkeypatch):
    import json

    from ramancam.maps import lock as lock_module

    model_path, cube_path, _ = novelty_map
    monkeypatch.chdir(tmp_path)
    out = "race.zarr"  # named as given; the lock file by its whole path
    lock = tmp_path.resolve() / ".race.zarr.lock"
    lock.write_text(json.dumps({"host": "node7", "tag": "0123456789ab", "pid": 1,
                                "started": "2026-01-02 03:04:05", "token": "x"}))
    argv = ["predict", str(model_path), str(cube_path), "--out", out]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f"error: another ramancam run (host node7, pid 1, started at 2026-01-02 "
                   f"03:04:05) is writing --out {out}; wait for it to end, or choose another "
                   f"--out. If that run is gone, delete {lock} and run again.\n")
    assert lock.is_file() and not (tmp_path / out).exists()
    lock.write_text("{")  # a run stopped while it wrote its lock
    monkeypatch.setattr(lock_module.time, "sleep", lambda s: None)
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: --out {out} is locked by {lock}, which cannot be read (a run stopped while "
        f"it wrote it); if no ramancam run writes --out, delete {lock} and run again.\n")
    lock.unlink()
    assert main(argv) == 0 and _no_lock(tmp_path) == []


def test_no_lock_is_left_after_an_end_an_error_ctrl_c_or_sigterm(novelty_map, tmp_path,
                                                                   monkeypatch, capsys):
    import signal

    import ramancam.scale as scale
    from test_scale import _stop_after

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    argv = ["predict", str(model_path), str(cube_path), "--out", str(out)]
    _, real = _stop_after(monkeypatch, 2)
    assert main(argv) == 130  # Ctrl-C
    assert _no_lock(out) == []
    monkeypatch.setattr(scale, "run_tile", real)
    assert main([*argv, "--bf16"]) == 2  # refused: other settings
    assert _no_lock(out) == []
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    capsys.readouterr()
    # SIGTERM (a batch system's time limit) while a tile runs
    term = tmp_path / "term"
    other = _python(tmp_path, "import sys, time\nimport ramancam.scale as scale\n"
                              "from ramancam.cli import main\nreal, n = scale.run_tile, []\n"
                              "def slow(*a, **k):\n    n.append(1)\n    if len(n) == 2:\n"
                              "        print('tile', flush=True)\n        time.sleep(60)\n"
                              "    return real(*a, **k)\nscale.run_tile = slow\n"
                              f"sys.exit(main({[*argv[:3], '--out', str(term)]!r}))\n")
    try:
        assert other.stdout.readline() == "tile\n"
        assert (term / ".predictions.zarr.lock").is_file()
        other.send_signal(signal.SIGTERM)
        assert other.wait(60) == 143
    finally:
        other.kill()
    assert _no_lock(term) == [] and (term / "predictions.zarr" / "done").is_dir()


def test_a_lock_file_on_a_full_disk_is_named_and_leaves_nothing(novelty_map, tmp_path,
                                                                monkeypatch, capsys):
    # a full disk while the lock was written said 'error: no space left on the device. Free
    # space or use another path.' (no file named), and one with no room for the lock file
    # itself 'Choose another --out' though the folder is the one wanted
    import errno
    import json
    import os
    from types import SimpleNamespace

    import ramancam.maps.lock as lock

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    argv = ["predict", str(model_path), str(cube_path), "--out", str(out)]

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(lock, "json", SimpleNamespace(dump=full, loads=json.loads))
        assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: lock file {_lock_of(store)} of result store {str(store)!r} could not be "
        "written: the disk is full (No space left on device); no run began and nothing was "
        "left behind. Free space, then run the same command again.\n")
    assert not out.exists()  # the --out folder made for the lock went with it
    out.mkdir()
    real = os.open

    def no_quota(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
        return real(path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(lock.os, "open", no_quota)
        assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: lock file {_lock_of(store)} of result store {str(store)!r} could not be "
        "written: the disk quota is used up (Disk quota exceeded); no run began and nothing "
        "was left behind. Free space, then run the same command again.\n")
    assert list(out.iterdir()) == []
    assert main(argv) == 0 and _no_lock(out) == []


def test_a_resume_removes_the_temporary_files_zarr_left_in_the_store(novelty_map, tmp_path,
                                                                     monkeypatch, capsys):
    # zarr writes each chunk to '<chunk>.<32 hex>.partial' and renames it: a run killed
    # mid-write left these in the store's chunk folders, and every resume kept them
    import ramancam.scale as scale
    from test_scale import _stop_after

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "res"
    store = out / "predictions.zarr"
    argv = ["predict", str(model_path), str(cube_path), "--out", str(out)]
    _, real = _stop_after(monkeypatch, 2)
    assert main(argv) == 130
    monkeypatch.setattr(scale, "run_tile", real)
    hexes = iter(f"{i:032x}" for i in range(1, 100))
    litter = [store / "proba" / "c" / "1" / "2" / f"0.{next(hexes)}.partial",
              store / "predicted" / "c" / "0" / f"1.{next(hexes)}.partial",
              store / f"zarr.{next(hexes)}.partial"]
    kept = [store / "predicted" / "notes.partial",  # not zarr's pattern
            store / "predicted" / f"1.{'g' * 32}.partial",
            out / f"zarr.{next(hexes)}.partial"]  # beside the store, not in it
    for path in litter + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x00" * 7)
    capsys.readouterr()
    # info names them before the resume (it said nothing of them)
    assert main(["info", str(store)]) == 0
    assert ("  leftover:  3 temporary files that zarr left in the store (a run stopped while "
            "it wrote them); the next run into it removes them") in (
                capsys.readouterr().out.splitlines())
    assert main(["info", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["temporary_files"] == 3
    assert main(argv) == 0
    said = capsys.readouterr().out.splitlines()
    assert ("removed 3 temporary files that zarr left in the store (a run stopped while it "
            "wrote them)") in said
    assert [p for p in litter if p.exists()] == [] and all(p.exists() for p in kept)
    assert main(argv) == 0  # none left: no line
    assert "temporary" not in capsys.readouterr().out
